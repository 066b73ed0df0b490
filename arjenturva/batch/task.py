"""One run of a batch, as a worker runs it: the shared workspace cut to the run's study area, the
scenario applied, then the steps of ``arjenturva run`` (:class:`RunSteps`, the api's own
functions: gaps, the vehicles' routes and the agreements, tables, maps and reports) on the shared
network, into a results folder written as a whole.

The workspace and the network arrive once per worker (scattered by the client) and are shared by
every task that worker runs, so a task never changes them: it works on its own frames.

A user-fixable error (:class:`~arjenturva.errors.ArjenturvaError`) ends the task as ``failed``
with its message; any other exception is raised, so that Dask retries the task, and reported as a
failure with its traceback when the retries are spent.
"""

from __future__ import annotations

import os
import socket
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from ..errors import ArjenturvaError, Problem
from ..results import RUNS_DIR
from ..workspace.study import split_study_area
from .plan import BatchError, TaskSpec

if TYPE_CHECKING:
    from ..network import Network
    from ..workspace import Workspace

__all__ = ["RunSteps", "TaskOptions", "TaskOutcome", "peak_rss_mb", "piece_workspace", "run_task"]

Status = Literal["done", "failed", "skipped"]


@dataclass(frozen=True)
class RunSteps:
    """The steps of ``arjenturva run`` a task runs, given by :mod:`arjenturva.api` (whose functions
    they are), so that a batch run is a run: module-level functions, sent to the workers by name."""

    build_network: Callable[..., Network]
    """``(config) -> Network``: a workspace's network, built or from the cache."""
    find_gaps: Callable[..., Any]
    """``(workspace, network=, workers=) -> GapResult``."""
    plan: Callable[..., tuple[Any, Any]]
    """``(workspace, network=, gaps=, timed=) -> (routes or None, proposals)``: the vehicles' routes,
    then the agreements."""
    write_gaps_into: Callable[..., list[Path]]
    """``(folder, gaps, workspace, network, timings=, scenario=)``: the gap tables and ``run.json``."""
    write_maps_and_reports: Callable[..., list[Path]]
    """``(folder, config, network=, force=)``: maps, web map and reports."""


@dataclass(frozen=True)
class TaskOptions:
    """What every task of a batch writes, where, and by which steps."""

    out_dir: str
    """The batch folder; each run goes into ``<out_dir>/runs/<name>/``."""
    steps: RunSteps
    maps: bool = True
    """Draw the maps and write the reports (as ``run`` does)."""
    proposals: bool = True
    """Propose partnerships when the workspace has actors (as ``run`` does)."""
    force: bool = False
    """Replace a run folder that holds another run."""


@dataclass(frozen=True)
class TaskOutcome:
    """How one run of a batch ended."""

    name: str
    status: Status
    seconds: float = 0.0
    """Wall time of the task on its worker (0 for a skipped run)."""
    cpu_seconds: float = 0.0
    """CPU time of the task (user and system); below ``seconds`` when the worker waited for a core."""
    started: float | None = None
    """When the task started (seconds since the epoch)."""
    worker: str = ""
    """``host:pid`` of the worker process that ran it."""
    timings_s: dict[str, float] = field(default_factory=dict)
    """The run's steps: piece, gaps, proposals, tables, maps_reports, total."""
    peak_rss_mb: float | None = None
    """The worker process's peak resident memory when the task ended."""
    error: str = ""
    """The exception's class, for a failed run."""
    message: str = ""
    """The error message, for a failed run."""
    traceback: str = ""
    """The traceback of an unexpected failure (a bug), for a failed run."""
    warnings: tuple[str, ...] = ()
    """Python warnings the run raised (each once), kept here instead of on the worker's console."""


def peak_rss_mb() -> float | None:
    """This process's peak resident memory in MB (None where the OS does not say)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def _left_out_warning(ws: Workspace) -> list[Problem]:
    """The warning ``load_workspace`` gives when the study area leaves context population out."""
    lo = ws.left_out
    if not lo.features:
        return []
    return [
        Problem(
            str(ws.config.inputs.population.path),
            "",
            "",
            f"{lo.features} population feature(s) with {lo.people:,.0f} people lie in context "
            f"municipalities ({', '.join(lo.municipalities)}) and are left out of the indicators",
            "nothing to do; add a code to `study_area` to study that municipality too",
            severity="warning",
        )
    ]


def piece_workspace(ws: Workspace, codes: tuple[str, ...] | None) -> Workspace:
    """The workspace as ``load_workspace`` gives it with ``study_area`` set to ``codes``.

    ``ws`` is the workspace loaded with every municipality studied; it is not changed (every
    frame of the result is a copy; layers added to :class:`Workspace` later are copied as well).
    """
    config = ws.config.model_copy(update={"study_area": None if codes is None else list(codes)})
    config.base_dir, config.path = ws.config.base_dir, ws.config.path
    study = split_study_area(config, ws.municipalities.copy(), ws.population.copy())
    frames = {f.name: getattr(ws, f.name).copy() for f in fields(ws)
              if isinstance(getattr(ws, f.name), pd.DataFrame)}
    piece = replace(ws, **{
        **frames,
        "config": config,
        "municipalities": study.municipalities,
        "population": study.population,
        "context": study.context,
        "left_out": study.left_out,
        "warnings": list(ws.warnings),
        "files": dict(ws.files),
    })
    piece.warnings += _left_out_warning(piece)
    return piece


def _check_can_draw() -> None:
    """Drawing maps and reports starts worker processes where it sees several cores, which a
    daemonic process (a Dask worker by default) cannot: fail with the fix before any work."""
    import multiprocessing

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if multiprocessing.current_process().daemon and cores > 1:
        msg = (
            f"this Dask worker is a daemonic process that may use {cores} cores, so drawing the maps and "
            "reports (in processes of their own) cannot start. Fix: start the workers with "
            "DASK_DISTRIBUTED__WORKER__DAEMON=False, or bind each to one core "
            "(taskset -c K dask worker ...), or pass --no-maps"
        )
        raise BatchError(msg)


def _write_run(
    target: Path, spec: TaskSpec, ws: Workspace, net: Network, options: TaskOptions, timings: dict[str, float]
) -> None:
    """Analyse ``ws`` and write its results folder at ``target`` as a whole, step by step as
    ``arjenturva run`` does (the same steps, :class:`RunSteps`)."""
    from ..export.tables import write_proposal_results
    from ..results import update_run
    from ..results.staging import staged_folder

    steps = options.steps

    def timed(step: str, fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        value = fn()
        timings[step] = time.perf_counter() - t
        return value

    gaps = timed("gaps", lambda: steps.find_gaps(ws, network=net, workers=1))
    routes = proposals = None
    if ws.actors is not None and options.proposals:
        routes, proposals = steps.plan(ws, network=net, gaps=gaps, timed=timed)
    with staged_folder(target, force=options.force) as stage:
        t = time.perf_counter()
        steps.write_gaps_into(stage, gaps, ws, net, timings=timings, scenario=spec.scenario)
        if routes is not None:
            from ..routes import write_route_results

            write_route_results(routes, stage, dialect=ws.config.export.csv_dialect)
        if proposals is not None:
            write_proposal_results(proposals, stage, force=True)
        timings["tables"] = time.perf_counter() - t
        if options.maps:
            draw = steps.write_maps_and_reports
            timed("maps_reports", lambda: draw(stage, ws.config, network=net, force=True))
        timings["total"] = sum(timings.values())
        update_run(
            stage,
            timings_s={k: round(v, 3) for k, v in timings.items()},
            batch={"name": spec.name, "fingerprint": spec.fingerprint, "piece": spec.piece},
        )


def run_task(spec: TaskSpec, ws: Workspace, net: Network, options: TaskOptions) -> TaskOutcome:
    """Run one task of a batch on a worker; see the module docstring for what fails how."""
    from ..scenarios import apply_scenario

    started = time.time()
    clock, cpu = time.perf_counter(), time.process_time()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    outcome = TaskOutcome(spec.name, "done", started=started, worker=worker)
    timings: dict[str, float] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # every task records its own, also those an earlier one raised
        try:
            if options.maps:
                _check_can_draw()
            piece = piece_workspace(ws, spec.codes)
            if spec.scenario is not None:
                piece = apply_scenario(piece, spec.scenario)
            timings["piece"] = time.perf_counter() - clock
            _write_run(Path(options.out_dir) / RUNS_DIR / spec.name, spec, piece, net, options, timings)
        except ArjenturvaError as e:
            outcome = replace(outcome, status="failed", error=type(e).__name__, message=str(e))
    return replace(
        outcome,
        warnings=tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)),
        seconds=round(time.perf_counter() - clock, 3),
        cpu_seconds=round(time.process_time() - cpu, 3),
        timings_s={k: round(v, 3) for k, v in timings.items()},
        peak_rss_mb=peak_rss_mb(),
    )

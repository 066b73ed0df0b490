"""A whole batch: load and plan on the client, run the tasks on Dask, write the batch folder.

The batch folder holds ``runs/<run>/`` (one results folder per run, as ``arjenturva run`` writes
it), ``batch_summary.csv`` / ``.xlsx`` and ``batch.json``. The workspaces are loaded and their road
networks built (or taken from the cache) once, here; the workers get them once each.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ArjenturvaError, OutputExistsError, ValidationError
from ..results import BATCH_FILE, RUNS_DIR
from .cluster import SchedulerInfo, SharedInputs, TaskFn, execute, open_client, require_dask
from .outputs import batch_record, collect_summary, write_batch_summary
from .plan import Split, TaskSpec, plan_tasks, run_state
from .task import RunSteps, TaskOptions, TaskOutcome, piece_workspace, run_task

if TYPE_CHECKING:
    import pandas as pd

    from ..config import Config
    from ..network import Network
    from ..workspace import Workspace

__all__ = ["BatchResult", "run_batch"]

Progress = Callable[[str], None]
TaskDone = Callable[[TaskOutcome, int, int], None]
"""Called as ``(outcome, finished so far, tasks)`` when each task ends (skipped ones first)."""


@dataclass
class BatchResult:
    """What :func:`run_batch` did."""

    out_dir: Path
    tasks: list[TaskSpec]
    outcomes: list[TaskOutcome]
    """One per task, in the order of ``tasks``."""
    summary: pd.DataFrame
    """``batch_summary``: the summary rows of every finished run, with ``run`` and ``scenario``."""
    scheduler: SchedulerInfo | None
    """The cluster the tasks ran on (None when every run was skipped as complete)."""
    timings_s: dict[str, float] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> list[TaskOutcome]:
        """The tasks that failed, with their error and message."""
        return [o for o in self.outcomes if o.status == "failed"]

    def run_dir(self, name: str) -> Path:
        """The results folder of the run called ``name``."""
        return self.out_dir / RUNS_DIR / name


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        msg = f"{out}: exists and is not a folder. Fix: choose another --out folder"
        raise OutputExistsError(msg)
    if out.is_dir() and any(out.iterdir()) and not (out / BATCH_FILE).is_file():
        names = sorted(p.name for p in out.iterdir())[:5]
        msg = (
            f"{out}: holds files that are not a batch of arjenturva runs ({', '.join(names)}). "
            "Fix: choose a new or empty --out folder"
        )
        raise OutputExistsError(msg)


def _load(
    configs: Sequence[Config],
    network_of: Callable[..., Network],
    say: Progress,
    timings: dict[str, float],
) -> list[tuple[Config, Workspace, Network]]:
    """Each workspace loaded with every municipality studied (the runs choose theirs), its
    ``study_area`` checked against the layer, and its network."""
    from ..workspace import load_workspace
    from ..workspace.study import study_area_problems

    loaded = []
    for cfg in configs:
        t = time.perf_counter()
        say(f"loading {cfg.path}")
        full = cfg.model_copy(update={"study_area": None})
        full.base_dir, full.path = cfg.base_dir, cfg.path
        ws = load_workspace(full, progress=say)
        problems = study_area_problems(cfg, ws.municipalities)
        if problems:
            raise ValidationError(problems)
        timings["load"] = timings.get("load", 0.0) + time.perf_counter() - t
        t = time.perf_counter()
        net = network_of(cfg)
        timings["network"] = timings.get("network", 0.0) + time.perf_counter() - t
        loaded.append((cfg, ws, net))
    return loaded


def _networks(
    loaded: Sequence[tuple[Config, Workspace, Network]],
    specs: Sequence[TaskSpec],
    network_of: Callable[..., Network],
    timings: dict[str, float],
) -> dict[tuple[int, str | None], Network]:
    """Each workspace's network, and the network of each scenario that edits the roads (the
    scenario applied to one of its runs tells: its config's ``network`` is then another)."""
    from ..scenarios import apply_scenario

    t = time.perf_counter()
    networks: dict[tuple[int, str | None], Network] = {(i, None): n for i, (_c, _w, n) in enumerate(loaded)}
    first: dict[tuple[int, str], TaskSpec] = {}
    for spec in specs:
        if spec.scenario is not None:
            first.setdefault((spec.workspace, spec.scenario), spec)
    for (i, scenario), spec in first.items():
        cfg, ws, _net = loaded[i]
        try:
            edited = apply_scenario(piece_workspace(ws, spec.codes), scenario).config
        except ArjenturvaError:
            continue  # its runs fail on the workers, each with this error
        if edited.network != cfg.network:
            networks[(i, scenario)] = network_of(edited)
    timings["network"] = timings.get("network", 0.0) + time.perf_counter() - t
    return networks


def run_batch(
    configs: Sequence[Config | str | Path],
    *,
    out_dir: str | Path,
    steps: RunSteps,
    scenarios: Sequence[str] = (),
    split: Split | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    maps: bool = True,
    proposals: bool = True,
    force: bool = False,
    retries: int = 2,
    progress: Progress | None = None,
    on_task: TaskDone | None = None,
    task: TaskFn = run_task,
) -> BatchResult:
    """Run every workspace (or each piece of it) under the baseline and each scenario, on Dask.

    Parameters
    ----------
    configs
        The workspaces' configs (or their paths).
    out_dir
        The batch folder: ``runs/<run>/``, ``batch_summary.csv/.xlsx``, ``batch.json``.
    steps
        The steps of ``arjenturva run`` (:class:`~arjenturva.batch.task.RunSteps`), from
        :mod:`arjenturva.api`, which passes them.
    scenarios
        Scenarios run beside the baseline (each workspace must define them).
    split
        ``municipality``, ``region`` or ``wellbeing_county``: one run per piece of each workspace,
        the other municipalities as context.
    scheduler
        Address of a running Dask scheduler; None starts a local cluster.
    workers
        Worker processes of the local cluster (default: one per core).
    maps, proposals
        Whether the runs draw maps and reports, and propose partnerships (as ``run`` does).
    force
        Run every run again, replacing its folder; without it, complete runs are skipped.
    retries
        Reruns of a task after an unexpected error (and, on the local cluster, after its worker died).
    progress, on_task
        Callbacks for messages, and for each task as it ends.
    task
        What each task runs (default :func:`~arjenturva.batch.task.run_task`).

    Raises
    ------
    BatchError
        When Dask is not installed, a split is impossible, two runs share a name or the cluster
        cannot be reached.
    ConfigError, ValidationError
        When a workspace is invalid or lacks a scenario.
    OutputExistsError
        When ``out_dir`` holds files that are not a batch.
    """
    from .. import __version__
    from ..config import Config, load_config
    from ..io import build_time, write_json

    require_dask()
    cfgs = [c if isinstance(c, Config) else load_config(c) for c in configs]
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    out = Path(out_dir)
    _check_out_dir(out)
    timings: dict[str, float] = {}
    loaded = _load(cfgs, steps.build_network, say, timings)
    specs = plan_tasks([(c, w) for c, w, _n in loaded], scenarios=scenarios, split=split, maps=maps,
                       proposals=proposals, version=__version__)
    outcomes: dict[int, TaskOutcome] = {}
    todo = []
    hashes: dict[str, str | None] = {}
    for k, spec in enumerate(specs):
        state = "missing" if force else run_state(out / RUNS_DIR / spec.name, spec.fingerprint, hashes)
        if state == "complete":
            outcomes[k] = TaskOutcome(spec.name, "skipped")
        elif state == "other":
            outcomes[k] = TaskOutcome(
                spec.name, "failed", error=OutputExistsError.__name__,
                message=f"{out / RUNS_DIR / spec.name}: holds another run (other settings, inputs or "
                "arjenturva version) or files that are not a run. Fix: pass --force to replace it",
            )
        else:
            todo.append(k)
    finished = 0

    def done(outcome: TaskOutcome) -> None:
        nonlocal finished
        finished += 1
        if on_task is not None:
            on_task(outcome, finished, len(specs))

    for k in sorted(outcomes):
        done(outcomes[k])
    info: SchedulerInfo | None = None
    if todo:
        out.mkdir(parents=True, exist_ok=True)
        options = TaskOptions(str(out.resolve()), steps, maps=maps, proposals=proposals, force=force)
        todo_specs = [specs[k] for k in todo]
        networks = _networks(loaded, todo_specs, steps.build_network, timings)
        shared = SharedInputs([w for _c, w, _n in loaded], networks)
        t = time.perf_counter()
        say("starting a local Dask cluster" if scheduler is None else f"connecting to {scheduler}")
        with open_client(scheduler, workers=workers, retries=retries) as (client, info):
            timings["cluster"] = time.perf_counter() - t
            t = time.perf_counter()
            ran = execute(client, todo_specs, shared, options, task=task, retries=retries,
                          on_done=done, timings=timings)
            timings["tasks"] = time.perf_counter() - t
        outcomes.update(zip(todo, ran, strict=True))
    ordered = [outcomes[k] for k in range(len(specs))]
    t = time.perf_counter()
    say("writing batch_summary and batch.json")
    out.mkdir(parents=True, exist_ok=True)
    summary = collect_summary(out, specs, ordered)
    dialect = cfgs[0].export.csv_dialect if cfgs else "standard"
    files = write_batch_summary(summary, out, dialect=dialect)
    timings["summary"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    settings: dict[str, Any] = {
        "workspaces": [str(Path(str(c.path)).resolve()) for c in cfgs],
        "split": split,
        "scenarios": list(scenarios),
        "maps": maps,
        "proposals": proposals,
        "force": force,
        "csv_dialect": dialect,
    }
    record = batch_record(
        specs,
        ordered,
        scheduler=None if info is None else info.as_dict(),
        timings_s=timings,
        settings=settings,
        created=build_time().isoformat(timespec="seconds"),
        version=__version__,
    )
    files.append(write_json(record, out / BATCH_FILE))
    rounded = {k: round(v, 3) for k, v in timings.items()}
    return BatchResult(out, specs, ordered, summary, info, rounded, files)

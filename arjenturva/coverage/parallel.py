"""The per-service work of the gap analysis and how it runs: the frozen context every task reads,
the two tasks (access, gap clusters and indicators of one service; 2SFCA of one service), and
their execution in this process or in forked worker processes.

Forked workers inherit the context with the rest of the parent's memory: the network and the
snapped cells are never pickled. Only task numbers go to a worker, and only its results come
back.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, NamedTuple, TypeVar, cast

import numpy as np

from ..config import Config
from ..network import Network, Snapped
from .access import ServiceAccess, service_access
from .fca import FcaResult, service_fca
from .gap_areas import GapParts, GapShared, _service_gap_parts
from .indicators import _service_indicators

Progress = Callable[[str], None]
T = TypeVar("T")

_AUTO_WORKERS_MIN_NODES = 100_000
"""With ``workers=None``, use worker processes only from this many road nodes ..."""

_AUTO_WORKERS_MIN_TASKS = 4
"""... and this many services (smaller analyses take seconds and are faster in one process)."""


class ServicePoints(NamedTuple):
    """The snapped service points offering one service."""

    indices: np.ndarray
    """Indices into all service points."""
    weights: np.ndarray
    """How much each counts (1 fixed, ``days/required`` mobile, the remote fraction)."""


@dataclass(frozen=True)
class SweepContext:
    """What every task of one analysis reads, built once before the tasks run (and before the
    worker processes are forked, so that they inherit it)."""

    config: Config
    net: Network
    origins: Snapped
    """The snapped population cells."""
    point_snap: Snapped
    """All snapped service points."""
    points_of: dict[str, ServicePoints]
    fca_points: dict[str, np.ndarray]
    """Per service, its points with a capacity (indices into all service points)."""
    classes: np.ndarray
    """Area class per cell."""
    capacity: np.ndarray
    """Capacity per service point (NaN when none)."""
    demand: dict[str, np.ndarray]
    """Demand per cell, per service."""
    populated: np.ndarray
    """Cells with people."""
    gap_shared: GapShared
    muni: np.ndarray
    """Municipality number of every cell."""
    n_muni: int
    cells: dict[str, np.ndarray]
    """The ``population``, ``age_65_plus``, ``age_0_14`` and ``sparse`` (0/1) columns of the cells."""


@dataclass(frozen=True)
class ServiceSweep:
    """What the task of one service finds."""

    access: ServiceAccess
    """Access of every cell (nearest points as indices into all service points)."""
    gap_parts: GapParts
    """Clusters and outlines of its gap cells."""
    indicators: np.ndarray
    """Its indicators per municipality."""


@dataclass(frozen=True)
class TaskResults:
    """The results of every task of one analysis."""

    services: dict[str, ServiceSweep]
    """Per service, in the order of the service ids."""
    fca: list[FcaResult]
    sweeps_s: float
    """Seconds until every service task was done."""
    total_s: float
    """Seconds until every task was done."""
    warnings: tuple[str, ...]


def _access_task(context: SweepContext, sid: str) -> ServiceSweep:
    """Access of every cell to one service (point indices into all service points), the
    clusters and outlines of its gap cells, and its indicators per municipality."""
    config = context.config
    svc = config.services[sid]
    idx, w = context.points_of[sid]
    acc = service_access(
        context.net, context.origins, context.point_snap.subset(idx), w, sid, svc, context.classes,
        access_speed_kmh=config.network.access_speed_kmh, nearest_by=config.network.cost,
    )
    nearest = np.where(acc.nearest_point >= 0, idx[np.maximum(acc.nearest_point, 0)] if len(idx) else -1, -1)
    gpos = np.flatnonzero((acc.coverage < 1.0) & context.populated)
    parts = _service_gap_parts(gpos, context.gap_shared)
    access = ServiceAccess(
        sid, acc.distance_m, acc.time_s, nearest, acc.coverage, acc.threshold_m, acc.threshold_s
    )
    indicators = _service_indicators(context.muni, context.n_muni, context.cells, context.demand[sid], acc)
    return ServiceSweep(access, parts, indicators)


def _fca_task(context: SweepContext, sid: str) -> FcaResult:
    """2SFCA and E2SFCA of one service, over a catchment of its longest distance threshold."""
    thresholds = context.config.services[sid].threshold_km or {}  # only services with some run it
    return service_fca(
        context.net, context.origins, context.point_snap, context.fca_points[sid], context.capacity,
        context.demand[sid], service_id=sid, catchment_m=1000.0 * max(thresholds.values()),
        access_speed_kmh=context.config.network.access_speed_kmh,
    )


def _worker_count(workers: int | None, n_nodes: int, n_tasks: int) -> int:
    """Processes to run the sweeps in: 1 (this one) or forked workers where the OS allows it."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    if workers is None:
        # Automatically only on Linux: forking is not safe with every macOS framework.
        big = n_nodes >= _AUTO_WORKERS_MIN_NODES and n_tasks >= _AUTO_WORKERS_MIN_TASKS
        return min(cores, n_tasks) if big and sys.platform.startswith("linux") else 1
    if workers < 0:
        msg = f"workers must be 0 (all cores) or a positive number, not {workers}"
        raise ValueError(msg)
    return min(workers or cores, max(n_tasks, 1))


class _RemoteTraceback(Exception):
    """The traceback of an error in a worker process (the cause of the error raised here)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def _serve(tasks: Sequence[Callable[[], Any]], conn: Connection) -> None:
    """A worker process: run the tasks whose numbers arrive on ``conn`` and send back each result
    (or error), until ``None`` arrives."""
    while (i := conn.recv()) is not None:
        try:
            result = tasks[i]()
        except Exception as e:
            conn.send((i, False, e, traceback.format_exc()))
        else:
            conn.send((i, True, result, ""))


def _run_forked(tasks: Sequence[Callable[[], T]], n_workers: int, done: Callable[[int], None]) -> list[T]:
    """Run ``tasks`` in ``n_workers`` forked processes, first to last as the workers free up.

    The workers inherit ``tasks`` (nothing of them is pickled); ``done(i)`` is called here when
    task ``i`` has finished.

    Returns
    -------
    list
        The results, in the order of ``tasks``.

    Raises
    ------
    BrokenProcessPool
        When a worker process stops before it sends a result (killed, out of memory).
    """
    ctx = multiprocessing.get_context("fork")
    procs: list[Any] = []
    conns: list[Connection] = []
    results: dict[int, T] = {}
    pending = list(range(len(tasks)))[::-1]  # the next task is the last one
    busy: dict[int, int] = {}  # worker -> its task
    finished = False

    def give(w: int) -> None:
        task = pending.pop() if pending else None
        try:
            conns[w].send(task)
        except OSError as e:  # the pipe of a stopped worker
            msg = f"a worker process stopped ({e})"
            raise BrokenProcessPool(msg) from e
        if task is not None:
            busy[w] = task

    def receive(w: int) -> tuple[int, bool, Any, str]:
        try:
            return conns[w].recv()
        except (EOFError, OSError) as e:  # the pipe of a stopped worker
            msg = f"a worker process stopped ({e})"
            raise BrokenProcessPool(msg) from e

    try:
        for _ in range(min(n_workers, len(tasks))):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(tasks, theirs), daemon=True)
            proc.start()
            theirs.close()  # only the worker holds its end: its pipe closes when it stops
            procs.append(proc)
            conns.append(mine)
        for w in range(len(procs)):
            give(w)
        while busy:
            ready = wait([c for w in busy for c in (conns[w], procs[w].sentinel)])
            for w in list(busy):
                if conns[w] not in ready and procs[w].sentinel not in ready:
                    continue
                if conns[w] not in ready:
                    msg = f"a worker process stopped (exit code {procs[w].exitcode})"
                    raise BrokenProcessPool(msg)
                i, ok, value, remote_tb = receive(w)
                del busy[w]
                if not ok:
                    raise value from _RemoteTraceback(remote_tb)
                results[i] = value
                done(i)
                give(w)
        finished = True
    finally:
        for proc, conn in zip(procs, conns, strict=True):
            if not finished:
                proc.terminate()
            proc.join()
            conn.close()
    return [results[i] for i in range(len(tasks))]


def _run_tasks(
    context: SweepContext, access_ids: list[str], fca_ids: list[str], n_workers: int, say: Progress,
    work: dict[str, int] | None = None,
) -> TaskResults:
    """Run the per-service sweeps and 2SFCA tasks, in forked worker processes when ``n_workers > 1``.

    ``work`` (sweeps per service) orders the services for the workers, the longest first, so
    that no long one is left running alone at the end. When a worker process stops, everything
    runs again in this process (with a warning).
    """
    t0 = time.perf_counter()
    if n_workers > 1:
        try:
            return _run_in_workers(context, access_ids, fca_ids, n_workers, say, work, t0)
        except BrokenProcessPool:
            warning = "a worker process stopped (out of memory?); the analysis ran in one process"
            return _run_here(context, access_ids, fca_ids, say, t0, (warning,))
    return _run_here(context, access_ids, fca_ids, say, t0, ())


def _run_here(
    context: SweepContext, access_ids: list[str], fca_ids: list[str], say: Progress, t0: float,
    warnings: tuple[str, ...],
) -> TaskResults:
    """Every task in this process, one after the other."""
    services: dict[str, ServiceSweep] = {}
    for k, sid in enumerate(access_ids):
        say(f"service {k + 1}/{len(access_ids)}: {sid}")
        services[sid] = _access_task(context, sid)
    t_sweeps = time.perf_counter() - t0
    fca = [_fca_task(context, sid) for sid in fca_ids]
    return TaskResults(services, fca, t_sweeps, time.perf_counter() - t0, warnings)


def _run_in_workers(
    context: SweepContext, access_ids: list[str], fca_ids: list[str], n_workers: int, say: Progress,
    work: dict[str, int] | None, t0: float,
) -> TaskResults:
    """Every task in forked worker processes: the longer 2SFCA tasks first, so that the sweeps
    fill in around them; then the services with the most sweeps (ties in their order)."""
    by_work = sorted(access_ids, key=lambda sid: -(work or {}).get(sid, 2))
    tasks: list[Callable[[], ServiceSweep | FcaResult]] = [
        *(functools.partial(_fca_task, context, sid) for sid in fca_ids),
        *(functools.partial(_access_task, context, sid) for sid in by_work),
    ]
    n_fca = len(fca_ids)
    swept: list[str] = []
    t_sweeps = 0.0

    def done(i: int) -> None:
        nonlocal t_sweeps
        if i >= n_fca:
            swept.append(by_work[i - n_fca])
            say(f"service {len(swept)}/{len(access_ids)}: {swept[-1]} ({n_workers} processes)")
            t_sweeps = time.perf_counter() - t0

    out = _run_forked(tasks, n_workers, done)
    position = {sid: n_fca + k for k, sid in enumerate(by_work)}
    return TaskResults(
        services={sid: cast(ServiceSweep, out[position[sid]]) for sid in access_ids},
        fca=[cast(FcaResult, r) for r in out[:n_fca]],
        sweeps_s=t_sweeps,
        total_s=time.perf_counter() - t0,
        warnings=(),
    )

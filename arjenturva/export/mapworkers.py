"""Drawing many maps at once: in worker processes when there are enough of them to pay off.

:func:`draw_all` calls ``draw(layers, job)`` for every job, in order. With many jobs and more
than one CPU it splits them over worker processes of a
:class:`concurrent.futures.ProcessPoolExecutor`, the heaviest first to the least loaded worker;
each worker receives the shared ``layers`` once, with its share of the jobs. The results come
back in the order of the jobs, and each map is drawn by the same code from the same data whichever
process draws it, so the files are byte-identical to those of a drawing in one process.

Workers are forked (Linux), so they start in milliseconds and share the modules the parent has
imported. Elsewhere, where forking is unsafe or unavailable, maps are drawn in this process unless
the caller asks for workers.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Final, TypeVar

L = TypeVar("L")
J = TypeVar("J")
R = TypeVar("R")

#: Maps are drawn in parallel only when each worker gets at least this many (a worker costs
#: about as much as drawing a map: the fork, receiving the layers, a new font cache).
MAPS_PER_WORKER: Final = 4


def available_cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def worker_count(n_jobs: int, workers: int | None = None) -> int:
    """How many processes draw ``n_jobs`` maps: ``workers`` when given (at most one per job),
    otherwise one per available CPU where workers can be forked, with at least
    :data:`MAPS_PER_WORKER` maps each; 1 means drawing in this process. A daemonic process (a
    worker of a pool, such as a Dask worker) may have no children: it always draws itself."""
    if multiprocessing.current_process().daemon:
        return 1
    if workers is None:
        workers = min(available_cpus(), n_jobs // MAPS_PER_WORKER) if _can_fork() else 1
    return max(1, min(workers, n_jobs))


def _split(weights: Sequence[float], n: int) -> list[list[int]]:
    """Job indices per worker: the heaviest job first to the least loaded worker (ties by
    position), each worker's jobs in their order."""
    load = [0.0] * n
    shares: list[list[int]] = [[] for _ in range(n)]
    for i in sorted(range(len(weights)), key=lambda k: (-weights[k], k)):
        w = min(range(n), key=lambda k: (load[k], k))
        shares[w].append(i)
        load[w] += weights[i]
    return [sorted(share) for share in shares if share]


def _draw_share(draw: Callable[[L, J], R], layers: L, jobs: Sequence[J]) -> list[R]:
    """What one worker process runs: its share of the jobs, in order."""
    return [draw(layers, job) for job in jobs]


def draw_all(
    draw: Callable[[L, J], R],
    layers: L,
    jobs: Sequence[J],
    *,
    weights: Sequence[float] | None = None,
    workers: int | None = None,
    done: Callable[[J], None] | None = None,
    preload: Sequence[str] = (),
) -> list[R]:
    """``[draw(layers, job) for job in jobs]``, in worker processes when that pays off.

    Parameters
    ----------
    draw
        A module-level function (it is sent to the workers by name).
    layers
        What every job draws from; sent once to each worker (picklable).
    jobs
        One picklable job per map (or per group of maps).
    weights
        How many maps each job draws (default 1 each): the number of workers follows their sum,
        and the jobs are spread so that each worker draws about as many.
    workers
        Number of processes (default: :func:`worker_count` of the maps, at most one per job); 1
        draws in this process.
    done
        Called with each job once its map is drawn (in the workers' finishing order).
    preload
        Modules to import before the workers are forked, so that they share them instead of
        each importing them again.

    Returns
    -------
    list
        ``draw``'s result for each job, in the order of ``jobs``. Should a worker die (killed, out
        of memory), the jobs it did not finish are drawn in this process.
    """
    report = done or (lambda _job: None)
    sizes = [1.0] * len(jobs) if weights is None else [float(w) for w in weights]
    n = min(worker_count(round(sum(sizes)), workers), max(len(jobs), 1))
    drawn: dict[int, R] = {}
    if n > 1:
        # a worker that dies (killed, out of memory) breaks the pool: what it did not return is
        # drawn below, in this process
        with contextlib.suppress(BrokenProcessPool):
            shares = _split(sizes, n)
            _draw_in_workers(draw, layers, jobs, shares, preload=preload, drawn=drawn, report=report)
    for i, job in enumerate(jobs):
        if i not in drawn:
            drawn[i] = draw(layers, job)
            report(job)
    return [drawn[i] for i in range(len(jobs))]


def _draw_in_workers(
    draw: Callable[[L, J], R],
    layers: L,
    jobs: Sequence[J],
    shares: Sequence[Sequence[int]],
    *,
    preload: Sequence[str],
    drawn: dict[int, R],
    report: Callable[[J], None],
) -> None:
    """Draw the jobs in one worker process per share (job indices); puts each result in
    ``drawn`` under its job's index as its worker's share comes back."""
    context = multiprocessing.get_context("fork") if _can_fork() else None
    if context is not None:
        for module in preload:
            importlib.import_module(module)
    pool = ProcessPoolExecutor(max_workers=len(shares), mp_context=context)
    try:
        with _sigint_held(), warnings.catch_warnings():
            # Python 3.12+ warns when forking a process that has threads. Ours are idle pools of
            # numerical and Arrow libraries; the workers only draw with matplotlib and shapely.
            warnings.filterwarnings(
                "ignore", message=r".*fork\(\) may lead to deadlocks", category=DeprecationWarning
            )
            futures: dict[Future[list[R]], Sequence[int]] = {
                pool.submit(_draw_share, draw, layers, [jobs[i] for i in share]): share for share in shares
            }
        for future in as_completed(futures):
            for i, result in zip(futures[future], future.result(), strict=True):
                drawn[i] = result
                report(jobs[i])
    except BaseException:
        _stop(pool)  # an error or an interrupt: stop the other workers now, not after their share
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) while the workers are forked; it arrives once they are, so it cannot
    be lost in the fork's bookkeeping. The workers keep it held: on an interrupt the parent stops
    them (and they print no tracebacks of their own)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's worker processes."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    for process in list((pool._processes or {}).values()):
        if process.is_alive():
            process.terminate()

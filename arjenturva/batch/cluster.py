"""The Dask side of a batch: the extra's check, the cluster and the tasks on it.

:func:`open_client` starts a :class:`distributed.LocalCluster` (one single-threaded worker process
per core, each bound to its core, numerical libraries limited to one thread) or connects to a
running scheduler.
:func:`execute` sends each workspace and its networks to every worker once
(``Client.scatter(..., broadcast=True)``), submits one task per run, largest first, and collects
how each ended, calling back as each does.

Robustness comes from Dask: a task whose worker dies is given to another worker, up to
``distributed.scheduler.allowed-failures`` times (the local cluster sets it to ``retries``); a task
that raises an unexpected exception is run again up to ``retries`` times (``Client.submit``'s
``retries=``). A task that still fails is recorded with its error; the others go on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import traceback as tb
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .plan import BatchError, TaskSpec
from .task import TaskOptions, TaskOutcome

if TYPE_CHECKING:
    from distributed import Client

    from ..network import Network
    from ..workspace import Workspace

__all__ = [
    "INSTALL_HINT",
    "WORKER_ENV",
    "SchedulerInfo",
    "SharedInputs",
    "available_cores",
    "execute",
    "open_client",
    "require_dask",
]

INSTALL_HINT: Final = 'pip install "arjenturva[batch]"'

WORKER_ENV: Final[dict[str, str]] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "BLIS_NUM_THREADS": "1",
}
"""Environment of the local cluster's workers: BLAS, OpenMP and numexpr pools of one thread, so that
one single-threaded worker uses one core."""

TaskFn = Callable[[TaskSpec, "Workspace", "Network", TaskOptions], TaskOutcome]


def require_dask() -> None:
    """Fail with the install command when Dask (the ``batch`` extra) is not installed.

    Raises
    ------
    BatchError
        Naming the missing module and how to install it.
    """
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as e:
        msg = (
            f"batch runs need Dask, an optional extra that is not installed ({e.name or 'distributed'} "
            f"is missing). Fix: {INSTALL_HINT}  (or: pip install dask distributed)"
        )
        raise BatchError(msg) from None


def _allowed_cores() -> tuple[int, ...]:
    if hasattr(os, "sched_getaffinity"):
        return tuple(sorted(os.sched_getaffinity(0)))
    return tuple(range(os.cpu_count() or 1))


def available_cores() -> int:
    """CPU cores this process may run on."""
    return len(_allowed_cores())


@dataclass(frozen=True)
class SchedulerInfo:
    """The cluster a batch ran on (``scheduler`` in ``batch.json``)."""

    kind: str
    """``local`` (a LocalCluster started for the batch) or ``external`` (``--scheduler``)."""
    address: str
    workers: int
    threads: int
    """Threads over all workers."""
    allowed_failures: int | None
    """Worker deaths a task survives (None: the external scheduler's own setting)."""
    retries: int
    """Reruns of a task that raises an unexpected error."""
    dask_version: str

    def as_dict(self) -> dict[str, Any]:
        """For ``batch.json``."""
        return {
            "kind": self.kind,
            "address": self.address,
            "workers": self.workers,
            "threads": self.threads,
            "allowed_failures": self.allowed_failures,
            "retries": self.retries,
            "dask": self.dask_version,
            "worker_env": dict(WORKER_ENV) if self.kind == "local" else None,
        }


@contextlib.contextmanager
def open_client(
    scheduler: str | None = None,
    *,
    workers: int | None = None,
    retries: int = 2,
    connect_timeout_s: float = 30.0,
) -> Iterator[tuple[Client, SchedulerInfo]]:
    """A Dask client on a new local cluster, or on the scheduler at ``scheduler``.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``); None starts a LocalCluster.
    workers
        Worker processes of the local cluster (default: one per core).
    retries
        Reruns of a task after an unexpected error; on the local cluster also the worker deaths
        a task survives.
    connect_timeout_s
        How long to wait for the scheduler and its first worker.

    Raises
    ------
    BatchError
        When the scheduler cannot be reached or has no workers.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler is None:
        n = workers or available_cores()
        if n < 1:
            msg = f"workers must be 1 or more, not {n}"
            raise BatchError(msg)
        settings = {
            "distributed.scheduler.allowed-failures": retries,
            "distributed.nanny.pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": 65536, **WORKER_ENV},
            # a run may start processes of its own (map drawing does where it sees several cores)
            "distributed.worker.daemon": False,
        }
        with (
            dask.config.set(settings),
            LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # no dashboard, and its HTTP server (health checks) on a free port: never 8787 twice
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.CRITICAL,  # failures are reported with the runs, not logged
                env=dict(WORKER_ENV),
            ) as cluster,
            Client(cluster) as client,
        ):
            from ._pin import PinToCore

            client.register_plugin(PinToCore(_allowed_cores()))
            info = SchedulerInfo("local", str(cluster.scheduler_address), n, n, retries, retries,
                                 dask.__version__)
            yield client, info
        return
    try:
        client = Client(scheduler, timeout=connect_timeout_s)
    except OSError as e:
        msg = (
            f"cannot reach the Dask scheduler at {scheduler} ({e}). Fix: start one (`dask scheduler`, "
            "then `dask worker ADDRESS` on each machine) or leave --scheduler out for a local cluster"
        )
        raise BatchError(msg) from None
    with client:
        try:
            client.wait_for_workers(1, timeout=connect_timeout_s)
        except TimeoutError:
            msg = (
                f"the Dask scheduler at {scheduler} has no workers (waited {connect_timeout_s:.0f} s). "
                f"Fix: start workers with `dask worker {scheduler} --nthreads 1`"
            )
            raise BatchError(msg) from None
        threads = client.nthreads()
        info = SchedulerInfo("external", scheduler, len(threads), sum(threads.values()), None, retries,
                             dask.__version__)
        yield client, info


def _failure(spec: TaskSpec, error: BaseException, trace: Any) -> TaskOutcome:
    from distributed import KilledWorker

    text = "".join(tb.format_tb(trace)) if trace is not None else ""
    if isinstance(error, KilledWorker):
        text = ""  # no traceback: the worker process died (killed, out of memory)
    first = str(error).strip() or type(error).__name__
    return TaskOutcome(spec.name, "failed", error=type(error).__name__, message=first, traceback=text)


@dataclass(frozen=True)
class SharedInputs:
    """What the tasks of a batch share: each workspace (loaded with every municipality studied) and
    its networks: the workspace's own, and one per scenario that edits the roads."""

    workspaces: Sequence[Workspace]
    networks: Mapping[tuple[int, str | None], Network]
    """(workspace index, None) for the workspace's network; (index, scenario) for an edited one."""

    def network_key(self, spec: TaskSpec) -> tuple[int, str | None]:
        """The network a task runs on."""
        key = (spec.workspace, spec.scenario)
        return key if key in self.networks else (spec.workspace, None)


def execute(
    client: Client,
    specs: Sequence[TaskSpec],
    shared: SharedInputs,
    options: TaskOptions,
    *,
    task: TaskFn,
    retries: int = 2,
    on_done: Callable[[TaskOutcome], None] | None = None,
    timings: dict[str, float] | None = None,
) -> list[TaskOutcome]:
    """Run ``task(spec, workspace, network, options)`` for every spec on the cluster.

    Parameters
    ----------
    shared
        The workspaces and networks; those the specs use are scattered to every worker once.
    task
        The function each task runs (a module-level function the workers can import).
    retries
        Reruns of a task that raises.
    on_done
        Called with each outcome as its task ends (in the order they end).
    timings
        Receives ``scatter``: the seconds to send the shared inputs to every worker.

    Returns
    -------
    list of TaskOutcome
        One per spec, in the order of ``specs``.
    """
    from distributed import as_completed

    report = on_done or (lambda _o: None)
    ws_keys = sorted({s.workspace for s in specs})
    net_keys = sorted({shared.network_key(s) for s in specs}, key=lambda k: (k[0], k[1] or ""))
    data = [shared.workspaces[i] for i in ws_keys] + [shared.networks[k] for k in net_keys]
    t = time.perf_counter()
    scattered = client.scatter(data, broadcast=True, hash=False)
    if timings is not None:
        timings["scatter"] = time.perf_counter() - t
    ws_futures = dict(zip(ws_keys, scattered[: len(ws_keys)], strict=True))
    net_futures = dict(zip(net_keys, scattered[len(ws_keys):], strict=True))
    order = sorted(range(len(specs)), key=lambda k: (-specs[k].weight, k))
    batch_id = uuid.uuid4().hex[:8]
    pending = {}
    for rank, k in enumerate(order):
        spec = specs[k]
        fut = client.submit(
            task, spec, ws_futures[spec.workspace], net_futures[shared.network_key(spec)], options,
            key=f"arjenturva-run-{spec.name}-{batch_id}",
            retries=retries,
            pure=False,
            priority=len(order) - rank,
        )
        pending[fut] = k
    outcomes: dict[int, TaskOutcome] = {}
    for fut in as_completed(list(pending)):
        k = pending[fut]
        if fut.status == "finished":
            outcome = fut.result()
        else:
            try:
                error, trace = fut.exception(), fut.traceback()
            except Exception as e:  # noqa: BLE001 - a cancelled or lost future raises its reason here
                error, trace = e, None
            outcome = _failure(specs[k], error, trace)
        outcomes[k] = outcome
        report(outcome)
        fut.release()
    return [outcomes[k] for k in range(len(specs))]

"""Many runs at once on Dask distributed (``arjenturva batch``): workspaces × scenarios, or one
large workspace split by municipality, region or wellbeing services county, each piece with the
rest of the layer as its context.

The public façade: :func:`run_batch` and what it returns (:class:`BatchResult`), a task's plan and
end (:class:`TaskSpec`, :class:`TaskOutcome`, :class:`TaskOptions`), reading a batch folder back
(:func:`read_batch`, :func:`read_batch_summary`), and the national comparison of a batch
(:func:`compare_scenarios`, :func:`draw_choropleth`). The modules behind it: ``plan`` (the runs,
their names and fingerprints), ``task`` (one run on a worker), ``cluster`` (Dask: the cluster,
scattering, submitting, retries), ``outputs`` (``batch_summary`` and ``batch.json``), ``run`` (the
whole batch) and ``national`` (comparison table and map).

Dask is an optional extra (``pip install "arjenturva[batch]"``); importing this package does not
import it.
"""

from .cluster import INSTALL_HINT, WORKER_ENV, SchedulerInfo, available_cores, require_dask
from .national import compare_scenarios, draw_choropleth, uncovered_share
from .outputs import BATCH_FORMAT_VERSION, read_batch, read_batch_summary
from .plan import SPLITS, BatchError, TaskSpec, plan_tasks, run_state, split_pieces
from .run import BatchResult, run_batch
from .task import RunSteps, TaskOptions, TaskOutcome, piece_workspace, run_task

__all__ = [
    "BATCH_FORMAT_VERSION",
    "INSTALL_HINT",
    "SPLITS",
    "WORKER_ENV",
    "BatchError",
    "BatchResult",
    "RunSteps",
    "SchedulerInfo",
    "TaskOptions",
    "TaskOutcome",
    "TaskSpec",
    "available_cores",
    "compare_scenarios",
    "draw_choropleth",
    "piece_workspace",
    "plan_tasks",
    "read_batch",
    "read_batch_summary",
    "require_dask",
    "run_batch",
    "run_state",
    "run_task",
    "split_pieces",
    "uncovered_share",
]

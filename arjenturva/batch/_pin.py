"""One core per worker of the local cluster: a Dask worker plugin that binds every thread of a
worker process (and the threads and processes it starts later) to one core of its own.

With its worker bound to one core, nothing a task runs spreads over the machine: drawing maps and
reports stays in the worker process (it forks helpers only where it sees several cores), and
thread pools that size themselves by the cores are held to that one. Imported only where Dask is
installed (the ``batch`` extra).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["PinToCore", "pin_process"]


def pin_process(core: int) -> None:
    """Bind every thread of this process to ``core`` (Linux; elsewhere nothing happens)."""
    if not hasattr(os, "sched_setaffinity") or not os.path.isdir("/proc/self/task"):
        return
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(tid), {core})


class PinToCore(WorkerPlugin):
    """Binds the local cluster's worker ``k`` (its name) to ``cores[k % len(cores)]``, also
    after a restart (a plugin is set up on every worker that joins)."""

    name = "arjenturva-pin-to-core"

    def __init__(self, cores: tuple[int, ...]) -> None:
        self.cores = cores

    def setup(self, worker: Any) -> None:
        """Pin the worker's process when it starts (workers with a non-numeric name stay free)."""
        if self.cores and isinstance(worker.name, int):
            pin_process(self.cores[worker.name % len(self.cores)])

"""Benchmark of ``arjenturva batch`` on the national case (standalone script, not a test).

The case is ``examples/national.py``'s: every municipality of Finland built from ``../shared/data``,
split by wellbeing services county (23 pieces, each with the rest of Finland as context), under the
baseline and one scenario: 46 runs. It measures

* **scaling**: the wall time of the whole batch (``api.run_batch``, every run forced) on a local
  cluster of 1 and of 2 workers, and the sum of the tasks' own times;
* **overhead per task**: the wall time per task of many empty tasks on the same cluster, with and
  without a scattered argument (what the scheduler costs a task, apart from its work), and the
  time to scatter the workspace and network (once per batch);
* **memory**: the peak resident memory of each worker process over the batch (its tasks' own
  measurement), and the size of what is scattered.

Usage::

    python benchmarks/bench_batch.py [--workers 1 2] [--no-maps] [--empty-tasks 2000] [--out DIR]

The machine's load is printed with the figures: on a shared machine the 2-worker time depends on
the other work as much as on the batch.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "examples"))

from national import SCENARIO, build_national  # noqa: E402

import arjenturva.api as api  # noqa: E402


def noop(*_args: Any) -> None:
    """An empty task."""


def time_batch(config: Path, out: Path, workers: int, maps: bool) -> dict[str, Any]:
    """One forced national batch on a new local cluster of ``workers`` workers."""
    t = time.perf_counter()
    res = api.run_batch([config], out_dir=out, split="wellbeing_county", scenarios=[SCENARIO],
                        workers=workers, maps=maps, force=True)
    wall = time.perf_counter() - t
    done = [o for o in res.outcomes if o.status == "done"]
    peaks: dict[str, float] = {}
    for o in done:
        peaks[o.worker] = max(peaks.get(o.worker, 0.0), o.peak_rss_mb or 0.0)
    return {
        "workers": workers,
        "wall_s": wall,
        "tasks": len(res.outcomes),
        "failed": len(res.failed),
        "task_sum_s": sum(o.seconds for o in done),
        "task_cpu_s": sum(o.cpu_seconds for o in done),
        "longest_task_s": max((o.seconds for o in done), default=0.0),
        "timings": res.timings_s,
        "worker_peak_mb": peaks,
    }


def overhead(config: Path, n_tasks: int, workers: int) -> dict[str, float]:
    """Wall time per empty task, plain and with the scattered workspace and network as arguments."""
    from arjenturva.batch.cluster import open_client
    from arjenturva.config import load_config

    cfg = load_config(config)
    ws = api.load_workspace(cfg.model_copy(update={"study_area": None}))
    net = api.build_network(cfg)
    sizes = {"workspace_mb": len(pickle.dumps(ws, protocol=5)) / 1e6,
             "network_mb": len(pickle.dumps(net, protocol=5)) / 1e6}
    with open_client(None, workers=workers) as (client, _info):
        client.submit(noop, pure=False).result()  # workers warm
        t = time.perf_counter()
        shared = client.scatter([ws, net], broadcast=True, hash=False)
        scatter_s = time.perf_counter() - t
        out = {}
        for label, args in (("plain", ()), ("scattered_args", tuple(shared))):
            t = time.perf_counter()
            futures = [client.submit(noop, *args, pure=False) for _ in range(n_tasks)]
            client.gather(futures)
            out[f"per_task_ms_{label}"] = (time.perf_counter() - t) / n_tasks * 1000
        rounds = []
        for _ in range(20):
            t = time.perf_counter()
            client.submit(noop, pure=False).result()
            rounds.append(time.perf_counter() - t)
        out["round_trip_ms"] = statistics.median(rounds) * 1000
    return {**out, "scatter_s": scatter_s, **sizes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-maps", action="store_true", help="runs without maps and reports")
    parser.add_argument("--empty-tasks", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=None, help="folder for the workspace and batches")
    args = parser.parse_args(argv)
    root = args.out or Path(tempfile.mkdtemp(prefix="bench-batch-"))
    config = build_national(root / "workspace", force=False)
    api.build_network(config)  # the network cache is warm for every batch
    print(f"national workspace: {config}; cores {os.cpu_count()}; load {os.getloadavg()}")
    ov = overhead(config, args.empty_tasks, max(args.workers))
    print(f"scheduler overhead ({max(args.workers)} workers, {args.empty_tasks} empty tasks): "
          f"{ov['per_task_ms_plain']:.2f} ms per task, {ov['per_task_ms_scattered_args']:.2f} ms with the "
          f"scattered workspace and network as arguments; one task's round trip {ov['round_trip_ms']:.1f} ms;"
          " "
          f"scattering {ov['workspace_mb']:.2f} MB + {ov['network_mb']:.2f} MB to every worker "
          f"{ov['scatter_s']:.2f} s")
    rows = []
    for n in args.workers:
        load = os.getloadavg()
        r = time_batch(config, root / f"batch-{n}", n, maps=not args.no_maps)
        rows.append(r)
        peaks = ", ".join(f"{v:.0f}" for v in sorted(r["worker_peak_mb"].values()))
        print(f"{n} worker(s): wall {r['wall_s']:.1f} s for {r['tasks']} runs ({r['failed']} failed); "
              f"tasks' own time {r['task_sum_s']:.1f} s, CPU {r['task_cpu_s']:.1f} s "
              f"(longest {r['longest_task_s']:.1f} s); "
              f"setup {r['timings']}; worker peak RSS MB: {peaks}; load before {load}")
    if len(rows) > 1:
        base = rows[0]
        for r in rows[1:]:
            ratio = base["wall_s"] / r["wall_s"]
            print(f"speed-up {base['workers']} -> {r['workers']} workers: {ratio:.2f}x "
                  f"(efficiency {ratio / (r['workers'] / base['workers']):.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

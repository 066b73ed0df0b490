"""Benchmark p-median (``solve_pmedian``) against the classic full formulation or PySAL spopt.

Run from the repository root::

    python benchmarks/bench_location.py                      # 2 000 x 300, p = 1, 5, 10, 20, 40
    python benchmarks/bench_location.py --sizes 500x100,1000x200 --p 1,5,10 --baseline full
    python benchmarks/bench_location.py --sizes 500x100 --p 1,5 --baseline spopt

The instance mimics a region: demand points clustered around 40 villages (a quarter scattered),
weights log-normal (about 12 people, heavy tail), candidate sites at two thirds demand points and
one third anywhere, cost = 1.3 x straight-line km (a road detour factor); every pair is reachable.

For each size and p the table shows our time (median and best of ``--repeat`` runs in this
process), our peak memory, the baseline's time over as many runs and its peak memory, both
objectives and the ratio of the median times. Peak memory is measured in a separate pass: a fresh
process builds the instance, then solves once; the figure is the rise of its peak resident set
size over the solve. The baselines:

* ``full``: the classic formulation, one assignment variable and one linking row per pair,
  solved by HiGHS through :func:`scipy.optimize.milp` (what ``solve_pmedian`` was before);
* ``spopt``: ``spopt.locate.PMedian.from_cost_matrix`` solved with CBC through PuLP (PuLP's
  HiGHS interface was far slower on these models), model building included. CBC runs as a child
  process of its own, whose memory the figure leaves out (it counts PuLP's model in Python).

Imports happen before any timing or memory measurement.

A baseline stopped by ``--baseline-limit`` shows its time with ``>`` and its status; the ratio is
then a lower bound.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from arjenturva.proposals import solve_pmedian


def generate_region(seed: int, n_demand: int, n_sites: int) -> tuple[np.ndarray, np.ndarray]:
    """A clustered region: (cost matrix in km, demand weights)."""
    rng = np.random.default_rng(seed)
    size_km, villages = 120.0, 40
    centres = rng.uniform(0, size_km, (villages, 2))
    village = rng.integers(0, villages, n_demand)
    spread = rng.uniform(1, 8, villages)[village]
    demand = centres[village] + rng.normal(0, 1, (n_demand, 2)) * spread[:, None]
    scattered = rng.random(n_demand) < 0.25
    demand[scattered] = rng.uniform(0, size_km, (int(scattered.sum()), 2))
    at_demand = n_sites - n_sites // 3
    sites = np.r_[
        demand[rng.choice(n_demand, at_demand, replace=False)],
        rng.uniform(0, size_km, (n_sites - at_demand, 2)),
    ]
    cost = 1.3 * np.linalg.norm(demand[:, None] - sites[None], axis=2)
    weights = np.maximum(1.0, np.round(rng.lognormal(2.5, 1.0, n_demand)))
    return cost, weights


def solve_full(cost: np.ndarray, weights: np.ndarray, p: int, time_limit_s: float) -> tuple[float, str]:
    """The classic formulation solved by scipy's HiGHS: (objective, status)."""
    n, m = cost.shape
    r, c = np.nonzero(np.isfinite(cost))
    k = r.size
    z = m + np.arange(k)
    pair = np.arange(k)
    a = sp.vstack(
        [
            sp.csr_matrix((np.ones(k), (r, z)), shape=(n, m + k)),
            sp.csr_matrix(
                (np.r_[np.ones(k), -np.ones(k)], (np.r_[pair, pair], np.r_[z, c])), shape=(k, m + k)
            ),
            sp.csr_matrix((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))), shape=(1, m + k)),
        ]
    ).tocsr()
    res = milp(
        np.r_[np.zeros(m), weights[r] * cost[r, c]],
        integrality=np.r_[np.ones(m), np.zeros(k)],
        bounds=Bounds(0, 1),
        constraints=[
            LinearConstraint(a, np.r_[np.ones(n), np.full(k, -np.inf), p], np.r_[np.ones(n), np.zeros(k), p])
        ],
        options={"time_limit": time_limit_s, "mip_rel_gap": 1e-9},
    )
    status = "optimal" if res.status == 0 else "time_limit"
    return (float(res.fun) if res.x is not None else float("nan")), status


def solve_spopt(cost: np.ndarray, weights: np.ndarray, p: int, time_limit_s: float) -> tuple[float, str]:
    """spopt's PMedian solved with CBC through PuLP: (objective, status)."""
    import pulp
    from spopt.locate import PMedian

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = PMedian.from_cost_matrix(cost, weights, p_facilities=p)
        model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s))
    status = pulp.LpStatus[model.problem.status].lower()
    return float(model.problem.objective.value()), status


def solve_ours(cost: np.ndarray, weights: np.ndarray, p: int, time_limit_s: float) -> tuple[float, str]:
    """``solve_pmedian``: (objective, status)."""
    sol = solve_pmedian(cost, weights, p, time_limit_s=time_limit_s)
    return sol.objective, sol.status


SOLVERS = {"ours": solve_ours, "full": solve_full, "spopt": solve_spopt}


def _import_baseline(solver: str) -> None:
    """Import what a solver needs beforehand, so neither its time nor its memory counts imports."""
    if solver == "spopt":
        import pulp  # noqa: F401
        import spopt.locate  # noqa: F401


def _status_mb(key: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS now, VmHWM peak), in MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return float(line.split()[1]) / 1024.0
    return float("nan")


def _memory_child(solver: str, n: int, m: int, p: int, seed: int, limit: float) -> None:
    """Build the instance, solve once and print the rise of the peak RSS (MB) over the resident
    set before the solve (the peak is reset first where Linux allows it)."""
    _import_baseline(solver)
    cost, weights = generate_region(seed, n, m)
    before = _status_mb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")  # reset VmHWM to the current RSS
    except OSError:
        before = max(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    SOLVERS[solver](cost, weights, p, limit)
    print(f"{max(0.0, _status_mb('VmHWM') - before):.1f}")


def peak_memory_mb(solver: str, n: int, m: int, p: int, seed: int, limit: float) -> float:
    """Peak memory of one solve, measured in a fresh process."""
    out = subprocess.run(
        [sys.executable, __file__, "--_memory", solver, str(n), str(m), str(p), str(seed), str(limit)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def timed(
    solver: str, cost: np.ndarray, weights: np.ndarray, p: int, repeat: int, limit: float
) -> tuple[float, float, float, str]:
    """Median and best wall time of ``repeat`` solves, the objective and the status of the last."""
    times = []
    obj, status = float("nan"), ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        obj, status = SOLVERS[solver](cost, weights, p, limit)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), obj, status


def main() -> None:
    """Run the benchmark and print the table."""
    if len(sys.argv) > 1 and sys.argv[1] == "--_memory":
        solver, n, m, p, seed, limit = sys.argv[2:8]
        _memory_child(solver, int(n), int(m), int(p), int(seed), float(limit))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000x300", help="demand x sites, comma-separated")
    parser.add_argument("--p", default="1,5,10,20,40", help="numbers of sites, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side")
    parser.add_argument("--baseline", choices=("full", "spopt", "none"), default="none")
    parser.add_argument("--baseline-limit", type=float, default=60.0, help="baseline time limit (s)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory pass")
    args = parser.parse_args()

    base = args.baseline
    _import_baseline(base)
    header = (
        f"{'size':>9} {'p':>3} {'ours med s':>10} {'best s':>7} {'ours MB':>7} {'objective':>14} "
        f"{'status':>8}"
    )
    if base != "none":
        header += (
            f" {base + ' med s':>11} {'best s':>7} {base + ' MB':>8} {'objective':>14} {'status':>10} "
            f"{'ratio':>7}"
        )
    print(header)
    print("-" * len(header))
    for size in args.sizes.split(","):
        n, m = (int(v) for v in size.lower().split("x"))
        cost, weights = generate_region(args.seed, n, m)
        for p in (int(v) for v in args.p.split(",")):
            med, best, obj, status = timed("ours", cost, weights, p, args.repeat, 600.0)
            mem = "" if args.no_memory else f"{peak_memory_mb('ours', n, m, p, args.seed, 600.0):.0f}"
            line = f"{size:>9} {p:>3} {med:>10.2f} {best:>7.2f} {mem:>7} {obj:>14.2f} {status:>8}"
            if base != "none":
                lim = args.baseline_limit
                bmed, bbest, bobj, bstatus = timed(base, cost, weights, p, args.repeat, lim)
                bmem = "" if args.no_memory else f"{peak_memory_mb(base, n, m, p, args.seed, lim):.0f}"
                capped = ">" if bstatus != "optimal" else ""
                line += (
                    f" {capped + f'{bmed:.2f}':>11} {bbest:>7.2f} {bmem:>8} {bobj:>14.2f} {bstatus:>10} "
                    f"{capped + f'{bmed / med:.0f}x':>7}"
                )
            print(line, flush=True)


if __name__ == "__main__":
    main()

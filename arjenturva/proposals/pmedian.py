"""p-median on a cost matrix, exact and small enough for a region: bounds, a reduction and a
radius-bounded assignment with a far remainder.

The classic formulation has one assignment variable and one linking row per reachable
(demand point, site) pair; on 2 000 × 300 pairs HiGHS needs over a minute and about 2 GB. The same
optimum is found here on a much smaller model, in three steps (``w_i`` demand weight, ``c_ij``
cost, ``a_ij = w_i c_ij``; at most ``p`` sites, exactly ``p`` opened):

1. **Bounds.** A greedy start improved by single swaps gives a solution; its cost is the upper
   bound ``UB``. Relaxing the rows "each demand point is assigned once" with multipliers ``λ`` gives
   the Lagrangian bound ``L(λ) = Σ_i λ_i + (sum of the p smallest ρ_j)`` with
   ``ρ_j = Σ_i min(0, a_ij − λ_i)``; a subgradient search raises it, and the p sites of every
   subproblem are tried as a solution too (which lowers ``UB``).
2. **Reduction** (a restriction). Fixing ``x_j = 1`` in the Lagrangian subproblem gives
   ``LB_j = L + max(0, ρ_j − ρ_(p))`` (``ρ_(p)`` the p-th smallest ρ), a lower bound on every
   solution that opens ``j``; fixing also ``z_ij = 1`` gives ``LB_ij = LB_j + max(0, a_ij − λ_i)``,
   a lower bound on every solution that assigns ``i`` to ``j``. Sites and pairs whose bound is not
   below ``UB`` are dropped: the reduced problem ``Q`` holds every solution cheaper than ``UB``, so
   ``optimum = min(UB, opt(Q))``.
3. **Radius-bounded assignment with a far remainder** (a relaxation of ``Q``). Demand point ``i``
   may be assigned to its ``K_i`` cheapest remaining sites ``N_i`` (the ones within its radius) or
   to a remainder variable ``f_i`` priced at ``w_i`` times its ``(K_i+1)``-th cheapest remaining
   cost, which is no more than the cost of any site outside ``N_i``. Call this ``Q_K`` and solve it
   with HiGHS.

**Why the result is exact.** (a) Every solution of ``Q`` maps to one of ``Q_K`` that costs no
more (an assignment outside ``N_i`` becomes ``f_i = 1``, priced at most at its cost), so
``opt(Q_K) ≤ opt(Q)``. (b) Let ``x*`` solve ``Q_K``. If every demand point has an open site in its
``N_i``, the true cost of ``x*`` (each point to its nearest open site) is at most its ``Q_K`` cost,
``opt(Q_K) ≤ opt(Q)``: ``x*`` is optimal for ``Q``, and the better of ``x*`` and the ``UB``
solution is optimal for the full problem. (c) Otherwise the ``N_i`` of the points without an open
site in it grow up to their nearest open site, and ``Q_K`` is solved again; each round strictly
enlarges some ``N_i``, so after finitely many rounds ``Q_K = Q`` at the latest. (d) If ``Q_K`` is
infeasible or ``opt(Q_K) ≥ UB``, no solution beats ``UB`` (by (a) and step 2), so ``UB`` is optimal.
Bounds are compared with a relative tolerance of 1e-9, the gap HiGHS is asked to close as well.

Identical demand rows are merged first (weights add up), and demand points of weight 0 that
reach every site are left out (they cost nothing wherever they go); both are exact. Memory grows
with ``n_demand × n_sites`` (a few dense float arrays), time mostly with the sites that survive
the reduction and with the radii ``K_i``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint

from ..errors import ProposalError
from .classic import LocationSolution, _nearest_chosen, _Pairs, _weighted_pairs
from .highs import _MipModel, _MipResult, _run_highspy, _run_scipy, highspy

REL_TOL = 1e-9
"""Relative tolerance of the bounds (and the MIP gap asked of HiGHS)."""

SUBGRADIENT_ITERATIONS = 1500
"""Most subgradient steps of the Lagrangian bound."""


@dataclass(frozen=True)
class _Instance:
    """The reduced input: distinct demand rows × the sites any demand point reaches."""

    cost: np.ndarray  # rows × sites, inf = unreachable
    weight: np.ndarray  # demand weight of each row (merged rows add up)
    site: np.ndarray  # original site index of each column
    p: int


@dataclass(frozen=True)
class _Bounds:
    """What the bounds step found: the best solution and the Lagrangian bound."""

    open_: np.ndarray  # bool per column: the best solution's sites (all False when none)
    upper: float  # its cost (inf when no solution was found)
    lower: float  # the Lagrangian bound (-inf when not computed)
    lam: np.ndarray | None  # the multipliers of ``lower``


def _instance(pairs: _Pairs, w: np.ndarray, p: int) -> _Instance:
    """Dense costs of the demand rows that matter, identical rows merged, unreached sites left out."""
    r, c, v = pairs.row, pairs.col, pairs.value
    sites = np.unique(c)
    col = np.searchsorted(sites, c)
    cost = np.full((pairs.n_demand, sites.size), np.inf)
    np.minimum.at(cost, (r, col), v)
    free = (w == 0) & np.isfinite(cost).all(axis=1)
    cost, wk = cost[~free], w[~free]
    if cost.shape[0] > 1:
        cost, inverse = np.unique(cost, axis=0, return_inverse=True)
        wk = np.bincount(inverse.ravel(), wk, minlength=cost.shape[0])
    return _Instance(cost, wk, sites, p)


def _two_nearest(cost: np.ndarray, open_: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: cost of the nearest open column, its column, and the cost of the second nearest."""
    cols = np.flatnonzero(open_)
    sub = cost[:, cols]
    rows = np.arange(cost.shape[0])
    if cols.size == 1:
        return sub[:, 0].copy(), np.full(rows.size, cols[0]), np.full(rows.size, np.inf)
    k = np.argpartition(sub, 1, axis=1)[:, :2]
    v0, v1 = sub[rows, k[:, 0]], sub[rows, k[:, 1]]
    swap = v1 < v0
    first = np.where(swap, k[:, 1], k[:, 0])
    return np.minimum(v0, v1), cols[first], np.maximum(v0, v1)


def _weighted(inst: _Instance) -> np.ndarray:
    """``w_i c_ij`` (inf where unreachable, also for weight 0)."""
    finite = np.isfinite(inst.cost)
    return np.where(finite, inst.weight[:, None] * np.where(finite, inst.cost, 0.0), np.inf)


def _true_cost(inst: _Instance, open_: np.ndarray) -> float:
    """Total weighted cost of opening ``open_`` (inf when a row reaches no open site)."""
    near = inst.cost[:, open_].min(axis=1)
    if not np.isfinite(near).all():
        return math.inf
    return float(inst.weight @ near)


def _swap_search(inst: _Instance, open_: np.ndarray, penalty: float) -> np.ndarray:
    """Best-improvement single swaps (one site out, one in) until none lowers the cost.

    Unreachable pairs cost ``penalty``. For a swap of ``k`` out and ``j`` in, with ``d1``/``d2`` the
    costs of each row's nearest/second-nearest open site: rows served by ``k`` pay ``d2 − d1`` (loss
    of ``k``), every row gains ``max(0, d1 − c_ij)``, and rows served by ``k`` that ``j`` serves
    better than ``d2`` get back ``d2 − max(c_ij, d1)``; all three are computed for every pair at once.
    """
    cost = np.minimum(inst.cost, penalty)
    w = inst.weight
    n, m = cost.shape
    open_ = open_.copy()
    if open_.all():
        return open_
    for _ in range(10 * m):
        d1, a1, d2 = _two_nearest(cost, open_)
        d2 = np.minimum(d2, penalty)
        cols = np.flatnonzero(open_)
        slot = np.searchsorted(cols, a1)
        gain = w @ np.maximum(0.0, d1[:, None] - cost)
        loss = np.bincount(slot, w * (d2 - d1), minlength=cols.size)
        back = w[:, None] * np.maximum(0.0, d2[:, None] - np.maximum(cost, d1[:, None]))
        served = sp.csr_matrix((np.ones(n), (slot, np.arange(n))), shape=(cols.size, n))
        delta = loss[None, :] - gain[:, None] - np.asarray(served @ back).T
        delta[cols, :] = np.inf
        j, k = np.unravel_index(int(np.argmin(delta)), delta.shape)
        if not delta[j, k] < -REL_TOL * max(1.0, float(w @ d1)):
            break
        open_[cols[k]] = False
        open_[j] = True
    return open_


def _greedy(inst: _Instance, penalty: float) -> np.ndarray:
    """Open sites one by one, each time the one that lowers the (penalised) cost most."""
    cost = np.minimum(inst.cost, penalty)
    open_ = np.zeros(cost.shape[1], dtype=bool)
    near = np.full(cost.shape[0], 2.0 * penalty)
    for _ in range(inst.p):
        gain = inst.weight @ np.maximum(0.0, near[:, None] - cost)
        gain[open_] = -np.inf
        j = int(np.argmax(gain))
        open_[j] = True
        near = np.minimum(near, cost[:, j])
    return open_


def _lagrangian(inst: _Instance, upper: float, open_: np.ndarray, deadline: float) -> _Bounds:
    """Subgradient search for the Lagrangian bound; each subproblem's sites are tried as a solution."""
    cost, w, p = inst.cost, inst.weight, inst.p
    a = _weighted(inst)
    d1, _, d2 = _two_nearest(cost, open_)
    lam = w * (d1 + np.where(np.isfinite(d2), d2, 2.0 * d1)) / 2.0
    best, best_lam = -math.inf, lam.copy()
    best_open, best_upper = open_, upper
    red, neg = np.empty_like(a), np.empty_like(a)
    step, stall = 2.0, 0
    for _ in range(SUBGRADIENT_ITERATIONS):
        np.subtract(a, lam[:, None], out=red)
        rho = np.minimum(red, 0.0, out=neg).sum(axis=0)
        chosen = np.argpartition(rho, p - 1)[:p]
        bound = float(lam.sum() + rho[chosen].sum())
        trial = np.zeros(cost.shape[1], dtype=bool)
        trial[chosen] = True
        trial_cost = _true_cost(inst, trial)
        if trial_cost < best_upper:
            best_open, best_upper = trial, trial_cost
        stall = 0 if bound > best + 1e-6 * (best_upper - best) else stall + 1
        if bound > best:
            best, best_lam = bound, lam.copy()
        if stall >= 20:
            step, stall = step / 2.0, 0
        if best_upper - best <= REL_TOL * abs(best_upper) or step < 1e-5 or time.perf_counter() > deadline:
            break
        g = 1.0 - (red[:, chosen] < 0).sum(axis=1)
        gg = float(g @ g)
        if gg == 0.0:
            break
        lam = lam + step * (best_upper - bound) / gg * g
    return _Bounds(best_open, best_upper, best, best_lam)


def _bounds(inst: _Instance, deadline: float) -> _Bounds:
    """A good solution (greedy, swaps, Lagrangian sites, swaps again) and the Lagrangian bound."""
    finite = inst.cost[np.isfinite(inst.cost)]
    penalty = 1e3 * (float(np.abs(finite).max()) + 1.0)
    open_ = _swap_search(inst, _greedy(inst, penalty), penalty)
    upper = _true_cost(inst, open_)
    if not math.isfinite(upper):
        return _Bounds(np.zeros(inst.cost.shape[1], dtype=bool), math.inf, -math.inf, None)
    lag = _lagrangian(inst, upper, open_, deadline)
    if lag.upper < upper:
        better = _swap_search(inst, lag.open_, penalty)
        better_cost = _true_cost(inst, better)
        if better_cost < lag.upper:
            return _Bounds(better, better_cost, lag.lower, lag.lam)
    return lag


def _kept_pairs(inst: _Instance, bnd: _Bounds) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the pairs that may appear in a solution cheaper than the upper bound."""
    cost = inst.cost
    if bnd.lam is None or not math.isfinite(bnd.lower):
        row, col = np.nonzero(np.isfinite(cost))
        return row, col
    red = _weighted(inst) - bnd.lam[:, None]
    rho = np.minimum(red, 0.0).sum(axis=0)
    rho_p = np.partition(rho, inst.p - 1)[inst.p - 1]
    site_lb = bnd.lower + np.maximum(0.0, rho - rho_p)
    limit = bnd.upper - REL_TOL * abs(bnd.upper)
    row, col = np.nonzero((site_lb[None, :] + np.maximum(0.0, red) < limit) & np.isfinite(cost))
    return row, col


@dataclass(frozen=True)
class _Radius:
    """The kept pairs sorted by row then cost, and each row's radius (pairs it may use)."""

    row: np.ndarray
    col: np.ndarray
    value: np.ndarray
    start: np.ndarray  # first pair of each row
    count: np.ndarray  # pairs of each row


def _radius_model(inst: _Instance, rad: _Radius, k: np.ndarray) -> tuple[_MipModel, np.ndarray]:
    """The radius-bounded p-median: x (sites, binary), z (pairs within radius), f (far remainders)."""
    n, m = inst.cost.shape
    w = inst.weight
    rank = np.arange(rad.row.size) - rad.start[rad.row]
    inside = rank < k[rad.row]
    r, c, v = rad.row[inside], rad.col[inside], rad.value[inside]
    far = np.flatnonzero(k < rad.count)
    far_cost = rad.value[rad.start[far] + k[far]]
    nz, nf = r.size, far.size
    nv = m + nz + nf
    zk = m + np.arange(nz)
    fk = m + nz + np.arange(nf)
    assign = sp.csr_matrix((np.ones(nz + nf), (np.r_[r, far], np.r_[zk, fk])), shape=(n, nv))
    pair = np.arange(nz)
    link = sp.csr_matrix(
        (np.r_[np.ones(nz), -np.ones(nz)], (np.r_[pair, pair], np.r_[zk, c])), shape=(nz, nv)
    )  # z_ij - x_j <= 0
    count = sp.csr_matrix((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))), shape=(1, nv))
    cons = LinearConstraint(
        sp.vstack([assign, link, count]).tocsr(),
        np.r_[np.ones(n), np.full(nz, -np.inf), inst.p],
        np.r_[np.ones(n), np.zeros(nz), inst.p],
    )
    model = _MipModel(
        c=np.r_[np.zeros(m), w[r] * v, w[far] * far_cost],
        integrality=np.r_[np.ones(m), np.zeros(nz + nf)],
        bounds=Bounds(np.zeros(nv), np.ones(nv)),
        constraints=[cons],
        off={"x": 0, "z": m, "f": m + nz, "end": nv},
    )
    return model, far


def _run(model: _MipModel, upper: float, time_limit_s: float) -> _MipResult:
    """Solve with highspy (asked only for solutions below ``upper``) or scipy's HiGHS."""
    if highspy is None:
        return _run_scipy(model, time_limit_s=time_limit_s, mip_gap=REL_TOL)
    options = {"objective_bound": upper - 0.5 * REL_TOL * abs(upper)} if math.isfinite(upper) else None
    return _run_highspy(model, time_limit_s=time_limit_s, mip_gap=REL_TOL, options=options)


def _radius_rounds(inst: _Instance, bnd: _Bounds, deadline: float) -> tuple[np.ndarray, float, float, bool]:
    """Solve the reduced problem by radius-bounded rounds; (sites, cost, lower bound, optimal)."""
    n = inst.cost.shape[0]
    row, col = _kept_pairs(inst, bnd)
    best_open, upper = bnd.open_, bnd.upper
    lower = bnd.lower
    counts = np.bincount(col, minlength=inst.cost.shape[1])
    if math.isfinite(upper) and ((counts > 0).sum() < inst.p or np.bincount(row, minlength=n).min() == 0):
        return best_open, upper, upper, True  # no solution cheaper than the upper bound exists
    value = inst.cost[row, col]
    order = np.lexsort((col, value, row))
    row, col, value = row[order], col[order], value[order]
    count = np.bincount(row, minlength=n)
    rad = _Radius(row, col, value, np.r_[0, np.cumsum(count)[:-1]], count)
    # Start radius: the sites up to each row's cost in the best solution, and those the
    # Lagrangian multipliers make attractive (a_ij < λ_i), plus one.
    within = np.zeros(row.size, dtype=bool)
    if bnd.open_.any():
        within |= value <= inst.cost[:, bnd.open_].min(axis=1)[row]
    if bnd.lam is not None:
        within |= inst.weight[row] * value < bnd.lam[row]
    k = np.minimum(count, np.bincount(row, within, minlength=n).astype(np.int64) + 1)
    while True:
        model, _ = _radius_model(inst, rad, k)
        res = _run(model, upper, max(deadline - time.perf_counter(), 0.0))
        if res.x is None:
            if res.infeasible and math.isfinite(upper):
                return best_open, upper, upper, True  # (d): nothing cheaper than the upper bound
            if res.infeasible:
                msg = (
                    f"p-median is infeasible: no {inst.p} sites reach every demand point. "
                    "Fix: raise p or leave out the demand points that reach too few sites"
                )
                raise ProposalError(msg)
            if math.isfinite(upper):
                return best_open, upper, lower, False
            msg = f"p-median: HiGHS found no solution in the time limit ({res.message})"
            raise ProposalError(msg)
        open_ = res.x[: inst.cost.shape[1]] > 0.5
        found = _true_cost(inst, open_)
        if found < upper:
            best_open, upper = open_, found
        bound = res.dual_bound if math.isfinite(res.dual_bound) else -math.inf
        lower = max(lower, min(upper, bound))
        if math.isfinite(upper) and upper - bound <= REL_TOL * abs(upper):
            return best_open, upper, upper, True
        if not res.optimal:
            return best_open, upper, lower, False
        # Rows without an open site within their radius grow up to their nearest open site.
        is_open = open_[rad.col]
        rank = np.arange(row.size) - rad.start[row]
        first = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first, row[is_open], rank[is_open])
        need = np.where(first < count, first + 1, count)
        grow = need > k
        if not grow.any():  # (b): optimal for the reduced problem (and so feasible)
            return best_open, upper, upper, True
        k = np.where(grow, need, k)


def solve_pmedian(cost: Any, weights: Any, p: int, *, time_limit_s: float = 60.0) -> LocationSolution:
    """p-median: ``p`` facilities minimising the total weighted cost of serving every demand point.

    Solved exactly by Lagrangian bounds, a reduction and a radius-bounded assignment with a far
    remainder (see the module docstring for the method and why it is exact).

    Parameters
    ----------
    cost
        ``n_demand x n_facility`` matrix, dense (``np.inf`` = unreachable) or sparse (stored
        entries are the reachable pairs); unreachable pairs are not allowed as assignments.
    weights
        Demand weight per demand point.
    p
        Number of facilities to open (exactly ``p``).
    time_limit_s
        Time limit of the whole solve; when it is reached the best solution found is returned with
        status ``"time_limit"`` and its gap to the best lower bound.

    Returns
    -------
    LocationSolution
        ``objective`` is ``sum_i weights_i * cost[i, allocation_i]``.

    Raises
    ------
    ProposalError
        When a demand point reaches no facility, ``p`` is out of range, or no ``p`` facilities
        reach every demand point.
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit_s)
    pairs, w = _weighted_pairs(cost, weights, p, "p-median")
    r, c, v = pairs.row, pairs.col, pairs.value
    n, m = pairs.n_demand, pairs.n_facility
    unreachable = np.setdiff1d(np.arange(n), r)
    if unreachable.size:
        msg = f"p-median is infeasible: demand points {unreachable[:10].tolist()} reach no facility"
        raise ProposalError(msg)
    inst = _instance(pairs, w, p)
    n_sites = inst.site.size
    if p >= n_sites or inst.cost.shape[0] == 0:
        # Every site any demand point reaches is opened (then the lowest-numbered others).
        open_cols = np.ones(n_sites, dtype=bool) if p >= n_sites else _greedy(inst, 1.0)
        unreached = np.setdiff1d(np.arange(m), inst.site)
        chosen = np.r_[inst.site[open_cols], unreached[: p - int(open_cols.sum())]]
        optimal, gap = True, 0.0
    else:
        bnd = _bounds(inst, t0 + 0.5 * float(time_limit_s))
        if math.isfinite(bnd.upper) and bnd.upper - bnd.lower <= REL_TOL * abs(bnd.upper):
            open_cols, upper, lower, optimal = bnd.open_, bnd.upper, bnd.upper, True
        else:
            open_cols, upper, lower, optimal = _radius_rounds(inst, bnd, deadline)
        chosen = inst.site[open_cols]
        gap = 0.0 if optimal or upper == 0 else max(0.0, (upper - lower) / abs(upper))
    open_ = np.zeros(m, dtype=bool)
    open_[chosen] = True
    alloc = _nearest_chosen(r, c, v, n, open_)
    served = alloc[r] == c
    at = np.full(n, np.inf)
    at[r[served]] = v[served]
    return LocationSolution(
        np.flatnonzero(open_),
        float(np.sum(w[w > 0] * at[w > 0])),
        alloc,
        "optimal" if optimal else "time_limit",
        float(gap),
        time.perf_counter() - t0,
    )

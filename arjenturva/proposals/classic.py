"""Classic location models on a cost matrix: LSCP and MCLP solved with HiGHS, and what they share
with p-median (:mod:`.pmedian`): the result type and the reachable pairs of a matrix.

Like PySAL spopt's ``from_cost_matrix`` core they take plain (sparse) matrices and weights and
return indices; :mod:`.locate` is the adapter that builds the matrices from the road network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from ..errors import ProposalError


@dataclass(frozen=True)
class LocationSolution:
    """Result of a classic location model.

    Parameters
    ----------
    facilities
        Sorted indices of the chosen facilities.
    objective
        Number of facilities (LSCP), covered weight (MCLP) or total weighted cost (p-median).
    allocation
        Per demand point, the index of the facility serving it (the nearest chosen facility within
        reach for LSCP/MCLP, the assigned one for p-median); -1 when none.
    status
        ``"optimal"`` or ``"time_limit"``.
    mip_gap
        Relative gap reported by HiGHS.
    seconds
        Wall time.
    """

    facilities: np.ndarray
    objective: float
    allocation: np.ndarray
    status: str
    mip_gap: float
    seconds: float


@dataclass(frozen=True)
class _Pairs:
    """The reachable (demand, facility) pairs of a cost matrix, and its shape."""

    row: np.ndarray
    col: np.ndarray
    value: np.ndarray
    n_demand: int
    n_facility: int


def _finite_pairs(cost: Any) -> _Pairs:
    """Return the reachable pairs: finite entries (dense) or stored entries (sparse)."""
    if sp.issparse(cost):
        coo = sp.coo_matrix(cost)
        keep = np.isfinite(coo.data)
        return _Pairs(
            coo.row[keep].astype(np.int64),
            coo.col[keep].astype(np.int64),
            coo.data[keep].astype(float),
            *coo.shape,
        )
    arr = np.asarray(cost, dtype=float)
    if arr.ndim != 2:
        msg = f"cost must be a 2-D matrix, got shape {arr.shape}"
        raise ProposalError(msg)
    r, c = np.nonzero(np.isfinite(arr))
    return _Pairs(r.astype(np.int64), c.astype(np.int64), arr[r, c], *arr.shape)


def _weighted_pairs(cost: Any, weights: Any, p: int, model: str) -> tuple[_Pairs, np.ndarray]:
    """The finite pairs of ``cost`` and the demand weights, checked against ``p``.

    Raises
    ------
    ProposalError
        When there is not one weight per demand point or ``p`` is not in 1..facilities.
    """
    pairs = _finite_pairs(cost)
    n, m = pairs.n_demand, pairs.n_facility
    w = np.asarray(weights, dtype=float).ravel()
    if w.size != n or not 0 < p <= m:
        msg = f"{model} needs {n} weights and 0 < p <= {m}; got {w.size} weights and p={p}"
        raise ProposalError(msg)
    return pairs, w


def _nearest_chosen(r: np.ndarray, c: np.ndarray, v: np.ndarray, n: int, open_: np.ndarray) -> np.ndarray:
    keep = open_[c]
    r, c, v = r[keep], c[keep], v[keep]
    order = np.lexsort((c, v, r))
    r, c = r[order], c[order]
    alloc = np.full(n, -1, dtype=np.int64)
    first = np.r_[True, r[1:] != r[:-1]] if r.size else np.zeros(0, dtype=bool)
    alloc[r[first]] = c[first]
    return alloc


def _run_milp(
    c: np.ndarray,
    integrality: np.ndarray,
    bounds: Bounds,
    cons: LinearConstraint,
    time_limit_s: float,
    what: str,
) -> Any:
    res = milp(
        c,
        integrality=integrality,
        bounds=bounds,
        constraints=[cons],
        options={"time_limit": float(time_limit_s), "mip_rel_gap": 1e-9, "disp": False},
    )
    if res.x is None:
        msg = f"{what}: HiGHS found no solution ({res.message})"
        raise ProposalError(msg)
    return res


def solve_lscp(cost: Any, service_radius: float, *, time_limit_s: float = 60.0) -> LocationSolution:
    """Location set covering: the fewest facilities that reach every demand point.

    Parameters
    ----------
    cost
        ``n_demand x n_facility`` matrix, dense (``np.inf`` = unreachable) or sparse (stored
        entries are the reachable pairs).
    service_radius
        Demand ``i`` is covered by facility ``j`` when ``cost[i, j] <= service_radius``.
    time_limit_s
        HiGHS time limit.

    Returns
    -------
    LocationSolution

    Raises
    ------
    ProposalError
        When some demand point has no facility within the radius.
    """
    t0 = time.perf_counter()
    pairs = _finite_pairs(cost)
    r, c, v = pairs.row, pairs.col, pairs.value
    n, m = pairs.n_demand, pairs.n_facility
    cov = v <= service_radius
    rows, cols = r[cov], c[cov]
    uncovered = np.setdiff1d(np.arange(n), rows)
    if uncovered.size:
        msg = (
            f"LSCP is infeasible: demand points {uncovered[:10].tolist()} have no facility within "
            f"{service_radius:g}; raise the radius or drop them"
        )
        raise ProposalError(msg)
    a = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, m))
    res = _run_milp(
        np.ones(m), np.ones(m), Bounds(0, 1), LinearConstraint(a, 1, np.inf), time_limit_s, "LSCP"
    )
    open_ = res.x > 0.5
    return LocationSolution(
        np.flatnonzero(open_),
        float(open_.sum()),
        _nearest_chosen(rows, cols, v[cov], n, open_),
        "optimal" if res.status == 0 else "time_limit",
        float(res.mip_gap or 0.0),
        time.perf_counter() - t0,
    )


def solve_mclp(
    cost: Any, weights: Any, service_radius: float, p: int, *, time_limit_s: float = 60.0
) -> LocationSolution:
    """Maximal covering location: ``p`` facilities covering the most demand weight.

    Parameters
    ----------
    cost
        ``n_demand x n_facility`` matrix (see :func:`solve_lscp`).
    weights
        Demand weight per demand point.
    service_radius
        Coverage radius (``cost <= service_radius``).
    p
        Number of facilities to open (exactly ``p``, as in PySAL spopt).
    time_limit_s
        HiGHS time limit.

    Returns
    -------
    LocationSolution
        ``objective`` is the covered weight; ``allocation`` is -1 for uncovered demand.
    """
    t0 = time.perf_counter()
    pairs, w = _weighted_pairs(cost, weights, p, "MCLP")
    r, c, v = pairs.row, pairs.col, pairs.value
    n, m = pairs.n_demand, pairs.n_facility
    cov = v <= service_radius
    rows, cols = r[cov], c[cov]
    # Variables: x (m, binary), y (n, continuous in [0, 1]).
    cover = sp.csr_matrix(
        (np.r_[np.ones(n), -np.ones(rows.size)], (np.r_[np.arange(n), rows], np.r_[m + np.arange(n), cols])),
        shape=(n, m + n),
    )
    count = sp.csr_matrix((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))), shape=(1, m + n))
    cons = LinearConstraint(
        sp.vstack([cover, count]).tocsr(), np.r_[np.full(n, -np.inf), p], np.r_[np.zeros(n), p]
    )
    obj = np.r_[np.zeros(m), -w]
    res = _run_milp(obj, np.r_[np.ones(m), np.zeros(n)], Bounds(0, 1), cons, time_limit_s, "MCLP")
    open_ = res.x[:m] > 0.5
    alloc = _nearest_chosen(rows, cols, v[cov], n, open_)
    covered = alloc >= 0
    return LocationSolution(
        np.flatnonzero(open_),
        float(w[covered].sum()),
        alloc,
        "optimal" if res.status == 0 else "time_limit",
        float(res.mip_gap or 0.0),
        time.perf_counter() - t0,
    )

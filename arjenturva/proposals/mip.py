"""The proposal MIP: built as one sparse constraint matrix and solved exactly with HiGHS.

The model (see :mod:`.problem`) is built directly as a ``scipy.sparse`` matrix (vectorised, no
modelling objects) and solved with HiGHS (see :mod:`.highs`): through ``highspy`` when asked, which
lets the greedy solution be passed as a starting incumbent (so the MIP is never worse than the
greedy and prunes from the start), else through :func:`scipy.optimize.milp` (same model, no
starting solution).

Variables, in this order (``off`` holds the offset of each block): ``x`` options (binary), ``y``
coverage levels reached (see :class:`_Levels`), ``z`` open sites (binary), ``h`` (site, service)
pairs in use, ``u`` (municipality, sector) pairs in use, ``e`` municipalities without agreements,
``sl`` sector shortfall per municipality, ``N`` agreements per municipality and ``g`` cover groups
in use.

A unit's coverage is the largest fraction a chosen option gives it (as in the gap analysis, where a
cell's coverage is the best weight among the points that reach it). The MIP writes this maximum
exactly with one variable per distinct fraction ``f_1 > f_2 > … > f_K`` a unit's options give it:
``v_k <= sum of the options giving at least f_k`` and ``coverage = sum_k (f_k - f_{k+1}) v_k``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint

from ..errors import ProposalError
from .evaluate import (
    _best_coverage,
    _budget_lookup,
    _build_index,
    _evaluate,
    _Index,
    _shortfall_warnings,
    _solution,
)
from .greedy import _best_greedy
from .highs import _check_backend, _MipModel, _run_highspy, _run_scipy
from .problem import _TOL, MOBILE, REMOTE, Budget, ProposalProblem, ProposalSolution


@dataclass(frozen=True)
class _Levels:
    """The coverage levels of a problem: per unit, the distinct fractions its options give it.

    Levels are ordered by unit, then by fraction, largest first; ``entry_level`` and
    ``entry_option`` list the options reaching each level (an option giving ``a`` reaches every
    level of its unit with a fraction of at most ``a``).
    """

    unit: np.ndarray  # unit of each level
    value: np.ndarray  # its fraction f_k
    step: np.ndarray  # f_k - f_{k+1} (f_{K+1} = 0): what reaching the level adds
    entry_level: np.ndarray
    entry_option: np.ndarray

    @property
    def size(self) -> int:
        """Number of levels."""
        return int(self.unit.size)


def _levels(coverage: sp.csr_matrix) -> _Levels:
    """The coverage levels of a units × options coverage matrix (see :class:`_Levels`)."""
    a = sp.csr_matrix(coverage)
    a.sort_indices()
    rows = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
    vals = np.round(a.data, 12)
    pairs, inv = np.unique(np.c_[rows, -vals], axis=0, return_inverse=True)
    inv = inv.ravel()
    unit = pairs[:, 0].astype(np.int64)
    value = -pairs[:, 1]
    last = np.r_[unit[1:] != unit[:-1], True]
    step = value - np.where(last, 0.0, np.r_[value[1:], 0.0])
    # Each entry reaches its own level and the smaller ones of its unit, up to the unit's last level.
    last_of_unit = np.flatnonzero(last)[np.searchsorted(unit[last], unit)]
    count = last_of_unit[inv] - inv + 1
    starts = np.repeat(inv, count)
    offsets = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return _Levels(unit, value, step, starts + offsets, np.repeat(a.indices, count))


class _Rows:
    """Accumulates sparse constraint blocks as COO triplets with row bounds."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.n = 0

    def add(self, rows: np.ndarray, cols: np.ndarray, vals: Any, lo: Any, hi: Any, n_rows: int) -> None:
        if n_rows == 0:
            return
        rows = np.asarray(rows, dtype=np.int64)
        self.r.append(rows + self.n)
        self.c.append(np.asarray(cols, dtype=np.int64))
        self.v.append(np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).copy())
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (n_rows,)).copy())
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (n_rows,)).copy())
        self.n += n_rows

    def constraint(self, n_vars: int) -> LinearConstraint | None:
        if self.n == 0:
            return None
        mat = sp.csr_matrix(
            (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))), shape=(self.n, n_vars)
        )
        return LinearConstraint(mat, np.concatenate(self.lo), np.concatenate(self.hi))


def _pairwise_le(rows: _Rows, left: np.ndarray, right: np.ndarray) -> None:
    """Rows ``x[left[i]] - x[right[i]] <= 0``, one per pair."""
    n = left.size
    r = np.arange(n)
    rows.add(np.r_[r, r], np.r_[left, right], np.r_[np.ones(n), -np.ones(n)], -np.inf, 0.0, n)


def _budget_rows(rows: _Rows, cols: np.ndarray, mu: np.ndarray, budget: Budget, munis: np.ndarray) -> None:
    """Add ``sum cols <= budget`` globally or per municipality (``mu`` = municipality index per col)."""
    g, per_mu = _budget_lookup(budget, munis)
    if np.isfinite(g):
        rows.add(np.zeros(cols.size), cols, 1.0, -np.inf, g, 1)
    lim = np.flatnonzero(np.isfinite(per_mu))
    if lim.size:
        keep = np.isin(mu, lim)
        row_of = np.full(munis.size, -1)
        row_of[lim] = np.arange(lim.size)
        rows.add(row_of[mu[keep]], cols[keep], 1.0, -np.inf, per_mu[lim], lim.size)


def _variable_offsets(
    p: ProposalProblem, ix: _Index, lv: _Levels, *, hub: bool, sector: bool, share: bool
) -> dict[str, int]:
    """Offset of each variable block; blocks of unused rules are empty."""
    n_mu = ix.munis.size
    off = {}
    pos = 0
    for name, size in (
        ("x", p.n_options),
        ("y", lv.size),
        ("z", ix.n_sites),
        ("h", ix.pair_site.size if hub else 0),
        ("u", ix.ms_mu.size if sector else 0),
        ("e", n_mu if sector else 0),
        ("sl", n_mu if sector else 0),
        ("N", n_mu if share else 0),
        ("g", ix.grp_site.size),
    ):
        off[name] = pos
        pos += size
    off["end"] = pos
    return off


def _build_mip(p: ProposalProblem, ix: _Index) -> _MipModel:
    m = p.n_options
    n_mu = ix.munis.size
    lv = _levels(p.coverage)
    use_hub = p.hub_bonus > 0 and ix.pair_site.size > 0
    use_sector = bool((ix.k_mu >= 2).any())
    use_share = p.max_actor_share < 1
    off = _variable_offsets(p, ix, lv, hub=use_hub, sector=use_sector, share=use_share)
    nv = off["end"]
    z = slice(off["z"], off["z"] + ix.n_sites)

    c = np.zeros(nv)
    c[:m] = p.opt_cost
    c[m : m + lv.size] = -p.weight[lv.unit] * lv.step
    lb = np.zeros(nv)
    ub = np.ones(nv)
    integrality = np.zeros(nv)
    integrality[:m] = 1
    # Options that alone overload their actor can never be chosen.
    ub[:m][ix.load > ix.cap[p.opt_actor] + _TOL] = 0

    rows = _Rows()
    _coverage_rows(rows, p, ix, lv, off)
    fj = np.flatnonzero(ix.fixed)
    if fj.size:
        _site_rows(rows, p, ix, off, fj)
        c[z] = p.hub_bonus if use_hub else 0.0
        # Site variables are implied integer by x; declaring them binary lets HiGHS branch on sites,
        # which finds better incumbents on region-sized instances.
        integrality[z] = 1
    for mode, budget in ((MOBILE, p.max_mobile_routes), (REMOTE, p.max_remote_points)):
        jj = np.flatnonzero(p.opt_mode == mode)
        _budget_rows(rows, jj, ix.mu_of[jj], budget, ix.munis)
    _capacity_rows(rows, p, ix)
    if use_hub:
        _hub_rows(rows, ix, off, fj)
        c[off["h"] : off["h"] + ix.pair_site.size] = -p.hub_bonus
    if use_sector:
        _sector_rows(rows, p, ix, off)
        ub[off["sl"] : off["sl"] + n_mu] = np.maximum(ix.k_mu, 0)
        c[off["sl"] : off["sl"] + n_mu] = ix.penalty
    if use_share:
        _share_rows(rows, p, ix, off)
        ub[off["N"] : off["N"] + n_mu] = np.inf
    cons = rows.constraint(nv)
    return _MipModel(c, integrality, Bounds(lb, ub), [cons] if cons is not None else [], off)


def _coverage_rows(rows: _Rows, p: ProposalProblem, ix: _Index, lv: _Levels, off: Mapping[str, int]) -> None:
    """Coverage levels: ``v_k - sum_{j reaching level k} x_j - sum_g g_g <= 0``.

    An option of a cover group contributes through its group's ``g_g <= min(z_s, sum_{j in g} x_j)``
    (exact, tighter LP; see :func:`.evaluate._cover_groups`).
    """
    m = p.n_options
    lvl, col = lv.entry_level, lv.entry_option
    grp = ix.grp_of[col]
    alone = grp < 0
    # One entry per (level, group): the first member of each group carries its column.
    n_grp = ix.grp_site.size
    first = np.full(n_grp + 1, -1, dtype=np.int64)  # padded: index -1 (no group) stays -1
    in_grp = np.flatnonzero(ix.grp_of >= 0)
    first[ix.grp_of[in_grp[::-1]]] = in_grp[::-1]
    lead = first[grp] == col
    n_lv = lv.size
    rows.add(
        np.r_[np.arange(n_lv), lvl[alone], lvl[lead]],
        np.r_[m + np.arange(n_lv), col[alone], off["g"] + grp[lead]],
        np.r_[np.ones(n_lv), -np.ones(int(alone.sum())), -np.ones(int(lead.sum()))],
        -np.inf,
        0.0,
        n_lv,
    )
    if n_grp:
        r = np.arange(n_grp)
        rows.add(
            np.r_[r, ix.grp_of[in_grp]],
            np.r_[off["g"] + r, in_grp],
            np.r_[np.ones(n_grp), -np.ones(in_grp.size)],
            -np.inf,
            0.0,
            n_grp,
        )
        _pairwise_le(rows, off["g"] + r, off["z"] + ix.grp_site)


def _site_rows(rows: _Rows, p: ProposalProblem, ix: _Index, off: Mapping[str, int], fj: np.ndarray) -> None:
    """Sites: ``x_j - z_s <= 0`` for the fixed options ``fj``, and the budget of new sites."""
    _pairwise_le(rows, fj, off["z"] + ix.site_of[fj])
    site_mu_idx = np.searchsorted(ix.munis, ix.site_muni)
    _budget_rows(rows, off["z"] + np.arange(ix.n_sites), site_mu_idx, p.max_new_sites, ix.munis)


def _capacity_rows(rows: _Rows, p: ProposalProblem, ix: _Index) -> None:
    """Capacity: ``sum_{j of a} load_j x_j <= cap_a`` for actors with a finite capacity."""
    lim = np.isfinite(ix.cap[p.opt_actor]) & (ix.load > 0)
    if lim.any():
        actors = np.unique(p.opt_actor[lim])
        jj = np.flatnonzero(lim)
        rows.add(
            np.searchsorted(actors, p.opt_actor[jj]), jj, ix.load[jj], -np.inf, ix.cap[actors], actors.size
        )


def _hub_rows(rows: _Rows, ix: _Index, off: Mapping[str, int], fj: np.ndarray) -> None:
    """Hub: ``h_p <= sum_{j in p} x_j`` and ``h_p <= z_site(p)``; bonus ``b * (sum h - sum z)``."""
    n_pairs = ix.pair_site.size
    r = np.arange(n_pairs)
    rows.add(
        np.r_[ix.pair_of[fj], r],
        np.r_[fj, off["h"] + r],
        np.r_[-np.ones(fj.size), np.ones(n_pairs)],
        -np.inf,
        0.0,
        n_pairs,
    )
    _pairwise_le(rows, off["h"] + r, off["z"] + ix.pair_site)


def _sector_rows(rows: _Rows, p: ProposalProblem, ix: _Index, off: Mapping[str, int]) -> None:
    """Sectors: ``u_q <= sum_{j in q} x_j``; ``e_mu + u_q <= 1``; ``sl_mu + sum_q u_q + e_mu >= k_mu``."""
    m = p.n_options
    n_ms = ix.ms_mu.size
    n_mu = ix.munis.size
    r = np.arange(n_ms)
    rows.add(
        np.r_[ix.ms_of, r],
        np.r_[np.arange(m), off["u"] + r],
        np.r_[-np.ones(m), np.ones(n_ms)],
        -np.inf,
        0.0,
        n_ms,
    )
    rows.add(np.r_[r, r], np.r_[off["u"] + r, off["e"] + ix.ms_mu], 1.0, -np.inf, 1.0, n_ms)
    k = np.arange(n_mu)
    rows.add(
        np.r_[ix.ms_mu, k, k],
        np.r_[off["u"] + r, off["e"] + k, off["sl"] + k],
        1.0,
        ix.k_mu.astype(float),
        np.inf,
        n_mu,
    )


def _share_rows(rows: _Rows, p: ProposalProblem, ix: _Index, off: Mapping[str, int]) -> None:
    """Actor share: ``N_mu = sum_{j in mu} x_j``; ``n_{a,mu} - s N_mu <= 1 - s``."""
    m = p.n_options
    n_mu = ix.munis.size
    s = p.max_actor_share
    k = np.arange(n_mu)
    rows.add(
        np.r_[ix.mu_of, k],
        np.r_[np.arange(m), off["N"] + k],
        np.r_[np.ones(m), -np.ones(n_mu)],
        0.0,
        0.0,
        n_mu,
    )
    q = np.arange(ix.am_mu.size)
    rows.add(
        np.r_[ix.am_of, q],
        np.r_[np.arange(m), off["N"] + ix.am_mu],
        np.r_[np.ones(m), np.full(q.size, -s)],
        -np.inf,
        1 - s,
        q.size,
    )


def _mip_start(p: ProposalProblem, ix: _Index, model: _MipModel, chosen: np.ndarray) -> np.ndarray:
    """Complete a selection of options to a full column vector of the MIP (see :func:`_build_mip`).

    ``y`` the coverage levels reached, ``z`` the open sites, ``h`` the (site, service) pairs in use, ``u``
    the (municipality, sector) pairs in use, ``e`` marks municipalities without agreements, ``sl``
    the sector shortfall, ``N`` the agreements per municipality and ``g`` the cover groups in use
    (see :func:`.evaluate._cover_groups`), so the vector satisfies every
    row when the selection satisfies the hard constraints, and its objective is ``-score``.
    """
    off = model.off
    m = p.n_options
    v = np.zeros(off["end"])
    x = np.zeros(m)
    x[chosen] = 1.0
    v[:m] = x
    lv = _levels(p.coverage)
    best = _best_coverage(p.coverage, np.flatnonzero(x > 0.5))
    v[m : m + lv.size] = best[lv.unit] >= lv.value - 1e-12
    sel = x > 0.5
    f = sel & ix.fixed
    v[off["z"] + np.unique(ix.site_of[f])] = 1.0
    if off["u"] > off["h"]:  # hub variables present
        v[off["h"] + np.unique(ix.pair_of[f])] = 1.0
    n_mu = ix.munis.size
    if off["e"] > off["u"]:  # sector variables present
        ms_on = np.unique(ix.ms_of[sel])
        v[off["u"] + ms_on] = 1.0
        n_sect = np.bincount(ix.ms_mu[ms_on], minlength=n_mu)
        v[off["e"] : off["e"] + n_mu] = n_sect == 0
        v[off["sl"] : off["sl"] + n_mu] = np.maximum(0, ix.k_mu - np.maximum(1, n_sect))
    if off["g"] > off["N"]:  # actor-share counts present
        v[off["N"] : off["N"] + n_mu] = np.bincount(ix.mu_of[sel], minlength=n_mu)
    v[off["g"] + np.unique(ix.grp_of[sel & (ix.grp_of >= 0)])] = 1.0
    return np.clip(v, model.bounds.lb, model.bounds.ub)


def _start_vector(p: ProposalProblem, ix: _Index, model: _MipModel, start: Any) -> np.ndarray | None:
    """The completed starting incumbent for ``start`` (see :func:`solve_mip`), or None."""
    if isinstance(start, str) and start == "greedy":
        return _mip_start(p, ix, model, _best_greedy(p, ix).chosen)
    if start is None:
        return None
    chosen0 = np.unique(np.asarray(start, dtype=np.int64))
    viol = _evaluate(p, ix, chosen0).violations
    if viol or (chosen0.size and (model.bounds.ub[chosen0] < 0.5).any()):
        msg = f"the start selection breaks hard constraints: {'; '.join(viol) or 'overloaded option'}"
        raise ProposalError(msg)
    return _mip_start(p, ix, model, chosen0)


def lp_bound(problem: ProposalProblem) -> float:
    """The bound the MIP's LP relaxation puts on the score: no selection of options scores more
    (``inf`` when HiGHS does not solve the relaxation)."""
    ix = _build_index(problem)
    model = _build_mip(problem, ix)
    relaxed = _MipModel(model.c, np.zeros_like(model.integrality), model.bounds, model.constraints, model.off)
    res = _run_scipy(relaxed, time_limit_s=60.0, mip_gap=0.0)
    if not res.optimal or res.x is None:
        return math.inf
    return float(-(model.c @ res.x))


def solve_mip(
    problem: ProposalProblem,
    *,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.01,
    backend: str = "scipy",
    start: Any = "greedy",
    highs_options: Mapping[str, Any] | None = None,
) -> ProposalSolution:
    """Solve the proposal model exactly with HiGHS.

    Parameters
    ----------
    problem
        The instance.
    time_limit_s
        Time limit in seconds for the whole call (building the start included).
    mip_gap
        Relative MIP gap at which HiGHS stops.
    backend
        ``"highspy"`` (HiGHS through ``highspy``, with a starting solution), ``"scipy"``
        (:func:`scipy.optimize.milp`, no starting solution; the default) or ``"auto"`` (``highspy``
        when it is installed, else ``scipy``). On the demo instance the HiGHS bundled with scipy
        found better solutions in 60 s than a greedy-started ``highspy``, hence the default;
        :func:`solve` returns the greedy whenever it beats a time-limited MIP anyway.
    start
        Starting incumbent for the ``highspy`` backend: ``"greedy"`` (the :func:`solve_greedy`
        selection), ``None`` (none) or indices of options satisfying the hard constraints.
    highs_options
        Further HiGHS options (name → value) for the ``highspy`` backend, set after the defaults
        (for tuning experiments), e.g. ``{"mip_heuristic_effort": 0.3}``.

    Returns
    -------
    ProposalSolution
        Status ``"optimal"`` (within ``mip_gap``), ``"time_limit"`` (best solution found, with the
        bound and gap at the limit) or ``"infeasible"`` (no solution found in time; nothing chosen).
        ``solver`` is ``"highspy"`` or ``"highs"`` (scipy).

    Raises
    ------
    ProposalError
        When HiGHS reports the model infeasible or unbounded (contradictory inputs), for an
        unknown backend, an infeasible explicit start, or ``highs_options`` that HiGHS rejects or
        that are given with the ``scipy`` backend.
    """
    t0 = time.perf_counter()
    backend = _check_backend(backend, highs_options)
    ix = _build_index(problem)
    model = _build_mip(problem, ix)
    if backend == "scipy":
        res = _run_scipy(model, time_limit_s=time_limit_s, mip_gap=mip_gap)
        solver = "highs"
    else:
        x0 = _start_vector(problem, ix, model, start)
        remaining = time_limit_s - (time.perf_counter() - t0)
        res = _run_highspy(
            model, time_limit_s=max(remaining, 0.0), mip_gap=mip_gap, start=x0, options=highs_options
        )
        solver = "highspy"
    seconds = time.perf_counter() - t0
    if res.infeasible:
        msg = f"the proposal model cannot be solved: {res.message}"
        raise ProposalError(msg)
    bound = -res.dual_bound
    if res.x is None:
        ev = _evaluate(problem, ix, np.zeros(0, dtype=np.int64))
        return _solution(
            ev,
            np.zeros(0, dtype=np.int64),
            bound=bound,
            gap=math.nan,
            status="infeasible",
            solver=solver,
            seconds=seconds,
            warnings=[f"HiGHS found no solution within {time_limit_s:g} s"],
        )
    chosen = np.flatnonzero(res.x[: problem.n_options] > 0.5)
    ev = _evaluate(problem, ix, chosen)
    status = "optimal" if res.optimal else "time_limit"
    gap = res.gap
    warns = _shortfall_warnings(ev, problem.min_sectors)
    if status == "time_limit":
        warns.insert(0, f"HiGHS stopped at the time limit ({time_limit_s:g} s) with gap {gap:.2%}")
    return _solution(
        ev, chosen, bound=bound, gap=gap, status=status, solver=solver, seconds=seconds, warnings=warns
    )

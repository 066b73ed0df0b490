"""The greedy heuristic: options chosen one by one by marginal gain, every hard constraint kept.

It is the fallback for instances too large for the MIP and the MIP's starting incumbent.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .evaluate import (
    Evaluation,
    _budget_lookup,
    _build_index,
    _evaluate,
    _Index,
    _shortfall_warnings,
    _solution,
)
from .problem import _TOL, MOBILE, REMOTE, ProposalProblem, ProposalSolution


@dataclass(frozen=True)
class _GreedyRun:
    """One greedy pass: its evaluation, the chosen options and the rule (``"net"`` or ``"ratio"``)."""

    evaluation: Evaluation
    chosen: np.ndarray
    rule: str


def _greedy_pass(p: ProposalProblem, ix: _Index, rule: str) -> np.ndarray:
    n, m = p.n_units, p.n_options
    a_csc = p.coverage.tocsc()
    a_csr = p.coverage
    w = p.weight
    y = np.zeros(n)  # coverage per unit: the best fraction among the chosen options
    # Marginal coverage gain per option at zero coverage.
    gain = np.asarray(p.coverage.T @ w, dtype=float).ravel()
    chosen = np.zeros(m, dtype=bool)
    cap_left = ix.cap.copy()
    n_mu = ix.munis.size
    # Remaining budgets: global and per municipality.
    budget_left: dict[str, float] = {}
    budget_mu_left: dict[str, np.ndarray] = {}
    for name in ("max_new_sites", "max_mobile_routes", "max_remote_points"):
        g, per_mu = _budget_lookup(getattr(p, name), ix.munis)
        budget_left[name], budget_mu_left[name] = g, per_mu.copy()
    # Padded by one so that the dummy index 0 of non-fixed options is always valid.
    site_open = np.zeros(ix.n_sites + 1, dtype=bool)
    site_mu_idx = np.r_[np.searchsorted(ix.munis, ix.site_muni), 0]
    pair_on = np.zeros(ix.pair_site.size + 1, dtype=bool)
    ms_on = np.zeros(ix.ms_mu.size, dtype=bool)
    n_sect = np.zeros(n_mu, dtype=np.int64)
    n_am = np.zeros(ix.am_mu.size)
    n_tot = np.zeros(n_mu)
    s = p.max_actor_share
    fixed = ix.fixed
    mobile = p.opt_mode == MOBILE
    remote = p.opt_mode == REMOTE
    fsite = np.where(fixed, ix.site_of, 0)
    fpair = np.where(fixed, ix.pair_of, 0)
    cost_scale = float(np.mean(np.abs(p.opt_cost))) if m else 0.0
    denom = np.abs(p.opt_cost) + (1e-3 * cost_scale if cost_scale > 0 else 1.0)
    feasible_static = ix.load <= ix.cap[p.opt_actor] + _TOL
    for _ in range(m):
        ok = feasible_static & ~chosen & (ix.load <= cap_left[p.opt_actor] + _TOL)
        need_site = fixed & ~site_open[fsite]
        gs, ms_sites = budget_left["max_new_sites"], budget_mu_left["max_new_sites"]
        ok &= ~(need_site & ((gs < 1) | (ms_sites[site_mu_idx[fsite]] < 1)))
        for mask, name in ((mobile, "max_mobile_routes"), (remote, "max_remote_points")):
            g, per_mu = budget_left[name], budget_mu_left[name]
            ok &= ~(mask & ((g < 1) | (per_mu[ix.mu_of] < 1)))
        if s < 1:
            ok &= (n_am[ix.am_of] + 1) - s * (n_tot[ix.mu_of] + 1) <= 1 - s + 1e-9
        if not ok.any():
            break
        extra = np.zeros(m)
        if p.hub_bonus > 0:
            extra += np.where(fixed & site_open[fsite] & ~pair_on[fpair], p.hub_bonus, 0.0)
        if ix.k_mu.max(initial=0) >= 2:
            new_sector = ~ms_on[ix.ms_of] & (n_sect[ix.mu_of] >= 1) & (n_sect[ix.mu_of] < ix.k_mu[ix.mu_of])
            extra += np.where(new_sector, ix.penalty, 0.0)
        net = gain + extra - p.opt_cost
        cand = ok & (net > 1e-9)
        if not cand.any():
            break
        score = net if rule == "net" else (gain + extra) / denom
        j = int(np.argmax(np.where(cand, score, -np.inf)))
        # Apply the choice.
        chosen[j] = True
        a = p.opt_actor[j]
        cap_left[a] -= ix.load[j]
        mu = ix.mu_of[j]
        if fixed[j]:
            st = ix.site_of[j]
            if not site_open[st]:
                site_open[st] = True
                budget_left["max_new_sites"] -= 1
                budget_mu_left["max_new_sites"][site_mu_idx[st]] -= 1
            pair_on[ix.pair_of[j]] = True
        elif mobile[j] or remote[j]:
            name = "max_mobile_routes" if mobile[j] else "max_remote_points"
            budget_left[name] -= 1
            budget_mu_left[name][mu] -= 1
        if not ms_on[ix.ms_of[j]]:
            ms_on[ix.ms_of[j]] = True
            n_sect[mu] += 1
        n_am[ix.am_of[j]] += 1
        n_tot[mu] += 1
        _update_gains(gain, y, a_csc, a_csr, w, j)
    return np.flatnonzero(chosen)


def _update_gains(
    gain: np.ndarray, y: np.ndarray, a_csc: sp.csc_matrix, a_csr: sp.csr_matrix, w: np.ndarray, j: int
) -> None:
    """Update, in place, the coverage ``y`` after choosing option ``j`` and the marginal gains
    ``sum_i w_i max(0, A_ik - y_i)`` of the options sharing units with it."""
    m = gain.size
    lo, hi = a_csc.indptr[j], a_csc.indptr[j + 1]
    units = a_csc.indices[lo:hi]
    if units.size:
        old = y[units].copy()
        new = np.maximum(old, a_csc.data[lo:hi])
        sub = a_csr[units]
        r = np.repeat(np.arange(units.size), np.diff(sub.indptr))
        val = sub.data
        delta = w[units][r] * (np.maximum(0.0, val - new[r]) - np.maximum(0.0, val - old[r]))
        gain += np.bincount(sub.indices, weights=delta, minlength=m)
        y[units] = new


def _best_greedy(p: ProposalProblem, ix: _Index) -> _GreedyRun:
    """Run both greedy rules and return the better run; ``net`` wins ties."""
    runs = []
    for rule in ("net", "ratio"):
        chosen = _greedy_pass(p, ix, rule)
        runs.append(_GreedyRun(_evaluate(p, ix, chosen), chosen, rule))
    return max(runs, key=lambda run: run.evaluation.score)


def solve_greedy(problem: ProposalProblem, *, bound: float | None = None) -> ProposalSolution:
    """Choose options greedily by marginal weighted coverage, respecting capacities and budgets.

    Two passes are run and the better is kept: *net* (largest marginal gain minus cost) and
    *ratio* (largest marginal gain per unit of cost). Marginal gain counts what an option adds to
    each unit's best coverage, the hub bonus and, for the cross-sector rule, the sector penalty
    saved.
    Capacities, budgets and the actor-share rule are kept at every step.

    Parameters
    ----------
    problem
        The instance.
    bound
        Optional upper bound on ``objective - penalty`` (e.g. ``solve_mip(...).bound``); when
        given, the solution's ``mip_gap`` is ``(bound - score) / |bound|``.

    Returns
    -------
    ProposalSolution
        Status ``"greedy"``.
    """
    t0 = time.perf_counter()
    ix = _build_index(problem)
    run = _best_greedy(problem, ix)
    ev = run.evaluation
    score = ev.score
    gap = math.nan
    if bound is not None and np.isfinite(bound):
        gap = (bound - score) / max(abs(bound), 1e-12)
    return _solution(
        ev,
        run.chosen,
        bound=math.nan if bound is None else float(bound),
        gap=gap,
        status="greedy",
        solver=f"greedy-{run.rule}",
        seconds=time.perf_counter() - t0,
        warnings=_shortfall_warnings(ev, problem.min_sectors),
    )

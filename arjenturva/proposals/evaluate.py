"""The derived index of a proposal problem, and the evaluation of a selection of options.

The MIP (:mod:`.mip`), the greedy (:mod:`.greedy`) and :func:`evaluate_selection` share one
:class:`_Index`: option loads, sites, (site, service) pairs, municipality and sector codes, the
effective cross-sector target per municipality and the cover groups of the MIP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .problem import _TOL, FIXED, MOBILE, REMOTE, Budget, ProposalProblem, ProposalSolution


@dataclass(frozen=True)
class Evaluation:
    """Objective parts and constraint violations of a selection (see :func:`evaluate_selection`)."""

    coverage: np.ndarray
    coverage_value: float
    cost: float
    hub_value: float
    sector_shortfall: dict[int, int]
    penalty: float
    violations: tuple[str, ...]

    @property
    def objective(self) -> float:
        """``coverage_value - cost + hub_value``."""
        return self.coverage_value - self.cost + self.hub_value

    @property
    def score(self) -> float:
        """``objective - penalty``."""
        return self.objective - self.penalty


@dataclass(frozen=True)
class _Index:
    """Derived integer structure of a problem shared by the MIP, the greedy and the evaluator."""

    load: np.ndarray  # (m,) weekly clients an option takes on
    cap: np.ndarray  # (n_actors,) capacity * slack
    fixed: np.ndarray  # (m,) bool
    site_of: np.ndarray  # (m,) site index for fixed options, -1 otherwise
    site_muni: np.ndarray  # (n_sites,) municipality code of each site
    n_sites: int
    pair_of: np.ndarray  # (m,) (site, service) pair index for fixed options, -1 otherwise
    pair_site: np.ndarray  # (n_pairs,) site index of each pair
    munis: np.ndarray  # (n_mu,) municipality codes of options
    mu_of: np.ndarray  # (m,) municipality index
    ms_of: np.ndarray  # (m,) (municipality, sector) pair index
    ms_mu: np.ndarray  # (n_ms,) municipality index of each pair
    am_of: np.ndarray  # (m,) (actor, municipality) pair index
    am_mu: np.ndarray  # (n_am,) municipality index of each pair
    k_mu: np.ndarray  # (n_mu,) effective sector target
    penalty: float
    grp_of: np.ndarray  # (m,) cover-group index (see :func:`_cover_groups`), -1 when in none
    grp_site: np.ndarray  # (n_groups,) site index of each cover group


def _budget_lookup(budget: Budget, munis: np.ndarray) -> tuple[float, np.ndarray]:
    """Return the global budget (inf if none) and per-municipality budgets (inf if none)."""
    per_mu = np.full(munis.size, np.inf)
    if budget is None:
        return np.inf, per_mu
    if isinstance(budget, Mapping):
        for k, code in enumerate(munis):
            if int(code) in budget:
                per_mu[k] = float(budget[int(code)])
        return np.inf, per_mu
    return float(budget), per_mu


def _build_index(p: ProposalProblem) -> _Index:
    m = p.n_options
    load = np.asarray(p.coverage.T @ (p.demand * p.clients_per_resident)).ravel()
    cap = p.capacity * p.capacity_slack
    fixed = p.opt_mode == FIXED
    site_of = np.full(m, -1, dtype=np.int64)
    sites, inv = np.unique(p.opt_site[fixed], return_inverse=True)
    site_of[fixed] = inv
    site_muni = np.zeros(sites.size, dtype=np.int64)
    site_muni[inv] = p.opt_municipality[fixed]
    pair_of = np.full(m, -1, dtype=np.int64)
    pairs, pinv = np.unique(np.c_[inv, p.opt_service[fixed]], axis=0, return_inverse=True)
    pinv = pinv.ravel()
    pair_of[fixed] = pinv
    pair_site = pairs[:, 0] if pairs.size else np.zeros(0, dtype=np.int64)
    munis, mu_of = np.unique(p.opt_municipality, return_inverse=True)
    ms, ms_of = np.unique(np.c_[mu_of, p.opt_sector], axis=0, return_inverse=True)
    ms_of = ms_of.ravel()
    ms_mu = ms[:, 0] if ms.size else np.zeros(0, dtype=np.int64)
    am, am_of = np.unique(np.c_[p.opt_actor, mu_of], axis=0, return_inverse=True)
    am_of = am_of.ravel()
    am_mu = am[:, 1] if am.size else np.zeros(0, dtype=np.int64)

    # Effective sector target: options that can be chosen at all, sectors available, agreements allowed.
    usable = load <= cap[p.opt_actor] + _TOL
    g_sites, mu_sites = _budget_lookup(p.max_new_sites, munis)
    g_mob, mu_mob = _budget_lookup(p.max_mobile_routes, munis)
    g_rem, mu_rem = _budget_lookup(p.max_remote_points, munis)
    usable &= ~(fixed & ((g_sites < 1) | (mu_sites[mu_of] < 1)))
    usable &= ~((p.opt_mode == MOBILE) & ((g_mob < 1) | (mu_mob[mu_of] < 1)))
    usable &= ~((p.opt_mode == REMOTE) & ((g_rem < 1) | (mu_rem[mu_of] < 1)))
    n_mu = munis.size
    k_mu = np.zeros(n_mu, dtype=np.int64)
    if p.min_sectors > 1 and n_mu:
        n_sect = np.bincount(ms_mu[np.unique(ms_of[usable])], minlength=n_mu)
        cnt = {mode: np.bincount(mu_of[usable & (p.opt_mode == mode)], minlength=n_mu) for mode in (0, 1, 2)}
        max_agr = (
            cnt[FIXED]
            + np.minimum(cnt[MOBILE], np.minimum(mu_mob, g_mob))
            + np.minimum(cnt[REMOTE], np.minimum(mu_rem, g_rem))
        )
        k_mu = np.minimum(np.minimum(n_sect, max_agr), p.min_sectors).astype(np.int64)
    grp_of, grp_site = _cover_groups(p.coverage, fixed, site_of, load <= cap[p.opt_actor] + _TOL)
    if p.sector_penalty is not None:
        penalty = float(p.sector_penalty)
    else:
        penalty = 1.0 + float(p.weight.sum()) + float(np.clip(-p.opt_cost, 0, None).sum())
        penalty += p.hub_bonus * pair_site.size
    return _Index(
        load=load,
        cap=cap,
        fixed=fixed,
        site_of=site_of,
        site_muni=site_muni,
        n_sites=int(sites.size),
        pair_of=pair_of,
        pair_site=pair_site,
        munis=munis,
        mu_of=mu_of,
        ms_of=ms_of,
        ms_mu=ms_mu,
        am_of=am_of,
        am_mu=am_mu,
        k_mu=k_mu,
        penalty=penalty,
        grp_of=grp_of,
        grp_site=grp_site,
    )


def _cover_groups(
    coverage: sp.csr_matrix, fixed: np.ndarray, site_of: np.ndarray, usable: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Group the usable fixed options that cover the same units fully from the same site.

    Options of one group (different actors offering one service at one site, typically) have
    identical coverage columns with every entry ``>= 1``, so choosing any one of them covers those
    units completely and choosing more adds nothing: in the MIP their coverage terms are replaced
    by one continuous ``g <= min(z_site, sum x)`` (see :func:`.mip._build_mip`). Only groups of at least
    two options are formed.

    Returns
    -------
    tuple of numpy.ndarray
        Group index per option (-1 when in no group) and the site index of each group.
    """
    m = coverage.shape[1]
    grp_of = np.full(m, -1, dtype=np.int64)
    a_csc = coverage.tocsc()
    a_csc.sort_indices()
    keys: dict[tuple[int, bytes], list[int]] = {}
    for j in np.flatnonzero(fixed & usable):
        lo, hi = a_csc.indptr[j], a_csc.indptr[j + 1]
        if hi == lo or a_csc.data[lo:hi].min() < 1.0:
            continue
        keys.setdefault((int(site_of[j]), a_csc.indices[lo:hi].tobytes()), []).append(int(j))
    groups = [(site, members) for (site, _), members in keys.items() if len(members) >= 2]
    for g, (_, members) in enumerate(groups):
        grp_of[members] = g
    return grp_of, np.array([site for site, _ in groups], dtype=np.int64)


def evaluate_selection(problem: ProposalProblem, chosen: Any) -> Evaluation:
    """Compute the objective parts of a selection and list the hard constraints it breaks.

    Parameters
    ----------
    problem
        The instance.
    chosen
        Indices of the chosen options.

    Returns
    -------
    Evaluation
        Coverage per unit, objective parts, sector shortfall per municipality code and the
        violated hard constraints (capacity, budgets, actor share) as messages.
    """
    return _evaluate(problem, _build_index(problem), np.asarray(chosen, dtype=np.int64))


def _best_coverage(coverage: sp.csr_matrix, chosen: np.ndarray) -> np.ndarray:
    """Coverage per unit of a selection: the largest fraction a chosen option gives it (0: none)."""
    if np.asarray(chosen).size == 0:
        return np.zeros(coverage.shape[0])
    sub = sp.csc_matrix(coverage)[:, np.asarray(chosen, dtype=np.int64)]
    return np.asarray(sub.max(axis=1).toarray()).ravel()


def _evaluate(p: ProposalProblem, ix: _Index, chosen: np.ndarray) -> Evaluation:
    m = p.n_options
    x = np.zeros(m)
    x[chosen] = 1.0
    y = _best_coverage(p.coverage, np.flatnonzero(x > 0.5))
    cov_value = float(p.weight @ y)
    cost = float(p.opt_cost @ x)
    sel = x > 0.5
    f = sel & ix.fixed
    open_sites = np.unique(ix.site_of[f])
    n_pairs = np.unique(ix.pair_of[f]).size
    hub = p.hub_bonus * (n_pairs - open_sites.size)
    n_mu = ix.munis.size
    n_sect = np.bincount(ix.ms_mu[np.unique(ix.ms_of[sel])], minlength=n_mu)
    short = np.maximum(0, ix.k_mu - np.maximum(1, n_sect))
    shortfall = {int(ix.munis[k]): int(short[k]) for k in np.flatnonzero(short)}
    viol: list[str] = []
    used = np.bincount(p.opt_actor[sel], weights=ix.load[sel], minlength=p.capacity.size)
    for a in np.flatnonzero(used > ix.cap * (1 + 1e-7) + 1e-7):
        viol.append(f"actor {a}: load {used[a]:.4g} exceeds capacity {ix.cap[a]:.4g}")
    site_mu = ix.site_muni[open_sites]
    for name, counts_by_mu, total in (
        ("max_new_sites", np.bincount(np.searchsorted(ix.munis, site_mu), minlength=n_mu), open_sites.size),
        ("max_mobile_routes", np.bincount(ix.mu_of[sel & (p.opt_mode == MOBILE)], minlength=n_mu), None),
        ("max_remote_points", np.bincount(ix.mu_of[sel & (p.opt_mode == REMOTE)], minlength=n_mu), None),
    ):
        g, per_mu = _budget_lookup(getattr(p, name), ix.munis)
        tot = counts_by_mu.sum() if total is None else total
        if tot > g:
            viol.append(f"{name}: {tot} used, budget {g:g}")
        for k in np.flatnonzero(counts_by_mu > per_mu):
            viol.append(f"{name} in municipality {ix.munis[k]}: {counts_by_mu[k]} used, budget {per_mu[k]:g}")
    s = p.max_actor_share
    if s < 1:
        n_am = np.bincount(ix.am_of[sel], minlength=ix.am_mu.size)
        n_tot = np.bincount(ix.mu_of[sel], minlength=n_mu)
        bad = n_am - s * n_tot[ix.am_mu] > 1 - s + 1e-7
        for q in np.flatnonzero(bad):
            viol.append(
                f"actor share in municipality {ix.munis[ix.am_mu[q]]}: {n_am[q]} of {n_tot[ix.am_mu[q]]}"
            )
    return Evaluation(
        coverage=y,
        coverage_value=cov_value,
        cost=cost,
        hub_value=float(hub),
        sector_shortfall=shortfall,
        penalty=ix.penalty * float(short.sum()),
        violations=tuple(viol),
    )


def _shortfall_warnings(ev: Evaluation, k: int) -> list[str]:
    return [
        f"municipality {mu}: the cross-sector rule (at least {k} sectors) cannot be met; {n} sector(s) short"
        for mu, n in ev.sector_shortfall.items()
    ]


def _solution(
    ev: Evaluation,
    chosen: np.ndarray,
    *,
    bound: float,
    gap: float,
    status: str,
    solver: str,
    seconds: float,
    warnings: list[str],
) -> ProposalSolution:
    """The :class:`ProposalSolution` of an evaluated selection."""
    return ProposalSolution(
        chosen=np.sort(chosen),
        coverage=ev.coverage,
        objective=ev.objective,
        coverage_value=ev.coverage_value,
        cost=ev.cost,
        hub_value=ev.hub_value,
        penalty=ev.penalty,
        bound=bound,
        mip_gap=gap,
        status=status,
        solver=solver,
        seconds=seconds,
        warnings=tuple(warnings),
    )

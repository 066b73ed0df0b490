"""Array core of the partnership proposals: a sparse MIP, a greedy fallback and classic location models.

Everything here works on integer-coded arrays and (sparse) matrices, never on geometry; the
``proposals`` module is the adapter that turns gap areas, actors and candidate sites into a
:class:`ProposalProblem` and the chosen option indices back into agreements.

The proposal model
------------------
Demand units ``i`` (a population cell or gap area for one service) and options ``j`` (an actor
offering a service in a mode at a site). With binary ``x_j`` (option chosen) and continuous
``y_i`` (covered fraction of unit ``i``) the model maximises::

    sum_i weight_i y_i  -  sum_j cost_j x_j  +  hub_bonus * sum_sites (services at the site - 1)
                        -  sector_penalty * sum_municipalities sector_shortfall

subject to

* coverage, each unit counted once: ``y_i <= sum_j A_ij x_j`` and ``0 <= y_i <= 1``. Fixed options
  at one site with identical, fully covering columns (one service offered there by several actors)
  enter these rows through one group variable ``g <= min(z_s, sum_{j in group} x_j)`` instead of
  their sum: the same integer solutions, but a much tighter LP relaxation (half-open sites can no
  longer cover a unit fully through several half-chosen options);
* capacity (linearised): ``sum_{j of actor a} load_j x_j <= capacity_a * capacity_slack`` where
  ``load_j = sum_i demand_i * clients_per_resident_i * A_ij`` is the weekly client load the option
  takes on if chosen. Overlapping options of one actor count shared units twice, so the rule is
  conservative;
* budgets (global or per municipality): distinct *sites* with at least one chosen fixed option
  (several fixed options at one site use one new site), chosen mobile options (routes), chosen
  remote options (remote points);
* actor share (hard): in each municipality ``n_a - 1 <= s (N - 1)``, i.e.
  ``n_a <= s N + (1 - s)``, where ``n_a`` are actor ``a``'s agreements and ``N`` all agreements in
  the municipality. A municipality with a single agreement is feasible, an actor never exceeds
  ``ceil(s N)`` agreements, and for ``N = 2`` with ``s = 0.5`` both come from different actors;
* cross-sector rule (soft): with ``S`` distinct sectors among a municipality's agreements, the
  shortfall is ``max(0, k_m - max(1, S))`` with ``k_m = min(min_sectors, sectors that have options
  there, agreements the budgets allow there)``. A municipality without agreements is exactly as
  short as one with a single sector, so the rule never makes dropping all agreements attractive;
  every additional sector up to ``k_m`` earns ``sector_penalty``. The default penalty exceeds any
  attainable gain in the rest of the objective, which makes the rule lexicographic: it is met
  wherever it can be met, and where it cannot (budgets, capacities) the solution reports a warning
  instead of being infeasible;
* hub bonus: a binary site variable ``z_s >= x_j`` (fixed ``j`` at ``s``) and service-at-site
  variables ``h_sk <= min(z_s, sum_{j at s of service k} x_j)``; the bonus is
  ``hub_bonus * (sum_k h_sk - z_s)``, i.e. ``hub_bonus`` per service beyond the first at one site.

The model is built directly as a ``scipy.sparse`` matrix (vectorised, no modelling objects) and
solved with HiGHS: through ``highspy`` when it is installed, which lets the greedy solution be passed
as a starting incumbent (so the MIP is never worse than the greedy and prunes from the start), else
through :func:`scipy.optimize.milp` (same model, no starting solution).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from arjenturva.errors import ProposalError

try:  # optional: HiGHS with a starting solution
    import highspy
except ImportError:  # pragma: no cover - exercised only without highspy
    highspy = None  # type: ignore[assignment]  # optional module: callers test `highspy is None`

__all__ = [
    "FIXED",
    "MOBILE",
    "REMOTE",
    "Evaluation",
    "LocationSolution",
    "ProposalProblem",
    "ProposalSolution",
    "evaluate_selection",
    "solve",
    "solve_greedy",
    "solve_lscp",
    "solve_mclp",
    "solve_mip",
    "solve_pmedian",
]

FIXED = 0
MOBILE = 1
REMOTE = 2

Budget = int | Mapping[int, int] | None

_TOL = 1e-9

# HiGHS' thread pool is global and sized once per process; the MIP search itself is serial, so two
# threads are plenty and leave room for other work on small machines.
_HIGHS_THREADS = max(1, min(2, os.cpu_count() or 1))
# Further HiGHS options for the highspy backend (tuning experiments).
_HIGHS_EXTRA_OPTIONS: dict[str, Any] = {}


def _int_array(values: Any, name: str, size: int | None = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        msg = f"{name} must be one-dimensional, got shape {arr.shape}"
        raise ProposalError(msg)
    if (
        arr.size
        and not np.issubdtype(arr.dtype, np.integer)
        and (not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)))
    ):
        msg = f"{name} must hold integer codes"
        raise ProposalError(msg)
    arr = arr.astype(np.int64)
    if size is not None and arr.size != size:
        msg = f"{name} has {arr.size} entries, expected {size}"
        raise ProposalError(msg)
    return arr


def _float_array(values: Any, name: str, size: int) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        arr = np.full(size, float(arr))
    if arr.shape != (size,):
        msg = f"{name} has shape {arr.shape}, expected ({size},)"
        raise ProposalError(msg)
    return arr


@dataclass(frozen=True)
class ProposalProblem:
    """A partnership-proposal instance in array form.

    Parameters
    ----------
    coverage
        ``n_units x n_options`` sparse matrix; entry ``(i, j)`` in (0, 1] is the fraction of unit
        ``i`` that option ``j`` covers (1 for a fixed point within the threshold, days/required days
        for a mobile visit, the remote fraction for a remote service). Only options of the unit's
        service may have entries.
    weight
        Weighted demand still uncovered per unit (population plus the 65+ extra weight, times the
        service weight, times one minus the current coverage).
    demand
        People per unit still to be served (used for capacity).
    service, municipality
        Integer codes per unit.
    opt_actor
        Actor index per option, ``0 <= opt_actor < len(capacity)``.
    opt_service, opt_mode, opt_site, opt_sector, opt_municipality
        Integer codes per option; ``opt_mode`` is :data:`FIXED`, :data:`MOBILE` or :data:`REMOTE`.
        ``opt_site`` identifies the physical site (fixed options at one site share one new site
        and form a hub).
    opt_cost
        Travel/cost term per option, subtracted from the objective (same units as ``weight``).
    capacity
        Clients per week per actor; ``np.inf`` for unlimited.
    clients_per_resident
        Clients per week per person of the unit's demand (scalar or per unit); the load of unit
        ``i`` is ``demand_i * clients_per_resident_i``.
    capacity_slack
        Multiplier on every capacity (1 = as given).
    max_new_sites, max_mobile_routes, max_remote_points
        ``None`` (no limit), an int (global budget) or a mapping municipality code -> budget
        (municipalities not in the mapping are unlimited).
    min_sectors
        Cross-sector rule ``k`` (soft, see the module docstring); 1 disables it.
    max_actor_share
        Actor share ``s`` in (0, 1] (hard, see the module docstring); 1 disables it.
    hub_bonus
        Bonus per service beyond the first at one fixed site.
    sector_penalty
        Penalty per missing sector; ``None`` chooses a value larger than any other attainable
        objective gain (lexicographic rule).
    """

    coverage: sp.csr_matrix
    weight: np.ndarray
    demand: np.ndarray
    service: np.ndarray
    municipality: np.ndarray
    opt_actor: np.ndarray
    opt_service: np.ndarray
    opt_mode: np.ndarray
    opt_site: np.ndarray
    opt_cost: np.ndarray
    opt_sector: np.ndarray
    opt_municipality: np.ndarray
    capacity: np.ndarray
    clients_per_resident: np.ndarray | float = 1.0
    capacity_slack: float = 1.0
    max_new_sites: Budget = None
    max_mobile_routes: Budget = None
    max_remote_points: Budget = None
    min_sectors: int = 1
    max_actor_share: float = 1.0
    hub_bonus: float = 0.0
    sector_penalty: float | None = None

    def __post_init__(self) -> None:
        a = self.coverage
        if not sp.issparse(a):
            a = sp.csr_matrix(np.asarray(a, dtype=float))
        a = sp.csr_matrix(a, dtype=float)
        a.eliminate_zeros()
        a.sum_duplicates()
        n, m = a.shape
        set_ = object.__setattr__
        set_(self, "coverage", a)
        set_(self, "weight", _float_array(self.weight, "weight", n))
        set_(self, "demand", _float_array(self.demand, "demand", n))
        set_(self, "clients_per_resident", _float_array(self.clients_per_resident, "clients_per_resident", n))
        set_(self, "service", _int_array(self.service, "service", n))
        set_(self, "municipality", _int_array(self.municipality, "municipality", n))
        for name in ("opt_actor", "opt_service", "opt_mode", "opt_site", "opt_sector", "opt_municipality"):
            set_(self, name, _int_array(getattr(self, name), name, m))
        set_(self, "opt_cost", _float_array(self.opt_cost, "opt_cost", m))
        cap = np.asarray(self.capacity, dtype=float).ravel()
        set_(self, "capacity", cap)
        self._validate()

    def _validate(self) -> None:
        a = self.coverage
        if a.nnz and (a.data.min() <= 0 or a.data.max() > 1 + _TOL or not np.all(np.isfinite(a.data))):
            msg = "coverage fractions must lie in (0, 1]; clip them before building the problem"
            raise ProposalError(msg)
        if a.nnz:
            rows = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
            bad = self.service[rows] != self.opt_service[a.indices]
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                msg = (
                    f"option {int(a.indices[k])} (service {int(self.opt_service[a.indices[k]])}) covers unit "
                    f"{int(rows[k])} of service {int(self.service[rows[k]])}; options may only cover units "
                    "of their own service"
                )
                raise ProposalError(msg)
        for name in ("weight", "demand", "clients_per_resident", "opt_cost"):
            if not np.all(np.isfinite(getattr(self, name))):
                msg = f"{name} must be finite"
                raise ProposalError(msg)
        if (self.weight < 0).any() or (self.demand < 0).any():
            msg = "weight and demand must be non-negative"
            raise ProposalError(msg)
        if np.isnan(self.capacity).any() or (self.capacity < 0).any():
            msg = "capacity must be non-negative (np.inf for unlimited)"
            raise ProposalError(msg)
        if self.opt_actor.size and (self.opt_actor.min() < 0 or self.opt_actor.max() >= self.capacity.size):
            msg = f"opt_actor must index capacity (0..{self.capacity.size - 1})"
            raise ProposalError(msg)
        if not np.isin(self.opt_mode, (FIXED, MOBILE, REMOTE)).all():
            msg = "opt_mode must be 0 (fixed), 1 (mobile) or 2 (remote)"
            raise ProposalError(msg)
        if not 0 < self.max_actor_share <= 1:
            msg = f"max_actor_share must be in (0, 1], got {self.max_actor_share}"
            raise ProposalError(msg)
        if int(self.min_sectors) != self.min_sectors or self.min_sectors < 1:
            msg = f"min_sectors must be an integer >= 1, got {self.min_sectors}"
            raise ProposalError(msg)
        if self.capacity_slack <= 0 or self.hub_bonus < 0:
            msg = "capacity_slack must be positive and hub_bonus non-negative"
            raise ProposalError(msg)
        if self.sector_penalty is not None and self.sector_penalty < 0:
            msg = "sector_penalty must be non-negative"
            raise ProposalError(msg)
        for name in ("max_new_sites", "max_mobile_routes", "max_remote_points"):
            b = getattr(self, name)
            values = list(b.values()) if isinstance(b, Mapping) else ([] if b is None else [b])
            if any(v < 0 for v in values):
                msg = f"{name} must be non-negative"
                raise ProposalError(msg)
        if isinstance(self.max_new_sites, Mapping):
            fixed = self.opt_mode == FIXED
            pairs = np.unique(np.c_[self.opt_site[fixed], self.opt_municipality[fixed]], axis=0)
            if pairs.size and np.unique(pairs[:, 0]).size != pairs.shape[0]:
                msg = (
                    "a site has fixed options in several municipalities, so a per-municipality "
                    "max_new_sites is ambiguous; give each site the municipality it lies in "
                    "or use a global budget"
                )
                raise ProposalError(msg)

    @property
    def n_units(self) -> int:
        """Number of demand units."""
        return int(self.coverage.shape[0])

    @property
    def n_options(self) -> int:
        """Number of candidate options."""
        return int(self.coverage.shape[1])


@dataclass(frozen=True)
class ProposalSolution:
    """The options chosen for a :class:`ProposalProblem`.

    Parameters
    ----------
    chosen
        Sorted indices of the chosen options.
    coverage
        Covered fraction per unit, ``min(1, A x)`` (each unit counted once).
    objective
        ``coverage_value - cost + hub_value`` (without the sector penalty).
    coverage_value, cost, hub_value
        The parts of the objective.
    penalty
        ``sector_penalty * total sector shortfall``.
    bound
        Upper bound on ``objective - penalty`` (the MIP's dual bound); ``nan`` when unknown.
    mip_gap
        Relative gap ``(bound - (objective - penalty)) / |bound|`` as reported by HiGHS for the MIP,
        computed likewise for the greedy when a bound is given; ``nan`` when unknown.
    status
        ``"optimal"``, ``"time_limit"``, ``"greedy"`` or ``"infeasible"``.
    solver
        ``"highs"`` or ``"greedy-net"`` / ``"greedy-ratio"``.
    seconds
        Wall time of the solve.
    warnings
        Human-readable notes (unmet sector rules, fallbacks).
    """

    chosen: np.ndarray
    coverage: np.ndarray
    objective: float
    coverage_value: float
    cost: float
    hub_value: float
    penalty: float
    bound: float
    mip_gap: float
    status: str
    solver: str
    seconds: float
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def score(self) -> float:
        """The optimised quantity, ``objective - penalty``."""
        return self.objective - self.penalty


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


# --------------------------------------------------------------------------------------------- index


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
    by one continuous ``g <= min(z_site, sum x)`` (see :func:`_build_mip`). Only groups of at least
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


# ------------------------------------------------------------------------------------------ evaluate


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


def _evaluate(p: ProposalProblem, ix: _Index, chosen: np.ndarray) -> Evaluation:
    m = p.n_options
    x = np.zeros(m)
    x[chosen] = 1.0
    y = np.minimum(1.0, p.coverage @ x)
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


# ----------------------------------------------------------------------------------------------- MIP


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


def _build_mip(p: ProposalProblem, ix: _Index) -> tuple[np.ndarray, np.ndarray, Bounds, list, dict[str, int]]:
    n, m = p.n_units, p.n_options
    n_mu = ix.munis.size
    use_hub = p.hub_bonus > 0 and ix.pair_site.size > 0
    use_sector = bool((ix.k_mu >= 2).any())
    use_share = p.max_actor_share < 1
    n_pairs = ix.pair_site.size if use_hub else 0
    n_ms = ix.ms_mu.size if use_sector else 0
    n_sec_mu = n_mu if use_sector else 0
    n_cnt = n_mu if use_share else 0
    off = {}
    pos = 0
    for name, size in (
        ("x", m),
        ("y", n),
        ("z", ix.n_sites),
        ("h", n_pairs),
        ("u", n_ms),
        ("e", n_sec_mu),
        ("sl", n_sec_mu),
        ("N", n_cnt),
        ("g", ix.grp_site.size),
    ):
        off[name] = pos
        pos += size
    off["end"] = pos
    nv = pos

    c = np.zeros(nv)
    c[:m] = p.opt_cost
    c[m : m + n] = -p.weight
    lb = np.zeros(nv)
    ub = np.ones(nv)
    integrality = np.zeros(nv)
    integrality[:m] = 1
    # Options that alone overload their actor can never be chosen.
    ub[:m][ix.load > ix.cap[p.opt_actor] + _TOL] = 0
    a_csc = p.coverage.tocsc()
    ub[m : m + n][np.diff(p.coverage.indptr) == 0] = 0

    rows = _Rows()
    # Coverage: y_i - sum_j A_ij x_j - sum_g g_g <= 0, where an option of a cover group contributes
    # through its group's g_g <= min(z_s, sum_{j in g} x_j) (exact, tighter LP; see _cover_groups).
    coo = a_csc.tocoo()
    grp = ix.grp_of[coo.col]
    alone = grp < 0
    # One entry per (unit, group): the first member of each group carries its column.
    n_grp = ix.grp_site.size
    first = np.full(n_grp + 1, -1, dtype=np.int64)  # padded: index -1 (no group) stays -1
    in_grp = np.flatnonzero(ix.grp_of >= 0)
    first[ix.grp_of[in_grp[::-1]]] = in_grp[::-1]
    lead = first[grp] == coo.col
    rows.add(
        np.r_[np.arange(n), coo.row[alone], coo.row[lead]],
        np.r_[m + np.arange(n), coo.col[alone], off["g"] + grp[lead]],
        np.r_[np.ones(n), -coo.data[alone], -np.ones(int(lead.sum()))],
        -np.inf,
        0.0,
        n,
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
    # Sites: x_j - z_s <= 0 for fixed options.
    fj = np.flatnonzero(ix.fixed)
    if fj.size:
        _pairwise_le(rows, fj, off["z"] + ix.site_of[fj])
        c[off["z"] : off["z"] + ix.n_sites] = p.hub_bonus if use_hub else 0.0
        # Site variables are implied integer by x; declaring them binary lets HiGHS branch on sites,
        # which finds better incumbents on region-sized instances.
        integrality[off["z"] : off["z"] + ix.n_sites] = 1
        site_mu_idx = np.searchsorted(ix.munis, ix.site_muni)
        _budget_rows(rows, off["z"] + np.arange(ix.n_sites), site_mu_idx, p.max_new_sites, ix.munis)
    for mode, budget in ((MOBILE, p.max_mobile_routes), (REMOTE, p.max_remote_points)):
        jj = np.flatnonzero(p.opt_mode == mode)
        _budget_rows(rows, jj, ix.mu_of[jj], budget, ix.munis)
    # Capacity: sum_{j of a} load_j x_j <= cap_a.
    lim = np.isfinite(ix.cap[p.opt_actor]) & (ix.load > 0)
    if lim.any():
        actors = np.unique(p.opt_actor[lim])
        jj = np.flatnonzero(lim)
        rows.add(
            np.searchsorted(actors, p.opt_actor[jj]), jj, ix.load[jj], -np.inf, ix.cap[actors], actors.size
        )
    # Hub: h_p <= sum_{j in p} x_j and h_p <= z_site(p); bonus b * (sum h - sum z).
    if use_hub:
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
        c[off["h"] : off["h"] + n_pairs] = -p.hub_bonus
    # Sectors: u_q <= sum_{j in q} x_j; e_mu + u_q <= 1; sl_mu + sum_q u_q + e_mu >= k_mu.
    if use_sector:
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
        ub[off["sl"] : off["sl"] + n_mu] = np.maximum(ix.k_mu, 0)
        c[off["sl"] : off["sl"] + n_mu] = ix.penalty
    # Actor share: N_mu = sum_{j in mu} x_j; n_{a,mu} - s N_mu <= 1 - s.
    if use_share:
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
        ub[off["N"] : off["N"] + n_mu] = np.inf
        q = np.arange(ix.am_mu.size)
        rows.add(
            np.r_[ix.am_of, q],
            np.r_[np.arange(m), off["N"] + ix.am_mu],
            np.r_[np.ones(m), np.full(q.size, -s)],
            -np.inf,
            1 - s,
            q.size,
        )
    cons = rows.constraint(nv)
    return c, integrality, Bounds(lb, ub), ([cons] if cons is not None else []), off


def _mip_start(
    p: ProposalProblem, ix: _Index, off: dict[str, int], bounds: Bounds, chosen: np.ndarray
) -> np.ndarray:
    """Complete a selection of options to a full column vector of the MIP (see :func:`_build_mip`).

    ``y`` is the capped coverage, ``z`` the open sites, ``h`` the (site, service) pairs in use, ``u``
    the (municipality, sector) pairs in use, ``e`` marks municipalities without agreements, ``sl``
    the sector shortfall, ``N`` the agreements per municipality and ``g`` the cover groups in use
    (see :func:`_cover_groups`), so the vector satisfies every
    row when the selection satisfies the hard constraints, and its objective is ``-score``.
    """
    m, n = p.n_options, p.n_units
    v = np.zeros(off["end"])
    x = np.zeros(m)
    x[chosen] = 1.0
    v[:m] = x
    v[m : m + n] = np.minimum(1.0, p.coverage @ x)
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
    return np.clip(v, bounds.lb, bounds.ub)


@dataclass(frozen=True)
class _MipResult:
    """What :func:`solve_mip` needs from either HiGHS interface (minimisation sense)."""

    x: np.ndarray | None  # best solution found, ``None`` when none
    optimal: bool
    infeasible: bool  # the model itself is infeasible or unbounded
    dual_bound: float
    gap: float
    message: str


def _run_scipy(
    c: np.ndarray, integrality: np.ndarray, bounds: Bounds, cons: list, time_limit_s: float, mip_gap: float
) -> _MipResult:
    res = milp(
        c,
        integrality=integrality,
        bounds=bounds,
        constraints=cons,
        options={"time_limit": float(time_limit_s), "mip_rel_gap": float(mip_gap), "disp": False},
    )
    return _MipResult(
        x=res.x,
        optimal=res.status == 0,
        infeasible=res.status in (2, 3) or (res.status == 4 and res.x is None),
        dual_bound=float(res.mip_dual_bound) if res.mip_dual_bound is not None else math.nan,
        gap=float(res.mip_gap) if res.mip_gap is not None else math.nan,
        message=str(res.message),
    )


def _run_highspy(
    c: np.ndarray,
    integrality: np.ndarray,
    bounds: Bounds,
    cons: list,
    time_limit_s: float,
    mip_gap: float,
    start: np.ndarray | None,
) -> _MipResult:
    """Solve ``min c x`` with highspy, passing the CSC arrays directly and ``start`` as incumbent."""
    nv = c.size
    lp = highspy.HighsLp()
    lp.num_col_ = nv
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.asarray(bounds.lb, dtype=float)
    lp.col_upper_ = np.asarray(bounds.ub, dtype=float)
    if cons:
        a = sp.csc_matrix(cons[0].A)
        a.sort_indices()
        lp.num_row_ = a.shape[0]
        lp.row_lower_ = np.asarray(cons[0].lb, dtype=float)
        lp.row_upper_ = np.asarray(cons[0].ub, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = nv
        lp.a_matrix_.num_row_ = a.shape[0]
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype(float)
    else:
        lp.num_row_ = 0
        lp.a_matrix_.start_ = np.zeros(nv + 1, dtype=np.int32)
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous for k in integrality
    ]
    # The plain core class: the public ``highspy.Highs`` prints a banner before options can be set.
    h = highspy._core._Highs()
    for name, value in (
        ("output_flag", False),
        ("log_to_console", False),
        ("threads", _HIGHS_THREADS),
        ("time_limit", max(float(time_limit_s), 0.0)),
        ("mip_rel_gap", float(mip_gap)),
        ("random_seed", 0),
        *_HIGHS_EXTRA_OPTIONS.items(),
    ):
        h.setOptionValue(name, value)
    if h.passModel(lp) == highspy.HighsStatus.kError:
        msg = "HiGHS rejected the proposal model"
        raise ProposalError(msg)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=float)
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    ms = h.getModelStatus()
    info = h.getInfo()
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=float) if has_x else None
    status = highspy.HighsModelStatus
    optimal = ms == status.kOptimal
    dual_bound = float(info.mip_dual_bound) if has_x or optimal else math.nan
    if not np.isfinite(dual_bound):
        dual_bound = math.nan
    return _MipResult(
        x=x,
        optimal=optimal,
        infeasible=ms in (status.kInfeasible, status.kUnbounded, status.kUnboundedOrInfeasible),
        dual_bound=dual_bound,
        gap=float(info.mip_gap) if x is not None else math.nan,
        message=h.modelStatusToString(ms),
    )


def solve_mip(
    problem: ProposalProblem,
    *,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.01,
    backend: str = "scipy",
    start: Any = "greedy",
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

    Returns
    -------
    ProposalSolution
        Status ``"optimal"`` (within ``mip_gap``), ``"time_limit"`` (best solution found, with the
        bound and gap at the limit) or ``"infeasible"`` (no solution found in time; nothing chosen).
        ``solver`` is ``"highspy"`` or ``"highs"`` (scipy).

    Raises
    ------
    ProposalError
        When HiGHS reports the model infeasible or unbounded (contradictory inputs), or for an
        unknown backend or an infeasible explicit start.
    """
    t0 = time.perf_counter()
    if backend == "auto":
        backend = "highspy" if highspy is not None else "scipy"
    if backend not in ("highspy", "scipy"):
        msg = f"backend must be 'auto', 'highspy' or 'scipy', got {backend!r}"
        raise ProposalError(msg)
    if backend == "highspy" and highspy is None:
        msg = "backend='highspy' needs the highspy package (pip install highspy)"
        raise ProposalError(msg)
    ix = _build_index(problem)
    c, integrality, bounds, cons, off = _build_mip(problem, ix)
    if backend == "scipy":
        res = _run_scipy(c, integrality, bounds, cons, time_limit_s, mip_gap)
        solver = "highs"
    else:
        x0 = None
        if isinstance(start, str) and start == "greedy":
            x0 = _mip_start(problem, ix, off, bounds, _best_greedy(problem, ix)[1])
        elif start is not None:
            chosen0 = np.unique(np.asarray(start, dtype=np.int64))
            viol = _evaluate(problem, ix, chosen0).violations
            if viol or (chosen0.size and (bounds.ub[chosen0] < 0.5).any()):
                msg = f"the start selection breaks hard constraints: {'; '.join(viol) or 'overloaded option'}"
                raise ProposalError(msg)
            x0 = _mip_start(problem, ix, off, bounds, chosen0)
        remaining = time_limit_s - (time.perf_counter() - t0)
        res = _run_highspy(c, integrality, bounds, cons, max(remaining, 0.0), mip_gap, x0)
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
            bound,
            math.nan,
            "infeasible",
            solver,
            seconds,
            [f"HiGHS found no solution within {time_limit_s:g} s"],
        )
    chosen = np.flatnonzero(res.x[: problem.n_options] > 0.5)
    ev = _evaluate(problem, ix, chosen)
    status = "optimal" if res.optimal else "time_limit"
    gap = res.gap
    warns = _shortfall_warnings(ev, problem.min_sectors)
    if status == "time_limit":
        warns.insert(0, f"HiGHS stopped at the time limit ({time_limit_s:g} s) with gap {gap:.2%}")
    return _solution(ev, chosen, bound, gap, status, solver, seconds, warns)


def _solution(
    ev: Evaluation,
    chosen: np.ndarray,
    bound: float,
    gap: float,
    status: str,
    solver: str,
    seconds: float,
    warns: list[str],
) -> ProposalSolution:
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
        warnings=tuple(warns),
    )


# -------------------------------------------------------------------------------------------- greedy


def _greedy_pass(p: ProposalProblem, ix: _Index, rule: str) -> np.ndarray:
    n, m = p.n_units, p.n_options
    a_csc = p.coverage.tocsc()
    a_csr = p.coverage
    w = p.weight
    s_cov = np.zeros(n)  # uncapped coverage sum per unit
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
        # Update marginal coverage gains of options sharing units with j.
        lo, hi = a_csc.indptr[j], a_csc.indptr[j + 1]
        units = a_csc.indices[lo:hi]
        if units.size:
            old = s_cov[units].copy()
            new = old + a_csc.data[lo:hi]
            sub = a_csr[units]
            r = np.repeat(np.arange(units.size), np.diff(sub.indptr))
            val = sub.data
            wi = w[units][r]
            o, nw = old[r], new[r]
            delta = wi * (
                (np.minimum(1, nw + val) - np.minimum(1, nw)) - (np.minimum(1, o + val) - np.minimum(1, o))
            )
            gain += np.bincount(sub.indices, weights=delta, minlength=m)
            s_cov[units] = new
    return np.flatnonzero(chosen)


def _best_greedy(p: ProposalProblem, ix: _Index) -> tuple[Evaluation, np.ndarray, str]:
    """Run both greedy rules and return the better (evaluation, chosen, rule); ``net`` wins ties."""
    runs = []
    for rule in ("net", "ratio"):
        chosen = _greedy_pass(p, ix, rule)
        runs.append((_evaluate(p, ix, chosen), chosen, rule))
    return max(runs, key=lambda t: t[0].score)


def solve_greedy(problem: ProposalProblem, *, bound: float | None = None) -> ProposalSolution:
    """Choose options greedily by marginal weighted coverage, respecting capacities and budgets.

    Two passes are run and the better is kept: *net* (largest marginal gain minus cost) and
    *ratio* (largest marginal gain per unit of cost). Marginal gain counts each unit once
    (``min(1, ...)``), the hub bonus and, for the cross-sector rule, the sector penalty saved.
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
    ev, chosen, rule = _best_greedy(problem, ix)
    score = ev.score
    gap = math.nan
    if bound is not None and np.isfinite(bound):
        gap = (bound - score) / max(abs(bound), 1e-12)
    return _solution(
        ev,
        chosen,
        math.nan if bound is None else float(bound),
        gap,
        "greedy",
        f"greedy-{rule}",
        time.perf_counter() - t0,
        _shortfall_warnings(ev, problem.min_sectors),
    )


def solve(
    problem: ProposalProblem,
    *,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.01,
    max_mip_options: int = 20000,
) -> ProposalSolution:
    """Solve with the MIP when the instance is small enough, else (or on failure) greedily.

    Parameters
    ----------
    problem
        The instance.
    time_limit_s, mip_gap
        Passed to :func:`solve_mip`.
    max_mip_options
        Instances with more options are solved with :func:`solve_greedy` (with a warning).

    Returns
    -------
    ProposalSolution
        The MIP solution; the greedy one (status ``"greedy"``, with a warning) when the instance
        is too large, when HiGHS found no solution in time, or when the greedy beats a
        time-limited MIP incumbent.
    """
    if problem.n_options > max_mip_options:
        sol = solve_greedy(problem)
        note = (
            f"{problem.n_options} options exceed max_mip_options={max_mip_options}; "
            "used the greedy heuristic (no optimality bound)"
        )
        return _with_warning(sol, note)
    mip = solve_mip(problem, time_limit_s=time_limit_s, mip_gap=mip_gap)
    if mip.status == "optimal":
        return mip
    greedy = solve_greedy(problem, bound=mip.bound)
    if mip.status == "infeasible":
        return _with_warning(
            greedy, f"HiGHS found no solution within {time_limit_s:g} s; used the greedy heuristic"
        )
    if greedy.score > mip.score + 1e-9:
        return _with_warning(greedy, "the greedy heuristic beat the time-limited MIP incumbent")
    return mip


def _with_warning(sol: ProposalSolution, note: str) -> ProposalSolution:
    from dataclasses import replace

    return replace(sol, warnings=(note, *sol.warnings))


# ---------------------------------------------------------------------------------- location models


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


def _finite_pairs(cost: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """Return (row, col, value) of the reachable pairs: finite entries (dense) or stored entries (sparse)."""
    if sp.issparse(cost):
        coo = sp.coo_matrix(cost)
        keep = np.isfinite(coo.data)
        return (
            coo.row[keep].astype(np.int64),
            coo.col[keep].astype(np.int64),
            coo.data[keep].astype(float),
            coo.shape,
        )
    arr = np.asarray(cost, dtype=float)
    if arr.ndim != 2:
        msg = f"cost must be a 2-D matrix, got shape {arr.shape}"
        raise ProposalError(msg)
    r, c = np.nonzero(np.isfinite(arr))
    return r.astype(np.int64), c.astype(np.int64), arr[r, c], arr.shape


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
    r, c, v, (n, m) = _finite_pairs(cost)
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
    r, c, v, (n, m) = _finite_pairs(cost)
    w = np.asarray(weights, dtype=float).ravel()
    if w.size != n or not 0 < p <= m:
        msg = f"MCLP needs {n} weights and 0 < p <= {m}; got {w.size} weights and p={p}"
        raise ProposalError(msg)
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


def solve_pmedian(cost: Any, weights: Any, p: int, *, time_limit_s: float = 60.0) -> LocationSolution:
    """p-median: ``p`` facilities minimising the total weighted cost of serving every demand point.

    Parameters
    ----------
    cost
        ``n_demand x n_facility`` matrix (see :func:`solve_lscp`); unreachable pairs are not allowed
        as assignments.
    weights
        Demand weight per demand point.
    p
        Number of facilities to open (exactly ``p``).
    time_limit_s
        HiGHS time limit.

    Returns
    -------
    LocationSolution
        ``objective`` is ``sum_i weights_i * cost[i, allocation_i]``.

    Raises
    ------
    ProposalError
        When a demand point has no reachable facility or ``p`` is out of range.
    """
    t0 = time.perf_counter()
    r, c, v, (n, m) = _finite_pairs(cost)
    w = np.asarray(weights, dtype=float).ravel()
    if w.size != n or not 0 < p <= m:
        msg = f"p-median needs {n} weights and 0 < p <= {m}; got {w.size} weights and p={p}"
        raise ProposalError(msg)
    unreachable = np.setdiff1d(np.arange(n), r)
    if unreachable.size:
        msg = f"p-median is infeasible: demand points {unreachable[:10].tolist()} reach no facility"
        raise ProposalError(msg)
    k = r.size
    # Variables: x (m, binary), z (k assignment pairs, continuous in [0, 1]).
    zk = m + np.arange(k)
    assign = sp.csr_matrix((np.ones(k), (r, zk)), shape=(n, m + k))  # sum_j z_ij = 1
    link = sp.csr_matrix(
        (np.r_[np.ones(k), -np.ones(k)], (np.r_[np.arange(k), np.arange(k)], np.r_[zk, c])), shape=(k, m + k)
    )  # z_ij - x_j <= 0
    count = sp.csr_matrix((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))), shape=(1, m + k))
    a = sp.vstack([assign, link, count]).tocsr()
    lo = np.r_[np.ones(n), np.full(k, -np.inf), p]
    hi = np.r_[np.ones(n), np.zeros(k), p]
    res = _run_milp(
        np.r_[np.zeros(m), w[r] * v],
        np.r_[np.ones(m), np.zeros(k)],
        Bounds(0, 1),
        LinearConstraint(a, lo, hi),
        time_limit_s,
        "p-median",
    )
    open_ = res.x[:m] > 0.5
    alloc = _nearest_chosen(r, c, v, n, open_)
    obj = float(np.sum(w * _cost_at(r, c, v, alloc)))
    return LocationSolution(
        np.flatnonzero(open_),
        obj,
        alloc,
        "optimal" if res.status == 0 else "time_limit",
        float(res.mip_gap or 0.0),
        time.perf_counter() - t0,
    )


def _cost_at(r: np.ndarray, c: np.ndarray, v: np.ndarray, alloc: np.ndarray) -> np.ndarray:
    """Cost of each demand point's allocated facility (``inf`` when unallocated)."""
    out = np.full(alloc.size, np.inf)
    hit = alloc[r] == c
    out[r[hit]] = v[hit]
    return out

"""The partnership-proposal problem in array form, and the solution a solver returns.

Everything in the array core works on integer-coded arrays and (sparse) matrices, never on
geometry; :mod:`.build` turns gap cells, actors and candidate sites into a
:class:`ProposalProblem` and :mod:`.readback` turns the chosen option indices back into agreements.

The proposal model
------------------
Demand units ``i`` (a population cell or gap area for one service) and options ``j`` (an actor
offering a service in a mode at a site). With binary ``x_j`` (option chosen) and continuous
``y_i`` (covered fraction of unit ``i``) the model maximises::

    sum_i weight_i y_i  -  sum_j cost_j x_j  +  hub_bonus * sum_sites (services at the site - 1)
                        -  sector_penalty * sum_municipalities sector_shortfall

subject to

* coverage, each unit counted once: ``y_i = max_j A_ij x_j``, the best fraction a chosen option
  gives the unit, as in the gap analysis (two remote points at 0.5 cover a cell by 0.5, not 1).
  The MIP writes the maximum exactly through the distinct fractions of each unit (see
  :mod:`.mip`). Fixed options at one site with identical, fully covering columns (one service
  offered there by several actors) enter these rows through one group variable
  ``g <= min(z_s, sum_{j in group} x_j)`` instead of their sum: the same integer solutions, but a
  much tighter LP relaxation (half-open sites can no longer cover a unit fully through several
  half-chosen options);
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

The MIP that solves it is described in :mod:`.mip`; :mod:`.greedy` is the heuristic fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ProposalError

FIXED = 0
MOBILE = 1
REMOTE = 2

Budget = int | Mapping[int, int] | None

_TOL = 1e-9


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
        Covered fraction per unit: the largest ``A_ij`` of a chosen option ``j`` (0 when none).
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

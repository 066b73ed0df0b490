"""The price of the cross-sector rule: what ``proposals.min_sectors`` costs in coverage.

The rule asks each municipality's agreements to span several sectors, so that everyday security
rests on more than one kind of actor. It can cost coverage: a municipality may get a weaker
agreement from a third sector instead of a stronger one from the first two. One extra solve
without the rule (``min_sectors: 0``, everything else equal) measures it; ``run.json`` and the
console report both figures, so a coordinator sees what the rule costs.

The extra solve is skipped when the agreements chosen under the rule are already optimal without
it: when, scored without the rule, they come within a relative 10⁻⁴ of the bound of the LP
relaxation without the rule, no selection does better by more than that (far less than the gap
the solves themselves stop at, ``proposals.mip_gap``), the rule costs nothing, and their figures
are those without it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np

from ..config import Config
from ..coverage import GapResult
from ..network import Network
from .build import build_problem
from .evaluate import evaluate_selection
from .mip import lp_bound
from .propose import propose_partnerships
from .readback import ProposalResult


@dataclass(frozen=True)
class CrossSectorPrice:
    """Newly covered demand with the rule and without it (the same budgets and gaps)."""

    min_sectors: int
    covered_with_rule: float
    covered_without_rule: float
    agreements_with_rule: int
    agreements_without_rule: int
    status_without_rule: str

    @property
    def price(self) -> float:
        """Demand the rule leaves uncovered (0 or more when both solves are optimal)."""
        return self.covered_without_rule - self.covered_with_rule

    def facts(self) -> dict[str, Any]:
        """For ``run.json``."""
        out = {k: (round(v, 1) if isinstance(v, float) else v) for k, v in dataclasses.asdict(self).items()}
        return {**out, "price": round(self.price, 1)}


def newly_covered(result: ProposalResult) -> float:
    """Demand the agreements newly cover, summed over municipalities and services."""
    s = result.summary
    return float((s["uncovered_demand_before"] - s["uncovered_demand_after"]).sum())


_BOUND_TOL = 1e-4
"""Relative tolerance of the comparison with the LP bound."""


def _optimal_without_rule(
    free: Config,
    net: Network,
    gaps: GapResult,
    actors: gpd.GeoDataFrame | None,
    service_points: gpd.GeoDataFrame,
    result: ProposalResult,
    options: dict[str, Any],
) -> bool:
    """Whether the agreements of ``result`` are optimal without the rule (see the module
    docstring). The problem without the rule is the same but for ``min_sectors``, so the chosen
    options keep their numbers."""
    sol = result.solution
    if sol is None or actors is None or sol.status != "optimal":
        return False
    opts = {k: v for k, v in options.items() if k != "progress"}
    problem = build_problem(free, net, gaps, actors, service_points, **opts).problem
    if problem is None or (sol.chosen.size and sol.chosen.max() >= problem.n_options):
        return False
    score = evaluate_selection(problem, np.asarray(sol.chosen, dtype=np.int64)).score
    bound = lp_bound(problem)
    return bool(score >= bound - _BOUND_TOL * max(1.0, abs(bound)))


def cross_sector_price(
    config: Config,
    net: Network,
    gaps: GapResult,
    actors: gpd.GeoDataFrame | None,
    service_points: gpd.GeoDataFrame,
    result: ProposalResult,
    **options: Any,
) -> CrossSectorPrice | None:
    """Solve again without the cross-sector rule; None when the rule asks for one sector or none,
    or when nothing was proposed. ``options`` are those :func:`propose_partnerships` got."""
    rule = config.proposals.min_sectors
    if rule <= 1 or result.solution is None:
        return None
    free = config.model_copy(update={"proposals": config.proposals.model_copy(update={"min_sectors": 0})})
    free.base_dir, free.path = config.base_dir, config.path
    other = result
    if not _optimal_without_rule(free, net, gaps, actors, service_points, result, options):
        other = propose_partnerships(free, net, gaps, actors, service_points, **options)
    return CrossSectorPrice(
        min_sectors=rule,
        covered_with_rule=newly_covered(result),
        covered_without_rule=newly_covered(other),
        agreements_with_rule=len(result.proposals),
        agreements_without_rule=len(other.proposals),
        status_without_rule=other.status,
    )

"""The plans of a run, in order: the vehicles' weekly routes, then the agreements that close what
they leave, and the price of the cross-sector rule. :mod:`arjenturva.api` re-exports
:func:`propose_after_routes`; this module belongs to the API layer and calls it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .coverage import GapResult
    from .network import Network
    from .proposals import ProposalResult
    from .routes import RoutePlan
    from .workspace import Workspace

Progress = Callable[[str], None]


def propose_after_routes(
    ws: Workspace,
    *,
    network: Network,
    gaps: GapResult,
    progress: Progress | None = None,
    timed: Callable[[str, Callable[[], Any]], Any] | None = None,
    **options: Any,
) -> tuple[RoutePlan | None, ProposalResult]:
    """The plans of a workspace: its vehicles' weekly routes first (when it has vehicles), then the
    agreements that close what the routes leave, the vehicles' actors proposing no other mobile
    service. ``proposals_summary`` then keeps today as *before* and adds the coverage with the
    routes. ``options`` go to :func:`propose_partnerships`; ``timed(step, fn)`` times the steps."""
    from .api import find_gaps, plan_routes
    from .routes import with_routes
    from .routes.after import proposals_summary_with_routes

    def run(step: str, fn: Callable[[], Any]) -> Any:
        return fn() if timed is None else timed(step, fn)

    if ws.vehicles is None or not len(ws.vehicles):
        return None, run("proposals", lambda: _priced(ws, network, gaps, progress, options))
    plan = run("routes", lambda: plan_routes(ws, network=network, gaps=gaps, progress=progress))
    after_ws = with_routes(ws, plan.added_points)
    after = run("gaps_after_routes", lambda: find_gaps(after_ws, network=network, progress=progress))
    res = run("proposals", lambda: _priced(after_ws, network, after, progress, options))
    return plan, dataclasses.replace(res, summary=proposals_summary_with_routes(res.summary, gaps))


def _priced(
    ws: Workspace, network: Network, gaps: GapResult, progress: Progress | None, options: dict[str, Any]
) -> ProposalResult:
    """The agreements, with the price of the cross-sector rule (one more solve without it)."""
    from .api import propose_partnerships
    from .proposals.price import cross_sector_price

    res = propose_partnerships(ws, network=network, gaps=gaps, progress=progress, **options)
    if not ws.config.proposals.price_cross_sector_rule:
        return res
    if progress is not None:
        progress("proposals: the price of the cross-sector rule (a solve without it)")
    price = cross_sector_price(ws.config, network, gaps, ws.actors, ws.service_points, res, places=ws.places,
                               **options)
    return dataclasses.replace(res, cross_sector=price)

"""Proposing partnerships: build the problem, solve it, read the agreements back.

Gap cells become demand units; candidate (actor, service, mode, site, days) options are built
from gap-area sites, existing service points (co-location) and actor bases; their coverage is
computed on the road network with the same rules as the gap analysis (thresholds per area class,
mode weights), by batched multi-source sweeps. The array core (:mod:`.mip`, :mod:`.greedy`)
chooses the options; :mod:`.readback` turns them back into agreements a coordinator can read.
"""

from __future__ import annotations

import time
from dataclasses import replace

import geopandas as gpd

from ..config import Config
from ..coverage import GapResult
from ..errors import ProposalError
from ..network import Network
from ..schema import SECTORS
from .build import Progress, build_problem
from .rationale import _nothing_to_propose
from .readback import ProposalResult, _empty_result, _read_solution
from .solver import solve


def propose_partnerships(
    config: Config,
    net: Network,
    gaps: GapResult,
    actors: gpd.GeoDataFrame | None,
    service_points: gpd.GeoDataFrame,
    *,
    places: gpd.GeoDataFrame | None = None,
    services: list[str] | None = None,
    max_new_sites: int | None = None,
    max_mobile_routes: int | None = None,
    max_remote_points: int | None = None,
    progress: Progress | None = None,
) -> ProposalResult:
    """Propose cross-sector agreements that close the coverage gaps.

    Parameters
    ----------
    config
        Workspace config (``proposals`` section: budgets, sector rules, weights, solver limits).
    net
        The road network.
    gaps
        The gap analysis of the same workspace.
    actors, service_points, places
        Validated layers.
    services
        Service ids to propose for (default all).
    max_new_sites, max_mobile_routes, max_remote_points
        Override the config's budgets.

    Returns
    -------
    ProposalResult
        Agreements, new sites and coverage before/after. When there is nothing to propose the
        frames are empty and ``message`` says why.

    Raises
    ------
    ProposalError
        When the settings contradict each other.
    """
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    lang = config.language
    pc = config.proposals
    if pc.min_sectors > len(SECTORS):
        msg = f"proposals.min_sectors = {pc.min_sectors} exceeds the {len(SECTORS)} sectors that exist"
        raise ProposalError(msg)
    empty = _empty_result(gaps, lang)
    if actors is None or actors.empty:
        return replace(empty, message=_nothing_to_propose("no_actors_given", lang), reason="no_actors")
    built = build_problem(
        config,
        net,
        gaps,
        actors,
        service_points,
        places=places,
        services=services,
        max_new_sites=max_new_sites,
        max_mobile_routes=max_mobile_routes,
        max_remote_points=max_remote_points,
        progress=progress,
    )
    t_build = time.perf_counter() - t0
    problem, lookup = built.problem, built.lookup
    if problem is None or lookup is None:
        return replace(
            empty,
            message=_nothing_to_propose(built.reason, lang),
            reason=built.reason,
            timings={"build_s": t_build},
        )
    say(f"solving: {problem.n_units} demand units × {problem.n_options} options")
    t1 = time.perf_counter()
    sol = solve(problem, time_limit_s=pc.time_limit_s, mip_gap=pc.mip_gap, max_mip_options=pc.max_mip_options)
    t_solve = time.perf_counter() - t1
    result = _read_solution(config, problem, sol, lookup, actors, gaps, lang)
    result = replace(result, timings={"build_s": t_build, "solve_s": t_solve}, warnings=list(sol.warnings))
    if len(sol.chosen) == 0:
        result = replace(result, reason="at_capacity", message=_nothing_to_propose("at_capacity", lang))
    return result

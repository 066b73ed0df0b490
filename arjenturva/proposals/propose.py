"""Proposing partnerships: build the problem, solve it, read the agreements back.

Gap cells become demand units; candidate (actor, service, mode, site, days) options are built
from gap-area sites, existing service points (co-location) and actor bases; their coverage is
computed on the road network with the same rules as the gap analysis (thresholds per area class,
mode weights), by batched multi-source sweeps. The array core (:mod:`.mip`, :mod:`.greedy`)
chooses the options; :mod:`.readback` turns them back into agreements a coordinator can read.

No agreement is kept that would newly cover less than its minimum (``min_demand`` of its service
and mode): when a solution holds one (its people are covered by other agreements, typically one
chosen for the cross-sector rule), those options are taken out and the problem is solved again,
at most :data:`MAX_ROUNDS` times; any left then are dropped with a warning. Warnings name
municipalities by name and code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np

from .. import labels
from ..config import Config
from ..coverage import GapResult
from ..errors import ProposalError
from ..network import Network
from ..schema import SECTORS
from .build import ProblemLookup, Progress, build_problem
from .evaluate import _shortfall_warnings, _solution, evaluate_selection
from .options import MIN_PEOPLE
from .problem import ProposalProblem, ProposalSolution
from .rationale import _nothing_to_propose, municipality_warning
from .readback import ProposalResult, _empty_result, _read_solution
from .shares import covered_demand
from .solver import solve

MAX_ROUNDS = 3
"""Solves at most this many more times without the options that fell below their minimum."""


@dataclass(frozen=True)
class _Solved:
    """A solution of ``problem`` without some options: ``keep`` maps its option indices back."""

    problem: ProposalProblem
    keep: np.ndarray
    solution: ProposalSolution


def _without(problem: ProposalProblem, banned: np.ndarray) -> tuple[ProposalProblem, np.ndarray]:
    """The problem without the options ``banned``, and the indices of the options it keeps."""
    keep = np.setdiff1d(np.arange(problem.n_options), banned)
    columns = ["opt_actor", "opt_service", "opt_mode", "opt_site", "opt_cost", "opt_sector"]
    columns.append("opt_municipality")
    sub = replace(
        problem,
        coverage=problem.coverage[:, keep],
        **{name: getattr(problem, name)[keep] for name in columns},
    )
    return sub, keep


def _below_minimum(problem: ProposalProblem, lookup: ProblemLookup, chosen: np.ndarray) -> np.ndarray:
    """The chosen options whose share of the new coverage is below their minimum demand."""
    if chosen.size == 0:
        return chosen
    covered = covered_demand(problem.coverage, problem.demand, chosen)
    minimum = np.maximum(lookup.option_min_demand[chosen], MIN_PEOPLE)
    return chosen[covered < minimum - 1e-9]


def _solve(problem: ProposalProblem, lookup: ProblemLookup, config: Config) -> tuple[_Solved, np.ndarray]:
    """Solve, then solve again without options below their minimum (see the module docstring).

    Returns the last solve (option indices of the whole problem) and the options still below their
    minimum after :data:`MAX_ROUNDS` more solves (to be dropped).
    """
    pc = config.proposals

    def run(p: ProposalProblem) -> ProposalSolution:
        return solve(p, time_limit_s=pc.time_limit_s, mip_gap=pc.mip_gap, max_mip_options=pc.max_mip_options)

    keep = np.arange(problem.n_options)
    solved = _Solved(problem, keep, run(problem))
    banned = np.zeros(0, dtype=np.int64)
    for _ in range(MAX_ROUNDS + 1):
        small = _below_minimum(problem, lookup, keep[solved.solution.chosen])
        if small.size == 0 or _ == MAX_ROUNDS:
            return solved, small
        banned = np.union1d(banned, small)
        sub, keep = _without(problem, banned)
        solved = _Solved(sub, keep, run(sub))
    return solved, np.zeros(0, dtype=np.int64)  # pragma: no cover - the loop always returns


def _final(
    problem: ProposalProblem,
    lookup: ProblemLookup,
    solved: _Solved,
    small: np.ndarray,
    *,
    config: Config,
    names: dict[str, str],
    actor_names: np.ndarray,
) -> ProposalSolution:
    """The solution in the whole problem's option indices, without ``small``, with named warnings."""
    lang = config.language
    sol = solved.solution
    local = sol.chosen[~np.isin(solved.keep[sol.chosen], small)]
    ev = evaluate_selection(solved.problem, local)
    core = set(_shortfall_warnings(evaluate_selection(solved.problem, sol.chosen), problem.min_sectors))
    warnings = [w for w in sol.warnings if w not in core]
    opt = lookup.options
    covered = covered_demand(problem.coverage, problem.demand, solved.keep[sol.chosen])
    for j, c in zip(solved.keep[sol.chosen], covered, strict=True):
        if j in small:
            code = str(lookup.sites.municipality[opt.site[j]])
            warnings.append(
                municipality_warning(
                    labels.BELOW_MINIMUM,
                    lang,
                    code=code,
                    names=names,
                    service=labels.service_label(config, opt.service[j], lang),
                    mode=labels.label(labels.MODE, opt.mode[j], lang),
                    actor=str(actor_names[opt.actor[j]]),
                    covered=labels.format_number(c, lang),
                    minimum=labels.format_number(lookup.option_min_demand[j], lang),
                )
            )
    for mu, n in ev.sector_shortfall.items():
        code = str(lookup.municipalities[mu])
        warnings.append(
            municipality_warning(
                labels.SECTOR_SHORTFALL, lang, code=code, names=names, k=problem.min_sectors, n=n
            )
        )
    return _solution(
        ev,
        solved.keep[local],
        bound=sol.bound,
        gap=sol.mip_gap,
        status=sol.status,
        solver=sol.solver,
        seconds=sol.seconds,
        warnings=warnings,
    )


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
    if actors is None or actors.empty:
        message = _nothing_to_propose("no_actors_given", lang)
        return replace(_empty_result(gaps, lang), message=message, reason="no_actors")
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
            _empty_result(gaps, lang),
            message=_nothing_to_propose(built.reason, lang),
            reason=built.reason,
            timings={"build_s": t_build},
        )
    say(f"solving: {problem.n_units} demand units × {problem.n_options} options")
    t1 = time.perf_counter()
    solved, small = _solve(problem, lookup, config)
    munis = gaps.municipalities
    names = {str(c): str(n) for c, n in zip(munis["code"], munis["name"], strict=True)}
    actor_names = actors["name"].astype(str).to_numpy()
    sol = _final(problem, lookup, solved, small, config=config, names=names, actor_names=actor_names)
    t_solve = time.perf_counter() - t1
    result = _read_solution(config, problem, sol, lookup, actors, gaps, lang)
    result = replace(result, timings={"build_s": t_build, "solve_s": t_solve}, warnings=list(sol.warnings))
    if len(sol.chosen) == 0:
        result = replace(result, reason="at_capacity", message=_nothing_to_propose("at_capacity", lang))
    return result

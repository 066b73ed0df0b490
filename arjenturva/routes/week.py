"""The week composed from daily solves: greedy over the weekdays, Monday first.

Vehicles that offer the same services in the same operating area form a group, solved together
(several bases, several vehicles); the gap cells belong to the stops in the group's area
(:meth:`.demand.Demand.ownership`). Each weekday, each group's solve sees the prizes of the coverage
still open: a stop's prize on a later day is what one more visit day adds to its own cells, given
the days it already has (a health stop visited on Monday is worth another fifth of its people on
Tuesday, a library stop visited once a week is worth nothing more). After a solve its visits are
recorded, and the next solve sees them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..config import Config
from ..workspace.vehicles import WEEKDAYS
from .costs import RoutePoints
from .demand import Demand, WeekState
from .model import DayRoute, SolveFacts, Stops, Vehicle, Visit
from .solve import DayProblem, solve_day

Progress = Callable[[str], None]


def vehicle_groups(fleet: list[Vehicle]) -> list[tuple[int, ...]]:
    """Vehicles with the same services and operating area, each group in fleet order, groups sorted."""
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[int]] = {}
    for i, v in enumerate(fleet):
        groups.setdefault((tuple(sorted(v.services)), tuple(sorted(v.municipalities))), []).append(i)
    return [tuple(groups[k]) for k in sorted(groups)]


def _allowed(stops: Stops, municipalities: tuple[str, ...]) -> np.ndarray:
    if "*" in municipalities:
        return np.ones(len(stops), bool)
    return np.isin(stops.municipality.astype(str), list(municipalities))


def plan_week(
    config: Config,
    fleet: list[Vehicle],
    stops: Stops,
    points: RoutePoints,
    demand: Demand,
    *,
    seed: int,
    time_limit_s: float,
    progress: Progress | None = None,
) -> tuple[list[DayRoute], list[SolveFacts], WeekState]:
    """Every vehicle's route on every weekday it drives, and the coverage they give."""
    say = progress or (lambda _m: None)
    rc = config.routes
    state = WeekState(demand, len(stops))
    groups = vehicle_groups(fleet)
    work = [
        (d, g, tuple(v for v in group if day in fleet[v].weekdays))
        for d, day in enumerate(WEEKDAYS)
        for g, group in enumerate(groups)
    ]
    work = [w for w in work if w[2]]
    per_solve = time_limit_s / max(len(work), 1)
    routes: list[DayRoute] = []
    facts: list[SolveFacts] = []
    owned = [demand.ownership(_allowed(stops, fleet[group[0]].municipalities)) for group in groups]
    for d, g, vehicles in work:
        day = WEEKDAYS[d]
        services = tuple(s for s in fleet[vehicles[0]].services if s in demand.services)
        own = owned[g]
        prize = np.zeros(len(stops))
        stop_s = np.zeros(len(stops))
        for s in services:
            prize += state.prizes(s, d, own)
            stop_s = np.where(own.qualifies[s], np.maximum(stop_s, demand.services[s].stop_s), stop_s)
        offer = np.flatnonzero(prize > 0)
        if offer.size == 0:
            continue
        say(f"routes: {day}, {', '.join(fleet[v].vehicle_id for v in vehicles)}")
        problem = DayProblem(
            weekday=day,
            vehicles=vehicles,
            fleet=tuple(fleet),
            points=points,
            stops=offer,
            prize=prize[offer],
            stop_s=stop_s[offer],
            cost_per_m=np.array(
                [fleet[v].cost_per_km * config.proposals.travel_cost_per_km / 1000.0 for v in vehicles]
            ),
        )
        chosen, fact = solve_day(
            problem, seed=seed + 1000 * d + g, max_iterations=rc.max_iterations, time_limit_s=per_solve
        )
        facts.append(fact)
        for v in vehicles:
            if v not in chosen:
                continue
            visits = []
            for stop in chosen[v]:
                served = tuple(s for s in services if own.qualifies[s][stop])
                visits.append(Visit(stop, served, demand.people(stop, served, own), float(stop_s[stop])))
                for s in served:
                    state.visit(s, stop, d)
            routes.append(DayRoute(v, day, tuple(visits)))
    routes.sort(key=lambda r: (r.vehicle, WEEKDAYS.index(r.weekday)))
    return routes, facts, state

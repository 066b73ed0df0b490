"""One day's routes for a group of vehicles, solved by PyVRP as a prize-collecting VRP.

Each vehicle is a vehicle type of its own (one available) that starts and ends at its base (a depot;
several bases give a multi-depot problem), with its working day as the hard maximum duration
(``shift_duration``, no overtime), its distance limit (``max_distance``) and its cost per metre
(``unit_distance_cost``). Each stop with a prize is an optional client (``required=False``) with
the stop's duration (``service_duration``). PyVRP minimises the travel cost plus the prizes left
uncollected, that is, it maximises the prizes collected minus the cost of the km driven.

PyVRP works in integers: distances in whole metres and times in whole seconds, both rounded up (a
route within its limits in the solver is within them in the real figures), and prizes and costs in
one unit scaled so that the prizes stay within PyVRP's penalties (a second over the working day
costs more than any prize) and the smallest cost per metre is a few units (so it is rounded by
some per cent; the travel cost is small beside the prizes and mostly orders the stops). Pairs of
points the sweeps did not reach cost ten times the longest leg (never driven). The search stops after
``max_iterations`` iterations, so a seed gives the same routes every time; ``time_limit_s`` stops it
earlier on a slow machine or a large instance, which is then reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .costs import RoutePoints
from .model import SolveFacts, Vehicle

_PRIZE_UNITS_MAX = 1e8
"""Largest integer prize handed to PyVRP: with the penalty ten times that per unit of violation,
no prize is worth a second over the working day or a metre over the distance limit, and no
penalised route overflows PyVRP's 64-bit costs."""


@dataclass(frozen=True)
class DayProblem:
    """What one solve needs: the vehicles of the group, the stops on offer and their prizes."""

    weekday: str
    vehicles: tuple[int, ...]  # indices into ``fleet``
    fleet: tuple[Vehicle, ...]
    points: RoutePoints
    stops: np.ndarray  # candidate stop indices on offer
    prize: np.ndarray  # weighted newly covered demand of a visit, per stop on offer
    stop_s: np.ndarray  # how long a visit lasts, per stop on offer
    cost_per_m: np.ndarray  # per vehicle of the group, in the prize's unit


def _scale(cost_per_m: np.ndarray, prize: np.ndarray) -> float:
    """Integer units per unit of prize: the smallest cost per metre about 10 units (a tenth of a
    unit's rounding), and no prize above :data:`_PRIZE_UNITS_MAX`; without travel costs, one unit
    per metre is a thousandth of the largest prize per km (it only orders equal plans)."""
    top = float(prize.max()) if prize.size else 1.0
    pos = cost_per_m[cost_per_m > 0]
    if pos.size:
        return float(min(10.0 / pos.min(), _PRIZE_UNITS_MAX / top))
    return _PRIZE_UNITS_MAX / 10.0 / top


def _int_matrix(values: np.ndarray, far: float) -> np.ndarray:
    """Whole units rounded up; pairs the sweeps did not reach cost ``far`` (never driven)."""
    out = np.full(values.shape, int(far), dtype=np.int64)
    ok = np.isfinite(values)
    out[ok] = np.ceil(values[ok] - 1e-9).astype(np.int64)
    return out


def solve_day(
    problem: DayProblem, *, seed: int, max_iterations: int, time_limit_s: float
) -> tuple[dict[int, tuple[int, ...]], SolveFacts]:
    """The routes of the group's vehicles on one day.

    Returns
    -------
    (dict, SolveFacts)
        For each vehicle (index into the fleet) that drives, its stops in visiting order (candidate
        stop indices); and how the solve went.
    """
    from pyvrp import Client, Depot, Location, ProblemData, SolveParams, VehicleType, solve
    from pyvrp.PenaltyManager import PenaltyParams
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    pts = problem.points
    veh = [problem.fleet[v] for v in problem.vehicles]
    base_pts = pts.base_of[list(problem.vehicles)]
    depot_pts, depot_of = np.unique(base_pts, return_inverse=True)
    stop_pts = pts.n_bases + problem.stops
    idx = np.concatenate([depot_pts, stop_pts]).astype(np.int64)
    scale = _scale(problem.cost_per_m, problem.prize)
    locations = [Location(x=float(pts.x[i]), y=float(pts.y[i])) for i in idx]
    depots = [Depot(location=k) for k in range(depot_pts.size)]
    clients = [
        Client(
            location=depot_pts.size + k,
            service_duration=int(np.ceil(problem.stop_s[k])),
            prize=int(round(float(problem.prize[k]) * scale)),
            required=False,
        )
        for k in range(problem.stops.size)
    ]
    sub = np.ix_(idx, idx)
    dist, dur = pts.length_m[sub], pts.time_s[sub]
    far_m = 10.0 * max(float(np.max(dist[np.isfinite(dist)], initial=0.0)), 1000.0)
    far_s = 10.0 * max(float(np.max(dur[np.isfinite(dur)], initial=0.0)), max(v.max_duration_s for v in veh))
    types = []
    for k, v in enumerate(veh):
        d = int(depot_of.ravel()[k])
        types.append(
            VehicleType(
                num_available=1,
                start_depot=d,
                end_depot=d,
                shift_duration=int(np.floor(v.max_duration_s)),
                max_distance=int(min(np.floor(v.max_distance_m), far_m))
                if np.isfinite(v.max_distance_m)
                else np.iinfo(np.int64).max,
                unit_distance_cost=max(1, int(round(float(problem.cost_per_m[k]) * scale))),
                name=v.vehicle_id,
            )
        )
    distances: list[Any] = [_int_matrix(dist, far_m)]  # PyVRP's stubs type matrices as ndarray[int]
    durations: list[Any] = [_int_matrix(dur, far_s)]
    data = ProblemData(locations, clients, depots, types, distances, durations)
    top = max((c.prize for c in clients), default=1)
    params = SolveParams(penalty=PenaltyParams(max_penalty=max(1e5, 10.0 * top)))
    stop = MultipleCriteria([MaxIterations(max_iterations), MaxRuntime(time_limit_s)])
    res = solve(data, stop=stop, seed=seed, collect_stats=False, display=False, params=params)
    best = res.best
    routes: dict[int, tuple[int, ...]] = {}
    prizes = cost = 0.0
    offer = {int(s): k for k, s in enumerate(problem.stops)}
    if best.is_feasible():
        for r in best.routes():
            k = r.vehicle_type()
            visits = tuple(int(problem.stops[a.idx]) for a in r.schedule() if a.is_client())
            if not visits:
                continue
            routes[problem.vehicles[k]] = visits
            prizes += float(problem.prize[[offer[s] for s in visits]].sum())
            legs = [int(base_pts[k]), *(pts.n_bases + s for s in visits), int(base_pts[k])]
            cost += float(pts.length_m[legs[:-1], legs[1:]].sum()) * float(problem.cost_per_m[k])
    facts = SolveFacts(
        weekday=problem.weekday,
        vehicles=tuple(v.vehicle_id for v in veh),
        candidates=int(problem.stops.size),
        visits=sum(len(v) for v in routes.values()),
        iterations=int(res.num_iterations),
        runtime_s=float(res.runtime),
        time_limit_hit=bool(res.num_iterations < max_iterations),
        prizes=prizes,
        travel_cost=cost,
        feasible=bool(best.is_feasible()),
    )
    return routes, facts

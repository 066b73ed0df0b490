"""Yardsticks for the weekly mobile routes (benchmark and test helpers, never part of the package).

Two yardsticks measure what the route planner (:mod:`arjenturva.routes`) is worth:

* :func:`nearest_neighbour_day`, a simple daily heuristic in place of PyVRP: each vehicle leaves
  its base and drives to the nearest (road km) stop on offer that nobody visits that day yet, as
  long as it can still stop there and get back to its base within its working day and distance
  limit; the vehicles of a group move in turn, the one with the earliest clock first. It takes the
  planner's :class:`~arjenturva.routes.solve.DayProblem` and returns what
  :func:`~arjenturva.routes.solve.solve_day` returns, so :func:`plan_with_nearest_neighbour` runs
  the planner's whole week with it: the same candidate stops, prizes, costs (metres and seconds
  rounded up as PyVRP gets them), week composition and gap-rule evaluation after;
* :func:`one_stop_comparison`, today's one-stop mobile options (the partnership proposals' model:
  one stop visited ``d`` days a week) on the same budget as the routes: each vehicle gets as many
  stop-days a week as the days it drives routes, and the best set of one-stop options of its actor
  and services is chosen (an exact MIP); both are then evaluated with the gap rules.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from arjenturva.config import ScenarioPoint
from arjenturva.coverage import GapResult
from arjenturva.network import Network
from arjenturva.proposals import build_problem
from arjenturva.routes import RoutePlan, SolveFacts, fleet_of, plan_routes
from arjenturva.routes import week as _week
from arjenturva.routes.after import coverage_after
from arjenturva.routes.solve import DayProblem
from arjenturva.workspace import Workspace

# --- nearest-neighbour insertion ---------------------------------------------------------------


def nearest_neighbour_day(
    problem: DayProblem, *, seed: int, max_iterations: int, time_limit_s: float
) -> tuple[dict[int, tuple[int, ...]], SolveFacts]:
    """One day's routes of a group of vehicles by nearest-neighbour insertion (see the module
    docstring); the signature of :func:`arjenturva.routes.solve.solve_day` (seed, iterations and
    time limit unused: the heuristic is deterministic and quick)."""
    del seed, max_iterations, time_limit_s
    t0 = time.perf_counter()
    pts = problem.points
    n = len(problem.vehicles)
    stop_pts = pts.n_bases + problem.stops
    length = np.ceil(np.where(np.isfinite(pts.length_m), pts.length_m, np.inf) - 1e-9)
    dur = np.ceil(np.where(np.isfinite(pts.time_s), pts.time_s, np.inf) - 1e-9)
    stay = np.ceil(problem.stop_s)
    base = pts.base_of[list(problem.vehicles)]
    limit_s = np.array([np.floor(problem.fleet[v].max_duration_s) for v in problem.vehicles])
    limit_m = np.array([np.floor(problem.fleet[v].max_distance_m) for v in problem.vehicles])
    open_ = problem.prize > 0
    at = base.copy()
    clock = np.zeros(n)
    km = np.zeros(n)
    active = np.ones(n, bool)
    visits: list[list[int]] = [[] for _ in range(n)]
    while active.any():
        k = int(np.flatnonzero(active)[np.argmin(clock[active])])
        go_m, go_s = length[at[k], stop_pts], dur[at[k], stop_pts]
        back_m, back_s = length[stop_pts, base[k]], dur[stop_pts, base[k]]
        fits = open_ & (clock[k] + go_s + stay + back_s <= limit_s[k]) & (km[k] + go_m + back_m <= limit_m[k])
        if not fits.any():
            active[k] = False
            continue
        cand = np.flatnonzero(fits)
        j = int(cand[np.lexsort((cand, go_s[cand], go_m[cand]))[0]])
        visits[k].append(j)
        open_[j] = False
        clock[k] += go_s[j] + stay[j]
        km[k] += go_m[j]
        at[k] = stop_pts[j]
    routes: dict[int, tuple[int, ...]] = {}
    prizes = cost = 0.0
    for k, js in enumerate(visits):
        if not js:
            continue
        routes[problem.vehicles[k]] = tuple(int(problem.stops[j]) for j in js)
        prizes += float(problem.prize[js].sum())
        legs = [int(base[k]), *(int(stop_pts[j]) for j in js), int(base[k])]
        cost += float(pts.length_m[legs[:-1], legs[1:]].sum()) * float(problem.cost_per_m[k])
    facts = SolveFacts(
        weekday=problem.weekday,
        vehicles=tuple(problem.fleet[v].vehicle_id for v in problem.vehicles),
        candidates=int(problem.stops.size),
        visits=sum(len(v) for v in visits),
        iterations=0,
        runtime_s=time.perf_counter() - t0,
        time_limit_hit=False,
        prizes=prizes,
        travel_cost=cost,
    )
    return routes, facts


@contextmanager
def _nearest_neighbour_solver() -> Iterator[None]:
    """The planner's week with :func:`nearest_neighbour_day` as its daily solver."""
    with mock.patch.object(_week, "solve_day", nearest_neighbour_day):
        yield


def plan_with_nearest_neighbour(ws: Workspace, net: Network, gaps: GapResult) -> RoutePlan:
    """:func:`arjenturva.routes.plan_routes` with nearest-neighbour insertion as the daily solver."""
    with _nearest_neighbour_solver():
        return plan_routes(ws, net, gaps)


# --- the figures both are compared by --------------------------------------------------------


def objective(plan: RoutePlan) -> float:
    """The planner's objective: the weighted newly covered demand its solves collected (prizes, as
    the planner counts them) minus the cost of the km driven, over the week."""
    return float(sum(f.prizes - f.travel_cost for f in plan.solves))


def newly_covered(before: GapResult, after: GapResult, services: list[str]) -> pd.DataFrame:
    """Per service: demand and people newly covered, by the gap rules (before minus after)."""
    cols = ["uncovered_demand", "uncovered_population"]
    b = before.summary[before.summary["service"].isin(services)].groupby("service")[cols].sum()
    a = after.summary[after.summary["service"].isin(services)].groupby("service")[cols].sum()
    out = (b - a.reindex(b.index).fillna(b)).rename(
        columns={"uncovered_demand": "demand", "uncovered_population": "people"}
    )
    return out.reindex(services).fillna(0.0)


def plan_newly_covered(plan: RoutePlan) -> pd.DataFrame:
    """Per routed service: demand and people the plan newly covers (its ``routes_summary``)."""
    s = plan.summary
    out = pd.DataFrame(
        {
            "demand": s["uncovered_demand_before"] - s["uncovered_demand_after"],
            "people": s["uncovered_population_before"] - s["uncovered_population_after"],
            "service": s["service"],
        }
    )
    return out.groupby("service")[["demand", "people"]].sum()


# --- one-stop options on the same budget ----------------------------------------------------


@dataclass(frozen=True)
class OneStop:
    """One chosen one-stop option: a vehicle's stop at a proposal site, visited ``days`` a week."""

    vehicle_id: str
    site: str
    x: float
    y: float
    days: int
    services: tuple[str, ...]


@dataclass(frozen=True)
class BudgetComparison:
    """The routes against the best one-stop options with the same vehicle-days per week."""

    budget: dict[str, int]  # vehicle-days per week of each vehicle (the days it drives routes)
    routes: pd.DataFrame  # per service: demand and people the routes newly cover (gap rules)
    one_stop: pd.DataFrame  # the same for the chosen one-stop options
    chosen: tuple[OneStop, ...]
    candidates: int  # one-stop options (vehicle, site, days) to choose from
    mip_status: str


def _vehicle_options(
    ws: Workspace, net: Network, gaps: GapResult, vehicle_row: int, max_days: int
) -> tuple[pd.DataFrame, sparse.csr_matrix, pd.DataFrame]:
    """One vehicle's one-stop options: the proposals' mobile options of its actor and services,
    from its base, with a reach of half its distance limit and any whole number of days up to its
    budget; grouped by (site, days) into stops offering every service of the vehicle there.

    Returns the stops (site, x, y, days), the stops' coverage of the demand units (units × stops:
    newly covered demand of each unit) and the units (cell_id, service)."""
    vehicles, actors = ws.vehicles, ws.actors
    assert vehicles is not None and actors is not None
    v = vehicles.iloc[vehicle_row]
    actor = actors[actors["actor_id"] == v["actor_id"]].copy()
    actor["services"] = [tuple(v["services"])]
    actor["modes"] = [("mobile",)]
    if np.isfinite(v["max_distance_km"]):
        actor["max_travel_km"] = 0.5 * float(v["max_distance_km"])
    actor = actor.set_geometry([v.geometry], crs=actors.crs)
    proposals = ws.config.proposals.model_copy(update={"mobile_days": list(range(1, max_days + 1))})
    config = ws.config.model_copy(update={"proposals": proposals})
    built = build_problem(
        config, net, gaps, actor, ws.service_points, places=ws.places, services=list(v["services"])
    )
    if built.lookup is None:
        empty = pd.DataFrame(columns=["site", "x", "y", "days"])
        return empty, sparse.csr_matrix((0, 0)), pd.DataFrame(columns=["cell_id", "service"])
    lk = built.lookup
    opts = lk.options
    mobile = np.flatnonzero(np.array(opts.mode) == "mobile")
    site = np.array(opts.site)[mobile]
    days = np.array(opts.days)[mobile].astype(int)
    key = pd.DataFrame({"site": site, "days": days})
    stops = key.drop_duplicates().sort_values(["site", "days"]).reset_index(drop=True)
    stop_of = pd.MultiIndex.from_frame(stops).get_indexer(pd.MultiIndex.from_frame(key))
    pick = sparse.csr_matrix((np.ones(mobile.size), (mobile, stop_of)), shape=(opts.n_options, len(stops)))
    share = (lk.unit_coverage @ pick).tocsr()  # a unit is of one service: at most one option per stop
    gain = sparse.diags(lk.unit_demand * (1.0 - lk.unit_coverage_before)) @ share
    stops["x"] = lk.sites.x[stops["site"].to_numpy()]
    stops["y"] = lk.sites.y[stops["site"].to_numpy()]
    stops["site"] = lk.sites.name[stops["site"].to_numpy()]
    units = lk.access[["cell_id", "service"]].astype(str).reset_index(drop=True)
    return stops, sparse.csr_matrix(gain), units


def _choose(
    gain: sparse.csr_matrix, owner: np.ndarray, days: np.ndarray, budget: np.ndarray
) -> tuple[np.ndarray, str]:
    """The stops that maximise the newly covered demand, each unit counted by its best chosen stop,
    with each vehicle's stop-days within its budget: binary x per stop, z per (unit, stop) pair with
    z <= x and at most one z per unit."""
    coo = gain.tocoo()
    keep = coo.data > 0
    pu, ps, pv = coo.row[keep], coo.col[keep], coo.data[keep]
    n_x, n_z = gain.shape[1], pu.size
    c = -np.r_[np.zeros(n_x), pv]
    rows = []
    z = np.arange(n_z)
    link = sparse.csr_matrix(
        (np.r_[np.ones(n_z), -np.ones(n_z)], (np.r_[z, z], np.r_[n_x + z, ps])), shape=(n_z, n_x + n_z)
    )
    rows.append(LinearConstraint(link, -np.inf, 0.0))
    units, unit_of = np.unique(pu, return_inverse=True)
    once = sparse.csr_matrix((np.ones(n_z), (unit_of.ravel(), n_x + z)), shape=(units.size, n_x + n_z))
    rows.append(LinearConstraint(once, -np.inf, 1.0))
    spend = sparse.csr_matrix((days.astype(float), (owner, np.arange(n_x))), shape=(budget.size, n_x + n_z))
    rows.append(LinearConstraint(spend, -np.inf, budget.astype(float)))
    res = milp(
        c,
        constraints=rows,
        integrality=np.r_[np.ones(n_x), np.zeros(n_z)],
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": 60.0},
    )
    if res.x is None:
        return np.zeros(0, dtype=np.int64), str(res.message)
    return np.flatnonzero(res.x[:n_x] > 0.5), str(res.message)


def one_stop_comparison(
    ws: Workspace, net: Network, gaps: GapResult, plan: RoutePlan, *, every_day: bool = False
) -> BudgetComparison:
    """The routes of ``plan`` against the best one-stop options on the same budget.

    Each vehicle's budget is the number of days it drives routes in ``plan`` (with ``every_day``,
    every weekday it could drive); one vehicle-day is one stop-day of a one-stop option (a one-stop
    route visits one stop a day). Its options are the
    proposals' mobile options of its actor and services (:func:`_vehicle_options`); the best set
    over all vehicles (:func:`_choose`: most newly covered demand, the proposals' coverage model,
    travel costs ignored) becomes mobile service points offering the vehicle's services, and the
    gap analysis runs with them, as it does after the routes (:func:`.after.coverage_after`).
    """
    fleet = fleet_of(ws)
    driven = plan.routes.groupby("vehicle_id")["weekday"].nunique()
    budget = {v.vehicle_id: len(v.weekdays) if every_day else int(driven.get(v.vehicle_id, 0)) for v in fleet}
    services = sorted({s for v in fleet for s in v.services})
    all_units: dict[tuple[str, str], int] = {}
    parts = []
    for i, v in enumerate(fleet):
        if budget[v.vehicle_id] == 0:
            continue
        stops, gain, units = _vehicle_options(ws, net, gaps, i, budget[v.vehicle_id])
        if stops.empty:
            continue
        keys = list(zip(units["cell_id"], units["service"], strict=True))
        rows = np.array([all_units.setdefault(k, len(all_units)) for k in keys], dtype=np.int64)
        parts.append((i, stops, gain.tocoo(), rows))
    if not parts:
        empty = newly_covered(gaps, gaps, services)
        return BudgetComparison(budget, plan_newly_covered(plan), empty, (), 0, "no options")
    offsets = np.cumsum([0, *(len(p[1]) for p in parts)])
    gain = sparse.csr_matrix(
        (
            np.concatenate([p[2].data for p in parts]),
            (
                np.concatenate([p[3][p[2].row] for p in parts]),
                np.concatenate([p[2].col + off for p, off in zip(parts, offsets[:-1], strict=True)]),
            ),
        ),
        shape=(len(all_units), int(offsets[-1])),
    )
    owner = np.concatenate([np.full(len(p[1]), k) for k, p in enumerate(parts)])
    days = np.concatenate([p[1]["days"].to_numpy() for p in parts])
    caps = np.array([budget[fleet[p[0]].vehicle_id] for p in parts])
    picked, status = _choose(gain, owner, days, caps)
    chosen = []
    for j in picked:
        k = int(owner[j])
        i, stops, _, _ = parts[k]
        r = stops.iloc[int(j - offsets[k])]
        v = fleet[i]
        site = str(r["site"])
        chosen.append(OneStop(v.vehicle_id, site, float(r["x"]), float(r["y"]), int(r["days"]), v.services))
    points = [
        ScenarioPoint(
            point_id=f"one_stop_{n + 1}",
            name=c.site,
            services=list(c.services),
            mode="mobile",
            days_per_week=float(c.days),
            actor_id=fleet[[v.vehicle_id for v in fleet].index(c.vehicle_id)].actor_id,
            x=c.x,
            y=c.y,
        )
        for n, c in enumerate(chosen)
    ]
    after = coverage_after(ws, net, points, services) if points else gaps
    return BudgetComparison(
        budget=budget,
        routes=plan_newly_covered(plan).reindex(services).fillna(0.0),
        one_stop=newly_covered(gaps, after, services),
        chosen=tuple(chosen),
        candidates=int(offsets[-1]),
        mip_status=status,
    )


__all__ = [
    "BudgetComparison",
    "OneStop",
    "nearest_neighbour_day",
    "newly_covered",
    "objective",
    "one_stop_comparison",
    "plan_newly_covered",
    "plan_with_nearest_neighbour",
]

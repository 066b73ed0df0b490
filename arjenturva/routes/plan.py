"""The whole route planning step, :func:`plan_routes`: vehicles, candidate stops, demand, road
costs, the week of daily solves, the roads driven, and the coverage after the routes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..coverage import GapResult
from ..network import Network
from ..workspace import Workspace
from .after import coverage_after, points_frame, stop_points, summary_table
from .costs import route_points
from .demand import find_demand
from .model import RouteError, RoutePlan, Vehicle
from .paths import leg_paths
from .stops import candidate_stops, point_names
from .tables import route_legs, route_lines, routes_table, stops_layer
from .timetable import timetable_lines
from .week import plan_week

Progress = Callable[[str], None]


def fleet_of(ws: Workspace) -> list[Vehicle]:
    """The workspace's vehicles, with their actors' names and operating areas.

    Raises
    ------
    RouteError
        When the workspace has no vehicles.
    """
    if ws.vehicles is None or ws.vehicles.empty:
        msg = (
            "no vehicles to plan routes for. Fix: add `vehicles: {path: vehicles.csv}` under `inputs:` "
            "(see the README's Inputs)"
        )
        raise RouteError(msg)
    actors = ws.actors
    by_id = {} if actors is None else {a: i for i, a in enumerate(actors["actor_id"])}
    out = []
    for r in ws.vehicles.itertuples(index=False):
        a = by_id.get(r.actor_id)
        limit_s = float(r.hours_per_day) * 3600.0
        if np.isfinite(r.max_duration_min):
            limit_s = min(limit_s, float(r.max_duration_min) * 60.0)
        out.append(
            Vehicle(
                vehicle_id=str(r.vehicle_id),
                name=str(r.name),
                actor_id=str(r.actor_id),
                actor_name="" if a is None or actors is None else str(actors["name"].iloc[a]),
                x=float(r.geometry.x),
                y=float(r.geometry.y),
                weekdays=tuple(r.weekdays),
                max_duration_s=limit_s,
                max_distance_m=1000.0 * float(r.max_distance_km)
                if np.isfinite(r.max_distance_km)
                else np.inf,
                cost_per_km=float(r.cost_per_km),
                services=tuple(r.services),
                municipalities=("*",)
                if a is None or actors is None
                else tuple(actors["municipalities"].iloc[a]),
            )
        )
    return out


def plan_routes(
    ws: Workspace,
    net: Network,
    gaps: GapResult,
    *,
    time_limit_s: float | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
) -> RoutePlan:
    """Plan the weekly routes of the workspace's vehicles and the coverage they give.

    Candidate stops are villages, existing service points and gap-area sites (:mod:`.stops`); a
    stop's prize is the weighted coverage a visit adds to its own gap cells (:mod:`.demand`);
    PyVRP solves each weekday's routes of each group of vehicles (:mod:`.solve`, :mod:`.week`);
    the coverage after the routes comes from the gap analysis with the stops as mobile points
    (:mod:`.after`).

    Parameters
    ----------
    ws, net, gaps
        The workspace (with ``vehicles``), its road network and its gap analysis.
    time_limit_s, seed
        Override ``routes.time_limit_s`` and ``routes.seed`` of the config.

    Raises
    ------
    RouteError
        When there are no vehicles, or a base lies off the road network.
    """
    say = progress or (lambda _m: None)
    cfg = ws.config
    rc = cfg.routes
    lang = cfg.language
    fleet = fleet_of(ws)
    services = [s for s in cfg.services if any(s in v.services for v in fleet)]
    say("routes: candidate stops")
    top_speed = float(np.max(net.road_length_m / np.maximum(net.road_time_s, 1e-9), initial=1.0))
    reach = np.array([[v.x, v.y, 0.5 * min(v.max_distance_m, top_speed * v.max_duration_s)] for v in fleet])
    stops, stop_snap = candidate_stops(
        ws, gaps, net, services, spacing_m=1000.0 * rc.stop_spacing_km, lang=lang, reach=reach
    )
    warnings: list[str] = []
    say("routes: the demand the stops reach")
    demand = find_demand(cfg, net, gaps, stops, stop_snap, services)
    points = route_points(net, fleet, stops.x, stops.y, tolerance_m=cfg.network.snap_tolerance_m)
    limit = float(time_limit_s if time_limit_s is not None else rc.time_limit_s)
    use_seed = int(seed if seed is not None else rc.seed)
    routes, solves, state = plan_week(
        cfg, fleet, stops, points, demand, seed=use_seed, time_limit_s=limit, progress=progress
    )
    say("routes: the roads driven")
    paths = leg_paths(net, points.snapped, route_legs(routes, fleet, points))
    base_x = points.x[points.base_of]
    base_y = points.y[points.base_of]
    own = np.array([v.actor_name or v.vehicle_id for v in fleet], dtype=object)
    base_names = list(
        point_names(base_x, base_y, own, np.full(len(fleet), "base", dtype=object), ws.places, lang)
    )
    table = routes_table(routes, fleet, stops, points, base_names, day_start_s=rc.day_start_s())
    lines = route_lines(routes, fleet, points, paths, table)
    timetable = timetable_lines(table, lang)
    words = {(t.vehicle_id, t.weekday): t.text for t in timetable}
    lines["timetable"] = [
        words.get((v, d), "") for v, d in zip(lines["vehicle_id"], lines["weekday"], strict=True)
    ]
    people: dict[int, float] = {}
    for r in routes:
        for visit in r.visits:
            people[visit.stop] = max(people.get(visit.stop, 0.0), visit.people)
    added = stop_points(routes, stops, fleet)
    say("routes: coverage after the routes")
    after = coverage_after(ws, net, added, services) if added else gaps
    return RoutePlan(
        routes=table,
        lines=lines,
        stops=stops_layer(routes, fleet, stops, people),
        summary=summary_table(gaps, after, routes, stops, services),
        added_points=points_frame(added),
        solves=tuple(solves),
        predicted=state.newly_covered(),
        seed=use_seed,
        time_limit_s=limit,
        language=lang,
        timetable=tuple(timetable),
        warnings=tuple(warnings),
    )

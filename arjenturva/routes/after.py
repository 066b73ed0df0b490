"""Coverage after the routes, by the gap rules: the stops become mobile service points.

Each stop a route visits becomes a mobile service point offering the services served there, on as
many days a week as some vehicle stops there for them (a stop visited by two vehicles on Monday
counts one day). They are added to the workspace as a scenario adds points
(:func:`arjenturva.scenarios.apply_scenario`) and the gap analysis runs again
(:func:`arjenturva.coverage.find_gaps`): the figures after the routes are exactly those of
``arjenturva run --scenario`` with the same points.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import ScenarioConfig, ScenarioPoint
from ..coverage import GapResult, find_gaps
from ..network import Network
from ..scenarios import apply_scenario
from ..schema import CRS
from ..workspace import Workspace
from .model import DayRoute, Stops, Vehicle

SCENARIO = "arjenturva_routes"
"""Name of the scenario that adds the stops (never written to a config file)."""

SUMMARY_COLUMNS = (
    "municipality",
    "service",
    "demand",
    "covered_share_before",
    "covered_share_after",
    "uncovered_demand_before",
    "uncovered_demand_after",
    "uncovered_population_before",
    "uncovered_population_after",
    "uncovered_65_plus_before",
    "uncovered_65_plus_after",
    "stops",
    "visits_per_week",
)


def stop_points(routes: list[DayRoute], stops: Stops, fleet: list[Vehicle]) -> list[ScenarioPoint]:
    """The stops as mobile service points: one per stop and number of days (services visited on
    the same number of days share a point), ids ``route_<stop_id>`` (``-2``, ... for more)."""
    days: dict[int, dict[str, set[str]]] = {}
    actor: dict[int, str] = {}
    for r in routes:
        for v in r.visits:
            actor.setdefault(v.stop, fleet[r.vehicle].actor_id)
            for s in v.services:
                days.setdefault(v.stop, {}).setdefault(s, set()).add(r.weekday)
    out = []
    for stop in sorted(days):
        by_days: dict[int, list[str]] = {}
        for s, d in sorted(days[stop].items()):
            by_days.setdefault(len(d), []).append(s)
        for k, (n, services) in enumerate(sorted(by_days.items(), reverse=True)):
            out.append(
                ScenarioPoint(
                    point_id=f"route_{stops.stop_id[stop]}" + (f"-{k + 1}" if k else ""),
                    name=str(stops.name[stop]),
                    services=services,
                    mode="mobile",
                    days_per_week=float(n),
                    actor_id=actor[stop],
                    x=float(stops.x[stop]),
                    y=float(stops.y[stop]),
                )
            )
    return out


def points_frame(points: list[ScenarioPoint]) -> gpd.GeoDataFrame:
    """The added points as a layer (``point_id``, ``name``, ``services``, ``actor_id``, ``days_per_week``)."""
    return gpd.GeoDataFrame(
        {
            "point_id": [p.point_id for p in points],
            "name": [p.name for p in points],
            "services": [";".join(p.services) for p in points],
            "actor_id": [p.actor_id for p in points],
            "days_per_week": [p.days_per_week for p in points],
        },
        geometry=shapely.points([p.x for p in points], [p.y for p in points]) if points else [],
        crs=CRS,
    )


def _with_points(ws: Workspace, points: list[ScenarioPoint]) -> Workspace:
    """The workspace with ``points`` added as a scenario adds them."""
    cfg = ws.config
    scenario = ScenarioConfig(description="the stops of the weekly mobile routes", add_points=points)
    with_routes = cfg.model_copy(update={"scenarios": {**cfg.scenarios, SCENARIO: scenario}})
    with_routes.base_dir, with_routes.path = cfg.base_dir, cfg.path
    after = apply_scenario(dataclasses.replace(ws, config=with_routes), SCENARIO)
    return dataclasses.replace(after, config=cfg)


def coverage_after(
    ws: Workspace, net: Network, points: list[ScenarioPoint], services: list[str]
) -> GapResult:
    """The gap analysis of ``services`` with ``points`` added to the workspace's service points."""
    after = _with_points(ws, points)
    return find_gaps(
        after.config,
        net,
        after.population,
        after.service_points,
        after.municipalities,
        places=after.places,
        services=services,
    )


def with_routes(ws: Workspace, added_points: gpd.GeoDataFrame) -> Workspace:
    """The workspace as plans made after the routes see it: the route stops (``RoutePlan.added_points``)
    are mobile service points, and the actors whose vehicles drive the routes propose no other
    mobile service (their mobile service is the routes); their fixed and remote options stay."""
    points = [
        ScenarioPoint(point_id=str(r.point_id), name=str(r.name), services=str(r.services).split(";"),
                      mode="mobile", days_per_week=float(r.days_per_week), actor_id=str(r.actor_id),
                      x=float(r.geometry.x), y=float(r.geometry.y))
        for r in added_points.itertuples(index=False)
    ]
    after = _with_points(ws, points) if points else ws
    if after.actors is None or ws.vehicles is None:
        return after
    driving = set(ws.vehicles["actor_id"].astype(str))
    actors = after.actors.copy()
    actors["modes"] = [
        tuple(m for m in modes if m != "mobile") if str(aid) in driving else modes
        for aid, modes in zip(actors["actor_id"], actors["modes"], strict=True)
    ]
    return dataclasses.replace(after, actors=actors)


def summary_table(
    before: GapResult, after: GapResult, routes: list[DayRoute], stops: Stops, services: list[str]
) -> pd.DataFrame:
    """Coverage per municipality and routed service before and after the routes, with the stops
    serving the service in the municipality and their visits per week."""
    cols = [
        "municipality",
        "service",
        "demand",
        "covered_share",
        "uncovered_demand",
        "uncovered_population",
        "uncovered_65_plus",
    ]
    b = before.summary[before.summary["service"].isin(services)][cols]
    a = after.summary[after.summary["service"].isin(services)][cols]
    merged = b.merge(a, on=["municipality", "service"], suffixes=("_before", "_after"), how="left")
    visits = pd.DataFrame(
        [(stops.municipality[v.stop], s, v.stop) for r in routes for v in r.visits for s in v.services],
        columns=["municipality", "service", "stop"],
    )
    counts = visits.groupby(["municipality", "service"]).agg(
        stops=("stop", "nunique"), visits_per_week=("stop", "size")
    )
    merged = merged.merge(counts.reset_index(), on=["municipality", "service"], how="left")
    merged["demand"] = merged["demand_before"]
    for c in ("stops", "visits_per_week"):
        merged[c] = merged[c].fillna(0).astype(np.int64)
    return merged[list(SUMMARY_COLUMNS)].sort_values(["municipality", "service"]).reset_index(drop=True)


def proposals_summary_with_routes(summary: pd.DataFrame, today: GapResult) -> pd.DataFrame:
    """The proposals' before/after table when the proposals were made after the routes: ``before``
    becomes today's coverage (from ``today``'s summary), and the coverage the proposals started
    from, with the routes, moves to ``covered_share_routes`` and ``uncovered_demand_routes``."""
    out = summary.copy()
    out["covered_share_routes"] = out["covered_share_before"]
    out["uncovered_demand_routes"] = out["uncovered_demand_before"]
    cols = ["covered_share", "uncovered_demand", "uncovered_population", "uncovered_65_plus"]
    now = today.summary[today.summary["service"] != "ALL"].set_index(["municipality", "service"])[cols]
    key = pd.MultiIndex.from_frame(out[["municipality", "service"]])
    for c in cols:
        out[f"{c}_before"] = now[c].reindex(key).to_numpy()
    return out

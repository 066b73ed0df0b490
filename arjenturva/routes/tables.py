"""The routes as tables and layers of the results contract, and their writer.

``routes.csv`` holds one row per stop of each vehicle's day, its base first and last: arrival and
departure times from the working day's start, each leg's road km and minutes (the leg driven to
reach the row's place), the services offered and the residents of the stop's own gap cells. The
``routes`` layer draws each day's route along the roads, ``route_stops`` each stop once.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import results as R
from ..io import CsvDialect, ensure_writable
from ..results.staging import staged_folder
from ..schema import CRS
from ..workspace.vehicles import WEEKDAYS
from .costs import RoutePoints
from .model import DayRoute, RouteError, RoutePlan, Stops, Vehicle
from .paths import LegPath
from .timetable import BASE_STOP_ID


def hhmm(seconds: float) -> str:
    """Seconds after midnight as ``HH:MM`` (rounded to the minute)."""
    minutes = int(round(seconds / 60.0))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _legs(route: DayRoute, fleet: list[Vehicle], points: RoutePoints) -> list[int]:
    base = int(points.base_of[route.vehicle])
    return [base, *(points.stop_point(v.stop) for v in route.visits), base]


def route_legs(routes: list[DayRoute], fleet: list[Vehicle], points: RoutePoints) -> list[tuple[int, int]]:
    """Every leg (point, next point) the routes drive, each once."""
    legs = {
        (a, b)
        for r in routes
        for a, b in zip(_legs(r, fleet, points)[:-1], _legs(r, fleet, points)[1:], strict=True)
    }
    return sorted(legs)


def routes_table(
    routes: list[DayRoute],
    fleet: list[Vehicle],
    stops: Stops,
    points: RoutePoints,
    base_names: list[str],
    *,
    day_start_s: float,
) -> pd.DataFrame:
    """The rows of ``routes.csv``."""
    rows = []
    for r in routes:
        v = fleet[r.vehicle]
        seq = _legs(r, fleet, points)
        t = float(day_start_s)
        base = {"stop_id": BASE_STOP_ID, "place": base_names[r.vehicle], "services": "", "people_served": 0.0}
        common = {
            "vehicle_id": v.vehicle_id,
            "actor_id": v.actor_id,
            "weekday": r.weekday,
            "max_duration_min": v.max_duration_s / 60.0,
        }
        rows.append(
            {
                **common,
                **base,
                "stop_order": 0,
                "x": points.x[seq[0]],
                "y": points.y[seq[0]],
                "arrival": hhmm(t),
                "departure": hhmm(t),
                "leg_km": 0.0,
                "leg_min": 0.0,
            }
        )
        for k, (a, b) in enumerate(zip(seq[:-1], seq[1:], strict=True), start=1):
            leg_s = float(points.time_s[a, b])
            t += leg_s
            arrive = t
            last = k == len(seq) - 1
            if last:
                what = base
            else:
                visit = r.visits[k - 1]
                t += visit.stop_s
                what = {
                    "stop_id": str(stops.stop_id[visit.stop]),
                    "place": str(stops.name[visit.stop]),
                    "services": ";".join(visit.services),
                    "people_served": visit.people,
                }
            rows.append(
                {
                    **common,
                    **what,
                    "stop_order": k,
                    "x": points.x[b],
                    "y": points.y[b],
                    "arrival": hhmm(arrive),
                    "departure": hhmm(t),
                    "leg_km": float(points.length_m[a, b]) / 1000.0,
                    "leg_min": leg_s / 60.0,
                }
            )
    cols = [c.name for c in R.ROUTES.columns]
    frame = pd.DataFrame(rows, columns=cols)
    frame["stop_order"] = frame["stop_order"].astype(np.int64)
    return frame


def route_lines(
    routes: list[DayRoute],
    fleet: list[Vehicle],
    points: RoutePoints,
    paths: dict[tuple[int, int], LegPath],
    table: pd.DataFrame,
) -> gpd.GeoDataFrame:
    """The ``routes`` layer: each vehicle's day as one line along the roads."""
    rows, geoms = [], []
    for r in routes:
        v = fleet[r.vehicle]
        seq = _legs(r, fleet, points)
        coords = np.concatenate([paths[(a, b)].coords for a, b in zip(seq[:-1], seq[1:], strict=True)])
        keep = np.r_[True, np.any(np.abs(np.diff(coords, axis=0)) > 1e-9, axis=1)]
        geoms.append(shapely.LineString(coords[keep]) if keep.sum() >= 2 else None)
        part = table[(table["vehicle_id"] == v.vehicle_id) & (table["weekday"] == r.weekday)]
        start = int(part["departure"].iloc[0][:2]) * 60 + int(part["departure"].iloc[0][3:])
        end = int(part["arrival"].iloc[-1][:2]) * 60 + int(part["arrival"].iloc[-1][3:])
        rows.append(
            {
                "vehicle_id": v.vehicle_id,
                "actor_id": v.actor_id,
                "weekday": r.weekday,
                "stops": len(r.visits),
                "km": float(part["leg_km"].sum()),
                "duration_min": float(end - start),
                "people_served": float(part["people_served"].sum()),
                "timetable": "",
            }
        )
    return gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=[c.name for c in R.ROUTE_LINES.columns]),
        geometry=gpd.GeoSeries(geoms, crs=CRS),
        crs=CRS,
    )


def stops_layer(
    routes: list[DayRoute], fleet: list[Vehicle], stops: Stops, people: dict[int, float]
) -> gpd.GeoDataFrame:
    """The ``route_stops`` layer: each stop the routes use, once."""
    used: dict[int, dict[str, set[str]]] = {}
    for r in routes:
        for v in r.visits:
            entry = used.setdefault(v.stop, {"services": set(), "vehicles": set(), "weekdays": set()})
            entry["services"] |= set(v.services)
            entry["vehicles"].add(fleet[r.vehicle].vehicle_id)
            entry["weekdays"].add(r.weekday)
    order = sorted(used)
    frame = pd.DataFrame(
        {
            "stop_id": [str(stops.stop_id[s]) for s in order],
            "place": [str(stops.name[s]) for s in order],
            "municipality": [str(stops.municipality[s]) for s in order],
            "services": [";".join(sorted(used[s]["services"])) for s in order],
            "vehicles": [";".join(sorted(used[s]["vehicles"])) for s in order],
            "weekdays": [";".join(d for d in WEEKDAYS if d in used[s]["weekdays"]) for s in order],
            "days_per_week": [float(len(used[s]["weekdays"])) for s in order],
            "people_served": [people[s] for s in order],
        }
    )
    return gpd.GeoDataFrame(
        frame, geometry=shapely.points(stops.x[order], stops.y[order]) if order else [], crs=CRS
    )


def write_routes(plan: RoutePlan, out_dir: str | Path, *, force: bool = False) -> list[Path]:
    """Add ``routes.csv``, ``routes_summary.csv`` and the ``routes`` and ``route_stops`` layers to a
    results folder, rewritten as a whole (its other files kept) and its ``run.json`` noting them.

    Raises
    ------
    RouteError
        When the folder holds no gap analysis (run ``arjenturva gaps`` first).
    OutputExistsError
        When the folder holds routes and ``force`` is false.
    """
    target = Path(out_dir)
    if not (target / R.RUN_FILE).is_file():
        msg = f"{target}: no gap analysis to add the routes to. Fix: run `arjenturva gaps` (or `run`) first"
        raise RouteError(msg)
    ensure_writable([target / f for f in R.ROUTE_FILES], force=force)
    dialect: CsvDialect = (
        "excel-fi" if R.read_run(target).raw.get("csv_dialect") == "excel-fi" else "standard"
    )
    keep = [p.name for p in sorted(target.iterdir()) if p.name not in R.ROUTE_FILES]
    with staged_folder(target, force=True, keep=keep) as stage:
        write_route_results(plan, stage, dialect=dialect)
    names = [*R.ROUTE_FILES, R.GPKG_FILE, R.RUN_FILE]
    return [target / n for n in names]


def write_route_results(plan: RoutePlan, folder: Path, *, dialect: CsvDialect) -> list[Path]:
    """Write the routes' tables and layers into ``folder`` (a staging folder holding the gap
    analysis) and note them in its ``run.json``."""
    written = [
        R.write_table(plan.routes, R.ROUTES, folder, dialect=dialect),
        R.write_table(plan.summary, R.ROUTES_SUMMARY, folder, dialect=dialect),
        R.write_layers({R.ROUTE_LINES: plan.lines, R.ROUTE_STOPS: plan.stops}, folder, add=True),
    ]
    R.update_run(folder, routes=plan.facts())
    return written

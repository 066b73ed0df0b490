"""The report section "Viikkoaikataulu" / "Weekly timetable": the weekly mobile routes that stop
in the report's municipality (every route in the overall report), one line per vehicle and weekday
("Tiistai: 9.00 Ylä-Kaarna – 10.30 Palovaara – …"), in the report's language.

A municipality's lines name only its own stops: the rows of ``routes.csv`` whose ``stop_id`` is a
stop of the ``route_stops`` layer in the municipality, written by
:func:`arjenturva.routes.timetable_lines`. Nothing is shown when the folder has no routes.
Laid out by ``templates/report_timetable.html.j2`` with autoescaping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import results as R
from ..routes import timetable_lines
from .mapdata import read_actors

if TYPE_CHECKING:
    from ..config import Config


@dataclass(frozen=True)
class VehicleTimetable:
    """One vehicle's week: its heading (vehicle and operator) and a line per weekday."""

    vehicle_id: str
    operator: str
    lines: tuple[str, ...]


def read_route_stops(results_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``routes.csv`` and the ``stop_id`` and ``municipality`` of the ``route_stops`` layer, or
    None when the folder has no routes."""
    if not R.has_table(results_dir, R.ROUTES) or R.ROUTE_STOPS.layer not in R.list_layers(results_dir):
        return None
    routes = R.read_table(results_dir, R.ROUTES)
    stops = R.read_layer(results_dir, R.ROUTE_STOPS)
    where = pd.DataFrame(
        {"stop_id": stops["stop_id"].astype(str), "municipality": stops["municipality"].astype(str)}
    )
    return routes, where


def weekly_timetable(
    routes: pd.DataFrame, stops: pd.DataFrame, code: str | None, lang: str, operators: dict[str, str]
) -> list[VehicleTimetable]:
    """The timetable of the routes stopping in municipality ``code`` (every route without one):
    per vehicle (in id order), its weekdays' lines naming the stops in the municipality."""
    rows = routes.assign(stop_id=routes["stop_id"].astype(str))
    if code is not None:
        here = set(stops.loc[stops["municipality"] == str(code), "stop_id"])
        rows = rows.loc[rows["stop_id"].isin(here).to_numpy()]
    out: dict[str, list[str]] = {}
    actor: dict[str, str] = {}
    for line in timetable_lines(rows, lang):
        out.setdefault(line.vehicle_id, []).append(line.text)
        actor[line.vehicle_id] = line.actor_id
    return [VehicleTimetable(v, operators.get(actor[v], actor[v]), tuple(texts)) for v, texts in out.items()]


def timetable_context(results_dir: Path, config: Config, lang: str, *, code: str | None) -> dict[str, Any]:
    """``timetable``: the section's vehicles (None when the folder has no routes or none stops in
    the municipality)."""
    read = read_route_stops(Path(results_dir))
    if read is None:
        return {"timetable": None}
    actors = read_actors(config)
    operators = (
        {} if actors is None or "name" not in actors else {str(k): str(v) for k, v in actors["name"].items()}
    )
    vehicles = weekly_timetable(*read, code, lang, operators)
    return {"timetable": vehicles or None}

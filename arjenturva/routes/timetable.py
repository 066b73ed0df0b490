"""The weekly timetable of the routes in words: "Tiistai: 9.00 Ylä-Kaarna – 10.30 Palovaara – …".

Built from the rows of ``routes.csv`` only, so a report can print the timetable of a results folder
(filtered to one municipality's stops, in either language) without the planner.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import labels
from ..workspace.vehicles import WEEKDAYS

BASE_STOP_ID = "base"
"""``stop_id`` of the first and last row of a route (the vehicle's base)."""


@dataclass(frozen=True)
class TimetableLine:
    """One vehicle's stops on one weekday, as a line of text."""

    vehicle_id: str
    actor_id: str
    weekday: str
    text: str


def clock(hhmm: str, lang: str) -> str:
    """A ``routes.csv`` time (``09:05``) as a timetable writes it: ``9.05`` (Finnish), ``9:05`` (English)."""
    hours, minutes = str(hhmm).split(":")
    return f"{int(hours)}{'.' if lang == 'fi' else ':'}{minutes}"


def timetable_lines(routes: pd.DataFrame, lang: str) -> list[TimetableLine]:
    """A line per vehicle and weekday: the weekday, then each stop's arrival time and place.

    Parameters
    ----------
    routes
        Rows of ``routes.csv`` (as :func:`arjenturva.results.read_table` reads them, or a subset,
        e.g. the stops in one municipality); base rows are left out of the text.
    lang
        ``fi`` or ``en``.
    """
    out: list[TimetableLine] = []
    if routes.empty:
        return out
    stops = routes[routes["stop_id"] != BASE_STOP_ID]
    day_rank = {d: i for i, d in enumerate(WEEKDAYS)}
    keys = stops[["vehicle_id", "weekday"]].drop_duplicates()
    keys = keys.assign(_rank=keys["weekday"].map(day_rank)).sort_values(["vehicle_id", "_rank"])
    for vehicle, day in zip(keys["vehicle_id"], keys["weekday"], strict=True):
        part = stops[(stops["vehicle_id"] == vehicle) & (stops["weekday"] == day)].sort_values("stop_order")
        name = labels.label(labels.WEEKDAY, str(day), lang)
        text = " – ".join(
            f"{clock(t, lang)} {p}" for t, p in zip(part["arrival"], part["place"], strict=True)
        )
        out.append(
            TimetableLine(
                str(vehicle), str(part["actor_id"].iloc[0]), str(day), f"{name[:1].upper()}{name[1:]}: {text}"
            )
        )
    return out

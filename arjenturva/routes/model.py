"""What the phases of the route planner hand each other: vehicles, candidate stops, a day's routes
and the whole weekly plan, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ArjenturvaError
from .timetable import TimetableLine

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd


class RouteError(ArjenturvaError):
    """Routes cannot be planned as asked (no vehicles, a base off the road network, ...)."""


@dataclass(frozen=True)
class Vehicle:
    """One vehicle of a mobile actor, as the planner uses it."""

    vehicle_id: str
    name: str
    actor_id: str
    actor_name: str
    x: float  # base, EPSG:3067
    y: float
    weekdays: tuple[str, ...]  # codes, Monday first
    max_duration_s: float  # the working day, or a shorter route limit
    max_distance_m: float  # inf: no limit
    cost_per_km: float  # as in the actors table (cost per km driven)
    services: tuple[str, ...]
    municipalities: tuple[str, ...]  # the actor's operating area: codes, or ("*",) for all


@dataclass(frozen=True)
class Stops:
    """Candidate stops, one entry per stop in every array; ``x``/``y`` lie on the road."""

    stop_id: np.ndarray
    name: np.ndarray  # the place a timetable names (a village, a service point, or a relation to a place)
    kind: np.ndarray  # place, service_point or gap_area
    x: np.ndarray
    y: np.ndarray
    municipality: np.ndarray  # code of the municipality it lies in ("" outside every one)

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True)
class Visit:
    """A stop of a route: which candidate stop, which services it offers there."""

    stop: int  # index into :class:`Stops`
    services: tuple[str, ...]
    people: float  # residents of the gap cells the stop serves (its own cells, any of its services)
    stop_s: float  # how long the vehicle stays


@dataclass(frozen=True)
class DayRoute:
    """One vehicle's route on one weekday: base, visits in order, base."""

    vehicle: int  # index into the plan's vehicles
    weekday: str
    visits: tuple[Visit, ...]


@dataclass(frozen=True)
class SolveFacts:
    """How one solve of the week went (one weekday and one group of vehicles with the same services)."""

    weekday: str
    vehicles: tuple[str, ...]
    candidates: int  # stops with a prize
    visits: int
    iterations: int
    runtime_s: float
    time_limit_hit: bool
    prizes: float  # weighted newly covered demand the solver collected (as it counted it)
    travel_cost: float  # cost of the km driven, in the same unit
    feasible: bool = True

    def as_dict(self) -> dict[str, Any]:
        """For ``run.json``."""
        return {
            "weekday": self.weekday,
            "vehicles": list(self.vehicles),
            "candidates": self.candidates,
            "visits": self.visits,
            "iterations": self.iterations,
            "runtime_s": round(self.runtime_s, 3),
            "time_limit_hit": self.time_limit_hit,
            "prizes": round(self.prizes, 3),
            "travel_cost": round(self.travel_cost, 3),
            "feasible": self.feasible,
        }


@dataclass(frozen=True)
class RoutePlan:
    """The weekly routes of a workspace's vehicles and the coverage they give.

    Attributes
    ----------
    routes
        ``routes.csv``: one row per stop of each vehicle's day, the base first and last.
    lines
        The ``routes`` layer: one line per vehicle and weekday, along the roads driven.
    stops
        The ``route_stops`` layer: one point per stop used, with its services, days and vehicles.
    summary
        ``routes_summary.csv``: coverage per municipality and service before and after the routes.
    added_points
        The stops as mobile service points (what the gap analysis after the routes adds).
    solves
        How each daily solve went.
    predicted
        Newly covered demand per service as the planner counted it (for checks against ``summary``).
    timetable
        A line per vehicle and weekday in the config's language (:func:`.timetable.timetable_lines`).
    """

    routes: pd.DataFrame
    lines: gpd.GeoDataFrame
    stops: gpd.GeoDataFrame
    summary: pd.DataFrame
    added_points: gpd.GeoDataFrame
    solves: tuple[SolveFacts, ...]
    predicted: dict[str, float]
    seed: int
    time_limit_s: float
    language: str
    timetable: tuple[TimetableLine, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())

    def facts(self) -> dict[str, Any]:
        """What ``run.json`` records of the routes."""
        return {
            "seed": self.seed,
            "time_limit_s": self.time_limit_s,
            "routes": int(self.lines.shape[0]),
            "stops": int(self.stops.shape[0]),
            "km": round(float(self.lines["km"].sum()), 1) if len(self.lines) else 0.0,
            "solves": [s.as_dict() for s in self.solves],
            "time_limit_hit": any(s.time_limit_hit for s in self.solves),
            "warnings": list(self.warnings),
        }

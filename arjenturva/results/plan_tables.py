"""Tables of the plans made on top of the gap analysis: weekly mobile routes (`arjenturva routes`)
and resilience when an actor leaves (`arjenturva stress`)."""

from __future__ import annotations

from typing import Final

from .columns import _MUNI, _MUNI_NAME, _SERVICE, _SERVICE_LABEL, Table, _c

STRESS: Final = Table(
    "stress",
    "Resilience: the coverage each actor (and each sector) holds up alone. One row per actor or "
    "sector × service × municipality that would lose coverage if its service points closed, ranked.",
    (
        _c("rank", "int", "", "1 = the largest loss; actor rows and sector rows ranked separately"),
        _c("level", "str", "", "actor, or sector (every point of the sector's actors closed)"),
        _c("actor_id", "str", "", "the actor (empty on sector rows)"),
        _c("actor_name", "str", "", "the actor's name (empty on sector rows)"),
        _c("sector", "str", "", "the actor's sector"),
        _SERVICE,
        _SERVICE_LABEL,
        _MUNI,
        _MUNI_NAME,
        _c("points_closed", "int", "points", "the service points offering the service that close"),
        _c("demand_losing_coverage", "float", "people",
           "rise in the municipality's uncovered_demand for the service (partial coverage counted)"),
        _c("people_65_plus_losing_coverage", "float", "people", "rise in uncovered residents aged 65+"),
    ),
    csv="stress.csv",
)

_VEHICLE = _c("vehicle_id", "str", "", "vehicle id (the vehicles input)")
_ACTOR = _c("actor_id", "str", "", "the vehicle's actor")
_WEEKDAY = _c("weekday", "str", "", "mon, tue, wed, thu, fri, sat or sun")
_PLACE = _c("place", "str", "", "what a timetable names: a village, a service point or a relation to a place")

ROUTES: Final = Table(
    "routes",
    "Weekly mobile routes (`arjenturva routes`): one row per stop of a vehicle's day; the first and "
    "the last row of each route are its base.",
    (
        _VEHICLE, _ACTOR, _WEEKDAY,
        _c("stop_order", "int", "", "0 for the base at the start, then 1, 2, … in visiting order"),
        _c("stop_id", "str", "", "candidate stop id (S001, …); base for the vehicle's base"), _PLACE,
        _c("x", "float", "m", "the stop by the road, EPSG:3067 easting"),
        _c("y", "float", "m", "the stop by the road, EPSG:3067 northing"),
        _c("arrival", "str", "", "arrival time HH:MM (the base's first row: departure)"),
        _c("departure", "str", "", "departure time HH:MM (arrival + the stop's duration)"),
        _c("leg_km", "float", "km", "road km of the leg driven to reach this row's place"),
        _c("leg_min", "float", "min", "travel time of that leg"),
        _c("services", "str", "", "services offered at the stop (;-separated)"),
        _c("people_served", "float", "people", "residents of the gap cells the stop serves (nearest to it)"),
        _c("max_duration_min", "float", "min", "the route's limit: the working day or the vehicle's maximum"),
    ),
    csv="routes.csv",
)

ROUTES_SUMMARY: Final = Table(
    "routes_summary",
    "Coverage per municipality and routed service before and after the weekly routes, by the gap "
    "rules with the stops as mobile service points.",
    (
        _MUNI, _SERVICE, _c("demand", "float", "people", "residents of the service's demand group"),
        _c("covered_share_before", "float", "share 0–1", "covered share of demand today"),
        _c("covered_share_after", "float", "share 0–1", "covered share with the routes"),
        _c("uncovered_demand_before", "float", "people", "demand not covered today"),
        _c("uncovered_demand_after", "float", "people", "demand not covered with the routes"),
        _c("uncovered_population_before", "float", "people", "residents not covered today"),
        _c("uncovered_population_after", "float", "people", "residents not covered with the routes"),
        _c("uncovered_65_plus_before", "float", "people", "residents aged 65+ not covered today"),
        _c("uncovered_65_plus_after", "float", "people", "residents aged 65+ not covered with the routes"),
        _c("stops", "int", "", "stops offering the service in the municipality"),
        _c("visits_per_week", "int", "", "their visits per week (one per stop, day and vehicle)"),
    ),
    csv="routes_summary.csv",
)

ROUTE_LINES: Final = Table(
    "route_lines",
    "Each vehicle's route on a weekday, drawn along the roads it drives.",
    (
        _VEHICLE, _ACTOR, _WEEKDAY, _c("stops", "int", "", "stops on the route"),
        _c("km", "float", "km", "road km driven"),
        _c("duration_min", "float", "min", "from leaving the base to the return"),
        _c("people_served", "float", "people", "residents of the gap cells its stops serve"),
        _c("timetable", "str", "", "the day's timetable in the config's language"),
    ),
    layer="routes",
    geometry="LineString",
)

ROUTE_STOPS: Final = Table(
    "route_stops",
    "The stops of the weekly routes, each once.",
    (
        _c("stop_id", "str", "", "candidate stop id"), _PLACE, _MUNI,
        _c("services", "str", "", "services offered there (;-separated)"),
        _c("vehicles", "str", "", "vehicles stopping there (;-separated)"),
        _c("weekdays", "str", "", "days with a stop (;-separated, Monday first)"),
        _c("days_per_week", "float", "days", "days a week some vehicle stops there"),
        _c("people_served", "float", "people", "residents of the gap cells the stop serves"),
    ),
    layer="route_stops",
    geometry="Point",
)

"""Weekly multi-stop routes of mobile services (``arjenturva routes``), planned against the gaps.

A mobile actor's vehicles (``inputs.vehicles``) leave their base in the morning, stop at villages
and are back within the working day; each stop is served on some weekdays. The planner chooses the
stops, their days and each day's routes so as to cover the most weighted uncovered demand, minus
the cost of the km driven, and measures the coverage after the routes with the gap rules.

The modules behind this façade, one job each:

- :mod:`.model`: what the phases hand each other (vehicles, stops, routes, the plan);
- :mod:`.stops`: candidate stops on the road, and their names;
- :mod:`.demand`: the gap cells each stop reaches, each stop's own cells and a visit's prize;
- :mod:`.costs`: road distances and times between bases and stops (the network's sweeps);
- :mod:`.solve`: one day's routes of a group of vehicles with PyVRP (prize-collecting VRP);
- :mod:`.week`: the week composed greedily from daily solves;
- :mod:`.paths`: each leg's road path, for lines along the roads;
- :mod:`.after`: the stops as mobile points, and the gap analysis after the routes;
- :mod:`.tables`: ``routes.csv``, ``routes_summary.csv``, the layers, and :func:`write_routes`;
- :mod:`.timetable`: the timetable in words, from ``routes.csv`` rows (for the console and reports);
- :mod:`.plan`: :func:`plan_routes`, the whole step.
"""

from __future__ import annotations

from .after import with_routes
from .model import DayRoute, RouteError, RoutePlan, SolveFacts, Stops, Vehicle, Visit
from .plan import fleet_of, plan_routes
from .tables import write_route_results, write_routes
from .timetable import BASE_STOP_ID, TimetableLine, clock, timetable_lines

__all__ = [
    "BASE_STOP_ID",
    "DayRoute",
    "RouteError",
    "RoutePlan",
    "SolveFacts",
    "Stops",
    "TimetableLine",
    "Vehicle",
    "Visit",
    "clock",
    "fleet_of",
    "plan_routes",
    "timetable_lines",
    "with_routes",
    "write_route_results",
    "write_routes",
]

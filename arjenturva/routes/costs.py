"""Road distances and travel times between the route points (the vehicles' bases and the stops).

Both matrices come from the project's compiled sweeps (:func:`arjenturva.network.cost_matrix`, one
batched multi-source sweep per set of targets): the shortest road distance and the shortest travel
time between every two points, within what any vehicle could drive in a day. Points lie on the road
(:mod:`.stops`), so no access leg is driven. Pairs beyond that reach are ``inf``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..network import Network, Snapped, cost_matrix, snap_points
from .model import RouteError, Vehicle


@dataclass(frozen=True)
class RoutePoints:
    """The points a route can visit: the distinct bases first, then the stops."""

    x: np.ndarray
    y: np.ndarray
    snapped: Snapped
    n_bases: int
    base_of: np.ndarray  # the base point of each vehicle
    length_m: np.ndarray  # (points × points) shortest road distance, inf beyond reach
    time_s: np.ndarray  # (points × points) shortest travel time, inf beyond reach

    def stop_point(self, stop: int) -> int:
        """The point index of candidate stop ``stop``."""
        return self.n_bases + int(stop)


def _dense(n: int, matrix: object) -> np.ndarray:
    from scipy import sparse

    coo = sparse.coo_array(matrix)
    out = np.full((n, n), np.inf)
    out[coo.row, coo.col] = coo.data
    np.fill_diagonal(out, 0.0)
    return out


def route_points(
    net: Network, vehicles: list[Vehicle], stop_x: np.ndarray, stop_y: np.ndarray, *, tolerance_m: float
) -> RoutePoints:
    """Snap the bases to the road and cost every pair of bases and stops.

    Raises
    ------
    RouteError
        When a vehicle's base lies farther than ``tolerance_m`` from any road.
    """
    bases = np.array([[v.x, v.y] for v in vehicles], dtype=float).reshape(-1, 2)
    uniq, base_of = np.unique(np.round(bases, 3), axis=0, return_inverse=True)
    bsnap = snap_points(net, uniq, tolerance_m=tolerance_m)
    if (~bsnap.ok).any():
        off = sorted(
            {v.vehicle_id for v, b in zip(vehicles, base_of.ravel(), strict=True) if not bsnap.ok[b]}
        )
        msg = (
            f"the base of vehicle(s) {', '.join(off)} lies farther than {tolerance_m:g} m from any road. "
            "Fix: give the vehicle's base (x/y or lon/lat in the vehicles file) by a road"
        )
        raise RouteError(msg)
    x = np.concatenate([bsnap.x, stop_x])
    y = np.concatenate([bsnap.y, stop_y])
    pts = snap_points(net, np.column_stack([x, y]), tolerance_m=tolerance_m)
    speed = max(float(np.max(net.road_length_m / np.maximum(net.road_time_s, 1e-9))), 1.0)
    day_s = max((v.max_duration_s for v in vehicles), default=0.0)
    reach_m = max(min(v.max_distance_m, speed * v.max_duration_s) for v in vehicles) if vehicles else 0.0
    n = len(x)
    length = cost_matrix(net, pts, pts, weight="length", limit=float(reach_m))
    time = cost_matrix(net, pts, pts, weight="time", limit=float(day_s))
    return RoutePoints(
        x=x,
        y=y,
        snapped=pts,
        n_bases=len(uniq),
        base_of=base_of.ravel(),
        length_m=_dense(n, length),
        time_s=_dense(n, time),
    )

"""Access of every cell to one service: distance, time and nearest point by multi-source sweeps
of the network engine (never a loop per cell), and the coverage under each cell's thresholds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import ServiceConfig
from ..network import Network, Snapped, Weight, nearest_facility


@dataclass(frozen=True)
class ServiceAccess:
    """Access of every cell to one service (arrays aligned with the population rows)."""

    service: str
    distance_m: np.ndarray
    time_s: np.ndarray
    nearest_point: np.ndarray  # index into service_points, -1 when none
    coverage: np.ndarray
    threshold_m: np.ndarray
    threshold_s: np.ndarray


def thresholds_for(service: ServiceConfig, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) and time (s) thresholds per cell for its area class."""
    codes, uniq = pd.factorize(np.asarray(classes, dtype=object))
    labels = [str(c) for c in uniq] + ["None"]  # code -1: no class (the defaults apply)
    dm = np.array([service.threshold_m(c) for c in labels])[codes]
    ts = np.array([service.threshold_s(c) for c in labels])[codes]
    return dm, ts


def _subset(snap: Snapped, idx: np.ndarray) -> Snapped:
    return snap.subset(idx)


def service_access(
    net: Network,
    origins: Snapped,
    points: Snapped,
    point_weights: np.ndarray,
    service_id: str,
    service: ServiceConfig,
    classes: np.ndarray,
    *,
    access_speed_kmh: float,
    nearest_by: str = "distance",
) -> ServiceAccess:
    """Distance, time and coverage of every origin to one service.

    Parameters
    ----------
    net
        The road network.
    origins
        Snapped population cells.
    points
        Snapped service points offering the service (only those).
    point_weights
        How much each point counts (1 fixed, ``days/required`` mobile, the remote fraction).
    service_id, service
        The service and its catalogue entry.
    classes
        Area class per origin.

    Returns
    -------
    ServiceAccess
        Per-origin arrays; unreachable is ``inf``.
    """
    n = len(origins)
    thr_m, thr_s = thresholds_for(service, classes)
    counted = np.flatnonzero(point_weights > 0)
    if len(counted) == 0:
        inf = np.full(n, np.inf)
        return ServiceAccess(service_id, inf, inf.copy(), np.full(n, -1), np.zeros(n), thr_m, thr_s)
    pts = points.subset(counted)
    weights = point_weights[counted]
    by_len = nearest_facility(net, origins, pts, weight="length", access_speed_kmh=access_speed_kmh)
    by_time = nearest_facility(net, origins, pts, weight="time", access_speed_kmh=access_speed_kmh)
    dist = by_len.cost
    time = by_time.cost
    primary = by_len if nearest_by == "distance" else by_time
    nearest = np.where(primary.facility >= 0, counted[np.maximum(primary.facility, 0)], -1)
    groups = np.unique(weights)
    if len(groups) == 1:
        ok = np.isfinite(dist) & (dist <= thr_m) & (time <= thr_s)
        coverage = np.where(ok, groups[0], 0.0)
    else:
        coverage = np.zeros(n)
        lim_m = float(np.max(thr_m[np.isfinite(thr_m)])) if np.isfinite(thr_m).any() else None
        lim_s = float(np.max(thr_s[np.isfinite(thr_s)])) if np.isfinite(thr_s).any() else None
        metrics: tuple[tuple[Weight, float | None, np.ndarray], ...] = (
            ("length", lim_m, thr_m),
            ("time", lim_s, thr_s),
        )
        for w in groups[::-1]:  # highest weight first
            g = pts.subset(np.flatnonzero(weights == w))
            ok = np.ones(n, dtype=bool)
            for weight, limit, thr in metrics:
                # A sweep is only needed for a metric that has a threshold; the other one always passes.
                if limit is not None:
                    cost = nearest_facility(
                        net, origins, g, weight=weight, limit=limit, access_speed_kmh=access_speed_kmh
                    ).cost
                    ok &= np.isfinite(cost) & (cost <= thr)
            coverage = np.maximum(coverage, np.where(ok, w, 0.0))
    return ServiceAccess(service_id, dist, time, nearest, coverage, thr_m, thr_s)


def point_weight(service: ServiceConfig, modes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Coverage weight of each point for a service, by its mode and days per week."""
    return np.array([service.mode_weight(m, d) for m, d in zip(modes, days, strict=True)], dtype=float)


def _sweep_count(service: ServiceConfig, weights: np.ndarray) -> int:
    """Sweeps :func:`service_access` runs for a service whose counted points have ``weights``:
    length and time, plus one limited sweep per weight and metric with a threshold when the
    points count differently."""
    levels = np.unique(weights[weights > 0]).size
    metrics = bool(service.threshold_km) + bool(service.threshold_min)
    return 2 + (levels * metrics if levels > 1 else 0)


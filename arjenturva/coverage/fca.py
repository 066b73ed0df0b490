"""Capacity-aware access: the two-step floating catchment area (2SFCA) and its enhanced form
(E2SFCA) on a sparse cost matrix, for one service and for the ``accessibility`` table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from ..network import Network, Snapped, cost_matrix

E2SFCA_BAND_WEIGHTS = (1.0, 0.68, 0.22)
"""Luo & Qi (2009) weights for three equal distance bands of the catchment."""


def two_step_fca(
    cost: sparse.sparray,
    demand: np.ndarray,
    supply: np.ndarray,
    *,
    max_cost: float,
    weights: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two-step floating catchment area ratios.

    Parameters
    ----------
    cost
        Sparse ``n_demand × n_supply`` matrix of travel costs; only stored entries are reachable
        (a stored 0 is a zero cost).
    demand
        Demand per location (e.g. population).
    supply
        Capacity per supply point.
    max_cost
        Catchment size: pairs costing more are ignored.
    weights
        Distance-decay function of the cost (1 inside the catchment when None: classic 2SFCA).

    Returns
    -------
    (access, ratio)
        ``access`` per demand location (supply per person reachable) and the supply-to-demand
        ``ratio`` per supply point (``R_j``).
    """
    c = sparse.coo_array(cost)
    keep = c.data <= max_cost
    rows, cols, vals = c.row[keep], c.col[keep], c.data[keep]
    w = np.ones_like(vals) if weights is None else weights(vals)
    demand = np.nan_to_num(np.asarray(demand, dtype=float))
    supply = np.nan_to_num(np.asarray(supply, dtype=float))
    weighted_demand = np.bincount(cols, weights=demand[rows] * w, minlength=len(supply))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(weighted_demand > 0, supply / weighted_demand, 0.0)
    access = np.bincount(rows, weights=ratio[cols] * w, minlength=len(demand))
    return access, ratio


def e2sfca_weights(
    max_cost: float, band_weights: tuple[float, ...] = E2SFCA_BAND_WEIGHTS
) -> Callable[[np.ndarray], np.ndarray]:
    """Step weights over equal cost bands of ``[0, max_cost]`` for the enhanced 2SFCA."""
    edges = np.linspace(0, max_cost, len(band_weights) + 1)[1:]
    bw = np.asarray(band_weights, dtype=float)

    def fn(values: np.ndarray) -> np.ndarray:
        band = np.searchsorted(edges, values, side="left").clip(0, len(bw) - 1)
        return np.where(values <= max_cost, bw[band], 0.0)

    return fn


@dataclass(frozen=True)
class FcaResult:
    """2SFCA and E2SFCA of one service."""

    service: str
    point_index: np.ndarray
    """The points with a capacity (indices into all service points)."""
    catchment_m: float
    access_2sfca: np.ndarray
    """Supply per person reachable, per population cell (classic 2SFCA)."""
    ratio_2sfca: np.ndarray
    """Supply-to-demand ratio per point (classic 2SFCA)."""
    access_e2sfca: np.ndarray
    """Supply per person reachable, per population cell (enhanced 2SFCA)."""
    ratio_e2sfca: np.ndarray
    """Supply-to-demand ratio per point (enhanced 2SFCA)."""


def service_fca(
    net: Network,
    origins: Snapped,
    point_snap: Snapped,
    point_index: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    *,
    service_id: str,
    catchment_m: float,
    access_speed_kmh: float,
) -> FcaResult:
    """2SFCA and E2SFCA of one service over the road distances (up to ``catchment_m``) from every
    origin to the points ``point_index`` of ``point_snap`` (with ``capacity`` of all points)."""
    cm = cost_matrix(
        net, origins, point_snap.subset(point_index), weight="length", limit=catchment_m,
        access_speed_kmh=access_speed_kmh,
    )
    a2, r2 = two_step_fca(cm, demand, capacity[point_index], max_cost=catchment_m)
    ae, re_ = two_step_fca(
        cm, demand, capacity[point_index], max_cost=catchment_m, weights=e2sfca_weights(catchment_m)
    )
    return FcaResult(service_id, point_index, catchment_m, a2, r2, ae, re_)


def accessibility_table(
    results: list[FcaResult], point_ids: np.ndarray, capacity: np.ndarray
) -> tuple[pd.DataFrame | None, dict[str, np.ndarray]]:
    """The ``accessibility`` table (one row per service and point with a capacity; None without
    any) and the per-cell columns ``<service>_2sfca`` and ``<service>_e2sfca``."""
    frames = []
    columns: dict[str, np.ndarray] = {}
    for r in results:
        columns[f"{r.service}_2sfca"] = r.access_2sfca
        columns[f"{r.service}_e2sfca"] = r.access_e2sfca
        frames.append(
            pd.DataFrame(
                {
                    "service": r.service,
                    "point_id": point_ids[r.point_index],
                    "capacity": capacity[r.point_index],
                    "ratio_2sfca": r.ratio_2sfca,
                    "ratio_e2sfca": r.ratio_e2sfca,
                    "catchment_km": r.catchment_m / 1000,
                }
            )
        )
    return (pd.concat(frames, ignore_index=True) if frames else None), columns

"""Candidate sites for new service points, and which actors may offer a service where.

Sites are the largest gap areas of each service and municipality, the existing fixed service
points in municipalities with gaps (co-location) and the actors' bases; one site per location.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..coverage import GapResult
from ..schema import CRS


@dataclass(frozen=True)
class _Sites:
    """Candidate sites, one entry per site in every array."""

    x: np.ndarray
    y: np.ndarray
    name: np.ndarray
    kind: np.ndarray  # gap_area / colocation / actor_base
    municipality: np.ndarray
    gap_area: np.ndarray


def _place_name(places: gpd.GeoDataFrame | None, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Name of the nearest place to each point ("" when there are no places)."""
    if places is None or places.empty or len(x) == 0:
        return np.full(len(x), "", dtype=object)
    tree = cKDTree(np.column_stack([places.geometry.x, places.geometry.y]))
    _, k = tree.query(np.column_stack([x, y]))
    return places["name"].to_numpy()[k]


def _candidate_sites(
    gaps: GapResult,
    service_points: gpd.GeoDataFrame,
    actors: gpd.GeoDataFrame | None,
    places: gpd.GeoDataFrame | None,
    *,
    max_per_service: int,
) -> _Sites:
    """Gap-area sites (the ``max_per_service`` largest per service and municipality), co-location
    sites and actor bases in municipalities with gaps; gap-area sites take the nearest place name."""
    ga = gaps.gap_areas
    rows: list[tuple[float, float, str, str, str, str]] = []
    if not ga.empty:
        top = (
            ga.sort_values("uncovered_population", ascending=False)
            .groupby(["service", "municipality"], sort=False)
            .head(max_per_service)
        )
        for r in top.itertuples(index=False):
            label = r.place or r.gap_area_id
            rows.append((r.site_x, r.site_y, str(label), "gap_area", str(r.municipality), str(r.gap_area_id)))
    gap_munis = set(ga["municipality"]) if not ga.empty else set()
    for r in service_points.itertuples(index=False):
        if r.mode == "fixed" and r.municipality in gap_munis:
            rows.append((r.geometry.x, r.geometry.y, str(r.name), "colocation", str(r.municipality), ""))
    if actors is None:
        actors = gpd.GeoDataFrame(
            {"modes": [], "base_municipality": [], "name": []}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS
        )
    has_base = ~(actors.geometry.isna() | actors.geometry.is_empty)
    for r in actors[has_base].itertuples(index=False):
        if r.base_municipality in gap_munis and "fixed" in r.modes:
            rows.append((r.geometry.x, r.geometry.y, str(r.name), "actor_base", str(r.base_municipality), ""))
    if not rows:
        return _Sites(*(np.zeros(0) for _ in range(2)), *(np.zeros(0, dtype=object) for _ in range(4)))
    df = pd.DataFrame(rows, columns=["x", "y", "name", "kind", "municipality", "gap_area"])
    # One site per location (co-located points and bases at the same place are one site).
    df["kx"], df["ky"] = (df["x"] / 50).round(), (df["y"] / 50).round()
    df = df.drop_duplicates(["kx", "ky"]).reset_index(drop=True)
    names = df["name"].to_numpy(dtype=object)
    near = _place_name(places, df["x"].to_numpy(), df["y"].to_numpy())
    is_gap = (df["kind"] == "gap_area").to_numpy()
    names[is_gap] = np.where(near[is_gap] != "", near[is_gap], names[is_gap])
    return _Sites(
        df["x"].to_numpy(float),
        df["y"].to_numpy(float),
        names,
        df["kind"].to_numpy(object),
        df["municipality"].to_numpy(object),
        df["gap_area"].to_numpy(object),
    )


def _actor_allowed(actor: Any, service: str, sector_ok: bool, muni: str, mode: str) -> bool:
    """Whether an actor (a row of the actors layer) may offer ``service`` in ``mode`` in ``muni``."""
    if not sector_ok or service not in actor.services or mode not in actor.modes:
        return False
    return "*" in actor.municipalities or muni in actor.municipalities

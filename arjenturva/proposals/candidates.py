"""Candidate sites for new service points.

Sites are the largest gap areas of each service and municipality, the existing fixed service
points in municipalities with gaps (co-location) and the actors' bases; one site per location.
A gap-area site takes the name of the nearest named place when it lies within
:data:`PLACE_RADIUS_KM` of it; farther away it is named by its distance and compass direction
from that place (the words come from :func:`.rationale.site_label`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..coverage import GapResult
from ..schema import CRS

PLACE_RADIUS_KM = 1.0
"""A gap-area site within this straight-line distance of a named place is called by its name."""

COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
"""Compass directions, clockwise from north (the keys of :data:`arjenturva.labels.DIRECTION`)."""


@dataclass(frozen=True)
class _Sites:
    """Candidate sites, one entry per site in every array."""

    x: np.ndarray
    y: np.ndarray
    name: np.ndarray
    kind: np.ndarray  # gap_area / colocation / actor_base
    municipality: np.ndarray
    gap_area: np.ndarray
    place: np.ndarray  # the nearest named place ("" when there are no places)
    place_km: np.ndarray  # straight-line km from that place, one decimal (nan without places)
    bearing: np.ndarray  # compass direction from the place, "" unless a gap-area site lies beyond
    # PLACE_RADIUS_KM (its name is then its relation to the place)


def _compass(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """The compass direction (:data:`COMPASS`) of each vector (east, north)."""
    angle = np.degrees(np.arctan2(dx, dy)) % 360.0
    return np.array(COMPASS, dtype=object)[np.round(angle / 45.0).astype(int) % 8]


def _nearest_place(
    places: gpd.GeoDataFrame | None, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Name, straight-line km (one decimal) and compass direction from the nearest place to each point."""
    n = len(x)
    if places is None or places.empty or n == 0:
        return np.full(n, "", dtype=object), np.full(n, np.nan), np.full(n, "", dtype=object)
    px, py = places.geometry.x.to_numpy(), places.geometry.y.to_numpy()
    dist, k = cKDTree(np.column_stack([px, py])).query(np.column_stack([x, y]))
    names = places["name"].astype(str).to_numpy(dtype=object)[k]
    return names, np.round(dist / 1000.0, 1), _compass(x - px[k], y - py[k])


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
        empty = np.zeros(0, dtype=object)
        return _Sites(np.zeros(0), np.zeros(0), empty, empty, empty, empty, empty, np.zeros(0), empty)
    df = pd.DataFrame(rows, columns=["x", "y", "name", "kind", "municipality", "gap_area"])
    # One site per location (co-located points and bases at the same place are one site).
    df["kx"], df["ky"] = (df["x"] / 50).round(), (df["y"] / 50).round()
    df = df.drop_duplicates(["kx", "ky"]).reset_index(drop=True)
    names = df["name"].to_numpy(dtype=object)
    place, place_km, bearing = _nearest_place(places, df["x"].to_numpy(), df["y"].to_numpy())
    is_gap = (df["kind"] == "gap_area").to_numpy() & (place != "")
    names[is_gap] = place[is_gap]
    bearing = np.where(is_gap & (place_km > PLACE_RADIUS_KM), bearing, "").astype(object)
    return _Sites(
        df["x"].to_numpy(float),
        df["y"].to_numpy(float),
        names,
        df["kind"].to_numpy(object),
        df["municipality"].to_numpy(object),
        df["gap_area"].to_numpy(object),
        place,
        place_km,
        bearing,
    )

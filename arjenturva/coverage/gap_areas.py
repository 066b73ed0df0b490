"""Gap areas: neighbouring gap cells of one service and municipality merged into areas, each with
its people, its site (the cell nearest its centre, favouring populous cells), the access from
that site and its outline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ..config import Config
from ..schema import CRS
from .access import ServiceAccess
from .cells import _components
from .outlines import _grid_index, _grid_pairs, _is_grid, _outline_polygons, _union_outlines

GAP_AREA_COUNT_COLUMNS = (
    "population",
    "uncovered_population",
    "age_0_14",
    "age_15_64",
    "age_65_plus",
    "uncovered_65_plus",
    "sparse_population",
)
"""People counts of a gap area (blanked in exports when the area is below the suppression threshold)."""

GAP_AREA_COLUMNS = (
    "gap_area_id",
    "service",
    "municipality",
    "cells",
    *GAP_AREA_COUNT_COLUMNS,
    "place",
    "site_cell_id",
    "site_x",
    "site_y",
    "site_distance_m",
    "site_time_s",
    "nearest_point_id",
    "mean_coverage",
    "suppressed",
)
"""Columns of the gap-area table, in order (the geometry follows)."""


class GapParts(NamedTuple):
    """Gap areas of one service."""

    labels: np.ndarray
    """Area label per gap row (0..k-1, by first appearance)."""
    n_areas: int
    """Number of areas (k)."""
    outlines: list[Any] | None
    """The area outlines when the cells are grid squares (None otherwise)."""


@dataclass(frozen=True)
class GridCells:
    """Grid positions of the populated cells, when they are squares on one grid."""

    gi: np.ndarray
    """Grid column of every population row (0 for the unpopulated ones)."""
    gj: np.ndarray
    """Grid row of every population row (0 for the unpopulated ones)."""
    side: np.ndarray
    """(m, 2) population rows of populated cells that share a side."""
    x0: float
    """Left edge of the grid (m)."""
    y0: float
    """Bottom edge of the grid (m)."""


@dataclass(frozen=True)
class GapShared:
    """What every service's gap clusters and outlines reuse, found once (see :func:`_gap_shared`)."""

    n: int
    """Population rows."""
    near: np.ndarray
    """(m, 2) population rows of populated cells within the merge distance (same municipality)."""
    size: float
    """Cell size (m)."""
    grid: GridCells | None
    """Grid positions and side neighbours, when the cells are grid squares."""


def _merge_radius(config: Config, size: float) -> float:
    """Distance within which gap cells merge into one area: the configured one, at least a cell."""
    return max(config.gaps.merge_distance_m, 1.01 * size)


def _gap_shared(
    ox: np.ndarray, oy: np.ndarray, muni: np.ndarray, pop_geoms: np.ndarray, populated: np.ndarray,
    size: float, radius: float,
) -> GapShared:
    """What every service's gap clusters and outlines reuse, found once among the populated cells:
    the pairs within the merge distance (same municipality), and for grid cells their grid
    indices and the pairs sharing a side."""
    cells = np.flatnonzero(populated)
    _, reg = np.unique(np.asarray(muni)[cells], return_inverse=True)
    cx, cy = ox[cells], oy[cells]
    span = float(max(np.ptp(cx), np.ptp(cy))) + 4 * radius + 1.0 if cells.size else 1.0
    tree = cKDTree(np.column_stack([cx + reg.ravel() * span, cy]) if cells.size else np.zeros((0, 2)))
    if cells.size > 2000:
        # Guard: the pairs within the radius, estimated from a sample, must fit in memory (about
        # 48 bytes a pair at the peak of query_pairs and the indexing below).
        from ..errors import ArjenturvaError

        sample = np.random.default_rng(0).choice(cells.size, 2000, replace=False)
        found = tree.query_ball_point(tree.data[sample], radius, return_length=True)
        pairs = float(np.mean(found) - 1) * cells.size / 2
        need = 48 * pairs
        try:
            with open("/proc/meminfo") as f:
                avail = next(float(ln.split()[1]) * 1024 for ln in f if ln.startswith("MemAvailable:"))
        except (OSError, StopIteration, ValueError, IndexError):
            avail = 8e9
        if need > avail / 2:
            ok_m = radius * (avail / 2 / need) ** 0.5
            msg = (
                f"gap areas: pairing the {cells.size:,} populated cells within {radius:,.0f} m of each "
                f"other needs about {need / 1e9:.1f} GB of memory ({pairs:,.0f} pairs), more than half "
                f"of the {avail / 1e9:.1f} GB available. Fix: lower `gaps.merge_distance_m` in the "
                f"config (to about {ok_m:,.0f} m or less), or aggregate the population to a coarser "
                "grid (e.g. 1 km cells)"
            )
            raise ArjenturvaError(msg)
    near = cells[tree.query_pairs(radius, output_type="ndarray")].reshape(-1, 2)
    geoms = pop_geoms[cells]
    grid = None
    if cells.size and _is_grid(geoms):
        gi, gj = _grid_index(geoms, size)
        b = shapely.bounds(geoms)
        full_i = np.zeros(len(ox), np.int64)
        full_j = np.zeros(len(ox), np.int64)
        full_i[cells], full_j[cells] = gi, gj
        grid = GridCells(gi=full_i, gj=full_j, side=cells[_grid_pairs(gi, gj)],
                         x0=float(b[:, 0].min()), y0=float(b[:, 1].min()))
    return GapShared(n=len(ox), near=near, size=size, grid=grid)


def _pair_edges(row_of: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``pairs`` of population rows whose both ends are gap rows, as gap-row edges."""
    a, b = row_of[pairs[:, 0]], row_of[pairs[:, 1]]
    ok = (a >= 0) & (b >= 0)
    return a[ok], b[ok]


def _service_gap_parts(gpos: np.ndarray, shared: GapShared) -> GapParts:
    """Clusters of one service's gap cells (rows ``gpos`` of the population) and their outlines."""
    n = gpos.size
    if n == 0:
        return GapParts(np.zeros(0, np.int64), 0, [])
    row_of = np.full(shared.n, -1, np.int64)
    row_of[gpos] = np.arange(n)
    labels = _components(n, *_pair_edges(row_of, shared.near))
    # Renumber labels by first appearance (the order groupby(sort=False) gave).
    _, first_idx, lab = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty_like(first_idx)
    rank[np.argsort(first_idx, kind="stable")] = np.arange(first_idx.size)
    lab = rank[lab.ravel()].astype(np.int64)
    k = int(first_idx.size)
    grid = shared.grid
    if grid is None:
        return GapParts(lab, k, None)
    src, dst = _pair_edges(row_of, grid.side)
    same = lab[src] == lab[dst]  # neighbours across a municipality border stay apart
    comp = _components(n, src[same], dst[same])
    gi, gj = grid.gi[gpos], grid.gj[gpos]
    return GapParts(lab, k, _outline_polygons(gi, gj, comp, lab, k, grid.x0, grid.y0, shared.size))


def _area_labels(
    gsvc: np.ndarray, svc_names: np.ndarray, parts: dict[str, GapParts]
) -> tuple[np.ndarray, int, list[list[Any] | None]]:
    """Area label of every gap row over all services, the number of areas and the outlines of
    each service's areas: the rows of one service are contiguous, so its labels follow those of
    the services before it."""
    starts = np.r_[0, np.flatnonzero(gsvc[1:] != gsvc[:-1]) + 1]
    lab_parts, geom_parts = [], []
    k = 0
    for a in starts:
        lab_s, k_s, geoms_s = parts[str(svc_names[gsvc[a]])]
        lab_parts.append(lab_s + k)
        geom_parts.append(geoms_s)
        k += k_s
    return np.concatenate(lab_parts), k, geom_parts


def _area_sites(
    lab: np.ndarray, k: int, x: np.ndarray, y: np.ndarray, w: np.ndarray, popv: np.ndarray, size: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre of every area (weighted by the uncovered people ``w``, a plain mean without them)
    and its site: the gap row with the lowest score, near the centre and populous (the first
    such row on ties)."""

    def s(v: np.ndarray) -> np.ndarray:
        return np.bincount(lab, weights=np.asarray(v, dtype=float), minlength=k)

    cnt = np.bincount(lab, minlength=k)
    wsum = s(w)
    use_w = wsum > 0
    cx = np.where(use_w, s(w * x) / np.where(use_w, wsum, 1), s(x) / cnt)
    cy = np.where(use_w, s(w * y) / np.where(use_w, wsum, 1), s(y) / cnt)
    score = ((x - cx[lab]) ** 2 + (y - cy[lab]) ** 2) / size**2 - np.log1p(popv)
    score = np.nan_to_num(score, nan=np.inf)
    best = np.full(k, np.inf)
    np.minimum.at(best, lab, score)
    cand = np.flatnonzero(score == best[lab])
    site = np.full(k, lab.size, np.int64)
    np.minimum.at(site, lab[cand], cand)
    return cx, cy, site


def _nearest_places(places: gpd.GeoDataFrame | None, cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """Name of the place nearest each area centre ("" without places)."""
    if places is None or not len(places):
        return np.full(len(cx), "", dtype=object)
    tree = cKDTree(np.column_stack([places.geometry.x, places.geometry.y]))
    _, kk = tree.query(np.column_stack([cx, cy]))
    return places["name"].astype(str).to_numpy()[kk]


def _site_access(
    sid: np.ndarray, spos: np.ndarray, results: dict[str, ServiceAccess], point_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance, time and nearest point id from each area's site (service ``sid``, population row
    ``spos``)."""
    k = len(sid)
    dist = np.empty(k)
    tim = np.empty(k)
    near = np.empty(k, dtype=object)
    for s_ in np.unique(sid):
        m = sid == s_
        acc = results[s_]
        dist[m] = acc.distance_m[spos[m]]
        tim[m] = acc.time_s[spos[m]]
        npnt = acc.nearest_point[spos[m]]
        near[m] = [point_ids[i] if i >= 0 else None for i in npnt]
    return dist, tim, near


def _number_areas(out: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sort the areas (service, municipality, most uncovered people first) and give them ids
    ``<service>-<municipality>-<nnn>``."""
    out = out.sort_values(
        ["service", "municipality", "uncovered_population"], ascending=[True, True, False], kind="stable"
    )
    out.insert(0, "gap_area_id", "")
    out["gap_area_id"] = (
        out["service"]
        + "-"
        + out["municipality"]
        + "-"
        + (out.groupby(["service", "municipality"]).cumcount() + 1).map("{:03d}".format)
    )
    return out.reset_index(drop=True)


def _gap_areas(
    gaps: gpd.GeoDataFrame,
    gpos: np.ndarray,
    gsvc: np.ndarray,
    ox: np.ndarray,
    oy: np.ndarray,
    size: float,
    places: gpd.GeoDataFrame | None,
    pts: gpd.GeoDataFrame,
    results: dict[str, ServiceAccess],
    config: Config,
    parts: dict[str, GapParts],
) -> gpd.GeoDataFrame:
    """Merge neighbouring gap cells (same service and municipality) into gap areas, vectorised.

    ``gpos`` is the population row of every gap row and ``gsvc`` its service as a position in
    ``results``; the rows of one service are contiguous. ``parts`` holds the clusters (and grid
    outlines) of each service, from the task that swept it (:func:`_service_gap_parts`); ``size``
    is the cell size.
    """
    if gaps.empty:
        return gpd.GeoDataFrame(columns=[*GAP_AREA_COLUMNS, "geometry"], geometry="geometry", crs=CRS)
    svc_names = np.array(list(results), dtype=object)
    lab, k, geom_parts = _area_labels(gsvc, svc_names, parts)

    def s(v: Any) -> np.ndarray:
        return np.bincount(lab, weights=np.asarray(v, dtype=float), minlength=k)

    popv = gaps["population"].to_numpy(float)
    w = gaps["uncovered_population"].to_numpy(float)
    covv = gaps["coverage"].to_numpy(float)
    a65 = gaps["age_65_plus"].to_numpy(float)
    cnt = np.bincount(lab, minlength=k)
    cx, cy, site = _area_sites(lab, k, ox[gpos], oy[gpos], w, popv, size)
    sid = svc_names[gsvc[site]]
    spos = gpos[site]
    dist, tim, near = _site_access(sid, spos, results, pts["point_id"].to_numpy())
    popsum = s(popv)
    wcov = np.maximum(popv, 1e-9)
    # Geometry: grid cells are assembled from their edge-connected parts; other layers get one
    # union per area over its cells.
    geoms: list[Any] = []
    if all(g is not None for g in geom_parts):
        geoms = [g for part_geoms in geom_parts for g in cast(list, part_geoms)]
    if not geoms:
        geoms = _union_outlines(gaps.geometry.to_numpy(), gpos, lab, cnt, size)
    out = gpd.GeoDataFrame(
        pd.DataFrame(
            {
                "service": sid,
                "municipality": gaps["municipality"].array.take(site),
                "cells": cnt,
                "population": popsum,
                "uncovered_population": s(w),
                "age_0_14": s(gaps["age_0_14"]),
                "age_15_64": s(gaps["age_15_64"]),
                "age_65_plus": s(a65),
                "uncovered_65_plus": s(a65 * (1 - covv)),
                "sparse_population": s(popv * gaps["sparse"].to_numpy(float)),
                "place": _nearest_places(places, cx, cy),
                "site_cell_id": gaps["cell_id"].array.take(site),
                "site_x": ox[spos].astype(float),
                "site_y": oy[spos].astype(float),
                "site_distance_m": dist,
                "site_time_s": tim,
                "nearest_point_id": near,
                "mean_coverage": s(covv * wcov) / s(wcov),
                "suppressed": popsum < config.export.suppress_below,
            }
        ),
        geometry=geoms,
        crs=CRS,
    )
    return _number_areas(out)

"""Candidate stops of the mobile routes: villages, existing service points and gap-area sites.

Candidates are taken in municipalities with gap cells of the routed services: every named place
(village or centre) first, then the existing service points, then the gap areas' sites (the cell
with most people within reach). Each is moved to its nearest point on the road (the vehicle stops
by the road); one closer than ``routes.stop_spacing_km`` to a stop kept before it is that stop.
Stops are named as a timetable names them: the place within :data:`PLACE_RADIUS_M`, else the
service point's name, else the gap-area site's relation to the nearest place
("3,8 km kaakkoon Palovaarasta").
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ..coverage import GapResult
from ..network import Network, Snapped, snap_points
from ..proposals import site_label
from ..schema import CRS
from ..workspace import Workspace
from .model import Stops

PLACE_RADIUS_M = 1000.0
"""A stop within this straight-line distance of a named place is called by the place's name."""

_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
_KIND_ORDER = ("place", "service_point", "gap_area")


@dataclass(frozen=True)
class _Candidates:
    x: np.ndarray
    y: np.ndarray
    name: np.ndarray
    kind: np.ndarray


def _gap_municipalities(gaps: GapResult, services: list[str]) -> set[str]:
    ga = gaps.gap_areas
    return set() if ga.empty else set(ga.loc[ga["service"].isin(services), "municipality"].astype(str))


def _municipality_of(x: np.ndarray, y: np.ndarray, ws: Workspace) -> np.ndarray:
    """Code of the study or context municipality each point lies in ("" outside every one)."""
    munis = ws.municipalities if ws.context is None else pd.concat([ws.municipalities, ws.context])
    pts = gpd.GeoDataFrame(geometry=shapely.points(x, y), crs=CRS)
    joined = gpd.sjoin(pts, munis[["code", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    codes = joined["code"].reindex(range(len(pts))).to_numpy(dtype=object)
    return np.where([isinstance(c, str) for c in codes], codes, "").astype(object)


def _gather(ws: Workspace, gaps: GapResult, services: list[str]) -> _Candidates:
    """Every candidate location, in order of preference (places, points, gap-area sites)."""
    keep = _gap_municipalities(gaps, services)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    names: list[np.ndarray] = []
    kinds: list[str] = []
    if ws.places is not None and len(ws.places):
        pl = ws.places[ws.places.geometry.geom_type == "Point"]
        px, py = pl.geometry.x.to_numpy(), pl.geometry.y.to_numpy()
        inside = np.isin(_municipality_of(px, py, ws), list(keep))
        xs.append(px[inside])
        ys.append(py[inside])
        names.append(pl["name"].astype(str).to_numpy(dtype=object)[inside])
        kinds += ["place"] * int(inside.sum())
    sp = ws.service_points[ws.service_points["municipality"].isin(keep)]
    xs.append(sp.geometry.x.to_numpy())
    ys.append(sp.geometry.y.to_numpy())
    names.append(sp["name"].astype(str).to_numpy(dtype=object))
    kinds += ["service_point"] * len(sp)
    ga = gaps.gap_areas
    if not ga.empty:
        ga = ga[ga["service"].isin(services)].sort_values(
            ["uncovered_population", "gap_area_id"], ascending=[False, True]
        )
        ga = ga[np.isfinite(ga["site_x"].to_numpy(float)) & np.isfinite(ga["site_y"].to_numpy(float))]
        xs.append(ga["site_x"].to_numpy(float))
        ys.append(ga["site_y"].to_numpy(float))
        names.append(ga["gap_area_id"].astype(str).to_numpy(dtype=object))
        kinds += ["gap_area"] * len(ga)
    return _Candidates(
        np.concatenate(xs) if xs else np.zeros(0),
        np.concatenate(ys) if ys else np.zeros(0),
        np.concatenate(names) if names else np.zeros(0, dtype=object),
        np.array(kinds, dtype=object),
    )


def _spaced(x: np.ndarray, y: np.ndarray, spacing_m: float) -> np.ndarray:
    """Indices of the candidates kept, in order: each one farther than ``spacing_m`` from those
    kept before it."""
    kept: list[int] = []
    if spacing_m <= 0 or x.size == 0:
        return np.arange(x.size)
    tree = cKDTree(np.column_stack([x, y]))
    taken = np.zeros(x.size, bool)
    for i in range(x.size):
        if taken[i]:
            continue
        kept.append(i)
        taken[tree.query_ball_point([x[i], y[i]], r=spacing_m)] = True
    return np.array(kept, dtype=np.int64)


def point_names(
    x: np.ndarray,
    y: np.ndarray,
    own: np.ndarray,
    kind: np.ndarray,
    places: gpd.GeoDataFrame | None,
    lang: str,
) -> np.ndarray:
    """How a timetable names each point: the place within :data:`PLACE_RADIUS_M`; else its own
    name (a service point, a base's actor), or for a gap-area site its relation to the nearest
    place; ``own`` when there are no places."""
    out = own.astype(object).copy()
    if places is None or places.empty or x.size == 0:
        return out
    pl = places[places.geometry.geom_type == "Point"]
    px, py = pl.geometry.x.to_numpy(), pl.geometry.y.to_numpy()
    dist, k = cKDTree(np.column_stack([px, py])).query(np.column_stack([x, y]))
    pname = pl["name"].astype(str).to_numpy(dtype=object)[k]
    near = dist <= PLACE_RADIUS_M
    out[near] = pname[near]
    for i in np.flatnonzero(~near & (kind == "gap_area")):
        angle = np.degrees(np.arctan2(x[i] - px[k[i]], y[i] - py[k[i]])) % 360.0
        row = {
            "site_name": pname[i],
            "site_place": pname[i],
            "site_place_km": round(float(dist[i]) / 1000.0, 1),
            "site_bearing": _COMPASS[int(np.round(angle / 45.0)) % 8],
        }
        out[i] = site_label(row, lang)
    return out


def candidate_stops(
    ws: Workspace,
    gaps: GapResult,
    net: Network,
    services: list[str],
    *,
    spacing_m: float,
    lang: str,
    reach: np.ndarray | None = None,
) -> tuple[Stops, Snapped]:
    """The candidate stops of the routed ``services``, on the road, and their snapping.

    Candidates farther than the snap tolerance from any road (gap areas of cells off the network)
    are left out, and with ``reach`` (rows of base x, y and radius in metres) those beyond every
    base's radius: a round trip to them would be longer than the vehicle can drive (a road is never
    shorter than the straight line). The stops' ``x``/``y`` are their points on the road; the
    snapping returned is of those points (for the cost matrices).
    """
    cand = _gather(ws, gaps, services)
    order = np.argsort([_KIND_ORDER.index(k) for k in cand.kind], kind="stable")
    tol = ws.config.network.snap_tolerance_m
    snap = snap_points(net, np.column_stack([cand.x[order], cand.y[order]]), tolerance_m=tol)
    ok = snap.ok.copy()
    if reach is not None and len(reach):
        d = np.hypot(snap.x[:, None] - reach[None, :, 0], snap.y[:, None] - reach[None, :, 1])
        ok &= (d <= reach[None, :, 2]).any(axis=1)
    order = order[ok]
    rx, ry = snap.x[ok], snap.y[ok]
    kept = _spaced(rx, ry, spacing_m)
    order, rx, ry = order[kept], rx[kept], ry[kept]
    names = point_names(rx, ry, cand.name[order], cand.kind[order], ws.places, lang)
    stops = Stops(
        stop_id=np.array([f"S{i + 1:03d}" for i in range(order.size)], dtype=object),
        name=names,
        kind=cand.kind[order],
        x=rx,
        y=ry,
        municipality=_municipality_of(rx, ry, ws),
    )
    return stops, snap_points(net, np.column_stack([rx, ry]), tolerance_m=tol)

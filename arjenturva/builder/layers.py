"""The geographic layers of a built workspace: municipalities, the extent around the study area,
its context municipalities, roads, places and service points (all EPSG:3067).

The *extent* is the convex hull of the study municipalities grown by the buffer: roads, places
and service points are taken inside it, so people near a border reach their neighbours' services
and separate study municipalities stay joined by road. The *context* is every other municipality
within the buffer of the study area, and every municipality that holds a kept service point.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import InputFileError
from ..schema import CRS, WGS84, normalise_code
from ._files import read_layer, read_table
from .sources import CheckedSource

__all__ = [
    "DUPLICATE_M",
    "NEAR_M",
    "assign_municipality",
    "context_codes",
    "read_municipalities",
    "read_places",
    "read_roads",
    "read_service_points",
    "study_extent",
]

NEAR_M = 2000.0
"""A point outside every (generalised) municipality polygon but this close to one belongs to the
nearest, as the workspace loader does."""

DUPLICATE_M = 100.0
"""Points of the same service this close together (in two lists) are one facility."""

ROAD_COLUMNS = ("DXF_LAYER", "LUOKKA", "TIENUM", "TIEOSA")
"""Road columns written to ``roads.gpkg`` when the source has them (``DXF_LAYER``: the class)."""


def read_municipalities(src: CheckedSource, key: pd.DataFrame, notes: list[str]) -> gpd.GeoDataFrame:
    """Every municipality of the boundary file: ``code``, ``name``, ``region`` and
    ``wellbeing_county`` (from the key), polygon; several features of one code are merged."""
    gdf = read_layer(src)
    codes = gdf[src.col("kunta")].map(normalise_code)
    bad = codes[~codes.str.fullmatch(r"\d{3}")]
    if len(bad):
        msg = (f"{src.path}: column '{src.col('kunta')}' holds {len(bad)} value(s) that are not municipality "
               f"codes ({', '.join(map(str, bad.head(5)))}). Fix: give the original boundary file")
        raise InputFileError(msg)
    frame = gpd.GeoDataFrame({"code": codes, "name": gdf[src.col("nimi")].astype(str).str.strip()},
                             geometry=gdf.geometry.make_valid().to_numpy(), crs=CRS)
    if frame["code"].duplicated().any():
        frame = frame.dissolve(by="code", aggfunc="first", as_index=False)
    regions = dict(zip(key["code"], key["region"], strict=True))
    counties = dict(zip(key["code"], key["county"], strict=True))
    frame["region"] = frame["code"].map(regions).fillna("")
    frame["wellbeing_county"] = frame["code"].map(counties).fillna("")
    unknown = sorted(set(frame["code"]) - set(key["code"]))
    if unknown:
        notes.append(f"{len(unknown)} municipality code(s) of the boundaries are not in the municipality key "
                     f"({', '.join(unknown[:10])}): no region or wellbeing county for them")
    cols = ["code", "name", "region", "wellbeing_county", "geometry"]
    out = gpd.GeoDataFrame(frame[cols], geometry="geometry", crs=CRS)
    return out.sort_values("code").reset_index(drop=True)


def study_extent(study: gpd.GeoDataFrame, buffer_m: float) -> shapely.Geometry:
    """The convex hull of the study municipalities grown by ``buffer_m``."""
    return shapely.buffer(shapely.convex_hull(study.geometry.union_all()), buffer_m)


def assign_municipality(points: gpd.GeoSeries, munis: gpd.GeoDataFrame, *,
                        near_m: float = NEAR_M) -> np.ndarray:
    """Code of the municipality containing each point, else of the nearest within ``near_m``;
    ``''`` when none."""
    pts = gpd.GeoDataFrame(geometry=points.reset_index(drop=True), crs=CRS)
    out = np.full(len(pts), "", dtype=object)
    if pts.empty:
        return out
    inside = gpd.sjoin(pts, munis[["code", "geometry"]], how="left", predicate="within")
    inside = inside[~inside.index.duplicated(keep="first")]
    codes = inside["code"].reindex(range(len(pts)))
    has = codes.notna().to_numpy()
    out[has] = codes[has].to_numpy()
    rest = np.flatnonzero(~has)
    if rest.size:
        near = gpd.sjoin_nearest(pts.iloc[rest], munis[["code", "geometry"]], how="left",
                                 max_distance=near_m, distance_col="_d")
        near = near[~near.index.duplicated(keep="first")]
        found = near["code"].reindex(pts.index[rest])
        ok = found.notna().to_numpy()
        out[rest[ok]] = found[ok].to_numpy()
    return out


def context_codes(munis: gpd.GeoDataFrame, study: list[str], buffer_m: float,
                  point_codes: list[str]) -> list[str]:
    """Municipalities outside the study area within ``buffer_m`` of it, and those holding a kept
    service point, by code."""
    in_study = munis["code"].isin(study).to_numpy()
    zone = munis.geometry[in_study].union_all().buffer(buffer_m)
    near = set(munis.loc[~in_study & munis.intersects(zone).to_numpy(), "code"])
    near |= {c for c in point_codes if c and c not in set(study)}
    return sorted(near)


def read_roads(src: CheckedSource, extent: shapely.Geometry) -> gpd.GeoDataFrame:
    """Road lines that meet the extent, kept whole (a road that leaves the extent and comes back
    stays connected)."""
    roads = read_layer(src, bbox=tuple(shapely.bounds(extent)))
    roads = roads[roads.intersects(extent)]
    roads = roads[~(roads.geometry.isna() | roads.geometry.is_empty)]
    keep = [c for c in ROAD_COLUMNS if c in roads.columns]
    return gpd.GeoDataFrame(roads[[*keep, "geometry"]], geometry="geometry", crs=CRS).reset_index(drop=True)


def read_places(src: CheckedSource, extent: shapely.Geometry) -> gpd.GeoDataFrame:
    """Named settlements inside the extent: ``name``, ``kind``, point."""
    cp = read_layer(src, bbox=tuple(shapely.bounds(extent)))
    name = cp[src.col("TEXT1")].astype("string").str.strip()
    cp = cp[(name.notna() & (name != "")).to_numpy() & cp.within(extent).to_numpy()]
    data = {"name": cp[src.col("TEXT1")].astype(str).str.strip(),
            "kind": cp[src.col("DXF_LAYER")].astype(str)}
    return gpd.GeoDataFrame(data, geometry=cp.geometry.to_numpy(), crs=CRS).reset_index(drop=True)


def _health_points(sources: tuple[CheckedSource, ...]) -> list[pd.DataFrame]:
    frames = []
    for n, src in enumerate(sources, start=1):
        df = read_table(src)
        if "id" in df.columns and df["id"].notna().all() and df["id"].is_unique:
            ids = df["id"].astype(str)
        elif str(df.columns[0]).startswith("Unnamed") and df.iloc[:, 0].is_unique:
            ids = df.iloc[:, 0].astype(str)
        else:
            ids = pd.Series(range(len(df)), index=df.index).astype(str)
        frames.append(pd.DataFrame({
            "point_id": f"hf{n}-" + ids.str.removesuffix(".0"),
            "name": df[src.col("name")].astype(str).str.strip(),
            "services": "health_station",
            "source": f"health facilities: {src.path.name}",
            "lon": pd.to_numeric(df[src.col("LON")], errors="coerce"),
            "lat": pd.to_numeric(df[src.col("LAT")], errors="coerce"),
        }))
    return frames


def _centre_points(src: CheckedSource) -> pd.DataFrame:
    df = read_table(src, dtype=str)
    return pd.DataFrame({
        "point_id": "mc" + df[src.col("kuntatunnus")].map(normalise_code),
        "name": df[src.col("teksti")].astype(str).str.strip().str.title(),
        "services": "municipal_centre",
        "source": f"municipal centres: {src.path.name}",
        "lon": pd.to_numeric(df[src.col("X")], errors="coerce"),
        "lat": pd.to_numeric(df[src.col("Y")], errors="coerce"),
    })


def _duplicates(xy: np.ndarray, service: np.ndarray, within_m: float) -> np.ndarray:
    """True for each point within ``within_m`` of an earlier kept point of the same service."""
    from scipy.spatial import cKDTree

    drop = np.zeros(len(xy), bool)
    if len(xy) < 2:
        return drop
    pairs = sorted(cKDTree(xy).query_pairs(within_m))
    for i, j in pairs:  # i < j: the earlier point is kept unless it was dropped itself
        if not drop[i] and service[i] == service[j]:
            drop[j] = True
    return drop


def read_service_points(checked: Mapping[str, tuple[CheckedSource, ...]], extent: shapely.Geometry,
                        notes: list[str]) -> gpd.GeoDataFrame:
    """Health facilities (``health_station``) and municipal centres (``municipal_centre``) inside
    the extent: ``point_id``, ``name``, ``services``, ``source``, ``lon``, ``lat``, point."""
    frames = _health_points(checked.get("health_facilities", ()))
    if "municipal_centres" in checked:
        frames.append(_centre_points(checked["municipal_centres"][0]))
    df = pd.concat(frames, ignore_index=True)
    bad = df["lon"].isna() | df["lat"].isna() | ~df["lon"].between(-180, 180) | ~df["lat"].between(-90, 90)
    if bad.any():
        notes.append(f"{int(bad.sum())} service point(s) without valid lon/lat in the sources skipped")
    df = df[~bad]
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=WGS84).to_crs(CRS)
    gdf = gdf[gdf.within(extent).to_numpy()].reset_index(drop=True)
    xy = np.column_stack([gdf.geometry.x, gdf.geometry.y]) if len(gdf) else np.empty((0, 2))
    drop = _duplicates(xy, gdf["services"].to_numpy(), DUPLICATE_M)
    if drop.any():
        notes.append(f"{int(drop.sum())} service point(s) within {DUPLICATE_M:g} m of another of the same "
                     "service (the same facility in two lists) dropped")
    gdf = gdf[~drop]
    same_id = gdf["point_id"].duplicated()
    if same_id.any():
        notes.append(f"{int(same_id.sum())} service point(s) with an id given twice in one list dropped")
    return gdf[~same_id].reset_index(drop=True)

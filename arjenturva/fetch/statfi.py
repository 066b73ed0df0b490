"""Statistics Finland's WFS: municipality, county and region boundaries and the 1 km grid.

The layers come as GeoJSON in EPSG:3067 from ``https://geo.stat.fi/geoserver/wfs`` (CC BY 4.0),
page by page through :class:`~arjenturva.fetch.http.HttpClient`, and are turned into the
canonical columns of a workspace (``code``, ``name``, ``population``, ``age_*``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..schema import CRS
from .http import FetchError, HttpClient, _error_excerpt, _ows_exception

STATFI_WFS_URL = "https://geo.stat.fi/geoserver/wfs"
"""Statistics Finland's GeoServer WFS endpoint (all workspaces)."""

DEFAULT_BOUNDARY_YEAR = 2025
"""Year of the boundary layers fetched by default."""

DEFAULT_POPULATION_YEAR = 2023
"""Year of the 1 km population grid fetched by default."""

_FINLAND_X = (40_000.0, 800_000.0)
_FINLAND_Y = (6_550_000.0, 7_850_000.0)


def _check_wfs(layer: str) -> Callable[[bytes], None]:
    def check(content: bytes) -> None:
        ows = _ows_exception(content)
        if ows:
            msg = (
                f"Statistics Finland WFS refused the request for '{layer}': {ows}. Fix: check the "
                "year (boundaries exist from 2013 on, the 1 km population grid for 2005 and 2010 to "
                "the latest published year) and the municipality codes"
            )
            raise FetchError(msg)
        try:
            data = json.loads(content)
        except ValueError as e:
            msg = (
                f"Statistics Finland WFS: the answer for '{layer}' is not GeoJSON "
                f"({_error_excerpt(content, 120)!r}). Fix: try again later"
            )
            raise FetchError(msg) from e
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            msg = (f"Statistics Finland WFS: the answer for '{layer}' is not a FeatureCollection. "
                   "Fix: try again later")
            raise FetchError(msg)

    return check


def _wfs_params(layer: str, **extra: Any) -> dict[str, str]:
    params = {
        "service": "WFS",
        "version": "2.0.0",
        "request": "GetFeature",
        "typeNames": layer,
        "outputFormat": "application/json",
        "srsName": CRS,
    }
    params.update({k: str(v) for k, v in extra.items()})
    return params


def _features_to_gdf(data: Mapping[str, Any]) -> gpd.GeoDataFrame:
    """GeoJSON features in EPSG:3067 (GeoServer's output; axis order checked by bounds)."""
    feats = [f for f in data.get("features", []) if f.get("geometry")]
    if not feats:
        return gpd.GeoDataFrame(geometry=[], crs=CRS)
    gdf = gpd.GeoDataFrame.from_features(feats, crs=CRS)
    xmin, ymin, xmax, ymax = gdf.total_bounds
    if _FINLAND_Y[0] <= xmin and xmax <= _FINLAND_Y[1] and _FINLAND_X[0] <= ymin and ymax <= _FINLAND_X[1]:
        gdf = gdf.set_geometry(shapely.transform(gdf.geometry.to_numpy(), lambda c: c[:, ::-1]), crs=CRS)
    return gdf


def fetch_wfs_layer(
    client: HttpClient,
    layer: str,
    *,
    what: str,
    url: str = STATFI_WFS_URL,
    cql_filter: str | None = None,
    bbox: Sequence[float] | None = None,
    page_size: int = 5000,
    max_pages: int = 200,
) -> gpd.GeoDataFrame:
    """Download one WFS layer as GeoJSON in EPSG:3067, page by page.

    Parameters
    ----------
    client
        The HTTP client (retries, cache).
    layer
        The feature type, e.g. ``tilastointialueet:kunta4500k_2025``.
    what
        What is downloaded, for messages.
    url
        The WFS endpoint.
    cql_filter
        A GeoServer ``CQL_FILTER`` (e.g. ``kunta IN ('614')``); not combined with ``bbox``.
    bbox
        ``(xmin, ymin, xmax, ymax)`` in EPSG:3067.
    page_size
        Features per request (``count``); further pages use ``startIndex``.
    max_pages
        Stop after this many pages.

    Returns
    -------
    GeoDataFrame
        The features with their properties, in EPSG:3067.
    """
    frames: list[gpd.GeoDataFrame] = []
    extra: dict[str, Any] = {"count": page_size}
    if cql_filter:
        extra["CQL_FILTER"] = cql_filter
    if bbox is not None:
        extra["bbox"] = ",".join(f"{v:.0f}" for v in bbox) + f",{CRS}"
    for page in range(max_pages):
        params = _wfs_params(layer, **extra)
        if page:
            params["startIndex"] = str(page * page_size)
        content = client.get(url, params, what=what if not page else f"{what} (page {page + 1})",
                             check=_check_wfs(layer))
        data = json.loads(content)
        frames.append(_features_to_gdf(data))
        returned = data.get("numberReturned", len(data.get("features", [])))
        if int(returned) < page_size:
            break
    frames = [f for f in frames if len(f)]
    if not frames:
        return gpd.GeoDataFrame(geometry=[], crs=CRS)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=CRS)


def _first_col(df: pd.DataFrame, names: Iterable[str]) -> str | None:
    for n in names:
        if n in df.columns:
            return n
    return None


def _areas(gdf: gpd.GeoDataFrame, code_names: Sequence[str]) -> gpd.GeoDataFrame:
    code = _first_col(gdf, code_names)
    name = _first_col(gdf, ("nimi", "name", "namn"))
    out = gpd.GeoDataFrame(
        {
            "code": gdf[code].astype(str) if code else [""] * len(gdf),
            "name": gdf[name].astype(str) if name else [""] * len(gdf),
            "name_sv": gdf["namn"].astype(str) if "namn" in gdf.columns else [""] * len(gdf),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=CRS,
    )
    return out


def _membership(munis: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> tuple[list[str], list[str]]:
    """Code and name of the area that holds each municipality's representative point."""
    codes, names = [""] * len(munis), [""] * len(munis)
    if areas.empty:
        return codes, names
    pts = munis.geometry.representative_point().to_numpy()
    for i, p in enumerate(pts):
        hit = np.flatnonzero(areas.geometry.contains(p).to_numpy())
        if hit.size == 0:
            d = areas.geometry.distance(p).to_numpy()
            hit = np.array([int(np.argmin(d))])
        codes[i] = str(areas["code"].iloc[hit[0]])
        names[i] = str(areas["name"].iloc[hit[0]])
    return codes, names


def _population_cells(grid: gpd.GeoDataFrame, munis: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Canonical population cells inside the municipalities; −1 (suppressed) values kept."""
    cols = {"population": ("vaesto", "vaesto_yht", "population"),
            "age_0_14": ("ika_0_14", "ika0_14"),
            "age_15_64": ("ika_15_64", "ika15_64"),
            "age_65_plus": ("ika_65_", "ika_65", "ika65_")}
    if grid.empty:
        return gpd.GeoDataFrame({"cell_id": [], "population": [], "age_0_14": [], "age_15_64": [],
                                 "age_65_plus": []}, geometry=[], crs=CRS)
    geom = grid.geometry
    if "xkoord" in grid.columns and "ykoord" in grid.columns:
        # The grid's own corner coordinates (south-west corner of each 1 km cell).
        x = pd.to_numeric(grid["xkoord"], errors="coerce").to_numpy(float)
        y = pd.to_numeric(grid["ykoord"], errors="coerce").to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y)
        boxes = shapely.box(x, y, x + 1000.0, y + 1000.0)
        geom = gpd.GeoSeries(np.where(ok & (geom.isna() | geom.is_empty).to_numpy(), boxes, geom.to_numpy()),
                             crs=CRS)
    id_col = _first_col(grid, ("grd_id", "nro", "id_nro", "id"))
    data: dict[str, Any] = {
        "cell_id": (grid[id_col].astype(str).to_numpy() if id_col
                    else [f"cell_{i + 1}" for i in range(len(grid))])
    }
    for canonical, names in cols.items():
        c = _first_col(grid, names)
        if c is None:
            continue
        v = pd.to_numeric(grid[c], errors="coerce")
        data[canonical] = v.where(v.notna(), -1).astype("int64").to_numpy()
    if "population" not in data:
        msg = (
            "Statistics Finland population grid: no population column (expected 'vaesto'; found "
            f"{', '.join(map(str, grid.columns))}). Fix: report this; the service changed its format"
        )
        raise FetchError(msg)
    cells = gpd.GeoDataFrame(data, geometry=geom.to_numpy(), crs=CRS)
    union = shapely.union_all(munis.geometry.to_numpy())
    inside = shapely.contains_xy(union, *shapely.get_coordinates(cells.geometry.centroid.to_numpy()).T)
    cells = cells[inside].drop_duplicates("cell_id").sort_values("cell_id").reset_index(drop=True)
    return cells

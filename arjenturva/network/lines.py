"""Road line layers as sources (GeoPackage, Shapefile, GeoJSON, GeoParquet; :func:`network_from_lines`).

A node sits at every line end, and ends within the merge tolerance become one node. Classes,
speeds and one-way directions come from the columns the config names.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .._io_read import is_empty_geopackage
from ..errors import NetworkError
from ..road_defaults import DEFAULT_SPEEDS_KMH
from ..schema import CRS
from .assemble import _assemble, _Roads, _subset_roads, _with_speed_factors
from .kernels import _polyline_lengths
from .model import Network, Progress
from .tags import _class_speed, parse_maxspeed

if TYPE_CHECKING:
    import geopandas as gpd


NLS_CLASS_SPEEDS_KMH: dict[str, float] = {
    "MOOTTORIT": 120.0,  # motorway
    "VALTAT": 100.0,  # main road (valtatie)
    "MAANT": 80.0,  # regional road (maantie, kantatie)
    "PAIKALLIST": 70.0,  # local road (paikallistie)
    "LOSSI": 10.0,  # ferry (lossi)
}
"""Speeds for the ``DXF_LAYER`` classes of the NLS (MML) general map road layer."""


_ONEWAY_FWD = {"yes", "true", "1", "forward", "ft", "f", "oneway"}
_ONEWAY_BWD = {"-1", "reverse", "backward", "tf", "t"}


def _read_lines_file(path: Path, layer: str | None, suffix: str) -> gpd.GeoDataFrame:
    """The line layer of a file; ``suffix`` is its format suffix (``".gpkg"``, ``".zip"``, ...)."""
    import geopandas as gpd
    import pyogrio

    kwargs: dict[str, Any] = {}
    if suffix in (".parquet", ".geoparquet"):
        try:
            return gpd.read_parquet(path)
        except Exception as e:
            msg = f"{path}: cannot read the GeoParquet file ({e}). Fix: check it opens in QGIS"
            raise NetworkError(msg) from e
    src: Any = f"zip://{path}" if suffix == ".zip" else path
    try:
        layers = pyogrio.list_layers(src)
    except Exception as e:
        if is_empty_geopackage(path):
            layers = np.zeros((0, 2), dtype=object)
        else:
            text = str(e).splitlines()[0] if str(e) else type(e).__name__
            msg = f"{path}: cannot read the road layer file ({text}). Fix: check it opens in QGIS"
            raise NetworkError(msg) from e
    names = [str(n) for n in layers[:, 0]]
    if not names:
        msg = (
            f"{path}: the file holds no layers, so no roads. Fix: save the road lines into it again "
            "(QGIS: Export > Save Features As), or point `network.source` at the right file"
        )
        raise NetworkError(msg)
    if layer is not None:
        if layer not in names:
            msg = (
                f"{path}: layer '{layer}' not found (layers: {', '.join(names)}). "
                "Fix: set `network.layer` to one of them"
            )
            raise NetworkError(msg)
        kwargs["layer"] = layer
    elif len(names) > 1:
        line_layers = [str(n) for n, g in layers if "line" in str(g).lower()]
        if len(line_layers) == 1:
            kwargs["layer"] = line_layers[0]
        else:
            msg = (
                f"{path}: holds several layers ({', '.join(names)}). "
                "Fix: set `network.layer` to the road layer"
            )
            raise NetworkError(msg)
    try:
        return gpd.read_file(src, **kwargs)
    except Exception as e:
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = f"{path}: cannot read the road layer ({text}). Fix: check it opens in QGIS"
        raise NetworkError(msg) from e


def _roads_from_gdf(
    gdf: gpd.GeoDataFrame,
    *,
    source: str,
    class_column: str | None,
    class_speeds_kmh: Mapping[str, float] | None,
    oneway_column: str | None,
    merge_tolerance_m: float,
    speeds: Mapping[str, float],
) -> _Roads:
    """Roads from a line layer: a node at every line end, ends within the tolerance merged."""
    import shapely

    if len(gdf) == 0:
        msg = (
            f"{source}: the road layer has no features (no drivable roads). Fix: give a road network "
            "with lines for the area as `network.source` (and `network.layer` for a multi-layer file)"
        )
        raise NetworkError(msg)
    if gdf.crs is None:
        msg = (
            f"{source}: the road layer has no coordinate reference system (CRS). Fix: set one in "
            "QGIS (Layer > Set CRS, e.g. EPSG:3067) and save the file again"
        )
        raise NetworkError(msg)
    for col, key in ((class_column, "class_column"), (oneway_column, "oneway_column")):
        if col and col not in gdf.columns:
            msg = (
                f"{source}: column '{col}' not found (columns: {', '.join(map(str, gdf.columns))}). "
                f"Fix: set `network.{key}` to an existing column"
            )
            raise NetworkError(msg)
    geoms = gdf.geometry.to_crs(CRS).to_numpy() if str(gdf.crs) != CRS else gdf.geometry.to_numpy()
    gtype = shapely.get_type_id(geoms)
    is_line = np.isin(gtype, [1, 2, 5])  # LineString, LinearRing, MultiLineString
    if not is_line.any():
        kinds = sorted({str(t) for t in gdf.geometry.geom_type.dropna().unique()}) or ["no geometries"]
        msg = (
            f"{source}: the layer has no lines (found {', '.join(kinds)}). Fix: give the road "
            "network as a line layer (and `network.layer` for a multi-layer file)"
        )
        raise NetworkError(msg)
    rows = np.flatnonzero(is_line)
    parts, part_row = shapely.get_parts(geoms[rows], return_index=True)
    part_row = rows[part_row]
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(cidx, minlength=parts.size)
    ok = counts >= 2
    offs = np.zeros(parts.size + 1, np.int64)
    np.cumsum(counts, out=offs[1:])
    length = _polyline_lengths(offs, coords)
    ok &= length > 0
    starts, ends = offs[:-1], offs[1:] - 1
    ends_xy = np.concatenate([coords[starts], coords[ends]])
    n_p = parts.size
    # Merge line ends within the tolerance (transitively) into nodes.
    if merge_tolerance_m > 0:
        tree = cKDTree(ends_xy)
        pairs = tree.query_pairs(merge_tolerance_m, output_type="ndarray")
        g = sp.coo_array(
            (np.ones(pairs.shape[0], np.int8), (pairs[:, 0], pairs[:, 1])), shape=(2 * n_p, 2 * n_p)
        )
        _, lab = connected_components(g, directed=False)
    else:
        _, lab = np.unique(ends_xy, axis=0, return_inverse=True)
        lab = lab.ravel()
    nn = int(lab.max()) + 1 if lab.size else 0
    cnt = np.bincount(lab, minlength=nn)
    nx_ = np.bincount(lab, weights=ends_xy[:, 0], minlength=nn) / np.maximum(cnt, 1)
    ny_ = np.bincount(lab, weights=ends_xy[:, 1], minlength=nn) / np.maximum(cnt, 1)
    a, b = lab[:n_p], lab[n_p:]
    xy = coords.copy()
    xy[starts] = np.column_stack([nx_[a], ny_[a]])
    xy[ends] = np.column_stack([nx_[b], ny_[b]])
    length = _polyline_lengths(offs, xy)

    # Direction.
    fwd = np.ones(n_p, bool)
    bwd = np.ones(n_p, bool)
    if oneway_column:
        col = gdf[oneway_column]
        text = col.astype("string").str.strip().str.lower().fillna("").to_numpy(dtype=object)[part_row]
        if col.dtype == bool:
            text = np.where(col.to_numpy()[part_row], "yes", "no")
        fwd_only = np.isin(text, list(_ONEWAY_FWD))
        bwd_only = np.isin(text, list(_ONEWAY_BWD))
        bwd &= ~fwd_only
        fwd &= ~bwd_only
    # Class and speed.
    if class_column:
        cls = gdf[class_column].astype("string").fillna("default").to_numpy(dtype=object)[part_row]
    else:
        cls = np.full(n_p, "default", dtype=object)
    table: dict[str, float] = dict(class_speeds_kmh or {})
    if not table and class_column and class_column.upper() == "DXF_LAYER":
        table = dict(NLS_CLASS_SPEEDS_KMH)
    uniq, inv = np.unique(cls.astype(str), return_inverse=True)
    by_class = np.array([table.get(c, _class_speed(c, speeds)) for c in uniq], float)
    speed = by_class[inv] if n_p else np.zeros(0)
    if "maxspeed" in gdf.columns:
        ms = np.array([parse_maxspeed(v, speeds=speeds) for v in gdf["maxspeed"].to_numpy()[part_row]])
        speed = np.where(np.isfinite(ms), ms, speed)
    roads = _Roads(
        node_ids=np.arange(nn, dtype=np.int64), x=nx_, y=ny_, a=a, b=b, offsets=offs, xy=xy,
        fwd=fwd, bwd=bwd, length_m=length, speed_kmh=speed, cls=cls,
    )
    return _subset_roads(roads, ok) if not ok.all() else roads


def network_from_lines(
    lines: gpd.GeoDataFrame,
    *,
    class_column: str | None = None,
    class_speeds_kmh: Mapping[str, float] | None = None,
    oneway_column: str | None = None,
    merge_tolerance_m: float = 1.0,
    speeds: Mapping[str, float] | None = None,
    speed_factors: Mapping[str, float] | None = None,
    source: str = "<lines>",
    progress: Progress | None = None,
) -> Network:
    """Build a network from a road line layer (GeoDataFrame with a CRS).

    Parameters
    ----------
    lines
        LineString/MultiLineString features, one road each; reprojected to EPSG:3067.
    class_column
        Column holding the road class; speeds come from ``class_speeds_kmh``, then ``speeds``
        (for OSM-like class names), then ``speeds["default"]``. With an empty
        ``class_speeds_kmh`` and ``class_column="DXF_LAYER"`` the NLS general map speeds
        (:data:`NLS_CLASS_SPEEDS_KMH`) are used.
    class_speeds_kmh
        Speed per class value (km/h).
    oneway_column
        Column marking one-way lines: ``yes``/``true``/``1``/``FT`` = along the digitised
        direction only, ``-1``/``reverse``/``TF`` = against it; anything else is two-way.
    merge_tolerance_m
        Line ends closer than this become one node (0 = exact coordinate match).
    speeds
        Class speeds; defaults to the Finnish defaults.
    speed_factors
        Driven speed as a share of the class speed, per class value (``"default"`` for the
        others); ``None`` drives at the speeds. The measured Finnish factors are
        :data:`arjenturva.road_defaults.DEFAULT_SPEED_FACTORS`.
    source
        Name used in messages and ``info["source"]``.
    progress
        Called with short status messages.

    Returns
    -------
    Network

    Raises
    ------
    NetworkError
        When the layer has no CRS, no lines, or a named column is missing.
    """
    sp_ = dict(speeds or DEFAULT_SPEEDS_KMH)
    roads = _roads_from_gdf(
        lines, source=source, class_column=class_column, class_speeds_kmh=class_speeds_kmh,
        oneway_column=oneway_column, merge_tolerance_m=merge_tolerance_m, speeds=sp_,
    )
    net = _assemble(roads, speeds=sp_, source=source, progress=progress)
    return _with_speed_factors(net, speed_factors)

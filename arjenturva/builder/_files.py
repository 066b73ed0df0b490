"""Reading a checked source file whole: a table or a layer, in EPSG:3067.

The files were opened once by :func:`~arjenturva.builder.sources.check_sources`; a failure here
(a file changed meanwhile, a broken row) still becomes an :class:`~arjenturva.errors.InputFileError`
naming the file and the fix, never a traceback.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from ..errors import InputFileError
from ..schema import CRS, WGS84
from .sources import CheckedSource

__all__ = ["read_layer", "read_table"]


def read_table(src: CheckedSource, **kwargs: Any) -> pd.DataFrame:
    """The whole CSV file (UTF-8, with or without BOM)."""
    try:
        return pd.read_csv(src.path, encoding="utf-8-sig", **kwargs)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = f"{src.path}: cannot read the table ({first}). Fix: give the original CSV of {src.spec.source}"
        raise InputFileError(msg) from e


def _bbox_in_file_crs(name: Any, bbox: tuple[float, float, float, float], kwargs: dict[str, Any]
                      ) -> tuple[float, float, float, float]:
    """``bbox`` (EPSG:3067) in the CRS of the file, for pyogrio's ``bbox`` filter."""
    import pyogrio
    import shapely
    from pyproj import CRS as ProjCRS

    file_crs = pyogrio.read_info(name, **kwargs)["crs"]
    if file_crs is None or ProjCRS.from_user_input(file_crs) == ProjCRS.from_user_input(CRS):
        return bbox
    box = gpd.GeoSeries([shapely.box(*bbox)], crs=CRS).segmentize(5000.0).to_crs(file_crs)
    minx, miny, maxx, maxy = (float(v) for v in box.total_bounds)
    return (minx, miny, maxx, maxy)


def _guess_crs(gdf: gpd.GeoDataFrame) -> str:
    """The CRS of a layer that declares none (a TopoJSON, a Shapefile without .prj): WGS 84 when
    its coordinates are degrees, else EPSG:3067."""
    if gdf.empty:
        return CRS
    minx, miny, maxx, maxy = gdf.total_bounds
    return WGS84 if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90 else CRS


def read_layer(src: CheckedSource, *, bbox: tuple[float, float, float, float] | None = None
               ) -> gpd.GeoDataFrame:
    """The layer in EPSG:3067; ``bbox`` (EPSG:3067) reads only features that meet it.

    A layer that declares no CRS is taken to be WGS 84 when its coordinates are degrees, else
    EPSG:3067.
    """
    from pyogrio.errors import DataLayerError, DataSourceError
    from pyproj.exceptions import CRSError

    name = f"zip://{src.path}" if src.path.suffix.lower() == ".zip" else src.path
    kwargs: dict[str, Any] = {"layer": src.layer} if src.layer else {}
    try:
        if bbox is not None:
            kwargs["bbox"] = _bbox_in_file_crs(name, bbox, kwargs)
        gdf = gpd.read_file(name, **kwargs)
    except (OSError, ValueError, DataSourceError, DataLayerError, CRSError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = f"{src.path}: cannot read the layer ({first}). Fix: give the original file of {src.spec.source}"
        raise InputFileError(msg) from e
    gdf = gdf.set_crs(_guess_crs(gdf)) if gdf.crs is None else gdf
    return gdf.to_crs(CRS)

"""Population cells as the analysis sees them: where each cell is, the cell size, and clusters
of neighbouring cells (connected components of a neighbour graph)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components


def _cell_points(geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Where each cell is: its representative point (points stay as they are; the centre of an
    axis-aligned rectangle, the usual grid cell, is found from its bounds)."""
    g = np.asarray(geoms.array)
    kind = shapely.get_type_id(g)
    b = shapely.bounds(g)
    x, y = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2  # points: their coordinates
    poly = (kind == 3) | (kind == 6)
    box = poly & (shapely.get_num_coordinates(g) == 5)
    box[box] = shapely.area(g[box]) == (b[box, 2] - b[box, 0]) * (b[box, 3] - b[box, 1])
    other = np.flatnonzero(poly & ~box)
    if other.size:
        reps = shapely.point_on_surface(g[other])
        x[other], y[other] = shapely.get_x(reps), shapely.get_y(reps)
    return x, y


def _cell_size(pop: gpd.GeoDataFrame) -> float:
    """Side of a typical cell (m): the square root of the median polygon area, 1 000 m for points."""
    poly = pop.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if poly.any():
        return float(np.sqrt(np.median(pop.geometry[poly].area)))
    return 1000.0


def _components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes joined by the edges ``src``–``dst``."""
    m = sparse.coo_array((np.ones(src.size, np.int8), (src, dst)), shape=(n, n))
    return connected_components(m, directed=False)[1].astype(np.int64)

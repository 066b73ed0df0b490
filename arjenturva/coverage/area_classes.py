"""Area classes of population cells: the class column of the layer, or classes derived by the
EU degree-of-urbanisation grid rules where the column is missing or blank."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from scipy.spatial import cKDTree

from ..config import AreaClassConfig
from .cells import _cell_points, _components


def derive_area_classes(
    x: np.ndarray,
    y: np.ndarray,
    population: np.ndarray,
    *,
    settings: AreaClassConfig,
    cell_size_m: float = 1000.0,
) -> np.ndarray:
    """Classify locations by the EU degree-of-urbanisation grid rules.

    Population is summed into ``cell_size_m`` grid cells. Urban centres are 4-connected clusters
    of cells with at least ``urban_centre_density`` inh/km² totalling at least
    ``urban_centre_population``; urban clusters are 8-connected clusters of cells with at least
    ``urban_cluster_density`` totalling at least ``urban_cluster_population``; the rest is rural,
    and rural cells below ``sparse_density`` are sparsely populated.

    The result reuses the SYKE codes as labels: ``K1`` urban centre, ``K2`` urban cluster,
    ``M6`` rural, ``M7`` sparsely populated rural.

    Parameters
    ----------
    x, y
        Coordinates (EPSG:3067) of cell centroids or population points.
    population
        Population per location (NaN counts as 0).

    Returns
    -------
    numpy.ndarray
        One class label per location.
    """
    pop = np.nan_to_num(np.asarray(population, dtype=float))
    n = len(pop)
    if n == 0:
        return np.array([], dtype=object)
    gx = np.floor(np.asarray(x) / cell_size_m).astype(np.int64)
    gy = np.floor(np.asarray(y) / cell_size_m).astype(np.int64)
    # Grid cells by one integer key (the same order as the (gx, gy) pairs, much faster to sort).
    span = int(gy.max() - gy.min()) + 1
    flat, inverse = np.unique((gx - gx.min()) * span + (gy - gy.min()), return_inverse=True)
    inverse = inverse.ravel()
    keys = np.column_stack([flat // span + gx.min(), flat % span + gy.min()])
    cell_pop = np.bincount(inverse, weights=pop, minlength=len(keys))
    area_km2 = (cell_size_m / 1000.0) ** 2
    density = cell_pop / area_km2

    def clusters(mask: np.ndarray, diagonal: bool, total_min: float) -> np.ndarray:
        idx = np.flatnonzero(mask)
        out = np.zeros(len(keys), dtype=bool)
        if len(idx) == 0:
            return out
        tree = cKDTree(keys[idx].astype(float))
        radius = 1.5 if diagonal else 1.01
        pairs = tree.query_pairs(radius, output_type="ndarray")
        if not diagonal and len(pairs):
            d = np.abs(keys[idx][pairs[:, 0]] - keys[idx][pairs[:, 1]]).sum(axis=1)
            pairs = pairs[d == 1]
        labels = _components(len(idx), pairs[:, 0], pairs[:, 1])
        totals = np.bincount(labels, weights=cell_pop[idx])
        out[idx[totals[labels] >= total_min]] = True
        return out

    centre = clusters(density >= settings.urban_centre_density, False, settings.urban_centre_population)
    cluster = clusters(density >= settings.urban_cluster_density, True, settings.urban_cluster_population)
    labels = np.where(
        centre, "K1", np.where(cluster, "K2", np.where(density < settings.sparse_density, "M7", "M6"))
    ).astype(object)
    return labels[inverse]


def assign_area_classes(
    population: gpd.GeoDataFrame,
    settings: AreaClassConfig,
    *,
    xy: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, str]:
    """Area class per cell: from the ``area_class`` column, derived, or both (blanks derived).

    ``xy`` are the cells' representative points when the caller has them already.

    Returns
    -------
    (numpy.ndarray, str)
        The classes and how they were obtained (``column``, ``derived`` or ``column+derived``).
    """
    n = len(population)
    column = (
        population["area_class"].to_numpy(dtype=object)
        if "area_class" in population
        else np.full(n, None, dtype=object)
    )
    has = np.array([isinstance(v, str) and v != "" for v in column], dtype=bool)
    if settings.source == "column" or (settings.source == "auto" and n and has.all()):
        # Cells without a class (source: column) count as rural heartland (M6).
        return np.where(has, column, "M6").astype(object), "column"
    px, py = xy if xy is not None else _cell_points(population.geometry)
    derived = derive_area_classes(px, py, population["population"].to_numpy(), settings=settings)
    if settings.source == "auto" and has.any():
        return np.where(has, column, derived).astype(object), "column+derived"
    return derived, "derived"

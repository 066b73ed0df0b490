"""The per-cell tables of the gap analysis: ``access`` (one row per cell and service), ``gaps``
(its rows with people not fully covered) and the per-service columns of the population layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..schema import CRS
from .access import ServiceAccess


@dataclass(frozen=True)
class LongTables:
    """The ``access`` and ``gaps`` tables, and where each gap row comes from."""

    access: pd.DataFrame
    gaps: gpd.GeoDataFrame
    gap_cells: np.ndarray
    """Population row of every gap row."""
    gap_services: np.ndarray
    """Service of every gap row, as its position among the services (rows of one service are
    contiguous)."""


def _take_text(values: Any, codes: np.ndarray) -> Any:
    """A text column from a few values (one per code) taken by ``codes`` (``-1``: missing), without
    converting each row's string again: pandas takes from its own array of ``values``."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return series.array.take(codes, allow_fill=True)


def _long_tables(
    pop: gpd.GeoDataFrame,
    pts: gpd.GeoDataFrame,
    snapped: np.ndarray,
    results: dict[str, ServiceAccess],
    demand_of: dict[str, np.ndarray],
    popv: np.ndarray,
    ages: dict[str, np.ndarray],
) -> LongTables:
    """The long tables, built column by column for all services; text columns are taken from the
    per-cell (per-service, per-point) values by row numbers.

    ``pop`` is the population layer (with ``area_class`` and ``sparse``), ``snapped`` whether
    each cell is on the network, ``popv`` and ``ages`` its people (NaN as 0).
    """
    n_pop, accs, svc_names = len(pop), list(results.values()), list(results)
    n_svc = len(accs)
    cell_of_row = np.tile(np.arange(n_pop), n_svc)
    svc_of_row = np.repeat(np.arange(n_svc), n_pop)

    def tile(v: Any) -> np.ndarray:
        return np.tile(np.asarray(v), n_svc)

    def joined(arrays: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(arrays) if arrays else np.zeros(0, dtype)

    text: dict[str, tuple[Any, np.ndarray]] = {
        "cell_id": (pop["cell_id"], cell_of_row),
        "service": (pd.Series(np.array(svc_names, dtype=object)), svc_of_row),
        "nearest_point_id": (pts["point_id"], joined([a.nearest_point for a in accs], np.int64)),
        "municipality": (pop["municipality"], cell_of_row),
        "area_class": (pop["area_class"], cell_of_row),
    }
    columns: dict[str, Any] = {
        "cell_id": None,
        "_pos": cell_of_row,
        "service": None,
        "nearest_point_id": None,
        "distance_m": joined([a.distance_m for a in accs], float),
        "time_s": joined([a.time_s for a in accs], float),
        "coverage": joined([a.coverage for a in accs], float),
        "population": tile(popv),
        "demand": joined([demand_of[sid] for sid in results], float),
        "age_65_plus": tile(ages["age_65_plus"]),
        "age_0_14": tile(ages["age_0_14"]),
        "age_15_64": tile(ages["age_15_64"]),
        "sparse": tile(pop["sparse"].to_numpy()),
        "municipality": None,
        "area_class": None,
        "suppressed": tile(pop["suppressed"].to_numpy()),
        "snapped": tile(snapped),
    }

    def long_columns(rows: np.ndarray | None) -> dict[str, Any]:
        out = {}
        for c, v in columns.items():
            if c in text:
                values, codes = text[c]
                out[c] = _take_text(values, codes if rows is None else codes[rows])
            else:
                out[c] = v if rows is None else v[rows]
        return out

    access = pd.DataFrame(long_columns(None), copy=False)  # fresh arrays: no copy
    # Gaps: cells with people that are not fully covered.
    gap_rows = np.flatnonzero((columns["coverage"] < 1.0) & (columns["population"] > 0))
    gaps_long = long_columns(gap_rows)
    gpos = cell_of_row[gap_rows]
    gaps_long["uncovered_population"] = gaps_long["population"] * (1 - gaps_long["coverage"])
    gaps_long["geometry"] = pop.geometry.array.take(gpos)
    gaps = gpd.GeoDataFrame(gaps_long, geometry="geometry", crs=CRS, copy=False)
    return LongTables(access, gaps, gpos, svc_of_row[gap_rows])


def _with_service_columns(
    pop: gpd.GeoDataFrame, results: dict[str, ServiceAccess], extra: dict[str, np.ndarray]
) -> gpd.GeoDataFrame:
    """The population layer with ``<service>_distance_m``, ``_time_s`` and ``_coverage`` of every
    service and the ``extra`` per-cell columns, grouped by service and joined at once (not one
    insert each)."""
    new_columns = dict(extra)
    for sid, acc in results.items():
        new_columns[f"{sid}_distance_m"] = acc.distance_m
        new_columns[f"{sid}_time_s"] = acc.time_s
        new_columns[f"{sid}_coverage"] = acc.coverage
    ordered = {k: new_columns[k] for k in sorted(new_columns, key=lambda c: (c.rsplit("_", 2)[0], c))}
    geom_name = pop.geometry.name
    return gpd.GeoDataFrame(
        pd.concat([pop, pd.DataFrame(ordered, index=pop.index)], axis=1), geometry=geom_name, crs=CRS
    )

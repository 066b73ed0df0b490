"""The population layer of a built workspace: postal-area points with their population, a 65+
estimate and an area class.

* Each postal area's representative point (Paavo, EPSG:3067) carries the postal area's population.
  A point belongs to the municipality whose polygon contains it, or to the nearest within 2 km
  (generalised boundaries cut coasts).
* There are no age groups at postal level: ``age_65_plus`` is the population times the
  municipality's 65+ share (Paavo), an estimate shown with one decimal.
* No urban–rural grid exists offline, so the area class comes from SYKE's urban settlements:
  inside a settlement of at least :data:`URBAN_SETTLEMENT_MIN` inhabitants ``K2``, inside a smaller
  one ``M4``, outside every settlement the class of the municipality's rural type
  (:data:`RURAL_TYPE_CLASSES`).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputFileError
from ..schema import CRS, normalise_code
from ._files import read_layer, read_table
from .layers import assign_municipality
from .sources import CheckedSource

__all__ = [
    "DEFAULT_OUTSIDE_CLASS",
    "RURAL_TYPE_CLASSES",
    "URBAN_SETTLEMENT_MIN",
    "area_classes",
    "read_postal_points",
    "share_65_plus",
]

URBAN_SETTLEMENT_MIN = 10_000
"""Urban settlements (taajamat) with at least this many inhabitants count as ``K2``."""

RURAL_TYPE_CLASSES: dict[str, str] = {
    "Harvaan asuttu maaseutu": "M7",
    "Ydinmaaseutu": "M6",
    "Kaupunkien läh. maaseutu": "M5",
    "Kaupunkien läheinen maaseutu": "M5",
    "Kaupungit": "M5",
}
"""Area class outside every urban settlement, by the municipality's rural area type."""

DEFAULT_OUTSIDE_CLASS = "M6"
"""The class outside settlements when the municipality's rural type is unknown (core rural)."""


def read_postal_points(population: CheckedSource, centroids: CheckedSource, munis: gpd.GeoDataFrame,
                       notes: list[str]) -> gpd.GeoDataFrame:
    """Every postal area's point: ``cell_id`` (postal code), ``postal_area`` (its name),
    ``population`` (blank when the table has none), ``x``, ``y`` and ``municipality`` (``''``
    when the point is in none of ``munis``)."""
    cen = read_table(centroids, dtype=str)
    label = cen[centroids.col("Postal code area")].astype(str)
    df = pd.DataFrame({
        "cell_id": label.str[:5],
        "postal_area": label.str[5:].str.strip(),
        "x": pd.to_numeric(cen[centroids.col("X coordinate in metres")], errors="coerce"),
        "y": pd.to_numeric(cen[centroids.col("Y coordinate in metres")], errors="coerce"),
    })
    bad = ~df["cell_id"].str.fullmatch(r"\d{5}")
    if bad.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(bad.to_numpy())[:5])
        msg = (f"{centroids.path}: column '{centroids.col('Postal code area')}' does not start with a "
               f"5-digit postal code in row(s) {rows}. Fix: give the original Paavo centroid table")
        raise InputFileError(msg)
    pop = read_table(population, dtype=str)
    codes = pop[population.col("posti_alue")].astype(str).str.strip()
    values = pd.to_numeric(pop[population.col("population_2022")], errors="coerce")
    df["population"] = df["cell_id"].map(dict(zip(codes, values, strict=True)))
    no_xy = df["x"].isna() | df["y"].isna()
    if no_xy.any():
        notes.append(f"{int(no_xy.sum())} postal area(s) without coordinates skipped")
    df = df[~no_xy].reset_index(drop=True)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=CRS)
    gdf["municipality"] = assign_municipality(gdf.geometry, munis)
    return gdf


def share_65_plus(src: CheckedSource, names: Sequence[str]) -> dict[str, float]:
    """Share of people aged 65+ per municipality name; names not in the table are left out."""
    demo = read_table(src)
    bands = [src.col(c.names[0]) for c in src.spec.columns[2:]]
    total = src.col("Inhabitants, total*")
    demo = demo.set_index(demo[src.col("Area")].astype(str).str.strip())
    demo = demo[~demo.index.duplicated(keep="first")]
    totals = pd.to_numeric(demo[total], errors="coerce")
    olds = demo[bands].apply(pd.to_numeric, errors="coerce").sum(axis=1, min_count=len(bands))
    share = olds / totals
    return {n: float(share[n]) for n in names if n in share.index and totals[n] > 0 and np.isfinite(share[n])}


def area_classes(settlements: CheckedSource | None, rural_type: CheckedSource | None,
                 points: gpd.GeoSeries, codes: np.ndarray) -> np.ndarray:
    """The area class of each point (see the module docstring)."""
    if rural_type is not None:
        rural = read_table(rural_type, dtype=str).fillna("")
        types = dict(zip(rural[rural_type.col("kunta")].map(normalise_code),
                         rural[rural_type.col("alueluokka")].str.strip(), strict=True))
    else:
        types = {}
    outside = np.array([RURAL_TYPE_CLASSES.get(types.get(c, ""), DEFAULT_OUTSIDE_CLASS) for c in codes],
                       dtype=object)
    if settlements is None or len(points) == 0:
        return outside
    bounds = tuple(float(v) for v in points.total_bounds)
    taaj = read_layer(settlements, bbox=bounds)  # type: ignore[arg-type]
    pts = gpd.GeoDataFrame(geometry=points.reset_index(drop=True), crs=CRS)
    col = settlements.col("Vaesto21Lk")
    taaj = taaj.assign(_pop=pd.to_numeric(taaj[col], errors="coerce"))
    hit = gpd.sjoin(pts, taaj[["_pop", "geometry"]], how="left", predicate="within")
    pop = hit.groupby(level=0)["_pop"].max().reindex(range(len(pts))).to_numpy(dtype=float)
    return np.where(np.isnan(pop), outside, np.where(pop >= URBAN_SETTLEMENT_MIN, "K2", "M4")).astype(object)

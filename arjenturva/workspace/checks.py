"""Checks shared by the layer loaders: columns, ids, numbers, services, geometries, location.

Each check appends a :class:`~arjenturva.errors.Problem` per finding (naming the file, the row or
id, the column and the fix) to the list it is given, instead of raising, so that every problem
of a workspace is reported at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import Config, InputSpec
from ..errors import Problem
from ..io import to_number
from ..schema import CRS, REQUIRED_COLUMNS, SUPPRESSED, split_list

NEAR_MUNICIPALITY_M = 2000.0
"""Points this close to a municipality (generalised boundaries, shorelines) are assigned to it."""


def _label(cfg: Config, spec: InputSpec) -> str:
    return str(spec.path)


def _missing_columns(
    df: pd.DataFrame, layer: str, label: str, spec: InputSpec, problems: list[Problem]
) -> bool:
    found = [c for c in df.columns if c not in ("geometry", "_row")]
    ok = True
    for col in REQUIRED_COLUMNS[layer]:
        if col not in df.columns:
            ok = False
            close = difflib.get_close_matches(col, found, n=1, cutoff=0.5)
            hint = (
                f"rename '{close[0]}' to '{col}' or map it in the config: `columns: {{{col}: {close[0]}}}`"
                if close
                else f"add a '{col}' column, or map yours in the config: `columns: {{{col}: YOUR_NAME}}`"
            )
            problems.append(
                Problem(
                    label, "", col, f"required column missing (found: {', '.join(found) or 'none'})", hint
                )
            )
    return ok


def _where(row: Any, id_value: Any = None) -> str:
    text = f"row {int(row)}"
    if id_value is not None and str(id_value) not in ("", "nan", "None"):
        text += f" (id {id_value})"
    return text


def _at(df: pd.DataFrame, i: int | np.integer, id_col: str | None) -> str:
    """``row N (id X)`` of the ``i``-th row of a layer, for problem messages."""
    return _where(df["_row"].iloc[i], df[id_col].iloc[i] if id_col else None)


def _flag(
    df: pd.DataFrame,
    mask: Any,
    column: str,
    message: Callable[[int], str],
    fix: str | Callable[[int], str],
    *,
    label: str,
    id_col: str | None,
    problems: list[Problem],
    severity: str = "error",
) -> None:
    """A problem for each row where ``mask`` holds, worded by ``message(i)`` (and ``fix(i)``)."""
    for i in np.flatnonzero(np.asarray(mask, dtype=bool)).tolist():
        problems.append(
            Problem(label, _at(df, i, id_col), column, message(i), fix(i) if callable(fix) else fix, severity)
        )


def _check_ids(df: pd.DataFrame, col: str, label: str, problems: list[Problem]) -> None:
    ids = df[col].astype("string").str.strip()
    blank = ids.isna() | (ids == "")
    for r in df.loc[blank, "_row"]:
        problems.append(Problem(label, _where(r), col, "empty id", f"give every row a unique '{col}'"))
    dup = ids[~blank].duplicated(keep=False)
    if dup.any():
        for value, rows in df.loc[dup[dup].index].groupby(ids[dup[dup].index])["_row"]:
            rows_txt = ", ".join(str(int(r)) for r in rows)
            problems.append(
                Problem(
                    label, f"id {value}", col, f"duplicate id on rows {rows_txt}", f"make each '{col}' unique"
                )
            )
    # Ids differing only by case: Excel lookups, joins and Windows file names take them as one.
    distinct = pd.DataFrame({"id": ids[~blank], "row": df.loc[~blank, "_row"]}).drop_duplicates("id")
    folded = distinct["id"].str.casefold()
    clash = folded.duplicated(keep=False)
    for _, group in distinct[clash].groupby(folded[clash]):
        if len(group) > 1:
            both = " and ".join(
                f"'{v}' (row {int(r)})" for v, r in zip(group["id"], group["row"], strict=True)
            )
            problems.append(
                Problem(
                    label,
                    f"id {group['id'].iloc[0]}",
                    col,
                    f"ids {both} differ only by upper/lower case",
                    f"make each '{col}' differ by more than case (Excel, joins and Windows file names "
                    "ignore case)",
                )
            )


def _repair_geometries(
    gdf: gpd.GeoDataFrame,
    label: str,
    kinds: tuple[str, ...],
    problems: list[Problem],
    id_col: str | None,
    *,
    repair: bool = False,
) -> gpd.GeoDataFrame:
    geom = gdf.geometry
    empty = geom.isna() | geom.is_empty
    known_id = id_col if id_col and id_col in gdf else None
    for i in np.flatnonzero(empty.to_numpy()):
        problems.append(
            Problem(
                label,
                _at(gdf, i, known_id),
                "geometry",
                "empty or missing geometry",
                "draw the feature or delete the row",
            )
        )
    invalid = ~empty & ~geom.is_valid
    if invalid.any():
        for i in np.flatnonzero(invalid.to_numpy()):
            where = _at(gdf, i, known_id)
            reason = shapely.is_valid_reason(geom.iloc[i])
            if repair:
                problems.append(
                    Problem(
                        label,
                        where,
                        "geometry",
                        f"invalid geometry ({reason}); repaired with make_valid",
                        "fix it in QGIS (Vector > Geometry Tools > Fix Geometries)",
                        severity="warning",
                    )
                )
            else:
                problems.append(
                    Problem(
                        label,
                        where,
                        "geometry",
                        f"invalid geometry ({reason})",
                        "fix it in QGIS (Vector > Geometry Tools > Fix Geometries), or add "
                        "`repair: true` to this input in the config to repair it "
                        "automatically with make_valid",
                    )
                )
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = shapely.make_valid(geom[invalid].to_numpy())
    types = gdf.geometry.geom_type
    bad = ~empty & ~types.isin(kinds)
    for i in np.flatnonzero(bad.to_numpy()):
        r = gdf["_row"].iloc[i]
        problems.append(
            Problem(
                label,
                _where(r),
                "geometry",
                f"geometry is {types.iloc[i]}",
                f"use {' or '.join(sorted(set(kinds)))} geometries",
            )
        )
    return gdf


def _numbers(
    df: pd.DataFrame,
    col: str,
    label: str,
    problems: list[Problem],
    *,
    id_col: str | None,
    minimum: float | None = 0,
    maximum: float | None = None,
    allow_suppressed: bool = False,
) -> pd.Series:
    raw = df[col]
    values = to_number(raw)
    text = raw.astype("string").str.strip()
    blank = text.isna() | (text == "")
    nonnum = values.isna() & ~blank
    for i in np.flatnonzero(nonnum.to_numpy()):
        problems.append(
            Problem(
                label,
                _at(df, i, id_col),
                col,
                f"'{raw.iloc[i]}' is not a number",
                "write a number (decimal comma is fine)",
            )
        )
    infinite = np.isinf(values.to_numpy())
    for i in np.flatnonzero(infinite):
        problems.append(
            Problem(
                label,
                _at(df, i, id_col),
                col,
                f"'{raw.iloc[i]}' is not a finite number",
                "write a number (leave the cell blank when there is no value)",
            )
        )
    values = values.where(~infinite)
    if allow_suppressed:
        values = values.where(values != SUPPRESSED)
    if minimum is not None:
        low = values < minimum
        for i in np.flatnonzero(low.fillna(False).to_numpy()):
            problems.append(
                Problem(
                    label,
                    _at(df, i, id_col),
                    col,
                    f"negative value {values.iloc[i]:g}",
                    f"use a value ≥ {minimum:g}"
                    + (" (or -1 / blank for a suppressed count)" if allow_suppressed else ""),
                )
            )
        values = values.where(~low.fillna(False))
    if maximum is not None:
        high = values > maximum
        for i in np.flatnonzero(high.fillna(False).to_numpy()):
            problems.append(
                Problem(
                    label,
                    _at(df, i, id_col),
                    col,
                    f"value {_number(values.iloc[i])} is above {_number(maximum)}",
                    f"use a value between {_number(minimum or 0)} and {_number(maximum)}",
                )
            )
    return values


def _number(value: float) -> str:
    """A number for messages: whole numbers with thin groups (``10 000 000``), others as ``%g``."""
    v = float(value)
    return f"{v:,.0f}".replace(",", " ") if v.is_integer() and abs(v) < 1e15 else f"{v:g}"


def _check_services(
    df: pd.DataFrame, label: str, cfg: Config, problems: list[Problem], id_col: str
) -> pd.Series:
    known = list(cfg.services)
    lists = df["services"].map(split_list)
    for i, items in enumerate(lists):
        where = _at(df, i, id_col)
        if not items:
            problems.append(
                Problem(
                    label,
                    where,
                    "services",
                    "no services listed",
                    f"list service ids separated by ';' (known: {', '.join(known)})",
                )
            )
        for s in items:
            if s not in cfg.services:
                close = difflib.get_close_matches(s, known, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                problems.append(
                    Problem(
                        label,
                        where,
                        "services",
                        f"unknown service '{s}'",
                        f"{hint}use a service id defined under `services:` in the config "
                        f"({', '.join(known)}), or add '{s}' there",
                    )
                )
    return lists.map(lambda items: tuple(s for s in items if s in cfg.services))


def _assign_municipality(points: gpd.GeoSeries, munis: gpd.GeoDataFrame) -> np.ndarray:
    """Code of the municipality containing each point (nearest within 2 km), '' when none."""
    out = np.full(len(points), "", dtype=object)
    valid = ~(points.isna() | points.is_empty).to_numpy()
    if not valid.any() or munis.empty:
        return out
    pts = gpd.GeoDataFrame(geometry=points[valid].reset_index(drop=True), crs=CRS)
    joined = gpd.sjoin_nearest(
        pts, munis[["code", "geometry"]], how="left", max_distance=NEAR_MUNICIPALITY_M, distance_col="_d"
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    codes = joined["code"].reindex(range(len(pts))).to_numpy()
    codes = np.where(pd.isna(codes), "", codes)
    out[np.flatnonzero(valid)] = codes
    return out


OUTSIDE_POINT_MAX_KM = 100.0
"""A service point this far beyond every municipality is taken for wrong coordinates."""


def _outside_points(
    gdf: gpd.GeoDataFrame, munis: gpd.GeoDataFrame, label: str, problems: list[Problem]
) -> None:
    """Service points outside every municipality are used (people cross borders for services):
    one warning says how many and how far. Only implausibly far ones are problems."""
    outside = (gdf["municipality"] == "").to_numpy() & ~(
        gdf.geometry.isna() | gdf.geometry.is_empty
    ).to_numpy()
    if not outside.any():
        return
    union = munis.geometry.union_all()
    dist_km = gdf.geometry[outside].distance(union).to_numpy() / 1000
    far = dist_km > OUTSIDE_POINT_MAX_KM
    rows = np.flatnonzero(outside)
    for i, d in zip(rows[far], dist_km[far], strict=True):
        problems.append(
            Problem(
                label,
                _at(gdf, int(i), "point_id"),
                "geometry",
                f"service point lies {d:.0f} km beyond every municipality",
                "check its coordinates (CRS, swapped x/y); points near the area are used as they are",
            )
        )
    near = dist_km[~far]
    if near.size:
        problems.append(
            Problem(
                label,
                "",
                "geometry",
                f"{near.size} service point(s) lie outside every municipality (up to {near.max():.1f} km "
                "beyond); they are used, since people cross municipal borders for services",
                "nothing to do; add the neighbouring municipalities to the municipalities layer to "
                "name them on maps",
                severity="warning",
            )
        )


def _outside(
    gdf: gpd.GeoDataFrame, label: str, id_col: str | None, problems: list[Problem], what: str
) -> None:
    bad = (gdf["municipality"] == "") & ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    for i in np.flatnonzero(bad.to_numpy()):
        g = gdf.geometry.iloc[i]
        c = g.representative_point() if g.geom_type != "Point" else g
        problems.append(
            Problem(
                label,
                _at(gdf, i, id_col),
                "geometry",
                f"{what} at ({c.x:.0f}, {c.y:.0f}) EPSG:3067 lies outside every municipality",
                "check its coordinates (CRS, swapped x/y) or add its municipality to the "
                "municipalities layer",
            )
        )

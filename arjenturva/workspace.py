"""Loading a workspace: every input read, checked against the data contract and normalised.

All problems are collected and raised together as one :class:`~arjenturva.errors.ValidationError`,
each naming the file, the row or id, the column and the fix (design.md §2).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .config import Config, InputSpec
from .errors import InputFileError, Problem, ValidationError
from .io import read_layer, to_number
from .schema import (
    AGE_COLUMNS,
    AREA_CLASSES,
    CRS,
    MODES,
    REQUIRED_COLUMNS,
    SECTORS,
    SUPPRESSED,
    normalise_code,
    parse_bool,
    split_list,
)

NEAR_MUNICIPALITY_M = 2000.0
"""Points this close to a municipality (generalised boundaries, shorelines) are assigned to it."""


@dataclass
class Workspace:
    """Every input of a workspace, validated, in EPSG:3067 with canonical columns."""

    config: Config
    municipalities: gpd.GeoDataFrame
    population: gpd.GeoDataFrame
    service_points: gpd.GeoDataFrame
    actors: gpd.GeoDataFrame | None = None
    places: gpd.GeoDataFrame | None = None
    warnings: list[Problem] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """What was loaded: features per layer, municipalities, sectors, services, population."""
        pop = self.population
        services_present = sorted({s for lst in self.service_points["services"] for s in lst})
        out: dict[str, Any] = {
            "name": self.config.name,
            "layers": {
                "municipalities": len(self.municipalities),
                "population": len(pop),
                "service_points": len(self.service_points),
                "actors": 0 if self.actors is None else len(self.actors),
                "places": 0 if self.places is None else len(self.places),
            },
            "municipalities": [f"{r.code} {r.name}" for r in self.municipalities.itertuples(index=False)],
            "services_configured": list(self.config.services),
            "services_with_points": services_present,
            "modes": self.service_points["mode"].value_counts().to_dict(),
            "sectors": (
                {} if self.actors is None else self.actors["sector"].value_counts().sort_index().to_dict()
            ),
            "population_total": int(np.nansum(pop["population"].to_numpy())),
            "population_suppressed_cells": int(pop["suppressed"].sum()),
            "warnings": [str(w) for w in self.warnings],
        }
        return out


# ---------------------------------------------------------------------------------------------


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
                    f"value {values.iloc[i]:g} is above {maximum:g}",
                    f"use a value between {minimum} and {maximum}",
                )
            )
    return values


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


# ---------------------------------------------------------------------------------------------
# Per-layer loaders
# ---------------------------------------------------------------------------------------------


def _read(
    cfg: Config, name: str, spec: InputSpec, geometry: str, problems: list[Problem]
) -> tuple[gpd.GeoDataFrame | None, str]:
    label = _label(cfg, spec)
    path = cfg.resolve(spec.path)
    try:
        gdf, read_problems = read_layer(
            path,
            layer=spec.layer,
            columns=spec.columns,
            crs=spec.crs,
            encoding=spec.encoding,
            geometry=geometry,
        )
    except InputFileError as e:
        text = str(e)
        prefix = f"{path}: "
        text = text[len(prefix) :] if text.startswith(prefix) else text
        msg, _, fix = text.partition(". Fix: ")
        problems.append(Problem(label, "", "", msg, fix or "check the file"))
        return None, label
    for p in read_problems:
        problems.append(Problem(label, p.where, p.column, p.message, p.fix, p.severity))
    return gdf, label


def _load_municipalities(cfg: Config, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    gdf, label = _read(cfg, "municipalities", cfg.inputs.municipalities, "required", problems)
    if gdf is None or not _missing_columns(gdf, "municipalities", label, cfg.inputs.municipalities, problems):
        return None
    gdf = gdf.copy()
    gdf["code"] = gdf["code"].map(normalise_code)
    gdf["name"] = gdf["name"].astype("string").fillna("").astype(str)
    _check_ids(gdf, "code", label, problems)
    gdf = _repair_geometries(
        gdf, label, ("Polygon", "MultiPolygon"), problems, "code", repair=cfg.inputs.municipalities.repair
    )
    keep = ["code", "name", *[c for c in ("region", "wellbeing_county") if c in gdf.columns], "_row"]
    return gdf[[*keep, gdf.geometry.name]].reset_index(drop=True)


def _load_population(
    cfg: Config, munis: gpd.GeoDataFrame | None, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    spec = cfg.inputs.population
    gdf, label = _read(cfg, "population", spec, "required", problems)
    if gdf is None or not _missing_columns(gdf, "population", label, spec, problems):
        return None
    gdf = gdf.copy()
    if "cell_id" not in gdf.columns:
        gdf["cell_id"] = [f"cell_{r}" for r in gdf["_row"]]
    gdf["cell_id"] = gdf["cell_id"].astype("string").fillna("").astype(str)
    _check_ids(gdf, "cell_id", label, problems)
    pop = _numbers(gdf, "population", label, problems, id_col="cell_id", allow_suppressed=True)
    gdf["suppressed"] = pop.isna().to_numpy()
    gdf["population"] = pop
    for col in AGE_COLUMNS:
        if col in gdf.columns:
            gdf[col] = _numbers(gdf, col, label, problems, id_col="cell_id", allow_suppressed=True)
        else:
            gdf[col] = np.nan
    if "area_class" in gdf.columns:
        ac = gdf["area_class"].astype("string").str.strip().str.upper()
        bad = ac.notna() & (ac != "") & ~ac.isin(AREA_CLASSES)
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(
                Problem(
                    label,
                    _at(gdf, i, "cell_id"),
                    "area_class",
                    f"unknown area class '{gdf['area_class'].iloc[i]}'",
                    f"use one of {', '.join(AREA_CLASSES)} or leave it blank",
                )
            )
        gdf["area_class"] = ac.where(~bad & ac.notna() & (ac != ""), None).astype(object)
    else:
        gdf["area_class"] = None
    gdf = _repair_geometries(
        gdf, label, ("Polygon", "MultiPolygon", "Point"), problems, "cell_id", repair=spec.repair
    )
    if munis is not None:
        reps = gdf.geometry.copy()
        poly = reps.geom_type.isin(["Polygon", "MultiPolygon"])
        reps[poly] = gdf.geometry[poly].representative_point()
        gdf["municipality"] = _assign_municipality(reps, munis)
        _outside(gdf, label, "cell_id", problems, "population cell")
    else:
        gdf["municipality"] = ""
    keep = ["cell_id", "population", *AGE_COLUMNS, "area_class", "suppressed", "municipality", "_row"]
    return gdf[[*keep, gdf.geometry.name]].reset_index(drop=True)


def _load_service_points(
    cfg: Config, munis: gpd.GeoDataFrame | None, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    spec = cfg.inputs.service_points
    gdf, label = _read(cfg, "service_points", spec, "required", problems)
    if gdf is None or not _missing_columns(gdf, "service_points", label, spec, problems):
        return None
    gdf = gdf.copy()
    gdf["point_id"] = gdf["point_id"].astype("string").fillna("").str.strip().astype(str)
    gdf["name"] = gdf["name"].astype("string").fillna("").astype(str)
    _check_ids(gdf, "point_id", label, problems)
    gdf["services"] = _check_services(gdf, label, cfg, problems, "point_id")
    if "mode" in gdf.columns:
        mode = gdf["mode"].astype("string").str.strip().str.lower().fillna("")
        mode = mode.where(mode != "", "fixed")
        bad = ~mode.isin(MODES)
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(
                Problem(
                    label,
                    _at(gdf, i, "point_id"),
                    "mode",
                    f"unknown mode '{gdf['mode'].iloc[i]}'",
                    f"use one of {', '.join(MODES)}",
                )
            )
        gdf["mode"] = mode.astype(str)
    else:
        gdf["mode"] = "fixed"
    if "days_per_week" in gdf.columns:
        gdf["days_per_week"] = _numbers(gdf, "days_per_week", label, problems, id_col="point_id", maximum=7)
    else:
        gdf["days_per_week"] = np.nan
    missing_days = (gdf["mode"] == "mobile") & gdf["days_per_week"].isna()
    for i in np.flatnonzero(missing_days.to_numpy()):
        problems.append(
            Problem(
                label,
                _at(gdf, i, "point_id"),
                "days_per_week",
                "a mobile point needs the number of days it visits per week",
                "fill in days_per_week (e.g. 1 for a weekly visit)",
            )
        )
    if "capacity" in gdf.columns:
        gdf["capacity"] = _numbers(gdf, "capacity", label, problems, id_col="point_id")
    else:
        gdf["capacity"] = np.nan
    if "actor_id" in gdf.columns:
        gdf["actor_id"] = gdf["actor_id"].astype("string").str.strip().fillna("").astype(str)
    else:
        gdf["actor_id"] = ""
    gdf = _repair_geometries(gdf, label, ("Point",), problems, "point_id")
    if munis is not None:
        gdf["municipality"] = _assign_municipality(gdf.geometry, munis)
        _outside(gdf, label, "point_id", problems, "service point")
    else:
        gdf["municipality"] = ""
    keep = [
        "point_id",
        "name",
        "services",
        "actor_id",
        "mode",
        "days_per_week",
        "capacity",
        "municipality",
        "_row",
    ]
    return gdf[[*keep, gdf.geometry.name]].reset_index(drop=True)


def _load_actors(
    cfg: Config, munis: gpd.GeoDataFrame | None, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    spec = cfg.inputs.actors
    if spec is None:
        return None
    gdf, label = _read(cfg, "actors", spec, "optional", problems)
    if gdf is None or not _missing_columns(gdf, "actors", label, spec, problems):
        return None
    gdf = gdf.copy()
    gdf["actor_id"] = gdf["actor_id"].astype("string").fillna("").str.strip().astype(str)
    gdf["name"] = gdf["name"].astype("string").fillna("").astype(str)
    _check_ids(gdf, "actor_id", label, problems)
    sector = gdf["sector"].astype("string").str.strip().str.lower().fillna("")
    for i in np.flatnonzero((~sector.isin(SECTORS)).to_numpy()).tolist():
        close = difflib.get_close_matches(str(sector.iloc[i]), SECTORS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(
            Problem(
                label,
                _at(gdf, i, "actor_id"),
                "sector",
                f"unknown sector '{gdf['sector'].iloc[i]}'",
                f"{hint}use one of {', '.join(SECTORS)}",
            )
        )
    gdf["sector"] = sector.astype(str)
    gdf["services"] = _check_services(gdf, label, cfg, problems, "actor_id")
    for col, maximum in (("capacity", None), ("max_travel_km", None), ("cost_per_km", None)):
        if col in gdf.columns:
            gdf[col] = _numbers(gdf, col, label, problems, id_col="actor_id", maximum=maximum)
        else:
            gdf[col] = np.nan
    if "capacity" in gdf.columns:
        gdf["capacity"] = gdf["capacity"].fillna(np.inf)
    if "modes" in gdf.columns:
        modes = gdf["modes"].map(split_list)
        for i, items in enumerate(modes):
            for m in items:
                if m not in MODES:
                    problems.append(
                        Problem(
                            label,
                            _at(gdf, i, "actor_id"),
                            "modes",
                            f"unknown mode '{m}'",
                            f"use {', '.join(MODES)} separated by ';'",
                        )
                    )
        gdf["modes"] = modes.map(lambda items: tuple(m for m in items if m in MODES) or ("fixed",))
    else:
        gdf["modes"] = [("fixed",)] * len(gdf)
    known_codes = set(munis["code"]) if munis is not None else set()
    if "municipalities" in gdf.columns:
        lists = gdf["municipalities"].map(split_list)
        out: list[tuple[str, ...]] = []
        for i, items in enumerate(lists):
            if not items or "*" in items:
                out.append(("*",))
                continue
            codes = tuple(normalise_code(c) for c in items)
            for c in codes:
                if known_codes and c not in known_codes:
                    problems.append(
                        Problem(
                            label,
                            _at(gdf, i, "actor_id"),
                            "municipalities",
                            f"unknown municipality code '{c}'",
                            f"use codes of the municipalities layer ({', '.join(sorted(known_codes))}) "
                            "or '*' for all",
                        )
                    )
            out.append(codes)
        gdf["municipalities"] = out
    else:
        gdf["municipalities"] = [("*",)] * len(gdf)
    if "employment_scheme" in gdf.columns:
        vals = gdf["employment_scheme"].map(parse_bool)
        for i in np.flatnonzero(vals.isna().to_numpy()).tolist():
            problems.append(
                Problem(
                    label,
                    _at(gdf, i, "actor_id"),
                    "employment_scheme",
                    f"'{gdf['employment_scheme'].iloc[i]}' is not yes/no",
                    "write true or false",
                )
            )
        gdf["employment_scheme"] = vals.fillna(False).astype(bool)
    else:
        gdf["employment_scheme"] = False
    if "languages" in gdf.columns:
        gdf["languages"] = gdf["languages"].map(lambda v: tuple(split_list(v)) or ("fi",))
    else:
        gdf["languages"] = [("fi",)] * len(gdf)
    has_geom = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    if munis is not None and has_geom.any():
        gdf["base_municipality"] = _assign_municipality(gdf.geometry, munis)
    else:
        gdf["base_municipality"] = ""
    needs_base = gdf["modes"].map(lambda m: "mobile" in m) & ~has_geom
    for i in np.flatnonzero(needs_base.to_numpy()).tolist():
        problems.append(
            Problem(
                label,
                _at(gdf, i, "actor_id"),
                "lon/lat",
                "a mobile actor has no base location; it cannot be given mobile routes",
                "add its base coordinates",
                severity="warning",
            )
        )
    keep = [
        "actor_id",
        "name",
        "sector",
        "services",
        "capacity",
        "municipalities",
        "modes",
        "max_travel_km",
        "employment_scheme",
        "cost_per_km",
        "languages",
        "base_municipality",
        "_row",
    ]
    return gdf[[*keep, gdf.geometry.name]].reset_index(drop=True)


def _load_places(cfg: Config, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    spec = cfg.inputs.places
    if spec is None:
        return None
    gdf, label = _read(cfg, "places", spec, "required", problems)
    if gdf is None or not _missing_columns(gdf, "places", label, spec, problems):
        return None
    gdf = gdf.copy()
    gdf["name"] = gdf["name"].astype("string").fillna("").astype(str)
    gdf = _repair_geometries(gdf, label, ("Point", "MultiPoint"), problems, None)
    keep = ["name", *[c for c in ("kind", "population") if c in gdf.columns], "_row"]
    return gdf[[*keep, gdf.geometry.name]].reset_index(drop=True)


def load_workspace(config: Config, *, progress: Callable[[str], None] | None = None) -> Workspace:
    """Read and validate every input named in the config.

    Parameters
    ----------
    config
        The workspace configuration (see :func:`arjenturva.config.load_config`).
    progress
        Optional callback receiving a short message per step.

    Returns
    -------
    Workspace
        The validated layers. Warnings (repaired geometries and similar) are in ``warnings``.

    Raises
    ------
    ValidationError
        With every problem found, when any input breaks the data contract.
    """
    problems: list[Problem] = []
    say = progress or (lambda _msg: None)
    say("municipalities")
    munis = _load_municipalities(config, problems)
    say("population")
    pop = _load_population(config, munis, problems)
    say("service points")
    points = _load_service_points(config, munis, problems)
    say("actors")
    actors = _load_actors(config, munis, problems)
    places = _load_places(config, problems)
    if points is not None and actors is not None:
        known = set(actors["actor_id"])
        label = str(config.inputs.service_points.path)
        for aid, row, pid in zip(points["actor_id"], points["_row"], points["point_id"], strict=True):
            if aid and aid not in known:
                problems.append(
                    Problem(
                        label,
                        _where(row, pid),
                        "actor_id",
                        f"unknown actor '{aid}'",
                        "use an actor_id from the actors file or leave it blank",
                    )
                )
    if config.network.source:
        src = config.resolve(config.network.source)
        if not src.exists():
            problems.append(
                Problem(
                    "arjenturva.yaml",
                    "",
                    "network.source",
                    f"road network file {src} not found",
                    "check `network.source` (relative to the config file)",
                )
            )
    if any(p.severity == "error" for p in problems):
        raise ValidationError(problems)
    assert munis is not None and pop is not None and points is not None  # guaranteed when no errors
    files = {
        name: config.resolve(spec.path)
        for name, spec in config.inputs.model_dump().items()
        if spec is not None
        for spec in [getattr(config.inputs, name)]
    }
    return Workspace(
        config=config,
        municipalities=munis,
        population=pop,
        service_points=points,
        actors=actors,
        places=places,
        warnings=[p for p in problems if p.severity != "error"],
        files=files,
    )

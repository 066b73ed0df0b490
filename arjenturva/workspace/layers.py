"""One loader per input layer: read, check against the data contract and normalise.

Every loader returns the layer in EPSG:3067 with canonical columns (or ``None`` when it cannot be
read) and appends what it finds to ``problems``.
"""

from __future__ import annotations

import difflib

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import Config, InputSpec
from ..errors import InputFileError, Problem
from ..io import read_layer
from ..schema import AGE_COLUMNS, AREA_CLASSES, MODES, SECTORS, normalise_code, parse_bool, split_list
from .checks import (
    _assign_municipality,
    _at,
    _check_ids,
    _check_services,
    _flag,
    _label,
    _missing_columns,
    _numbers,
    _outside,
    _outside_points,
    _repair_geometries,
)


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
    gdf["code"] = gdf["code"].map(lambda v: "" if pd.isna(v) else normalise_code(v))
    gdf["name"] = gdf["name"].astype("string").fillna("").astype(str)
    _check_ids(gdf, "code", label, problems)
    codes = gdf["code"]
    _flag(
        gdf,
        ~codes.str.fullmatch(r"\d{3}") & (codes != ""),
        "code",
        lambda i: f"municipality code '{codes.iloc[i]}' is not a 3-digit number",
        "use the Statistics Finland municipality code, e.g. 005 or 615 (leading zeros may be left out)",
        label=label,
        id_col="code",
        problems=problems,
    )
    gdf = _repair_geometries(
        gdf, label, ("Polygon", "MultiPolygon"), problems, "code", repair=cfg.inputs.municipalities.repair
    )
    keep = ["code", "name", *[c for c in ("region", "wellbeing_county") if c in gdf.columns], "_row"]
    return gdf[[*keep, gdf.geometry.name]].reset_index(drop=True)


MAX_PEOPLE = 10_000_000
"""More people than this in one population feature (twice Finland's population) is an error."""


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
    pop = _numbers(
        gdf, "population", label, problems, id_col="cell_id", maximum=MAX_PEOPLE, allow_suppressed=True
    )
    if pop.isna().all() and not any(p.file == label and p.column == "population" for p in problems):
        problems.append(
            Problem(
                label,
                "",
                "population",
                f"the population of every feature ({len(gdf)}) is suppressed (-1 or blank): there is "
                "no one to count, and every result would be 0",
                "use population data with counts (Statistics Finland's 1 km grid suppresses cells "
                "under 10 people; its 5 km grid or the municipality's own data have them)",
            )
        )
    gdf["suppressed"] = pop.isna().to_numpy()
    gdf["population"] = pop
    for col in AGE_COLUMNS:
        if col in gdf.columns:
            gdf[col] = _numbers(
                gdf, col, label, problems, id_col="cell_id", maximum=MAX_PEOPLE, allow_suppressed=True
            )
        else:
            gdf[col] = np.nan
    _check_ages(gdf, label, problems)
    if "area_class" in gdf.columns:
        ac = gdf["area_class"].astype("string").str.strip().str.upper()
        bad = ac.notna() & (ac != "") & ~ac.isin(AREA_CLASSES)
        given = gdf["area_class"]
        _flag(
            gdf,
            bad,
            "area_class",
            lambda i: f"unknown area class '{given.iloc[i]}'",
            f"use one of {', '.join(AREA_CLASSES)} or leave it blank",
            label=label,
            id_col="cell_id",
            problems=problems,
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


def _check_ages(gdf: gpd.GeoDataFrame, label: str, problems: list[Problem]) -> None:
    """An age group above the cell's population is an error; age groups that add up to more than
    the population only warn (sources that round or perturb counts do that), as does a population
    that is not a whole number (estimates have it; so has a misread thousands separator). Age
    groups are often estimated from shares, so their fractions pass."""
    pop = gdf["population"]
    over = np.zeros(len(gdf), bool)
    for col in AGE_COLUMNS:
        counts = gdf[col]
        high = (counts > pop).to_numpy()
        over |= high

        def says(i: int, col: str = col, counts: pd.Series = counts) -> str:
            return f"{counts.iloc[i]:g} people in {col}, more than the population {pop.iloc[i]:g}"

        _flag(
            gdf,
            high,
            col,
            says,
            "check the counts: no age group can exceed the cell's population (or mark both "
            "suppressed with -1)",
            label=label,
            id_col="cell_id",
            problems=problems,
        )
    people = pop.to_numpy(dtype=float)
    fraction = np.isfinite(people) & (people != np.round(people))
    if fraction.any():
        first = int(np.flatnonzero(fraction)[0])
        problems.append(
            Problem(
                label,
                _at(gdf, first, "cell_id"),
                "population",
                f"{int(fraction.sum())} feature(s) hold a population that is not a whole number "
                f"(here {people[first]:g})",
                "none if they are estimates (e.g. areal interpolation); otherwise check the decimal "
                "separator: thousands are written 12345, not 12.345 or 12,345",
                severity="warning",
            )
        )
    total = gdf[list(AGE_COLUMNS)].sum(axis=1, min_count=len(AGE_COLUMNS))
    summed = ((total > pop + 0.5).to_numpy()) & ~over
    if summed.any():
        first = int(np.flatnonzero(summed)[0])
        problems.append(
            Problem(
                label,
                _at(gdf, first, "cell_id"),
                ", ".join(AGE_COLUMNS),
                f"in {int(summed.sum())} cell(s) the age groups add up to more than the population "
                f"(here {total.iloc[first]:g} > {pop.iloc[first]:g})",
                "none if the source rounds or perturbs its counts; otherwise check the age columns",
                severity="warning",
            )
        )


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
        given = gdf["mode"]
        _flag(
            gdf,
            ~mode.isin(MODES),
            "mode",
            lambda i: f"unknown mode '{given.iloc[i]}'",
            f"use one of {', '.join(MODES)}",
            label=label,
            id_col="point_id",
            problems=problems,
        )
        gdf["mode"] = mode.astype(str)
    else:
        gdf["mode"] = "fixed"
    if "days_per_week" in gdf.columns:
        gdf["days_per_week"] = _numbers(gdf, "days_per_week", label, problems, id_col="point_id", maximum=7)
    else:
        gdf["days_per_week"] = np.nan
    mobile = gdf["mode"] == "mobile"
    _flag(
        gdf,
        mobile & (gdf["days_per_week"] == 0),
        "days_per_week",
        lambda i: "a mobile point visiting 0 days per week serves no one",
        "give the days it visits per week (e.g. 1), or delete the row (a scenario's `close_points` "
        "models a route that stops)",
        label=label,
        id_col="point_id",
        problems=problems,
    )
    _flag(
        gdf,
        mobile & gdf["days_per_week"].isna(),
        "days_per_week",
        lambda i: "a mobile point needs the number of days it visits per week",
        "fill in days_per_week (e.g. 1 for a weekly visit)",
        label=label,
        id_col="point_id",
        problems=problems,
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
        _outside_points(gdf, munis, label, problems)
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
        _flag(
            gdf,
            vals.isna(),
            "employment_scheme",
            lambda i: f"'{gdf['employment_scheme'].iloc[i]}' is not yes/no",
            "write true or false",
            label=label,
            id_col="actor_id",
            problems=problems,
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
    _flag(
        gdf,
        gdf["modes"].map(lambda m: "mobile" in m) & ~has_geom,
        "lon/lat",
        lambda i: "a mobile actor has no base location; it cannot be given mobile routes",
        "add its base coordinates",
        label=label,
        id_col="actor_id",
        problems=problems,
        severity="warning",
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
    if "population" in gdf.columns:
        gdf["population"] = _numbers(gdf, "population", label, problems, id_col=None, maximum=MAX_PEOPLE)
    gdf = _repair_geometries(gdf, label, ("Point", "MultiPoint"), problems, None)
    keep = ["name", *[c for c in ("kind", "population") if c in gdf.columns], "_row"]
    return gdf[[*keep, gdf.geometry.name]].reset_index(drop=True)

"""The ``vehicles`` input: the vehicles of mobile actors that ``arjenturva routes`` plans weekly routes for.

One row per vehicle: ``vehicle_id``, ``actor_id`` (an actor with the ``mobile`` mode), its base
(``x``/``y`` in EPSG:3067 or ``lon``/``lat``; blank = the actor's base), ``hours_per_day`` (the
working day), ``weekdays`` (``mon;tue;thu`` or ``ma;ti;to``), and optionally ``max_duration_min``
(longest route; blank = the working day), ``max_distance_km`` (blank = no limit), ``cost_per_km``
(blank = the actor's), ``services`` (blank = the actor's services that have a ``mobile`` rule) and
``name`` (blank = the id).

:func:`load_vehicles` checks every row against the actors and the service catalogue and appends a
:class:`~arjenturva.errors.Problem` for each finding, naming the file, the row or id, the column
and the fix.
"""

from __future__ import annotations

import difflib
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import Config
from ..errors import Problem
from ..schema import split_list
from .checks import _at, _check_ids, _flag, _missing_columns, _numbers
from .layers import _read

WEEKDAYS: Final[tuple[str, ...]] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday codes, Monday first: the ``weekday`` column of ``routes.csv``."""

WEEKDAY_NAMES: Final[dict[str, str]] = {
    **{d: d for d in WEEKDAYS},
    **dict(zip(("ma", "ti", "ke", "to", "pe", "la", "su"), WEEKDAYS, strict=True)),
    **dict(
        zip(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
            WEEKDAYS,
            strict=True,
        )
    ),
    **dict(
        zip(
            ("maanantai", "tiistai", "keskiviikko", "torstai", "perjantai", "lauantai", "sunnuntai"),
            WEEKDAYS,
            strict=True,
        )
    ),
}
"""What the ``weekdays`` column accepts (any case): English or Finnish, short or full."""

_BASE = "x/y or lon/lat"


def parse_weekdays(value: object) -> tuple[tuple[str, ...], list[str]]:
    """The weekday codes of a ``weekdays`` cell, Monday first, and the items not understood."""
    days: set[str] = set()
    bad: list[str] = []
    for item in split_list(value):
        code = WEEKDAY_NAMES.get(item.strip().lower().rstrip("."))
        if code is None:
            bad.append(item)
        else:
            days.add(code)
    return tuple(d for d in WEEKDAYS if d in days), bad


def _optional_numbers(gdf: pd.DataFrame, col: str, label: str, problems: list[Problem]) -> pd.Series:
    if col not in gdf.columns:
        return pd.Series(np.nan, index=gdf.index)
    return _numbers(gdf, col, label, problems, id_col="vehicle_id")


def _check_actors(
    gdf: gpd.GeoDataFrame, actors: gpd.GeoDataFrame, label: str, problems: list[Problem]
) -> np.ndarray:
    """Row of each vehicle's actor in ``actors`` (-1 when unknown or not mobile)."""
    index = {a: i for i, a in enumerate(actors["actor_id"])}
    folded = {a.casefold(): a for a in index}
    rows = np.full(len(gdf), -1)
    for i, aid in enumerate(gdf["actor_id"]):
        where = _at(gdf, i, "vehicle_id")
        if not aid:
            problems.append(
                Problem(label, where, "actor_id", "no actor", "give the actor_id of the vehicle's owner")
            )
        elif aid not in index:
            hint = f"did you mean '{folded[aid.casefold()]}'? " if aid.casefold() in folded else ""
            problems.append(
                Problem(
                    label,
                    where,
                    "actor_id",
                    f"unknown actor '{aid}'",
                    f"{hint}use an actor_id of the actors file",
                )
            )
        elif "mobile" not in actors["modes"].iloc[index[aid]]:
            problems.append(
                Problem(
                    label,
                    where,
                    "actor_id",
                    f"actor '{aid}' has no mobile mode (modes: {';'.join(actors['modes'].iloc[index[aid]])})",
                    "add 'mobile' to the actor's modes in the actors file, or give the vehicle a "
                    "mobile actor",
                )
            )
        else:
            rows[i] = index[aid]
    return rows


def _services(
    gdf: gpd.GeoDataFrame,
    cfg: Config,
    actors: gpd.GeoDataFrame,
    actor_row: np.ndarray,
    label: str,
    problems: list[Problem],
) -> list[tuple[str, ...]]:
    """Each vehicle's services: those given, each checked, or the actor's services with a mobile rule."""
    mobile = [s for s, svc in cfg.services.items() if svc.mobile is not None]
    given = gdf["services"].map(split_list) if "services" in gdf.columns else pd.Series([[]] * len(gdf))
    out: list[tuple[str, ...]] = []
    for i, items in enumerate(given):
        where = _at(gdf, i, "vehicle_id")
        offered = tuple(actors["services"].iloc[actor_row[i]]) if actor_row[i] >= 0 else ()
        if not items:
            own = tuple(s for s in offered if s in mobile)
            if actor_row[i] >= 0 and not own:
                problems.append(
                    Problem(
                        label,
                        where,
                        "services",
                        f"actor '{gdf['actor_id'].iloc[i]}' offers no service with a `mobile:` rule "
                        f"({';'.join(offered) or 'none'})",
                        f"list the vehicle's services (with a mobile rule: {', '.join(mobile) or 'none'}), "
                        "or add `mobile: {required_days: N}` to the service in the config",
                    )
                )
            out.append(own)
            continue
        kept = []
        for s in items:
            if s not in cfg.services:
                close = difflib.get_close_matches(s, list(cfg.services), n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                problems.append(
                    Problem(
                        label,
                        where,
                        "services",
                        f"unknown service '{s}'",
                        f"{hint}use service ids of the config ({', '.join(cfg.services)}), separated by ';'",
                    )
                )
            elif cfg.services[s].mobile is None:
                problems.append(
                    Problem(
                        label,
                        where,
                        "services",
                        f"service '{s}' has no `mobile:` rule, so no vehicle can serve it",
                        f"add `mobile: {{required_days: N}}` to services.{s} in the config, or remove '{s}'",
                    )
                )
            elif actor_row[i] >= 0 and s not in offered:
                problems.append(
                    Problem(
                        label,
                        where,
                        "services",
                        f"actor '{gdf['actor_id'].iloc[i]}' does not offer '{s}' "
                        f"(offers: {';'.join(offered)})",
                        "add the service to the actor's services in the actors file, or remove it here",
                    )
                )
            else:
                kept.append(s)
        out.append(tuple(dict.fromkeys(kept)))
    return out


def load_vehicles(
    cfg: Config, actors: gpd.GeoDataFrame | None, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    """Read and check ``inputs.vehicles`` (None when the config names none or it cannot be read).

    Returns
    -------
    GeoDataFrame or None
        ``vehicle_id``, ``name``, ``actor_id``, ``hours_per_day``, ``weekdays`` (codes, Monday first),
        ``max_duration_min``, ``max_distance_km``, ``cost_per_km``, ``services`` (tuples),
        ``_row`` and the base point (the actor's where the row gives none).
    """
    spec = cfg.inputs.vehicles
    if spec is None:
        return None
    gdf, label = _read(cfg, "vehicles", spec, "optional", problems)
    if gdf is None or not _missing_columns(gdf, "vehicles", label, spec, problems):
        return None
    if cfg.inputs.actors is None:
        problems.append(
            Problem(
                "arjenturva.yaml",
                "",
                "inputs.vehicles",
                "vehicles belong to actors, but no actors input is given",
                "add `actors: {path: actors.csv}` under `inputs:`",
            )
        )
    gdf = gdf.copy()
    for col in ("vehicle_id", "actor_id"):
        gdf[col] = gdf[col].astype("string").fillna("").str.strip().astype(str)
    _check_ids(gdf, "vehicle_id", label, problems)
    name = gdf["name"].astype("string").fillna("").str.strip() if "name" in gdf.columns else gdf["vehicle_id"]
    gdf["name"] = name.where(name != "", gdf["vehicle_id"]).astype(str)
    hours = _numbers(gdf, "hours_per_day", label, problems, id_col="vehicle_id", maximum=24)
    blank = gdf["hours_per_day"].astype("string").str.strip().fillna("").eq("").to_numpy()
    _flag(
        gdf,
        blank,
        "hours_per_day",
        lambda i: "no working hours",
        "give the working day's length in hours, e.g. 8",
        label=label,
        id_col="vehicle_id",
        problems=problems,
    )
    _flag(
        gdf,
        (hours == 0).to_numpy(),
        "hours_per_day",
        lambda i: "a working day of 0 hours",
        "give the working day's length in hours, above 0 (e.g. 8)",
        label=label,
        id_col="vehicle_id",
        problems=problems,
    )
    gdf["hours_per_day"] = hours.where(hours > 0)
    parsed = gdf["weekdays"].map(parse_weekdays)
    for i, (days, bad) in enumerate(parsed):
        for item in bad:
            problems.append(
                Problem(
                    label,
                    _at(gdf, i, "vehicle_id"),
                    "weekdays",
                    f"unknown weekday '{item}'",
                    "use mon tue wed thu fri sat sun (or ma ti ke to pe la su), separated by ';'",
                )
            )
        if not days and not bad:
            problems.append(
                Problem(
                    label,
                    _at(gdf, i, "vehicle_id"),
                    "weekdays",
                    "no weekdays",
                    "list the days the vehicle drives, e.g. mon;wed;fri",
                )
            )
    gdf["weekdays"] = [days for days, _ in parsed]
    duration = _optional_numbers(gdf, "max_duration_min", label, problems)
    distance = _optional_numbers(gdf, "max_distance_km", label, problems)
    for values, col, unit in ((duration, "max_duration_min", "minutes"), (distance, "max_distance_km", "km")):
        _flag(
            gdf,
            (values == 0).to_numpy(),
            col,
            lambda _i: "a limit of 0: the vehicle could not leave its base",
            f"give the limit in {unit} above 0, or leave it blank for none",
            label=label,
            id_col="vehicle_id",
            problems=problems,
        )
    long = (duration > hours * 60).to_numpy()
    _flag(
        gdf,
        long,
        "max_duration_min",
        lambda i: (
            f"max_duration_min {duration.iloc[i]:g} is longer than the working day ({hours.iloc[i]:g} h), "
            "which limits the route"
        ),
        "nothing to do, or shorten one of them",
        label=label,
        id_col="vehicle_id",
        problems=problems,
        severity="warning",
    )
    gdf["max_duration_min"] = duration.where(duration > 0)
    gdf["max_distance_km"] = distance.where(distance > 0)
    cost = _optional_numbers(gdf, "cost_per_km", label, problems)
    if actors is None:
        gdf["services"] = [()] * len(gdf)
        gdf["cost_per_km"] = cost.fillna(0.0)
    else:
        actor_row = _check_actors(gdf, actors, label, problems)
        gdf["services"] = _services(gdf, cfg, actors, actor_row, label, problems)
        own_cost = actors["cost_per_km"].to_numpy(float)[np.maximum(actor_row, 0)]
        gdf["cost_per_km"] = cost.fillna(
            pd.Series(np.where(actor_row >= 0, own_cost, np.nan), index=gdf.index)
        )
        gdf["cost_per_km"] = gdf["cost_per_km"].fillna(0.0)
        _bases(gdf, actors, actor_row, label, problems)
    keep = [
        "vehicle_id",
        "name",
        "actor_id",
        "hours_per_day",
        "weekdays",
        "max_duration_min",
        "max_distance_km",
        "cost_per_km",
        "services",
        "_row",
    ]
    return gdf[[*keep, gdf.geometry.name]].reset_index(drop=True)


def _bases(
    gdf: gpd.GeoDataFrame,
    actors: gpd.GeoDataFrame,
    actor_row: np.ndarray,
    label: str,
    problems: list[Problem],
) -> None:
    """Fill blank bases with the actor's; a vehicle with neither is a problem (coordinates the
    reader could not use are named by the reader already)."""
    blank = (gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    # Rows whose coordinates the reader could not use: it named them already.
    named = {p.where for p in problems if p.file == label and "/" in p.column}
    actor_geom = actors.geometry
    for i in np.flatnonzero(blank & (actor_row >= 0)):
        g = actor_geom.iloc[actor_row[i]]
        if g is not None and not g.is_empty:
            gdf.loc[gdf.index[i], gdf.geometry.name] = g
        elif f"row {gdf['_row'].iloc[i]}" not in named:
            problems.append(
                Problem(
                    label,
                    _at(gdf, i, "vehicle_id"),
                    _BASE,
                    f"no base: the row gives none and actor '{gdf['actor_id'].iloc[i]}' has no base location",
                    "give the vehicle's base as x/y (EPSG:3067) or lon/lat, or the actor's base in the "
                    "actors file",
                )
            )

"""The data of ``map.html``: the layers of a results folder as GeoJSON (EPSG:4326, coordinates
rounded to about a metre) with the properties the page's script draws and shows.

Cells carry their reach class and road distance per service and the crosses of the cells the roads
do not reach; service points their services, mode, whether they are beyond the snap tolerance and
popup values; gap areas and proposals their popup values; roads are merged and simplified per road
group; the context municipalities come apart from the study area's borders; names (study
municipalities, places, context municipalities) come in the order they win space. User text is
only ever data here: the page sets it as text.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np
import pandas as pd

from .. import labels
from ..schema import CRS, WGS84
from .mapdata import (
    MODES,
    MapData,
    off_road_points,
    read_actors,
    road_group,
    service_reach_class,
    services_of,
    split_ids,
    unreachable_cells,
)
from .maplabels import place_order

if TYPE_CHECKING:
    import geopandas as gpd

    from ..config import Config

#: More population cells than this are drawn on a canvas instead of as SVG paths (speed).
CANVAS_CELLS_ABOVE: Final = 5000
#: Tolerance (m) of the simplification of roads, and decimals of the page's coordinates (~1 m).
ROAD_SIMPLIFY_M: Final = 25.0
COORD_DECIMALS: Final = 5
_POLE_TOLERANCE_M: Final = 100.0  # precision of the points municipality names are written at


def page_layers(
    data: MapData, roads: gpd.GeoDataFrame | None, services: list[str], config: Config, lang: str
) -> dict[str, Any]:
    """The layers of the page: ``cells``, ``gaps``, ``points``, ``proposals``, ``routes``, ``roads``,
    ``borders`` (of the study municipalities), ``context`` and ``labels``, for ``services`` (in
    the order of the page's service indices)."""
    return {
        "cells": _cells(data, services, config, lang),
        "gaps": _gap_areas(data, services, lang),
        "points": _points(data, services, config, lang),
        "proposals": _proposals(data, services, config, lang),
        "routes": _routes(data, config, lang),
        "roads": _roads(roads),
        "borders": _features(data.municipalities, [{} for _ in range(len(data.municipalities))]),
        "context": _context(data),
        "labels": _labels(data),
    }


def _features(gdf: gpd.GeoDataFrame, props: list[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (EPSG:4326, coordinates rounded) of ``gdf`` with ``props``."""
    import shapely

    geoms = gdf.geometry.to_crs(WGS84).to_numpy()
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))
    texts = shapely.to_geojson(geoms)
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": p, "geometry": json.loads(g)}
            for p, g in zip(props, texts, strict=True)
            if g is not None
        ],
    }


def _text(v: Any) -> str:
    """User text of a cell, blank for missing values."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    try:
        return "" if bool(pd.isna(v)) else str(v)
    except (TypeError, ValueError):
        return str(v)


def _rows(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """The attributes of each feature (without its geometry), one dict per row."""
    rows = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).to_dict("records")
    return cast("list[dict[str, Any]]", rows)


def _drawable(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if gdf is None or gdf.empty:
        return None
    gdf = gdf.loc[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    return None if gdf.empty else gdf


def _cells(data: MapData, services: list[str], config: Config, lang: str) -> dict[str, Any]:
    """The population cells with, per service (in ``services`` order), the reach class ``c`` (as
    on the PNG maps: :func:`.mapdata.service_reach_class`) and the road distance ``d`` in hundreds
    of metres (null when unreachable); and where the unreachable cells are (``unreachable``)."""
    pop = data.population
    classes = [service_reach_class(pop, s, config.services[s]).tolist() for s in services]
    dist: list[list[int | None]] = []
    for s in services:
        d = pd.to_numeric(pop[f"{s}_distance_m"], errors="coerce").to_numpy(dtype=float)
        dist.append([int(round(v / 100)) if np.isfinite(v) else None for v in d])
    people = [labels.format_number(v, lang) for v in pop["population"]]
    props = [
        {"p": people[i], "c": [c[i] for c in classes], "d": [d[i] for d in dist]} for i in range(len(pop))
    ]
    return {
        "canvas": len(pop) > CANVAS_CELLS_ABOVE,
        "fc": _features(pop, props),
        "unreachable": _cut_off(pop, services),
    }


def _cut_off(pop: gpd.GeoDataFrame, services: list[str]) -> list[list[Any]]:
    """``[lat, lon, [service indices]]`` of the cells the roads do not reach for some service
    (:func:`.mapdata.unreachable_cells`), at a point inside each."""
    per_service = [unreachable_cells(pop, [s]) for s in services]
    if not per_service:
        return []
    anyone = np.logical_or.reduce(per_service)
    where = pop.geometry[anyone].representative_point().to_crs(WGS84)
    rows = np.flatnonzero(anyone)
    return [
        [
            round(p.y, COORD_DECIMALS),
            round(p.x, COORD_DECIMALS),
            [k for k, u in enumerate(per_service) if u[i]],
        ]
        for p, i in zip(where, rows, strict=True)
    ]


def _gap_areas(data: MapData, services: list[str], lang: str) -> dict[str, Any]:
    t = labels.ui(lang)
    fields = [t["place"], t["population"], t["uncovered"], t["age65"], t["distance"]]
    gaps = data.gap_areas.loc[data.gap_areas["service"].astype(str).isin(services).to_numpy()]
    props = [
        {
            "s": services.index(str(row["service"])),
            "v": [
                _text(row["place"]),
                labels.format_number(row["population"], lang),
                labels.format_number(row["uncovered_population"], lang),
                labels.format_number(row["age_65_plus"], lang),
                labels.format_number(row["site_distance_m"] / 1000, lang, 1),
            ],
        }
        for row in _rows(gaps)
    ]
    return {"fields": fields, "fc": _features(gaps, props)}


def _points(data: MapData, services: list[str], config: Config, lang: str) -> dict[str, Any]:
    """The service points with their services (indices), mode, whether they are beyond the snap
    tolerance (``o``, not used), name and popup values."""
    t = labels.ui(lang)
    actors = read_actors(config)
    pts = data.service_points
    off = off_road_points(pts)
    props = []
    for row, svcs, beyond in zip(_rows(pts), services_of(pts), off, strict=True):
        mode = _text(row.get("mode")) or "fixed"
        actor_id = _text(row.get("actor_id"))
        actor_name, sector = actor_id, ""
        if actors is not None and actor_id in actors.index:
            actor_name = str(actors.loc[actor_id].get("name", actor_id))
            sector = labels.label(labels.SECTOR, str(actors.loc[actor_id].get("sector", "")), lang)
        days = labels.format_number(row.get("days_per_week"), lang, 1)
        props.append(
            {
                "s": [services.index(s) for s in svcs if s in services],
                "m": mode if mode in MODES else "fixed",
                "o": bool(beyond),
                "n": _text(row.get("name")),
                "v": [
                    _text(row.get("name")),
                    ", ".join(labels.service_label(config, x, lang) for x in svcs),
                    actor_name,
                    sector,
                    labels.label(labels.MODE, mode, lang),
                    days.removesuffix(",0").removesuffix(".0"),
                ],
            }
        )
    fields = [t["name"], t["services"], t["operator"], t["sector"], t["mode"], t["days"]]
    return {"fields": fields, "fc": _features(pts, props)}


def _proposals(data: MapData, services: list[str], config: Config, lang: str) -> dict[str, Any]:
    """Proposed agreements (service index, popup values) and new sites (service indices)."""
    t = labels.ui(lang)
    out: dict[str, Any] = {
        "fields": [t["service"], t["actor"], t["mode"], t["site"], t["rationale"]],
        "site_fields": [t["site"], t["services"], t["actors"]],
        "fc": None,
        "sites": None,
    }
    prop = _drawable(data.proposals)
    if prop is not None:
        prop = prop.loc[prop["service"].astype(str).isin(services).to_numpy()]
        props = [
            {
                "s": services.index(str(row["service"])),
                "v": [
                    labels.service_label(config, str(row["service"]), lang),
                    _text(row.get("actor_name")) or _text(row.get("actor_id")),
                    labels.label(labels.MODE, _text(row.get("mode")), lang),
                    _text(row.get("site_name")),
                    _text(row.get("rationale")),
                ],
            }
            for row in _rows(prop)
        ]
        out["fc"] = _features(prop, props)
    sites = _drawable(data.new_sites)
    if sites is not None:
        reps = sites.set_geometry(sites.geometry.representative_point())
        props = [
            {
                "s": [services.index(s) for s in svcs if s in services],
                "v": [
                    _text(row.get("site_name")),
                    ", ".join(labels.service_label(config, s, lang) for s in svcs),
                    ", ".join(a for a in _text(row.get("actors")).split(";") if a),
                ],
            }
            for row, svcs in zip(_rows(reps), services_of(reps), strict=True)
        ]
        out["sites"] = _features(reps, props)
    return out


def _routes(data: MapData, config: Config, lang: str) -> dict[str, Any] | None:
    """The weekly routes of mobile services: each vehicle's line per weekday (popup: vehicle,
    weekday, the day's timetable text) and the stops (popup: place, services, vehicles, weekdays),
    or None when the results have no routes."""
    lines, stops = _drawable(data.routes), _drawable(data.route_stops)
    if lines is None and stops is None:
        return None
    t = labels.ui(lang)

    def days(value: Any) -> str:
        return ", ".join(labels.label(labels.WEEKDAY, d, lang) for d in split_ids(value))

    out: dict[str, Any] = {
        "fields": [t["vehicle"], t["weekday"], t["weekly_timetable"]],
        "stop_fields": [t["place"], t["services"], t["vehicle"], t["route_days"]],
        "lines": None,
        "stops": None,
    }
    if lines is not None:
        props = [
            {
                "v": [
                    _text(row.get("vehicle_id")),
                    _capital(labels.label(labels.WEEKDAY, _text(row.get("weekday")), lang)),
                    _text(row.get("timetable")),
                ]
            }
            for row in _rows(lines)
        ]
        out["lines"] = _features(lines, props)
    if stops is not None:
        props = [
            {
                "v": [
                    _text(row.get("place")),
                    ", ".join(labels.service_label(config, x, lang) for x in svcs),
                    ", ".join(split_ids(row.get("vehicles"))),
                    days(row.get("weekdays")),
                ]
            }
            for row, svcs in zip(_rows(stops), services_of(stops), strict=True)
        ]
        out["stops"] = _features(stops, props)
    return out


def _capital(word: str) -> str:
    """A weekday at the start of a popup cell (Finnish weekdays are in lower case)."""
    return word[:1].upper() + word[1:]


def _roads(roads: gpd.GeoDataFrame | None) -> dict[str, Any] | None:
    """Road lines merged and simplified per road group (``g``), or None without roads."""
    import geopandas as gpd
    import shapely

    if roads is None or roads.empty:
        return None
    if roads.crs is not None and roads.crs.to_epsg() != 3067:
        roads = roads.to_crs(CRS)
    groups = roads["road_class"].map(road_group) if "road_class" in roads else pd.Series("local", roads.index)
    names, geoms = [], []
    for g in ("local", "regional", "main", "ferry"):
        lines = roads.geometry.loc[(groups == g).to_numpy()]
        if lines.empty:
            continue
        merged = shapely.line_merge(shapely.union_all(lines.to_numpy()))
        names.append({"g": g})
        geoms.append(shapely.simplify(merged, ROAD_SIMPLIFY_M))
    return _features(gpd.GeoDataFrame(geometry=geoms, crs=CRS), names)


def _labels(data: MapData) -> dict[str, list[list[Any]]]:
    """Names as ``[lat, lon, name]``, each list in the order its names win space on the map:
    the study municipalities (at the pole of each), places (those in the study area first, then
    towns, centres and villages, more people first; :func:`.maplabels.place_order`) and the
    context municipalities."""
    out: dict[str, list[list[Any]]] = {
        "municipalities": _area_names(data.municipalities),
        "places": [],
        "context": _area_names(data.context) if data.context is not None else [],
    }
    places = _drawable(data.places)
    if places is not None:
        import shapely

        pts = places.geometry.representative_point()
        study = data.municipalities.geometry.to_numpy()
        inside = np.zeros(len(places), dtype=bool)
        for g in study:
            inside |= shapely.contains_xy(g, pts.x.to_numpy(), pts.y.to_numpy())
        order = place_order(places, inside)
        wgs = pts.to_crs(WGS84)
        names = places["name"].to_numpy()
        out["places"] = [
            [round(wgs.iloc[i].y, COORD_DECIMALS), round(wgs.iloc[i].x, COORD_DECIMALS), _text(names[i])]
            for i in order
            if _text(names[i])
        ]
    return out


def _area_names(munis: gpd.GeoDataFrame) -> list[list[Any]]:
    """``[lat, lon, name]`` of each municipality, at the pole of inaccessibility of its largest
    part (the point inside farthest from its edges), largest first."""
    import geopandas as gpd
    import shapely
    from shapely.ops import polylabel

    shown = _drawable(munis)
    if shown is None:
        return []
    names = (shown["name"] if "name" in shown else shown["code"]).map(_text).to_numpy()
    largest = [max(shapely.get_parts(g), key=lambda part: part.area) for g in shown.geometry]
    poles = gpd.GeoSeries([polylabel(p, tolerance=_POLE_TOLERANCE_M) for p in largest], crs=shown.crs)
    poles = poles.to_crs(WGS84)
    order = np.lexsort((names, -shown.geometry.area.to_numpy()))
    return [
        [round(poles.iloc[i].y, COORD_DECIMALS), round(poles.iloc[i].x, COORD_DECIMALS), str(names[i])]
        for i in order
        if names[i]
    ]


def _context(data: MapData) -> dict[str, Any] | None:
    """The context municipalities around the study area (drawn as a grey veil), or None."""
    ctx = _drawable(data.context)
    if ctx is None:
        return None
    import shapely

    simple = ctx.set_geometry(shapely.simplify(ctx.geometry.to_numpy(), ROAD_SIMPLIFY_M))
    return _features(simple, [{} for _ in range(len(simple))])

"""The interactive ``map.html`` of a results folder: one self-contained page that works offline.

The page comes from the Jinja2 template ``templates/webmap_page.html.j2`` (autoescaped). Leaflet's
JavaScript and CSS are inlined from the ``django-js-lib-leaflet`` package, a dependency that ships
Leaflet as static files (Django is not needed to read them); the page's own script is
``templates/webmap_app.js``; the map's data is one JSON document in the page. Nothing is loaded
from the network (the page's Content-Security-Policy forbids it); an OpenStreetMap background is
an optional layer, off by default and labelled as needing a network connection.

What is drawn, and how, is one table (:func:`symbols`): the script draws every feature with its
symbol's style and builds the legend from the symbols of the layers on the map, so the legend
lists exactly what is drawn. One service is shown at a time (radio buttons); its service points,
gap areas and proposals, the roads, the place and municipality names and the municipal borders
are overlays beside it. User text only ever reaches the page as JSON data or escaped HTML, and
the script sets it as text, never as markup.
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np
import pandas as pd

from .. import labels
from .. import results as R
from ..errors import ArjenturvaError
from ..io import atomic_path, ensure_writable
from ..schema import CRS, WGS84
from .mapdata import (
    CONTEXT_COLOUR,
    GAP_OUTLINE,
    MODE_STYLE,
    MODES,
    NEW_SITE_STYLE,
    OFF_ROAD_STYLE,
    PROPOSAL_COLOUR,
    REACH_COLOURS,
    ROAD_STYLE,
    UNREACHABLE_STYLE,
    MapData,
    off_road_points,
    reach_class_labels,
    read_actors,
    read_map_data,
    road_group,
    service_reach_class,
    services_of,
    unreachable_cells,
)
from .maplabels import place_order
from .tables import run_credits

if TYPE_CHECKING:
    import geopandas as gpd
    import jinja2

    from ..config import Config
    from ..network import Network

#: The package that ships Leaflet (1.9) as static files, and their folder inside it.
LEAFLET_PACKAGE: Final = "js_lib_leaflet"
_LEAFLET_STATIC: Final = ("static", "js_lib_leaflet")

#: The optional background layer (only loaded when the user turns it on).
OSM_TILES: Final = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION: Final = "© OpenStreetMap contributors (ODbL)"

#: More population cells than this are drawn on a canvas instead of as SVG paths (speed).
CANVAS_CELLS_ABOVE: Final = 5000
#: Tolerance (m) of the simplification of roads, and decimals of the page's coordinates (~1 m).
ROAD_SIMPLIFY_M: Final = 25.0
COORD_DECIMALS: Final = 5

#: Marker shapes of the page for the matplotlib markers of :mod:`.mapdata`.
_SHAPES: Final = {
    "o": "circle", "^": "triangle", "D": "diamond", "*": "star", "P": "plus", "X": "cross", "s": "square",
}  # fmt: skip
#: The context municipalities' veil (as on the PNG maps) and their borders.
_CONTEXT_OPACITY: Final = 0.78
_CONTEXT_BORDER: Final = "#9a9a9a"
_POLE_TOLERANCE_M: Final = 100.0  # precision of the points municipality names are written at
_ROAD_WEIGHT: Final = 1.6  # px per matplotlib line width
_ROAD_DASH: Final = {"ferry": "6 4"}


def find_leaflet_assets() -> Path:
    """The folder holding ``leaflet.js`` and ``leaflet.css`` of the ``django-js-lib-leaflet`` package.

    Raises
    ------
    ArjenturvaError
        When the package (a dependency of arjenturva) is not installed.
    """
    spec = find_spec(LEAFLET_PACKAGE)
    for root in (spec.submodule_search_locations or []) if spec is not None else []:
        folder = Path(root).joinpath(*_LEAFLET_STATIC)
        if (folder / "leaflet.js").is_file() and (folder / "leaflet.css").is_file():
            return folder
    msg = (
        "Leaflet not found: the package django-js-lib-leaflet (a dependency of arjenturva) is missing. "
        "Fix: pip install django-js-lib-leaflet"
    )
    raise ArjenturvaError(msg)


@cache
def _leaflet() -> tuple[str, str]:
    """Leaflet's CSS (its images as data URIs) and JavaScript, ready to inline."""
    folder = find_leaflet_assets()
    css = (folder / "leaflet.css").read_text(encoding="utf-8")
    for img in sorted((folder / "images").glob("*.png")):
        uri = "data:image/png;base64," + base64.b64encode(img.read_bytes()).decode("ascii")
        css = css.replace(f"url(images/{img.name})", f"url({uri})")
    js = (folder / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S*\s*$", "", js).replace("</script", "<\\/script")
    return css, js


@cache
def _templates() -> jinja2.Environment:
    """The Jinja2 environment of the ``webmap_*`` templates (user text autoescaped)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("arjenturva.export", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def _app_js() -> str:
    return (files("arjenturva.export") / "templates" / "webmap_app.js").read_text(encoding="utf-8")


def _json_for_html(data: Any) -> str:
    """JSON that can stand inside a ``<script>`` element (``<``, ``>``, ``&`` as escapes)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def symbols(lang: str) -> dict[str, dict[str, Any]]:
    """Every symbol the web map can draw, in legend order: ``key -> style and legend words``.

    ``kind`` is ``fill`` (cells, the reach classes of the PNG maps; ``index`` is the class, and the
    legend shows the shown service's label of it), ``outline`` (areas drawn as outlines),
    ``area`` (the context municipalities: a veil with borders), ``line``, ``marker`` (``shape``,
    ``fill``, ``edge``, ``size`` in px) or ``text`` (names). The
    page draws each feature with its symbol and gives it the CSS class ``at-sym-<key>``; the
    legend lists the symbols of the layers on the map.
    """
    t = labels.ui(lang)
    out: dict[str, dict[str, Any]] = {}

    def add(key: str, section: str, label: str, kind: str, **style: Any) -> None:
        out[key] = {"section": section, "label": label, "kind": kind, **style}

    for i, (colour, name) in enumerate(zip(REACH_COLOURS, reach_class_labels(None, lang), strict=True)):
        add(f"reach-{i}", t["legend_reach"], name, "fill", colour=colour, index=i)
    for mode in MODES:
        st = MODE_STYLE[mode]
        look = {"shape": _SHAPES[st["marker"]], "fill": st["color"], "size": 15}
        look["edge"] = "#ffffff" if st["edge"] == "white" else "#000000"
        add(f"mode-{mode}", t["legend_points"], labels.label(labels.MODE, mode, lang), "marker", **look)
    st = OFF_ROAD_STYLE
    add("off-road", t["legend_points"], t["legend_off_road_point"], "marker", shape=_SHAPES[st["marker"]],
        fill=st["color"], edge=st["edge"], size=15)  # fmt: skip
    for group in ("main", "regional", "local", "ferry"):
        st = ROAD_STYLE[group]
        look = {
            "colour": st["color"],
            "weight": round(st["lw"] * _ROAD_WEIGHT, 1),
            "dash": _ROAD_DASH.get(group),
        }
        add(f"road-{group}", t["legend_roads"], t[group], "line", **look)
    other, pc, ns = t["legend_other"], PROPOSAL_COLOUR, NEW_SITE_STYLE["color"]
    st = UNREACHABLE_STYLE
    add("unreachable", other, t["legend_unreachable_cell"], "marker", shape=_SHAPES[st["marker"]],
        fill=st["color"], edge="#ffffff", size=13)  # fmt: skip
    add("gap", other, t["legend_gaps"], "outline", colour=GAP_OUTLINE)
    add("proposal-point", other, t["proposal_site"], "marker", shape="plus", fill=pc, edge="#ffffff", size=17)
    add("proposal-line", other, t["proposal_route"], "line", colour=pc, weight=3, dash="8 4")
    add("new-site", other, t["new_site"], "marker", shape="star", fill=ns, edge="#000000", size=24)
    add("border", other, t["border"], "line", colour="#333333", weight=2.5)
    add("context", other, t["legend_context"], "area", colour=CONTEXT_COLOUR, edge=_CONTEXT_BORDER,
        opacity=_CONTEXT_OPACITY)  # fmt: skip
    add("municipality-label", other, t["municipality_name"], "text")
    add("place-label", other, t["place_name"], "text")
    return out


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


def _words(lang: str) -> dict[str, str]:
    """The words the page's script shows (layer names, headings, tooltips)."""
    t = labels.ui(lang)
    keys = (
        "service", "layers", "legend", "legend_points", "layer_gaps", "proposals", "legend_roads",
        "layer_places", "layer_municipality_names", "borders_layer", "osm_layer", "cell_distance",
        "population", "unreachable", "km", "layer_context",
    )  # fmt: skip
    return {k: t[k] for k in keys}


def write_html_map(
    results_dir: str | Path,
    config: Config,
    *,
    network: Network | None = None,
    roads: gpd.GeoDataFrame | None = None,
    services: list[str] | None = None,
    lang: str | None = None,
    force: bool = False,
    basemap_tiles: bool | None = None,
) -> Path:
    """Write the interactive map ``results_dir/map.html``, a single file that works offline.

    One service is shown at a time (radio buttons): its population cells coloured as on the PNG
    maps (distance against each cell's own threshold, covered or not), with its service points
    (name, services, operator, sector, mode and days per week in popups), gap areas (population,
    65+ and distance) and proposals (actor, mode, site and rationale) as overlays, beside the
    roads, place names, municipality names and borders. The legend lists the symbols of the
    layers on the map; the scale is metric; the run's credits (the synthetic-data note when it
    applies, and the sources the workspace declares) are shown.

    Parameters
    ----------
    results_dir
        A results folder holding ``results.gpkg`` and ``run.json``.
    config
        The workspace config.
    network
        A :class:`~arjenturva.network.Network` whose roads are drawn by class.
    roads
        Road lines to draw instead (an optional ``road_class`` column). Without ``network`` and
        ``roads`` the map has no roads.
    services
        Services to offer (default: all of the config found in the results).
    lang
        ``fi`` or ``en`` (default ``config.language``).
    force
        Overwrite an existing ``map.html``.
    basemap_tiles
        Offer the OpenStreetMap background layer (off until the user turns it on; default
        ``config.export.basemap_tiles``).

    Returns
    -------
    Path
        The HTML file written.

    Raises
    ------
    OutputExistsError
        When ``map.html`` exists and ``force`` is false.
    InputFileError
        When ``results.gpkg``, its layers or ``run.json`` are missing.
    ArjenturvaError
        When Leaflet (the ``django-js-lib-leaflet`` package) is not installed.
    """
    from markupsafe import Markup

    language = labels.resolve_language(config, lang)
    t = labels.ui(language)
    results_dir = Path(results_dir)
    target = results_dir / R.WEB_MAP_FILE
    ensure_writable([target], force=force)
    leaflet_css, leaflet_js = _leaflet()
    data = read_map_data(results_dir, config)
    credits = run_credits(R.read_run(results_dir), language)
    wanted = services if services is not None else list(config.services)
    svc_list = [s for s in wanted if s in config.services and f"{s}_distance_m" in data.population]
    if roads is None and network is not None:
        from ..network import edges_geodataframe

        roads = edges_geodataframe(network)
    show_tiles = config.export.basemap_tiles if basemap_tiles is None else basemap_tiles
    b = data.municipalities.to_crs(WGS84).total_bounds
    title = t["interactive_title"].format(name=config.name)
    page_data = {
        "words": _words(language),
        "decimal": "," if language == "fi" else ".",
        "bounds": [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]],
        "symbols": symbols(language),
        "services": [
            {
                "label": labels.service_label(config, s, language),
                "title": t["reach_title"].format(label=labels.service_label(config, s, language)),
                "threshold": f"{t['threshold']}: {labels.format_threshold(config.services[s], language)}",
                "classes": reach_class_labels(config.services[s], language),
            }
            for s in svc_list
        ],
        "cells": _cells(data, svc_list, config, language),
        "gaps": _gap_areas(data, svc_list, language),
        "points": _points(data, svc_list, config, language),
        "proposals": _proposals(data, svc_list, config, language),
        "roads": _roads(roads),
        "borders": _features(data.municipalities, [{} for _ in range(len(data.municipalities))]),
        "context": _context(data),
        "labels": _labels(data),
        "tiles": {"url": OSM_TILES, "attribution": OSM_ATTRIBUTION} if show_tiles else None,
    }
    page = (
        _templates()
        .get_template("webmap_page.html.j2")
        .render(
            lang=language,
            title=title,
            hint=t["hint"],
            cells_note=t["cells_note"].format(n=config.export.suppress_below),
            credits=credits,
            tile_origin="https://tile.openstreetmap.org" if show_tiles else "",
            leaflet_css=Markup(leaflet_css),
            leaflet_js=Markup(leaflet_js),
            app_js=Markup(_app_js().replace("</script", "<\\/script")),
            data_json=Markup(_json_for_html(page_data)),
        )
    )
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return target

"""The interactive ``map.html`` of a results folder: one self-contained page that works offline.

The page comes from the Jinja2 template ``templates/webmap_page.html.j2`` (autoescaped). Leaflet's
JavaScript and CSS are inlined from the ``django-js-lib-leaflet`` package, a dependency that ships
Leaflet as static files (Django is not needed to read them); the page's own script is
``templates/webmap_app.js``; the map's data is one JSON document in the page
(:mod:`.webmap_data`). Nothing is loaded
from the network (the page's Content-Security-Policy forbids it); an OpenStreetMap background is
an optional layer, off by default and labelled as needing a network connection.

What is drawn, and how, is one table (:func:`symbols`): the script draws every feature with its
symbol's style and builds the legend from the symbols of the layers on the map, so the legend
lists exactly what is drawn. The page opens on the study area. One service is shown at a time
(radio buttons); its service points, gap areas and proposals, the roads, the place and
municipality names, the context municipalities (a grey veil, with their names) and the municipal
borders are overlays beside it. User text only ever reaches the page as JSON data or escaped HTML, and
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
from typing import TYPE_CHECKING, Any, Final

from .. import labels
from .. import results as R
from ..errors import ArjenturvaError
from ..io import atomic_path, ensure_writable
from ..schema import WGS84
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
    ROUTE_STOP_STYLE,
    ROUTE_STYLE,
    UNREACHABLE_STYLE,
    reach_class_labels,
    read_map_data,
)
from .tables import run_credits
from .webmap_data import page_layers

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


#: Marker shapes of the page for the matplotlib markers of :mod:`.mapdata`.
_SHAPES: Final = {
    "o": "circle", "^": "triangle", "D": "diamond", "*": "star", "P": "plus", "X": "cross", "s": "square",
}  # fmt: skip
#: The context municipalities' veil (as on the PNG maps) and their borders.
_CONTEXT_OPACITY: Final = 0.78
_CONTEXT_BORDER: Final = "#9a9a9a"
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
    add("route-line", other, t["legend_route"], "line", colour=ROUTE_STYLE["color"], weight=3.5)
    add("route-stop", other, t["legend_route_stop"], "marker", shape=_SHAPES[ROUTE_STOP_STYLE["marker"]],
        fill=ROUTE_STOP_STYLE["color"], edge="#ffffff", size=11)  # fmt: skip
    add("border", other, t["border"], "line", colour="#333333", weight=2.5)
    add("context", other, t["legend_context"], "area", colour=CONTEXT_COLOUR, edge=_CONTEXT_BORDER,
        opacity=_CONTEXT_OPACITY)  # fmt: skip
    add("municipality-label", other, t["municipality_name"], "text")
    add("place-label", other, t["place_name"], "text")
    return out


def _words(lang: str) -> dict[str, str]:
    """The words the page's script shows (layer names, headings, tooltips)."""
    t = labels.ui(lang)
    keys = (
        "service", "layers", "legend", "legend_points", "layer_gaps", "proposals", "legend_roads",
        "layer_places", "layer_municipality_names", "borders_layer", "osm_layer", "cell_distance",
        "population", "unreachable", "km", "layer_context", "routes_layer",
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
        **page_layers(data, roads, svc_list, config, language),
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

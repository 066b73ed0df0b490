"""The interactive ``map.html`` of a results folder (folium / Leaflet), which works offline.

Leaflet's JavaScript and CSS are inlined into the page from a local copy (see
:func:`find_leaflet_assets`), no tile server is needed (an OpenStreetMap background is an optional
layer, off by default) and no other external script or style sheet is referenced. The page's own
HTML (legend, popups, the inlined Leaflet) comes from the Jinja2 templates
``templates/webmap_*.html.j2``, which escape every user text.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from .. import labels
from .. import results as R
from ..errors import ArjenturvaError
from ..io import atomic_path, ensure_writable
from ..schema import WGS84
from .mapdata import (
    GAP_OUTLINE,
    MODE_STYLE,
    MODES,
    NEW_SITE_STYLE,
    PROPOSAL_COLOUR,
    MapData,
    distance_class,
    distance_class_labels,
    distance_colours,
    read_actors,
    read_map_data,
    service_mask,
    services_of,
)
from .tables import run_credits

if TYPE_CHECKING:
    import geopandas as gpd
    import jinja2

    from ..config import Config

#: Environment variable naming a folder with ``leaflet.js`` and ``leaflet.css`` (Leaflet 1.x).
LEAFLET_ENV: Final = "ARJENTURVA_LEAFLET_DIR"

#: Characters that end or interpolate the JavaScript template literals folium puts popups and
#: tooltips into, as HTML entities (the text is HTML-escaped first).
_LITERAL_SAFE: Final = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


@cache
def _templates() -> jinja2.Environment:
    """The Jinja2 environment of the ``webmap_*`` templates (user text autoescaped)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("arjenturva.export", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def _render(name: str, **context: Any) -> str:
    return _templates().get_template(name).render(**context)


def find_leaflet_assets() -> Path | None:
    """A local folder holding ``leaflet.js`` and ``leaflet.css``, or None.

    Looked up in order: ``$ARJENTURVA_LEAFLET_DIR``; a copy shipped in the package
    (``arjenturva/_vendor/leaflet/``); Debian's ``libjs-leaflet`` (``/usr/share/javascript/leaflet``);
    the static files of the ``datasette-leaflet`` package when installed.
    """
    candidates: list[Path] = []
    if os.environ.get(LEAFLET_ENV):
        candidates.append(Path(os.environ[LEAFLET_ENV]))
    candidates.append(Path(__file__).resolve().parents[1] / "_vendor" / "leaflet")
    candidates.append(Path("/usr/share/javascript/leaflet"))
    spec = find_spec("datasette_leaflet") if _importable_name("datasette_leaflet") else None
    if spec is not None and spec.submodule_search_locations:
        candidates.extend(Path(p) / "static" for p in spec.submodule_search_locations)
    for folder in candidates:
        if (folder / "leaflet.js").is_file() and (folder / "leaflet.css").is_file():
            return folder
        js = sorted(folder.glob("leaflet-v*.min.js")) if folder.is_dir() else []
        css = sorted(folder.glob("leaflet-v*.css")) if folder.is_dir() else []
        if js and css:
            return folder
    return None


def _importable_name(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _leaflet_inline(folder: Path) -> str:
    """``<style>`` and ``<script>`` elements with Leaflet's CSS (images as data URIs) and JS."""
    js_path = folder / "leaflet.min.js"  # the minified build when there is one (Debian ships both)
    if not js_path.is_file():
        js_path = folder / "leaflet.js"
    css_path = folder / "leaflet.css"
    if not js_path.is_file():
        js_path = sorted(folder.glob("leaflet-v*.min.js"))[-1]
        css_path = sorted(folder.glob("leaflet-v*.css"))[-1]
    js = js_path.read_text(encoding="utf-8").replace("</script", "<\\/script")
    css = css_path.read_text(encoding="utf-8")
    for img in ("layers.png", "layers-2x.png", "marker-icon.png"):
        p = folder / "images" / img
        if p.is_file():
            uri = "data:image/png;base64," + base64.b64encode(p.read_bytes()).decode("ascii")
            css = css.replace(f"url(images/{img})", f"url({uri})")
    return _render("webmap_leaflet.html.j2", css=css, js=js) + "\n"


def _literal_safe(html_text: str) -> str:
    """HTML that folium can put into a JavaScript template literal unchanged."""
    return html_text.translate(_LITERAL_SAFE)


def _esc(text: Any) -> str:
    """Escape text that folium puts into a JavaScript template literal or ``innerHTML``."""
    from markupsafe import escape

    return _literal_safe(str(escape(str(text))))


def _popup_table(rows: Sequence[tuple[str, Any]]) -> str:
    """A popup's table of (heading, value) rows, blank values left out."""
    shown = [(k, v) for k, v in rows if v not in (None, "")]
    return _literal_safe(_render("webmap_popup.html.j2", rows=shown))


def _geojson(gdf: gpd.GeoDataFrame, columns: list[str], precision: int = 5) -> dict[str, Any]:
    """GeoJSON (EPSG:4326) of a layer with ``columns`` as properties, coordinates rounded."""
    import geopandas as gpd
    import shapely

    g = gdf[[*columns, "geometry"]].to_crs(WGS84)
    geoms = shapely.set_precision(g.geometry.values, 10.0**-precision)
    g = g.set_geometry(gpd.GeoSeries(geoms, index=g.index, crs=WGS84))
    data: dict[str, Any] = json.loads(g.to_json(drop_id=True, na="null"))
    return data


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def write_html_map(
    results_dir: str | Path,
    config: Config,
    *,
    services: list[str] | None = None,
    lang: str | None = None,
    force: bool = False,
    basemap_tiles: bool | None = None,
    require_offline: bool = False,
) -> Path:
    """Write the interactive map ``results_dir/map.html`` (folium / Leaflet).

    One overlay per service (cells coloured by road distance, gap areas with population, 65+ and
    distance in popups, the service's points with name, services, operator, sector, mode and days
    per week, proposals with their rationale), toggled in the layer control; municipal borders
    stay on. The page opens as a local file without a network connection: Leaflet is inlined
    (see :func:`find_leaflet_assets`) and there are no default tiles; an OpenStreetMap background
    is an optional overlay, off by default, when ``basemap_tiles`` (default
    ``config.export.basemap_tiles``) is true. The run's credits (the synthetic-data note when it
    applies, and the sources the workspace declares) are shown in a corner.

    Parameters
    ----------
    results_dir
        A results folder holding ``results.gpkg`` and ``run.json``.
    config
        The workspace config.
    services
        Services to put on the map (default: all of the config found in the results).
    lang
        ``fi`` or ``en`` (default ``config.language``).
    force
        Overwrite an existing ``map.html``.
    basemap_tiles
        Offer the OpenStreetMap background layer.
    require_offline
        Raise instead of falling back to Leaflet from a CDN when no local copy is found.

    Returns
    -------
    Path
        The HTML file written.

    Raises
    ------
    OutputExistsError
        When ``map.html`` exists and ``force`` is false.
    ArjenturvaError
        When ``require_offline`` and no local Leaflet is available.
    """
    import folium

    language = labels.resolve_language(config, lang)
    t = labels.ui(language)
    results_dir = Path(results_dir)
    target = results_dir / R.WEB_MAP_FILE
    ensure_writable([target], force=force)
    leaflet_dir = find_leaflet_assets()
    if leaflet_dir is None and require_offline:
        msg = (
            f"no local copy of Leaflet found. Fix: set {LEAFLET_ENV} to a folder with leaflet.js and "
            "leaflet.css, or install Debian's libjs-leaflet"
        )
        raise ArjenturvaError(msg)
    data = read_map_data(results_dir, config)
    credits = run_credits(R.read_run(results_dir), language)
    wanted = services if services is not None else list(config.services)
    svc_list = [s for s in wanted if s in config.services and f"{s}_distance_m" in data.population]
    actors = read_actors(config)
    show_tiles = config.export.basemap_tiles if basemap_tiles is None else basemap_tiles

    bounds4326 = data.municipalities.to_crs(WGS84).total_bounds
    m = folium.Map(
        location=[(bounds4326[1] + bounds4326[3]) / 2, (bounds4326[0] + bounds4326[2]) / 2],
        zoom_start=8,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
    )
    if leaflet_dir is not None:
        m.default_js = []
        m.default_css = []
    m.fit_bounds([[bounds4326[1], bounds4326[0]], [bounds4326[3], bounds4326[2]]])
    for i, s in enumerate(svc_list):
        label = labels.service_label(config, s, language)
        fg = folium.FeatureGroup(name=label, show=(i == 0), overlay=True)
        _add_cells(fg, data, s, label, language)
        _add_gap_areas(fg, data, s, language)
        _add_points(fg, data, s, config, actors, language)
        _add_proposals(fg, data, s, config, language)
        fg.add_to(m)

    borders = (
        data.municipalities[["name", "geometry"]]
        if "name" in data.municipalities
        else data.municipalities[["geometry"]]
    )
    folium.GeoJson(
        _geojson(borders, [c for c in borders.columns if c != "geometry"]),
        name=t["borders_layer"],
        style_function=lambda _f: {"fill": False, "color": "#333333", "weight": 2.5},
        interactive=False,
        control=True,
    ).add_to(m)
    if show_tiles:
        folium.TileLayer(
            "OpenStreetMap",
            name=t["osm_layer"],
            overlay=True,
            show=False,
            control=True,
            attr="© OpenStreetMap contributors (ODbL)",
        ).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    page = m.get_root().render()
    if leaflet_dir is not None:
        page = page.replace("</head>", _leaflet_inline(leaflet_dir) + "</head>", 1)
    page = page.replace("</body>", _legend(config, language, credits) + "</body>", 1)
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return target


def _add_cells(fg: Any, data: MapData, service: str, label: str, lang: str) -> None:
    """The population cells coloured by road distance to the service, with a tooltip."""
    import folium

    t = labels.ui(lang)
    colours = distance_colours()
    pop = data.population
    pop_cols = [c for c in ("cell_id", "population", "age_65_plus") if c in pop]
    col = f"{service}_distance_m"
    cells = pop[[*pop_cols, col, "geometry"]].copy()
    cells["colour"] = [colours[c] for c in distance_class(cells[col])]
    cells["distance_km"] = [
        labels.format_number(d / 1000, lang, 1) if np.isfinite(d) else t["unreachable"]
        for d in pd.to_numeric(cells[col], errors="coerce").fillna(np.inf)
    ]
    cells["pop_text"] = [labels.format_number(v, lang) for v in cells.get("population", [])]
    folium.GeoJson(
        _geojson(cells, ["colour", "distance_km", "pop_text"]),
        name=f"{label} cells",
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "fillOpacity": 0.75,
            "weight": 0,
            "color": f["properties"]["colour"],
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["distance_km", "pop_text"],
            aliases=[f"{t['cell_distance']} ({t['km']})", t["population"]],
        ),
        control=False,
    ).add_to(fg)


def _add_gap_areas(fg: Any, data: MapData, service: str, lang: str) -> None:
    """The service's gap areas as outlines, with a popup of their figures."""
    import folium

    t = labels.ui(lang)
    gaps = data.gap_areas.loc[service_mask(data.gap_areas, service)]
    if gaps.empty:
        return
    gtab = gaps.copy()
    gtab["g_place"] = [_esc(v) for v in gtab["place"].fillna("")]
    gtab["g_pop"] = [labels.format_number(v, lang) for v in gtab["population"]]
    gtab["g_unc"] = [labels.format_number(v, lang) for v in gtab["uncovered_population"]]
    gtab["g_65"] = [labels.format_number(v, lang) for v in gtab["age_65_plus"]]
    gtab["g_dist"] = [labels.format_number(v / 1000, lang, 1) for v in gtab["site_distance_m"]]
    fields = ["g_place", "g_pop", "g_unc", "g_65", "g_dist"]
    aliases = [t["place"], t["population"], t["uncovered"], t["age65"], t["distance"]]
    folium.GeoJson(
        _geojson(gtab, fields),
        style_function=lambda _f: {"fill": True, "fillOpacity": 0.0, "color": GAP_OUTLINE, "weight": 2},
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=False),
        control=False,
    ).add_to(fg)


def _add_points(
    fg: Any, data: MapData, service: str, config: Config, actors: pd.DataFrame | None, lang: str
) -> None:
    """The points offering the service, by mode, with a popup naming operator, sector and mode."""
    import folium

    t = labels.ui(lang)
    pts = data.service_points.loc[service_mask(data.service_points, service)].to_crs(WGS84)
    for (_, row), svcs in zip(pts.iterrows(), services_of(pts), strict=True):
        mode = str(row.get("mode") or "fixed")
        st = MODE_STYLE.get(mode, MODE_STYLE["fixed"])
        actor_name, sector = "", ""
        actor_id = row.get("actor_id")
        if actors is not None and isinstance(actor_id, str) and actor_id in actors.index:
            # read_actors: all columns are str and actor_id is a unique index.
            actor_name = str(actors.loc[actor_id].get("name", actor_id))
            sector = labels.label(labels.SECTOR, str(actors.loc[actor_id].get("sector", "")), lang)
        elif isinstance(actor_id, str):
            actor_name = actor_id
        days = labels.format_number(row.get("days_per_week"), lang, 1)
        rows = [
            (t["name"], row.get("name", "")),
            (t["services"], ", ".join(labels.service_label(config, x, lang) for x in svcs)),
            (t["operator"], actor_name),
            (t["sector"], sector),
            (t["mode"], labels.label(labels.MODE, mode, lang)),
            (t["days"], days.removesuffix(",0").removesuffix(".0")),
        ]
        folium.CircleMarker(
            location=[row.geometry.y, row.geometry.x],
            radius=7 if mode == "fixed" else 6,
            color=st["edge"] if st["edge"] != "white" else "#ffffff",
            weight=1.5,
            fill=True,
            fill_color=st["color"],
            fill_opacity=0.95,
            popup=folium.Popup(_popup_table(rows), max_width=320),
            tooltip=_esc(row.get("name", "")),
        ).add_to(fg)


def _add_proposals(fg: Any, data: MapData, service: str, config: Config, lang: str) -> None:
    """The service's proposals and new sites, with a popup giving the actor, mode and rationale."""
    import folium

    t = labels.ui(lang)
    for layer in (data.proposals, data.new_sites):
        if layer is None or layer.empty:
            continue
        sub = layer.loc[service_mask(layer, service)]
        sub = sub.loc[sub.geometry.notna() & ~sub.geometry.is_empty].to_crs(WGS84)
        for _, row in sub.iterrows():
            mode = row.get("mode", "")
            rows = [
                (t["service"], labels.service_label(config, service, lang)),
                (t["actor"], row.get("actor_name", row.get("actor_id", ""))),
                (t["mode"], labels.label(labels.MODE, str(mode), lang) if not _isna(mode) else ""),
                (t["rationale"], row.get("rationale", "")),
            ]
            popup = folium.Popup(_popup_table([(k, "" if _isna(v) else v) for k, v in rows]), max_width=360)
            geom = row.geometry
            if "Line" in geom.geom_type:
                lines = list(geom.geoms) if geom.geom_type.startswith("Multi") else [geom]
                for line in lines:
                    folium.PolyLine(
                        [(y, x) for x, y, *_ in line.coords],
                        color=PROPOSAL_COLOUR,
                        weight=3,
                        dash_array="8 4",
                        popup=popup,
                    ).add_to(fg)
            else:
                p = geom.representative_point()
                folium.CircleMarker(
                    location=[p.y, p.x],
                    radius=9,
                    color="#000000",
                    weight=1.5,
                    fill=True,
                    fill_color=NEW_SITE_STYLE["color"],
                    fill_opacity=1.0,
                    popup=popup,
                ).add_to(fg)


def _legend(config: Config, lang: str, credits: Sequence[str]) -> str:
    """The title, legend and credits boxes of ``map.html`` (user text escaped by the template)."""
    t = labels.ui(lang)
    return _render(
        "webmap_legend.html.j2",
        title=t["interactive_title"].format(name=config.name),
        hint=t["hint"],
        distance_heading=t["legend_distance"],
        distance_classes=list(zip(distance_colours(), distance_class_labels(lang), strict=True)),
        points_heading=t["legend_points"],
        modes=[(MODE_STYLE[k]["color"], labels.label(labels.MODE, k, lang)) for k in MODES],
        gap_outline=GAP_OUTLINE,
        gaps_heading=t["legend_gaps"],
        cells_note=t["cells_note"].format(n=config.export.suppress_below),
        credits=credits,
    )

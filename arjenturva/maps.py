"""Maps of a results folder: static PNG maps (matplotlib) and an interactive ``map.html`` (folium).

Everything is read from a results folder (``results.gpkg`` and, when present, its ``new_sites`` and
``proposals`` layers), so maps can be redrawn for any earlier run. Cells with fewer people than
``export.suppress_below`` are never drawn one by one. Every file is written atomically.

The interactive map works offline: Leaflet's JavaScript and CSS are inlined into the page from a
local copy (see :func:`find_leaflet_assets`), no tile server is needed (an OpenStreetMap background
is an optional layer, off by default) and no other external script or style sheet is referenced.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .config import Config, ServiceConfig
from .errors import ArjenturvaError, InputFileError
from .io import atomic_path, ensure_writable, read_table
from .schema import CRS, SECTOR_LABELS, WGS84

Progress = Callable[[str], None]

#: Short attribution printed on every map and report.
ATTRIBUTION_LINES: dict[str, tuple[str, ...]] = {
    "fi": (
        "Tieverkko © OpenStreetMap-tekijät (ODbL) / Maanmittauslaitos (CC BY 4.0)",
        "Väestö ja rajat © Tilastokeskus (CC BY 4.0)",
    ),
    "en": (
        "Roads © OpenStreetMap contributors (ODbL) / National Land Survey of Finland (CC BY 4.0)",
        "Population and boundaries © Statistics Finland (CC BY 4.0)",
    ),
}

#: Upper bounds (km) of the distance classes; the last class is open-ended.
DISTANCE_BREAKS_KM: tuple[float, ...] = (5, 10, 20, 40)
DISTANCE_COLOURS: tuple[str, ...] = ("#1a9641", "#a6d96a", "#ffffbf", "#fdae61", "#d7191c")
UNREACHABLE_COLOUR = "#6b6b6b"

#: Classes of "services out of reach" on the municipality overview.
LACKING_BREAKS: tuple[int, ...] = (0, 2, 4, 6)
LACKING_COLOURS: tuple[str, ...] = ("#1a9641", "#a6d96a", "#fdae61", "#f46d43", "#a50026")

MODE_STYLE: dict[str, dict[str, Any]] = {
    "fixed": {"marker": "o", "color": "#08306b", "edge": "white", "size": 70},
    "mobile": {"marker": "^", "color": "#7b3294", "edge": "white", "size": 85},
    "remote": {"marker": "D", "color": "#00a6d6", "edge": "black", "size": 55},
}
NEW_SITE_STYLE: dict[str, Any] = {"marker": "*", "color": "#ffd21f", "edge": "black", "size": 300}
PROPOSAL_COLOUR = "#d01c8b"
GAP_OUTLINE = "#3f007d"

ROAD_STYLE: dict[str, dict[str, Any]] = {
    "main": {"color": "#2b2b2b", "lw": 1.8, "ls": "-"},
    "regional": {"color": "#4d4d4d", "lw": 1.1, "ls": "-"},
    "local": {"color": "#8c8c8c", "lw": 0.55, "ls": "-"},
    "ferry": {"color": "#2166ac", "lw": 1.2, "ls": (0, (3, 2))},
}
_MAIN = {"motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "valtat", "kantat"}
_REGIONAL = {"secondary", "secondary_link", "tertiary", "tertiary_link", "seututie", "maant", "yhdyst"}

#: UI strings of maps and reports.
STRINGS: dict[str, dict[str, str]] = {
    "fi": {
        "distance_title": "{label}: tieetäisyys lähimpään palvelupisteeseen",
        "overview_title": "{name} ({code}): arjen palvelujen saavutettavuus",
        "overview_sub": "Ruudun väri: kuinka monta palvelua ({n}) jää kynnysetäisyyden ulkopuolelle",
        "threshold": "Kynnys",
        "demand": "kysyntä",
        "legend_distance": "Etäisyys tietä pitkin",
        "legend_lacking": "Palveluja saavuttamatta",
        "unreachable": "ei tieyhteyttä",
        "legend_points": "Palvelupisteet",
        "fixed": "kiinteä",
        "mobile": "liikkuva",
        "remote": "etäpalvelu",
        "legend_gaps": "Palveluaukko (alue)",
        "new_site": "ehdotettu uusi piste",
        "proposal": "ehdotettu reitti tai kohde",
        "legend_roads": "Tiet",
        "main": "valta- ja kantatiet",
        "regional": "seututiet",
        "local": "muut tiet",
        "ferry": "lautta",
        "legend_other": "Muut",
        "border": "kunnan raja",
        "north": "P",
        "cells_note": "Alle {n} asukkaan ruutuja ei näytetä",
        "created": "Laadittu {date}",
        "layer_cells": "{label}",
        "borders_layer": "Kuntarajat",
        "osm_layer": "OpenStreetMap-taustakartta (vaatii verkkoyhteyden)",
        "name": "Nimi",
        "services": "Palvelut",
        "operator": "Toimija",
        "sector": "Sektori",
        "mode": "Toimintamuoto",
        "days": "Päiviä viikossa",
        "population": "Asukkaita",
        "uncovered": "Palvelun ulkopuolella",
        "age65": "Yli 65-vuotiaita",
        "distance": "Etäisyys lähimpään (km)",
        "place": "Alue",
        "service": "Palvelu",
        "rationale": "Perustelu",
        "actor": "Toimija",
        "cell_distance": "Etäisyys",
        "interactive_title": "{name}: palveluverkko",
        "hint": "Valitse palvelu oikean yläkulman valikosta.",
        "km": "km",
        "all_services": "kaikki palvelut",
    },
    "en": {
        "distance_title": "{label}: road distance to the nearest service point",
        "overview_title": "{name} ({code}): access to everyday services",
        "overview_sub": "Cell colour: how many of the {n} services are beyond their threshold",
        "threshold": "Threshold",
        "demand": "demand",
        "legend_distance": "Road distance",
        "legend_lacking": "Services out of reach",
        "unreachable": "no road connection",
        "legend_points": "Service points",
        "fixed": "fixed",
        "mobile": "mobile",
        "remote": "remote",
        "legend_gaps": "Coverage gap (area)",
        "new_site": "proposed new site",
        "proposal": "proposed route or site",
        "legend_roads": "Roads",
        "main": "main roads",
        "regional": "regional roads",
        "local": "other roads",
        "ferry": "ferry",
        "legend_other": "Other",
        "border": "municipal border",
        "north": "N",
        "cells_note": "Cells with fewer than {n} residents are not shown",
        "created": "Created {date}",
        "layer_cells": "{label}",
        "borders_layer": "Municipal borders",
        "osm_layer": "OpenStreetMap background (needs a network connection)",
        "name": "Name",
        "services": "Services",
        "operator": "Operator",
        "sector": "Sector",
        "mode": "Mode",
        "days": "Days per week",
        "population": "Population",
        "uncovered": "Not covered",
        "age65": "Aged 65+",
        "distance": "Distance to nearest (km)",
        "place": "Area",
        "service": "Service",
        "rationale": "Rationale",
        "actor": "Actor",
        "cell_distance": "Distance",
        "interactive_title": "{name}: service network",
        "hint": "Pick a service in the menu at the top right.",
        "km": "km",
        "all_services": "all services",
    },
}

DEMAND_LABELS = {
    "population": {"fi": "koko väestö", "en": "whole population"},
    "age_65_plus": {"fi": "yli 65-vuotiaat", "en": "aged 65+"},
    "age_0_14": {"fi": "0–14-vuotiaat", "en": "aged 0–14"},
    "age_15_64": {"fi": "15–64-vuotiaat", "en": "aged 15–64"},
}


# ---------------------------------------------------------------------------------------------
# Small shared helpers (also used by :mod:`arjenturva.report`)
# ---------------------------------------------------------------------------------------------


def resolve_language(config: Config, lang: str | None) -> str:
    """The language to use: ``lang`` when given, else ``config.language``.

    Raises
    ------
    ArjenturvaError
        When ``lang`` is not ``fi`` or ``en``.
    """
    value = lang or config.language
    if value not in STRINGS:
        msg = f"unknown language '{value}'. Fix: use 'fi' or 'en'"
        raise ArjenturvaError(msg)
    return value


def service_label(config: Config, service: str, lang: str) -> str:
    """The label of a service in ``lang`` (the id when the service is not in the config)."""
    svc = config.services.get(service)
    return getattr(svc.label, lang) if svc is not None else service.replace("_", " ")


def format_number(value: Any, lang: str, digits: int = 0) -> str:
    """Format a number with the language's separators (``1 234,5`` in Finnish); blank for NaN."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if not math.isfinite(x):
        return ""
    text = f"{x:,.{digits}f}"
    if lang == "fi":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text.replace("-", "\u2212") if x < 0 else text


def format_threshold(svc: ServiceConfig, lang: str) -> str:
    """``25 km (M7: 40 km) · 60 min`` for a service's thresholds."""
    parts = []
    for limits, unit in ((svc.threshold_km, "km"), (svc.threshold_min, "min")):
        if not limits:
            continue
        default = limits.get("default")
        others = [
            f"{k}: {format_number(v, lang, _digits(v))} {unit}" for k, v in limits.items() if k != "default"
        ]
        text = f"{format_number(default, lang, _digits(default))} {unit}" if default is not None else ""
        if others:
            text = f"{text} ({', '.join(others)})" if text else ", ".join(others)
        parts.append(text)
    return " · ".join(parts)


def _digits(v: float | None) -> int:
    return 0 if v is None or float(v).is_integer() else 1


def list_layers(gpkg: Path) -> set[str]:
    """Names of the layers of a GeoPackage (empty when the file is missing)."""
    if not gpkg.exists():
        return set()
    import pyogrio

    return {str(name) for name, _geom in pyogrio.list_layers(gpkg)}


@dataclass(frozen=True)
class MapData:
    """The layers of a results folder that maps draw (EPSG:3067).

    ``new_sites`` and ``proposals`` are None when the results folder has no proposals yet.
    """

    population: gpd.GeoDataFrame
    gap_areas: gpd.GeoDataFrame
    service_points: gpd.GeoDataFrame
    municipalities: gpd.GeoDataFrame
    new_sites: gpd.GeoDataFrame | None = None
    proposals: gpd.GeoDataFrame | None = None


def read_map_data(results_dir: str | Path, config: Config) -> MapData:
    """Read the layers maps need from ``results.gpkg`` of a results folder.

    Cells below ``config.export.suppress_below`` are dropped here too (the results writer omits
    them already; this guards against a GeoPackage written by other tools).

    Raises
    ------
    InputFileError
        When ``results.gpkg`` or one of its required layers is missing.
    """
    gpkg = Path(results_dir) / "results.gpkg"
    layers = list_layers(gpkg)
    if not gpkg.exists():
        msg = f"{gpkg}: not found. Fix: run `arjenturva gaps` (or `run`) to write this results folder first"
        raise InputFileError(msg)
    need = ("population", "gap_areas", "service_points", "municipalities")
    missing = [name for name in need if name not in layers]
    if missing:
        msg = f"{gpkg}: layer(s) {', '.join(missing)} missing. Fix: rerun `arjenturva gaps` with --force"
        raise InputFileError(msg)

    def read(name: str) -> gpd.GeoDataFrame:
        gdf = gpd.read_file(gpkg, layer=name)
        if gdf.crs is None:
            gdf = gdf.set_crs(CRS)
        elif gdf.crs.to_epsg() != 3067:
            gdf = gdf.to_crs(CRS)
        return gdf

    pop = read("population")
    thr = config.export.suppress_below
    if "population" in pop:
        values = pd.to_numeric(pop["population"], errors="coerce").to_numpy(dtype=float)
        pop = pop.loc[np.isfinite(values) & (values >= thr)].reset_index(drop=True)
    munis = read("municipalities")
    if "code" in munis:
        munis["code"] = munis["code"].astype(str)
    sp = read("service_points")
    for col in ("municipality",):
        if col in pop:
            pop[col] = pop[col].astype(str)
    return MapData(
        population=pop,
        gap_areas=read("gap_areas"),
        service_points=sp,
        municipalities=munis,
        new_sites=read("new_sites") if "new_sites" in layers else None,
        proposals=read("proposals") if "proposals" in layers else None,
    )


def read_actors(config: Config) -> pd.DataFrame | None:
    """The workspace's actors table (``actor_id``, ``name``, ``sector``), or None when unavailable.

    Used only to label service points with their operator; any read problem yields None.
    """
    spec = config.inputs.actors
    if spec is None:
        return None
    path = config.resolve(spec.path)
    try:
        if path.suffix.lower() in (".csv", ".txt", ".xlsx", ".xls"):
            df = read_table(path, encoding=spec.encoding, layer=spec.layer)
        else:
            df = pd.DataFrame(gpd.read_file(path, layer=spec.layer).drop(columns="geometry"))
    except (ArjenturvaError, OSError, ValueError):
        return None
    df = df.rename(columns={theirs: canonical for canonical, theirs in spec.columns.items()})
    if "actor_id" not in df:
        return None
    keep = [c for c in ("actor_id", "name", "sector") if c in df]
    return df[keep].astype(str).drop_duplicates("actor_id").set_index("actor_id")


def services_of(points: pd.DataFrame) -> list[list[str]]:
    """The service ids of each service point (the column is ``;``-separated text or a list)."""
    out = []
    for v in points.get("services", pd.Series([""] * len(points))):
        if isinstance(v, (list, tuple)):
            out.append([str(s) for s in v])
        elif isinstance(v, str):
            out.append([s.strip() for s in v.split(";") if s.strip()])
        else:
            out.append([])
    return out


def _service_mask(frame: pd.DataFrame, service: str) -> np.ndarray:
    """Rows of a layer that concern ``service`` (all rows when the layer has no service column)."""
    if "service" in frame:
        return (frame["service"].astype(str) == service).to_numpy()
    if "services" in frame:
        return np.array([service in s for s in services_of(frame)], dtype=bool)
    return np.ones(len(frame), dtype=bool)


def distance_class(distance_m: Iterable[float]) -> np.ndarray:
    """Class index of road distances: 0 for 0–5 km … 4 for > 40 km, 5 for unreachable (NaN/inf)."""
    d = pd.to_numeric(pd.Series(list(distance_m), dtype=object), errors="coerce").to_numpy(dtype=float)
    cls = np.searchsorted(np.asarray(DISTANCE_BREAKS_KM) * 1000.0, d, side="left")
    return np.where(np.isfinite(d), cls, len(DISTANCE_BREAKS_KM) + 1)


def distance_class_labels(lang: str) -> list[str]:
    """Legend labels of the distance classes, the last one for unreachable cells."""
    b = DISTANCE_BREAKS_KM
    labels = [f"0–{b[0]:g} km"] + [f"{lo:g}–{hi:g} km" for lo, hi in zip(b[:-1], b[1:], strict=True)]
    labels.append(f"> {b[-1]:g} km")
    labels.append(STRINGS[lang]["unreachable"])
    return labels


def _distance_colours() -> list[str]:
    return [*DISTANCE_COLOURS, UNREACHABLE_COLOUR]


def lacking_services(pop: pd.DataFrame, services: Iterable[str]) -> np.ndarray:
    """How many of ``services`` each cell lacks (coverage below 1 or missing)."""
    count = np.zeros(len(pop), dtype=int)
    for s in services:
        col = f"{s}_coverage"
        if col in pop:
            cov = pd.to_numeric(pop[col], errors="coerce").to_numpy(dtype=float)
            count += ~(cov >= 1.0 - 1e-9)
    return count


def _lacking_labels() -> list[str]:
    b = LACKING_BREAKS
    labels = ["0"] + [
        f"{lo + 1}–{hi}" if hi > lo + 1 else f"{hi}" for lo, hi in zip(b[:-1], b[1:], strict=True)
    ]
    return [*labels, f"{b[-1] + 1}+"]


def road_group(road_class: Any) -> str:
    """``main``, ``regional``, ``local`` or ``ferry`` for a road class name."""
    name = str(road_class).lower()
    if name == "ferry":
        return "ferry"
    if name in _MAIN:
        return "main"
    if name in _REGIONAL:
        return "regional"
    return "local"


def map_file_names(config: Config, municipality_codes: Iterable[str]) -> list[str]:
    """File names (under ``maps/``) of the PNG maps: one per service and one per municipality."""
    return [f"{s}.png" for s in config.services] + [f"overview_{c}.png" for c in municipality_codes]


# ---------------------------------------------------------------------------------------------
# Static maps (matplotlib)
# ---------------------------------------------------------------------------------------------

FIG_PX = (1800, 1400)
_MAP_RECT = (0.03, 0.085, 0.70, 0.80)  # left, bottom, width, height of the map axes (figure fraction)
_LEGEND_RECT = (0.745, 0.085, 0.235, 0.80)


def _nice_length_km(span_km: float) -> float:
    target = span_km / 5
    for v in (0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 500):
        if v >= target:
            return v
    return 1000.0


def draw_scale_bar(ax: Any, *, lang: str) -> None:
    """Draw a two-segment scale bar in the lower left corner of a map in metres."""
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length_km((x1 - x0) / 1000) * 1000
    h = (y1 - y0) * 0.012
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.045
    ax.add_patch(
        Rectangle(
            (bx - length * 0.06, by - h * 1.3),
            length * 1.22,
            h * 5.2,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=20,
        )
    )
    for i in range(2):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 2, by),
                length / 2,
                h,
                facecolor="black" if i == 0 else "white",
                edgecolor="black",
                linewidth=0.8,
                zorder=21,
            )
        )
    for frac in (0, 0.5, 1):
        km = length * frac / 1000
        label = format_number(km, lang, 0 if float(km).is_integer() else 1)
        if frac == 1:
            label += " km"
        ax.text(bx + length * frac, by + h * 1.6, label, ha="center", va="bottom", fontsize=9, zorder=22)


def draw_north_arrow(ax: Any, *, lang: str) -> None:
    """Draw a north arrow in the upper right corner (grid north of ETRS-TM35FIN)."""
    ax.annotate(
        STRINGS[lang]["north"],
        xy=(0.955, 0.955),
        xytext=(0.955, 0.865),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=14,
        fontweight="bold",
        zorder=22,
        arrowprops={"arrowstyle": "-|>,head_width=0.5,head_length=1.0", "color": "black", "lw": 2.2},
        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none", "alpha": 0.8},
    )


def _set_extent(ax: Any, bounds: np.ndarray, margin: float = 0.04) -> None:
    minx, miny, maxx, maxy = bounds
    dx, dy = maxx - minx, maxy - miny
    pad = max(dx, dy) * margin
    minx, maxx, miny, maxy = minx - pad, maxx + pad, miny - pad, maxy + pad
    # Fill the axes box: grow the shorter side to the box's aspect ratio.
    box_w = _MAP_RECT[2] * FIG_PX[0]
    box_h = _MAP_RECT[3] * FIG_PX[1]
    want = box_w / box_h
    w, h = maxx - minx, maxy - miny
    if w / h < want:
        extra = (h * want - w) / 2
        minx, maxx = minx - extra, maxx + extra
    else:
        extra = (w / want - h) / 2
        miny, maxy = miny - extra, maxy + extra
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")


def _draw_roads(ax: Any, roads: gpd.GeoDataFrame | None) -> list[str]:
    if roads is None or roads.empty:
        return []
    groups = (
        roads["road_class"].map(road_group)
        if "road_class" in roads
        else pd.Series("local", index=roads.index)
    )
    present = []
    for g in ("local", "regional", "main", "ferry"):
        sub = roads.loc[(groups == g).to_numpy()]
        if sub.empty:
            continue
        st = ROAD_STYLE[g]
        sub.plot(ax=ax, color=st["color"], linewidth=st["lw"], linestyle=st["ls"], zorder=4)
        present.append(g)
    return present


def _draw_points(ax: Any, points: gpd.GeoDataFrame) -> list[str]:
    present = []
    modes = (
        points["mode"].fillna("fixed").astype(str)
        if "mode" in points
        else pd.Series("fixed", index=points.index)
    )
    for mode in ("fixed", "mobile", "remote"):
        sub = points.loc[(modes == mode).to_numpy()]
        if sub.empty:
            continue
        st = MODE_STYLE[mode]
        ax.scatter(
            sub.geometry.x,
            sub.geometry.y,
            marker=st["marker"],
            s=st["size"],
            c=st["color"],
            edgecolors=st["edge"],
            linewidths=1.0,
            zorder=9,
        )
        present.append(mode)
    return present


def _draw_proposals(ax: Any, data: MapData, service: str | None) -> tuple[bool, bool]:
    """Draw proposals (lines or points) and new sites; return whether each was drawn."""
    drew_prop = drew_new = False
    if data.proposals is not None and not data.proposals.empty:
        prop = (
            data.proposals if service is None else data.proposals.loc[_service_mask(data.proposals, service)]
        )
        prop = prop.loc[prop.geometry.notna() & ~prop.geometry.is_empty]
        if not prop.empty:
            kinds = prop.geometry.geom_type
            lines = prop.loc[kinds.str.contains("Line").to_numpy()]
            pts = prop.loc[kinds.str.contains("Point").to_numpy()]
            if not lines.empty:
                lines.plot(ax=ax, color=PROPOSAL_COLOUR, linewidth=2.4, linestyle=(0, (4, 2)), zorder=10)
            if not pts.empty:
                reps = pts.geometry.representative_point()
                ax.scatter(
                    reps.x,
                    reps.y,
                    marker="P",
                    s=110,
                    c=PROPOSAL_COLOUR,
                    edgecolors="white",
                    linewidths=1.0,
                    zorder=10,
                )
            drew_prop = True
    if data.new_sites is not None and not data.new_sites.empty:
        ns = data.new_sites if service is None else data.new_sites.loc[_service_mask(data.new_sites, service)]
        ns = ns.loc[ns.geometry.notna() & ~ns.geometry.is_empty]
        if not ns.empty:
            reps = ns.geometry.representative_point()
            st = NEW_SITE_STYLE
            ax.scatter(
                reps.x,
                reps.y,
                marker=st["marker"],
                s=st["size"],
                c=st["color"],
                edgecolors=st["edge"],
                linewidths=0.9,
                zorder=11,
            )
            drew_new = True
    return drew_prop, drew_new


def _label_municipalities(ax: Any, munis: gpd.GeoDataFrame) -> None:
    import matplotlib.patheffects as pe

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for _, row in munis.iterrows():
        p = row.geometry.representative_point()
        if not (x0 <= p.x <= x1 and y0 <= p.y <= y1):
            continue
        ax.text(
            p.x,
            p.y,
            str(row.get("name", "")),
            fontsize=13,
            fontweight="bold",
            color="#222222",
            ha="center",
            va="center",
            zorder=15,
            alpha=0.85,
            path_effects=[pe.withStroke(linewidth=3.5, foreground="white")],
        )


def _legend(ax: Any, sections: list[tuple[str, list[tuple[Any, str]]]]) -> None:
    """One legend with bold section headings in the legend axes."""
    from matplotlib.lines import Line2D

    handles: list[Any] = []
    labels: list[str] = []
    heads: list[int] = []
    for title, entries in sections:
        if not entries:
            continue
        if handles:
            handles.append(Line2D([], [], linestyle="none"))
            labels.append(" ")
        heads.append(len(handles))
        handles.append(Line2D([], [], linestyle="none"))
        labels.append(title)
        for h, lab in entries:
            handles.append(h)
            labels.append(lab)
    leg = ax.legend(
        handles,
        labels,
        loc="upper left",
        frameon=False,
        fontsize=11,
        handlelength=2.2,
        handleheight=1.1,
        borderaxespad=0.0,
        labelspacing=0.45,
    )
    for i, text in enumerate(leg.get_texts()):
        if i in heads:
            text.set_fontweight("bold")
            text.set_fontsize(12)
            text.set_x(-30)  # headings start where the symbols do


def _mode_handles(modes: list[str], lang: str) -> list[tuple[Any, str]]:
    from matplotlib.lines import Line2D

    out = []
    for m in modes:
        st = MODE_STYLE[m]
        out.append(
            (
                Line2D(
                    [],
                    [],
                    marker=st["marker"],
                    linestyle="none",
                    markersize=math.sqrt(st["size"]),
                    markerfacecolor=st["color"],
                    markeredgecolor=st["edge"] if st["edge"] != "white" else "#444444",
                    markeredgewidth=0.8,
                ),
                STRINGS[lang][m],
            )
        )
    return out


def _other_handles(
    lang: str, *, roads: list[str], gaps: bool, proposals: bool, new_sites: bool
) -> list[tuple[str, list[tuple[Any, str]]]]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    t = STRINGS[lang]
    other: list[tuple[Any, str]] = [
        (Patch(facecolor="none", edgecolor="#333333", linewidth=1.6), t["border"])
    ]
    if gaps:
        other.append((Patch(facecolor="none", edgecolor=GAP_OUTLINE, linewidth=1.8), t["legend_gaps"]))
    if new_sites:
        st = NEW_SITE_STYLE
        other.append(
            (
                Line2D(
                    [],
                    [],
                    marker=st["marker"],
                    linestyle="none",
                    markersize=16,
                    markerfacecolor=st["color"],
                    markeredgecolor="black",
                ),
                t["new_site"],
            )
        )
    if proposals:
        other.append(
            (
                Line2D(
                    [],
                    [],
                    color=PROPOSAL_COLOUR,
                    linewidth=2.4,
                    linestyle=(0, (4, 2)),
                    marker="P",
                    markersize=9,
                    markeredgecolor="white",
                ),
                t["proposal"],
            )
        )
    road_entries = [
        (
            Line2D(
                [],
                [],
                color=ROAD_STYLE[g]["color"],
                linewidth=ROAD_STYLE[g]["lw"] * 1.3,
                linestyle=ROAD_STYLE[g]["ls"],
            ),
            t[g],
        )
        for g in ("main", "regional", "local", "ferry")
        if g in roads
    ]
    return [(t["legend_roads"], road_entries), (t["legend_other"], other)]


def _new_figure(config: Config) -> tuple[Any, Any, Any]:
    from matplotlib.figure import Figure

    dpi = config.export.map_dpi
    fig = Figure(figsize=(FIG_PX[0] / dpi, FIG_PX[1] / dpi), dpi=dpi, facecolor="white")
    ax = fig.add_axes(_MAP_RECT)
    ax.set_facecolor("#e9eef2")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#9a9a9a")
    leg_ax = fig.add_axes(_LEGEND_RECT)
    leg_ax.axis("off")
    return fig, ax, leg_ax


def _titles(fig: Any, title: str, subtitle: str, lang: str, config: Config) -> None:
    t = STRINGS[lang]
    fig.text(0.03, 0.955, title, fontsize=21, fontweight="bold", va="center", ha="left")
    fig.text(0.03, 0.912, subtitle, fontsize=12.5, color="#333333", va="center", ha="left")
    foot = (
        f"{config.name} · {t['created'].format(date=_today(lang))} · "
        f"{t['cells_note'].format(n=config.export.suppress_below)}"
    )
    fig.text(0.03, 0.052, foot, fontsize=9.5, color="#333333", ha="left", va="center")
    fig.text(
        0.03,
        0.026,
        " · ".join(ATTRIBUTION_LINES[lang]),
        fontsize=9.5,
        color="#333333",
        ha="left",
        va="center",
    )


def _today(lang: str) -> str:
    d = date.today()
    return f"{d.day}.{d.month}.{d.year}" if lang == "fi" else d.isoformat()


def _save(fig: Any, path: Path, dpi: int) -> Path:
    for ax in fig.axes:  # geopandas labels the axes with the CRS's axis names
        ax.set_xlabel("")
        ax.set_ylabel("")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, facecolor="white")
    return path


def _base_layers(ax: Any, munis: gpd.GeoDataFrame, focus: str | None = None) -> None:
    if focus is None:
        munis.plot(ax=ax, facecolor="#fbfbf8", edgecolor="none", zorder=1)
    else:
        is_focus = (munis["code"].astype(str) == focus).to_numpy()
        munis.loc[~is_focus].plot(ax=ax, facecolor="#dfe3e6", edgecolor="none", zorder=1)
        munis.loc[is_focus].plot(ax=ax, facecolor="#fbfbf8", edgecolor="none", zorder=1)
    munis.boundary.plot(ax=ax, color="#333333", linewidth=1.6, zorder=6)


def _service_map(
    data: MapData, roads: gpd.GeoDataFrame | None, config: Config, service: str, lang: str, path: Path
) -> Path:
    from matplotlib.patches import Patch

    t = STRINGS[lang]
    svc = config.services[service]
    fig, ax, leg_ax = _new_figure(config)
    _set_extent(ax, data.municipalities.total_bounds)
    _base_layers(ax, data.municipalities)
    pop = data.population
    col = f"{service}_distance_m"
    colours = _distance_colours()
    if col in pop and not pop.empty:
        cls = distance_class(pop[col])
        pop.plot(ax=ax, color=[colours[c] for c in cls], edgecolor="none", alpha=0.9, zorder=2)
    roads_present = _draw_roads(ax, roads)
    gaps = data.gap_areas.loc[_service_mask(data.gap_areas, service)]
    if not gaps.empty:
        gaps.boundary.plot(ax=ax, color=GAP_OUTLINE, linewidth=1.5, zorder=7)
    pts = data.service_points.loc[_service_mask(data.service_points, service)]
    modes = _draw_points(ax, pts)
    drew_prop, drew_new = _draw_proposals(ax, data, service)
    _label_municipalities(ax, data.municipalities)
    draw_scale_bar(ax, lang=lang)
    draw_north_arrow(ax, lang=lang)
    dist_entries = [
        (Patch(facecolor=c, edgecolor="#777777", linewidth=0.5), lab)
        for c, lab in zip(colours, distance_class_labels(lang), strict=True)
    ]
    sections = [
        (t["legend_distance"], dist_entries),
        (t["legend_points"], _mode_handles(modes, lang)),
        *_other_handles(
            lang, roads=roads_present, gaps=not gaps.empty, proposals=drew_prop, new_sites=drew_new
        ),
    ]
    _legend(leg_ax, sections)
    label = service_label(config, service, lang)
    demand = DEMAND_LABELS.get(svc.demand, {}).get(lang, svc.demand)
    _titles(
        fig,
        t["distance_title"].format(label=label),
        f"{t['threshold']}: {format_threshold(svc, lang)} · {t['demand']}: {demand}",
        lang,
        config,
    )
    return _save(fig, path, config.export.map_dpi)


def _overview_map(
    data: MapData, roads: gpd.GeoDataFrame | None, config: Config, code: str, lang: str, path: Path
) -> Path:
    from matplotlib.patches import Patch

    t = STRINGS[lang]
    munis = data.municipalities
    row = munis.loc[munis["code"].astype(str) == code].iloc[0]
    fig, ax, leg_ax = _new_figure(config)
    _set_extent(ax, np.asarray(row.geometry.bounds), margin=0.05)
    _base_layers(ax, munis, focus=code)
    pop = data.population
    if "municipality" in pop:
        pop = pop.loc[(pop["municipality"].astype(str) == code).to_numpy()]
    services = [s for s in config.services if f"{s}_coverage" in data.population]
    if not pop.empty:
        lacking = lacking_services(pop, services)
        cls = np.searchsorted(np.asarray(LACKING_BREAKS), lacking, side="left")
        pop.plot(ax=ax, color=[LACKING_COLOURS[c] for c in cls], edgecolor="none", alpha=0.9, zorder=2)
    roads_present = _draw_roads(ax, roads)
    modes = _draw_points(ax, data.service_points)
    drew_prop, drew_new = _draw_proposals(ax, data, None)
    _label_municipalities(ax, munis)
    draw_scale_bar(ax, lang=lang)
    draw_north_arrow(ax, lang=lang)
    entries = [
        (Patch(facecolor=c, edgecolor="#777777", linewidth=0.5), lab)
        for c, lab in zip(LACKING_COLOURS, _lacking_labels(), strict=True)
    ]
    sections = [
        (t["legend_lacking"], entries),
        (t["legend_points"], _mode_handles(modes, lang)),
        *_other_handles(lang, roads=roads_present, gaps=False, proposals=drew_prop, new_sites=drew_new),
    ]
    _legend(leg_ax, sections)
    _titles(
        fig,
        t["overview_title"].format(name=row.get("name", code), code=code),
        t["overview_sub"].format(n=len(services)),
        lang,
        config,
    )
    return _save(fig, path, config.export.map_dpi)


def write_maps(
    results_dir: str | Path,
    config: Config,
    *,
    network: Any | None = None,
    roads: gpd.GeoDataFrame | None = None,
    services: list[str] | None = None,
    lang: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Draw the static PNG maps of a results folder into ``results_dir/maps/``.

    One map per service (``maps/<service>.png``: population cells coloured by road distance to
    the nearest point offering the service, its points by mode, its gap areas, proposals) and
    one overview per municipality (``maps/overview_<code>.png``: cells coloured by how many
    services are out of reach, all service points). Each map has a legend, a scale bar, a north
    arrow, a title in the chosen language and the data attributions.

    Parameters
    ----------
    results_dir
        A results folder holding ``results.gpkg``.
    config
        The workspace config (service labels, thresholds, ``export.map_dpi``, suppression).
    network
        A :class:`~arjenturva.network.Network` whose roads are drawn by class.
    roads
        Road lines to draw instead (EPSG:3067; an optional ``road_class`` column). Without
        ``network`` and ``roads`` the maps have no roads.
    services
        Services to map (default: every service of the config found in the results).
    lang
        ``fi`` or ``en`` (default ``config.language``).
    force
        Overwrite existing maps.
    progress
        Optional callback receiving one message per map.

    Returns
    -------
    list of Path
        The PNG files written.

    Raises
    ------
    OutputExistsError
        When a map exists and ``force`` is false.
    InputFileError
        When ``results.gpkg`` or its layers are missing.
    """
    language = resolve_language(config, lang)
    results_dir = Path(results_dir)
    data = read_map_data(results_dir, config)
    if roads is None and network is not None:
        from .network import edges_geodataframe

        roads = edges_geodataframe(network)
    if roads is not None and roads.crs is not None and roads.crs.to_epsg() != 3067:
        roads = roads.to_crs(CRS)
    wanted = services if services is not None else list(config.services)
    unknown = [s for s in wanted if s not in config.services]
    if unknown:
        msg = f"unknown service(s) {', '.join(unknown)}. Fix: use ids of the config's services"
        raise ArjenturvaError(msg)
    svc_list = [s for s in wanted if f"{s}_distance_m" in data.population]
    codes = [str(c) for c in data.municipalities["code"]]
    out_dir = results_dir / "maps"
    targets = [out_dir / f"{s}.png" for s in svc_list] + [out_dir / f"overview_{c}.png" for c in codes]
    ensure_writable(targets, force=force)
    out_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _m: None)
    written = []
    for s in svc_list:
        say(f"map {s}")
        written.append(_service_map(data, roads, config, s, language, out_dir / f"{s}.png"))
    for c in codes:
        say(f"map overview {c}")
        written.append(_overview_map(data, roads, config, c, language, out_dir / f"overview_{c}.png"))
    return written


# ---------------------------------------------------------------------------------------------
# Interactive map (folium / Leaflet, works offline)
# ---------------------------------------------------------------------------------------------

#: Environment variable naming a folder with ``leaflet.js`` and ``leaflet.css`` (Leaflet 1.x).
LEAFLET_ENV = "ARJENTURVA_LEAFLET_DIR"


def find_leaflet_assets() -> Path | None:
    """A local folder holding ``leaflet.js`` and ``leaflet.css``, or None.

    Looked up in order: ``$ARJENTURVA_LEAFLET_DIR``; a copy shipped in the package
    (``arjenturva/_vendor/leaflet/``); Debian's ``libjs-leaflet`` (``/usr/share/javascript/leaflet``);
    the static files of the ``datasette-leaflet`` package when installed.
    """
    candidates: list[Path] = []
    if os.environ.get(LEAFLET_ENV):
        candidates.append(Path(os.environ[LEAFLET_ENV]))
    candidates.append(Path(__file__).resolve().parent / "_vendor" / "leaflet")
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


#: folium's popups call ``$(html)[0]`` (jQuery); this stands in for it so no jQuery is needed.
_JQUERY_SHIM = (
    "window.$ = window.$ || function (s) { var d = document.createElement('div');"
    " d.innerHTML = String(s).trim(); return [d.firstElementChild]; };"
)


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
    return f"<style>{css}</style>\n<script>{js}</script>\n<script>{_JQUERY_SHIM}</script>\n"


def _esc(text: Any) -> str:
    """HTML-escape text that folium puts into a JavaScript template literal or ``innerHTML``."""
    return html.escape(str(text)).replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _popup_table(rows: list[tuple[str, Any]]) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:8px'>{_esc(k)}</th><td>{_esc(v)}</td></tr>"
        for k, v in rows
        if v not in (None, "")
    )
    return f"<table style='font-size:12px'>{cells}</table>"


def _geojson(gdf: gpd.GeoDataFrame, columns: list[str], precision: int = 5) -> dict[str, Any]:
    """GeoJSON (EPSG:4326) of a layer with ``columns`` as properties, coordinates rounded."""
    import shapely

    g = gdf[[*columns, "geometry"]].to_crs(WGS84)
    geoms = shapely.set_precision(g.geometry.values, 10.0**-precision)
    g = g.set_geometry(gpd.GeoSeries(geoms, index=g.index, crs=WGS84))
    data = json.loads(g.to_json(drop_id=True, na="null"))
    return data


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
    ``config.export.basemap_tiles``) is true.

    Parameters
    ----------
    results_dir
        A results folder holding ``results.gpkg``.
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

    language = resolve_language(config, lang)
    t = STRINGS[language]
    results_dir = Path(results_dir)
    target = results_dir / "map.html"
    ensure_writable([target], force=force)
    leaflet_dir = find_leaflet_assets()
    if leaflet_dir is None and require_offline:
        msg = (
            f"no local copy of Leaflet found. Fix: set {LEAFLET_ENV} to a folder with leaflet.js and "
            "leaflet.css, or install Debian's libjs-leaflet"
        )
        raise ArjenturvaError(msg)
    data = read_map_data(results_dir, config)
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
    attribution = " | ".join(html.escape(a) for a in ATTRIBUTION_LINES[language])
    colours = _distance_colours()
    class_labels = distance_class_labels(language)
    pop = data.population
    pop_cols = [c for c in ("cell_id", "population", "age_65_plus") if c in pop]
    for i, s in enumerate(svc_list):
        label = service_label(config, s, language)
        fg = folium.FeatureGroup(name=label, show=(i == 0), overlay=True)
        cells = pop[[*pop_cols, f"{s}_distance_m", "geometry"]].copy()
        cls = distance_class(cells[f"{s}_distance_m"])
        cells["colour"] = [colours[c] for c in cls]
        cells["distance_km"] = [
            format_number(d / 1000, language, 1) if np.isfinite(d) else t["unreachable"]
            for d in pd.to_numeric(cells[f"{s}_distance_m"], errors="coerce").fillna(np.inf)
        ]
        cells["pop_text"] = [format_number(v, language) for v in cells.get("population", [])]
        gj = _geojson(cells, ["colour", "distance_km", "pop_text"])
        folium.GeoJson(
            gj,
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
        gaps = data.gap_areas.loc[_service_mask(data.gap_areas, s)]
        if not gaps.empty:
            gtab = gaps.copy()
            gtab["g_place"] = [_esc(v) for v in gtab.get("place", pd.Series("", index=gtab.index)).fillna("")]
            gtab["g_pop"] = [format_number(v, language) for v in gtab.get("population", np.nan)]
            gtab["g_unc"] = [format_number(v, language) for v in gtab.get("uncovered_population", np.nan)]
            gtab["g_65"] = [format_number(v, language) for v in gtab.get("age_65_plus", np.nan)]
            gtab["g_dist"] = [
                format_number(v / 1000, language, 1)
                for v in pd.to_numeric(gtab.get("site_distance_m", np.nan), errors="coerce")
            ]
            fields = ["g_place", "g_pop", "g_unc", "g_65", "g_dist"]
            aliases = [t["place"], t["population"], t["uncovered"], t["age65"], t["distance"]]
            folium.GeoJson(
                _geojson(gtab, fields),
                style_function=lambda _f: {
                    "fill": True,
                    "fillOpacity": 0.0,
                    "color": GAP_OUTLINE,
                    "weight": 2,
                },
                popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=False),
                control=False,
            ).add_to(fg)
        pts = data.service_points.loc[_service_mask(data.service_points, s)].to_crs(WGS84)
        for (_, row), svcs in zip(pts.iterrows(), services_of(pts), strict=True):
            mode = str(row.get("mode") or "fixed")
            st = MODE_STYLE.get(mode, MODE_STYLE["fixed"])
            actor_name, sector = "", ""
            actor_id = row.get("actor_id")
            if actors is not None and isinstance(actor_id, str) and actor_id in actors.index:
                # read_actors: all columns are str and actor_id is a unique index.
                actor_name = str(actors.loc[actor_id].get("name", actor_id))
                sec = str(actors.loc[actor_id].get("sector", ""))
                sector = SECTOR_LABELS.get(sec, {}).get(language, sec)
            elif isinstance(actor_id, str):
                actor_name = actor_id
            rows = [
                (t["name"], row.get("name", "")),
                (t["services"], ", ".join(service_label(config, x, language) for x in svcs)),
                (t["operator"], actor_name),
                (t["sector"], sector),
                (t["mode"], t.get(mode, mode)),
                (
                    t["days"],
                    format_number(row.get("days_per_week"), language, 1)
                    .removesuffix(",0")
                    .removesuffix(".0"),
                ),
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
        _html_proposals(fg, data, s, config, language)
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
    page = page.replace(
        "</body>", _html_legend(config, language, class_labels, colours, attribution) + "</body>", 1
    )
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return target


def _html_proposals(fg: Any, data: MapData, service: str, config: Config, lang: str) -> None:
    import folium

    t = STRINGS[lang]
    for layer in (data.proposals, data.new_sites):
        if layer is None or layer.empty:
            continue
        sub = layer.loc[_service_mask(layer, service)]
        sub = sub.loc[sub.geometry.notna() & ~sub.geometry.is_empty].to_crs(WGS84)
        for _, row in sub.iterrows():
            rows = [
                (t["service"], service_label(config, service, lang)),
                (t["actor"], row.get("actor_name", row.get("actor_id", ""))),
                (t["mode"], t.get(str(row.get("mode", "")), row.get("mode", ""))),
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


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _html_legend(
    config: Config, lang: str, class_labels: list[str], colours: list[str], attribution: str
) -> str:
    """The title, legend and attribution boxes of ``map.html`` (plain HTML, user text escaped)."""
    t = STRINGS[lang]
    swatches = "".join(
        f"<div><span class='at-sw' style='background:{c}'></span>{html.escape(lab)}</div>"
        for c, lab in zip(colours, class_labels, strict=True)
    )
    modes = "".join(
        f"<div><span class='at-sw' style='border-radius:50%;background:{MODE_STYLE[k]['color']}'></span>"
        f"{html.escape(t[k])}</div>"
        for k in ("fixed", "mobile", "remote")
    )
    title = html.escape(t["interactive_title"].format(name=config.name))
    return (
        "<style>.at-box{position:fixed;z-index:1000;background:rgba(255,255,255,0.93);padding:8px 10px;"
        "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,0.3);font:12px/1.45 sans-serif}"
        ".at-sw{display:inline-block;width:14px;height:14px;border:1px solid #555;margin-right:6px;"
        "vertical-align:middle}</style>\n"
        f"<div id='at-title' class='at-box' style='top:10px;left:55px;font-size:15px'><b>{title}</b><br>"
        f"<span style='font-size:12px'>{html.escape(t['hint'])}</span></div>\n"
        f"<div id='at-legend' class='at-box' style='bottom:64px;left:10px'>"
        f"<b>{html.escape(t['legend_distance'])}</b>{swatches}"
        f"<b>{html.escape(t['legend_points'])}</b>{modes}"
        f"<div><span class='at-sw' style='border:2px solid {GAP_OUTLINE};background:none'></span>"
        f"{html.escape(t['legend_gaps'])}</div>"
        f"<div style='margin-top:4px;color:#555'>"
        f"{html.escape(t['cells_note'].format(n=config.export.suppress_below))}</div></div>\n"
        "<div id='at-attribution' class='at-box' "
        "style='bottom:4px;right:4px;font-size:10px;padding:2px 6px'>"
        f"{attribution}</div>\n"
    )

"""Static PNG maps of a results folder (matplotlib): one per service and one per municipality.

The layers come from :func:`.mapdata.read_map_data` (the results contract), the figure furniture
from :mod:`.mapframe`, every word from :mod:`arjenturva.labels` and the credits from the run's
``run.json``. Every file is written atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import labels
from .. import results as R
from ..errors import ArjenturvaError
from ..io import ensure_writable
from ..schema import CRS
from .mapdata import (
    GAP_OUTLINE,
    LACKING_COLOURS,
    MODE_STYLE,
    MODES,
    NEW_SITE_STYLE,
    PROPOSAL_COLOUR,
    ROAD_STYLE,
    MapData,
    distance_class,
    distance_class_labels,
    distance_colours,
    lacking_class,
    lacking_class_labels,
    lacking_services,
    overview_map_name,
    read_map_data,
    road_group,
    service_map_name,
    service_mask,
)
from .mapframe import (
    Section,
    draw_legend,
    draw_north_arrow,
    draw_scale_bar,
    draw_titles,
    mode_entries,
    new_figure,
    other_sections,
    save_png,
    set_extent,
    swatch_entries,
)
from .tables import run_credits

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes

    from ..config import Config
    from ..network import Network

Progress = Callable[[str], None]


def _draw_base(ax: Axes, munis: gpd.GeoDataFrame, focus: str | None = None) -> None:
    """Municipal areas (others greyed when ``focus`` names one) and their borders."""
    if focus is None:
        munis.plot(ax=ax, facecolor="#fbfbf8", edgecolor="none", zorder=1)
    else:
        is_focus = (munis["code"].astype(str) == focus).to_numpy()
        munis.loc[~is_focus].plot(ax=ax, facecolor="#dfe3e6", edgecolor="none", zorder=1)
        munis.loc[is_focus].plot(ax=ax, facecolor="#fbfbf8", edgecolor="none", zorder=1)
    munis.boundary.plot(ax=ax, color="#333333", linewidth=1.6, zorder=6)


def _draw_roads(ax: Axes, roads: gpd.GeoDataFrame | None) -> list[str]:
    """Roads by group; returns the groups drawn."""
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


def _draw_points(ax: Axes, points: gpd.GeoDataFrame) -> list[str]:
    """Service points by delivery mode; returns the modes drawn."""
    present = []
    modes = (
        points["mode"].fillna("fixed").astype(str)
        if "mode" in points
        else pd.Series("fixed", index=points.index)
    )
    for mode in MODES:
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


def _draw_proposals(ax: Axes, data: MapData, service: str | None) -> tuple[bool, bool]:
    """Draw proposals (lines or points) and new sites; return whether each was drawn."""
    drew_prop = drew_new = False
    if data.proposals is not None and not data.proposals.empty:
        prop = (
            data.proposals if service is None else data.proposals.loc[service_mask(data.proposals, service)]
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
        ns = data.new_sites if service is None else data.new_sites.loc[service_mask(data.new_sites, service)]
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


def _label_municipalities(ax: Axes, munis: gpd.GeoDataFrame) -> None:
    """Municipality names at a point inside each municipality within the extent."""
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


def _furnish(ax: Axes, munis: gpd.GeoDataFrame, lang: str) -> None:
    """Municipality names, the scale bar and the north arrow (drawn last, on top)."""
    _label_municipalities(ax, munis)
    draw_scale_bar(ax, lang=lang)
    draw_north_arrow(ax, lang=lang)


def _service_map(
    data: MapData,
    roads: gpd.GeoDataFrame | None,
    config: Config,
    service: str,
    *,
    lang: str,
    credits: Sequence[str],
    path: Path,
) -> Path:
    t = labels.ui(lang)
    svc = config.services[service]
    fig, ax, leg_ax = new_figure(config)
    set_extent(ax, data.municipalities.total_bounds)
    _draw_base(ax, data.municipalities)
    pop = data.population
    col = f"{service}_distance_m"
    colours = distance_colours()
    if col in pop and not pop.empty:
        cls = distance_class(pop[col])
        pop.plot(ax=ax, color=[colours[c] for c in cls], edgecolor="none", alpha=0.9, zorder=2)
    roads_present = _draw_roads(ax, roads)
    gaps = data.gap_areas.loc[service_mask(data.gap_areas, service)]
    if not gaps.empty:
        gaps.boundary.plot(ax=ax, color=GAP_OUTLINE, linewidth=1.5, zorder=7)
    modes = _draw_points(ax, data.service_points.loc[service_mask(data.service_points, service)])
    drew_prop, drew_new = _draw_proposals(ax, data, service)
    _furnish(ax, data.municipalities, lang)
    sections: list[Section] = [
        (t["legend_distance"], swatch_entries(colours, distance_class_labels(lang))),
        (t["legend_points"], mode_entries(modes, lang)),
        *other_sections(
            lang, roads=roads_present, gaps=not gaps.empty, proposals=drew_prop, new_sites=drew_new
        ),
    ]
    draw_legend(leg_ax, sections)
    label = labels.service_label(config, service, lang)
    demand = labels.label(labels.DEMAND, svc.demand, lang)
    draw_titles(
        fig,
        t["distance_title"].format(label=label),
        f"{t['threshold']}: {labels.format_threshold(svc, lang)} · {t['demand']}: {demand}",
        lang=lang,
        config=config,
        credits=credits,
    )
    return save_png(fig, path, config.export.map_dpi)


def _overview_map(
    data: MapData,
    roads: gpd.GeoDataFrame | None,
    config: Config,
    code: str,
    *,
    lang: str,
    credits: Sequence[str],
    path: Path,
) -> Path:
    t = labels.ui(lang)
    munis = data.municipalities
    row = munis.loc[munis["code"].astype(str) == code].iloc[0]
    fig, ax, leg_ax = new_figure(config)
    set_extent(ax, np.asarray(row.geometry.bounds), margin=0.05)
    _draw_base(ax, munis, focus=code)
    pop = data.population
    if "municipality" in pop:
        pop = pop.loc[(pop["municipality"].astype(str) == code).to_numpy()]
    services = [s for s in config.services if f"{s}_coverage" in data.population]
    if not pop.empty:
        cls = lacking_class(lacking_services(pop, services))
        pop.plot(ax=ax, color=[LACKING_COLOURS[c] for c in cls], edgecolor="none", alpha=0.9, zorder=2)
    roads_present = _draw_roads(ax, roads)
    modes = _draw_points(ax, data.service_points)
    drew_prop, drew_new = _draw_proposals(ax, data, None)
    _furnish(ax, munis, lang)
    sections: list[Section] = [
        (t["legend_lacking"], swatch_entries(LACKING_COLOURS, lacking_class_labels())),
        (t["legend_points"], mode_entries(modes, lang)),
        *other_sections(lang, roads=roads_present, gaps=False, proposals=drew_prop, new_sites=drew_new),
    ]
    draw_legend(leg_ax, sections)
    draw_titles(
        fig,
        t["overview_title"].format(name=row.get("name", code), code=code),
        t["overview_sub"].format(n=len(services)),
        lang=lang,
        config=config,
        credits=credits,
    )
    return save_png(fig, path, config.export.map_dpi)


def write_maps(
    results_dir: str | Path,
    config: Config,
    *,
    network: Network | None = None,
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
    arrow, a title in the chosen language and the run's credits (the synthetic-data note when it
    applies, and the sources the workspace declares).

    Parameters
    ----------
    results_dir
        A results folder holding ``results.gpkg`` and ``run.json``.
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
        When ``results.gpkg``, its layers or ``run.json`` are missing.
    """
    language = labels.resolve_language(config, lang)
    results_dir = Path(results_dir)
    data = read_map_data(results_dir, config)
    credits = run_credits(R.read_run(results_dir), language)
    if roads is None and network is not None:
        from ..network import edges_geodataframe

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
    out_dir = results_dir / R.MAPS_DIR
    service_paths = [out_dir / service_map_name(s) for s in svc_list]
    overview_paths = [out_dir / overview_map_name(c) for c in codes]
    ensure_writable(service_paths + overview_paths, force=force)
    out_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _m: None)
    written = []
    for s, path in zip(svc_list, service_paths, strict=True):
        say(f"map {s}")
        written.append(_service_map(data, roads, config, s, lang=language, credits=credits, path=path))
    for c, path in zip(codes, overview_paths, strict=True):
        say(f"map overview {c}")
        written.append(_overview_map(data, roads, config, c, lang=language, credits=credits, path=path))
    return written

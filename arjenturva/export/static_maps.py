"""Static PNG maps of a results folder (matplotlib): per service, per municipality, and per
municipality and service.

The layers come from :func:`.mapdata.read_map_data` (the results contract), the classes from
:mod:`.mapdata`, the figure furniture, the legend and the name labels from :mod:`.mapframe`, every
word from :mod:`arjenturva.labels` and the credits from the run's ``run.json``. Each map draws only
what lies in its frame and builds its legend from what it drew; each layer is one collection (the
cells one compound path per colour class). Many maps are drawn in worker processes
(:mod:`.mapworkers`), with the same bytes as in one process. Every file is written atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

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
    LAND_COLOUR,
    MODE_STYLE,
    MODES,
    NEW_SITE_STYLE,
    OTHER_LAND_COLOUR,
    PROPOSAL_COLOUR,
    REACH_COLOURS,
    ROAD_STYLE,
    MapData,
    lacking_class,
    lacking_class_labels,
    lacking_services,
    municipality_map_name,
    outlined_gaps,
    overview_map_name,
    reach_class_labels,
    read_map_data,
    road_group,
    service_map_name,
    service_mask,
    service_reach_class,
    worst_services,
)
from .mapframe import (
    BORDER_COLOUR,
    Drawn,
    draw_legend,
    draw_names,
    draw_north_arrow,
    draw_scale_bar,
    draw_shapes,
    draw_titles,
    legend_sections,
    new_figure,
    patch_collection,
    polygon_paths,
    save_png,
    set_extent,
)
from .mapworkers import draw_all
from .tables import run_credits

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from shapely import Polygon

    from ..config import Config
    from ..network import Network

Progress = Callable[[str], None]

#: What drawing a map imports (forked workers share these when the parent has imported them).
_DRAWING_MODULES: Final = (
    "matplotlib.backends.backend_agg",
    "matplotlib.collections",
    "matplotlib.figure",
    "matplotlib.patheffects",
    "textalloc",
    "PIL.PngImagePlugin",
)


def _frame_box(ax: Axes) -> Polygon:
    from shapely import box

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    return box(x0, y0, x1, y1)


def _in_frame(layer: gpd.GeoDataFrame, frame: Polygon) -> gpd.GeoDataFrame:
    """Rows of a layer with a geometry that meets the frame."""
    layer = layer.loc[layer.geometry.notna() & ~layer.geometry.is_empty]
    if layer.empty:
        return layer
    idx = layer.sindex.query(frame, predicate="intersects")
    return layer.iloc[np.sort(idx)]


def _of_municipality(layer: gpd.GeoDataFrame, code: str | None) -> gpd.GeoDataFrame:
    if code is None or "municipality" not in layer:
        return layer
    return layer.loc[(layer["municipality"].astype(str) == code).to_numpy()]


def _draw_base(ax: Axes, munis: gpd.GeoDataFrame, focus: str | None = None) -> None:
    """Municipal areas (others greyed when ``focus`` names one) and their borders."""
    if focus is None:
        draw_shapes(munis, ax, "land", facecolor=LAND_COLOUR, edgecolor="none", zorder=1)
    else:
        is_focus = (munis["code"].astype(str) == focus).to_numpy()
        draw_shapes(munis.loc[~is_focus], ax, "land", facecolor=OTHER_LAND_COLOUR, edgecolor="none", zorder=1)
        draw_shapes(munis.loc[is_focus], ax, "land", facecolor=LAND_COLOUR, edgecolor="none", zorder=1)
    draw_shapes(munis.boundary, ax, "border", color=BORDER_COLOUR, linewidth=1.6, zorder=6)


def _draw_cells(
    ax: Axes, cells: gpd.GeoDataFrame, classes: np.ndarray, colours: Sequence[str], names: Sequence[str]
) -> tuple[tuple[str, str], ...]:
    """Population cells coloured by class, as one collection of one compound path per class;
    returns (colour, name) of the classes drawn."""
    import shapely

    geoms = cells.geometry.to_numpy()
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    drawn = sorted(set(np.asarray(classes)[keep].tolist()))
    if not drawn:
        return ()
    areal = shapely.get_type_id(geoms) >= 3  # polygons; population points are drawn as dots
    if not (areal | ~keep).all():
        pts = keep & ~areal
        xy = shapely.get_coordinates(shapely.centroid(geoms[pts]))
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=14,
            c=[colours[c] for c in np.asarray(classes)[pts]],
            edgecolors="none",
            alpha=0.9,
            zorder=2,
            gid="cells",
        )
        keep = keep & areal
        if not keep.any():
            return tuple((colours[c], names[c]) for c in drawn)
    paths = polygon_paths(geoms[keep], np.asarray(classes)[keep])
    ax.add_collection(
        patch_collection(
            paths, gid="cells", facecolor=[colours[c] for c in drawn], edgecolor="none", alpha=0.9, zorder=2
        ),
        autolim=False,
    )
    return tuple((colours[c], names[c]) for c in drawn)


def _draw_roads(ax: Axes, roads: gpd.GeoDataFrame | None, frame: Polygon) -> tuple[str, ...]:
    """Roads in the frame by group; returns the groups drawn."""
    if roads is None or roads.empty:
        return ()
    roads = _in_frame(roads, frame)
    groups = (
        roads["road_class"].map(road_group)
        if "road_class" in roads
        else pd.Series("local", index=roads.index)
    )
    present = []
    for g in ("local", "regional", "main", "ferry"):
        st = ROAD_STYLE[g]
        sub = roads.loc[(groups == g).to_numpy()]
        if draw_shapes(
            sub, ax, f"road:{g}", color=st["color"], linewidth=st["lw"], linestyle=st["ls"], zorder=4
        ):
            present.append(g)
    return tuple(present)


def _scatter(ax: Axes, layer: gpd.GeoDataFrame, style: dict[str, Any], gid: str, **over: Any) -> None:
    reps = layer.geometry.representative_point()
    ax.scatter(
        reps.x,
        reps.y,
        marker=style["marker"],
        s=style["size"],
        c=over.get("color", style["color"]),
        edgecolors=over.get("edge", style["edge"]),
        linewidths=1.0,
        zorder=over.get("zorder", 9),
        gid=gid,
    )


def _modes(layer: gpd.GeoDataFrame) -> pd.Series:
    if "mode" not in layer:
        return pd.Series("fixed", index=layer.index)
    return layer["mode"].fillna("fixed").astype(str)


def _draw_points(ax: Axes, points: gpd.GeoDataFrame, frame: Polygon) -> tuple[str, ...]:
    """Service points in the frame by delivery mode; returns the modes drawn."""
    points = _in_frame(points, frame)
    modes = _modes(points)
    present = []
    for mode in MODES:
        sub = points.loc[(modes == mode).to_numpy()]
        if not sub.empty:
            _scatter(ax, sub, MODE_STYLE[mode], f"mode:{mode}")
            present.append(mode)
    return tuple(present)


def _draw_proposals(
    ax: Axes, data: MapData, frame: Polygon, *, service: str | None, code: str | None
) -> tuple[bool, tuple[str, ...]]:
    """New sites (stars) and proposed mobile and remote services (their mode's symbol in the
    proposal colour, on top, as a remote service's support point may be a new site too) in the
    frame; returns whether stars were drawn and the modes drawn."""
    drew_new = False
    if data.new_sites is not None:
        ns = _of_municipality(data.new_sites, code)
        ns = _in_frame(ns if service is None else ns.loc[service_mask(ns, service)], frame)
        if not ns.empty:
            _scatter(ax, ns, NEW_SITE_STYLE, "new_sites", zorder=11)
            drew_new = True
    drew_modes = []
    if data.proposals is not None:
        prop = _of_municipality(data.proposals, code)
        prop = _in_frame(prop if service is None else prop.loc[service_mask(prop, service)], frame)
        modes = _modes(prop)
        for mode in ("mobile", "remote"):
            sub = prop.loc[(modes == mode).to_numpy()]
            if not sub.empty:
                _scatter(ax, sub, MODE_STYLE[mode], f"proposal:{mode}", color=PROPOSAL_COLOUR, zorder=12)
                drew_modes.append(mode)
    return drew_new, tuple(drew_modes)


def _draw_gaps(ax: Axes, gaps: gpd.GeoDataFrame, frame: Polygon) -> bool:
    """Outlines of the gap areas big enough to outline (:func:`.mapdata.outlined_gaps`)."""
    big = _in_frame(gaps.loc[outlined_gaps(gaps)], frame)
    return draw_shapes(big.boundary, ax, "gaps", color=GAP_OUTLINE, linewidth=1.5, zorder=7)


def _places(data: MapData, frame: Polygon) -> gpd.GeoDataFrame | None:
    return _in_frame(data.places, frame) if data.places is not None else None


def _frame_on(ax: Axes, munis: gpd.GeoDataFrame, code: str | None) -> pd.Series | None:
    """Set the extent: the whole region, or one municipality (returns its row)."""
    if code is None:
        set_extent(ax, munis.total_bounds)
        return None
    row = munis.loc[munis["code"].astype(str) == code].iloc[0]
    set_extent(ax, np.asarray(row.geometry.bounds), margin=0.05)
    return row


def _finish(
    fig: Any,
    ax: Axes,
    leg_ax: Axes,
    drawn: Drawn,
    *,
    title: str,
    subtitle: str,
    lang: str,
    config: Config,
    credits: Sequence[str],
    path: Path,
) -> Path:
    draw_scale_bar(ax, lang=lang)
    draw_north_arrow(ax, lang=lang)
    draw_legend(leg_ax, legend_sections(drawn, lang))
    draw_titles(fig, title, subtitle, lang=lang, config=config, credits=credits)
    return save_png(fig, path, config.export.map_dpi)


def _service_map(
    data: MapData,
    roads: gpd.GeoDataFrame | None,
    config: Config,
    service: str,
    *,
    code: str | None = None,
    uncovered: float | None = None,
    lang: str,
    credits: Sequence[str],
    path: Path,
) -> Path:
    """A service's map: the region's, or framed on municipality ``code`` (its cells, gap areas and
    proposals; service points and names of the whole frame)."""
    t = labels.ui(lang)
    svc = config.services[service]
    fig, ax, leg_ax = new_figure(config)
    row = _frame_on(ax, data.municipalities, code)
    frame = _frame_box(ax)
    _draw_base(ax, data.municipalities, focus=code)
    pop = _of_municipality(data.population, code)
    classes = service_reach_class(pop, service, svc)
    fill = _draw_cells(ax, pop, classes, REACH_COLOURS, reach_class_labels(svc, lang))
    road_groups = _draw_roads(ax, roads, frame)
    gaps = _draw_gaps(
        ax, _of_municipality(data.gap_areas.loc[service_mask(data.gap_areas, service)], code), frame
    )
    modes = _draw_points(ax, data.service_points.loc[service_mask(data.service_points, service)], frame)
    new_sites, proposals = _draw_proposals(ax, data, frame, service=service, code=code)
    places = draw_names(ax, data.municipalities, _places(data, frame), frame)
    drawn = Drawn(t["legend_reach"], fill, modes, road_groups, gaps, new_sites, proposals, places)
    label = labels.service_label(config, service, lang)
    demand = labels.label(labels.DEMAND, svc.demand, lang)
    subtitle = f"{t['threshold']}: {labels.format_threshold(svc, lang)} · {t['demand']}: {demand}"
    if row is None:
        title = t["reach_title"].format(label=label)
    else:
        title = t["reach_title_muni"].format(label=label, name=row.get("name", code), code=code)
        if uncovered is not None:
            subtitle += f" · {t['uncovered']}: {labels.format_number(uncovered, lang)}"
    return _finish(
        fig,
        ax,
        leg_ax,
        drawn,
        title=title,
        subtitle=subtitle,
        lang=lang,
        config=config,
        credits=credits,
        path=path,
    )


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
    """A municipality's overview: its cells coloured by how many services are out of reach."""
    t = labels.ui(lang)
    fig, ax, leg_ax = new_figure(config)
    row = _frame_on(ax, data.municipalities, code)
    frame = _frame_box(ax)
    _draw_base(ax, data.municipalities, focus=code)
    pop = _of_municipality(data.population, code)
    services = [s for s in config.services if f"{s}_coverage" in data.population]
    classes = lacking_class(lacking_services(pop, services))
    fill = _draw_cells(ax, pop, classes, LACKING_COLOURS, lacking_class_labels())
    road_groups = _draw_roads(ax, roads, frame)
    modes = _draw_points(ax, data.service_points, frame)
    new_sites, proposals = _draw_proposals(ax, data, frame, service=None, code=code)
    places = draw_names(ax, data.municipalities, _places(data, frame), frame)
    drawn = Drawn(t["legend_lacking"], fill, modes, road_groups, False, new_sites, proposals, places)
    name = row.get("name", code) if row is not None else code
    return _finish(
        fig,
        ax,
        leg_ax,
        drawn,
        title=t["overview_title"].format(name=name, code=code),
        subtitle=t["overview_sub"].format(n=len(services)),
        lang=lang,
        config=config,
        credits=credits,
        path=path,
    )


@dataclass(frozen=True)
class _Layers:
    """What every map of one :func:`write_maps` call draws from (sent once to each worker)."""

    data: MapData
    roads: gpd.GeoDataFrame | None
    config: Config
    lang: str
    credits: tuple[str, ...]


@dataclass(frozen=True)
class _Map:
    """One PNG map: a service's (of the region, or framed on municipality ``code``) or, without a
    service, the overview of municipality ``code``."""

    path: Path
    service: str | None = None
    code: str | None = None
    uncovered: float | None = None

    def message(self) -> str:
        if self.service is None:
            return f"map overview {self.code}"
        return f"map {self.service}" if self.code is None else f"map {self.code} {self.service}"


def _draw_map(layers: _Layers, job: _Map) -> Path:
    """Draw and write one map (run in a worker process when there are many)."""
    common: dict[str, Any] = {"lang": layers.lang, "credits": layers.credits, "path": job.path}
    if job.service is None:
        return _overview_map(layers.data, layers.roads, layers.config, str(job.code), **common)
    return _service_map(
        layers.data,
        layers.roads,
        layers.config,
        job.service,
        code=job.code,
        uncovered=job.uncovered,
        **common,
    )


def _municipality_services(
    results_dir: Path, config: Config, codes: Sequence[str], services: Sequence[str]
) -> list[tuple[str, str, float]]:
    """(code, service, uncovered demand) of the maps framed on each municipality: its services
    with the most uncovered demand (``summary.csv``), at most ``export.municipality_maps``."""
    limit = config.export.municipality_maps
    if limit <= 0 or not services:
        return []
    summary = R.read_table(results_dir, R.SUMMARY)
    uncovered = {
        (str(m), str(s)): float(u)
        for m, s, u in zip(
            summary["municipality"], summary["service"], summary["uncovered_demand"], strict=True
        )
    }
    return [(c, s, uncovered[(c, s)]) for c in codes for s in worst_services(summary, c, services, limit)]


def write_maps(
    results_dir: str | Path,
    config: Config,
    *,
    network: Network | None = None,
    roads: gpd.GeoDataFrame | None = None,
    services: list[str] | None = None,
    lang: str | None = None,
    force: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Draw the static PNG maps of a results folder into ``results_dir/maps/``.

    - one map per service of the whole region (``maps/<service>.png``): population cells
      coloured by their distance against their own threshold (the one of their area class), the
      service's points by mode, its gap areas of 3 or more cells outlined, the proposals;
    - one overview per municipality (``maps/overview_<code>.png``): its cells coloured by how
      many services are out of reach, all service points, its proposals;
    - per municipality, maps framed on it of the services with the most uncovered demand there
      (``maps/<code>_<service>.png``, at most ``export.municipality_maps``, worst first; only
      services with some uncovered demand), for the municipality's report.

    Each map names municipalities and places (``places`` layer) without overlaps, and has a
    legend listing exactly what it drew, a scale bar, a north arrow, a title in the chosen
    language and the run's credits (the synthetic-data note when it applies, and the sources the
    workspace declares).

    Parameters
    ----------
    results_dir
        A results folder holding ``results.gpkg``, ``summary.csv`` and ``run.json``.
    config
        The workspace config (service labels, thresholds, ``export.map_dpi``,
        ``export.municipality_maps``, suppression).
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
    workers
        Processes drawing the maps (default: one per CPU when there are many maps, see
        :func:`.mapworkers.worker_count`; 1 draws them in this process). The files are the same
        bytes either way.
    progress
        Optional callback receiving one message per map, once it is written.

    Returns
    -------
    list of Path
        The PNG files written: the services' maps, then per municipality its overview and its
        service maps.

    Raises
    ------
    OutputExistsError
        When a map exists and ``force`` is false.
    InputFileError
        When ``results.gpkg`` or its layers are missing.
    ResultsError
        When ``run.json`` or ``summary.csv`` is missing or unreadable.
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
    per_muni = _municipality_services(results_dir, config, codes, svc_list)
    out_dir = results_dir / R.MAPS_DIR
    jobs = [_Map(out_dir / service_map_name(s), service=s) for s in svc_list]
    for c in codes:
        jobs.append(_Map(out_dir / overview_map_name(c), code=c))
        jobs += [
            _Map(out_dir / municipality_map_name(c, s), service=s, code=c, uncovered=u)
            for code, s, u in per_muni
            if code == c
        ]
    ensure_writable([job.path for job in jobs], force=force)
    out_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _m: None)
    layers = _Layers(data, roads, config, language, tuple(credits))
    return draw_all(
        _draw_map,
        layers,
        jobs,
        workers=workers,
        done=lambda job: say(job.message()),
        preload=_DRAWING_MODULES,
    )

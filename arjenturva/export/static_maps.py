"""Static PNG maps of a results folder (matplotlib): per service, per municipality, and per
municipality and service.

The layers come from :func:`.mapdata.read_map_data` (the results contract), the classes from
:mod:`.mapdata`; :mod:`.maplayers` draws them, :mod:`.maplabels` places the names,
:mod:`.maplegend` draws the legend, scale bar and north arrow, :mod:`.mapframe` the figure,
titles and footer; every word comes from :mod:`arjenturva.labels` and the credits from the run's
``run.json``. Maps are framed on the study area (``MapData.municipalities``) or on one of its
municipalities; the context municipalities around it are drawn grey, cut to the frame, and get no
maps of their own. What the maps of one frame share (the land, roads and context cut to it, the
names and the place of the scale bar and north arrow) is worked out once per frame
(:class:`.mapframing.Frame`); each map then draws only its own layers. Each map draws only what lies in its
frame and builds its legend from what it drew. Many maps are drawn in worker processes
(:mod:`.mapworkers`), a frame's maps in one, with the same bytes as in one process. Every file is
written atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np

from .. import labels
from .. import results as R
from ..errors import ArjenturvaError
from ..io import ensure_writable
from ..schema import CRS
from .mapdata import (
    LACKING_COLOURS,
    REACH_COLOURS,
    MapData,
    lacking_class,
    lacking_class_labels,
    lacking_services,
    municipality_map_name,
    overview_map_name,
    reach_class_labels,
    read_map_data,
    route_layers,
    service_map_name,
    service_mask,
    service_reach_class,
    unreachable_cells,
    worst_services,
)
from .mapframe import draw_titles, new_figure, save_png, set_extent
from .mapframing import Frame, build_frame
from .maplabels import (
    draw_names,
    place_names,
    symbols_drawn,
)
from .maplayers import (
    draw_cells,
    draw_gaps,
    draw_land,
    draw_points,
    draw_proposals,
    draw_roads,
    draw_routes,
    draw_unreachable,
    of_municipality,
    proposal_layers,
)
from .maplegend import (
    Drawn,
    draw_furniture,
    draw_legend,
    furniture_boxes,
    legend_keep_free_px,
    legend_sections,
)
from .maptext import Stamp, TextTiles
from .mapworkers import draw_all
from .tables import run_credits

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..config import Config
    from ..network import Network

Progress = Callable[[str], None]

#: What drawing a map imports (forked workers share these when the parent has imported them).
_DRAWING_MODULES: Final = (
    "matplotlib.backends.backend_agg",
    "matplotlib.collections",
    "matplotlib.figure",
    "matplotlib.patheffects",
    "matplotlib.font_manager",
    "shapely.ops",
    "PIL.PngImagePlugin",
)
#: At most this many maps of one frame are drawn one after the other by one process.
_MAPS_PER_SHARE: Final = 2


@dataclass(frozen=True)
class _Layers:
    """What every map of one :func:`write_maps` call draws from (sent once to each worker)."""

    data: MapData
    roads: gpd.GeoDataFrame | None
    config: Config
    lang: str
    credits: tuple[str, ...]
    tiles: TextTiles
    """Texts rendered once per process (each worker gets its own, empty)."""


def _write_names(ax: Axes, layers: _Layers, frame: Frame) -> tuple[bool, list[Stamp]]:
    """Place the frame's names around the symbols this map drew and write them; returns whether
    any place was named, and the names to stamp."""
    dpi = layers.config.export.map_dpi
    symbols, radius, dots, dot_radius = symbols_drawn(ax)
    names = place_names(
        frame.extent,
        dpi,
        frame.candidates,
        symbols=symbols,
        symbol_radius_px=radius,
        soft_symbols=dots,
        soft_radius_px=dot_radius,
        furniture=furniture_boxes(frame.extent, frame.furniture, dpi),
    )
    return draw_names(ax, names, frame.extent, layers.tiles)


def _start(layers: _Layers, frame: Frame) -> tuple[Figure, Axes, bool, tuple[str, ...]]:
    """A new figure with the frame's land, context and roads; returns (figure, map axes, whether
    context was drawn, the road groups drawn)."""
    fig, ax = new_figure(layers.config)
    set_extent(ax, frame.extent)
    context = draw_land(ax, frame.study, frame.context, focus=frame.focus)
    return fig, ax, context, draw_roads(ax, frame.roads)


def _finish(
    fig: Figure,
    ax: Axes,
    drawn: Drawn,
    frame: Frame,
    stamps: list[Stamp],
    *,
    layers: _Layers,
    title: str,
    subtitle: str,
    path: Path,
) -> Path:
    config, lang, tiles = layers.config, layers.lang, layers.tiles
    stamps = stamps + draw_furniture(ax, frame.furniture, lang=lang, tiles=tiles)
    keep_free = legend_keep_free_px(frame.furniture, config.export.map_dpi)
    stamps += draw_legend(fig, legend_sections(drawn, lang), tiles=tiles, bottom_px=keep_free)
    stamps += draw_titles(fig, title, subtitle, lang=lang, config=config, credits=layers.credits, tiles=tiles)
    return save_png(fig, path, config.export.map_dpi, stamps)


def _draw_layers(
    layers: _Layers,
    frame: Frame,
    fill: tuple[str, np.ndarray, Sequence[str], Sequence[str]],
    *,
    service: str | None,
    services: Sequence[str],
) -> tuple[Figure, Axes, Drawn, list[Stamp]]:
    """A new figure of the frame with a map's layers: the cells coloured by class (``fill``: the
    legend's heading, each cell's class, the classes' colours and names), crosses on the cells the
    roads do not reach for every one of ``services``, the gap areas and points of ``service``
    (every point without one), the weekly routes of the vehicles stopping to offer ``service``
    (every route without one), the proposals (of the municipality framed on) and the names.
    Returns the figure, its map axes, what was drawn and the texts to stamp."""
    data = layers.data
    fig, ax, context, road_groups = _start(layers, frame)
    pop = frame.cells
    heading, classes, colours, names = fill
    cells = draw_cells(ax, pop, classes, colours, names)
    unreachable = draw_unreachable(ax, pop, unreachable_cells(pop, services))
    gaps, points = False, data.service_points
    if service is not None:
        areas = data.gap_areas.loc[service_mask(data.gap_areas, service)]
        gaps = draw_gaps(ax, of_municipality(areas, frame.code), frame.box)
        points = points.loc[service_mask(points, service)]
    routes, route_stops = draw_routes(ax, *route_layers(data, service), frame.box)
    modes, off_road = draw_points(ax, points, frame.box)
    shown = proposal_layers(data, frame.box, service=service, code=frame.code)
    new_sites, proposals = draw_proposals(ax, *shown)
    places, stamps = _write_names(ax, layers, frame)
    drawn = Drawn(
        heading,
        cells,
        modes,
        road_groups,
        gaps,
        new_sites,
        proposals,
        places,
        context,
        unreachable,
        off_road,
        routes,
        route_stops,
    )
    return fig, ax, drawn, stamps


def _service_map(
    layers: _Layers, frame: Frame, service: str, *, uncovered: float | None = None, path: Path
) -> Path:
    """A service's map of a frame: its cells, gap areas and proposals (of the municipality framed
    on), its service points in the frame."""
    data, config, lang = layers.data, layers.config, layers.lang
    t = labels.ui(lang)
    svc = config.services[service]
    code = frame.code
    classes = service_reach_class(frame.cells, service, svc)
    fill = (t["legend_reach"], classes, REACH_COLOURS, reach_class_labels(svc, lang))
    fig, ax, drawn, stamps = _draw_layers(layers, frame, fill, service=service, services=[service])
    label = labels.service_label(config, service, lang)
    demand = labels.label(labels.DEMAND, svc.demand, lang)
    subtitle = f"{t['threshold']}: {labels.format_threshold(svc, lang)} · {t['demand']}: {demand}"
    if code is None:
        title = t["reach_title"].format(label=label)
    else:
        title = t["reach_title_muni"].format(label=label, name=_name_of(data, code), code=code)
        if uncovered is not None:
            subtitle += f" · {t['uncovered']}: {labels.format_number(uncovered, lang)}"
    return _finish(fig, ax, drawn, frame, stamps, layers=layers, title=title, subtitle=subtitle, path=path)


def _name_of(data: MapData, code: str) -> str:
    munis = data.municipalities
    row = munis.loc[munis["code"].astype(str) == code]
    return str(row["name"].iloc[0]) if "name" in row and len(row) else code


def _overview_map(layers: _Layers, frame: Frame, *, path: Path) -> Path:
    """A municipality's overview: its cells coloured by how many services are out of reach, every
    service point."""
    data, lang = layers.data, layers.lang
    t = labels.ui(lang)
    code = str(frame.code)
    services = [s for s in layers.config.services if f"{s}_coverage" in data.population]
    classes = lacking_class(lacking_services(frame.cells, services))
    fill = (t["legend_lacking"], classes, LACKING_COLOURS, lacking_class_labels())
    fig, ax, drawn, stamps = _draw_layers(layers, frame, fill, service=None, services=services)
    title = t["overview_title"].format(name=_name_of(data, code), code=code)
    subtitle = t["overview_sub"].format(n=len(services))
    return _finish(fig, ax, drawn, frame, stamps, layers=layers, title=title, subtitle=subtitle, path=path)


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


def _draw_maps(layers: _Layers, maps: Sequence[_Map]) -> list[Path]:
    """Draw and write maps of one frame (run in a worker process when there are many): the frame
    is worked out once, then each map drawn on it."""
    frame = build_frame(layers.data, layers.roads, layers.config.export.map_dpi, maps[0].code)
    out = []
    for job in maps:
        if job.service is None:
            out.append(_overview_map(layers, frame, path=job.path))
        else:
            out.append(_service_map(layers, frame, job.service, uncovered=job.uncovered, path=job.path))
    return out


def _tell(say: Progress, maps: Sequence[_Map]) -> None:
    for job in maps:
        say(job.message())


def _shares(jobs: Sequence[_Map]) -> list[list[_Map]]:
    """The maps in drawing shares: maps of one frame, at most :data:`_MAPS_PER_SHARE` each, in
    order (a share never depends on how many processes draw)."""
    shares: list[list[_Map]] = []
    for job in jobs:
        last = shares[-1] if shares else None
        if last is not None and last[0].code == job.code and len(last) < _MAPS_PER_SHARE:
            last.append(job)
        else:
            shares.append([job])
    return shares


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
    tiles = TextTiles(config.export.map_dpi)
    layers = _Layers(data, roads, config, language, tuple(credits), tiles)
    shares = _shares(jobs)
    drawn = draw_all(
        _draw_maps,
        layers,
        shares,
        weights=[len(share) for share in shares],
        workers=workers,
        done=lambda share: _tell(say, share),
        preload=_DRAWING_MODULES,
    )
    return [path for paths in drawn for path in paths]

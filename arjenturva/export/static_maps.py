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
(:class:`_Frame`); each map then draws only its own layers. Each map draws only what lies in its
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
    service_map_name,
    service_mask,
    service_reach_class,
    unreachable_cells,
    worst_services,
)
from .mapframe import Box, draw_titles, frame_extent, map_axes_px, new_figure, save_png, set_extent
from .maplabels import (
    AreaName,
    Candidates,
    PointName,
    draw_names,
    is_regional,
    name_styles,
    place_names,
    place_order,
    place_rank,
    symbols_drawn,
)
from .maplayers import (
    draw_cells,
    draw_gaps,
    draw_land,
    draw_points,
    draw_proposals,
    draw_roads,
    draw_unreachable,
    in_frame,
    of_municipality,
    proposal_layers,
    road_lines,
    trimmed,
)
from .maplegend import (
    Drawn,
    Furniture,
    choose_furniture,
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
    "matplotlib.font_manager",
    "shapely.ops",
    "PIL.PngImagePlugin",
)
#: Margins of a frame around the study area and around one municipality (share of its size).
_REGION_MARGIN: Final = 0.04
_MUNICIPALITY_MARGIN: Final = 0.05
#: At most this many maps of one frame are drawn one after the other by one process.
_MAPS_PER_SHARE: Final = 4
#: What the scale bar or north arrow cost where they cover a point symbol or a population cell,
#: and per share of land they cover (a corner costing more than
#: :data:`.maplegend.OUTSIDE_ABOVE`, which any symbol or cell does, is not used), and how near
#: (pixels) a symbol or cell centre counts as under them.
_SYMBOL_COST: Final = 1.0
_CELL_COST: Final = 0.3
_LAND_COST: Final = 0.5
_DATA_PAD_PX: Final = 12.0


@dataclass(frozen=True)
class _Layers:
    """What every map of one :func:`write_maps` call draws from (sent once to each worker)."""

    data: MapData
    roads: gpd.GeoDataFrame | None
    config: Config
    lang: str
    credits: tuple[str, ...]
    services: tuple[str, ...]
    tiles: TextTiles
    """Texts rendered once per process (each worker gets its own, empty)."""


@dataclass(frozen=True)
class _Frame:
    """What the maps of one frame share: the extent, the study municipalities in it (``focus``
    marks the one framed on), the context and the roads cut to it, the cells its maps colour, the
    place of the scale bar and north arrow, and the names it may show (each map places them
    around its own symbols)."""

    code: str | None
    extent: Box
    box: Polygon
    study: gpd.GeoSeries | None
    focus: np.ndarray | None
    context: gpd.GeoSeries | None
    roads: dict[str, list[np.ndarray]]
    cells: gpd.GeoDataFrame
    furniture: Furniture
    candidates: Candidates


def _furniture(
    layers: _Layers, extent: Box, box: Polygon, land: gpd.GeoSeries | None, cells: gpd.GeoDataFrame
) -> Furniture:
    """Where the scale bar and north arrow cover least: no point symbol and no population cell of
    the frame's maps where possible, then least of ``land`` (the study area, or the municipality
    framed on)."""
    import shapely

    data = layers.data
    geoms = land.to_numpy() if land is not None else np.zeros(0, dtype=object)
    symbols = [in_frame(data.service_points, box), *proposal_layers(data, box, service=None, code=None)]
    xy = [
        shapely.get_coordinates(shapely.point_on_surface(layer.geometry.to_numpy())).reshape(-1, 2)
        for layer in symbols
        if layer is not None and not layer.empty
    ]
    centres = shapely.get_coordinates(shapely.point_on_surface(cells.geometry.to_numpy())).reshape(-1, 2)
    marks = np.vstack([*xy, centres])
    weight = np.r_[np.full(len(marks) - len(centres), _SYMBOL_COST), np.full(len(centres), _CELL_COST)]
    pad = _DATA_PAD_PX * (extent[2] - extent[0]) / map_axes_px()[0]

    def cost(b: Box) -> float:
        square = shapely.box(*b)
        area = float(shapely.area(shapely.intersection(geoms, square)).sum()) if len(geoms) else 0.0
        x, y = marks[:, 0], marks[:, 1]
        under = (x >= b[0] - pad) & (x <= b[2] + pad) & (y >= b[1] - pad) & (y <= b[3] + pad)
        return _LAND_COST * area / square.area + float(weight[under].sum())

    return choose_furniture(extent, layers.config.export.map_dpi, cost)


def _candidates(layers: _Layers, box: Polygon, code: str | None) -> Candidates:
    """The names a frame may show: its study municipalities (the one framed on first, then the
    smallest, which have the fewest places to go), its places (those in the study area first; on
    regional frames only the study area's towns and centres), its context municipalities (not on
    regional frames, where they would crowd the study area's)."""
    import shapely

    data = layers.data
    munis = in_frame(data.municipalities, box)
    regional = is_regional(len(munis))
    study_style, place_style, context_style = name_styles(len(munis))
    geoms = munis.geometry.to_numpy()
    seen = shapely.intersection(geoms, box)
    codes = munis["code"].astype(str).to_numpy()
    order = np.lexsort((codes, shapely.area(seen), codes != code))
    names = munis["name"].astype(str).to_numpy() if "name" in munis else codes
    areas = tuple(AreaName(str(names[i]), seen[i], study_style, "label:municipality") for i in order)
    background: tuple[AreaName, ...] = ()
    if data.context is not None and not regional:
        ctx = in_frame(data.context, box)
        cseen = shapely.intersection(ctx.geometry.to_numpy(), box)
        cnames = ctx["name"].astype(str).to_numpy() if "name" in ctx else ctx["code"].astype(str).to_numpy()
        background = tuple(
            AreaName(str(cnames[i]), cseen[i], context_style, "label:context")
            for i in np.lexsort((cnames, -shapely.area(cseen)))
        )
    points: tuple[PointName, ...] = ()
    if data.places is not None:
        places = in_frame(data.places, box)
        xy = shapely.get_coordinates(shapely.point_on_surface(places.geometry.to_numpy())).reshape(-1, 2)
        in_study = np.zeros(len(places), dtype=bool)
        for g in geoms:
            in_study |= shapely.contains_xy(g, xy[:, 0], xy[:, 1])
        order = place_order(places, in_study)
        if regional:  # only the study area's towns and centres (when the places say which)
            order = order[in_study[order]]
            big = place_rank(places["kind"]) <= 1 if "kind" in places else np.zeros(len(places), dtype=bool)
            order = order[big[order]] if big[order].any() else order
        pnames = places["name"].astype(str).to_numpy()
        points = tuple(PointName(pnames[i], xy[i, 0], xy[i, 1], place_style, "label:place") for i in order)
    return Candidates(areas, points, background)


def _build_frame(layers: _Layers, code: str | None) -> _Frame:
    """Work out what the maps framed on the study area (``code`` None) or on municipality
    ``code`` share."""
    import shapely

    data = layers.data
    munis = data.municipalities
    if code is None:
        extent = frame_extent(munis.total_bounds, _REGION_MARGIN)
    else:
        row = munis.loc[munis["code"].astype(str) == code]
        extent = frame_extent(row.total_bounds, _MUNICIPALITY_MARGIN)
    box = shapely.box(*extent)
    study = trimmed(munis, box)
    focus = None
    if code is not None and study is not None:
        focus = (munis.loc[study.index, "code"].astype(str) == code).to_numpy()
    cells = of_municipality(data.population, code)
    land = study if focus is None or study is None else study.loc[focus]
    furniture = _furniture(layers, extent, box, land, cells)
    context = trimmed(data.context, box) if data.context is not None else None
    roads = road_lines(layers.roads, box)
    if is_regional(0 if study is None else len(study)):
        roads.pop("local", None)  # at this scale they would hide everything else
    candidates = _candidates(layers, box, code)
    return _Frame(code, extent, box, study, focus, context, roads, cells, furniture, candidates)


def _write_names(ax: Axes, layers: _Layers, frame: _Frame) -> tuple[bool, list[Stamp]]:
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


def _start(layers: _Layers, frame: _Frame) -> tuple[Figure, Axes, bool, tuple[str, ...]]:
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
    frame: _Frame,
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


def _service_map(
    layers: _Layers, frame: _Frame, service: str, *, uncovered: float | None = None, path: Path
) -> Path:
    """A service's map of a frame: its cells, gap areas and proposals (of the municipality framed
    on), its service points in the frame."""
    data, config, lang = layers.data, layers.config, layers.lang
    t = labels.ui(lang)
    svc = config.services[service]
    code = frame.code
    fig, ax, context, road_groups = _start(layers, frame)
    pop = frame.cells
    classes = service_reach_class(pop, service, svc)
    fill = draw_cells(ax, pop, classes, REACH_COLOURS, reach_class_labels(svc, lang))
    unreachable = draw_unreachable(ax, pop, unreachable_cells(pop, [service]))
    gaps = draw_gaps(
        ax, of_municipality(data.gap_areas.loc[service_mask(data.gap_areas, service)], code), frame.box
    )
    points = data.service_points.loc[service_mask(data.service_points, service)]
    modes, off_road = draw_points(ax, points, frame.box)
    new_sites, proposals = draw_proposals(ax, *proposal_layers(data, frame.box, service=service, code=code))
    places, stamps = _write_names(ax, layers, frame)
    drawn = Drawn(
        t["legend_reach"],
        fill,
        modes,
        road_groups,
        gaps,
        new_sites,
        proposals,
        places,
        context,
        unreachable,
        off_road,
    )
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


def _overview_map(layers: _Layers, frame: _Frame, *, path: Path) -> Path:
    """A municipality's overview: its cells coloured by how many services are out of reach."""
    data, lang = layers.data, layers.lang
    t = labels.ui(lang)
    code = str(frame.code)
    fig, ax, context, road_groups = _start(layers, frame)
    pop = frame.cells
    services = [s for s in layers.config.services if f"{s}_coverage" in data.population]
    classes = lacking_class(lacking_services(pop, services))
    fill = draw_cells(ax, pop, classes, LACKING_COLOURS, lacking_class_labels())
    unreachable = draw_unreachable(ax, pop, unreachable_cells(pop, services))
    modes, off_road = draw_points(ax, data.service_points, frame.box)
    new_sites, proposals = draw_proposals(ax, *proposal_layers(data, frame.box, service=None, code=code))
    places, stamps = _write_names(ax, layers, frame)
    drawn = Drawn(
        t["legend_lacking"],
        fill,
        modes,
        road_groups,
        False,
        new_sites,
        proposals,
        places,
        context,
        unreachable,
        off_road,
    )
    return _finish(
        fig,
        ax,
        drawn,
        frame,
        stamps,
        layers=layers,
        title=t["overview_title"].format(name=_name_of(data, code), code=code),
        subtitle=t["overview_sub"].format(n=len(services)),
        path=path,
    )


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
    frame = _build_frame(layers, maps[0].code)
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
    layers = _Layers(data, roads, config, language, tuple(credits), tuple(svc_list), tiles)
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

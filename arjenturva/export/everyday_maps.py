"""The everyday service basket's maps (arjen turva index, ``gaps.basket``): two PNGs in ``maps/``.

- ``basket.png``: the study area's cells coloured by how many of the basket's services they lack
  (``basket_lacking`` of the ``population`` layer: 0, 1, 2, 3 or more), the basket's service
  points by mode, the roads and names;
- ``basket_municipalities.png``: a choropleth of ``basket_share`` (``summary.csv``, row ``ALL``)
  per study municipality, each labelled with its name and share.

Both are framed, titled, credited and given a legend, scale bar and north arrow as the other maps
(:mod:`.static_maps`, whose helpers they reuse); the bytes are the same on every run. Without a
basket in the config no map is drawn.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from .. import labels
from .. import results as R
from ..io import ensure_writable
from ..schema import CRS
from .mapdata import MapData, read_map_data, service_mask
from .mapframe import draw_shapes, draw_titles, new_figure, save_png, set_extent
from .mapframing import Frame, build_frame
from .maplabels import draw_names, place_names, symbols_drawn
from .maplayers import draw_cells, draw_land, draw_points, draw_roads
from .maplegend import (
    Drawn,
    draw_furniture,
    draw_legend,
    furniture_boxes,
    legend_keep_free_px,
    legend_sections,
)
from .maptext import Stamp, TextTiles
from .tables import run_credits

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..config import Config
    from ..network import Network

BASKET_MAP: Final = "basket.png"
"""The cells' map of the basket (under ``maps/``)."""
BASKET_MUNICIPALITIES_MAP: Final = "basket_municipalities.png"
"""The municipalities' choropleth of the basket (under ``maps/``)."""

#: Cells lacking 0, 1, 2, 3+ of the basket's services.
LACKING_COLOURS: Final[tuple[str, ...]] = ("#1b7837", "#fdb863", "#e66101", "#7f0000")
LACKING_NAMES: Final[tuple[str, ...]] = ("0", "1", "2", "3+")
#: Upper bounds of the choropleth's share classes (the last class reaches 100 %).
SHARE_BREAKS: Final[tuple[float, ...]] = (0.5, 0.7, 0.85, 0.95)
SHARE_COLOURS: Final[tuple[str, ...]] = ("#b2182b", "#ef8a62", "#fddbc7", "#a6dba0", "#1b7837")
NO_DATA_COLOUR: Final = "#bdbdbd"


def basket_map_names(config: Config) -> list[str]:
    """File names (under ``maps/``) of the basket's maps: none without a basket."""
    return [BASKET_MAP, BASKET_MUNICIPALITIES_MAP] if config.gaps.basket else []


def lacking_classes(lacking: pd.Series) -> np.ndarray:
    """Class (0, 1, 2, 3 = 3 or more) of each cell's ``basket_lacking`` (missing counts as 0)."""
    values = pd.to_numeric(lacking, errors="coerce").fillna(0).to_numpy(dtype=float)
    return np.clip(values, 0, len(LACKING_NAMES) - 1).astype(int)


def share_classes(shares: np.ndarray) -> np.ndarray:
    """Class of each share (:data:`SHARE_BREAKS`); -1 for a missing share."""
    shares = np.asarray(shares, dtype=float)
    classes = np.searchsorted(np.asarray(SHARE_BREAKS), shares, side="right")
    return np.where(np.isfinite(shares), classes, -1)


def share_class_labels(lang: str) -> list[str]:
    """Legend names of the share classes (``< 50 %``, ``50–70 %``, …, ``≥ 95 %``)."""
    pct = [labels.format_number(b * 100, lang, 0) for b in SHARE_BREAKS]
    middle = [f"{lo}–{hi}\u00a0%" for lo, hi in zip(pct[:-1], pct[1:], strict=True)]
    return [f"<\u00a0{pct[0]}\u00a0%", *middle, f"≥\u00a0{pct[-1]}\u00a0%"]


def _basket_text(config: Config, lang: str) -> str:
    return ", ".join(labels.service_label(config, s, lang) for s in config.gaps.basket)


def _names(ax: Axes, frame: Frame, dpi: int, tiles: TextTiles) -> tuple[bool, list[Stamp]]:
    """Place the frame's names around the symbols drawn and write them (as :mod:`.static_maps`)."""
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
    return draw_names(ax, names, frame.extent, tiles)


def _finish(
    fig: Figure,
    ax: Axes,
    drawn: Drawn,
    frame: Frame,
    stamps: list[Stamp],
    *,
    config: Config,
    lang: str,
    credits: tuple[str, ...],
    tiles: TextTiles,
    title: str,
    subtitle: str,
    path: Path,
) -> Path:
    """The legend, scale bar, north arrow, titles and footer; writes the PNG."""
    dpi = config.export.map_dpi
    stamps = stamps + draw_furniture(ax, frame.furniture, lang=lang, tiles=tiles)
    keep_free = legend_keep_free_px(frame.furniture, dpi)
    stamps += draw_legend(fig, legend_sections(drawn, lang), tiles=tiles, bottom_px=keep_free)
    stamps += draw_titles(fig, title, subtitle, lang=lang, config=config, credits=credits, tiles=tiles)
    return save_png(fig, path, dpi, stamps)


def _basket_points(data: MapData, basket: list[str]) -> gpd.GeoDataFrame:
    points = data.service_points
    keep = np.zeros(len(points), dtype=bool)
    for s in basket:
        keep |= service_mask(points, s)
    return points.loc[keep]


def _cells_map(
    data: MapData, frame: Frame, config: Config, lang: str, credits: tuple[str, ...], path: Path
) -> Path:
    t = labels.ui(lang)
    tiles = TextTiles(config.export.map_dpi)
    fig, ax = new_figure(config)
    set_extent(ax, frame.extent)
    context = draw_land(ax, frame.study, frame.context, focus=frame.focus)
    road_groups = draw_roads(ax, frame.roads)
    cells = draw_cells(
        ax, frame.cells, lacking_classes(frame.cells["basket_lacking"]), LACKING_COLOURS, LACKING_NAMES
    )
    modes, off_road = draw_points(ax, _basket_points(data, list(config.gaps.basket)), frame.box)
    places, stamps = _names(ax, frame, config.export.map_dpi, tiles)
    drawn = Drawn(
        t["legend_basket_lacking"],
        fill=cells,
        modes=modes,
        roads=road_groups,
        places=places,
        context=context,
        off_road=off_road,
    )
    subtitle = t["basket_sub"].format(services=_basket_text(config, lang))
    return _finish(
        fig, ax, drawn, frame, stamps, config=config, lang=lang, credits=credits, tiles=tiles,
        title=t["basket_title"], subtitle=subtitle, path=path,
    )  # fmt: skip


def municipality_shares(results_dir: Path) -> dict[str, float]:
    """``basket_share`` of each municipality (``summary.csv``, row ``ALL``), by code."""
    summary = R.read_table(results_dir, R.SUMMARY)
    rows = summary.loc[summary["service"] == "ALL"]
    if "basket_share" not in rows:
        return {}
    shares = pd.to_numeric(rows["basket_share"], errors="coerce")
    return {str(c): float(v) for c, v in zip(rows["municipality"], shares, strict=True)}


def _choropleth(
    data: MapData,
    frame: Frame,
    shares: dict[str, float],
    config: Config,
    lang: str,
    credits: tuple[str, ...],
    path: Path,
) -> Path:
    t = labels.ui(lang)
    tiles = TextTiles(config.export.map_dpi)
    fig, ax = new_figure(config)
    set_extent(ax, frame.extent)
    context = draw_land(ax, frame.study, frame.context, focus=frame.focus)
    fill: tuple[tuple[str, str], ...] = ()
    if frame.study is not None and len(frame.study):
        codes = data.municipalities.loc[frame.study.index, "code"].astype(str).to_numpy()
        values = np.array([shares.get(c, np.nan) for c in codes], dtype=float)
        classes = share_classes(values)
        names = share_class_labels(lang)
        shown = []
        for k in sorted(set(classes.tolist())):
            colour = NO_DATA_COLOUR if k < 0 else SHARE_COLOURS[k]
            draw_shapes(
                frame.study.loc[classes == k],
                ax,
                "choropleth",
                facecolor=colour,
                edgecolor="none",
                zorder=1.5,
            )
            shown.append((colour, t["no_data"] if k < 0 else names[k]))
        fill = tuple(shown)
        # Each municipality's name with its share (a missing share leaves the name alone).
        by_name = {
            str(n): labels.format_share(shares[str(c)], lang)
            for c, n in zip(data.municipalities["code"], data.municipalities["name"], strict=True)
            if np.isfinite(shares.get(str(c), np.nan))
        }
        areas = tuple(
            replace(a, text=f"{a.text} {by_name[a.text]}") if a.text in by_name else a
            for a in frame.candidates.areas
        )
        frame = replace(frame, candidates=replace(frame.candidates, areas=areas, points=()))
    places, stamps = _names(ax, frame, config.export.map_dpi, tiles)
    drawn = Drawn(t["legend_basket_share"], fill=fill, places=places, context=context)
    subtitle = t["basket_muni_sub"].format(services=_basket_text(config, lang))
    return _finish(
        fig, ax, drawn, frame, stamps, config=config, lang=lang, credits=credits, tiles=tiles,
        title=t["basket_muni_title"], subtitle=subtitle, path=path,
    )  # fmt: skip


def write_everyday_maps(
    results_dir: str | Path,
    config: Config,
    *,
    network: Network | None = None,
    roads: gpd.GeoDataFrame | None = None,
    lang: str | None = None,
    force: bool = False,
) -> list[Path]:
    """Draw the basket's maps of a results folder into ``results_dir/maps/``
    (:data:`BASKET_MAP`, :data:`BASKET_MUNICIPALITIES_MAP`).

    Nothing is drawn (an empty list is returned) when the config has no basket or the results
    lack the ``basket_lacking`` column (a folder written before the basket was configured).
    ``network`` or ``roads`` give the roads as in :func:`.static_maps.write_maps`.

    Raises
    ------
    OutputExistsError
        When a map exists and ``force`` is false.
    InputFileError
        When ``results.gpkg`` or its layers are missing.
    """
    if not config.gaps.basket:
        return []
    language = labels.resolve_language(config, lang)
    results_dir = Path(results_dir)
    data = read_map_data(results_dir, config)
    if "basket_lacking" not in data.population:
        return []
    out_dir = results_dir / R.MAPS_DIR
    paths = [out_dir / name for name in basket_map_names(config)]
    ensure_writable(paths, force=force)
    if roads is None and network is not None:
        from ..network import edges_geodataframe

        roads = edges_geodataframe(network)
    if roads is not None and roads.crs is not None and roads.crs.to_epsg() != 3067:
        roads = roads.to_crs(CRS)
    credits = tuple(run_credits(R.read_run(results_dir), language))
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = build_frame(data, roads, config.export.map_dpi, None)
    shares = municipality_shares(results_dir)
    return [
        _cells_map(data, frame, config, language, credits, paths[0]),
        _choropleth(data, frame, shares, config, language, credits, paths[1]),
    ]

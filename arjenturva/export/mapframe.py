"""The frame of a static map: figure and axes layout, extent, the drawing of a layer's polygons or
lines as one collection (:func:`draw_shapes`, not one artist per feature), titles, the footer with
the run's credits, and the PNG save.

Every PNG map is a fixed-size figure (:data:`FIG_PX`) with the map axes on the left and the legend
column on the right; :mod:`.static_maps` draws the layers into it, :mod:`.maplegend` the legend, the
scale bar and the north arrow, :mod:`.maplabels` the names. Every artist a map draws carries a
``gid`` naming what it shows (``mode:fixed``, ``road:ferry``, ``gaps``, …), so a legend can be
checked against the layers drawn.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from .. import labels
from ..io import atomic_path, build_date
from .mapdata import SEA_COLOUR
from .maptext import Stamp, TextStyle, TextTiles, stamp

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.path import Path as MplPath

    from ..config import Config

_POLYGONS: Final = frozenset({3, 6})  # shapely type ids of Polygon and MultiPolygon
_LINES: Final = frozenset({1, 2, 5})  # LineString, LinearRing and MultiLineString

#: Size of every PNG map in pixels (width, height).
FIG_PX: Final = (1800, 1400)
_MAP_RECT: Final = (0.03, 0.085, 0.70, 0.80)  # left, bottom, width, height of the map axes (figure fraction)
_LEGEND_RECT: Final = (0.745, 0.085, 0.235, 0.80)
_PNG_COLOURS: Final = 256  # the maps are saved with a palette of this many colours (fast octree)
_CREDIT_CHARS: Final = 160  # credits longer than this wrap onto a second footer line
BORDER_COLOUR: Final = "#333333"
CONTEXT_BORDER_COLOUR: Final = "#9a9a9a"

#: A box (x0, y0, x1, y1).
Box = tuple[float, float, float, float]


def map_axes_px() -> tuple[float, float]:
    """Width and height of the map axes in pixels."""
    return _MAP_RECT[2] * FIG_PX[0], _MAP_RECT[3] * FIG_PX[1]


def map_rect_px() -> tuple[float, float, float, float]:
    """The map axes in figure pixels: left, bottom, width, height."""
    return _px(_MAP_RECT)


def legend_rect_px() -> tuple[float, float, float, float]:
    """The legend's column right of the map in figure pixels: left, bottom, width, height."""
    return _px(_LEGEND_RECT)


def _px(rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return rect[0] * FIG_PX[0], rect[1] * FIG_PX[1], rect[2] * FIG_PX[0], rect[3] * FIG_PX[1]


def new_figure(config: Config) -> tuple[Figure, Axes]:
    """A blank map figure and its map axes (the legend is drawn in figure pixels beside it)."""
    from matplotlib.figure import Figure

    dpi = config.export.map_dpi
    fig = Figure(figsize=(FIG_PX[0] / dpi, FIG_PX[1] / dpi), dpi=dpi, facecolor="white")
    _agg_canvas(fig)
    ax = fig.add_axes(_MAP_RECT)
    ax.set_facecolor(SEA_COLOUR)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#9a9a9a")
    return fig, ax


def frame_extent(bounds: Sequence[float], margin: float = 0.04) -> Box:
    """The extent (x0, y0, x1, y1) showing ``bounds`` (minx, miny, maxx, maxy) with a margin, grown
    on its shorter side to fill the map axes at scale 1:1."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    dx, dy = maxx - minx, maxy - miny
    pad = max(dx, dy, 1.0) * margin
    minx, maxx, miny, maxy = minx - pad, maxx + pad, miny - pad, maxy + pad
    box_w, box_h = map_axes_px()
    want = box_w / box_h
    w, h = maxx - minx, maxy - miny
    if w / h < want:
        extra = (h * want - w) / 2
        minx, maxx = minx - extra, maxx + extra
    else:
        extra = (w / want - h) / 2
        miny, maxy = miny - extra, maxy + extra
    return minx, miny, maxx, maxy


def set_extent(ax: Axes, extent: Box) -> None:
    """Show ``extent`` (from :func:`frame_extent`) in the map axes."""
    x0, y0, x1, y1 = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")


def draw_shapes(frame: gpd.GeoDataFrame | gpd.GeoSeries, ax: Axes, gid: str, **style: Any) -> bool:
    """Plot a layer of polygons or lines as one collection named ``gid`` (matplotlib keyword
    ``style``, as for :meth:`geopandas.GeoDataFrame.plot`); returns whether anything was drawn."""
    import shapely

    geoms = np.asarray(frame.geometry if hasattr(frame, "geometry") else frame, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) == 0:
        return False
    kinds = set(shapely.get_type_id(geoms).tolist())
    if kinds <= _POLYGONS:
        ax.add_collection(patch_collection(polygon_paths(geoms), gid=gid, **style), autolim=False)
    elif kinds <= _LINES:
        from matplotlib.collections import LineCollection

        parts = shapely.get_parts(geoms)
        xy, index = shapely.get_coordinates(parts, return_index=True)
        lines = np.split(xy, np.flatnonzero(np.diff(index)) + 1)
        ax.add_collection(LineCollection(lines, gid=gid, **style), autolim=False)
    else:
        msg = f"layer {gid!r}: only polygons or only lines can be drawn, not geometry types {sorted(kinds)}"
        raise ValueError(msg)
    return True


def polygon_paths(geoms: np.ndarray, groups: np.ndarray | None = None) -> list[MplPath]:
    """Matplotlib paths of (multi)polygons: one per geometry, or with ``groups`` (an integer per
    geometry) one compound path per group, in order of the group numbers.

    Exterior rings run anticlockwise and holes clockwise, so holes stay empty whatever the
    orientation of the source rings.
    """
    import shapely
    from matplotlib.path import Path as MplPath

    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, vertex_of = shapely.get_coordinates(rings, return_index=True)
    size = np.bincount(vertex_of, minlength=len(rings))
    first = np.r_[0, np.cumsum(size)[:-1]]
    # twice the signed area of each ring (shoelace, relative to its first vertex for precision)
    rel = xy - xy[first[vertex_of]]
    cross = rel[:-1, 0] * rel[1:, 1] - rel[1:, 0] * rel[:-1, 1]
    inside = vertex_of[:-1] == vertex_of[1:]
    area2 = np.bincount(vertex_of[:-1][inside], weights=cross[inside], minlength=len(rings))
    exterior = np.r_[True, ring_of[1:] != ring_of[:-1]]  # a polygon's first ring is its exterior
    flip = (area2 > 0) != exterior
    pos = np.arange(len(xy)) - first[vertex_of]
    xy = xy[first[vertex_of] + np.where(flip[vertex_of], size[vertex_of] - 1 - pos, pos)]
    codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
    codes[first] = MplPath.MOVETO
    codes[first + size - 1] = MplPath.CLOSEPOLY
    owner = part_of[ring_of[vertex_of]]
    key = owner if groups is None else np.asarray(groups)[owner]
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    return [MplPath(xy[idx], codes[idx]) for idx in np.split(order, bounds) if len(idx)]


def patch_collection(paths: Sequence[MplPath], *, gid: str, **style: Any) -> PatchCollection:
    """One collection of the filled ``paths`` (matplotlib keyword ``style``, one colour or one
    per path)."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch

    return PatchCollection([PathPatch(p) for p in paths], gid=gid, **style)


# --- titles, footer, saving -------------------------------------------------------------------------


def draw_titles(
    fig: Figure,
    title: str,
    subtitle: str,
    *,
    lang: str,
    config: Config,
    credits: Sequence[str],
    tiles: TextTiles,
) -> list[Stamp]:
    """The title and subtitle above the map, and the footer: the workspace name, today's date,
    the suppression note and the run's credits (see :func:`arjenturva.export.tables.run_credits`);
    returns the footer's lines to stamp (the same on every map)."""
    t = labels.ui(lang)
    fig.text(0.03, 0.955, title, fontsize=21, fontweight="bold", va="center", ha="left")
    fig.text(0.03, 0.912, subtitle, fontsize=12.5, color="#333333", va="center", ha="left")
    foot = (
        f"{config.name} · {t['created'].format(date=labels.format_date(build_date(), lang))} · "
        f"{t['cells_note'].format(n=config.export.suppress_below)}"
    )
    w, h = FIG_PX
    stamps = [tiles.stamp(foot, TextStyle(9.5, colour="#333333"), 0.03 * w, 0.052 * h, gid="footer")]
    lines = textwrap.wrap(" · ".join(credits), _CREDIT_CHARS) or [""]
    # One line sits where it always did; more share the band below the footer line.
    step = min(0.018, 0.028 / max(len(lines) - 1, 1))
    top = 0.026 if len(lines) == 1 else 0.036
    style = TextStyle(9.5 if step >= 0.018 else 8.0, colour="#333333")
    for i, line in enumerate(lines):
        stamps.append(tiles.stamp(line, style, 0.03 * w, (top - i * step) * h, gid="footer"))
    return stamps


def save_png(fig: Figure, path: Path, dpi: int, stamps: Sequence[Stamp] = ()) -> Path:
    """Render the figure, stamp ``stamps`` on it (:mod:`.maptext`) and save it as a PNG file with a
    palette of :data:`_PNG_COLOURS` colours (fast octree quantisation: a map has few colours, and
    the file is a third of an RGB one), atomically.

    The file holds only the pixels and the resolution, so the same map is always the same bytes.
    """
    from PIL import Image

    canvas = _agg_canvas(fig)
    canvas.draw()
    rendered = canvas.buffer_rgba()  # the renderer's own buffer, not copied
    image = Image.frombuffer("RGBA", canvas.get_width_height(), rendered, "raw", "RGBA", 0, 1).convert("RGB")
    stamp(image, stamps)
    palette = image.quantize(_PNG_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    with atomic_path(path) as tmp:
        palette.save(tmp, format="png", dpi=(dpi, dpi), compress_level=3)
    return path


def _agg_canvas(fig: Figure) -> FigureCanvasAgg:
    """The figure's Agg canvas (text is measured and the map rendered by one renderer)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas
    return canvas if isinstance(canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)

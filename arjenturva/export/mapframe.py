"""The furniture of a static map: figure and axes layout, extent, scale bar, north arrow, the
legend (built from what a map drew, :class:`Drawn`), name labels placed without collisions,
titles, the footer with the run's credits, and the atomic PNG save; and the drawing of a layer's
polygons or lines as one collection (:func:`draw_shapes`), not one artist per feature.

Every PNG map is a fixed-size figure (:data:`FIG_PX`) with the map axes on the left and the legend
axes on the right; :mod:`.static_maps` draws the layers into it. Every artist a map draws, and
every legend handle, carries a ``gid`` naming what it shows (``mode:fixed``, ``road:ferry``,
``gaps``, …), so a legend can be checked against the layers drawn.
"""

from __future__ import annotations

import contextlib
import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from .. import labels
from ..io import atomic_path, build_date
from .mapdata import (
    GAP_OUTLINE,
    GAP_OUTLINE_MIN_CELLS,
    MODE_STYLE,
    NEW_SITE_STYLE,
    PLACE_STYLE,
    PROPOSAL_COLOUR,
    ROAD_STYLE,
    SEA_COLOUR,
)

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.path import Path as MplPath
    from matplotlib.text import Text
    from shapely import Polygon

    from ..config import Config

_POLYGONS: Final = frozenset({3, 6})  # shapely type ids of Polygon and MultiPolygon
_LINES: Final = frozenset({1, 2, 5})  # LineString, LinearRing and MultiLineString

#: Size of every PNG map in pixels (width, height).
FIG_PX: Final = (1800, 1400)
_MAP_RECT: Final = (0.03, 0.085, 0.70, 0.80)  # left, bottom, width, height of the map axes (figure fraction)
_LEGEND_RECT: Final = (0.745, 0.085, 0.235, 0.80)
_PNG_COMPRESSION: Final = 3  # zlib level: about twice as fast as the default 6, files about 5 % larger
_CREDIT_CHARS: Final = 160  # credits longer than this wrap onto a second footer line
_LEGEND_CHARS: Final = 30  # legend lines longer than this wrap (the legend axes' width)
BORDER_COLOUR: Final = "#333333"
#: Corners of the map axes (axes fraction: x0, y0, x1, y1) the scale bar and north arrow take;
#: name labels keep out of them.
_FURNITURE: Final = ((0.0, 0.0, 0.36, 0.13), (0.9, 0.8, 1.0, 1.0))

#: A legend section: its heading and its (handle, label) entries.
Section = tuple[str, list[tuple[Any, str]]]


@dataclass(frozen=True)
class Drawn:
    """What one map drew inside its frame; its legend lists exactly this and nothing else.

    ``fill`` holds the (colour, label) of each cell class drawn, ``proposals`` the modes of the
    proposed mobile and remote services drawn (fixed proposals are the ``new_sites`` stars).
    """

    fill_title: str
    fill: tuple[tuple[str, str], ...] = ()
    modes: tuple[str, ...] = ()
    roads: tuple[str, ...] = ()
    gaps: bool = False
    new_sites: bool = False
    proposals: tuple[str, ...] = ()
    places: bool = False


@dataclass(frozen=True)
class MapLabel:
    """A name to write on a map at (x, y) in map units; labels earlier in a list win space first."""

    x: float
    y: float
    text: str
    size: float
    bold: bool
    gid: str


def new_figure(config: Config) -> tuple[Figure, Axes, Axes]:
    """A blank map figure: (figure, map axes, legend axes)."""
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
    leg_ax = fig.add_axes(_LEGEND_RECT)
    leg_ax.axis("off")
    return fig, ax, leg_ax


def set_extent(ax: Axes, bounds: np.ndarray, margin: float = 0.04) -> None:
    """Show ``bounds`` (minx, miny, maxx, maxy) with a margin, filling the map axes at scale 1:1."""
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


def _nice_length_km(span_km: float) -> float:
    target = span_km / 5
    for v in (0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 500):
        if v >= target:
            return v
    return 1000.0


def draw_scale_bar(ax: Axes, *, lang: str) -> None:
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
        text = labels.format_number(km, lang, 0 if float(km).is_integer() else 1)
        if frac == 1:
            text += " km"
        ax.text(bx + length * frac, by + h * 1.6, text, ha="center", va="bottom", fontsize=9, zorder=22)


def draw_north_arrow(ax: Axes, *, lang: str) -> None:
    """Draw a north arrow in the upper right corner (grid north of ETRS-TM35FIN)."""
    ax.annotate(
        labels.ui(lang)["north"],
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


def draw_legend(ax: Axes, sections: Sequence[Section]) -> None:
    """One legend with bold section headings in the legend axes (empty sections are skipped)."""
    from matplotlib.lines import Line2D

    handles: list[Any] = []
    texts: list[str] = []
    heads: list[int] = []
    for title, entries in sections:
        if not entries:
            continue
        if handles:
            handles.append(Line2D([], [], linestyle="none"))
            texts.append(" ")
        heads.append(len(handles))
        handles.append(Line2D([], [], linestyle="none"))
        texts.append(textwrap.fill(title, _LEGEND_CHARS))
        for h, name in entries:
            handles.append(h)
            texts.append(textwrap.fill(name, _LEGEND_CHARS))
    leg = ax.legend(
        handles,
        texts,
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


def _marker(style: dict[str, Any], gid: str, *, colour: str | None = None, size: float | None = None) -> Any:
    from matplotlib.lines import Line2D

    edge = style["edge"] if style["edge"] != "white" else "#444444"
    return Line2D(
        [],
        [],
        marker=style["marker"],
        linestyle="none",
        markersize=size if size is not None else math.sqrt(style["size"]),
        markerfacecolor=colour or style["color"],
        markeredgecolor=edge,
        markeredgewidth=0.8,
        gid=gid,
    )


def legend_sections(drawn: Drawn, lang: str) -> list[Section]:
    """The legend of a map, built only from what it drew (empty sections are dropped later)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    t = labels.ui(lang)
    fill = [
        (Patch(facecolor=c, edgecolor="#777777", linewidth=0.5, gid=f"cells:{c}"), name)
        for c, name in drawn.fill
    ]
    points = [(_marker(MODE_STYLE[m], f"mode:{m}"), labels.label(labels.MODE, m, lang)) for m in drawn.modes]
    roads = [
        (
            Line2D(
                [],
                [],
                color=ROAD_STYLE[g]["color"],
                linewidth=ROAD_STYLE[g]["lw"] * 1.3,
                linestyle=ROAD_STYLE[g]["ls"],
                gid=f"road:{g}",
            ),
            t[g],
        )
        for g in ("main", "regional", "local", "ferry")
        if g in drawn.roads
    ]
    other: list[tuple[Any, str]] = [
        (Patch(facecolor="none", edgecolor=BORDER_COLOUR, linewidth=1.6, gid="border"), t["border"])
    ]
    if drawn.places:
        other.append((_marker(PLACE_STYLE, "places", size=6), t["legend_place"]))
    if drawn.gaps:
        gap = Patch(facecolor="none", edgecolor=GAP_OUTLINE, linewidth=1.8, gid="gaps")
        other.append((gap, t["legend_gaps_outlined"].format(n=GAP_OUTLINE_MIN_CELLS)))
    if drawn.new_sites:
        other.append((_marker(NEW_SITE_STYLE, "new_sites", size=16), t["new_site"]))
    for m in drawn.proposals:
        mode = labels.label(labels.MODE, m, lang)
        other.append(
            (
                _marker(MODE_STYLE[m], f"proposal:{m}", colour=PROPOSAL_COLOUR),
                t["proposed_mode"].format(mode=mode),
            )
        )
    return [
        (drawn.fill_title, fill),
        (t["legend_points"], points),
        (t["legend_roads"], roads),
        (t["legend_other"], other),
    ]


def _furniture_points(ax: Axes) -> np.ndarray:
    """A grid of points (map units) over the corners the scale bar and north arrow take."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    pts = []
    for fx0, fy0, fx1, fy1 in _FURNITURE:
        gx, gy = np.meshgrid(np.arange(fx0, fx1 + 1e-9, 0.01), np.arange(fy0, fy1 + 1e-9, 0.01))
        pts.append(np.column_stack([x0 + gx.ravel() * (x1 - x0), y0 + gy.ravel() * (y1 - y0)]))
    return np.vstack(pts)


def place_labels(ax: Axes, items: Sequence[MapLabel], *, avoid_xy: np.ndarray) -> list[Text | None]:
    """Write names near their anchors where they collide with nothing (textalloc).

    Labels are placed in the order given; one that would overlap an earlier label, a symbol at
    ``avoid_xy`` (map units, shape (n, 2)), the scale bar or the north arrow, or leave the map is
    left out. Returns the text drawn for each item, None for those left out.
    """
    import matplotlib.patheffects as pe
    import textalloc
    from matplotlib.text import Text as MplText

    if not items:
        return []
    scatter = np.vstack([np.asarray(avoid_xy, dtype=float).reshape(-1, 2), _furniture_points(ax)])
    # textalloc prints a line when it can place no label at all; library code never prints.
    with contextlib.redirect_stdout(io.StringIO()):
        _, _, texts, _ = textalloc.allocate(
            ax,
            [i.x for i in items],
            [i.y for i in items],
            [i.text for i in items],
            x_scatter=scatter[:, 0],
            y_scatter=scatter[:, 1],
            textsize=[i.size for i in items],
            fontweight=["bold" if i.bold else "normal" for i in items],
            margin=0.004,
            min_distance=0.004,
            max_distance=0.025,
            draw_lines=False,
            draw_all=False,
            textcolor="#1a1a1a",
            zorder=15,
            path_effects=[pe.withStroke(linewidth=3.0, foreground="white")],
        )
    drawn: list[Text | None] = [text if isinstance(text, MplText) else None for text in texts]
    for item, text in zip(items, drawn, strict=True):
        if text is not None:
            text.set_gid(item.gid)
    return drawn


def _symbols_xy(ax: Axes) -> np.ndarray:
    """Positions of every point symbol drawn so far (labels keep off them)."""
    from matplotlib.collections import PathCollection

    offsets = [
        np.asarray(c.get_offsets(), dtype=float) for c in ax.collections if isinstance(c, PathCollection)
    ]
    return np.vstack([o.reshape(-1, 2) for o in offsets]) if offsets else np.zeros((0, 2))


def draw_names(ax: Axes, munis: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None, frame: Polygon) -> bool:
    """Municipality and place names without collisions (municipalities first, then centres, then
    villages by population); a dot marks each place named. ``places`` are those in the frame.
    Returns whether any place was named."""
    items: list[MapLabel] = []
    for name, p in zip(munis.get("name", munis["code"]), munis.geometry.representative_point(), strict=True):
        if frame.contains(p):
            items.append(MapLabel(p.x, p.y, str(name), 13.0, True, "label:municipality"))
    n_munis = len(items)
    if places is not None and not places.empty:
        centre = (places["kind"].astype(str) == "centre") if "kind" in places else False
        pop = pd.to_numeric(places["population"], errors="coerce") if "population" in places else 0
        order = pd.DataFrame({"c": centre, "p": pop}, index=places.index).fillna({"p": -1.0})
        places = places.loc[order.sort_values(["c", "p"], ascending=False, kind="stable").index]
        pts = places.geometry.representative_point()
        for name, p in zip(places["name"], pts, strict=True):
            items.append(MapLabel(p.x, p.y, str(name), 10.0, False, "label:place"))
    place_xy = np.array([[i.x, i.y] for i in items[n_munis:]]).reshape(-1, 2)
    texts = place_labels(ax, items, avoid_xy=np.vstack([_symbols_xy(ax), place_xy]))
    named = [i for i, text in zip(items[n_munis:], texts[n_munis:], strict=True) if text is not None]
    if not named:
        return False
    st = PLACE_STYLE
    ax.scatter(
        [i.x for i in named],
        [i.y for i in named],
        marker=st["marker"],
        s=st["size"],
        c=st["color"],
        edgecolors=st["edge"],
        linewidths=0.8,
        zorder=8,  # under the service points' symbols
        gid="places",
    )
    return True


def draw_titles(
    fig: Figure, title: str, subtitle: str, *, lang: str, config: Config, credits: Sequence[str]
) -> None:
    """The title and subtitle above the map, and the footer: the workspace name, today's date,
    the suppression note and the run's credits (see :func:`arjenturva.export.tables.run_credits`)."""
    t = labels.ui(lang)
    fig.text(0.03, 0.955, title, fontsize=21, fontweight="bold", va="center", ha="left")
    fig.text(0.03, 0.912, subtitle, fontsize=12.5, color="#333333", va="center", ha="left")
    foot = (
        f"{config.name} · {t['created'].format(date=labels.format_date(build_date(), lang))} · "
        f"{t['cells_note'].format(n=config.export.suppress_below)}"
    )
    fig.text(0.03, 0.052, foot, fontsize=9.5, color="#333333", ha="left", va="center")
    lines = textwrap.wrap(" · ".join(credits), _CREDIT_CHARS) or [""]
    # One line sits where it always did; more share the band below the footer line.
    step = min(0.018, 0.028 / max(len(lines) - 1, 1))
    top = 0.026 if len(lines) == 1 else 0.036
    size = 9.5 if step >= 0.018 else 8.0
    for i, line in enumerate(lines):
        fig.text(0.03, top - i * step, line, fontsize=size, color="#333333", ha="left", va="center")


def save_png(fig: Figure, path: Path, dpi: int) -> Path:
    """Save the figure as an RGB PNG file (no alpha channel, as every map is opaque), atomically.

    The file holds only the pixels and the resolution, so the same map is always the same bytes.
    """
    from PIL import Image

    canvas = _agg_canvas(fig)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    with atomic_path(path) as tmp:
        image.convert("RGB").save(tmp, format="png", dpi=(dpi, dpi), compress_level=_PNG_COMPRESSION)
    return path


def _agg_canvas(fig: Figure) -> FigureCanvasAgg:
    """The figure's Agg canvas (text is measured and the map rendered by one renderer)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas
    return canvas if isinstance(canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)

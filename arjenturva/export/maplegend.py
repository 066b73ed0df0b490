"""The furniture around a map's data: the legend (built from what a map drew, :class:`Drawn`), the
scale bar and the north arrow.

The scale bar and the north arrow go in the corners of the map axes where they cover least of the
study area and its symbols, or below the legend when every corner covers much
(:func:`choose_furniture`). Their boxes are worked out in pixels of the map axes, so name labels
(:mod:`.maplabels`) keep clear of them. The legend is drawn entry by entry in its column right of
the map (figure pixels; its words stamped, :mod:`.maptext`); every handle carries the ``gid`` of
the layer it stands for.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .. import labels
from .mapdata import (
    CONTEXT_COLOUR,
    GAP_OUTLINE,
    GAP_OUTLINE_MIN_CELLS,
    MODE_STYLE,
    NEW_SITE_STYLE,
    OFF_ROAD_STYLE,
    PLACE_STYLE,
    PROPOSAL_COLOUR,
    ROAD_STYLE,
    ROUTE_STOP_STYLE,
    ROUTE_STYLE,
    UNREACHABLE_STYLE,
)
from .mapframe import BORDER_COLOUR, CONTEXT_BORDER_COLOUR, Box, legend_rect_px, map_axes_px, map_rect_px
from .maptext import Stamp, TextStyle, TextTiles

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_LEGEND_CHARS: Final = 30  # legend lines longer than this wrap (the legend axes' width)
#: Scale bar and north arrow, in pixels at 150 dpi (scaled with the dpi): margin from the axes'
#: edge, the bar's height and the padding of its white box, the arrow's box.
_EDGE: Final = 16.0
_BAR_H: Final = 10.0
_BAR_PAD: Final = 8.0
_BAR_OVERHANG: Final = 26.0  # half of the widest end label ("1 000 km") beyond each end of the bar
_ARROW_BOX: Final = (56.0, 112.0)
#: A corner covering at most this much more than the least covered one is free enough.
_CORNER_SLACK: Final = 0.02
#: When every corner covers more than this, the scale bar and north arrow go below the legend.
OUTSIDE_ABOVE: Final = 0.25
#: Height (px at 150 dpi) kept free for them at the bottom of the legend column.
_OUTSIDE_H: Final = 190.0

_SCALE_TEXT: Final = TextStyle(9.0)

#: Corners of the map axes (lower left, lower right, upper left, upper right), in the order the
#: scale bar and the north arrow prefer them.
_BAR_CORNERS: Final = ("ll", "lr", "ul", "ur")
_ARROW_CORNERS: Final = ("ur", "ul", "lr", "ll")

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
    context: bool = False
    unreachable: bool = False
    off_road: bool = False
    routes: bool = False
    route_stops: bool = False


def scale_length_m(width_m: float) -> float:
    """The scale bar's length: the longest round length of at most a quarter of the frame."""
    target_km = width_m / 1000 / 4
    nice = [v * 10**e for e in range(-1, 4) for v in (1, 2, 2.5, 5)]
    return 1000 * max([v for v in nice if v <= target_km], default=0.1)


@dataclass(frozen=True)
class Furniture:
    """Where a map's scale bar and north arrow go: a corner of the map axes each (``ll``, ``lr``,
    ``ul``, ``ur``), or both below the legend (``outside``); ``length_m`` is the scale bar's."""

    length_m: float
    scale_corner: str = "ll"
    arrow_corner: str = "ur"
    outside: bool = False


def _scale_box_px(length_px: float, scale: float) -> tuple[float, float]:
    return length_px + 2 * (_BAR_PAD + _BAR_OVERHANG) * scale, (2 * _BAR_PAD + _BAR_H + 26) * scale


def _in_corner(corner: str, w: float, h: float, size: tuple[float, float], edge: float) -> Box:
    bw, bh = size
    x0 = edge if corner[1] == "l" else w - edge - bw
    y0 = edge if corner[0] == "l" else h - edge - bh
    return x0, y0, x0 + bw, y0 + bh


def _furniture_px(furniture: Furniture, length_px: float, dpi: float) -> tuple[Box, Box]:
    """The scale bar's and the north arrow's boxes in pixels of the axes they are drawn in (the
    map axes, or the legend axes when they are below the legend)."""
    s = dpi / 150
    bar_size = _scale_box_px(length_px, s)
    arrow_size = (_ARROW_BOX[0] * s, _ARROW_BOX[1] * s)
    if furniture.outside:
        bar = (0.0, 0.0, *bar_size)
        gap = bar_size[1] + 8 * s
        return bar, (0.0, gap, arrow_size[0], gap + arrow_size[1])
    w, h = map_axes_px()
    return (
        _in_corner(furniture.scale_corner, w, h, bar_size, _EDGE * s),
        _in_corner(furniture.arrow_corner, w, h, arrow_size, _EDGE * s),
    )


def _length_px(extent: Box, length_m: float) -> float:
    return length_m * map_axes_px()[0] / (extent[2] - extent[0])


def furniture_boxes(extent: Box, furniture: Furniture, dpi: float) -> list[Box]:
    """Boxes (pixels of the map axes, origin lower left) the scale bar and north arrow cover on
    the map (none when they are below the legend)."""
    if furniture.outside:
        return []
    return list(_furniture_px(furniture, _length_px(extent, furniture.length_m), dpi))


def choose_furniture(extent: Box, dpi: float, cost: Callable[[Box], float]) -> Furniture:
    """Put the scale bar and the north arrow where they cover least.

    ``cost`` takes a box in map units and says how much it covers. Each goes in a corner of its
    own costing at most :data:`OUTSIDE_ABOVE`, the pair covering least together; among pairs
    within :data:`_CORNER_SLACK` of the least, the scale bar prefers the lower left, then lower
    right, upper left and upper right corners, the arrow the upper right, then upper left, lower
    right and lower left. When no such pair exists, both go below the legend.
    """
    x0, y0, x1, y1 = extent
    w, h = map_axes_px()
    length_m = scale_length_m(x1 - x0)
    length_px = _length_px(extent, length_m)
    sx, sy = (x1 - x0) / w, (y1 - y0) / h

    def covered(corner: str, which: int) -> float:
        b = _furniture_px(Furniture(length_m, corner, corner), length_px, dpi)[which]
        return cost((x0 + b[0] * sx, y0 + b[1] * sy, x0 + b[2] * sx, y0 + b[3] * sy))

    bar = {c: covered(c, 0) for c in _BAR_CORNERS}
    arrow = {c: covered(c, 1) for c in _ARROW_CORNERS}
    pairs = [
        (bar[b] + arrow[a], b, a)
        for b in _BAR_CORNERS
        for a in _ARROW_CORNERS
        if a != b and bar[b] <= OUTSIDE_ABOVE and arrow[a] <= OUTSIDE_ABOVE
    ]
    if not pairs:
        return Furniture(length_m, outside=True)
    best = min(total for total, _, _ in pairs)
    _, bar_at, arrow_at = next(p for p in pairs if p[0] <= best + _CORNER_SLACK)
    return Furniture(length_m, scale_corner=bar_at, arrow_corner=arrow_at)


def _origin_px(outside: bool) -> tuple[float, float]:
    """Figure pixel of the lower left corner of the map axes, or of the legend column."""
    rect = legend_rect_px() if outside else map_rect_px()
    return rect[0], rect[1]


def draw_furniture(ax: Axes, furniture: Furniture, *, lang: str, tiles: TextTiles) -> list[Stamp]:
    """Draw the two-segment scale bar (kilometres) and the north arrow (grid north of
    ETRS-TM35FIN) where ``furniture`` puts them; returns the scale bar's numbers to stamp."""
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import IdentityTransform

    fig = ax.figure
    dpi = fig.dpi
    s = dpi / 150
    x0, x1 = ax.get_xlim()
    bar, arrow = _furniture_px(furniture, _length_px((x0, 0.0, x1, 1.0), furniture.length_m), dpi)
    ox, oy = _origin_px(furniture.outside)
    pixels = IdentityTransform()
    # on the map the furniture belongs to its axes (clipped there); below the legend, to the figure
    add = fig.add_artist if furniture.outside else ax.add_artist
    add(
        Rectangle(
            (ox + bar[0], oy + bar[1]),
            bar[2] - bar[0],
            bar[3] - bar[1],
            transform=pixels,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=20,
        )
    )
    bx = ox + bar[0] + (_BAR_PAD + _BAR_OVERHANG) * s
    by = oy + bar[1] + _BAR_PAD * s
    length = bar[2] - bar[0] - 2 * (_BAR_PAD + _BAR_OVERHANG) * s
    for i in range(2):
        add(
            Rectangle(
                (bx + i * length / 2, by),
                length / 2,
                _BAR_H * s,
                transform=pixels,
                facecolor="black" if i == 0 else "white",
                edgecolor="black",
                linewidth=0.8,
                zorder=21,
            )
        )
    stamps = []
    for frac in (0, 0.5, 1):
        km = furniture.length_m * frac / 1000
        text = labels.format_number(km, lang, 0 if float(km).is_integer() else 1)
        if frac == 1:
            text += " km"
        at = (bx + length * frac, by + (_BAR_H + 4) * s)
        stamps.append(tiles.stamp(text, _SCALE_TEXT, *at, ha="center", va="bottom", gid="scale"))
    cx = ox + (arrow[0] + arrow[2]) / 2
    ax.annotate(
        labels.ui(lang)["north"],
        xy=(cx, oy + arrow[3] - 6 * s),
        xytext=(cx, oy + arrow[1] + 22 * s),
        xycoords="figure pixels",
        textcoords="figure pixels",
        ha="center",
        va="center",
        fontsize=14,
        fontweight="bold",
        zorder=22,
        arrowprops={"arrowstyle": "-|>,head_width=0.5,head_length=1.0", "color": "black", "lw": 2.2},
        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none", "alpha": 0.8},
    )
    return stamps


def _draw_handle(fig: Figure, handle: Any, x: float, y: float, w: float, h: float) -> None:
    """Draw a legend handle (a Patch or a Line2D template) in the box (figure pixels) of width
    ``w`` and height ``h`` centred on height ``y``."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import IdentityTransform

    pixels = IdentityTransform()
    if isinstance(handle, Line2D):
        line = Line2D([], [])
        line.update_from(handle)
        if handle.get_marker() not in (None, "None", "none", ""):
            line.set_data([x + w / 2], [y])
        else:
            line.set_data([x, x + w], [y, y])
        line.set_transform(pixels)
        line.set_gid(handle.get_gid())
        fig.add_artist(line)
        return
    fig.add_artist(
        Rectangle(
            (x, y - h / 2),
            w,
            h,
            transform=pixels,
            facecolor=handle.get_facecolor(),
            edgecolor=handle.get_edgecolor(),
            linewidth=handle.get_linewidth(),
            gid=handle.get_gid(),
        )
    )


def draw_legend(
    fig: Figure, sections: Sequence[Section], *, tiles: TextTiles, bottom_px: float = 0.0
) -> list[Stamp]:
    """The legend in its column right of the map, from the top: bold section headings, then one
    line per entry (its symbol and its words, wrapped); empty sections are skipped. It keeps
    ``bottom_px`` free at the bottom (its type is set smaller when it would not fit). Returns the
    words to stamp (:mod:`.maptext`)."""
    dpi = fig.dpi
    x0, y0, _, h_px = legend_rect_px()
    shown = [(title, entries) for title, entries in sections if entries]
    wrapped = [
        (textwrap.fill(title, _LEGEND_CHARS), [(h, textwrap.fill(n, _LEGEND_CHARS)) for h, n in entries])
        for title, entries in shown
    ]
    body, head = 11.0, 12.0

    def height(scale: float) -> float:
        line = body * scale * dpi / 72
        total = 0.0
        for i, (title, entries) in enumerate(wrapped):
            total += (0.9 * line if i else 0.0) + (title.count("\n") + 1.45) * head * scale * dpi / 72
            total += sum((name.count("\n") * 1.05 + 1.45) * line for _, name in entries)
        return total

    scale = min(1.0, (h_px - bottom_px) / max(height(1.0), 1.0))
    line = body * scale * dpi / 72
    hw, hh = 2.2 * line, 0.85 * line  # the symbol's box
    heading = TextStyle(round(head * scale, 2), bold=True)
    words = TextStyle(round(body * scale, 2))
    stamps = []
    y = y0 + h_px
    for i, (title, entries) in enumerate(wrapped):
        y -= 0.9 * line if i else 0.0
        stamps.append(tiles.stamp(title, heading, x0, y, va="top", gid="legend"))
        y -= (title.count("\n") + 1.45) * head * scale * dpi / 72
        for handle, name in entries:
            rows = name.count("\n") * 1.05 + 1.45
            mid = y - 0.5 * line * (1 + name.count("\n") * 1.05) - 0.1 * line
            _draw_handle(fig, handle, x0, mid, hw, hh)
            stamps.append(tiles.stamp(name, words, x0 + hw + 0.8 * line, mid, va="center", gid="legend"))
            y -= rows * line
    return stamps


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
        markeredgewidth=style.get("lw", 0.8),
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
    if drawn.off_road:
        points.append((_marker(OFF_ROAD_STYLE, "off_road"), t["legend_off_road_point"]))
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
    if drawn.context:
        patch = Patch(facecolor=CONTEXT_COLOUR, edgecolor=CONTEXT_BORDER_COLOUR, linewidth=0.8, gid="context")
        other.append((patch, t["legend_context"]))
    if drawn.unreachable:
        other.append((_marker(UNREACHABLE_STYLE, "unreachable"), t["legend_unreachable_cell"]))
    if drawn.places:
        other.append((_marker(PLACE_STYLE, "places", size=6), t["legend_place"]))
    if drawn.gaps:
        gap = Patch(facecolor="none", edgecolor=GAP_OUTLINE, linewidth=1.8, gid="gaps")
        other.append((gap, t["legend_gaps_outlined"].format(n=GAP_OUTLINE_MIN_CELLS)))
    if drawn.new_sites:
        other.append((_marker(NEW_SITE_STYLE, "new_sites", size=16), t["new_site"]))
    if drawn.routes:
        line = Line2D([], [], color=ROUTE_STYLE["color"], linewidth=ROUTE_STYLE["lw"] * 1.3, gid="routes")
        other.append((line, t["legend_route"]))
    if drawn.route_stops:
        other.append((_marker(ROUTE_STOP_STYLE, "route_stops"), t["legend_route_stop"]))
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


def legend_keep_free_px(furniture: Furniture, dpi: int) -> float:
    """Pixels the legend leaves free at the bottom of its column (for the furniture, when it is
    there)."""
    return _OUTSIDE_H * dpi / 150 if furniture.outside else 0.0

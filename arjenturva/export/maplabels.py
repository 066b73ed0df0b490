"""Names on a static map, placed without collisions by a deterministic greedy search.

Names are placed in order of importance: the study municipalities, then places (those in the study
area first; towns, then municipal centres, then villages; more people first), then the context
municipalities around the study area. Each takes the first of its candidate positions whose box
(the text with its white halo, in pixels of the map axes) meets no box taken before it: earlier
names and their dots, service point symbols, the scale bar and the north arrow; and that lies
inside the map. A municipality's name is centred on the pole of inaccessibility of its part in
the frame and moved within that part when it must; it avoids population dots where it can, and
service points unless it has no other place (then it lies over a few at most,
:data:`_AREA_SYMBOLS_COVERED`, under them, so they stay visible). A place's name sits beside
its dot, which is drawn only when the name is, on top of the map (stamped, :mod:`.maptext`).
Names that find no free position are left out. Text widths come from the glyph advances of the
font matplotlib draws with, so the search never renders anything and the same data always give
the same map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from .mapdata import PLACE_STYLE
from .mapframe import Box, map_axes_px, map_rect_px
from .maptext import Stamp, TextStyle, TextTiles

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from shapely import Geometry

_HALO_PT: Final = 1.5  # half the width of the white stroke around every name
_EM_HEIGHT: Final = 1.02  # height of a line of text ("lp") in ems
_PLACE_GAP_PT: Final = 2.5  # between a place's dot and its name
_PLACE_PAD_PT: Final = 1.5  # extra room around place names, so they do not crowd
_EDGE_PX: Final = 3.0  # names keep this far from the map's edges
_UNDER_SYMBOLS: Final = 8.6  # municipality names lie under the service points (zorder 9)
#: A municipality's name with no place clear of symbols may lie over at most this many (under them).
_AREA_SYMBOLS_COVERED: Final = 2
_NO_PLACE: Final = 1_000_000

#: Ranks of place kinds (lower is named first); other kinds rank after these. The NLS general
#: map's settlement classes are KAUPUNKI (town), KUNTAKES (municipal centre) and KYLA (village).
_PLACE_RANKS: Final = {
    "kaupunki": 0, "town": 0, "city": 0,
    "kuntakes": 1, "kuntakeskus": 1, "centre": 1, "center": 1,
    "kyla": 2, "village": 2,
}  # fmt: skip
_OTHER_RANK: Final = 3
#: Frames with more study municipalities than this are regional: smaller names, and only towns
#: and centres among the places (when the places say which they are).
_REGIONAL_ABOVE: Final = 16


@dataclass(frozen=True)
class AreaName:
    """A name written inside an area (a municipality's part in the frame, in map units)."""

    text: str
    area: Geometry
    style: TextStyle
    gid: str


@dataclass(frozen=True)
class PointName:
    """A name written beside a point (a place), whose dot is drawn with it."""

    text: str
    x: float
    y: float
    style: TextStyle
    gid: str


@dataclass(frozen=True)
class Candidates:
    """The names a frame may show, each list in the order its names win space: study
    municipalities, places, then context municipalities (``background``)."""

    areas: tuple[AreaName, ...] = ()
    points: tuple[PointName, ...] = ()
    background: tuple[AreaName, ...] = ()


@dataclass(frozen=True)
class Label:
    """A name placed on the map: the centre of its text (map units); it lies on top of everything
    (``on_top``), but a municipality's name placed over point symbols lies under them."""

    x: float
    y: float
    text: str
    style: TextStyle
    gid: str
    on_top: bool


@dataclass(frozen=True)
class Names:
    """The names placed on one frame, and the dots of the places named (map units, (n, 2))."""

    labels: tuple[Label, ...]
    dots: np.ndarray


def place_rank(kinds: pd.Series) -> np.ndarray:
    """Rank of each place kind: towns 0, municipal centres 1, villages 2, others 3."""
    key = kinds.fillna("").astype(str).str.strip().str.lower().str.replace("ä", "a")
    return key.map(_PLACE_RANKS).fillna(_OTHER_RANK).to_numpy(dtype=int)


def place_order(places: gpd.GeoDataFrame, first: np.ndarray | None = None) -> np.ndarray:
    """Positions of ``places`` in the order their names win space: those flagged in ``first``
    (e.g. inside the study area) first, then by kind (:func:`place_rank`), then by population."""
    n = len(places)
    rank = place_rank(places["kind"]) if "kind" in places else np.full(n, _OTHER_RANK)
    given = places["population"] if "population" in places else pd.Series(np.nan, index=places.index)
    people = pd.to_numeric(given, errors="coerce").fillna(-1.0).to_numpy(dtype=float)
    outside = np.zeros(n, dtype=int) if first is None else (~np.asarray(first, dtype=bool)).astype(int)
    return np.lexsort((np.arange(n), -people, rank, outside))


def name_styles(n_study: int) -> tuple[TextStyle, TextStyle, TextStyle]:
    """Styles of study municipality, place and context municipality names on a frame holding
    ``n_study`` study municipalities (smaller the more there are)."""
    muni = 13.0 if n_study <= 6 else 11.0 if n_study <= _REGIONAL_ABOVE else 8.0
    place = 10.0 if n_study <= 6 else 8.5
    return (
        TextStyle(muni, bold=True, halo=True),
        TextStyle(place, halo=True),
        TextStyle(round(muni * 0.85, 1), italic=True, colour="#5f6368", halo=True),
    )


def is_regional(n_study: int) -> bool:
    """Whether a frame holding ``n_study`` study municipalities names only towns and centres."""
    return n_study > _REGIONAL_ABOVE


class _Widths:
    """Text widths in points from the glyph advances of matplotlib's font (no kerning, which
    only narrows text), cached per font and character."""

    def __init__(self) -> None:
        self._advances: dict[tuple[bool, bool], dict[str, float]] = {}
        self._fonts: dict[tuple[bool, bool], Any] = {}

    def width_pt(self, text: str, style: TextStyle) -> float:
        from matplotlib import ft2font
        from matplotlib.font_manager import FontProperties, findfont, get_font

        key = (style.bold, style.italic)
        if key not in self._fonts:
            prop = FontProperties(
                weight="bold" if style.bold else "normal", style="italic" if style.italic else "normal"
            )
            self._fonts[key] = findfont(prop)
            self._advances[key] = {}
        advances = self._advances[key]
        missing = [c for c in set(text) if c not in advances]
        if missing:
            font = get_font(self._fonts[key])
            font.set_size(100, 72)  # advances in hundredths of a point per point of size
            flags = getattr(ft2font, "LoadFlags", None)  # matplotlib 3.10+; a constant before
            no_hinting = flags.NO_HINTING if flags is not None else getattr(ft2font, "LOAD_NO_HINTING")  # noqa: B009
            for c in sorted(missing):
                advances[c] = font.load_char(ord(c), flags=no_hinting).linearHoriAdvance / 65536 / 100
        return sum(advances[c] for c in text) * style.size


#: Kinds of taken boxes: names, their dots and the furniture (never covered), point symbols
#: (covered by a municipality name only where it has no other place, drawn over it), population
#: dots (avoided where possible).
_NAME, _SYMBOL, _DOT = 0, 1, 2


class _Taken:
    """Boxes (pixels) already taken, each of a kind (:data:`_NAME`, :data:`_SYMBOL`, :data:`_DOT`)."""

    def __init__(self, boxes: np.ndarray, kinds: np.ndarray) -> None:
        self.boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        self.kinds = np.asarray(kinds, dtype=int).reshape(-1)

    def clear(self, cands: np.ndarray, *, up_to: int = _DOT) -> np.ndarray:
        """Which candidate boxes (k, 4) meet no taken box of a kind up to ``up_to``."""
        return self.meets(cands, self.kinds <= up_to) == 0

    def meets(self, cands: np.ndarray, which: np.ndarray) -> np.ndarray:
        """How many of the taken boxes ``which`` (a mask) each candidate box (k, 4) meets."""
        b = self.boxes[which]
        if not len(b):
            return np.zeros(len(cands), dtype=int)
        hit = (
            (cands[:, None, 0] < b[None, :, 2])
            & (cands[:, None, 2] > b[None, :, 0])
            & (cands[:, None, 1] < b[None, :, 3])
            & (cands[:, None, 3] > b[None, :, 1])
        )
        return np.asarray(hit.sum(axis=1), dtype=int)

    def add(self, box: Sequence[float] | np.ndarray) -> None:
        self.boxes = np.vstack([self.boxes, np.asarray(box, dtype=float).reshape(1, 4)])
        self.kinds = np.append(self.kinds, _NAME)


def _squares(xy: np.ndarray, radius: np.ndarray) -> np.ndarray:
    return np.column_stack([xy[:, 0] - radius, xy[:, 1] - radius, xy[:, 0] + radius, xy[:, 1] + radius])


#: Offsets of a municipality name from its anchor, in widths and heights of the name, nearest first.
_AREA_STEPS: Final = sorted(
    (
        (dx / 4, dy / 2)
        for dx in (0, -1, 1, -2, 2, -3, 3, -4, 4)
        for dy in (0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6)
    ),
    key=lambda d: (d[0] ** 2 + d[1] ** 2, abs(d[0]), -d[1], -d[0]),
)


def place_names(
    extent: Box,
    dpi: float,
    candidates: Candidates,
    *,
    symbols: np.ndarray,
    symbol_radius_px: np.ndarray,
    soft_symbols: np.ndarray | None = None,
    soft_radius_px: np.ndarray | float = 0.0,
    furniture: Sequence[Box] = (),
) -> Names:
    """Place the names of a frame (see the module's docstring).

    Parameters
    ----------
    extent
        The frame (x0, y0, x1, y1) in map units, filling the map axes.
    dpi
        The figure's resolution (font sizes are in points).
    candidates
        The names to place.
    symbols, symbol_radius_px
        Point symbols no name may cover (map units, (n, 2)) and their radii in pixels.
    soft_symbols, soft_radius_px
        Symbols names avoid where they can (population dots).
    furniture
        Boxes of the scale bar and north arrow (pixels of the map axes).
    """
    import shapely

    x0, y0, x1, y1 = extent
    w, h = map_axes_px()
    scale = w / (x1 - x0)
    pt = dpi / 72

    def to_px(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - x0) * scale, (xy[:, 1] - y0) * scale])

    sym = np.asarray(symbols, dtype=float).reshape(-1, 2)
    soft = np.zeros((0, 2)) if soft_symbols is None else np.asarray(soft_symbols, dtype=float).reshape(-1, 2)
    boxes = [
        _squares(to_px(sym), np.asarray(symbol_radius_px, dtype=float).reshape(-1)),
        np.asarray(furniture, dtype=float).reshape(-1, 4),
        _squares(to_px(soft), np.broadcast_to(np.asarray(soft_radius_px, dtype=float), (len(soft),))),
    ]
    kinds = np.repeat([_SYMBOL, _NAME, _DOT], [len(b) for b in boxes])
    taken = _Taken(np.vstack(boxes), kinds)
    widths = _Widths()
    inside = (_EDGE_PX, _EDGE_PX, w - _EDGE_PX, h - _EDGE_PX)
    placed: list[Label] = []
    dots: list[tuple[float, float]] = []

    def size_px(text: str, style: TextStyle, pad_pt: float) -> tuple[float, float]:
        halo = 2 * (_HALO_PT + pad_pt) * pt
        return widths.width_pt(text, style) * pt + halo, _EM_HEIGHT * style.size * pt + halo

    def in_map(c: np.ndarray) -> np.ndarray:
        lo = (c[:, 0] >= inside[0]) & (c[:, 1] >= inside[1])
        return lo & (c[:, 2] <= inside[2]) & (c[:, 3] <= inside[3])

    def keep(box: np.ndarray, name: AreaName | PointName, *, on_top: bool = True) -> None:
        taken.add(box)  # the name's centre is the box's, padding or not
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        placed.append(Label(x0 + cx / scale, y0 + cy / scale, name.text, name.style, name.gid, on_top))

    def place_area(name: AreaName) -> None:
        if name.area is None or name.area.is_empty:
            return
        anchor = _pole(name.area, 1.0 / scale)
        if anchor is None:
            return
        bw, bh = size_px(name.text, name.style, 0.0)
        ((ax_, ay_),) = to_px(np.array([anchor]))
        steps = np.array(_AREA_STEPS)
        cx, cy = ax_ + steps[:, 0] * bw, ay_ + steps[:, 1] * bh
        ok = shapely.contains_xy(name.area, x0 + cx / scale, y0 + cy / scale)
        ok[0] = True  # the anchor itself lies inside
        cands = np.column_stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2])[ok]
        cands = cands[in_map(cands)]
        for up_to in (_DOT, _SYMBOL):
            free = np.flatnonzero(taken.clear(cands, up_to=up_to))
            if len(free):
                keep(cands[free[0]], name)
                return
        # no place clear of symbols: the nearest over a few at most, under them
        over = np.where(
            taken.clear(cands, up_to=_NAME), taken.meets(cands, taken.kinds == _SYMBOL), _NO_PLACE
        )
        few = np.flatnonzero(over <= _AREA_SYMBOLS_COVERED)
        if len(few):
            keep(cands[few[0]], name, on_top=False)

    dot_r = np.sqrt(PLACE_STYLE["size"]) / 2 * pt + 1.0
    gap = dot_r + _PLACE_GAP_PT * pt

    def place_point(name: PointName) -> None:
        ((px, py),) = to_px(np.array([[name.x, name.y]]))
        dot = np.array([[px - dot_r, py - dot_r, px + dot_r, py + dot_r]])
        if not (in_map(dot)[0] and taken.clear(dot, up_to=_NAME)[0]):  # a symbol may hide it
            return
        bw, bh = size_px(name.text, name.style, _PLACE_PAD_PT)
        # a symbol standing on the place (a service point in the village): the name goes beside it
        on = taken.boxes[taken.kinds == _SYMBOL]
        on = on[(on[:, 0] <= px) & (on[:, 2] >= px) & (on[:, 1] <= py) & (on[:, 3] >= py)]
        reach = np.column_stack([on[:, 2] - px, px - on[:, 0], on[:, 3] - py, py - on[:, 1]])
        beside = max(gap, float(reach.max(initial=0.0)) + _PLACE_GAP_PT * pt)
        d = 0.7 * beside
        corners = [
            (px + beside, py - bh / 2),  # right
            (px - beside - bw, py - bh / 2),  # left
            (px + d, py + d / 2),  # above right
            (px + d, py - d / 2 - bh),  # below right
            (px - d - bw, py + d / 2),  # above left
            (px - d - bw, py - d / 2 - bh),  # below left
            (px - bw / 2, py + beside),  # above
            (px - bw / 2, py - beside - bh),  # below
        ]
        cands = np.array([[cx, cy, cx + bw, cy + bh] for cx, cy in corners])
        free = np.flatnonzero(in_map(cands) & taken.clear(cands) & ~_meets(cands, dot[0]))
        if len(free):
            keep(cands[free[0]], name)
            taken.add(dot[0])
            dots.append((name.x, name.y))

    for area in candidates.areas:
        place_area(area)
    for point in candidates.points:
        place_point(point)
    for area in candidates.background:
        place_area(area)
    return Names(tuple(placed), np.array(dots, dtype=float).reshape(-1, 2))


def _meets(cands: np.ndarray, box: np.ndarray) -> np.ndarray:
    return (cands[:, 0] < box[2]) & (cands[:, 2] > box[0]) & (cands[:, 1] < box[3]) & (cands[:, 3] > box[1])


def _pole(area: Geometry, tolerance: float) -> tuple[float, float] | None:
    """The pole of inaccessibility of the largest polygon of ``area`` (the point inside it
    farthest from its edges), to within ``tolerance``."""
    import shapely
    from shapely.ops import polylabel

    parts = [p for p in shapely.get_parts(np.array([area], dtype=object)) if shapely.get_type_id(p) == 3]
    if not parts:
        return None
    largest = max(parts, key=lambda p: p.area)
    if largest.area <= 0:
        return None
    p = polylabel(largest, tolerance=max(tolerance, 1e-6))
    return float(p.x), float(p.y)


def symbols_drawn(ax: Axes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The point symbols drawn on the map so far, as (positions, radii in pixels) of those names
    must not cover and of the population dots (``cells``) they avoid where they can."""
    from matplotlib.collections import PathCollection

    px_per_pt = ax.figure.dpi / 72
    hard: list[tuple[np.ndarray, np.ndarray]] = []
    soft: list[tuple[np.ndarray, np.ndarray]] = []
    for coll in ax.collections:
        if not isinstance(coll, PathCollection) or coll.get_gid() == "places":
            continue
        xy = np.asarray(coll.get_offsets(), dtype=float).reshape(-1, 2)
        sizes = np.zeros(len(xy)) + np.asarray(coll.get_sizes(), dtype=np.float64)
        edge = float(np.max(coll.get_linewidth(), initial=0.0))
        radius = (np.sqrt(sizes) + edge) / 2 * px_per_pt + 1.0
        (soft if coll.get_gid() == "cells" else hard).append((xy, radius))

    def stack(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        if not parts:
            return np.zeros((0, 2)), np.zeros(0)
        return np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    return (*stack(hard), *stack(soft))


def draw_names(ax: Axes, names: Names, extent: Box, tiles: TextTiles) -> tuple[bool, list[Stamp]]:
    """Write the names placed on a frame with a white halo: on top (stamped, :mod:`.maptext`), or
    under the point symbols (text on the map) when they had to be placed over some; and the dots
    of the places named (under the symbols). Returns whether any place was named, and the
    stamps."""
    import matplotlib.patheffects as pe

    halo = [pe.withStroke(linewidth=2 * _HALO_PT, foreground="white")]
    left, bottom, width, _ = map_rect_px()
    scale = width / (extent[2] - extent[0])
    stamps = []
    for lab in names.labels:
        st = lab.style
        if lab.on_top:
            x, y = left + (lab.x - extent[0]) * scale, bottom + (lab.y - extent[1]) * scale
            stamps.append(tiles.stamp(lab.text, st, x, y, ha="center", va="center", gid=lab.gid))
            continue
        ax.text(
            lab.x,
            lab.y,
            lab.text,
            ha="center",
            va="center",
            fontsize=st.size,
            fontweight="bold" if st.bold else "normal",
            fontstyle="italic" if st.italic else "normal",
            color=st.colour,
            zorder=_UNDER_SYMBOLS,
            path_effects=halo,
            gid=lab.gid,
        )
    if not len(names.dots):
        return False, stamps
    dot = PLACE_STYLE
    ax.scatter(
        names.dots[:, 0],
        names.dots[:, 1],
        marker=dot["marker"],
        s=dot["size"],
        c=dot["color"],
        edgecolors=dot["edge"],
        linewidths=0.8,
        zorder=8,
        gid="places",
    )
    return True, stamps

"""The furniture of a static map: figure and axes layout, extent, scale bar, north arrow, legend,
titles, the footer with the run's credits, and the atomic PNG save.

Every PNG map is a fixed-size figure (:data:`FIG_PX`) with the map axes on the left and the legend
axes on the right; :mod:`.static_maps` draws the layers into it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from .. import labels
from ..io import atomic_path
from .mapdata import GAP_OUTLINE, MODE_STYLE, NEW_SITE_STYLE, PROPOSAL_COLOUR, ROAD_STYLE

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..config import Config

#: Size of every PNG map in pixels (width, height).
FIG_PX: Final = (1800, 1400)
_MAP_RECT: Final = (0.03, 0.085, 0.70, 0.80)  # left, bottom, width, height of the map axes (figure fraction)
_LEGEND_RECT: Final = (0.745, 0.085, 0.235, 0.80)
_CREDIT_CHARS: Final = 160  # credits longer than this wrap onto a second footer line

#: A legend section: its heading and its (handle, label) entries.
Section = tuple[str, list[tuple[Any, str]]]


def new_figure(config: Config) -> tuple[Figure, Axes, Axes]:
    """A blank map figure: (figure, map axes, legend axes)."""
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
        texts.append(title)
        for h, name in entries:
            handles.append(h)
            texts.append(name)
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


def swatch_entries(colours: Sequence[str], names: Sequence[str]) -> list[tuple[Any, str]]:
    """Legend entries of filled classes: a colour patch per class name."""
    from matplotlib.patches import Patch

    return [
        (Patch(facecolor=c, edgecolor="#777777", linewidth=0.5), name)
        for c, name in zip(colours, names, strict=True)
    ]


def mode_entries(modes: Sequence[str], lang: str) -> list[tuple[Any, str]]:
    """Legend entries of the service points' delivery modes drawn."""
    from matplotlib.lines import Line2D

    out = []
    for m in modes:
        st = MODE_STYLE[m]
        handle = Line2D(
            [],
            [],
            marker=st["marker"],
            linestyle="none",
            markersize=math.sqrt(st["size"]),
            markerfacecolor=st["color"],
            markeredgecolor=st["edge"] if st["edge"] != "white" else "#444444",
            markeredgewidth=0.8,
        )
        out.append((handle, labels.label(labels.MODE, m, lang)))
    return out


def other_sections(
    lang: str, *, roads: Sequence[str], gaps: bool, proposals: bool, new_sites: bool
) -> list[Section]:
    """The "Roads" and "Other" legend sections (borders, gap areas, proposals, new sites)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    t = labels.ui(lang)
    other: list[tuple[Any, str]] = [
        (Patch(facecolor="none", edgecolor="#333333", linewidth=1.6), t["border"])
    ]
    if gaps:
        other.append((Patch(facecolor="none", edgecolor=GAP_OUTLINE, linewidth=1.8), t["legend_gaps"]))
    if new_sites:
        st = NEW_SITE_STYLE
        star = Line2D(
            [],
            [],
            marker=st["marker"],
            linestyle="none",
            markersize=16,
            markerfacecolor=st["color"],
            markeredgecolor="black",
        )
        other.append((star, t["new_site"]))
    if proposals:
        route = Line2D(
            [],
            [],
            color=PROPOSAL_COLOUR,
            linewidth=2.4,
            linestyle=(0, (4, 2)),
            marker="P",
            markersize=9,
            markeredgecolor="white",
        )
        other.append((route, t["proposal"]))
    road_entries: list[tuple[Any, str]] = [
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


def draw_titles(
    fig: Figure, title: str, subtitle: str, *, lang: str, config: Config, credits: Sequence[str]
) -> None:
    """The title and subtitle above the map, and the footer: the workspace name, today's date,
    the suppression note and the run's credits (see :func:`arjenturva.export.tables.run_credits`)."""
    t = labels.ui(lang)
    fig.text(0.03, 0.955, title, fontsize=21, fontweight="bold", va="center", ha="left")
    fig.text(0.03, 0.912, subtitle, fontsize=12.5, color="#333333", va="center", ha="left")
    foot = (
        f"{config.name} · {t['created'].format(date=labels.format_date(date.today(), lang))} · "
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
    """Save the figure as a PNG file, atomically."""
    for ax in fig.axes:  # geopandas labels the axes with the CRS's axis names
        ax.set_xlabel("")
        ax.set_ylabel("")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, facecolor="white")
    return path

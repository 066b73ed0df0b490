"""Texts every map repeats, rendered once per process and stamped onto the rendered maps.

Matplotlib lays out and rasterises each glyph of a text every time a figure is drawn; the footer,
the legend's words, the place names and the scale bar's numbers come back on map after map. A
:class:`TextTiles` renders each such text once (with matplotlib, onto a transparent tile) and
hands out :class:`Stamp` s; :func:`stamp` blends them onto the rendered figure (Pillow's paste
through each tile's alpha), on top of everything (these texts lie on nothing drawn after them).
The pixels equal those of the text drawn in the figure to within one level, and a text is always
drawn this way, so a map's bytes do not depend on which texts a process had rendered before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:
    from PIL.Image import Image

_MARGIN: Final = 5  # pixels around a text in its tile (the halo and antialiasing)
_HALO_WIDTH: Final = 3.0  # points: the white stroke around a text with a halo


@dataclass(frozen=True)
class TextStyle:
    """How a stamped text is written (size in points)."""

    size: float
    bold: bool = False
    italic: bool = False
    colour: str = "#1a1a1a"
    halo: bool = False


@dataclass(frozen=True)
class Stamp:
    """A text placed on a figure: its tile (an RGBA image) with its lower left corner at figure
    pixel (``x0``, ``y0``), and the text's own box in figure pixels (x0, y0, x1, y1)."""

    text: str
    gid: str
    x0: int
    y0: int
    tile: Image
    box: tuple[float, float, float, float]


class TextTiles:
    """Rendered texts by text, style and alignment, for one process (a worker gets its own)."""

    def __init__(self, dpi: float) -> None:
        self.dpi = dpi
        self._tiles: dict[tuple[str, TextStyle, str, str], tuple[Image, int, int, tuple[float, ...]]] = {}
        self._scratch: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"dpi": self.dpi, "_tiles": {}, "_scratch": None}  # each process renders its own

    def stamp(
        self,
        text: str,
        style: TextStyle,
        x: float,
        y: float,
        *,
        ha: str = "left",
        va: str = "center",
        gid: str = "",
    ) -> Stamp:
        """``text`` aligned (``ha``, ``va``) at figure pixel (x, y) (origin lower left; the point
        is rounded to a whole pixel)."""
        key = (text, style, ha, va)
        if key not in self._tiles:
            self._tiles[key] = self._render(text, style, ha, va)
        tile, ox, oy, rel = self._tiles[key]
        px, py = round(x), round(y)
        box = (px + rel[0], py + rel[1], px + rel[2], py + rel[3])
        return Stamp(text, gid, px - ox, py - oy, tile, box)

    def _render(
        self, text: str, style: TextStyle, ha: str, va: str
    ) -> tuple[Image, int, int, tuple[float, ...]]:
        import matplotlib.patheffects as pe
        from matplotlib.backends.backend_agg import RendererAgg
        from matplotlib.figure import Figure
        from matplotlib.text import Text
        from matplotlib.transforms import IdentityTransform
        from PIL import Image as PILImage

        if self._scratch is None:
            self._scratch = Figure(figsize=(1, 1), dpi=self.dpi)
        t = Text(
            0,
            0,
            text,
            transform=IdentityTransform(),
            ha=ha,
            va=va,
            fontsize=style.size,
            fontweight="bold" if style.bold else "normal",
            fontstyle="italic" if style.italic else "normal",
            color=style.colour,
            path_effects=[pe.withStroke(linewidth=_HALO_WIDTH, foreground="white")] if style.halo else None,
        )
        t.set_figure(self._scratch)
        bb = t.get_window_extent(RendererAgg(1, 1, self.dpi))
        x0, y0 = math.floor(bb.x0), math.floor(bb.y0)
        w = math.ceil(bb.x1) - x0 + 2 * _MARGIN
        h = math.ceil(bb.y1) - y0 + 2 * _MARGIN
        ox, oy = _MARGIN - x0, _MARGIN - y0
        t.set_position((ox, oy))
        canvas = RendererAgg(w, h, self.dpi)
        t.draw(canvas)
        pixels = np.asarray(canvas.buffer_rgba()).tobytes()
        tile = PILImage.frombuffer("RGBA", (w, h), pixels, "raw", "RGBA", 0, 1)
        return tile, ox, oy, (bb.x0, bb.y0, bb.x1, bb.y1)


def stamp(image: Image, stamps: Sequence[Stamp]) -> None:
    """Blend ``stamps`` onto a rendered opaque figure (an RGB image) in place."""
    height = image.height
    for s in stamps:
        image.paste(s.tile, (s.x0, height - (s.y0 + s.tile.height)), s.tile)

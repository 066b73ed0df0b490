"""Framing a static map: what the maps of one frame (the study area, or one municipality) share.

A :class:`Frame` holds the extent (the study area or the municipality with a margin, filling the
map axes), the study municipalities, the context around them and the roads cut to it, the cells
its maps colour, the corners of the scale bar and north arrow (where they cover no symbol and no
cell, and least of the study area: :func:`.maplegend.choose_furniture`) and the names it may show
(:mod:`.maplabels`). :func:`build_frame` works it out once for all the maps of a frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from .mapdata import MapData
from .mapframe import Box, frame_extent, map_axes_px
from .maplabels import AreaName, Candidates, PointName, is_regional, name_styles, place_order, place_rank
from .maplayers import in_frame, of_municipality, proposal_layers, road_lines, trimmed
from .maplegend import Furniture, choose_furniture

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely import Polygon

#: Margins of a frame around the study area and around one municipality (share of its size).
_REGION_MARGIN: Final = 0.04
_MUNICIPALITY_MARGIN: Final = 0.05
#: What the scale bar or north arrow cost where they cover a point symbol or a population cell,
#: and per share of land they cover (a corner costing more than
#: :data:`.maplegend.OUTSIDE_ABOVE`, which any symbol or cell does, is not used), and how near
#: (pixels) a symbol or cell centre counts as under them.
_SYMBOL_COST: Final = 1.0
_CELL_COST: Final = 0.3
_LAND_COST: Final = 0.5
_DATA_PAD_PX: Final = 12.0


@dataclass(frozen=True)
class Frame:
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
    data: MapData, dpi: float, extent: Box, box: Polygon, land: gpd.GeoSeries | None, cells: gpd.GeoDataFrame
) -> Furniture:
    """Where the scale bar and north arrow cover least: no point symbol and no population cell of
    the frame's maps where possible, then least of ``land`` (the study area, or the municipality
    framed on)."""
    import shapely

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

    return choose_furniture(extent, dpi, cost)


def _candidates(data: MapData, box: Polygon, code: str | None) -> Candidates:
    """The names a frame may show: its study municipalities (the one framed on first, then the
    smallest, which have the fewest places to go), its places (those in the study area first; on
    regional frames only the study area's towns and centres not named like a municipality), its
    context municipalities (not on regional frames, where they would crowd the study area's)."""
    import shapely

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
        pnames = places["name"].astype(str).to_numpy()
        if regional:  # the study area's towns and centres (when the places say which), not named
            # again where the municipality's name says it
            order = order[in_study[order]]
            big = place_rank(places["kind"]) <= 1 if "kind" in places else np.zeros(len(places), dtype=bool)
            order = order[big[order]] if big[order].any() else order
            known = {str(n).casefold() for n in names}
            order = np.array([i for i in order if pnames[i].casefold() not in known], dtype=int)
        points = tuple(PointName(pnames[i], xy[i, 0], xy[i, 1], place_style, "label:place") for i in order)
    return Candidates(areas, points, background)


def build_frame(data: MapData, roads: gpd.GeoDataFrame | None, dpi: float, code: str | None) -> Frame:
    """Work out what the maps framed on the study area (``code`` None) or on municipality
    ``code`` share (``roads`` to draw, the maps' ``dpi``)."""
    import shapely

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
    furniture = _furniture(data, dpi, extent, box, land, cells)
    context = trimmed(data.context, box) if data.context is not None else None
    lines = road_lines(roads, box)
    if is_regional(0 if study is None else len(study)):
        lines.pop("local", None)  # at this scale they would hide everything else
    candidates = _candidates(data, box, code)
    return Frame(code, extent, box, study, focus, context, lines, cells, furniture, candidates)

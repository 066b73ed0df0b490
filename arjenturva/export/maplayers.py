"""The layers of a static map, each drawn into the map axes as one collection (one per road group
or mode): land of the study area and its context, roads, population cells, gap outlines, service
points, proposals, and the symbols of unreachable cells and of service points beyond the snap
tolerance.

Every function draws only what lies in the frame (a shapely box in map units) and says what it
drew, so the legend (:mod:`.maplegend`) lists exactly that. Classes and symbols come from
:mod:`.mapdata`, shared with the web map.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from .mapdata import (
    CONTEXT_COLOUR,
    GAP_OUTLINE,
    LAND_COLOUR,
    MODE_STYLE,
    MODES,
    NEW_SITE_STYLE,
    OFF_ROAD_STYLE,
    OTHER_LAND_COLOUR,
    PROPOSAL_COLOUR,
    ROAD_STYLE,
    ROUTE_STOP_STYLE,
    ROUTE_STYLE,
    UNREACHABLE_STYLE,
    MapData,
    off_road_points,
    outlined_gaps,
    road_group,
    service_mask,
)
from .mapframe import BORDER_COLOUR, CONTEXT_BORDER_COLOUR, draw_shapes, patch_collection, polygon_paths

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from shapely import Polygon

#: Area of a population dot (points²) when cells are points (postal areas).
CELL_DOT_SIZE: Final = 14.0
ROAD_GROUPS: Final = ("local", "regional", "main", "ferry")  # drawing order, the main roads on top
#: Opacity of the context veil over the sea and the roads beneath it.
CONTEXT_ALPHA: Final = 0.78


def in_frame(layer: gpd.GeoDataFrame, frame: Polygon) -> gpd.GeoDataFrame:
    """Rows of a layer with a geometry that meets the frame."""
    layer = layer.loc[layer.geometry.notna() & ~layer.geometry.is_empty]
    if layer.empty:
        return layer
    idx = layer.sindex.query(frame, predicate="intersects")
    return layer.iloc[np.sort(idx)]


def of_municipality(layer: gpd.GeoDataFrame, code: str | None) -> gpd.GeoDataFrame:
    """Rows of a layer in municipality ``code`` (all rows without a code or a column)."""
    if code is None or "municipality" not in layer:
        return layer
    return layer.loc[(layer["municipality"].astype(str) == code).to_numpy()]


def trimmed(layer: gpd.GeoDataFrame | None, frame: Polygon) -> gpd.GeoSeries | None:
    """The geometries of a layer that meet the frame, cut to the frame grown by a tenth (so that
    their borders never end inside the map)."""
    import geopandas as gpd
    import shapely

    if layer is None or layer.empty:
        return None
    shown = in_frame(layer, frame)
    if shown.empty:
        return None
    x0, y0, x1, y1 = frame.bounds
    pad = 0.1 * max(x1 - x0, y1 - y0)
    cut = shapely.clip_by_rect(shown.geometry.to_numpy(), x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    keep = ~shapely.is_empty(cut)
    return gpd.GeoSeries(cut[keep], index=shown.index[keep], crs=shown.crs)


def draw_land(
    ax: Axes,
    study: gpd.GeoSeries | None,
    context: gpd.GeoSeries | None,
    *,
    focus: np.ndarray | None = None,
) -> bool:
    """The municipalities of the frame: the study area in the land colour (only the ``focus``
    ones when given, the other study municipalities greyed) with its borders, and the context
    around it as a grey veil over the roads (drawn on top of them, so the study area stands out),
    with light borders. Returns whether context was drawn."""
    drew_context = False
    if context is not None and len(context):
        draw_shapes(
            context,
            ax,
            "context",
            facecolor=CONTEXT_COLOUR,
            edgecolor=CONTEXT_BORDER_COLOUR,
            linewidth=0.8,
            alpha=CONTEXT_ALPHA,
            zorder=4.5,
        )
        drew_context = True
    if study is not None and len(study):
        if focus is None:
            draw_shapes(study, ax, "land", facecolor=LAND_COLOUR, edgecolor="none", zorder=1)
        else:
            draw_shapes(
                study.loc[~focus], ax, "land", facecolor=OTHER_LAND_COLOUR, edgecolor="none", zorder=1
            )
            draw_shapes(study.loc[focus], ax, "land", facecolor=LAND_COLOUR, edgecolor="none", zorder=1)
        draw_shapes(study.boundary, ax, "border", color=BORDER_COLOUR, linewidth=1.6, zorder=6)
    return drew_context


def draw_cells(
    ax: Axes, cells: gpd.GeoDataFrame, classes: np.ndarray, colours: Sequence[str], names: Sequence[str]
) -> tuple[tuple[str, str], ...]:
    """Population cells coloured by class, as one collection of one compound path per class
    (points, such as postal areas, as dots of their class); returns (colour, name) of the classes
    drawn."""
    import shapely

    geoms = cells.geometry.to_numpy()
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    drawn = sorted(set(np.asarray(classes)[keep].tolist()))
    if not drawn:
        return ()
    areal = shapely.get_type_id(geoms) >= 3  # polygons; population points are drawn as dots
    if not (areal | ~keep).all():
        pts = keep & ~areal
        xy = shapely.get_coordinates(shapely.centroid(geoms[pts]))
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=CELL_DOT_SIZE,
            c=[colours[c] for c in np.asarray(classes)[pts]],
            edgecolors="none",
            alpha=0.9,
            zorder=2,
            gid="cells",
        )
        keep = keep & areal
        if not keep.any():
            return tuple((colours[c], names[c]) for c in drawn)
    paths = polygon_paths(geoms[keep], np.asarray(classes)[keep])
    shown = sorted(set(np.asarray(classes)[keep].tolist()))
    ax.add_collection(
        patch_collection(
            paths, gid="cells", facecolor=[colours[c] for c in shown], edgecolor="none", alpha=0.9, zorder=2
        ),
        autolim=False,
    )
    return tuple((colours[c], names[c]) for c in drawn)


def cell_dots(cells: gpd.GeoDataFrame) -> np.ndarray:
    """Positions (n, 2) of the cells drawn as dots (points, not polygons)."""
    import shapely

    geoms = cells.geometry.to_numpy()
    dots = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & (shapely.get_type_id(geoms) == 0)
    return shapely.get_coordinates(geoms[dots]).reshape(-1, 2)


def road_lines(roads: gpd.GeoDataFrame | None, frame: Polygon) -> dict[str, list[np.ndarray]]:
    """The roads in the frame as vertex arrays per road group (:func:`.mapdata.road_group`)."""
    import shapely

    if roads is None or roads.empty:
        return {}
    roads = in_frame(roads, frame)
    groups = (
        roads["road_class"].map(road_group).to_numpy()
        if "road_class" in roads
        else np.full(len(roads), "local", dtype=object)
    )
    out: dict[str, list[np.ndarray]] = {}
    for g in ROAD_GROUPS:
        geoms = roads.geometry.to_numpy()[groups == g]
        if len(geoms):
            parts = shapely.get_parts(geoms)
            xy, index = shapely.get_coordinates(parts, return_index=True)
            out[g] = np.split(xy, np.flatnonzero(np.diff(index)) + 1)
    return out


def draw_roads(ax: Axes, lines: dict[str, list[np.ndarray]]) -> tuple[str, ...]:
    """Roads by group (from :func:`road_lines`); returns the groups drawn."""
    from matplotlib.collections import LineCollection

    for g, parts in lines.items():
        st = ROAD_STYLE[g]
        coll = LineCollection(
            parts, gid=f"road:{g}", color=st["color"], linewidth=st["lw"], linestyle=st["ls"], zorder=4
        )
        ax.add_collection(coll, autolim=False)
    return tuple(g for g in ROAD_GROUPS if g in lines)


def _scatter(ax: Axes, xy: np.ndarray, style: dict[str, Any], gid: str, **over: Any) -> None:
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        marker=style["marker"],
        s=style["size"],
        c=over.get("color", style["color"]),
        edgecolors=over.get("edge", style["edge"]),
        linewidths=style.get("lw", 1.0),
        zorder=over.get("zorder", 9),
        gid=gid,
    )


def _xy(layer: gpd.GeoDataFrame) -> np.ndarray:
    import shapely

    return shapely.get_coordinates(shapely.point_on_surface(layer.geometry.to_numpy())).reshape(-1, 2)


def modes_of(layer: gpd.GeoDataFrame) -> pd.Series:
    """Delivery mode of each service point (``fixed`` when not given)."""
    if "mode" not in layer:
        return pd.Series("fixed", index=layer.index)
    return layer["mode"].fillna("fixed").astype(str)


def draw_points(ax: Axes, points: gpd.GeoDataFrame, frame: Polygon) -> tuple[tuple[str, ...], bool]:
    """Service points in the frame by delivery mode, and those beyond the snap tolerance (not
    used) with their own symbol; returns the modes drawn and whether any was beyond it."""
    points = in_frame(points, frame)
    off = off_road_points(points)
    modes = modes_of(points).to_numpy()
    present = []
    for mode in MODES:
        sub = points.loc[(modes == mode) & ~off]
        if not sub.empty:
            _scatter(ax, _xy(sub), MODE_STYLE[mode], f"mode:{mode}")
            present.append(mode)
    if off.any():
        _scatter(ax, _xy(points.loc[off]), OFF_ROAD_STYLE, "off_road", zorder=10)
    return tuple(present), bool(off.any())


def draw_unreachable(ax: Axes, cells: gpd.GeoDataFrame, unreachable: np.ndarray) -> bool:
    """A cross on each cell the roads do not reach (see :func:`.mapdata.unreachable_cells`);
    returns whether any was drawn."""
    if not np.asarray(unreachable, dtype=bool).any():
        return False
    _scatter(
        ax, _xy(cells.loc[np.asarray(unreachable, dtype=bool)]), UNREACHABLE_STYLE, "unreachable", zorder=8.5
    )
    return True


def proposal_layers(
    data: MapData, frame: Polygon, *, service: str | None, code: str | None
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """The new sites and the proposals of a map in the frame (of ``service``, in ``code``)."""
    out: list[gpd.GeoDataFrame | None] = []
    for layer in (data.new_sites, data.proposals):
        if layer is None:
            out.append(None)
            continue
        rows = of_municipality(layer, code)
        out.append(in_frame(rows if service is None else rows.loc[service_mask(rows, service)], frame))
    return out[0], out[1]


def draw_proposals(
    ax: Axes, new_sites: gpd.GeoDataFrame | None, proposals: gpd.GeoDataFrame | None
) -> tuple[bool, tuple[str, ...]]:
    """New sites (stars) and proposed mobile and remote services (their mode's symbol in the
    proposal colour, on top, as a remote service's support point may be a new site too), from
    :func:`proposal_layers`; returns whether stars were drawn and the modes drawn."""
    drew_new = new_sites is not None and not new_sites.empty
    if drew_new and new_sites is not None:
        _scatter(ax, _xy(new_sites), NEW_SITE_STYLE, "new_sites", zorder=11)
    drew_modes = []
    if proposals is not None and not proposals.empty:
        modes = modes_of(proposals).to_numpy()
        for mode in ("mobile", "remote"):
            sub = proposals.loc[modes == mode]
            if not sub.empty:
                _scatter(ax, _xy(sub), MODE_STYLE[mode], f"proposal:{mode}", color=PROPOSAL_COLOUR, zorder=12)
                drew_modes.append(mode)
    return drew_new, tuple(drew_modes)


def draw_gaps(ax: Axes, gaps: gpd.GeoDataFrame, frame: Polygon) -> bool:
    """Outlines of the gap areas big enough to outline (:func:`.mapdata.outlined_gaps`)."""
    big = in_frame(gaps.loc[outlined_gaps(gaps)], frame)
    return draw_shapes(big.boundary, ax, "gaps", color=GAP_OUTLINE, linewidth=1.5, zorder=7)


def draw_routes(
    ax: Axes, lines: gpd.GeoDataFrame | None, stops: gpd.GeoDataFrame | None, frame: Polygon
) -> tuple[bool, bool]:
    """The weekly routes in the frame (from :func:`.mapdata.route_layers`) as one line collection
    above the roads and below the points, and their stops as small symbols; returns whether lines
    and stops were drawn."""
    import shapely
    from matplotlib.collections import LineCollection

    drew_lines = drew_stops = False
    if lines is not None and not lines.empty:
        shown = in_frame(lines, frame)
        if not shown.empty:
            parts = shapely.get_parts(shown.geometry.to_numpy())
            xy, index = shapely.get_coordinates(parts, return_index=True)
            segments = np.split(xy, np.flatnonzero(np.diff(index)) + 1)
            coll = LineCollection(
                segments,
                gid="routes",
                color=ROUTE_STYLE["color"],
                linewidth=ROUTE_STYLE["lw"],
                alpha=ROUTE_STYLE["alpha"],
                capstyle="round",
                joinstyle="round",
                zorder=5.5,
            )
            ax.add_collection(coll, autolim=False)
            drew_lines = True
    if stops is not None and not stops.empty:
        shown = in_frame(stops, frame)
        if not shown.empty:
            _scatter(ax, _xy(shown), ROUTE_STOP_STYLE, "route_stops", zorder=8.7)
            drew_stops = True
    return drew_lines, drew_stops

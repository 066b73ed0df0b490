"""Outlines of gap areas: grid cells traced into polygons (rings of the boundary edges of
edge-connected parts, all areas at once), or a union of the cells' geometries for other layers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

from .cells import _components


def _is_grid(geoms: np.ndarray) -> bool:
    """True when every geometry is an axis-aligned square of one size on one grid (a valid coverage)."""
    if len(geoms) == 0 or not (shapely.get_type_id(geoms) == 3).all():
        return False
    if not (shapely.get_num_coordinates(geoms) == 5).all():
        return False
    b = shapely.bounds(geoms)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    size = float(np.median(w))
    if size <= 0 or not (np.allclose(w, size) and np.allclose(h, size)):
        return False
    if not np.allclose(shapely.area(geoms), size * size):
        return False
    off_x, off_y = np.mod(b[:, 0] - b[0, 0], size), np.mod(b[:, 1] - b[0, 1], size)
    tol = 1e-6 * size
    return bool(((off_x < tol) | (off_x > size - tol)).all() and ((off_y < tol) | (off_y > size - tol)).all())


def _union(geoms: np.ndarray) -> Any:
    """Union of cell polygons: a coverage union when the cells form one, a general union otherwise."""
    if len(geoms) == 1:
        return geoms[0]
    try:
        u = shapely.coverage_union_all(geoms)
        if shapely.is_valid(u):
            return u
    except shapely.errors.GEOSException:
        pass
    return shapely.union_all(geoms)


def _grid_index(geoms: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Column and row of grid cells (squares of side ``size`` on one grid)."""
    b = shapely.bounds(geoms)
    return (np.round((b[:, 0] - b[:, 0].min()) / size).astype(np.int64),
            np.round((b[:, 1] - b[:, 1].min()) / size).astype(np.int64))


def _trace_grid_parts(gi: np.ndarray, gj: np.ndarray, comp: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                  np.ndarray, np.ndarray]:
    """Outline rings of edge-connected parts of grid cells, traced for all parts at once.

    Cell ``(gi, gj)`` of part ``comp`` is the unit square with lower-left corner ``(gi, gj)``.
    Every cell side without a neighbour of the same part is a boundary edge, directed with the
    part on its left. Each edge is followed by the edge leaving its end vertex; where two leave
    (two cells of the part meeting only at that corner), the right turn, which keeps the ring
    along the empty cells: then every ring is simple, the outer ring runs counter-clockwise and
    the hole rings clockwise, and holes touch the outer ring or each other at most at a corner
    (valid polygons). Only ring corners are kept.

    Returns
    -------
    tuple
        Corner x and y (grid units), ring number per corner (rings numbered consecutively,
        corners in ring order) and, per ring, its part.
    """
    n = gi.size
    w = int(gj.max()) + 3
    h = (int(gi.max()) + 3) * w
    # Edges are numbered in the order of the cells by (part, i, j): the rings come out in a
    # fixed order whatever the order of the rows.
    o = np.argsort((comp * h + (gi + 1) * w + (gj + 1)).astype(np.int64), kind="stable")
    gi, gj, comp = gi[o], gj[o], comp[o]
    row_at = _grid_rows(gi, gj)

    # Boundary edges: (start vertex, direction 0 E, 1 N, 2 W, 3 S), part on the left. The edge
    # of direction d from a vertex is side d of one cell (its left cell), so (cell, side) names it.
    sides = (  # (neighbour di, dj), start vertex offset
        ((0, -1), (0, 0)),  # side 0: bottom, going east
        ((1, 0), (1, 0)),  # side 1: right, going north
        ((0, 1), (1, 1)),  # side 2: top, going west
        ((-1, 0), (0, 1)),  # side 3: left, going south
    )
    edge_of = np.full((n, 4), -1, np.int64)
    ex, ey, ed, ec = [], [], [], []
    ne = 0
    for side_dir, ((di, dj), (oi, oj)) in enumerate(sides):
        nb = row_at(gi + di, gj + dj)
        r = np.flatnonzero((nb < 0) | (comp[np.maximum(nb, 0)] != comp))
        edge_of[r, side_dir] = ne + np.arange(r.size)
        ne += r.size
        ex.append(gi[r] + oi)
        ey.append(gj[r] + oj)
        ed.append(np.full(r.size, side_dir, np.int64))
        ec.append(comp[r])
    x, y, d, c = (np.concatenate(v).astype(np.int64) for v in (ex, ey, ed, ec))
    step_x, step_y = np.array([1, 0, -1, 0]), np.array([0, 1, 0, -1])
    endx, endy = x + step_x[d], y + step_y[d]
    left_x, left_y = np.array([0, -1, -1, 0]), np.array([0, 0, -1, -1])  # left cell of a direction
    succ = np.full(ne, -1, np.int64)
    for turn in (3, 0, 1):  # right turn first, then straight on, then left
        todo = np.flatnonzero(succ < 0)
        nd = (d[todo] + turn) % 4
        r = row_at(endx[todo] + left_x[nd], endy[todo] + left_y[nd])
        e2 = np.where(r >= 0, edge_of[np.maximum(r, 0), nd], -1)
        hit = (e2 >= 0) & (comp[np.maximum(r, 0)] == c[todo])
        succ[todo[hit]] = e2[hit]
    if (succ < 0).any():  # pragma: no cover - every vertex of a cell boundary has an edge out
        msg = "internal error: open boundary while tracing gap-area outlines"
        raise RuntimeError(msg)
    # Rings: the cycles of ``succ``; each starts at its smallest edge, positions by list ranking.
    ring = _components(ne, np.arange(ne), succ)
    nring = int(ring.max()) + 1
    start = np.full(nring, ne, np.int64)
    np.minimum.at(start, ring, np.arange(ne))
    pred = np.empty(ne, np.int64)
    pred[succ] = np.arange(ne)
    nxt = succ.copy()
    nxt[pred[start]] = -1  # cut each ring before its start
    rank = (nxt >= 0).astype(np.int64)  # edges to the cut, by pointer jumping
    live = np.flatnonzero(nxt >= 0)
    while live.size:
        rank[live] += rank[nxt[live]]
        nxt[live] = nxt[nxt[live]]
        live = live[nxt[live] >= 0]
    length = np.bincount(ring, minlength=nring)
    first = np.r_[0, np.cumsum(length)[:-1]]
    o = np.empty(ne, np.int64)
    o[first[ring] + length[ring] - 1 - rank] = np.arange(ne)  # edges by ring, in ring order
    corner = d != d[pred]  # the direction changes where the edge starts
    o = o[corner[o]]
    part = np.empty(nring, np.int64)
    part[ring] = c
    return x[o].astype(float), y[o].astype(float), ring[o], part


def _grid_rows(gi: np.ndarray, gj: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A lookup ``(i, j) -> row`` of grid cells (``-1`` where no cell), for queries at most one
    cell outside their range: a dense grid when it is small, sorted keys otherwise."""
    i0, j0 = int(gi.min()) - 1, int(gj.min()) - 1
    width = int(gj.max()) - j0 + 2
    size = (int(gi.max()) - i0 + 2) * width
    if size <= _DENSE_GRID_CELLS:
        grid = np.full(size, -1, np.int32 if gi.size < 2**31 else np.int64)
        grid[(gi - i0) * width + (gj - j0)] = np.arange(gi.size)
        return lambda i, j: grid[(i - i0) * width + (j - j0)]
    keys = (gi - i0) * width + (gj - j0)
    order = np.argsort(keys)
    ks = keys[order]

    def at(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        q = (i - i0) * width + (j - j0)
        pos = np.clip(np.searchsorted(ks, q), 0, ks.size - 1)
        return np.where(ks[pos] == q, order[pos], -1)

    return at


_DENSE_GRID_CELLS = 20_000_000
"""Largest grid (cells, incl. the empty ones) looked up densely: 80 MB of row numbers."""


def _grid_pairs(gi: np.ndarray, gj: np.ndarray) -> np.ndarray:
    """(m, 2) positions of grid cells that share a side (the next cell along x, along y)."""
    width = int(gj.max()) + 2 if gj.size else 2
    key = gi * width + gj
    order = np.argsort(key, kind="stable")
    ks = key[order]
    pairs_l = []
    for step in (width, 1):
        pos = np.clip(np.searchsorted(ks, key + step), 0, max(ks.size - 1, 0))
        hit = ks[pos] == key + step
        pairs_l.append(np.column_stack([np.flatnonzero(hit), order[pos[hit]]]))
    return np.concatenate(pairs_l).astype(np.int64)


def _outline_polygons(
    gi: np.ndarray, gj: np.ndarray, comp: np.ndarray, area: np.ndarray, k: int, x0: float, y0: float,
    size: float,
) -> list[Any]:
    """(Multi)Polygon per area from the edge-connected parts ``comp`` of its grid cells (rows)."""
    px, py, ring, part = _trace_grid_parts(gi, gj, comp)
    rings = shapely.linearrings(x0 + px * size, y0 + py * size, indices=ring)
    # Shell first in each part: the counter-clockwise ring (positive signed area).
    shell = shapely.is_ccw(rings)
    o = np.lexsort((~shell, part))
    parts = shapely.polygons(rings[o], indices=part[o])
    ncomp = parts.size
    part_area = np.empty(ncomp, np.int64)
    part_area[comp] = area
    o = np.argsort(part_area, kind="stable")
    parts, part_area = parts[o], part_area[o]
    counts = np.bincount(part_area, minlength=k)
    multi = shapely.multipolygons(parts, indices=part_area)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    return [parts[starts[a]] if counts[a] == 1 else multi[a] for a in range(k)]


def _union_outlines(geom_all: np.ndarray, gpos: np.ndarray, lab: np.ndarray, cnt: np.ndarray,
                    size: float) -> list[Any]:
    """One outline per area (label ``lab`` of each gap row) by a union of its cells' geometries;
    point cells become squares of the cell size around them."""
    geoms: list[Any] = []
    by = np.argsort(lab, kind="stable")
    bounds = np.r_[0, np.cumsum(cnt)]
    cell_pos_sorted = gpos[by]
    seen: dict[bytes, Any] = {}  # areas of several services often hold the same cells
    for i in range(cnt.size):
        rows_i = by[bounds[i] : bounds[i + 1]]
        key = np.sort(cell_pos_sorted[bounds[i] : bounds[i + 1]]).tobytes()
        u = seen.get(key)
        if u is None:
            u = seen[key] = _union(geom_all[rows_i])
        if u.geom_type in ("Point", "MultiPoint"):
            u = u.buffer(size / 2).envelope if u.geom_type == "Point" else u.convex_hull.buffer(size / 2)
        geoms.append(u)
    return geoms

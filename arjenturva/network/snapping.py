"""Snapping points onto the nearest point of the nearest road (:func:`snap_points`).

The roads are cut into short pieces with a k-d tree on their midpoints (``_SnapIndex``, built
once per network); the candidates of each point are widened until no piece outside them can be
nearer, and each candidate is projected exactly. :class:`Snapped` also keeps, per network, the
terms every sweep from the same points reuses.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.spatial import cKDTree

if TYPE_CHECKING:
    from .model import Network


_AT_NODE = 1e-9
"""A snapped point this close to a road end (as a share of the road) is at that node."""

_AT_NODE_M = 1e-6
"""A point this close to a road end (metres) and snapped next to it is snapped exactly onto it."""


@dataclass(frozen=True, eq=False)
class Snapped:
    """Points snapped onto the nearest road.

    Attributes
    ----------
    road
        Road index per point (``-1`` when not snapped).
    frac
        Position along the road as a share of its polyline (0 = node ``a``, 1 = node ``b``).
    offset_m
        Distance along the road polyline from node ``a`` to the snapped point (metres).
    access_m
        Straight-line distance from the point to the road (metres); ``inf`` when no road is
        within the search radius.
    x, y
        The snapped point on the road (``nan`` when not snapped).
    ok
        True where a road was found within the tolerance; the caller reports the others.
    tolerance_m
        The tolerance used.
    """

    road: np.ndarray
    frac: np.ndarray
    offset_m: np.ndarray
    access_m: np.ndarray
    x: np.ndarray
    y: np.ndarray
    ok: np.ndarray
    tolerance_m: float
    _cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Per-network terms reused by every sweep from these points (treat the arrays as read-only)."""

    def __len__(self) -> int:
        return int(self.road.shape[0])

    def _cached(self, net: Network, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """``make()`` once per network and key; the arrays returned are made read-only."""
        hit = self._cache.get(key)
        if hit is not None and hit[0]() is net:
            return hit[1]
        value = make()
        for v in value if isinstance(value, tuple) else (value,):
            if isinstance(v, np.ndarray):
                v.flags.writeable = False
        self._cache[key] = (weakref.ref(net), value)
        return value

    def subset(self, mask_or_index: np.ndarray) -> Snapped:
        """The snapped points selected by a boolean mask or an index array."""
        m = np.asarray(mask_or_index)
        return Snapped(
            self.road[m], self.frac[m], self.offset_m[m], self.access_m[m], self.x[m], self.y[m],
            self.ok[m], self.tolerance_m,
        )


@dataclass(frozen=True, eq=False)
class _SnapIndex:
    """Road polylines cut into short pieces with a k-d tree on the pieces' midpoints."""

    x0: np.ndarray
    y0: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    seg_len: np.ndarray
    road: np.ndarray
    along: np.ndarray  # distance along the road polyline at the piece's start
    start_x: np.ndarray  # each road's start (node a) and end (node b)
    start_y: np.ndarray
    end_x: np.ndarray
    end_y: np.ndarray
    road_geom_len: np.ndarray
    half: float
    tree: cKDTree

    @classmethod
    def build(cls, offsets: np.ndarray, xy: np.ndarray) -> _SnapIndex:
        nroad = offsets.size - 1
        counts = np.diff(offsets)
        road_of_v = np.repeat(np.arange(nroad), counts)
        is_last = np.zeros(xy.shape[0], bool)
        is_last[offsets[1:][counts > 0] - 1] = True
        s = np.flatnonzero(~is_last)
        vx, vy = xy[:, 0], xy[:, 1]
        step = np.hypot(np.diff(vx), np.diff(vy))  # from each vertex to the next
        cum = np.concatenate([[0.0], np.cumsum(step)])
        d = step[s]
        along0 = cum[s] - cum[offsets[:-1]][road_of_v[s]]
        geom_len = (cum[offsets[1:] - 1] - cum[offsets[:-1]]) if xy.shape[0] else np.zeros(nroad)
        x0, y0 = vx[s], vy[s]
        dx, dy = vx[s + 1] - x0, vy[s + 1] - y0
        road = road_of_v[s]
        # Cut long segments so that every piece is at most max_len long.
        pos = d[d > 0]
        max_len = float(np.clip(2.0 * np.median(pos), 10.0, 1000.0)) if pos.size else 1.0
        npiece = np.maximum(1, np.ceil(d / max_len).astype(np.int64))
        seg_len, along = d, along0
        if (npiece > 1).any():
            rep = np.repeat(np.arange(s.size), npiece)
            k = np.arange(rep.size) - np.repeat(np.cumsum(npiece) - npiece, npiece)
            t0 = k / npiece[rep]
            t1 = (k + 1) / npiece[rep]
            sx, sy, ddx, ddy = x0[rep], y0[rep], dx[rep], dy[rep]
            x0, y0 = sx + t0 * ddx, sy + t0 * ddy
            dx, dy = (t1 - t0) * ddx, (t1 - t0) * ddy
            seg_len = d[rep] * (t1 - t0)
            along = along0[rep] + d[rep] * t0
            road = road[rep]
        mid = np.column_stack([x0 + dx / 2, y0 + dy / 2])
        half = float(seg_len.max() / 2) if seg_len.size else 0.0
        ends = np.zeros((4, nroad))
        if xy.shape[0]:
            first, last = np.clip(offsets[:-1], 0, xy.shape[0] - 1), np.clip(offsets[1:] - 1, 0, None)
            ends = np.stack([vx[first], vy[first], vx[last], vy[last]])
        # An unbalanced tree builds about twice as fast and answers snapping queries nearly as fast.
        tree = cKDTree(mid if mid.size else np.zeros((0, 2)), balanced_tree=False)
        return cls(x0, y0, dx, dy, seg_len, road, along, ends[0], ends[1], ends[2], ends[3], geom_len, half,
                   tree)


_SNAP_CHUNK = 65_536


def _snap_chunk(
    idx: _SnapIndex, pts: np.ndarray, pending: np.ndarray, bound: float, best_d: np.ndarray,
    best_s: np.ndarray, best_t: np.ndarray,
) -> None:
    """Nearest road piece for ``pts[pending]``, widening k until no farther piece can be nearer."""
    nseg = idx.seg_len.size
    k = min(8, nseg)
    while pending.size:
        dk, ik = idx.tree.query(pts[pending], k=k, distance_upper_bound=bound, workers=-1)  # threads
        dk = dk.reshape(pending.size, -1)
        ik = ik.reshape(pending.size, -1)
        valid = ik < nseg
        ic = np.where(valid, ik, 0)
        px = pts[pending, 0:1]
        py = pts[pending, 1:2]
        ddx, ddy = idx.dx[ic], idx.dy[ic]
        l2 = ddx * ddx + ddy * ddy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = ((px - idx.x0[ic]) * ddx + (py - idx.y0[ic]) * ddy) / l2
        t = np.where(l2 > 0, np.clip(t, 0.0, 1.0), 0.0)
        qx, qy = idx.x0[ic] + t * ddx, idx.y0[ic] + t * ddy
        dist = np.where(valid, np.hypot(px - qx, py - qy), np.inf)
        j = np.argmin(dist, axis=1)
        rows = np.arange(pending.size)
        dmin = dist[rows, j]
        better = dmin < best_d[pending]
        sel = pending[better]
        best_d[sel] = dmin[better]
        best_s[sel] = ic[rows, j][better]
        best_t[sel] = t[rows, j][better]
        kth = dk[:, -1]
        done = (~np.isfinite(kth)) | (best_d[pending] <= kth - idx.half) | (k >= nseg)
        pending = pending[~done]
        k = min(2 * k, nseg)


def snap_points(net: Network, xy: np.ndarray, *, tolerance_m: float = 5000.0) -> Snapped:
    """Snap points to the nearest point on the nearest road.

    Exact: candidates come from a k-d tree on short road pieces and are widened until no piece
    outside the candidates can be nearer; each candidate is projected exactly.

    Parameters
    ----------
    net
        The network.
    xy
        Points in EPSG:3067, shape (n, 2); rows with ``nan`` are not snapped.
    tolerance_m
        Points farther than this from every road are not snapped (``ok`` False).

    Returns
    -------
    Snapped
    """
    pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    n = pts.shape[0]
    idx = net._snap_index
    best_d = np.full(n, np.inf)
    best_s = np.full(n, -1, np.int64)
    best_t = np.zeros(n)
    nseg = idx.seg_len.size
    finite = np.isfinite(pts).all(axis=1)
    todo = np.flatnonzero(finite) if nseg else np.zeros(0, np.int64)
    bound = tolerance_m + idx.half + 1e-9
    for c0 in range(0, todo.size, _SNAP_CHUNK):  # chunks bound the memory of the candidate arrays
        _snap_chunk(idx, pts, todo[c0:c0 + _SNAP_CHUNK], bound, best_d, best_s, best_t)
    ok = best_d <= tolerance_m
    seg = np.where(best_s >= 0, best_s, 0)
    road = np.where(ok, idx.road[seg], -1) if nseg else np.full(n, -1, np.int64)
    offset = np.where(ok, idx.along[seg] + best_t * idx.seg_len[seg], np.nan) if nseg else np.full(n, np.nan)
    glen = idx.road_geom_len[np.where(road >= 0, road, 0)] if nseg else np.ones(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(ok, np.where(glen > 0, offset / glen, 0.0), np.nan)
    frac = np.clip(frac, 0.0, 1.0)
    sx = np.where(ok, idx.x0[seg] + best_t * idx.dx[seg], np.nan) if nseg else np.full(n, np.nan)
    sy = np.where(ok, idx.y0[seg] + best_t * idx.dy[seg], np.nan) if nseg else np.full(n, np.nan)
    if nseg:
        # A point at a road end (within a micrometre, projected there) is exactly at that node:
        # the sums along the polyline would leave it a rounding error short of the node.
        for end, share, ex, ey in ((frac <= _AT_NODE, 0.0, idx.start_x, idx.start_y),
                                   (frac >= 1 - _AT_NODE, 1.0, idx.end_x, idx.end_y)):
            at = np.flatnonzero(ok & end)
            r = road[at]
            gap = np.hypot(pts[at, 0] - ex[r], pts[at, 1] - ey[r])
            at, r, gap = at[gap <= _AT_NODE_M], r[gap <= _AT_NODE_M], gap[gap <= _AT_NODE_M]
            frac[at] = share
            offset[at] = share * glen[at]
            sx[at], sy[at] = ex[r], ey[r]
            best_d[at] = gap
    return Snapped(
        road=road.astype(np.int64), frac=frac, offset_m=offset, access_m=best_d, x=sx, y=sy, ok=ok,
        tolerance_m=float(tolerance_m),
    )

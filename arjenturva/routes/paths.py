"""The road a route drives: each leg's shortest path by road distance, as a line along the roads.

The cost matrices (:mod:`.costs`) give each leg's distance; this module finds the path itself, for
the legs the routes use only. It follows the rules of the network's sweeps: a point lies on a road
at a share of its length, it leaves towards either end the road may be driven to, it is reached from
either end the road may be driven from, and two points on one road may also be driven directly
along it. The sweep runs from a virtual node per origin joined to its road's ends
(:func:`scipy.sparse.csgraph.dijkstra` with predecessors), and the path is read back node by node,
each step along the shortest road between the two nodes, its polyline turned the way it is driven.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import shapely.ops
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from ..network import Network, Snapped

_AT_NODE = 1e-9
"""A point this close to a road end (as a share of the road) is at that node, as the sweeps take it."""

_BATCH = 16
"""Origins swept at once (each keeps a row of costs and predecessors over every node)."""


@dataclass(frozen=True)
class LegPath:
    """One leg along the roads: its vertices (EPSG:3067) and its road length."""

    coords: np.ndarray  # (k, 2)
    length_m: float


def _road_line(net: Network, road: int) -> np.ndarray:
    return net.road_xy[net.road_offsets[road] : net.road_offsets[road + 1]]


def _piece(net: Network, road: int, start: float, end: float) -> np.ndarray:
    """The part of a road's polyline between two shares of its length, running from ``start`` to ``end``."""
    xy = _road_line(net, road)
    line = shapely.LineString(xy)
    lo, hi = sorted((start, end))
    part = shapely.ops.substring(line, lo * line.length, hi * line.length)
    coords = np.asarray(part.coords) if not part.is_empty else np.zeros((0, 2))
    return coords[::-1] if start > end else coords


def _edge_table(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys ``u * n + v`` of the directed edges and, per key, the shortest edge."""
    key = net.edge_u.astype(np.int64) * net.n_nodes + net.edge_v
    order = np.lexsort((net.edge_length_m, key))
    first = np.r_[True, key[order][1:] != key[order][:-1]] if order.size else np.zeros(0, bool)
    return key[order][first], order[first]


def _ends(net: Network, pts: Snapped, i: int) -> tuple[int, float, float, float, float]:
    """Point ``i``'s road and costs: from it to the road's ends a and b, and from a and b to it."""
    r = int(pts.road[i])
    w = float(net.road_length_m[r])
    t = float(pts.frac[i])
    acc = float(pts.access_m[i])
    fwd, bwd = bool(net.road_fwd[r]), bool(net.road_bwd[r])
    to_a = acc + t * w if (bwd or t <= _AT_NODE) else np.inf
    to_b = acc + (1 - t) * w if (fwd or t >= 1 - _AT_NODE) else np.inf
    from_a = acc + t * w if (fwd or t <= _AT_NODE) else np.inf
    from_b = acc + (1 - t) * w if (bwd or t >= 1 - _AT_NODE) else np.inf
    return r, to_a, to_b, from_a, from_b


def leg_paths(net: Network, pts: Snapped, legs: list[tuple[int, int]]) -> dict[tuple[int, int], LegPath]:
    """The shortest road path (by distance) of each leg ``(origin, target)`` between snapped points."""
    out: dict[tuple[int, int], LegPath] = {}
    origins = sorted({o for o, _ in legs})
    keys, edge_of = _edge_table(net)
    n = net.n_nodes
    g = net.csr("length")
    for b0 in range(0, len(origins), _BATCH):
        batch = origins[b0 : b0 + _BATCH]
        k = len(batch)
        rows, cols, vals = [], [], []
        for j, o in enumerate(batch):
            r, to_a, to_b, _fa, _fb = _ends(net, pts, o)
            for node, cost in ((net.road_a[r], to_a), (net.road_b[r], to_b)):
                if np.isfinite(cost):
                    rows.append(j)
                    cols.append(int(node))
                    vals.append(cost)
        virtual = sparse.csr_array((vals, (rows, cols)), shape=(k, n))
        top = sparse.hstack([g, sparse.csr_array((n, k))])
        aug = sparse.csr_array(sparse.vstack([top, sparse.hstack([virtual, sparse.csr_array((k, k))])]))
        dist, pred = dijkstra(aug, directed=True, indices=n + np.arange(k), return_predecessors=True)
        for j, o in enumerate(batch):
            for oo, t in legs:
                if oo == o and (o, t) not in out:
                    out[(o, t)] = _leg(net, pts, o, t, dist[j], pred[j], n, keys, edge_of)
    return out


def _leg(
    net: Network,
    pts: Snapped,
    o: int,
    t: int,
    dist: np.ndarray,
    pred: np.ndarray,
    n: int,
    keys: np.ndarray,
    edge_of: np.ndarray,
) -> LegPath:
    ro, to_a, to_b, _fa, _fb = _ends(net, pts, o)
    rt, _ta2, _tb2, from_a, from_b = _ends(net, pts, t)
    a_t, b_t = int(net.road_a[rt]), int(net.road_b[rt])
    via = [(dist[a_t] + from_a, a_t, 0.0), (dist[b_t] + from_b, b_t, 1.0)]
    best = min(via, key=lambda c: c[0])
    fo, ft = float(pts.frac[o]), float(pts.frac[t])
    if ro == rt:
        dt = ft - fo
        allowed = (net.road_fwd[ro] if dt >= 0 else net.road_bwd[ro]) or abs(dt) <= _AT_NODE
        direct = float(pts.access_m[o] + pts.access_m[t] + abs(dt) * net.road_length_m[ro])
        if allowed and direct <= best[0]:
            return LegPath(_piece(net, ro, fo, ft), direct)
    cost, entry, entry_frac = best
    nodes = [entry]
    while pred[nodes[-1]] >= 0 and pred[nodes[-1]] < n:
        nodes.append(int(pred[nodes[-1]]))
    nodes.reverse()
    first = nodes[0]
    if first == net.road_a[ro] and first == net.road_b[ro]:  # a loop road: the end it left by
        leave = 0.0 if to_a <= to_b else 1.0
    else:
        leave = 0.0 if first == net.road_a[ro] else 1.0
    parts = [_piece(net, ro, fo, leave)]
    for u, v in zip(nodes[:-1], nodes[1:], strict=True):
        e = edge_of[np.searchsorted(keys, u * n + v)]
        line = _road_line(net, int(net.edge_road[e]))
        parts.append(line[::-1] if net.edge_reversed[e] else line)
    parts.append(_piece(net, rt, entry_frac, ft))
    coords = np.concatenate([p for p in parts if len(p)])
    keep = np.r_[True, np.any(np.abs(np.diff(coords, axis=0)) > 1e-9, axis=1)]
    return LegPath(coords[keep], float(cost))

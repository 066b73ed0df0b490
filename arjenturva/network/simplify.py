"""OSM ways to roads between the nodes osmnx's ``simplify_graph`` keeps, without osmnx.

The OSM XML reader uses it so that a file read with pyosmium gives the same network as the
osmnx graph it used to build (``graph_from_xml`` without simplification, the drivable edges
kept, then ``simplify_graph(edge_attrs_differ=["highway", "route", "maxspeed"],
remove_rings=False)``): the same nodes, roads, directions, lengths and classes.

A node is kept (an *end*) by the rules of osmnx's ``_is_endpoint`` on the directed graph of way
segments: it has no incoming or no outgoing segment, it does not have exactly two neighbours
with two or four directed segments, or the segments at it differ in ``highway``, ``route`` or
``maxspeed``. Between two ends, the nodes that are not ends form a chain that becomes one road
(driven in each direction in which every link of the chain can be driven); segments directly
between two ends, and rings without any end, stay one road per way segment.

Where it differs from that graph, on purpose: one-way tags follow the project's rules (as for
PBF files: ``junction=circular`` is one-way, an explicit ``oneway=no`` on a roundabout is not);
two one-way roads in opposite directions between the same nodes become one two-way road only
when they are driven at the same speed (the networkx reading gave the second direction the first
one's speed); and a vertex missing from the file splits its way instead of failing the read.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .assemble import _Roads
from .kernels import _polyline_lengths
from .tags import _class_speed

_TWIN_RTOL = 1e-6
"""Two one-way roads in opposite directions between the same nodes, of the same class and speed
and this close in length, are one two-way road (as when a networkx graph is read)."""


def _dedup_vertices(
    ref: np.ndarray, x: np.ndarray, y: np.ndarray, way_offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Drop consecutive duplicate vertices within each way: (ref, x, y, way of each vertex)."""
    nway = way_offsets.size - 1
    way_of = np.repeat(np.arange(nway), np.diff(way_offsets))
    dup = np.zeros(ref.size, bool)
    if ref.size > 1:
        dup[1:] = (ref[1:] == ref[:-1]) & (way_of[1:] == way_of[:-1])
    if dup.any():
        ref, x, y, way_of = ref[~dup], x[~dup], y[~dup], way_of[~dup]
    return ref, x, y, way_of


def _ends(n: int, eu: np.ndarray, ev: np.ndarray, ekey: np.ndarray) -> np.ndarray:
    """Which nodes osmnx's ``_is_endpoint`` keeps, from the directed segments ``eu -> ev``."""
    indeg = np.bincount(ev, minlength=n)
    outdeg = np.bincount(eu, minlength=n)
    deg = indeg + outdeg
    both_u, both_v = np.r_[eu, ev], np.r_[ev, eu]
    nbr = np.bincount(np.unique(both_u * n + both_v) // n, minlength=n)
    nkey = int(ekey.max()) + 1 if ekey.size else 1
    keys = np.bincount(np.unique(both_u * nkey + np.r_[ekey, ekey]) // nkey, minlength=n)
    return (indeg == 0) | (outdeg == 0) | (nbr != 2) | ((deg != 2) & (deg != 4)) | (keys > 1)


def _chains(n: int, su: np.ndarray, sv: np.ndarray, end: np.ndarray) -> tuple[list[list[int]], np.ndarray]:
    """Paths from an end through nodes that are not ends to the next end, and which non-end
    nodes they cover. Each chain is listed once (from one of its two ends)."""
    pairs = np.unique(np.r_[su * n + sv, sv * n + su])
    pu, pv = pairs // n, pairs % n
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(pu, minlength=n), out=indptr[1:])
    # Every node that is not an end has exactly two neighbours.
    first = np.full(n, -1, np.int64)
    second = np.full(n, -1, np.int64)
    mid = np.flatnonzero(~end)
    first[mid], second[mid] = pv[indptr[mid]], pv[indptr[mid] + 1]
    is_end = end.tolist()
    f, s = first.tolist(), second.tolist()
    seen = [False] * n
    nbrs = pv.tolist()
    ip = indptr.tolist()
    chains: list[list[int]] = []
    for e in np.flatnonzero(end & (np.diff(indptr) > 0)).tolist():
        for x in nbrs[ip[e]:ip[e + 1]]:
            if is_end[x] or seen[x]:
                continue
            path, prev, cur = [e], e, x
            while not is_end[cur]:
                seen[cur] = True
                path.append(cur)
                prev, cur = cur, (f[cur] if f[cur] != prev else s[cur])
            path.append(cur)
            chains.append(path)
    return chains, np.asarray(seen, bool)


def _pair_twins(a: np.ndarray, b: np.ndarray, fwd: np.ndarray, bwd: np.ndarray, cls: np.ndarray,
                speed: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Roads to drop: the second of two one-way roads in opposite directions between the same
    nodes with the same class, speed (as driven) and length (the first becomes two-way; ``fwd`` and ``bwd``
    are updated in place)."""
    one = np.flatnonzero(fwd != bwd)
    u = np.where(fwd[one], a[one], b[one])
    v = np.where(fwd[one], b[one], a[one])
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((hi, lo))
    lo_s, hi_s = lo[order], hi[order]
    same = np.flatnonzero((lo_s[1:] == lo_s[:-1]) & (hi_s[1:] == hi_s[:-1]))
    drop: list[int] = []
    if not same.size:
        return np.zeros(0, np.int64)
    groups: dict[tuple[int, int], list[int]] = {}
    for k in np.unique(np.r_[same, same + 1]).tolist():
        groups.setdefault((int(lo_s[k]), int(hi_s[k])), []).append(int(one[order[k]]))
    for members in groups.values():
        used: set[int] = set()
        for i in members:
            if i in used:
                continue
            used.add(i)
            ui = a[i] if fwd[i] else b[i]
            for j in members:
                uj = a[j] if fwd[j] else b[j]
                if j in used or uj == ui or cls[j] != cls[i] or speed[j] != speed[i]:
                    continue
                if abs(length[i] - length[j]) <= _TWIN_RTOL * max(1.0, abs(length[i])):
                    used.add(j)
                    drop.append(j)
                    if fwd[i]:
                        bwd[i] = True
                    else:
                        fwd[i] = True
                    break
    return np.asarray(drop, np.int64)


def _roads_simplified(
    ref: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    way_offsets: np.ndarray,
    way_cls: np.ndarray,
    way_oneway: np.ndarray,
    way_speed: np.ndarray,
    way_key: np.ndarray,
    speeds: Mapping[str, float],
) -> _Roads:
    """Roads from OSM ways (vertex refs, projected coordinates) as osmnx simplifies them.

    ``way_oneway`` is ``1`` (forward only), ``-1`` (backward only) or ``0``; ``way_key`` numbers
    the ways' (``highway``, ``route``, ``maxspeed``) values, which must agree along a road;
    ``speeds`` gives the class speeds where a way has no ``maxspeed``.
    """
    ref, x, y, way_of = _dedup_vertices(ref, x, y, way_offsets)
    node_ids, node = np.unique(ref, return_inverse=True)
    n = node_ids.size
    nx_ = np.empty(n)
    ny_ = np.empty(n)
    nx_[node], ny_[node] = x, y
    seg = np.flatnonzero(way_of[1:] == way_of[:-1])
    su, sv, sw = node[seg], node[seg + 1], way_of[seg]
    ow = way_oneway[sw]
    f, b = ow >= 0, ow <= 0
    eu, ev = np.r_[su[f], sv[b]], np.r_[sv[f], su[b]]
    end = _ends(n, eu, ev, np.r_[way_key[sw[f]], way_key[sw[b]]])
    chains, in_chain = _chains(n, su, sv, end)
    # Roads of one way segment: between two ends, and in rings without any end.
    single = ~in_chain[su] & ~in_chain[sv]
    s_idx = np.flatnonzero(single)
    # Chains: their links, the directions every link allows, and a way along them.
    lens = np.fromiter((len(c) for c in chains), np.int64, len(chains))
    path = np.fromiter((v for c in chains for v in c), np.int64, int(lens.sum()))
    coff = np.zeros(lens.size + 1, np.int64)
    np.cumsum(lens, out=coff[1:])
    link = np.ones(path.size, bool)
    link[coff[1:] - 1] = False
    lu, lv = path[link], path[np.flatnonzero(link) + 1]
    chain_of = np.repeat(np.arange(lens.size), lens - 1)
    ekeys = np.unique(eu * n + ev)

    def has(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        q = u * n + v
        pos = np.clip(np.searchsorted(ekeys, q), 0, max(ekeys.size - 1, 0))
        return ekeys[pos] == q if ekeys.size else np.zeros(q.size, bool)

    c_fwd = np.bincount(chain_of, weights=~has(lu, lv), minlength=lens.size) == 0
    c_bwd = np.bincount(chain_of, weights=~has(lv, lu), minlength=lens.size) == 0
    skeys = np.minimum(su, sv) * n + np.maximum(su, sv)
    sorder = np.argsort(skeys, kind="stable")
    first_link = coff[:-1]
    fu, fv = path[first_link], path[first_link + 1]
    at = sorder[np.searchsorted(skeys[sorder], np.minimum(fu, fv) * n + np.maximum(fu, fv))]
    c_way = sw[at]
    # All roads: single segments, then chains.
    r_way = np.r_[sw[s_idx], c_way]
    ra = np.r_[su[s_idx], fu]
    rb = np.r_[sv[s_idx], path[coff[1:] - 1]]
    rfwd = np.r_[ow[s_idx] >= 0, c_fwd]
    rbwd = np.r_[ow[s_idx] <= 0, c_bwd]
    verts = np.r_[np.column_stack([su[s_idx], sv[s_idx]]).ravel(), path]
    roff = np.r_[np.arange(s_idx.size) * 2, 2 * s_idx.size + coff].astype(np.int64)
    xy = np.column_stack([nx_[verts], ny_[verts]])
    length = _polyline_lengths(roff, xy)
    cls = np.asarray(way_cls, dtype=object)[r_way]
    speed = way_speed[r_way].astype(float)
    unknown = np.flatnonzero(~np.isfinite(speed))
    drive = speed.copy()  # the speed each road is driven at, to tell one-way twins apart
    drive[unknown] = [_class_speed(str(c), speeds) for c in cls[unknown]]
    drop = _pair_twins(ra, rb, rfwd, rbwd, cls, drive, length)
    if drop.size:
        keep = np.ones(ra.size, bool)
        keep[drop] = False
        cnt = np.diff(roff)[keep]
        take = np.repeat(roff[:-1][keep] - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
        xy = xy[take]
        roff = np.r_[0, np.cumsum(cnt)].astype(np.int64)
        ra, rb, rfwd, rbwd, speed, cls, length = (
            v[keep] for v in (ra, rb, rfwd, rbwd, speed, cls, length))
    return _Roads(
        node_ids=node_ids.astype(np.int64), x=nx_, y=ny_, a=ra, b=rb, offsets=roff, xy=xy,
        fwd=rfwd, bwd=rbwd, length_m=length, speed_kmh=speed, cls=cls,
    )

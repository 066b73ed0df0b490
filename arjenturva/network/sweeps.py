"""Nearest-facility sweeps (:func:`nearest_facility`) and the terms they share.

Facilities enter one multi-source sweep on the transposed graph as seeds at the ends of their
roads (a facility exactly at a node as a plain source there); each origin adds its access leg
and the part of its road to either end, and an origin and a facility on the same road also get
the direct drive along it. The origins' terms are kept with the snapped origins;
:func:`prepare_sweeps` builds them ahead of worker processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .contraction import Contract, _Contraction, _sweep_contraction
from .kernels import _first_at_node, _scatter_min
from .model import Network, Weight, _check_weight
from .snapping import _AT_NODE, Snapped


@dataclass(frozen=True, eq=False)
class Nearest:
    """The nearest facility of each origin.

    Attributes
    ----------
    cost
        Cost to the nearest facility (metres or seconds, access legs included); ``inf`` when
        none is reachable (or not within ``limit``).
    facility
        Index of that facility in the facilities given, ``-1`` when none.
    weight
        ``"length"`` or ``"time"``.
    """

    cost: np.ndarray
    facility: np.ndarray
    weight: str

    @property
    def reached(self) -> np.ndarray:
        """True where some facility was reached."""
        return self.facility >= 0


def _access_cost(s: Snapped, weight: str, access_speed_kmh: float) -> np.ndarray:
    if weight == "length":
        return s.access_m
    return s.access_m / (access_speed_kmh / 3.6)


def _seeds(
    net: Network, fac: Snapped, weight: Weight, access_speed_kmh: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(facility, node, cost) seeds of the reverse sweep: cost from a node to each facility.

    A facility exactly at a node with no access leg has one seed, of cost 0 at that node: its
    road's other end, at the road's cost, exists only where that road can be driven to the
    node, so no sweep reaches it cheaper through the seed than through the node.
    """
    f = np.flatnonzero(fac.ok)
    every = f.size == len(fac)  # the usual case: no gathers by ``f``
    r = fac.road if every else fac.road[f]
    if every and _at_node(fac).all():  # every facility at a node: one seed each
        node = np.where(fac.frac == 0, net.road_a[r], net.road_b[r]).astype(np.int64)
        return f, node, np.zeros(f.size)
    w = net.road_cost(weight)[r]
    acc = _access_cost(fac, weight, access_speed_kmh)
    frac = fac.frac
    if not every:
        acc, frac = acc[f], frac[f]
    # Drive a -> point along the road (forward) or b -> point (backward); a point at a node
    # is reached from that node whatever the road's direction.
    fw = net.road_fwd[r] | (frac <= _AT_NODE)
    bw = net.road_bwd[r] | (frac >= 1 - _AT_NODE)
    at = acc == 0
    fw &= ~(at & (frac == 1))
    bw &= ~(at & (frac == 0))
    to_a = acc + frac * w
    to_b = acc + (1 - frac) * w
    ra, rb = net.road_a[r], net.road_b[r]
    # One seed per (facility, node): a loop road (a == b) would give two; keep the cheaper.
    loop = fw & bw & (ra == rb)
    if loop.any():
        to_a[loop] = np.minimum(to_a[loop], to_b[loop])
        bw &= ~loop
    fid = np.concatenate([f[fw], f[bw]])
    node = np.concatenate([ra[fw], rb[bw]]).astype(np.int64)
    cost = np.concatenate([to_a[fw], to_b[bw]])
    return fid, node, cost


def _augmented(net: Network, weight: Weight, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
               nvirt: int) -> sp.csr_array:
    """The transposed graph with ``nvirt`` virtual source rows appended (no incoming edges)."""
    base = net.csr(weight, transposed=True)
    n = net.n_nodes
    order = np.argsort(rows, kind="stable")
    nnz = int(base.indptr[-1]) + rows.size
    itype = np.int32 if max(nnz, n + nvirt) < np.iinfo(np.int32).max else np.int64
    indptr = np.empty(n + nvirt + 1, itype)
    indptr[:n + 1] = base.indptr
    indptr[n + 1:] = np.cumsum(np.bincount(rows, minlength=nvirt)) + int(indptr[n])
    indices = np.concatenate([base.indices.astype(itype, copy=False), cols[order].astype(itype)])
    data = np.concatenate([base.data, vals[order]])
    return sp.csr_array((data, indices, indptr), shape=(n + nvirt, n + nvirt))


def _origin_terms(
    net: Network, org: Snapped, weight: Weight, access_speed_kmh: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For snapped origins: index, node a/b, cost to reach a and b from the point (inf if not allowed).

    Computed once per network, weight and access speed, and kept with the origins.
    """

    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        o = np.flatnonzero(org.ok)
        every = o.size == len(org)  # the usual case: no gathers by ``o``
        r = org.road if every else org.road[o]
        w = net.road_cost(weight)[r]
        acc = _access_cost(org, weight, access_speed_kmh)
        t = org.frac if every else org.frac[o]
        if not every:
            acc = acc[o]
        to_b = acc + (1 - t) * w
        to_b[~(net.road_fwd[r] | (t >= 1 - _AT_NODE))] = np.inf
        to_a = acc + t * w
        to_a[~(net.road_bwd[r] | (t <= _AT_NODE))] = np.inf
        return o, net.road_a[r], net.road_b[r], to_a, to_b

    return cast(
        "tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]",
        org._cached(net, ("terms", weight, float(access_speed_kmh)), make),
    )


def _origin_plan(
    net: Network, org: Snapped, weight: Weight, access_speed_kmh: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which road ends each snapped origin needs: (o, node, cost, both, node2, cost2).

    Every origin in ``o`` is reached through ``node`` at ``cost`` and, for those at positions
    ``both``, also through ``node2`` at ``cost2`` (the cheaper counts). One end is enough when
    the other cannot be driven to, and for a point exactly at a road end: there the other end is
    never cheaper, since the cost of a node is at most the road to the other end plus the cost
    there.
    """

    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        o, na, nb, to_a, to_b = _origin_terms(net, org, weight, access_speed_kmh)
        t = org.frac if o.size == len(org) else org.frac[o]
        only_b = ~np.isfinite(to_a) | (t == 1.0)
        only_a = ~only_b & (~np.isfinite(to_b) | (t == 0.0))
        node = np.where(only_b, nb, na)
        cost = np.where(only_b, to_b, to_a)
        both = np.flatnonzero(~(only_a | only_b))
        return o, node, cost, both, nb[both], to_b[both]

    return cast(
        "tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]",
        org._cached(net, ("plan", weight, float(access_speed_kmh)), make),
    )


def _at_node(pts: Snapped) -> np.ndarray:
    """Points exactly at a road end with no access leg.

    Such a point never needs the direct drive to a point on the same road: through its node
    the sweep gives the same cost, the same sum of the same terms (a leg of 0 added, the node
    reached at the cost of the seed there or less), in the same directions.
    """
    return cast("np.ndarray", (pts.access_m == 0) & ((pts.frac == 0) | (pts.frac == 1)))


def _origins_by_road(net: Network, org: Snapped) -> tuple[np.ndarray, np.ndarray]:
    """Snapped origins not at a node (:func:`_at_node`) ordered by road, and where each road's
    run starts: those on road ``r`` are ``o[ptr[r]:ptr[r + 1]]``."""
    o = np.flatnonzero(org.ok & ~_at_node(org))
    o = o[np.argsort(org.road[o], kind="stable")]
    ptr = np.zeros(net.n_roads + 1, np.int64)
    np.cumsum(np.bincount(org.road[o], minlength=net.n_roads), out=ptr[1:])
    return o, ptr


def _same_road_pairs(
    net: Network, org: Snapped, fac: Snapped, weight: Weight, access_speed_kmh: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(origin, facility, cost) for pairs on the same road driven directly along it (pairs
    with a point at a node left out: :func:`_at_node`)."""
    f = np.flatnonzero(fac.ok & ~_at_node(fac))
    total = 0
    if f.size:
        # The origins on each facility's road: a run of the origins ordered by road (ordered
        # once per set of origins), not a pass over all of them.
        by_road, ptr = org._cached(net, ("by_road",), lambda: _origins_by_road(net, org))
        fr = fac.road[f]
        lo = ptr[fr]
        cnt = ptr[fr + 1] - lo
        total = int(cnt.sum())
    if not total:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0)
    fi = np.repeat(f, cnt)
    oi = by_road[np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)]
    r = np.repeat(fr, cnt)
    w = net.road_cost(weight)[r]
    dt = fac.frac[fi] - org.frac[oi]
    allowed = np.where(dt >= 0, net.road_fwd[r], net.road_bwd[r])
    allowed |= np.abs(dt) <= _AT_NODE
    acc = org.access_m[oi] + fac.access_m[fi]
    cost = (acc if weight == "length" else acc / (access_speed_kmh / 3.6)) + np.abs(dt) * w
    cost[~allowed] = np.inf
    return oi, fi, cost


def _origin_plan_perm(
    net: Network, ctr: _Contraction, org: Snapped, weight: Weight, access_speed_kmh: float
) -> tuple[np.ndarray, np.ndarray]:
    """The road-end nodes of :func:`_origin_plan` in the contracted sweep's node order."""
    _o, na, _ta, _both, nb, _tb = _origin_plan(net, org, weight, access_speed_kmh)
    return cast(
        "tuple[np.ndarray, np.ndarray]",
        org._cached(net, ("plan_perm", weight, float(access_speed_kmh)),
                    lambda: (ctr.perm[na], ctr.perm[nb])),
    )


def _sweep_whole(
    net: Network, w: Weight, facilities: Snapped, fid: np.ndarray, node: np.ndarray,
    cost: np.ndarray, limit: float,
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """The sweep on the whole graph: the cost of every node and its facility (a function of
    nodes; any label where the cost is inf).

    Seeds of cost 0 (facilities at nodes) are plain sources of the sweep; the others enter
    through one virtual source row per facility. With every facility at a node this is the
    plain call on the transposed graph.
    """
    n = net.n_nodes
    zero = cost == 0.0
    if not zero.any():
        ufac = np.flatnonzero(facilities.ok)  # every one has a seed
        g = _augmented(net, w, np.searchsorted(ufac, fid), node, cost, ufac.size)
        dist, _pred, src = dijkstra(
            g, directed=True, indices=np.arange(n, n + ufac.size), min_only=True, limit=limit,
            return_predecessors=True,
        )
        if ufac.size == len(facilities):  # the usual case: the rows are the facilities
            src -= n
            return dist, src.take
        return dist, lambda nodes: np.take(ufac, src[nodes] - n, mode="clip")
    if zero.all():  # every facility at a node: the plain call
        zn, zf = _first_at_node(node, fid)
        vf, g, indices = zn[:0], net.csr(w, transposed=True), zn
    else:
        zn, zf = _first_at_node(node[zero], fid[zero])
        rest = np.flatnonzero(~zero)
        vf, vrow = np.unique(fid[rest], return_inverse=True)
        g = _augmented(net, w, vrow, node[rest], cost[rest], vf.size)
        indices = np.concatenate([zn, np.arange(n, n + vf.size)])
    nv = vf.size
    dist, _pred, src = dijkstra(
        g, directed=True, indices=indices, min_only=True, limit=limit, return_predecessors=True
    )
    # The source that reached each node names its facility (scipy marks a node not reached
    # with a negative source: it gets any label, its cost is inf).
    label = np.empty(n + nv, np.int64)
    label[zn] = zf
    label[n:] = vf
    return dist, lambda nodes: label.take(src.take(nodes), mode="clip")


def prepare_sweeps(
    net: Network, origins: Snapped, *, weights: tuple[Weight, ...] = ("length", "time"),
    access_speed_kmh: float = 30.0, contract: Contract = "auto",
) -> None:
    """Build now what every :func:`nearest_facility` sweep from ``origins`` reuses.

    The contracted sweep graph (when it is used) and the origins' road-end terms are otherwise
    built by the first sweep; building them before forking worker processes lets the workers
    share them instead of each building its own. ``contract`` is that of the sweeps to come.
    """
    ctr = _sweep_contraction(net, contract)
    for weight in weights:
        w = _check_weight(weight)
        _origin_plan(net, origins, w, access_speed_kmh)  # keeps the origin terms too
        if ctr is not None:
            ctr.weighted(net, w)
            _origin_plan_perm(net, ctr, origins, w, access_speed_kmh)
    origins._cached(net, ("by_road",), lambda: _origins_by_road(net, origins))


def nearest_facility(
    net: Network,
    origins: Snapped,
    facilities: Snapped,
    *,
    weight: Weight = "length",
    limit: float | None = None,
    access_speed_kmh: float = 30.0,
    contract: Contract = "auto",
) -> Nearest:
    """Cost from every origin to its nearest facility, from one multi-source sweep.

    The sweep runs on the transposed graph from all facilities at once (compiled Dijkstra with
    ``min_only=True``), so the cost counts in the direction home → service and one-way roads
    are respected. Each facility enters the sweep through a virtual node linked to the ends of
    its road with the access leg and the part of the road to the snapped point (a facility
    exactly at a node, with no access leg, is a plain source of the sweep there); each origin
    adds its own access leg and the part of its road to either end. An origin and a facility on
    the same road also get the direct drive along it. Of facilities equally near, the one
    named may be any (of facilities at the same node, the lowest number).

    Parameters
    ----------
    net
        The network.
    origins, facilities
        Snapped points (:func:`snap_points`); points not snapped give ``inf``/``-1`` and are not
        used as facilities.
    weight
        ``"length"`` (metres; alias ``"distance"``) or ``"time"`` (seconds).
    limit
        Costs above this are ``inf`` (and the sweep stops there, which is much faster).
    access_speed_kmh
        Speed of the straight access legs when ``weight="time"``.
    contract
        Sweep the graph contracted to its junctions (``"always"``), the whole graph
        (``"never"``), or the contracted one where that is faster (``"auto"``: on large
        networks whose core is much smaller, and on smaller ones whose core is at most half of
        the nodes when there are few facilities). The costs are the same.

    Returns
    -------
    Nearest
        ``cost`` (n_origins,) and ``facility`` (n_origins,), ``-1`` where none is reached.
    """
    w = _check_weight(weight)
    n_o = len(origins)
    fid, node, seed_cost = _seeds(net, facilities, w, access_speed_kmh)
    lim = np.inf if limit is None else float(limit)
    if not fid.size:
        cost = np.full(n_o, np.inf)
        fac_idx = np.full(n_o, -1, np.int64)
    else:
        ctr = _sweep_contraction(net, contract, fid.size)
        o, na, to_a, both, nb, to_b = _origin_plan(net, origins, w, access_speed_kmh)
        facility_at: Callable[[np.ndarray], np.ndarray]
        if ctr is not None:
            dist, node_fac = ctr.sweep(net, w, fid, node, seed_cost, lim)
            na, nb = _origin_plan_perm(net, ctr, origins, w, access_speed_kmh)
            facility_at = node_fac.__getitem__
        else:
            dist, facility_at = _sweep_whole(net, w, facilities, fid, node, seed_cost, lim)
        ca = dist.take(na)
        ca += to_a
        fa = facility_at(na)
        if both.size == o.size:  # every origin can use either end: no gathers by ``both``
            cb = dist.take(nb)
            cb += to_b
            use_b = np.flatnonzero(cb < ca)
            ca[use_b] = cb[use_b]
            fa[use_b] = facility_at(nb[use_b])
        elif both.size:
            cb = dist.take(nb)
            cb += to_b
            better = np.flatnonzero(cb < ca[both])
            ca[both[better]] = cb[better]
            fa[both[better]] = facility_at(nb[better])
        if o.size == n_o:  # every origin snapped: o is 0..n-1
            cost, fac_idx = ca, fa
        else:
            cost = np.full(n_o, np.inf)
            fac_idx = np.full(n_o, -1, np.int64)
            cost[o] = ca
            fac_idx[o] = fa
        oi, fi, c = _same_road_pairs(net, origins, facilities, w, access_speed_kmh)
        if oi.size:
            _scatter_min(cost, fac_idx, oi, c, fi)
    if np.isfinite(lim):
        cost[cost > lim] = np.inf
    fac_idx[cost == np.inf] = -1
    return Nearest(cost=cost, facility=fac_idx, weight=w)

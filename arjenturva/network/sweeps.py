"""Nearest-facility sweeps (:func:`nearest_facility`) and the terms they share.

Facilities enter one multi-source sweep on the transposed graph as seeds at the ends of their
roads; each origin adds its access leg and the part of its road to either end, and an origin and
a facility on the same road also get the direct drive along it. The origins' terms are kept
with the snapped origins; :func:`prepare_sweeps` builds them ahead of worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .contraction import Contract, _Contraction, _sweep_contraction
from .kernels import _scatter_min
from .model import Network, Weight, _check_weight
from .snapping import Snapped


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


_AT_NODE = 1e-9
"""A snapped point this close to a road end (as a share of the road) is at that node."""


def _access_cost(s: Snapped, weight: str, access_speed_kmh: float) -> np.ndarray:
    if weight == "length":
        return s.access_m
    return s.access_m / (access_speed_kmh / 3.6)


def _seeds(
    net: Network, fac: Snapped, weight: Weight, access_speed_kmh: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(facility, node, cost) seeds of the reverse sweep: cost from a node to each facility."""
    f = np.flatnonzero(fac.ok)
    r = fac.road[f]
    w = net.road_cost(weight)[r]
    acc = _access_cost(fac, weight, access_speed_kmh)[f]
    frac = fac.frac[f]
    # Drive a -> point along the road (forward) or b -> point (backward); a point at a node
    # is reached from that node whatever the road's direction.
    fw = net.road_fwd[r] | (frac <= _AT_NODE)
    bw = net.road_bwd[r] | (frac >= 1 - _AT_NODE)
    to_a = acc + frac * w
    to_b = acc + (1 - frac) * w
    # One seed per (facility, node): a loop road (a == b) would give two; keep the cheaper.
    loop = fw & bw & (net.road_a[r] == net.road_b[r])
    if loop.any():
        to_a[loop] = np.minimum(to_a[loop], to_b[loop])
        bw &= ~loop
    fid = np.concatenate([f[fw], f[bw]])
    node = np.concatenate([net.road_a[r][fw], net.road_b[r][bw]]).astype(np.int64)
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


def _origins_by_road(org: Snapped) -> tuple[np.ndarray, np.ndarray]:
    """Snapped origins ordered by road: (origin index, road)."""
    o = np.flatnonzero(org.ok)
    o = o[np.argsort(org.road[o], kind="stable")]
    return o, org.road[o]


def _same_road_pairs(
    net: Network, org: Snapped, fac: Snapped, weight: Weight, access_speed_kmh: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(origin, facility, cost) for pairs on the same road driven directly along it."""
    f = np.flatnonzero(fac.ok)
    # The origins on each facility's road: a search in the origins sorted by road (sorted once
    # per set of origins), not a pass over all of them.
    by_road, roads = org._cached(net, ("by_road",), lambda: _origins_by_road(org))
    fr = fac.road[f]
    lo = np.searchsorted(roads, fr, side="left")
    cnt = np.searchsorted(roads, fr, side="right") - lo
    total = int(cnt.sum())
    if not total:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0)
    fi = np.repeat(f, cnt)
    oi = by_road[np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)]
    r = org.road[oi]
    w = net.road_cost(weight)[r]
    dt = fac.frac[fi] - org.frac[oi]
    allowed = np.where(dt >= 0, net.road_fwd[r], net.road_bwd[r])
    allowed |= np.abs(dt) <= _AT_NODE
    acc = org.access_m[oi] + fac.access_m[fi]
    cost = (acc if weight == "length" else acc / (access_speed_kmh / 3.6)) + np.abs(dt) * w
    cost = np.where(allowed, cost, np.inf)
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
    origins._cached(net, ("by_road",), lambda: _origins_by_road(origins))


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
    its road with the access leg and the part of the road to the snapped point; each origin adds
    its own access leg and the part of its road to either end. An origin and a facility on the
    same road also get the direct drive along it.

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
        if ctr is not None:
            dist, node_fac = ctr.sweep(net, w, fid, node, seed_cost, lim)
            na, nb = _origin_plan_perm(net, ctr, origins, w, access_speed_kmh)

            def facility_at(nodes: np.ndarray) -> np.ndarray:
                return cast("np.ndarray", node_fac[nodes])
        else:
            ufac = np.flatnonzero(facilities.ok)  # every one has a seed
            g = _augmented(net, w, np.searchsorted(ufac, fid), node, seed_cost, ufac.size)
            n = net.n_nodes
            dist, _pred, src = dijkstra(
                g, directed=True, indices=np.arange(n, n + ufac.size), min_only=True, limit=lim,
                return_predecessors=True,
            )

            def facility_at(nodes: np.ndarray) -> np.ndarray:
                # The virtual source row that reached each node is its facility; a node not
                # reached gets any label, as its cost is inf and its facility is reset below.
                return np.take(ufac, src[nodes] - n, mode="clip")
        ca = dist[na]
        ca += to_a
        fa = facility_at(na)
        if both.size == o.size:  # every origin can use either end: no gathers by ``both``
            cb = dist[nb]
            cb += to_b
            use_b = np.flatnonzero(cb < ca)
            ca[use_b] = cb[use_b]
            fa[use_b] = facility_at(nb[use_b])
        elif both.size:
            cb = dist[nb]
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
        _scatter_min(cost, fac_idx, oi, c, fi)
    if np.isfinite(lim):
        cost[cost > lim] = np.inf
    fac_idx[~np.isfinite(cost)] = -1
    return Nearest(cost=cost, facility=fac_idx, weight=w)

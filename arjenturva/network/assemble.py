"""From a table of roads to a :class:`~arjenturva.network.Network`.

Every reader produces ``_Roads`` (nodes, road polylines and attributes in EPSG:3067, nodes in
the source's order); :func:`_assemble` drops unused nodes, orders the rest along a Z-order
(Morton) curve, derives the directed edges and CSR matrices, and summarises the components.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse.csgraph import connected_components

from ..errors import NetworkError
from ..schema import CRS
from .kernels import _csr_min, _morton_order
from .model import Network, Progress
from .tags import _class_factor, _class_speed


@dataclass
class _Roads:
    """Roads before node reordering: node table, polylines and attributes."""

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    a: np.ndarray
    b: np.ndarray
    offsets: np.ndarray
    xy: np.ndarray
    fwd: np.ndarray
    bwd: np.ndarray
    length_m: np.ndarray
    speed_kmh: np.ndarray
    cls: np.ndarray


def _empty_roads() -> _Roads:
    z = np.zeros(0)
    zi = np.zeros(0, np.int64)
    return _Roads(zi, z, z, zi, zi, np.zeros(1, np.int64), np.zeros((0, 2)), z.astype(bool),
                  z.astype(bool), z, z, np.zeros(0, dtype=object))


def _subset_roads(r: _Roads, keep: np.ndarray) -> _Roads:
    idx = np.flatnonzero(keep)
    counts = np.diff(r.offsets)[idx]
    new_off = np.zeros(idx.size + 1, np.int64)
    np.cumsum(counts, out=new_off[1:])
    take = np.repeat(r.offsets[idx] - new_off[:-1], counts) + np.arange(new_off[-1])
    return _Roads(
        r.node_ids, r.x, r.y, r.a[idx], r.b[idx], new_off, r.xy[take], r.fwd[idx], r.bwd[idx],
        r.length_m[idx], r.speed_kmh[idx], np.asarray(r.cls)[idx],
    )


def _to_3067(lon: np.ndarray, lat: np.ndarray, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import CRS as PCRS
    from pyproj import Transformer

    src = PCRS.from_user_input(crs)
    if src.equals(PCRS.from_user_input(CRS)):
        return np.asarray(lon, float), np.asarray(lat, float)
    tr = Transformer.from_crs(src, CRS, always_xy=True)
    x, y = tr.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def _assemble(
    roads: _Roads, *, speeds: Mapping[str, float], source: str, progress: Progress | None
) -> Network:
    """Reorder nodes spatially, derive directed edges and CSR matrices, report components."""
    t0 = time.perf_counter()
    keep = (roads.fwd | roads.bwd) & np.isfinite(roads.length_m)
    if not keep.all():
        roads = _subset_roads(roads, keep)
    if roads.a.size == 0:
        msg = (
            f"{source}: no drivable roads found. Fix: give a road network file for the area "
            "(OSM drivable highways or a road line layer) as `network.source`"
        )
        raise NetworkError(msg)
    # Drop nodes that no road uses and reorder the rest along a Z-order curve.
    used = np.zeros(roads.node_ids.shape[0], bool)
    used[roads.a] = True
    used[roads.b] = True
    old = np.flatnonzero(used)
    order = old[_morton_order(roads.x[old], roads.y[old])]
    new_of_old = np.full(roads.node_ids.shape[0], -1, np.int64)
    new_of_old[order] = np.arange(order.size)
    n = int(order.size)
    idx_dtype = np.int32 if n < np.iinfo(np.int32).max else np.int64
    node_ids = roads.node_ids[order].astype(np.int64)
    x = roads.x[order].astype(np.float64)
    y = roads.y[order].astype(np.float64)
    ra = new_of_old[roads.a].astype(idx_dtype)
    rb = new_of_old[roads.b].astype(idx_dtype)

    # Classes and speeds.
    cls_str = np.asarray(roads.cls).astype(str)
    class_names, road_class = np.unique(cls_str, return_inverse=True)
    speed = roads.speed_kmh.astype(np.float64).copy()
    bad = ~np.isfinite(speed) | (speed <= 0)
    if bad.any():
        cls_speed = np.array([_class_speed(c, speeds) for c in class_names])
        speed[bad] = cls_speed[road_class[bad]]
    length = roads.length_m.astype(np.float64)
    time_s = length / (speed / 3.6)

    # Directed edges: forward along the polyline, backward against it.
    rid = np.arange(ra.size, dtype=np.int64)
    f, b = np.flatnonzero(roads.fwd), np.flatnonzero(roads.bwd)
    eu = np.concatenate([ra[f], rb[b]])
    ev = np.concatenate([rb[f], ra[b]])
    er = np.concatenate([rid[f], rid[b]])
    erev = np.concatenate([np.zeros(f.size, bool), np.ones(b.size, bool)])
    eorder = np.lexsort((ev, eu))
    eu, ev, er, erev = eu[eorder], ev[eorder], er[eorder], erev[eorder]
    edge_len = length[er]
    edge_time = time_s[er]
    csr_l, csr_t = _csr_min(eu, ev, edge_len, edge_time, n)
    csr_lt, csr_tt = _csr_min(ev, eu, edge_len, edge_time, n)
    if progress:
        progress(f"network: {n:,} nodes, {eu.size:,} directed edges")

    ncomp, labels = connected_components(csr_l, directed=True, connection="weak")
    net = Network(
        node_ids=node_ids, x=x, y=y, road_a=ra, road_b=rb,
        road_fwd=roads.fwd.astype(bool), road_bwd=roads.bwd.astype(bool),
        road_length_m=length, road_time_s=time_s, road_class=road_class.astype(np.int16),
        road_offsets=roads.offsets.astype(np.int64), road_xy=roads.xy.astype(np.float64),
        class_names=tuple(str(c) for c in class_names),
        edge_u=eu.astype(idx_dtype), edge_v=ev.astype(idx_dtype), edge_length_m=edge_len,
        edge_time_s=edge_time, edge_class=road_class[er].astype(np.int16),
        edge_road=er.astype(idx_dtype), edge_reversed=erev,
        csr_length=csr_l, csr_time=csr_t, csr_length_t=csr_lt, csr_time_t=csr_tt,
        component=labels.astype(np.int32),
        info={},
    )
    net.info.update(_summary(net, ncomp))
    net.info.update(source=source, cache_path=None, from_cache=False,
                    seconds=round(time.perf_counter() - t0, 3))
    return net


def _with_speed_factors(net: Network, factors: Mapping[str, float] | None) -> Network:
    """The network driven at a share of its speeds: each road's time divided by its class's factor.

    ``factors`` maps a road class (``net.class_names``) to its factor; other classes take
    ``factors["default"]``, else 1. ``info["speed_factors"]`` records the factor of every class.
    When every factor is 1 the network is returned as it is, so its times are exactly those of
    the speeds.
    """
    per_class = np.array([_class_factor(c, factors or {}) for c in net.class_names], float)
    applied = {c: float(f) for c, f in zip(net.class_names, per_class, strict=True)}
    if np.all(per_class == 1.0):
        net.info["speed_factors"] = applied
        return net
    road_time = net.road_time_s / per_class[net.road_class]
    edge_time = road_time[net.edge_road]
    # Same pairs as the length matrices (the structure depends on the edges only).
    _, csr_t = _csr_min(net.edge_u, net.edge_v, net.edge_length_m, edge_time, net.n_nodes)
    _, csr_tt = _csr_min(net.edge_v, net.edge_u, net.edge_length_m, edge_time, net.n_nodes)
    return dataclasses.replace(
        net, road_time_s=road_time, edge_time_s=edge_time, csr_time=csr_t, csr_time_t=csr_tt,
        info={**net.info, "speed_factors": applied},
    )


def _summary(net: Network, ncomp: int | None = None) -> dict[str, Any]:
    labels = net.component
    if ncomp is None:
        ncomp = int(labels.max()) + 1 if labels.size else 0
    sizes = np.bincount(labels, minlength=ncomp) if labels.size else np.zeros(0, np.int64)
    largest = int(np.argmax(sizes)) if sizes.size else -1
    km = float(net.road_length_m.sum() / 1000.0)
    outside = labels[net.road_a] != largest
    ferry = np.isin(net.road_class, [i for i, c in enumerate(net.class_names) if c in ("ferry", "LOSSI")])
    oneway = net.road_fwd != net.road_bwd
    return {
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "roads": net.n_roads,
        "km": round(km, 3),
        "components": int(ncomp),
        "largest_nodes": int(sizes[largest]) if largest >= 0 else 0,
        "largest_share": float(sizes[largest] / max(net.n_nodes, 1)) if largest >= 0 else 0.0,
        "km_outside_largest": round(float(net.road_length_m[outside].sum() / 1000.0), 3),
        "oneway_roads": int(oneway.sum()),
        "ferry_km": round(float(net.road_length_m[ferry].sum() / 1000.0), 3),
        "classes": {c: int(n) for c, n in zip(net.class_names, np.bincount(
            net.road_class, minlength=len(net.class_names)), strict=True)},
        "crs": CRS,
    }

"""Road network: sources, projection, cache and the shortest-path engine (design.md §4).

A network is built once from a source (an OSM file, a road line layer, a GraphML file or a place
name), projected to EPSG:3067 and turned into plain arrays:

* **nodes**: ``node_ids`` (the source's ids) ↔ row index, ``x``/``y`` in metres, ordered along a
  Z-order (Morton) curve so that nearby nodes have nearby indices;
* **roads**: one polyline per road piece between two nodes (``road_a`` → ``road_b``), with the
  directions it may be driven (``road_fwd``, ``road_bwd``), its length, travel time and class;
* **edges**: the directed edges derived from the roads; both directions of a two-way road point to
  the same road (``edge_road``), so a geometry is stored once;
* **CSR matrices** of length and time (and their transposes) built once, keeping the *minimum* of
  parallel edges.

Nearest-facility costs come from one multi-source Dijkstra sweep per facility set in compiled
code (:func:`scipy.sparse.csgraph.dijkstra` with ``min_only=True``) on the transposed graph, so
the cost counts from home to the service. On large networks the sweep runs on the junctions
only (dead-end trees and chains of degree-two nodes contracted, built once per network) and
the other nodes' costs follow exactly from their ends (see ``_Contraction``). Points snap to
the nearest point *on* the nearest road; the straight access leg is added and the network part
continues along the road to its ends.

Unreachable is ``np.inf`` and "no facility" is ``-1``; never a magic number.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import tempfile
import time
import weakref
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components, dijkstra
from scipy.spatial import cKDTree

from .config import DEFAULT_SPEEDS_KMH, NetworkConfig
from .errors import NetworkError, OfflineError
from .schema import CRS

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx

__all__ = [
    "CACHE_FORMAT_VERSION",
    "DRIVABLE_HIGHWAYS",
    "NLS_CLASS_SPEEDS_KMH",
    "Nearest",
    "Network",
    "Snapped",
    "build_network",
    "cost_matrix",
    "edges_geodataframe",
    "load_network_source",
    "nearest_facility",
    "network_from_graph",
    "network_from_lines",
    "network_info",
    "parse_maxspeed",
    "snap_points",
]

CACHE_FORMAT_VERSION = 1
"""Bump when the cache layout or the meaning of a stored array changes."""

DRIVABLE_HIGHWAYS: frozenset[str] = frozenset(
    {
        "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
        "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
        "residential", "living_street", "service", "road",
    }
)
"""OSM ``highway`` values kept as drivable roads (tracks, paths, footways and cycleways are not)."""

NLS_CLASS_SPEEDS_KMH: dict[str, float] = {
    "MOOTTORIT": 120.0,  # motorway
    "VALTAT": 100.0,  # main road (valtatie)
    "MAANT": 80.0,  # regional road (maantie, kantatie)
    "PAIKALLIST": 70.0,  # local road (paikallistie)
    "LOSSI": 10.0,  # ferry (lossi)
}
"""Speeds for the ``DXF_LAYER`` classes of the NLS (MML) general map road layer."""

_OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.xml", ".osm.gz")
_PBF_SUFFIXES = (".osm.pbf", ".pbf")
_GRAPHML_SUFFIXES = (".graphml", ".graphml.gz")
_LINE_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".parquet", ".geoparquet", ".zip")

_ONEWAY_FWD = {"yes", "true", "1", "forward", "ft", "f", "oneway"}
_ONEWAY_BWD = {"-1", "reverse", "backward", "tf", "t"}

_OSM_WAY_TAGS = [
    "highway", "route", "oneway", "junction", "maxspeed", "access", "motor_vehicle", "motorcar",
    "area", "service", "name", "ref",
]

Weight = Literal["length", "time", "distance"]
Progress = Callable[[str], None]


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Network:
    """A routable road network as arrays (EPSG:3067).

    Node, road and edge arrays are index-aligned; indices are ``int32``/``int64`` row numbers,
    and ``node_ids`` maps a node row back to the source's id (OSM node id, GraphML node id, or a
    running number for line layers).

    Attributes
    ----------
    node_ids
        Source id of each node, ``int64`` (n_nodes,).
    x, y
        Node coordinates in EPSG:3067 metres.
    road_a, road_b
        Start and end node (row index) of each road polyline.
    road_fwd, road_bwd
        Whether the road may be driven from ``a`` to ``b`` and from ``b`` to ``a``.
    road_length_m, road_time_s
        Length (metres) and travel time (seconds) of each road, the same in both directions.
    road_class
        Index into ``class_names`` (for example ``"residential"``, ``"ferry"`` or ``"VALTAT"``).
    road_offsets, road_xy
        Polylines: the vertices of road ``r`` are ``road_xy[road_offsets[r]:road_offsets[r+1]]``,
        running from node ``a`` to node ``b``.
    class_names
        Road class labels.
    edge_u, edge_v, edge_length_m, edge_time_s, edge_class
        Directed edges (one per drivable direction of a road).
    edge_road, edge_reversed
        The road an edge runs along, and whether it runs against the road's vertex order.
    csr_length, csr_time
        ``n × n`` CSR matrices of the directed graph (minimum over parallel edges).
    csr_length_t, csr_time_t
        Their transposes, for sweeps from facilities back to homes.
    info
        Summary: nodes, edges, roads, km, components, largest_nodes, largest_share,
        km_outside_largest, source, cache_path, from_cache, seconds.
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    road_a: np.ndarray
    road_b: np.ndarray
    road_fwd: np.ndarray
    road_bwd: np.ndarray
    road_length_m: np.ndarray
    road_time_s: np.ndarray
    road_class: np.ndarray
    road_offsets: np.ndarray
    road_xy: np.ndarray
    class_names: tuple[str, ...]
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_time_s: np.ndarray
    edge_class: np.ndarray
    edge_road: np.ndarray
    edge_reversed: np.ndarray
    csr_length: sp.csr_array
    csr_time: sp.csr_array
    csr_length_t: sp.csr_array
    csr_time_t: sp.csr_array
    component: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_ids.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.edge_u.shape[0])

    @property
    def n_roads(self) -> int:
        """Number of road polylines."""
        return int(self.road_a.shape[0])

    def node_index(self, ids: np.ndarray | list[int] | int) -> np.ndarray:
        """Row indices of source node ids (``-1`` for ids not in the network)."""
        q = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        order = self._id_order
        pos = np.searchsorted(self.node_ids, q, sorter=order)
        pos = np.clip(pos, 0, max(self.n_nodes - 1, 0))
        idx = order[pos] if self.n_nodes else np.zeros_like(q)
        found = self.n_nodes > 0
        ok = (self.node_ids[idx] == q) if found else np.zeros(q.shape, bool)
        return np.where(ok, idx, -1).astype(np.int64)

    def csr(self, weight: Weight, *, transposed: bool = False) -> sp.csr_array:
        """The CSR matrix for ``"length"`` (alias ``"distance"``) or ``"time"``."""
        w = _check_weight(weight)
        if w == "length":
            return self.csr_length_t if transposed else self.csr_length
        return self.csr_time_t if transposed else self.csr_time

    def road_cost(self, weight: Weight) -> np.ndarray:
        """Per-road cost in the unit of ``weight`` (metres or seconds)."""
        return self.road_length_m if _check_weight(weight) == "length" else self.road_time_s

    @cached_property
    def _id_order(self) -> np.ndarray:
        return np.argsort(self.node_ids, kind="stable")

    @cached_property
    def _snap_index(self) -> _SnapIndex:
        return _SnapIndex.build(self.road_offsets, self.road_xy)

    @cached_property
    def _contraction(self) -> _Contraction:
        return _Contraction.build(self)

    @cached_property
    def _cost_per_metre(self) -> dict[str, float]:
        """The lowest cost per metre of road polyline, per weight.

        Any drive from a node to a point on a road costs at least this times their straight-line
        distance (a road is at least as long as its chord), so nodes farther than ``limit /
        factor`` from a target cannot be within ``limit`` of it. 0 when some road costs nothing.
        """
        glen = _polyline_lengths(self.road_offsets, self.road_xy)
        m = glen > 0
        out = {}
        for w in ("length", "time"):
            cost = self.road_cost(cast(Weight, w))
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = cost[m] / glen[m]
            f = float(np.min(ratio)) if ratio.size else 0.0
            out[w] = f * (1 - 1e-9) if np.isfinite(f) and f > 0 else 0.0
        return out


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


# --------------------------------------------------------------------------------------------
# Speeds and tags
# --------------------------------------------------------------------------------------------

_NUM_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(mph|km/h|kmh|kph|knots)?\s*$", re.IGNORECASE)


def parse_maxspeed(value: Any, *, speeds: Mapping[str, float] | None = None) -> float:
    """Parse an OSM ``maxspeed`` value to km/h.

    Accepts ``"50"``, ``"50 km/h"``, ``"30 mph"``, lists such as ``"50;80"`` or ``["50", "80"]``
    (the minimum is taken), and Finnish zone values ``"FI:urban"`` (urban speed) and
    ``"FI:rural"`` (rural speed) from ``speeds``.

    Parameters
    ----------
    value
        The tag value; ``None``, ``nan`` and unparsable text give ``nan``.
    speeds
        Speeds per class (``urban``, ``rural``, ``motorway``, ``living_street``); defaults to
        :data:`arjenturva.config.DEFAULT_SPEEDS_KMH`.

    Returns
    -------
    float
        Speed in km/h, or ``nan`` when unknown.
    """
    sp_ = speeds or DEFAULT_SPEEDS_KMH
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple, np.ndarray)):
        vals = [parse_maxspeed(v, speeds=sp_) for v in value]
        vals = [v for v in vals if v == v]
        return min(vals) if vals else math.nan
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return v if v > 0 else math.nan
    text = str(value).strip()
    if ";" in text or "|" in text:
        return parse_maxspeed(re.split(r"[;|]", text), speeds=sp_)
    m = _NUM_RE.match(text)
    if m:
        v = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "").lower()
        if unit == "mph":
            v *= 1.609344
        elif unit == "knots":
            v *= 1.852
        return v if v > 0 else math.nan
    low = text.lower()
    zone = low.split(":", 1)[1] if ":" in low else low
    aliases = {"urban": "urban", "rural": "rural", "motorway": "motorway", "living_street": "living_street"}
    if zone in aliases and aliases[zone] in sp_:
        return float(sp_[aliases[zone]])
    if zone == "walk":
        return 5.0
    return math.nan


def _is_drivable(tags: Mapping[str, Any]) -> str | None:
    """The road class of a drivable way or ferry (``"ferry"``), else ``None``."""

    def get(key: str) -> str:
        v = tags.get(key)
        if isinstance(v, list):
            v = v[0] if v else None
        if v is None or (isinstance(v, float) and v != v):
            return ""
        return str(v)

    if get("area") == "yes":
        return None
    if get("motor_vehicle") == "no" or get("motorcar") == "no":
        return None
    if get("access") == "no" and get("motor_vehicle") not in ("yes", "designated") and get(
        "motorcar"
    ) not in ("yes", "designated"):
        return None
    if get("route") == "ferry":
        return "ferry"
    hw = get("highway")
    return hw if hw in DRIVABLE_HIGHWAYS else None


def _oneway_code(tags: Mapping[str, Any]) -> int:
    """``1`` forward only, ``-1`` backward only, ``0`` both ways."""
    ow = str(tags.get("oneway") or "").strip().lower()
    if ow in ("yes", "true", "1"):
        return 1
    if ow in ("-1", "reverse"):
        return -1
    if ow in ("no", "false", "0"):
        return 0
    if str(tags.get("junction") or "") in ("roundabout", "circular"):
        return 1
    return 0


def _class_speed(cls: str, speeds: Mapping[str, float]) -> float:
    if cls in speeds:
        return float(speeds[cls])
    return float(speeds.get("default", DEFAULT_SPEEDS_KMH["default"]))


# --------------------------------------------------------------------------------------------
# Intermediate road table and assembly
# --------------------------------------------------------------------------------------------


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


def _polyline_lengths(offsets: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Length of each polyline in a ragged coordinate array."""
    if xy.shape[0] == 0:
        return np.zeros(offsets.shape[0] - 1)
    d = np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1]))
    cum = np.concatenate([[0.0], np.cumsum(d)])
    return cum[offsets[1:] - 1] - cum[offsets[:-1]]


def _morton_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Permutation that sorts points along a Z-order (Morton) curve."""
    if x.size == 0:
        return np.zeros(0, np.int64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = v & np.uint64(0xFFFFFFFF)
        v = (v | (v << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x3333333333333333)
        v = (v | (v << np.uint64(1))) & np.uint64(0x5555555555555555)
        return v

    span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-9)
    scale = (2**20 - 1) / span
    qx = ((x - x.min()) * scale).astype(np.uint64)
    qy = ((y - y.min()) * scale).astype(np.uint64)
    code = spread(qx) | (spread(qy) << np.uint64(1))
    return np.argsort(code, kind="stable")


def _csr_min(
    u: np.ndarray, v: np.ndarray, w_len: np.ndarray, w_time: np.ndarray, n: int
) -> tuple[sp.csr_array, sp.csr_array]:
    """CSR matrices of length and time keeping the minimum of parallel edges (not their sum).

    Explicit zero weights stay stored entries, which :mod:`scipy.sparse.csgraph` treats as edges.
    Self-loops are dropped (they never shorten a path).
    """
    keep = u != v
    u, v, wl, wt = u[keep].astype(np.int64), v[keep].astype(np.int64), w_len[keep], w_time[keep]
    key = u * max(n, 1) + v
    order = np.argsort(key, kind="stable")
    key_s = key[order]
    starts = np.flatnonzero(np.r_[True, key_s[1:] != key_s[:-1]]) if key_s.size else np.zeros(0, np.int64)
    uu = u[order][starts]
    vv = v[order][starts].astype(np.int32)
    ml = np.minimum.reduceat(wl[order], starts).astype(np.float64) if starts.size else np.zeros(0)
    mt = np.minimum.reduceat(wt[order], starts).astype(np.float64) if starts.size else np.zeros(0)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(uu, minlength=n), out=indptr[1:])
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    a = sp.csr_array((ml, vv, indptr), shape=(n, n))
    b = sp.csr_array((mt, vv, indptr), shape=(n, n))
    return a, b


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


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in (*_PBF_SUFFIXES, *_OSM_SUFFIXES, *_GRAPHML_SUFFIXES, *_LINE_SUFFIXES):
        if name.endswith(s):
            return s
    return path.suffix.lower()


def _to_3067(lon: np.ndarray, lat: np.ndarray, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import CRS as PCRS
    from pyproj import Transformer

    src = PCRS.from_user_input(crs)
    if src.equals(PCRS.from_user_input(CRS)):
        return np.asarray(lon, float), np.asarray(lat, float)
    tr = Transformer.from_crs(src, CRS, always_xy=True)
    x, y = tr.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def _roads_from_ways(
    ref: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    way_offsets: np.ndarray,
    way_cls: np.ndarray,
    way_oneway: np.ndarray,
    way_speed: np.ndarray,
) -> _Roads:
    """Split OSM ways (vertex refs and projected coordinates) into roads between junctions."""
    nway = way_offsets.size - 1
    way_of = np.repeat(np.arange(nway), np.diff(way_offsets))
    # Drop consecutive duplicate vertices within a way.
    dup = np.zeros(ref.size, bool)
    if ref.size > 1:
        dup[1:] = (ref[1:] == ref[:-1]) & (way_of[1:] == way_of[:-1])
    if dup.any():
        ref, x, y, way_of = ref[~dup], x[~dup], y[~dup], way_of[~dup]
    counts = np.bincount(way_of, minlength=nway)
    offs = np.zeros(nway + 1, np.int64)
    np.cumsum(counts, out=offs[1:])
    good_way = counts >= 2
    first = np.zeros(ref.size, bool)
    last = np.zeros(ref.size, bool)
    first[offs[:-1][good_way]] = True
    last[offs[1:][good_way] - 1] = True
    valid = good_way[way_of]
    _, inv, cnt = np.unique(ref[valid], return_inverse=True, return_counts=True)
    shared = np.zeros(ref.size, bool)
    shared[valid] = cnt[inv] > 1
    brk = valid & (first | last | shared)
    brk_pos = np.flatnonzero(brk)
    starts = np.flatnonzero(brk & ~last)
    ends = brk_pos[np.searchsorted(brk_pos, starts, side="right")]
    nv = ends - starts + 1
    roff = np.zeros(starts.size + 1, np.int64)
    np.cumsum(nv, out=roff[1:])
    take = np.repeat(starts - roff[:-1], nv) + np.arange(roff[-1])
    xy = np.column_stack([x[take], y[take]])
    node_ids, node_inv = np.unique(np.concatenate([ref[starts], ref[ends]]), return_inverse=True)
    a = node_inv[: starts.size]
    b = node_inv[starts.size:]
    nx_ = np.empty(node_ids.size)
    ny_ = np.empty(node_ids.size)
    nx_[a], ny_[a] = x[starts], y[starts]
    nx_[b], ny_[b] = x[ends], y[ends]
    w = way_of[starts]
    ow = way_oneway[w]
    length = _polyline_lengths(roff, xy)
    return _Roads(
        node_ids=node_ids.astype(np.int64), x=nx_, y=ny_, a=a, b=b, offsets=roff, xy=xy,
        fwd=ow >= 0, bwd=ow <= 0, length_m=length, speed_kmh=way_speed[w].astype(float),
        cls=np.asarray(way_cls, dtype=object)[w],
    )


def _read_pbf(path: Path, speeds: Mapping[str, float], progress: Progress | None) -> _Roads:
    """Drivable ways and ferries from an OSM PBF (or any file libosmium reads) with pyosmium."""
    import osmium

    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    offsets = [0]
    cls: list[str] = []
    oneway: list[int] = []
    speed: list[float] = []

    def close_run(c: str, o: int, s: float) -> None:
        if len(refs) - offsets[-1] >= 2:
            offsets.append(len(refs))
            cls.append(c)
            oneway.append(o)
            speed.append(s)
        else:  # a run of fewer than two vertices is no road
            del refs[offsets[-1]:], lons[offsets[-1]:], lats[offsets[-1]:]

    try:
        fp = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway", "route"))
        )
        # The entity filter passes ways only.
        for w in cast("Iterator[osmium.osm.Way]", fp):
            tags = {k: w.tags.get(k) for k in _OSM_WAY_TAGS if k in w.tags}
            c = _is_drivable(tags)
            if c is None:
                continue
            o = _oneway_code(tags)
            s = parse_maxspeed(tags.get("maxspeed"), speeds=speeds)
            for nd in w.nodes:
                loc = nd.location
                if loc.valid():
                    refs.append(nd.ref)
                    lons.append(loc.lon)
                    lats.append(loc.lat)
                else:  # vertex outside the extract: split the way here
                    close_run(c, o, s)
            close_run(c, o, s)
    except NetworkError:
        raise
    except Exception as e:  # libosmium raises RuntimeError for corrupt input
        msg = (
            f"{path}: cannot read the OSM file ({str(e).splitlines()[0] if str(e) else type(e).__name__}). "
            "Fix: check the file is a complete .osm.pbf download (e.g. from Geofabrik) and not truncated"
        )
        raise NetworkError(msg) from e
    if progress:
        progress(f"network: read {len(cls):,} drivable ways from {path.name}")
    if not cls:
        return _empty_roads()
    ref = np.asarray(refs, np.int64)
    x, y = _to_3067(np.asarray(lons), np.asarray(lats), "EPSG:4326")
    return _roads_from_ways(
        ref, x, y, np.asarray(offsets, np.int64), np.asarray(cls, dtype=object),
        np.asarray(oneway, np.int8), np.asarray(speed, float),
    )


def _empty_roads() -> _Roads:
    z = np.zeros(0)
    zi = np.zeros(0, np.int64)
    return _Roads(zi, z, z, zi, zi, np.zeros(1, np.int64), np.zeros((0, 2)), z.astype(bool),
                  z.astype(bool), z, z, np.zeros(0, dtype=object))


@contextlib.contextmanager
def _osmnx_settings(**overrides: Any) -> Iterator[Any]:
    """Temporarily change osmnx's global settings (restored afterwards)."""
    import osmnx as ox

    old = {k: getattr(ox.settings, k) for k in overrides}
    try:
        for k, v in overrides.items():
            setattr(ox.settings, k, v)
        yield ox
    finally:
        for k, v in old.items():
            setattr(ox.settings, k, v)


def _filter_osm_graph(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Keep drivable highway edges and ferries of an osmnx graph; drop nodes left isolated."""
    drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if _is_drivable(d) is None]
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n, deg in G.degree() if deg == 0])
    return G


def _read_osm_xml(path: Path, speeds: Mapping[str, float], progress: Progress | None) -> _Roads:
    """OSM XML (``.osm``, ``.osm.bz2``) through :func:`osmnx.graph_from_xml`.

    ``graph_from_xml`` applies no tag filter: every way of the file becomes edges, ferries
    (``route=ferry``) included, so drivable highways and ferries are selected here.
    """
    import xml.etree.ElementTree as ET
    import xml.sax

    tags = sorted(set(_OSM_WAY_TAGS))
    with _osmnx_settings(useful_tags_way=tags, log_console=False) as ox:
        try:
            G = ox.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=False)
        except xml.sax.SAXParseException as e:
            msg = (
                f"{path}: not valid OSM XML (line {e.getLineNumber()}, column {e.getColumnNumber()}: "
                f"{e.getMessage()}). Fix: download the file again or export it anew (JOSM, Overpass)"
            )
            raise NetworkError(msg) from e
        except ET.ParseError as e:
            msg = (
                f"{path}: not valid OSM XML ({e}). "
                "Fix: download the file again or export it anew (JOSM, Overpass)"
            )
            raise NetworkError(msg) from e
        except (EOFError, OSError, KeyError, ValueError) as e:
            msg = (
                f"{path}: cannot read the OSM XML file ({type(e).__name__}: {e}). Fix: check the file "
                "is complete OSM XML (a truncated .bz2 or a missing node breaks it)"
            )
            raise NetworkError(msg) from e
        except Exception as e:  # osmnx raises its own error when the file holds no data
            if type(e).__name__ in ("InsufficientResponseError", "EmptyOverpassResponse"):
                return _empty_roads()
            raise
        G = _filter_osm_graph(G)
        if G.number_of_edges() == 0:
            return _empty_roads()
        G = ox.simplify_graph(G, edge_attrs_differ=["highway", "route", "maxspeed"], remove_rings=False)
    if progress:
        progress(f"network: {path.name}: {len(G):,} nodes after osmnx simplification")
    return _roads_from_nx(G, speeds=speeds, keep_length=False, source=str(path))


def _read_graphml(path: Path, speeds: Mapping[str, float], progress: Progress | None) -> _Roads:
    import osmnx as ox

    try:
        G = ox.load_graphml(path)
    except Exception as e:  # lxml/networkx raise many types for a broken file
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = (f"{path}: cannot read the GraphML file ({text}). "
               "Fix: check it is GraphML saved by osmnx or networkx")
        raise NetworkError(msg) from e
    if progress:
        progress(f"network: read {len(G):,} nodes from {path.name}")
    return _roads_from_nx(G, speeds=speeds, keep_length=True, source=str(path))


def _roads_from_nx(
    G: nx.MultiDiGraph | nx.DiGraph | nx.Graph, *, speeds: Mapping[str, float], keep_length: bool,
    source: str,
) -> _Roads:
    """Roads from a networkx graph with node ``x``/``y`` and a graph ``crs``.

    A directed edge and its reverse twin (same end nodes, same length and class) become one
    two-way road; an edge without a twin is a one-way road. Undirected graphs give two-way roads.
    """
    crs = G.graph.get("crs")
    if crs is None:
        msg = (
            f"{source}: the graph has no CRS (graph attribute `crs`). Fix: save it with osmnx "
            "(it records `crs`), or set G.graph['crs'] = 'epsg:4326' before saving"
        )
        raise NetworkError(msg)
    nodes = list(G.nodes)
    if not nodes:
        return _empty_roads()
    try:
        node_ids = np.asarray(nodes, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        node_ids = np.arange(len(nodes), dtype=np.int64)
    pos = {n: i for i, n in enumerate(nodes)}
    try:
        lon = np.asarray([float(G.nodes[n]["x"]) for n in nodes])
        lat = np.asarray([float(G.nodes[n]["y"]) for n in nodes])
    except KeyError as e:
        msg = f"{source}: graph nodes lack `x`/`y` coordinates. Fix: build the graph with osmnx"
        raise NetworkError(msg) from e
    x, y = _to_3067(lon, lat, crs)

    directed = G.is_directed()
    multi = G.is_multigraph()
    edges = list(G.edges(keys=True, data=True)) if multi else [(u, v, 0, d) for u, v, d in G.edges(data=True)]
    lens = np.array([float(d["length"]) if d.get("length") is not None else np.nan for *_, d in edges])
    classes = []
    for *_, d in edges:
        c = _is_drivable(d) if ("highway" in d or "route" in d) else None
        if c is None:
            hw = d.get("highway")
            hw = hw[0] if isinstance(hw, list) and hw else hw
            c = str(hw) if hw else "default"
        classes.append(c)
    # Pair each directed edge with an unused reverse twin.
    by_pair: dict[tuple[Any, Any], list[int]] = {}
    for i, (u, v, _k, _d) in enumerate(edges):
        by_pair.setdefault((u, v), []).append(i)
    used = np.zeros(len(edges), bool)
    twin = np.full(len(edges), -1, np.int64)
    if directed:
        for i, (u, v, _k, _d) in enumerate(edges):
            if used[i]:
                continue
            used[i] = True
            for j in by_pair.get((v, u), ()):
                if used[j] or classes[j] != classes[i]:
                    continue
                li, lj = lens[i], lens[j]
                same = (np.isnan(li) and np.isnan(lj)) or abs(li - lj) <= 1e-6 * max(1.0, abs(li))
                if same:
                    used[j] = True
                    twin[i] = j
                    break
    twin_targets = set(twin[twin >= 0].tolist())
    road_edges = [i for i in range(len(edges)) if i not in twin_targets]

    coords: list[np.ndarray] = []
    a_idx = np.empty(len(road_edges), np.int64)
    b_idx = np.empty(len(road_edges), np.int64)
    for r, i in enumerate(road_edges):
        u, v, _k, d = edges[i]
        a_idx[r], b_idx[r] = pos[u], pos[v]
        geom = d.get("geometry")
        if geom is not None and hasattr(geom, "coords"):
            pts = np.asarray(geom.coords, float)[:, :2]
            if not directed and np.hypot(pts[0, 0] - lon[pos[u]], pts[0, 1] - lat[pos[u]]) > np.hypot(
                pts[-1, 0] - lon[pos[u]], pts[-1, 1] - lat[pos[u]]
            ):
                pts = pts[::-1]
        else:
            pts = np.array([[lon[pos[u]], lat[pos[u]]], [lon[pos[v]], lat[pos[v]]]])
        coords.append(pts)
    counts = np.array([c.shape[0] for c in coords], np.int64)
    offs = np.zeros(len(coords) + 1, np.int64)
    np.cumsum(counts, out=offs[1:])
    allc = np.concatenate(coords) if coords else np.zeros((0, 2))
    gx, gy = _to_3067(allc[:, 0], allc[:, 1], crs)
    xy = np.column_stack([gx, gy])
    # Snap polyline ends exactly onto their nodes (projected geometry may differ by rounding).
    xy[offs[:-1]] = np.column_stack([x[a_idx], y[a_idx]])
    xy[offs[1:] - 1] = np.column_stack([x[b_idx], y[b_idx]])
    geom_len = _polyline_lengths(offs, xy)
    sel = np.asarray(road_edges, np.int64)
    length = lens[sel] if sel.size else np.zeros(0)
    length = np.where(np.isfinite(length), length, geom_len) if keep_length else geom_len
    speed = np.array([parse_maxspeed(edges[i][3].get("maxspeed"), speeds=speeds) for i in road_edges])
    fwd = np.ones(sel.size, bool)
    bwd = (twin[sel] >= 0) if directed else np.ones(sel.size, bool)
    return _Roads(
        node_ids=node_ids, x=x, y=y, a=a_idx, b=b_idx, offsets=offs, xy=xy, fwd=fwd, bwd=bwd,
        length_m=length, speed_kmh=speed, cls=np.asarray([classes[i] for i in road_edges], dtype=object),
    )


def _read_lines_file(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pyogrio

    kwargs: dict[str, Any] = {}
    suffix = _suffix(path)
    if suffix in (".parquet", ".geoparquet"):
        try:
            return gpd.read_parquet(path)
        except Exception as e:
            msg = f"{path}: cannot read the GeoParquet file ({e}). Fix: check it opens in QGIS"
            raise NetworkError(msg) from e
    src: Any = f"zip://{path}" if suffix == ".zip" else path
    try:
        layers = pyogrio.list_layers(src)
    except Exception as e:
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = f"{path}: cannot read the road layer file ({text}). Fix: check it opens in QGIS"
        raise NetworkError(msg) from e
    names = [str(n) for n in layers[:, 0]]
    if layer is not None:
        if layer not in names:
            msg = (
                f"{path}: layer '{layer}' not found (layers: {', '.join(names)}). "
                "Fix: set `network.layer` to one of them"
            )
            raise NetworkError(msg)
        kwargs["layer"] = layer
    elif len(names) > 1:
        line_layers = [str(n) for n, g in layers if "line" in str(g).lower()]
        if len(line_layers) == 1:
            kwargs["layer"] = line_layers[0]
        else:
            msg = (
                f"{path}: holds several layers ({', '.join(names)}). "
                "Fix: set `network.layer` to the road layer"
            )
            raise NetworkError(msg)
    try:
        return gpd.read_file(src, **kwargs)
    except Exception as e:
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = f"{path}: cannot read the road layer ({text}). Fix: check it opens in QGIS"
        raise NetworkError(msg) from e


def _roads_from_gdf(
    gdf: gpd.GeoDataFrame,
    *,
    source: str,
    class_column: str | None,
    class_speeds_kmh: Mapping[str, float] | None,
    oneway_column: str | None,
    merge_tolerance_m: float,
    speeds: Mapping[str, float],
) -> _Roads:
    """Roads from a line layer: a node at every line end, ends within the tolerance merged."""
    import shapely

    if gdf.crs is None:
        msg = (
            f"{source}: the road layer has no coordinate reference system (CRS). Fix: set one in "
            "QGIS (Layer > Set CRS, e.g. EPSG:3067) and save the file again"
        )
        raise NetworkError(msg)
    for col, key in ((class_column, "class_column"), (oneway_column, "oneway_column")):
        if col and col not in gdf.columns:
            msg = (
                f"{source}: column '{col}' not found (columns: {', '.join(map(str, gdf.columns))}). "
                f"Fix: set `network.{key}` to an existing column"
            )
            raise NetworkError(msg)
    geoms = gdf.geometry.to_crs(CRS).to_numpy() if str(gdf.crs) != CRS else gdf.geometry.to_numpy()
    gtype = shapely.get_type_id(geoms)
    is_line = np.isin(gtype, [1, 2, 5])  # LineString, LinearRing, MultiLineString
    if not is_line.any():
        kinds = sorted({str(t) for t in gdf.geometry.geom_type.dropna().unique()}) or ["no geometries"]
        msg = (
            f"{source}: the layer has no lines (found {', '.join(kinds)}). Fix: give the road "
            "network as a line layer (and `network.layer` for a multi-layer file)"
        )
        raise NetworkError(msg)
    rows = np.flatnonzero(is_line)
    parts, part_row = shapely.get_parts(geoms[rows], return_index=True)
    part_row = rows[part_row]
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(cidx, minlength=parts.size)
    ok = counts >= 2
    offs = np.zeros(parts.size + 1, np.int64)
    np.cumsum(counts, out=offs[1:])
    length = _polyline_lengths(offs, coords)
    ok &= length > 0
    starts, ends = offs[:-1], offs[1:] - 1
    ends_xy = np.concatenate([coords[starts], coords[ends]])
    n_p = parts.size
    # Merge line ends within the tolerance (transitively) into nodes.
    if merge_tolerance_m > 0:
        tree = cKDTree(ends_xy)
        pairs = tree.query_pairs(merge_tolerance_m, output_type="ndarray")
        g = sp.coo_array(
            (np.ones(pairs.shape[0], np.int8), (pairs[:, 0], pairs[:, 1])), shape=(2 * n_p, 2 * n_p)
        )
        _, lab = connected_components(g, directed=False)
    else:
        _, lab = np.unique(ends_xy, axis=0, return_inverse=True)
        lab = lab.ravel()
    nn = int(lab.max()) + 1 if lab.size else 0
    cnt = np.bincount(lab, minlength=nn)
    nx_ = np.bincount(lab, weights=ends_xy[:, 0], minlength=nn) / np.maximum(cnt, 1)
    ny_ = np.bincount(lab, weights=ends_xy[:, 1], minlength=nn) / np.maximum(cnt, 1)
    a, b = lab[:n_p], lab[n_p:]
    xy = coords.copy()
    xy[starts] = np.column_stack([nx_[a], ny_[a]])
    xy[ends] = np.column_stack([nx_[b], ny_[b]])
    length = _polyline_lengths(offs, xy)

    # Direction.
    fwd = np.ones(n_p, bool)
    bwd = np.ones(n_p, bool)
    if oneway_column:
        col = gdf[oneway_column]
        text = col.astype("string").str.strip().str.lower().fillna("").to_numpy(dtype=object)[part_row]
        if col.dtype == bool:
            text = np.where(col.to_numpy()[part_row], "yes", "no")
        fwd_only = np.isin(text, list(_ONEWAY_FWD))
        bwd_only = np.isin(text, list(_ONEWAY_BWD))
        bwd &= ~fwd_only
        fwd &= ~bwd_only
    # Class and speed.
    if class_column:
        cls = gdf[class_column].astype("string").fillna("default").to_numpy(dtype=object)[part_row]
    else:
        cls = np.full(n_p, "default", dtype=object)
    table: dict[str, float] = dict(class_speeds_kmh or {})
    if not table and class_column and class_column.upper() == "DXF_LAYER":
        table = dict(NLS_CLASS_SPEEDS_KMH)
    uniq, inv = np.unique(cls.astype(str), return_inverse=True)
    by_class = np.array([table.get(c, _class_speed(c, speeds)) for c in uniq], float)
    speed = by_class[inv] if n_p else np.zeros(0)
    if "maxspeed" in gdf.columns:
        ms = np.array([parse_maxspeed(v, speeds=speeds) for v in gdf["maxspeed"].to_numpy()[part_row]])
        speed = np.where(np.isfinite(ms), ms, speed)
    roads = _Roads(
        node_ids=np.arange(nn, dtype=np.int64), x=nx_, y=ny_, a=a, b=b, offsets=offs, xy=xy,
        fwd=fwd, bwd=bwd, length_m=length, speed_kmh=speed, cls=cls,
    )
    return _subset_roads(roads, ok) if not ok.all() else roads


def network_from_lines(
    lines: gpd.GeoDataFrame,
    *,
    class_column: str | None = None,
    class_speeds_kmh: Mapping[str, float] | None = None,
    oneway_column: str | None = None,
    merge_tolerance_m: float = 1.0,
    speeds: Mapping[str, float] | None = None,
    source: str = "<lines>",
    progress: Progress | None = None,
) -> Network:
    """Build a network from a road line layer (GeoDataFrame with a CRS).

    Parameters
    ----------
    lines
        LineString/MultiLineString features, one road each; reprojected to EPSG:3067.
    class_column
        Column holding the road class; speeds come from ``class_speeds_kmh``, then ``speeds``
        (for OSM-like class names), then ``speeds["default"]``. With an empty
        ``class_speeds_kmh`` and ``class_column="DXF_LAYER"`` the NLS general map speeds
        (:data:`NLS_CLASS_SPEEDS_KMH`) are used.
    class_speeds_kmh
        Speed per class value (km/h).
    oneway_column
        Column marking one-way lines: ``yes``/``true``/``1``/``FT`` = along the digitised
        direction only, ``-1``/``reverse``/``TF`` = against it; anything else is two-way.
    merge_tolerance_m
        Line ends closer than this become one node (0 = exact coordinate match).
    speeds
        Class speeds; defaults to the Finnish defaults.
    source
        Name used in messages and ``info["source"]``.
    progress
        Called with short status messages.

    Returns
    -------
    Network

    Raises
    ------
    NetworkError
        When the layer has no CRS, no lines, or a named column is missing.
    """
    sp_ = dict(speeds or DEFAULT_SPEEDS_KMH)
    roads = _roads_from_gdf(
        lines, source=source, class_column=class_column, class_speeds_kmh=class_speeds_kmh,
        oneway_column=oneway_column, merge_tolerance_m=merge_tolerance_m, speeds=sp_,
    )
    return _assemble(roads, speeds=sp_, source=source, progress=progress)


def network_from_graph(
    G: nx.MultiDiGraph | nx.DiGraph | nx.Graph,
    *,
    speeds: Mapping[str, float] | None = None,
    keep_length: bool = True,
    source: str = "<graph>",
    progress: Progress | None = None,
) -> Network:
    """Build a network from a networkx/osmnx graph (node ``x``/``y``, graph attribute ``crs``).

    Parameters
    ----------
    G
        The graph. In a directed graph an edge with a reverse twin of the same length and class
        becomes a two-way road sharing one geometry; parallel edges are kept (the CSR keeps the
        shortest).
    speeds
        Class speeds (``highway`` attribute); defaults to the Finnish defaults. ``maxspeed`` is
        used where present.
    keep_length
        Keep the edges' ``length`` attribute (metres) where present; otherwise compute lengths
        from the projected geometry.
    source
        Name used in messages.
    progress
        Called with short status messages.

    Returns
    -------
    Network
    """
    sp_ = dict(speeds or DEFAULT_SPEEDS_KMH)
    roads = _roads_from_nx(G, speeds=sp_, keep_length=keep_length, source=source)
    return _assemble(roads, speeds=sp_, source=source, progress=progress)


def _read_place(
    place: str, speeds: Mapping[str, float], cache_dir: Path | None, progress: Progress | None
) -> _Roads:
    import requests

    hw = "|".join(sorted(DRIVABLE_HIGHWAYS))
    filters = [
        f'["highway"~"^({hw})$"]["area"!~"yes"]["motor_vehicle"!~"no"]["motorcar"!~"no"]["access"!~"^no$"]',
        '["route"="ferry"]["motor_vehicle"!~"no"]["motorcar"!~"no"]',
    ]
    settings: dict[str, Any] = {
        "useful_tags_way": sorted(set(_OSM_WAY_TAGS)),
        "requests_timeout": 10,
        "log_console": False,
        "use_cache": cache_dir is not None,
    }
    if cache_dir is not None:
        settings["cache_folder"] = str(cache_dir / "osmnx")
    if progress:
        progress(f"network: downloading roads of '{place}' from OpenStreetMap")
    with _osmnx_settings(**settings) as ox:
        try:
            G = ox.graph_from_place(place, simplify=False, retain_all=True, custom_filter=filters)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
            msg = (
                f"network.place '{place}': no internet connection (cannot reach OpenStreetMap: "
                f"{type(e).__name__}). Fix: download an OSM extract (e.g. finland-latest.osm.pbf from "
                "Geofabrik, or an .osm export) and give it as `network.source`"
            )
            raise OfflineError(msg) from e
        except Exception as e:
            if type(e).__name__ in ("InsufficientResponseError", "TypeError", "ValueError"):
                msg = (
                    f"network.place '{place}': OpenStreetMap returned no usable area or roads "
                    f"({e}). Fix: check the place name (e.g. 'Posio, Finland') or give an OSM file "
                    "as `network.source`"
                )
                raise NetworkError(msg) from e
            raise
        G = _filter_osm_graph(G)
        if G.number_of_edges() == 0:
            return _empty_roads()
        G = ox.simplify_graph(G, edge_attrs_differ=["highway", "route", "maxspeed"], remove_rings=False)
    return _roads_from_nx(G, speeds=speeds, keep_length=False, source=f"place '{place}'")


def load_network_source(
    path: str | Path,
    cfg: NetworkConfig | None = None,
    *,
    progress: Progress | None = None,
) -> Network:
    """Build a network from a source file, without the cache.

    Parameters
    ----------
    path
        ``.osm``/``.osm.bz2`` (osmnx), ``.osm.pbf`` (pyosmium), ``.graphml`` (osmnx) or a line
        layer (``.gpkg``, ``.shp``, ``.geojson``, ``.parquet``).
    cfg
        Network settings (layer, class and one-way columns, speeds, merge tolerance); defaults
        to :class:`~arjenturva.config.NetworkConfig` with this source.
    progress
        Called with short status messages.

    Returns
    -------
    Network

    Raises
    ------
    NetworkError
        Missing or unreadable file, corrupt XML, a layer without lines, no CRS, no drivable roads.
    """
    p = Path(path)
    cfg = cfg or NetworkConfig(source=str(p))
    speeds = cfg.speeds()
    if not p.exists():
        msg = (
            f"{p}: road network file not found. Fix: check `network.source` in the config "
            "(paths are relative to the config file)"
        )
        raise NetworkError(msg)
    if p.is_dir():
        msg = f"{p}: is a folder, not a road network file. Fix: point `network.source` at a file"
        raise NetworkError(msg)
    suffix = _suffix(p)
    if progress:
        progress(f"network: reading {p.name}")
    if suffix in _PBF_SUFFIXES:
        roads = _read_pbf(p, speeds, progress)
    elif suffix in _OSM_SUFFIXES:
        roads = _read_osm_xml(p, speeds, progress)
    elif suffix in _GRAPHML_SUFFIXES:
        roads = _read_graphml(p, speeds, progress)
    elif suffix in _LINE_SUFFIXES:
        gdf = _read_lines_file(p, cfg.layer)
        roads = _roads_from_gdf(
            gdf, source=str(p), class_column=cfg.class_column, class_speeds_kmh=cfg.class_speeds_kmh,
            oneway_column=cfg.oneway_column, merge_tolerance_m=cfg.merge_tolerance_m, speeds=speeds,
        )
    else:
        msg = (
            f"{p}: unknown road network format '{suffix}'. Fix: use .osm, .osm.bz2, .osm.pbf, "
            ".graphml, or a line layer (.gpkg, .shp, .geojson)"
        )
        raise NetworkError(msg)
    return _assemble(roads, speeds=speeds, source=str(p), progress=progress)


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------

_ARRAYS = (
    "node_ids", "x", "y", "road_a", "road_b", "road_fwd", "road_bwd", "road_length_m", "road_time_s",
    "road_class", "road_offsets", "road_xy", "edge_u", "edge_v", "edge_length_m", "edge_time_s",
    "edge_class", "edge_road", "edge_reversed", "component",
)


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _settings_key(cfg: NetworkConfig) -> dict[str, Any]:
    return {
        "format": CACHE_FORMAT_VERSION,
        "layer": cfg.layer,
        "speeds": sorted(cfg.speeds().items()),
        "class_column": cfg.class_column,
        "class_speeds_kmh": sorted(cfg.class_speeds_kmh.items()),
        "oneway_column": cfg.oneway_column,
        "merge_tolerance_m": cfg.merge_tolerance_m,
        "network_type": cfg.network_type,
    }


def cache_key(cfg: NetworkConfig, *, base_dir: Path) -> str:
    """The cache key: sha256 of the source file's bytes (or the place name) and the settings."""
    h = hashlib.sha256()
    if cfg.source:
        h.update(_file_sha256(_resolve_source(cfg, base_dir)).encode())
    else:
        h.update(f"place:{cfg.place}".encode())
    h.update(json.dumps(_settings_key(cfg), sort_keys=True, default=str).encode())
    return h.hexdigest()


def _resolve_source(cfg: NetworkConfig, base_dir: Path) -> Path:
    p = Path(str(cfg.source)).expanduser()
    return p if p.is_absolute() else Path(base_dir) / p


def save_network(net: Network, path: Path) -> None:
    """Write a network to a compact NPZ file (arrays plus a JSON header with the format version).

    The file is written to a temporary name and renamed, so an interrupted write leaves no
    half file.
    """
    arrays: dict[str, np.ndarray] = {k: getattr(net, k) for k in _ARRAYS}
    for name in ("csr_length", "csr_time", "csr_length_t", "csr_time_t"):
        m = getattr(net, name)
        arrays[f"{name}_data"] = m.data
        if name in ("csr_length", "csr_length_t"):
            arrays[f"{name}_indices"] = m.indices
            arrays[f"{name}_indptr"] = m.indptr
    info = {k: v for k, v in net.info.items() if k not in ("cache_path", "from_cache", "seconds")}
    header = {"format": CACHE_FORMAT_VERSION, "class_names": list(net.class_names), "info": info}
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, allow_pickle=True, **arrays)  # numpy's default, named so ** can't fill it
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_network(path: Path) -> Network:
    """Read a network written by :func:`save_network`.

    Raises
    ------
    NetworkError
        When the file is unreadable or was written by another cache format version.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(bytes(z["header"]).decode())
            if header.get("format") != CACHE_FORMAT_VERSION:
                msg = (
                    f"{path}: network cache format {header.get('format')} is not "
                    f"{CACHE_FORMAT_VERSION}. Fix: delete the file; it is rebuilt from the source"
                )
                raise NetworkError(msg)
            arr = {k: z[k] for k in z.files if k != "header"}
    except NetworkError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        msg = f"{path}: cannot read the network cache ({e}). Fix: delete the file; it is rebuilt"
        raise NetworkError(msg) from e
    n = int(arr["node_ids"].shape[0])
    mats = {}
    for name in ("csr_length", "csr_time", "csr_length_t", "csr_time_t"):
        base = "csr_length" if name in ("csr_length", "csr_time") else "csr_length_t"
        mats[name] = sp.csr_array(
            (arr[f"{name}_data"], arr[f"{base}_indices"], arr[f"{base}_indptr"]), shape=(n, n)
        )
    net = Network(
        **{k: arr[k] for k in _ARRAYS}, class_names=tuple(header["class_names"]), **mats,
        info=dict(header["info"]),
    )
    return net


def build_network(
    cfg: NetworkConfig,
    *,
    base_dir: Path | str = ".",
    cache_dir: Path | str | None = None,
    progress: Progress | None = None,
) -> Network:
    """Build the road network of a workspace, or load it from the cache when still valid.

    Parameters
    ----------
    cfg
        The ``network`` section of the config.
    base_dir
        Folder that ``cfg.source`` is relative to (the config file's folder).
    cache_dir
        Folder for the cache file ``network-<key>.npz``; ``None`` or ``cfg.cache = False``
        disables the cache. The key is the sha256 of the source file's bytes plus the settings
        that shape the network, so editing either rebuilds it.
    progress
        Called with short status messages.

    Returns
    -------
    Network
        ``info`` holds nodes, edges, roads, km, components, largest_nodes, largest_share,
        km_outside_largest, source, cache_path, from_cache and seconds.

    Raises
    ------
    NetworkError
        The source is missing, unreadable, has no CRS or no drivable roads.
    OfflineError
        ``cfg.place`` is given and there is no internet connection.
    """
    t0 = time.perf_counter()
    base = Path(base_dir)
    src_label = str(_resolve_source(cfg, base)) if cfg.source else f"place '{cfg.place}'"
    if cfg.source:
        p = _resolve_source(cfg, base)
        if not p.exists():
            msg = (
                f"{p}: road network file not found (network.source = '{cfg.source}'). Fix: check "
                "the path in the config (relative to the config file), or use `network.place`"
            )
            raise NetworkError(msg)
    cache_path: Path | None = None
    if cache_dir is not None and cfg.cache:
        cache_path = Path(cache_dir) / f"network-{cache_key(cfg, base_dir=base)[:24]}.npz"
        if cache_path.exists():
            try:
                net = load_network(cache_path)
            except NetworkError as e:
                if progress:
                    progress(f"network: cache unusable ({e}); rebuilding")
            else:
                net.info.update(cache_path=str(cache_path), from_cache=True,
                                seconds=round(time.perf_counter() - t0, 3), source=src_label)
                if progress:
                    progress(f"network: loaded from cache {cache_path.name}")
                return net
    if cfg.source:
        net = load_network_source(_resolve_source(cfg, base), cfg, progress=progress)
    else:
        roads = _read_place(str(cfg.place), cfg.speeds(), Path(cache_dir) if cache_dir else None, progress)
        net = _assemble(roads, speeds=cfg.speeds(), source=src_label, progress=progress)
    net.info.update(source=src_label)
    if cache_path is not None:
        save_network(net, cache_path)
        if progress:
            progress(f"network: cached as {cache_path.name}")
    net.info.update(cache_path=str(cache_path) if cache_path else None, from_cache=False,
                    seconds=round(time.perf_counter() - t0, 3))
    return net


def network_info(net: Network) -> dict[str, Any]:
    """Summary of a network: nodes, edges, km, components, largest share, km outside it, ..."""
    return dict(net.info)


def edges_geodataframe(net: Network) -> gpd.GeoDataFrame:
    """One row per road geometry (both directions of a two-way road share one), EPSG:3067.

    Columns: ``road``, ``u``, ``v`` (source node ids), ``road_class``, ``length_m``,
    ``time_s``, ``oneway`` (True when drivable in one direction only), ``component``, geometry.
    """
    import geopandas as gpd
    import shapely

    counts = np.diff(net.road_offsets)
    idx = np.repeat(np.arange(net.n_roads), counts)
    geoms = shapely.linestrings(net.road_xy, indices=idx) if net.n_roads else np.zeros(0, dtype=object)
    return gpd.GeoDataFrame(
        {
            "road": np.arange(net.n_roads),
            "u": net.node_ids[net.road_a],
            "v": net.node_ids[net.road_b],
            "road_class": np.asarray(net.class_names, dtype=object)[net.road_class]
            if net.n_roads else np.zeros(0, dtype=object),
            "length_m": net.road_length_m,
            "time_s": net.road_time_s,
            "oneway": net.road_fwd != net.road_bwd,
            "component": net.component[net.road_a],
        },
        geometry=geoms,
        crs=CRS,
    )


# --------------------------------------------------------------------------------------------
# Snapping
# --------------------------------------------------------------------------------------------


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
        # An unbalanced tree builds about twice as fast and answers snapping queries nearly as fast.
        tree = cKDTree(mid if mid.size else np.zeros((0, 2)), balanced_tree=False)
        return cls(x0, y0, dx, dy, seg_len, road, along, geom_len, half, tree)


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
    return Snapped(
        road=road.astype(np.int64), frac=frac, offset_m=offset, access_m=best_d, x=sx, y=sy, ok=ok,
        tolerance_m=float(tolerance_m),
    )


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------


_AT_NODE = 1e-9
"""A snapped point this close to a road end (as a share of the road) is at that node."""


def _check_weight(weight: str) -> Literal["length", "time"]:
    if weight in ("length", "distance"):
        return "length"
    if weight == "time":
        return "time"
    msg = f"weight must be 'length' (or 'distance') or 'time', not {weight!r}"
    raise ValueError(msg)


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
    fid = np.concatenate([f[fw], f[bw]])
    node = np.concatenate([net.road_a[r][fw], net.road_b[r][bw]]).astype(np.int64)
    cost = np.concatenate([acc[fw] + frac[fw] * w[fw], acc[bw] + (1 - frac[bw]) * w[bw]])
    # One seed per (facility, node): keep the cheaper (a loop road gives two).
    order = np.lexsort((cost, node, fid))
    fid, node, cost = fid[order], node[order], cost[order]
    if fid.size:
        keep = np.r_[True, (fid[1:] != fid[:-1]) | (node[1:] != node[:-1])]
        fid, node, cost = fid[keep], node[keep], cost[keep]
    return fid, node, cost


def _augmented(net: Network, weight: Weight, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
               nvirt: int) -> sp.csr_array:
    """The transposed graph with ``nvirt`` virtual source rows appended (no incoming edges)."""
    base = net.csr(weight, transposed=True)
    n = net.n_nodes
    order = np.argsort(rows, kind="stable")
    counts = np.bincount(rows, minlength=nvirt)
    indptr = np.concatenate([base.indptr.astype(np.int64), base.indptr[-1] + np.cumsum(counts)])
    indices = np.concatenate([base.indices.astype(np.int64), cols[order]])
    data = np.concatenate([base.data, vals[order]])
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr, indices = indptr.astype(np.int32), indices.astype(np.int32)
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
    # Only origins on a road that carries a facility: a search in the origins sorted by road
    # (sorted once per set of origins), not a pass over all of them.
    by_road, roads = org._cached(net, ("by_road",), lambda: _origins_by_road(org))
    froads = np.unique(fac.road[f])
    lo = np.searchsorted(roads, froads, side="left")
    hi = np.searchsorted(roads, froads, side="right")
    cnt = hi - lo
    o = np.sort(by_road[np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))])
    if not o.size or not f.size:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0)
    f = f[np.argsort(fac.road[f], kind="stable")]
    fr = fac.road[f]
    lo = np.searchsorted(fr, org.road[o], side="left")
    hi = np.searchsorted(fr, org.road[o], side="right")
    cnt = hi - lo
    oi = np.repeat(o, cnt)
    fi = f[np.repeat(lo, cnt) + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))]
    r = org.road[oi]
    w = net.road_cost(weight)[r]
    dt = fac.frac[fi] - org.frac[oi]
    allowed = np.where(dt >= 0, net.road_fwd[r], net.road_bwd[r])
    allowed |= np.abs(dt) <= _AT_NODE
    cost = (
        _access_cost(org, weight, access_speed_kmh)[oi]
        + _access_cost(fac, weight, access_speed_kmh)[fi]
        + np.abs(dt) * w
    )
    cost = np.where(allowed, cost, np.inf)
    return oi, fi, cost


# --------------------------------------------------------------------------------------------
# Contracted sweep graph
# --------------------------------------------------------------------------------------------


_CONTRACT: Literal["auto", "always", "never"] = "auto"
"""Whether :func:`nearest_facility` sweeps the contracted graph ("auto": when it is smaller)."""

_CONTRACT_MAX_CORE_SHARE = 0.75
"""With ``"auto"``, contract only when the core keeps at most this share of the nodes ..."""

_CONTRACT_MIN_NODES = 50_000
"""... and the network has at least this many nodes (smaller sweeps take milliseconds anyway)."""


def _expand(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``rows``, neighbour) for every stored entry of the given CSR rows."""
    cnt = indptr[rows + 1] - indptr[rows]
    tot = int(cnt.sum())
    first = np.cumsum(cnt) - cnt
    at = np.repeat(indptr[rows] - first, cnt) + np.arange(tot)
    return np.repeat(np.arange(rows.size), cnt), indices[at]


def _lookup(g: sp.csr_array, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Weights ``g[u, v]`` of stored entries, ``inf`` where there is no edge u→v."""
    n = g.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr))
    keys = rows * max(n, 1) + g.indices.astype(np.int64)
    data = g.data
    if keys.size > 1 and not (keys[1:] > keys[:-1]).all():
        o = np.argsort(keys, kind="stable")
        keys, data = keys[o], data[o]
    q = u.astype(np.int64) * max(n, 1) + v.astype(np.int64)
    pos = np.clip(np.searchsorted(keys, q), 0, max(keys.size - 1, 0))
    if not keys.size:
        return np.full(q.shape, np.inf)
    return np.where(keys[pos] == q, data[pos], np.inf).astype(np.float64)


def _seg_sum(v: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Inclusive prefix sums within runs (``pos`` = position in the run), by doubling.

    Only additions of non-negative terms (no differences), so ``inf`` stays ``inf`` and the
    rounding is that of a sum along one run.
    """
    v = v.astype(np.float64, copy=True)
    d = 1
    top = int(pos.max()) if pos.size else 0
    while d <= top:
        i = np.flatnonzero(pos >= d)
        v[i] = v[i] + v[i - d]
        d *= 2
    return v


def _seg_minplus(
    a: np.ndarray, lab: np.ndarray, b: np.ndarray, pos: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``L[i] = min(a[i], b[i] + L[i-1])`` within runs (a run starts with ``L = a``), by doubling.

    ``L[i] = min_j a[j] + b[j+1] + … + b[i]`` over ``j <= i`` in the run; ``lab`` follows the
    minimising ``j``.
    """
    a = a.astype(np.float64, copy=True)
    b = b.astype(np.float64, copy=True)
    lab = lab.copy()
    d = 1
    top = int(pos.max()) if pos.size else 0
    while d <= top:
        i = np.flatnonzero(pos >= d)
        j = i - d
        cand = b[i] + a[j]
        better = cand < a[i]
        ib = i[better]
        lab[ib] = lab[j[better]]
        a[ib] = cand[better]
        b[i] = b[i] + b[j]
        d *= 2
    return a, lab


def _scatter_min(sc: np.ndarray, sf: np.ndarray, idx: np.ndarray, val: np.ndarray, lab: np.ndarray) -> None:
    """``sc[idx] = min(sc[idx], val)`` with duplicate indices, ``sf`` following the minimum."""
    ok = np.isfinite(val)
    idx, val, lab = idx[ok], val[ok], lab[ok]
    if not idx.size:
        return
    o = np.lexsort((val, idx))
    idx, val, lab = idx[o], val[o], lab[o]
    first = np.r_[True, idx[1:] != idx[:-1]]
    idx, val, lab = idx[first], val[first], lab[first]
    better = val < sc[idx]
    sc[idx[better]] = val[better]
    sf[idx[better]] = lab[better]


class _Contraction:
    """The sweep graph reduced to its junctions (built once per network, weights per weight).

    In the undirected sense, dead-end trees are peeled off leaf by leaf, and the remaining nodes
    of degree two form *chains* between two *core* nodes (junctions; one node of a ring without
    junctions is made core). The core graph keeps the edges between core nodes and, for each
    chain, an edge A→B (B→A) only if every edge along the chain allows that direction, with the
    summed weight; parallel edges keep the minimum. A multi-source sweep then runs on the core
    only, and the costs of chain and tree nodes follow exactly from their ends:

    * seeds (facility entry points) inside a tree are carried up to its attachment node, and
      seeds inside a chain to both of its ends, along the allowed directions;
    * a chain node costs ``min(cost[A] + d(node→A), cost[B] + d(node→B), seeds in the chain
      reached along it)``; a tree node ``min(cost[parent] + d(node→parent), seeds below it)``.
    """

    def __init__(self, net: Network) -> None:
        n = net.n_nodes
        self.n = n
        g = net.csr_length
        one = sp.csr_array((np.ones(g.indices.size, np.int8), g.indices, g.indptr), shape=(n, n))
        und = sp.csr_array(one + one.T)
        und.sort_indices()
        ip = und.indptr.astype(np.int64)
        nb = und.indices.astype(np.int64)
        deg0 = np.diff(ip)
        deg = deg0.copy()
        removed = np.zeros(n, bool)
        in_leaf = np.zeros(n, bool)
        t_nodes: list[np.ndarray] = []
        t_par: list[np.ndarray] = []
        # Peel dead-end trees: all current leaves at once, round by round.
        leaf = np.flatnonzero(deg == 1)
        while leaf.size:
            rep, nbr = _expand(ip, nb, leaf)
            ok = ~removed[nbr]
            par = np.full(leaf.size, -1, np.int64)
            par[rep[ok]] = nbr[ok]
            in_leaf[leaf] = True
            keep = ~(in_leaf[par] & (leaf < par))  # two leaves joined: the smaller one stays
            in_leaf[leaf] = False
            leaf, par = leaf[keep], par[keep]
            removed[leaf] = True
            deg -= np.bincount(par, minlength=n)
            deg[leaf] = 0
            t_nodes.append(leaf)
            t_par.append(par)
            cand = np.unique(par)
            leaf = cand[(deg[cand] == 1) & ~removed[cand]]
        self.tree_nodes = np.concatenate(t_nodes) if t_nodes else np.zeros(0, np.int64)
        self.tree_parent = np.concatenate(t_par) if t_par else np.zeros(0, np.int64)
        self.tree_bounds = np.cumsum([0] + [t.size for t in t_nodes])
        rem = ~removed
        is_core = rem & (deg != 2)
        # Chains: remaining nodes of degree two; a ring with no core node gets one.
        for _ in range(2):
            rows = np.flatnonzero(rem & ~is_core)
            rep, nbr = _expand(ip, nb, rows)
            live = ~removed[nbr]
            rep, nbr = rep[live], nbr[live]
            src = rows[rep]
            to_core = is_core[nbr]
            m = rows.size
            cidx = np.full(n, -1, np.int64)
            cidx[rows] = np.arange(m)
            cc_u, cc_v = cidx[src[~to_core]], cidx[nbr[~to_core]]
            sub = sp.csr_array((np.ones(cc_u.size, np.int8), (cc_u, cc_v)), shape=(m, m))
            ncomp, comp = connected_components(sub, directed=False)
            has_core = np.bincount(cidx[src[to_core]], minlength=m) > 0
            comp_has = np.bincount(comp, weights=has_core, minlength=ncomp) > 0
            if comp_has.all():
                break
            # Promote the first node of each ring to core and redo.
            o = np.argsort(comp, kind="stable")
            firsts = o[np.r_[True, comp[o][1:] != comp[o][:-1]]] if m else o
            ring = firsts[~comp_has[comp[firsts]]]
            is_core[rows[ring]] = True
        # Order each chain from an end next to a core node: a breadth-first walk from a root
        # linked to one end per chain gives each node its predecessor along the chain, and
        # pointer jumping its position.
        csrc, cnb = src[to_core], nbr[to_core]  # sorted by chain node
        first_core = np.full(n, -1, np.int64)
        last_core = np.full(n, -1, np.int64)
        if csrc.size:
            brk = csrc[1:] != csrc[:-1]
            i0, i1 = np.flatnonzero(np.r_[True, brk]), np.flatnonzero(np.r_[brk, True])
            first_core[csrc[i0]] = cnb[i0]
            last_core[csrc[i1]] = cnb[i1]
        ends = np.flatnonzero(has_core)
        o = np.lexsort((ends, comp[ends]))
        ends = ends[o]
        start = ends[np.r_[True, comp[ends][1:] != comp[ends][:-1]]] if ends.size else ends
        walk = sp.csr_array(
            (np.ones(cc_u.size + start.size, np.int8),
             (np.r_[cc_u, np.full(start.size, m)], np.r_[cc_v, start])), shape=(m + 1, m + 1),
        )
        _, pred = breadth_first_order(walk, m, directed=True, return_predecessors=True)
        pred = pred.astype(np.int64)
        if m and (pred[:m] < 0).any():  # pragma: no cover - every chain has an end next to the core
            msg = "internal error: chain walk did not reach every chain node"
            raise RuntimeError(msg)
        pred[m] = m
        depth = np.ones(m + 1, np.int64)
        depth[m] = 0
        jump = pred.copy()
        while (jump[:m] != m).any():
            depth = depth + depth[jump]
            jump = jump[jump]
        order = np.lexsort((depth[:m], comp))
        ch = rows[order]
        lab = comp[order]
        head = np.r_[True, lab[1:] != lab[:-1]] if m else np.zeros(0, bool)
        self.ch_start = np.r_[np.flatnonzero(head), m].astype(np.int64)
        self.ch_of = np.cumsum(head) - 1
        self.ch_pos = np.arange(m) - self.ch_start[self.ch_of]
        self.ch_len = np.diff(self.ch_start)
        self.ch_nodes = ch
        self.ch_a = first_core[ch[self.ch_start[:-1]]]
        self.ch_b = last_core[ch[self.ch_start[1:] - 1]]
        prev = np.empty(m, np.int64)
        nxt = np.empty(m, np.int64)
        if m:
            prev[1:] = ch[:-1]
            nxt[:-1] = ch[1:]
            prev[self.ch_start[:-1]] = self.ch_a
            nxt[self.ch_start[1:] - 1] = self.ch_b
        self.ch_prev, self.ch_next = prev, nxt
        self.core = np.flatnonzero(is_core)
        self.core_of = np.full(n, -1, np.int64)
        self.core_of[self.core] = np.arange(self.core.size)
        rows_all = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr))
        cols_all = g.indices.astype(np.int64)
        direct = is_core[rows_all] & is_core[cols_all]
        self.direct_u, self.direct_v = rows_all[direct], cols_all[direct]
        # Static lookups for the sweep: where a node sits in the chain and tree arrays, the
        # ends of each chain node's chain, and for each tree node its attachment node (root)
        # and the top of its dead-end tree (the node next to the root).
        self.ch_index = np.full(n, -1, np.int64)
        self.ch_index[ch] = np.arange(m)
        ch_a_node = self.ch_a[self.ch_of] if m else np.zeros(0, np.int64)
        ch_b_node = self.ch_b[self.ch_of] if m else np.zeros(0, np.int64)
        tn, tp = self.tree_nodes, self.tree_parent
        nt = tn.size
        self.tree_pos = np.full(n, -1, np.int64)
        self.tree_pos[tn] = np.arange(nt)
        root = np.arange(n, dtype=np.int64)
        top = np.arange(n, dtype=np.int64)
        tb = self.tree_bounds
        for r in range(tb.size - 2, -1, -1):  # parents before children
            t, p = tn[tb[r]:tb[r + 1]], tp[tb[r]:tb[r + 1]]
            root[t] = root[p]
            top[t] = np.where(removed[p], top[p], t)
        tree_root = root[tn]
        tree_top = top[tn]
        rnd = np.repeat(np.arange(tb.size - 1), np.diff(tb))
        # Tree nodes grouped by tree, leaves first within a tree: the nodes of one tree are
        # ``tree_by_top[tree_start[j]:tree_start[j + 1]]`` (positions in the tree arrays).
        by_top = np.lexsort((rnd, tree_top))
        self.tree_by_top = by_top
        self.tree_round = rnd
        head_t = np.r_[True, tree_top[by_top][1:] != tree_top[by_top][:-1]] if nt else np.zeros(0, bool)
        self.tree_start = np.r_[np.flatnonzero(head_t), nt].astype(np.int64)
        self.tree_of = np.empty(nt, np.int64)  # tree number of each tree position
        self.tree_of[by_top] = np.cumsum(head_t) - 1
        # The sweep's own node order: core nodes, then chain nodes, then tree nodes, so that
        # each part of its result is written as one contiguous block.
        nc = self.core.size
        self.perm = np.empty(n, np.int64)
        self.perm[self.core] = np.arange(nc)
        self.perm[ch] = nc + np.arange(m)
        self.perm[tn] = nc + m + np.arange(nt)
        self.ch_a_core = self.core_of[ch_a_node]
        self.ch_b_core = self.core_of[ch_b_node]
        self.tree_root_c = self.perm[tree_root]
        self._weighted: dict[str, dict[str, Any]] = {}

    @classmethod
    def build(cls, net: Network) -> _Contraction:
        return cls(net)

    @property
    def useful(self) -> bool:
        if _CONTRACT == "always":
            return True
        if _CONTRACT == "never":
            return False
        return self.n >= _CONTRACT_MIN_NODES and self.core.size <= _CONTRACT_MAX_CORE_SHARE * self.n

    def weighted(self, net: Network, weight: Literal["length", "time"]) -> dict[str, Any]:
        """Per-weight edge costs along trees and chains and the transposed core CSR."""
        if weight in self._weighted:
            return self._weighted[weight]
        g = net.csr(weight)
        t, p = self.tree_nodes, self.tree_parent
        x, pv, nx_ = self.ch_nodes, self.ch_prev, self.ch_next
        nt, m = t.size, x.size
        w = _lookup(g, np.r_[t, p, x, pv, x, nx_], np.r_[p, t, pv, x, nx_, x])
        w_up, w_down = w[:nt], w[nt:2 * nt]
        wb_out, wf_in, wf_out, wb_in = (w[2 * nt + k * m:2 * nt + (k + 1) * m] for k in range(4))
        pos = self.ch_pos
        rpos = (self.ch_len[self.ch_of] - 1 - pos)[::-1]
        pf = _seg_sum(wf_in, pos)  # d(A -> node)
        pb = _seg_sum(wb_out, pos)  # d(node -> A)
        sf = _seg_sum(wf_out[::-1], rpos)[::-1]  # d(node -> B)
        sb = _seg_sum(wb_in[::-1], rpos)[::-1]  # d(B -> node)
        first, last = self.ch_start[:-1], self.ch_start[1:] - 1
        u = np.r_[self.direct_u, self.ch_a, self.ch_b]
        v = np.r_[self.direct_v, self.ch_b, self.ch_a]
        cw = np.r_[_lookup(g, self.direct_u, self.direct_v), pf[last] + wf_out[last],
                   sb[first] + wb_out[first]]
        ok = np.isfinite(cw) & (u != v)
        nc = self.core.size
        # Transposed (sweep from the facilities): core edge v <- u stored in row v.
        cu, cv = self.core_of[v[ok]], self.core_of[u[ok]]
        csr_t, _ = _csr_min(cu, cv, cw[ok], cw[ok], nc)
        # Cost from each tree node up to its root, summed from the root down.
        up = np.zeros(self.n)
        tb = self.tree_bounds
        for r in range(tb.size - 2, -1, -1):
            sl = slice(tb[r], tb[r + 1])
            up[t[sl]] = up[p[sl]] + w_up[sl]
        # The core CSR's arrays in the index dtype the sweep appends its seed rows to.
        itype = np.int32 if csr_t.nnz + 2 * self.n < np.iinfo(np.int32).max else np.int64
        out = {"w_up": w_up, "w_down": w_down, "wb_out": wb_out, "wf_out": wf_out, "pf": pf,
               "pb": pb, "sf": sf, "sb": sb, "t_up": up[t], "core_indptr": csr_t.indptr.astype(itype),
               "core_indices": csr_t.indices.astype(itype), "core_data": csr_t.data.astype(np.float64)}
        self._weighted[weight] = out
        return out

    def _tree_positions(self, seed_pos: np.ndarray) -> list[np.ndarray]:
        """Positions (in the tree arrays) of every node of the trees holding ``seed_pos``,
        grouped by peeling round, leaves first."""
        trees = np.unique(self.tree_of[seed_pos])
        st, ln = self.tree_start[trees], np.diff(self.tree_start)[trees]
        at = np.repeat(st - (np.cumsum(ln) - ln), ln) + np.arange(int(ln.sum()))
        pos = self.tree_by_top[at]
        rnd = self.tree_round[pos]
        pos = pos[np.argsort(rnd, kind="stable")]
        rnd = self.tree_round[pos]
        cut = np.flatnonzero(np.r_[True, rnd[1:] != rnd[:-1], True])
        return [pos[cut[i]:cut[i + 1]] for i in range(cut.size - 1)]

    def sweep(
        self, net: Network, weight: Literal["length", "time"], fid: np.ndarray, node: np.ndarray,
        cost: np.ndarray, limit: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cost from every node to its nearest seed and that seed's facility.

        Both are in the sweep's node order: node ``v`` is at ``perm[v]``. The facility is only
        meaningful where the cost is finite.
        """
        cw = self.weighted(net, weight)
        n = self.n
        sc = np.full(n, np.inf)
        sf = np.full(n, -1, np.int32)
        _scatter_min(sc, sf, node, cost, fid.astype(np.int32))
        touched = [node]  # every node that may hold a seed: no scans over all nodes
        down = sc  # becomes, on tree nodes, the cheapest seed below them
        # Seeds in trees: carry them up to the attachment nodes, leaves first (only the trees
        # that hold seeds).
        tn, tp = self.tree_nodes, self.tree_parent
        tpos = self.tree_pos[node]
        tpos = tpos[tpos >= 0]
        groups = self._tree_positions(tpos) if tpos.size else []
        for ks in groups:
            c = sc[tn[ks]]
            ok = np.isfinite(c)
            if ok.any():
                ks = ks[ok]
                _scatter_min(sc, sf, tp[ks], c[ok] + cw["w_down"][ks], sf[tn[ks]])
                touched.append(tp[ks])
        # Seeds in chains: carry them to both ends.
        x = self.ch_nodes
        cand = np.concatenate(touched)
        seeded = np.unique(self.ch_index[cand])
        seeded = seeded[seeded >= 0]
        seeded = seeded[np.isfinite(sc[x[seeded]])]
        if seeded.size:
            ci = self.ch_of[seeded]
            lab = sf[x[seeded]]
            sx = sc[x[seeded]]
            _scatter_min(sc, sf, self.ch_a[ci], sx + cw["pf"][seeded], lab)
            _scatter_min(sc, sf, self.ch_b[ci], sx + cw["sb"][seeded], lab)
            touched += [self.ch_a[ci], self.ch_b[ci]]
        # The core sweep, from the core nodes that hold seeds.
        core = self.core
        nc, m = core.size, x.size
        dist = np.empty(n)  # in the sweep's order (``perm``): core, chain, tree nodes
        fac = np.empty(n, np.int32)
        k = np.unique(self.core_of[np.concatenate(touched)])
        k = k[k >= 0]
        cs = sc[core[k]]
        k, cs = k[np.isfinite(cs)], cs[np.isfinite(cs)]
        if k.size:
            ulab, vrow = np.unique(sf[core[k]], return_inverse=True)
            nu = ulab.size
            ip, ix = cw["core_indptr"], cw["core_indices"]
            order = np.argsort(vrow, kind="stable")
            counts = np.bincount(vrow, minlength=nu)
            indptr = np.concatenate([ip, ip[-1] + np.cumsum(counts).astype(ip.dtype)])
            indices = np.concatenate([ix, k[order].astype(ix.dtype)])
            data = np.concatenate([cw["core_data"], cs[order]])
            aug = sp.csr_array((data, indices, indptr), shape=(nc + nu, nc + nu))
            dc, _pred, src = dijkstra(
                aug, directed=True, indices=np.arange(nc, nc + nu), min_only=True, limit=limit,
                return_predecessors=True,
            )
            dist[:nc] = dc[:nc]
            s = src[:nc]
            s -= nc
            s[s < 0] = nu  # not reached (scipy marks them -9999)
            fac[:nc] = np.r_[ulab, -1].astype(np.int32)[s]
        else:
            dist[:nc] = np.inf
            fac[:nc] = -1
        # Chain nodes: through either end, or to a seed in the chain along it.
        if m:
            ca, cb = self.ch_a_core, self.ch_b_core
            dx = dist[ca]
            dx += cw["pb"]
            via_b = dist[cb]
            via_b += cw["sf"]
            use_b = np.flatnonzero(via_b < dx)
            dx[use_b] = via_b[use_b]
            fx = fac[ca]
            fx[use_b] = fac[cb[use_b]]
            if seeded.size:
                chains = np.unique(self.ch_of[seeded])
                st, ln = self.ch_start[chains], self.ch_len[chains]
                idx = np.repeat(st - (np.cumsum(ln) - ln), ln) + np.arange(int(ln.sum()))
                pos = self.ch_pos[idx]
                a, la = sc[x[idx]], sf[x[idx]]
                lft, llft = _seg_minplus(a, la, cw["wb_out"][idx], pos)
                rpos = (self.ch_len[self.ch_of[idx]] - 1 - pos)[::-1]
                rgt, lrgt = _seg_minplus(a[::-1], la[::-1], cw["wf_out"][idx][::-1], rpos)
                rgt, lrgt = rgt[::-1], lrgt[::-1]
                loc = np.where(rgt < lft, rgt, lft)
                lloc = np.where(rgt < lft, lrgt, llft)
                better = loc < dx[idx]
                dx[idx[better]] = loc[better]
                fx[idx[better]] = lloc[better]
            dist[nc:nc + m] = dx
            fac[nc:nc + m] = fx
        # Tree nodes: up to the root; in trees with seeds, from the root down, also to the
        # seeds below each node.
        if tn.size:
            root = self.tree_root_c
            tdist = dist[root]
            tdist += cw["t_up"]
            dist[nc + m:] = tdist
            fac[nc + m:] = fac[root]
            wu, perm = cw["w_up"], self.perm
            for ks in reversed(groups):
                t, p = tn[ks], perm[tp[ks]]
                via = dist[p] + wu[ks]
                own = down[t]
                use_own = own <= via
                dist[nc + m + ks] = np.where(use_own, own, via)
                fac[nc + m + ks] = np.where(use_own, sf[t], fac[p])
        return dist, fac


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
    access_speed_kmh: float = 30.0,
) -> None:
    """Build now what every :func:`nearest_facility` sweep from ``origins`` reuses.

    The contracted sweep graph (when it is used) and the origins' road-end terms are otherwise
    built by the first sweep; building them before forking worker processes lets the workers
    share them instead of each building its own.
    """
    ctr = net._contraction if _CONTRACT != "never" else None
    for weight in weights:
        w = _check_weight(weight)
        _origin_plan(net, origins, w, access_speed_kmh)  # keeps the origin terms too
        if ctr is not None and ctr.useful:
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
        ctr = net._contraction if _CONTRACT != "never" else None
        if ctr is not None and ctr.useful:
            dist, node_fac = ctr.sweep(net, w, fid, node, seed_cost, lim)
            o, na, to_a, both, nb, to_b = _origin_plan(net, origins, w, access_speed_kmh)
            na, nb = _origin_plan_perm(net, ctr, origins, w, access_speed_kmh)
        else:
            ufac, vrow = np.unique(fid, return_inverse=True)
            g = _augmented(net, w, vrow, node, seed_cost, ufac.size)
            n = net.n_nodes
            dist, _pred, src = dijkstra(
                g, directed=True, indices=np.arange(n, n + ufac.size), min_only=True, limit=lim,
                return_predecessors=True,
            )
            dist = dist[:n]
            src = src[:n]
            node_fac = np.where(src >= n, ufac[np.clip(src - n, 0, ufac.size - 1)], -1)
            o, na, to_a, both, nb, to_b = _origin_plan(net, origins, w, access_speed_kmh)
        ca = dist[na]
        ca += to_a
        fa = node_fac[na]
        if both.size == o.size:  # every origin can use either end: no gathers by ``both``
            cb = dist[nb]
            cb += to_b
            use_b = np.flatnonzero(cb < ca)
            ca[use_b] = cb[use_b]
            fa[use_b] = node_fac[nb[use_b]]
        elif both.size:
            cb = dist[nb]
            cb += to_b
            better = np.flatnonzero(cb < ca[both])
            ca[both[better]] = cb[better]
            fa[both[better]] = node_fac[nb[better]]
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


def _pruned_rows(
    net: Network, w: Weight, targets: Snapped, fid: np.ndarray, node: np.ndarray, seed_cost: np.ndarray,
    ufac: np.ndarray, o: np.ndarray, na: np.ndarray, nb: np.ndarray, to_a: np.ndarray, to_b: np.ndarray,
    limit: float, reach: float, batch: int,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(origin, target, cost) entries within ``limit`` for :func:`cost_matrix`, batch by batch.

    Targets are batched along a serpentine over a grid of ``reach``-sized cells, and each batch
    is swept on the nodes within ``reach`` (straight line, bounding box) of its targets: no route
    within ``limit`` leaves that box, so the costs are those of the whole network.
    """
    base = net.csr(w, transposed=True)
    bi, bx, bd = base.indptr, base.indices, base.data
    n = net.n_nodes
    tx, ty = targets.x[ufac], targets.y[ufac]
    gx = np.floor((tx - tx.min()) / reach).astype(np.int64)
    gy = np.floor((ty - ty.min()) / reach).astype(np.int64)
    gy = np.where(gx % 2 == 0, gy, gy.max() - gy)
    torder = np.lexsort((gy, gx))
    vrow = np.searchsorted(ufac, fid)
    remap = np.full(n, -1, np.int64)
    in_batch = np.full(ufac.size, -1, np.int64)
    slack = reach * 1e-9 + 1.0
    for s0 in range(0, ufac.size, batch):
        part = torder[s0 : s0 + batch]
        in_batch[part] = np.arange(part.size)
        x0, x1 = tx[part].min() - reach - slack, tx[part].max() + reach + slack
        y0, y1 = ty[part].min() - reach - slack, ty[part].max() + reach + slack
        sel = np.flatnonzero((net.x >= x0) & (net.x <= x1) & (net.y >= y0) & (net.y <= y1))
        remap[sel] = np.arange(sel.size)
        # The box's rows of the transposed graph, keeping the edges that stay in the box.
        starts, counts = bi[sel], bi[sel + 1] - bi[sel]
        edge = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        col = remap[bx[edge]]
        keep = col >= 0
        # The batch's seeds (a seed outside the box costs more than ``limit``) as virtual rows.
        sm = np.flatnonzero(in_batch[vrow] >= 0)
        sm = sm[remap[node[sm]] >= 0]
        sm = sm[np.argsort(in_batch[vrow[sm]], kind="stable")]
        size = sel.size + part.size
        kept = np.bincount(np.repeat(np.arange(sel.size), counts)[keep], minlength=sel.size)
        per_row = np.concatenate([kept, np.bincount(in_batch[vrow[sm]], minlength=part.size)])
        indptr = np.concatenate([[0], np.cumsum(per_row)])
        g = sp.csr_array(
            (np.concatenate([bd[edge[keep]], seed_cost[sm]]), np.concatenate([col[keep], remap[node[sm]]]),
             indptr), shape=(size, size),
        )
        dist = dijkstra(g, directed=True, indices=sel.size + np.arange(part.size), limit=limit)
        ra, rb = remap[na], remap[nb]
        cand = np.flatnonzero((ra >= 0) | (rb >= 0))
        ra, rb = ra[cand], rb[cand]
        da = dist.take(np.maximum(ra, 0), axis=1)
        da[:, ra < 0] = np.inf
        db = dist.take(np.maximum(rb, 0), axis=1)
        db[:, rb < 0] = np.inf
        c = np.minimum(to_a[cand][None, :] + da, to_b[cand][None, :] + db)
        ti, oj = np.nonzero(c <= limit)
        yield o[cand[oj]], ufac[part][ti], c[ti, oj]
        remap[sel] = -1
        in_batch[part] = -1


def cost_matrix(
    net: Network,
    origins: Snapped,
    targets: Snapped,
    *,
    weight: Weight = "length",
    limit: float,
    access_speed_kmh: float = 30.0,
    batch: int = 64,
    memory_mb: float = 256.0,
) -> sp.csr_array:
    """Sparse origin × target costs within ``limit``, from batched multi-source sweeps.

    Each batch of targets is swept at once on the transposed graph (compiled Dijkstra, one row
    per target, bounded by ``limit``), so the cost counts from origin to target. Nearby targets
    are batched together and swept only on the nodes within reach of them: every route costs at
    least the network's lowest cost per metre of road times the straight-line distance it spans,
    so no route within ``limit`` leaves that box (the result is the same as on the whole graph).

    Parameters
    ----------
    net
        The network.
    origins, targets
        Snapped points; unsnapped ones get no entries.
    weight
        ``"length"`` (metres) or ``"time"`` (seconds).
    limit
        Largest cost kept (required: it bounds the work and the result size).
    access_speed_kmh
        Speed of the access legs for ``weight="time"``.
    batch
        Targets per sweep (lowered automatically to stay within ``memory_mb``; at most 16 when
        the sweeps are limited to the nodes within reach).
    memory_mb
        Memory budget for one batch's dense distance rows.

    Returns
    -------
    scipy.sparse.csr_array
        Shape (n_origins, n_targets). A stored entry is a reachable pair with its cost; a true
        zero cost is stored as an explicit zero (check ``.has_canonical_format`` / use
        ``.indices``; do not call ``eliminate_zeros``). Absent entries are beyond ``limit`` or
        unreachable.
    """
    w = _check_weight(weight)
    n_o, n_t = len(origins), len(targets)
    n = net.n_nodes
    fid, node, seed_cost = _seeds(net, targets, w, access_speed_kmh)
    o, na, nb, to_a, to_b = _origin_terms(net, origins, w, access_speed_kmh)
    rows_l: list[np.ndarray] = []
    cols_l: list[np.ndarray] = []
    vals_l: list[np.ndarray] = []
    ufac = np.unique(fid)
    factor = net._cost_per_metre[w]
    per_row = 8.0 * (n + ufac.size)
    b = int(max(1, min(batch, (memory_mb * 2**20) // per_row)))
    if ufac.size and o.size and factor > 0 and np.isfinite(limit):
        # Each batch of nearby targets is swept on the part of the network within reach of them.
        for rows, cols, vals in _pruned_rows(
            net, w, targets, fid, node, seed_cost, ufac, o, na, nb, to_a, to_b, limit, limit / factor,
            min(b, 16),
        ):
            rows_l.append(rows)
            cols_l.append(cols)
            vals_l.append(vals)
    elif ufac.size and o.size:
        vrow = np.searchsorted(ufac, fid)
        g = _augmented(net, w, vrow, node, seed_cost, ufac.size)
        for s0 in range(0, ufac.size, b):
            part = np.arange(s0, min(s0 + b, ufac.size))
            dist = dijkstra(g, directed=True, indices=n + part, limit=limit)
            # ``take`` along the rows gathers much faster than fancy indexing ``dist[:, na]``.
            c = np.minimum(to_a[None, :] + dist.take(na, axis=1), to_b[None, :] + dist.take(nb, axis=1))
            ti, oj = np.nonzero(c <= limit)
            rows_l.append(o[oj])
            cols_l.append(ufac[part][ti])
            vals_l.append(c[ti, oj])
    oi, fi, c = _same_road_pairs(net, origins, targets, w, access_speed_kmh)
    keep = c <= limit
    rows_l.append(oi[keep])
    cols_l.append(fi[keep])
    vals_l.append(c[keep])
    rows = np.concatenate(rows_l) if rows_l else np.zeros(0, np.int64)
    cols = np.concatenate(cols_l) if cols_l else np.zeros(0, np.int64)
    vals = np.concatenate(vals_l) if vals_l else np.zeros(0)
    # Deduplicate (row, col) keeping the minimum, then build the CSR without summing.
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    if rows.size:
        first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
        rows, cols, vals = rows[first], cols[first], vals[first]
    indptr = np.zeros(n_o + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n_o), out=indptr[1:])
    return sp.csr_array((vals.astype(np.float64), cols.astype(np.int64), indptr), shape=(n_o, n_t))

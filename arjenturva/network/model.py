"""The routable network as arrays (:class:`Network`) and its views.

:class:`Network` holds the nodes, road polylines, directed edges and CSR matrices of a network
in EPSG:3067, and builds on first use what every snapping and sweep reuses (the snapping index,
the contracted sweep graph). :func:`network_info` and :func:`edges_geodataframe` show it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import scipy.sparse as sp

from ..schema import CRS
from .contraction import _Contraction
from .kernels import _polyline_lengths
from .snapping import _SnapIndex

if TYPE_CHECKING:
    import geopandas as gpd


Weight = Literal["length", "time", "distance"]
"""What a route costs: ``"length"`` (metres; alias ``"distance"``) or ``"time"`` (seconds)."""

Progress = Callable[[str], None]
"""Called with short status messages."""


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


def _check_weight(weight: str) -> Literal["length", "time"]:
    if weight in ("length", "distance"):
        return "length"
    if weight == "time":
        return "time"
    msg = f"weight must be 'length' (or 'distance') or 'time', not {weight!r}"
    raise ValueError(msg)


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

"""Road network: sources, projection, cache and the shortest-path engine.

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
the cost counts from home to the service. Where that is faster (large networks, and smaller
ones with few facilities) the sweep runs on the junctions only (dead-end trees and chains of
degree-two nodes contracted, built once per network) and the other nodes' costs follow exactly
from their ends. Points snap to the nearest point *on* the
nearest road; the straight access leg is added and the network part continues along the road to
its ends.

Unreachable is ``np.inf`` and "no facility" is ``-1``; never a magic number.

This package is the public face; its modules each do one job:

* sources: ``sources`` (the reader chosen by the file's suffix), ``osm`` (PBF, OSM XML, place
  names), ``simplify`` (OSM XML ways split as osmnx's simplification splits them), ``graphs``
  (networkx graphs, GraphML), ``lines`` (road line layers), ``tags`` (speeds and OSM tag rules);
* ``assemble`` (the road table to a :class:`Network`), ``model`` (:class:`Network` and its
  views), ``kernels`` (array kernels), ``cache`` (the cached build);
* ``snapping``, ``sweeps`` (nearest facility), ``contraction`` (the contracted sweep graph) and
  ``matrix`` (cost matrices).
"""

from .cache import CACHE_FORMAT_VERSION, build_network, cache_key, load_network, save_network
from .contraction import Contract
from .graphs import network_from_graph
from .lines import NLS_CLASS_SPEEDS_KMH, network_from_lines
from .matrix import cost_matrix
from .model import Network, Progress, Weight, edges_geodataframe, network_info
from .snapping import Snapped, snap_points
from .sources import load_network_source
from .sweeps import Nearest, nearest_facility, prepare_sweeps
from .tags import DRIVABLE_HIGHWAYS, parse_maxspeed

__all__ = [
    "CACHE_FORMAT_VERSION",
    "DRIVABLE_HIGHWAYS",
    "NLS_CLASS_SPEEDS_KMH",
    "Contract",
    "Nearest",
    "Network",
    "Progress",
    "Snapped",
    "Weight",
    "build_network",
    "cache_key",
    "cost_matrix",
    "edges_geodataframe",
    "load_network",
    "load_network_source",
    "nearest_facility",
    "network_from_graph",
    "network_from_lines",
    "network_info",
    "parse_maxspeed",
    "prepare_sweeps",
    "save_network",
    "snap_points",
]

"""Graphs as road sources: networkx/osmnx graphs and GraphML files (:func:`network_from_graph`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import NetworkError
from ..road_defaults import DEFAULT_SPEEDS_KMH
from .assemble import _assemble, _empty_roads, _Roads, _to_3067, _with_speed_factors
from .kernels import _polyline_lengths
from .model import Network, Progress
from .tags import _is_drivable, parse_maxspeed

if TYPE_CHECKING:
    import networkx as nx


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


def network_from_graph(
    G: nx.MultiDiGraph | nx.DiGraph | nx.Graph,
    *,
    speeds: Mapping[str, float] | None = None,
    speed_factors: Mapping[str, float] | None = None,
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
    speed_factors
        Driven speed as a share of the class speed, per class (``"default"`` for the others);
        ``None`` drives at the speeds. The measured Finnish factors are
        :data:`arjenturva.road_defaults.DEFAULT_SPEED_FACTORS`.
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
    net = _assemble(roads, speeds=sp_, source=source, progress=progress)
    return _with_speed_factors(net, speed_factors)

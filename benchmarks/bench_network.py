"""Benchmark of the road network engine against networkx (standalone script, not a test).

Runs on two networks:

* the NLS (MML) general map roads of all of Finland (``../shared/data/mml-general-map-1m``),
  skipped when the shared data is absent;
* a generated rural network of about one million nodes: a jittered grid (400 m spacing) with
  many roads removed, which leaves long dead-ends and detours.

For each it times building, the NPZ cache (save and load), snapping 100 000 points, and the
nearest-facility sweep for 10, 100 and 1000 facilities (on the contracted sweep graph, and for
comparison on the full graph) against
``networkx.multi_source_dijkstra_path_length`` on the same graph in the same run, checks that
both give the same distances, and prints a table with the ratios and peak memory.

Usage::

    python benchmarks/bench_network.py [--grid 1000] [--skip-networkx]
"""

from __future__ import annotations

import argparse
import gc
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from arjenturva.config import NetworkConfig
from arjenturva.network import (
    Network,
    build_network,
    load_network,
    nearest_facility,
    network_from_lines,
    save_network,
    snap_points,
)
from arjenturva.network.contraction import _Contraction
from arjenturva.network.snapping import _SnapIndex

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NLS = SHARED / "mml-general-map-1m" / "mml_yleiskartta_1milj_2012.gpkg"


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs and the last result."""
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def rural_grid(n_side: int, seed: int = 0) -> gpd.GeoDataFrame:
    """A jittered grid of about ``n_side²`` nodes with roads removed (long dead-ends, detours)."""
    rng = np.random.default_rng(seed)
    spacing = 400.0
    ii, jj = np.meshgrid(np.arange(n_side), np.arange(n_side), indexing="ij")
    x = 300_000 + ii * spacing + rng.uniform(-120, 120, ii.shape)
    y = 7_000_000 + jj * spacing + rng.uniform(-120, 120, ii.shape)
    idx = np.arange(n_side * n_side).reshape(n_side, n_side)
    # Main roads along x (kept with high probability) and sparse side roads along y.
    h_keep = rng.random((n_side - 1, n_side)) < 0.8
    v_keep = rng.random((n_side, n_side - 1)) < 0.45
    a = np.concatenate([idx[:-1, :][h_keep], idx[:, :-1][v_keep]])
    b = np.concatenate([idx[1:, :][h_keep], idx[:, 1:][v_keep]])
    xs, ys = x.ravel(), y.ravel()
    # A bend in the middle of every road so that geometries have 3 vertices.
    mx = (xs[a] + xs[b]) / 2 + rng.uniform(-30, 30, a.size)
    my = (ys[a] + ys[b]) / 2 + rng.uniform(-30, 30, a.size)
    coords = np.stack([np.column_stack([xs[a], ys[a]]), np.column_stack([mx, my]),
                       np.column_stack([xs[b], ys[b]])], axis=1).reshape(-1, 2)
    lines = shapely.linestrings(coords, indices=np.repeat(np.arange(a.size), 3))
    cls = np.where(np.arange(a.size) < h_keep.sum(), "MAANT", "PAIKALLIST")
    oneway = np.where(rng.random(a.size) < 0.02, "yes", "no")  # a few one-way roads
    return gpd.GeoDataFrame({"DXF_LAYER": cls, "oneway": oneway}, geometry=lines, crs=3067)


def to_networkx(net: Network) -> nx.DiGraph:
    """The same directed graph in networkx (parallel edges: the shortest kept)."""
    G = nx.DiGraph()
    G.add_nodes_from(range(net.n_nodes))
    m = net.csr_length.tocoo()
    edges = zip(m.row.tolist(), m.col.tolist(), m.data.tolist(), strict=True)
    G.add_weighted_edges_from(edges, weight="length")
    return G


def bench(name: str, net: Network, build_s: float, rows: list[dict[str, Any]], *, skip_nx: bool,
          engine_mem_mb: float) -> None:
    rng = np.random.default_rng(42)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "net.npz"
        save_s, _ = timed(lambda: save_network(net, p))
        load_s, loaded = timed(lambda: load_network(p), repeat=3)
        size_mb = p.stat().st_size / 2**20
    assert loaded.n_nodes == net.n_nodes
    lo, hi = [net.x.min(), net.y.min()], [net.x.max(), net.y.max()]
    pts = rng.uniform(lo, hi, (100_000, 2))
    index_s, _ = timed(lambda: _SnapIndex.build(net.road_offsets, net.road_xy))  # a fresh one
    snap_s, origins = timed(lambda: snap_points(net, pts, tolerance_m=5000))
    # Origins at every node for the comparison with networkx.
    node_pts = snap_points(net, np.column_stack([net.x, net.y]))
    base = {"network": name, "nodes": net.n_nodes, "edges": net.n_edges}
    rows.append({**base, "what": "build (source -> arrays)", "engine_s": build_s, "other_s": None,
                 "ratio": None, "note": ""})
    rows.append({**base, "what": f"cache load (NPZ {size_mb:.0f} MB)", "engine_s": load_s,
                 "other_s": build_s, "ratio": build_s / load_s,
                 "note": f"save {save_s:.2f} s; ratio = build/load"})
    rows.append({**base, "what": "snap 100k points", "engine_s": snap_s, "other_s": None, "ratio": None,
                 "note": f"+ snap index build {index_s:.2f} s once per network; "
                         f"{int(origins.ok.sum()):,} within 5 km"})
    G = None if skip_nx else to_networkx(net)
    # The contracted sweep graph is built once per network (and per weight), on first use.
    contract_s, ctr = timed(lambda: _Contraction(net))  # a fresh one: net's may be cached
    weighted_s, _ = timed(lambda: ctr.weighted(net, "length"))
    rows.append({**base, "what": "contract sweep graph (once)", "engine_s": contract_s + weighted_s,
                 "other_s": None, "ratio": None,
                 "note": f"core {ctr.core.size:,} nodes ({ctr.core.size / net.n_nodes:.0%}); "
                         f"{ctr.ch_nodes.size:,} in chains, {ctr.tree_nodes.size:,} in trees; "
                         f"{'used' if ctr.useful else 'not used'}"})
    for k in (10, 100, 1000):
        fac_nodes = rng.choice(net.n_nodes, k, replace=False)
        fac = snap_points(net, np.column_stack([net.x[fac_nodes], net.y[fac_nodes]]))
        eng_s, res = timed(lambda fac=fac: nearest_facility(net, node_pts, fac, weight="length"), repeat=3)
        lim_s, _ = timed(lambda fac=fac: nearest_facility(net, node_pts, fac, weight="length", limit=25_000),
                         repeat=3)
        full_s, _ = timed(
            lambda fac=fac: nearest_facility(net, node_pts, fac, weight="length", contract="never"), repeat=3
        )
        nx_s = None
        note = f"limit=25 km: {lim_s:.3f} s; uncontracted {full_s:.3f} s"
        if G is not None:
            Gr = G.reverse(copy=False)
            nx_s, ref = timed(lambda Gr=Gr, fac_nodes=fac_nodes: nx.multi_source_dijkstra_path_length(
                Gr, fac_nodes.tolist(), weight="length"))
            exp = np.full(net.n_nodes, np.inf)
            exp[np.fromiter(ref.keys(), np.int64)] = np.fromiter(ref.values(), float)
            ok = np.allclose(res.cost, exp, rtol=1e-9, atol=1e-6)
            note += "; same distances" if ok else "; DISTANCES DIFFER"
        rows.append({**base, "what": f"nearest-facility sweep, {k} facilities", "engine_s": eng_s,
                     "other_s": nx_s, "ratio": (nx_s / eng_s) if nx_s else None, "note": note})
    rows.append({**base, "what": "engine peak memory (tracemalloc)", "engine_s": None, "other_s": None,
                 "ratio": None, "note": f"{engine_mem_mb:.0f} MB"})
    del G
    gc.collect()


def print_table(rows: list[dict[str, Any]]) -> None:
    def f(v: float | None, fmt: str) -> str:
        return "" if v is None else format(v, fmt)

    head = ("network", "nodes", "what", "engine s", "networkx/build s", "ratio", "note")
    lines = [head]
    for r in rows:
        lines.append((r["network"], f"{r['nodes']:,}", r["what"], f(r["engine_s"], ".3f"),
                      f(r["other_s"], ".2f"), f(r["ratio"], ".0f") + ("×" if r["ratio"] else ""), r["note"]))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        out.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("\n".join(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", type=int, default=1000, help="grid side (nodes ≈ side²; default 1000)")
    ap.add_argument("--skip-networkx", action="store_true", help="time the engine only")
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []

    if NLS.exists():
        cfg = NetworkConfig(source=str(NLS), layer="road", class_column="DXF_LAYER")
        tracemalloc.start()
        build_s, net = timed(lambda: build_network(cfg, base_dir=NLS.parent))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        bench("NLS Finland 1:1M", net, build_s, rows, skip_nx=args.skip_networkx, engine_mem_mb=peak / 2**20)
    else:
        print(f"(skipping NLS: {NLS} not found)")

    t0 = time.perf_counter()
    lines = rural_grid(args.grid)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    net = network_from_lines(lines, class_column="DXF_LAYER", oneway_column="oneway", source="rural grid")
    build_s = time.perf_counter() - t0
    del lines
    gc.collect()
    # Engine memory: the network loaded from its cache, snapping 100k points, a 1000-facility sweep.
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "grid.npz"
        save_network(net, p)
        del net
        gc.collect()
        tracemalloc.start()
        net = load_network(p)
        box = ([net.x.min(), net.y.min()], [net.x.max(), net.y.max()])
        pts = np.random.default_rng(0).uniform(*box, (100_000, 2))
        snap_points(net, pts)
        nearest_facility(net, snap_points(net, np.column_stack([net.x, net.y])),
                         snap_points(net, pts[:1000]), weight="length")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    name = f"rural grid {args.grid}²"
    bench(name, net, build_s, rows, skip_nx=args.skip_networkx, engine_mem_mb=peak / 2**20)
    print(f"(grid generated in {gen_s:.1f} s: {net.info['components']:,} components, largest share "
          f"{net.info['largest_share']:.3f})")
    print_table(rows)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS (engine + networkx graphs): {rss:.0f} MB")


if __name__ == "__main__":
    main()

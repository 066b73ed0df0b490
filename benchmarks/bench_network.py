"""Benchmark of the road network engine against plain scipy and networkx (standalone script, not a test).

Networks:

* the NLS (MML) general map roads of all of Finland (``../shared/data/mml-general-map-1m``),
  skipped when the shared data is absent;
* generated rural networks, one per ``--grids`` side: a jittered grid (400 m spacing) with many
  roads removed, which leaves long dead-ends and detours (side 141 ≈ 20 000 nodes, side 1000 ≈
  1 000 000 nodes). Each is written once to a GeoParquet file, so it is built and cached through
  the same :func:`build_network` path as a user's road file.

Every timed step runs ``--repeat`` times and the table shows the median and the best; both sides
of a comparison get the same repetitions, in one process (the engine's and plain scipy's sweeps
in turn, round by round, each round starting with the next one). Memory is measured in a separate,
untimed pass (tracemalloc slows what it traces).

* **build**: :func:`build_network` from the source file with the cache off. The first build of a
  process also loads GDAL and warms the readers; it is shown apart in the note.
* **cache hit**: :func:`build_network` with a valid cache, which is what every real hit does:
  the sha256 of the source file (the cache key) and loading the NPZ. Ratio = build / hit.
* **snap** 100 000 random points (the snapping index is built once per network, timed apart).
* **contract**: building the contracted sweep graph (once per network and weight).
* **sweeps** with 10, 100 and 1 000 facilities at random nodes and an origin at every node
  (points given at a node snap exactly onto it, with no access leg):
  :func:`nearest_facility` (``contract="auto"``, and the whole graph with ``"never"``), plain scipy
  ``dijkstra(csr_t, indices=facility nodes, min_only=True, return_predecessors=True)`` (the same
  answer: the cost and the nearest facility of every node), and networkx
  ``multi_source_dijkstra_path_length`` (the cost only). Ratios are of medians; the run checks
  that all give the same distances. The engine also sweeps from 100 facilities at random points
  (with access legs, which the plain call cannot take).
* **first sweep from new origins**: the same sweep (100 facilities) from freshly snapped origins,
  which computes their road-end terms once (kept with the origins afterwards).

Usage::

    python benchmarks/bench_network.py [--grids 141 1000] [--repeat 5] [--skip-networkx] [--no-nls]
"""

from __future__ import annotations

import argparse
import gc
import os
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
from scipy.sparse.csgraph import dijkstra

from arjenturva.config import NetworkConfig
from arjenturva.network import Network, build_network, nearest_facility, snap_points
from arjenturva.network.contraction import _Contraction
from arjenturva.network.snapping import _SnapIndex

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NLS = SHARED / "mml-general-map-1m" / "mml_yleiskartta_1milj_2012.gpkg"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Wall times of ``repeat`` runs and the last result."""
    times: list[float] = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def timed_together(fns: list[Callable[[], Any]], repeat: int) -> list[tuple[list[float], Any]]:
    """Wall times of ``repeat`` rounds of the functions in turn, and each one's last result.

    Round by round, so that a change of load touches all alike; each round starts with the
    next function, so that each follows each other one equally often (a call runs slower after
    another one has filled the caches with its own data).
    """
    times: list[list[float]] = [[] for _ in fns]
    out: list[Any] = [None] * len(fns)
    for r in range(repeat):
        for i in range(len(fns)):
            k = (r + i) % len(fns)
            t0 = time.perf_counter()
            out[k] = fns[k]()
            times[k].append(time.perf_counter() - t0)
    return list(zip(times, out, strict=True))


def med(times: list[float]) -> float:
    return float(np.median(times))


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
    """The reversed graph in networkx (parallel edges: the shortest kept), for sweeps from facilities."""
    G = nx.DiGraph()
    G.add_nodes_from(range(net.n_nodes))
    m = net.csr_length_t.tocoo()
    edges = zip(m.row.tolist(), m.col.tolist(), m.data.tolist(), strict=True)
    G.add_weighted_edges_from(edges, weight="length")
    return G


def row(rows: list[dict[str, Any]], base: dict[str, Any], what: str, times: list[float] | None = None, *,
        other: list[float] | None = None, note: str = "") -> None:
    rows.append({**base, "what": what, "times": times, "other": other, "note": note})


def bench_source(name: str, cfg: NetworkConfig, base_dir: Path, rows: list[dict[str, Any]],
                 args: argparse.Namespace, tmp: Path) -> None:
    """Every measurement of one network built from ``cfg``'s source file."""
    rep = args.repeat
    t0 = time.perf_counter()
    net = build_network(cfg, base_dir=base_dir)  # cache off
    first_s = time.perf_counter() - t0
    build, net = timed(lambda: build_network(cfg, base_dir=base_dir), rep)
    cache_dir = tmp / f"cache-{name.split()[0]}"
    build_network(cfg, base_dir=base_dir, cache_dir=cache_dir)  # writes the cache
    hits, loaded = timed(lambda: build_network(cfg, base_dir=base_dir, cache_dir=cache_dir), rep)
    assert loaded.info["from_cache"] and loaded.n_nodes == net.n_nodes
    npz = next(cache_dir.glob("*.npz"))
    src_mb = Path(base_dir, str(cfg.source)).stat().st_size / 2**20
    base = {"network": name, "nodes": net.n_nodes}
    row(rows, base, "build from the source file (cache off)", build,
        note=f"first build of the process {first_s:.2f} s (GDAL and readers warm up)")
    npz_mb = npz.stat().st_size / 2**20
    row(rows, base, f"cache hit: sha256 of the {src_mb:.0f} MB source + NPZ load ({npz_mb:.0f} MB)",
        hits, other=build, note="ratio = build / hit")
    del loaded
    gc.collect()

    rng = np.random.default_rng(42)
    lo, hi = [net.x.min(), net.y.min()], [net.x.max(), net.y.max()]
    pts = rng.uniform(lo, hi, (100_000, 2))
    index_t, _ = timed(lambda: _SnapIndex.build(net.road_offsets, net.road_xy), rep)
    snap_t, origins = timed(lambda: snap_points(net, pts, tolerance_m=5000), rep)
    row(rows, base, "snap 100 000 points", snap_t,
        note=f"+ snap index {med(index_t):.2f} s once per network; {int(origins.ok.sum()):,} within 5 km")
    contract_t, ctr = timed(lambda: _contracted(net), rep)  # fresh ones: the network's is cached
    row(rows, base, "contract the sweep graph (once per network)", contract_t,
        note=f"core {ctr.core.size:,} nodes ({ctr.core.size / net.n_nodes:.0%}); "
             f"{ctr.ch_nodes.size:,} in chains, {ctr.tree_nodes.size:,} in trees")
    net._contraction.weighted(net, "length")  # the network's own, built before the sweeps
    node_xy = np.column_stack([net.x, net.y])
    node_pts = snap_points(net, node_xy)  # an origin at every node
    g_t = net.csr("length", transposed=True)
    G = None if args.skip_networkx else to_networkx(net)
    fac100 = None
    for k in (10, 100, 1000):
        fac_nodes = rng.choice(net.n_nodes, k, replace=False)
        fac = snap_points(net, node_xy[fac_nodes])
        fac100 = fac if k == 100 else fac100
        used = _sweep_choice(net, fac, k)
        (eng_t, res), (full_t, full), (sp_t, (sd, _pred, src)) = timed_together([
            lambda fac=fac: nearest_facility(net, node_pts, fac),
            lambda fac=fac: nearest_facility(net, node_pts, fac, contract="never"),
            lambda f=fac_nodes: dijkstra(g_t, directed=True, indices=f, min_only=True,
                                         return_predecessors=True),
        ], rep)
        same = bool(np.allclose(res.cost, sd, rtol=1e-9, atol=1e-6)
                    and np.allclose(full.cost, sd, rtol=1e-9, atol=1e-6)
                    and np.array_equal(res.facility >= 0, src >= 0))
        note = f"sweep {used}; scipy / engine {med(sp_t) / med(eng_t):.2f}×"
        nx_t = None
        if G is not None:
            nx_t, ref = timed(lambda f=fac_nodes, G=G: nx.multi_source_dijkstra_path_length(
                G, f.tolist(), weight="length"), rep)
            exp = np.full(net.n_nodes, np.inf)
            exp[np.fromiter(ref.keys(), np.int64)] = np.fromiter(ref.values(), float)
            same &= bool(np.allclose(res.cost, exp, rtol=1e-9, atol=1e-6))
        note += "; same distances" if same else "; DISTANCES DIFFER"
        row(rows, base, f"sweep, {k} facilities: engine", eng_t, other=nx_t, note=note)
        row(rows, base, f"sweep, {k} facilities: engine, whole graph", full_t, other=nx_t,
            note=f"scipy / engine {med(sp_t) / med(full_t):.2f}×")
        row(rows, base, f"sweep, {k} facilities: plain scipy dijkstra", sp_t, other=nx_t)
    assert fac100 is not None
    # Facilities where a user's services are: anywhere, with access legs to their roads (the
    # plain call cannot take these; the engine enters them through virtual source rows).
    fac_pts = snap_points(net, rng.uniform(lo, hi, (100, 2)), tolerance_m=5000)
    pts_t, _ = timed(lambda: nearest_facility(net, node_pts, fac_pts), rep)
    row(rows, base, "sweep, 100 facilities at random points (access legs): engine", pts_t,
        note=f"sweep {_sweep_choice(net, fac_pts, 100)}")
    warm_t, _ = timed(lambda: nearest_facility(net, node_pts, fac100), rep)
    fresh: list[float] = []
    for _ in range(rep):
        new = snap_points(net, node_xy)  # new origins: their road-end terms are not computed yet
        t0 = time.perf_counter()
        nearest_facility(net, new, fac100)
        fresh.append(time.perf_counter() - t0)
    row(rows, base, "first sweep from new origins (100 facilities)", fresh,
        note=f"warm {med(warm_t):.3f} s: +{med(fresh) - med(warm_t):.3f} s for the origins' terms")
    del G
    gc.collect()
    # Memory, untimed: a build, then the engine from the cache (load, snap, one sweep).
    tracemalloc.start()
    build_network(cfg, base_dir=base_dir)
    build_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    gc.collect()
    tracemalloc.start()
    n2 = build_network(cfg, base_dir=base_dir, cache_dir=cache_dir)
    o2 = snap_points(n2, pts)
    nearest_facility(n2, snap_points(n2, np.column_stack([n2.x, n2.y])), o2.subset(np.arange(1000)))
    engine_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    row(rows, base, "peak memory (tracemalloc, untimed pass)", None,
        note=f"build {build_peak:,.0f} MB; cache load + snap 100k + a 1000-facility sweep "
             f"{engine_peak:,.0f} MB")
    gc.collect()


def _contracted(net: Network) -> _Contraction:
    ctr = _Contraction(net)
    ctr.weighted(net, "length")
    return ctr


def _sweep_choice(net: Network, fac: Any, k: int) -> str:
    from arjenturva.network.contraction import _sweep_contraction
    from arjenturva.network.sweeps import _seeds

    seeds = _seeds(net, fac, "length", 30.0)[0].size
    return "contracted" if _sweep_contraction(net, "auto", seeds) is not None else "whole graph"


def print_table(rows: list[dict[str, Any]], rep: int) -> None:
    def fmt(t: list[float] | None) -> str:
        if not t:
            return ""
        m = med(t)
        d = 5 if m < 0.01 else 3 if m < 1 else 2
        return f"{m:.{d}f} / {min(t):.{d}f}"

    head = ("network", "nodes", "what", f"median / best of {rep}, s", "networkx or build, s", "ratio", "note")
    lines = [head]
    for r in rows:
        t, o = r["times"], r["other"]
        ratio = f"{med(o) / med(t):.0f}×" if t and o else ""
        lines.append((r["network"], f"{r['nodes']:,}", r["what"], fmt(t), fmt(o), ratio, r["note"]))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        out.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("\n".join(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grids", type=int, nargs="*", default=[141, 1000],
                    help="sides of the generated grids (nodes ≈ side²; default 141 1000)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of every timed step (median and best shown)")
    ap.add_argument("--skip-networkx", action="store_true", help="no networkx sweeps")
    ap.add_argument("--no-nls", action="store_true", help="skip the NLS network")
    args = ap.parse_args()
    rows: list[dict[str, Any]] = []
    load0 = os.getloadavg()[0]
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        if NLS.exists() and not args.no_nls:
            cfg = NetworkConfig(source=NLS.name, layer="road", class_column="DXF_LAYER")
            bench_source("NLS Finland 1:1M", cfg, NLS.parent, rows, args, tmp)
        elif not args.no_nls:
            print(f"(skipping NLS: {NLS} not found)")
        for side in args.grids:
            path = tmp / f"grid{side}.parquet"
            rural_grid(side).to_parquet(path)
            cfg = NetworkConfig(source=path.name, class_column="DXF_LAYER", oneway_column="oneway")
            bench_source(f"rural grid {side}²", cfg, tmp, rows, args, tmp)
            path.unlink()
    print_table(rows, args.repeat)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS {rss:,.0f} MB; {time.perf_counter() - t_start:.0f} s; load average "
          f"{load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()

"""Benchmark of the whole gap analysis on a generated region (standalone script, not a test).

Run from the repository root::

    python benchmarks/bench_gaps.py                 # ~1M road nodes, 100k cells, 20 services
    python benchmarks/bench_gaps.py --grid 500 --cells 25000 --baseline-services 1   # quicker

The region: the generated rural road network of ``bench_network.py`` (a jittered 400 m grid of
about ``grid²`` nodes with many roads removed), ``--cells`` populated 1 km square cells clustered
around towns (a few cells with suppressed counts, a few without an area class so the derivation
runs too), 40 municipalities, 20 services with thresholds per area class (some in minutes, some
with mobile or remote rules) and ``--points`` service points offering 1–4 services each (mostly
fixed, some mobile or remote; three services carry capacities so the 2SFCA/E2SFCA path runs).

The analysis is the real code path, :func:`arjenturva.coverage.find_gaps`, on in-memory layers
shaped like validated workspace layers: snapping, every sweep, gap areas and indicators (no file
export). The network is loaded from its NPZ cache as the CLI does (``network build`` is a
separate step). Peak memory is the tracemalloc peak of that call (a second, untimed run) and the
process peak RSS before the baseline builds its networkx graph.

The baseline does the same nearest-service sweeps with networkx: nearest-node snapping (k-d
tree) and ``nx.multi_source_dijkstra_path_length`` on the reversed graph, one sweep by length and
one by time per service. It runs on ``--baseline-services`` services and is extrapolated linearly
to all services; it is a lower bound of a networkx pipeline (it skips the extra limited sweeps of
services with mobile/remote points, the 2SFCA cost matrices, the gap areas and the indicators).
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_network import rural_grid  # noqa: E402

from arjenturva.config import Config, config_from_dict  # noqa: E402
from arjenturva.coverage import GapResult, find_gaps  # noqa: E402
from arjenturva.network import Network, load_network, network_from_lines, save_network  # noqa: E402

SERVICES = [
    "health", "shop", "library", "pharmacy", "school", "daycare", "homecare", "post", "dental",
    "fuel", "elderly_day", "sports", "youth", "social", "church", "bus", "atm", "vet", "repair",
    "meals",
]
CAPACITY_SERVICES = ("health", "dental", "daycare")
MOBILE_SERVICES = ("library", "homecare", "shop", "dental", "meals", "vet")
REMOTE_SERVICES = ("social", "health", "youth", "atm")


def make_config(seed: int = 0) -> Config:
    """20 services with distance (and some time) thresholds per area class."""
    rng = np.random.default_rng(seed)
    base_km = {"K1": 2, "K2": 4, "K3": 6, "M4": 10, "M5": 15, "M6": 20, "M7": 30}
    services: dict[str, Any] = {}
    for i, sid in enumerate(SERVICES):
        scale = float(rng.uniform(0.6, 1.8))
        svc: dict[str, Any] = {
            "label": {"fi": f"palvelu {sid}", "en": f"service {sid}"},
            "threshold_km": {c: round(v * scale, 1) for c, v in base_km.items()},
            "demand": ("age_65_plus" if sid in ("homecare", "elderly_day", "meals")
                       else "age_0_14" if sid in ("school", "daycare", "youth") else "population"),
        }
        if i % 3 == 0:
            svc["threshold_min"] = {"default": round(30 * scale), "M7": round(45 * scale)}
        if sid in MOBILE_SERVICES:
            svc["mobile"] = {"required_days": 5 if sid in ("homecare", "meals") else 2}
        if sid in REMOTE_SERVICES:
            svc["remote"] = 0.5
        services[sid] = svc
    return config_from_dict({
        "name": "bench region",
        "inputs": {"municipalities": {"path": "m.gpkg"}, "population": {"path": "p.gpkg"},
                   "service_points": {"path": "s.gpkg"}},
        "network": {"source": "roads.gpkg", "cost": "distance"},
        "services": services,
    })


def make_layers(net: Network, n_cells: int, n_points: int, n_munis_side: tuple[int, int] = (8, 5),
                seed: int = 1) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Population cells, service points and municipalities shaped like validated layers."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.x.min(), net.y.min(), net.x.max(), net.y.max()
    # Municipalities: a grid of rectangles over the region.
    nx_, ny_ = n_munis_side
    xs = np.linspace(x0 - 1, x1 + 1, nx_ + 1)
    ys = np.linspace(y0 - 1, y1 + 1, ny_ + 1)
    codes, names, geoms = [], [], []
    for i in range(nx_):
        for j in range(ny_):
            codes.append(f"{100 + i * ny_ + j:03d}")
            names.append(f"Kunta {i * ny_ + j + 1}")
            geoms.append(shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]))
    munis = gpd.GeoDataFrame({"code": codes, "name": names}, geometry=geoms, crs=3067)

    def muni_of(px: np.ndarray, py: np.ndarray) -> np.ndarray:
        i = np.clip(np.searchsorted(xs, px, side="right") - 1, 0, nx_ - 1)
        j = np.clip(np.searchsorted(ys, py, side="right") - 1, 0, ny_ - 1)
        return np.asarray(codes, dtype=object)[i * ny_ + j]

    # Population: 1 km cells sampled with a density of towns over a rural background.
    gx = np.arange(np.floor(x0 / 1000), np.ceil(x1 / 1000))
    gy = np.arange(np.floor(y0 / 1000), np.ceil(y1 / 1000))
    GX, GY = np.meshgrid(gx, gy, indexing="ij")
    cx, cy = (GX.ravel() + 0.5) * 1000, (GY.ravel() + 0.5) * 1000
    towns = rng.uniform([x0, y0], [x1, y1], (60, 2))
    tsize = rng.lognormal(1.5, 0.8, 60) * 1000
    dens = 0.05 + sum(np.exp(-((cx - tx) ** 2 + (cy - ty) ** 2) / (2 * s * s))
                      for (tx, ty), s in zip(towns, tsize, strict=True))
    n_cells = min(n_cells, cx.size)
    pick = rng.choice(cx.size, n_cells, replace=False, p=dens / dens.sum())
    cx, cy, d = cx[pick], cy[pick], dens[pick]
    pop = np.round(rng.lognormal(1.5, 1.0, n_cells) * (1 + 200 * d ** 2)).clip(1, 20_000)
    share65 = rng.uniform(0.15, 0.45, n_cells)
    share014 = rng.uniform(0.05, 0.2, n_cells)
    a65 = np.round(pop * share65)
    a014 = np.round(pop * share014)
    a1564 = pop - a65 - a014
    ac = np.select([pop >= 1500, pop >= 300, pop >= 100, pop >= 30, pop >= 10, pop >= 5],
                   ["K1", "K2", "K3", "M4", "M5", "M6"], "M7").astype(object)
    ac[rng.random(n_cells) < 0.02] = None  # blanks: the classes are derived for those
    suppressed = rng.random(n_cells) < 0.03
    popf = np.where(suppressed, np.nan, pop)
    cells = shapely.box(cx - 500, cy - 500, cx + 500, cy + 500)
    population = gpd.GeoDataFrame({
        "cell_id": [f"c{i:06d}" for i in range(n_cells)],
        "population": popf,
        "age_0_14": np.where(suppressed, np.nan, a014),
        "age_15_64": np.where(suppressed, np.nan, a1564),
        "age_65_plus": np.where(suppressed, np.nan, a65),
        "area_class": ac,
        "suppressed": suppressed,
        "municipality": muni_of(cx, cy),
    }, geometry=cells, crs=3067)

    # Service points near people: 1–4 services each, popular services more often.
    at = rng.choice(n_cells, n_points, p=pop / pop.sum())
    px = cx[at] + rng.uniform(-450, 450, n_points)
    py = cy[at] + rng.uniform(-450, 450, n_points)
    popularity = rng.uniform(0.3, 3.0, len(SERVICES))
    offers = []
    for k in rng.integers(1, 5, n_points):
        offers.append(tuple(rng.choice(SERVICES, k, replace=False, p=popularity / popularity.sum())))
    mode = rng.choice(["fixed", "mobile", "remote"], n_points, p=[0.85, 0.1, 0.05]).astype(object)
    days = np.where(mode == "mobile", rng.integers(1, 6, n_points), np.nan).astype(float)
    # Capacity is per point: points with one (a health station, a dental clinic, a day-care
    # centre) offer only that service, so the 2SFCA path runs for those three services.
    has_cap = (mode == "fixed") & (rng.random(n_points) < 0.15)
    for i in np.flatnonzero(has_cap):
        offers[i] = (CAPACITY_SERVICES[i % len(CAPACITY_SERVICES)],)
    capacity = np.where(has_cap, rng.integers(50, 2000, n_points), np.nan).astype(float)
    points = gpd.GeoDataFrame({
        "point_id": [f"p{i:05d}" for i in range(n_points)],
        "name": [f"Piste {i}" for i in range(n_points)],
        "services": offers,
        "actor_id": [f"a{i % 300:03d}" for i in range(n_points)],
        "mode": mode,
        "days_per_week": days,
        "capacity": capacity,
        "municipality": muni_of(px, py),
    }, geometry=shapely.points(px, py), crs=3067)
    return population, points, munis


def networkx_baseline(net: Network, population: gpd.GeoDataFrame, points: gpd.GeoDataFrame,
                      services: list[str]) -> tuple[float, float, dict[str, float]]:
    """Seconds to build the networkx graph, and of the per-service sweeps (length + time)."""
    t0 = time.perf_counter()
    G = nx.DiGraph()
    G.add_nodes_from(range(net.n_nodes))
    ml, mt = net.csr_length_t.tocoo(), net.csr_time_t.tocoo()  # reversed graph: service -> home
    G.add_edges_from((u, v, {"length": a, "time": b}) for u, v, a, b in zip(
        ml.row.tolist(), ml.col.tolist(), ml.data.tolist(), mt.data.tolist(), strict=True))
    build_s = time.perf_counter() - t0
    per: dict[str, float] = {}
    t0 = time.perf_counter()
    tree = cKDTree(np.column_stack([net.x, net.y]))
    reps = population.geometry.representative_point()
    _, cell_node = tree.query(np.column_stack([reps.x, reps.y]))
    _, point_node = tree.query(np.column_stack([points.geometry.x, points.geometry.y]))
    snap_s = time.perf_counter() - t0
    for sid in services:
        t0 = time.perf_counter()
        sel = np.flatnonzero(points["services"].map(lambda o, sid=sid: sid in o).to_numpy())
        for w in ("length", "time"):
            dist = nx.multi_source_dijkstra_path_length(G, point_node[sel].tolist(), weight=w)
            _ = [dist.get(int(c), np.inf) for c in cell_node]
        per[sid] = time.perf_counter() - t0
    del G
    gc.collect()
    return build_s, snap_s, per


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", type=int, default=1000, help="road grid side (nodes ≈ side²; default 1000)")
    ap.add_argument("--cells", type=int, default=100_000, help="population cells (default 100 000)")
    ap.add_argument("--points", type=int, default=2000, help="service points (default 2 000)")
    ap.add_argument("--baseline-services", type=int, default=2,
                    help="services the networkx baseline runs on (extrapolated; 0 skips it)")
    ap.add_argument("--repeat", type=int, default=2, help="timed runs of find_gaps (best and median shown)")
    ap.add_argument("--no-tracemalloc", action="store_true", help="skip the extra run measuring peak memory")
    ap.add_argument("--workers", type=int, default=None,
                    help="processes for find_gaps (default: its automatic choice; 1 = one process)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    lines = rural_grid(args.grid)
    built = network_from_lines(lines, class_column="DXF_LAYER", oneway_column="oneway", source="rural grid")
    del lines
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "net.npz"
        save_network(built, p)
        del built
        gc.collect()
        t1 = time.perf_counter()
        net = load_network(p)
        load_s = time.perf_counter() - t1
    gen_net_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    config = make_config()
    population, points, munis = make_layers(net, args.cells, args.points)
    gen_layers_s = time.perf_counter() - t0
    pairs = int(points["services"].map(len).sum())
    print(f"network: {net.n_nodes:,} nodes, {net.n_edges:,} edges ({gen_net_s:.1f} s to generate; "
          f"cache load {load_s:.2f} s)")
    print(f"layers: {len(population):,} cells, {len(points):,} points ({pairs:,} point-services), "
          f"{len(munis)} municipalities, {len(config.services)} services ({gen_layers_s:.1f} s)")
    gc.collect()

    runs: list[tuple[float, GapResult]] = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = find_gaps(config, net, population, points, munis, places=None, workers=args.workers)
        runs.append((time.perf_counter() - t0, res))
        gc.collect()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    walls = sorted(w for w, _ in runs)
    best_wall, res = min(runs, key=lambda r: r[0])
    del runs
    gc.collect()
    peak_mb = None
    if not args.no_tracemalloc:
        tracemalloc.start()
        find_gaps(config, net, population, points, munis, places=None, workers=args.workers)
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        gc.collect()

    nb = min(args.baseline_services, len(config.services))
    base = None
    if nb:
        # Services with about the median number of points, so the extrapolation is fair.
        counts = {s: int(points["services"].map(lambda o, s=s: s in o).sum()) for s in config.services}
        chosen = sorted(counts, key=lambda s: abs(counts[s] - np.median(list(counts.values()))))[:nb]
        base = networkx_baseline(net, population, points, chosen)

    rows: list[tuple[str, str, str]] = []
    tm = res.timings
    total = tm.get("total_s", best_wall)
    rows.append(("find_gaps total (best)", f"{best_wall:.2f} s",
                 f"median {float(np.median(walls)):.2f} s of {len(walls)}; target < 30 s"))
    for k in ("snap_s", "sweeps_s", "fca_s", "gap_areas_s", "indicators_s"):
        if k in tm:
            rows.append((f"  {k.removesuffix('_s')}", f"{tm[k]:.2f} s", f"{100 * tm[k] / total:.0f} %"))
    rows.append(("  outputs", "", f"{len(res.access):,} access rows, {len(res.gaps):,} gap rows, "
                 f"{len(res.gap_areas):,} gap areas, {len(res.unreachable):,} unreachable rows"))
    if peak_mb is not None:
        rows.append(("peak memory find_gaps (tracemalloc)", f"{peak_mb:,.0f} MB", "target < 4 GB"))
    rows.append(("process peak RSS so far", f"{rss_mb:,.0f} MB", "incl. generating the network"))
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if child_mb:
        rows.append(("largest worker process peak RSS", f"{child_mb:,.0f} MB",
                     "forked: most of it is pages shared with the parent"))
    if base is not None:
        build_s, snap_s, per = base
        mean = float(np.mean(list(per.values())))
        extrap = snap_s + mean * len(config.services)
        rows.append(("networkx baseline: graph build", f"{build_s:.1f} s", "not counted below"))
        rows.append(("networkx baseline: sweeps", f"{extrap:.1f} s",
                     f"{mean:.1f} s/service (length+time) on {', '.join(per)}; ×{len(config.services)} "
                     f"services, extrapolated; + nearest-node snap {snap_s:.2f} s"))
        rows.append(("ratio baseline / find_gaps total", f"{extrap / best_wall:.0f}×", "target ≥ 20×"))
        rows.append(("ratio baseline / engine sweeps", f"{extrap / tm['sweeps_s']:.0f}×",
                     "sweeps phase only (it also runs limited sweeps for mobile/remote)"))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print()
    print(f"| {'what':<{w0}} | {'value':>{w1}} | note")
    print(f"|{'-' * (w0 + 2)}|{'-' * (w1 + 2)}|------")
    for a, b, c in rows:
        print(f"| {a:<{w0}} | {b:>{w1}} | {c}")
    pd.set_option("display.width", 200)
    print(f"\narea classes: {res.area_class_source}; warnings: {len(res.warnings)}")


if __name__ == "__main__":
    main()

"""Benchmark of the whole gap analysis on a generated region (standalone script, not a test).

Run from the repository root::

    python benchmarks/bench_gaps.py                 # ~1M road nodes, 100k cells, 20 services
    python benchmarks/bench_gaps.py --grid 200 --cells 20000 --points 500 --repeat 3   # quick

The region: the generated rural road network of ``bench_network.py`` (a jittered 400 m grid of
about ``grid²`` nodes with many roads removed), ``--cells`` populated 1 km square cells clustered
around towns (a few cells with suppressed counts, a few without an area class so the derivation
runs too), 40 municipalities, 20 services with thresholds per area class (some in minutes, some
with mobile or remote rules) and ``--points`` service points offering 1–4 services each (mostly
fixed, some mobile or remote; three services carry capacities so the 2SFCA/E2SFCA path runs).

The analysis is the real code path, :func:`arjenturva.coverage.find_gaps`, on in-memory layers
shaped like validated workspace layers: snapping, every sweep, gap areas and indicators (no file
export). The network is loaded from its NPZ cache as the CLI does (``network build`` is a
separate step).

The baseline does the sweeps of the analysis with networkx, on the reversed graph after
nearest-node snapping (k-d tree):

* the nearest-service sweeps, ``nx.multi_source_dijkstra_path_length`` by length and by time
  for each service;
* the limited sweeps of services whose points count differently (mobile visits, remote): one
  multi-source sweep with ``cutoff`` per group of equal weight and metric with a threshold, as
  find_gaps runs them;
* the 2SFCA catchments: ``nx.single_source_dijkstra_path_length`` with ``cutoff`` from every
  point with a capacity.

Each sweep also reads the cost of every cell. The baseline leaves out everything else find_gaps
does (exact snapping onto roads, access legs, gap areas and outlines, indicators), so it is a
lower bound of a networkx pipeline; the table also shows the ratio to the nearest-service sweeps
alone. With ``--baseline-sample N`` only N sweeps of each kind are timed and the kind's time is
extrapolated from them (the table says so); by default every sweep runs.

Fair comparison: both sides run ``--repeat`` times and the table shows the median and the best.
They are compared at the same process count: one process (``find_gaps(workers=1)`` against the
baseline's sweeps one after another) and ``--workers`` processes (``find_gaps(workers=N)``
against the baseline's sweeps spread over N forked processes). The first ``find_gaps`` of a
process also builds the snapping index and the contracted graph (kept with the network) and is
shown apart. Memory is measured in a separate, untimed run under tracemalloc.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import os
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
import shapely
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_network import rural_grid  # noqa: E402

from arjenturva.config import Config, config_from_dict  # noqa: E402
from arjenturva.coverage import GapResult, find_gaps, point_weight  # noqa: E402
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
    for i in np.flatnonzero(has_cap).tolist():
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


def sweep_plan(config: Config, points: gpd.GeoDataFrame) -> tuple[list[tuple[str, np.ndarray, str, float]],
                                                                  list[tuple[str, int, float]]]:
    """The limited sweeps find_gaps runs besides the nearest-service ones, as networkx would run them.

    Returns the mobile/remote group sweeps (service, point rows, weight, limit): one per group of
    equal coverage weight and metric with a threshold, for services whose points count
    differently, and the 2SFCA sweeps (service, point row, catchment m): one per point with a
    capacity.
    """
    groups, fca = [], []
    modes = points["mode"].to_numpy()
    days = points["days_per_week"].to_numpy(dtype=float)
    capacity = points["capacity"].to_numpy(dtype=float)
    for sid, svc in config.services.items():
        offered = np.flatnonzero(points["services"].map(lambda o, sid=sid: sid in o).to_numpy())
        wts = point_weight(svc, modes[offered], days[offered])
        counted, wts = offered[wts > 0], wts[wts > 0]
        levels = np.unique(wts)
        if len(levels) > 1:
            for lv in levels:
                rows = counted[wts == lv]
                if svc.threshold_km:
                    groups.append((sid, rows, "length", 1000.0 * max(svc.threshold_km.values())))
                if svc.threshold_min:
                    groups.append((sid, rows, "time", 60.0 * max(svc.threshold_min.values())))
        if svc.threshold_km:
            cap = offered[np.isfinite(capacity[offered]) & (capacity[offered] > 0)]
            fca += [(sid, int(r), 1000.0 * max(svc.threshold_km.values())) for r in cap]
    return groups, fca


_BASE: dict[str, Any] = {}
"""The baseline's graph and snapped nodes, set before the worker processes are forked."""


def _run_task(task: tuple[str, Any, str, float]) -> float:
    """One networkx sweep of the baseline (and reading every cell's cost); returns its seconds."""
    G, cell_node, point_node = _BASE["G"], _BASE["cell_node"], _BASE["point_node"]
    kind, rows, weight, limit = task
    t0 = time.perf_counter()
    if kind == "fca":
        dist = nx.single_source_dijkstra_path_length(G, int(point_node[rows]), cutoff=limit, weight=weight)
    else:
        cutoff = None if kind == "nearest" else limit
        sources = point_node[rows].tolist()
        dist = nx.multi_source_dijkstra_path_length(G, sources, cutoff=cutoff, weight=weight)
    _ = [dist.get(int(c), np.inf) for c in cell_node]
    return time.perf_counter() - t0


def baseline_tasks(config: Config, points: gpd.GeoDataFrame) -> dict[str, list[tuple[str, Any, str, float]]]:
    """Every sweep the baseline runs, by kind: nearest (per service, length and time), groups, fca."""
    tasks: dict[str, list[tuple[str, Any, str, float]]] = {"nearest": [], "groups": [], "fca": []}
    for sid in config.services:
        sel = np.flatnonzero(points["services"].map(lambda o, sid=sid: sid in o).to_numpy())
        tasks["nearest"] += [("nearest", sel, w, np.inf) for w in ("length", "time")]
    groups, fca = sweep_plan(config, points)
    tasks["groups"] = [("groups", rows, w, limit) for _sid, rows, w, limit in groups]
    tasks["fca"] = [("fca", prow, "length", limit) for _sid, prow, limit in fca]
    return tasks


def prepare_baseline(net: Network, population: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> float:
    """Build the networkx graph (reversed: service -> home); returns its seconds (not counted)."""
    t0 = time.perf_counter()
    G = nx.DiGraph()
    G.add_nodes_from(range(net.n_nodes))
    ml, mt = net.csr_length_t.tocoo(), net.csr_time_t.tocoo()
    G.add_edges_from((u, v, {"length": a, "time": b}) for u, v, a, b in zip(
        ml.row.tolist(), ml.col.tolist(), ml.data.tolist(), mt.data.tolist(), strict=True))
    _BASE.update(G=G, net=net, population=population, points=points)
    return time.perf_counter() - t0


def run_baseline(tasks: dict[str, list[tuple[str, Any, str, float]]], sample: int,
                 workers: int) -> dict[str, float]:
    """Seconds of one baseline run by kind (sampled kinds extrapolated) and in total (wall)."""
    net, population, points = _BASE["net"], _BASE["population"], _BASE["points"]
    t0 = time.perf_counter()
    tree = cKDTree(np.column_stack([net.x, net.y]))
    reps = population.geometry.representative_point()
    _BASE["cell_node"] = tree.query(np.column_stack([reps.x, reps.y]))[1]
    _BASE["point_node"] = tree.query(np.column_stack([points.geometry.x, points.geometry.y]))[1]
    out = {"snap": time.perf_counter() - t0}
    t0 = time.perf_counter()
    pool = mp.get_context("fork").Pool(workers) if workers > 1 else None  # forked once per run
    out["start"] = time.perf_counter() - t0
    try:
        for kind, todo in tasks.items():
            if sample and len(todo) > sample:
                todo = [todo[k] for k in np.linspace(0, len(todo) - 1, sample).round().astype(int)]
            scale = len(tasks[kind]) / max(len(todo), 1)
            t0 = time.perf_counter()
            if pool is not None:
                pool.map(_run_task, todo, chunksize=1)
            else:
                for task in todo:
                    _run_task(task)
            out[kind] = (time.perf_counter() - t0) * scale
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    out["total"] = sum(out.values())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", type=int, default=1000, help="road grid side (nodes ≈ side²; default 1000)")
    ap.add_argument("--cells", type=int, default=100_000, help="population cells (default 100 000)")
    ap.add_argument("--points", type=int, default=2000, help="service points (default 2 000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side at each process count")
    ap.add_argument("--workers", type=int, default=2, help="processes of the parallel comparison (default 2)")
    ap.add_argument("--baseline-sample", type=int, default=0,
                    help="time only this many networkx sweeps of each kind and extrapolate (0: all)")
    ap.add_argument("--no-baseline", action="store_true", help="time find_gaps only")
    ap.add_argument("--no-tracemalloc", action="store_true", help="skip the extra run measuring peak memory")
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    t_start = time.perf_counter()

    t0 = time.perf_counter()
    lines = rural_grid(args.grid)
    built = network_from_lines(lines, class_column="DXF_LAYER", oneway_column="oneway", source="rural grid")
    del lines
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "net.npz"
        save_network(built, p)
        del built
        gc.collect()
        net = load_network(p)
    gen_net_s = time.perf_counter() - t0
    config = make_config()
    population, points, munis = make_layers(net, args.cells, args.points)
    pairs = int(points["services"].map(len).sum())
    print(f"network: {net.n_nodes:,} nodes, {net.n_edges:,} edges ({gen_net_s:.1f} s to generate)")
    print(f"layers: {len(population):,} cells, {len(points):,} points ({pairs:,} point-services), "
          f"{len(munis)} municipalities, {len(config.services)} services")
    gc.collect()

    def gaps(workers: int) -> GapResult:
        return find_gaps(config, net, population, points, munis, places=None, workers=workers)

    t0 = time.perf_counter()
    res = gaps(1)
    first_s = time.perf_counter() - t0
    phases = ", ".join(f"{k.removesuffix('_s')} {v:.2f}" for k, v in res.timings.items())
    print(f"first run (one process, builds the snap index and contracted graph): {first_s:.2f} s ({phases})",
          flush=True)
    walls: dict[int, list[float]] = {}
    for w in (1, args.workers):
        walls[w] = []
        for _ in range(args.repeat):
            gc.collect()
            t0 = time.perf_counter()
            res = gaps(w)
            walls[w].append(time.perf_counter() - t0)
        print(f"find_gaps, {w} process(es): " + ", ".join(f"{t:.2f}" for t in walls[w]) + " s", flush=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_mb = None
    if not args.no_tracemalloc:
        gc.collect()
        tracemalloc.start()
        gaps(1)
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        gc.collect()

    base: dict[int, list[dict[str, float]]] = {}
    tasks: dict[str, list[tuple[str, Any, str, float]]] = {}
    build_s = 0.0
    if not args.no_baseline:
        build_s = prepare_baseline(net, population, points)
        tasks = baseline_tasks(config, points)
        for w in (1, args.workers):
            base[w] = []
            for _ in range(args.repeat):
                gc.collect()
                base[w].append(run_baseline(tasks, args.baseline_sample, w))
            print(f"networkx baseline, {w} process(es): "
                  + ", ".join(f"{b['total']:.1f}" for b in base[w]) + " s", flush=True)

    def mb(v: list[float]) -> str:
        return f"{np.median(v):.2f} / {min(v):.2f} s"

    rows: list[tuple[str, str, str]] = []
    for w in (1, args.workers):
        rows.append((f"find_gaps, {w} process{'es' if w > 1 else ''}", mb(walls[w]),
                     f"median / best of {args.repeat}"))
    tm = res.timings
    total = tm.get("total_s", float(np.median(walls[args.workers])))
    for k in ("snap_s", "sweeps_s", "fca_s", "gap_areas_s", "indicators_s"):
        if k in tm:
            rows.append((f"  {k.removesuffix('_s')} (last run)", f"{tm[k]:.2f} s",
                         f"{100 * tm[k] / total:.0f} %"))
    rows.append(("  first run of a process", f"{first_s:.2f} s",
                 "one process; also builds the snap index and contracted graph"))
    rows.append(("  outputs", "", f"{len(res.access):,} access rows, {len(res.gaps):,} gap rows, "
                 f"{len(res.gap_areas):,} gap areas, {len(res.unreachable):,} unreachable rows"))
    if peak_mb is not None:
        rows.append(("peak memory find_gaps (tracemalloc, untimed run)", f"{peak_mb:,.0f} MB", "one process"))
    rows.append(("process peak RSS before the baseline", f"{rss_mb:,.0f} MB", "incl. generating the network"))
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if child_mb:
        rows.append(("largest worker process peak RSS", f"{child_mb:,.0f} MB",
                     "forked: most of it is pages shared with the parent"))
    if base:
        n = {k: len(v) for k, v in tasks.items()}
        how = (f"{args.baseline_sample} of each kind timed, extrapolated" if args.baseline_sample
               else "every sweep run")
        rows.append(("networkx graph build", f"{build_s:.1f} s", "not counted"))
        for w in (1, args.workers):
            tot = [b["total"] for b in base[w]]
            rows.append((f"networkx baseline, {w} process{'es' if w > 1 else ''}", mb(tot), how))
            parts = ", ".join(f"{k} {np.median([b[k] for b in base[w]]):.1f} s ({n.get(k, 1)})"
                              for k in ("nearest", "groups", "fca", "snap"))
            rows.append(("  by kind (median, sweeps)", "", parts))
        for w in (1, args.workers):
            bt = [b["total"] for b in base[w]]
            near = [b["nearest"] + b["snap"] for b in base[w]]
            rows.append((f"ratio baseline / find_gaps, {w} process{'es' if w > 1 else ''}",
                         f"{np.median(bt) / np.median(walls[w]):.1f}×",
                         f"best / best {min(bt) / min(walls[w]):.1f}×; nearest-service sweeps and snapping "
                         f"only: {np.median(near) / np.median(walls[w]):.1f}×"))
        b1 = np.median([b["total"] for b in base[1]])
        bw = np.median([b["total"] for b in base[args.workers]])
        rows.append((f"speed-up of {args.workers} processes", "",
                     f"find_gaps {np.median(walls[1]) / np.median(walls[args.workers]):.2f}×, "
                     f"networkx {b1 / bw:.2f}×"))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print()
    print(f"| {'what':<{w0}} | {'value':>{w1}} | note")
    print(f"|{'-' * (w0 + 2)}|{'-' * (w1 + 2)}|------")
    for a_, b_, c_ in rows:
        print(f"| {a_:<{w0}} | {b_:>{w1}} | {c_}")
    print(f"\narea classes: {res.area_class_source}; warnings: {len(res.warnings)}; "
          f"{time.perf_counter() - t_start:.0f} s; load average {load0:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()

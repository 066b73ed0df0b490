"""Benchmark the partnership-proposal optimiser on generated region-sized instances.

Run from the repository root::

    python benchmarks/bench_propose.py            # three seeds of the default region
    python benchmarks/bench_propose.py --seeds 1 --options 5000 --time-limit 60
    python benchmarks/bench_propose.py --build    # time build_problem on a generated world

Each instance mimics one region: about 50 gap areas in five municipalities, 10 services (gaps in
most services of each area, i.e. a few hundred demand units), 200 actors in five sectors and about
2 000 candidate options (fixed points at gap-area centroids and existing sites, mobile visits,
remote services), with capacities, global budgets, the cross-sector rule (k = 2), an actor-share
limit and a hub bonus. The table compares the MIP (HiGHS via highspy with the greedy solution as
starting incumbent, or via scipy.optimize.milp with ``--backend scipy``) with the greedy heuristic.

``--build`` times the step before the solver instead, :func:`build_problem`, on a generated world
of the same kind (road grid, population cells around villages, 10 services, 200 actors, five
municipalities; see :func:`generate_world`): median and best of ``--repeat`` runs, and the size of
the problem it builds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from shapely.geometry import LineString, Point, box

from arjenturva.config import Config, config_from_dict
from arjenturva.coverage import GapResult, find_gaps
from arjenturva.network import Network, network_from_lines
from arjenturva.proposals import (
    FIXED,
    MOBILE,
    REMOTE,
    ProposalProblem,
    build_problem,
    solve_greedy,
    solve_mip,
)


def generate_region(
    seed: int,
    *,
    n_areas: int = 50,
    n_services: int = 10,
    n_actors: int = 200,
    n_options: int = 2000,
    n_munis: int = 5,
    n_sectors: int = 5,
) -> ProposalProblem:
    """Generate a random region-sized proposal instance (coordinates in km)."""
    rng = np.random.default_rng(seed)
    # Gap areas: clustered around municipality centres, with population and an uncovered share.
    centres = rng.uniform(0, 200, (n_munis, 2))
    area_muni = rng.integers(0, n_munis, n_areas)
    area_xy = centres[area_muni] + rng.normal(0, 18, (n_areas, 2))
    area_pop = rng.lognormal(4.5, 0.8, n_areas)  # ~ 90 people, heavy tail
    area_old = rng.uniform(0.2, 0.45, n_areas)
    # Demand units: (area, service) pairs with a gap.
    gap = rng.random((n_areas, n_services)) < 0.65
    unit_area, unit_service = np.nonzero(gap)
    n = unit_area.size
    service_weight = rng.uniform(0.5, 2.0, n_services)
    uncovered = rng.uniform(0.4, 1.0, n)
    pop = area_pop[unit_area]
    weight = pop * (1 + area_old[unit_area]) * service_weight[unit_service] * uncovered
    demand = pop * uncovered
    clients_per_resident = rng.uniform(0.02, 0.1, n_services)[unit_service]
    threshold_km = rng.uniform(8, 25, n_services)
    remote_ok = rng.random(n_services) < 0.5
    remote_ok[0] = True

    # Actors: a sector, a home municipality, a few services, a base and a weekly capacity.
    actor_sector = rng.integers(0, n_sectors, n_actors)
    actor_muni = rng.integers(0, n_munis, n_actors)
    actor_services = [
        rng.choice(n_services, size=int(rng.integers(1, 4)), replace=False) for _ in range(n_actors)
    ]
    capacity = rng.uniform(5, 40, n_actors)
    capacity[rng.random(n_actors) < 0.15] = np.inf

    # Candidate sites: gap-area centroids plus existing service points.
    n_existing = 30
    site_xy = np.r_[
        area_xy, centres[rng.integers(0, n_munis, n_existing)] + rng.normal(0, 10, (n_existing, 2))
    ]
    site_muni = np.r_[area_muni, np.zeros(n_existing, dtype=int)]
    site_muni[n_areas:] = np.argmin(np.linalg.norm(site_xy[n_areas:, None] - centres[None], axis=2), axis=1)
    dist = np.linalg.norm(area_xy[:, None] - site_xy[None], axis=2)  # areas x sites
    area_dist = np.linalg.norm(area_xy[:, None] - area_xy[None], axis=2)

    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    opt = {k: [] for k in ("actor", "service", "mode", "site", "cost", "sector", "muni")}
    units_of = {(a, s): i for i, (a, s) in enumerate(zip(unit_area, unit_service, strict=True))}
    j = 0
    attempts = 0
    while j < n_options and attempts < 50 * n_options:
        attempts += 1
        a = int(rng.integers(0, n_actors))
        s = int(rng.choice(actor_services[a]))
        mode = int(rng.choice([FIXED, MOBILE, REMOTE], p=[0.5, 0.35, 0.15]))
        if mode == REMOTE and not remote_ok[s]:
            mode = MOBILE
        # Sites in the actor's municipality or a neighbouring one.
        near = np.flatnonzero(np.linalg.norm(site_xy - centres[actor_muni[a]], axis=1) < 70)
        if near.size == 0:
            continue
        site = int(rng.choice(near))
        if mode == FIXED:
            areas = np.flatnonzero(dist[:, site] <= threshold_km[s])
            frac = np.ones(areas.size)
            cost = 2.0 + 0.05 * float(np.linalg.norm(site_xy[site] - centres[actor_muni[a]]))
        elif mode == MOBILE:
            days = int(rng.integers(1, 4))
            stop_area = site if site < n_areas else int(np.argmin(dist[:, site]))
            areas = np.flatnonzero(area_dist[stop_area] <= 1.5 * threshold_km[s])
            frac = np.full(areas.size, min(1.0, days / 3.0))
            cost = 1.0 * days + 0.03 * float(np.linalg.norm(site_xy[site] - centres[actor_muni[a]]))
        else:
            areas = np.flatnonzero(dist[:, site] <= 3 * threshold_km[s])
            frac = np.full(areas.size, 0.5)
            cost = 1.0
        keep = [
            (units_of[(int(ar), s)], f) for ar, f in zip(areas, frac, strict=True) if (int(ar), s) in units_of
        ]
        if not keep:
            continue
        idx, fr = zip(*keep, strict=True)
        rows.append(np.asarray(idx))
        cols.append(np.full(len(idx), j))
        vals.append(np.asarray(fr))
        muni = int(site_muni[site])
        for key, value in (
            ("actor", a),
            ("service", s),
            ("mode", mode),
            ("site", site),
            ("cost", cost),
            ("sector", int(actor_sector[a])),
            ("muni", muni),
        ):
            opt[key].append(value)
        j += 1
    coverage = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, j)
    )
    return ProposalProblem(
        coverage=coverage,
        weight=weight,
        demand=demand,
        service=unit_service,
        municipality=area_muni[unit_area],
        opt_actor=np.asarray(opt["actor"]),
        opt_service=np.asarray(opt["service"]),
        opt_mode=np.asarray(opt["mode"]),
        opt_site=np.asarray(opt["site"]),
        opt_cost=np.asarray(opt["cost"]),
        opt_sector=np.asarray(opt["sector"]),
        opt_municipality=np.asarray(opt["muni"]),
        capacity=capacity,
        clients_per_resident=clients_per_resident,
        max_new_sites=15,
        max_mobile_routes=25,
        max_remote_points=10,
        min_sectors=2,
        max_actor_share=0.4,
        hub_bonus=float(np.median(weight)) * 0.25,
    )


@dataclass(frozen=True)
class World:
    """The inputs of :func:`build_problem` for a generated region."""

    config: Config
    net: Network
    gaps: GapResult
    actors: gpd.GeoDataFrame
    service_points: gpd.GeoDataFrame
    places: gpd.GeoDataFrame


# id: (threshold km by area class, sectors, mobile days needed, remote weight, smallest fixed demand)
WORLD_SERVICES = {
    "health_station": (
        {"default": 25, "M7": 40},
        ["wellbeing_county", "company", "cooperative"],
        5,
        0.5,
        800,
    ),
    "dental": ({"default": 30, "M7": 60}, ["wellbeing_county", "company"], 5, 0.0, 800),
    "pharmacy": ({"default": 20, "M7": 45}, ["company", "cooperative"], 0, 0.5, 500),
    "grocery": (
        {"default": 5, "M6": 15, "M7": 20},
        ["company", "cooperative", "village_association"],
        2,
        0.3,
        100,
    ),
    "library": ({"default": 15, "M7": 30}, ["municipality", "association"], 1, 0.3, 200),
    "school": ({"default": 10, "M7": 25}, ["municipality"], 0, 0.0, 100),
    "post": ({"default": 10, "M7": 25}, ["company", "village_association", "state"], 5, 0.5, 100),
    "atm": ({"default": 10, "M7": 30}, ["company", "cooperative"], 0, 0.0, 150),
    "sports": ({"default": 5, "M7": 15}, ["municipality", "association", "volunteer"], 0, 0.0, 100),
    "social_services": (
        {"default": 25, "M7": 50},
        ["wellbeing_county", "association", "parish"],
        5,
        0.7,
        800,
    ),
}
WORLD_SECTORS = sorted({sector for v in WORLD_SERVICES.values() for sector in v[1]})


def generate_world(
    seed: int,
    *,
    size_km: float = 150.0,
    grid_km: float = 3.0,
    n_villages: int = 50,
    n_cells: int = 4000,
    n_actors: int = 200,
    n_munis: int = 5,
) -> World:
    """A generated region: a road grid, population cells around villages, ten services with
    existing points in some villages, and actors of every sector (coordinates in EPSG:3067)."""
    rng = np.random.default_rng(seed)
    x0, y0, size = 300_000.0, 7_000_000.0, size_km * 1000.0
    ticks = np.arange(0.0, size + 1.0, grid_km * 1000.0)
    segments = [
        LineString([(x0 + a, y0 + b), (x0 + a2, y0 + b2)])
        for i, t in enumerate(ticks)
        for j in range(ticks.size - 1)
        for (a, b, a2, b2) in ((t, ticks[j], t, ticks[j + 1]), (ticks[j], t, ticks[j + 1], t))
    ]
    net = network_from_lines(gpd.GeoDataFrame(geometry=segments, crs=3067))
    codes = [f"{100 + k}" for k in range(n_munis)]
    strip = size / n_munis
    munis = gpd.GeoDataFrame(
        {"code": codes, "name": [f"Kunta {c}" for c in codes]},
        geometry=[box(x0 + k * strip, y0, x0 + (k + 1) * strip, y0 + size) for k in range(n_munis)],
        crs=3067,
    )
    village = rng.uniform(0.05 * size, 0.95 * size, (n_villages, 2))
    which = rng.integers(0, n_villages, n_cells)
    far = rng.random(n_cells) < 0.3
    xy = village[which] + rng.normal(0, 2500.0, (n_cells, 2))
    xy[far] = rng.uniform(0, size, (int(far.sum()), 2))
    xy = np.clip(np.round(xy / 1000.0) * 1000.0 + 500.0, 500.0, size - 500.0)
    xy = np.unique(xy, axis=0)
    n = len(xy)
    people = np.maximum(1.0, np.round(rng.lognormal(2.5, 1.2, n)))
    young, old = np.round(people * 0.15), np.round(people * rng.uniform(0.2, 0.45, n))
    dist_village = np.min(np.linalg.norm(xy[:, None] - village[None], axis=2), axis=1)
    area = np.where(dist_village < 2000, "M5", np.where(dist_village < 6000, "M6", "M7"))
    muni_of = np.minimum((xy[:, 0] // strip).astype(int), n_munis - 1)
    pop = gpd.GeoDataFrame(
        {
            "cell_id": [f"c{k}" for k in range(n)],
            "population": people,
            "age_0_14": young,
            "age_15_64": people - young - old,
            "age_65_plus": old,
            "area_class": area,
            "suppressed": False,
            "municipality": np.array(codes)[muni_of],
        },
        geometry=[Point(x0 + a, y0 + b) for a, b in xy],
        crs=3067,
    )
    rows: list[dict[str, Any]] = []
    for sid in WORLD_SERVICES:
        for v in np.flatnonzero(rng.random(n_villages) < 0.3):
            rows.append({"service": sid, "x": x0 + village[v, 0], "y": y0 + village[v, 1]})
    pts = pd.DataFrame(rows)
    pts_muni = np.minimum(((pts["x"] - x0) // strip).astype(int), n_munis - 1)
    service_points = gpd.GeoDataFrame(
        {
            "point_id": [f"P{k}" for k in range(len(pts))],
            "name": [f"Piste {k}" for k in range(len(pts))],
            "services": [(s,) for s in pts["service"]],
            "actor_id": "",
            "mode": "fixed",
            "days_per_week": np.nan,
            "capacity": np.nan,
            "municipality": np.array(codes)[pts_muni],
        },
        geometry=[Point(a, b) for a, b in zip(pts["x"], pts["y"], strict=True)],
        crs=3067,
    )
    base = village[rng.integers(0, n_villages, n_actors)]
    base_muni = np.minimum((base[:, 0] // strip).astype(int), n_munis - 1)
    services = list(WORLD_SERVICES)
    sectors = rng.choice(WORLD_SECTORS, n_actors)
    mode_sets = [("fixed",), ("fixed", "mobile"), ("fixed", "mobile", "remote"), ("mobile", "remote")]
    capacity = rng.uniform(200, 3000, n_actors)
    capacity[rng.random(n_actors) < 0.15] = np.inf
    actors = gpd.GeoDataFrame(
        {
            "actor_id": [f"A{k}" for k in range(n_actors)],
            "name": [f"Toimija {k}" for k in range(n_actors)],
            "sector": sectors,
            "services": [
                tuple(rng.choice(services, int(rng.integers(1, 4)), replace=False)) for _ in range(n_actors)
            ],
            "capacity": capacity,
            "municipalities": [("*",) if rng.random() < 0.5 else (codes[b],) for b in base_muni],
            "modes": [mode_sets[int(k)] for k in rng.integers(0, len(mode_sets), n_actors)],
            "max_travel_km": rng.uniform(40, 120, n_actors),
            "employment_scheme": False,
            "cost_per_km": rng.uniform(0.5, 1.5, n_actors),
            "languages": [("fi",)] * n_actors,
            "base_municipality": np.array(codes)[base_muni],
        },
        geometry=[Point(x0 + a, y0 + b) for a, b in base],
        crs=3067,
    )
    places = gpd.GeoDataFrame(
        {"name": [f"Kylä {k}" for k in range(n_villages)]},
        geometry=[Point(x0 + a, y0 + b) for a, b in village],
        crs=3067,
    )
    services_cfg = {}
    for sid, (thr, secs, days, remote, minimum) in WORLD_SERVICES.items():
        entry: dict[str, Any] = {
            "label": {"fi": sid, "en": sid},
            "threshold_km": thr,
            "sectors": secs,
            "min_demand": {"fixed": minimum},
        }
        if days:
            entry["mobile"] = {"required_days": days}
        if remote:
            entry["remote"] = remote
        services_cfg[sid] = entry
    config = config_from_dict(
        {
            "language": "en",
            "inputs": {
                "municipalities": {"path": "m"},
                "population": {"path": "p"},
                "service_points": {"path": "s"},
            },
            "network": {"source": "r.gpkg"},
            "services": services_cfg,
            "proposals": {
                "max_new_sites": 15,
                "max_mobile_routes": 25,
                "max_remote_points": 10,
                "min_sectors": 2,
            },
        }
    )
    gaps = find_gaps(config, net, pop, service_points, munis)
    return World(config, net, gaps, actors, service_points, places)


def bench_build(seeds: int, repeat: int) -> None:
    """Time build_problem on generated worlds and print the table."""
    header = (
        f"{'seed':>4} {'cells':>6} {'units':>6} {'groups':>6} {'options':>7} {'nnz':>8} "
        f"{'median s':>8} {'best s':>7}"
    )
    print(header)
    print("-" * len(header))
    for seed in range(seeds):
        w = generate_world(seed)
        times = []
        built = None
        for _ in range(repeat):
            t0 = time.perf_counter()
            built = build_problem(w.config, w.net, w.gaps, w.actors, w.service_points, places=w.places)
            times.append(time.perf_counter() - t0)
        assert built is not None and built.problem is not None and built.lookup is not None
        print(
            f"{seed:>4} {len(w.gaps.population):>6} {built.lookup.unit_coverage.shape[0]:>6} "
            f"{built.problem.n_units:>6} {built.problem.n_options:>7} {built.lookup.unit_coverage.nnz:>8} "
            f"{statistics.median(times):>8.3f} {min(times):>7.3f}"
        )


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--options", type=int, default=2000)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--backend", choices=("auto", "highspy", "scipy"), default="auto")
    parser.add_argument("--build", action="store_true", help="time build_problem on generated worlds")
    parser.add_argument("--repeat", type=int, default=3, help="runs of build_problem per world (--build)")
    args = parser.parse_args()
    if args.build:
        bench_build(args.seeds, args.repeat)
        return

    header = (
        f"{'seed':>4} {'units':>5} {'options':>7} {'nnz':>6} {'gen s':>6} {'MIP s':>6} {'status':>10} "
        f"{'MIP obj':>10} {'bound':>10} {'gap %':>6} {'greedy obj':>10} {'greedy s':>8} {'ratio':>6} "
        f"{'chosen':>6} {'solver':>8}"
    )
    print(header)
    print("-" * len(header))
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        prob = generate_region(seed, n_options=args.options)
        gen_s = time.perf_counter() - t0
        mip = solve_mip(prob, time_limit_s=args.time_limit, mip_gap=args.gap, backend=args.backend)
        greedy = solve_greedy(prob, bound=mip.bound)
        ratio = greedy.score / mip.score if mip.score else float("nan")
        print(
            f"{seed:>4} {prob.n_units:>5} {prob.n_options:>7} {prob.coverage.nnz:>6} {gen_s:>6.2f} "
            f"{mip.seconds:>6.2f} {mip.status:>10} {mip.score:>10.1f} {mip.bound:>10.1f} "
            f"{100 * mip.mip_gap:>6.2f} {greedy.score:>10.1f} {greedy.seconds:>8.3f} {ratio:>6.3f} "
            f"{mip.chosen.size:>6} {mip.solver:>8}"
        )
        for note in mip.warnings:
            print(f"     note: {note}")


if __name__ == "__main__":
    main()

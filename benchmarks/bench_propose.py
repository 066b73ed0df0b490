"""Benchmark the partnership-proposal optimiser on generated region-sized instances.

Run from the repository root::

    python benchmarks/bench_propose.py            # three seeds of the default region
    python benchmarks/bench_propose.py --seeds 1 --options 5000 --time-limit 60

Each instance mimics one region: about 50 gap areas in five municipalities, 10 services (gaps in
most services of each area, i.e. a few hundred demand units), 200 actors in five sectors and about
2 000 candidate options (fixed points at gap-area centroids and existing sites, mobile visits,
remote services), with capacities, global budgets, the cross-sector rule (k = 2), an actor-share
limit and a hub bonus. The table compares the MIP (HiGHS via highspy with the greedy solution as
starting incumbent, or via scipy.optimize.milp with ``--backend scipy``) with the greedy heuristic.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from arjenturva.proposals import FIXED, MOBILE, REMOTE, ProposalProblem, solve_greedy, solve_mip


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


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--options", type=int, default=2000)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--backend", choices=("auto", "highspy", "scipy"), default="auto")
    args = parser.parse_args()

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

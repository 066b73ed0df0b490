"""Benchmark of the weekly mobile routes (``arjenturva routes``) against a nearest-neighbour baseline.

The region is Lapland (21 municipalities), built from the real public data in ``../shared/data``
with ``arjenturva build-workspace`` (real roads, postal-area population, villages and service
points). Real data holds no mobile services, so the script adds **synthetic** ones (seeded, marked
"(synthetic)" in their names): mobile rules for the two real services (a health bus counts fully
at 5 days a week and stops 45 min; a service bus for municipal-centre errands, asiointiauto,
counts fully once a week and stops 30 min), a wellbeing-county actor with 6 health buses and a
municipalities' actor with 4 service buses (``--fleet split``, two groups solved one after the
other each day) or one actor whose 10 buses offer both services (``--fleet combined``, one group of
10 vehicles a day), 10 vehicles with bases in distinct municipal centres (drawn with the seed),
each driving Monday to Friday, 8 h a day, at most 400 km. The stop
spacing (``routes.stop_spacing_km``) is the one of ``--spacings`` that gives closest to
``--stops`` candidate stops; the script prints the count.

Each of ``--repeat`` runs times :func:`arjenturva.api.plan_routes` (candidate stops, demand, road
costs, PyVRP's daily solves, the roads driven and the gap analysis after the routes; the network
and the gaps before are built once, not counted) and then the same planner with
nearest-neighbour insertion as its daily solver (``_routes_baseline.py``: each vehicle drives to
the nearest stop on offer that can still be served within its working day and distance limit;
the same prizes, costs and gap-rule evaluation). Printed: the time to a plan (median and best),
the objective (weighted newly covered demand the solves collect minus the cost of the km driven,
as the planner counts it), and the people newly covered per service by the gap rules.

``--demo`` also measures the demo's routes against today's one-stop mobile options on the same
vehicle-days (see ``_routes_baseline.one_stop_comparison``), the README's figure.

Usage::

    python benchmarks/bench_routes.py [--repeat 3] [--stops 200] [--fleet split|combined] [--demo]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _routes_baseline import (
    objective,
    one_stop_comparison,
    plan_newly_covered,
    plan_with_nearest_neighbour,
)

from arjenturva import api
from arjenturva.routes import RoutePlan, fleet_of
from arjenturva.routes.stops import candidate_stops

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
REGION = "Lappi"
HEALTH_BUSES, SERVICE_BUSES = 6, 4


def build(tmp: Path, seed: int, *, combined: bool = False) -> Path:
    """Lapland from the shared data, with the synthetic mobile services, actors and vehicles."""
    ws = tmp / "lappi"
    cmd = [
        sys.executable,
        "-m",
        "arjenturva",
        "build-workspace",
        "--out",
        str(ws),
        "--force",
        "--quiet",
        "--sources",
        str(REPO / "examples" / "shared_data_sources.yaml"),
        "--language",
        "en",
        "--region",
        REGION,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        msg = f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        raise RuntimeError(msg)
    add_synthetic_mobile(ws, seed, combined=combined)
    return ws


def add_synthetic_mobile(ws: Path, seed: int, *, combined: bool = False) -> None:
    """Mobile rules, the mobile actors and ten vehicles (synthetic, see the module docstring)."""
    import yaml

    cfg_path = ws / "arjenturva.yaml"
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    cfg["services"]["health_station"]["mobile"] = {"required_days": 5, "stop_min": 45}
    cfg["services"]["municipal_centre"]["mobile"] = {"required_days": 1, "stop_min": 30}
    study = [str(c) for c in cfg["study_area"]]
    points = pd.read_csv(ws / "service_points.csv", dtype={"point_id": str})
    centres = points[points["point_id"].isin([f"mc{c}" for c in study])].sort_values("point_id")
    rovaniemi = centres[centres["name"] == "Rovaniemi"].iloc[0]
    common = {
        "capacity": 5000,
        "municipalities": ";".join(study),
        "lon": rovaniemi["lon"],
        "lat": rovaniemi["lat"],
        "max_travel_km": 200,
        "modes": "mobile",
        "employment_scheme": False,
        "languages": "fi",
    }
    actors = [
        {
            "actor_id": "HB",
            "name": "Lapland wellbeing county health buses (synthetic)",
            "sector": "wellbeing_county",
            "services": "health_station",
            "cost_per_km": 0.8,
            **common,
        },
        {
            "actor_id": "SB",
            "name": "Lapland municipalities' service buses (synthetic)",
            "sector": "municipality",
            "services": "municipal_centre",
            "cost_per_km": 0.6,
            **common,
        },
    ]
    if combined:
        actors = [
            {
                "actor_id": "MB",
                "name": "Lapland multi-service buses (synthetic)",
                "sector": "wellbeing_county",
                "services": "health_station;municipal_centre",
                "cost_per_km": 0.8,
                **common,
            }
        ]
    pd.DataFrame(actors).to_csv(ws / "actors.csv", index=False)
    rng = np.random.default_rng(seed)
    bases = centres.iloc[rng.choice(len(centres), size=HEALTH_BUSES + SERVICE_BUSES, replace=False)]
    vehicles = []
    for k, b in enumerate(bases.itertuples(index=False)):
        kind = "MB" if combined else "HB" if k < HEALTH_BUSES else "SB"
        what = {"MB": "Multi-service", "HB": "Health", "SB": "Service"}[kind]
        vehicles.append(
            {
                "vehicle_id": f"{kind}{k + 1:02d}",
                "name": f"{what} bus {b.name} (synthetic)",
                "actor_id": kind,
                "lon": b.lon,
                "lat": b.lat,
                "hours_per_day": 8,
                "weekdays": "mon;tue;wed;thu;fri",
                "max_distance_km": 400,
            }
        )
    pd.DataFrame(vehicles).to_csv(ws / "vehicles.csv", index=False)
    cfg["inputs"]["actors"] = {"path": "actors.csv"}
    cfg["inputs"]["vehicles"] = {"path": "vehicles.csv"}
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")


def candidate_count(ws: Any, net: Any, gaps: Any, spacing_km: float) -> int:
    """The candidate stops :func:`arjenturva.routes.plan_routes` would offer at this spacing (the
    same reach of the bases as it uses)."""
    fleet = fleet_of(ws)
    services = [s for s in ws.config.services if any(s in v.services for v in fleet)]
    top = float(np.max(net.road_length_m / np.maximum(net.road_time_s, 1e-9), initial=1.0))
    reach = np.array([[v.x, v.y, 0.5 * min(v.max_distance_m, top * v.max_duration_s)] for v in fleet])
    stops, _ = candidate_stops(
        ws, gaps, net, services, spacing_m=1000.0 * spacing_km, lang=ws.config.language, reach=reach
    )
    return len(stops)


def figures(plan: RoutePlan, seconds: float) -> dict[str, Any]:
    covered = plan_newly_covered(plan)
    return {
        "time": seconds,
        "solve": sum(f.runtime_s for f in plan.solves),
        "objective": objective(plan),
        "prizes": sum(f.prizes for f in plan.solves),
        "travel": sum(f.travel_cost for f in plan.solves),
        "people": covered["people"].to_dict(),
        "demand": covered["demand"].to_dict(),
        "routes": int(plan.lines.shape[0]),
        "visits": int(sum(f.visits for f in plan.solves)),
        "stops": int(plan.stops.shape[0]),
        "km": float(plan.lines["km"].sum()) if len(plan.lines) else 0.0,
        "limit_hit": any(f.time_limit_hit for f in plan.solves),
        "iterations": sorted({f.iterations for f in plan.solves}),
        "offered": [f.candidates for f in plan.solves],
    }


def report(name: str, runs: list[dict[str, Any]]) -> None:
    t = [r["time"] for r in runs]
    s = [r["solve"] for r in runs]
    last = runs[-1]
    objs = sorted({round(r["objective"], 3) for r in runs})
    print(f"\n{name}: {len(runs)} run(s)")
    print(
        f"  time to a plan: median {statistics.median(t):.2f} s, best {min(t):.2f} s "
        f"(daily solves {statistics.median(s):.2f} s median)"
    )
    print(
        f"  objective: {last['objective']:,.1f} = prizes {last['prizes']:,.1f} - travel cost "
        f"{last['travel']:,.1f}" + ("" if len(objs) == 1 else f" (differs between runs: {objs})")
    )
    people = ", ".join(f"{k} {v:,.0f}" for k, v in last["people"].items())
    print(f"  newly covered people (gap rules): {sum(last['people'].values()):,.0f} ({people})")
    print(
        f"  {last['routes']} routes, {last['visits']} visits to {last['stops']} stops, "
        f"{last['km']:,.0f} km; "
        f"solves offered {min(last['offered'], default=0)}-{max(last['offered'], default=0)} stops with a "
        f"prize; iterations {last['iterations']}, time limit hit: {last['limit_hit']}"
    )


def bench_region(args: argparse.Namespace, tmp: Path) -> None:
    t0 = time.perf_counter()
    path = build(tmp, args.seed, combined=args.fleet == "combined")
    ws = api.load_workspace(path)
    net = api.build_network(ws.config, use_cache=False)
    gaps = api.find_gaps(ws, network=net, workers=1)
    counts = {s: candidate_count(ws, net, gaps, s) for s in args.spacings}
    spacing = min(counts, key=lambda s: (abs(counts[s] - args.stops), s))
    ws.config.routes.stop_spacing_km = spacing
    prep = time.perf_counter() - t0
    fleet = fleet_of(ws)
    print(
        f"{REGION} (real data, synthetic mobile services, fleet {args.fleet}): "
        f"{len(ws.municipalities)} municipalities with context, {len(ws.population)} population points, "
        f"{len(net.road_length_m):,} road edges; "
        f"{len(fleet)} vehicles ({', '.join(f'{v.vehicle_id} {v.name}' for v in fleet)}), "
        f"{sum(len(v.weekdays) for v in fleet)} vehicle-days; built in {prep:.1f} s, not counted"
    )
    print(
        f"candidate stops by spacing: {', '.join(f'{s:g} km: {n}' for s, n in counts.items())}; "
        f"stop_spacing_km = {spacing:g} -> {counts[spacing]} candidate stops"
    )
    print(
        f"routes config: time_limit_s {ws.config.routes.time_limit_s:g} for the week, max_iterations "
        f"{ws.config.routes.max_iterations} per solve, seed {ws.config.routes.seed}"
    )
    pyvrp, nn = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        plan = api.plan_routes(ws, network=net, gaps=gaps)
        pyvrp.append(figures(plan, time.perf_counter() - t))
        t = time.perf_counter()
        base = plan_with_nearest_neighbour(ws, net, gaps)
        nn.append(figures(base, time.perf_counter() - t))
    report("PyVRP (arjenturva routes)", pyvrp)
    report("nearest-neighbour insertion (baseline)", nn)
    a, b = pyvrp[-1], nn[-1]
    print(
        f"\nPyVRP minus baseline: objective {a['objective'] - b['objective']:+,.1f} "
        f"({100 * (a['objective'] / b['objective'] - 1):+.1f} %), newly covered people "
        f"{sum(a['people'].values()) - sum(b['people'].values()):+,.0f}; a plan within 60 s: "
        f"{max(r['time'] for r in pyvrp) <= 60}"
    )


def bench_demo(tmp: Path) -> None:
    ws_dir = tmp / "demo"
    shutil.copytree(REPO / "data" / "demo", ws_dir)
    ws = api.load_workspace(ws_dir)
    net = api.build_network(ws.config, use_cache=False)
    gaps = api.find_gaps(ws, network=net, workers=1)
    plan = api.plan_routes(ws, network=net, gaps=gaps)
    print("\ndemo: routes against today's one-stop mobile options on the same vehicle-days")
    for every_day in (False, True):
        cmp_ = one_stop_comparison(ws, net, gaps, plan, every_day=every_day)
        days = sum(cmp_.budget.values())
        what = "every weekday the vehicles may drive" if every_day else "the days the vehicles drive routes"
        print(
            f"  budget: {days} vehicle-days ({what}: "
            f"{', '.join(f'{k} {v}' for k, v in cmp_.budget.items())}); "
            f"{cmp_.candidates} one-stop options; "
            f"MIP: {cmp_.mip_status}"
        )
        table = pd.DataFrame({"routes": cmp_.routes["demand"], "one_stop": cmp_.one_stop["demand"]})
        print(table.round(0).to_string(float_format=lambda v: f"{v:,.0f}"))
        print(
            f"  newly covered demand: routes {table['routes'].sum():,.0f}, one-stop "
            f"{table['one_stop'].sum():,.0f}"
        )
        for c in cmp_.chosen:
            offered = ", ".join(c.services)
            print(f"    one-stop: {c.vehicle_id} at {c.site}, {c.days} day(s) a week ({offered})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each planner (default 3)")
    ap.add_argument("--stops", type=int, default=200, help="candidate stops to aim at (default 200)")
    ap.add_argument(
        "--spacings",
        type=float,
        nargs="+",
        default=[2, 4, 6, 8, 10, 11, 12, 13, 14, 16],
        help="stop spacings (km) to choose from",
    )
    ap.add_argument(
        "--fleet",
        choices=["split", "combined"],
        default="split",
        help="6 health and 4 service buses (default), or 10 buses offering both",
    )
    ap.add_argument("--seed", type=int, default=7, help="seed of the vehicles' bases (default 7)")
    ap.add_argument("--demo", action="store_true", help="also the demo's routes against one-stop options")
    ap.add_argument("--no-region", action="store_true", help="skip the region (with --demo)")
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        if not args.no_region:
            if SHARED.exists():
                bench_region(args, tmp)
            else:
                print(f"{SHARED} not found: the region benchmark needs the shared real data")
        if args.demo:
            bench_demo(tmp)
    print(
        f"\nload average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        f"({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()

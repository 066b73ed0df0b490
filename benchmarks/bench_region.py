"""Benchmark of a whole region, stage by stage (standalone script, not a test).

Two cases, both built from the real public data in ``../shared/data`` with ``arjenturva
build-workspace`` (the regions' municipalities as ``study_area``, their neighbours as context):

* **region**: Lapland + North Ostrobothnia, 51 municipalities (the Arjen turva rollout area);
* **large**: twice as many municipalities: the same two regions with Kainuu, Central
  Ostrobothnia, South Ostrobothnia, North Savo and North Karelia (117 municipalities).

Real data holds no actors, so the script adds **synthetic** ones (seeded, written to
``actors.csv`` and marked in their names): per study municipality the municipality itself
(municipal centre: fixed, mobile, remote), a village association (municipal centre: remote), a
health cooperative (health station: fixed, mobile, remote) and a clinic company (health
station: fixed); per wellbeing services county the county (health station: fixed, mobile); per
region a state actor (municipal centre: remote). That gives every service three sectors, as the
default ``min_sectors: 3`` asks.

Each case runs ``arjenturva run`` ``--repeat`` times in a fresh process, from a fresh copy of the
workspace (the road network is built, not loaded from a cache), and prints the stage times of
``run.json`` (median and best) and the process wall time.

Usage::

    python benchmarks/bench_region.py [--repeat 1] [--cases region large] [--no-maps]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
STAGES = ("validate", "network", "gaps", "proposals", "tables", "maps_reports", "total")
CASES: dict[str, tuple[str, ...]] = {
    "region": ("Lappi", "Pohjois-Pohjanmaa"),
    "large": ("Lappi", "Pohjois-Pohjanmaa", "Kainuu", "Keski-Pohjanmaa", "Etelä-Pohjanmaa",
              "Pohjois-Savo", "Pohjois-Karjala"),
}


def build(tmp: Path, name: str, regions: tuple[str, ...]) -> Path:
    """The workspace of ``regions`` from the shared data, with synthetic actors added."""
    ws = tmp / f"{name}-template"
    cmd = [sys.executable, "-m", "arjenturva", "build-workspace", "--out", str(ws), "--force",
           "--sources", str(REPO / "examples" / "shared_data_sources.yaml"), "--language", "en", "--quiet"]
    for r in regions:
        cmd += ["--region", r]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        msg = f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        raise RuntimeError(msg)
    add_synthetic_actors(ws)
    return ws


def add_synthetic_actors(ws: Path, seed: int = 7) -> None:
    """Write ``actors.csv`` (synthetic, see the module docstring) and name it in the config."""
    import geopandas as gpd
    import yaml

    cfg_path = ws / "arjenturva.yaml"
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    munis = gpd.read_file(ws / "municipalities.gpkg")
    study = munis[munis["code"].isin(cfg["study_area"])].copy()
    reps = study.geometry.representative_point()
    study["x"], study["y"] = reps.x.round(), reps.y.round()
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []

    def add(aid: str, name: str, sector: str, services: str, where: str, x: float, y: float,
            modes: str, capacity: int, km: int) -> None:
        rows.append({"actor_id": aid, "name": f"{name} (synthetic)", "sector": sector, "services": services,
                     "capacity": capacity, "municipalities": where, "x": x, "y": y, "max_travel_km": km,
                     "modes": modes, "employment_scheme": False, "cost_per_km": 0.6, "languages": "fi"})

    for r in study.itertuples(index=False):
        jx, jy = rng.integers(-3000, 3000, size=2)
        add(f"M{r.code}", f"{r.name} municipality", "municipality", "municipal_centre", r.code, r.x, r.y,
            "fixed;mobile;remote", 2000, 80)
        add(f"V{r.code}", f"{r.name} village association", "association", "municipal_centre", r.code,
            r.x + jx, r.y + jy, "remote", 300, 30)
        add(f"C{r.code}", f"{r.name} health cooperative", "cooperative", "health_station", r.code,
            r.x - jx, r.y - jy, "fixed;mobile;remote", 800, 60)
        add(f"B{r.code}", f"{r.name} clinic company", "company", "health_station", r.code,
            r.x + jy, r.y - jx, "fixed", 1500, 60)
    for county, grp in study.groupby("wellbeing_county"):
        big = grp.iloc[int(np.argmax(grp.geometry.area.to_numpy()))]
        add(f"W{safe_id(str(county))}", f"{county}", "wellbeing_county", "health_station",
            ";".join(grp["code"]), big.x, big.y, "fixed;mobile", 20000, 150)
    for region, grp in study.groupby("region"):
        add(f"S{safe_id(str(region))}", f"{region} state service point network", "state", "municipal_centre",
            ";".join(grp["code"]), float(grp.x.mean()), float(grp.y.mean()), "remote", 5000, 200)
    pd.DataFrame(rows).to_csv(ws / "actors.csv", index=False)
    cfg["inputs"]["actors"] = {"path": "actors.csv"}
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")


def safe_id(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())[:12]


def run_once(template: Path, tmp: Path, k: int, *, maps: bool) -> dict[str, float]:
    ws = tmp / f"{template.name}-{k}"
    shutil.copytree(template, ws, ignore=shutil.ignore_patterns(".arjenturva-cache", "results*"))
    out = ws / "results"
    if maps:
        cmd = [sys.executable, "-m", "arjenturva", "run", "-c", str(ws), "--out", str(out), "--force",
               "--quiet"]
    else:
        code = ("from arjenturva.api import run_pipeline; "
                f"run_pipeline({str(ws)!r}, out_dir={str(out)!r}, force=True, with_maps=False)")
        cmd = [sys.executable, "-c", code]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        msg = f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        raise RuntimeError(msg)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    timings = {k: float(v) for k, v in run.get("timings_s", {}).items() if isinstance(v, (int, float))}
    facts = {"mip_gap_pct": 100 * float((run.get("proposals") or {}).get("mip_gap") or 0.0)}
    return {"wall": wall, **timings, **facts}


def describe(ws: Path) -> str:
    build_json = json.loads((ws / "build.json").read_text(encoding="utf-8"))
    counts = build_json.get("counts", {})
    left = counts.get("context_population_left_out", {})
    return (f"{counts.get('study_municipalities', '?')} study municipalities and "
            f"{counts.get('context_municipalities', '?')} context, "
            f"{counts.get('population_points', '?')} population points "
            f"({counts.get('population', 0):,.0f} people; "
            f"{left.get('people', 0):,.0f} in the context, left out), "
            f"{sum((counts.get('service_points') or {}).values())} service points, "
            f"{counts.get('road_km', '?')} km of road")


def table(name: str, runs: list[dict[str, float]], extra: str) -> None:
    keys = [k for k in STAGES if any(k in r for r in runs)]
    print(f"\n{name}: {len(runs)} run(s), median / best, s ({extra})")
    print("| stage | median | best |")
    print("|---|---|---|")
    for k in [*keys, "wall", "mip_gap_pct"]:
        v = [r[k] for r in runs if k in r]
        if v:
            label = {"wall": "process wall time (with start-up and imports)",
                     "mip_gap_pct": "proposals MIP gap, %"}.get(k, k)
            print(f"| {label} | {np.median(v):.2f} | {min(v):.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=1, help="runs per case (default 1)")
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--no-maps", action="store_true", help="run without maps and reports")
    ap.add_argument("--keep", type=Path, help="copy the built workspaces here")
    args = ap.parse_args()
    if not SHARED.exists():
        print(f"{SHARED} not found: this benchmark needs the shared real data")
        return
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        for name in args.cases:
            t0 = time.perf_counter()
            template = build(tmp, name, CASES[name])
            built = time.perf_counter() - t0
            if args.keep:
                shutil.copytree(template, args.keep / name, dirs_exist_ok=True)
            runs = [run_once(template, tmp, k, maps=not args.no_maps) for k in range(args.repeat)]
            table(f"{name}: {', '.join(CASES[name])}", runs,
                  f"{describe(template)}; built in {built:.1f} s, not counted")
    print(f"\nload average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
          f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()

"""Benchmark of the whole pipeline end to end, as a user runs it (standalone script, not a test).

Two cases, each run ``--repeat`` times in a fresh process (imports included), from a fresh copy
of the workspace (so the road network is built, not loaded from a cache):

* **demo**: ``arjenturva demo --out <tmp>`` (the bundled synthetic workspace: validate, network,
  gaps, proposals, tables, maps and reports);
* **regional**: ``arjenturva run`` on the pilot workspace of five municipalities that
  ``examples/realdata.py`` builds from the real data in ``../shared/data`` (skipped when it is
  absent), with ``--regional-repeat`` runs.

It prints, per case, the process's wall time and the stage times the run wrote to ``run.json``
(``timings_s``: validate, network, gaps, proposals, tables, maps and reports, total), median and
best. The wall time also holds the Python start-up and imports, which no stage counts.

Usage::

    python benchmarks/bench_pipeline.py [--repeat 3] [--regional-repeat 1] [--no-regional]
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

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
STAGES = ("validate", "network", "gaps", "proposals", "tables", "maps_reports", "total")


def run_once(cmd: list[str], results: Path) -> dict[str, float]:
    """Run one pipeline command in a new process; its wall time and ``run.json``'s stage times."""
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        msg = f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        raise RuntimeError(msg)
    run = json.loads((results / "run.json").read_text(encoding="utf-8"))
    timings: dict[str, Any] = run.get("timings_s", {})
    return {"wall": wall, **{k: float(v) for k, v in timings.items() if isinstance(v, (int, float))}}


def demo_case(tmp: Path, k: int) -> dict[str, float]:
    out = tmp / f"demo-{k}"
    cmd = [sys.executable, "-m", "arjenturva", "demo", "--out", str(out), "--force", "--quiet"]
    return run_once(cmd, out / "results")


def regional_case(tmp: Path, k: int, template: Path, *, maps: bool) -> dict[str, float]:
    """``arjenturva run`` on a fresh copy of the pilot workspace; without maps and reports
    (through the API, in a new process as well) when ``maps`` is false."""
    ws = tmp / f"pilot-{k}-{'maps' if maps else 'nomaps'}"
    shutil.copytree(template, ws, ignore=shutil.ignore_patterns(".arjenturva-cache", "results*"))
    out = ws / "results"
    if maps:
        cmd = [sys.executable, "-m", "arjenturva", "run", "-c", str(ws), "--out", str(out), "--force",
               "--quiet"]
    else:
        code = ("from arjenturva.api import run_pipeline; "
                f"run_pipeline({str(ws)!r}, out_dir={str(out)!r}, force=True, with_maps=False)")
        cmd = [sys.executable, "-c", code]
    return run_once(cmd, out)


def build_pilot(tmp: Path) -> Path:
    sys.path.insert(0, str(REPO / "examples"))
    from realdata import build_pilot_workspace

    return build_pilot_workspace(SHARED, tmp / "pilot-template").parent


def table(name: str, runs: list[dict[str, float]], extra: str) -> None:
    keys = [k for k in STAGES if any(k in r for r in runs)]
    keys += sorted({k for r in runs for k in r} - set(STAGES) - {"wall"})
    print(f"\n{name}: {len(runs)} run(s), median / best, s ({extra})")
    print("| stage | median | best | share of total |")
    print("|---|---|---|---|")
    total = float(np.median([r.get("total", r["wall"]) for r in runs]))
    for k in [*keys, "wall"]:
        v = [r[k] for r in runs if k in r]
        if not v:
            continue
        share = "" if k in ("total", "wall") else f"{100 * np.median(v) / total:.0f} %"
        label = "process wall time (with start-up and imports)" if k == "wall" else k
        print(f"| {label} | {np.median(v):.2f} | {min(v):.2f} | {share} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs of the demo (default 3)")
    ap.add_argument("--regional-repeat", type=int, default=1, help="runs of the regional case (default 1)")
    ap.add_argument("--no-regional", action="store_true", help="skip the regional case")
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        demo = [demo_case(tmp, k) for k in range(args.repeat)]
        table("demo (arjenturva demo)", demo, "synthetic workspace, 110 road nodes")
        if args.no_regional:
            pass
        elif not SHARED.exists():
            print(f"\n(skipping the regional case: {SHARED} not found)")
        else:
            t0 = time.perf_counter()
            template = build_pilot(tmp)
            built_s = time.perf_counter() - t0
            what = f"workspace built from ../shared/data in {built_s:.1f} s, not counted"
            try:
                regional = [regional_case(tmp, k, template, maps=True) for k in range(args.regional_repeat)]
                name = "regional (arjenturva run, five pilot municipalities)"
            except RuntimeError as e:
                lines = str(e).splitlines()
                failed = next((ln for ln in lines if ln.startswith("Crash")), lines[0])
                print(f"\nthe regional run failed ({failed.strip()}); timing it without maps and reports")
                regional = [regional_case(tmp, k, template, maps=False) for k in range(args.regional_repeat)]
                name = "regional (run_pipeline without maps and reports, five pilot municipalities)"
            table(name, regional, what)
    print(f"\nload average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
          f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()

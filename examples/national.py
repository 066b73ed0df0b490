"""Every municipality of Finland, by wellbeing services county, with a scenario beside the baseline.

1. Builds one workspace of all 308 municipalities (every region) from the offline public data in
   ``../shared/data`` with the workspace builder: postal-area population, NLS roads, municipal
   centres and OSM health facilities.
2. Adds a scenario to its config: the health stations of the municipalities with fewer than
   5 000 residents close (the points are chosen from the data, so the list is reproducible).
3. Runs ``arjenturva batch`` on it, split by wellbeing services county (each county a run, the
   rest of Finland its context, so a health station across a county border counts), baseline and
   scenario, on a local Dask cluster (or ``--scheduler``).
4. Writes the national comparison: ``national_comparison.csv`` (uncovered share of demand per
   municipality and service, baseline, scenario and difference) and a choropleth map per service,
   ``national_<service>.png`` (baseline and scenario side by side).

Usage::

    python examples/national.py --out national [--workers 2] [--scheduler tcp://host:8786] [--no-maps]

The same batch from the command line, once the workspace exists::

    arjenturva batch -c national/workspace --split wellbeing_county \
        --scenario terveysasemat_alle_5000 -o national/batch
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

import arjenturva.api as api
from arjenturva import labels
from arjenturva.batch import (
    TaskOutcome,
    compare_scenarios,
    draw_choropleth,
    read_batch_summary,
    uncovered_share,
)
from arjenturva.io import write_csv

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "examples" / "shared_data_sources.yaml"
SCENARIO = "terveysasemat_alle_5000"
SMALL_MUNICIPALITY = 5000
"""Municipalities with fewer residents lose their health stations in the scenario."""


def all_regions(sources: Path) -> list[str]:
    """Every region (maakunta) of the municipality key the sources file names."""
    from arjenturva.builder import read_sources

    key = read_sources(sources).files["municipality_key"][0]
    return sorted(pd.read_csv(key, dtype=str)["maakunta_name_fi"].dropna().unique())


def build_national(workspace: Path, *, force: bool) -> Path:
    """The workspace of every municipality, with the scenario in its config."""
    config = workspace / "arjenturva.yaml"
    if force or not config.exists():
        api.build_workspace(workspace, sources=SOURCES, regions=all_regions(SOURCES), force=force,
                            name="Suomi (real data)")
    text = config.read_text(encoding="utf-8")
    if f"\n  {SCENARIO}:" not in text:
        ws = api.load_workspace(config)
        people = ws.population.groupby("municipality")["population"].sum()
        small = set(people[people < SMALL_MUNICIPALITY].index)
        points = ws.service_points
        closed = points.loc[points["municipality"].isin(small)
                            & points["services"].map(lambda s: "health_station" in s), "point_id"]
        ids = ", ".join(sorted(closed))
        text += (
            "\nscenarios:\n"
            f"  {SCENARIO}:\n"
            f"    description: Health stations of municipalities under {SMALL_MUNICIPALITY} residents "
            f"close ({len(closed)} points)\n"
            f"    close_points: [{ids}]\n"
        )
        config.write_text(text, encoding="utf-8")
    return config


def national_outputs(batch_dir: Path, config: Path, out: Path, *, lang: str = "fi") -> list[Path]:
    """The comparison table and one choropleth per service."""
    summary = read_batch_summary(batch_dir)
    table = compare_scenarios(summary, indicator="uncovered_share")
    files = [write_csv(table.round(4), out / "national_comparison.csv")]
    ws = api.load_workspace(config)
    rows = summary[summary["service"] != "ALL"]
    for service in sorted(set(rows["service"])):
        one = rows[rows["service"] == service]
        panels = {}
        for scenario, part in one.groupby(one["scenario"].fillna(""), sort=False):
            name = labels.ui(lang)["baseline"] if scenario == "" else str(scenario)
            panels[name] = pd.Series(uncovered_share(part).to_numpy(), index=part["municipality"])
        label = str(one["service_label"].iloc[0])
        files.append(draw_choropleth(
            panels, ws.municipalities, out / f"national_{service}.png",
            title=labels.ui(lang)["share_map"].format(service=label), lang=lang,
            attribution="; ".join(ws.config.attributions()),
        ))
    return files


def national_totals(summary: pd.DataFrame) -> pd.DataFrame:
    """Demand and uncovered demand of all municipalities per service and scenario."""
    rows = summary[summary["service"] != "ALL"].assign(scenario=summary["scenario"].fillna("baseline"))
    totals = rows.groupby(["service", "scenario"], sort=False)[["demand", "uncovered_demand"]].sum()
    totals["uncovered_share"] = totals["uncovered_demand"] / totals["demand"]
    return totals.reset_index()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("national"), help="output folder")
    parser.add_argument("--workers", type=int, default=None, help="local cluster workers (default: cores)")
    parser.add_argument("--scheduler", default=None, help="a running Dask scheduler instead")
    parser.add_argument("--no-maps", action="store_true", help="runs without maps and reports")
    parser.add_argument("--force", action="store_true", help="rebuild the workspace and rerun every run")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    config = build_national(args.out / "workspace", force=args.force)
    print(f"workspace: {config} ({time.perf_counter() - started:.1f} s)")

    def on_task(outcome: TaskOutcome, done: int, total: int) -> None:
        what = f"{outcome.name}: {outcome.status} {outcome.seconds:.1f} s {outcome.message}"
        print(f"  [{done}/{total}] {what}", flush=True)

    res = api.run_batch([config], out_dir=args.out / "batch", split="wellbeing_county", scenarios=[SCENARIO],
                        scheduler=args.scheduler, workers=args.workers, maps=not args.no_maps,
                        force=args.force, on_task=on_task)
    print(f"batch: {len(res.outcomes)} runs, {len(res.failed)} failed, {res.timings_s['total']:.0f} s; "
          f"scheduler {None if res.scheduler is None else res.scheduler.as_dict()}")
    files = national_outputs(res.out_dir, config, args.out)
    with pd.option_context("display.width", 160, "display.max_columns", 10):
        print(national_totals(res.summary).to_string(index=False))
    for f in files:
        print(f"wrote {f}")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())

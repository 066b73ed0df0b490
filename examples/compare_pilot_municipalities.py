"""Compare the five Arjen turva pilot municipalities on real public data.

Builds a workspace for Pudasjärvi, Kemijärvi, Pelkosenniemi, Posio and Tornio from the project's
shared real data (NLS general map roads, Statistics Finland postal-area population, OSM health
facilities, municipal centres), runs the gap analysis for each municipality with the Python API
and prints the indicators side by side.

Usage::

    python examples/compare_pilot_municipalities.py [SHARED_DATA] [--out WORKSPACE_DIR]

``SHARED_DATA`` defaults to ``../shared/data`` beside the repository; without ``--out`` the
workspace goes to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

import pandas as pd
from realdata import PILOT_CODES, build_pilot_workspace

import arjenturva.api as api

DEFAULT_SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

COLUMNS = {
    "population": "population",
    "covered_share": "covered %",
    "uncovered_population": "uncovered",
    "uncovered_65_plus": "uncovered 65+",
    "mean_distance_km": "mean km",
    "p90_distance_km": "p90 km",
}


def compare(shared: Path, workspace: Path) -> pd.DataFrame:
    """Build the pilot workspace, run the gap analysis per municipality, return one table."""
    config = build_pilot_workspace(shared, workspace, force=True)
    ws = api.load_workspace(config)
    net = api.build_network(ws.config)
    rows = []
    for code in PILOT_CODES:
        # A researcher's loop: the same workspace, the population of one municipality at a time.
        one = dataclasses.replace(ws, population=ws.population[ws.population["municipality"] == code])
        gaps = api.find_gaps(one, network=net)
        rows.append(gaps.summary[gaps.summary["service"] != "ALL"])
    summary = pd.concat(rows, ignore_index=True)
    table = summary.pivot_table(index=["municipality_name", "municipality"], columns="service",
                                values=list(COLUMNS), sort=False)
    table = table.swaplevel(0, 1, axis=1).sort_index(axis=1, level=0, sort_remaining=False)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared", nargs="?", type=Path, default=DEFAULT_SHARED,
                        help=f"shared real-data folder (default {DEFAULT_SHARED})")
    parser.add_argument("--out", type=Path, default=None,
                        help="workspace folder to keep (default: temporary)")
    args = parser.parse_args(argv)
    if not args.shared.exists():
        print(f"Error: {args.shared} not found; pass the shared data folder", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        workspace = args.out or Path(tmp) / "pilot"
        table = compare(args.shared, workspace)
        with pd.option_context("display.width", 200, "display.max_columns", 40, "display.precision", 1):
            for service in table.columns.get_level_values(0).unique():
                part = table[service].rename(columns=COLUMNS)
                part["covered %"] = 100 * part["covered %"]
                print(f"\n== {service} ==")
                print(part.to_string())
        print(f"\nworkspace: {workspace}" if args.out else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

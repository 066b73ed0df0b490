"""Writing a results folder: GeoPackage layers, CSV/XLSX tables and run.json (design.md §8).

Small cells (fewer people than ``export.suppress_below``, or suppressed in the source) never
appear individually in any file; they count in every aggregate. All writes are atomic.
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .config import Config
from .coverage import GAP_AREA_COUNT_COLUMNS, GapResult
from .io import ensure_writable, file_hash, write_csv, write_gpkg, write_json, write_xlsx

ATTRIBUTION = (
    "Road data © OpenStreetMap contributors (ODbL 1.0) or National Land Survey of Finland (CC BY 4.0); "
    "population and boundaries © Statistics Finland (CC BY 4.0), where used."
)

GAP_FILES = (
    "results.gpkg",
    "access.csv",
    "summary.csv",
    "summary.xlsx",
    "gap_areas.csv",
    "run.json",
    "accessibility_2sfca.csv",
)


def small_cells(df: pd.DataFrame, threshold: int) -> np.ndarray:
    """Mask of rows whose population is below ``threshold`` or suppressed (unknown)."""
    pop = df["population"].to_numpy(dtype=float)
    supp = df["suppressed"].to_numpy(dtype=bool) if "suppressed" in df else np.zeros(len(df), bool)
    return supp | ~np.isfinite(pop) | (pop < threshold)


def public_population(result: GapResult, threshold: int) -> gpd.GeoDataFrame:
    """The population layer without cells below the suppression threshold."""
    pop = result.population
    return pop.loc[~small_cells(pop, threshold)].reset_index(drop=True)


def public_gap_areas(result: GapResult) -> gpd.GeoDataFrame:
    """Gap areas; those with fewer people than the threshold have their counts blanked."""
    ga = result.gap_areas.copy()
    if ga.empty:
        return ga
    count_cols = GAP_AREA_COUNT_COLUMNS
    sup = ga["suppressed"].to_numpy(dtype=bool)
    for c in count_cols:
        ga[c] = ga[c].astype(float)
        ga.loc[sup, c] = np.nan
    return ga


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("arjenturva", "numpy", "scipy", "pandas", "geopandas", "shapely", "networkx", "osmnx"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run_record(
    config: Config,
    *,
    inputs: dict[str, Path],
    network_info: dict[str, Any],
    timings: dict[str, float],
    warnings: list[str],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of ``run.json``: versions, config hash, input hashes, timings and warnings."""
    hashes = {}
    for name, path in inputs.items():
        p = Path(path)
        hashes[name] = {"path": str(p), "sha256_16": file_hash(p) if p.is_file() else None}
    return {
        "tool": "arjenturva",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
        "config": str(config.path) if config.path else None,
        "config_hash": config.digest(),
        "inputs": hashes,
        "network": {k: v for k, v in network_info.items() if k not in ("components_sizes",)},
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "warnings": warnings,
        "attribution": ATTRIBUTION,
        **(extra or {}),
    }


def write_gap_results(
    result: GapResult, out_dir: Path, config: Config, *, force: bool, record: dict[str, Any]
) -> list[Path]:
    """Write the gap analysis to ``out_dir``.

    Files: ``results.gpkg`` (layers population, gaps, gap_areas, service_points, municipalities),
    ``access.csv`` (long), ``summary.csv``, ``summary.xlsx``, ``gap_areas.csv``, ``run.json``.

    Raises
    ------
    OutputExistsError
        When any of those files exists and ``force`` is false.
    """
    out_dir = Path(out_dir)
    ensure_writable([out_dir / f for f in GAP_FILES], force=force)
    out_dir.mkdir(parents=True, exist_ok=True)
    thr = config.export.suppress_below
    pop = public_population(result, thr)
    gaps = result.gaps.loc[~small_cells(result.gaps, thr)].reset_index(drop=True)
    gaps = gaps[
        [
            "cell_id",
            "service",
            "municipality",
            "area_class",
            "population",
            "age_65_plus",
            "coverage",
            "distance_m",
            "time_s",
            "nearest_point_id",
            "uncovered_population",
            "geometry",
        ]
    ]
    access = result.access.loc[
        ~small_cells(result.access, thr),
        ["cell_id", "service", "nearest_point_id", "distance_m", "time_s", "coverage"],
    ]
    gap_areas = public_gap_areas(result)
    sp = result.service_points.copy()
    sp["services"] = sp["services"].map(lambda v: ";".join(v))
    summary = result.summary
    written = [
        write_gpkg(
            {
                "population": pop.drop(columns=["suppressed"], errors="ignore"),
                "gaps": gaps,
                "gap_areas": gap_areas,
                "service_points": sp,
                "municipalities": result.municipalities,
            },
            out_dir / "results.gpkg",
        ),
        write_csv(access, out_dir / "access.csv"),
        write_csv(summary, out_dir / "summary.csv"),
        write_csv(gap_areas.drop(columns="geometry"), out_dir / "gap_areas.csv"),
        write_xlsx(
            {
                "summary": summary,
                "gap_areas": gap_areas.drop(columns="geometry"),
                "unreachable": _public_unreachable(result.unreachable, thr),
                "about": pd.DataFrame(
                    {
                        "item": ["attribution", "config_hash", "created"],
                        "value": [ATTRIBUTION, record["config_hash"], record["created"]],
                    }
                ),
            },
            out_dir / "summary.xlsx",
        ),
        write_json(record, out_dir / "run.json"),
    ]
    if result.accessibility is not None:
        written.append(write_csv(result.accessibility, out_dir / "accessibility_2sfca.csv"))
    return written


def _public_unreachable(df: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Unreachable cells with fewer people than the threshold are not listed one by one."""
    pop = df["population"].to_numpy(dtype=float)
    small = (df["layer"] == "population").to_numpy() & ~(pop >= threshold)
    return df.loc[~small].reset_index(drop=True)


PROPOSAL_FILES = ("proposals.csv", "proposals_summary.csv")


def write_proposal_results(result: Any, out_dir: Path, *, force: bool) -> list[Path]:
    """Write proposals: ``proposals.csv``, ``proposals_summary.csv`` and the ``proposals`` and
    ``new_sites`` layers added to ``results.gpkg`` (rewritten atomically with its other layers).

    Raises
    ------
    OutputExistsError
        When ``proposals.csv`` exists and ``force`` is false.
    """
    out_dir = Path(out_dir)
    ensure_writable([out_dir / f for f in PROPOSAL_FILES], force=force)
    written = [
        write_csv(result.proposals.drop(columns="geometry"), out_dir / "proposals.csv"),
        write_csv(result.summary, out_dir / "proposals_summary.csv"),
    ]
    gpkg = out_dir / "results.gpkg"
    write_gpkg({"proposals": result.proposals, "new_sites": result.new_sites}, gpkg, add=True)
    written.append(gpkg)
    return written


def read_summary(results_dir: Path) -> pd.DataFrame:
    """Read ``summary.csv`` of a results folder (municipality codes kept as text)."""
    return pd.read_csv(Path(results_dir) / "summary.csv", dtype={"municipality": str})


def read_run(results_dir: Path) -> dict[str, Any]:
    return json.loads((Path(results_dir) / "run.json").read_text(encoding="utf-8"))

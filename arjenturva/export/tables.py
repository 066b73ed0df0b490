"""Writing the tables of a run: the gap analysis and the proposals, through the results contract.

Small cells (fewer people than ``export.suppress_below``, or suppressed in the source) never
appear individually in any file; they count in every aggregate. Every table goes through the
checked writers of :mod:`arjenturva.results`, and every write is atomic.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import labels
from .. import results as R
from ..io import build_time, ensure_writable, file_hash

if TYPE_CHECKING:
    import geopandas as gpd

    from ..config import Config
    from ..coverage import GapResult
    from ..io import CsvDialect
    from ..proposals import ProposalResult


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
    from ..coverage import GAP_AREA_COUNT_COLUMNS

    ga = result.gap_areas.copy()
    if ga.empty:
        return ga
    sup = ga["suppressed"].to_numpy(dtype=bool)
    for c in GAP_AREA_COUNT_COLUMNS:
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


def credits(attribution: Sequence[str], synthetic: bool, lang: str) -> list[str]:
    """What every map and report credits: the synthetic-data note when it applies, then the
    sources and licences the workspace declares (or a note that it declares none)."""
    lines = list(attribution) or [labels.SOURCES_UNDECLARED.get(lang)]
    return ([labels.SYNTHETIC.get(lang)] if synthetic else []) + lines


def run_credits(run: R.RunInfo, lang: str) -> list[str]:
    """:func:`credits` of a results folder, from its ``run.json``."""
    return credits(run.attribution, run.synthetic, lang)


LARGEST_NAMED = 5
"""The unreachable cells (largest first) and off-road service points ``run.json`` names."""


def gap_facts(result: GapResult, threshold: int) -> dict[str, Any]:
    """What ``run.json`` and the console report of a gap analysis besides the tables: people and
    cells the roads do not reach, points snapped beyond the tolerance, and suppressed counts."""
    un = result.unreachable
    cells = un[un["layer"] == "population"].drop_duplicates("id")
    points = result.service_points
    pop = result.population
    small = small_cells(pop, threshold)
    supp = pop["suppressed"].to_numpy(dtype=bool) if "suppressed" in pop else np.zeros(len(pop), bool)
    people = pd.to_numeric(cells["population"], errors="coerce").fillna(0)
    # The largest cases by name; cells below the suppression threshold are never named one by one.
    muni_of = dict(zip(pop["cell_id"].astype(str), pop["municipality"].astype(str), strict=True))
    names = dict(zip(result.municipalities["code"], result.municipalities["name"], strict=True))
    named = cells.assign(people_n=people)[people >= max(threshold, 1)]
    top = named.sort_values(["people_n", "id"], ascending=[False, True]).head(LARGEST_NAMED)
    off = ~points["snapped"].to_numpy(dtype=bool) if "snapped" in points else np.zeros(len(points), bool)
    return {
        "unreachable": {
            "cells": int(len(cells)),
            "people": float(np.sum(people.to_numpy(dtype=float))),
            "reasons": {str(k): int(v) for k, v in cells["reason"].value_counts().items()},
            "largest": [
                {"cell_id": str(cid), "municipality": muni_of.get(str(cid), ""),
                 "municipality_name": names.get(muni_of.get(str(cid), ""), ""), "people": float(n),
                 "reason": str(why)}
                for cid, n, why in zip(
                    top["id"], top["people_n"].to_numpy(dtype=float), top["reason"], strict=True
                )
            ],
        },
        "snapping": {
            "points_beyond_tolerance": int(off.sum()),
            "points": [str(v) for v in points["point_id"].to_numpy()[off][:LARGEST_NAMED]],
            "cells_beyond_tolerance": int(cells["reason"].astype(str).str.startswith("farther than").sum()),
        },
        "suppressed": {
            "cells_suppressed_in_source": int(supp.sum()),
            "cells_below_threshold": int((small & ~supp).sum()),
            "threshold": threshold,
        },
    }


def proposal_facts(result: ProposalResult) -> dict[str, Any]:
    """How the proposals were solved, for ``run.json`` and the console."""
    sol = result.solution
    gap = None if sol is None or not np.isfinite(sol.mip_gap) else float(sol.mip_gap)
    return {
        "status": result.status,
        "message": result.message,
        "agreements": int(len(result.proposals)),
        "solver": None if sol is None else sol.solver,
        "mip_gap": gap,
        "time_limit_hit": sol is not None and sol.status == "time_limit",
        "seconds": None if sol is None else round(float(sol.seconds), 3),
        "cross_sector_rule": None if result.cross_sector is None else result.cross_sector.facts(),
        "warnings": list(result.warnings),
    }


def run_record(
    config: Config,
    *,
    inputs: dict[str, Path],
    network_info: dict[str, Any],
    timings: dict[str, float],
    warnings: list[str],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of ``run.json``: versions, config hash, input hashes, timings, warnings and the
    attribution the config declares."""
    hashes = {}
    for name, path in inputs.items():
        p = Path(path)
        hashes[name] = {"path": str(p), "sha256_16": file_hash(p) if p.is_file() else None}
    return {
        "tool": "arjenturva",
        "created": build_time().isoformat(timespec="seconds"),
        "versions": _versions(),
        "config": str(config.path) if config.path else None,
        "config_hash": config.digest(),
        "inputs": hashes,
        "network": {k: v for k, v in network_info.items() if k not in ("components_sizes",)},
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "warnings": warnings,
        "synthetic": config.synthetic,
        "attribution": config.attributions(),
        "csv_dialect": config.export.csv_dialect,
        **(extra or {}),
    }


def _public_unreachable(df: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Unreachable cells with fewer people than the threshold are not listed one by one."""
    pop = df["population"].to_numpy(dtype=float)
    small = (df["layer"] == "population").to_numpy() & ~(pop >= threshold)
    return df.loc[~small].reset_index(drop=True)


def write_gap_results(
    result: GapResult,
    out_dir: Path,
    config: Config,
    *,
    force: bool,
    record: dict[str, Any],
    places: gpd.GeoDataFrame | None = None,
    context: gpd.GeoDataFrame | None = None,
) -> list[Path]:
    """Write the gap analysis to ``out_dir``: the layers of ``results.gpkg`` (population, gaps,
    gap_areas, service_points, municipalities, and context_municipalities and places when given),
    ``access.csv``,
    ``summary.csv``, ``summary.xlsx``, ``gap_areas.csv``, ``accessibility_2sfca.csv`` (when
    computed) and ``run.json``.

    Raises
    ------
    OutputExistsError
        When any of those files exists and ``force`` is false.
    """
    out_dir = Path(out_dir)
    ensure_writable([out_dir / f for f in R.GAP_FILES], force=force)
    out_dir.mkdir(parents=True, exist_ok=True)
    thr = config.export.suppress_below
    dialect = config.export.csv_dialect
    pop = public_population(result, thr).drop(columns=["suppressed"], errors="ignore")
    gaps = result.gaps.loc[~small_cells(result.gaps, thr)].reset_index(drop=True)
    access = result.access.loc[~small_cells(result.access, thr)]
    gap_areas = public_gap_areas(result)
    sp = result.service_points.copy()
    sp["services"] = sp["services"].map(lambda v: ";".join(v))
    about = pd.DataFrame(
        {
            "item": ["attribution", "config_hash", "created"],
            "value": [
                "; ".join(credits(config.attributions(), config.synthetic, "en")),
                record["config_hash"],
                record["created"],
            ],
        }
    )
    layers = {
        R.POPULATION: pop,
        R.GAPS: gaps[[*R.GAPS.names(), "geometry"]],
        R.GAP_AREAS: gap_areas,
        R.SERVICE_POINTS: sp,
        R.MUNICIPALITIES: result.municipalities,
    }
    if context is not None and len(context):
        layers[R.CONTEXT] = context[[c for c in (*R.CONTEXT.names(), "geometry") if c in context.columns]]
    if places is not None and len(places):
        layers[R.PLACES] = places[[c for c in (*R.PLACES.names(), "geometry") if c in places.columns]]
    written = [
        R.write_layers(layers, out_dir),
        R.write_table(access[R.ACCESS.names()], R.ACCESS, out_dir, dialect=dialect),
        R.write_table(result.summary, R.SUMMARY, out_dir, dialect=dialect),
        R.write_table(gap_areas, R.GAP_AREAS, out_dir, dialect=dialect),
        R.write_workbook(
            [
                (R.SUMMARY, result.summary),
                (R.GAP_AREAS, gap_areas),
                (R.UNREACHABLE, _public_unreachable(result.unreachable, thr)),
                (R.ABOUT, about),
            ],
            out_dir / R.SUMMARY_XLSX,
        ),
        R.write_run({**record, **gap_facts(result, thr)}, out_dir),
    ]
    if result.accessibility is not None:
        written.append(R.write_table(result.accessibility, R.ACCESSIBILITY_2SFCA, out_dir, dialect=dialect))
    return written


def csv_dialect_of(out_dir: Path) -> CsvDialect:
    """The CSV dialect of a results folder (from its ``run.json``; ``standard`` when it has none)."""
    path = Path(out_dir) / R.RUN_FILE
    if path.is_file():
        return "excel-fi" if R.read_run(out_dir).raw.get("csv_dialect") == "excel-fi" else "standard"
    return "standard"


def write_proposal_results(result: ProposalResult, out_dir: Path, *, force: bool) -> list[Path]:
    """Write proposals: ``proposals.csv``, ``proposals_summary.csv`` and the ``proposals`` and
    ``new_sites`` layers added to ``results.gpkg`` (rewritten atomically with its other layers).

    Raises
    ------
    OutputExistsError
        When ``proposals.csv`` exists and ``force`` is false.
    """
    out_dir = Path(out_dir)
    ensure_writable([out_dir / f for f in R.PROPOSAL_FILES], force=force)
    dialect = csv_dialect_of(out_dir)
    written = [
        R.write_table(result.proposals, R.PROPOSALS, out_dir, dialect=dialect),
        R.write_table(result.summary, R.PROPOSALS_SUMMARY, out_dir, dialect=dialect),
        R.write_layers({R.PROPOSALS: result.proposals, R.NEW_SITES: result.new_sites}, out_dir, add=True),
    ]
    if (out_dir / R.RUN_FILE).is_file():
        written.append(R.update_run(out_dir, proposals=proposal_facts(result)))
    return written

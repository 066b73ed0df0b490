"""Temporary re-exports while the redesign moves the writers to :mod:`arjenturva.export.tables`
and the readers to :mod:`arjenturva.results`. Removed when the last importer has moved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .export.tables import (
    public_gap_areas,
    public_population,
    run_record,
    small_cells,
    write_gap_results,
    write_proposal_results,
)
from .results import GAP_FILES, PROPOSAL_FILES

ATTRIBUTION = "see run.json"

__all__ = [
    "ATTRIBUTION", "GAP_FILES", "PROPOSAL_FILES", "public_gap_areas", "public_population", "read_run",
    "read_summary", "run_record", "small_cells", "write_gap_results", "write_proposal_results",
]


def read_summary(results_dir: Path) -> pd.DataFrame:
    return pd.read_csv(Path(results_dir) / "summary.csv", dtype={"municipality": str})


def read_run(results_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(results_dir) / "run.json").read_text(encoding="utf-8"))
    return data

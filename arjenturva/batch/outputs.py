"""What a batch writes beside its runs, and how it is read back.

``batch_summary.csv`` and ``batch_summary.xlsx`` hold the ``summary`` rows of every finished run
with the run's name and scenario (the ``batch_summary`` table of :mod:`arjenturva.results`,
written by its writers, so figures are rounded and formula-like text neutralised as in every
results table). ``batch.json`` records the tasks, how each ended and took, the failures with
their messages and the scheduler used.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..results import BATCH_FILE, BATCH_SUMMARY, RUNS_DIR, SUMMARY, ResultsError, conform, read_table
from .plan import TaskSpec
from .task import TaskOutcome

if TYPE_CHECKING:
    import pandas as pd

    from ..io import CsvDialect

__all__ = [
    "BATCH_FORMAT_VERSION",
    "batch_record",
    "collect_summary",
    "read_batch",
    "read_batch_summary",
    "write_batch_summary",
]

BATCH_FORMAT_VERSION: Final = 1
"""Version of ``batch.json`` and the batch folder layout (``batch_format`` in ``batch.json``)."""


def collect_summary(
    out_dir: Path, specs: Sequence[TaskSpec], outcomes: Sequence[TaskOutcome]
) -> pd.DataFrame:
    """The ``summary`` table of every run that is done (or was skipped as complete), read through
    the results contract, with ``run`` and ``scenario`` columns first, in the order of the tasks."""
    import pandas as pd

    frames = []
    for spec, outcome in zip(specs, outcomes, strict=True):
        if outcome.status == "failed":
            continue
        frame = read_table(out_dir / RUNS_DIR / spec.name, SUMMARY)
        frame.insert(0, "scenario", spec.scenario)
        frame.insert(0, "run", spec.name)
        frames.append(frame)
    if not frames:
        return pd.DataFrame({c.name: pd.Series(dtype=object if c.dtype == "str" else float)
                             for c in BATCH_SUMMARY.columns})
    return conform(pd.concat(frames, ignore_index=True), BATCH_SUMMARY)


def write_batch_summary(
    frame: pd.DataFrame, out_dir: Path, *, dialect: CsvDialect = "standard"
) -> list[Path]:
    """Write ``batch_summary.csv`` (in ``dialect``) and ``batch_summary.xlsx``."""
    from ..results import write_table, write_workbook

    csv = write_table(frame, BATCH_SUMMARY, out_dir, dialect=dialect)
    xlsx = write_workbook([(BATCH_SUMMARY, frame)], out_dir / BATCH_SUMMARY.workbook)
    return [csv, xlsx]


def _task_entry(spec: TaskSpec, outcome: TaskOutcome) -> dict[str, Any]:
    return {
        "name": spec.name,
        "config": spec.config_path,
        "piece": spec.piece,
        "municipalities": None if spec.codes is None else list(spec.codes),
        "scenario": spec.scenario,
        "status": outcome.status,
        "seconds": outcome.seconds,
        "cpu_seconds": outcome.cpu_seconds,
        "started": outcome.started,
        "worker": outcome.worker,
        "timings_s": dict(outcome.timings_s),
        "peak_rss_mb": outcome.peak_rss_mb,
        "error": outcome.error or None,
        "message": outcome.message or None,
        "warnings": list(outcome.warnings),
        "fingerprint": spec.fingerprint,
    }


def batch_record(
    specs: Sequence[TaskSpec],
    outcomes: Sequence[TaskOutcome],
    *,
    scheduler: Mapping[str, Any] | None,
    timings_s: Mapping[str, float],
    settings: Mapping[str, Any],
    created: str,
    version: str,
) -> dict[str, Any]:
    """The content of ``batch.json``.

    ``scheduler`` is None when every run was skipped (no cluster was started); ``failures``
    repeats the failed tasks with their error, message and (for unexpected errors) traceback.
    """
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed")}
    return {
        "batch_format": BATCH_FORMAT_VERSION,
        "tool": "arjenturva",
        "version": version,
        "created": created,
        **settings,
        "scheduler": None if scheduler is None else dict(scheduler),
        "timings_s": {k: round(v, 3) for k, v in timings_s.items()},
        "counts": {"tasks": len(specs), **counts},
        "tasks": [_task_entry(s, o) for s, o in zip(specs, outcomes, strict=True)],
        "failures": [
            {"name": o.name, "error": o.error, "message": o.message, "traceback": o.traceback or None}
            for o in outcomes
            if o.status == "failed"
        ],
    }


def read_batch(out_dir: str | Path) -> dict[str, Any]:
    """Read ``batch.json`` of a batch folder.

    Raises
    ------
    ResultsError
        When the folder holds no ``batch.json``, it cannot be read, or it is of another format.
    """
    path = Path(out_dir) / BATCH_FILE
    rerun = "Fix: run `arjenturva batch` into this folder (or pass the batch folder that holds it)"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        msg = f"{path}: not found, so this is not a batch folder. {rerun}"
        raise ResultsError(msg) from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        msg = f"{path}: cannot read it ({e}). {rerun} with --force"
        raise ResultsError(msg) from e
    if not isinstance(data, dict) or data.get("batch_format") != BATCH_FORMAT_VERSION:
        found = data.get("batch_format") if isinstance(data, dict) else None
        msg = (
            f"{path}: batch format {found}, but this arjenturva reads {BATCH_FORMAT_VERSION}. "
            f"{rerun} with --force"
        )
        raise ResultsError(msg)
    return data


def read_batch_summary(out_dir: str | Path) -> pd.DataFrame:
    """Read ``batch_summary.csv`` of a batch folder, each column with its schema dtype.

    Raises
    ------
    ResultsError
        When the folder is not a batch folder, or the table is missing or breaks its schema.
    """
    import pandas as pd

    folder = Path(out_dir)
    record = read_batch(folder)
    path = folder / str(BATCH_SUMMARY.csv)
    excel_fi = record.get("csv_dialect") == "excel-fi"
    text = {c.name: "str" for c in BATCH_SUMMARY.columns if c.dtype == "str"}
    try:
        frame = pd.read_csv(path, dtype=text, encoding="utf-8-sig", sep=";" if excel_fi else ",",
                            decimal="," if excel_fi else ".")
    except FileNotFoundError as e:
        msg = f"{path}: not found. Fix: rerun `arjenturva batch` into {folder}"
        raise ResultsError(msg) from e
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as e:
        msg = f"{path}: cannot read the table ({e}). Fix: rerun `arjenturva batch` into {folder} with --force"
        raise ResultsError(msg) from e
    for c in BATCH_SUMMARY.columns:
        if c.dtype == "float" and c.name in frame.columns:
            frame[c.name] = pd.to_numeric(frame[c.name], errors="coerce").astype(float)
    return conform(frame, BATCH_SUMMARY)

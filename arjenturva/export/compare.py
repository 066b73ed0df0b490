"""Comparing results folders: municipalities and runs (scenarios) side by side.

Each results folder written by ``arjenturva gaps`` or ``arjenturva run`` holds ``summary.csv``
(indicators per municipality × service plus one ``service == "ALL"`` row per municipality) and
``run.json`` (with a ``scenario`` key when a scenario ran). :func:`compare_results` reads several
of them and returns plain DataFrames; :func:`write_comparison` writes them as CSV, XLSX, JSON and
a PNG bar chart. Nothing here prints: the CLI shows the tables.

Two views:

* **by municipality**: one row per service, one column per municipality (and run, when several
  are given), holding one indicator;
* **by run**: one row per run and service with the main indicators summed over the
  municipalities (shares and means recomputed from the sums, so they are exact), and a table
  of differences of every later run to the first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .. import results as R
from ..errors import ArjenturvaError, InputFileError
from ..io import atomic_path, ensure_writable, write_csv, write_json, write_xlsx

__all__ = [
    "COMPARISON_FILES",
    "INDICATORS",
    "RUN_INDICATORS",
    "ComparisonResult",
    "compare_results",
    "read_results",
    "write_comparison",
]

INDICATORS: tuple[str, ...] = (
    "population", "demand", "covered_demand", "covered_share", "uncovered_population", "uncovered_demand",
    "uncovered_65_plus", "uncovered_0_14", "uncovered_sparse", "unreachable_population",
    "mean_distance_km", "median_distance_km", "p90_distance_km", "mean_time_min", "median_time_min",
    "p90_time_min", "services_with_gaps", "population_lacking_any_service",
)
"""Indicators of ``summary.csv`` that can be compared."""

RUN_INDICATORS: tuple[str, ...] = (
    "population", "demand", "covered_share", "uncovered_population", "uncovered_65_plus", "uncovered_0_14",
    "uncovered_sparse", "unreachable_population", "mean_distance_km", "mean_time_min",
    "population_lacking_any_service",
)
"""Indicators of the by-run table (those that add up, or can be recomputed exactly, over municipalities)."""

_SUMMED = ("population", "demand", "covered_demand", "uncovered_population", "uncovered_demand",
           "uncovered_65_plus", "uncovered_0_14", "uncovered_sparse", "unreachable_population")

_BY_RUN = (*_SUMMED, "covered_share", "mean_distance_km", "mean_time_min", "population_lacking_any_service")
"""Indicators the by-run table can hold: sums over municipalities, or exact from them."""

COMPARISON_FILES: tuple[str, ...] = ("comparison.csv", "comparison.xlsx", "comparison.json", "comparison.png")
"""The files :func:`write_comparison` writes."""

_FIX = "run `arjenturva gaps` (or `arjenturva run`) first, and pass the results folder it wrote"

By = Literal["municipality", "run"]


@dataclass(frozen=True)
class ComparisonResult:
    """Indicators of several results folders side by side.

    Attributes
    ----------
    by
        ``"municipality"`` or ``"run"``.
    indicator
        The indicator of the by-municipality table and of the chart.
    table
        By municipality: ``service``, ``service_label`` and one column per municipality (per run
        and municipality when several runs are compared). By run: ``run``, ``service``,
        ``service_label`` and the :data:`RUN_INDICATORS`, with one ``ALL`` row per run.
    differences
        By run with two or more runs: the same rows and columns for every run after the first,
        holding the difference to the first run (``None`` otherwise).
    long
        Every row of every ``summary.csv``, with ``run`` and ``results_dir`` columns.
    runs
        The run labels, in the order given (``scenario`` from ``run.json``, else the folder name).
    """

    by: By
    indicator: str
    table: pd.DataFrame
    differences: pd.DataFrame | None
    long: pd.DataFrame
    runs: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def read_results(directory: str | Path) -> tuple[pd.DataFrame, str, str | None]:
    """Read the indicators of one results folder through the results contract.

    Parameters
    ----------
    directory
        A results folder (or a workspace folder with ``results/`` in it).

    Returns
    -------
    (pandas.DataFrame, str, str or None)
        ``summary.csv`` with the schema's dtypes, the run label (the scenario of ``run.json``,
        else the folder name) and the scenario name when there is one.

    Raises
    ------
    ResultsError
        When the folder is not a results folder of this results format, or its ``summary.csv``
        is missing, unreadable, lacks a column or has no rows.
    """
    folder = R.results_dir_of(directory)
    run = R.read_run(folder)
    df = R.read_table(folder, R.SUMMARY)
    if df.empty:
        msg = f"{folder / str(R.SUMMARY.csv)}: the summary has no rows. Fix: {_FIX}"
        raise R.ResultsError(msg)
    df["municipality"] = df["municipality"].fillna("").astype(str)
    df["municipality_name"] = df["municipality_name"].fillna("").astype(str)
    df["service_label"] = df["service_label"].fillna(df["service"]).astype(str)
    return df, (run.scenario or folder.resolve().name), run.scenario


def _unique_labels(labels: list[str], dirs: list[Path]) -> list[str]:
    """Make run labels unique: add the parent folder's name, then a number."""
    out = list(labels)
    for i, lab in enumerate(labels):
        if labels.count(lab) > 1:
            out[i] = f"{dirs[i].resolve().parent.name}/{lab}"
    seen: dict[str, int] = {}
    for i, lab in enumerate(out):
        seen[lab] = seen.get(lab, 0) + 1
        if seen[lab] > 1:
            out[i] = f"{lab} ({seen[lab]})"
    return out


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def _municipality_column(code: str, name: str) -> str:
    return name if name else code


def _by_municipality(long: pd.DataFrame, runs: list[str], indicator: str) -> pd.DataFrame:
    df = long[long[indicator].notna()].copy()
    df["_muni"] = [_municipality_column(c, n) for c, n in zip(df["municipality"], df["municipality_name"],
                                                                 strict=True)]
    df["_col"] = df["_muni"] if len(runs) == 1 else df["run"] + ": " + df["_muni"]
    wide = df.pivot_table(index="service", columns="_col", values=indicator, aggfunc="first", sort=False)
    # Columns in run order, then municipality code order; services in order of first appearance.
    col_order = (df.sort_values(["_run_pos", "municipality"])["_col"].drop_duplicates().tolist())
    services = _service_order(df)
    wide = wide.reindex(index=services, columns=col_order)
    labels = df.drop_duplicates("service").set_index("service")["service_label"]
    out = wide.reset_index()
    out.insert(1, "service_label", out["service"].map(labels))
    out.columns.name = None
    return out


def _service_order(df: pd.DataFrame) -> list[str]:
    services = [s for s in df["service"].drop_duplicates().tolist() if s != "ALL"]
    return sorted(services) + (["ALL"] if (df["service"] == "ALL").any() else [])


def _aggregate_run(df: pd.DataFrame, indicators: Sequence[str]) -> pd.DataFrame:
    """Indicators of one run summed over its municipalities (one row per service, plus ALL)."""
    rows = []
    services = df[df["service"] != "ALL"]
    for sid, d in services.groupby("service", sort=True):
        row: dict[str, Any] = {"service": sid, "service_label": d["service_label"].iloc[0]}
        for col in _SUMMED:
            row[col] = float(d[col].sum(min_count=1))
        demand = row["demand"]
        row["covered_share"] = (row["covered_demand"] / demand if demand and demand > 0
                                else float(d["covered_share"].mean()))
        reach = (d["population"] - d["unreachable_population"].fillna(0)).to_numpy(dtype=float)
        for col in ("mean_distance_km", "mean_time_min"):
            v = d[col].to_numpy(dtype=float)
            ok = np.isfinite(v) & (reach > 0)
            row[col] = float(np.average(v[ok], weights=reach[ok])) if ok.any() else np.nan
        rows.append(row)
    per_service = pd.DataFrame(rows)
    all_rows = df[df["service"] == "ALL"]
    if len(per_service):
        total = {
            "service": "ALL",
            "service_label": all_rows["service_label"].iloc[0] if len(all_rows) else "all services",
            "population": float(all_rows["population"].sum()) if len(all_rows) else np.nan,
            "covered_share": float(per_service["covered_share"].mean()),
            "population_lacking_any_service": (
                float(all_rows["population_lacking_any_service"].sum(min_count=1))
                if len(all_rows) else np.nan),
        }
        per_service = pd.concat([per_service, pd.DataFrame([total])], ignore_index=True)
    for col in indicators:
        if col not in per_service.columns:
            per_service[col] = np.nan
    return per_service[["service", "service_label", *indicators]]


def _by_run(long: pd.DataFrame, runs: list[str], indicators: Sequence[str]
            ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    frames = []
    for run in runs:
        agg = _aggregate_run(long[long["run"] == run], indicators)
        agg.insert(0, "run", run)
        frames.append(agg)
    table = pd.concat(frames, ignore_index=True)
    if len(runs) < 2:
        return table, None
    base = table[table["run"] == runs[0]].set_index("service")[list(indicators)]
    diffs = []
    for run in runs[1:]:
        cur = table[table["run"] == run].set_index("service")
        services = list(dict.fromkeys([*base.index, *cur.index]))
        d = (cur[list(indicators)].reindex(services) - base.reindex(services)).reset_index()
        first = table[table["run"] == runs[0]].set_index("service")["service_label"]
        labels = pd.concat([cur["service_label"], first])
        labels = labels[~labels.index.duplicated()]
        d.insert(1, "service_label", d["service"].map(labels))
        d.insert(0, "run", run)
        diffs.append(d)
    return table, pd.concat(diffs, ignore_index=True)


def compare_results(
    dirs: Sequence[str | Path],
    *,
    by: By | None = None,
    indicator: str = "uncovered_population",
    indicators: Sequence[str] = RUN_INDICATORS,
    services: Sequence[str] | None = None,
    municipalities: Sequence[str] | None = None,
) -> ComparisonResult:
    """Put the indicators of several results folders side by side.

    Parameters
    ----------
    dirs
        Results folders written by ``arjenturva gaps`` / ``run`` (a workspace folder with
        ``results/`` in it works too).
    by
        ``"run"`` (scenario × indicators, with differences to the first) or ``"municipality"``
        (services × municipalities of one indicator). Default: ``"run"`` for two or more
        folders, ``"municipality"`` for one.
    indicator
        The indicator of the by-municipality table and of the chart (see :data:`INDICATORS`).
    indicators
        The columns of the by-run table.
    services
        Only these service ids (default: all).
    municipalities
        Only these municipality codes (default: all).

    Returns
    -------
    ComparisonResult

    Raises
    ------
    InputFileError
        When a folder is missing or is not a results folder.
    ArjenturvaError
        When an indicator, ``by``, or a service/municipality filter is unknown.
    """
    paths = [Path(d) for d in dirs]
    if not paths:
        msg = f"no results folder given. Fix: {_FIX}"
        raise InputFileError(msg)
    mode: By = by if by is not None else ("run" if len(paths) > 1 else "municipality")
    if mode not in ("run", "municipality"):
        msg = f"cannot compare by {mode!r}. Fix: use 'run' or 'municipality'"
        raise ArjenturvaError(msg)
    bad = [i for i in [indicator, *indicators] if i not in INDICATORS]
    if bad:
        msg = f"unknown indicator(s) {', '.join(bad)}. Fix: use one of {', '.join(INDICATORS)}"
        raise ArjenturvaError(msg)
    if mode == "run" and indicator not in _BY_RUN:
        msg = (f"{indicator} does not add up over municipalities, so runs cannot be compared by it. "
               f"Fix: use one of {', '.join(_BY_RUN)}, or --by municipality")
        raise ArjenturvaError(msg)
    frames, labels = [], []
    for p in paths:
        df, label, scenario = read_results(p)
        df["scenario"] = scenario
        df["results_dir"] = str(p)
        frames.append(df)
        labels.append(label)
    runs = _unique_labels(labels, paths)
    for pos, (df, run) in enumerate(zip(frames, runs, strict=True)):
        df.insert(0, "run", run)
        df["_run_pos"] = pos
    long = pd.concat(frames, ignore_index=True)
    if services is not None:
        known = set(long["service"])
        unknown = [s for s in services if s not in known]
        if unknown:
            msg = (f"unknown service(s) {', '.join(unknown)} in these results. "
                   f"Fix: use {', '.join(sorted(known - {'ALL'}))}")
            raise ArjenturvaError(msg)
        long = long[long["service"].isin([*services, "ALL"])]
    if municipalities is not None:
        codes = [str(c).strip() for c in municipalities]
        codes = [c.zfill(3) if c.isdigit() else c for c in codes]
        known = set(long["municipality"])
        unknown = [c for c in codes if c not in known]
        if unknown:
            msg = (f"unknown municipality code(s) {', '.join(unknown)} in these results. "
                   f"Fix: use {', '.join(sorted(known))}")
            raise ArjenturvaError(msg)
        long = long[long["municipality"].isin(codes)]
    if mode == "municipality":
        table, differences = _by_municipality(long, runs, indicator), None
    else:
        # The side-by-side indicator is in the table even when it is not one of `indicators`.
        table, differences = _by_run(long, runs, list(dict.fromkeys([*indicators, indicator])))
    long = long.drop(columns="_run_pos").reset_index(drop=True)
    return ComparisonResult(by=mode, indicator=indicator, table=table, differences=differences, long=long,
                            runs=tuple(runs))


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _records(df: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    if df is None:
        return None
    clean = df.replace([np.inf, -np.inf], np.nan)
    return json.loads(clean.to_json(orient="records", force_ascii=False))


def _chart_data(result: ComparisonResult) -> pd.DataFrame:
    """Indicator per service (rows) and run or municipality (columns) for the bar chart."""
    long = result.long[(result.long["service"] != "ALL") & result.long[result.indicator].notna()]
    if result.by == "run":
        data = long.groupby(["service_label", "run"], sort=False)[result.indicator]
        values = data.sum(min_count=1) if result.indicator in _SUMMED else data.mean()
        wide = values.unstack("run")
        return wide.reindex(columns=[r for r in result.runs if r in wide.columns])
    names = [_municipality_column(c, n) for c, n in zip(long["municipality"], long["municipality_name"],
                                                        strict=True)]
    col = names if len(result.runs) == 1 else (long["run"] + ": " + pd.Series(names, index=long.index))
    return long.assign(_col=col).pivot_table(index="service_label", columns="_col", values=result.indicator,
                                             aggfunc="first", sort=False)


def _write_chart(result: ComparisonResult, path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    data = _chart_data(result)
    n_rows, n_cols = data.shape
    fig = Figure(figsize=(min(16.0, max(6.0, 1.2 + 0.9 * n_rows * max(1, n_cols) ** 0.5)), 4.8),
                 layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if n_rows and n_cols:
        width = 0.8 / n_cols
        x = np.arange(n_rows)
        for k, col in enumerate(data.columns):
            ax.bar(x + (k - (n_cols - 1) / 2) * width, data[col].fillna(0).to_numpy(dtype=float), width,
                   label=str(col))
        ax.set_xticks(x, [str(s) for s in data.index], rotation=30, ha="right")
        ax.legend(fontsize="small", title="run" if result.by == "run" else "municipality")
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylabel(result.indicator.replace("_", " "))
    ax.set_title(f"{result.indicator.replace('_', ' ')} per service")
    ax.grid(axis="y", alpha=0.3)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    return path


def write_comparison(result: ComparisonResult, out_dir: str | Path, *, force: bool = False) -> list[Path]:
    """Write a comparison as ``comparison.csv``, ``.xlsx``, ``.json`` and ``.png`` (atomically).

    Parameters
    ----------
    result
        From :func:`compare_results`.
    out_dir
        The folder to write into (created when missing).
    force
        Overwrite existing comparison files.

    Returns
    -------
    list of Path
        The files written (:data:`COMPARISON_FILES`).

    Raises
    ------
    OutputExistsError
        When a comparison file exists in ``out_dir`` and ``force`` is false.
    """
    out = Path(out_dir)
    targets = [out / f for f in COMPARISON_FILES]
    ensure_writable(targets, force=force)
    out.mkdir(parents=True, exist_ok=True)
    runs = (result.long[["run", "scenario", "results_dir"]].drop_duplicates("run").reset_index(drop=True))
    sheets = {"comparison": result.table}
    if result.differences is not None:
        sheets["differences"] = result.differences
    sheets["indicators"] = result.long
    sheets["runs"] = runs
    written = [
        write_csv(result.table, targets[0]),
        write_xlsx(sheets, targets[1]),
        write_json({"by": result.by, "indicator": result.indicator, "runs": _records(runs),
                    "table": _records(result.table), "differences": _records(result.differences),
                    "long": _records(result.long)}, targets[2]),
        _write_chart(result, targets[3]),
    ]
    return written

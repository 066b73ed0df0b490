"""Writing and reading the tables of a results folder, each checked against its schema.

Every writer of a results table goes through :func:`write_table`, :func:`write_layers` or
:func:`write_workbook`; every reader through :func:`read_table`, :func:`read_layer` and
:func:`read_run`. The readers check the folder's results-format version first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .tables import GPKG_FILE, RESULTS_FORMAT_VERSION, RUN_FILE, DType, ResultsError, Table, safe_name

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from ..io import CsvDialect


# --- checking ------------------------------------------------------------------------------------


def _kind_ok(series: pd.Series, dtype: DType) -> bool:
    import pandas as pd

    if series.isna().all():
        return True
    if dtype == "float":
        return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if dtype == "int":
        return pd.api.types.is_integer_dtype(series)
    if dtype == "bool":
        return pd.api.types.is_bool_dtype(series)
    values = series.dropna()
    return bool(values.map(lambda v: isinstance(v, str)).all())


def _expected(table: Table, columns: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """(ordered columns to keep, missing required columns, unknown columns) of a frame."""
    present = set(columns)
    fixed = [c.name for c in table.columns]
    keep = [c.name for c in table.columns if c.name in present]
    missing = [c.name for c in table.columns if not c.optional and c.name not in present]
    extra = [c for c in columns if c not in fixed and c != "geometry"]
    services = sorted(
        {c[: -len(p.name) - 1] for c in extra for p in table.per_service if c.endswith("_" + p.name)}
    )
    per = [f"{sid}_{p.name}" for sid in services for p in table.per_service]
    keep += [c for c in columns if c in set(per)]  # per-service columns keep the order given
    missing += [
        f"{sid}_{p.name}"
        for sid in services
        for p in table.per_service
        if not p.optional and f"{sid}_{p.name}" not in present
    ]
    unknown = [c for c in extra if c not in per]
    return keep, missing, unknown


def conform(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """``frame`` with the table's columns in schema order (and its geometry, for layers).

    Raises
    ------
    ResultsError
        When a required column is missing, a column is not in the schema, or a column's values
        do not fit its dtype: a bug in the writer, never a user error.
    """
    keep, missing, unknown = _expected(table, list(frame.columns))
    bad = [c for c in keep if not _kind_ok(frame[c], table.column(c).dtype)]
    if missing or unknown or bad:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"column(s) not in the schema: {', '.join(unknown)}")
        if bad:
            parts.append("wrong dtype in " + ", ".join(f"{c} (want {table.column(c).dtype})" for c in bad))
        msg = f"results table {table.name!r} breaks its schema: {'; '.join(parts)}. Fix: report this bug"
        raise ResultsError(msg)
    if "geometry" in frame.columns:
        keep = [*keep, "geometry"]
    return frame[keep]


# --- writing -------------------------------------------------------------------------------------


def csv_path(out_dir: str | Path, table: Table, **names: str) -> Path:
    """The CSV file of ``table`` in ``out_dir``; ``names`` fill a file-name pattern such as
    ``location_{model}_{service}.csv``, each reduced to letters, digits, ``-`` and ``_``."""
    if table.csv is None:
        msg = f"table {table.name!r} has no CSV file"
        raise ValueError(msg)
    safe = {k: safe_name(v) for k, v in names.items()}
    return Path(out_dir) / table.csv.format(**safe)


def _rounded(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Figures at the precision of their unit (:attr:`Column.decimals`)."""
    import numpy as np
    out = frame.copy()
    for col in out.columns:
        if col == "geometry":
            continue
        decimals = table.column(col).decimals
        if decimals is not None:
            values = out[col].astype(float).replace([np.inf, -np.inf], np.nan).round(decimals)
            # Whole figures print without a trailing ".0"; missing stays empty.
            out[col] = values.astype("Int64") if decimals == 0 else values
    return out


def write_table(
    frame: pd.DataFrame, table: Table, out_dir: str | Path, *, dialect: CsvDialect = "standard", **names: str
) -> Path:
    """Write ``table`` as its CSV file in ``out_dir`` after checking it against its schema, figures
    rounded to their unit's precision (``names``: see :func:`csv_path`; ``dialect``: see
    :func:`arjenturva.io.write_csv`)."""
    from ..io import write_csv

    checked = conform(frame.drop(columns="geometry", errors="ignore"), table)
    return write_csv(_rounded(checked, table), csv_path(out_dir, table, **names), dialect=dialect)


def write_layers(layers: Mapping[Table, gpd.GeoDataFrame], out_dir: str | Path, *, add: bool = False) -> Path:
    """Write layers into ``results.gpkg`` (all or none), each checked against its schema.

    With ``add=True`` the other layers of an existing file are kept.
    """
    from ..io import write_gpkg

    named = {}
    for table, gdf in layers.items():
        if table.layer is None:
            msg = f"table {table.name!r} is not a layer"
            raise ValueError(msg)
        named[table.layer] = conform(gdf, table)
    return write_gpkg(named, Path(out_dir) / GPKG_FILE, add=add)


def write_workbook(sheets: Sequence[tuple[Table, pd.DataFrame]], path: str | Path) -> Path:
    """Write one XLSX workbook, a sheet per table, each checked against its schema."""
    from ..io import write_xlsx

    named = {}
    formats = {}
    for table, frame in sheets:
        if table.sheet is None:
            msg = f"table {table.name!r} is not a workbook sheet"
            raise ValueError(msg)
        checked = conform(frame.drop(columns="geometry", errors="ignore"), table)
        named[table.sheet] = _rounded(checked, table)
        formats[table.sheet] = {c: table.column(c).excel_format for c in checked.columns}
    return write_xlsx(named, path, formats=formats)


def write_run(record: Mapping[str, Any], out_dir: str | Path) -> Path:
    """Write ``run.json`` with the results-format version first."""
    from ..io import write_json

    return write_json({"results_format": RESULTS_FORMAT_VERSION, **record}, Path(out_dir) / RUN_FILE)


def update_run(out_dir: str | Path, **sections: Any) -> Path:
    """Add or replace top-level sections of an existing ``run.json`` (e.g. ``proposals``)."""
    from ..io import write_json

    path = Path(out_dir) / RUN_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(sections)
    return write_json(data, path)


# --- reading -------------------------------------------------------------------------------------

_RERUN = "Fix: rerun `arjenturva run` (or `gaps`) with --force to write this folder again"


@dataclass(frozen=True)
class RunInfo:
    """What ``run.json`` of a results folder says (the fields the outputs use, and all of it)."""

    results_format: int
    created: str
    config: str | None
    config_hash: str | None
    scenario: str | None
    attribution: tuple[str, ...]
    synthetic: bool
    warnings: tuple[str, ...]
    proposals: Mapping[str, Any] | None
    """How the proposals were solved: ``status``, ``solver``, ``mip_gap``, ``time_limit_hit``,
    ``agreements``, ``message``, ``warnings`` (None before proposals ran)."""
    unreachable: Mapping[str, Any]
    """``cells`` and ``people`` the road network does not reach, and their ``reasons``."""
    raw: Mapping[str, Any]


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = data.get(key)
    return value if isinstance(value, dict) else None


def results_dir_of(directory: str | Path) -> Path:
    """``directory`` itself when it holds ``run.json``, else its ``results/`` folder when that does.

    Raises
    ------
    ResultsError
        When neither is a results folder.
    """
    d = Path(directory)
    if not d.exists():
        msg = f"{d}: results folder not found. Fix: check the path, or run `arjenturva run` first"
        raise ResultsError(msg)
    if not d.is_dir():
        msg = f"{d}: not a folder. Fix: pass the results folder that holds {RUN_FILE}"
        raise ResultsError(msg)
    for cand in (d, d / "results"):
        if (cand / RUN_FILE).is_file():
            return cand
    msg = f"{d}: not a results folder (no {RUN_FILE} in it). Fix: run `arjenturva run` (or `gaps`) first"
    raise ResultsError(msg)


def read_run(results_dir: str | Path) -> RunInfo:
    """Read ``run.json`` and check its results-format version.

    Raises
    ------
    ResultsError
        When run.json is missing or unreadable, or the folder is of another results format.
    """
    path = Path(results_dir) / RUN_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        msg = f"{path}: not found, so this is not a results folder. Fix: run `arjenturva run` first"
        raise ResultsError(msg) from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        msg = f"{path}: cannot read it ({e}). {_RERUN}"
        raise ResultsError(msg) from e
    if not isinstance(data, dict):
        msg = f"{path}: not a run record (expected a JSON object). {_RERUN}"
        raise ResultsError(msg)
    version = data.get("results_format", 1)
    if version != RESULTS_FORMAT_VERSION:
        msg = (
            f"{path}: results format {version}, but this arjenturva reads format {RESULTS_FORMAT_VERSION}. "
            f"{_RERUN}, or read it with the arjenturva version that wrote it"
        )
        raise ResultsError(msg)
    scenario = data.get("scenario")
    if isinstance(scenario, dict):
        scenario = scenario.get("name") or scenario.get("id")
    attribution = data.get("attribution") or []
    if isinstance(attribution, str):
        attribution = [attribution]
    return RunInfo(
        results_format=int(version),
        created=str(data.get("created", "")),
        config=data.get("config"),
        config_hash=data.get("config_hash"),
        scenario=str(scenario) if scenario not in (None, "") else None,
        attribution=tuple(str(a) for a in attribution),
        synthetic=bool(data.get("synthetic", False)),
        warnings=tuple(str(w) for w in data.get("warnings") or ()),
        proposals=_section(data, "proposals"),
        unreachable=_section(data, "unreachable") or {},
        raw=data,
    )


def has_table(results_dir: str | Path, table: Table) -> bool:
    """Whether the folder holds ``table`` (its CSV file, or else its layer)."""
    d = Path(results_dir)
    if table.csv is not None:
        return (d / table.csv).is_file()
    if table.layer is not None and (d / GPKG_FILE).is_file():
        return table.layer in list_layers(d)
    return False


def list_layers(results_dir: str | Path) -> list[str]:
    """The layer names of ``results.gpkg`` (empty when it does not exist)."""
    import pyogrio

    gpkg = Path(results_dir) / GPKG_FILE
    if not gpkg.is_file():
        return []
    return [str(name) for name in pyogrio.list_layers(gpkg)[:, 0]]


_TRUTH: Final = {"true": True, "1": True, "false": False, "0": False}


def _typed(frame: pd.DataFrame, table: Table, source: Path) -> pd.DataFrame:
    import pandas as pd

    keep, missing, unknown = _expected(table, list(frame.columns))
    if missing:
        msg = f"{source}: missing column(s) {', '.join(missing)} of the {table.name} table. {_RERUN}"
        raise ResultsError(msg)
    out = frame[keep + (["geometry"] if "geometry" in frame.columns else [])].copy()
    for name in keep:
        dtype = table.column(name).dtype
        col = out[name]
        if dtype == "str":
            out[name] = col.astype("str").where(col.notna(), None) if col.dtype != "str" else col
        elif dtype == "float":
            out[name] = pd.to_numeric(col, errors="coerce").astype(float)
        elif dtype == "int":
            out[name] = pd.to_numeric(col, errors="coerce").astype("int64")
        else:
            out[name] = col.map(lambda v: _TRUTH.get(str(v).strip().lower(), False)).astype(bool)
    return out


def read_table(results_dir: str | Path, table: Table) -> pd.DataFrame:
    """Read a CSV table of a results folder, each column with its schema dtype.

    Raises
    ------
    ResultsError
        When the folder is of another results format, or the file is missing, unreadable or
        lacks a column of the schema.
    """
    import pandas as pd

    if table.csv is None:
        msg = f"table {table.name!r} has no CSV file"
        raise ValueError(msg)
    d = Path(results_dir)
    run = read_run(d)
    path = d / table.csv
    if not path.is_file():
        msg = f"{path}: not found. {_RERUN}"
        raise ResultsError(msg)
    text_cols = {c.name: "str" for c in table.columns if c.dtype == "str"}
    excel_fi = run.raw.get("csv_dialect") == "excel-fi"
    try:
        frame = pd.read_csv(
            path,
            dtype=text_cols,
            keep_default_na=True,
            encoding="utf-8-sig",
            sep=";" if excel_fi else ",",
            decimal="," if excel_fi else ".",
        )
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as e:
        msg = f"{path}: cannot read the table ({e}). {_RERUN}"
        raise ResultsError(msg) from e
    return _typed(frame, table, path)


def read_layer(results_dir: str | Path, table: Table) -> gpd.GeoDataFrame:
    """Read a layer of ``results.gpkg`` in EPSG:3067, each column with its schema dtype.

    Raises
    ------
    ResultsError
        When the folder is of another results format, or the layer is missing or lacks a column.
    """
    import geopandas as gpd

    from ..schema import CRS

    if table.layer is None:
        msg = f"table {table.name!r} is not a layer"
        raise ValueError(msg)
    d = Path(results_dir)
    read_run(d)
    gpkg = d / GPKG_FILE
    if table.layer not in list_layers(d):
        msg = f"{gpkg}: layer {table.layer!r} not found. {_RERUN}"
        raise ResultsError(msg)
    gdf = gpd.read_file(gpkg, layer=table.layer)
    gdf = gdf.set_crs(CRS) if gdf.crs is None else gdf.to_crs(CRS)
    return gpd.GeoDataFrame(_typed(gdf, table, gpkg), geometry="geometry", crs=CRS)

"""What makes an input file unreadable as a whole, named with its fix (for :mod:`arjenturva.io`).

Text decoding (UTF-16/32, binary files, other encodings), CSV parsing (separators, mixed
separators, rows longer than the header, unclosed quotes, repeated header columns), workbook
sheets, GeoPackage layers, and the CRS (unknown, or one that puts the layer outside Finland).
Each raises :class:`~arjenturva.errors.InputFileError` as ``"<file>: <problem>. Fix: <fix>"``.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import sqlite3
from pathlib import Path
from typing import Any, NoReturn

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import InputFileError, Problem
from .schema import CRS, FINLAND_BOUNDS_3067, FINLAND_BOUNDS_4326

_SEPARATORS = {",": "','", ";": "';'", "\t": "tab"}
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an XLSX workbook is one)", "an Excel workbook needs the suffix .xlsx"),
    (
        b"SQLite format 3\x00",
        "an SQLite database (a GeoPackage is one)",
        "a GeoPackage needs the suffix .gpkg",
    ),
    (b"%PDF", "a PDF document", "export the table as CSV or XLSX"),
)


def fail(path: Path, problem: str, fix: str) -> NoReturn:
    raise InputFileError(f"{path}: {problem}. Fix: {fix}")


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    """The text of a CSV file; UTF-16/32, binary files and undecodable bytes are named."""
    head = raw[:4096]
    if encoding is None:
        for sig, what, fix in _SIGNATURES:
            if raw.startswith(sig):
                fail(path, f"not a CSV text file but {what}", f"check `path:` in the config; {fix}")
        boms = (
            (codecs.BOM_UTF32_LE, "UTF-32"),
            (codecs.BOM_UTF32_BE, "UTF-32"),
            (codecs.BOM_UTF16_LE, "UTF-16"),
            (codecs.BOM_UTF16_BE, "UTF-16"),
        )
        for bom, name in boms:
            if raw.startswith(bom):
                fail(
                    path,
                    f"{name} text (it starts with a {name} byte order mark), not UTF-8",
                    "save the file as UTF-8 (Excel: 'CSV UTF-8'), or set "
                    f"`encoding: {name.lower()}` for this input in the config",
                )
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if max(even, odd) > len(head) // 4 and min(even, odd) <= max(even, odd) // 10:
            fail(
                path,
                "UTF-16 text without a byte order mark (every other byte is 0), not UTF-8",
                "save the file as UTF-8 (Excel: 'CSV UTF-8'), or set "
                f"`encoding: utf-16-{'le' if odd > even else 'be'}` for this input in the config",
            )
        control = sum(head.count(b) for b in (*range(9), *range(14, 32)))
        if control >= max(4, len(head) // 200):
            fail(path, "not a text file (binary data)", "check `path:` points at the CSV file")
    try:
        return raw.decode(encoding or "utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        where = f"invalid byte 0x{raw[e.start]:02x} on line {line}"
        if encoding:
            fail(path, f"not {encoding} text ({where})", "check `encoding:` for this input in the config")
        fail(
            path,
            f"not UTF-8 text ({where}; probably Latin-1/Windows-1252)",
            "save the file as UTF-8 (Excel: 'CSV UTF-8'), or set `encoding: latin-1` for this input "
            "in the config",
        )


def _rows_text(rows: list[Any]) -> str:
    """``row 3`` or ``rows 3, 7, 9 and 4 more``."""
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return ("row " if len(rows) == 1 else "rows ") + ", ".join(str(r) for r in rows[:5]) + more


def _csv_trouble(text: str, sep: str, err: Exception) -> tuple[str, str]:
    """Why pandas could not parse a CSV: an unclosed quote or rows longer than the header."""
    reader = csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True, strict=True)
    width, long, start = 0, [], 1
    try:
        for fields in reader:
            if not width:
                width = len(fields)
            elif len(fields) > width:
                long.append(f"{start} ({len(fields)} fields)")
            start = reader.line_num + 1
    except csv.Error as e:
        if "end of data" not in str(e):
            return f"row {start}: {e}", "check the row opens in a spreadsheet with one value per cell"
        return (
            f"row {start}: a quoted cell is not closed ({e})",
            'close the quote ("), or remove it; a quote inside a quoted cell is written twice ("")',
        )
    if long:
        return (
            f"{_rows_text(long)}: more cells than the header ({width}, separated by {_SEPARATORS[sep]})",
            f'quote cells that contain {_SEPARATORS[sep]} ("Kylä, Posio") or remove the extra separators',
        )
    return f"cannot parse the CSV ({str(err).splitlines()[0]})", "check it opens in a spreadsheet"


def _with_header(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The first row as the header (checked for duplicates); ``_row`` is the file's row number."""
    names = [str(c).strip() if isinstance(c, str) else f"Unnamed: {j}" for j, c in enumerate(raw.iloc[0])]
    seen: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        seen.setdefault(name.lower(), []).append(j + 1)
    dups = [
        f"'{names[cols[0] - 1]}' (columns {', '.join(map(str, cols))})"
        for cols in seen.values()
        if len(cols) > 1
    ]
    if dups:
        fail(path, f"the header holds a column twice: {'; '.join(dups)}", "rename or delete the extra column")
    df = raw.iloc[1:].copy()
    df.columns = names
    df = df[~df.isna().all(axis=1)]
    df["_row"] = df.index.to_numpy() + 1
    return df.reset_index(drop=True)


def read_csv(path: Path, encoding: str | None) -> tuple[pd.DataFrame, str]:
    """A CSV as text cells with a ``_row`` column, and its separator (``,``, ``;`` or tab)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        fail(path, f"cannot read the file ({e.strerror})", "check the file's permissions")
    text = _decode(path, raw, encoding).lstrip("\ufeff")
    if not text.strip():
        fail(path, "the file is empty", "add a header row and at least one data row")
    header = text.splitlines()[0]
    if header.count(";") > header.count(","):
        sep = ";"
    elif "\t" in header and header.count("\t") > header.count(","):
        sep = "\t"
    else:
        sep = ","
    try:
        cells = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, csv.Error) as e:
        problem, fix = _csv_trouble(text, sep, e)
        raise InputFileError(f"{path}: {problem}. Fix: {fix}") from e
    df = _with_header(cells, path)
    if len(df.columns) > 2:  # a row in one cell holding another separator: mixed separators
        first, rest = df.iloc[:, 0].fillna(""), df.iloc[:, 1:-1]
        for other in (s for s in _SEPARATORS if s != sep):
            mixed = rest.isna().all(axis=1) & (first.str.count(other) >= min(2, rest.shape[1]))
            if mixed.any():
                fail(
                    path,
                    f"{_rows_text(df.loc[mixed, '_row'].tolist())}: separated by "
                    f"{_SEPARATORS[other]}, but the header by {_SEPARATORS[sep]} (mixed separators)",
                    f"use one separator throughout the file (replace {_SEPARATORS[other]} with "
                    f"{_SEPARATORS[sep]} on those rows, or save it again from a spreadsheet)",
                )
    return df, sep


def read_xlsx(path: Path, layer: str | None) -> pd.DataFrame:
    """The sheet ``layer`` of a workbook (or its only sheet with data) with a ``_row`` column."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, header=None)
    except Exception as e:  # openpyxl and zipfile raise many types
        fail(path, f"cannot read the workbook ({str(e).splitlines()[0]})", "check it opens in Excel")
    names = list(sheets)
    if layer is not None and layer not in sheets:
        fail(path, f"sheet '{layer}' not found (sheets: {', '.join(names)})", "set `layer:` to one of them")
    filled = [n for n, d in sheets.items() if d.notna().to_numpy().any()]
    if layer is None and len(filled) > 1:
        fail(
            path,
            f"holds several sheets with data ({', '.join(filled)})",
            "name the sheet to read with `layer:` for this input in the config (e.g. "
            f"`layer: {max(filled, key=lambda n: int(sheets[n].notna().to_numpy().sum()))}`)",
        )
    raw = sheets[layer if layer is not None else (filled or names)[0]]
    if raw.empty:
        fail(path, "the sheet is empty", "add a header row and at least one data row")
    return _with_header(raw, path)


def is_empty_geopackage(path: Path) -> bool:
    """True when ``path`` is a GeoPackage (SQLite with GeoPackage tables) that holds no layer."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
            return con.execute("SELECT count(*) FROM gpkg_contents").fetchone()[0] == 0
    except sqlite3.Error:
        return False


def _crs_name(crs: Any) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else str(crs.name)


def _in_finland(gdf: gpd.GeoDataFrame) -> bool:
    """Whether a layer in EPSG:3067 overlaps Finland (an empty layer does)."""
    if gdf.geometry.isna().all() or gdf.geometry.is_empty.all():
        return True
    x0, y0, x1, y1 = gdf.total_bounds
    b = FINLAND_BOUNDS_3067
    return bool(
        np.isfinite([x0, y0, x1, y1]).all() and x1 >= b[0] and x0 <= b[2] and y1 >= b[1] and y0 <= b[3]
    )


def to_3067(gdf: gpd.GeoDataFrame, path: Path, crs: str | None, problems: list[Problem]) -> gpd.GeoDataFrame:
    """Reproject a layer to EPSG:3067; a layer that then lies outside Finland has its CRS named.

    ``crs`` is assumed when the file has none, and replaces the declared CRS (with a warning) when
    only it puts the layer in Finland (a GeoJSON always declares WGS 84, even when it is not).
    """
    from pyproj.exceptions import CRSError, ProjError

    if gdf.crs is None:
        if not crs:
            fail(
                path,
                "the file has no coordinate reference system (CRS)",
                "set one in QGIS (Layer > Set CRS) or add `crs: EPSG:3067` for this input in the config",
            )
        gdf = gdf.set_crs(crs, allow_override=True)
    declared = gdf.crs
    try:
        out = gdf.to_crs(CRS)
        if crs and not _in_finland(out):
            other = gdf.set_crs(crs, allow_override=True).to_crs(CRS)
            if _in_finland(other):
                problems.append(
                    Problem(
                        str(path),
                        "",
                        "crs",
                        f"the file declares {_crs_name(declared)}, but its "
                        f"coordinates lie in Finland only in {crs}; read as {crs} (`crs:` in the config)",
                        "save the file with its correct CRS (QGIS: Layer > Set CRS)",
                        severity="warning",
                    )
                )
                return other
    except (CRSError, ProjError) as e:
        fail(
            path,
            f"cannot reproject from {_crs_name(declared)} to EPSG:3067 ({e})",
            "set the file's CRS in QGIS",
        )
    if not _in_finland(out):
        x0, y0, x1, y1 = gdf.total_bounds
        bounds = f"x {x0:.6g}…{x1:.6g}, y {y0:.6g}…{y1:.6g}"
        fix = "check the CRS the file declares (QGIS: Layer Properties > Information) against its coordinates"
        for code, b in (("EPSG:3067", FINLAND_BOUNDS_3067), ("EPSG:4326", FINLAND_BOUNDS_4326)):
            fits = x1 >= b[0] and x0 <= b[2] and y1 >= b[1] and y0 <= b[3]
            if fits and code != f"EPSG:{declared.to_epsg()}":
                fix = (
                    f"the coordinates look like {code}: set the file's CRS to {code} in QGIS (Layer > "
                    f"Set CRS) and save it again, or add `crs: {code}` for this input in the config"
                )
            elif y1 >= b[0] and y0 <= b[2] and x1 >= b[1] and x0 <= b[3]:
                fix = f"the coordinates look like {code} with x and y swapped: swap them in the file"
        fail(
            path, f"the features lie outside Finland in the file's CRS {_crs_name(declared)} ({bounds})", fix
        )
    return out


def check_geo_layers(path: Path, layer: str | None) -> None:
    """Check a GeoPackage's layers: ``layer`` exists, or one layer only when it is not given."""
    import pyogrio
    from pyogrio.errors import DataSourceError

    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except DataSourceError as e:
        if is_empty_geopackage(path):
            names = []
        else:
            fail(path, f"cannot read the file ({str(e).splitlines()[0]})", "check it opens in QGIS")
    if not names:
        fail(
            path,
            "the GeoPackage holds no layers",
            "save the data into it again (QGIS: Export > Save Features As)",
        )
    if layer is not None and layer not in names:
        fail(path, f"layer '{layer}' not found (layers: {', '.join(names)})", "set `layer:` to one of them")
    if layer is None and len(names) > 1:
        fail(
            path,
            f"holds several layers ({', '.join(names)})",
            "add `layer: NAME` for this input in the config",
        )


def check_options(path: Path, encoding: str | None, crs: str | None) -> None:
    from pyproj import CRS as ProjCRS
    from pyproj.exceptions import CRSError

    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            fail(
                path,
                f"unknown encoding '{encoding}' (`encoding:` in the config)",
                "use utf-8, latin-1, cp1252 or utf-16, or remove `encoding:`",
            )
    if crs:
        try:
            ProjCRS.from_user_input(crs)
        except CRSError:
            fail(
                path,
                f"unknown CRS '{crs}' (`crs:` in the config)",
                "use an EPSG code such as EPSG:3067 (ETRS-TM35FIN) or EPSG:4326 (WGS 84)",
            )

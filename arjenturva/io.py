"""Readers and atomic writers.

Readers accept GeoPackage, GeoJSON, Shapefile, GeoParquet, CSV and XLSX. Tables give points from
``lon``/``lat`` (EPSG:4326) or ``x``/``y`` (EPSG:3067). Everything is reprojected to EPSG:3067.
A file that cannot be read as a whole (encoding, separator, ragged row, unclosed quote, sheet or
layer, CRS) raises :class:`~arjenturva.errors.InputFileError` naming the cause and the fix;
problems of single cells come back as :class:`~arjenturva.errors.Problem` lists.
Writers go through a temporary file and an atomic rename, so an interrupted run never leaves a
half-written file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._io_read import check_geo_layers, check_options, fail, read_csv, read_xlsx, to_3067
from .errors import InputFileError, OutputExistsError, Problem
from .schema import CRS, FINLAND_BOUNDS_3067, FINLAND_BOUNDS_4326

GEO_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".parquet", ".geoparquet", ".fgb", ".zip"}
TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xls"}

LON_NAMES = ("lon", "lng", "long", "longitude")
LAT_NAMES = ("lat", "latitude")
NUMBER_COLUMNS = (
    *("population", "age_0_14", "age_15_64", "age_65_plus", "days_per_week", "capacity"),
    *("max_travel_km", "cost_per_km", "x", "y", "easting", "northing", *LON_NAMES, *LAT_NAMES),
)
"""Columns read as numbers: in a comma-separated file a decimal comma in them is ambiguous."""


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_csv_text(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read a CSV with ``,``, ``;`` or tab separators, UTF-8 with or without BOM, all cells as text.

    Raises
    ------
    InputFileError
        When the file is not UTF-8 (naming the byte offset), has no header, repeats a header
        column, mixes separators, has a row longer than the header or an unclosed quote.
    """
    return read_csv(path, encoding)[0].drop(columns="_row")


def to_number(series: pd.Series) -> pd.Series:
    """Convert text cells to floats, accepting a decimal comma (``"12,5"``) and spaces."""
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    text = series.astype("string").str.strip().str.replace("\u00a0", "", regex=False)
    text = text.str.replace(" ", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def _apply_columns(df: pd.DataFrame, columns: Mapping[str, str] | None, path: Path) -> pd.DataFrame:
    if not columns:
        return df
    rename = {theirs: canonical for canonical, theirs in columns.items() if theirs in df.columns}
    for theirs, canonical in rename.items():
        if canonical != theirs and canonical in df.columns:
            fail(
                path,
                f"`columns:` maps '{theirs}' to '{canonical}', but the file also has a '{canonical}' column",
                "remove the mapping, or rename or delete one of the two columns",
            )
    return df.rename(columns=rename)


def _cell_problems(df: pd.DataFrame, path: Path, sep: str | None) -> list[Problem]:
    """NUL characters in text cells, and decimal commas in number columns of a comma-separated file
    (those cells are blanked)."""
    problems = []
    rows = df["_row"].to_numpy()
    for col in df.columns:
        kind = df[col].dtype
        if col in ("_row", "geometry") or not (
            pd.api.types.is_object_dtype(kind) or pd.api.types.is_string_dtype(kind)
        ):
            continue
        text = df[col].astype("string")
        for i in np.flatnonzero(text.str.contains("\x00", regex=False).fillna(False).to_numpy()):
            problems.append(
                Problem(
                    str(path),
                    f"row {rows[i]}",
                    str(col),
                    f"text holds a NUL character: {text.iloc[i]!r}",
                    "remove it (invisible in most editors, it cuts text short in a GeoPackage)",
                )
            )
        if sep == "," and str(col).lower() in NUMBER_COLUMNS:
            comma = text.str.contains(",", regex=False).fillna(False).to_numpy()
            if comma.any():
                comma &= text.str.fullmatch(r"\s*[+-]?\d+,\d+\s*").fillna(False).to_numpy()
            df.loc[comma, col] = None  # read as blank, so that no check follows from a guess
            for i in np.flatnonzero(comma):
                v = str(text.iloc[i]).strip()
                problems.append(
                    Problem(
                        str(path),
                        f"row {rows[i]}",
                        str(col),
                        f"'{v}' has a decimal comma in a comma-separated file: "
                        f"{v.replace(',', '.')} or {v.replace(',', '')}?",
                        "write numbers with a decimal point (1.5) in a comma-separated file, or "
                        "separate the columns with ';'",
                    )
                )
    return problems


def _find_col(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): c for c in df.columns}
    for n in names:
        if n in lower:
            return str(lower[n])
    return None


def points_from_table(
    df: pd.DataFrame, *, path: Path, problems: list[Problem], required: bool
) -> gpd.GeoDataFrame:
    """Build point geometries from lon/lat (EPSG:4326) or x/y (EPSG:3067) columns.

    Rows with missing, swapped or out-of-Finland coordinates get an empty geometry and a
    :class:`Problem` each.
    """
    lon, lat = _find_col(df, LON_NAMES), _find_col(df, LAT_NAMES)
    xcol, ycol = _find_col(df, ("x", "easting", "e")), _find_col(df, ("y", "northing", "n"))
    if lon and lat:
        cx, cy, crs, bounds = lon, lat, "EPSG:4326", FINLAND_BOUNDS_4326
    elif xcol and ycol:
        cx, cy, crs, bounds = xcol, ycol, CRS, FINLAND_BOUNDS_3067
    else:
        if required:
            problems.append(
                Problem(
                    str(path),
                    "",
                    "lon/lat or x/y",
                    "no coordinate columns",
                    "add `lon` and `lat` (WGS84 degrees) or `x` and `y` (EPSG:3067 metres) columns",
                )
            )
        geom = gpd.GeoSeries([None] * len(df), index=df.index, crs=CRS)
        return gpd.GeoDataFrame(df, geometry=geom, crs=CRS)
    x = to_number(df[cx]).to_numpy()
    y = to_number(df[cy]).to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    inside = ok & (x >= bounds[0]) & (x <= bounds[2]) & (y >= bounds[1]) & (y <= bounds[3])
    swapped = ok & ~inside & (y >= bounds[0]) & (y <= bounds[2]) & (x >= bounds[1]) & (x <= bounds[3])
    rows = df["_row"].to_numpy() if "_row" in df.columns else np.arange(len(df)) + 2
    for i in np.flatnonzero(~ok):
        has_any = str(df[cx].iloc[i]).strip() not in ("", "nan", "None") or str(
            df[cy].iloc[i]
        ).strip() not in ("", "nan", "None")
        if required or has_any:
            problems.append(
                Problem(
                    str(path),
                    f"row {rows[i]}",
                    f"{cx}/{cy}",
                    f"missing or non-numeric coordinates ({df[cx].iloc[i]!r}, {df[cy].iloc[i]!r})",
                    "fill in numeric coordinates",
                )
            )
    for i in np.flatnonzero(swapped):
        problems.append(
            Problem(
                str(path),
                f"row {rows[i]}",
                f"{cx}/{cy}",
                f"coordinates look swapped ({cx}={x[i]:g}, {cy}={y[i]:g})",
                f"exchange the `{cx}` and `{cy}` values",
            )
        )
    for i in np.flatnonzero(ok & ~inside & ~swapped):
        problems.append(
            Problem(
                str(path),
                f"row {rows[i]}",
                f"{cx}/{cy}",
                f"coordinates ({x[i]:g}, {y[i]:g}) are outside Finland for {crs}",
                "check the values; use lon/lat for WGS84 degrees or x/y for EPSG:3067 metres",
            )
        )
    geom = np.full(len(df), None, dtype=object)
    geom[inside] = shapely.points(x[inside], y[inside])
    gdf = gpd.GeoDataFrame(df.drop(columns=[cx, cy]), geometry=list(geom), crs=crs)
    return gdf.to_crs(CRS)


def read_geo(
    path: Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    problems: list[Problem] | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector file (GeoPackage, GeoJSON, Shapefile, GeoParquet) and reproject to EPSG:3067.

    Raises
    ------
    InputFileError
        When the file cannot be read, the layer does not exist (the existing ones are named), it
        has no CRS, or it lies outside Finland in its CRS (which is named).
    """
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(path)
        else:
            kwargs: dict[str, Any] = {}
            if layer:
                kwargs["layer"] = layer
            if encoding:
                kwargs["encoding"] = encoding
            if suffix == ".gpkg":
                check_geo_layers(path, layer)
            gdf = gpd.read_file(f"zip://{path}" if suffix == ".zip" else path, **kwargs)
    except InputFileError:
        raise
    except Exception as e:  # GDAL/pyogrio raise many types
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        if layer and "layer" in text.lower():
            msg = f"{path}: layer '{layer}' not found ({text}). Fix: check `layer:` in the config"
        else:
            msg = f"{path}: cannot read the file ({text}). Fix: check it opens in QGIS"
        raise InputFileError(msg) from e
    gdf.columns = [str(c).strip() for c in gdf.columns]
    return to_3067(gdf, path, crs, [] if problems is None else problems)


def read_table(path: Path, *, encoding: str | None = None, layer: str | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX table with every cell as text (``layer`` names the sheet)."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        return read_xlsx(path, layer).drop(columns="_row")
    return read_csv_text(path, encoding=encoding)


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    geometry: str = "optional",
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read any supported input file into a GeoDataFrame in EPSG:3067 with canonical columns.

    Parameters
    ----------
    path
        The file.
    layer
        Layer (GeoPackage) or sheet (XLSX) name.
    columns
        Mapping ``{canonical: their_column}``.
    crs
        CRS to assume when a geodata file has none (or declares one that puts it outside Finland).
    encoding
        Text encoding for CSV or Shapefile DBF.
    geometry
        ``"required"`` when tables must carry coordinates, ``"optional"`` otherwise.

    Returns
    -------
    (GeoDataFrame, list of Problem)
        The layer with a ``_row`` column (spreadsheet row or 1-based feature number), and the
        problems of single rows and cells found while reading (coordinates, NUL characters,
        decimal commas in a comma-separated file).

    Raises
    ------
    InputFileError
        When the file is missing, a folder, empty or unreadable as a whole.
    """
    p = Path(path)
    problems: list[Problem] = []
    if not p.exists():
        fail(p, "file not found", "check `path:` in the config (relative to the config file)")
    if p.is_dir():
        fail(p, "is a folder, not a file", "point `path:` at the file itself (e.g. population.gpkg)")
    if p.stat().st_size == 0:
        fail(p, "the file is empty", "add a header row and at least one data row")
    check_options(p, encoding, crs)
    suffix = p.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        df, sep = (read_xlsx(p, layer), None) if suffix in (".xlsx", ".xls") else read_csv(p, encoding)
        df = _apply_columns(df, columns, p)
        problems += _cell_problems(df, p, sep)
        gdf = points_from_table(df, path=p, problems=problems, required=geometry == "required")
    elif suffix in GEO_SUFFIXES:
        gdf = read_geo(p, layer=layer, crs=crs, encoding=encoding, problems=problems)
        gdf["_row"] = np.arange(len(gdf)) + 1
        gdf = _apply_columns(gdf, columns, p)
        problems += _cell_problems(gdf, p, None)
    else:
        fail(
            p,
            f"unsupported file type '{suffix}'",
            "use GeoPackage, GeoJSON, Shapefile, GeoParquet, CSV or XLSX",
        )
    if len(gdf) == 0:
        fail(p, "the file has no rows", "add at least one feature")
    return gdf, problems


def file_hash(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file (first 16 hex digits), for cache keys and run.json."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Writing (atomic)
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_path(target: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def build_time() -> datetime:
    """Now, in UTC, or ``SOURCE_DATE_EPOCH`` when it is set (reproducible builds), so that two
    runs of the same inputs write the same dates."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(UTC)


def build_date() -> date:
    """The date of :func:`build_time`."""
    return build_time().date()


def write_text(text: str, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(obj: Any, path: str | Path) -> Path:
    return write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default) + "\n", path)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)


def _clean_for_table(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(df.drop(columns=[c for c in df.columns if c == "geometry"], errors="ignore"))
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].replace([np.inf, -np.inf], np.nan)
    return out


CsvDialect = Literal["standard", "excel-fi"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP's advice)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _safe_text(df: pd.DataFrame) -> pd.DataFrame:
    """Every text cell neutralised against formula injection."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(_neutralise)
    return out


def write_csv(df: pd.DataFrame, path: str | Path, *, dialect: CsvDialect = "standard") -> Path:
    """Write a CSV, atomically; unreachable ``inf`` as empty; text that would start a formula in a
    spreadsheet is prefixed with ``'``.

    ``standard``: UTF-8, comma, dot decimals. ``excel-fi``: UTF-8 with BOM, semicolon, decimal
    comma, as Finnish Excel opens it with a double click.
    """
    frame = _safe_text(_clean_for_table(df))
    with atomic_path(path) as tmp:
        if dialect == "excel-fi":
            frame.to_csv(tmp, index=False, encoding="utf-8-sig", sep=";", decimal=",")
        else:
            frame.to_csv(tmp, index=False, encoding="utf-8")
    return Path(path)


def write_xlsx(
    sheets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    formats: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Write one workbook with a sheet per frame (names cut to Excel's 31 characters), each with a
    bold frozen header, filters, column widths from the content and, per sheet, the number
    formats of ``formats[sheet][column]``. Written with openpyxl (pandas' own engine: no extra
    dependency), atomically; formula-like text is neutralised as in :func:`write_csv`. Its
    timestamps are :func:`build_time` (``SOURCE_DATE_EPOCH`` when set)."""

    stamp = build_time()
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            _fill_workbook(xl, sheets, formats)
            xl.book.properties.created = xl.book.properties.modified = stamp.replace(tzinfo=None)
        _restamp_zip(tmp, stamp)
    return Path(path)


def _restamp_zip(path: Path, stamp: datetime) -> None:
    """Give every member of a zip file (an XLSX) the same timestamp, so equal content is equal bytes."""
    import zipfile

    with zipfile.ZipFile(path) as src:
        members = [(info, src.read(info.filename)) for info in src.infolist()]
    when = stamp.timetuple()[:6] if stamp.year >= 1980 else (1980, 1, 1, 0, 0, 0)
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info, data in members:
            if info.filename == "docProps/core.xml":  # openpyxl stamps 'modified' at save time
                pattern = rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)"
                data = re.sub(pattern, rb"\g<1>" + iso + rb"\g<2>", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=when)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)


def _fill_workbook(
    xl: pd.ExcelWriter, sheets: Mapping[str, pd.DataFrame], formats: Mapping[str, Mapping[str, str]] | None
) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for name, df in sheets.items():
        frame = _safe_text(_clean_for_table(df))
        frame.to_excel(xl, sheet_name=name[:31], index=False)
        ws = xl.sheets[name[:31]]
        ws.freeze_panes = "A2"
        if len(frame.columns):
            ws.auto_filter.ref = ws.dimensions
        col_formats = (formats or {}).get(name, {})
        for j, col in enumerate(frame.columns, start=1):
            letter = get_column_letter(j)
            ws[f"{letter}1"].font = Font(bold=True)
            texts = frame[col].astype(str).head(500).str.len()
            width = max([len(str(col)), *texts.tolist()]) if len(frame) else len(str(col))
            ws.column_dimensions[letter].width = min(60, max(8, width + 2))
            fmt = col_formats.get(str(col))
            if fmt and fmt != "General":
                for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = fmt


def _gpkg_ready(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy fit for a GeoPackage: ``inf`` as NULL, list cells joined with ``;``, and the
    columns of an empty frame as text (GDAL cannot infer their types)."""
    out = gdf.copy()
    for c in out.columns:
        if c != out.geometry.name and pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].replace([np.inf, -np.inf], np.nan)
        elif c != out.geometry.name and out[c].dtype == object:
            out[c] = out[c].map(lambda v: ";".join(map(str, v)) if isinstance(v, list | tuple) else v)
    if out.empty:
        out = out.astype({c: "object" for c in out.columns if c != out.geometry.name})
    return out


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: str | Path, *, add: bool = False) -> Path:
    """Write several layers into one GeoPackage, atomically (all layers or none).

    With ``add=True`` the layers are added to (or replace their namesakes in) an existing file,
    whose other layers are kept; the file is still replaced in one rename.
    """
    import shutil

    import pyogrio

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():  # GeoPackage's last_change follows SOURCE_DATE_EPOCH
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": build_time().strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    with atomic_path(path) as tmp:
        if add and Path(path).exists():
            shutil.copyfile(path, tmp)
        for name, gdf in layers.items():
            _gpkg_ready(gdf).to_file(tmp, layer=name, driver="GPKG", mode="w")
    return Path(path)


def ensure_writable(paths: list[Path], *, force: bool) -> None:
    """Refuse to overwrite existing outputs unless ``force``.

    Raises
    ------
    OutputExistsError
        Naming the files that exist.
    """
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing[:5])
        more = f" and {len(existing) - 5} more" if len(existing) > 5 else ""
        msg = f"output already exists: {names}{more}. Fix: choose another --out folder or pass --force"
        raise OutputExistsError(msg)

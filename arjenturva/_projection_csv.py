"""Reading a population projection CSV into counts per municipality, age group and year (for
:mod:`arjenturva.projection`).

Two layouts: Statistics Finland's PxWeb CSV (a quoted title line, a blank line, then the header:
the row variables such as "Alue", "Sukupuoli", "Ikä", "Tiedot" and one column per year, or "Vuosi"
as a row variable and one population column; comma, semicolon or tab separated; UTF-8 or
Windows-1252), and a long CSV with ``municipality``, ``age_group``, ``year``, ``population``.
Areas are matched by code (``KU005``, ``005 Alajärvi``, ``5``) or by name; the whole country and
regions are skipped. The total of both sexes is used when the file has it, else the sexes are
summed. Single years and bands of age are summed into 0–14, 15–64 and 65+, and the ages of every
municipality, year and sex must cover 0 and up exactly once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from .errors import InputFileError, Problem, ValidationError

AGE_GROUPS: tuple[tuple[str, int, int | None], ...] = (
    ("age_0_14", 0, 14),
    ("age_15_64", 15, 64),
    ("age_65_plus", 65, None),
)
"""The age groups of the population cells, with their first and last age (None: open)."""

PXWEB_TABLE = "14wx"
"""Statistics Finland's table: Väestöennuste 2024, population by age and sex by area, 2024-2045."""

_AREA = frozenset({"alue", "kunta", "area", "municipality", "område", "kommun"})
_YEAR = frozenset({"vuosi", "year", "år"})
_SEX = frozenset({"sukupuoli", "sex", "gender", "kön"})
_AGE = frozenset({"ikä", "age", "ålder", "age_group", "ikäryhmä"})
_INFO = frozenset({"tiedot", "information", "uppgifter"})
_VALUE_PREFIXES = ("väestö", "population", "befolkning", "value")
_TOTAL_SEX = frozenset(
    {"yhteensä", "total", "totalt", "both sexes", "sukupuolet yhteensä", "båda könen", "sss", "s"}
)
_OTHER_SEX = frozenset({"miehet", "naiset", "males", "females", "men", "women", "män", "kvinnor", "1", "2"})
_TOTAL_AGE = frozenset(
    {"yhteensä", "total", "totalt", "sss", "ikäluokat yhteensä", "age groups, total", "all ages"}
)
_NATION = frozenset({"sss", "koko maa", "whole country", "hela landet"})
_MISSING = frozenset({"", ".", "..", "...", "-", "…"})
_AREA_CODE = re.compile(r"(?:KU)?(\d{3})(?:\s+(.*))?", re.IGNORECASE)
_OTHER_AREA = re.compile(r"[A-Z]{2,3}\d+(?:\s.*)?")  # MK01 Uusimaa, SK011 ..., HV..: not municipalities
_AGE_BAND = re.compile(r"(\d{1,3})\s*(?:(-|–)\s*(\d{1,3})?|(\+))?\s*(?:-?vuotiaat|vuotta|v\.?|years?|år)?")
_YEAR_COLUMN = re.compile(r"(\d{4})(?:\s+(.*))?")

_FIX_DOWNLOAD = (
    f"download table {PXWEB_TABLE} from pxdata.stat.fi (StatFin > Väestöennuste) as CSV with Alue, "
    "Vuosi, Sukupuoli and Ikä in the table (see the README, Scenarios), or write a long CSV with "
    "municipality, age_group, year, population"
)


def read_counts(
    path: Path, *, municipalities: pd.DataFrame, encoding: str | None
) -> tuple[pd.DataFrame, Literal["pxweb", "long"]]:
    """Counts per municipality, age group and year (with the file's ``row``) and the layout; see
    :func:`arjenturva.projection.read_projection` for the errors."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        msg = f"{path}: cannot read the projection file ({e.strerror}). Fix: check `population.factors`"
        raise InputFileError(msg) from e
    text = _decode(path, raw, encoding)
    found = _header(text)
    if found is None:
        first = next((ln for ln in text.splitlines() if ln.strip()), "")[:80]
        what = (
            f"unknown format: no area column (Alue / municipality) in a header line (first line: {first!r})"
        )
        raise ValidationError([Problem(str(path), "", "", what, _FIX_DOWNLOAD)])
    sep, at, names = found
    cols = _Columns.of(names)
    lacking = cols.missing()
    if lacking is not None:
        what = f"unknown format: no {lacking} among the columns {', '.join(names)}"
        raise ValidationError([Problem(str(path), f"row {at + 1}", "", what, _FIX_DOWNLOAD)])
    codes, names_ = municipalities["code"].astype(str), municipalities["name"].astype(str)
    by_name = {_norm(n): c for c, n in zip(codes, names_, strict=True)}
    problems: list[Problem] = []
    records = _records(path, text, sep, at, cols, by_name, problems)
    counts = _aggregate(path, records, problems)
    if problems:
        raise ValidationError(problems)
    long = {_norm(n) for n in names} == {"municipality", "age_group", "year", "population"}
    return counts, "long" if long else "pxweb"


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return raw.decode(encoding).lstrip("\ufeff")
        except (LookupError, UnicodeDecodeError) as e:
            msg = (
                f"{path}: cannot read the file as {encoding} ({e}). Fix: correct `encoding`, or leave it out"
            )
            raise InputFileError(msg) from e
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:  # PxWeb's "ANSI" downloads
        return raw.decode("cp1252")
    except UnicodeDecodeError as e:
        msg = f"{path}: not UTF-8 or Windows-1252 text. Fix: save it as UTF-8, or set `encoding`"
        raise InputFileError(msg) from e


def _norm(text: str) -> str:
    return " ".join(text.strip().casefold().split())


def _header(text: str) -> tuple[str, int, list[str]] | None:
    """The separator, line index and names of the first line naming an area column."""
    for i, line in enumerate(text.splitlines()):
        for sep in (",", ";", "\t"):
            fields = next(csv.reader([line], delimiter=sep), [])
            if len(fields) >= 2 and any(_norm(f) in _AREA for f in fields):
                return sep, i, [f.strip() for f in fields]
    return None


def _age_band(label: str) -> tuple[int, int | None] | Literal["total"] | None:
    """``(first, last)`` age of a label (``last`` None: open-ended), ``"total"``, or None."""
    norm = _norm(label)
    if norm in _TOTAL_AGE:
        return "total"
    for name, lo, hi in AGE_GROUPS:
        if norm == name:
            return lo, hi
    m = _AGE_BAND.fullmatch(norm)
    if m is None:
        return None
    lo = int(m.group(1))
    if m.group(4) or (m.group(2) and m.group(3) is None):
        return lo, None
    return (lo, int(m.group(3))) if m.group(3) is not None else (lo, lo)


def _group_of(band: tuple[int, int | None]) -> str | None:
    lo, hi = band
    for name, g_lo, g_hi in AGE_GROUPS:
        if lo >= g_lo and (g_hi is None or (hi is not None and hi <= g_hi)):
            return name
    return None


def _number(text: str) -> float | None:
    """A count, NaN for PxWeb's missing-value marks, None when it is not a number."""
    t = text.strip().replace("\u00a0", "").replace(" ", "")
    if t in _MISSING:
        return float("nan")
    try:
        return float(t.replace(",", "."))
    except ValueError:
        return None


def _area_code(label: str, by_name: Mapping[str, str]) -> str | None:
    """The municipality code of an ``Alue`` label (``KU005``, ``005 Alajärvi``, ``Alajärvi``)."""
    text = label.strip()
    if text.isdigit() and len(text) <= 3:
        return text.zfill(3)
    m = _AREA_CODE.fullmatch(text)
    if m:
        return m.group(1)
    if _norm(text) in _NATION or _OTHER_AREA.fullmatch(text):
        return None
    return by_name.get(_norm(text))


@dataclass
class _Columns:
    """Which column of the header holds what (indices), and the year of each year column."""

    names: list[str]
    area: int | None = None
    year: int | None = None
    sex: int | None = None
    age: int | None = None
    info: int | None = None
    value: int | None = None
    years: dict[int, tuple[int, str]] = field(default_factory=dict)
    """Column index -> (year, the rest of its name), for tables with one column per year."""

    @classmethod
    def of(cls, names: list[str]) -> _Columns:
        cols = cls(names)
        for j, name in enumerate(names):
            n = _norm(name)
            role = next(
                (
                    r
                    for r, known in (
                        ("area", _AREA),
                        ("year", _YEAR),
                        ("sex", _SEX),
                        ("age", _AGE),
                        ("info", _INFO),
                    )
                    if n in known and getattr(cols, r) is None
                ),
                None,
            )
            m = _YEAR_COLUMN.fullmatch(name.strip())
            if role is not None:
                setattr(cols, role, j)
            elif m:
                cols.years[j] = (int(m.group(1)), (m.group(2) or "").strip())
            elif n.startswith(_VALUE_PREFIXES) and cols.value is None:
                cols.value = j
        if cols.year is not None and cols.value is None:
            used = {cols.area, cols.year, cols.sex, cols.age, cols.info}
            rest = [j for j in range(len(names)) if j not in used]
            cols.value = rest[0] if len(rest) == 1 else None
        return cols

    def missing(self) -> str | None:
        """What a readable table lacks, or None."""
        if self.age is None:
            return "age column (Ikä / age_group)"
        if self.year is None and not self.years:
            return "year column (Vuosi / year) and no column per year (2024, 2040, ...)"
        if self.year is not None and self.value is None:
            return "population column (population, or one column beside Alue, Vuosi, Sukupuoli, Ikä)"
        return None


def _records(
    p: Path, text: str, sep: str, at: int, cols: _Columns, by_name: Mapping[str, str], problems: list[Problem]
) -> pd.DataFrame:
    """One row per figure: line, municipality code, sex, age band, year and count."""
    reader = csv.reader(io.StringIO("\n".join(text.splitlines()[at + 1 :])), delimiter=sep)
    names, area, age = cols.names, cols.area, cols.age
    codes = set(by_name.values())
    if area is None or age is None:  # cols.missing() rules this out
        return pd.DataFrame()
    rows: list[tuple[int, str, str, tuple[int, int | None], int, float]] = []
    bad_age: dict[str, int] = {}
    bad_sex: dict[str, int] = {}
    infos: set[str] = set()
    for k, fields in enumerate(reader):
        line = at + 2 + k
        if sum(bool(f.strip()) for f in fields) < 2:
            continue  # blank lines and notes
        if len(fields) > len(names):
            problems.append(
                Problem(
                    str(p),
                    f"row {line}",
                    "",
                    f"{len(fields)} values but {len(names)} columns",
                    f"quote values that hold the separator {sep!r}",
                )
            )
            continue
        fields = fields + [""] * (len(names) - len(fields))
        code = _area_code(fields[area], by_name)
        if code is None or code not in codes:
            continue
        band = _age_band(fields[age])
        if band is None:
            bad_age.setdefault(fields[age].strip(), line)
            continue
        if band == "total":
            continue
        sex = "total" if cols.sex is None else _norm(fields[cols.sex])
        if cols.info is not None:
            infos.add(fields[cols.info].strip())
        cells: list[tuple[int, str, int]] = []
        if cols.year is not None and cols.value is not None:
            y = fields[cols.year].strip()
            if not y.isdigit():
                problems.append(
                    Problem(
                        str(p),
                        f"row {line}",
                        names[cols.year],
                        f"year {y!r} is not a year",
                        "write the year as four digits",
                    )
                )
                continue
            cells.append((int(y), sex, cols.value))
        else:
            for j, (y_, suffix) in cols.years.items():
                s = _norm(suffix) if suffix and _norm(suffix) in _TOTAL_SEX | _OTHER_SEX else sex
                cells.append((y_, s, j))
        for year, s, j in cells:
            if s not in _TOTAL_SEX and s not in _OTHER_SEX and s != "total":
                bad_sex.setdefault(s, line)
                continue
            v = _number(fields[j])
            if v is None:
                problems.append(
                    Problem(
                        str(p),
                        f"row {line}",
                        names[j],
                        f"{fields[j].strip()!r} is not a number",
                        "write the count as a number (PxWeb marks a missing figure '..')",
                    )
                )
                continue
            rows.append((line, code, "total" if s in _TOTAL_SEX else s, band, year, v))
    for label, line in bad_age.items():
        problems.append(
            Problem(
                str(p),
                f"row {line}",
                names[age],
                f"unknown age {label!r}",
                "use single years (0, 1, ..., '100 -'), bands such as '65 -', or "
                "age_0_14 / age_15_64 / age_65_plus",
            )
        )
    for label, line in bad_sex.items():
        problems.append(
            Problem(
                str(p),
                f"row {line}",
                names[cols.sex] if cols.sex is not None else "",
                f"unknown sex {label!r}",
                "use Yhteensä (total), Miehet or Naiset",
            )
        )
    if len(infos) > 1 and cols.info is not None:
        problems.append(
            Problem(
                str(p),
                "",
                names[cols.info],
                f"several measures ({', '.join(sorted(infos))})",
                "select only the population (Tiedot: Väestö 31.12.) in PxWeb",
            )
        )
    out = pd.DataFrame(rows, columns=["row", "municipality", "sex", "band", "year", "population"])
    if len(out) and (out["sex"] == "total").any():
        out = out[out["sex"] == "total"]  # the total of both sexes when the file has it
    return out.reset_index(drop=True)


def _band_order(band: tuple[int, int | None]) -> tuple[int, int]:
    return band[0], 10_000 if band[1] is None else band[1]


def _holes(bands: list[tuple[int, int | None]]) -> str:
    """What keeps bands of ages from covering 0 and up exactly once ('' when nothing)."""
    age, holes = 0, []
    for lo, hi in sorted(bands, key=_band_order):
        if lo != age:
            holes.append(f"ages {age}–{lo - 1} missing" if lo > age else f"age {lo} given twice")
        age = max(age, (hi + 1) if hi is not None else 10_000)
    if age != 10_000:
        holes.append(f"no open-ended last age (such as '100 -') after {age - 1}")
    return ", ".join(holes)


def _aggregate(p: Path, records: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """Sum the figures into the three age groups; the ages must cover 0 and up exactly once."""
    empty = pd.DataFrame(columns=["municipality", "age_group", "year", "population", "row"])
    if records.empty:
        return empty
    gaps = [
        f"the band {lo}–{'' if hi is None else hi} spans two of 0–14, 15–64, 65+"
        for lo, hi in sorted(set(records["band"]), key=_band_order)
        if _group_of((lo, hi)) is None
    ]
    for (code, year, sex), grp in records.groupby(["municipality", "year", "sex"], sort=True):
        holes = _holes(list(grp["band"]))
        if holes:
            gaps.append(f"{code} in {year}{'' if sex == 'total' else f' ({sex})'}: {holes}")
            if len(gaps) >= 5:
                break
    if gaps:
        problems.append(
            Problem(
                str(p),
                "",
                "",
                "the ages do not add up to the groups 0–14, 15–64 and 65+: " + "; ".join(gaps),
                "select every age (Ikä) in PxWeb, single years",
            )
        )
        return empty
    df = records.assign(age_group=[str(_group_of(b)) for b in records["band"]])  # all in a group: checked
    nan = df["population"].isna()
    g = df.groupby(["municipality", "age_group", "year"], sort=True)
    out = g.agg(population=("population", "sum"), row=("row", "min")).reset_index()
    missing = df[nan].groupby(["municipality", "age_group", "year"])["row"].min()
    out = out.set_index(["municipality", "age_group", "year"])
    out.loc[missing.index, "population"] = np.nan
    out.loc[missing.index, "row"] = missing
    return out.reset_index()

"""The study area: municipalities chosen by code or name, region (maakunta) or wellbeing services
county (hyvinvointialue), through the municipality key.

:func:`read_municipality_key` reads the key into one row per municipality; :func:`select_study_area`
turns what the user asked for into municipality codes, and names every unknown code or name at
once, with the closest known ones.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from ..errors import InputDataError, InputFileError
from ..schema import normalise_code
from ._files import read_table
from .sources import CheckedSource

__all__ = ["AreaRequest", "read_municipality_key", "select_study_area"]

_COUNTY_SUFFIXES = (" hyvinvointialue", " välfärdsområde", " wellbeing services county")


@dataclass(frozen=True)
class AreaRequest:
    """What the user asked to study; the union of all three is studied.

    Attributes
    ----------
    municipalities
        Municipality codes (``615``, ``5`` or ``005``) or names (fi, sv or en).
    regions
        Regions (maakunta) by code (``19``) or name (``Lappi``, ``Lappland``, ``Lapland``).
    wellbeing_counties
        Wellbeing services counties by code (``21``) or name (``Lapin hyvinvointialue``, or
        without the generic word: ``Lapin``, ``Lapland``).
    """

    municipalities: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    wellbeing_counties: tuple[str, ...] = ()

    @classmethod
    def of(cls, municipalities: Iterable[str] = (), regions: Iterable[str] = (),
           wellbeing_counties: Iterable[str] = ()) -> AreaRequest:
        """A request from lists whose items may hold several comma-separated values."""

        def split(values: Iterable[str]) -> tuple[str, ...]:
            return tuple(v.strip() for item in values for v in str(item).split(",") if v.strip())

        return cls(split(municipalities), split(regions), split(wellbeing_counties))

    def is_empty(self) -> bool:
        return not (self.municipalities or self.regions or self.wellbeing_counties)

    def as_dict(self) -> dict[str, list[str]]:
        """For ``build.json``."""
        return {"municipalities": list(self.municipalities), "regions": list(self.regions),
                "wellbeing_counties": list(self.wellbeing_counties)}


def read_municipality_key(src: CheckedSource) -> pd.DataFrame:
    """One row per municipality: ``code`` (3 digits), ``name``, ``region_code``, ``region``,
    ``county_code``, ``county`` and, when the key has them, the Swedish and English names
    (``region_sv``, ``region_en``, ``county_sv``, ``county_en``, ``name_sv``, ``name_en``)."""
    key = read_table(src, dtype=str).fillna("")
    out = pd.DataFrame({
        "code": key[src.col("kunta")].map(normalise_code),
        "name": key[src.col("municipality_name_fi")].str.strip(),
        "region_code": key[src.col("maakunta_code")].map(normalise_code).str.lstrip("0"),
        "region": key[src.col("maakunta_name_fi")].str.strip(),
        "county_code": key[src.col("hyvinvointialue_code")].map(normalise_code).str.lstrip("0"),
        "county": key[src.col("hyvinvointialue_name_fi")].str.strip(),
    })
    for col, theirs in (("name_sv", "municipality_name_sv"), ("name_en", "municipality_name_en"),
                        ("region_sv", "maakunta_name_sv"), ("region_en", "maakunta_name_en"),
                        ("county_sv", "hyvinvointialue_name_sv"), ("county_en", "hyvinvointialue_name_en")):
        out[col] = key[theirs].str.strip() if theirs in key.columns else ""
    bad = out.loc[~out["code"].str.fullmatch(r"\d{3}"), "code"]
    if len(bad):
        msg = (f"{src.path}: {len(bad)} municipality code(s) are not numbers ({', '.join(bad.head(5))}). "
               f"Fix: give the original municipality key ({src.spec.source})")
        raise InputFileError(msg)
    dup = out.loc[out["code"].duplicated(), "code"]
    if len(dup):
        msg = (f"{src.path}: municipality code(s) {', '.join(dup.head(5))} appear twice. "
               "Fix: give the key of one year, one row per municipality")
        raise InputFileError(msg)
    return out.reset_index(drop=True)


def _fold(text: str) -> str:
    return " ".join(str(text).casefold().split())


def _lookup(names: dict[str, set[str]], asked: str) -> set[str] | None:
    return names.get(_fold(asked))


def _index(key: pd.DataFrame, code_col: str, name_cols: Sequence[str], *, suffixes: Sequence[str] = ()
           ) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Folded code or name -> municipality codes, and the folded name -> the name shown."""
    index: dict[str, set[str]] = {}
    shown: dict[str, str] = {}
    for row in key.itertuples(index=False):
        code = str(getattr(row, code_col))
        words = {code, code.lstrip("0") or "0", code.zfill(3)}
        for col in name_cols:
            name = str(getattr(row, col))
            if not name:
                continue
            words.add(name)
            shown.setdefault(_fold(name), name)
            for suffix in suffixes:
                if _fold(name).endswith(suffix):
                    words.add(name[: -len(suffix)])
        for w in words:
            index.setdefault(_fold(w), set()).add(str(row.code))
    return index, shown


def select_study_area(key: pd.DataFrame, request: AreaRequest) -> list[str]:
    """The municipality codes of the request: the given municipalities first (in the order
    given), then each region's and county's municipalities by code; each code once.

    Raises
    ------
    InputDataError
        Naming every unknown code or name at once, each with the closest known ones (or the
        whole list when it is short).
    """
    if request.is_empty():
        msg = ("no area given. Fix: give --municipalities (codes or names, e.g. 615,320), --region "
               "(e.g. Lappi or 19) or --wellbeing-county (e.g. 'Lapin hyvinvointialue')")
        raise InputDataError(msg)
    kinds = (
        ("municipality", "--municipalities", request.municipalities,
         _index(key, "code", ["name", "name_sv", "name_en"])),
        ("region", "--region", request.regions,
         _index(key, "region_code", ["region", "region_sv", "region_en"])),
        ("wellbeing services county", "--wellbeing-county", request.wellbeing_counties,
         _index(key, "county_code", ["county", "county_sv", "county_en"], suffixes=_COUNTY_SUFFIXES)),
    )
    codes: list[str] = []
    errors: list[str] = []
    for kind, option, asked, (index, shown) in kinds:
        for a in asked:
            hit = _lookup(index, a)
            if hit is None:
                errors.append(_unknown(kind, option, a, shown))
                continue
            codes.extend(sorted(hit) if kind != "municipality" else sorted(hit)[:1])
    if errors:
        raise InputDataError("\n".join(errors))
    return list(dict.fromkeys(codes))


def _unknown(kind: str, option: str, asked: str, shown: dict[str, str]) -> str:
    close = difflib.get_close_matches(_fold(asked), list(shown), n=3, cutoff=0.6)
    if close:
        hint = "did you mean " + " or ".join(f"'{shown[c]}'" for c in close) + "?"
    elif len(shown) <= 30:
        hint = "known: " + ", ".join(sorted(set(shown.values())))
    else:
        hint = "give a 3-digit code (e.g. 615) or a name as Statistics Finland writes it"
    return f"unknown {kind} '{asked}' ({option}; not in the municipality key). Fix: {hint}"

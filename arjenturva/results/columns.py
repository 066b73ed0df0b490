"""The building blocks of the results contract: file names, columns and tables.

:mod:`.tables` and :mod:`.plan_tables` declare every table with these; :mod:`.store` writes and
reads them. File names built from data go through :func:`safe_name`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

from ..errors import InputFileError

RESULTS_FORMAT_VERSION: Final = 3
"""Version of the folder layout and table schemas below; kept in ``run.json`` as ``results_format``.
Version 1 is every folder written before the contract existed (its run.json has no such key);
version 3 added the proposals' demand group, reason, distance and site-place columns."""

RUN_FILE: Final = "run.json"
GPKG_FILE: Final = "results.gpkg"
SUMMARY_XLSX: Final = "summary.xlsx"
MAPS_DIR: Final = "maps"
WEB_MAP_FILE: Final = "map.html"
REPORT_FILE: Final = "report.html"
BATCH_FILE: Final = "batch.json"  # a batch folder (`arjenturva batch`): this, runs/<run>/, batch_summary.*
RUNS_DIR: Final = "runs"

DType = Literal["str", "float", "int", "bool"]

UNIT_DECIMALS: Final[dict[str, int]] = {
    "m": 0,
    "s": 0,
    "km": 2,
    "min": 1,
    "share 0–1": 4,
    "people": 1,
    "clients/week": 1,
    "capacity/person": 6,
    "days": 1,
    "services": 0,
    "agreements": 0,
    "cells": 0,
}
"""Sensible precision of figures in CSV and XLSX files, by unit (people are fractional where
coverage is partial; one decimal keeps the sums honest)."""


class ResultsError(InputFileError):
    """A results folder, or a table in it, breaks the results contract."""


@dataclass(frozen=True)
class Column:
    """One column: its name, dtype, unit (empty for none) and meaning."""

    name: str
    dtype: DType
    unit: str
    meaning: str
    optional: bool = False
    """True when the column is written only when its data exists (e.g. age groups)."""

    @property
    def decimals(self) -> int | None:
        """Decimals kept in CSV and XLSX files (the GeoPackage keeps full precision)."""
        return UNIT_DECIMALS.get(self.unit) if self.dtype == "float" else None

    @property
    def excel_format(self) -> str:
        """The Excel number format of the column ("General" for text)."""
        if self.dtype == "int":
            return "#,##0"
        if self.dtype != "float":
            return "General"
        if self.unit == "share 0–1":
            return "0.0%"
        d = self.decimals
        return "#,##0" if not d else "#,##0." + "0" * d


@dataclass(frozen=True)
class Table:
    """A table of the results folder: a CSV file, a GeoPackage layer, a workbook sheet, or several.

    ``per_service`` columns repeat for every service, named ``<service>_<name>``; they follow
    the fixed columns, services in alphabetical order.
    """

    name: str
    meaning: str
    columns: tuple[Column, ...]
    csv: str | None = None
    layer: str | None = None
    sheet: str | None = None
    geometry: str | None = None
    per_service: tuple[Column, ...] = field(default=())
    workbook: str = SUMMARY_XLSX

    def column(self, name: str) -> Column:
        """The column called ``name`` (per-service columns by their full name too)."""
        for c in self.columns:
            if c.name == name:
                return c
        for c in self.per_service:
            if name.endswith("_" + c.name):
                return c
        msg = f"table {self.name!r} has no column {name!r}"
        raise KeyError(msg)

    def names(self, services: Iterable[str] = ()) -> list[str]:
        """Every column name, with the per-service columns of ``services``."""
        names = [c.name for c in self.columns]
        for sid in sorted(services):
            names += [f"{sid}_{c.name}" for c in self.per_service]
        return names


def _c(name: str, dtype: DType, unit: str, meaning: str, *, optional: bool = False) -> Column:
    return Column(name, dtype, unit, meaning, optional)


_MUNI = _c("municipality", "str", "", "municipality code (3 digits, leading zeros kept)")
_MUNI_NAME = _c("municipality_name", "str", "", "municipality name")
_SERVICE = _c("service", "str", "", "service id of the config's catalogue")
_SERVICE_LABEL = _c("service_label", "str", "", "service name in the config's language")


def safe_name(value: object) -> str:
    """``value`` as a file-name part: letters, digits, ``-`` and ``_`` only (others become ``_``),
    so data such as a municipality code can never leave the results folder."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(value)) or "_"


def service_map_file(service: str) -> str:
    """``<service>.png``: the service's map in :data:`MAPS_DIR`."""
    return f"{safe_name(service)}.png"


def overview_map_file(code: str) -> str:
    """``overview_<code>.png``: a municipality's overview map in :data:`MAPS_DIR`."""
    return f"overview_{safe_name(code)}.png"


def municipality_service_map_file(code: str, service: str) -> str:
    """``<code>_<service>.png``: a service's map framed on one municipality, in :data:`MAPS_DIR`."""
    return f"{safe_name(code)}_{safe_name(service)}.png"


def municipality_report_file(code: str) -> str:
    """``report_<code>.html``: a municipality's report."""
    return f"report_{safe_name(code)}.html"


def municipality_brief_file(code: str) -> str:
    """``brief_<code>.html``: a municipality's brief (at most four printed pages)."""
    return f"brief_{safe_name(code)}.html"

"""What each section of an HTML report shows, built from the tables of a results folder.

The functions here turn the results tables (read through :mod:`arjenturva.results`) into plain
frozen view models: key-figure cards, tables of cells, figures and lists of lines, with every word
taken from :mod:`arjenturva.labels`. The templates of :mod:`arjenturva.export.report` lay them out
as HTML. Every figure cell names its results column in ``col`` (a column of the table's schema)
and carries the column's exact value in ``value`` (``repr`` of a float, the text of a string, empty
when missing), so scripts and tests can read the figures back from ``data-col``/``data-value``.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import pandas as pd

from .. import labels
from .. import results as R

if TYPE_CHECKING:
    from ..config import Config

Kind = Literal["text", "int", "share", "km", "min", "m_as_km", "service", "sector", "mode", "demand", "list"]


def word(key: str, lang: str) -> str:
    """The report word ``key`` in ``lang`` (from :func:`labels.ui`)."""
    return labels.ui(lang)[key]


#: Indicator columns of the service tables (columns of :data:`R.SUMMARY`) and their kind: first
#: the service's demand group (demand, its covered share, the demand not covered), then all
#: residents (not covered, of them aged 65+ and in sparse areas, without road access), then the
#: distances.
SERVICE_COLUMNS: Final[tuple[tuple[str, Kind], ...]] = (
    ("demand", "int"),
    ("covered_share", "share"),
    ("uncovered_demand", "int"),
    ("uncovered_population", "int"),
    ("uncovered_65_plus", "int"),
    ("uncovered_sparse", "int"),
    ("unreachable_population", "int"),
    ("mean_distance_km", "km"),
    ("median_distance_km", "km"),
    ("p90_distance_km", "km"),
    ("mean_time_min", "min"),
)

#: Columns of the municipality comparison (``service = ALL`` rows of :data:`R.SUMMARY`).
ALL_COLUMNS: Final[tuple[tuple[str, Kind], ...]] = (
    ("population", "int"),
    ("covered_share", "share"),
    ("services_with_gaps", "int"),
    ("population_lacking_any_service", "int"),
)

UNCOVERED_DEMAND: Final = "uncovered_demand"
"""The column :func:`largest_gaps` adds to the gap areas: their demand not covered."""

#: Columns of the largest gap areas (of :data:`R.GAP_AREAS`, and :data:`UNCOVERED_DEMAND`):
#: (column, header word, kind).
GAP_COLUMNS: Final[tuple[tuple[str, str, Kind], ...]] = (
    ("gap_area_id", "gap_area", "text"),
    ("place", "place", "text"),
    ("service", "service", "service"),
    (UNCOVERED_DEMAND, "uncovered_demand", "demand"),
    ("uncovered_population", "uncovered_population", "int"),
    ("uncovered_65_plus", "uncovered_65_plus", "int"),
    ("cells", "cells", "int"),
    ("site_distance_m", "site_distance_km", "m_as_km"),
)

GAP_ROWS: Final = 15
"""How many of the largest gap areas a report lists."""


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, and for a results column its name and exact value."""

    text: str
    col: str | None = None
    value: str | None = None
    css: str = ""
    """The cell's class: ``n`` for a figure (right-aligned), ``id`` for a list of ids (may wrap)."""
    note: str = ""
    """A second, muted line under the text (the demand group of a proposal's demand)."""


@dataclass(frozen=True)
class Row:
    """A table row: its cells and its ``data-*`` attributes (name without ``data-``, value)."""

    cells: tuple[Cell, ...]
    attrs: tuple[tuple[str, str], ...] = ()
    detail: Cell | None = None
    """A long text shown in a second row under the cells, across the table (a rationale)."""


@dataclass(frozen=True)
class Grid:
    """A table: header texts and rows."""

    headers: tuple[str, ...]
    rows: tuple[Row, ...]
    css_class: str = ""
    detail_label: str = ""
    """The word before each row's detail text."""


@dataclass(frozen=True)
class Card:
    """A key figure: its label and its value cell."""

    label: str
    cell: Cell


@dataclass(frozen=True)
class TitledGrid:
    """A table under a heading (``anchor`` is the heading's id, if any)."""

    title: str
    grid: Grid
    anchor: str | None = None


@dataclass(frozen=True)
class Figure:
    """A map: its ``src`` (a relative path or a ``data:`` URL) and caption."""

    src: str
    caption: str


@dataclass(frozen=True)
class InputFile:
    """An input of the run: its role, file name and checksum."""

    role: str
    file: str
    checksum: str


@dataclass(frozen=True)
class Settings:
    """The settings section: a row per service, and the general settings as lines."""

    services: Grid
    general: tuple[str, ...] = field(default=())


# --- values --------------------------------------------------------------------------------------


def exact(value: Any) -> str:
    """The exact value for a ``data-value`` attribute (empty for missing values)."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value)) if math.isfinite(value) else ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def format_value(value: Any, kind: Kind, lang: str) -> str:
    """A number as the reports show it: shares in %, km and min with one decimal, counts whole."""
    if kind == "share":
        return labels.format_share(value, lang)
    if kind in ("km", "min"):
        return labels.format_number(value, lang, 1)
    if kind == "m_as_km":
        try:
            return labels.format_number(float(value) / 1000, lang, 1)
        except (TypeError, ValueError):
            return ""
    return labels.format_number(value, lang, 0)


def number_cell(col: str, value: Any, kind: Kind, lang: str) -> Cell:
    """A right-aligned figure cell of results column ``col``."""
    return Cell(format_value(value, kind, lang), col=col, value=exact(value), css="n")


def service_text(config: Config, service: str, fallback: Any, lang: str) -> str:
    """The service's label in ``lang``; for a service the config lacks, the table's own label."""
    if service in config.services or exact(fallback) in ("", service):
        return labels.service_label(config, service, lang)
    return exact(fallback)


# --- sections ------------------------------------------------------------------------------------


def key_figures(
    summary: pd.DataFrame, gap_areas: pd.DataFrame | None, points: pd.Series | None, lang: str
) -> list[Card]:
    """The key-figure cards of the municipalities in ``summary``."""
    allrows = summary.loc[summary["service"] == "ALL"]
    svc = summary.loc[summary["service"] != "ALL"]
    cards: list[tuple[str, str, Any, Kind]] = []
    pop = (
        allrows["population"].sum()
        if not allrows.empty
        else svc.groupby("municipality")["population"].max().sum()
    )
    cards.append(("k_population", "population", pop, "int"))
    if len(allrows) == 1 and pd.notna(allrows["covered_share"].iloc[0]):
        cards.append(("k_covered", "covered_share", allrows["covered_share"].iloc[0], "share"))
    elif not svc.empty:
        # As summary.csv's ALL rows: the mean over services of each service's covered share.
        per = svc.groupby("service")[["covered_demand", "demand"]].sum()
        shares = (per["covered_demand"] / per["demand"].where(per["demand"] > 0)).dropna()
        if len(shares):
            cards.append(("k_covered", "covered_share", float(shares.mean()), "share"))
    if len(allrows) == 1:
        cards.append(("k_services_gaps", "services_with_gaps", allrows["services_with_gaps"].iloc[0], "int"))
    else:
        n = svc.loc[svc["uncovered_population"] > 0, "service"].nunique()
        cards.append(("k_services_gaps", "services_with_gaps", n, "int"))
    if not allrows.empty:
        lacking = allrows["population_lacking_any_service"].sum()
        cards.append(("k_lacking", "population_lacking_any_service", lacking, "int"))
    codes = set(summary["municipality"].astype(str))
    if points is not None:
        cards.append(("k_points", "service_points", int(points[points.index.isin(codes)].sum()), "int"))
    if gap_areas is not None:
        n_gaps = int(gap_areas["municipality"].astype(str).isin(codes).sum())
        cards.append(("k_gap_areas", "gap_areas", n_gaps, "int"))
    return [Card(word(key, lang), number_cell(col, value, kind, lang)) for key, col, value, kind in cards]


def demand_group(config: Config, service: str, lang: str) -> str:
    """The service's demand group in ``lang`` (e.g. "0–14-vuotiaat"; empty when not configured)."""
    svc = config.services.get(service)
    return labels.label(labels.DEMAND, svc.demand, lang) if svc is not None else ""


def _indicator_grid(
    rows: pd.DataFrame, first: str, columns: Sequence[tuple[str, Kind]], config: Config, lang: str
) -> Grid:
    """Indicator rows of ``summary``: a label column (``first``: a summary column), then figures.
    A row per service has the service's demand group beside its label."""
    per_service = first == "service_label"
    header: tuple[str, ...] = (word("service", lang), word("demand_group", lang))
    if not per_service:
        header = (word("municipality", lang),)
    out = []
    for _, r in rows.iterrows():
        service = str(r["service"])
        if per_service:
            label = service_text(config, service, r["service_label"], lang)
            first_cells: tuple[Cell, ...] = (Cell(label), Cell(demand_group(config, service, lang)))
        else:
            first_cells = (Cell(exact(r[first])),)
        cells = (*first_cells, *(number_cell(c, r[c], k, lang) for c, k in columns))
        attrs = (("municipality", exact(r["municipality"])), ("service", exact(r["service"])))
        out.append(Row(cells, attrs))
    return Grid((*header, *(word(c, lang) for c, _k in columns)), tuple(out), "indicators")


def service_tables(summary: pd.DataFrame, config: Config, lang: str, *, overall: bool) -> list[TitledGrid]:
    """The indicator tables: for all municipalities a comparison and a table per service (a row
    per municipality); for one municipality a single table with a row per service."""
    svc = summary.loc[summary["service"] != "ALL"]
    if not overall:
        rank = {s: i for i, s in enumerate(config.services)}
        rows = svc.assign(_o=svc["service"].map(lambda s: rank.get(s, len(rank)))).sort_values("_o")
        return [TitledGrid("", _indicator_grid(rows, "service_label", SERVICE_COLUMNS, config, lang))]
    out = []
    allrows = summary.loc[summary["service"] == "ALL"]
    if not allrows.empty:
        grid = _indicator_grid(allrows, "municipality_name", ALL_COLUMNS, config, lang)
        out.append(TitledGrid(word("municipalities", lang), grid))
    order = [s for s in config.services if s in set(svc["service"])]
    order += sorted(set(svc["service"]) - set(order))
    for s in order:
        rows = svc.loc[svc["service"] == s]
        title = service_text(config, s, rows["service_label"].iloc[0], lang)
        group = demand_group(config, s, lang)
        if group:
            title = f"{title} ({word('demand_group', lang).lower()}: {group})"
        grid = _indicator_grid(rows, "municipality_name", SERVICE_COLUMNS, config, lang)
        out.append(TitledGrid(title, grid, anchor=f"svc-{s}"))
    return out


def table_cell(col: str, value: Any, kind: Kind, service: str, config: Config, lang: str) -> Cell:
    """A cell of results column ``col``: figures formatted, codes as words, the exact value kept."""
    if kind in ("int", "km", "min", "share", "m_as_km"):
        return number_cell(col, value, kind, lang)
    raw = exact(value)
    if kind == "demand":
        note = demand_group(config, service, lang)
        return Cell(format_value(value, "int", lang), col=col, value=raw, css="n", note=note)
    if raw == "":
        text = ""
    elif kind == "service":
        text = service_text(config, service, value, lang)
    elif kind == "sector":
        text = labels.label(labels.SECTOR, raw, lang)
    elif kind == "mode":
        text = labels.label(labels.MODE, raw, lang)
    elif kind == "list":
        text = "; ".join(raw.split(";"))
    else:
        text = raw
    return Cell(text, col=col, value=raw, css="id" if kind == "list" else "")


def largest_gaps(gap_areas: pd.DataFrame, codes: set[str], config: Config, n: int) -> pd.DataFrame:
    """The ``n`` gap areas of the municipalities ``codes`` with the most demand not covered.

    Adds :data:`UNCOVERED_DEMAND`, the area's demand not covered in its service's demand group:
    ``uncovered_population`` for the whole population, ``uncovered_65_plus`` for residents aged
    65+, and for another age group its residents times the area's uncovered share
    (``uncovered_population / population``; 1 in an area no point reaches). Areas with blanked
    (suppressed) or zero counts are left out.
    """
    ga = gap_areas.loc[gap_areas["municipality"].astype(str).isin(codes)].copy()
    uncovered = pd.to_numeric(ga["uncovered_population"], errors="coerce")
    pop = pd.to_numeric(ga["population"], errors="coerce")
    share = (uncovered / pop.where(pop > 0)).fillna(1.0).clip(0.0, 1.0)
    values = uncovered.copy()
    for service, idx in ga.groupby("service").groups.items():
        svc = config.services.get(str(service))
        group = svc.demand if svc is not None else "population"
        if group == "age_65_plus" and "uncovered_65_plus" in ga:
            values[idx] = pd.to_numeric(ga.loc[idx, "uncovered_65_plus"], errors="coerce")
        elif group != "population" and group in ga:
            values[idx] = pd.to_numeric(ga.loc[idx, group], errors="coerce") * share[idx]
    ga[UNCOVERED_DEMAND] = values.round(1)
    ga = ga.loc[ga[UNCOVERED_DEMAND].fillna(0) > 0]
    return ga.sort_values([UNCOVERED_DEMAND, "uncovered_population"], ascending=False).head(n)


def gap_grid(ga: pd.DataFrame, columns: Sequence[tuple[str, str, Kind]], config: Config, lang: str) -> Grid:
    """A table of gap areas (rows of :func:`largest_gaps`), one cell per column of ``columns``."""
    rows = []
    for _, r in ga.iterrows():
        cells = tuple(table_cell(c, r[c], k, str(r["service"]), config, lang) for c, _w, k in columns)
        attrs = (("gap-area", exact(r["gap_area_id"])), ("service", exact(r["service"])))
        rows.append(Row(cells, attrs))
    return Grid(tuple(word(w, lang) for _c, w, _k in columns), tuple(rows), "gaps")


def gap_table(gap_areas: pd.DataFrame, codes: set[str], config: Config, lang: str) -> Grid | None:
    """The largest gap areas (by demand not covered) of the municipalities ``codes``; None when
    they have none."""
    ga = largest_gaps(gap_areas, codes, config, GAP_ROWS)
    return None if ga.empty else gap_grid(ga, GAP_COLUMNS, config, lang)


def image_src(path: Path, results_dir: Path, *, embed: bool) -> str:
    """An ``<img src>`` for a map: a ``data:`` URL of the file (``embed``), or its path relative to
    the results folder."""
    if embed:
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    return path.relative_to(results_dir).as_posix()


def map_file_names(service_ids: Sequence[str], codes: Sequence[str], *, framed: bool = False) -> list[str]:
    """The maps a report shows, if drawn: the municipalities' overviews, then one per service,
    of the whole region, or (``framed``) framed on each municipality."""
    names = [R.overview_map_file(c) for c in codes]
    if framed:
        return names + [R.municipality_service_map_file(c, s) for c in codes for s in service_ids]
    return names + [R.service_map_file(s) for s in service_ids]


def map_figures(
    results_dir: Path, munis: pd.DataFrame, config: Config, lang: str, *, embed: bool, framed: bool = False
) -> list[Figure]:
    """The maps found in ``maps/``: the municipalities' overviews, then one per service, of the
    whole region, or (``framed``, for a municipality's report) framed on each municipality."""
    maps_dir = results_dir / R.MAPS_DIR
    codes = [str(c) for c in munis["municipality"]]
    names = [str(n) for n in munis["municipality_name"]]
    captions = [word("overview_caption", lang).format(name=name) for name in names]
    services = list(config.services)
    if framed:
        captions += [
            word("muni_service_caption", lang).format(name=name, label=labels.service_label(config, s, lang))
            for name in names
            for s in services
        ]
    else:
        captions += [
            word("service_caption", lang).format(label=labels.service_label(config, s, lang))
            for s in services
        ]
    figures = []
    for name, caption in zip(map_file_names(services, codes, framed=framed), captions, strict=True):
        path = maps_dir / name
        if path.exists():
            figures.append(Figure(image_src(path, results_dir, embed=embed), caption))
    return figures


def settings(config: Config, run: R.RunInfo, lang: str) -> Settings:
    """The thresholds, demand, mobile and remote rules and sectors per service, and the general
    settings (suppression, cost, area classes, config hash)."""
    rows = []
    for sid, svc in config.services.items():
        if svc.mobile:
            mobile = word("mobile_rule", lang).format(
                d=labels.format_number(svc.mobile.required_days, lang, 0)
            )
        else:
            mobile = word("not_counted", lang)
        if svc.remote:
            remote = word("remote_rule", lang).format(w=labels.format_number(svc.remote, lang, 1))
        else:
            remote = word("not_counted", lang)
        texts = (
            labels.service_label(config, sid, lang),
            labels.format_threshold(svc, lang),
            labels.label(labels.DEMAND, svc.demand, lang),
            mobile,
            remote,
            ", ".join(labels.label(labels.SECTOR, s, lang) for s in svc.sectors),
        )
        rows.append(Row(tuple(Cell(t) for t in texts), (("service", sid),)))
    keys = ("service", "threshold", "demand", "settings_mobile", "settings_remote", "sectors")
    cost = word("cost_distance" if config.network.cost == "distance" else "cost_time", lang)
    general = [
        word("suppress", lang).format(n=config.export.suppress_below),
        word("cost", lang).format(cost=cost),
    ]
    if run.raw.get("area_classes"):
        source = labels.label(labels.AREA_CLASS_SOURCE, str(run.raw["area_classes"]), lang)
        general.append(word("area_classes", lang).format(source=source))
    general.append(word("config_hash", lang).format(h=run.config_hash or config.digest()))
    return Settings(Grid(tuple(word(k, lang) for k in keys), tuple(rows)), tuple(general))


def input_files(run: R.RunInfo, lang: str) -> list[InputFile]:
    """The input files of the run with their checksums, as ``run.json`` lists them (roles in
    ``lang``)."""
    inputs = run.raw.get("inputs") or {}
    return [
        InputFile(
            labels.label(labels.INPUT_ROLE, str(name), lang),
            Path(str(v.get("path", ""))).name,
            str(v.get("sha256_16") or ""),
        )
        for name, v in inputs.items()
        if isinstance(v, dict)
    ]

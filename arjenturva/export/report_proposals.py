"""What the proposals sections of the reports show: the agreements, coverage before and after.

The agreements of ``proposals.csv`` with their rationales in the report's language, the covered
share and the residents not covered today and with the agreements (``proposals_summary.csv``),
and how the solver did (``run.json``), as the view models of :mod:`.report_sections`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from .. import labels
from .. import results as R
from .report_sections import (
    Cell,
    Grid,
    Kind,
    Row,
    demand_group,
    exact,
    number_cell,
    service_text,
    table_cell,
    word,
)

if TYPE_CHECKING:
    from ..config import Config

#: Columns of the proposals table (of :data:`R.PROPOSALS`): (column, header word, kind). The
#: municipality column is shown in the report of all municipalities only; the rationale (the
#: last) in a row of its own under each agreement, so the table fits a printed page.
PROPOSAL_COLUMNS: Final[tuple[tuple[str, str, Kind], ...]] = (
    ("agreement_id", "agreement", "text"),
    ("municipality_name", "municipality", "text"),
    ("service_label", "service", "service"),
    ("gap_areas", "gap_area", "list"),
    ("site_name", "site", "text"),
    ("actor_name", "actor", "text"),
    ("sector", "sector", "sector"),
    ("mode", "mode", "mode"),
    ("days_per_week", "days_per_week", "int"),
    ("people_reached", "covered", "int"),
    ("demand_covered", "demand_covered", "demand"),
    ("covered_65_plus", "covered_65", "int"),
    ("distance_from_base_km", "distance_from_base_km", "km"),
    ("rationale", "rationale", "text"),
)


def _fields(row: pd.Series) -> dict[str, Any]:
    """A ``proposals.csv`` row as the mapping :mod:`arjenturva.proposals.rationale` reads."""
    return {str(k): v for k, v in row.items()}


def site_text(row: pd.Series, lang: str) -> str:
    """An agreement's site in ``lang`` ("9.6 km NE of Korpiranta"), built from its
    ``proposals.csv`` row (``site_name`` holds it in the config's language)."""
    from ..proposals.rationale import site_label

    return site_label(_fields(row), lang)


def agreement_cell(col: str, kind: Kind, row: pd.Series, config: Config, lang: str) -> Cell:
    """A cell of an agreement's row: :func:`report_sections.table_cell`, the site in ``lang``."""
    cell = table_cell(col, row[col], kind, str(row["service"]), config, lang)
    return replace(cell, text=site_text(row, lang)) if col == "site_name" else cell


def rationale_cell(row: pd.Series, config: Config, lang: str) -> Cell:
    """The rationale in ``lang``, built from the agreement's ``proposals.csv`` row; the file's
    value in ``data-value`` when it is the text shown (the config's language)."""
    from ..proposals.rationale import rationale_for

    text = rationale_for(_fields(row), config, lang)
    written = exact(row["rationale"])
    return Cell(text, col="rationale", value=written) if text == written else Cell(text)


def proposal_table(
    proposals: pd.DataFrame, codes: set[str], config: Config, lang: str, *, overall: bool
) -> Grid | None:
    """The rows of ``proposals.csv`` of the municipalities ``codes``, in the file's order, one cell
    per column of :data:`PROPOSAL_COLUMNS` and the rationale in ``lang`` under each; None when
    there are none."""
    df = proposals.loc[proposals["municipality"].astype(str).isin(codes)]
    if df.empty:
        return None
    *columns, (_detail, detail_word, _kind) = [
        spec for spec in PROPOSAL_COLUMNS if overall or spec[0] != "municipality_name"
    ]
    rows = []
    for _, r in df.iterrows():
        service = str(r["service"])
        cells = tuple(agreement_cell(c, k, r, config, lang) for c, _w, k in columns)
        attrs = (
            ("agreement", exact(r["agreement_id"])),
            ("municipality", exact(r["municipality"])),
            ("service", service),
        )
        rows.append(Row(cells, attrs, rationale_cell(r, config, lang)))
    headers = tuple(word(w, lang) for _c, w, _k in columns)
    return Grid(headers, tuple(rows), "proposals", word(detail_word, lang))


#: Before/after columns of :data:`R.PROPOSALS_SUMMARY` (a pair is shown when both exist): (now,
#: with the proposals, header word now, header word after, kind).
BEFORE_AFTER: Final[tuple[tuple[str, str, str, str, Kind], ...]] = (
    ("covered_share_before", "covered_share_after", "covered_now", "covered_after", "share"),
    (
        "uncovered_demand_before",
        "uncovered_demand_after",
        "uncovered_demand_now",
        "uncovered_demand_after",
        "int",
    ),
    (
        "uncovered_population_before",
        "uncovered_population_after",
        "uncovered_now",
        "uncovered_after",
        "int",
    ),
)


#: The coverage with the weekly mobile routes, before the agreements (runs with vehicles): the
#: column shown between a pair of :data:`BEFORE_AFTER`, and its header word.
ROUTES_STEP: Final[dict[str, tuple[str, str]]] = {
    "covered_share_before": ("covered_share_routes", "covered_routes"),
    "uncovered_demand_before": ("uncovered_demand_routes", "uncovered_demand_routes"),
}


def by_service(proposals_summary: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    """The rows of ``proposals_summary.csv`` by (municipality, service)."""
    return {(str(r["municipality"]), str(r["service"])): r for _, r in proposals_summary.iterrows()}


CellOf = Callable[[pd.Series, "pd.Series | None"], Cell]
"""A column of :func:`before_after_grid`: the cell of a summary row and its proposals_summary row."""


def _from_summary(col: str, kind: Kind, lang: str) -> CellOf:
    return lambda r, _p: number_cell(col, r[col], kind, lang)


def _from_proposals_summary(col: str, kind: Kind, lang: str, missing: str = "") -> CellOf:
    def cell(_r: pd.Series, p: pd.Series | None) -> Cell:
        return Cell(missing, css="n") if p is None else number_cell(col, p[col], kind, lang)

    return cell


def before_after_grid(
    summary: pd.DataFrame,
    proposals_summary: pd.DataFrame | None,
    config: Config,
    lang: str,
    *,
    with_demand: bool,
) -> Grid | None:
    """A row per municipality and service of ``summary`` (services in the config's order).

    With ``with_demand``: the threshold, the demand group, its demand and the demand not covered
    today. Then, from ``proposals_summary`` (when given), the covered share and the residents not
    covered today and with the agreements, and the number of agreements; without it the covered
    share and the residents not covered today. None when ``summary`` has no service rows.
    """
    svc = summary.loc[summary["service"] != "ALL"]
    if svc.empty:
        return None
    rank = {s: i for i, s in enumerate(config.services)}
    svc = svc.assign(_o=svc["service"].map(lambda s: rank.get(s, len(rank))))
    svc = svc.sort_values(["municipality", "_o"])
    ps = None if proposals_summary is None else by_service(proposals_summary)
    present = set() if proposals_summary is None else set(proposals_summary.columns)
    pairs = [b for b in BEFORE_AFTER if b[0] in present and b[1] in present]
    columns: list[tuple[str, CellOf]] = []
    if svc["municipality"].nunique() > 1:
        columns.append((word("municipality", lang), lambda r, _p: Cell(exact(r["municipality_name"]))))
    columns.append(
        (
            word("service", lang),
            lambda r, _p: Cell(service_text(config, r["service"], r["service_label"], lang)),
        )
    )
    if with_demand:
        columns += [
            (word("threshold", lang), lambda r, _p: _threshold(config, str(r["service"]), lang)),
            (word("demand_group", lang), lambda r, _p: Cell(demand_group(config, str(r["service"]), lang))),
            (word("demand", lang), _from_summary("demand", "int", lang)),
        ]
        if not any(b[0] == "uncovered_demand_before" for b in pairs):
            columns.append((word("uncovered_demand", lang), _from_summary("uncovered_demand", "int", lang)))
    if not pairs:
        columns += [
            (word("covered_share", lang), _from_summary("covered_share", "share", lang)),
            (word("uncovered_population", lang), _from_summary("uncovered_population", "int", lang)),
        ]
    for before, after, word_before, word_after, kind in pairs:
        routed = ROUTES_STEP.get(before)  # runs with vehicles: today, with the routes, with the agreements
        columns += [
            (word(word_before, lang), _from_proposals_summary(before, kind, lang)),
            *(
                [(word(routed[1], lang), _from_proposals_summary(routed[0], kind, lang))]
                if routed is not None and routed[0] in present
                else []
            ),
            (word(word_after, lang), _from_proposals_summary(after, kind, lang)),
        ]
    if ps is not None:
        columns.append((word("agreements", lang), _from_proposals_summary("agreements", "int", lang, "0")))
    rows = []
    for _, r in svc.iterrows():
        key = (str(r["municipality"]), str(r["service"]))
        cells = tuple(cell(r, None if ps is None else ps.get(key)) for _h, cell in columns)
        rows.append(Row(cells, (("municipality", key[0]), ("service", key[1]))))
    return Grid(tuple(h for h, _c in columns), tuple(rows), "before-after")


def _threshold(config: Config, service: str, lang: str) -> Cell:
    """The service's thresholds as ranges over the area classes (``10–40 km``, the time under
    it: ``45–60 min``), unbroken; the report's settings give them per class."""
    svc = config.services.get(service)
    parts = []
    for limits, unit in ((svc.threshold_km, "km"), (svc.threshold_min, "min")) if svc else ():
        values = [float(v) for v in (limits or {}).values() if v is not None]
        if not values:
            continue
        low, high = (
            labels.format_number(v, lang, 0 if v.is_integer() else 1) for v in (min(values), max(values))
        )
        parts.append(f"{low}\u00a0{unit}" if low == high else f"{low}–{high}\u00a0{unit}")
    return Cell(parts[0] if parts else "", css="nw", note=" · ".join(parts[1:]))


SOLVER_NAMES: Final[dict[str, str]] = {"highs": "HiGHS (SciPy)", "highspy": "HiGHS (highspy)"}
"""Display names of the solvers ``run.json`` names."""


def solver_line(run: R.RunInfo, lang: str) -> str | None:
    """How the proposals were solved (``run.json``): solver, status, MIP gap and whether the time
    limit was hit; None before the proposals ran."""
    p = run.proposals
    if not p:
        return None
    status = str(p.get("status") or "")
    gap = p.get("mip_gap")
    try:
        gap_text = labels.format_share(float(gap), lang, 2) if gap is not None else ""
    except (TypeError, ValueError):
        gap_text = ""
    limit = "time_limit_hit" if p.get("time_limit_hit") else "time_limit_not_hit"
    solver = str(p.get("solver") or "")
    return word("solver_line", lang).format(
        solver=SOLVER_NAMES.get(solver, solver) or word("not_known", lang),
        status=labels.label(labels.SOLVER_STATUS, status, lang) if status else word("not_known", lang),
        gap=gap_text or word("not_known", lang),
        limit=word(limit, lang),
    )

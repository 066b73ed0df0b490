"""A municipality's brief, ``brief_<code>.html``: what a coordinator takes to a meeting.

On at most four printed A4 pages: the key figures, how the proposals were solved, every service
now and with the proposed agreements (``proposals_summary.csv``), the worst gaps by demand not
covered with their place names, the agreements with their site, coverage before and after and
rationale in the brief's language, one map (the municipality's overview, or the map of its
worst service framed on it) and the sources. The view models come from :mod:`.report_sections`
and :mod:`.report_proposals`; the page is ``templates/brief.html.j2`` with ``brief.css``. The
maps are embedded, so the file stands alone.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from .. import labels
from .. import results as R
from . import report_proposals as P
from . import report_sections as S
from .report import dates_line, words
from .tables import run_credits

if TYPE_CHECKING:
    from ..config import Config
    from .report import ReportData

BRIEF_TEMPLATE: Final = "brief.html.j2"
"""The brief's page template (in ``arjenturva/export/templates``)."""

BRIEF_GAP_ROWS: Final = 6
"""How many of the worst gap areas a brief lists."""

BRIEF_AGREEMENTS: Final = 24
"""At most this many agreements in a brief, those covering the most demand (all of them are in
the municipality's report); with their rationales they fill about two printed pages."""

#: Columns of the brief's worst gaps (of :func:`report_sections.largest_gaps`).
GAP_COLUMNS: Final[tuple[tuple[str, str, S.Kind], ...]] = (
    ("place", "place", "text"),
    ("service", "service", "service"),
    (S.UNCOVERED_DEMAND, "uncovered_demand", "demand"),
    ("uncovered_65_plus", "uncovered_65_plus", "int"),
    ("site_distance_m", "site_distance_km", "m_as_km"),
)

#: Columns of the brief's agreements (of :data:`R.PROPOSALS`), before the coverage before and
#: after: (column, header word, kind).
AGREEMENT_COLUMNS: Final[tuple[tuple[str, str, S.Kind], ...]] = (
    ("agreement_id", "agreement", "text"),
    ("service_label", "service", "service"),
    ("site_name", "site", "text"),
    ("actor_name", "actor", "text"),
    ("mode", "mode", "mode"),
    ("demand_covered", "demand_covered", "demand"),
)


def _agreement_cells(r: pd.Series, config: Config, lang: str) -> list[S.Cell]:
    """The cells of one agreement: the actor with its sector, a mobile service with its days."""
    cells = []
    for col, _w, kind in AGREEMENT_COLUMNS:
        cell = P.agreement_cell(col, kind, r, config, lang)
        if col == "actor_name":
            cell = replace(cell, note=labels.label(labels.SECTOR, S.exact(r["sector"]), lang))
        elif col == "mode" and pd.notna(r["days_per_week"]):
            days = labels.format_number(r["days_per_week"], lang, 0)
            cell = replace(cell, note=f"{days} {S.word('days_per_week', lang).lower()}")
        cells.append(cell)
    return cells


def _before_after_text(ps_row: pd.Series | None, lang: str) -> str:
    if ps_row is None:
        return ""
    before = labels.format_share(ps_row["covered_share_before"], lang)
    after = labels.format_share(ps_row["covered_share_after"], lang)
    return f"{before} → {after}"


def agreement_grid(
    proposals: pd.DataFrame,
    proposals_summary: pd.DataFrame | None,
    code: str,
    config: Config,
    lang: str,
    *,
    limit: int = BRIEF_AGREEMENTS,
) -> tuple[S.Grid | None, int]:
    """The municipality's agreements with their site, actor, mode, demand covered, the service's
    covered share now → with the agreements, and the rationale in ``lang``; and how many
    agreements it has. Of more than ``limit`` agreements those covering the most demand are
    shown; all in the file's order."""
    df = proposals.loc[proposals["municipality"].astype(str) == code]
    if df.empty:
        return None, 0
    ps = {} if proposals_summary is None else P.by_service(proposals_summary)
    rows = []
    shown = df.loc[df["demand_covered"].fillna(0).nlargest(limit).index.sort_values()]
    for _, r in shown.iterrows():
        service = str(r["service"])
        before_after = _before_after_text(ps.get((code, service)), lang)
        cells = (*_agreement_cells(r, config, lang), S.Cell(before_after, css="n"))
        attrs = (("agreement", S.exact(r["agreement_id"])), ("municipality", code), ("service", service))
        rows.append(S.Row(cells, attrs, P.rationale_cell(r, config, lang)))
    headers = (*(S.word(w, lang) for _c, w, _k in AGREEMENT_COLUMNS), S.word("before_after", lang))
    grid = S.Grid(headers, tuple(rows), "proposals", S.word("rationale", lang))
    return grid, len(df)


def brief_map(
    results_dir: Path, code: str, name: str, summary: pd.DataFrame, config: Config, lang: str, *, embed: bool
) -> S.Figure | None:
    """The brief's map: the municipality's overview, else the map framed on it of the service
    with the most demand not covered that has one; None when neither is drawn."""
    maps_dir = results_dir / R.MAPS_DIR
    overview = maps_dir / R.overview_map_file(code)
    if overview.exists():
        caption = S.word("overview_caption", lang).format(name=name)
        return S.Figure(S.image_src(overview, results_dir, embed=embed), caption)
    svc = summary.loc[(summary["municipality"] == code) & (summary["service"] != "ALL")]
    for service in svc.sort_values("uncovered_demand", ascending=False)["service"]:
        path = maps_dir / R.municipality_service_map_file(code, str(service))
        if path.exists():
            label = labels.service_label(config, str(service), lang)
            caption = S.word("muni_service_caption", lang).format(name=name, label=label)
            return S.Figure(S.image_src(path, results_dir, embed=embed), caption)
    return None


def brief_context(
    data: ReportData, results_dir: Path, config: Config, lang: str, *, code: str, embed: bool
) -> dict[str, Any]:
    """What ``templates/brief.html.j2`` shows for the municipality ``code``."""
    summary = data.summary.loc[data.summary["municipality"] == code]
    name = str(summary["municipality_name"].iloc[0])
    cards = S.key_figures(summary, None, None, lang)
    agreements, total = None, 0
    if data.proposals is not None:
        agreements, total = agreement_grid(data.proposals, data.proposals_summary, code, config, lang)
        cards.append(S.Card(S.word("k_agreements", lang), S.number_cell("agreements", total, "int", lang)))
    gaps = None
    if data.gap_areas is not None:
        worst = S.largest_gaps(data.gap_areas, {code}, config, BRIEF_GAP_ROWS)
        gaps = None if worst.empty else S.gap_grid(worst, GAP_COLUMNS, config, lang)
    report_file = R.municipality_report_file(code)
    shown = 0 if agreements is None else len(agreements.rows)
    return {
        "lang": lang,
        "w": words(lang),
        "title": S.word("brief_title", lang).format(name=name, code=code),
        "subtitle": config.name,
        "dates": dates_line(data.run, lang),
        "synthetic": labels.SYNTHETIC.get(lang) if data.run.synthetic else "",
        "report_file": report_file,
        "full_report": S.word("full_report", lang).format(file=report_file),
        "cards": cards,
        "solver": P.solver_line(data.run, lang),
        "services": P.before_after_grid(summary, data.proposals_summary, config, lang, with_demand=True),
        "has_proposals": data.proposals is not None,
        "has_gap_areas": data.gap_areas is not None,
        "gaps": gaps,
        "gaps_note": S.word("worst_gaps_note", lang).format(n=0 if gaps is None else len(gaps.rows)),
        "agreements": agreements,
        "agreements_cut": (
            S.word("agreements_cut", lang).format(n=shown, total=total, file=report_file)
            if shown < total
            else ""
        ),
        "figure": brief_map(results_dir, code, name, data.summary, config, lang, embed=embed),
        "credits": run_credits(data.run, lang),
    }

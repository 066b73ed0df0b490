"""HTML reports of a results folder: ``report.html`` (all municipalities), ``report_<code>.html``
and the short ``brief_<code>.html`` (:mod:`.brief`).

Each report holds key figures, indicator tables from ``summary.csv``, the largest gap areas, the
partnership proposals with their rationales in the report's language (the rows of
``proposals.csv``, when it exists), coverage before and after them, how the solver did, the maps
of ``maps/`` (a municipality's report those framed on it), the settings (thresholds per
service), the data sources with their credits and the dates. The tables are read through the
results contract (:mod:`arjenturva.results`), the words come from :mod:`arjenturva.labels`, and
the HTML is laid out by the Jinja2 templates ``templates/report*.html.j2`` with autoescaping, so
every text from data or config is escaped. Plain HTML and CSS (``templates/report.css``) with a
print style sheet; the maps are embedded, so each file stands alone. Table cells carry their
results column in ``data-col`` and its exact value in ``data-value``. Many reports (a region's)
are written in worker processes (:mod:`.mapworkers`), with the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from .. import labels
from .. import results as R
from ..io import atomic_path, build_date, ensure_writable
from . import report_proposals as P
from . import report_sections as S
from .mapworkers import draw_all
from .report_everyday import everyday_context
from .report_timetable import timetable_context
from .tables import run_credits

if TYPE_CHECKING:
    from jinja2 import Environment

    from ..config import Config

TEMPLATE: str = "report.html.j2"
"""The page template (in ``arjenturva/export/templates``)."""

#: Reports written one after the other by one process, and how many of them cost about as much
#: as a map (so that they are written in worker processes only when there are many).
_PAGES_PER_SHARE: Final = 8
_PAGES_PER_MAP: Final = 4

#: The sections of a report in the navigation: (anchor, word).
NAV_SECTIONS: tuple[tuple[str, str], ...] = (
    ("key", "key"),
    ("services", "services_section"),
    ("gaps", "gaps"),
    ("proposals", "proposals"),
    ("maps", "maps"),
    ("settings", "settings"),
    ("sources", "sources"),
)


@dataclass(frozen=True)
class ReportData:
    """The parts of a results folder a report shows, read through the results contract."""

    summary: pd.DataFrame
    run: R.RunInfo
    gap_areas: pd.DataFrame | None
    proposals: pd.DataFrame | None
    proposals_summary: pd.DataFrame | None
    points: pd.Series | None
    """Service points per municipality code (None without the ``service_points`` layer)."""

    @property
    def municipalities(self) -> pd.DataFrame:
        """``municipality`` and ``municipality_name`` of the summary, one row each, by code."""
        return (
            self.summary[["municipality", "municipality_name"]]
            .drop_duplicates("municipality")
            .sort_values("municipality")
            .reset_index(drop=True)
        )


def read_report_data(results_dir: str | Path) -> ReportData:
    """Read the tables a report shows from a results folder.

    Raises
    ------
    ResultsError
        When ``summary.csv`` or ``run.json`` is missing, or a table breaks the results contract.
    """
    d = Path(results_dir)
    if not R.has_table(d, R.SUMMARY):
        msg = (
            f"{d / str(R.SUMMARY.csv)}: not found. Fix: run `arjenturva gaps` (or `run`) to write "
            "this results folder first"
        )
        raise R.ResultsError(msg)
    summary = R.read_table(d, R.SUMMARY)
    gap_areas = R.read_table(d, R.GAP_AREAS) if R.has_table(d, R.GAP_AREAS) else None
    proposals = R.read_table(d, R.PROPOSALS) if R.has_table(d, R.PROPOSALS) else None
    before_after = None
    if proposals is not None and R.has_table(d, R.PROPOSALS_SUMMARY):
        before_after = R.read_table(d, R.PROPOSALS_SUMMARY)
    points = None
    if R.SERVICE_POINTS.layer in R.list_layers(d):
        sp = R.read_layer(d, R.SERVICE_POINTS)
        points = sp["municipality"].astype(str).value_counts()
    return ReportData(summary, R.read_run(d), gap_areas, proposals, before_after, points)


def report_file_names(summary: pd.DataFrame) -> list[str]:
    """File names of the reports of a summary: ``report.html``, ``report_<code>.html``, then
    ``brief_<code>.html``."""
    codes = sorted(set(summary["municipality"].astype(str)))
    reports = [R.municipality_report_file(c) for c in codes]
    return [R.REPORT_FILE, *reports, *(R.municipality_brief_file(c) for c in codes)]


def report_environment() -> Environment:
    """The Jinja2 environment of the report templates (autoescaping on, undefined names fail)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("arjenturva.export", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def run_date(run: R.RunInfo, lang: str) -> str:
    """The date of the run in ``lang``'s format."""
    created = run.created[:10]
    try:
        return labels.format_date(date.fromisoformat(created), lang)
    except ValueError:
        return created


def words(lang: str) -> dict[str, str]:
    """Every word the templates use (:func:`labels.ui`)."""
    return dict(labels.ui(lang))


def dates_line(run: R.RunInfo, lang: str) -> str:
    """When the analysis ran and the report was made."""
    return (
        f"{S.word('run_date', lang).format(date=run_date(run, lang))} · "
        f"{S.word('report_date', lang).format(date=labels.format_date(build_date(), lang))}"
    )


def _nav(munis: pd.DataFrame, current: str | None, lang: str) -> dict[str, list[tuple[str, str]]]:
    """Links to the sections, and to the other reports (and a municipality's brief)."""
    others = []
    if current is not None:
        others = [(R.municipality_brief_file(current), S.word("brief_link", lang))]
        others.append((R.REPORT_FILE, S.word("all_link", lang)))
    others += [
        (R.municipality_report_file(str(code)), str(name))
        for code, name in zip(munis["municipality"], munis["municipality_name"], strict=True)
        if str(code) != current
    ]
    sections = [(f"#{anchor}", S.word(key, lang)) for anchor, key in NAV_SECTIONS]
    return {"nav": sections, "others": others}


def _page_context(
    data: ReportData,
    results_dir: Path,
    config: Config,
    lang: str,
    *,
    code: str | None,
    embed: bool,
) -> dict[str, Any]:
    """What the page template shows for all municipalities (``code`` None) or one."""
    munis = data.municipalities
    if code is None:
        summary, shown = data.summary, munis
        title = S.word("title_all", lang)
    else:
        summary = data.summary.loc[data.summary["municipality"] == code]
        shown = munis.loc[munis["municipality"] == code]
        title = S.word("title_muni", lang).format(name=shown["municipality_name"].iloc[0], code=code)
    codes = set(shown["municipality"].astype(str))
    overall = code is None
    return {
        "lang": lang,
        "w": words(lang),
        "title": title,
        "subtitle": config.name,
        "dates": dates_line(data.run, lang),
        **_nav(munis, code, lang),
        "cards": S.key_figures(summary, data.gap_areas, data.points, lang),
        "service_tables": S.service_tables(summary, config, lang, overall=overall),
        "has_gap_areas": data.gap_areas is not None,
        "gaps": None if data.gap_areas is None else S.gap_table(data.gap_areas, codes, config, lang),
        "proposals": (
            None
            if data.proposals is None
            else P.proposal_table(data.proposals, codes, config, lang, overall=overall)
        ),
        "before_after": (
            None
            if data.proposals is None
            else P.before_after_grid(summary, data.proposals_summary, config, lang, with_demand=False)
        ),
        "solver": P.solver_line(data.run, lang),
        "figures": S.map_figures(results_dir, shown, config, lang, embed=embed, framed=not overall),
        "settings": S.settings(config, data.run, lang),
        "credits": run_credits(data.run, lang),
        "inputs": S.input_files(data.run, lang),
        **everyday_context(summary, results_dir, config, lang, code=code, embed=embed),
        **timetable_context(results_dir, config, lang, code=code),
    }


def render_report(env: Environment, context: Mapping[str, Any]) -> str:
    """The HTML of one report."""
    return env.get_template(TEMPLATE).render(context)


def write_reports(
    results_dir: str | Path,
    config: Config,
    *,
    lang: str | None = None,
    force: bool = False,
    embed_images: bool = True,
    workers: int | None = None,
) -> list[Path]:
    """Write the HTML reports of a results folder.

    ``report.html`` covers all municipalities (a comparison table, a table per service with one
    row per municipality); ``report_<code>.html`` one municipality (one table, a row per
    service). Both hold key figures, the largest gap areas, the proposals with their
    rationales and the coverage before and after them when ``proposals.csv`` exists, how the
    solver did, the maps found in ``maps/`` (the region's in ``report.html``, those framed on
    the municipality in its report), the settings (thresholds per service), the data sources,
    credits and dates. ``brief_<code>.html`` (:func:`.brief.brief_context`) is a municipality's
    brief on at most four printed pages: key figures, the worst gaps, the agreements with their
    site and coverage before and after, and one map.

    Parameters
    ----------
    results_dir
        A results folder holding ``summary.csv`` and ``run.json`` (and ``gap_areas.csv``,
        ``proposals.csv``, ``results.gpkg`` and ``maps/`` when present).
    config
        The workspace config (labels, thresholds).
    lang
        ``fi`` or ``en`` (default ``config.language``).
    force
        Overwrite existing reports.
    embed_images
        Embed the maps as base64 data (the default: one self-contained file each, which can be
        mailed alone); false links ``maps/*.png`` relatively.
    workers
        Processes writing the reports (default: forked workers when there are many reports, see
        :func:`.mapworkers.worker_count`; 1 writes them in this process). The files are the same
        bytes either way.

    Returns
    -------
    list of Path
        The reports written: the overall one, the municipalities' reports, then their briefs.

    Raises
    ------
    InputFileError
        When ``summary.csv`` is missing, or a table breaks the results contract
        (:class:`~arjenturva.results.ResultsError`).
    OutputExistsError
        When a report exists and ``force`` is false.
    """
    language = labels.resolve_language(config, lang)
    results_dir = Path(results_dir)
    data = read_report_data(results_dir)
    targets = [results_dir / n for n in report_file_names(data.summary)]
    ensure_writable(targets, force=force)
    muni_codes = [str(c) for c in data.municipalities["municipality"]]
    codes: list[str | None] = [None, *muni_codes]
    pages = [(t, c, False) for t, c in zip(targets, codes, strict=False)]
    pages += [(t, c, True) for t, c in zip(targets[len(codes) :], muni_codes, strict=True)]
    shares = [pages[i : i + _PAGES_PER_SHARE] for i in range(0, len(pages), _PAGES_PER_SHARE)]
    shared = _Pages(data, results_dir, config, language, embed_images)
    weights = [len(s) / _PAGES_PER_MAP for s in shares]
    written = draw_all(_write_pages, shared, shares, weights=weights, workers=workers)
    return [path for paths in written for path in paths]


@dataclass(frozen=True)
class _Pages:
    """What every report of one :func:`write_reports` call is made from."""

    data: ReportData
    results_dir: Path
    config: Config
    lang: str
    embed: bool


def _write_pages(shared: _Pages, pages: Sequence[tuple[Path, str | None, bool]]) -> list[Path]:
    """Write reports (``brief`` false; all municipalities when ``code`` is None) and briefs,
    each ``(target, code, brief)`` (in a worker process when there are many)."""
    from .brief import BRIEF_TEMPLATE, brief_context  # brief builds on this module

    env = report_environment()
    d, out = shared, []
    for target, code, brief in pages:
        if brief:
            context = brief_context(d.data, d.results_dir, d.config, d.lang, code=str(code), embed=d.embed)
            out.append(_write(env.get_template(BRIEF_TEMPLATE).render(context), target))
        else:
            context = _page_context(d.data, d.results_dir, d.config, d.lang, code=code, embed=d.embed)
            out.append(_write(render_report(env, context), target))
    return out


def _write(text: str, path: Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path

"""The report sections of everyday security (issue 19): the service basket and an actor leaving.

- "Arkiturva-kori" / "Everyday service basket" (when the config has ``gaps.basket`` and the
  summary its columns): the basket's services, per municipality the share of residents (and of
  those aged 65+) reaching all of it and the residents lacking 1, 2, and 3 or more of its services
  (``summary.csv``, row ``ALL``), and the basket's maps (:mod:`.everyday_maps`) when drawn;
- "Kun toimija lopettaa" / "When an actor leaves" (when the folder has ``stress.csv``, written by
  ``arjenturva stress``): the top actor rows of the municipality (or of all municipalities), by
  rank: actor, sector, service, the demand losing coverage and those of it aged 65+.

The sections are view models of :mod:`.report_sections` (tables of cells carrying their results
column and exact value), laid out by ``templates/report_everyday.html.j2`` with autoescaping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from .. import labels
from .. import results as R
from . import report_sections as S
from .everyday_maps import BASKET_MAP, BASKET_MUNICIPALITIES_MAP

if TYPE_CHECKING:
    from ..config import Config

#: Rows of the section on an actor leaving.
STRESS_ROWS: Final = 10

#: The basket's columns of the summary's ``ALL`` rows and how they are shown.
BASKET_COLUMNS: Final[tuple[tuple[str, S.Kind], ...]] = (
    ("basket_share", "share"),
    ("basket_share_65_plus", "share"),
    ("basket_lacking_1", "int"),
    ("basket_lacking_2", "int"),
    ("basket_lacking_3_plus", "int"),
)


@dataclass(frozen=True)
class BasketSection:
    """The basket's section: its services, a row per municipality and its maps."""

    services: str
    grid: S.Grid
    figures: tuple[S.Figure, ...]


@dataclass(frozen=True)
class StressSection:
    """The section on an actor leaving: the top rows of ``stress.csv``."""

    grid: S.Grid
    n: int


def basket_section(
    summary: pd.DataFrame, results_dir: Path, config: Config, lang: str, *, codes: set[str], embed: bool
) -> BasketSection | None:
    """The basket's section for the municipalities ``codes``; None without a basket."""
    if not config.gaps.basket or "basket_share" not in summary:
        return None
    rows = summary.loc[(summary["service"] == "ALL") & summary["municipality"].astype(str).isin(codes)]
    rows = rows.sort_values("municipality")
    headers = (S.word("municipality", lang), *(S.word(col, lang) for col, _ in BASKET_COLUMNS))
    grid_rows = tuple(
        S.Row(
            (
                S.Cell(
                    str(r["municipality_name"]),
                    col="municipality_name",
                    value=S.exact(r["municipality_name"]),
                ),
                *(S.number_cell(col, r[col], kind, lang) for col, kind in BASKET_COLUMNS),
            ),
            attrs=(("municipality", str(r["municipality"])),),
        )
        for _, r in rows.iterrows()
    )
    figures = []
    for name, caption in ((BASKET_MAP, "basket_caption"), (BASKET_MUNICIPALITIES_MAP, "basket_muni_caption")):
        path = results_dir / R.MAPS_DIR / name
        if path.exists():
            figures.append(S.Figure(S.image_src(path, results_dir, embed=embed), S.word(caption, lang)))
    services = ", ".join(labels.service_label(config, s, lang) for s in config.gaps.basket)
    return BasketSection(services, S.Grid(headers, grid_rows, css_class="basket"), tuple(figures))


def top_stress_rows(stress: pd.DataFrame, codes: set[str], n: int = STRESS_ROWS) -> pd.DataFrame:
    """The ``n`` actor rows of ``stress.csv`` of the municipalities ``codes`` with the best rank."""
    rows = stress.loc[(stress["level"] == "actor") & stress["municipality"].astype(str).isin(codes)]
    return rows.sort_values(["rank", "municipality", "actor_id", "service"], kind="stable").head(n)


def stress_section(
    results_dir: Path, config: Config, lang: str, *, codes: set[str], overall: bool
) -> StressSection | None:
    """The section on an actor leaving; None when the folder has no ``stress.csv``."""
    if not R.has_table(results_dir, R.STRESS):
        return None
    top = top_stress_rows(R.read_table(results_dir, R.STRESS), codes)
    headers = [S.word("actor", lang), S.word("sector", lang), S.word("service", lang)]
    if overall:
        headers.append(S.word("municipality", lang))
    headers += [S.word("stress_demand", lang), S.word("stress_65_plus", lang)]
    rows = []
    for _, r in top.iterrows():
        cells = [
            S.Cell(str(r["actor_name"]), col="actor_name", value=S.exact(r["actor_name"])),
            S.Cell(
                labels.label(labels.SECTOR, str(r["sector"]), lang), col="sector", value=S.exact(r["sector"])
            ),
            S.Cell(
                S.service_text(config, str(r["service"]), r["service_label"], lang),
                col="service",
                value=S.exact(r["service"]),
            ),
        ]
        if overall:
            name = r["municipality_name"]
            cells.append(S.Cell(str(name), col="municipality_name", value=S.exact(name)))
        cells += [
            S.number_cell("demand_losing_coverage", r["demand_losing_coverage"], "int", lang),
            S.number_cell("people_65_plus_losing_coverage", r["people_65_plus_losing_coverage"], "int", lang),
        ]
        attrs = (
            ("rank", str(r["rank"])),
            ("actor", str(r["actor_id"])),
            ("municipality", str(r["municipality"])),
        )
        rows.append(S.Row(tuple(cells), attrs=attrs))
    return StressSection(S.Grid(tuple(headers), tuple(rows), css_class="stress"), len(rows))


def everyday_context(
    summary: pd.DataFrame, results_dir: Path, config: Config, lang: str, *, code: str | None, embed: bool
) -> dict[str, Any]:
    """The template context of the sections (``everyday_basket``, ``everyday_stress``, each None
    when not shown) of the report of all municipalities (``code`` None) or of one."""
    codes = {str(c) for c in summary["municipality"]} if code is None else {str(code)}
    return {
        "everyday_basket": basket_section(summary, results_dir, config, lang, codes=codes, embed=embed),
        "everyday_stress": stress_section(results_dir, config, lang, codes=codes, overall=code is None),
    }

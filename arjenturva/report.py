"""HTML reports of a results folder: ``report.html`` (all municipalities) and ``report_<code>.html``.

Each report holds key figures, indicator tables from ``summary.csv``, the largest gap areas, the
partnership proposals with their rationales (when ``proposals.csv`` exists), the maps of
``maps/``, the settings (thresholds per service), the data sources with their attributions and
the dates. Plain HTML and CSS with a print style sheet; every text from data or config is
escaped. Table cells carry their exact value in ``data-value`` (and the column in ``data-col``)
so scripts and tests can read the figures back.
"""

from __future__ import annotations

import base64
import html
import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import Config
from .errors import InputFileError
from .io import atomic_path, ensure_writable
from .maps import (
    ATTRIBUTION_LINES,
    DEMAND_LABELS,
    format_number,
    format_threshold,
    list_layers,
    resolve_language,
    service_label,
)
from .outputs import ATTRIBUTION, read_run, read_summary
from .schema import SECTOR_LABELS

#: Indicator columns of the service tables: (column, kind) with kind ``int``, ``share`` or ``km``/``min``.
SERVICE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("demand", "int"),
    ("covered_share", "share"),
    ("uncovered_population", "int"),
    ("uncovered_65_plus", "int"),
    ("uncovered_sparse", "int"),
    ("unreachable_population", "int"),
    ("mean_distance_km", "km"),
    ("median_distance_km", "km"),
    ("p90_distance_km", "km"),
    ("mean_time_min", "min"),
)

#: Columns of the municipality comparison (``service = ALL`` rows).
ALL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("population", "int"),
    ("covered_share", "share"),
    ("services_with_gaps", "int"),
    ("population_lacking_any_service", "int"),
)

TEXT: dict[str, dict[str, str]] = {
    "fi": {
        "title_all": "Arjen palveluverkko: kaikki kunnat",
        "title_muni": "Arjen palveluverkko: {name} ({code})",
        "contents": "Sisältö",
        "overall": "Yhteenveto (kaikki kunnat)",
        "key": "Tunnusluvut",
        "services": "Palvelukohtaiset tunnusluvut",
        "municipalities": "Kunnat",
        "gaps": "Suurimmat palveluaukot",
        "proposals": "Kumppanuusehdotukset",
        "maps": "Kartat",
        "settings": "Asetukset",
        "sources": "Aineistot ja lähteet",
        "run_date": "Analyysi ajettu {date}",
        "report_date": "Raportti laadittu {date}",
        "k_population": "Asukkaita",
        "k_covered": "Kysynnästä palvelujen piirissä (keskiarvo)",
        "k_services_gaps": "Palveluja, joissa aukkoja",
        "k_lacking": "Asukkaita, joilta puuttuu jokin palvelu",
        "k_points": "Palvelupisteitä",
        "k_gap_areas": "Palveluaukkoalueita",
        "municipality": "Kunta",
        "service": "Palvelu",
        "demand": "Kysyntä",
        "population": "Asukkaita",
        "covered_share": "Piirissä",
        "uncovered_population": "Ulkopuolella",
        "uncovered_65_plus": "Ulkopuolella 65+",
        "uncovered_sparse": "Ulkopuolella, harvaan asuttu",
        "unreachable_population": "Ei tieyhteyttä",
        "mean_distance_km": "Etäisyys ka. (km)",
        "median_distance_km": "Mediaani (km)",
        "p90_distance_km": "90 % (km)",
        "mean_time_min": "Aika ka. (min)",
        "services_with_gaps": "Palveluja, joissa aukkoja",
        "population_lacking_any_service": "Asukkaita, joilta puuttuu palvelu",
        "place": "Alue",
        "cells": "Ruutuja",
        "age_65_plus": "65+",
        "site_distance_km": "Etäisyys lähimpään (km)",
        "no_gaps": "Ei palveluaukkoja.",
        "no_proposals": "Ehdotuksia ei ole vielä laadittu (aja `arjenturva propose`).",
        "no_maps": "Karttoja ei ole vielä piirretty (aja `arjenturva map`).",
        "actor": "Toimija",
        "sector": "Sektori",
        "mode": "Muoto",
        "days_per_week": "Päiviä/vko",
        "covered": "Kattaa asukkaita",
        "covered_65": "Kattaa 65+",
        "distance_km": "Etäisyys (km)",
        "rationale": "Perustelu",
        "gap_area": "Aukkoalue",
        "threshold": "Kynnys",
        "mobile": "Liikkuva palvelu",
        "remote": "Etäpalvelu",
        "sectors": "Sallitut sektorit",
        "mobile_rule": "täysi kattavuus {d} pv/vko",
        "remote_rule": "lasketaan {w}",
        "not_counted": "ei lasketa",
        "general": "Yleiset asetukset",
        "suppress": "Alle {n} asukkaan ruutuja ei näytetä yksittäin; ne sisältyvät kaikkiin summiin.",
        "cost": "Lähimmän palvelun mittari: {cost}",
        "cost_distance": "tieetäisyys",
        "cost_time": "matka-aika",
        "area_classes": "Aluetyypit: {source}",
        "config_hash": "Asetusten tunniste (config hash): {h}",
        "inputs": "Lähtöaineistot",
        "file": "Tiedosto",
        "checksum": "Tarkiste (SHA-256, 16 merkkiä)",
        "attribution": "Tekijänoikeudet ja lisenssit",
        "fixed": "kiinteä",
        "mobile_mode": "liikkuva",
        "remote_mode": "etäpalvelu",
        "overview_caption": "{name}: kuinka monta palvelua jää kynnysetäisyyden ulkopuolelle",
        "service_caption": "{label}: tieetäisyys lähimpään palvelupisteeseen",
        "all_link": "Kaikki kunnat",
        "print": "Tulosta",
        "top_n": "{n} suurinta aukkoaluetta asukasmäärän mukaan (kaikki: gap_areas.csv).",
        "shares_note": "Piirissä = osuus palvelun kysynnästä kynnysetäisyyden sisällä; etäisyydet ovat "
        "väestöllä painotettuja tieetäisyyksiä lähimpään palvelupisteeseen.",
    },
    "en": {
        "title_all": "Everyday service network: all municipalities",
        "title_muni": "Everyday service network: {name} ({code})",
        "contents": "Contents",
        "overall": "Overview (all municipalities)",
        "key": "Key figures",
        "services": "Indicators per service",
        "municipalities": "Municipalities",
        "gaps": "Largest coverage gaps",
        "proposals": "Partnership proposals",
        "maps": "Maps",
        "settings": "Settings",
        "sources": "Data and sources",
        "run_date": "Analysis run {date}",
        "report_date": "Report created {date}",
        "k_population": "Population",
        "k_covered": "Demand covered (mean over services)",
        "k_services_gaps": "Services with gaps",
        "k_lacking": "Residents lacking at least one service",
        "k_points": "Service points",
        "k_gap_areas": "Gap areas",
        "municipality": "Municipality",
        "service": "Service",
        "demand": "Demand",
        "population": "Population",
        "covered_share": "Covered",
        "uncovered_population": "Not covered",
        "uncovered_65_plus": "Not covered, 65+",
        "uncovered_sparse": "Not covered, sparse areas",
        "unreachable_population": "No road access",
        "mean_distance_km": "Mean distance (km)",
        "median_distance_km": "Median (km)",
        "p90_distance_km": "90th pct (km)",
        "mean_time_min": "Mean time (min)",
        "services_with_gaps": "Services with gaps",
        "population_lacking_any_service": "Residents lacking a service",
        "place": "Area",
        "cells": "Cells",
        "age_65_plus": "65+",
        "site_distance_km": "Distance to nearest (km)",
        "no_gaps": "No coverage gaps.",
        "no_proposals": "No proposals yet (run `arjenturva propose`).",
        "no_maps": "No maps drawn yet (run `arjenturva map`).",
        "actor": "Actor",
        "sector": "Sector",
        "mode": "Mode",
        "days_per_week": "Days/week",
        "covered": "Residents covered",
        "covered_65": "65+ covered",
        "distance_km": "Distance (km)",
        "rationale": "Rationale",
        "gap_area": "Gap area",
        "threshold": "Threshold",
        "mobile": "Mobile service",
        "remote": "Remote service",
        "sectors": "Allowed sectors",
        "mobile_rule": "full coverage at {d} days/week",
        "remote_rule": "counts {w}",
        "not_counted": "not counted",
        "general": "General settings",
        "suppress": "Cells with fewer than {n} residents are not shown individually; "
        "they count in every total.",
        "cost": "Nearest service by: {cost}",
        "cost_distance": "road distance",
        "cost_time": "travel time",
        "area_classes": "Area classes: {source}",
        "config_hash": "Settings fingerprint (config hash): {h}",
        "inputs": "Input data",
        "file": "File",
        "checksum": "Checksum (SHA-256, 16 characters)",
        "attribution": "Copyright and licences",
        "fixed": "fixed",
        "mobile_mode": "mobile",
        "remote_mode": "remote",
        "overview_caption": "{name}: how many services are beyond their threshold distance",
        "service_caption": "{label}: road distance to the nearest service point",
        "all_link": "All municipalities",
        "print": "Print",
        "top_n": "The {n} largest gap areas by population (all of them: gap_areas.csv).",
        "shares_note": "Covered = share of the service's demand within its threshold; distances are "
        "population-weighted road distances to the nearest service point.",
    },
}

SOURCES: dict[str, tuple[str, ...]] = {
    "fi": (
        "Tiestö: © OpenStreetMap-tekijät, ODbL 1.0 (openstreetmap.org/copyright) tai "
        "Maanmittauslaitos, CC BY 4.0.",
        "Kuntarajat ja väestöruudut: © Tilastokeskus (Statistics Finland), CC BY 4.0.",
        "Kaupunki–maaseutu-luokitus: © Suomen ympäristökeskus (SYKE), CC BY 4.0, kun käytetty.",
        "Palvelupisteet ja toimijat: työtilan omat aineistot.",
    ),
    "en": (
        "Roads: © OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright) or "
        "National Land Survey of Finland, CC BY 4.0.",
        "Municipal boundaries and population grid: © Statistics Finland, CC BY 4.0.",
        "Urban–rural classification: © Finnish Environment Institute (SYKE), CC BY 4.0, where used.",
        "Service points and actors: the workspace's own data.",
    ),
}

CSS = """
:root { --ink: #1d2327; --muted: #5b6770; --line: #d5dbe0; --accent: #0b5a7a; --bg: #f6f8f9; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0; background: white; }
header { background: var(--accent); color: white; padding: 24px 32px 18px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 2px 0; opacity: 0.92; }
nav { padding: 10px 32px; background: var(--bg); border-bottom: 1px solid var(--line); font-size: 14px; }
nav a { color: var(--accent); margin-right: 14px; white-space: nowrap; }
main { padding: 8px 32px 32px; max-width: 1280px; }
h2 { font-size: 20px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; margin-top: 34px; }
h3 { font-size: 16px; margin: 22px 0 6px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 180px;
        background: var(--bg); }
.card .v { font-size: 24px; font-weight: 700; }
.card .l { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 9px; vertical-align: top; }
th { background: var(--bg); text-align: left; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.r { max-width: 460px; }
.note { color: var(--muted); font-size: 13px; }
figure { margin: 14px 0 22px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; }
footer { padding: 14px 32px; color: var(--muted); font-size: 12.5px; border-top: 1px solid var(--line); }
.print-btn { float: right; background: white; color: var(--accent); border: 0; border-radius: 4px;
             padding: 4px 10px; cursor: pointer; font: inherit; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { font-size: 10pt; }
  header { background: none; color: black; padding: 0 0 6px; border-bottom: 2px solid black; }
  nav, .print-btn { display: none; }
  main { padding: 0; max-width: none; }
  h2 { break-after: avoid; border-color: black; }
  h3 { break-after: avoid; }
  table { font-size: 8.5pt; }
  thead { display: table-header-group; }
  tr, figure, .card { break-inside: avoid; }
  figure { break-before: auto; }
  a { color: inherit; text-decoration: none; }
  .card { background: none; }
  th { background: #eee; }
}
"""


def _e(value: Any) -> str:
    """Escape any value for HTML text or attribute content."""
    return html.escape("" if value is None else str(value), quote=True)


def _raw(value: Any) -> str:
    """The exact value for a ``data-value`` attribute (empty for missing numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
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


def _fmt(value: Any, kind: str, lang: str) -> str:
    if kind == "share":
        try:
            v = float(value)
        except (TypeError, ValueError):
            return ""
        return f"{format_number(v * 100, lang, 1)}\u00a0%" if math.isfinite(v) else ""
    if kind in ("km", "min"):
        return format_number(value, lang, 1)
    if kind == "int":
        return format_number(value, lang, 0)
    return _e(value)


def _num_cell(col: str, value: Any, kind: str, lang: str) -> str:
    return f'<td class="n" data-col="{_e(col)}" data-value="{_e(_raw(value))}">{_fmt(value, kind, lang)}</td>'


def _today(lang: str) -> str:
    d = date.today()
    return f"{d.day}.{d.month}.{d.year}" if lang == "fi" else d.isoformat()


def _run_date(run: dict[str, Any], lang: str) -> str:
    created = str(run.get("created", ""))[:10]
    try:
        d = date.fromisoformat(created)
    except ValueError:
        return created
    return f"{d.day}.{d.month}.{d.year}" if lang == "fi" else d.isoformat()


def _mode_label(mode: Any, lang: str) -> str:
    t = TEXT[lang]
    key = {"fixed": "fixed", "mobile": "mobile_mode", "remote": "remote_mode"}.get(str(mode))
    return t[key] if key else _e(mode)


# ---------------------------------------------------------------------------------------------
# Reading a results folder
# ---------------------------------------------------------------------------------------------


def _read_csv_if(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    return pd.read_csv(path, dtype={"municipality": str, "gap_area_id": str})


def _count_points(results_dir: Path) -> pd.Series | None:
    """Service points per municipality from ``results.gpkg`` (None when unavailable)."""
    gpkg = results_dir / "results.gpkg"
    if "service_points" not in list_layers(gpkg):
        return None
    import pyogrio

    df = pyogrio.read_dataframe(gpkg, layer="service_points", read_geometry=False)
    if "municipality" not in df:
        return None
    return df["municipality"].astype(str).value_counts()


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


def _key_figures(
    summary: pd.DataFrame, gap_areas: pd.DataFrame | None, points: pd.Series | None, lang: str
) -> str:
    t = TEXT[lang]
    allrows = summary.loc[summary["service"] == "ALL"]
    svc = summary.loc[summary["service"] != "ALL"]
    cards: list[tuple[str, str, Any, str]] = []
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
    if "services_with_gaps" in allrows and len(allrows) == 1:
        cards.append(("k_services_gaps", "services_with_gaps", allrows["services_with_gaps"].iloc[0], "int"))
    else:
        n = svc.loc[svc["uncovered_population"] > 0, "service"].nunique()
        cards.append(("k_services_gaps", "services_with_gaps", n, "int"))
    if "population_lacking_any_service" in allrows and not allrows.empty:
        cards.append(
            (
                "k_lacking",
                "population_lacking_any_service",
                allrows["population_lacking_any_service"].sum(),
                "int",
            )
        )
    if points is not None:
        codes = set(summary["municipality"].astype(str))
        cards.append(("k_points", "service_points", int(points[points.index.isin(codes)].sum()), "int"))
    if gap_areas is not None:
        codes = set(summary["municipality"].astype(str))
        n_gaps = int(gap_areas["municipality"].astype(str).isin(codes).sum())
        cards.append(("k_gap_areas", "gap_areas", n_gaps, "int"))
    body = "".join(
        f'<div class="card"><div class="v" data-col="{_e(col)}" data-value="{_e(_raw(value))}">'
        f'{_fmt(value, kind, lang)}</div><div class="l">{_e(t[key])}</div></div>'
        for key, col, value, kind in cards
    )
    return f'<section id="key"><h2>{_e(t["key"])}</h2><div class="cards">{body}</div></section>'


def _table(
    rows: pd.DataFrame,
    first: list[tuple[str, str]],
    columns: tuple[tuple[str, str], ...],
    config: Config,
    lang: str,
) -> str:
    """An indicator table: ``first`` are (header, column-of-label) text columns, then numbers."""
    t = TEXT[lang]
    head = "".join(f"<th>{_e(h)}</th>" for h, _c in first) + "".join(
        f"<th>{_e(t[c])}</th>" for c, _k in columns if c in rows
    )
    body = []
    for _, r in rows.iterrows():
        attrs = f'data-municipality="{_e(r["municipality"])}" data-service="{_e(r["service"])}"'
        cells = []
        for _h, col in first:
            if col == "service_label":
                text = (
                    service_label(config, r["service"], lang)
                    if r["service"] in config.services
                    else r.get("service_label", r["service"])
                )
            else:
                text = r.get(col, "")
            cells.append(f"<td>{_e(text)}</td>")
        cells += [_num_cell(c, r[c], k, lang) for c, k in columns if c in rows]
        body.append(f"<tr {attrs}>{''.join(cells)}</tr>")
    return f'<table class="indicators"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _services_section(summary: pd.DataFrame, config: Config, lang: str, *, overall: bool) -> str:
    t = TEXT[lang]
    svc = summary.loc[summary["service"] != "ALL"]
    parts = [f'<section id="services"><h2>{_e(t["services"])}</h2><p class="note">{_e(t["shares_note"])}</p>']
    if overall:
        allrows = summary.loc[summary["service"] == "ALL"]
        if not allrows.empty:
            parts.append(f"<h3>{_e(t['municipalities'])}</h3>")
            parts.append(
                _table(allrows, [(t["municipality"], "municipality_name")], ALL_COLUMNS, config, lang)
            )
        order = [s for s in config.services if s in set(svc["service"])]
        order += sorted(set(svc["service"]) - set(order))
        for s in order:
            rows = svc.loc[svc["service"] == s]
            label = service_label(config, s, lang) if s in config.services else rows["service_label"].iloc[0]
            parts.append(f'<h3 id="svc-{_e(s)}">{_e(label)}</h3>')
            parts.append(
                _table(rows, [(t["municipality"], "municipality_name")], SERVICE_COLUMNS, config, lang)
            )
    else:
        rank = {s: i for i, s in enumerate(config.services)}
        rows = svc.assign(_o=svc["service"].map(lambda s: rank.get(s, len(rank)))).sort_values("_o")
        parts.append(_table(rows, [(t["service"], "service_label")], SERVICE_COLUMNS, config, lang))
    parts.append("</section>")
    return "".join(parts)


def _gaps_section(
    gap_areas: pd.DataFrame | None, codes: set[str], config: Config, lang: str, n: int = 15
) -> str:
    t = TEXT[lang]
    head = f'<section id="gaps"><h2>{_e(t["gaps"])}</h2>'
    if gap_areas is None:
        return ""
    ga = gap_areas.loc[gap_areas["municipality"].astype(str).isin(codes)]
    ga = ga.loc[pd.to_numeric(ga["uncovered_population"], errors="coerce").fillna(0) > 0]
    if ga.empty:
        return f"{head}<p>{_e(t['no_gaps'])}</p></section>"
    ga = ga.sort_values("uncovered_population", ascending=False).head(n)
    cols = [
        ("uncovered_population", "int"),
        ("age_65_plus", "int"),
        ("cells", "int"),
        ("site_distance_km", "km"),
    ]
    hdr = [t["gap_area"], t["place"], t["service"], t["uncovered_population"], t["age_65_plus"], t["cells"]]
    hdr.append(t["site_distance_km"])
    rows = []
    for _, r in ga.iterrows():
        d = pd.to_numeric(pd.Series([r.get("site_distance_m")]), errors="coerce").iloc[0]
        vals = {**r.to_dict(), "site_distance_km": d / 1000 if pd.notna(d) else float("nan")}
        cells = [
            f"<td>{_e(r['gap_area_id'])}</td>",
            f"<td>{_e('' if pd.isna(r.get('place')) else r.get('place'))}</td>",
            f"<td>{_e(service_label(config, str(r['service']), lang))}</td>",
        ]
        cells += [_num_cell(c, vals.get(c), k, lang) for c, k in cols]
        rows.append(f'<tr data-gap-area="{_e(r["gap_area_id"])}">{"".join(cells)}</tr>')
    table = (
        f"<table><thead><tr>{''.join(f'<th>{_e(h)}</th>' for h in hdr)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return f'{head}<p class="note">{_e(t["top_n"].format(n=len(ga)))}</p>{table}</section>'


def _first_col(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    return next((c for c in names if c in df), None)


def _proposals_section(proposals: pd.DataFrame | None, codes: set[str], config: Config, lang: str) -> str:
    t = TEXT[lang]
    head = f'<section id="proposals"><h2>{_e(t["proposals"])}</h2>'
    if proposals is None:
        return f'{head}<p class="note">{_e(t["no_proposals"])}</p></section>'
    df = proposals
    if "municipality" in df:
        df = df.loc[df["municipality"].astype(str).isin(codes)]
    if df.empty:
        return f'{head}<p class="note">{_e(t["no_proposals"])}</p></section>'
    spec: list[tuple[str, str | None, str]] = [
        ("municipality", _first_col(df, ("municipality_name", "municipality")), "text"),
        ("gap_area", _first_col(df, ("gap_area_id", "gap_area")), "text"),
        ("service", _first_col(df, ("service",)), "service"),
        ("actor", _first_col(df, ("actor_name", "actor", "actor_id")), "text"),
        ("sector", _first_col(df, ("sector",)), "sector"),
        ("mode", _first_col(df, ("mode",)), "mode"),
        ("days_per_week", _first_col(df, ("days_per_week",)), "int"),
        ("covered", _first_col(df, ("covered_population", "demand_covered", "population_covered")), "int"),
        ("covered_65", _first_col(df, ("covered_65_plus", "demand_covered_65_plus")), "int"),
        ("distance_km", _first_col(df, ("distance_km",)), "km"),
        ("rationale", _first_col(df, ("rationale",)), "rationale"),
    ]
    if "distance_km" not in df and "distance_m" in df:
        df = df.assign(distance_km=pd.to_numeric(df["distance_m"], errors="coerce") / 1000)
        spec[9] = ("distance_km", "distance_km", "km")
    present = [(k, c, kind) for k, c, kind in spec if c is not None]
    hdr = "".join(f"<th>{_e(t[k])}</th>" for k, _c, _kind in present)
    rows = []
    for _, r in df.iterrows():
        cells = []
        for _k, col, kind in present:
            v = r[col]
            if kind in ("int", "km"):
                cells.append(_num_cell(str(col), v, kind, lang))
                continue
            if pd.isna(v):
                text = ""
            elif kind == "service":
                text = service_label(config, str(v), lang)
            elif kind == "sector":
                text = SECTOR_LABELS.get(str(v), {}).get(lang, str(v))
            elif kind == "mode":
                text = _mode_label(v, lang)
            else:
                text = str(v)
            cls = ' class="r"' if kind == "rationale" else ""
            cells.append(f'<td{cls} data-col="{_e(col)}">{_e(text)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"{head}<table><thead><tr>{hdr}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"


def _img(path: Path, results_dir: Path, embed: bool) -> str:
    if embed:
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    return path.relative_to(results_dir).as_posix()


def _maps_section(results_dir: Path, munis: pd.DataFrame, config: Config, lang: str, *, embed: bool) -> str:
    t = TEXT[lang]
    figs = []
    maps_dir = results_dir / "maps"
    for _, m in munis.iterrows():
        p = maps_dir / f"overview_{m['municipality']}.png"
        if p.exists():
            cap = t["overview_caption"].format(name=m["municipality_name"])
            figs.append((p, cap))
    for s in config.services:
        p = maps_dir / f"{s}.png"
        if p.exists():
            figs.append((p, t["service_caption"].format(label=service_label(config, s, lang))))
    head = f'<section id="maps"><h2>{_e(t["maps"])}</h2>'
    if not figs:
        return f'{head}<p class="note">{_e(t["no_maps"])}</p></section>'
    body = "".join(
        f'<figure><img src="{_e(_img(p, results_dir, embed))}" alt="{_e(cap)}" loading="lazy">'
        f"<figcaption>{_e(cap)}</figcaption></figure>"
        for p, cap in figs
    )
    return head + body + "</section>"


def _settings_section(config: Config, run: dict[str, Any], lang: str) -> str:
    t = TEXT[lang]
    rows = []
    for sid, svc in config.services.items():
        mobile = (
            t["mobile_rule"].format(d=format_number(svc.mobile.required_days, lang, 0))
            if svc.mobile
            else t["not_counted"]
        )
        remote = (
            t["remote_rule"].format(w=format_number(svc.remote, lang, 1)) if svc.remote else t["not_counted"]
        )
        sectors = ", ".join(SECTOR_LABELS.get(s, {}).get(lang, s) for s in svc.sectors)
        demand = DEMAND_LABELS.get(svc.demand, {}).get(lang, svc.demand)
        rows.append(
            f'<tr data-service="{_e(sid)}"><td>{_e(service_label(config, sid, lang))}</td>'
            f"<td>{_e(format_threshold(svc, lang))}</td><td>{_e(demand)}</td><td>{_e(mobile)}</td>"
            f"<td>{_e(remote)}</td><td>{_e(sectors)}</td></tr>"
        )
    hdr = "".join(
        f"<th>{_e(h)}</th>"
        for h in (t["service"], t["threshold"], t["demand"], t["mobile"], t["remote"], t["sectors"])
    )
    general = [
        t["suppress"].format(n=config.export.suppress_below),
        t["cost"].format(cost=t["cost_distance"] if config.network.cost == "distance" else t["cost_time"]),
    ]
    if run.get("area_classes"):
        general.append(t["area_classes"].format(source=run["area_classes"]))
    general.append(t["config_hash"].format(h=run.get("config_hash") or config.digest()))
    items = "".join(f"<li>{_e(g)}</li>" for g in general)
    return (
        f'<section id="settings"><h2>{_e(t["settings"])}</h2>'
        f"<table><thead><tr>{hdr}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<h3>{_e(t['general'])}</h3><ul>{items}</ul></section>"
    )


def _sources_section(run: dict[str, Any], lang: str) -> str:
    t = TEXT[lang]
    src = "".join(f"<li>{_e(s)}</li>" for s in SOURCES[lang])
    inputs = run.get("inputs") or {}
    rows = "".join(
        f"<tr><td>{_e(name)}</td><td>{_e(Path(str(v.get('path', ''))).name)}</td>"
        f"<td><code>{_e(v.get('sha256_16') or '')}</code></td></tr>"
        for name, v in inputs.items()
        if isinstance(v, dict)
    )
    table = (
        f"<h3>{_e(t['inputs'])}</h3><table><thead><tr><th></th><th>{_e(t['file'])}</th>"
        f"<th>{_e(t['checksum'])}</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    attribution = run.get("attribution") or ATTRIBUTION
    return (
        f'<section id="sources"><h2>{_e(t["sources"])}</h2><ul>{src}</ul>'
        f'<h3>{_e(t["attribution"])}</h3><p class="attribution">{_e(attribution)}</p>'
        f'<p class="attribution">{_e(" · ".join(ATTRIBUTION_LINES[lang]))}</p>{table}</section>'
    )


def _page(title: str, subtitle: str, dates: str, nav: str, sections: list[str], lang: str) -> str:
    t = TEXT[lang]
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<header><button class="print-btn" onclick="window.print()">{_e(t["print"])}</button>'
        f"<h1>{_e(title)}</h1><p>{_e(subtitle)}</p><p>{_e(dates)}</p></header>\n"
        f"<nav>{nav}</nav>\n<main>\n{''.join(sections)}\n</main>\n"
        f"<footer>{_e(' · '.join(ATTRIBUTION_LINES[lang]))} · arjenturva</footer>\n</body>\n</html>\n"
    )


def _nav(lang: str, munis: pd.DataFrame, current: str | None) -> str:
    t = TEXT[lang]
    links = [
        f'<a href="#{a}">{_e(t[k])}</a>'
        for a, k in (
            ("key", "key"),
            ("services", "services"),
            ("gaps", "gaps"),
            ("proposals", "proposals"),
            ("maps", "maps"),
            ("settings", "settings"),
            ("sources", "sources"),
        )
    ]
    others = []
    if current is not None:
        others.append(f'<a href="report.html">{_e(t["all_link"])}</a>')
    for _, m in munis.iterrows():
        if str(m["municipality"]) != current:
            others.append(f'<a href="report_{_e(m["municipality"])}.html">{_e(m["municipality_name"])}</a>')
    return " ".join(links) + (" | " + " ".join(others) if others else "")


def report_file_names(summary: pd.DataFrame) -> list[str]:
    """File names of the reports of a summary: ``report.html`` and ``report_<code>.html``."""
    codes = sorted(set(summary["municipality"].astype(str)))
    return ["report.html"] + [f"report_{c}.html" for c in codes]


def write_reports(
    results_dir: str | Path,
    config: Config,
    *,
    lang: str | None = None,
    force: bool = False,
    embed_images: bool = False,
) -> list[Path]:
    """Write the HTML reports of a results folder.

    ``report.html`` covers all municipalities (a comparison table, a table per service with one
    row per municipality); ``report_<code>.html`` one municipality (one table, a row per
    service). Both hold key figures, the largest gap areas, the proposals with their
    rationales when ``proposals.csv`` exists, the maps found in ``maps/``, the settings
    (thresholds per service), the data sources, attributions and dates.

    Parameters
    ----------
    results_dir
        A results folder holding ``summary.csv`` (and ``run.json``, ``gap_areas.csv``,
        ``proposals.csv``, ``results.gpkg`` and ``maps/`` when present).
    config
        The workspace config (labels, thresholds).
    lang
        ``fi`` or ``en`` (default ``config.language``).
    force
        Overwrite existing reports.
    embed_images
        Embed the maps as base64 data (one self-contained file each) instead of linking
        ``maps/*.png`` relatively.

    Returns
    -------
    list of Path
        The reports written, the overall one first.

    Raises
    ------
    InputFileError
        When ``summary.csv`` is missing.
    OutputExistsError
        When a report exists and ``force`` is false.
    """
    language = resolve_language(config, lang)
    t = TEXT[language]
    results_dir = Path(results_dir)
    if not (results_dir / "summary.csv").exists():
        msg = (
            f"{results_dir / 'summary.csv'}: not found. Fix: run `arjenturva gaps` (or `run`) to write "
            "this results folder first"
        )
        raise InputFileError(msg)
    summary = read_summary(results_dir)
    summary["municipality"] = summary["municipality"].astype(str)
    targets = [results_dir / n for n in report_file_names(summary)]
    ensure_writable(targets, force=force)
    run = read_run(results_dir) if (results_dir / "run.json").exists() else {}
    gap_areas = _read_csv_if(results_dir / "gap_areas.csv")
    proposals = _read_csv_if(results_dir / "proposals.csv")
    points = _count_points(results_dir)
    munis = (
        summary[["municipality", "municipality_name"]]
        .drop_duplicates("municipality")
        .sort_values("municipality")
        .reset_index(drop=True)
    )
    dates = (
        f"{t['run_date'].format(date=_run_date(run, language))} · "
        f"{t['report_date'].format(date=_today(language))}"
    )
    written = []

    def common(sub: pd.DataFrame, codes: set[str], mun_rows: pd.DataFrame, overall: bool) -> list[str]:
        return [
            _key_figures(sub, gap_areas, points, language),
            _services_section(sub, config, language, overall=overall),
            _gaps_section(gap_areas, codes, config, language),
            _proposals_section(proposals, codes, config, language),
            _maps_section(results_dir, mun_rows, config, language, embed=embed_images),
            _settings_section(config, run, language),
            _sources_section(run, language),
        ]

    all_codes = set(munis["municipality"])
    page = _page(
        t["title_all"],
        config.name,
        dates,
        _nav(language, munis, None),
        common(summary, all_codes, munis, True),
        language,
    )
    written.append(_write(page, targets[0]))
    for target, (_, m) in zip(targets[1:], munis.iterrows(), strict=True):
        code = str(m["municipality"])
        sub = summary.loc[summary["municipality"] == code]
        page = _page(
            t["title_muni"].format(name=m["municipality_name"], code=code),
            config.name,
            dates,
            _nav(language, munis, code),
            common(sub, {code}, munis.loc[munis["municipality"] == code], False),
            language,
        )
        written.append(_write(page, target))
    return written


def _write(text: str, path: Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path

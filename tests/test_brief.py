"""A municipality's brief, brief_<code>.html (arjenturva.export.brief), on the real demo run:
at most four printed pages, self-contained, every figure from the results tables, all text in the
brief's language."""

from __future__ import annotations

import csv
import html
import re
import shutil
from pathlib import Path

import pytest
from conftest import DemoRun
from test_report import FINNISH, before_after_cells, detail_texts
from test_webmap import _chromium, needs_chromium

from arjenturva import api, labels
from arjenturva import results as R
from arjenturva.config import Config
from arjenturva.export import brief, report
from arjenturva.export import report_sections as S
from arjenturva.proposals.rationale import rationale_for, site_label

MAX_PAGES = 4

#: The Finnish compass words of a site's name ("4,3 km kaakkoon Ylä-Kaarnasta").
COMPASS_FI = tuple(w.get("fi") for w in labels.DIRECTION.values())


@pytest.fixture(scope="module")
def briefs(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Results folders of the demo with its reports and briefs in Finnish (as `demo` wrote them)
    and in English."""
    dest = tmp_path_factory.mktemp("brief_en") / "results"
    shutil.copytree(demo_run.results, dest)
    for old in [*dest.glob("report*.html"), *dest.glob("brief_*.html")]:
        old.unlink()
    report.write_reports(dest, _config(demo_run), lang="en")
    return {"fi": demo_run.results, "en": dest}


def _config(demo_run: DemoRun) -> Config:
    return api.as_config(demo_run.workspace / "arjenturva.yaml")


def _codes(results: Path) -> list[str]:
    return sorted(set(R.read_table(results, R.SUMMARY)["municipality"].astype(str)))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _table(text: str, css: str) -> str:
    found = re.search(rf'<table class="{css}">(.*?)</table>', text, flags=re.S)
    assert found is not None, css
    return found.group(1)


def _body_rows(table: str) -> list[tuple[dict[str, str], dict[str, str], list[str]]]:
    """(data attributes, data-col → data-value, cell texts) of a table's rows (not detail rows)."""
    out = []
    for attrs, body in re.findall(r"<tr ([^>]*)>(.*?)</tr>", table, flags=re.S):
        if 'class="detail"' in attrs:
            continue
        a = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', attrs))
        values = dict(re.findall(r'data-col="([^"]+)" data-value="([^"]*)"', body))
        texts = [html.unescape(re.sub(r"<[^>]+>", " ", c)).split() for c in re.findall(r"<td.*?</td>", body)]
        out.append((a, values, [" ".join(t) for t in texts]))
    return out


def _page_count(pdf: Path) -> int:
    """Pages of a PDF: its ``/Type /Page`` objects (Chromium writes no object streams)."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf.read_bytes()))


def test_run_writes_a_brief_per_municipality(demo_run: DemoRun) -> None:
    for code in _codes(demo_run.results):
        path = demo_run.results / R.municipality_brief_file(code)
        assert path.is_file()
        text = path.read_text(encoding="utf-8")
        assert '<html lang="fi">' in text and labels.SYNTHETIC.get("fi") in text
        assert f'href="{R.municipality_report_file(code)}"' in text  # the full report


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_brief_is_self_contained(briefs: dict[str, Path], lang: str) -> None:
    """One map, embedded; nothing is loaded from elsewhere."""
    for code in _codes(briefs[lang]):
        text = (briefs[lang] / R.municipality_brief_file(code)).read_text(encoding="utf-8")
        imgs = re.findall(r'<img src="([^"]*)"', text)
        assert len(imgs) == 1 and imgs[0].startswith("data:image/png;base64,")
        assert 'src="maps/' not in text and "<link" not in text and "<script src" not in text


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_brief_before_after_equal_proposals_summary(briefs: dict[str, Path], lang: str) -> None:
    """Every service of the municipality, with the coverage before and after the agreements
    exactly as proposals_summary.csv has them, and its demand as summary.csv has it."""
    results = briefs[lang]
    written = {(r["municipality"], r["service"]): r for r in _rows(results / "proposals_summary.csv")}
    summary = {(r["municipality"], r["service"]): r for r in _rows(results / "summary.csv")}
    for code in _codes(results):
        path = results / R.municipality_brief_file(code)
        shown = before_after_cells(path)
        assert set(shown) == {k for k in written if k[0] == code}
        columns = set(next(iter(written.values()))) - {"municipality", "service", "demand"}
        columns -= {"uncovered_65_plus_before", "uncovered_65_plus_after"}  # not shown
        for key, cells in shown.items():
            assert set(cells) == columns, key
            for col, value in cells.items():
                assert float(value) == float(written[key][col]), (key, col)
        for attrs, values, _texts in _body_rows(_table(path.read_text(encoding="utf-8"), "before-after")):
            row = summary[(attrs["municipality"], attrs["service"])]
            assert float(values["demand"]) == float(row["demand"])
            if "uncovered_demand_before" not in values:  # an older proposals_summary.csv
                assert float(values["uncovered_demand"]) == float(row["uncovered_demand"])


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_brief_agreements(demo_run: DemoRun, briefs: dict[str, Path], lang: str) -> None:
    """The agreements covering the most demand (all when few), in the file's order, with their
    site, the service's covered share before → after, and the rationale in the brief's
    language."""
    results, cfg = briefs[lang], _config(demo_run)
    proposals = R.read_table(results, R.PROPOSALS)
    ps = {(r["municipality"], r["service"]): r for r in _rows(results / "proposals_summary.csv")}
    for code in _codes(results):
        path = results / R.municipality_brief_file(code)
        text = path.read_text(encoding="utf-8")
        mine = proposals.loc[proposals["municipality"] == code]
        top = mine["demand_covered"].fillna(0).nlargest(brief.BRIEF_AGREEMENTS).index.sort_values()
        expected = mine.loc[top]
        rows = _body_rows(_table(text, "proposals"))
        assert [a["agreement"] for a, _v, _t in rows] == list(expected["agreement_id"])
        for (attrs, values, texts), (_, row) in zip(rows, expected.iterrows(), strict=True):
            assert values["site_name"] == row["site_name"]  # the exact value, in the config's language
            assert texts[2] == " ".join(site_label(row.to_dict(), lang).split())  # in the brief's
            if lang == "en":
                assert not any(w in " ".join(texts) for w in COMPASS_FI), texts
            assert float(values["demand_covered"]) == row["demand_covered"]
            before_after = ps[(code, attrs["service"])]
            assert texts[-1] == (
                f"{labels.format_share(float(before_after['covered_share_before']), lang)} → "
                f"{labels.format_share(float(before_after['covered_share_after']), lang)}"
            ).replace("\u00a0", " ")
        cut = labels.ui(lang)["agreements_cut"].split("{")[0]
        assert (cut in html.unescape(text)) == (len(mine) > brief.BRIEF_AGREEMENTS)
        for (_, row), shown in zip(expected.iterrows(), detail_texts(path), strict=True):
            if lang == "en":
                assert not any(w in shown.lower() for w in FINNISH), shown
            assert shown.endswith(rationale_for(row.to_dict(), cfg, lang)), shown


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_brief_worst_gaps(demo_run: DemoRun, briefs: dict[str, Path], lang: str) -> None:
    """The gap areas with the most demand not covered, largest first, with their place names."""
    results, cfg = briefs[lang], _config(demo_run)
    gap_areas = {r["gap_area_id"]: r for r in _rows(results / "gap_areas.csv")}
    for code in _codes(results):
        text = (results / R.municipality_brief_file(code)).read_text(encoding="utf-8")
        rows = _body_rows(_table(text, "gaps"))
        assert 0 < len(rows) <= brief.BRIEF_GAP_ROWS
        demand = [float(v[S.UNCOVERED_DEMAND]) for _a, v, _t in rows]
        assert demand == sorted(demand, reverse=True)
        for attrs, values, _texts in rows:
            area = gap_areas[attrs["gap-area"]]
            assert area["municipality"] == code and values["place"] == area["place"] != ""
            if cfg.services[area["service"]].demand == "population":
                assert float(values[S.UNCOVERED_DEMAND]) == pytest.approx(float(area["uncovered_population"]))


def test_brief_words_in_english(briefs: dict[str, Path]) -> None:
    """The English brief's headings, indicator labels, solver line and sources are English."""
    ui = labels.ui("en")
    for code in _codes(briefs["en"]):
        text = html.unescape((briefs["en"] / R.municipality_brief_file(code)).read_text(encoding="utf-8"))
        for key in ("worst_gaps", "proposals", "sources", "licence_note", "demand_group", "uncovered_demand"):
            assert ui[key] in text, key
        assert labels.SYNTHETIC.get("en") in text and labels.SYNTHETIC.get("fi") not in text
        assert not any(w in text for w in ("asukasta", "Kysyntä", "Ulkopuolella", "Perustelu")), code


@needs_chromium
@pytest.mark.parametrize("lang", ["fi", "en"])
def test_brief_prints_on_at_most_four_pages(briefs: dict[str, Path], lang: str, tmp_path: Path) -> None:
    """Every brief of the demo, printed to PDF by headless Chromium with the network blocked, is
    at most four A4 pages."""
    for code in _codes(briefs[lang]):
        page = briefs[lang] / R.municipality_brief_file(code)
        pdf = tmp_path / f"{page.stem}.pdf"
        run = _chromium(page, tmp_path / "profile", "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
        assert run.returncode == 0 and pdf.is_file(), run.stderr[-2000:]
        pages = _page_count(pdf)
        assert 1 <= pages <= MAX_PAGES, (lang, code, pages)

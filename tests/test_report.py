"""HTML reports of a results folder (arjenturva.export.report), on the real demo run."""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from arjenturva import api, labels
from arjenturva import results as R
from arjenturva.errors import InputFileError, OutputExistsError
from arjenturva.export import report
from arjenturva.export import report_sections as S
from arjenturva.proposals.rationale import rationale_for

#: A 1×1 PNG: the report only links or embeds the maps it finds.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

#: Columns of proposals.csv the report's proposals table must show.
PROPOSAL_COLUMNS = (
    "agreement_id",
    "service_label",
    "gap_areas",
    "site_name",
    "actor_name",
    "sector",
    "mode",
    "days_per_week",
    "people_reached",
    "demand_covered",
    "covered_65_plus",
    "distance_from_base_km",
    "rationale",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> api.RunResult:
    """The demo run through the gap analysis and the proposals (no maps)."""
    ws = tmp_path_factory.mktemp("report_demo")
    return api.run_pipeline(
        api.copy_demo(ws / "ws"), out_dir=ws / "results", with_proposals=True, with_maps=False
    )


@pytest.fixture
def results(demo: api.RunResult, tmp_path: Path) -> Path:
    dest = tmp_path / "results"
    shutil.copytree(demo.results_dir, dest)
    return dest


class _Cells(HTMLParser):
    """Collects the ``data-col``/``data-value`` cells of the indicator tables and of every row of
    the proposals section, the key-figure cards and the images of a report."""

    def __init__(self) -> None:
        super().__init__()
        self.table: str | None = None
        self.section = ""
        self.in_body = False
        self.row: dict[str, str] | None = None
        self.values: dict[tuple[str, str, str], str] = {}
        self.proposals: list[dict[str, str]] = []
        self.cards: dict[str, str] = {}
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section":
            self.section = a.get("id", "")
        elif tag == "table":
            self.table = a.get("class", "")
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.table == "proposals" and self.in_body and a.get("class") != "detail":
            self.proposals.append({})  # a detail row continues its agreement's row
        elif tag == "tr" and self.table == "indicators" and "data-municipality" in a:
            self.row = a
        elif tag == "td" and "data-col" in a and "data-value" in a:
            if self.table == "proposals" and self.proposals:
                self.proposals[-1][a["data-col"]] = a["data-value"]
            elif self.row is not None:
                key = (self.row["data-municipality"], self.row["data-service"], a["data-col"])
                self.values[key] = a["data-value"]
        elif tag == "div" and "data-col" in a:
            self.cards[a["data-col"]] = a.get("data-value", "")
        elif tag == "img":
            self.images.append(a.get("src", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self.row = None
        elif tag == "table":
            self.table = None
        elif tag == "tbody":
            self.in_body = False
        elif tag == "section":
            self.section = ""


def _parse(path: Path) -> _Cells:
    p = _Cells()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _same(a: str, b: object) -> bool:
    if a == "":
        return b is None or (isinstance(b, float) and math.isnan(b))
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)  # type: ignore[arg-type]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _reports(files: list[Path]) -> list[Path]:
    """The reports among the files ``write_reports`` wrote (not the briefs)."""
    return [p for p in files if p.name.startswith("report")]


def _equal_to_csv(shown: str, written: str, column: str) -> bool:
    """A ``data-value`` equals the CSV text: exactly for text, as the same float for figures."""
    if R.PROPOSALS.column(column).dtype != "float":
        return shown == written
    if written == "":
        return shown == ""
    return shown != "" and float(shown) == float(written)


def test_reports_written(demo: api.RunResult, results: Path) -> None:
    files = report.write_reports(results, demo.workspace.config)
    codes = sorted(str(c) for c in demo.gaps.municipalities["code"])
    reports = ["report.html"] + [f"report_{c}.html" for c in codes]
    assert [p.name for p in files] == reports + [f"brief_{c}.html" for c in codes]
    for p in _reports(files):
        text = p.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and '<html lang="fi">' in text
        assert "@media print" in text and "--accent: #0b5a7a" in text  # report.css, inlined
        assert labels.SYNTHETIC.get("fi") in text  # the credits of the demo run
        assert "Kynnys" in text  # the settings section, in Finnish
        for anchor in ("key", "services", "gaps", "proposals", "maps", "settings", "sources"):
            assert f'<section id="{anchor}">' in text
    with pytest.raises(OutputExistsError):
        report.write_reports(results, demo.workspace.config)


def test_reports_written_in_workers_are_the_same_bytes(
    demo: api.RunResult, results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reports written by two worker processes, a page each, equal those written in this
    process, in the same order."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    alone = {p.name: p.read_bytes() for p in report.write_reports(results, demo.workspace.config, workers=1)}
    monkeypatch.setattr(report, "_PAGES_PER_SHARE", 1)
    monkeypatch.setattr(report, "_PAGES_PER_MAP", 0.25)  # every page weighs like four maps
    files = report.write_reports(results, demo.workspace.config, force=True, workers=2)
    assert [p.name for p in files] == list(alone)
    assert {p.name: p.read_bytes() for p in files} == alone


def test_report_figures_equal_summary(demo: api.RunResult, results: Path) -> None:
    files = _reports(report.write_reports(results, demo.workspace.config, lang="en"))
    summary = R.read_table(results, R.SUMMARY)
    numeric = [c for c, _k in S.SERVICE_COLUMNS]
    checked = 0
    for path in files:
        cells = _parse(path)
        assert cells.values, f"no figures in {path.name}"
        for (muni, service, col), value in cells.values.items():
            row = summary.loc[(summary["municipality"] == muni) & (summary["service"] == service)]
            assert len(row) == 1, (muni, service)
            assert _same(value, row[col].iloc[0]), (path.name, muni, service, col, value, row[col].iloc[0])
            checked += 1
        if path.name != "report.html":
            code = path.stem.split("_", 1)[1]
            sub = summary.loc[(summary["municipality"] == code) & (summary["service"] != "ALL")]
            # every service and indicator of the municipality is in its report
            for _, r in sub.iterrows():
                for col in numeric:
                    assert (code, r["service"], col) in cells.values
            allrow = summary.loc[(summary["municipality"] == code) & (summary["service"] == "ALL")].iloc[0]
            assert _same(cells.cards["population"], allrow["population"])
            assert _same(cells.cards["covered_share"], allrow["covered_share"])
            lacking = allrow["population_lacking_any_service"]
            assert _same(cells.cards["population_lacking_any_service"], lacking)
    assert checked > 100


def test_report_proposals_equal_proposals_csv(demo: api.RunResult, results: Path) -> None:
    """Each report's proposals table is proposals.csv's rows of its municipalities, in order,
    row for row and figure for figure."""
    files = _reports(report.write_reports(results, demo.workspace.config))
    written = _csv_rows(results / "proposals.csv")
    assert written, "the demo run proposes agreements"
    codes = {r["municipality"] for r in written}
    assert len(codes) >= 2
    checked = 0
    for path in files:
        code = None if path.name == "report.html" else path.stem.split("_", 1)[1]
        expected = [r for r in written if code is None or r["municipality"] == code]
        shown = _parse(path).proposals
        assert len(shown) == len(expected), path.name
        for i, (cells, row) in enumerate(zip(shown, expected, strict=True)):
            assert set(PROPOSAL_COLUMNS) <= set(cells), (path.name, sorted(cells))
            assert set(cells) <= set(R.PROPOSALS.names())  # named from the schema
            for col, value in cells.items():
                assert _equal_to_csv(value, row[col], col), (path.name, i, col, value, row[col])
                checked += 1
    assert checked > 100


def test_report_proposal_words(demo: api.RunResult, results: Path) -> None:
    """The day-care agreement shows the residents it reaches, and its demand with the group."""
    text = report.write_reports(results, demo.workspace.config)[1].read_text(encoding="utf-8")
    rows = [r for r in _csv_rows(results / "proposals.csv") if r["municipality"] == "996"]
    day_care = next(r for r in rows if r["service"] == "day_care")
    reached = labels.format_number(float(day_care["people_reached"]), "fi")
    assert f'data-col="people_reached" data-value="{float(day_care["people_reached"])!r}">{reached}<' in text
    assert labels.DEMAND["age_0_14"].get("fi") in text
    assert labels.MODE["fixed"].get("fi") in text and labels.SECTOR["parish"].get("fi") in text


def test_report_without_proposals(demo: api.RunResult, results: Path) -> None:
    (results / "proposals.csv").unlink()
    files = report.write_reports(results, demo.workspace.config, lang="en")
    text = files[0].read_text(encoding="utf-8")
    assert labels.ui("en")["no_proposals"] in text and not _parse(files[0]).proposals


def test_report_maps_embedded_or_linked(demo: api.RunResult, results: Path) -> None:
    """Maps are embedded by default (a report mailed alone keeps them); the overall report shows
    the region's service maps, a municipality's report those framed on it."""
    maps_dir = results / R.MAPS_DIR
    maps_dir.mkdir(exist_ok=True)
    codes = sorted(str(c) for c in demo.gaps.municipalities["code"])
    framed = [R.municipality_service_map_file(c, "health_station") for c in codes]
    for name in ["health_station.png", *framed, *(f"overview_{c}.png" for c in codes)]:
        (maps_dir / name).write_bytes(PNG)
    files = report.write_reports(results, demo.workspace.config)
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert 'src="maps/' not in text, path.name
        imgs = _parse(path).images
        assert imgs and all(src.startswith("data:image/png;base64,") for src in imgs), path.name
    linked = report.write_reports(results, demo.workspace.config, force=True, embed_images=False)
    imgs = _parse(linked[0]).images
    assert "maps/health_station.png" in imgs and not any(i.startswith("maps/99") for i in imgs)
    assert all((results / src).exists() for src in imgs)
    muni = _parse(linked[1]).images
    assert muni == [f"maps/overview_{codes[0]}.png", f"maps/{framed[0]}"]


def test_report_escapes_names(demo: api.RunResult, results: Path) -> None:
    """Names from data and config with markup are escaped, never run."""
    evil = '<script>alert("x")</script>'
    cfg = demo.workspace.config.model_copy(deep=True)
    cfg.name = f"Pilotti {evil} & co"
    proposals = R.read_table(results, R.PROPOSALS)
    proposals.loc[0, "actor_name"] = f"Kylä {evil}"
    proposals.loc[0, "rationale"] = "lähin kauppa 38 km <b>päässä</b>"
    R.write_table(proposals, R.PROPOSALS, results)
    summary = R.read_table(results, R.SUMMARY)
    code = str(proposals.loc[0, "municipality"])
    summary.loc[summary["municipality"] == code, "municipality_name"] = f"Kunta {evil}"
    R.write_table(summary, R.SUMMARY, results)
    files = report.write_reports(results, cfg, lang="fi")
    for p in files:
        text = p.read_text(encoding="utf-8")
        assert "<script>" not in text and "&lt;script&gt;alert(" in text
        assert "<b>" not in text
    text = (results / f"report_{code}.html").read_text(encoding="utf-8")
    assert "Kylä &lt;script&gt;alert(" in text
    assert text.count("Kylä &lt;script&gt;alert(") >= 2  # the actor's cell and its rationale
    shown = _parse(results / f"report_{code}.html").proposals[0]
    assert shown["actor_name"] == f"Kylä {evil}"  # the exact value, unescaped by the parser


def test_report_english(demo: api.RunResult, results: Path) -> None:
    files = report.write_reports(results, demo.workspace.config, lang="en")
    text = files[0].read_text(encoding="utf-8")
    assert '<html lang="en">' in text and "Indicators per service" in text and "Health station" in text
    assert labels.SYNTHETIC.get("en") in text


def test_report_needs_summary(demo: api.RunResult, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="summary.csv"):
        report.write_reports(tmp_path, demo.workspace.config)


#: Finnish words of a rationale that must not appear in an English report.
FINNISH = ("asukasta", "päässä", "tarjoaa", "vuotiasta", "kynnyksen", "tieverkolla")


def detail_texts(path: Path) -> list[str]:
    """The texts of the detail (rationale) rows of a report's or brief's proposals table."""
    text = path.read_text(encoding="utf-8")
    return [
        html.unescape(re.sub(r"<[^>]+>", "", m))
        for m in re.findall(r'<tr class="detail"[^>]*><td[^>]*>(.*?)</td></tr>', text, flags=re.S)
    ]


def test_report_rationales_in_the_reports_language(demo: api.RunResult, results: Path) -> None:
    """An English report writes every rationale in English (built from the proposals row), the
    Finnish one in Finnish."""
    cfg = demo.workspace.config
    rows = R.read_table(results, R.PROPOSALS)
    en = report.write_reports(results, cfg, lang="en")
    texts = detail_texts(en[0])
    assert len(texts) == len(rows)
    for (_, row), shown in zip(rows.iterrows(), texts, strict=True):
        assert not any(w in shown.lower() for w in FINNISH), shown
        assert shown.endswith(rationale_for(row.to_dict(), cfg, "en")), shown
    fi = report.write_reports(results, cfg, lang="fi", force=True)
    for (_, row), shown in zip(rows.iterrows(), detail_texts(fi[0]), strict=True):
        assert shown.endswith(row["rationale"]), shown  # proposals.csv's, in the config's language


def test_report_solver_status(demo: api.RunResult, results: Path) -> None:
    """The report says how the proposals were solved, as run.json records it."""
    solved = json.loads((results / R.RUN_FILE).read_text(encoding="utf-8"))["proposals"]
    for lang in ("fi", "en"):
        files = report.write_reports(results, demo.workspace.config, lang=lang, force=True)
        status = labels.label(labels.SOLVER_STATUS, solved["status"], lang)
        gap = labels.format_share(solved["mip_gap"], lang, 2)
        limit = labels.ui(lang)["time_limit_hit" if solved["time_limit_hit"] else "time_limit_not_hit"]
        for path in files:
            text = html.unescape(path.read_text(encoding="utf-8"))
            line = re.search(r'<p class="solver">(.*?)</p>', text)
            assert line is not None, path.name
            assert status in line.group(1) and gap in line.group(1) and limit in line.group(1)


def test_report_indicator_labels(demo: api.RunResult, results: Path) -> None:
    """The demand group's indicators and those of all residents are told apart in fi and en."""
    expected = {
        "fi": ("Kysyntäryhmä", "Ulkopuolella, kysyntä", "Ulkopuolella, kaikki asukkaat", "0–14-vuotiaat"),
        "en": ("Demand group", "Not covered, demand", "Not covered, all residents", "aged 0–14"),
    }
    for lang, words in expected.items():
        files = report.write_reports(results, demo.workspace.config, lang=lang, force=True)
        for path in files:
            headers = re.findall(r"<th>(.*?)</th>", html.unescape(path.read_text(encoding="utf-8")))
            for label in words[1:3]:  # a brief's say "…, now" and "…, with proposals"
                assert label in headers or path.name.startswith("brief"), (lang, path.name, label)
                assert any(h.startswith(label) for h in headers), (lang, path.name, label)
        text = html.unescape(files[1].read_text(encoding="utf-8"))
        assert f"<th>{words[0]}</th>" in text and f"<td>{words[3]}</td>" in text


def test_report_before_after_equal_proposals_summary(demo: api.RunResult, results: Path) -> None:
    """The coverage before and after the agreements is proposals_summary.csv's, row for row."""
    files = _reports(report.write_reports(results, demo.workspace.config))
    rows = {(r["municipality"], r["service"]): r for r in _csv_rows(results / "proposals_summary.csv")}
    for path in files:
        shown = before_after_cells(path)
        code = None if path.name == "report.html" else path.stem.split("_", 1)[1]
        assert {k for k in rows if code in (None, k[0])} == set(shown), path.name
        for key, cells in shown.items():
            assert {"covered_share_before", "covered_share_after", "agreements"} <= set(cells)
            for col, value in cells.items():
                assert float(value) == float(rows[key][col]), (path.name, key, col)


def before_after_cells(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    """The figures of a report's or brief's before/after table, per (municipality, service),
    those of proposals_summary.csv's columns only."""
    names = set(R.PROPOSALS_SUMMARY.names()) - {"municipality", "service", "demand"}
    text = path.read_text(encoding="utf-8")
    table = re.search(r'<table class="before-after">(.*?)</table>', text, flags=re.S)
    assert table is not None, path.name
    out: dict[tuple[str, str], dict[str, str]] = {}
    for attrs, body in re.findall(r"<tr ([^>]*)>(.*?)</tr>", table.group(1), flags=re.S):
        a = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', attrs))
        cells = dict(re.findall(r'data-col="([^"]+)" data-value="([^"]*)"', body))
        out[(a["municipality"], a["service"])] = {k: v for k, v in cells.items() if k in names}
    return out


def test_report_sources_in_the_reports_language(demo: api.RunResult, results: Path) -> None:
    """The licence note, the input files' roles and the area-class source are in the report's
    language (the credits themselves are the workspace's own text, and say "synthetic")."""
    for lang, other in (("fi", "en"), ("en", "fi")):
        files = _reports(report.write_reports(results, demo.workspace.config, lang=lang, force=True))
        for path in files:
            text = html.unescape(path.read_text(encoding="utf-8"))
            assert labels.ui(lang)["licence_note"] in text
            assert labels.ui(other)["licence_note"] not in text
            assert labels.INPUT_ROLE["population"].get(lang) in text
            assert labels.AREA_CLASS_SOURCE["column"].get(lang) in text
            assert labels.SYNTHETIC.get(lang) in text


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _timetable_items(path: Path) -> list[str]:
    """The lines of the weekly timetable section of a report (none without the section)."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<section id="timetable">(.*?)</section>', text, flags=re.S)
    if m is None:
        return []
    return [html.unescape(li) for li in re.findall(r"<li>(.*?)</li>", m.group(1), flags=re.S)]


def _expected_timetable(routes: list[dict[str, str]], stops: set[str] | None, lang: str) -> list[str]:
    """Each vehicle's weekday line over the stops of ``stops`` (every stop when None), by hand:
    the weekday (capitalised), then each stop's arrival (9.05 in Finnish, 9:05 in English) and
    place in visiting order."""
    days: dict[tuple[str, str], list[tuple[int, str]]] = {}
    sep = "." if lang == "fi" else ":"
    for r in routes:
        if r["stop_id"] == "base" or (stops is not None and r["stop_id"] not in stops):
            continue
        hours, minutes = r["arrival"].split(":")
        days.setdefault((r["vehicle_id"], r["weekday"]), []).append(
            (int(r["stop_order"]), f"{int(hours)}{sep}{minutes} {r['place']}")
        )
    out = []
    for (_vehicle, day), visits in days.items():
        name = getattr(labels.WEEKDAY[day], lang)
        out.append(f"{name[0].upper()}{name[1:]}: " + " – ".join(t for _, t in sorted(visits)))
    return sorted(out)


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_report_weekly_timetable(demo: api.RunResult, results: Path, lang: str) -> None:
    """Each municipality's report lists exactly the weekday lines of the routes stopping there,
    naming its own stops; the overall report every route's line, in the report's language."""
    routes = _csv_rows(results / "routes.csv")
    assert routes, "the demo plans weekly routes"
    stops = R.read_layer(results, R.ROUTE_STOPS)
    files = report.write_reports(results, demo.workspace.config, lang=lang)
    by_name = {p.name: p for p in files}
    assert sorted(_timetable_items(by_name["report.html"])) == _expected_timetable(routes, None, lang)
    assert _timetable_items(by_name["report.html"])
    seen = 0
    for code in sorted(str(c) for c in demo.gaps.municipalities["code"]):
        here = set(stops.loc[stops["municipality"].astype(str) == code, "stop_id"].astype(str))
        expected = _expected_timetable(routes, here, lang)
        assert sorted(_timetable_items(by_name[f"report_{code}.html"])) == expected, code
        seen += bool(expected)
        text = by_name[f"report_{code}.html"].read_text(encoding="utf-8")
        assert (labels.ui(lang)["weekly_timetable"] in text) == bool(expected), code
    assert seen, "some municipality has route stops"
    assert all(
        line.split(":")[0].lower() in {getattr(labels.WEEKDAY[d], lang).lower() for d in _WEEKDAYS}
        for line in _timetable_items(by_name["report.html"])
    )


def test_report_without_routes_has_no_timetable(demo: api.RunResult, results: Path) -> None:
    (results / "routes.csv").unlink()
    files = report.write_reports(results, demo.workspace.config, force=True)
    for p in _reports(files):
        assert '<section id="timetable">' not in p.read_text(encoding="utf-8"), p.name

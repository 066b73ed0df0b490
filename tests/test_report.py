"""HTML reports of a results folder (arjenturva.export.report), on the real demo run."""

from __future__ import annotations

import base64
import csv
import math
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from arjenturva import api, labels
from arjenturva import results as R
from arjenturva.errors import InputFileError, OutputExistsError
from arjenturva.export import report
from arjenturva.export import report_sections as S

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
        elif tag == "tr" and self.section == "proposals" and self.in_body and a.get("class") != "detail":
            self.proposals.append({})  # a detail row continues its agreement's row
        elif tag == "tr" and self.table == "indicators" and "data-municipality" in a:
            self.row = a
        elif tag == "td" and "data-col" in a and "data-value" in a:
            if self.section == "proposals" and self.proposals:
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
    assert [p.name for p in files] == ["report.html"] + [f"report_{c}.html" for c in codes]
    for p in files:
        text = p.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and '<html lang="fi">' in text
        assert "@media print" in text and "--accent: #0b5a7a" in text  # report.css, inlined
        assert labels.SYNTHETIC.get("fi") in text  # the credits of the demo run
        assert "Kynnys" in text  # the settings section, in Finnish
        for anchor in ("key", "services", "gaps", "proposals", "maps", "settings", "sources"):
            assert f'<section id="{anchor}">' in text
    with pytest.raises(OutputExistsError):
        report.write_reports(results, demo.workspace.config)


def test_report_figures_equal_summary(demo: api.RunResult, results: Path) -> None:
    files = report.write_reports(results, demo.workspace.config, lang="en")
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
    files = report.write_reports(results, demo.workspace.config)
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


def test_report_maps_linked_or_embedded(demo: api.RunResult, results: Path) -> None:
    maps_dir = results / R.MAPS_DIR
    maps_dir.mkdir(exist_ok=True)
    codes = sorted(str(c) for c in demo.gaps.municipalities["code"])
    for name in ["health_station.png"] + [f"overview_{c}.png" for c in codes]:
        (maps_dir / name).write_bytes(PNG)
    files = report.write_reports(results, demo.workspace.config)
    imgs = _parse(files[0]).images
    assert "maps/health_station.png" in imgs
    assert all((results / src).exists() for src in imgs)
    muni = _parse(files[1]).images
    assert muni[0] == f"maps/overview_{codes[0]}.png"
    embedded = report.write_reports(results, demo.workspace.config, force=True, embed_images=True)
    assert all(src.startswith("data:image/png;base64,") for src in _parse(embedded[0]).images)


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
    text = (results / f"report_{code}.html").read_text(encoding="utf-8")
    assert "Kylä &lt;script&gt;alert(" in text
    assert "lähin kauppa 38 km &lt;b&gt;päässä&lt;/b&gt;" in text
    assert "<b>" not in text
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

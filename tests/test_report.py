"""HTML reports of a results folder (arjenturva.report)."""

from __future__ import annotations

import math
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from arjenturva import api, maps, report
from arjenturva.errors import InputFileError, OutputExistsError
from arjenturva.outputs import read_summary


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> api.RunResult:
    """The demo run through the gap analysis, with one service map and the overviews."""
    ws = tmp_path_factory.mktemp("report_demo")
    run = api.run_pipeline(
        api.copy_demo(ws / "ws"), out_dir=ws / "results", with_proposals=False, with_maps=False
    )
    maps.write_maps(run.results_dir, run.workspace.config, services=["health_station"])
    return run


@pytest.fixture
def results(demo: api.RunResult, tmp_path: Path) -> Path:
    dest = tmp_path / "results"
    shutil.copytree(demo.results_dir, dest)
    return dest


class _Cells(HTMLParser):
    """Collects ``data-value`` cells of rows that carry ``data-municipality``/``data-service``."""

    def __init__(self) -> None:
        super().__init__()
        self.row: dict[str, str] | None = None
        self.values: dict[tuple[str, str, str], str] = {}
        self.cards: dict[str, str] = {}
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and "data-municipality" in a:
            self.row = a
        elif tag == "td" and self.row is not None and "data-col" in a and "data-value" in a:
            key = (self.row["data-municipality"], self.row["data-service"], a["data-col"])
            self.values[key] = a["data-value"]
        elif tag == "div" and "data-col" in a:
            self.cards[a["data-col"]] = a.get("data-value", "")
        elif tag == "img":
            self.images.append(a.get("src", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self.row = None


def _parse(path: Path) -> _Cells:
    p = _Cells()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _same(a: str, b: object) -> bool:
    if a == "":
        return b is None or (isinstance(b, float) and math.isnan(b))
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)  # type: ignore[arg-type]


def test_reports_written(demo: api.RunResult, results: Path) -> None:
    files = report.write_reports(results, demo.workspace.config)
    codes = sorted(str(c) for c in demo.gaps.municipalities["code"])
    assert [p.name for p in files] == ["report.html"] + [f"report_{c}.html" for c in codes]
    for p in files:
        text = p.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and '<html lang="fi">' in text
        assert "@media print" in text
        assert "OpenStreetMap" in text and "Tilastokeskus" in text
        assert "Kynnys" in text  # the settings section, in Finnish
    with pytest.raises(OutputExistsError):
        report.write_reports(results, demo.workspace.config)


def test_report_figures_equal_summary(demo: api.RunResult, results: Path) -> None:
    files = report.write_reports(results, demo.workspace.config, lang="en")
    summary = read_summary(results)
    numeric = [c for c, _k in report.SERVICE_COLUMNS]
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


def test_report_maps_linked_or_embedded(demo: api.RunResult, results: Path) -> None:
    files = report.write_reports(results, demo.workspace.config)
    imgs = _parse(files[0]).images
    assert "maps/health_station.png" in imgs
    assert all((results / src).exists() for src in imgs)
    muni = _parse(files[1]).images
    assert any(src.startswith("maps/overview_") for src in muni)
    embedded = report.write_reports(results, demo.workspace.config, force=True, embed_images=True)
    assert all(src.startswith("data:image/png;base64,") for src in _parse(embedded[0]).images)


def test_report_proposals_and_escaping(demo: api.RunResult, results: Path) -> None:
    cfg = demo.workspace.config.model_copy(deep=True)
    cfg.name = 'Pilotti <script>alert("x")</script> & co'
    code = str(demo.gaps.municipalities["code"].iloc[0])
    pd.DataFrame(
        {
            "municipality": [code],
            "gap_area_id": ["grocery-x-001"],
            "service": ["grocery"],
            "actor_name": ["Kylä <ry>"],
            "sector": ["village_association"],
            "mode": ["mobile"],
            "days_per_week": [2],
            "covered_population": [312],
            "distance_m": [38000.0],
            "rationale": ["Kylä X: 312 asukasta, lähin kauppa 38 km <b>päässä</b>"],
        }
    ).to_csv(results / "proposals.csv", index=False)
    files = report.write_reports(results, cfg, lang="fi")
    for p in files[:2]:
        text = p.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "&lt;script&gt;alert" in text
        assert "Kylä X: 312 asukasta, lähin kauppa 38 km &lt;b&gt;päässä&lt;/b&gt;" in text
        assert "Kylä &lt;ry&gt;" in text and "kyläyhdistys" in text and "liikkuva" in text
        assert 'data-col="distance_km" data-value="38.0"' in text
    other = [p for p in files[1:] if p.stem != f"report_{code}"]
    for p in other:
        assert "grocery-x-001" not in p.read_text(encoding="utf-8")


def test_report_english(demo: api.RunResult, results: Path) -> None:
    files = report.write_reports(results, demo.workspace.config, lang="en")
    text = files[0].read_text(encoding="utf-8")
    assert '<html lang="en">' in text and "Indicators per service" in text and "Health station" in text


def test_report_needs_summary(demo: api.RunResult, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="summary.csv"):
        report.write_reports(tmp_path, demo.workspace.config)

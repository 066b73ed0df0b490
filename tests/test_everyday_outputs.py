"""The everyday service basket's maps and report sections, and the report section on an actor
leaving (issue 19): the demo's outputs read back against summary.csv and a stress.csv written
here by hand."""

from __future__ import annotations

import csv
import html
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arjenturva.config import load_config
from arjenturva.export.everyday_maps import (
    BASKET_MAP,
    BASKET_MUNICIPALITIES_MAP,
    lacking_classes,
    share_classes,
    write_everyday_maps,
)
from arjenturva.export.report import write_reports

BASKET_COLS = (
    "basket_share",
    "basket_share_65_plus",
    "basket_lacking_1",
    "basket_lacking_2",
    "basket_lacking_3_plus",
)


def _config(demo_run):
    return load_config(demo_run.workspace / "arjenturva.yaml")


def _copy(demo_run, tmp_path: Path) -> Path:
    out = tmp_path / "results"
    shutil.copytree(demo_run.results, out)
    return out


def _section(page: str, anchor: str) -> str | None:
    m = re.search(rf'<section id="{anchor}">(.*?)</section>', page, re.S)
    return None if m is None else m.group(1)


def _values(section: str, col: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(rf'data-col="{col}" data-value="([^"]*)"', section)]


def test_classes_by_hand():
    lacking = pd.Series([0, 1, 2, 3, 5, np.nan])
    assert lacking_classes(lacking).tolist() == [0, 1, 2, 3, 3, 0]
    # breaks 50, 70, 85, 95 %: a share on a break belongs to the class above it
    shares = np.array([0.4976, 0.5, 0.6659, 0.9, 0.95, 1.0, np.nan])
    assert share_classes(shares).tolist() == [0, 1, 1, 3, 4, 4, -1]


def test_maps_only_with_a_basket_and_deterministic(demo_run, tmp_path):
    config = _config(demo_run)
    assert config.gaps.basket  # the demo has a basket: `run` drew both maps
    for name in (BASKET_MAP, BASKET_MUNICIPALITIES_MAP):
        assert (demo_run.results / "maps" / name).stat().st_size > 10_000
    a, b = _copy(demo_run, tmp_path / "a"), _copy(demo_run, tmp_path / "b")
    first = write_everyday_maps(a, config, force=True)
    second = write_everyday_maps(b, config, force=True)
    assert [p.name for p in first] == [BASKET_MAP, BASKET_MUNICIPALITIES_MAP]
    for p, q in zip(first, second, strict=True):
        assert p.read_bytes() == q.read_bytes()
    none = config.model_copy(update={"gaps": config.gaps.model_copy(update={"basket": []})})
    c = _copy(demo_run, tmp_path / "c")
    for name in (BASKET_MAP, BASKET_MUNICIPALITIES_MAP):
        (c / "maps" / name).unlink()
    assert write_everyday_maps(c, none, force=True) == []
    assert not (c / "maps" / BASKET_MAP).exists() and not (c / "maps" / BASKET_MUNICIPALITIES_MAP).exists()


def test_report_basket_figures_equal_summary(demo_run):
    summary = pd.read_csv(demo_run.results / "summary.csv", dtype={"municipality": str})
    all_rows = summary.loc[summary["service"] == "ALL"].set_index("municipality")
    assert len(all_rows) == 2
    for code, row in all_rows.iterrows():
        page = (demo_run.results / f"report_{code}.html").read_text(encoding="utf-8")
        section = _section(page, "basket")
        assert section is not None
        for col in BASKET_COLS:
            (value,) = _values(section, col)
            assert float(value) == pytest.approx(float(row[col]), abs=1e-9)
        assert section.count("<img ") == 2
        for service in ("Ruokakauppa", "Apteekki", "Terveysasema", "Postipalvelu"):
            assert service in section
    overall = _section((demo_run.results / "report.html").read_text(encoding="utf-8"), "basket")
    assert overall is not None
    assert [float(v) for v in _values(overall, "basket_share")] == pytest.approx(
        [float(all_rows.loc[c, "basket_share"]) for c in sorted(all_rows.index)]
    )
    # no stress.csv in the demo's results: no section on an actor leaving
    assert _section((demo_run.results / "report_996.html").read_text(encoding="utf-8"), "stress") is None


_STRESS_HEADER = [
    "rank",
    "level",
    "actor_id",
    "actor_name",
    "sector",
    "service",
    "service_label",
    "municipality",
    "municipality_name",
    "points_closed",
    "demand_losing_coverage",
    "people_65_plus_losing_coverage",
]


def _row(*values: str) -> dict[str, str]:
    return dict(zip(_STRESS_HEADER, values, strict=True))


def _stress_rows() -> list[dict[str, str]]:
    """Actor rows of both municipalities with ranks out of order, and sector rows ranked first."""
    rows = []
    names = {"996": "Kaarnavaara", "997": "Routajärvi"}
    for i in range(24):
        code = "996" if i % 3 else "997"
        rank = (i * 7) % 24 + 1  # a permutation of 1..24
        name = "Kylä <b>&</b> ry" if i == 4 else f"Toimija {i}"
        demand, old = f"{1000 - 10 * rank}.0", f"{100 - rank}.0"
        rows.append(
            _row(
                str(rank),
                "actor",
                f"A{i:02d}",
                name,
                "company",
                "grocery",
                "Ruokakauppa",
                code,
                names[code],
                "1",
                demand,
                old,
            )
        )
    for r, code in ((1, "996"), (2, "997")):
        rows.append(
            _row(
                str(r),
                "sector",
                "",
                "",
                "municipality",
                "library",
                "Kirjasto",
                code,
                names[code],
                "3",
                "5000.0",
                "900.0",
            )
        )
    return rows


def test_stress_section_lists_the_top_rows(demo_run, tmp_path):
    config = _config(demo_run)
    out = _copy(demo_run, tmp_path)
    rows = _stress_rows()
    with (out / "stress.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=_STRESS_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    write_reports(out, config, force=True, workers=1)
    for code in ("996", "997"):
        mine = sorted(
            (r for r in rows if r["level"] == "actor" and r["municipality"] == code),
            key=lambda r: int(r["rank"]),
        )
        expected = mine[:10]
        section = _section((out / f"report_{code}.html").read_text(encoding="utf-8"), "stress")
        assert section is not None
        shown = re.findall(
            r'<tr data-rank="(\d+)" data-actor="([^"]*)" data-municipality="([^"]*)">', section
        )
        assert shown == [(r["rank"], r["actor_id"], code) for r in expected]
        assert _values(section, "actor_name") == [r["actor_name"] for r in expected]
        assert [float(v) for v in _values(section, "demand_losing_coverage")] == [
            float(r["demand_losing_coverage"]) for r in expected
        ]
        assert [float(v) for v in _values(section, "people_65_plus_losing_coverage")] == [
            float(r["people_65_plus_losing_coverage"]) for r in expected
        ]
        assert "<b>" not in section  # the actor's name is escaped
    # the name with markup (rank 5, in the top 10 of 996) is shown escaped
    assert "Kylä &lt;b&gt;&amp;&lt;/b&gt; ry" in str(
        _section((out / "report_996.html").read_text(), "stress")
    )
    overall = _section((out / "report.html").read_text(encoding="utf-8"), "stress")
    assert overall is not None
    top = sorted((r for r in rows if r["level"] == "actor"), key=lambda r: int(r["rank"]))[:10]
    assert re.findall(r'data-rank="(\d+)"', overall) == [r["rank"] for r in top]

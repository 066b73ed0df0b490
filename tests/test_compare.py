"""Comparing results folders: by run with differences, by municipality, files written, bad folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arjenturva import api
from arjenturva.errors import ArjenturvaError, InputFileError, OutputExistsError
from arjenturva.export.compare import COMPARISON_FILES, RUN_INDICATORS, compare_results, write_comparison

HEALTH_OLD = "threshold_km: {default: 25, M4: 10, M5: 20, M6: 30, M7: 40}"
HEALTH_NEW = "threshold_km: {default: 15, M4: 5, M5: 10, M6: 15, M7: 20}"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    """The demo run as shipped, and again with stricter health-station thresholds."""
    ws = tmp_path_factory.mktemp("compare") / "demo"
    config = api.copy_demo(ws)
    base = api.run_pipeline(
        config, out_dir=ws / "baseline", with_proposals=False, with_maps=False
    ).results_dir
    text = config.read_text(encoding="utf-8")
    assert HEALTH_OLD in text, "the demo's health-station thresholds changed; update this test"
    config.write_text(text.replace(HEALTH_OLD, HEALTH_NEW), encoding="utf-8")
    strict = api.run_pipeline(
        config, out_dir=ws / "strict_health", with_proposals=False, with_maps=False
    ).results_dir
    return base, strict


def test_by_run_with_differences(two_runs):
    base, strict = two_runs
    res = compare_results([base, strict])
    assert res.by == "run"
    assert res.runs == ("baseline", "strict_health")
    assert list(res.table.columns) == ["run", "service", "service_label", *RUN_INDICATORS]
    t = res.table.set_index(["run", "service"])
    # The sums over municipalities equal the per-municipality rows.
    summary = pd.read_csv(base / "summary.csv", dtype={"municipality": str})
    hs = summary[summary["service"] == "health_station"]
    assert t.loc[("baseline", "health_station"), "uncovered_population"] == pytest.approx(
        hs["uncovered_population"].sum()
    )
    assert t.loc[("baseline", "health_station"), "covered_share"] == pytest.approx(
        hs["covered_demand"].sum() / hs["demand"].sum()
    )
    assert t.loc[("baseline", "ALL"), "population"] == pytest.approx(
        summary.loc[summary["service"] == "ALL", "population"].sum()
    )
    # Differences to the first run: only the health station changed, and it got worse.
    d = res.differences.set_index("service")
    assert list(res.differences["run"].unique()) == ["strict_health"]
    assert d.loc["health_station", "uncovered_population"] > 0
    assert d.loc["health_station", "covered_share"] < 0
    assert d.loc["health_station", "uncovered_population"] == pytest.approx(
        t.loc[("strict_health", "health_station"), "uncovered_population"]
        - t.loc[("baseline", "health_station"), "uncovered_population"]
    )
    others = d.drop(index=["health_station", "ALL"])
    assert np.allclose(others["uncovered_population"], 0)
    assert d.loc["ALL", "population_lacking_any_service"] >= 0
    assert set(res.long["run"]) == {"baseline", "strict_health"}


def test_by_municipality(two_runs):
    base, _ = two_runs
    res = compare_results([base])
    assert res.by == "municipality" and res.differences is None
    assert list(res.table.columns) == ["service", "service_label", "Kaarnavaara", "Routajärvi"]
    summary = pd.read_csv(base / "summary.csv", dtype={"municipality": str})
    row = summary[(summary["service"] == "grocery") & (summary["municipality_name"] == "Routajärvi")]
    got = res.table.set_index("service").loc["grocery", "Routajärvi"]
    assert got == pytest.approx(float(row["uncovered_population"].iloc[0]))
    assert "ALL" not in set(res.table["service"])  # no uncovered_population on the ALL rows
    share = compare_results([base], indicator="covered_share").table.set_index("service")
    assert "ALL" in share.index and share.loc["ALL"].iloc[1:].between(0, 1).all()


def test_two_runs_by_municipality_and_filters(two_runs):
    base, strict = two_runs
    res = compare_results(
        [base, strict],
        by="municipality",
        indicator="covered_share",
        services=["health_station"],
        municipalities=["997"],
    )
    assert list(res.table.columns) == [
        "service",
        "service_label",
        "baseline: Routajärvi",
        "strict_health: Routajärvi",
    ]
    hs = res.table.set_index("service").loc["health_station"]
    assert hs["strict_health: Routajärvi"] < hs["baseline: Routajärvi"]
    with pytest.raises(ArjenturvaError, match="unknown indicator"):
        compare_results([base], indicator="uncovered_people")
    with pytest.raises(ArjenturvaError, match="unknown service"):
        compare_results([base], services=["sauna"])


def test_scenario_name_labels_the_run(two_runs, tmp_path):
    base, _ = two_runs
    copy = tmp_path / "results"
    copy.mkdir()
    (copy / "summary.csv").write_bytes((base / "summary.csv").read_bytes())
    run = json.loads((base / "run.json").read_text(encoding="utf-8"))
    run["scenario"] = "kirjastoauto_lakkautetaan"
    (copy / "run.json").write_text(json.dumps(run), encoding="utf-8")
    res = compare_results([base, copy])
    assert res.runs == ("baseline", "kirjastoauto_lakkautetaan")
    # Two folders with the same name get their parent folder's name.
    twin = tmp_path / "other" / "baseline"
    twin.mkdir(parents=True)
    for name in ("summary.csv", "run.json"):
        (twin / name).write_bytes((base / name).read_bytes())
    assert len(set(compare_results([base, twin]).runs)) == 2


def test_files_written_atomically_and_not_overwritten(two_runs, tmp_path):
    base, strict = two_runs
    res = compare_results([base, strict])
    out = tmp_path / "cmp"
    files = write_comparison(res, out)
    assert [f.name for f in files] == list(COMPARISON_FILES)
    assert sorted(p.name for p in out.iterdir()) == sorted(COMPARISON_FILES)  # no temp files left
    csv = pd.read_csv(out / "comparison.csv")
    assert list(csv.columns) == list(res.table.columns) and len(csv) == len(res.table)
    sheets = pd.read_excel(out / "comparison.xlsx", sheet_name=None)
    assert {"comparison", "differences", "indicators", "runs"} <= set(sheets)
    data = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert data["by"] == "run" and len(data["table"]) == len(res.table)
    assert data["differences"][0]["run"] == "strict_health"
    assert (out / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(OutputExistsError, match="--force"):
        write_comparison(res, out)
    assert len(write_comparison(compare_results([base]), out, force=True)) == 4


def test_bad_folder_is_a_clear_error(two_runs, tmp_path):
    base, _ = two_runs
    with pytest.raises(InputFileError, match=r"not found.*arjenturva run"):
        compare_results([base, tmp_path / "missing"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputFileError, match=r"empty: not a results folder.*arjenturva run"):
        compare_results([empty])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "run.json").write_bytes((base / "run.json").read_bytes())
    (broken / "summary.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"missing column\(s\) municipality, municipality_name"):
        compare_results([broken])
    # A folder written before the results contract (format 1: no results_format key).
    old = tmp_path / "old"
    old.mkdir()
    run = json.loads((base / "run.json").read_text(encoding="utf-8"))
    del run["results_format"]
    (old / "run.json").write_text(json.dumps(run), encoding="utf-8")
    (old / "summary.csv").write_bytes((base / "summary.csv").read_bytes())
    with pytest.raises(InputFileError, match=r"results format 1, but this arjenturva reads format 3"):
        compare_results([old])
    with pytest.raises(InputFileError, match="no results folder"):
        compare_results([])
    # A workspace folder with results/ inside is accepted.
    ws = tmp_path / "ws"
    (ws / "results").mkdir(parents=True)
    for name in ("summary.csv", "run.json"):
        (ws / "results" / name).write_bytes((base / name).read_bytes())
    assert compare_results([ws]).runs == ("results",)

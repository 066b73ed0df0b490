"""Scenarios: overrides applied to a workspace, their own results folder, and compare."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from arjenturva import api
from arjenturva.cli import app
from arjenturva.config import ScenarioConfig
from arjenturva.errors import ConfigError
from arjenturva.scenarios import apply_scenario


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    cfg_path = api.copy_demo(tmp_path_factory.mktemp("sc") / "ws")
    return api.load_workspace(cfg_path)


def test_apply_scenario_overrides(demo_ws):
    ws = demo_ws
    cfg = ws.config
    cfg.scenarios["test"] = ScenarioConfig.model_validate(
        {
            "close_points": ["KA01"],
            "remove_actors": ["A03"],
            "add_points": [
                {
                    "point_id": "NEW1",
                    "name": "Uusi",
                    "services": ["grocery"],
                    "mode": "mobile",
                    "days_per_week": 2,
                    "x": 420000,
                    "y": 7320000,
                }
            ],
            "thresholds": {"grocery": {"threshold_km": {"default": 3}}},
        }
    )
    try:
        sc = apply_scenario(ws, "test")
    finally:
        del cfg.scenarios["test"]
    assert "KA01" not in set(sc.service_points["point_id"]) and "KA01" in set(ws.service_points["point_id"])
    assert "A03" not in set(sc.actors["actor_id"])
    new = sc.service_points.set_index("point_id").loc["NEW1"]
    assert new["mode"] == "mobile" and new["services"] == ("grocery",) and new["municipality"] == "996"
    assert sc.config.services["grocery"].threshold_km == {"default": 3}
    assert ws.config.services["grocery"].threshold_km != {"default": 3}


def test_bad_scenarios_are_config_errors(demo_ws):
    ws = demo_ws
    with pytest.raises(ConfigError, match="unknown scenario"):
        apply_scenario(ws, "nope")
    ws.config.scenarios["bad"] = ScenarioConfig.model_validate(
        {"close_points": ["XX"], "thresholds": {"nosuch": {}}}
    )
    try:
        with pytest.raises(ConfigError, match="unknown point id.*XX.*unknown service 'nosuch'"):
            apply_scenario(ws, "bad")
    finally:
        del ws.config.scenarios["bad"]


def test_run_scenario_and_compare(tmp_path):
    cfg_path = api.copy_demo(tmp_path / "ws")
    base = api.run_pipeline(cfg_path, with_proposals=False, with_maps=False)
    scen = api.run_pipeline(
        cfg_path, scenario="kirjastoauto_lakkautetaan", with_proposals=False, with_maps=False
    )
    assert scen.results_dir == tmp_path / "ws" / "results-kirjastoauto_lakkautetaan"
    run = json.loads((scen.results_dir / "run.json").read_text())
    assert run["scenario"] == "kirjastoauto_lakkautetaan"
    b = base.gaps.summary.set_index(["municipality", "service"])["uncovered_population"]
    s = scen.gaps.summary.set_index(["municipality", "service"])["uncovered_population"]
    # Closing the mobile library leaves more people without a library, and nothing else changes.
    lib = [k for k in b.index if k[1] == "library"]
    assert sum(s[k] for k in lib) > sum(b[k] for k in lib)
    other = [k for k in b.index if k[1] not in ("library", "ALL")]
    assert all(abs(s[k] - b[k]) < 1e-9 for k in other)
    runner = CliRunner(env={"COLUMNS": "200"})
    r = runner.invoke(app, ["compare", str(base.results_dir), str(scen.results_dir), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["by"] == "run" and data["differences"]
    human = runner.invoke(
        app, ["compare", str(base.results_dir), str(scen.results_dir), "--out", str(tmp_path / "cmp")]
    )
    assert human.exit_code == 0, human.output
    assert "kirjastoauto_lakkautetaan" in human.output
    assert (tmp_path / "cmp" / "comparison.png").is_file()
    bad = runner.invoke(app, ["run", "-c", str(cfg_path), "--scenario", "nope"])
    assert bad.exit_code == 1 and "unknown scenario" in bad.output

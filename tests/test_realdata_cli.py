"""End to end through the CLI on the real shared data: the five pilot municipalities.

Skipped when ``../shared/data`` is absent.
"""

from __future__ import annotations

import json

import pytest
from _examples import build_pilot_workspace
from conftest import SHARED_DATA, requires_shared
from typer.testing import CliRunner

from arjenturva.cli import app

pytestmark = [pytest.mark.shared, requires_shared]


@pytest.fixture(scope="module")
def pilot_ws(tmp_path_factory):
    return build_pilot_workspace(SHARED_DATA, tmp_path_factory.mktemp("pilot") / "ws").parent


def test_validate_network_gaps_propose_cli(pilot_ws, tmp_path):
    runner = CliRunner(env={"COLUMNS": "200"})
    v = runner.invoke(app, ["validate", "-c", str(pilot_ws), "--json"])
    assert v.exit_code == 0, v.output
    assert json.loads(v.stdout)["layers"]["population"] > 50
    n = runner.invoke(app, ["network", "build", "-c", str(pilot_ws), "--json"])
    assert n.exit_code == 0, n.output
    info = json.loads(n.stdout)
    assert info["components"] >= 1 and info["km"] > 5000 and not info["from_cache"]
    cached = json.loads(runner.invoke(app, ["network", "info", "-c", str(pilot_ws), "--json"]).stdout)
    assert cached["from_cache"] and cached["nodes"] == info["nodes"]
    g = runner.invoke(app, ["gaps", "-c", str(pilot_ws), "--out", str(tmp_path / "r"), "--json"])
    assert g.exit_code == 0, g.output
    summary = {(r["municipality"], r["service"]): r for r in json.loads(g.stdout)["summary"]}
    # Posio and Pudasjärvi have no health facility in the OSM-derived data: large gaps there.
    assert summary[("614", "health_station")]["covered_share"] < 0.2
    assert summary[("615", "health_station")]["covered_share"] < 0.2
    # Tornio has health points: mostly covered.
    assert summary[("851", "health_station")]["covered_share"] > 0.8
    human = runner.invoke(app, ["gaps", "-c", str(pilot_ws), "--out", str(tmp_path / "h")])
    assert human.exit_code == 0 and "Pudasjärvi" in human.output and "Tornio" in human.output
    m = runner.invoke(app, ["propose", "-c", str(pilot_ws), "--out", str(tmp_path / "r"), "--model", "mclp",
                            "--p", "2", "--service", "health_station", "--json"])
    assert m.exit_code == 0, m.output
    loc = json.loads(m.stdout)
    assert len(loc["sites"]) == 2 and loc["demand_covered"] > 0

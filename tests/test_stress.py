"""Resilience (``stress.csv``): a hand case on a straight road, and the demo's top actor against a
``remove_actors`` scenario run."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box
from typer.testing import CliRunner

from arjenturva import api
from arjenturva import results as R
from arjenturva.config import config_from_dict
from arjenturva.coverage.stress import STRESS_COLUMNS, actor_stress
from arjenturva.network import network_from_lines
from arjenturva.scenarios import apply_scenario

X0, Y0 = 400_000.0, 7_300_000.0
SHOP = {"label": {"fi": "Kauppa", "en": "Shop"}, "threshold_km": {"default": 10}}


def _hand_case():
    """A 50 km road; cells at 5, 20 and 45 km; shops of actors A (company) at 0 km, B
    (cooperative) at 25 km and C (company) at 27 km; the threshold is 10 km.

    Cell a (100 people, 30 aged 65+) has only A's shop within 10 km; cell b has B's (5 km) and
    C's (7 km); cell c has none (18 km). So closing A uncovers cell a, closing B or C alone
    uncovers nobody, closing the company sector (A and C) uncovers cell a only, and closing the
    cooperative sector (B) nobody.
    """
    cfg = config_from_dict({
        "inputs": {"municipalities": {"path": "m.gpkg"}, "population": {"path": "p.csv"},
                   "service_points": {"path": "s.csv"}},
        "network": {"source": "roads.gpkg", "access_speed_kmh": 30},
        "services": {"shop": SHOP},
    })
    line = LineString([(X0, Y0), (X0 + 50_000, Y0)])
    roads = gpd.GeoDataFrame({"cls": ["main"]}, geometry=[line], crs=3067)
    net = network_from_lines(roads, class_column="cls", class_speeds_kmh={"main": 60})
    munis = gpd.GeoDataFrame({"code": ["999"], "name": ["Testi"]},
                             geometry=[box(X0 - 5000, Y0 - 5000, X0 + 55_000, Y0 + 5000)], crs=3067)
    cells = pd.DataFrame({"cell_id": ["a", "b", "c"], "population": [100.0, 50.0, 80.0],
                          "age_65_plus": [30.0, 10.0, 40.0], "age_0_14": 0.0, "age_15_64": 0.0,
                          "area_class": "K3", "suppressed": False, "municipality": "999"})
    at = [Point(X0 + d, Y0 + 100) for d in (5000, 20_000, 45_000)]
    pop = gpd.GeoDataFrame(cells, geometry=at, crs=3067)
    points = pd.DataFrame({"point_id": ["S1", "S2", "S3"], "name": ["A", "B", "C"],
                           "services": [("shop",)] * 3, "mode": "fixed", "days_per_week": np.nan,
                           "actor_id": ["A", "B", "C"], "municipality": "999"})
    sp = gpd.GeoDataFrame(points, geometry=[Point(X0 + d, Y0) for d in (0, 25_000, 27_000)], crs=3067)
    actors = pd.DataFrame({"actor_id": ["A", "B", "C"], "name": ["Kauppa A", "Osuuskunta B", "Kauppa C"],
                           "sector": ["company", "cooperative", "company"]})
    return cfg, net, pop, sp, munis, actors


def test_hand_case():
    cfg, net, pop, sp, munis, actors = _hand_case()
    res = actor_stress(cfg, net, pop, sp, munis, actors)
    t = res.table
    assert list(t.columns) == list(STRESS_COLUMNS)
    assert len(t) == 2
    a, company = t.iloc[0], t.iloc[1]
    assert (a["level"], a["actor_id"], a["actor_name"], a["sector"], a["rank"]) == ("actor", "A", "Kauppa A",
                                                                                    "company", 1)
    assert a["demand_losing_coverage"] == 100 and a["people_65_plus_losing_coverage"] == 30
    assert a["points_closed"] == 1 and a["municipality"] == "999" and a["municipality_name"] == "Testi"
    assert (company["level"], company["sector"], company["rank"], company["points_closed"]) == (
        "sector", "company", 1, 2)
    assert company["demand_losing_coverage"] == 100
    assert res.scenarios == 3 + 2  # three actors and two sectors, one service each


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    cfg = api.copy_demo(tmp_path_factory.mktemp("stress") / "ws")
    ws = api.load_workspace(cfg)
    net = api.build_network(ws.config)
    return cfg, ws, net, api.stress_test(ws, network=net)


def test_top_actor_equals_a_remove_actors_scenario(demo):
    cfg, ws, net, res = demo
    actors = res.table[res.table["level"] == "actor"]
    top = actors.iloc[0]["actor_id"]
    text = cfg.read_text(encoding="utf-8")
    scenario = f"scenarios:\n  without_top:\n    remove_actors: [{top}]\n"
    cfg.write_text(text.replace("scenarios:\n", scenario, 1), encoding="utf-8")
    ws2 = api.load_workspace(cfg)
    before = api.find_gaps(ws2, network=net).summary
    after = api.find_gaps(apply_scenario(ws2, "without_top"), network=net).summary
    key = ["municipality", "service"]
    rise = after.set_index(key)["uncovered_demand"] - before.set_index(key)["uncovered_demand"]
    rise65 = after.set_index(key)["uncovered_65_plus"] - before.set_index(key)["uncovered_65_plus"]
    rise = rise.drop(index="ALL", level="service", errors="ignore")
    mine = actors[actors["actor_id"] == top].set_index(key)
    changed = rise[rise.abs() > 1e-9]
    assert len(changed) > 0
    assert set(changed.index) == set(mine.index)
    np.testing.assert_allclose(mine["demand_losing_coverage"], changed.loc[mine.index], rtol=1e-9)
    np.testing.assert_allclose(mine["people_65_plus_losing_coverage"], rise65.loc[mine.index], rtol=1e-9)


def test_ranking_and_written_table(demo, tmp_path):
    res = demo[3]
    for _level, grp in res.table.groupby("level"):
        assert list(grp["rank"]) == list(range(1, len(grp) + 1))
        assert (np.diff(grp["demand_losing_coverage"].to_numpy()) <= 1e-9).all()
    cfg, ws, net, _ = demo
    api.write_gaps(api.find_gaps(ws, network=net), ws, net, tmp_path)
    path = api.write_stress(res, tmp_path)
    back = R.read_table(tmp_path, R.STRESS)
    assert list(back.columns) == list(STRESS_COLUMNS) and len(back) == len(res.table)
    from arjenturva.errors import OutputExistsError

    with pytest.raises(OutputExistsError):
        api.write_stress(res, tmp_path)
    assert path.name == "stress.csv"


def test_stress_cli(demo, tmp_path):
    from arjenturva.cli import app

    cfg = demo[0]
    out = tmp_path / "res"
    done = CliRunner().invoke(app, ["stress", "-c", str(cfg), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert (out / "stress.csv").is_file() and "Who alone keeps people covered" in done.output
    assert not (out / "report.html").exists()  # no reports were drawn in this folder: none are made
    again = CliRunner().invoke(app, ["stress", "-c", str(cfg), "--out", str(out), "--json"])
    assert again.exit_code == 1 and "--force" in again.output  # nothing overwritten without --force
    done = CliRunner().invoke(app, ["stress", "-c", str(cfg), "--out", str(out), "--json", "--force"])
    assert json.loads(done.output)["top"][0]["actor_id"] == demo[3].table.iloc[0]["actor_id"]
    assert R.has_table(out, R.SUMMARY)  # the gap outputs were written first

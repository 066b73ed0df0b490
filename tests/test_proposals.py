"""The proposals adapter on the demo workspace and on small hand-made cases."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_DIR
from shapely.geometry import LineString, Point, box
from typer.testing import CliRunner

from arjenturva import api
from arjenturva.cli import app
from arjenturva.config import config_from_dict
from arjenturva.coverage import find_gaps
from arjenturva.errors import ProposalError
from arjenturva.network import network_from_lines
from arjenturva.proposals import propose_partnerships


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    ws_dir = tmp_path_factory.mktemp("prop") / "ws"
    cfg_path = api.copy_demo(ws_dir)
    text = cfg_path.read_text(encoding="utf-8")
    cfg_path.write_text(text.replace("proposals:\n", "proposals:\n  time_limit_s: 8\n", 1), encoding="utf-8")
    ws = api.load_workspace(cfg_path)
    net = api.build_network(ws.config)
    gaps = api.find_gaps(ws, network=net)
    return ws, net, gaps


def _cfg(ws, **changes):
    pc = ws.config.proposals.model_copy(update=changes)
    return ws.config.model_copy(update={"proposals": pc})


def test_demo_proposals_cover_the_built_in_gaps(demo):
    ws, net, gaps = demo
    res = propose_partnerships(
        ws.config,
        net,
        gaps,
        ws.actors,
        ws.service_points,
        places=ws.places,
        services=["health_station", "grocery"],
    )
    assert len(res.proposals) > 0
    assert res.solution is not None and res.solution.status in ("optimal", "time_limit", "greedy")
    expected = json.loads((DEMO_DIR / "expected_gaps.json").read_text())
    summary = res.summary.set_index(["municipality", "service"])
    for service in ("health_station", "grocery"):
        munis = {v["municipality"] for v in expected[service]["villages"]}
        for m in munis:
            row = summary.loc[(m, service)]
            assert row["uncovered_population_after"] < row["uncovered_population_before"]
    # Every agreement is by an actor that offers the service, in an allowed sector and area.
    actors = ws.actors.set_index("actor_id")
    for r in res.proposals.itertuples(index=False):
        a = actors.loc[r.actor_id]
        assert r.service in a["services"]
        assert r.sector in ws.config.services[r.service].sectors
        assert "*" in a["municipalities"] or r.municipality in a["municipalities"]
        assert r.mode in a["modes"]
        assert r.rationale.endswith(".") and r.site_name in r.rationale
    # Budgets hold.
    pc = ws.config.proposals
    fixed_sites = res.proposals[res.proposals["mode"] == "fixed"][["site_x", "site_y"]].drop_duplicates()
    assert len(fixed_sites) <= pc.max_new_sites
    assert (res.proposals["mode"] == "mobile").sum() <= pc.max_mobile_routes
    assert (res.proposals["mode"] == "remote").sum() <= pc.max_remote_points


def test_mobile_agreements_respect_max_travel(demo):
    ws, net, gaps = demo
    res = propose_partnerships(
        _cfg(ws, max_new_sites=0, max_remote_points=0),
        net,
        gaps,
        ws.actors,
        ws.service_points,
        places=ws.places,
        services=["grocery"],
    )
    mobile = res.proposals[res.proposals["mode"] == "mobile"]
    assert len(mobile) > 0
    actors = ws.actors.set_index("actor_id")
    for r in mobile.itertuples(index=False):
        limit = actors.loc[r.actor_id, "max_travel_km"]
        limit = limit if np.isfinite(limit) else ws.config.proposals.default_max_travel_km
        assert r.distance_from_base_km <= limit + 1e-6
        assert r.days_per_week in ws.config.proposals.mobile_days


def test_nothing_to_propose_is_explained(demo):
    ws, net, gaps = demo
    no_capacity = ws.actors.assign(capacity=0.0)
    res = propose_partnerships(ws.config, net, gaps, no_capacity, ws.service_points, services=["grocery"])
    assert res.proposals.empty and res.message and res.reason == "at_capacity"
    nobody = ws.actors.assign(services=[("library",)] * len(ws.actors))
    res2 = propose_partnerships(ws.config, net, gaps, nobody, ws.service_points, services=["grocery"])
    assert res2.proposals.empty and res2.reason == "no_options" and "mikään toimija" in res2.message


def test_contradictory_config_is_an_error(demo):
    ws, net, gaps = demo
    with pytest.raises(ProposalError, match="min_sectors"):
        propose_partnerships(_cfg(ws, min_sectors=12), net, gaps, ws.actors, ws.service_points)


# --- A hand-made line: one village beyond the threshold, two actors -------------------------------

X0, Y0 = 400_000.0, 7_300_000.0


def _line_case(actors_rows, *, sectors=("company", "cooperative", "association"), min_sectors=1):
    cfg = config_from_dict(
        {
            "language": "en",
            "inputs": {
                "municipalities": {"path": "m"},
                "population": {"path": "p"},
                "service_points": {"path": "s"},
            },
            "network": {"source": "r.gpkg"},
            "services": {
                "shop": {
                    "label": {"fi": "Kauppa", "en": "Shop"},
                    "threshold_km": {"default": 10},
                    "sectors": list(sectors),
                    "mobile": {"required_days": 2},
                }
            },
            "proposals": {
                "max_new_sites": 1,
                "max_mobile_routes": 1,
                "max_remote_points": 0,
                "min_sectors": min_sectors,
                "max_actor_share": 1.0,
                "time_limit_s": 10,
            },
        }
    )
    roads = gpd.GeoDataFrame(geometry=[LineString([(X0, Y0), (X0 + 60_000, Y0)])], crs=3067)
    net = network_from_lines(roads)
    munis = gpd.GeoDataFrame(
        {"code": ["999"], "name": ["Testi"]},
        geometry=[box(X0 - 5000, Y0 - 5000, X0 + 65_000, Y0 + 5000)],
        crs=3067,
    )
    pop = gpd.GeoDataFrame(
        {
            "cell_id": ["v1", "v2"],
            "population": [120.0, 80.0],
            "age_0_14": [0.0, 0.0],
            "age_15_64": [60.0, 40.0],
            "age_65_plus": [60.0, 40.0],
            "area_class": ["M7", "M7"],
            "suppressed": [False, False],
            "municipality": ["999", "999"],
        },
        geometry=[Point(X0 + 50_000, Y0 + 100), Point(X0 + 51_000, Y0 + 100)],
        crs=3067,
    )
    sp = gpd.GeoDataFrame(
        {
            "point_id": ["S1"],
            "name": ["Keskustan kauppa"],
            "services": [("shop",)],
            "actor_id": [""],
            "mode": ["fixed"],
            "days_per_week": [np.nan],
            "capacity": [np.nan],
            "municipality": ["999"],
        },
        geometry=[Point(X0, Y0)],
        crs=3067,
    )
    actors = gpd.GeoDataFrame(
        pd.DataFrame(actors_rows).drop(columns=["x", "y"]),
        geometry=[Point(r["x"], r["y"]) for r in actors_rows],
        crs=3067,
    )
    gaps = find_gaps(cfg, net, pop, sp, munis)
    return cfg, net, gaps, actors, sp


def _actor(aid, sector, *, capacity=np.inf, modes=("fixed", "mobile"), x=X0, max_km=80.0):
    return {
        "actor_id": aid,
        "name": f"Actor {aid}",
        "sector": sector,
        "services": ("shop",),
        "capacity": capacity,
        "municipalities": ("*",),
        "modes": modes,
        "max_travel_km": max_km,
        "employment_scheme": False,
        "cost_per_km": 1.0,
        "languages": ("fi",),
        "base_municipality": "999",
        "x": x,
        "y": Y0,
    }


def test_line_case_covers_the_village():
    cfg, net, gaps, actors, sp = _line_case([_actor("A", "company")])
    res = propose_partnerships(cfg, net, gaps, actors, sp)
    assert res.solution.status == "optimal"
    assert len(res.proposals) >= 1
    row = res.summary.iloc[0]
    assert row["uncovered_population_before"] == 200 and row["uncovered_population_after"] == 0
    assert (
        "200 residents" in " ".join(res.proposals["rationale"])
        or res.proposals["people_reached"].sum() == 200
    )


def test_binding_capacity_changes_the_actor():
    # Actor A (company) cannot take the load (5 clients/week for 200 people at 0.05); B can.
    cfg, net, gaps, actors, sp = _line_case(
        [_actor("A", "company", capacity=1.0), _actor("B", "cooperative", capacity=100.0)]
    )
    res = propose_partnerships(cfg, net, gaps, actors, sp)
    assert set(res.proposals["actor_id"]) == {"B"}


def test_sector_rule_excludes_a_sector():
    cfg, net, gaps, actors, sp = _line_case([_actor("A", "association")], sectors=("company",))
    res = propose_partnerships(cfg, net, gaps, actors, sp)
    assert res.proposals.empty and res.reason == "no_options" and "no actor can cover" in res.message


def test_mobile_beyond_max_travel_is_not_offered():
    # Only mobile mode, base 50 km away, max travel 20 km: nothing can be proposed.
    cfg, net, gaps, actors, sp = _line_case([_actor("A", "company", modes=("mobile",), max_km=20.0)])
    res = propose_partnerships(cfg, net, gaps, actors, sp)
    assert res.proposals.empty
    cfg2, net2, gaps2, actors2, sp2 = _line_case([_actor("A", "company", modes=("mobile",), max_km=80.0)])
    res2 = propose_partnerships(cfg2, net2, gaps2, actors2, sp2)
    assert list(res2.proposals["mode"]) == ["mobile"]
    assert res2.proposals["distance_from_base_km"].iloc[0] == pytest.approx(50.0, abs=0.2)


def test_propose_cli_and_classic_model(demo, tmp_path):
    ws, _, _ = demo
    runner = CliRunner(env={"COLUMNS": "200"})
    cfg_path = ws.config.base_dir / "arjenturva.yaml"
    r = runner.invoke(
        app, ["propose", "-c", str(cfg_path), "--out", str(tmp_path / "r"), "-s", "health_station", "--json"]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["status"] in ("optimal", "time_limit", "greedy") and data["agreements"]
    assert (tmp_path / "r" / "proposals.csv").is_file()
    layers = {str(n) for n in __import__("pyogrio").list_layers(tmp_path / "r" / "results.gpkg")[:, 0]}
    assert {"proposals", "new_sites", "gap_areas"} <= layers
    again = runner.invoke(
        app, ["propose", "-c", str(cfg_path), "--out", str(tmp_path / "r"), "-s", "grocery"]
    )
    assert again.exit_code == 1 and "--force" in again.output
    m = runner.invoke(
        app,
        [
            "propose",
            "-c",
            str(cfg_path),
            "--out",
            str(tmp_path / "r"),
            "--model",
            "mclp",
            "--p",
            "2",
            "--service",
            "health_station",
            "--json",
        ],
    )
    assert m.exit_code == 0, m.output
    loc = json.loads(m.stdout)
    assert len(loc["sites"]) == 2 and loc["demand_covered"] <= loc["demand_total"]
    bad = runner.invoke(
        app, ["propose", "-c", str(cfg_path), "--model", "mclp", "--service", "health_station"]
    )
    assert bad.exit_code == 1 and "--p" in bad.output


def test_service_without_any_point_gets_proposals(template_ws):
    """A service nobody offers yet: its cells are on the network (distance inf) and still count."""
    with (template_ws / "actors.csv").open("a", encoding="utf-8") as f:
        f.write(
            "A2,Pohjolan hyvinvointialue,wellbeing_county,health_station,500,*,fixed;mobile,80,false,1,"
            "fi,452000,7321000\n"
        )
    runner = CliRunner(env={"COLUMNS": "200"})
    r = runner.invoke(app, ["propose", "-c", str(template_ws), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    health = [a for a in data["agreements"] if a["service"] == "health_station"]
    assert health and health[0]["actor_id"] == "A2"
    assert "ei tavoita nyt tieverkolla" in health[0]["rationale"]
    after = {c["service"]: c for c in data["coverage"]}["health_station"]
    assert after["uncovered_population_before"] == 42 and after["uncovered_population_after"] == 0

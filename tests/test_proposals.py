"""The proposals adapter on the demo workspace and on small hand-made cases."""

from __future__ import annotations

import json
import os
import re

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
from arjenturva.proposals import location_matrix, propose_partnerships, solve_pmedian


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    ws_dir = tmp_path_factory.mktemp("prop") / "ws"
    cfg_path = api.copy_demo(ws_dir)
    text = cfg_path.read_text(encoding="utf-8")
    assert "  time_limit_s: 20 " in text
    cfg_path.write_text(text.replace("  time_limit_s: 20 ", "  time_limit_s: 8 ", 1), encoding="utf-8")
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


def _line_case(actors_rows, *, sectors=("company", "cooperative", "association"), min_sectors=1, ages=True):
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
            "age_0_14": [0.0, 0.0] if ages else [np.nan, np.nan],
            "age_15_64": [60.0, 40.0] if ages else [np.nan, np.nan],
            "age_65_plus": [60.0, 40.0] if ages else [np.nan, np.nan],
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
    assert "ei tavoita tieverkolla yhtään palvelupistettä" in health[0]["rationale"]
    after = {c["service"]: c for c in data["coverage"]}["health_station"]
    assert after["uncovered_population_before"] == 42 and after["uncovered_population_after"] == 0


# --- p-median on the demo: every service, p = 1..5, against spopt --------------------------------

# PySAL spopt 0.7.0's PMedian (from_cost_matrix, CBC through PuLP) on the demo's p-median matrices
# (location_matrix: road km, every cell to every site it reaches, no cut-off). There are three
# distinct matrices (the services' demand groups) and each solve takes spopt one to two minutes,
# so the optima are recorded here with the matrix they came from (shape, sum of costs and of
# weights); ARJENTURVA_SPOPT_DEMO=1 solves them again with spopt in the test.
SPOPT_DEMO_OPTIMA = {
    "population": (
        (979, 137),
        7476589.381,
        17847.0,
        [636002.1560024996, 365587.8351945857, 308435.8570170836, 261891.2813602225, 220484.9904558055],
    ),
    "age_0_14": (
        (809, 137),
        6153534.766,
        2616.0,
        [91750.72938975236, 51537.91650211254, 44071.34548171387, 37186.79491913377, 31241.26458786481],
    ),
    "age_65_plus": (
        (941, 137),
        7191375.563,
        6612.0,
        [244532.07356636057, 146381.69001729664, 123151.00607547634, 104589.9082346733, 87340.98492394395],
    ),
}


def _spopt_pmedian(cost: np.ndarray, weights: np.ndarray, p: int) -> float:
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    model = locate.PMedian.from_cost_matrix(cost, weights, p_facilities=p)
    return float(model.solve(pulp.PULP_CBC_CMD(msg=False)).problem.objective.value())


def _best_of_one_and_two(cost: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """The p-median optima for p = 1 and 2 by trying every site and every pair of sites."""
    one = float((weights @ cost).min())
    two = min(
        float((weights @ np.minimum(cost[:, [a]], cost[:, a + 1 :])).min()) for a in range(cost.shape[1] - 1)
    )
    return one, two


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pulp 3.x deprecations inside spopt
def test_pmedian_matches_spopt_for_every_service_of_the_demo_and_p_1_to_5(demo):
    ws, net, gaps = demo
    live = os.environ.get("ARJENTURVA_SPOPT_DEMO") == "1"
    for sid, svc in ws.config.services.items():
        lm = location_matrix(
            ws.config, net, gaps, ws.service_points, ws.actors, model="pmedian", service=sid, places=ws.places
        )
        cost = lm.cost.toarray()
        assert lm.cost.nnz == cost.size  # the full matrix: every cell reaches every site
        shape, cost_sum, weight_sum, optima = SPOPT_DEMO_OPTIMA[svc.demand]
        assert cost.shape == shape
        assert cost.sum() == pytest.approx(cost_sum, abs=0.01) and lm.weights.sum() == weight_sum
        one, two = _best_of_one_and_two(cost, lm.weights)
        assert optima[:2] == pytest.approx([one, two], rel=1e-9)
        for p in range(1, 6):
            res = api.locate_facilities(ws, model="pmedian", service=sid, p=p, network=net, gaps=gaps)
            assert res.status == "optimal" and len(res.sites) == p
            assert res.objective == pytest.approx(optima[p - 1], rel=1e-9)
            assert res.demand_covered == pytest.approx(lm.weights.sum()) and res.excluded_demand >= 0
            if live:
                assert res.objective == pytest.approx(_spopt_pmedian(cost, lm.weights, p), rel=1e-9)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pulp 3.x deprecations inside spopt
def test_pmedian_matches_spopt_live_on_part_of_the_demo_matrix(demo):
    ws, net, gaps = demo
    lm = location_matrix(
        ws.config,
        net,
        gaps,
        ws.service_points,
        ws.actors,
        model="pmedian",
        service="grocery",
        places=ws.places,
    )
    rows = np.arange(0, lm.cost.shape[0], 12)  # every 12th cell: small enough for spopt in seconds
    cost, weights = lm.cost.toarray()[rows], lm.weights[rows]
    for p in range(1, 6):
        ours = solve_pmedian(cost, weights, p)
        assert ours.objective == pytest.approx(_spopt_pmedian(cost, weights, p), rel=1e-9)


def test_pmedian_p_1_from_the_cli(demo, tmp_path):
    """Once infeasible: the cost matrix was cut at 3x the largest threshold."""
    ws, _, _ = demo
    r = CliRunner(env={"COLUMNS": "200"}).invoke(
        app,
        [
            "propose",
            "-c",
            str(ws.config.base_dir / "arjenturva.yaml"),
            "--out",
            str(tmp_path / "r"),
            "--model",
            "pmedian",
            "--p",
            "1",
            "--service",
            "grocery",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    loc = json.loads(r.stdout)
    assert len(loc["sites"]) == 1 and loc["objective"] == pytest.approx(SPOPT_DEMO_OPTIMA["population"][3][0])


# --- Proposals worth reading: the demo run's proposals.csv -----------------------------------------


@pytest.fixture(scope="module")
def demo_props(demo_run):
    """proposals.csv of the session's demo run, read back through the results contract."""
    from arjenturva import results as R
    from arjenturva.config import load_config

    return R.read_table(demo_run.results, R.PROPOSALS), load_config(demo_run.workspace)


def test_demo_agreements_cover_someone_and_meet_their_minimum(demo_props):
    props, cfg = demo_props
    assert len(props) > 0
    assert (props["demand_covered"] > 0).all()
    assert (props["demand_reached"] >= props["demand_covered"] - 0.05).all()
    for r in props.itertuples(index=False):
        assert r.demand_covered >= cfg.services[r.service].min_demand_for(r.mode) - 0.05, r.agreement_id
    home = [sid for sid, svc in cfg.services.items() if svc.delivery == "home"]
    assert home == ["elder_home_care"]
    assert not (props["service"].isin(home) & (props["mode"] == "fixed")).any()
    # The demo's fixed minimums hold: no fixed school or day care for fewer than 25 children, no
    # fixed health station in a village.
    fixed = props[props["mode"] == "fixed"]
    assert (fixed.loc[fixed["service"].isin(["school", "day_care"]), "demand_covered"] >= 25).all()
    assert not fixed["service"].isin(["health_station", "dental", "social_services"]).any()


def test_demo_mobile_and_remote_get_their_share(demo_props):
    props, cfg = demo_props
    pc = cfg.proposals
    counts = props["mode"].value_counts()
    assert counts.get("mobile", 0) == pc.max_mobile_routes
    assert counts.get("remote", 0) >= pc.max_remote_points - 1
    assert counts.get("fixed", 0) <= len(props) * 2 / 3
    # No stacking: one agreement per service at a site and mode.
    assert not props.duplicated(["service", "site_x", "site_y", "mode"]).any()


def _village_gap_areas(demo_run, service: str) -> dict[str, list[str]]:
    from shapely.geometry import Point as P

    from arjenturva import results as R

    areas = R.read_layer(demo_run.results, R.GAP_AREAS)
    areas = areas[areas["service"] == service]
    expected = json.loads((demo_run.workspace / "expected_gaps.json").read_text())
    return {
        v["name"]: areas.loc[areas.geometry.buffer(600).contains(P(v["x"], v["y"])), "gap_area_id"].tolist()
        for v in expected[service]["villages"]
    }


def _agreements_of(props, service: str, gap_area_ids: list[str]):
    sub = props[props["service"] == service]
    return sub[sub["gap_areas"].fillna("").map(lambda s: bool(set(s.split(";")) & set(gap_area_ids)))]


def _covered_after_routes(demo_run, service: str) -> dict[str, float]:
    """Each built-in gap village's coverage of ``service`` after the weekly routes the run planned
    (its route_stops as mobile points, measured again with the gap rules)."""
    from shapely.geometry import Point as P

    from arjenturva import api
    from arjenturva import results as R
    from arjenturva.routes import with_routes

    ws = api.load_workspace(demo_run.workspace)
    net = api.build_network(ws.config)
    stops = R.read_layer(demo_run.results, R.ROUTE_STOPS)
    added = stops.assign(point_id="route_" + stops["stop_id"], name=stops["place"], actor_id="")
    after = api.find_gaps(with_routes(ws, added), network=net, services=[service]).access.set_index("cell_id")
    cells = ws.population.set_index("cell_id").geometry
    expected = json.loads((demo_run.workspace / "expected_gaps.json").read_text())
    out = {}
    for v in expected[service]["villages"]:
        near = cells[cells.distance(P(v["x"], v["y"])) < 600].index
        out[v["name"]] = float(after.loc[near, "coverage"].max()) if len(near) else 0.0
    return out


def test_demo_built_in_gaps_are_closed_as_its_readme_says(demo_run, demo_props):
    """Mobile services close the built-in gaps: the weekly routes of the demo's vehicles (planned
    first by ``run``), or a mobile or remote agreement where no route reaches."""
    props, _ = demo_props
    for service in ("health_station", "grocery"):
        routed = _covered_after_routes(demo_run, service)
        for village, areas in _village_gap_areas(demo_run, service).items():
            agreements = _agreements_of(props, service, areas)
            assert routed[village] > 0 or len(agreements) > 0, (service, village)
            if len(agreements):
                assert set(agreements["mode"]) <= {"mobile", "remote"}, (service, village)
    readme = (demo_run.workspace / "README.md").read_text(encoding="utf-8")
    assert "mobile health units close the health-station gaps" in readme


def test_rationale_for_reproduces_proposals_csv_and_speaks_english(demo_props):
    from arjenturva.proposals import rationale_for

    props, cfg = demo_props
    rows = props.to_dict("records")
    for row in rows:
        assert row["rationale"] == rationale_for(row, cfg, "fi"), row["agreement_id"]
    for row in rows:
        en = rationale_for(row, cfg, "en")
        assert cfg.services[row["service"]].label.en in en
        assert "would provide it as a" in en
        assert "asukasta" not in en and "tarjoaisi" not in en
    school = next(r for r in rows if r["service"] == "school")
    assert "lasta (0–14 v.)" in school["rationale"] and "65" not in school["rationale"]
    assert "children aged 0–14" in rationale_for(school, cfg, "en")
    home = next(r for r in rows if r["service"] == "elder_home_care")
    assert "yli 65-vuotiasta" in home["rationale"]
    assert "residents aged 65+" in rationale_for(home, cfg, "en")
    # A remote service counts in part: its covered demand is an equivalent, and says so.
    remote = next(r for r in rows if r["mode"] == "remote")
    assert remote["demand_covered"] < remote["demand_reached"]
    assert "se kattaisi laskennallisesti" in remote["rationale"]
    assert "covering the equivalent of" in rationale_for(remote, cfg, "en")
    full = next(r for r in rows if r["mode"] == "fixed")
    assert "laskennallisesti" not in full["rationale"]


_NUMBER = {
    "fi": re.compile(r"\d{1,3}(?:\u00a0\d{3})*(?:,\d+)?"),
    "en": re.compile(r"\d{1,3}(?:,\d{3})*(?:\.\d+)?"),
}
_FIGURES = (
    "demand_reached",
    "demand_covered",
    "covered_65_plus",
    "distance_today_km",
    "threshold_km",
    "threshold_min",
    "days_per_week",
    "distance_from_base_km",
    "site_place_km",
)


def _numbers(text: str, lang: str) -> list[float]:
    for fixed in ("0–14", "15–64", "65+", "65-vuotia"):
        text = text.replace(fixed, "")
    found = _NUMBER[lang].findall(text)
    if lang == "fi":
        return [float(n.replace("\u00a0", "").replace(",", ".")) for n in found]
    return [float(n.replace(",", "")) for n in found]


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_every_rationale_number_is_a_figure_of_its_row(demo_props, lang):
    from arjenturva import labels
    from arjenturva.proposals import rationale_for

    props, cfg = demo_props
    for row in props.to_dict("records"):
        text = row["rationale"] if lang == "fi" else rationale_for(row, cfg, lang)
        figures = [float(row[c]) for c in _FIGURES if row[c] is not None and np.isfinite(row[c])]
        numbers = _numbers(text.replace(row["actor_name"], ""), lang)
        assert numbers, text
        for x in numbers:
            assert any(abs(x - f) <= 0.5 for f in figures), (x, text)
        # The key figures are there, formatted for the language.
        for col in ("demand_reached", "demand_covered"):
            assert labels.format_number(row[col], lang) in text
        thr = row["threshold_km"]
        assert f"{labels.format_number(thr, lang, 0 if float(thr).is_integer() else 1)} km" in text
        if row["mode"] == "mobile" and row["days_per_week"] != 1:
            assert labels.format_number(row["days_per_week"], lang) in text
        if row["gap_reason"] != "unreachable":
            dist = row["distance_today_km"]
            assert labels.format_number(dist, lang, 1 if dist < 10 else 0) in text


def test_sites_away_from_places_are_named_by_their_relation(demo_props):
    from arjenturva.proposals import rationale_for

    props, cfg = demo_props
    far = props[props["site_bearing"].notna()]
    near = props[(props["site_kind"] == "gap_area") & props["site_bearing"].isna()]
    assert len(far) > 0
    assert (far["site_place_km"] > 1.0).all() and (near["site_place_km"] <= 1.0).all()
    assert (near["site_name"] == near["site_place"]).all()
    directions = "pohjoiseen|koilliseen|itään|kaakkoon|etelään|lounaaseen|länteen|luoteeseen"
    for row in far.to_dict("records"):
        assert re.fullmatch(rf"\d+,\d km ({directions}) \S.*", row["site_name"]), row["site_name"]
        en = rationale_for(row, cfg, "en")
        km = f"{row['site_place_km']:.1f}"
        assert en.startswith(f"{km} km {row['site_bearing']} of {row['site_place']}, "), en
    assert "10,8 km itään Routajärven kirkonkylästä" in set(props["site_name"])


def test_site_label_and_finnish_place_names():
    from arjenturva.proposals.rationale import elative_fi, site_label

    assert elative_fi("Korpiranta") == "Korpirannasta"
    assert elative_fi("Kaarnalampi") == "Kaarnalammesta"
    assert elative_fi("Routajärven kirkonkylä") == "Routajärven kirkonkylästä"
    assert elative_fi("Ylä-Kaarna") == "Ylä-Kaarnasta"
    assert elative_fi("Kittilä") == "Kittilästä"
    assert elative_fi("Kemi") is None and elative_fi("Liminka") is None
    row = {"site_name": "x", "site_place": "Korpiranta", "site_place_km": 9.6, "site_bearing": "NE"}
    assert site_label(row, "fi") == "9,6 km koilliseen Korpirannasta"
    assert site_label(row, "en") == "9.6 km NE of Korpiranta"
    assert site_label({**row, "site_place": "Kemi"}, "fi") == "9,6 km koilliseen paikasta Kemi"
    assert site_label({**row, "site_bearing": None, "site_name": "Korpiranta"}, "fi") == "Korpiranta"


def test_unknown_age_groups_are_said_to_be_unknown():
    cfg, net, gaps, actors, sp = _line_case([_actor("A", "company")], ages=False)
    res = propose_partnerships(cfg, net, gaps, actors, sp)
    assert len(res.proposals) == 1
    row = res.proposals.iloc[0]
    assert np.isnan(row["covered_65_plus"])
    assert "(age groups unknown)" in row["rationale"] and "aged 65+" not in row["rationale"]
    # With age groups, the same agreement counts its residents aged 65+.
    cfg2, net2, gaps2, actors2, sp2 = _line_case([_actor("A", "company")])
    row2 = propose_partnerships(cfg2, net2, gaps2, actors2, sp2).proposals.iloc[0]
    assert "(100 of them aged 65+)" in row2["rationale"]


def test_warnings_name_municipalities(demo):
    ws, net, gaps = demo
    res = propose_partnerships(
        _cfg(ws, min_sectors=4, max_new_sites=1, max_mobile_routes=1, max_remote_points=0),
        net,
        gaps,
        ws.actors,
        ws.service_points,
        places=ws.places,
        services=["health_station", "grocery"],
    )
    shortfall = [w for w in res.warnings if "monialaisuussääntöä" in w]
    assert shortfall
    assert all(w.startswith(("Kaarnavaara (996): ", "Routajärvi (997): ")) for w in shortfall)
    assert not any(re.search(r"municipality \d", w) for w in res.warnings)


def test_home_care_is_never_a_fixed_point(demo):
    ws, net, gaps = demo
    res = propose_partnerships(
        _cfg(ws, max_mobile_routes=0, max_remote_points=0),
        net,
        gaps,
        ws.actors,
        ws.service_points,
        places=ws.places,
        services=["elder_home_care"],
    )
    assert res.proposals.empty
    svc = ws.config.services["elder_home_care"].model_copy(update={"delivery": "point"})
    point_cfg = _cfg(ws, max_mobile_routes=0, max_remote_points=0).model_copy(
        update={"services": {**ws.config.services, "elder_home_care": svc}}
    )
    fixed = propose_partnerships(
        point_cfg, net, gaps, ws.actors, ws.service_points, places=ws.places, services=["elder_home_care"]
    )
    assert set(fixed.proposals["mode"]) == {"fixed"}


def test_an_agreement_only_for_the_sector_rule_is_not_kept():
    # Both actors can cover the one village; the second adds nobody, however the cross-sector rule
    # (two sectors) would like it. It is solved away and the rule's shortfall is reported instead.
    cfg, net, gaps, actors, sp = _line_case(
        [_actor("A", "company"), _actor("B", "cooperative")], min_sectors=2
    )
    res = propose_partnerships(cfg, net, gaps, actors, sp)
    assert len(res.proposals) == 1
    assert (res.proposals["demand_covered"] > 0).all()
    assert res.summary.iloc[0]["uncovered_population_after"] == 0
    assert any(w.startswith("Testi (999): the cross-sector rule") for w in res.warnings), res.warnings


def test_cross_sector_price_without_a_second_solve_when_the_rule_costs_nothing(demo, monkeypatch):
    """On the demo the agreements chosen under the cross-sector rule reach the LP bound without
    the rule: the price is 0 without a second MIP, and a second solve without the rule (as the
    price used to be measured) gives the same score and newly covered demand."""
    from arjenturva.proposals import price as price_mod
    from arjenturva.proposals.build import build_problem
    from arjenturva.proposals.evaluate import evaluate_selection
    from arjenturva.proposals.mip import lp_bound

    ws, net, gaps = demo
    assert ws.config.proposals.min_sectors > 1
    res = propose_partnerships(ws.config, net, gaps, ws.actors, ws.service_points, places=ws.places)
    free = _cfg(ws, min_sectors=0)
    free.base_dir, free.path = ws.config.base_dir, ws.config.path
    solved = propose_partnerships(free, net, gaps, ws.actors, ws.service_points, places=ws.places)

    def no_second_solve(*_args, **_kwargs):
        raise AssertionError("the price solved again")

    monkeypatch.setattr(price_mod, "propose_partnerships", no_second_solve)
    price = price_mod.cross_sector_price(ws.config, net, gaps, ws.actors, ws.service_points, res,
                                         places=ws.places)
    assert price is not None and price.price == 0.0
    assert price.covered_without_rule == pytest.approx(price_mod.newly_covered(solved), rel=1e-9)
    assert price.agreements_without_rule == len(res.proposals)
    # The LP bound is an upper bound of every score, met here by the solutions of both solves.
    problem = build_problem(free, net, gaps, ws.actors, ws.service_points, places=ws.places).problem
    bound = lp_bound(problem)
    for sol in (res.solution, solved.solution):
        assert evaluate_selection(problem, sol.chosen).score == pytest.approx(bound, rel=1e-6)


def test_lp_bound_is_above_every_selection(demo):
    """The LP bound is at least the score of the MIP's solution and of greedy selections on a
    problem where the rule binds (every sector in every municipality)."""
    from arjenturva.proposals.build import build_problem
    from arjenturva.proposals.evaluate import evaluate_selection
    from arjenturva.proposals.greedy import solve_greedy
    from arjenturva.proposals.mip import lp_bound, solve_mip

    ws, net, gaps = demo
    strict = _cfg(ws, min_sectors=5)
    strict.base_dir, strict.path = ws.config.base_dir, ws.config.path
    problem = build_problem(strict, net, gaps, ws.actors, ws.service_points, places=ws.places).problem
    bound = lp_bound(problem)
    mip = solve_mip(problem, time_limit_s=20, mip_gap=1e-6)
    assert mip.score <= bound * (1 + 1e-9)
    assert solve_greedy(problem).score <= bound * (1 + 1e-9)
    assert evaluate_selection(problem, mip.chosen[: mip.chosen.size // 2]).score <= bound * (1 + 1e-9)

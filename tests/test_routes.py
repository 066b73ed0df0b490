"""Weekly mobile routes (``arjenturva routes``): a hand-made network whose best routes are known, the
solver against brute force over every stop subset and order, and the demo through the CLI: the
working day kept, times consistent, lines along the roads, coverage equal to a scenario run."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from shapely.geometry import LineString, box

from arjenturva import api
from arjenturva import results as R
from arjenturva.cli import app
from arjenturva.config import config_from_dict
from arjenturva.network import edges_geodataframe
from arjenturva.routes import BASE_STOP_ID, RouteError, Vehicle, timetable_lines
from arjenturva.routes.costs import RoutePoints
from arjenturva.routes.solve import DayProblem, solve_day
from arjenturva.scenarios import apply_scenario

X0, Y0 = 400_000.0, 7_300_000.0
KM = 1000.0
ROUTE_COLUMNS = [
    "vehicle_id",
    "actor_id",
    "weekday",
    "stop_order",
    "stop_id",
    "place",
    "x",
    "y",
    "arrival",
    "departure",
    "leg_km",
    "leg_min",
    "services",
    "people_served",
    "max_duration_min",
]

# --- a hand-made network ---------------------------------------------------------------------------
#
# The base B at 0 km on a road east: V1 at 20 km, the junction J at 30 km, V2 at 40 km, V3 at 60 km;
# from J a road north to V4 (20 km). Every road is driven at 60 km/h (a km a minute). The clinic's
# threshold is 5 km, so a stop serves its own village only; a stop lasts 30 minutes. V1 100 people,
# V2 100, V3 60, V4 150. Round trips (travel + stops): {V1} 70 min, {V2} 110, {V4} 130,
# {V1, V2} 140 (80 km), {V1, V4} 160 (100 km), {V2, V4} 180, {V1, V2, V4} 210, {V1, V2, V3} 210.

VILLAGES = {"V1": (20, 0, 100), "V2": (40, 0, 100), "V3": (60, 0, 60), "V4": (30, 20, 150)}


def _hand_workspace(folder: Path, *, hours: float, max_km: float | str = "") -> Path:
    folder.mkdir(parents=True)
    xy = {"B": (0, 0), "J": (30, 0), **{k: (x, y) for k, (x, y, _p) in VILLAGES.items()}}
    segments = [("B", "V1"), ("V1", "J"), ("J", "V2"), ("V2", "V3"), ("J", "V4")]
    lines = [
        LineString([(X0 + xy[a][0] * KM, Y0 + xy[a][1] * KM), (X0 + xy[b][0] * KM, Y0 + xy[b][1] * KM)])
        for a, b in segments
    ]
    gpd.GeoDataFrame({"cls": ["road"] * len(lines)}, geometry=lines, crs=3067).to_file(folder / "roads.gpkg")
    gpd.GeoDataFrame(
        {"code": ["999"], "name": ["Testi"]},
        geometry=[box(X0 - 5 * KM, Y0 - 5 * KM, X0 + 65 * KM, Y0 + 25 * KM)],
        crs=3067,
    ).to_file(folder / "municipalities.gpkg")
    cells = [f"{k},{p},{X0 + x * KM:.0f},{Y0 + y * KM:.0f}" for k, (x, y, p) in VILLAGES.items()]
    (folder / "population.csv").write_text(
        "cell_id,population,x,y\n" + "\n".join(cells) + "\n", encoding="utf-8"
    )
    places = [f"{k},{X0 + x * KM:.0f},{Y0 + y * KM:.0f}" for k, (x, y, _p) in VILLAGES.items()]
    (folder / "places.csv").write_text("name,x,y\n" + "\n".join(places) + "\n", encoding="utf-8")
    (folder / "service_points.csv").write_text(
        f"point_id,name,services,mode,x,y\nP1,Keskus,clinic,fixed,{X0:.0f},{Y0:.0f}\n", encoding="utf-8"
    )
    (folder / "actors.csv").write_text(
        f"actor_id,name,sector,services,modes,cost_per_km,x,y\nA1,Osuuskunta,cooperative,clinic,mobile,0.5,"
        f"{X0:.0f},{Y0:.0f}\n",
        encoding="utf-8",
    )
    (folder / "vehicles.csv").write_text(
        f"vehicle_id,actor_id,hours_per_day,weekdays,max_distance_km\nBUS,A1,{hours},mon,{max_km}\n",
        encoding="utf-8",
    )
    config = {
        "inputs": {
            name: {"path": f"{name}.{ext}"}
            for name, ext in (
                ("municipalities", "gpkg"),
                ("population", "csv"),
                ("service_points", "csv"),
                ("actors", "csv"),
                ("places", "csv"),
                ("vehicles", "csv"),
            )
        },
        "network": {
            "source": "roads.gpkg",
            "class_column": "cls",
            "class_speeds_kmh": {"road": 60},
            "speed_factors": {},
            "cache": False,
        },
        "area_classes": {"source": "derive"},
        "services": {
            "clinic": {
                "label": {"fi": "Vastaanotto", "en": "Clinic"},
                "threshold_km": {"default": 5},
                "mobile": {"required_days": 1, "stop_min": 30},
            }
        },
        "routes": {"day_start": "09:00"},
    }
    (folder / "arjenturva.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return folder


def _stops(routes: pd.DataFrame) -> list[str]:
    return routes.loc[routes["stop_id"] != BASE_STOP_ID, "place"].tolist()


@pytest.mark.parametrize(
    ("hours", "max_km", "best"),
    [
        (2.75, "", {"V1", "V4"}),  # 160 min, 250 people: the best two stops within 165 min
        (2.0, "", {"V1"}),  # 120 min: one stop; V1 and V2 serve alike, V1 is nearer
        (4.0, 90, {"V1", "V2"}),  # 90 km: {V1, V4} (100 km) and three stops (120 km) are too far
    ],
)
def test_hand_case_best_routes(tmp_path: Path, hours: float, max_km: float | str, best: set[str]):
    ws = api.load_workspace(_hand_workspace(tmp_path / "ws", hours=hours, max_km=max_km))
    plan = api.plan_routes(ws)
    r = plan.routes
    assert list(r.columns) == ROUTE_COLUMNS
    assert set(_stops(r)) == best and len(_stops(r)) == len(best)
    assert r["stop_id"].iloc[0] == r["stop_id"].iloc[-1] == BASE_STOP_ID
    assert r["weekday"].unique().tolist() == ["mon"]
    km = {"V1": 20, "V2": 40, "V4": 50}
    if best == {"V1", "V4"}:
        assert r["leg_km"].round(6).tolist() in ([0, 20, 30, 50], [0, 50, 30, 20])
        assert r[["arrival", "departure"]].values.tolist() in (
            [["09:00", "09:00"], ["09:20", "09:50"], ["10:20", "10:50"], ["11:40", "11:40"]],
            [["09:00", "09:00"], ["09:50", "10:20"], ["10:50", "11:20"], ["11:40", "11:40"]],
        )
    else:
        assert r["leg_km"].sum() == pytest.approx(2 * max(km[s] for s in best))
    people = {"V1": 100, "V2": 100, "V4": 150}
    assert r.loc[r["stop_id"] != BASE_STOP_ID, "people_served"].sum() == sum(people[s] for s in best)
    s = plan.summary.set_index("service").loc["clinic"]
    assert s["uncovered_demand_before"] == 410
    assert s["uncovered_demand_after"] == 410 - sum(people[v] for v in best)
    assert plan.predicted["clinic"] == pytest.approx(sum(people[v] for v in best))
    assert plan.lines["km"].iloc[0] == pytest.approx(r["leg_km"].sum())
    assert plan.lines.geometry.iloc[0].length / KM == pytest.approx(r["leg_km"].sum())


def test_hand_case_legs_are_networkx_shortest_paths(tmp_path: Path):
    ws = api.load_workspace(_hand_workspace(tmp_path / "ws", hours=3.5))  # room for {V1, V2, V4}
    net = api.build_network(ws.config)
    plan = api.plan_routes(ws, network=net)
    r = plan.routes
    assert set(_stops(r)) == {"V1", "V2", "V4"}
    edges = edges_geodataframe(net)
    g = nx.Graph()
    for e in edges.itertuples(index=False):
        g.add_edge(e.u, e.v, length=e.length_m)
    node_at = {
        (round(float(x)), round(float(y))): int(i) for i, x, y in zip(net.node_ids, net.x, net.y, strict=True)
    }
    nodes = [node_at[(round(x), round(y))] for x, y in zip(r["x"], r["y"], strict=True)]
    for k in range(1, len(nodes)):
        expected = nx.shortest_path_length(g, nodes[k - 1], nodes[k], weight="length") / KM
        assert r["leg_km"].iloc[k] == pytest.approx(expected), k
    line = plan.lines.geometry.iloc[0]
    assert line.length / KM == pytest.approx(r["leg_km"].sum()) == pytest.approx(120)
    roads = shapely.union_all(edges.geometry.to_numpy())
    assert max(roads.distance(shapely.Point(c)) for c in line.coords) < 1e-6  # it drives the roads


def test_a_day_too_short_for_any_stop_gives_no_routes(tmp_path: Path, runner):
    folder = _hand_workspace(tmp_path / "ws", hours=0.5)  # V1, the nearest, needs 70 minutes
    result = runner.invoke(app, ["routes", "-c", str(folder)])
    assert result.exit_code == 0, result.output
    assert "No routes" in result.output
    res = folder / "results"
    routes = R.read_table(res, R.ROUTES)
    assert routes.empty and list(routes.columns) == ROUTE_COLUMNS
    assert R.read_layer(res, R.ROUTE_LINES).empty and R.read_layer(res, R.ROUTE_STOPS).empty
    s = R.read_table(res, R.ROUTES_SUMMARY).iloc[0]
    assert s["uncovered_demand_before"] == s["uncovered_demand_after"] == 410 and s["stops"] == 0


def test_no_vehicles_is_a_clear_error(tmp_path: Path):
    folder = _hand_workspace(tmp_path / "ws", hours=3)
    cfg = yaml.safe_load((folder / "arjenturva.yaml").read_text(encoding="utf-8"))
    del cfg["inputs"]["vehicles"]
    (folder / "arjenturva.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    with pytest.raises(RouteError, match=r"no vehicles.*Fix: add `vehicles:"):
        api.plan_routes(folder)


# --- the solver against brute force ----------------------------------------------------------------


def _best_by_brute_force(problem: DayProblem) -> float:
    """The best prizes minus travel cost over every assignment of stops to vehicles (or none) and
    every visiting order."""
    pts = problem.points
    n = problem.stops.size
    veh = [problem.fleet[v] for v in problem.vehicles]

    def best_route(k: int, stops: tuple[int, ...]) -> float:
        if not stops:
            return 0.0
        base = int(pts.base_of[problem.vehicles[k]])
        best = -np.inf
        for order in itertools.permutations(stops):
            seq = [base, *(pts.n_bases + int(problem.stops[s]) for s in order), base]
            dist = sum(pts.length_m[a, b] for a, b in zip(seq[:-1], seq[1:], strict=True))
            dur = sum(pts.time_s[a, b] for a, b in zip(seq[:-1], seq[1:], strict=True))
            dur += sum(problem.stop_s[s] for s in order)
            if dur <= veh[k].max_duration_s and dist <= veh[k].max_distance_m:
                value = sum(problem.prize[s] for s in order) - dist * problem.cost_per_m[k]
                best = max(best, value)
        return best

    best = 0.0
    for assign in itertools.product(range(len(veh) + 1), repeat=n):
        total = 0.0
        for k in range(len(veh)):
            total += best_route(k, tuple(s for s in range(n) if assign[s] == k + 1))
        best = max(best, total)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_solver_reaches_the_brute_force_optimum(seed: int):
    rng = np.random.default_rng(seed)
    n_stops, n_bases = 5, 2
    xy = rng.uniform(0, 40_000, size=(n_bases + n_stops, 2))
    length = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 1.3
    time = length / (60 / 3.6)
    fleet = tuple(
        Vehicle(
            f"V{k}",
            f"V{k}",
            "A",
            "",
            xy[k, 0],
            xy[k, 1],
            ("mon",),
            float(rng.uniform(2, 4) * 3600),
            float(rng.choice([np.inf, 80_000.0])),
            0.9,
            ("clinic",),
            ("*",),
        )
        for k in range(n_bases)
    )
    points = RoutePoints(
        x=xy[:, 0],
        y=xy[:, 1],
        snapped=None,
        n_bases=n_bases,  # type: ignore[arg-type]
        base_of=np.arange(n_bases),
        length_m=length,
        time_s=time,
    )
    problem = DayProblem(
        weekday="mon",
        vehicles=(0, 1),
        fleet=fleet,
        points=points,
        stops=np.arange(n_stops),
        prize=rng.uniform(5, 120, n_stops).round(1),
        stop_s=np.full(n_stops, 1800.0),
        cost_per_m=np.array([0.9 * 0.01 / 1000] * 2),
    )
    routes, facts = solve_day(problem, seed=1, max_iterations=2000, time_limit_s=30)
    assert facts.feasible and not facts.time_limit_hit
    assert facts.prizes - facts.travel_cost == pytest.approx(_best_by_brute_force(problem), abs=1e-6)
    for k, stops in routes.items():  # within the working day and the distance limit
        seq = [k, *(n_bases + s for s in stops), k]
        assert sum(time[a, b] for a, b in zip(seq[:-1], seq[1:], strict=True)) + 1800 * len(stops) <= (
            fleet[k].max_duration_s
        )
        assert sum(length[a, b] for a, b in zip(seq[:-1], seq[1:], strict=True)) <= fleet[k].max_distance_m


# --- the demo through the CLI ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo workspace with its routes written by ``arjenturva routes`` (the gap outputs too)."""
    from typer.testing import CliRunner

    ws = tmp_path_factory.mktemp("routes") / "ws"
    api.copy_demo(ws)
    runner = CliRunner(env={"COLUMNS": "250", "NO_COLOR": "1"})
    result = runner.invoke(app, ["routes", "-c", str(ws), "--json"])
    assert result.exit_code == 0, result.output
    return ws, json.loads(result.stdout)


def test_cli_writes_the_routes_into_the_results_contract(demo, runner):
    ws, out = demo
    res = ws / "results"
    for name in (*R.ROUTE_FILES, R.GPKG_FILE, R.RUN_FILE, "summary.csv"):
        assert (res / name).is_file(), name
    routes = R.read_table(res, R.ROUTES)
    assert list(routes.columns) == ROUTE_COLUMNS
    assert list(pd.read_csv(res / "routes.csv", nrows=0).columns) == ROUTE_COLUMNS
    assert {"routes", "route_stops"} <= set(R.list_layers(res))
    assert R.read_run(res).raw["routes"]["stops"] == len(R.read_layer(res, R.ROUTE_STOPS))
    assert out["routes"] and out["summary"] and out["solves"]
    again = runner.invoke(app, ["routes", "-c", str(ws)])
    assert again.exit_code == 1 and "already exists" in again.output and "--force" in again.output


def test_demo_routes_keep_the_working_day(demo):
    ws, _out = demo
    cfg = api.as_config(ws)
    routes = R.read_table(ws / "results", R.ROUTES)
    vehicles = pd.read_csv(ws / "vehicles.csv").set_index("vehicle_id")

    def minutes(hhmm: str) -> int:
        return int(hhmm[:2]) * 60 + int(hhmm[3:])

    assert routes["weekday"].isin(["mon", "tue", "wed", "thu", "fri"]).all()
    for (vid, day), r in routes.groupby(["vehicle_id", "weekday"]):
        r = r.sort_values("stop_order")
        assert r["stop_order"].tolist() == list(range(len(r)))
        assert r["stop_id"].iloc[0] == r["stop_id"].iloc[-1] == BASE_STOP_ID
        assert (r["x"].iloc[0], r["y"].iloc[0]) == (r["x"].iloc[-1], r["y"].iloc[-1])
        stops = r.iloc[1:-1]
        assert weekday_ok(vehicles, vid, day)
        stop_min = stops["services"].map(lambda s: max(cfg.services[x].mobile.stop_min for x in s.split(";")))
        work = r["leg_min"].sum() + stop_min.sum()
        limit = min(
            vehicles.loc[vid, "hours_per_day"] * 60,
            np.nan_to_num(vehicles.loc[vid, "max_duration_min"], nan=np.inf),
        )
        assert work <= limit + 1e-6 and (r["max_duration_min"] == limit).all()
        assert minutes(r["arrival"].iloc[-1]) - minutes(r["departure"].iloc[0]) <= limit
        if np.isfinite(vehicles.loc[vid, "max_distance_km"]):
            assert r["leg_km"].sum() <= vehicles.loc[vid, "max_distance_km"]
        assert r["departure"].iloc[0] == cfg.routes.day_start
        for k in range(1, len(r)):  # arrival = departure before + the leg; departure = arrival + the stop
            assert (
                abs(
                    minutes(r["arrival"].iloc[k]) - minutes(r["departure"].iloc[k - 1]) - r["leg_min"].iloc[k]
                )
                <= 1
            )
        assert ((stops["departure"].map(minutes) - stops["arrival"].map(minutes) - stop_min).abs() <= 1).all()
        assert (stops["people_served"] >= 20).all()  # the services' min_people_per_stop (default 20)


def weekday_ok(vehicles: pd.DataFrame, vid: str, day: str) -> bool:
    from arjenturva.workspace.vehicles import parse_weekdays

    return day in parse_weekdays(vehicles.loc[vid, "weekdays"])[0]


def test_demo_lines_follow_the_roads(demo):
    ws, _out = demo
    res = ws / "results"
    lines = R.read_layer(res, R.ROUTE_LINES)
    routes = R.read_table(res, R.ROUTES)
    km = routes.groupby(["vehicle_id", "weekday"])["leg_km"].agg(["sum", "size"])
    net = api.build_network(ws)
    roads = shapely.union_all(edges_geodataframe(net).geometry.to_numpy())
    for r in lines.itertuples(index=False):
        csv_km, legs = km.loc[(r.vehicle_id, r.weekday)]
        assert r.geometry.length / KM == pytest.approx(r.km, rel=1e-9)  # the layer keeps full precision
        assert r.km == pytest.approx(csv_km, abs=0.005 * legs)  # routes.csv keeps 10 m per leg
        assert max(roads.distance(shapely.Point(c)) for c in r.geometry.coords) < 0.01
        stops = routes[(routes["vehicle_id"] == r.vehicle_id) & (routes["weekday"] == r.weekday)]
        straight = np.hypot(np.diff(stops["x"]), np.diff(stops["y"])).sum() / KM
        assert r.geometry.length / KM > straight  # along the roads, longer than straight lines
        assert r.timetable.split(":")[0] in {"Maanantai", "Tiistai", "Keskiviikko", "Torstai", "Perjantai"}


def test_demo_coverage_after_equals_a_scenario_run(demo):
    """routes_summary's figures after the routes equal a scenario that adds the stops of routes.csv
    as mobile points (visiting days counted from routes.csv), run through the gap analysis."""
    ws_dir, _out = demo
    res = ws_dir / "results"
    routes = R.read_table(res, R.ROUTES)
    summary = R.read_table(res, R.ROUTES_SUMMARY)
    stops = routes[routes["stop_id"] != BASE_STOP_ID]
    add = []
    for sid, rows in stops.groupby("stop_id"):
        days = {
            s: rows.loc[rows["services"].str.split(";").map(lambda x, s=s: s in x), "weekday"].nunique()
            for s in set(";".join(rows["services"]).split(";"))
        }
        for k, (n, group) in enumerate(itertools.groupby(sorted(days, key=days.get), key=days.get)):
            add.append(
                {
                    "point_id": f"test_{sid}_{k}",
                    "name": rows["place"].iloc[0],
                    "services": list(group),
                    "mode": "mobile",
                    "days_per_week": n,
                    "x": float(rows["x"].iloc[0]),
                    "y": float(rows["y"].iloc[0]),
                }
            )
    data = yaml.safe_load((ws_dir / "arjenturva.yaml").read_text(encoding="utf-8"))
    data["scenarios"]["with_routes"] = {"add_points": add}
    cfg = config_from_dict(data, base_dir=ws_dir)
    ws = api.load_workspace(cfg)
    after = api.find_gaps(apply_scenario(ws, "with_routes"), services=sorted(set(summary["service"])))
    got = after.summary.set_index(["municipality", "service"])
    for row in summary.itertuples(index=False):
        expected = got.loc[(row.municipality, row.service)]
        assert row.uncovered_demand_after == pytest.approx(expected["uncovered_demand"], abs=0.05)
        assert row.uncovered_65_plus_after == pytest.approx(expected["uncovered_65_plus"], abs=0.05)
        assert row.covered_share_after == pytest.approx(expected["covered_share"], abs=1e-4)
    # The routes close most of the health-station and grocery gaps the demo's README names.
    s = summary.set_index(["municipality", "service"])
    assert (
        s.loc[("996", "health_station"), "uncovered_demand_after"]
        < 0.3 * s.loc[("996", "health_station"), "uncovered_demand_before"]
    )
    assert (
        s.loc[("996", "grocery"), "uncovered_demand_after"]
        < 0.3 * s.loc[("996", "grocery"), "uncovered_demand_before"]
    )


def test_demo_plan_is_deterministic_and_predicts_the_gap_analysis(demo):
    ws, _out = demo
    written = R.read_table(ws / "results", R.ROUTES)
    plan = api.plan_routes(ws)
    text = ["vehicle_id", "weekday", "stop_order", "stop_id", "place", "arrival", "departure", "services"]
    assert (
        plan.routes[text].astype(str).values.tolist() == written[text].fillna("").astype(str).values.tolist()
    )
    for col, digits in (("x", 0), ("y", 0), ("leg_km", 2), ("leg_min", 1), ("people_served", 1)):
        assert np.allclose(plan.routes[col].round(digits), written[col]), col
    s = plan.summary
    for service, gain in plan.predicted.items():
        part = s[s["service"] == service]
        assert gain == pytest.approx(
            (part["uncovered_demand_before"] - part["uncovered_demand_after"]).sum(), abs=1e-6
        )


def test_timetable_lines_in_both_languages():
    rows = pd.DataFrame(
        {
            "vehicle_id": ["V", "V", "V", "V"],
            "actor_id": "A",
            "weekday": "tue",
            "stop_order": [0, 1, 2, 3],
            "stop_id": [BASE_STOP_ID, "S001", "S002", BASE_STOP_ID],
            "place": ["Kirkonkylä", "Ylä-Kaarna", "Palovaara", "Kirkonkylä"],
            "arrival": ["08:00", "09:00", "10:30", "12:05"],
        }
    )
    (fi,) = timetable_lines(rows, "fi")
    (en,) = timetable_lines(rows, "en")
    assert fi.text == "Tiistai: 9.00 Ylä-Kaarna – 10.30 Palovaara"
    assert en.text == "Tuesday: 9:00 Ylä-Kaarna – 10:30 Palovaara"
    assert (fi.vehicle_id, fi.actor_id, fi.weekday) == ("V", "A", "tue")


def test_run_plans_routes_before_the_agreements(demo_run):
    """``run`` on a workspace with vehicles: the routes first, then agreements on what they leave;
    the vehicles' actors propose no other mobile service, and proposals_summary shows today, with
    the routes, and with the agreements."""
    from arjenturva import results as R

    folder = demo_run.results
    routes = R.read_table(folder, R.ROUTES)
    proposals = R.read_table(folder, R.PROPOSALS)
    vehicles = pd.read_csv(folder.parent / "vehicles.csv", dtype=str)
    driving = set(vehicles["actor_id"])
    assert set(routes["actor_id"]) <= driving and len(routes) > 0
    assert not ((proposals["mode"] == "mobile") & proposals["actor_id"].isin(driving)).any()
    summary = R.read_table(folder, R.PROPOSALS_SUMMARY).set_index(["municipality", "service"])
    today = R.read_table(folder, R.SUMMARY).set_index(["municipality", "service"])
    np.testing.assert_allclose(summary["uncovered_demand_before"],
                               today.loc[summary.index, "uncovered_demand"], atol=0.1)
    rs = R.read_table(folder, R.ROUTES_SUMMARY).set_index(["municipality", "service"])
    np.testing.assert_allclose(summary.loc[rs.index, "uncovered_demand_routes"], rs["uncovered_demand_after"],
                               atol=0.1)
    assert (summary["uncovered_demand_routes"] <= summary["uncovered_demand_before"] + 1e-6).all()
    assert (summary["uncovered_demand_after"] <= summary["uncovered_demand_routes"] + 1e-6).all()
    assert (summary["uncovered_demand_routes"] < summary["uncovered_demand_before"]).any()

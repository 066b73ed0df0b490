"""End to end on the bundled demo workspace: `arjenturva demo` through the CLI."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
from conftest import DEMO_DIR
from shapely.geometry import Point
from typer.testing import CliRunner

from arjenturva.cli import app


def test_demo_writes_every_output(demo_run):
    out, data = demo_run.workspace, demo_run.output
    res = out / "results"
    for name in ("results.gpkg", "access.csv", "summary.csv", "summary.xlsx", "gap_areas.csv", "run.json"):
        assert (res / name).is_file(), name
    import pyogrio

    layers = {str(n) for n in pyogrio.list_layers(res / "results.gpkg")[:, 0]}
    assert {"population", "gaps", "gap_areas", "service_points", "municipalities"} <= layers
    access = pd.read_csv(res / "access.csv")
    assert list(access.columns) == [
        "cell_id",
        "service",
        "nearest_point_id",
        "distance_m",
        "time_s",
        "coverage",
    ]
    assert access["coverage"].between(0, 1).all()
    run = json.loads((res / "run.json").read_text())
    assert run["config_hash"] and run["inputs"]["population"]["sha256_16"]
    # The demo is synthetic and says so; its only declared source is its own generator.
    assert run["results_format"] == 3 and run["synthetic"] is True
    assert run["attribution"] == ["synthetic roads (arjenturva scripts/make_demo.py)"]
    assert data["workspace"]["population_total"] > 10_000


def test_demo_gap_areas_are_where_the_generator_put_them(demo_run):
    out = demo_run.workspace
    expected = json.loads((DEMO_DIR / "expected_gaps.json").read_text())
    areas = gpd.read_file(out / "results" / "results.gpkg", layer="gap_areas")
    for service in ("health_station", "grocery"):
        svc_areas = areas[areas["service"] == service]
        for village in expected[service]["villages"]:
            pt = Point(village["x"], village["y"])
            d = svc_areas.distance(pt).min()
            assert d < 1500, f"{village['name']} ({service}) is {d:.0f} m from the nearest gap area"
            near = svc_areas.iloc[int(np.argmin(svc_areas.distance(pt).to_numpy()))]
            assert near["site_distance_m"] > village["threshold_km"] * 1000


def test_ferry_keeps_salmenkyla_covered(demo_run):
    out = demo_run.workspace
    expected = json.loads((DEMO_DIR / "expected_gaps.json").read_text())
    village = expected["ferry_dependent"][0]
    pop = gpd.read_file(out / "results" / "results.gpkg", layer="population")
    pt = Point(village["x"], village["y"])
    near = pop.iloc[int(np.argmin(pop.geometry.centroid.distance(pt).to_numpy()))]
    assert near["health_station_coverage"] == 1
    assert near["health_station_distance_m"] < village["road_km_without_ferry"] * 1000


def test_demo_suppresses_small_cells(demo_run):
    out = demo_run.workspace
    pop = gpd.read_file(out / "results" / "results.gpkg", layer="population")
    assert (pop["population"] >= 10).all()
    src = gpd.read_file(DEMO_DIR / "population.gpkg")
    assert len(pop) < len(src)


def test_demo_refuses_to_overwrite(demo_run):
    out = demo_run.workspace
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 1
    assert "--force" in result.output


def test_gaps_command_json(demo_run, tmp_path):
    out = demo_run.workspace
    runner = CliRunner(env={"COLUMNS": "200"})
    result = runner.invoke(
        app, ["gaps", "-c", str(out), "--out", str(tmp_path / "g"), "--service", "health_station", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    services = {r["service"] for r in data["summary"]}
    assert services == {"health_station", "ALL"}
    human = runner.invoke(app, ["gaps", "-c", str(out), "--out", str(tmp_path / "h"), "-s", "grocery"])
    assert human.exit_code == 0
    assert "996 Kaarnavaara" in human.output and "grocery" in human.output


def test_every_command_has_help_with_example():
    runner = CliRunner(env={"COLUMNS": "200"})
    import typer.main

    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            names += [[name, sub] for sub in cmd.commands]
        else:
            names.append([name])
    assert len(names) >= 6
    for parts in names:
        result = runner.invoke(app, [*parts, "--help"])
        assert result.exit_code == 0, parts
        assert "Example" in result.output, f"{parts} help has no example"


def test_run_json_totals_its_stages(demo_run):
    run = json.loads((demo_run.results / "run.json").read_text())
    stages = run["timings_s"]
    assert list(stages) == [
        "validate", "network", "gaps", "routes", "gaps_after_routes", "proposals", "tables", "maps_reports",
        "total",
    ]  # the demo has vehicles: their routes come before the agreements
    parts = sum(v for k, v in stages.items() if k != "total")
    assert parts <= stages["total"] <= parts + 1.0  # the rest is bookkeeping between stages
    assert set(run["gaps_detail_s"]) >= {"sweeps_s", "total_s"}

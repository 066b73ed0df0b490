"""Gap analysis on hand-computed cases: a straight road with known distances."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from arjenturva.config import config_from_dict
from arjenturva.coverage import find_gaps
from arjenturva.export.tables import public_gap_areas, small_cells, write_gap_results
from arjenturva.network import network_from_lines

X0, Y0 = 400_000.0, 7_300_000.0


def _config(**services):
    return config_from_dict(
        {
            "inputs": {
                "municipalities": {"path": "m.gpkg"},
                "population": {"path": "p.csv"},
                "service_points": {"path": "s.csv"},
            },
            "network": {"source": "roads.gpkg", "access_speed_kmh": 30},
            "services": services,
            "export": {"suppress_below": 10},
        }
    )


@pytest.fixture
def line_net():
    roads = gpd.GeoDataFrame(
        {"cls": ["main"]}, geometry=[LineString([(X0, Y0), (X0 + 50_000, Y0)])], crs=3067
    )
    return network_from_lines(roads, class_column="cls", class_speeds_kmh={"main": 60})


def _layers(cells, points):
    munis = gpd.GeoDataFrame(
        {"code": ["999"], "name": ["Testi"]},
        geometry=[box(X0 - 5000, Y0 - 5000, X0 + 55_000, Y0 + 5000)],
        crs=3067,
    )
    pop = gpd.GeoDataFrame(pd.DataFrame(cells), geometry=[Point(c["x"], c["y"]) for c in cells], crs=3067)
    pop = pop.drop(columns=["x", "y"])
    for c in ("age_0_14", "age_15_64"):
        pop[c] = 0.0
    pop["suppressed"] = False
    pop["municipality"] = "999"
    sp = gpd.GeoDataFrame(pd.DataFrame(points), geometry=[Point(p["x"], p["y"]) for p in points], crs=3067)
    sp = sp.drop(columns=["x", "y"])
    sp["municipality"] = "999"
    return munis, pop, sp


CELLS = [
    {
        "cell_id": "A",
        "x": X0 + 5000,
        "y": Y0 + 100,
        "population": 100.0,
        "age_65_plus": 30.0,
        "area_class": "K3",
    },
    {
        "cell_id": "B",
        "x": X0 + 20_000,
        "y": Y0 + 100,
        "population": 50.0,
        "age_65_plus": 10.0,
        "area_class": "K3",
    },
    {
        "cell_id": "C",
        "x": X0 + 20_000,
        "y": Y0 - 100,
        "population": 40.0,
        "age_65_plus": 20.0,
        "area_class": "M7",
    },
    {
        "cell_id": "D",
        "x": X0 + 35_000,
        "y": Y0 + 100,
        "population": 20.0,
        "age_65_plus": 15.0,
        "area_class": "M7",
    },
    {
        "cell_id": "E",
        "x": X0 + 36_000,
        "y": Y0 + 100,
        "population": 5.0,
        "age_65_plus": 5.0,
        "area_class": "M7",
    },
]
STATION = [
    {
        "point_id": "H",
        "name": "Asema",
        "services": ("health",),
        "mode": "fixed",
        "days_per_week": np.nan,
        "x": X0,
        "y": Y0,
    }
]
HEALTH = {
    "label": {"fi": "Terveysasema", "en": "Health station"},
    "threshold_km": {"default": 10, "M7": 30},
    "mobile": {"required_days": 5},
    "remote": 0.5,
}


def test_distances_times_and_thresholds(line_net):
    cfg = _config(health=HEALTH)
    munis, pop, sp = _layers(
        CELLS,
        STATION,
    )
    res = find_gaps(cfg, line_net, pop, sp, munis)
    acc = res.access.set_index("cell_id")
    # Road distance along the line plus the 100 m access leg.
    assert acc.loc["A", "distance_m"] == pytest.approx(5100)
    assert acc.loc["B", "distance_m"] == pytest.approx(20_100)
    # 5 km at 60 km/h = 300 s, plus 100 m at 30 km/h = 12 s.
    assert acc.loc["A", "time_s"] == pytest.approx(312)
    assert acc.loc["A", "coverage"] == 1  # K3: 5.1 km ≤ 10 km
    assert acc.loc["B", "coverage"] == 0  # K3: 20.1 km > 10 km
    assert acc.loc["C", "coverage"] == 1  # M7: 20.1 km ≤ 30 km
    assert acc.loc["D", "coverage"] == 0  # M7: 35.1 km > 30 km
    assert acc.loc["A", "nearest_point_id"] == "H"
    row = res.summary[(res.summary["service"] == "health")].iloc[0]
    assert row["population"] == 215
    assert row["uncovered_population"] == pytest.approx(50 + 20 + 5)
    assert row["uncovered_65_plus"] == pytest.approx(10 + 15 + 5)
    assert row["uncovered_sparse"] == pytest.approx(25)
    assert row["covered_share"] == pytest.approx(140 / 215)
    # Population-weighted median distance: sorted A(100) C(40) B(50) D(20) E(5) → half of 215 is in C.
    assert row["median_distance_km"] == pytest.approx(20.1)
    # D and E (1 km apart) form one gap area; B another.
    areas = res.gap_areas
    assert len(areas) == 2
    de = areas[areas["cells"] == 2].iloc[0]
    assert de["population"] == 25 and de["age_65_plus"] == 20
    assert de["site_distance_m"] == pytest.approx(35_100)


def test_mobile_and_remote_weights(line_net):
    cfg = _config(health={**HEALTH, "threshold_km": {"default": 10, "M7": 12}})
    points = [
        *STATION,
        {
            "point_id": "M",
            "name": "Terveysauto",
            "services": ("health",),
            "mode": "mobile",
            "days_per_week": 2.0,
            "x": X0 + 35_000,
            "y": Y0,
        },
        {
            "point_id": "R",
            "name": "Etävastaanotto",
            "services": ("health",),
            "mode": "remote",
            "days_per_week": np.nan,
            "x": X0 + 20_000,
            "y": Y0,
        },
    ]
    munis, pop, sp = _layers(CELLS, points)
    res = find_gaps(cfg, line_net, pop, sp, munis)
    acc = res.access.set_index("cell_id")
    assert acc.loc["D", "coverage"] == pytest.approx(0.4)  # mobile 2 of 5 days
    assert acc.loc["B", "coverage"] == pytest.approx(0.5)  # remote point counts half
    assert acc.loc["C", "coverage"] == pytest.approx(0.5)
    assert acc.loc["E", "coverage"] == pytest.approx(0.4)
    assert acc.loc["A", "coverage"] == 1  # the fixed point still wins
    assert acc.loc["D", "distance_m"] == pytest.approx(100)  # nearest point of any counted mode
    assert acc.loc["D", "nearest_point_id"] == "M"


@pytest.mark.parametrize("minutes", [False, True])
def test_sweep_count_is_what_service_access_runs(line_net, monkeypatch, minutes):
    """The estimate that orders the worker tasks counts the sweeps a service really runs."""
    from arjenturva.coverage import access

    svc_dict = {**HEALTH, **({"threshold_min": {"default": 20}} if minutes else {})}
    cfg = _config(health=svc_dict)
    svc = cfg.services["health"]
    points = [
        *STATION,
        {"point_id": "M", "name": "Auto", "services": ("health",), "mode": "mobile",
         "days_per_week": 2.0, "x": X0 + 35_000, "y": Y0},
        {"point_id": "R", "name": "Etä", "services": ("health",), "mode": "remote",
         "days_per_week": np.nan, "x": X0 + 20_000, "y": Y0},
    ]
    munis, pop, sp = _layers(CELLS, points)
    calls = []
    real = access.nearest_facility
    monkeypatch.setattr(access, "nearest_facility", lambda *a, **k: calls.append(1) or real(*a, **k))
    for rows in ([0], [0, 1], [0, 1, 2]):  # one weight level, then 2 and 3 (1, 0.4 and 0.5)
        calls.clear()
        find_gaps(cfg, line_net, pop, sp.iloc[rows], munis, workers=1)
        modes, days = sp["mode"].to_numpy()[rows], sp["days_per_week"].to_numpy()[rows]
        expected = 2 + (len(rows) * (1 + minutes) if len(rows) > 1 else 0)
        assert len(calls) == access._sweep_count(svc, access.point_weight(svc, modes, days)) == expected


def test_unreachable_cells_are_reported(line_net):
    cfg = _config(health=HEALTH)
    cells = [
        *CELLS,
        {
            "cell_id": "FAR",
            "x": X0 + 10_000,
            "y": Y0 + 9000,
            "population": 30.0,
            "age_65_plus": 3.0,
            "area_class": "M7",
        },
    ]
    munis, pop, sp = _layers(
        cells,
        STATION,
    )
    cfg.network.snap_tolerance_m = 5000
    res = find_gaps(cfg, line_net, pop, sp, munis)
    assert "FAR" in set(res.unreachable["id"])
    acc = res.access.set_index("cell_id")
    assert np.isinf(acc.loc["FAR", "distance_m"]) and acc.loc["FAR", "coverage"] == 0
    row = res.summary[res.summary["service"] == "health"].iloc[0]
    assert row["unreachable_population"] == 30


def test_suppression_in_exports(line_net, tmp_path):
    cfg = _config(health=HEALTH)
    munis, pop, sp = _layers(
        CELLS,
        STATION,
    )
    res = find_gaps(cfg, line_net, pop, sp, munis)
    assert small_cells(res.population, 10).tolist() == [False, False, False, False, True]
    record = {"config_hash": "x", "created": "now"}
    write_gap_results(res, tmp_path, cfg, force=False, record=record)
    exported = gpd.read_file(tmp_path / "results.gpkg", layer="population")
    assert "E" not in set(exported["cell_id"])
    access = pd.read_csv(tmp_path / "access.csv")
    assert "E" not in set(access["cell_id"])
    gaps = gpd.read_file(tmp_path / "results.gpkg", layer="gaps")
    assert "E" not in set(gaps["cell_id"])
    # ... but E counts in the aggregates.
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary.loc[summary["service"] == "health", "population"].iloc[0] == 215
    # Existing outputs are not overwritten without force.
    from arjenturva.errors import OutputExistsError

    with pytest.raises(OutputExistsError):
        write_gap_results(res, tmp_path, cfg, force=False, record=record)


def test_small_gap_areas_are_blanked(line_net):
    cfg = _config(health=HEALTH)
    cells = [
        {
            "cell_id": "S",
            "x": X0 + 45_000,
            "y": Y0 + 100,
            "population": 4.0,
            "age_65_plus": 1.0,
            "area_class": "M7",
        }
    ]
    munis, pop, sp = _layers(
        cells,
        STATION,
    )
    res = find_gaps(cfg, line_net, pop, sp, munis)
    ga = public_gap_areas(res)
    assert len(ga) == 1 and bool(ga["suppressed"].iloc[0]) and np.isnan(ga["population"].iloc[0])


def test_worker_processes_give_the_same_results(tmp_path):
    """The demo analysed in forked worker processes equals the one-process run, cell by cell."""
    import multiprocessing

    from arjenturva import api
    from arjenturva.coverage.parallel import _worker_count

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("the OS cannot fork")
    cfg = api.as_config(api.copy_demo(tmp_path / "ws"))
    ws = api.load_workspace(cfg)
    net = api.build_network(cfg, use_cache=False)
    one = api.find_gaps(ws, network=net, workers=1)
    two = api.find_gaps(ws, network=net, workers=2)
    pd.testing.assert_frame_equal(one.access, two.access)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    for layer in ("population", "gap_areas"):
        a, b = getattr(one, layer), getattr(two, layer)
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert a.geometry.geom_equals(b.geometry).all()
    pd.testing.assert_frame_equal(one.accessibility, two.accessibility)
    pd.testing.assert_frame_equal(one.unreachable, two.unreachable)
    pd.testing.assert_frame_equal(one.gaps.drop(columns="geometry"), two.gaps.drop(columns="geometry"))
    assert one.warnings == two.warnings
    # The automatic choice: one process for small analyses, every core for large ones.
    assert _worker_count(None, 5_000, 20) == 1
    assert _worker_count(None, 1_000_000, 20) >= 1
    assert _worker_count(1, 1_000_000, 20) == 1
    assert _worker_count(8, 1_000_000, 3) == 3  # never more processes than tasks
    with pytest.raises(ValueError, match="workers must be"):
        _worker_count(-1, 1_000_000, 20)


def _fork_or_skip() -> None:
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("the OS cannot fork")


def test_forked_workers_inherit_their_tasks():
    """The tasks (bound to their context) reach the workers by the fork, never pickled; the
    results come back in the order of the tasks."""
    import os
    import threading

    from arjenturva.coverage.parallel import _run_forked

    _fork_or_skip()
    lock = threading.Lock()  # cannot be pickled
    tasks = [lambda i=i: (i * i, lock is not None, os.getpid()) for i in range(7)]
    finished: list[int] = []
    out = _run_forked(tasks, 2, finished.append)
    assert [r[0] for r in out] == [i * i for i in range(7)] and all(r[1] for r in out)
    assert sorted(finished) == list(range(7))
    assert os.getpid() not in {r[2] for r in out}


def test_errors_in_forked_workers_reach_the_caller():
    from arjenturva.coverage.parallel import _run_forked

    _fork_or_skip()

    def fail() -> int:
        raise KeyError("no such service")

    with pytest.raises(KeyError, match="no such service") as info:
        _run_forked([lambda: 1, fail], 2, lambda _i: None)
    assert "in fail" in str(info.value.__cause__)  # the worker's traceback


def test_a_stopped_worker_breaks_the_pool():
    import os
    from concurrent.futures.process import BrokenProcessPool

    from arjenturva.coverage.parallel import _run_forked

    _fork_or_skip()
    with pytest.raises(BrokenProcessPool):
        _run_forked([lambda: os._exit(3), lambda: 1], 2, lambda _i: None)


def test_the_analysis_runs_here_when_a_worker_stops(line_net, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    from arjenturva.coverage import parallel

    _fork_or_skip()
    cfg = _config(health=HEALTH, shop={**HEALTH, "label": {"fi": "kauppa", "en": "shop"}})
    munis, pop, sp = _layers(CELLS, STATION)
    one = find_gaps(cfg, line_net, pop, sp, munis, workers=1)

    def stopped(*_a: object, **_k: object) -> None:
        raise BrokenProcessPool("a worker process stopped")

    monkeypatch.setattr(parallel, "_run_forked", stopped)
    two = find_gaps(cfg, line_net, pop, sp, munis, workers=2)
    stop = "a worker process stopped (out of memory?); the analysis ran in one process"
    assert two.warnings == [*one.warnings, stop]
    pd.testing.assert_frame_equal(one.access, two.access)
    pd.testing.assert_frame_equal(one.summary, two.summary)

"""arjenturva batch: many runs on Dask distributed.

The known answers are single runs: every piece of a batch is checked against ``run_pipeline`` with
the same ``study_area`` (the same bytes in its CSV tables), on the demo and on three real
municipalities built from ../shared/data. The robustness tests count attempts through marker
files the tasks write themselves.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, requires_shared

from arjenturva import api
from arjenturva.batch import (
    BatchError,
    TaskOptions,
    TaskOutcome,
    TaskSpec,
    read_batch,
    read_batch_summary,
    run_task,
)
from arjenturva.config import load_config
from arjenturva.results import ACCESS, SERVICE_POINTS, SUMMARY, read_layer, read_table

distributed = pytest.importorskip("distributed")  # the test extra installs it: never skipped in CI

TABLES = ("summary.csv", "access.csv", "gap_areas.csv", "accessibility_2sfca.csv", "proposals.csv",
          "proposals_summary.csv", "routes.csv", "routes_summary.csv")
REAL_CODES = ("614", "615", "832")  # Posio (Lapland), Pudasjärvi and Taivalkoski (North Ostrobothnia)


@pytest.fixture(scope="module")
def cluster():
    """One 2-worker local cluster (the CI machine has 2 cores) shared by the tests that pass its
    address as ``scheduler``."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers get this module's tasks
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                                  silence_logs=50) as lc:
        yield lc.scheduler_address


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A copy of the demo workspace, its single runs per municipality (the known answers) and a
    batch split by municipality, tables only."""
    root = tmp_path_factory.mktemp("batch-demo")
    config = api.copy_demo(root / "ws")
    cfg = load_config(config)
    singles = {}
    for code in ("996", "997"):
        one = cfg.model_copy(update={"study_area": [code]})
        singles[code] = api.run_pipeline(one, out_dir=root / f"single-{code}", with_maps=False).results_dir
    return {"config": config, "singles": singles, "root": root}


@pytest.fixture(scope="module")
def demo_batch(demo, cluster):
    out = demo["root"] / "batch"
    res = api.run_batch([demo["config"]], out_dir=out, split="municipality", maps=False, scheduler=cluster)
    return res


def _same_tables(single: Path, run: Path) -> None:
    compared = 0
    for name in TABLES:
        if (single / name).exists():
            assert (run / name).read_bytes() == (single / name).read_bytes(), name
            compared += 1
    assert compared >= 2
    a, b = (json.loads((d / "run.json").read_text(encoding="utf-8")) for d in (single, run))
    assert set(b) - set(a) == {"batch"} and set(a) <= set(b)
    for key in ("config_hash", "study_area", "context_municipalities", "population_left_out", "warnings",
                "inputs", "scenario"):
        assert a[key] == b[key], key


def test_demo_pieces_equal_single_runs(demo, demo_batch):
    assert [o.status for o in demo_batch.outcomes] == ["done", "done"]
    assert [t.name for t in demo_batch.tasks] == ["996", "997"]
    for code, single in demo["singles"].items():
        _same_tables(single, demo_batch.run_dir(code))
        assert (demo_batch.run_dir(code) / "routes.csv").is_file()  # the vehicles' routes, as in run
    # the context municipality's population is left out of each piece, as in the single runs
    run = json.loads((demo_batch.run_dir("996") / "run.json").read_text(encoding="utf-8"))
    assert run["context_municipalities"] == ["997"] and run["population_left_out"]["features"] > 0


def test_scenarios_equal_single_runs_also_when_they_edit_the_roads(demo, cluster, tmp_path):
    """``lautta_suljettu`` closes a ferry (its runs need a network of their own), ``vaesto_2040``
    projects the population; each piece under each equals ``run --scenario`` with its study area."""
    scenarios = ["lautta_suljettu", "vaesto_2040"]
    res = api.run_batch([demo["config"]], out_dir=tmp_path / "b", split="municipality", scenarios=scenarios,
                        maps=False, proposals=False, scheduler=cluster)
    assert all(o.status == "done" for o in res.outcomes), res.failed
    cfg = load_config(demo["config"])
    for t in res.tasks:
        if t.scenario is None:
            continue
        one = cfg.model_copy(update={"study_area": list(t.codes or ())})
        single = api.run_pipeline(one, out_dir=tmp_path / t.name, scenario=t.scenario, with_maps=False,
                                  with_proposals=False).results_dir
        _same_tables(single, res.run_dir(t.name))
    ferry, base = (pd.concat([pd.read_csv(d / "summary.csv") for d in dirs]) for dirs in (
        [res.run_dir(f"{c}--lautta_suljettu") for c in ("996", "997")], demo["singles"].values()))
    assert (ferry["mean_distance_km"] > base["mean_distance_km"]).any()  # the closed ferry counts


def test_batch_summary_is_every_run_with_its_name(demo, demo_batch):
    summary = read_batch_summary(demo_batch.out_dir)
    assert list(summary.columns[:2]) == ["run", "scenario"]
    assert list(summary.columns[2:]) == [c.name for c in SUMMARY.columns if c.name in summary.columns]
    for code, single in demo["singles"].items():
        mine = summary[summary["run"] == code].drop(columns=["run", "scenario"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, read_table(single, SUMMARY), check_dtype=False)
    assert summary["scenario"].isna().all()
    xlsx = pd.read_excel(demo_batch.out_dir / "batch_summary.xlsx", sheet_name="batch_summary", dtype=str)
    assert len(xlsx) == len(summary)
    record = read_batch(demo_batch.out_dir)
    assert record["scheduler"]["kind"] == "external" and record["scheduler"]["workers"] == 2
    assert record["counts"] == {"tasks": 2, "done": 2, "skipped": 0, "failed": 0}
    assert {t["name"]: t["municipalities"] for t in record["tasks"]} == {"996": ["996"], "997": ["997"]}


def test_rerun_skips_complete_runs(demo, demo_batch, cluster, runner):
    from arjenturva.cli import app

    before = {c: (demo_batch.run_dir(c) / "run.json").stat().st_mtime_ns for c in ("996", "997")}
    result = runner.invoke(app, ["batch", "-c", str(demo["config"]), "--split", "municipality", "--no-maps",
                                 "-o", str(demo_batch.out_dir), "--scheduler", cluster])
    assert result.exit_code == 0, result.output
    assert "0 done, 2 skipped" in result.output
    assert {c: (demo_batch.run_dir(c) / "run.json").stat().st_mtime_ns for c in ("996", "997")} == before
    record = read_batch(demo_batch.out_dir)
    assert record["scheduler"] is None and [t["status"] for t in record["tasks"]] == ["skipped", "skipped"]
    assert len(read_batch_summary(demo_batch.out_dir)) == len(demo_batch.summary)


def _kill_once(spec: TaskSpec, ws, net, options: TaskOptions) -> TaskOutcome:
    """Kill this worker process the first time it runs ``996`` (a marker file remembers it)."""
    marker = Path(options.out_dir) / f"killed-{spec.name}"
    if spec.name == "996" and not marker.exists():
        marker.write_text(str(os.getpid()), encoding="utf-8")
        os.kill(os.getpid(), signal.SIGKILL)
    return run_task(spec, ws, net, options)


def test_a_task_whose_worker_is_killed_is_retried(demo, cluster, tmp_path):
    out = tmp_path / "killed"
    res = api.run_batch([demo["config"]], out_dir=out, split="municipality",
                    maps=False, proposals=False, scheduler=cluster, task=_kill_once)
    killed = int((out / "killed-996").read_text(encoding="utf-8"))
    assert [o.status for o in res.outcomes] == ["done", "done"]
    assert res.outcomes[0].worker.split(":")[-1] != str(killed)  # run again, in another process
    for code, single in demo["singles"].items():
        summary = res.run_dir(code) / "summary.csv"
        assert summary.read_bytes() == (single / "summary.csv").read_bytes()


def _attempt(options: TaskOptions, name: str) -> None:
    """Leave a file per attempt of task ``name``."""
    attempts = Path(options.out_dir) / f"attempts-{name}"
    attempts.mkdir(parents=True, exist_ok=True)
    (attempts / str(len(list(attempts.iterdir())))).touch()


def _raise(spec: TaskSpec, ws, net, options: TaskOptions) -> TaskOutcome:
    """``997`` raises a bug-like error; ``996`` meets a user error (a scenario that does not exist)."""
    _attempt(options, spec.name)
    if spec.name == "997":
        raise RuntimeError("boom in 997")
    return run_task(replace(spec, scenario="no_such_scenario"), ws, net, options)


def test_errors_are_recorded_with_their_message_and_bugs_retried(demo, cluster, tmp_path):
    out = tmp_path / "raising"
    res = api.run_batch([demo["config"]], out_dir=out, split="municipality",
                    maps=False, scheduler=cluster, retries=1, task=_raise)
    assert len(list((out / "attempts-997").iterdir())) == 2  # the first attempt and one retry
    assert len(list((out / "attempts-996").iterdir())) == 1  # a user error is not retried
    user, bug = res.outcomes
    assert (user.status, user.error) == ("failed", "ConfigError")
    assert "unknown scenario 'no_such_scenario'" in user.message and not user.traceback
    assert (bug.status, bug.error, bug.message) == ("failed", "RuntimeError", "boom in 997")
    failures = {f["name"]: f for f in read_batch(out)["failures"]}
    assert "in _raise" in failures["997"]["traceback"]
    assert failures["996"]["message"] == user.message and failures["996"]["traceback"] is None
    assert len(read_batch_summary(out)) == 0 and not (out / "runs").exists()


def test_a_failing_run_does_not_stop_the_others_on_a_two_worker_local_cluster(demo, runner, tmp_path):
    """The CLI's default local cluster (2 workers, maps and reports drawn); the scenario ``broken``
    names a point that does not exist, so its runs fail in the workers with the scenario's message."""
    from arjenturva.cli import app

    ws = tmp_path / "ws"
    api.copy_demo(ws)
    config = ws / "arjenturva.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "  broken:\n    close_points: [NO_SUCH_POINT]\n",
                      encoding="utf-8")
    out = tmp_path / "out"
    args = ["batch", "-c", str(ws), "--split", "municipality", "--scenario", "broken", "--workers", "2",
            "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "2 of 4 run(s) failed" in result.output and "Traceback" not in result.output
    record = read_batch(out)
    assert record["scheduler"]["kind"] == "local" and record["scheduler"]["workers"] == 2
    assert record["scheduler"]["worker_env"]["OMP_NUM_THREADS"] == "1"
    status = {t["name"]: t["status"] for t in record["tasks"]}
    assert status == {"996": "done", "997": "done", "996--broken": "failed", "997--broken": "failed"}
    for f in record["failures"]:
        assert "NO_SUCH_POINT" in f["message"] and f["error"] == "ConfigError"
    assert sorted(set(read_batch_summary(out)["run"])) == ["996", "997"]
    for code, single in demo["singles"].items():
        assert (out / "runs" / code / "summary.csv").read_bytes() == (single / "summary.csv").read_bytes()
        assert (out / "runs" / code / "report.html").is_file()
        assert (out / "runs" / code / "maps" / f"overview_{code}.png").is_file()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="a worker on one core draws in its own process")
def test_maps_on_daemonic_workers_with_several_cores_fail_with_the_fix(demo, cluster, tmp_path):
    """The test cluster's workers are daemonic and see every core, as `dask worker` starts them."""
    res = api.run_batch([demo["config"]], out_dir=tmp_path / "maps", split="municipality", proposals=False,
                        scheduler=cluster)
    assert [o.status for o in res.outcomes] == ["failed", "failed"]
    assert all("DASK_DISTRIBUTED__WORKER__DAEMON=False" in o.message for o in res.outcomes)
    assert all(o.timings_s == {} for o in res.outcomes)  # failed before any work
    assert not (tmp_path / "maps" / "runs").exists()


def _summary(rows: list[tuple[str, str, str | None, float, float]]) -> pd.DataFrame:
    """batch_summary rows: (run, municipality, scenario, demand, uncovered_demand) of one service."""
    return pd.DataFrame({
        "run": [r[0] for r in rows], "scenario": [r[2] for r in rows],
        "municipality": [r[1] for r in rows], "municipality_name": [f"M{r[1]}" for r in rows],
        "service": "health_station", "demand": [r[3] for r in rows], "uncovered_demand": [r[4] for r in rows],
    })


def test_national_comparison_of_scenarios():
    from arjenturva.batch import compare_scenarios, uncovered_share

    summary = _summary([("a", "001", None, 200.0, 50.0), ("a", "002", None, 0.0, 0.0),
                        ("a--s", "001", "s", 200.0, 80.0), ("a--s", "002", "s", 100.0, 100.0)])
    assert uncovered_share(summary).tolist()[:1] == [0.25] and pd.isna(uncovered_share(summary)[1])
    table = compare_scenarios(summary).set_index("municipality")
    assert list(table.columns) == ["municipality_name", "service", "baseline", "s", "s_minus_baseline"]
    first = table.loc["001", ["baseline", "s", "s_minus_baseline"]].tolist()
    assert first == pytest.approx([0.25, 0.4, 0.15])
    assert pd.isna(table.loc["002", "baseline"]) and table.loc["002", "s"] == 1.0
    twice = pd.concat([summary, _summary([("b", "001", None, 10.0, 1.0)])], ignore_index=True)
    with pytest.raises(BatchError, match=r"001 is in several runs of scenario 'baseline' \(a, b\)"):
        compare_scenarios(twice)


def test_choropleth_is_a_png_with_its_panels(tmp_path):
    import geopandas as gpd
    from PIL import Image
    from shapely.geometry import box

    from arjenturva.batch import draw_choropleth

    munis = gpd.GeoDataFrame({"code": ["001", "002", "003"]},
                             geometry=[box(0, 0, 1e4, 1e4), box(1e4, 0, 2e4, 1e4), box(0, 1e4, 1e4, 2e4)],
                             crs="EPSG:3067")
    panels = {"baseline": pd.Series({"001": 0.1, "002": 0.5}), "s": pd.Series({"001": 0.2, "002": 0.9})}
    path = draw_choropleth(panels, munis, tmp_path / "m.png", title="Test", lang="en", attribution="Sources")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (1080, 888)  # two panels of 4.2 in + 0.6 in, 120 dpi
        colours = {c[:3] for _n, c in image.convert("RGBA").getcolors(1 << 20)}
    assert (217, 217, 217) in colours  # 003 has no figure: grey
    assert (128, 0, 38) in colours  # 0.9, the top of the scale: YlOrRd's darkest red


def _thread_settings() -> dict[str, object]:
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    return {"env": {k: os.environ.get(k) for k in names}}


def test_local_workers_are_single_threaded_whatever_the_shell_says(monkeypatch):
    from arjenturva.batch.cluster import open_client

    monkeypatch.setenv("OMP_NUM_THREADS", "8")  # a user's setting must not reach the workers
    with open_client(None, workers=1) as (client, info):
        (settings,) = client.run(_thread_settings).values()
        assert client.nthreads() == {next(iter(client.nthreads())): 1}
    assert settings["env"] == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    assert (info.kind, info.workers, info.threads) == ("local", 1, 1)


def test_without_dask_the_command_says_how_to_install_it(monkeypatch, runner, tmp_path):
    from arjenturva.cli import app

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    result = runner.invoke(app, ["batch", "-c", str(tmp_path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert 'pip install "arjenturva[batch]"' in result.output and "Traceback" not in result.output


def test_a_split_needs_its_column(demo, tmp_path):
    import geopandas as gpd

    ws = tmp_path / "ws"
    api.copy_demo(ws)
    munis = gpd.read_file(ws / "municipalities.gpkg").drop(columns=["wellbeing_county"])
    munis.to_file(ws / "municipalities.gpkg", driver="GPKG")
    with pytest.raises(BatchError, match=r"municipalities.gpkg: no column 'wellbeing_county'.*Fix: add"):
        api.run_batch([ws], out_dir=tmp_path / "out", split="wellbeing_county", maps=False)
    assert not (tmp_path / "out").exists()


@requires_shared
@pytest.mark.shared
def test_three_real_municipalities_equal_single_runs(cluster, tmp_path):
    """Posio, Pudasjärvi and Taivalkoski built from ../shared/data: each municipality, and each
    wellbeing county piece (Pudasjärvi and Taivalkoski together), equals its single run."""
    ws = tmp_path / "real"
    api.build_workspace(ws, sources=REPO / "examples" / "shared_data_sources.yaml", municipalities=REAL_CODES)
    cfg = load_config(ws)
    by_muni = api.run_batch([ws], out_dir=tmp_path / "by-muni", split="municipality", maps=False,
                            scheduler=cluster)
    by_county = api.run_batch([ws], out_dir=tmp_path / "by-county", split="wellbeing_county", maps=False,
                              scheduler=cluster)
    assert [o.status for o in by_muni.outcomes + by_county.outcomes] == ["done"] * 5
    pieces = {t.name: t.codes for t in by_county.tasks}
    assert pieces == {"Lapin_hyvinvointialue": ("614",), "Pohjois-Pohjanmaan_hyvinvointialue": ("615", "832")}
    for res in (by_muni, by_county):
        for t in res.tasks:
            assert t.codes is not None
            one = cfg.model_copy(update={"study_area": list(t.codes)})
            single = api.run_pipeline(one, out_dir=tmp_path / f"single-{t.name}", with_maps=False).results_dir
            _same_tables(single, res.run_dir(t.name))
    # context points count: some of Posio's people have their nearest point in another municipality
    run = by_muni.run_dir("614")
    points = read_layer(run, SERVICE_POINTS).set_index("point_id")["municipality"]
    nearest = read_table(run, ACCESS)["nearest_point_id"].dropna()
    assert (nearest.map(points) != "614").any()

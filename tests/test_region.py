"""Regional inputs as they are: service points across municipal borders are used."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from arjenturva import api


def _without_routajarvi(ws: Path) -> None:
    """The demo with Routajärvi (997) gone from the study area: its polygon and residents are
    removed, its service points stay where they are, beyond the remaining municipality."""
    munis = gpd.read_file(ws / "municipalities.gpkg")
    gone = munis.loc[munis["code"] == "997"].geometry.iloc[0]
    munis.loc[munis["code"] == "996"].to_file(ws / "municipalities.gpkg", driver="GPKG")
    pop = gpd.read_file(ws / "population.gpkg")
    pop.loc[~pop.geometry.representative_point().within(gone)].to_file(ws / "population.gpkg", driver="GPKG")
    actors = pd.read_csv(ws / "actors.csv", dtype=str)
    actors["municipalities"] = actors["municipalities"].map(
        lambda v: ";".join(c for c in str(v).split(";") if c.strip() != "997") or "996"
    )
    actors.to_csv(ws / "actors.csv", index=False)


@pytest.fixture(scope="module")
def full_and_cut(tmp_path_factory):
    root = tmp_path_factory.mktemp("region")
    full = api.load_workspace(api.copy_demo(root / "full"))
    cut_cfg = api.copy_demo(root / "cut")
    _without_routajarvi(cut_cfg.parent)
    cut = api.load_workspace(cut_cfg)
    return full, cut


def test_points_beyond_every_municipality_are_used_with_a_warning(full_and_cut):
    _, cut = full_and_cut
    outside = cut.service_points["municipality"] == ""
    assert outside.sum() == (full_and_cut[0].service_points["municipality"] == "997").sum()
    (warning,) = [w for w in cut.warnings if "outside every municipality" in w.message]
    assert f"{outside.sum()} service point(s)" in warning.message and "they are used" in warning.message


def test_cross_border_access_equals_the_whole_region(full_and_cut):
    full, cut = full_and_cut
    a = api.find_gaps(full).access
    b = api.find_gaps(cut).access
    m = a.merge(b, on=["cell_id", "service"], suffixes=("_full", "_cut"))
    assert len(m) == len(b)  # every remaining cell and service
    np.testing.assert_array_equal(m["distance_m_full"].to_numpy(), m["distance_m_cut"].to_numpy())
    across = m["nearest_point_id_cut"].fillna("").str.startswith("RO")
    assert across.sum() > 50  # cells whose nearest service is in the neighbouring municipality


def test_implausibly_far_points_are_problems(tmp_path):
    from arjenturva.errors import ValidationError

    config = api.copy_demo(tmp_path / "ws")
    sp = pd.read_csv(config.parent / "service_points.csv")
    sp.loc[0, "lon"] = sp.loc[0, "lon"] + 4.0  # about 180 km east
    sp.to_csv(config.parent / "service_points.csv", index=False)
    with pytest.raises(ValidationError) as e:
        api.load_workspace(config)
    assert any("km beyond every municipality" in p.message and p.where for p in e.value.problems)


def _with_study_area(config: Path, codes: str) -> Path:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("inputs:", f"study_area: [{codes}]\ninputs:", 1), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def studied(tmp_path_factory):
    """The whole demo, and the demo with only Kaarnavaara (996) studied and Routajärvi as context."""
    root = tmp_path_factory.mktemp("study")
    full = api.load_workspace(api.copy_demo(root / "full"))
    cfg = _with_study_area(api.copy_demo(root / "one"), "'996'")
    return full, api.load_workspace(cfg), cfg


def test_study_area_leaves_the_context_population_out_with_a_count(studied):
    full, one, _ = studied
    in_997 = full.population["municipality"] == "997"
    assert list(one.municipalities["code"]) == ["996"]
    assert list(one.context["code"]) == ["997"]
    assert len(one.population) == (~in_997).sum()
    assert one.left_out.features == in_997.sum()
    assert one.left_out.people == pytest.approx(full.population.loc[in_997, "population"].sum())
    (w,) = [w for w in one.warnings if "context municipalities" in w.message]
    assert f"{in_997.sum()} population feature(s)" in w.message
    # the context's service points are kept, with their municipality
    n_997 = (full.service_points["municipality"] == "997").sum()
    assert (one.service_points["municipality"] == "997").sum() == n_997


def test_study_area_gaps_and_outputs_cover_the_studied_municipality_only(studied, tmp_path):
    full, one, cfg = studied
    a = api.find_gaps(full)
    b = api.find_gaps(one)
    assert set(b.summary["municipality"]) == {"996"}
    mine = a.summary[a.summary["municipality"] == "996"].reset_index(drop=True)
    theirs = b.summary.reset_index(drop=True)
    # Kaarnavaara's figures do not change when Routajärvi becomes context: its points still count
    pd.testing.assert_frame_equal(mine[theirs.columns], theirs, check_dtype=False)

    res = api.run_pipeline(cfg, out_dir=tmp_path / "res", with_proposals=False)
    from arjenturva import results as R

    run = R.read_run(res.results_dir)
    assert run.raw["study_area"] == ["996"]
    assert run.raw["population_left_out"]["features"] == one.left_out.features

    ctx = R.read_layer(res.results_dir, R.CONTEXT)
    assert list(ctx["code"]) == ["997"]
    names = {p.name for p in (res.results_dir / "maps").iterdir()}
    assert "overview_996.png" in names and not any("997" in n for n in names)
    assert not any("997" in p.name for p in res.results_dir.glob("*.html"))


def test_unknown_study_area_code_is_an_error(tmp_path):
    from arjenturva.errors import ValidationError

    cfg = _with_study_area(api.copy_demo(tmp_path / "ws"), "'996', '123'")
    with pytest.raises(ValidationError) as e:
        api.load_workspace(cfg)
    (p,) = [p for p in e.value.problems if p.column == "study_area"]
    assert "123" in p.message and "municipalities layer" in p.message


def test_unreachable_largest_cases_are_named_but_never_small_cells():
    from shapely.geometry import LineString, Point, box

    from arjenturva.config import config_from_dict
    from arjenturva.coverage import find_gaps
    from arjenturva.export.tables import gap_facts
    from arjenturva.network import network_from_lines

    x0, y0 = 400_000.0, 7_300_000.0
    cfg = config_from_dict({
        "inputs": {"municipalities": {"path": "m"}, "population": {"path": "p"},
                   "service_points": {"path": "s"}},
        "network": {"source": "r.gpkg", "snap_tolerance_m": 5000},
        "services": {"shop": {"label": {"fi": "Kauppa", "en": "Shop"}, "threshold_km": {"default": 10}}},
    })
    roads = gpd.GeoDataFrame({"cls": ["a"]}, geometry=[LineString([(x0, y0), (x0 + 20_000, y0)])], crs=3067)
    net = network_from_lines(roads, class_column="cls", class_speeds_kmh={"a": 60})
    munis = gpd.GeoDataFrame({"code": ["999"], "name": ["Testi"]},
                             geometry=[box(x0 - 30_000, y0 - 30_000, x0 + 30_000, y0 + 30_000)], crs=3067)
    people = {"near": 50.0, "far_big": 300.0, "far_mid": 40.0, "far_small": 4.0}
    ys = {"near": 100, "far_big": 9000, "far_mid": 12_000, "far_small": 15_000}
    pop = gpd.GeoDataFrame(
        {"cell_id": list(people), "population": list(people.values()), "age_0_14": 0.0, "age_15_64": 0.0,
         "age_65_plus": 0.0, "area_class": "K3", "suppressed": False, "municipality": "999"},
        geometry=[Point(x0 + 5000, y0 + ys[c]) for c in people], crs=3067)
    sp = gpd.GeoDataFrame({"point_id": ["S", "OFF"], "name": ["S", "Off"], "services": [("shop",), ("shop",)],
                           "mode": "fixed", "days_per_week": np.nan, "municipality": "999"},
                          geometry=[Point(x0, y0), Point(x0, y0 + 20_000)], crs=3067)
    facts = gap_facts(find_gaps(cfg, net, pop, sp, munis), threshold=10)
    un = facts["unreachable"]
    assert un["cells"] == 3 and un["people"] == 344
    assert [c["cell_id"] for c in un["largest"]] == ["far_big", "far_mid"]  # far_small (4 people) unnamed
    assert un["largest"][0]["municipality_name"] == "Testi"
    assert facts["snapping"]["points"] == ["OFF"]

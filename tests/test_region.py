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

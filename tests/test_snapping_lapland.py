"""The default snap tolerance on sparse Lapland: the postal-area points of Lapland and North
Ostrobothnia against the NLS 1:1M roads (the measurement behind ``DEFAULT_SNAP_TOLERANCE_M``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA, requires_shared
from pyproj import Transformer

from arjenturva.config import NetworkConfig
from arjenturva.network import build_network, cost_matrix, snap_points
from arjenturva.road_defaults import DEFAULT_SNAP_TOLERANCE_M

pytestmark = [pytest.mark.shared, requires_shared]

TABLES = SHARED_DATA / "statfi-population-tables"
NLS = SHARED_DATA / "mml-general-map-1m" / "mml_yleiskartta_1milj_2012.gpkg"
REGIONS = (17, 19)  # maakunta: North Ostrobothnia, Lapland
KARESUVANTO = "99470"  # Enontekiö


@pytest.fixture(scope="module")
def nls():
    cfg = NetworkConfig(source=str(NLS), layer="road", class_column="DXF_LAYER")
    return cfg, build_network(cfg)


@pytest.fixture(scope="module")
def postal() -> pd.DataFrame:
    """Populated postal-area points (2022) of the two regions, with their municipality."""
    pts = pd.read_csv(TABLES / "paavo_postal_area_centroids_3067.csv")
    pts.columns = ["area", "x", "y"]
    pts["code"] = pts["area"].str[:5]
    pts["municipality"] = pts["area"].str.extract(r"\(([^)]*)\)\s*$")[0]
    pop = pd.read_csv(TABLES / "statfi_postal_code_population_2022.csv", dtype={"posti_alue": str})
    key = pd.read_csv(TABLES / "geofi_municipality_key_2025.csv")
    key = key[key["maakunta_code"].isin(REGIONS)]
    assert len(key) == 51
    pts = pts.merge(pop, left_on="code", right_on="posti_alue").merge(
        key[["kunta", "municipality_name_fi"]], left_on="municipality", right_on="municipality_name_fi"
    )
    assert set(pts["municipality"]) == set(key["municipality_name_fi"])
    return pts[pts["population_2022"] > 0].reset_index(drop=True)


def test_snap_distances_of_lapland_and_north_ostrobothnia(nls, postal):
    cfg, net = nls
    assert cfg.snap_tolerance_m == DEFAULT_SNAP_TOLERANCE_M == 25_000
    s = snap_points(net, postal[["x", "y"]].to_numpy(float), tolerance_m=100_000)
    d = s.access_m
    people = postal["population_2022"].to_numpy()
    assert len(postal) == 493 and people.sum() == 585_389
    # The distribution the default is chosen on.
    assert d.max() == pytest.approx(21_056, abs=1)  # 99860 Nellim (Inari)
    assert np.percentile(d, 99) == pytest.approx(11_187, abs=1)
    assert np.median(d) == pytest.approx(779, abs=1)
    beyond = {km: ((d > km * 1000).sum(), int(people[d > km * 1000].sum())) for km in (5, 10, 15, 20)}
    assert beyond == {5: (24, 12_722), 10: (9, 6_289), 15: (2, 407), 20: (2, 407)}
    # The default keeps every one of them, with a margin.
    assert d.max() < 0.9 * DEFAULT_SNAP_TOLERANCE_M
    assert snap_points(net, postal[["x", "y"]].to_numpy(float), tolerance_m=cfg.snap_tolerance_m).ok.all()


def test_karesuvanto_is_reachable_and_its_access_leg_is_costed(nls, postal):
    cfg, net = nls
    row = postal[postal["code"] == KARESUVANTO].iloc[0]
    assert "Karesuvanto" in row["area"] and row["population_2022"] == 269
    xy = np.array([[row["x"], row["y"]]], float)
    assert not snap_points(net, xy, tolerance_m=5000).ok[0]  # the old default left it out
    s = snap_points(net, xy, tolerance_m=cfg.snap_tolerance_m)
    assert s.ok[0] and s.access_m[0] == pytest.approx(20_591, abs=1)
    # To Enontekiö's centre (Hetta): the 20.6 km beyond the road end is driven at access_speed_kmh.
    centres = pd.read_csv(TABLES / "geofi_municipality_central_localities.csv").set_index("kuntatunnus")
    to_3067 = Transformer.from_crs(4326, 3067, always_xy=True)
    hx, hy = to_3067.transform(centres.loc[47, "X"], centres.loc[47, "Y"])
    pts = np.array([xy[0], [s.x[0], s.y[0]], [hx, hy]])
    both = snap_points(net, pts, tolerance_m=cfg.snap_tolerance_m)
    assert both.access_m[1] == pytest.approx(0, abs=1e-6)  # the point's own place on the road
    km = cost_matrix(net, both, both, weight="length", limit=1e6).toarray()
    sec = cost_matrix(
        net, both, both, weight="time", limit=1e5, access_speed_kmh=cfg.access_speed_kmh
    ).toarray()
    leg_s = s.access_m[0] / (cfg.access_speed_kmh / 3.6)
    assert leg_s / 60 == pytest.approx(41.2, abs=0.05)
    assert km[0, 2] == pytest.approx(km[1, 2] + s.access_m[0])
    assert sec[0, 2] == pytest.approx(sec[1, 2] + leg_s)
    assert km[0, 2] / 1000 == pytest.approx(129.9, abs=0.05)


def test_points_beyond_the_default_are_still_unreachable(nls):
    cfg, net = nls
    pts = pd.read_csv(TABLES / "paavo_postal_area_centroids_3067.csv")
    uto = pts[pts.iloc[:, 0].str.startswith("21740")].iloc[0]  # Utö, out at sea
    s = snap_points(net, np.array([[uto.iloc[1], uto.iloc[2]]], float), tolerance_m=cfg.snap_tolerance_m)
    assert not s.ok[0]

"""Speed factors: travel times driven at a measured share of the class speeds."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import SHARED_DATA, TEMPLATE_DIR, requires_shared
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

from arjenturva.config import NetworkConfig, config_from_dict
from arjenturva.errors import ConfigError
from arjenturva.network import (
    DRIVABLE_HIGHWAYS,
    NLS_CLASS_SPEEDS_KMH,
    build_network,
    cost_matrix,
    network_from_lines,
    snap_points,
)
from arjenturva.road_defaults import DEFAULT_SPEED_FACTORS

NLS = SHARED_DATA / "mml-general-map-1m" / "mml_yleiskartta_1milj_2012.gpkg"
CENTRES = SHARED_DATA / "statfi-population-tables" / "geofi_municipality_central_localities.csv"


def _roads() -> gpd.GeoDataFrame:
    """A -(fast, 6 km)- B -(slow, 1 km)- C -(track, 1 km)- D, and a second, fast road from B to C."""
    lines = [
        LineString([(0, 0), (6000, 0)]),
        LineString([(6000, 0), (7000, 0)]),
        LineString([(6000, 0), (6500, 500), (7000, 0)]),  # 1414.2 m, fast
        LineString([(7000, 0), (8000, 0)]),
    ]
    return gpd.GeoDataFrame({"kind": ["fast", "slow", "fast", "track"]}, geometry=lines, crs="EPSG:3067")


SPEEDS = {"fast": 90.0, "slow": 36.0, "track": 18.0}


def _time_s(net, a_xy: tuple[float, float], b_xy: tuple[float, float]) -> float:
    a = int(np.flatnonzero((net.x == a_xy[0]) & (net.y == a_xy[1]))[0])
    b = int(np.flatnonzero((net.x == b_xy[0]) & (net.y == b_xy[1]))[0])
    return float(dijkstra(net.csr_time, indices=a)[b])


def test_two_classes_give_hand_computed_times():
    net = network_from_lines(
        _roads(), class_column="kind", class_speeds_kmh=SPEEDS,
        speed_factors={"fast": 0.5, "slow": 0.9},
    )
    # A-B: 6000 m at 90 x 0.5 = 45 km/h (12.5 m/s) = 480 s.
    assert _time_s(net, (0, 0), (6000, 0)) == pytest.approx(480.0)
    # B-C: the straight slow road, 1000 m at 36 x 0.9 = 32.4 km/h (9 m/s) = 111.1 s, now beats the
    # fast detour, 1414.2 m at 12.5 m/s = 113.1 s (at the speeds the detour won: 56.6 s to 100 s).
    assert _time_s(net, (6000, 0), (7000, 0)) == pytest.approx(1000 / 9)
    # C-D: "track" is not listed and there is no "default": 1000 m at 18 km/h (5 m/s) = 200 s.
    assert _time_s(net, (7000, 0), (8000, 0)) == pytest.approx(200.0)
    assert net.info["speed_factors"] == {"fast": 0.5, "slow": 0.9, "track": 1.0}
    plain = network_from_lines(_roads(), class_column="kind", class_speeds_kmh=SPEEDS)
    assert _time_s(plain, (6000, 0), (7000, 0)) == pytest.approx(1000 * np.sqrt(2) / 25)
    # Lengths do not depend on speeds.
    assert np.array_equal(net.csr_length.data, plain.csr_length.data)


def test_default_factor_applies_to_unlisted_classes():
    net = network_from_lines(
        _roads(), class_column="kind", class_speeds_kmh=SPEEDS, speed_factors={"default": 0.5},
    )
    assert _time_s(net, (7000, 0), (8000, 0)) == pytest.approx(400.0)  # 1000 m at 9 km/h
    # B-C: the detour, 1414.2 m at 45 km/h (12.5 m/s), beats 1000 m at 18 km/h (200 s).
    assert _time_s(net, (6000, 0), (7000, 0)) == pytest.approx(1000 * np.sqrt(2) / 12.5)


def test_factor_one_reproduces_the_speeds_exactly():
    plain = network_from_lines(_roads(), class_column="kind", class_speeds_kmh=SPEEDS)
    for factors in ({}, {"default": 1.0}, {"fast": 1.0, "slow": 1, "track": 1.0}):
        net = network_from_lines(
            _roads(), class_column="kind", class_speeds_kmh=SPEEDS, speed_factors=factors
        )
        assert np.array_equal(net.road_time_s, plain.road_time_s)
        assert np.array_equal(net.edge_time_s, plain.edge_time_s)
        assert np.array_equal(net.csr_time.data, plain.csr_time.data)
        assert np.array_equal(net.csr_time_t.data, plain.csr_time_t.data)


def test_factors_keep_the_time_matrices_aligned_with_the_length_matrices():
    net = network_from_lines(
        _roads(), class_column="kind", class_speeds_kmh=SPEEDS, speed_factors={"fast": 0.8, "slow": 0.5},
    )
    for t, ln in ((net.csr_time, net.csr_length), (net.csr_time_t, net.csr_length_t)):
        assert np.array_equal(t.indices, ln.indices) and np.array_equal(t.indptr, ln.indptr)
    # Every directed edge's time is its road's time, and the road times are length / factored speed.
    speed = np.array([SPEEDS[c] for c in net.class_names])[net.road_class]
    factor = np.array([{"fast": 0.8, "slow": 0.5}.get(c, 1.0) for c in net.class_names])[net.road_class]
    assert np.allclose(net.road_time_s, net.road_length_m / (speed * factor / 3.6))
    assert np.array_equal(net.edge_time_s, net.road_time_s[net.edge_road])


def test_build_network_applies_factors_and_keys_the_cache_on_them(tmp_path: Path):
    src = tmp_path / "roads.gpkg"
    _roads().to_file(src, layer="roads")
    cache = tmp_path / "cache"
    base = {"source": str(src), "class_column": "kind", "class_speeds_kmh": SPEEDS}
    slow = NetworkConfig(**base, speed_factors={"fast": 0.8, "slow": 0.5})
    a = build_network(slow, cache_dir=cache)
    b = build_network(slow, cache_dir=cache)
    assert not a.info["from_cache"] and b.info["from_cache"]
    assert b.info["speed_factors"] == {"fast": 0.8, "slow": 0.5, "track": 1.0}
    assert np.array_equal(a.road_time_s, b.road_time_s)
    assert _time_s(b, (0, 0), (6000, 0)) == pytest.approx(300.0)
    plain = build_network(NetworkConfig(**base, speed_factors={}), cache_dir=cache)
    assert not plain.info["from_cache"]  # other factors: another cache file
    assert plain.info["cache_path"] != a.info["cache_path"]
    assert _time_s(plain, (0, 0), (6000, 0)) == pytest.approx(240.0)
    reference = network_from_lines(_roads(), class_column="kind", class_speeds_kmh=SPEEDS)
    assert np.array_equal(plain.road_time_s, reference.road_time_s)


def test_speed_factors_config():
    cfg = NetworkConfig(source="roads.gpkg")
    assert cfg.speed_factors == dict(DEFAULT_SPEED_FACTORS)
    assert NetworkConfig(source="r.gpkg", speed_factors={"VALTAT": 0.9}).speed_factors == {"VALTAT": 0.9}
    data = yaml.safe_load((TEMPLATE_DIR / "arjenturva.yaml").read_text())
    for bad in (0, -0.5, 94):
        data["network"]["speed_factors"] = {"VALTAT": bad}
        with pytest.raises(ConfigError, match=r"network.speed_factors.*between 0 and 2"):
            config_from_dict(data)


def test_every_known_class_has_a_factor():
    # A class added to the drivable OSM highways or the NLS classes needs its own factor.
    known = set(DRIVABLE_HIGHWAYS) | {"ferry"} | set(NLS_CLASS_SPEEDS_KMH)
    assert known - set(DEFAULT_SPEED_FACTORS) == set()
    assert all(0 < f <= 1 for f in DEFAULT_SPEED_FACTORS.values())


def _pudasjarvi_taivalkoski(speed_factors: dict[str, float] | None) -> tuple[float, float, float]:
    """Road km, minutes and the access legs' minutes between the two municipal centres."""
    kw = {} if speed_factors is None else {"speed_factors": speed_factors}
    cfg = NetworkConfig(source=str(NLS), layer="road", class_column="DXF_LAYER", **kw)
    net = build_network(cfg)
    centres = pd.read_csv(CENTRES).set_index("kuntatunnus").loc[[615, 832]]
    x, y = Transformer.from_crs(4326, 3067, always_xy=True).transform(centres["X"].to_numpy(),
                                                                      centres["Y"].to_numpy())
    s = snap_points(net, np.column_stack([x, y]), tolerance_m=cfg.snap_tolerance_m)
    assert s.ok.all()
    km = cost_matrix(net, s, s, weight="length", limit=1e6).toarray()[0, 1] / 1000
    minutes = cost_matrix(net, s, s, weight="time", limit=1e5,
                          access_speed_kmh=cfg.access_speed_kmh).toarray()[0, 1] / 60
    access_min = float(s.access_m.sum()) / (cfg.access_speed_kmh / 3.6) / 60
    return km, minutes, access_min


@pytest.mark.shared
@requires_shared
def test_pudasjarvi_taivalkoski_on_the_nls_roads():
    km, before, access = _pudasjarvi_taivalkoski({})  # at the NLS class speeds, as before
    _, after, _ = _pudasjarvi_taivalkoski(None)  # the default factors
    assert km == pytest.approx(66.94, abs=0.01)
    assert before == pytest.approx(41.29, abs=0.01)
    assert after == pytest.approx(43.95, abs=0.01)
    # The route is valtatie 20 (VALTAT) all the way: only its road part slows, by 1 / 0.937.
    assert after == pytest.approx(access + (before - access) / DEFAULT_SPEED_FACTORS["VALTAT"])

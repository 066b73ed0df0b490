"""Network what-ifs (scenario keys close_roads, speeds, add_roads) on a hand network, the cache
per edit set, and the demo's closed-ferry scenario.

The hand network (EPSG:3067 metres, a GeoJSON line layer with ids and NLS classes)::

    H (1000,4000)
    |  h2: 2000 m, PAIKALLIST
    F (1000,2000) --- E (0,2000)      f: 1000 m, PAIKALLIST
                      |  e: 2000 m, PAIKALLIST
    B (1000,0) ------ A (0,0)         S1: the bridge, 1000 m, PAIKALLIST
    |  F-B: d2, 2000 m, PAIKALLIST
    B --- C (3000,0)                  V1: 2000 m, VALTAT

Distances by road from A: B 1000, C 3000 and H 5000 (A-E-F-H). Without the bridge, B is
5000 (A-E-F-B) and C 7000. PAIKALLIST is driven at 60 km/h, VALTAT at 100 km/h x 0.9.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Polygon

from arjenturva import api
from arjenturva.config import NetworkConfig, ScenarioConfig
from arjenturva.errors import ArjenturvaError, NetworkError
from arjenturva.network import build_network, cache_key, edges_geodataframe
from arjenturva.network.edits import EditedNetworkConfig, edited_network_config
from arjenturva.scenario_config import AddedRoad, RoadClosure
from arjenturva.scenarios import apply_scenario

A, B, C, E, F, H = (0, 0), (1000, 0), (3000, 0), (0, 2000), (1000, 2000), (1000, 4000)
ROADS = [
    ("S1", "PAIKALLIST", [A, B]),
    ("V1", "VALTAT", [B, C]),
    ("e", "PAIKALLIST", [A, E]),
    ("f", "PAIKALLIST", [E, F]),
    ("d2", "PAIKALLIST", [F, B]),
    ("h2", "PAIKALLIST", [F, H]),
]
X0, Y0 = 430000.0, 7300000.0  # the hand network placed in Finland


def _at(p: tuple[float, float]) -> tuple[float, float]:
    return (X0 + p[0], Y0 + p[1])


@pytest.fixture
def hand(tmp_path: Path) -> tuple[NetworkConfig, Path]:
    gdf = gpd.GeoDataFrame(
        {"road_id": [r[0] for r in ROADS], "luokka": [r[1] for r in ROADS]},
        geometry=[LineString([_at(p) for p in r[2]]) for r in ROADS],
        crs="EPSG:3067",
    )
    gdf.to_file(tmp_path / "roads.geojson", driver="GeoJSON")
    cfg = NetworkConfig(
        source="roads.geojson",
        class_column="luokka",
        class_speeds_kmh={"VALTAT": 100, "PAIKALLIST": 60},
        speed_factors={"VALTAT": 0.9},
    )
    return cfg, tmp_path


def _node(net, p: tuple[float, float]) -> int:
    x, y = _at(p)
    i = int(np.argmin(np.hypot(net.x - x, net.y - y)))
    assert np.hypot(net.x[i] - x, net.y[i] - y) < 1e-6
    return i


def _dist(net, a, b, weight: str = "length") -> float:
    d = dijkstra(net.csr(weight), indices=_node(net, a))
    return float(d[_node(net, b)])


def _edited(cfg: NetworkConfig, **edits) -> EditedNetworkConfig:
    return edited_network_config(cfg, "test", **edits)


def test_the_hand_network_as_drawn(hand):
    cfg, folder = hand
    net = build_network(cfg, base_dir=folder)
    assert _dist(net, A, B) == pytest.approx(1000)
    assert _dist(net, A, C) == pytest.approx(3000)
    assert _dist(net, A, H) == pytest.approx(5000)
    # 1000 m at 60 km/h is 60 s; 2000 m at 90 km/h (100 x 0.9) is 80 s
    assert _dist(net, A, C, "time") == pytest.approx(60 + 80)


@pytest.mark.parametrize(
    "closure",
    [
        {"ids": ["S1"], "column": "road_id"},
        {"polygon": [[X0 + 400, Y0 - 100], [X0 + 600, Y0 - 100], [X0 + 600, Y0 + 100], [X0 + 400, Y0 + 100]]},
    ],
)
def test_a_closed_bridge_turns_the_distance_into_the_detour(hand, closure):
    cfg, folder = hand
    net = build_network(_edited(cfg, close_roads=[RoadClosure.model_validate(closure)]), base_dir=folder)
    assert _dist(net, A, B) == pytest.approx(5000)  # A-E-F-B
    assert _dist(net, A, C) == pytest.approx(7000)
    assert _dist(net, A, H) == pytest.approx(5000)  # not through the bridge: unchanged
    assert net.info["edits"]["closed_roads"] == 1 and net.info["edits"]["closed_km"] == pytest.approx(1.0)


def test_a_polygon_file_and_a_closed_class(hand):
    cfg, folder = hand
    square = Polygon([(X0 + 400, Y0 - 100), (X0 + 600, Y0 - 100), (X0 + 600, Y0 + 100), (X0 + 400, Y0 + 100)])
    gpd.GeoDataFrame(geometry=[square], crs="EPSG:3067").to_crs("EPSG:4326").to_file(
        folder / "silta.geojson", driver="GeoJSON"
    )
    net = build_network(_edited(cfg, close_roads=[RoadClosure(polygon="silta.geojson")]), base_dir=folder)
    assert _dist(net, A, B) == pytest.approx(5000)
    net = build_network(_edited(cfg, close_roads=[RoadClosure(classes=["VALTAT"])]), base_dir=folder)
    assert _dist(net, A, B) == pytest.approx(1000)
    x, y = _at(C)
    assert np.hypot(net.x - x, net.y - y).min() == pytest.approx(
        2000
    )  # C hung on the main road only: B is nearest


def test_a_winter_speed_changes_the_known_time(hand):
    cfg, folder = hand
    net = build_network(_edited(cfg, speeds={"VALTAT": 80}), base_dir=folder)
    # B-C: 2000 m at 80 x 0.9 = 72 km/h is 100 s (was 80 s); the bridge stays 60 s
    assert _dist(net, A, C, "time") == pytest.approx(60 + 100)
    assert _dist(net, A, C) == pytest.approx(3000)
    road = edges_geodataframe(net).set_index("road_class").loc["VALTAT"]
    assert road["time_s"] == pytest.approx(100)


def test_an_added_link_shortens_the_known_distance(hand):
    cfg, folder = hand
    # from the middle of A-E to the middle of F-H: both roads are split there
    link = AddedRoad(start=_at((0, 1000)), end=_at((1000, 3000)), road_class="PAIKALLIST")
    net = build_network(_edited(cfg, add_roads=[link]), base_dir=folder)
    diag = float(np.hypot(1000, 2000))
    assert _dist(net, A, H) == pytest.approx(1000 + diag + 1000)  # was 5000
    assert _dist(net, A, E) == pytest.approx(2000)  # the split road keeps its length
    assert _dist(net, A, (0, 1000)) == pytest.approx(1000)
    assert _dist(net, A, H, "time") == pytest.approx((2000 + diag) / (60 / 3.6))
    assert net.n_roads == len(ROADS) + 2 + 1 and net.info["edits"]["added_km"] == pytest.approx(
        diag / 1000, abs=1e-3
    )
    # a link in lon/lat, at a given speed, one-way: H is reached over it, A not back from H
    lon_lat = [(24.0, 66.0), (24.0, 66.0)]
    from pyproj import Transformer

    to_ll = Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)
    lon_lat = [to_ll.transform(*_at(p)) for p in ((0, 1000), (1000, 3000))]
    one_way = AddedRoad(start=lon_lat[0], end=lon_lat[1], crs="EPSG:4326", speed_kmh=30, oneway=True)
    net = build_network(_edited(cfg, add_roads=[one_way]), base_dir=folder)
    assert _dist(net, A, H) == pytest.approx(1000 + diag + 1000, abs=0.01)
    assert _dist(net, H, A) == pytest.approx(5000)


def test_bad_edits_name_the_scenario_key_and_the_fix_all_at_once(hand):
    cfg, folder = hand
    far = [[X0 + 50000, Y0], [X0 + 50100, Y0], [X0 + 50100, Y0 + 100]]
    edits = _edited(
        cfg,
        close_roads=[RoadClosure(ids=["S1", "NOPE"], column="road_id"), RoadClosure(polygon=far)],
        add_roads=[AddedRoad(start=_at((0, 1000)), end=_at((5000, 5000)), speed_kmh=50)],
        speeds={"MOOTTORIT": 100},
    )
    with pytest.raises(NetworkError) as err:
        build_network(edits, base_dir=folder)
    text = str(err.value)
    assert "scenarios.test.close_roads[0].ids: unknown road id(s) NOPE in column 'road_id'" in text
    assert "scenarios.test.close_roads[1].polygon closes nothing" in text
    assert "scenarios.test.speeds: no road of class MOOTTORIT" in text
    assert re.search(r"scenarios\.test\.add_roads\[0\]\.end: .* 4123 m from the nearest road", text)
    assert text.count("Fix:") == 4
    with pytest.raises(NetworkError, match=r"close_roads\[0\]\.column: no column 'tunnus'.*Fix"):
        build_network(_edited(cfg, close_roads=[RoadClosure(ids=["S1"], column="tunnus")]), base_dir=folder)


def test_closing_by_id_needs_a_line_layer(tmp_path):
    cfg_path = api.copy_demo(tmp_path / "ws")
    cfg = api.as_config(cfg_path)
    edits = _edited(cfg.network, close_roads=[RoadClosure(ids=["1"], column="id")])
    with pytest.raises(
        NetworkError, match=r"close_roads\[0\]\.ids: closing roads by id needs a road line layer"
    ):
        build_network(edits, base_dir=cfg.base_dir)


def test_the_cache_key_differs_per_edit_set_and_the_base_cache_is_reused(hand):
    cfg, folder = hand
    cache = folder / "cache"
    bridge = [RoadClosure(ids=["S1"], column="road_id")]
    keys = {
        "base": cache_key(cfg, base_dir=folder),
        "bridge": cache_key(_edited(cfg, close_roads=bridge), base_dir=folder),
        "winter": cache_key(_edited(cfg, speeds={"VALTAT": 80}), base_dir=folder),
        "winter90": cache_key(_edited(cfg, speeds={"VALTAT": 90}), base_dir=folder),
    }
    assert len(set(keys.values())) == 4
    # the scenario's name is not part of the edit set
    assert (
        cache_key(edited_network_config(cfg, "other", close_roads=bridge), base_dir=folder) == keys["bridge"]
    )
    said: list[str] = []
    base = build_network(cfg, base_dir=folder, cache_dir=cache, progress=said.append)
    base_file = Path(base.info["cache_path"])
    assert base_file.name == f"network-{keys['base'][:24]}.npz"
    stamp = base_file.stat().st_mtime_ns
    said.clear()
    net = build_network(
        _edited(cfg, close_roads=bridge), base_dir=folder, cache_dir=cache, progress=said.append
    )
    assert f"network: loaded from cache {base_file.name}" in said  # the unedited network, as it is
    assert base_file.stat().st_mtime_ns == stamp
    assert (
        Path(net.info["cache_path"]).name == f"network-{keys['bridge'][:24]}.npz"
        and not net.info["from_cache"]
    )
    again = build_network(_edited(cfg, close_roads=bridge), base_dir=folder, cache_dir=cache)
    assert again.info["from_cache"] and again.info["edits"]["closed_roads"] == 1
    assert _dist(again, A, B) == pytest.approx(5000)
    assert sorted(p.name for p in cache.glob("network-*.npz")) == sorted(
        f"network-{keys[k][:24]}.npz" for k in ("base", "bridge")
    )
    # a polygon file is keyed by its bytes: editing the file makes a new key
    square = Polygon([(X0 + 400, Y0 - 100), (X0 + 600, Y0 - 100), (X0 + 600, Y0 + 100)])
    gpd.GeoDataFrame(geometry=[square], crs="EPSG:3067").to_file(folder / "p.geojson", driver="GeoJSON")
    by_file = _edited(cfg, close_roads=[RoadClosure(polygon="p.geojson")])
    k1 = cache_key(by_file, base_dir=folder)
    gpd.GeoDataFrame(geometry=[square.buffer(5)], crs="EPSG:3067").to_file(
        folder / "p.geojson", driver="GeoJSON"
    )
    assert cache_key(by_file, base_dir=folder) != k1


def test_scenario_keys_validate_in_the_config():
    with pytest.raises(ValueError, match="exactly one of"):
        RoadClosure.model_validate({"ids": ["1"], "column": "id", "classes": ["ferry"]})
    with pytest.raises(ValueError, match="`ids` needs `column`"):
        RoadClosure.model_validate({"ids": [1]})
    with pytest.raises(ValueError, match="road_class.*or `speed_kmh`"):
        AddedRoad.model_validate({"start": [0, 0], "end": [1, 1]})
    with pytest.raises(ValueError, match="speeds must be positive"):
        ScenarioConfig.model_validate({"speeds": {"VALTAT": 0}})
    assert RoadClosure.model_validate({"ids": [12, "S1"], "column": "id"}).ids == ["12", "S1"]


# ---------------------------------------------------------------------------------------------
# The demo: the closed ferry
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return api.load_workspace(api.copy_demo(tmp_path_factory.mktemp("ferry") / "ws"))


def test_the_closed_ferry_drops_exactly_the_ferry(demo):
    sc = apply_scenario(demo, "lautta_suljettu")
    assert isinstance(sc.config.network, EditedNetworkConfig) and not isinstance(
        demo.config.network, EditedNetworkConfig
    )
    base, edited = api.build_network(demo.config), api.build_network(sc.config)

    def edges(net):
        e = edges_geodataframe(net)
        return {
            (int(u), int(v), round(float(m), 6), c)
            for u, v, m, c in zip(e["u"], e["v"], e["length_m"], e["road_class"], strict=True)
        }

    gone = edges(base) - edges(edited)
    assert edges(edited) <= edges(base) and {c for *_, c in gone} == {"ferry"} and len(gone) == 1
    assert set(edited.node_ids) == set(base.node_ids)
    # Salmenkylä's road distance to the nearest fixed health station, against the generator's
    # networkx graph of the same roads with and without the ferry (expected_gaps.json)
    ref = json.loads((demo.config.base_dir / "expected_gaps.json").read_text(encoding="utf-8"))[
        "ferry_dependent"
    ][0]
    pts = demo.service_points
    fixed = pts[pts["services"].map(lambda s: "health_station" in s) & (pts["mode"] == "fixed")]

    def km(net) -> float:
        nodes = [int(np.argmin(np.hypot(net.x - p.x, net.y - p.y))) for p in fixed.geometry]
        d = dijkstra(net.csr_length, indices=nodes, min_only=True)
        home = int(np.argmin(np.hypot(net.x - ref["x"], net.y - ref["y"])))
        return float(d[home]) / 1000

    assert km(base) == pytest.approx(ref["road_km_with_ferry"], abs=0.05)
    assert km(edited) == pytest.approx(ref["road_km_without_ferry"], abs=0.05)


def test_the_closed_ferry_scenario_is_the_demo_without_the_ferry_way(demo, tmp_path):
    """The scenario's access equals that of the same workspace whose OSM file lacks the ferry way: it
    changes exactly the cells whose nearest service was over the ferry, and only by the detour."""
    sc = apply_scenario(demo, "lautta_suljettu")
    osm = (demo.config.base_dir / "roads.osm").read_text(encoding="utf-8")
    ways = re.findall(r"  <way id=\"\d+\" version=\"1\">\n.*?  </way>\n", osm, flags=re.S)
    ferry = [w for w in ways if 'v="ferry"' in w]
    assert len(ferry) == 1
    (tmp_path / "roads_no_ferry.osm").write_text(osm.replace(ferry[0], ""), encoding="utf-8")
    no_ferry = demo.config.model_copy(
        update={
            "network": demo.config.network.model_copy(update={"source": str(tmp_path / "roads_no_ferry.osm")})
        }
    )
    no_ferry.base_dir, no_ferry.path = demo.config.base_dir, demo.config.path
    g0, g1 = api.find_gaps(demo), api.find_gaps(sc)
    g2 = api.find_gaps(dataclasses.replace(demo, config=no_ferry))
    key = ["cell_id", "service"]
    m = g0.access.merge(g1.access, on=key, suffixes=("", "_s")).merge(
        g2.access, on=key, suffixes=("", "_ref")
    )
    np.testing.assert_allclose(m["distance_m_s"], m["distance_m_ref"], rtol=1e-9)
    np.testing.assert_allclose(m["coverage_s"], m["coverage_ref"])
    changed = m[~np.isclose(m["distance_m"], m["distance_m_s"])]
    assert len(changed) > 0 and (changed["distance_m_s"] > changed["distance_m"]).all()


def test_a_scenario_with_a_missing_polygon_file_fails_before_any_work(demo):
    demo.config.scenarios["x"] = ScenarioConfig.model_validate({"close_roads": [{"polygon": "nope.gpkg"}]})
    try:
        sc = apply_scenario(demo, "x")
        with pytest.raises(
            ArjenturvaError, match=r"scenarios\.x\.close_roads\[0\]\.polygon: file .*nope.gpkg"
        ):
            api.build_network(sc.config)
    finally:
        del demo.config.scenarios["x"]

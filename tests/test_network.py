"""Tests of the road network sources, cache and shortest-path engine (arjenturva.network)."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from arjenturva.config import NetworkConfig
from arjenturva.errors import NetworkError, OfflineError
from arjenturva.network import (
    Network,
    Snapped,
    build_network,
    cost_matrix,
    edges_geodataframe,
    load_network_source,
    nearest_facility,
    network_from_graph,
    network_from_lines,
    network_info,
    parse_maxspeed,
    snap_points,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
HERE = Path(__file__).resolve().parent / "data" / "network"
TORNIO = SHARED / "lapland-town-road-graphs" / "tornio_graph.graphml"
NLS = SHARED / "mml-general-map-1m" / "mml_yleiskartta_1milj_2012.gpkg"
BOUNDARIES = SHARED / "fi-municipality-boundaries" / "kunta4500k_2025_neighbors_province.geojson"
PBF_DIR = SHARED / "osm-pbf-fixtures"
DEMO_OSM = REPO / "data" / "demo" / "roads.osm"
PILOTS = ["615", "320", "583", "614", "851"]

X0, Y0 = 400_000.0, 7_300_000.0


# --------------------------------------------------------------------------------------------
# Independent reference: networkx on a split-edge graph
# --------------------------------------------------------------------------------------------


def reference_nearest(
    net: Network, org: Snapped, fac: Snapped, *, weight: str = "length", access_speed_kmh: float = 30.0
) -> np.ndarray:
    """Nearest-facility cost by networkx on a graph where every snapped point splits its road.

    Built from the road table only (a, b, cost, directions); shortest paths by networkx's
    multi-source Dijkstra on the reversed graph.
    """
    cost = net.road_length_m if weight == "length" else net.road_time_s
    acc_div = 1.0 if weight == "length" else access_speed_kmh / 3.6
    stops: dict[int, list[tuple[float, object, float]]] = {}
    for i in np.flatnonzero(org.ok):
        stops.setdefault(int(org.road[i]), []).append((float(org.frac[i]), ("o", int(i)), 0.0))
    for j in np.flatnonzero(fac.ok):
        stops.setdefault(int(fac.road[j]), []).append((float(fac.frac[j]), ("f", int(j)), 0.0))
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(net.n_nodes))
    for r in range(net.n_roads):
        a, b = int(net.road_a[r]), int(net.road_b[r])
        chain = [(0.0, a)]
        for k, (frac, who, _) in enumerate(sorted(stops.get(r, []), key=lambda s: s[0])):
            chain.append((frac, ("split", r, k, who)))
        chain.append((1.0, b))
        for (f0, n0), (f1, n1) in zip(chain[:-1], chain[1:], strict=True):
            w = (f1 - f0) * float(cost[r])
            if net.road_fwd[r]:
                G.add_edge(n0, n1, w=w)
            if net.road_bwd[r]:
                G.add_edge(n1, n0, w=w)
        for frac, node in chain[1:-1]:
            # A point exactly at a road end is at that node: it may leave by any road.
            for end, at_end in ((a, frac <= 1e-9), (b, frac >= 1 - 1e-9)):
                if at_end:
                    G.add_edge(node, end, w=0.0)
                    G.add_edge(end, node, w=0.0)
            who = node[3]
            pts = org if who[0] == "o" else fac
            acc = float(pts.access_m[who[1]]) / acc_div
            if who[0] == "o":
                G.add_edge(who, node, w=acc)
            else:
                G.add_edge(node, who, w=acc)
    sources = [("f", int(j)) for j in np.flatnonzero(fac.ok)]
    dist = nx.multi_source_dijkstra_path_length(G.reverse(copy=False), sources, weight="w") if sources else {}
    return np.array([dist.get(("o", i), np.inf) for i in range(len(org))])


# --------------------------------------------------------------------------------------------
# Tiny hand-made network with known answers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny() -> Network:
    cfg = NetworkConfig(
        source="tiny_roads.geojson", class_column="class", class_speeds_kmh={"fast": 36, "slow": 18},
        oneway_column="oneway",
    )
    return build_network(cfg, base_dir=HERE)


def pts(*xy: tuple[float, float]) -> np.ndarray:
    return np.array(xy, float) + [X0, Y0]


def test_tiny_structure(tiny: Network) -> None:
    info = network_info(tiny)
    assert info["nodes"] == 6  # D and the 0.4 m-off start of D-B merged
    assert info["roads"] == 6
    assert info["edges"] == 11  # one one-way road
    assert info["components"] == 2
    assert info["largest_nodes"] == 4
    assert info["km_outside_largest"] == pytest.approx(1.0)
    assert info["oneway_roads"] == 1
    # Parallel A-B edges: the CSR keeps the shorter (1000 m), not the sum.
    a = int(tiny.node_index(tiny.node_ids[np.argmin(np.hypot(tiny.x - X0, tiny.y - Y0))])[0])
    b = int(np.argmin(np.hypot(tiny.x - X0 - 1000, tiny.y - Y0)))
    assert tiny.csr_length[a, b] == pytest.approx(1000.0)
    assert tiny.csr_length[b, a] == pytest.approx(1000.0)
    assert tiny.csr_time[a, b] == pytest.approx(100.0)
    # Both directions of a two-way road share one geometry.
    two_way = np.flatnonzero(tiny.road_fwd & tiny.road_bwd)
    for r in two_way:
        assert np.sum(tiny.edge_road == r) == 2
    # Node-id map round trip and Morton ordering keeps all nodes.
    assert np.array_equal(tiny.node_index(tiny.node_ids), np.arange(tiny.n_nodes))
    assert tiny.node_index([10**12])[0] == -1
    gdf = edges_geodataframe(tiny)
    assert len(gdf) == 6 and gdf.crs.to_epsg() == 3067
    assert gdf.length.sum() == pytest.approx(tiny.road_length_m.sum())


def test_tiny_known_answers(tiny: Network) -> None:
    dx = 0.2  # D is the mean of (1000, 1000) and (1000.4, 1000)
    cd = 1000 + (1000 - dx)
    db = math.hypot(dx, 1000)
    origins = pts(
        (500, -100),  # O1: on A-B, 100 m off the road
        (1800, 50),  # O2: on one-way B->C, past the facility: must go round C-D-B
        (1200, 0),  # O3: same road as the facility, before it: direct
        (1000, 600),  # O4: next to D-B
        (20_000, 20_000),  # O5: beyond the snapping tolerance
        (5500, 5100),  # O6: on the island E-F: no facility reachable
    )
    fac_xy = pts((1500, 0))
    o = snap_points(tiny, origins, tolerance_m=5000)
    f = snap_points(tiny, fac_xy)
    assert o.ok.tolist() == [True, True, True, True, False, True]
    assert o.access_m[0] == pytest.approx(100.0)
    assert o.access_m[2] == pytest.approx(0.0)
    db_line = shapely.LineString([(X0 + 1000 + 0.2, Y0 + 1000), (X0 + 1000, Y0)])
    p4 = shapely.Point(origins[3])
    assert o.access_m[3] == pytest.approx(db_line.distance(p4))
    res = nearest_facility(tiny, o, f, weight="length")
    o4 = o.access_m[3] + (1 - db_line.project(p4, normalized=True)) * db + 500  # along D-B to B, then to P
    expected = [100 + 500 + 500, 50 + 200 + cd + db + 500, 300, o4, np.inf, np.inf]
    np.testing.assert_allclose(res.cost, expected, rtol=1e-9)
    assert res.facility.tolist() == [0, 0, 0, 0, -1, -1]
    # Time: fast roads 10 m/s, the C-D bend 5 m/s, access legs 30 km/h.
    rt = nearest_facility(tiny, o, f, weight="time", access_speed_kmh=36)
    t_db = db / 10
    expected_t = [10 + 50 + 50, 5 + 20 + cd / 5 + t_db + 50, 30]
    np.testing.assert_allclose(rt.cost[:3], expected_t, rtol=1e-9)
    # Limit: costs above it are inf.
    rl = nearest_facility(tiny, o, f, weight="length", limit=1200)
    assert np.isfinite(rl.cost).tolist() == [True, False, True, True, False, False]
    # Independent networkx computation agrees.
    np.testing.assert_allclose(res.cost, reference_nearest(tiny, o, f), rtol=1e-9)


def test_origin_terms_are_kept_per_network(tiny: Network) -> None:
    """Snapped origins reuse their per-network terms, but never those of another network."""
    slow = build_network(
        NetworkConfig(source="tiny_roads.geojson", class_column="class",
                      class_speeds_kmh={"fast": 18, "slow": 9}, oneway_column="oneway"),
        base_dir=HERE,
    )
    o = snap_points(tiny, pts((500, 100), (1000, 600), (1200, 0)))
    f = snap_points(tiny, pts((1500, 0)))
    fast_t = nearest_facility(tiny, o, f, weight="time", access_speed_kmh=36).cost
    again = nearest_facility(tiny, o, f, weight="time", access_speed_kmh=36).cost
    np.testing.assert_array_equal(fast_t, again)
    slow_t = nearest_facility(slow, o, f, weight="time", access_speed_kmh=36).cost
    np.testing.assert_allclose(slow_t, reference_nearest(slow, o, f, weight="time", access_speed_kmh=36),
                               rtol=1e-9)
    assert (slow_t > fast_t).all()
    # A different access speed is a different set of terms.
    walk = nearest_facility(tiny, o, f, weight="time", access_speed_kmh=5).cost
    np.testing.assert_allclose(walk, reference_nearest(tiny, o, f, weight="time", access_speed_kmh=5),
                               rtol=1e-9)


def test_tiny_facility_at_origin_and_two_facilities(tiny: Network) -> None:
    origins = pts((1500, 0), (0, 0), (1800, 0))
    facs = pts((1500, 0), (0, -10))  # P on B->C, Q 10 m off A
    o = snap_points(tiny, origins)
    f = snap_points(tiny, facs)
    res = nearest_facility(tiny, o, f)
    assert res.cost[0] == 0.0 and res.facility[0] == 0  # zero cost is a real zero
    assert res.cost[1] == pytest.approx(10.0) and res.facility[1] == 1
    np.testing.assert_allclose(res.cost, reference_nearest(tiny, o, f), rtol=1e-9)
    m = cost_matrix(tiny, o, f, weight="length", limit=5000)
    assert m.shape == (3, 2)
    assert m[0, 0] == 0.0 and 0 in m.indices[m.indptr[0]:m.indptr[1]]  # explicit zero kept
    dense = np.full(m.shape, np.inf)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    dense[rows, m.indices] = m.data
    np.testing.assert_allclose(dense.min(axis=1), res.cost, rtol=1e-12)


def test_cost_matrix_matches_per_target_sweeps(tiny: Network) -> None:
    rng = np.random.default_rng(1)
    origins = rng.uniform([-200, -200], [2200, 1200], (40, 2)) + [X0, Y0]
    targets = rng.uniform([-200, -200], [2200, 1200], (7, 2)) + [X0, Y0]
    o, t = snap_points(tiny, origins), snap_points(tiny, targets)
    m = cost_matrix(tiny, o, t, weight="time", limit=10_000, batch=3)
    for j in range(len(t)):
        ref = reference_nearest(tiny, o, t.subset(np.array([j])), weight="time")
        got = m[:, [j]].toarray().ravel()
        present = np.zeros(len(o), bool)
        present[m.tocsc()[:, [j]].tocoo().coords[0]] = True
        np.testing.assert_array_equal(present, ref <= 10_000)
        np.testing.assert_allclose(got[present], ref[present], rtol=1e-9)


# --------------------------------------------------------------------------------------------
# OSM sources
# --------------------------------------------------------------------------------------------


def test_osm_xml_keeps_ferries_and_drops_footways() -> None:
    net = load_network_source(HERE / "tiny_ferry.osm")
    classes = set(net.info["classes"])
    assert classes == {"secondary", "ferry", "residential"}
    assert net.info["ferry_km"] > 1.0
    assert net.info["oneway_roads"] == 1
    sec = net.class_names.index("secondary")
    r = int(np.flatnonzero(net.road_class == sec)[0])
    assert net.road_time_s[r] == pytest.approx(net.road_length_m[r] / (80 / 3.6))  # FI:rural
    ferry = net.class_names.index("ferry")
    r = int(np.flatnonzero(net.road_class == ferry)[0])
    assert net.road_time_s[r] == pytest.approx(net.road_length_m[r] / (10 / 3.6))


def test_pbf_reader_matches_xml(tmp_path: Path) -> None:
    osmium = pytest.importorskip("osmium")
    pbf = tmp_path / "tiny_ferry.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as w:
        for obj in osmium.FileProcessor(str(HERE / "tiny_ferry.osm")):
            if obj.is_node():
                w.add_node(obj)
            elif obj.is_way():
                w.add_way(obj)
    a = load_network_source(pbf)
    b = load_network_source(HERE / "tiny_ferry.osm")
    assert a.info["classes"] == b.info["classes"]
    np.testing.assert_allclose(np.sort(a.road_length_m), np.sort(b.road_length_m), rtol=1e-9)
    np.testing.assert_allclose(np.sort(a.road_time_s), np.sort(b.road_time_s), rtol=1e-9)


@pytest.mark.shared
@pytest.mark.skipif(not PBF_DIR.exists(), reason="shared data absent")
@pytest.mark.parametrize("name", ["helsinki_centre.osm.pbf", "kotka_karhula.osm.pbf"])
def test_pbf_fixtures_load(name: str) -> None:
    net = load_network_source(PBF_DIR / name)
    info = net.info
    assert info["nodes"] > 300 and info["components"] >= 1
    assert not {"footway", "cycleway", "path", "steps", "track", "pedestrian"} & set(info["classes"])
    assert info["oneway_roads"] > 0
    assert 0.8 < info["largest_share"] <= 1.0
    # Geometry lies in Finland in EPSG:3067 and lengths come from the projected polylines.
    assert 380_000 < np.median(net.x) < 520_000 and 6_670_000 < np.median(net.y) < 6_720_000
    gdf = edges_geodataframe(net)
    np.testing.assert_allclose(gdf.length.to_numpy(), net.road_length_m, rtol=1e-9)
    # The Helsinki extract's only ferry leaves the extract (all but its end node are missing),
    # so no ferry can be built from it; the reader must not fail on the missing nodes.


def _osmnx_xml_network(path: Path) -> Network:
    """The network the OSM XML reader built through osmnx before it read with pyosmium."""
    from arjenturva.network.assemble import _assemble
    from arjenturva.network.graphs import _roads_from_nx
    from arjenturva.network.osm import _drivable_graph, _osmnx_settings
    from arjenturva.network.tags import _OSM_WAY_TAGS

    speeds = NetworkConfig(source=str(path)).speeds()
    with _osmnx_settings(useful_tags_way=sorted(set(_OSM_WAY_TAGS)), log_console=False) as ox:
        G = ox.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=False)
        drivable = _drivable_graph(G)
    roads = _roads_from_nx(drivable, speeds=speeds, keep_length=False, source=str(path))
    return _assemble(roads, speeds=speeds, source=str(path), progress=None)


def _canonical_roads(net: Network) -> list[tuple[object, ...]]:
    """Roads as sortable tuples, each turned to start at its smaller end."""
    out = []
    for r in range(net.n_roads):
        xy = net.road_xy[net.road_offsets[r]:net.road_offsets[r + 1]]
        a, b = int(net.road_a[r]), int(net.road_b[r])
        f, w = bool(net.road_fwd[r]), bool(net.road_bwd[r])
        if (b, tuple(xy[::-1].ravel())) < (a, tuple(xy.ravel())):
            a, b, f, w, xy = b, a, w, f, xy[::-1]
        out.append((a, b, f, w, net.class_names[net.road_class[r]], round(float(net.road_length_m[r]), 6),
                    round(float(net.road_time_s[r]), 6), tuple(np.round(xy, 6).ravel())))
    return sorted(out)


def assert_same_network(a: Network, b: Network) -> None:
    for k in ("node_ids", "x", "y"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)
    for k in ("csr_length", "csr_time", "csr_length_t", "csr_time_t"):
        ma, mb = getattr(a, k), getattr(b, k)
        np.testing.assert_array_equal(ma.indptr, mb.indptr, err_msg=k)
        np.testing.assert_array_equal(ma.indices, mb.indices, err_msg=k)
        # Lengths are summed along differently ordered polylines: rounding apart only.
        np.testing.assert_allclose(ma.data, mb.data, rtol=0, atol=1e-8, err_msg=k)
    assert _canonical_roads(a) == _canonical_roads(b)
    keys = ("nodes", "edges", "roads", "km", "components", "oneway_roads", "ferry_km", "classes")
    assert {k: a.info[k] for k in keys} == {k: b.info[k] for k in keys}


def _xml_without_clipped_ways(pbf: Path, dest: Path) -> Path:
    """The PBF as OSM XML without the ways that leave the extract (osmnx cannot read those)."""
    import osmium

    ids = {n.id for n in osmium.FileProcessor(str(pbf), osmium.osm.NODE)}
    with osmium.SimpleWriter(str(dest)) as w:
        for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY):
            if obj.is_node():
                w.add_node(obj)
            elif all(nd.ref in ids for nd in obj.nodes):
                w.add_way(obj)
    return dest


@pytest.mark.parametrize("name", ["demo", "demo.bz2", "tiny_ferry", "overpass", "helsinki", "kotka"])
def test_osm_xml_equals_the_osmnx_graph(name: str, tmp_path: Path) -> None:
    """pyosmium and the osmnx simplification rules give the network osmnx's graph gave."""
    pytest.importorskip("osmnx")
    if name == "demo":
        path = DEMO_OSM
    elif name == "demo.bz2":
        import bz2

        path = tmp_path / "roads.osm.bz2"
        path.write_bytes(bz2.compress(DEMO_OSM.read_bytes()))
    elif name == "tiny_ferry":
        path = HERE / "tiny_ferry.osm"
    elif name == "overpass":
        path = HERE.parent / "fetch" / "overpass_roads.osm"
    else:
        pbf = PBF_DIR / ("helsinki_centre.osm.pbf" if name == "helsinki" else "kotka_karhula.osm.pbf")
        if not pbf.exists():
            pytest.skip("shared data absent")
        path = _xml_without_clipped_ways(pbf, tmp_path / f"{name}.osm")
    assert_same_network(load_network_source(path), _osmnx_xml_network(path))


def test_osm_xml_with_ways_before_nodes(tmp_path: Path) -> None:
    """An Overpass ``out body; >; out skel qt;`` answer lists the ways first: same network; a
    vertex missing from the file splits its way there, as in a clipped extract."""
    import re

    text = DEMO_OSM.read_text(encoding="utf-8")
    nodes = re.findall(r"  <node [^\n]*/>\n", text)
    ways = re.findall(r"  <way .*?</way>\n", text, flags=re.S)
    assert len(nodes) > 2000 and len(ways) > 40
    head = text[: text.index("  <node ")]
    path = tmp_path / "ways_first.osm"
    path.write_text(head + "".join(ways) + "".join(nodes) + "</osm>\n", encoding="utf-8")
    sorted_net = load_network_source(DEMO_OSM)
    assert_same_network(load_network_source(path), sorted_net)
    # Drop one vertex in the middle of a road: the road is cut there, the rest is kept.
    net = load_network_source(path)
    r = int(np.argmax(np.diff(net.road_offsets)))
    vx, vy = net.road_xy[(net.road_offsets[r] + net.road_offsets[r + 1]) // 2]
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(3067, 4326, always_xy=True).transform(vx, vy)

    def off(line: str) -> float:
        m = re.search(r'lat="([^"]+)" lon="([^"]+)"', line)
        assert m is not None
        return math.hypot(float(m[2]) - lon, float(m[1]) - lat)

    gone = min(nodes, key=off)
    kept = "".join(n for n in nodes if n != gone)
    path.write_text(head + "".join(ways) + kept + "</osm>\n", encoding="utf-8")
    cut = load_network_source(path)
    assert cut.n_roads > sorted_net.n_roads - 1 and cut.info["km"] < sorted_net.info["km"]


def _random_osm(seed: int, path: Path) -> Path:
    """A small random OSM XML file full of awkward ways: duplicates (also reversed, with another
    one-way tag), closed and self-crossing ways, repeated vertices, ferries, speed changes."""
    rng = np.random.default_rng(seed)
    side = int(rng.integers(4, 10))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for i in range(side * side):
        r, c = divmod(i, side)
        lat, lon = 65 + r * 0.001 + rng.uniform(-2e-4, 2e-4), 25 + c * 0.002 + rng.uniform(-4e-4, 4e-4)
        lines.append(f'<node id="{i + 1}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    ways: list[tuple[list[int], dict[str, str]]] = []
    for _ in range(int(rng.integers(3, 3 * side))):
        if rng.random() < 0.15 and ways:
            nodes, tags = ways[int(rng.integers(len(ways)))]
            nodes = nodes[::-1] if rng.random() < 0.5 else list(nodes)
            tags = {**tags, "oneway": str(rng.choice(["yes", "-1", "no"]))}
        else:
            cur = int(rng.integers(side * side))
            nodes = [cur]
            for _ in range(int(rng.integers(1, 8))):
                r, c = divmod(cur, side)
                steps = [(r + dr, c + dc) for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0))
                         if 0 <= r + dr < side and 0 <= c + dc < side]
                r, c = steps[int(rng.integers(len(steps)))]
                cur = r * side + c
                nodes += [cur, cur] if rng.random() < 0.05 else [cur]
            if rng.random() < 0.1:
                nodes.append(nodes[0])
            tags = {"highway": str(rng.choice(["residential", "tertiary", "service", "footway"]))}
            if rng.random() < 0.05:
                tags = {"route": "ferry"}
            oneway, maxspeed = rng.choice(["", "", "yes", "-1", "no"]), rng.choice(["", "30", "50"])
            for k, v in (("oneway", oneway), ("maxspeed", maxspeed)):
                if v:
                    tags[k] = str(v)
        ways.append((nodes, tags))
    for k, (nodes, tags) in enumerate(ways):
        nd = "".join(f'<nd ref="{n + 1}"/>' for n in nodes)
        tg = "".join(f'<tag k="{a}" v="{b}"/>' for a, b in tags.items())
        lines.append(f'<way id="{1000 + k}">{nd}{tg}</way>')
    path.write_text("\n".join([*lines, "</osm>"]))
    return path


def test_osm_xml_costs_equal_the_segment_graph(tmp_path: Path) -> None:
    """On random awkward OSM files, every shortest length and time between the network's nodes
    equals that on the graph of every way segment (each vertex a node), built here directly."""
    import xml.etree.ElementTree as ET

    from pyproj import Transformer
    from scipy.sparse.csgraph import dijkstra

    from arjenturva.network.tags import _class_speed, _is_drivable, _oneway_code

    tr = Transformer.from_crs(4326, 3067, always_xy=True)
    speeds = NetworkConfig(source="x.osm").speeds()
    for seed in range(30):
        path = _random_osm(seed, tmp_path / f"r{seed}.osm")
        root = ET.parse(path).getroot()
        pos = {int(n.get("id")): tr.transform(float(n.get("lon")), float(n.get("lat")))
               for n in root.iter("node")}
        G = nx.MultiDiGraph()
        for w in root.iter("way"):
            tags = {t.get("k"): t.get("v") for t in w.iter("tag")}
            c = _is_drivable(tags)
            if c is None:
                continue
            o = _oneway_code(tags)
            kmh = parse_maxspeed(tags.get("maxspeed"), speeds=speeds)
            kmh = kmh if np.isfinite(kmh) else _class_speed(c, speeds)
            refs = [int(nd.get("ref")) for nd in w.iter("nd")]
            for u, v in zip(refs[:-1], refs[1:], strict=True):
                d = math.dist(pos[u], pos[v])
                for s, t, ok in ((u, v, o >= 0), (v, u, o <= 0)):
                    if ok and u != v:
                        G.add_edge(s, t, length=d, time=d / (kmh / 3.6))
        if G.number_of_edges() == 0:
            continue
        net = load_network_source(path)
        ids = net.node_ids.tolist()
        for w in ("length", "time"):
            got = dijkstra(net.csr(w), directed=True)
            ref = np.array([[d.get(v, np.inf) for v in ids] for d in (
                nx.single_source_dijkstra_path_length(G, u, weight=w) for u in ids)])
            np.testing.assert_array_equal(np.isfinite(got), np.isfinite(ref))
            fin = np.isfinite(ref)
            np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-9, atol=1e-6)


def test_osm_xml_is_read_without_osmnx() -> None:
    import subprocess
    import sys

    code = ("import sys; from arjenturva.network import load_network_source; "
            f"load_network_source({str(DEMO_OSM)!r}); print('osmnx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------
# Real data: Tornio GraphML and NLS roads of the pilot municipalities
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tornio() -> tuple[Network, nx.MultiDiGraph]:
    import osmnx as ox

    G = ox.load_graphml(TORNIO)
    return network_from_graph(G, source=str(TORNIO)), G


@pytest.mark.shared
@pytest.mark.skipif(not TORNIO.exists(), reason="shared data absent")
def test_tornio_graphml_equals_networkx(tornio: tuple[Network, nx.MultiDiGraph]) -> None:
    net, G = tornio
    assert net.n_nodes == G.number_of_nodes() - sum(1 for n in G if G.degree(n) == 0)
    assert net.info["components"] == 19 and net.info["largest_nodes"] == 13_660
    assert net.info["km"] == pytest.approx(412.8, abs=0.1)
    rng = np.random.default_rng(7)
    fac_ids = rng.choice(np.asarray(list(G.nodes)), 25, replace=False)
    # Facilities and origins exactly at nodes: snapping adds nothing.
    fi = net.node_index(fac_ids)
    f = snap_points(net, np.column_stack([net.x[fi], net.y[fi]]))
    org_idx = rng.choice(net.n_nodes, 400, replace=False)
    o = snap_points(net, np.column_stack([net.x[org_idx], net.y[org_idx]]))
    assert np.all(o.access_m < 1e-6) and np.all(f.access_m < 1e-6)
    res = nearest_facility(net, o, f, weight="length")
    ref = nx.multi_source_dijkstra_path_length(G.reverse(copy=False), list(fac_ids), weight="length")
    expected = np.array([ref.get(int(i), np.inf) for i in net.node_ids[org_idx]])
    np.testing.assert_allclose(res.cost, expected, rtol=1e-6, atol=1e-9)
    # The facility found is at that distance.
    reached = np.isfinite(expected)
    assert np.all(res.facility[reached] >= 0) and np.all(res.facility[~reached] == -1)
    # limit= bounds the sweep without changing what lies within it.
    rl = nearest_facility(net, o, f, weight="length", limit=1500)
    within = expected <= 1500
    np.testing.assert_allclose(rl.cost[within], expected[within], rtol=1e-6)
    assert np.all(np.isinf(rl.cost[~within]))


@pytest.mark.shared
@pytest.mark.skipif(not TORNIO.exists(), reason="shared data absent")
def test_tornio_snapped_points_equal_split_graph(tornio: tuple[Network, nx.MultiDiGraph]) -> None:
    net, _ = tornio
    rng = np.random.default_rng(3)
    lo, hi = [net.x.min(), net.y.min()], [net.x.max(), net.y.max()]
    o = snap_points(net, rng.uniform(lo, hi, (300, 2)), tolerance_m=400)
    f = snap_points(net, rng.uniform(lo, hi, (6, 2)), tolerance_m=400)
    for w in ("length", "time"):
        res = nearest_facility(net, o, f, weight=w)
        np.testing.assert_allclose(res.cost, reference_nearest(net, o, f, weight=w), rtol=1e-6)


@pytest.fixture(scope="module")
def pilots() -> tuple[Network, gpd.GeoDataFrame]:
    roads = gpd.read_file(NLS, layer="road")
    munis = gpd.read_file(BOUNDARIES).to_crs(3067)
    area = munis[munis["kunta"].isin(PILOTS)]
    clipped = gpd.clip(roads, area)
    return network_from_lines(clipped, class_column="DXF_LAYER", source="NLS pilots"), clipped


@pytest.mark.shared
@pytest.mark.skipif(not (NLS.exists() and BOUNDARIES.exists()), reason="shared data absent")
def test_nls_pilot_roads_equal_networkx(pilots: tuple[Network, gpd.GeoDataFrame]) -> None:
    net, clipped = pilots
    # Independent graph: line ends rounded to 1 m are nodes; length from shapely.
    G = nx.MultiDiGraph()
    for geom in shapely.get_parts(clipped.geometry.to_numpy()):
        if geom.geom_type != "LineString" or geom.length == 0:
            continue
        c = shapely.get_coordinates(geom)
        a = (round(c[0, 0]), round(c[0, 1]))
        b = (round(c[-1, 0]), round(c[-1, 1]))
        G.add_edge(a, b, length=geom.length)
        G.add_edge(b, a, length=geom.length)
    keys = np.array(list(G.nodes), float)
    assert len(keys) == net.n_nodes
    from scipy.spatial import cKDTree

    d, nearest = cKDTree(np.column_stack([net.x, net.y])).query(keys)
    assert d.max() < 1.5 and np.unique(nearest).size == net.n_nodes
    node_of = {tuple(map(int, k)): int(i) for k, i in zip(keys, nearest, strict=True)}
    rng = np.random.default_rng(11)
    fac_keys = [list(G.nodes)[i] for i in rng.choice(len(keys), 8, replace=False)]
    ref = nx.multi_source_dijkstra_path_length(G.reverse(copy=False), fac_keys, weight="length")
    fi = np.array([node_of[k] for k in fac_keys])
    f = snap_points(net, np.column_stack([net.x[fi], net.y[fi]]))
    o = snap_points(net, np.column_stack([net.x, net.y]))
    res = nearest_facility(net, o, f)
    exp = np.full(net.n_nodes, np.inf)
    for k, dist in ref.items():
        exp[node_of[k]] = dist
    np.testing.assert_allclose(res.cost, exp, rtol=1e-6, atol=1e-6)
    # Class speeds: NLS defaults apply (VALTAT 100 km/h).
    v = net.class_names.index("VALTAT")
    r = np.flatnonzero(net.road_class == v)
    np.testing.assert_allclose(net.road_time_s[r], net.road_length_m[r] / (100 / 3.6))


@pytest.mark.shared
@pytest.mark.skipif(not (NLS.exists() and BOUNDARIES.exists()), reason="shared data absent")
def test_nls_pilot_snapping_random_points(pilots: tuple[Network, gpd.GeoDataFrame]) -> None:
    net, _ = pilots
    rng = np.random.default_rng(5)
    lo, hi = [net.x.min(), net.y.min()], [net.x.max(), net.y.max()]
    xy = rng.uniform(lo, hi, (500, 2))
    s = snap_points(net, xy, tolerance_m=5000)
    # Exact snapping: access distance equals shapely's distance to the nearest road.
    lines = edges_geodataframe(net).geometry.to_numpy()
    tree = shapely.STRtree(lines)
    points = shapely.points(xy)
    _, dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    assert np.array_equal(s.ok, dist <= 5000)
    np.testing.assert_allclose(s.access_m[s.ok], dist[s.ok], rtol=1e-9, atol=1e-6)
    assert (~s.ok).any() and s.ok.any()
    # Snapped point lies on its road at the reported offset.
    ok = np.flatnonzero(s.ok)
    on = shapely.points(s.x[ok], s.y[ok])
    np.testing.assert_allclose(shapely.distance(on, lines[s.road[ok]]), 0, atol=1e-6)
    np.testing.assert_allclose(shapely.line_locate_point(lines[s.road[ok]], on), s.offset_m[ok], atol=1e-5)
    f = snap_points(net, rng.uniform(lo, hi, (5, 2)), tolerance_m=20_000)
    for w in ("length", "time"):
        res = nearest_facility(net, s, f, weight=w, access_speed_kmh=20)
        ref = reference_nearest(net, s, f, weight=w, access_speed_kmh=20)
        np.testing.assert_allclose(res.cost, ref, rtol=1e-6)
        assert np.all(np.isinf(res.cost[~s.ok])) and np.all(res.facility[~s.ok] == -1)


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------


def test_cache_round_trip_and_invalidation(tmp_path: Path) -> None:
    src = tmp_path / "roads.geojson"
    src.write_bytes((HERE / "tiny_roads.geojson").read_bytes())
    cfg = NetworkConfig(source="roads.geojson", class_column="class", oneway_column="oneway")
    cache = tmp_path / "cache"
    a = build_network(cfg, base_dir=tmp_path, cache_dir=cache)
    assert a.info["from_cache"] is False and Path(a.info["cache_path"]).exists()
    b = build_network(cfg, base_dir=tmp_path, cache_dir=cache)
    assert b.info["from_cache"] is True
    for name in ("node_ids", "x", "y", "road_xy", "road_offsets", "edge_u", "edge_v", "edge_time_s"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert (a.csr_time != b.csr_time).nnz == 0 and (a.csr_length_t != b.csr_length_t).nnz == 0
    assert b.class_names == a.class_names and b.info["components"] == a.info["components"]
    # Other settings → another cache file.
    cfg2 = NetworkConfig(source="roads.geojson", class_column="class", speed_kmh={"default": 50})
    c = build_network(cfg2, base_dir=tmp_path, cache_dir=cache)
    assert c.info["from_cache"] is False and c.info["cache_path"] != a.info["cache_path"]
    # A changed source file → rebuilt.
    src.write_bytes(src.read_bytes().replace(b"401000.4", b"401000.3"))
    d = build_network(cfg, base_dir=tmp_path, cache_dir=cache)
    assert d.info["from_cache"] is False
    # A corrupt cache file is rebuilt, not an error.
    Path(d.info["cache_path"]).write_bytes(b"not an npz")
    e = build_network(cfg, base_dir=tmp_path, cache_dir=cache)
    assert e.info["from_cache"] is False and e.n_nodes == d.n_nodes
    assert not list(cache.glob("*.tmp"))


@pytest.mark.shared
@pytest.mark.skipif(not NLS.exists(), reason="shared data absent")
def test_cache_gives_back_the_built_network(tmp_path: Path) -> None:
    # How much faster the cache is, is measured by benchmarks/bench_network.py, not here.
    cfg = NetworkConfig(source=str(NLS), layer="road", class_column="DXF_LAYER")
    a = build_network(cfg, base_dir=tmp_path, cache_dir=tmp_path)
    b = build_network(cfg, base_dir=tmp_path, cache_dir=tmp_path)
    assert not a.info["from_cache"] and b.info["from_cache"] and b.n_nodes == a.n_nodes == 9342
    for weight in ("length", "time"):
        ga, gb = a.csr(weight), b.csr(weight)
        assert (ga != gb).nnz == 0


# --------------------------------------------------------------------------------------------
# Bad sources
# --------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match=r"not found.*network\.source"):
        build_network(NetworkConfig(source="nope.osm.pbf"), base_dir=tmp_path)


def test_corrupt_xml() -> None:
    with pytest.raises(NetworkError, match=r"corrupt\.osm: not valid OSM XML.*Fix"):
        load_network_source(HERE / "corrupt.osm")


def test_corrupt_pbf(tmp_path: Path) -> None:
    p = tmp_path / "bad.osm.pbf"
    p.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 10)
    with pytest.raises(NetworkError, match=r"bad\.osm\.pbf: cannot read the OSM file"):
        load_network_source(p)


def test_layer_without_lines(tmp_path: Path) -> None:
    p = tmp_path / "points.gpkg"
    gpd.GeoDataFrame({"a": [1, 2]}, geometry=shapely.points([[X0, Y0], [X0 + 5, Y0]]), crs=3067).to_file(p)
    with pytest.raises(NetworkError, match=r"points\.gpkg: the layer has no lines \(found Point\)"):
        load_network_source(p)


def test_file_without_crs(tmp_path: Path) -> None:
    p = tmp_path / "nocrs.gpkg"
    line = shapely.linestrings([[X0, Y0], [X0 + 100, Y0]])
    with pytest.warns(UserWarning, match="crs"):
        gpd.GeoDataFrame({"a": [1]}, geometry=[line]).to_file(p)
    with pytest.raises(NetworkError, match=r"nocrs\.gpkg: the road layer has no coordinate reference system"):
        load_network_source(p)


def test_graph_without_crs_and_no_drivable_roads(tmp_path: Path) -> None:
    G = nx.MultiDiGraph()
    G.add_node(1, x=24.0, y=65.0)
    G.add_node(2, x=24.1, y=65.0)
    G.add_edge(1, 2, length=10.0)
    with pytest.raises(NetworkError, match="no CRS"):
        network_from_graph(G)
    p = tmp_path / "foot.osm"
    p.write_text(
        '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="65.8" lon="24.1"/>'
        '<node id="2" lat="65.8" lon="24.2"/><way id="1"><nd ref="1"/><nd ref="2"/>'
        '<tag k="highway" v="footway"/></way></osm>'
    )
    with pytest.raises(NetworkError, match="no drivable roads"):
        load_network_source(p)


def test_missing_layer_and_column() -> None:
    with pytest.raises(NetworkError, match="column 'klass' not found"):
        load_network_source(HERE / "tiny_roads.geojson", NetworkConfig(source="x", class_column="klass"))


def test_place_offline_raises_offline_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    calls: list[object] = []

    def no_net(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise requests.exceptions.ConnectionError("Failed to resolve 'nominatim.openstreetmap.org'")

    monkeypatch.setattr(requests, "get", no_net)
    monkeypatch.setattr(requests.Session, "request", no_net)
    with pytest.raises(OfflineError, match=r"no internet.*network\.source"):
        build_network(NetworkConfig(place="Posio, Finland"), base_dir=tmp_path, cache_dir=tmp_path)
    assert len(calls) <= 2  # fails at once: no retry loop


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kmh"),
    [("50", 50), ("50 mph", 50 * 1.609344), ("50;80", 50), (["80", "60"], 60), ("FI:rural", 80),
     ("FI:urban", 50), ("none", math.nan), (None, math.nan), (30, 30)],
)
def test_parse_maxspeed(value: object, kmh: float) -> None:
    got = parse_maxspeed(value)
    assert (math.isnan(got) and math.isnan(kmh)) or got == pytest.approx(kmh)


@pytest.mark.skipif(not DEMO_OSM.exists(), reason="demo roads.osm not generated yet")
def test_demo_osm_network(tmp_path: Path) -> None:
    net = build_network(NetworkConfig(source=str(DEMO_OSM)), base_dir=tmp_path, cache_dir=tmp_path)
    assert net.info["nodes"] > 0 and net.info["largest_share"] > 0.5
    s = snap_points(net, np.column_stack([net.x[:50], net.y[:50]]))
    res = nearest_facility(net, s, s.subset(np.arange(3)))
    np.testing.assert_allclose(res.cost, reference_nearest(net, s, s.subset(np.arange(3))), rtol=1e-6)


def test_points_at_nodes_of_one_way_roads() -> None:
    lines = gpd.GeoDataFrame(
        {"oneway": ["yes", "yes"]},
        geometry=[shapely.LineString([(X0, Y0), (X0 + 100, Y0)]),
                  shapely.LineString([(X0 + 100, Y0), (X0 + 200, Y0)])],
        crs=3067,
    )
    net = network_from_lines(lines, oneway_column="oneway")
    # Every point at the tail node of a one-way road: reachable with zero cost from itself,
    # and the start can reach the end but not the other way round.
    at = snap_points(net, pts((0, 0), (100, 0), (200, 0)))
    m = cost_matrix(net, at, at, weight="length", limit=1e6).toarray()
    np.testing.assert_allclose(np.diag(m), 0)
    for j in range(3):
        res = nearest_facility(net, at, at.subset(np.array([j])))
        expected = [(j - i) * 100.0 if j >= i else np.inf for i in range(3)]
        np.testing.assert_allclose(res.cost, expected)
        np.testing.assert_allclose(res.cost, reference_nearest(net, at, at.subset(np.array([j]))))


def test_same_road_pairs_among_many_origins(tiny: Network) -> None:
    """Origins sharing a road with a facility get the direct drive; the others go by the nodes.

    Many origins on roads without a facility, a few on the facilities' roads (both sides of the
    facility, on the one-way road too), in both weights: all equal the split-edge networkx graph.
    """
    rng = np.random.default_rng(7)
    origins = np.vstack([rng.uniform([-200, -200], [2200, 1200], (200, 2)) + [X0, Y0],
                         pts((1200, 5), (1700, -5), (200, 3), (900, -2))])
    facs = pts((1500, 0), (400, 0))
    o = snap_points(tiny, origins)
    f = snap_points(tiny, facs)
    for weight in ("length", "time"):
        res = nearest_facility(tiny, o, f, weight=weight, access_speed_kmh=36)
        ref = reference_nearest(tiny, o, f, weight=weight, access_speed_kmh=36)
        np.testing.assert_allclose(res.cost, ref, rtol=1e-9, atol=1e-6)
        assert ((res.facility >= 0) == np.isfinite(ref)).all()


# --------------------------------------------------------------------------------------------
# Contracted sweep graph: dead-end trees, chains of degree-two nodes, one-way chains, rings
# --------------------------------------------------------------------------------------------


def _segments(*paths: tuple[str, list[tuple[float, float]]]) -> gpd.GeoDataFrame:
    """One two-vertex road per consecutive pair of each path (so every vertex is a node)."""
    geoms, oneway = [], []
    for ow, path in paths:
        for p, q in zip(path[:-1], path[1:], strict=True):
            geoms.append(shapely.LineString([(X0 + p[0], Y0 + p[1]), (X0 + q[0], Y0 + q[1])]))
            oneway.append(ow)
    return gpd.GeoDataFrame({"oneway": oneway}, geometry=geoms, crs=3067)


@pytest.fixture(scope="module")
def contractible() -> Network:
    """Junctions linked by long chains, one-way chains, trees, rings and a chain back to itself."""
    j1, j2, j3 = (0.0, 0.0), (1000.0, 0.0), (1000.0, 1000.0)
    lines = _segments(
        ("no", [j1, j2]),  # direct road, parallel to two chains
        ("no", [j1, (250, 200), (500, 250), (750, 200), j2]),  # two-way chain
        ("no", [j1, (300, -100), (700, -100), j2]),  # a second, parallel chain
        ("yes", [j2, (1200, 300), (1300, 600), (1200, 900), j3]),  # one-way chain j2 -> j3
        ("no", [j2, j3]),
        ("yes", [j3, (500, 1200)]),  # mixed chain j3 -> j1: one-way, two-way, against
        ("no", [(500, 1200), (0, 800)]),
        ("-1", [j1, (0, 800)]),
        ("no", [j3, (1400, 1300), (1000, 1500), (800, 1300), j3]),  # chain back to j3
        ("no", [(500, 250), (500, 600), (300, 700)]),  # dead-end tree off a chain node
        ("no", [(500, 600), (700, 700)]),
        ("yes", [(700, 700), (800, 800)]),  # one-way dead end (leaving the tree)
        ("-1", [(300, 700), (200, 650)]),  # one-way dead end (entering the tree)
        ("yes", [j2, (1500, -200)]),  # tree off a junction, one-way out ...
        ("no", [(1500, -200), (1800, -200), (1800, -500)]),
        ("no", [(1500, -200), (1500, -600)]),
        ("no", [(3000, 0), (3300, 0), (3300, 300), (3000, 300), (3000, 0)]),  # ring, no junction
        ("yes", [(4000, 0), (4300, 0), (4300, 300), (4000, 0)]),  # one-way ring
        ("no", [(5000, 0), (5200, 0)]),  # a lone road
        ("no", [(5000, 500), (5200, 500), (5400, 500)]),  # a lone path
    )
    return network_from_lines(lines, oneway_column="oneway")


def _points_on(net: Network, rng: np.random.Generator, k: int) -> np.ndarray:
    """Random points near random roads, some exactly at nodes."""
    r = rng.integers(0, net.n_roads, k)
    t = rng.uniform(0, 1, k)
    t[rng.random(k) < 0.2] = 0.0
    a, b = net.road_a[r], net.road_b[r]
    x = net.x[a] + t * (net.x[b] - net.x[a]) + rng.normal(0, 20, k) * (t > 0)
    y = net.y[a] + t * (net.y[b] - net.y[a]) + rng.normal(0, 20, k) * (t > 0)
    return np.column_stack([x, y])


def _check_contracted(net: Network, o: Snapped, f: Snapped, **kw: object) -> None:
    got = nearest_facility(net, o, f, contract="always", **kw)  # type: ignore[arg-type]
    full = nearest_facility(net, o, f, contract="never", **kw)  # type: ignore[arg-type]
    ref = reference_nearest(net, o, f, weight=str(kw.get("weight", "length")),
                            access_speed_kmh=float(kw.get("access_speed_kmh", 30.0)))  # type: ignore[arg-type]
    limit = kw.get("limit")
    if limit is not None:
        ref = np.where(ref <= float(limit), ref, np.inf)  # type: ignore[arg-type]
    np.testing.assert_allclose(got.cost, ref, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(got.cost, full.cost, rtol=1e-12, atol=1e-9)
    assert ((got.facility >= 0) == np.isfinite(ref)).all()
    # The facility named is one that costs that much (ties may name another one).
    hit = np.flatnonzero(got.facility >= 0)
    for i in hit[:: max(1, hit.size // 25)]:
        one = reference_nearest(net, o.subset(np.array([i])), f.subset(np.array([got.facility[i]])),
                                weight=str(kw.get("weight", "length")),
                                access_speed_kmh=float(kw.get("access_speed_kmh", 30.0)))  # type: ignore[arg-type]
        assert one[0] == pytest.approx(got.cost[i], rel=1e-9, abs=1e-6)


def test_contraction_structure(contractible: Network) -> None:
    net = contractible
    c = net._contraction
    n = net.n_nodes
    # Every node is exactly one of core, chain or tree.
    kinds = np.zeros(n, int)
    np.add.at(kinds, c.core, 1)
    np.add.at(kinds, c.ch_nodes, 1)
    np.add.at(kinds, c.tree_nodes, 1)
    assert (kinds == 1).all()
    assert c.tree_nodes.size >= 9 and c.ch_len.max() >= 3
    assert c.core.size < n / 2
    # Chains run between core nodes, node to node along roads.
    und = (net.csr_length + net.csr_length.T).tocsr()
    for ci in range(c.ch_len.size):
        path = [c.ch_a[ci], *c.ch_nodes[c.ch_start[ci]:c.ch_start[ci + 1]], c.ch_b[ci]]
        assert c.core_of[path[0]] >= 0 and c.core_of[path[-1]] >= 0
        for p, q in zip(path[:-1], path[1:], strict=True):
            assert und[p, q] != 0 or und[q, p] != 0
    # Tree parents are tree nodes peeled later, or nodes that stay.
    peeled_at = np.full(n, np.iinfo(np.int64).max)
    for r in range(c.tree_bounds.size - 1):
        peeled_at[c.tree_nodes[c.tree_bounds[r]:c.tree_bounds[r + 1]]] = r
    assert (peeled_at[c.tree_parent] > peeled_at[c.tree_nodes]).all()


@pytest.mark.parametrize("weight", ["length", "time"])
def test_contracted_sweep_equals_networkx(contractible: Network, weight: str) -> None:
    net = contractible
    rng = np.random.default_rng(11)
    node_xy = np.column_stack([net.x, net.y])
    o = snap_points(net, np.vstack([node_xy, _points_on(net, rng, 300)]))
    c = net._contraction
    # Facilities at every kind of place: in a chain, in a tree, in rings, on one-way chains, at
    # a junction, at a tree leaf, and random sets.
    cases = [
        pts((500, 250)), pts((620, 230)), pts((500, 450)), pts((750, 750)), pts((250, 675)),
        pts((1260, 450)), pts((1650, -200)), pts((1800, -400)), pts((250, 1000)), pts((0, 400)),
        pts((3150, 0)), pts((4300, 150)), pts((5100, 0)), pts((1200, 1400)),
        node_xy[c.tree_nodes[:3]], node_xy[c.ch_nodes[::3]], node_xy[c.core],
    ]
    cases += [_points_on(net, rng, k) for k in (1, 2, 3, 5, 8, 13)]
    for fxy in cases:
        f = snap_points(net, fxy)
        _check_contracted(net, o, f, weight=weight, access_speed_kmh=40.0)
    f = snap_points(net, _points_on(net, rng, 4))
    _check_contracted(net, o, f, weight=weight, limit=900.0 if weight == "length" else 60.0)


def test_contract_choice_is_checked(contractible: Network) -> None:
    s = snap_points(contractible, np.column_stack([contractible.x[:5], contractible.y[:5]]))
    with pytest.raises(ValueError, match="contract must be"):
        nearest_facility(contractible, s, s, contract="sometimes")  # type: ignore[arg-type]


def _rural_lines(n_side: int, seed: int, oneway_share: float) -> gpd.GeoDataFrame:
    """A small jittered grid with many roads removed (trees, chains) and some one-way roads."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(n_side), np.arange(n_side), indexing="ij")
    x = (ii * 400.0 + rng.uniform(-100, 100, ii.shape)).ravel()
    y = (jj * 400.0 + rng.uniform(-100, 100, ii.shape)).ravel()
    idx = np.arange(n_side * n_side).reshape(n_side, n_side)
    h = rng.random((n_side - 1, n_side)) < 0.8
    v = rng.random((n_side, n_side - 1)) < 0.4
    a = np.concatenate([idx[:-1, :][h], idx[:, :-1][v]])
    b = np.concatenate([idx[1:, :][h], idx[:, 1:][v]])
    geoms = shapely.linestrings(
        np.stack([np.column_stack([x[a], y[a]]), np.column_stack([x[b], y[b]])], axis=1).reshape(-1, 2)
        + [X0, Y0], indices=np.repeat(np.arange(a.size), 2))
    ow = np.where(rng.random(a.size) < oneway_share, np.where(rng.random(a.size) < 0.5, "yes", "-1"), "no")
    return gpd.GeoDataFrame({"oneway": ow}, geometry=geoms, crs=3067)


@pytest.mark.parametrize("seed", [0, 1])
def test_contracted_sweep_on_rural_grid(seed: int) -> None:
    net = network_from_lines(_rural_lines(22, seed, oneway_share=0.15), oneway_column="oneway")
    c = net._contraction
    assert c.tree_nodes.size > 20 and c.ch_nodes.size > 50 and c.core.size < net.n_nodes / 2
    rng = np.random.default_rng(seed)
    o = snap_points(net, np.vstack([np.column_stack([net.x, net.y]), _points_on(net, rng, 200)]))
    for k in (1, 4, 30):
        f = snap_points(net, _points_on(net, rng, k))
        _check_contracted(net, o, f, weight="length")
        _check_contracted(net, o, f, weight="time", limit=300.0)
    # All facilities inside trees, then all inside chains.
    xy = np.column_stack([net.x, net.y])
    for nodes in (c.tree_nodes[::7], c.ch_nodes[::11]):
        _check_contracted(net, o, snap_points(net, xy[nodes] + [15.0, 0.0]), weight="length")


def test_auto_contracts_a_small_network_only_for_few_facilities() -> None:
    """From 10 000 nodes a network whose core is at most half of its nodes is swept contracted
    when there are few seeds, uncontracted when there are many; the costs are the same."""
    from arjenturva.network.contraction import _sweep_contraction

    net = network_from_lines(_rural_lines(120, 3, oneway_share=0.05), oneway_column="oneway")
    assert 10_000 <= net.n_nodes < 50_000 and net._contraction.core.size <= net.n_nodes / 2
    assert _sweep_contraction(net, "auto", 10) is not None
    assert _sweep_contraction(net, "auto", net.n_nodes // 10) is None
    assert _sweep_contraction(net, "auto") is not None  # prepare_sweeps builds it
    rng = np.random.default_rng(3)
    o = snap_points(net, _points_on(net, rng, 2000))
    for k in (5, 2000):
        f = snap_points(net, _points_on(net, rng, k))
        auto = nearest_facility(net, o, f)
        full = nearest_facility(net, o, f, contract="never")
        np.testing.assert_allclose(auto.cost, full.cost, rtol=1e-12, atol=1e-9)
    small = network_from_lines(_rural_lines(22, 0, oneway_share=0.15), oneway_column="oneway")
    assert _sweep_contraction(small, "auto", 1) is None  # under 10 000 nodes: never


@pytest.mark.parametrize("seed", [0, 1])
def test_cost_matrix_within_reach_equals_whole_network(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches swept on the nodes within reach of their targets give the whole network's costs.

    A limit of a fifth of the grid prunes most nodes in every batch; the result equals the sweep
    on the whole network (no pruning) exactly, and networkx per target, in both weights.
    """
    net = network_from_lines(_rural_lines(22, seed, oneway_share=0.15), oneway_column="oneway")
    rng = np.random.default_rng(seed)
    o = snap_points(net, _points_on(net, rng, 300))
    t = snap_points(net, _points_on(net, rng, 40))
    assert 0.9 < net._cost_per_metre["length"] <= 1.0
    for weight, limit in (("length", 2000.0), ("time", 120.0)):
        m = cost_matrix(net, o, t, weight=weight, limit=limit, batch=8)  # type: ignore[arg-type]
        monkeypatch.setitem(net.__dict__, "_cost_per_metre", {"length": 0.0, "time": 0.0})
        whole = cost_matrix(net, o, t, weight=weight, limit=limit)  # type: ignore[arg-type]
        monkeypatch.undo()
        np.testing.assert_array_equal(m.toarray(), whole.toarray())
        assert 0 < m.nnz < 0.5 * len(o) * len(t)
        dense = np.full((len(o), len(t)), np.inf)  # stored entries (explicit zeros too), else inf
        coo = m.tocoo()
        dense[coo.row, coo.col] = coo.data
        for j in range(0, len(t), 8):
            ref = reference_nearest(net, o, t.subset(np.array([j])), weight=weight)
            ref = np.where(ref <= limit, ref, np.inf)
            np.testing.assert_allclose(dense[:, j], ref, rtol=1e-9, atol=1e-6)


# --------------------------------------------------------------------------------------------
# Points at nodes: exact snapping, plain sources, the plain scipy call
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_points_at_nodes_snap_exactly_and_sweep_as_plain_scipy(seed: int) -> None:
    """A point given at a node is snapped exactly onto it (no access leg, position 0 or 1 on a
    road of that node), and facilities at nodes sweep from every node as the plain scipy call
    from their nodes does: the same cost and, but for ties, the same facility."""
    from scipy.sparse.csgraph import dijkstra

    net = network_from_lines(_rural_lines(22, seed, oneway_share=0.15), oneway_column="oneway")
    xy = np.column_stack([net.x, net.y])
    at = snap_points(net, xy)
    assert (at.access_m == 0).all() and np.isin(at.frac, [0.0, 1.0]).all()
    node = np.where(at.frac == 0, net.road_a[at.road], net.road_b[at.road])
    assert (node == np.arange(net.n_nodes)).all()
    np.testing.assert_array_equal(at.x, net.x)
    # A point 1 cm from a node is not at it.
    off = snap_points(net, xy[:5] + [0.01, 0.0])
    assert not ((off.access_m == 0) & np.isin(off.frac, [0.0, 1.0])).any()
    rng = np.random.default_rng(seed)
    for k in (1, 7, 60):
        fn = rng.choice(net.n_nodes, k, replace=False)
        ref, _pred, src = dijkstra(net.csr("length", transposed=True), indices=fn, min_only=True,
                                   return_predecessors=True)
        for contract in ("never", "always"):
            res = nearest_facility(net, at, at.subset(fn), contract=contract)  # type: ignore[arg-type]
            np.testing.assert_allclose(res.cost, ref, rtol=1e-12, atol=1e-9)
            named = np.flatnonzero(res.facility >= 0)
            assert (src[named] >= 0).all() and (src[res.cost == np.inf] < 0).all()
            same = fn[res.facility[named]] == src[named]
            for i in named[~same]:  # a tie: the facility named is as near as scipy's
                one = nearest_facility(net, at.subset(np.array([i])), at.subset(fn[[res.facility[i]]]))
                assert one.cost[0] == pytest.approx(ref[i], rel=1e-12, abs=1e-9)
            assert same.mean() > 0.9


def test_facilities_at_one_node_name_the_lowest(tiny: Network) -> None:
    """Of facilities at the same node, the lowest number is named."""
    xy = np.column_stack([tiny.x, tiny.y])
    f = snap_points(tiny, xy[[2, 0, 0, 2]])
    o = snap_points(tiny, xy)
    for contract in ("never", "always"):
        res = nearest_facility(tiny, o, f, contract=contract)  # type: ignore[arg-type]
        assert set(res.facility[res.facility >= 0].tolist()) <= {0, 1}


def test_scatter_min_keeps_the_first_of_equal_minima() -> None:
    """``_scatter_min`` against a loop: each index keeps the smaller of its value and the
    smallest given (the first of equal ones names it)."""
    from arjenturva.network.kernels import _scatter_min

    rng = np.random.default_rng(5)
    for _ in range(300):
        n, m = int(rng.integers(1, 30)), int(rng.integers(0, 60))
        idx = rng.integers(0, n, m)
        val = rng.integers(0, 4, m).astype(float)
        lab = rng.integers(0, 50, m)
        sc = np.where(rng.random(n) < 0.5, np.inf, rng.integers(0, 5, n).astype(float))
        sf = rng.integers(0, 50, n)
        want_c, want_f = sc.copy(), sf.copy()
        for i, v, a in zip(idx, val, lab, strict=True):
            if v < want_c[i]:
                want_c[i], want_f[i] = v, a
        _scatter_min(sc, sf, idx, val, lab)
        np.testing.assert_array_equal(sc, want_c)
        np.testing.assert_array_equal(sf, want_f)

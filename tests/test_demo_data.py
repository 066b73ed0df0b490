"""The synthetic demo workspace in data/demo (made by scripts/make_demo.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from arjenturva.config import load_config
from arjenturva.schema import MODES, SECTORS, split_list

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"
SCRIPT = REPO / "scripts" / "make_demo.py"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EXPECTED_FILES = {
    "README.md", "arjenturva.yaml", "municipalities.gpkg", "population.gpkg", "places.gpkg", "roads.osm",
    "service_points.csv", "actors.csv", "expected_gaps.json", "vehicles.csv",
}


def _generate(out: Path) -> Path:
    cmd = [sys.executable, str(SCRIPT), "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    return out


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("demo_a") / "demo")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_generation_is_deterministic(fresh: Path, tmp_path: Path) -> None:
    again = _generate(tmp_path / "demo")
    a, b = _files(fresh), _files(again)
    assert set(a) == EXPECTED_FILES
    assert a.keys() == b.keys()
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"files differ between two runs: {differ}"


def test_committed_demo_equals_fresh_generation(fresh: Path) -> None:
    committed, new = _files(DEMO), _files(fresh)
    assert committed.keys() == new.keys()
    stale = [name for name in new if committed[name] != new[name]]
    assert not stale, f"data/demo is stale, rerun scripts/make_demo.py: {stale}"


def test_demo_is_small() -> None:
    total = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file())
    assert total < 5 * 1024 * 1024


def test_readme_says_synthetic() -> None:
    text = (DEMO / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in text
    assert "EUPL" in text


def test_config_loads() -> None:
    cfg = load_config(DEMO / "arjenturva.yaml")
    assert cfg.language == "fi"
    assert len(cfg.services) >= 8
    for spec in cfg.inputs.model_dump().values():
        if spec:
            assert cfg.resolve(spec["path"]).exists(), spec["path"]
    assert cfg.resolve(cfg.network.source or "").exists()
    assert cfg.services["elder_home_care"].demand == "age_65_plus"
    assert cfg.services["school"].demand == "age_0_14"


def _real_codes() -> set[str]:
    codes: set[str] = set()
    b = SHARED / "fi-municipality-boundaries"
    for path, layer, col in [
        (b / "mml_kuntajako_2017_maa_alueet_sote.gpkg", None, "NATCODE"),
        (b / "kunta4500k_2025_neighbors_province.geojson", None, "kunta"),
        (SHARED / "fi-municipalities-2023" / "municipalities_2023.gpkg", None, "kunta"),
        (SHARED / "mml-general-map-1m" / "mml_yleiskartta_1milj_2012.gpkg", "kunta1_p", "Kunta"),
    ]:
        df = gpd.read_file(path, layer=layer, ignore_geometry=True)
        codes |= {str(c).zfill(3) for c in df[col]}
    for topo in b.glob("*.topo.json"):
        data = json.loads(topo.read_text(encoding="utf-8"))
        for obj in data["objects"].values():
            for g in obj["geometries"]:
                code = g.get("id") or g.get("properties", {}).get("id")
                if code is not None:
                    codes.add(str(code).zfill(3))
    return codes


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED / "fi-municipality-boundaries").exists(), reason="no shared real data")
def test_codes_are_not_real_municipality_codes() -> None:
    munis = gpd.read_file(DEMO / "municipalities.gpkg")
    real = _real_codes()
    assert len(real) > 300
    assert not set(munis["code"]) & real


def test_municipalities() -> None:
    munis = gpd.read_file(DEMO / "municipalities.gpkg")
    assert munis.crs.to_epsg() == 3067
    assert list(munis.columns) == ["code", "name", "region", "wellbeing_county", "geometry"]
    assert all(re.fullmatch(r"\d{3}", c) for c in munis["code"])
    assert munis.is_valid.all()


def test_actors_cover_every_sector() -> None:
    actors = pd.read_csv(DEMO / "actors.csv", dtype=str)
    assert set(actors["sector"]) == set(SECTORS)
    assert actors["actor_id"].is_unique
    assert (actors["employment_scheme"] == "true").any()
    cfg = load_config(DEMO / "arjenturva.yaml")
    for cell in actors["services"]:
        assert set(split_list(cell)) <= set(cfg.services)
    for cell in actors["modes"]:
        assert set(split_list(cell)) <= set(MODES)


def test_service_points() -> None:
    points = pd.read_csv(DEMO / "service_points.csv", dtype=str)
    cfg = load_config(DEMO / "arjenturva.yaml")
    services = {s for cell in points["services"] for s in split_list(cell)}
    assert len(services) >= 8
    assert services <= set(cfg.services)
    assert points["point_id"].is_unique
    assert (points["mode"] == "mobile").sum() >= 1
    assert (points["mode"] == "remote").sum() >= 1
    actors = set(pd.read_csv(DEMO / "actors.csv", dtype=str)["actor_id"])
    assert set(points["actor_id"]) <= actors


def test_population_grid() -> None:
    pop = gpd.read_file(DEMO / "population.gpkg")
    munis = gpd.read_file(DEMO / "municipalities.gpkg")
    assert pop["cell_id"].is_unique
    assert 1000 <= len(pop) <= 3000
    known = pop[pop["population"] >= 0]
    assert 12_000 <= known["population"].sum() <= 20_000
    full = pop[pop["age_0_14"] >= 0]
    ages = full[["age_0_14", "age_15_64", "age_65_plus"]].sum(axis=1)
    assert (ages == full["population"]).all()
    assert ((pop["population"] == -1) | (pop["population"] >= 0)).all()
    assert (pop["population"] == -1).any()
    assert set(pop["area_class"]) <= {"K1", "K2", "K3", "M4", "M5", "M6", "M7"}
    assert pop.within(munis.union_all()).all()
    bounds = pop.geometry.bounds
    assert ((bounds["maxx"] - bounds["minx"]) == 1000).all()
    assert (bounds["minx"] % 1000 == 0).all() and (bounds["miny"] % 1000 == 0).all()


def _graph(simplify: bool) -> nx.MultiDiGraph:
    ox = pytest.importorskip("osmnx")
    tags = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = [*tags, "route", "motor_vehicle"]
    try:
        g = ox.graph_from_xml(DEMO / "roads.osm", simplify=simplify, retain_all=True)
    finally:
        ox.settings.useful_tags_way = tags
    return ox.project_graph(g, to_crs="EPSG:3067")


def _drive_excluded() -> set[str]:
    """The highway values osmnx's own "drive" network filter excludes."""
    try:
        from osmnx import _overpass

        flt = _overpass._get_network_filter("drive")
        return set(re.search(r'\["highway"!~"([^"]+)"\]', flt).group(1).split("|"))  # type: ignore[union-attr]
    except Exception:  # private API moved: fall back to the documented list
        return {"footway", "track", "path", "cycleway", "service", "steps", "pedestrian"}


def _is_drive(d: dict, excluded: set[str]) -> bool:
    hw = d.get("highway")
    classes = hw if isinstance(hw, list) else [hw]
    return hw is None or not set(classes) <= excluded  # hw None: the ferry


def test_osm_loads_with_osmnx_and_has_ferry_and_non_drive_ways() -> None:
    g = _graph(simplify=True)
    assert nx.number_weakly_connected_components(g) == 1
    highways = [str(d.get("highway")) for _, _, d in g.edges(data=True)]
    assert "footway" in highways and "track" in highways  # graph_from_xml keeps every way
    ferries = [(u, v) for u, v, d in g.edges(data=True) if d.get("route") == "ferry"]
    assert ferries, "the ferry should be its own edge after simplification"
    excluded = _drive_excluded()
    drive = g.edge_subgraph(
        [(u, v, k) for u, v, k, d in g.edges(keys=True, data=True) if _is_drive(d, excluded)]
    )
    kept = {str(d.get("highway")) for _, _, d in drive.edges(data=True)}
    assert "footway" not in kept and "track" not in kept
    assert {"trunk", "residential", "unclassified"} <= kept
    assert any(d.get("route") == "ferry" for _, _, d in drive.edges(data=True))
    assert any(d.get("oneway") for _, _, d in drive.edges(data=True))


def test_expected_gaps_are_gaps_on_the_osm_network() -> None:
    """Road distances on the osmnx graph confirm the gaps listed in expected_gaps.json."""
    expected = json.loads((DEMO / "expected_gaps.json").read_text(encoding="utf-8"))
    cfg = load_config(DEMO / "arjenturva.yaml")
    g = _graph(simplify=False)
    excluded = _drive_excluded()
    und = nx.Graph()
    for u, v, d in g.edges(data=True):
        if _is_drive(d, excluded):
            und.add_edge(u, v, length=d["length"])
    ids = list(und.nodes)
    xy = np.array([[g.nodes[n]["x"], g.nodes[n]["y"]] for n in ids])

    def nearest(x: float, y: float) -> int:
        return ids[int(np.argmin(np.hypot(xy[:, 0] - x, xy[:, 1] - y)))]

    points = gpd.GeoDataFrame(
        pd.read_csv(DEMO / "service_points.csv", dtype=str),
        geometry=gpd.points_from_xy(
            *(pd.read_csv(DEMO / "service_points.csv")[c] for c in ("lon", "lat")), crs="EPSG:4326"
        ),
    ).to_crs(3067)
    places = set(gpd.read_file(DEMO / "places.gpkg")["name"])
    for sid in ("health_station", "grocery"):
        assert len(expected[sid]["villages"]) >= 2
        has = points[points["services"].map(lambda c, s=sid: s in split_list(c))]
        src = {nearest(p.x, p.y) for p in has.geometry}
        dist = nx.multi_source_dijkstra_path_length(und, src, weight="length")
        for v in expected[sid]["villages"]:
            assert v["name"] in places
            limit = cfg.services[sid].threshold_m("M7")
            assert dist[nearest(v["x"], v["y"])] > limit, v["name"]
        actors = pd.read_csv(DEMO / "actors.csv", dtype=str).set_index("actor_id")
        fillers = actors.loc[expected[sid]["actors_able_to_fill"]]
        assert fillers["services"].map(lambda c, s=sid: s in split_list(c)).all()
        assert fillers["modes"].str.contains("mobile|remote").all()
    fixed = points[points["mode"] == "fixed"]
    health_pts = [p for p, m in zip(fixed.geometry, fixed["services"], strict=True)
                  if "health_station" in split_list(m)]
    no_ferry = und.copy()
    no_ferry.remove_edges_from([(u, v) for u, v, d in g.edges(data=True) if d.get("route") == "ferry"])
    for v in expected["ferry_dependent"]:
        src = {nearest(p.x, p.y) for p in health_pts}
        node = nearest(v["x"], v["y"])
        with_f = nx.multi_source_dijkstra_path_length(und, src, weight="length")[node]
        without = nx.multi_source_dijkstra_path_length(no_ferry, src, weight="length").get(node, np.inf)
        limit = cfg.services["health_station"].threshold_m("M7")
        assert with_f <= limit < without

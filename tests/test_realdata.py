"""The pilot workspace built from the real shared data, checked against an independent networkx model.

Skipped when ``../shared/data`` is absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from _examples import PILOT_CODES, build_pilot_workspace
from pyproj import Transformer

from arjenturva import api
from arjenturva.config import DEFAULT_SNAP_TOLERANCE_M, load_config
from arjenturva.errors import InputDataError, OutputExistsError, ValidationError

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.exists(), reason="../shared/data not present"),
]

# Measured on the shared data (postal-area points assigned to the 2025 polygon containing them).
EXPECTED_POPULATION = {"615": 7503, "320": 6885, "583": 914, "614": 2924, "851": 21034}


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    """The built workspace, loaded, its network and the gap analysis."""
    out = tmp_path_factory.mktemp("pilot") / "ws"
    config = build_pilot_workspace(SHARED, out)
    ws = api.load_workspace(config)
    net = api.build_network(ws.config, use_cache=False)
    gaps = api.find_gaps(ws, network=net)
    return config, ws, net, gaps


def test_workspace_builds_and_validates(pilot):
    config, ws, _net, _gaps = pilot
    assert config.name == "arjenturva.yaml" and config.is_file()
    assert not ws.warnings
    codes = set(ws.municipalities["code"])
    assert set(PILOT_CODES) <= codes
    pop = ws.population.groupby("municipality")["population"].sum()
    assert set(pop.index) == set(PILOT_CODES)
    for code, expected in EXPECTED_POPULATION.items():
        assert pop[code] == expected
    assert set(ws.population["area_class"]) <= {"K2", "M4", "M5", "M6", "M7"}
    # Rural pilot municipalities are sparsely populated rural outside their centres; Tornio is not.
    rural = ws.population[ws.population["municipality"] == "614"]
    assert (rural["area_class"] == "M7").all()
    assert not (ws.population.loc[ws.population["municipality"] == "851", "area_class"] == "M7").any()
    # 65+ estimate: the municipality's 2018 share (Posio 0.380, Tornio 0.226 per SOURCE.md).
    share = (ws.population.groupby("municipality")["age_65_plus"].sum() / pop).round(3)
    assert share["614"] == pytest.approx(0.380, abs=0.002)
    assert share["851"] == pytest.approx(0.226, abs=0.002)
    services = ws.service_points["services"].map(lambda s: s[0])
    assert (services == "municipal_centre").sum() >= 5
    assert (services == "health_station").sum() >= 3
    assert ws.places is not None and len(ws.places) > 50
    build = json.loads((config.parent / "build.json").read_text(encoding="utf-8"))
    assert build["municipalities"]["614"]["health_station_points"] == 0  # the documented data gap
    assert "National Land Survey" in build["attribution"]


def test_example_config_matches_generated(pilot):
    config, *_ = pilot
    example = load_config(REPO / "configs" / "pilot_municipalities.yaml")
    generated = load_config(config)
    # The example's settings are those generated.
    assert example.model_dump() == generated.model_dump()
    assert generated.study_area == list(PILOT_CODES)
    assert generated.network.snap_tolerance_m == DEFAULT_SNAP_TOLERANCE_M
    text = " ".join(generated.attributions())
    for source in ("Statistics Finland", "National Land Survey", "SYKE", "OpenStreetMap"):
        assert source in text


def test_refuses_to_overwrite_and_bad_codes(pilot, tmp_path):
    config, *_ = pilot
    with pytest.raises(OutputExistsError, match="--force"):
        build_pilot_workspace(SHARED, config.parent)
    with pytest.raises(InputDataError, match="999"):
        build_pilot_workspace(SHARED, tmp_path / "x", codes=["999"])
    with pytest.raises(ValidationError, match="nowhere.*file not found"):
        build_pilot_workspace(tmp_path / "nowhere", tmp_path / "y")


def test_gap_analysis_runs(pilot):
    _config, _ws, net, gaps = pilot
    assert net.info["largest_share"] > 0.99
    s = gaps.summary
    per = s[s["service"] != "ALL"].set_index(["municipality", "service"])
    assert len(per) == 2 * len(PILOT_CODES)
    assert per["unreachable_population"].sum() == 0
    # Posio and Pudasjärvi have no health facility in the OSM lists: most people are "uncovered".
    assert per.loc[("614", "health_station"), "covered_share"] < 0.5
    assert per.loc[("615", "health_station"), "covered_share"] < 0.5
    # Every municipality has its own centre: the municipal-centre service is mostly covered.
    assert (per.xs("municipal_centre", level="service")["covered_share"] > 0.85).all()


# ---------------------------------------------------------------------------------------------
# Independent check: networkx on the same road lines
# ---------------------------------------------------------------------------------------------


def _nx_distances(roads_path: Path, pop_xy: dict[str, tuple[float, float]],
                  svc_xy: dict[str, tuple[float, float]], sources: list[str]) -> dict[str, float]:
    """Road distance from each population point to the nearest source point, built independently.

    Nodes at rounded line ends; edges with the line length (minimum over parallel edges); each
    point joins the graph at the nearest point of its nearest line, which splits that line.
    """
    roads = gpd.read_file(roads_path, layer="road")
    lines = list(roads.geometry)
    tree = shapely.STRtree(lines)

    def key(xy) -> tuple[float, float]:
        return (round(float(xy[0]), 3), round(float(xy[1]), 3))

    splits: dict[int, list[tuple[float, str, float]]] = defaultdict(list)  # line -> (offset, point, access)
    named = [*(("pop:" + k, v) for k, v in pop_xy.items()), *(("svc:" + k, v) for k, v in svc_xy.items())]
    for name, (x, y) in named:
        pt = shapely.Point(x, y)
        i = int(tree.query_nearest(pt)[0])
        splits[i].append((lines[i].project(pt), name, lines[i].distance(pt)))
    G = nx.Graph()

    def add(u, v, w: float) -> None:
        if u == v:
            return
        if not G.has_edge(u, v) or G[u][v]["weight"] > w:
            G.add_edge(u, v, weight=w)

    for i, line in enumerate(lines):
        coords = np.asarray(line.coords)
        a, b = key(coords[0]), key(coords[-1])
        if i not in splits:
            add(a, b, line.length)
            continue
        prev, prev_off = a, 0.0
        for off, name, access in sorted(splits[i]):
            node = ("on", i, off)  # points at the same offset share the split node
            add(prev, node, off - prev_off)
            add(name, node, access)
            prev, prev_off = node, off
        add(prev, b, line.length - prev_off)
    dist = nx.multi_source_dijkstra_path_length(G, ["svc:" + s for s in sources], weight="weight")
    return {k: dist.get("pop:" + k, np.inf) for k in pop_xy}


@pytest.mark.parametrize("service", ["health_station", "municipal_centre"])
def test_distances_agree_with_networkx(pilot, service):
    config, _ws, _net, gaps = pilot
    folder = config.parent
    pop = pd.read_csv(folder / "population.csv", dtype={"cell_id": str})
    pts = pd.read_csv(folder / "service_points.csv", dtype={"point_id": str})
    to3067 = Transformer.from_crs("EPSG:4326", "EPSG:3067", always_xy=True)
    px, py = to3067.transform(pts["lon"].to_numpy(), pts["lat"].to_numpy())
    svc_xy = {pid: (x, y) for pid, x, y in zip(pts["point_id"], px, py, strict=True)}
    sources = pts.loc[pts["services"] == service, "point_id"].tolist()
    sample = pop.sample(n=min(50, len(pop)), random_state=1)
    pop_xy = {c: (x, y) for c, x, y in zip(sample["cell_id"], sample["x"], sample["y"], strict=True)}
    expected = _nx_distances(folder / "roads.gpkg", pop_xy, svc_xy, sources)
    got = gaps.access[gaps.access["service"] == service].set_index("cell_id")["distance_m"]
    cells = list(pop_xy)
    ours = got.loc[cells].to_numpy(dtype=float)
    theirs = np.array([expected[c] for c in cells])
    assert len(cells) == 50
    assert np.isfinite(theirs).all()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_example_script_runs(tmp_path):
    script = REPO / "examples" / "compare_pilot_municipalities.py"
    proc = subprocess.run([sys.executable, str(script), str(SHARED), "--out", str(tmp_path / "ws")],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Posio" in proc.stdout and "health_station" in proc.stdout
    assert (tmp_path / "ws" / "arjenturva.yaml").is_file()

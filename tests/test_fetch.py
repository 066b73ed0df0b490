"""Tests for `arjenturva.fetch`: replayed recordings only, never the internet."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import pandas as pd
import pytest
import requests
from requests.adapters import BaseAdapter

from arjenturva import api
from arjenturva.config import load_config
from arjenturva.errors import ArjenturvaError, OfflineError, OutputExistsError
from arjenturva.fetch import (
    CACHE_SUBDIR,
    DEFAULT_SERVICE_MAPPING,
    FetchError,
    FetchTimeoutError,
    HttpClient,
    amenity_query,
    cache_key,
    fetch_workspace,
    load_service_mapping,
    roads_from_osm_xml,
)

DATA = Path(__file__).parent / "data" / "fetch"

WFS_FILES = {
    "tilastointialueet:kunta4500k_2025": "wfs_kunta4500k_2025_614.json",
    "tilastointialueet:hyvinvointialue4500k_2025": "wfs_hyvinvointialue4500k_2025_bbox.json",
    "tilastointialueet:maakunta4500k_2025": "wfs_maakunta4500k_2025_bbox.json",
    "vaestoruutu:vaki2023_1km": "wfs_vaki2023_1km_bbox.json",
}


# --------------------------------------------------------------------------------------------
# No internet, ever
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any real connection attempt fails at once, as on an offline machine."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("network access is disabled in tests")

    def refuse_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "name resolution is disabled in tests")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_dns)


# --------------------------------------------------------------------------------------------
# A replaying transport
# --------------------------------------------------------------------------------------------


def route(url: str, params: dict[str, str]) -> tuple[int, str]:
    """The recorded file (and status) for a request, like the real services would answer."""
    host = urlsplit(url).netloc
    if host == "geo.stat.fi":
        layer = params.get("typeNames", "")
        if layer in WFS_FILES:
            return 200, WFS_FILES[layer]
        return 400, "wfs_exception.xml"
    if host == "overpass-api.de":
        query = params.get("data", "")
        return 200, "overpass_amenities.json" if "[out:json]" in query else "overpass_roads.osm"
    return 404, ""


class ReplayAdapter(BaseAdapter):
    """Serves the recordings in tests/data/fetch; ``faults`` are answered first, in order.

    A fault is an HTTP status (int) or an exception instance to raise.
    """

    def __init__(self, faults: list[int | Exception] | None = None,
                 router: Callable[[str, dict[str, str]], tuple[int, str]] = route) -> None:
        super().__init__()
        self.faults = list(faults or [])
        self.router = router
        self.requests: list[tuple[str, dict[str, str]]] = []

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        parts = urlsplit(str(request.url))
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        base = f"{parts.scheme}://{parts.netloc}{parts.path}"
        self.requests.append((base, params))
        assert timeout is not None, "every request needs a timeout"
        resp = requests.Response()
        resp.request = request
        resp.url = str(request.url)
        if self.faults:
            fault = self.faults.pop(0)
            if isinstance(fault, Exception):
                raise fault
            resp.status_code = fault
            resp._content = b"<html><body>503 Service Unavailable</body></html>"
            return resp
        status, name = self.router(base, params)
        resp.status_code = status
        resp._content = (DATA / name).read_bytes() if name else b"not found"
        resp.headers["Content-Type"] = "application/json" if name.endswith(".json") else "text/xml"
        return resp

    def close(self) -> None:
        pass


def session_with(adapter: BaseAdapter) -> requests.Session:
    s = requests.Session()
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    return s


def no_sleep(_s: float) -> None:
    pass


def fetch(out: Path, adapter: BaseAdapter | None = None, **kwargs: Any) -> Any:
    kwargs.setdefault("roads", "overpass")
    kwargs.setdefault("sleep", no_sleep)
    session = session_with(adapter if adapter is not None else ReplayAdapter())
    return fetch_workspace(["614"], out, session=session, **kwargs)


# --------------------------------------------------------------------------------------------
# The workspace
# --------------------------------------------------------------------------------------------


def test_fetch_writes_a_workspace_that_validates(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    messages: list[str] = []
    res = fetch(out, progress=messages.append)

    for name in ("arjenturva.yaml", "municipalities.gpkg", "areas.gpkg", "population.gpkg",
                 "service_points.csv", "places.csv", "roads.osm", "ATTRIBUTION.md", "fetch.json"):
        assert (out / name).exists(), name
    assert res.downloaded == 6 and res.from_cache == 0
    assert messages and any("population grid" in m for m in messages)

    munis = gpd.read_file(out / "municipalities.gpkg")
    assert munis["code"].tolist() == ["614"]
    assert munis["name"].tolist() == ["Posio"]
    # The county and region holding Posio, not the neighbour also inside the bounding box.
    assert munis["wellbeing_county"].tolist() == ["Lapin hyvinvointialue"]
    assert munis["region"].tolist() == ["Lappi"]
    assert munis.crs.to_epsg() == 3067

    pop = gpd.read_file(out / "population.gpkg")
    assert len(pop) == 9  # the Kuusamo cell outside Posio is dropped
    assert "1kmN7331E595" not in set(pop["cell_id"])
    small = pop.set_index("cell_id").loc["1kmN7333E553"]
    assert small["population"] == 9
    assert small["age_65_plus"] == -1 and small["age_0_14"] == -1  # suppressed, kept as -1
    assert (pop["age_65_plus"] == -1).sum() == 3
    assert pop["population"].sum() == 312 + 145 + 58 + 23 + 9 + 4 + 17 + 6 + 12

    points = pd.read_csv(out / "service_points.csv", dtype=str).set_index("point_id")
    assert "osm_node_1009" not in points.index  # the Kuusamo pharmacy is outside
    assert points.loc["osm_node_1001", "services"] == "pharmacy"
    assert points.loc["osm_node_1002", "services"] == "grocery;post_office"
    assert points.loc["osm_way_2001", "services"] == "health_station"  # clinic + healthcare=centre: once
    assert points.loc["osm_way_2003", "services"] == "municipal_services"
    assert points.loc["osm_node_1005", "name"] == "Otto."  # brand when there is no name
    assert points.loc["osm_node_1007", "name"] == "Hammashoitola (OSM node 1007)"
    assert set(points["mode"]) == {"fixed"}

    places = pd.read_csv(out / "places.csv")
    assert set(places["name"]) == {"Lehtiniemi", "Posio"}

    cfg = load_config(out / "arjenturva.yaml")
    services_used = {s for lst in points["services"] for s in lst.split(";")}
    assert services_used <= set(cfg.services)
    assert set(DEFAULT_SERVICE_MAPPING.values()) <= set(cfg.services)
    assert cfg.services["health_station"].threshold_m("M7") == 40_000
    assert cfg.services["school"].demand == "age_0_14"
    assert cfg.network.source == "roads.osm"
    text = (out / "arjenturva.yaml").read_text(encoding="utf-8")
    assert "Statistics Finland" in text and "OpenStreetMap contributors, ODbL" in text
    assert "CC BY 4.0" in (out / "ATTRIBUTION.md").read_text(encoding="utf-8")
    meta = json.loads((out / "fetch.json").read_text(encoding="utf-8"))
    assert meta["codes"] == ["614"] and meta["counts"]["population"] == 9

    ws = api.load_workspace(out / "arjenturva.yaml")
    assert len(ws.municipalities) == 1
    assert ws.population["suppressed"].sum() == 0
    assert len(ws.service_points) == len(points)
    assert set(ws.service_points["municipality"]) == {"614"}


def test_fetched_roads_build_a_network(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    fetch(out)
    net = api.build_network(out / "arjenturva.yaml", use_cache=False)
    assert net.n_nodes >= 4 and net.n_edges >= 3


def test_requests_carry_the_right_parameters(tmp_path: Path) -> None:
    adapter = ReplayAdapter()
    fetch(tmp_path / "ws", adapter)
    wfs = [p for url, p in adapter.requests if "geo.stat.fi" in url]
    kunta = next(p for p in wfs if p["typeNames"].endswith("kunta4500k_2025"))
    assert kunta["CQL_FILTER"] == "kunta IN ('614')"
    assert kunta["outputFormat"] == "application/json" and kunta["srsName"] == "EPSG:3067"
    grid = next(p for p in wfs if p["typeNames"] == "vaestoruutu:vaki2023_1km")
    assert grid["bbox"] == "514000,7296000,588000,7370000,EPSG:3067"
    amen = next(p for url, p in adapter.requests if "overpass" in url and "[out:json]" in p["data"])
    assert '"amenity"~"^(' in amen["data"] and "out center tags;" in amen["data"]


def test_existing_workspace_is_not_overwritten_without_force(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    fetch(out)
    before = (out / "arjenturva.yaml").read_bytes()
    with pytest.raises(OutputExistsError, match="--force"):
        fetch(out)
    assert (out / "arjenturva.yaml").read_bytes() == before
    fetch(out, force=True)


# --------------------------------------------------------------------------------------------
# Cache, offline, retries, timeouts
# --------------------------------------------------------------------------------------------


def test_second_run_uses_the_cache_with_the_network_disabled(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    fetch(out)
    cached = sorted((out / CACHE_SUBDIR).glob("*.body"))
    assert len(cached) == 6
    meta = json.loads(cached[0].with_suffix(".json").read_text(encoding="utf-8"))
    assert cached[0].stem == cache_key(meta["url"], meta["params"])

    dead = ReplayAdapter(faults=[requests.exceptions.ConnectionError("offline")] * 50)
    res = fetch(out, dead, force=True)
    assert res.from_cache == 6 and res.downloaded == 0
    assert dead.requests == []
    assert len(gpd.read_file(out / "population.gpkg")) == 9


def test_offline_with_an_empty_cache_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    waits: list[float] = []
    # A real requests session: the socket guard makes every connection fail like offline.
    with pytest.raises(OfflineError) as exc:
        fetch_workspace(["614"], out, roads="overpass", sleep=waits.append, retries=2)
    msg = str(exc.value)
    assert msg.startswith("no internet connection: cannot reach geo.stat.fi")
    assert "Fix:" in msg and "\n" not in msg
    assert isinstance(exc.value, ArjenturvaError)
    assert waits == [1.0, 2.0]  # bounded retries with backoff, then the error
    assert not (out / "arjenturva.yaml").exists()


def test_osmnx_roads_offline_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import osmnx as ox

    def offline(*args: Any, **kwargs: Any) -> Any:
        raise requests.exceptions.ConnectionError("Failed to resolve 'overpass-api.de'")

    monkeypatch.setattr(ox, "graph_from_polygon", offline)
    with pytest.raises(OfflineError, match="no internet connection: .*Fix: .*--no-roads"):
        fetch(tmp_path / "ws", roads="osmnx")
    assert not (tmp_path / "ws" / "arjenturva.yaml").exists()


def test_retry_after_503_then_200(tmp_path: Path) -> None:
    waits: list[float] = []
    adapter = ReplayAdapter(faults=[503, 503])
    res = fetch(tmp_path / "ws", adapter, sleep=waits.append, backoff_s=0.5)
    assert waits == [0.5, 1.0]
    assert res.downloaded == 6
    assert len(adapter.requests) == 8


def test_persistent_503_gives_up_after_bounded_retries(tmp_path: Path) -> None:
    waits: list[float] = []
    adapter = ReplayAdapter(faults=[503] * 10)
    with pytest.raises(FetchError, match=r"HTTP 503 .*after 4 attempts\. Fix: .*try again later"):
        fetch(tmp_path / "ws", adapter, sleep=waits.append, retries=3, backoff_s=20)
    assert waits == [20.0, 30.0, 30.0]  # doubled, capped at 30 s
    assert len(adapter.requests) == 4


def test_timeout_is_a_clear_error(tmp_path: Path) -> None:
    adapter = ReplayAdapter(faults=[requests.exceptions.ReadTimeout("read timed out")] * 10)
    with pytest.raises(FetchTimeoutError, match=r"geo\.stat\.fi did not answer within 7 s \(2 attempts\)"):
        fetch(tmp_path / "ws", adapter, retries=1, read_timeout_s=7)
    assert len(adapter.requests) == 2


def test_client_passes_short_connect_timeout(tmp_path: Path) -> None:
    seen: list[Any] = []

    class Spy(ReplayAdapter):
        def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
                 **kwargs: Any) -> requests.Response:
            seen.append(timeout)
            return super().send(request, stream, timeout, **kwargs)

    client = HttpClient(session=session_with(Spy()), cache_dir=tmp_path / "c", connect_timeout_s=3)
    client.get("https://geo.stat.fi/geoserver/wfs", {"typeNames": "vaestoruutu:vaki2023_1km"})
    assert seen == [(3.0, 180.0)]


def test_bad_answers_are_not_cached(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="vaki2031_1km unknown.*Fix: check the year"):
        fetch(tmp_path / "ws", year=2031)
    cached = [json.loads(p.read_text())["params"].get("typeNames", "")
              for p in (tmp_path / "ws" / CACHE_SUBDIR).glob("*.json")]
    assert "vaestoruutu:vaki2031_1km" not in cached


def test_cache_key_ignores_parameter_order() -> None:
    a = cache_key("https://x/wfs", {"a": "1", "b": "2"})
    assert a == cache_key("https://x/wfs", {"b": "2", "a": "1"})
    assert a != cache_key("https://x/wfs", {"a": "1", "b": "3"})


# --------------------------------------------------------------------------------------------
# Inputs, mapping, roads variants
# --------------------------------------------------------------------------------------------


def test_bad_and_unknown_codes(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="'61x' is not a number"):
        fetch_workspace(["61x"], tmp_path / "a")

    def empty(url: str, params: dict[str, str]) -> tuple[int, str]:
        if "kunta4500k" in params.get("typeNames", ""):
            return 200, "wfs_empty.json"
        return route(url, params)

    with pytest.raises(FetchError, match="no municipality with code 999.*Fix: check the codes"):
        fetch_workspace("999", tmp_path / "a", session=session_with(ReplayAdapter(router=empty)),
                        sleep=no_sleep)


def test_custom_mapping_from_yaml(tmp_path: Path) -> None:
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text("amenity=pharmacy: apteekki\nshop=supermarket: grocery\namenity=atm: null\n",
                            encoding="utf-8")
    assert load_service_mapping(mapping_file)["amenity=atm"] == ""
    out = tmp_path / "ws"
    res = fetch(out, mapping=mapping_file)
    assert set(res.services) == {"apteekki", "grocery"}
    points = pd.read_csv(out / "service_points.csv", dtype=str)
    assert sorted(points["services"]) == ["apteekki", "grocery"]
    cfg = load_config(out)
    assert cfg.services["apteekki"].label.fi == "Apteekki"
    api.load_workspace(out)


def test_bad_mapping_is_reported() -> None:
    with pytest.raises(FetchError, match="'pharmacy' is not key=value"):
        fetch_workspace("614", "unused", mapping={"pharmacy": "pharmacy"})


def test_amenity_query_groups_tags_by_key() -> None:
    q = amenity_query({"amenity=pharmacy": "p", "amenity=atm": "c", "shop=supermarket": "g", "shop=x": ""},
                      (27.0, 65.0, 28.0, 66.0), places=False)
    bb = "(65.00000,27.00000,66.00000,28.00000)"
    assert q == (f'[out:json][timeout:180];(nwr["amenity"~"^(atm|pharmacy)$"]{bb};'
                 f'nwr["shop"~"^(supermarket)$"]{bb};);out center tags;')


def test_no_roads_then_a_road_layer_from_recorded_ways(tmp_path: Path) -> None:
    out = tmp_path / "ws"
    res = fetch(out, roads=None)
    assert any("roads were not fetched" in w for w in res.warnings)
    cfg = load_config(out)
    assert cfg.network.source == "roads.gpkg" and cfg.network.class_column == "highway"
    assert not (out / "roads.gpkg").exists()

    lines = roads_from_osm_xml((DATA / "overpass_roads.osm").read_bytes())
    # Ways are split where they share a node: 601 at 502 and 501 (3 parts), 603 at 501 (2).
    assert len(lines) == 7
    assert set(lines["highway"]) == {"primary", "secondary", "residential", "service"}
    lines.to_file(out / "roads.gpkg", layer="road", driver="GPKG")
    api.load_workspace(out)
    net = api.build_network(out, use_cache=False)
    assert net.n_edges >= 7


def test_osmnx_roads_are_saved_as_graphml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import osmnx as ox

    calls: list[dict[str, Any]] = []

    def from_recording(polygon: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        assert polygon.contains(__import__("shapely").Point(28.16, 66.11))
        return ox.graph_from_xml(DATA / "overpass_roads.osm", retain_all=True)

    monkeypatch.setattr(ox, "graph_from_polygon", from_recording)
    out = tmp_path / "ws"
    res = fetch(out, roads="osmnx")
    assert calls and calls[0]["network_type"] == "drive"
    assert (out / "roads.graphml").exists() and res.counts["road_edges"] > 0
    assert load_config(out).network.source == "roads.graphml"
    net = api.build_network(out, use_cache=False)
    assert net.n_edges > 0


def test_library_code_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fetch(tmp_path / "ws")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""

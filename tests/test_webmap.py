"""The interactive map.html of a results folder (arjenturva.export.webmap).

The demo is run once for this module through the real pipeline (gaps and proposals, no maps),
with two names changed so that the escaping of user text can be checked: a service point's name
holds a ``<script>`` element, and an actor's name holds HTML and JavaScript template characters
(it reaches the point popups and the proposals). The page is then opened in headless Chromium
with the network blocked, and the rendered DOM is checked: Leaflet's panes and paths, the metric
scale, the legend against the symbols drawn, one radio button per service, the names.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from arjenturva import api, labels
from arjenturva import results as R
from arjenturva.errors import ArjenturvaError, OutputExistsError
from arjenturva.export import mapdata, webmap, webmap_data
from arjenturva.network import edges_geodataframe

SCRIPT_NAME = 'Kaarnavaaran terveysasema <script>alert("x")</script>'
SCRIPT_POINT = "KA01"
ODD_ACTOR = "Osuuskauppa <Routa> & `Co` ${x}"
CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> api.RunResult:
    """The demo workspace (two names changed) run through gaps and proposals once for this module."""
    ws = tmp_path_factory.mktemp("webmap_demo")
    config = api.copy_demo(ws / "ws")
    points = pd.read_csv(config.parent / "service_points.csv", dtype=str, keep_default_na=False)
    points.loc[points["point_id"] == SCRIPT_POINT, "name"] = SCRIPT_NAME
    points.to_csv(config.parent / "service_points.csv", index=False)
    actors = pd.read_csv(config.parent / "actors.csv", dtype=str, keep_default_na=False)
    actors.loc[actors["actor_id"] == "A28", "name"] = ODD_ACTOR
    actors.to_csv(config.parent / "actors.csv", index=False)
    return api.run_pipeline(config, out_dir=ws / "results", with_proposals=True, with_maps=False)


@pytest.fixture(scope="module")
def page_en(demo: api.RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """map.html in English, with roads, written into a copy of the demo's results folder."""
    results = tmp_path_factory.mktemp("webmap_en") / "results"
    shutil.copytree(demo.results_dir, results)
    return webmap.write_html_map(results, demo.workspace.config, network=demo.network, lang="en")


class _Elements(HTMLParser):
    """Every start tag with its attributes (script and style contents are not parsed as tags)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(text: str) -> _Elements:
    p = _Elements()
    p.feed(text)
    return p


def _network_refs(text: str) -> list[str]:
    """``src``/``href`` attributes (of any element) that point outside the file."""
    refs = [a.get(k, "") for _, a in _parse(text).tags for k in ("src", "href", "xlink:href")]
    return [r for r in refs if re.match(r"\s*(https?:|//)", r, flags=re.IGNORECASE)]


def _page_data(text: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="at-data">(.*?)</script>', text, flags=re.S)
    assert m is not None
    data: dict[str, Any] = json.loads(m.group(1))
    return data


def _chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with the network blocked (every request goes to a closed proxy port)."""
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            *extra,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _console(run: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in run.stderr.splitlines() if ":CONSOLE" in line]


# --- the page as written ---------------------------------------------------------------------------


def test_leaflet_comes_from_the_package() -> None:
    folder = webmap.find_leaflet_assets()
    assert folder.parts[-3:] == ("js_lib_leaflet", "static", "js_lib_leaflet")
    assert not str(folder).startswith("/usr/share")
    css, js = webmap._leaflet()
    assert "Leaflet 1.9" in js
    assert "sourceMappingURL" not in js
    assert "url(images/" not in css  # the control images are data URIs


def test_missing_leaflet_package_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webmap, "find_spec", lambda _name: None)
    with pytest.raises(ArjenturvaError, match="pip install django-js-lib-leaflet"):
        webmap.find_leaflet_assets()


def test_page_is_self_contained(page_en: Path) -> None:
    text = page_en.read_text(encoding="utf-8")
    assert _network_refs(text) == []
    tags = _parse(text).tags
    assert not [a for t, a in tags if t == "script" and "src" in a]
    assert not [t for t, _ in tags if t in ("link", "iframe", "img")]
    csp = next(a["content"] for t, a in tags if a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp
    for name in ("jquery", "bootstrap", "font-awesome", "fontawesome", "cdn."):
        assert name not in text.lower(), name
    # the only URL on the page is the optional background's tile template, in the data, off by default
    data = _page_data(text)
    assert data["tiles"]["url"] == webmap.OSM_TILES
    own = text
    for leaflet in webmap._leaflet():  # Leaflet's comments name its home page and browser bugs
        own = own.replace(leaflet, "")
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", own)) - {"http://www.w3.org/2000/svg"}  # SVG namespace
    assert urls == {webmap.OSM_TILES, "https://tile.openstreetmap.org"}, urls


def test_page_data(page_en: Path, demo: api.RunResult) -> None:
    cfg = demo.workspace.config
    data = _page_data(page_en.read_text(encoding="utf-8"))
    assert [s["label"] for s in data["services"]] == [s.label.en for s in cfg.services.values()]
    md = mapdata.read_map_data(demo.results_dir, cfg)
    cells = data["cells"]["fc"]["features"]
    assert len(cells) == len(md.population)
    assert all(len(f["properties"]["c"]) == len(cfg.services) for f in cells)
    # roads: one merged, simplified line feature per road group of the network
    groups = {mapdata.road_group(c) for c in edges_geodataframe(demo.network)["road_class"]}
    assert {f["properties"]["g"] for f in data["roads"]["features"]} == groups
    # names: every municipality, every place of the places layer
    assert sorted(r[2] for r in data["labels"]["municipalities"]) == sorted(md.municipalities["name"])
    places = R.read_layer(demo.results_dir, R.PLACES)
    assert sorted(r[2] for r in data["labels"]["places"]) == sorted(places["name"])
    assert data["labels"]["places"][0][2] in set(places.loc[places["kind"] == "centre", "name"])
    # every symbol has a legend text in both languages
    for lang in labels.LANGUAGES:
        syms = webmap.symbols(lang)
        assert all(s["label"] and s["section"] for s in syms.values())


def test_page_data_holds_the_routes_with_their_timetables(page_en: Path, demo: api.RunResult) -> None:
    """The routes layer: one line per vehicle and weekday with its vehicle, weekday and the
    day's timetable text as in results.gpkg, and each stop with its weekdays in words."""
    data = _page_data(page_en.read_text(encoding="utf-8"))
    lines = R.read_layer(demo.results_dir, R.ROUTE_LINES)
    stops = R.read_layer(demo.results_dir, R.ROUTE_STOPS)
    assert len(lines) and len(stops)
    routes = data["routes"]
    t = labels.ui("en")
    assert routes["fields"] == [t["vehicle"], t["weekday"], t["weekly_timetable"]]
    got = sorted(tuple(f["properties"]["v"]) for f in routes["lines"]["features"])
    want = sorted(
        (str(v), labels.WEEKDAY[str(d)].en, str(text))
        for v, d, text in zip(lines["vehicle_id"], lines["weekday"], lines["timetable"], strict=True)
    )
    assert got == want
    assert all(f["geometry"]["type"] == "LineString" for f in routes["lines"]["features"])
    stop_props = [f["properties"]["v"] for f in routes["stops"]["features"]]
    got_stops = sorted((v[0], v[3]) for v in stop_props)
    want_stops = sorted(
        (str(p), ", ".join(labels.WEEKDAY[d].en for d in str(w).split(";")))
        for p, w in zip(stops["place"], stops["weekdays"], strict=True)
    )
    assert got_stops == want_stops
    assert data["words"]["routes_layer"] == t["routes_layer"]


def test_page_without_routes_has_no_routes_layer(demo: api.RunResult) -> None:
    data = mapdata.read_map_data(demo.results_dir, demo.workspace.config)
    bare = mapdata.MapData(data.population, data.gap_areas, data.service_points, data.municipalities)
    assert webmap_data.page_layers(bare, None, ["grocery"], demo.workspace.config, "fi")["routes"] is None


def test_cells_have_the_png_maps_classes(page_en: Path, demo: api.RunResult) -> None:
    """Each cell has, per service, the reach class and colour the PNG maps give it, and the page
    names the classes as the PNG maps' legends do."""
    cfg = demo.workspace.config
    data = _page_data(page_en.read_text(encoding="utf-8"))
    pop = mapdata.read_map_data(demo.results_dir, cfg).population
    got = np.array([f["properties"]["c"] for f in data["cells"]["fc"]["features"]])
    for i, (sid, svc) in enumerate(cfg.services.items()):
        assert got[:, i].tolist() == mapdata.service_reach_class(pop, sid, svc).tolist(), sid
        assert data["services"][i]["classes"] == mapdata.reach_class_labels(svc, "en"), sid
    fills = {k: s for k, s in data["symbols"].items() if s["kind"] == "fill"}
    assert [s["colour"] for s in fills.values()] == list(mapdata.REACH_COLOURS)
    assert [s["index"] for s in fills.values()] == list(range(len(mapdata.REACH_COLOURS)))
    assert {s["section"] for s in fills.values()} == {labels.ui("en")["legend_reach"]}


def test_user_text_is_escaped_in_the_page(page_en: Path) -> None:
    text = page_en.read_text(encoding="utf-8")
    assert "<script>alert" not in text
    assert "<Routa>" not in text
    data = _page_data(text)  # the names are there, as JSON data
    names = [f["properties"]["n"] for f in data["points"]["fc"]["features"]]
    assert SCRIPT_NAME in names
    operators = [f["properties"]["v"][2] for f in data["points"]["fc"]["features"]]
    assert ODD_ACTOR in operators


def test_credits_language_and_overwrite(demo: api.RunResult, tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(demo.results_dir, results)
    cfg = demo.workspace.config
    path = webmap.write_html_map(results, cfg, lang="fi", basemap_tiles=False)
    text = path.read_text(encoding="utf-8")
    assert labels.SYNTHETIC.fi in text
    assert '<html lang="fi">' in text
    data = _page_data(text)
    assert data["roads"] is None  # no network given
    assert data["tiles"] is None
    assert "tile.openstreetmap.org" not in text
    assert data["words"]["legend"] == labels.UI["legend"].fi
    with pytest.raises(OutputExistsError):
        webmap.write_html_map(results, cfg)


# --- the page in a browser with the network blocked --------------------------------------------


@pytest.fixture(scope="module")
def rendered(page_en: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    """The DOM of map.html after Chromium ran it offline, and the page's console messages."""
    run = _chromium(page_en, tmp_path_factory.mktemp("chromium-profile"), "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout, _console(run)


def _classes(tags: list[tuple[str, dict[str, str]]]) -> list[str]:
    return [c for _, a in tags for c in a.get("class", "").split()]


@needs_chromium
def test_map_renders_offline(rendered: tuple[str, list[str]], demo: api.RunResult) -> None:
    dom, console = rendered
    assert console == [], "JavaScript console messages:\n" + "\n".join(console)
    parsed = _parse(dom)
    classes = _classes(parsed.tags)
    for cls in ("leaflet-container", "leaflet-map-pane", "leaflet-overlay-pane", "leaflet-marker-icon"):
        assert cls in classes, cls
    n_cells = len(mapdata.read_map_data(demo.results_dir, demo.workspace.config).population)
    cell_paths = [
        a for t, a in parsed.tags if t == "path" and re.search(r"\bat-sym-reach-\d\b", a.get("class", ""))
    ]
    assert len(cell_paths) == n_cells
    assert all("leaflet-interactive" in a["class"] for a in cell_paths)
    gap_paths = [a for t, a in parsed.tags if t == "path" and "at-sym-gap" in a.get("class", "")]
    assert gap_paths and all("leaflet-interactive" in a["class"] for a in gap_paths)
    assert [t for t, a in parsed.tags if t == "path" and "at-sym-road-" in a.get("class", "")]
    assert _network_refs(dom) == []
    assert labels.SYNTHETIC.en in dom
    assert not [t for t, _ in parsed.tags if t == "img"]  # the background tiles stay off


@needs_chromium
def test_scale_is_metric(rendered: tuple[str, list[str]]) -> None:
    dom, _ = rendered
    scales = re.findall(r'class="leaflet-control-scale-line"[^>]*>([^<]*)<', dom)
    assert len(scales) == 1
    assert re.fullmatch(r"\d+ k?m", scales[0]), scales


@needs_chromium
def test_legend_lists_exactly_what_is_drawn(rendered: tuple[str, list[str]], demo: api.RunResult) -> None:
    dom, _ = rendered
    tags = _parse(dom).tags
    drawn = {c.removeprefix("at-sym-") for c in _classes(tags) if c.startswith("at-sym-")}
    legend = [a["data-sym"] for _, a in tags if "data-sym" in a]
    assert len(legend) == len(set(legend))
    assert set(legend) == drawn
    syms = webmap.symbols("en")
    assert legend == [k for k in syms if k in drawn]  # in the table's order
    # the legend's texts are the symbols' texts; the cell classes named as on the first service's
    # PNG map (the service shown)
    first = next(iter(demo.workspace.config.services.values()))
    classes = mapdata.reach_class_labels(first, "en")
    expected = [
        (k, classes[syms[k]["index"]] if syms[k]["kind"] == "fill" else syms[k]["label"]) for k in legend
    ]
    texts = re.findall(r'data-sym="([^"]+)".*?class="at-entry-label">([^<]*)<', dom)
    assert expected == [(k, html.unescape(v)) for k, v in texts]
    for expected in (
        "mode-fixed",
        "route-line",
        "route-stop",
        "gap",
        "road-main",
        "border",
        "place-label",
        "municipality-label",
    ):
        assert expected in drawn


@needs_chromium
def test_one_service_at_a_time(rendered: tuple[str, list[str]], demo: api.RunResult) -> None:
    dom, _ = rendered
    radios = re.findall(r'<input type="radio"([^>]*)><span> ([^<]+)</span>', dom)
    cfg = demo.workspace.config
    assert [name for _, name in radios] == [s.label.en for s in cfg.services.values()]
    assert ["checked" in attrs for attrs, _ in radios] == [True] + [False] * (len(radios) - 1)
    boxes = re.findall(r'<input type="checkbox"[^>]*><span> ([^<]+)</span>', dom)
    words = labels.ui("en")
    assert boxes == [
        words["legend_points"],
        words["layer_gaps"],
        words["proposals"],
        words["routes_layer"],
        words["legend_roads"],
        words["layer_municipality_names"],
        words["layer_places"],
        words["borders_layer"],
        words["osm_layer"],
    ]


@needs_chromium
def test_place_and_municipality_names(rendered: tuple[str, list[str]], demo: api.RunResult) -> None:
    dom = rendered[0].split("leaflet-control-container")[0]  # the map, not the legend's samples
    munis = re.findall(r'class="at-label at-label-municipality">([^<]+)<', dom)
    assert sorted(munis) == sorted(
        mapdata.read_map_data(demo.results_dir, demo.workspace.config).municipalities["name"]
    )
    places = re.findall(r'class="at-label at-label-place"><span class="at-dot"></span>([^<]+)<', dom)
    assert "Kaarnavaaran kirkonkylä" in places
    assert sorted(places) == sorted(R.read_layer(demo.results_dir, R.PLACES)["name"])


_HOOK = """<script>
(function () {
  // test only: pick every service in turn; record the legend and the symbols drawn, and put the
  // content of every marker's popup and tooltip into the page
  var map = window.arjenturvaMap, report = [], out = document.createElement('div');
  out.id = 'test-popups';
  var radios = document.querySelectorAll('.leaflet-control-layers-base input');
  var boxes = document.querySelectorAll('.leaflet-control-layers-overlays input');
  function node(c, l) { return typeof c === 'function' ? c(l) : document.createTextNode(c); }
  function record(label) {
    var drawn = {};
    document.querySelectorAll('.leaflet-map-pane .at-sym').forEach(function (e) {
      e.classList.forEach(function (c) { if (c.indexOf('at-sym-') === 0) drawn[c.slice(7)] = 1; });
    });
    var legend = [];
    document.querySelectorAll('#at-legend [data-sym]').forEach(function (e) { legend.push(e.dataset.sym); });
    report.push({ service: label, drawn: Object.keys(drawn).sort(), legend: legend });
    map.eachLayer(function (l) {
      if (!(l instanceof L.Marker)) return;
      [l.getPopup(), l.getTooltip()].forEach(function (p) {
        if (p) out.appendChild(node(p.getContent(), l));
      });
    });
  }
  radios.forEach(function (r) { r.click(); record(r.nextSibling.textContent.trim()); });
  boxes[4].click();  // roads off (after points, gaps, proposals, routes)
  boxes[0].click();  // service points off
  record('roads and points off');
  document.body.appendChild(out);
  var pre = document.createElement('pre');
  pre.id = 'test-report';
  pre.textContent = JSON.stringify(report);
  document.body.appendChild(pre);
}());
</script>
</body>"""


@needs_chromium
def test_every_service_in_the_browser(page_en: Path, demo: api.RunResult, tmp_path: Path) -> None:
    page = tmp_path / "map_hooked.html"
    page.write_text(page_en.read_text(encoding="utf-8").replace("</body>", _HOOK, 1), encoding="utf-8")
    run = _chromium(page, tmp_path / "profile", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert _console(run) == [], "\n".join(_console(run))
    dom = run.stdout
    m = re.search(r'<pre id="test-report">(.*?)</pre>', dom, flags=re.S)
    assert m is not None
    report = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    cfg = demo.workspace.config
    assert [r["service"] for r in report[:-1]] == [s.label.en for s in cfg.services.values()]
    for r in report:
        assert sorted(r["legend"]) == r["drawn"], r["service"]
    by_service = {r["service"]: set(r["drawn"]) for r in report}
    from arjenturva import results as R

    sites = R.read_layer(demo.results_dir, R.NEW_SITES)
    with_sites = {s for v in sites["services"] for s in v.split(";")}
    # a proposed agreement is drawn on its own; at a new site of its service the star stands for it
    proposals = R.read_layer(demo.results_dir, R.PROPOSALS)
    at_sites = {
        (s, round(p.x), round(p.y))
        for v, p in zip(sites["services"], sites.geometry, strict=True)
        for s in v.split(";")
    }
    alone = {
        str(s)
        for s, g in zip(proposals["service"], proposals.geometry, strict=True)
        if g.geom_type == "Point" and (str(s), round(g.x), round(g.y)) not in at_sites
    }
    assert alone, "the demo proposes agreements away from new sites"
    for sid, svc in cfg.services.items():
        assert ("proposal-point" in by_service[svc.label.en]) == (sid in alone), sid
    assert with_sites, "the demo proposes new fixed sites"
    for sid, svc in cfg.services.items():
        assert ("new-site" in by_service[svc.label.en]) == (sid in with_sites), sid
    # the routes are one layer of their own, whichever service is shown
    assert all({"route-line", "route-stop"} <= set(r["drawn"]) for r in report)
    last = set(report[-1]["drawn"])
    assert not {k for k in last if k.startswith(("road-", "mode-"))}
    assert "gap" in last
    # user text is shown as text, never run as markup
    assert "<script>alert" not in dom
    assert '&lt;script&gt;alert("x")&lt;/script&gt;' in dom
    assert "Osuuskauppa &lt;Routa&gt; &amp; `Co` ${x}" in dom
    assert "<Routa>" not in dom


@needs_chromium
def test_screenshot_is_a_map(page_en: Path, tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    shot = tmp_path / "map.png"
    run = _chromium(page_en, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1400,1000")
    assert run.returncode == 0, run.stderr[-2000:]
    img = mpimg.imread(shot)
    assert img.shape[:2] == (1000, 1400)
    rgb = img[..., :3]
    # the cells' colours (75 % over Leaflet's grey background) are on the screen: the first
    # service's covered cells and those beyond its threshold
    for colour in (mapdata.REACH_COLOURS[0], mapdata.REACH_COLOURS[3]):
        rgb_cell = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
        seen = (np.abs(rgb - (0.75 * rgb_cell + 0.25 * 0xDD / 255)).max(axis=-1) < 0.04).mean()
        assert seen > 0.001, colour
    assert float(rgb.std()) > 0.05


def _copy_in_browser(demo: api.RunResult, tmp_path: Path) -> list[tuple[str, dict[str, str]]]:
    """The tags of map.html (English, no roads) of a copy of the demo's results, after Chromium ran
    it offline without a console message."""
    results = tmp_path / "results"
    shutil.copytree(demo.results_dir, results)
    page = webmap.write_html_map(results, demo.workspace.config, lang="en")
    run = _chromium(page, tmp_path / "profile", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert _console(run) == [], "\n".join(_console(run))
    return _parse(run.stdout).tags


@needs_chromium
def test_many_cells_are_drawn_on_a_canvas(
    demo: api.RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webmap_data, "CANVAS_CELLS_ABOVE", 100)
    tags = _copy_in_browser(demo, tmp_path)
    assert not [a for t, a in tags if t == "path" and "at-sym-reach-" in a.get("class", "")]
    assert [t for t, _ in tags if t == "canvas"]
    legend = {a["data-sym"] for _, a in tags if "data-sym" in a}
    assert {"reach-0", "reach-3"} <= legend


# --- a study area with context, unreachable cells, a point off the roads, cells as points ----------


@pytest.fixture(scope="module")
def study_area(tmp_path_factory: pytest.TempPathFactory) -> tuple[api.RunResult, Path]:
    """map.html (English) of the demo with only 996 studied and its health station moved off the
    road network (:func:`test_maps.study_area_demo`)."""
    from test_maps import study_area_demo

    run, _ = study_area_demo(tmp_path_factory.mktemp("webmap_study"))
    page = webmap.write_html_map(run.results_dir, run.workspace.config, network=run.network, lang="en")
    return run, page


def test_study_area_page_data(study_area: tuple[api.RunResult, Path]) -> None:
    """The page opens on the study area, carries the context apart from it, the unreachable cells
    of each service and the point beyond the snap tolerance."""
    run, page = study_area
    data = _page_data(page.read_text(encoding="utf-8"))
    munis = R.read_layer(run.results_dir, R.MUNICIPALITIES).to_crs(4326)
    b = munis.total_bounds
    assert data["bounds"] == [
        [pytest.approx(b[1]), pytest.approx(b[0])],
        [pytest.approx(b[3]), pytest.approx(b[2])],
    ]
    assert len(data["borders"]["features"]) == 1 and len(data["context"]["features"]) == 1
    assert [name for _, _, name in data["labels"]["context"]] == ["Routajärvi"]
    assert [name for _, _, name in data["labels"]["municipalities"]] == ["Kaarnavaara"]
    # the unreachable cells per service: those without a road distance in the results
    pop = R.read_layer(run.results_dir, R.POPULATION)
    pop = pop.loc[pop["population"] >= run.workspace.config.export.suppress_below]
    services = [s for s in run.workspace.config.services if f"{s}_distance_m" in pop]
    for k, sid in enumerate(services):
        n = int(pop[f"{sid}_distance_m"].isna().sum())
        assert sum(k in row[2] for row in data["cells"]["unreachable"]) == n > 0, sid
    off = [f["properties"]["n"] for f in data["points"]["fc"]["features"] if f["properties"]["o"]]
    assert off == ["Kaarnavaaran terveysasema"]


@needs_chromium
def test_study_area_in_the_browser(study_area: tuple[api.RunResult, Path], tmp_path: Path) -> None:
    run, page = study_area
    chrome = _chromium(page, tmp_path / "profile", "--dump-dom")
    assert chrome.returncode == 0, chrome.stderr[-2000:]
    assert _console(chrome) == [], "\n".join(_console(chrome))
    tags = _parse(chrome.stdout).tags
    drawn = {c.removeprefix("at-sym-") for c in _classes(tags) if c.startswith("at-sym-")}
    legend = [a["data-sym"] for _, a in tags if "data-sym" in a]
    assert set(legend) == drawn
    assert {"context", "unreachable", "off-road"} <= drawn
    pop = R.read_layer(run.results_dir, R.POPULATION)
    pop = pop.loc[pop["population"] >= run.workspace.config.export.suppress_below]
    crosses = [a for _, a in tags if "at-sym-unreachable" in a.get("class", "").split()]
    first = next(iter(run.workspace.config.services))
    assert len(crosses) == int(pop[f"{first}_distance_m"].isna().sum())
    assert re.findall(r'class="at-label at-label-context">([^<]+)<', chrome.stdout) == ["Routajärvi"]


@needs_chromium
def test_cells_given_as_points_are_dots(
    demo: api.RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Population given as points (postal areas) is drawn as one dot per cell in its class, not
    as Leaflet's default marker images."""
    import dataclasses

    real = webmap.read_map_data

    def as_points(results_dir: Any, config: Any) -> mapdata.MapData:
        data = real(results_dir, config)
        return dataclasses.replace(data, population=data.population.set_geometry(data.population.centroid))

    monkeypatch.setattr(webmap, "read_map_data", as_points)
    tags = _copy_in_browser(demo, tmp_path)
    n_cells = len(mapdata.read_map_data(demo.results_dir, demo.workspace.config).population)
    dots = [a for t, a in tags if t == "path" and re.search(r"\bat-sym-reach-\d\b", a.get("class", ""))]
    assert len(dots) == n_cells
    assert not [t for t, _ in tags if t == "img"]  # no marker images

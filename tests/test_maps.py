"""Static PNG maps and the interactive map.html of a results folder (arjenturva.export).

Every test reads a results folder the real pipeline wrote: the demo, with proposals, run once for
this module. Two names of the demo are changed before the run so that the escaping of user text
can be checked: a service point's name holds a ``<script>`` element, and an actor's name holds
HTML and JavaScript template characters (it reaches the point popups and the proposals'
rationales).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape

from arjenturva import api, labels
from arjenturva import results as R
from arjenturva.errors import ArjenturvaError, InputFileError, OutputExistsError
from arjenturva.export import mapdata, mapframe, static_maps, webmap

SERVICES = ["health_station", "grocery"]
SCRIPT_NAME = 'Kaarnavaaran terveysasema <script>alert("x")</script>'
SCRIPT_POINT = "KA01"
ODD_ACTOR = "Osuuskauppa <Routa> & `Co` ${x}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> api.RunResult:
    """The demo workspace (two names changed) run through gaps and proposals once for this module."""
    ws = tmp_path_factory.mktemp("maps_demo")
    config = api.copy_demo(ws / "ws")
    points = pd.read_csv(config.parent / "service_points.csv", dtype=str, keep_default_na=False)
    points.loc[points["point_id"] == SCRIPT_POINT, "name"] = SCRIPT_NAME
    points.to_csv(config.parent / "service_points.csv", index=False)
    actors = pd.read_csv(config.parent / "actors.csv", dtype=str, keep_default_na=False)
    actors.loc[actors["actor_id"] == "A28", "name"] = ODD_ACTOR
    actors.to_csv(config.parent / "actors.csv", index=False)
    return api.run_pipeline(config, out_dir=ws / "results", with_proposals=True, with_maps=False)


def _copy_results(demo: api.RunResult, dest: Path) -> Path:
    shutil.copytree(demo.results_dir, dest)
    return dest


def _assert_png(path: Path, size: tuple[int, int] = mapframe.FIG_PX) -> None:
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img.shape[:2] == (size[1], size[0])
    rgb = img[..., :3]
    assert float(rgb.std()) > 0.05, f"{path.name} looks blank"
    non_white = (rgb < 0.95).any(axis=-1).mean()
    assert non_white > 0.15, f"{path.name}: only {non_white:.0%} of pixels drawn"


def test_distance_classes() -> None:
    cls = mapdata.distance_class([0, 4999, 5000, 5001, 15000, 39999, 40001, np.nan, np.inf])
    assert cls.tolist() == [0, 0, 0, 1, 2, 3, 4, 5, 5]
    assert len(mapdata.distance_class_labels("fi")) == len(mapdata.DISTANCE_COLOURS) + 1
    assert mapdata.distance_class_labels("en")[-1] == labels.ui("en")["unreachable"]


def test_lacking_classes() -> None:
    assert mapdata.lacking_class(np.array([0, 1, 2, 3, 6, 7, 12])).tolist() == [0, 1, 1, 2, 3, 4, 4]
    assert mapdata.lacking_class_labels() == ["0", "1–2", "3–4", "5–6", "7+"]


def test_write_maps_pngs(demo: api.RunResult, tmp_path: Path) -> None:
    results = _copy_results(demo, tmp_path / "results")
    files = static_maps.write_maps(results, demo.workspace.config, network=demo.network, services=SERVICES)
    codes = sorted(str(c) for c in demo.gaps.municipalities["code"])
    names = sorted(p.name for p in files)
    assert names == sorted([f"{s}.png" for s in SERVICES] + [f"overview_{c}.png" for c in codes])
    assert set(names) <= set(mapdata.map_file_names(demo.workspace.config, codes))
    for p in files:
        assert p.parent == results / R.MAPS_DIR
        _assert_png(p)
    assert not list((results / R.MAPS_DIR).glob(".*")), "temporary files left behind"
    with pytest.raises(OutputExistsError):
        static_maps.write_maps(results, demo.workspace.config, services=SERVICES)
    again = static_maps.write_maps(
        results, demo.workspace.config, services=SERVICES[:1], lang="en", force=True
    )
    _assert_png(again[0])


def test_maps_with_proposals_and_roads_frame(demo: api.RunResult, tmp_path: Path) -> None:
    from arjenturva.network import edges_geodataframe

    results = _copy_results(demo, tmp_path / "results")
    data = mapdata.read_map_data(results, demo.workspace.config)
    assert data.new_sites is not None and not data.new_sites.empty
    assert data.proposals is not None and not data.proposals.empty
    roads = edges_geodataframe(demo.network)
    files = static_maps.write_maps(
        results, demo.workspace.config, roads=roads, services=["health_station"], lang="en"
    )
    for p in files:
        _assert_png(p)


def test_png_words_and_synthetic_note(
    demo: api.RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every PNG names the modes in the one mode wording and carries the run's credits."""
    from matplotlib.figure import Figure

    results = _copy_results(demo, tmp_path / "results")
    texts: dict[str, list[str]] = {}
    save = static_maps.save_png

    def record(fig: Figure, path: Path, dpi: int) -> Path:
        texts[path.name] = [t.get_text() for t in fig.texts] + [
            t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
        ]
        return save(fig, path, dpi)

    monkeypatch.setattr(static_maps, "save_png", record)
    static_maps.write_maps(results, demo.workspace.config, services=["health_station"], lang="fi")
    assert demo.workspace.config.synthetic
    assert len(texts) == 1 + len(demo.gaps.municipalities)
    for name, words in texts.items():
        page = "\n".join(words)
        assert labels.SYNTHETIC.fi in page, name
        assert labels.MODE["fixed"].fi in words, name
    assert "Kysyntä: koko väestö" in "\n".join(texts["health_station.png"])


def test_long_credits_wrap(demo: api.RunResult) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    credits = [f"Source number {i} © Some Agency (CC BY 4.0)" for i in range(8)]
    mapframe.draw_titles(fig, "T", "S", lang="en", config=demo.workspace.config, credits=credits)
    lines = [t.get_text() for t in fig.texts[3:]]
    assert len(lines) > 1 and all(len(line) <= 160 for line in lines)
    assert " ".join(lines) == " · ".join(credits)


def test_suppressed_cells_not_drawn(demo: api.RunResult) -> None:
    cfg = demo.workspace.config.model_copy(deep=True)
    cfg.export.suppress_below = 50
    data = mapdata.read_map_data(demo.results_dir, cfg)
    assert len(data.population) > 0
    assert (data.population["population"] >= 50).all()


def test_missing_results(tmp_path: Path, demo: api.RunResult) -> None:
    with pytest.raises(InputFileError, match="results.gpkg"):
        static_maps.write_maps(tmp_path, demo.workspace.config)


def test_html_map_content(demo: api.RunResult, tmp_path: Path) -> None:
    results = _copy_results(demo, tmp_path / "results")
    cfg = demo.workspace.config
    path = webmap.write_html_map(results, cfg, lang="fi")
    assert path == results / R.WEB_MAP_FILE
    text = path.read_text(encoding="utf-8")
    for svc in cfg.services.values():
        assert svc.label.fi in text
    # the proposals' rationales are in the popups, escaped for HTML and the JavaScript literal
    proposals = R.read_table(results, R.PROPOSALS)
    assert (proposals["actor_name"] == ODD_ACTOR).any()
    for rationale in proposals["rationale"]:
        assert webmap._literal_safe(str(escape(rationale))) in text
    assert ODD_ACTOR not in text and "<Routa>" not in text
    assert "Osuuskauppa &lt;Routa&gt; &amp; &#96;Co&#96; &#36;{x}" in text
    # a service point's name with a <script> element is shown as text, never run
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    # the run's credits, with the synthetic-data note of the demo, and the one mode wording
    assert labels.SYNTHETIC.fi in text
    for mode in labels.MODE.values():
        assert mode.fi in text
    assert "OpenStreetMap" in text
    with pytest.raises(OutputExistsError):
        webmap.write_html_map(results, cfg)
    no_tiles = webmap.write_html_map(results, cfg, force=True, basemap_tiles=False)
    assert "tile.openstreetmap.org" not in no_tiles.read_text(encoding="utf-8")


def test_html_map_require_offline(
    demo: api.RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webmap, "find_leaflet_assets", lambda: None)
    with pytest.raises(ArjenturvaError, match=webmap.LEAFLET_ENV):
        webmap.write_html_map(tmp_path, demo.workspace.config, require_offline=True)


def _external_refs(page: str) -> list[str]:
    """``src``/``href`` attributes of script and link elements that point to the network."""
    return re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?:[^"]+)"', page)


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_html_map_in_headless_chromium(demo: api.RunResult, tmp_path: Path) -> None:
    if webmap.find_leaflet_assets() is None:
        pytest.skip(
            "no local Leaflet copy (arjenturva/_vendor/leaflet, $ARJENTURVA_LEAFLET_DIR or libjs-leaflet): "
            "map.html would need a CDN"
        )
    results = _copy_results(demo, tmp_path / "results")
    cfg = demo.workspace.config
    path = webmap.write_html_map(results, cfg, lang="en")
    page = path.read_text(encoding="utf-8")
    assert _external_refs(page) == [], "map.html must not load scripts or styles from the network"

    profile = tmp_path / "chromium-profile"
    base = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
    ]
    run = subprocess.run(
        [*base, "--enable-logging=stderr", "--v=0", "--dump-dom", path.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], "JavaScript console messages:\n" + "\n".join(console)
    dom = run.stdout
    names = re.findall(r'class="leaflet-control-layers-selector"[^>]*><span> ([^<]+)</span>', dom)
    expected = [svc.label.en for svc in cfg.services.values()]
    assert [n for n in names if n in expected] == expected, names
    assert len(names) == len(expected) + 1 + int(cfg.export.basemap_tiles)  # + borders (+ OSM)
    assert "leaflet-interactive" in dom  # vector layers were drawn
    assert labels.SYNTHETIC.en in dom  # the credits box is on the page

    shot = tmp_path / "map.png"
    subprocess.run(
        [*base, "--window-size=1200,900", f"--screenshot={shot}", path.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    _assert_png(shot, size=(1200, 900))

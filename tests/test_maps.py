"""Static PNG maps and the interactive map.html of a results folder (arjenturva.maps)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point

from arjenturva import api, maps
from arjenturva.errors import InputFileError, OutputExistsError

SERVICES = ["health_station", "grocery"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> api.RunResult:
    """The demo workspace run through the gap analysis once for this module."""
    ws = tmp_path_factory.mktemp("maps_demo")
    return api.run_pipeline(
        api.copy_demo(ws / "ws"), out_dir=ws / "results", with_proposals=False, with_maps=False
    )


def _copy_results(demo: api.RunResult, dest: Path) -> Path:
    shutil.copytree(demo.results_dir, dest)
    return dest


def _with_proposals(results: Path) -> None:
    """Add ``new_sites`` (points) and ``proposals`` (a route line and a point) layers."""
    gpkg = results / "results.gpkg"
    munis = gpd.read_file(gpkg, layer="municipalities")
    c = munis.geometry.iloc[0].representative_point()
    new_sites = gpd.GeoDataFrame(
        {"service": ["health_station"], "actor_name": ["Osuuskunta <Testi>"], "mode": ["fixed"]},
        geometry=[Point(c.x, c.y)],
        crs=munis.crs,
    )
    proposals = gpd.GeoDataFrame(
        {
            "service": ["health_station", "grocery"],
            "actor_name": ["Kauppa-auto Oy", "Kylä ry"],
            "mode": ["mobile", "fixed"],
            "rationale": ["Reitti `kylään` & takaisin: 312 asukasta", "Kyläkauppa 45 km päässä"],
        },
        geometry=[LineString([(c.x, c.y), (c.x + 8000, c.y + 6000)]), Point(c.x + 3000, c.y - 2000)],
        crs=munis.crs,
    )
    new_sites.to_file(gpkg, layer="new_sites", driver="GPKG")
    proposals.to_file(gpkg, layer="proposals", driver="GPKG")


def _assert_png(path: Path, size: tuple[int, int] = maps.FIG_PX) -> None:
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img.shape[:2] == (size[1], size[0])
    rgb = img[..., :3]
    assert float(rgb.std()) > 0.05, f"{path.name} looks blank"
    non_white = (rgb < 0.95).any(axis=-1).mean()
    assert non_white > 0.15, f"{path.name}: only {non_white:.0%} of pixels drawn"


def test_distance_classes() -> None:
    cls = maps.distance_class([0, 4999, 5000, 5001, 15000, 39999, 40001, np.nan, np.inf])
    assert cls.tolist() == [0, 0, 0, 1, 2, 3, 4, 5, 5]
    assert len(maps.distance_class_labels("fi")) == len(maps.DISTANCE_COLOURS) + 1


def test_format_number_languages() -> None:
    assert maps.format_number(12345.67, "fi", 1) == "12\u00a0345,7"
    assert maps.format_number(12345.67, "en", 1) == "12,345.7"
    assert maps.format_number(float("nan"), "fi") == ""


def test_write_maps_pngs(demo: api.RunResult, tmp_path: Path) -> None:
    results = _copy_results(demo, tmp_path / "results")
    files = maps.write_maps(results, demo.workspace.config, network=demo.network, services=SERVICES)
    codes = sorted(str(c) for c in demo.gaps.municipalities["code"])
    names = sorted(p.name for p in files)
    assert names == sorted([f"{s}.png" for s in SERVICES] + [f"overview_{c}.png" for c in codes])
    for p in files:
        assert p.parent == results / "maps"
        _assert_png(p)
    assert not list((results / "maps").glob(".*")), "temporary files left behind"
    with pytest.raises(OutputExistsError):
        maps.write_maps(results, demo.workspace.config, services=SERVICES)
    again = maps.write_maps(results, demo.workspace.config, services=SERVICES[:1], lang="en", force=True)
    _assert_png(again[0])


def test_maps_with_proposals_and_roads_frame(demo: api.RunResult, tmp_path: Path) -> None:
    from arjenturva.network import edges_geodataframe

    results = _copy_results(demo, tmp_path / "results")
    _with_proposals(results)
    data = maps.read_map_data(results, demo.workspace.config)
    assert data.new_sites is not None and data.proposals is not None
    roads = edges_geodataframe(demo.network)
    files = maps.write_maps(
        results, demo.workspace.config, roads=roads, services=["health_station"], lang="en"
    )
    for p in files:
        _assert_png(p)


def test_suppressed_cells_not_drawn(demo: api.RunResult, tmp_path: Path) -> None:
    cfg = demo.workspace.config.model_copy(deep=True)
    cfg.export.suppress_below = 50
    data = maps.read_map_data(demo.results_dir, cfg)
    assert len(data.population) > 0
    assert (data.population["population"] >= 50).all()


def test_missing_results(tmp_path: Path, demo: api.RunResult) -> None:
    with pytest.raises(InputFileError, match="results.gpkg"):
        maps.write_maps(tmp_path, demo.workspace.config)


def test_html_map_content(demo: api.RunResult, tmp_path: Path) -> None:
    results = _copy_results(demo, tmp_path / "results")
    _with_proposals(results)
    cfg = demo.workspace.config
    path = maps.write_html_map(results, cfg, lang="fi")
    text = path.read_text(encoding="utf-8")
    for svc in cfg.services.values():
        assert f'"{svc.label.fi}"' in text or svc.label.fi in text
    # proposals' rationale and escaped actor names are in the popups
    assert "Kyläkauppa 45 km päässä" in text
    assert "Reitti &#96;kylään&#96; &amp; takaisin" in text
    assert "Osuuskunta &lt;Testi&gt;" in text and "<Testi>" not in text
    assert "OpenStreetMap" in text
    with pytest.raises(OutputExistsError):
        maps.write_html_map(results, cfg)
    no_tiles = maps.write_html_map(results, cfg, force=True, basemap_tiles=False)
    assert "tile.openstreetmap.org" not in no_tiles.read_text(encoding="utf-8")


def _external_refs(page: str) -> list[str]:
    """``src``/``href`` attributes of script and link elements that point to the network."""
    return re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?:[^"]+)"', page)


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_html_map_in_headless_chromium(demo: api.RunResult, tmp_path: Path) -> None:
    if maps.find_leaflet_assets() is None:
        pytest.skip(
            "no local Leaflet copy (arjenturva/_vendor/leaflet, $ARJENTURVA_LEAFLET_DIR or libjs-leaflet): "
            "map.html would need a CDN"
        )
    results = _copy_results(demo, tmp_path / "results")
    cfg = demo.workspace.config
    path = maps.write_html_map(results, cfg, lang="en")
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
    labels = re.findall(r'class="leaflet-control-layers-selector"[^>]*><span> ([^<]+)</span>', dom)
    expected = [svc.label.en for svc in cfg.services.values()]
    assert [lab for lab in labels if lab in expected] == expected, labels
    assert len(labels) == len(expected) + 1 + int(cfg.export.basemap_tiles)  # + borders (+ OSM)
    assert "leaflet-interactive" in dom  # vector layers were drawn

    shot = tmp_path / "map.png"
    subprocess.run(
        [*base, "--window-size=1200,900", f"--screenshot={shot}", path.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    _assert_png(shot, size=(1200, 900))

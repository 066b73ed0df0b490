"""Static PNG maps of a results folder (arjenturva.export).

Every test reads a results folder the real pipeline wrote: the demo, with proposals, run once for
this module. Two names of the demo are changed before the run so that the escaping of user text
can be checked: a service point's name holds a ``<script>`` element, and an actor's name holds
HTML and JavaScript template characters (it reaches the point popups and the proposals'
rationales).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arjenturva import api, labels
from arjenturva import results as R
from arjenturva.errors import InputFileError, OutputExistsError
from arjenturva.export import mapdata, mapframe, static_maps

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

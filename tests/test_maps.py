"""Static PNG maps of a results folder (arjenturva.export).

Every test reads a results folder the real pipeline wrote: the demo, with proposals, run once for
this module. The map tests check what the maps show, not only that a PNG was written: each map of
one recorded :func:`write_maps` call is kept as its legend (the entries ``draw_legend`` received)
and the artists on its axes, so the legend can be checked against the layers actually drawn in
the frame, the colour classes against each cell's threshold, the gap outlines, the name labels'
extents and each map's frame.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from arjenturva import api, labels
from arjenturva import results as R
from arjenturva.config import ServiceConfig
from arjenturva.errors import InputFileError, OutputExistsError
from arjenturva.export import (
    mapdata,
    mapframe,
    mapframing,
    maplabels,
    maplegend,
    maptext,
    mapworkers,
    static_maps,
)

SERVICES = ["health_station", "grocery"]
#: Services of the recorded run: post has proposed mobile and remote services on the demo.
RECORDED = ["health_station", "grocery", "post", "school"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> api.RunResult:
    """The demo workspace run through gaps and proposals once for this module."""
    ws = tmp_path_factory.mktemp("maps_demo")
    config = api.copy_demo(ws / "ws")
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


@dataclass(frozen=True)
class MapRecord:
    """What one map drew, taken from the figure just before it was saved."""

    legend: frozenset[str]  # gids of the legend's handles
    drawn: frozenset[str]  # gids of the artists with something in the frame (cells: one per colour)
    extent: tuple[float, float, float, float]  # x0, y0, x1, y1 of the map axes
    label_boxes: list[tuple[str, Any]]  # (text, window extent) of every name label drawn
    gap_outlines: list[tuple[float, float, float, float]]  # bounds of each gap outline ring
    texts: list[str]  # every text of the figure and its legend
    collections: list[str]  # gid of each collection on the map axes, in drawing order
    symbols: dict[str, np.ndarray]  # display positions of each point collection's symbols, by gid
    furniture: list[Any]  # display extents of the scale bar's box and the north arrow on the map
    place_boxes: list[Any]  # window extents of the place names
    to_display: Any  # map units (n, 2) to display coordinates


def _in_view(coll: Any, frame: Any) -> bool:
    """Whether a collection has anything inside the frame (a shapely box in map units)."""
    import shapely
    from matplotlib.collections import PathCollection

    if isinstance(coll, PathCollection):
        xy = np.asarray(coll.get_offsets(), dtype=float).reshape(-1, 2)
        return bool(shapely.intersects(frame, shapely.points(xy)).any()) if len(xy) else False
    for path in coll.get_paths():
        v = np.asarray(path.vertices, dtype=float)
        geom = shapely.Point(v[0]) if len(v) == 1 else shapely.LineString(v)
        if frame.intersects(geom):
            return True
    return False


def _record(fig: Any, sections: list[maplegend.Section], stamps: list[maptext.Stamp]) -> MapRecord:
    import shapely
    from matplotlib.collections import PathCollection
    from matplotlib.colors import to_hex
    from matplotlib.transforms import Bbox

    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    frame = shapely.box(x0, y0, x1, y1)
    drawn: set[str] = set()
    gaps: list[tuple[float, float, float, float]] = []
    for coll in ax.collections:
        gid = coll.get_gid()
        if gid is None or gid == "land" or not _in_view(coll, frame):
            continue
        if gid == "cells":
            drawn |= {f"cells:{to_hex(c, keep_alpha=False)}" for c in coll.get_facecolors()}
        else:
            drawn.add(gid)
        if gid == "gaps":
            gaps += [tuple(p.get_extents().extents) for p in coll.get_paths()]  # type: ignore[misc]
    fig.draw_without_rendering()

    def stamped(gid: str) -> list[tuple[str, Any]]:
        return [(s.text, Bbox.from_extents(*s.box)) for s in stamps if s.gid.startswith(gid)]

    boxes = [(t.get_text(), t.get_window_extent()) for t in ax.texts if str(t.get_gid()).startswith("label:")]
    boxes += stamped("label:")
    legend = frozenset(h.get_gid() for _, entries in sections for h, _ in entries)
    texts = [t.get_text() for t in fig.texts] + [s.text for s in stamps]
    collections = [str(c.get_gid()) for c in ax.collections]
    symbols = {
        str(c.get_gid()): ax.transData.transform(np.asarray(c.get_offsets(), dtype=float).reshape(-1, 2))
        for c in ax.collections
        if isinstance(c, PathCollection)
    }
    # the scale bar's box and numbers and the north arrow, when they are on the map
    furniture = [p.get_window_extent() for p in ax.patches]
    furniture += [t.get_window_extent() for t in ax.texts if t.get_gid() is None]
    furniture += [box for _, box in stamped("scale")] if ax.patches else []
    places = [box for _, box in stamped("label:place")]
    to_display = ax.transData.frozen().transform
    return MapRecord(
        legend,
        frozenset(drawn),
        (x0, y0, x1, y1),
        boxes,
        gaps,
        texts,
        collections,
        symbols,
        furniture,
        places,
        to_display,
    )


@pytest.fixture(scope="module")
def roads(demo: api.RunResult) -> Any:
    from arjenturva.network import edges_geodataframe

    return edges_geodataframe(demo.network)


def _record_maps(
    results: Path, config: Any, roads: Any, services: list[str], lang: str
) -> dict[str, MapRecord]:
    """Every map of one ``write_maps`` call drawn in this process, recorded just before saving."""
    records: dict[str, MapRecord] = {}
    pending: list[list[maplegend.Section]] = []
    real_legend, real_save = static_maps.draw_legend, static_maps.save_png

    def legend(fig: Any, sections: list[maplegend.Section], **kw: Any) -> list[maptext.Stamp]:
        pending.append(sections)
        return real_legend(fig, sections, **kw)

    def save(fig: Any, path: Path, dpi: int, stamps: list[maptext.Stamp]) -> Path:
        records[path.name] = _record(fig, pending.pop(), stamps)
        return real_save(fig, path, dpi, stamps)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(static_maps, "draw_legend", legend)
        mp.setattr(static_maps, "save_png", save)
        static_maps.write_maps(results, config, roads=roads, services=services, lang=lang, workers=1)
    return records


@pytest.fixture(scope="module")
def recorded(
    demo: api.RunResult, roads: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, MapRecord]]:
    """Every map of one ``write_maps`` call (with roads, proposals and places), by file name."""
    results = _copy_results(demo, tmp_path_factory.mktemp("recorded") / "results")
    yield _record_maps(results, demo.workspace.config, roads, RECORDED, "fi")


def test_cells_are_one_collection(demo: api.RunResult, recorded: dict[str, MapRecord]) -> None:
    """Whatever the number of cells, a map draws them as one collection, and every layer as one
    collection (one per road group or mode), not one artist per feature."""
    assert len(mapdata.read_map_data(demo.results_dir, demo.workspace.config).population) > 500
    for name, rec in recorded.items():
        assert rec.collections.count("cells") == 1, name
        assert len(rec.collections) == len(set(rec.collections)) + rec.collections.count("land") - 1, name
        assert len(rec.collections) < 25, name


def test_polygon_paths_keep_parts_and_holes() -> None:
    import shapely

    square = shapely.box(0, 0, 10, 10)
    holed = square.difference(shapely.box(4, 4, 6, 6))
    two = shapely.MultiPolygon([shapely.box(20, 0, 21, 1), shapely.box(30, 0, 31, 1)])
    geoms = np.array([holed, two, square], dtype=object)
    one_each = mapframe.polygon_paths(geoms)
    assert [int((p.codes == p.MOVETO).sum()) for p in one_each] == [2, 2, 1]
    assert all(int((p.codes == p.CLOSEPOLY).sum()) == int((p.codes == p.MOVETO).sum()) for p in one_each)
    by_group = mapframe.polygon_paths(geoms, np.array([1, 0, 1]))
    assert [int((p.codes == p.MOVETO).sum()) for p in by_group] == [2, 3]  # group 0, then group 1
    assert by_group[0].get_extents().bounds == pytest.approx((20, 0, 11, 1))
    # the hole stays empty whichever way the source rings run (Agg fills by the nonzero rule)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    same_way = shapely.Polygon(holed.exterior.coords, [holed.interiors[0].coords[::-1]])
    for polygon in (holed, same_way):
        fig = Figure(figsize=(1, 1), dpi=100)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        paths = mapframe.polygon_paths(np.array([polygon], dtype=object))
        ax.add_collection(mapframe.patch_collection(paths, gid="x", facecolor="black"))
        canvas.draw()
        pixels = np.asarray(canvas.buffer_rgba())[..., :3]
        assert pixels[50, 50].tolist() == [255, 255, 255] and pixels[20, 20].tolist() == [0, 0, 0]


def _square(offset: int, job: int) -> int:
    return offset + job * job


def test_draw_all_keeps_the_order_in_workers() -> None:
    seen: list[int] = []
    jobs = list(range(9))
    assert mapworkers.draw_all(_square, 100, jobs, workers=2, done=seen.append) == [100 + j * j for j in jobs]
    assert sorted(seen) == jobs
    assert mapworkers.draw_all(_square, 0, jobs, workers=1) == [j * j for j in jobs]
    assert mapworkers.worker_count(3) == 1  # too few maps to share
    assert mapworkers.worker_count(5, workers=8) == 5
    assert mapworkers.worker_count(0) == 1


def _die_in_workers(parent: int, job: int) -> int:
    if os.getpid() != parent:
        os._exit(1)  # a worker killed mid-way
    return job


def _fail_on_99(_layers: None, job: int) -> int:
    if job == 99:
        msg = "no such map"
        raise ValueError(msg)
    return job


def test_draw_all_after_a_worker_died_and_on_errors() -> None:
    """What dead workers did not draw is drawn in this process; a drawing's error is raised."""
    seen: list[int] = []
    jobs = list(range(6))
    assert mapworkers.draw_all(_die_in_workers, os.getpid(), jobs, workers=2, done=seen.append) == jobs
    assert sorted(seen) == jobs
    with pytest.raises(ValueError, match="no such map"):
        mapworkers.draw_all(_fail_on_99, None, [1, 99, 2, 3], workers=2)


def test_maps_drawn_in_workers_are_the_same_bytes(
    demo: api.RunResult, roads: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Maps drawn in two worker processes are byte-identical to those drawn in this process."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    cfg = demo.workspace.config
    drawn = {}
    for workers in (1, 2):
        results = _copy_results(demo, tmp_path / f"results{workers}")
        messages: list[str] = []
        files = static_maps.write_maps(
            results, cfg, roads=roads, services=SERVICES, workers=workers, progress=messages.append
        )
        assert len(messages) == len(files) and len(files) >= 4
        drawn[workers] = {p.name: p.read_bytes() for p in files}
        assert [p.name for p in files] == list(drawn[workers])
    assert list(drawn[1]) == list(drawn[2])  # the same files in the same order
    assert [n for n in drawn[1] if drawn[1][n] != drawn[2][n]] == []


def test_lacking_classes() -> None:
    assert mapdata.lacking_class(np.array([0, 1, 2, 3, 6, 7, 12])).tolist() == [0, 1, 1, 2, 3, 4, 4]
    assert mapdata.lacking_class_labels() == ["0", "1–2", "3–4", "5–6", "7+"]


def _worst(summary: pd.DataFrame, code: str, services: list[str], n: int) -> list[str]:
    """The services with most uncovered demand in a municipality, computed here independently."""
    rows = summary.loc[(summary["municipality"].astype(str) == code) & summary["service"].isin(services)]
    rows = rows.loc[rows["uncovered_demand"] > 0]
    return rows.sort_values("uncovered_demand", ascending=False)["service"].head(n).tolist()


def test_write_maps_pngs(demo: api.RunResult, tmp_path: Path) -> None:
    results = _copy_results(demo, tmp_path / "results")
    cfg = demo.workspace.config
    files = static_maps.write_maps(results, cfg, network=demo.network, services=SERVICES)
    codes = sorted(str(c) for c in demo.gaps.municipalities["code"])
    summary = R.read_table(results, R.SUMMARY)
    per_muni = [
        R.municipality_service_map_file(c, s)
        for c in codes
        for s in _worst(summary, c, SERVICES, cfg.export.municipality_maps)
    ]
    assert per_muni, "the demo's municipalities have uncovered demand"
    names = sorted(p.name for p in files)
    assert names == sorted([f"{s}.png" for s in SERVICES] + [f"overview_{c}.png" for c in codes] + per_muni)
    for p in files:
        assert p.parent == results / R.MAPS_DIR
        _assert_png(p)
    assert not list((results / R.MAPS_DIR).glob(".*")), "temporary files left behind"
    with pytest.raises(OutputExistsError):
        static_maps.write_maps(results, cfg, services=SERVICES)
    again = static_maps.write_maps(results, cfg, services=SERVICES[:1], lang="en", force=True)
    _assert_png(again[0])


def test_municipality_maps_worst_services_only(demo: api.RunResult, tmp_path: Path) -> None:
    """With ``export.municipality_maps = 2`` each municipality gets maps of its two services with
    most uncovered demand, and of no other."""
    results = _copy_results(demo, tmp_path / "results")
    cfg = demo.workspace.config.model_copy(deep=True)
    cfg.export.municipality_maps = 2
    services = list(cfg.services)
    files = static_maps.write_maps(results, cfg, services=services)
    summary = R.read_table(results, R.SUMMARY)
    for code in (str(c) for c in demo.gaps.municipalities["code"]):
        worst = _worst(summary, code, services, 2)
        assert len(worst) == 2
        got = sorted(p.name for p in files if p.name.startswith(f"{code}_"))
        assert got == sorted(R.municipality_service_map_file(code, s) for s in worst)
        assert mapdata.worst_services(summary, code, services, 2) == worst
    cfg.export.municipality_maps = 0
    none = static_maps.write_maps(results, cfg, services=SERVICES, force=True)
    assert not [p for p in none if p.name[0].isdigit()]


def test_worst_services_skips_covered_and_limits() -> None:
    summary = pd.DataFrame(
        {
            "municipality": ["001", "001", "001", "001", "002"],
            "service": ["a", "b", "c", "ALL", "a"],
            "uncovered_demand": [10.0, 0.0, 30.0, np.nan, 99.0],
        }
    )
    assert mapdata.worst_services(summary, "001", ["a", "b", "c"], 5) == ["c", "a"]
    assert mapdata.worst_services(summary, "001", ["a", "b", "c"], 1) == ["c"]
    assert mapdata.worst_services(summary, "001", ["a", "b"], 5) == ["a"]
    assert mapdata.worst_services(summary, "003", ["a"], 5) == []


def test_legend_lists_exactly_what_is_drawn(recorded: dict[str, MapRecord], roads: Any) -> None:
    """Each legend entry has an artist with something in the frame, and each such artist has its
    legend entry: cell classes by colour, modes, road groups, gap outlines, proposals, places."""
    import shapely

    ferries = roads.loc[roads["road_class"].map(mapdata.road_group) == "ferry"]
    assert not ferries.empty, "the demo has a ferry"
    with_ferry = without_ferry = 0
    for name, rec in recorded.items():
        assert rec.legend == rec.drawn, name
        assert "border" in rec.legend, name
        ferry_in_frame = bool(ferries.intersects(shapely.box(*rec.extent)).any())
        assert ("road:ferry" in rec.legend) == ferry_in_frame, name
        with_ferry += ferry_in_frame
        without_ferry += not ferry_in_frame
    assert with_ferry and without_ferry, "maps with and without the ferry in their frame"
    everything = set().union(*(r.legend for r in recorded.values()))
    for key in ("new_sites", "proposal:mobile", "proposal:remote", "places", "gaps", "mode:remote"):
        assert key in everything, key
    # the regional map of post draws the proposed remote service points of the demo
    assert "proposal:remote" in recorded["post.png"].legend


def test_routes_are_drawn_on_the_maps_of_routed_services(
    demo: api.RunResult, recorded: dict[str, MapRecord]
) -> None:
    """The weekly routes are drawn (one line collection above the roads and below the points,
    their stops as symbols, both in the legend) on the maps of services offered at a route stop
    and on the overviews, and on no map of a service no route stop offers."""
    stops = R.read_layer(demo.results_dir, R.ROUTE_STOPS)
    routed = {s for v in stops["services"] for s in str(v).split(";") if s}
    assert "health_station" in routed and "school" not in routed, routed
    t = labels.ui("fi")
    for name, rec in recorded.items():
        service = None if name.startswith("overview_") else name.removesuffix(".png").split("_", 1)[-1]
        if name.removesuffix(".png") in RECORDED:
            service = name.removesuffix(".png")
        expected = service is None or service in routed
        if not expected:
            assert not {"routes", "route_stops"} & rec.legend, name
            assert "routes" not in rec.collections, name
            continue
        if "routes" not in rec.drawn:  # a municipality's frame may hold none of them
            assert service is not None, name
            continue
        assert {"routes", "route_stops"} <= rec.legend, name
        assert t["legend_route"] in rec.texts and t["legend_route_stop"] in rec.texts, name
        order = rec.collections
        assert rec.collections.count("routes") == 1, name
        last_road = max(i for i, g in enumerate(order) if g.startswith("road:"))
        first_point = min(i for i, g in enumerate(order) if g.startswith("mode:"))
        assert last_road < order.index("routes") < first_point, name
    assert "routes" in recorded["health_station.png"].legend
    assert "routes" not in recorded["school.png"].legend


def test_route_layers_keep_the_vehicles_stopping_for_the_service(demo: api.RunResult) -> None:
    """A service's map shows the routes of exactly the vehicles with a stop offering it, and
    those stops; an overview shows every route."""
    data = mapdata.read_map_data(demo.results_dir, demo.workspace.config)
    assert data.routes is not None and data.route_stops is not None
    stops = R.read_layer(demo.results_dir, R.ROUTE_STOPS)
    for service in ("health_station", "grocery", "school"):
        offering = stops.loc[[service in str(v).split(";") for v in stops["services"]]]
        vehicles = {v for value in offering["vehicles"] for v in str(value).split(";") if v}
        lines, shown = mapdata.route_layers(data, service)
        assert lines is not None and shown is not None
        assert set(lines["vehicle_id"].astype(str)) == vehicles, service
        assert sorted(shown["stop_id"]) == sorted(offering["stop_id"]), service
    lines, shown = mapdata.route_layers(data, None)
    assert lines is not None and len(lines) == len(data.routes)
    bare = mapdata.MapData(data.population, data.gap_areas, data.service_points, data.municipalities)
    assert mapdata.route_layers(bare, "grocery") == (None, None)


def test_legend_of_a_map_without_ferry_or_proposals(
    demo: api.RunResult, roads: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A map whose frame holds no ferry and whose results hold no proposals lists neither."""
    results = _copy_results(demo, tmp_path / "results")
    sections: list[list[maplegend.Section]] = []
    monkeypatch.setattr(static_maps, "draw_legend", lambda fig, s, **kw: sections.append(s) or [])
    data = mapdata.read_map_data(results, demo.workspace.config)
    bare = mapdata.MapData(data.population, data.gap_areas, data.service_points, data.municipalities)
    no_ferry = roads.loc[roads["road_class"].map(mapdata.road_group) != "ferry"]
    tiles = maptext.TextTiles(150)
    layers = static_maps._Layers(bare, no_ferry, demo.workspace.config, "en", (), tiles)
    frame = mapframing.build_frame(bare, no_ferry, 150, None)
    static_maps._service_map(layers, frame, "grocery", path=tmp_path / "g.png")
    keys = {h.get_gid() for _, entries in sections[0] for h, _ in entries}
    assert "road:ferry" not in keys and "road:local" in keys
    assert not {k for k in keys if k.startswith("proposal") or k in ("new_sites", "places")}


def test_reach_classes_break_at_each_cells_threshold() -> None:
    """The colour classes break at the cell's own threshold: the same distance is inside for one
    area class and beyond for another, and a cell just inside and one just beyond differ."""
    svc = ServiceConfig(label={"fi": "x", "en": "x"}, threshold_km={"default": 10, "M7": 20})
    pop = pd.DataFrame(
        {
            "area_class": ["M7", "M7", "M5", "M5", None, "M5", "M5", "M5"],
            "x_distance_m": [19_999, 20_001, 9_999, 10_001, 4_000, 25_000, np.nan, 8_000],
            "x_time_s": [0.0] * 8,
        }
    )
    ratio = mapdata.threshold_ratio(pop, "x", svc)
    np.testing.assert_allclose(ratio[:6], [0.99995, 1.00005, 0.9999, 1.0001, 0.4, 2.5])
    assert np.isinf(ratio[6])
    coverage = np.array([1, 0, 1, 0, 1, 0, 0, 0.5])
    cls = mapdata.reach_class(ratio, coverage)
    assert cls.tolist() == [1, 3, 1, 3, 0, 4, mapdata.REACH_UNREACHABLE, mapdata.REACH_PARTIAL]
    # a time threshold counts too: the larger ratio decides
    both = ServiceConfig(
        label={"fi": "x", "en": "x"}, threshold_km={"default": 10}, threshold_min={"default": 10}
    )
    timed = pop.assign(x_time_s=[0, 0, 0, 0, 900, 0, 0, 0])
    assert mapdata.threshold_ratio(timed, "x", both)[4] == pytest.approx(1.5)
    # one threshold for every cell: the legend gives the kilometres of each break
    names = mapdata.reach_class_labels(
        ServiceConfig(label={"fi": "x", "en": "x"}, threshold_km={"default": 10}), "en"
    )
    assert names[1].endswith("(5–10 km)") and names[3].endswith("(10–20 km)")
    assert len(names) == len(mapdata.REACH_COLOURS)


def test_reach_classes_on_the_demo(demo: api.RunResult) -> None:
    """Green classes hold exactly the cells the coverage analysis counts as covered."""
    data = mapdata.read_map_data(demo.results_dir, demo.workspace.config)
    for sid, svc in demo.workspace.config.services.items():
        pop = data.population
        cov = pop[f"{sid}_coverage"].to_numpy(dtype=float)
        ratio = mapdata.threshold_ratio(pop, sid, svc)
        cls = mapdata.reach_class(ratio, cov)
        assert (np.isin(cls, [0, 1]) == (cov >= 1)).all(), sid
        assert (ratio[cov >= 1] <= 1 + 1e-9).all(), sid
        assert (ratio[np.isin(cls, [3, 4])] > 1).all(), sid


def _rgb(colour: str) -> np.ndarray:
    from matplotlib.colors import to_rgb

    return np.array(to_rgb(colour))


def test_class_colours_stand_out() -> None:
    """Every cell colour differs clearly from the land fills and the sea, and from each other."""
    grounds = [mapdata.LAND_COLOUR, mapdata.OTHER_LAND_COLOUR, mapdata.SEA_COLOUR]
    for scale in (mapdata.REACH_COLOURS, mapdata.LACKING_COLOURS):
        for c in scale:
            for g in grounds:
                assert np.linalg.norm(_rgb(c) - _rgb(g)) > 0.3, (c, g)
        for a, b in itertools.combinations(scale, 2):
            assert np.linalg.norm(_rgb(a) - _rgb(b)) > 0.15, (a, b)


def test_single_cell_gap_areas_have_no_outline(demo: api.RunResult, recorded: dict[str, MapRecord]) -> None:
    gaps = R.read_layer(demo.results_dir, R.GAP_AREAS)
    assert (gaps["cells"] == 1).sum() > 100, "the demo has many one-cell gap areas"
    assert mapdata.outlined_gaps(pd.DataFrame({"cells": [1, 2, 3, 40]})).tolist() == [
        False,
        False,
        True,
        True,
    ]
    for sid in RECORDED:
        outlines = {tuple(round(v) for v in b) for b in recorded[f"{sid}.png"].gap_outlines}
        ours = gaps.loc[gaps["service"] == sid]
        big = ours.loc[ours["cells"] >= mapdata.GAP_OUTLINE_MIN_CELLS]
        assert outlines, sid
        for geom in ours.loc[ours["cells"] == 1].geometry:
            assert tuple(round(v) for v in geom.bounds) not in outlines, sid
        # every ring drawn belongs to a big area
        rings = {
            tuple(round(v) for v in ring.bounds)
            for g in big.geometry
            for part in getattr(g, "geoms", [g])
            for ring in [part.exterior, *part.interiors]
        }
        assert outlines <= rings, sid


def test_name_labels_do_not_overlap(demo: api.RunResult, recorded: dict[str, MapRecord]) -> None:
    places = R.read_layer(demo.results_dir, R.PLACES)
    munis = R.read_layer(demo.results_dir, R.MUNICIPALITIES)
    names = set(places["name"]) | set(munis["name"])
    for name, rec in recorded.items():
        texts = [text for text, _ in rec.label_boxes]
        assert set(texts) <= names, name
        assert len(texts) >= 5, f"{name}: only {texts}"
        for (a, box_a), (b, box_b) in itertools.combinations(rec.label_boxes, 2):
            assert not box_a.overlaps(box_b), f"{name}: {a!r} overlaps {b!r}"
    regional = [text for text, _ in recorded["health_station.png"].label_boxes]
    assert set(munis["name"]) <= set(regional)
    assert len(set(regional) & set(places["name"])) >= len(places) // 2


def test_municipality_maps_are_framed_on_it(demo: api.RunResult, recorded: dict[str, MapRecord]) -> None:
    munis = R.read_layer(demo.results_dir, R.MUNICIPALITIES)
    cfg = demo.workspace.config
    summary = R.read_table(demo.results_dir, R.SUMMARY)
    for code, geom in zip(munis["code"].astype(str), munis.geometry, strict=True):
        own = [n for n in recorded if n.startswith(f"{code}_")]
        worst = _worst(summary, code, RECORDED, cfg.export.municipality_maps)
        assert sorted(own) == sorted(R.municipality_service_map_file(code, s) for s in worst)
        for name in [*own, R.overview_map_file(code)]:
            x0, y0, x1, y1 = recorded[name].extent
            b0, c0, b1, c1 = geom.bounds
            assert x0 <= b0 and y0 <= c0 and x1 >= b1 and y1 >= c1, name  # all of it is shown
            # and framed on it: the tighter side has at most a 15 % margin
            assert min((x1 - x0) / (b1 - b0), (y1 - y0) / (c1 - c0)) < 1.15, name
    region = munis.total_bounds
    x0, y0, x1, y1 = recorded["health_station.png"].extent
    assert x0 <= region[0] and x1 >= region[2] and y0 <= region[1] and y1 >= region[3]


def test_png_words_and_synthetic_note(demo: api.RunResult, recorded: dict[str, MapRecord]) -> None:
    """Every PNG names the modes in the one mode wording and carries the run's credits."""
    assert demo.workspace.config.synthetic
    for name, rec in recorded.items():
        page = "\n".join(rec.texts)
        assert labels.SYNTHETIC.fi in page, name
        assert labels.MODE["fixed"].fi in rec.texts, name
    assert "Kysyntä: koko väestö" in "\n".join(recorded["health_station.png"].texts)
    head = labels.ui("fi")["legend_reach"]
    assert any(head in t.replace("\n", " ") for t in recorded["grocery.png"].texts)
    code = str(demo.gaps.municipalities["code"].iloc[0])
    muni = next(r for n, r in recorded.items() if n.startswith(f"{code}_"))
    assert any(labels.ui("fi")["uncovered"] in t for t in muni.texts)


def test_long_credits_wrap(demo: api.RunResult) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    credits = [f"Source number {i} © Some Agency (CC BY 4.0)" for i in range(8)]
    tiles = maptext.TextTiles(100)
    stamps = mapframe.draw_titles(
        fig, "T", "S", lang="en", config=demo.workspace.config, credits=credits, tiles=tiles
    )
    lines = [s.text for s in stamps[1:]]
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


# --- names, scale bar and north arrow -----------------------------------------------------------------


def _symbols_in(box: Any, xy: np.ndarray) -> bool:
    return bool(((xy[:, 0] > box.x0) & (xy[:, 0] < box.x1) & (xy[:, 1] > box.y0) & (xy[:, 1] < box.y1)).any())


def test_place_names_known_answers() -> None:
    """On a frame of one map unit per pixel at 72 dpi (1 pt = 1 px): a place's name goes right of
    its dot (beside a symbol standing on it), left when a symbol blocks the right, above when both
    sides are blocked, and
    not at all when its dot lies under an earlier name; a municipality's name sits on the pole of
    its area and moves off a symbol there, still inside it."""
    w, h = mapframe.map_axes_px()
    extent = (0.0, 0.0, w, h)
    style = maptext.TextStyle(10.0, halo=True)

    def place(points: list[tuple[float, float]], symbols: list[tuple[float, float]], areas: Any = ()) -> Any:
        cands = maplabels.Candidates(
            tuple(areas),
            tuple(maplabels.PointName(f"P{i}", x, y, style, "p") for i, (x, y) in enumerate(points)),
        )
        xy = np.array(symbols, dtype=float).reshape(-1, 2)
        return maplabels.place_names(extent, 72, cands, symbols=xy, symbol_radius_px=np.full(len(xy), 3.0))

    free = place([(600.0, 500.0)], [])
    (lab,) = free.labels
    assert lab.y == pytest.approx(500.0) and lab.x > 600.0
    assert free.dots.tolist() == [[600.0, 500.0]]
    left = place([(600.0, 500.0)], [(lab.x, 500.0)])
    assert left.labels[0].y == pytest.approx(500.0) and left.labels[0].x < 600.0
    up = place([(600.0, 500.0)], [(lab.x, 500.0), (1200.0 - lab.x, 500.0)])
    assert up.labels[0].y > 500.0 and up.labels[0].x == pytest.approx(600.0)
    # a service point standing on the place: the name goes beside the symbol, not under it
    cands = maplabels.Candidates((), (maplabels.PointName("P0", 600.0, 500.0, style, "p"),))
    big = np.array([[600.0, 500.0]])
    (beside,) = maplabels.place_names(
        extent, 72, cands, symbols=big, symbol_radius_px=np.array([10.0])
    ).labels
    assert beside.y == pytest.approx(500.0) and beside.x - lab.x == pytest.approx(10.0 + 2.5 - 5.5)
    # near the right edge the name goes left, inside the map
    edge = place([(w - 12.0, 300.0)], [])
    assert edge.labels[0].x < w - 12.0
    # a square municipality: its name on the centre, moved (inside) off a symbol there
    import shapely

    square = maplabels.AreaName(
        "Kunta", shapely.box(200, 200, 400, 400), maptext.TextStyle(13.0, bold=True, halo=True), "a"
    )
    (centre,) = place([], [], [square]).labels
    assert (centre.x, centre.y) == pytest.approx((300.0, 300.0), abs=1.0)
    (moved,) = place([], [(300.0, 300.0)], [square]).labels
    assert 200.0 < moved.x < 400.0 and 200.0 < moved.y < 400.0  # still inside the municipality
    assert abs(moved.x - 300.0) > 20.0 or abs(moved.y - 300.0) > 7.0  # off the symbol (13 pt text)
    # a place whose dot is under the municipality's name is not named
    hidden = place([(300.0, 300.0)], [], [square])
    assert [lab.text for lab in hidden.labels] == ["Kunta"] and len(hidden.dots) == 0


def test_furniture_goes_where_nothing_is() -> None:
    w, h = mapframe.map_axes_px()
    extent = (0.0, 0.0, w * 100.0, h * 100.0)
    free = maplegend.choose_furniture(extent, 150, lambda b: 0.0)
    assert (free.scale_corner, free.arrow_corner, free.outside) == ("ll", "ur", False)
    left_full = maplegend.choose_furniture(extent, 150, lambda b: 1.0 if b[0] < extent[2] / 2 else 0.0)
    assert (left_full.scale_corner, left_full.arrow_corner) == ("lr", "ur")
    one_free = maplegend.choose_furniture(
        extent, 150, lambda b: 0.0 if b[0] < extent[2] / 2 and b[1] < 1 else 1.0
    )
    assert one_free.outside  # the arrow has no free corner left: both go below the legend
    assert maplegend.choose_furniture(extent, 150, lambda b: 1.0).outside
    assert maplegend.scale_length_m(100_000) == 25_000 and maplegend.scale_length_m(900_000) == 200_000


def _cells_drawn(name: str, pop: Any) -> Any:
    """The cells a recorded map draws: its municipality's (``overview_<code>.png``,
    ``<code>_<service>.png``), or all of them (``<service>.png``)."""
    code = name.removeprefix("overview_").removesuffix(".png").split("_")[0]
    return pop.loc[pop["municipality"].astype(str) == code] if code.isdigit() else pop


def _meets(box: Any, corners: np.ndarray) -> bool:
    """Whether a display box meets any of the boxes (x0, y0, x1, y1) in ``corners``."""
    c = corners
    return bool(((c[:, 0] < box.x1) & (c[:, 2] > box.x0) & (c[:, 1] < box.y1) & (c[:, 3] > box.y0)).any())


def test_names_and_furniture_keep_off_the_data(demo: api.RunResult, recorded: dict[str, MapRecord]) -> None:
    """No place name covers a point symbol, and the scale bar and north arrow cover no symbol
    and no population cell of the map."""
    pop = mapdata.read_map_data(demo.results_dir, demo.workspace.config).population
    for name, rec in recorded.items():
        hard = [xy for gid, xy in rec.symbols.items() if gid not in ("cells", "places")]
        points = np.vstack(hard) if hard else np.zeros((0, 2))
        assert len(points), name
        for box in rec.place_boxes:
            assert not _symbols_in(box, points), name
        assert rec.furniture, name
        bounds = np.array([g.bounds for g in _cells_drawn(name, pop).geometry])
        cells = np.hstack([rec.to_display(bounds[:, :2]), rec.to_display(bounds[:, 2:])])
        for box in rec.furniture:
            assert not _symbols_in(box, points), name
            assert not _meets(box, cells), name


# --- a study area with context around it -------------------------------------------------------------


@dataclass(frozen=True)
class Regional:
    """The demo with Kaarnavaara (996) studied and Routajärvi (997) as context, one of 996's
    service points moved beyond the snap tolerance, and its maps recorded."""

    run: api.RunResult
    records: dict[str, MapRecord]
    moved: tuple[str, float, float]  # point id and its place (map units)


def _far_from_roads(config: Path, code: str) -> tuple[float, float]:
    """A cell centre of municipality ``code`` more than the snap tolerance from every road."""
    import geopandas as gpd
    import shapely

    from arjenturva.network import edges_geodataframe

    ws = api.load_workspace(config)
    roads = shapely.union_all(edges_geodataframe(api.build_network(ws.config)).geometry.to_numpy())
    cells = gpd.read_file(config.parent / "population.gpkg").to_crs(3067)
    munis = gpd.read_file(config.parent / "municipalities.gpkg").to_crs(3067)
    area = munis.loc[munis["code"] == code].geometry.iloc[0]
    centres = cells.geometry.centroid
    far = centres[
        centres.within(area) & (centres.distance(roads) > ws.config.network.snap_tolerance_m + 1000)
    ]
    p = far.iloc[0]
    return float(p.x), float(p.y)


def study_area_demo(root: Path) -> tuple[api.RunResult, tuple[str, float, float]]:
    """The demo with only Kaarnavaara (996) studied (Routajärvi, 997, is context) and its health
    station KA01 moved more than the snap tolerance from every road, run through gaps; returns
    the run and (point id, x, y) of the moved point."""
    import geopandas as gpd
    import shapely

    config = api.copy_demo(root / "ws")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("inputs:", "study_area: ['996']\ninputs:", 1), encoding="utf-8")
    x, y = _far_from_roads(config, "996")
    lonlat = gpd.GeoSeries([shapely.Point(x, y)], crs=3067).to_crs(4326).iloc[0]
    points = pd.read_csv(config.parent / "service_points.csv", dtype=str, keep_default_na=False)
    moved = points.loc[points["point_id"] == "KA01"].index[0]
    points.loc[moved, ["lon", "lat"]] = [f"{lonlat.x:.6f}", f"{lonlat.y:.6f}"]
    points.to_csv(config.parent / "service_points.csv", index=False)
    run = api.run_pipeline(config, out_dir=root / "results", with_proposals=False, with_maps=False)
    return run, ("KA01", x, y)


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> Regional:
    run, moved = study_area_demo(tmp_path_factory.mktemp("regional"))
    from arjenturva.network import edges_geodataframe

    roads = edges_geodataframe(run.network)
    records = _record_maps(run.results_dir, run.workspace.config, roads, ["health_station"], "en")
    return Regional(run, records, moved)


def test_maps_of_a_study_area_are_framed_on_it(regional: Regional) -> None:
    """Only the studied municipality gets maps; every map shows all of it, framed on it (not on
    its context), with the context drawn grey and cut near the frame."""
    munis = R.read_layer(regional.run.results_dir, R.MUNICIPALITIES)
    context = R.read_layer(regional.run.results_dir, R.CONTEXT)
    assert list(munis["code"]) == ["996"] and list(context["code"]) == ["997"]
    assert sorted(regional.records) == sorted(
        ["health_station.png", "overview_996.png", *[n for n in regional.records if n.startswith("996_")]]
    )
    assert not [n for n in regional.records if "997" in n]
    b0, c0, b1, c1 = munis.geometry.iloc[0].bounds
    for name, rec in regional.records.items():
        x0, y0, x1, y1 = rec.extent
        assert x0 <= b0 and y0 <= c0 and x1 >= b1 and y1 >= c1, name
        assert min((x1 - x0) / (b1 - b0), (y1 - y0) / (c1 - c0)) < 1.15, name
        assert "context" in rec.legend and "context" in rec.drawn, name
        assert rec.collections.count("context") == 1, name
    # the context polygons are cut to the frame (grown by a tenth), not drawn whole
    import shapely

    rec = regional.records["overview_996.png"]
    x0, y0, x1, y1 = rec.extent
    pad = 0.1 * max(x1 - x0, y1 - y0) + 1.0
    whole = shapely.box(*context.total_bounds)
    assert not shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad).contains(whole)


def test_unreachable_cells_and_off_road_points_have_their_symbols(regional: Regional) -> None:
    """The crosses stand exactly on the cells the results list as unreachable (the ``unreachable``
    sheet of summary.xlsx), and the point moved beyond the snap tolerance has its own symbol
    instead of its mode's; both are in the legend."""
    results = regional.run.results_dir
    sheet = pd.read_excel(results / R.SUMMARY_XLSX, sheet_name="unreachable", dtype={"id": str})
    cells = sheet.loc[(sheet["layer"] == "population") & (sheet["service"].isna())]
    assert len(cells) > 0
    pop = R.read_layer(results, R.POPULATION).set_index("cell_id")
    listed = pop.loc[cells["id"].astype(str)].geometry.centroid
    rec = regional.records["overview_996.png"]
    assert "unreachable" in rec.legend
    crosses = {tuple(np.round(xy, 3)) for xy in rec.symbols["unreachable"]}
    expected = {tuple(np.round(xy, 3)) for xy in rec.to_display(np.column_stack([listed.x, listed.y]))}
    assert crosses == expected
    # the moved point: off the road network, drawn as such, and not as a fixed service point
    points = R.read_layer(results, R.SERVICE_POINTS).set_index("point_id")
    assert not bool(points.loc["KA01", "snapped"]) and points["snapped"].sum() == len(points) - 1
    _, x, y = regional.moved
    (where,) = rec.to_display(np.array([[x, y]]))
    assert "off_road" in rec.legend
    assert np.abs(rec.symbols["off_road"] - where).max() < 1.0
    assert np.abs(rec.symbols["mode:fixed"] - where).max(axis=1).min() > 1.0
    run = R.read_run(results).raw
    assert run["snapping"]["points_beyond_tolerance"] == 1
    assert "off_road" in regional.records["health_station.png"].legend  # KA01 is a health station


def _count_in_daemon(queue: Any) -> None:
    queue.put(mapworkers.worker_count(40, workers=4))


def test_a_daemonic_process_draws_itself() -> None:
    """In a worker of a pool (a daemonic process, e.g. a Dask worker), maps and reports are drawn
    in the process itself, which may have no children."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_count_in_daemon, args=(queue,), daemon=True)
    child.start()
    child.join(30)
    assert queue.get(timeout=5) == 1
    assert mapworkers.worker_count(40, workers=4) == 4

"""``arjenturva build-workspace`` on the real shared data: Lapland and North Ostrobothnia.

The built workspace is checked against figures computed here independently from the source
files: the municipality count from the municipality key, the population from the postal table's
own municipality labels, the neighbours from the boundary file's neighbour lists, the service
points from the source lists. Skipped when ``../shared/data`` is absent.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from conftest import REPO, SHARED_DATA, requires_shared
from pyproj import Transformer

from arjenturva import api
from arjenturva._cli_build import INPUT_HELP
from arjenturva.builder import (
    SOURCE_SPECS,
    AreaRequest,
    read_sources,
    select_study_area,
    sources_from_mapping,
)
from arjenturva.cli import app
from arjenturva.errors import InputDataError, OutputExistsError, ValidationError

pytestmark = [pytest.mark.shared, requires_shared]

SOURCES = REPO / "examples" / "shared_data_sources.yaml"
REGIONS = ["Lappi", "Pohjois-Pohjanmaa"]
KEY = SHARED_DATA / "statfi-population-tables" / "geofi_municipality_key_2025.csv"
STATS = SHARED_DATA / "statfi-population-tables"
BUFFER_M = 30_000.0


def _key() -> pd.DataFrame:
    key = pd.read_csv(KEY, dtype=str)
    key["code"] = key["kunta"].str.zfill(3)
    return key


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    """Lapland + North Ostrobothnia built once, its files and the loaded workspace."""
    out = tmp_path_factory.mktemp("region") / "ws"
    messages: list[str] = []
    res = api.build_workspace(out, sources=SOURCES, regions=REGIONS, progress=messages.append)
    ws = api.load_workspace(res.config_path)
    return res, ws, messages


def test_study_area_is_the_two_regions_of_the_key(region):
    res, ws, messages = region
    key = _key()
    expected = set(key.loc[key["maakunta_name_fi"].isin(REGIONS), "code"])
    assert len(expected) == 51
    assert set(res.study_area) == expected and len(res.study_area) == 51
    assert ws.config.study_area is not None and set(ws.config.study_area) == expected
    assert set(ws.municipalities["code"]) == expected
    assert set(ws.municipalities["region"]) == set(REGIONS)
    assert messages and all(isinstance(m, str) for m in messages)


def test_population_equals_the_postal_table(region):
    res, ws, _ = region
    key = _key()
    names = set(key.loc[key["maakunta_name_fi"].isin(REGIONS), "municipality_name_fi"])
    cen = pd.read_csv(STATS / "paavo_postal_area_centroids_3067.csv", dtype=str)
    label = cen["Postal code area"]
    cen = pd.DataFrame({"code": label.str[:5], "muni": label.str.extract(r"\(([^)]*)\)\s*$")[0]})
    pop = pd.read_csv(STATS / "statfi_postal_code_population_2022.csv", dtype=str)
    cen = cen.merge(pop, left_on="code", right_on="posti_alue", how="left")
    ours = cen[cen["muni"].isin(names)]
    expected = pd.to_numeric(ours["population_2022"]).sum()
    built = pd.read_csv(res.out_dir / "population.csv", dtype={"cell_id": str})
    # Postal areas labelled with a study municipality, assigned by the 1:4.5M polygons instead:
    # one area (91750, 59 people) falls in a neighbour.
    assert set(built["cell_id"]) <= set(ours["code"])
    assert len(built) >= len(ours) - 2
    assert built["population"].sum() == pytest.approx(expected, rel=5e-4)
    assert ws.population["population"].sum() == built["population"].sum()
    assert res.counts["population"] == built["population"].sum()
    # SOURCE.md's figures (postal centroids inside the 2025 polygons).
    per = ws.population.groupby("municipality")["population"].sum()
    assert per["615"] == 7503 and per["320"] == 6885 and per["614"] == 2924 and per["583"] == 914
    # 65+ estimate: the municipality's Paavo 2018 share (Posio 0.380, SOURCE.md).
    assert ws.population.loc[ws.population["municipality"] == "614", "age_65_plus"].sum() / per["614"] == (
        pytest.approx(0.380, abs=0.002)
    )
    assert set(ws.population["area_class"]) <= {"K2", "M4", "M5", "M6", "M7"}
    assert (ws.population["area_class"] == "K2").any()  # Oulu, Rovaniemi


def test_context_municipalities_are_the_neighbours_without_population(region):
    res, ws, _ = region
    bounds = gpd.read_file(SHARED_DATA / "fi-municipality-boundaries"
                           / "kunta4500k_2025_neighbors_province.geojson")
    study_names = set(ws.municipalities["name"])
    neighbours = {n for name, near in zip(bounds["nimi"], bounds["neighbors"], strict=True)
                  if name in study_names for n in near} - study_names
    assert "Kajaani" in neighbours and "Kokkola" in neighbours
    layer = gpd.read_file(res.out_dir / "municipalities.gpkg")
    context = layer[layer["code"].isin(res.context)]
    assert neighbours <= set(context["name"])
    assert set(layer["code"]) == set(res.study_area) | set(res.context)
    assert ws.context is not None and set(ws.context["code"]) == set(res.context)
    # No population in the context: nothing left out by the loader, no point of theirs written.
    assert ws.left_out.features == 0
    assert set(ws.population["municipality"]) <= set(res.study_area)
    left = res.counts["context_population_left_out"]
    assert left["points"] > 100 and left["people"] > 50_000  # Kajaani, Kokkola, Iisalmi...


def test_every_service_point_is_kept(region):
    res, ws, _ = region
    built = pd.read_csv(res.out_dir / "service_points.csv", dtype=str)
    assert len(ws.service_points) == len(built)  # the loader keeps every point
    # Independently: every source point within 30 km of the study area has a written point of the
    # same service within 100 m (the two OSM lists repeat some facilities).
    to3067 = Transformer.from_crs("EPSG:4326", "EPSG:3067", always_xy=True)
    osm = SHARED_DATA / "fi-health-facilities-osm"
    frames = [pd.read_csv(osm / f).assign(service="health_station")
              for f in ("hospitals_and_health_centres.csv", "primary_care_facilities.csv")]
    cen = pd.read_csv(STATS / "geofi_municipality_central_localities.csv")
    frames.append(pd.DataFrame({"LON": cen["X"], "LAT": cen["Y"], "service": "municipal_centre"}))
    src = pd.concat(frames, ignore_index=True)
    sx, sy = to3067.transform(src["LON"].to_numpy(), src["LAT"].to_numpy())
    study = ws.municipalities.geometry.union_all()
    near = np.array([study.distance(shapely.Point(x, y)) <= BUFFER_M for x, y in zip(sx, sy, strict=True)])
    bx, by = to3067.transform(built["lon"].astype(float).to_numpy(), built["lat"].astype(float).to_numpy())
    for i in np.flatnonzero(near):
        same = (built["services"] == src["service"].iloc[i]).to_numpy()
        d = np.hypot(bx[same] - sx[i], by[same] - sy[i])
        assert d.min() < 100, src.iloc[i].to_dict()
    assert near.sum() >= 100
    counts = built["services"].value_counts()
    assert counts["municipal_centre"] >= 51  # every study municipality has its centre
    assert res.counts["service_points"] == {k: int(v) for k, v in counts.sort_index().items()}


def test_workspace_validates_and_runs_the_gap_analysis(region):
    res, ws, _ = region
    assert not ws.warnings, [str(w) for w in ws.warnings]
    gaps = api.find_gaps(ws)
    s = gaps.summary
    per = s[s["service"] != "ALL"]
    assert set(per["municipality"]) == set(res.study_area)
    # Everyone lives in a study municipality: the indicators count the written population.
    total = per[per["service"] == "municipal_centre"]["population"].sum()
    assert total == pytest.approx(res.counts["population"])


def test_build_json_and_config(region):
    res, _ws, _ = region
    build = json.loads((res.out_dir / "build.json").read_text(encoding="utf-8"))
    assert build["study_area"] == list(res.study_area) and build["context"] == list(res.context)
    for source in ("Statistics Finland", "National Land Survey", "SYKE", "OpenStreetMap", "ODbL"):
        assert source in build["attribution"]
    assert set(build["sources"]) == {s.key for s in SOURCE_SPECS}
    assert all(len(f["sha256_16"]) == 16 for s in build["sources"].values() for f in s["files"])
    assert build["municipalities"]["614"]["health_station_points"] == 0  # a data gap, noted
    assert any("Posio (614)" in n and "data gap" in n for n in build["notes"])
    text = res.config_path.read_text(encoding="utf-8")
    assert "study_area: ['047'" in text and "Attribution:" in text
    assert yaml.safe_load(text)["name"] == "Lappi, Pohjois-Pohjanmaa (real data)"
    with pytest.raises(OutputExistsError, match="--force"):
        api.build_workspace(res.out_dir, sources=SOURCES, regions=REGIONS)


# ---------------------------------------------------------------------------------------------
# The area, the sources and optional inputs
# ---------------------------------------------------------------------------------------------


def test_area_by_codes_names_and_counties():
    from arjenturva.builder import check_sources, read_municipality_key

    checked, _ = check_sources(read_sources(SOURCES))
    key = read_municipality_key(checked["municipality_key"][0])
    assert select_study_area(key, AreaRequest.of(["5, Posio", "615"])) == ["005", "614", "615"]
    lapland = set(_key().loc[lambda k: k["hyvinvointialue_name_fi"] == "Lapin hyvinvointialue", "code"])
    for name in ("Lapin hyvinvointialue", "lapland", "21", "Lapplands välfärdsområde"):
        assert set(select_study_area(key, AreaRequest.of(wellbeing_counties=[name]))) == lapland
    assert set(select_study_area(key, AreaRequest.of(regions=["19"]))) == lapland
    with pytest.raises(InputDataError) as e:
        select_study_area(key, AreaRequest.of(["Posi"], ["Lapi"], ["Pohjois-Pohjanmaa"]))
    text = str(e.value)
    assert "unknown municipality 'Posi'" in text and "'Posio'" in text
    assert "unknown region 'Lapi'" in text and "'Lappi'" in text
    assert "'Pohjois-Pohjanmaan hyvinvointialue'" in text
    with pytest.raises(InputDataError, match="no area given"):
        select_study_area(key, AreaRequest())


def test_sources_file_errors(tmp_path):
    bad = tmp_path / "sources.yaml"
    bad.write_text("boundries: a.geojson\nroads: [a.gpkg, b.gpkg]\n", encoding="utf-8")
    with pytest.raises(ValidationError) as e:
        read_sources(bad)
    text = str(e.value)
    assert "did you mean 'boundaries'" in text and "2 files given, roads takes one" in text


def test_optional_inputs_degrade_with_notes(tmp_path):
    data = yaml.safe_load(SOURCES.read_text(encoding="utf-8"))
    for k in ("urban_settlements", "demographics", "places", "health_facilities"):
        data.pop(k)
    base = (SOURCES.parent / data.pop("data_dir")).resolve()
    res = api.build_workspace(tmp_path / "ws", sources=sources_from_mapping(data, base=base),
                              municipalities=["Posio", "Kuusamo"])
    notes = " ".join(res.notes)
    assert "urban_settlements not given" in notes and "demographics not given" in notes
    pop = pd.read_csv(res.out_dir / "population.csv")
    assert "age_65_plus" not in pop.columns
    assert set(pop["area_class"]) == {"M7"}  # both sparsely populated rural; no settlements
    assert not (res.out_dir / "places.gpkg").exists()
    ws = api.load_workspace(res.config_path)
    assert list(ws.config.services) == ["municipal_centre"] and ws.places is None


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------


def test_cli_builds_a_county(runner, tmp_path):
    out = tmp_path / "lappi"
    args = ["build-workspace", "--sources", str(SOURCES), "--wellbeing-county", "Lapland", "-o", str(out)]
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    lapland = set(_key().loc[lambda k: k["maakunta_name_fi"] == "Lappi", "code"])
    assert set(summary["study_area"]) == lapland and len(lapland) == 21
    assert summary["context"] and (out / "arjenturva.yaml").is_file()
    v = runner.invoke(app, ["validate", "-c", str(out), "--json"])
    assert v.exit_code == 0, v.output
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "--force" in again.output
    human = runner.invoke(app, [*args, "--force"])
    assert human.exit_code == 0 and "Study area: 21 municipalities" in human.output


def test_cli_unknown_region(runner, tmp_path):
    r = runner.invoke(app, ["build-workspace", "--sources", str(SOURCES), "--region", "Lapi",
                            "-o", str(tmp_path / "x")])
    assert r.exit_code == 1
    assert "unknown region 'Lapi'" in r.output and "'Lappi'" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "x").exists()


def test_cli_missing_file_and_missing_column_at_once(runner, tmp_path):
    renamed = tmp_path / "population.csv"
    shutil.copy(STATS / "statfi_postal_code_population_2022.csv", renamed)
    renamed.write_text(renamed.read_text(encoding="utf-8").replace("population_2022", "asukkaat", 1),
                       encoding="utf-8")
    missing = tmp_path / "nowhere.geojson"
    args = ["build-workspace", "--sources", str(SOURCES), "--region", "Lappi", "--boundaries", str(missing),
            "--postal-population", str(renamed), "-o", str(tmp_path / "x")]
    r = runner.invoke(app, args)
    assert r.exit_code == 1, r.output
    assert "2 problem(s)" in r.output and "Traceback" not in r.output
    j = runner.invoke(app, [*args, "--json"])
    assert j.exit_code == 1
    found = {(p["file"], p["column"]): p for p in json.loads(j.stdout)["problems"]}
    assert set(found) == {(str(missing), ""), (str(renamed), "population_2022 (or population)")}
    assert "boundaries file not found" in found[(str(missing), "")]["message"]
    problem = found[(str(renamed), "population_2022 (or population)")]
    assert "column missing" in problem["message"] and "asukkaat" in problem["message"]
    assert "rename its column to 'population_2022'" in problem["fix"]
    assert not (tmp_path / "x").exists()


def test_cli_required_inputs_named_without_sources(runner, tmp_path):
    r = runner.invoke(app, ["build-workspace", "--region", "Lappi", "-o", str(tmp_path / "x")])
    assert r.exit_code == 1
    text = " ".join(r.output.split())
    for s in SOURCE_SPECS:
        if s.required:
            assert s.option in text
    assert "--health-facilities" in text  # no service points at all


def test_every_input_has_an_option_help_and_a_readme_row():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert set(INPUT_HELP) == {s.key for s in SOURCE_SPECS}
    for s in SOURCE_SPECS:
        assert f"`{s.option}`" in readme, s.option
        first = s.columns[0].names[0].rstrip("*")
        assert first.split(",")[0].split()[0] in INPUT_HELP[s.key], s.key


def test_example_sources_file_names_existing_files():
    sources = read_sources(SOURCES)
    assert set(sources.files) == {s.key for s in SOURCE_SPECS}
    assert all(p.is_file() for paths in sources.files.values() for p in paths)
    assert len(sources.files["health_facilities"]) == 2
    assert Path(sources.origin) == SOURCES

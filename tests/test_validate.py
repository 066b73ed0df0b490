"""`arjenturva validate` on valid and deliberately broken inputs.

Each broken case starts from the valid `init` template, breaks one thing, and checks that the
exact problem is reported (file, row/id, column), the exit code is 1, and no traceback shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

from arjenturva.cli import app


def _run(runner, ws: Path, *args: str):
    return runner.invoke(app, ["validate", "-c", str(ws / "arjenturva.yaml"), *args])


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _option(ws: Path, file: str, option: str) -> None:
    """Add ``option`` (``key: value``) to the input whose path is ``file`` in the config."""
    _edit(ws / "arjenturva.yaml", f"{{path: {file}}}", f"{{path: {file}, {option}}}")


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def test_template_is_valid(runner, template_ws):
    result = _run(runner, template_ws)
    assert result.exit_code == 0, result.output
    assert "All inputs are valid" in result.output
    assert "999 Esimerkkikunta" in result.output
    data = json.loads(_run(runner, template_ws, "--json").stdout)
    assert data["valid"] is True
    assert data["layers"]["population"] == 1
    assert data["population_total"] == 42


def _dup_ids(ws: Path) -> None:
    _append(ws / "service_points.csv", "P1,Toinen kauppa,grocery,fixed,,100,A1,452500,7321500")


def _unknown_sector(ws: Path) -> None:
    _edit(ws / "actors.csv", ",village_association,", ",kylayhdistys,")


def _unknown_service(ws: Path) -> None:
    _edit(ws / "service_points.csv", ",grocery,fixed", ",groceries,fixed")


def _missing_column(ws: Path) -> None:
    _edit(ws / "population.csv", "age_65_plus,area_class\n", "age_65_plus,area_class\n")
    _edit(ws / "population.csv", ",population,", ",asukkaat,")


def _empty_file(ws: Path) -> None:
    (ws / "actors.csv").write_bytes(b"")


def _missing_file(ws: Path) -> None:
    (ws / "places.csv").unlink()


def _wrong_encoding(ws: Path) -> None:
    text = (ws / "service_points.csv").read_text(encoding="utf-8")
    (ws / "service_points.csv").write_bytes(text.encode("latin-1"))


def _swapped_lonlat(ws: Path) -> None:
    (ws / "places.csv").write_text(
        "name,kind,population,lon,lat\nEsimerkkikylä,village,120,65.9,26.1\n", encoding="utf-8"
    )


def _outside_finland(ws: Path) -> None:
    (ws / "places.csv").write_text(
        "name,kind,population,lon,lat\nPariisi,village,120,2.35,48.85\n", encoding="utf-8"
    )


def _negative_population(ws: Path) -> None:
    _edit(ws / "population.csv", ",42,", ",-42,")


def _nonnumeric_population(ws: Path) -> None:
    _edit(ws / "population.csv", ",42,", ",neljäkymmentä,")


def _invalid_polygon(ws: Path) -> None:
    bowtie = Polygon([(440000, 7310000), (470000, 7340000), (470000, 7310000), (440000, 7340000)])
    gdf = gpd.GeoDataFrame({"code": ["999"], "name": ["Esimerkkikunta"]}, geometry=[bowtie], crs=3067)
    (ws / "municipalities.geojson").unlink()
    gdf.to_file(ws / "municipalities.gpkg")
    _edit(ws / "arjenturva.yaml", "municipalities.geojson", "municipalities.gpkg")


def _missing_crs(ws: Path) -> None:
    gdf = gpd.read_file(ws / "municipalities.geojson")
    gdf.to_file(ws / "municipalities.shp")
    (ws / "municipalities.prj").unlink()
    _edit(ws / "arjenturva.yaml", "municipalities.geojson", "municipalities.shp")


def _yaml_typo(ws: Path) -> None:
    _edit(ws / "arjenturva.yaml", "snap_tolerance_m:", "snap_tolerence_m:")


def _yaml_syntax(ws: Path) -> None:
    _edit(ws / "arjenturva.yaml", "  grocery:\n", "  grocery:\n   bad: [unclosed\n")


def _outside_municipalities(ws: Path) -> None:
    _append(ws / "service_points.csv", "P2,Kaukainen kauppa,grocery,fixed,,100,A1,300000,7000000")


def _unknown_mode(ws: Path) -> None:
    _edit(ws / "service_points.csv", ",grocery,fixed,", ",grocery,walking,")


def _mobile_without_days(ws: Path) -> None:
    _edit(ws / "service_points.csv", ",grocery,fixed,,", ",grocery,mobile,,")


def _unknown_area_class(ws: Path) -> None:
    _edit(ws / "population.csv", ",15,M7", ",15,M9")


def _unknown_municipality_code(ws: Path) -> None:
    _edit(ws / "actors.csv", ",50,999,", ",50,998,")


def _unknown_actor(ws: Path) -> None:
    _edit(ws / "service_points.csv", ",200,A1,", ",200,A9,")


def _bad_threshold_class(ws: Path) -> None:
    _edit(
        ws / "arjenturva.yaml", "threshold_km: {default: 10, M7: 25}", "threshold_km: {default: 10, M8: 25}"
    )


def _missing_network(ws: Path) -> None:
    (ws / "roads.geojson").unlink()


CASES: list[tuple[str, Callable[[Path], None], list[str]]] = [
    ("duplicate_ids", _dup_ids, ["service_points.csv", "id P1", "point_id", "duplicate id on rows 2, 3"]),
    (
        "unknown_sector",
        _unknown_sector,
        ["actors.csv", "row 2 (id A1)", "sector", "unknown sector 'kylayhdistys'", "village_association"],
    ),
    (
        "unknown_service",
        _unknown_service,
        [
            "service_points.csv",
            "row 2 (id P1)",
            "services",
            "unknown service 'groceries'",
            "did you mean 'grocery'",
        ],
    ),
    ("missing_column", _missing_column, ["population.csv", "population", "required column missing"]),
    ("empty_file", _empty_file, ["actors.csv", "the file is empty"]),
    ("missing_file", _missing_file, ["places.csv", "file not found"]),
    (
        "wrong_encoding",
        _wrong_encoding,
        ["service_points.csv", "not UTF-8", "line 2", "save the file as UTF-8"],
    ),
    ("swapped_lonlat", _swapped_lonlat, ["places.csv", "row 2", "lon/lat", "look swapped"]),
    ("outside_finland", _outside_finland, ["places.csv", "row 2", "lon/lat", "outside Finland"]),
    (
        "negative_population",
        _negative_population,
        ["population.csv", "row 2 (id 1km_455_7325)", "population", "negative value -42"],
    ),
    (
        "nonnumeric_population",
        _nonnumeric_population,
        ["population.csv", "population", "'neljäkymmentä' is not a number"],
    ),
    (
        "invalid_polygon",
        _invalid_polygon,
        ["municipalities.gpkg", "row 1 (id 999)", "geometry", "invalid geometry (Self-intersection"],
    ),
    ("missing_crs", _missing_crs, ["municipalities.shp", "no coordinate reference system", "crs: EPSG:3067"]),
    ("yaml_typo", _yaml_typo, ["unknown key 'network.snap_tolerence_m'", "did you mean 'snap_tolerance_m'"]),
    ("yaml_syntax", _yaml_syntax, ["YAML syntax error", "line"]),
    (
        "outside_municipalities",
        _outside_municipalities,
        ["service_points.csv", "row 3 (id P2)", "km beyond every municipality"],
    ),
    ("unknown_mode", _unknown_mode, ["service_points.csv", "mode", "unknown mode 'walking'"]),
    (
        "mobile_without_days",
        _mobile_without_days,
        ["service_points.csv", "days_per_week", "mobile point needs the number of days"],
    ),
    ("unknown_area_class", _unknown_area_class, ["population.csv", "area_class", "unknown area class 'M9'"]),
    (
        "unknown_municipality_code",
        _unknown_municipality_code,
        ["actors.csv", "municipalities", "unknown municipality code '998'"],
    ),
    ("unknown_actor", _unknown_actor, ["service_points.csv", "actor_id", "unknown actor 'A9'"]),
    (
        "bad_threshold_class",
        _bad_threshold_class,
        ["services.grocery.threshold_km", "unknown area class", "M8"],
    ),
    ("missing_network", _missing_network, ["network.source", "roads.geojson", "not found"]),
]


@pytest.mark.parametrize(("name", "breaker", "expected"), CASES, ids=[c[0] for c in CASES])
def test_broken_input_is_reported(runner, template_ws, name, breaker, expected):
    breaker(template_ws)
    result = _run(runner, template_ws)
    output = result.output
    assert result.exit_code == 1, output
    assert "Traceback" not in output
    assert isinstance(result.exception, SystemExit)
    flat = " ".join(output.split())
    for text in expected:
        assert " ".join(text.split()) in flat, f"{text!r} missing from:\n{output}"


def test_all_problems_reported_at_once(runner, template_ws):
    _dup_ids(template_ws)
    _unknown_sector(template_ws)
    _negative_population(template_ws)
    _missing_file(template_ws)
    result = _run(runner, template_ws, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["valid"] is False
    messages = " | ".join(p["message"] for p in data["problems"])
    assert "duplicate id" in messages
    assert "unknown sector" in messages
    assert "negative value" in messages
    assert "file not found" in messages
    for p in data["problems"]:
        assert p["file"] and p["fix"]


def test_decimal_comma_and_semicolon_csv(runner, template_ws):
    (template_ws / "population.csv").write_text(
        "\ufeffcell_id;x;y;population;age_0_14;age_15_64;age_65_plus;area_class\n"
        "a;455500,0;7325500,0;42;5;22;15;M7\n"
        "b;456500,5;7325500;-1;-1;-1;-1;M7\n",
        encoding="utf-8",
    )
    result = _run(runner, template_ws, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["population_total"] == 42
    assert data["population_suppressed_cells"] == 1


def test_lonlat_points_are_reprojected(template_ws):
    from arjenturva import load_workspace

    (template_ws / "places.csv").write_text("name,lon,lat\nKylä,26.0,66.0\n", encoding="utf-8")
    # Place the municipality polygon around that point so it validates.
    ws = load_workspace(template_ws / "arjenturva.yaml")
    pt = ws.places.geometry.iloc[0]
    assert 400_000 < pt.x < 500_000 and 7_300_000 < pt.y < 7_340_000
    assert ws.places.crs.to_epsg() == 3067


def test_repair_option_turns_invalid_polygon_into_warning(runner, template_ws):
    _invalid_polygon(template_ws)
    _option(template_ws, "municipalities.gpkg", "repair: true")
    result = _run(runner, template_ws)
    assert result.exit_code == 0, result.output
    assert "repaired with make_valid" in result.output


def test_config_missing_is_clear(runner, tmp_path):
    result = runner.invoke(app, ["validate", "-c", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "config file not found" in result.output


def test_age_groups_summing_above_the_population_only_warn(runner, template_ws):
    _edit(template_ws / "population.csv", ",42,5,22,15,", ",42,10,22,15,")
    result = _run(runner, template_ws)
    assert result.exit_code == 0, result.output
    assert "age groups add up to more than the population (here 47 > 42)" in " ".join(result.output.split())


def test_crs_setting_overrides_a_geojsons_assumed_wgs84(runner, template_ws):
    path = template_ws / "municipalities.geojson"
    path.write_text(
        "\n".join(ln for ln in path.read_text().splitlines() if '"crs"' not in ln), encoding="utf-8"
    )
    assert _run(runner, template_ws).exit_code == 1
    _option(template_ws, "municipalities.geojson", "crs: 'EPSG:3067'")
    result = _run(runner, template_ws)
    assert result.exit_code == 0, result.output
    assert "read as EPSG:3067" in " ".join(result.output.split())


def test_utf16_input_validates_with_its_encoding(runner, template_ws):
    path = template_ws / "service_points.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    _option(template_ws, "service_points.csv", "encoding: utf-16")
    result = _run(runner, template_ws)
    assert result.exit_code == 0, result.output


def test_counts_that_are_not_whole_numbers_only_warn(runner, template_ws):
    _edit(template_ws / "population.csv", ",42,5,22,15,", ",42.5,5,22,14.5,")
    result = _run(runner, template_ws)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert (
        "column 'population': 1 feature(s) hold a population that is not a whole number (here 42.5)" in flat
    )
    assert "age_65_plus" not in flat  # age groups are often estimates

"""A corpus of bad inputs: each a mutation of the `arjenturva init` template or the demo workspace.

Every case runs through the CLI (`arjenturva validate`, or `arjenturva run` for inputs only the
run can find wrong, such as a road file with no roads) and must exit with code 1, name the file,
the row, id, column or key and the fix, and show no traceback. Names that merely look like
formulas, markup or HTML are legal: they validate, and the run's outputs neutralise them.
"""

from __future__ import annotations

import bz2
import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from arjenturva.api import copy_demo
from arjenturva.cli import app

TEMPLATE = Path(__file__).resolve().parents[1] / "arjenturva" / "templates" / "workspace"
POINT_ROW = "P1,Esimerkkikylän kauppa,grocery,fixed,,200,A1,452000,7321000"


# --------------------------------------------------------------------------------------------
# Mutation helpers
# --------------------------------------------------------------------------------------------


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def _config(ws: Path, old: str, new: str) -> None:
    _edit(ws / "arjenturva.yaml", old, new)


def _binary(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 40)


def _drop_gpkg_layers(path: Path) -> None:
    """Keep the GeoPackage's own tables, drop every layer (GDAL then calls it unrecognised)."""
    with sqlite3.connect(path) as con:
        layers = [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")]
        con.execute("DELETE FROM gpkg_contents")
        con.execute("DELETE FROM gpkg_geometry_columns")
        for name in layers:
            con.execute(f'DROP TABLE "{name}"')
    con.close()


def _municipality_code(ws: Path, code: str) -> None:
    _edit(ws / "municipalities.geojson", '"code": "999"', f'"code": "{code}"')
    _edit(ws / "actors.csv", ",50,999,", f",50,{code},")


def _two_sheets(ws: Path) -> None:
    df = pd.read_csv(ws / "actors.csv", dtype=str)
    with pd.ExcelWriter(ws / "actors.xlsx") as xl:
        pd.DataFrame({"ohje": ["Täytä toimijat välilehdelle Toimijat"]}).to_excel(
            xl, sheet_name="Ohje", index=False
        )
        df.to_excel(xl, sheet_name="Toimijat", index=False)
    _config(ws, "{path: actors.csv}", "{path: actors.xlsx}")


def _municipalities_gpkg(ws: Path, *layers: str) -> None:
    gdf = gpd.read_file(ws / "municipalities.geojson")
    for layer in layers:
        gdf.to_file(ws / "kunnat.gpkg", layer=layer)
    _config(ws, "{path: municipalities.geojson}", "{path: kunnat.gpkg}")


def _geojson_without_crs(ws: Path) -> None:
    path = ws / "municipalities.geojson"
    text = path.read_text(encoding="utf-8")
    path.write_text("\n".join(ln for ln in text.splitlines() if '"crs"' not in ln), encoding="utf-8")


def _geojson_swapped_axes(ws: Path) -> None:
    ring = [[65, 25], [66, 25], [66, 26], [65, 26], [65, 25]]  # (lat, lon) where GeoJSON wants (lon, lat)
    feature = {"type": "Feature", "properties": {"code": "999", "name": "X"}}
    feature["geometry"] = {"type": "Polygon", "coordinates": [ring]}
    text = json.dumps({"type": "FeatureCollection", "features": [feature]})
    (ws / "municipalities.geojson").write_text(text, encoding="utf-8")


def _demo_population(ws: Path, change: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]) -> None:
    path = ws / "population.gpkg"
    gdf = change(gpd.read_file(path))
    path.unlink()
    gdf.to_file(path)


def _set(gdf: gpd.GeoDataFrame, column: str, row: int, value: object) -> gpd.GeoDataFrame:
    gdf = gdf.copy()
    gdf[column] = gdf[column].astype(object if isinstance(value, str) else float)
    gdf.loc[row, column] = value
    return gdf


def _demo_places_declared_wgs84(ws: Path) -> None:
    path = ws / "places.gpkg"
    gdf = gpd.read_file(path).set_crs(4326, allow_override=True)
    path.unlink()
    gdf.to_file(path)


# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One bad input: the workspace it starts from, how it breaks, and the words of the message."""

    name: str
    base: str  # "init" or "demo"
    mutate: Callable[[Path], None]
    words: tuple[str, ...]
    command: str = "validate"


def _cases() -> list[Case]:
    sp, pop, act = "service_points.csv", "population.csv", "actors.csv"
    cases = [
        # --- CSV parsing: whole-file problems, every other file still checked
        Case(
            "ragged_row",
            "init",
            lambda ws: _append(ws / sp, POINT_ROW.replace("P1", "P2") + ",extra,cells"),
            (sp, "row 3 (11 fields)", "more cells than the header", "quote cells"),
        ),
        Case(
            "two_ragged_rows",
            "init",
            lambda ws: [_append(ws / sp, f"P{i},x,grocery,fixed,,1,A1,1,2,3") for i in (2, 3)],
            (sp, "rows 3 (10 fields), 4 (10 fields)", "remove the extra separators"),
        ),
        Case(
            "unclosed_quote",
            "init",
            lambda ws: _append(ws / sp, 'P2,"Kauppa,grocery,fixed,,1,A1,452000,7321000'),
            (sp, "row 3", "quoted cell is not closed", "close the quote"),
        ),
        Case(
            "parse_error_and_other_files",
            "init",
            lambda ws: (_append(ws / sp, POINT_ROW + ",x"), _edit(ws / pop, ",42,", ",-42,")),
            (sp, "more cells than the header", pop, "negative value -42"),
        ),
        Case(
            "mixed_separators",
            "init",
            lambda ws: _append(ws / sp, POINT_ROW.replace("P1", "P2").replace(",", ";")),
            (sp, "row 3", "separated by ';'", "the header by ','", "one separator"),
        ),
        Case(
            "duplicate_header_column",
            "init",
            lambda ws: (
                _edit(ws / sp, "point_id,name,", "point_id,name,Name,"),
                _edit(ws / sp, "P1,", "P1,Kauppa,"),
            ),
            (sp, "'name' (columns 2, 3)", "rename or delete"),
        ),
        Case(
            "header_only",
            "init",
            lambda ws: (ws / pop).write_text("cell_id,x,y,population\n", encoding="utf-8"),
            (pop, "no rows", "add at least one feature"),
        ),
        Case(
            "blank_lines_only",
            "init",
            lambda ws: (ws / act).write_text("\n\n  \n", encoding="utf-8"),
            (act, "the file is empty", "header row"),
        ),
        # --- Encodings and file kinds
        Case(
            "utf16_with_bom",
            "init",
            lambda ws: (ws / sp).write_bytes((ws / sp).read_text().encode("utf-16")),
            (sp, "UTF-16 text", "byte order mark", "encoding: utf-16"),
        ),
        Case(
            "utf16_without_bom",
            "init",
            lambda ws: (ws / sp).write_bytes((ws / sp).read_text().encode("utf-16-le")),
            (sp, "UTF-16 text without a byte order mark", "encoding: utf-16-le"),
        ),
        Case(
            "latin1",
            "init",
            lambda ws: (ws / sp).write_bytes((ws / sp).read_text().encode("latin-1")),
            (sp, "not UTF-8", "line 2", "encoding: latin-1"),
        ),
        Case(
            "wrong_encoding_given",
            "init",
            lambda ws: _config(
                ws, "{path: service_points.csv}", "{path: service_points.csv, encoding: utf-16}"
            ),
            (sp, "not utf-16 text", "check `encoding:`"),
        ),
        Case(
            "unknown_encoding",
            "init",
            lambda ws: _config(ws, "{path: population.csv}", "{path: population.csv, encoding: klingon}"),
            (pop, "unknown encoding 'klingon'", "use utf-8, latin-1"),
        ),
        Case("binary_file", "init", lambda ws: _binary(ws / pop), (pop, "not a text file", "check `path:`")),
        Case(
            "symlink_to_binary",
            "init",
            lambda ws: (
                _binary(ws / "data.bin"),
                (ws / pop).unlink(),
                (ws / pop).symlink_to(ws / "data.bin"),
            ),
            (pop, "not a text file", "check `path:`"),
        ),
        Case(
            "symlink_to_prose",
            "init",
            lambda ws: (
                (ws / "notes.txt").write_text("Muistiinpanoja\nei taulukko\n", encoding="utf-8"),
                (ws / pop).unlink(),
                (ws / pop).symlink_to(ws / "notes.txt"),
            ),
            (pop, "population", "required column missing", "Muistiinpanoja"),
        ),
        Case(
            "workbook_named_csv",
            "init",
            lambda ws: (
                pd.DataFrame({"a": [1]}).to_excel(ws / "x.xlsx", index=False),
                shutil.move(ws / "x.xlsx", ws / act),
            ),
            (act, "ZIP archive", "suffix .xlsx"),
        ),
        Case(
            "geopackage_named_csv",
            "init",
            lambda ws: (
                gpd.read_file(ws / "municipalities.geojson").to_file(ws / "m.gpkg"),
                shutil.move(ws / "m.gpkg", ws / pop),
            ),
            (pop, "SQLite database", "suffix .gpkg"),
        ),
        Case(
            "corrupt_workbook",
            "init",
            lambda ws: (
                (ws / "actors.xlsx").write_bytes(b"PK\x03\x04 broken"),
                _config(ws, "{path: actors.csv}", "{path: actors.xlsx}"),
            ),
            ("actors.xlsx", "cannot read the workbook", "opens in Excel"),
        ),
        Case(
            "invalid_geojson",
            "init",
            lambda ws: (ws / "municipalities.geojson").write_text('{"type": "Feature', encoding="utf-8"),
            ("municipalities.geojson", "cannot read the file", "QGIS"),
        ),
        Case(
            "nul_in_name",
            "init",
            lambda ws: _edit(ws / sp, "Esimerkkikylän kauppa", "Esimerkki\x00kauppa"),
            (sp, "row 2", "name", "NUL character", "remove it"),
        ),
        # --- Paths
        Case(
            "input_is_folder",
            "init",
            lambda ws: ((ws / pop).unlink(), (ws / pop).mkdir()),
            (pop, "is a folder, not a file", "point `path:`"),
        ),
        Case(
            "input_folder_without_suffix",
            "init",
            lambda ws: ((ws / "aineisto").mkdir(), _config(ws, "{path: population.csv}", "{path: aineisto}")),
            ("aineisto", "is a folder", "point `path:`"),
        ),
        Case(
            "input_missing", "init", lambda ws: (ws / act).unlink(), (act, "file not found", "check `path:`")
        ),
        Case(
            "unsupported_suffix",
            "init",
            lambda ws: (
                shutil.copy(ws / act, ws / "actors.dat"),
                _config(ws, "{path: actors.csv}", "{path: actors.dat}"),
            ),
            ("actors.dat", "unsupported file type '.dat'", "GeoPackage"),
        ),
        Case(
            "roads_is_folder",
            "init",
            lambda ws: ((ws / "roads.geojson").unlink(), (ws / "roads.geojson").mkdir()),
            ("network.source", "roads.geojson", "is a folder", "check `network.source`"),
        ),
        Case(
            "roads_zero_bytes",
            "init",
            lambda ws: (ws / "roads.geojson").write_bytes(b""),
            ("network.source", "roads.geojson", "is empty", "check `network.source`"),
        ),
        # --- Layers, sheets, CRS
        Case(
            "geopackage_without_layers",
            "init",
            lambda ws: (_municipalities_gpkg(ws, "kunnat"), _drop_gpkg_layers(ws / "kunnat.gpkg")),
            ("kunnat.gpkg", "holds no layers", "Save Features As"),
        ),
        Case(
            "wrong_layer_name",
            "init",
            lambda ws: (
                _municipalities_gpkg(ws, "kunnat", "vanhat"),
                _config(ws, "{path: kunnat.gpkg}", "{path: kunnat.gpkg, layer: kunta}"),
            ),
            ("kunnat.gpkg", "layer 'kunta' not found", "kunnat, vanhat", "set `layer:`"),
        ),
        Case(
            "several_layers",
            "init",
            lambda ws: _municipalities_gpkg(ws, "kunnat", "vanhat"),
            ("kunnat.gpkg", "several layers (kunnat, vanhat)", "layer: NAME"),
        ),
        Case(
            "workbook_several_sheets",
            "init",
            _two_sheets,
            ("actors.xlsx", "several sheets with data (Ohje, Toimijat)", "layer: Toimijat"),
        ),
        Case(
            "workbook_wrong_sheet",
            "init",
            lambda ws: (
                _two_sheets(ws),
                _config(ws, "{path: actors.xlsx}", "{path: actors.xlsx, layer: Data}"),
            ),
            ("actors.xlsx", "sheet 'Data' not found", "Ohje, Toimijat", "set `layer:`"),
        ),
        Case(
            "unknown_crs",
            "init",
            lambda ws: _config(
                ws, "{path: municipalities.geojson}", "{path: municipalities.geojson, crs: 'EPSG:99999'}"
            ),
            ("municipalities.geojson", "unknown CRS 'EPSG:99999'", "EPSG:3067"),
        ),
        Case(
            "geojson_metres_declared_wgs84",
            "init",
            _geojson_without_crs,
            (
                "municipalities.geojson",
                "outside Finland",
                "EPSG:4326 (WGS 84)",
                "look like EPSG:3067",
                "crs: EPSG:3067",
            ),
        ),
        Case(
            "geojson_swapped_axes",
            "init",
            _geojson_swapped_axes,
            ("municipalities.geojson", "outside Finland", "EPSG:4326", "x and y swapped"),
        ),
        Case(
            "columns_mapping_clash",
            "init",
            lambda ws: _config(
                ws, "{path: population.csv}", "{path: population.csv, columns: {population: age_15_64}}"
            ),
            (pop, "maps 'age_15_64' to 'population'", "remove the mapping"),
        ),
        # --- Values
        Case(
            "population_inf",
            "init",
            lambda ws: _edit(ws / pop, ",42,", ",inf,"),
            (pop, "id 1km_455_7325", "population", "'inf' is not a finite number", "write a number"),
        ),
        Case(
            "population_1e308",
            "init",
            lambda ws: _edit(ws / pop, ",42,", ",1e308,"),
            (pop, "id 1km_455_7325", "population", "1e+308 is above 10 000 000", "between 0 and 10 000 000"),
        ),
        Case(
            "population_all_suppressed",
            "init",
            lambda ws: _edit(ws / pop, ",42,5,22,15,", ",-1,-1,-1,-1,"),
            (pop, "population", "every feature (1) is suppressed", "population data with counts"),
        ),
        Case(
            "age_65_above_population",
            "init",
            lambda ws: _edit(ws / pop, ",42,5,22,15,", ",42,5,22,50,"),
            (pop, "id 1km_455_7325", "age_65_plus", "more than the population 42", "check the counts"),
        ),
        Case(
            "decimal_comma_in_comma_csv",
            "init",
            lambda ws: _edit(ws / pop, ",42,", ',"1,5",'),
            (pop, "row 2", "population", "'1,5' has a decimal comma", "decimal point"),
        ),
        Case(
            "thousands_comma_in_comma_csv",
            "init",
            lambda ws: _edit(ws / act, ",50,999,", ',"1,500",999,'),
            (act, "row 2", "capacity", "'1,500' has a decimal comma", "decimal point"),
        ),
        Case(
            "ids_differ_by_case",
            "init",
            lambda ws: _append(ws / sp, POINT_ROW.replace("P1", "p1")),
            (sp, "id P1", "point_id", "differ only by upper/lower case", "more than case"),
        ),
        Case(
            "actor_ids_differ_by_case",
            "init",
            lambda ws: _append(
                ws / act, "a1,Toinen,company,grocery,10,999,fixed,40,false,0.5,fi,452000,7321000"
            ),
            (act, "actor_id", "'A1' (row 2) and 'a1' (row 3)", "more than case"),
        ),
        Case(
            "actor_reference_case",
            "init",
            lambda ws: _edit(ws / sp, ",200,A1,", ",200,a1,"),
            (sp, "id P1", "actor_id", "unknown actor 'a1'", "did you mean 'A1'"),
        ),
        Case(
            "municipality_code_missing",
            "init",
            lambda ws: _edit(ws / "municipalities.geojson", '"code": "999"', '"code": null'),
            ("municipalities.geojson", "row 1", "code", "empty id", "give every row a unique 'code'"),
        ),
        Case(
            "municipality_code_letters",
            "init",
            lambda ws: _municipality_code(ws, "abc"),
            ("municipalities.geojson", "code", "'abc' is not a 3-digit number", "Statistics Finland"),
        ),
        Case(
            "municipality_code_decimal",
            "init",
            lambda ws: _municipality_code(ws, "5.5"),
            ("municipalities.geojson", "id 5.5", "'5.5' is not a 3-digit number"),
        ),
        Case(
            "municipality_code_five_digits",
            "init",
            lambda ws: _municipality_code(ws, "12345"),
            ("municipalities.geojson", "'12345' is not a 3-digit number", "e.g. 005 or 615"),
        ),
        Case(
            "mobile_zero_days",
            "init",
            lambda ws: _edit(ws / sp, ",grocery,fixed,,", ",grocery,mobile,0,"),
            (sp, "id P1", "days_per_week", "0 days per week", "give the days"),
        ),
        Case(
            "days_above_seven",
            "init",
            lambda ws: _edit(ws / sp, ",grocery,fixed,,", ",grocery,mobile,8,"),
            (sp, "days_per_week", "value 8 is above 7", "between 0 and 7"),
        ),
        Case(
            "negative_capacity",
            "init",
            lambda ws: _edit(ws / sp, ",fixed,,200,", ",fixed,,-200,"),
            (sp, "capacity", "negative value -200", "use a value"),
        ),
        Case(
            "employment_scheme_unclear",
            "init",
            lambda ws: _edit(ws / act, ",40,true,", ",40,ehkä,"),
            (act, "employment_scheme", "'ehkä' is not yes/no", "true or false"),
        ),
        Case(
            "no_services",
            "init",
            lambda ws: _edit(ws / sp, ",grocery,fixed", ",,fixed"),
            (sp, "services", "no services listed", "separated by ';'"),
        ),
        Case(
            "service_wrong_case",
            "init",
            lambda ws: _edit(ws / sp, ",grocery,fixed", ",Grocery,fixed"),
            (sp, "unknown service 'Grocery'", "did you mean 'grocery'"),
        ),
        Case(
            "places_population_text",
            "init",
            lambda ws: _edit(ws / "places.csv", ",120,", ",satakunta,"),
            ("places.csv", "population", "'satakunta' is not a number"),
        ),
        Case(
            "municipality_as_point",
            "init",
            lambda ws: gpd.GeoDataFrame(
                {"code": ["999"], "name": ["X"]}, geometry=gpd.points_from_xy([450000], [7320000]), crs=3067
            ).to_file(ws / "municipalities.geojson"),
            ("municipalities.geojson", "geometry", "geometry is Point", "Polygon"),
        ),
        # --- Config
        Case(
            "yaml_python_tag",
            "init",
            lambda ws: _append(ws / "arjenturva.yaml", "x: !!python/object/apply:os.system [ls]"),
            ("arjenturva.yaml", "YAML tags are not allowed", "line", "remove the"),
        ),
        Case(
            "yaml_key_twice",
            "init",
            lambda ws: _config(ws, "  cost: distance", "  cost: distance\n  cost: time"),
            ("arjenturva.yaml", "given twice", "'cost'", "keep one of them"),
        ),
        Case(
            "threshold_nan",
            "init",
            lambda ws: _config(ws, "threshold_km: {default: 10,", "threshold_km: {default: .nan,"),
            ("services.grocery.threshold_km.default", "finite number", "not .nan or .inf"),
        ),
        Case(
            "threshold_inf",
            "init",
            lambda ws: _config(ws, "threshold_min: {default: 30}", "threshold_min: {default: .inf}"),
            ("services.health_station.threshold_min.default", "finite number"),
        ),
        Case(
            "threshold_negative",
            "init",
            lambda ws: _config(ws, "threshold_km: {default: 10,", "threshold_km: {default: -10,"),
            ("services.grocery.threshold_km", "thresholds must be positive"),
        ),
        Case(
            "road_speed_zero",
            "init",
            lambda ws: _config(ws, "{main: 80, local: 60}", "{main: 0, local: 60}"),
            ("network.class_speeds_kmh", "speeds must be positive", "'main': 0.0"),
        ),
        Case(
            "road_speed_negative",
            "init",
            lambda ws: _config(ws, "  cost: distance", "  cost: distance\n  speed_kmh: {default: -20}"),
            ("network.speed_kmh", "speeds must be positive", "-20"),
        ),
        Case(
            "merge_distance_inf",
            "init",
            lambda ws: _append(ws / "arjenturva.yaml", "gaps: {merge_distance_m: .inf}"),
            ("gaps.merge_distance_m", "finite number"),
        ),
        Case(
            "config_empty",
            "init",
            lambda ws: (ws / "arjenturva.yaml").write_text("# nothing\n", encoding="utf-8"),
            ("arjenturva.yaml", "expected a mapping", "arjenturva init"),
        ),
        Case(
            "config_is_folder",
            "init",
            lambda ws: ((ws / "arjenturva.yaml").unlink(), (ws / "arjenturva.yaml").mkdir()),
            ("arjenturva.yaml", "config file not found", "pass --config PATH"),
        ),
        Case(
            "config_latin1",
            "init",
            lambda ws: (ws / "arjenturva.yaml").write_bytes(
                (ws / "arjenturva.yaml").read_text().encode("latin-1")
            ),
            ("arjenturva.yaml", "not UTF-8", "save the file as UTF-8"),
        ),
        Case(
            "scenario_mobile_zero_days",
            "init",
            lambda ws: _append(
                ws / "arjenturva.yaml",
                "scenarios:\n  s:\n    add_points: [{point_id: N1, name: Auto, "
                "services: [grocery], mode: mobile, days_per_week: 0, x: 452000, y: 7321000}]",
            ),
            ("scenarios.s.add_points.0", "days_per_week above 0"),
        ),
        # --- Found only by the run (the road network is read by the run, not by validate)
        Case(
            "roads_without_features",
            "init",
            lambda ws: (ws / "roads.geojson").write_text(
                '{"type": "FeatureCollection", "features": []}', encoding="utf-8"
            ),
            ("roads.geojson", "no features", "network.source"),
            command="run",
        ),
        Case(
            "roads_geopackage_without_layers",
            "init",
            lambda ws: (
                gpd.read_file(ws / "roads.geojson").to_file(ws / "tiet.gpkg", layer="tiet"),
                _drop_gpkg_layers(ws / "tiet.gpkg"),
                _config(ws, "source: roads.geojson", "source: tiet.gpkg"),
            ),
            ("tiet.gpkg", "holds no layers", "network.source"),
            command="run",
        ),
        Case(
            "roads_points_only",
            "init",
            lambda ws: gpd.GeoDataFrame(
                {"class": ["main"]}, geometry=gpd.points_from_xy([450000], [7320000]), crs=3067
            ).to_file(ws / "roads.geojson"),
            ("roads.geojson", "no lines (found Point)", "line layer"),
            command="run",
        ),
        Case(
            "roads_class_column_missing",
            "init",
            lambda ws: _config(ws, "class_column: class", "class_column: luokka"),
            ("roads.geojson", "column 'luokka' not found", "network.class_column"),
            command="run",
        ),
        Case(
            "osm_without_data",
            "init",
            lambda ws: (
                (ws / "roads.osm").write_text(
                    '<?xml version="1.0"?><osm version="0.6"></osm>', encoding="utf-8"
                ),
                _config(ws, "source: roads.geojson", "source: roads.osm"),
            ),
            ("roads.osm", "no drivable roads", "Fix:"),
            command="run",
        ),
        # --- The demo workspace
        Case(
            "demo_all_suppressed",
            "demo",
            lambda ws: _demo_population(
                ws, lambda g: g.assign(population=-1, age_0_14=-1, age_15_64=-1, age_65_plus=-1)
            ),
            ("population.gpkg", "population", "every feature (1061) is suppressed", "with counts"),
        ),
        Case(
            "demo_population_inf",
            "demo",
            lambda ws: _demo_population(ws, lambda g: _set(g, "population", 3, float("inf"))),
            ("population.gpkg", "row 4", "population", "not a finite number"),
        ),
        Case(
            "demo_age_above_population",
            "demo",
            lambda ws: _demo_population(ws, lambda g: _set(g, "age_0_14", 0, 99.0)),
            (
                "population.gpkg",
                "id 1km_402000_7318000",
                "age_0_14",
                "99 people in age_0_14",
                "check the counts",
            ),
        ),
        Case(
            "demo_cell_ids_by_case",
            "demo",
            lambda ws: _demo_population(ws, lambda g: _set(g, "cell_id", 1, "1KM_402000_7318000")),
            ("population.gpkg", "cell_id", "differ only by upper/lower case"),
        ),
        Case(
            "demo_population_two_layers",
            "demo",
            lambda ws: gpd.read_file(ws / "population.gpkg").to_file(ws / "population.gpkg", layer="vanha"),
            ("population.gpkg", "several layers", "layer: NAME"),
        ),
        Case(
            "demo_places_wrong_crs",
            "demo",
            _demo_places_declared_wgs84,
            ("places.gpkg", "outside Finland", "EPSG:4326", "look like EPSG:3067"),
        ),
        Case(
            "demo_point_ids_by_case",
            "demo",
            lambda ws: _edit(ws / sp, "KA02,", "ka01,"),
            (sp, "point_id", "'KA01' (row 2) and 'ka01' (row 3)"),
        ),
        Case(
            "demo_mobile_zero_days",
            "demo",
            lambda ws: _edit(ws / sp, "library,A01,mobile,1,60,", "library,A01,mobile,0,60,"),
            (sp, "id KA16", "days_per_week", "0 days per week"),
        ),
        Case(
            "demo_nul_in_name",
            "demo",
            lambda ws: _edit(ws / sp, "Kaarnavaaran apteekki", "Kaarnavaaran\x00apteekki"),
            (sp, "row 4", "name", "NUL character"),
        ),
        Case(
            "demo_utf16",
            "demo",
            lambda ws: (ws / sp).write_bytes((ws / sp).read_text(encoding="utf-8").encode("utf-16")),
            (sp, "UTF-16 text", "encoding: utf-16"),
        ),
        Case(
            "demo_actor_sector_typo",
            "demo",
            lambda ws: _edit(ws / act, ",municipality,", ",kunta,"),
            (act, "id A01", "sector", "unknown sector 'kunta'"),
        ),
        Case(
            "demo_threshold_nan",
            "demo",
            lambda ws: _config(
                ws, "threshold_km: {default: 30, M7: 60}", "threshold_km: {default: .nan, M7: 60}"
            ),
            ("services.dental.threshold_km.default", "finite number"),
        ),
        Case(
            "demo_osm_without_data",
            "demo",
            lambda ws: (ws / "roads.osm").write_text(
                '<?xml version="1.0"?><osm version="0.6"></osm>', encoding="utf-8"
            ),
            ("roads.osm", "no drivable roads"),
            command="run",
        ),
        Case(
            "demo_osm_truncated",
            "demo",
            lambda ws: (ws / "roads.osm").write_bytes((ws / "roads.osm").read_bytes()[:5000]),
            ("roads.osm", "not valid OSM XML", "download the file again"),
            command="run",
        ),
        Case(
            "demo_osm_bz2_truncated",
            "demo",
            lambda ws: (
                (ws / "roads.osm.bz2").write_bytes(bz2.compress((ws / "roads.osm").read_bytes())[:800]),
                _config(ws, "source: roads.osm ", "source: roads.osm.bz2 "),
            ),
            ("roads.osm.bz2", "cannot read the OSM XML file", "truncated"),
            command="run",
        ),
    ]
    return cases


CASES = _cases()


def _workspace(base: str, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    if base == "demo":
        copy_demo(ws)
    else:
        shutil.copytree(TEMPLATE, ws)
    return ws


def _invoke(ws: Path, command: str, tmp_path: Path):
    args = ["validate", "-c", str(ws / "arjenturva.yaml")]
    if command == "run":
        args = ["run", "-c", str(ws / "arjenturva.yaml"), "--out", str(tmp_path / "results"), "--quiet"]
    return CliRunner(env={"COLUMNS": "1000", "NO_COLOR": "1"}).invoke(app, args)


def _no_traceback(result) -> None:
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


def test_the_corpus_is_large_and_distinct():
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_a_clear_error(case: Case, tmp_path: Path):
    ws = _workspace(case.base, tmp_path)
    case.mutate(ws)
    result = _invoke(ws, case.command, tmp_path)
    _no_traceback(result)
    assert result.exit_code == 1, result.output
    flat = " ".join(result.output.split())
    for words in case.words:
        assert " ".join(words.split()) in flat, f"{words!r} missing from:\n{result.output}"
    assert "Fix" in flat or "fix" in flat


# --------------------------------------------------------------------------------------------
# Legal names that look like formulas, markup or HTML
# --------------------------------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://example.invalid/x","Esimerkkikunta")'
SCRIPT = "<script>alert(1)</script> Kauppa"


def test_injection_like_names_validate_and_are_neutralised(tmp_path: Path):
    ws = _workspace("init", tmp_path)
    _edit(
        ws / "municipalities.geojson",
        '"name": "Esimerkkikunta"',
        '"name": "' + FORMULA.replace('"', '\\"') + '"',
    )
    _edit(ws / "service_points.csv", "Esimerkkikylän kauppa", f'"{SCRIPT}"')
    _edit(ws / "actors.csv", "Esimerkkikylän kyläyhdistys ry", "[/bold]Kyläyhdistys[bold]")
    _edit(ws / "places.csv", "Esimerkkikylä,", "@SUM(A1:A9),")

    checked = _invoke(ws, "validate", tmp_path)
    _no_traceback(checked)
    assert checked.exit_code == 0, checked.output

    result = _invoke(ws, "run", tmp_path)
    _no_traceback(result)
    assert result.exit_code == 0, result.output
    out = tmp_path / "results"

    summary = pd.read_csv(out / "summary.csv", dtype=str)
    names = set(summary["municipality_name"].dropna())
    assert names and all(n.startswith("'=") for n in names if "HYPERLINK" in n), names
    assert "'" + FORMULA in names

    from openpyxl import load_workbook

    book = load_workbook(out / "summary.xlsx")
    cells = [
        c for ws_ in book.worksheets for row in ws_.iter_rows() for c in row if "HYPERLINK" in str(c.value)
    ]
    assert cells, "the name is missing from summary.xlsx"
    assert all(c.data_type == "s" and str(c.value).startswith("'=") for c in cells)

    for page in ("map.html", "report.html"):
        html = (out / page).read_text(encoding="utf-8")
        assert "<script>alert(1)</script>" not in html, page


def test_markup_like_names_print_literally(tmp_path: Path):
    ws = _workspace("init", tmp_path)
    _edit(ws / "actors.csv", ",village_association,", ",[/bold]yhdistys,")
    result = _invoke(ws, "validate", tmp_path)
    _no_traceback(result)
    assert result.exit_code == 1
    assert "unknown sector '[/bold]yhdistys'" in " ".join(result.output.split())

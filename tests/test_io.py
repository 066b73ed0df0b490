"""Readers (every supported format, CSV variants, coordinates) and atomic writers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from arjenturva.errors import InputFileError, OutputExistsError
from arjenturva.io import (
    atomic_path,
    ensure_writable,
    read_layer,
    to_number,
    write_csv,
    write_gpkg,
    write_xlsx,
)

POLY = Polygon([(440000, 7310000), (441000, 7310000), (441000, 7311000), (440000, 7311000)])


@pytest.fixture
def frame():
    return gpd.GeoDataFrame(
        {"code": ["005", "615"], "name": ["Alajärvi", "Pudasjärvi"]}, geometry=[POLY, POLY], crs=3067
    )


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".parquet"])
def test_geo_formats_round_trip(tmp_path, frame, suffix):
    path = tmp_path / f"m{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_file(path)
    gdf, problems = read_layer(path)
    assert problems == []
    assert gdf.crs.to_epsg() == 3067
    assert list(gdf["code"]) == ["005", "615"]  # leading zeros kept
    assert list(gdf["_row"]) == [1, 2]


def test_wgs84_files_are_reprojected(tmp_path, frame):
    frame.to_crs(4326).to_file(tmp_path / "m.geojson")
    gdf, _ = read_layer(tmp_path / "m.geojson")
    assert gdf.crs.to_epsg() == 3067
    assert abs(gdf.geometry.iloc[0].bounds[0] - 440000) < 0.01


def test_multilayer_gpkg_needs_a_layer(tmp_path, frame):
    frame.to_file(tmp_path / "a.gpkg", layer="one")
    frame.to_file(tmp_path / "a.gpkg", layer="two")
    with pytest.raises(InputFileError, match="several layers.*one, two.*layer: NAME"):
        read_layer(tmp_path / "a.gpkg")
    gdf, _ = read_layer(tmp_path / "a.gpkg", layer="two")
    assert len(gdf) == 2
    with pytest.raises(InputFileError, match="layer 'three' not found"):
        read_layer(tmp_path / "a.gpkg", layer="three")


def test_csv_semicolon_decimal_comma_bom(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("\ufeffid;lon;lat;value\nA;25,5;65,0;1,5\n".encode())
    gdf, problems = read_layer(path, geometry="required")
    assert problems == []
    assert to_number(gdf["value"]).iloc[0] == 1.5
    assert gdf.crs.to_epsg() == 3067
    assert 400_000 < gdf.geometry.iloc[0].x < 500_000


def test_csv_column_mapping(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("tunnus,itä,pohjoinen,asukkaat\nA,440000,7310000,12\n", encoding="utf-8")
    gdf, problems = read_layer(
        path,
        columns={"cell_id": "tunnus", "x": "itä", "y": "pohjoinen", "population": "asukkaat"},
        geometry="required",
    )
    assert problems == []
    assert gdf["population"].iloc[0] == "12" and gdf.geometry.iloc[0].equals(Point(440000, 7310000))


def test_xlsx_table(tmp_path):
    path = tmp_path / "a.xlsx"
    pd.DataFrame({"actor_id": ["A1"], "x": [440000], "y": [7310000]}).to_excel(path, index=False)
    gdf, problems = read_layer(path)
    assert problems == [] and gdf.geometry.iloc[0].x == 440000


def test_table_without_coordinates(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("actor_id,name\nA1,Yhdistys\n", encoding="utf-8")
    gdf, problems = read_layer(path, geometry="optional")
    assert problems == [] and gdf.geometry.isna().all()
    _, problems = read_layer(path, geometry="required")
    assert "no coordinate columns" in problems[0].message


def test_unsupported_and_missing(tmp_path):
    (tmp_path / "a.txt.gz").write_text("x")
    with pytest.raises(InputFileError, match="unsupported file type"):
        read_layer(tmp_path / "a.txt.gz")
    with pytest.raises(InputFileError, match="file not found"):
        read_layer(tmp_path / "none.csv")


def test_atomic_writers_leave_no_partial_files(tmp_path, frame):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    write_csv(pd.DataFrame({"id": ["x", "y"], "a": [1.0, np.inf]}), target)
    assert target.read_text().splitlines() == ["id,a", "x,1.0", "y,"]  # unreachable (inf) is empty
    write_gpkg({"one": frame, "two": frame}, tmp_path / "r.gpkg")
    import pyogrio

    assert [str(n) for n in pyogrio.list_layers(tmp_path / "r.gpkg")[:, 0]] == ["one", "two"]
    write_xlsx({"a sheet name longer than thirty-one chars": pd.DataFrame({"x": [1]})}, tmp_path / "s.xlsx")
    assert pd.read_excel(tmp_path / "s.xlsx", sheet_name=None).keys() == {"a sheet name longer than thirty"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "r.gpkg", "s.xlsx"]


def test_ensure_writable(tmp_path):
    (tmp_path / "a").write_text("x")
    with pytest.raises(OutputExistsError, match="--force"):
        ensure_writable([tmp_path / "a", tmp_path / "b"], force=False)
    ensure_writable([tmp_path / "a"], force=True)


def test_utf16_tab_separated_reads_with_its_encoding(tmp_path):
    path = tmp_path / "p.txt"
    path.write_bytes("id\tx\ty\nA\t440000\t7310000\n".encode("utf-16"))
    with pytest.raises(InputFileError, match="UTF-16 text.*encoding: utf-16"):
        read_layer(path)
    gdf, problems = read_layer(path, encoding="utf-16")
    assert problems == [] and list(gdf["id"]) == ["A"] and gdf.geometry.iloc[0].x == 440000


def test_blank_lines_keep_the_spreadsheet_row_numbers(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,x,y\nA,440000,7310000\n\n,,\nB,abc,7310000\n", encoding="utf-8")
    gdf, problems = read_layer(path, geometry="required")
    assert list(gdf["_row"]) == [2, 5]
    assert [p.where for p in problems] == ["row 5"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id,name\nA,x,y\n", "row 2 \\(3 fields\\): more cells than the header \\(2"),
        ('id,name\nA,"x\nB,y\n', "row 2: a quoted cell is not closed"),
        ("id,name,x\nA;b;1\n", "row 2: separated by ';', but the header by ','"),
        ("id,Name,name\nA,b,c\n", "'Name' \\(columns 2, 3\\)"),
    ],
)
def test_csv_files_that_cannot_be_read_name_the_cause(tmp_path, text, expected):
    path = tmp_path / "p.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError, match=expected):
        read_layer(path)


def test_cells_with_nul_or_an_ambiguous_decimal_comma(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('id,name,population,x,y\nA,Ky\x00lä,"1,5",440000,7310000\n', encoding="utf-8")
    gdf, problems = read_layer(path)
    assert [(p.where, p.column) for p in problems] == [("row 2", "name"), ("row 2", "population")]
    assert pd.isna(gdf["population"].iloc[0])  # blanked, so no check builds on a guess
    path.write_text("id;population;x;y\nA;1,5;440000;7310000\n", encoding="utf-8")
    assert read_layer(path)[1] == []  # a decimal comma is fine when ';' separates the columns


def test_workbooks_with_empty_extra_sheets_read_the_filled_one(tmp_path):
    path = tmp_path / "a.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame().to_excel(xl, sheet_name="Tyhjä")
        pd.DataFrame({"actor_id": ["A1"], "x": [440000], "y": [7310000]}).to_excel(
            xl, sheet_name="Data", index=False
        )
    gdf, _ = read_layer(path)
    assert list(gdf["actor_id"]) == ["A1"] and list(gdf["_row"]) == [2]
    with pytest.raises(InputFileError, match="sheet 'Muu' not found \\(sheets: Tyhjä, Data\\)"):
        read_layer(path, layer="Muu")


def test_a_wrong_declared_crs_is_named_and_crs_overrides_it(tmp_path, frame):
    path = tmp_path / "m.gpkg"
    frame.set_crs(4326, allow_override=True).to_file(path)  # metres declared as degrees
    with pytest.raises(
        InputFileError, match="outside Finland in the file's CRS EPSG:4326.*look like EPSG:3067"
    ):
        read_layer(path)
    gdf, problems = read_layer(path, crs="EPSG:3067")
    assert abs(gdf.geometry.iloc[0].bounds[0] - 440000) < 0.01
    assert [p.severity for p in problems] == ["warning"] and "read as EPSG:3067" in problems[0].message
    with pytest.raises(InputFileError, match="unknown CRS 'EPSG:99999'"):
        read_layer(path, crs="EPSG:99999")


def test_folders_and_geopackages_without_layers(tmp_path, frame):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InputFileError, match="is a folder, not a file"):
        read_layer(tmp_path / "d.csv")
    import sqlite3

    from arjenturva._io_read import is_empty_geopackage

    frame.to_file(tmp_path / "e.gpkg", layer="kunnat")
    assert not is_empty_geopackage(tmp_path / "e.gpkg")
    with sqlite3.connect(tmp_path / "e.gpkg") as con:
        con.execute("DELETE FROM gpkg_contents")
        con.execute("DELETE FROM gpkg_geometry_columns")
        con.execute("DROP TABLE kunnat")
    con.close()
    assert is_empty_geopackage(tmp_path / "e.gpkg")
    with pytest.raises(InputFileError, match="the GeoPackage holds no layers"):
        read_layer(tmp_path / "e.gpkg")

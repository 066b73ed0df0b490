"""The results folder written by a real run matches the contract of arjenturva.results."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from arjenturva import results as R
from arjenturva.cli import app


def _present(demo_run, table: R.Table) -> list[str]:
    """Where the demo run wrote ``table``: 'csv', 'layer', 'sheet'."""
    where = []
    if table.csv is not None and (demo_run.results / table.csv).is_file():
        where.append("csv")
    if table.layer is not None and table.layer in R.list_layers(demo_run.results):
        where.append("layer")
    if table.sheet is not None and (demo_run.results / table.workbook).is_file():
        where.append("sheet")
    return where


def test_every_table_the_demo_writes_matches_its_schema(demo_run):
    written = 0
    for table in R.TABLES:
        for where in _present(demo_run, table):
            strs = {c.name: str for c in table.columns if c.dtype == "str"}
            if where == "csv":
                raw = pd.read_csv(demo_run.results / table.csv, dtype=strs)
                typed = R.read_table(demo_run.results, table)
            elif where == "layer":
                raw = gpd.read_file(demo_run.results / R.GPKG_FILE, layer=table.layer)
                typed = R.read_layer(demo_run.results, table)
            else:
                raw = pd.read_excel(demo_run.results / table.workbook, sheet_name=table.sheet, dtype=strs)
                typed = raw[[]]  # Excel keeps no dtypes to check
            # Exactly the schema's columns, in its order, each of its dtype.
            assert list(R.conform(raw, table).columns) == list(raw.columns), (table.name, where)
            for col in typed.columns:
                if col == "geometry":
                    continue
                dtype = table.column(col).dtype
                kind = {"str": "OUS", "float": "f", "int": "i", "bool": "b"}[dtype]
                assert typed[col].dtype.kind in kind or typed[col].isna().all(), (
                    table.name,
                    col,
                    typed[col].dtype,
                )
            written += 1
    # access, summary ×2, gap_areas ×3, proposals ×2, proposals_summary, new_sites, 2SFCA, population,
    # gaps, service_points, municipalities, places, unreachable, about, and the demo's vehicles' routes:
    # routes, routes_summary, the routes and route_stops layers
    assert written == 22


def test_run_json_names_its_format(demo_run):
    run = R.read_run(demo_run.results)
    assert run.results_format == R.RESULTS_FORMAT_VERSION
    assert run.synthetic is True and run.attribution


def test_another_format_is_refused_with_a_fix(demo_run, tmp_path):
    data = json.loads((demo_run.results / R.RUN_FILE).read_text(encoding="utf-8"))
    data["results_format"] = 99
    (tmp_path / R.RUN_FILE).write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "summary.csv").write_bytes((demo_run.results / "summary.csv").read_bytes())
    with pytest.raises(R.ResultsError, match=r"results format 99.*reads format 3.*--force"):
        R.read_table(tmp_path, R.SUMMARY)
    result = CliRunner().invoke(app, ["compare", str(tmp_path)])
    assert result.exit_code == 1 and "results format 99" in result.output


def test_writer_refuses_a_frame_that_breaks_the_schema(tmp_path):
    good = pd.DataFrame(
        {
            "cell_id": ["a"],
            "service": ["grocery"],
            "nearest_point_id": ["P1"],
            "distance_m": [1.0],
            "time_s": [np.inf],
            "coverage": [1.0],
        }
    )
    R.write_table(good, R.ACCESS, tmp_path)
    with pytest.raises(R.ResultsError, match="missing column.*coverage"):
        R.write_table(good.drop(columns="coverage"), R.ACCESS, tmp_path)
    with pytest.raises(R.ResultsError, match="not in the schema: extra"):
        R.write_table(good.assign(extra=1), R.ACCESS, tmp_path)
    with pytest.raises(R.ResultsError, match=r"wrong dtype in distance_m \(want float\)"):
        R.write_table(good.assign(distance_m="far"), R.ACCESS, tmp_path)


def test_every_column_has_a_dtype_unit_and_meaning():
    for table in R.TABLES:
        assert table.meaning
        names = [c.name for c in (*table.columns, *table.per_service)]
        assert len(names) == len(set(names)), table.name
        for c in (*table.columns, *table.per_service):
            assert c.dtype in ("str", "float", "int", "bool") and c.meaning, (table.name, c.name)


def test_location_file_names_are_sanitised(tmp_path):
    path = R.csv_path(tmp_path, R.LOCATIONS, model="mclp", service="../../etc/x")
    assert path.parent == tmp_path and path.name == "location_mclp_______etc_x.csv"


def test_usage_errors_exit_2(demo_run):
    runner = CliRunner()
    r = runner.invoke(app, ["propose", "-c", str(demo_run.workspace), "--model", "mclp"])
    assert r.exit_code == 2 and "--service" in r.output
    r = runner.invoke(app, ["compare", str(demo_run.results), "--by", "colour"])
    assert r.exit_code == 2 and "--by" in r.output


def test_the_documented_contract_is_the_contract():
    from pathlib import Path

    doc = Path(__file__).resolve().parents[1] / "docs" / "results.md"
    assert doc.read_text(encoding="utf-8") == R.schema_markdown(), "regenerate: python -m arjenturva.results"


def test_api_reads_tables_through_the_contract(demo_run):
    import arjenturva as at

    summary = at.read_results(demo_run.workspace, "summary")  # a workspace folder holding results/
    assert summary["municipality"].tolist()[:1] == ["996"] and summary["population"].dtype == float
    areas = at.read_results(demo_run.results, "gap_areas")  # the CSV file
    assert areas["cells"].dtype == "int64" and areas["suppressed"].dtype == bool
    layer = at.read_results(demo_run.results, "new_sites")  # a layer of results.gpkg
    assert isinstance(layer, gpd.GeoDataFrame) and layer.crs.to_epsg() == 3067 and layer["hub"].dtype == bool
    with pytest.raises(R.ResultsError, match="unknown results table 'sumary'"):
        at.read_results(demo_run.results, "sumary")


@pytest.fixture(scope="module")
def excel_fi_run(tmp_path_factory):
    """The demo's gap analysis and proposals written in the excel-fi CSV dialect."""
    from arjenturva import api

    ws = tmp_path_factory.mktemp("excelfi") / "ws"
    config = api.copy_demo(ws)
    text = config.read_text(encoding="utf-8")
    assert "\nexport:\n" in text
    text = text.replace("\nexport:\n", "\nexport:\n  csv_dialect: excel-fi\n", 1)
    config.write_text(text, encoding="utf-8")
    return api.run_pipeline(config, with_maps=False).results_dir


def test_excel_fi_dialect_reads_back_the_same_figures(excel_fi_run, demo_run):
    raw = (excel_fi_run / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    header, first = raw.decode("utf-8-sig").splitlines()[:2]
    assert header.startswith("municipality;municipality_name;service;") and "," in first and ";" in first
    for table in (R.SUMMARY, R.PROPOSALS, R.GAP_AREAS, R.ACCESS):
        fi = R.read_table(excel_fi_run, table)
        std = R.read_table(demo_run.results, table)
        pd.testing.assert_frame_equal(fi, std, check_exact=True)


def test_figures_are_rounded_to_their_unit(demo_run):
    access = pd.read_csv(demo_run.results / "access.csv", dtype=str)
    assert not access["distance_m"].dropna().str.contains(r"\.").any()  # whole metres
    summary = pd.read_csv(demo_run.results / "summary.csv", dtype=str)
    decimals = summary["covered_share"].dropna().str.split(".").str[1].str.len()
    assert decimals.max() <= 4


def test_workbook_is_ready_for_excel(demo_run):
    import openpyxl

    book = openpyxl.load_workbook(demo_run.results / R.SUMMARY_XLSX)
    assert book.sheetnames == ["summary", "gap_areas", "unreachable", "about"]
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref, ws.title
        assert ws["A1"].font.bold
        assert all(ws.column_dimensions[c].width >= 8 for c in ("A", "B"))
    summary = book["summary"]
    header = [c.value for c in summary[1]]
    share = summary.cell(row=2, column=header.index("covered_share") + 1)
    assert share.number_format == "0.0%" and 0 <= share.value <= 1
    km = summary.cell(row=2, column=header.index("mean_distance_km") + 1)
    assert km.number_format == "#,##0.00"


def test_text_that_looks_like_a_formula_is_neutralised(tmp_path):
    frame = pd.DataFrame(
        {
            "layer": ["population", "population"],
            "id": ['=HYPERLINK("x")', "ok"],
            "service": ["+1", "a"],
            "reason": ["@SUM(A1)", "-2+3"],
            "population": [1.0, 2.0],
        }
    )
    R.write_workbook([(R.UNREACHABLE, frame)], tmp_path / "w.xlsx")
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "w.xlsx")["unreachable"]
    values = [c.value for c in ws[2]] + [c.value for c in ws[3]]
    assert values[1] == '\'=HYPERLINK("x")' and values[2] == "'+1" and values[3] == "'@SUM(A1)"
    assert values[8] == "'-2+3" and ws.cell(row=2, column=5).value == 1.0

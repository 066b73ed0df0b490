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
    if table.sheet is not None:
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
                raw = pd.read_excel(demo_run.results / R.SUMMARY_XLSX, sheet_name=table.sheet, dtype=strs)
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
    # gaps, service_points, municipalities, places, unreachable, about
    assert written == 18


def test_run_json_names_its_format(demo_run):
    run = R.read_run(demo_run.results)
    assert run.results_format == R.RESULTS_FORMAT_VERSION
    assert run.synthetic is True and run.attribution


def test_another_format_is_refused_with_a_fix(demo_run, tmp_path):
    data = json.loads((demo_run.results / R.RUN_FILE).read_text(encoding="utf-8"))
    data["results_format"] = 99
    (tmp_path / R.RUN_FILE).write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "summary.csv").write_bytes((demo_run.results / "summary.csv").read_bytes())
    with pytest.raises(R.ResultsError, match=r"results format 99.*reads format 2.*--force"):
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

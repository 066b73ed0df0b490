"""Future demand (scenario key ``population``): projection files, factors and scaled cells.

Fixtures in tests/data:

* ``projection_long.csv``: the long format, two made-up municipalities (101, 102), three age
  groups, 2024 and 2040; the hand case below is worked from it.
* ``projection_pxweb_14wx.csv``: the layout of Statistics Finland's PxWeb CSV of table 14wx
  (Väestöennuste 2024) as pxdata.stat.fi writes it: a quoted title line, a blank line, the header
  "Alue","Sukupuoli","Ikä","Tiedot" then one column per year, areas by name (KOKO MAA first),
  Sukupuoli Yhteensä / Miehet / Naiset, Ikä Yhteensä, 0 ... 99 and "100 -". Two real
  municipalities (Posio, Pelkosenniemi) with SYNTHETIC figures that follow a simple pattern, so
  the group sums are known: Posio 2024 has 10 people of every age 0-14, 20 of every age 15-64 and
  12 of every age 65-99 (150, 1000, 420); in 2040 6, 15 and 14 (90, 750, 490). Pelkosenniemi 2024:
  4, 9, 8 and one aged 100+ (60, 450, 281); 2040: 3, 7, 9 and two (45, 350, 317). Males are the
  larger half, females the rest.
* ``projection_bad_missing.csv`` (Posio only, years 2024 and 2030) and ``projection_bad_format.csv``
  (a key table, not a projection): broken on purpose.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point
from typer.testing import CliRunner

from arjenturva import api
from arjenturva.cli import app
from arjenturva.config import ScenarioConfig
from arjenturva.errors import ConfigError, ValidationError
from arjenturva.projection import (
    ALL_AGES,
    project_population,
    projection_factors,
    read_projection,
    scenario_population,
)
from arjenturva.scenarios import apply_scenario

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[1]
REAL = pd.DataFrame({"code": ["614", "580"], "name": ["Posio", "Pelkosenniemi"]})
HAND = pd.DataFrame({"code": ["101", "102"], "name": ["Ykkönen", "Kakkonen"]})


def _cells() -> gpd.GeoDataFrame:
    rows = [  # cell, municipality, population, 0-14, 15-64, 65+
        ("a", "101", 100, 20, 60, 20),
        ("b", "101", 7, np.nan, np.nan, np.nan),  # no age groups (a small cell)
        ("c", "102", 50, 10, 20, 20),
        ("d", "102", 12, 2, 6, 4),
        ("e", "102", 12, 2, 4, 4),  # the groups add up to 10, not 12
        ("f", "102", np.nan, np.nan, np.nan, np.nan),  # suppressed
    ]
    df = pd.DataFrame(
        rows, columns=["cell_id", "municipality", "population", "age_0_14", "age_15_64", "age_65_plus"]
    )
    df["suppressed"] = df["population"].isna()
    return gpd.GeoDataFrame(df, geometry=[Point(i, 0) for i in range(len(df))], crs="EPSG:3067")


def test_the_hand_case():
    # factors from projection_long.csv, by hand: 101: 150/200 = 0.75, 800/1000 = 0.8, 600/400 = 1.5,
    # all ages 1550/1600 = 0.96875; 102: 50/100 = 0.5, 400/500 = 0.8, 750/500 = 1.5, all 1200/1100
    table = read_projection(DATA / "projection_long.csv", municipalities=HAND)
    assert table.layout == "long" and table.years == (2024, 2040)
    factors = projection_factors(table, year=2040, municipalities={"101": "Ykkönen", "102": "Kakkonen"})
    assert factors.base_year == 2024
    assert factors.of("age_0_14") == {"101": 0.75, "102": 0.5}
    assert factors.of("age_65_plus") == {"101": 1.5, "102": 1.5}
    assert factors.of(ALL_AGES) == pytest.approx({"101": 0.96875, "102": 1200 / 1100})
    out = project_population(_cells(), factors, key="scenarios.x.population")
    got = out.population.set_index("cell_id")
    expected = {  # population, 0-14, 15-64, 65+
        "a": (15 + 48 + 30, 15, 48, 30),
        "b": (7 * 0.96875, np.nan, np.nan, np.nan),
        "c": (5 + 16 + 30, 5, 16, 30),
        "d": (1 + 4.8 + 6, 1, 4.8, 6),
        "e": (12 * (1 + 3.2 + 6) / 10, 1, 3.2, 6),
        "f": (np.nan, np.nan, np.nan, np.nan),
    }
    for cell, values in expected.items():
        np.testing.assert_allclose(
            got.loc[cell, ["population", "age_0_14", "age_15_64", "age_65_plus"]].to_numpy(float),
            values,
            rtol=1e-12,
        )
    assert bool(got.loc["f", "suppressed"])
    summary = out.summary.set_index(["municipality", "age_group"])
    assert summary.loc[("101", ALL_AGES), "now"] == 107
    assert summary.loc[("101", ALL_AGES), "projected"] == pytest.approx(93 + 6.78125)
    assert summary.loc[("102", "age_65_plus"), "now"] == 28
    assert summary.loc[("102", "age_65_plus"), "projected"] == pytest.approx(42)
    assert summary.loc[("102", "age_65_plus"), "factor"] == 1.5
    assert summary.loc[("102", ALL_AGES), "projected"] == pytest.approx(51 + 11.8 + 12.24)
    (warning,) = out.warnings
    assert warning.severity == "warning" and "1 cells (7 people) have no age groups" in str(warning)
    assert str(warning).startswith("scenarios.x.population")


def test_the_pxweb_layout_is_read_as_statistics_finland_writes_it():
    table = read_projection(DATA / "projection_pxweb_14wx.csv", municipalities=REAL)
    assert table.layout == "pxweb" and table.years == (2024, 2040)
    sums = table.counts.set_index(["municipality", "age_group", "year"])["population"].to_dict()
    assert sums == {  # only Yhteensä (both sexes), the whole country left out
        ("614", "age_0_14", 2024): 150,
        ("614", "age_15_64", 2024): 1000,
        ("614", "age_65_plus", 2024): 420,
        ("614", "age_0_14", 2040): 90,
        ("614", "age_15_64", 2040): 750,
        ("614", "age_65_plus", 2040): 490,
        ("580", "age_0_14", 2024): 60,
        ("580", "age_15_64", 2024): 450,
        ("580", "age_65_plus", 2024): 281,
        ("580", "age_0_14", 2040): 45,
        ("580", "age_15_64", 2040): 350,
        ("580", "age_65_plus", 2040): 317,
    }
    f = projection_factors(table, year=2040, municipalities={"614": "Posio", "580": "Pelkosenniemi"})
    assert f.of("age_65_plus") == pytest.approx({"614": 490 / 420, "580": 317 / 281})
    assert f.of(ALL_AGES) == pytest.approx({"614": 1330 / 1570, "580": 712 / 791})


def _relayout(text: str, how: str) -> str:
    """The fixture as PxWeb writes other choices: semicolons, codes, one row per year, or sexes only."""
    head, body = text.split("\n\n", 1)
    lines = body.strip("\n").split("\n")
    rows = [[c.strip('"') for c in ln.split(",")] for ln in lines]
    out = []
    if how == "long":  # Vuosi in the rows, areas as codes (KU614), the measure as the value column
        codes = {"Posio": "KU614", "Pelkosenniemi": "KU580", "KOKO MAA": "SSS"}
        out.append('"Alue","Vuosi","Sukupuoli","Ikä","Väestö 31.12. (ennuste 2024)"')
        for r in rows[1:]:
            for year, value in zip(rows[0][4:], r[4:], strict=True):
                out.append(f'"{codes[r[0]]}","{year}","{r[1]}","{r[2]}",{value}')
        return head + "\n\n" + "\n".join(out) + "\n"
    if how == "sexes":  # only Miehet and Naiset: they are summed
        keep = [rows[0]] + [r for r in rows[1:] if r[1] != "Yhteensä"]
        return head + "\n\n" + "\n".join(",".join(f'"{c}"' for c in r) for r in keep) + "\n"
    semi = [";".join([*(f'"{c}"' for c in r[:4]), *r[4:]]) for r in rows[1:]]  # numbers stay bare
    return head + "\n\n" + ";".join(f'"{c}"' for c in rows[0]) + "\n" + "\n".join(semi) + "\n"


@pytest.mark.parametrize(
    "how, encoding", [("semicolon", "cp1252"), ("long", "utf-8"), ("sexes", "utf-8-sig")]
)
def test_other_pxweb_choices_give_the_same_figures(tmp_path, how, encoding):
    text = (DATA / "projection_pxweb_14wx.csv").read_text(encoding="utf-8")
    path = tmp_path / "x.csv"
    path.write_text(_relayout(text, how), encoding=encoding)
    table = read_projection(path, municipalities=REAL)
    ref = read_projection(DATA / "projection_pxweb_14wx.csv", municipalities=REAL)
    pd.testing.assert_frame_equal(table.counts.drop(columns="row"), ref.counts.drop(columns="row"))


def test_a_missing_municipality_and_year_are_both_reported():
    table = read_projection(DATA / "projection_bad_missing.csv", municipalities=REAL)
    with pytest.raises(ValidationError) as err:
        projection_factors(
            table,
            year=2040,
            municipalities={"614": "Posio", "580": "Pelkosenniemi"},
            key="scenarios.v.population",
        )
    text = str(err.value)
    assert "2 problems" in text
    assert (
        "projection_bad_missing.csv: year 2040 is not in the file (years: 2024–2030). Fix: select Vuosi "
        "2040 in PxWeb too, or set `scenarios.v.population.year`" in text
    )
    assert (
        "column 'Alue': no rows for municipality 580 Pelkosenniemi. Fix: select Pelkosenniemi (Alue)" in text
    )


def test_an_unknown_format_and_bad_values_name_file_row_column_and_fix(tmp_path):
    with pytest.raises(
        ValidationError,
        match=r"projection_bad_format.csv, row 1: unknown format: no age "
        r"column.*kunta, nimi, maakunta\. Fix: download table 14wx",
    ):
        read_projection(DATA / "projection_bad_format.csv", municipalities=REAL)
    lines = (DATA / "projection_pxweb_14wx.csv").read_text(encoding="utf-8").split("\n")
    # line 311 + a holds Posio's Yhteensä of age a
    lines[320] = lines[320].replace(",10,6", ",kymmenen,6")  # age 9
    lines[329] = lines[329].replace('"19"', '"yhdeksäntoista"')
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        read_projection(path, municipalities=REAL)
    text = str(err.value)
    assert "bad.csv, row 321, column '2024': 'kymmenen' is not a number" in text
    assert "bad.csv, row 330, column 'Ikä': unknown age 'yhdeksäntoista'" in text
    lines[320] = lines[320].replace("kymmenen", "10")
    lines[329] = lines[329].replace("yhdeksäntoista", "19")
    del lines[358]  # Posio's Yhteensä of age 48 (Miehet and Naiset still hold it)
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(
        ValidationError,
        match=r"the ages do not add up to the groups 0–14, 15–64 and 65\+: 614 "
        r"in 2024: ages 48–48 missing; 614 in 2040: ages 48–48 missing\. Fix: select every age",
    ):
        read_projection(path, municipalities=REAL)


def test_a_scenario_scales_the_workspace_and_names_a_missing_file(tmp_path):
    ws = api.load_workspace(api.copy_demo(tmp_path / "ws"))
    sc = apply_scenario(ws, "vaesto_2040")
    # the demo file by its construction (scripts/make_demo.py PROJECTION): 65+ goes from 3340 + 4 to
    # 4080 + 9 in Kaarnavaara (996) and from 3550 + 3 to 4620 + 8 in Routajärvi (997)
    before = ws.population.groupby("municipality")["age_65_plus"].sum()
    after = sc.population.groupby("municipality")["age_65_plus"].sum()
    assert after["996"] == pytest.approx(before["996"] * 4089 / 3344)
    assert after["997"] == pytest.approx(before["997"] * 4628 / 3553)
    assert sc.files["population_projection"].name == "vaestoennuste_2024.csv"
    assert ws.population["population"].sum() == 18624 and ws is not sc  # the workspace is untouched
    assert any("have no age groups" in str(w) for w in sc.warnings)
    ws.config.scenarios["x"] = ScenarioConfig.model_validate(
        {"population": {"year": 2040, "factors": "no.csv"}}
    )
    with pytest.raises(ConfigError, match=r"scenarios\.x\.population\.factors: file .*no\.csv not found"):
        apply_scenario(ws, "x")
    direct = scenario_population(
        ws.population,
        ws.municipalities[["code", "name"]],
        ws.config.base_dir / "projection" / "vaestoennuste_2024.csv",
        year=2030,
    )
    assert direct.summary.set_index(["municipality", "age_group"]).loc[
        ("996", "age_0_14"), "factor"
    ] == pytest.approx(round(1380 + (1080 - 1380) * 6 / 16) / 1380)


def test_the_demo_projection_file_is_what_make_demo_writes():
    script = REPO / "scripts" / "make_demo.py"
    call = f"runpy.run_path({str(script)!r}, run_name='make_demo')['projection_csv']()"
    code = f"import runpy; print({call}, end='')"
    text = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, timeout=120, encoding="utf-8"
    ).stdout
    assert (REPO / "data" / "demo" / "projection" / "vaestoennuste_2024.csv").read_text(
        encoding="utf-8"
    ) == text
    assert "SYNTHETIC" in text.splitlines()[0]


def test_run_the_2040_scenario_and_compare_it_with_today_from_the_cli(tmp_path):
    runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})
    cfg = api.copy_demo(tmp_path / "ws")
    ws = tmp_path / "ws"
    r = runner.invoke(app, ["gaps", "-c", str(cfg)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["run", "-c", str(cfg), "--scenario", "vaesto_2040", "--quiet"])
    assert r.exit_code == 0, r.output
    run = json.loads((ws / "results-vaesto_2040" / "run.json").read_text(encoding="utf-8"))
    assert run["scenario"] == "vaesto_2040" and "population_projection" in run["inputs"]
    assert any("have no age groups" in w for w in run["warnings"])
    # proposals ran on the projected demand
    props = pd.read_csv(ws / "results-vaesto_2040" / "proposals_summary.csv", dtype={"municipality": str})
    summary = pd.read_csv(ws / "results-vaesto_2040" / "summary.csv", dtype={"municipality": str})
    home = summary[summary["service"] == "elder_home_care"].set_index("municipality")["demand"]
    got = props[props["service"] == "elder_home_care"].set_index("municipality")["demand"]
    np.testing.assert_allclose(got.reindex(home.index), home, rtol=1e-6)
    r = runner.invoke(
        app,
        [
            "compare",
            str(ws / "results"),
            str(ws / "results-vaesto_2040"),
            "--indicator",
            "demand",
            "--out",
            str(tmp_path / "cmp"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "demand by run (Δ = difference to results)" in r.output
    # home care's demand (65+): 3339 and 3553 today, times 4089/3344 and 4628/3553 in 2040
    now, then = 3339 + 3553, 3339 * 4089 / 3344 + 3553 * 4628 / 3553
    row = next(ln for ln in r.output.splitlines() if "elder_home_care" in ln)
    assert [c.strip() for c in row.split("│")[1:-1]] == [
        "elder_home_care",
        f"{now:,}".replace(",", " "),
        f"{round(then):,}".replace(",", " "),
        f"{round(then - now):,}".replace(",", " "),
    ]
    diffs = pd.read_excel(tmp_path / "cmp" / "comparison.xlsx", sheet_name="differences")
    home_diff = diffs.set_index("service").loc["elder_home_care", "demand"]
    assert home_diff == pytest.approx(then - now, abs=0.05)
    r = runner.invoke(
        app,
        ["compare", str(ws / "results"), str(ws / "results-vaesto_2040"), "--indicator", "uncovered_demand"],
    )
    assert r.exit_code == 0 and "uncovered_demand by run" in r.output, r.output

"""The indicators of summary.csv on the real demo run: the service's demand group (demand,
covered_demand, uncovered_demand) and all residents (population, uncovered_population) agree."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import DemoRun

from arjenturva import api
from arjenturva import results as R


@pytest.fixture(scope="module")
def summary(demo_run: DemoRun) -> pd.DataFrame:
    table = R.read_table(demo_run.results, R.SUMMARY)
    return table.loc[table["service"] != "ALL"]


def test_uncovered_demand_at_most_demand(summary: pd.DataFrame) -> None:
    assert len(summary) > 0
    bad = summary.loc[~(summary["uncovered_demand"] <= summary["demand"] + 1e-9)]
    assert bad.empty, bad[["municipality", "service", "demand", "uncovered_demand"]]


def test_demand_is_covered_plus_uncovered(summary: pd.DataFrame) -> None:
    """Up to the rounding of the CSV file (people to 0.1, shares to 0.0001)."""
    total = summary["covered_demand"] + summary["uncovered_demand"]
    assert (total - summary["demand"]).abs().max() <= 0.1 + 1e-9
    share = summary["covered_demand"] / summary["demand"]
    assert (share - summary["covered_share"]).abs().max() <= 0.5e-4 + 1e-9


def test_demand_group_within_all_residents(demo_run: DemoRun, summary: pd.DataFrame) -> None:
    """The demand group is part of the residents: its demand and uncovered demand never exceed
    the population's, and they are equal for services of the whole population."""
    cfg = api.as_config(demo_run.workspace / "arjenturva.yaml")
    assert (summary["demand"] <= summary["population"] + 1e-9).all()
    assert (summary["uncovered_demand"] <= summary["uncovered_population"] + 1e-9).all()
    whole = summary["service"].map(lambda s: cfg.services[s].demand == "population")
    assert whole.any() and (~whole).any()
    rows = summary.loc[whole]
    assert (rows["demand"] == rows["population"]).all()
    assert (rows["uncovered_demand"] == rows["uncovered_population"]).all()

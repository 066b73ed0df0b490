"""The everyday service basket (arjen turva index): a hand case, and the demo recomputed from the
long ``access`` table of the run."""

from __future__ import annotations

import re

import numpy as np
import pytest

from arjenturva import api
from arjenturva import results as R
from arjenturva.coverage.access import ServiceAccess
from arjenturva.coverage.basket import basket_cells, basket_indicators
from arjenturva.errors import ConfigError


def _access(service: str, coverage: list[float]) -> ServiceAccess:
    n = len(coverage)
    z = np.zeros(n)
    return ServiceAccess(service, z, z, np.zeros(n, dtype=int), np.array(coverage), z, z)


def test_hand_case():
    # Four cells in two municipalities; a basket of three services.
    #   cell 0 (muni 0, 100 people, 50 aged 65+): all covered                     -> lacks 0, coverage 1
    #   cell 1 (muni 0, 200 people, 20 aged 65+): post by a 2-day mobile (0.4)     -> lacks 1, coverage 0.4
    #   cell 2 (muni 1, 50 people, 10 aged 65+): grocery and post missing         -> lacks 2, coverage 0
    #   cell 3 (muni 1, 30 people, 30 aged 65+): nothing                          -> lacks 3, coverage 0
    results = {
        "grocery": _access("grocery", [1, 1, 0, 0]),
        "pharmacy": _access("pharmacy", [1, 1, 1, 0]),
        "post": _access("post", [1, 0.4, 0, 0]),
        "library": _access("library", [0, 0, 0, 0]),  # not in the basket
    }
    cells = basket_cells(results, ["grocery", "pharmacy", "post"], 4)
    assert cells is not None
    np.testing.assert_array_equal(cells.lacking, [0, 1, 2, 3])
    np.testing.assert_allclose(cells.coverage, [1, 0.4, 0, 0])
    ind = basket_indicators(cells, np.array([0, 0, 1, 1]), 2, np.array([100.0, 200, 50, 30]),
                            np.array([50.0, 20, 10, 30]))
    np.testing.assert_allclose(ind["basket_share"], [(100 + 80) / 300, 0.0])
    np.testing.assert_allclose(ind["basket_share_65_plus"], [(50 + 8) / 70, 0.0])
    np.testing.assert_allclose(ind["basket_lacking_1"], [200, 0])
    np.testing.assert_allclose(ind["basket_lacking_2"], [0, 50])
    np.testing.assert_allclose(ind["basket_lacking_3_plus"], [0, 30])
    assert basket_cells(results, [], 4) is None


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("basket")
    cfg = api.copy_demo(root / "ws")
    res = api.run_pipeline(cfg, out_dir=root / "results", with_proposals=False, with_maps=False)
    return res


def test_demo_summary_equals_a_recount_from_access(demo_run):
    res = demo_run
    basket = res.workspace.config.gaps.basket
    assert basket == ["grocery", "pharmacy", "health_station", "post"]
    access = res.gaps.access  # every cell (access.csv leaves out cells below the suppression threshold)
    wide = access[access["service"].isin(basket)].pivot(index="cell_id", columns="service", values="coverage")
    pop = res.workspace.population.set_index("cell_id")
    people = pop["population"].fillna(0.0).reindex(wide.index)
    old = pop["age_65_plus"].fillna(0.0).reindex(wide.index)
    muni = pop["municipality"].reindex(wide.index)
    lack = (wide < 1).sum(axis=1)
    cov = wide.min(axis=1)
    summary = res.gaps.summary
    all_rows = summary[summary["service"] == "ALL"].set_index("municipality")
    written = R.read_table(res.results_dir, R.SUMMARY)
    written = written[written["service"] == "ALL"].set_index("municipality")
    for col in ("basket_share", "basket_lacking_3_plus"):
        np.testing.assert_allclose(written[col], all_rows.loc[written.index, col], atol=1e-4)
    for code in all_rows.index:
        m = (muni == code).to_numpy()
        row = all_rows.loc[code]
        assert row["basket_share"] == pytest.approx((people[m] * cov[m]).sum() / people[m].sum())
        assert row["basket_share_65_plus"] == pytest.approx((old[m] * cov[m]).sum() / old[m].sum())
        assert row["basket_lacking_1"] == pytest.approx(people[m][lack[m] == 1].sum())
        assert row["basket_lacking_2"] == pytest.approx(people[m][lack[m] == 2].sum())
        assert row["basket_lacking_3_plus"] == pytest.approx(people[m][lack[m] >= 3].sum())
    assert summary.loc[summary["service"] != "ALL", "basket_share"].isna().all()
    layer = R.read_layer(res.results_dir, R.POPULATION).set_index("cell_id")
    shown = layer.index.intersection(wide.index)
    np.testing.assert_array_equal(layer.loc[shown, "basket_lacking"].to_numpy(), lack[shown].to_numpy())


def test_unknown_basket_service_is_a_config_error(tmp_path):
    cfg = api.copy_demo(tmp_path / "ws")
    text = cfg.read_text(encoding="utf-8").replace("basket: [grocery,", "basket: [groceries,")
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="gaps.basket.*groceries"):
        api.load_workspace(cfg)


def test_without_a_basket_there_are_no_basket_columns(tmp_path):
    cfg = api.copy_demo(tmp_path / "ws")
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(re.sub(r"gaps:\n  basket: .*\n", "gaps: {}\n", text), encoding="utf-8")
    ws = api.load_workspace(cfg)
    assert ws.config.gaps.basket == []
    gaps = api.find_gaps(ws, services=["grocery"])
    assert not any(c.startswith("basket_") for c in gaps.summary.columns)
    assert not any(c.startswith("basket_") for c in gaps.population.columns)

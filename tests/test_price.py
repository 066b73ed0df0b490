"""The price of the cross-sector rule (issue 16): coverage with and without ``min_sectors``."""

from __future__ import annotations

import dataclasses

import pytest

from arjenturva import api
from arjenturva.proposals.price import newly_covered


def _with_rule(ws, n: int):
    rules = ws.config.proposals.model_copy(update={"min_sectors": n})
    cfg = ws.config.model_copy(update={"proposals": rules})
    cfg.base_dir, cfg.path = ws.config.base_dir, ws.config.path
    return dataclasses.replace(ws, config=cfg)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    ws = api.load_workspace(api.copy_demo(tmp_path_factory.mktemp("price") / "ws"))
    net = api.build_network(ws.config)
    return ws, net, api.find_gaps(ws, network=net)


def test_price_is_one_more_solve_without_the_rule(demo):
    ws, net, gaps = demo
    strict = _with_rule(ws, 5)  # more sectors than some municipalities' gaps can use: the rule binds
    _, res = api.propose_after_routes(strict, network=net, gaps=gaps)
    price = res.cross_sector
    assert price is not None and price.min_sectors == 5
    _, free = api.propose_after_routes(_with_rule(ws, 0), network=net, gaps=gaps)
    assert free.cross_sector is None  # no rule, nothing to price
    # the figures equal the two runs' own before/after tables (the same routes come first)
    assert price.covered_without_rule == pytest.approx(newly_covered_raw(free))
    assert price.covered_with_rule <= price.covered_without_rule + 1e-6  # both solves optimal
    assert price.agreements_without_rule == len(free.proposals)


def newly_covered_raw(result) -> float:
    s = result.summary
    before = "uncovered_demand_routes" if "uncovered_demand_routes" in s else "uncovered_demand_before"
    return float((s[before] - s["uncovered_demand_after"]).sum())


def test_newly_covered_sums_the_summary():
    import pandas as pd

    summary = pd.DataFrame({"uncovered_demand_before": [10.0, 5.0], "uncovered_demand_after": [4.0, 5.0]})
    assert newly_covered(type("R", (), {"summary": summary})()) == 6.0

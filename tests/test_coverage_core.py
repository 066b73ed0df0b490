"""Array-level coverage pieces: area classes, floating catchments, clustering, thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import sparse

from arjenturva.config import AreaClassConfig, ServiceConfig
from arjenturva.coverage import (
    INDICATOR_COLUMNS,
    ServiceAccess,
    derive_area_classes,
    e2sfca_weights,
    thresholds_for,
    two_step_fca,
)
from arjenturva.coverage import outlines as coverage_outlines
from arjenturva.coverage.gap_areas import _gap_shared, _service_gap_parts
from arjenturva.coverage.indicators import _service_indicators


def test_degurba_classes_hand_case():
    # A 3x3 block of 1 km cells at 2 000 inh/km² = 18 000 people: an urban cluster (≥300, ≥5 000)
    # but not an urban centre (total < 50 000). A lone cell with 400 inh: rural (cluster too small).
    # A cell with 2 inh: sparsely populated rural (< 5 inh/km²).
    xs, ys, pops = [], [], []
    for i in range(3):
        for j in range(3):
            xs.append(500 + 1000 * i)
            ys.append(7_000_500 + 1000 * j)
            pops.append(2000)
    xs += [20_500, 40_500]
    ys += [7_000_500, 7_000_500]
    pops += [400, 2]
    labels = derive_area_classes(
        np.array(xs), np.array(ys), np.array(pops, float), settings=AreaClassConfig()
    )
    assert list(labels[:9]) == ["K2"] * 9
    assert labels[9] == "M6"
    assert labels[10] == "M7"


def test_degurba_urban_centre_is_four_connected():
    s = AreaClassConfig(urban_centre_population=6000)
    # Two 2x2 blocks of 1 600 inh/km² (6 400 each) touching only at a corner: each block alone
    # totals ≥ 6 000, so both are centres; a diagonal-only pair of single cells is not one centre.
    xs = [500, 1500, 500, 1500, 2500, 3500, 2500, 3500]
    ys = [500, 500, 1500, 1500, 2500, 2500, 3500, 3500]
    labels = derive_area_classes(np.array(xs), np.array(ys), np.full(8, 1600.0), settings=s)
    assert set(labels) == {"K1"}
    xs2, ys2 = [500, 1500], [500, 1500]
    labels2 = derive_area_classes(np.array(xs2), np.array(ys2), np.array([4000.0, 4000.0]), settings=s)
    assert set(labels2) == {"K2"}  # diagonal neighbours: an urban cluster, not a centre


def test_points_are_aggregated_to_grid_density():
    # 20 points of 100 people in one 1 km cell: 2 000 inh/km² → an urban cluster? total 2 000 < 5 000: rural.
    x = np.full(20, 10_200.0)
    y = np.full(20, 7_000_300.0)
    labels = derive_area_classes(
        x, y, np.full(20, 100.0), settings=AreaClassConfig(urban_cluster_population=1500)
    )
    assert set(labels) == {"K2"}


def test_thresholds_per_class():
    svc = ServiceConfig(
        label={"fi": "a", "en": "b"}, threshold_km={"default": 10, "M7": 25}, threshold_min={"K1": 15}
    )
    dm, ts = thresholds_for(svc, np.array(["M7", "K1", "M5"], dtype=object))
    assert list(dm) == [25_000, 10_000, 10_000]
    assert ts[1] == 900 and np.isinf(ts[0]) and np.isinf(ts[2])


def test_mode_weights():
    svc = ServiceConfig(
        label={"fi": "a", "en": "b"}, threshold_km={"default": 10}, mobile={"required_days": 5}, remote=0.5
    )
    assert svc.mode_weight("fixed") == 1
    assert svc.mode_weight("mobile", 2) == pytest.approx(0.4)
    assert svc.mode_weight("mobile", 7) == 1
    assert svc.mode_weight("remote") == 0.5
    plain = ServiceConfig(label={"fi": "a", "en": "b"}, threshold_km={"default": 10})
    assert plain.mode_weight("mobile", 5) == 0 and plain.mode_weight("remote") == 0


def test_two_step_fca_hand_case():
    # Two demand sites (100 and 300 people), two clinics (capacity 10 and 20).
    # Site 0 reaches both clinics, site 1 only clinic 1 (clinic 0 is beyond the catchment).
    cost = sparse.csr_array(np.array([[5.0, 8.0], [50.0, 4.0]]))
    acc, ratio = two_step_fca(cost, np.array([100.0, 300.0]), np.array([10.0, 20.0]), max_cost=10)
    assert ratio == pytest.approx([10 / 100, 20 / 400])
    assert acc == pytest.approx([0.1 + 0.05, 0.05])


def test_zero_cost_entries_count():
    cost = sparse.coo_array((np.array([0.0]), (np.array([0]), np.array([0]))), shape=(1, 1))
    acc, ratio = two_step_fca(cost, np.array([50.0]), np.array([5.0]), max_cost=10)
    assert ratio[0] == pytest.approx(0.1) and acc[0] == pytest.approx(0.1)


@pytest.mark.parametrize("seed", [1, 2])
def test_2sfca_and_e2sfca_match_pysal_access(seed):
    access = pytest.importorskip("access")
    rng = np.random.default_rng(seed)
    nd, ns = 40, 7
    pop = rng.integers(10, 500, nd).astype(float)
    cap = rng.integers(1, 20, ns).astype(float)
    cost = rng.uniform(0, 30, (nd, ns))
    dem = pd.DataFrame({"id": range(nd), "pop": pop})
    sup = pd.DataFrame({"id": range(100, 100 + ns), "cap": cap})
    cdf = pd.DataFrame(
        [(i, 100 + j, cost[i, j]) for i in range(nd) for j in range(ns)], columns=["o", "d", "c"]
    )
    model = access.Access(
        demand_df=dem,
        demand_index="id",
        demand_value="pop",
        supply_df=sup,
        supply_index="id",
        supply_value="cap",
        cost_df=cdf,
        cost_origin="o",
        cost_dest="d",
        cost_name="c",
    )
    theirs = model.two_stage_fca(name="t", max_cost=15, normalize=False)["t_cap"].reindex(range(nd)).fillna(0)
    ours, _ = two_step_fca(sparse.csr_array(cost), pop, cap, max_cost=15)
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-9)
    fn = access.weights.step_fn({5: 1.0, 10: 0.68, 15: 0.22})
    theirs_e = model.enhanced_two_stage_fca(name="e", max_cost=15, weight_fn=fn, normalize=False)
    theirs_e = theirs_e["e_cap"].reindex(range(nd)).fillna(0)
    ours_e, _ = two_step_fca(sparse.csr_array(cost), pop, cap, max_cost=15, weights=e2sfca_weights(15))
    np.testing.assert_allclose(ours_e, theirs_e.to_numpy(), rtol=1e-9)


def _parts(x, y, region, gap_cells, radius, geoms=None):
    x, y = np.asarray(x, float), np.asarray(y, float)
    if geoms is None:
        geoms = shapely.points(x, y)
    shared = _gap_shared(x, y, np.asarray(region), np.asarray(geoms), np.ones(x.size, bool), 1000.0, radius)
    return _service_gap_parts(np.asarray(gap_cells), shared)


def test_gap_clusters_respect_regions_and_radius():
    # Cells 0..4 on a line 1 km apart; cell 3 is in another region; cell 4 is far away.
    x = [0, 1000, 2000, 3000, 10_000]
    region = ["a", "a", "a", "b", "a"]
    lab, k, _ = _parts(x, [0] * 5, region, [0, 1, 2, 3, 4], radius=1500)
    assert k == 3 and lab[0] == lab[1] == lab[2] and lab[3] != lab[2] and lab[4] != lab[0]
    assert lab.tolist() == [0, 0, 0, 1, 2]  # numbered by first appearance
    # Without cell 1, cells 0 and 2 are 2 km apart: two clusters, one with a wider radius.
    assert _parts(x, [0] * 5, region, [0, 2], radius=1500)[1] == 2
    assert _parts(x, [0] * 5, region, [0, 2], radius=2500)[1] == 1


def _outlines(cells: list[tuple[int, int]], area: list[int] | None = None) -> list:
    """Outlines of grid cells (1 km squares); ``area`` puts cells in separate municipalities."""
    ij = np.array(cells, dtype=float)
    boxes = shapely.box(ij[:, 0] * 1000, ij[:, 1] * 1000, ij[:, 0] * 1000 + 1000, ij[:, 1] * 1000 + 1000)
    n = len(cells)
    region = np.zeros(n, np.int64) if area is None else np.asarray(area)
    lab, k, geoms = _parts(ij[:, 0] * 1000 + 500, ij[:, 1] * 1000 + 500, region, np.arange(n),
                           radius=50_000, geoms=boxes)
    assert geoms is not None and k == len(np.unique(region))
    return [geoms[lab[np.flatnonzero(region == r)[0]]] for r in np.unique(region)]


def test_grid_outlines_hand_cases():
    km2 = 1e6
    # Two cells meeting at a corner only: two parts.
    (g,) = _outlines([(0, 0), (1, 1)])
    assert g.geom_type == "MultiPolygon" and len(g.geoms) == 2 and g.is_valid and g.area == 2 * km2
    # A ring of eight cells around a hole.
    ring = [(i, j) for i in range(3) for j in range(3) if (i, j) != (1, 1)]
    (g,) = _outlines(ring)
    assert g.geom_type == "Polygon" and len(g.interiors) == 1 and g.is_valid and g.area == 8 * km2
    assert len(g.exterior.coords) == 5  # corners only, no vertex per cell side
    # The hole touches the outside at a corner: one hole touching the shell at (1, 2) km.
    pinch = [(0, 0), (1, 0), (2, 0), (0, 1), (2, 1), (1, 2), (2, 2)]
    (g,) = _outlines(pinch)
    assert g.geom_type == "Polygon" and len(g.interiors) == 1 and g.is_valid and g.area == 7 * km2
    # Two holes touching each other at a corner.
    block = [(i, j) for i in range(4) for j in range(4) if (i, j) not in ((1, 1), (2, 2))]
    (g,) = _outlines(block)
    assert g.geom_type == "Polygon" and len(g.interiors) == 2 and g.is_valid and g.area == 14 * km2
    # Neighbouring cells of two areas (two municipalities) stay apart.
    a, b = _outlines([(0, 0), (1, 0), (2, 0)], area=[0, 0, 1])
    assert a.area == 2 * km2 and b.area == km2 and a.geom_type == b.geom_type == "Polygon"


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("seed", range(12))
def test_grid_outlines_equal_a_geometric_union(seed, dense, monkeypatch):
    if not dense:  # cells looked up by sorted keys, as for a grid too large to hold densely
        monkeypatch.setattr(coverage_outlines, "_DENSE_GRID_CELLS", 0)
    rng = np.random.default_rng(seed)
    side = int(rng.integers(3, 12))
    keep = rng.random((side, side)) < rng.uniform(0.3, 0.8)
    cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(keep), strict=True)]
    if not cells:
        return
    area = (np.array([i for i, _ in cells]) >= side // 2).astype(np.int64) if seed % 2 else None
    got = _outlines(cells, None if area is None else list(area))
    ij = np.array(cells, float)
    boxes = shapely.box(ij[:, 0] * 1000, ij[:, 1] * 1000, ij[:, 0] * 1000 + 1000, ij[:, 1] * 1000 + 1000)
    lab = np.zeros(len(cells), np.int64) if area is None else area
    for a, g in enumerate(got):
        ref = shapely.union_all(boxes[lab == a])
        assert g.is_valid
        assert g.area == pytest.approx(ref.area)
        assert shapely.symmetric_difference(g, ref).area == pytest.approx(0, abs=1e-6)


def _reference_indicators(df: pd.DataFrame) -> dict[str, float]:
    """Indicators of one municipality and service, one plain formula at a time."""

    def wq(values: np.ndarray, weights: np.ndarray, q: float) -> float:
        ok = np.isfinite(values) & (weights > 0)
        if not ok.any():
            return float("nan")
        order = np.argsort(values[ok])
        v, cum = values[ok][order], np.cumsum(weights[ok][order])
        return float(v[np.searchsorted(cum, q * cum[-1] * (1 - 1e-12))])

    pop, demand, cov = df["population"].to_numpy(), df["demand"].to_numpy(), df["coverage"].to_numpy()
    dist, time = df["distance_m"].to_numpy(), df["time_s"].to_numpy()
    reach = np.isfinite(dist)
    wpop = np.where(reach, pop, 0.0)
    has_w = wpop.sum() > 0
    return {
        "population": pop.sum(),
        "demand": demand.sum(),
        "covered_share": (demand * cov).sum() / demand.sum() if demand.sum() > 0 else np.nan,
        "uncovered_65_plus": (df["age_65_plus"].to_numpy() * (1 - cov)).sum(),
        "uncovered_sparse": (pop * (1 - cov) * df["sparse"].to_numpy()).sum(),
        "unreachable_population": pop[~reach].sum(),
        "mean_distance_km": np.average(dist[reach], weights=wpop[reach]) / 1000 if has_w else np.nan,
        "median_distance_km": wq(dist, wpop, 0.5) / 1000,
        "p90_time_min": wq(time, wpop, 0.9) / 60,
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_service_indicators_equal_a_per_group_computation(seed):
    rng = np.random.default_rng(seed)
    n, n_muni = 400, 5
    muni = rng.integers(0, n_muni, n)
    muni[muni == 4] = 3  # municipality 4 has no cells: zeros and NaN
    cells = {
        "population": rng.integers(0, 50, n).astype(float),
        "age_65_plus": rng.integers(0, 10, n).astype(float),
        "age_0_14": rng.integers(0, 10, n).astype(float),
        "sparse": (rng.random(n) < 0.3).astype(float),
    }
    dist = rng.choice([100.0, 2500.0, 7000.0, np.inf], n, p=[0.3, 0.3, 0.3, 0.1])
    spread = rng.random(n) < 0.4  # many equal distances (ties), some spread out
    dist[spread] = rng.uniform(0, 20_000, int(spread.sum()))
    time = np.where(np.isfinite(dist), dist / 12 + rng.uniform(0, 30, n), np.inf)
    acc = ServiceAccess("s", dist, time, np.zeros(n, np.int64), rng.choice([0.0, 0.5, 1.0], n),
                        np.zeros(n), np.zeros(n))
    demand = cells["age_65_plus"]
    got = _service_indicators(muni, n_muni, cells, demand, acc)
    df = pd.DataFrame({**cells, "demand": demand, "coverage": acc.coverage, "distance_m": dist,
                       "time_s": time, "muni": muni})
    for m in range(n_muni):
        ref = _reference_indicators(df[df["muni"] == m])
        row = dict(zip(INDICATOR_COLUMNS, got[m], strict=True))
        for key, value in ref.items():
            assert row[key] == pytest.approx(value, nan_ok=True, rel=1e-12), (m, key)

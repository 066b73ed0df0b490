"""Indicators of coverage per municipality and service (the ``summary`` table): people and
demand covered and not covered, unreachable people, and mean and quantile distances and times."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import Config
from ..labels import ALL_SERVICES
from .access import ServiceAccess
from .basket import BasketCells, basket_indicators

INDICATOR_COLUMNS = (
    "population",
    "demand",
    "covered_demand",
    "covered_share",
    "uncovered_population",
    "uncovered_demand",
    "uncovered_65_plus",
    "uncovered_0_14",
    "uncovered_sparse",
    "unreachable_population",
    "mean_distance_km",
    "median_distance_km",
    "p90_distance_km",
    "mean_time_min",
    "median_time_min",
    "p90_time_min",
)
"""Indicators of one municipality and service (the columns of ``summary`` after the labels)."""


def _group_quantiles(
    group: np.ndarray, n_groups: int, values: np.ndarray, weights: np.ndarray, qs: tuple[float, ...]
) -> list[np.ndarray]:
    """Weighted quantiles of ``values`` per group, one sort for all ``qs``: for each q the first
    value whose cumulative weight reaches q of the group's total; NaN for groups without weight."""
    outs = [np.full(n_groups, np.nan) for _ in qs]
    sel = np.isfinite(values) & (weights > 0)
    if not sel.any():
        return outs
    g, v, w = group[sel], values[sel], weights[sel]
    order = np.argsort(v)  # ties hold equal values: their order does not change a quantile
    gv = g[order]
    if n_groups <= np.iinfo(np.int16).max:
        gv = gv.astype(np.int16)  # a stable sort of small integers is a radix sort
    order = order[np.argsort(gv, kind="stable")]  # by group, then value
    g, v, w = g[order], v[order], w[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    ends = np.r_[starts[1:], len(g)]
    cum = np.cumsum(w)
    before = np.r_[0.0, cum[starts[1:] - 1]]
    totals = cum[ends - 1] - before
    for out, q in zip(outs, qs, strict=True):
        # The cumulative weight rises within each group: the first value reaching q of the
        # group's total is a binary search in the running sum.
        hit = np.searchsorted(cum, before + q * totals * (1 - 1e-12), side="left")
        out[g[starts]] = v[np.clip(hit, starts, ends - 1)]
    return outs


def _service_indicators(
    muni: np.ndarray, n_muni: int, cells: dict[str, np.ndarray], demand: np.ndarray, acc: ServiceAccess
) -> np.ndarray:
    """Indicators of one service per municipality: an ``(n_muni, len(INDICATOR_COLUMNS))`` array.

    ``muni`` is the municipality number of every cell, ``cells`` its ``population``,
    ``age_65_plus``, ``age_0_14`` and ``sparse`` (0/1) columns.
    """

    def s(v: np.ndarray) -> np.ndarray:
        return np.bincount(muni, weights=v, minlength=n_muni)

    pop, cov, dist, time = cells["population"], acc.coverage, acc.distance_m, acc.time_s
    unc = 1.0 - cov
    reach = np.isfinite(dist)
    wpop = np.where(reach, pop, 0.0)
    tot_demand = s(demand)
    covered = s(demand * cov)
    wsum = s(wpop)
    dq = _group_quantiles(muni, n_muni, dist, wpop, (0.5, 0.9))
    tq = _group_quantiles(muni, n_muni, time, wpop, (0.5, 0.9))
    with np.errstate(invalid="ignore", divide="ignore"):
        values = {
            "population": s(pop),
            "demand": tot_demand,
            "covered_demand": covered,
            "covered_share": np.where(tot_demand > 0, covered / tot_demand, np.nan),
            "uncovered_population": s(pop * unc),
            "uncovered_demand": s(demand * unc),
            "uncovered_65_plus": s(cells["age_65_plus"] * unc),
            "uncovered_0_14": s(cells["age_0_14"] * unc),
            "uncovered_sparse": s(pop * unc * cells["sparse"]),
            "unreachable_population": s(np.where(reach, 0.0, pop)),
            "mean_distance_km": np.where(wsum > 0, s(np.where(reach, dist, 0.0) * wpop) / wsum, np.nan)
            / 1000,
            "median_distance_km": dq[0] / 1000,
            "p90_distance_km": dq[1] / 1000,
            "mean_time_min": np.where(wsum > 0, s(np.where(reach, time, 0.0) * wpop) / wsum, np.nan) / 60,
            "median_time_min": tq[0] / 60,
            "p90_time_min": tq[1] / 60,
        }
    return np.column_stack([values[c] for c in INDICATOR_COLUMNS])


def _summary(
    config: Config,
    municipalities: gpd.GeoDataFrame,
    muni_codes: np.ndarray,
    muni: np.ndarray,
    popv: np.ndarray,
    results: dict[str, ServiceAccess],
    indicators: dict[str, np.ndarray],
    *,
    basket: BasketCells | None = None,
    age_65_plus: np.ndarray | None = None,
) -> pd.DataFrame:
    """The indicators per municipality × service (services in name order), then one row per
    municipality across services (with the service basket's indicators when one is given)."""
    names = dict(zip(municipalities["code"], municipalities["name"], strict=True))
    m_names = [names.get(m, "") for m in muni_codes.tolist()]
    svcs = sorted(results)
    n_m, n_s = len(muni_codes), len(svcs)
    values = (
        np.stack([indicators[s] for s in svcs], axis=1)
        if svcs
        else np.zeros((n_m, 0, len(INDICATOR_COLUMNS)))
    )
    label = {s: config.services[s].label.model_dump()[config.language] for s in svcs}
    per_service = pd.DataFrame(
        {
            "municipality": np.repeat(muni_codes.astype(object), n_s),
            "municipality_name": np.repeat(np.array(m_names, dtype=object), n_s),
            "service": np.tile(np.array(svcs, dtype=object), n_m),
            "service_label": np.tile(np.array([label[s] for s in svcs], dtype=object), n_m),
            **dict(zip(INDICATOR_COLUMNS, values.reshape(n_m * n_s, -1).T, strict=True)),
        }
    )
    # One row per municipality across services.
    share = values[:, :, INDICATOR_COLUMNS.index("covered_share")]
    min_cov = np.ones(len(popv))
    for a in results.values():
        np.minimum(min_cov, a.coverage, out=min_cov)
    known = np.isfinite(share)
    n_known = known.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN where no service has demand
        mean_share = np.where(n_known > 0, np.where(known, share, 0.0).sum(axis=1) / n_known, np.nan)
    across = pd.DataFrame(
        {
            "municipality": muni_codes.astype(object),
            "municipality_name": np.array(m_names, dtype=object),
            "service": "ALL",
            "service_label": ALL_SERVICES.get(config.language),
            "population": np.bincount(muni, weights=popv, minlength=n_m),
            "covered_share": mean_share,
            "services_with_gaps": (share < 1).sum(axis=1),
            "population_lacking_any_service": np.bincount(muni, weights=popv * (min_cov < 1), minlength=n_m),
        }
    )
    if basket is not None:
        ages = np.zeros(len(popv)) if age_65_plus is None else age_65_plus
        for k, v in basket_indicators(basket, muni, n_m, popv, ages).items():
            across[k] = v
    return pd.concat([per_service, across], ignore_index=True)


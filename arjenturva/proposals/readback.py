"""Reading a solution back: chosen options become agreements, new sites and coverage before/after.

Each gap cell's new coverage is shared out among the chosen options that cover it
(:mod:`.shares`); an agreement carries the people of its share, the facts of the gap it closes
(why the people are not covered today, today's distance, the threshold) and a rationale built
from those columns (:func:`.rationale.rationale_for`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import Config
from ..coverage import GapResult
from ..results.tables import PROPOSALS
from ..schema import CRS
from .build import ProblemLookup
from .problem import ProposalProblem, ProposalSolution
from .rationale import GAP_REASONS, rationale_for, site_label
from .shares import option_shares

if TYPE_CHECKING:
    from .price import CrossSectorPrice

_PROPOSAL_COLUMNS = PROPOSALS.names()


@dataclass(frozen=True)
class ProposalResult:
    """Agreements chosen, new sites, coverage before and after, and how the solve went."""

    proposals: gpd.GeoDataFrame  # one row per agreement (point geometry at the site)
    new_sites: gpd.GeoDataFrame  # one row per site with a fixed point or a remote support point
    summary: pd.DataFrame  # municipality × service coverage before and after
    solution: ProposalSolution | None
    n_units: int = 0
    n_options: int = 0
    message: str = ""
    reason: str = ""  # machine-readable cause when there is nothing to propose
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    cross_sector: CrossSectorPrice | None = None
    """Coverage with and without the cross-sector rule (:mod:`.price`), when it was measured."""

    @property
    def status(self) -> str:
        """The solver's status, or ``"nothing_to_propose"`` when there was nothing to solve."""
        return self.solution.status if self.solution is not None else "nothing_to_propose"


def _empty_result(gaps: GapResult, lang: str) -> ProposalResult:
    """No agreements and no new sites; the summary shows the coverage before (and after: the same)."""
    props = gpd.GeoDataFrame(
        pd.DataFrame(columns=_PROPOSAL_COLUMNS), geometry=gpd.GeoSeries([], crs=CRS), crs=CRS
    )
    summary = _before_after(gaps, None, None, lang)
    return ProposalResult(props, _empty_sites(), summary, None)


def _empty_sites() -> gpd.GeoDataFrame:
    """The ``new_sites`` layer without rows."""
    return gpd.GeoDataFrame(
        pd.DataFrame(columns=["site_name", "municipality", "services", "actors", "sectors", "hub"]),
        geometry=gpd.GeoSeries([], crs=CRS),
        crs=CRS,
    )


def _gap_area_of_cell(gaps: GapResult) -> dict[tuple[Any, Any], str]:
    """(cell, service) → the gap area whose polygon holds the cell."""
    if gaps.gap_areas.empty:
        return {}
    gx = gaps.gaps
    gx_cells = gx[["cell_id", "service"]].copy()
    areas = gaps.gap_areas
    joined = gpd.sjoin(
        gpd.GeoDataFrame(gx_cells, geometry=gx.geometry.representative_point(), crs=CRS),
        areas[["gap_area_id", "service", "geometry"]],
        how="left",
        predicate="within",
    )
    joined = joined[joined["service_left"] == joined["service_right"]]
    return dict(
        zip(
            zip(joined["cell_id"], joined["service_left"], strict=True),
            joined["gap_area_id"],
            strict=True,
        )
    )


def _dominant(keys: np.ndarray, weights: np.ndarray) -> Any:
    """The key with the largest total weight (the first in ``keys`` order on ties)."""
    uniq, first, inv = np.unique(keys, return_index=True, return_inverse=True)
    totals = np.bincount(inv.ravel(), weights=weights, minlength=uniq.size)
    best = np.flatnonzero(totals == totals.max())
    return uniq[best[np.argmin(first[best])]]


@dataclass(frozen=True)
class _GapFacts:
    """Why an agreement's people are not covered today, how far they are, and the threshold."""

    reason: str
    distance_today_km: float
    threshold_km: float
    threshold_min: float


def _gap_facts(lookup: ProblemLookup, units: np.ndarray, need: np.ndarray) -> _GapFacts:
    """The gap facts of the units an agreement serves (``need``: their open demand, the weights)."""
    acc = lookup.access
    dist = acc["distance_m"].to_numpy(float)[units]
    c0 = lookup.unit_coverage_before[units]
    reason = np.where(c0 > 0, "partial", np.where(np.isfinite(dist), "distance", "unreachable"))
    w = need if need.sum() > 0 else np.maximum(lookup.unit_population[units], 1e-9)
    rank = np.array([GAP_REASONS.index(r) for r in reason])
    main = GAP_REASONS[int(_dominant(rank, w))]
    # The thresholds of most of the demand (cells of several area classes may differ), and today's
    # mean distance of the demand under those thresholds, so that the two figures belong together.
    thr = np.c_[lookup.unit_threshold_m[units], lookup.unit_threshold_s[units]]
    pair = np.unique(thr, axis=0, return_inverse=True)[1].ravel()
    main_pair = pair == _dominant(pair, w)
    thr_m, thr_s = thr[int(np.flatnonzero(main_pair)[0])]
    fin = np.isfinite(dist) & (w > 0) & main_pair
    km = round(float(np.average(dist[fin], weights=w[fin]) / 1000.0), 1) if fin.any() else float("nan")
    return _GapFacts(
        reason=main,
        distance_today_km=km,
        threshold_km=thr_m / 1000.0 if np.isfinite(thr_m) else float("nan"),
        threshold_min=thr_s / 60.0 if np.isfinite(thr_s) else float("nan"),
    )


def _agreement(
    config: Config,
    problem: ProposalProblem,
    lookup: ProblemLookup,
    actors: gpd.GeoDataFrame,
    *,
    j: int,
    units: np.ndarray,
    share: np.ndarray,
    gap_area_of: dict[tuple[Any, Any], str],
    names: dict[Any, Any],
    load: float,
    lang: str,
) -> dict[str, Any]:
    """One agreement row (without its rationale) for chosen option ``j``, which covers ``share`` of
    the open need of the demand units ``units``."""
    acc, opt, sites = lookup.access, lookup.options, lookup.sites
    left = 1.0 - lookup.unit_coverage_before[units]  # the part of each cell's demand not covered before
    cap = actors["capacity"].to_numpy(float)
    a = int(opt.actor[j])
    actor = actors.iloc[a]
    s = int(opt.site[j])
    sid = opt.service[j]
    need = lookup.unit_demand[units] * left
    known = lookup.unit_ages_known[units]
    p65 = float((lookup.unit_65_plus[units] * left * share)[known].sum()) if known.any() else float("nan")
    cells = acc["cell_id"].to_numpy()[units]
    facts = _gap_facts(lookup, units, need)
    days = opt.days[j]
    base_km = opt.base_km[j]
    muni = str(sites.municipality[s])
    row = {
        "agreement_id": "",
        "municipality": muni,
        "municipality_name": names.get(muni, ""),
        "gap_areas": ";".join(sorted({gap_area_of[(c, sid)] for c in cells if (c, sid) in gap_area_of})),
        "service": sid,
        "service_label": config.services[sid].label.model_dump()[lang],
        "actor_id": actor["actor_id"],
        "actor_name": actor["name"],
        "sector": actor["sector"],
        "mode": opt.mode[j],
        "site_name": str(sites.name[s]),
        "site_kind": str(sites.kind[s]),
        "site_x": float(sites.x[s]),
        "site_y": float(sites.y[s]),
        "site_place": str(sites.place[s]),
        "site_place_km": float(sites.place_km[s]),
        "site_bearing": str(sites.bearing[s]),
        "days_per_week": days,
        "demand_group": config.services[sid].demand,
        "demand_reached": float(need.sum()),
        "demand_covered": float((need * share).sum()),
        "covered_65_plus": p65,
        "people_reached": float((lookup.unit_population[units] * left * share).sum()),
        "gap_reason": facts.reason,
        "distance_today_km": facts.distance_today_km,
        "threshold_km": facts.threshold_km,
        "threshold_min": facts.threshold_min,
        "distance_from_base_km": base_km,
        "capacity_used": load,
        "capacity_available": float(cap[a]) if np.isfinite(cap[a]) else np.nan,
        "score": float((lookup.unit_weight[units] * share).sum() - problem.opt_cost[j]),
        "rationale": "",
    }
    row["site_name"] = site_label(row, lang)
    return row


def _as_written(props: pd.DataFrame) -> pd.DataFrame:
    """The rows as ``proposals.csv`` holds them: figures rounded to their unit's precision."""
    out = props.copy()
    for col in out.columns:
        decimals = PROPOSALS.column(col).decimals
        if decimals is not None:
            out[col] = out[col].astype(float).replace([np.inf, -np.inf], np.nan).round(decimals)
    return out


def _with_rationales(props: pd.DataFrame, config: Config, lang: str) -> pd.DataFrame:
    """The rationale of every agreement, from its row as written (so that reading ``proposals.csv``
    back and calling :func:`.rationale.rationale_for` gives the same text)."""
    written = _as_written(props)
    props = props.copy()
    rows = [{str(k): v for k, v in rec.items()} for rec in written.to_dict("records")]
    props["rationale"] = [rationale_for(row, config, lang) for row in rows]
    return props


def _new_sites(props: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per site with fixed or remote agreements; a hub when it offers several services."""
    fixed = props[props["mode"].isin(["fixed", "remote"])]
    site_rows = []
    for (sx, sy), df in fixed.groupby(["site_x", "site_y"], sort=False):
        site_rows.append(
            {
                "site_name": df["site_name"].iloc[0],
                "municipality": df["municipality"].iloc[0],
                "services": ";".join(sorted(set(df["service"]))),
                "actors": ";".join(sorted(set(df["actor_name"]))),
                "sectors": ";".join(sorted(set(df["sector"]))),
                "hub": len(set(df["service"])) > 1,
                "x": sx,
                "y": sy,
            }
        )
    if not site_rows:
        return _empty_sites()
    sdf = pd.DataFrame(site_rows)
    return gpd.GeoDataFrame(
        sdf.drop(columns=["x", "y"]), geometry=shapely.points(sdf["x"], sdf["y"]), crs=CRS
    )


def _read_solution(
    config: Config,
    problem: ProposalProblem,
    sol: ProposalSolution,
    lookup: ProblemLookup,
    actors: gpd.GeoDataFrame,
    gaps: GapResult,
    lang: str,
) -> ProposalResult:
    """Agreements, new sites and coverage before/after of a solution."""
    opt = lookup.options
    names = dict(zip(gaps.municipalities["code"], gaps.municipalities["name"], strict=True))
    gap_area_of = _gap_area_of_cell(gaps)
    chosen = np.asarray(sol.chosen, dtype=np.int64)
    shares = option_shares(lookup.unit_coverage, chosen)  # demand units × chosen options
    left = 1.0 - lookup.unit_coverage_before  # the part of each cell's demand not covered before
    unit_load = lookup.unit_demand * left * lookup.unit_clients_per_resident
    option_load = np.asarray(shares.T @ unit_load).ravel()
    load_by_actor: dict[int, float] = {}
    for t, j in enumerate(chosen):
        a = int(opt.actor[j])
        load_by_actor[a] = load_by_actor.get(a, 0.0) + float(option_load[t])
    rows = []
    for t, j in enumerate(chosen):
        col = shares[:, [t]].tocoo()
        keep = col.data > 0
        if not keep.any():  # never after propose_partnerships' pruning; an agreement covers someone
            continue
        rows.append(
            _agreement(
                config,
                problem,
                lookup,
                actors,
                j=int(j),
                units=col.row[keep],
                share=col.data[keep],
                gap_area_of=gap_area_of,
                names=names,
                load=load_by_actor.get(int(opt.actor[j]), 0.0),
                lang=lang,
            )
        )
    props = pd.DataFrame(rows, columns=_PROPOSAL_COLUMNS)
    if props.empty:
        return replace(
            _empty_result(gaps, lang), solution=sol, n_units=problem.n_units, n_options=problem.n_options
        )
    props = props.sort_values(["municipality", "service", "score"], ascending=[True, True, False])
    props["agreement_id"] = [f"P{i + 1:03d}" for i in range(len(props))]
    props = _with_rationales(props.reset_index(drop=True), config, lang)
    geoms = shapely.points(props["site_x"].to_numpy(), props["site_y"].to_numpy())
    props_gdf = gpd.GeoDataFrame(props, geometry=geoms, crs=CRS)
    # Coverage after: per (cell, service) unit.
    after = lookup.access[["cell_id", "service"]].copy()
    after["new_coverage"] = lookup.unit_coverage_before + left * np.asarray(shares.sum(axis=1)).ravel()
    summary = _before_after(gaps, after, props_gdf, lang)
    return ProposalResult(
        props_gdf, _new_sites(props_gdf), summary, sol, n_units=problem.n_units, n_options=problem.n_options
    )


def _before_after(
    gaps: GapResult, after: pd.DataFrame | None, props: pd.DataFrame | None, lang: str
) -> pd.DataFrame:
    """Coverage, uncovered demand, residents and 65+ per municipality and service, before and after."""
    acc = gaps.access
    df = acc[["cell_id", "service", "municipality", "population", "demand", "age_65_plus", "coverage"]].copy()
    if after is not None and not after.empty:
        df = df.merge(after, on=["cell_id", "service"], how="left")
        df["coverage_after"] = df["new_coverage"].fillna(df["coverage"])
    else:
        df["coverage_after"] = df["coverage"]
    demand = df["demand"].to_numpy(float)
    before, after_ = df["coverage"].to_numpy(float), df["coverage_after"].to_numpy(float)
    terms = {
        "demand": demand,
        "covered_before": demand * before,
        "covered_after": demand * after_,
        "uncovered_demand_before": demand * (1 - before),
        "uncovered_demand_after": demand * (1 - after_),
        "uncovered_population_before": df["population"].to_numpy(float) * (1 - before),
        "uncovered_population_after": df["population"].to_numpy(float) * (1 - after_),
        "uncovered_65_plus_before": df["age_65_plus"].to_numpy(float) * (1 - before),
        "uncovered_65_plus_after": df["age_65_plus"].to_numpy(float) * (1 - after_),
    }
    counts: dict[Any, int] = {}
    if props is not None and not props.empty:
        counts = props.groupby(["municipality", "service"]).size().to_dict()
    groups = cast("dict[tuple[Any, Any], np.ndarray]", df.groupby(["municipality", "service"]).indices)
    rows = []
    # Each group's sums over its rows in table order, as pandas sums a group's column.
    for (muni, sid), at in sorted(groups.items()):
        t = {k: float(v[at].sum()) for k, v in terms.items()}
        dem = t["demand"]
        rows.append(
            {
                "municipality": muni,
                "service": sid,
                "demand": dem,
                "covered_share_before": t["covered_before"] / dem if dem > 0 else np.nan,
                "covered_share_after": t["covered_after"] / dem if dem > 0 else np.nan,
                **{k: t[k] for k in list(terms)[3:]},
                "agreements": int(counts.get((muni, sid), 0)),
            }
        )
    return pd.DataFrame(rows)

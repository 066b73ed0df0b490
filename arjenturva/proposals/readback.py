"""Reading a solution back: chosen options become agreements, new sites and coverage before/after.

Each gap cell's new coverage is attributed to the chosen option that gives it the most; the
agreements carry the people they reach and a rationale a coordinator can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import Config
from ..coverage import GapResult
from ..schema import CRS
from .build import ProblemLookup
from .problem import ProposalProblem, ProposalSolution
from .rationale import _rationale

_PROPOSAL_COLUMNS = [
    "agreement_id",
    "municipality",
    "municipality_name",
    "gap_areas",
    "service",
    "service_label",
    "actor_id",
    "actor_name",
    "sector",
    "mode",
    "site_name",
    "site_kind",
    "site_x",
    "site_y",
    "days_per_week",
    "demand_covered",
    "covered_65_plus",
    "people_reached",
    "distance_from_base_km",
    "capacity_used",
    "capacity_available",
    "score",
    "rationale",
]


@dataclass(frozen=True)
class ProposalResult:
    """Agreements chosen, new sites, coverage before and after, and how the solve went."""

    proposals: gpd.GeoDataFrame  # one row per agreement (point geometry at the site)
    new_sites: gpd.GeoDataFrame  # one row per site with at least one fixed agreement
    summary: pd.DataFrame  # municipality × service coverage before and after
    solution: ProposalSolution | None
    n_units: int = 0
    n_options: int = 0
    message: str = ""
    reason: str = ""  # machine-readable cause when there is nothing to propose
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

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


def _best_option(cover: Any, chosen: np.ndarray) -> np.ndarray:
    """Per demand unit, the chosen option covering it most (-1 when none covers it)."""
    n_units = cover.shape[0]
    best = np.full(n_units, -1)
    best_val = np.zeros(n_units)
    for j in chosen:
        col = cover[:, [j]].tocoo()
        better = col.data > best_val[col.row]
        best[col.row[better]] = j
        best_val[col.row[better]] = col.data[better]
    return best


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
    """One agreement row for chosen option ``j``, which serves the demand units ``units``."""
    acc, opt, sites = lookup.access, lookup.options, lookup.sites
    left = 1.0 - lookup.unit_coverage_before  # the part of each cell's demand not covered before
    cap = actors["capacity"].to_numpy(float)
    unit_pop = lookup.unit_population
    a = int(opt.actor[j])
    actor = actors.iloc[a]
    s = int(opt.site[j])
    sid = opt.service[j]
    people = float((unit_pop[units] * left[units] * share).sum())
    dem = float((lookup.unit_demand[units] * left[units] * share).sum())
    p65 = float((lookup.unit_65_plus[units] * left[units] * share).sum())
    dist = acc["distance_m"].to_numpy()[units]
    w = unit_pop[units]
    fin = np.isfinite(dist) & (w > 0)
    mean_km = float(np.average(dist[fin], weights=w[fin]) / 1000) if fin.any() else float("inf")
    cells = acc["cell_id"].to_numpy()[units]
    areas = sorted({gap_area_of[(c, sid)] for c in cells if (c, sid) in gap_area_of})
    label = config.services[sid].label.model_dump()[lang]
    mode = opt.mode[j]
    days = opt.days[j]
    base_km = opt.base_km[j]
    site_name = str(sites.name[s])
    muni = str(sites.municipality[s])
    score = float((lookup.unit_weight[units] * share).sum() - problem.opt_cost[j])
    return {
        "agreement_id": "",
        "municipality": muni,
        "municipality_name": names.get(muni, ""),
        "gap_areas": ";".join(areas),
        "service": sid,
        "service_label": label,
        "actor_id": actor["actor_id"],
        "actor_name": actor["name"],
        "sector": actor["sector"],
        "mode": mode,
        "site_name": site_name,
        "site_kind": str(sites.kind[s]),
        "site_x": float(sites.x[s]),
        "site_y": float(sites.y[s]),
        "days_per_week": days,
        "demand_covered": dem,
        "covered_65_plus": p65,
        "people_reached": people,
        "distance_from_base_km": base_km,
        "capacity_used": load,
        "capacity_available": float(cap[a]) if np.isfinite(cap[a]) else np.nan,
        "score": score,
        "rationale": _rationale(
            lang,
            place=site_name,
            people=people,
            p65=p65,
            service_label=label,
            dist_km=mean_km,
            actor=str(actor["name"]),
            sector=str(actor["sector"]),
            mode=mode,
            days=days if np.isfinite(days) else 0,
            base_km=base_km if base_km == base_km else 0,
        ),
    }


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
    # Back from aggregated solver units to gap cells, and attribute each cell's new coverage to
    # the chosen option giving it the most.
    y = sol.coverage[lookup.unit_group]
    gap_area_of = _gap_area_of_cell(gaps)
    best = _best_option(lookup.unit_coverage.tocsc(), sol.chosen)
    left = 1.0 - lookup.unit_coverage_before  # the part of each cell's demand not covered before
    unit_load = lookup.unit_demand * left * lookup.unit_clients_per_resident * y
    load_by_actor: dict[int, float] = {}
    for j in sol.chosen:
        a = int(opt.actor[j])
        load_by_actor[a] = load_by_actor.get(a, 0.0) + float(unit_load[np.flatnonzero(best == j)].sum())
    rows = []
    for j in sol.chosen:
        units = np.flatnonzero(best == j)
        rows.append(
            _agreement(
                config,
                problem,
                lookup,
                actors,
                j=int(j),
                units=units,
                share=y[units],
                gap_area_of=gap_area_of,
                names=names,
                load=load_by_actor.get(int(opt.actor[j]), 0.0),
                lang=lang,
            )
        )
    props = pd.DataFrame(rows)
    if props.empty:
        return replace(
            _empty_result(gaps, lang), solution=sol, n_units=problem.n_units, n_options=problem.n_options
        )
    props = props.sort_values(["municipality", "service", "score"], ascending=[True, True, False])
    props["agreement_id"] = [f"P{i + 1:03d}" for i in range(len(props))]
    geoms = shapely.points(props["site_x"].to_numpy(), props["site_y"].to_numpy())
    props_gdf = gpd.GeoDataFrame(props.reset_index(drop=True), geometry=geoms, crs=CRS)
    # Coverage after: per (cell, service) unit.
    after = lookup.access[["cell_id", "service"]].copy()
    after["new_coverage"] = lookup.unit_coverage_before + left * y
    summary = _before_after(gaps, after, props_gdf, lang)
    return ProposalResult(
        props_gdf, _new_sites(props_gdf), summary, sol, n_units=problem.n_units, n_options=problem.n_options
    )


def _before_after(
    gaps: GapResult, after: pd.DataFrame | None, props: pd.DataFrame | None, lang: str
) -> pd.DataFrame:
    """Coverage, uncovered residents and uncovered 65+ per municipality and service, before and after."""
    acc = gaps.access
    df = acc[["cell_id", "service", "municipality", "population", "demand", "age_65_plus", "coverage"]].copy()
    if after is not None and not after.empty:
        df = df.merge(after, on=["cell_id", "service"], how="left")
        df["coverage_after"] = df["new_coverage"].fillna(df["coverage"])
    else:
        df["coverage_after"] = df["coverage"]
    rows = []
    for (muni, sid), d in df.groupby(["municipality", "service"], sort=True):
        dem = d["demand"].sum()
        rows.append(
            {
                "municipality": muni,
                "service": sid,
                "demand": dem,
                "covered_share_before": (d["demand"] * d["coverage"]).sum() / dem if dem > 0 else np.nan,
                "covered_share_after": (d["demand"] * d["coverage_after"]).sum() / dem if dem > 0 else np.nan,
                "uncovered_population_before": (d["population"] * (1 - d["coverage"])).sum(),
                "uncovered_population_after": (d["population"] * (1 - d["coverage_after"])).sum(),
                "uncovered_65_plus_before": (d["age_65_plus"] * (1 - d["coverage"])).sum(),
                "uncovered_65_plus_after": (d["age_65_plus"] * (1 - d["coverage_after"])).sum(),
                "agreements": 0
                if props is None or props.empty
                else int(((props["municipality"] == muni) & (props["service"] == sid)).sum()),
            }
        )
    return pd.DataFrame(rows)

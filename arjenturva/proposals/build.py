"""Building the proposal problem: gap cells, actors and candidate sites in, a :class:`ProposalProblem` out.

The steps: the gap rows of the access table become demand units (gap cell × service); candidate
sites are chosen (:mod:`.candidates`); road costs from the cells and the actors' bases to the sites
are computed by batched multi-source sweeps; the candidate options are searched (:mod:`.options`);
units that the same options cover alike are merged for the solver. :class:`ProblemLookup` keeps
what the readback (:mod:`.readback`) needs to turn the solution into agreements.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from ..config import Config
from ..coverage import GapResult, thresholds_for
from ..network import Network, Snapped, cost_matrix, snap_points
from ..schema import SECTORS
from .candidates import _candidate_sites, _Sites
from .options import CandidateOptions, _Actors, _build_options, _DemandUnits, _Reach
from .problem import ProposalProblem
from .rationale import MODE_CODES, MODE_NAMES

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ProblemLookup:
    """What the readback needs besides the problem: demand units, options and sites.

    Every ``unit_*`` array has one entry per demand unit (a row of ``access``); the problem's units
    are groups of them (``unit_group``).
    """

    access: pd.DataFrame  # the gap rows of the access table (cell × service), index 0..n-1
    options: CandidateOptions
    sites: _Sites
    municipalities: list[str]  # municipality codes in the order of the problem's integer codes
    services: list[str]  # service ids in the order of the problem's integer codes
    unit_population: np.ndarray
    unit_65_plus: np.ndarray
    unit_coverage_before: np.ndarray
    unit_clients_per_resident: np.ndarray
    unit_demand: np.ndarray
    unit_weight: np.ndarray  # the solver weight of each demand unit
    unit_group: np.ndarray  # the problem unit (row of ``problem.coverage``) of each demand unit
    unit_coverage: sparse.csr_matrix  # demand units × options, before the merge into groups
    unit_ages_known: np.ndarray  # whether the unit's cell has age groups (False: unknown)
    unit_threshold_m: np.ndarray  # the unit's distance threshold (inf: none)
    unit_threshold_s: np.ndarray  # the unit's time threshold (inf: none)
    option_min_demand: np.ndarray  # the smallest newly covered demand each option's agreement needs


@dataclass(frozen=True)
class BuiltProblem:
    """The problem and its lookup, or (both None) the reason there is nothing to propose.

    ``reason`` is one of ``no_gaps``, ``unreachable``, ``no_actors``, ``no_sites`` and
    ``no_options`` when there is no problem, else empty.
    """

    problem: ProposalProblem | None
    lookup: ProblemLookup | None
    reason: str = ""


@dataclass(frozen=True)
class _Budgets:
    """The budget overrides of a call (None: the config's value)."""

    max_new_sites: int | None
    max_mobile_routes: int | None
    max_remote_points: int | None


def _nothing(reason: str) -> BuiltProblem:
    return BuiltProblem(None, None, reason)


def _gap_rows(gaps: GapResult, services: list[str]) -> pd.DataFrame:
    """The access rows of the services that are not fully covered and have residents."""
    acc = gaps.access
    return acc[acc["service"].isin(services) & (acc["coverage"] < 1.0) & (acc["population"] > 0)]


def _demand_units(config: Config, gaps: GapResult, acc: pd.DataFrame) -> _DemandUnits:
    """Demand units (gap cells × service) of the access rows ``acc``, and their distinct cells."""
    pop = gaps.population.reset_index(drop=True)
    cell_pos = pd.Series(np.arange(len(pop)), index=pop["cell_id"].to_numpy())
    unit_cell = cell_pos.loc[acc["cell_id"]].to_numpy()
    ages = pop["age_65_plus"] if "age_65_plus" in pop.columns else pd.Series(np.nan, index=pop.index)
    thr_m = np.full(len(acc), np.inf)
    thr_s = np.full(len(acc), np.inf)
    service = acc["service"].to_numpy()
    area_class = acc["area_class"].to_numpy(object)
    for sid in pd.unique(service):
        rows = service == sid
        thr_m[rows], thr_s[rows] = thresholds_for(config.services[sid], area_class[rows])
    reps = pop.geometry.iloc[np.unique(unit_cell)]
    reps = reps.where(reps.geom_type == "Point", reps.representative_point())
    uniq_cells = np.unique(unit_cell)
    local = pd.Series(np.arange(len(uniq_cells)), index=uniq_cells)
    return _DemandUnits(
        cell=local.loc[unit_cell].to_numpy(),
        cell_xy=np.column_stack([reps.x.to_numpy(), reps.y.to_numpy()]),
        service=acc["service"].to_numpy(),
        coverage=acc["coverage"].to_numpy(float),
        area_class=acc["area_class"].to_numpy(object),
        demand=acc["demand"].to_numpy(float),
        age_65_plus=acc["age_65_plus"].to_numpy(float),
        population=acc["population"].to_numpy(float),
        municipality=acc["municipality"].to_numpy(object),
        ages_known=ages.notna().to_numpy()[unit_cell],
        threshold_m=thr_m,
        threshold_s=thr_s,
    )


def _reach(
    config: Config, net: Network, origins: Snapped, targets: Snapped, services: list[str], sites: _Sites
) -> _Reach:
    """Road length (m) and time (s) from the cells to the sites, within the largest thresholds."""
    km_limits = [max(t.values()) for sid_ in services if (t := config.services[sid_].threshold_km)]
    min_limits = [max(t.values()) for sid_ in services if (t := config.services[sid_].threshold_min)]
    lim_m = 1000.0 * max(km_limits, default=0.0)
    lim_s = 60.0 * max(min_limits, default=0.0)
    speed = config.network.access_speed_kmh
    cm_len = (
        cost_matrix(net, origins, targets, weight="length", limit=lim_m, access_speed_kmh=speed)
        if lim_m > 0
        else None
    )
    cm_time = (
        cost_matrix(net, origins, targets, weight="time", limit=lim_s, access_speed_kmh=speed)
        if lim_s > 0
        else None
    )
    return _Reach(
        length=sparse.csc_array(cm_len) if cm_len is not None else None,
        time=sparse.csc_array(cm_time) if cm_time is not None else None,
        site_ok=targets.ok,
        site_municipality=sites.municipality,
    )


def _actor_table(
    config: Config, net: Network, actors: gpd.GeoDataFrame, site_snap: Snapped, n_sites: int
) -> _Actors:
    """The actors with their limits, and road distances from their bases to the sites (mobile visits)."""
    pc = config.proposals
    has_base = ~(actors.geometry.isna() | actors.geometry.is_empty).to_numpy()
    base_xy = np.column_stack(
        [
            np.where(has_base, actors.geometry.x, np.nan) if has_base.any() else np.full(len(actors), np.nan),
            np.where(has_base, actors.geometry.y, np.nan) if has_base.any() else np.full(len(actors), np.nan),
        ]
    )
    max_travel = actors["max_travel_km"].to_numpy(float)
    max_travel = np.where(np.isfinite(max_travel), max_travel, pc.default_max_travel_km)
    base_dist = None
    if has_base.any():
        base_snap = snap_points(
            net, np.nan_to_num(base_xy, nan=0.0), tolerance_m=config.network.snap_tolerance_m
        )
        lim_b = 1000.0 * float(max_travel[has_base].max())
        bd = sparse.coo_array(cost_matrix(net, base_snap, site_snap, weight="length", limit=lim_b))
        base_dist = np.full((len(actors), n_sites), np.inf)
        base_dist[bd.row, bd.col] = bd.data
        base_dist[~has_base, :] = np.inf
    return _Actors(
        rows=list(actors.itertuples(index=False)),
        rank_capacity=np.nan_to_num(actors["capacity"].to_numpy(float), nan=0.0, posinf=1e18),
        cost_per_km=actors["cost_per_km"].to_numpy(float),
        max_travel_km=max_travel,
        base_dist=base_dist,
    )


def _unit_groups(
    cover: sparse.csr_matrix, unit_svc_code: np.ndarray, unit_muni_code: np.ndarray
) -> np.ndarray:
    """Group index of each unit: units of one service and municipality that the same options cover
    by the same fractions (to 9 decimals), numbered by first appearance.

    Such units are one unit for the solver (an exact aggregation: weights and loads add up), which
    shrinks the model a lot. ``cover`` must have sorted indices. Rows are compared as whole table
    rows (codes, option indices, rounded fractions), one table per row length.
    """
    n = cover.shape[0]
    nnz = np.diff(cover.indptr)
    data = np.round(cover.data, 9)
    first = np.empty(n, dtype=np.int64)  # the first unit of each unit's group
    for k in np.unique(nnz).tolist():  # one table per row length
        rows = np.flatnonzero(nnz == k)
        at = cover.indptr[rows][:, None] + np.arange(k)
        table = np.column_stack([unit_svc_code[rows], unit_muni_code[rows], cover.indices[at], data[at]])
        table = np.ascontiguousarray(table, dtype=float)
        # Each row as one opaque value: rows are equal when their bytes are.
        keys = table.view(np.dtype((np.void, table.dtype.itemsize * table.shape[1]))).ravel()
        _, head, inverse = np.unique(keys, return_index=True, return_inverse=True)
        first[rows] = rows[head][inverse.ravel()]
    return np.searchsorted(np.unique(first), first)


def _per_value(values: Any, value_of: Callable[[Any], Any]) -> np.ndarray:
    """``value_of`` applied once per distinct entry of ``values`` and spread to every entry."""
    codes, distinct = pd.factorize(np.asarray(values, dtype=object))
    return np.array([value_of(v) for v in distinct])[codes]


def _assemble(
    config: Config,
    acc: pd.DataFrame,
    units: _DemandUnits,
    options: CandidateOptions,
    sites: _Sites,
    actors: gpd.GeoDataFrame,
    services: list[str],
    budgets: _Budgets,
) -> BuiltProblem:
    """The solver's problem (demand units merged into groups) and the lookup of the readback."""
    pc = config.proposals
    cover = options.coverage
    n = cover.shape[0]
    svc_codes = {s: i for i, s in enumerate(services)}
    muni_list = sorted(set(units.municipality) | set(sites.municipality))
    muni_codes = {mu: i for i, mu in enumerate(muni_list)}
    svc_weight = _per_value(units.service, lambda s: config.services[s].weight)
    c0 = units.coverage
    # People aged 65+ weigh weight_65_plus within demand groups that hold them (the whole
    # population, or the 65+ themselves); a school's demand is its children only.
    with_65 = _per_value(units.service, lambda s: config.services[s].demand in ("population", "age_65_plus"))
    extra_65 = np.where(with_65, (pc.weight_65_plus - 1.0) * units.age_65_plus, 0.0)
    weight = svc_weight * (units.demand + extra_65) * (1 - c0)
    cpr = _per_value(units.service, lambda s: config.services[s].clients_per_resident)
    actor_cap = actors["capacity"].to_numpy(float)
    sectors = actors["sector"].to_numpy(object)
    opt_actor = np.array(options.actor)
    sector_index = {s: i for i, s in enumerate(SECTORS)}

    def budget(override: int | None, default: int) -> int:
        return int(override) if override is not None else int(default)

    unit_svc_code = _per_value(units.service, svc_codes.__getitem__)
    unit_muni_code = _per_value(units.municipality, muni_codes.__getitem__)
    group = _unit_groups(cover, unit_svc_code, unit_muni_code)
    n_groups = int(group.max()) + 1 if n else 0
    first = np.full(n_groups, -1, dtype=np.int64)
    first[group[::-1]] = np.arange(n)[::-1]
    agg = sparse.csr_matrix((np.ones(n), (group, np.arange(n))), shape=(n_groups, n))
    problem = ProposalProblem(
        coverage=cover[first],
        weight=agg @ weight,
        demand=agg @ (units.demand * (1 - c0)),
        clients_per_resident=cpr[first],
        service=unit_svc_code[first],
        municipality=unit_muni_code[first],
        opt_actor=opt_actor,
        opt_service=_per_value(options.service, svc_codes.__getitem__),
        opt_mode=_per_value(options.mode, MODE_CODES.__getitem__),
        opt_site=np.array(options.site),
        opt_cost=np.array(options.cost, dtype=float),
        opt_sector=_per_value(sectors, sector_index.__getitem__)[opt_actor],
        opt_municipality=_per_value(sites.municipality, muni_codes.__getitem__)[np.array(options.site)],
        capacity=np.where(np.isfinite(actor_cap), actor_cap, np.inf),
        capacity_slack=pc.capacity_slack,
        max_new_sites=budget(budgets.max_new_sites, pc.max_new_sites),
        max_mobile_routes=budget(budgets.max_mobile_routes, pc.max_mobile_routes),
        max_remote_points=budget(budgets.max_remote_points, pc.max_remote_points),
        min_sectors=max(1, pc.min_sectors),
        max_actor_share=pc.max_actor_share,
        hub_bonus=pc.hub_bonus * float(np.median(weight[weight > 0])) if (weight > 0).any() else 0.0,
    )
    # The smallest newly covered demand of each (service, mode), looked up per option.
    min_demand = np.array(
        [[config.services[s].min_demand_for(MODE_NAMES[m]) for m in sorted(MODE_NAMES)] for s in services]
    )
    lookup = ProblemLookup(
        access=acc.reset_index(drop=True),
        options=options,
        sites=sites,
        municipalities=muni_list,
        services=services,
        unit_population=units.population,
        unit_65_plus=units.age_65_plus,
        unit_coverage_before=c0,
        unit_clients_per_resident=cpr,
        unit_demand=units.demand,
        unit_weight=weight,
        unit_group=group,
        unit_coverage=cover,
        unit_ages_known=units.ages_known,
        unit_threshold_m=units.threshold_m,
        unit_threshold_s=units.threshold_s,
        option_min_demand=min_demand[problem.opt_service, problem.opt_mode],
    )
    return BuiltProblem(problem, lookup)


def build_problem(
    config: Config,
    net: Network,
    gaps: GapResult,
    actors: gpd.GeoDataFrame,
    service_points: gpd.GeoDataFrame,
    *,
    places: gpd.GeoDataFrame | None = None,
    services: list[str] | None = None,
    max_new_sites: int | None = None,
    max_mobile_routes: int | None = None,
    max_remote_points: int | None = None,
    progress: Progress | None = None,
) -> BuiltProblem:
    """Turn gap cells, actors and candidate sites into a :class:`ProposalProblem`.

    Returns
    -------
    BuiltProblem
        The instance and the lookup needed to read the solution back; both None, with a
        ``reason``, when there is nothing to propose.
    """
    say = progress or (lambda _m: None)
    pc = config.proposals
    svc_ids = [s for s in (services or list(config.services)) if s in config.services]
    acc = _gap_rows(gaps, svc_ids)
    if acc.empty:
        return _nothing("no_gaps")
    # Cells off the road network cannot be reached from any new site: they stay reported as
    # unreachable. Cells on it count even when no point offers the service yet (distance inf).
    acc = acc[acc["snapped"].to_numpy(dtype=bool)]
    if acc.empty:
        return _nothing("unreachable")
    if actors is None or actors.empty:
        return _nothing("no_actors")
    say("candidate sites")
    sites = _candidate_sites(gaps, service_points, actors, places, max_per_service=pc.max_sites_per_service)
    if len(sites.x) == 0:
        return _nothing("no_sites")
    units = _demand_units(config, gaps, acc)
    tolerance_m = config.network.snap_tolerance_m
    origin_snap = snap_points(net, units.cell_xy, tolerance_m=tolerance_m)
    site_snap = snap_points(net, np.column_stack([sites.x, sites.y]), tolerance_m=tolerance_m)
    say("costs from gap cells to candidate sites")
    reach = _reach(config, net, origin_snap, site_snap, svc_ids, sites)
    actor_table = _actor_table(config, net, actors, site_snap, len(sites.x))
    say("candidate options")
    options = _build_options(config, svc_ids, units, reach, actor_table)
    if options is None:
        return _nothing("no_options")
    budgets = _Budgets(max_new_sites, max_mobile_routes, max_remote_points)
    return _assemble(config, acc, units, options, sites, actors, svc_ids, budgets)

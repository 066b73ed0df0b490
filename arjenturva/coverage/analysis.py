"""The whole coverage and gap analysis, :func:`find_gaps`, in named steps: prepare the cells,
snap cells and points to the network, find which points offer each service, run the per-service
tasks, and assemble the tables of a :class:`GapResult`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import Config
from ..errors import ConfigError
from ..network import Network, Snapped, prepare_sweeps, snap_points
from ..schema import AGE_COLUMNS
from .access import ServiceAccess, _sweep_count, point_weight
from .area_classes import assign_area_classes
from .basket import basket_cells
from .cells import _cell_points, _cell_size
from .fca import accessibility_table
from .gap_areas import _gap_areas, _gap_shared, _merge_radius
from .indicators import _summary
from .parallel import Progress, ServicePoints, SweepContext, TaskResults, _run_tasks, _worker_count
from .tables import _long_tables, _with_service_columns

UNREACHABLE_COLUMNS = ("layer", "id", "service", "reason", "population")
"""Columns of the ``unreachable`` table."""


@dataclass
class GapResult:
    """Everything the gap analysis produces (all frames in EPSG:3067)."""

    population: gpd.GeoDataFrame  # one row per cell, per-service columns
    access: pd.DataFrame  # long: cell_id, service, nearest_point_id, distance_m, time_s, coverage
    gaps: gpd.GeoDataFrame  # long: one row per (cell, service) not fully covered
    gap_areas: gpd.GeoDataFrame
    summary: pd.DataFrame  # municipality × service indicators (+ ALL rows)
    service_points: gpd.GeoDataFrame
    municipalities: gpd.GeoDataFrame
    unreachable: pd.DataFrame  # cells/points off the network or with no reachable service
    accessibility: pd.DataFrame | None = None  # 2SFCA / E2SFCA ratios when capacities exist
    area_class_source: str = "column"
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Cells:
    """The population layer prepared for the analysis (rows numbered from 0)."""

    frame: gpd.GeoDataFrame
    """The layer with its ``area_class`` and ``sparse`` columns."""
    x: np.ndarray
    y: np.ndarray
    classes: np.ndarray
    """Area class per cell."""
    class_source: str
    people: np.ndarray
    """Population per cell, NaN as 0."""
    ages: dict[str, np.ndarray]
    """People per age group and cell, NaN as 0."""
    muni_codes: np.ndarray
    """The municipality codes, sorted."""
    muni: np.ndarray
    """Municipality of every cell, as its position in ``muni_codes``."""
    size: float
    """Cell size (m)."""


@dataclass(frozen=True)
class _Supply:
    """Which snapped service points offer each service, and their capacities."""

    points_of: dict[str, ServicePoints]
    capacity: np.ndarray
    fca_points: dict[str, np.ndarray]
    """Per service, its points with a capacity."""
    fca_ids: list[str]
    """Services with a distance threshold and points with a capacity (2SFCA)."""


def _service_ids(config: Config, services: list[str] | None) -> list[str]:
    """The services to analyse: ``services`` or the whole catalogue."""
    service_ids = services or list(config.services)
    unknown = [s for s in service_ids if s not in config.services]
    if unknown:
        msg = f"unknown service(s) {unknown}. Fix: use ids from `services:` ({', '.join(config.services)})"
        raise ConfigError(msg)
    return service_ids


def _prepare_cells(population: gpd.GeoDataFrame, config: Config) -> _Cells:
    """Representative points, area classes, people and municipalities of the cells."""
    pop = population.reset_index(drop=True).copy()
    ox, oy = _cell_points(pop.geometry)
    classes, class_source = assign_area_classes(pop, config.area_classes, xy=(ox, oy))
    pop["area_class"] = classes
    pop["sparse"] = np.isin(classes.astype(str), config.area_classes.sparse_classes)
    muni_codes, muni = np.unique(pop["municipality"].astype(str).to_numpy(dtype=str), return_inverse=True)
    return _Cells(
        frame=pop, x=ox, y=oy, classes=classes, class_source=class_source,
        people=np.nan_to_num(pop["population"].to_numpy(dtype=float)),
        ages={c: np.nan_to_num(pop[c].to_numpy(dtype=float)) for c in AGE_COLUMNS},
        muni_codes=muni_codes, muni=muni.ravel(), size=_cell_size(pop),
    )


def _unreachable_rows(
    layer: str, ids: np.ndarray, service: str, reason: str, people: np.ndarray
) -> list[pd.DataFrame]:
    """Rows of the ``unreachable`` table (none when ``ids`` is empty)."""
    if not len(ids):
        return []
    return [pd.DataFrame(dict(zip(UNREACHABLE_COLUMNS, (layer, ids, service, reason, people), strict=True)))]


def _off_network(
    cells: _Cells, pts: gpd.GeoDataFrame, origins: Snapped, point_snap: Snapped, tol: float
) -> tuple[list[pd.DataFrame], list[str]]:
    """Unreachable rows and warnings of the cells and points farther than ``tol`` from any road."""
    reason = f"farther than {tol:g} m from any road"
    off = np.flatnonzero(~origins.ok)
    cell_ids, people = cells.frame["cell_id"].to_numpy(), cells.frame["population"].to_numpy(dtype=float)
    off_pts = np.flatnonzero(~point_snap.ok)
    point_ids = pts["point_id"].to_numpy()[off_pts]
    frames = [
        *_unreachable_rows("population", cell_ids[off], "", reason, people[off]),
        *_unreachable_rows("service_points", point_ids, "", reason, np.full(len(off_pts), np.nan)),
    ]
    warnings = [
        f"service point {pid} is farther than {tol:g} m from any road and is not used" for pid in point_ids
    ]
    return frames, warnings


def _supply(
    config: Config, pts: gpd.GeoDataFrame, point_snap: Snapped, service_ids: list[str]
) -> tuple[_Supply, list[str]]:
    """The snapped points offering each service and how much each counts (found once here), the
    points with a capacity, and a warning for every service no point offers."""
    modes = pts["mode"].to_numpy()
    days = pts["days_per_week"].to_numpy(dtype=float)
    offers = pts["services"].map(set).to_numpy()
    capacity = pts["capacity"].to_numpy(dtype=float) if "capacity" in pts else np.full(len(pts), np.nan)
    points_of = {}
    for sid in service_ids:
        idx = np.flatnonzero(np.array([sid in o for o in offers], dtype=bool) & point_snap.ok)
        points_of[sid] = ServicePoints(idx, point_weight(config.services[sid], modes[idx], days[idx]))
    warnings = [
        f"no service point offers '{sid}': every cell counts as uncovered"
        for sid in service_ids
        if not points_of[sid].indices.size
    ]
    # Capacity-aware access where points of a service carry capacities.
    with_capacity = np.isfinite(capacity) & (capacity > 0)
    fca_points = {sid: p.indices[with_capacity[p.indices]] for sid, p in points_of.items()}
    fca_ids = [sid for sid in service_ids if config.services[sid].threshold_km and fca_points[sid].size]
    return _Supply(points_of, capacity, fca_points, fca_ids), warnings


def _demand(config: Config, cells: _Cells, service_ids: list[str]) -> dict[str, np.ndarray]:
    """Demand per cell of each service: its people, or those of its age group."""
    demand = {sid: config.services[sid].demand for sid in service_ids}
    return {sid: cells.people if d == "population" else cells.ages[d] for sid, d in demand.items()}


def _sweep_context(
    config: Config, net: Network, cells: _Cells, origins: Snapped, point_snap: Snapped, supply: _Supply,
    demand_of: dict[str, np.ndarray],
) -> SweepContext:
    """What every per-service task reads."""
    populated = cells.people > 0
    gap_shared = _gap_shared(
        cells.x, cells.y, cells.muni, cells.frame.geometry.to_numpy(), populated, cells.size,
        _merge_radius(config, cells.size),
    )
    cell_columns = {
        "population": cells.people, "age_65_plus": cells.ages["age_65_plus"],
        "age_0_14": cells.ages["age_0_14"], "sparse": cells.frame["sparse"].to_numpy(dtype=float),
    }
    return SweepContext(
        config=config, net=net, origins=origins, point_snap=point_snap, points_of=supply.points_of,
        fca_points=supply.fca_points, classes=cells.classes, capacity=supply.capacity,
        demand=demand_of, populated=populated, gap_shared=gap_shared, muni=cells.muni,
        n_muni=len(cells.muni_codes), cells=cell_columns,
    )


def _run_services(
    context: SweepContext, service_ids: list[str], supply: _Supply, workers: int | None, say: Progress
) -> TaskResults:
    """Run the task of every service and the 2SFCA tasks, here or in ``workers`` processes."""
    config, net = context.config, context.net
    n_workers = _worker_count(workers, net.n_nodes, len(service_ids) + len(supply.fca_ids))
    if n_workers > 1:
        # What every sweep reuses is built once here, before the workers are forked.
        prepare_sweeps(net, context.origins, access_speed_kmh=config.network.access_speed_kmh)
    work = {sid: _sweep_count(config.services[sid], supply.points_of[sid].weights) for sid in service_ids}
    return _run_tasks(context, service_ids, supply.fca_ids, n_workers, say, work)


def _lost_cells(
    cells: _Cells, origins: Snapped, results: dict[str, ServiceAccess], supply: _Supply
) -> list[pd.DataFrame]:
    """Unreachable rows of the snapped cells with no road to any point offering a service."""
    cell_ids, people = cells.frame["cell_id"].to_numpy(), cells.frame["population"].to_numpy(dtype=float)
    reason = "no road connection to any point offering the service"
    frames = []
    for sid, acc in results.items():
        has_points = supply.points_of[sid].indices.size > 0
        lost = np.flatnonzero(origins.ok & ~np.isfinite(acc.distance_m) & has_points)
        frames += _unreachable_rows("population", cell_ids[lost], sid, reason, people[lost])
    return frames


def find_gaps(
    config: Config,
    net: Network,
    population: gpd.GeoDataFrame,
    service_points: gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame,
    *,
    places: gpd.GeoDataFrame | None = None,
    services: list[str] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> GapResult:
    """Run the coverage and gap analysis.

    For every population cell and service: the shortest road distance and travel time to a
    point offering the service, and the coverage (0–1) under the threshold of the cell's area
    class. Uncovered cells are merged into gap areas; indicators are aggregated per
    municipality and service.

    Parameters
    ----------
    config
        Workspace configuration (services, area classes, network access speed, export threshold).
    net
        The road network.
    population, service_points, municipalities, places
        Validated layers (see :func:`arjenturva.workspace.load_workspace`).
    services
        Service ids to analyse (default: all in the catalogue).
    progress
        Callback for step messages.
    workers
        Processes for the per-service sweeps and 2SFCA: ``1`` runs everything here, ``0`` uses
        every available core, ``None`` (default) every core for large analyses on Linux (from
        100 000 road nodes and 4 services) and one otherwise. Workers are forked; where the OS
        cannot fork, everything runs here. The results do not depend on it.

    Returns
    -------
    GapResult
    """
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    service_ids = _service_ids(config, services)
    cells = _prepare_cells(population, config)
    say("snapping population to the road network")
    tol = config.network.snap_tolerance_m
    pts = service_points.reset_index(drop=True)
    origins = snap_points(net, np.column_stack([cells.x, cells.y]), tolerance_m=tol)
    point_snap = snap_points(net, np.column_stack([pts.geometry.x, pts.geometry.y]), tolerance_m=tol)
    timings = {"snap_s": time.perf_counter() - t0}

    unreachable_frames, warnings = _off_network(cells, pts, origins, point_snap, tol)
    supply, supply_warnings = _supply(config, pts, point_snap, service_ids)
    warnings += supply_warnings
    demand_of = _demand(config, cells, service_ids)
    context = _sweep_context(config, net, cells, origins, point_snap, supply, demand_of)
    done = _run_services(context, service_ids, supply, workers, say)
    warnings += done.warnings
    results = {sid: r.access for sid, r in done.services.items()}
    timings["sweeps_s"] = done.sweeps_s
    timings["fca_s"] = done.total_s - done.sweeps_s
    unreachable_frames += _lost_cells(cells, origins, results, supply)
    accessibility, fca_columns = accessibility_table(done.fca, pts["point_id"].to_numpy(), supply.capacity)

    say("gap areas and indicators")
    t2 = time.perf_counter()
    tables = _long_tables(cells.frame, pts, origins.ok, results, demand_of, cells.people, cells.ages)
    basket = basket_cells(results, config.gaps.basket, len(cells.people))
    missing = [s for s in config.gaps.basket if s not in results]
    if basket is not None and missing:
        warnings.append(
            f"the service basket is measured without {', '.join(missing)} (not analysed in this run)"
        )
    pop = _with_service_columns(cells.frame, results, {**fca_columns, **(basket.columns() if basket else {})})
    gap_parts = {sid: r.gap_parts for sid, r in done.services.items()}
    gap_areas = _gap_areas(
        tables.gaps, tables.gap_cells, tables.gap_services, cells.x, cells.y, cells.size, places, pts,
        results, config, gap_parts,
    )
    timings["gap_areas_s"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    indicators = {sid: r.indicators for sid, r in done.services.items()}
    summary = _summary(
        config, municipalities, cells.muni_codes, cells.muni, cells.people, results, indicators,
        basket=basket, age_65_plus=cells.ages["age_65_plus"],
    )
    timings["indicators_s"] = time.perf_counter() - t3
    timings["total_s"] = time.perf_counter() - t0

    sp = pts.drop(columns=["_row"], errors="ignore").copy()
    sp["snapped"] = point_snap.ok
    return GapResult(
        population=pop.drop(columns=["_row"], errors="ignore"),
        access=tables.access,
        gaps=tables.gaps,
        gap_areas=gap_areas,
        summary=summary,
        service_points=sp,
        municipalities=municipalities.drop(columns=["_row"], errors="ignore"),
        unreachable=(
            pd.concat(unreachable_frames, ignore_index=True)
            if unreachable_frames
            else pd.DataFrame(columns=list(UNREACHABLE_COLUMNS))
        ),
        accessibility=accessibility,
        area_class_source=cells.class_source,
        warnings=warnings,
        timings=timings,
    )

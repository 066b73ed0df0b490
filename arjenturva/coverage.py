"""Coverage and gap analysis (design.md §5).

For every population cell and service: the shortest road distance and travel time to a point
offering the service, and the coverage (0–1) under the threshold of the cell's area class, from
multi-source sweeps of the network engine (never a loop per cell). Uncovered cells are merged
into gap areas; indicators are aggregated per municipality and service.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time as _time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .config import AreaClassConfig, Config, ServiceConfig
from .network import Network, Snapped, cost_matrix, nearest_facility, prepare_sweeps, snap_points
from .schema import AGE_COLUMNS, CRS

Progress = Callable[[str], None]

GAP_AREA_COUNT_COLUMNS = (
    "population",
    "uncovered_population",
    "age_0_14",
    "age_15_64",
    "age_65_plus",
    "uncovered_65_plus",
    "sparse_population",
)
"""People counts of a gap area (blanked in exports when the area is below the suppression threshold)."""


# ---------------------------------------------------------------------------------------------
# Area classes
# ---------------------------------------------------------------------------------------------


def derive_area_classes(
    x: np.ndarray,
    y: np.ndarray,
    population: np.ndarray,
    *,
    settings: AreaClassConfig,
    cell_size_m: float = 1000.0,
) -> np.ndarray:
    """Classify locations by the EU degree-of-urbanisation grid rules.

    Population is summed into ``cell_size_m`` grid cells. Urban centres are 4-connected clusters
    of cells with at least ``urban_centre_density`` inh/km² totalling at least
    ``urban_centre_population``; urban clusters are 8-connected clusters of cells with at least
    ``urban_cluster_density`` totalling at least ``urban_cluster_population``; the rest is rural,
    and rural cells below ``sparse_density`` are sparsely populated.

    The result reuses the SYKE codes as labels: ``K1`` urban centre, ``K2`` urban cluster,
    ``M6`` rural, ``M7`` sparsely populated rural.

    Parameters
    ----------
    x, y
        Coordinates (EPSG:3067) of cell centroids or population points.
    population
        Population per location (NaN counts as 0).

    Returns
    -------
    numpy.ndarray
        One class label per location.
    """
    pop = np.nan_to_num(np.asarray(population, dtype=float))
    n = len(pop)
    if n == 0:
        return np.array([], dtype=object)
    gx = np.floor(np.asarray(x) / cell_size_m).astype(np.int64)
    gy = np.floor(np.asarray(y) / cell_size_m).astype(np.int64)
    # Grid cells by one integer key (the same order as the (gx, gy) pairs, much faster to sort).
    span = int(gy.max() - gy.min()) + 1
    flat, inverse = np.unique((gx - gx.min()) * span + (gy - gy.min()), return_inverse=True)
    inverse = inverse.ravel()
    keys = np.column_stack([flat // span + gx.min(), flat % span + gy.min()])
    cell_pop = np.bincount(inverse, weights=pop, minlength=len(keys))
    area_km2 = (cell_size_m / 1000.0) ** 2
    density = cell_pop / area_km2

    def clusters(mask: np.ndarray, diagonal: bool, total_min: float) -> np.ndarray:
        idx = np.flatnonzero(mask)
        out = np.zeros(len(keys), dtype=bool)
        if len(idx) == 0:
            return out
        tree = cKDTree(keys[idx].astype(float))
        radius = 1.5 if diagonal else 1.01
        pairs = tree.query_pairs(radius, output_type="ndarray")
        if not diagonal and len(pairs):
            d = np.abs(keys[idx][pairs[:, 0]] - keys[idx][pairs[:, 1]]).sum(axis=1)
            pairs = pairs[d == 1]
        labels = _components(len(idx), pairs[:, 0], pairs[:, 1])
        totals = np.bincount(labels, weights=cell_pop[idx])
        out[idx[totals[labels] >= total_min]] = True
        return out

    centre = clusters(density >= settings.urban_centre_density, False, settings.urban_centre_population)
    cluster = clusters(density >= settings.urban_cluster_density, True, settings.urban_cluster_population)
    labels = np.where(
        centre, "K1", np.where(cluster, "K2", np.where(density < settings.sparse_density, "M7", "M6"))
    ).astype(object)
    return labels[inverse]


def assign_area_classes(
    population: gpd.GeoDataFrame,
    settings: AreaClassConfig,
    *,
    xy: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, str]:
    """Area class per cell: from the ``area_class`` column, derived, or both (blanks derived).

    ``xy`` are the cells' representative points when the caller has them already.

    Returns
    -------
    (numpy.ndarray, str)
        The classes and how they were obtained (``column``, ``derived`` or ``column+derived``).
    """
    n = len(population)
    column = (
        population["area_class"].to_numpy(dtype=object)
        if "area_class" in population
        else np.full(n, None, dtype=object)
    )
    has = np.array([isinstance(v, str) and v != "" for v in column], dtype=bool)
    if settings.source == "column" or (settings.source == "auto" and n and has.all()):
        # Cells without a class (source: column) count as rural heartland (M6).
        return np.where(has, column, "M6").astype(object), "column"
    px, py = xy if xy is not None else _cell_points(population.geometry)
    derived = derive_area_classes(px, py, population["population"].to_numpy(), settings=settings)
    if settings.source == "auto" and has.any():
        return np.where(has, column, derived).astype(object), "column+derived"
    return derived, "derived"


# ---------------------------------------------------------------------------------------------
# Access per cell and service
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceAccess:
    """Access of every cell to one service (arrays aligned with the population rows)."""

    service: str
    distance_m: np.ndarray
    time_s: np.ndarray
    nearest_point: np.ndarray  # index into service_points, -1 when none
    coverage: np.ndarray
    threshold_m: np.ndarray
    threshold_s: np.ndarray


def thresholds_for(service: ServiceConfig, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) and time (s) thresholds per cell for its area class."""
    codes, uniq = pd.factorize(np.asarray(classes, dtype=object))
    labels = [str(c) for c in uniq] + ["None"]  # code -1: no class (the defaults apply)
    dm = np.array([service.threshold_m(c) for c in labels])[codes]
    ts = np.array([service.threshold_s(c) for c in labels])[codes]
    return dm, ts


def _subset(snap: Snapped, idx: np.ndarray) -> Snapped:
    return snap.subset(idx)


def service_access(
    net: Network,
    origins: Snapped,
    points: Snapped,
    point_weights: np.ndarray,
    service_id: str,
    service: ServiceConfig,
    classes: np.ndarray,
    *,
    access_speed_kmh: float,
    nearest_by: str = "distance",
) -> ServiceAccess:
    """Distance, time and coverage of every origin to one service.

    Parameters
    ----------
    net
        The road network.
    origins
        Snapped population cells.
    points
        Snapped service points offering the service (only those).
    point_weights
        How much each point counts (1 fixed, ``days/required`` mobile, the remote fraction).
    service_id, service
        The service and its catalogue entry.
    classes
        Area class per origin.

    Returns
    -------
    ServiceAccess
        Per-origin arrays; unreachable is ``inf``.
    """
    n = len(origins)
    thr_m, thr_s = thresholds_for(service, classes)
    counted = np.flatnonzero(point_weights > 0)
    if len(counted) == 0:
        inf = np.full(n, np.inf)
        return ServiceAccess(service_id, inf, inf.copy(), np.full(n, -1), np.zeros(n), thr_m, thr_s)
    pts = points.subset(counted)
    weights = point_weights[counted]
    by_len = nearest_facility(net, origins, pts, weight="length", access_speed_kmh=access_speed_kmh)
    by_time = nearest_facility(net, origins, pts, weight="time", access_speed_kmh=access_speed_kmh)
    dist = by_len.cost
    time = by_time.cost
    primary = by_len if nearest_by == "distance" else by_time
    nearest = np.where(primary.facility >= 0, counted[np.maximum(primary.facility, 0)], -1)
    groups = np.unique(weights)
    if len(groups) == 1:
        ok = np.isfinite(dist) & (dist <= thr_m) & (time <= thr_s)
        coverage = np.where(ok, groups[0], 0.0)
    else:
        coverage = np.zeros(n)
        lim_m = float(np.max(thr_m[np.isfinite(thr_m)])) if np.isfinite(thr_m).any() else None
        lim_s = float(np.max(thr_s[np.isfinite(thr_s)])) if np.isfinite(thr_s).any() else None
        for w in groups[::-1]:  # highest weight first
            g = pts.subset(np.flatnonzero(weights == w))
            # A sweep is only needed for a metric that has a threshold; the other one always passes.
            d = (
                nearest_facility(
                    net, origins, g, weight="length", limit=lim_m, access_speed_kmh=access_speed_kmh
                ).cost
                if lim_m is not None
                else None
            )
            t = (
                nearest_facility(
                    net, origins, g, weight="time", limit=lim_s, access_speed_kmh=access_speed_kmh
                ).cost
                if lim_s is not None
                else None
            )
            ok = np.ones(n, dtype=bool)
            if d is not None:
                ok &= np.isfinite(d) & (d <= thr_m)
            if t is not None:
                ok &= np.isfinite(t) & (t <= thr_s)
            coverage = np.maximum(coverage, np.where(ok, w, 0.0))
    return ServiceAccess(service_id, dist, time, nearest, coverage, thr_m, thr_s)


def point_weight(service: ServiceConfig, modes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Coverage weight of each point for a service, by its mode and days per week."""
    return np.array([service.mode_weight(m, d) for m, d in zip(modes, days, strict=True)], dtype=float)


# ---------------------------------------------------------------------------------------------
# Gap areas
# ---------------------------------------------------------------------------------------------


def _components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    m = sparse.coo_array((np.ones(src.size, np.int8), (src, dst)), shape=(n, n))
    return connected_components(m, directed=False)[1].astype(np.int64)


# ---------------------------------------------------------------------------------------------
# The whole analysis
# ---------------------------------------------------------------------------------------------


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


_TASKS: dict[int, dict[str, Any]] = {}
"""Inputs of a running analysis, by token, for :func:`_access_task` and :func:`_fca_task` (worker
processes are forked, so they inherit them instead of receiving a pickled network)."""

_AUTO_WORKERS_MIN_NODES = 100_000
"""With ``workers=None``, use worker processes only from this many road nodes ..."""

_AUTO_WORKERS_MIN_TASKS = 4
"""... and this many services (smaller analyses take seconds and are faster in one process)."""


def _access_task(token: int, sid: str) -> tuple[ServiceAccess, GapParts, np.ndarray]:
    """Access of every cell to one service (point indices into all service points), the
    clusters and outlines of its gap cells, and its indicators per municipality."""
    st = _TASKS[token]
    config = st["config"]
    svc = config.services[sid]
    idx, w = st["points_of"][sid]
    acc = service_access(
        st["net"], st["origins"], st["point_snap"].subset(idx), w, sid, svc, st["classes"],
        access_speed_kmh=config.network.access_speed_kmh, nearest_by=config.network.cost,
    )
    nearest = np.where(acc.nearest_point >= 0, idx[np.maximum(acc.nearest_point, 0)] if len(idx) else -1, -1)
    gpos = np.flatnonzero((acc.coverage < 1.0) & st["populated"])
    parts = _service_gap_parts(gpos, st["gap_shared"])
    access = ServiceAccess(
        sid, acc.distance_m, acc.time_s, nearest, acc.coverage, acc.threshold_m, acc.threshold_s
    )
    indicators = _service_indicators(st["muni"], st["n_muni"], st["cells"], st["demand"][sid], acc)
    return access, parts, indicators


def _fca_task(token: int, sid: str) -> tuple[str, np.ndarray, float, np.ndarray, np.ndarray, np.ndarray,
                                            np.ndarray]:
    """2SFCA and E2SFCA of one service: (sid, point index, catchment m, a2, r2, ae, re)."""
    st = _TASKS[token]
    config = st["config"]
    svc = config.services[sid]
    capacity = st["capacity"]
    idx = st["fca_points"][sid]
    catchment = 1000.0 * max(svc.threshold_km.values())
    demand = st["demand"][sid]
    cm = cost_matrix(
        st["net"], st["origins"], st["point_snap"].subset(idx), weight="length", limit=catchment,
        access_speed_kmh=config.network.access_speed_kmh,
    )
    a2, r2 = two_step_fca(cm, demand, capacity[idx], max_cost=catchment)
    ae, re_ = two_step_fca(cm, demand, capacity[idx], max_cost=catchment, weights=e2sfca_weights(catchment))
    return sid, idx, catchment, a2, r2, ae, re_


def _worker_count(workers: int | None, n_nodes: int, n_tasks: int) -> int:
    """Processes to run the sweeps in: 1 (this one) or forked workers where the OS allows it."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    if workers is None:
        # Automatically only on Linux: forking is not safe with every macOS framework.
        big = n_nodes >= _AUTO_WORKERS_MIN_NODES and n_tasks >= _AUTO_WORKERS_MIN_TASKS
        return min(cores, n_tasks) if big and sys.platform.startswith("linux") else 1
    if workers < 0:
        msg = f"workers must be 0 (all cores) or a positive number, not {workers}"
        raise ValueError(msg)
    return min(workers or cores, max(n_tasks, 1))


def _sweep_count(service: ServiceConfig, weights: np.ndarray) -> int:
    """Sweeps :func:`service_access` runs for a service whose counted points have ``weights``:
    length and time, plus one limited sweep per weight and metric with a threshold when the
    points count differently."""
    levels = np.unique(weights[weights > 0]).size
    metrics = bool(service.threshold_km) + bool(service.threshold_min)
    return 2 + (levels * metrics if levels > 1 else 0)


def _run_tasks(
    token: int, access_ids: list[str], fca_ids: list[str], n_workers: int, say: Progress,
    warnings: list[str], work: dict[str, int] | None = None,
) -> tuple[dict[str, tuple[ServiceAccess, GapParts, np.ndarray]], list[tuple], float, float]:
    """Run the per-service sweeps and 2SFCA tasks, in forked worker processes when ``n_workers > 1``.

    ``work`` (sweeps per service) orders the services for the workers, the longest first, so
    that no long one is left running alone at the end.

    Returns the access and gap parts per service (in ``access_ids`` order), the 2SFCA results and
    the seconds until the sweeps and until everything was done.
    """
    t0 = _time.perf_counter()
    results: dict[str, tuple[ServiceAccess, GapParts, np.ndarray]] = {}
    fca: list[tuple] = []
    if n_workers > 1:
        try:
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as ex:
                # The longer 2SFCA tasks first, so that the sweeps fill in around them; then the
                # services with the most sweeps (ties in their order).
                fut_f = [ex.submit(_fca_task, token, sid) for sid in fca_ids]
                by_work = sorted(access_ids, key=lambda sid: -(work or {}).get(sid, 2))
                fut_a = {ex.submit(_access_task, token, sid): sid for sid in by_work}
                for k, fut in enumerate(as_completed(fut_a)):
                    results[fut_a[fut]] = fut.result()
                    say(f"service {k + 1}/{len(access_ids)}: {fut_a[fut]} ({n_workers} processes)")
                t_sweeps = _time.perf_counter() - t0
                fca = [f.result() for f in fut_f]
            return {sid: results[sid] for sid in access_ids}, fca, t_sweeps, _time.perf_counter() - t0
        except BrokenProcessPool:
            warnings.append("a worker process stopped (out of memory?); the analysis ran in one process")
            results, fca = {}, []
    for k, sid in enumerate(access_ids):
        say(f"service {k + 1}/{len(access_ids)}: {sid}")
        results[sid] = _access_task(token, sid)
    t_sweeps = _time.perf_counter() - t0
    fca = [_fca_task(token, sid) for sid in fca_ids]
    return results, fca, t_sweeps, _time.perf_counter() - t0


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
    timings: dict[str, float] = {}
    warnings: list[str] = []
    t0 = _time.perf_counter()
    service_ids = services or list(config.services)
    unknown = [s for s in service_ids if s not in config.services]
    if unknown:
        from .errors import ConfigError

        msg = f"unknown service(s) {unknown}. Fix: use ids from `services:` ({', '.join(config.services)})"
        raise ConfigError(msg)

    pop = population.reset_index(drop=True).copy()
    ox, oy = _cell_points(pop.geometry)
    classes, class_source = assign_area_classes(pop, config.area_classes, xy=(ox, oy))
    pop["area_class"] = classes
    pop["sparse"] = np.isin(classes.astype(str), config.area_classes.sparse_classes)

    say("snapping population to the road network")
    tol = config.network.snap_tolerance_m
    origins = snap_points(net, np.column_stack([ox, oy]), tolerance_m=tol)
    pts = service_points.reset_index(drop=True)
    pxy = np.column_stack([pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()])
    point_snap = snap_points(net, pxy, tolerance_m=tol)
    timings["snap_s"] = _time.perf_counter() - t0

    unreachable_frames: list[pd.DataFrame] = []

    def _unreachable(layer: str, ids: np.ndarray, service: str, reason: str, people: np.ndarray) -> None:
        if len(ids):
            unreachable_frames.append(
                pd.DataFrame(
                    {"layer": layer, "id": ids, "service": service, "reason": reason, "population": people}
                )
            )

    cell_ids, people = pop["cell_id"].to_numpy(), pop["population"].to_numpy(dtype=float)
    off = np.flatnonzero(~origins.ok)
    _unreachable("population", cell_ids[off], "", f"farther than {tol:g} m from any road", people[off])
    off_pts = np.flatnonzero(~point_snap.ok)
    _unreachable(
        "service_points",
        pts["point_id"].to_numpy()[off_pts],
        "",
        f"farther than {tol:g} m from any road",
        np.full(len(off_pts), np.nan),
    )
    for pid in pts["point_id"].to_numpy()[off_pts]:
        warnings.append(f"service point {pid} is farther than {tol:g} m from any road and is not used")

    popv = np.nan_to_num(pop["population"].to_numpy(dtype=float))
    ages = {c: np.nan_to_num(pop[c].to_numpy(dtype=float)) for c in AGE_COLUMNS}
    modes = pts["mode"].to_numpy()
    days = pts["days_per_week"].to_numpy(dtype=float)
    offers = pts["services"].map(set).to_numpy()
    offered = {sid: np.array([sid in o for o in offers], dtype=bool) for sid in service_ids}
    capacity = pts["capacity"].to_numpy(dtype=float) if "capacity" in pts else np.full(len(pts), np.nan)
    points_of = {}  # the snapped points offering each service, and how much each counts
    for sid in service_ids:
        idx = np.flatnonzero(offered[sid] & point_snap.ok)
        points_of[sid] = (idx, point_weight(config.services[sid], modes[idx], days[idx]))
    has_points = {sid: points_of[sid][0].size > 0 for sid in service_ids}
    for sid in service_ids:
        if not has_points[sid]:
            warnings.append(f"no service point offers '{sid}': every cell counts as uncovered")
    # Capacity-aware access where points of a service carry capacities.
    with_capacity = np.isfinite(capacity) & (capacity > 0)
    fca_points = {sid: idx[with_capacity[idx]] for sid, (idx, _w) in points_of.items()}
    fca_ids = [sid for sid in service_ids if config.services[sid].threshold_km and fca_points[sid].size]
    demand_of = {
        sid: popv if config.services[sid].demand == "population" else ages[config.services[sid].demand]
        for sid in service_ids
    }
    n_workers = _worker_count(workers, net.n_nodes, len(service_ids) + len(fca_ids))
    size = _cell_size(pop)
    populated = popv > 0
    muni_codes, muni = np.unique(pop["municipality"].astype(str).to_numpy(dtype=str), return_inverse=True)
    muni = muni.ravel()
    gap_shared = _gap_shared(
        ox, oy, muni, pop.geometry.to_numpy(), populated, size, _merge_radius(config, size)
    )
    cells = {
        "population": popv, "age_65_plus": ages["age_65_plus"], "age_0_14": ages["age_0_14"],
        "sparse": pop["sparse"].to_numpy(dtype=float),
    }
    if n_workers > 1:
        # What every sweep reuses is built once here, before the workers are forked.
        prepare_sweeps(net, origins, access_speed_kmh=config.network.access_speed_kmh)
    token = id(origins)
    _TASKS[token] = {
        "config": config, "net": net, "origins": origins, "point_snap": point_snap,
        "fca_points": fca_points, "classes": classes, "capacity": capacity, "demand": demand_of,
        "populated": populated, "gap_shared": gap_shared, "muni": muni, "n_muni": len(muni_codes),
        "cells": cells, "points_of": points_of,
    }
    work = {sid: _sweep_count(config.services[sid], points_of[sid][1]) for sid in service_ids}
    try:
        done, fca_out, t_sweeps, t_all = _run_tasks(
            token, service_ids, fca_ids, n_workers, say, warnings, work
        )
    finally:
        del _TASKS[token]
    results = {sid: r[0] for sid, r in done.items()}
    gap_parts = {sid: r[1] for sid, r in done.items()}
    timings["sweeps_s"] = t_sweeps
    timings["fca_s"] = t_all - t_sweeps
    for sid, acc in results.items():
        lost = np.flatnonzero(origins.ok & ~np.isfinite(acc.distance_m) & has_points[sid])
        reason = "no road connection to any point offering the service"
        _unreachable("population", cell_ids[lost], sid, reason, people[lost])
    fca_frames = []
    new_columns: dict[str, np.ndarray] = {}
    for sid, idx, catchment, a2, r2, ae, re_ in fca_out:
        new_columns[f"{sid}_2sfca"] = a2
        new_columns[f"{sid}_e2sfca"] = ae
        fca_frames.append(
            pd.DataFrame(
                {
                    "service": sid,
                    "point_id": pts["point_id"].to_numpy()[idx],
                    "capacity": capacity[idx],
                    "ratio_2sfca": r2,
                    "ratio_e2sfca": re_,
                    "catchment_km": catchment / 1000,
                }
            )
        )
    accessibility = pd.concat(fca_frames, ignore_index=True) if fca_frames else None

    say("gap areas and indicators")
    t2 = _time.perf_counter()
    for sid, acc in results.items():
        new_columns[f"{sid}_distance_m"] = acc.distance_m
        new_columns[f"{sid}_time_s"] = acc.time_s
        new_columns[f"{sid}_coverage"] = acc.coverage
    # The long table (one row per cell and service), built column by column for all services;
    # text columns are taken from the per-cell (per-service, per-point) values by row numbers.
    n_pop, accs, svc_names = len(pop), list(results.values()), list(results)
    n_svc = len(accs)
    cell_of_row = np.tile(np.arange(n_pop), n_svc)
    svc_of_row = np.repeat(np.arange(n_svc), n_pop)

    def tile(v: Any) -> np.ndarray:
        return np.tile(np.asarray(v), n_svc)

    def joined(arrays: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(arrays) if arrays else np.zeros(0, dtype)

    text: dict[str, tuple[Any, np.ndarray]] = {
        "cell_id": (pop["cell_id"], cell_of_row),
        "service": (pd.Series(np.array(svc_names, dtype=object)), svc_of_row),
        "nearest_point_id": (pts["point_id"], joined([a.nearest_point for a in accs], np.int64)),
        "municipality": (pop["municipality"], cell_of_row),
        "area_class": (pop["area_class"], cell_of_row),
    }
    columns: dict[str, Any] = {
        "cell_id": None,
        "_pos": cell_of_row,
        "service": None,
        "nearest_point_id": None,
        "distance_m": joined([a.distance_m for a in accs], float),
        "time_s": joined([a.time_s for a in accs], float),
        "coverage": joined([a.coverage for a in accs], float),
        "population": tile(popv),
        "demand": joined([demand_of[sid] for sid in results], float),
        "age_65_plus": tile(ages["age_65_plus"]),
        "age_0_14": tile(ages["age_0_14"]),
        "age_15_64": tile(ages["age_15_64"]),
        "sparse": tile(pop["sparse"].to_numpy()),
        "municipality": None,
        "area_class": None,
        "suppressed": tile(pop["suppressed"].to_numpy()),
        "snapped": tile(origins.ok),
    }

    def long_columns(rows: np.ndarray | None) -> dict[str, Any]:
        out = {}
        for c, v in columns.items():
            if c in text:
                values, codes = text[c]
                out[c] = _take_text(values, codes if rows is None else codes[rows])
            else:
                out[c] = v if rows is None else v[rows]
        return out

    access = pd.DataFrame(long_columns(None), copy=False)  # fresh arrays: no copy
    # Per-service columns of the population layer, joined at once (not one insert each).
    ordered = {k: new_columns[k] for k in sorted(new_columns, key=lambda c: (c.rsplit("_", 2)[0], c))}
    geom_name = pop.geometry.name
    pop = gpd.GeoDataFrame(
        pd.concat([pop, pd.DataFrame(ordered, index=pop.index)], axis=1), geometry=geom_name, crs=CRS
    )

    # Gaps: cells with people that are not fully covered.
    gap_rows = np.flatnonzero((columns["coverage"] < 1.0) & (columns["population"] > 0))
    gaps_long = long_columns(gap_rows)
    gpos = cell_of_row[gap_rows]
    gaps_long["uncovered_population"] = gaps_long["population"] * (1 - gaps_long["coverage"])
    gaps_long["geometry"] = pop.geometry.array.take(gpos)
    gaps = gpd.GeoDataFrame(gaps_long, geometry="geometry", crs=CRS, copy=False)

    gap_areas = _gap_areas(
        gaps, gpos, svc_of_row[gap_rows], ox, oy, size, places, pts, results, config, gap_parts
    )
    timings["gap_areas_s"] = _time.perf_counter() - t2

    t3 = _time.perf_counter()
    indicators = {sid: r[2] for sid, r in done.items()}
    summary = _summary(config, municipalities, muni_codes, muni, popv, results, indicators)
    timings["indicators_s"] = _time.perf_counter() - t3
    timings["total_s"] = _time.perf_counter() - t0

    pop_out = pop.drop(columns=["_row"], errors="ignore")
    unreachable = (
        pd.concat(unreachable_frames, ignore_index=True)
        if unreachable_frames
        else pd.DataFrame(columns=["layer", "id", "service", "reason", "population"])
    )
    sp = pts.drop(columns=["_row"], errors="ignore").copy()
    sp["snapped"] = point_snap.ok
    munis = municipalities.drop(columns=["_row"], errors="ignore")
    return GapResult(
        population=pop_out,
        access=access,
        gaps=gaps,
        gap_areas=gap_areas,
        summary=summary,
        service_points=sp,
        municipalities=munis,
        unreachable=unreachable,
        accessibility=accessibility,
        area_class_source=class_source,
        warnings=warnings,
        timings=timings,
    )


def _take_text(values: Any, codes: np.ndarray) -> Any:
    """A text column from a few values (one per code) taken by ``codes`` (``-1``: missing), without
    converting each row's string again: pandas takes from its own array of ``values``."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return series.array.take(codes, allow_fill=True)


def _cell_points(geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Where each cell is: its representative point (points stay as they are; the centre of an
    axis-aligned rectangle, the usual grid cell, is found from its bounds)."""
    g = np.asarray(geoms.array)
    kind = shapely.get_type_id(g)
    b = shapely.bounds(g)
    x, y = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2  # points: their coordinates
    poly = (kind == 3) | (kind == 6)
    box = poly & (shapely.get_num_coordinates(g) == 5)
    box[box] = shapely.area(g[box]) == (b[box, 2] - b[box, 0]) * (b[box, 3] - b[box, 1])
    other = np.flatnonzero(poly & ~box)
    if other.size:
        reps = shapely.point_on_surface(g[other])
        x[other], y[other] = shapely.get_x(reps), shapely.get_y(reps)
    return x, y


def _summary(
    config: Config,
    municipalities: gpd.GeoDataFrame,
    muni_codes: np.ndarray,
    muni: np.ndarray,
    popv: np.ndarray,
    results: dict[str, ServiceAccess],
    indicators: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The indicators per municipality × service (services in name order), then one row per
    municipality across services."""
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
            "service_label": "kaikki palvelut" if config.language == "fi" else "all services",
            "population": np.bincount(muni, weights=popv, minlength=n_m),
            "covered_share": mean_share,
            "services_with_gaps": (share < 1).sum(axis=1),
            "population_lacking_any_service": np.bincount(muni, weights=popv * (min_cov < 1), minlength=n_m),
        }
    )
    return pd.concat([per_service, across], ignore_index=True)


def _cell_size(pop: gpd.GeoDataFrame) -> float:
    poly = pop.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if poly.any():
        return float(np.sqrt(np.median(pop.geometry[poly].area)))
    return 1000.0


def _is_grid(geoms: np.ndarray) -> bool:
    """True when every geometry is an axis-aligned square of one size on one grid (a valid coverage)."""
    if len(geoms) == 0 or not (shapely.get_type_id(geoms) == 3).all():
        return False
    if not (shapely.get_num_coordinates(geoms) == 5).all():
        return False
    b = shapely.bounds(geoms)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    size = float(np.median(w))
    if size <= 0 or not (np.allclose(w, size) and np.allclose(h, size)):
        return False
    if not np.allclose(shapely.area(geoms), size * size):
        return False
    off_x, off_y = np.mod(b[:, 0] - b[0, 0], size), np.mod(b[:, 1] - b[0, 1], size)
    tol = 1e-6 * size
    return bool(((off_x < tol) | (off_x > size - tol)).all() and ((off_y < tol) | (off_y > size - tol)).all())


def _union(geoms: np.ndarray) -> Any:
    """Union of cell polygons: a coverage union when the cells form one, a general union otherwise."""
    if len(geoms) == 1:
        return geoms[0]
    try:
        u = shapely.coverage_union_all(geoms)
        if shapely.is_valid(u):
            return u
    except shapely.errors.GEOSException:
        pass
    return shapely.union_all(geoms)


def _grid_index(geoms: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Column and row of grid cells (squares of side ``size`` on one grid)."""
    b = shapely.bounds(geoms)
    return (np.round((b[:, 0] - b[:, 0].min()) / size).astype(np.int64),
            np.round((b[:, 1] - b[:, 1].min()) / size).astype(np.int64))


def _trace_grid_parts(gi: np.ndarray, gj: np.ndarray, comp: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                  np.ndarray, np.ndarray]:
    """Outline rings of edge-connected parts of grid cells, traced for all parts at once.

    Cell ``(gi, gj)`` of part ``comp`` is the unit square with lower-left corner ``(gi, gj)``.
    Every cell side without a neighbour of the same part is a boundary edge, directed with the
    part on its left. Each edge is followed by the edge leaving its end vertex; where two leave
    (two cells of the part meeting only at that corner), the right turn, which keeps the ring
    along the empty cells: then every ring is simple, the outer ring runs counter-clockwise and
    the hole rings clockwise, and holes touch the outer ring or each other at most at a corner
    (valid polygons). Only ring corners are kept.

    Returns
    -------
    tuple
        Corner x and y (grid units), ring number per corner (rings numbered consecutively,
        corners in ring order) and, per ring, its part.
    """
    n = gi.size
    w = int(gj.max()) + 3
    h = (int(gi.max()) + 3) * w
    # Edges are numbered in the order of the cells by (part, i, j): the rings come out in a
    # fixed order whatever the order of the rows.
    o = np.argsort((comp * h + (gi + 1) * w + (gj + 1)).astype(np.int64), kind="stable")
    gi, gj, comp = gi[o], gj[o], comp[o]
    row_at = _grid_rows(gi, gj)

    # Boundary edges: (start vertex, direction 0 E, 1 N, 2 W, 3 S), part on the left. The edge
    # of direction d from a vertex is side d of one cell (its left cell), so (cell, side) names it.
    sides = (  # (neighbour di, dj), start vertex offset
        ((0, -1), (0, 0)),  # side 0: bottom, going east
        ((1, 0), (1, 0)),  # side 1: right, going north
        ((0, 1), (1, 1)),  # side 2: top, going west
        ((-1, 0), (0, 1)),  # side 3: left, going south
    )
    edge_of = np.full((n, 4), -1, np.int64)
    ex, ey, ed, ec = [], [], [], []
    ne = 0
    for side_dir, ((di, dj), (oi, oj)) in enumerate(sides):
        nb = row_at(gi + di, gj + dj)
        r = np.flatnonzero((nb < 0) | (comp[np.maximum(nb, 0)] != comp))
        edge_of[r, side_dir] = ne + np.arange(r.size)
        ne += r.size
        ex.append(gi[r] + oi)
        ey.append(gj[r] + oj)
        ed.append(np.full(r.size, side_dir, np.int64))
        ec.append(comp[r])
    x, y, d, c = (np.concatenate(v).astype(np.int64) for v in (ex, ey, ed, ec))
    step_x, step_y = np.array([1, 0, -1, 0]), np.array([0, 1, 0, -1])
    endx, endy = x + step_x[d], y + step_y[d]
    left_x, left_y = np.array([0, -1, -1, 0]), np.array([0, 0, -1, -1])  # left cell of a direction
    succ = np.full(ne, -1, np.int64)
    for turn in (3, 0, 1):  # right turn first, then straight on, then left
        todo = np.flatnonzero(succ < 0)
        nd = (d[todo] + turn) % 4
        r = row_at(endx[todo] + left_x[nd], endy[todo] + left_y[nd])
        e2 = np.where(r >= 0, edge_of[np.maximum(r, 0), nd], -1)
        hit = (e2 >= 0) & (comp[np.maximum(r, 0)] == c[todo])
        succ[todo[hit]] = e2[hit]
    if (succ < 0).any():  # pragma: no cover - every vertex of a cell boundary has an edge out
        msg = "internal error: open boundary while tracing gap-area outlines"
        raise RuntimeError(msg)
    # Rings: the cycles of ``succ``; each starts at its smallest edge, positions by list ranking.
    ring = _components(ne, np.arange(ne), succ)
    nring = int(ring.max()) + 1
    start = np.full(nring, ne, np.int64)
    np.minimum.at(start, ring, np.arange(ne))
    pred = np.empty(ne, np.int64)
    pred[succ] = np.arange(ne)
    nxt = succ.copy()
    nxt[pred[start]] = -1  # cut each ring before its start
    rank = (nxt >= 0).astype(np.int64)  # edges to the cut, by pointer jumping
    live = np.flatnonzero(nxt >= 0)
    while live.size:
        rank[live] += rank[nxt[live]]
        nxt[live] = nxt[nxt[live]]
        live = live[nxt[live] >= 0]
    length = np.bincount(ring, minlength=nring)
    first = np.r_[0, np.cumsum(length)[:-1]]
    o = np.empty(ne, np.int64)
    o[first[ring] + length[ring] - 1 - rank] = np.arange(ne)  # edges by ring, in ring order
    corner = d != d[pred]  # the direction changes where the edge starts
    o = o[corner[o]]
    part = np.empty(nring, np.int64)
    part[ring] = c
    return x[o].astype(float), y[o].astype(float), ring[o], part


def _grid_rows(gi: np.ndarray, gj: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A lookup ``(i, j) -> row`` of grid cells (``-1`` where no cell), for queries at most one
    cell outside their range: a dense grid when it is small, sorted keys otherwise."""
    i0, j0 = int(gi.min()) - 1, int(gj.min()) - 1
    width = int(gj.max()) - j0 + 2
    size = (int(gi.max()) - i0 + 2) * width
    if size <= _DENSE_GRID_CELLS:
        grid = np.full(size, -1, np.int32 if gi.size < 2**31 else np.int64)
        grid[(gi - i0) * width + (gj - j0)] = np.arange(gi.size)
        return lambda i, j: grid[(i - i0) * width + (j - j0)]
    keys = (gi - i0) * width + (gj - j0)
    order = np.argsort(keys)
    ks = keys[order]

    def at(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        q = (i - i0) * width + (j - j0)
        pos = np.clip(np.searchsorted(ks, q), 0, ks.size - 1)
        return np.where(ks[pos] == q, order[pos], -1)

    return at


_DENSE_GRID_CELLS = 20_000_000
"""Largest grid (cells, incl. the empty ones) looked up densely: 80 MB of row numbers."""


def _grid_pairs(gi: np.ndarray, gj: np.ndarray) -> np.ndarray:
    """(m, 2) positions of grid cells that share a side (the next cell along x, along y)."""
    width = int(gj.max()) + 2 if gj.size else 2
    key = gi * width + gj
    order = np.argsort(key, kind="stable")
    ks = key[order]
    pairs_l = []
    for step in (width, 1):
        pos = np.clip(np.searchsorted(ks, key + step), 0, max(ks.size - 1, 0))
        hit = ks[pos] == key + step
        pairs_l.append(np.column_stack([np.flatnonzero(hit), order[pos[hit]]]))
    return np.concatenate(pairs_l).astype(np.int64)


def _outline_polygons(
    gi: np.ndarray, gj: np.ndarray, comp: np.ndarray, area: np.ndarray, k: int, x0: float, y0: float,
    size: float,
) -> list[Any]:
    """(Multi)Polygon per area from the edge-connected parts ``comp`` of its grid cells (rows)."""
    px, py, ring, part = _trace_grid_parts(gi, gj, comp)
    rings = shapely.linearrings(x0 + px * size, y0 + py * size, indices=ring)
    # Shell first in each part: the counter-clockwise ring (positive signed area).
    shell = shapely.is_ccw(rings)
    o = np.lexsort((~shell, part))
    parts = shapely.polygons(rings[o], indices=part[o])
    ncomp = parts.size
    part_area = np.empty(ncomp, np.int64)
    part_area[comp] = area
    o = np.argsort(part_area, kind="stable")
    parts, part_area = parts[o], part_area[o]
    counts = np.bincount(part_area, minlength=k)
    multi = shapely.multipolygons(parts, indices=part_area)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    return [parts[starts[a]] if counts[a] == 1 else multi[a] for a in range(k)]


GapParts = tuple[np.ndarray, int, "list[Any] | None"]
"""Gap areas of one service: area label per gap row (0..k-1, by first appearance), k, and the
area outlines when the cells are grid squares (None otherwise)."""


def _merge_radius(config: Config, size: float) -> float:
    return max(config.gaps.merge_distance_m, 1.01 * size)


def _gap_shared(
    ox: np.ndarray, oy: np.ndarray, muni: np.ndarray, pop_geoms: np.ndarray, populated: np.ndarray,
    size: float, radius: float,
) -> dict[str, Any]:
    """What every service's gap clusters and outlines reuse, found once among the populated cells:
    the pairs within the merge distance (same municipality), and for grid cells their grid
    indices and the pairs sharing a side."""
    cells = np.flatnonzero(populated)
    _, reg = np.unique(np.asarray(muni)[cells], return_inverse=True)
    cx, cy = ox[cells], oy[cells]
    span = float(max(np.ptp(cx), np.ptp(cy))) + 4 * radius + 1.0 if cells.size else 1.0
    tree = cKDTree(np.column_stack([cx + reg.ravel() * span, cy]) if cells.size else np.zeros((0, 2)))
    near = cells[tree.query_pairs(radius, output_type="ndarray")].reshape(-1, 2)
    out: dict[str, Any] = {"n": len(ox), "near": near, "grid": False, "size": size}
    geoms = pop_geoms[cells]
    if cells.size and _is_grid(geoms):
        gi, gj = _grid_index(geoms, size)
        b = shapely.bounds(geoms)
        full_i = np.zeros(len(ox), np.int64)
        full_j = np.zeros(len(ox), np.int64)
        full_i[cells], full_j[cells] = gi, gj
        out.update(grid=True, gi=full_i, gj=full_j, side=cells[_grid_pairs(gi, gj)],
                   x0=float(b[:, 0].min()), y0=float(b[:, 1].min()))
    return out


def _pair_edges(row_of: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = row_of[pairs[:, 0]], row_of[pairs[:, 1]]
    ok = (a >= 0) & (b >= 0)
    return a[ok], b[ok]


def _service_gap_parts(gpos: np.ndarray, shared: dict[str, Any]) -> GapParts:
    """Clusters of one service's gap cells (rows ``gpos`` of the population) and their outlines."""
    n = gpos.size
    if n == 0:
        return np.zeros(0, np.int64), 0, []
    row_of = np.full(shared["n"], -1, np.int64)
    row_of[gpos] = np.arange(n)
    labels = _components(n, *_pair_edges(row_of, shared["near"]))
    # Renumber labels by first appearance (the order groupby(sort=False) gave).
    _, first_idx, lab = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty_like(first_idx)
    rank[np.argsort(first_idx, kind="stable")] = np.arange(first_idx.size)
    lab = rank[lab.ravel()].astype(np.int64)
    k = int(first_idx.size)
    if not shared["grid"]:
        return lab, k, None
    src, dst = _pair_edges(row_of, shared["side"])
    same = lab[src] == lab[dst]  # neighbours across a municipality border stay apart
    comp = _components(n, src[same], dst[same])
    gi, gj = shared["gi"][gpos], shared["gj"][gpos]
    return lab, k, _outline_polygons(gi, gj, comp, lab, k, shared["x0"], shared["y0"], shared["size"])


def _union_outlines(geom_all: np.ndarray, gpos: np.ndarray, lab: np.ndarray, cnt: np.ndarray,
                    size: float) -> list[Any]:
    """One outline per area (label ``lab`` of each gap row) by a union of its cells' geometries;
    point cells become squares of the cell size around them."""
    geoms: list[Any] = []
    by = np.argsort(lab, kind="stable")
    bounds = np.r_[0, np.cumsum(cnt)]
    cell_pos_sorted = gpos[by]
    seen: dict[bytes, Any] = {}  # areas of several services often hold the same cells
    for i in range(cnt.size):
        rows_i = by[bounds[i] : bounds[i + 1]]
        key = np.sort(cell_pos_sorted[bounds[i] : bounds[i + 1]]).tobytes()
        u = seen.get(key)
        if u is None:
            u = seen[key] = _union(geom_all[rows_i])
        if u.geom_type in ("Point", "MultiPoint"):
            u = u.buffer(size / 2).envelope if u.geom_type == "Point" else u.convex_hull.buffer(size / 2)
        geoms.append(u)
    return geoms


def _gap_areas(
    gaps: gpd.GeoDataFrame,
    gpos: np.ndarray,
    gsvc: np.ndarray,
    ox: np.ndarray,
    oy: np.ndarray,
    size: float,
    places: gpd.GeoDataFrame | None,
    pts: gpd.GeoDataFrame,
    results: dict[str, ServiceAccess],
    config: Config,
    parts: dict[str, GapParts],
) -> gpd.GeoDataFrame:
    """Merge neighbouring gap cells (same service and municipality) into gap areas, vectorised.

    ``gpos`` is the population row of every gap row and ``gsvc`` its service as a position in
    ``results``; the rows of one service are contiguous. ``parts`` holds the clusters (and grid
    outlines) of each service, from the task that swept it (:func:`_service_gap_parts`); ``size``
    is the cell size.
    """
    cols = [
        "gap_area_id",
        "service",
        "municipality",
        "cells",
        *GAP_AREA_COUNT_COLUMNS,
        "place",
        "site_cell_id",
        "site_x",
        "site_y",
        "site_distance_m",
        "site_time_s",
        "nearest_point_id",
        "mean_coverage",
        "suppressed",
    ]
    if gaps.empty:
        return gpd.GeoDataFrame(columns=[*cols, "geometry"], geometry="geometry", crs=CRS)
    x, y = ox[gpos], oy[gpos]
    # Clusters of gap cells within the merge distance, per service and municipality: the rows
    # of one service are contiguous, so its labels follow those of the services before it.
    svc_names = np.array(list(results), dtype=object)
    starts = np.r_[0, np.flatnonzero(gsvc[1:] != gsvc[:-1]) + 1]
    lab_parts, geom_parts = [], []
    k = 0
    for a in starts:
        lab_s, k_s, geoms_s = parts[str(svc_names[gsvc[a]])]
        lab_parts.append(lab_s + k)
        geom_parts.append(geoms_s)
        k += k_s
    lab = np.concatenate(lab_parts)

    def s(v: Any) -> np.ndarray:
        return np.bincount(lab, weights=np.asarray(v, dtype=float), minlength=k)

    popv = gaps["population"].to_numpy(float)
    w = gaps["uncovered_population"].to_numpy(float)
    covv = gaps["coverage"].to_numpy(float)
    a65 = gaps["age_65_plus"].to_numpy(float)
    cnt = np.bincount(lab, minlength=k)
    wsum = s(w)
    use_w = wsum > 0
    cx = np.where(use_w, s(w * x) / np.where(use_w, wsum, 1), s(x) / cnt)
    cy = np.where(use_w, s(w * y) / np.where(use_w, wsum, 1), s(y) / cnt)
    score = ((x - cx[lab]) ** 2 + (y - cy[lab]) ** 2) / size**2 - np.log1p(popv)
    # The site of each area: its row with the lowest score (the first such row on ties).
    score = np.nan_to_num(score, nan=np.inf)
    best = np.full(k, np.inf)
    np.minimum.at(best, lab, score)
    cand = np.flatnonzero(score == best[lab])
    site = np.full(k, lab.size, np.int64)
    np.minimum.at(site, lab[cand], cand)
    place = np.full(k, "", dtype=object)
    if places is not None and len(places):
        tree = cKDTree(np.column_stack([places.geometry.x, places.geometry.y]))
        _, kk = tree.query(np.column_stack([cx, cy]))
        place = places["name"].astype(str).to_numpy()[kk]
    sid = svc_names[gsvc[site]]
    spos = gpos[site]
    point_ids = pts["point_id"].to_numpy()
    dist = np.empty(k)
    tim = np.empty(k)
    near = np.empty(k, dtype=object)
    for s_ in np.unique(sid):
        m = sid == s_
        acc = results[s_]
        dist[m] = acc.distance_m[spos[m]]
        tim[m] = acc.time_s[spos[m]]
        npnt = acc.nearest_point[spos[m]]
        near[m] = [point_ids[i] if i >= 0 else None for i in npnt]
    popsum = s(popv)
    wcov = np.maximum(popv, 1e-9)
    # Geometry: grid cells are assembled from their edge-connected parts; other layers get one
    # union per area over its cells.
    geoms: list[Any] = []
    if all(g is not None for g in geom_parts):
        geoms = [g for part_geoms in geom_parts for g in cast(list, part_geoms)]
    if not geoms:
        geoms = _union_outlines(gaps.geometry.to_numpy(), gpos, lab, cnt, size)
    suppress = config.export.suppress_below
    out = gpd.GeoDataFrame(
        pd.DataFrame(
            {
                "service": sid,
                "municipality": gaps["municipality"].array.take(site),
                "cells": cnt,
                "population": popsum,
                "uncovered_population": wsum,
                "age_0_14": s(gaps["age_0_14"]),
                "age_15_64": s(gaps["age_15_64"]),
                "age_65_plus": s(a65),
                "uncovered_65_plus": s(a65 * (1 - covv)),
                "sparse_population": s(popv * gaps["sparse"].to_numpy(float)),
                "place": place,
                "site_cell_id": gaps["cell_id"].array.take(site),
                "site_x": ox[spos].astype(float),
                "site_y": oy[spos].astype(float),
                "site_distance_m": dist,
                "site_time_s": tim,
                "nearest_point_id": near,
                "mean_coverage": s(covv * wcov) / s(wcov),
                "suppressed": popsum < suppress,
            }
        ),
        geometry=geoms,
        crs=CRS,
    )
    out = out.sort_values(
        ["service", "municipality", "uncovered_population"], ascending=[True, True, False], kind="stable"
    )
    out.insert(0, "gap_area_id", "")
    out["gap_area_id"] = (
        out["service"]
        + "-"
        + out["municipality"]
        + "-"
        + (out.groupby(["service", "municipality"]).cumcount() + 1).map("{:03d}".format)
    )
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Capacity-aware access: two-step floating catchment area (2SFCA) and enhanced 2SFCA
# ---------------------------------------------------------------------------------------------

E2SFCA_BAND_WEIGHTS = (1.0, 0.68, 0.22)
"""Luo & Qi (2009) weights for three equal distance bands of the catchment."""


def two_step_fca(
    cost: sparse.sparray,
    demand: np.ndarray,
    supply: np.ndarray,
    *,
    max_cost: float,
    weights: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two-step floating catchment area ratios.

    Parameters
    ----------
    cost
        Sparse ``n_demand × n_supply`` matrix of travel costs; only stored entries are reachable
        (a stored 0 is a zero cost).
    demand
        Demand per location (e.g. population).
    supply
        Capacity per supply point.
    max_cost
        Catchment size: pairs costing more are ignored.
    weights
        Distance-decay function of the cost (1 inside the catchment when None: classic 2SFCA).

    Returns
    -------
    (access, ratio)
        ``access`` per demand location (supply per person reachable) and the supply-to-demand
        ``ratio`` per supply point (``R_j``).
    """
    c = sparse.coo_array(cost)
    keep = c.data <= max_cost
    rows, cols, vals = c.row[keep], c.col[keep], c.data[keep]
    w = np.ones_like(vals) if weights is None else weights(vals)
    demand = np.nan_to_num(np.asarray(demand, dtype=float))
    supply = np.nan_to_num(np.asarray(supply, dtype=float))
    weighted_demand = np.bincount(cols, weights=demand[rows] * w, minlength=len(supply))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(weighted_demand > 0, supply / weighted_demand, 0.0)
    access = np.bincount(rows, weights=ratio[cols] * w, minlength=len(demand))
    return access, ratio


def e2sfca_weights(
    max_cost: float, band_weights: tuple[float, ...] = E2SFCA_BAND_WEIGHTS
) -> Callable[[np.ndarray], np.ndarray]:
    """Step weights over equal cost bands of ``[0, max_cost]`` for the enhanced 2SFCA."""
    edges = np.linspace(0, max_cost, len(band_weights) + 1)[1:]
    bw = np.asarray(band_weights, dtype=float)

    def fn(values: np.ndarray) -> np.ndarray:
        band = np.searchsorted(edges, values, side="left").clip(0, len(bw) - 1)
        return np.where(values <= max_cost, bw[band], 0.0)

    return fn

"""The geodata adapter of the classic location models: one service, population cells and candidate sites.

It builds the road cost matrix from the demand cells to the candidate sites
(:func:`location_matrix`) and runs LSCP, MCLP (:mod:`.classic`) or p-median (:mod:`.pmedian`) on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from ..config import Config
from ..coverage import GapResult, thresholds_for
from ..errors import ProposalError
from ..network import Network, cost_matrix, snap_points
from ..schema import CRS
from .candidates import _candidate_sites
from .classic import LocationSolution, solve_lscp, solve_mclp
from .pmedian import solve_pmedian


@dataclass(frozen=True)
class LocationResult:
    """A classic location model's chosen sites for one service."""

    model: str
    service: str
    sites: gpd.GeoDataFrame  # chosen candidate sites with the demand they serve
    objective: float
    status: str
    mip_gap: float
    seconds: float
    demand_total: float
    demand_covered: float
    excluded_demand: float  # demand no candidate reaches (left out of the model)


@dataclass(frozen=True)
class _LocationSites:
    """Candidate sites of a location model, one entry per site in every array."""

    x: np.ndarray
    y: np.ndarray
    name: np.ndarray
    kind: np.ndarray


def _check_arguments(config: Config, model: str, service: str, p: int | None) -> str:
    """The normalised model name; raise for an unknown model or service or a missing ``p``."""
    model = model.lower().replace("-", "")
    if model not in ("lscp", "mclp", "pmedian"):
        msg = f"unknown model '{model}'. Fix: use --model partnership, lscp, mclp or pmedian"
        raise ProposalError(msg)
    if service not in config.services:
        msg = f"unknown service '{service}'. Fix: use one of {', '.join(config.services)}"
        raise ProposalError(msg)
    if model in ("mclp", "pmedian") and (p is None or p < 1):
        msg = f"--model {model} needs --p N (the number of sites, at least 1)"
        raise ProposalError(msg)
    return model


def _location_sites(
    config: Config,
    gaps: GapResult,
    service_points: gpd.GeoDataFrame,
    actors: gpd.GeoDataFrame | None,
    places: gpd.GeoDataFrame | None,
) -> _LocationSites:
    """The proposals' candidate sites plus every existing fixed point, one site per location."""
    sites = _candidate_sites(
        gaps, service_points, actors, places, max_per_service=config.proposals.max_sites_per_service
    )
    # Existing points of every mode and service are candidates too (co-location).
    extra = service_points[service_points["mode"] == "fixed"]
    sx = np.concatenate([sites.x, extra.geometry.x.to_numpy()])
    sy = np.concatenate([sites.y, extra.geometry.y.to_numpy()])
    sname = np.concatenate([sites.name, extra["name"].to_numpy(object)])
    skind = np.concatenate([sites.kind, np.full(len(extra), "existing_point", dtype=object)])
    key = pd.DataFrame({"kx": (sx / 50).round(), "ky": (sy / 50).round()})
    keep = ~key.duplicated().to_numpy()
    return _LocationSites(sx[keep], sy[keep], sname[keep], skind[keep])


@dataclass(frozen=True)
class LocationMatrix:
    """The cost matrix a classic model runs on, with what its rows and columns stand for.

    For p-median the matrix is the full road cost in km (no cut-off), with the sites that no cell
    reaches left out, so it can be handed as it is (``cost.toarray()``) to another solver such as
    PySAL spopt. For LSCP and MCLP it holds road distance divided by each cell's threshold, only
    within the threshold (the coverage radius is 1), and every candidate site.
    """

    model: str
    service: str
    cost: sparse.csr_array  # cells that reach a site × sites
    weights: np.ndarray  # the service's demand of each row's cell
    cell_id: np.ndarray  # population cell of each row
    sites: _LocationSites  # the sites of the columns
    demand_total: float  # the service's demand in every cell
    excluded_demand: float  # demand of the cells no site reaches (left out of the rows)


def location_matrix(
    config: Config,
    net: Network,
    gaps: GapResult,
    service_points: gpd.GeoDataFrame,
    actors: gpd.GeoDataFrame | None,
    *,
    model: str,
    service: str,
    places: gpd.GeoDataFrame | None = None,
) -> LocationMatrix:
    """The cost matrix of a classic model for one service: population cells × candidate sites.

    Demand points are the population cells with demand for the service (weighted by it); candidate
    sites are the gap-area sites, the existing points of every service and the actors' bases (see
    :class:`LocationMatrix` for the costs).

    Raises
    ------
    ProposalError
        For an unknown model or service.
    """
    model = _check_arguments(config, model, service, 1)
    svc = config.services[service]
    acc = gaps.access[(gaps.access["service"] == service) & (gaps.access["demand"] > 0)].reset_index(
        drop=True
    )
    pop = gaps.population
    pos = pd.Series(np.arange(len(pop)), index=pop["cell_id"].to_numpy()).loc[acc["cell_id"]].to_numpy()
    geom = pop.geometry.iloc[pos]
    reps = geom.where(geom.geom_type == "Point", geom.representative_point())
    origins = snap_points(net, np.column_stack([reps.x, reps.y]), tolerance_m=config.network.snap_tolerance_m)
    sites = _location_sites(config, gaps, service_points, actors, places)
    targets = snap_points(
        net, np.column_stack([sites.x, sites.y]), tolerance_m=config.network.snap_tolerance_m
    )
    thr_m, _ = thresholds_for(svc, acc["area_class"].to_numpy(object))
    finite_thr = np.where(np.isfinite(thr_m), thr_m, 1e12)
    # p-median needs every cost: a cut-off would forbid assignments the optimum may need.
    limit = np.inf if model == "pmedian" else float(np.max(finite_thr))
    cm = sparse.coo_array(
        cost_matrix(
            net,
            origins,
            targets,
            weight="length",
            limit=limit,
            access_speed_kmh=config.network.access_speed_kmh,
        )
    )
    weights = acc["demand"].to_numpy(float)
    if model == "pmedian":
        row, col, value = cm.row, cm.col, cm.data / 1000.0
    else:
        ratio = cm.data / finite_thr[cm.row]
        ok = ratio <= 1.0
        row, col, value = cm.row[ok], cm.col[ok], ratio[ok]
    reach = np.bincount(row, minlength=cm.shape[0]) > 0
    rows = np.flatnonzero(reach)
    cols = np.unique(col) if model == "pmedian" else np.arange(cm.shape[1])
    if model == "pmedian":
        sites = _LocationSites(sites.x[cols], sites.y[cols], sites.name[cols], sites.kind[cols])
    # Stored entries are the reachable pairs (a zero cost stays stored).
    cost = sparse.csr_array(
        (value, (np.searchsorted(rows, row), np.searchsorted(cols, col))), shape=(rows.size, cols.size)
    )
    return LocationMatrix(
        model=model,
        service=service,
        cost=cost,
        weights=weights[rows],
        cell_id=acc["cell_id"].to_numpy()[rows],
        sites=sites,
        demand_total=float(weights.sum()),
        excluded_demand=float(weights[~reach].sum()),
    )


def _run_model(
    model: str, cost: sparse.csr_array, weights: np.ndarray, p: int | None, time_limit_s: float
) -> LocationSolution:
    if model == "lscp":
        return solve_lscp(cost, 1.0, time_limit_s=time_limit_s)
    if model == "mclp":
        return solve_mclp(cost, weights, 1.0, int(p or 1), time_limit_s=time_limit_s)
    return solve_pmedian(cost, weights, int(p or 1), time_limit_s=time_limit_s)


def locate_facilities(
    config: Config,
    net: Network,
    gaps: GapResult,
    service_points: gpd.GeoDataFrame,
    actors: gpd.GeoDataFrame | None,
    *,
    model: str,
    service: str,
    p: int | None = None,
    places: gpd.GeoDataFrame | None = None,
) -> LocationResult:
    """Run LSCP, MCLP or p-median for one service on the road network.

    Demand points are the population cells (weighted by the service's demand column); candidate
    sites are the gap-area sites, the existing points of every service and the actors' bases.
    Coverage uses each cell's own threshold (its area class): the cost matrix holds road distance
    divided by the cell's threshold, so the coverage radius is 1. p-median minimises the
    demand-weighted road distance in km over the full matrix (:func:`location_matrix`).

    Parameters
    ----------
    model
        ``"lscp"`` (fewest sites covering all reachable demand), ``"mclp"`` (``p`` sites covering
        the most demand) or ``"pmedian"`` (``p`` sites minimising demand-weighted distance).
    service
        The service id.
    p
        Number of sites for MCLP and p-median.

    Raises
    ------
    ProposalError
        For an unknown model or service, or a missing ``p``.
    """
    model = _check_arguments(config, model, service, p)
    lm = location_matrix(
        config, net, gaps, service_points, actors, model=model, service=service, places=places
    )
    w = lm.weights
    sol = _run_model(model, lm.cost, w, p, config.proposals.time_limit_s)
    sites = lm.sites
    served = np.zeros(len(sites.x))
    alloc = sol.allocation
    np.add.at(served, alloc[alloc >= 0], w[alloc >= 0])
    chosen = sol.facilities
    out = pd.DataFrame(
        {
            "model": model,
            "service": service,
            "site_name": sites.name[chosen],
            "site_kind": sites.kind[chosen],
            "demand_served": served[chosen],
            "x": sites.x[chosen],
            "y": sites.y[chosen],
        }
    )
    gdf = gpd.GeoDataFrame(out.drop(columns=["x", "y"]), geometry=shapely.points(out["x"], out["y"]), crs=CRS)
    return LocationResult(
        model=model,
        service=service,
        sites=gdf,
        objective=float(sol.objective),
        status=sol.status,
        mip_gap=float(sol.mip_gap),
        seconds=float(sol.seconds),
        demand_total=lm.demand_total,
        demand_covered=float(w[alloc >= 0].sum()),
        excluded_demand=lm.excluded_demand,
    )

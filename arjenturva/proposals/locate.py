"""The geodata adapter of the classic location models: one service, population cells and candidate sites.

It builds the road cost matrix from the demand cells to the candidate sites and runs LSCP, MCLP or
p-median (:mod:`.classic`) on it.
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
from .classic import LocationSolution, solve_lscp, solve_mclp, solve_pmedian


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
    divided by the cell's threshold, so the coverage radius is 1.

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
    limit = float(np.max(finite_thr)) * (3.0 if model == "pmedian" else 1.0)
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
        cost = sparse.csr_array((cm.data / 1000.0, (cm.row, cm.col)), shape=cm.shape)
    else:
        ratio = cm.data / finite_thr[cm.row]
        ok = ratio <= 1.0
        cost = sparse.csr_array((ratio[ok], (cm.row[ok], cm.col[ok])), shape=cm.shape)
    reach = np.diff(cost.indptr) > 0
    excluded = float(weights[~reach].sum())
    w = weights[np.flatnonzero(reach)]
    sol = _run_model(model, cost[np.flatnonzero(reach)], w, p, config.proposals.time_limit_s)
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
        demand_total=float(weights.sum()),
        demand_covered=float(w[alloc >= 0].sum()),
        excluded_demand=excluded,
    )

"""Resilience: who would lose a service if an actor, or a whole sector, stopped (``stress.csv``).

Everyday security rests on many actors. For every actor that runs service points, and for every
sector, this module closes those points and measures, per municipality and service, the rise in
``uncovered_demand`` (partial coverage counted exactly as the gap analysis counts it) and in
uncovered people aged 65+.

Method: a batch of scenarios that reuses the network. Cells and points are snapped once; the
baseline access of each service is computed once; then, for each actor (and sector) and each
service its points offer, the service's access is recomputed with the same function the gap
analysis uses (:func:`~arjenturva.coverage.access.service_access`) on the remaining points. Only
the services an actor offers are recomputed, so the cost is a few multi-source sweeps per actor
and service. The figures of an actor equal a ``remove_actors`` scenario run (which closes the
actor's points) minus the baseline; a test checks it. The second-nearest point per cell would not
do: a cell's coverage can rest on a mobile or remote point with partial weight, and closing a
point changes both distance and weight.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ..config import Config
from ..network import Network, Snapped, snap_points
from .access import ServiceAccess, service_access
from .analysis import _demand, _prepare_cells, _service_ids, _supply

STRESS_COLUMNS = (
    "rank", "level", "actor_id", "actor_name", "sector", "service", "service_label", "municipality",
    "municipality_name", "points_closed", "demand_losing_coverage", "people_65_plus_losing_coverage",
)
"""Columns of ``stress.csv``."""


@dataclass(frozen=True)
class StressResult:
    """The stress table and how it was computed."""

    table: pd.DataFrame
    """One row per actor (or sector) × service × municipality that would lose coverage, ranked."""
    scenarios: int
    """Actor × service and sector × service recomputations."""
    seconds: float


@dataclass(frozen=True)
class _Base:
    """What every recomputation shares."""

    config: Config
    net: Network
    origins: Snapped
    point_snap: Snapped
    classes: np.ndarray
    muni: np.ndarray
    n_muni: int
    age_65: np.ndarray


def _access(base: _Base, sid: str, idx: np.ndarray, weights: np.ndarray) -> ServiceAccess:
    cfg = base.config
    return service_access(
        base.net, base.origins, base.point_snap.subset(idx), weights, sid, cfg.services[sid], base.classes,
        access_speed_kmh=cfg.network.access_speed_kmh, nearest_by=cfg.network.cost,
    )


def actor_stress(
    config: Config,
    net: Network,
    population: gpd.GeoDataFrame,
    service_points: gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame,
    actors: gpd.GeoDataFrame | None,
    *,
    services: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> StressResult:
    """The coverage each actor and each sector holds up alone, per municipality and service.

    Rows with no loss are left out. ``rank`` orders the actor rows by demand losing coverage
    (then people aged 65+), largest first; sector rows follow, ranked among themselves.
    """
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    service_ids = _service_ids(config, services)
    cells = _prepare_cells(population, config)
    pts = service_points.reset_index(drop=True)
    tol = config.network.snap_tolerance_m
    say("snapping cells and points")
    origins = snap_points(net, np.column_stack([cells.x, cells.y]), tolerance_m=tol)
    point_snap = snap_points(net, np.column_stack([pts.geometry.x, pts.geometry.y]), tolerance_m=tol)
    supply, _ = _supply(config, pts, point_snap, service_ids)
    demand_of = _demand(config, cells, service_ids)
    base = _Base(config, net, origins, point_snap, cells.classes, cells.muni, len(cells.muni_codes),
                 cells.ages["age_65_plus"])
    say("baseline access")
    before = {sid: _access(base, sid, *supply.points_of[sid]).coverage for sid in service_ids}

    owner = pts["actor_id"].fillna("").astype(str).to_numpy() if "actor_id" in pts else np.full(len(pts), "")
    info = _actor_info(actors)
    groups: list[tuple[str, str, str, str, np.ndarray]] = []  # level, id, name, sector, closed points
    for aid in sorted(set(owner) - {""}):
        name, sector = info.get(aid, (aid, ""))
        groups.append(("actor", aid, name, sector, owner == aid))
    sectors = pd.Series({aid: s for aid, (_n, s) in info.items()})
    for sector in sorted(set(sectors)):
        members = set(sectors.index[sectors == sector])
        closed = np.isin(owner, list(members))
        if closed.any():
            groups.append(("sector", "", "", sector, closed))

    names = dict(zip(municipalities["code"], municipalities["name"], strict=True))
    labels = {sid: config.services[sid].label.model_dump()[config.language] for sid in service_ids}
    rows: list[dict[str, object]] = []
    runs = 0
    for k, (level, aid, name, sector, closed) in enumerate(groups):
        if k % 10 == 0:
            say(f"{level} {k + 1} of {len(groups)}")
        for sid in service_ids:
            idx, weights = supply.points_of[sid]
            gone = closed[idx]
            if not gone.any():
                continue
            runs += 1
            keep = ~gone
            after = _access(base, sid, idx[keep], weights[keep]).coverage
            lost = before[sid] - after
            d = np.bincount(base.muni, weights=demand_of[sid] * lost, minlength=base.n_muni)
            old = np.bincount(base.muni, weights=base.age_65 * lost, minlength=base.n_muni)
            for m in np.flatnonzero((d > 1e-9) | (old > 1e-9)):
                code = str(cells.muni_codes[m])
                rows.append({
                    "level": level, "actor_id": aid, "actor_name": name, "sector": sector, "service": sid,
                    "service_label": labels[sid], "municipality": code,
                    "municipality_name": names.get(code, ""),
                    "points_closed": int(gone.sum()), "demand_losing_coverage": float(d[m]),
                    "people_65_plus_losing_coverage": float(old[m]),
                })
    table = _ranked(pd.DataFrame(rows, columns=[c for c in STRESS_COLUMNS if c != "rank"]))
    return StressResult(table, runs, time.perf_counter() - t0)


def _actor_info(actors: gpd.GeoDataFrame | None) -> dict[str, tuple[str, str]]:
    if actors is None or not len(actors):
        return {}
    return {
        str(a): (str(n), str(s))
        for a, n, s in zip(actors["actor_id"], actors["name"], actors["sector"], strict=True)
    }


def _ranked(df: pd.DataFrame) -> pd.DataFrame:
    """Actor rows first, each level by loss (demand, then 65+), largest first; ties by id."""
    if df.empty:
        return df.assign(rank=pd.Series(dtype=int))[list(STRESS_COLUMNS)]
    df = df.assign(_lvl=(df["level"] != "actor").astype(int)).sort_values(
        ["_lvl", "demand_losing_coverage", "people_65_plus_losing_coverage", "actor_id", "sector", "service",
         "municipality"],
        ascending=[True, False, False, True, True, True, True], kind="stable",
    )
    df["rank"] = df.groupby("_lvl").cumcount() + 1
    return df.drop(columns="_lvl").reset_index(drop=True)[list(STRESS_COLUMNS)]

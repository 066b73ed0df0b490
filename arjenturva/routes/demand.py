"""The uncovered demand the route stops can reach, and what a visit is worth.

A stop reaches a gap cell of a service (a cell not fully covered today) when the cell is within
the service's distance and time thresholds of the stop by road, as the gap analysis measures it:
the same sweeps from the cells to the points (:func:`arjenturva.network.cost_matrix`), the
thresholds of the cell's area class. A stop visiting ``d`` days a week counts
``min(1, d / required_days)`` for the cells it reaches, and a cell's coverage is the best of what
reaches it (today's points and the planned stops).

A stop is credited with its *own* cells only, so that two stops of one day never count the same
people: each gap cell belongs to one of the stops a group of vehicles may use that reach it, the one
that reaches the most weighted open demand in all (the nearest among equals). A stop reaching a
whole area earns it, and a stop beside it earns only what the first does not reach. The prize of a
stop (what the solver collects by visiting it) is the weighted coverage its next visit day adds to
its own cells, with the proposals' weights: the service's ``weight``, people aged 65+
``proposals.weight_65_plus`` times where the demand group holds them. People a stop reaches beyond
its own cells are counted by the gap analysis after the routes, not in the prize.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from ..config import Config
from ..coverage import GapResult, thresholds_for
from ..network import Network, Snapped, cost_matrix, snap_points
from .model import Stops

DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class ServiceDemand:
    """The gap cells of one service and the candidate stops that reach them (one entry per cell)."""

    service: str
    cell: np.ndarray  # index into :attr:`Demand.cell_id`
    municipality: np.ndarray
    weight: np.ndarray  # the objective's weight of full coverage of the cell
    demand: np.ndarray  # people of the service's demand group
    coverage0: np.ndarray  # coverage today, in [0, 1)
    reach: sparse.csc_array  # cells × stops, 1 where the stop reaches the cell within its thresholds
    pair_cell: np.ndarray  # the (cell, stop) pairs of ``reach``, with the road cost between them
    pair_stop: np.ndarray
    pair_cost: np.ndarray
    stop_reach: np.ndarray  # per stop: the weighted open demand it reaches
    required_days: float
    stop_s: float
    min_people: float

    def days_weight(self, days: np.ndarray) -> np.ndarray:
        """Coverage a stop visiting ``days`` days a week gives (0–1)."""
        return np.minimum(1.0, np.asarray(days, dtype=float) / self.required_days)

    def owners(self, allowed: np.ndarray) -> np.ndarray:
        """The stop each cell belongs to among the ``allowed`` stops (-1: none reaches it): the one
        reaching the most weighted open demand, then the nearest, then the first."""
        ok = allowed[self.pair_stop]
        rows, cols = self.pair_cell[ok], self.pair_stop[ok]
        order = np.lexsort((cols, self.pair_cost[ok], -self.stop_reach[cols], rows))
        owner = np.full(self.cell.size, -1, dtype=np.int64)
        if rows.size:
            first = np.r_[True, rows[order][1:] != rows[order][:-1]]
            owner[rows[order][first]] = cols[order][first]
        return owner


@dataclass(frozen=True)
class Ownership:
    """Which stop owns each gap cell, per service, for one group of vehicles, and the stops whose
    own cells hold at least the service's ``min_people_per_stop`` residents."""

    owner: dict[str, np.ndarray]
    qualifies: dict[str, np.ndarray]


@dataclass(frozen=True)
class Demand:
    """The gap cells of every routed service and the stops that reach them."""

    services: dict[str, ServiceDemand]
    cell_id: np.ndarray
    cell_people: np.ndarray

    def ownership(self, allowed: np.ndarray) -> Ownership:
        """Each cell's stop among the ``allowed`` ones, per service."""
        owner = {s: d.owners(allowed) for s, d in self.services.items()}
        qualifies = {}
        for s, d in self.services.items():
            o = owner[s]
            people = np.bincount(o[o >= 0], weights=self.cell_people[d.cell][o >= 0], minlength=allowed.size)
            qualifies[s] = people >= max(d.min_people, 1e-9)
        return Ownership(owner, qualifies)

    def people(self, stop: int, services: tuple[str, ...], own: Ownership) -> float:
        """Residents of the stop's own gap cells of any of ``services`` (each cell once)."""
        cells = [d.cell[own.owner[s] == stop] for s in services if (d := self.services.get(s)) is not None]
        if not cells:
            return 0.0
        return float(self.cell_people[np.unique(np.concatenate(cells))].sum())


def _lookup(matrix: sparse.csr_array, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Stored values at (rows, cols) of a sparse matrix; inf where nothing is stored."""
    out = np.full(rows.size, np.inf)
    if rows.size == 0:
        return out
    coo = matrix.tocoo()
    n = matrix.shape[1]
    key = coo.row.astype(np.int64) * n + coo.col
    order = np.argsort(key)
    key, data = key[order], coo.data[order]
    want = rows.astype(np.int64) * n + cols
    at = np.minimum(np.searchsorted(key, want), max(key.size - 1, 0))
    found = (key[at] == want) if key.size else np.zeros(rows.size, bool)
    out[found] = data[at[found]]
    return out


def find_demand(
    config: Config, net: Network, gaps: GapResult, stops: Stops, stop_snap: Snapped, services: list[str]
) -> Demand:
    """The gap cells of ``services``, which stops reach them, and which stop each belongs to."""
    acc = gaps.access
    acc = acc[
        acc["service"].isin(services)
        & (acc["coverage"] < 1.0)
        & (acc["population"] > 0)
        & acc["snapped"].to_numpy(dtype=bool)
    ].reset_index(drop=True)
    pop = gaps.population.reset_index(drop=True)
    cell_ids, local = np.unique(acc["cell_id"].to_numpy(dtype=str), return_inverse=True)
    local = local.ravel()
    pos = pd.Series(np.arange(len(pop)), index=pop["cell_id"].astype(str).to_numpy()).loc[cell_ids].to_numpy()
    geom = pop.geometry.iloc[pos]
    reps = geom.where(geom.geom_type == "Point", geom.representative_point())
    origins = snap_points(
        net,
        np.column_stack([reps.x.to_numpy(), reps.y.to_numpy()]),
        tolerance_m=config.network.snap_tolerance_m,
    )
    km = [max(t.values()) for s in services if (t := config.services[s].threshold_km)]
    mins = [max(t.values()) for s in services if (t := config.services[s].threshold_min)]
    speed = config.network.access_speed_kmh
    length = (
        cost_matrix(net, origins, stop_snap, weight="length", limit=1000.0 * max(km), access_speed_kmh=speed)
        if km and len(stops)
        else None
    )
    time = (
        cost_matrix(net, origins, stop_snap, weight="time", limit=60.0 * max(mins), access_speed_kmh=speed)
        if mins and len(stops)
        else None
    )
    people = np.zeros(cell_ids.size)
    people[local] = acc["population"].to_numpy(float)
    w65 = config.proposals.weight_65_plus
    out: dict[str, ServiceDemand] = {}
    for sid in services:
        svc = config.services[sid]
        rows = np.flatnonzero(acc["service"].to_numpy() == sid)
        part = acc.iloc[rows]
        cells = local[rows]
        thr_m, thr_s = thresholds_for(svc, part["area_class"].to_numpy(object))
        base = length if svc.threshold_km else time
        if base is None or rows.size == 0:
            ur = uc = np.zeros(0, np.int64)
            uv = np.zeros(0)
        else:
            sub = sparse.coo_array(base[cells])
            ur, uc, uv = sub.row.astype(np.int64), sub.col.astype(np.int64), sub.data
            ok = uv <= (thr_m if svc.threshold_km else thr_s)[ur]
            if svc.threshold_km and svc.threshold_min:
                assert time is not None  # both kinds of threshold: both matrices exist
                ok &= _lookup(time, cells[ur], uc) <= thr_s[ur]
            ur, uc, uv = ur[ok], uc[ok], uv[ok]
        extra = (w65 - 1.0) * part["age_65_plus"].fillna(0).to_numpy(float)
        demand = part["demand"].to_numpy(float)
        weight = svc.weight * (demand + (extra if svc.demand in ("population", "age_65_plus") else 0.0))
        coverage0 = part["coverage"].to_numpy(float)
        mobile = svc.mobile
        if mobile is None:  # the vehicles loader admits only services with a mobile rule
            continue
        out[sid] = ServiceDemand(
            service=sid,
            cell=cells,
            municipality=part["municipality"].astype(str).to_numpy(dtype=object),
            weight=weight,
            demand=demand,
            coverage0=coverage0,
            reach=sparse.csc_array((np.ones(ur.size), (ur, uc)), shape=(rows.size, len(stops))),
            pair_cell=ur,
            pair_stop=uc,
            pair_cost=uv,
            stop_reach=np.bincount(uc, weights=(weight * (1.0 - coverage0))[ur], minlength=len(stops)),
            required_days=mobile.required_days,
            stop_s=60.0 * mobile.stop_min,
            min_people=mobile.min_people_per_stop,
        )
    return Demand(out, cell_ids, people)


class WeekState:
    """The coverage of every gap cell as the week's visits are added, and each stop's visit days.

    It is the planner's own bookkeeping (a plain object, not shared): :meth:`prizes` gives what a
    visit on a weekday would add, :meth:`visit` records one.
    """

    def __init__(self, demand: Demand, n_stops: int):
        self.demand = demand
        self.coverage = {s: d.coverage0.copy() for s, d in demand.services.items()}
        self.days = {s: np.zeros((n_stops, DAYS_PER_WEEK), bool) for s in demand.services}

    def prizes(self, service: str, day: int, own: Ownership) -> np.ndarray:
        """Per stop: the weighted coverage its own cells gain from a visit on ``day`` (0 where the
        stop does not qualify for the service or is visited for it that day already)."""
        d = self.demand.services[service]
        owner = own.owner[service]
        n = self.days[service].shape[0]
        f_new = d.days_weight(self.days[service].sum(axis=1) + 1)
        has = owner >= 0
        gain = np.zeros(owner.size)
        gain[has] = d.weight[has] * np.maximum(0.0, f_new[owner[has]] - self.coverage[service][has])
        prize = np.bincount(owner[has], weights=gain[has], minlength=n)
        return np.where(own.qualifies[service] & ~self.days[service][:, day], prize, 0.0)

    def visit(self, service: str, stop: int, day: int) -> None:
        """Record that ``stop`` offers ``service`` on ``day``: the cells it reaches get its coverage."""
        days = self.days[service]
        if days[stop, day]:
            return
        days[stop, day] = True
        d = self.demand.services[service]
        col = d.reach[:, [stop]].tocoo()
        cells = col.row
        f = float(d.days_weight(np.array([days[stop].sum()]))[0])
        cov = self.coverage[service]
        cov[cells] = np.maximum(cov[cells], f)

    def newly_covered(self) -> dict[str, float]:
        """Demand (people of each service's demand group) newly covered so far, per service."""
        return {
            s: float((d.demand * (self.coverage[s] - d.coverage0)).sum())
            for s, d in self.demand.services.items()
        }

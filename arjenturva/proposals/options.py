"""Candidate options: which actor can offer which service, in which mode, at which site.

An option's coverage column holds, for every demand unit (gap cell × service) it reaches, the share
of the unit's still-uncovered need it would cover. Reach uses the same rules as the gap analysis:
road distance (and time) within the unit's thresholds for its area class, and the mode weights.

Options too small to be worth making are not offered: one whose newly covered demand (people of
the service's demand group) is below the service's ``min_demand`` for its mode, and any fixed
option of a service delivered at home (``delivery: home``). Each option costs its minimum (times
the service's weight) in the objective, plus the travel of mobile visits, so a smaller mode that
covers the same people wins over a fixed point unless the fixed point covers clearly more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from ..config import Config, ProposalConfig, ServiceConfig
from ..coverage import thresholds_for
from .candidates import _actor_allowed

MIN_PEOPLE = 0.5
"""No option or agreement newly covering less demand than this (people) is ever proposed, whatever
the services' ``min_demand``."""


@dataclass(frozen=True)
class _DemandUnits:
    """Demand units (gap cell × service), one entry per unit in every per-unit array."""

    cell: np.ndarray  # local cell index: the row of the cell × site cost matrices
    cell_xy: np.ndarray  # (n_cells, 2) representative point of each local cell
    service: np.ndarray
    coverage: np.ndarray  # coverage before the proposals, in [0, 1)
    area_class: np.ndarray
    demand: np.ndarray
    age_65_plus: np.ndarray
    population: np.ndarray
    municipality: np.ndarray
    ages_known: np.ndarray  # whether the cell has age groups (False: missing or suppressed)
    threshold_m: np.ndarray  # the unit's distance threshold for its area class (inf: none)
    threshold_s: np.ndarray  # the unit's time threshold (inf: none)

    @property
    def n_cells(self) -> int:
        """Number of distinct gap cells."""
        return len(self.cell_xy)


@dataclass(frozen=True)
class _Reach:
    """Road costs from the gap cells to the candidate sites (cells × sites, within the thresholds)."""

    length: sparse.csc_array | None  # metres; None when no service has a distance threshold
    time: sparse.csc_array | None  # seconds; None when no service has a time threshold
    site_ok: np.ndarray  # the sites that snapped to the network
    site_municipality: np.ndarray


@dataclass(frozen=True)
class _Actors:
    """The actors as the option search needs them."""

    rows: list[Any]  # the actors layer's rows (named tuples)
    rank_capacity: np.ndarray  # capacity to rank actors of one sector (nan → 0, inf → 1e18)
    cost_per_km: np.ndarray
    max_travel_km: np.ndarray  # with the config's default where the layer has none
    base_dist: np.ndarray | None  # (actors, sites) road metres from each base; None without bases


@dataclass(frozen=True)
class CandidateOptions:
    """The candidate options, one entry per option in every tuple, and their coverage matrix."""

    actor: tuple[int, ...]  # row of the actors layer
    service: tuple[str, ...]
    mode: tuple[str, ...]  # "fixed", "mobile" or "remote"
    site: tuple[int, ...]  # candidate site index
    days: tuple[float, ...]  # days per week for mobile options, nan otherwise
    cost: tuple[float, ...]  # the agreement's cost (its minimum demand × service weight) plus travel
    frac: tuple[float, ...]  # the mode's coverage weight
    base_km: tuple[float, ...]  # road km from the actor's base, nan when unknown or not relevant
    coverage: sparse.csr_matrix  # demand units × options, sorted indices

    @property
    def n_options(self) -> int:
        """Number of options."""
        return len(self.actor)


class _OptionsBuilder:
    """Collects options and their coverage columns while the search runs."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.fields: dict[str, list[Any]] = {
            k: [] for k in ("actor", "service", "mode", "site", "days", "cost", "frac", "base_km")
        }

    def add(self, units: np.ndarray, values: np.ndarray, **option: Any) -> None:
        self.rows.append(units)
        self.values.append(values)
        for key, value in option.items():
            self.fields[key].append(value)

    def build(self, n_units: int) -> CandidateOptions | None:
        m = len(self.fields["actor"])
        if m == 0:
            return None
        rows = np.concatenate(self.rows)
        cols = np.repeat(np.arange(m), [len(r) for r in self.rows])
        vals = np.concatenate(self.values)
        cover = sparse.csr_matrix((vals, (rows, cols)), shape=(n_units, m))
        cover.sort_indices()
        return CandidateOptions(**{k: tuple(v) for k, v in self.fields.items()}, coverage=cover)


def _bd(base_dist: np.ndarray | None, a: int, s: int) -> float:
    if base_dist is None:
        return float("inf")
    v = float(base_dist[a, s])
    return v if np.isfinite(v) else 1e18


def _mode_fractions(svc: ServiceConfig, mobile_days: list[int]) -> list[tuple[str, float, float]]:
    """(mode, coverage weight, days per week) of each mode the service can be offered in; a service
    delivered at home is never a fixed point."""
    mode_fracs = [] if svc.delivery == "home" else [("fixed", 1.0, 0.0)]
    if svc.mobile is not None:
        for d in mobile_days:
            mode_fracs.append(("mobile", svc.mode_weight("mobile", d), float(d)))
    if svc.remote:
        mode_fracs.append(("remote", float(svc.remote), 0.0))
    return mode_fracs


def _units_reached(
    reach: _Reach,
    s: int,
    u_idx: np.ndarray,
    by_cell: dict[int, list[int]],
    thresholds: tuple[np.ndarray, np.ndarray],
    n_cells: int,
) -> list[int]:
    """The demand units of one service (``u_idx``) that site ``s`` reaches within their thresholds."""
    thr_m, thr_s = thresholds
    if reach.length is not None:
        col = reach.length[:, [s]].tocoo()
        cells_l, d_l = col.row, col.data
    else:
        cells_l, d_l = np.arange(n_cells), np.zeros(n_cells)
    t_map = None
    if reach.time is not None:
        tcol = reach.time[:, [s]].tocoo()
        t_map = dict(zip(tcol.row.tolist(), tcol.data.tolist(), strict=True))
    units: list[int] = []
    for c, dist_m in zip(cells_l.tolist(), d_l.tolist(), strict=True):
        for k in by_cell.get(c, ()):
            pos = int(np.searchsorted(u_idx, k))
            if dist_m > thr_m[pos]:
                continue
            if np.isfinite(thr_s[pos]) and (t_map is None or t_map.get(c, np.inf) > thr_s[pos]):
                continue
            units.append(k)
    return units


def _best_actor_per_sector(
    actors: _Actors, service: str, sectors: list[str], muni: str, mode: str, s: int
) -> dict[str, int]:
    """The actor of each sector that may offer the service here, by sector.

    Actors of one sector give the same coverage here: keep the one with the most capacity (then the
    nearest base), so options stay few and sectors stay diverse.
    """
    base_dist = actors.base_dist
    cap = actors.rank_capacity
    best: dict[str, int] = {}
    for a, actor in enumerate(actors.rows):
        if not _actor_allowed(actor, service, actor.sector in sectors, muni, mode):
            continue
        if mode == "mobile" and (
            base_dist is None
            or not np.isfinite(base_dist[a, s])
            or base_dist[a, s] / 1000.0 > actors.max_travel_km[a]
        ):
            continue
        prev = best.get(actor.sector)
        if prev is None or (cap[a], -_bd(base_dist, a, s)) > (cap[prev], -_bd(base_dist, prev, s)):
            best[actor.sector] = a
    return best


def _base_km(actors: _Actors, a: int, s: int, mode: str) -> float | None:
    """Road km from actor ``a``'s base to site ``s``; None when a mobile visit cannot be made."""
    base_dist = actors.base_dist
    if mode == "mobile":
        if base_dist is None or not np.isfinite(base_dist[a, s]):
            return None
        km = base_dist[a, s] / 1000.0
        return None if km > actors.max_travel_km[a] else km
    if mode == "fixed" and base_dist is not None and np.isfinite(base_dist[a, s]):
        return base_dist[a, s] / 1000.0
    return 0.0


def _add_site_options(
    builder: _OptionsBuilder,
    pc: ProposalConfig,
    actors: _Actors,
    svc: ServiceConfig,
    *,
    service: str,
    site: int,
    muni: str,
    mode_frac: tuple[str, float, float],
    units: np.ndarray,
    unit_c0: np.ndarray,
    unit_demand: np.ndarray,
) -> None:
    """Add the options of one service, site and mode: one per sector with an allowed actor, when
    the demand they would newly cover reaches the service's minimum for the mode."""
    mode, frac, days = mode_frac
    gain = np.maximum(0.0, frac - unit_c0[units]) / np.maximum(1e-12, 1 - unit_c0[units])
    keep = gain > 1e-9
    if not keep.any():
        return
    minimum = svc.min_demand_for(mode)
    newly = float((unit_demand[units] * (1 - unit_c0[units]) * np.minimum(1.0, gain)).sum())
    if newly < max(minimum, MIN_PEOPLE):
        return
    for a in _best_actor_per_sector(actors, service, svc.sectors, muni, mode, site).values():
        km = _base_km(actors, a, site, mode)
        if km is None:
            continue
        cpk = actors.cost_per_km[a] if np.isfinite(actors.cost_per_km[a]) else 1.0
        travel = 2 * km * days * cpk * pc.travel_cost_per_km if mode == "mobile" else 0.0
        builder.add(
            units[keep],
            np.minimum(1.0, gain[keep]),
            actor=a,
            service=service,
            mode=mode,
            site=int(site),
            days=days if mode == "mobile" else np.nan,
            cost=svc.weight * minimum + travel,
            frac=frac,
            base_km=km if (mode == "mobile" or km > 0) else np.nan,
        )


def _add_service_options(
    builder: _OptionsBuilder,
    config: Config,
    service: str,
    units: _DemandUnits,
    reach: _Reach,
    actors: _Actors,
) -> None:
    """Add every option of one service: each snapped site, each mode, each allowed sector."""
    svc = config.services[service]
    umask = units.service == service
    if not umask.any():
        return
    u_idx = np.flatnonzero(umask)
    u_loc = units.cell[u_idx]
    thresholds = thresholds_for(svc, units.area_class[u_idx])
    # Per local cell: the unit indices of this service.
    by_cell: dict[int, list[int]] = {}
    for k, c in zip(u_idx.tolist(), u_loc.tolist(), strict=True):
        by_cell.setdefault(int(c), []).append(int(k))
    mode_fracs = _mode_fractions(svc, config.proposals.mobile_days)
    for s in (int(v) for v in np.flatnonzero(reach.site_ok)):
        reached = _units_reached(reach, s, u_idx, by_cell, thresholds, units.n_cells)
        if not reached:
            continue
        units_a = np.array(reached)
        for mode_frac in mode_fracs:
            _add_site_options(
                builder,
                config.proposals,
                actors,
                svc,
                service=service,
                site=s,
                muni=reach.site_municipality[s],
                mode_frac=mode_frac,
                units=units_a,
                unit_c0=units.coverage,
                unit_demand=units.demand,
            )


def _build_options(
    config: Config, services: list[str], units: _DemandUnits, reach: _Reach, actors: _Actors
) -> CandidateOptions | None:
    """Every candidate option of the given services; None when there is none."""
    builder = _OptionsBuilder()
    for service in services:
        _add_service_options(builder, config, service, units, reach, actors)
    return builder.build(len(units.service))

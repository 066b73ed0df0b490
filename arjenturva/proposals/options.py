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


@dataclass(frozen=True)
class _Reached:
    """The (site, demand unit) pairs of one service within the units' thresholds, sorted by site,
    then cell, then unit; ``start`` is the first pair of each site's group."""

    site: np.ndarray
    unit: np.ndarray
    start: np.ndarray

    @property
    def group_site(self) -> np.ndarray:
        """The site of each group."""
        return self.site[self.start]


@dataclass(frozen=True)
class _ModeOptions:
    """The options of one service and mode: one per (site, sector), and each one's covered units
    (``kept`` ranges into ``unit``/``value``, shared by the options of one site)."""

    site: np.ndarray
    actor: np.ndarray
    rank: np.ndarray  # order of the option within its site and mode (sector order)
    cost: np.ndarray
    base_km: np.ndarray
    kept_start: np.ndarray  # first covered unit of each option in ``unit``
    kept_count: np.ndarray
    unit: np.ndarray  # covered units, by site group
    value: np.ndarray  # the share of each covered unit's remaining need


def _expand(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Indices ``starts[i] .. starts[i] + counts[i] - 1`` of every range, concatenated."""
    offsets = np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts)
    return offsets + np.arange(int(counts.sum()))


def _lookup(matrix: sparse.csc_array | None, cell: np.ndarray, site: np.ndarray, n_cells: int) -> np.ndarray:
    """The stored value of each (cell, site) pair of a cells × sites matrix; inf where none."""
    out = np.full(cell.size, np.inf)
    if matrix is None or cell.size == 0:
        return out
    coo = matrix.tocoo()
    key = coo.col.astype(np.int64) * n_cells + coo.row
    order = np.argsort(key, kind="stable")
    key, data = key[order], coo.data[order]
    want = site.astype(np.int64) * n_cells + cell
    if key.size == 0:
        return out
    at = np.minimum(np.searchsorted(key, want), key.size - 1)
    found = key[at] == want
    out[found] = data[at[found]]
    return out


def _units_reached(
    reach: _Reach,
    u_idx: np.ndarray,
    u_cell: np.ndarray,
    thresholds: tuple[np.ndarray, np.ndarray],
    n_cells: int,
) -> _Reached:
    """The demand units of one service (``u_idx``, in cells ``u_cell``) that each snapped site
    reaches within their distance and time thresholds, for every site at once."""
    thr_m, thr_s = thresholds
    sites_ok = np.flatnonzero(reach.site_ok)
    if reach.length is not None:
        coo = reach.length.tocoo()
        on = reach.site_ok[coo.col]
        cell, site, dist = coo.row[on].astype(np.int64), coo.col[on].astype(np.int64), coo.data[on]
    else:
        cell = np.tile(np.arange(n_cells), sites_ok.size)
        site = np.repeat(sites_ok, n_cells)
        dist = np.zeros(cell.size)
    # Each (cell, site) pair stands for every unit of this service in the cell.
    by_cell = np.argsort(u_cell, kind="stable")  # positions in u_idx, by cell then unit
    lo = np.searchsorted(u_cell[by_cell], np.arange(n_cells), side="left")
    count = np.searchsorted(u_cell[by_cell], np.arange(n_cells), side="right") - lo
    pair = np.repeat(np.arange(cell.size), count[cell])
    pos = by_cell[_expand(lo[cell], count[cell])]
    cell, site, dist = cell[pair], site[pair], dist[pair]
    ok = ~(dist > thr_m[pos])
    timed = np.flatnonzero(ok & np.isfinite(thr_s[pos]))
    t = _lookup(reach.time, cell[timed], site[timed], n_cells)
    ok[timed] = ~(t > thr_s[pos[timed]])
    site, cell, unit = site[ok], cell[ok], u_idx[pos[ok]]
    order = np.lexsort((unit, cell, site))
    site, unit = site[order], unit[order]
    start = np.flatnonzero(np.r_[True, site[1:] != site[:-1]]) if site.size else np.zeros(0, dtype=np.int64)
    return _Reached(site, unit, start)


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


def _allowed_actors(
    actors: _Actors, service: str, sectors: list[str], mode: str, muni_ok: np.ndarray
) -> np.ndarray:
    """Actors × sites: may the actor offer ``service`` in ``mode`` at the site (sector, service, mode,
    municipality; for mobile visits a base within the actor's travel range)."""
    static = np.array(
        [r.sector in sectors and service in r.services and mode in r.modes for r in actors.rows], dtype=bool
    )
    allowed = static[:, None] & muni_ok
    if mode == "mobile":
        if actors.base_dist is None:
            return np.zeros_like(allowed)
        with np.errstate(invalid="ignore"):
            within = np.isfinite(actors.base_dist) & ~(
                actors.base_dist / 1000.0 > actors.max_travel_km[:, None]
            )
        allowed &= within
    return allowed


def _best_actors(
    actors: _Actors, allowed: np.ndarray, sector_code: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The best allowed actor of each (site, sector): (site, actor, rank of the sector at the site).

    Actors of one sector give the same coverage at a site: the one with the most capacity wins,
    then the nearest base, then the first listed, so options stay few and sectors stay diverse.
    Sectors are ranked at each site by their first allowed actor in the layer's order.
    """
    actor, site = np.nonzero(allowed)
    if actor.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    if actors.base_dist is None:
        near = np.full(actor.size, np.inf)
    else:
        near = actors.base_dist[actor, site]
        near = np.where(np.isfinite(near), near, 1e18)
    sec = sector_code[actor]
    order = np.lexsort((actor, near, -actors.rank_capacity[actor], sec, site))
    actor, site, sec = actor[order], site[order], sec[order]
    head = np.flatnonzero(np.r_[True, (site[1:] != site[:-1]) | (sec[1:] != sec[:-1])])
    first = np.minimum.reduceat(actor, head)  # the sector's first allowed actor at the site
    best_site, best_actor = site[head], actor[head]
    by_site = np.lexsort((first, best_site))
    best_site, best_actor, first = best_site[by_site], best_actor[by_site], first[by_site]
    new_site = np.r_[True, best_site[1:] != best_site[:-1]]
    group_start = np.maximum.accumulate(np.where(new_site, np.arange(best_site.size), 0))
    return best_site, best_actor, np.arange(best_site.size) - group_start


def _mode_options(
    pc: ProposalConfig,
    actors: _Actors,
    svc: ServiceConfig,
    reached: _Reached,
    units: _DemandUnits,
    mode_frac: tuple[str, float, float],
    allowed: np.ndarray,
    sector_code: np.ndarray,
) -> _ModeOptions:
    """The options of one service and mode at every site whose newly covered demand reaches the
    service's minimum for the mode: one per sector with an allowed actor."""
    mode, frac, days = mode_frac
    c0 = units.coverage[reached.unit]
    gain = np.maximum(0.0, frac - c0) / np.maximum(1e-12, 1 - c0)
    keep = gain > 1e-9
    newly = np.add.reduceat(units.demand[reached.unit] * (1 - c0) * np.minimum(1.0, gain), reached.start)
    has = np.logical_or.reduceat(keep, reached.start)
    minimum = svc.min_demand_for(mode)
    ok = has & ~(newly < max(minimum, MIN_PEOPLE))
    group_site = reached.group_site
    kept_site = np.zeros(allowed.shape[1], dtype=bool)
    kept_site[group_site[ok]] = True
    site, actor, rank = _best_actors(actors, allowed & kept_site[None, :], sector_code)
    # The covered units of each site: its group's pairs with a gain.
    group = np.searchsorted(group_site, site)
    kept_before = np.r_[0, np.cumsum(keep)]
    end = np.r_[reached.start[1:], reached.unit.size]
    kept_start = kept_before[reached.start[group]]
    kept_count = kept_before[end[group]] - kept_start
    dist = np.full(site.size, np.inf) if actors.base_dist is None else actors.base_dist[actor, site]
    km = np.where(np.isfinite(dist), dist / 1000.0, 0.0) if mode != "remote" else np.zeros(site.size)
    cpk = actors.cost_per_km[actor]
    cpk = np.where(np.isfinite(cpk), cpk, 1.0)
    travel = 2 * km * days * cpk * pc.travel_cost_per_km if mode == "mobile" else np.zeros(site.size)
    return _ModeOptions(
        site=site,
        actor=actor,
        rank=rank,
        cost=svc.weight * minimum + travel,
        base_km=np.where((km > 0) | (mode == "mobile"), km, np.nan),
        kept_start=kept_start,
        kept_count=kept_count,
        unit=reached.unit[keep],
        value=np.minimum(1.0, gain[keep]),
    )


@dataclass(frozen=True)
class _ServiceOptions:
    """The options of one service in their final order, and their coverage triplets."""

    actor: np.ndarray
    mode: list[str]
    site: np.ndarray
    days: np.ndarray
    cost: np.ndarray
    frac: np.ndarray
    base_km: np.ndarray
    rows: np.ndarray
    cols: np.ndarray  # option of each coverage entry, counted from 0 within the service
    values: np.ndarray


def _service_options(
    config: Config, service: str, units: _DemandUnits, reach: _Reach, actors: _Actors, muni_ok: np.ndarray
) -> _ServiceOptions | None:
    """Every option of one service: each snapped site, each mode, each allowed sector, in that order."""
    svc = config.services[service]
    u_idx = np.flatnonzero(units.service == service)
    if u_idx.size == 0:
        return None
    reached = _units_reached(
        reach, u_idx, units.cell[u_idx], thresholds_for(svc, units.area_class[u_idx]), units.n_cells
    )
    if reached.site.size == 0:
        return None
    sector_list = sorted({str(r.sector) for r in actors.rows})
    sector_code = np.searchsorted(sector_list, [str(r.sector) for r in actors.rows])
    parts = []
    for mode_frac in _mode_fractions(svc, config.proposals.mobile_days):
        allowed = _allowed_actors(actors, service, svc.sectors, mode_frac[0], muni_ok)
        parts.append(
            _mode_options(config.proposals, actors, svc, reached, units, mode_frac, allowed, sector_code)
        )
    mode_of = np.concatenate([np.full(part.site.size, i) for i, part in enumerate(parts)])
    site = np.concatenate([part.site for part in parts])
    if site.size == 0:
        return None
    order = np.lexsort((np.concatenate([part.rank for part in parts]), mode_of, site))
    # Covered units: ranges into the modes' unit arrays, laid end to end.
    unit_offset = np.cumsum([0] + [part.unit.size for part in parts])[:-1]
    starts = np.concatenate([part.kept_start + off for part, off in zip(parts, unit_offset, strict=True)])[
        order
    ]
    counts = np.concatenate([part.kept_count for part in parts])[order]
    take = _expand(starts, counts)
    modes = _mode_fractions(svc, config.proposals.mobile_days)
    mode_of = mode_of[order]
    is_mobile = np.array([m == "mobile" for m, _, _ in modes])[mode_of]
    return _ServiceOptions(
        actor=np.concatenate([part.actor for part in parts])[order],
        mode=[modes[i][0] for i in mode_of.tolist()],
        site=site[order],
        days=np.where(is_mobile, np.array([d for _, _, d in modes])[mode_of], np.nan),
        cost=np.concatenate([part.cost for part in parts])[order],
        frac=np.array([f for _, f, _ in modes])[mode_of],
        base_km=np.concatenate([part.base_km for part in parts])[order],
        rows=np.concatenate([part.unit for part in parts])[take],
        cols=np.repeat(np.arange(order.size), counts),
        values=np.concatenate([part.value for part in parts])[take],
    )


def _municipality_ok(actors: _Actors, site_municipality: np.ndarray) -> np.ndarray:
    """Actors × sites: does the actor work in the site's municipality (or everywhere)."""
    munis, inverse = np.unique(np.asarray(site_municipality, dtype=str), return_inverse=True)
    per_muni = np.array(
        [["*" in r.municipalities or mu in r.municipalities for mu in munis.tolist()] for r in actors.rows],
        dtype=bool,
    ).reshape(len(actors.rows), munis.size)
    return per_muni[:, inverse.ravel()]


def _build_options(
    config: Config, services: list[str], units: _DemandUnits, reach: _Reach, actors: _Actors
) -> CandidateOptions | None:
    """Every candidate option of the given services (in that order); None when there is none."""
    muni_ok = _municipality_ok(actors, reach.site_municipality)
    found = [
        (sid, o) for sid in services if (o := _service_options(config, sid, units, reach, actors, muni_ok))
    ]
    if not found:
        return None
    sizes = [o.site.size for _, o in found]
    col_offset = np.cumsum([0, *sizes])[:-1]
    rows = np.concatenate([o.rows for _, o in found])
    cols = np.concatenate([o.cols + off for (_, o), off in zip(found, col_offset, strict=True)])
    cover = sparse.csr_matrix(
        (np.concatenate([o.values for _, o in found]), (rows, cols)), shape=(len(units.service), sum(sizes))
    )
    cover.sort_indices()

    def joined(field: str) -> tuple[Any, ...]:
        return tuple(np.concatenate([getattr(o, field) for _, o in found]).tolist())

    return CandidateOptions(
        actor=joined("actor"),
        service=tuple(sid for sid, o in found for _ in range(o.site.size)),
        mode=tuple(m for _, o in found for m in o.mode),
        site=joined("site"),
        days=joined("days"),
        cost=joined("cost"),
        frac=joined("frac"),
        base_km=joined("base_km"),
        coverage=cover,
    )

"""Cross-sector partnership proposals (design.md §6): the adapter between geodata and the MIP.

Gap cells become demand units; candidate (actor, service, mode, site, days) options are built
from gap-area sites, existing service points (co-location) and actor bases; their coverage is
computed on the road network with the same rules as the gap analysis (thresholds per area class,
mode weights), by batched multi-source sweeps. :mod:`arjenturva.optimize` chooses the options;
this module turns them back into agreements a coordinator can read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from .config import Config
from .coverage import GapResult, thresholds_for
from .errors import ProposalError
from .network import Network, cost_matrix, snap_points
from .optimize import FIXED, MOBILE, REMOTE, ProposalProblem, ProposalSolution, solve
from .schema import CRS, SECTOR_LABELS, SECTORS

Progress = Callable[[str], None]

MODE_CODES = {"fixed": FIXED, "mobile": MOBILE, "remote": REMOTE}
MODE_NAMES = {v: k for k, v in MODE_CODES.items()}
MODE_LABELS = {
    "fixed": {"fi": "kiinteä palvelupiste", "en": "fixed service point"},
    "mobile": {"fi": "liikkuva palvelu", "en": "mobile service"},
    "remote": {"fi": "etäpalvelu tukipisteellä", "en": "remote service with a support point"},
}


@dataclass
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
        return self.solution.status if self.solution is not None else "nothing_to_propose"


@dataclass
class _Sites:
    x: np.ndarray
    y: np.ndarray
    name: np.ndarray
    kind: np.ndarray  # gap_area / colocation / actor_base
    municipality: np.ndarray
    gap_area: np.ndarray


def _place_name(places: gpd.GeoDataFrame | None, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if places is None or places.empty or len(x) == 0:
        return np.full(len(x), "", dtype=object)
    tree = cKDTree(np.column_stack([places.geometry.x, places.geometry.y]))
    _, k = tree.query(np.column_stack([x, y]))
    return places["name"].to_numpy()[k]


def _candidate_sites(
    gaps: GapResult,
    service_points: gpd.GeoDataFrame,
    actors: gpd.GeoDataFrame | None,
    places: gpd.GeoDataFrame | None,
    *,
    max_per_service: int,
) -> _Sites:
    ga = gaps.gap_areas
    rows: list[tuple[float, float, str, str, str, str]] = []
    if not ga.empty:
        top = (
            ga.sort_values("uncovered_population", ascending=False)
            .groupby(["service", "municipality"], sort=False)
            .head(max_per_service)
        )
        for r in top.itertuples(index=False):
            label = r.place or r.gap_area_id
            rows.append((r.site_x, r.site_y, str(label), "gap_area", str(r.municipality), str(r.gap_area_id)))
    gap_munis = set(ga["municipality"]) if not ga.empty else set()
    for r in service_points.itertuples(index=False):
        if r.mode == "fixed" and r.municipality in gap_munis:
            rows.append((r.geometry.x, r.geometry.y, str(r.name), "colocation", str(r.municipality), ""))
    if actors is None:
        actors = gpd.GeoDataFrame(
            {"modes": [], "base_municipality": [], "name": []}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS
        )
    has_base = ~(actors.geometry.isna() | actors.geometry.is_empty)
    for r in actors[has_base].itertuples(index=False):
        if r.base_municipality in gap_munis and "fixed" in r.modes:
            rows.append((r.geometry.x, r.geometry.y, str(r.name), "actor_base", str(r.base_municipality), ""))
    if not rows:
        return _Sites(*(np.zeros(0) for _ in range(2)), *(np.zeros(0, dtype=object) for _ in range(4)))
    df = pd.DataFrame(rows, columns=["x", "y", "name", "kind", "municipality", "gap_area"])
    # One site per location (co-located points and bases at the same place are one site).
    df["kx"], df["ky"] = (df["x"] / 50).round(), (df["y"] / 50).round()
    df = df.drop_duplicates(["kx", "ky"]).reset_index(drop=True)
    names = df["name"].to_numpy(dtype=object)
    near = _place_name(places, df["x"].to_numpy(), df["y"].to_numpy())
    is_gap = (df["kind"] == "gap_area").to_numpy()
    names[is_gap] = np.where(near[is_gap] != "", near[is_gap], names[is_gap])
    return _Sites(
        df["x"].to_numpy(float),
        df["y"].to_numpy(float),
        names,
        df["kind"].to_numpy(object),
        df["municipality"].to_numpy(object),
        df["gap_area"].to_numpy(object),
    )


def _bd(base_dist: np.ndarray | None, a: int, s: int) -> float:
    if base_dist is None:
        return float("inf")
    v = float(base_dist[a, s])
    return v if np.isfinite(v) else 1e18


def _actor_allowed(actor: Any, service: str, sector_ok: bool, muni: str, mode: str) -> bool:
    if not sector_ok or service not in actor.services or mode not in actor.modes:
        return False
    return "*" in actor.municipalities or muni in actor.municipalities


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
) -> tuple[ProposalProblem | None, dict[str, Any]]:
    """Turn gap cells, actors and candidate sites into a :class:`ProposalProblem`.

    Returns
    -------
    (ProposalProblem or None, dict)
        The instance (None when there is nothing to propose) and the lookup tables needed to
        read the solution back (units, options, sites, a ``reason`` when None).
    """
    say = progress or (lambda _m: None)
    pc = config.proposals
    svc_ids = [s for s in (services or list(config.services)) if s in config.services]
    acc = gaps.access
    acc = acc[acc["service"].isin(svc_ids) & (acc["coverage"] < 1.0) & (acc["population"] > 0)]
    if acc.empty:
        return None, {"reason": "no_gaps"}
    # Cells off the road network cannot be reached from any new site: they stay reported as
    # unreachable. Cells on it count even when no point offers the service yet (distance inf).
    acc = acc[acc["snapped"].to_numpy(dtype=bool)]
    if acc.empty:
        return None, {"reason": "unreachable"}
    if actors is None or actors.empty:
        return None, {"reason": "no_actors"}
    say("candidate sites")
    sites = _candidate_sites(gaps, service_points, actors, places, max_per_service=pc.max_sites_per_service)
    if len(sites.x) == 0:
        return None, {"reason": "no_sites"}

    # Demand units: gap cells × service.
    pop = gaps.population.reset_index(drop=True)
    cell_pos = pd.Series(np.arange(len(pop)), index=pop["cell_id"].to_numpy())
    unit_cell = cell_pos.loc[acc["cell_id"]].to_numpy()
    reps = pop.geometry.iloc[np.unique(unit_cell)]
    reps = reps.where(reps.geom_type == "Point", reps.representative_point())
    uniq_cells = np.unique(unit_cell)
    cell_xy = np.column_stack([reps.x.to_numpy(), reps.y.to_numpy()])
    origin_snap = snap_points(net, cell_xy, tolerance_m=config.network.snap_tolerance_m)
    site_snap = snap_points(
        net, np.column_stack([sites.x, sites.y]), tolerance_m=config.network.snap_tolerance_m
    )
    local = pd.Series(np.arange(len(uniq_cells)), index=uniq_cells)
    unit_local = local.loc[unit_cell].to_numpy()
    unit_service = acc["service"].to_numpy()
    unit_c0 = acc["coverage"].to_numpy(float)
    unit_class = acc["area_class"].to_numpy(object)
    unit_demand = acc["demand"].to_numpy(float)
    unit_65 = acc["age_65_plus"].to_numpy(float)
    unit_pop = acc["population"].to_numpy(float)
    unit_muni = acc["municipality"].to_numpy(object)

    # Site catchments on the network: cells × sites within the largest thresholds.
    say("costs from gap cells to candidate sites")
    km_limits = [max(t.values()) for sid_ in svc_ids if (t := config.services[sid_].threshold_km)]
    min_limits = [max(t.values()) for sid_ in svc_ids if (t := config.services[sid_].threshold_min)]
    lim_m = 1000.0 * max(km_limits, default=0.0)
    lim_s = 60.0 * max(min_limits, default=0.0)
    cm_len = (
        cost_matrix(
            net,
            origin_snap,
            site_snap,
            weight="length",
            limit=lim_m,
            access_speed_kmh=config.network.access_speed_kmh,
        )
        if lim_m > 0
        else None
    )
    cm_time = (
        cost_matrix(
            net,
            origin_snap,
            site_snap,
            weight="time",
            limit=lim_s,
            access_speed_kmh=config.network.access_speed_kmh,
        )
        if lim_s > 0
        else None
    )

    # Actor bases to sites (for mobile visits).
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
        base_dist = np.full((len(actors), len(sites.x)), np.inf)
        base_dist[bd.row, bd.col] = bd.data
        base_dist[~has_base, :] = np.inf

    # Options.
    say("candidate options")
    site_ok = site_snap.ok
    cols_r: list[np.ndarray] = []
    cols_v: list[np.ndarray] = []
    opt: dict[str, list[Any]] = {
        k: [] for k in ("actor", "service", "mode", "site", "days", "cost", "frac", "base_km")
    }
    len_coo = sparse.csc_array(cm_len) if cm_len is not None else None
    time_coo = sparse.csc_array(cm_time) if cm_time is not None else None
    actor_rows = list(actors.itertuples(index=False))
    actor_cap_all = np.nan_to_num(actors["capacity"].to_numpy(float), nan=0.0, posinf=1e18)
    cost_per_km = actors["cost_per_km"].to_numpy(float)
    sector_index = {s: i for i, s in enumerate(SECTORS)}
    for sid in svc_ids:
        svc = config.services[sid]
        umask = unit_service == sid
        if not umask.any():
            continue
        u_idx = np.flatnonzero(umask)
        u_loc = unit_local[u_idx]
        thr_m, thr_s = thresholds_for(svc, unit_class[u_idx])
        # Per unit: the local cell row → unit indices of this service.
        by_cell: dict[int, list[int]] = {}
        for k, c in zip(u_idx.tolist(), u_loc.tolist(), strict=True):
            by_cell.setdefault(int(c), []).append(int(k))
        mode_fracs = [("fixed", 1.0, 0.0)]
        if svc.mobile is not None:
            for d in pc.mobile_days:
                mode_fracs.append(("mobile", svc.mode_weight("mobile", d), float(d)))
        if svc.remote:
            mode_fracs.append(("remote", float(svc.remote), 0.0))
        for s in (int(v) for v in np.flatnonzero(site_ok)):
            # Cells reachable from site s within their thresholds.
            if len_coo is not None:
                col = len_coo[:, [s]].tocoo()
                cells_l, d_l = col.row, col.data
            else:
                cells_l, d_l = np.arange(len(uniq_cells)), np.zeros(len(uniq_cells))
            if time_coo is not None:
                tcol = time_coo[:, [s]].tocoo()
                t_map = dict(zip(tcol.row.tolist(), tcol.data.tolist(), strict=True))
            else:
                t_map = None
            units: list[int] = []
            for c, dist_m in zip(cells_l.tolist(), d_l.tolist(), strict=True):
                for k in by_cell.get(c, ()):
                    pos = int(np.searchsorted(u_idx, k))
                    if dist_m > thr_m[pos]:
                        continue
                    if np.isfinite(thr_s[pos]) and (t_map is None or t_map.get(c, np.inf) > thr_s[pos]):
                        continue
                    units.append(k)
            if not units:
                continue
            units_a = np.array(units)
            muni = sites.municipality[s]
            for mode, frac, days in mode_fracs:
                gain = np.maximum(0.0, frac - unit_c0[units_a]) / np.maximum(1e-12, 1 - unit_c0[units_a])
                keep = gain > 1e-9
                if not keep.any():
                    continue
                best_in_sector: dict[str, int] = {}
                for a, actor in enumerate(actor_rows):
                    sector_ok = actor.sector in svc.sectors
                    if not _actor_allowed(actor, sid, sector_ok, muni, mode):
                        continue
                    if mode == "mobile" and (
                        base_dist is None
                        or not np.isfinite(base_dist[a, s])
                        or base_dist[a, s] / 1000.0 > max_travel[a]
                    ):
                        continue
                    # Actors of one sector give the same coverage here: keep the one with the most
                    # capacity (then the nearest base), so options stay few and sectors stay diverse.
                    prev = best_in_sector.get(actor.sector)
                    if prev is None or (actor_cap_all[a], -_bd(base_dist, a, s)) > (
                        actor_cap_all[prev],
                        -_bd(base_dist, prev, s),
                    ):
                        best_in_sector[actor.sector] = a
                for a in best_in_sector.values():
                    km = 0.0
                    if mode == "mobile":
                        if base_dist is None or not np.isfinite(base_dist[a, s]):
                            continue
                        km = base_dist[a, s] / 1000.0
                        if km > max_travel[a]:
                            continue
                    elif mode == "fixed" and base_dist is not None and np.isfinite(base_dist[a, s]):
                        km = base_dist[a, s] / 1000.0
                    cpk = cost_per_km[a] if np.isfinite(cost_per_km[a]) else 1.0
                    travel = 2 * km * days * cpk * pc.travel_cost_per_km if mode == "mobile" else 0.0
                    cols_r.append(units_a[keep])
                    cols_v.append(np.minimum(1.0, gain[keep]))
                    opt["actor"].append(a)
                    opt["service"].append(sid)
                    opt["mode"].append(mode)
                    opt["site"].append(int(s))
                    opt["days"].append(days if mode == "mobile" else np.nan)
                    opt["cost"].append(travel)
                    opt["frac"].append(frac)
                    opt["base_km"].append(km if (mode == "mobile" or km > 0) else np.nan)
    m = len(opt["actor"])
    if m == 0:
        return None, {"reason": "no_options"}
    rows = np.concatenate(cols_r)
    cols = np.repeat(np.arange(m), [len(r) for r in cols_r])
    vals = np.concatenate(cols_v)
    n = len(acc)
    cover = sparse.csr_matrix((vals, (rows, cols)), shape=(n, m))
    svc_codes = {s: i for i, s in enumerate(svc_ids)}
    muni_list = sorted(set(unit_muni) | set(sites.municipality))
    muni_codes = {mu: i for i, mu in enumerate(muni_list)}
    svc_weight = np.array([config.services[s].weight for s in unit_service])
    weight = svc_weight * (unit_demand + (pc.weight_65_plus - 1.0) * unit_65) * (1 - unit_c0)
    cpr = np.array([config.services[s].clients_per_resident for s in unit_service])
    actor_cap = actors["capacity"].to_numpy(float)
    sectors = actors["sector"].to_numpy(object)
    opt_actor = np.array(opt["actor"])

    def budget(override: int | None, default: int) -> int:
        return int(override) if override is not None else int(default)

    # Units that the same options cover by the same fractions are one unit for the solver
    # (an exact aggregation: weights and loads add up), which shrinks the model a lot.
    unit_svc_code = np.array([svc_codes[s] for s in unit_service])
    unit_muni_code = np.array([muni_codes[mu] for mu in unit_muni])
    cover.sort_indices()
    keys: dict[tuple[Any, ...], int] = {}
    group = np.empty(n, dtype=np.int64)
    for i in range(n):
        lo, hi = cover.indptr[i], cover.indptr[i + 1]
        key = (
            int(unit_svc_code[i]),
            int(unit_muni_code[i]),
            cover.indices[lo:hi].tobytes(),
            np.round(cover.data[lo:hi], 9).tobytes(),
        )
        group[i] = keys.setdefault(key, len(keys))
    n_groups = len(keys)
    first = np.full(n_groups, -1, dtype=np.int64)
    first[group[::-1]] = np.arange(n)[::-1]
    agg = sparse.csr_matrix((np.ones(n), (group, np.arange(n))), shape=(n_groups, n))
    problem = ProposalProblem(
        coverage=cover[first],
        weight=agg @ weight,
        demand=agg @ (unit_demand * (1 - unit_c0)),
        clients_per_resident=cpr[first],
        service=unit_svc_code[first],
        municipality=unit_muni_code[first],
        opt_actor=opt_actor,
        opt_service=np.array([svc_codes[s] for s in opt["service"]]),
        opt_mode=np.array([MODE_CODES[mo] for mo in opt["mode"]]),
        opt_site=np.array(opt["site"]),
        opt_cost=np.array(opt["cost"], dtype=float),
        opt_sector=np.array([sector_index[sectors[a]] for a in opt_actor]),
        opt_municipality=np.array([muni_codes[sites.municipality[s]] for s in opt["site"]]),
        capacity=np.where(np.isfinite(actor_cap), actor_cap, np.inf),
        capacity_slack=pc.capacity_slack,
        max_new_sites=budget(max_new_sites, pc.max_new_sites),
        max_mobile_routes=budget(max_mobile_routes, pc.max_mobile_routes),
        max_remote_points=budget(max_remote_points, pc.max_remote_points),
        min_sectors=max(1, pc.min_sectors),
        max_actor_share=pc.max_actor_share,
        hub_bonus=pc.hub_bonus * float(np.median(weight[weight > 0])) if (weight > 0).any() else 0.0,
    )
    lookup = {
        "acc": acc.reset_index(drop=True),
        "opt": opt,
        "sites": sites,
        "muni_list": muni_list,
        "svc_ids": svc_ids,
        "unit_pop": unit_pop,
        "unit_65": unit_65,
        "unit_c0": unit_c0,
        "cpr": cpr,
        "unit_demand": unit_demand,
        "group": group,
        "cover_units": cover,
        "unit_weight": weight,
    }
    return problem, lookup


def _distance_phrase(lang: str, dist_km: float, service_label: str) -> str:
    if np.isfinite(dist_km):
        if lang == "fi":
            return f"asuu nyt keskimäärin {dist_km:.0f} km:n päässä palvelusta {service_label.lower()}"
        return f"now live on average {dist_km:.0f} km from a {service_label.lower()}"
    if lang == "fi":
        return f"ei tavoita nyt tieverkolla yhtään palvelua {service_label.lower()}"
    return f"cannot reach any {service_label.lower()} by road now"


def _rationale(
    lang: str,
    *,
    place: str,
    people: float,
    p65: float,
    service_label: str,
    dist_km: float,
    actor: str,
    sector: str,
    mode: str,
    days: float,
    base_km: float,
) -> str:
    sector_l = SECTOR_LABELS.get(sector, {}).get(lang, sector)
    mode_l = MODE_LABELS[mode][lang]
    if lang == "fi":
        text = (
            f"{place}: {people:.0f} asukasta ({p65:.0f} yli 65-vuotiasta) "
            f"{_distance_phrase(lang, dist_km, service_label)}; {actor} ({sector_l}) tarjoaa sen: {mode_l}"
        )
        if mode == "mobile":
            text += f" {days:.0f} päivänä viikossa, {base_km:.0f} km tukikohdasta"
        return text + "."
    text = (
        f"{place}: {people:.0f} residents ({p65:.0f} aged 65+) "
        f"{_distance_phrase(lang, dist_km, service_label)}; {actor} ({sector_l}) provides it as a {mode_l}"
    )
    if mode == "mobile":
        text += f" {days:.0f} day(s) a week, {base_km:.0f} km from its base"
    return text + "."


def propose_partnerships(
    config: Config,
    net: Network,
    gaps: GapResult,
    actors: gpd.GeoDataFrame | None,
    service_points: gpd.GeoDataFrame,
    *,
    places: gpd.GeoDataFrame | None = None,
    services: list[str] | None = None,
    max_new_sites: int | None = None,
    max_mobile_routes: int | None = None,
    max_remote_points: int | None = None,
    progress: Progress | None = None,
) -> ProposalResult:
    """Propose cross-sector agreements that close the coverage gaps.

    Parameters
    ----------
    config
        Workspace config (``proposals`` section: budgets, sector rules, weights, solver limits).
    net
        The road network.
    gaps
        The gap analysis of the same workspace.
    actors, service_points, places
        Validated layers.
    services
        Service ids to propose for (default all).
    max_new_sites, max_mobile_routes, max_remote_points
        Override the config's budgets.

    Returns
    -------
    ProposalResult
        Agreements, new sites and coverage before/after. When there is nothing to propose the
        frames are empty and ``message`` says why.

    Raises
    ------
    ProposalError
        When the settings contradict each other.
    """
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    lang = config.language
    pc = config.proposals
    if pc.min_sectors > len(SECTORS):
        msg = f"proposals.min_sectors = {pc.min_sectors} exceeds the {len(SECTORS)} sectors that exist"
        raise ProposalError(msg)
    empty = _empty_result(gaps, lang)
    if actors is None or actors.empty:
        empty.message = (
            "no actors given (inputs.actors): nothing to propose"
            if lang == "en"
            else "toimijoita ei ole annettu (inputs.actors): ei ehdotettavaa"
        )
        empty.reason = "no_actors"
        return empty
    problem, lookup = build_problem(
        config,
        net,
        gaps,
        actors,
        service_points,
        places=places,
        services=services,
        max_new_sites=max_new_sites,
        max_mobile_routes=max_mobile_routes,
        max_remote_points=max_remote_points,
        progress=progress,
    )
    t_build = time.perf_counter() - t0
    if problem is None:
        reasons = {
            "no_gaps": ("no coverage gaps: nothing to propose", "ei katvealueita: ei ehdotettavaa"),
            "unreachable": (
                "every uncovered cell is off the road network (beyond network.snap_tolerance_m): "
                "nothing a new site could reach; see the unreachable cells in summary.xlsx",
                "kaikki palvelun ulkopuolelle jäävät ruudut ovat tieverkon ulkopuolella "
                "(network.snap_tolerance_m): uusi palvelupiste ei tavoittaisi niitä; ks. summary.xlsx",
            ),
            "no_actors": ("no actors given: nothing to propose", "ei toimijoita: ei ehdotettavaa"),
            "no_sites": ("no candidate sites on the road network", "ei ehdokaspaikkoja tieverkolla"),
            "no_options": (
                "no actor can cover the gaps: none offers the service there with an allowed sector, "
                "mode and operating area (check actors' services, municipalities, modes and "
                "max_travel_km, and the services' sectors)",
                "mikään toimija ei voi kattaa katvealueita: palvelu, sektori, toimintatapa tai "
                "toiminta-alue ei sovi (tarkista toimijoiden palvelut, kunnat, toimintatavat ja "
                "max_travel_km sekä palvelujen sektorit)",
            ),
        }
        en, fi = reasons[lookup["reason"]]
        empty.message = en if lang == "en" else fi
        empty.reason = lookup["reason"]
        empty.timings = {"build_s": t_build}
        return empty
    say(f"solving: {problem.n_units} demand units × {problem.n_options} options")
    t1 = time.perf_counter()
    sol = solve(problem, time_limit_s=pc.time_limit_s, mip_gap=pc.mip_gap, max_mip_options=pc.max_mip_options)
    t_solve = time.perf_counter() - t1
    result = _read_solution(config, problem, sol, lookup, actors, gaps, lang)
    result.timings = {"build_s": t_build, "solve_s": t_solve}
    result.warnings = list(sol.warnings)
    if len(sol.chosen) == 0:
        result.reason = "at_capacity"
        result.message = (
            "every actor that could help is at capacity or outside its area: nothing to propose"
            if lang == "en"
            else "kaikki mahdolliset toimijat ovat täynnä tai toiminta-alueensa ulkopuolella"
        )
    return result


def _empty_result(gaps: GapResult, lang: str) -> ProposalResult:
    cols = [
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
    props = gpd.GeoDataFrame(pd.DataFrame(columns=cols), geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    summary = _before_after(gaps, None, None, lang)
    return ProposalResult(props, _empty_sites(), summary, None)


def _empty_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        pd.DataFrame(columns=["site_name", "municipality", "services", "actors", "sectors", "hub"]),
        geometry=gpd.GeoSeries([], crs=CRS),
        crs=CRS,
    )


def _read_solution(
    config: Config,
    problem: ProposalProblem,
    sol: ProposalSolution,
    lookup: dict[str, Any],
    actors: gpd.GeoDataFrame,
    gaps: GapResult,
    lang: str,
) -> ProposalResult:
    acc: pd.DataFrame = lookup["acc"]
    opt = lookup["opt"]
    sites: _Sites = lookup["sites"]
    names = dict(zip(gaps.municipalities["code"], gaps.municipalities["name"], strict=True))
    cover = lookup["cover_units"].tocsc()
    n_units = cover.shape[0]
    # Back from aggregated solver units to gap cells, and attribute each cell's new coverage to
    # the chosen option giving it the most.
    y = sol.coverage[lookup["group"]]
    unit_weight = lookup["unit_weight"]
    rows = []
    ga_by_cell = {}
    if not gaps.gap_areas.empty:
        gx = gaps.gaps
        gx_cells = gx[["cell_id", "service"]].copy()
        # map (cell, service) → gap area via nearest area polygon containing the cell
        areas = gaps.gap_areas
        joined = gpd.sjoin(
            gpd.GeoDataFrame(gx_cells, geometry=gx.geometry.representative_point(), crs=CRS),
            areas[["gap_area_id", "service", "geometry"]],
            how="left",
            predicate="within",
        )
        joined = joined[joined["service_left"] == joined["service_right"]]
        ga_by_cell = dict(
            zip(
                zip(joined["cell_id"], joined["service_left"], strict=True),
                joined["gap_area_id"],
                strict=True,
            )
        )
    best = np.full(n_units, -1)
    best_val = np.zeros(n_units)
    for j in sol.chosen:
        col = cover[:, [j]].tocoo()
        better = col.data > best_val[col.row]
        best[col.row[better]] = j
        best_val[col.row[better]] = col.data[better]
    unit_pop = lookup["unit_pop"]
    unit_65 = lookup["unit_65"]
    unit_dem = lookup["unit_demand"]
    cpr = lookup["cpr"]
    left = 1.0 - lookup["unit_c0"]  # the part of each cell's demand not covered before
    cap = actors["capacity"].to_numpy(float)
    load_by_actor: dict[int, float] = {}
    for j in sol.chosen:
        units = np.flatnonzero(best == j)
        a = int(opt["actor"][j])
        load_by_actor[a] = load_by_actor.get(a, 0.0) + float(
            (unit_dem[units] * left[units] * cpr[units] * y[units]).sum()
        )
    for k, j in enumerate(sol.chosen):
        a = int(opt["actor"][j])
        actor = actors.iloc[a]
        s = int(opt["site"][j])
        sid = opt["service"][j]
        units = np.flatnonzero(best == j)
        share = y[units]
        people = float((unit_pop[units] * left[units] * share).sum())
        dem = float((unit_dem[units] * left[units] * share).sum())
        p65 = float((unit_65[units] * left[units] * share).sum())
        dist = acc["distance_m"].to_numpy()[units]
        w = unit_pop[units]
        fin = np.isfinite(dist) & (w > 0)
        mean_km = float(np.average(dist[fin], weights=w[fin]) / 1000) if fin.any() else float("inf")
        areas = sorted({ga_by_cell.get((c, sid)) for c in acc["cell_id"].to_numpy()[units]} - {None})
        svc = config.services[sid]
        label = svc.label.model_dump()[lang]
        mode = opt["mode"][j]
        days = opt["days"][j]
        base_km = opt["base_km"][j]
        site_name = str(sites.name[s])
        muni = str(sites.municipality[s])
        score = float((unit_weight[units] * share).sum() - problem.opt_cost[j])
        rows.append(
            {
                "agreement_id": f"P{k + 1:03d}",
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
                "capacity_used": load_by_actor.get(a, 0.0),
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
        )
    props = pd.DataFrame(rows)
    if props.empty:
        empty = _empty_result(gaps, lang)
        empty.solution = sol
        empty.n_units, empty.n_options = problem.n_units, problem.n_options
        return empty
    props = props.sort_values(["municipality", "service", "score"], ascending=[True, True, False])
    props["agreement_id"] = [f"P{i + 1:03d}" for i in range(len(props))]
    geoms = shapely.points(props["site_x"].to_numpy(), props["site_y"].to_numpy())
    props_gdf = gpd.GeoDataFrame(props.reset_index(drop=True), geometry=geoms, crs=CRS)
    fixed = props_gdf[props_gdf["mode"].isin(["fixed", "remote"])]
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
    if site_rows:
        sdf = pd.DataFrame(site_rows)
        new_sites = gpd.GeoDataFrame(
            sdf.drop(columns=["x", "y"]), geometry=shapely.points(sdf["x"], sdf["y"]), crs=CRS
        )
    else:
        new_sites = _empty_sites()
    # Coverage after: per (cell, service) unit.
    after = acc[["cell_id", "service"]].copy()
    after["new_coverage"] = lookup["unit_c0"] + left * y
    summary = _before_after(gaps, after, props_gdf, lang)
    return ProposalResult(
        props_gdf, new_sites, summary, sol, n_units=problem.n_units, n_options=problem.n_options
    )


def _before_after(
    gaps: GapResult, after: pd.DataFrame | None, props: pd.DataFrame | None, lang: str
) -> pd.DataFrame:
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


# ---------------------------------------------------------------------------------------------
# Classic location models on the same cost matrices
# ---------------------------------------------------------------------------------------------


@dataclass
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
    from .optimize import solve_lscp, solve_mclp, solve_pmedian

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
    svc = config.services[service]
    acc = gaps.access[(gaps.access["service"] == service) & (gaps.access["demand"] > 0)].reset_index(
        drop=True
    )
    pop = gaps.population
    pos = pd.Series(np.arange(len(pop)), index=pop["cell_id"].to_numpy()).loc[acc["cell_id"]].to_numpy()
    geom = pop.geometry.iloc[pos]
    reps = geom.where(geom.geom_type == "Point", geom.representative_point())
    origins = snap_points(net, np.column_stack([reps.x, reps.y]), tolerance_m=config.network.snap_tolerance_m)
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
    sx, sy, sname, skind = sx[keep], sy[keep], sname[keep], skind[keep]
    targets = snap_points(net, np.column_stack([sx, sy]), tolerance_m=config.network.snap_tolerance_m)
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
    rows = np.flatnonzero(reach)
    sub = cost[rows]
    w = weights[rows]
    tl = config.proposals.time_limit_s
    if model == "lscp":
        sol = solve_lscp(sub, 1.0, time_limit_s=tl)
    elif model == "mclp":
        sol = solve_mclp(sub, w, 1.0, int(p or 1), time_limit_s=tl)
    else:
        sol = solve_pmedian(sub, w, int(p or 1), time_limit_s=tl)
    served = np.zeros(len(sx))
    alloc = sol.allocation
    np.add.at(served, alloc[alloc >= 0], w[alloc >= 0])
    chosen = sol.facilities
    out = pd.DataFrame(
        {
            "model": model,
            "service": service,
            "site_name": sname[chosen],
            "site_kind": skind[chosen],
            "demand_served": served[chosen],
            "x": sx[chosen],
            "y": sy[chosen],
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

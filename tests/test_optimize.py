"""Tests for the array core of the partnership proposals (problem, MIP, greedy, classic models)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from arjenturva.errors import ProposalError
from arjenturva.proposals import (
    FIXED,
    MOBILE,
    REMOTE,
    ProposalProblem,
    evaluate_selection,
    solve,
    solve_greedy,
    solve_lscp,
    solve_mclp,
    solve_mip,
    solve_pmedian,
)


def make_problem(
    cover, weight, options, *, demand=None, service=None, municipality=None, capacity=None, **kwargs
) -> ProposalProblem:
    """Build a problem from a dense coverage matrix and a list of option dicts."""
    cover = np.asarray(cover, dtype=float)
    n, m = cover.shape
    assert len(options) == m
    col = {
        key: np.array([o.get(key, default) for o in options])
        for key, default in (
            ("actor", 0),
            ("service", 0),
            ("mode", MOBILE),
            ("site", -1),
            ("cost", 0.0),
            ("sector", 0),
            ("muni", 0),
        )
    }
    if service is None:
        service = np.zeros(n, dtype=int)
        rows, cols = np.nonzero(cover)
        service[rows] = col["service"][cols]
    n_actors = int(col["actor"].max()) + 1
    return ProposalProblem(
        coverage=sp.csr_matrix(cover),
        weight=weight,
        demand=np.ones(n) if demand is None else demand,
        service=service,
        municipality=np.zeros(n, dtype=int) if municipality is None else municipality,
        opt_actor=col["actor"],
        opt_service=col["service"],
        opt_mode=col["mode"],
        opt_site=col["site"],
        opt_cost=col["cost"],
        opt_sector=col["sector"],
        opt_municipality=col["muni"],
        capacity=np.full(n_actors, np.inf) if capacity is None else capacity,
        **kwargs,
    )


def chosen(sol) -> list[int]:
    return sol.chosen.tolist()


# ------------------------------------------------------------------------------------- hand-checked


def capacity_problem(cap0: float) -> ProposalProblem:
    # Option 0 (actor 0) covers both units (load 20); options 1, 2 (actor 1) one unit each, cost 1.
    return make_problem(
        [[1, 1, 0], [1, 0, 1]],
        [10.0, 8.0],
        [{"actor": 0}, {"actor": 1, "cost": 1.0}, {"actor": 1, "cost": 1.0}],
        demand=np.array([10.0, 10.0]),
        capacity=np.array([cap0, np.inf]),
        max_mobile_routes=1,
    )


def test_binding_capacity_changes_choice():
    loose = solve_mip(capacity_problem(100.0))
    assert chosen(loose) == [0]
    assert loose.objective == pytest.approx(18.0)
    tight = solve_mip(capacity_problem(15.0))
    assert chosen(tight) == [1]
    assert tight.objective == pytest.approx(9.0)
    assert tight.status == "optimal"
    assert chosen(solve_greedy(capacity_problem(15.0))) == [1]


def test_capacity_slack_scales_capacity():
    prob = capacity_problem(15.0)
    relaxed = ProposalProblem(**{**prob.__dict__, "capacity_slack": 1.5})
    assert chosen(solve_mip(relaxed)) == [0]


def sector_problem(**kwargs) -> ProposalProblem:
    # Three units in one municipality; two sector-0 actors, one sector-1 actor; two routes.
    return make_problem(
        np.eye(3),
        [100.0, 90.0, 80.0],
        [{"actor": 0, "sector": 0}, {"actor": 1, "sector": 0}, {"actor": 2, "sector": 1}],
        **{"max_mobile_routes": 2, **kwargs},
    )


def test_sector_rule_changes_choice():
    assert chosen(solve_mip(sector_problem())) == [0, 1]
    ruled = solve_mip(sector_problem(min_sectors=2))
    assert chosen(ruled) == [0, 2]
    assert ruled.objective == pytest.approx(180.0)
    assert ruled.penalty == 0.0
    assert ruled.warnings == ()
    assert chosen(solve_greedy(sector_problem(min_sectors=2))) == [0, 2]


def test_sector_rule_capped_by_available_sectors_and_budget():
    # Three sectors required but only two exist: the rule asks for two, no warning.
    sol = solve_mip(sector_problem(min_sectors=3))
    assert chosen(sol) == [0, 2]
    assert sol.warnings == ()
    # One route only: a single agreement cannot span two sectors; best single option, no penalty.
    sol = solve_mip(sector_problem(min_sectors=2, max_mobile_routes=1))
    assert chosen(sol) == [0]
    assert sol.penalty == 0.0


def test_sector_rule_unmeetable_is_soft_with_warning():
    # Two municipalities, each with two sectors, but a global budget of two routes.
    prob = make_problem(
        np.eye(4),
        [10.0, 9.0, 8.0, 7.0],
        [
            {"actor": 0, "sector": 0, "muni": 1},
            {"actor": 1, "sector": 1, "muni": 1},
            {"actor": 2, "sector": 0, "muni": 2},
            {"actor": 3, "sector": 1, "muni": 2},
        ],
        municipality=np.array([1, 1, 2, 2]),
        max_mobile_routes=2,
        min_sectors=2,
    )
    sol = solve_mip(prob)
    assert chosen(sol) == [0, 1]  # one municipality fully diversified beats one agreement each
    assert sol.penalty > 0
    assert any("municipality 2" in w and "cross-sector" in w for w in sol.warnings)


def hub_problem(hub_bonus: float) -> ProposalProblem:
    # Site 0 can host services 0 and 1 (10 + 10); site 1 hosts service 0 covering 22; one new site.
    return make_problem(
        [[1, 0, 1], [0, 1, 0], [0, 0, 1]],
        [10.0, 10.0, 12.0],
        [
            {"actor": 0, "service": 0, "mode": FIXED, "site": 0},
            {"actor": 1, "service": 1, "mode": FIXED, "site": 0, "sector": 1},
            {"actor": 2, "service": 0, "mode": FIXED, "site": 1},
        ],
        max_new_sites=1,
        hub_bonus=hub_bonus,
    )


def test_hub_bonus_picks_shared_site():
    assert chosen(solve_mip(hub_problem(0.0))) == [2]
    sol = solve_mip(hub_problem(5.0))
    assert chosen(sol) == [0, 1]  # two options at one site use one new site
    assert sol.hub_value == pytest.approx(5.0)
    assert sol.objective == pytest.approx(25.0)
    # The greedy is myopic: it opens the single best site first and cannot see the hub.
    assert solve_greedy(hub_problem(5.0)).score <= sol.score


def test_new_site_budget_global_and_per_municipality():
    rng = np.random.default_rng(3)
    prob = random_problem(rng, n=30, m=24, max_new_sites=2, max_mobile_routes=0, max_remote_points=0)
    sol = solve_mip(prob)
    sites = np.unique(prob.opt_site[sol.chosen][prob.opt_mode[sol.chosen] == FIXED])
    assert 0 < sites.size <= 2
    assert evaluate_selection(prob, sol.chosen).violations == ()
    per_mu = random_problem(
        np.random.default_rng(3),
        n=30,
        m=24,
        max_new_sites={0: 1, 1: 0},
        max_mobile_routes=0,
        max_remote_points=0,
    )
    sol = solve_mip(per_mu)
    fixed = sol.chosen[per_mu.opt_mode[sol.chosen] == FIXED]
    assert np.unique(per_mu.opt_site[fixed[per_mu.opt_municipality[fixed] == 0]]).size <= 1
    assert (per_mu.opt_municipality[fixed] != 1).all()


def share_problem(**kwargs) -> ProposalProblem:
    # Actor 0 has three good options, actor 1 one weaker option; four routes.
    return make_problem(
        np.eye(4),
        [10.0, 10.0, 10.0, 3.0],
        [{"actor": 0}, {"actor": 0}, {"actor": 0}, {"actor": 1}],
        max_mobile_routes=4,
        **kwargs,
    )


def test_max_actor_share_respected():
    assert chosen(solve_mip(share_problem())) == [0, 1, 2, 3]
    sol = solve_mip(share_problem(max_actor_share=0.5))
    counts = np.bincount(share_problem().opt_actor[sol.chosen], minlength=2)
    # n_a <= s N + (1 - s): two of actor 0 and one of actor 1.
    assert counts.tolist() == [2, 1]
    assert sol.objective == pytest.approx(23.0)
    greedy = solve_greedy(share_problem(max_actor_share=0.5))
    assert evaluate_selection(share_problem(max_actor_share=0.5), greedy.chosen).violations == ()


def test_single_agreement_allowed_under_actor_share():
    prob = make_problem([[1.0]], [5.0], [{"actor": 0}], max_actor_share=0.3)
    assert chosen(solve_mip(prob)) == [0]
    assert chosen(solve_greedy(prob)) == [0]


def test_each_unit_counted_once():
    prob = make_problem([[1, 1], [0, 0]], [10.0, 0.0], [{"actor": 0}, {"actor": 1}])
    ev = evaluate_selection(prob, [0, 1])
    assert ev.coverage_value == pytest.approx(10.0)
    assert ev.coverage.tolist() == [1.0, 0.0]
    costly = make_problem([[1, 1]], [10.0], [{"actor": 0, "cost": 0.1}, {"actor": 1, "cost": 0.1}])
    sol = solve_mip(costly)
    assert len(sol.chosen) == 1
    assert sol.objective == pytest.approx(9.9)
    # Partial (mobile, remote) coverage does not add up: a unit counts the best chosen fraction, as
    # in the gap analysis (two remote points at 0.5 cover a cell by 0.5).
    half = make_problem([[0.5, 0.5, 0.75]], [10.0], [{"actor": 0}, {"actor": 1}, {"actor": 2}])
    assert evaluate_selection(half, [0, 1]).coverage_value == pytest.approx(5.0)
    assert evaluate_selection(half, [0, 1, 2]).coverage_value == pytest.approx(7.5)
    assert evaluate_selection(half, [0]).coverage_value == pytest.approx(5.0)
    half_costly = make_problem([[0.5, 0.5, 0.75]], [10.0], [{"actor": a, "cost": 0.1} for a in range(3)])
    assert chosen(solve_mip(half_costly)) == [2]
    assert chosen(solve_greedy(half_costly)) == [2]


def test_contradictory_inputs_raise():
    with pytest.raises(ProposalError, match="own service"):
        make_problem([[1.0]], [1.0], [{"service": 1}], service=np.array([0]))
    with pytest.raises(ProposalError, match="max_actor_share"):
        make_problem([[1.0]], [1.0], [{}], max_actor_share=0.0)
    with pytest.raises(ProposalError, match=r"\(0, 1\]"):
        make_problem([[1.5]], [1.0], [{}])


# ---------------------------------------------------------------------------------- random instances


def random_problem(
    rng: np.random.Generator,
    *,
    n: int = 12,
    m: int = 10,
    n_actors: int = 4,
    n_services: int = 2,
    n_munis: int = 2,
    **kwargs,
) -> ProposalProblem:
    service = rng.integers(0, n_services, n)
    municipality = rng.integers(0, n_munis, n)
    opt_service = rng.integers(0, n_services, m)
    opt_muni = rng.integers(0, n_munis, m)
    opt_mode = rng.integers(0, 3, m)
    cover = np.zeros((n, m))
    for j in range(m):
        units = np.flatnonzero((service == opt_service[j]) & (municipality == opt_muni[j]))
        if units.size:
            pick = rng.choice(units, size=min(units.size, int(rng.integers(1, 4))), replace=False)
            frac = 1.0 if opt_mode[j] == FIXED else rng.choice([0.4, 0.6, 1.0])
            cover[pick, j] = frac
    defaults = {
        "max_new_sites": 2,
        "max_mobile_routes": 2,
        "max_remote_points": 1,
        "hub_bonus": 2.0,
        "min_sectors": 2,
        "max_actor_share": 0.6,
        "sector_penalty": 15.0,
    }
    defaults.update(kwargs)
    return ProposalProblem(
        coverage=sp.csr_matrix(cover),
        weight=rng.uniform(1, 20, n),
        demand=rng.uniform(1, 10, n),
        service=service,
        municipality=municipality,
        opt_actor=rng.integers(0, n_actors, m),
        opt_service=opt_service,
        opt_mode=opt_mode,
        opt_site=opt_muni * 10 + rng.integers(0, 3, m),  # a site lies in one municipality
        opt_cost=rng.uniform(0, 3, m),
        opt_sector=rng.integers(0, 3, m),
        opt_municipality=opt_muni,
        capacity=rng.uniform(5, 30, n_actors),
        **defaults,
    )


def brute_force_best(prob):
    """The best score of any feasible selection, by trying them all."""
    best = -np.inf
    for k in range(prob.n_options + 1):
        for subset in itertools.combinations(range(prob.n_options), k):
            ev = evaluate_selection(prob, list(subset))
            if not ev.violations:
                best = max(best, ev.score)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_mip_matches_brute_force(seed):
    prob = random_problem(np.random.default_rng(seed))
    best = brute_force_best(prob)
    sol = solve_mip(prob, mip_gap=1e-9)
    assert sol.status == "optimal"
    assert evaluate_selection(prob, sol.chosen).violations == ()
    assert sol.score == pytest.approx(best, abs=1e-6)
    assert sol.bound == pytest.approx(best, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("seed", range(8))
def test_greedy_feasible_and_not_better_than_mip(seed):
    prob = random_problem(np.random.default_rng(100 + seed), n=40, m=30, n_actors=6, n_munis=3)
    mip = solve_mip(prob, mip_gap=1e-9)
    greedy = solve_greedy(prob, bound=mip.bound)
    assert evaluate_selection(prob, greedy.chosen).violations == ()
    assert greedy.status == "greedy"
    assert greedy.score <= mip.score + 1e-6
    assert greedy.mip_gap >= -1e-9


def test_solve_falls_back_to_greedy_when_too_large():
    prob = random_problem(np.random.default_rng(7))
    sol = solve(prob, max_mip_options=3)
    assert sol.status == "greedy"
    assert "max_mip_options" in sol.warnings[0]
    assert solve(prob).status == "optimal"


# ------------------------------------------------------------------------------------ classic models


def location_instance(seed: int, n: int = 60, m: int = 15):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 100, (n, 2))
    fac = rng.uniform(0, 100, (m, 2))
    cost = np.linalg.norm(demand[:, None, :] - fac[None, :, :], axis=2)
    weights = rng.integers(1, 50, n).astype(float)
    return cost, weights


def pulp_solver():
    pulp = pytest.importorskip("pulp")
    available = pulp.listSolvers(onlyAvailable=True)
    if "HiGHS" in available:
        return pulp.HiGHS(msg=False)
    if "PULP_CBC_CMD" in available:
        return pulp.PULP_CBC_CMD(msg=False)
    pytest.skip("no pulp solver available")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pulp 3.x deprecations inside spopt
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classic_models_agree_with_spopt(seed):
    locate = pytest.importorskip("spopt.locate")
    solver = pulp_solver()
    cost, weights = location_instance(seed)
    radius = float(np.sort(cost, axis=1)[:, 0].max()) + 5.0  # every demand point reachable

    ours = solve_lscp(cost, radius)
    theirs = locate.LSCP.from_cost_matrix(cost, radius).solve(solver)
    assert ours.objective == pytest.approx(theirs.problem.objective.value())
    assert (cost[np.arange(len(cost)), ours.allocation] <= radius).all()

    ours = solve_mclp(cost, weights, 25.0, 4)
    theirs = locate.MCLP.from_cost_matrix(cost, weights, 25.0, p_facilities=4).solve(solver)
    assert ours.objective == pytest.approx(theirs.problem.objective.value())
    assert ours.facilities.size == 4

    for p in range(1, 6):
        ours = solve_pmedian(cost, weights, p)
        theirs = locate.PMedian.from_cost_matrix(cost, weights, p_facilities=p).solve(solver)
        assert ours.objective == pytest.approx(theirs.problem.objective.value(), rel=1e-6)
        assert ours.facilities.size == p


def test_classic_models_accept_sparse_and_unreachable():
    cost, weights = location_instance(5, n=20, m=6)
    cost[cost > 60] = np.inf
    dense = solve_pmedian(cost, weights, 3)
    finite = np.isfinite(cost)
    sparse = sp.csr_matrix((cost[finite], np.nonzero(finite)), shape=cost.shape)
    assert solve_pmedian(sparse, weights, 3).objective == pytest.approx(dense.objective)
    assert np.isfinite(cost[np.arange(20), dense.allocation]).all()
    assert solve_mclp(sparse, weights, 30.0, 2).objective == pytest.approx(
        solve_mclp(cost, weights, 30.0, 2).objective
    )
    with pytest.raises(ProposalError, match="LSCP is infeasible"):
        solve_lscp(cost, 1.0)


def pmedian_brute_force(cost: np.ndarray, weights: np.ndarray, p: int) -> float:
    """The p-median optimum by trying every set of p facilities (inf when none serves everyone)."""
    best = np.inf
    for sites in itertools.combinations(range(cost.shape[1]), p):
        near = cost[:, list(sites)].min(axis=1)
        if np.isfinite(near).all():
            best = min(best, float(weights[weights > 0] @ near[weights > 0]))
    return best


def pmedian_case(seed: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Small p-median matrices of several kinds: plain, ties, unreachable pairs, repeated rows."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(8, 40)), int(rng.integers(3, 9))
    if kind == "ties":
        cost = rng.integers(0, 5, (n, m)).astype(float)
    elif kind == "unreachable":
        cost = rng.uniform(0, 100, (n, m))
        cost[rng.random((n, m)) < 0.4] = np.inf
        cost[np.arange(n), rng.integers(0, m, n)] = rng.uniform(0, 100, n)
    elif kind == "repeated_rows":
        cost = rng.uniform(0, 100, (4, m))[rng.integers(0, 4, n)]
    else:
        cost = rng.uniform(0, 100, (n, m))
    weights = rng.integers(0, 20, n).astype(float)  # some weights are 0
    return cost, weights


@pytest.mark.parametrize("kind", ["plain", "ties", "unreachable", "repeated_rows"])
@pytest.mark.parametrize("seed", range(6))
def test_pmedian_matches_brute_force(seed, kind):
    cost, weights = pmedian_case(seed, kind)
    for p in range(1, min(cost.shape[1], 5) + 1):
        best = pmedian_brute_force(cost, weights, p)
        if not np.isfinite(best):
            with pytest.raises(ProposalError, match="infeasible"):
                solve_pmedian(cost, weights, p)
            continue
        sol = solve_pmedian(cost, weights, p)
        assert sol.objective == pytest.approx(best, rel=1e-9, abs=1e-9)
        assert sol.status == "optimal" and sol.facilities.size == p
        assert np.isin(sol.allocation, sol.facilities).all()


@pytest.mark.parametrize("iterations", [0, 3])
@pytest.mark.parametrize("highspy_present", [True, False])
def test_pmedian_radius_rounds_are_exact_with_weak_bounds(monkeypatch, iterations, highspy_present):
    """With few subgradient steps the bounds prove nothing, so the radius-bounded rounds with far
    remainders must find the optimum themselves (through highspy or scipy)."""
    from arjenturva.proposals import pmedian

    monkeypatch.setattr(pmedian, "SUBGRADIENT_ITERATIONS", iterations)
    if not highspy_present:
        monkeypatch.setattr(pmedian, "highspy", None)
    for seed, kind in itertools.product(range(3), ["plain", "ties", "unreachable"]):
        cost, weights = pmedian_case(100 + seed, kind)
        for p in range(1, min(cost.shape[1], 4) + 1):
            best = pmedian_brute_force(cost, weights, p)
            if np.isfinite(best):
                assert solve_pmedian(cost, weights, p).objective == pytest.approx(best, rel=1e-9, abs=1e-9)


def full_pmedian_objective(cost: np.ndarray, weights: np.ndarray, p: int) -> float:
    """The classic formulation (one assignment variable per pair), solved by scipy's HiGHS."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n, m = cost.shape
    r, c = np.nonzero(np.isfinite(cost))
    k = r.size
    z = m + np.arange(k)
    a = sp.vstack(
        [
            sp.csr_matrix((np.ones(k), (r, z)), shape=(n, m + k)),
            sp.csr_matrix((np.r_[np.ones(k), -np.ones(k)], (np.r_[np.arange(k), np.arange(k)], np.r_[z, c]))),
            sp.csr_matrix((np.ones(m), (np.zeros(m, dtype=int), np.arange(m))), shape=(1, m + k)),
        ]
    )
    res = milp(
        np.r_[np.zeros(m), weights[r] * cost[r, c]],
        integrality=np.r_[np.ones(m), np.zeros(k)],
        bounds=Bounds(0, 1),
        constraints=[
            LinearConstraint(a, np.r_[np.ones(n), np.full(k, -np.inf), p], np.r_[np.ones(n), np.zeros(k), p])
        ],
        options={"mip_rel_gap": 1e-9},
    )
    assert res.status == 0
    return float(res.fun)


@pytest.mark.parametrize("p", [1, 3, 6, 12])
def test_pmedian_matches_the_full_formulation_on_a_clustered_region(p):
    rng = np.random.default_rng(p)
    centres = rng.uniform(0, 80, (8, 2))
    demand = centres[rng.integers(0, 8, 250)] + rng.normal(0, 4, (250, 2))
    sites = np.r_[demand[rng.choice(250, 30, replace=False)], rng.uniform(0, 80, (15, 2))]
    cost = 1.3 * np.linalg.norm(demand[:, None] - sites[None], axis=2)
    weights = np.round(rng.lognormal(2.5, 1.0, 250))
    sol = solve_pmedian(cost, weights, p)
    assert sol.objective == pytest.approx(full_pmedian_objective(cost, weights, p), rel=1e-8)
    assert sol.status == "optimal" and sol.mip_gap == 0.0


def test_pmedian_infeasible_p_and_sites_no_one_reaches():
    # Two groups of demand points that reach only their own sites: one site cannot serve both.
    cost = np.array([[1.0, np.inf, 5.0, np.inf], [2.0, np.inf, 1.0, np.inf], [np.inf, 3.0, np.inf, np.inf]])
    weights = np.array([1.0, 2.0, 1.0])
    with pytest.raises(ProposalError, match="infeasible"):
        solve_pmedian(cost, weights, 1)
    two = solve_pmedian(cost, weights, 2)
    assert two.objective == pytest.approx(min(1 + 2 * 2, 5 + 2 * 1) + 3) and two.facilities.size == 2
    # p above the sites anyone reaches: those are all opened, the rest is filled with the others.
    four = solve_pmedian(cost, weights, 4)
    assert four.objective == pytest.approx(1 + 2 + 3) and four.facilities.tolist() == [0, 1, 2, 3]


def test_remote_budget():
    prob = make_problem(
        np.eye(3), [5.0, 4.0, 3.0], [{"mode": REMOTE, "actor": k} for k in range(3)], max_remote_points=2
    )
    assert chosen(solve_mip(prob)) == [0, 1]
    assert chosen(solve_greedy(prob)) == [0, 1]


# ------------------------------------------------------------------------------------ highspy backend


@pytest.mark.parametrize("seed", range(8))
def test_highspy_backend_matches_scipy(seed):
    pytest.importorskip("highspy")
    prob = random_problem(np.random.default_rng(100 + seed), n=40, m=30, n_actors=6, n_munis=3)
    ref = solve_mip(prob, mip_gap=1e-9, backend="scipy")
    for start in ("greedy", None):
        sol = solve_mip(prob, mip_gap=1e-9, backend="highspy", start=start)
        assert sol.solver == "highspy"
        assert sol.status == "optimal"
        assert evaluate_selection(prob, sol.chosen).violations == ()
        assert sol.score == pytest.approx(ref.score, abs=1e-6)
        assert sol.bound == pytest.approx(ref.bound, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_highspy_start_is_a_feasible_incumbent(seed):
    pytest.importorskip("highspy")
    from arjenturva.proposals.evaluate import _build_index
    from arjenturva.proposals.greedy import _best_greedy
    from arjenturva.proposals.highs import _run_highspy
    from arjenturva.proposals.mip import _build_mip, _mip_start

    prob = random_problem(np.random.default_rng(200 + seed), n=60, m=50, n_actors=6, n_munis=3)
    ix = _build_index(prob)
    model = _build_mip(prob, ix)
    c, bounds, cons = model.c, model.bounds, model.constraints
    run = _best_greedy(prob, ix)
    ev = run.evaluation
    start = _mip_start(prob, ix, model, run.chosen)
    # The completed start satisfies every row and bound and its objective is minus the greedy score.
    rows = cons[0].A @ start
    assert (rows >= cons[0].lb - 1e-9).all()
    assert (rows <= cons[0].ub + 1e-9).all()
    assert (start >= bounds.lb).all()
    assert (start <= bounds.ub).all()
    assert c @ start == pytest.approx(-ev.score)
    # HiGHS accepts it: stopped at once it still returns a solution at least as good.
    res = _run_highspy(model, time_limit_s=1e-4, mip_gap=1e-9, start=start)
    assert res.x is not None
    assert c @ res.x <= c @ start + 1e-6
    # Through the public entry point with a tiny time limit: never worse than the greedy.
    sol = solve_mip(prob, time_limit_s=1e-4, backend="highspy")
    assert sol.status in ("optimal", "time_limit")
    assert sol.score >= solve_greedy(prob).score - 1e-6
    assert evaluate_selection(prob, sol.chosen).violations == ()


def test_highspy_explicit_start_and_bad_arguments():
    pytest.importorskip("highspy")
    prob = capacity_problem(15.0)
    assert chosen(solve_mip(prob, backend="highspy", start=[1])) == [1]
    with pytest.raises(ProposalError, match="hard constraints"):
        solve_mip(prob, backend="highspy", start=[0])  # option 0 alone overloads actor 0
    with pytest.raises(ProposalError, match="backend"):
        solve_mip(prob, backend="gurobi")


def test_highs_options_reach_highspy():
    pytest.importorskip("highspy")
    prob = random_problem(np.random.default_rng(7), n=40, m=30, n_actors=6, n_munis=3)
    ref = solve_mip(prob, mip_gap=1e-9, backend="highspy")
    tuned = solve_mip(prob, mip_gap=1e-9, backend="highspy", highs_options={"presolve": "off"})
    assert tuned.status == "optimal"
    assert tuned.score == pytest.approx(ref.score, abs=1e-6)
    with pytest.raises(ProposalError, match="rejected the option no_such_option"):
        solve_mip(prob, backend="highspy", highs_options={"no_such_option": 1})
    with pytest.raises(ProposalError, match="need backend='highspy'"):
        solve_mip(prob, backend="scipy", highs_options={"presolve": "off"})


def test_scipy_backend_without_highspy(monkeypatch):
    import arjenturva.proposals.highs as highs

    monkeypatch.setattr(highs, "highspy", None)
    sol = solve_mip(capacity_problem(15.0))
    assert sol.solver == "highs"
    assert chosen(sol) == [1]
    with pytest.raises(ProposalError, match="needs the highspy"):
        solve_mip(capacity_problem(15.0), backend="highspy")


# ------------------------------------------------------------------------------------ cover groups


def with_duplicated_fixed(prob: ProposalProblem, rng: np.random.Generator) -> ProposalProblem:
    """Copy every fixed option (same site and column, fully covering) to another actor and sector."""
    a = prob.coverage.toarray()
    fixed = np.flatnonzero(prob.opt_mode == FIXED)
    a[:, fixed] = np.where(a[:, fixed] > 0, 1.0, 0.0)
    k = fixed.size
    n_actors = prob.capacity.size
    cols = {
        "opt_actor": np.r_[
            prob.opt_actor, (prob.opt_actor[fixed] + 1 + rng.integers(0, n_actors - 1, k)) % n_actors
        ],
        "opt_sector": np.r_[prob.opt_sector, rng.integers(0, 3, k)],
        "opt_cost": np.r_[prob.opt_cost, rng.uniform(0, 3, k)],
    }
    for name in ("opt_service", "opt_mode", "opt_site", "opt_municipality"):
        cols[name] = np.r_[getattr(prob, name), getattr(prob, name)[fixed]]
    cover = sp.csr_matrix(np.c_[a, a[:, fixed]])
    return ProposalProblem(**{**prob.__dict__, "coverage": cover, "capacity_slack": 2.0, **cols})


def test_cover_groups_only_identical_full_columns_at_one_site():
    from arjenturva.proposals.evaluate import _build_index

    fixed = {"mode": FIXED, "site": 0}
    prob = make_problem(
        [[1, 1, 1, 1, 0.5, 0.5, 1], [1, 1, 1, 0, 0.5, 0.5, 1]],
        [5.0, 4.0],
        [
            {**fixed, "actor": 0},
            {**fixed, "actor": 1},
            {**fixed, "actor": 2},  # overloads actor 2: never usable, no group member
            {**fixed, "actor": 1},  # other column
            {**fixed, "actor": 0},  # partial coverage: not a group (only full columns are)
            {**fixed, "actor": 1},
            {"mode": FIXED, "site": 1, "actor": 0},  # same column, other site
        ],
        demand=np.array([10.0, 10.0]),
        capacity=np.array([np.inf, np.inf, 5.0]),
    )
    ix = _build_index(prob)
    assert ix.grp_of.tolist() == [0, 0, -1, -1, -1, -1, -1]
    assert ix.grp_site.tolist() == [ix.site_of[0]]


def lp_bound(prob: ProposalProblem) -> float:
    """Optimal value of the MIP's LP relaxation (maximisation sense)."""
    from scipy.optimize import milp

    from arjenturva.proposals.evaluate import _build_index
    from arjenturva.proposals.mip import _build_mip

    model = _build_mip(prob, _build_index(prob))
    res = milp(
        model.c, integrality=np.zeros(model.c.size), bounds=model.bounds, constraints=model.constraints
    )
    assert res.status == 0
    return -float(res.fun)


def no_cover_groups(coverage, *_):
    return np.full(coverage.shape[1], -1, dtype=np.int64), np.zeros(0, dtype=np.int64)


def test_cover_groups_tighten_the_lp(monkeypatch):
    import arjenturva.proposals.evaluate as evaluate

    # Two actors at site 0 cover unit 0, one at site 1 covers unit 1; one new site. Without the
    # group the LP opens both sites half and covers unit 0 fully with two half options (15).
    prob = make_problem(
        [[1, 1, 0], [0, 0, 1]],
        [10.0, 10.0],
        [
            {"mode": FIXED, "site": 0, "actor": 0},
            {"mode": FIXED, "site": 0, "actor": 1},
            {"mode": FIXED, "site": 1, "actor": 2},
        ],
        max_new_sites=1,
    )
    assert lp_bound(prob) == pytest.approx(10.0)
    assert solve_mip(prob).score == pytest.approx(10.0)
    monkeypatch.setattr(evaluate, "_cover_groups", no_cover_groups)
    assert lp_bound(prob) == pytest.approx(15.0)
    assert solve_mip(prob).score == pytest.approx(10.0)


@pytest.mark.parametrize("seed", range(6))
def test_cover_groups_keep_the_optimum_and_tighten_the_lp(seed, monkeypatch):
    import arjenturva.proposals.evaluate as evaluate

    rng = np.random.default_rng(300 + seed)
    prob = with_duplicated_fixed(random_problem(rng, n=10, m=7, max_new_sites=1), rng)
    assert (evaluate._build_index(prob).grp_of >= 0).any()
    best = brute_force_best(prob)
    grouped = solve_mip(prob, mip_gap=1e-9)
    lp_grouped = lp_bound(prob)
    # The same model without cover groups (the previous formulation).
    monkeypatch.setattr(evaluate, "_cover_groups", no_cover_groups)
    plain = solve_mip(prob, mip_gap=1e-9)
    assert grouped.score == pytest.approx(best, abs=1e-6)
    assert plain.score == pytest.approx(best, abs=1e-6)
    assert evaluate_selection(prob, grouped.chosen).violations == ()
    assert lp_grouped <= lp_bound(prob) + 1e-6


# ------------------------------------------------------------------------------ shares of the gain


def test_option_shares_give_each_unit_to_its_best_option():
    from arjenturva.proposals.shares import covered_demand, option_shares

    cover = sp.csr_matrix(
        np.array(
            [
                [1.0, 0.5, 0.0, 0.5],  # fixed beats the two remote options
                [0.0, 0.5, 0.4, 0.5],  # two remote options tie: the first (by index) gets it
                [0.0, 0.0, 0.4, 0.0],
                [0.0, 0.0, 0.0, 0.0],
            ]
        )
    )
    shares = option_shares(cover, np.array([3, 0, 1, 2])).toarray()
    assert shares.tolist() == [[0, 1.0, 0, 0], [0, 0, 0.5, 0], [0, 0, 0, 0.4], [0, 0, 0, 0]]
    # Shares add up to the coverage of the selection.
    prob = make_problem(cover.toarray(), np.ones(4), [{"actor": a} for a in range(4)])
    assert shares.sum(axis=1) == pytest.approx(evaluate_selection(prob, [0, 1, 2, 3]).coverage)
    demand = np.array([10.0, 20.0, 30.0, 40.0])
    assert covered_demand(cover, demand, np.array([0, 1, 3])).tolist() == [10.0, 10.0, 0.0]
    assert option_shares(cover, np.zeros(0, dtype=int)).shape == (4, 0)

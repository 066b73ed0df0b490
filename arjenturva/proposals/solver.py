"""The default solve: the MIP when the instance is small enough, else (or on failure) the greedy."""

from __future__ import annotations

from dataclasses import replace

from .greedy import solve_greedy
from .mip import solve_mip
from .problem import ProposalProblem, ProposalSolution


def solve(
    problem: ProposalProblem,
    *,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.01,
    max_mip_options: int = 20000,
) -> ProposalSolution:
    """Solve with the MIP when the instance is small enough, else (or on failure) greedily.

    Parameters
    ----------
    problem
        The instance.
    time_limit_s, mip_gap
        Passed to :func:`solve_mip`.
    max_mip_options
        Instances with more options are solved with :func:`solve_greedy` (with a warning).

    Returns
    -------
    ProposalSolution
        The MIP solution; the greedy one (status ``"greedy"``, with a warning) when the instance
        is too large, when HiGHS found no solution in time, or when the greedy beats a
        time-limited MIP incumbent.
    """
    if problem.n_options > max_mip_options:
        sol = solve_greedy(problem)
        note = (
            f"{problem.n_options} options exceed max_mip_options={max_mip_options}; "
            "used the greedy heuristic (no optimality bound)"
        )
        return _with_warning(sol, note)
    mip = solve_mip(problem, time_limit_s=time_limit_s, mip_gap=mip_gap)
    if mip.status == "optimal":
        return mip
    greedy = solve_greedy(problem, bound=mip.bound)
    if mip.status == "infeasible":
        return _with_warning(
            greedy, f"HiGHS found no solution within {time_limit_s:g} s; used the greedy heuristic"
        )
    if greedy.score > mip.score + 1e-9:
        return _with_warning(greedy, "the greedy heuristic beat the time-limited MIP incumbent")
    return mip


def _with_warning(sol: ProposalSolution, note: str) -> ProposalSolution:
    return replace(sol, warnings=(note, *sol.warnings))

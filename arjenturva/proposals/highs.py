"""Running HiGHS on a built MIP: through :func:`scipy.optimize.milp` or through ``highspy``.

``highspy`` is optional; with it a starting incumbent and further HiGHS options can be passed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from ..errors import ProposalError

try:  # optional: HiGHS with a starting solution
    import highspy
except ImportError:  # pragma: no cover - exercised only without highspy
    highspy = None  # type: ignore[assignment]  # optional module: callers test `highspy is None`

# HiGHS' thread pool is global and sized once per process; the MIP search itself is serial, so two
# threads are plenty and leave room for other work on small machines.
_HIGHS_THREADS = max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True)
class _MipModel:
    """The MIP in :func:`scipy.optimize.milp` form (minimise ``c x``)."""

    c: np.ndarray
    integrality: np.ndarray
    bounds: Bounds
    constraints: list[LinearConstraint]  # empty or one matrix holding every row
    off: Mapping[str, int]  # offset of each variable block, and ``"end"`` (number of variables)


def _check_backend(backend: str, highs_options: Mapping[str, Any] | None) -> str:
    """Resolve ``"auto"`` and reject an unknown or unavailable backend."""
    if backend == "auto":
        backend = "highspy" if highspy is not None else "scipy"
    if backend not in ("highspy", "scipy"):
        msg = f"backend must be 'auto', 'highspy' or 'scipy', got {backend!r}"
        raise ProposalError(msg)
    if backend == "highspy" and highspy is None:
        msg = "backend='highspy' needs the highspy package (pip install highspy)"
        raise ProposalError(msg)
    if backend == "scipy" and highs_options:
        msg = "highs_options need backend='highspy' (scipy.optimize.milp takes only its own options)"
        raise ProposalError(msg)
    return backend


@dataclass(frozen=True)
class _MipResult:
    """What :func:`solve_mip` needs from either HiGHS interface (minimisation sense)."""

    x: np.ndarray | None  # best solution found, ``None`` when none
    optimal: bool
    infeasible: bool  # the model itself is infeasible or unbounded
    dual_bound: float
    gap: float
    message: str


def _run_scipy(model: _MipModel, *, time_limit_s: float, mip_gap: float) -> _MipResult:
    res = milp(
        model.c,
        integrality=model.integrality,
        bounds=model.bounds,
        constraints=model.constraints,
        options={"time_limit": float(time_limit_s), "mip_rel_gap": float(mip_gap), "disp": False},
    )
    return _MipResult(
        x=res.x,
        optimal=res.status == 0,
        infeasible=res.status in (2, 3) or (res.status == 4 and res.x is None),
        dual_bound=float(res.mip_dual_bound) if res.mip_dual_bound is not None else math.nan,
        gap=float(res.mip_gap) if res.mip_gap is not None else math.nan,
        message=str(res.message),
    )


def _highs_lp(model: _MipModel) -> Any:
    """The model as a ``highspy.HighsLp``, with the CSC arrays passed directly."""
    nv = model.c.size
    lp = highspy.HighsLp()
    lp.num_col_ = nv
    lp.col_cost_ = np.asarray(model.c, dtype=float)
    lp.col_lower_ = np.asarray(model.bounds.lb, dtype=float)
    lp.col_upper_ = np.asarray(model.bounds.ub, dtype=float)
    if model.constraints:
        cons = model.constraints[0]
        a = sp.csc_matrix(cons.A)
        a.sort_indices()
        lp.num_row_ = a.shape[0]
        lp.row_lower_ = np.asarray(cons.lb, dtype=float)
        lp.row_upper_ = np.asarray(cons.ub, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = nv
        lp.a_matrix_.num_row_ = a.shape[0]
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype(float)
    else:
        lp.num_row_ = 0
        lp.a_matrix_.start_ = np.zeros(nv + 1, dtype=np.int32)
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous for k in model.integrality
    ]
    return lp


def _run_highspy(
    model: _MipModel,
    *,
    time_limit_s: float,
    mip_gap: float,
    start: np.ndarray | None = None,
    options: Mapping[str, Any] | None = None,
) -> _MipResult:
    """Solve ``min c x`` with highspy, with ``start`` as incumbent and further HiGHS ``options``."""
    lp = _highs_lp(model)
    # The plain core class: the public ``highspy.Highs`` prints a banner before options can be set.
    h = highspy._core._Highs()
    for name, value in (
        ("output_flag", False),
        ("log_to_console", False),
        ("threads", _HIGHS_THREADS),
        ("time_limit", max(float(time_limit_s), 0.0)),
        ("mip_rel_gap", float(mip_gap)),
        ("random_seed", 0),
    ):
        h.setOptionValue(name, value)
    for name, value in (options or {}).items():
        if h.setOptionValue(name, value) == highspy.HighsStatus.kError:
            msg = f"HiGHS rejected the option {name}={value!r}. Fix: check its name and value type"
            raise ProposalError(msg)
    if h.passModel(lp) == highspy.HighsStatus.kError:
        msg = "HiGHS rejected the proposal model"
        raise ProposalError(msg)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=float)
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    ms = h.getModelStatus()
    info = h.getInfo()
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=float) if has_x else None
    status = highspy.HighsModelStatus
    optimal = ms == status.kOptimal
    dual_bound = float(info.mip_dual_bound) if has_x or optimal else math.nan
    if not np.isfinite(dual_bound):
        dual_bound = math.nan
    return _MipResult(
        x=x,
        optimal=optimal,
        infeasible=ms in (status.kInfeasible, status.kUnbounded, status.kUnboundedOrInfeasible),
        dual_bound=dual_bound,
        gap=float(info.mip_gap) if x is not None else math.nan,
        message=h.modelStatusToString(ms),
    )

"""What each chosen option adds: each demand unit's new coverage given to the chosen option covering it best.

A unit's coverage is the largest fraction a chosen option gives it (the rule of the gap analysis,
and of the proposal model), so it is the share of that option: the first such option by index when
several give the same fraction. Every other option covering the unit adds nothing there. An
agreement's figures (``demand_covered`` and the rest) therefore add up to the coverage gained, and
an option whose people are all better served by others gets nothing. Units the solver merged have
identical columns, hence identical shares, so the same rule serves the solver's units and the
readback's cells.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse


def option_shares(coverage: Any, chosen: np.ndarray) -> sparse.csc_matrix:
    """The share of each unit's remaining need that each chosen option covers.

    Parameters
    ----------
    coverage
        Units × options coverage fractions (sparse), as in :class:`.problem.ProposalProblem`.
    chosen
        Indices of the chosen options.

    Returns
    -------
    scipy.sparse.csc_matrix
        Units × ``len(chosen)``: column ``t`` holds the shares of option ``chosen[t]``; a unit's only
        non-zero share is its coverage, held by the chosen option giving it the largest fraction.
    """
    chosen = np.asarray(chosen, dtype=np.int64)
    sub = sparse.csr_matrix(sparse.csc_matrix(coverage)[:, chosen])
    sub.sort_indices()
    n = sub.shape[0]
    rows = np.repeat(np.arange(n), np.diff(sub.indptr))
    # Per row: largest fraction first, then the smallest option index; keep the first of each row.
    order = np.lexsort((chosen[sub.indices], -sub.data, rows))
    r = rows[order]
    keep = order[np.r_[True, r[1:] != r[:-1]]] if r.size else order
    return sparse.csc_matrix((sub.data[keep], (rows[keep], sub.indices[keep])), shape=(n, chosen.size))


def covered_demand(coverage: Any, demand: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Newly covered demand of each chosen option (``demand`` per unit: its need still open)."""
    shares = option_shares(coverage, chosen)
    return np.asarray(shares.T @ np.asarray(demand, dtype=float)).ravel()

"""Sparse origin × target cost matrices within a limit (:func:`cost_matrix`)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .model import Network, Weight, _check_weight
from .snapping import Snapped
from .sweeps import _augmented, _origin_terms, _same_road_pairs, _seeds


def _pruned_rows(
    net: Network, w: Weight, targets: Snapped, fid: np.ndarray, node: np.ndarray, seed_cost: np.ndarray,
    ufac: np.ndarray, o: np.ndarray, na: np.ndarray, nb: np.ndarray, to_a: np.ndarray, to_b: np.ndarray,
    limit: float, reach: float, batch: int,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(origin, target, cost) entries within ``limit`` for :func:`cost_matrix`, batch by batch.

    Targets are batched along a serpentine over a grid of ``reach``-sized cells, and each batch
    is swept on the nodes within ``reach`` (straight line, bounding box) of its targets: no route
    within ``limit`` leaves that box, so the costs are those of the whole network.
    """
    base = net.csr(w, transposed=True)
    bi, bx, bd = base.indptr, base.indices, base.data
    n = net.n_nodes
    tx, ty = targets.x[ufac], targets.y[ufac]
    gx = np.floor((tx - tx.min()) / reach).astype(np.int64)
    gy = np.floor((ty - ty.min()) / reach).astype(np.int64)
    gy = np.where(gx % 2 == 0, gy, gy.max() - gy)
    torder = np.lexsort((gy, gx))
    vrow = np.searchsorted(ufac, fid)
    remap = np.full(n, -1, np.int64)
    in_batch = np.full(ufac.size, -1, np.int64)
    slack = reach * 1e-9 + 1.0
    for s0 in range(0, ufac.size, batch):
        part = torder[s0 : s0 + batch]
        in_batch[part] = np.arange(part.size)
        x0, x1 = tx[part].min() - reach - slack, tx[part].max() + reach + slack
        y0, y1 = ty[part].min() - reach - slack, ty[part].max() + reach + slack
        sel = np.flatnonzero((net.x >= x0) & (net.x <= x1) & (net.y >= y0) & (net.y <= y1))
        remap[sel] = np.arange(sel.size)
        # The box's rows of the transposed graph, keeping the edges that stay in the box.
        starts, counts = bi[sel], bi[sel + 1] - bi[sel]
        edge = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        col = remap[bx[edge]]
        keep = col >= 0
        # The batch's seeds (a seed outside the box costs more than ``limit``) as virtual rows.
        sm = np.flatnonzero(in_batch[vrow] >= 0)
        sm = sm[remap[node[sm]] >= 0]
        sm = sm[np.argsort(in_batch[vrow[sm]], kind="stable")]
        size = sel.size + part.size
        kept = np.bincount(np.repeat(np.arange(sel.size), counts)[keep], minlength=sel.size)
        per_row = np.concatenate([kept, np.bincount(in_batch[vrow[sm]], minlength=part.size)])
        indptr = np.concatenate([[0], np.cumsum(per_row)])
        g = sp.csr_array(
            (np.concatenate([bd[edge[keep]], seed_cost[sm]]), np.concatenate([col[keep], remap[node[sm]]]),
             indptr), shape=(size, size),
        )
        dist = dijkstra(g, directed=True, indices=sel.size + np.arange(part.size), limit=limit)
        ra, rb = remap[na], remap[nb]
        cand = np.flatnonzero((ra >= 0) | (rb >= 0))
        ra, rb = ra[cand], rb[cand]
        da = dist.take(np.maximum(ra, 0), axis=1)
        da[:, ra < 0] = np.inf
        db = dist.take(np.maximum(rb, 0), axis=1)
        db[:, rb < 0] = np.inf
        c = np.minimum(to_a[cand][None, :] + da, to_b[cand][None, :] + db)
        ti, oj = np.nonzero(c <= limit)
        yield o[cand[oj]], ufac[part][ti], c[ti, oj]
        remap[sel] = -1
        in_batch[part] = -1


def cost_matrix(
    net: Network,
    origins: Snapped,
    targets: Snapped,
    *,
    weight: Weight = "length",
    limit: float,
    access_speed_kmh: float = 30.0,
    batch: int = 64,
    memory_mb: float = 256.0,
) -> sp.csr_array:
    """Sparse origin × target costs within ``limit``, from batched multi-source sweeps.

    Each batch of targets is swept at once on the transposed graph (compiled Dijkstra, one row
    per target, bounded by ``limit``), so the cost counts from origin to target. Nearby targets
    are batched together and swept only on the nodes within reach of them: every route costs at
    least the network's lowest cost per metre of road times the straight-line distance it spans,
    so no route within ``limit`` leaves that box (the result is the same as on the whole graph).

    Parameters
    ----------
    net
        The network.
    origins, targets
        Snapped points; unsnapped ones get no entries.
    weight
        ``"length"`` (metres) or ``"time"`` (seconds).
    limit
        Largest cost kept (required: it bounds the work and the result size).
    access_speed_kmh
        Speed of the access legs for ``weight="time"``.
    batch
        Targets per sweep (lowered automatically to stay within ``memory_mb``; at most 16 when
        the sweeps are limited to the nodes within reach).
    memory_mb
        Memory budget for one batch's dense distance rows.

    Returns
    -------
    scipy.sparse.csr_array
        Shape (n_origins, n_targets). A stored entry is a reachable pair with its cost; a true
        zero cost is stored as an explicit zero (check ``.has_canonical_format`` / use
        ``.indices``; do not call ``eliminate_zeros``). Absent entries are beyond ``limit`` or
        unreachable.
    """
    w = _check_weight(weight)
    n_o, n_t = len(origins), len(targets)
    n = net.n_nodes
    fid, node, seed_cost = _seeds(net, targets, w, access_speed_kmh)
    o, na, nb, to_a, to_b = _origin_terms(net, origins, w, access_speed_kmh)
    rows_l: list[np.ndarray] = []
    cols_l: list[np.ndarray] = []
    vals_l: list[np.ndarray] = []
    ufac = np.unique(fid)
    factor = net._cost_per_metre[w]
    per_row = 8.0 * (n + ufac.size)
    b = int(max(1, min(batch, (memory_mb * 2**20) // per_row)))
    if ufac.size and o.size and factor > 0 and np.isfinite(limit):
        # Each batch of nearby targets is swept on the part of the network within reach of them.
        for rows, cols, vals in _pruned_rows(
            net, w, targets, fid, node, seed_cost, ufac, o, na, nb, to_a, to_b, limit, limit / factor,
            min(b, 16),
        ):
            rows_l.append(rows)
            cols_l.append(cols)
            vals_l.append(vals)
    elif ufac.size and o.size:
        vrow = np.searchsorted(ufac, fid)
        g = _augmented(net, w, vrow, node, seed_cost, ufac.size)
        for s0 in range(0, ufac.size, b):
            part = np.arange(s0, min(s0 + b, ufac.size))
            dist = dijkstra(g, directed=True, indices=n + part, limit=limit)
            # ``take`` along the rows gathers much faster than fancy indexing ``dist[:, na]``.
            c = np.minimum(to_a[None, :] + dist.take(na, axis=1), to_b[None, :] + dist.take(nb, axis=1))
            ti, oj = np.nonzero(c <= limit)
            rows_l.append(o[oj])
            cols_l.append(ufac[part][ti])
            vals_l.append(c[ti, oj])
    oi, fi, c = _same_road_pairs(net, origins, targets, w, access_speed_kmh)
    keep = c <= limit
    rows_l.append(oi[keep])
    cols_l.append(fi[keep])
    vals_l.append(c[keep])
    rows = np.concatenate(rows_l) if rows_l else np.zeros(0, np.int64)
    cols = np.concatenate(cols_l) if cols_l else np.zeros(0, np.int64)
    vals = np.concatenate(vals_l) if vals_l else np.zeros(0)
    # Deduplicate (row, col) keeping the minimum, then build the CSR without summing.
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    if rows.size:
        first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
        rows, cols, vals = rows[first], cols[first], vals[first]
    indptr = np.zeros(n_o + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n_o), out=indptr[1:])
    return sp.csr_array((vals.astype(np.float64), cols.astype(np.int64), indptr), shape=(n_o, n_t))

"""Array kernels of the network engine, free of network types.

Polyline lengths, the Z-order of points, CSR matrices that keep the minimum of parallel edges,
and the segmented scans and scatters that the contracted sweep is built from. They take and
return plain NumPy and SciPy arrays.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _polyline_lengths(offsets: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Length of each polyline in a ragged coordinate array."""
    if xy.shape[0] == 0:
        return np.zeros(offsets.shape[0] - 1)
    d = np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1]))
    cum = np.concatenate([[0.0], np.cumsum(d)])
    return cum[offsets[1:] - 1] - cum[offsets[:-1]]


def _morton_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Permutation that sorts points along a Z-order (Morton) curve."""
    if x.size == 0:
        return np.zeros(0, np.int64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = v & np.uint64(0xFFFFFFFF)
        v = (v | (v << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x3333333333333333)
        v = (v | (v << np.uint64(1))) & np.uint64(0x5555555555555555)
        return v

    span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-9)
    scale = (2**20 - 1) / span
    qx = ((x - x.min()) * scale).astype(np.uint64)
    qy = ((y - y.min()) * scale).astype(np.uint64)
    code = spread(qx) | (spread(qy) << np.uint64(1))
    return np.argsort(code, kind="stable")


def _csr_min(
    u: np.ndarray, v: np.ndarray, w_len: np.ndarray, w_time: np.ndarray, n: int
) -> tuple[sp.csr_array, sp.csr_array]:
    """CSR matrices of length and time keeping the minimum of parallel edges (not their sum).

    Explicit zero weights stay stored entries, which :mod:`scipy.sparse.csgraph` treats as edges.
    Self-loops are dropped (they never shorten a path).
    """
    keep = u != v
    u, v, wl, wt = u[keep].astype(np.int64), v[keep].astype(np.int64), w_len[keep], w_time[keep]
    key = u * max(n, 1) + v
    order = np.argsort(key, kind="stable")
    key_s = key[order]
    starts = np.flatnonzero(np.r_[True, key_s[1:] != key_s[:-1]]) if key_s.size else np.zeros(0, np.int64)
    uu = u[order][starts]
    vv = v[order][starts].astype(np.int32)
    ml = np.minimum.reduceat(wl[order], starts).astype(np.float64) if starts.size else np.zeros(0)
    mt = np.minimum.reduceat(wt[order], starts).astype(np.float64) if starts.size else np.zeros(0)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(uu, minlength=n), out=indptr[1:])
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    a = sp.csr_array((ml, vv, indptr), shape=(n, n))
    b = sp.csr_array((mt, vv, indptr), shape=(n, n))
    return a, b


def _expand(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``rows``, neighbour) for every stored entry of the given CSR rows."""
    cnt = indptr[rows + 1] - indptr[rows]
    tot = int(cnt.sum())
    first = np.cumsum(cnt) - cnt
    at = np.repeat(indptr[rows] - first, cnt) + np.arange(tot)
    return np.repeat(np.arange(rows.size), cnt), indices[at]


def _lookup(g: sp.csr_array, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Weights ``g[u, v]`` of stored entries, ``inf`` where there is no edge u→v."""
    n = g.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr))
    keys = rows * max(n, 1) + g.indices.astype(np.int64)
    data = g.data
    if keys.size > 1 and not (keys[1:] > keys[:-1]).all():
        o = np.argsort(keys, kind="stable")
        keys, data = keys[o], data[o]
    q = u.astype(np.int64) * max(n, 1) + v.astype(np.int64)
    pos = np.clip(np.searchsorted(keys, q), 0, max(keys.size - 1, 0))
    if not keys.size:
        return np.full(q.shape, np.inf)
    return np.where(keys[pos] == q, data[pos], np.inf).astype(np.float64)


def _seg_sum(v: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Inclusive prefix sums within runs (``pos`` = position in the run), by doubling.

    Only additions of non-negative terms (no differences), so ``inf`` stays ``inf`` and the
    rounding is that of a sum along one run.
    """
    v = v.astype(np.float64, copy=True)
    d = 1
    top = int(pos.max()) if pos.size else 0
    while d <= top:
        i = np.flatnonzero(pos >= d)
        v[i] = v[i] + v[i - d]
        d *= 2
    return v


def _seg_minplus(
    a: np.ndarray, lab: np.ndarray, b: np.ndarray, pos: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``L[i] = min(a[i], b[i] + L[i-1])`` within runs (a run starts with ``L = a``), by doubling.

    ``L[i] = min_j a[j] + b[j+1] + … + b[i]`` over ``j <= i`` in the run; ``lab`` follows the
    minimising ``j``.
    """
    a = a.astype(np.float64, copy=True)
    b = b.astype(np.float64, copy=True)
    lab = lab.copy()
    d = 1
    top = int(pos.max()) if pos.size else 0
    while d <= top:
        i = np.flatnonzero(pos >= d)
        j = i - d
        cand = b[i] + a[j]
        better = cand < a[i]
        ib = i[better]
        lab[ib] = lab[j[better]]
        a[ib] = cand[better]
        b[i] = b[i] + b[j]
        d *= 2
    return a, lab


def _has_duplicates(idx: np.ndarray, n: int) -> bool:
    """Whether ``idx`` (indices below ``n``) holds some index twice, without sorting: each
    entry writes its position at its index, and an index given twice keeps only one of them."""
    at = np.empty(n, np.int64)  # only the positions ``idx`` are written and read
    pos = np.arange(idx.size)
    at[idx] = pos
    return bool((at[idx] != pos).any())


def _scatter_min(sc: np.ndarray, sf: np.ndarray, idx: np.ndarray, val: np.ndarray, lab: np.ndarray) -> None:
    """``sc[idx] = min(sc[idx], val)`` with duplicate indices, ``sf`` following the minimum (of
    equal values, the first given)."""
    ok = val < sc[idx]  # only these can change anything (never an inf)
    if not ok.all():
        idx, val, lab = idx[ok], val[ok], lab[ok]
    if idx.size > 1 and _has_duplicates(idx, sc.size):
        # One stable sort by index; each run's minimum and the first entry that holds it.
        o = np.argsort(idx, kind="stable")
        idx, val, lab = idx[o], val[o], lab[o]
        start = np.flatnonzero(_run_starts(idx))
        if start.size < idx.size:
            low = np.minimum.reduceat(val, start)
            held = val == np.repeat(low, np.diff(np.append(start, idx.size)))
            first = np.minimum.reduceat(np.where(held, np.arange(idx.size), idx.size), start)
            idx, val, lab = idx[first], low, lab[first]
    sc[idx] = val
    sf[idx] = lab


def _first_at_node(node: np.ndarray, fid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct nodes and the lowest facility number at each (ascending by node when some
    node repeats)."""
    if node.size < 2 or not _has_duplicates(node, int(node.max()) + 1):
        return node, fid
    span = int(fid.max()) + 1
    key = node.astype(np.int64) * span + fid
    key.sort()
    at = key // span
    first = np.flatnonzero(_run_starts(at))
    return at[first], key[first] - at[first] * span


def _run_starts(a: np.ndarray) -> np.ndarray:
    """True where a run of equal values of ``a`` starts."""
    out = np.empty(a.size, bool)
    if a.size:
        out[0] = True
        np.not_equal(a[1:], a[:-1], out=out[1:])
    return out

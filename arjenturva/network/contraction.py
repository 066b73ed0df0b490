"""The sweep graph contracted to its junctions (``_Contraction``).

Dead-end trees and chains of degree-two nodes are taken out of the graph once per network; a
multi-source sweep runs on the remaining junctions (the core) only, and the costs of the other
nodes follow exactly from their ends. Whether a sweep uses it is the caller's ``contract`` choice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components, dijkstra

from .kernels import (
    _csr_min,
    _expand,
    _first_at_node,
    _lookup,
    _run_starts,
    _scatter_min,
    _seg_minplus,
    _seg_sum,
)

if TYPE_CHECKING:
    from .model import Network

Contract = Literal["auto", "always", "never"]
"""Whether a sweep runs on the contracted graph: ``"auto"`` when that is faster (see
``_Contraction.useful``), ``"always"``, or ``"never"`` (the whole graph)."""

_CONTRACT_MAX_CORE_SHARE = 0.75
"""With ``"auto"``, a network of at least ``_CONTRACT_MIN_NODES`` nodes is contracted when the
core keeps at most this share of its nodes."""

_CONTRACT_MIN_NODES = 50_000

_CONTRACT_SMALL_CORE_SHARE = 0.5
"""A smaller network (from ``_CONTRACT_SMALL_MIN_NODES`` nodes) is contracted when the core keeps
at most this share of its nodes and the sweep has at most ``_CONTRACT_SMALL_SEEDS_PER_NODE``
seeds per node: there, carrying many seeds out of dead-end trees and chains costs more than
the smaller Dijkstra saves (measured with ``benchmarks/bench_network.py``, each sweep run right
after other work: on a 20 000-node grid with a 44 % core the contracted sweep takes 0.8× the
whole graph's time with 0.0005 and 0.005 seeds per node and 1.1× with 0.05; below 10 000 nodes
it is slower at any number of seeds, and on the NLS network, whose core keeps 75 % of the
nodes, too)."""

_CONTRACT_SMALL_MIN_NODES = 10_000

_CONTRACT_SMALL_SEEDS_PER_NODE = 0.03


class _Contraction:
    """The sweep graph reduced to its junctions (built once per network, weights per weight).

    In the undirected sense, dead-end trees are peeled off leaf by leaf, and the remaining nodes
    of degree two form *chains* between two *core* nodes (junctions; one node of a ring without
    junctions is made core). The core graph keeps the edges between core nodes and, for each
    chain, an edge A→B (B→A) only if every edge along the chain allows that direction, with the
    summed weight; parallel edges keep the minimum. A multi-source sweep then runs on the core
    only, and the costs of chain and tree nodes follow exactly from their ends:

    * seeds (facility entry points) inside a tree are carried up to its attachment node, and
      seeds inside a chain to both of its ends, along the allowed directions;
    * a chain node costs ``min(cost[A] + d(node→A), cost[B] + d(node→B), seeds in the chain
      reached along it)``; a tree node ``min(cost[parent] + d(node→parent), seeds below it)``.
    """

    def __init__(self, net: Network) -> None:
        n = net.n_nodes
        self.n = n
        g = net.csr_length
        one = sp.csr_array((np.ones(g.indices.size, np.int8), g.indices, g.indptr), shape=(n, n))
        und = sp.csr_array(one + one.T)
        und.sort_indices()
        ip = und.indptr.astype(np.int64)
        nb = und.indices.astype(np.int64)
        deg0 = np.diff(ip)
        deg = deg0.copy()
        removed = np.zeros(n, bool)
        in_leaf = np.zeros(n, bool)
        t_nodes: list[np.ndarray] = []
        t_par: list[np.ndarray] = []
        # Peel dead-end trees: all current leaves at once, round by round.
        leaf = np.flatnonzero(deg == 1)
        while leaf.size:
            rep, nbr = _expand(ip, nb, leaf)
            ok = ~removed[nbr]
            par = np.full(leaf.size, -1, np.int64)
            par[rep[ok]] = nbr[ok]
            in_leaf[leaf] = True
            keep = ~(in_leaf[par] & (leaf < par))  # two leaves joined: the smaller one stays
            in_leaf[leaf] = False
            leaf, par = leaf[keep], par[keep]
            removed[leaf] = True
            deg -= np.bincount(par, minlength=n)
            deg[leaf] = 0
            t_nodes.append(leaf)
            t_par.append(par)
            cand = np.unique(par)
            leaf = cand[(deg[cand] == 1) & ~removed[cand]]
        self.tree_nodes = np.concatenate(t_nodes) if t_nodes else np.zeros(0, np.int64)
        self.tree_parent = np.concatenate(t_par) if t_par else np.zeros(0, np.int64)
        self.tree_bounds = np.cumsum([0] + [t.size for t in t_nodes])
        rem = ~removed
        is_core = rem & (deg != 2)
        # Chains: remaining nodes of degree two; a ring with no core node gets one.
        for _ in range(2):
            rows = np.flatnonzero(rem & ~is_core)
            rep, nbr = _expand(ip, nb, rows)
            live = ~removed[nbr]
            rep, nbr = rep[live], nbr[live]
            src = rows[rep]
            to_core = is_core[nbr]
            m = rows.size
            cidx = np.full(n, -1, np.int64)
            cidx[rows] = np.arange(m)
            cc_u, cc_v = cidx[src[~to_core]], cidx[nbr[~to_core]]
            sub = sp.csr_array((np.ones(cc_u.size, np.int8), (cc_u, cc_v)), shape=(m, m))
            ncomp, comp = connected_components(sub, directed=False)
            has_core = np.bincount(cidx[src[to_core]], minlength=m) > 0
            comp_has = np.bincount(comp, weights=has_core, minlength=ncomp) > 0
            if comp_has.all():
                break
            # Promote the first node of each ring to core and redo.
            o = np.argsort(comp, kind="stable")
            firsts = o[np.r_[True, comp[o][1:] != comp[o][:-1]]] if m else o
            ring = firsts[~comp_has[comp[firsts]]]
            is_core[rows[ring]] = True
        # Order each chain from an end next to a core node: a breadth-first walk from a root
        # linked to one end per chain gives each node its predecessor along the chain, and
        # pointer jumping its position.
        csrc, cnb = src[to_core], nbr[to_core]  # sorted by chain node
        first_core = np.full(n, -1, np.int64)
        last_core = np.full(n, -1, np.int64)
        if csrc.size:
            brk = csrc[1:] != csrc[:-1]
            i0, i1 = np.flatnonzero(np.r_[True, brk]), np.flatnonzero(np.r_[brk, True])
            first_core[csrc[i0]] = cnb[i0]
            last_core[csrc[i1]] = cnb[i1]
        ends = np.flatnonzero(has_core)
        o = np.lexsort((ends, comp[ends]))
        ends = ends[o]
        start = ends[np.r_[True, comp[ends][1:] != comp[ends][:-1]]] if ends.size else ends
        walk = sp.csr_array(
            (np.ones(cc_u.size + start.size, np.int8),
             (np.r_[cc_u, np.full(start.size, m)], np.r_[cc_v, start])), shape=(m + 1, m + 1),
        )
        _, pred = breadth_first_order(walk, m, directed=True, return_predecessors=True)
        pred = pred.astype(np.int64)
        if m and (pred[:m] < 0).any():  # pragma: no cover - every chain has an end next to the core
            msg = "internal error: chain walk did not reach every chain node"
            raise RuntimeError(msg)
        pred[m] = m
        depth = np.ones(m + 1, np.int64)
        depth[m] = 0
        jump = pred.copy()
        while (jump[:m] != m).any():
            depth = depth + depth[jump]
            jump = jump[jump]
        order = np.lexsort((depth[:m], comp))
        ch = rows[order]
        lab = comp[order]
        head = np.r_[True, lab[1:] != lab[:-1]] if m else np.zeros(0, bool)
        self.ch_start = np.r_[np.flatnonzero(head), m].astype(np.int64)
        self.ch_of = np.cumsum(head) - 1
        self.ch_pos = np.arange(m) - self.ch_start[self.ch_of]
        self.ch_len = np.diff(self.ch_start)
        self.ch_nodes = ch
        self.ch_a = first_core[ch[self.ch_start[:-1]]]
        self.ch_b = last_core[ch[self.ch_start[1:] - 1]]
        prev = np.empty(m, np.int64)
        nxt = np.empty(m, np.int64)
        if m:
            prev[1:] = ch[:-1]
            nxt[:-1] = ch[1:]
            prev[self.ch_start[:-1]] = self.ch_a
            nxt[self.ch_start[1:] - 1] = self.ch_b
        self.ch_prev, self.ch_next = prev, nxt
        self.core = np.flatnonzero(is_core)
        self.core_of = np.full(n, -1, np.int64)
        self.core_of[self.core] = np.arange(self.core.size)
        rows_all = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr))
        cols_all = g.indices.astype(np.int64)
        direct = is_core[rows_all] & is_core[cols_all]
        self.direct_u, self.direct_v = rows_all[direct], cols_all[direct]
        # Static lookups for the sweep: where a node sits in the chain and tree arrays, the
        # ends of each chain node's chain, and for each tree node its attachment node (root)
        # and the top of its dead-end tree (the node next to the root).
        self.ch_index = np.full(n, -1, np.int64)
        self.ch_index[ch] = np.arange(m)
        ch_a_node = self.ch_a[self.ch_of] if m else np.zeros(0, np.int64)
        ch_b_node = self.ch_b[self.ch_of] if m else np.zeros(0, np.int64)
        tn, tp = self.tree_nodes, self.tree_parent
        nt = tn.size
        self.tree_pos = np.full(n, -1, np.int64)
        self.tree_pos[tn] = np.arange(nt)
        root = np.arange(n, dtype=np.int64)
        top = np.arange(n, dtype=np.int64)
        tb = self.tree_bounds
        for r in range(tb.size - 2, -1, -1):  # parents before children
            t, p = tn[tb[r]:tb[r + 1]], tp[tb[r]:tb[r + 1]]
            root[t] = root[p]
            top[t] = np.where(removed[p], top[p], t)
        tree_root = root[tn]
        tree_top = top[tn]
        rnd = np.repeat(np.arange(tb.size - 1), np.diff(tb))
        # Tree nodes grouped by tree, leaves first within a tree: the nodes of one tree are
        # ``tree_by_top[tree_start[j]:tree_start[j + 1]]`` (positions in the tree arrays).
        by_top = np.lexsort((rnd, tree_top))
        self.tree_by_top = by_top
        self.tree_round = rnd.astype(np.int16 if rnd.size and rnd.max() < 2**15 else np.int64)
        head_t = np.r_[True, tree_top[by_top][1:] != tree_top[by_top][:-1]] if nt else np.zeros(0, bool)
        self.tree_start = np.r_[np.flatnonzero(head_t), nt].astype(np.int64)
        self.tree_len = np.diff(self.tree_start)
        self.tree_of = np.empty(nt, np.int64)  # tree number of each tree position
        self.tree_of[by_top] = np.cumsum(head_t) - 1
        # The sweep's own node order: core nodes, then chain nodes, then tree nodes, so that
        # each part of its result is written as one contiguous block.
        nc = self.core.size
        self.perm = np.empty(n, np.int64)
        self.perm[self.core] = np.arange(nc)
        self.perm[ch] = nc + np.arange(m)
        self.perm[tn] = nc + m + np.arange(nt)
        self.ch_a_core = self.core_of[ch_a_node]
        self.ch_b_core = self.core_of[ch_b_node]
        self.tree_root_c = self.perm[tree_root]
        self._weighted: dict[str, dict[str, Any]] = {}

    @classmethod
    def build(cls, net: Network) -> _Contraction:
        return cls(net)

    def useful(self, n_seeds: int | None = None) -> bool:
        """Whether ``contract="auto"`` sweeps this graph from ``n_seeds`` seeds (``None``: from
        some number of seeds): a large network with a core of at most 3/4 of its nodes, or a
        smaller one with a core of at most half of them and few seeds."""
        if self.n >= _CONTRACT_MIN_NODES:
            return self.core.size <= _CONTRACT_MAX_CORE_SHARE * self.n
        if self.n < _CONTRACT_SMALL_MIN_NODES or self.core.size > _CONTRACT_SMALL_CORE_SHARE * self.n:
            return False
        return n_seeds is None or n_seeds <= _CONTRACT_SMALL_SEEDS_PER_NODE * self.n

    def weighted(self, net: Network, weight: Literal["length", "time"]) -> dict[str, Any]:
        """Per-weight edge costs along trees and chains and the transposed core CSR."""
        if weight in self._weighted:
            return self._weighted[weight]
        g = net.csr(weight)
        t, p = self.tree_nodes, self.tree_parent
        x, pv, nx_ = self.ch_nodes, self.ch_prev, self.ch_next
        nt, m = t.size, x.size
        w = _lookup(g, np.r_[t, p, x, pv, x, nx_], np.r_[p, t, pv, x, nx_, x])
        w_up, w_down = w[:nt], w[nt:2 * nt]
        wb_out, wf_in, wf_out, wb_in = (w[2 * nt + k * m:2 * nt + (k + 1) * m] for k in range(4))
        pos = self.ch_pos
        rpos = (self.ch_len[self.ch_of] - 1 - pos)[::-1]
        pf = _seg_sum(wf_in, pos)  # d(A -> node)
        pb = _seg_sum(wb_out, pos)  # d(node -> A)
        sf = _seg_sum(wf_out[::-1], rpos)[::-1]  # d(node -> B)
        sb = _seg_sum(wb_in[::-1], rpos)[::-1]  # d(B -> node)
        first, last = self.ch_start[:-1], self.ch_start[1:] - 1
        u = np.r_[self.direct_u, self.ch_a, self.ch_b]
        v = np.r_[self.direct_v, self.ch_b, self.ch_a]
        cw = np.r_[_lookup(g, self.direct_u, self.direct_v), pf[last] + wf_out[last],
                   sb[first] + wb_out[first]]
        ok = np.isfinite(cw) & (u != v)
        nc = self.core.size
        # Transposed (sweep from the facilities): core edge v <- u stored in row v.
        cu, cv = self.core_of[v[ok]], self.core_of[u[ok]]
        csr_t, _ = _csr_min(cu, cv, cw[ok], cw[ok], nc)
        # Cost from each tree node up to its root, summed from the root down.
        up = np.zeros(self.n)
        tb = self.tree_bounds
        for r in range(tb.size - 2, -1, -1):
            sl = slice(tb[r], tb[r + 1])
            up[t[sl]] = up[p[sl]] + w_up[sl]
        # The core CSR's arrays in the index dtype the sweep appends its seed rows to.
        itype = np.int32 if csr_t.nnz + 2 * self.n < np.iinfo(np.int32).max else np.int64
        out = {"w_up": w_up, "w_down": w_down, "wb_out": wb_out, "wf_out": wf_out, "pf": pf,
               "pb": pb, "sf": sf, "sb": sb, "t_up": up[t], "core_indptr": csr_t.indptr.astype(itype),
               "core_indices": csr_t.indices.astype(itype), "core_data": csr_t.data.astype(np.float64),
               "core_csr": csr_t}
        self._weighted[weight] = out
        return out

    def _tree_positions(self, seed_pos: np.ndarray) -> list[np.ndarray]:
        """Positions (in the tree arrays) of every node of the trees holding ``seed_pos``,
        grouped by peeling round, leaves first."""
        trees = np.unique(self.tree_of[seed_pos])
        st, ln = self.tree_start[trees], self.tree_len[trees]
        at = np.repeat(st - (np.cumsum(ln) - ln), ln) + np.arange(int(ln.sum()))
        pos = self.tree_by_top[at]
        rnd = self.tree_round[pos]
        order = np.argsort(rnd, kind="stable")
        pos, rnd = pos[order], rnd[order]
        cut = np.append(np.flatnonzero(_run_starts(rnd)), rnd.size)
        return [pos[cut[i]:cut[i + 1]] for i in range(cut.size - 1)]

    def sweep(
        self, net: Network, weight: Literal["length", "time"], fid: np.ndarray, node: np.ndarray,
        cost: np.ndarray, limit: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cost from every node to its nearest seed and that seed's facility.

        Both are in the sweep's node order: node ``v`` is at ``perm[v]``. The facility is only
        meaningful where the cost is finite (``fid`` are facility numbers, from 0).
        """
        cw = self.weighted(net, weight)
        n = self.n
        sc = np.full(n, np.inf)
        sf = np.full(n, -1, np.int32)
        _scatter_min(sc, sf, node, cost, fid.astype(np.int32))
        touched = [node]  # every node that may hold a seed: no scans over all nodes
        down = sc  # becomes, on tree nodes, the cheapest seed below them
        # Seeds in trees: carry them up to the attachment nodes, leaves first (only the trees
        # that hold seeds).
        tn, tp = self.tree_nodes, self.tree_parent
        tpos = self.tree_pos[node]
        tpos = tpos[tpos >= 0]
        groups = self._tree_positions(tpos) if tpos.size else []
        for ks in groups:
            c = sc[tn[ks]]
            ok = np.isfinite(c)
            if ok.any():
                ks = ks[ok]
                _scatter_min(sc, sf, tp[ks], c[ok] + cw["w_down"][ks], sf[tn[ks]])
                touched.append(tp[ks])
        # Seeds in chains: carried to both ends of their chain (the core seeds below).
        x = self.ch_nodes
        cand = np.concatenate(touched) if len(touched) > 1 else node
        chi = self.ch_index[cand]
        seeded = np.unique(chi[chi >= 0])
        seeded = seeded[np.isfinite(sc[x[seeded]])]
        # The core sweep, from the core nodes that hold seeds or are chain ends of seeded
        # chains: one virtual source row per facility, linked to those nodes (an edge per
        # seed; the sweep keeps the cheapest).
        core = self.core
        nc, m = core.size, x.size
        kc = self.core_of[cand]
        at = cand[kc >= 0]
        k_parts, c_parts, l_parts = [kc[kc >= 0]], [sc[at]], [sf[at]]
        if seeded.size:
            lab, sx = sf[x[seeded]], sc[x[seeded]]
            k_parts += [self.ch_a_core[seeded], self.ch_b_core[seeded]]
            c_parts += [sx + cw["pf"][seeded], sx + cw["sb"][seeded]]
            l_parts += [lab, lab]
        k, cs, lab = np.concatenate(k_parts), np.concatenate(c_parts), np.concatenate(l_parts)
        fin = np.isfinite(cs)
        if not fin.all():
            k, cs, lab = k[fin], cs[fin], lab[fin]
        dist = np.empty(n)  # in the sweep's order (``perm``): core, chain, tree nodes
        fac = np.empty(n, np.int32)
        if k.size:
            # Seeds of cost 0 (facilities at core nodes) are plain sources; of facilities at the
            # same node, the lowest number counts.
            zero = cs == 0.0
            zk: np.ndarray | None = None
            zl = zk
            if zero.any():
                zk, zl = _first_at_node(k[zero], lab[zero])
                rest = ~zero
                k, cs, lab = k[rest], cs[rest], lab[rest]
            nl = int(lab.max()) + 1 if lab.size else 0
            if nl:
                ip, ix = cw["core_indptr"], cw["core_indices"]
                order = np.argsort(lab, kind="stable")
                counts = np.bincount(lab, minlength=nl)
                indptr = np.concatenate([ip, ip[-1] + np.cumsum(counts).astype(ip.dtype)])
                indices = np.concatenate([ix, k[order].astype(ix.dtype)])
                data = np.concatenate([cw["core_data"], cs[order]])
                g = sp.csr_array((data, indices, indptr), shape=(nc + nl, nc + nl))
            else:
                g = cw["core_csr"]
            virtual = np.arange(nc, nc + nl)
            dc, _pred, src = dijkstra(
                g, directed=True, indices=virtual if zk is None else np.concatenate([zk, virtual]),
                min_only=True, limit=limit, return_predecessors=True,
            )
            dist[:nc] = dc[:nc]
            # The source that reached a node names its facility: a virtual row is the facility
            # of that number, a plain source the facility at that node (a node not reached gets
            # any label, and its cost is inf).
            s = src[:nc]
            if zk is None:
                s -= nc
                fac[:nc] = s
            else:
                label = np.empty(nc + nl, np.int32)
                label[zk] = cast("np.ndarray", zl)
                label[nc:] = np.arange(nl)
                fac[:nc] = np.take(label, s, mode="clip")
        else:
            dist[:nc] = np.inf
            fac[:nc] = -1
        # Chain nodes: through either end, or to a seed in the chain along it.
        if m:
            ca, cb = self.ch_a_core, self.ch_b_core
            dx = dist[ca]
            dx += cw["pb"]
            via_b = dist[cb]
            via_b += cw["sf"]
            use_b = np.flatnonzero(via_b < dx)
            dx[use_b] = via_b[use_b]
            fx = fac[ca]
            fx[use_b] = fac[cb[use_b]]
            if seeded.size:
                chains = np.unique(self.ch_of[seeded])
                st, ln = self.ch_start[chains], self.ch_len[chains]
                idx = np.repeat(st - (np.cumsum(ln) - ln), ln) + np.arange(int(ln.sum()))
                pos = self.ch_pos[idx]
                a, la = sc[x[idx]], sf[x[idx]]
                lft, llft = _seg_minplus(a, la, cw["wb_out"][idx], pos)
                rpos = (self.ch_len[self.ch_of[idx]] - 1 - pos)[::-1]
                rgt, lrgt = _seg_minplus(a[::-1], la[::-1], cw["wf_out"][idx][::-1], rpos)
                rgt, lrgt = rgt[::-1], lrgt[::-1]
                loc = np.where(rgt < lft, rgt, lft)
                lloc = np.where(rgt < lft, lrgt, llft)
                better = loc < dx[idx]
                dx[idx[better]] = loc[better]
                fx[idx[better]] = lloc[better]
            dist[nc:nc + m] = dx
            fac[nc:nc + m] = fx
        # Tree nodes: up to the root; in trees with seeds, from the root down, also to the
        # seeds below each node.
        if tn.size:
            root = self.tree_root_c
            tdist = dist[root]
            tdist += cw["t_up"]
            dist[nc + m:] = tdist
            fac[nc + m:] = fac[root]
            wu, perm = cw["w_up"], self.perm
            for ks in reversed(groups):
                t, p = tn[ks], perm[tp[ks]]
                via = dist[p] + wu[ks]
                own = down[t]
                use_own = own <= via
                dist[nc + m + ks] = np.where(use_own, own, via)
                fac[nc + m + ks] = np.where(use_own, sf[t], fac[p])
        return dist, fac


def _sweep_contraction(net: Network, contract: Contract, n_seeds: int | None = None) -> _Contraction | None:
    """The contracted graph a sweep from ``n_seeds`` seeds runs on under ``contract``, or ``None``
    for the whole graph (``n_seeds=None``: the graph some sweep may run on).

    With ``"never"`` the contracted graph is not built; otherwise it is built once per network
    (``"auto"`` needs it to decide).
    """
    if contract not in get_args(Contract):
        msg = f"contract must be 'auto', 'always' or 'never', not {contract!r}"
        raise ValueError(msg)
    if contract == "never":
        return None
    ctr = net._contraction
    return ctr if contract == "always" or ctr.useful(n_seeds) else None

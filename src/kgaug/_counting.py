"""Exact counting kernels for simple (cycle-free) 2- and 3-hop paths and facts.

Each kernel returns a *chain tensor* ``N`` of shape ``(L,) * hops`` (``L`` labels, see
:class:`~kgaug._index.PathIndex`): ``N[r1, ..., rn]`` is the number of simple paths (or of
distinct inferred facts ``(h, r1, ..., rn, t)``) with that relation chain. Everything a
report needs (totals, per relation "involves r", first hop, pure chains) is a sum over it.

Notation: ``A_r`` is the 0/1 adjacency of label ``r`` without self-loops; ``din[v, r]`` and
``dout[v, r]`` are in- and out-degrees per label. A *walk* may repeat nodes; a *path* may
not. Because self-loops are excluded, consecutive nodes of a walk always differ.

2 hops (h -r1-> m -r2-> t):
    walks[r1, r2]  = sum_m din[m, r1] dout[m, r2]                      (O(m), no SpGEMM)
    paths          = walks - closed   (closed: h = t, the 2-cycles h -> m -> h)
    facts          = paths - sum over (h, t), h != t, of (k - 1)+,  k = #middles m.
    A pair (h, t) can have k >= 2 only if h has >= 2 r1-successors *and* t has >= 2
    r2-predecessors, so the multiplicities come from a sparse product restricted to those
    rows and columns -- usually a small fraction of the walks.

3 hops (h -r1-> m1 -r2-> m2 -r3-> t): simple = W - Wa - Wb - Wc + Wab with
    Wa: h = m2,  Wb: m1 = t,  Wc: h = t (directed 3-cycles),  Wab: h = m2 and m1 = t
(no other coincidence is possible without a self-loop). Totals of each term over all
``(h, t)`` come from degree vectors, the 2-cycle list and a triangle listing. Distinct
3-hop facts need the per-``(h, t)`` walk counts: one sparse product per middle label,
chunked so memory stays bounded, with the corrections applied only to entries whose
``(h, t)`` are adjacent (the only entries where Wa, Wb, Wab can be non-zero).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from kgaug._index import PathIndex, expand_products

IntArray = npt.NDArray[np.int64]

__all__ = ["chain_tensor"]

#: Sparse products are split into row blocks of at most this many scalar multiplications
#: (plus one row), which bounds the memory of their output.
FLOP_BUDGET = 1 << 23


def chain_tensor(idx: PathIndex, hops: int, count: str, progress: object = None) -> IntArray:
    """Chain tensor of simple ``hops``-hop paths (``count="paths"``) or facts."""
    if hops == 2:
        return _facts2(idx) if count == "facts" else _paths2(idx)
    if hops == 3:
        return _facts3(idx, progress) if count == "facts" else _paths3(idx)
    raise ValueError(f"exact counting supports hops 2 and 3, got {hops}")  # pragma: no cover


# ---------------------------------------------------------------------------- helpers


def _bincount(keys: IntArray, size: int, weights: IntArray | None = None) -> IntArray:
    """Integer-exact bincount (numpy's weighted bincount goes through float64)."""
    if weights is None:
        return np.bincount(keys, minlength=size).astype(np.int64)
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, keys, weights)
    return out


def _row_chunks(row_cost: IntArray, budget: int | None = None) -> Iterator[tuple[int, int]]:
    """Split rows into consecutive blocks whose summed cost is about ``budget``.

    ``budget`` defaults to :data:`FLOP_BUDGET` (read at call time).
    """
    budget = FLOP_BUDGET if budget is None else budget
    n = len(row_cost)
    if n == 0:
        return
    cum = np.cumsum(row_cost)
    bounds = np.flatnonzero(np.diff(cum // max(budget, 1))) + 1
    edges = np.concatenate([[0], bounds, [n]])
    for a, b in zip(edges[:-1].tolist(), edges[1:].tolist()):
        if b > a:
            yield a, b


def _ones(n: int) -> IntArray:
    return np.ones(n, dtype=np.int64)


def _dense(mat: sp.sparray, shape: tuple[int, ...]) -> IntArray:
    return np.asarray(mat.toarray(), dtype=np.int64).reshape(shape)


# ---------------------------------------------------------------------------- 2 hops


def _walks2(idx: PathIndex) -> IntArray:
    L = idx.num_labels
    dout = idx.out_groups[0]
    din = idx.in_groups[0]
    return _dense(din.T @ dout, (L, L))


def _closed2(idx: PathIndex) -> IntArray:
    L = idx.num_labels
    e1, e2 = idx.closed2
    return _bincount(idx.lab[e1] * L + idx.lab[e2], L * L).reshape(L, L)


def _paths2(idx: PathIndex) -> IntArray:
    return _walks2(idx) - _closed2(idx)


def _facts2(idx: PathIndex) -> IntArray:
    L = idx.num_labels
    dout, pos_out, out_node = idx.out_groups
    din, pos_in, in_node = idx.in_groups
    dup = np.zeros(L * L, dtype=np.int64)
    rows_sel = np.flatnonzero(dout.data[pos_out] >= 2)
    cols_sel = np.flatnonzero(din.data[pos_in] >= 2)
    if len(rows_sel) and len(cols_sel):
        A = idx.stacked_out(rows_sel)  # (h, r1) groups with >= 2 successors
        B = idx.stacked_in(cols_sel)  # (t, r2) groups with >= 2 predecessors
        row_cost = A @ np.diff(B.indptr)
        for a, b in _row_chunks(row_cost):
            C = (A[a:b] @ B).tocoo()
            keep = C.data >= 2
            rows = C.row[keep] + a
            cols = C.col[keep]
            k = C.data[keep].astype(np.int64)
            off_diag = out_node[rows] != in_node[cols]
            key = dout.indices[rows] * L + din.indices[cols]
            dup += _bincount(key[off_diag], L * L, k[off_diag] - 1)
    return _paths2(idx) - dup.reshape(L, L)


# ---------------------------------------------------------------------------- 3 hops


def _cycles2_by_node(idx: PathIndex) -> sp.csr_array:
    """``n x L^2`` counts of closed 2-walks ``v -r-> m -s-> v`` per start node and (r, s)."""
    L = idx.num_labels
    e1, e2 = idx.closed2
    return sp.csr_array(
        (_ones(len(e1)), (idx.h[e1], idx.lab[e1] * L + idx.lab[e2])), shape=(idx.n, L * L)
    )


def _walks3(idx: PathIndex) -> IntArray:
    """``W[r1, r2, r3] = sum over edges (u -r2-> v) of din[u, r1] * dout[v, r3]``."""
    L = idx.num_labels
    dout = idx.out_groups[0]
    din = idx.in_groups[0]
    if idx.m == 0:
        return np.zeros((L, L, L), dtype=np.int64)
    din_e = din[idx.h]  # m x L: in-degrees of each edge's head
    dout_e = dout[idx.t]  # m x L: out-degrees of each edge's tail
    # shift the columns of edge e by lab[e] * L so one product separates the middle label
    shift = np.repeat(idx.lab * L, np.diff(din_e.indptr))
    din_r = sp.csr_array((din_e.data, din_e.indices + shift, din_e.indptr), shape=(idx.m, L * L))
    w = _dense(din_r.T @ dout_e, (L, L, L))  # [r2, r1, r3]
    return np.ascontiguousarray(w.transpose(1, 0, 2))


def _triangles(idx: PathIndex) -> IntArray:
    """Closed 3-walks ``h -r1-> m1 -r2-> m2 -r3-> h`` counted per chain ``(r1, r2, r3)``."""
    L = idx.num_labels
    out = np.zeros(L**3, dtype=np.int64)
    P = idx.pairs
    if P.count == 0:
        return out.reshape(L, L, L)
    U = P.matrix.astype(np.int64)
    U.data[:] = 1
    Ut = P.matrix_t.astype(np.int64)
    Ut.data[:] = 1
    outdeg = np.diff(U.indptr)
    indeg = np.diff(Ut.indptr)
    cnt = np.diff(P.ptr)
    row_cost = U @ outdeg
    for a, b in _row_chunks(row_cost):
        cand = (U[a:b] @ U).multiply(Ut[a:b]).tocoo()  # (h, m2): 2-walk h->m1->m2, edge m2->h
        if cand.nnz == 0:
            continue
        hs = cand.row.astype(np.int64) + a
        m2 = cand.col.astype(np.int64)
        small_out = outdeg[hs] <= indeg[m2]
        tri_h, tri_m1, tri_m2 = [], [], []
        for use_out in (True, False):
            sel = small_out if use_out else ~small_out
            ch, cm2 = hs[sel], m2[sel]
            mat = U if use_out else Ut
            anchor = ch if use_out else cm2
            deg = np.diff(mat.indptr)[anchor]
            rep, (j,) = expand_products(deg)
            m1 = mat.indices[mat.indptr[anchor][rep] + j].astype(np.int64)
            ch, cm2 = ch[rep], cm2[rep]
            ok = (P.lookup(m1, cm2) >= 0) if use_out else (P.lookup(ch, m1) >= 0)
            tri_h.append(ch[ok])
            tri_m1.append(m1[ok])
            tri_m2.append(cm2[ok])
        th, tm1, tm2 = (np.concatenate(x) for x in (tri_h, tri_m1, tri_m2))
        p1, p2, p3 = P.lookup(th, tm1), P.lookup(tm1, tm2), P.lookup(tm2, th)
        row, (i, j, k) = expand_products(cnt[p1], cnt[p2], cnt[p3])
        l1 = idx.lab[P.edges[P.ptr[p1][row] + i]]
        l2 = idx.lab[P.edges[P.ptr[p2][row] + j]]
        l3 = idx.lab[P.edges[P.ptr[p3][row] + k]]
        out += _bincount((l1 * L + l2) * L + l3, L**3)
    return out.reshape(L, L, L)


def _both_coincide(idx: PathIndex) -> IntArray:
    """Walks ``h -r1-> t -r2-> h -r3-> t`` (h = m2 and m1 = t) per chain."""
    L = idx.num_labels
    P = idx.pairs
    e1, e2 = idx.closed2
    if len(e1) == 0:
        return np.zeros((L, L, L), dtype=np.int64)
    p = P.pair_of_edge[e1]
    cnt = np.diff(P.ptr)
    row, (k,) = expand_products(cnt[p])
    l3 = idx.lab[P.edges[P.ptr[p][row] + k]]
    key = (idx.lab[e1][row] * L + idx.lab[e2][row]) * L + l3
    return _bincount(key, L**3).reshape(L, L, L)


def _paths3(idx: PathIndex) -> IntArray:
    L = idx.num_labels
    dout = idx.out_groups[0]
    din = idx.in_groups[0]
    cyc = _cycles2_by_node(idx)
    wa = _dense(cyc.T @ dout, (L, L, L))  # h = m2: cyc[h, (r1, r2)] * dout[h, r3]
    wb = _dense(din.T @ cyc, (L, L, L))  # m1 = t: din[t, r1] * cyc[t, (r2, r3)]
    return _walks3(idx) - wa - wb - _triangles(idx) + _both_coincide(idx)


def _facts3(idx: PathIndex, progress: object = None) -> IntArray:
    L = idx.num_labels
    out = np.zeros(L**3, dtype=np.int64)
    if idx.m == 0:
        return out.reshape(L, L, L)
    dout, _, out_node = idx.out_groups
    din, _, in_node = idx.in_groups
    P = idx.pairs
    A = idx.stacked_out()  # (h, r1) -> m1
    B = idx.stacked_in()  # m2 -> (t, r3)
    b_rows = np.diff(B.indptr)
    cnt = np.diff(P.ptr)

    # closed 2-walk counts keyed by (node, r, s), for the corrections
    e1, e2 = idx.closed2
    ckeys, ccounts = np.unique((idx.h[e1] * L + idx.lab[e1]) * L + idx.lab[e2], return_counts=True)

    def cyc_count(node: IntArray, r: IntArray, s: IntArray) -> IntArray:
        if len(ckeys) == 0:
            return np.zeros(len(node), dtype=np.int64)
        key = (node * L + r) * L + s
        i = np.minimum(np.searchsorted(ckeys, key), len(ckeys) - 1)
        return np.where(ckeys[i] == key, ccounts[i], 0).astype(np.int64)

    def has_label(pair: IntArray, label: IntArray) -> IntArray:
        """1 where pair (>= 0) carries an edge with ``label``."""
        res = np.zeros(len(pair), dtype=np.int64)
        ok = pair >= 0
        if not ok.any():
            return res
        pp, ll = pair[ok], label[ok]
        row, (k,) = expand_products(cnt[pp])
        hit = idx.lab[P.edges[P.ptr[pp][row] + k]] == ll[row]
        res[np.flatnonzero(ok)] = np.bincount(row[hit], minlength=len(pp))
        return res

    from kgaug._progress import progress_bar

    with progress_bar(total=L, desc="3-hop facts", unit="label", enabled=progress) as bar:
        for r2 in range(L):
            bar.update(1)
            A2 = idx.label_matrix(r2)
            if A2.nnz == 0:
                continue
            cost3 = A @ (A2 @ b_rows)  # 3-walks starting from each (h, r1) row
            active = np.flatnonzero(cost3)
            if len(active) == 0:
                continue
            A_act = A[active]
            for a, b in _row_chunks(cost3[active]):
                C = ((A_act[a:b] @ A2) @ B).tocoo()
                grow = active[a:b][C.row]  # (h, r1) group
                gcol = C.col.astype(np.int64)  # (t, r3) group
                h = out_node[grow]
                t = in_node[gcol]
                r1 = dout.indices[grow].astype(np.int64)
                r3 = din.indices[gcol].astype(np.int64)
                w = C.data.astype(np.int64)
                off = h != t
                h, t, r1, r3, w = h[off], t[off], r1[off], r3[off], w[off]
                # only adjacent (h, t) can lose walks to the corrections
                pht = P.lookup(h, t)
                adj = np.flatnonzero(pht >= 0)
                if len(adj):
                    ha, ta, r1a, r3a, pa = h[adj], t[adj], r1[adj], r3[adj], pht[adj]
                    r2a = np.full(len(adj), r2, dtype=np.int64)
                    a1 = has_label(pa, r1a)  # h -r1-> t
                    a3 = has_label(pa, r3a)  # h -r3-> t
                    a2 = has_label(P.lookup(ta, ha), r2a)  # t -r2-> h
                    simple = (
                        w[adj]
                        - cyc_count(ha, r1a, r2a) * a3
                        - a1 * cyc_count(ta, r2a, r3a)
                        + a1 * a2 * a3
                    )
                    keep = np.ones(len(h), dtype=bool)
                    keep[adj[simple <= 0]] = False
                    r1, r3 = r1[keep], r3[keep]
                out += _bincount((r1 * L + r2) * L + r3, L**3)
    return out.reshape(L, L, L)

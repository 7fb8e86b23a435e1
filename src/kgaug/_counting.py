"""Exact counting kernels for simple (cycle-free) 2- and 3-hop paths and facts.

Each kernel returns the *chain counts* of a graph as a sparse vector over chains
(:class:`SparseCounts`): chain ``(r1, ..., rn)`` of ``L`` labels (see
:class:`~kgaug._index.PathIndex`) has key ``((r1 * L + r2) * L + ...) + rn`` and its count
is the number of simple paths (or of distinct inferred facts ``(h, r1, ..., rn, t)``) with
that relation chain. Only non-zero chains are stored, so graphs with thousands of
relations are fine. Everything a report needs (totals, per relation "involves r", first
hop, pure chains) is a sum over it.

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
from kgaug._progress import progress_bar

IntArray = npt.NDArray[np.int64]

__all__ = ["SparseCounts", "chain_counts_sparse"]

#: Sparse products are split into row blocks of at most this many scalar multiplications
#: (plus one row), which bounds the memory of their output.
FLOP_BUDGET = 1 << 23


class SparseCounts:
    """Integer counts over chain keys: sorted unique ``keys`` and non-zero ``counts``."""

    __slots__ = ("counts", "keys")

    def __init__(self, keys: IntArray, counts: IntArray) -> None:
        self.keys = keys
        self.counts = counts

    @classmethod
    def empty(cls) -> SparseCounts:
        """No chains."""
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy())

    @classmethod
    def from_keys(cls, keys: IntArray, weights: IntArray | None = None) -> SparseCounts:
        """Sum ``weights`` (default 1) per key."""
        return sum_counts([(keys, weights, 1)])

    @classmethod
    def from_sparse(cls, mat: sp.sparray, row_stride: int) -> SparseCounts:
        """Entries of a sparse matrix with key ``row * row_stride + col``."""
        coo = sp.coo_array(mat)
        keys = coo.row.astype(np.int64) * row_stride + coo.col.astype(np.int64)
        return sum_counts([(keys, coo.data.astype(np.int64), 1)])

    def total(self) -> int:
        """Sum of all counts."""
        return int(self.counts.sum())

    def __sub__(self, other: SparseCounts) -> SparseCounts:
        return sum_counts([(self.keys, self.counts, 1), (other.keys, other.counts, -1)])

    def __add__(self, other: SparseCounts) -> SparseCounts:
        return sum_counts([(self.keys, self.counts, 1), (other.keys, other.counts, 1)])


def sum_counts(parts: list[tuple[IntArray, IntArray | None, int]]) -> SparseCounts:
    """``sum(sign * weights)`` per key over several ``(keys, weights, sign)`` parts.

    Integer-exact (numpy's weighted ``bincount`` would go through float64); zero sums are
    dropped.
    """
    keys = [np.asarray(k, dtype=np.int64) for k, _, _ in parts]
    if not keys or sum(len(k) for k in keys) == 0:
        return SparseCounts.empty()
    vals = [
        (np.ones(len(k), dtype=np.int64) if w is None else np.asarray(w, dtype=np.int64)) * s
        for k, (_, w, s) in zip(keys, parts)
    ]
    allk = np.concatenate(keys)
    allv = np.concatenate(vals)
    order = np.argsort(allk, kind="stable")
    sk = allk[order]
    first = np.empty(len(sk), dtype=bool)
    first[0] = True
    np.not_equal(sk[1:], sk[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    sums = np.add.reduceat(allv[order], starts)
    nz = sums != 0
    return SparseCounts(sk[starts][nz], sums[nz].astype(np.int64))


def chain_counts_sparse(
    idx: PathIndex, hops: int, count: str, progress: object = None
) -> SparseCounts:
    """Chain counts of simple ``hops``-hop paths (``count="paths"``) or facts."""
    if hops == 2:
        return _facts2(idx) if count == "facts" else _paths2(idx)
    if hops == 3:
        return _facts3(idx, progress) if count == "facts" else _paths3(idx)
    raise ValueError(f"exact counting supports hops 2 and 3, got {hops}")  # pragma: no cover


# ---------------------------------------------------------------------------- helpers


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


def _closed2_by_node(idx: PathIndex) -> tuple[IntArray, IntArray, IntArray]:
    """Every closed 2-walk ``v -r-> m -s-> v`` as aligned arrays ``(v, r, s)``."""
    e1, e2 = idx.closed2
    return idx.h[e1], idx.lab[e1], idx.lab[e2]


def _cycle_table(idx: PathIndex) -> SparseCounts:
    """Closed 2-walks counted per key ``(v * L + r) * L + s`` (start node, first, second label)."""
    L = idx.num_labels
    v, r, s = _closed2_by_node(idx)
    return SparseCounts.from_keys((v * L + r) * L + s)


# ---------------------------------------------------------------------------- 2 hops


def _walks2(idx: PathIndex) -> SparseCounts:
    dout = idx.out_groups[0]
    din = idx.in_groups[0]
    return SparseCounts.from_sparse(din.T @ dout, idx.num_labels)


def _closed2(idx: PathIndex) -> SparseCounts:
    L = idx.num_labels
    _, r, s = _closed2_by_node(idx)
    return SparseCounts.from_keys(r * L + s)


def _paths2(idx: PathIndex) -> SparseCounts:
    return _walks2(idx) - _closed2(idx)


def _facts2(idx: PathIndex) -> SparseCounts:
    L = idx.num_labels
    dout, pos_out, out_node = idx.out_groups
    din, pos_in, in_node = idx.in_groups
    dups: list[tuple[IntArray, IntArray | None, int]] = []
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
            key = dout.indices[rows].astype(np.int64) * L + din.indices[cols]
            dups.append((key[off_diag], k[off_diag] - 1, -1))
    paths = _paths2(idx)
    return sum_counts([(paths.keys, paths.counts, 1), *dups])


# ---------------------------------------------------------------------------- 3 hops


def _walks3(idx: PathIndex) -> SparseCounts:
    """``W[r1, r2, r3] = sum over edges (u -r2-> v) of din[u, r1] * dout[v, r3]``."""
    L = idx.num_labels
    dout = idx.out_groups[0]
    din = idx.in_groups[0]
    if idx.m == 0:
        return SparseCounts.empty()
    din_e = din[idx.h]  # m x L: in-degrees of each edge's head
    dout_e = dout[idx.t]  # m x L: out-degrees of each edge's tail
    # shift the columns of edge e by lab[e] * L so one product separates the middle label
    shift = np.repeat(idx.lab * L, np.diff(din_e.indptr))
    din_r = sp.csr_array((din_e.data, din_e.indices + shift, din_e.indptr), shape=(idx.m, L * L))
    w = sp.coo_array(din_r.T @ dout_e)  # rows r2 * L + r1, cols r3
    r2, r1 = np.divmod(w.row.astype(np.int64), L)
    return SparseCounts.from_keys((r1 * L + r2) * L + w.col, w.data.astype(np.int64))


def _triangles(idx: PathIndex) -> SparseCounts:
    """Closed 3-walks ``h -r1-> m1 -r2-> m2 -r3-> h`` counted per chain ``(r1, r2, r3)``."""
    L = idx.num_labels
    P = idx.pairs
    if P.count == 0:
        return SparseCounts.empty()
    U = P.matrix.astype(np.int64)
    U.data[:] = 1
    Ut = P.matrix_t.astype(np.int64)
    Ut.data[:] = 1
    outdeg = np.diff(U.indptr)
    indeg = np.diff(Ut.indptr)
    cnt = np.diff(P.ptr)
    parts: list[tuple[IntArray, IntArray | None, int]] = []
    row_cost = U @ outdeg
    for a, b in _row_chunks(row_cost):
        cand = (U[a:b] @ U).multiply(Ut[a:b]).tocoo()  # (h, m2): 2-walk h->m1->m2, edge m2->h
        if cand.nnz == 0:
            continue
        hs = cand.row.astype(np.int64) + a
        m2 = cand.col.astype(np.int64)
        # enumerate the middles m1 from the smaller of out(h) and in(m2)
        small_out = outdeg[hs] <= indeg[m2]
        tri_h, tri_m1, tri_m2 = [], [], []
        for use_out in (True, False):
            sel = small_out if use_out else ~small_out
            ch, cm2 = hs[sel], m2[sel]
            mat = U if use_out else Ut
            anchor = ch if use_out else cm2
            rep, (j,) = expand_products(np.diff(mat.indptr)[anchor])
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
        uk, uc = np.unique((l1 * L + l2) * L + l3, return_counts=True)
        parts.append((uk, uc.astype(np.int64), 1))
    return sum_counts(parts)


def _both_coincide(idx: PathIndex) -> SparseCounts:
    """Walks ``h -r1-> t -r2-> h -r3-> t`` (h = m2 and m1 = t) per chain."""
    L = idx.num_labels
    P = idx.pairs
    e1, e2 = idx.closed2
    if len(e1) == 0:
        return SparseCounts.empty()
    p = P.pair_of_edge[e1]
    row, (k,) = expand_products(np.diff(P.ptr)[p])
    l3 = idx.lab[P.edges[P.ptr[p][row] + k]]
    return SparseCounts.from_keys((idx.lab[e1][row] * L + idx.lab[e2][row]) * L + l3)


def _paths3(idx: PathIndex) -> SparseCounts:
    L = idx.num_labels
    dout = idx.out_groups[0]
    din = idx.in_groups[0]
    cyc = _cycle_table(idx)
    node, rs = np.divmod(cyc.keys, L * L)
    cyc_mat = sp.csr_array((cyc.counts, (node, rs)), shape=(idx.n, L * L))
    wa = SparseCounts.from_sparse(cyc_mat.T @ dout, L)  # h = m2: cyc[h, (r1, r2)] dout[h, r3]
    wb = SparseCounts.from_sparse(din.T @ cyc_mat, L * L)  # m1 = t: din[t, r1] cyc[t, (r2, r3)]
    w = _walks3(idx)
    wc = _triangles(idx)
    wab = _both_coincide(idx)
    return sum_counts(
        [
            (w.keys, w.counts, 1),
            (wa.keys, wa.counts, -1),
            (wb.keys, wb.counts, -1),
            (wc.keys, wc.counts, -1),
            (wab.keys, wab.counts, 1),
        ]
    )


def _facts3(idx: PathIndex, progress: object = None) -> SparseCounts:
    L = idx.num_labels
    if idx.m == 0:
        return SparseCounts.empty()
    dout, _, out_node = idx.out_groups
    din, _, in_node = idx.in_groups
    P = idx.pairs
    A = idx.stacked_out()  # (h, r1) -> m1
    B = idx.stacked_in()  # m2 -> (t, r3)
    b_rows = np.diff(B.indptr)
    cyc = _cycle_table(idx)
    # (pair, label) of every edge, sorted: membership tests by binary search
    pair_label = np.sort(P.pair_of_edge * L + idx.lab)

    def lookup(table: IntArray, values: IntArray | None, key: IntArray) -> IntArray:
        if len(table) == 0:
            return np.zeros(len(key), dtype=np.int64)
        i = np.minimum(np.searchsorted(table, key), len(table) - 1)
        hit = table[i] == key
        return np.where(hit, values[i] if values is not None else 1, 0).astype(np.int64)

    def has_label(pair: IntArray, label: IntArray) -> IntArray:
        """1 where ``pair`` (>= 0) carries an edge with ``label``."""
        return np.where(pair >= 0, lookup(pair_label, None, pair * L + label), 0)

    parts: list[tuple[IntArray, IntArray | None, int]] = []
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
                keep = np.ones(len(h), dtype=bool)
                if len(adj):
                    ha, ta, r1a, r3a, pa = h[adj], t[adj], r1[adj], r3[adj], pht[adj]
                    a1 = has_label(pa, r1a)  # h -r1-> t
                    a3 = has_label(pa, r3a)  # h -r3-> t
                    a2 = has_label(P.lookup(ta, ha), np.full(len(adj), r2))  # t -r2-> h
                    simple = (
                        w[adj]
                        - lookup(cyc.keys, cyc.counts, (ha * L + r1a) * L + r2) * a3
                        - a1 * lookup(cyc.keys, cyc.counts, (ta * L + r2) * L + r3a)
                        + a1 * a2 * a3
                    )
                    keep[adj[simple <= 0]] = False
                uk, uc = np.unique(r1[keep] * L + r3[keep], return_counts=True)
                r1k, r3k = np.divmod(uk, L)
                parts.append(((r1k * L + r2) * L + r3k, uc.astype(np.int64), 1))
    return sum_counts(parts)

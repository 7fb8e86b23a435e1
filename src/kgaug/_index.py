"""Sparse index structures over a graph's path-extending edges.

A :class:`PathIndex` is built once per graph and direction mode and cached on the
(immutable) :class:`~kgaug.KnowledgeGraph`. It holds the *labelled edges* that a path may
use: every fact except self-loops, and in undirected mode also every fact read backwards
with the inverse label ``r + R``. Edges are sorted by ``(head, label, tail)``.

All grouping is done with O(m) bucket sorts (scipy's COO->CSR conversion is a stable
counting sort) and vectorized numpy; nothing loops over edges in Python.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

if TYPE_CHECKING:
    from kgaug.kg import KnowledgeGraph

IntArray = npt.NDArray[np.int64]

__all__ = ["PathIndex", "bucket_argsort", "expand_products", "path_index"]


def bucket_argsort(keys: IntArray, num_buckets: int) -> IntArray:
    """Stable argsort of integer ``keys`` in ``[0, num_buckets)`` in O(len + buckets)."""
    m = len(keys)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    if num_buckets <= 1 << 16:  # numpy's stable sort is a radix sort for 16-bit keys
        return np.asarray(np.argsort(keys.astype(np.uint16), kind="stable"), dtype=np.int64)
    # COO -> CSR is a stable counting sort by row; the column indices are the positions.
    idx = np.arange(m, dtype=np.int64)
    mat = sp.csr_array((np.ones(m, dtype=np.int8), (keys, idx)), shape=(num_buckets, m))
    return np.asarray(mat.indices, dtype=np.int64)


def lex_argsort(primary: IntArray, secondary: IntArray, n1: int, n2: int) -> IntArray:
    """Stable argsort by ``(primary, secondary)`` via two bucket sorts (LSD radix)."""
    o = bucket_argsort(secondary, n2)
    return o[bucket_argsort(primary[o], n1)]


def run_starts(*cols: IntArray) -> npt.NDArray[np.bool_]:
    """Boolean mask of positions where the tuple of sorted columns changes."""
    m = len(cols[0])
    first = np.ones(m, dtype=bool)
    if m > 1:
        same = np.ones(m - 1, dtype=bool)
        for c in cols:
            same &= c[1:] == c[:-1]
        first[1:] = ~same
    return first


def expand_products(*counts: IntArray) -> tuple[IntArray, list[IntArray]]:
    """Enumerate the cartesian products ``range(c1) x range(c2) x ...`` row by row.

    Returns ``(row, [i1, i2, ...])``: for each produced combination, the input row it
    belongs to and its index within each factor.
    """
    c = [np.asarray(x, dtype=np.int64) for x in counts]
    total = np.ones_like(c[0])
    for x in c:
        total = total * x
    row = np.repeat(np.arange(len(total), dtype=np.int64), total)
    start = np.cumsum(total) - total
    off = np.arange(int(total.sum()), dtype=np.int64) - np.repeat(start, total)
    idx: list[IntArray] = []
    stride = total.copy()
    for x in c:
        stride = stride // np.maximum(x, 1)
        s = stride[row]
        idx.append(off // np.maximum(s, 1))
        off = off % np.maximum(s, 1)
    return row, idx


class PathIndex:
    """Labelled path-extending edges of a graph and the sparse structures over them.

    Attributes
    ----------
    n : int
        Number of entities.
    num_labels : int
        ``R`` (directed) or ``2R`` (undirected: label ``r + R`` is the inverse of ``r``).
    h, lab, t : ndarray
        Edge heads, labels and tails, sorted by ``(h, lab, t)``; no self-loops.
    """

    def __init__(self, n: int, num_labels: int, h: IntArray, lab: IntArray, t: IntArray) -> None:
        self.n = n
        self.num_labels = num_labels
        self.h = h
        self.lab = lab
        self.t = t

    @property
    def m(self) -> int:
        """Number of labelled edges."""
        return len(self.h)

    # ------------------------------------------------------------------ (node, label) groups
    @cached_property
    def out_groups(self) -> tuple[sp.csr_array, IntArray, IntArray]:
        """Out-degrees per (node, label): ``(dout, pos, row)``.

        ``dout`` is a CSR ``n x L`` count matrix, ``pos`` the position of each edge's
        ``(h, lab)`` entry in ``dout.data`` and ``row`` the node of each entry.
        """
        first = run_starts(self.h, self.lab)
        return _groups(self.h, self.lab, first, np.arange(self.m), self.n, self.num_labels)

    @cached_property
    def in_groups(self) -> tuple[sp.csr_array, IntArray, IntArray]:
        """``(din, pos, row)`` like :attr:`out_groups`, for in-degrees per (tail, label)."""
        order = lex_argsort(self.t, self.lab, self.n, self.num_labels)
        first = run_starts(self.t[order], self.lab[order])
        return _groups(self.t[order], self.lab[order], first, order, self.n, self.num_labels)

    # ------------------------------------------------------------------ node pairs
    @cached_property
    def pairs(self) -> Pairs:
        """Distinct ordered node pairs ``(u, v)`` joined by at least one edge."""
        order = lex_argsort(self.h, self.t, self.n, self.n)
        hs, ts = self.h[order], self.t[order]
        first = run_starts(hs, ts)
        starts = np.flatnonzero(first)
        ptr = np.append(starts, self.m).astype(np.int64)
        pair_of_edge = np.empty(self.m, dtype=np.int64)
        pair_of_edge[order] = np.cumsum(first) - 1
        return Pairs(self.n, hs[starts], ts[starts], ptr, order, pair_of_edge)

    @cached_property
    def closed2(self) -> tuple[IntArray, IntArray]:
        """All closed 2-walks ``h -e1-> m -e2-> h`` as aligned edge arrays ``(e1, e2)``."""
        P = self.pairs
        p, q = P.reciprocal
        cnt = np.diff(P.ptr)
        row, (i, j) = expand_products(cnt[p], cnt[q])
        e1 = P.edges[P.ptr[p][row] + i]
        e2 = P.edges[P.ptr[q][row] + j]
        return e1, e2

    # ------------------------------------------------------------------ per-label matrices
    def stacked_out(self, rows: IntArray | None = None) -> sp.csr_array:
        """``((h, r1) group) x m1`` 0/1 matrix: row = position in ``dout``, col = tail."""
        dout, pos, _ = self.out_groups
        sel = slice(None) if rows is None else rows
        data = np.ones(self.m if rows is None else len(rows), dtype=np.int64)
        return sp.csr_array((data, (pos[sel], self.t[sel])), shape=(dout.nnz, self.n))

    def stacked_in(self, cols: IntArray | None = None) -> sp.csr_array:
        """``m x ((t, r) group)`` 0/1 matrix: row = edge head, col = position in ``din``."""
        din, pos, _ = self.in_groups
        sel = slice(None) if cols is None else cols
        data = np.ones(self.m if cols is None else len(cols), dtype=np.int64)
        return sp.csr_array((data, (self.h[sel], pos[sel])), shape=(self.n, din.nnz))

    @cached_property
    def label_edges(self) -> tuple[IntArray, IntArray]:
        """``(order, ptr)``: edges grouped by label (``order[ptr[l]:ptr[l+1]]``)."""
        order = bucket_argsort(self.lab, self.num_labels)
        return order, _indptr(self.lab[order], self.num_labels)

    def label_matrix(self, label: int) -> sp.csr_array:
        """``n x n`` 0/1 adjacency of one label."""
        order, ptr = self.label_edges
        e = order[ptr[label] : ptr[label + 1]]
        return sp.csr_array(
            (np.ones(len(e), dtype=np.int64), (self.h[e], self.t[e])), shape=(self.n, self.n)
        )


class Pairs:
    """Distinct ordered node pairs with their edges (labels grouped per pair)."""

    def __init__(
        self,
        n: int,
        u: IntArray,
        v: IntArray,
        ptr: IntArray,
        edges: IntArray,
        pair_of_edge: IntArray,
    ) -> None:
        self.n = n
        self.u = u
        self.v = v
        self.ptr = ptr
        self.edges = edges
        self.pair_of_edge = pair_of_edge

    @property
    def count(self) -> int:
        """Number of distinct pairs."""
        return len(self.u)

    @cached_property
    def matrix(self) -> sp.csr_array:
        """``n x n`` CSR whose data is ``pair index + 1`` (canonical, so lookups are exact)."""
        k = self.count
        return sp.csr_array(
            (np.arange(1, k + 1, dtype=np.int64), self.v, _indptr(self.u, self.n)),
            shape=(self.n, self.n),
        )

    @cached_property
    def matrix_t(self) -> sp.csr_array:
        """Transpose of :attr:`matrix` in CSR form (rows = tails)."""
        return self.matrix.T.tocsr()

    @cached_property
    def reciprocal(self) -> tuple[IntArray, IntArray]:
        """``(p, q)``: pair ``p = (u, v)`` and its reverse ``q = (v, u)`` for all such pairs."""
        M = self.matrix
        Mt = self.matrix_t
        if M.nnz == 0:
            z = np.zeros(0, dtype=np.int64)
            return z, z
        mask_t = Mt.astype(bool)
        mask = M.astype(bool)
        a = M.multiply(mask_t).tocsr()
        b = Mt.multiply(mask).tocsr()
        a.sort_indices()
        b.sort_indices()
        return a.data.astype(np.int64) - 1, b.data.astype(np.int64) - 1

    def lookup(self, u: IntArray, v: IntArray) -> IntArray:
        """Pair index of each ``(u[i], v[i])``, ``-1`` where there is no edge."""
        if len(u) == 0:
            return np.zeros(0, dtype=np.int64)
        vals = self.matrix[u, v]
        return np.asarray(vals, dtype=np.int64).ravel() - 1


def _indptr(sorted_rows: IntArray, n: int) -> IntArray:
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(sorted_rows, minlength=n), out=ptr[1:])
    return ptr


def _groups(
    nodes: IntArray,
    labels: IntArray,
    first: npt.NDArray[np.bool_],
    order: IntArray,
    n: int,
    num_labels: int,
) -> tuple[sp.csr_array, IntArray, IntArray]:
    """Build a (node x label) count matrix from edges sorted by (node, label)."""
    starts = np.flatnonzero(first)
    m = len(nodes)
    counts = np.diff(np.append(starts, m)).astype(np.int64)
    gnode = nodes[starts]
    mat = sp.csr_array((counts, labels[starts], _indptr(gnode, n)), shape=(n, num_labels))
    pos = np.empty(m, dtype=np.int64)
    pos[order] = np.cumsum(first) - 1
    return mat, pos, gnode


def path_index(kg: KnowledgeGraph, directed: bool) -> PathIndex:
    """Return the (cached) :class:`PathIndex` of ``kg``."""

    def build() -> PathIndex:
        h, r, t = kg.head_ids, kg.relation_ids, kg.tail_ids
        keep = h != t
        h, r, t = h[keep], r[keep], t[keep]
        n, R = kg.num_entities, kg.num_relations
        if directed:  # the graph is stored sorted by (h, r, t) already
            return PathIndex(n, R, h, r, t)
        hh = np.concatenate([h, t])
        ll = np.concatenate([r, r + R])
        tt = np.concatenate([t, h])
        # within equal (head, label) keep tails sorted: inverse edges come from the
        # (h, r, t)-sorted facts, so sort them by (t, r, h) first (stable LSD passes)
        o_t = bucket_argsort(tt, n)
        order = o_t[lex_argsort(hh[o_t], ll[o_t], n, 2 * R)]
        return PathIndex(n, 2 * R, hh[order], ll[order], tt[order])

    idx: PathIndex = kg._cached(("path_index", directed), build)
    return idx

"""Multi-hop paths over a knowledge graph: exact counting per relation chain.

An *n-hop path* is ``h = v0 -r1-> v1 ... -rn-> vn = t`` with all ``v_i`` distinct (simple,
cycle-free); an *n-hop inferred fact* is a distinct ``(h, r1, ..., rn, t)`` for which at
least one such path exists. :func:`chain_counts` counts either, exactly, per relation
chain ``(r1, ..., rn)``, with sparse matrix algebra (see :mod:`kgaug._counting` for the
derivation). Self-loops are facts but never extend a path. With ``directed=False`` every
edge is also walked backwards under the inverse relation ``r^-1``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np
import numpy.typing as npt

from kgaug._counting import SparseCounts, chain_counts_sparse
from kgaug._index import PathIndex, _indptr, bucket_argsort, expand_products, path_index
from kgaug._validate import EXACT_HOPS as _EXACT_HOPS
from kgaug._validate import CountMode, check_bool, check_count, check_hops, check_seed
from kgaug.errors import UnknownLabelError
from kgaug.kg import KnowledgeGraph
from kgaug.records import Chain, FiveTuple

__all__ = [
    "EXACT_HOPS",
    "SAMPLE_HOPS",
    "ChainCounts",
    "CountMode",
    "PathSample",
    "chain_counts",
    "chain_labels",
    "enumerate_paths",
    "inverse_label",
    "sample_paths",
]

#: Chain lengths that :func:`chain_counts` and :func:`kgaug.compute_phi` count exactly.
EXACT_HOPS = _EXACT_HOPS

#: Dense chain tensors larger than this many entries are refused (use the sparse view).
MAX_DENSE = 50_000_000


def inverse_label(relation: str) -> str:
    """Label of the inverse relation used in undirected mode (``"r^-1"``)."""
    return f"{relation}^-1"


class ChainCounts:
    """Exact counts of simple ``hops``-hop paths or inferred facts per relation chain.

    Only chains that occur are stored (a graph with thousands of relations has millions of
    possible 3-hop chains but far fewer real ones); :attr:`tensor` gives the dense array
    when it is small enough.

    Attributes
    ----------
    hops : int
        Chain length.
    count : {"facts", "paths"}
        What is counted: distinct inferred facts ``(h, r1, ..., rn, t)`` or paths.
    directed : bool
        Whether edges were walked forwards only.
    labels : tuple of str
        Chain labels: the relations, followed in undirected mode by their inverses
        (``"r^-1"``).
    chains : ndarray of int64, shape (K, hops)
        Label indices of the ``K`` chains that occur, in lexicographic order.
    counts : ndarray of int64, shape (K,)
        Their counts (all positive).
    """

    def __init__(
        self,
        chains: npt.NDArray[np.int64],
        counts: npt.NDArray[np.int64],
        labels: tuple[str, ...],
        hops: int,
        count: CountMode,
        directed: bool,
        num_relations: int,
    ) -> None:
        self.chains = chains
        self.counts = counts
        for a in (chains, counts):
            a.setflags(write=False)
        self.labels = labels
        self.hops = hops
        self.count = count
        self.directed = directed
        self.num_relations = num_relations
        self._index = {lab: i for i, lab in enumerate(labels)}

    @classmethod
    def _from_sparse(
        cls,
        sc: SparseCounts,
        labels: tuple[str, ...],
        hops: int,
        count: CountMode,
        directed: bool,
        num_relations: int,
    ) -> ChainCounts:
        L = len(labels)
        chains = np.empty((len(sc.keys), hops), dtype=np.int64)
        rest = sc.keys
        for j in range(hops - 1, -1, -1):
            rest, chains[:, j] = np.divmod(rest, L)
        return cls(chains, sc.counts, labels, hops, count, directed, num_relations)

    @property
    def total(self) -> int:
        """Sum over all chains (``|F_n|`` for facts)."""
        return int(self.counts.sum())

    def __len__(self) -> int:
        """Number of distinct chains that occur."""
        return len(self.counts)

    @property
    def tensor(self) -> npt.NDArray[np.int64]:
        """Dense counts, shape ``(len(labels),) * hops``.

        Raises
        ------
        MemoryError
            When the dense array would exceed 50 million entries; use :meth:`top`,
            :meth:`to_dict` or :attr:`chains` / :attr:`counts` instead.
        """
        L = len(self.labels)
        size = L**self.hops
        if size > MAX_DENSE:
            raise MemoryError(
                f"a dense {self.hops}-hop chain tensor over {L} labels has {size:,} entries; "
                "use .top(), .to_dict() or the sparse .chains/.counts instead"
            )
        out = np.zeros((L,) * self.hops, dtype=np.int64)
        out[tuple(self.chains.T)] = self.counts
        return out

    def _base(self) -> npt.NDArray[np.int64]:
        """Chain positions as relation ids (inverse labels folded onto their relation)."""
        return self.chains if self.directed else self.chains % self.num_relations

    def involves(self) -> npt.NDArray[np.int64]:
        """Per relation: the sum over chains that contain it (``r`` or ``r^-1``) at least once.

        A chain such as ``(r, r)`` counts once for ``r``.
        """
        base = self._base()
        out = np.zeros(self.num_relations, dtype=np.int64)
        for j in range(self.hops):
            new = np.ones(len(base), dtype=bool)
            for i in range(j):
                new &= base[:, j] != base[:, i]
            np.add.at(out, base[new, j], self.counts[new])
        return out

    def first_hop(self) -> npt.NDArray[np.int64]:
        """Per relation: the sum over chains whose first step is it (or its inverse)."""
        out = np.zeros(self.num_relations, dtype=np.int64)
        np.add.at(out, self._base()[:, 0], self.counts)
        return out

    def pure(self) -> npt.NDArray[np.int64]:
        """Per relation: the sum over chains whose every step is it (or its inverse)."""
        base = self._base()
        same = np.all(base == base[:, :1], axis=1)
        out = np.zeros(self.num_relations, dtype=np.int64)
        np.add.at(out, base[same, 0], self.counts[same])
        return out

    def by_relation(self) -> ChainCounts:
        """The same counts over *relations*, inverse labels folded onto their relation."""
        if self.directed:
            return self
        R = self.num_relations
        base = self._base()
        keys = np.zeros(len(base), dtype=np.int64)
        for j in range(self.hops):
            keys = keys * R + base[:, j]
        sc = SparseCounts.from_keys(keys, self.counts)
        labels = self.labels[:R]
        return ChainCounts._from_sparse(sc, labels, self.hops, self.count, True, R)

    def __getitem__(self, chain: tuple[str, ...]) -> int:
        if len(chain) != self.hops:
            raise KeyError(f"expected a chain of {self.hops} labels, got {chain!r}")
        try:
            pos = np.array([self._index[c] for c in chain], dtype=np.int64)
        except KeyError as e:
            raise UnknownLabelError("relation", e.args[0], self.labels) from None
        hit = np.flatnonzero(np.all(self.chains == pos, axis=1))
        return int(self.counts[hit[0]]) if len(hit) else 0

    def top(self, k: int = 10) -> list[tuple[tuple[str, ...], int]]:
        """The ``k`` most frequent chains, largest first (ties in chain order)."""
        order = np.lexsort((np.arange(len(self.counts)), -self.counts))[:k]
        return [
            (tuple(self.labels[i] for i in self.chains[f].tolist()), int(self.counts[f]))
            for f in order.tolist()
        ]

    def to_dict(self) -> dict[tuple[str, ...], int]:
        """All chains that occur and their counts."""
        return dict(self.top(len(self.counts)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChainCounts):
            return NotImplemented
        return (
            (self.labels, self.hops, self.count, self.directed)
            == (other.labels, other.hops, other.count, other.directed)
            and np.array_equal(self.chains, other.chains)
            and np.array_equal(self.counts, other.counts)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ChainCounts(hops={self.hops}, count={self.count!r}, "
            f"directed={self.directed}, chains={len(self)}, total={self.total})"
        )


def chain_counts(
    kg: KnowledgeGraph,
    hops: int = 2,
    *,
    count: CountMode = "facts",
    directed: bool = True,
    progress: bool | None = None,
) -> ChainCounts:
    """Count simple ``hops``-hop paths or inferred facts per relation chain, exactly.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph.
    hops : {2, 3}
        Chain length.
    count : {"facts", "paths"}
        ``"facts"`` counts distinct ``(h, r1, ..., rn, t)``; ``"paths"`` counts every simple
        path (multiplicity over bridge entities).
    directed : bool
        ``False`` also walks each edge backwards as ``r^-1``.
    progress : bool, optional
        Show a progress bar on long counts (``None``: tqdm decides).

    Returns
    -------
    ChainCounts

    Examples
    --------
    >>> import kgaug
    >>> kg = kgaug.KnowledgeGraph.from_triples([
    ...     ("Barack Obama", "spouse", "Michelle Obama"),
    ...     ("Michelle Obama", "born in", "Chicago")])
    >>> kgaug.chain_counts(kg, 2)[("spouse", "born in")]
    1
    """
    if not isinstance(kg, KnowledgeGraph):
        raise TypeError(f"expected a KnowledgeGraph, got {type(kg).__name__}")
    n = check_hops(hops)
    mode = check_count(count)
    d = check_bool(directed, "directed")
    labels = chain_labels(kg, d)

    def build() -> ChainCounts:
        sc = chain_counts_sparse(path_index(kg, d), n, mode, progress)
        return ChainCounts._from_sparse(sc, labels, n, mode, d, kg.num_relations)

    cc: ChainCounts = kg._cached(("chain_counts", n, mode, d), build)  # the graph is immutable
    return cc


# ---------------------------------------------------------------------------- sampling

#: Chain lengths that :func:`sample_paths` samples.
SAMPLE_HOPS = (2, 3, 4)

RelationSpec = str | Sequence[str | None] | None


def chain_labels(kg: KnowledgeGraph, directed: bool) -> tuple[str, ...]:
    """Labels of path steps: the relations, then (undirected) their inverses ``r^-1``.

    Raises
    ------
    ValueError
        In undirected mode, when a relation label equals another's inverse label (a
        relation literally named ``"r^-1"`` beside ``"r"``).
    """
    return step_labels(kg.relations, directed)


def step_labels(relations: tuple[str, ...], directed: bool) -> tuple[str, ...]:
    """:func:`chain_labels` of a graph with these relation labels."""
    if directed:
        return relations
    inverse = tuple(inverse_label(r) for r in relations)
    clash = set(inverse) & set(relations)
    if clash:
        name = sorted(clash)[0]
        raise ValueError(
            f"relation {name!r} collides with the inverse label of {name[:-3]!r} in undirected "
            "mode; rename one of them"
        )
    return relations + inverse


def _allowed_labels(
    kg: KnowledgeGraph, hops: int, relations: RelationSpec, directed: bool
) -> list[npt.NDArray[np.bool_]]:
    """Per path position, a mask over step labels allowed there."""
    labels = chain_labels(kg, directed)
    index = {lab: i for i, lab in enumerate(labels)}
    if relations is None:
        spec: list[str | None] = [None] * hops
    elif isinstance(relations, str):
        spec = [relations] + [None] * (hops - 1)
    else:
        spec = list(relations)
        if len(spec) != hops:
            raise ValueError(
                f"relations={relations!r}: a chain restriction needs {hops} entries "
                "(use None for 'any relation'), or give one relation for the first hop"
            )
    masks = []
    for pos, lab in enumerate(spec):
        m = np.zeros(len(labels), dtype=bool)
        if lab is None:
            m[:] = True
        else:
            if lab not in index:
                raise UnknownLabelError(f"relation (hop {pos + 1})", lab, labels)
            m[index[lab]] = True
        masks.append(m)
    return masks


class PathSample(Sequence[FiveTuple | Chain]):
    """Sampled simple paths: a sequence of :class:`FiveTuple` (2 hops) or :class:`Chain`.

    Backed by integer arrays, so a million paths cost a few dozen megabytes; records are
    built only when you index or iterate.

    Attributes
    ----------
    hops : int
        Path length.
    nodes : ndarray of int64, shape (k, hops + 1)
        Entity ids along each path.
    steps : ndarray of int64, shape (k, hops)
        Step labels (relation ids; ``r + R`` is the inverse ``r^-1`` in undirected mode).
    labels : tuple of str
        Label strings for ``steps``.
    total_paths : int or None
        Exact number of simple paths matching the restriction (hops 2 and 3), else None.
    draws : int
        Walks drawn (accepted or rejected) to produce the sample; for 2 and 3 hops this
        includes the few alias-table draws (well under 2%) that fall on no walk.
    """

    def __init__(
        self,
        kg: KnowledgeGraph,
        nodes: npt.NDArray[np.int64],
        steps: npt.NDArray[np.int64],
        labels: tuple[str, ...],
        *,
        directed: bool,
        total_paths: int | None,
        draws: int,
        seed: int | None,
    ) -> None:
        self.kg = kg
        self.nodes = nodes
        self.steps = steps
        self.labels = labels
        self.hops = steps.shape[1]
        self.directed = directed
        self.total_paths = total_paths
        self.draws = draws
        self.seed = seed
        for a in (nodes, steps):
            a.setflags(write=False)

    def __len__(self) -> int:
        return len(self.nodes)

    def _record(self, i: int) -> FiveTuple | Chain:
        ents = self.kg.entities
        types = self.kg.types
        codes = self.kg.entity_type_codes
        nodes = self.nodes[i].tolist()
        rels = [self.labels[s] for s in self.steps[i].tolist()]
        tys = [types[c] if c >= 0 else None for c in codes[nodes].tolist()]
        if self.hops == 2:
            return FiveTuple(
                obj1=ents[nodes[0]],
                rel1=rels[0],
                obj2=ents[nodes[1]],
                rel2=rels[1],
                obj3=ents[nodes[2]],
                obj1_type=tys[0],
                obj2_type=tys[1],
                obj3_type=tys[2],
            )
        return Chain(
            entities=tuple(ents[v] for v in nodes), relations=tuple(rels), types=tuple(tys)
        )

    @overload
    def __getitem__(self, i: int) -> FiveTuple | Chain: ...
    @overload
    def __getitem__(self, i: slice) -> PathSample: ...
    def __getitem__(self, i: int | slice) -> FiveTuple | Chain | PathSample:
        if isinstance(i, slice):
            return PathSample(
                self.kg,
                self.nodes[i].copy(),
                self.steps[i].copy(),
                self.labels,
                directed=self.directed,
                total_paths=self.total_paths,
                draws=self.draws,
                seed=self.seed,
            )
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"path index {i} out of range for {n} paths")
        return self._record(i % n)

    def __iter__(self) -> Iterator[FiveTuple | Chain]:
        for i in range(len(self)):
            yield self._record(i)

    def to_tuples(self) -> list[tuple[str, ...]]:
        """Plain ``(obj1, rel1, obj2, rel2, obj3, ...)`` tuples."""
        ents = self.kg.entities
        out = []
        for nodes, steps in zip(self.nodes.tolist(), self.steps.tolist()):
            t: list[str] = [ents[nodes[0]]]
            for s, v in zip(steps, nodes[1:]):
                t += [self.labels[s], ents[v]]
            out.append(tuple(t))
        return out

    def first_per_fact(self) -> npt.NDArray[np.int64]:
        """Positions of the first path of each distinct inferred fact, in sample order."""
        rows = np.column_stack([self.nodes[:, 0], self.steps, self.nodes[:, -1]])
        if not len(rows):
            return np.zeros(0, dtype=np.int64)
        _, first = np.unique(rows, axis=0, return_index=True)
        return np.sort(first).astype(np.int64)

    def inferred_facts(
        self,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Distinct inferred facts of the sample as ``(head ids, step chains, tail ids)``."""
        keep = self.first_per_fact()
        return self.nodes[keep, 0], self.steps[keep], self.nodes[keep, -1]

    def __repr__(self) -> str:
        exact = "" if self.total_paths is None else f" of {self.total_paths}"
        return (
            f"PathSample({len(self)}{exact} {self.hops}-hop paths, "
            f"{'directed' if self.directed else 'undirected'}, {self.draws} walks drawn)"
        )


def _row_keys(rows: npt.NDArray[np.int64], base: int) -> npt.NDArray[np.int64] | None:
    """Encode each row as one int64 (``None`` if it could overflow)."""
    if base ** rows.shape[1] >= 2**63:
        return None
    key = np.zeros(len(rows), dtype=np.int64)
    for j in range(rows.shape[1]):
        key = key * base + rows[:, j]
    return key


def _first_of_keys(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Indices of the first occurrence of each distinct key, in order of appearance.

    A sort, a run test and the smallest position per run: faster here than
    ``np.unique``'s hash table or a stable sort; a mask puts the positions in order.
    """
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(keys)
    sk = keys[order]
    first = np.ones(len(sk), dtype=bool)
    np.not_equal(sk[1:], sk[:-1], out=first[1:])
    taken = np.zeros(len(keys), dtype=bool)
    taken[np.minimum.reduceat(order, np.flatnonzero(first))] = True
    return np.flatnonzero(taken)


def _first_unique(rows: npt.NDArray[np.int64], base: int) -> npt.NDArray[np.int64]:
    """Indices of the first occurrence of each distinct row, in order of appearance."""
    keys = _row_keys(rows, base)
    if keys is None:
        _, first = np.unique(rows, axis=0, return_index=True)
        return np.sort(first)
    return _first_of_keys(keys)


class _WalkSampler:
    """Draws n-step walks uniformly among all walks allowed by per-position label masks.

    The general sampler (any number of hops; :func:`sample_paths` uses it for 4 hops):
    per-edge cumulative walk counts, one ``searchsorted`` per step.
    """

    def __init__(self, idx: PathIndex, masks: list[npt.NDArray[np.bool_]]) -> None:
        n = idx.n
        self.idx = idx
        self.hops = len(masks)
        self.ptr = _indptr(idx.h, n)
        # walks[j][v]: walks of the remaining hops j.. starting at v; cum[j]: per-edge
        # cumulative weights (edges grouped by head), so one searchsorted picks a step
        count = np.ones(n, dtype=np.int64)
        approx = np.ones(n, dtype=np.float64)  # the same counts in float, to detect overflow
        self.cum: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)] * self.hops
        self.walks: list[npt.NDArray[np.int64]] = [count] * (self.hops + 1)
        for j in range(self.hops - 1, -1, -1):
            ok = masks[j][idx.lab]
            w = np.where(ok, count[idx.t], 0).astype(np.int64)
            wf = np.where(ok, approx[idx.t], 0.0)
            _check_walks(float(wf.sum()), self.hops)
            cum = np.zeros(len(w) + 1, dtype=np.int64)
            np.cumsum(w, out=cum[1:])
            count = cum[self.ptr[1:]] - cum[self.ptr[:-1]]
            cumf = np.concatenate([[0.0], np.cumsum(wf)])
            approx = cumf[self.ptr[1:]] - cumf[self.ptr[:-1]]
            self.cum[j] = cum
            self.walks[j] = count
        self.start_cum = np.cumsum(self.walks[0])
        self.total = int(self.start_cum[-1]) if n else 0
        self.keep_rate = 1.0

    def draw(
        self, rng: np.random.Generator, size: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """``size`` uniform walks as (nodes (size, hops+1), edge ids (size, hops))."""
        idx = self.idx
        nodes = np.empty((size, self.hops + 1), dtype=np.int64)
        edges = np.empty((size, self.hops), dtype=np.int64)
        u = rng.integers(0, self.total, size=size)
        v = np.searchsorted(self.start_cum, u, side="right")
        nodes[:, 0] = v
        for j in range(self.hops):
            cum = self.cum[j]
            x = rng.integers(0, self.walks[j][v])  # walks[j][v] > 0 along a drawn walk
            e = np.searchsorted(cum, cum[self.ptr[v]] + x, side="right") - 1
            edges[:, j] = e
            v = idx.t[e]
            nodes[:, j + 1] = v
        return nodes, edges

    def sample(
        self, rng: np.random.Generator, size: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The simple paths among ``size`` uniform walks: ``(nodes, edges)``."""
        nodes, edges = self.draw(rng, size)
        ok = _simple(nodes)
        return nodes[ok], edges[ok]


def _check_walks(total: float, hops: int) -> None:
    """Refuse walk counts that 64-bit integers cannot hold (``total`` counted in float)."""
    if total >= 2.0**62:
        raise ValueError(
            f"the graph has about {total:.3g} {hops}-step walks, more than 64-bit counts "
            "hold; restrict relations or use fewer hops"
        )


class _AliasTable:
    """Exact integer alias table: uniform draws of ``(item, offset)``, ``0 <= offset < w[item]``.

    Every pair ``(i, o)`` with ``0 <= o < w[i]`` comes out with the same probability, by
    integer arithmetic alone (no float probabilities, so no rounding bias), in O(1) per
    draw: one random integer ``y``, ``bucket, x = divmod(y, C)``, and one comparison that
    picks the bucket's own item or its alias. An item's ``w[i]`` units are split over a
    few buckets as contiguous *pieces* of its offset range, so the offset is ``x`` plus the
    piece's base.

    ``nb = N + 1`` buckets hold ``C`` units each: the weights scaled by ``s`` (each offset
    owns ``s`` consecutive units; ``s > 1`` only when the weights are so small that the
    rounding below would waste many draws) plus a dummy item ``N`` of the
    ``nb * C - s * sum(w) < nb`` units left over. Draws that land on the dummy are dropped,
    which keeps the rest exactly uniform.

    Construction is a vectorized form of Vose's sweep: heavy items (``>= C`` units) fill
    the light buckets in order, and a heavy item that falls below ``C`` units is itself
    filled by the next heavy one. Prefix sums of the light deficits and heavy surpluses
    give every bucket its alias and piece offsets without a loop.
    """

    def __init__(self, w: npt.NDArray[np.int64]) -> None:
        N = len(w)
        total = int(w.sum())
        s = 1 if total >= 64 * (N + 1) else -(-64 * (N + 1) // max(total, 1))
        nb = N + 1
        C = max(1, -(-(s * total) // nb))
        self.num_items, self.scale, self.buckets, self.capacity = N, s, nb, C
        self.keep_rate = s * total / (nb * C)
        mass = np.append(w * s, nb * C - s * total)
        light = np.flatnonzero(mass < C)
        heavy = np.flatnonzero(mass >= C)  # never empty: the mean mass is C
        a = len(light)
        surplus = mass[heavy] - C
        sl = np.zeros(a + 1, dtype=np.int64)  # sl[q]: deficit of the first q light buckets
        np.cumsum(C - mass[light], out=sl[1:])
        ss = np.cumsum(surplus)  # ss[j]: surplus of heavy items 0..j
        # heavy j fills light buckets while what it filled so far is <= its surplus: it
        # stops after the first light bucket q with sl[q] > ss[j], then lacks sl[q] - ss[j]
        p = np.searchsorted(sl, ss, side="right")
        pc = np.minimum(p, a)
        short = np.where(p <= a, sl[pc] - ss, 0)
        thr = np.empty(nb, dtype=np.int64)  # units of the bucket's own item
        alias = np.empty(nb, dtype=np.int64)
        own = np.zeros(nb, dtype=np.int64)  # offset of the own item's piece
        base = np.empty(nb, dtype=np.int64)  # offset of the alias's piece, minus thr
        j = np.searchsorted(pc, np.arange(1, a + 1), side="left")  # the heavy filling q
        thr[light] = mass[light]
        alias[light] = heavy[j]
        base[light] = sl[:-1] - (ss - surplus)[j] - mass[light]
        # heavy j's pieces, in offset order: the short[j-1] units in heavy j-1's bucket,
        # the light buckets it fills, its own bucket's C - short[j] units
        thr[heavy] = C - short
        own[heavy] = surplus + short
        alias[heavy] = np.where(short > 0, np.append(heavy[1:], heavy[-1]), heavy)
        base[heavy] = -thr[heavy]
        self.table = np.column_stack([thr, alias, own, base])

    @property
    def units(self) -> int:
        """Number of units ``y`` (draws are uniform over ``range(units)``)."""
        return self.buckets * self.capacity

    def lookup(
        self, y: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """``(item, offset)`` of units ``y`` (item ``N``, the dummy: offset meaningless)."""
        bucket, x = np.divmod(y, self.capacity)
        row = np.take(self.table, bucket, axis=0)
        lo = x < row[:, 0]
        item = np.where(lo, bucket, row[:, 1])
        off = x + np.where(lo, row[:, 2], row[:, 3])
        if self.scale > 1:
            off //= self.scale
        return item, off

    def draw(
        self, rng: np.random.Generator, size: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """``size`` uniform draws as ``(item, offset)``, those of the dummy dropped."""
        item, off = self.lookup(rng.integers(0, self.units, size=size))
        real = item != self.num_items
        if not real.all():
            item, off = item[real], off[real]
        return item, off


class _MiddleSampler:
    """Uniform 2- and 3-step walks drawn from their middle, by alias table and CSR offsets.

    A 2-step walk ``a -e1-> m -e2-> b`` is a middle node ``m`` and one of its
    ``in(m) * out(m)`` (allowed in-edge, allowed out-edge) pairs; a 3-step walk
    ``a -e1-> u -e2-> v -e3-> b`` is a middle edge ``e2`` and one of its ``in(u) * out(v)``
    pairs. So a uniform walk is a uniform ``(item, offset)`` of the items weighted by those
    products (:class:`_AliasTable`); ``divmod(offset, out)`` then indexes the in-edge and
    the out-edge directly in the CSR lists of allowed edges (no search). Rejecting walks
    that repeat a node leaves the simple paths exactly uniform.

    Built once per graph, direction and relation restriction (see :func:`_cached_sampler`).
    """

    def __init__(self, idx: PathIndex, masks: list[npt.NDArray[np.bool_]]) -> None:
        n = idx.n
        self.idx = idx
        self.hops = hops = len(masks)
        # allowed first edges grouped by tail, allowed last edges grouped by head
        first = np.flatnonzero(masks[0][idx.lab])
        self.in_e = first[bucket_argsort(idx.t[first], n)]
        in_ptr = _indptr(idx.t[self.in_e], n)
        last_ok = masks[-1][idx.lab]
        self.out_e: npt.NDArray[np.int64] | None = None  # None: every edge (edge id = position)
        if last_ok.all():
            out_ptr = _indptr(idx.h, n)
        else:
            self.out_e = np.flatnonzero(last_ok)
            out_ptr = _indptr(idx.h[self.out_e], n)
        din, dout = np.diff(in_ptr), np.diff(out_ptr)
        if hops == 2:
            u = v = np.arange(n, dtype=np.int64)
        else:
            mid = np.flatnonzero(masks[1][idx.lab])
            u, v = idx.h[mid], idx.t[mid]
        _check_walks(float(np.dot(din[u].astype(np.float64), dout[v])), hops)
        w = din[u] * dout[v]
        keep = np.flatnonzero(w > 0)
        w, u, v = w[keep], u[keep], v[keep]
        self.total = int(w.sum())
        self.alias = _AliasTable(w)
        self.keep_rate = self.alias.keep_rate
        # per item: out-degree of v, where the in-edges of u and the out-edges of v start
        self.dout, self.in_start, self.out_start = dout[v], in_ptr[u], out_ptr[v]
        self.u, self.v = u, v
        self.mid = mid[keep] if hops == 3 else None

    @property
    def nbytes(self) -> int:
        """Memory held by the sampler's own tables (not the shared path index)."""
        own = [self.in_e, self.out_e, self.dout, self.in_start, self.out_start, self.u]
        own += [self.alias.table, self.v if self.mid is not None else None, self.mid]
        return sum(a.nbytes for a in own if a is not None)

    def sample(
        self, rng: np.random.Generator, size: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The simple paths among ``size`` uniform walks: ``(nodes, edges)``.

        The arrays are column-major (each column is filled contiguously).
        """
        idx = self.idx
        item, off = self.alias.draw(rng, size)
        dv = self.dout[item]
        i = off // dv
        e1 = self.in_e[self.in_start[item] + i]
        e3 = self.out_start[item] + (off - i * dv)
        if self.out_e is not None:
            e3 = self.out_e[e3]
        a, b, u = idx.h[e1], idx.t[e3], self.u[item]
        node_cols: list[npt.NDArray[np.int64]] = [a, u, b]
        if self.mid is None:
            ok = a != b
        else:
            v = self.v[item]
            ok = (a != v) & (b != u) & (a != b)
            node_cols.insert(2, v)
        k = int(np.count_nonzero(ok))
        nodes = np.empty((k, self.hops + 1), dtype=np.int64, order="F")
        edges = np.empty((k, self.hops), dtype=np.int64, order="F")
        for j, col in enumerate(node_cols):
            nodes[:, j] = col[ok]
        edges[:, 0] = e1[ok]
        edges[:, -1] = e3[ok]
        if self.mid is not None:
            edges[:, 1] = self.mid[item[ok]]
        return nodes, edges


_Sampler = _WalkSampler | _MiddleSampler

#: 2- and 3-hop samplers kept per graph: the restrictions used last, at most this many and
#: (beyond the newest) at most _SAMPLER_BYTES of tables. A 3-hop sampler holds about
#: 90 bytes per allowed edge, a 2-hop one a few arrays as long as the edges and the nodes.
_SAMPLER_CACHE = 4
_SAMPLER_BYTES = 1 << 30


def _cached_sampler(
    kg: KnowledgeGraph, idx: PathIndex, masks: list[npt.NDArray[np.bool_]], directed: bool
) -> _Sampler:
    """The sampler for these masks, built once per graph (the graph is immutable)."""
    hops = len(masks)
    if hops not in (2, 3):
        return _WalkSampler(idx, masks)
    cache: dict[tuple[object, ...], _MiddleSampler] = kg._cached("path_samplers", dict)
    key = (directed, hops, *(m.tobytes() for m in masks))
    sampler = cache.pop(key, None)
    if sampler is None:
        sampler = _MiddleSampler(idx, masks)
    cache[key] = sampler  # most recently used last
    while len(cache) > 1 and (
        len(cache) > _SAMPLER_CACHE or sum(s.nbytes for s in cache.values()) > _SAMPLER_BYTES
    ):
        cache.pop(next(iter(cache)), None)
    return sampler


def _simple(nodes: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Rows whose nodes are pairwise distinct (consecutive ones always differ)."""
    ok = np.ones(len(nodes), dtype=bool)
    k = nodes.shape[1]
    for a in range(k):
        for b in range(a + 2, k):
            ok &= nodes[:, a] != nodes[:, b]
    return ok


def sample_paths(
    kg: KnowledgeGraph,
    hops: int = 2,
    k: int = 1000,
    seed: int | None = 0,
    *,
    relations: RelationSpec = None,
    unique: bool = True,
    directed: bool = True,
) -> PathSample:
    """Sample simple (cycle-free) paths exactly uniformly.

    Walks are drawn uniformly among all walks of ``hops`` steps that obey ``relations``,
    and walks that repeat a node are rejected: what is accepted is uniform over simple
    paths. (A plain random walk is not uniform: it favours paths through low-degree
    nodes.) For 2 and 3 hops a walk is drawn from its middle: the middle node ``m``
    (2 hops) or middle edge ``u -> v`` (3 hops) from an exact integer alias table weighted
    by ``in(m) * out(m)`` or ``in(u) * out(v)`` allowed edges, then one of those
    (in-edge, out-edge) pairs by its index into the adjacency lists; the tables are built
    on the first call and cached on the graph. 4-hop walks are drawn step by step from the
    start, each step weighted by the walks remaining from the next node.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph.
    hops : {2, 3, 4}
        Path length; 2-hop paths come back as :class:`FiveTuple` records.
    k : int
        Number of paths.
    seed : int or None
        Random seed: the same seed gives the same sample.
    relations : str or sequence, optional
        A relation label restricts the first hop; a sequence of ``hops`` labels (``None``
        for "any") restricts the whole chain. In undirected mode inverse steps are named
        ``"r^-1"``.
    unique : bool
        Return ``k`` distinct paths (sampling without replacement). With ``False`` paths
        are independent draws and may repeat.
    directed : bool
        ``False`` also walks edges backwards as ``r^-1``.

    Returns
    -------
    PathSample
        A sequence of :class:`FiveTuple` / :class:`Chain` backed by integer arrays.

    Raises
    ------
    ValueError
        ``hops`` outside 2..4, ``k < 0``, no path matches, or (``unique=True``) ``k``
        exceeds the number of distinct simple paths — the message says how many exist.

    Examples
    --------
    >>> import kgaug
    >>> kg = kgaug.datasets.load_example()
    >>> s = kgaug.sample_paths(kg, hops=2, k=3, seed=0, relations="director")
    >>> s[0].rel1
    'director'
    """
    if not isinstance(kg, KnowledgeGraph):
        raise TypeError(f"expected a KnowledgeGraph, got {type(kg).__name__}")
    n = check_hops(hops, SAMPLE_HOPS)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    directed = check_bool(directed, "directed")
    masks = _allowed_labels(kg, n, relations, directed)
    idx = path_index(kg, directed)
    labels = chain_labels(kg, directed)
    rng = np.random.default_rng(check_seed(seed, allow_none=True))
    sampler = _cached_sampler(kg, idx, masks, directed)
    total_paths: int | None = None
    if n in EXACT_HOPS:
        cc = chain_counts(kg, n, count="paths", directed=directed, progress=False)
        ok = np.all([masks[j][cc.chains[:, j]] for j in range(n)], axis=0)
        total_paths = int(cc.counts[ok].sum())
    what = "" if relations is None else f" with relations={relations!r}"

    def result(
        nodes: npt.NDArray[np.int64], edges: npt.NDArray[np.int64], draws: int
    ) -> PathSample:
        return PathSample(
            kg,
            nodes,
            idx.lab[edges],
            labels,
            directed=bool(directed),
            total_paths=total_paths,
            draws=draws,
            seed=seed,
        )

    if k == 0:
        return result(np.zeros((0, n + 1), dtype=np.int64), np.zeros((0, n), dtype=np.int64), 0)
    if sampler.total == 0 or total_paths == 0:
        raise ValueError(f"the graph has no simple {n}-hop paths{what}")
    if unique:
        if total_paths is not None and k > total_paths:
            raise ValueError(
                f"k={k} exceeds the {total_paths} distinct simple {n}-hop paths{what}; lower "
                "k or pass unique=False to sample with replacement"
            )
        if k > sampler.total:
            raise ValueError(
                f"k={k} exceeds the {sampler.total} {n}-step walks{what}, so there are fewer "
                "than k distinct simple paths; lower k or pass unique=False"
            )
        if total_paths is not None and 2 * k > total_paths:
            # most of all paths: list them and draw without replacement (exact and fast,
            # where rejection would spend its time collecting the last coupons)
            nodes, edges = _enumerate(idx, masks, _indptr(idx.h, idx.n))
            pick = rng.permutation(len(nodes))[:k]
            return result(nodes[pick], edges[pick], 0)
    acc_nodes: list[npt.NDArray[np.int64]] = []
    acc_edges: list[npt.NDArray[np.int64]] = []
    taken: list[npt.NDArray[np.int64]] = []  # keys of the paths taken (unique=True)
    have = draws = stale = 0
    # simple paths per draw: known exactly for 2 and 3 hops, learnt as we go for 4
    per_draw = None if total_paths is None else total_paths / sampler.total * sampler.keep_rate
    while have < k:
        need = float(k - have)
        if per_draw is not None and total_paths is not None:
            if unique:  # expected draws of paths until `need` unseen ones come up
                need = -total_paths * math.log1p(-need / (total_paths - have))
            want = (need + 4 * math.sqrt(need) + 16) / per_draw
        elif draws:
            want = need / max(have / draws, 1e-3) * 1.2
        else:
            want = k * 1.3
        batch = int(min(max(1024, want), 1 << 22))
        nodes, edges = sampler.sample(rng, batch)
        draws += batch
        if unique:
            keys = _row_keys(edges, max(idx.m, 1))
            if keys is None:  # too many edges to pack a path into one int64
                all_edges = np.concatenate([*acc_edges, edges])
                all_nodes = np.concatenate([*acc_nodes, nodes])
                keep = _first_unique(all_edges, max(idx.m, 1))[:k]
                gained = len(keep) - have
                acc_nodes, acc_edges = [all_nodes[keep]], [all_edges[keep]]
            else:
                cand = _first_of_keys(keys)
                if taken:
                    seen = np.sort(np.concatenate(taken))
                    pos = np.minimum(np.searchsorted(seen, keys[cand]), len(seen) - 1)
                    cand = cand[seen[pos] != keys[cand]]
                take = cand[: k - have]
                gained = len(take)
                acc_nodes.append(nodes[take])
                acc_edges.append(edges[take])
                taken.append(keys[take])
        else:
            gained = min(len(nodes), k - have)
            acc_nodes.append(nodes[:gained])
            acc_edges.append(edges[:gained])
        have += gained
        stale = 0 if gained else stale + 1
        if stale >= 50 and total_paths is None:
            raise ValueError(
                f"found only {have} {'distinct ' if unique else ''}simple {n}-hop paths{what} "
                f"after {draws} walks; the graph probably has fewer than k={k}"
            )
    if len(acc_nodes) == 1:
        return result(acc_nodes[0], acc_edges[0], draws)
    return result(np.concatenate(acc_nodes), np.concatenate(acc_edges), draws)


def _enumerate(
    idx: PathIndex, masks: list[npt.NDArray[np.bool_]], ptr: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every simple path allowed by ``masks``, by edge sequence (``ptr``: CSR of edges by head)."""
    n = len(masks)
    ok = [masks[j][idx.lab] for j in range(n)]
    edges = np.flatnonzero(ok[0])[:, None]
    for j in range(1, n):
        last = idx.t[edges[:, -1]]
        row, (k,) = expand_products(ptr[last + 1] - ptr[last])
        nxt = ptr[last[row]] + k
        keep = ok[j][nxt]
        edges = np.column_stack([edges[row][keep], nxt[keep]])
    nodes = np.column_stack([idx.h[edges[:, 0]], idx.t[edges]])
    simple = _simple(nodes)
    return nodes[simple], edges[simple]


def enumerate_paths(
    kg: KnowledgeGraph,
    hops: int = 2,
    *,
    relations: RelationSpec = None,
    directed: bool = True,
    limit: int = 50_000_000,
) -> PathSample:
    """All simple ``hops``-hop paths, in a deterministic order (by edge sequence).

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph.
    hops : {2, 3}
        Path length.
    relations : str or sequence, optional
        Restriction of the first hop or of the whole chain, as in :func:`sample_paths`.
    directed : bool
        ``False`` also walks edges backwards as ``r^-1``.
    limit : int
        Refuse to enumerate more walks than this (memory); use :func:`sample_paths`.

    Returns
    -------
    PathSample
        Every path exactly once (``total_paths`` equals its length).

    Raises
    ------
    ValueError
        More than ``limit`` walks would have to be listed.
    """
    if not isinstance(kg, KnowledgeGraph):
        raise TypeError(f"expected a KnowledgeGraph, got {type(kg).__name__}")
    n = check_hops(hops)
    directed = check_bool(directed, "directed")
    masks = _allowed_labels(kg, n, relations, directed)
    idx = path_index(kg, directed)
    labels = chain_labels(kg, directed)
    sampler = _WalkSampler(idx, masks)
    if sampler.total > limit:
        raise ValueError(
            f"{sampler.total:,} {n}-hop walks exceed limit={limit:,}; raise the limit "
            "(max_walks= in the dataset builders) or sample with kgaug.sample_paths"
        )
    nodes, edges = _enumerate(idx, masks, sampler.ptr)
    return PathSample(
        kg,
        nodes,
        idx.lab[edges],
        labels,
        directed=directed,
        total_paths=len(nodes),
        draws=0,
        seed=None,
    )

"""Multi-hop paths over a knowledge graph: exact counting per relation chain.

An *n-hop path* is ``h = v0 -r1-> v1 ... -rn-> vn = t`` with all ``v_i`` distinct (simple,
cycle-free); an *n-hop inferred fact* is a distinct ``(h, r1, ..., rn, t)`` for which at
least one such path exists. :func:`chain_counts` counts either, exactly, per relation
chain ``(r1, ..., rn)``, with sparse matrix algebra (see :mod:`kgaug._counting` for the
derivation). Self-loops are facts but never extend a path. With ``directed=False`` every
edge is also walked backwards under the inverse relation ``r^-1``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from kgaug._counting import chain_tensor
from kgaug._index import path_index
from kgaug.kg import KnowledgeGraph

__all__ = ["EXACT_HOPS", "ChainCounts", "CountMode", "chain_counts", "inverse_label"]

CountMode = Literal["facts", "paths"]

#: Chain lengths that :func:`chain_counts` and :func:`kgaug.compute_phi` count exactly.
EXACT_HOPS = (2, 3)


def inverse_label(relation: str) -> str:
    """Label of the inverse relation used in undirected mode (``"r^-1"``)."""
    return f"{relation}^-1"


def _check_hops(hops: object) -> int:
    if isinstance(hops, bool) or not isinstance(hops, (int, np.integer)):
        raise TypeError(f"hops must be an int, got {type(hops).__name__} {hops!r}")
    if int(hops) not in EXACT_HOPS:
        raise ValueError(
            f"hops={hops}: exact counting supports {EXACT_HOPS[0]}- and {EXACT_HOPS[-1]}-hop "
            "chains (the number of longer chains explodes combinatorially); estimate longer "
            "chains by sampling simple paths instead"
        )
    return int(hops)


def _check_count(count: object) -> CountMode:
    if count == "facts":
        return "facts"
    if count == "paths":
        return "paths"
    raise ValueError(f"count must be 'facts' or 'paths', got {count!r}")


class ChainCounts:
    """Exact counts of simple ``hops``-hop paths or inferred facts per relation chain.

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
    tensor : ndarray of int64, shape ``(len(labels),) * hops``
        ``tensor[i, j, ...]`` counts the chain ``(labels[i], labels[j], ...)``.
    """

    def __init__(
        self,
        tensor: npt.NDArray[np.int64],
        labels: tuple[str, ...],
        hops: int,
        count: CountMode,
        directed: bool,
        num_relations: int,
    ) -> None:
        self.tensor = tensor
        self.tensor.setflags(write=False)
        self.labels = labels
        self.hops = hops
        self.count = count
        self.directed = directed
        self._num_relations = num_relations

    @property
    def total(self) -> int:
        """Sum over all chains (``|F_n|`` for facts)."""
        return int(self.tensor.sum())

    def by_relation(self) -> npt.NDArray[np.int64]:
        """Tensor over *relations* ``(R,) * hops``, inverse labels folded onto their relation."""
        if self.directed:
            return self.tensor
        R = self._num_relations
        t = self.tensor.reshape((2, R) * self.hops)
        return np.asarray(t.sum(axis=tuple(range(0, 2 * self.hops, 2))), dtype=np.int64)

    def __getitem__(self, chain: tuple[str, ...]) -> int:
        if len(chain) != self.hops:
            raise KeyError(f"expected a chain of {self.hops} labels, got {chain!r}")
        index = {lab: i for i, lab in enumerate(self.labels)}
        try:
            pos = tuple(index[c] for c in chain)
        except KeyError as e:
            from kgaug.errors import UnknownLabelError

            raise UnknownLabelError("relation", e.args[0], self.labels) from None
        return int(self.tensor[pos])

    def top(self, k: int = 10) -> list[tuple[tuple[str, ...], int]]:
        """The ``k`` most frequent chains, largest first (ties in label order)."""
        flat = self.tensor.ravel()
        nz = np.flatnonzero(flat)
        order = nz[np.lexsort((nz, -flat[nz]))][:k]
        L = len(self.labels)
        out = []
        for f in order.tolist():
            pos = np.unravel_index(f, (L,) * self.hops)
            out.append((tuple(self.labels[int(i)] for i in pos), int(flat[f])))
        return out

    def to_dict(self) -> dict[tuple[str, ...], int]:
        """All non-zero chains and their counts."""
        return dict(self.top(int(np.count_nonzero(self.tensor))))

    def __repr__(self) -> str:
        return (
            f"ChainCounts(hops={self.hops}, count={self.count!r}, "
            f"directed={self.directed}, chains={int(np.count_nonzero(self.tensor))}, "
            f"total={self.total})"
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
    n = _check_hops(hops)
    mode = _check_count(count)
    idx = path_index(kg, bool(directed))
    tensor = chain_tensor(idx, n, mode, progress)
    labels = kg.relations
    if not directed:
        labels = labels + tuple(inverse_label(r) for r in kg.relations)
    return ChainCounts(tensor, labels, n, mode, bool(directed), kg.num_relations)

"""The ID/OOD split of a composition dataset, counted without building its examples.

:func:`composition_split` is the exact kernel of :func:`kgaug.dataset.build_composition_dataset`
(steps 1-5 of its docstring): which atomic facts are OOD, which queries are ambiguous,
mixed, ID or OOD, which ID queries are test examples and which form the training pool.
Augmentation calls it to know, before any example is built, whether a dataset of a given
phi can be built from a graph (``augment(..., dataset_phi=...)``); the builder calls it
too, so both count the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from kgaug.kg import KnowledgeGraph
from kgaug.paths import enumerate_paths
from kgaug.schema import learn_schema

__all__ = ["ComparisonSplit", "CompositionSplit", "comparison_split", "composition_split"]

IntArray = npt.NDArray[np.int64]

_ID, _OOD, _MIXED, _AMBIGUOUS = 0, 1, 2, 3


def _rngs(seed: int, k: int) -> list[np.random.Generator]:
    """Independent streams, so that e.g. ``phi`` does not change which facts are OOD."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(k)]


def _group(rows: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct rows in lexicographic order, and for each input row its group index."""
    m = len(rows)
    if m == 0:
        return rows[:0], np.zeros(0, dtype=np.int64)
    order = np.lexsort(rows.T[::-1])
    s = rows[order]
    new = np.ones(m, dtype=bool)
    new[1:] = np.any(s[1:] != s[:-1], axis=1)
    gid = np.empty(m, dtype=np.int64)
    gid[order] = np.cumsum(new) - 1
    return s[new], gid


def _fact_positions(kg: KnowledgeGraph, h: IntArray, r: IntArray, t: IntArray) -> IntArray:
    """Row of each ``(h, r, t)`` in the graph's canonical fact arrays (all must exist)."""
    N, R = kg.num_entities, kg.num_relations
    if N * N * R < 2**62:
        keys = (kg.head_ids * R + kg.relation_ids) * N + kg.tail_ids  # ascending
        pos = np.searchsorted(keys, (h * R + r) * N + t)
        return np.asarray(pos, dtype=np.int64)
    facts = np.column_stack([kg.head_ids, kg.relation_ids, kg.tail_ids])  # pragma: no cover
    _, gid = _group(np.vstack([facts, np.column_stack([h, r, t])]))  # pragma: no cover
    of_group = np.full(int(gid.max()) + 1, -1, dtype=np.int64)  # pragma: no cover
    of_group[gid[: len(facts)]] = np.arange(len(facts))  # pragma: no cover
    return of_group[gid[len(facts) :]]  # pragma: no cover


def _path_facts(kg: KnowledgeGraph, nodes: IntArray, steps: IntArray) -> IntArray:
    """Fact row of every step of every path; inverse steps (``label >= R``) read backwards."""
    R = kg.num_relations
    out = np.empty(steps.shape, dtype=np.int64)
    for j in range(steps.shape[1]):
        s, a, b = steps[:, j], nodes[:, j], nodes[:, j + 1]
        inv = s >= R
        out[:, j] = _fact_positions(
            kg, np.where(inv, b, a), np.where(inv, s - R, s), np.where(inv, a, b)
        )
    return out


@dataclass
class CompositionSplit:
    """Every array of a composition split (see :func:`composition_split`)."""

    M: int
    n_ood: int
    n_id: int
    ood: npt.NDArray[np.bool_]
    paths: Any
    nodes: IntArray
    steps: IntArray
    P: int
    path_cat: IntArray
    worst: IntArray
    fact_cat: IntArray
    rep: IntArray
    ambiguous_q: npt.NDArray[np.bool_]
    test_id_f: IntArray
    pool: IntArray
    ood_f_idx: IntArray

    def target(self, phi: float) -> int:
        """Training examples a dataset of ``phi`` needs: ``round(phi * n_id)``."""
        return round(phi * self.n_id)


def composition_split(
    kg: KnowledgeGraph,
    *,
    hops: int = 2,
    ood_fraction: float = 0.05,
    test_id_fraction: float = 0.1,
    seed: int = 0,
    directed: bool = True,
    ambiguous: Literal["drop", "keep"] = "drop",
    max_walks: int = 50_000_000,
) -> CompositionSplit:
    """The split :func:`~kgaug.dataset.build_composition_dataset` makes (arguments as there).

    Raises
    ------
    ValueError
        ``ood_fraction`` leaves no ID atomic fact.
    """
    r_ood, r_test, _, _ = _rngs(seed, 4)
    n, d = hops, directed
    ood_f, tid_f = ood_fraction, test_id_fraction

    M = kg.num_facts
    n_ood = round(ood_f * M)
    n_id = M - n_ood
    if n_id == 0:
        raise ValueError(f"ood_fraction={ood_f:g} leaves no ID atomic fact among {M}")
    ood = np.zeros(M, dtype=bool)
    ood[r_ood.choice(M, size=n_ood, replace=False)] = True

    paths = enumerate_paths(kg, n, directed=d, limit=max_walks)
    nodes = np.asarray(paths.nodes, dtype=np.int64)
    steps = np.asarray(paths.steps, dtype=np.int64)
    P = len(nodes)
    pf = _path_facts(kg, nodes, steps)  # (P, n) fact rows
    k_ood = ood[pf].sum(axis=1)
    path_cat = np.where(k_ood == 0, _ID, np.where(k_ood == n, _OOD, _MIXED))
    worst = (
        kg.provenance_codes[pf].max(axis=1).astype(np.int64) if P else np.zeros(0, dtype=np.int64)
    )

    facts, fact_of_path = _group(np.column_stack([nodes[:, 0], steps, nodes[:, -1]]))
    _, query_of_fact = _group(facts[:, :-1])
    nq = int(query_of_fact.max()) + 1 if len(facts) else 0
    answers = np.bincount(query_of_fact, minlength=nq)
    has = np.zeros((nq, 3), dtype=bool)
    has[query_of_fact[fact_of_path], path_cat] = True
    q_cat = np.where(
        has[:, _MIXED] | (has[:, _ID] & has[:, _OOD]), _MIXED, np.where(has[:, _OOD], _OOD, _ID)
    )
    ambiguous_q = answers > 1
    if ambiguous == "drop":
        q_cat[ambiguous_q] = _AMBIGUOUS
    fact_cat = q_cat[query_of_fact]

    # representative path per fact: most trustworthy, then first in enumeration order
    order = np.lexsort((np.arange(P), worst, fact_of_path))
    first = np.ones(P, dtype=bool)
    first[1:] = fact_of_path[order][1:] != fact_of_path[order][:-1]
    rep = order[first]  # indexed by fact

    id_q = np.flatnonzero(q_cat == _ID)
    test_q = np.zeros(nq, dtype=bool)
    test_q[id_q[r_test.random(len(id_q)) < tid_f]] = True
    is_id = fact_cat == _ID
    test_id_f = np.flatnonzero(is_id & test_q[query_of_fact])
    pool = np.flatnonzero(is_id & ~test_q[query_of_fact])
    ood_f_idx = np.flatnonzero(fact_cat == _OOD)

    return CompositionSplit(
        M=M, n_ood=n_ood, n_id=n_id, ood=ood, paths=paths, nodes=nodes, steps=steps, P=P,
        path_cat=path_cat, worst=worst, fact_cat=fact_cat, rep=rep, ambiguous_q=ambiguous_q,
        test_id_f=test_id_f, pool=pool, ood_f_idx=ood_f_idx,
    )  # fmt: skip


# ---------------------------------------------------------------------------- comparison
def _parse_number(label: str, attribute: str) -> float:
    try:
        x = float(label)
    except ValueError:
        x = math.nan
    if not math.isfinite(x):
        raise ValueError(
            f"style='order' compares values as numbers, but attribute {attribute!r} has the "
            f"value {label!r}, which is not a finite number; use style='same' or other "
            "attributes"
        )
    return x


def _numeric_values(kg: KnowledgeGraph, rel: int) -> dict[int, float]:
    """Numeric value per distinct tail id of ``rel`` (ValueError on the first non-number)."""
    tails = np.unique(kg.tail_ids[kg.relation_ids == rel]).tolist()
    label = kg.relations[rel]
    return {t: _parse_number(kg.entities[t], label) for t in tails}


def _is_numeric(kg: KnowledgeGraph, rel: int) -> bool:
    try:
        _numeric_values(kg, rel)
    except ValueError:
        return False
    return True


def _comparison_attributes(
    kg: KnowledgeGraph, attributes: Iterable[str] | None, style: str
) -> list[int]:
    schema = learn_schema(kg)
    if attributes is None:
        rels = [
            i
            for i, r in enumerate(kg.relations)
            if schema[r].functional and schema[r].facts >= 2 and not schema[r].inverse_functional
        ]
        if style == "order":
            rels = [i for i in rels if _is_numeric(kg, i)]
        if not rels:
            need = " with numeric values" if style == "order" else ""
            raise ValueError(
                "no relation qualifies as a comparison attribute: the default needs a "
                f"functional relation whose values are shared by several entities{need}; "
                "pass attributes=[...]"
            )
        return rels
    if isinstance(attributes, str):
        raise TypeError(f"attributes must be a list of relation labels, got {attributes!r}")
    names = list(attributes)
    if not names:
        raise ValueError("attributes is empty")
    if len(set(names)) != len(names):
        raise ValueError(f"attributes repeats a relation: {names!r}")
    out = []
    for a in names:
        i = kg.relation_id(a)  # UnknownLabelError with close matches
        if schema[a].facts < 2:
            raise ValueError(f"attribute {a!r} has {schema[a].facts} facts; comparisons need 2")
        if not schema[a].functional:
            mask = kg.relation_ids == i
            heads, c = np.unique(kg.head_ids[mask], return_counts=True)
            e = kg.entities[int(heads[np.argmax(c)])]
            raise ValueError(
                f"attribute {a!r} is not functional: entity {e!r} has {int(c.max())} values; "
                "a comparison needs one value per entity"
            )
        if style == "order":
            _numeric_values(kg, i)
        out.append(i)
    return out


def _pairs(m: int, max_pairs: int, rng: np.random.Generator) -> tuple[IntArray, IntArray, bool]:
    """Unordered pairs ``i < j`` of ``range(m)``: all, or ``max_pairs`` distinct sampled ones."""
    total = m * (m - 1) // 2
    if total <= 2 * max_pairs:
        i, j = np.triu_indices(m, k=1)
        i, j = i.astype(np.int64), j.astype(np.int64)
        if total <= max_pairs:
            return i, j, False
        keep = np.sort(rng.choice(total, size=max_pairs, replace=False))
        return i[keep], j[keep], True
    # rejection sampling: fewer than half of all pairs are wanted, so most draws are new
    keys = np.zeros(0, dtype=np.int64)
    while len(keys) < max_pairs:
        k = max_pairs - len(keys) + 64
        a = rng.integers(0, m, size=k, dtype=np.int64)
        b = rng.integers(0, m, size=k, dtype=np.int64)
        ok = a != b
        lo, hi = np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])
        keys = np.concatenate([keys, lo * m + hi])
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]
    keys = np.sort(keys[:max_pairs])
    return keys // m, keys % m, True


@dataclass
class ComparisonSplit:
    """Every array of a comparison split (see :func:`comparison_split`)."""

    attr_ids: list[int]
    fact_ood: npt.NDArray[np.bool_]
    num: npt.NDArray[np.float64]
    sampled: bool
    mixed: int
    n_id: int
    n_ood: int
    ux: IntArray
    uy: IntArray
    is_test: npt.NDArray[np.bool_]
    ox: IntArray
    oy: IntArray
    tails: IntArray
    style: str

    def same_value(self, f1: IntArray, f2: IntArray) -> npt.NDArray[np.bool_]:
        """Pairs of attribute facts with equal values."""
        if self.style == "same":
            return np.asarray(self.tails[f1] == self.tails[f2])
        return np.asarray(self.num[f1] == self.num[f2])

    def achievable(self, balance: bool) -> int:
        """Training examples the pool can give (both orders of each chosen pair)."""
        px, py = self.ux[~self.is_test], self.uy[~self.is_test]
        if not balance:
            return 2 * len(px)
        same = self.same_value(px, py)
        ws, wd = (1, 1) if self.style == "same" else (1, 2)
        n_same = int(np.count_nonzero(same))
        unit = min(n_same // ws, (len(px) - n_same) // wd)
        return 2 * unit * (ws + wd)

    def target(self, phi: float) -> int:
        """Training examples a dataset of ``phi`` needs: ``round(phi * n_id)``."""
        return round(phi * self.n_id)


def comparison_split(
    kg: KnowledgeGraph,
    *,
    attributes: Iterable[str] | None = None,
    style: str = "same",
    ood_fraction: float = 0.1,
    test_id_fraction: float = 0.1,
    seed: int = 0,
    max_pairs: int = 1_000_000,
) -> ComparisonSplit:
    """The split :func:`~kgaug.dataset.build_comparison_dataset` makes (arguments as there)."""
    attr_ids = _comparison_attributes(kg, attributes, style)
    r_split, r_pairs, r_test, _, _ = _rngs(seed, 5)
    ood_f, tid_f, mp = ood_fraction, test_id_fraction, max_pairs

    M = kg.num_facts
    fact_ood = np.zeros(M, dtype=bool)
    num = np.full(M, np.nan)  # numeric value per fact (style="order")
    id_pairs: list[tuple[IntArray, IntArray]] = []
    ood_pairs: list[tuple[IntArray, IntArray]] = []
    sampled = False
    mixed = 0
    n_id = n_ood = 0
    for a in attr_ids:
        sel = np.flatnonzero(kg.relation_ids == a)
        m = len(sel)
        k = round(ood_f * m)
        fact_ood[sel[r_split.choice(m, size=k, replace=False)]] = True
        if style == "order":
            values = _numeric_values(kg, a)
            num[sel] = [values[t] for t in kg.tail_ids[sel].tolist()]
        for group, out in ((sel[~fact_ood[sel]], id_pairs), (sel[fact_ood[sel]], ood_pairs)):
            i, j, smp = _pairs(len(group), mp, r_pairs)
            sampled |= smp
            out.append((group[i], group[j]))
        n_id += m - k
        n_ood += k
        mixed += 2 * (m - k) * k
    if n_id == 0:
        raise ValueError(f"ood_fraction={ood_f:g} leaves no ID entity for any attribute")

    def cat(parts: list[tuple[IntArray, IntArray]]) -> tuple[IntArray, IntArray]:
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    ux, uy = cat(id_pairs)
    is_test = r_test.random(len(ux)) < tid_f
    ox, oy = cat(ood_pairs)
    return ComparisonSplit(
        attr_ids=attr_ids, fact_ood=fact_ood, num=num, sampled=sampled, mixed=mixed,
        n_id=n_id, n_ood=n_ood, ux=ux, uy=uy, is_test=is_test, ox=ox, oy=oy,
        tails=kg.tail_ids, style=style,
    )  # fmt: skip

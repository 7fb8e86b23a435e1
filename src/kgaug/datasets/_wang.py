"""Synthetic knowledge graphs of Wang et al. (2024), "Grokked Transformers are Implicit Reasoners".

- :func:`wang_composition`: every entity has the same number of outgoing facts, each with a
  different relation and a uniformly random tail. Every ``(head, relation)`` has exactly one
  tail, so every multi-hop query ``(h, r1, ..., rn)`` has a unique answer.
- :func:`wang_comparison`: every entity has one value per attribute; values are small
  integers, so pairs of entities can be compared (``<``, ``=``, ``>``).

Feed them to :func:`kgaug.dataset.build_composition_dataset` and
:func:`kgaug.dataset.build_comparison_dataset` to get Wang et al.'s ID/OOD training sets.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kgaug.kg import KnowledgeGraph

__all__ = ["wang_comparison", "wang_composition"]

# random-key rows generated at once when choosing relation subsets (bounds memory)
_CHUNK_CELLS = 4_000_000


def _check_int(value: object, name: str, low: int) -> int:
    """An integer ``>= low`` (booleans and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def wang_composition(
    num_entities: int = 2000,
    num_relations: int = 200,
    facts_per_entity: int = 20,
    seed: int = 0,
) -> KnowledgeGraph:
    """Wang et al.'s composition KG: a fixed number of functional facts per entity.

    Every entity gets ``facts_per_entity`` outgoing facts whose relations are a uniformly
    random subset of the relations (so no relation repeats for one head) and whose tails
    are uniformly random entities other than the head. Each ``(head, relation)`` thus has
    exactly one tail and every 2-hop query ``(h, r1, r2)`` a unique answer. The defaults
    are the paper's (2,000 entities, 200 relations, 20 facts each: 40,000 atomic facts).

    Parameters
    ----------
    num_entities : int
        Number of entities, labelled ``"e0", "e1", ...`` (type ``"Entity"``); at least 2.
    num_relations : int
        Number of relations, labelled ``"r0", "r1", ...``; at least 1.
    facts_per_entity : int
        Outgoing facts per entity; at most ``num_relations``.
    seed : int
        Random seed; the same seed gives the same graph.

    Returns
    -------
    KnowledgeGraph
        ``num_entities * facts_per_entity`` facts, provenance ``"real"`` (the generated
        graph is the source; augmentation marks its own additions as synthetic).

    Raises
    ------
    ValueError
        An argument out of range, e.g. ``facts_per_entity > num_relations``.

    Examples
    --------
    >>> from kgaug.datasets import wang_composition
    >>> kg = wang_composition(100, 10, 3, seed=0)
    >>> kg.num_entities, kg.num_relations, kg.num_facts
    (100, 10, 300)
    """
    n = _check_int(num_entities, "num_entities", 2)
    R = _check_int(num_relations, "num_relations", 1)
    k = _check_int(facts_per_entity, "facts_per_entity", 0)
    s = _check_seed(seed)
    if k > R:
        raise ValueError(
            f"facts_per_entity={k} exceeds num_relations={R}: each fact of an entity needs "
            "a different relation"
        )
    rng = np.random.default_rng(s)
    rels = np.empty((n, k), dtype=np.int64)
    rows = max(1, _CHUNK_CELLS // R)
    for lo in range(0, n, rows):  # a random subset per entity: argsort of random keys
        keys = rng.random((min(rows, n - lo), R))
        rels[lo : lo + rows] = np.argsort(keys, axis=1)[:, :k]
    heads = np.repeat(np.arange(n, dtype=np.int64), k)
    tails = rng.integers(0, n - 1, size=n * k, dtype=np.int64)
    tails += tails >= heads  # uniform over the other n - 1 entities
    return KnowledgeGraph.from_arrays(
        heads,
        rels.ravel(),
        tails,
        entities=[f"e{i}" for i in range(n)],
        relations=[f"r{i}" for i in range(R)],
        entity_types=np.zeros(n, dtype=np.int32),
        types=["Entity"],
        source=f"wang_composition({n}, {R}, {k}, seed={s})",
    )


def wang_comparison(
    num_entities: int = 1000,
    num_attributes: int = 20,
    num_values: int = 20,
    seed: int = 0,
) -> KnowledgeGraph:
    """Wang et al.'s comparison KG: one integer value per entity and attribute.

    Facts are ``(entity, "attr{j}", value)`` for every entity and attribute, with values
    drawn uniformly from the integers ``0 .. num_values - 1``. Values are entities
    labelled ``"0", "1", ...`` (type ``"Number"``) shared by all attributes, so
    ``style="order"`` comparisons can parse them as numbers.

    Parameters
    ----------
    num_entities : int
        Number of compared entities, labelled ``"e0", "e1", ...`` (type ``"Entity"``);
        at least 2.
    num_attributes : int
        Number of attribute relations ``"attr0", "attr1", ...``; at least 1.
    num_values : int
        Number of distinct values; at least 1.
    seed : int
        Random seed; the same seed gives the same graph.

    Returns
    -------
    KnowledgeGraph
        ``num_entities * num_attributes`` facts over ``num_entities + num_values``
        entities (the value entities first get the ids after the compared ones).

    Examples
    --------
    >>> from kgaug.datasets import wang_comparison
    >>> kg = wang_comparison(50, 4, 10, seed=0)
    >>> kg.num_facts, kg.num_entities, kg.types
    (200, 60, ('Entity', 'Number'))
    """
    n = _check_int(num_entities, "num_entities", 2)
    A = _check_int(num_attributes, "num_attributes", 1)
    V = _check_int(num_values, "num_values", 1)
    s = _check_seed(seed)
    rng = np.random.default_rng(s)
    values: npt.NDArray[np.int64] = rng.integers(0, V, size=(n, A), dtype=np.int64)
    heads = np.repeat(np.arange(n, dtype=np.int64), A)
    rels = np.tile(np.arange(A, dtype=np.int64), n)
    types = np.concatenate([np.zeros(n, dtype=np.int32), np.ones(V, dtype=np.int32)])
    return KnowledgeGraph.from_arrays(
        heads,
        rels,
        n + values.ravel(),
        entities=[f"e{i}" for i in range(n)] + [str(v) for v in range(V)],
        relations=[f"attr{j}" for j in range(A)],
        entity_types=types,
        types=["Entity", "Number"],
        source=f"wang_comparison({n}, {A}, {V}, seed={s})",
    )

"""Seeded synthetic knowledge graphs."""

from __future__ import annotations

import numpy as np

from kgaug._validate import check_seed
from kgaug.kg import KnowledgeGraph

__all__ = ["powerlaw_kg", "random_kg"]


def powerlaw_kg(
    num_facts: int,
    num_relations: int = 50,
    *,
    branching: float = 4.0,
    exponent: float = 2.5,
    relation_exponent: float = 1.0,
    correlated: bool = False,
    seed: int = 0,
) -> KnowledgeGraph:
    """A seeded multi-relational KG with power-law degrees (a Chung-Lu style model).

    Heads and tails are drawn independently with probabilities proportional to
    ``rank^(-1/(exponent-1))`` (so degrees follow a power law with the given exponent),
    relations with probabilities ``rank^(-relation_exponent)``; duplicates are redrawn
    until exactly ``num_facts`` distinct triples exist.

    Parameters
    ----------
    num_facts : int
        Number of distinct facts.
    num_relations : int
        Number of relations.
    branching : float
        ``b = |F_A| / |V|``; the graph has ``round(num_facts / branching)`` entities.
    exponent : float
        Degree exponent ``gamma > 2`` (2.5 by default; smaller is heavier-tailed).
    relation_exponent : float
        Zipf exponent of the relation frequencies.
    correlated : bool
        ``False`` (default): in- and out-hubs are different entities, as in most KGs where
        hubs are popular *targets* (countries, years). ``True``: the same entities are hubs
        both ways, which multiplies the number of 2-hop walks (a harder benchmark).
    seed : int
        Random seed; the same seed gives the same graph.

    Returns
    -------
    KnowledgeGraph
        Entities ``e0, e1, ...`` and relations ``r0, r1, ...``.
    """
    if num_facts < 0:
        raise ValueError(f"num_facts must be >= 0, got {num_facts}")
    if num_relations < 1:
        raise ValueError(f"num_relations must be >= 1, got {num_relations}")
    if branching <= 0:
        raise ValueError(f"branching must be > 0, got {branching}")
    if exponent <= 2:
        raise ValueError(f"exponent must be > 2 for a finite mean degree, got {exponent}")
    n = max(2, round(num_facts / branching))
    if num_facts > n * n * num_relations * 0.5:
        raise ValueError(
            f"{num_facts} facts do not fit comfortably among {n}^2 pairs x {num_relations} "
            "relations; lower branching"
        )
    rng = np.random.default_rng(check_seed(seed))
    w = np.arange(1, n + 1, dtype=np.float64) ** (-1.0 / (exponent - 1.0))
    w /= w.sum()
    p_out = w[rng.permutation(n)]
    p_in = p_out if correlated else w[rng.permutation(n)]
    wr = np.arange(1, num_relations + 1, dtype=np.float64) ** (-relation_exponent)
    wr /= wr.sum()
    keys = np.zeros(0, dtype=np.int64)
    while len(keys) < num_facts:
        k = int((num_facts - len(keys)) * 1.2) + 64
        h = rng.choice(n, size=k, p=p_out)
        t = rng.choice(n, size=k, p=p_in)
        r = rng.choice(num_relations, size=k, p=wr)
        keys = np.concatenate([keys, (h * num_relations + r) * n + t])
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]  # keep draw order, so the result depends on seed only
    keys = keys[:num_facts]
    t = keys % n
    hr = keys // n
    return KnowledgeGraph.from_arrays(
        hr // num_relations,
        hr % num_relations,
        t,
        entities=[f"e{i}" for i in range(n)],
        relations=[f"r{i}" for i in range(num_relations)],
        source=f"powerlaw_kg({num_facts}, {num_relations}, seed={seed})",
    )


def random_kg(
    num_entities: int, num_facts: int, num_relations: int = 1, *, seed: int = 0
) -> KnowledgeGraph:
    """A uniformly random KG: ``num_facts`` distinct facts between distinct entities.

    The random-graph model of the paper's Lemma 1 (each ordered pair of distinct entities
    equally likely), with relations drawn uniformly. ``b = num_facts / num_entities``.

    Raises
    ------
    ValueError
        More facts than ordered pairs times relations.
    """
    if num_entities < 2:
        raise ValueError(f"num_entities must be >= 2, got {num_entities}")
    if num_relations < 1:
        raise ValueError(f"num_relations must be >= 1, got {num_relations}")
    slots = num_entities * (num_entities - 1) * num_relations
    if not 0 <= num_facts <= slots:
        raise ValueError(
            f"num_facts must be in 0..{slots} (ordered pairs x relations), got {num_facts}"
        )
    rng = np.random.default_rng(check_seed(seed))
    keys = rng.choice(slots, size=num_facts, replace=False)
    pair, r = np.divmod(keys, num_relations)
    h, t = np.divmod(pair, num_entities - 1)
    t = t + (t >= h)  # skip the diagonal: no self-loops
    return KnowledgeGraph.from_arrays(
        h,
        r,
        t,
        entities=[f"e{i}" for i in range(num_entities)],
        relations=[f"r{i}" for i in range(num_relations)],
        source=f"random_kg({num_entities}, {num_facts}, {num_relations}, seed={seed})",
    )

"""The exact chain counts as SQL, written once for every SQL engine.

Every query reads views that the engine adapter creates first:

``kg_raw(h, r, t, pos)``
    Labelled records of a file, ``pos`` their order in it (only for file sources).
``kg_facts(h, r, t)``
    Distinct facts; ``r`` is the relation id (its index in the report's relation list),
    ``h`` and ``t`` are entity ids or labels (only equality is used).
``kg_edges(h, l, t)``
    Path-extending labelled edges (see :class:`kgaug._index.PathIndex`): every fact but a
    self-loop and, in undirected mode, every such fact read backwards with label
    ``r + R``.

The queries only use ``SELECT DISTINCT``, inner joins, ``GROUP BY``, ``count`` and
``row_number``, which DuckDB and Spark SQL read the same way. A simple path has pairwise
distinct nodes; since edges have no self-loops, consecutive nodes differ already and
only the non-consecutive pairs are compared.
"""

from __future__ import annotations

__all__ = [
    "chain_count_query",
    "edges_query",
    "facts_from_raw_query",
    "relations_from_raw_query",
]


def relations_from_raw_query() -> str:
    """Relation labels in order of first appearance, with their ids ``0 .. R-1``."""
    return (
        "SELECT r AS label, row_number() OVER (ORDER BY min(pos)) - 1 AS id, count(*) AS n "
        "FROM kg_raw GROUP BY r"
    )


def facts_from_raw_query() -> str:
    """Distinct facts of ``kg_raw`` with relation ids from ``kg_relations``."""
    return (
        "SELECT DISTINCT kg_raw.h AS h, kg_relations.id AS r, kg_raw.t AS t "
        "FROM kg_raw JOIN kg_relations ON kg_raw.r = kg_relations.label"
    )


def edges_query(directed: bool, num_relations: int) -> str:
    """The path-extending edges of ``kg_facts``."""
    forward = "SELECT h, r AS l, t FROM kg_facts WHERE h <> t"
    if directed:
        return forward
    backward = f"SELECT t AS h, r + {int(num_relations)} AS l, h AS t FROM kg_facts WHERE h <> t"
    return f"{forward} UNION ALL {backward}"


def chain_count_query(hops: int, count: str) -> str:
    """Per relation chain ``(l1, ..., ln)``: simple paths or distinct facts ``(h, chain, t)``.

    Parameters
    ----------
    hops : {2, 3}
        Chain length.
    count : {"facts", "paths"}
        What is counted (as in :func:`kgaug.chain_counts`).

    Returns
    -------
    str
        A query with columns ``l1 .. ln`` and ``n`` (the count), one row per chain that
        occurs.
    """
    if hops == 2:
        join = "kg_edges e1 JOIN kg_edges e2 ON e1.t = e2.h"
        where = "e1.h <> e2.t"
        ends = "e1.h AS h, e2.t AS t"
    elif hops == 3:
        join = "kg_edges e1 JOIN kg_edges e2 ON e1.t = e2.h JOIN kg_edges e3 ON e2.t = e3.h"
        where = "e1.h <> e2.t AND e1.h <> e3.t AND e1.t <> e3.t"
        ends = "e1.h AS h, e3.t AS t"
    else:
        raise ValueError(f"SQL counting supports hops 2 and 3, got {hops}")
    labels = [f"l{i}" for i in range(1, hops + 1)]
    chain = ", ".join(f"e{i}.l AS l{i}" for i in range(1, hops + 1))
    group = ", ".join(labels)
    if count == "paths":
        return f"SELECT {chain}, count(*) AS n FROM {join} WHERE {where} GROUP BY {group}"
    if count == "facts":
        distinct = f"SELECT DISTINCT {ends}, {chain} FROM {join} WHERE {where}"
        return f"SELECT {group}, count(*) AS n FROM ({distinct}) kg_f GROUP BY {group}"
    raise ValueError(f"count must be 'facts' or 'paths', got {count!r}")

"""Brute-force reference enumerator of simple paths (used by the property tests)."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

Fact = tuple[int, tuple[int, ...], int]


def brute_enumerate(
    triples: list[tuple[int, int, int]], n: int, R: int, hops: int, directed: bool
) -> tuple[set[Fact], Counter[tuple[int, ...]]]:
    """All simple ``hops``-hop paths by explicit DFS.

    Returns the set of inferred facts ``(h, chain, t)`` and the path count per chain.
    Labels ``>= R`` are inverse relations (undirected mode).
    """
    edges = sorted({(h, r, t) for h, r, t in triples if h != t})
    if not directed:
        edges = edges + [(t, r + R, h) for h, r, t in edges]
    adj: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for h, lab, t in edges:
        adj[h].append((lab, t))
    paths: Counter[tuple[int, ...]] = Counter()
    facts: set[Fact] = set()

    def dfs(nodes: list[int], labels: list[int]) -> None:
        if len(labels) == hops:
            paths[tuple(labels)] += 1
            facts.add((nodes[0], tuple(labels), nodes[-1]))
            return
        for lab, t in adj[nodes[-1]]:
            if t not in nodes:
                dfs([*nodes, t], [*labels, lab])

    for v in range(n):
        dfs([v], [])
    return facts, paths


def brute_chains(
    triples: list[tuple[int, int, int]], n: int, R: int, hops: int, directed: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(facts tensor, paths tensor) over labels (R or 2R)."""
    L = R if directed else 2 * R
    facts, paths = brute_enumerate(triples, n, R, hops, directed)
    P = np.zeros((L,) * hops, dtype=np.int64)
    F = np.zeros((L,) * hops, dtype=np.int64)
    for ch, c in paths.items():
        P[ch] = c
    for _, ch, _ in facts:
        F[ch] += 1
    return F, P

"""Exactly uniform sampling of simple paths."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy import stats

import kgaug
from _brute import brute_enumerate
from kgaug.paths import PathSample
from kgaug.records import Chain, FiveTuple


def _graph() -> tuple[kgaug.KnowledgeGraph, list[tuple[int, int, int]]]:
    """A small irregular multigraph: hubs, 2-cycles, triangles, parallel relations."""
    edges = [
        (0, 0, 1),
        (0, 0, 2),
        (0, 1, 3),
        (1, 0, 2),
        (2, 1, 0),
        (1, 1, 4),
        (2, 0, 4),
        (3, 0, 4),
        (4, 1, 5),
        (5, 0, 0),
        (4, 0, 1),
        (5, 1, 3),
        (3, 1, 3),
        (2, 0, 5),
        (6, 0, 2),
        (6, 1, 2),
    ]
    kg = kgaug.KnowledgeGraph.from_arrays(
        [e[0] for e in edges],
        [e[1] for e in edges],
        [e[2] for e in edges],
        entities=[f"e{i}" for i in range(7)],
        relations=["r", "s"],
    )
    return kg, edges


def _path_key(nodes, steps):
    return (tuple(nodes), tuple(steps))


def _all_paths(edges, n, R, hops, directed):
    """All simple paths as (nodes, labels) via DFS."""
    es = sorted({e for e in edges if e[0] != e[2]})
    if not directed:
        es = es + [(t, r + R, h) for h, r, t in es]
    out = []

    def dfs(nodes, labels):
        if len(labels) == hops:
            out.append((tuple(nodes), tuple(labels)))
            return
        for h, lab, t in es:
            if h == nodes[-1] and t not in nodes:
                dfs([*nodes, t], [*labels, lab])

    for v in range(n):
        dfs([v], [])
    return out


@pytest.mark.parametrize(("hops", "directed"), [(2, True), (3, True), (2, False), (3, False)])
def test_sampling_is_uniform_over_simple_paths(hops, directed):
    kg, edges = _graph()
    paths = _all_paths(edges, 7, 2, hops, directed)
    draws = 60 * len(paths)
    s = kgaug.sample_paths(kg, hops, draws, seed=11, unique=False, directed=directed)
    counts = Counter(_path_key(a, b) for a, b in zip(s.nodes.tolist(), s.steps.tolist()))
    assert set(counts) <= set(paths)
    observed = np.array([counts.get(p, 0) for p in paths])
    p = stats.chisquare(observed).pvalue
    assert p > 1e-3, f"chi-square p = {p}"
    assert s.total_paths == len(paths)


def test_a_plain_random_walk_fails_the_same_test():
    """The test has power: a naive walk (uniform start, uniform next edge) is rejected."""
    _kg, edges = _graph()
    paths = _all_paths(edges, 7, 2, 2, True)
    es = sorted({e for e in edges if e[0] != e[2]})
    out: dict[int, list[tuple[int, int]]] = {}
    for h, r, t in es:
        out.setdefault(h, []).append((r, t))
    rng = np.random.default_rng(0)
    counts: Counter = Counter()
    starts = [v for v in range(7) if v in out]
    while sum(counts.values()) < 60 * len(paths):
        v0 = starts[rng.integers(len(starts))]
        r1, v1 = out[v0][rng.integers(len(out[v0]))]
        if v1 not in out:
            continue
        r2, v2 = out[v1][rng.integers(len(out[v1]))]
        if v2 != v0:
            counts[((v0, v1, v2), (r1, r2))] += 1
    observed = np.array([counts.get(p, 0) for p in paths])
    assert stats.chisquare(observed).pvalue < 1e-6


def test_restricted_chain_is_uniform():
    kg, edges = _graph()
    paths = [p for p in _all_paths(edges, 7, 2, 2, True) if p[1] == (0, 1)]
    s = kgaug.sample_paths(kg, 2, 80 * len(paths), seed=3, relations=("r", "s"), unique=False)
    assert set(map(tuple, s.steps.tolist())) == {(0, 1)}
    counts = Counter(_path_key(a, b) for a, b in zip(s.nodes.tolist(), s.steps.tolist()))
    observed = np.array([counts.get(p, 0) for p in paths])
    assert stats.chisquare(observed).pvalue > 1e-3


def test_first_hop_and_wildcard_restrictions():
    kg, _ = _graph()
    s = kgaug.sample_paths(kg, 3, 50, seed=0, relations="s", unique=False)
    assert (s.steps[:, 0] == 1).all()
    s = kgaug.sample_paths(kg, 3, 50, seed=0, relations=(None, "r", None), unique=False)
    assert (s.steps[:, 1] == 0).all()
    s = kgaug.sample_paths(
        kg, 2, 50, seed=0, relations=("r^-1", None), directed=False, unique=False
    )
    assert (s.steps[:, 0] == 2).all()


def test_unique_returns_distinct_paths_and_all_of_them_at_k_equal_total():
    kg, edges = _graph()
    for hops in (2, 3):
        paths = _all_paths(edges, 7, 2, hops, True)
        s = kgaug.sample_paths(kg, hops, len(paths), seed=5)
        got = [_path_key(a, b) for a, b in zip(s.nodes.tolist(), s.steps.tolist())]
        assert len(got) == len(set(got)) == len(paths)
        assert set(got) == set(paths)


def test_k_above_the_number_of_paths_is_a_clear_error():
    kg, edges = _graph()
    n = len(_all_paths(edges, 7, 2, 2, True))
    with pytest.raises(ValueError, match=f"exceeds the {n} distinct simple 2-hop paths"):
        kgaug.sample_paths(kg, 2, n + 1)
    assert len(kgaug.sample_paths(kg, 2, n + 1, unique=False)) == n + 1


def test_four_hops_without_exact_count_stops_when_paths_run_out():
    kg = kgaug.KnowledgeGraph.from_triples(
        [("a", "r", "b"), ("b", "r", "c"), ("c", "r", "d"), ("d", "r", "e"), ("b", "s", "x")]
    )
    s = kgaug.sample_paths(kg, 4, 1)
    assert s.to_tuples() == [("a", "r", "b", "r", "c", "r", "d", "r", "e")]
    assert s.total_paths is None
    with pytest.raises(ValueError, match="exceeds the 1 4-step walks"):
        kgaug.sample_paths(kg, 4, 2)
    # walks but no simple 4-hop path (three nodes): sampling gives up with a clear error
    loop = kgaug.KnowledgeGraph.from_triples(
        [("a", "r", "b"), ("b", "r", "a"), ("b", "r", "c"), ("c", "r", "b")]
    )
    with pytest.raises(ValueError, match="found only 0 distinct simple 4-hop paths"):
        kgaug.sample_paths(loop, 4, 1)
    with pytest.raises(ValueError, match="found only 0 simple 4-hop paths"):
        kgaug.sample_paths(loop, 4, 1, unique=False)


def test_k_equal_to_all_paths_on_a_larger_graph_is_exact_and_fast():
    kg = kgaug.datasets.random_kg(3000, 6000, 3, seed=0)
    total = kgaug.chain_counts(kg, 2, count="paths").total
    s = kgaug.sample_paths(kg, 2, total, seed=0)
    assert len(s) == total == s.total_paths
    keys = {(tuple(a), tuple(b)) for a, b in zip(s.nodes.tolist(), s.steps.tolist())}
    assert len(keys) == total
    every = kgaug.paths.enumerate_paths(kg, 2)
    assert keys == {
        (tuple(a), tuple(b)) for a, b in zip(every.nodes.tolist(), every.steps.tolist())
    }
    near = kgaug.sample_paths(kg, 2, total - 5, seed=1)  # drawn without replacement
    assert (
        len({(tuple(a), tuple(b)) for a, b in zip(near.nodes.tolist(), near.steps.tolist())})
        == total - 5
    )


def test_walk_counts_that_overflow_are_refused():
    # a star: 5000 leaves joined to one hub by 100 relations each, undirected 4 hops:
    # leaf-hub-leaf-hub-leaf walks alone: 5000 * 100 * 500000 * 100 * 500000 = 1.25e19
    n, R = 5001, 100
    leaves = np.repeat(np.arange(1, n), R)
    kg = kgaug.KnowledgeGraph.from_arrays(
        np.zeros(len(leaves), dtype=np.int64),
        np.tile(np.arange(R), n - 1),
        leaves,
        entities=[str(i) for i in range(n)],
        relations=[f"r{i}" for i in range(R)],
    )
    with pytest.raises(ValueError, match="64-bit"):
        kgaug.sample_paths(kg, 4, 10, directed=False)


def test_reproducible_by_seed():
    kg = kgaug.datasets.load_example()
    a = kgaug.sample_paths(kg, 2, 100, seed=7)
    b = kgaug.sample_paths(kg, 2, 100, seed=7)
    c = kgaug.sample_paths(kg, 2, 100, seed=8)
    np.testing.assert_array_equal(a.nodes, b.nodes)
    np.testing.assert_array_equal(a.steps, b.steps)
    assert not np.array_equal(a.nodes, c.nodes)


@pytest.mark.parametrize("hops", [2, 3, 4])
@pytest.mark.parametrize("directed", [True, False])
def test_samples_are_simple_paths_of_the_graph(hops, directed):
    kg = kgaug.datasets.powerlaw_kg(3000, 4, seed=2)
    s = kgaug.sample_paths(kg, hops, 2000, seed=1, directed=directed)
    R = kg.num_relations
    facts = set(zip(kg.head_ids.tolist(), kg.relation_ids.tolist(), kg.tail_ids.tolist()))
    for nodes, steps in zip(s.nodes.tolist(), s.steps.tolist()):
        assert len(set(nodes)) == hops + 1
        for j, lab in enumerate(steps):
            h, t = nodes[j], nodes[j + 1]
            assert (h, lab, t) in facts if lab < R else (t, lab - R, h) in facts


def test_records_and_api():
    kg = kgaug.datasets.load_example()
    s = kgaug.sample_paths(kg, 2, 20, seed=0, relations="director")
    assert isinstance(s, PathSample)
    assert len(s) == 20
    rec = s[0]
    assert isinstance(rec, FiveTuple)
    assert rec.rel1 == "director"
    assert rec.obj1_type == "Object" and rec.obj2_type == "Person"
    assert (rec.obj1, "director", rec.obj2) in kg
    assert (rec.obj2, rec.rel2, rec.obj3) in kg
    assert rec.as_tuple() == s.to_tuples()[0]
    assert s[-1] == s[19]
    with pytest.raises(IndexError):
        s[20]
    sub = s[5:10]
    assert isinstance(sub, PathSample) and len(sub) == 5
    assert sub[0] == s[5]
    assert list(s)[3] == s[3]
    heads, chains, tails = s.inferred_facts()
    assert chains.shape[1] == 2 and len(heads) == len(tails) <= 20
    assert "20 of 278 2-hop paths" in repr(s)
    c = kgaug.sample_paths(kg, 3, 2, seed=0)[0]
    assert isinstance(c, Chain) and c.hops == 3 and len(c.as_tuple()) == 7


def test_bad_arguments():
    kg = kgaug.datasets.load_example()
    with pytest.raises(ValueError, match="hops"):
        kgaug.sample_paths(kg, 5, 10)
    with pytest.raises(ValueError, match="k must be"):
        kgaug.sample_paths(kg, 2, -1)
    with pytest.raises(KeyError, match="did you mean 'director'"):
        kgaug.sample_paths(kg, 2, 10, relations="directr")
    with pytest.raises(ValueError, match="needs 2 entries"):
        kgaug.sample_paths(kg, 2, 10, relations=("director",) * 3)
    with pytest.raises(ValueError, match="no simple 2-hop paths"):
        kgaug.sample_paths(kg, 2, 10, relations=("publication date", None))
    assert len(kgaug.sample_paths(kg, 2, 0)) == 0


def test_matches_brute_force_counts():
    kg, edges = _graph()
    _facts, paths = brute_enumerate(edges, 7, 2, 3, False)
    s = kgaug.sample_paths(kg, 3, 10, directed=False)
    assert s.total_paths == sum(paths.values())

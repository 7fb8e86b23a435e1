"""Exact counting kernels against a brute-force enumerator of simple paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kgaug
from _brute import brute_chains
from kgaug import _counting


@st.composite
def multigraphs(draw: st.DrawFn, max_nodes: int = 7, max_relations: int = 3, max_edges: int = 28):
    n = draw(st.integers(1, max_nodes))
    R = draw(st.integers(1, max_relations))
    edges = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, R - 1), st.integers(0, n - 1)),
            max_size=max_edges,
        )
    )
    return n, R, edges


def _kg(n: int, R: int, edges: list[tuple[int, int, int]]) -> kgaug.KnowledgeGraph:
    h, r, t = (np.array([e[i] for e in edges], dtype=np.int64) for i in range(3))
    return kgaug.KnowledgeGraph.from_arrays(
        h, r, t, entities=[f"e{i}" for i in range(n)], relations=[f"r{i}" for i in range(R)]
    )


def _check(n: int, R: int, edges: list[tuple[int, int, int]], hops: int, directed: bool) -> None:
    kg = _kg(n, R, edges)
    F, P = brute_chains(edges, n, R, hops, directed)
    facts = kgaug.chain_counts(kg, hops, count="facts", directed=directed, progress=False)
    paths = kgaug.chain_counts(kg, hops, count="paths", directed=directed, progress=False)
    np.testing.assert_array_equal(facts.tensor, F)
    np.testing.assert_array_equal(paths.tensor, P)


@given(multigraphs())
def test_two_hop_directed_matches_brute_force(g):
    _check(*g, hops=2, directed=True)


@given(multigraphs())
def test_two_hop_undirected_matches_brute_force(g):
    _check(*g, hops=2, directed=False)


@given(multigraphs())
def test_three_hop_directed_matches_brute_force(g):
    _check(*g, hops=3, directed=True)


@given(multigraphs(max_nodes=6, max_edges=20))
def test_three_hop_undirected_matches_brute_force(g):
    _check(*g, hops=3, directed=False)


@given(multigraphs(max_nodes=9, max_relations=2, max_edges=45))
def test_tiny_chunks_give_the_same_counts(g):
    """Row blocks of one multiplication each exercise the chunked products."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_counting, "FLOP_BUDGET", 1)
        for hops in (2, 3):
            for directed in (True, False):
                _check(*g, hops=hops, directed=directed)


def test_dense_multilabel_graph_matches_brute_force():
    """A complete multigraph: every pair joined by every relation, both ways."""
    n, R = 6, 3
    edges = [(a, r, b) for a in range(n) for b in range(n) for r in range(R) if a != b]
    edges += [(a, 0, a) for a in range(n)]  # self-loops never extend a path
    for hops in (2, 3):
        for directed in (True, False):
            _check(n, R, edges, hops, directed)


def test_hub_graph_matches_brute_force():
    """Hubs with many parallel middles stress the duplicate (multiplicity) correction."""
    rng = np.random.default_rng(7)
    n, R = 30, 2
    edges = [(0, int(rng.integers(R)), int(b)) for b in rng.integers(1, n, 60)]
    edges += [(int(a), int(rng.integers(R)), 1) for a in rng.integers(2, n, 60)]
    edges += [(int(a), int(rng.integers(R)), int(b)) for a, b in rng.integers(0, n, (80, 2))]
    for hops in (2, 3):
        for directed in (True, False):
            _check(n, R, edges, hops, directed)


def test_small_known_counts():
    # a -r-> b -s-> c and a -r-> d -s-> c: one fact (a, r, s, c) but two paths
    kg = kgaug.KnowledgeGraph.from_triples(
        [("a", "r", "b"), ("b", "s", "c"), ("a", "r", "d"), ("d", "s", "c")]
    )
    assert kgaug.chain_counts(kg, 2)[("r", "s")] == 1
    assert kgaug.chain_counts(kg, 2, count="paths")[("r", "s")] == 2


def test_cycles_are_not_paths():
    # a -> b -> a is a closed walk, not a simple path; a -> b -> c -> a likewise for 3 hops
    kg = kgaug.KnowledgeGraph.from_triples(
        [("a", "r", "b"), ("b", "r", "a"), ("b", "r", "c"), ("c", "r", "a")]
    )
    assert kgaug.chain_counts(kg, 2).total == 3  # a-b-c, b-c-a, c-a-b
    # 3-hop simple paths need 4 distinct nodes: none exist on 3 nodes
    assert kgaug.chain_counts(kg, 3, count="paths").total == 0


def test_self_loops_are_facts_but_never_extend_a_path():
    kg = kgaug.KnowledgeGraph.from_triples([("a", "r", "a"), ("a", "s", "b"), ("b", "s", "b")])
    assert kg.num_facts == 3
    assert kgaug.chain_counts(kg, 2).total == 0


def test_undirected_labels_and_folding():
    kg = kgaug.KnowledgeGraph.from_triples([("a", "r", "b"), ("c", "s", "b")])
    cc = kgaug.chain_counts(kg, 2, directed=False)
    assert cc.labels == ("r", "s", "r^-1", "s^-1")
    assert cc[("r", "s^-1")] == 1  # a -r-> b <-s- c
    assert cc[("s", "r^-1")] == 1
    assert cc.total == 2
    folded = cc.by_relation()
    assert folded.shape == (2, 2)
    assert folded[0, 1] == 1 and folded[1, 0] == 1


def test_chain_counts_api():
    kg = kgaug.KnowledgeGraph.from_triples(
        [("a", "r", "b"), ("b", "s", "c"), ("b", "s", "d"), ("x", "r", "b")]
    )
    cc = kgaug.chain_counts(kg, 2)
    assert cc.top(1) == [(("r", "s"), 4)]
    assert cc.to_dict() == {("r", "s"): 4}
    assert "total=4" in repr(cc)
    with pytest.raises(KeyError, match="did you mean 'r'"):
        cc[("rr", "s")]
    with pytest.raises(KeyError, match="chain of 2"):
        cc[("r",)]


@pytest.mark.parametrize("hops", [0, 1, 4, 5])
def test_hops_outside_exact_range_is_a_clear_error(hops):
    kg = kgaug.KnowledgeGraph.from_triples([("a", "r", "b")])
    with pytest.raises(ValueError, match="sampling"):
        kgaug.chain_counts(kg, hops)


def test_bad_arguments():
    kg = kgaug.KnowledgeGraph.from_triples([("a", "r", "b")])
    with pytest.raises(ValueError, match="count"):
        kgaug.chain_counts(kg, 2, count="walks")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="hops must be an int"):
        kgaug.chain_counts(kg, 2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="KnowledgeGraph"):
        kgaug.chain_counts([("a", "r", "b")], 2)  # type: ignore[arg-type]


def test_counts_are_int64():
    kg = kgaug.datasets.powerlaw_kg(2000, 5, seed=1)
    for hops in (2, 3):
        for count in ("facts", "paths"):
            t = kgaug.chain_counts(kg, hops, count=count).tensor
            assert t.dtype == np.int64

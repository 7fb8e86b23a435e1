"""Exact counting kernels against a brute-force enumerator of simple paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kgaug
from _brute import brute_chains, brute_enumerate
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
    assert folded.tensor.shape == (2, 2)
    assert folded[("r", "s")] == 1 and folded[("s", "r")] == 1


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
            cc = kgaug.chain_counts(kg, hops, count=count)
            assert cc.counts.dtype == np.int64 and cc.tensor.dtype == np.int64
            assert (cc.counts > 0).all()


def test_many_relations_stay_sparse():
    """Hundreds of relations: 3-hop chains are stored sparsely (a dense L^3 would not fit)."""
    rng = np.random.default_rng(4)
    n, R, m = 40, 400, 160
    edges = [
        (int(a), int(r), int(b))
        for a, r, b in zip(rng.integers(0, n, m), rng.integers(0, R, m), rng.integers(0, n, m))
    ]
    kg = _kg(n, R, edges)
    for directed in (True, False):
        for count in ("facts", "paths"):
            cc = kgaug.chain_counts(kg, 3, count=count, directed=directed)
            facts, paths = brute_enumerate(edges, n, R, 3, directed)
            labels = cc.labels
            if count == "paths":
                want = {tuple(labels[i] for i in ch): c for ch, c in paths.items()}
            else:
                want = {}
                for _, ch, _ in facts:
                    key = tuple(labels[i] for i in ch)
                    want[key] = want.get(key, 0) + 1
            assert cc.to_dict() == want
            if not directed:
                with pytest.raises(MemoryError, match="sparse"):
                    _ = cc.tensor  # 800^3 entries


def test_more_than_65536_entities_use_the_bucket_sort_path():
    """Node ids above 2^16 go through the scipy counting sort (not numpy's radix sort)."""
    rng = np.random.default_rng(1)
    n, m = 70_000, 600
    hubs = rng.integers(0, 30, m)
    far = rng.integers(66_000, n, m)
    edges = [
        (int(a), int(r), int(b))
        for a, r, b in zip(
            np.where(rng.random(m) < 0.5, hubs, far),
            rng.integers(0, 2, m),
            np.where(rng.random(m) < 0.5, far, hubs),
        )
    ]
    for directed in (True, False):
        for hops in (2, 3):
            _check(n, 2, edges, hops, directed)

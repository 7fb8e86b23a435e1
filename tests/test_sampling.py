"""Exactly uniform sampling of simple paths."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy import stats

import kgaug
from _brute import brute_enumerate
from kgaug._index import path_index
from kgaug.paths import PathSample, _AliasTable, _MiddleSampler
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


# ---------------------------------------------------------------- 2- and 3-hop fast path


@pytest.mark.parametrize(
    "weights",
    [
        [1],
        [5],
        [1, 1, 1],
        [3, 4, 4, 1, 1, 4],
        [1000, 1, 1, 1],  # one heavy item filling every light bucket
        [70, 70, 70, 1, 200, 3],
        list(range(1, 40)),
        [2**40, 3, 2**35 + 7, 1],  # large weights: scale 1, capacity far above int32
    ],
)
def test_alias_table_maps_every_unit_to_one_walk(weights):
    """Exhaustive: over all units, every (item, offset < w) occurs exactly `scale` times."""
    w = np.array(weights, dtype=np.int64)
    table = _AliasTable(w)
    if table.units > 5_000_000:  # too many units to list: check the pieces' sizes instead
        y = np.random.default_rng(0).integers(0, table.units, 200_000)
        item, off = table.lookup(y)
        real = item < len(w)
        assert (off[real] >= 0).all() and (off[real] < w[item[real]]).all()
        share = np.bincount(item, minlength=len(w) + 1)[: len(w)] / len(y)
        np.testing.assert_allclose(share, w / w.sum(), atol=0.005)
        return
    item, off = table.lookup(np.arange(table.units, dtype=np.int64))
    dummy = item == len(w)
    assert dummy.sum() == table.units - table.scale * w.sum() < table.buckets
    pairs = Counter(zip(item[~dummy].tolist(), off[~dummy].tolist()))
    expected = {(i, o): table.scale for i in range(len(w)) for o in range(int(w[i]))}
    assert pairs == expected


def test_alias_table_on_random_weights():
    rng = np.random.default_rng(4)
    for trial in range(200):
        n = int(rng.integers(1, 25))
        scale = [3, 100, 1000][trial % 3]
        w = np.minimum((rng.pareto(1.2, n) * scale).astype(np.int64) + 1, 20_000)
        table = _AliasTable(w)
        item, off = table.lookup(np.arange(table.units, dtype=np.int64))
        real = item < n
        assert np.array_equal(np.bincount(item[real], minlength=n), table.scale * w)
        # within each item the offsets are 0..w-1, each `scale` times
        key = np.sort(item[real] * (w.max() + 1) + off[real])
        want = np.repeat(np.repeat(np.arange(n), w) * (w.max() + 1), 1) + np.concatenate(
            [np.arange(x) for x in w]
        )
        assert np.array_equal(key, np.repeat(np.sort(want), table.scale))


def _dense_graph() -> tuple[kgaug.KnowledgeGraph, list[tuple[int, int, int]]]:
    """20 nodes, 3 relations, ~190 facts: many walks per node (alias scale 1)."""
    rng = np.random.default_rng(7)
    facts = sorted(
        {(int(h), int(r), int(t)) for h, r, t in rng.integers(0, [20, 3, 20], size=(220, 3))}
    )
    kg = kgaug.KnowledgeGraph.from_arrays(
        [f[0] for f in facts],
        [f[1] for f in facts],
        [f[2] for f in facts],
        entities=[f"n{i}" for i in range(20)],
        relations=["a", "b", "c"],
    )
    return kg, facts


@pytest.mark.parametrize("hops", [2, 3])
def test_dense_graph_sampling_is_uniform_with_unscaled_alias_table(hops):
    kg, _ = _dense_graph()
    masks = kgaug.paths._allowed_labels(kg, hops, None, True)
    sampler = kgaug.paths._cached_sampler(kg, path_index(kg, True), masks, True)
    assert isinstance(sampler, _MiddleSampler) and sampler.alias.scale == 1

    def keys(p: PathSample) -> np.ndarray:  # nodes < 20 and labels < 3: base-20 digits
        key = np.zeros(len(p), dtype=np.int64)
        for col in [*p.nodes.T, *p.steps.T]:
            key = key * 20 + col
        return key

    every = np.sort(keys(kgaug.paths.enumerate_paths(kg, hops)))
    s = kgaug.sample_paths(kg, hops, 40 * len(every), seed=2, unique=False)
    assert s.draws >= len(s) and s.total_paths == len(every)
    got, counts = np.unique(keys(s), return_counts=True)
    assert np.isin(got, every).all()
    observed = np.zeros(len(every), dtype=np.int64)
    observed[np.searchsorted(every, got)] = counts
    assert stats.chisquare(observed).pvalue > 1e-3


@pytest.mark.parametrize(
    ("hops", "directed", "relations"),
    [
        (2, True, "s"),  # first hop only: the last hop uses every edge
        (2, True, (None, "r")),
        (3, True, (None, "s", None)),  # middle edge restricted
        (3, True, ("r", None, "s")),  # both ends restricted
        (3, True, ("s", "r", "r")),
        (2, False, ("r^-1", None)),
        (3, False, (None, "r", "s^-1")),
        (3, False, "s^-1"),
    ],
)
def test_restricted_chains_are_uniform(hops, directed, relations):
    kg, edges = _graph()
    labels = kgaug.paths.chain_labels(kg, directed)
    spec = [relations] + [None] * (hops - 1) if isinstance(relations, str) else relations
    allowed = [None if lab is None else labels.index(lab) for lab in spec]
    paths = [
        p
        for p in _all_paths(edges, 7, 2, hops, directed)
        if all(a is None or a == lab for a, lab in zip(allowed, p[1]))
    ]
    assert len(paths) >= 3
    s = kgaug.sample_paths(
        kg, hops, 80 * len(paths), seed=9, relations=relations, directed=directed, unique=False
    )
    assert s.total_paths == len(paths)
    counts = Counter(_path_key(a, b) for a, b in zip(s.nodes.tolist(), s.steps.tolist()))
    assert set(counts) <= set(paths)
    observed = np.array([counts.get(p, 0) for p in paths])
    assert stats.chisquare(observed).pvalue > 1e-3


def test_same_seed_same_sample_with_a_cold_or_warm_cache():
    def draw(kg: kgaug.KnowledgeGraph) -> PathSample:
        return kgaug.sample_paths(kg, 3, 100, seed=4, relations=("director", None, None))

    cold = draw(kgaug.datasets.load_example())
    kg = kgaug.datasets.load_example()
    first = draw(kg)
    starts = np.flatnonzero(kgaug.chain_counts(kg, 2, count="paths").first_hop())
    assert len(starts) > kgaug.paths._SAMPLER_CACHE
    for r in starts:  # other restrictions evict the first sampler
        kgaug.sample_paths(kg, 2, 5, seed=0, relations=kg.relations[r], unique=False)
    assert len(kg._cached("path_samplers", dict)) <= kgaug.paths._SAMPLER_CACHE
    again = draw(kg)
    for s in (first, again):
        np.testing.assert_array_equal(s.nodes, cold.nodes)
        np.testing.assert_array_equal(s.steps, cold.steps)


def test_unique_by_rejection_gives_distinct_simple_paths():
    kg = kgaug.datasets.powerlaw_kg(3000, 4, seed=2)
    for hops in (2, 3):
        total = kgaug.chain_counts(kg, hops, count="paths").total
        k = total // 2  # the largest k still sampled by rejection, not by listing all paths
        s = kgaug.sample_paths(kg, hops, k, seed=3)
        assert s.draws > 0 and len(s) == k
        rows = np.column_stack([s.nodes, s.steps])
        assert len(np.unique(rows, axis=0)) == k
        assert all(len(set(p)) == hops + 1 for p in s.nodes.tolist())

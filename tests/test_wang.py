"""Wang et al. (2024) synthetic generators: shapes, uniqueness, determinism, errors."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest

import kgaug
from kgaug.datasets import _wang
from kgaug.datasets._wang import wang_comparison, wang_composition
from kgaug.paths import enumerate_paths

# ---------------------------------------------------------------- composition


def test_composition_shapes_and_labels():
    kg = wang_composition(50, 10, 4, seed=3)
    assert (kg.num_entities, kg.num_relations, kg.num_facts) == (50, 10, 200)
    assert kg.entities == tuple(f"e{i}" for i in range(50))
    assert kg.relations == tuple(f"r{i}" for i in range(10))
    assert kg.types == ("Entity",)
    assert (kg.entity_type_codes == 0).all()
    assert kg.load_report.duplicates == 0


def test_composition_facts_per_entity_distinct_relations_no_self_loops():
    kg = wang_composition(80, 12, 5, seed=1)
    h, r, t = kg.head_ids, kg.relation_ids, kg.tail_ids
    assert (np.bincount(h, minlength=80) == 5).all()
    assert not (h == t).any()
    # one tail per (head, relation): functional relations
    pairs = Counter(zip(h.tolist(), r.tolist()))
    assert max(pairs.values()) == 1
    # relation subsets differ between entities (random, not a fixed block)
    subsets = defaultdict(set)
    for a, b in zip(h.tolist(), r.tolist()):
        subsets[a].add(b)
    assert len({frozenset(s) for s in subsets.values()}) > 10
    # tails cover most entities
    assert len(np.unique(t)) > 60


def test_composition_two_hop_queries_have_unique_answers():
    kg = wang_composition(60, 8, 4, seed=0)
    paths = enumerate_paths(kg, 2)
    assert len(paths) > 0
    answers = defaultdict(set)
    for (h, t), (r1, r2) in zip(paths.nodes[:, [0, 2]].tolist(), paths.steps.tolist(), strict=True):
        answers[(h, r1, r2)].add(t)
    assert all(len(v) == 1 for v in answers.values())


def test_composition_all_relations_when_k_equals_r():
    kg = wang_composition(20, 5, 5, seed=0)
    for e in range(20):
        rel = kg.relation_ids[kg.head_ids == e]
        assert sorted(rel.tolist()) == list(range(5))


def test_composition_chunked_subsets_stay_valid(monkeypatch):
    monkeypatch.setattr(_wang, "_CHUNK_CELLS", 25)  # 2 rows per chunk with 12 relations
    kg = wang_composition(31, 12, 6, seed=2)
    h, r = kg.head_ids, kg.relation_ids
    assert kg.num_facts == 31 * 6
    assert max(Counter(zip(h.tolist(), r.tolist())).values()) == 1


def test_composition_deterministic_and_seed_dependent():
    a = wang_composition(100, 10, 3, seed=7)
    b = wang_composition(100, 10, 3, seed=7)
    c = wang_composition(100, 10, 3, seed=8)
    assert a == b
    assert np.array_equal(a.tail_ids, b.tail_ids)
    assert a != c


def test_composition_defaults_match_wang():
    kg = wang_composition()
    assert (kg.num_entities, kg.num_relations, kg.num_facts) == (2000, 200, 40_000)


@pytest.mark.parametrize(
    ("kwargs", "name", "exc"),
    [
        ({"num_entities": 1}, "num_entities", ValueError),
        ({"num_relations": 0}, "num_relations", ValueError),
        ({"facts_per_entity": -1}, "facts_per_entity", ValueError),
        ({"num_relations": 3, "facts_per_entity": 4}, "facts_per_entity", ValueError),
        ({"num_entities": 10.0}, "num_entities", TypeError),
        ({"num_relations": True}, "num_relations", TypeError),
        ({"seed": -1}, "seed", ValueError),
    ],
)
def test_composition_argument_errors(kwargs, name, exc):
    args = {"num_entities": 10, "num_relations": 5, "facts_per_entity": 2} | kwargs
    with pytest.raises(exc, match=name):
        wang_composition(**args)


# ---------------------------------------------------------------- comparison


def test_comparison_shapes_and_values():
    kg = wang_comparison(40, 3, 7, seed=2)
    assert kg.num_facts == 120
    assert kg.num_entities == 47
    assert kg.relations == ("attr0", "attr1", "attr2")
    assert kg.types == ("Entity", "Number")
    for h, r, t in kg.triples():
        assert h.startswith("e")
        assert r.startswith("attr")
        assert 0 <= int(t) < 7
        assert kg.entity_type(h) == "Entity"
        assert kg.entity_type(t) == "Number"
    # one value per (entity, attribute)
    pairs = Counter((h, r) for h, r, _ in kg.triples())
    assert set(pairs.values()) == {1}
    assert len(pairs) == 40 * 3


def test_comparison_values_spread():
    kg = wang_comparison(500, 2, 10, seed=0)
    values = Counter(t for _, _, t in kg.triples())
    assert set(values) == {str(v) for v in range(10)}
    assert min(values.values()) > 50  # ~100 each


def test_comparison_deterministic_and_seed_dependent():
    assert wang_comparison(30, 2, 5, seed=1) == wang_comparison(30, 2, 5, seed=1)
    assert wang_comparison(30, 2, 5, seed=1) != wang_comparison(30, 2, 5, seed=2)


def test_comparison_defaults_match_wang():
    kg = wang_comparison()
    assert kg.num_facts == 20_000
    assert kg.num_entities == 1020


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"num_entities": 1}, "num_entities"),
        ({"num_attributes": 0}, "num_attributes"),
        ({"num_values": 0}, "num_values"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_comparison_argument_errors(kwargs, name):
    with pytest.raises(ValueError, match=name):
        wang_comparison(**({"num_entities": 10} | kwargs))


def test_generators_build_knowledge_graphs():
    assert isinstance(wang_composition(10, 3, 2), kgaug.KnowledgeGraph)
    assert isinstance(wang_comparison(10, 2, 3), kgaug.KnowledgeGraph)


@pytest.mark.slow
def test_wang_composition_builds_at_their_largest_phi():
    """phi = 18 at Wang et al.'s sizes needs their 0.5% ID test split (0.1 allows <= 17.09)."""
    from kgaug.train import wang_dataset

    ds = wang_dataset("composition", phi=18.0, seed=0)
    assert ds.meta.phi == pytest.approx(18.0)
    assert ds.meta.id_atomic == 38_000 and ds.meta.test_id_fraction == 0.005
    assert len(ds.test_ood) > 1000

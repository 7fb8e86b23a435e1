"""Bundled example KG and the seeded synthetic generator."""

from __future__ import annotations

import numpy as np
import pytest

from kgaug import KnowledgeGraph
from kgaug.datasets import example_path, load_example, powerlaw_kg
from kgaug.io import read_jsonl

# ---------------------------------------------------------------- load_example


def test_example_path_exists():
    p = example_path()
    assert p.is_file()
    assert p.suffix == ".jsonl"
    assert p.stat().st_size > 0


def test_load_example_is_a_typed_graph(example_kg):
    assert isinstance(example_kg, KnowledgeGraph)
    assert 300 <= example_kg.num_facts <= 1000
    codes = example_kg.entity_type_codes
    assert len(codes) == example_kg.num_entities
    assert (codes >= 0).all()
    assert all(example_kg.entity_type(e) is not None for e in example_kg.entities)
    assert example_kg.summary().untyped_entities == 0
    assert {"Person", "Location", "Object", "Date"} <= set(example_kg.types)


def test_load_example_relations(example_kg):
    rels = set(example_kg.relations)
    assert {"director", "spouse", "place of birth", "date of birth", "country"} <= rels
    counts = example_kg.relation_counts()
    for r in ("director", "spouse", "place of birth", "date of birth", "country"):
        assert counts[r] > 0


def test_load_example_types_fit_relations(example_kg):
    kg = example_kg
    for h, r, t in kg.triples():
        if r == "director":
            assert kg.entity_type(h) == "Object"
            assert kg.entity_type(t) == "Person"
        elif r == "date of birth":
            assert kg.entity_type(h) == "Person"
            assert kg.entity_type(t) == "Date"
        elif r == "place of birth":
            assert kg.entity_type(t) == "Location"
        elif r == "spouse":
            assert kg.entity_type(h) == kg.entity_type(t) == "Person"


def test_load_example_is_real_and_clean(example_kg):
    assert example_kg.provenance_counts()["real"] == example_kg.num_facts
    assert example_kg.load_report.duplicates == 0
    assert example_kg.load_report.self_loops == 0


def test_load_example_matches_file_and_is_fresh():
    a = load_example()
    assert a == read_jsonl(example_path())
    assert load_example() == a


# ---------------------------------------------------------------- powerlaw_kg


def test_powerlaw_same_seed_same_graph():
    a = powerlaw_kg(2000, 20, seed=7)
    b = powerlaw_kg(2000, 20, seed=7)
    assert a == b
    assert np.array_equal(a.head_ids, b.head_ids)
    assert np.array_equal(a.relation_ids, b.relation_ids)
    assert np.array_equal(a.tail_ids, b.tail_ids)


def test_powerlaw_different_seed_different_graph():
    a = powerlaw_kg(2000, 20, seed=1)
    b = powerlaw_kg(2000, 20, seed=2)
    assert a != b
    assert set(a.triples()) != set(b.triples())


@pytest.mark.parametrize(
    ("num_facts", "num_relations", "kwargs"),
    [
        (1000, 50, {}),
        (1234, 7, {"branching": 2.5}),
        (500, 1, {"correlated": True, "exponent": 2.1}),
        (3000, 3, {"relation_exponent": 2.0, "seed": 99}),
        (1, 1, {}),
        (0, 4, {}),
    ],
)
def test_powerlaw_exact_sizes(num_facts, num_relations, kwargs):
    kg = powerlaw_kg(num_facts, num_relations, **kwargs)
    assert kg.num_facts == num_facts
    assert kg.num_relations == num_relations
    assert kg.load_report.duplicates == 0
    branching = kwargs.get("branching", 4.0)
    assert kg.num_entities == max(2, round(num_facts / branching))
    assert kg.relations == tuple(f"r{i}" for i in range(num_relations))
    assert kg.entities == tuple(f"e{i}" for i in range(kg.num_entities))
    assert len(set(kg.triples())) == num_facts


def test_powerlaw_is_heavy_tailed():
    kg = powerlaw_kg(20_000, 10, seed=3)
    deg = np.bincount(kg.tail_ids, minlength=kg.num_entities)
    # a power law has hubs far above the mean degree
    assert deg.max() > 10 * deg.mean()


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((-1,), {}, "num_facts"),
        ((10, 0), {}, "num_relations"),
        ((10,), {"branching": 0}, "branching"),
        ((10,), {"branching": -2.0}, "branching"),
        ((10,), {"exponent": 2.0}, "exponent"),
        ((10,), {"exponent": 1.5}, "exponent"),
        ((1000, 1), {"branching": 1000.0}, "do not fit"),
    ],
)
def test_powerlaw_bad_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        powerlaw_kg(*args, **kwargs)

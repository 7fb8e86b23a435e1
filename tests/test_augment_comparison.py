"""Comparison augmentation (Algorithm 1): new entities with one attribute value each."""

from __future__ import annotations

from collections import Counter

import pytest

import kgaug
from kgaug import KnowledgeGraph, UnknownLabelError
from kgaug.augmentation.comparison import (
    ComparisonAugmentationLog,
    augment_comparison,
    comparison_phi,
)
from kgaug.records import ComparisonFact
from kgaug.verbalize.template import TemplateVerbalizer

ATTR = "country"


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    return kgaug.datasets.load_example()


@pytest.fixture(scope="module")
def augmented(kg):
    return augment_comparison(kg, ATTR, num_new=60, seed=0)


def values_of(kg: KnowledgeGraph, attribute: str = ATTR) -> dict[str, str]:
    return {h: t for h, r, t in kg.triples() if r == attribute}


# ---------------------------------------------------------------- what is added


def test_new_entities_count_types_and_one_value_each(kg, augmented):
    new, log = augmented
    added = set(new.entities) - set(kg.entities)
    assert added == set(log.new_entities)
    assert log.num_new_entities == len(log.new_entities) == 60
    assert log.num_new_facts == 60
    assert new.num_facts == kg.num_facts + 60
    assert log.entity_type == "Location"
    facts = [t for t in new.records() if t.head in added]
    assert len(facts) == 60
    per_head = Counter(t.head for t in facts)
    assert set(per_head.values()) == {1}
    for t in facts:
        assert t.relation == ATTR
        assert t.provenance == kgaug.Provenance.SYNTHETIC
        assert t.tail in values_of(kg).values()
        assert new.entity_type(t.head) == "Location"
    # no new entity appears as a tail or in any other relation
    assert not any(t in added for _, _, t in new.triples())


def test_real_facts_untouched(kg, augmented):
    new, _ = augmented
    real = new.subgraph(provenance=["real"])
    assert set(real.triples()) == set(kg.triples())
    assert real.num_facts == kg.num_facts
    assert new.subgraph(provenance=["real"], drop_isolated=True) == kg.subgraph(
        provenance=["real"], drop_isolated=True
    )
    for e in kg.entities:
        assert new.entity_type(e) == kg.entity_type(e)
    assert new.provenance_counts()["synthetic"] == 60


def test_balance_spreads_evenly_over_values(kg, augmented):
    _, log = augmented
    existing = Counter(values_of(kg).values())
    assert list(log.values) == sorted(existing)  # default: every existing value, sorted
    assert sum(log.values.values()) == 60
    counts = list(log.values.values())
    assert max(counts) - min(counts) <= 1
    # the remainder goes to the values with the fewest entities
    if max(counts) > min(counts):
        more = [v for v, c in log.values.items() if c == max(counts)]
        less = [v for v, c in log.values.items() if c == min(counts)]
        assert max(existing[v] for v in more) <= min(existing[v] for v in less)
    for v, n in log.entities_per_value.items():
        assert n == existing[v] + log.values[v]


def test_balance_exact_multiple_and_prefix_balanced(kg):
    values = ["France", "Italy", "Japan"]
    new, log = augment_comparison(kg, ATTR, num_new=9, values=values, seed=1)
    assert log.values == {"France": 3, "Italy": 3, "Japan": 3}
    got = values_of(new)
    assigned = [got[e] for e in log.new_entities]
    assert assigned == values * 3  # round-robin: every prefix is balanced


def test_unbalanced_follows_existing_distribution(kg):
    _, log = augment_comparison(kg, ATTR, num_new=300, seed=0, balance=False)
    assert sum(log.values.values()) == 300
    assert log.balance is False
    top = max(log.values, key=log.values.__getitem__)
    assert top == Counter(values_of(kg).values()).most_common(1)[0][0]
    assert max(log.values.values()) - min(log.values.values()) > 1


def test_given_values_may_be_new_entities(kg):
    new, log = augment_comparison(kg, ATTR, num_new=4, values=["Atlantis", "France"], seed=0)
    assert log.values == {"Atlantis": 2, "France": 2}
    assert new.entity_type("Atlantis") == "Location"  # the attribute's tail type
    assert "Atlantis" not in log.new_entities
    assert sorted(values_of(new)[e] for e in log.new_entities) == [
        "Atlantis",
        "Atlantis",
        "France",
        "France",
    ]


def test_entity_type_override(kg):
    new, log = augment_comparison(kg, ATTR, num_new=3, entity_type="Object", seed=0)
    assert log.entity_type == "Object"
    assert all(new.entity_type(e) == "Object" for e in log.new_entities)
    assert all(e.startswith("The ") for e in log.new_entities)  # NameGenerator's Object form


def test_other_functional_attribute(kg):
    new, log = augment_comparison(kg, "place of birth", num_new=10, seed=0)
    assert log.entity_type == "Person"
    assert all(new.entity_type(e) == "Person" for e in log.new_entities)
    assert all(len(e.split()) >= 2 for e in log.new_entities)  # person names


def test_zero_new_entities(kg):
    new, log = augment_comparison(kg, ATTR, num_new=0)
    assert new == kg
    assert log.num_new_entities == 0
    assert log.phi_after == log.phi_before
    assert set(log.values.values()) == {0}


# ---------------------------------------------------------------- determinism


def test_deterministic_by_seed(kg, augmented):
    new, log = augmented
    new2, log2 = augment_comparison(kg, ATTR, num_new=60, seed=0)
    assert new2 == new
    assert log2 == log
    _, log3 = augment_comparison(kg, ATTR, num_new=60, seed=1)
    assert set(log3.new_entities) != set(log.new_entities)
    a, _ = augment_comparison(kg, ATTR, num_new=50, seed=5, balance=False)
    b, _ = augment_comparison(kg, ATTR, num_new=50, seed=5, balance=False)
    assert a == b


# ---------------------------------------------------------------- phi


def test_comparison_phi_definition(kg):
    heads = values_of(kg)
    facts = kg.relation_counts()[ATTR]
    n = len(heads)
    assert comparison_phi(kg, ATTR) == pytest.approx(n * (n - 1) / facts)
    # non-functional attribute: distinct heads over facts
    spouses = [(h, t) for h, r, t in kg.triples() if r == "spouse"]
    m = len({h for h, _ in spouses})
    assert comparison_phi(kg, "spouse") == pytest.approx(m * (m - 1) / len(spouses))


def test_comparison_phi_small_and_empty():
    small = KnowledgeGraph.from_triples(
        [("a", "c", "X"), ("b", "c", "X"), ("d", "c", "Y"), ("a", "other", "b")]
    )
    assert comparison_phi(small, "c") == pytest.approx(3 * 2 / 3)
    empty = small.subgraph(relations=["other"])
    assert comparison_phi(empty, "c") == 0.0
    with pytest.raises(UnknownLabelError):
        comparison_phi(small, "cc ")


def test_comparison_phi_increases(kg, augmented):
    new, log = augmented
    assert log.phi_before == pytest.approx(comparison_phi(kg, ATTR))
    assert log.phi_after == pytest.approx(comparison_phi(new, ATTR))
    assert log.phi_after > log.phi_before
    assert log.phi_after - log.phi_before == pytest.approx(60)  # functional: phi = n - 1


# ---------------------------------------------------------------- paragraphs


def test_paragraph_hook_used(kg):
    calls: list[tuple[str, str, str]] = []

    def hook(entity: str, attribute: str, value: str) -> str:
        calls.append((entity, attribute, value))
        return f"{entity} is a city in {value}."

    new, log = augment_comparison(kg, ATTR, num_new=5, seed=0, paragraph_hook=hook)
    assert log.paragraphs is not None
    assert list(log.paragraphs) == list(log.new_entities)
    assert len(calls) == 5
    got = values_of(new)
    for entity, attribute, value in calls:
        assert attribute == ATTR
        assert got[entity] == value
        assert log.paragraphs[entity] == f"{entity} is a city in {value}."
    _, plain = augment_comparison(kg, ATTR, num_new=5, seed=0)
    assert plain.paragraphs is None


def test_paragraph_hook_must_return_str(kg):
    with pytest.raises(TypeError, match="paragraph_hook"):
        augment_comparison(kg, ATTR, num_new=2, paragraph_hook=lambda e, a, v: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match="paragraph_hook"):
        augment_comparison(kg, ATTR, num_new=2, paragraph_hook="text")  # type: ignore[arg-type]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("attribute", ["spouse", "cast member", "child"])
def test_non_functional_attribute_refused(kg, attribute):
    with pytest.raises(ValueError, match="not functional"):
        augment_comparison(kg, attribute, num_new=3)


def test_unknown_attribute_suggests_close_matches(kg):
    with pytest.raises(UnknownLabelError, match="country") as info:
        augment_comparison(kg, "contry", num_new=3)
    assert "country" in info.value.suggestions
    assert isinstance(info.value, KeyError)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"num_new": -1}, ValueError, "num_new"),
        ({"num_new": 2.0}, TypeError, "num_new"),
        ({"num_new": True}, TypeError, "num_new"),
        ({"num_new": 2, "values": []}, ValueError, "values"),
        ({"num_new": 2, "values": "France"}, TypeError, "values"),
        ({"num_new": 2, "values": ["France", "France"]}, ValueError, "duplicate"),
        ({"num_new": 2, "values": ["France", ""]}, ValueError, r"values\[1\]"),
        ({"num_new": 2, "provenance": "real"}, ValueError, "provenance"),
        ({"num_new": 2, "provenance": "made up"}, ValueError, "provenance"),
        ({"num_new": 2, "entity_type": "Date"}, ValueError, "Date"),
        ({"num_new": 2, "entity_type": ""}, ValueError, "entity_type"),
        ({"num_new": 2, "seed": "0"}, TypeError, "seed"),
        ({"num_new": 2, "balance": 1}, TypeError, "balance"),
    ],
)
def test_bad_arguments(kg, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        augment_comparison(kg, ATTR, **kwargs)


def test_attribute_without_facts_needs_values(kg):
    empty = kg.subgraph(relations=["director"])
    with pytest.raises(ValueError, match="no facts"):
        augment_comparison(empty, ATTR, num_new=2)
    new, log = augment_comparison(empty, ATTR, num_new=2, values=["France"], entity_type="X")
    assert log.values == {"France": 2}
    assert all(new.entity_type(e) == "X" for e in log.new_entities)


def test_counterfactual_provenance(kg):
    new, log = augment_comparison(kg, ATTR, num_new=3, provenance="counterfactual")
    assert log.provenance == "counterfactual"
    assert new.provenance_counts()["counterfactual"] == 3


# ---------------------------------------------------------------- log and downstream


def test_log_repr_and_str(augmented):
    _, log = augmented
    assert isinstance(log, ComparisonAugmentationLog)
    r = repr(log)
    assert r.startswith("ComparisonAugmentationLog(attribute='country'")
    assert "new_entities=60" in r and "->" in r
    s = str(log)
    assert "comparison phi" in s
    assert "United States" in s
    assert len(s.splitlines()) == 3 + len(log.entities_per_value)


def test_new_entities_verbalize_as_comparisons(augmented):
    new, log = augmented
    got = values_of(new)
    a, b = log.new_entities[:2]
    fact = ComparisonFact(
        entity1=a,
        entity2=b,
        attribute=ATTR,
        value1=got[a],
        value2=got[b],
        style="same",
        answer="yes" if got[a] == got[b] else "no",
    )
    q = TemplateVerbalizer(variants=False).verbalize([fact])[0]
    assert q.question == f"Are {a} and {b} located in the same country?"
    assert q.answer == fact.answer

"""Composition augmentation: plan, fictitious / counterfactual / LLM strategies."""

from __future__ import annotations

import json
from collections import Counter

import networkx as nx
import numpy as np
import pytest

import kgaug
from kgaug.augmentation import augment_inferred, diversify
from kgaug.schema import learn_schema
from kgaug.verbalize import TemplateVerbalizer

# augment() checks the OCR risk of its result and may warn (tests/test_ocr_risk.py tests that)
pytestmark = pytest.mark.filterwarnings("ignore::kgaug.errors.OCRRiskWarning")


@pytest.fixture(scope="module")
def example():
    return kgaug.datasets.load_example()


@pytest.fixture(scope="module")
def augmented(example):
    return kgaug.augment(example, phi_g=3.6, seed=0)


def _new_facts(orig, result):
    old = set(orig.triples())
    return [t for t in result.triples() if t not in old]


def test_every_reachable_relation_reaches_phi_g_by_exact_recount(example, augmented):
    before = kgaug.compute_phi(example, phi_g=3.6)
    assert before.failing  # the bundled KG needs augmentation
    kg2, plan = augmented
    after = kgaug.compute_phi(kg2, phi_g=3.6)
    # 'based on' (film -> book) cannot reach phi_G without breaking roles: books carry
    # at most 2 outgoing facts (author, publication date) and nothing points at films
    assert plan.unreachable == ["based on"]
    assert set(after.failing) == {"based on"}
    assert not plan.confirmed
    assert set(plan.planned) == set(before.failing) - {"based on"}
    for row in plan.rows:
        assert row.phi_after == pytest.approx(after.relations[row.relation].phi)
        if row.status == "planned":
            assert row.reached and row.phi_after >= 3.6
    reason = plan["based on"].reason
    assert "can carry only 2 outgoing fact(s)" in reason and "nothing can precede it" in reason


def test_no_relation_is_pushed_down(example, augmented):
    kg2, _ = augmented
    before = kgaug.compute_phi(example)
    after = kgaug.compute_phi(kg2)
    for r in example.relations:
        assert after.relations[r].phi >= min(before.relations[r].phi, 3.6)


def test_real_facts_untouched_and_provenance_recorded(example, augmented):
    kg2, plan = augmented
    real = kg2.subgraph(provenance=["real"])
    assert sorted(real.triples()) == sorted(example.triples())
    prov = kg2.provenance_counts()
    assert prov["real"] == example.num_facts
    assert prov["synthetic"] == plan.added_facts == kg2.num_facts - example.num_facts
    assert plan.added_by_provenance == {"synthetic": plan.added_facts, "counterfactual": 0}


def test_fictitious_facts_have_fictitious_heads_and_learned_types(example, augmented):
    kg2, plan = augmented
    schema = learn_schema(example)
    old = set(example.entities)
    new = _new_facts(example, kg2)
    assert new
    assert plan.added_entities == sum(1 for e in kg2.entities if e not in old)
    for h, r, t in new:
        assert h not in old, (h, r, t)  # no real entity gets a new property
        assert kg2.entity_type(h) == schema[r].head_type
        assert kg2.entity_type(t) == schema[r].tail_type


def test_functional_relations_keep_one_value(example, augmented):
    kg2, _ = augmented
    schema = learn_schema(example)
    per_head = Counter((h, r) for h, r, _ in kg2.triples())
    for (_, r), n in per_head.items():
        if schema[r].functional:
            assert n == 1, r


def test_no_cycles_created(example, augmented):
    kg2, _ = augmented
    new = _new_facts(example, kg2)
    g = nx.DiGraph()
    g.add_edges_from((h, t) for h, _, t in new)
    assert nx.is_directed_acyclic_graph(g)
    pairs = {(h, t) for h, _, t in kg2.triples()}
    assert not any((t, h) in pairs for h, _, t in new)


def test_deterministic_by_seed(example, augmented):
    kg2, _ = augmented
    again, _ = kgaug.augment(example, phi_g=3.6, seed=0)
    other, _ = kgaug.augment(example, phi_g=3.6, seed=1)
    assert again == kg2
    assert other != kg2


def test_plan_reports_lemma2_and_templates(augmented):
    _, plan = augmented
    row = plan["date of birth"]
    assert row.status == "planned" and row.strategy == "fictitious"
    assert row.template and "hub" in row.template
    assert row.deficit and row.deficit > 0
    assert row.lemma2_branching == pytest.approx(
        kgaug.bounds.min_relation_branching(plan.before.num_entities, 2, 3.6)
    )
    assert row.lemma2_facts > row.added_facts  # structure beats a random graph
    assert plan["spouse"].status == "ok"
    with pytest.raises(KeyError, match="did you mean 'spouse'"):
        plan["spose"]
    text = str(plan)
    assert "augmentation plan" in text and "date of birth" in text
    assert "<table>" in plan._repr_html_()
    json.dumps(plan.to_dict())


def test_unreachable_relation_is_explained():
    kg = kgaug.KnowledgeGraph.from_triples(
        [(f"film{i}", "publication date", f"{1990 + i % 3}") for i in range(6)]
        + [("p", "born in", "1990")],
        entity_types={
            **{f"film{i}": "Object" for i in range(6)},
            **{str(1990 + i): "Date" for i in range(3)},
            "p": "Person",
        },
    )
    _kg2, plan = kgaug.augment(kg, phi_g=3.6)
    assert "publication date" in plan.unreachable
    reason = plan["publication date"].reason
    assert "no relation ends at Object" in reason
    assert "no relation starts at Date" in reason
    assert not plan["publication date"].reached
    assert "publication date" in str(plan)


def test_relations_subset_and_skipped(example):
    _, plan = kgaug.augment(example, phi_g=3.6, relations=["country"], seed=0)
    assert plan.planned == ["country"]
    assert plan["country"].reached
    assert plan["publication date"].status == "skipped"
    assert plan["publication date"].added_facts == 0
    assert plan["publication date"].reason == "not among the requested relations"


def test_counterfactual_strategy_connects_existing_entities(example):
    kg2, plan = kgaug.augment(example, phi_g=3.6, strategy="counterfactual", seed=0)
    new = _new_facts(example, kg2)
    assert new
    assert set(kg2.entities) == set(example.entities)  # no new entities
    cf = kg2.subgraph(provenance=["counterfactual"])
    assert cf.num_facts == len(new) == plan.added_by_provenance["counterfactual"]
    schema = learn_schema(example)
    per_head = Counter((h, r) for h, r, _ in kg2.triples())
    pairs = {(h, t) for h, _, t in kg2.triples()}
    for h, r, t in new:
        assert kg2.entity_type(h) == schema[r].head_type
        # both endpoints keep a role the relation's real facts give them
        assert schema.role_of(h).name in schema[r].head_roles, (h, r, t)
        assert schema.role_of(t).name in schema[r].tail_roles, (h, r, t)
        if schema[r].functional:
            assert per_head[(h, r)] == 1
        assert (t, h) not in pairs
    # counterfactual alone cannot reach everything here; chained with fictitious it reaches
    # every relation but the one no strategy can raise within the roles
    assert plan.unreachable or not plan.confirmed
    kg3, both = kgaug.augment(example, phi_g=3.6, strategy=("counterfactual", "fictitious"), seed=0)
    assert both.unreachable == ["based on"]
    assert set(kgaug.compute_phi(kg3).failing) == {"based on"}
    assert kgaug.audit(example, kg3, ocr_risk=False).ok


def test_llm_proposer_is_filtered(example):
    calls = []

    def proposer(kg, relation, n):
        calls.append((relation, n))
        # one good fact (fictitious film -> well-connected real director), one wrong type,
        # one duplicate of a real fact
        yield ("The Invented Film", relation, "James Cameron")
        yield ("James Cameron", relation, "Titanic")
        yield ("Titanic", "director", "James Cameron")

    with pytest.raises(ValueError, match="proposer"):
        kgaug.augment(example, strategy="llm")
    kg2, plan = kgaug.augment(
        example,
        phi_g=3.6,
        strategy="llm",
        relations=["director"],
        proposer=proposer,
        max_rounds=1,
    )
    assert calls and calls[0][0] == "director"
    assert ("The Invented Film", "director", "James Cameron") in kg2
    assert ("James Cameron", "director", "Titanic") not in kg2
    assert any("rejected" in w for w in plan.warnings)


@pytest.mark.parametrize(
    "options",
    [
        {"hops": 3},
        {"hops": (2, 3)},
        {"count": "paths"},
        {"directed": False, "phi_g": 12.0},
        {"phi_g": 8.0},
    ],
)
def test_other_counting_modes_are_honest(example, options):
    kg2, plan = kgaug.augment(example, **{"phi_g": 3.6, "seed": 0, **options})
    rep = kgaug.compute_phi(
        kg2,
        hops=options.get("hops", 2),
        count=options.get("count", "facts"),
        directed=options.get("directed", True),
        phi_g=options.get("phi_g", 3.6),
    )
    # what the plan calls unreachable is exactly what the recount finds short, with a reason
    assert set(rep.failing) == set(plan.unreachable), str(plan)
    assert plan.confirmed == rep.generalizable
    assert all(plan[r].reason for r in plan.unreachable)
    assert plan.audit.ok
    if options.get("directed") is False:
        assert plan.confirmed  # inverse edges give every relation a way to phi_G


def test_untyped_powerlaw_graph():
    kg = kgaug.datasets.powerlaw_kg(5000, 8, branching=1.0, seed=0)
    assert kgaug.compute_phi(kg).failing
    kg2, plan = kgaug.augment(kg, seed=0)
    assert plan.confirmed
    assert kgaug.compute_phi(kg2).generalizable


def test_budget_is_respected(example):
    kg2, plan = kgaug.augment(example, phi_g=3.6, max_new_facts=50, seed=0)
    assert plan.added_facts <= 50
    assert any(r.status == "budget" for r in plan.rows)
    assert all("max_new_facts=50" in r.reason for r in plan.rows if r.status == "budget")
    assert not plan.confirmed
    # no fictitious entity without a fact
    used = {h for h, _, _ in kg2.triples()} | {t for _, _, t in kg2.triples()}
    assert set(kg2.entities) - set(example.entities) <= used
    assert plan.added_entities == kg2.num_entities - example.num_entities


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"strategy": "magic"}, ValueError, "unknown strategy"),
        ({"strategy": ()}, ValueError, "strategy is empty"),
        ({"margin": -0.1}, ValueError, "margin"),
        ({"max_rounds": 0}, ValueError, "max_rounds"),
        ({"relations": ["directr"]}, KeyError, "did you mean 'director'"),
        ({"phi_g": -1}, ValueError, "phi_g"),
    ],
)
def test_bad_arguments(example, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        kgaug.plan_augmentation(example, **kwargs)


def test_augment_inferred_gives_distinct_facts(example):
    s = augment_inferred(example, 100, seed=0)
    facts = {(a[0], tuple(b), a[-1]) for a, b in zip(s.nodes.tolist(), s.steps.tolist())}
    assert len(s) == len(facts) == 100
    total = kgaug.compute_phi(example).inferred
    with pytest.raises(ValueError, match=f"exceeds the {total} distinct"):
        augment_inferred(example, total + 1, seed=0)
    # uniform over facts: every fact equally likely, whatever its number of paths
    assert len(augment_inferred(example, total, seed=1)) == total


def test_diversify_keeps_answers(example):
    items = list(kgaug.sample_paths(example, 2, 20, seed=0))
    qs = TemplateVerbalizer().verbalize(items)
    out = diversify(qs, variants=3)
    assert out[0] == qs[0]
    assert len(out) > len(qs)
    by_source: dict = {}
    for q in out:
        by_source.setdefault(q.source, set()).add(q.answer)
    assert all(len(a) == 1 for a in by_source.values())
    assert diversify(qs, variants=1) == qs


def test_name_collisions_never_reuse_real_labels(example, augmented):
    kg2, _ = augmented
    new_entities = set(kg2.entities) - set(example.entities)
    assert new_entities
    assert all(not e.isdigit() for e in new_entities if kg2.entity_type(e) != "Date")
    assert np.all(kg2.entity_type_codes >= 0)  # every entity is typed


def test_overall_phi_target_makes_room_for_a_dataset(example):
    kg2, plan = kgaug.augment(example, phi_g=3.6, overall_phi=5.0, seed=0)
    assert plan.unreachable == ["based on"]  # the only thing not reached
    assert plan.overall_phi_after >= 5.0 > plan.overall_phi_before
    assert kgaug.compute_phi(kg2).phi == pytest.approx(plan.overall_phi_after)
    ds = kgaug.build_composition_dataset(kg2, phi=3.6, seed=0)
    assert ds.phi == pytest.approx(3.6, abs=0.01)
    _, impossible = kgaug.augment(example, phi_g=3.6, overall_phi=50.0, seed=0)
    assert not impossible.confirmed
    assert any("overall_phi=50" in w for w in impossible.warnings)


def test_templates_prefer_unambiguous_queries(example, augmented):
    """Each fictitious entity has at most one value per relation at phi_G = 3.6."""
    kg2, _ = augmented
    old = set(example.entities)
    per_head = Counter((h, r) for h, r, _ in kg2.triples() if h not in old)
    assert max(per_head.values()) == 1


def test_plans_are_honest_on_random_graphs():
    """confirmed is True exactly when the recount shows every relation at phi_G."""
    rng = np.random.default_rng(0)
    for i in range(30):
        V = int(rng.integers(20, 300))
        kg = kgaug.datasets.random_kg(
            V, int(V * rng.uniform(0.8, 2.5)), int(rng.integers(1, 5)), seed=i
        )
        for options in ({}, {"strategy": "counterfactual"}):
            kg2, plan = kgaug.augment(kg, seed=0, **options)
            rep = kgaug.compute_phi(kg2)
            assert plan.confirmed == all(r.generalizable for r in rep.rows if r.atomic), (
                i,
                options,
            )
            if not options:
                assert plan.confirmed, (i, str(plan))
            old = set(kg.triples())
            pairs = {(h, t) for h, _, t in kg2.triples()}
            for h, _, t in kg2.triples():
                if (h, _, t) not in old:
                    assert (t, h) not in pairs  # no 2-cycle closed


def test_fictitious_dates_never_become_real_heads():
    """Dates (years) with outgoing relations: new facts about a year need a new year."""
    triples = []
    types = {}
    for i in range(40):
        p, y = f"person{i}", str(1900 + i % 10)
        triples.append((p, "born in year", y))
        types[p] = "Person"
        types[y] = "Date"
    for y in range(1900, 1910):
        triples.append((str(y), "in era", "modern" if y > 1904 else "early"))
        triples.append((str(y), "event", f"event{y}"))
        types[f"event{y}"] = "Object"
    types["modern"] = types["early"] = "Era"
    kg = kgaug.KnowledgeGraph.from_triples(triples, entity_types=types)
    kg2, plan = kgaug.augment(kg, phi_g=3.6, seed=0)
    old = set(kg.entities)
    for h, r, t in kg2.triples():
        if (h, r, t) not in set(kg.triples()):
            assert h not in old, (h, r, t)
    per_head = Counter((h, r) for h, r, _ in kg2.triples() if r == "in era")
    assert max(per_head.values()) == 1
    assert plan.confirmed == kgaug.compute_phi(kg2).generalizable


def test_llm_functional_values_are_checked_among_proposals(example):
    def proposer(kg, relation, n):
        yield ("Invented Film", "director", "James Cameron")
        yield ("Invented Film", "director", "Steven Spielberg")  # second director: refused

    kg2, _plan = kgaug.augment(
        example, strategy="llm", relations="director", proposer=proposer, max_rounds=1
    )
    assert ("Invented Film", "director", "James Cameron") in kg2
    assert ("Invented Film", "director", "Steven Spielberg") not in kg2
    assert kg2.entity_type("Invented Film") == "Object"  # typed from the schema


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"seed": -1}, ValueError),
        ({"seed": 1.5}, TypeError),
        ({"max_rounds": 2.5}, TypeError),
        ({"max_new_facts": -5}, ValueError),
    ],
)
def test_integer_arguments_are_validated(example, kwargs, exc):
    with pytest.raises(exc, match=next(iter(kwargs))):
        kgaug.plan_augmentation(example, **kwargs)

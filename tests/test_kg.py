"""KnowledgeGraph: construction, lookups, counts, derived graphs, dunders."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import kgaug
from kgaug import KGFormatError, KnowledgeGraph, Provenance, Triple, UnknownLabelError
from kgaug.kg import KGSummary
from kgaug.records import Entity, LoadReport

KG = KnowledgeGraph


def _facts(kg: KnowledgeGraph) -> set[tuple[str, str, str]]:
    return set(kg.triples())


# ---------------------------------------------------------------- from_triples


def test_from_triples_labels_and_ids(obama):
    assert obama.num_entities == 5
    assert obama.num_relations == 3
    assert obama.num_facts == 5
    assert len(obama) == 5
    assert set(obama.entities) == {
        "Barack Obama",
        "Michelle Obama",
        "Chicago",
        "Honolulu",
        "United States",
    }
    assert set(obama.relations) == {"spouse", "born in", "country"}
    assert sorted(obama.entity_id(e) for e in obama.entities) == list(range(5))
    assert sorted(obama.relation_id(r) for r in obama.relations) == [0, 1, 2]
    for h, r, t in obama.triples():
        assert obama.entities[obama.entity_id(h)] == h
        assert obama.relations[obama.relation_id(r)] == r
        assert obama.entities[obama.entity_id(t)] == t


def test_from_triples_entity_types(obama):
    assert obama.entity_type("Barack Obama") == "Person"
    assert obama.entity_type("Chicago") == "Location"
    assert obama.entity_type("Honolulu") is None
    assert set(obama.types) == {"Person", "Location"}
    assert obama.entity("Chicago") == Entity(name="Chicago", type="Location")
    assert obama.entity("Honolulu") == Entity(name="Honolulu", type=None)
    codes = obama.entity_type_codes
    assert codes.dtype == np.int32
    assert len(codes) == obama.num_entities
    for e in obama.entities:
        c = int(codes[obama.entity_id(e)])
        assert (obama.types[c] if c >= 0 else None) == obama.entity_type(e)


def test_from_triples_isolated_typed_entity_counts_in_num_entities():
    kg = KG.from_triples([("a", "r", "b")], entity_types={"a": "Person", "lonely": "Location"})
    assert kg.num_entities == 3
    assert kg.num_facts == 1
    assert "lonely" in kg.entities
    assert kg.entity_type("lonely") == "Location"
    assert kg.branching == pytest.approx(1 / 3)
    assert kg.has_entity("lonely")
    assert not kg.has_entity("nobody")


def test_from_triples_entity_type_none_adds_untyped_isolated_entity():
    kg = KG.from_triples([("a", "r", "b")], entity_types={"c": None})
    assert kg.num_entities == 3
    assert kg.entity_type("c") is None
    assert kg.types == ()


def test_from_triples_declared_relations_and_entities():
    kg = KG.from_triples([("a", "r", "b")], relations=["unused"], entities=["z"])
    assert set(kg.relations) == {"r", "unused"}
    assert kg.relation_counts() == {"r": 1, "unused": 0}
    assert kg.num_entities == 3
    assert "z" in kg.entities


def test_from_triples_with_triple_records_keeps_their_provenance():
    kg = KG.from_triples(
        [
            Triple(head="a", relation="r", tail="b"),
            Triple(head="b", relation="r", tail="c", provenance="synthetic"),
            Triple(head="c", relation="r", tail="d", provenance=Provenance.COUNTERFACTUAL),
            ("d", "r", "e"),
        ],
        provenance="synthetic",
    )
    prov = {(r.head, r.tail): r.provenance for r in kg.records()}
    assert prov == {
        ("a", "b"): Provenance.REAL,
        ("b", "c"): Provenance.SYNTHETIC,
        ("c", "d"): Provenance.COUNTERFACTUAL,
        ("d", "e"): Provenance.SYNTHETIC,  # plain tuples take the provenance argument
    }


def test_from_triples_default_provenance_is_real(obama):
    assert obama.provenance_counts() == {"real": 5, "synthetic": 0, "counterfactual": 0}
    assert set(obama.provenance_codes.tolist()) == {0}


@pytest.mark.parametrize(
    ("bad", "index"),
    [
        ([("a", "r", "b"), ("a", "r")], 1),
        ([("a", "r", "b"), ("x", "y", "b"), ("a", "r", "b", "c")], 2),
        (["abc"], 0),
        ([("a", "r", "b"), 42], 1),
        ([b"abc"], 0),
    ],
)
def test_from_triples_malformed_triple_names_record_index(bad, index):
    with pytest.raises(KGFormatError) as ei:
        KG.from_triples(bad)
    assert ei.value.line == index
    assert f"record {index}" in str(ei.value)
    assert "triple" in str(ei.value)
    assert ei.value.path is None


@pytest.mark.parametrize(
    ("triple", "field"),
    [
        ((1, "r", "b"), "head"),
        (("a", None, "b"), "relation"),
        (("a", "r", 3.5), "tail"),
        (("a", "r", b"b"), "tail"),
    ],
)
def test_from_triples_non_string_label(triple, field):
    with pytest.raises(KGFormatError) as ei:
        KG.from_triples([("x", "y", "z"), triple])
    msg = str(ei.value)
    assert f"{field} must be a string" in msg
    assert "record 1" in msg


@pytest.mark.parametrize(
    ("triple", "field"),
    [(("", "r", "b"), "head"), (("a", "  ", "b"), "relation"), (("a", "r", "\t"), "tail")],
)
def test_from_triples_empty_label(triple, field):
    with pytest.raises(KGFormatError, match=f"record 0: empty {field}"):
        KG.from_triples([triple])


def test_from_triples_bad_provenance_argument():
    with pytest.raises(ValueError, match="provenance must be one of"):
        KG.from_triples([("a", "r", "b")], provenance="made-up")


def test_from_triples_empty():
    kg = KG.from_triples([])
    assert kg.num_entities == kg.num_relations == kg.num_facts == 0
    assert kg.branching is None
    assert list(kg) == []
    assert kg.summary().branching is None
    assert "n/a" in str(kg.summary())


# ---------------------------------------------------------------- duplicates / load report


def test_duplicates_are_merged_and_counted():
    kg = KG.from_triples(
        [
            ("a", "r", "b"),
            ("a", "r", "b"),
            ("b", "r", "b"),  # self-loop
            ("a", "r", "b"),
            ("b", "r", "b"),
            ("b", "s", "c"),
        ]
    )
    assert kg.num_facts == 3
    rep = kg.load_report
    assert isinstance(rep, LoadReport)
    assert rep.records == 6
    assert rep.duplicates == 3
    assert rep.self_loops == 1
    assert rep.skipped == 0
    assert rep.source == "<triples>"
    assert "6 records, 3 duplicates merged, 1 self-loops, 0 skipped" in str(rep)
    assert kg.summary().self_loops == 1


@pytest.mark.parametrize(
    ("provs", "kept"),
    [
        (["synthetic", "real"], Provenance.REAL),
        (["real", "counterfactual"], Provenance.REAL),
        (["counterfactual", "synthetic"], Provenance.SYNTHETIC),
        (["counterfactual", "synthetic", "real"], Provenance.REAL),
        (["counterfactual", "counterfactual"], Provenance.COUNTERFACTUAL),
    ],
)
def test_duplicate_provenance_keeps_most_trusted(provs, kept):
    triples = [Triple(head="a", relation="r", tail="b", provenance=p) for p in provs]
    triples.append(Triple(head="x", relation="r", tail="y", provenance="counterfactual"))
    kg = KG.from_triples(triples)
    assert kg.num_facts == 2
    recs = {r.as_tuple(): r.provenance for r in kg.records()}
    assert recs[("a", "r", "b")] == kept
    assert recs[("x", "r", "y")] == Provenance.COUNTERFACTUAL
    assert kg.load_report.duplicates == len(provs) - 1


def test_provenance_codes_order():
    assert Provenance.REAL.code < Provenance.SYNTHETIC.code < Provenance.COUNTERFACTUAL.code
    for p in Provenance:
        assert Provenance.from_code(p.code) is p


# ---------------------------------------------------------------- immutability, ordering


def test_arrays_are_read_only(obama):
    for arr in (
        obama.head_ids,
        obama.relation_ids,
        obama.tail_ids,
        obama.provenance_codes,
        obama.entity_type_codes,
    ):
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1


def test_init_raises_type_error():
    with pytest.raises(TypeError, match="from_triples"):
        KnowledgeGraph()


def test_labels_are_tuples(obama):
    assert isinstance(obama.entities, tuple)
    assert isinstance(obama.relations, tuple)
    assert isinstance(obama.types, tuple)


def test_canonical_sort_order():
    triples = [
        ("c", "s", "a"),
        ("a", "t", "c"),
        ("b", "r", "a"),
        ("a", "r", "c"),
        ("a", "r", "b"),
        ("c", "r", "b"),
        ("a", "s", "a"),
    ]
    kg = KG.from_triples(triples)
    h, r, t = kg.head_ids, kg.relation_ids, kg.tail_ids
    keys = list(zip(h.tolist(), r.tolist(), t.tolist()))
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert _facts(kg) == set(triples)
    # triples() follows the same order
    e, rl = kg.entities, kg.relations
    assert list(kg.triples()) == [(e[a], rl[b], e[c]) for a, b, c in keys]
    # the input order does not change the set of facts
    assert _facts(KG.from_triples(reversed(triples))) == set(triples)


# ---------------------------------------------------------------- lookups


def test_unknown_entity_suggests_close_matches(obama):
    with pytest.raises(UnknownLabelError) as ei:
        obama.entity_id("Barak Obama")
    err = ei.value
    assert isinstance(err, KeyError)
    assert "Barack Obama" in err.suggestions
    assert "did you mean" in str(err)
    assert "'Barack Obama'" in str(err)
    assert str(err).startswith("unknown entity 'Barak Obama'")
    assert err.kind == "entity"
    assert err.label == "Barak Obama"


def test_unknown_relation_suggests_close_matches(obama):
    with pytest.raises(UnknownLabelError, match="did you mean 'spouse'") as ei:
        obama.relation_id("spuse")
    assert ei.value.kind == "relation"


def test_unknown_label_without_matches(obama):
    with pytest.raises(KeyError) as ei:
        obama.entity_type("zzzzzzzzzz")
    assert "did you mean" not in str(ei.value)
    assert ei.value.suggestions == []


def test_unknown_label_case_insensitive_fallback(obama):
    with pytest.raises(UnknownLabelError) as ei:
        obama.relation_id("COUNTRY")
    assert "country" in ei.value.suggestions


def test_entity_type_unknown_raises(obama):
    with pytest.raises(UnknownLabelError):
        obama.entity_type("Paris")
    with pytest.raises(UnknownLabelError):
        obama.entity("Paris")


def test_contains_with_tuples_and_triples(obama):
    assert ("Barack Obama", "spouse", "Michelle Obama") in obama
    assert ("Michelle Obama", "spouse", "Barack Obama") not in obama  # directed
    assert ("Barack Obama", "born in", "Chicago") not in obama
    assert ("Barack Obama", "born in", "Honolulu") in obama
    assert Triple(head="Chicago", relation="country", tail="United States") in obama
    # membership is about the fact, not its provenance
    assert (
        Triple(head="Chicago", relation="country", tail="United States", provenance="synthetic")
        in obama
    )
    assert Triple(head="Chicago", relation="country", tail="Honolulu") not in obama
    # unknown labels, wrong shapes, unhashables
    assert ("Paris", "country", "France") not in obama
    assert ("Chicago", "capital", "United States") not in obama
    assert ["Chicago", "country", "United States"] not in obama
    assert ("Chicago", "country") not in obama
    assert "Chicago" not in obama
    assert (["Chicago"], "country", "United States") not in obama


def test_iteration_triples_records(obama):
    listed = list(obama)
    assert listed == list(obama.triples())
    assert len(listed) == 5
    assert all(isinstance(t, tuple) and len(t) == 3 for t in listed)
    recs = list(obama.records())
    assert all(isinstance(r, Triple) for r in recs)
    assert [r.as_tuple() for r in recs] == listed
    assert {r.provenance for r in recs} == {Provenance.REAL}


# ---------------------------------------------------------------- counts & summary


def test_counts():
    kg = KG.from_triples(
        [
            ("a", "r", "b"),
            ("b", "r", "c"),
            ("c", "s", "a"),
            Triple(head="c", relation="s", tail="b", provenance="counterfactual"),
            Triple(head="b", relation="s", tail="a", provenance="synthetic"),
        ],
        relations=["t"],
        entity_types={"a": "X", "b": "X", "c": "Y", "d": "Z"},
    )
    assert kg.relation_counts() == {"r": 2, "s": 3, "t": 0}
    assert kg.provenance_counts() == {"real": 3, "synthetic": 1, "counterfactual": 1}
    assert kg.type_counts() == {"X": 2, "Y": 1, "Z": 1}


def test_type_counts_excludes_untyped(obama):
    assert obama.type_counts() == {"Person": 2, "Location": 1}


def test_summary(obama):
    s = obama.summary()
    assert isinstance(s, KGSummary)
    assert s.num_entities == 5
    assert s.num_relations == 3
    assert s.num_facts == 5
    assert s.num_types == 2
    assert s.untyped_entities == 2
    assert s.self_loops == 0
    assert s.branching == pytest.approx(1.0)
    assert s.facts_per_relation == {"spouse": 1, "born in": 2, "country": 2}
    assert s.entities_per_type == {"Person": 2, "Location": 1}
    assert s.facts_per_provenance == {"real": 5, "synthetic": 0, "counterfactual": 0}
    with pytest.raises(Exception):  # noqa: B017, PT011 - frozen pydantic model
        s.num_facts = 3  # type: ignore[misc]


def test_summary_str(obama):
    text = str(obama.summary())
    lines = text.splitlines()
    assert lines[0] == "5 entities, 3 relations, 5 facts (b = |F_A|/|V| = 1.000), 0 self-loops"
    assert lines[1] == "provenance: real 5, synthetic 0, counterfactual 0"
    assert lines[2] == "types: Person 2, Location 1, untyped 2"
    assert lines[3].split() == ["relation", "facts"]
    rows = {ln.rsplit(None, 1)[0].strip(): int(ln.rsplit(None, 1)[1]) for ln in lines[4:]}
    assert rows == {"spouse": 1, "born in": 2, "country": 2}


def test_summary_str_without_types():
    text = str(KG.from_triples([("a", "rel", "b")]).summary())
    assert "types:" not in text
    assert "rel" in text


def test_summary_str_columns_aligned():
    lines = str(KG.from_triples([("a", "r", "b"), ("b", "s", "c")]).summary()).splitlines()
    header = next(ln for ln in lines if ln.startswith("relation"))
    rows = [ln for ln in lines[lines.index(header) + 1 :]]
    assert rows
    for row in rows:
        assert len(row) == len(header)


def test_repr(obama):
    assert repr(obama) == "KnowledgeGraph(entities=5, relations=3, facts=5, types=2)"
    kg = obama.add_facts([("Barack Obama", "born in", "Kenya")]).add_facts(
        [("Chicago", "country", "Canada")], provenance="counterfactual"
    )
    r = repr(kg)
    assert "facts=7" in r
    assert "synthetic=1" in r
    assert "counterfactual=1" in r
    assert "real=" not in r


def test_repr_html_escapes_labels():
    kg = KG.from_triples([("a", "<b>bold</b>", "c")], entity_types={"a": "T&U"})
    h = kg._repr_html_()
    assert h.startswith("<div>")
    assert h.endswith("</div>")
    assert "&lt;b&gt;bold&lt;/b&gt;" in h
    assert "<b>bold</b>" not in h
    assert "T&amp;U: 1" in h
    assert "2 entities, 1 relations, 1 facts" in h
    assert "<table>" in h
    assert "real: 1" in h


def test_repr_html_without_types(obama):
    h = KG.from_triples([("a", "r", "b")])._repr_html_()
    assert "types: none" in h
    assert "spouse" in obama._repr_html_()


# ---------------------------------------------------------------- add_facts


def test_add_facts_new_entities_and_relations(obama):
    kg = obama.add_facts([("Michelle Obama", "child", "Malia Obama")])
    assert kg is not obama
    assert kg.num_facts == 6
    assert kg.num_entities == 6
    assert kg.num_relations == 4
    assert "Malia Obama" in kg.entities
    assert "child" in kg.relations
    assert ("Michelle Obama", "child", "Malia Obama") in kg
    # the original is untouched
    assert obama.num_facts == 5
    assert ("Michelle Obama", "child", "Malia Obama") not in obama
    # old labels keep their ids, types survive
    assert kg.entities[: obama.num_entities] == obama.entities
    assert kg.relations[: obama.num_relations] == obama.relations
    assert kg.entity_type("Barack Obama") == "Person"
    assert kg.entity_type("Chicago") == "Location"


def test_add_facts_default_provenance_is_synthetic(obama):
    kg = obama.add_facts([("Michelle Obama", "child", "Malia Obama")])
    assert kg.provenance_counts() == {"real": 5, "synthetic": 1, "counterfactual": 0}
    rec = next(r for r in kg.records() if r.relation == "child")
    assert rec.provenance is Provenance.SYNTHETIC


def test_add_facts_explicit_provenance_and_triple_records(obama):
    kg = obama.add_facts(
        [
            ("Barack Obama", "born in", "Chicago"),
            Triple(head="Chicago", relation="country", tail="Kenya", provenance="real"),
        ],
        provenance="counterfactual",
    )
    prov = {r.as_tuple(): r.provenance for r in kg.records()}
    assert prov[("Barack Obama", "born in", "Chicago")] is Provenance.COUNTERFACTUAL
    assert prov[("Chicago", "country", "Kenya")] is Provenance.REAL


def test_add_facts_duplicates_of_existing_facts(obama):
    kg = obama.add_facts(
        [
            ("Barack Obama", "spouse", "Michelle Obama"),
            ("Barack Obama", "spouse", "Michelle Obama"),
            ("Michelle Obama", "spouse", "Barack Obama"),
        ]
    )
    assert kg.num_facts == 6
    assert kg.load_report.records == 8
    assert kg.load_report.duplicates == 2
    prov = {r.as_tuple(): r.provenance for r in kg.records()}
    # the existing real fact stays real
    assert prov[("Barack Obama", "spouse", "Michelle Obama")] is Provenance.REAL
    assert prov[("Michelle Obama", "spouse", "Barack Obama")] is Provenance.SYNTHETIC


def test_add_facts_types_new_and_untyped_entities(obama):
    kg = obama.add_facts(
        [("Michelle Obama", "child", "Malia Obama")],
        entity_types={"Malia Obama": "Person", "Honolulu": "Location", "Kenya": "Location"},
    )
    assert kg.entity_type("Malia Obama") == "Person"
    assert kg.entity_type("Honolulu") == "Location"
    assert kg.entity_type("Kenya") == "Location"  # typed-only entity becomes isolated
    assert kg.num_entities == 7
    assert set(kg.types) == {"Person", "Location"}
    # same type again is fine
    kg2 = kg.add_facts([], entity_types={"Barack Obama": "Person"})
    assert kg2 == kg


def test_add_facts_new_type_label(obama):
    kg = obama.add_facts(
        [("Obama Presidency", "held by", "Barack Obama")],
        entity_types={"Obama Presidency": "Event"},
    )
    assert set(kg.types) == {"Person", "Location", "Event"}
    assert kg.entity_type("Obama Presidency") == "Event"


def test_add_facts_retyping_conflict(obama):
    with pytest.raises(KGFormatError, match="already typed 'Person'") as ei:
        obama.add_facts([], entity_types={"Barack Obama": "Location"})
    assert "Barack Obama" in str(ei.value)


def test_add_facts_malformed(obama):
    with pytest.raises(KGFormatError, match="record 1"):
        obama.add_facts([("a", "r", "b"), ("a", "r")])
    with pytest.raises(KGFormatError, match="empty relation"):
        obama.add_facts([("a", "", "b")])
    with pytest.raises(ValueError, match="provenance must be one of"):
        obama.add_facts([("a", "r", "b")], provenance="fake")


# ---------------------------------------------------------------- with_entity_types


def test_with_entity_types(obama):
    kg = obama.with_entity_types(
        {"Honolulu": "Location", "United States": "Country", "Barack Obama": None}
    )
    assert kg.entity_type("Honolulu") == "Location"
    assert kg.entity_type("United States") == "Country"
    assert kg.entity_type("Barack Obama") is None
    assert kg.entity_type("Michelle Obama") == "Person"  # unnamed entity keeps its type
    assert set(kg.types) == {"Person", "Location", "Country"}
    assert _facts(kg) == _facts(obama)
    # the original is untouched
    assert obama.entity_type("Barack Obama") == "Person"
    assert obama.entity_type("Honolulu") is None


def test_with_entity_types_unknown_entity(obama):
    with pytest.raises(UnknownLabelError, match="Chicago"):
        obama.with_entity_types({"Chicag": "Location"})


# ---------------------------------------------------------------- subgraph


@pytest.fixture
def mixed() -> KnowledgeGraph:
    return KG.from_triples(
        [
            ("a", "r", "b"),
            ("b", "s", "c"),
            Triple(head="c", relation="t", tail="d", provenance="synthetic"),
            Triple(head="d", relation="r", tail="e", provenance="counterfactual"),
        ],
        entity_types={"a": "A", "e": "E", "x": "X"},
    )


def test_subgraph_relations(mixed):
    sub = mixed.subgraph(relations=["r"])
    assert _facts(sub) == {("a", "r", "b"), ("d", "r", "e")}
    # vocabulary kept by default
    assert sub.entities == mixed.entities
    assert sub.relations == mixed.relations
    assert sub.relation_counts() == {"r": 2, "s": 0, "t": 0}
    assert sub.entity_type("e") == "E"
    assert sub.provenance_counts()["counterfactual"] == 1


def test_subgraph_provenance(mixed):
    real = mixed.subgraph(provenance=["real"])
    assert _facts(real) == {("a", "r", "b"), ("b", "s", "c")}
    not_cf = mixed.subgraph(provenance=[Provenance.REAL, "synthetic"])
    assert _facts(not_cf) == {("a", "r", "b"), ("b", "s", "c"), ("c", "t", "d")}
    both = mixed.subgraph(relations=["r", "t"], provenance=["synthetic", "counterfactual"])
    assert _facts(both) == {("c", "t", "d"), ("d", "r", "e")}
    with pytest.raises(ValueError, match="provenance must be one of"):
        mixed.subgraph(provenance=["imagined"])


def test_subgraph_drop_isolated(mixed):
    sub = mixed.subgraph(relations=["r"], drop_isolated=True)
    assert _facts(sub) == {("a", "r", "b"), ("d", "r", "e")}
    assert set(sub.entities) == {"a", "b", "d", "e"}
    assert sub.relations == ("r",)
    assert sub.entity_type("a") == "A"
    assert sub.entity_type("e") == "E"
    assert sub.entity_type("b") is None
    assert not sub.has_entity("x")
    # lookups work on the re-indexed graph
    assert ("d", "r", "e") in sub
    assert sub.provenance_counts() == {"real": 1, "synthetic": 0, "counterfactual": 1}


def test_subgraph_drop_isolated_empty_result(mixed):
    sub = mixed.subgraph(provenance=[], drop_isolated=True)
    assert sub.num_facts == 0
    assert sub.num_entities == 0
    assert sub.num_relations == 0


def test_subgraph_unknown_relation(mixed):
    with pytest.raises(UnknownLabelError, match="unknown relation 'rr'; did you mean 'r'"):
        mixed.subgraph(relations=["rr"])


# ---------------------------------------------------------------- equality & pickling


def test_equality(obama):
    types = {"Barack Obama": "Person", "Michelle Obama": "Person", "Chicago": "Location"}
    same = KG.from_triples(list(obama.triples()), entity_types=types)
    assert same == obama
    assert obama != obama.with_entity_types({"Honolulu": "Location"})
    assert obama != obama.with_entity_types({"Chicago": "City"})
    assert obama != obama.add_facts([("Chicago", "country", "Canada")])
    assert obama != obama.subgraph(provenance=["synthetic"])
    # provenance takes part in equality
    syn = KG.from_triples(list(obama.triples()), provenance="synthetic")
    real = KG.from_triples(list(obama.triples()))
    assert syn != real
    assert obama != "not a graph"
    assert (obama == 3) is False
    with pytest.raises(TypeError):
        hash(obama)


def test_equality_ignores_ids_and_label_order(obama):
    types = {"Chicago": "Location", "Michelle Obama": "Person", "Barack Obama": "Person"}
    shuffled = KG.from_triples(list(reversed(list(obama.triples()))), entity_types=types)
    assert shuffled.entities != obama.entities  # other ids ...
    assert shuffled == obama  # ... same graph
    assert obama == shuffled


def test_equality_vocabulary_matters():
    base = KG.from_triples([("a", "r", "b")])
    assert base != KG.from_triples([("a", "r", "b")], entities=["isolated"])
    assert base != KG.from_triples([("a", "r", "b")], relations=["unused"])
    assert base == KG.from_triples([("a", "r", "b"), ("a", "r", "b")])
    assert base != KG.from_triples([("b", "r", "a")])


def test_pickle_round_trip(obama):
    kg = obama.add_facts([("Michelle Obama", "child", "Malia Obama")])
    kg.entity_id("Chicago")  # populate the lazy index before pickling
    back = pickle.loads(pickle.dumps(kg))
    assert back == kg
    assert back is not kg
    assert back.entity_id("Malia Obama") == kg.entity_id("Malia Obama")
    assert back.relation_id("child") == kg.relation_id("child")
    assert back.entity_type("Barack Obama") == "Person"
    assert ("Michelle Obama", "child", "Malia Obama") in back
    assert back.load_report == kg.load_report
    assert back.provenance_counts() == kg.provenance_counts()
    with pytest.raises(UnknownLabelError):
        back.entity_id("Nobody")


def test_deepcopy_round_trip(obama):
    back = copy.deepcopy(obama)
    assert back == obama
    assert back.entity_id("Chicago") == obama.entity_id("Chicago")


def test_pickle_round_trip_keeps_arrays_read_only(obama):
    back = pickle.loads(pickle.dumps(obama))
    for arr in (
        back.head_ids,
        back.relation_ids,
        back.tail_ids,
        back.provenance_codes,
        back.entity_type_codes,
    ):
        assert not arr.flags.writeable


def test_example_pickle_round_trip(example_kg):
    back = pickle.loads(pickle.dumps(example_kg))
    assert back == example_kg
    assert back.entity_id(example_kg.entities[-1]) == example_kg.num_entities - 1


# ---------------------------------------------------------------- from_arrays


def test_from_arrays_basic():
    kg = KG.from_arrays(
        [1, 0, 0, 0],
        [0, 1, 0, 1],
        [2, 1, 1, 1],
        entities=["a", "b", "c"],
        relations=["r", "s"],
        entity_types=[0, -1, 1],
        types=["T", "U"],
        provenance=[2, 1, 0, 0],
        source="mine",
    )
    assert kg.num_facts == 3
    assert list(kg) == [("a", "r", "b"), ("a", "s", "b"), ("b", "r", "c")]
    assert kg.load_report.records == 4
    assert kg.load_report.duplicates == 1
    assert kg.load_report.source == "mine"
    prov = {r.as_tuple(): r.provenance for r in kg.records()}
    assert prov[("a", "s", "b")] is Provenance.REAL  # min of synthetic and real
    assert prov[("b", "r", "c")] is Provenance.COUNTERFACTUAL
    assert kg.entity_type("a") == "T"
    assert kg.entity_type("b") is None
    assert kg.head_ids.dtype == np.int64


def test_from_arrays_scalar_provenance():
    kg = KG.from_arrays([0], [0], [1], entities=["a", "b"], relations=["r"], provenance="synthetic")
    assert kg.provenance_counts()["synthetic"] == 1
    with pytest.raises(ValueError, match="provenance must be one of"):
        KG.from_arrays([0], [0], [1], entities=["a", "b"], relations=["r"], provenance="nope")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"heads": [0, 1], "relation_ids": [0], "tails": [1]}, "same length"),
        ({"heads": [0], "relation_ids": [0], "tails": [0, 1]}, "same length"),
        ({"heads": [5]}, r"heads\[0\] = 5 is out of range for 2 entities"),
        ({"heads": [-1]}, r"heads\[0\] = -1 is out of range"),
        ({"tails": [2]}, r"tails\[0\] = 2 is out of range for 2 entities"),
        ({"relation_ids": [1]}, r"relation_ids\[0\] = 1 is out of range for 1 relations"),
        ({"entities": ["a", "a"]}, "entities labels must be unique; 'a' appears twice"),
        ({"relations": ["r", "r"], "relation_ids": [0]}, "relations labels must be unique"),
        ({"entities": ["a", ""]}, "entities labels must be non-empty strings"),
        ({"entities": ["a", 3]}, "entities labels must be non-empty strings"),
        ({"relations": ["  "]}, "relations labels must be non-empty strings"),
        ({"types": ["T", "T"], "entity_types": [0, 0]}, "types labels must be unique"),
        ({"provenance": [3]}, r"provenance codes must lie in 0\.\.2"),
        ({"provenance": [-1]}, r"provenance codes must lie in 0\.\.2"),
        ({"provenance": [0, 0]}, "provenance has 2 entries for 1 triples"),
        ({"entity_types": [0]}, "entity_types has 1 entries for 2 entities"),
        ({"entity_types": [0, 1], "types": ["T"]}, r"entity type codes must lie in -1\.\.0"),
        ({"entity_types": [-2, 0], "types": ["T"]}, r"entity type codes must lie in -1\.\.0"),
    ],
)
def test_from_arrays_validation(kwargs, match):
    args = {
        "heads": [0],
        "relation_ids": [0],
        "tails": [1],
        "entities": ["a", "b"],
        "relations": ["r"],
    }
    args.update(kwargs)
    h, r, t = args.pop("heads"), args.pop("relation_ids"), args.pop("tails")
    with pytest.raises(ValueError, match=match):
        KG.from_arrays(h, r, t, **args)


def test_from_arrays_empty():
    kg = KG.from_arrays([], [], [], entities=["a"], relations=["r"])
    assert kg.num_facts == 0
    assert kg.num_entities == 1
    assert kg.relation_counts() == {"r": 0}


def test_public_exports():
    assert kgaug.KnowledgeGraph is KnowledgeGraph
    assert issubclass(KGFormatError, ValueError)
    assert issubclass(UnknownLabelError, KeyError)


@pytest.mark.parametrize(
    ("heads", "rels", "prov"),
    [([0.7, 1.9], [0, 0], "real"), ([0, 1], [True, False], "real"), ([0, 1], [0, 0], [1.5, 0])],
)
def test_from_arrays_refuses_non_integer_ids(heads, rels, prov):
    with pytest.raises(TypeError, match="must hold integers"):
        KnowledgeGraph.from_arrays(
            heads, rels, [1, 0], entities=["a", "b"], relations=["r", "s"], provenance=prov
        )


def test_retyping_keeps_the_load_report_and_cache_can_be_cleared(obama):
    import kgaug

    retyped = obama.with_entity_types({"Honolulu": "Location"})
    assert retyped.load_report == obama.load_report
    kgaug.compute_phi(retyped)
    assert retyped._cache
    retyped.clear_cache()
    assert not retyped._cache
    assert kgaug.compute_phi(retyped) == kgaug.compute_phi(obama)

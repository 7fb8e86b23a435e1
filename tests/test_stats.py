"""compute_phi and PhiReport."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kgaug
from _brute import brute_enumerate
from kgaug.paths import ChainCounts


@st.composite
def small_kgs(draw: st.DrawFn):
    n = draw(st.integers(1, 6))
    R = draw(st.integers(1, 3))
    edges = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, R - 1), st.integers(0, n - 1)),
            max_size=22,
        )
    )
    return n, R, edges


def _brute_per_relation(edges, n, R, hops, directed, count):
    """Per base relation: inferred facts/paths whose chain involves r, straight from DFS."""
    inv = np.zeros(R, dtype=np.int64)
    first = np.zeros(R, dtype=np.int64)
    pure = np.zeros(R, dtype=np.int64)
    for h in hops:
        facts, paths = brute_enumerate(edges, n, R, h, directed)
        items = [(ch, 1) for _, ch, _ in facts] if count == "facts" else list(paths.items())
        for ch, c in items:
            base = [lab % R for lab in ch]
            for r in set(base):
                inv[r] += c
            first[base[0]] += c
            if len(set(base)) == 1:
                pure[base[0]] += c
    return inv, first, pure


@given(
    small_kgs(),
    st.sampled_from([(2,), (3,), (2, 3)]),
    st.booleans(),
    st.sampled_from(["facts", "paths"]),
)
def test_per_relation_counts_match_brute_force(g, hops, directed, count):
    n, R, edges = g
    kg = kgaug.KnowledgeGraph.from_arrays(
        [e[0] for e in edges],
        [e[1] for e in edges],
        [e[2] for e in edges],
        entities=[f"e{i}" for i in range(n)],
        relations=[f"r{i}" for i in range(R)],
    )
    rep = kgaug.compute_phi(kg, hops=hops, count=count, directed=directed)
    inv, first, pure = _brute_per_relation(edges, n, R, hops, directed, count)
    atomic = np.bincount([e[1] for e in set(edges)], minlength=R)
    for r in range(R):
        row = rep.relations[f"r{r}"]
        assert row.inferred == inv[r]
        assert row.inferred_first_hop == first[r]
        assert row.inferred_pure == pure[r]
        assert row.atomic == atomic[r]
        if atomic[r]:
            assert row.phi == pytest.approx(inv[r] / atomic[r])
            assert row.branching == pytest.approx(atomic[r] / n)
        else:
            assert row.phi is None and row.generalizable is None


def _cc(chains, counts, hops, R, directed=True):
    labels = tuple(f"r{i}" for i in range(R))
    if not directed:
        labels += tuple(f"r{i}^-1" for i in range(R))
    return ChainCounts(
        np.array(chains, dtype=np.int64).reshape(-1, hops),
        np.array(counts, dtype=np.int64),
        labels,
        hops,
        "facts",
        directed,
        R,
    )


def test_involvement_counts_a_repeated_relation_once():
    cc = _cc([(0, 0), (0, 1), (1, 0)], [5, 2, 3], 2, 2)
    np.testing.assert_array_equal(cc.involves(), [10, 5])
    np.testing.assert_array_equal(cc.first_hop(), [7, 3])
    np.testing.assert_array_equal(cc.pure(), [5, 0])
    cc3 = _cc([(0, 0, 0), (0, 1, 0), (1, 1, 1)], [1, 4, 2], 3, 2)
    np.testing.assert_array_equal(cc3.involves(), [5, 6])
    np.testing.assert_array_equal(cc3.pure(), [1, 2])


def test_inverse_labels_fold_onto_their_relation():
    # (r0, r0^-1) involves r0 once and is "pure" r0 in undirected mode
    cc = _cc([(0, 2), (1, 3), (0, 3)], [4, 1, 2], 2, 2, directed=False)
    np.testing.assert_array_equal(cc.involves(), [6, 3])
    np.testing.assert_array_equal(cc.pure(), [4, 1])
    folded = cc.by_relation()
    assert folded.labels == ("r0", "r1")
    assert folded[("r0", "r0")] == 4 and folded[("r0", "r1")] == 2


def test_obama_report(obama):
    rep = kgaug.compute_phi(obama, phi_g=1.0)
    # facts: (Obama, spouse, born in, Chicago), (Michelle, born in, country, US),
    #        (Obama, born in, country, US)
    assert rep.inferred == 3
    assert rep.atomic == 5
    assert rep.phi == pytest.approx(3 / 5)
    assert rep.relations["spouse"].inferred == 1
    assert rep.relations["spouse"].phi == 1.0
    assert rep.relations["born in"].inferred == 3
    assert rep.relations["born in"].inferred_first_hop == 2
    assert rep.relations["country"].inferred == 2
    assert rep.relations["country"].inferred_first_hop == 0
    assert rep.relations["country"].phi == 1.0
    assert rep.relations["born in"].phi == 1.5
    assert rep.generalizable
    assert rep.failing == []
    rep2 = kgaug.compute_phi(obama, phi_g=1.2)
    assert rep2.failing == ["country", "spouse"]  # lowest phi first, then by name
    assert rep2.partially_generalizable and not rep2.generalizable
    assert rep2.verdict == "partially generalizable"
    assert rep2.relations["spouse"].needed == 1  # ceil(1.2 * 1) - 1


def test_paths_versus_facts():
    kg = kgaug.KnowledgeGraph.from_triples(
        [("a", "r", "b"), ("b", "s", "c"), ("a", "r", "d"), ("d", "s", "c")]
    )
    assert kgaug.compute_phi(kg).inferred == 1
    assert kgaug.compute_phi(kg, count="paths").inferred == 2


def test_hops_tuple_is_summed(example_kg):
    r2 = kgaug.compute_phi(example_kg, hops=2)
    r3 = kgaug.compute_phi(example_kg, hops=3)
    r23 = kgaug.compute_phi(example_kg, hops=(2, 3))
    assert r23.inferred == r2.inferred + r3.inferred
    assert r23.inferred_by_hops == {2: r2.inferred, 3: r3.inferred}
    for rel in example_kg.relations:
        assert (
            r23.relations[rel].inferred == r2.relations[rel].inferred + r3.relations[rel].inferred
        )
    assert r23.chains(3).total == r3.inferred
    with pytest.raises(KeyError, match="hops"):
        r2.chains(3)


def test_example_kg_is_sparse_enough_to_fail(example_kg):
    rep = kgaug.compute_phi(example_kg, phi_g=3.6)
    assert rep.failing, "the bundled KG must have relations below phi_G = 3.6"
    assert rep.passing
    assert not rep.generalizable
    assert "publication date" in rep.failing


def test_empty_graph_gives_explicit_zeros_and_none():
    kg = kgaug.KnowledgeGraph.from_triples([])
    rep = kgaug.compute_phi(kg, hops=(2, 3))
    assert rep.atomic == 0 and rep.inferred == 0
    assert rep.phi is None and rep.branching is None
    assert rep.rows == ()
    assert not rep.generalizable and rep.verdict == "not generalizable"
    json.dumps(rep.to_dict())
    assert "phi = -" in str(rep)


def test_relation_without_facts_gives_none_not_zero_division():
    kg = kgaug.KnowledgeGraph.from_triples([("a", "r", "b"), ("b", "r", "c")], relations=["unused"])
    rep = kgaug.compute_phi(kg, phi_g=0.5)
    row = rep.relations["unused"]
    assert row.atomic == 0 and row.inferred == 0
    assert row.phi is None and row.generalizable is None and row.needed is None
    assert row.branching == 0.0
    assert rep.empty_relations == ["unused"]
    assert rep.generalizable  # empty relations are not part of the verdict
    assert rep.relations["r"].phi == 0.5


def test_unknown_relation_lists_close_matches(obama):
    rep = kgaug.compute_phi(obama)
    with pytest.raises(KeyError, match="did you mean 'spouse'"):
        rep.relations["spose"]
    with pytest.raises(kgaug.UnknownLabelError):
        rep.relations["zzz"]
    assert "spouse" in rep.relations
    assert len(rep.relations) == 3
    assert list(rep.relations) == list(obama.relations)


@pytest.mark.parametrize("hops", [1, 4, (2, 4), ()])
def test_bad_hops(obama, hops):
    with pytest.raises(ValueError, match="hops"):
        kgaug.compute_phi(obama, hops=hops)


def test_bad_hops_suggests_sampling(obama):
    with pytest.raises(ValueError, match="sampling"):
        kgaug.compute_phi(obama, hops=4)


def test_repeated_hops_rejected(obama):
    with pytest.raises(ValueError, match="repeats"):
        kgaug.compute_phi(obama, hops=(2, 2))


@pytest.mark.parametrize("phi_g", [0, -1, math.inf, math.nan])
def test_bad_phi_g(obama, phi_g):
    with pytest.raises(ValueError, match="phi_g"):
        kgaug.compute_phi(obama, phi_g=phi_g)


def test_bad_count(obama):
    with pytest.raises(ValueError, match="count"):
        kgaug.compute_phi(obama, count="edges")  # type: ignore[arg-type]


def test_report_exports(example_kg):
    rep = kgaug.compute_phi(example_kg, hops=(2, 3), directed=False, count="paths")
    d = rep.to_dict()
    s = json.dumps(d)
    back = json.loads(s)
    assert back["count"] == "paths" and back["directed"] is False
    assert back["hops"] == [2, 3]
    assert back["verdict"] == rep.verdict
    assert len(back["rows"]) == example_kg.num_relations
    recs = rep.to_records()
    assert recs[0]["relation"] == example_kg.relations[0]
    df = rep.to_pandas()
    assert list(df.index) == list(example_kg.relations)
    assert df.loc["spouse", "atomic"] == rep.relations["spouse"].atomic


def test_report_text_and_html(example_kg):
    rep = kgaug.compute_phi(example_kg)
    text = str(rep)
    assert "2-hop distinct inferred facts, directed, phi_G = 3.6" in text
    assert "partially generalizable" in text
    for rel in example_kg.relations:
        assert rel in text
    assert "NO" in text and "yes" in text
    html = rep._repr_html_()
    assert "<table>" in html and "fde2e2" in html  # failing rows highlighted
    assert repr(rep).startswith("phi report")


def test_report_is_frozen(obama):
    rep = kgaug.compute_phi(obama)
    with pytest.raises(Exception, match="frozen"):
        rep.phi = 1.0  # type: ignore[misc]


def test_undirected_increases_phi(example_kg):
    d = kgaug.compute_phi(example_kg)
    u = kgaug.compute_phi(example_kg, directed=False)
    assert u.inferred > d.inferred
    assert u.directed is False and "undirected" in str(u)


def test_random_graph_involves_tracks_two_b_minus_b_r():
    """The docs' note: on random graphs 2-hop phi_r ('involves r') is about 2b - b_r."""
    kg = kgaug.datasets.powerlaw_kg(60_000, 4, branching=3.0, exponent=50.0, seed=3)
    rep = kgaug.compute_phi(kg)
    b = rep.branching
    for row in rep.rows:
        assert row.phi == pytest.approx(2 * b - row.branching, rel=0.05)


@given(st.integers(1, 10**7), st.integers(0, 10**8), st.floats(0.5, 20))
def test_needed_is_zero_exactly_when_generalizable(a, inf, g):
    from kgaug.stats import _needed

    k = _needed(inf, a, g)
    assert k >= 0
    assert ((inf / a) >= g) == (k == 0)
    assert (inf + k) / a >= g
    if k:
        assert (inf + k - 1) / a < g


def test_needed_large_relation_regression():
    from kgaug.stats import _needed

    a, inf, g = 6166475, 27132490, 4.4
    assert inf / a >= g and _needed(inf, a, g) == 0


def test_reports_compare_equal_and_round_trip(example_kg):
    a = kgaug.compute_phi(example_kg, hops=(2, 3))
    b = kgaug.compute_phi(example_kg, hops=(2, 3))
    assert a == b
    assert kgaug.PhiReport.model_validate(a.to_dict()) == a
    assert a != kgaug.compute_phi(example_kg, hops=2)
    assert a.relations is a.relations  # built once


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"hops": "23"}, TypeError, "sequence of ints"),
        ({"phi_g": True}, TypeError, "phi_g must be a number"),
        ({"phi_g": "x"}, TypeError, "phi_g must be a number"),
        ({"directed": "no"}, TypeError, "directed must be True or False"),
    ],
)
def test_argument_types_are_checked(obama, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        kgaug.compute_phi(obama, **kwargs)


def test_undirected_label_collision_is_refused():
    kg = kgaug.KnowledgeGraph.from_triples([("a", "r", "b"), ("b", "r^-1", "c")])
    assert kgaug.compute_phi(kg).inferred == 1
    with pytest.raises(ValueError, match="collides with the inverse"):
        kgaug.compute_phi(kg, directed=False)

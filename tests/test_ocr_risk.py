"""The OCR risk report: relation pairs whose answers determine each other."""

from __future__ import annotations

import argparse
import json
import math
import warnings
from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kgaug
from kgaug.errors import OCRRiskWarning, RiskTooLargeError
from kgaug.ocr import (
    RiskReport,
    check_augmentation,
    compare_risk,
    risk_report,
    warn_ocr_risk,
)
from kgaug.ocr import risk as risk_module
from kgaug.ocr.cli import add_commands
from kgaug.ocr.risk import heldout_hits

CITIES = ["Paris", "Rome", "Berlin", "Madrid"]
LANGS = {"Paris": "French", "Rome": "Italian", "Berlin": "German", "Madrid": "Spanish"}
CODES = ["Java", "Python", "Rust", "Go"]


def _people(n: int = 40, seed: int = 0) -> list[tuple[str, str, str]]:
    """People who live in a city, speak its language (causal) and code in a random language."""
    rng = np.random.default_rng(seed)
    facts = []
    for i in range(n):
        city = CITIES[i % 4]
        facts.append((f"p{i}", "lives in", city))
        facts.append((f"p{i}", "speaks", LANGS[city]))
        facts.append((f"p{i}", "codes in", CODES[int(rng.integers(4))]))
    return facts


@pytest.fixture(scope="module")
def people() -> kgaug.KnowledgeGraph:
    return kgaug.KnowledgeGraph.from_triples(_people())


# ---------------------------------------------------------------------------- brute force
def _hits_brute(values: list[str], leave_out: int) -> float:
    """Held-out plurality hit for observation ``leave_out`` among ``values``."""
    others = Counter(values[:leave_out] + values[leave_out + 1 :])
    return _plurality_hit(others, values[leave_out])


def _plurality_hit(others: Counter[str], value: str) -> float:
    """1/#winners when ``value`` is among the most frequent of ``others`` (0 if empty)."""
    if not others:
        return 0.0
    top = max(others.values())
    winners = [v for v, k in others.items() if k == top]
    return 1.0 / len(winners) if value in winners else 0.0


def _brute(kg: kgaug.KnowledgeGraph) -> dict[tuple[str, str], dict[str, float]]:
    """The report's definitions, subject by subject (leave-one-subject-out)."""
    ans: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for h, r, t in kg.triples():
        ans[h][r].append(t)
    out = {}
    for r1 in kg.relations:
        for r2 in kg.relations:
            if r1 == r2:
                continue
            S = [s for s in ans if r1 in ans[s] and r2 in ans[s]]
            if not S:
                continue
            obs = [(s, b, c) for s in S for b in ans[s][r1] for c in ans[s][r2]]
            n = len(obs)
            N = Counter((b, c) for _, b, c in obs)
            Nb = Counter(b for _, b, _ in obs)
            purity = sum(max(k for (b2, _), k in N.items() if b2 == b) for b in Nb) / n
            H = -sum(k / n * math.log2(k / Nb[b]) for (b, _), k in N.items())
            Nc = Counter(c for _, _, c in obs)
            Hc = -sum(k / n * math.log2(k / n) for k in Nc.values())
            subj_per_b = Counter(b for s in S for b in set(ans[s][r1]))
            # held-out: each observation (s, b, c) whose b is held by >= 2 subjects, predicted
            # from the r2 answers of the OTHER subjects with b (s's own answers left out)
            hits, shared = 0.0, 0
            for s, b, c in obs:
                if subj_per_b[b] < 2:
                    continue
                shared += 1
                others = Counter(
                    c2 for s2 in S if s2 != s and b in ans[s2][r1] for c2 in ans[s2][r2]
                )
                hits += _plurality_hit(others, c)
            # chance: the same without b, from the r2 answers of the other subjects of S
            chance = (
                sum(
                    _plurality_hit(Counter(c2 for s2 in S if s2 != s for c2 in ans[s2][r2]), c)
                    for s, _, c in obs
                )
                / n
            )
            heldout = hits / max(shared, 1)
            strength = 0.0 if shared == 0 or chance >= 1 else (heldout - chance) / (1 - chance)
            bs_shared = {b for s in S for b in ans[s][r1]}
            exposed = sum(
                1
                for s in ans
                if r1 in ans[s] and r2 not in ans[s]
                for b in ans[s][r1]
                if b in bs_shared
            )
            out[(r1, r2)] = {
                "support": len(S),
                "observations": n,
                "shared": shared,
                "answers": len(bs_shared),
                "shared_answers": sum(1 for k in subj_per_b.values() if k >= 2),
                "purity": purity,
                "conditional_entropy": H,
                "entropy": Hc,
                "heldout": heldout,
                "chance": chance,
                "strength": strength,
                "exposed": exposed,
                "score": max(strength, 0.0) * (1 - 1 / math.sqrt(max(shared, 1))),
            }
    return out


def _random_kg(seed: int, n_subj: int = 30, n_rel: int = 4) -> kgaug.KnowledgeGraph:
    rng = np.random.default_rng(seed)
    facts = set()
    for s in range(n_subj):
        for r in range(n_rel):
            if rng.random() < 0.6:
                for _ in range(int(rng.integers(1, 3))):  # some multi-valued answers
                    facts.add((f"s{s}", f"r{r}", f"a{int(rng.integers(5))}"))
    return kgaug.KnowledgeGraph.from_triples(sorted(facts))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_report_matches_brute_force(seed):
    kg = _random_kg(seed)
    rep = risk_report(kg, min_support=1)
    ref = _brute(kg)
    assert {(r.r1, r.r2) for r in rep} == set(ref)
    for row in rep:
        want = ref[(row.r1, row.r2)]
        for key, value in want.items():
            assert getattr(row, key) == pytest.approx(value, abs=1e-9), (row.r1, row.r2, key)
    # ranked by score
    scores = rep.column("score")
    assert (np.diff(scores) <= 1e-12).all()


def test_report_matches_brute_force_in_small_chunks(monkeypatch):
    # multi-valued subjects are enumerated in chunks: one run per chunk gives the same numbers
    kg = _random_kg(3)
    want = risk_report(kg, min_support=1).to_records()
    monkeypatch.setattr(risk_module, "_CHUNK", 1)
    got = risk_report(kg, min_support=1).to_records()
    assert [(x["r1"], x["r2"], x["example"]) for x in got] == [
        (x["r1"], x["r2"], x["example"]) for x in want
    ]
    for x, y in zip(got, want):
        assert {k: v for k, v in x.items() if not isinstance(v, str)} == pytest.approx(
            {k: v for k, v in y.items() if not isinstance(v, str)}, abs=1e-12
        )
    ref = _brute(kg)
    for row in risk_report(kg, min_support=1):
        assert row.heldout == pytest.approx(ref[(row.r1, row.r2)]["heldout"], abs=1e-9)
        assert row.chance == pytest.approx(ref[(row.r1, row.r2)]["chance"], abs=1e-9)


def test_a_subject_is_left_out_with_all_its_answers():
    # identifiers are unique; p0 codes in two languages. One subject with two r2 answers
    # does not make its own r1 answer "shared", and is never predicted from itself
    facts = [(f"p{i}", "id", f"id{i}") for i in range(30)]
    facts += [(f"p{i}", "codes in", CODES[i % 4]) for i in range(30)]
    facts += [("p0", "codes in", "Rust")]
    row = risk_report(kgaug.KnowledgeGraph.from_triples(facts))[("id", "codes in")]
    assert row.observations == 31 and row.shared == 0 and row.shared_answers == 0
    assert row.strength == 0.0 and row.heldout == 0.0
    # p0 (Java, Rust) and p4 (Java) share an id: p0's Java is predicted from p4 alone (hit),
    # p0's Rust too (miss), p4's Java from p0's two languages (a tie: 1/2)
    twins = [*facts, ("p0", "id", "twin"), ("p4", "id", "twin")]
    row = risk_report(kgaug.KnowledgeGraph.from_triples(twins))[("id", "codes in")]
    assert row.shared == 3 and row.shared_answers == 1
    assert row.heldout == pytest.approx(1.5 / 3)  # leave-one-observation-out gave 1/3
    # chance: a subject with several r1 answers does not vote for its own c
    hub = [(f"q{i}", "likes", f"x{i}") for i in range(3)] + [
        (f"q{i}", "city", "A") for i in range(3)
    ]
    hub += [("q9", "likes", f"x{i}") for i in range(3)] + [("q9", "city", "B")]
    row = risk_report(kgaug.KnowledgeGraph.from_triples(hub))[("likes", "city")]
    # q9's 3 observations are predicted from q0..q2 (A: miss), q0..q2 from the others (A: hit)
    assert row.observations == 6 and row.chance == pytest.approx(3 / 6)


@given(st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=7), min_size=1, max_size=5))
def test_heldout_hits_matches_brute_force(groups):
    g, v, c = [], [], []
    expected = 0.0
    for gi, values in enumerate(groups):
        labels = [str(x) for x in values]
        expected += sum(_hits_brute(labels, i) for i in range(len(labels)))
        for value, k in Counter(labels).items():
            g.append(gi)
            v.append(value)
            c.append(k)
    hits = heldout_hits(np.array(g), np.array(c))
    assert hits.sum() == pytest.approx(expected)
    assert (hits >= 0).all() and (hits <= np.array(c)).all()


# ---------------------------------------------------------------------------- meaning
def test_perfect_association_vs_independent(people):
    rep = risk_report(people)
    causal = rep[("lives in", "speaks")]
    assert causal.strength == 1.0 and causal.purity == 1.0
    assert causal.conditional_entropy == 0.0 and causal.heldout == 1.0
    assert causal.support == 40 and causal.shared == 40 and causal.shared_answers == 4
    assert causal.example.endswith("(10/10)")
    indep = rep[("lives in", "codes in")]
    assert indep.strength < 0.25
    assert indep.conditional_entropy > 1.5
    assert rep.rows[0].strength == 1.0  # perfect pairs rank first
    assert {(r.r1, r.r2) for r in rep.strong(0.9)} == {
        ("lives in", "speaks"),
        ("speaks", "lives in"),
    }


def test_singleton_answers_do_not_score_high():
    # every subject has its own r1 answer: purity is trivially 1, but nothing can be learned
    facts = [(f"p{i}", "id", f"id{i}") for i in range(30)]
    facts += [(f"p{i}", "codes in", CODES[i % 4]) for i in range(30)]
    rep = risk_report(kgaug.KnowledgeGraph.from_triples(facts))
    row = rep[("id", "codes in")]
    assert row.purity == 1.0 and row.conditional_entropy == 0.0  # the plug-in is fooled
    assert row.shared == 0 and row.shared_answers == 0
    assert row.strength == 0.0 and row.score == 0.0 and row.example == ""
    # a single pair of subjects sharing an answer is weak evidence: a small score
    facts2 = [*facts, ("p0", "id", "twin"), ("p4", "id", "twin")]
    row2 = risk_report(kgaug.KnowledgeGraph.from_triples(facts2))[("id", "codes in")]
    assert row2.shared == 2 and row2.score < 0.35


def test_constant_answer_is_not_an_association():
    facts = [(f"p{i}", "lives in", CITIES[i % 4]) for i in range(20)]
    facts += [(f"p{i}", "planet", "Earth") for i in range(20)]
    row = risk_report(kgaug.KnowledgeGraph.from_triples(facts))[("lives in", "planet")]
    assert row.purity == 1.0 and row.chance == 1.0 and row.strength == 0.0


def test_exposure_counts_subjects_without_the_implication():
    facts = _people(12)
    facts += [(f"q{i}", "lives in", "Paris") for i in range(5)]  # no language known
    facts += [("q9", "lives in", "Lyon")]  # an answer no one with a language shares
    rep = risk_report(kgaug.KnowledgeGraph.from_triples(facts))
    assert rep[("lives in", "speaks")].exposed == 5


def test_bad_input():
    single = kgaug.KnowledgeGraph.from_triples([("a", "spouse", "b"), ("b", "spouse", "a")])
    with pytest.raises(ValueError, match=r"1 relation.*spouse.*at least two"):
        risk_report(single)
    two = kgaug.KnowledgeGraph.from_triples(_people(8))
    with pytest.raises(ValueError, match="0 relation"):
        risk_report(two.subgraph(relations=[]))
    with pytest.raises(KeyError, match="did you mean 'speaks'"):
        risk_report(two, relations=["speak", "lives in"])
    with pytest.raises(ValueError, match="1 relation"):
        risk_report(two, relations=["speaks"])
    with pytest.raises(ValueError, match="min_support must be >= 1"):
        risk_report(two, min_support=0)
    with pytest.raises(TypeError, match="KnowledgeGraph"):
        risk_report(_people(3))  # type: ignore[arg-type]
    with pytest.raises(RiskTooLargeError, match="max_cells") as info:
        risk_report(two, max_cells=5)
    assert isinstance(info.value, ValueError)
    assert info.value.cells == 8 * 9 and info.value.max_cells == 5


def test_relations_filter_and_min_support(people):
    rep = risk_report(people, relations=["lives in", "speaks"])
    assert len(rep) == 2
    assert len(risk_report(people, min_support=41)) == 0
    assert "0 relation pairs" in str(risk_report(people, min_support=41))


def test_no_shared_subjects_and_many_relations():
    disjoint = kgaug.KnowledgeGraph.from_triples([("a", "r1", "x"), ("b", "r2", "y")])
    rep = risk_report(disjoint, min_support=1)
    assert len(rep) == 0 and rep.rows == [] and rep.num_subjects == 0
    assert check_augmentation(disjoint, disjoint).flagged == []
    # more relations than the pair lookup table holds (1100^2 > 2^20): the sorted path
    facts = [(f"x{i}", f"r{i}", "v") for i in range(1100)]
    facts += [(f"p{i}", "r0", CITIES[i % 2]) for i in range(6)]
    facts += [(f"p{i}", "r1099", LANGS[CITIES[i % 2]]) for i in range(6)]
    kg = kgaug.KnowledgeGraph.from_triples(facts)
    big = risk_report(kg)
    assert len(big) == 2 and big[("r0", "r1099")].strength == 1.0
    assert big[("r0", "r1099")].support == 6


def test_report_api(people):
    rep = risk_report(people)
    assert isinstance(rep, RiskReport) and len(rep) == 6
    with pytest.raises(KeyError, match="no relation pair"):
        rep[("speaks", "speaks")]
    assert len(rep.top(2)) == 2 and rep.top(2)[0] == rep.rows[0]
    records = rep.to_records()
    assert records[0]["r1"] in ("lives in", "speaks") and "strength" in records[0]
    json.dumps(rep.to_dict())
    text = str(rep)
    assert "lives in -> speaks" in text and "strength" in text and "held-out" in text
    assert "<table>" in rep._repr_html_() and "#fde2e2" in rep._repr_html_()
    assert rep.column("support").tolist() == [40] * 6
    with pytest.raises(KeyError, match="unknown column"):
        rep.column("nope")
    pd = pytest.importorskip("pandas")
    assert isinstance(rep.to_pandas(), pd.DataFrame)


# ---------------------------------------------------------------------------- before/after
def _rewired(kg: kgaug.KnowledgeGraph) -> kgaug.KnowledgeGraph:
    """Counterfactual facts that make 'codes in' a function of 'lives in' for new people."""
    cf = {"Paris": "Java", "Rome": "Python", "Berlin": "Rust", "Madrid": "Go"}
    new = []
    for i in range(40, 120):
        city = CITIES[i % 4]
        new += [(f"p{i}", "lives in", city), (f"p{i}", "codes in", cf[city])]
    return kg.add_facts(new, provenance="counterfactual")


def test_compare_flags_a_created_association(people):
    after = _rewired(people)
    cmp = check_augmentation(after)  # default: against the real facts
    flagged = {(r.r1, r.r2) for r in cmp.flagged}
    assert ("lives in", "codes in") in flagged
    row = next(r for r in cmp.flagged if (r.r1, r.r2) == ("lives in", "codes in"))
    assert row.strength_before is not None and row.strength_before < 0.25
    assert row.strength_after > 0.5 and not row.new and row.support_after == 120
    # the causal pair was strong already: not flagged
    assert ("lives in", "speaks") not in flagged
    msg = cmp.message()
    assert "lives in -> codes in" in msg and "strength" in msg
    assert "UP" in str(cmp) and "<table>" in cmp._repr_html_()
    assert cmp.to_records()[0]["flagged"] is True
    # attributed to the augmentation: the 80 counterfactual people, named in the rule
    assert row.added_support == 80 and row.rule_added == 20
    assert len(row.rule_added_examples) == 3
    assert all(int(x[1:]) >= 40 for x in row.rule_added_examples)
    assert "(80 with added facts)" in msg and "20 of them added: p" in msg
    assert all(r.added_support is None for r in cmp.rows if not r.flagged)
    # an explicit original gives the same answer
    same = check_augmentation(after, people)
    assert {(r.r1, r.r2) for r in same.flagged} == flagged
    # nothing new: nothing flagged
    assert check_augmentation(people).flagged == []
    assert "no relation pair" in check_augmentation(people).message()


def _thin_birthplaces() -> kgaug.KnowledgeGraph:
    """Only two people share a birthplace (Tokyo, both Japanese): strength 1.0 on 2."""
    facts = [("t0", "born in", "Tokyo"), ("t1", "born in", "Tokyo")]
    facts += [("t0", "citizen of", "Japan"), ("t1", "citizen of", "Japan")]
    for i in range(18):  # everyone else born in a city of their own
        facts += [(f"u{i}", "born in", f"city{i}"), (f"u{i}", "citizen of", f"land{i % 5}")]
    facts += [(f"x{i}", "born in", CITIES[i % 4]) for i in range(12)]  # no citizenship
    return kgaug.KnowledgeGraph.from_triples(facts)


def test_thin_strength_before_does_not_mask_a_created_association():
    real = _thin_birthplaces()
    before = risk_report(real)[("born in", "citizen of")]
    assert before.strength == 1.0 and before.shared == 2  # < min_support = 3
    # augmentation makes "born in -> citizen of" strong on many added subjects
    new = []
    for i in range(60):
        new += [(f"f{i}", "born in", CITIES[i % 4]), (f"f{i}", "citizen of", CODES[i % 4])]
    aug = real.add_facts(new, provenance="synthetic")
    cmp = check_augmentation(aug)
    row = next(r for r in cmp.rows if (r.r1, r.r2) == ("born in", "citizen of"))
    assert row.flagged and not row.new and not row.established_before
    assert row.strength_before == 1.0 and row.shared_before == 2  # the raw value, reported
    assert row.established_after and row.shared_after >= 60
    assert row.strength_after >= 0.5 and row.increase == row.strength_after  # before = 0
    assert row.exposed_after == 12 and row.added_support == 60
    assert "strength 1.00 (2 shared observations, not established) ->" in cmp.message()
    line = next(x for x in str(cmp).splitlines() if x.startswith("born in -> citizen of"))
    assert "+1.000*" in line and "NEW" in line
    with pytest.warns(OCRRiskWarning, match="born in -> citizen of"):
        warn_ocr_risk(real, aug)
    # the same min_support as the reports: at 2, the real graph establishes it
    loose = check_augmentation(aug, min_support=2)
    row2 = next(r for r in loose.rows if (r.r1, r.r2) == ("born in", "citizen of"))
    assert row2.established_before and not row2.flagged
    assert row2.increase == pytest.approx(row2.strength_after - 1.0)
    # a thin pair that augmentation leaves thin is not flagged either (strength 1.0 -> 1.0)
    other = real.add_facts([(f"f{i}", "likes", "tea") for i in range(5)], provenance="synthetic")
    rows3 = check_augmentation(other).rows
    row3 = next(r for r in rows3 if (r.r1, r.r2) == ("born in", "citizen of"))
    assert row3.strength_after == 1.0 and not row3.established_after and not row3.flagged


def test_compare_new_pairs_and_thresholds(people):
    only_city = people.subgraph(relations=["lives in"])
    after = _rewired(only_city)
    cmp = compare_risk(risk_report(people, relations=["lives in", "speaks"]), risk_report(after))
    row = next(r for r in cmp.rows if (r.r1, r.r2) == ("lives in", "codes in"))
    assert row.new and row.strength_before is None and row.flagged
    assert "a new pair" in cmp.message()
    assert check_augmentation(after, only_city).flagged  # a single-relation original
    # against the full graph: 'codes in -> lives in' was at 0.25 already (rise 0.75)
    strict = compare_risk(risk_report(people), risk_report(after), threshold=1.0, min_increase=0.9)
    assert [(r.r1, r.r2) for r in strict.flagged] == [("lives in", "codes in")]
    with pytest.raises(ValueError, match=r"threshold must lie in \[0, 1\]"):
        compare_risk(risk_report(people), risk_report(after), threshold=1.5)
    with pytest.raises(TypeError, match="min_increase must be a number"):
        compare_risk(risk_report(people), risk_report(after), min_increase="x")  # type: ignore[arg-type]


def test_warn_ocr_risk(people):
    after = _rewired(people)
    with pytest.warns(OCRRiskWarning) as record:
        cmp = warn_ocr_risk(people, after)
    assert cmp is not None and cmp.flagged
    assert "lives in -> codes in" in record[0].message.details  # every pair, in details
    assert record[0].message.comparison is cmp
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_ocr_risk(people, people) is not None
    with pytest.warns(OCRRiskWarning, match=r"not checked: the graph is too large.*relations="):
        assert warn_ocr_risk(people, after, max_cells=10) is None


def test_warn_ocr_risk_catches_the_error_type_not_its_text(people, monkeypatch):
    def fails(*args, **kwargs):
        raise ValueError("something else about max_cells")

    monkeypatch.setattr(risk_module, "check_augmentation", fails)
    with pytest.raises(ValueError, match="something else"):
        warn_ocr_risk(people, _rewired(people))


# ---------------------------------------------------------------------------- kgaug.augment
def test_role_respecting_counterfactuals_create_no_association(example_kg):
    # before roles, counterfactual rewiring made films authored by politicians and
    # 'author -> based on / director' strong (1.0); kept within the roles of the real
    # data (a book's author is an author), it creates no strong association here
    with warnings.catch_warnings():
        warnings.simplefilter("error", OCRRiskWarning)
        kg2, _ = kgaug.augment(example_kg, phi_g=3.6, seed=0, strategy="counterfactual")
    cmp = check_augmentation(kg2, example_kg)
    assert cmp.flagged == []
    # a pair that is equally thin before and after (1.0 on the same 2 people) is not
    thin = next(r for r in cmp.rows if (r.r1, r.r2) == ("place of birth", "country of citizenship"))
    assert thin.strength_after == 1.0 and thin.shared_after == 2 and not thin.flagged


def test_fictitious_hubs_can_create_associations(example_kg):
    # hub templates give many fictitious people the same kinds of answers
    with pytest.warns(OCRRiskWarning) as record:
        kg2, _ = kgaug.augment(example_kg, phi_g=3.6, dataset_phi=3.6, seed=0)
    warning = record[0].message
    short = str(warning)  # fits a screen: three lines, the strongest pair and where to look
    lines = short.splitlines()
    assert len(lines) <= 3 and max(map(len, lines)) <= 110, short
    assert "father -> place of birth (0.48 -> 0.64 on 93 subjects)" in short
    assert ".details" in short and "check_augmentation" in short
    assert warning.comparison is not None and warning.comparison.flagged
    msg = warning.details  # the whole story
    assert "father -> place of birth: strength 0.48 -> 0.64" in msg
    assert "hub like" in msg  # the templates are named
    assert "(dataset target)" in msg or "'director' facts in" in msg
    assert "only detects" in msg
    # detected, not prevented: the returned graph has the association
    cmp = check_augmentation(kg2, example_kg)
    row = next(r for r in cmp.flagged if (r.r1, r.r2) == ("father", "place of birth"))
    assert row.strength_before == pytest.approx(0.481, abs=1e-3)
    assert row.strength_after == pytest.approx(0.644, abs=1e-3)
    assert row.established_before and row.added_support == 79
    assert [(r.r1, r.r2) for r in cmp.flagged] == [("father", "place of birth")]


def test_augment_checks_only_small_enough_graphs(example_kg, monkeypatch):
    monkeypatch.setattr(risk_module, "AUGMENT_MAX_CELLS", 100)
    with pytest.warns(OCRRiskWarning, match=r"too large to check.*risk_report.*relations="):
        kg2, _ = kgaug.augment(example_kg, phi_g=3.6, dataset_phi=3.6, seed=0)
    assert check_augmentation(kg2, example_kg).flagged  # a full check would have warned
    assert risk_module.AUGMENT_MAX_CELLS < risk_module.MAX_CELLS


def test_augment_does_not_warn_otherwise(example_kg):
    with warnings.catch_warnings():
        warnings.simplefilter("error", OCRRiskWarning)
        kgaug.augment(example_kg, phi_g=3.6, seed=0)  # fictitious entities
        kgaug.augment(
            example_kg, phi_g=3.6, seed=0, strategy="counterfactual", check_ocr_risk=False
        )
    with pytest.raises(TypeError, match="check_ocr_risk must be True or False"):
        kgaug.augment(example_kg, check_ocr_risk="yes")


def test_comparison_augmentation_creates_no_association(example_kg):
    # Algorithm 1 gives every new entity a single fact, so it is the subject of no relation
    # pair: every pair's association is unchanged (hence no OCR check as in kgaug.augment);
    # only the exposure of rules whose first relation is the attribute could grow
    from kgaug.augmentation import augment_comparison

    new, _ = augment_comparison(example_kg, "country", num_new=60, seed=0)
    before, after = risk_report(example_kg, min_support=1), risk_report(new, min_support=1)
    assert check_augmentation(new, example_kg).flagged == []
    assert len(before) == len(after)
    for x, y in zip(before, after):
        assert x.model_dump(exclude={"exposed"}) == y.model_dump(exclude={"exposed"})
        assert y.exposed >= x.exposed


# ---------------------------------------------------------------------------- CLI
def _cli(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    add_commands(sub)
    args = p.parse_args(argv)
    return int(args.func(args))


def test_cli_risk(tmp_path, capsys, people):
    path = tmp_path / "people.tsv"
    people.to_tsv(path)
    assert _cli(["risk", str(path), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "lives in -> speaks" in out and "3 more pairs" in out
    assert _cli(["risk", str(path), "--json", "--top", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["pairs"]) == 2 and data["pairs"][0]["strength"] == 1.0
    aug = tmp_path / "aug.jsonl"
    _rewired(people).to_jsonl(aug)
    assert _cli(["risk", str(aug), "--compare"]) == 1  # flagged pairs: exit status 1
    out = capsys.readouterr().out
    assert "lives in -> codes in" in out and "UP" in out
    assert _cli(["risk", str(aug), "--original", str(path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)[0]["flagged"] is True
    assert _cli(["risk", "--example", "--top", "1"]) == 0
    with pytest.raises(ValueError, match="--top must be >= 1"):
        _cli(["risk", str(path), "--top", "0"])
    single = tmp_path / "single.tsv"
    single.write_text("a\tspouse\tb\n")
    with pytest.raises(ValueError, match="at least two"):
        _cli(["risk", str(single)])

"""TemplateVerbalizer: 2Wiki-style phrasings, nesting, inverses, comparisons, overrides, leaks."""

from __future__ import annotations

import re

import pytest

import kgaug
from kgaug.records import Chain, ComparisonFact, FiveTuple, Triple
from kgaug.verbalize.base import Question, Verbalizer
from kgaug.verbalize.template import TemplateVerbalizer

BUILTIN_RELATIONS = [
    "director",
    "producer",
    "cast member",
    "composer",
    "performer",
    "screenwriter",
    "author",
    "based on",
    "publisher",
    "date of birth",
    "date of death",
    "place of birth",
    "place of death",
    "place of burial",
    "cause of death",
    "country",
    "country of citizenship",
    "spouse",
    "father",
    "mother",
    "child",
    "sibling",
    "publication date",
    "inception",
    "educated at",
    "employer",
    "award received",
    "founded by",
    "manufacturer",
    "located in the administrative territorial entity",
    "capital",
    "headquarters location",
    "occupation",
]

VERB_LIKE = {
    "based on",
    "educated at",
    "award received",
    "founded by",
    "located in the administrative territorial entity",
}


def leaks(answer: str, question: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", question, re.IGNORECASE) is not None


def canonical(item, **kw) -> Question:
    return TemplateVerbalizer(variants=False, **kw).verbalize([item])[0]


def five(h, r1, m, r2, t) -> FiveTuple:
    return FiveTuple(obj1=h, rel1=r1, obj2=m, rel2=r2, obj3=t)


# ---------------------------------------------------------------- 1-hop


@pytest.mark.parametrize("relation", BUILTIN_RELATIONS)
@pytest.mark.parametrize("inverse", [False, True])
def test_every_builtin_phrasing_is_a_question_without_the_answer(relation, inverse):
    rel = f"{relation}^-1" if inverse else relation
    item = Triple(head="Zorblat Quenth", relation=rel, tail="Vimmer Oskaloo")
    v = TemplateVerbalizer()
    texts = v.phrasings(item)
    assert len(texts) >= 1
    assert len(set(texts)) == len(texts)
    for text in texts:
        assert text.endswith("?"), text
        assert text[0].isupper(), text
        assert "Zorblat Quenth" in text
        assert "Vimmer Oskaloo" not in text
        assert "{" not in text and "}" not in text
        assert "^-1" not in text
        # verb-like labels are never pasted as nouns ("the based on of ...")
        if relation in VERB_LIKE:
            assert f"{relation} of" not in text
    q = v.verbalize([item])[0]
    assert q.status == "ok"
    assert q.answer == "Vimmer Oskaloo"
    assert q.question in texts
    assert q.source == item


@pytest.mark.parametrize(
    ("relation", "head", "expected"),
    [
        ("director", "Titanic", "Who directed Titanic?"),
        ("place of birth", "James Cameron", "Where was James Cameron born?"),
        ("date of birth", "James Cameron", "When was James Cameron born?"),
        ("country", "Kapuskasing", "Which country is Kapuskasing in?"),
        ("spouse", "Barack Obama", "Who is the spouse of Barack Obama?"),
        ("cast member", "Titanic", "Who starred in Titanic?"),
        ("publication date", "Titanic", "When was Titanic released?"),
        ("director^-1", "James Cameron", "Which film was directed by James Cameron?"),
        ("place of birth^-1", "Chicago", "Who was born in Chicago?"),
        ("spouse^-1", "Michelle Obama", "Who is the spouse of Michelle Obama?"),
    ],
)
def test_canonical_one_hop_questions(relation, head, expected):
    q = canonical(Triple(head=head, relation=relation, tail="Answer Entity"))
    assert q.question == expected
    assert q.answer == "Answer Entity"


def test_variants_include_the_2wiki_wordings():
    v = TemplateVerbalizer()
    item = Triple(head="James Cameron", relation="date of birth", tail="1954")
    assert "What is the date of birth of James Cameron?" in v.phrasings(item)
    item = Triple(head="Titanic", relation="director", tail="James Cameron")
    assert "Who is the director of Titanic?" in v.phrasings(item)


def test_relation_labels_are_normalized_and_aliased():
    q = canonical(Triple(head="Barack Obama", relation="born in", tail="Honolulu"))
    assert q.question == "Where was Barack Obama born?"
    q = canonical(Triple(head="Titanic", relation="Directed_By", tail="James Cameron"))
    assert q.question == "Who directed Titanic?"


def test_generic_fallback_one_hop_and_inverse():
    q = canonical(Triple(head="Zed", relation="favourite colour", tail="Teal"))
    assert q.question == "What is the favourite colour of Zed?"
    q = canonical(Triple(head="Teal", relation="favourite colour^-1", tail="Zed"))
    assert q.question == "What has Teal as its favourite colour?"
    assert q.answer == "Zed"


def test_labels_with_braces_are_not_format_fields():
    q = canonical(five("a{0}", "r{x}", "m", "s}", "t"))
    assert q.question == "What is the s} of the r{x} of a{0}?"
    q = canonical(cmp("w{1}", "same", "yes"))
    assert q.question == "Do Kenosha and Chicago have the same w{1}?"
    q = canonical(Triple(head="h", relation="r{x}^-1", tail="t"))
    assert q.question == "What has h as its r{x}?"


# ---------------------------------------------------------------- multi-hop


def test_two_hop_questions_nest_the_first_hop():
    ft = five("Titanic", "director", "James Cameron", "place of birth", "Kapuskasing")
    q = canonical(ft)
    assert q.question == "Where was the director of Titanic born?"
    assert q.answer == "Kapuskasing"
    assert q.source == ft
    ft = five("Barack Obama", "spouse", "Michelle Obama", "date of birth", "1964")
    assert canonical(ft).question == "When was the spouse of Barack Obama born?"
    ft = five("Marie Curie", "place of birth", "Warsaw", "country", "Poland")
    assert canonical(ft).question == "Which country is the place of birth of Marie Curie in?"


def test_two_hop_generic_fallback():
    ft = five("h", "r one", "m", "r two", "t")
    assert canonical(ft).question == "What is the r two of the r one of h?"


def test_three_hop_questions_nest_twice():
    ch = Chain(
        entities=("Titanic", "James Cameron", "Suzy Amis", "Oklahoma City"),
        relations=("director", "spouse", "place of birth"),
    )
    q = canonical(ch)
    assert q.question == "Where was the spouse of the director of Titanic born?"
    assert q.answer == "Oklahoma City"
    texts = TemplateVerbalizer().phrasings(ch)
    assert "Where was the spouse of the person who directed Titanic born?" in texts


def test_inverse_steps_in_paths():
    ch = Chain(
        entities=("James Cameron", "Titanic", "1997"),
        relations=("director^-1", "publication date"),
    )
    assert canonical(ch).question == "When was the film directed by James Cameron released?"
    ft = five("Titanic", "director", "James Cameron", "director^-1", "Avatar")
    assert canonical(ft).question == "Which film was directed by the director of Titanic?"


def test_inverse_date_uses_in_before_a_year():
    ch = Chain(
        entities=("1982", "Schindler's Ark", "Thomas Keneally"),
        relations=("publication date^-1", "author"),
    )
    assert canonical(ch).question == "Who wrote the work released in 1982?"
    ch = Chain(
        entities=("1982-10-18", "Schindler's Ark", "Thomas Keneally"),
        relations=("publication date^-1", "author"),
    )
    assert canonical(ch).question == "Who wrote the work released on 1982-10-18?"
    # a work titled like a year is not a date
    q = canonical(Triple(head="1984", relation="based on^-1", tail="Nineteen Eighty-Four"))
    assert q.question == "Which work is based on 1984?"


def test_nested_phrase_at_sentence_start_is_capitalized():
    v = TemplateVerbalizer(templates={"r": "{head} is the r of what?"}, variants=False)
    q = v.verbalize([five("x", "spouse", "y", "r", "z")])[0]
    assert q.question == "The spouse of x is the r of what?"


def test_chain_without_relations_or_mismatched_is_refused():
    v = TemplateVerbalizer()
    with pytest.raises(ValueError, match="without relations"):
        v.verbalize([Chain(entities=("a",), relations=())])
    with pytest.raises(ValueError, match="one more entity"):
        v.verbalize([Chain(entities=("a", "b"), relations=("r", "s"))])


def test_unknown_item_type_is_refused():
    with pytest.raises(TypeError, match="cannot verbalize"):
        TemplateVerbalizer().verbalize([("a", "r", "b")])  # type: ignore[list-item]


# ---------------------------------------------------------------- comparisons


def cmp(attr, style, answer, v1="a", v2="b") -> ComparisonFact:
    return ComparisonFact(
        entity1="Kenosha",
        entity2="Chicago",
        attribute=attr,
        value1=v1,
        value2=v2,
        style=style,
        answer=answer,
    )


@pytest.mark.parametrize(
    ("attr", "expected"),
    [
        ("country", "Are Kenosha and Chicago located in the same country?"),
        ("place of birth", "Were Kenosha and Chicago born in the same place?"),
        ("director", "Do Kenosha and Chicago have the same director?"),
        ("favourite colour", "Do Kenosha and Chicago have the same favourite colour?"),
    ],
)
@pytest.mark.parametrize("answer", ["yes", "no"])
def test_comparison_same(attr, expected, answer):
    q = canonical(cmp(attr, "same", answer))
    assert q.question == expected
    assert q.answer == answer
    assert q.status == "ok"


@pytest.mark.parametrize(
    ("attr", "expected"),
    [
        ("date of birth", "Was Kenosha born before, at the same time as, or after Chicago?"),
        ("publication date", "Was Kenosha released before, at the same time as, or after Chicago?"),
        ("year founded", "Was Kenosha founded before, in the same year as, or after Chicago?"),
        (
            "population",
            "Is the population of Kenosha smaller than, equal to, or larger than that of Chicago?",
        ),
    ],
)
@pytest.mark.parametrize("answer", ["<", "=", ">"])
def test_comparison_order(attr, expected, answer):
    q = canonical(cmp(attr, "order", answer, "1950", "1960"))
    assert q.question == expected
    assert q.answer == answer


def test_every_comparison_phrasing_names_both_entities():
    v = TemplateVerbalizer()
    for attr in BUILTIN_RELATIONS:
        for style, answer in (("same", "yes"), ("order", "<")):
            for text in v.phrasings(cmp(attr, style, answer)):
                assert text.endswith("?")
                assert text.count("Kenosha") == 1 and text.count("Chicago") == 1


def test_comparison_of_years_says_year():
    q = canonical(cmp("date of birth", "same", "no", "1950", "1960"))
    assert q.question == "Were Kenosha and Chicago born in the same year?"
    q = canonical(cmp("date of birth", "same", "no", "1950-01-02", "1960-03-04"))
    assert q.question == "Were Kenosha and Chicago born on the same date?"


def test_comparison_with_unknown_style_is_refused():
    with pytest.raises(ValueError, match="style"):
        TemplateVerbalizer().verbalize([cmp("country", "bigger", "yes")])


# ---------------------------------------------------------------- overrides


def test_phrase_override_borrows_builtin_phrasing():
    v = TemplateVerbalizer(templates={"P19": "place of birth"}, variants=False)
    assert v.verbalize([Triple(head="X", relation="P19", tail="Y")])[0].question == (
        "Where was X born?"
    )
    # the inverse follows the renamed relation
    inv = v.verbalize([Triple(head="Y", relation="P19^-1", tail="X")])[0]
    assert inv.question == "Who was born in Y?"


def test_phrase_override_with_unknown_phrase_uses_generic_noun():
    v = TemplateVerbalizer(templates={"likes": "favourite dish"}, variants=False)
    q = v.verbalize([five("A", "likes", "B", "likes", "C")])[0]
    assert q.question == "What is the favourite dish of the favourite dish of A?"
    q = v.verbalize([cmp("likes", "same", "no")])[0]
    assert q.question == "Do Kenosha and Chicago have the same favourite dish?"


def test_format_override_for_the_last_hop():
    v = TemplateVerbalizer(
        templates={"director": "Name the {noun} ({relation}) of {head}?"}, variants=False
    )
    q = v.verbalize([Triple(head="Titanic", relation="director", tail="James Cameron")])[0]
    assert q.question == "Name the director (director) of Titanic?"
    # inner hops keep the noun phrase, the outer hop uses the override
    ft = five("Barack Obama", "spouse", "Michelle Obama", "director", "Z")
    assert (
        v.verbalize([ft])[0].question
        == "Name the director (director) of the spouse of Barack Obama?"
    )
    ft = five("Titanic", "director", "James Cameron", "spouse", "Suzy Amis")
    assert v.verbalize([ft])[0].question == "Who is the spouse of the director of Titanic?"


def test_sequence_override_gives_variants():
    forms = ["Q1 {head}?", "Q2 {head}?", "Q3 {head}?"]
    v = TemplateVerbalizer(templates={"r": forms})
    item = Triple(head="h", relation="r", tail="t")
    assert v.phrasings(item) == ["Q1 h?", "Q2 h?", "Q3 h?"]
    chosen = {
        TemplateVerbalizer(templates={"r": forms}, seed=s).verbalize([item])[0].question
        for s in range(30)
    }
    assert chosen == {"Q1 h?", "Q2 h?", "Q3 h?"}
    assert v.templates == {"r": tuple(forms)}


@pytest.mark.parametrize(
    ("templates", "exc", "match"),
    [
        ({"r": "Who is {subject}?"}, ValueError, "unknown placeholder"),
        ({"r": "Who is {0}?"}, ValueError, "unknown placeholder"),
        ({"r": "Who is {relation}?"}, ValueError, "must contain"),
        ({"r": "Who is {head?"}, ValueError, "invalid format"),
        ({"r": ""}, ValueError, "empty"),
        ({"r": []}, ValueError, "empty sequence"),
        ({"r": ["place of birth"]}, ValueError, "not a format string"),
        ({"r": [1]}, TypeError, r"templates\['r'\]\[0\]"),
        ({"r": 3}, TypeError, r"templates\['r'\]"),
        ({"": "x"}, ValueError, "keys"),
    ],
)
def test_bad_overrides_name_the_entry(templates, exc, match):
    with pytest.raises(exc, match=match):
        TemplateVerbalizer(templates=templates)


def test_bad_arguments():
    with pytest.raises(TypeError, match="templates"):
        TemplateVerbalizer(templates=[("r", "x")])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seed"):
        TemplateVerbalizer(seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="variants"):
        TemplateVerbalizer(variants="yes")  # type: ignore[arg-type]


# ---------------------------------------------------------------- determinism, paraphrase


@pytest.fixture(scope="module")
def sample_items() -> list:
    kg = kgaug.datasets.load_example()
    return [*list(kg.records())[:100], *kgaug.sample_paths(kg, 2, 100, seed=0)]


def test_same_seed_same_questions_other_seeds_vary(sample_items):
    a = TemplateVerbalizer(seed=3).verbalize(sample_items)
    b = TemplateVerbalizer(seed=3).verbalize(sample_items)
    c = TemplateVerbalizer(seed=4).verbalize(sample_items)
    assert a == b
    assert [q.question for q in a] != [q.question for q in c]
    assert [q.answer for q in a] == [q.answer for q in c]
    # the choice depends on the item, not on its position in the batch
    assert TemplateVerbalizer(seed=3).verbalize(sample_items[::-1]) == a[::-1]


def test_variants_false_gives_the_first_phrasing(sample_items):
    v = TemplateVerbalizer(variants=False, seed=9)
    for item, q in zip(sample_items, v.verbalize(sample_items)):
        if q.status == "ok":
            assert q.question == next(t for t in v.phrasings(item) if not leaks(q.answer, t))


def test_variants_spread_over_phrasings():
    item = Triple(head="Titanic", relation="director", tail="James Cameron")
    chosen = {TemplateVerbalizer(seed=s).verbalize([item])[0].question for s in range(40)}
    assert chosen == set(TemplateVerbalizer().phrasings(item))


def test_paraphrase_distinct_same_answer():
    v = TemplateVerbalizer(seed=1)
    ft = five("Titanic", "director", "James Cameron", "place of birth", "Kapuskasing")
    q = v.verbalize([ft])[0]
    paras = v.paraphrase(q, 3)
    assert len(paras) == 3
    texts = [p.question for p in paras]
    assert len(set(texts)) == 3
    assert q.question not in texts
    for p in paras:
        assert p.answer == "Kapuskasing"
        assert p.source == ft
        assert p.status == "ok"
        assert p.question in v.phrasings(ft)
    # k larger than available: every other phrasing once
    every = v.paraphrase(q, 100)
    assert len(every) == len(v.phrasings(ft)) - 1
    assert v.paraphrase(q, 3) == paras
    assert v.paraphrase(q, 0) == []


def test_paraphrase_comparison_and_bad_k():
    v = TemplateVerbalizer()
    q = v.verbalize([cmp("country", "same", "yes")])[0]
    paras = v.paraphrase(q, 5)
    assert 1 <= len(paras) <= 5
    assert all(p.answer == "yes" and p.question != q.question for p in paras)
    with pytest.raises(ValueError, match="k must be"):
        v.paraphrase(q, -1)
    with pytest.raises(TypeError, match="k must be"):
        v.paraphrase(q, 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="question"):
        v.paraphrase("Who?", 1)  # type: ignore[arg-type]


def test_paraphrase_never_leaks():
    item = Triple(head="Film", relation="director", tail="Director")
    q = canonical(item)
    assert q.status == "ok"
    assert TemplateVerbalizer().paraphrase(q, 5) == []


# ---------------------------------------------------------------- leaks


def test_leaking_phrasings_are_skipped():
    # "Who is the director of Film?" contains the answer "Director"; "Who directed Film?" not
    item = Triple(head="Film", relation="director", tail="Director")
    for seed in range(20):
        q = TemplateVerbalizer(seed=seed).verbalize([item])[0]
        assert q.status == "ok"
        assert q.question == "Who directed Film?"


@pytest.mark.parametrize(
    "item",
    [
        Triple(head="Mexico City", relation="country", tail="Mexico"),
        Triple(head="Narcissus", relation="spouse", tail="Narcissus"),
        Triple(head="Titanic", relation="director", tail="titanic"),
        five("Lyon", "country", "France", "country^-1", "Lyon"),
    ],
)
def test_answer_in_every_phrasing_fails(item):
    for variants in (True, False):
        q = TemplateVerbalizer(variants=variants).verbalize([item])[0]
        assert q.status == "failed"
        assert q.answer == (item.tail if isinstance(item, Triple) else item.obj3)
        assert q.question.endswith("?")


def test_answer_as_part_of_a_word_is_not_a_leak():
    q = canonical(Triple(head="Romeo and Juliet", relation="director", tail="Rome"))
    assert q.status == "ok"


def test_answer_with_special_characters_survives():
    item = five("A (film)", "director", "B", "date of birth", "c. 1900 [?]")
    q = canonical(item)
    assert q.answer == "c. 1900 [?]"
    assert q.status == "ok"


# ---------------------------------------------------------------- example KG


def test_is_a_verbalizer():
    assert isinstance(TemplateVerbalizer(), Verbalizer)


def test_verbalize_every_example_fact():
    kg = kgaug.datasets.load_example()
    items = list(kg.records())
    qs = TemplateVerbalizer().verbalize(items)
    assert len(qs) == kg.num_facts
    for item, q in zip(items, qs):
        assert q.answer == item.tail
        assert q.source == item
        assert q.question.endswith("?")
        assert item.head in q.question
        assert "^-1" not in q.question
        assert (q.status == "failed") == all(
            leaks(item.tail, t) for t in TemplateVerbalizer().phrasings(item)
        )
        if q.status == "ok":
            assert not leaks(q.answer, q.question)
            assert q.answer not in q.question
    assert sum(q.status == "ok" for q in qs) >= 0.98 * len(qs)
    # every relation of the example has a built-in phrasing (no generic fallback)
    for r in kg.relations:
        generic = [f"What is the {r} of X?", f"What was the {r} of X?"]
        assert TemplateVerbalizer().phrasings(Triple(head="X", relation=r, tail="Y")) != generic


@pytest.mark.parametrize(("hops", "directed"), [(2, True), (2, False), (3, True), (3, False)])
def test_verbalize_sampled_example_paths(hops, directed):
    kg = kgaug.datasets.load_example()
    sample = kgaug.sample_paths(kg, hops, 200, seed=0, directed=directed)
    qs = TemplateVerbalizer(seed=0).verbalize(sample)
    assert len(qs) == 200
    for item, q in zip(sample, qs):
        assert q.answer == item.entities[-1]
        assert q.source == item
        assert q.question.endswith("?")
        assert item.entities[0] in q.question
        assert "^-1" not in q.question
        if q.status == "ok":
            assert not leaks(q.answer, q.question)
    assert sum(q.status == "ok" for q in qs) >= 0.9 * len(qs)

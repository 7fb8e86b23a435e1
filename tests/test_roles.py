"""Roles learned from the data (kgaug.schema) and names shaped like their role (kgaug.names)."""

from __future__ import annotations

import numpy as np
import pytest

import kgaug
from kgaug.names import LabelStyle, NameGenerator
from kgaug.schema import learn_schema


@pytest.fixture(scope="module")
def example():
    return kgaug.datasets.load_example()


@pytest.fixture(scope="module")
def schema(example):
    return learn_schema(example)


def test_cities_and_countries_are_different_roles(schema):
    city = schema.role_of("Chicago")
    country = schema.role_of("Canada")
    assert city is not None and country is not None
    assert city.type == country.type == "Location"
    assert city != country
    assert schema.allows(city, "country", "head") and not schema.allows(city, "country", "tail")
    assert schema.allows(country, "country of citizenship", "tail")
    assert not schema.allows(city, "country of citizenship", "tail")
    assert [r.name for r in schema.tail_roles("country of citizenship")] == [country.name]


def test_films_and_books_are_different_roles(schema):
    film, book = schema.role_of("Titanic"), schema.role_of("The Godfather (novel)")
    assert film != book and film.type == book.type == "Object"
    assert film.has("director", "head") and not film.has("author", "head")
    assert book.has("based on", "tail") and not book.has("director", "head")
    # a relation whose heads are of two roles lists both
    assert {r.name for r in schema.head_roles("publication date")} == {film.name, book.name}


def test_authors_are_not_the_politicians(schema):
    author = schema.role_of("Stephen King")
    other = schema.role_of("Barack Obama")
    assert author.has("author", "tail")
    assert not other.has("author", "tail")


def test_untyped_random_graph_has_one_role_with_every_side():
    kg = kgaug.datasets.random_kg(200, 400, 3, seed=0)
    s = learn_schema(kg)
    assert len(s.roles) == 1
    (role,) = s.roles
    assert set(role.heads_of) == set(role.tails_of) == set(kg.relations)
    ids = s.role_ids()
    used = np.zeros(kg.num_entities, dtype=bool)
    used[kg.head_ids] = used[kg.tail_ids] = True
    assert np.all(ids[used] == 0) and np.all(ids[~used] == -1)


def test_exclusive_sides_need_evidence():
    """Two rare sides that never co-occur by chance are not called exclusive."""
    triples = [(f"p{i}", "likes", f"q{i}") for i in range(40)]
    triples += [("p0", "rare_a", "x"), ("p1", "rare_b", "y")]
    s = learn_schema(kgaug.KnowledgeGraph.from_triples(triples))
    # heads and tails of 'likes' never meet although 20 would be expected: two roles
    assert s.role_of("p0") != s.role_of("q0")
    assert s.role_of("p0") == s.role_of("p1")  # rare_a / rare_b: too rare to tell apart
    assert s.role_of("p0").has("rare_a", "head") and s.role_of("p0").has("rare_b", "head")


def test_schema_repr_names_roles_and_relations(schema):
    text = str(schema)
    assert "Location (tail of 'country')" in text
    assert "roles" in text and "relations" in text and "e.g." in text
    assert "<table>" in schema._repr_html_()
    with pytest.raises(KeyError, match="did you mean 'country'"):
        schema["countri"]
    with pytest.raises(KeyError):
        schema.role("no such role")


def test_witnesses_hold_all_tail_sides(schema, example):
    director = schema.side_index("director", "tail")
    author = schema.side_index("author", "tail")
    person = schema.role_of("James Cameron").id
    assert len(schema.witnesses([director], person)) > 0
    assert not schema.has_witness([director, author])  # nobody directs and writes here
    mother = schema.side_index("mother", "tail")
    father = schema.side_index("father", "tail")
    assert not schema.has_witness([mother, father])  # nobody is a mother and a father


def test_label_style_learns_years_and_recurring_words():
    years = LabelStyle(["1950", "1987", "2001", "1999"])
    gen = NameGenerator(seed=0, taken=["1950"])
    for _ in range(20):
        y = int(gen.name_like(years))
        assert 1950 <= y <= 2001
    novels = LabelStyle(["Jaws (novel)", "Dune (novel)", "Emma (novel)", "Rebecca"])
    assert "(novel)" in novels.keep
    names = {NameGenerator(seed=s).name_like(novels) for s in range(30)}
    assert any(n.endswith(" (novel)") for n in names)
    assert all(n not in {"Jaws (novel)", "Dune (novel)", "Emma (novel)", "Rebecca"} for n in names)


def test_names_never_collide_and_are_seeded():
    style = LabelStyle(["Canada", "France", "Italy"])
    taken = {"Canada", "France", "Italy"}
    a = NameGenerator(seed=3, taken=taken)
    b = NameGenerator(seed=3, taken=taken)
    xs = [a.name_like(style) for _ in range(50)]
    assert xs == [b.name_like(style) for _ in range(50)]
    assert len(set(xs)) == 50 and not taken & set(xs)
    assert all(" " not in x for x in xs)  # single-word labels give single-word names
    assert "LabelStyle(" in repr(style)

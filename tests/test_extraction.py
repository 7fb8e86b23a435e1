"""Text to graph: chunking, relation schema, entity resolution, the parse pipeline and its CLI.

Every model call goes to a FakeChatServer on 127.0.0.1 through the real ``openai`` client.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kgaug
from _llm import make_verbalizer
from kgaug.cli import main
from kgaug.errors import KGFormatError
from kgaug.extraction import (
    ChunkSpec,
    ExtractionSchema,
    ParseResult,
    RelationSpec,
    Resolver,
    chunk_text,
    name_key,
    parse_graph,
    read_aliases,
    split_sentences,
)
from kgaug.extraction.corpus import make_corpus, score_graph, scripted_model
from kgaug.verbalize.fake_server import FakeChatServer, Reply, cooperative_model
from kgaug.verbalize.llm import LLMVerbalizer

KEY = "sk-test-parse-never-write-me"


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as s:
        yield s


def make(server: FakeChatServer, **options: Any) -> LLMVerbalizer:
    return make_verbalizer(server, KEY, **options)


def lines_model(answers: dict[str, str]) -> Any:
    """A responder answering a chunk with the graph lines of the first key it contains."""

    def respond(request: dict[str, Any], n: int) -> Reply:
        messages = request["messages"]
        if "graph gpt" not in messages[0]["content"]:
            return cooperative_model(request, n)
        user = messages[-1]["content"]
        for needle, reply in answers.items():
            if needle in user:
                return Reply(reply)
        return Reply("NONE")

    return respond


FILMS = ExtractionSchema(
    relations=(
        RelationSpec(
            name="director",
            head="Film",
            tail="Person",
            aliases=("directed by",),
            inverse=("directed",),
        ),
        RelationSpec(name="place of birth", head="Person", tail="Location", aliases=("born in",)),
        RelationSpec(name="spouse", head="Person", tail="Person", symmetric=True),
    ),
    types=("Film", "Person", "Location"),
    type_aliases={"movie": "Film", "city": "Location"},
)


# ------------------------------------------------------------------------------ chunking


def test_chunks_are_spans_of_whole_sentences_with_overlap() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    chunks = chunk_text(text, ChunkSpec(size=40, overlap=10), text_id="doc")
    assert len(chunks) > 3
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.text.endswith(".") and c.text_id == "doc"
        assert ChunkSpec(size=40).measure(c.text) <= 40
    # each chunk starts with the last sentence of the one before
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end and a.text.endswith(text[b.start : a.end])
    # nothing is lost: the chunks cover the text
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_sentences_survive_abbreviations_and_initials() -> None:
    text = "Dr. J. R. R. Tolkien wrote it. He lived in St. Andrews, e.g. for years.\n\nNew line"
    spans = [text[s:e] for s, e in split_sentences(text)]
    assert spans == [
        "Dr. J. R. R. Tolkien wrote it.",
        "He lived in St. Andrews, e.g. for years.",
        "New line",
    ]


def test_a_sentence_longer_than_a_chunk_is_cut_at_words() -> None:
    text = "word " * 100
    chunks = chunk_text(text, ChunkSpec(size=50, overlap=0, unit="chars"))
    assert all(len(c.text) <= 50 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == text.split()


def test_chunk_spec_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="overlap must be >= 0 and < size"):
        ChunkSpec(size=10, overlap=10)
    with pytest.raises(ValueError, match="size must be >= 1"):
        ChunkSpec(size=0, overlap=0)
    assert chunk_text("   ") == []


# ------------------------------------------------------------------------------ schema


def test_phrasings_map_onto_canonical_relations_and_directions() -> None:
    assert FILMS.map_relation("director") == ("director", False, "name")
    assert FILMS.map_relation("Was_Directed-By") == ("director", False, "alias")
    assert FILMS.map_relation("directed") == ("director", True, "inverse")
    assert FILMS.map_relation("director of") == ("director", True, "of")
    assert FILMS.map_relation("place of brith") == ("place of birth", False, "similar")
    assert FILMS.map_relation("genre") is None
    assert FILMS.map_type("movie") == "Film" and FILMS.map_type("Planet") is None


def test_schema_learned_from_a_graph(example_kg: kgaug.KnowledgeGraph) -> None:
    schema = ExtractionSchema.from_kg(example_kg)
    assert set(schema.names) == set(example_kg.relations)
    assert schema["spouse"].symmetric and not schema["director"].symmetric
    assert (schema["place of birth"].head, schema["place of birth"].tail) == (
        "Person",
        "Location",
    )
    assert schema.map_relation("starred in") == ("cast member", True, "inverse")


def test_schema_file_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "schema.json"
    bad.write_text('{\n  "relations": [\n    {"name": "director",}\n  ]\n}\n')
    with pytest.raises(KGFormatError, match="not JSON") as e:
        ExtractionSchema.from_file(bad)
    assert e.value.line == 3 and str(bad) in str(e.value)
    bad.write_text(
        '{\n  "relations": [\n    {"name": "director"},\n'
        '    {"name": "author",\n     "inverses": ["wrote"]}\n  ]\n}\n'
    )
    with pytest.raises(KGFormatError, match="inverses") as e:
        ExtractionSchema.from_file(bad)
    assert e.value.line == 5
    bad.write_text(
        '{"relations": {\n  "director": ["directed by"],\n  "producer": ["directed by"]\n}}\n'
    )
    with pytest.raises(KGFormatError, match="already a phrasing of 'director'") as e:
        ExtractionSchema.from_file(bad)
    assert e.value.line == 3


def test_schema_round_trips_through_its_dict() -> None:
    again = ExtractionSchema.from_dict(FILMS.to_dict())
    assert again == FILMS and again.map_relation("directed") == ("director", True, "inverse")


# ------------------------------------------------------------------------------ resolution


def names(*pairs: str) -> list[tuple[str, str | None]]:
    return [(p.split("|")[0], p.split("|")[1] if "|" in p else "Person") for p in pairs]


def test_deterministic_rules_merge_the_names_of_one_entity() -> None:
    res = Resolver().resolve(
        names(
            "Barack Obama",
            "barack obama",
            "President Barack Obama",
            "United States|Location",
            "USA|Location",
            "National Aeronautics and Space Administration|Object",
            "NASA|Object",
            "Gabriel García Márquez",
            "Gabriel Garcia Marquez",
        )
    )
    assert res("barack obama", "Person") == res("President Barack Obama", "Person")
    assert res("barack obama", "Person") == "Barack Obama"
    assert res("USA", "Location") == "United States"
    assert res("NASA", "Object") == "National Aeronautics and Space Administration"
    assert res("Gabriel Garcia Marquez", "Person") == res("Gabriel García Márquez", "Person")
    rules = {m.rule for m in res.merges}
    assert {"alias", "exact", "honorific", "acronym"} <= rules
    assert name_key("The Beatles") == "beatles"


def test_numbers_and_types_keep_names_apart() -> None:
    res = Resolver().resolve(
        names("Apollo 11|Object", "Apollo 12|Object", "Paris|Location", "Paris|Person")
    )
    assert len(set(res.mapping.values())) == 4
    # one label per entity: the person is told apart by its type
    assert res("Paris", "Person") == "Paris (Person)"


def test_an_ambiguous_surname_stays_apart_and_a_unique_one_merges() -> None:
    res = Resolver().resolve(
        names("Ridley Scott", "Tony Scott", "Scott", "Kubrick", "Stanley Kubrick")
    )
    assert res("Scott", "Person") == "Scott"
    assert [a.name for a in res.ambiguous] == ["Scott"]
    assert res("Kubrick", "Person") == "Stanley Kubrick"


def test_merges_joining_distinct_entities_are_refused(obama: kgaug.KnowledgeGraph) -> None:
    # the two ends of one fact are two entities
    res = Resolver(aliases={"Michelle": "Barack Obama"}).resolve(
        names("Barack Obama", "Michelle"),
        distinct=[(("Michelle", "Person"), ("Barack Obama", "Person"))],
    )
    assert res("Michelle", "Person") == "Michelle"
    assert "two ends of one fact" in res.conflicts[0].reason
    # two entities of the graph stay two, whatever the alias table says
    res = Resolver(aliases={"Obama": "Barack Obama", "Mrs Obama": "Obama"}).resolve(
        names("Barack Obama", "Michelle Obama", "Obama"),
        into=obama,
    )
    assert res("Michelle Obama", "Person") == "Michelle Obama"
    assert res("Obama", "Person") == "Barack Obama"
    res = Resolver(aliases={"Michelle Obama": "Barack Obama"}).resolve(
        names("Michelle Obama", "Barack Obama"), into=obama
    )
    assert res("Michelle Obama", "Person") == "Michelle Obama"
    assert any("two entities of the graph" in c.reason for c in res.conflicts)


def test_every_merge_can_be_undone() -> None:
    res = Resolver().resolve(names("James Cameron", "Dr. James Cameron", "JAMES CAMERON"))
    assert len(set(res.mapping.values())) == 1 and len(res.merges) == 2
    honorific = next(i for i, m in enumerate(res.merges) if m.rule == "honorific")
    undone = res.undo(honorific)
    assert undone("Dr. James Cameron", "Person") == "Dr. James Cameron"
    assert undone("JAMES CAMERON", "Person") == "James Cameron"
    with pytest.raises(ValueError, match="no merge 7"):
        res.undo(7)


def test_a_judge_that_says_yes_to_two_candidates_merges_neither() -> None:
    class YesMan:
        def same_entity(self, pairs: Any) -> list[bool]:
            self.asked = list(pairs)
            return [True] * len(pairs)

    judge = YesMan()
    res = Resolver(confirm=judge).resolve(
        names(
            "Francis Ford Coppola",
            "Sofia Coppola",
            "Coppola",
            "Ingmar Bergman",
            "Ingmar E. Bergman",
        )
    )
    assert len(judge.asked) == 3  # Coppola twice, the Bergmans once
    assert res("Coppola", "Person") == "Coppola"
    assert res("Ingmar E. Bergman", "Person") == res("Ingmar Bergman", "Person")
    with pytest.raises(TypeError, match="same_entity"):
        Resolver(confirm=object())  # type: ignore[arg-type]


def test_alias_table_file_errors_name_the_line(tmp_path: Path) -> None:
    f = tmp_path / "aliases.tsv"
    f.write_text("# alias\tname\nUSA\tUnited States\nBig Apple New York City\n")
    with pytest.raises(KGFormatError, match="alias<TAB>name") as e:
        read_aliases(f)
    assert e.value.line == 3
    f.write_text("NYC\tNew York City\n")
    assert (
        Resolver(aliases=f).resolve(names("NYC|Location", "New York City|Location"))(
            "NYC", "Location"
        )
        == "New York City"
    )


def test_in_text_surnames_follow_the_text() -> None:
    mentions = [
        ("a", "John Lennon", "Person"),
        ("a", "Lennon", "Person"),
        ("b", "Cynthia Lennon", "Person"),
        ("b", "Lennon", "Person"),
        ("c", "Lennon", "Person"),
    ]
    rewrites, merges = Resolver().resolve_in_text(mentions)
    assert rewrites[("a", "Lennon", "Person")] == ("John Lennon", "Person")
    assert rewrites[("b", "Lennon", "Person")] == ("Cynthia Lennon", "Person")
    assert ("c", "Lennon", "Person") not in rewrites
    assert {m.into for m in merges} == {"John Lennon", "Cynthia Lennon"}


# ------------------------------------------------------------------------------ the pipeline


TEXT = (
    "Avatar is a film directed by James Cameron. "
    "Cameron was born in Kapuskasing. "
    "He is married to Suzy Amis. "
    "The film won many awards."
)
REPLY = (
    '1. <Avatar; Movie><directed by><James Cameron; Person> "Avatar is a film directed by '
    'James Cameron"\n'
    '2. <Cameron; Person><born in><Kapuskasing; City> "cameron was  born in kapuskasing"\n'
    "3. <Suzy Amis; Person><spouse><Cameron; Person>\n"
    '4. <Avatar; Movie><won><many awards; Object> "The film won many awards"\n'
    '5. <Cameron; Person><directed><Avatar; Movie> "words that are not there"\n'
)


def test_parse_maps_resolves_and_records_provenance(server: FakeChatServer) -> None:
    server.responder = lines_model({"Avatar": REPLY})
    res = parse_graph({"doc": TEXT}, make(server), schema=FILMS)
    assert sorted(res.graph.triples()) == [
        ("Avatar", "director", "James Cameron"),
        ("James Cameron", "place of birth", "Kapuskasing"),
        ("James Cameron", "spouse", "Suzy Amis"),
        ("Suzy Amis", "spouse", "James Cameron"),
    ]
    assert res.graph.entity_type("Avatar") == "Film"
    assert res.graph.entity_type("Kapuskasing") == "Location"
    [born] = res.sources("James Cameron", "place of birth", "Kapuskasing")
    assert (born.text_id, born.chunk) == ("doc", 0)
    assert TEXT[born.start : born.end] == "Cameron was born in Kapuskasing"  # type: ignore[misc]
    assert born.extracted == ("Cameron", "born in", "Kapuskasing")
    # the inverse phrasing is stated the canonical way round; its quote is not in the text
    inverse = [
        f for f in res.sources("Avatar", "director", "James Cameron") if f.mapped_by == "inverse"
    ]
    assert inverse and inverse[0].start is None
    assert res.dropped_counts() == {"relation": 1}
    assert res.dropped[0].relation == "won" and res.out_of_schema is None
    assert any(m.rule == "in-text" and m.name == "Cameron" for m in res.merges)


def test_out_of_schema_facts_can_be_kept_apart(server: FakeChatServer) -> None:
    server.responder = lines_model({"Avatar": REPLY})
    res = parse_graph(TEXT, make(server), schema=FILMS, out_of_schema="keep")
    assert res.out_of_schema is not None
    assert list(res.out_of_schema.triples()) == [("Avatar", "won", "many awards")]
    assert "won" not in res.graph.relations


def test_types_that_fit_only_reversed_reverse_the_fact(server: FakeChatServer) -> None:
    server.responder = lines_model(
        {"Titanic": "<James Cameron; Person><director><Titanic; Film>\n"}
    )
    res = parse_graph("Titanic.", make(server), schema=FILMS)
    assert list(res.graph.triples()) == [("Titanic", "director", "James Cameron")]
    assert res.facts[0].mapped_by == "name+reversed"
    server.responder = lines_model(
        {"Titanic": "<Kapuskasing; Location><director><Titanic; Film>\n"}
    )
    res = parse_graph("Titanic.", make(server), schema=FILMS)
    assert res.graph.num_facts == 0 and res.dropped_counts() == {"types": 1}


def test_long_texts_are_sent_in_chunks(server: FakeChatServer) -> None:
    def respond(request: dict[str, Any], n: int) -> Reply:
        found = re.findall(
            r"Film (\d+) was directed by Person \1\.", request["messages"][-1]["content"]
        )
        return Reply("\n".join(f"<Film {i}; Film><director><Person {i}; Person>" for i in found))

    server.responder = respond
    text = " ".join(f"Film {i} was directed by Person {i}." for i in range(60))
    res = parse_graph(text, make(server), chunk=ChunkSpec(size=120, overlap=40, unit="chars"))
    assert res.chunks == len(server.requests) > 5
    assert all(len(r["messages"][-1]["content"]) <= 120 for r in server.requests)
    assert res.graph.num_facts == 60  # the overlap repeats facts; the graph holds them once
    assert len(res.facts) > 60
    assert {f.chunk for f in res.sources("Film 3", "director", "Person 3")} <= {0, 1, 2}


def test_failed_chunks_are_recorded_and_retried_on_a_rerun(
    server: FakeChatServer, tmp_path: Path
) -> None:
    texts = {"good": "A | r | B", "bad": "nothing here"}
    out = tmp_path / "parse.jsonl"
    res = parse_graph(texts, make(server, max_attempts=1), out=out, quotes=False)
    assert [(f.text_id, f.status) for f in res.failed] == [("bad", "failed")]
    assert "no line of the form" in (res.failed[0].reason or "")
    assert res.graph.num_facts == 1
    sent = len(server.requests)
    server.responder = lines_model({"nothing here": "<C; Object><r><D; Object>"})
    again = parse_graph(texts, make(server), out=out, quotes=False, retry_failed=True)
    assert len(server.requests) == sent + 1  # only the failed chunk is asked again
    assert not again.failed and again.graph.num_facts == 2


def test_into_links_entities_and_relations(
    server: FakeChatServer, obama: kgaug.KnowledgeGraph
) -> None:
    server.responder = lines_model(
        {
            "Sasha": "<President Barack Obama; Person><spouse><Michelle Obama; Person>\n"
            "<Michelle Obama; Person><was born in><Chicago; Location>\n"
            "<Sasha Obama; Person><born in><Chicago; Location>\n"
        }
    )
    res = parse_graph("Sasha ...", make(server), into=obama)
    assert set(res.graph.triples()) == {
        ("Barack Obama", "spouse", "Michelle Obama"),  # linked without the title
        ("Michelle Obama", "born in", "Chicago"),  # "was born in" is "born in"
        ("Sasha Obama", "born in", "Chicago"),
    }
    assert res.resolution is not None and res.resolution.linked == 3
    merged = res.combined()
    assert merged.num_facts == obama.num_facts + 1  # only Sasha's birthplace is new
    assert merged.entity_type("Sasha Obama") == "Person"


def test_undo_gives_the_graph_without_a_merge(server: FakeChatServer) -> None:
    server.responder = lines_model({"Avatar": REPLY})
    res = parse_graph(TEXT, make(server), schema=FILMS)
    i = next(i for i, m in enumerate(res.merges) if m.rule == "in-text")
    undone = res.undo(i)
    assert ("Cameron", "place of birth", "Kapuskasing") in set(undone.graph.triples())
    assert len(undone.merges) == len(res.merges) - 1
    assert any("marked distinct" in c.reason for c in undone.conflicts)  # not joined again
    # undos add up: a second one keeps the first
    server.responder = lines_model(
        {"Avatar": REPLY + "<Dr. Suzy Amis; Person><spouse><Cameron; Person>\n"}
    )
    res = parse_graph(TEXT + " Dr. Suzy Amis.", make(server), schema=FILMS)
    title = res.merges.index(next(m for m in res.merges if m.rule == "honorific"))
    twice = res.undo(title).undo(next(m for m in res.undo(title).merges if m.rule == "in-text"))
    assert {"Dr. Suzy Amis", "Suzy Amis", "Cameron", "James Cameron"} <= set(twice.graph.entities)
    with pytest.raises(ValueError, match="did not resolve"):
        parse_graph(TEXT, make(server), schema=FILMS, resolve=False).undo(0)


def test_llm_confirms_ambiguous_pairs(server: FakeChatServer) -> None:
    server.responder = lines_model(
        {
            "x": "<Ingmar E. Bergman; Person><born in><Uppsala; Location>\n"
            "<Ingmar Bergman; Person><born in><Uppsala; Location>\n"
        }
    )
    v = make(server)
    plain = parse_graph("x", v, schema=FILMS, quotes=False)
    assert plain.graph.num_entities == 3 and plain.ambiguous
    asked = parse_graph("x", v, schema=FILMS, quotes=False, resolve=Resolver(confirm=v))
    assert asked.graph.num_entities == 2
    assert [m.rule for m in asked.merges] == ["llm"]
    assert any("entity resolution" in r["messages"][0]["content"] for r in server.requests)


def test_parse_report_follows_the_result_protocol(server: FakeChatServer) -> None:
    server.responder = lines_model({"Avatar": REPLY})
    res = parse_graph(TEXT, make(server), schema=FILMS)
    d = res.to_dict()
    assert json.loads(json.dumps(d))["facts"] == 4
    assert d["dropped"] == {"relation": 1} and d["merges"] == len(res.merges)
    assert len(res.to_records()) == len(res.facts)
    frame = res.to_pandas()
    assert list(frame.columns)[:3] == ["head", "relation", "tail"]
    text = res.to_string()
    assert text == repr(res) and "4 facts" in text and "won (out of schema)" in text
    assert "<table" in res._repr_html_()
    assert isinstance(res, ParseResult)


def test_parse_checks_its_arguments(server: FakeChatServer) -> None:
    v = make(server)
    with pytest.raises(TypeError, match="list of texts"):
        parse_graph([b"bytes"], v)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="out_of_schema must be 'drop' or 'keep'"):
        parse_graph("x", v, out_of_schema="hide")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk must be >= 1"):
        parse_graph("x", v, chunk=0)
    with pytest.raises(TypeError, match="into must be a KnowledgeGraph"):
        parse_graph("x", v, into="kg.tsv")  # type: ignore[arg-type]
    assert server.requests == []


def test_verbalizer_parse_keeps_the_whole_result(server: FakeChatServer, tmp_path: Path) -> None:
    server.responder = lines_model({"Avatar": REPLY})
    v = make(server, cache_dir=tmp_path / "cache")
    assert v.estimate_parse(TEXT, schema=FILMS).requests == 1
    kg = v.parse(TEXT, schema=FILMS)
    assert v.last_parse is not None and v.last_parse.graph is kg
    assert kg.num_facts == 4 and len(server.requests) == 1
    # the same chunk and prompt are answered from the cache
    assert v.estimate_parse(TEXT, schema=FILMS).requests == 0
    assert v.estimate_parse(TEXT).requests == 1  # another prompt: another request


# ------------------------------------------------------------------------------ round trip


def test_round_trip_recovers_the_bundled_graph(example_kg: kgaug.KnowledgeGraph) -> None:
    corpus = make_corpus(example_kg, seed=3)
    scores = {}
    for style in ("careful", "sloppy"):
        with FakeChatServer(scripted_model(corpus, style)) as server:
            v = make(server)
            raw = parse_graph(corpus.texts, v, chunk=150, resolve=False)
            full = parse_graph(corpus.texts, v, chunk=150, into=example_kg)
        scores[style] = (score_graph(raw.graph, example_kg), score_graph(full.graph, example_kg))
    careful_raw, careful = scores["careful"]
    sloppy_raw, sloppy = scores["sloppy"]
    assert careful.fact_f1 > 0.97 and careful.entity_f1 > 0.97
    assert careful.fact_f1 > careful_raw.fact_f1 + 0.1  # resolution is what makes it whole
    assert sloppy.fact_precision > 0.97 and sloppy.fact_recall > 0.85
    assert sloppy_raw.fact_f1 < 0.2  # free-form relations match nothing without a schema


# ------------------------------------------------------------------------------ CLI


def test_cli_parse_with_schema_into_and_report(
    server: FakeChatServer, tmp_path: Path, obama: kgaug.KnowledgeGraph
) -> None:
    server.responder = lines_model(
        {"Sasha": '<Sasha Obama; Person><born in><Chicago; Location> "Sasha was born in Chicago"'}
    )
    doc = tmp_path / "doc.txt"
    doc.write_text("Sasha was born in Chicago.\n\nNothing else.\n")
    kg_file = tmp_path / "kg.tsv"
    kg_file.write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in obama.triples()))
    out, report, merged = tmp_path / "g.jsonl", tmp_path / "r.json", tmp_path / "m.jsonl"
    args = ["parse", str(doc), "--into", str(kg_file), "--report", str(report),
            "--merged", str(merged), "--out", str(out), "--base-url", server.base_url,
            "--model", "fake"]  # fmt: skip
    assert main(args) == 0
    assert list(kgaug.KnowledgeGraph.from_jsonl(out).triples()) == [
        ("Sasha Obama", "born in", "Chicago")
    ]
    assert kgaug.KnowledgeGraph.from_jsonl(merged).num_facts == obama.num_facts + 1
    data = json.loads(report.read_text())
    [fact] = data["facts_with_provenance"]
    assert fact["text_id"] == f"{doc}#1" and (fact["start"], fact["end"]) == (0, 25)
    assert KEY not in report.read_text()


def test_cli_parse_names_the_line_of_a_bad_schema(
    server: FakeChatServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("Some text.\n")
    schema = tmp_path / "s.json"
    schema.write_text('{"relations": [\n  {"name": "director", "head": 3}\n]}\n')
    args = ["parse", str(doc), "--schema", str(schema), "--base-url", server.base_url,
            "--model", "fake"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{schema}, line 2" in err and "head" in err
    assert server.requests == []


# ------------------------------------------------------------------------------ regressions


def test_chunks_never_exceed_their_size_and_lose_no_word() -> None:
    import random

    rng = random.Random(0)
    pool = ["a", "bb", "ccc.", "Dd", "E.", "f!", "  ", "\n\n", "é", "日本。", "x" * 25]
    for _ in range(300):
        text = " ".join(rng.choice(pool) for _ in range(rng.randint(0, 60)))
        size = rng.randint(1, 40)
        spec = ChunkSpec(size=size, overlap=rng.randint(0, size - 1), unit="chars")
        chunks = chunk_text(text, spec)
        covered = {i for c in chunks for i in range(c.start, c.end)}
        assert all(len(c.text) <= size and text[c.start : c.end] == c.text for c in chunks)
        assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_sentences_of_other_scripts_are_split() -> None:
    ru = " ".join(f"Он родился в городе номер {i}." for i in range(4))
    ja = "".join(f"彼は{i}番目の町で生まれた。" for i in range(4))
    assert len(split_sentences(ru)) == len(split_sentences(ja)) == 4
    unsplittable = " ".join("the 5th item is here." for _ in range(300))
    chunks = chunk_text(unsplittable, ChunkSpec(size=1, overlap=0, unit="sentences"))
    assert len(chunks) > 1 and max(len(c.text) for c in chunks) <= 2000


def test_numbered_and_non_person_names_keep_their_words() -> None:
    pairs = [
        [("Rocky II", "Film"), ("Rocky III", "Film")],
        [("Robert Downey Jr.", "Person"), ("Robert Downey Sr.", "Person")],
        [("General Motors", "Organization"), ("Motors", "Organization")],
        [("Captain America", None), ("America", None)],
    ]
    for ns in pairs:
        res = Resolver().resolve(ns)
        assert [res(n, t) for n, t in ns] == [n for n, _ in ns]


def test_builtin_country_aliases_need_a_place_and_the_exact_spelling() -> None:
    assert Resolver().resolve([("Us", "Film")])("Us", "Film") == "Us"
    res = Resolver().resolve([("US", "Band"), ("United States", "Country"), ("USA", None)])
    assert res("US", "Band") == "US" and res("USA", None) == "United States"


def test_short_names_are_not_taken_for_the_other_end_of_their_fact(
    server: FakeChatServer,
) -> None:
    server.responder = lines_model(
        {
            "x": "<Michael Jordan; Person><visited><Jordan; Person>\n"
            "<Jordan; Object><country><Asia; Location>"
        }
    )
    res = parse_graph("x", make(server), quotes=False)
    assert ("Michael Jordan", "visited", "Jordan") in set(res.graph.triples())
    assert not res.merges


def test_thinking_is_not_read_as_facts(server: FakeChatServer) -> None:
    server.responder = lines_model(
        {"x": "<think>Maybe <A; X><r><B; Y>? The text says little.</think>\n<C; X><r><D; Y>"}
    )
    res = parse_graph("x", make(server), quotes=False, resolve=False)
    assert list(res.graph.triples()) == [("C", "r", "D")]
    server.responder = lines_model({"y": "<think>Nothing here.</think>\nNONE"})
    assert not parse_graph("y", make(server), quotes=False).failed


def test_schema_merges_and_types_are_forgiving() -> None:
    kg = kgaug.KnowledgeGraph.from_triples(
        [("A", "place_of_birth", "B"), ("C", "Director", "D"), ("E", "director", "F")]
    )
    merged = ExtractionSchema.from_relations(["place of birth"]).merged(
        ExtractionSchema.from_kg(kg)
    )
    assert merged.names == ("place of birth", "Director", "director")
    assert merged.map_relation("director") == ("director", False, "name")
    s = ExtractionSchema.from_dict(
        {"types": ["Film", "Person"], "relations": [{"name": "director", "head": "film"}, "author"]}
    )
    assert s["director"].head == "Film" and "author" in s
    assert s.map_relation("directed of") is None  # "of" inverts names only
    with pytest.raises(ValueError, match="at least one relation"):
        ExtractionSchema(relations=())


def test_a_partly_typed_graph_keeps_the_models_types(server: FakeChatServer) -> None:
    into = kgaug.KnowledgeGraph.from_triples(
        [("Avatar", "director", "Cameron")], entity_types={"Avatar": "Film"}
    )
    server.responder = lines_model({"x": "<Cameron; Person><director><Titanic; Film>"})
    res = parse_graph("x", make(server), into=into, quotes=False)
    assert list(res.graph.triples()) == [("Titanic", "director", "Cameron")]
    assert res.graph.entity_type("Cameron") == "Person"


def test_text_ids_must_differ(server: FakeChatServer, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="both '1'"):
        parse_graph({1: "a", "1": "b"}, make(server))  # type: ignore[dict-item]
    f = tmp_path / "s.json"
    f.write_text('\ufeff{"relations": ["director"]}', encoding="utf-8")
    assert ExtractionSchema.from_file(f).names == ("director",)

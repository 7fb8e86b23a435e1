"""Parsers of loosely formatted LLM output, and the verbalizer registry."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgaug.records import FiveTuple
from kgaug.verbalize import (
    TemplateVerbalizer,
    available_verbalizers,
    get_parser,
    get_verbalizer,
    register_verbalizer,
)
from kgaug.verbalize.engine import Completion, ResponseCache, request_key
from kgaug.verbalize.parsing import (
    parse_answer_tags,
    parse_graph_lines,
    parse_json_object,
    parse_numbered,
)
from kgaug.verbalize.prompts import DEFAULT_PROMPTS, question_messages

# ---------------------------------------------------------------------------- answer tags


def test_answer_tags_numbered_on_one_line() -> None:
    text = "1. Who directed Roma?<a>Alfonso Cuaron</a> 2) Where was he born? <A> Mexico City </A>"
    assert parse_answer_tags(text) == [
        ("Who directed Roma?", "Alfonso Cuaron"),
        ("Where was he born?", "Mexico City"),
    ]


def test_answer_tags_with_markdown_and_newlines() -> None:
    text = "Sure! Here you go:\n\n**1.** What is the *capital* of France?\n<a>Paris</a>\n"
    assert parse_answer_tags(text) == [("What is the capital of France?", "Paris")]
    assert parse_answer_tags("Sure!\nWho directed Roma? <a>Alfonso</a>") == [
        ("Who directed Roma?", "Alfonso")
    ]


def test_no_tags_gives_nothing() -> None:
    assert parse_answer_tags("The answer is Paris.") == []
    assert parse_answer_tags("") == []


_words = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters=" ,'?-"),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() and not s.strip()[:1].isdigit())


@given(st.lists(st.tuples(_words, _words), min_size=1, max_size=5))
def test_answer_tags_round_trip(pairs: list[tuple[str, str]]) -> None:
    text = " ".join(f"{i}. {q}<a>{a}</a>" for i, (q, a) in enumerate(pairs, 1))
    got = parse_answer_tags(text)
    assert [a for _, a in got] == [" ".join(a.split()) for _, a in pairs]
    assert [q for q, _ in got] == [" ".join(q.split()) for q, _ in pairs]


# ---------------------------------------------------------------------------- graph lines


def test_graph_lines_tolerate_spacing_and_numbering() -> None:
    text = (
        "1. <Avatar; Film><director><James Cameron; Person> "
        "2. < James Cameron ;Person > < directed > <Titanic; Object>\n"
        "3) <broken; Person><no tail>\n"
        "- <**Ottawa**; Location><country><Canada; Location>"
    )
    assert parse_graph_lines(text) == [
        ("Avatar", "Film", "director", "James Cameron", "Person"),
        ("James Cameron", "Person", "directed", "Titanic", "Object"),
        ("Ottawa", "Location", "country", "Canada", "Location"),
    ]


def test_graph_lines_none() -> None:
    assert parse_graph_lines("Avatar was directed by James Cameron.") == []


# ---------------------------------------------------------------------------- json, lists


def test_json_object_bare_fenced_and_broken() -> None:
    assert parse_json_object('{"question": "Q?", "answer": "A"}') == {
        "question": "Q?",
        "answer": "A",
    }
    fenced = 'Here:\n```json\n{"question": "Q?", "answer": "A"}\n```\nDone.'
    assert parse_json_object(fenced) == {"question": "Q?", "answer": "A"}
    assert parse_json_object('prefix {"a": {"b": 1}} suffix') == {"a": {"b": 1}}
    assert parse_json_object('{"question": "Q?", "answer": ') is None
    assert parse_json_object("[1, 2]") is None
    assert parse_json_object('{bad} then {"ok": true}') == {"ok": True}


def test_numbered_lists() -> None:
    assert parse_numbered("1. Paris - France 2. Lyon - France") == [
        "Paris - France",
        "Lyon - France",
    ]
    assert parse_numbered("1) a\n2) b\n\n") == ["a", "b"]
    assert parse_numbered("no numbers here") == ["no numbers here"]
    assert parse_numbered("   ") == []


# ---------------------------------------------------------------------------- prompts, cache


def test_prompts_are_the_papers() -> None:
    assert DEFAULT_PROMPTS["graph"].startswith("You are graph gpt.")
    item = FiveTuple(obj1="A", rel1="r1", obj2="B", rel2="r2", obj3="C")
    msgs = question_messages(item, prompts={"question": "custom"})
    assert msgs[0] == {"role": "system", "content": "custom"}
    assert "Logic: <A> -> <r1> -> <r2> -> <C>" in msgs[1]["content"]
    assert "Answer: C" in msgs[1]["content"]


def test_request_key_depends_on_model_messages_params_only() -> None:
    m = [{"role": "user", "content": "hi"}]
    k = request_key("gpt", m, {"temperature": 0})
    assert k == request_key("gpt", [dict(x) for x in m], {"temperature": 0})
    assert k != request_key("gpt-2", m, {"temperature": 0})
    assert k != request_key("gpt", [{"role": "user", "content": "hi!"}], {"temperature": 0})
    assert k != request_key("gpt", m, {"temperature": 0.5})


def test_response_cache_persists(tmp_path: Path) -> None:
    c = ResponseCache(tmp_path)
    c.put("k", Completion(text="hello", prompt_tokens=3))
    c.close()
    again = ResponseCache(tmp_path)
    assert again.get("k") == Completion(text="hello", prompt_tokens=3)
    assert again.get("other") is None
    assert len(again) == 1


# ---------------------------------------------------------------------------- registry


def test_template_is_the_default() -> None:
    assert isinstance(get_verbalizer(), TemplateVerbalizer)
    assert {"template", "openai", "transformers"} <= set(available_verbalizers())


def test_unknown_name_suggests() -> None:
    with pytest.raises(ValueError, match="did you mean 'openai'"):
        get_verbalizer("opanai")


def test_template_cannot_parse() -> None:
    with pytest.raises(ValueError, match="cannot parse"):
        get_parser("template")


def test_register_at_run_time() -> None:
    class Upper:
        def verbalize(self, items):  # type: ignore[no-untyped-def]
            return [str(i).upper() for i in items]

    register_verbalizer("upper-test", lambda **o: Upper())
    assert "upper-test" in available_verbalizers()
    assert get_verbalizer("upper-test").verbalize(["a"]) == ["A"]


def test_entry_point_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package that declares ``[project.entry-points."kgaug.verbalizers"]`` plugs in."""
    (tmp_path / "kgaug_plugin_demo.py").write_text(
        textwrap.dedent(
            """
            class Shout:
                def __init__(self, volume=1):
                    self.volume = volume
                def verbalize(self, items):
                    return ["!" * self.volume for _ in items]

            def make(**options):
                return Shout(**options)
            """
        )
    )
    dist = tmp_path / "kgaug_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kgaug-plugin-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[kgaug.verbalizers]\nshout = kgaug_plugin_demo:make\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "kgaug_plugin_demo", raising=False)
    assert "shout" in available_verbalizers()
    assert get_verbalizer("shout", volume=3).verbalize([1, 2]) == ["!!!", "!!!"]

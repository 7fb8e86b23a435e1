"""LLM output parsers, the engine (cache, resume file, lifetime) and the registry.

The engine tests use an in-process backend; the HTTP ones are in test_llm_verbalizer.py.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgaug.errors import KGFormatError
from kgaug.records import FiveTuple
from kgaug.verbalize import (
    TemplateVerbalizer,
    available_verbalizers,
    get_parser,
    get_verbalizer,
    register_verbalizer,
)
from kgaug.verbalize.engine import (
    Completion,
    Engine,
    ResponseCache,
    Task,
    TaskResult,
    _read_resume,
    _ResumeWriter,
    request_key,
)
from kgaug.verbalize.parsing import (
    parse_answer_tags,
    parse_graph_lines,
    parse_json_object,
    parse_location_lines,
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


def test_numbers_inside_an_item_do_not_split_it() -> None:
    text = "1. Lyon: it has a population of 500. It is old.\n2. Nice: 7) museums."
    assert parse_numbered(text) == [
        "Lyon: it has a population of 500. It is old.",
        "Nice: 7) museums.",
    ]
    # a restarted list, and no list at all
    assert parse_numbered("Step 1. plan\n1. a 2. b") == ["plan", "a", "b"]
    assert parse_numbered("It has 500. It is old.") == ["It has 500. It is old."]
    assert parse_answer_tags("1. Who lived at number 10. Downing Street?<a>Pitt</a>") == [
        ("Who lived at number 10. Downing Street?", "Pitt")
    ]


def test_answers_and_names_keep_their_characters() -> None:
    """Only emphasis *around* an answer or a name goes; C#, Foo_Bar, M*A*S*H stay."""
    assert parse_answer_tags("1. Which language?<a>C#</a> 2. Which show?<a>**M*A*S*H**</a>") == [
        ("Which language?", "C#"),
        ("Which show?", "M*A*S*H"),
    ]
    assert parse_answer_tags('1. Where?<a>"Paris"</a> 2. Who?<a>`Foo_Bar`</a>') == [
        ("Where?", "Paris"),
        ("Who?", "Foo_Bar"),
    ]
    assert parse_graph_lines("1. <C#; Object><influenced by><Java_lang; Object>") == [
        ("C#", "Object", "influenced by", "Java_lang", "Object")
    ]


def test_graph_facts_stay_on_one_line_and_types_default() -> None:
    text = "1. <A; Person><r>\n<B; Person><s><C>\n2. <D><t><E; Location>"
    assert parse_graph_lines(text) == [
        ("B", "Person", "s", "C", "Object"),
        ("D", "Object", "t", "E", "Location"),
    ]


def test_json_object_with_braces_in_strings() -> None:
    assert parse_json_object('{"question": "a } b {", "answer": "A"}') == {
        "question": "a } b {",
        "answer": "A",
    }
    assert parse_json_object('Sure: {"answer": "}"} and {"x": 1}') == {"answer": "}"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1. Lyon - France\n2. Nice – France", [("Lyon", "France"), ("Nice", "France")]),
        ("1. Lyon - France 2. Nice | France", [("Lyon", "France"), ("Nice", "France")]),
        ("- **Lyon**: France\n* Nice (France)", [("Lyon", "France"), ("Nice", "France")]),
        ("Lyon, Auvergne - France.", [("Lyon, Auvergne", "France")]),
        (
            "Sure! Here they are:\n1. Lyon\n2. Nice\nHope this helps",
            [("Lyon", None), ("Nice", None)],
        ),
        ("Lyon\nNice", [("Lyon", None), ("Nice", None)]),
        ("", []),
    ],
)
def test_location_lines(text: str, expected: list[tuple[str, str | None]]) -> None:
    assert parse_location_lines(text) == expected


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


def test_response_cache_close_is_idempotent_and_final(tmp_path: Path) -> None:
    with ResponseCache(tmp_path) as c:
        c.put("k", Completion(text="x"))
    assert c.closed
    c.close()  # again: nothing happens
    with pytest.raises(RuntimeError, match=r"kgaug-llm-cache\.sqlite.* is closed"):
        c.get("k")
    with pytest.raises(RuntimeError, match="is closed"):
        c.put("k", Completion(text="y"))


def test_unreadable_cache_entry_is_a_miss(tmp_path: Path) -> None:
    c = ResponseCache(tmp_path)
    c._db.execute("INSERT INTO completions VALUES ('k', '{\"no\": \"text\"}')")
    assert c.get("k") is None
    c.put("k", Completion(text="fresh"))
    assert c.get("k") == Completion(text="fresh")
    c.close()


# ---------------------------------------------------------------------------- engine


class EchoBackend:
    """An in-process backend: answers the last user message; counts calls and closes."""

    model = "echo"

    def __init__(self) -> None:
        self.calls = 0
        self.closes = 0
        self.acloses = 0

    def cache_params(self) -> dict[str, Any]:
        return {"temperature": 0}

    async def complete(self, messages: list[dict[str, str]], schema: Any) -> Completion:
        self.calls += 1
        await asyncio.sleep(0)
        return Completion(text=messages[-1]["content"])

    async def aclose(self) -> None:
        self.acloses += 1

    def close(self) -> None:
        self.closes += 1


def echo_tasks(n: int, check: Any = None) -> list[Task]:
    return [
        Task(
            key=f"item-{i}",
            messages=[{"role": "user", "content": f"text {i} é"}],
            check=check or (lambda c: (c.text, None)),
        )
        for i in range(n)
    ]


def test_engine_close_closes_cache_and_backend_once(tmp_path: Path) -> None:
    backend = EchoBackend()
    with Engine(backend, cache_dir=tmp_path, progress=False) as engine:
        results, stats = engine.run(echo_tasks(3))
        assert [r.value for r in results] == ["text 0 é", "text 1 é", "text 2 é"]
        assert not engine.closed
    assert engine.closed and engine.cache is not None and engine.cache.closed
    assert backend.closes == 1
    engine.close()  # idempotent
    assert backend.closes == 1
    with pytest.raises(RuntimeError, match="closed"):
        engine.run(echo_tasks(1))
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(engine.arun(echo_tasks(1)))
    assert "closed" in repr(engine)
    # the cache file is complete and reusable by a new engine: zero calls
    again = EchoBackend()
    with Engine(again, cache_dir=tmp_path, progress=False) as engine2:
        _, stats = engine2.run(echo_tasks(3))
    assert (again.calls, stats.cache_hits) == (0, 3)


def test_engine_aclose_in_a_running_loop(tmp_path: Path) -> None:
    backend = EchoBackend()

    async def main() -> None:
        engine = Engine(backend, cache_dir=tmp_path, progress=False)
        await engine.arun(echo_tasks(2))
        await engine.aclose()
        await engine.aclose()
        assert engine.closed

    asyncio.run(main())
    assert (backend.acloses, backend.closes) == (1, 1)


def test_engine_without_cache_closes_backend() -> None:
    backend = EchoBackend()
    engine = Engine(backend, progress=False)
    engine.close()
    assert engine.cache is None and backend.closes == 1


def test_a_failing_check_cancels_the_other_tasks(tmp_path: Path) -> None:
    def check(c: Completion) -> tuple[Any, str | None]:
        if c.text.startswith("text 3"):
            raise ZeroDivisionError("bug in a check")
        return c.text, None

    class Slow(EchoBackend):
        finished = 0

        async def complete(self, messages: list[dict[str, str]], schema: Any) -> Completion:
            self.calls += 1
            if not messages[-1]["content"].startswith("text 3"):
                await asyncio.sleep(0.3)
                self.finished += 1
            return Completion(text=messages[-1]["content"])

        async def aclose(self) -> None:  # slow: orphaned tasks would finish meanwhile
            await asyncio.sleep(0.6)

    backend = Slow()
    out = tmp_path / "run.jsonl"
    engine = Engine(backend, concurrency=8, progress=False)
    with pytest.raises(ZeroDivisionError, match="bug in a check"):
        engine.run(echo_tasks(8, check), out=out)
    # the others were cancelled while waiting: none finished, nothing was written
    assert (backend.calls, backend.finished) == (8, 0)
    assert not out.exists() or out.read_text() == ""


def test_resume_file_with_a_torn_multibyte_line(tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    backend = EchoBackend()
    engine = Engine(backend, progress=False)
    engine.run(echo_tasks(2), out=out)
    lines = out.read_bytes().splitlines(keepends=True)
    assert len(lines) == 2
    # a crash cut the second line in the middle of "é" (two bytes in UTF-8)
    cut = lines[1].index("é".encode()) + 1
    out.write_bytes(lines[0] + lines[1][:cut])
    assert set(_read_resume(out)) == {json.loads(lines[0])["key"]}
    results, stats = engine.run(echo_tasks(2), out=out)
    assert stats.resumed == 1 and backend.calls == 3
    assert [r.value for r in results] == ["text 0 é", "text 1 é"]
    # the writer started on a fresh line: one torn line, two good ones
    raw = out.read_bytes().split(b"\n")
    assert raw[-1] == b"" and len(raw) == 4
    assert raw[1] == lines[1][:cut]
    assert len(_read_resume(out)) == 2
    # a third run asks nothing
    _, stats = engine.run(echo_tasks(2), out=out)
    assert stats.resumed == 2 and backend.calls == 3


def test_resume_file_must_be_a_resume_file(tmp_path: Path) -> None:
    out = tmp_path / "questions.jsonl"
    out.write_text('{"question": "Q?", "answer": "A"}\n')
    engine = Engine(EchoBackend(), progress=False)
    with pytest.raises(KGFormatError, match="not a line of a kgaug resume file") as e:
        engine.run(echo_tasks(1), out=out)
    assert (e.value.path, e.value.line) == (str(out), 1)
    assert out.read_text() == '{"question": "Q?", "answer": "A"}\n'  # left as it was


def test_error_lines_in_a_resume_file_are_asked_again(tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    backend = EchoBackend()
    engine = Engine(backend, progress=False)
    key = engine._resume_key(echo_tasks(1)[0])
    out.write_text(TaskResult(key=key, status="error", reason="boom").model_dump_json() + "\n")
    (r,), stats = engine.run(echo_tasks(1), out=out)
    assert (r.status, stats.resumed, backend.calls) == ("ok", 0, 1)


def test_resume_writer_does_not_read_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run.jsonl"
    out.write_bytes(b'{"key": "a", "status": "ok"}\n' * 1000 + b'{"key": "b", "sta')
    with monkeypatch.context() as m:
        m.setattr(Path, "read_bytes", lambda self: pytest.fail("read the whole file"))
        m.setattr(Path, "read_text", lambda self, *a: pytest.fail("read the whole file"))
        w = _ResumeWriter(out)
        w.write(TaskResult(key="c", status="ok", value=1))
        w.close()
    assert out.read_bytes().endswith(
        b'"sta\n{"key":"c","status":"ok","value":1,"reason":null,"attempts":0}\n'
    )


def test_error_reasons_pass_through_the_backends_redact() -> None:
    class Leaky(EchoBackend):
        async def complete(self, messages: list[dict[str, str]], schema: Any) -> Completion:
            raise ConnectionError("server says: bad key sk-secret-123456")

        def redact(self, text: str) -> str:
            return text.replace("sk-secret-123456", "***")

    (r,), stats = Engine(Leaky(), progress=False).run(echo_tasks(1))
    assert (r.status, stats.errors) == ("error", 1)
    assert r.reason == "ConnectionError: server says: bad key ***"


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


# ---------------------------------------------------------------------------- hostile replies


@pytest.mark.parametrize(
    "text",
    [
        "{" * 320_000,
        '{"a":' * 20_000 + "1" + "}" * 20_000,
        "[" * 320_000,
        '{"question": ' + "1" * 400_000 + "}",  # past Python's int digit limit: ValueError
        "<a>" * 110_000,
        "< a >" * 60_000,
        "<a>" + '"' * 320_000 + "</a>",
        "<Name" + " " * 320_000 + "x",
        "```json " + " " * 320_000,
        "1. " * 110_000,
    ],
    ids=[
        "braces",
        "deep-object",
        "deep-list",
        "huge-int",
        "open-tags",
        "spaced-tags",
        "quotes",
        "spaces-in-name",
        "open-fence",
        "numbers",
    ],
)
def test_pathological_replies_parse_fast_and_never_raise(text: str) -> None:
    """Each parser on 320 KB of hostile text: no recursion, no exception, and done in
    seconds (a quadratic reader takes minutes here: 32 KB of ``{`` took 0.4 s before)."""
    import time

    for parse in (
        parse_json_object,
        parse_answer_tags,
        parse_graph_lines,
        parse_location_lines,
        parse_numbered,
    ):
        start = time.perf_counter()
        parse(text)
        assert time.perf_counter() - start < 5.0, parse.__name__


def test_json_object_depth_is_bounded() -> None:
    from kgaug.verbalize.parsing import MAX_JSON_DEPTH

    ok = '{"a":' * (MAX_JSON_DEPTH - 1) + "1" + "}" * (MAX_JSON_DEPTH - 1)
    assert parse_json_object(ok) is not None
    deep = '{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1)
    assert parse_json_object(deep) is None
    assert parse_json_object(deep, max_depth=64) is not None
    assert parse_json_object('{"a":' * 5_000 + "1" + "}" * 5_000) is None  # no RecursionError
    assert parse_json_object('{"n": ' + "9" * 10_000 + "}") is None  # no ValueError


def _old_answer_tags(text: str) -> list[tuple[str, str]]:
    """parse_answer_tags as it was (a lazy regex and a scan of the marks per tag)."""
    import re

    from kgaug.verbalize.parsing import _BULLET, _blank, _clean, _clean_name, _list_marks

    tagged = re.compile(r"<\s*a\s*>(.*?)<\s*/\s*a\s*>", re.IGNORECASE | re.DOTALL)
    plain = _blank(text)
    marks = _list_marks(plain)
    out = []
    prev_end = 0
    for m in tagged.finditer(text):
        before = [k for k in marks if prev_end <= k.start() and k.end() <= m.start()]
        if before:
            q = plain[before[-1].end() : m.start()]
        else:
            lines = [ln for ln in plain[prev_end : m.start()].splitlines() if ln.strip()]
            q = _BULLET.sub("", lines[-1]) if lines else ""
        prev_end = m.end()
        q, a = _clean(q), _clean_name(m.group(1))
        if q or a:
            out.append((q, a))
    return out


_FRAGMENTS = st.sampled_from(
    ["<a>", "</a>", "< A >", "</ a>", "1. ", "2. ", "3) ", "Q?", "x", " ", "\n", "**", "- ", "é"]
)


@given(st.lists(_FRAGMENTS, max_size=40).map("".join))
def test_linear_tag_reading_reads_what_the_regex_read(text: str) -> None:
    assert parse_answer_tags(text) == _old_answer_tags(text)


@given(
    st.lists(
        st.sampled_from(["{", "}", '"q"', ":", "1", ",", "[", "]", "```", "json", " ", "x"]),
        max_size=30,
    ).map("".join)
)
def test_bounded_json_reading_reads_what_the_unbounded_one_read(text: str) -> None:
    import json
    import re

    def old(text: str) -> dict[str, Any] | None:
        decoder = json.JSONDecoder()
        fence = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
        for cand in [m.group(1) for m in fence.finditer(text)] + [text]:
            start = cand.find("{")
            while start >= 0:
                try:
                    obj, _ = decoder.raw_decode(cand, start)
                except json.JSONDecodeError:
                    pass
                else:
                    if isinstance(obj, dict):
                        return obj
                start = cand.find("{", start + 1)
        return None

    assert parse_json_object(text) == old(text)

"""The OpenAI backend against a real chat-completions server on 127.0.0.1.

Every test talks HTTP to :class:`FakeChatServer` through the official ``openai`` client:
normal and structured answers, malformed output, changed answers, refusals, rate limits,
server errors, timeouts, a crash followed by a resume, the cache, and the API key.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import kgaug
from _llm import items, make_verbalizer, user_text
from kgaug.augmentation import diversify
from kgaug.records import ComparisonFact, FiveTuple, Triple
from kgaug.verbalize import Question, get_verbalizer
from kgaug.verbalize.fake_server import FakeChatServer, Reply, cooperative_model
from kgaug.verbalize.items import partial_path, read_questions
from kgaug.verbalize.llm import LLMVerbalizer

KEY = "sk-test-7f3a9c1e-never-write-me"


def make(server: FakeChatServer, **options: Any) -> LLMVerbalizer:
    return make_verbalizer(server, KEY, **options)


@pytest.fixture
def server():
    with FakeChatServer() as s:
        yield s


# ---------------------------------------------------------------------------- normal answers


def test_text_answers_keep_the_gold_answer(server: FakeChatServer) -> None:
    v = make(server, structured="text")
    qs = v.verbalize(items(5))
    assert [q.status for q in qs] == ["ok"] * 5
    assert [q.answer for q in qs] == [f"City {i}" for i in range(5)]
    assert qs[0].question == "What is the place of birth of the director of Film 0?"
    assert all(isinstance(q.source, FiveTuple) for q in qs)
    assert len(server.requests) == 5
    assert all("response_format" not in r for r in server.requests)
    stats = v.last_run
    assert stats is not None
    assert (stats.requests, stats.ok, stats.failed, stats.errors) == (5, 5, 0, 0)
    assert stats.prompt_tokens > 0 and stats.completion_tokens > 0


def test_facts_chains_and_comparisons(server: FakeChatServer) -> None:
    v = make(server)
    chain = kgaug.Chain(entities=("A", "B", "C", "D"), relations=("r1", "r2", "r3"))
    cmp = ComparisonFact(
        entity1="Paris", entity2="Lyon", attribute="country", value1="France", value2="France",
        answer="yes",
    )  # fmt: skip
    qs = v.verbalize([Triple(head="Roma", relation="director", tail="Alfonso Cuaron"), chain, cmp])
    assert [q.status for q in qs] == ["ok"] * 3
    assert [q.answer for q in qs] == ["Alfonso Cuaron", "D", "yes"]
    assert qs[1].question == "What is the r3 of the r2 of the r1 of A?"
    assert "Paris" in qs[2].question
    # the paper's prompt, with the item's logic line and the answer that must be kept
    assert all(
        "question formatting assistant" in r["messages"][0]["content"] for r in server.requests
    )
    texts = [user_text(r) for r in server.requests]
    assert any(
        "Logic: <Roma> -> <director> -> <Alfonso Cuaron>\nAnswer: Alfonso Cuaron" in t
        for t in texts
    )


def test_structured_output_is_requested_and_parsed(server: FakeChatServer) -> None:
    v = make(server)
    qs = v.verbalize(items(3))
    assert all(q.status == "ok" for q in qs)
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"]["required"] == ["question", "answer"]


def test_server_without_structured_output_falls_back_to_text(server: FakeChatServer) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        if "response_format" in request:
            return Reply(status=400, body={"error": {"message": "response_format unsupported"}})
        return cooperative_model(request, n)

    server.responder = responder
    v = make(server)
    qs = v.verbalize(items(4))
    assert all(q.status == "ok" for q in qs)
    # after the first refusal the backend stops asking for structured output
    assert sum("response_format" in r for r in server.requests) <= 4
    assert "response_format" not in server.requests[-1]
    assert v.backend.structured == "text"


def test_pydantic_schema_output_uses_strict_json(server: FakeChatServer) -> None:
    """JSON in a code fence (as some servers wrap it) is read like bare JSON."""
    server.responder = lambda req, n: Reply(
        '```json\n{"question": "Who is it?", "answer": "City 0"}\n```'
    )
    (q,) = make(server).verbalize(items(1))
    assert (q.status, q.question) == ("ok", "Who is it?")


# ---------------------------------------------------------------------------- bad answers


def test_malformed_json_is_reasked_then_accepted(server: FakeChatServer) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        if len(request["messages"]) == 2:  # first attempt: broken JSON, no tags
            return Reply('{"question": "What is the birthplace of the director", "answer": ')
        return cooperative_model({**request, "messages": request["messages"][:2]}, n)

    server.responder = responder
    v = make(server)
    (q,) = v.verbalize(items(1))
    assert q.status == "ok"
    assert q.answer == "City 0"
    assert v.last_run is not None and v.last_run.reasks == 1
    retry = server.requests[1]["messages"]
    assert retry[-2]["role"] == "assistant" and retry[-1]["role"] == "user"
    assert "<a></a>" in retry[-1]["content"]


def test_always_malformed_is_failed_with_reason(server: FakeChatServer) -> None:
    server.responder = lambda req, n: Reply("{{{ not json at all")
    v = make(server, max_attempts=3)
    (q,) = v.verbalize(items(1))
    assert q.status == "failed"
    assert q.question == ""
    assert q.answer == "City 0"
    assert q.reason is not None and "<a></a>" in q.reason
    assert len(server.requests) == 3


def test_changed_answer_is_rejected(server: FakeChatServer) -> None:
    server.responder = lambda req, n: Reply("1. Where was he born?<a>Rome</a>")
    v = make(server, structured="text", max_attempts=2)
    qs = v.verbalize(items(2))
    assert [q.status for q in qs] == ["failed", "failed"]
    assert all(q.reason and "must stay exactly" in q.reason for q in qs)
    assert len(server.requests) == 4  # 2 items x 2 attempts
    assert any("exactly 'City 0'" in user_text(r) for r in server.requests)


def test_answer_change_then_fix(server: FakeChatServer) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        if len(request["messages"]) == 2:
            return Reply("1. Where was the director of Film 0 born?<a>Paris</a>")
        return Reply("1. Where was the director of Film 0 born?<a>City 0</a>")

    server.responder = responder
    (q,) = make(server, structured="text").verbalize(items(1))
    assert (q.status, q.question) == ("ok", "Where was the director of Film 0 born?")


def test_question_that_leaks_its_answer_is_rejected(server: FakeChatServer) -> None:
    server.responder = lambda req, n: Reply("1. Is City 0 the answer?<a>City 0</a>")
    (q,) = make(server, structured="text", max_attempts=2).verbalize(items(1))
    assert q.status == "failed"
    assert q.reason is not None and "must not contain its answer" in q.reason


def test_refusal_field_is_failed(server: FakeChatServer) -> None:
    server.responder = lambda req, n: Reply(None, refusal="I can't help with that.")
    (q,) = make(server, max_attempts=2).verbalize(items(1))
    assert q.status == "failed"
    assert q.reason is not None and "refused" in q.reason


@pytest.mark.parametrize(
    "text",
    ["I'm sorry, but I cannot help with this request.", "I’m sorry, I can’t do that."],
)
def test_text_refusal_is_failed(server: FakeChatServer, text: str) -> None:
    server.responder = lambda req, n: Reply(text)
    (q,) = make(server, max_attempts=2).verbalize(items(1))
    assert (q.status, q.reason) == ("failed", "refused")


def test_first_acceptable_of_several_questions_is_taken(server: FakeChatServer) -> None:
    server.responder = lambda req, n: Reply(
        "1. Where?<a>Rome</a>\n2. Where was the director of Film 0 born?<a>City 0</a>"
    )
    (q,) = make(server, structured="text").verbalize(items(1))
    assert (q.status, q.question) == ("ok", "Where was the director of Film 0 born?")
    assert len(server.requests) == 1  # no re-ask


def test_answer_spacing_and_final_period_do_not_count(server: FakeChatServer) -> None:
    server.responder = lambda req, n: Reply(
        "1. Where was the director of Film 0 born?<a> City  0. </a>\n"
        "2. Which city is it?<a>**City 0.**</a>"
    )
    v = make(server, structured="text")
    (q,) = v.verbalize(items(1))
    assert (q.status, q.answer) == ("ok", "City 0")
    more = v.paraphrase(q, 2)
    assert [m.question for m in more] == ["Which city is it?"]


def test_unrelated_400_does_not_switch_off_structured_output(server: FakeChatServer) -> None:
    server.responder = lambda req, n: Reply(
        status=400, body={"error": {"message": "maximum context length exceeded"}}
    )
    v = make(server, max_attempts=1)
    (q,) = v.verbalize(items(1))
    assert q.status == "failed" and q.reason is not None and "BadRequestError" in q.reason
    assert len(server.requests) == 2  # with the schema, then without: both refused
    assert v.backend.structured == "auto"
    server.responder = cooperative_model
    assert v.verbalize(items(1))[0].status == "ok"
    assert "response_format" in server.requests[-1]


def test_no_choices_is_an_error_and_not_cached(server: FakeChatServer, tmp_path: Path) -> None:
    body = {"id": "x", "object": "chat.completion", "created": 0, "model": "fake", "choices": []}
    server.responder = lambda req, n: Reply(body=body)
    v = make(server, cache_dir=tmp_path)
    (q,) = v.verbalize(items(1))
    assert q.status == "failed" and q.reason is not None and "without choices" in q.reason
    assert v.last_run is not None and v.last_run.errors == 1
    server.responder = cooperative_model
    (q,) = make(server, cache_dir=tmp_path).verbalize(items(1))
    assert q.status == "ok"


# ---------------------------------------------------------------------------- transport errors


def test_429_retry_after_is_honoured(server: FakeChatServer) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        if n == 1:
            return Reply(
                status=429,
                headers={"retry-after": "1"},
                body={"error": {"message": "rate limited", "type": "rate_limit"}},
            )
        return cooperative_model(request, n)

    server.responder = responder
    v = make(server, max_retries=2)
    start = time.perf_counter()
    (q,) = v.verbalize(items(1))
    elapsed = time.perf_counter() - start
    assert q.status == "ok"
    assert len(server.requests) == 2
    assert elapsed >= 0.9  # waited the server's retry-after, not the client's short backoff
    assert server.headers[1].get("x-stainless-retry-count") == "1"


def test_500_is_retried_by_the_client(server: FakeChatServer) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        if n <= 2:
            return Reply(status=500, body={"error": {"message": "boom"}})
        return cooperative_model(request, n)

    server.responder = responder
    (q,) = make(server, max_retries=3).verbalize(items(1))
    assert q.status == "ok"
    assert len(server.requests) == 3


def test_persistent_500_is_an_error_not_written_to_resume_file(
    server: FakeChatServer, tmp_path: Path
) -> None:
    server.responder = lambda req, n: Reply(status=500, body={"error": {"message": "down"}})
    out = tmp_path / "run.jsonl"
    v = make(server, max_retries=1)
    (q,) = v.verbalize(items(1), out=out)
    assert q.status == "failed"
    assert q.reason is not None and "InternalServerError" in q.reason
    assert v.last_run is not None and v.last_run.errors == 1
    assert len(server.requests) == 2  # first try + one client retry
    journal = partial_path(out)
    assert not journal.exists() or journal.read_text() == ""
    # the server recovers: the rerun asks again and succeeds
    server.responder = cooperative_model
    (q,) = v.verbalize(items(1), out=out)
    assert q.status == "ok"


def test_malformed_http_body_is_an_error(server: FakeChatServer) -> None:
    server.responder = lambda req, n: Reply(body="this is not json {")
    v = make(server, max_attempts=2)
    (q,) = v.verbalize(items(1))
    assert q.status == "failed"
    assert v.last_run is not None and v.last_run.errors + v.last_run.failed == 1


def test_slow_response_times_out(server: FakeChatServer) -> None:
    server.responder = lambda req, n: Reply("1. Q?<a>City 0</a>", delay=3.0)
    v = make(server, timeout=0.3, max_retries=0)
    start = time.perf_counter()
    (q,) = v.verbalize(items(1))
    assert time.perf_counter() - start < 2.5
    assert q.status == "failed"
    assert q.reason is not None and "Timeout" in q.reason


def test_timeout_then_retry_succeeds(server: FakeChatServer) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        reply = cooperative_model(request, n)
        if n == 1:
            reply.delay = 3.0
        return reply

    server.responder = responder
    (q,) = make(server, timeout=0.5, max_retries=1).verbalize(items(1))
    assert q.status == "ok"
    assert len(server.requests) == 2


# ---------------------------------------------------------------------------- concurrency


def test_concurrency_is_bounded() -> None:
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def responder(request: dict[str, Any], n: int) -> Reply:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return cooperative_model(request, n)

    with FakeChatServer(responder) as server:
        start = time.perf_counter()
        qs = make(server, concurrency=4).verbalize(items(24))
        elapsed = time.perf_counter() - start
    assert all(q.status == "ok" for q in qs)
    assert 2 <= state["peak"] <= 4
    assert elapsed < 24 * 0.05  # faster than one at a time


def test_verbalize_inside_a_running_event_loop(server: FakeChatServer) -> None:
    """Notebooks run an event loop; the synchronous API must still work there."""
    v = make(server)

    async def main() -> list[Question]:
        return v.verbalize(items(2))

    qs = asyncio.run(main())
    assert [q.status for q in qs] == ["ok", "ok"]
    # and the same verbalizer again, on a new loop
    assert v.verbalize(items(1))[0].status == "ok"


# ---------------------------------------------------------------------------- cache and key


def test_cache_second_run_makes_zero_requests(server: FakeChatServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = make(server, cache_dir=cache).verbalize(items(10))
    assert len(server.requests) == 10
    v = make(server, cache_dir=cache, api_key="sk-another-key")  # the key is not in the cache key
    again = v.verbalize(items(10))
    assert len(server.requests) == 10
    assert v.last_run is not None
    assert (v.last_run.requests, v.last_run.cache_hits) == (0, 10)
    assert again == first
    # parameters that change answers are part of the key
    make(server, cache_dir=cache, temperature=0.7).verbalize(items(10))
    assert len(server.requests) == 20


def test_api_key_is_never_written(server: FakeChatServer, tmp_path: Path) -> None:
    v = make(server, cache_dir=tmp_path / "cache", structured="text")
    v.verbalize(items(3), out=tmp_path / "run.jsonl")
    v.paraphrase_all(v.verbalize(items(2)), 2, out=tmp_path / "para.jsonl")
    assert server.headers[0]["authorization"] == f"Bearer {KEY}"  # it was sent ...
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) >= 3
    for p in files:
        assert KEY.encode() not in p.read_bytes(), p  # ... and written nowhere
    assert KEY not in repr(v) and KEY not in str(v.last_run)


def test_api_key_echoed_by_the_server_is_written_nowhere(
    server: FakeChatServer, tmp_path: Path
) -> None:
    """A server may echo the key in an error or an answer; neither reaches a file."""
    from kgaug.verbalize.items import write_questions

    def responder(request: dict[str, Any], n: int) -> Reply:
        auth = server.headers[n - 1]["authorization"]
        if "Answer: City 0" in user_text(request):
            return Reply(status=500, body={"error": {"message": f"bad header {auth}"}})
        reply = cooperative_model({**request, "response_format": None}, n)
        return Reply(f"{reply.content} (sent with {auth})")

    server.responder = responder
    v = make(server, cache_dir=tmp_path / "cache")
    qs = v.verbalize(items(2), out=tmp_path / "run.jsonl")
    assert [q.status for q in qs] == ["failed", "ok"]
    assert qs[0].reason is not None and "Bearer ***" in qs[0].reason
    write_questions(qs, tmp_path / "questions.jsonl")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) >= 3
    for p in files:
        assert KEY.encode() not in p.read_bytes(), p
    assert KEY not in str(qs)


def test_api_key_from_environment(server: FakeChatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    v = get_verbalizer("openai", base_url=server.base_url, model="fake", progress=False)
    v.verbalize(items(1))
    assert server.headers[0]["authorization"] == "Bearer sk-from-env"


# ---------------------------------------------------------------------------- resume

_CRASH_SCRIPT = """
import sys
from kgaug.records import FiveTuple
from kgaug.verbalize import get_verbalizer
items = [FiveTuple(obj1=f"Film {i}", rel1="director", obj2=f"Director {i}",
                   rel2="place of birth", obj3=f"City {i}") for i in range(40)]
v = get_verbalizer("openai", base_url=sys.argv[1], model="fake", api_key="sk-x",
                   concurrency=2, progress=False, max_retries=0, timeout=600)
v.verbalize(items, out=sys.argv[2])
"""


def test_crash_mid_run_then_resume(tmp_path: Path) -> None:
    final = tmp_path / "run.jsonl"
    out = partial_path(final)  # the resume file the run appends to

    def responder(request: dict[str, Any], n: int) -> Reply:
        reply = cooperative_model(request, n)
        if n > 10:  # the server stalls: the client will be killed while waiting
            reply.delay = 30.0
        return reply

    with FakeChatServer(responder) as server:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CRASH_SCRIPT, server.base_url, str(final)],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if out.exists() and out.read_text().count("\n") >= 10:
                    break
                assert proc.poll() is None, "the run ended before it could be killed"
                time.sleep(0.05)
            else:
                pytest.fail("no progress written")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        written = out.read_text().count("\n")
        assert 10 <= written < 40
        with open(out, "a") as fh:  # a torn last line, as a crash mid-write leaves
            fh.write('{"key": "abc", "sta')

        server.responder = cooperative_model
        before = len(server.requests)
        v = get_verbalizer(
            "openai", base_url=server.base_url, model="fake", api_key="sk-x",
            concurrency=2, progress=False, max_retries=0,
        )  # fmt: skip
        assert not final.exists()  # killed: only the resume file was written
        qs = v.verbalize(items(40), out=final)
        made = len(server.requests) - before
    assert [q.status for q in qs] == ["ok"] * 40
    assert [q.answer for q in qs] == [f"City {i}" for i in range(40)]
    assert v.last_run is not None
    assert v.last_run.resumed == written
    assert made == 40 - written  # finished items were not asked again
    assert not out.exists()  # complete: the resume file is gone, the questions file written
    assert read_questions(final) == qs


def test_structured_mode_is_part_of_the_cache_key(server: FakeChatServer, tmp_path: Path) -> None:
    make(server, cache_dir=tmp_path).verbalize(items(2))
    v = make(server, cache_dir=tmp_path, structured="text")
    v.verbalize(items(2))
    assert v.last_run is not None and v.last_run.requests == 2
    assert all("response_format" not in r for r in server.requests[2:])


def test_fallback_to_text_keeps_the_cache_key(server: FakeChatServer, tmp_path: Path) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        if "response_format" in request:
            return Reply(status=400, body={"error": {"message": "response_format unsupported"}})
        return cooperative_model(request, n)

    server.responder = responder
    make(server, cache_dir=tmp_path, concurrency=1).verbalize(items(3))
    v = make(server, cache_dir=tmp_path)  # a new backend starts at "auto" again
    v.verbalize(items(3))
    assert v.last_run is not None and (v.last_run.requests, v.last_run.cache_hits) == (0, 3)


def test_resume_is_scoped_to_model_and_prompt(server: FakeChatServer, tmp_path: Path) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:  # item 2 always fails
        return (
            Reply("no tags here")
            if "City 2" in user_text(request)
            else cooperative_model(request, n)
        )

    server.responder = responder
    out = tmp_path / "run.jsonl"
    first = make(server, max_attempts=1).verbalize(items(3), out=out)
    assert [q.status for q in first] == ["ok", "ok", "failed"]
    assert len(server.requests) == 3 and partial_path(out).exists()  # kept: one failed
    assert read_questions(out) == first  # the same file as `kgaug verbalize --out`
    make(server, max_attempts=1).verbalize(items(3), out=out)
    assert len(server.requests) == 3  # resumed: nothing asked
    make(server, max_attempts=1, temperature=0.5).verbalize(items(3), out=out)
    assert len(server.requests) == 6  # other options: other results


def test_duplicate_items_are_asked_once(server: FakeChatServer) -> None:
    qs = make(server).verbalize(items(2) * 3)
    assert len(qs) == 6 and all(q.status == "ok" for q in qs)
    assert len(server.requests) == 2


# ---------------------------------------------------------------------------- other steps


def test_paraphrase_keeps_answers(server: FakeChatServer) -> None:
    v = make(server)
    (q,) = v.verbalize(items(1))
    more = v.paraphrase(q, 3)
    assert len(more) == 3
    assert {m.answer for m in more} == {"City 0"}
    assert len({m.question for m in more} | {q.question}) == 4
    with pytest.raises(ValueError, match="k must be >= 1"):
        v.paraphrase_all([q], 0)


def test_paraphrase_that_changes_answer_is_dropped(server: FakeChatServer) -> None:
    server.responder = lambda req, n: Reply(
        "1. Where?<a>Elsewhere</a>\n2. Which city?<a>City 0</a>"
    )
    q = Question(question="Where was X born?", answer="City 0", source=items(1)[0])
    more = make(server).paraphrase(q, 2)
    assert [m.question for m in more] == ["Which city?"]


def test_failed_questions_are_not_paraphrased(server: FakeChatServer) -> None:
    src = items(2)
    failed = Question(question="", answer="City 0", source=src[0], status="failed", reason="x")
    ok = Question(question="Where was X born?", answer="City 1", source=src[1])
    v = make(server)
    assert [len(m) for m in v.paraphrase_all([failed, ok, failed], 2)] == [0, 2, 0]
    assert len(server.requests) == 1
    assert "Question: Where was X born?" in user_text(server.requests[0])


def test_diversify_with_llm_asks_concurrently(server: FakeChatServer) -> None:
    v = make(server, concurrency=8)
    qs = v.verbalize(items(4))
    before = len(server.requests)
    out = diversify(qs, variants=3, verbalizer=v)
    assert len(out) == 12
    assert len(server.requests) - before == 4  # one request per question
    assert [o.answer for o in out[:3]] == ["City 0"] * 3


def test_parse_text_into_typed_graph(server: FakeChatServer) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        return Reply(
            "Here is the graph:\n1. <Avatar; Film><director><James Cameron; Person>\n"
            "2. < James Cameron ; Person > <born in> <Kapuskasing; Location>\n"
            "3) <Kapuskasing; Location><country><Canada; Location> and some trailing text"
        )

    server.responder = responder
    kg = make(server).parse("Avatar was directed by James Cameron, born in Kapuskasing.")
    assert kg.num_facts == 3
    assert ("James Cameron", "born in", "Kapuskasing") in kg
    assert kg.entity_type("Avatar") == "Film"
    assert kg.entity_type("Kapuskasing") == "Location"
    assert "graph gpt" in server.requests[0]["messages"][0]["content"]


def test_parse_is_resumable(server: FakeChatServer, tmp_path: Path) -> None:
    out = tmp_path / "parse.jsonl"
    texts = ["A | r | B", "B | s | C"]
    kg = make(server).parse(texts, out=out)
    v = make(server)
    again = v.parse(texts, out=out)
    assert len(server.requests) == 2
    assert v.last_run is not None and v.last_run.resumed == 2
    assert sorted(again.triples()) == sorted(kg.triples()) == [("A", "r", "B"), ("B", "s", "C")]
    with pytest.raises(TypeError, match="list of texts"):
        v.parse([b"bytes"])  # type: ignore[list-item]


def test_parse_many_texts_and_failures(server: FakeChatServer) -> None:
    v = make(server, max_attempts=1)
    kg = v.parse(["A | r | B", "B | s | C", "nothing to see"])
    assert kg.num_facts == 2
    assert v.last_run is not None and (v.last_run.ok, v.last_run.failed) == (2, 1)


def test_propose_feeds_llm_augmentation(server: FakeChatServer, example_kg: Any) -> None:
    v = make(server)
    facts = v.propose(example_kg, "director", 4)
    assert len(facts) == 4
    assert all(f.relation == "director" and f.provenance == "synthetic" for f in facts)
    assert "director" in user_text(server.requests[0])
    # a verbalizer is a valid proposer for strategy="llm" (all proposals get filtered here)
    plan = kgaug.plan_augmentation(
        example_kg, relations=["director"], strategy="llm", proposer=v, phi_g=3.6
    )
    assert plan is not None


def test_propose_drops_known_repeated_and_extra_facts(
    server: FakeChatServer, example_kg: Any
) -> None:
    h, _, t = next(f for f in example_kg.triples() if f[1] == "director")
    server.responder = lambda req, n: Reply(
        f"1. <{h}; Film><director><{t}; Person>\n"  # already in the graph
        "2. <X; Film><director><Y; Person>\n"
        "3. <X; Film><director><Y; Person>\n"  # repeated
        "4. <Z; Film><director><Z; Film>\n"  # a self-loop
        "5. <U; Film><director><V; Person>\n"
        "6. <W; Film><director><Q; Person>"  # beyond n
    )
    facts = make(server).propose(example_kg, "director", 2)
    assert [(f.head, f.tail) for f in facts] == [("X", "Y"), ("U", "V")]


def test_propose_bad_arguments(server: FakeChatServer, example_kg: Any) -> None:
    v = make(server)
    with pytest.raises(ValueError, match=r"'directr' is not in the graph.*did you mean 'director'"):
        v.propose(example_kg, "directr", 2)
    with pytest.raises(ValueError, match="n must be >= 1"):
        v.propose(example_kg, "director", 0)
    assert server.requests == []


def test_describe_as_paragraph_hook(server: FakeChatServer, example_kg: Any) -> None:
    v = make(server)
    text = v.describe("Betaem", "country", "France")
    assert "France" in text and "Betaem" in text
    _, log = kgaug.augment_comparison(
        example_kg, "country", num_new=2, seed=0, paragraph_hook=v.paragraph_hook
    )
    assert all(log.paragraphs.values())


def test_custom_prompts_and_examples(server: FakeChatServer) -> None:
    v = make(server, prompts={"question": "You are a question formatting assistant. Be brief."},
             examples=[("Who?", "Me")])  # fmt: skip
    v.verbalize(items(1))
    msgs = server.requests[0]["messages"]
    assert msgs[0]["content"] == "You are a question formatting assistant. Be brief."
    assert "1. Who?<a>Me</a>" in msgs[1]["content"]


def test_bad_options(server: FakeChatServer) -> None:
    with pytest.raises(ValueError, match="concurrency must be >= 1"):
        make(server, concurrency=0)
    with pytest.raises(ValueError, match=r"unknown step 'questions'.*did you mean 'question'"):
        make(server, prompts={"questions": "You are ..."})
    with pytest.raises(ValueError, match="timeout must be > 0"):
        make(server, timeout=0)
    with pytest.raises(ValueError, match="structured must be"):
        make(server, structured="yaml")
    with pytest.raises(TypeError):
        make(server, no_such_option=1)


# ---------------------------------------------------------------------------- new locations


def test_locations_with_the_papers_prompt(server: FakeChatServer) -> None:
    v = make(server)
    pairs = v.locations(["France", "Canada"], 3)
    assert pairs == [(f"France Town {i}", "France") for i in (1, 2, 3)] + [
        (f"Canada Town {i}", "Canada") for i in (1, 2, 3)
    ]
    assert len(server.requests) == 2  # one per country, concurrently
    # requests run concurrently: either may have arrived first
    systems = sorted(r["messages"][0]["content"] for r in server.requests)
    assert all(
        s.startswith("You are a helpful assistant that generates geographical facts.")
        for s in systems
    )
    assert [s.rsplit(": ", 1)[-1] for s in systems] == ["Canada", "France"]
    assert systems[1].endswith("locations for following countries: France")
    user = user_text(server.requests[0])
    assert "1. Taj Mahal - India" in user and "Generate 3 new locations per country" in user
    assert v.last_run is not None and (v.last_run.ok, v.last_run.failed) == (2, 0)


def test_locations_messy_reply_is_parsed_and_filtered(server: FakeChatServer) -> None:
    server.responder = lambda req, n: Reply(
        "Sure! Here are new locations:\n"
        "1. **Lyon** - France\n"
        "2. Louvre Museum - France\n"  # an example
        "3. Toronto - Canada\n"  # another country
        "4. lyon – france\n"  # a repeat
        "5. France - France\n"  # the country itself
        "6. Paris - France\n"  # excluded: already known
        "7. This is a long sentence about some place that is not a name - France\n"
        "8. Nice (France)\n"
        "9. Marseille: France\n"
        "10. Bordeaux - France"  # beyond per_country
    )
    v = make(server)
    assert v.locations(["France"], 3, exclude=["paris"]) == [
        ("Lyon", "France"),
        ("Nice", "France"),
        ("Marseille", "France"),
    ]
    assert v.last_run is not None and v.last_run.reasks == 0


def test_locations_reask_then_fail(server: FakeChatServer) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        if len(request["messages"]) == 2:
            return Reply("1. Louvre Museum - France\n2. Toronto - Canada")
        return Reply("1. Lyon - France")

    server.responder = responder
    v = make(server)
    assert v.locations(["France"], 2) == [("Lyon", "France")]
    retry = user_text(server.requests[1])
    assert "1 named another country" in retry and "1 repeated an example" in retry
    assert "numbered line 'Location - France'" in retry
    assert v.last_run is not None and v.last_run.reasks == 1
    # a model that never gives one: the country contributes nothing and counts as failed
    server.responder = lambda req, n: Reply("I'm sorry, I cannot help with that.")
    v = make(server, max_attempts=2)
    assert v.locations(["Canada"], 2) == []
    assert v.last_run is not None and v.last_run.failed == 1


def test_a_location_gets_one_country_and_a_country_one_request(server: FakeChatServer) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        country = request["messages"][0]["content"].rsplit(":", 1)[-1].strip()
        return Reply(f"1. Springfield - {country}\n2. {country} City - {country}")

    server.responder = responder
    pairs = make(server).locations(["United States", "Canada", "united states "], 2)
    assert pairs == [
        ("Springfield", "United States"),
        ("United States City", "United States"),
        ("Canada City", "Canada"),  # Springfield was given to the first country
    ]
    assert len(server.requests) == 2


def test_locations_cached_and_resumable(server: FakeChatServer, tmp_path: Path) -> None:
    out = tmp_path / "locations.jsonl"
    first = make(server, cache_dir=tmp_path / "c").locations(["France", "India"], 2, out=out)
    assert len(server.requests) == 2 and len(first) == 4
    v = make(server, cache_dir=tmp_path / "c")
    assert v.locations(["France", "India"], 2) == first
    assert v.last_run is not None and v.last_run.cache_hits == 2
    v = make(server)  # no cache: the resume file
    assert v.locations(["France", "India"], 2, out=out) == first
    assert v.last_run is not None and v.last_run.resumed == 2
    assert len(server.requests) == 2


def test_locations_bad_arguments(server: FakeChatServer) -> None:
    v = make(server)
    with pytest.raises(ValueError, match="not a single string"):
        v.locations("France", 2)
    with pytest.raises(ValueError, match="countries is empty"):
        v.locations([], 2)
    with pytest.raises(ValueError, match=r"countries\[1\] must be a non-empty string"):
        v.locations(["France", " "], 2)
    with pytest.raises(ValueError, match="per_country must be an integer >= 1"):
        v.locations(["France"], 0)
    with pytest.raises(ValueError, match=r"examples\[0\] must be a \(location, country\)"):
        v.locations(["France"], 1, [("Lyon",)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="exclude must be a collection"):
        v.locations(["France"], 1, exclude="Paris")
    assert server.requests == []


# ---------------------------------------------------------------------------- closing


def test_context_manager_closes_cache_and_backend(server: FakeChatServer, tmp_path: Path) -> None:
    with make(server, cache_dir=tmp_path) as v:
        v.verbalize(items(2))
        cache = v.engine.cache
        assert cache is not None and not v.closed
    assert v.closed and cache.closed
    v.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        v.verbalize(items(1))
    with pytest.raises(RuntimeError, match="closed"):
        v.locations(["France"], 1)
    assert len(server.requests) == 2
    assert "closed" in repr(v)
    with make(server, cache_dir=tmp_path) as v2:  # the cache file is complete
        v2.verbalize(items(2))
        assert v2.last_run is not None and v2.last_run.requests == 0


def test_close_releases_the_clients(server: FakeChatServer) -> None:
    v = make(server)
    tasks = [v._question_task(it) for it in items(2)]
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(v.engine.arun(tasks))  # arun leaves the client open
        (client,) = v.backend._clients.values()
        assert not client.is_closed()
        v.close()
        assert client.is_closed() and len(v.backend._clients) == 0
    finally:
        loop.close()

    async def main() -> None:
        w = make(server)
        await w.engine.arun(tasks)
        (client,) = w.backend._clients.values()
        await w.aclose()
        assert w.closed and client.is_closed()

    asyncio.run(main())


def test_fake_server_runs_as_a_program() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kgaug.verbalize.fake_server", "--latency", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().split()[-1]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        v = get_verbalizer("openai", base_url=base_url, model="fake", progress=False)
        assert v.verbalize(items(2))[1].answer == "City 1"
        import urllib.request

        with urllib.request.urlopen(f"{base_url}/_stats") as r:
            assert json.load(r) == {"requests": 2}
    finally:
        proc.terminate()
        proc.wait()

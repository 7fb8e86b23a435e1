"""The LLM layer under hostile servers (issue 12): nothing lost, nothing hangs.

Every test talks HTTP to :class:`FakeChatServer` on 127.0.0.1 through the official
``openai`` client, as a user meets a flaky or misconfigured server: pathological replies
(deep nesting, megabytes, thousands of braces), rejected answers and the cache, fatal
answers (401, 403, 404, an unknown model, no chat completions, HTML and event streams),
budgets (``max_tokens``, the reply cap, re-asks, rate limits, estimates) and the count of
HTTP requests. After each fault a rerun against a healthy server converges to the healthy
run's output.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from _llm import items, make_verbalizer, user_text
from kgaug.cli import main
from kgaug.errors import FatalLLMError, KGAugError, LLMError
from kgaug.verbalize import Question, RunEstimate, get_verbalizer
from kgaug.verbalize.engine import Completion, RateLimiter, ResponseCache, request_key
from kgaug.verbalize.fake_server import FakeChatServer, Reply, cooperative_model
from kgaug.verbalize.items import partial_path, write_questions
from kgaug.verbalize.llm import LLMVerbalizer

KEY = "sk-fault-3b1d9e7a-never-write-me"
DEEP = '{"a":' * 1000 + "1" + "}" * 1000  # 6 KB, 1,000 levels


def make(server: FakeChatServer, **options: Any) -> LLMVerbalizer:
    return make_verbalizer(server, KEY, **options)


def item_no(request: dict[str, Any]) -> int:
    """The item number of a question request (``Answer: City 7`` -> 7)."""
    text = str(request["messages"][1]["content"])
    return int(text.split("Answer: City ")[1].split()[0])


def healthy(n: int, **options: Any) -> list[Question]:
    """The output of a healthy run, for comparison."""
    with FakeChatServer() as server, make(server, **options) as v:
        return v.verbalize(items(n))


def assert_no_key(root: Path, *texts: str) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            assert KEY.encode() not in p.read_bytes(), p
    for t in texts:
        assert KEY not in t


def resume_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def server():
    with FakeChatServer() as s:
        yield s


# ------------------------------------------------------------------ 1. pathological replies


def test_deeply_nested_reply_fails_its_item_not_the_run(
    server: FakeChatServer, tmp_path: Path
) -> None:
    """5 replies nested 1,000 levels deep among 20: those 5 fail, the run goes on."""
    bad = {2, 5, 9, 13, 17}

    def responder(request: dict[str, Any], n: int) -> Reply:
        if item_no(request) in bad:
            return Reply(DEEP)
        return cooperative_model(request, n)

    server.responder = responder
    cache = tmp_path / "cache"
    v = make(server, cache_dir=cache, max_attempts=2)
    qs = v.verbalize(items(20), out=tmp_path / "run.jsonl")
    assert [i for i, q in enumerate(qs) if q.status != "ok"] == sorted(bad)
    assert all(qs[i].reason for i in bad)
    assert v.last_run is not None and (v.last_run.ok, v.last_run.failed) == (15, 5)
    # the deep replies were not cached: a rerun against a healthy server asks them again
    server.responder = cooperative_model
    v2 = make(server, cache_dir=cache)
    again = v2.verbalize(items(20))
    assert all(q.status == "ok" for q in again)
    assert v2.last_run is not None and (v2.last_run.requests, v2.last_run.cache_hits) == (5, 15)
    assert again == healthy(20)


def test_cli_deeply_nested_reply_exits_1_with_the_reason(
    server: FakeChatServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.responder = lambda req, n: Reply(DEEP)
    out = tmp_path / "q.jsonl"
    args = ["verbalize", "--example", "-k", "3", "--out", str(out), "--max-attempts", "1"]
    llm = ["--backend", "openai", "--base-url", server.base_url, "--model", "fake"]
    assert main([*args, *llm, "--cache-dir", str(tmp_path / "c"), "--max-retries", "0"]) == 1
    err = capsys.readouterr().err
    assert "3 of 3 items failed" in err and "3 x no question" in err
    assert {r["status"] for r in resume_lines(out)} == {"failed"}


def test_huge_replies_are_cut_counted_and_not_resent(
    server: FakeChatServer, tmp_path: Path
) -> None:
    """A 1 MB reply is cut to max_reply_chars; cache and re-asks stay small."""
    junk = "{" * 1_000_000

    def responder(request: dict[str, Any], n: int) -> Reply:
        if len(request["messages"]) == 2:
            return Reply(junk)  # first attempt: 1 MB of braces
        return cooperative_model({**request, "messages": request["messages"][:2]}, n)

    server.responder = responder
    cache = tmp_path / "cache"
    v = make(server, cache_dir=cache, structured="text")
    start = time.perf_counter()
    qs = v.verbalize(items(3))
    assert time.perf_counter() - start < 10  # the old quadratic read took minutes
    assert all(q.status == "ok" for q in qs)
    stats = v.last_run
    assert stats is not None and (stats.truncated, stats.reasks) == (3, 3)
    # each re-ask carries the rejected reply cut to reask_reply_chars, never the megabyte
    reasks = [r for r in server.requests if len(r["messages"]) > 2]
    assert len(reasks) == 3
    for r in reasks:
        assert len(r["messages"]) == 4
        assert len(json.dumps(r["messages"])) < 5_000
    db = cache / "kgaug-llm-cache.sqlite"
    assert db.stat().st_size < 200_000  # the accepted answers only


def test_reasks_do_not_accumulate_the_conversation(server: FakeChatServer) -> None:
    server.responder = lambda req, n: Reply("x" * 20_000)
    (q,) = make(server, structured="text", max_attempts=4).verbalize(items(1))
    assert q.status == "failed"
    sizes = [len(json.dumps(r["messages"])) for r in server.requests]
    assert len(sizes) == 4 and [len(r["messages"]) for r in server.requests] == [2, 4, 4, 4]
    assert max(sizes) < 5_000  # the old re-asks sent every earlier reply: 20, 40, 60 KB


def test_long_reasons_are_cut(server: FakeChatServer, tmp_path: Path) -> None:
    """A changed answer of 30 KB does not put 30 KB into the output's reason."""
    server.responder = lambda req, n: Reply("1. Where?<a>" + "Rome " * 6_000 + "</a>")
    (q,) = make(server, structured="text", max_attempts=1).verbalize(items(1))
    assert q.status == "failed" and q.reason is not None
    assert "must stay exactly" in q.reason and len(q.reason) < 1_000


# ---------------------------------------------------------------------------- 2. cache and rerun


@pytest.mark.parametrize(
    "reply",
    [
        Reply(""),
        Reply(None),
        Reply(None, refusal="I can't help with that."),
        Reply("I'm sorry, but I cannot help with this request."),
        Reply("1. Where was he born?<a>Rome</a>"),
        Reply("%%% junk %%%"),
    ],
    ids=["empty", "null", "refusal-field", "refusal-text", "changed-answer", "junk"],
)
def test_rejected_answers_are_not_cached(
    server: FakeChatServer, tmp_path: Path, reply: Reply
) -> None:
    """A transient bad answer is not made permanent: the rerun asks again and succeeds."""
    server.responder = lambda req, n: reply
    cache = tmp_path / "cache"
    v = make(server, cache_dir=cache, max_attempts=2)
    assert [q.status for q in v.verbalize(items(3))] == ["failed"] * 3
    assert len(ResponseCache(cache)) == 0
    server.responder = cooperative_model
    v2 = make(server, cache_dir=cache)
    qs = v2.verbalize(items(3), out=tmp_path / "fresh.jsonl")
    assert [q.status for q in qs] == ["ok"] * 3
    assert v2.last_run is not None and v2.last_run.requests == 3
    assert qs == healthy(3)


def test_a_rejected_answer_an_older_version_cached_is_asked_again(
    server: FakeChatServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    v = make(server, cache_dir=cache)
    (task,) = [v._question_task(it) for it in items(1)]
    params = {**v.backend.cache_params(), "schema": task.schema}
    with ResponseCache(cache) as c:  # what the old engine stored before checking
        c.put(request_key("fake", task.messages, params), Completion(text="junk"))
    (q,) = v.verbalize(items(1))
    assert q.status == "ok"
    assert v.last_run is not None and (v.last_run.requests, v.last_run.cache_hits) == (1, 0)
    (again,) = make(server, cache_dir=cache).verbalize(items(1))
    assert again == q and len(server.requests) == 1  # now the accepted answer is cached


def test_answer_accepted_after_a_reask_needs_no_request_on_rerun(
    server: FakeChatServer, tmp_path: Path
) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        if len(request["messages"]) == 2:
            return Reply("1. Where?<a>Rome</a>")
        return cooperative_model({**request, "messages": request["messages"][:2]}, n)

    server.responder = responder
    cache = tmp_path / "cache"
    first = make(server, cache_dir=cache, structured="text").verbalize(items(4))
    assert len(server.requests) == 8
    v = make(server, cache_dir=cache, structured="text")
    assert v.verbalize(items(4)) == first
    assert v.last_run is not None and (v.last_run.requests, v.last_run.cache_hits) == (0, 4)


def test_retry_failed_asks_failed_items_again(server: FakeChatServer, tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    cache = tmp_path / "cache"
    server.responder = lambda req, n: Reply("1. Where?<a>Somewhere</a>")
    qs = make(server, cache_dir=cache, max_attempts=1).verbalize(items(4), out=out)
    assert [q.status for q in qs] == ["failed"] * 4
    server.responder = cooperative_model
    # a plain rerun keeps the failed items of the resume file as they are ...
    v = make(server, cache_dir=cache)
    assert [q.status for q in v.verbalize(items(4), out=out)] == ["failed"] * 4
    assert v.last_run is not None and (v.last_run.requests, v.last_run.resumed) == (0, 4)
    # ... retry_failed asks them again, and the new results win in the resume file
    qs = v.verbalize(items(4), out=out, retry_failed=True)
    assert [q.status for q in qs] == ["ok"] * 4
    assert v.last_run is not None
    assert (v.last_run.requests, v.last_run.retried_failed, v.last_run.resumed) == (4, 4, 0)
    assert not partial_path(out).exists()  # every item ok: nothing left to resume
    v3 = make(server, cache_dir=cache, retry_failed=True)  # the option on the verbalizer
    assert v3.verbalize(items(4), out=out) == qs == healthy(4)
    assert v3.last_run is not None and (v3.last_run.requests, v3.last_run.cache_hits) == (0, 4)


def test_cli_retry_failed_flag(
    server: FakeChatServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def args(out: Path, cache: str) -> list[str]:
        return ["verbalize", "--example", "-k", "3", "--out", str(out), "--max-attempts", "1",
                "--backend", "openai", "--base-url", server.base_url, "--model", "fake",
                "--cache-dir", str(tmp_path / cache), "--max-retries", "0"]  # fmt: skip

    out = tmp_path / "q.jsonl"
    partial = Path(str(out) + ".partial")
    server.responder = lambda req, n: Reply("1. Where?<a>Somewhere</a>")
    assert main(args(out, "c")) == 1 and partial.exists()
    assert "--retry-failed" in capsys.readouterr().err
    server.responder = cooperative_model
    assert main(args(out, "c")) == 1  # without the flag the failed items stay failed
    assert len(server.requests) == 3
    assert main([*args(out, "c"), "--retry-failed"]) == 0
    assert len(server.requests) == 6 and not partial.exists()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["status"] for r in rows} == {"ok"}
    healthy_out = tmp_path / "healthy.jsonl"
    assert main(args(healthy_out, "c2")) == 0
    assert out.read_bytes() == healthy_out.read_bytes()


# ---------------------------------------------------------------------------- 3. fatal answers

FATAL = {
    "401": (
        Reply(status=401, body={"error": {"message": "Incorrect API key provided"}}),
        "refused the API key",
    ),
    "403": (
        Reply(status=403, body={"error": {"message": "not allowed"}}),
        "denied access",
    ),
    "404-model": (
        Reply(
            status=404,
            body={
                "error": {"message": "The model `fake` does not exist", "code": "model_not_found"}
            },
        ),
        "has no model 'fake'",
    ),
    "400-unknown-model": (
        Reply(status=400, body={"error": {"message": "Invalid model name passed: fake"}}),
        "does not know the model 'fake'",
    ),
    "405": (Reply(status=405, body={"error": {"message": "method not allowed"}}), "cannot serve"),
    "501": (Reply(status=501, body={"error": {"message": "not implemented"}}), "cannot serve"),
    "html": (
        Reply(
            body="<html><body>Please log in</body></html>", headers={"Content-Type": "text/html"}
        ),
        "HTML",
    ),
    "html-as-json": (
        Reply(body="<html>maintenance</html>", headers={"Content-Type": "application/json"}),
        "not a chat completion",
    ),
    "empty-body": (
        Reply(body="", headers={"Content-Type": "application/json"}),
        "not a chat completion",
    ),
    "sse": (
        Reply(
            body='data: {"choices": [{"delta": {"content": "hi"}}]}\n\ndata: [DONE]\n\n',
            headers={"Content-Type": "text/event-stream"},
        ),
        "event stream",
    ),
    "no-message": (
        Reply(
            body={
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "fake",
                "choices": [{"index": 0, "finish_reason": "stop"}],
            }
        ),
        "without message",
    ),
}


@pytest.mark.parametrize("case", sorted(FATAL))
def test_fatal_answers_stop_the_run_within_a_few_requests(
    server: FakeChatServer, tmp_path: Path, case: str
) -> None:
    reply, message = FATAL[case]
    ok_first = 2  # two good answers, then the server goes bad for good

    def responder(request: dict[str, Any], n: int) -> Reply:
        return cooperative_model(request, n) if n <= ok_first else reply

    server.responder = responder
    out = tmp_path / "run.jsonl"
    v = make(server, concurrency=4, cache_dir=tmp_path / "cache")
    with pytest.raises(FatalLLMError, match=message) as e:
        v.verbalize(items(24), out=out)
    assert isinstance(e.value, LLMError) and isinstance(e.value, KGAugError)
    # not 24: stopped within a few requests (a streak of 3 malformed replies, up to 4 in
    # flight each time, some retried once as plain text)
    assert len(server.requests) <= ok_first + 3 * 4
    stats = v.last_run
    assert stats is not None and stats.fatal == str(e.value) and e.value.stats is stats
    # counted as they start: the ones cancelled in flight may not have reached the server
    assert len(server.requests) <= stats.requests <= len(server.requests) + 4
    # the resume file holds whole lines of finished items only, and a rerun converges
    assert not out.exists()  # the questions file is written only when the run ends
    rows = resume_lines(partial_path(out))
    assert len(rows) <= ok_first and {r["status"] for r in rows} <= {"ok"}
    server.responder = cooperative_model
    v2 = make(server, cache_dir=tmp_path / "cache")
    again = v2.verbalize(items(24), out=out)
    assert v2.last_run is not None and v2.last_run.resumed == len(rows)
    assert again == healthy(24)
    assert_no_key(tmp_path, str(e.value), str(stats))


def test_one_malformed_reply_is_an_item_error_with_a_reason(server: FakeChatServer) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        if n == 1:
            return Reply(body="<html>maintenance</html>", headers={"Content-Type": "text/html"})
        return cooperative_model(request, n)

    server.responder = responder
    v = make(server, concurrency=1)
    qs = v.verbalize(items(4))
    assert [q.status for q in qs] == ["failed", "ok", "ok", "ok"]
    assert qs[0].reason is not None and "HTML" in qs[0].reason
    assert "AttributeError" not in qs[0].reason
    assert v.last_run is not None and v.last_run.errors == 1 and v.last_run.fatal is None


def test_fatal_message_never_carries_the_key(server: FakeChatServer, tmp_path: Path) -> None:
    def responder(request: dict[str, Any], n: int) -> Reply:
        auth = server.headers[n - 1]["authorization"]
        return Reply(status=401, body={"error": {"message": f"Incorrect API key {auth}"}})

    server.responder = responder
    v = make(server, cache_dir=tmp_path / "cache")
    with pytest.raises(FatalLLMError) as e:
        v.verbalize(items(3), out=tmp_path / "run.jsonl")
    assert "Bearer ***" in str(e.value)
    assert_no_key(tmp_path, str(e.value), repr(e.value), str(v.last_run))


def test_no_key_at_all_says_so(server: FakeChatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server.responder = lambda req, n: Reply(status=401, body={"error": {"message": "no key"}})
    v = get_verbalizer("openai", base_url=server.base_url, model="fake", progress=False)
    with pytest.raises(FatalLLMError, match="no API key was given"):
        v.verbalize(items(2))


@pytest.mark.parametrize("command", ["verbalize", "parse"])
def test_cli_fatal_is_one_line_exit_2_nothing_half_written(
    server: FakeChatServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    monkeypatch.setenv("MY_KEY", KEY)
    text = tmp_path / "doc.txt"
    text.write_text("\n\n".join(f"E{i} | r | E{i + 1}" for i in range(30)))
    out = tmp_path / "out.jsonl"
    what = (
        ["verbalize", "--example", "-k", "30"] if command == "verbalize" else ["parse", str(text)]
    )
    args = [*what, "--out", str(out), "--backend", "openai", "--base-url", server.base_url,
            "--model", "fake", "--api-key-env", "MY_KEY", "--max-retries", "0",
            "--cache-dir", str(tmp_path / "c"), "--concurrency", "2"]  # fmt: skip
    server.responder = lambda req, n: Reply(
        status=401, body={"error": {"message": "Incorrect API key provided"}}
    )
    assert main(args) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"kgaug {command}: error: the server at ")
    assert "refused the API key" in lines[0] and "--api-key-env" in lines[0]
    assert "Traceback" not in err
    assert len(server.requests) <= 4
    assert not out.exists()  # nothing half-written
    partial = Path(str(out) + ".partial")
    assert all(r["status"] == "ok" for r in resume_lines(partial))
    server.responder = cooperative_model
    assert main(args) == 0
    assert not partial.exists() and out.exists()
    assert_no_key(tmp_path, err)


def test_cli_api_key_env_naming_an_unset_variable_is_an_error(
    server: FakeChatServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KGAUG_NO_SUCH_KEY", raising=False)
    monkeypatch.setenv("KGAUG_BLANK_KEY", "  ")
    base = ["verbalize", "--example", "-k", "2", "--backend", "openai",
            "--base-url", server.base_url, "--model", "fake"]  # fmt: skip
    assert main([*base, "--api-key-env", "KGAUG_NO_SUCH_KEY"]) == 2
    err = capsys.readouterr().err
    assert "--api-key-env: the environment variable KGAUG_NO_SUCH_KEY is not set" in err
    assert main([*base, "--api-key-env", "KGAUG_BLANK_KEY"]) == 2
    assert "KGAUG_BLANK_KEY is empty" in capsys.readouterr().err
    assert server.requests == []  # nothing was sent, least of all the key EMPTY


def test_cli_parse_names_the_reasons_of_failed_texts(
    server: FakeChatServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.responder = lambda req, n: Reply("I found nothing.")
    text = tmp_path / "doc.txt"
    text.write_text("A | r | B\n\nC | s | D\n\nE | t | F\n")
    args = ["parse", str(text), "--base-url", server.base_url, "--model", "fake",
            "--max-attempts", "1", "--cache-dir", str(tmp_path / "c")]  # fmt: skip
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "3 of 3 chunks gave no graph" in err
    assert "3 x no line of the form <Name; Type><relation><Name; Type>" in err


# ---------------------------------------------------------------------------- 4. budget


def test_max_tokens_is_sent_by_default_and_set_on_the_command_line(
    server: FakeChatServer, tmp_path: Path
) -> None:
    make(server).verbalize(items(1))
    assert server.requests[-1]["max_tokens"] == 512
    args = ["verbalize", "--example", "-k", "1", "--backend", "openai", "--base-url",
            server.base_url, "--model", "fake", "--no-cache", "--max-tokens", "64"]  # fmt: skip
    assert main(args) == 0
    assert server.requests[-1]["max_tokens"] == 64


def test_cli_max_reply_chars(
    server: FakeChatServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.responder = lambda req, n: Reply(
        f"1. What is the birthplace of the director?<a>{_answer(req)}</a>" + " " + "z" * 5_000
    )
    args = ["verbalize", "--example", "-k", "2", "--backend", "openai", "--base-url",
            server.base_url, "--model", "fake", "--no-cache", "--max-reply-chars", "1000",
            "--structured", "text"]  # fmt: skip
    assert main(args) == 0
    assert "2 replies cut at the size cap" in capsys.readouterr().err


def _answer(request: dict[str, Any]) -> str:
    return str(request["messages"][1]["content"]).split("Answer: ")[1].splitlines()[0]


def _timed_cooperative_model() -> tuple[Any, list[float]]:
    """The cooperative model, recording when each request arrived."""
    arrivals: list[float] = []
    lock = threading.Lock()

    def responder(request: dict[str, Any], n: int) -> Reply:
        with lock:
            arrivals.append(time.perf_counter())
        return cooperative_model(request, n)

    return responder, arrivals


def test_requests_per_minute_spaces_requests_out() -> None:
    responder, arrivals = _timed_cooperative_model()
    with FakeChatServer(responder) as server:
        v = make(server, concurrency=6, requests_per_minute=600)  # one per 0.1 s
        qs = v.verbalize(items(6))
    assert all(q.status == "ok" for q in qs)
    arrivals.sort()
    assert arrivals[-1] - arrivals[0] >= 0.4  # 5 gaps of 0.1 s (unthrottled: all at once)
    assert v.last_run is not None and v.last_run.throttled_seconds > 0.3


def test_tokens_per_minute_spaces_requests_out() -> None:
    responder, arrivals = _timed_cooperative_model()
    with FakeChatServer(responder) as server:
        # every request books at least its max_tokens (6,000): 0.1 s of 3.6M tokens / min
        v = make(server, concurrency=5, max_tokens=6_000, tokens_per_minute=3_600_000)
        qs = v.verbalize(items(5))
    assert all(q.status == "ok" for q in qs)
    arrivals.sort()
    assert arrivals[-1] - arrivals[0] >= 0.4


def test_rate_limiter_schedule() -> None:
    now = [100.0]
    lim = RateLimiter(requests_per_minute=60, tokens_per_minute=600, clock=lambda: now[0])
    assert lim.reserve(5) == 0.0  # the first goes at once
    assert lim.reserve(5) == pytest.approx(1.0)  # one request per second
    assert lim.reserve(50) == pytest.approx(2.0)
    assert lim.reserve(1) == pytest.approx(7.0)  # 50 tokens drain for 5 s at 10 tokens/s
    now[0] = 1_000.0
    assert lim.reserve(10_000) == 0.0  # larger than a minute's tokens: sent alone
    assert lim.reserve(1) == pytest.approx(1_000.0)
    assert lim.minutes(120, 600) == pytest.approx(2.0)
    for bad in (0, -1, float("nan"), float("inf"), True, "10"):
        with pytest.raises(ValueError, match="requests_per_minute must be a positive"):
            RateLimiter(requests_per_minute=bad)  # type: ignore[arg-type]


def test_estimate_before_a_run_sends_nothing(server: FakeChatServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "run.jsonl"
    make(server, cache_dir=cache).verbalize(items(10)[:3])  # 3 cached
    server.responder = lambda req, n: (  # item 5 fails: the resume file is kept
        Reply("no tags") if "City 5" in user_text(req) else cooperative_model(req, n)
    )
    make(server, max_attempts=1).verbalize(items(10)[3:6], out=out)  # 3 in the resume file
    server.responder = cooperative_model
    sent = len(server.requests)
    v = make(server, cache_dir=cache, max_attempts=3, requests_per_minute=600)
    est = v.estimate(items(10), out=out)
    assert isinstance(est, RunEstimate)
    assert (est.items, est.resumed, est.cached, est.to_ask) == (10, 3, 3, 4)
    assert (est.requests, est.max_requests) == (4, 12)
    assert 0 < est.prompt_tokens < est.max_prompt_tokens
    assert est.max_completion_tokens == 12 * 512
    assert est.minutes == pytest.approx(4 / 600)
    assert len(server.requests) == sent  # nothing was sent
    qs = v.verbalize(items(10), out=out)  # and the run does what the estimate said
    assert v.last_run is not None and v.last_run.requests == est.requests
    assert [q.status for q in qs] == ["ok"] * 5 + ["failed"] + ["ok"] * 4  # kept, as said
    parse_est = v.estimate_parse(["A | r | B", "C | s | D"])
    assert (parse_est.to_ask, parse_est.requests) == (2, 2)
    assert "4 to ask" in str(est)


@pytest.mark.parametrize("command", ["verbalize", "parse"])
def test_cli_dry_run_sends_and_writes_nothing(
    server: FakeChatServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    text = tmp_path / "doc.txt"
    text.write_text("A | r | B\n\nC | s | D\n")
    out = tmp_path / "out.jsonl"
    what = ["verbalize", "--example", "-k", "4"] if command == "verbalize" else ["parse", str(text)]
    args = [*what, "--out", str(out), "--backend", "openai", "--base-url", server.base_url,
            "--model", "fake", "--no-cache", "--dry-run",
            "--tokens-per-minute", "10000"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    n = 4 if command == "verbalize" else 2
    assert printed.startswith("dry run: ") and f"{n} to ask; {n} requests" in printed
    assert "min under the rate limits" in printed
    assert server.requests == []
    assert not out.exists() and not Path(str(out) + ".partial").exists()
    template = ["verbalize", "--example", "-k", "2", "--dry-run"]
    assert main(template) == 2
    assert "sends no requests" in capsys.readouterr().err


# ---------------------------------------------------------------------------- 5. HTTP requests


def test_last_run_requests_counts_http_requests(server: FakeChatServer) -> None:
    def flaky(request: dict[str, Any], n: int) -> Reply:
        if n <= 2:
            return Reply(status=500, body={"error": {"message": "boom"}})
        return cooperative_model(request, n)

    server.responder = flaky
    v = make(server, max_retries=3)
    assert v.verbalize(items(1))[0].status == "ok"
    assert v.last_run is not None and v.last_run.requests == len(server.requests) == 3

    def no_schema(request: dict[str, Any], n: int) -> Reply:
        if "response_format" in request:
            return Reply(status=400, body={"error": {"message": "response_format unsupported"}})
        return cooperative_model(request, n)

    with FakeChatServer(no_schema) as other:
        v = make(other)
        assert [q.status for q in v.verbalize(items(3))] == ["ok"] * 3
        assert v.last_run is not None and v.last_run.requests == len(other.requests)


def test_a_cache_database_is_never_given_the_key(server: FakeChatServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    make(server, cache_dir=cache).verbalize(items(2))
    rows = sqlite3.connect(cache / "kgaug-llm-cache.sqlite").execute("SELECT * FROM completions")
    assert all(KEY not in json.dumps(row) for row in rows)


def test_questions_file_after_faults_equals_the_healthy_one(
    server: FakeChatServer, tmp_path: Path
) -> None:
    """Deep replies, a 401 stop, then recovery: the final file is the healthy run's."""
    out = tmp_path / "run.jsonl"
    cache = tmp_path / "cache"

    def deep_then_401(request: dict[str, Any], n: int) -> Reply:
        if n <= 4:
            return Reply(DEEP) if n % 2 else cooperative_model(request, n)
        return Reply(status=401, body={"error": {"message": "key revoked"}})

    server.responder = deep_then_401
    with pytest.raises(FatalLLMError):
        make(server, cache_dir=cache, concurrency=1, max_attempts=1).verbalize(items(8), out=out)
    server.responder = cooperative_model
    v = make(server, cache_dir=cache, retry_failed=True)
    qs = v.verbalize(items(8), out=out)
    write_questions(qs, tmp_path / "after.jsonl")
    write_questions(healthy(8), tmp_path / "ref.jsonl")
    assert (tmp_path / "after.jsonl").read_bytes() == (tmp_path / "ref.jsonl").read_bytes()


def test_messages_never_show_credentials_in_the_base_url() -> None:
    from kgaug.verbalize.openai_backend import OpenAIBackend

    b = OpenAIBackend(
        model="m", base_url="http://user:sk-secret@127.0.0.1:8080/v1?key=abc", api_key="x"
    )
    assert b._where == "the server at http://127.0.0.1:8080/v1"
    assert "sk-secret" not in repr(b) and "key=abc" not in repr(b)

"""The machinery every LLM backend shares: cache, concurrency, validation, resume, usage.

A :class:`Task` is one item to send: its messages, an optional JSON schema for
structured output, and a ``check`` that turns a completion into a value or a reason to
re-ask. :class:`Engine` runs tasks with bounded concurrency (asyncio), answers repeated
requests from an on-disk cache (SQLite, keyed by model, messages and parameters — never by
API key), re-asks a bounded number of times when ``check`` rejects an answer, appends each
finished item to a JSONL file as it arrives (a rerun skips what is there, so a killed run
resumes), shows a progress bar and counts HTTP requests, cache hits and tokens.

The cache keeps only answers that passed ``check`` (a rejected answer is asked again on
the next run, and one an older version cached is ignored). Replies are cut to
``max_reply_chars``; a re-ask sends the rejected reply cut to ``reask_reply_chars``, not
the whole conversation; optional client-side limits (``requests_per_minute``,
``tokens_per_minute``) space the requests out, and :meth:`Engine.estimate` says what a
run will cost before it starts.

Transient API errors (rate limits, 5xx, timeouts) are retried by the backend's client;
if they persist the item is reported as ``"error"`` and *not* written to the resume file,
so the next run tries it again. Items the model keeps getting wrong are ``"failed"`` and
are written, with the reason (``retry_failed`` asks them again). A server that cannot
serve the run at all (:class:`~kgaug.errors.FatalLLMError`: a bad key, an unknown model,
a wrong URL, replies that are not chat completions) stops it at once.

An engine holds an open SQLite connection and the backend's resources: close it with
:meth:`Engine.close` (or ``with Engine(...) as engine:``) when done.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import json
import math
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from kgaug._progress import progress_bar
from kgaug.errors import FatalLLMError, KGFormatError, MalformedReplyError

__all__ = [
    "Backend",
    "Completion",
    "Engine",
    "RateLimiter",
    "ResponseCache",
    "RunEstimate",
    "RunStats",
    "Task",
    "TaskResult",
    "before_request",
    "estimate_tokens",
    "request_key",
    "run_sync",
]

#: Characters per token of the estimates (:func:`estimate_tokens`): English averages ~4.
CHARS_PER_TOKEN = 4
_MAX_REASON_CHARS = 500

Messages = list[dict[str, str]]
T = TypeVar("T")


class Completion(BaseModel):
    """One model answer."""

    model_config = ConfigDict(frozen=True)

    text: str
    refusal: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    structured: bool = False


class Backend(Protocol):
    """What a model backend provides to the :class:`Engine`.

    Optional, used when present: ``close()`` (called by :meth:`Engine.close`),
    ``async aclose()`` (connections of the running loop; after every :meth:`Engine.run`),
    ``redact(text) -> str`` (removes secrets from error messages before they become
    a result's ``reason``), ``max_tokens`` (the completion limit sent, for budgets and
    estimates) and ``reports_requests = True`` (the backend awaits
    :func:`before_request` before every HTTP request it sends, retries included, so
    they are counted and rate-limited one by one; otherwise each ``complete`` call
    counts as one request).

    ``complete`` raises :class:`~kgaug.errors.FatalLLMError` for answers that would be
    the same for every item (the run stops) and
    :class:`~kgaug.errors.MalformedReplyError` for a reply that is not a completion.
    """

    model: str

    def cache_params(self) -> dict[str, Any]:
        """Parameters that change answers (temperature, seed, ...): part of the cache key."""
        ...

    async def complete(self, messages: Messages, schema: dict[str, Any] | None) -> Completion:
        """Answer one request (structured output when ``schema`` is given and supported)."""
        ...


def request_key(model: str, messages: Messages, params: dict[str, Any]) -> str:
    """Cache key: SHA-256 of the model, the messages and the answer-changing parameters."""
    blob = json.dumps(
        {"model": model, "messages": messages, "params": params},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """Completions stored in a SQLite file (safe across threads and processes)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.path = Path(directory).expanduser() / "kgaug-llm-cache.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._closed = False
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # a cache survives a crashed program either way; skip an fsync per answer
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, value TEXT)"
            )
            self._db.commit()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the response cache {str(self.path)!r} is closed")

    def get(self, key: str) -> Completion | None:
        """The cached completion for ``key``, if any (an unreadable entry counts as none)."""
        with self._lock:
            self._check_open()
            row = self._db.execute("SELECT value FROM completions WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return Completion.model_validate_json(row[0])
        except ValueError:  # written by an incompatible version: ask again, overwrite
            return None

    def put(self, key: str, value: Completion) -> None:
        """Store a completion."""
        with self._lock:
            self._check_open()
            self._db.execute(
                "INSERT OR REPLACE INTO completions (key, value) VALUES (?, ?)",
                (key, value.model_dump_json()),
            )
            self._db.commit()

    def delete(self, key: str) -> None:
        """Forget the completion for ``key`` (nothing happens if there is none)."""
        with self._lock:
            self._check_open()
            self._db.execute("DELETE FROM completions WHERE key = ?", (key,))
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            self._check_open()
            return int(self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0])

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Close the database (a second call does nothing)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r}{', closed' if self._closed else ''})"


@dataclass
class Task:
    """One item for the model.

    ``check(completion)`` returns ``(value, None)`` when the answer is good or
    ``(None, reason)`` to re-ask with ``retry(reason)`` appended to the conversation.
    ``value`` must be JSON-serializable (it is written to the resume file).
    """

    key: str
    messages: Messages
    check: Callable[[Completion], tuple[Any, str | None]]
    schema: dict[str, Any] | None = None
    retry: Callable[[str], str] = field(
        default=lambda reason: f"That answer is not acceptable: {reason}. Try again."
    )


class TaskResult(BaseModel):
    """What became of one task."""

    key: str
    status: Literal["ok", "failed", "error"]
    value: Any = None
    reason: str | None = None
    attempts: int = 0


class RunStats(BaseModel):
    """Counters of one run (:attr:`LLMVerbalizer.last_run`).

    ``requests`` are the HTTP requests sent to the server (the client's retries and the
    structured-output fallback included, for a backend that reports them); ``cache_hits``
    were answered from the cache; ``resumed`` items were already in the output file;
    ``retried_failed`` of them were failed and asked again (``retry_failed``); ``reasks``
    are extra attempts after a rejected answer; ``truncated`` replies were longer than
    ``max_reply_chars`` and cut; ``throttled_seconds`` were spent waiting for the rate
    limits. ``reasons`` counts the reasons of failed and errored items (the ten most
    common). ``fatal`` is the message of the error that stopped the run (``None``: it
    was not stopped).
    """

    items: int = 0
    resumed: int = 0
    retried_failed: int = 0
    requests: int = 0
    cache_hits: int = 0
    reasks: int = 0
    ok: int = 0
    failed: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    truncated: int = 0
    throttled_seconds: float = 0.0
    seconds: float = 0.0
    reasons: dict[str, int] = {}
    fatal: str | None = None

    def __str__(self) -> str:
        text = (
            f"{self.items} items ({self.resumed} resumed): {self.ok} ok, {self.failed} failed, "
            f"{self.errors} errors; {self.requests} requests, {self.cache_hits} cache hits, "
            f"{self.reasks} re-asks; tokens {self.prompt_tokens} in / "
            f"{self.completion_tokens} out; {self.seconds:.2f} s"
        )
        if self.retried_failed:
            text += f"; {self.retried_failed} failed items asked again"
        if self.truncated:
            text += f"; {self.truncated} replies cut at the size cap"
        if self.throttled_seconds >= 0.05:
            text += f"; {self.throttled_seconds:.1f} s waiting for the rate limits"
        if self.fatal:
            text += f"; stopped: {self.fatal}"
        return text


class RunEstimate(BaseModel):
    """What a run would cost, before it starts (:meth:`Engine.estimate`).

    Attributes
    ----------
    items : int
        Tasks of the run.
    resumed : int
        Already in the resume file (not asked; failed ones are with ``retry_failed``).
    cached : int
        Answered from the cache (an accepted answer is there).
    to_ask : int
        Items the run sends to the server.
    requests : int
        At least one request per item to ask.
    max_requests : int
        At most, when every answer is rejected until ``max_attempts`` (the client's
        retries of transient errors come on top).
    prompt_tokens : int
        About, for one request per item (:func:`estimate_tokens` of the messages).
    max_prompt_tokens : int
        About, for ``max_requests`` (re-asks send the rejected reply, cut).
    max_completion_tokens : int or None
        ``max_requests`` times the backend's ``max_tokens`` (``None``: no limit sent).
    minutes : float or None
        The least the run takes under ``requests_per_minute`` / ``tokens_per_minute``
        with one request per item (``None``: no rate limit).
    """

    items: int = 0
    resumed: int = 0
    cached: int = 0
    to_ask: int = 0
    requests: int = 0
    max_requests: int = 0
    prompt_tokens: int = 0
    max_prompt_tokens: int = 0
    max_completion_tokens: int | None = None
    minutes: float | None = None

    def __str__(self) -> str:
        text = (
            f"{self.items} items ({self.resumed} resumed, {self.cached} cached): "
            f"{self.to_ask} to ask; {self.requests} requests (at most {self.max_requests} "
            f"with re-asks); about {self.prompt_tokens} prompt tokens (at most about "
            f"{self.max_prompt_tokens})"
        )
        if self.max_completion_tokens is not None:
            text += f", at most {self.max_completion_tokens} completion tokens"
        else:
            text += ", completion tokens unbounded (no max_tokens)"
        if self.minutes is not None:
            text += f"; at least {self.minutes:.1f} min under the rate limits"
        return text


def estimate_tokens(chars: int) -> int:
    """Tokens of ``chars`` characters, about (:data:`CHARS_PER_TOKEN` per token)."""
    return math.ceil(max(0, chars) / CHARS_PER_TOKEN)


def _message_tokens(messages: Messages) -> int:
    """Tokens of a request's messages, about (the texts plus a few per message)."""
    return sum(estimate_tokens(len(str(m.get("content") or ""))) + 4 for m in messages)


class RateLimiter:
    """Client-side limits: requests and tokens per minute, spaced evenly.

    Each request is given a start time: not before the previous request's share of the
    minute has passed (``60 / requests_per_minute`` seconds) nor before the tokens of
    the earlier requests have drained (``60 * tokens / tokens_per_minute`` seconds). So
    no minute holds more than the limits allow, and there are no bursts. A request
    larger than a minute's tokens is sent alone, after the others have drained (never
    refused). Usable across event loops and runs: the schedule is kept on the monotonic
    clock.

    Parameters
    ----------
    requests_per_minute : float, optional
        At most this many requests per minute (``None``: no limit).
    tokens_per_minute : float, optional
        At most this many tokens per minute, counting each request's prompt (about:
        :func:`estimate_tokens`) and its ``max_tokens`` (as OpenAI counts them).
    clock : callable
        Seconds, monotonic (tests pass a fake one).

    Raises
    ------
    ValueError
        A limit that is not a positive finite number.
    """

    def __init__(
        self,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (
            ("requests_per_minute", requests_per_minute),
            ("tokens_per_minute", tokens_per_minute),
        ):
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self._clock = clock
        self._next_request = -math.inf
        self._next_tokens = -math.inf
        self._lock = threading.Lock()  # one limiter may be shared by threads' event loops

    def reserve(self, tokens: int = 0) -> float:
        """Book a request of ``tokens``; the seconds to wait before sending it."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next_request, self._next_tokens)
            if self.requests_per_minute is not None:
                self._next_request = start + 60.0 / self.requests_per_minute
            if self.tokens_per_minute is not None:
                self._next_tokens = start + 60.0 * max(0, tokens) / self.tokens_per_minute
            return start - now

    async def acquire(self, tokens: int = 0) -> float:
        """Wait until a request of ``tokens`` may be sent; the seconds waited."""
        wait = self.reserve(tokens)
        if wait > 0:
            await asyncio.sleep(wait)
        return max(0.0, wait)

    def minutes(self, requests: int, tokens: int) -> float:
        """The least time, in minutes, that ``requests`` requests of ``tokens`` in all take."""
        out = 0.0
        if self.requests_per_minute is not None:
            out = max(out, requests / self.requests_per_minute)
        if self.tokens_per_minute is not None:
            out = max(out, tokens / self.tokens_per_minute)
        return out

    def __repr__(self) -> str:
        return (
            f"RateLimiter(requests_per_minute={self.requests_per_minute}, "
            f"tokens_per_minute={self.tokens_per_minute})"
        )


@dataclass
class _RunState:
    """What the requests of one run share: its counters, the limits, the malformed streak."""

    stats: RunStats
    limiter: RateLimiter | None
    malformed_streak: int = 0


_RUN: contextvars.ContextVar[_RunState | None] = contextvars.ContextVar(
    "kgaug_llm_run", default=None
)


async def _throttle(state: _RunState, tokens: int) -> None:
    if state.limiter is not None:
        state.stats.throttled_seconds += await state.limiter.acquire(tokens)


async def before_request(body_chars: int = 0, max_tokens: int | None = None) -> None:
    """For backends: await this before every HTTP request (retries included).

    Counts the request in the running :class:`Engine` run's ``requests`` and waits for
    its rate limits (``body_chars`` characters of request body, about
    :func:`estimate_tokens` of them, plus ``max_tokens``). Outside a run it does nothing.
    A backend that calls it sets ``reports_requests = True``.
    """
    state = _RUN.get()
    if state is None:
        return
    state.stats.requests += 1
    await _throttle(state, estimate_tokens(body_chars) + (max_tokens or 0))


def _cut(text: str | None, limit: int) -> str | None:
    """``text`` cut to ``limit`` characters, with a note of how much was cut."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f" [... {len(text) - limit} characters cut]"


class Engine:
    """Runs :class:`Task` s against a :class:`Backend`.

    Parameters
    ----------
    backend : Backend
        The model.
    concurrency : int
        Requests in flight at once.
    cache_dir : path, optional
        Folder of the response cache (none: no cache).
    max_attempts : int
        Attempts per item (the first plus re-asks after rejected answers).
    progress : bool, optional
        Progress bar (``None``: tqdm decides).
    max_reply_chars : int, optional
        Replies (and refusals) longer than this are cut before they are checked, cached
        or written, and counted in ``truncated`` (``None``: no cap). Default 32,768
        characters, far above what the default ``max_tokens=512`` allows.
    reask_reply_chars : int
        A re-ask sends the rejected reply cut to this many characters (and only the
        last one, not the whole conversation).
    requests_per_minute, tokens_per_minute : float, optional
        Client-side rate limits (:class:`RateLimiter`), kept across runs.
    retry_failed : bool
        Ask the items that are ``"failed"`` in the resume file again (default: they are
        kept as they are). Per run: ``run(..., retry_failed=)``.

    Notes
    -----
    :meth:`close` (or leaving a ``with`` block) closes the cache and the backend; a closed
    engine refuses to run. Error messages pass through the backend's ``redact(text)`` if
    it has one, so a server that echoes the API key in an error does not put it in a
    result.
    """

    #: Replies in a row that are not chat completions (HTML, an event stream, no
    #: message) before the run stops with :class:`~kgaug.errors.FatalLLMError`.
    malformed_limit = 3

    def __init__(
        self,
        backend: Backend,
        *,
        concurrency: int = 8,
        cache_dir: str | os.PathLike[str] | None = None,
        max_attempts: int = 3,
        progress: bool | None = None,
        max_reply_chars: int | None = 32_768,
        reask_reply_chars: int = 1_000,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        retry_failed: bool = False,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        if max_reply_chars is not None and max_reply_chars < 1:
            raise ValueError(f"max_reply_chars must be >= 1 or None, got {max_reply_chars}")
        if reask_reply_chars < 0:
            raise ValueError(f"reask_reply_chars must be >= 0, got {reask_reply_chars}")
        limiter = None
        if requests_per_minute is not None or tokens_per_minute is not None:
            limiter = RateLimiter(requests_per_minute, tokens_per_minute)
        self.backend = backend
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.max_reply_chars = max_reply_chars
        self.reask_reply_chars = reask_reply_chars
        self.limiter = limiter
        self.retry_failed = bool(retry_failed)
        self.cache = None if cache_dir is None else ResponseCache(cache_dir)
        self.progress = progress
        self._closed = False

    def __repr__(self) -> str:
        state = ", closed" if self._closed else ""
        return f"Engine({self.backend!r}, concurrency={self.concurrency}{state})"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Close the response cache and the backend (its ``close()``, if it has one).

        Idempotent; afterwards :meth:`run` and :meth:`arun` raise ``RuntimeError``.
        Inside a running event loop prefer ``await engine.aclose()``, which also closes
        the backend's connections on that loop.
        """
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self.backend, "close", None)
            if callable(close):
                close()
        finally:
            if self.cache is not None:
                self.cache.close()

    async def aclose(self) -> None:
        """:meth:`close`, after the backend's ``aclose()`` on the running loop (if any)."""
        if self._closed:
            return
        try:
            aclose = getattr(self.backend, "aclose", None)
            if callable(aclose):
                await aclose()
        finally:
            self.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed; make a new one to run more tasks")

    def _describe_error(self, e: BaseException) -> str:
        """``Type: message`` of an error, with secrets removed by the backend's ``redact``."""
        text = f"{type(e).__name__}: {e}"
        redact = getattr(self.backend, "redact", None)
        return redact(text) if callable(redact) else text

    def _resume_key(self, task: Task) -> str:
        """Identity of a task in a resume file: the item, the model, the prompt, the options.

        A rerun with another model, prompt or temperature does not take old results.
        """
        params = {**self.backend.cache_params(), "schema": task.schema, "task": task.key}
        return request_key(self.backend.model, task.messages, params)[:32]

    def _request_key(self, messages: Messages, schema: dict[str, Any] | None) -> str:
        params = {**self.backend.cache_params(), "schema": schema}
        return request_key(self.backend.model, messages, params)

    def _check(self, task: Task, completion: Completion) -> tuple[Any, str | None]:
        """``task.check``; a reply too deep for a custom check fails its item, not the run."""
        try:
            value, reason = task.check(completion)
        except RecursionError:
            return None, "the reply is nested too deeply to read"
        return value, _cut(reason, _MAX_REASON_CHARS)

    async def _request(
        self, messages: Messages, schema: dict[str, Any] | None, state: _RunState
    ) -> Completion:
        """One answer from the backend: counted, rate-limited, cut to the size cap."""
        stats = state.stats
        if not getattr(self.backend, "reports_requests", False):
            stats.requests += 1
            max_tokens = getattr(self.backend, "max_tokens", None)
            await _throttle(state, _message_tokens(messages) + (max_tokens or 0))
        completion = await self.backend.complete(messages, schema)
        stats.prompt_tokens += completion.prompt_tokens
        stats.completion_tokens += completion.completion_tokens
        cap = self.max_reply_chars
        if cap is not None and (len(completion.text) > cap or len(completion.refusal or "") > cap):
            stats.truncated += 1
            completion = completion.model_copy(
                update={"text": completion.text[:cap], "refusal": _cut(completion.refusal, cap)}
            )
        return completion

    def _reask(self, task: Task, completion: Completion, reason: str) -> Messages:
        """The first messages, the rejected reply (cut) and what was wrong: no history."""
        return [
            *task.messages,
            {"role": "assistant", "content": _cut(completion.text, self.reask_reply_chars) or ""},
            {"role": "user", "content": task.retry(reason)},
        ]

    async def _one(self, task: Task, state: _RunState) -> TaskResult:
        stats = state.stats
        messages = list(task.messages)
        first_key: str | None = None
        reason: str | None = None
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                stats.reasks += 1
            key = self._request_key(messages, task.schema)
            first_key = first_key or key
            if self.cache is not None:
                hit = self.cache.get(key)
                if hit is not None:
                    value, reason = self._check(task, hit)
                    if reason is None:
                        stats.cache_hits += 1
                        return TaskResult(key=task.key, status="ok", value=value, attempts=attempt)
                    self.cache.delete(key)  # rejected (an older version cached it): ask again
            try:
                completion = await self._request(messages, task.schema, state)
            except FatalLLMError:
                raise
            except MalformedReplyError as e:
                state.malformed_streak += 1
                if state.malformed_streak >= self.malformed_limit:
                    raise FatalLLMError(
                        f"{state.malformed_streak} replies in a row were not chat "
                        f"completions; the last: {self._describe_error(e)}"
                    ) from None
                return self._error(task, e, attempt)
            except Exception as e:  # the client already retried transient errors
                return self._error(task, e, attempt)
            state.malformed_streak = 0
            value, reason = self._check(task, completion)
            if reason is None:
                if self.cache is not None:  # only answers that passed; under the first key
                    self.cache.put(key, completion)  # too, so a rerun needs no re-ask
                    if key != first_key:
                        self.cache.put(first_key, completion)
                return TaskResult(key=task.key, status="ok", value=value, attempts=attempt)
            messages = self._reask(task, completion, reason)
        return TaskResult(key=task.key, status="failed", reason=reason, attempts=self.max_attempts)

    def _error(self, task: Task, e: BaseException, attempt: int) -> TaskResult:
        return TaskResult(
            key=task.key,
            status="error",
            reason=_cut(self._describe_error(e), _MAX_REASON_CHARS),
            attempts=attempt,
        )

    def _plan(
        self, tasks: Sequence[Task], out: str | os.PathLike[str] | None, retry_failed: bool
    ) -> tuple[list[str], dict[str, TaskResult], list[tuple[str, Task]], int]:
        """Resume keys, results to keep from ``out``, tasks to run, failed ones asked again."""
        keys = [self._resume_key(t) for t in tasks]
        done: dict[str, TaskResult] = {} if out is None else _read_resume(Path(out))
        retried = 0
        if retry_failed:
            retried = sum(1 for k in keys if k in done and done[k].status == "failed")
            done = {k: r for k, r in done.items() if r.status != "failed"}
        todo = list({k: t for k, t in zip(keys, tasks) if k not in done}.items())
        return keys, done, todo, retried

    def estimate(
        self,
        tasks: Sequence[Task],
        out: str | os.PathLike[str] | None = None,
        *,
        retry_failed: bool | None = None,
    ) -> RunEstimate:
        """What :meth:`run` with these arguments would send, without sending anything.

        Items in ``out`` and items with an accepted answer in the cache cost nothing; the
        others need one request each, ``max_attempts`` at most. Token counts are about
        :data:`CHARS_PER_TOKEN` characters per token.

        Raises
        ------
        RuntimeError
            When the engine is closed.
        KGFormatError
            When ``out`` is not a resume file.
        """
        self._check_open()
        retry = self.retry_failed if retry_failed is None else bool(retry_failed)
        keys, done, todo, _ = self._plan(tasks, out, retry)
        est = RunEstimate(items=len(tasks), resumed=sum(1 for k in keys if k in done))
        reask = estimate_tokens(self.reask_reply_chars) + 64  # the cut reply and the reason
        for _, task in todo:
            if self.cache is not None:
                hit = self.cache.get(self._request_key(list(task.messages), task.schema))
                if hit is not None and self._check(task, hit)[1] is None:
                    est.cached += 1
                    continue
            est.to_ask += 1
            first = _message_tokens(task.messages)
            est.prompt_tokens += first
            est.max_prompt_tokens += first * self.max_attempts + reask * (self.max_attempts - 1)
        est.requests = est.to_ask
        est.max_requests = est.to_ask * self.max_attempts
        max_tokens = getattr(self.backend, "max_tokens", None)
        if max_tokens is not None:
            est.max_completion_tokens = est.max_requests * int(max_tokens)
        if self.limiter is not None:
            tokens = est.prompt_tokens + est.requests * int(max_tokens or 0)
            est.minutes = self.limiter.minutes(est.requests, tokens)
        return est

    async def arun(
        self,
        tasks: Sequence[Task],
        out: str | os.PathLike[str] | None = None,
        desc: str = "llm",
        *,
        retry_failed: bool | None = None,
    ) -> tuple[list[TaskResult], RunStats]:
        """Run ``tasks``; results in task order. ``out`` makes the run resumable.

        Tasks with the same key, model and messages are asked once and share the result.
        An exception that is not a transport error (a bug in a ``check``) cancels the other
        tasks and is raised; what finished before it stays in ``out``. ``retry_failed``
        (default: the engine's) asks the items that are ``"failed"`` in ``out`` again;
        their new result is appended (the last line of a key counts).

        Raises
        ------
        RuntimeError
            When the engine is closed.
        KGFormatError
            When ``out`` holds a complete line that is not a result of this engine (the
            message names the file and line): it is not a resume file.
        FatalLLMError
            When the server cannot serve the run (see :class:`~kgaug.errors.FatalLLMError`):
            the other requests are cancelled, what finished is in ``out``, and the
            error's ``stats`` are the run's counters (with ``fatal`` set).
        """
        self._check_open()
        start = time.perf_counter()
        retry = self.retry_failed if retry_failed is None else bool(retry_failed)
        keys, done, todo, retried = self._plan(tasks, out, retry)
        stats = RunStats(items=len(tasks), retried_failed=retried)
        stats.resumed = sum(1 for k in keys if k in done)
        state = _RunState(stats=stats, limiter=self.limiter)
        sem = asyncio.Semaphore(self.concurrency)
        writer = None if out is None else _ResumeWriter(Path(out))
        results: dict[str, TaskResult] = {}
        fatal: FatalLLMError | None = None
        token = _RUN.set(state)  # the tasks made below see it: counting, rate limits
        try:
            with progress_bar(
                total=len(tasks),
                desc=desc,
                unit="item",
                enabled=self.progress,
                initial=stats.resumed,
            ) as bar:

                async def run_one(key: str, task: Task) -> None:
                    async with sem:
                        res = await self._one(task, state)
                    res = res.model_copy(update={"key": key})
                    results[key] = res
                    if writer is not None and res.status != "error":
                        writer.write(res)
                    bar.update(1)

                try:
                    await _gather_or_cancel([run_one(k, t) for k, t in todo])
                except FatalLLMError as e:
                    fatal = e
        finally:
            _RUN.reset(token)
            if writer is not None:
                writer.close()
        merged = [results.get(k) or done.get(k) for k in keys]
        reasons: Counter[str] = Counter()
        for r in merged:
            if r is None:  # not finished: the run was stopped
                continue
            if r.status == "ok":
                stats.ok += 1
            elif r.status == "failed":
                stats.failed += 1
            else:
                stats.errors += 1
            if r.status != "ok":
                reasons[r.reason or "no reason given"] += 1
        stats.reasons = dict(reasons.most_common(10))
        stats.seconds = time.perf_counter() - start
        if fatal is not None:
            stats.fatal = str(fatal)
            fatal.stats = stats
            raise fatal
        return [r for r in merged if r is not None], stats

    def run(
        self,
        tasks: Sequence[Task],
        out: str | os.PathLike[str] | None = None,
        desc: str = "llm",
        *,
        retry_failed: bool | None = None,
    ) -> tuple[list[TaskResult], RunStats]:
        """Synchronous :meth:`arun` (works inside a running event loop, e.g. Jupyter)."""
        self._check_open()

        async def run_and_close() -> tuple[list[TaskResult], RunStats]:
            try:
                return await self.arun(tasks, out, desc, retry_failed=retry_failed)
            finally:  # the loop ends here: release the backend's connections on it
                aclose = getattr(self.backend, "aclose", None)
                if aclose is not None:
                    await aclose()

        return run_sync(run_and_close())


async def _gather_or_cancel(coros: Sequence[Coroutine[Any, Any, None]]) -> None:
    """Run ``coros`` concurrently; on the first exception cancel the rest, then raise it."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _read_resume(path: Path) -> dict[str, TaskResult]:
    """Finished items of an earlier run.

    A torn line (a crash mid-write: not valid UTF-8 or not complete JSON) is ignored; a
    complete JSON line that is not a result means ``path`` is some other file, which is
    refused rather than appended to. Of repeated keys the last line counts.
    """
    done: dict[str, TaskResult] = {}
    if not path.exists():
        return done
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
                json.loads(line)
            except ValueError:  # torn: UnicodeDecodeError and JSONDecodeError both are
                continue
            if not line.strip():
                continue
            try:
                r = TaskResult.model_validate_json(line)
            except ValueError:
                raise KGFormatError(
                    "not a line of a kgaug resume file (give `out` a file of its own)",
                    path=path,
                    line=lineno,
                ) from None
            if r.status != "error":  # never written by the engine; asked again if present
                done[r.key] = r
    return done


class _ResumeWriter:
    """Appends one JSON line per finished item and flushes it to disk at once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # binary appends: one write() per line, no encoder state, no newline translation
        self._fh = open(path, "ab")  # noqa: SIM115
        self._lock = threading.Lock()
        # a crash can leave a last line without newline: start on a fresh line
        if self._fh.tell() > 0:
            with open(path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    self._append(b"\n")

    def _append(self, data: bytes) -> None:
        with self._lock:
            self._fh.write(data)
            self._fh.flush()
            with contextlib.suppress(OSError):
                os.fsync(self._fh.fileno())

    def write(self, result: TaskResult) -> None:
        """Append ``result`` as one line and flush it to disk."""
        self._append(result.model_dump_json().encode("utf-8") + b"\n")

    def close(self) -> None:
        """Close the file."""
        self._fh.close()


def run_sync(coro: Coroutine[Any, Any, T] | Awaitable[T]) -> T:
    """Run a coroutine to completion, also from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))  # type: ignore[arg-type]
        except BaseException as e:  # re-raised in the caller's thread
            error.append(e)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def item_key(kind: str, payload: Any) -> str:
    """Stable id of an item for resuming (SHA-256 of its JSON)."""
    blob = json.dumps([kind, payload], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def chunks(items: Iterable[T], size: int) -> list[list[T]]:
    """Consecutive groups of ``size``."""
    out: list[list[T]] = []
    for it in items:
        if not out or len(out[-1]) == size:
            out.append([])
        out[-1].append(it)
    return out

"""The machinery every LLM backend shares: cache, concurrency, validation, resume, usage.

A :class:`Task` is one item to send: its messages, an optional JSON schema for
structured output, and a ``check`` that turns a completion into a value or a reason to
re-ask. :class:`Engine` runs tasks with bounded concurrency (asyncio), answers repeated
requests from an on-disk cache (SQLite, keyed by model, messages and parameters — never by
API key), re-asks a bounded number of times when ``check`` rejects an answer, appends each
finished item to a JSONL file as it arrives (a rerun skips what is there, so a killed run
resumes), shows a progress bar and counts requests, cache hits and tokens.

Transient API errors (rate limits, 5xx, timeouts) are retried by the backend's client;
if they persist the item is reported as ``"error"`` and *not* written to the resume file,
so the next run tries it again. Items the model keeps getting wrong are ``"failed"`` and
are written, with the reason.

An engine holds an open SQLite connection and the backend's resources: close it with
:meth:`Engine.close` (or ``with Engine(...) as engine:``) when done.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from kgaug._progress import progress_bar
from kgaug.errors import KGFormatError

__all__ = [
    "Backend",
    "Completion",
    "Engine",
    "ResponseCache",
    "RunStats",
    "Task",
    "TaskResult",
    "request_key",
    "run_sync",
]

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
    ``async aclose()`` (connections of the running loop; after every :meth:`Engine.run`)
    and ``redact(text) -> str`` (removes secrets from error messages before they become
    a result's ``reason``).
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

    ``requests`` were sent to the server; ``cache_hits`` were answered from the cache;
    ``resumed`` items were already in the output file; ``reasks`` are extra attempts after
    a rejected answer.
    """

    items: int = 0
    resumed: int = 0
    requests: int = 0
    cache_hits: int = 0
    reasks: int = 0
    ok: int = 0
    failed: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.items} items ({self.resumed} resumed): {self.ok} ok, {self.failed} failed, "
            f"{self.errors} errors; {self.requests} requests, {self.cache_hits} cache hits, "
            f"{self.reasks} re-asks; tokens {self.prompt_tokens} in / "
            f"{self.completion_tokens} out; {self.seconds:.2f} s"
        )


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

    Notes
    -----
    :meth:`close` (or leaving a ``with`` block) closes the cache and the backend; a closed
    engine refuses to run. Error messages pass through the backend's ``redact(text)`` if
    it has one, so a server that echoes the API key in an error does not put it in a
    result.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        concurrency: int = 8,
        cache_dir: str | os.PathLike[str] | None = None,
        max_attempts: int = 3,
        progress: bool | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        self.backend = backend
        self.concurrency = concurrency
        self.max_attempts = max_attempts
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

    async def _ask(
        self, messages: Messages, schema: dict[str, Any] | None, stats: RunStats
    ) -> Completion:
        params = {**self.backend.cache_params(), "schema": schema}
        key = request_key(self.backend.model, messages, params)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                stats.cache_hits += 1
                return hit
        stats.requests += 1
        completion = await self.backend.complete(messages, schema)
        stats.prompt_tokens += completion.prompt_tokens
        stats.completion_tokens += completion.completion_tokens
        if self.cache is not None:
            self.cache.put(key, completion)
        return completion

    async def _one(self, task: Task, stats: RunStats) -> TaskResult:
        messages = list(task.messages)
        reason: str | None = None
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                stats.reasks += 1
            try:
                completion = await self._ask(messages, task.schema, stats)
            except Exception as e:  # the client already retried transient errors
                return TaskResult(
                    key=task.key,
                    status="error",
                    reason=self._describe_error(e),
                    attempts=attempt,
                )
            value, reason = task.check(completion)
            if reason is None:
                return TaskResult(key=task.key, status="ok", value=value, attempts=attempt)
            messages = [
                *messages,
                {"role": "assistant", "content": completion.text},
                {"role": "user", "content": task.retry(reason)},
            ]
        return TaskResult(key=task.key, status="failed", reason=reason, attempts=self.max_attempts)

    async def arun(
        self, tasks: Sequence[Task], out: str | os.PathLike[str] | None = None, desc: str = "llm"
    ) -> tuple[list[TaskResult], RunStats]:
        """Run ``tasks``; results in task order. ``out`` makes the run resumable.

        Tasks with the same key, model and messages are asked once and share the result.
        An exception that is not a transport error (a bug in a ``check``) cancels the other
        tasks and is raised; what finished before it stays in ``out``.

        Raises
        ------
        RuntimeError
            When the engine is closed.
        KGFormatError
            When ``out`` holds a complete line that is not a result of this engine (the
            message names the file and line): it is not a resume file.
        """
        self._check_open()
        stats = RunStats(items=len(tasks))
        start = time.perf_counter()
        keys = [self._resume_key(t) for t in tasks]
        done: dict[str, TaskResult] = {} if out is None else _read_resume(Path(out))
        stats.resumed = sum(1 for k in keys if k in done)
        todo = list({k: t for k, t in zip(keys, tasks) if k not in done}.items())
        sem = asyncio.Semaphore(self.concurrency)
        writer = None if out is None else _ResumeWriter(Path(out))
        results: dict[str, TaskResult] = {}
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
                        res = await self._one(task, stats)
                    res = res.model_copy(update={"key": key})
                    results[key] = res
                    if writer is not None and res.status != "error":
                        writer.write(res)
                    bar.update(1)

                await _gather_or_cancel([run_one(k, t) for k, t in todo])
        finally:
            if writer is not None:
                writer.close()
        merged = [results.get(k) or done[k] for k in keys]
        for r in merged:
            if r.status == "ok":
                stats.ok += 1
            elif r.status == "failed":
                stats.failed += 1
            else:
                stats.errors += 1
        stats.seconds = time.perf_counter() - start
        return merged, stats

    def run(
        self, tasks: Sequence[Task], out: str | os.PathLike[str] | None = None, desc: str = "llm"
    ) -> tuple[list[TaskResult], RunStats]:
        """Synchronous :meth:`arun` (works inside a running event loop, e.g. Jupyter)."""
        self._check_open()

        async def run_and_close() -> tuple[list[TaskResult], RunStats]:
            try:
                return await self.arun(tasks, out, desc)
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

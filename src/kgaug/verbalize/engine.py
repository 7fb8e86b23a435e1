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
    """What a model backend provides to the :class:`Engine`."""

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
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # a cache survives a crashed program either way; skip an fsync per answer
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, value TEXT)"
            )
            self._db.commit()

    def get(self, key: str) -> Completion | None:
        """The cached completion for ``key``, if any."""
        with self._lock:
            row = self._db.execute("SELECT value FROM completions WHERE key = ?", (key,)).fetchone()
        return None if row is None else Completion.model_validate_json(row[0])

    def put(self, key: str, value: Completion) -> None:
        """Store a completion."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO completions (key, value) VALUES (?, ?)",
                (key, value.model_dump_json()),
            )
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


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
                    reason=f"{type(e).__name__}: {e}",
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
        """
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

                await asyncio.gather(*(run_one(k, t) for k, t in todo))
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

        async def run_and_close() -> tuple[list[TaskResult], RunStats]:
            try:
                return await self.arun(tasks, out, desc)
            finally:  # the loop ends here: release the backend's connections on it
                aclose = getattr(self.backend, "aclose", None)
                if aclose is not None:
                    await aclose()

        return run_sync(run_and_close())


def _read_resume(path: Path) -> dict[str, TaskResult]:
    """Finished items of an earlier run; a torn last line (a crash mid-write) is ignored."""
    done: dict[str, TaskResult] = {}
    if not path.exists():
        return done
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                r = TaskResult.model_validate_json(line)
            except ValueError:
                continue
            done[r.key] = r
    return done


class _ResumeWriter:
    """Appends one JSON line per finished item and flushes it to disk at once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a crash can leave a last line without newline: start on a fresh line
        needs_newline = (
            path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
        )
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115
        if needs_newline:
            self._fh.write("\n")
        self._lock = threading.Lock()

    def write(self, result: TaskResult) -> None:
        line = result.model_dump_json() + "\n"
        with self._lock:
            self._fh.write(line)
            self._fh.flush()
            with contextlib.suppress(OSError):
                os.fsync(self._fh.fileno())

    def close(self) -> None:
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

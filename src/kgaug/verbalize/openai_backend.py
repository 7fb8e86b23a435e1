"""OpenAI-compatible chat backend (``pip install 'kgaug[llm]'``).

Works with any server that speaks the chat-completions protocol: OpenAI, vLLM, Ollama,
llama.cpp, LM Studio, ... (``base_url``). Retries of rate limits (honouring
``retry-after``), server errors and timeouts are the official client's own
(``max_retries``). Structured output (a JSON schema) is asked for when the step has one;
a server that rejects ``response_format`` is remembered and asked in plain text instead,
where the paper's ``<a>...</a>`` tags carry the answer.

The API key is passed to the client and kept nowhere else: it is not part of the cache
key, the repr or any file, and :meth:`OpenAIBackend.redact` removes it from error messages
and answers (a server may echo it) before they can be cached or written.

Reasoning models that accept no sampling options (o1-mini, one of the paper's models) take
``temperature=None`` and ``max_tokens=None``: then neither is sent.

Every HTTP request the client sends (its retries and the structured-output fallback
included) passes through :func:`~kgaug.verbalize.engine.before_request`, so the engine
counts it and applies its rate limits. Answers that would be the same for every item
raise :class:`~kgaug.errors.FatalLLMError` and stop the run: ``401`` (bad key), ``403``
(no access), ``404`` (no such model or endpoint: a ``base_url`` without ``/v1``), an
unknown model, ``405`` / ``501`` (no chat completions here). A reply that is not a chat
completion (an HTML page, an event stream to a plain request, a choice without message)
raises :class:`~kgaug.errors.MalformedReplyError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import urllib.parse
import weakref
from typing import Any, Literal

from kgaug.errors import FatalLLMError, MalformedReplyError
from kgaug.verbalize.engine import Completion, Messages, before_request

__all__ = ["OpenAIBackend"]

Structured = Literal["auto", "json_schema", "text"]

# a 400 / 422 that names a model the server does not have (OpenAI, vLLM, Ollama, LiteLLM)
_UNKNOWN_MODEL = re.compile(
    r"model_not_found|unknown model|invalid model|no such model|model\b[^\n]{0,160}?"
    r"\b(?:does not exist|doesn't exist|not found|is not served|is not loaded)",
    re.IGNORECASE,
)
_STATUS_TEXT = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    501: "Not Implemented",
}


def _int(value: Any) -> int:
    """A token count from a server (any junk counts as 0)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class OpenAIBackend:
    """Chat completions through the official ``openai`` client.

    Parameters
    ----------
    model : str
        Model name on the server.
    base_url : str, optional
        Server URL (``http://localhost:8000/v1`` for vLLM, ``http://localhost:11434/v1``
        for Ollama); default OpenAI's.
    api_key : str, optional
        Default ``$OPENAI_API_KEY``; without either the placeholder ``EMPTY`` is sent,
        which local servers accept (a server that refuses it stops the run with a message
        that says no key was given).
    temperature : float, optional
        Sampling temperature (0: as deterministic as the server allows; ``None``: not
        sent, the server's default).
    seed : int, optional
        Sampling seed, where the server supports it.
    max_tokens : int, optional
        Completion length limit, sent with every request (default 512; ``None``: not
        sent). The engine also cuts replies to its ``max_reply_chars``.
    timeout : float
        Seconds per request before the client retries.
    max_retries : int
        The client's retries of 429 / 5xx / timeouts.
    structured : {"auto", "json_schema", "text"}
        ``"auto"`` asks for structured output and falls back to text if the server
        refuses it (a ``400`` to the request with a schema, and an answer without); ``"text"``
        never asks; ``"json_schema"`` insists. Part of the cache key.
    """

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        temperature: float | None = 0.0,
        seed: int | None = 0,
        max_tokens: int | None = 512,
        timeout: float = 60.0,
        max_retries: int = 5,
        structured: Structured = "auto",
    ) -> None:
        try:
            import openai
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(
                "the openai backend needs the openai package: pip install 'kgaug[llm]'"
            ) from None
        if structured not in ("auto", "json_schema", "text"):
            raise ValueError(
                f"structured must be 'auto', 'json_schema' or 'text', got {structured!r}"
            )
        if not model:
            raise ValueError("model must be a non-empty model name")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if max_tokens is not None and (
            isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
        ):
            raise ValueError(f"max_tokens must be an integer >= 1 or None, got {max_tokens!r}")
        self.model = model
        self.base_url = base_url
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self.structured: Structured = structured
        self._structured_option: Structured = structured  # as configured (the cache key)
        self._openai = openai
        key = api_key or os.environ.get("OPENAI_API_KEY")
        self._key_given = bool(key)
        self._client_options: dict[str, Any] = {
            "base_url": base_url,
            "api_key": key or "EMPTY",
            "timeout": timeout,
            "max_retries": max_retries,
        }
        # an async client's connections belong to one event loop: one client per loop
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            options = dict(self._client_options)
            http = getattr(self._openai, "DefaultAsyncHttpxClient", None)
            if http is not None:  # every HTTP request, retries included, is counted
                options["http_client"] = http(event_hooks={"request": [self._on_request]})
            client = self._openai.AsyncOpenAI(**options)
            self._clients[loop] = client
        return client

    @property
    def reports_requests(self) -> bool:
        """Whether every HTTP request goes through the engine's ``before_request``."""
        return getattr(self._openai, "DefaultAsyncHttpxClient", None) is not None

    async def _on_request(self, request: Any) -> None:
        """The HTTP client's request hook: count the request, wait for the rate limits."""
        try:
            size = len(request.content)
        except Exception:  # a streamed body: its announced length, if any
            size = int(request.headers.get("content-length") or 0)
        await before_request(size, self.max_tokens)

    async def aclose(self) -> None:
        """Close the client of the running event loop (its connections)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()

    def close(self) -> None:
        """Close the clients of event loops that are not running; forget the others.

        Idempotent. Clients of a loop that is running are closed with :meth:`aclose` on
        that loop (``Engine.run`` does so after every run).
        """
        for loop, client in list(self._clients.items()):
            self._clients.pop(loop, None)
            if not loop.is_closed() and not loop.is_running():
                with contextlib.suppress(Exception):
                    loop.run_until_complete(client.close())

    def redact(self, text: str) -> str:
        """``text`` with the API key replaced by ``***``.

        Keys shorter than 6 characters are left: they are placeholders (``EMPTY``, ``x``)
        of local servers, and replacing them would garble ordinary text.
        """
        key = str(self._client_options.get("api_key") or "")
        if len(key) >= 6 and key != "EMPTY":
            text = text.replace(key, "***")
        return text

    @property
    def _shown_url(self) -> str | None:
        """``base_url`` for messages and reprs: user, password and query string left out."""
        if self.base_url is None:
            return None
        parts = urllib.parse.urlsplit(self.base_url)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", "")) or "?"

    @property
    def _where(self) -> str:
        return f"the server at {self._shown_url or 'https://api.openai.com/v1'}"

    def _fatal(self, e: Any) -> FatalLLMError | None:
        """The run-stopping error an API error stands for, or ``None`` (this item only)."""
        status = getattr(e, "status_code", None)
        if not isinstance(status, int):
            return None
        detail = self.redact(str(getattr(e, "message", "") or e))
        if len(detail) > 300:
            detail = detail[:300] + " [...]"
        what = f"{status} {_STATUS_TEXT.get(status, '')}".rstrip()
        code = str(getattr(e, "code", "") or "")
        if status == 401:
            hint = (
                "check the key (api_key, $OPENAI_API_KEY; --api-key-env on the command line)"
                if self._key_given
                else "no API key was given: pass api_key, set $OPENAI_API_KEY or name the "
                "variable with --api-key-env"
            )
            msg = f"{self._where} refused the API key ({what}: {detail}); {hint}"
        elif status == 403:
            msg = (
                f"{self._where} denied access ({what}: {detail}); check that the key may "
                f"use the model {self.model!r}"
            )
        elif status == 404:
            msg = (
                f"{self._where} has no model {self.model!r} or no chat-completions endpoint "
                f"({what}: {detail}); check model and base_url (it usually ends in /v1)"
            )
        elif status in (405, 501):
            msg = (
                f"{self._where} cannot serve chat completions ({what}: {detail}); check "
                "base_url (it usually ends in /v1)"
            )
        elif status in (400, 422) and (
            code == "model_not_found" or _UNKNOWN_MODEL.search(detail) is not None
        ):
            msg = f"{self._where} does not know the model {self.model!r} ({what}: {detail})"
        else:
            return None
        return FatalLLMError(msg, status=status)

    async def _create(self, **kwargs: Any) -> Any:
        """``chat.completions.create``; answers that stop the run become FatalLLMError."""
        try:
            return await self._client.chat.completions.create(**kwargs)
        except self._openai.APIStatusError as e:
            fatal = self._fatal(e)
            if fatal is not None:
                raise fatal from None
            raise
        except (json.JSONDecodeError, self._openai.APIResponseValidationError) as e:
            # a 200 whose body is empty or not JSON (HTML served as application/json):
            # not a chat completion, counted towards the malformed streak
            raise MalformedReplyError(
                f"{self._where} sent a body that is not a chat completion "
                f"({type(e).__name__}: {str(e)[:200]})"
            ) from None

    def __repr__(self) -> str:
        return (
            f"OpenAIBackend(model={self.model!r}, base_url={self._shown_url!r}, "
            f"temperature={self.temperature}, structured={self.structured!r})"
        )

    def cache_params(self) -> dict[str, Any]:
        """Answer-changing parameters (part of the cache key; never the API key).

        ``structured`` is the configured mode, not the one a fallback switched to, so keys
        stay the same across the runs of one configuration.
        """
        return {
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
            "structured": self._structured_option,
        }

    async def complete(self, messages: Messages, schema: dict[str, Any] | None) -> Completion:
        """One chat completion (see the class docstring for structured output).

        Raises
        ------
        FatalLLMError
            An answer that would be the same for every item (see the module docstring).
        openai.APIError
            What the client raises once its retries are spent.
        MalformedReplyError
            When the server answers with something that is not a chat completion: text
            (an HTML page, an event stream), no choice, a choice without message, content
            that is not text (not cached; the item is asked again on the next run).
        """
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages}
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self.seed is not None:
            kwargs["seed"] = self.seed
        if self.max_tokens is not None:
            kwargs["max_tokens"] = self.max_tokens
        use_schema = schema is not None and self.structured != "text"
        if use_schema:
            fmt = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": schema, "strict": True},
            }
            try:
                resp = await self._create(response_format=fmt, **kwargs)
            except self._openai.BadRequestError as schema_error:
                if self.structured == "json_schema":
                    raise
                use_schema = False
                try:
                    resp = await self._create(**kwargs)
                except self._openai.BadRequestError:
                    # refused without a schema too: the request itself is bad (too long,
                    # unknown model, ...), not structured output; report the first error
                    raise schema_error from None
                self.structured = "text"  # this server does not do structured output
        else:
            resp = await self._create(**kwargs)
        return self._completion(resp, use_schema)

    def _completion(self, resp: Any, structured: bool) -> Completion:
        """A :class:`Completion` from the client's answer, or MalformedReplyError."""
        if isinstance(resp, (str, bytes)):  # the client hands over a non-JSON body as is
            text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else resp
            head = text.lstrip()[:200]
            if head.startswith(("data:", "event:")):
                kind = "an event stream (server-sent events) to a plain request"
            elif head[:1] == "<":
                kind = "an HTML or XML page"
            else:
                kind = "text"
            raise MalformedReplyError(
                f"{self._where} answered with {kind}, not a chat completion "
                f"(starting {self.redact(head[:80])!r}); check base_url"
            )
        choices = getattr(resp, "choices", None)
        if not choices or not isinstance(choices, list):
            raise MalformedReplyError(f"{self._where} answered without choices")
        msg = getattr(choices[0], "message", None)
        if msg is None:
            raise MalformedReplyError(f"{self._where} answered with a choice without message")
        content = getattr(msg, "content", None)
        if content is not None and not isinstance(content, str):
            raise MalformedReplyError(
                f"{self._where} answered with content of type {type(content).__name__}, not text"
            )
        usage = getattr(resp, "usage", None)
        refusal = getattr(msg, "refusal", None)
        return Completion(
            text=self.redact(content or ""),
            refusal=None if refusal is None else self.redact(str(refusal)),
            prompt_tokens=_int(getattr(usage, "prompt_tokens", 0)),
            completion_tokens=_int(getattr(usage, "completion_tokens", 0)),
            structured=structured,
        )

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
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref
from typing import Any, Literal

from kgaug.verbalize.engine import Completion, Messages

__all__ = ["OpenAIBackend"]

Structured = Literal["auto", "json_schema", "text"]


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
        Default ``$OPENAI_API_KEY``; local servers accept any value.
    temperature : float, optional
        Sampling temperature (0: as deterministic as the server allows; ``None``: not
        sent, the server's default).
    seed : int, optional
        Sampling seed, where the server supports it.
    max_tokens : int, optional
        Completion length limit (``None``: not sent).
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
        self.model = model
        self.base_url = base_url
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self.structured: Structured = structured
        self._structured_option: Structured = structured  # as configured (the cache key)
        self._openai = openai
        self._client_options: dict[str, Any] = {
            "base_url": base_url,
            "api_key": api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY",
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
            client = self._openai.AsyncOpenAI(**self._client_options)
            self._clients[loop] = client
        return client

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

    def __repr__(self) -> str:
        return (
            f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r}, "
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
        openai.APIError
            What the client raises once its retries are spent.
        RuntimeError
            When the server answers without any choice (a malformed response: not cached,
            the item is asked again on the next run).
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
                resp = await self._client.chat.completions.create(response_format=fmt, **kwargs)
            except self._openai.BadRequestError as schema_error:
                if self.structured == "json_schema":
                    raise
                use_schema = False
                try:
                    resp = await self._client.chat.completions.create(**kwargs)
                except self._openai.BadRequestError:
                    # refused without a schema too: the request itself is bad (too long,
                    # unknown model, ...), not structured output; report the first error
                    raise schema_error from None
                self.structured = "text"  # this server does not do structured output
        else:
            resp = await self._client.chat.completions.create(**kwargs)
        if not resp.choices:
            raise RuntimeError(
                f"the server at {self.base_url or 'api.openai.com'} answered without choices"
            )
        msg = resp.choices[0].message
        usage = resp.usage
        refusal = getattr(msg, "refusal", None)
        return Completion(
            text=self.redact(msg.content or ""),
            refusal=None if refusal is None else self.redact(str(refusal)),
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            structured=use_schema,
        )

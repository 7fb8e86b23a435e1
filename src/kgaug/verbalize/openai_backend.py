"""OpenAI-compatible chat backend (``pip install 'kgaug[llm]'``).

Works with any server that speaks the chat-completions protocol: OpenAI, vLLM, Ollama,
llama.cpp, LM Studio, ... (``base_url``). Retries of rate limits (honouring
``retry-after``), server errors and timeouts are the official client's own
(``max_retries``). Structured output (a JSON schema) is asked for when the step has one;
a server that rejects ``response_format`` is remembered and asked in plain text instead,
where the paper's ``<a>...</a>`` tags carry the answer.

The API key is passed to the client and kept nowhere else: it is not part of the cache
key, the repr or any file.
"""

from __future__ import annotations

import asyncio
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
    temperature : float
        Sampling temperature (0: as deterministic as the server allows).
    seed : int, optional
        Sampling seed, where the server supports it.
    max_tokens : int, optional
        Completion length limit.
    timeout : float
        Seconds per request before the client retries.
    max_retries : int
        The client's retries of 429 / 5xx / timeouts.
    structured : {"auto", "json_schema", "text"}
        ``"auto"`` asks for structured output and falls back to text if the server
        refuses it; ``"text"`` never asks; ``"json_schema"`` insists.
    """

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        temperature: float = 0.0,
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
        self.model = model
        self.base_url = base_url
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self.structured: Structured = structured
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

    def __repr__(self) -> str:
        return (
            f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r}, "
            f"temperature={self.temperature}, structured={self.structured!r})"
        )

    def cache_params(self) -> dict[str, Any]:
        """Answer-changing parameters (part of the cache key; never the API key)."""
        return {"temperature": self.temperature, "seed": self.seed, "max_tokens": self.max_tokens}

    async def complete(self, messages: Messages, schema: dict[str, Any] | None) -> Completion:
        """One chat completion (see the class docstring for structured output)."""
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
        }
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
            except self._openai.BadRequestError:
                if self.structured == "json_schema":
                    raise
                self.structured = "text"  # this server does not do structured output
                use_schema = False
                resp = await self._client.chat.completions.create(**kwargs)
        else:
            resp = await self._client.chat.completions.create(**kwargs)
        if not resp.choices:
            return Completion(text="", refusal="the server returned no choices")
        msg = resp.choices[0].message
        usage = resp.usage
        return Completion(
            text=msg.content or "",
            refusal=getattr(msg, "refusal", None),
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            structured=use_schema,
        )

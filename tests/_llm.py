"""Shared helpers of the LLM tests: five-tuples, a verbalizer on a loopback server."""

from __future__ import annotations

from typing import Any

from kgaug.records import FiveTuple
from kgaug.verbalize import get_verbalizer
from kgaug.verbalize.fake_server import FakeChatServer
from kgaug.verbalize.llm import LLMVerbalizer


def items(n: int) -> list[FiveTuple]:
    """``n`` distinct film -> director -> city five-tuples."""
    return [
        FiveTuple(
            obj1=f"Film {i}",
            rel1="director",
            obj2=f"Director {i}",
            rel2="place of birth",
            obj3=f"City {i}",
        )
        for i in range(n)
    ]


def make_verbalizer(server: FakeChatServer, key: str, **options: Any) -> LLMVerbalizer:
    """An ``openai`` verbalizer on ``server`` with ``key``, quiet and without retries."""
    options.setdefault("progress", False)
    options.setdefault("api_key", key)
    options.setdefault("max_retries", 0)
    return get_verbalizer("openai", base_url=server.base_url, model="fake", **options)


def user_text(request: dict[str, Any]) -> str:
    """The last message of a chat request."""
    return str(request["messages"][-1]["content"])

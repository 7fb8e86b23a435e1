"""Turning paths and facts into questions, and text into graphs.

Every verbalizer has ``.verbalize(items) -> list[Question]``; items are :class:`Triple`
(atomic facts), :class:`FiveTuple` / :class:`Chain` (multi-hop paths) and
:class:`ComparisonFact`. Backends: ``"template"`` (offline default,
:class:`TemplateVerbalizer`), ``"openai"`` (any OpenAI-compatible server, needs
``kgaug[llm]``) and ``"transformers"`` (a local model, needs ``kgaug[train]``); others
plug in through the ``kgaug.verbalizers`` entry-point group. See :func:`get_verbalizer`.

The LLM backends share one :class:`Engine`: bounded concurrency, an on-disk response
cache of accepted answers, answer checks with bounded re-asks, resumable JSON-lines
output, size caps, rate limits, up-front estimates (:class:`RunEstimate`) and usage
counts (:class:`RunStats`). Importing this package imports neither ``openai`` nor ``torch``.
"""

from __future__ import annotations

from kgaug.verbalize.base import (
    FactGenerator,
    GraphParser,
    Paraphraser,
    Question,
    Verbalizer,
    VerbalizerItem,
)
from kgaug.verbalize.engine import Completion, Engine, RateLimiter, RunEstimate, RunStats
from kgaug.verbalize.items import read_items, write_questions
from kgaug.verbalize.llm import LLMVerbalizer
from kgaug.verbalize.openai_backend import OpenAIBackend
from kgaug.verbalize.registry import (
    available_verbalizers,
    get_parser,
    get_verbalizer,
    register_verbalizer,
)
from kgaug.verbalize.template import TemplateVerbalizer
from kgaug.verbalize.transformers_backend import TransformersBackend

__all__ = [
    "Completion",
    "Engine",
    "FactGenerator",
    "GraphParser",
    "LLMVerbalizer",
    "OpenAIBackend",
    "Paraphraser",
    "Question",
    "RateLimiter",
    "RunEstimate",
    "RunStats",
    "TemplateVerbalizer",
    "TransformersBackend",
    "Verbalizer",
    "VerbalizerItem",
    "available_verbalizers",
    "get_parser",
    "get_verbalizer",
    "read_items",
    "register_verbalizer",
    "write_questions",
]

"""The verbalizer protocol and its output record."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from kgaug.records import Chain, ComparisonFact, FiveTuple, Triple

if TYPE_CHECKING:
    from kgaug.kg import KnowledgeGraph

__all__ = [
    "FactGenerator",
    "GraphParser",
    "Paraphraser",
    "Question",
    "Verbalizer",
    "VerbalizerItem",
]

VerbalizerItem = Triple | FiveTuple | Chain | ComparisonFact


class Question(BaseModel):
    """A question with its answer, and the item it was made from.

    Attributes
    ----------
    question : str
        Natural-language question.
    answer : str
        The gold answer (unchanged from the source item).
    source : Triple, FiveTuple, Chain or ComparisonFact
        What was verbalized.
    status : {"ok", "review", "failed"}
        ``"failed"`` when a verbalizer could not produce a valid question (kept, never
        silently dropped); ``"review"`` when the question is kept and reads as a
        question but its wording is doubtful (a template for an opaque relation id such
        as ``P19``, a label without words): a person or an LLM should rephrase it.
    reason : str or None
        Why it failed or needs review (``None`` when ``status="ok"``).
    """

    model_config = ConfigDict(frozen=True)

    question: str
    answer: str
    source: VerbalizerItem
    status: Literal["ok", "review", "failed"] = "ok"
    reason: str | None = None


@runtime_checkable
class Verbalizer(Protocol):
    """Anything that turns items into questions."""

    def verbalize(self, items: Iterable[VerbalizerItem]) -> list[Question]:
        """One :class:`Question` per item, in order."""
        ...


@runtime_checkable
class GraphParser(Protocol):
    """Text to a typed knowledge graph (the paper's ``parse_graph``)."""

    def parse(self, text: str) -> KnowledgeGraph:
        """The graph described by ``text``."""
        ...


@runtime_checkable
class Paraphraser(Protocol):
    """More phrasings of a question with the same answer (``diversify``)."""

    def paraphrase(self, question: Question, k: int) -> list[Question]:
        """Up to ``k`` other phrasings; the answer is unchanged."""
        ...


@runtime_checkable
class FactGenerator(Protocol):
    """New atomic facts of a relation (``kgaug.augment(..., strategy="llm")``)."""

    def propose(self, kg: KnowledgeGraph, relation: str, n: int) -> list[Triple]:
        """Up to ``n`` candidate facts of ``relation``."""
        ...

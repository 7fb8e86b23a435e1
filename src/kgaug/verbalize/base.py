"""The verbalizer protocol and its output record."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from kgaug.records import Chain, ComparisonFact, FiveTuple, Triple

__all__ = ["Question", "Verbalizer", "VerbalizerItem"]

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
    status : {"ok", "failed"}
        ``"failed"`` when a verbalizer could not produce a valid question (kept, never
        silently dropped).
    """

    model_config = ConfigDict(frozen=True)

    question: str
    answer: str
    source: VerbalizerItem
    status: Literal["ok", "failed"] = "ok"


@runtime_checkable
class Verbalizer(Protocol):
    """Anything that turns items into questions."""

    def verbalize(self, items: Iterable[VerbalizerItem]) -> list[Question]:
        """One :class:`Question` per item, in order."""
        ...

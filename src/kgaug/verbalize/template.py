"""Offline, deterministic template verbalizer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kgaug.records import Chain, ComparisonFact, FiveTuple, Triple
from kgaug.verbalize.base import Question, VerbalizerItem

__all__ = ["TemplateVerbalizer"]


class TemplateVerbalizer:
    """Questions from relation labels: ``"What is the born in of the spouse of X?"``.

    Parameters
    ----------
    templates : mapping, optional
        Per-relation phrase overriding the relation label (e.g. ``{"born in":
        "place of birth"}``).
    """

    def __init__(self, templates: Mapping[str, str] | None = None) -> None:
        self.templates = dict(templates or {})

    def _phrase(self, relation: str) -> str:
        return self.templates.get(relation, relation)

    def _one(self, item: VerbalizerItem) -> Question:
        if isinstance(item, Triple):
            q = f"What is the {self._phrase(item.relation)} of {item.head}?"
            return Question(question=q, answer=item.tail, source=item)
        if isinstance(item, (FiveTuple, Chain)):
            rels = item.relations
            head = item.entities[0]
            inner = head
            for r in rels:
                inner = f"the {self._phrase(r)} of {inner}"
            return Question(question=f"What is {inner}?", answer=item.entities[-1], source=item)
        if isinstance(item, ComparisonFact):
            attr = self._phrase(item.attribute)
            if item.style == "same":
                q = f"Do {item.entity1} and {item.entity2} have the same {attr}?"
            else:
                q = f"How does the {attr} of {item.entity1} compare to that of {item.entity2}?"
            return Question(question=q, answer=item.answer, source=item)
        raise TypeError(f"cannot verbalize {type(item).__name__}")

    def verbalize(self, items: Iterable[VerbalizerItem]) -> list[Question]:
        """One question per item, in order."""
        return [self._one(it) for it in items]

"""Turning paths and facts into questions with answers.

Every verbalizer has ``.verbalize(items) -> list[Question]``; items are :class:`Triple`
(atomic facts), :class:`FiveTuple` / :class:`Chain` (multi-hop paths) and
:class:`ComparisonFact`. The offline default is :class:`TemplateVerbalizer`.
"""

from __future__ import annotations

from kgaug.verbalize.base import Question, Verbalizer, VerbalizerItem
from kgaug.verbalize.template import TemplateVerbalizer

__all__ = ["Question", "TemplateVerbalizer", "Verbalizer", "VerbalizerItem"]

"""Compatibility module: composition augmentation (Algorithm 2) moved to submodules.

It lives in :mod:`kgaug.augmentation.templates` (templates and hubs),
:mod:`kgaug.augmentation.strategies` (fictitious, counterfactual, LLM strategies) and
:mod:`kgaug.augmentation.planner` (the plan). The names this module exported keep working.
"""

from __future__ import annotations

from kgaug.augmentation.strategies import STRATEGIES, FactProposer
from kgaug.augmentation.templates import GadgetFactory, Template, copies_needed

__all__ = ["STRATEGIES", "FactProposer", "GadgetFactory", "Template", "copies_needed"]

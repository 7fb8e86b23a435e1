"""Augmentation: make a sparse knowledge graph groks-able, with facts an expert would accept.

(The package is ``kgaug.augmentation``; its main function is also available as
``kgaug.augment``. A package named ``augment`` would be shadowed by that function.)

- :func:`augment` / :func:`plan_augmentation` — composition augmentation (the paper's
  Algorithm 2, atomic step) until every relation reaches ``phi_G``, or until a dataset of a
  given phi can be built (``dataset_phi=``); every new fact keeps the roles of the real
  data (:mod:`kgaug.schema`); returns the new graph and the plan (:mod:`.result`).
- Strategies behind one protocol (:mod:`.strategies`): fictitious entities, counterfactual
  rewiring, LLM-proposed facts, or your own; templates in :mod:`.templates`.
- :func:`audit` — role violations, synthetic share, overshoot, OCR risk (:mod:`.audit`).
- :func:`augment_inferred` — sample multi-hop paths into inferred facts;
  :func:`diversify` — several phrasings per question.
- :mod:`kgaug.augmentation.comparison` — Algorithm 1 (new entities with attribute values
  for comparison questions).
"""

from __future__ import annotations

from kgaug.augmentation.audit import AuditReport, RelationAudit, audit
from kgaug.augmentation.comparison import (
    ComparisonAugmentationLog,
    ParagraphHook,
    augment_comparison,
    comparison_phi,
)
from kgaug.augmentation.inferred import augment_inferred, diversify
from kgaug.augmentation.planner import plan_augmentation
from kgaug.augmentation.result import AugmentationPlan, RelationPlan
from kgaug.augmentation.run import augment, augment_atomic
from kgaug.augmentation.strategies import (
    STRATEGIES,
    AugmentationStrategy,
    CounterfactualStrategy,
    FactProposer,
    FictitiousStrategy,
    LLMStrategy,
    RoundContext,
)
from kgaug.augmentation.templates import GadgetFactory, Template

__all__ = [
    "STRATEGIES",
    "AuditReport",
    "AugmentationPlan",
    "AugmentationStrategy",
    "ComparisonAugmentationLog",
    "CounterfactualStrategy",
    "FactProposer",
    "FictitiousStrategy",
    "GadgetFactory",
    "LLMStrategy",
    "ParagraphHook",
    "RelationAudit",
    "RelationPlan",
    "RoundContext",
    "Template",
    "audit",
    "augment",
    "augment_atomic",
    "augment_comparison",
    "augment_inferred",
    "comparison_phi",
    "diversify",
    "plan_augmentation",
]

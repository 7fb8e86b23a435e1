"""Compatibility module: the planner lives in :mod:`kgaug.augmentation`.

``from kgaug.plan import plan_augmentation, AugmentationPlan, RelationPlan`` keeps working;
new code imports them from ``kgaug`` or :mod:`kgaug.augmentation`.
"""

from __future__ import annotations

from kgaug.augmentation.planner import plan_augmentation
from kgaug.augmentation.result import AugmentationPlan, RelationPlan

__all__ = ["AugmentationPlan", "RelationPlan", "plan_augmentation"]

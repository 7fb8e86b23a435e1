"""``kgaug.augment``: plan and apply composition augmentation in one call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kgaug._validate import check_bool
from kgaug.augmentation.planner import plan_augmentation
from kgaug.augmentation.result import AugmentationPlan
from kgaug.kg import KnowledgeGraph

__all__ = ["augment", "augment_atomic"]


def augment(
    kg: KnowledgeGraph,
    phi_g: float = 3.6,
    hops: int | Sequence[int] = 2,
    *,
    check_ocr_risk: bool = True,
    **options: Any,
) -> tuple[KnowledgeGraph, AugmentationPlan]:
    """Raise every relation of ``kg`` to ``phi_r >= phi_G`` with new facts.

    Runs :func:`kgaug.plan_augmentation` (same options: ``strategy``, ``count``,
    ``directed``, ``relations``, ``seed``, ...) and returns the augmented graph and the
    plan, which doubles as the log: per relation the phi before and after (exact
    recount), the facts added, and why a relation is unreachable if it is. Every added
    fact has provenance ``synthetic`` or ``counterfactual``; the real facts are unchanged
    (``result.subgraph(provenance=["real"])`` gives them back).

    With ``check_ocr_risk=True`` (default) the OCR risk of the result is compared with
    that of ``kg`` (:func:`kgaug.ocr.check_augmentation`, vectorized and cheap) and an
    :class:`~kgaug.errors.OCRRiskWarning` names the relation pairs whose answers became
    strongly associated (strength >= 0.5 on at least 3 shared observations, up by at
    least 0.1 from the original's strength, which counts as 0 unless it too rests on at
    least 3 shared observations): a model fine-tuned on the result would learn them as
    implications and extend them to other subjects. The warning also says how many
    subjects of each pair have added facts, names a few added subjects behind its example
    rule and the plan's templates.

    This *detects and warns*; it does not prevent anything: the result is returned
    unchanged, flagged associations included. Keeping new facts in the roles of the real
    data removes most of them: on the bundled example KG the counterfactual strategy no
    longer creates any (before roles it made ``author -> based on`` and
    ``author -> director`` strong by giving films authors), and
    ``augment(kg, phi_g=3.6, dataset_phi=3.6, seed=0)`` flags one pair,
    ``father -> place of birth`` (strength 0.48 -> 0.64), because hub templates give many
    fictitious people the same kinds of answers. Inspect with
    :func:`kgaug.ocr.check_augmentation` (or :func:`kgaug.audit`), then change the
    augmentation (seed, target, strategy, relations) if needed.

    The check runs on graphs up to :data:`kgaug.ocr.risk.AUGMENT_MAX_CELLS` (5 M)
    subject-level answer combinations; a larger graph gets a warning that it was not
    checked (run :func:`kgaug.ocr.risk_report` or :func:`kgaug.ocr.check_augmentation`
    with ``relations=[...]``). ``check_ocr_risk=False`` turns the check off.

    Examples
    --------
    >>> import kgaug
    >>> kg2, plan = kgaug.augment(kgaug.datasets.load_example(), phi_g=3.6, seed=0)
    >>> plan.unreachable  # books carry 2 outgoing facts and nothing points at films
    ['based on']
    >>> plan.audit.role_violations
    0
    """
    check = check_bool(check_ocr_risk, "check_ocr_risk")
    plan = plan_augmentation(kg, phi_g, hops, **options)
    if check and plan.added_facts:
        from kgaug.ocr.risk import AUGMENT_MAX_CELLS, warn_ocr_risk

        templates = [row.template for row in plan.rows if row.template and row.added_facts]
        if plan.dataset_template:
            templates.append(plan.dataset_template)
        warn_ocr_risk(
            kg, plan.result, stacklevel=3, templates=templates, max_cells=AUGMENT_MAX_CELLS
        )
    return plan.result, plan


def augment_atomic(
    kg: KnowledgeGraph, phi_g: float = 3.6, hops: int | Sequence[int] = 2, **options: Any
) -> tuple[KnowledgeGraph, AugmentationPlan]:
    """Algorithm 2, ``graph.augment_atomic()``: the same as :func:`augment`."""
    return augment(kg, phi_g, hops, **options)

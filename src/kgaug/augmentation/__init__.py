"""Augmentation: make a sparse knowledge graph groks-able.

(The package is ``kgaug.augmentation``; its main function is also available as
``kgaug.augment``. A package named ``augment`` would be shadowed by that function.)

- :func:`augment` — plan and apply composition augmentation (the paper's Algorithm 2,
  atomic step) until every relation reaches ``phi_G``; returns the new graph and the plan.
- :func:`augment_inferred` — sample multi-hop paths into inferred facts.
- :func:`diversify` — several phrasings per question.
- :mod:`kgaug.augmentation.comparison` — Algorithm 1 (new entities with attribute values for
  comparison questions).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kgaug.kg import KnowledgeGraph
    from kgaug.paths import PathSample
    from kgaug.plan import AugmentationPlan
    from kgaug.verbalize.base import Question

from kgaug.augmentation.comparison import (
    ComparisonAugmentationLog,
    ParagraphHook,
    augment_comparison,
    comparison_phi,
)

__all__ = [
    "ComparisonAugmentationLog",
    "ParagraphHook",
    "augment",
    "augment_atomic",
    "augment_comparison",
    "augment_inferred",
    "comparison_phi",
    "diversify",
]


def augment(
    kg: KnowledgeGraph,
    phi_g: float = 3.6,
    hops: int | Sequence[int] = 2,
    *,
    check_ocr_risk: bool = True,
    **options: Any,
) -> tuple[KnowledgeGraph, AugmentationPlan]:
    """Raise every relation of ``kg`` to ``phi_r >= phi_G`` with new facts.

    Runs :func:`kgaug.plan.plan_augmentation` (same options: ``strategy``, ``count``,
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
    unchanged, flagged associations included. Both counterfactual rewiring and fictitious
    entities can create such associations. On the bundled example KG,
    ``augment(kg, phi_g=3.6, overall_phi=5.0, seed=0)`` (fictitious entities only) raises
    ``country of citizenship -> place of birth`` from strength 0.15 to 0.86 and makes
    ``place of birth -> country of citizenship`` strong (0.86, from 1.0 on only two real
    people), because hub templates give many fictitious people the same pair of existing
    answers; the counterfactual strategy creates ``author -> based on`` and ``author -> director``
    (strength 1.0). Inspect with :func:`kgaug.ocr.check_augmentation`, then change the
    augmentation (seed, ``overall_phi``, strategy, relations) if needed.

    The check runs on graphs up to :data:`kgaug.ocr.risk.AUGMENT_MAX_CELLS` (5 M)
    subject-level answer combinations; a larger graph gets a warning that it was not
    checked (run :func:`kgaug.ocr.risk_report` or :func:`kgaug.ocr.check_augmentation`
    with ``relations=[...]``). ``check_ocr_risk=False`` turns the check off.

    Examples
    --------
    >>> import kgaug
    >>> kg2, plan = kgaug.augment(kgaug.datasets.load_example(), phi_g=3.6, seed=0)
    >>> plan.confirmed
    True
    """
    from kgaug._validate import check_bool
    from kgaug.plan import plan_augmentation

    check = check_bool(check_ocr_risk, "check_ocr_risk")
    plan = plan_augmentation(kg, phi_g, hops, **options)
    if check and plan.added_facts:
        from kgaug.ocr.risk import AUGMENT_MAX_CELLS, warn_ocr_risk

        templates = [row.template for row in plan.rows if row.template and row.added_facts]
        warn_ocr_risk(
            kg, plan.result, stacklevel=3, templates=templates, max_cells=AUGMENT_MAX_CELLS
        )
    return plan.result, plan


def augment_atomic(
    kg: KnowledgeGraph, phi_g: float = 3.6, hops: int | Sequence[int] = 2, **options: Any
) -> tuple[KnowledgeGraph, AugmentationPlan]:
    """Algorithm 2, ``graph.augment_atomic()``: the same as :func:`augment`."""
    return augment(kg, phi_g, hops, **options)


def augment_inferred(
    kg: KnowledgeGraph,
    k: int,
    hops: int = 2,
    *,
    seed: int = 0,
    directed: bool = True,
    relations: str | Sequence[str | None] | None = None,
    max_walks: int = 50_000_000,
) -> PathSample:
    """Algorithm 2, ``graph.augment_inferred()``: ``k`` distinct inferred facts with a path.

    Each inferred fact ``(head, r1, ..., rn, tail)`` becomes one training question, shown
    with one of its paths. When the graph's walks can be listed (at most ``max_walks``),
    the ``k`` facts are drawn uniformly among all distinct facts. Otherwise paths are
    sampled uniformly and one is kept per fact, which favours facts with many paths
    (documented bias of the fallback).

    Raises
    ------
    ValueError
        Fewer than ``k`` distinct inferred facts exist (the message says how many).
    """
    import numpy as np

    from kgaug._validate import check_int
    from kgaug.paths import PathSample, enumerate_paths, sample_paths

    k = check_int(k, "k", minimum=0)
    rng = np.random.default_rng(seed)

    def subset(s: PathSample, keep: np.ndarray, draws: int) -> PathSample:
        return PathSample(
            kg,
            s.nodes[keep].copy(),
            s.steps[keep].copy(),
            s.labels,
            directed=s.directed,
            total_paths=s.total_paths,
            draws=draws,
            seed=seed,
        )

    try:
        every = enumerate_paths(kg, hops, relations=relations, directed=directed, limit=max_walks)
    except ValueError as e:
        if "limit" not in str(e):
            raise
        every = None
    if every is not None:
        facts = every.first_per_fact()
        if k > len(facts):
            raise ValueError(
                f"k={k} exceeds the {len(facts)} distinct {hops}-hop inferred facts; lower k "
                "or augment the graph"
            )
        return subset(every, np.sort(rng.choice(facts, size=k, replace=False)), 0)
    draw = max(k, 1)
    while True:
        s = sample_paths(kg, hops, draw, seed, relations=relations, directed=directed, unique=False)
        first = s.first_per_fact()
        if len(first) >= k or draw > 50 * max(k, 1):
            break
        draw *= 2
    if len(first) < k:
        raise ValueError(
            f"found only {len(first)} distinct {hops}-hop inferred facts in {s.draws} walks; "
            "lower k or augment"
        )
    return subset(s, first[:k], s.draws)


def diversify(
    questions: Iterable[Question], *, variants: int = 2, verbalizer: Any = None
) -> list[Question]:
    """Algorithm 2, ``diversify()``: up to ``variants`` phrasings per question.

    Keeps each question and adds up to ``variants - 1`` paraphrases from
    ``verbalizer.paraphrase(question, k)`` (the template verbalizer by default; an LLM
    verbalizer plugs in the same way, and its ``paraphrase_all`` asks for all questions
    concurrently). Answers never change.
    """
    if variants < 1:
        raise ValueError(f"variants must be >= 1, got {variants}")
    if verbalizer is None:
        from kgaug.verbalize import TemplateVerbalizer

        verbalizer = TemplateVerbalizer()
    questions = list(questions)
    if variants == 1 or not hasattr(verbalizer, "paraphrase"):
        return questions
    if hasattr(verbalizer, "paraphrase_all"):  # LLMs: all requests at once
        extra = verbalizer.paraphrase_all(questions, variants - 1)
    else:
        extra = [verbalizer.paraphrase(q, variants - 1) for q in questions]
    out: list[Question] = []
    for q, more in zip(questions, extra):
        out.append(q)
        out += list(more)
    return out

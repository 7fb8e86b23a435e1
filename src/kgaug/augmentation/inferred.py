"""Algorithm 2's last steps: inferred facts from sampled paths, and varied phrasings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kgaug.kg import KnowledgeGraph
    from kgaug.paths import PathSample
    from kgaug.verbalize.base import Question

__all__ = ["augment_inferred", "diversify"]


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

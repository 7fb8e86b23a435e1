"""Comparison augmentation (the paper's Algorithm 1): new entities with attribute values.

The comparison task pairs entities that carry the same attribute relation (``City -country->
Country``) and asks whether they share a value ("Are X and Y located in the same
country?"). Every pair is one inferred fact, so a graph with more entities carrying the
attribute supports quadratically more comparisons. :func:`augment_comparison` adds
fictitious entities (``generate_locations``), each with exactly one value of the attribute,
optionally with a Wikipedia-like paragraph per entity (``detalize_locations``, the paper's
full-text variant, produced by a pluggable hook such as an LLM). Pairing the entities into
questions (``generate_inferred``) is the dataset's job.

Comparison phi
--------------
:func:`comparison_phi` is the *potential* phi of the comparison task on one attribute::

    phi = #ordered pairs (e1, e2), e1 != e2, of entities with the attribute
          / #facts of the attribute

Each ordered pair is one inferred (comparison) fact; for a functional attribute with ``n``
heads this is ``n (n - 1) / n = n - 1``. A dataset samples far fewer pairs (the paper used
8,000 comparisons over 1,000 atomic facts, a dataset phi of 8); the potential phi says how
many it *could* use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from kgaug._validate import check_seed
from kgaug.kg import KnowledgeGraph
from kgaug.names import LabelStyle, NameGenerator
from kgaug.records import Provenance
from kgaug.schema import learn_schema

__all__ = [
    "ComparisonAugmentationLog",
    "ParagraphHook",
    "augment_comparison",
    "comparison_phi",
]

#: ``hook(entity, attribute, value)`` returns a Wikipedia-like paragraph about a new entity.
ParagraphHook = Callable[[str, str, str], str]


class ComparisonAugmentationLog(BaseModel):
    """What :func:`augment_comparison` added.

    Attributes
    ----------
    attribute : str
        The attribute relation.
    entity_type : str or None
        Type given to the new entities.
    values : dict of str to int
        New entities per value (every candidate value, zeros included), in the order used.
    entities_per_value : dict of str to int
        Entities carrying each value after augmentation (existing plus new); values of the
        graph that were not candidates are listed too.
    new_entities : tuple of str
        Names of the new entities, in the order created.
    num_new_entities, num_new_facts : int
        Counts of what was added (one fact per new entity).
    phi_before, phi_after : float
        :func:`comparison_phi` of the attribute before and after.
    balance : bool
        Whether new entities were spread evenly over the values.
    provenance : str
        Provenance of the new facts.
    seed : int
        Random seed used.
    paragraphs : dict of str to str or None
        Paragraph per new entity when a ``paragraph_hook`` was given.
    """

    model_config = ConfigDict(frozen=True)

    attribute: str
    entity_type: str | None
    values: dict[str, int]
    entities_per_value: dict[str, int]
    new_entities: tuple[str, ...]
    num_new_entities: int
    num_new_facts: int
    phi_before: float
    phi_after: float
    balance: bool
    provenance: str
    seed: int
    paragraphs: dict[str, str] | None = None

    def __repr__(self) -> str:
        return (
            f"ComparisonAugmentationLog(attribute={self.attribute!r}, "
            f"new_entities={self.num_new_entities}, new_facts={self.num_new_facts}, "
            f"values={len(self.values)}, phi={self.phi_before:.2f} -> {self.phi_after:.2f}"
            + (f", paragraphs={len(self.paragraphs)}" if self.paragraphs is not None else "")
            + ")"
        )

    def __str__(self) -> str:
        width = max([len("value"), *(len(v) for v in self.entities_per_value)])
        lines = [
            f"comparison augmentation of {self.attribute!r}: {self.num_new_entities} new "
            f"{self.entity_type or 'untyped'} entities, {self.num_new_facts} new "
            f"{self.provenance} facts ({'balanced' if self.balance else 'proportional'}, "
            f"seed {self.seed})",
            f"comparison phi {self.phi_before:.3f} -> {self.phi_after:.3f}",
            f"{'value':<{width}}  {'new':>5}  {'total':>5}",
        ]
        lines += [
            f"{v:<{width}}  {self.values.get(v, 0):>5}  {n:>5}"
            for v, n in self.entities_per_value.items()
        ]
        return "\n".join(lines)


def _attribute_rows(kg: KnowledgeGraph, attribute: object) -> npt.NDArray[np.intp]:
    """Fact rows of an attribute relation (:class:`UnknownLabelError` if there is none)."""
    if not isinstance(attribute, str):
        raise TypeError(f"attribute must be a relation label (str), got {attribute!r}")
    rid = kg.relation_id(attribute)  # UnknownLabelError with close matches
    return np.flatnonzero(kg.relation_ids == rid)


def comparison_phi(kg: KnowledgeGraph, attribute: str) -> float:
    """Potential phi of the comparison task on one attribute relation.

    ``phi = n (n - 1) / |F_{A,attribute}|`` where ``n`` is the number of distinct entities
    with at least one ``attribute`` fact: every ordered pair of two different such entities
    is one comparison (inferred) fact, over the attribute's atomic facts. For a functional
    attribute this is ``n - 1``.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph.
    attribute : str
        Attribute relation label (e.g. ``"country"``).

    Returns
    -------
    float
        ``0.0`` when the attribute has no facts.

    Raises
    ------
    UnknownLabelError
        ``attribute`` is not a relation of ``kg`` (the message lists close matches).

    Examples
    --------
    >>> import kgaug
    >>> kg = kgaug.KnowledgeGraph.from_triples(
    ...     [("Paris", "country", "France"), ("Lyon", "country", "France"),
    ...      ("Rome", "country", "Italy")])
    >>> comparison_phi(kg, "country")
    2.0
    """
    if not isinstance(kg, KnowledgeGraph):
        raise TypeError(f"kg must be a KnowledgeGraph, got {type(kg).__name__}")
    rows = _attribute_rows(kg, attribute)
    if not len(rows):
        return 0.0
    n = len(np.unique(kg.head_ids[rows]))
    return float(n * (n - 1) / len(rows))


def _check_values(values: object) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(f"values must be a sequence of str, got {type(values).__name__}")
    out: list[str] = []
    seen: set[str] = set()
    for i, v in enumerate(values):
        if not isinstance(v, str) or not v.strip():
            raise ValueError(f"values[{i}] must be a non-empty str, got {v!r}")
        if v in seen:
            raise ValueError(f"values[{i}]: duplicate value {v!r}")
        seen.add(v)
        out.append(v)
    if not out:
        raise ValueError("values must not be empty")
    return out


def _balanced(num_new: int, values: list[str], existing: dict[str, int]) -> list[str]:
    """Assign ``num_new`` values evenly; extras go to the values with fewest entities.

    Returned round-robin (v1, v2, ..., v1, v2, ...), so any prefix is balanced too.
    """
    base, extra = divmod(num_new, len(values))
    # the `extra` values with the fewest existing entities get one more (ties: given order)
    order = sorted(range(len(values)), key=lambda i: (existing.get(values[i], 0), i))
    counts = [base] * len(values)
    for i in order[:extra]:
        counts[i] += 1
    out: list[str] = []
    for round_ in range(base + (1 if extra else 0)):
        out += [v for v, c in zip(values, counts) if c > round_]
    return out


def _proportional(
    num_new: int, values: list[str], existing: dict[str, int], rng: np.random.Generator
) -> list[str]:
    """Draw values i.i.d. in proportion to their current entity counts (uniform if none)."""
    weights = np.array([existing.get(v, 0) for v in values], dtype=float)
    if weights.sum() == 0:
        weights[:] = 1.0
    picks = rng.choice(len(values), size=num_new, p=weights / weights.sum())
    return [values[int(i)] for i in picks]


def augment_comparison(
    kg: KnowledgeGraph,
    attribute: str,
    *,
    num_new: int,
    values: Sequence[str] | None = None,
    seed: int = 0,
    entity_type: str | None = None,
    balance: bool = True,
    provenance: Provenance | str = Provenance.SYNTHETIC,
    paragraph_hook: ParagraphHook | None = None,
) -> tuple[KnowledgeGraph, ComparisonAugmentationLog]:
    """Add fictitious entities with one value each of a comparison attribute (Algorithm 1).

    Each new entity gets a generated name shaped like the labels of the attribute's real
    heads (their role, :mod:`kgaug.schema`; never an existing label) and exactly one fact
    ``(new entity, attribute, value)``: a new entity plays the role of the attribute's heads
    and nothing else, and an existing value given in ``values`` must be in a role the
    attribute's real values have (a city is never a country). Real
    facts are untouched; new facts carry ``provenance``. More entities with the attribute
    mean more comparison pairs: :func:`comparison_phi` grows from ``n - 1`` to
    ``n + num_new - 1``.

    Unlike :func:`kgaug.augment`, this runs no OCR risk check (``check_ocr_risk``): a new
    entity with a single fact is the subject of no relation pair, so the association of
    every pair (:func:`kgaug.ocr.risk_report`) is exactly that of ``kg``; only the
    *exposure* of rules whose first relation is ``attribute`` can grow.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph.
    attribute : str
        A functional attribute relation (one value per head), e.g. ``"country"``.
    num_new : int
        Number of new entities (and facts).
    values : sequence of str, optional
        Values to give the new entities. Default: the attribute's existing values, sorted.
        Values that are not yet entities are created, typed like the attribute's tails.
    seed : int
        Random seed for names and (``balance=False``) values: same inputs, same graph.
    entity_type : str, optional
        Type of the new entities. Default: the attribute's learned head type
        (:func:`kgaug.schema.learn_schema`).
    balance : bool
        ``True`` (the paper's "keep the class distribution balanced": an equal number of new
        entities per value): ``num_new // len(values)`` per value, the remainder to the
        values with the fewest entities so far. ``False``: values drawn in proportion to
        their current number of entities (the graph's skew is kept).
    provenance : Provenance or str
        ``"synthetic"`` (default) or ``"counterfactual"``; ``"real"`` is refused.
    paragraph_hook : callable, optional
        ``hook(entity, attribute, value) -> str``: a Wikipedia-like paragraph per new entity
        (the paper's full-text variant, e.g. an LLM call). The paragraphs are returned in
        the log, keyed by entity name.

    Returns
    -------
    KnowledgeGraph
        The augmented graph.
    ComparisonAugmentationLog
        Values and counts used, new entities, comparison phi before and after, paragraphs.

    Raises
    ------
    UnknownLabelError
        ``attribute`` is not a relation of ``kg`` (the message lists close matches).
    ValueError
        ``num_new < 0``; the attribute is not functional; no values (the attribute has no
        facts and ``values`` was not given); bad ``values``; ``provenance="real"``; new
        entities of type ``Date`` (years are shared values, not fictitious entities).
    TypeError
        Arguments of the wrong type, or a paragraph hook that does not return a str.

    Examples
    --------
    >>> import kgaug
    >>> kg = kgaug.KnowledgeGraph.from_triples(
    ...     [("Paris", "country", "France"), ("Rome", "country", "Italy")],
    ...     entity_types={"Paris": "Location", "Rome": "Location",
    ...                   "France": "Location", "Italy": "Location"})
    >>> new, log = augment_comparison(kg, "country", num_new=4, seed=0)
    >>> log.values
    {'France': 2, 'Italy': 2}
    >>> log.phi_before, log.phi_after
    (1.0, 5.0)
    """
    if not isinstance(kg, KnowledgeGraph):
        raise TypeError(f"kg must be a KnowledgeGraph, got {type(kg).__name__}")
    rows = _attribute_rows(kg, attribute)
    if isinstance(num_new, bool) or not isinstance(num_new, (int, np.integer)):
        raise TypeError(f"num_new must be an int, got {type(num_new).__name__} {num_new!r}")
    num_new = int(num_new)
    if num_new < 0:
        raise ValueError(f"num_new must be >= 0, got {num_new}")
    seed = check_seed(seed)
    if not isinstance(balance, bool):
        raise TypeError(f"balance must be True or False, got {balance!r}")
    if entity_type is not None and (not isinstance(entity_type, str) or not entity_type.strip()):
        raise ValueError(f"entity_type must be a non-empty str or None, got {entity_type!r}")
    if paragraph_hook is not None and not callable(paragraph_hook):
        raise TypeError(f"paragraph_hook must be callable, got {type(paragraph_hook).__name__}")
    try:
        prov = Provenance(provenance)
    except ValueError:
        raise ValueError(
            f"provenance must be 'synthetic' or 'counterfactual', got {provenance!r}"
        ) from None
    if prov is Provenance.REAL:
        raise ValueError(
            "provenance='real' is refused: facts about fictitious entities are 'synthetic' "
            "(or 'counterfactual')"
        )

    full = learn_schema(kg)
    schema = full[attribute]
    heads = kg.head_ids[rows]
    tails = kg.tail_ids[rows]
    if not schema.functional:
        uniq, counts = np.unique(heads, return_counts=True)
        worst = int(uniq[int(np.argmax(counts))])
        raise ValueError(
            f"attribute {attribute!r} is not functional: {kg.entities[worst]!r} has "
            f"{int(counts.max())} values; comparison augmentation needs one value per entity"
        )
    existing: dict[str, int] = {}
    for t in tails.tolist():
        label = kg.entities[t]
        existing[label] = existing.get(label, 0) + 1
    if values is None:
        candidates = sorted(existing)
        if not candidates:
            raise ValueError(
                f"attribute {attribute!r} has no facts, so no values to reuse; pass values="
            )
    else:
        candidates = _check_values(values)
        # an existing value must be in a role that the attribute's real values have
        tail_roles = {r.id for r in full.tail_roles(attribute)}
        ids = full.role_ids()
        for v in candidates:
            if kg.has_entity(v) and v not in existing:
                k = int(ids[kg.entity_id(v)])
                if k >= 0 and k not in tail_roles:
                    raise ValueError(
                        f"value {v!r} is a {full.roles[k].name}, not a value of {attribute!r} "
                        f"(its values are {', '.join(full[attribute].tail_roles)})"
                    )
    etype = entity_type if entity_type is not None else schema.head_type
    if etype == "Date":
        raise ValueError(
            "entity_type 'Date': fictitious dates would be years that may already exist; "
            "pass another entity_type="
        )

    rng = np.random.default_rng(int(seed))
    if balance:
        assigned = _balanced(num_new, candidates, existing)
    else:
        assigned = _proportional(num_new, candidates, existing, rng)
    gen = NameGenerator(seed=int(seed), taken=[*kg.entities, *candidates])
    head_roles = full.head_roles(attribute)
    if head_roles and (entity_type is None or entity_type == head_roles[0].type):
        # names shaped like the attribute's real heads (a new city reads like a city)
        ids = full.role_ids()
        members = np.flatnonzero(ids == head_roles[0].id)[:2000]
        style = LabelStyle([kg.entities[i] for i in members.tolist()])
        names = [gen.name_like(style) for _ in range(num_new)]
    else:
        names = gen.names(etype, num_new)

    triples = [(n, attribute, v) for n, v in zip(names, assigned)]
    types: dict[str, str | None] = dict.fromkeys(names, etype)
    if schema.tail_type is not None:
        for v in dict.fromkeys(assigned):
            if not kg.has_entity(v):
                types[v] = schema.tail_type
    new_kg = kg.add_facts(triples, provenance=prov, entity_types=types) if num_new else kg

    paragraphs: dict[str, str] | None = None
    if paragraph_hook is not None:
        paragraphs = {}
        for n, v in zip(names, assigned):
            text = paragraph_hook(n, attribute, v)
            if not isinstance(text, str):
                raise TypeError(
                    f"paragraph_hook must return a str, got {type(text).__name__} for {n!r}"
                )
            paragraphs[n] = text

    per_value = dict.fromkeys(candidates, 0)
    for v in assigned:
        per_value[v] += 1
    totals = dict(existing)
    for v, c in per_value.items():
        totals[v] = totals.get(v, 0) + c
    log = ComparisonAugmentationLog(
        attribute=attribute,
        entity_type=etype,
        values=per_value,
        entities_per_value=dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))),
        new_entities=tuple(names),
        num_new_entities=len(names),
        num_new_facts=len(triples),
        phi_before=comparison_phi(kg, attribute),
        phi_after=comparison_phi(new_kg, attribute),
        balance=balance,
        provenance=prov.value,
        seed=int(seed),
        paragraphs=paragraphs,
    )
    return new_kg, log

"""What the data says about each relation: domain and range types, functionality.

Augmentation must respect these: a synthetic ``director`` fact needs a film-typed head and
a person-typed tail, and a functional relation (one value per head, such as ``date of
birth``) must never get a second, contradicting value.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict

from kgaug.kg import KnowledgeGraph

__all__ = ["RelationSchema", "Schema", "learn_schema"]


class RelationSchema(BaseModel):
    """Learned signature of one relation.

    Attributes
    ----------
    relation : str
        Label.
    head_type, tail_type : str or None
        Most common type of heads / tails (``None``: untyped).
    head_type_share, tail_type_share : float
        Fraction of facts whose head / tail has that type.
    functional : bool
        Every head has at most one value (detected from data).
    inverse_functional : bool
        Every tail has at most one head.
    facts : int
        Number of facts.
    tail_sharing : float
        Facts per distinct tail: about 1 for person-like values (a spouse), larger for
        attribute-like values shared by many heads (a country, a city).
    """

    model_config = ConfigDict(frozen=True)

    relation: str
    head_type: str | None
    tail_type: str | None
    head_type_share: float
    tail_type_share: float
    functional: bool
    inverse_functional: bool
    facts: int
    tail_sharing: float = 1.0


class Schema:
    """Relation signatures of a graph plus the type-level view of which relation can follow which.

    Attributes
    ----------
    relations : dict of str to RelationSchema
        Per relation.
    """

    def __init__(self, relations: Mapping[str, RelationSchema]) -> None:
        self.relations = dict(relations)

    def __getitem__(self, relation: str) -> RelationSchema:
        return self.relations[relation]

    def into(self, type_: str | None) -> list[str]:
        """Relations whose tails have ``type_`` (they can precede a ``type_``-headed one)."""
        return [r for r, s in self.relations.items() if s.facts and s.tail_type == type_]

    def out_of(self, type_: str | None) -> list[str]:
        """Relations whose heads have ``type_``."""
        return [r for r, s in self.relations.items() if s.facts and s.head_type == type_]

    def out_capacity(self, type_: str | None) -> float:
        """Most out-edges one ``type_`` entity can carry.

        Functional relations give one value each; ``inf`` if some relation out of the type
        is not functional.
        """
        rels = self.out_of(type_)
        if any(not self.relations[r].functional for r in rels):
            return float("inf")
        return float(len(rels))

    def __repr__(self) -> str:
        rows = [
            f"  {s.relation}: {s.head_type} -> {s.tail_type}"
            + (" (functional)" if s.functional else "")
            for s in self.relations.values()
        ]
        return "Schema(\n" + "\n".join(rows) + "\n)"


def learn_schema(kg: KnowledgeGraph) -> Schema:
    """Learn every relation's domain/range types and functionality from the facts."""
    R = kg.num_relations
    types = kg.types
    h, r, t = kg.head_ids, kg.relation_ids, kg.tail_ids
    ntypes = len(types) + 1  # last slot: untyped
    codes = np.where(kg.entity_type_codes < 0, ntypes - 1, kg.entity_type_codes).astype(np.int64)

    def majority(ent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Most common type per relation and its share (one bincount for all)."""
        table = np.bincount(r * ntypes + codes[ent], minlength=R * ntypes).reshape(R, ntypes)
        best = table.argmax(axis=1)
        total = table.sum(axis=1)
        share = np.divide(table[np.arange(R), best], total, out=np.zeros(R), where=total > 0)
        return best, share

    head_best, head_share = majority(h)
    tail_best, tail_share = majority(t)
    # values per (head, relation) and heads per (tail, relation)
    hr = h * max(R, 1) + r
    tr = t * max(R, 1) + r
    max_vals = np.zeros(R, dtype=np.int64)
    max_heads = np.zeros(R, dtype=np.int64)
    if len(h):
        u, c = np.unique(hr, return_counts=True)
        np.maximum.at(max_vals, u % R, c)
        u, c = np.unique(tr, return_counts=True)
        np.maximum.at(max_heads, u % R, c)
    facts = np.bincount(r, minlength=R)
    distinct_tails = np.bincount(np.unique(tr) % R, minlength=R) if len(h) else facts

    def label(code: int, count: int) -> str | None:
        return None if count == 0 or code == ntypes - 1 else types[code]

    out: dict[str, RelationSchema] = {}
    for i, rel in enumerate(kg.relations):
        out[rel] = RelationSchema(
            relation=rel,
            head_type=label(int(head_best[i]), int(facts[i])),
            tail_type=label(int(tail_best[i]), int(facts[i])),
            head_type_share=float(head_share[i]),
            tail_type_share=float(tail_share[i]),
            functional=bool(max_vals[i] <= 1),
            inverse_functional=bool(max_heads[i] <= 1),
            facts=int(facts[i]),
            tail_sharing=float(facts[i] / distinct_tails[i]) if distinct_tails[i] else 1.0,
        )
    return Schema(out)

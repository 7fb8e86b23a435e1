"""Typed records that users see: triples, entities and where facts come from.

Inside :class:`~kgaug.KnowledgeGraph` everything is integer arrays; these pydantic models
are the readable face of single records.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Chain",
    "ComparisonFact",
    "Entity",
    "FiveTuple",
    "LoadReport",
    "Provenance",
    "Triple",
]


class Provenance(str, Enum):
    """Where an atomic fact comes from.

    ``real`` facts were loaded from a source; ``synthetic`` facts were generated (for
    example about fictitious new entities); ``counterfactual`` facts deliberately rewire
    existing entities (the paper's "incorrect but helpful" data).
    """

    REAL = "real"
    SYNTHETIC = "synthetic"
    COUNTERFACTUAL = "counterfactual"

    @property
    def code(self) -> int:
        """Small integer used in :attr:`KnowledgeGraph.provenance_codes`."""
        return _PROVENANCE_CODES[self]

    @classmethod
    def from_code(cls, code: int) -> Provenance:
        """Inverse of :attr:`code`."""
        return _PROVENANCE_ORDER[code]


_PROVENANCE_ORDER: tuple[Provenance, ...] = (
    Provenance.REAL,
    Provenance.SYNTHETIC,
    Provenance.COUNTERFACTUAL,
)
_PROVENANCE_CODES = {p: i for i, p in enumerate(_PROVENANCE_ORDER)}


class Triple(BaseModel):
    """One atomic fact ``(head, relation, tail)``."""

    model_config = ConfigDict(frozen=True)

    head: str = Field(min_length=1)
    relation: str = Field(min_length=1)
    tail: str = Field(min_length=1)
    provenance: Provenance = Provenance.REAL

    def as_tuple(self) -> tuple[str, str, str]:
        """Return ``(head, relation, tail)``."""
        return (self.head, self.relation, self.tail)


class Entity(BaseModel):
    """An entity and its type (``None`` when untyped)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    type: str | None = None


class LoadReport(BaseModel):
    """What happened while a knowledge graph was built from a source.

    Attributes
    ----------
    source : str
        File path or a short description of the in-memory input.
    records : int
        Records (lines, rows, edges or triples) read, blank lines excluded.
    duplicates : int
        Records that repeated an already-seen triple and were merged into it.
    self_loops : int
        Distinct facts whose head equals their tail (kept as facts, never extend a path).
    skipped : int
        Records skipped on purpose (blank lines, a header).
    """

    model_config = ConfigDict(frozen=True)

    source: str = "<memory>"
    records: int = 0
    duplicates: int = 0
    self_loops: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return (
            f"{self.source}: {self.records} records, {self.duplicates} duplicates merged, "
            f"{self.self_loops} self-loops, {self.skipped} skipped"
        )


class FiveTuple(BaseModel):
    """A 2-hop path ``obj1 -rel1-> obj2 -rel2-> obj3`` (the paper's five-tuple).

    ``obj2`` is the bridge entity; the inferred fact it supports is
    ``(obj1, rel1, rel2, obj3)``. Types are ``None`` when the entity is untyped.
    """

    model_config = ConfigDict(frozen=True)

    obj1: str
    rel1: str
    obj2: str
    rel2: str
    obj3: str
    obj1_type: str | None = None
    obj2_type: str | None = None
    obj3_type: str | None = None

    @property
    def entities(self) -> tuple[str, str, str]:
        """``(obj1, obj2, obj3)``."""
        return (self.obj1, self.obj2, self.obj3)

    @property
    def relations(self) -> tuple[str, str]:
        """``(rel1, rel2)``."""
        return (self.rel1, self.rel2)

    @property
    def hops(self) -> int:
        """2."""
        return 2

    def as_tuple(self) -> tuple[str, str, str, str, str]:
        """``(obj1, rel1, obj2, rel2, obj3)``."""
        return (self.obj1, self.rel1, self.obj2, self.rel2, self.obj3)


class Chain(BaseModel):
    """An n-hop path ``entities[0] -relations[0]-> entities[1] ... -> entities[n]``.

    The general form of :class:`FiveTuple` for 3- and 4-hop paths.
    """

    model_config = ConfigDict(frozen=True)

    entities: tuple[str, ...]
    relations: tuple[str, ...]
    types: tuple[str | None, ...] = ()

    @property
    def hops(self) -> int:
        """Number of relations."""
        return len(self.relations)

    def as_tuple(self) -> tuple[str, ...]:
        """``(e0, r1, e1, r2, e2, ...)``, alternating entities and relations."""
        out: list[str] = [self.entities[0]]
        for r, e in zip(self.relations, self.entities[1:]):
            out += [r, e]
        return tuple(out)


class ComparisonFact(BaseModel):
    """A comparison of two entities on one attribute relation.

    ``style="same"`` asks whether both have the same value (answer ``"yes"``/``"no"``, the
    2WikiMultiHopQA style); ``style="order"`` compares ordered values (answer ``"<"``,
    ``"="`` or ``">"``, Wang et al.'s style).
    """

    model_config = ConfigDict(frozen=True)

    entity1: str
    entity2: str
    attribute: str
    value1: str
    value2: str
    style: str = "same"
    answer: str

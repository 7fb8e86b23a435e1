"""Typed records that users see: triples, entities and where facts come from.

Inside :class:`~kgaug.KnowledgeGraph` everything is integer arrays; these pydantic models
are the readable face of single records.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Entity", "LoadReport", "Provenance", "Triple"]


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

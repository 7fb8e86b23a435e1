"""kgaug: knowledge-graph augmentation for grokking.

Measure how many multi-hop facts a knowledge graph supports per relation
(``phi_r = inferred / atomic``), whether a transformer can form a generalizing reasoning
circuit on it, and what to add until it can.

>>> import kgaug
>>> kg = kgaug.datasets.load_example()
>>> rep = kgaug.compute_phi(kg, hops=2, phi_g=3.6)
"""

from __future__ import annotations

from kgaug import bounds, datasets, io, paths
from kgaug.errors import KGFormatError, UnknownLabelError
from kgaug.kg import KGSummary, KnowledgeGraph
from kgaug.paths import ChainCounts, PathSample, chain_counts, sample_paths
from kgaug.records import Chain, Entity, FiveTuple, LoadReport, Provenance, Triple
from kgaug.stats import PhiReport, RelationPhi, compute_phi

__version__ = "0.1.0"

__all__ = [
    "Chain",
    "ChainCounts",
    "Entity",
    "FiveTuple",
    "KGFormatError",
    "KGSummary",
    "KnowledgeGraph",
    "LoadReport",
    "PathSample",
    "PhiReport",
    "Provenance",
    "RelationPhi",
    "Triple",
    "UnknownLabelError",
    "__version__",
    "bounds",
    "chain_counts",
    "compute_phi",
    "datasets",
    "io",
    "paths",
    "sample_paths",
]

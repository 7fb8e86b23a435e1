"""kgaug: knowledge-graph augmentation for grokking.

Measure how many multi-hop facts a knowledge graph supports per relation
(``phi_r = inferred / atomic``), whether a transformer can form a generalizing reasoning
circuit on it, and what to add until it can.

>>> import kgaug
>>> kg = kgaug.datasets.load_example()
>>> rep = kgaug.compute_phi(kg, hops=2, phi_g=3.6)
"""

from __future__ import annotations

from kgaug import bounds, dataset, datasets, io, paths
from kgaug.augmentation import (
    AuditReport,
    AugmentationPlan,
    RelationPlan,
    audit,
    augment,
    augment_comparison,
    comparison_phi,
    plan_augmentation,
)
from kgaug.dataset import (
    Dataset,
    DatasetMeta,
    Example,
    build_comparison_dataset,
    build_composition_dataset,
)
from kgaug.errors import AugmentationError, KGFormatError, UnknownLabelError
from kgaug.extraction import ChunkSpec, ExtractionSchema, ParseResult, Resolver, parse_graph
from kgaug.kg import KGSummary, KnowledgeGraph
from kgaug.paths import ChainCounts, PathSample, chain_counts, enumerate_paths, sample_paths
from kgaug.records import Chain, Entity, FiveTuple, LoadReport, Provenance, Triple
from kgaug.schema import Role, Schema, learn_schema
from kgaug.stats import PhiReport, RelationPhi, compute_phi

__version__ = "0.1.0"

__all__ = [
    "AuditReport",
    "AugmentationError",
    "AugmentationPlan",
    "Chain",
    "ChainCounts",
    "ChunkSpec",
    "Dataset",
    "DatasetMeta",
    "Entity",
    "Example",
    "ExtractionSchema",
    "FiveTuple",
    "KGFormatError",
    "KGSummary",
    "KnowledgeGraph",
    "LoadReport",
    "ParseResult",
    "PathSample",
    "PhiReport",
    "Provenance",
    "RelationPhi",
    "RelationPlan",
    "Resolver",
    "Role",
    "Schema",
    "Triple",
    "UnknownLabelError",
    "__version__",
    "audit",
    "augment",
    "augment_comparison",
    "bounds",
    "build_comparison_dataset",
    "build_composition_dataset",
    "chain_counts",
    "comparison_phi",
    "compute_phi",
    "dataset",
    "datasets",
    "enumerate_paths",
    "io",
    "learn_schema",
    "parse_graph",
    "paths",
    "plan_augmentation",
    "sample_paths",
]

"""The in-memory backend: the sparse kernels of :mod:`kgaug._counting`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kgaug.backends import BackendCounts, FileSource
from kgaug.kg import KnowledgeGraph
from kgaug.paths import chain_counts

__all__ = ["NumpyBackend", "read_source"]


def read_source(source: FileSource) -> KnowledgeGraph:
    """Read a :class:`FileSource` into memory with kgaug's own readers."""
    if any(c in source.path for c in "*?["):
        raise ValueError(
            f"the numpy backend reads one file, not a glob ({source.path}); use "
            "backend='duckdb' or 'spark' for a set of files"
        )
    h, r, t = source.columns
    if source.format == "tsv":
        return KnowledgeGraph.from_tsv(source.path, header=source.header)
    if source.format == "csv":
        return KnowledgeGraph.from_csv(source.path, head=h, relation=r, tail=t)
    return KnowledgeGraph.from_parquet(source.path, head=h, relation=r, tail=t)


class NumpyBackend:
    """Count in memory (the default backend).

    Parameters
    ----------
    progress : bool, optional
        Progress bar on long counts (``None``: tqdm decides).
    """

    name = "numpy"

    def __init__(self, *, progress: bool | None = None) -> None:
        self.progress = progress

    def __repr__(self) -> str:
        return f"NumpyBackend(progress={self.progress!r})"

    def count(
        self,
        source: KnowledgeGraph | FileSource,
        hops: Sequence[int],
        count: str,
        directed: bool,
    ) -> BackendCounts:
        """Exact chain counts of ``source`` (a file is read into memory first)."""
        kg = source if isinstance(source, KnowledgeGraph) else read_source(source)
        chains = {
            n: chain_counts(kg, n, count=count, directed=directed, progress=self.progress)  # type: ignore[arg-type]
            for n in hops
        }
        atomic = np.bincount(kg.relation_ids, minlength=kg.num_relations).astype(np.int64)
        return BackendCounts(kg.relations, atomic, kg.num_entities, kg.num_facts, chains)

"""PyKEEN interop (needs ``pykeen``: ``pip install 'kgaug[pykeen]'``).

:func:`from_pykeen` turns a ``TriplesFactory`` into a :class:`KnowledgeGraph` (the same
ids and labels), :func:`to_pykeen` goes back, and :func:`load_pykeen` loads the datasets
that ship inside PyKEEN's wheel by name. Nothing is downloaded: datasets PyKEEN would
fetch from the web are refused with what to do instead.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from kgaug.kg import KnowledgeGraph

__all__ = ["BUNDLED", "from_pykeen", "load_pykeen", "to_pykeen"]

#: PyKEEN datasets whose files ship inside its wheel (no download): name -> class name.
BUNDLED = {"nations": "Nations", "kinships": "Kinships", "umls": "UMLS"}
Split = Literal["all", "training", "validation", "testing"]


def _pykeen() -> Any:
    try:
        import pykeen.datasets
        import pykeen.triples
    except ImportError:
        raise ModuleNotFoundError(
            "PyKEEN interop needs pykeen: pip install 'kgaug[pykeen]'", name="pykeen"
        ) from None
    return pykeen


def from_pykeen(triples_factory: Any, *, source: str | None = None) -> KnowledgeGraph:
    """A graph with the facts, entity labels and relation labels of a ``TriplesFactory``.

    Entity and relation ids are PyKEEN's (``entity_to_id``, ``relation_to_id``), so
    arrays indexed by either library's ids line up. Inverse triples that PyKEEN adds for
    training (``create_inverse_triples=True``) are not facts and are not read; count
    undirected (``directed=False``) for the same effect.

    Raises
    ------
    TypeError
        The object is not a PyKEEN ``TriplesFactory``.
    """
    if not all(hasattr(triples_factory, a) for a in ("mapped_triples", "entity_to_id")):
        raise TypeError(f"expected a pykeen TriplesFactory, got {type(triples_factory).__name__}")
    source = source or f"<pykeen {type(triples_factory).__name__}>"
    return _graph([triples_factory], triples_factory, source)


def _graph(parts: list[Any], labels: Any, source: str) -> KnowledgeGraph:
    """The facts of the factories ``parts``, labelled by ``labels``' id mappings."""
    mapped = np.concatenate([p.mapped_triples.cpu().numpy() for p in parts]).astype(np.int64)
    return KnowledgeGraph.from_arrays(
        mapped[:, 0],
        mapped[:, 1],
        mapped[:, 2],
        entities=_labels(labels.entity_to_id, "entity"),
        relations=_labels(labels.relation_to_id, "relation"),
        source=source,
    )


def _labels(to_id: Any, what: str) -> list[str]:
    labels = [""] * len(to_id)
    for label, i in to_id.items():
        labels[int(i)] = str(label)
    if not all(labels):
        raise ValueError(f"the {what} ids of the TriplesFactory are not 0..{len(labels) - 1}")
    return labels


def to_pykeen(kg: KnowledgeGraph, *, create_inverse_triples: bool = False) -> Any:
    """A PyKEEN ``TriplesFactory`` with the graph's facts (kgaug's ids become PyKEEN's).

    Types and provenance have no place in a ``TriplesFactory`` and are dropped; the
    relations without facts are kept (PyKEEN allows them).
    """
    pykeen = _pykeen()
    import torch

    mapped = np.stack([kg.head_ids, kg.relation_ids, kg.tail_ids], axis=1).astype(np.int64)
    return pykeen.triples.TriplesFactory(
        mapped_triples=torch.from_numpy(mapped),
        entity_to_id={e: i for i, e in enumerate(kg.entities)},
        relation_to_id={r: i for i, r in enumerate(kg.relations)},
        create_inverse_triples=create_inverse_triples,
    )


def load_pykeen(name: str, *, split: Split = "all") -> KnowledgeGraph:
    """A PyKEEN dataset that ships inside its wheel (Nations, Kinships, UMLS), by name.

    Parameters
    ----------
    name : {"nations", "kinships", "umls"}
        Case-insensitive.
    split : {"all", "training", "validation", "testing"}
        ``"all"`` (default) is the whole graph: the three splits' facts together.

    Raises
    ------
    ValueError
        Another name (PyKEEN would download it; load it with PyKEEN and pass its
        ``TriplesFactory`` to :meth:`KnowledgeGraph.from_pykeen`), or an unknown split.
    ModuleNotFoundError
        PyKEEN is not installed (the message says how to install it).
    """
    key = str(name).lower()
    if key not in BUNDLED:
        raise ValueError(
            f"kgaug loads only the PyKEEN datasets that ship inside its wheel "
            f"({', '.join(BUNDLED)}), not {name!r}, which PyKEEN would download; load it "
            "with pykeen.datasets.get_dataset and pass dataset.training to "
            "KnowledgeGraph.from_pykeen"
        )
    if split not in ("all", "training", "validation", "testing"):
        raise ValueError(f"split must be all, training, validation or testing, got {split!r}")
    pykeen = _pykeen()
    dataset = getattr(pykeen.datasets, BUNDLED[key])()
    source = f"<pykeen {BUNDLED[key]} {split}>"
    if split != "all":
        return from_pykeen(getattr(dataset, split), source=source)
    # the splits share the training factory's id mappings
    parts = [dataset.training, dataset.validation, dataset.testing]
    return _graph(parts, dataset.training, source)

"""The bundled example knowledge graph."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from kgaug.kg import KnowledgeGraph

__all__ = ["example_path", "load_example"]


def example_path() -> Path:
    """Path of the bundled example KG (typed JSON lines, see :func:`kgaug.io.read_jsonl`)."""
    return Path(str(resources.files("kgaug.datasets").joinpath("data/example_kg.jsonl")))


def load_example() -> KnowledgeGraph:
    """Load the bundled example KG.

    694 true, typed facts in the 2WikiMultiHopQA style about 88 films, 21 books they are
    based on, and the people around them: ``director``, ``publication date``, ``cast
    member``, ``based on``, ``author``, ``date of birth`` (years), ``place of birth``,
    ``country`` (city to country), ``country of citizenship``, ``spouse``, ``father``,
    ``mother``, ``child`` and ``sibling``. Entity types are Person, Location, Object
    (films and books) and Date.

    Like the real KGs of the paper it is sparse: at ``phi_G = 3.6`` (2-hop facts, directed)
    several relations fail, which is what :func:`kgaug.compute_phi` is for.

    Examples
    --------
    >>> from kgaug.datasets import load_example
    >>> kg = load_example()
    >>> kg.num_facts
    694
    """
    kg = KnowledgeGraph.from_jsonl(example_path())
    return kg

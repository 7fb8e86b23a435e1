"""Bundled and synthetic knowledge graphs.

- :func:`load_example`: a small real-world KG in the 2WikiMultiHopQA style (films,
  directors, spouses, parents, birthplaces, birth years, countries), written from public
  knowledge; sparse enough that several relations fail ``phi_G = 3.6``.
- :func:`powerlaw_kg`: seeded synthetic multi-relational KGs with power-law degrees, for
  benchmarks and scale tests.
- :func:`random_kg`: uniformly random KGs (the model of the paper's Lemma 1).
- :func:`wang_composition` / :func:`wang_comparison`: the synthetic KGs of Wang et al.
  (2024), the known-good setting to compare a real KG against.
- :func:`load_pykeen`: the PyKEEN datasets that ship inside its wheel (Nations,
  Kinships, UMLS; needs ``kgaug[pykeen]``).
"""

from __future__ import annotations

from kgaug._pykeen import load_pykeen
from kgaug.datasets._example import example_path, load_example
from kgaug.datasets._synthetic import powerlaw_kg, random_kg
from kgaug.datasets._wang import wang_comparison, wang_composition

__all__ = [
    "example_path",
    "load_example",
    "load_pykeen",
    "powerlaw_kg",
    "random_kg",
    "wang_comparison",
    "wang_composition",
]

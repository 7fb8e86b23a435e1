"""Loading trained models back, and Wang et al.'s synthetic datasets in one call."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from kgaug.dataset import (
    ComparisonFormat,
    Dataset,
    build_comparison_dataset,
    build_composition_dataset,
)
from kgaug.datasets import wang_comparison, wang_composition
from kgaug.train.encoding import BPEEncoder, SymbolicEncoder, load_encoder

__all__ = ["load_model", "quiet_transformers", "wang_dataset"]


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """No ``transformers`` progress bars (weights written or loaded) inside the block."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]


def load_model(path: str | os.PathLike[str]) -> tuple[Any, SymbolicEncoder | BPEEncoder]:
    """A trained model and its tokenizer from a ``model/`` folder or a checkpoint folder.

    Parameters
    ----------
    path : path
        ``OUT/model`` (``save_pretrained`` output) written by :func:`kgaug.train.train`.

    Returns
    -------
    (transformers.GPT2LMHeadModel, encoder)
        The model in eval mode, and the tokenizer that maps examples to its ids.
    """
    from transformers import GPT2LMHeadModel

    p = Path(path)
    if not (p / "config.json").is_file():
        raise FileNotFoundError(f"{p}: no config.json; pass the model/ folder of a training run")
    with quiet_transformers():
        model = GPT2LMHeadModel.from_pretrained(p, local_files_only=True)
    model.eval()  # type: ignore[no-untyped-call]
    return model, load_encoder(p)


def wang_dataset(
    task: Literal["comparison", "composition"] = "comparison",
    *,
    num_entities: int | None = None,
    num_attributes: int = 20,
    num_values: int = 20,
    num_relations: int = 200,
    facts_per_entity: int = 20,
    phi: float = 7.2,
    seed: int = 0,
    max_test: int | None = 3000,
    format: ComparisonFormat = "attribute_first",
    balance: bool = False,
    both_orders: bool = True,
    ood_fraction: float | None = None,
    test_id_fraction: float | None = None,
) -> Dataset:
    """Wang et al.'s synthetic ID/OOD dataset, generated and split in one call.

    Comparison: :func:`kgaug.datasets.wang_comparison` (default 1,000 entities, 20
    attributes, 20 values) with ``<``/``=``/``>`` answers, 10% of each attribute's
    entities OOD, 10% of ID pairs test, and the natural answer distribution (about 5% "=" at
    20 values), as in Wang et al.'s notebook. Composition:
    :func:`kgaug.datasets.wang_composition` (default 2,000 entities, 200 relations, 20 facts
    per entity), 2-hop queries, 5% OOD atomic facts and 0.5% of ID queries as test (Wang
    et al.'s split: their phi = 18 needs it). The remaining differences to their code are
    listed in the training docs.

    Parameters
    ----------
    task : {"comparison", "composition"}
        Which task.
    num_entities : int, optional
        Default 1,000 (comparison) or 2,000 (composition).
    num_attributes, num_values : int
        Comparison graph.
    num_relations, facts_per_entity : int
        Composition graph.
    phi : float
        Dataset phi (inferred training examples per ID atomic fact).
    seed : int
        Seed of the graph and of the split.
    max_test : int or None
        Cap on each test split (evaluation subsets are drawn from these).
    format : {"attribute_first", "entity_first", "compact", "wang"}
        Comparison token layout (:func:`kgaug.dataset.comparison_tokens`,
        :func:`kgaug.dataset.atomic_tokens`). Default ``"attribute_first"``: comparisons
        ``<attr> <e1> <e2>`` and atomic facts ``<attr> <entity>``, so an atomic fact's
        input is a prefix of a comparison's and the first entity's value is read where the
        atomic fact taught it; under it the ``cpu-small`` preset generalizes OOD within
        minutes (the ``"compact"`` layout, atomic ``<entity> <attr>``, stays near 0.8 OOD).
        ``"wang"`` is their ``<attr> <q> <e1> <mask> <e2>`` with per-attribute answer
        tokens and atomic ``<entity> <attr>``.
    balance : bool
        Comparison: balance the training answers (default ``False``: natural, as Wang).
    both_orders : bool
        Comparison: both orders of every chosen pair train (``True``), or ordered examples
        are drawn independently as in Wang et al.'s notebook (``False``).
    ood_fraction, test_id_fraction : float, optional
        Override the split (defaults above).

    Returns
    -------
    Dataset
    """
    if task == "comparison":
        kg = wang_comparison(num_entities or 1000, num_attributes, num_values, seed=seed)
        return build_comparison_dataset(
            kg,
            phi=phi,
            style="order",
            seed=seed,
            max_test=max_test,
            format=format,
            balance=balance,
            both_orders=both_orders,
            ood_fraction=0.1 if ood_fraction is None else ood_fraction,
            test_id_fraction=0.1 if test_id_fraction is None else test_id_fraction,
        )
    if task == "composition":
        kg = wang_composition(num_entities or 2000, num_relations, facts_per_entity, seed=seed)
        return build_composition_dataset(
            kg,
            phi=phi,
            hops=2,
            seed=seed,
            max_test=max_test,
            ood_fraction=0.05 if ood_fraction is None else ood_fraction,
            test_id_fraction=0.005 if test_id_fraction is None else test_id_fraction,
        )
    raise ValueError(f"task must be 'comparison' or 'composition', got {task!r}")

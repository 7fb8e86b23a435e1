"""The grokking trainer (``pip install "kgaug[train]"``): GPT-2 from scratch on ID/OOD data.

Importing this package imports neither torch nor transformers; :func:`train` does.

>>> from kgaug.train import TrainConfig
>>> TrainConfig.preset("paper").lr
5e-05
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kgaug.train.config import PRESETS, TrainConfig, preset
from kgaug.train.result import TrainResult

if TYPE_CHECKING:
    from kgaug.train.analysis import (
        AnalysisError,
        causal_tracing,
        load_checkpoint_model,
        logit_lens,
    )
    from kgaug.train.encoding import MissingTokenError
    from kgaug.train.loop import TrainError, train
    from kgaug.train.model import load_model, wang_dataset
    from kgaug.train.sweeps import SweepError, SweepResult, sweep

__all__ = [
    "PRESETS",
    "AnalysisError",
    "MissingTokenError",
    "SweepError",
    "SweepResult",
    "TrainConfig",
    "TrainError",
    "TrainResult",
    "causal_tracing",
    "load_checkpoint_model",
    "load_model",
    "logit_lens",
    "preset",
    "sweep",
    "train",
    "wang_dataset",
]

_LAZY = {
    "train": "kgaug.train.loop",
    "TrainError": "kgaug.train.loop",
    "MissingTokenError": "kgaug.train.encoding",
    "load_model": "kgaug.train.model",
    "wang_dataset": "kgaug.train.model",
    "sweep": "kgaug.train.sweeps",
    "SweepError": "kgaug.train.sweeps",
    "SweepResult": "kgaug.train.sweeps",
    "logit_lens": "kgaug.train.analysis",
    "causal_tracing": "kgaug.train.analysis",
    "load_checkpoint_model": "kgaug.train.analysis",
    "AnalysisError": "kgaug.train.analysis",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kgaug.train' has no attribute {name!r}")

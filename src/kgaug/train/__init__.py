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
    from kgaug.train.encoding import MissingTokenError
    from kgaug.train.loop import TrainError, train
    from kgaug.train.model import load_model, wang_dataset

__all__ = [
    "PRESETS",
    "MissingTokenError",
    "TrainConfig",
    "TrainError",
    "TrainResult",
    "load_model",
    "preset",
    "train",
    "wang_dataset",
]

_LAZY = {
    "train": "kgaug.train.loop",
    "TrainError": "kgaug.train.loop",
    "MissingTokenError": "kgaug.train.encoding",
    "load_model": "kgaug.train.model",
    "wang_dataset": "kgaug.train.model",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kgaug.train' has no attribute {name!r}")

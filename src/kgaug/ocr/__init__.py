"""Out-of-context reasoning (OCR): why augmented facts are learned as implications.

After "Generalization or Hallucination?", the OCR paper.

Two parts:

- **The experiment** (needs ``pip install "kgaug[train]"``): the symbolic OCR task
  (:func:`make_task`) and one-layer, one-head, attention-only linear transformers trained
  on it (:func:`run_experiment`, :func:`reproduce`). The factorized model ``W_O W_V^T``
  infers the implications of subjects it only saw facts about; the non-factorized
  ``W_OV`` cannot (its test loss stays at or above ``log |A2|``).
- **The risk report** (core dependencies only): :func:`risk_report` measures, for every
  pair of relations that share subjects, how strongly the first relation's answer
  determines the second's — the associations a model fine-tuned on the graph will learn
  and extend to other subjects (generalization if causal, hallucination if not).
  :func:`compare_risk` / :func:`check_augmentation` say which associations augmentation
  created; :func:`kgaug.augment` warns with :class:`~kgaug.errors.OCRRiskWarning`.

Importing this package does not import torch.

>>> from kgaug.ocr import OCRConfig
>>> OCRConfig().vocab_size
128
"""

from __future__ import annotations

from kgaug.ocr.experiment import reproduce, run_experiment
from kgaug.ocr.result import METRICS, OCRResult, plot_curves, summary_table
from kgaug.ocr.risk import (
    PairRisk,
    PairRiskChange,
    RiskComparison,
    RiskReport,
    check_augmentation,
    compare_risk,
    risk_report,
    warn_ocr_risk,
)
from kgaug.ocr.task import OCRConfig, OCRTask, make_task

__all__ = [
    "METRICS",
    "OCRConfig",
    "OCRResult",
    "OCRTask",
    "PairRisk",
    "PairRiskChange",
    "RiskComparison",
    "RiskReport",
    "check_augmentation",
    "compare_risk",
    "make_task",
    "plot_curves",
    "reproduce",
    "risk_report",
    "run_experiment",
    "summary_table",
    "warn_ocr_risk",
]

"""What a training run returns: curves, final accuracies, speed, and the model."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgaug._table import html_table, text_table
from kgaug.train.config import TrainConfig

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["EVAL_SPLITS", "TrainResult"]

#: Evaluated splits, in display order.
EVAL_SPLITS = ("atomic", "atomic_id", "atomic_ood", "train_inferred", "test_id", "test_ood")


@dataclass
class TrainResult:
    """Curves and final numbers of a :func:`kgaug.train.train` run.

    Attributes
    ----------
    config : TrainConfig
        The configuration.
    history : list of dict
        One record per evaluation (the lines of ``metrics.jsonl``): ``step``, ``epoch``,
        ``lr``, ``train_loss`` (mean since the previous record), ``acc_<split>`` and
        ``loss_<split>`` for ``atomic`` (all atomic facts), ``atomic_id`` / ``atomic_ood``
        (the atomic facts of ID and of OOD entities or facts, as Wang et al. report them),
        ``train_inferred``, ``test_id``, ``test_ood``, ``elapsed_s``, ``steps_per_s``.
    steps : int
        Optimizer steps done in total (including those before a resume).
    start_step : int
        The step this call started from (0, or the checkpoint's step).
    wall_time_s : float
        Time of the whole call (data, model, loop, saving).
    loop_time_s : float
        Time of the training loop alone (evaluations included).
    steps_per_s : float
        Steps of this call per second of loop time.
    stop_reason : {"max_steps", "stop_at_ood"}
        Why training stopped.
    device : str
        Where it ran.
    threads : int or None
        CPU threads of torch (``None`` on CUDA).
    num_parameters : int
        Trainable parameters.
    dataset_phi : float
        The dataset's phi (inferred training examples per ID atomic fact).
    split_sizes : dict of str to int
        Examples in each evaluated split of the dataset.
    eval_sizes : dict of str to int
        Examples each accuracy is measured on: the whole split, or a fixed random subset
        of ``config.eval_max`` (a split of 20 examples moves in steps of 0.05).
    out, model_dir : Path or None
        Output folder and the ``save_pretrained`` folder.
    model : transformers.GPT2LMHeadModel or None
        The trained model.
    encoder : object or None
        The tokenizer that maps examples to ids.
    """

    config: TrainConfig
    history: list[dict[str, Any]]
    steps: int
    start_step: int = 0
    wall_time_s: float = math.nan
    loop_time_s: float = math.nan
    steps_per_s: float = math.nan
    stop_reason: str = "max_steps"
    device: str = "cpu"
    threads: int | None = None
    num_parameters: int = 0
    dataset_phi: float = math.nan
    split_sizes: dict[str, int] = field(default_factory=dict)
    eval_sizes: dict[str, int] = field(default_factory=dict)
    out: Path | None = None
    model_dir: Path | None = None
    model: Any = field(default=None, repr=False)
    encoder: Any = field(default=None, repr=False)

    # ------------------------------------------------------------------ numbers
    @property
    def final(self) -> dict[str, float]:
        """Accuracies of the last evaluation: ``{"atomic", "train_inferred", ...}``."""
        if not self.history:
            return {}
        last = self.history[-1]
        return {k: last[f"acc_{k}"] for k in EVAL_SPLITS if f"acc_{k}" in last}

    @property
    def best_ood(self) -> float:
        """Highest OOD accuracy seen."""
        vals = [r["acc_test_ood"] for r in self.history if "acc_test_ood" in r]
        return max(vals) if vals else math.nan

    def steps_to(self, split: str, accuracy: float) -> int | None:
        """First evaluated step at which ``split`` reached ``accuracy`` (``None``: never)."""
        for r in self.history:
            if r.get(f"acc_{split}", -1.0) >= accuracy:
                return int(r["step"])
        return None

    @property
    def curves(self) -> dict[str, list[float]]:
        """Column view of :attr:`history` (``{"step": [...], "acc_test_ood": [...], ...}``)."""
        keys: list[str] = []
        for r in self.history:
            keys.extend(k for k in r if k not in keys)
        return {k: [r.get(k, math.nan) for r in self.history] for k in keys}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (configuration, final accuracies, speed, history)."""
        return {
            "config": self.config.model_dump(mode="json"),
            "steps": self.steps,
            "start_step": self.start_step,
            "final": self.final,
            "best_ood": self.best_ood,
            "wall_time_s": self.wall_time_s,
            "loop_time_s": self.loop_time_s,
            "steps_per_s": self.steps_per_s,
            "stop_reason": self.stop_reason,
            "device": self.device,
            "num_parameters": self.num_parameters,
            "dataset_phi": self.dataset_phi,
            "split_sizes": self.split_sizes,
            "eval_sizes": self.eval_sizes,
            "history": self.history,
        }

    def to_pandas(self) -> Any:
        """The history as a ``pandas.DataFrame``."""
        import pandas as pd

        return pd.DataFrame(self.history)

    @staticmethod
    def read_metrics(path: str | Path) -> list[dict[str, Any]]:
        """Records of a ``metrics.jsonl`` file (a torn last line is ignored)."""
        p = Path(path)
        if not p.is_file():
            return []
        out = []
        lines = p.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                if i == len(lines) - 1:
                    break  # torn by a crash
                raise ValueError(f"{p}, line {i + 1}: not JSON") from None
        return out

    # ------------------------------------------------------------------ display
    def plot(
        self,
        ax: Axes | None = None,
        *,
        title: str | None = None,
        baseline: float | None = None,
        baseline_label: str = "majority class",
    ) -> Figure:
        """Accuracy curves per split against steps, with markers (needs matplotlib).

        See :func:`kgaug.plot.plot_training`; ``baseline`` draws a reference accuracy
        (e.g. the majority-class rate of the test answers) as a labelled line.

        Returns
        -------
        matplotlib.figure.Figure
            The new figure, or the figure of ``ax``: ``result.plot().savefig("c.png")``.
        """
        from kgaug.plot import plot_training

        return plot_training(
            self.history,
            ax=ax,
            title=title or self._title(),
            baseline=baseline,
            baseline_label=baseline_label,
        )

    def _title(self) -> str:
        return f"{self.config.n_layer}-layer GPT-2, dataset phi = {self.dataset_phi:.2f}"

    def _rows(self) -> tuple[list[str], list[list[str]]]:
        cols = ["split", "examples", "accuracy", "first step >= 0.9"]
        rows = []
        for k, v in self.final.items():
            s = self.steps_to(k, 0.9)
            rows.append([k, self._size(k), f"{v:.3f}", "-" if s is None else str(s)])
        return cols, rows

    def _size(self, split: str) -> str:
        """``"1,000"``, or ``"2,000 of 8,000"`` when a subset is evaluated."""
        n, of = self.eval_sizes.get(split), self.split_sizes.get(split)
        if n is None:
            return "-"
        return f"{n:,}" if of is None or of == n else f"{n:,} of {of:,}"

    def _header(self) -> str:
        return (
            f"TrainResult({self.steps} steps on {self.device}, {self.num_parameters:,} "
            f"parameters, {self.steps_per_s:.1f} steps/s, {self.wall_time_s:.1f} s, "
            f"stopped by {self.stop_reason}, dataset phi={self.dataset_phi:.2f})"
        )

    def __repr__(self) -> str:
        cols, rows = self._rows()
        return self._header() + "\n" + text_table(cols, rows)

    def _repr_html_(self) -> str:
        cols, rows = self._rows()
        return f"<p>{self._header()}</p>" + html_table(cols, rows)

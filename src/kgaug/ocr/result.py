"""What an OCR run measured: final metrics, curves over steps, plots (no torch needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, PrivateAttr

from kgaug._table import html_table, text_table
from kgaug.ocr.task import OCRConfig

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["METRICS", "OCRResult", "plot_curves", "summary_table"]

#: Curves every run logs, in display order, with their labels.
METRICS: dict[str, str] = {
    "train_loss": "train loss",
    "test_loss": "test loss",
    "train_accuracy": "train accuracy",
    "test_accuracy": "test accuracy",
    "mean_rank": "mean rank (A2)",
    "margin": "train margin",
    "nuclear_norm": "nuclear norm",
    "frobenius_norm": "Frobenius norm",
    "nuclear_norm_normalized": "nuclear / margin",
    "frobenius_norm_normalized": "Frobenius / margin",
}


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'kgaug[plot]'") from None
    return plt


def _fmt(x: float) -> str:
    if math.isnan(x):
        return "n/a"
    if x != 0 and (abs(x) >= 1e4 or abs(x) < 1e-3):
        return f"{x:.3e}"
    return f"{x:.4f}"


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else x


class OCRResult(BaseModel):
    """Result of :func:`kgaug.ocr.run_experiment`.

    The final values are attributes (``result.test_loss``); every metric's curve over the
    logged steps is in :attr:`curves` (``result.curves["test_loss"]``, aligned with
    :attr:`steps`).

    Attributes
    ----------
    config : OCRConfig
        What was run.
    steps : list of int
        Logged steps (0 = before training; the last one is ``config.steps``).
    curves : dict of str to list of float
        Per metric (see :data:`METRICS`) its value at each logged step; ``nan`` where it is
        undefined (the normalized norms while the training margin is not positive).
    wall_time : float
        Seconds spent training (metrics included).
    tokens : tuple of str
        Vocabulary labels (rows and columns of :meth:`w_ov`).

    Notes
    -----
    Metrics: the losses are the mean cross-entropy over the loss's candidates (the answers
    ``A`` by default); the accuracies are top-1 over the same candidates (ties count
    against); ``mean_rank`` is the rank of the true implication among ``A2`` (1 = best,
    tied logits share the mid-rank, chance is ``(n + 1) / 2``); the norms are those of the
    product ``W_O W_V^T`` (or ``W_OV``); ``margin`` is the smallest training margin
    ``f(a*) - max_{a' in A, a' != a*} f(a')`` over the training sequences, always over the
    answers ``A`` (the paper's eq. 1), also with ``loss_over="vocab"``.
    """

    model_config = ConfigDict(frozen=True)

    config: OCRConfig
    steps: list[int]
    curves: dict[str, list[float]]
    wall_time: float
    tokens: tuple[str, ...]

    _w_ov: npt.NDArray[np.float64] | None = PrivateAttr(default=None)
    _w_kq: npt.NDArray[np.float64] | None = PrivateAttr(default=None)

    # ------------------------------------------------------------------ final values
    def _final(self, key: str) -> float:
        return float(self.curves[key][-1])

    @property
    def train_loss(self) -> float:
        """Final training loss."""
        return self._final("train_loss")

    @property
    def test_loss(self) -> float:
        """Final test loss (implications of the test subjects)."""
        return self._final("test_loss")

    @property
    def train_accuracy(self) -> float:
        """Final training accuracy."""
        return self._final("train_accuracy")

    @property
    def test_accuracy(self) -> float:
        """Final test accuracy (top-1 over the loss's candidates)."""
        return self._final("test_accuracy")

    @property
    def mean_rank(self) -> float:
        """Final mean rank of the true implication among ``A2`` (1 is perfect)."""
        return self._final("mean_rank")

    @property
    def margin(self) -> float:
        """Final smallest training margin."""
        return self._final("margin")

    @property
    def nuclear_norm(self) -> float:
        """Final nuclear norm of ``W_O W_V^T`` (or ``W_OV``)."""
        return self._final("nuclear_norm")

    @property
    def frobenius_norm(self) -> float:
        """Final Frobenius norm of ``W_O W_V^T`` (or ``W_OV``)."""
        return self._final("frobenius_norm")

    @property
    def nuclear_norm_normalized(self) -> float:
        """Final nuclear norm divided by the training margin (``nan`` if it is not > 0)."""
        return self._final("nuclear_norm_normalized")

    @property
    def frobenius_norm_normalized(self) -> float:
        """Final Frobenius norm divided by the training margin (``nan`` if it is not > 0)."""
        return self._final("frobenius_norm_normalized")

    @property
    def chance_test_loss(self) -> float:
        """``log |A2|``: Theorem 2's lower bound on the non-factorized test loss."""
        return math.log(self.config.n)

    @property
    def chance_mean_rank(self) -> float:
        """Mean rank of a random guess among ``A2``: ``(n + 1) / 2``."""
        return (self.config.n + 1) / 2

    @property
    def label(self) -> str:
        """Short name of the model, e.g. ``"factorized d_h=128"``."""
        c = self.config
        name = f"factorized d_h={c.d_h}" if c.parameterization == "factorized" else "non-factorized"
        return name if c.train_kq else name + " (W_KQ frozen)"

    @property
    def final(self) -> dict[str, float]:
        """Every metric's final value."""
        return {k: self._final(k) for k in self.curves}

    def w_ov(self) -> npt.NDArray[np.float64]:
        """The learned ``W_O W_V^T`` (or ``W_OV``), shape ``(d, d)``; rows are outputs.

        Rows and columns follow :attr:`tokens`; ``w_ov()[c, s]`` is the weight from subject
        ``s`` to implication ``c`` (the "test implication" block of the paper's Fig. 3 is
        ``c`` x test subjects). Not kept by :meth:`to_dict`.
        """
        if self._w_ov is None:
            raise ValueError("this result carries no weights (it was rebuilt from a dict)")
        return self._w_ov

    def w_kq(self) -> npt.NDArray[np.float64]:
        """The learned attention weights ``W_KQ(z) = e_z^T W_KQ e_<EOS>``, shape ``(d,)``."""
        if self._w_kq is None:
            raise ValueError("this result carries no weights (it was rebuilt from a dict)")
        return self._w_kq

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serializable; ``nan`` becomes ``None``)."""
        return {
            "label": self.label,
            "config": self.config.model_dump(),
            "final": {k: _clean(v) for k, v in self.final.items()},
            "wall_time": self.wall_time,
            "steps": list(self.steps),
            "curves": {k: [_clean(x) for x in v] for k, v in self.curves.items()},
            "tokens": list(self.tokens),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OCRResult:
        """Rebuild a result from :meth:`to_dict` (without weights)."""
        return cls(
            config=OCRConfig(**data["config"]),
            steps=data["steps"],
            curves={
                k: [math.nan if x is None else float(x) for x in v]
                for k, v in data["curves"].items()
            },
            wall_time=data["wall_time"],
            tokens=tuple(data["tokens"]),
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One row per logged step: ``{"model", "step", metric: value, ...}`` (JSONL-ready)."""
        rows = []
        for i, step in enumerate(self.steps):
            row: dict[str, Any] = {"model": self.label, "step": step}
            row.update({k: _clean(v[i]) for k, v in self.curves.items()})
            rows.append(row)
        return rows

    # ------------------------------------------------------------------ display
    def _rows(self) -> list[list[str]]:
        rows = []
        for key, name in METRICS.items():
            v = self._final(key)
            note = ""
            if key == "test_loss":
                note = f"  (log|A2| = {self.chance_test_loss:.3f})"
            elif key == "mean_rank":
                note = f"  (chance {self.chance_mean_rank:g})"
            rows.append([name, _fmt(v) + note])
        rows.append(["wall time", f"{self.wall_time:.1f} s"])
        return rows

    def __str__(self) -> str:
        head = f"OCRResult {self.label}: {self.config.describe()}"
        return head + "\n" + text_table(["metric", "final"], self._rows(), align="ll")

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        return html_table(["metric", "final"], self._rows(), caption=self.config.describe())

    def plot(
        self, ax: Axes | None = None, metrics: Sequence[str] = ("train_loss", "test_loss")
    ) -> Figure:
        """Curves of some metrics against steps on one axes (matplotlib imported here).

        When every metric is a loss, an accuracy or the mean rank, the chance level is drawn
        as a labelled dotted line: ``log |A2|`` for losses (Theorem 2's bound: a uniform
        guess among the ``n`` implications), ``1 / |A2|`` for accuracies, ``(n + 1) / 2``
        for the mean rank.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (a new figure otherwise).
        metrics : sequence of str
            Keys of :attr:`curves`.

        Returns
        -------
        matplotlib.figure.Figure
            The new figure, or the figure of ``ax``: ``r.plot().savefig("r.png")``.
        """
        from kgaug.plot import _figure_of

        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        assert ax is not None
        for i, key in enumerate(metrics):
            if key not in self.curves:
                raise ValueError(f"unknown metric {key!r}; use one of {list(self.curves)}")
            ax.plot(
                self.steps,
                self.curves[key],
                color=_COLORS[i % len(_COLORS)],
                label=f"{self.label}: {METRICS.get(key, key)}",
            )
        kinds = {_kind(k) for k in metrics}
        if len(kinds) == 1 and None not in kinds:
            kind = kinds.pop()
            _chance_line(ax, self, kind)
            ax.set_ylabel(_ylabel(self, kind))
        if all(k.endswith("loss") for k in metrics):
            ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.legend(fontsize=8)
        return _figure_of(ax)


#: Curve colours (Okabe-Ito: colour-blind safe, no red against green).
_COLORS = ("#0072B2", "#D55E00", "#56B4E9", "#E69F00", "#CC79A7", "#000000")


def _kind(key: str) -> str | None:
    """Which chance level applies to a metric: "loss", "accuracy", "rank" or none."""
    if key == "loss" or key.endswith("_loss"):
        return "loss"
    if key.endswith("_accuracy"):
        return "accuracy"
    if key == "mean_rank":
        return "rank"
    return None


def _chance_line(ax: Any, r: OCRResult, kind: str | None) -> None:
    """The chance level of ``kind`` as a labelled dotted line (nothing for the norms)."""
    n = r.config.n
    if kind == "loss":
        y = r.chance_test_loss
        label = f"log|A2| = log {n} = {y:.2f} (chance; Thm 2 bound)"
    elif kind == "accuracy":
        y = 1.0 / n
        label = f"chance 1/|A2| = {y:.3g}"
    elif kind == "rank":
        y = r.chance_mean_rank
        label = f"chance (n+1)/2 = {y:g}"
    else:
        return
    ax.axhline(y, color="black", linestyle=":", linewidth=1.2, label=label, zorder=1)


def _ylabel(r: OCRResult, kind: str | None, key: str = "") -> str:
    over = "A" if r.config.loss_over == "answers" else "the vocabulary"
    if kind == "loss":
        return f"cross-entropy over {over} (log scale)"
    if kind == "accuracy":
        return f"{METRICS.get(key, 'accuracy')} (top-1 over {over})"
    if kind == "rank":
        return "mean rank of the true implication in A2"
    return METRICS.get(key, key)


def plot_curves(
    results: Sequence[OCRResult],
    *,
    metrics: Sequence[str] = ("loss", "test_accuracy", "mean_rank", "nuclear_norm_normalized"),
    title: str | None = None,
) -> Figure:
    """One panel per metric with every result's curve: the paper's comparison figure.

    The ``"loss"`` panel draws the training loss dashed and the test loss solid, on a log
    scale. The loss, accuracy and mean-rank panels carry their chance level as a labelled
    dotted line: ``log |A2|`` (Theorem 2's bound on the non-factorized test loss: a
    uniform guess among the ``n`` implications), ``1 / |A2|`` and ``(n + 1) / 2``.

    Parameters
    ----------
    results : sequence of OCRResult
        Runs to compare (e.g. from :func:`kgaug.ocr.reproduce`).
    metrics : sequence of str
        ``"loss"`` or keys of :data:`METRICS`.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    if not results:
        raise ValueError("plot_curves needs at least one result")
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(4.4 * len(metrics), 4.2), squeeze=False, layout="constrained"
    )
    for ax, key in zip(axes[0], metrics):
        for i, r in enumerate(results):
            col = _COLORS[i % len(_COLORS)]
            if key == "loss":
                ax.plot(r.steps, r.curves["train_loss"], "--", color=col, label=f"{r.label} train")
                ax.plot(r.steps, r.curves["test_loss"], "-", color=col, label=f"{r.label} test")
            else:
                if key not in r.curves:
                    raise ValueError(
                        f"unknown metric {key!r}; use 'loss' or one of {list(METRICS)}"
                    )
                ax.plot(r.steps, r.curves[key], color=col, label=r.label)
        kind = _kind(key)
        _chance_line(ax, results[0], kind)
        ax.set_ylabel(_ylabel(results[0], kind, key))
        if key == "loss" or key in (
            "nuclear_norm_normalized",
            "frobenius_norm_normalized",
            "nuclear_norm",
        ):
            ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_title("train (dashed) and test loss" if key == "loss" else METRICS[key], fontsize=10)
        ax.grid(alpha=0.3)
        if kind is not None:  # the models are in the figure's legend
            ax.legend(handles=ax.get_lines()[-1:], fontsize=8)
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=_COLORS[i % len(_COLORS)], label=r.label)
        for i, r in enumerate(results)
    ]
    if "loss" in metrics:
        handles += [
            Line2D([], [], color="gray", linestyle="--", label="train loss"),
            Line2D([], [], color="gray", linestyle="-", label="test loss"),
        ]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9)
    fig.suptitle(title or "symbolic OCR: factorized vs non-factorized one-layer attention")
    out: Figure = fig
    return out


def summary_table(results: Sequence[OCRResult], *, html: bool = False) -> str:
    """Final metrics of several runs side by side (text, or HTML for notebooks)."""
    if not results:
        raise ValueError("summary_table needs at least one result")
    header = ["metric", *(r.label for r in results)]
    keys = [
        "train_loss",
        "test_loss",
        "test_accuracy",
        "mean_rank",
        "nuclear_norm",
        "frobenius_norm",
        "nuclear_norm_normalized",
        "frobenius_norm_normalized",
    ]
    rows = [[METRICS[k], *(_fmt(r._final(k)) for r in results)] for k in keys]
    rows.append(["wall time (s)", *(f"{r.wall_time:.1f}" for r in results)])
    if html:
        return html_table(header, rows)
    return text_table(header, rows)

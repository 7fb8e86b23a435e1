"""Plots (needs ``matplotlib``: ``pip install 'kgaug[plot]'``).

- :func:`plot_phi`: phi per relation against phi_G.
- :func:`plot_lemma1`: Lemma 1's phi_n against |V|, optionally with measured points.
- :func:`plot_training`: accuracy curves of a training run (atomic, inferred, ID, OOD).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from kgaug.bounds import expected_phi, phi_asymptote
from kgaug.stats import PhiReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_lemma1", "plot_phi", "plot_training"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'kgaug[plot]'") from None
    return plt


def plot_phi(
    report: PhiReport,
    ax: Axes | None = None,
    *,
    log: bool = False,
    title: str | None = None,
) -> Axes:
    """Horizontal bars of ``phi_r`` per relation with a line at ``phi_G``.

    Relations below ``phi_G`` are drawn in red, those at or above in green; relations
    without facts are left out.

    Parameters
    ----------
    report : PhiReport
        From :func:`kgaug.compute_phi`.
    ax : matplotlib Axes, optional
        Where to draw (a new figure otherwise).
    log : bool
        Logarithmic phi axis (a phi of 0 is drawn as a stub at a tenth of the smallest
        positive phi).
    title : str, optional
        Defaults to a description of the report.

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = _pyplot()
    rows = [r for r in report.rows if r.phi is not None]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * max(len(rows), 3) + 1.2))
    assert ax is not None
    names = [r.relation for r in rows]
    phis = np.array([r.phi for r in rows], dtype=float)
    colors = ["#2e7d32" if r.generalizable else "#c62828" for r in rows]
    y = np.arange(len(rows))[::-1]
    # a log axis cannot show 0: draw zeros as a stub at a tenth of the smallest positive phi
    floor = 0.1 * phis[phis > 0].min() if log and (phis > 0).any() else 1e-3
    shown = np.where(phis > 0, phis, floor) if log else phis
    ax.barh(y, shown, color=colors)
    ax.set_yticks(y, names)
    ax.axvline(report.phi_g, color="black", linestyle="--", linewidth=1)
    ax.annotate(
        f" phi_G = {report.phi_g:g}",
        xy=(report.phi_g, 0.005),
        xycoords=("data", "axes fraction"),
        ha="left",
        va="bottom",
        fontsize=8,
    )
    if log:
        ax.set_xscale("log")
    what = "facts" if report.count == "facts" else "paths"
    hops = "+".join(str(h) for h in report.hops)
    ax.set_xlabel(f"phi_r = inferred {hops}-hop {what} involving r / atomic facts of r")
    ax.set_title(
        title or f"{report.verdict} ({len(report.failing)} of {len(rows)} relations below phi_G)"
    )
    return ax


def plot_lemma1(
    num_nodes: Sequence[float] | npt.NDArray[np.float64],
    branching: float,
    hops: int,
    *,
    measured: Sequence[float] | npt.NDArray[np.float64] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Lemma 1's expected ``phi_n`` against ``|V|`` (the paper's Fig. 3).

    Parameters
    ----------
    num_nodes : sequence of float
        Graph sizes (x axis).
    branching : float
        ``b`` (or ``b_r``).
    hops : int
        ``n``.
    measured : sequence of float, optional
        Measured phi at the same sizes (e.g. from random graphs), drawn as points.
    ax : matplotlib Axes, optional
        Where to draw.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    assert ax is not None
    v = np.asarray(num_nodes, dtype=float)
    ax.plot(v, expected_phi(v, branching, hops), color="#c62828", label="Lemma 1 formula")
    ax.axhline(
        float(phi_asymptote(branching, hops)),
        color="gray",
        linestyle=":",
        label=f"b^(n-1) = {phi_asymptote(branching, hops):g}",
    )
    if measured is not None:
        ax.plot(v, np.asarray(measured, dtype=float), "o-", color="#2e7d32", label="measured")
    ax.set_xscale("log")
    ax.set_xlabel("|V|")
    ax.set_ylabel(f"phi_{hops}")
    ax.set_title(f"phi_{hops} against |V| at b = {branching:g}")
    ax.legend()
    return ax


_SPLIT_STYLE = {
    "atomic": ("atomic facts (train)", "#9e9e9e", ":"),
    "atomic_id": ("atomic facts, ID (train)", "#9e9e9e", ":"),
    "atomic_ood": ("atomic facts, OOD (train)", "#ef6c00", ":"),
    "train_inferred": ("inferred (train)", "#1565c0", "--"),
    "test_id": ("test ID", "#2e7d32", "-"),
    "test_ood": ("test OOD", "#c62828", "-"),
}


def plot_training(
    history: Sequence[dict[str, Any]],
    ax: Axes | None = None,
    *,
    title: str | None = None,
    label: str | None = None,
    splits: Sequence[str] = ("atomic_id", "atomic_ood", "train_inferred", "test_id", "test_ood"),
) -> Axes:
    """Accuracy against optimizer steps, one line per split (grokking curves).

    Parameters
    ----------
    history : sequence of dict
        Records of ``metrics.jsonl`` or :attr:`kgaug.train.TrainResult.history` (``step``
        and ``acc_<split>`` keys).
    ax : matplotlib Axes, optional
        Where to draw.
    title : str, optional
        Axes title.
    label : str, optional
        Prefix of the legend entries (to overlay several runs on one axes).
    splits : sequence of str
        Which splits to draw.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    assert ax is not None
    steps = [r["step"] for r in history]
    have = {k for r in history for k in r}
    if "acc_atomic_id" not in have and "atomic" not in splits:  # runs from before the split
        splits = ["atomic", *splits]
    for split in splits:
        key = f"acc_{split}"
        if key not in have:
            continue
        name, color, style = _SPLIT_STYLE.get(split, (split, None, "-"))
        ys = [r.get(key, float("nan")) for r in history]
        ax.plot(steps, ys, style, color=color, label=f"{label}: {name}" if label else name)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax

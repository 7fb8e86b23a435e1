"""Plots (needs ``matplotlib``: ``pip install 'kgaug[plot]'``).

- :func:`plot_phi`: phi per relation against phi_G (also :meth:`kgaug.PhiReport.plot`).
- :func:`plot_phi_before_after`: two phi panels on one x-scale, e.g. before and after
  augmentation, with the graph's growth in the title.
- :func:`plot_lemma1`: Lemma 1's phi_n against |V|, optionally with measured points and
  their spread.
- :func:`plot_training`: accuracy curves of a training run (atomic, inferred, ID, OOD).

Every function returns the :class:`matplotlib.figure.Figure` it drew on (the figure of
``ax`` when one is given), so ``plot_phi(report).savefig("phi.png")`` works. Colours are
from the Okabe-Ito palette (safe for the common colour-vision deficiencies); nothing is
told apart by red against green.
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
    from matplotlib.figure import Figure

__all__ = ["plot_lemma1", "plot_phi", "plot_phi_before_after", "plot_training"]

#: Okabe-Ito colours (Okabe & Ito, "Color Universal Design", 2008).
BLUE = "#0072B2"
ORANGE = "#E69F00"
SKY = "#56B4E9"
VERMILION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#7f7f7f"

#: Bars of relations at or above phi_G, and below it.
PASS_COLOR = BLUE
FAIL_COLOR = ORANGE


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'kgaug[plot]'") from None
    return plt


def _figure_of(ax: Any) -> Figure:
    """The (root) figure an axes draws on: what ``savefig`` is called on."""
    from matplotlib.figure import Figure

    fig = ax.figure
    while not isinstance(fig, Figure):  # a SubFigure's .figure is its parent
        fig = fig.figure
    return fig


def _growth(before: int, after: int) -> str:
    """``"694 -> 5,621 (8.1x)"``: a count before and after, and the factor."""
    head = f"{before:,} -> {after:,}"
    if before <= 0:
        return head
    f = after / before
    return f"{head} ({f:.1f}x)" if f < 10 else f"{head} ({f:.0f}x)"


def _phi_legend_handles(phi_g: float, counts: bool) -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = [
        Patch(color=PASS_COLOR, label="phi_r >= phi_G"),
        Patch(color=FAIL_COLOR, label="phi_r < phi_G (below)"),
        Line2D([], [], color="black", linestyle="--", linewidth=1, label=f"phi_G = {phi_g:g}"),
    ]
    if counts:
        handles.append(Line2D([], [], linestyle="none", label="bar numbers = atomic facts of r"))
    return handles


def _draw_phi(
    ax: Any,
    report: PhiReport,
    names: Sequence[str],
    *,
    log: bool,
    counts: bool,
    floor: float,
) -> None:
    rows = [report.relations.get(n) for n in names]
    phis = np.array([r.phi if r is not None and r.phi is not None else np.nan for r in rows])
    colors = [PASS_COLOR if r is not None and r.generalizable else FAIL_COLOR for r in rows]
    y = np.arange(len(names))[::-1]
    have = np.isfinite(phis)
    shown = np.where(phis > 0, phis, floor) if log else phis
    ax.barh(y[have], shown[have], color=[c for c, h in zip(colors, have) if h])
    ax.set_yticks(y, list(names))
    ax.axvline(report.phi_g, color="black", linestyle="--", linewidth=1, zorder=3)
    ax.annotate(
        f"phi_G = {report.phi_g:g}",
        xy=(report.phi_g, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -3),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=8,
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        zorder=4,
    )
    if counts:
        for yi, r, x in zip(y, rows, shown):
            if r is None or r.phi is None:
                ax.annotate(" no facts", xy=(0, yi), va="center", fontsize=7, color=GREY)
                continue
            ax.annotate(
                f"{r.atomic:,}",
                xy=(x, yi),
                xytext=(2, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color="#333333",
                bbox={
                    "boxstyle": "square,pad=0.1",
                    "facecolor": "white",
                    "edgecolor": "none",
                    "alpha": 0.8,
                },
                zorder=5,
            )
    if log:
        ax.set_xscale("log")
    ax.margins(x=0.12)  # room for the counts at the bar ends (0 stays the left edge)
    ax.set_ylim(-0.6, len(names) + 0.3)  # a free band at the top for the phi_G label
    what = "facts" if report.count == "facts" else "paths"
    hops = "+".join(str(h) for h in report.hops)
    ax.set_xlabel(f"phi_r = inferred {hops}-hop {what} involving r / atomic facts of r")


def _names(*reports: PhiReport) -> list[str]:
    names: list[str] = []
    for rep in reports:
        names.extend(r.relation for r in rep.rows if r.phi is not None and r.relation not in names)
    return names


def _floor(*reports: PhiReport) -> float:
    pos = [r.phi for rep in reports for r in rep.rows if r.phi is not None and r.phi > 0]
    return 0.1 * min(pos) if pos else 1e-3


def plot_phi(
    report: PhiReport,
    ax: Axes | None = None,
    *,
    log: bool = False,
    title: str | None = None,
    counts: bool = True,
    legend: bool = True,
) -> Figure:
    """Horizontal bars of ``phi_r`` per relation with a labelled line at ``phi_G``.

    Relations at or above ``phi_G`` are blue, those below orange (Okabe-Ito, colour-blind
    safe; a legend says which is which); relations without facts are left out. The number
    at the end of each bar is the relation's count of atomic facts.

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
        Defaults to the verdict and how many relations are below ``phi_G``.
    counts : bool
        Write each relation's atomic facts next to its bar.
    legend : bool
        Draw the legend (colours and the ``phi_G`` line).

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the figure of ``ax``.
    """
    plt = _pyplot()
    names = _names(report)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.35 * max(len(names), 3) + 1.4))
    assert ax is not None
    _draw_phi(ax, report, names, log=log, counts=counts, floor=_floor(report))
    ax.set_title(
        title
        or f"{report.verdict} ({len(report.failing)} of {len(names)} relations below phi_G; "
        f"{report.atomic:,} facts)"
    )
    if legend:
        ax.legend(handles=_phi_legend_handles(report.phi_g, counts), loc="lower right", fontsize=8)
    return _figure_of(ax)


def plot_phi_before_after(
    before: PhiReport,
    after: PhiReport,
    *,
    fig: Figure | None = None,
    log: bool = False,
    labels: tuple[str, str] = ("before augmentation", "after augmentation"),
    title: str | None = None,
    counts: bool = True,
) -> Figure:
    """Two :func:`plot_phi` panels side by side on one phi scale (shared x and y).

    Both panels list the same relations in the same order (a relation without facts in
    one of them is marked "no facts"), the x-scale is shared so that bar lengths compare
    across panels, and the title gives the growth of the graph (atomic facts and
    entities) and of the relations below ``phi_G``.

    Parameters
    ----------
    before, after : PhiReport
        The two reports (e.g. of the graph before and after :func:`kgaug.augment`).
    fig : matplotlib Figure, optional
        Where to draw (its layout engine is set to "constrained"); a new pyplot figure
        otherwise.
    log : bool
        Logarithmic phi axes.
    labels : tuple of str
        Panel titles (each followed by its facts and failing relations).
    title : str, optional
        Figure title; default the growth of the graph.
    counts : bool
        Write each relation's atomic facts next to its bar.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = _names(before, after)
    if fig is None:
        fig = _pyplot().figure(figsize=(12, 0.33 * max(len(names), 3) + 2.2))
    assert fig is not None
    fig.set_layout_engine("constrained")
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    floor = _floor(before, after)
    for ax, rep, lab in zip(axes, (before, after), labels):
        _draw_phi(ax, rep, names, log=log, counts=counts, floor=floor)
        n = sum(1 for r in rep.rows if r.phi is not None)
        ax.set_title(
            f"{lab}: {rep.atomic:,} facts, {len(rep.failing)} of {n} below phi_G",
            fontsize=10,
        )
    axes[1].tick_params(labelleft=False)
    handles = _phi_legend_handles(after.phi_g, counts)
    fig.legend(
        handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9, frameon=False
    )
    fig.suptitle(
        title
        or (
            f"phi per relation at phi_G = {after.phi_g:g}: "
            f"{_growth(before.atomic, after.atomic)} atomic facts, "
            f"{_growth(before.num_entities, after.num_entities)} entities"
        ),
        fontsize=11,
    )
    return fig


def plot_lemma1(
    num_nodes: Sequence[float] | npt.NDArray[np.float64],
    branching: float,
    hops: int,
    *,
    measured: Sequence[float] | npt.NDArray[np.float64] | None = None,
    measured_std: Sequence[float] | npt.NDArray[np.float64] | None = None,
    measured_label: str = "measured",
    ax: Axes | None = None,
) -> Figure:
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
        Measured phi at the same sizes (e.g. the mean over random graphs), drawn as points.
    measured_std : sequence of float, optional
        Spread of the measured phi (e.g. the standard deviation over seeds), drawn as
        error bars of +- one value.
    measured_label : str
        Legend entry of the measured points.
    ax : matplotlib Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.2))
    assert ax is not None
    v = np.asarray(num_nodes, dtype=float)
    ax.plot(v, expected_phi(v, branching, hops), "-", color=BLUE, label="Lemma 1 formula")
    ax.axhline(
        float(phi_asymptote(branching, hops)),
        color=GREY,
        linestyle=":",
        label=f"asymptote b^(n-1) = {phi_asymptote(branching, hops):g}",
    )
    if measured is not None:
        m = np.asarray(measured, dtype=float)
        if measured_std is None:
            ax.plot(v, m, "o", color=VERMILION, label=measured_label)
        else:
            ax.errorbar(
                v,
                m,
                yerr=np.asarray(measured_std, dtype=float),
                fmt="o",
                color=VERMILION,
                ecolor=VERMILION,
                elinewidth=1.2,
                capsize=3,
                markersize=5,
                label=measured_label,
            )
    elif measured_std is not None:
        raise ValueError("measured_std needs measured")
    ax.set_xscale("log")
    ax.set_xlabel("|V| (entities, log scale)")
    ax.set_ylabel(f"phi_{hops} ({hops}-hop inferred per atomic fact)")
    ax.set_title(f"phi_{hops} against |V| at b = {branching:g}")
    ax.grid(alpha=0.3)
    ax.legend()
    return _figure_of(ax)


#: Legend name, colour, line style and marker per split.
_SPLIT_STYLE = {
    "atomic": ("atomic facts (train)", GREY, ":", "."),
    "atomic_id": ("atomic facts, ID (train)", GREY, ":", "."),
    "atomic_ood": ("atomic facts, OOD (train)", PURPLE, ":", "v"),
    "train_inferred": ("inferred (train)", SKY, "--", "s"),
    "test_id": ("test ID", BLUE, "-", "o"),
    "test_ood": ("test OOD", VERMILION, "-", "^"),
}

#: At most about this many markers per curve (every point when there are fewer).
MAX_MARKERS = 25


def plot_training(
    history: Sequence[dict[str, Any]],
    ax: Axes | None = None,
    *,
    title: str | None = None,
    label: str | None = None,
    splits: Sequence[str] = ("atomic_id", "atomic_ood", "train_inferred", "test_id", "test_ood"),
    baseline: float | None = None,
    baseline_label: str = "majority class",
) -> Figure:
    """Accuracy against optimizer steps, one line per split (grokking curves).

    Every curve carries markers (on every evaluation when there are at most
    :data:`MAX_MARKERS`, evenly spaced otherwise), so a run with a single evaluation
    still shows its points.

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
    baseline : float, optional
        An accuracy to draw as a horizontal reference line (e.g. the majority-class rate
        of the test answers).
    baseline_label : str
        Its legend entry (followed by the value).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    assert ax is not None
    steps = [r["step"] for r in history]
    have = {k for r in history for k in r}
    if "acc_atomic_id" not in have and "atomic" not in splits:  # runs from before the split
        splits = ["atomic", *splits]
    every = max(1, -(-len(steps) // MAX_MARKERS))
    for split in splits:
        key = f"acc_{split}"
        if key not in have:
            continue
        name, color, style, marker = _SPLIT_STYLE.get(split, (split, None, "-", "o"))
        ys = [r.get(key, float("nan")) for r in history]
        ax.plot(
            steps,
            ys,
            linestyle=style,
            marker=marker,
            markevery=every,
            markersize=4,
            color=color,
            label=f"{label}: {name}" if label else name,
        )
    if baseline is not None:
        ax.axhline(
            baseline,
            color="black",
            linestyle="-.",
            linewidth=1,
            label=f"{baseline_label} ({baseline:.3f})",
        )
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return _figure_of(ax)

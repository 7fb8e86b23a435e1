from __future__ import annotations

import colorsys
import io
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

import kgaug
from kgaug.ocr.result import METRICS, OCRResult, plot_curves
from kgaug.ocr.task import OCRConfig
from kgaug.plot import (
    FAIL_COLOR,
    MAX_MARKERS,
    PASS_COLOR,
    plot_lemma1,
    plot_phi,
    plot_phi_before_after,
    plot_training,
)
from kgaug.train import TrainConfig, TrainResult
from kgaug.train.analysis import CausalTrace, LogitLens
from kgaug.train.sweeps import SweepResult, SweepRun


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _history(n: int) -> list[dict[str, float]]:
    return [
        {
            "step": 100 * (i + 1),
            "elapsed_s": float(i),
            "acc_atomic_id": min(1.0, 0.3 + 0.1 * i),
            "acc_atomic_ood": min(1.0, 0.2 + 0.1 * i),
            "acc_train_inferred": min(1.0, 0.5 + 0.05 * i),
            "acc_test_id": min(1.0, 0.4 + 0.05 * i),
            "acc_test_ood": min(1.0, 0.3 + 0.05 * i),
        }
        for i in range(n)
    ]


def _ocr_result(parameterization: str = "factorized", n: int = 5) -> OCRResult:
    steps = [0, 50, 100]
    curves = {k: [1.0, 0.5, 0.25] for k in METRICS}
    return OCRResult(
        config=OCRConfig(n=n, parameterization=parameterization, steps=100),
        steps=steps,
        curves=curves,
        wall_time=0.1,
        tokens=("a",),
    )


def _sweep() -> SweepResult:
    runs = [
        SweepRun(
            phi=p,
            seed=s,
            history=_history(12),
            steps=1200,
            wall_time_s=1.0,
            steps_per_s=1.0,
            out=None,
        )
        for p in (1.8, 7.2)
        for s in (0, 1)
    ]
    return SweepResult(task="comparison", metric="test_ood", threshold=0.95, runs=runs)


def _hue(color: object) -> float:
    return 360 * colorsys.rgb_to_hsv(*to_rgb(color))[0]  # type: ignore[arg-type]


def _green(color: object) -> bool:
    r, g, b = to_rgb(color)  # type: ignore[arg-type]
    return 75 <= _hue(color) <= 165 and g - min(r, b) > 0.15


def _legend_texts(ax_or_fig: object) -> list[str]:
    legend = ax_or_fig.get_legend() if hasattr(ax_or_fig, "get_legend") else None
    if legend is None:
        legends = getattr(ax_or_fig, "legends", [])
        assert legends, "no legend"
        legend = legends[0]
    return [t.get_text() for t in legend.get_texts()]


# ----------------------------------------------------------------------------- every plot
def _every_plot(example_kg):  # (name, callable making a figure, callable drawing on ax)
    rep = kgaug.compute_phi(example_kg)
    v = np.array([50, 100, 200])
    lens = LogitLens("bridge", ["h", "r1", "r2"], np.zeros((4, 3, 3), dtype=np.int64))
    trace = CausalTrace("h", ["h", "r1", "r2"], np.full((4, 3, 3), 0.5))
    result = TrainResult(TrainConfig(), _history(5), steps=500, dataset_phi=3.6)
    ocr = _ocr_result()
    return [
        ("plot_phi", lambda: plot_phi(rep), lambda ax: plot_phi(rep, ax)),
        ("PhiReport.plot", lambda: rep.plot(), lambda ax: rep.plot(ax)),
        ("plot_lemma1", lambda: plot_lemma1(v, 2.0, 3), lambda ax: plot_lemma1(v, 2.0, 3, ax=ax)),
        ("plot_training", lambda: plot_training(result.history),
         lambda ax: plot_training(result.history, ax)),
        ("TrainResult.plot", lambda: result.plot(), lambda ax: result.plot(ax)),
        ("LogitLens.plot", lambda: lens.plot(), lambda ax: lens.plot(ax)),
        ("CausalTrace.plot", lambda: trace.plot(), lambda ax: trace.plot(ax)),
        ("OCRResult.plot", lambda: ocr.plot(), lambda ax: ocr.plot(ax)),
    ]  # fmt: skip


def test_every_plot_returns_a_figure_that_saves(example_kg):
    for name, make, draw in _every_plot(example_kg):
        fig = make()
        assert isinstance(fig, Figure), name
        buf = io.BytesIO()
        fig.savefig(buf, format="png")  # what result.plot().savefig(...) needs
        assert buf.tell() > 1000, name
        # on a given axes: that axes' figure
        own, ax = plt.subplots()
        assert draw(ax) is own, name


def test_multi_panel_plots_return_their_figure(example_kg):
    rep = kgaug.compute_phi(example_kg)
    assert isinstance(plot_phi_before_after(rep, rep), Figure)
    given = Figure()
    assert plot_phi_before_after(rep, rep, fig=given) is given
    fig = plot_curves([_ocr_result(), _ocr_result("nonfactorized")])
    assert isinstance(fig, Figure)
    sweep = _sweep()
    fig = sweep.plot()
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    own, axes = plt.subplots(1, 2)
    assert sweep.plot(axes) is own
    for ax in fig.axes:  # both panels have a legend and labelled axes
        assert ax.get_legend() is not None and ax.get_xlabel() and ax.get_ylabel()


# ----------------------------------------------------------------------------- phi
def test_plot_phi_draws_one_bar_per_relation_with_facts(example_kg, tmp_path):
    rep = kgaug.compute_phi(example_kg)
    fig = plot_phi(rep)
    ax = fig.axes[0]
    assert len(ax.patches) == example_kg.num_relations
    ticks = {round(t): lab.get_text() for t, lab in zip(ax.get_yticks(), ax.get_yticklabels())}
    assert set(ticks.values()) == set(example_kg.relations)
    widths = {ticks[round(p.get_y() + p.get_height() / 2)]: p for p in ax.patches}
    for rel in example_kg.relations:
        bar = widths[rel]
        assert bar.get_width() == rep.relations[rel].phi
        want = PASS_COLOR if rep.relations[rel].generalizable else FAIL_COLOR
        assert bar.get_facecolor()[:3] == pytest.approx(to_rgb(want))
    assert "below phi_G" in ax.get_title()
    fig.savefig(tmp_path / "phi.png")
    assert (tmp_path / "phi.png").stat().st_size > 1000


def test_plot_phi_colours_are_colour_blind_safe_and_explained(example_kg):
    rep = kgaug.compute_phi(example_kg)
    ax = rep.plot().axes[0]
    colors = {p.get_facecolor()[:3] for p in ax.patches}
    assert len(colors) == 2  # passing and failing differ
    assert not any(_green(c) for c in colors)  # no red against green
    texts = _legend_texts(ax)
    assert any("phi_r >= phi_G" in t for t in texts)
    assert any("below" in t for t in texts)
    assert f"phi_G = {rep.phi_g:g}" in texts
    # the phi_G line is drawn and labelled on the axes
    assert any(list(line.get_xdata()) == [rep.phi_g] * 2 for line in ax.get_lines())
    assert any(t.get_text() == f"phi_G = {rep.phi_g:g}" for t in ax.texts)
    # per-relation atomic facts at the bars
    shown = {t.get_text() for t in ax.texts}
    for r in rep.rows:
        assert f"{r.atomic:,}" in shown
    assert plot_phi(rep, counts=False, legend=False).axes[0].get_legend() is None


def test_plot_phi_skips_empty_relations_and_log_scale():
    kg = kgaug.KnowledgeGraph.from_triples([("a", "r", "b"), ("b", "s", "c")], relations=["unused"])
    ax = plot_phi(kgaug.compute_phi(kg), log=True).axes[0]
    assert len(ax.patches) == 2
    assert ax.get_xscale() == "log"


def _before_after() -> tuple[kgaug.PhiReport, kgaug.PhiReport]:
    small = [("a", "r", "b"), ("b", "s", "c"), ("x", "r", "y")]
    big = small + [(f"h{i}", "r", "b") for i in range(12)] + [("c", "t", "d")]
    kg1 = kgaug.KnowledgeGraph.from_triples(small, relations=["t"])
    kg2 = kgaug.KnowledgeGraph.from_triples(big)
    return kgaug.compute_phi(kg1, phi_g=1.0), kgaug.compute_phi(kg2, phi_g=1.0)


def test_before_after_panels_share_the_phi_scale_and_the_relations():
    before, after = _before_after()
    fig = plot_phi_before_after(before, after)
    left, right = fig.axes[:2]
    assert left.get_xlim() == right.get_xlim()
    top = max(r.phi for r in after.rows if r.phi is not None)
    assert top > 3 * max(r.phi for r in before.rows if r.phi is not None)
    assert left.get_xlim()[1] >= top  # the short bars are drawn on the long bars' scale
    assert [t.get_text() for t in left.get_yticklabels()] == ["r", "s", "t"]
    assert left.get_shared_y_axes().joined(left, right)  # the same rows in both panels
    assert list(left.get_yticks()) == list(right.get_yticks())
    assert any(t.get_text().strip() == "no facts" for t in left.texts)  # t: none before
    title = fig.get_suptitle()
    assert f"{before.atomic} -> {after.atomic}" in title
    assert f"({after.atomic / before.atomic:.1f}x)" in title
    texts = _legend_texts(fig)
    assert any("phi_r >= phi_G" in t for t in texts) and "phi_G = 1" in texts
    assert "below phi_G" in left.get_title() and f"{before.atomic} facts" in left.get_title()


@pytest.mark.slow
def test_demo_phi_png_is_the_shared_scale_figure(tmp_path, monkeypatch):
    import kgaug.plot
    from kgaug.demo import run_demo

    seen: list[Figure] = []
    original = kgaug.plot.plot_phi_before_after

    def spy(*args, **kwargs):
        fig = original(*args, **kwargs)
        seen.append(fig)
        return fig

    monkeypatch.setattr(kgaug.plot, "plot_phi_before_after", spy)
    res = run_demo(tmp_path / "demo", echo=lambda s: None)
    assert res.plot == "phi.png" and len(seen) == 1
    left, right = seen[0].axes[:2]
    assert left.get_xlim() == right.get_xlim()
    assert "atomic facts" in seen[0].get_suptitle() and "x)" in seen[0].get_suptitle()


# ----------------------------------------------------------------------------- Lemma 1
def test_plot_lemma1_with_measured_points_and_error_bars():
    v = np.array([50, 100, 200])
    mean, sd = np.array([3.2, 3.8, 3.9]), np.array([0.3, 0.2, 0.1])
    ax = plot_lemma1(v, 2.0, 3, measured=mean, measured_std=sd).axes[0]
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), kgaug.bounds.expected_phi(v, 2.0, 3))
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 1 and bars[0].has_yerr
    segments = bars[0].lines[2][0].get_segments()
    np.testing.assert_allclose([s[1][1] - s[0][1] for s in segments], 2 * sd)
    np.testing.assert_allclose([(s[1][1] + s[0][1]) / 2 for s in segments], mean)
    assert ax.get_xlabel().startswith("|V|") and ax.get_ylabel().startswith("phi_3")
    assert ax.get_legend() is not None and len(_legend_texts(ax)) == 3
    with pytest.raises(ValueError, match="needs measured"):
        plot_lemma1(v, 2.0, 3, measured_std=sd)


def test_plot_lemma1_without_spread_draws_points():
    v = np.array([50, 100, 200])
    ax = plot_lemma1(v, 2.0, 3, measured=[3.2, 3.8, 3.9]).axes[0]
    assert len(ax.get_lines()) == 3  # formula, asymptote, measured
    assert not [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


# ----------------------------------------------------------------------------- training
def test_training_curves_have_markers_even_with_one_evaluation():
    ax = plot_training(_history(1)).axes[0]
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 1]
    assert len(lines) == 5  # every split of the single evaluation
    for line in lines:
        assert line.get_marker() not in (None, "", "None", " ")
        assert line.get_markevery() == 1
    assert ax.get_xlabel() == "optimizer step" and ax.get_ylabel() == "accuracy"
    assert set(_legend_texts(ax)) >= {"test ID", "test OOD", "inferred (train)"}
    colors = {line.get_color() for line in lines}
    assert not any(_green(c) for c in colors)


def test_long_training_curves_thin_their_markers():
    n = 4 * MAX_MARKERS + 3
    ax = plot_training(_history(n)).axes[0]
    for line in ax.get_lines():
        assert line.get_marker() not in (None, "", "None", " ")
        assert line.get_markevery() == math.ceil(n / MAX_MARKERS)


def test_training_plot_draws_a_labelled_baseline():
    result = TrainResult(TrainConfig(), _history(3), steps=300, dataset_phi=9.0)
    ax = result.plot(baseline=0.454, baseline_label="OOD majority class").axes[0]
    base = [line for line in ax.get_lines() if list(line.get_ydata()) == [0.454, 0.454]]
    assert len(base) == 1
    assert "OOD majority class (0.454)" in _legend_texts(ax)
    assert not [
        line for line in result.plot().axes[0].get_lines() if line.get_label().startswith("maj")
    ]


def test_sweep_curves_have_markers():
    fig = _sweep().plot()
    curves = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) > 2]
    assert len(curves) == 8  # 2 phis x 2 seeds x (ID, OOD)
    assert all(line.get_marker() not in (None, "", "None") for line in curves)


# ----------------------------------------------------------------------------- OCR
def _hline(ax, y: float):
    return [
        line
        for line in ax.get_lines()
        if len(line.get_ydata()) == 2 and np.allclose(line.get_ydata(), y)
    ]


def test_ocr_curves_draw_labelled_chance_lines():
    n = 5
    fig = plot_curves([_ocr_result(n=n), _ocr_result("nonfactorized", n=n)])
    loss, acc, rank, norm = fig.axes
    (line,) = _hline(loss, math.log(n))
    assert line.get_label().startswith("log|A2| = log 5 = 1.61")
    assert "chance" in line.get_label()
    assert _legend_texts(loss) == [line.get_label()]
    assert "cross-entropy over A" in loss.get_ylabel()
    (line,) = _hline(acc, 1 / n)
    assert line.get_label() == "chance 1/|A2| = 0.2"
    (line,) = _hline(rank, (n + 1) / 2)
    assert line.get_label() == "chance (n+1)/2 = 3"
    assert not _hline(norm, math.log(n)) and norm.get_legend() is None
    for ax in fig.axes:
        assert ax.get_xlabel() == "training step" and ax.get_ylabel()
    models = _legend_texts(fig)
    assert "factorized d_h=128" in models and "non-factorized" in models


def test_ocr_result_plot_draws_the_chance_line():
    r = _ocr_result(n=20)
    ax = r.plot().axes[0]
    (line,) = _hline(ax, math.log(20))
    assert "log|A2|" in line.get_label() and line.get_label() in _legend_texts(ax)
    ax = r.plot(metrics=["test_accuracy"]).axes[0]
    assert _hline(ax, 1 / 20)
    ax = r.plot(metrics=["nuclear_norm"]).axes[0]  # no chance level for norms
    assert len(ax.get_lines()) == 1
    with pytest.raises(ValueError, match="unknown metric"):
        r.plot(metrics=["accuracy"])

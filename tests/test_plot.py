from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np

import kgaug
from kgaug.plot import plot_lemma1, plot_phi


def test_plot_phi_draws_one_bar_per_relation_with_facts(example_kg, tmp_path):
    rep = kgaug.compute_phi(example_kg)
    ax = plot_phi(rep)
    assert len(ax.patches) == example_kg.num_relations
    ticks = {round(t): lab.get_text() for t, lab in zip(ax.get_yticks(), ax.get_yticklabels())}
    assert set(ticks.values()) == set(example_kg.relations)
    widths = {ticks[round(p.get_y() + p.get_height() / 2)]: p.get_width() for p in ax.patches}
    for rel in example_kg.relations:
        assert widths[rel] == rep.relations[rel].phi
    # failing bars are red, passing green
    red = {p.get_facecolor()[:3] for p in ax.patches if p.get_width() < rep.phi_g}
    green = {p.get_facecolor()[:3] for p in ax.patches if p.get_width() >= rep.phi_g}
    assert red.isdisjoint(green)
    assert "below phi_G" in ax.get_title()
    ax.figure.savefig(tmp_path / "phi.png")
    assert (tmp_path / "phi.png").stat().st_size > 1000


def test_plot_phi_skips_empty_relations_and_log_scale():
    kg = kgaug.KnowledgeGraph.from_triples([("a", "r", "b"), ("b", "s", "c")], relations=["unused"])
    ax = plot_phi(kgaug.compute_phi(kg), log=True)
    assert len(ax.patches) == 2
    assert ax.get_xscale() == "log"


def test_plot_lemma1_with_measured_points():
    v = np.array([50, 100, 200])
    ax = plot_lemma1(v, 2.0, 3, measured=[3.2, 3.8, 3.9])
    lines = ax.get_lines()
    assert len(lines) == 3  # formula, asymptote, measured
    np.testing.assert_allclose(lines[0].get_ydata(), kgaug.bounds.expected_phi(v, 2.0, 3))

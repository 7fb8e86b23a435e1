"""Bounds of Sec. 2.3 / App. A against exact rational arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgaug import bounds
from kgaug.errors import UnreachableBoundWarning


def exact_expected(V: int, b: Fraction, n: int) -> Fraction:
    return math.comb(V, n + 1) * math.factorial(n + 1) * (b / (V - 1)) ** n


def exact_ratio(v: int, n: int) -> Fraction:
    # Γ(v) / (Γ(v-n) (v-1)^n) = (v-1)! / ((v-n-1)! (v-1)^n)
    return Fraction(math.factorial(v - 1), math.factorial(v - n - 1) * (v - 1) ** n)


@given(st.integers(4, 400), st.integers(1, 3), st.fractions(Fraction(1, 10), Fraction(3)))
def test_expected_inferred_matches_exact(V, n, b):
    if n >= V or b > V - 1:
        return
    got = bounds.expected_inferred(V, float(b), n)
    assert got == pytest.approx(float(exact_expected(V, b, n)), rel=1e-12)


def test_expected_inferred_huge_graphs_do_not_overflow():
    got = bounds.expected_inferred(1e15, 5.0, 3)
    assert math.isfinite(got)
    # |V| (|V|-1) ... (|V|-n) (b/(|V|-1))^n  ~  |V| b^n for huge |V|
    assert got == pytest.approx(1e15 * 5.0**3, rel=1e-9)


def test_expected_phi_tends_to_asymptote_from_below():
    vs = np.array([10.0, 100.0, 1e4, 1e6, 1e9])
    phis = bounds.expected_phi(vs, 3.0, 3)
    assert np.all(np.diff(phis) > 0)
    assert np.all(phis < bounds.phi_asymptote(3.0, 3))
    assert phis[-1] == pytest.approx(9.0, rel=1e-6)


def test_vectorized_broadcasting():
    out = bounds.expected_inferred(np.array([10, 100, 1000]), np.array([[1.0], [2.0]]), 2)
    assert out.shape == (2, 3)
    for i, b in enumerate([1.0, 2.0]):
        for j, v in enumerate([10, 100, 1000]):
            assert out[i, j] == pytest.approx(float(exact_expected(v, Fraction(b), 2)))
    assert isinstance(bounds.expected_inferred(10, 1.0, 2), float)


@given(st.integers(3, 300), st.integers(2, 4), st.floats(0.5, 20))
def test_min_relation_branching_matches_lemma2(V, n, phi_g):
    if n >= V:
        return
    b = bounds.min_relation_branching(V, n, phi_g)
    exact = (phi_g * V * (V - 1) ** n / (math.comb(V, n + 1) * math.factorial(n + 1))) ** (
        1 / (n - 1)
    )
    assert b == pytest.approx(exact, rel=1e-10)
    # at exactly that b_r, Lemma 2's phi estimate equals phi_G
    assert bounds.expected_relation_phi(V, b, n) == pytest.approx(phi_g, rel=1e-10)


def test_node_ratio_matches_gamma_ratio():
    for v in (5, 17, 200):
        for n in (2, 3, 4):
            assert bounds.node_ratio(v, n) == pytest.approx(float(exact_ratio(v, n)), rel=1e-12)


@given(
    st.lists(st.floats(0.2, 30), min_size=1, max_size=5),
    st.integers(2, 3),
    st.floats(0.5, 12),
)
def test_min_nodes_is_the_smallest_satisfying_integer(bs, n, phi_g):
    need = max(phi_g / b ** (n - 1) for b in bs)
    with pytest.warns(UnreachableBoundWarning) if need >= 1 else _NoWarning():
        v = bounds.min_nodes(bs, n, phi_g)
    if need >= 1:
        assert v is None
        return
    assert v is not None and v > n
    assert float(exact_ratio(v, n)) >= need * (1 - 1e-12)
    if v - 1 > n:
        assert float(exact_ratio(v - 1, n)) < need * (1 + 1e-12)


class _NoWarning:
    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error", UnreachableBoundWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def test_min_nodes_known_value():
    assert bounds.min_nodes([4.0, 5.0], hops=2, phi_g=3.6) == 11


def test_min_nodes_none_has_explanation():
    with pytest.warns(UnreachableBoundWarning, match="no graph size suffices"):
        assert bounds.min_nodes({"spouse": 5.0, "born in": 1.5}, 2, 3.6) is None
    nb = bounds.node_bound({"spouse": 5.0, "born in": 1.5}, 2, 3.6)
    assert nb.min_nodes is None
    assert nb.limiting_relation == "born in"
    assert nb.required_ratio == pytest.approx(2.4)
    assert "born in" in nb.reason and "b_r" in nb.reason


def test_min_nodes_close_to_one_is_large_but_found():
    # need = 3.6 / 3.6001 -> v ~ 1/(1 - need) ~ 36001
    v = bounds.min_nodes([3.6001], 2, 3.6)
    assert 35_000 < v < 37_000


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: bounds.expected_inferred(2, 1.0, 2), "num_nodes must exceed hops"),
        (lambda: bounds.expected_inferred(10, 0.0, 2), "branching must be > 0"),
        (lambda: bounds.expected_inferred(10, -1.0, 2), "branching must be > 0"),
        (lambda: bounds.expected_inferred(10, 20.0, 2), "edge probability"),
        (lambda: bounds.expected_inferred(10, 1.0, 0), "hops must be an integer in 1..10000"),
        (lambda: bounds.expected_inferred(10, 1.0, 1.5), "hops must be an integer"),
        (lambda: bounds.expected_inferred(10, math.nan, 2), "branching must be finite"),
        (lambda: bounds.expected_inferred("ten", 1.0, 2), "num_nodes must be a number"),
        (lambda: bounds.min_relation_branching(100, 1, 3.6), "integer in 2..10000 for Lemma 2"),
        (lambda: bounds.min_relation_branching(100, 2, 0), "phi_g must be > 0"),
        (lambda: bounds.min_relation_branching([100, 2], 2, 3.6), r"at index 1"),
        (lambda: bounds.min_nodes([], 2, 3.6), "branchings is empty"),
        (lambda: bounds.min_nodes([1.0, 0.0], 2, 3.6), "branchings must be > 0"),
        (lambda: bounds.min_nodes([1.0], 1, 3.6), "integer in 2.."),
    ],
)
def test_bad_inputs_name_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_lemma1_matches_exact_counts_on_a_uniform_random_graph():
    """Lemma 1's phi_3 (paper Fig. 3) against exact path counts on G(|V|, |V| b)."""
    import kgaug

    V, b = 400, 2.0
    rng = np.random.default_rng(0)
    m = int(V * b)
    h = rng.integers(0, V, 4 * m)
    t = rng.integers(0, V, 4 * m)
    keep = h != t
    pairs = np.unique(np.stack([h[keep], t[keep]], 1), axis=0)
    pairs = pairs[rng.permutation(len(pairs))[:m]]
    kg = kgaug.KnowledgeGraph.from_arrays(
        pairs[:, 0],
        np.zeros(m, int),
        pairs[:, 1],
        entities=[str(i) for i in range(V)],
        relations=["r"],
    )
    measured = kgaug.compute_phi(kg, hops=3, count="paths").phi
    predicted = bounds.expected_phi(V, b, 3)
    assert 0.8 * measured < predicted < 1.25 * measured


@pytest.mark.parametrize(("v", "n"), [(1e15, 65), (1e18, 100), (1e6, 500)])
def test_many_hops_stay_exact(v, n):
    exact = math.fsum(math.log1p(-i / (v - 1)) for i in range(n))
    assert bounds.node_ratio(v, n) == pytest.approx(math.exp(exact), rel=1e-12)
    assert bounds.node_ratio(v, n) < 1


def test_expected_inferred_with_64_hops_matches_the_log_sum():
    v, b, n = 1e15, 2.0, 64
    exact = math.fsum(math.log(v - i) for i in range(n + 1)) + n * (math.log(b) - math.log(v - 1))
    assert bounds.expected_inferred(v, b, n) == pytest.approx(math.exp(exact), rel=1e-10)


def test_node_bound_scalar_arguments_are_named():
    with pytest.raises(ValueError, match="hops must be a single number"):
        bounds.node_bound([4.0], np.array([2, 3]), 3.6)
    with pytest.raises(ValueError, match="phi_g must be a single number"):
        bounds.node_bound([4.0], 2, [3.6, 8.0])

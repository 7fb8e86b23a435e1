"""Absurd targets and mistyped arguments: fast, one clear error naming the argument."""

from __future__ import annotations

import pytest

import kgaug
from kgaug.cli import main
from kgaug.errors import AugmentationError


@pytest.fixture(scope="module")
def kg() -> kgaug.KnowledgeGraph:
    return kgaug.datasets.load_example()


@pytest.mark.parametrize("hops", [2.0, "2", None, []])
def test_hops_of_the_wrong_type_names_hops(kg: kgaug.KnowledgeGraph, hops: object) -> None:
    with pytest.raises((TypeError, ValueError), match="hops"):
        kgaug.compute_phi(kg, hops=hops)  # type: ignore[arg-type]
    with pytest.raises((TypeError, ValueError), match="hops"):
        kgaug.plan_augmentation(kg, hops=hops)  # type: ignore[arg-type]


def test_phi_g_as_a_string_is_refused(kg: kgaug.KnowledgeGraph) -> None:
    with pytest.raises(TypeError, match=r"phi_g must be a number, got str '3\.6'"):
        kgaug.compute_phi(kg, phi_g="3.6")  # type: ignore[arg-type]


@pytest.mark.parametrize("phi_g", [1e20, 1e200, 1e300, 1e308, 1.7e308])
def test_a_huge_finite_phi_g_never_overflows_or_hangs(
    kg: kgaug.KnowledgeGraph, phi_g: float
) -> None:
    rep = kgaug.compute_phi(kg, phi_g=phi_g)
    assert rep.generalizable is False
    row = rep.relations["director"]
    assert row.needed is not None and row.needed >= int(phi_g) * row.atomic - row.inferred
    assert (row.inferred + row.needed) / row.atomic >= phi_g


def test_a_huge_int_phi_g_is_a_value_error(kg: kgaug.KnowledgeGraph) -> None:
    with pytest.raises(ValueError, match="phi_g must be a positive finite number"):
        kgaug.compute_phi(kg, phi_g=10**400)


@pytest.mark.parametrize("hops", [{2, 3}, (h for h in (2, 3))])
def test_hops_as_any_iterable_of_ints(kg: kgaug.KnowledgeGraph, hops: object) -> None:
    assert kgaug.compute_phi(kg, hops=hops).hops == (2, 3)  # type: ignore[arg-type]


@pytest.mark.parametrize(("phi_g", "margin", "hops"), [
    (1e6, 0.0, 2), (1e308, 0.0, 2), (1.7e308, 0.5, 2), (1e200, 0.0, (2, 3)), (1e12, 0.0, 3)
])  # fmt: skip
def test_an_absurd_phi_g_is_refused_at_once_with_the_reason(
    kg: kgaug.KnowledgeGraph, phi_g: float, margin: float, hops: object
) -> None:
    with pytest.raises(AugmentationError, match=r"cannot be reached at this graph's size.*budget"):
        kgaug.plan_augmentation(kg, phi_g=phi_g, margin=margin, hops=hops)  # type: ignore[arg-type]
    phi_g = 1e6 if hops == 2 else phi_g
    with pytest.raises(AugmentationError, match="max_new_facts=5,000"):
        kgaug.augment(kg, phi_g=phi_g, max_new_facts=5000)


def test_the_cli_turns_an_absurd_target_into_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (
        ["plan", "--example", "--phi-g", "1e308"],
        ["stats", "--example", "--phi-g", "1e308"],
    ):
        code = main(argv)
        err = capsys.readouterr().err
        if argv[0] == "plan":
            assert code == 2
            assert err.count("\n") == 1 and err.startswith("kgaug plan: error: --phi-g 1e+308")
        else:  # stats reports the verdict; the count needed is astronomically large
            assert code == 0 and "Traceback" not in err


@pytest.mark.slow
def test_a_reachable_but_huge_target_stops_at_the_default_budget(
    kg: kgaug.KnowledgeGraph,
) -> None:
    plan = kgaug.plan_augmentation(kg, phi_g=1000)
    assert plan.result.num_facts - kg.num_facts <= 100_000
    assert any("the default budget of 100,000 new facts" in w for w in plan.warnings)


@pytest.mark.parametrize(("seed", "error"), [(-1, ValueError), ("x", TypeError), (1.5, TypeError)])
def test_bad_seeds_name_the_argument(kg: kgaug.KnowledgeGraph, seed: object, error: type) -> None:
    with pytest.raises(error, match="seed must be a non-negative integer"):
        kgaug.sample_paths(kg, hops=2, k=3, seed=seed)  # type: ignore[arg-type]
    assert len(kgaug.sample_paths(kg, hops=2, k=3, seed=None)) == 3  # None: fresh entropy
    with pytest.raises((TypeError, ValueError), match="seed"):
        kgaug.plan_augmentation(kg, seed=seed)  # type: ignore[arg-type]

"""PyKEEN interop: TriplesFactory in and out, and the datasets that ship inside PyKEEN."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import kgaug
from kgaug.cli import main

pykeen = pytest.importorskip("pykeen")
from pykeen.datasets import Kinships, Nations  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _files(name: str) -> list[Path]:
    folder = Path(pykeen.__file__).parent / "datasets" / name
    return [folder / f"{split}.txt" for split in ("train", "valid", "test")]


def _by_relation(rep: kgaug.PhiReport) -> dict[str, tuple[int, int]]:
    return {r.relation: (r.atomic, r.inferred) for r in rep.relations.values()}


def test_from_pykeen_keeps_pykeens_ids_and_labels() -> None:
    tf = Nations().training
    kg = kgaug.KnowledgeGraph.from_pykeen(tf)
    assert kg.num_facts == tf.num_triples == 1592
    assert kg.entities == tuple(tf.entity_id_to_label[i] for i in range(tf.num_entities))
    assert kg.relations == tuple(tf.relation_id_to_label[i] for i in range(tf.num_relations))
    # the same graph as the in-memory TSV reader on the file PyKEEN read
    assert kg == kgaug.KnowledgeGraph.from_tsv(_files("nations")[0])


def test_round_trip_to_pykeen() -> None:
    kg = kgaug.datasets.load_example()
    tf = kg.to_pykeen()
    assert tf.num_triples == kg.num_facts and tf.num_entities == kg.num_entities
    back = kgaug.KnowledgeGraph.from_pykeen(tf)
    assert back.entities == kg.entities and back.relations == kg.relations  # the same ids
    assert sorted(back.triples()) == sorted(kg.triples())
    assert back.types == ()  # a TriplesFactory has no types (documented)
    assert kg.to_pykeen(create_inverse_triples=True).create_inverse_triples


@pytest.mark.parametrize("name", ["nations", "kinships", "umls"])
def test_bundled_datasets_count_like_the_tsv_files(name: str, tmp_path: Path) -> None:
    kg = kgaug.datasets.load_pykeen(name)
    whole = tmp_path / "all.tsv"
    whole.write_text("".join(f.read_text() for f in _files(name)))
    ref = kgaug.KnowledgeGraph.from_tsv(whole)
    assert kg == ref
    for options in ({}, {"directed": False}, {"count": "paths"}):
        assert _by_relation(kgaug.compute_phi(kg, **options)) == _by_relation(
            kgaug.compute_phi(ref, **options)
        )
    train = kgaug.datasets.load_pykeen(name, split="training")
    assert train == kgaug.KnowledgeGraph.from_tsv(_files(name)[0])


def test_three_hops_agree_on_nations(tmp_path: Path) -> None:
    kg = kgaug.datasets.load_pykeen("Nations")
    ref = kgaug.KnowledgeGraph.from_tsv(_files("nations")[0])
    train = kgaug.datasets.load_pykeen("nations", split="training")
    assert train == ref
    assert _by_relation(kgaug.compute_phi(train, hops=3, count="paths")) == _by_relation(
        kgaug.compute_phi(ref, hops=3, count="paths")
    )
    assert kg.num_facts == sum(len(f.read_text().splitlines()) for f in _files("nations"))


def test_names_that_pykeen_would_download_are_refused() -> None:
    with pytest.raises(ValueError, match=r"ship inside its wheel \(nations, kinships, umls\)"):
        kgaug.datasets.load_pykeen("fb15k237")
    with pytest.raises(ValueError, match="split must be"):
        kgaug.datasets.load_pykeen("nations", split="train")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a pykeen TriplesFactory"):
        kgaug.KnowledgeGraph.from_pykeen(Kinships)


def test_cli_pykeen(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--pykeen", "nations"]) == 0
    assert "1992 facts" in capsys.readouterr().out
    assert main(["stats", "kg.tsv", "--pykeen", "nations"]) == 2
    assert "give one of FILE, --example, --pykeen" in capsys.readouterr().err


def test_without_pykeen_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pykeen.datasets", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'kgaug\[pykeen\]'"):
        kgaug.datasets.load_pykeen("nations")
    assert main(["stats", "--pykeen", "nations"]) == 2
    assert (
        capsys.readouterr().err.strip() == "kgaug stats needs PyKEEN: pip install 'kgaug[pykeen]'"
    )

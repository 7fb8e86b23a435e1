"""What a training run reports at a glance: split sizes, small-split warnings, file modes."""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from kgaug.errors import SmallSplitWarning
from kgaug.train import TrainConfig, train, wang_dataset


def _run(tmp_path: Path | None = None, **config: object) -> object:
    ds = wang_dataset("comparison", num_entities=40, num_attributes=2, num_values=5, phi=3, seed=0)
    cfg = TrainConfig.preset("tiny", max_steps=4, eval_every=2, threads=1, **config)
    return ds, train(ds, cfg, out=tmp_path)


def test_result_reports_split_sizes_and_warns_on_a_tiny_test_split(tmp_path: Path) -> None:
    with pytest.warns(SmallSplitWarning, match=r"test_ood has 24 examples: .*steps of 0\.0417"):
        ds, result = _run(tmp_path / "run")
    assert result.split_sizes["test_ood"] == len(ds.test_ood) == 24
    assert result.split_sizes["test_id"] == len(ds.test_id)
    assert result.split_sizes["train_inferred"] == len(ds.train_inferred)
    assert result.eval_sizes == result.split_sizes  # eval_max (256) covers every split here
    text = repr(result)
    assert "examples" in text.splitlines()[1]
    row = next(x for x in text.splitlines() if x.startswith("test_ood"))
    assert row.split()[1] == "24"
    assert result.to_dict()["split_sizes"]["test_ood"] == 24


def test_a_capped_evaluation_says_of_how_many() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSplitWarning)
        ds, result = _run(eval_max=50)
    assert result.eval_sizes["test_id"] == 50 < result.split_sizes["test_id"] == len(ds.test_id)
    row = next(x for x in repr(result).splitlines() if x.startswith("test_id"))
    assert f"50 of {len(ds.test_id):,}" in row


def test_large_test_splits_do_not_warn() -> None:
    ds = wang_dataset("comparison", num_entities=200, num_attributes=2, num_values=5, phi=3)
    assert len(ds.test_ood) >= 30 and len(ds.test_id) >= 30
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallSplitWarning)
        train(ds, TrainConfig.preset("tiny", max_steps=2, eval_every=2, threads=1))


def test_saved_files_get_the_umask_mode_not_0600(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSplitWarning)
        _run(tmp_path / "run")
    mask = os.umask(0o022)
    os.umask(mask)
    want = 0o666 & ~mask
    files = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert any(p.name == "model.safetensors" for p in files)
    wrong = {str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files
             if stat.S_IMODE(p.stat().st_mode) != want}  # fmt: skip
    assert not wrong, f"expected {oct(want)}: {wrong}"

"""Reading the circuit: logit lens and causal tracing on tiny models whose answer is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from kgaug.dataset import Dataset, DatasetMeta, Example  # noqa: E402
from kgaug.records import Provenance  # noqa: E402
from kgaug.train import TrainConfig, train  # noqa: E402
from kgaug.train.analysis import (  # noqa: E402
    AnalysisError,
    causal_tracing,
    load_checkpoint_model,
    logit_lens,
)
from kgaug.train.checkpoint import checkpoint_schedule, list_checkpoints  # noqa: E402


def _ex(i: int, split: str, h: int, r1: int, r2: int) -> Example:
    """A query whose answer is its head entity (a copy task): the circuit is known."""
    return Example(
        id=f"x{i}", split=split, kind="inferred", task="composition",  # type: ignore[arg-type]
        tokens=[f"<e:e{h}>", f"<r:r{r1}>", f"<r:r{r2}>"], answer_token=f"<e:e{h}>",
        question="?", answer=f"e{h}", hops=2, entities=[f"e{h}", f"e{(h + 1) % 12}", f"e{h}"],
        relations=[f"r{r1}", f"r{r2}"], provenance=Provenance.REAL, ood=split == "test_ood",
    )  # fmt: skip


@pytest.fixture(scope="module")
def copy_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, Path, object]:
    xs = [(h, a, b) for h in range(12) for a in range(3) for b in range(3)]
    train_x = [_ex(i, "train", *t) for i, t in enumerate(xs) if t[1] != 2 or t[2] != 2]
    test_x = [_ex(1000 + i, "test_ood", *t) for i, t in enumerate(xs) if t[1] == 2 and t[2] == 2]
    meta = DatasetMeta(task="composition", seed=0, phi_requested=1.0, phi=1.0, id_atomic=1,
                       ood_atomic=0, pool=1, short=False, counts={}, ood_fraction=0.0,
                       test_id_fraction=0.0)  # fmt: skip
    test_id = [e.model_copy(update={"split": "test_id", "ood": False}) for e in test_x[:3]]
    ds = Dataset(train=train_x, test_id=test_id, test_ood=test_x, meta=meta)
    out = tmp_path_factory.mktemp("copy")
    cfg = TrainConfig.preset(
        "tiny", max_steps=300, eval_every=100, lr=3e-3, batch_size=64, analysis_checkpoints=3,
        progress=False,
    )  # fmt: skip
    result = train(ds, cfg, out=out)
    assert result.final["test_ood"] == 1.0  # the copy circuit generalizes
    return ds, out, result


def test_logit_lens_finds_the_answer_at_the_top(copy_run) -> None:  # type: ignore[no-untyped-def]
    ds, _, result = copy_run
    lens = logit_lens(result.model, result.encoder, ds.test_ood, "answer")
    assert lens.positions == ["h", "r1", "r2"]
    assert lens.ranks.shape == (12, 3, 3)  # examples, embeddings + 2 layers, positions
    assert lens.top1()[-1, -1] == 1.0  # the last layer predicts the answer
    assert "logit lens" in repr(lens) and len(lens.to_records()) == 9
    # at the head position the embedding itself already points at the head token
    bridge = logit_lens(result.model, result.encoder, ds.test_ood, "bridge")
    assert bridge.ranks.shape == lens.ranks.shape


def test_causal_tracing_locates_the_information(copy_run) -> None:  # type: ignore[no-untyped-def]
    ds, _, result = copy_run
    trace = causal_tracing(result.model, result.encoder, ds.train, position=0, max_examples=40)
    m = trace.mean()
    assert trace.skipped < 5 and trace.perturbed == "h"
    assert m[0, 0] == pytest.approx(1.0, abs=0.05)  # the head's embedding carries everything
    assert m[-1, -1] == pytest.approx(1.0, abs=0.05)  # so does the last position at the end
    assert np.abs(m[:, 1]).max() < 0.05  # the relation positions never carry it
    assert "causal tracing" in repr(trace) and trace.replaced
    # changing a relation does not change a copy: no effective perturbation
    rel = causal_tracing(result.model, result.encoder, ds.train, position=1, max_examples=20)
    assert rel.skipped == 20 and np.isnan(rel.mean()).all()


def test_checkpoint_schedule_and_loading(copy_run) -> None:  # type: ignore[no-untyped-def]
    ds, out, result = copy_run
    steps = checkpoint_schedule(300, 3, first=100)
    assert steps == [100, 173, 300]
    kept = [int(p.name.split("-")[1]) for p in list_checkpoints(out / "checkpoints")]
    assert set(steps) <= set(kept)  # the schedule is never pruned
    model, enc, step = load_checkpoint_model(out / "checkpoints" / "step-00000300")
    assert step == 300
    lens = logit_lens(model, enc, ds.test_ood, "answer")
    assert lens.top1()[-1, -1] == 1.0
    with torch.no_grad():  # the same weights as the trained model
        x = torch.tensor([enc.ids(ds.test_ood[0].tokens).tolist()])
        assert torch.allclose(model(x).logits, result.model(x).logits, atol=1e-5)


def test_bad_requests_are_clear_errors(copy_run) -> None:  # type: ignore[no-untyped-def]
    ds, _, result = copy_run
    other = [e.model_copy(update={"tokens": ["<e:zz>", "<r:r0>", "<r:r1>"]}) for e in ds.train[:2]]
    with pytest.raises(AnalysisError, match="vocabulary does not match"):
        logit_lens(result.model, result.encoder, other)
    short = ds.train[0].model_copy(update={"tokens": ["<e:e0>", "<r:r0>"]})
    with pytest.raises(AnalysisError, match="same length"):
        logit_lens(result.model, result.encoder, [ds.train[1], short])
    with pytest.raises(AnalysisError, match="needs dataset"):
        logit_lens(result.model, result.encoder, ds.train, "value1")
    with pytest.raises(AnalysisError, match="target must be"):
        logit_lens(result.model, result.encoder, ds.train, "nonsense")
    with pytest.raises(AnalysisError, match="outside"):
        causal_tracing(result.model, result.encoder, ds.train, position=7)
    from kgaug.train.encoding import SymbolicEncoder

    with pytest.raises(AnalysisError, match="token embeddings"):
        logit_lens(result.model, SymbolicEncoder(["<e:a>"]), ds.train)


# ----------------------------------------------------------------------------- sweep
def test_sweep_runs_resumes_and_names_impossible_phis(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kgaug.train import sweep
    from kgaug.train import sweeps as sweep_mod
    from kgaug.train.sweeps import SweepError

    cfg = TrainConfig.preset("tiny", max_steps=20, eval_every=10, progress=False)
    opts = {"num_entities": 40, "num_attributes": 2, "num_values": 5, "max_test": 200}
    res = sweep("comparison", [1.0, 3.0], seeds=[0], config=cfg, out=tmp_path,
                dataset_options=opts, threshold=0.5)  # fmt: skip
    assert [r.phi for r in res.runs] == [1.0, 3.0]
    assert (tmp_path / "sweep.png").stat().st_size > 5000
    assert (tmp_path / "phi1-seed0" / "result.json").is_file()
    recs = res.to_records()
    assert {"phi", "test_ood", "steps_to_test_ood_0.5"} <= set(recs[0])
    assert "phi sweep (comparison, 2 runs)" in repr(res)

    # a resumed sweep never repeats a finished run
    import kgaug.train.loop as loop_mod

    calls = []
    real = loop_mod.train

    def counting(*a, **k):  # type: ignore[no-untyped-def]
        calls.append(k.get("resume"))
        return real(*a, **k)

    monkeypatch.setattr(loop_mod, "train", counting)
    again = sweep("comparison", [1.0, 3.0], seeds=[0], config=cfg, out=tmp_path,
                  dataset_options=opts)  # fmt: skip
    assert calls == [] and again.to_records()[0]["test_ood"] == recs[0]["test_ood"]
    # an interrupted run (checkpoints, no result) continues from its checkpoint
    (tmp_path / "phi3-seed0" / "result.json").unlink()
    sweep("comparison", [1.0, 3.0], seeds=[0], config=cfg, out=tmp_path, dataset_options=opts)
    assert calls == [True]

    with pytest.raises(SweepError, match=r"phi=500 \(seed 0\) cannot be built.*achievable"):
        sweep("comparison", [1.0, 500.0], config=cfg, dataset_options=opts)
    with pytest.raises(SweepError, match="task"):
        sweep("magic", [1.0])  # type: ignore[arg-type]
    assert sweep_mod is not None


def test_sweep_command(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from kgaug.cli import main

    args = ["sweep", "--preset", "tiny", "--max-steps", "10", "--eval-every", "5",
            "--entities", "40", "--attributes", "2", "--values", "5", "--phis", "1", "2",
            "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "phi sweep (comparison, 2 runs)" in out and (tmp_path / "sweep.json").is_file()
    assert main([*args[:-5], "--phis", "900", "--out", str(tmp_path / "x")]) == 2
    assert "phi=900" in capsys.readouterr().err

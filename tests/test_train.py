"""The grokking trainer on CPU: tiny models, a few hundred steps at most."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from kgaug.dataset import Dataset  # noqa: E402
from kgaug.train import (  # noqa: E402
    MissingTokenError,
    TrainConfig,
    TrainError,
    load_model,
    train,
    wang_dataset,
)
from kgaug.train.checkpoint import latest_checkpoint  # noqa: E402
from kgaug.train.encoding import BPEEncoder, SymbolicEncoder  # noqa: E402
from kgaug.train.loop import _BatchOrder, _lr_at  # noqa: E402


@pytest.fixture(scope="module")
def comparison() -> Dataset:
    return wang_dataset(
        "comparison", num_entities=40, num_attributes=2, num_values=5, phi=3, max_test=200
    )


@pytest.fixture(scope="module")
def composition() -> Dataset:
    return wang_dataset(
        "composition", num_entities=60, num_relations=6, facts_per_entity=3, phi=2, max_test=100
    )


def tiny(**kw: object) -> TrainConfig:
    return TrainConfig.preset("tiny", **{"progress": False, **kw})


def weights(model: object) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- config
def test_presets_validate_and_override() -> None:
    paper = TrainConfig.preset("paper")
    assert (paper.n_layer, paper.n_embd, paper.n_head) == (8, 768, 12)
    assert (paper.lr, paper.weight_decay, paper.batch_size) == (5e-5, 1.0, 512)
    wang = TrainConfig.preset("wang2024")
    assert (wang.lr, wang.weight_decay, wang.warmup_steps) == (1e-4, 0.1, 2000)
    assert TrainConfig.preset("cpu-small", lr=3e-4).lr == 3e-4
    assert "lr=0.0003" in repr(TrainConfig.preset("cpu-small", lr=3e-4))
    assert TrainConfig.preset("paper").diff(TrainConfig.preset("wang2024"))["lr"] == (5e-5, 1e-4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_embd": 30, "n_head": 4}, "divisible by n_head"),
        ({"lr": -1.0}, "lr"),
        ({"betas": (0.9, 1.0)}, "betas"),
        ({"nonsense": 1}, "nonsense"),
        ({"tokenizer": "x"}, "tokenization='text'"),
    ],
)
def test_bad_config_names_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig.preset("tiny", **kwargs)


@pytest.mark.parametrize("field", ["lr", "weight_decay", "grad_clip", "grokfast_lambda"])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_non_finite_config_values_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        TrainConfig.preset("tiny", **{field: value})


def test_a_loss_that_turns_nan_stops_the_run_and_keeps_the_last_good_checkpoint(
    comparison: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kgaug.train.loop as loop

    real, calls = loop._loss, []

    def poisoned(logits: object, targets: object) -> object:
        calls.append(1)
        out = real(logits, targets)  # type: ignore[arg-type]
        return out * float("nan") if len(calls) >= 6 else out

    monkeypatch.setattr(loop, "_loss", poisoned)
    cfg = tiny(max_steps=40, eval_every=20, checkpoint_every=4)
    with pytest.raises(TrainError, match=r"NaN or infinite at step 6 .*step-00000004"):
        train(comparison, cfg, out=tmp_path)
    root = tmp_path / "checkpoints"
    assert latest_checkpoint(root) == root / "step-00000004"
    import safetensors.torch

    state = safetensors.torch.load_file(root / "step-00000004" / "model.safetensors")
    assert all(torch.isfinite(t).all() for t in state.values())
    assert not (tmp_path / "model").exists()


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(ValueError, match="cpu-small"):
        TrainConfig.preset("gpt5")


def test_lr_schedule() -> None:
    cfg = tiny(lr=1.0, warmup_steps=4, max_steps=14)
    assert [_lr_at(s, cfg) for s in range(5)] == [0.25, 0.5, 0.75, 1.0, 1.0]
    lin = tiny(lr=1.0, warmup_steps=4, max_steps=14, schedule="linear")
    assert _lr_at(4, lin) == 1.0
    assert _lr_at(9, lin) == pytest.approx(0.5)
    assert _lr_at(13, lin) == pytest.approx(0.1)


def test_auto_threads() -> None:
    from kgaug.train.loop import auto_threads

    assert auto_threads(1) == auto_threads(2) == 1  # two busy cores: one thread is faster
    assert auto_threads(4) == 2 and auto_threads(64) == 8


def test_batch_order_is_a_permutation_per_epoch_and_a_function_of_step() -> None:
    order = _BatchOrder(10, 4, seed=3, device="cpu")
    rows = torch.cat([order.indices(s) for s in range(5)]).tolist()  # 20 rows = 2 epochs
    assert sorted(rows[:10]) == list(range(10))
    assert sorted(rows[10:]) == list(range(10))
    assert rows[:10] != rows[10:]
    fresh = _BatchOrder(10, 4, seed=3, device="cpu")
    assert fresh.indices(3).tolist() == rows[12:16]
    assert _BatchOrder(10, 4, seed=4, device="cpu").indices(0).tolist() != rows[:4]
    big = _BatchOrder(3, 7, seed=0, device="cpu")  # batch larger than the data
    assert len(big.indices(0)) == 7
    # atomic_repeat: rows listed several times appear that often in every epoch
    rep = _BatchOrder(torch.tensor([0, 1, 2, 0, 0]), 5, seed=0, device="cpu")
    assert sorted(rep.indices(1).tolist()) == [0, 0, 0, 1, 2]
    assert (
        _BatchOrder(torch.arange(10), 4, seed=3, device="cpu").indices(3).tolist() == (rows[12:16])
    )  # an explicit identity is the same order as a count


# ----------------------------------------------------------------------------- encoding
def test_symbolic_encoder_exact_vocabulary(comparison: Dataset) -> None:
    enc = SymbolicEncoder(comparison.vocabulary())
    assert enc.vocab_size == len(comparison.vocabulary()) + 1
    split = enc.encode(comparison.train, "train")
    e = comparison.train[-1]
    row = len(comparison.train) - 1
    ids = split.input_ids[row, : len(e.tokens)].tolist()
    assert [enc.tokens[i] for i in ids] == e.tokens
    assert split.positions[row, 0] == len(e.tokens) - 1
    assert enc.tokens[split.targets[row, 0]] == e.answer_token
    atomic = next(i for i, x in enumerate(comparison.train) if x.kind == "atomic")
    assert split.input_ids[atomic, 2] == enc.pad_id  # right padding


def test_missing_tokens_name_the_example(comparison: Dataset) -> None:
    enc = SymbolicEncoder([t for t in comparison.vocabulary() if t != "<e:e3>"])
    with pytest.raises(MissingTokenError, match=r"'<e:e3>'.*example \d+, id"):
        enc.encode(comparison.train, "train")


def test_bpe_encoder_targets_the_answer_and_eos(comparison: Dataset, tmp_path: Path) -> None:
    enc = BPEEncoder.train_on(comparison.train, vocab_size=300)
    split = enc.encode(comparison.train[:5], "train")
    for row, e in enumerate(comparison.train[:5]):
        tgt = [int(t) for t in split.targets[row] if t != -100]
        assert tgt[-1] == enc.eos_id
        assert enc.tokenizer.decode(tgt[:-1]).strip() == e.answer
        # teacher forcing: the input at position p+1 is the target predicted at p
        pos = split.positions[row, : len(tgt)]
        assert split.input_ids[row, pos[1:]].tolist() == tgt[:-1]
    enc.save(tmp_path)
    again = BPEEncoder.from_path(tmp_path)
    assert again.fingerprint() == enc.fingerprint()
    assert BPEEncoder.train_on(comparison.train, vocab_size=300).fingerprint() == enc.fingerprint()
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        BPEEncoder.from_path(tmp_path / "nope")


def test_text_exact_match_needs_every_answer_token() -> None:
    from kgaug.train.loop import _evaluate

    class Fixed(torch.nn.Module):
        def __init__(self, logits: torch.Tensor) -> None:
            super().__init__()
            self.logits = logits

        def forward(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
            return self.logits[x[:, 0]]  # the input row says which example it is

    # two examples, answers of 2 tokens and 1 token (+ padding); vocabulary of 4
    targets = torch.tensor([[1, 2], [3, -100]])
    logits = torch.full((2, 2, 4), -5.0)
    logits[0, 0, 1] = logits[0, 1, 3] = 5.0  # first token right, second wrong
    logits[1, 0, 3] = logits[1, 1, 0] = 5.0  # right; the padded position is ignored
    x = torch.tensor([[0, 0, 0], [1, 0, 0]])
    acc, _ = _evaluate(Fixed(logits), (x, torch.zeros_like(targets), targets), 1, nullcontext)
    assert acc == 0.5


# ----------------------------------------------------------------------------- training
def test_training_loss_falls_and_records_curves(comparison: Dataset, tmp_path: Path) -> None:
    result = train(comparison, tiny(max_steps=150, eval_every=50), out=tmp_path)
    losses = [r["train_loss"] for r in result.history]
    assert losses[-1] < 0.6 * losses[0]
    assert [r["step"] for r in result.history] == [50, 100, 150]
    assert set(result.final) == {
        "atomic", "atomic_id", "atomic_ood", "train_inferred", "test_id", "test_ood"
    }  # fmt: skip
    # the atomic facts of ID and OOD entities separately (Wang et al.'s two curves)
    n_ood = sum(e.ood for e in comparison.train if e.kind == "atomic")
    assert 0 < n_ood < sum(e.kind == "atomic" for e in comparison.train)
    from kgaug.train.loop import auto_threads

    assert result.threads == auto_threads() >= 1
    assert result.final["train_inferred"] > 0.5
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == [50, 100, 150]
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert "TrainResult(150 steps on cpu" in repr(result)
    assert "<table" in result._repr_html_()
    assert result.steps_per_s > 0


def test_saved_model_loads_back_with_transformers(comparison: Dataset, tmp_path: Path) -> None:
    from transformers import GPT2LMHeadModel

    result = train(comparison, tiny(max_steps=20, eval_every=20), out=tmp_path)
    files = {p.name for p in (tmp_path / "model").iterdir()}
    assert {"config.json", "model.safetensors", "vocab.json"} <= files
    loaded = GPT2LMHeadModel.from_pretrained(tmp_path / "model", local_files_only=True)
    model, enc = load_model(tmp_path / "model")
    x = torch.tensor([enc.ids(comparison.test_ood[0].tokens).tolist()])
    result.model.eval()
    with torch.no_grad():
        ref = result.model(x).logits
        assert torch.allclose(loaded(x).logits, ref, atol=1e-6)
        assert torch.allclose(model(x).logits, ref, atol=1e-6)
    assert loaded.config.vocab_size == enc.vocab_size == len(comparison.vocabulary()) + 1


def test_composition_and_text_tokenization(composition: Dataset) -> None:
    sym = train(composition, tiny(max_steps=60, eval_every=30))
    assert sym.history[-1]["train_loss"] < sym.history[0]["train_loss"]
    text = train(composition, tiny(max_steps=60, eval_every=30, tokenization="text"))
    assert text.history[-1]["train_loss"] < text.history[0]["train_loss"]
    assert text.encoder.kind == "text"


@pytest.mark.parametrize(("grokfast", "checkpoint_every", "stop"), [(0.0, None, 20), (2.0, 15, 15)])
def test_resume_continues_the_same_curve(
    comparison: Dataset, tmp_path: Path, grokfast: float, checkpoint_every: int | None, stop: int
) -> None:
    cfg = dict(
        max_steps=40,
        eval_every=10,
        grokfast_lambda=grokfast,
        dropout=0.1,
        checkpoint_every=checkpoint_every,
    )
    straight = train(comparison, tiny(**cfg), out=tmp_path / "a")
    first = train(comparison, tiny(**{**cfg, "max_steps": stop}), out=tmp_path / "b")
    assert first.steps == stop
    resumed = train(comparison, tiny(**cfg), out=tmp_path / "b", resume=True)
    assert resumed.start_step == stop and resumed.steps == 40
    a, b = weights(straight.model), weights(resumed.model)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)

    def timeless(history: list[dict[str, object]]) -> list[dict[str, object]]:
        # the interrupted run also evaluated at its last step (15): an extra point
        return [
            {k: v for k, v in r.items() if k not in ("elapsed_s", "steps_per_s")}
            for r in history
            if r["step"] % 10 == 0  # type: ignore[operator]
        ]

    assert timeless(resumed.history) == timeless(straight.history)
    assert len(resumed.history) == len(straight.history) + (stop % 10 != 0)


def test_grokfast_filter_matches_its_formula() -> None:
    from kgaug.train.loop import _Grokfast

    p = torch.nn.Parameter(torch.zeros(3))
    gf = _Grokfast([p], alpha=0.5, lamb=2.0)
    p.grad = torch.tensor([1.0, 2.0, 3.0])
    gf.apply()  # ema = g1; g = g1 + 2 * g1
    assert p.grad.tolist() == [3.0, 6.0, 9.0]
    p.grad = torch.tensor([3.0, 0.0, 1.0])
    gf.apply()  # ema = 0.5 * g1 + 0.5 * g2 = [2, 1, 2]; g = g2 + 2 * ema
    assert p.grad.tolist() == [7.0, 2.0, 5.0]
    assert gf.ema is not None and gf.ema[0].tolist() == [2.0, 1.0, 2.0]


def test_grokfast_changes_the_trajectory(comparison: Dataset) -> None:
    plain = train(comparison, tiny(max_steps=10, eval_every=10))
    fast = train(comparison, tiny(max_steps=10, eval_every=10, grokfast_lambda=2.0))
    assert plain.history[-1]["train_loss"] != fast.history[-1]["train_loss"]


def test_checkpoints_are_safetensors_and_pruned(comparison: Dataset, tmp_path: Path) -> None:
    train(
        comparison,
        tiny(max_steps=30, eval_every=10, checkpoint_every=10, keep_checkpoints=2),
        out=tmp_path,
    )
    root = tmp_path / "checkpoints"
    kept = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert kept == ["step-00000020", "step-00000030"]
    assert (root / "latest").read_text().strip() == "step-00000030"
    files = {p.suffix for p in (root / "step-00000030").iterdir()}
    assert files == {".safetensors", ".json"}  # nothing pickled


def test_a_crash_while_saving_keeps_the_previous_checkpoint(
    comparison: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train(comparison, tiny(max_steps=10, eval_every=10), out=tmp_path)
    import safetensors.torch

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(safetensors.torch, "save_file", boom)
    with pytest.raises(KeyboardInterrupt):
        train(comparison, tiny(max_steps=20, eval_every=10), out=tmp_path, resume=True)
    monkeypatch.undo()
    root = tmp_path / "checkpoints"
    assert latest_checkpoint(root) == root / "step-00000010"
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp")]
    again = train(comparison, tiny(max_steps=20, eval_every=10), out=tmp_path, resume=True)
    assert again.start_step == 10 and again.steps == 20


# ----------------------------------------------------------------------------- bad input
def test_resume_with_a_different_config_is_refused(comparison: Dataset, tmp_path: Path) -> None:
    train(comparison, tiny(max_steps=10, eval_every=10), out=tmp_path)
    with pytest.raises(TrainError, match=r"lr: checkpoint 0.003, now 0.01"):
        train(comparison, tiny(max_steps=20, lr=0.01), out=tmp_path, resume=True)
    # a different model size is refused by the same check, before any weights are loaded
    with pytest.raises(TrainError, match=r"n_embd: checkpoint 32, now 64.*n_head"):
        train(comparison, tiny(max_steps=20, n_embd=64, n_head=4), out=tmp_path, resume=True)
    # how long and how often to evaluate may change
    assert train(comparison, tiny(max_steps=20, eval_batch_size=7), out=tmp_path, resume=True)
    with pytest.raises(TrainError, match="already holds a checkpoint"):
        train(comparison, tiny(max_steps=20), out=tmp_path)
    with pytest.raises(TrainError, match="no complete checkpoint"):
        train(comparison, tiny(), out=tmp_path / "empty", resume=True)


def test_resume_on_a_dataset_with_unknown_tokens(
    comparison: Dataset, composition: Dataset, tmp_path: Path
) -> None:
    train(comparison, tiny(max_steps=10, eval_every=10), out=tmp_path)
    with pytest.raises(MissingTokenError, match="not in the model's vocabulary"):
        train(composition, tiny(max_steps=20), out=tmp_path, resume=True)


def test_empty_ood_split_is_refused(comparison: Dataset) -> None:
    empty = Dataset(
        train=comparison.train, test_id=comparison.test_id, test_ood=[], meta=comparison.meta
    )
    with pytest.raises(TrainError, match="test_ood split is empty"):
        train(empty, tiny())


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda(comparison: Dataset) -> None:
    with pytest.raises(TrainError, match=r"device='cuda'.*device='cpu'"):
        train(comparison, tiny(device="cuda"))


def test_out_of_memory_gives_the_fix(
    comparison: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kgaug.train.loop as loop

    def oom(*args: object) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(loop, "_loss", oom)
    with pytest.raises(TrainError, match=r"out of memory on cpu at step 0.*Reduce batch_size") as e:
        train(comparison, tiny(), out=tmp_path)
    assert "None" not in str(e.value) and "Then rerun" in str(e.value)
    monkeypatch.undo()
    train(comparison, tiny(max_steps=10, eval_every=10), out=tmp_path / "b")
    monkeypatch.setattr(loop, "_loss", oom)
    with pytest.raises(TrainError, match=r"step-00000010 is intact") as e:
        train(comparison, tiny(max_steps=20, eval_every=10), out=tmp_path / "b", resume=True)


def test_bad_dataset_argument() -> None:
    with pytest.raises(TypeError, match="Dataset or a folder"):
        train([1, 2, 3], tiny())  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- DDP, CLI
DDP_SCRIPT = """
import sys, numpy as np
from kgaug.train import TrainConfig, train, wang_dataset
ds = wang_dataset("comparison", num_entities=40, num_attributes=2, num_values=5, phi=3,
                  max_test=200)
cfg = TrainConfig.preset("tiny", max_steps=int(sys.argv[3]), eval_every=4, progress=False)
r = train(ds, cfg, out=sys.argv[1], resume=sys.argv[4] == "resume")
import torch.distributed as dist
if not dist.is_initialized() or dist.get_rank() == 0:
    np.savez(sys.argv[2], **{k: v.detach().numpy() for k, v in r.model.state_dict().items()})
"""


def _run_group(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command in its own process group; kill the whole group on timeout."""
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"timed out: {' '.join(cmd)}\n{err[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.mark.slow
def test_ddp_on_cpu_matches_a_single_process(tmp_path: Path) -> None:
    """2 gloo processes, interrupted at step 10 and resumed, match 15 straight steps."""
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    one, two = tmp_path / "one", tmp_path / "two"
    single = _run_group([sys.executable, str(script), str(one), f"{one}.npz", "15", "new"], env)
    assert single.returncode == 0, single.stderr
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    for steps, mode in (("10", "new"), ("15", "resume")):
        ddp = _run_group([*torchrun, str(script), str(two), f"{two}.npz", steps, mode], env)
        assert ddp.returncode == 0, ddp.stderr[-3000:]
    a, b = np.load(f"{one}.npz"), np.load(f"{two}.npz")
    assert set(a.files) == set(b.files)
    for k in a.files:
        np.testing.assert_allclose(a[k], b[k], atol=2e-5, err_msg=k)
    assert (two / "model" / "config.json").is_file()

    def losses(run: Path) -> dict[int, float]:
        lines = (run / "metrics.jsonl").read_text().splitlines()
        return {r["step"]: r["train_loss"] for r in map(json.loads, lines) if r["step"] % 4 == 0}

    # step 12's mean runs over steps 9-12, across the interruption at 10
    assert losses(one).keys() == losses(two).keys() == {4, 8, 12}
    for step, value in losses(one).items():
        assert losses(two)[step] == pytest.approx(value, abs=1e-5), step


def test_cli_train(comparison: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kgaug.cli import main

    comparison.write_jsonl(tmp_path / "data")
    out = tmp_path / "run"
    argv = [
        "train",
        str(tmp_path / "data"),
        "--preset",
        "tiny",
        "--max-steps",
        "20",
        "--eval-every",
        "10",
        "--set",
        "progress=false",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert "TrainResult(20 steps" in capsys.readouterr().out
    assert main([*argv[:5], "30", *argv[6:], "--resume"]) == 0
    assert [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()] == [
        10,
        20,
        30,
    ]
    assert (
        main(
            [
                "train",
                "--wang",
                "comparison",
                "--entities",
                "30",
                "--phi",
                "2",
                "--preset",
                "tiny",
                "--max-steps",
                "5",
                "--set",
                "progress=false",
            ]
        )
        == 0
    )
    assert main(["train", str(tmp_path / "data"), "--set", "lr"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "data"), "--preset", "tiny", "--set", "lr=-1"]) == 2

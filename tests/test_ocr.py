"""The symbolic OCR task and the one-layer attention-only models (the OCR paper, Sec. 3)."""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from pydantic import ValidationError

torch = pytest.importorskip("torch")

from kgaug.ocr import (  # noqa: E402
    OCRConfig,
    OCRResult,
    OCRTask,
    make_task,
    plot_curves,
    reproduce,
    run_experiment,
    summary_table,
)
from kgaug.ocr.cli import add_commands  # noqa: E402
from kgaug.ocr.experiment import true_ranks  # noqa: E402

# a small task without noise: 5 groups of 3 subjects, one training subject per group
SMALL = {"n": 5, "m": 3, "m_train": 1, "seq_len": 3, "noise_tokens": 0, "steps": 300}


def _test_logits(result: OCRResult) -> np.ndarray:
    """Recompute the test logits from the returned weights (noise-free tasks)."""
    task = OCRTask(result.config)
    X = OCRTask.counts(task.test_inputs, task.vocab_size)
    return (X * result.w_kq()) @ result.w_ov().T


@pytest.fixture(scope="module")
def small_runs() -> dict[str, OCRResult]:
    return {
        "factorized": run_experiment(parameterization="factorized", d_h=16, **SMALL),
        "nonfactorized": run_experiment(parameterization="nonfactorized", **SMALL),
    }


# ---------------------------------------------------------------------------- config / task
def test_defaults_are_the_papers_setting():
    cfg = OCRConfig()
    assert (cfg.n, cfg.m, cfg.m_train, cfg.d_h, cfg.seq_len) == (20, 4, 1, 128, 16)
    assert cfg.vocab_size == 128  # 80 subjects + r1, r2 + 40 answers + <EOS> + 5 noise
    assert cfg.m_test == 3
    assert (cfg.effective_lr, cfg.effective_weight_decay) == (0.03, 0.1)
    gd = OCRConfig(optimizer="gd")
    assert (gd.effective_lr, gd.effective_weight_decay) == (1.0, 0.0)
    assert OCRConfig(steps=1000).effective_log_every == 10


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_subjects": 81}, "num_subjects=81 does not match n \\* m"),
        ({"m_train": 4}, "m_train=4 must be smaller than m=4"),
        ({"m_train": 5}, "m_train=5 must be smaller than m=4"),
        ({"d_h": 0}, "d_h"),
        ({"n": 1}, "n\n"),
        ({"m": 1, "m_train": 0}, "m\n"),
        ({"seq_len": 2}, "seq_len"),
        ({"seq_len": 8, "noise_tokens": 0}, "seq_len=8 needs noise tokens"),
        ({"lr": 0.0}, "lr"),
        ({"init_scale": -1.0}, "init_scale"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"parameterization": "both"}, "parameterization"),
        ({"steps": -1}, "steps"),
        ({"dh": 4}, "dh"),  # typo: extra fields are refused
    ],
)
def test_bad_settings_name_the_argument(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        OCRConfig(**kwargs)
    with pytest.raises(ValueError, match=match):  # ValidationError is a ValueError
        make_task(**kwargs)


def test_consistent_num_subjects_is_accepted():
    assert OCRConfig(n=10, m=3, num_subjects=30).vocab_size == 30 + 2 + 20 + 1 + 5


def test_task_shapes_splits_and_answers():
    task = make_task()
    cfg = task.config
    n, m, mt = cfg.n, cfg.m, cfg.m_train
    assert task.vocab_size == 128 == len(task.tokens)
    assert task.train_inputs.shape == (n * m + n * mt, 16)
    assert task.test_inputs.shape == (n * (m - mt), 16)
    assert task.summary()["train_implications"] == n * mt
    # paper order: s_{1,1}, s_{2,1}, ..., s_{n,1}, s_{1,2}, ...
    assert task.subject(1, 1) == 0 and task.subject(2, 1) == 1 and task.subject(1, 2) == n
    assert task.tokens[task.subject(3, 2)] == "s3,2"
    with pytest.raises(ValueError, match="outside"):
        task.subject(n + 1, 1)
    # every sequence ends with [s, r, <EOS>] and starts with noise tokens
    assert (task.train_inputs[:, -1] == task.eos).all()
    assert np.isin(task.train_inputs[:, :13], task.noise).all()
    assert np.isin(task.test_inputs[:, :13], task.noise).all()
    subj = task.train_inputs[:, -3]
    rel = task.train_inputs[:, -2]
    # facts: every subject once, answer b_i of its group
    facts = rel == task.r1
    assert sorted(subj[facts].tolist()) == list(range(n * m))
    assert (task.train_targets[facts] == task.b0 + task.subject_groups[subj[facts]]).all()
    # training implications: exactly the first m_train subjects of each group
    imp = rel == task.r2
    assert (imp == task.train_is_implication).all()
    assert set(subj[imp].tolist()) == {task.subject(i, j) for i in range(1, n + 1) for j in (1,)}
    assert (task.train_targets[imp] == task.c0 + task.subject_groups[subj[imp]]).all()
    # test: implications of the other subjects, never seen with r2 in training
    te_subj = task.test_inputs[:, -3]
    assert (task.test_inputs[:, -2] == task.r2).all()
    assert set(te_subj.tolist()).isdisjoint(subj[imp].tolist())
    assert len(set(te_subj.tolist())) == n * (m - mt)
    assert (task.test_targets == task.c0 + task.subject_groups[te_subj]).all()
    assert task.decode([task.b0, task.c0 + 1, task.eos]) == ["b1", "c2", "<EOS>"]
    assert "test=60" in repr(task)


def test_task_is_deterministic_by_seed():
    a, b, c = make_task(seed=3), make_task(seed=3), make_task(seed=4)
    assert np.array_equal(a.train_inputs, b.train_inputs)
    assert not np.array_equal(a.train_inputs, c.train_inputs)
    assert np.array_equal(a.train_inputs[:, -3:], c.train_inputs[:, -3:])  # only the noise


def test_counts_are_the_bag_of_tokens():
    task = make_task(**SMALL)
    X = OCRTask.counts(task.train_inputs, task.vocab_size)
    assert X.shape == (len(task.train_targets), task.vocab_size)
    assert (X.sum(1) == 3).all()
    assert (X[np.arange(len(X)), task.train_inputs[:, 0]] == 1).all()
    assert OCRTask.counts([[0, 0, 1]], 3).tolist() == [[2.0, 1.0, 0.0]]


# ---------------------------------------------------------------------------- the result
def test_factorized_generalizes_and_nonfactorized_does_not(small_runs):
    f, nf = small_runs["factorized"], small_runs["nonfactorized"]
    assert f.train_loss < 0.05 and nf.train_loss < 0.05
    assert f.train_accuracy == 1.0 and nf.train_accuracy == 1.0
    assert f.test_accuracy == 1.0
    assert f.mean_rank == 1.0
    assert f.test_loss < 0.5
    # the non-factorized model cannot infer the test implications
    assert nf.test_loss > math.log(5) - 0.05
    assert nf.test_accuracy <= 0.4
    assert nf.mean_rank > 2.0
    assert f.test_loss < nf.test_loss / 4


def test_symmetric_init_values():
    for kind in ("factorized", "nonfactorized"):
        r = run_experiment(
            parameterization=kind, init="symmetric", init_scale=0.1, d_h=8, **{**SMALL, "steps": 0}
        )
        task = OCRTask(r.config)
        W = r.w_ov()
        A = task.answers
        assert np.allclose(W[A], 0.1, atol=1e-7)
        assert np.allclose(np.delete(W, A, axis=0), 0.0)
        assert np.allclose(r.w_kq(), 0.1 * math.sqrt(len(A) + 1))
        assert r.steps == [0]


def test_theorem2_nonfactorized_symmetric_init_stays_at_or_above_log_a2():
    r = run_experiment(
        parameterization="nonfactorized",
        init="symmetric",
        init_scale=0.1,
        optimizer="gd",
        dtype="float64",
        **SMALL,
    )
    assert r.train_loss < 0.05
    assert min(r.curves["test_loss"]) >= math.log(5) - 1e-9
    # every implication gets the same logit for a test subject: uniform over A2
    task = OCRTask(r.config)
    c = _test_logits(r)[:, task.c0 : task.eos]
    assert np.ptp(c, axis=1).max() < 1e-9
    assert r.mean_rank == pytest.approx(3.0)  # mid-rank of 5 tied candidates
    assert r.test_accuracy == 0.0  # ties never count as correct
    # the factorized model from the same symmetric product does generalize
    f = run_experiment(
        parameterization="factorized",
        d_h=16,
        init="symmetric",
        init_scale=0.1,
        optimizer="gd",
        dtype="float64",
        **SMALL,
    )
    assert f.test_accuracy == 1.0 and f.test_loss < 0.5


def test_frozen_kq_keeps_the_attention_weights():
    kw = {"parameterization": "factorized", "d_h": 16, "train_kq": False, **SMALL}
    r0 = run_experiment(**{**kw, "steps": 0})
    r = run_experiment(**kw)
    assert np.array_equal(r.w_kq(), r0.w_kq())
    assert r.train_loss < 0.1
    trained = run_experiment(**{**kw, "train_kq": True})
    assert not np.array_equal(trained.w_kq(), r0.w_kq())
    assert "W_KQ frozen" in r.label


def _gradients(W: np.ndarray, kq: np.ndarray, task: OCRTask) -> tuple[np.ndarray, np.ndarray]:
    """Hand-computed gradients of the mean cross-entropy over the answers (noise-free task).

    ``z = (X * kq) W^T``; ``dL/dz = (softmax - onehot) / N`` on the answer columns, so
    ``dL/dW = G^T (X * kq)`` and ``dL/dkq = sum_i (G W)_i * X_i``.
    """
    X = OCRTask.counts(task.train_inputs, task.vocab_size)
    h = X * kq
    z = (h @ W.T)[:, task.b0 : task.eos]
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    N = len(task.train_targets)
    p[np.arange(N), task.train_targets - task.b0] -= 1.0
    G = np.zeros((N, task.vocab_size))
    G[:, task.b0 : task.eos] = p / N
    return G.T @ h, ((G @ W) * X).sum(0)


def test_one_optimizer_step_matches_the_hand_computed_update():
    # non-factorized (the result holds W_OV itself), float64, no noise: one full-batch step
    kw = {"parameterization": "nonfactorized", "dtype": "float64", "init_scale": 0.1, **SMALL}
    w0 = run_experiment(**{**kw, "steps": 0})
    task = OCRTask(w0.config)
    gW, gk = _gradients(w0.w_ov(), w0.w_kq(), task)
    assert np.abs(gW).max() > 1e-3 and np.abs(gk).max() > 1e-4  # a real step
    # gradient descent: W - lr * grad, for W_OV and W_KQ
    gd = run_experiment(**{**kw, "steps": 1}, optimizer="gd", lr=0.5)
    assert np.allclose(gd.w_ov(), w0.w_ov() - 0.5 * gW, rtol=0, atol=1e-12)
    assert np.allclose(gd.w_kq(), w0.w_kq() - 0.5 * gk, rtol=0, atol=1e-12)
    # AdamW's first step: decoupled decay, then lr * m / (sqrt(v) + eps) = lr * g / (|g| + eps)
    adam = run_experiment(**{**kw, "steps": 1}, optimizer="adamw", lr=0.03, weight_decay=0.1)
    W1 = w0.w_ov() * (1 - 0.03 * 0.1) - 0.03 * gW / (np.abs(gW) + 1e-8)
    k1 = w0.w_kq() * (1 - 0.03 * 0.1) - 0.03 * gk / (np.abs(gk) + 1e-8)
    assert np.allclose(adam.w_ov(), W1, rtol=0, atol=1e-9)
    assert np.allclose(adam.w_kq(), k1, rtol=0, atol=1e-9)
    assert not np.allclose(adam.w_ov(), gd.w_ov(), rtol=0, atol=1e-3)
    assert "gd lr=0.5" in gd.config.describe()


def test_gd_and_adamw_both_train():
    gd = run_experiment(parameterization="factorized", d_h=16, optimizer="gd", **SMALL)
    adam = run_experiment(parameterization="factorized", d_h=16, optimizer="adamw", **SMALL)
    assert gd.curves["train_loss"][-1] < gd.curves["train_loss"][0] / 10
    assert adam.curves["train_loss"][-1] < adam.curves["train_loss"][0] / 10
    assert "gd lr=1" in gd.config.describe()


def _margin(logits: np.ndarray, targets: np.ndarray, cols: np.ndarray) -> float:
    """Smallest ``f(a*) - max_{a' != a*} f(a')`` with ``a'`` among the columns ``cols``."""
    z = logits[:, cols].copy()
    rows = np.arange(len(targets))
    y = np.searchsorted(cols, targets)
    true = z[rows, y].copy()
    z[rows, y] = -np.inf
    return float((true - z.max(1)).min())


def test_margin_is_over_the_answers_with_the_vocab_loss():
    """Seed 004, eq. 1: f(a*) - max over A minus {a*}, whatever the loss's candidates."""
    kw = {"parameterization": "nonfactorized", "dtype": "float64", "loss_over": "vocab"}
    for steps, seed in ((0, 1), (40, 0)):
        r = run_experiment(**kw, **{**SMALL, "steps": steps}, seed=seed)
        task = OCRTask(r.config)
        X = OCRTask.counts(task.train_inputs, task.vocab_size)
        logits = (X * r.w_kq()) @ r.w_ov().T
        over_answers = _margin(logits, task.train_targets, task.answers)
        assert r.margin == pytest.approx(over_answers, rel=1e-9, abs=1e-12)
        if steps == 0:  # here a non-answer token is the runner-up of the tightest sequence:
            # over the whole vocabulary (the old, wrong definition) it is another number
            every = np.arange(task.vocab_size)
            assert _margin(logits, task.train_targets, every) < over_answers - 1e-3
        assert r.curves["nuclear_norm_normalized"][-1] == pytest.approx(
            r.nuclear_norm / over_answers if over_answers > 0 else math.nan, nan_ok=True
        )


def test_divergence_is_reported():
    with pytest.raises(FloatingPointError, match=r"diverged.*lower lr"):
        run_experiment(optimizer="gd", lr=1e6, **SMALL)


def test_norms_match_torch_linalg_on_the_product(small_runs):
    for r in small_runs.values():
        W = torch.tensor(r.w_ov())
        assert r.nuclear_norm == pytest.approx(float(torch.linalg.matrix_norm(W, "nuc")), rel=1e-6)
        assert r.frobenius_norm == pytest.approx(float(torch.linalg.matrix_norm(W)), rel=1e-6)
        assert r.margin > 0
        assert r.nuclear_norm_normalized == pytest.approx(r.nuclear_norm / r.margin)
        assert r.frobenius_norm_normalized == pytest.approx(r.frobenius_norm / r.margin)
        # before training the margin is negative: the normalized norms are undefined
        assert math.isnan(r.curves["nuclear_norm_normalized"][0])
    f = small_runs["factorized"]
    assert f.config.d_h == 16 and np.linalg.matrix_rank(f.w_ov(), tol=1e-6) <= 16


def test_mean_rank_definition(small_runs):
    ranks = true_ranks(torch.tensor([[3.0, 1.0, 2.0], [0.0, 0.0, 0.0]]), torch.tensor([1, 0]))
    assert ranks.tolist() == [3.0, 2.0]
    # the factorized run: recompute from the weights
    r = small_runs["factorized"]
    task = OCRTask(r.config)
    c = _test_logits(r)[:, task.c0 : task.eos]
    t = task.test_targets - task.c0
    true = c[np.arange(len(t)), t]
    expect = 1 + (c > true[:, None]).sum(1) + 0.5 * ((c == true[:, None]).sum(1) - 1)
    assert r.mean_rank == pytest.approx(expect.mean(), abs=1e-6)
    assert all(1.0 <= x <= 5.0 for x in r.curves["mean_rank"])


def test_deterministic_by_seed():
    kw = {"parameterization": "factorized", "d_h": 8, **SMALL, "steps": 50}
    a, b = run_experiment(seed=1, **kw), run_experiment(seed=1, **kw)
    c = run_experiment(seed=2, **kw)
    assert a.curves == b.curves and np.array_equal(a.w_ov(), b.w_ov())
    assert a.curves != c.curves
    # resampled noise is seeded too
    noisy = {**kw, "seq_len": 6, "noise_tokens": 3}
    assert run_experiment(seed=1, **noisy).curves == run_experiment(seed=1, **noisy).curves


def test_noise_options_and_vocab_loss():
    kw = {"parameterization": "factorized", "d_h": 8, **SMALL, "steps": 60}
    noisy = {**kw, "seq_len": 6, "noise_tokens": 3}
    fresh = run_experiment(**noisy)
    fixed = run_experiment(**noisy, resample_noise=False)
    assert fresh.curves["train_loss"] != fixed.curves["train_loss"]
    assert fresh.w_ov().shape == (OCRConfig(**noisy).vocab_size,) * 2
    vocab = run_experiment(**kw, loss_over="vocab")
    # at initialization the loss is log(#candidates): |V| instead of |A|
    assert vocab.curves["train_loss"][0] == pytest.approx(math.log(vocab.config.vocab_size), 0.01)
    answers = run_experiment(**kw)
    assert answers.curves["train_loss"][0] == pytest.approx(math.log(10), 0.01)


def test_config_object_and_overrides():
    cfg = OCRConfig(parameterization="nonfactorized", **{**SMALL, "steps": 5})
    r = run_experiment(cfg, steps=10, log_every=5)
    assert r.config.steps == 10 and r.steps == [0, 5, 10]
    with pytest.raises(TypeError, match="OCRConfig"):
        run_experiment({"steps": 3})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="m_train"):
        run_experiment(cfg, m_train=3)


def test_result_export_and_display(small_runs, tmp_path):
    r = small_runs["factorized"]
    d = r.to_dict()
    text = json.dumps(d)  # JSON-ready: nan became None
    assert "NaN" not in text
    assert d["final"]["test_accuracy"] == r.test_accuracy
    back = OCRResult.from_dict(json.loads(text))
    assert back.test_loss == r.test_loss and back.steps == r.steps
    assert math.isnan(back.curves["nuclear_norm_normalized"][0])
    with pytest.raises(ValueError, match="no weights"):
        back.w_ov()
    rows = r.to_records()
    assert len(rows) == len(r.steps) and rows[-1]["step"] == 300
    assert rows[-1]["model"] == "factorized d_h=16"
    s = repr(r)
    assert "test loss" in s and "log|A2| = 1.609" in s and "mean rank" in s
    assert "<table>" in r._repr_html_()
    table = summary_table(list(small_runs.values()))
    assert "non-factorized" in table and "Frobenius / margin" in table
    assert "<table>" in summary_table([r], html=True)
    assert set(r.final) >= {"train_loss", "test_loss", "test_accuracy", "mean_rank"}


def test_plots(small_runs, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = small_runs["factorized"]
    fig = r.plot()  # a Figure: r.plot().savefig(...) works
    assert len(fig.axes[0].lines) >= 2
    _, ax2 = plt.subplots()
    assert r.plot(ax=ax2, metrics=["test_accuracy"]) is ax2.figure
    with pytest.raises(ValueError, match="unknown metric"):
        r.plot(metrics=["accuracy"])
    fig = plot_curves(list(small_runs.values()))
    fig.savefig(tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="at least one"):
        plot_curves([])
    plt.close("all")


def test_reproduce_runs_three_models():
    res = reproduce(
        steps=20, d_h=8, small_d_h=2, **{k: v for k, v in SMALL.items() if k != "steps"}
    )
    assert [x.label for x in res] == ["factorized d_h=8", "non-factorized", "factorized d_h=2"]
    assert len(reproduce(steps=5, small_d_h=None, n=3, m=2, seq_len=3, noise_tokens=0)) == 2


def test_missing_torch_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r'pip install "kgaug\[train\]"'):
        run_experiment(**SMALL)


def test_kgaug_ocr_imports_without_torch():
    code = (
        "import sys, kgaug.ocr, kgaug;"
        "kgaug.ocr.risk_report(kgaug.datasets.load_example());"
        "kgaug.ocr.make_task();"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------- CLI
def _cli(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    add_commands(sub)
    args = p.parse_args(argv)
    return int(args.func(args))


def test_cli_ocr_writes_metrics_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    small = ["--n", "5", "--m", "3", "--seq-len", "3", "--noise-tokens", "0", "--steps", "40"]
    code = _cli(["ocr", *small, "--d-h", "8", "--extra-d-h", "2", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "factorized d_h=8" in out and "non-factorized" in out and "factorized d_h=2" in out
    assert "log|A2| = 1.609" in out
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    models = {json.loads(x)["model"] for x in lines}
    assert models == {"factorized d_h=8", "non-factorized", "factorized d_h=2"}
    assert len(json.loads((tmp_path / "results.json").read_text())) == 3
    assert (tmp_path / "ocr_curves.png").exists()
    assert _cli(["ocr", *small, "--parameterization", "nonfactorized", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [x["label"] for x in data] == ["non-factorized"]


def test_cli_ocr_bad_settings_are_clear():
    with pytest.raises(ValueError, match="m_train=4 must be smaller than m=4"):
        _cli(["ocr", "--m-train", "4"])
    with pytest.raises(ValueError, match="d_h: Input should be greater than or equal to 1"):
        _cli(["ocr", "--d-h", "0"])


@pytest.mark.slow
def test_reproduces_section_3_2():
    """The paper's setting: |S| = 80, n = 20, m = 4, m_train = 1, d = d_h = 128, T = 16."""
    fact, nonfact, small = reproduce(seed=0)
    bound = math.log(20)
    assert fact.config.vocab_size == 128
    # both models fit the training set
    assert fact.train_loss < 0.01 and nonfact.train_loss < 0.01 and small.train_loss < 0.01
    # only the factorized one infers the test implications
    assert fact.test_loss < 0.1 and fact.test_accuracy >= 0.95 and fact.mean_rank < 1.5
    assert nonfact.test_loss >= bound - 0.01
    assert nonfact.test_accuracy <= 0.15 and nonfact.mean_rank > 7
    # even with d_h = 4
    assert small.test_accuracy >= 0.8 and small.test_loss < 1.0
    assert fact.wall_time + nonfact.wall_time + small.wall_time < 120

"""One-layer, one-head, attention-only linear transformers on the OCR task (needs torch).

The model reads the output at the ``<EOS>`` position (the OCR paper, Sec. 3.1)::

    f(X) = W_O W_V^T X^T X W_KQ x_<EOS>            (factorized, W_O, W_V in R^{d x d_h})
    f(X) = W_OV      X^T X W_KQ x_<EOS>            (non-factorized, W_OV in R^{d x d})

With one-hot rows, ``X^T X`` is the diagonal of token counts, so ``X^T X W_KQ x_<EOS>`` is
the count of every token times its attention weight ``W_KQ(z) = e_z^T W_KQ e_<EOS>``:
the whole batch is one element-wise product and two (or one) matrix products, trained
full-batch. Since the query is always ``<EOS>``, only the column ``W_KQ e_<EOS>`` reaches
the output; it is the parameter (the other columns would get no gradient).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from kgaug._progress import progress_bar
from kgaug.ocr.result import OCRResult
from kgaug.ocr.task import OCRConfig, OCRTask

__all__ = ["reproduce", "run_experiment", "true_ranks"]


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError('the OCR experiment needs PyTorch: pip install "kgaug[train]"') from None
    return torch


def _config(config: OCRConfig | None, options: dict[str, Any]) -> OCRConfig:
    if config is None:
        return OCRConfig(**options)
    if not isinstance(config, OCRConfig):
        raise TypeError(f"config must be an OCRConfig, got {type(config).__name__}")
    return OCRConfig(**{**config.model_dump(), **options}) if options else config


def _init(cfg: OCRConfig, task: OCRTask, torch: Any, gen: Any, dt: Any) -> dict[str, Any]:
    """Initial parameters (on the CPU): ``W_O, W_V`` or ``W_OV``, and ``W_KQ e_<EOS>``."""
    d, dh = task.vocab_size, cfg.d_h
    s = cfg.init_scale
    answers = torch.as_tensor(task.answers)
    p: dict[str, Any] = {}
    if cfg.init == "gaussian":
        if cfg.parameterization == "factorized":
            p["W_O"] = torch.randn(d, dh, generator=gen, dtype=dt) * s
            p["W_V"] = torch.randn(d, dh, generator=gen, dtype=dt) * s
        else:
            p["W_OV"] = torch.randn(d, d, generator=gen, dtype=dt) * s
        # W_KQ e_<EOS>: the only column the model reads (every token starts at weight ~1)
        p["W_KQ"] = 1.0 + torch.randn(d, generator=gen, dtype=dt) * s
        return p
    # Assumption 2: W_OV(a, z) = alpha for every answer a and token z,
    # W_KQ(z) = alpha sqrt(|A| + 1) for every token z
    alpha = s
    if cfg.parameterization == "factorized":
        # W_V = sqrt(alpha) e_1 for every token and W_O = sqrt(alpha) e_1 on the answers make
        # W_O W_V^T exactly the symmetric W_OV; W_O's other coordinates (orthogonal to every
        # row of W_V, so the product does not see them) break the parameter symmetry
        w_v = torch.zeros(d, dh, dtype=dt)
        w_v[:, 0] = math.sqrt(alpha)
        w_o = torch.zeros(d, dh, dtype=dt)
        w_o[answers, 0] = math.sqrt(alpha)
        if dh > 1:
            w_o[:, 1:] = torch.randn(d, dh - 1, generator=gen, dtype=dt) * alpha
        p["W_O"], p["W_V"] = w_o, w_v
    else:
        w_ov = torch.zeros(d, d, dtype=dt)
        w_ov[answers, :] = alpha
        p["W_OV"] = w_ov
    p["W_KQ"] = torch.full((d,), alpha * math.sqrt(len(task.answers) + 1), dtype=dt)
    return p


def run_experiment(
    config: OCRConfig | None = None,
    /,
    *,
    progress: bool | None = False,
    num_threads: int | None = 1,
    **options: Any,
) -> OCRResult:
    """Train one model on the symbolic OCR task and measure it over the steps.

    Parameters
    ----------
    config : OCRConfig, optional
        The run; keyword ``options`` build one (``OCRConfig(**options)``) or override its
        fields.
    progress : bool or None
        Progress bar over steps (``None``: when interactive).
    num_threads : int or None
        CPU threads torch uses during the run (restored afterwards). The model is tiny,
        so one thread is fastest; ``None`` leaves torch's setting.
    **options
        Fields of :class:`OCRConfig`: ``parameterization="factorized"|"nonfactorized"``,
        ``d_h``, ``steps``, ``seed``, ``n``, ``m``, ``m_train``, ``optimizer``, ``init``,
        ``train_kq``, ``loss_over``, ...

    Returns
    -------
    OCRResult
        Final metrics (``train_loss``, ``test_loss``, ``test_accuracy``, ``mean_rank``,
        ``nuclear_norm``, ``frobenius_norm``, ...) and their curves.

    Raises
    ------
    ImportError
        Without PyTorch (``pip install "kgaug[train]"``).
    pydantic.ValidationError
        A bad option (a ``ValueError`` that names the field).
    FloatingPointError
        The loss became infinite or NaN (the learning rate is too large).

    Examples
    --------
    >>> from kgaug.ocr import run_experiment
    >>> r = run_experiment(parameterization="factorized", d_h=16, n=5, m=3, steps=300,
    ...                    seq_len=3, noise_tokens=0)
    >>> r.train_loss < 0.05 and r.test_accuracy == 1.0
    True
    """
    cfg = _config(config, options)
    torch = _torch()
    if num_threads is None:
        return _run(cfg, torch, progress)
    threads = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        return _run(cfg, torch, progress)
    finally:
        torch.set_num_threads(threads)


def _run(cfg: OCRConfig, torch: Any, progress: bool | None) -> OCRResult:
    task = OCRTask(cfg)
    dt = getattr(torch, cfg.dtype)
    dev = torch.device(cfg.device)
    gen = torch.Generator().manual_seed(cfg.seed)
    d, T = task.vocab_size, cfg.seq_len

    def counts(x: np.ndarray) -> Any:
        return torch.as_tensor(OCRTask.counts(x, d), dtype=dt, device=dev)

    X_train = counts(task.train_inputs)
    X_base = counts(task.train_inputs[:, T - 3 :])  # [s, r, <EOS>] without the noise
    X_test = counts(task.test_inputs)
    resample = cfg.resample_noise and T > 3
    n_train = len(task.train_targets)

    if cfg.loss_over == "answers":
        lo, hi = task.b0, task.eos
    else:
        lo, hi = 0, d
    y_train = torch.as_tensor(task.train_targets - lo, device=dev)
    y_test = torch.as_tensor(task.test_targets - lo, device=dev)
    y_rank = torch.as_tensor(task.test_targets - task.c0, device=dev)
    # the margin is taken over the answers A whatever the loss's candidates (the OCR paper, eq. 1:
    # f(a*) - max over A minus {a*}); these are the answer columns of the loss's logits
    a_lo, a_hi = task.b0 - lo, task.eos - lo
    y_margin = torch.as_tensor(task.train_targets - task.b0, device=dev)

    params = {
        k: v.to(dev).requires_grad_(k != "W_KQ" or cfg.train_kq)
        for k, v in _init(cfg, task, torch, gen, dt).items()
    }
    factorized = cfg.parameterization == "factorized"

    def product() -> Any:
        return params["W_O"] @ params["W_V"].T if factorized else params["W_OV"]

    def logits(X: Any) -> Any:
        h = X * params["W_KQ"]  # X^T X W_KQ x_EOS, one row per sequence
        if factorized:
            return (h @ params["W_V"]) @ params["W_O"].T
        return h @ params["W_OV"].T

    trainable = [p for p in params.values() if p.requires_grad]
    lr, wd = cfg.effective_lr, cfg.effective_weight_decay
    if cfg.optimizer == "adamw":
        opt = torch.optim.AdamW(trainable, lr=lr, weight_decay=wd, foreach=True)
    else:
        opt = torch.optim.SGD(trainable, lr=lr, weight_decay=wd, foreach=True)
    ce = torch.nn.functional.cross_entropy
    curves: dict[str, list[float]] = {
        k: []
        for k in (
            "train_loss",
            "test_loss",
            "train_accuracy",
            "test_accuracy",
            "mean_rank",
            "margin",
            "nuclear_norm",
            "frobenius_norm",
            "nuclear_norm_normalized",
            "frobenius_norm_normalized",
        )
    }
    logged: list[int] = []
    every = cfg.effective_log_every
    ones = torch.ones(n_train, T - 3, dtype=dt, device=dev) if resample else None

    def record(step: int, train_logits: Any, train_loss: Any) -> None:
        with torch.no_grad():
            lt = train_logits
            la = lt[:, a_lo:a_hi]  # the answers A (= lt with loss_over="answers")
            true = la.gather(1, y_margin[:, None])[:, 0]
            others = la.scatter(1, y_margin[:, None], -math.inf)
            margin = float((true - others.max(1).values).min())
            full = logits(X_test)
            te = full[:, lo:hi]
            ranks = true_ranks(full[:, task.c0 : task.eos], y_rank)
            sv = torch.linalg.svdvals(product().to(torch.float64))
            nuc = float(sv.sum())
            fro = float(torch.sqrt((sv * sv).sum()))
            vals = {
                "train_loss": float(train_loss),
                "test_loss": float(ce(te, y_test)),
                "train_accuracy": float((_argmax_unique(torch, lt) == y_train).to(dt).mean()),
                "test_accuracy": float((_argmax_unique(torch, te) == y_test).to(dt).mean()),
                "mean_rank": float(ranks.mean()),
                "margin": margin,
                "nuclear_norm": nuc,
                "frobenius_norm": fro,
                "nuclear_norm_normalized": nuc / margin if margin > 0 else math.nan,
                "frobenius_norm_normalized": fro / margin if margin > 0 else math.nan,
            }
        logged.append(step)
        for k, v in vals.items():
            curves[k].append(v)

    t0 = time.perf_counter()
    with progress_bar(total=cfg.steps, desc="ocr", unit="step", enabled=progress) as bar:
        for step in range(cfg.steps + 1):
            if resample:
                noise = torch.randint(
                    task.noise0, task.noise0 + cfg.noise_tokens, (n_train, T - 3), generator=gen
                ).to(dev)
                X_train = X_base.scatter_add(1, noise, ones)
            out = logits(X_train)[:, lo:hi]
            loss = ce(out, y_train)
            if not bool(torch.isfinite(loss)):
                raise FloatingPointError(
                    f"training diverged at step {step} (loss {float(loss.detach())}); lower lr "
                    f"(now {lr:g}) or init_scale (now {cfg.init_scale:g})"
                )
            if step % every == 0 or step == cfg.steps:
                record(step, out.detach(), loss.detach())
            if step == cfg.steps:
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            bar.update(1)
    wall = time.perf_counter() - t0

    result = OCRResult(config=cfg, steps=logged, curves=curves, wall_time=wall, tokens=task.tokens)
    with torch.no_grad():
        result._w_ov = product().detach().cpu().double().numpy()
        result._w_kq = params["W_KQ"].detach().cpu().double().numpy()
    return result


def true_ranks(logits: Any, targets: Any) -> Any:
    """Rank of each row's target among its candidates (torch tensors; 1 = highest).

    ``rank = 1 + #(candidates scored higher) + #(others tied) / 2``: tied candidates share
    the mid-rank, so a model that scores every candidate alike gets ``(K + 1) / 2``.

    Examples
    --------
    >>> import torch
    >>> true_ranks(torch.tensor([[3.0, 1.0, 2.0], [0.0, 0.0, 0.0]]), torch.tensor([1, 0]))
    tensor([3., 2.])
    """
    t = logits.gather(1, targets[:, None])
    above = (logits > t).sum(1).to(logits.dtype)
    ties = (logits == t).sum(1).to(logits.dtype) - 1
    return 1 + above + 0.5 * ties


def _argmax_unique(torch: Any, logits: Any) -> Any:
    """Argmax per row, ``-1`` where the maximum is tied (a tie is not a correct answer)."""
    top2 = logits.topk(min(2, logits.shape[1]), dim=1).values
    am = logits.argmax(1)
    if logits.shape[1] > 1:
        am = torch.where(top2[:, 0] > top2[:, 1], am, torch.full_like(am, -1))
    return am


def reproduce(
    *,
    steps: int | None = None,
    seed: int = 0,
    d_h: int = 128,
    small_d_h: int | None = 4,
    progress: bool | None = False,
    **options: Any,
) -> list[OCRResult]:
    """The paper's Section 3.2: factorized and non-factorized models, and a small ``d_h``.

    Runs the factorized model at ``d_h``, the non-factorized model, and (unless
    ``small_d_h`` is ``None``) the factorized model at ``small_d_h``, all with the same
    task, seed and optimizer (defaults: :class:`OCRConfig`'s, i.e. ``|S| = 80``,
    ``n = 20``, ``m = 4``, ``m_train = 1``, ``d = 128``).

    Parameters
    ----------
    steps : int, optional
        Training steps (default: :class:`OCRConfig`'s).
    seed : int
        Seed of every run.
    d_h : int
        Hidden size of the first factorized model.
    small_d_h : int or None
        Hidden size of the second factorized model (``None``: skip it).
    progress : bool or None
        Progress bars.
    **options
        Other :class:`OCRConfig` fields, shared by the runs.

    Returns
    -------
    list of OCRResult
        In the order above.
    """
    if steps is not None:
        options["steps"] = steps
    runs: list[dict[str, Any]] = [
        {"parameterization": "factorized", "d_h": d_h},
        {"parameterization": "nonfactorized", "d_h": d_h},
    ]
    if small_d_h is not None:
        runs.append({"parameterization": "factorized", "d_h": small_d_h})
    return [run_experiment(progress=progress, seed=seed, **options, **run) for run in runs]

"""The grokking trainer: GPT-2 from scratch on an ID/OOD dataset, read top to bottom.

:func:`train` is one function in the order things happen:

1. set up the device, precision and (under ``torchrun``) the process group;
2. load the dataset, build the tokenizer, encode every split into tensors on the device;
3. build a ``transformers`` GPT-2 with exactly the vocabulary needed, and AdamW;
4. resume from the newest checkpoint if asked;
5. loop: a fixed-size batch (a pure function of seed and step), loss on the answer tokens
   only, backward, optional Grokfast filter, gradient clipping, AdamW step; every
   ``eval_every`` steps, batched argmax accuracy on the atomic facts, the inferred
   training examples, ``test_id`` and ``test_ood``, one metrics line and the progress bar;
   checkpoints every ``checkpoint_every`` steps;
6. save the model with ``save_pretrained`` (loads back with ``transformers``), the curves
   and their plot.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from kgaug._fileio import atomic_dir
from kgaug._progress import progress_bar
from kgaug.dataset import Dataset, Example
from kgaug.errors import SmallSplitWarning
from kgaug.train.checkpoint import (
    checkpoint_schedule,
    latest_checkpoint,
    load_checkpoint,
    optimizer_state,
    read_meta,
    save_checkpoint,
)
from kgaug.train.config import RESUMABLE_FIELDS, TrainConfig
from kgaug.train.encoding import BPEEncoder, EncodedSplit, SymbolicEncoder, load_encoder
from kgaug.train.result import TrainResult

__all__ = ["TrainError", "gpt2_config", "train"]

PathLike = str | os.PathLike[str]


class TrainError(RuntimeError):
    """A training run cannot start or go on; the message says why and what to do."""


# --------------------------------------------------------------------------- helpers
def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            'training needs PyTorch and transformers: pip install "kgaug[train]"'
        ) from None
    return torch


def _cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def auto_threads(cores: int | None = None) -> int:
    """Threads of torch for a CPU run: 1 on two cores or fewer, else half (at most 8).

    Measured on a 2-core machine under load: two threads ran several times slower than
    one (they fight each other and the rest of the machine for two cores).
    """
    n = _cores() if cores is None else cores
    return 1 if n <= 2 else min(8, n // 2)


def _resolve_device(config: TrainConfig, local_rank: int) -> tuple[Any, str | None, bool]:
    """(device, autocast dtype name or None, torch.compile) for this process."""
    torch = _torch()
    cuda = torch.cuda.is_available()
    if config.device == "cuda" and not cuda:
        build = torch.version.cuda or "a CPU-only build"
        raise TrainError(
            f"device='cuda' was requested but torch.cuda.is_available() is False "
            f"(torch {torch.__version__}, {build}). Use device='cpu' or 'auto', or install a "
            "CUDA build of PyTorch on a machine with an NVIDIA GPU."
        )
    use_cuda = config.device == "cuda" or (config.device == "auto" and cuda)
    device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if config.precision == "bf16" and use_cuda and not torch.cuda.is_bf16_supported():
        raise TrainError("precision='bf16' needs a GPU with bfloat16 support; use 'fp32'")
    if config.precision == "fp16" and not use_cuda:
        raise TrainError(
            "precision='fp16' (with a loss scaler) needs CUDA; use 'fp32' or 'bf16' on the CPU"
        )
    amp: str | None = None
    if config.precision == "fp16":
        amp = "float16"
    elif config.precision == "bf16" or (config.precision == "auto" and use_cuda):
        amp = "bfloat16"
    compile_ = config.compile if config.compile is not None else use_cuda
    return device, amp, compile_


def _load_dataset(dataset: Dataset | PathLike) -> Dataset:
    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, (str, os.PathLike)):
        return Dataset.read_jsonl(dataset)
    raise TypeError(
        f"dataset must be a kgaug Dataset or a folder of JSONL files, got {type(dataset).__name__}"
    )


def _fingerprint(ds: Dataset) -> str:
    h = hashlib.sha256()
    for name, xs in (("train", ds.train), ("test_id", ds.test_id), ("test_ood", ds.test_ood)):
        h.update(f"{name}:{len(xs)}\n".encode())
        for e in xs:
            h.update(e.id.encode())
    return h.hexdigest()[:16]


#: Below this many examples a test accuracy is flagged (one example moves it by >= 1/30).
SMALL_SPLIT = 30


def _warn_small_splits(sizes: dict[str, int]) -> None:
    small = {k: n for k in ("test_id", "test_ood") if 0 < (n := sizes.get(k, 0)) < SMALL_SPLIT}
    if small:
        names = ", ".join(f"{k} has {n} example{'s' if n > 1 else ''}" for k, n in small.items())
        warnings.warn(
            SmallSplitWarning(
                f"{names}: its accuracy moves in steps of {1 / min(small.values()):.3g}; "
                "build a larger split (more entities or facts, a larger test fraction)"
            ),
            stacklevel=3,
        )


def _eval_subset(xs: Sequence[Example], cap: int | None, seed: int, salt: int) -> list[Example]:
    if cap is None or len(xs) <= cap:
        return list(xs)
    rng = np.random.default_rng([seed, salt])
    keep = np.sort(rng.choice(len(xs), size=cap, replace=False))
    return [xs[i] for i in keep]


class _BatchOrder:
    """Which training rows step ``s`` uses: a pure function of (seed, step).

    The rows are the concatenation of seeded permutations, one per epoch; step ``s`` takes
    positions ``s*B .. (s+1)*B - 1`` of it. A resumed run therefore sees exactly the
    batches an uninterrupted one would, with no data-loader state to save. ``rows`` maps a
    position in an epoch to a training row (atomic facts may appear several times).
    """

    def __init__(self, rows: Any, batch_size: int, seed: int, device: Any) -> None:
        torch = _torch()
        if isinstance(rows, int):  # every row once per epoch
            rows = torch.arange(rows)
        self.rows = rows.to(device)
        self.n, self.b, self.seed, self.device = len(rows), batch_size, seed, device
        self._cache: dict[int, Any] = {}

    def _perm(self, epoch: int) -> Any:
        torch = _torch()
        if epoch not in self._cache:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._cache = {
                k: v for k, v in self._cache.items() if k >= epoch - 1
            }  # keep the previous epoch for batches that straddle two
            self._cache[epoch] = self.rows[torch.randperm(self.n, generator=g).to(self.device)]
        return self._cache[epoch]

    def epoch(self, step: int) -> float:
        return step * self.b / self.n

    def indices(self, step: int) -> Any:
        torch = _torch()
        start = step * self.b
        first, last = start // self.n, (start + self.b - 1) // self.n
        if first == last:
            off = start - first * self.n
            return self._perm(first)[off : off + self.b]
        parts = []
        pos = start
        for ep in range(first, last + 1):
            lo = pos - ep * self.n
            hi = min(self.n, start + self.b - ep * self.n)
            parts.append(self._perm(ep)[lo:hi])
            pos = (ep + 1) * self.n
        return torch.cat(parts)


def _lr_at(step: int, config: TrainConfig) -> float:
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.schedule == "linear":
        span = max(1, config.max_steps - config.warmup_steps)
        return config.lr * max(0.0, (config.max_steps - step) / span)
    return config.lr


def _answer_model(model: Any) -> Any:
    """Wrap GPT-2 so the forward pass returns logits at the answer positions only."""
    torch = _torch()

    class AnswerLogits(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self, gpt2: Any) -> None:
            super().__init__()
            self.gpt2 = gpt2

        def forward(self, input_ids: Any, positions: Any) -> Any:
            hidden = self.gpt2.transformer(input_ids=input_ids).last_hidden_state
            idx = positions.unsqueeze(-1).expand(-1, -1, hidden.shape[-1])
            return self.gpt2.lm_head(hidden.gather(1, idx))  # (B, A, V)

    return AnswerLogits(model)


def _loss(logits: Any, targets: Any) -> Any:
    torch = _torch()
    return torch.nn.functional.cross_entropy(
        logits.flatten(0, 1).float(), targets.flatten(), ignore_index=-100
    )


def _to_device(split: EncodedSplit, device: Any) -> tuple[Any, Any, Any]:
    torch = _torch()
    return (
        torch.from_numpy(split.input_ids).to(device),
        torch.from_numpy(split.positions).to(device),
        torch.from_numpy(split.targets).to(device),
    )


def _evaluate(
    net: Any, tensors: tuple[Any, Any, Any], batch_size: int, autocast: Any
) -> tuple[float, float]:
    """(exact-match accuracy, mean answer loss) by batched argmax, no ``generate()``."""
    torch = _torch()
    x, pos, tgt = tensors
    n = x.shape[0]
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=x.device)
    with torch.no_grad(), autocast():
        for lo in range(0, n, batch_size):
            logits = net(x[lo : lo + batch_size], pos[lo : lo + batch_size]).float()
            t = tgt[lo : lo + batch_size]
            ok = (logits.argmax(-1) == t) | (t == -100)
            correct += ok.all(-1).sum()
            per = torch.nn.functional.cross_entropy(
                logits.flatten(0, 1), t.flatten(), ignore_index=-100, reduction="none"
            ).view(t.shape)
            loss_sum += (per.sum(-1) / (t != -100).sum(-1).clamp(min=1)).sum().double()
    if n == 0:
        return float("nan"), float("nan")
    return correct.item() / n, loss_sum.item() / n


class _Grokfast:
    """Grokfast-EMA (Lee et al., 2024): amplify the slow component of the gradient.

    Applied after ``backward()`` to the true (unscaled) gradients — with fp16 after the
    loss scaler's ``unscale_``; bf16 and fp32 need no scaler — and before clipping.
    """

    def __init__(self, params: list[Any], alpha: float, lamb: float) -> None:
        self.params, self.alpha, self.lamb = params, alpha, lamb
        self.ema: list[Any] | None = None

    def apply(self) -> None:
        torch = _torch()
        grads = [p.grad for p in self.params]
        if self.ema is None:
            self.ema = [g.detach().clone() for g in grads]
        else:
            torch._foreach_mul_(self.ema, self.alpha)
            torch._foreach_add_(self.ema, grads, alpha=1.0 - self.alpha)
        torch._foreach_add_(grads, self.ema, alpha=self.lamb)


def _check_resume(saved: dict[str, Any], config: TrainConfig, where: Path) -> None:
    try:
        old = TrainConfig(**saved)
    except Exception as e:  # a checkpoint from another version
        raise TrainError(f"{where}: cannot read the checkpoint's configuration ({e})") from None
    free = set(RESUMABLE_FIELDS)
    if config.schedule == "linear":
        free.discard("max_steps")  # the linear schedule depends on it
    diff = {k: v for k, v in old.diff(config).items() if k not in free}
    if diff:
        shown = ", ".join(f"{k}: checkpoint {a!r}, now {b!r}" for k, (a, b) in diff.items())
        raise TrainError(
            f"cannot resume from {where}: the configuration differs ({shown}). Resume with the "
            "checkpoint's values (only "
            f"{', '.join(sorted(free))} may change), or train into a new output folder."
        )


def gpt2_config(
    config: TrainConfig, vocab_size: int, n_positions: int, eos_token_id: int | None = None
) -> Any:
    """The ``transformers.GPT2Config`` of a run: the model size of ``config``, no pad id.

    Right padding after the last real token never reaches a causal prediction, so the
    model needs no pad id (and ``transformers`` then does not warn about missing masks).
    """
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=vocab_size,
        n_positions=n_positions,
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
        resid_pdrop=config.dropout,
        embd_pdrop=config.dropout,
        attn_pdrop=config.dropout,
        activation_function=config.activation,
        pad_token_id=None,
        bos_token_id=None,
        eos_token_id=eos_token_id,
    )


def _check_vocabulary(path: Path, ds: Dataset) -> None:
    """Raise :class:`MissingTokenError` if the checkpoint's tokenizer lacks dataset tokens."""
    encoder = load_encoder(path)
    for name, xs in (("train", ds.train), ("test_id", ds.test_id), ("test_ood", ds.test_ood)):
        encoder.encode(xs, name)


def _oom_types() -> tuple[type[BaseException], ...]:
    torch = _torch()
    # torch.OutOfMemoryError exists from 2.5; torch.cuda.OutOfMemoryError before
    return tuple({getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError),
                  torch.cuda.OutOfMemoryError})  # fmt: skip


def _oom_message(
    config: TrainConfig, device: Any, world: int, when: str, ckpt_root: Path | None
) -> str:
    ckpt = latest_checkpoint(ckpt_root) if ckpt_root is not None else None
    if ckpt is not None:
        then = (
            f"The checkpoint {ckpt} is intact: resume it with a smaller eval_batch_size, or "
            "start again in a new output folder with a smaller batch_size or model."
        )
    else:
        then = "Then rerun."
    return (
        f"out of memory on {device} {when} (batch_size={config.batch_size}, "
        f"{config.batch_size // world} per process; n_layer={config.n_layer}, "
        f"n_embd={config.n_embd}; eval_batch_size={config.eval_batch_size}). Reduce "
        f"batch_size or eval_batch_size (or the model size, or eval_max). {then}"
    )


def _diverged_message(step: int, config: TrainConfig, ckpt_root: Path | None) -> str:
    ckpt = latest_checkpoint(ckpt_root) if ckpt_root is not None else None
    kept = (
        f"The last good checkpoint, {ckpt}, is kept (nothing was saved after the loss diverged)."
        if ckpt is not None
        else "No checkpoint was saved before it."
    )
    return (
        f"the training loss became NaN or infinite at step {step} (lr={config.lr:g}, "
        f"precision={config.precision!r}, grad_clip={config.grad_clip}). {kept} Lower lr, "
        "keep grad_clip on, or use precision='fp32', and train again in a new output folder."
    )


# --------------------------------------------------------------------------- train
def train(
    dataset: Dataset | PathLike,
    config: TrainConfig | None = None,
    *,
    out: PathLike | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train a GPT-2 from scratch on an ID/OOD dataset and record its grokking curves.

    Parameters
    ----------
    dataset : Dataset or path
        A :class:`kgaug.dataset.Dataset` or a folder written by
        :meth:`~kgaug.dataset.Dataset.write_jsonl` (``train.jsonl``, ``test_id.jsonl``,
        ``test_ood.jsonl``, ``meta.json``). ``test_ood`` must not be empty.
    config : TrainConfig, optional
        Default: the ``cpu-small`` preset.
    out : path, optional
        Output folder: ``metrics.jsonl`` (one line per evaluation), ``curves.png`` (with
        matplotlib), ``checkpoints/`` and ``model/`` (``save_pretrained`` output and the
        tokenizer). Without it nothing is written and the run cannot be resumed.
    resume : bool
        Continue from the newest checkpoint in ``out``. The configuration must match the
        checkpoint's except for ``max_steps``, ``eval_every``, ``eval_batch_size``,
        ``checkpoint_every``, ``keep_checkpoints``, ``stop_at_ood`` and ``progress``; the
        resumed run continues the same curve (same batches, RNG states and running loss).

    Returns
    -------
    TrainResult
        Curves, final accuracies, steps per second and wall time, and the model.

    Raises
    ------
    TrainError
        CUDA requested where there is none, an empty OOD split, a resume whose
        configuration or dataset differs from the checkpoint, ``out`` already holding a
        checkpoint without ``resume=True``, out of memory, a training loss that became NaN
        or infinite (the message names the step; no checkpoint is saved after it).
    kgaug.train.MissingTokenError
        The dataset has tokens the (resumed) vocabulary lacks.

    Notes
    -----
    Under ``torchrun --nproc_per_node K`` the same call trains with
    DistributedDataParallel: every process takes ``batch_size / K`` rows of the same global
    batch, so the run matches a single process on the full batch.
    """
    torch = _torch()
    from transformers import GPT2LMHeadModel

    config = config if config is not None else TrainConfig.preset("cpu-small")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    t_start = time.perf_counter()

    # 1. processes and device -------------------------------------------------------
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device, amp, use_compile = _resolve_device(config, local_rank)
    threads = None
    if device.type == "cpu":
        threads = config.threads if config.threads is not None else auto_threads()
        torch.set_num_threads(threads)
    distributed = world > 1
    if distributed:
        import torch.distributed as dist

        if config.batch_size % world:
            raise TrainError(
                f"batch_size={config.batch_size} is not divisible by the {world} processes; "
                f"use a multiple of {world}"
            )
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    main = rank == 0
    out_dir = Path(out) if out is not None else None
    ckpt_root = out_dir / "checkpoints" if out_dir is not None else None
    if config.checkpoint_every is not None and out_dir is None:
        raise TrainError("checkpoint_every needs an output folder (out=...)")
    if resume and ckpt_root is None:
        raise TrainError("resume=True needs the output folder of the run (out=...)")
    ckpt_path = latest_checkpoint(ckpt_root) if ckpt_root is not None else None
    if resume and ckpt_path is None:
        raise TrainError(f"resume=True but {ckpt_root} holds no complete checkpoint")
    if not resume and ckpt_path is not None:
        raise TrainError(
            f"{out_dir} already holds a checkpoint ({ckpt_path.name}); pass resume=True "
            "(--resume) to continue that run, or choose another output folder"
        )

    # 2. data -----------------------------------------------------------------------
    ds = _load_dataset(dataset)
    where = f"{dataset}" if not isinstance(dataset, Dataset) else "the dataset"
    if not ds.test_ood:
        raise TrainError(
            f"{where}: the test_ood split is empty, so OOD accuracy cannot be measured; "
            "rebuild it with a larger ood_fraction (or more entities/facts)"
        )
    if not ds.train:
        raise TrainError(f"{where}: the train split is empty")
    fingerprint = _fingerprint(ds)
    if ckpt_path is not None:
        # refuse a mismatched resume before anything is built from the new configuration
        meta = read_meta(ckpt_path)
        _check_resume(meta["config"], config, ckpt_path)
        if meta["data_fingerprint"] != fingerprint:
            _check_vocabulary(ckpt_path, ds)
            raise TrainError(
                f"cannot resume from {ckpt_path}: it was trained on a different dataset "
                "(the examples or splits differ); train into a new output folder"
            )
        encoder: SymbolicEncoder | BPEEncoder = load_encoder(ckpt_path)
    elif config.tokenization == "symbolic":
        encoder = SymbolicEncoder(ds.vocabulary())
    elif config.tokenizer is not None:
        encoder = BPEEncoder.from_path(config.tokenizer)
    else:
        encoder = BPEEncoder.train_on(ds.train, config.bpe_vocab_size)
    train_split = encoder.encode(ds.train, "train")
    atomic = [e for e in ds.train if e.kind == "atomic"]
    is_atomic = np.array([e.kind == "atomic" for e in ds.train], dtype=bool)
    rows = np.concatenate(
        [np.arange(len(ds.train))] + [np.flatnonzero(is_atomic)] * (config.atomic_repeat - 1)
    )
    atomic_id = [e for e in atomic if not e.ood]
    atomic_ood = [e for e in atomic if e.ood]
    eval_examples = {
        "atomic": _eval_subset(atomic, config.eval_max, config.seed, 1),
        # Wang et al. report the atomic facts of ID and OOD entities separately
        "atomic_id": _eval_subset(atomic_id, config.eval_max, config.seed, 5),
        "atomic_ood": _eval_subset(atomic_ood, config.eval_max, config.seed, 6),
        "train_inferred": _eval_subset(ds.train_inferred, config.eval_max, config.seed, 2),
        "test_id": _eval_subset(ds.test_id, config.eval_max, config.seed, 3),
        "test_ood": _eval_subset(ds.test_ood, config.eval_max, config.seed, 4),
    }
    split_sizes = {
        "atomic": len(atomic),
        "atomic_id": len(atomic_id),
        "atomic_ood": len(atomic_ood),
        "train_inferred": len(ds.train_inferred),
        "test_id": len(ds.test_id),
        "test_ood": len(ds.test_ood),
    }
    eval_sizes = {k: len(v) for k, v in eval_examples.items() if v}
    if main:
        _warn_small_splits(eval_sizes)
    eval_splits = {k: encoder.encode(v, k) for k, v in eval_examples.items() if v}
    n_positions = max(s.input_ids.shape[1] for s in [train_split, *eval_splits.values()])
    oom = _oom_types()
    try:
        train_t = _to_device(train_split, device)
        eval_t = {k: _to_device(v, device) for k, v in eval_splits.items()}
    except oom:
        raise TrainError(
            _oom_message(config, device, world, "moving the dataset to the device", None)
        ) from None

    # 3. model and optimizer ----------------------------------------------------------
    torch.manual_seed(config.seed)
    gpt_config = gpt2_config(
        config, encoder.vocab_size, n_positions, getattr(encoder, "eos_id", None)
    )
    try:
        model = GPT2LMHeadModel(gpt_config).to(device)
    except oom:
        raise TrainError(
            _oom_message(config, device, world, "moving the model to the device", None)
        ) from None
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]  # biases and layer norms
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=config.lr,
        betas=config.betas,
        fused=device.type == "cuda",
    )
    grokfast = (
        _Grokfast(decay + no_decay, config.grokfast_alpha, config.grokfast_lambda)
        if config.grokfast_lambda > 0
        else None
    )

    # 4. resume -----------------------------------------------------------------------
    start_step = 0
    loss_sum0, loss_steps0 = 0.0, 0
    history: list[dict[str, Any]] = []
    if ckpt_path is not None:
        ckpt = load_checkpoint(ckpt_path, model)
        saved = optimizer_state(ckpt)
        for group, now in zip(saved["param_groups"], optimizer.param_groups):
            for flag in ("fused", "foreach", "capturable", "differentiable"):
                if flag in now:  # this device's kernels, not the saving machine's
                    group[flag] = now[flag]
        optimizer.load_state_dict(saved)
        if grokfast is not None and "gf.0" in ckpt.tensors:
            grokfast.ema = [ckpt.tensors[f"gf.{i}"].to(device) for i in range(len(params))]
        # every process starts from the same seed and draws the same numbers, so rank 0's
        # states are every rank's states
        torch.set_rng_state(ckpt.tensors["rng.cpu"])
        if device.type == "cuda" and "rng.cuda" in ckpt.tensors:
            torch.cuda.set_rng_state(ckpt.tensors["rng.cuda"], device)
        if "loss.sum" in ckpt.tensors:  # the running train-loss mean between evaluations
            loss_sum0 = float(ckpt.tensors["loss.sum"].item())
            loss_steps0 = int(ckpt.tensors["loss.steps"].item())
        start_step = ckpt.step
        assert out_dir is not None
        if main:  # only rank 0 logs (and rewrites) the metrics file
            history = [
                r
                for r in TrainResult.read_metrics(out_dir / "metrics.jsonl")
                if r["step"] <= start_step
            ]

    net = _answer_model(model)
    eval_net = net
    if distributed:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(net, device_ids=[device] if device.type == "cuda" else None)
    if use_compile:
        net = torch.compile(net)

    def autocast() -> Any:
        if amp is not None:
            return torch.autocast(device_type=device.type, dtype=getattr(torch, amp))
        return nullcontext()

    # fp16 (Wang et al.) needs a dynamic loss scaler; bf16 and fp32 never use one
    scaler = torch.amp.GradScaler("cuda") if amp == "float16" else None
    if scaler is not None and ckpt_path is not None and "scaler.scale" in ckpt.tensors:
        scaler.load_state_dict(
            {
                "scale": float(ckpt.tensors["scaler.scale"].item()),
                "growth_tracker": int(ckpt.tensors["scaler.growth"].item()),
                "growth_factor": 2.0,
                "backoff_factor": 0.5,
                "growth_interval": 2000,
            }
        )
    schedule = frozenset(
        checkpoint_schedule(config.max_steps, config.analysis_checkpoints, config.eval_every)
        if ckpt_root is not None
        else ()
    )

    def save(step: int) -> None:
        assert ckpt_root is not None
        running = loss_sum.detach().clone()
        if distributed:  # the mean over processes: restored on every rank, it logs the same
            torch.distributed.all_reduce(running)
            running /= world
        if main:
            extra: dict[str, Any] = {
                "rng.cpu": torch.get_rng_state(),
                "loss.sum": running.double().reshape(1),
                "loss.steps": torch.tensor([loss_steps], dtype=torch.int64),
            }
            if device.type == "cuda":
                extra["rng.cuda"] = torch.cuda.get_rng_state(device)
            if grokfast is not None and grokfast.ema is not None:
                extra.update({f"gf.{i}": e for i, e in enumerate(grokfast.ema)})
            if scaler is not None:
                st = scaler.state_dict()
                extra["scaler.scale"] = torch.tensor([float(st["scale"])], dtype=torch.float64)
                extra["scaler.growth"] = torch.tensor([int(st["_growth_tracker"])])
            save_checkpoint(
                ckpt_root,
                step=step,
                model=model,
                optimizer=optimizer,
                extra_tensors=extra,
                config=config.model_dump(mode="json"),
                data_fingerprint=fingerprint,
                encoder=encoder,
                keep=config.keep_checkpoints,
                protect=schedule,
            )
        if distributed:
            torch.distributed.barrier()

    metrics_file = None
    if out_dir is not None and main:
        out_dir.mkdir(parents=True, exist_ok=True)
        # rewrite the metrics up to the checkpoint: a crashed run may have logged past it
        with open(out_dir / "metrics.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, sort_keys=True) + "\n" for r in history)
        metrics_file = open(out_dir / "metrics.jsonl", "a", encoding="utf-8")  # noqa: SIM115

    # 5. the loop ---------------------------------------------------------------------
    order = _BatchOrder(torch.from_numpy(rows), config.batch_size, config.seed, device)
    if main and config.progress is not False:
        n_params = sum(p.numel() for p in params)
        where = (
            f"{device}, {threads} torch thread(s) of {_cores()} core(s)" if threads else f"{device}"
        )
        print(
            f"kgaug train: {where} (threads= to change); GPT-2 {config.n_layer}x{config.n_embd}"
            f" ({n_params / 1e6:.2f}M parameters), {len(ds.train):,} training examples"
            f" (atomic x{config.atomic_repeat}), batch {config.batch_size}, "
            f"{config.max_steps:,} steps, precision {amp or 'fp32'}",
            file=sys.stderr,
        )
    local = slice(rank, None, world)
    loss_sum = torch.full((), loss_sum0, device=device)
    loss_steps = loss_steps0
    step = start_step
    stop_reason = "max_steps"
    t_loop = time.perf_counter()
    steps_done = 0
    # the first step whose loss was NaN or infinite (-1: none), kept on the device so that
    # checking it costs no synchronization per step; read before any evaluation or save
    bad_step = torch.full((), -1, dtype=torch.long, device=device)

    def check_finite() -> None:
        first = bad_step.clone()
        if distributed:  # every process stops at the same check
            torch.distributed.all_reduce(first, op=torch.distributed.ReduceOp.MAX)
        if first.item() >= 0:
            raise TrainError(_diverged_message(int(first.item()), config, ckpt_root))

    try:
        with progress_bar(
            total=config.max_steps,
            desc="train",
            unit="step",
            enabled=config.progress if main else False,
            initial=start_step,
        ) as bar:
            while step < config.max_steps:
                # one optimizer step
                lr = _lr_at(step, config)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                idx = order.indices(step)[local]
                x, pos, tgt = (t[idx] for t in train_t)
                model.train()
                with autocast():
                    loss = _loss(net(x, pos), tgt)
                bad_step = torch.where(
                    (bad_step < 0) & ~torch.isfinite(loss.detach()), step + 1, bad_step
                )
                if distributed and config.tokenization == "text":
                    # answers differ in length: weight each process's token mean so that
                    # DDP's average over processes is the mean over the global batch's tokens
                    n_local = (tgt != -100).sum()
                    n_global = n_local.clone()
                    torch.distributed.all_reduce(n_global)
                    loss = loss * (n_local * world / n_global)
                if scaler is not None:  # fp16: scale, then work on the true gradients
                    scaler.scale(loss).backward()
                    scaler.unscale_(optimizer)
                else:
                    loss.backward()
                if grokfast is not None:
                    grokfast.apply()
                if config.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
                if scaler is not None:
                    scaler.step(optimizer)  # skipped when the gradients overflowed
                    scaler.update()
                else:
                    optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                loss_sum += loss.detach()
                loss_steps += 1
                step += 1
                steps_done += 1
                bar.update(1)

                # evaluation
                last = step == config.max_steps
                on_cycle = step % config.eval_every == 0
                if on_cycle or last:
                    check_finite()
                    total = loss_sum.clone()
                    if distributed:
                        torch.distributed.all_reduce(total)
                        total /= world
                    record: dict[str, Any] = {
                        "step": step,
                        "epoch": round(order.epoch(step), 4),
                        "lr": lr,
                        "train_loss": total.item() / max(1, loss_steps),
                    }
                    if on_cycle:  # an extra evaluation at max_steps keeps the running mean,
                        loss_sum.zero_()  # so a resumed run logs what an uninterrupted one does
                        loss_steps = 0
                    stop = torch.zeros((), device=device)
                    if main:
                        model.eval()
                        for name, tensors in eval_t.items():
                            acc, lss = _evaluate(
                                eval_net, tensors, config.eval_batch_size, autocast
                            )
                            record[f"acc_{name}"] = acc
                            record[f"loss_{name}"] = lss
                        elapsed = time.perf_counter() - t_loop
                        record["elapsed_s"] = round(elapsed, 3)
                        record["steps_per_s"] = round(steps_done / max(elapsed, 1e-9), 3)
                        history.append(record)
                        if metrics_file is not None:
                            metrics_file.write(json.dumps(record, sort_keys=True) + "\n")
                            metrics_file.flush()
                        if hasattr(bar, "set_postfix"):
                            bar.set_postfix(
                                loss=f"{record['train_loss']:.3f}",
                                **{
                                    k: f"{record[f'acc_{k}']:.2f}"
                                    for k in ("train_inferred", "test_id", "test_ood")
                                    if f"acc_{k}" in record
                                },
                            )
                        ood = record.get("acc_test_ood", 0.0)
                        if config.stop_at_ood is not None and ood >= config.stop_at_ood:
                            stop.fill_(1.0)
                    if distributed:
                        torch.distributed.broadcast(stop, src=0)
                    if stop.item() > 0:
                        stop_reason = "stop_at_ood"
                if ckpt_root is not None and (
                    (config.checkpoint_every and step % config.checkpoint_every == 0)
                    or step in schedule
                    or stop_reason != "max_steps"
                    or step == config.max_steps
                ):
                    check_finite()  # never overwrite a good checkpoint with diverged weights
                    save(step)
                if stop_reason != "max_steps":
                    break
    except oom:
        raise TrainError(
            _oom_message(config, device, world, f"at step {step}", ckpt_root)
        ) from None
    finally:
        if metrics_file is not None:
            metrics_file.close()
    check_finite()
    loop_s = time.perf_counter() - t_loop

    # 6. save ---------------------------------------------------------------------------
    model_dir = None
    if out_dir is not None and main:
        model_dir = out_dir / "model"
        with atomic_dir(model_dir) as tmp:
            from kgaug.train.model import quiet_transformers

            with quiet_transformers():
                model.save_pretrained(tmp)
            encoder.save(tmp)
    if distributed:
        torch.distributed.barrier()
    result = TrainResult(
        config=config,
        history=history,
        steps=step,
        start_step=start_step,
        wall_time_s=time.perf_counter() - t_start,
        loop_time_s=loop_s,
        steps_per_s=steps_done / loop_s if loop_s > 0 else math.nan,
        stop_reason=stop_reason,
        device=str(device),
        threads=threads,
        num_parameters=sum(p.numel() for p in params),
        dataset_phi=ds.phi,
        split_sizes={k: v for k, v in split_sizes.items() if k in eval_sizes},
        eval_sizes=eval_sizes,
        out=out_dir,
        model_dir=model_dir,
        model=model,
        encoder=encoder,
    )
    if out_dir is not None and main and history:
        try:
            fig: Any = result.plot()
            fig.savefig(out_dir / "curves.png", dpi=120, bbox_inches="tight")
            import matplotlib.pyplot as plt

            plt.close(fig)
        except ImportError:
            warnings.warn("matplotlib is not installed; curves.png not written", stacklevel=2)
    return result

"""Training configuration: one validated object, three presets.

This module imports neither torch nor transformers, so a configuration can be built,
validated and printed anywhere.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = ["PRESETS", "TrainConfig", "preset"]

Tokenization = Literal["symbolic", "text"]
Schedule = Literal["constant", "linear"]
Device = Literal["auto", "cpu", "cuda"]
Precision = Literal["auto", "fp32", "bf16", "fp16"]
Activation = Literal["gelu_new", "gelu", "relu"]

# Fields a resumed run may change: they steer how long to go on and what to show, not the
# trajectory of the weights. Everything else must match the checkpoint.
RESUMABLE_FIELDS = frozenset(
    {
        "max_steps",
        "eval_every",
        "eval_batch_size",
        "checkpoint_every",
        "stop_at_ood",
        "progress",
        "keep_checkpoints",
        "analysis_checkpoints",
        "threads",
    }
)


class TrainConfig(BaseModel):
    """Everything that defines a training run (validated; build one or start from a preset).

    Attributes
    ----------
    n_layer, n_embd, n_head : int
        GPT-2 depth, width and attention heads (``n_embd`` divisible by ``n_head``).
    dropout : float
        Residual, embedding and attention dropout.
    activation : {"gelu_new", "gelu", "relu"}
        MLP activation. GPT-2's own is ``"gelu_new"`` (tanh approximation, several
        elementwise kernels: about 45% of a CPU training step of the ``cpu-small`` model
        in a profile); exact ``"gelu"`` is one fused kernel.
    tokenization : {"symbolic", "text"}
        ``"symbolic"``: one token per entity, relation, attribute and answer (Wang et al.'s
        format, the examples' ``tokens``/``answer_token``). ``"text"``: the examples'
        ``question``/``answer`` text with a byte-level BPE tokenizer.
    tokenizer : str, optional
        Text mode: a local folder or ``tokenizer.json`` file to load (never downloaded).
        Default: train a byte-level BPE tokenizer on the dataset's own text.
    bpe_vocab_size : int
        Text mode: vocabulary size of the locally trained BPE tokenizer.
    lr : float
        Peak AdamW learning rate.
    weight_decay : float
        AdamW weight decay (weight matrices and embeddings; never biases or norms).
    betas : tuple of float
        AdamW betas.
    batch_size : int
        Global batch size (split over processes under ``torchrun``).
    atomic_repeat : int
        How often each atomic fact appears per epoch of the batch order (1: once, like every
        other example). Atomic facts are a small share of a training set of phi 9 and
        must be memorized perfectly, OOD ones included, for OOD reasoning to work; 4 gives
        them four times the weight.
    warmup_steps : int
        Linear warm-up steps from 0 to ``lr``.
    schedule : {"constant", "linear"}
        After warm-up: constant ``lr``, or linear decay to 0 at ``max_steps`` (the
        Hugging Face Trainer's default, which the paper used).
    max_steps : int
        Optimizer steps to run.
    grad_clip : float or None
        Clip the global gradient norm to this value (``None``: no clipping).
    grokfast_alpha, grokfast_lambda : float
        Grokfast EMA filter (Lee et al., 2024): ``ema = alpha * ema + (1 - alpha) * g`` and
        ``g += lambda * ema``. ``grokfast_lambda = 0`` turns it off.
    eval_every : int
        Steps between evaluations (accuracies, losses, a metrics line, the progress bar).
    eval_max : int or None
        Evaluate on at most this many examples per split (a fixed seeded subset).
    eval_batch_size : int
        Batch size of evaluation.
    stop_at_ood : float or None
        Stop early once OOD accuracy reaches this value.
    checkpoint_every : int or None
        Steps between checkpoints (``None``: only at the end; needs an output folder).
    keep_checkpoints : int
        Checkpoints kept on disk (the newest ones).
    analysis_checkpoints : int
        Also save this many checkpoints on a log-spaced schedule (dense early, sparse
        late; :func:`kgaug.train.checkpoint.checkpoint_schedule`) and never prune them, for
        :mod:`kgaug.train.analysis` before, during and after generalization (0: off).
    device : {"auto", "cpu", "cuda"}
        ``"auto"`` uses CUDA when available.
    precision : {"auto", "fp32", "bf16", "fp16"}
        ``"auto"``: bf16 autocast on CUDA, fp32 on CPU. ``"fp16"`` (CUDA only): fp16
        autocast with a dynamic loss scaler, as Wang et al. trained.
    compile : bool or None
        ``torch.compile`` the model; ``None``: on CUDA only.
    threads : int or None
        CPU threads of torch. ``None``: one on a machine with two cores or fewer (two
        threads on two busy cores ran several times slower than one), else half the
        cores, at most 8. The first log line says what was chosen.
    seed : int
        Seed of initialization, batch order, dropout and the evaluation subsets.
    progress : bool or None
        Progress bar; ``None`` lets tqdm decide.

    Examples
    --------
    >>> from kgaug.train import TrainConfig
    >>> cfg = TrainConfig.preset("cpu-small", max_steps=100)
    >>> cfg.n_layer, cfg.max_steps
    (4, 100)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    # model
    n_layer: int = Field(4, ge=1)
    n_embd: int = Field(128, ge=1)
    n_head: int = Field(4, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    activation: Activation = "gelu_new"
    # data
    tokenization: Tokenization = "symbolic"
    tokenizer: str | None = None
    bpe_vocab_size: int = Field(2000, ge=260)
    # optimization
    lr: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(0.1, ge=0.0)
    betas: tuple[float, float] = (0.9, 0.999)
    batch_size: int = Field(512, ge=1)
    atomic_repeat: int = Field(1, ge=1)
    warmup_steps: int = Field(0, ge=0)
    schedule: Schedule = "constant"
    max_steps: int = Field(10_000, ge=1)
    grad_clip: float | None = Field(1.0, gt=0.0)
    grokfast_alpha: float = Field(0.98, ge=0.0, lt=1.0)
    grokfast_lambda: float = Field(0.0, ge=0.0)
    # evaluation and checkpoints
    eval_every: int = Field(500, ge=1)
    eval_max: int | None = Field(2000, ge=1)
    eval_batch_size: int = Field(2048, ge=1)
    stop_at_ood: float | None = Field(None, gt=0.0, le=1.0)
    checkpoint_every: int | None = Field(None, ge=1)
    keep_checkpoints: int = Field(2, ge=1)
    analysis_checkpoints: int = Field(0, ge=0)
    # hardware
    device: Device = "auto"
    precision: Precision = "auto"
    compile: bool | None = None
    threads: int | None = Field(None, ge=1)
    seed: int = Field(0, ge=0)
    progress: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.n_embd % self.n_head:
            raise ValueError(
                f"n_embd={self.n_embd} must be divisible by n_head={self.n_head} "
                f"(e.g. n_embd={self.n_head * max(1, self.n_embd // self.n_head)})"
            )
        for name, b in zip(("betas[0]", "betas[1]"), self.betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {b}")
        if self.tokenizer is not None and self.tokenization != "text":
            raise ValueError("tokenizer= only applies to tokenization='text'")
        return self

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> TrainConfig:
        """A named preset with some fields overridden.

        Parameters
        ----------
        name : {"paper", "wang2024", "cpu-small", "tiny"}
            See :data:`PRESETS`.
        **overrides
            Fields to change.

        Raises
        ------
        ValueError
            An unknown preset (the message lists them) or an invalid override.
        """
        return preset(name, **overrides)

    def diff(self, other: TrainConfig) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ: ``{name: (self_value, other_value)}``."""
        a, b = self.model_dump(), other.model_dump()
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}

    def to_json(self) -> str:
        """The configuration as JSON (sorted keys)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)

    def __repr__(self) -> str:
        default = TrainConfig.model_construct()
        changed = [
            f"{k}={v!r}" for k, v in self.model_dump().items() if v != getattr(default, k, object())
        ]
        return f"TrainConfig({', '.join(changed)})"


#: The presets. ``paper``: "Grokking in the Wild" Sec. 4.1 (8-layer GPT-2, 768 wide, 12
#: heads, AdamW lr 5e-5, batch 512, weight decay 1, bf16, torch.compile, HF Trainer's
#: default linear schedule, ~300k steps). ``wang2024``: Wang et al. (2024)'s released
#: settings (same model with GPT-2's dropout 0.1, lr 1e-4, weight decay 0.1, 2,000 warm-up
#: steps, constant schedule, 1.5M steps, fp16 with a loss scaler; CUDA only).
#: ``cpu-small``: a 4-layer, 128-wide model that groks Wang et al.'s comparison task OOD
#: on a 2-core CPU in minutes (batch 128, atomic facts 8x, weight decay 1, linear decay
#: over 4,000 steps; see ``examples/grok_comparison_cpu.py``), and with
#: ``max_steps=20_000`` their composition task in distribution, late
#: (``examples/grok_composition_cpu.py``). ``tiny``: for tests.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": dict(
        n_layer=8,
        n_embd=768,
        n_head=12,
        dropout=0.1,
        lr=5e-5,
        weight_decay=1.0,
        batch_size=512,
        warmup_steps=0,
        schedule="linear",
        max_steps=300_000,
        grad_clip=1.0,
        eval_every=2000,
        checkpoint_every=10_000,
    ),
    "wang2024": dict(
        n_layer=8,
        n_embd=768,
        n_head=12,
        dropout=0.1,  # GPT-2's default; Wang et al. did not pass --no_dropout
        lr=1e-4,
        weight_decay=0.1,
        batch_size=512,
        warmup_steps=2000,
        schedule="constant",
        max_steps=1_500_000,
        grad_clip=1.0,
        precision="fp16",  # with a dynamic loss scaler, as their --fp16
        eval_every=2000,
        checkpoint_every=50_000,
        analysis_checkpoints=40,  # their dense early saves (every 2k steps up to 40k)
    ),
    "cpu-small": dict(
        n_layer=4,
        n_embd=128,
        n_head=4,
        dropout=0.0,
        activation="gelu",
        lr=1e-3,
        weight_decay=1.0,
        batch_size=128,
        atomic_repeat=8,
        warmup_steps=200,
        schedule="linear",
        max_steps=4000,
        grad_clip=1.0,
        eval_every=200,
        device="cpu",
    ),
    "tiny": dict(
        n_layer=2,
        n_embd=32,
        n_head=2,
        dropout=0.0,
        activation="gelu",
        lr=3e-3,
        weight_decay=0.1,
        batch_size=64,
        warmup_steps=10,
        max_steps=200,
        eval_every=50,
        eval_max=256,
        eval_batch_size=256,
        device="cpu",
    ),
}


def preset(name: str, **overrides: Any) -> TrainConfig:
    """A named preset (see :data:`PRESETS`) with some fields overridden.

    Raises
    ------
    ValueError
        An unknown preset name (the message lists the presets) or an invalid override
        (the message names the field).
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    fields = {**PRESETS[name], **overrides}
    unknown = sorted(set(fields) - set(TrainConfig.model_fields))
    if unknown:
        raise ValueError(f"unknown TrainConfig field(s): {', '.join(unknown)}")
    try:
        return TrainConfig(**fields)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "config"
        raise ValueError(f"preset {name!r}: {where}: {err['msg']}") from None

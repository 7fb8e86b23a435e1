"""The symbolic out-of-context reasoning (OCR) task of the OCR paper, Sec. 3.1 (numpy only).

From "Generalization or Hallucination?", the OCR paper.

Subjects ``S`` are split into ``n`` groups ``S_1 .. S_n`` of ``m`` subjects; every subject of
group ``i`` has the fact ``(s, r1, b_i)`` and the implication ``(s, r2, c_i)``. The first
``m_train`` subjects of each group show both in training, the other ``m_test = m - m_train``
only their fact; the test set asks their implications::

    D_train = facts of all subjects + implications of the training subjects
    D_test  = implications of the test subjects

Subjects are tokenized in the paper's order ``s_{1,1}, s_{2,1}, ..., s_{n,1}, s_{1,2}, ...``.
The vocabulary is ``V = S ∪ {r1, r2} ∪ A1 ∪ A2 ∪ {<EOS>}`` plus ``noise_tokens`` noise
tokens; a sequence is ``[noise..., s, r, <EOS>]`` of length ``seq_len`` (the noise fills the
front) and the target is ``a*(s, r)``. Embeddings are one-hot, so ``d = |V|``; the paper's
sizes (``|S| = 80``, ``n = 20``, five noise tokens) give ``d = 128``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["OCRConfig", "OCRTask", "make_task"]

IntArray = npt.NDArray[np.int64]

#: Defaults per optimizer: (learning rate, weight decay).
OPTIMIZER_DEFAULTS: dict[str, tuple[float, float]] = {"adamw": (0.03, 0.1), "gd": (1.0, 0.0)}


class OCRConfig(BaseModel):
    """Everything that defines one run of the OCR experiment (validated, immutable).

    The defaults reproduce the paper's Section 3.2 setting (``|S| = 80``, ``n = 20``,
    ``m = 4``, ``m_train = 1``, ``d = d_h = 128``, sequence length 16 with noise).

    Attributes
    ----------
    parameterization : {"factorized", "nonfactorized"}
        ``W_O W_V^T`` with two ``d x d_h`` matrices, or a single ``d x d`` matrix ``W_OV``.
    n : int
        Number of groups, ``|A1| = |A2| = n`` (at least 2).
    m : int
        Subjects per group (``|S| = n m``).
    m_train : int
        Subjects per group whose implication is in the training set (``0 <= m_train < m``;
        0 is the control in which OCR has nothing to learn from).
    num_subjects : int or None
        ``|S|``; optional, and when given it must equal ``n * m``.
    d_h : int
        Hidden size of the factorized model (ignored by the non-factorized one).
    seq_len : int
        Sequence length ``T`` (3 = no noise: ``[s, r, <EOS>]``).
    noise_tokens : int
        Size of the noise vocabulary that fills the first ``T - 3`` positions.
    resample_noise : bool
        Draw fresh training noise every step (the test noise is drawn once). With noise
        fixed per sequence, the model can memorize with it (see the docs).
    steps : int
        Full-batch optimizer steps.
    optimizer : {"adamw", "gd"}
        AdamW or plain gradient descent (``torch.optim.SGD`` without momentum).
    lr, weight_decay : float or None
        Default per optimizer: AdamW 0.03 and 0.1, GD 1.0 and 0.
    init : {"gaussian", "symmetric"}
        Small Gaussian weights (standard deviation ``init_scale``; the attention weights
        start at 1 plus that noise), or the symmetric initialization of the paper's
        Assumption 2: ``W_OV(a, z) = alpha`` for every answer ``a`` and token ``z`` and
        ``W_KQ(z) = alpha sqrt(|A| + 1)``, with ``alpha = init_scale``.
    init_scale : float
        Standard deviation (Gaussian) or ``alpha`` (symmetric).
    train_kq : bool
        Train ``W_KQ`` or keep it frozen at its initial value.
    loss_over : {"answers", "vocab"}
        Softmax over the answers ``A = A1 ∪ A2`` (the paper's loss) or the whole vocabulary.
    log_every : int or None
        Metrics every this many steps (default: about 100 points per run).
    seed : int
        Seeds the noise, the initialization and the resampled noise.
    dtype : {"float32", "float64"}
        Parameter dtype.
    device : str
        Torch device (``"cpu"``, ``"cuda"``, ...).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    parameterization: Literal["factorized", "nonfactorized"] = "factorized"
    n: int = Field(20, ge=2)
    m: int = Field(4, ge=2)
    m_train: int = Field(1, ge=0)
    num_subjects: int | None = Field(None, ge=1)
    d_h: int = Field(128, ge=1)
    seq_len: int = Field(16, ge=3)
    noise_tokens: int = Field(5, ge=0)
    resample_noise: bool = True
    steps: int = Field(5000, ge=0)
    optimizer: Literal["adamw", "gd"] = "adamw"
    lr: float | None = Field(None, gt=0, allow_inf_nan=False)
    weight_decay: float | None = Field(None, ge=0, allow_inf_nan=False)
    init: Literal["gaussian", "symmetric"] = "gaussian"
    init_scale: float = Field(0.01, gt=0, allow_inf_nan=False)
    train_kq: bool = True
    loss_over: Literal["answers", "vocab"] = "answers"
    log_every: int | None = Field(None, ge=1)
    seed: int = Field(0, ge=0)
    dtype: Literal["float32", "float64"] = "float32"
    device: str = "cpu"

    @model_validator(mode="after")
    def _consistent(self) -> OCRConfig:
        if self.m_train >= self.m:
            raise ValueError(
                f"m_train={self.m_train} must be smaller than m={self.m}: every group needs "
                f"at least one test subject (m_test = m - m_train = {self.m - self.m_train})"
            )
        if self.num_subjects is not None and self.num_subjects != self.n * self.m:
            raise ValueError(
                f"num_subjects={self.num_subjects} does not match n * m = {self.n} * {self.m} "
                f"= {self.n * self.m}; |S| is split into n groups of m subjects"
            )
        if self.seq_len > 3 and self.noise_tokens == 0:
            raise ValueError(
                f"seq_len={self.seq_len} needs noise tokens for its first {self.seq_len - 3} "
                "positions; set noise_tokens >= 1 or seq_len=3"
            )
        return self

    # ------------------------------------------------------------------ derived
    @property
    def m_test(self) -> int:
        """Test subjects per group, ``m - m_train``."""
        return self.m - self.m_train

    @property
    def vocab_size(self) -> int:
        """``d = |V| = n m + 2 + 2 n + 1 + noise_tokens``."""
        return self.n * self.m + 2 * self.n + 3 + self.noise_tokens

    @property
    def effective_lr(self) -> float:
        """The learning rate used (``lr`` or the optimizer's default)."""
        return self.lr if self.lr is not None else OPTIMIZER_DEFAULTS[self.optimizer][0]

    @property
    def effective_weight_decay(self) -> float:
        """The weight decay used (``weight_decay`` or the optimizer's default)."""
        if self.weight_decay is not None:
            return self.weight_decay
        return OPTIMIZER_DEFAULTS[self.optimizer][1]

    @property
    def effective_log_every(self) -> int:
        """Logging interval used."""
        return self.log_every if self.log_every is not None else max(1, self.steps // 100)

    def describe(self) -> str:
        """One line: the model and the task."""
        model = (
            f"factorized W_O W_V^T (d_h={self.d_h})"
            if self.parameterization == "factorized"
            else "non-factorized W_OV"
        )
        kq = "trainable" if self.train_kq else "frozen"
        return (
            f"{model}, W_KQ {kq}; |S|={self.n * self.m}, n={self.n}, m={self.m}, "
            f"m_train={self.m_train}, d={self.vocab_size}, T={self.seq_len}; "
            f"{self.optimizer} lr={self.effective_lr:g} wd={self.effective_weight_decay:g}, "
            f"{self.init} init {self.init_scale:g}, {self.steps} steps, seed {self.seed}"
        )


class OCRTask:
    """Vocabulary, training and test sequences of the symbolic OCR task.

    Build it with :func:`make_task`. Token ids: subjects ``0 .. nm-1`` (paper order), then
    ``r1``, ``r2``, ``b_1 .. b_n``, ``c_1 .. c_n``, ``<EOS>``, noise tokens.

    Attributes
    ----------
    config : OCRConfig
        The configuration it was built from.
    tokens : tuple of str
        Label per token id (``"s3,2"`` is ``s_{3,2}``, the second subject of group 3).
    train_inputs, test_inputs : ndarray of int64, shape (N, seq_len)
        Token ids; the noise in ``train_inputs`` is the initial draw (resampled every step
        when ``config.resample_noise``).
    train_targets, test_targets : ndarray of int64, shape (N,)
        Answer token ids.
    train_is_implication : ndarray of bool
        Which training sequences ask ``r2`` (the others ask ``r1``).
    train_groups, test_groups : ndarray of int64
        Group ``i`` (0-based) of each sequence's subject.
    """

    def __init__(self, config: OCRConfig) -> None:
        self.config = config
        n, m, mt = config.n, config.m, config.m_train
        S = n * m
        self.r1, self.r2 = S, S + 1
        self.b0 = S + 2
        self.c0 = self.b0 + n
        self.eos = self.c0 + n
        self.noise0 = self.eos + 1
        d = config.vocab_size
        subj = np.arange(S, dtype=np.int64)
        group = subj % n  # s_{i,j} has id (j-1) n + (i-1)
        within = subj // n
        train_subj = within < mt
        self.subject_groups: IntArray = group
        self.is_train_subject = train_subj
        tokens = [f"s{i + 1},{j + 1}" for i, j in zip(group.tolist(), within.tolist())]
        tokens += ["r1", "r2"]
        tokens += [f"b{i + 1}" for i in range(n)] + [f"c{i + 1}" for i in range(n)]
        tokens += ["<EOS>"] + [f"noise{k + 1}" for k in range(config.noise_tokens)]
        assert len(tokens) == d
        self.tokens: tuple[str, ...] = tuple(tokens)

        # training: facts of every subject, then implications of the training subjects
        imp_train = subj[train_subj]
        imp_test = subj[~train_subj]
        tr_s = np.concatenate([subj, imp_train])
        tr_r = np.concatenate([np.full(S, self.r1), np.full(len(imp_train), self.r2)])
        tr_y = np.concatenate([self.b0 + group, self.c0 + group[imp_train]])
        te_s = imp_test
        te_r = np.full(len(imp_test), self.r2, dtype=np.int64)
        te_y = self.c0 + group[imp_test]
        rng = np.random.default_rng(config.seed)
        self.train_inputs: IntArray = self._sequences(tr_s, tr_r, rng)
        self.test_inputs: IntArray = self._sequences(te_s, te_r, rng)
        self.train_targets: IntArray = tr_y.astype(np.int64)
        self.test_targets: IntArray = te_y.astype(np.int64)
        self.train_is_implication = tr_r == self.r2
        self.train_groups: IntArray = group[tr_s]
        self.test_groups: IntArray = group[te_s]
        for a in (
            self.train_inputs,
            self.test_inputs,
            self.train_targets,
            self.test_targets,
            self.train_is_implication,
        ):
            a.setflags(write=False)

    def _sequences(self, s: IntArray, r: IntArray, rng: np.random.Generator) -> IntArray:
        T = self.config.seq_len
        out = np.empty((len(s), T), dtype=np.int64)
        if T > 3:
            out[:, : T - 3] = rng.integers(
                self.noise0, self.noise0 + self.config.noise_tokens, size=(len(s), T - 3)
            )
        out[:, T - 3] = s
        out[:, T - 2] = r
        out[:, T - 1] = self.eos
        return out

    # ------------------------------------------------------------------ views
    @property
    def vocab_size(self) -> int:
        """``d = |V|``."""
        return len(self.tokens)

    @property
    def answers(self) -> IntArray:
        """Token ids of ``A = A1 ∪ A2`` (``b_1 .. b_n, c_1 .. c_n``, contiguous)."""
        return np.arange(self.b0, self.eos, dtype=np.int64)

    @property
    def implications(self) -> IntArray:
        """Token ids of ``A2`` (``c_1 .. c_n``)."""
        return np.arange(self.c0, self.eos, dtype=np.int64)

    @property
    def noise(self) -> IntArray:
        """Token ids of the noise tokens."""
        return np.arange(self.noise0, self.vocab_size, dtype=np.int64)

    def subject(self, group: int, index: int) -> int:
        """Token id of ``s_{group, index}`` (both 1-based, as in the paper)."""
        n, m = self.config.n, self.config.m
        if not (1 <= group <= n and 1 <= index <= m):
            raise ValueError(f"s_{{{group},{index}}} is outside 1..{n} x 1..{m}")
        return (index - 1) * n + (group - 1)

    @staticmethod
    def counts(inputs: npt.ArrayLike, vocab_size: int) -> npt.NDArray[np.float64]:
        """Bag of tokens ``X^T X`` diagonal per sequence: shape (N, d)."""
        x = np.asarray(inputs, dtype=np.int64)
        out = np.zeros((x.shape[0], vocab_size))
        np.add.at(out, (np.repeat(np.arange(x.shape[0]), x.shape[1]), x.ravel()), 1.0)
        return out

    def decode(self, ids: npt.ArrayLike) -> list[str]:
        """Token labels of ``ids``."""
        return [self.tokens[i] for i in np.asarray(ids, dtype=np.int64).ravel().tolist()]

    def summary(self) -> dict[str, Any]:
        """Sizes: subjects, vocabulary, training and test sequences."""
        c = self.config
        return {
            "subjects": c.n * c.m,
            "groups": c.n,
            "m_train": c.m_train,
            "m_test": c.m_test,
            "vocab_size": self.vocab_size,
            "train_facts": int((~self.train_is_implication).sum()),
            "train_implications": int(self.train_is_implication.sum()),
            "test_implications": len(self.test_targets),
            "seq_len": c.seq_len,
        }

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"OCRTask(subjects={s['subjects']}, groups={s['groups']}, m_train={s['m_train']}, "
            f"m_test={s['m_test']}, d={s['vocab_size']}, train={len(self.train_targets)} "
            f"({s['train_implications']} implications), test={s['test_implications']})"
        )


def make_task(config: OCRConfig | None = None, **options: Any) -> OCRTask:
    """Build the OCR task for a configuration (or for ``OCRConfig(**options)``).

    Examples
    --------
    >>> from kgaug.ocr import make_task
    >>> task = make_task(n=20, m=4, m_train=1)
    >>> task.vocab_size, len(task.train_targets), len(task.test_targets)
    (128, 100, 60)
    >>> task.decode(task.test_inputs[0, -3:]), task.decode(task.test_targets[:1])
    (['s1,2', 'r2', '<EOS>'], ['c1'])
    """
    if config is None:
        config = OCRConfig(**options)
    elif options:
        config = OCRConfig(**{**config.model_dump(), **options})
    return OCRTask(config)

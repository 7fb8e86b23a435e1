"""Reading the circuit: logit lens and causal tracing (as in Wang et al., 2024).

Two instruments for a trained (or checkpointed) model, both as arrays over
``(example, layer, position)`` with a table repr and a heatmap:

- :func:`logit_lens`: project every hidden state through the final layer norm and the
  unembedding and record the **rank** of a target token. For composition queries
  ``<h> <r1> <r2>`` the target ``"bridge"`` is the middle entity ``b`` of ``h -r1-> b -r2->
  t``: a generalizing circuit resolves ``b`` in the middle layers at the ``r1`` position.
  For comparisons the targets ``"value1"`` / ``"value2"`` are the two entities' attribute
  values, read in the lower layers at the entity positions. ``"answer"`` is the answer
  token itself.
- :func:`causal_tracing`: replace one input token with another of the same kind so that
  the model's answer changes (a *perturbed* query), then, one (layer, position) at a time,
  patch the perturbed hidden state into the clean run and measure how much of the
  perturbation's effect that single state carries: ``(p_clean - p_patched) / (p_clean -
  p_perturbed)`` for the probability of the clean run's answer (1: this state alone
  carries the change; 0: it does not matter).

Layer 0 is the embedding output; layer ``i`` the output of block ``i``. Both functions
take the model and the encoder of a run (:func:`kgaug.train.load_model`,
:func:`load_checkpoint_model` for a checkpoint of the analysis schedule) and examples of
its dataset; a model whose vocabulary does not match the examples is a clear error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kgaug.dataset import Dataset, Example, entity_token
from kgaug.train.encoding import MissingTokenError, SymbolicEncoder, load_encoder

__all__ = [
    "AnalysisError",
    "CausalTrace",
    "LogitLens",
    "causal_tracing",
    "load_checkpoint_model",
    "logit_lens",
]

Target = str | Callable[[Example], str]


class AnalysisError(ValueError):
    """An analysis that cannot run as asked (the message says why)."""


# ----------------------------------------------------------------------------- helpers
def _torch() -> Any:
    import torch

    return torch


def _check(model: Any, encoder: Any, examples: Sequence[Example]) -> list[Example]:
    if not isinstance(encoder, SymbolicEncoder):
        raise AnalysisError("the logit lens and causal tracing need a symbolic-token run")
    xs = list(examples)
    if not xs:
        raise AnalysisError("no examples to analyse")
    vocab = int(model.get_input_embeddings().weight.shape[0])
    if vocab != encoder.vocab_size:
        raise AnalysisError(
            f"the model has {vocab} token embeddings but the encoder {encoder.vocab_size}: "
            "pass the encoder saved with this model (load_model / load_checkpoint_model)"
        )
    lengths = {len(e.tokens) for e in xs}
    if len(lengths) > 1:
        raise AnalysisError(
            f"examples of one analysis must have the same length (got {sorted(lengths)}); "
            "analyse one kind of query at a time"
        )
    try:
        encoder.encode(xs, "analysis")
    except MissingTokenError as e:
        raise AnalysisError(f"the model's vocabulary does not match the dataset: {e}") from None
    return xs


def _states(model: Any, input_ids: Any) -> list[Any]:
    """Raw residual states: embeddings, then the output of every block (before ``ln_f``)."""
    torch = _torch()
    tr = model.transformer
    pos = torch.arange(input_ids.shape[1], device=input_ids.device)
    h = tr.wte(input_ids) + tr.wpe(pos)[None]
    out = [h]
    for block in tr.h:
        r = block(h)
        h = r[0] if isinstance(r, tuple) else r
        out.append(h)
    return out


def _final_state(model: Any, h: Any, start: int) -> Any:
    """Run blocks ``start..`` on a residual state (the input of block ``start``)."""
    for block in model.transformer.h[start:]:
        r = block(h)
        h = r[0] if isinstance(r, tuple) else r
    return h


def _labels(example: Example) -> list[str]:
    """Position labels such as ``["h", "r1", "r2"]`` or ``["attr", "e1", "e2"]``."""
    out = []
    counts: dict[str, int] = {}
    for t in example.tokens:
        kind = {"<e:": "e", "<r:": "r", "<a:": "attr"}.get(t[:3], t.strip("<>"))
        counts[kind] = counts.get(kind, 0) + 1
        out.append(kind)
    seen: dict[str, int] = {}
    labels = []
    for k in out:
        seen[k] = seen.get(k, 0) + 1
        labels.append(f"{k}{seen[k]}" if counts[k] > 1 else k)
    if example.task == "composition" and labels[:1] == ["e"]:
        labels[0] = "h"
    return labels


def _sample(xs: list[Example], k: int | None, seed: int) -> list[Example]:
    if k is None or len(xs) <= k:
        return xs
    rng = np.random.default_rng(seed)
    return [xs[i] for i in np.sort(rng.choice(len(xs), size=k, replace=False))]


def _resolver(target: Target, dataset: Dataset | None) -> Callable[[Example], str]:
    if callable(target):
        return target
    if target == "answer":
        return lambda e: e.answer_token
    if target == "bridge":

        def bridge(e: Example) -> str:
            if e.task != "composition" or len(e.entities) < 3:
                raise AnalysisError("target='bridge' needs composition queries (h r1 r2 -> t)")
            return entity_token(e.entities[1])

        return bridge
    if target in ("value1", "value2"):
        if dataset is None:
            raise AnalysisError(
                f"target={target!r} needs dataset= (its atomic facts hold the values)"
            )
        values = {
            (e.entities[0], e.relations[0]): e.answer_token
            for e in dataset.train
            if e.kind == "atomic"
        }
        i = 0 if target == "value1" else 1

        def value(e: Example) -> str:
            if e.task != "comparison":
                raise AnalysisError(f"target={target!r} needs comparison examples")
            return values[(e.entities[i], e.relations[0])]

        return value
    raise AnalysisError(
        f"target must be 'answer', 'bridge', 'value1', 'value2' or a callable, got {target!r}"
    )


def _heatmap(values: npt.NDArray[np.float64], labels: Sequence[str], ax: Any, title: str,
             cbar: str, vmin: float, vmax: float, cmap: str) -> Any:  # fmt: skip
    from kgaug.plot import _figure_of, _pyplot

    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 + 0.9 * len(labels), 0.9 + 0.45 * values.shape[0]))
    im = ax.imshow(values, aspect="auto", origin="lower", vmin=vmin, vmax=vmax, cmap=cmap)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(values.shape[0]), ["emb", *(str(i) for i in range(1, values.shape[0]))])
    ax.set_xlabel("position")
    ax.set_ylabel("layer")
    ax.set_title(title)
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            light = (v - vmin) / (vmax - vmin or 1) > 0.6  # the high end of both colormaps
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8,
                    color="black" if light else "white")  # fmt: skip
    ax.figure.colorbar(im, ax=ax, label=cbar)
    return _figure_of(ax)


# ----------------------------------------------------------------------------- logit lens
@dataclass
class LogitLens:
    """Ranks of a target token at every layer and position (see :func:`logit_lens`).

    Attributes
    ----------
    target : str
        What was tracked (``"bridge"``, ``"value1"``, ...).
    positions : list of str
        Position labels (``["h", "r1", "r2"]``).
    ranks : ndarray of int, shape (examples, layers + 1, positions)
        Rank of the target among all tokens (0: the top prediction).
    """

    target: str
    positions: list[str]
    ranks: npt.NDArray[np.int64]
    step: int | None = None

    def mrr(self) -> npt.NDArray[np.float64]:
        """Mean reciprocal rank per (layer, position)."""
        return np.asarray((1.0 / (self.ranks + 1)).mean(axis=0))

    def top1(self) -> npt.NDArray[np.float64]:
        """Share of examples whose top prediction is the target, per (layer, position)."""
        return np.asarray((self.ranks == 0).mean(axis=0))

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per (layer, position)."""
        m, t = self.mrr(), self.top1()
        return [
            {"layer": i, "position": p, "mrr": float(m[i, j]), "top1": float(t[i, j])}
            for i in range(m.shape[0])
            for j, p in enumerate(self.positions)
        ]

    def __repr__(self) -> str:
        from kgaug._table import text_table

        m = self.mrr()
        rows = [[str(i), *(f"{x:.3f}" for x in m[i])] for i in range(m.shape[0])]
        at = f" at step {self.step}" if self.step is not None else ""
        return (
            f"logit lens{at}: rank of the {self.target} token, {self.ranks.shape[0]} examples, "
            "mean reciprocal rank per layer (0 = embeddings) and position\n"
            + text_table(["layer", *self.positions], rows)
        )

    def plot(self, ax: Any = None, title: str | None = None) -> Any:
        """Heatmap of the mean reciprocal rank (matplotlib); returns the Figure."""
        at = f" (step {self.step})" if self.step is not None else ""
        return _heatmap(self.mrr(), self.positions, ax, title or f"logit lens: {self.target}{at}",
                        "mean reciprocal rank", 0.0, 1.0, "viridis")  # fmt: skip


def logit_lens(
    model: Any,
    encoder: Any,
    examples: Sequence[Example],
    target: Target = "answer",
    *,
    dataset: Dataset | None = None,
    max_examples: int | None = 300,
    seed: int = 0,
    batch_size: int = 512,
) -> LogitLens:
    """Rank of a target token when every hidden state is read out as a prediction.

    Parameters
    ----------
    model, encoder
        A trained GPT-2 and its symbolic encoder (:func:`kgaug.train.load_model`).
    examples : sequence of Example
        Queries of one length (e.g. ``dataset.train_inferred`` or ``dataset.test_ood``).
    target : {"answer", "bridge", "value1", "value2"} or callable
        The token to rank: the answer; the bridge entity of a composition query; the
        attribute value of the first / second entity of a comparison (needs ``dataset``);
        or ``callable(example) -> token``.
    dataset : Dataset, optional
        Where the comparison values come from.
    max_examples : int or None
        A seeded subset of at most this many examples (Wang et al. used 300).
    seed : int
        Seed of the subset.
    batch_size : int
        Examples per forward pass.

    Raises
    ------
    AnalysisError
        A non-symbolic run, a vocabulary that does not match the examples, mixed lengths,
        or a target that does not fit the task.
    """
    torch = _torch()
    xs = _sample(_check(model, encoder, examples), max_examples, seed)
    resolve = _resolver(target, dataset)
    tgt = encoder.ids([resolve(e) for e in xs])
    enc = encoder.encode(xs, "analysis")
    device = next(model.parameters()).device
    model.eval()
    L = len(model.transformer.h)
    P = enc.input_ids.shape[1]
    ranks = np.zeros((len(xs), L + 1, P), dtype=np.int64)
    with torch.no_grad():
        for lo in range(0, len(xs), batch_size):
            ids = torch.from_numpy(enc.input_ids[lo : lo + batch_size]).to(device)
            t = torch.from_numpy(tgt[lo : lo + batch_size]).to(device)
            for layer, h in enumerate(_states(model, ids)):
                logits = model.lm_head(model.transformer.ln_f(h)).float()  # (B, P, V)
                score = logits.gather(-1, t[:, None, None].expand(-1, P, 1))
                ranks[lo : lo + len(t), layer] = (logits > score).sum(-1).cpu().numpy()
    name = target if isinstance(target, str) else getattr(target, "__name__", "target")
    return LogitLens(target=name, positions=_labels(xs[0]), ranks=ranks)


# ----------------------------------------------------------------------------- causal tracing
@dataclass
class CausalTrace:
    """Effect of patching single hidden states (see :func:`causal_tracing`).

    Attributes
    ----------
    perturbed : str
        The perturbed position's label.
    positions : list of str
        Position labels.
    effects : ndarray of float, shape (examples, layers + 1, positions)
        ``(p_clean - p_patched) / (p_clean - p_perturbed)`` per example (NaN where the
        example had no effective perturbation).
    skipped : int
        Examples for which no replacement changed the model's answer.
    """

    perturbed: str
    positions: list[str]
    effects: npt.NDArray[np.float64]
    skipped: int = 0
    step: int | None = None
    replaced: list[tuple[str, str]] = field(default_factory=list)

    def mean(self) -> npt.NDArray[np.float64]:
        """Mean effect per (layer, position) over examples with an effective perturbation."""
        e = self.effects[np.isfinite(self.effects).all(axis=(1, 2))]
        return np.asarray(e.mean(axis=0)) if len(e) else np.full(self.effects.shape[1:], np.nan)

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per (layer, position)."""
        m = self.mean()
        return [
            {"layer": i, "position": p, "effect": float(m[i, j])}
            for i in range(m.shape[0])
            for j, p in enumerate(self.positions)
        ]

    def __repr__(self) -> str:
        from kgaug._table import text_table

        m = self.mean()
        rows = [[str(i), *(f"{x:.3f}" for x in m[i])] for i in range(m.shape[0])]
        n = int(np.isfinite(self.effects).all(axis=(1, 2)).sum())
        return (
            f"causal tracing: perturbing '{self.perturbed}' ({n} examples, {self.skipped} "
            "without an effective perturbation); share of the effect carried by each state\n"
            + text_table(["layer", *self.positions], rows)
        )

    def plot(self, ax: Any = None, title: str | None = None) -> Any:
        """Heatmap of the mean effect (matplotlib); returns the Figure."""
        at = f" (step {self.step})" if self.step is not None else ""
        return _heatmap(self.mean(), self.positions, ax,
                        title or f"causal tracing: perturb {self.perturbed}{at}",
                        "share of the effect", 0.0, 1.0, "magma")  # fmt: skip


def causal_tracing(
    model: Any,
    encoder: Any,
    examples: Sequence[Example],
    position: int = 0,
    *,
    max_examples: int | None = 200,
    tries: int = 20,
    seed: int = 0,
) -> CausalTrace:
    """Which hidden states carry the effect of changing one input token.

    For each example the token at ``position`` is replaced by a random token of the same
    kind (entity, relation, attribute) for which the model's answer changes (up to
    ``tries`` candidates; examples without one are skipped and counted). Then each hidden
    state ``(layer, p)`` of the clean run is replaced by the perturbed run's, the rest of
    the network is run, and the drop in the probability of the clean answer is divided
    by the drop the whole perturbation causes.

    Parameters
    ----------
    model, encoder
        A trained GPT-2 and its symbolic encoder.
    examples : sequence of Example
        Queries of one length.
    position : int
        The input position to perturb (0: the head entity of a composition query).
    max_examples : int or None
        A seeded subset of at most this many examples.
    tries : int
        Replacement tokens tried per example.
    seed : int
        Seed of the subset and the replacements.

    Raises
    ------
    AnalysisError
        As :func:`logit_lens`, or a position outside the queries.
    """
    torch = _torch()
    xs = _sample(_check(model, encoder, examples), max_examples, seed)
    enc = encoder.encode(xs, "analysis")
    P = enc.input_ids.shape[1]
    if not 0 <= position < len(xs[0].tokens):
        raise AnalysisError(f"position={position} is outside queries of {len(xs[0].tokens)} tokens")
    device = next(model.parameters()).device
    model.eval()
    L = len(model.transformer.h)
    rng = np.random.default_rng(seed)
    prefix = xs[0].tokens[position][:3]
    pool = np.array([i for i, t in enumerate(encoder.tokens) if t.startswith(prefix)])
    if len(pool) < 2:
        raise AnalysisError(f"no other token of the kind {prefix!r} to put at position {position}")
    ans_pos = torch.from_numpy(enc.positions[:, 0]).to(device)
    effects = np.full((len(xs), L + 1, P), np.nan)
    replaced: list[tuple[str, str]] = []

    def probs(final_states: Any, rows: Any, answers: Any) -> Any:
        """Probability of ``answers`` at the answer positions of ``rows``."""
        logits = model.lm_head(model.transformer.ln_f(final_states)).float()
        at = logits[torch.arange(len(rows), device=device), ans_pos[rows]].softmax(-1)
        return at.gather(-1, answers[:, None])[:, 0]

    with torch.no_grad():
        ids = torch.from_numpy(enc.input_ids).to(device)
        everyone = torch.arange(len(xs), device=device)
        clean_states = _states(model, ids)
        clean_logits = model.lm_head(model.transformer.ln_f(clean_states[-1]))
        ans = clean_logits[everyone, ans_pos].argmax(-1)  # what the clean run answers
        p_clean = probs(clean_states[-1], everyone, ans)
        # one effective replacement per example: the answer must change
        pert = ids.clone()
        ok = torch.zeros(len(xs), dtype=torch.bool, device=device)
        for _ in range(tries):
            if bool(ok.all()):
                break
            todo = (~ok).nonzero()[:, 0]
            pick = rng.integers(0, len(pool), size=len(todo))
            orig = ids[todo, position].cpu().numpy()
            pick = np.where(pool[pick] == orig, (pick + 1) % len(pool), pick)  # another token
            trial = pert[todo].clone()
            trial[:, position] = torch.from_numpy(pool[pick]).to(device)
            final = _states(model, trial)[-1]
            pred = model.lm_head(model.transformer.ln_f(final))[
                torch.arange(len(todo), device=device), ans_pos[todo]
            ].argmax(-1)
            changed = pred != ans[todo]
            pert[todo[changed]] = trial[changed]
            ok[todo[changed]] = True
        keep = ok.nonzero()[:, 0]
        if len(keep):
            pert_states = _states(model, pert[keep])
            p_pert = probs(pert_states[-1], keep, ans[keep])
            denom = p_clean[keep] - p_pert
            big = denom >= 0.1  # the perturbation must move the answer's probability
            keep, denom = keep[big], denom[big]
            pert_states = [h[big] for h in pert_states]
        skipped = int(len(xs) - len(keep))
        for layer in range(L + 1) if len(keep) else ():
            for p in range(P):
                h = clean_states[layer][keep].clone()
                h[:, p] = pert_states[layer][:, p]
                final = h if layer == L else _final_state(model, h, layer)
                p_patch = probs(final, keep, ans[keep])
                effects[keep.cpu().numpy(), layer, p] = (
                    ((p_clean[keep] - p_patch) / denom).cpu().numpy()
                )
        for k in keep.cpu().numpy()[:5].tolist():
            replaced.append((xs[k].tokens[position], encoder.tokens[int(pert[k, position])]))
    labels = _labels(xs[0])
    return CausalTrace(
        perturbed=labels[position], positions=labels, effects=effects, skipped=skipped,
        replaced=replaced,
    )  # fmt: skip


# ----------------------------------------------------------------------------- checkpoints
def load_checkpoint_model(path: str | Path) -> tuple[Any, SymbolicEncoder | Any, int]:
    """A model, its encoder and its step from a checkpoint folder of a training run.

    ``OUT/checkpoints/step-00001000``: the weights are read from ``model.safetensors``
    (nothing is unpickled) into a GPT-2 built from the run's configuration.

    Raises
    ------
    FileNotFoundError
        Not a complete checkpoint folder.
    """
    from safetensors import safe_open
    from safetensors.torch import load_model
    from transformers import GPT2LMHeadModel

    from kgaug.train.config import TrainConfig
    from kgaug.train.loop import gpt2_config

    p = Path(path)
    if not (p / "state.json").is_file():
        raise FileNotFoundError(f"{p}: not a complete checkpoint (no state.json)")
    meta = json.loads((p / "state.json").read_text())
    encoder = load_encoder(p)
    with safe_open(str(p / "model.safetensors"), framework="pt") as f:
        n_positions = int(f.get_slice("transformer.wpe.weight").get_shape()[0])
    cfg = TrainConfig(**meta["config"])
    model = GPT2LMHeadModel(
        gpt2_config(cfg, encoder.vocab_size, n_positions, getattr(encoder, "eos_id", None))
    )
    try:  # tied weights are stored once; load_model restores both
        load_model(model, str(p / "model.safetensors"))
    except RuntimeError as e:
        raise AnalysisError(f"{p}: the weights do not fit the configuration ({e})") from None
    model.eval()  # type: ignore[no-untyped-call]
    return model, encoder, int(meta["step"])

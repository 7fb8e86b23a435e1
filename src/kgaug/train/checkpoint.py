"""Checkpoints that are never half-written and never unpickled.

A checkpoint is a folder ``checkpoints/step-00001000/`` holding

- ``model.safetensors``: the weights (``safetensors.torch.save_model``, tied weights once);
- ``state.safetensors``: AdamW moments and step counts, the Grokfast EMA, the RNG states;
- ``state.json``: step, parameter groups, configuration, dataset and tokenizer fingerprints
  (written last: its presence marks a complete folder);
- the tokenizer files.

It is written into a temporary folder that is renamed into place once complete; then
``checkpoints/latest`` (written atomically, for people and scripts) names it and older
checkpoints beyond ``keep`` are removed. A crash at any moment leaves the previous checkpoint
intact. Loading reads safetensors and JSON only: nothing is unpickled.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kgaug._fileio import atomic_dir, atomic_write

__all__ = [
    "CheckpointState",
    "checkpoint_schedule",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "save_checkpoint",
]

FORMAT = 1


@dataclass
class CheckpointState:
    """What a checkpoint holds besides the model weights."""

    step: int
    config: dict[str, Any]
    data_fingerprint: str
    tokenizer_fingerprint: str
    param_groups: list[dict[str, Any]]
    tensors: dict[str, Any]  # torch tensors: "opt.<i>.<name>", "gf.<i>", "rng.*"
    path: Path


def save_checkpoint(
    root: Path,
    *,
    step: int,
    model: Any,
    optimizer: Any,
    extra_tensors: dict[str, Any],
    config: dict[str, Any],
    data_fingerprint: str,
    encoder: Any,
    keep: int = 2,
    protect: frozenset[int] = frozenset(),
) -> Path:
    """Write a checkpoint under ``root`` (``root/step-XXXXXXXX``) and point ``latest`` at it.

    Returns
    -------
    Path
        The checkpoint folder.
    """
    from safetensors.torch import save_file, save_model

    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-step-*"):  # left by a killed process
        shutil.rmtree(stale, ignore_errors=True)
    name = f"step-{step:08d}"
    final = root / name
    # a resumed run may save its last step again: atomic_dir replaces the folder
    with atomic_dir(final) as tmp:
        save_model(model, str(tmp / "model.safetensors"))
        tensors: dict[str, Any] = {}
        state = optimizer.state_dict()
        for idx, slot in state["state"].items():
            for key, value in slot.items():
                tensors[f"opt.{idx}.{key}"] = value.detach().contiguous().cpu()
        for key, value in extra_tensors.items():
            tensors[key] = value.detach().contiguous().cpu()
        save_file(tensors, str(tmp / "state.safetensors"))
        encoder.save(tmp)
        meta = {
            "format": FORMAT,
            "step": step,
            "config": config,
            "data_fingerprint": data_fingerprint,
            "tokenizer_fingerprint": encoder.fingerprint(),
            "param_groups": state["param_groups"],
        }
        # state.json last: its presence marks a complete folder
        (tmp / "state.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    with atomic_write(root / "latest") as pointer:
        pointer.write(name + "\n")
    # the newest ``keep`` are kept, and those at ``protect`` steps (the analysis schedule)
    old = sorted(
        p
        for p in root.glob("step-*")
        if p.is_dir() and p.name != name and _step_of(p) not in protect
    )
    for p in old[: max(0, len(old) - (keep - 1))]:
        shutil.rmtree(p, ignore_errors=True)
    return final


def _step_of(path: Path) -> int:
    try:
        return int(path.name.split("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def checkpoint_schedule(max_steps: int, n: int, first: int = 10) -> list[int]:
    """``n`` checkpoint steps spaced logarithmically from ``first`` to ``max_steps``.

    Dense early and sparse late, so that an analysis can look before, during and after
    generalization (Wang et al. saved densely for the first 40k of 1.5M steps).

    >>> checkpoint_schedule(10_000, 5, first=10)
    [10, 56, 316, 1778, 10000]
    """
    if n <= 0:
        return []
    if n == 1:
        return [max_steps]
    first = max(1, min(first, max_steps))
    steps = np.unique(np.round(np.geomspace(first, max_steps, n)).astype(np.int64))
    return [int(s) for s in steps]


def list_checkpoints(root: Path) -> list[Path]:
    """Complete checkpoints under ``root``, oldest first."""
    return sorted(p for p in root.glob("step-*") if (p / "state.json").is_file())


def latest_checkpoint(root: Path) -> Path | None:
    """The newest complete checkpoint under ``root``, or ``None``.

    A folder is complete when its ``state.json`` exists (written last, then the folder is
    renamed into place). The newest complete one wins even if a crash came between its
    rename and the update of the ``latest`` pointer.
    """
    done = sorted(p for p in root.glob("step-*") if (p / "state.json").is_file())
    return done[-1] if done else None


def read_meta(path: Path) -> dict[str, Any]:
    """``state.json`` of a checkpoint (step, config, fingerprints), validated."""
    meta_file = path / "state.json"
    try:
        meta: dict[str, Any] = json.loads(meta_file.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{meta_file}: unreadable checkpoint state ({e})") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"{meta_file}: checkpoint format {meta.get('format')!r}, need {FORMAT}")
    return meta


def load_checkpoint(path: Path, model: Any) -> CheckpointState:
    """Load weights into ``model`` and return the rest (safetensors and JSON only)."""
    from safetensors.torch import load_file, load_model

    meta = read_meta(path)
    missing, unexpected = load_model(model, str(path / "model.safetensors"), strict=False)
    if missing or unexpected:
        raise ValueError(
            f"{path / 'model.safetensors'}: weights do not fit the model "
            f"(missing {sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]})"
        )
    return CheckpointState(
        step=int(meta["step"]),
        config=meta["config"],
        data_fingerprint=meta["data_fingerprint"],
        tokenizer_fingerprint=meta["tokenizer_fingerprint"],
        param_groups=meta["param_groups"],
        tensors=load_file(str(path / "state.safetensors")),
        path=path,
    )


def optimizer_state(ckpt: CheckpointState) -> dict[str, Any]:
    """Rebuild an optimizer ``state_dict`` from a checkpoint's tensors."""
    state: dict[int, dict[str, Any]] = {}
    for key, value in ckpt.tensors.items():
        if key.startswith("opt."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value
    return {"state": state, "param_groups": ckpt.param_groups}

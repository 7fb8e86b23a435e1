"""Training throughput: kgaug's loop against the Hugging Face Trainer on the same model.

Run::

    pip install accelerate                     # the HF Trainer needs it; kgaug does not
    python benchmarks/bench_train.py           # CPU: cpu-small model, about 2 minutes
    python benchmarks/bench_train.py --preset wang2024 --steps 300   # on a CUDA machine

Both train the identical ``transformers`` GPT-2 (same ``GPT2Config``, same initial
weights), with the same batch size and learning rate, on Wang et al.'s comparison dataset
(|E| = 1000, 20 attributes, 20 values, phi = 7.2), for the same number of steps:

- **kgaug**: :func:`kgaug.train.train` — the whole dataset as tensors on the device, loss
  on the answer position only (the LM head runs on one position per example), fused AdamW,
  bf16 autocast and ``torch.compile`` on CUDA. One evaluation at the last step is included.
- **HF Trainer**: ``Trainer`` with ``per_device_train_batch_size`` = batch, a
  ``DataLoader`` over the same sequences (the answer token appended, labels ``-100``
  except the answer), ``bf16`` and ``torch_compile`` on CUDA, no evaluation, no saving, no
  logging integrations. Its steps/s is the Trainer's own ``train_steps_per_second``.

The first ``--warmup`` steps of each (compilation, allocator warm-up) are not timed: the
Trainer is clocked by a callback between step ``warmup`` and step ``warmup + steps``;
kgaug by the difference between a ``warmup``-step and a ``warmup + steps``-step run (the
same setup and final evaluation in both).
Target (issue 5): kgaug >= 3x the HF Trainer's steps/s on one H100.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from typing import Any

import torch

from kgaug.train import TrainConfig, train, wang_dataset
from kgaug.train.loop import auto_threads, gpt2_config


def _hf_steps_per_s(ds: Any, cfg: TrainConfig, steps: int, warmup: int, device: str) -> float:
    from transformers import GPT2LMHeadModel, Trainer, TrainerCallback, TrainingArguments

    from kgaug.train.encoding import SymbolicEncoder

    enc = SymbolicEncoder(ds.vocabulary())
    split = enc.encode(ds.train, "train")
    n, width = split.input_ids.shape
    seq = torch.zeros((n, width + 1), dtype=torch.long)
    seq[:, :width] = torch.from_numpy(split.input_ids)
    rows = torch.arange(n)
    answer_at = torch.from_numpy(split.positions[:, 0]) + 1
    seq[rows, answer_at] = torch.from_numpy(split.targets[:, 0])
    labels = torch.full_like(seq, -100)
    labels[rows, answer_at] = seq[rows, answer_at]

    class Data(torch.utils.data.Dataset):  # type: ignore[misc]
        def __len__(self) -> int:
            return n

        def __getitem__(self, i: int) -> dict[str, Any]:
            return {"input_ids": seq[i], "labels": labels[i]}

    torch.manual_seed(cfg.seed)
    model = GPT2LMHeadModel(gpt2_config(cfg, enc.vocab_size, width + 1))
    cuda = device == "cuda"
    marks: dict[int, float] = {}

    class Clock(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if cuda:
                torch.cuda.synchronize()
            marks[state.global_step] = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            per_device_train_batch_size=cfg.batch_size,
            max_steps=warmup + steps,
            learning_rate=cfg.lr,
            weight_decay=cfg.weight_decay,
            warmup_steps=0,
            lr_scheduler_type="constant",
            max_grad_norm=cfg.grad_clip or 0.0,
            bf16=cuda,
            torch_compile=cuda,
            use_cpu=not cuda,
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            report_to=[],
            dataloader_drop_last=True,
            disable_tqdm=True,
            seed=cfg.seed,
        )
        Trainer(model=model, args=args, train_dataset=Data(), callbacks=[Clock()]).train()
    return steps / (marks[warmup + steps] - marks[warmup])


def _kgaug_steps_per_s(ds: Any, cfg: TrainConfig, steps: int, warmup: int) -> float:
    times = []
    for max_steps in (warmup, warmup + steps):
        c = cfg.model_copy(update={"max_steps": max_steps, "eval_every": max_steps})
        t0 = time.perf_counter()
        train(ds, c)
        times.append((max_steps, time.perf_counter() - t0))
    (w, tw), (total, tt) = times
    return (total - w) / max(tt - tw, 1e-9)


def main() -> None:
    """Run the benchmark and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="cpu-small")
    ap.add_argument("--steps", type=int, default=60, help="timed steps per side")
    ap.add_argument("--warmup", type=int, default=10, help="untimed steps per side")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument(
        "--threads", type=int, default=auto_threads(), help="CPU threads of both trainers"
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)  # the same for both: the Trainer uses torch's setting

    ds = wang_dataset("comparison", phi=7.2, max_test=2000)
    cfg = TrainConfig.preset(
        args.preset, device=args.device, progress=False, warmup_steps=0, threads=args.threads
    )
    hf = _hf_steps_per_s(ds, cfg, args.steps, args.warmup, args.device)
    ours = _kgaug_steps_per_s(ds, cfg, args.steps, args.warmup)
    name = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor()
    print(
        f"\n{args.preset}: {cfg.n_layer} layers x {cfg.n_embd}, batch {cfg.batch_size}, "
        f"{len(ds.train):,} training examples; {args.device} ({name or 'cpu'}), "
        f"{os.cpu_count()} CPUs, {args.threads} torch thread(s), torch {torch.__version__}\n"
    )
    print(f"{'trainer':<12} {'steps/s':>9} {'speed-up':>9}")
    print(f"{'HF Trainer':<12} {hf:>9.2f} {1.0:>8.2f}x")
    print(f"{'kgaug':<12} {ours:>9.2f} {ours / hf:>8.2f}x")


if __name__ == "__main__":
    main()

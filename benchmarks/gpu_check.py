"""The GPU check in one call: trainer throughput against the HF Trainer, and Wang et al.'s run.

Prepared for a session that is lent one NVIDIA H100/H200 (about 8 minutes in all)::

    PYTHONUNBUFFERED=1 python benchmarks/gpu_check.py --out "$OUT/gpu_check.json"

1. **Throughput** (about 2 minutes): the ``wang2024`` model (8 layers x 768, batch 512)
   on Wang et al.'s comparison dataset (|E| = 1000, 20 attributes, 20 values, phi 7.2),
   kgaug's loop (bf16, ``torch.compile``, fused AdamW) against the Hugging Face Trainer on
   the identical model and data (``benchmarks/bench_train.py``; the Trainer needs the
   ``accelerate`` package: if it is missing that side is reported as skipped). Target:
   kgaug >= 3x the Trainer's steps/s.
2. **Wang et al.'s comparison run** (the rest of ``--budget-s``, default 300 s):
   ``wang2024`` exactly (fp16 with a loss scaler, dropout 0.1, lr 1e-4, weight decay 0.1)
   on their sizes, their 5-token format and per-attribute labels, natural labels, for as
   many steps as the budget allows at the measured speed; the curve and the final test
   ID / OOD accuracies go to the JSON. Also the ``cpu-small`` recipe on the CUDA device.

Everything is written to one JSON file (``--out``). ``--smoke`` runs a few steps of each on
any machine (CPU included) to check the script itself.

On this workplace's H200 image (Python 3.12, torch, transformers, accelerate, numpy,
scipy, networkx, tqdm) only ``pydantic`` is missing; carry it as wheels (see the device
tool's README: ``pip download --no-deps --only-binary=:all: --python-version 3.12 ...``
for pydantic, pydantic-core, annotated-types, typing-inspection) and run with
``PYTHONPATH=src`` so nothing needs installing there.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_train import _hf_steps_per_s, _kgaug_steps_per_s

from kgaug.train import TrainConfig, train, wang_dataset


def _env() -> dict[str, Any]:
    cuda = torch.cuda.is_available()
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "memory_gb": round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
        if cuda
        else None,
    }


def _run(ds: Any, cfg: TrainConfig) -> dict[str, Any]:
    t0 = time.perf_counter()
    res = train(ds, cfg)
    return {
        "config": cfg.model_dump(mode="json"),
        "steps": res.steps,
        "steps_per_s": res.steps_per_s,
        "wall_s": time.perf_counter() - t0,
        "final": res.final,
        "best_ood": res.best_ood,
        "history": res.history,
    }


def main() -> None:
    """Run the checks and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="gpu_check.json", help="JSON file to write")
    ap.add_argument("--budget-s", type=float, default=300.0, help="seconds for the Wang run")
    ap.add_argument("--steps", type=int, default=200, help="timed throughput steps per side")
    ap.add_argument("--smoke", action="store_true", help="a few steps of everything (any device)")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    report: dict[str, Any] = {"env": _env(), "smoke": args.smoke}
    out = Path(args.out)

    def save() -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1, default=str))

    # 1. throughput -----------------------------------------------------------------
    sizes = {"num_entities": 100, "num_attributes": 4, "num_values": 8} if args.smoke else {}
    ds = wang_dataset("comparison", phi=7.2, max_test=2000, format="wang", **sizes)
    preset = "tiny" if args.smoke else "wang2024"
    steps, warmup = (20, 5) if args.smoke else (args.steps, 20)
    cfg = TrainConfig.preset(
        preset, device=device, progress=False, warmup_steps=0,
        precision="bf16" if device == "cuda" else "fp32",
    )  # fmt: skip
    tp: dict[str, Any] = {"preset": preset, "timed_steps": steps, "warmup_steps": warmup}
    t0 = time.perf_counter()
    tp["kgaug_steps_per_s"] = _kgaug_steps_per_s(ds, cfg, steps, warmup)
    try:
        tp["hf_steps_per_s"] = _hf_steps_per_s(ds, cfg, steps, warmup, device)
        tp["speedup"] = tp["kgaug_steps_per_s"] / tp["hf_steps_per_s"]
    except Exception as e:
        tp["hf_error"] = f"{type(e).__name__}: {e}"
    tp["wall_s"] = time.perf_counter() - t0
    report["throughput"] = tp
    save()
    print(json.dumps(tp, indent=1), flush=True)

    # 2. Wang et al.'s comparison run, as many steps as the budget allows ----------------
    try:
        wang_cfg = TrainConfig.preset(
            preset, device=device, progress=False, eval_every=10 if args.smoke else 1000,
            precision="fp16" if device == "cuda" else "fp32",
        )  # fmt: skip
        sps = tp["kgaug_steps_per_s"] * 0.9  # fp16 + evaluations
        budget = 10 if args.smoke else max(100, int(sps * args.budget_s * 0.8))
        wang_cfg = wang_cfg.model_copy(update={"max_steps": budget, "checkpoint_every": None})
        report["wang2024_comparison"] = _run(ds, wang_cfg)
    except Exception:
        report["wang2024_comparison"] = {"error": traceback.format_exc()}
    save()

    # 3. the CPU recipe on the GPU ---------------------------------------------------------
    try:
        small = wang_dataset("comparison", num_entities=200, num_attributes=5, num_values=10,
                             phi=9, max_test=2000)  # fmt: skip
        scfg = TrainConfig.preset("cpu-small", device=device, progress=False)
        if args.smoke:
            scfg = scfg.model_copy(update={"max_steps": 20, "eval_every": 10})
        report["cpu_small_recipe"] = _run(small, scfg)
    except Exception:
        report["cpu_small_recipe"] = {"error": traceback.format_exc()}
    save()
    print(f"wrote {out}", flush=True)


if __name__ == "__main__":
    main()

"""Read the comparison circuit a small GPT-2 forms while it groks (logit lens, causal tracing).

Trains ``cpu-small`` on Wang et al.'s comparison task (200 entities, 5 attributes, 10 values,
phi 7.2) with 10 log-spaced analysis checkpoints, then:

1. at every checkpoint, the logit lens: how well the hidden state at the first entity's
   position, one layer up, names that entity's attribute value (mean reciprocal rank over
   OOD queries), next to test OOD accuracy: the value is read out before OOD accuracy
   rises;
2. for the final model, the logit lens of both values and of the answer, and causal tracing
   of both entities: the first entity's value sits at its own position in the lower layers
   and moves to the last position in the upper ones, where the comparison is made (Wang et
   al.'s parallel circuit).

Writes ``circuit_comparison.png`` and ``circuit.json`` to OUT_DIR. About 4 minutes on 2
cores. Needs PyTorch, transformers and matplotlib.

Run: python examples/read_the_circuit.py [OUT_DIR] [--seed 0] [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from kgaug.train import TrainConfig, causal_tracing, logit_lens, train, wang_dataset
from kgaug.train.analysis import load_checkpoint_model
from kgaug.train.checkpoint import list_checkpoints

ap = argparse.ArgumentParser()
ap.add_argument("out", nargs="?", default=".", help="folder for the run and the plots")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--quick", action="store_true", help="a 40-step smoke run")
args = ap.parse_args()
out = Path(args.out)

ds = wang_dataset("comparison", num_entities=200, num_attributes=5, num_values=10, phi=7.2,
                  seed=args.seed, max_test=2000)  # fmt: skip
extra = {"max_steps": 40, "eval_every": 10} if args.quick else {}
cfg = TrainConfig.preset("cpu-small", seed=args.seed, analysis_checkpoints=10, **extra)
run = out / "comparison_run"
shutil.rmtree(run, ignore_errors=True)
result = train(ds, cfg, out=run)
acc = {r["step"]: r["acc_test_ood"] for r in result.history}

# 1. the value read-out over training
rows = []
for path in list_checkpoints(run / "checkpoints"):
    model, enc, step = load_checkpoint_model(path)
    lens = logit_lens(model, enc, ds.test_ood, "value1", dataset=ds, max_examples=200)
    near = min(acc, key=lambda s: abs(s - step))
    rows.append((step, float(lens.mrr()[1, 1]), float(lens.mrr()[-1, 1]), acc[near]))
print(f"{'step':>6} {'value1 MRR, layer 1 at e1':>26} {'last layer at e1':>17} {'test OOD':>9}")
for step, m1, m_last, a in rows:
    print(f"{step:>6} {m1:>26.3f} {m_last:>17.3f} {a:>9.3f}")

# 2. the final circuit
model, enc = result.model, result.encoder
lenses = [
    logit_lens(model, enc, ds.test_ood, t, dataset=ds) for t in ("value1", "value2", "answer")
]
traces = [causal_tracing(model, enc, ds.test_ood, position=p, max_examples=200) for p in (1, 2)]
for x in (*lenses, *traces):
    print(x, "\n")
record = {
    "over_training": rows,
    "lens": [x.to_records() for x in lenses],
    "tracing": [x.to_records() for x in traces],
}
(out / "circuit.json").write_text(json.dumps(record, indent=1))

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib not installed: no plots")
else:
    fig, axes = plt.subplots(2, 3, figsize=(16, 8.5))
    for ax, x in zip(axes.ravel(), (*lenses, *traces)):
        x.plot(ax=ax)
    ax = axes[1, 2]
    steps = [r[0] for r in rows]
    ax.plot(steps, [r[1] for r in rows], "o-", label="value1 read out at e1, layer 1 (MRR)")
    ax.plot(steps, [r[3] for r in rows], "s--", label="test OOD accuracy")
    ax.set_xscale("log")
    ax.set_xticks(steps[::2], [str(s) for s in steps[::2]])
    ax.minorticks_off()
    ax.set_xlabel("optimizer step (analysis checkpoints)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title("over training: the value is read out first")
    fig.suptitle(
        "comparison circuit of cpu-small at phi 7.2, OOD queries <attr> <e1> <e2>: values read "
        "at their entity positions (layer 1), compared at the last position (layers 2-4)"
    )
    fig.tight_layout()
    fig.savefig(out / "circuit_comparison.png", dpi=100)
    print(f"wrote {out / 'circuit_comparison.png'}")
    assert np.isfinite([r[1] for r in rows]).all()

"""Reproduce Section 3.2 of "Generalization or Hallucination?" (the OCR paper).

Only the factorized one-layer attention model does OCR.

The symbolic out-of-context reasoning task with |S| = 80 subjects in n = 20 groups of m = 4,
one training subject per group (m_train = 1), sequences of length 16 with noise, d = 128.
Trains the factorized model (W_O W_V^T, d_h = 128), the non-factorized one (W_OV) and the
factorized one with d_h = 4, prints the final metrics and saves the curves. Needs PyTorch
(pip install "kgaug[train]"); about 15-60 s on a 2-core CPU.

Run: python examples/ocr_reproduction.py [OUT_DIR] [--steps 5000] [--seed 0] [--quick]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from kgaug.ocr import plot_curves, reproduce, summary_table

ap = argparse.ArgumentParser()
ap.add_argument("out", nargs="?", default=".", help="folder for ocr_reproduction.png")
ap.add_argument("--steps", type=int, default=5000, help="training steps (default 5000)")
ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
ap.add_argument("--quick", action="store_true", help="2000 steps (a quick check)")
args = ap.parse_args()
steps = 2000 if args.quick else args.steps

t0 = time.perf_counter()
results = reproduce(steps=steps, seed=args.seed, d_h=128, small_d_h=4)
wall = time.perf_counter() - t0
fact, nonfact, small = results

print(
    "Generalization or Hallucination?, Sec. 3.2: "
    f"|S| = 80, n = 20, m = 4, m_train = 1, d = 128, {steps} steps"
)
print(summary_table(results))
bound = math.log(20)
print(f"\nlog|A2| = {bound:.3f}; chance mean rank = {fact.chance_mean_rank:g}")
print(f"total wall time {wall:.1f} s")
fit = max(fact.train_loss, nonfact.train_loss) < 0.01
checks = {
    "both models fit the training set (train loss < 0.01)": fit,
    "factorized d_h=128 generalizes (test accuracy >= 0.95)": fact.test_accuracy >= 0.95,
    "non-factorized does not (test loss >= log|A2| - 0.01)": nonfact.test_loss >= bound - 0.01,
    "factorized d_h=4 still generalizes (test accuracy >= 0.8)": small.test_accuracy >= 0.8,
}
for what, ok in checks.items():
    print(f"[{'ok' if ok else 'FAILED'}] {what}")

try:
    import matplotlib

    matplotlib.use("Agg")
except ImportError:
    print("matplotlib not installed: pip install 'kgaug[plot]' to save the plot")
else:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    title = "Generalization or Hallucination?, Sec. 3.2: factorized vs non-factorized"
    fig = plot_curves(results, title=title)
    fig.savefig(out / "ocr_reproduction.png", dpi=120)
    print(f"saved {out / 'ocr_reproduction.png'}")

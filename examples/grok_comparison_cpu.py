"""Comparison groks OOD at phi = 9 but not at phi = 0.5: the paper's claim on a 2-core CPU.

Wang et al.'s synthetic comparison KG (200 entities, 5 attributes, 10 values; 10% of each
attribute's entities held out as OOD) is split into two ID/OOD datasets that differ only
in phi, the number of comparison training examples per ID atomic fact: 9 (enough to form
the comparison circuit) and 0.5 (the raw-2Wiki ratio the paper starts from). The
``cpu-small`` preset (4-layer GPT-2, 128 wide) trains on each for the same number of
steps. The table reports final and best accuracies next to the majority-class rate of
the OOD answers (</=/>), and the curves go to ``grok_comparison_cpu.png``. Needs PyTorch
and transformers (pip install "kgaug[train,plot]"); about 2 x 6 minutes on 2 cores.

Run: python examples/grok_comparison_cpu.py [OUT_DIR] [--steps 3000] [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections import Counter
from pathlib import Path

from kgaug.train import TrainConfig, train, wang_dataset

ap = argparse.ArgumentParser()
ap.add_argument("out", nargs="?", default=".", help="folder for the plot and the two runs")
ap.add_argument("--steps", type=int, default=3000, help="steps per run (default 3000)")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--quick", action="store_true", help="a 30-step smoke run")
args = ap.parse_args()
steps = 30 if args.quick else args.steps
out = Path(args.out)

rows = []
results = {}
for phi in (9.0, 0.5):
    ds = wang_dataset(
        "comparison",
        num_entities=200,
        num_attributes=5,
        num_values=10,
        phi=phi,
        seed=args.seed,
        max_test=2000,
    )
    cfg = TrainConfig.preset(
        "cpu-small", max_steps=steps, eval_every=max(10, steps // 20), seed=args.seed
    )
    run = out / f"phi_{phi:g}"
    shutil.rmtree(run, ignore_errors=True)  # a fresh run each time (train refuses to overwrite)
    t0 = time.perf_counter()
    result = train(ds, cfg, out=run)
    wall = time.perf_counter() - t0
    answers = Counter(e.answer_token for e in ds.test_ood)
    majority = max(answers.values()) / len(ds.test_ood)
    results[phi] = result
    f = result.final
    rows.append(
        (phi, len(ds.train), f["train_inferred"], f["test_id"], f["test_ood"],
         result.best_ood, majority, wall)
    )  # fmt: skip

print(f"cpu-small, {steps} steps per run, seed {args.seed}")
head = ("phi", "train ex.", "train inf.", "test ID", "test OOD", "best OOD", "majority", "time")
print("{:>5} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>7}".format(*head))
for phi, n, tr, tid, tood, best, maj, wall in rows:
    print(
        f"{phi:>5g} {n:>10,} {tr:>10.3f} {tid:>8.3f} {tood:>8.3f} {best:>8.3f} {maj:>8.3f} "
        f"{wall:>6.0f}s"
    )

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib not installed: no plot")
else:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for ax, (phi, result) in zip(axes, results.items()):
        result.plot(ax=ax, title=f"comparison, phi = {phi:g}")
    png = out / "grok_comparison_cpu.png"
    fig.savefig(png, dpi=120, bbox_inches="tight")
    print(f"wrote {png}")

"""Comparison groks OOD at phi = 9 but not at phi = 0.5, on a 2-core CPU in minutes.

Wang et al.'s synthetic comparison KG (200 entities, 5 attributes, 10 values; 10% of each
attribute's entities held out as OOD: their attribute values are training facts, their
comparisons never are) is split into two ID/OOD datasets that differ only in phi, the
number of comparison training examples per ID atomic fact: 9 (enough to form the
comparison circuit) and 0.5 (the raw-2Wiki ratio "Grokking in the Wild" starts from). The
``cpu-small`` preset (4-layer GPT-2, 128 wide; batch 128, atomic facts 8x per epoch,
weight decay 1, linear decay over 4,000 steps), with no overrides, trains on each. The
table reports the step and time at which OOD accuracy first reaches 0.95, final and best
accuracies, and the majority-class rate of the OOD answers (</=/>); the curves go to
``grok_comparison_cpu.png``, with the OOD majority-class rate as a dash-dotted line.
Needs PyTorch and transformers (pip install "kgaug[train,plot]"); about 2 x 3-4 minutes
on 2 cores. ``--replot`` redraws the figure from the runs already in OUT_DIR (their
``metrics.jsonl``) without training.

Run: python examples/grok_comparison_cpu.py [OUT_DIR] [--seed 0] [--quick] [--replot]
"""

from __future__ import annotations

import argparse
import math
import shutil
import time
from collections import Counter
from pathlib import Path

from kgaug.train import TrainConfig, TrainResult, train, wang_dataset

ap = argparse.ArgumentParser()
ap.add_argument("out", nargs="?", default=".", help="folder for the plot and the two runs")
ap.add_argument("--seed", type=int, default=0, help="seed of the graph, split and model")
ap.add_argument("--quick", action="store_true", help="a 30-step smoke run")
ap.add_argument("--replot", action="store_true", help="redraw the figure from OUT_DIR's runs")
args = ap.parse_args()
out = Path(args.out)

rows = []
results = {}
majorities = {}
for phi in (9.0, 0.5):
    ds = wang_dataset(
        "comparison", num_entities=200, num_attributes=5, num_values=10, phi=phi,
        seed=args.seed, max_test=2000,
    )  # fmt: skip
    extra = {"max_steps": 30, "eval_every": 10} if args.quick else {}
    cfg = TrainConfig.preset("cpu-small", seed=args.seed, **extra)
    run = out / f"phi_{phi:g}"
    if args.replot:  # the curves of an earlier run: no training
        history = TrainResult.read_metrics(run / "metrics.jsonl")
        if not history:
            raise SystemExit(f"no {run / 'metrics.jsonl'} to redraw: run without --replot first")
        result = TrainResult(cfg, history, steps=history[-1]["step"], dataset_phi=ds.phi)
        wall = math.nan
    else:
        shutil.rmtree(run, ignore_errors=True)  # a fresh run (train refuses to overwrite)
        t0 = time.perf_counter()
        result = train(ds, cfg, out=run)
        wall = time.perf_counter() - t0
    answers = Counter(e.answer_token for e in ds.test_ood)
    majority = max(answers.values()) / len(ds.test_ood)  # the table's and the plot's baseline
    majorities[phi] = majority
    first = next((r for r in result.history if r["acc_test_ood"] >= 0.95), None)
    results[phi] = result
    f = result.final
    rows.append(
        (phi, len(ds.train), f["atomic_ood"], f["test_id"], f["test_ood"], result.best_ood,
         majority, first, wall)
    )  # fmt: skip

threads = f"redrawn from {out}" if args.replot else f"{results[9.0].threads} torch thread(s)"
print(f"cpu-small, {results[9.0].steps} steps per run, seed {args.seed}, {threads}")
head = ("phi", "train ex.", "OOD atoms", "test ID", "test OOD", "best OOD", "majority",
        "OOD>=0.95 at", "time")  # fmt: skip
print("{:>5} {:>10} {:>9} {:>8} {:>8} {:>8} {:>8} {:>14} {:>7}".format(*head))
for phi, n, atoms, tid, tood, best, maj, first, wall in rows:
    when = f"{first['step']} ({first['elapsed_s']:.0f}s)" if first else "never"
    print(
        f"{phi:>5g} {n:>10,} {atoms:>9.3f} {tid:>8.3f} {tood:>8.3f} {best:>8.3f} {maj:>8.3f} "
        f"{when:>14} {'-' if math.isnan(wall) else f'{wall:.0f}s':>7}"
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
        result.plot(ax=ax, title=f"comparison, phi = {phi:g}", baseline=majorities[phi],
                    baseline_label="OOD majority class")  # fmt: skip
    png = out / "grok_comparison_cpu.png"
    fig.savefig(png, dpi=120, bbox_inches="tight")
    print(f"wrote {png}")

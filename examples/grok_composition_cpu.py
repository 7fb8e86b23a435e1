"""Composition groks in distribution, late, on a 2-core CPU; out of distribution it does not.

Wang et al.'s synthetic composition KG at CPU size (200 entities, 20 relations, 10 facts per
entity; 5% of the atomic facts are OOD: they train as atomic facts, but no 2-hop query
through them does) is split into an ID/OOD dataset of phi = 3.6 two-hop training queries
per ID atomic fact (5% of the ID queries held out as the ID test). The ``cpu-small``
preset, with one override (``max_steps=20_000``: the linear decay spans the longer run),
trains on it. The table reports the step at which the training queries are fitted
(>= 0.95) and the step at which the held-out ID queries reach 0.9: the second comes
thousands of steps after the first, the defining shape of grokking. OOD queries stay near
0, as both papers find for vanilla transformers. The curves go to
``grok_composition_cpu.png``, with the OOD majority-class rate (the most frequent answer
among the OOD test queries) as a dash-dotted line. Needs PyTorch and transformers (pip
install "kgaug[train,plot]"); 10-18 minutes on one core of a shared 2-core machine.
``--replot`` redraws the figure from the run already in OUT_DIR (its ``metrics.jsonl``)
without training.

Run: python examples/grok_composition_cpu.py [OUT_DIR] [--seed 0] [--phi 3.6] [--quick]
     [--replot]
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
ap.add_argument("out", nargs="?", default=".", help="folder for the plot and the run")
ap.add_argument("--seed", type=int, default=0, help="seed of the graph, split and model")
ap.add_argument("--phi", type=float, default=3.6, help="dataset phi (default 3.6)")
ap.add_argument("--quick", action="store_true", help="a 30-step smoke run")
ap.add_argument("--replot", action="store_true", help="redraw the figure from OUT_DIR's run")
args = ap.parse_args()
out = Path(args.out)

ds = wang_dataset(
    "composition", num_entities=200, num_relations=20, facts_per_entity=10, phi=args.phi,
    test_id_fraction=0.05, seed=args.seed, max_test=2000,
)  # fmt: skip
extra = {"max_steps": 30, "eval_every": 10} if args.quick else {"max_steps": 20_000}
cfg = TrainConfig.preset("cpu-small", seed=args.seed, **extra)
run = out / f"composition_phi_{args.phi:g}"
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


def when(split: str, threshold: float) -> str:
    rec = next((r for r in result.history if r.get(f"acc_{split}", -1) >= threshold), None)
    return f"{rec['step']} ({rec['elapsed_s']:.0f}s)" if rec else "never"


f = result.final
threads = f"redrawn from {out}" if args.replot else f"{result.threads} torch thread(s)"
took = "-" if math.isnan(wall) else f"{wall:.0f}s"
print(
    f"cpu-small, {result.steps} steps, seed {args.seed}, {threads}; "
    f"{len(ds.train):,} training examples ({len(ds.train_inferred):,} 2-hop queries), "
    f"{len(ds.test_id):,} ID and {len(ds.test_ood):,} OOD test queries"
)
head = ("phi", "train>=0.95 at", "test ID>=0.9 at", "train", "test ID", "test OOD", "time")
print("{:>5} {:>15} {:>16} {:>6} {:>8} {:>9} {:>7}".format(*head))
print(
    f"{ds.phi:>5.2f} {when('train_inferred', 0.95):>15} {when('test_id', 0.9):>16} "
    f"{f['train_inferred']:>6.3f} {f['test_id']:>8.3f} {f['test_ood']:>9.3f} {took:>7}"
)
print("test ID when the training queries were first fitted (>= 0.95):", end=" ")
fit = next((r for r in result.history if r["acc_train_inferred"] >= 0.95), None)
print(f"{fit['acc_test_id']:.3f} at step {fit['step']}" if fit else "never fitted")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib not installed: no plot")
else:
    answers = Counter(e.answer_token for e in ds.test_ood)
    majority = max(answers.values()) / len(ds.test_ood)
    fig, ax = plt.subplots(figsize=(7, 4))
    result.plot(ax=ax, title=f"composition, phi = {ds.phi:.1f}: ID late, OOD never",
                baseline=majority, baseline_label="OOD majority class")  # fmt: skip
    png = out / "grok_composition_cpu.png"
    fig.savefig(png, dpi=120, bbox_inches="tight")
    print(f"wrote {png}")

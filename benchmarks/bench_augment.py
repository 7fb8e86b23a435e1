"""Lean, role-respecting augmentation: facts added, role violations, overshoot (table).

Runs kgaug's planner on the bundled example KG and two ``random_kg`` graphs, per-relation
targets (phi_G = 3.6) and the demo's dataset target (a composition dataset of phi 3.6),
and audits every result (:func:`kgaug.audit`). With ``--compare-with DIR`` (a checkout of
an earlier kgaug, e.g. ``git worktree add /tmp/old <commit>``) the same graphs go through
that version in a subprocess and its results are audited with *this* version's roles,
so the table shows before and after side by side (the old planner had no dataset target;
its demo used ``overall_phi=5``).

Run: python benchmarks/bench_augment.py [--compare-with /tmp/old] [--relations]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import kgaug

GRAPHS = {
    "example (694 facts)": "kgaug.datasets.load_example()",
    "random_kg(500, 800, 6)": "kgaug.datasets.random_kg(500, 800, 6, seed=1)",
    "random_kg(2000, 3000, 12)": "kgaug.datasets.random_kg(2000, 3000, 12, seed=2)",
}
NEW_MODES = {"phi_G 3.6": {}, "dataset phi 3.6": {"dataset_phi": 3.6}}
OLD_MODES = {"phi_G 3.6": {}, "dataset phi 3.6": {"overall_phi": 5.0}}

_OLD = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
import kgaug
kg = {graph}
t = time.perf_counter()
kg2, plan = kgaug.augment(kg, phi_g=3.6, seed=0, check_ocr_risk=False, **{options})
wall = time.perf_counter() - t
kgaug.io.write_jsonl(kg2, sys.argv[1])
print(json.dumps({{"wall": wall, "unreachable": plan.unreachable}}))
"""


def _row(name: str, mode: str, kg: kgaug.KnowledgeGraph, kg2: kgaug.KnowledgeGraph,
         wall: float, unreachable: list[str], version: str) -> list[str]:  # fmt: skip
    rep = kgaug.audit(kg, kg2, ocr_risk=False)
    top = max((r.overshoot or 0.0) for r in rep.relations if r.synthetic)
    return [
        name,
        mode,
        version,
        f"{rep.synthetic_facts:,}",
        f"{rep.new_entities:,}",
        f"{100 * rep.synthetic_share:.0f}%",
        str(rep.role_violations + rep.functional_violations),
        str(len(rep.overshooting)),
        f"{top:.1f}",
        ", ".join(unreachable) or "-",
        f"{wall:.2f}",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--compare-with", type=Path, help="checkout of an earlier kgaug")
    ap.add_argument("--relations", action="store_true", help="also the per-relation table")
    args = ap.parse_args()
    rows = []
    for name, expr in GRAPHS.items():
        kg = eval(expr)
        for mode, options in NEW_MODES.items():
            t = time.perf_counter()
            try:
                kg2, plan = kgaug.augment(kg, phi_g=3.6, seed=0, check_ocr_risk=False, **options)
            except kgaug.AugmentationError as e:
                bound = str(e).split(" = ")[-1].split(".")[0:2]
                rows.append([name, mode, "this", "-", "-", "-", "-", "-", "-",
                             f"impossible: phi <= {'.'.join(bound)} here", "-"])  # fmt: skip
                continue
            wall = time.perf_counter() - t
            rows.append(_row(name, mode, kg, kg2, wall, plan.unreachable, "this"))
            if args.compare_with is not None:
                with tempfile.TemporaryDirectory() as tmp:
                    out = Path(tmp) / "old.jsonl"
                    code = _OLD.format(graph=expr, options=OLD_MODES[mode])
                    env = {**os.environ, "PYTHONPATH": str(args.compare_with / "src")}
                    res = subprocess.run(
                        [sys.executable, "-c", code, str(out)],
                        env=env, capture_output=True, text=True, check=True,
                    )  # fmt: skip
                    info = json.loads(res.stdout.strip().splitlines()[-1])
                    old = kgaug.KnowledgeGraph.from_jsonl(out)
                    label = "old" + (" (overall 5)" if OLD_MODES[mode] else "")
                    rows.append(_row(name, mode, kg, old, info["wall"], info["unreachable"], label))
    head = ["graph", "target", "version", "facts added", "entities", "synthetic",
            "violations", "> 1.5 phi_G", "max x phi_G", "unreachable", "s"]  # fmt: skip
    print(kgaug._table.text_table(head, rows, align="lllrrrrrrlr"))
    if args.relations:
        kg = kgaug.datasets.load_example()
        _, plan = kgaug.augment(kg, phi_g=3.6, seed=0, check_ocr_risk=False)
        print()
        print(plan)


if __name__ == "__main__":
    main()

"""Augment the bundled KG until every relation reaches phi_G, audit it, build a dataset.

Run: python examples/augment_example_kg.py [OUTDIR]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import kgaug

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="kgaug-"))
kg = kgaug.datasets.load_example()
print(kgaug.compute_phi(kg).to_string(), "\n")

# every relation to phi_G = 3.6, and enough inferred facts for a training set of phi 3.6;
# 'based on' (film -> book) is reported unreachable: books carry at most two outgoing
# facts and nothing points at films, so no fact that keeps the roles can raise it
kg2, plan = kgaug.augment(kg, phi_g=3.6, dataset_phi=3.6, seed=0, check_ocr_risk=False)
print(plan, "\n")
assert kgaug.compute_phi(kg2).failing == plan.unreachable == ["based on"]
print("real facts kept:", kg2.subgraph(provenance=["real"]).num_facts, "of", kg.num_facts)

# every new fact keeps the roles of the real data (a city is never a nationality)
report = kgaug.audit(kg, kg2)
print(report, "\n")
assert report.ok

# the same with counterfactual facts first, fictitious entities for the rest
kg_cf, plan_cf = kgaug.augment(
    kg, strategy=("counterfactual", "fictitious"), seed=0, check_ocr_risk=False
)
print("counterfactual + fictitious:", plan_cf.added_by_provenance, "\n")

ds = kgaug.build_composition_dataset(kg2, phi=3.6, seed=0)
print(ds)
print("written to", ds.write_jsonl(out / "composition"))

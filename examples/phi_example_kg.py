"""phi per relation on the bundled example KG, and what the bounds say.

Run: python examples/phi_example_kg.py [--plot phi.png]
"""

from __future__ import annotations

import argparse

import kgaug

ap = argparse.ArgumentParser()
ap.add_argument("--plot", help="save a phi-per-relation bar chart here (needs matplotlib)")
args = ap.parse_args()

kg = kgaug.datasets.load_example()
print(kg.summary())
print()

rep = kgaug.compute_phi(kg, hops=2, phi_g=3.6)
print(rep)
print()
print("most frequent 2-hop chains:")
for chain, n in rep.chains(2).top(5):
    print(f"  {' -> '.join(chain):<40} {n}")

# Lemma 2 (every hop is r) and the node-count bound for the failing relations
branchings = {r: rep.relations[r].branching for r in rep.failing if rep.relations[r].atomic}
b_min = kgaug.bounds.min_relation_branching(kg.num_entities, 2, 3.6)
print(f"\nLemma 2: at |V| = {kg.num_entities} a relation needs b_r >= {b_min:.3f}")
print(kgaug.bounds.node_bound(branchings, hops=2, phi_g=3.6).reason)

both = kgaug.compute_phi(kg, hops=(2, 3), directed=False)
print(f"\nwith 2+3 hops, undirected: phi = {both.phi:.1f}, verdict: {both.verdict}")

if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    from kgaug.plot import plot_phi

    fig = plot_phi(rep)  # the same as rep.plot()
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
    print(f"saved {args.plot}")

"""The paper's bounds as tables: Lemma 1 against exact counts on random graphs,
Lemma 2's b_r threshold, and the node-count bound.

Run: python examples/bounds_table.py
"""

from __future__ import annotations

import numpy as np

import kgaug
from kgaug import bounds


def random_graph(num_nodes: int, branching: float, seed: int) -> kgaug.KnowledgeGraph:
    """One relation, |V| * b distinct edges between distinct nodes, uniformly at random."""
    rng = np.random.default_rng(seed)
    m = int(num_nodes * branching)
    keys = rng.choice(num_nodes * (num_nodes - 1), size=m, replace=False)
    h = keys // (num_nodes - 1)
    t = keys % (num_nodes - 1)
    t = t + (t >= h)  # skip the diagonal
    return kgaug.KnowledgeGraph.from_arrays(
        h,
        np.zeros(m, dtype=int),
        t,
        entities=[str(i) for i in range(num_nodes)],
        relations=["r"],
    )


print("Lemma 1, phi_3 at b = 2 (paper Fig. 3): formula vs exact paths on random graphs")
print(f"{'|V|':>7} {'formula':>9} {'measured':>9} {'ratio':>6}")
for v in (50, 100, 200, 400, 800, 1600, 3200):
    measured = np.mean(
        [kgaug.compute_phi(random_graph(v, 2.0, s), hops=3, count="paths").phi for s in range(3)]
    )
    f = bounds.expected_phi(v, 2.0, 3)
    print(f"{v:>7} {f:>9.3f} {measured:>9.3f} {f / measured:>6.2f}")
print(f"asymptote b^(n-1) = {bounds.phi_asymptote(2.0, 3):g}\n")

print("Lemma 2: minimal b_r for phi_{n,r} >= phi_G")
print(f"{'|V|':>9} {'n':>2} {'phi_G=3.6':>10} {'phi_G=8':>9} {'phi_G=18':>9}")
for v in (100, 1_000, 100_000):
    for n in (2, 3):
        vals = [bounds.min_relation_branching(v, n, g) for g in (3.6, 8, 18)]
        print(f"{v:>9} {n:>2} " + " ".join(f"{x:>9.3f}" for x in vals))

print("\nNode-count bound, n = 2, phi_G = 3.6")
for bs in ([4.0, 5.0], [3.7], [3.6001], [2.0, 9.0]):
    nb = bounds.node_bound(bs, 2, 3.6)
    print(f"b_r = {bs}: min |V| = {nb.min_nodes}  ({nb.reason})")

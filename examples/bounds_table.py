"""The paper's bounds as tables: Lemma 2's b_r threshold and the node-count bound.

(Lemma 1 against random graphs is examples/lemma1_random_graphs.py.)

Run: python examples/bounds_table.py
"""

from __future__ import annotations

from kgaug import bounds

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

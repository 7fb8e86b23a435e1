"""Benchmark of exactly uniform simple-path sampling (``kgaug.sample_paths``).

Run::

    python benchmarks/bench_sampling.py          # about a minute on 2 cores

On ``kgaug.datasets.powerlaw_kg(100_000, 50, seed=0)`` (the same power-law KG as
bench_phi.py), one process. "setup" is the first call's extra cost (the graph's sparse
index and the walk-count tables); "paths/s" is measured on later calls, best of 3, for
k = 1,000,000 paths (unique=False: independent draws) and k = 200,000 distinct paths
(unique=True: without replacement). Targets: >= 1M 2-hop and >= 0.5M 3-hop paths/s.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np
import scipy

import kgaug


def main() -> None:
    print(
        f"kgaug {kgaug.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs (one process)\n"
    )
    kg = kgaug.datasets.powerlaw_kg(100_000, 50, seed=0)
    t0 = time.perf_counter()
    kgaug.sample_paths(kg, 2, 10, seed=0)
    setup = time.perf_counter() - t0
    print(f"graph: {kg!r}; first call (index build + 10 paths): {setup:.3f} s\n")
    header = (
        f"{'hops':>4} {'unique':>6} {'k':>10} {'seconds':>8} {'paths/s':>12} "
        f"{'walks drawn':>12}  target"
    )
    print(header)
    print("-" * len(header))
    for hops, target in ((2, ">= 1,000,000/s"), (3, ">= 500,000/s"), (4, "")):
        for unique, k in ((False, 1_000_000), (True, 200_000)):
            best = float("inf")
            for rep in range(3):
                t0 = time.perf_counter()
                s = kgaug.sample_paths(kg, hops, k, seed=rep, unique=unique)
                best = min(best, time.perf_counter() - t0)
            print(
                f"{hops:>4} {unique!s:>6} {k:>10,} {best:>8.3f} {k / best:>12,.0f} "
                f"{s.draws:>12,}  {target if not unique else ''}",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""Benchmark of exactly uniform simple-path sampling (``kgaug.sample_paths``).

Run::

    OMP_NUM_THREADS=1 python benchmarks/bench_sampling.py    # about a minute on 2 cores

On ``kgaug.datasets.powerlaw_kg(100_000, 50, seed=0)`` (the same power-law KG as
bench_phi.py), one process. "setup" is the first call's extra cost (the graph's sparse
index and the walk-count tables); "paths/s" is measured on later calls, best of 3, for
k = 1,000,000 paths (unique=False: independent draws) and k = 200,000 distinct paths
(unique=True: without replacement). Targets: >= 1M 2-hop and >= 0.5M 3-hop paths/s.

The second table compares ``sample_paths(kg, hops, 1_000_000, unique=False)`` with plain
numpy samplers written out below (:func:`reference_2hop`, :func:`reference_3hop`), which
are exactly uniform over simple paths too and also return nodes and relations: 2 hops
draw the middle node ``m`` with weight ``in(m) * out(m)`` (one ``searchsorted`` over the
nodes' cumulative weights), then a uniform in-edge and out-edge of ``m``; 3 hops draw the
middle edge ``u -> v`` with weight ``in(u) * out(v)`` (one ``searchsorted`` over the
edges), then a uniform in-edge of ``u`` and out-edge of ``v``; walks that repeat a node are
rejected. Their tables are built before timing (as kgaug's are cached by the first call).
Both run on one core: numpy's sampling, gathers and searches are single-threaded, and the
thread setting is printed with the results.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import scipy

import kgaug

IntArray = npt.NDArray[np.int64]
Reference = Callable[[np.random.Generator, int], tuple[IntArray, IntArray]]


class _Csr:
    """In- and out-edge lists of a graph's path-extending edges (self-loops dropped)."""

    def __init__(self, kg: kgaug.KnowledgeGraph) -> None:
        keep = kg.head_ids != kg.tail_ids
        self.h = kg.head_ids[keep]
        self.r = kg.relation_ids[keep]
        self.t = kg.tail_ids[keep]
        n = kg.num_entities
        self.out_order = np.argsort(self.h, kind="stable")
        self.out_ptr = np.concatenate([[0], np.cumsum(np.bincount(self.h, minlength=n))])
        self.in_order = np.argsort(self.t, kind="stable")
        self.in_ptr = np.concatenate([[0], np.cumsum(np.bincount(self.t, minlength=n))])
        self.dout = np.diff(self.out_ptr)
        self.din = np.diff(self.in_ptr)

    def in_edge(self, rng: np.random.Generator, v: IntArray) -> IntArray:
        """One uniform in-edge of each node (all have one)."""
        return self.in_order[self.in_ptr[v] + rng.integers(0, self.din[v])]

    def out_edge(self, rng: np.random.Generator, v: IntArray) -> IntArray:
        """One uniform out-edge of each node (all have one)."""
        return self.out_order[self.out_ptr[v] + rng.integers(0, self.dout[v])]


def _collect(draw: Callable[[int], tuple[IntArray, IntArray]], k: int) -> tuple[IntArray, IntArray]:
    """Draw batches of walks until ``k`` simple paths, sizing batches by the accept rate."""
    nodes, rels = [], []
    have = drawn = 0
    while have < k:
        rate = have / drawn if drawn else 1.0
        size = int((k - have) / max(rate, 1e-3) * 1.05) + 1000
        n, r = draw(size)
        drawn += size
        nodes.append(n[: k - have])
        rels.append(r[: k - have])
        have += len(nodes[-1])
    return np.concatenate(nodes), np.concatenate(rels)


def reference_2hop(kg: kgaug.KnowledgeGraph) -> Reference:
    """A plain numpy sampler of uniform simple 2-hop paths: ``(nodes, relations)``."""
    g = _Csr(kg)
    cum = np.cumsum(g.din * g.dout)
    total = int(cum[-1])

    def sample(rng: np.random.Generator, k: int) -> tuple[IntArray, IntArray]:
        def draw(size: int) -> tuple[IntArray, IntArray]:
            m = np.searchsorted(cum, rng.integers(0, total, size), side="right")
            e1, e2 = g.in_edge(rng, m), g.out_edge(rng, m)
            a, b = g.h[e1], g.t[e2]
            ok = a != b
            return np.column_stack([a, m, b])[ok], np.column_stack([g.r[e1], g.r[e2]])[ok]

        return _collect(draw, k)

    return sample


def reference_3hop(kg: kgaug.KnowledgeGraph) -> Reference:
    """A plain numpy sampler of uniform simple 3-hop paths: ``(nodes, relations)``."""
    g = _Csr(kg)
    cum = np.cumsum(g.din[g.h] * g.dout[g.t])
    total = int(cum[-1])

    def sample(rng: np.random.Generator, k: int) -> tuple[IntArray, IntArray]:
        def draw(size: int) -> tuple[IntArray, IntArray]:
            e2 = np.searchsorted(cum, rng.integers(0, total, size), side="right")
            u, v = g.h[e2], g.t[e2]
            e1, e3 = g.in_edge(rng, u), g.out_edge(rng, v)
            a, b = g.h[e1], g.t[e3]
            ok = (a != v) & (b != u) & (a != b)
            nodes = np.column_stack([a, u, v, b])[ok]
            return nodes, np.column_stack([g.r[e1], g.r[e2], g.r[e3]])[ok]

        return _collect(draw, k)

    return sample


def main() -> None:
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    print(
        f"kgaug {kgaug.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs (one process), OMP_NUM_THREADS={threads}\n"
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

    k = 1_000_000
    print(
        f"\nkgaug vs the plain numpy reference samplers: k = {k:,}, unique=False, best of 5 "
        f"(interleaved), OMP_NUM_THREADS={threads}\n"
    )
    header = f"{'hops':>4} {'kgaug paths/s':>14} {'reference paths/s':>18} {'kgaug/reference':>16}"
    print(header)
    print("-" * len(header))
    for hops, build in ((2, reference_2hop), (3, reference_3hop)):
        ref = build(kg)
        kgaug.sample_paths(kg, hops, 10, seed=0)  # kgaug's tables, as ref's are built
        t_kg = t_ref = float("inf")
        for rep in range(5):  # interleaved, so both see the same machine load
            t0 = time.perf_counter()
            kgaug.sample_paths(kg, hops, k, seed=rep, unique=False)
            t1 = time.perf_counter()
            ref(np.random.default_rng(rep), k)
            t2 = time.perf_counter()
            t_kg, t_ref = min(t_kg, t1 - t0), min(t_ref, t2 - t1)
        print(
            f"{hops:>4} {k / t_kg:>14,.0f} {k / t_ref:>18,.0f} {t_ref / t_kg:>15.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()

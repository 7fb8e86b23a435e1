"""Torch threads on CPU: steps/s of the ``cpu-small`` recipe at 1 and 2 threads.

Run::

    python benchmarks/bench_threads.py             # idle machine
    python benchmarks/bench_threads.py --busy 1    # with one busy process per extra core

Trains the ``cpu-small`` preset on the comparison recipe's dataset (200 entities, 5
attributes, 10 values, phi 9) for ``--steps`` steps (one evaluation at the end included),
alternating the thread counts ``--repeat`` times, and prints a table. ``--busy N`` starts
N processes that spin on a core each for the whole measurement: a machine shared with
another job. kgaug's default (``threads=None``) is 1 thread on machines with two cores or
fewer, because two threads on two busy cores are several times slower than one.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time

from kgaug.train import TrainConfig, train, wang_dataset


def _spin(seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--busy", type=int, default=0, help="busy processes alongside")
    args = ap.parse_args()
    ds = wang_dataset(
        "comparison", num_entities=200, num_attributes=5, num_values=10, phi=9, max_test=500
    )
    spinners = [mp.Process(target=_spin, args=(3600.0,), daemon=True) for _ in range(args.busy)]
    for p in spinners:
        p.start()
    rows: dict[int, list[float]] = {t: [] for t in args.threads}
    try:
        for _ in range(args.repeat):
            for t in args.threads:
                cfg = TrainConfig.preset(
                    "cpu-small", threads=t, max_steps=args.steps, eval_every=args.steps,
                    progress=False,
                )  # fmt: skip
                rows[t].append(train(ds, cfg).steps_per_s)
    finally:
        for p in spinners:
            p.terminate()
    print(f"cpu-small, {args.steps} steps per run, {args.busy} busy process(es) alongside")
    print(f"{'threads':>7}  {'steps/s (each run)':>24}  {'best':>6}")
    for t, v in rows.items():
        each = ", ".join(f"{x:.1f}" for x in v)
        print(f"{t:>7}  {each:>24}  {max(v):>6.1f}")


if __name__ == "__main__":
    main()

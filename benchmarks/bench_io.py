"""Reading a large TSV: kgaug's two engines against pandas and raw pyarrow.

Run::

    python benchmarks/bench_io.py                  # 5,000,000 lines, about a minute
    python benchmarks/bench_io.py --lines 500000   # seconds

Writes a seeded TSV of ``--lines`` lines into a temporary folder (entity labels ``Q123``
drawn with power-law-ish degrees, about ``lines / 5`` of them; about 800 relation labels
``P123``), then times, one after the other on the same file:

- ``KnowledgeGraph.from_tsv(engine="python")`` (the streaming pure-Python reader),
- ``KnowledgeGraph.from_tsv(engine="pyarrow")`` (``pip install "kgaug[fast]"``),
- ``pandas.read_csv(sep="\\t", header=None, dtype=str)`` (string columns only: no ids,
  no duplicate merge, no checks),
- ``pyarrow.csv.read_csv`` into three string columns (the parse alone).

and prints seconds (best of ``--repeat``), million lines per second and the time relative
to pandas. Both kgaug engines build the same graph (checked). ``--skip-python`` leaves out
the slow engine.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def write_tsv(path: Path, lines: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    n_ent = max(lines // 5, 10)
    ents = [b"Q%d" % (i + 1) for i in rng.permutation(n_ent).tolist()]
    rels = [b"P%d" % (i + 1) for i in rng.permutation(800).tolist()]
    step = 1 << 20
    with open(path, "wb") as fh:
        for start in range(0, lines, step):
            n = min(step, lines - start)
            h = (n_ent * rng.random(n) ** 2.5).astype(np.int64).tolist()
            t = (n_ent * rng.random(n) ** 1.5).astype(np.int64).tolist()
            r = (800 * rng.random(n) ** 2).astype(np.int64).tolist()
            rows = [b"%s\t%s\t%s\n" % (ents[a], rels[b], ents[c]) for a, b, c in zip(h, r, t)]
            fh.write(b"".join(rows))


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=1, help="runs per reader (best is shown)")
    ap.add_argument("--skip-python", action="store_true", help="leave out engine=python")
    args = ap.parse_args()

    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv

    import kgaug
    from kgaug import KnowledgeGraph

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kg.tsv"
        t0 = time.perf_counter()
        write_tsv(path, args.lines)
        size = path.stat().st_size
        print(
            f"{args.lines:,} lines, {size / 2**20:.0f} MiB, written in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        print(
            f"python {platform.python_version()}, kgaug {kgaug.__version__}, numpy "
            f"{np.__version__}, pandas {pd.__version__}, pyarrow {pa.__version__}; "
            f"{os.cpu_count()} CPUs, pyarrow threads {pa.cpu_count()}"
        )

        def arrow_raw() -> Any:
            return pcsv.read_csv(
                path,
                read_options=pcsv.ReadOptions(column_names=["h", "r", "t"]),
                parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False),
                convert_options=pcsv.ConvertOptions(
                    column_types=dict.fromkeys(["h", "r", "t"], pa.string())
                ),
            )

        readers: list[tuple[str, Callable[[], Any]]] = []
        if not args.skip_python:
            readers.append(
                ("kgaug engine=python", lambda: KnowledgeGraph.from_tsv(path, engine="python"))
            )
        readers += [
            ("kgaug engine=pyarrow", lambda: KnowledgeGraph.from_tsv(path, engine="pyarrow")),
            (
                "pandas.read_csv",
                lambda: pd.read_csv(path, sep="\t", header=None, dtype=str),
            ),
            ("pyarrow.csv (parse only)", arrow_raw),
        ]
        results: dict[str, tuple[float, Any]] = {}
        for name, fn in readers:
            results[name] = best(fn, args.repeat)
        graphs = [out for name, (_, out) in results.items() if name.startswith("kgaug")]
        if len(graphs) == 2:
            a, b = graphs
            same = (
                a.entities == b.entities
                and a.relations == b.relations
                and np.array_equal(a.head_ids, b.head_ids)
                and np.array_equal(a.relation_ids, b.relation_ids)
                and np.array_equal(a.tail_ids, b.tail_ids)
                and a.load_report == b.load_report
            )
            print(f"engines agree (labels, ids, facts, load report): {same}")
        print(graphs[-1].load_report)
        ref = results["pandas.read_csv"][0]
        print(f"\n{'reader':<26} {'seconds':>8} {'M lines/s':>10} {'vs pandas':>10}")
        for name, (sec, _) in results.items():
            print(f"{name:<26} {sec:>8.2f} {args.lines / sec / 1e6:>10.2f} {sec / ref:>9.2f}x")


if __name__ == "__main__":
    main()

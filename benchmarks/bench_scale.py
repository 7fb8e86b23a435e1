"""kgaug at Wikidata5M scale, against pandas, DuckDB and networkx on the same files.

Run::

    python benchmarks/bench_scale.py                  # 100k and 20M lines, ~10 min on 2 cores
    python benchmarks/bench_scale.py --big 2000000    # a smaller "big" file (a minute)
    python benchmarks/bench_scale.py --out-of-core 50000000   # + DuckDB past memory_limit

Writes, in a temporary folder, power-law TSV files like Wikidata5M's (``--big`` lines,
800 relations with Zipf frequencies, |V| = lines / 4, degree exponent 2.5, in- and
out-hubs on different entities; labels ``Q123`` and ``P45``; duplicates left in, as real
dumps have them) and a 100k-line one. Every case runs in its own child process, so "peak
MiB" is that process's own peak resident memory (``ru_maxrss`` of the child); seconds
are wall-clock. Each table row says what it does:

- ``kgaug stats FILE``: the whole command line (read, count 2-hop facts per relation,
  print the report), the end-to-end number (target at 20M: <= 60 s, <= 8 GiB);
- ``read``: kgaug's readers (pyarrow engine and pure Python) against ``pandas.read_csv``
  and pyarrow's raw CSV reader on the same file;
- ``from_arrays + compute_phi``: the build-from-arrays path (ids made in the process);
- ``DuckDB``: ``compute_phi(FILE, backend="duckdb")`` (DuckDB reads the file itself);
- ``networkx``: the 2-hop distinct facts enumerated on ``kg.to_networkx()`` (the
  adjacency loop of bench_phi.py), small file only (a 20M-edge MultiDiGraph needs tens of
  GiB).

Every row that counts must give the same total of 2-hop facts; the script checks it.
``--out-of-core N`` writes an N-line Parquet file and counts it with DuckDB under
``memory_limit=4GB`` (``--memory-limit``), spilling to disk.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RELATIONS = 800


def generate(lines: int, seed: int = 0) -> tuple[object, object, object]:
    """Power-law ``(h, r, t)`` id arrays of ``lines`` rows (duplicates possible)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = max(lines // 4, 2)
    w = np.arange(1, n + 1, dtype=np.float64) ** (-1 / 1.5)  # degree exponent 2.5
    cw = np.cumsum(w)
    cw /= cw[-1]
    h = np.searchsorted(cw, rng.random(lines)).astype(np.int64)
    t = rng.permutation(n)[np.searchsorted(cw, rng.random(lines))].astype(np.int64)
    rw = np.cumsum(1.0 / np.arange(1, RELATIONS + 1))
    rw /= rw[-1]
    r = np.searchsorted(rw, rng.random(lines)).astype(np.int64)
    return h, r, t


def write_file(path: Path, lines: int, parquet: bool = False) -> None:
    """The TSV (or Parquet) file of :func:`generate` with ``Q``/``P`` labels."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    h, r, t = generate(lines)
    step = 5_000_000
    writer = None
    for a in range(0, lines, step):
        cols = [
            pc.binary_join_element_wise(prefix, pc.cast(pa.array(x[a : a + step]), pa.string()), "")
            for prefix, x in (("Q", h), ("P", r), ("Q", t))
        ]
        table = pa.table(cols, names=["head", "relation", "tail"])
        if writer is None:
            writer = (
                pq.ParquetWriter(path, table.schema)
                if parquet
                else pacsv.CSVWriter(
                    path,
                    table.schema,
                    write_options=pacsv.WriteOptions(
                        include_header=False, delimiter="\t", quoting_style="none"
                    ),
                )
            )
        writer.write_table(table)
    assert writer is not None
    writer.close()


def make_file(folder: Path, lines: int, parquet: bool = False) -> Path:
    """Write the file in a child process (the parent stays small; see :func:`run_child`)."""
    path = folder / (f"kg_{lines}.parquet" if parquet else f"kg_{lines}.tsv")
    if not path.exists():
        t0 = time.perf_counter()
        measure("write-parquet" if parquet else "write-tsv", path)
        size = path.stat().st_size / 2**20
        print(
            f"{'':>11}  ({path.name}: {size:,.0f} MiB, written in {time.perf_counter() - t0:.0f} s)"
        )
    return path


# ----------------------------------------------------------------------------- cases
def case(name: str, path: str) -> dict[str, object]:
    """One measurement, run in a child process; returns what it measured.

    Imports happen before the clock starts; "seconds" is the operation alone.
    """
    import kgaug

    out: dict[str, object] = {}
    if name == "versions":
        import duckdb
        import numpy
        import pandas
        import pyarrow

        out["text"] = (
            f"kgaug {kgaug.__version__}, numpy {numpy.__version__}, pandas "
            f"{pandas.__version__}, pyarrow {pyarrow.__version__}, duckdb {duckdb.__version__}"
        )
        return out
    if name.startswith("write-"):
        lines = int(Path(path).stem.split("_")[1])
        t0 = time.perf_counter()
        write_file(Path(path), lines, parquet=name == "write-parquet")
    elif name in ("read-kgaug-pyarrow", "read-kgaug-python"):
        t0 = time.perf_counter()
        kg = kgaug.KnowledgeGraph.from_tsv(path, engine=name.rsplit("-", 1)[1])
        out["facts"] = kg.num_facts
    elif name == "read-pandas":
        import pandas as pd

        t0 = time.perf_counter()
        df = pd.read_csv(path, sep="\t", header=None, dtype=str, quoting=3)
        out["rows"] = len(df)
    elif name == "read-pyarrow-raw":
        import pyarrow.csv as pacsv

        t0 = time.perf_counter()
        tab = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
        )
        out["rows"] = tab.num_rows
    elif name == "arrays":
        lines = int(Path(path).stem.split("_")[1])
        h, r, t = generate(lines)
        entities = [f"Q{i}" for i in range(lines // 4)]
        t0 = time.perf_counter()
        kg = kgaug.KnowledgeGraph.from_arrays(
            h, r, t, entities=entities, relations=[f"P{i}" for i in range(RELATIONS)]
        )
        out["build_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        out["inferred"] = kgaug.compute_phi(kg, progress=False).inferred
        out["count_s"] = time.perf_counter() - t1
    elif name.startswith("duckdb"):
        import duckdb  # imported before the clock starts

        opts: dict[str, object] = {"threads": 2}
        if name == "duckdb-ooc":
            opts["memory_limit"] = os.environ["KGAUG_BENCH_MEMORY_LIMIT"]
        t0 = time.perf_counter()
        out["inferred"] = kgaug.compute_phi(path, backend="duckdb", backend_options=opts).inferred
    elif name == "networkx":
        G = kgaug.KnowledgeGraph.from_tsv(path).to_networkx()
        t0 = time.perf_counter()
        facts = set()
        for u, m, r1 in G.out_edges(keys=True):
            if u == m:
                continue
            for _, v, r2 in G.out_edges(m, keys=True):
                if v != u and v != m:
                    facts.add((u, r1, r2, v))
        out["inferred"] = len(facts)
    else:
        raise ValueError(name)
    out["seconds"] = time.perf_counter() - t0
    return out


def run_child(args: list[str], env: dict[str, str] | None = None) -> tuple[str, float, float]:
    """Run a command; its stdout, wall seconds and peak resident MiB."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):  # kgaug stats exits 1 on a "not generalizable" verdict
        raise RuntimeError(f"{args} failed with exit code {proc.returncode}")
    return out, wall, usage.ru_maxrss / 1024


def measure(name: str, path: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    out, wall, peak = run_child([sys.executable, __file__, "--case", name, str(path)], env)
    res = json.loads(out)
    res["peak_mib"] = peak
    res["wall"] = wall
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=100_000, help="lines of the small file")
    ap.add_argument("--big", type=int, default=20_000_000, help="lines of the big file")
    ap.add_argument(
        "--python-reader",
        action="store_true",
        help="also time the pure-Python reader on the big file (slow)",
    )
    ap.add_argument(
        "--out-of-core",
        type=int,
        default=0,
        metavar="N",
        help="also count an N-line Parquet file with DuckDB under --memory-limit",
    )
    ap.add_argument("--memory-limit", default="4GB", help="DuckDB's limit for --out-of-core")
    ap.add_argument(
        "--only-out-of-core", action="store_true", help="skip the table, run --out-of-core only"
    )
    ap.add_argument("--dir", type=Path, help="where to write the files (default: a temp dir)")
    ap.add_argument("--case", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case:
        print(json.dumps(case(*a.case)))
        return

    # The parent imports nothing heavy: a child's ru_maxrss starts from its parent's size.
    versions = measure("versions", Path("."))["text"]
    print(
        f"{versions}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; pyarrow and DuckDB use 2 threads, kgaug's counting 1\n"
    )
    folder = a.dir or Path(tempfile.mkdtemp(prefix="kgaug-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    header = (
        f"{'lines':>11}  {'what':<36} {'seconds':>8} {'peak MiB':>9}  {'2-hop facts':>12}  note"
    )
    print(header)
    print("-" * len(header))

    def row(
        lines: int, what: str, sec: float, peak: float, inferred: object = "", note: str = ""
    ) -> None:
        inf = f"{inferred:,}" if isinstance(inferred, int) else str(inferred)
        print(f"{lines:>11,}  {what:<36} {sec:>8.2f} {peak:>9,.0f}  {inf:>12}  {note}", flush=True)

    for lines in () if a.only_out_of_core else (a.small, a.big):
        path = make_file(folder, lines)
        out, wall, peak = run_child([sys.executable, "-m", "kgaug", "stats", str(path), "--json"])
        ref = json.loads(out)["inferred"]
        target = "target <= 60 s, <= 8 GiB" if lines >= 20_000_000 else ""
        row(lines, "kgaug stats FILE (end to end)", wall, peak, ref, target)
        pandas_s = None
        for name in ("read-pandas", "read-pyarrow-raw", "read-kgaug-pyarrow", "read-kgaug-python"):
            if name == "read-kgaug-python" and lines > 5_000_000 and not a.python_reader:
                continue
            res = measure(name, path)
            sec = float(res["seconds"])  # type: ignore[arg-type]
            if name == "read-pandas":
                pandas_s = sec
            ratio = f"{sec / pandas_s:.2f}x pandas' time" if pandas_s else ""
            row(
                lines,
                name.replace("-", " ", 1).replace("-", " engine=", 1)
                if name.startswith("read-kgaug")
                else name.replace("-", " "),
                sec,
                float(res["peak_mib"]),
                "",
                ratio,
            )  # type: ignore[arg-type]
        res = measure("arrays", path)
        row(lines, "from_arrays", float(res["build_s"]), float(res["peak_mib"]))  # type: ignore[arg-type]
        row(
            lines,
            "  then compute_phi",
            float(res["count_s"]),
            float(res["peak_mib"]),  # type: ignore[arg-type]
            res["inferred"],
            "same process as from_arrays",
        )
        res = measure("duckdb", path)
        ok = "same counts" if res["inferred"] == ref else f"MISMATCH (kgaug {ref:,})"
        row(
            lines,
            "DuckDB compute_phi(FILE) read+count",
            float(res["seconds"]),  # type: ignore[arg-type]
            float(res["peak_mib"]),
            res["inferred"],
            ok,
        )  # type: ignore[arg-type]
        if lines <= 1_000_000:
            res = measure("networkx", path)
            ok = "same counts" if res["inferred"] == ref else f"MISMATCH (kgaug {ref:,})"
            row(
                lines,
                "networkx adjacency loop (count only)",
                float(res["seconds"]),  # type: ignore[arg-type]
                float(res["peak_mib"]),
                res["inferred"],
                ok,
            )  # type: ignore[arg-type]

    if a.out_of_core:
        print()
        path = make_file(folder, a.out_of_core, parquet=True)
        env = {**os.environ, "KGAUG_BENCH_MEMORY_LIMIT": a.memory_limit}
        res = measure("duckdb-ooc", path, env)
        row(
            a.out_of_core,
            f"DuckDB, memory_limit {a.memory_limit}",
            float(res["seconds"]),  # type: ignore[arg-type]
            float(res["peak_mib"]),
            res["inferred"],
            "spills to disk",
        )  # type: ignore[arg-type]
    print(f"\nfiles in {folder}")


if __name__ == "__main__":
    main()

"""Benchmark of the LLM verbalizer: concurrency, cache, resume (``pip install 'kgaug[llm]'``).

Run::

    python benchmarks/bench_llm.py            # about 30 s on 2 cores

1,000 distinct five-tuples sampled from a synthetic power-law KG go through the official
``openai`` client to a loopback chat-completions server
(:class:`kgaug.verbalize.fake_server.FakeChatServer`, in its own process) that waits
100 ms before every answer, like a fast hosted model. "requests" is what the server
counted. Rows:

- ``cold``: empty cache, at each concurrency; the floor is ``1000 / c * 0.1 s``.
- ``cached``: the same items again with a new verbalizer on the same cache folder.
- ``resumed``: the same items with the resume file of a finished run (no cache).

Targets (issue 4): cold at concurrency 16 <= 10 s; cached rerun <= 1 s with 0 requests.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import kgaug
from kgaug.records import FiveTuple
from kgaug.verbalize import get_verbalizer

N = 1000
LATENCY = 0.1


def _items() -> list[FiveTuple]:
    kg = kgaug.datasets.powerlaw_kg(20_000, 20, seed=0)
    return list(kgaug.sample_paths(kg, 2, N, seed=0, unique=True))


def main() -> None:
    import openai

    print(
        f"kgaug {kgaug.__version__}, openai {openai.__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"{N} items, {LATENCY * 1000:.0f} ms server latency\n"
    )
    items = _items()
    header = f"{'run':<8} {'concurrency':>11} {'seconds':>8} {'items/s':>8} {'requests':>8}  target"
    print(header)
    print("-" * len(header))
    # the server runs in its own process, as a real one would (not sharing our GIL)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kgaug.verbalize.fake_server", "--latency", str(LATENCY)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    base_url = proc.stdout.readline().split()[-1]

    def served() -> int:
        with urllib.request.urlopen(f"{base_url}/_stats") as r:
            return int(json.load(r)["requests"])

    try:
        with tempfile.TemporaryDirectory() as tmp:

            def run(
                label: str, c: int, target: str = "", out: Path | None = None, **options: object
            ) -> None:
                v = get_verbalizer(
                    "openai", base_url=base_url, model="fake", api_key="sk-bench",
                    concurrency=c, progress=False, **options,
                )  # fmt: skip
                before = served()
                t0 = time.perf_counter()
                qs = v.verbalize(items, out=out)
                dt = time.perf_counter() - t0
                assert sum(q.status == "ok" for q in qs) == N, v.last_run
                made = served() - before
                print(
                    f"{label:<8} {c:>11} {dt:>8.2f} {N / dt:>8.0f} {made:>8}  {target}",
                    flush=True,
                )

            for c in (4, 16, 64):
                cache = Path(tmp) / f"cache-{c}"
                run("cold", c, "<= 10 s" if c == 16 else "", cache_dir=cache)
                if c == 16:
                    run("cached", c, "<= 1 s, 0 requests", cache_dir=cache)
            resume = Path(tmp) / "run.jsonl"
            run("cold", 16, "(writing a resume file)", out=resume)
            run("resumed", 16, "0 requests", out=resume)
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()

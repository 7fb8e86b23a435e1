"""Round trip text -> graph on the bundled KG: what chunking, schema mapping and resolution buy.

Run::

    python benchmarks/bench_parse.py             # about 20 s on 2 cores
    python benchmarks/bench_parse.py --seeds 0 1 2 3 4

The bundled KG's 694 facts are written as paragraphs of 40 facts
(:func:`kgaug.extraction.corpus.make_corpus`: people named by surname or with a title
after their first mention, ``USA``/``UK`` for the countries now and then, every relation
in two phrasings, one of them inverse, and 10% distractor sentences outside the schema),
cut into chunks of 200 tokens with 20 of overlap, and parsed back through the real
``openai`` client from a loopback server whose model answers from the sentences of each
chunk (:func:`kgaug.extraction.corpus.scripted_model`):

- ``careful``: canonical relations in their direction, names as written, right types;
- ``sloppy``: relations as phrased (inverse phrasings with head and tail swapped), most
  types ``Object``, 5% of the facts missed, the distractors extracted too.

Rows, per model: ``raw`` (no schema, no resolution: ``LLMVerbalizer.parse`` before
issue 16), ``resolve`` (resolution only), ``schema`` (schema mapping only, onto the
KG's relations), ``schema+resolve`` (a schema learned from the KG, no entity linking:
what a user without a graph gets) and ``into`` (``into=kg``: relations and entities of
the KG). P/R/F1 compare exact labels with the original graph; phi is
``compute_phi(recovered).phi`` against the original's. Numbers are means over seeds.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any

import numpy as np

import kgaug
from kgaug.extraction import ChunkSpec, ExtractionSchema, parse_graph
from kgaug.extraction.corpus import make_corpus, score_graph, scripted_model
from kgaug.verbalize import get_verbalizer
from kgaug.verbalize.fake_server import FakeChatServer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    kg = kgaug.datasets.load_example()
    phi0 = kgaug.compute_phi(kg).phi
    schema = ExtractionSchema.from_kg(kg)
    configs: dict[str, dict[str, Any]] = {
        "raw": {"resolve": False},
        "resolve": {},
        "schema": {"schema": schema, "resolve": False},
        "schema+resolve": {"schema": schema},
        "into": {"into": kg},
    }
    print(
        f"kgaug {kgaug.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; bundled KG: {kg.num_facts} facts, {kg.num_entities} "
        f"entities, phi {phi0:.3f}; seeds {args.seeds}"
    )
    rows: dict[tuple[str, str], list[list[float]]] = {}
    spec = ChunkSpec(size=200, overlap=20)
    for seed in args.seeds:
        corpus = make_corpus(kg, facts_per_text=40, seed=seed)
        for style in ("careful", "sloppy"):
            with FakeChatServer(scripted_model(corpus, style, seed=seed)) as server:
                llm = get_verbalizer(
                    "openai", base_url=server.base_url, model="fake", api_key="bench",
                    progress=False,
                )  # fmt: skip
                for name, options in configs.items():
                    t0 = time.perf_counter()
                    res = parse_graph(corpus.texts, llm, chunk=spec, **options)
                    dt = time.perf_counter() - t0
                    s = score_graph(res.graph, kg)
                    phi = kgaug.compute_phi(res.graph).phi if res.graph.num_facts else 0.0
                    rows.setdefault((style, name), []).append(
                        [
                            s.fact_precision, s.fact_recall, s.fact_f1,
                            s.entity_precision, s.entity_recall, s.entity_f1,
                            phi, res.graph.num_entities, len(res.merges),
                            sum(res.dropped_counts().values()), res.chunks, dt,
                        ]
                    )  # fmt: skip
    header = ["model", "config", "fact P", "fact R", "fact F1", "ent P", "ent R", "ent F1",
              "phi", "entities", "merges", "dropped", "chunks", "seconds"]  # fmt: skip
    table = []
    for (style, name), vals in rows.items():
        m = np.mean(np.array(vals), axis=0)
        table.append(
            [
                style,
                name,
                *(f"{x:.3f}" for x in m[:7]),
                *(f"{x:.0f}" for x in m[7:11]),
                f"{m[11]:.2f}",
            ]
        )
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *table]:
        print(
            "  ".join(
                c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))
            )
        )
    print(f"original: phi {phi0:.3f}, {kg.num_entities} entities")


if __name__ == "__main__":
    main()

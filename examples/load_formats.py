"""Write the example KG in every supported format and read it back.

Run: python examples/load_formats.py [OUTDIR]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import kgaug

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="kgaug-"))
kg = kgaug.datasets.load_example()

kg.to_tsv(out / "kg.tsv.gz")
kg.to_jsonl(out / "kg.jsonl")
with open(out / "kg.csv", "w", encoding="utf-8") as fh:
    fh.write("subject,predicate,object\n")
    for h, r, t in kg.triples():
        fh.write(",".join(json.dumps(x) if "," in x else x for x in (h, r, t)) + "\n")
rows = [
    {"_id": str(i), "type": "compositional", "evidences": [list(tr)]}
    for i, tr in enumerate(kg.triples())
]
(out / "2wiki.json").write_text(json.dumps(rows), encoding="utf-8")
(out / "2wiki_columnar.json").write_text(
    json.dumps({"_id": [r["_id"] for r in rows], "evidences": [r["evidences"] for r in rows]}),
    encoding="utf-8",
)

loaded = {
    "tsv.gz": kgaug.KnowledgeGraph.from_tsv(out / "kg.tsv.gz"),
    "jsonl": kgaug.KnowledgeGraph.from_jsonl(out / "kg.jsonl"),
    "csv": kgaug.KnowledgeGraph.from_csv(
        out / "kg.csv", head="subject", relation="predicate", tail="object"
    ),
    "2wiki rows": kgaug.KnowledgeGraph.from_2wiki(out / "2wiki.json"),
    "2wiki columnar": kgaug.KnowledgeGraph.from_2wiki(out / "2wiki_columnar.json"),
    "networkx": kgaug.KnowledgeGraph.from_networkx(kg.to_networkx()),
}
print(f"files in {out}")
for name, g in loaded.items():
    same = sorted(g.triples()) == sorted(kg.triples())
    print(f"{name:<15} {g!r:<70} same facts: {same}")
    assert same
assert loaded["jsonl"] == kg, "JSONL keeps types and provenance"
print("2Wiki type inference:", loaded["2wiki rows"].type_counts())

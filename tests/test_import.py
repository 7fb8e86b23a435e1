"""`import kgaug` stays light: no torch, openai, transformers, matplotlib, pandas, duckdb, Spark,
rapidfuzz."""

from __future__ import annotations

import json
import subprocess
import sys


def test_import_does_not_pull_heavy_dependencies():
    code = (
        "import sys, json, kgaug, kgaug.verbalize;"
        "kgaug.compute_phi(kgaug.datasets.load_example());"
        "kgaug.verbalize.get_verbalizer('template');"
        "print(json.dumps(sorted(m for m in ('torch', 'openai', 'transformers', "
        "'matplotlib', 'pandas', 'tokenizers', 'httpx', 'duckdb', 'pyspark', 'pyarrow', "
        "'rapidfuzz') "
        "if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_public_api_names():
    import kgaug

    for name in (
        "KnowledgeGraph",
        "compute_phi",
        "PhiReport",
        "RelationPhi",
        "chain_counts",
        "ChainCounts",
        "Triple",
        "Entity",
        "Provenance",
        "bounds",
        "datasets",
        "io",
    ):
        assert hasattr(kgaug, name), name
    assert kgaug.__version__
    for fn in ("expected_inferred", "min_relation_branching", "min_nodes"):
        assert callable(getattr(kgaug.bounds, fn))


def test_py_typed_marker_ships():
    from importlib import resources

    assert resources.files("kgaug").joinpath("py.typed").is_file()

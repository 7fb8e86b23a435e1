"""Counting backends: DuckDB and Spark SQL agree exactly with the in-memory kernels.

Agreement is checked on random multigraphs (parallel edges, 2-cycles, self-loops, hubs),
on the KGs that ship inside PyKEEN and on files read by the engines themselves; then the
errors: malformed rows, missing columns, a memory limit, a missing package or Java.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest

import kgaug
from kgaug.backends import available_backends, file_source, get_backend, register_backend
from kgaug.errors import BackendError, BackendMemoryError, KGFormatError

pytest.importorskip("duckdb")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

MODES = [
    (hops, count, directed)
    for hops in (2, 3)
    for count in ("facts", "paths")
    for directed in (True, False)
]


def random_kg(seed: int, n: int = 40, m: int = 260, relations: int = 4) -> kgaug.KnowledgeGraph:
    """A multigraph with duplicates, self-loops, reciprocal and parallel edges and a hub."""
    rng = np.random.default_rng(seed)
    h = rng.integers(0, n, m)
    t = rng.integers(0, n, m)
    h[: m // 8] = 0  # a hub
    r = rng.integers(0, relations, m)
    back = rng.random(m) < 0.15  # 2-cycles
    h2, t2, r2 = t[back], h[back], rng.integers(0, relations, int(back.sum()))
    triples = [
        (f"e{a}", f"r{b}", f"e{c}")
        for a, b, c in zip(np.r_[h, h2, 5, 5], np.r_[r, r2, 0, 1], np.r_[t, t2, 5, 6])
    ]
    return kgaug.KnowledgeGraph.from_triples(triples + triples[:10])  # duplicates too


def _same(a: kgaug.PhiReport, b: kgaug.PhiReport, hops: int) -> None:
    assert a == b
    assert a.chains(hops) == b.chains(hops)
    assert [r.relation for r in a.rows] == [r.relation for r in b.rows]


# ------------------------------------------------------------------------------- DuckDB


@pytest.mark.parametrize(("hops", "count", "directed"), MODES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_duckdb_agrees_on_random_multigraphs(
    seed: int, hops: int, count: str, directed: bool
) -> None:
    kg = random_kg(seed)
    ref = kgaug.compute_phi(kg, hops, count, directed)
    assert ref.inferred > 0
    got = kgaug.compute_phi(kg, hops, count, directed, backend="duckdb")
    _same(ref, got, hops)


def test_duckdb_sums_several_hops_and_keeps_phi_g() -> None:
    kg = random_kg(3)
    ref = kgaug.compute_phi(kg, (2, 3), phi_g=5.0)
    got = kgaug.compute_phi(kg, (2, 3), phi_g=5.0, backend="duckdb")
    assert got == ref and got.inferred_by_hops == ref.inferred_by_hops
    assert got.failing == ref.failing


PYKEEN = ["nations", "kinships", "umls"]


@pytest.fixture(scope="module")
def pykeen_kgs() -> dict[str, kgaug.KnowledgeGraph]:
    pytest.importorskip("pykeen")
    return {name: kgaug.datasets.load_pykeen(name) for name in PYKEEN}


@pytest.mark.parametrize("name", PYKEEN)
@pytest.mark.parametrize(
    ("count", "directed"), [(c, d) for c in ("facts", "paths") for d in (1, 0)]
)
def test_duckdb_agrees_on_pykeen_kgs_2_hops(
    pykeen_kgs: dict[str, kgaug.KnowledgeGraph], name: str, count: str, directed: int
) -> None:
    kg = pykeen_kgs[name]
    ref = kgaug.compute_phi(kg, 2, count, bool(directed))
    _same(ref, kgaug.compute_phi(kg, 2, count, bool(directed), backend="duckdb"), 2)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "count", "directed"),
    [(n, c, True) for n in PYKEEN for c in ("facts", "paths")] + [("umls", "facts", False)],
)
def test_duckdb_agrees_on_pykeen_kgs_3_hops(
    pykeen_kgs: dict[str, kgaug.KnowledgeGraph], name: str, count: str, directed: bool
) -> None:
    kg = pykeen_kgs[name]
    ref = kgaug.compute_phi(kg, 3, count, directed)
    _same(ref, kgaug.compute_phi(kg, 3, count, directed, backend="duckdb"), 3)


@pytest.fixture
def graph_files(tmp_path: Path) -> tuple[kgaug.KnowledgeGraph, dict[str, Path]]:
    kg = random_kg(4)
    files = {"tsv": tmp_path / "g.tsv"}
    kgaug.io.write_tsv(kg, files["tsv"])
    body = files["tsv"].read_text()
    files["header"] = tmp_path / "h.tsv"
    files["header"].write_text("subject\tpredicate\tobject\n\n" + body + "\n\n")
    files["gz"] = tmp_path / "g.tsv.gz"
    files["gz"].write_bytes(gzip.compress(body.encode()))
    files["csv"] = tmp_path / "g.csv"
    rows = [line.split("\t") for line in body.splitlines()]
    files["csv"].write_text("s,p,o\n" + "".join(f'"{a}",{b},{c}\n' for a, b, c in rows))
    pytest.importorskip("pyarrow")
    files["parquet"] = tmp_path / "g.parquet"
    kg.to_parquet(files["parquet"])
    shards = tmp_path / "shards"
    shards.mkdir()
    half = kg.num_facts // 2
    tr = list(kg.triples())
    kgaug.KnowledgeGraph.from_triples(tr[:half]).to_parquet(shards / "a.parquet")
    kgaug.KnowledgeGraph.from_triples(tr[half:]).to_parquet(shards / "b.parquet")
    files["glob"] = shards / "*.parquet"
    return kg, files


@pytest.mark.parametrize(
    ("key", "options"),
    [
        ("tsv", {}),
        ("header", {"header": True}),
        ("gz", {}),
        ("csv", {"columns": ("s", "p", "o")}),
        ("parquet", {}),
        ("glob", {}),
    ],
)
def test_duckdb_reads_files_itself(
    graph_files: tuple[kgaug.KnowledgeGraph, dict[str, Path]], key: str, options: dict
) -> None:
    kg, files = graph_files
    ref = kgaug.compute_phi(kg, 2, directed=False)
    got = kgaug.compute_phi(
        files[key], 2, directed=False, backend="duckdb", backend_options=options
    )
    assert got == ref  # facts, entities and every relation's counts
    if key != "glob":  # relations in order of first appearance, as the readers do
        assert [r.relation for r in got.rows] == [r.relation for r in ref.rows]


def test_numpy_backend_reads_a_path_too(
    graph_files: tuple[kgaug.KnowledgeGraph, dict[str, Path]],
) -> None:
    kg, files = graph_files
    assert kgaug.compute_phi(str(files["tsv"])) == kgaug.compute_phi(kg)
    with pytest.raises(ValueError, match="glob"):
        kgaug.compute_phi(files["glob"])


BAD_ROWS = [
    ("a\tr\tb\n\nc\tq\n", "data row 2", "empty or missing tail field"),
    ("a\tr\tb\nc\t \td\n", "data row 2", "empty or missing relation field"),
    ("a\tr\tb\tx\n", "data row 1", "got 4 or more"),
]


@pytest.mark.parametrize(("text", "where", "what"), BAD_ROWS)
def test_duckdb_names_the_bad_row(tmp_path: Path, text: str, where: str, what: str) -> None:
    f = tmp_path / "bad.tsv"
    f.write_text(text)
    with pytest.raises(KGFormatError, match=what) as e:
        kgaug.compute_phi(f, backend="duckdb")
    assert str(f) in str(e.value) and where in str(e.value)


def test_duckdb_names_the_line_of_a_row_with_too_many_fields(tmp_path: Path) -> None:
    f = tmp_path / "bad.tsv"
    f.write_text("a\tr\tb\nb\tr\tc\nc\tr\td\te\tf\n")
    with pytest.raises(KGFormatError, match="got 5") as e:
        kgaug.compute_phi(f, backend="duckdb")
    assert e.value.line == 3 and e.value.path == str(f)


def test_a_parquet_file_without_the_columns_names_those_it_has(
    graph_files: tuple[kgaug.KnowledgeGraph, dict[str, Path]],
) -> None:
    _, files = graph_files
    with pytest.raises(KGFormatError, match=r"no column 's' \(columns: head, relation, tail\)"):
        kgaug.compute_phi(files["parquet"], backend="duckdb", backend_options={"columns": "s,p,o"})


def test_duckdb_reports_its_memory_limit_instead_of_being_killed() -> None:
    kg = random_kg(5, n=300, m=6000, relations=30)
    with pytest.raises(BackendMemoryError, match="memory_limit 20MB") as e:
        kgaug.compute_phi(
            kg,
            3,
            directed=False,
            backend="duckdb",
            backend_options={"memory_limit": "20MB", "threads": 1},
        )
    assert isinstance(e.value, MemoryError) and isinstance(e.value, BackendError)


def test_duckdb_spills_and_finishes_under_a_small_limit(tmp_path: Path) -> None:
    kg = random_kg(6, n=2000, m=20000, relations=10)
    ref = kgaug.compute_phi(kg, 2)
    got = kgaug.compute_phi(
        kg,
        2,
        backend="duckdb",
        backend_options={"memory_limit": "100MB", "threads": 1, "temp_directory": str(tmp_path)},
    )
    assert got == ref


def test_backend_errors_name_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    kg = random_kg(0)
    with pytest.raises(ValueError, match=r"unknown backend 'duckbd'.*did you mean 'duckdb'"):
        kgaug.compute_phi(kg, backend="duckbd")
    with pytest.raises(ValueError, match="describe a file"):
        kgaug.compute_phi(kg, backend="duckdb", backend_options={"header": True})
    with pytest.raises(FileNotFoundError, match="no such graph file"):
        kgaug.compute_phi(tmp_path / "missing.tsv", backend="duckdb")
    with pytest.raises(ValueError, match="threads"):
        get_backend("duckdb", threads=0)
    with pytest.raises(ValueError, match="header=True skips a TSV"):
        file_source(__file__, format="csv", header=True)
    with pytest.raises(TypeError, match="KnowledgeGraph or a file path"):
        kgaug.compute_phi([("a", "r", "b")])  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'kgaug\[duckdb\]'"):
        kgaug.compute_phi(kg, backend="duckdb")


def test_a_registered_backend_is_called() -> None:
    calls: list[tuple[int, ...]] = []

    class Counting:
        name = "mine"

        def count(self, source, hops, count, directed):  # type: ignore[no-untyped-def]
            calls.append(tuple(hops))
            return get_backend("numpy").count(source, hops, count, directed)

    register_backend("mine", lambda **o: Counting())
    assert "mine" in available_backends()
    kg = random_kg(1)
    assert kgaug.compute_phi(kg, backend="mine") == kgaug.compute_phi(kg)
    assert calls == [(2,)]


# -------------------------------------------------------------------------------- Spark


@pytest.fixture(scope="module")
def spark() -> object:
    pytest.importorskip("pyspark")
    backend = get_backend("spark", master="local[1]", shuffle_partitions=2)
    session = backend.session()  # type: ignore[attr-defined]
    yield session
    session.stop()


@pytest.mark.slow
@pytest.mark.parametrize(("hops", "count", "directed"), MODES)
def test_spark_agrees_on_a_random_multigraph(
    spark: object, hops: int, count: str, directed: bool
) -> None:
    kg = random_kg(7, n=25, m=120, relations=3)
    ref = kgaug.compute_phi(kg, hops, count, directed)
    got = kgaug.compute_phi(
        kg, hops, count, directed, backend="spark", backend_options={"spark": spark}
    )
    _same(ref, got, hops)


@pytest.mark.slow
def test_spark_agrees_on_nations_and_reads_files(
    spark: object,
    pykeen_kgs: dict[str, kgaug.KnowledgeGraph],
    graph_files: tuple[kgaug.KnowledgeGraph, dict[str, Path]],
) -> None:
    opts = {"spark": spark}
    nations = pykeen_kgs["nations"]
    for directed in (True, False):
        ref = kgaug.compute_phi(nations, 2, directed=directed)
        _same(
            ref,
            kgaug.compute_phi(nations, 2, directed=directed, backend="spark", backend_options=opts),
            2,
        )
    kg, files = graph_files
    ref = kgaug.compute_phi(kg, 2, directed=False)
    for key, extra in (("header", {"header": True}), ("parquet", {}), ("glob", {})):
        got = kgaug.compute_phi(
            files[key], 2, directed=False, backend="spark", backend_options={**opts, **extra}
        )
        assert got == ref, key
    bad = files["tsv"].with_name("bad.tsv")
    bad.write_text(BAD_ROWS[0][0])
    with pytest.raises(KGFormatError, match=r"data row 2.*empty or missing tail field"):
        kgaug.compute_phi(bad, backend="spark", backend_options=opts)


def test_spark_without_java_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(BackendError, match=r"needs a Java runtime.*default-jre-headless"):
        kgaug.compute_phi(random_kg(0), backend="spark")


def test_spark_without_pyspark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'kgaug\[spark\]'"):
        kgaug.compute_phi(random_kg(0), backend="spark")


# ---------------------------------------------------------------------------------- CLI


def test_cli_stats_backend_duckdb_prints_the_same_report(
    graph_files: tuple[kgaug.KnowledgeGraph, dict[str, Path]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from kgaug.cli import main

    _, files = graph_files
    f = str(files["header"])
    assert main(["stats", f, "--header", "--hops", "2", "3", "--json"]) in (0, 1)
    ref = json.loads(capsys.readouterr().out)
    args = ["stats", f, "--header", "--hops", "2", "3", "--json", "--backend", "duckdb"]
    assert main([*args, "--memory-limit", "1GB", "--threads", "1"]) in (0, 1)
    assert json.loads(capsys.readouterr().out) == ref
    assert main(["stats", f, "--memory-limit", "1GB"]) == 2
    assert "--memory-limit is an option of --backend duckdb" in capsys.readouterr().err
    assert main(["stats", "--example", "--backend", "duckdb"]) == 2
    assert "reads a TSV, CSV or Parquet FILE itself" in capsys.readouterr().err
    bad = files["tsv"].with_name("bad.tsv")
    bad.write_text(BAD_ROWS[0][0])
    assert main(["stats", str(bad), "--backend", "duckdb"]) == 2
    assert "data row 2" in capsys.readouterr().err


def test_a_given_duckdb_connection_is_left_as_it_was(tmp_path: Path) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE mine AS SELECT 1 AS x")
    kg = random_kg(2)
    ref = kgaug.compute_phi(kg)
    assert kgaug.compute_phi(kg, backend="duckdb", backend_options={"connection": con}) == ref
    f = tmp_path / "g.tsv"
    kgaug.io.write_tsv(kg, f)
    assert kgaug.compute_phi(f, backend="duckdb", backend_options={"connection": con}) == ref
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert tables == {"mine"}


def test_remote_paths_are_left_to_the_engine() -> None:
    src = file_source("s3://bucket/kg/*.parquet")
    assert src.format == "parquet" and src.path == "s3://bucket/kg/*.parquet"

"""Parquet reading and writing, and the CLI's --header / --columns for TSV and CSV."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import kgaug
from kgaug.cli import main
from kgaug.errors import KGFormatError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _rows(rep: kgaug.PhiReport) -> dict[str, dict[str, object]]:
    return {r["relation"]: r for r in rep.to_dict()["rows"]}


def test_roundtrip_keeps_facts_types_and_provenance(example_kg, tmp_path: Path) -> None:
    kg2, _ = kgaug.augment(example_kg, phi_g=3.6, seed=0, check_ocr_risk=False)
    kg2.to_parquet(tmp_path / "kg.parquet")
    back = kgaug.KnowledgeGraph.from_parquet(tmp_path / "kg.parquet")
    assert back == kg2
    assert int(back.provenance_codes.sum()) == int(kg2.provenance_codes.sum()) > 0
    assert back.load_report is not None and back.load_report.records == kg2.num_facts
    # the same counts as every other reader
    assert _rows(kgaug.compute_phi(back)) == _rows(kgaug.compute_phi(kg2))
    cols = pq.ParquetFile(tmp_path / "kg.parquet").schema_arrow.names
    assert cols == ["head", "relation", "tail", "head_type", "tail_type", "provenance"]


def test_other_column_names_and_plain_string_columns(tmp_path: Path) -> None:
    table = pa.table(
        {
            "s": ["a", "b", "a"],
            "p": ["r", "r", "r"],
            "o": ["b", "c", "b"],  # a duplicate row, merged
            "kind": ["X", None, "X"],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    kg = kgaug.KnowledgeGraph.from_parquet(
        tmp_path / "t.parquet", head="s", relation="p", tail="o", head_type="kind"
    )
    assert sorted(kg.triples()) == [("a", "r", "b"), ("b", "r", "c")]
    assert kg.load_report is not None and kg.load_report.duplicates == 1
    assert kg.entity_type("a") == "X" and kg.entity_type("c") is None


def test_missing_columns_name_the_columns_the_file_has(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"subject": ["a"], "predicate": ["r"], "object": ["b"]}), tmp_path / "x.pq"
    )
    with pytest.raises(KGFormatError, match=r"x\.pq: no column 'head' for head; the file has "
                       r"columns \['subject', 'predicate', 'object'\]"):  # fmt: skip
        kgaug.KnowledgeGraph.from_parquet(tmp_path / "x.pq")
    with pytest.raises(KGFormatError, match="no column 'kind' for head_type"):
        kgaug.KnowledgeGraph.from_parquet(
            tmp_path / "x.pq", head="subject", relation="predicate", tail="object", head_type="kind"
        )


def test_null_or_blank_values_name_the_row(tmp_path: Path) -> None:
    blank = pa.table({"head": ["a", "b", " "], "relation": ["r"] * 3, "tail": ["b", "c", "d"]})
    pq.write_table(blank, tmp_path / "blank.parquet")
    with pytest.raises(KGFormatError, match=r"blank\.parquet, row 3: empty head"):
        kgaug.KnowledgeGraph.from_parquet(tmp_path / "blank.parquet", batch_rows=2)
    schema = pa.schema([(n, pa.string()) for n in ("head", "relation", "tail")])
    null = pa.table({"head": ["a"], "relation": [None], "tail": ["b"]}, schema=schema)
    pq.write_table(null, tmp_path / "null.parquet")
    with pytest.raises(KGFormatError, match=r"null\.parquet, row 1: empty relation"):
        kgaug.KnowledgeGraph.from_parquet(tmp_path / "null.parquet")


def test_not_a_parquet_file_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "fake.parquet").write_text("head\trelation\ttail\n")
    with pytest.raises(KGFormatError, match=r"fake\.parquet: not a Parquet file"):
        kgaug.KnowledgeGraph.from_parquet(tmp_path / "fake.parquet")
    with pytest.raises(FileNotFoundError, match="no such file"):
        kgaug.KnowledgeGraph.from_parquet(tmp_path / "nope.parquet")


def test_without_pyarrow_the_error_says_what_to_install(
    monkeypatch, tmp_path: Path, capsys
) -> None:
    kgaug.datasets.load_example().to_parquet(tmp_path / "kg.parquet")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'kgaug\[parquet\]'"):
        kgaug.KnowledgeGraph.from_parquet(tmp_path / "kg.parquet")
    assert main(["stats", str(tmp_path / "kg.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "kgaug stats needs pyarrow: pip install 'kgaug[parquet]'"


def test_cli_stats_reads_parquet_by_suffix(example_kg, tmp_path: Path, capsys) -> None:
    example_kg.to_parquet(tmp_path / "kg.parquet")
    assert main(["stats", str(tmp_path / "kg.parquet"), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    want = _rows(kgaug.compute_phi(example_kg))
    assert {r["relation"]: r for r in rep["rows"]} == json.loads(json.dumps(want))


def test_cli_header_skips_a_tsv_header(tmp_path: Path, capsys) -> None:
    f = tmp_path / "h.tsv"
    f.write_text("head\trelation\ttail\na\tr\tb\nb\tr\tc\n")
    assert main(["summary", str(f), "--json"]) == 0
    assert '"num_relations": 2' in capsys.readouterr().out  # the header read as a fact
    assert main(["summary", str(f), "--header", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"num_relations": 1' in out and '"num_facts": 2' in out


def test_cli_columns_name_csv_columns(tmp_path: Path, capsys) -> None:
    f = tmp_path / "s.csv"
    f.write_text("subject,predicate,object\na,r,b\nb,r,c\n")
    assert main(["summary", str(f)]) == 2
    assert "--columns H,R,T" in capsys.readouterr().err
    assert main(["summary", str(f), "--columns", "subject,predicate,object", "--json"]) == 0
    assert '"num_facts": 2' in capsys.readouterr().out
    assert main(["summary", str(f), "--columns", "subject,predicate"]) == 2
    assert "three column names" in capsys.readouterr().err
    assert main(["summary", str(f), "--header"]) == 2
    assert "--header skips the first line of a TSV file" in capsys.readouterr().err
    tsv = tmp_path / "x.tsv"
    tsv.write_text("a\tr\tb\n")
    assert main(["summary", str(tsv), "--columns", "h,r,t"]) == 2
    assert "TSV fields are head, relation, tail" in capsys.readouterr().err


def test_triples_only_files_are_numbered_like_the_tsv_reader(tmp_path: Path) -> None:
    # several row groups, duplicates, integer and large-string columns: the Arrow path
    rows = [(f"e{(7 * i) % 23}", f"r{i % 4}", f"e{(5 * i + 3) % 29}") for i in range(300)]
    rows += rows[:40]
    tsv = tmp_path / "g.tsv"
    tsv.write_text("".join("\t".join(r) + "\n" for r in rows))
    ref = kgaug.KnowledgeGraph.from_tsv(tsv, engine="python")
    table = pa.table(
        {
            "head": pa.array([r[0] for r in rows], pa.large_string()),
            "relation": [r[1] for r in rows],
            "tail": [r[2] for r in rows],
        }
    )
    pq.write_table(table, tmp_path / "g.parquet", row_group_size=50)
    kg = kgaug.KnowledgeGraph.from_parquet(tmp_path / "g.parquet")
    assert kg == ref
    assert kg.entities == ref.entities and kg.relations == ref.relations  # the same ids
    assert kg.load_report is not None and kg.load_report.duplicates == 40
    ints = pa.table({"head": [1, 2], "relation": ["r", "r"], "tail": [2, 3]})
    pq.write_table(ints, tmp_path / "ints.parquet")
    assert kgaug.KnowledgeGraph.from_parquet(tmp_path / "ints.parquet").entities == ("1", "2", "3")

"""Readers and writers: TSV, JSONL, CSV, 2WikiMultiHopQA, networkx, atomic writes."""

from __future__ import annotations

import gzip
import json
import os
import stat

import networkx as nx
import pytest

from kgaug import KGFormatError, KnowledgeGraph, Provenance, Triple
from kgaug._fileio import atomic_write
from kgaug.io import (
    from_networkx,
    read_2wiki,
    read_csv,
    read_jsonl,
    read_tsv,
    to_networkx,
    write_jsonl,
    write_tsv,
)

KG = KnowledgeGraph


def _facts(kg: KnowledgeGraph) -> set[tuple[str, str, str]]:
    return set(kg.triples())


def _write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


# ============================================================================ TSV


def test_read_tsv_basic(tmp_path):
    p = _write(tmp_path / "kg.tsv", "a\tr\tb\nb\ts\tc\na\tr\tb\nc\tr\tc\n")
    kg = read_tsv(p)
    assert _facts(kg) == {("a", "r", "b"), ("b", "s", "c"), ("c", "r", "c")}
    assert set(kg.entities) == {"a", "b", "c"}
    assert set(kg.relations) == {"r", "s"}
    assert kg.types == ()
    rep = kg.load_report
    assert rep.source == str(p)
    assert rep.records == 4
    assert rep.duplicates == 1
    assert rep.self_loops == 1
    assert rep.skipped == 0
    assert KG.from_tsv(p) == kg


def test_read_tsv_keeps_inner_spaces(tmp_path):
    p = _write(tmp_path / "kg.tsv", "Barack Obama\tplace of birth\tHonolulu, Hawaii\n")
    assert list(read_tsv(p)) == [("Barack Obama", "place of birth", "Honolulu, Hawaii")]


def test_read_tsv_no_trailing_newline(tmp_path):
    p = _write(tmp_path / "kg.tsv", "a\tr\tb\nb\tr\tc")
    assert _facts(read_tsv(p)) == {("a", "r", "b"), ("b", "r", "c")}


def test_read_tsv_gz(tmp_path):
    p = tmp_path / "kg.tsv.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write("a\tr\tb\nb\tr\tc\n")
    kg = read_tsv(p)
    assert _facts(kg) == {("a", "r", "b"), ("b", "r", "c")}
    assert kg.load_report.records == 2


def test_read_tsv_blank_lines_skipped_and_counted(tmp_path):
    p = _write(tmp_path / "kg.tsv", "\na\tr\tb\n\n   \n\r\nb\tr\tc\n\n")
    kg = read_tsv(p)
    assert kg.num_facts == 2
    assert kg.load_report.skipped == 5
    assert kg.load_report.records == 2


@pytest.mark.parametrize(("line", "match"), [("\t\t", "empty head"), ("\t", "got 2")])
def test_read_tsv_tab_only_lines_are_errors_not_blank(tmp_path, line, match):
    p = _write(tmp_path / "kg.tsv", f"a\tr\tb\n{line}\n")
    with pytest.raises(KGFormatError, match=f"line 2: .*{match}"):
        read_tsv(p)


def test_read_tsv_header(tmp_path):
    p = _write(tmp_path / "kg.tsv", "head\trelation\ttail\na\tr\tb\n")
    kg = read_tsv(p, header=True)
    assert list(kg) == [("a", "r", "b")]
    assert kg.load_report.skipped == 1
    assert kg.load_report.records == 1
    assert KG.from_tsv(p, header=True) == kg
    # without header=True the header is a fact
    assert ("head", "relation", "tail") in read_tsv(p)


def test_read_tsv_header_after_blank_line(tmp_path):
    p = _write(tmp_path / "kg.tsv", "\nh\tr\tt\na\tr\tb\n")
    kg = read_tsv(p, header=True)
    assert list(kg) == [("a", "r", "b")]
    assert kg.load_report.skipped == 2


def test_read_tsv_crlf(tmp_path):
    p = _write(tmp_path / "kg.tsv", "a\tr\tb\r\nb\tr\tc\r\n\r\n")
    kg = read_tsv(p)
    assert _facts(kg) == {("a", "r", "b"), ("b", "r", "c")}
    assert not any("\r" in e for e in kg.entities)
    assert kg.load_report.skipped == 1


def test_read_tsv_utf8_bom(tmp_path):
    p = tmp_path / "kg.tsv"
    p.write_bytes(b"\xef\xbb\xbfa\tr\tb\nZ\xc3\xbcrich\tr\tb\n")
    kg = read_tsv(p)
    assert set(kg.entities) == {"a", "b", "Zürich"}
    assert not any("\ufeff" in e for e in kg.entities)


def test_read_tsv_bom_with_header_and_crlf(tmp_path):
    p = tmp_path / "kg.tsv"
    p.write_bytes(b"\xef\xbb\xbfhead\trelation\ttail\r\na\tr\tb\r\n")
    assert list(read_tsv(p, header=True)) == [("a", "r", "b")]


@pytest.mark.parametrize(
    ("text", "line", "got"),
    [
        ("a\tr\tb\na r b\n", 2, "got 1"),
        ("a\tr\tb\n\n\n\na\tr\n", 5, "got 2"),
        ("\n\n\na\tr\tb\tc\n", 4, "got 4"),
        ("a\tr\tb\r\n\r\nx,y,z\r\n", 3, "got 1"),
    ],
)
def test_read_tsv_malformed_line_number(tmp_path, text, line, got):
    p = _write(tmp_path / "bad.tsv", text)
    with pytest.raises(KGFormatError) as ei:
        read_tsv(p)
    err = ei.value
    assert err.line == line
    assert err.path == str(p)
    assert f"{p}, line {line}:" in str(err)
    assert got in str(err)
    assert "tab-separated" in str(err)


def test_read_tsv_malformed_hint_for_comma_file(tmp_path):
    p = _write(tmp_path / "bad.tsv", "a,r,b\n")
    with pytest.raises(KGFormatError, match="comma- or space-separated"):
        read_tsv(p)


def test_read_tsv_malformed_line_with_header(tmp_path):
    p = _write(tmp_path / "bad.tsv", "h\tr\tt\na\tr\tb\nbroken\n")
    with pytest.raises(KGFormatError, match=r"line 3:"):
        read_tsv(p, header=True)


_BIG = 200_010  # > one read chunk (200000 lines)


def _big_lines() -> list[bytes]:
    return [b"e%d\tr%d\te%d\n" % (i, i % 7, i + 1) for i in range(_BIG)]


def test_read_tsv_line_number_in_second_chunk(tmp_path):
    lines = _big_lines()
    bad_line = 200_007
    lines[bad_line - 1] = b"only\ttwo\n"
    p = tmp_path / "big.tsv"
    p.write_bytes(b"".join(lines))
    with pytest.raises(KGFormatError) as ei:
        read_tsv(p)
    assert ei.value.line == bad_line
    assert f"{p}, line {bad_line}:" in str(ei.value)


def test_read_tsv_line_number_in_second_chunk_gz_with_blank_lines(tmp_path):
    lines = _big_lines()
    lines[10] = b"\n"
    lines[199_999] = b"\r\n"
    lines[200_000] = b"\n"
    bad_line = 200_003
    lines[bad_line - 1] = b"x\t\ty\n"
    p = tmp_path / "big.tsv.gz"
    p.write_bytes(gzip.compress(b"".join(lines), compresslevel=1))
    with pytest.raises(KGFormatError) as ei:
        read_tsv(p)
    assert ei.value.line == bad_line
    assert f"line {bad_line}:" in str(ei.value)
    assert "empty relation field" in str(ei.value)


def test_read_tsv_big_file_reads_completely(tmp_path):
    p = tmp_path / "big.tsv"
    p.write_bytes(b"".join(_big_lines()))
    kg = read_tsv(p)
    assert kg.num_facts == _BIG
    assert kg.num_entities == _BIG + 1
    assert kg.num_relations == 7
    assert kg.load_report.records == _BIG


def test_read_tsv_undecodable_in_second_chunk(tmp_path):
    lines = _big_lines()
    lines[200_004] = b"caf\xe9\tr\tb\n"
    p = tmp_path / "big.tsv"
    p.write_bytes(b"".join(lines))
    with pytest.raises(KGFormatError) as ei:
        read_tsv(p)
    assert ei.value.line == 200_005
    assert f"{p}, line 200005:" in str(ei.value)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("a\tr\tb\n\tr\tb\n", "head"),
        ("a\tr\tb\na\t \tb\n", "relation"),
        ("a\tr\tb\na\tr\t\n", "tail"),
    ],
)
def test_read_tsv_empty_field(tmp_path, text, field):
    p = _write(tmp_path / "bad.tsv", text)
    with pytest.raises(KGFormatError) as ei:
        read_tsv(p)
    assert f"empty {field} field" in str(ei.value)
    assert ei.value.line == 2
    assert str(p) in str(ei.value)


def test_read_tsv_undecodable_bytes(tmp_path):
    p = tmp_path / "bad.tsv"
    p.write_bytes(b"a\tr\tb\n\nb\tr\t\xff\n")
    with pytest.raises(KGFormatError) as ei:
        read_tsv(p)
    msg = str(ei.value)
    assert ei.value.line == 3
    assert f"{p}, line 3:" in msg
    assert "\\xff" in msg
    assert "utf-8" in msg


def test_read_tsv_other_encoding(tmp_path):
    p = tmp_path / "latin.tsv"
    p.write_bytes("café\tr\tb\n".encode("latin-1"))
    assert set(read_tsv(p, encoding="latin-1").entities) == {"café", "b"}


def test_read_tsv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.tsv"):
        read_tsv(tmp_path / "nope.tsv")


def test_read_tsv_directory(tmp_path):
    with pytest.raises(IsADirectoryError):
        read_tsv(tmp_path)


def test_read_tsv_empty_file(tmp_path):
    kg = read_tsv(_write(tmp_path / "empty.tsv", ""))
    assert kg.num_facts == 0
    assert kg.num_entities == 0


# ============================================================================ JSONL


@pytest.fixture
def typed_kg() -> KnowledgeGraph:
    return KG.from_triples(
        [
            ("Titanic", "director", "James Cameron"),
            ("James Cameron", "place of birth", "Kapuskasing"),
            Triple(
                head="James Cameron",
                relation="spouse",
                tail="Linda Hamilton",
                provenance="synthetic",
            ),
            Triple(
                head="Kapuskasing", relation="country", tail="Canada", provenance="counterfactual"
            ),
            ("Canada", "country", "Canada"),
        ],
        entity_types={
            "Titanic": "Object",
            "James Cameron": "Person",
            "Kapuskasing": "Location",
            "Linda Hamilton": "Person",
        },
    )


def test_jsonl_round_trip_facts_types_provenance(tmp_path, typed_kg):
    p = tmp_path / "kg.jsonl"
    write_jsonl(typed_kg, p)
    back = read_jsonl(p)
    assert _facts(back) == _facts(typed_kg)
    assert {r.as_tuple(): r.provenance for r in back.records()} == {
        r.as_tuple(): r.provenance for r in typed_kg.records()
    }
    assert {e: back.entity_type(e) for e in back.entities} == {
        e: typed_kg.entity_type(e) for e in typed_kg.entities
    }
    assert back.load_report.records == typed_kg.num_facts
    assert KG.from_jsonl(p) == back


def test_jsonl_round_trip_equal_graph_simple(tmp_path, obama):
    p = tmp_path / "kg.jsonl"
    write_jsonl(obama, p)
    assert read_jsonl(p) == obama


def test_jsonl_round_trip_typed_equal(tmp_path, typed_kg):
    p = tmp_path / "kg.jsonl"
    typed_kg.to_jsonl(p)
    assert read_jsonl(p) == typed_kg


def test_jsonl_round_trip_equal_graph_reordered_labels(tmp_path):
    # the file lists facts in id order, so labels are interned in another order on reading
    kg = KG.from_triples(
        [("a", "r", "b"), ("b", "s", "c"), ("a", "t", "c")],
        entity_types={"c": "Location", "a": "Person"},
    )
    p = tmp_path / "kg.jsonl"
    write_jsonl(kg, p)
    back = read_jsonl(p)
    assert back == kg
    assert back.entity_type("c") == "Location"


def test_jsonl_round_trip_example_equal(tmp_path, example_kg):
    p = tmp_path / "ex.jsonl"
    write_jsonl(example_kg, p)
    back = read_jsonl(p)
    assert back == example_kg
    # and again: the round trip is stable
    q = tmp_path / "ex2.jsonl"
    write_jsonl(back, q)
    assert read_jsonl(q) == example_kg
    assert read_jsonl(q) == back


def test_jsonl_round_trip_example_same_content(tmp_path, example_kg):
    p = tmp_path / "ex.jsonl.gz"
    write_jsonl(example_kg, p)
    back = read_jsonl(p)
    assert _facts(back) == _facts(example_kg)
    assert {e: back.entity_type(e) for e in back.entities} == {
        e: example_kg.entity_type(e) for e in example_kg.entities
    }


def test_write_jsonl_format(tmp_path):
    kg = KG.from_triples(
        [("Zürich", "r", "b"), Triple(head="b", relation="r", tail="c", provenance="synthetic")],
        entity_types={"Zürich": "Location"},
    )
    p = tmp_path / "kg.jsonl"
    write_jsonl(kg, p)
    raw = p.read_bytes()
    assert "Zürich".encode() in raw  # ensure_ascii=False
    recs = [json.loads(ln) for ln in raw.decode().splitlines()]
    assert recs == [
        {"head": "Zürich", "relation": "r", "tail": "b", "head_type": "Location"},
        {"head": "b", "relation": "r", "tail": "c", "provenance": "synthetic"},
    ]


def test_read_jsonl_types_provenance_and_blank_lines(tmp_path):
    lines = [
        {"head": "a", "relation": "r", "tail": "b", "head_type": "P", "tail_type": None},
        {},
        {"head": "b", "relation": "r", "tail": "c", "provenance": "counterfactual"},
        {"head": "c", "relation": "r", "tail": "a", "tail_type": "P", "provenance": None},
    ]
    text = "\n".join("" if not d else json.dumps(d) for d in lines) + "\n\n"
    kg = read_jsonl(_write(tmp_path / "kg.jsonl", text))
    assert kg.entity_type("a") == "P"
    assert kg.entity_type("b") is None
    assert kg.provenance_counts() == {"real": 2, "synthetic": 0, "counterfactual": 1}
    assert kg.load_report.skipped == 2
    assert kg.load_report.records == 3


def test_read_jsonl_invalid_json(tmp_path):
    p = _write(tmp_path / "bad.jsonl", '{"head": "a", "relation": "r", "tail": "b"}\n\n{"head": \n')
    with pytest.raises(KGFormatError) as ei:
        read_jsonl(p)
    assert ei.value.line == 3
    assert f"{p}, line 3:" in str(ei.value)
    assert "invalid JSON" in str(ei.value)


@pytest.mark.parametrize("value", ["[1, 2, 3]", '"text"', "42", "null"])
def test_read_jsonl_non_object(tmp_path, value):
    p = _write(tmp_path / "bad.jsonl", '{"head": "a", "relation": "r", "tail": "b"}\n' + value)
    with pytest.raises(KGFormatError, match="line 2: expected a JSON object"):
        read_jsonl(p)


def test_read_jsonl_missing_key_lists_present_keys(tmp_path):
    p = _write(tmp_path / "bad.jsonl", '{"subject": "a", "relation": "r", "object": "b"}\n')
    with pytest.raises(KGFormatError) as ei:
        read_jsonl(p)
    msg = str(ei.value)
    assert "line 1" in msg
    assert "missing key(s) ['head', 'tail']" in msg
    assert "['object', 'relation', 'subject']" in msg


def test_read_jsonl_empty_and_non_string_values(tmp_path):
    p = _write(tmp_path / "bad.jsonl", '{"head": "a", "relation": "", "tail": "b"}\n')
    with pytest.raises(KGFormatError, match="line 1: empty relation"):
        read_jsonl(p)
    p = _write(tmp_path / "bad2.jsonl", '{"head": 1, "relation": "r", "tail": "b"}\n')
    with pytest.raises(KGFormatError, match="line 1: head must be a string"):
        read_jsonl(p)


def test_read_jsonl_conflicting_types(tmp_path):
    lines = [
        {"head": "Paris", "relation": "country", "tail": "France", "head_type": "Location"},
        {"head": "x", "relation": "r", "tail": "y"},
        {"head": "Hilton", "relation": "named after", "tail": "Paris", "tail_type": "Person"},
    ]
    p = _write(tmp_path / "bad.jsonl", "\n".join(json.dumps(d) for d in lines) + "\n")
    with pytest.raises(KGFormatError) as ei:
        read_jsonl(p)
    msg = str(ei.value)
    assert ei.value.line == 3
    assert f"{p}, line 3:" in msg
    assert "'Paris'" in msg
    assert "'Person'" in msg
    assert "'Location'" in msg
    assert "first typed at line 1" in msg


def test_read_jsonl_same_type_twice_ok(tmp_path):
    lines = [
        {"head": "a", "relation": "r", "tail": "b", "head_type": "P"},
        {"head": "c", "relation": "r", "tail": "a", "tail_type": "P"},
    ]
    kg = read_jsonl(_write(tmp_path / "kg.jsonl", "\n".join(json.dumps(d) for d in lines)))
    assert kg.entity_type("a") == "P"
    assert kg.types == ("P",)


def test_read_jsonl_custom_keys(tmp_path):
    rec = {"s": "a", "p": "r", "o": "b", "st": "P", "ot": "Q", "src": "synthetic"}
    p = _write(tmp_path / "kg.jsonl", json.dumps(rec) + "\n")
    kg = read_jsonl(
        p, head="s", relation="p", tail="o", head_type="st", tail_type="ot", provenance="src"
    )
    assert list(kg) == [("a", "r", "b")]
    assert kg.entity_type("a") == "P"
    assert kg.entity_type("b") == "Q"
    assert kg.provenance_counts()["synthetic"] == 1
    assert KG.from_jsonl(p, head="s", relation="p", tail="o").num_facts == 1
    with pytest.raises(KGFormatError, match="missing key"):
        read_jsonl(p)


def test_read_jsonl_bad_provenance(tmp_path):
    p = _write(
        tmp_path / "bad.jsonl",
        '{"head": "a", "relation": "r", "tail": "b"}\n'
        '{"head": "a", "relation": "r", "tail": "c", "provenance": "fake"}\n',
    )
    with pytest.raises(KGFormatError) as ei:
        read_jsonl(p)
    assert ei.value.line == 2
    assert "provenance must be one of" in str(ei.value)
    assert "'fake'" in str(ei.value)


def test_read_jsonl_bom_and_crlf(tmp_path):
    p = tmp_path / "kg.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"head": "a", "relation": "r", "tail": "b"}\r\n')
    assert list(read_jsonl(p)) == [("a", "r", "b")]


# ============================================================================ CSV


def test_read_csv_named_columns(tmp_path):
    p = _write(tmp_path / "kg.csv", "tail,relation,head,extra\nb,r,a,x\nc,r,b,y\n")
    kg = read_csv(p)
    assert _facts(kg) == {("a", "r", "b"), ("b", "r", "c")}
    assert kg.load_report.records == 2
    assert KG.from_csv(p) == kg


def test_read_csv_custom_column_names(tmp_path):
    p = _write(tmp_path / "kg.csv", "subject,predicate,object\na,r,b\n")
    kg = read_csv(p, head="subject", relation="predicate", tail="object")
    assert list(kg) == [("a", "r", "b")]


def test_read_csv_type_and_provenance_columns(tmp_path):
    p = _write(
        tmp_path / "kg.csv",
        "head,relation,tail,ht,tt,prov\n"
        "a,r,b,Person,Location,\n"
        "b,r,c,,Location,synthetic\n"
        "c,r,d,Location,,counterfactual\n",
    )
    kg = read_csv(p, head_type="ht", tail_type="tt", provenance="prov")
    assert kg.entity_type("a") == "Person"
    assert kg.entity_type("b") == "Location"
    assert kg.entity_type("c") == "Location"
    assert kg.entity_type("d") is None
    prov = {r.as_tuple(): r.provenance for r in kg.records()}
    assert prov[("a", "r", "b")] is Provenance.REAL
    assert prov[("b", "r", "c")] is Provenance.SYNTHETIC
    assert prov[("c", "r", "d")] is Provenance.COUNTERFACTUAL
    # without naming them the optional columns are ignored
    plain = read_csv(p)
    assert plain.types == ()
    assert plain.provenance_counts()["real"] == 3


def test_read_csv_type_conflict_and_bad_provenance(tmp_path):
    p = _write(tmp_path / "kg.csv", "head,relation,tail,ht\na,r,b,P\na,r,c,Q\n")
    with pytest.raises(KGFormatError, match="line 3: entity 'a' typed 'Q'"):
        read_csv(p, head_type="ht")
    p = _write(tmp_path / "kg2.csv", "head,relation,tail,prov\na,r,b,bogus\n")
    with pytest.raises(KGFormatError, match="line 2: provenance must be one of"):
        read_csv(p, provenance="prov")


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({}, "'head'"),
        ({"head": "subject", "tail": "object"}, "'relation'"),
        ({"head": "subject", "relation": "rel", "tail": "object", "head_type": "htype"}, "'htype'"),
    ],
)
def test_read_csv_missing_column_lists_header(tmp_path, kwargs, missing):
    p = _write(tmp_path / "kg.csv", "subject,rel,object\na,r,b\n")
    with pytest.raises(KGFormatError) as ei:
        read_csv(p, **kwargs)
    msg = str(ei.value)
    assert f"no column {missing}" in msg
    assert "['subject', 'rel', 'object']" in msg
    assert f"{p}, line 1" in msg


def test_read_csv_short_row(tmp_path):
    p = _write(tmp_path / "kg.csv", "head,relation,tail\na,r,b\n\nc,r\n")
    with pytest.raises(KGFormatError) as ei:
        read_csv(p)
    assert ei.value.line == 4
    assert f"{p}, line 4:" in str(ei.value)
    assert "row has 2 fields, the header has 3" in str(ei.value)


def test_read_csv_empty_field(tmp_path):
    p = _write(tmp_path / "kg.csv", "head,relation,tail\na,,b\n")
    with pytest.raises(KGFormatError, match="line 2: empty relation"):
        read_csv(p)


def test_read_csv_semicolon_delimiter(tmp_path):
    p = _write(tmp_path / "kg.csv", "head;relation;tail\nHonolulu, Hawaii;country;USA\n")
    kg = read_csv(p, delimiter=";")
    assert list(kg) == [("Honolulu, Hawaii", "country", "USA")]
    with pytest.raises(KGFormatError, match="no column"):
        read_csv(p)  # with the default delimiter the header is one column


def test_read_csv_quoted_fields(tmp_path):
    p = _write(
        tmp_path / "kg.csv",
        'head,relation,tail\n"Honolulu, Hawaii",country,"United States, ""USA"""\n',
    )
    assert list(read_csv(p)) == [("Honolulu, Hawaii", "country", 'United States, "USA"')]
    p = _write(tmp_path / "kg2.csv", 'head;relation;tail\n"a;b";r;"c"\n')
    assert list(read_csv(p, delimiter=";")) == [("a;b", "r", "c")]


def test_read_csv_blank_lines_crlf_bom(tmp_path):
    p = tmp_path / "kg.csv"
    p.write_bytes(b"\xef\xbb\xbfhead,relation,tail\r\na,r,b\r\n\r\n,,\r\nb,r,c\r\n")
    kg = read_csv(p)
    assert _facts(kg) == {("a", "r", "b"), ("b", "r", "c")}
    assert kg.load_report.skipped == 2


def test_read_csv_tab_delimiter_gz(tmp_path):
    p = tmp_path / "kg.csv.gz"
    p.write_bytes(gzip.compress(b"head\trelation\ttail\na\tr\tb\n"))
    assert list(read_csv(p, delimiter="\t")) == [("a", "r", "b")]


def test_read_csv_empty_file(tmp_path):
    assert read_csv(_write(tmp_path / "e.csv", "")).num_facts == 0


# ============================================================================ 2Wiki

_ROWS = [
    {
        "_id": "q1",
        "question": "Who is the spouse of the director of film Titanic?",
        "evidences": [
            ["Titanic", "director", "James Cameron"],
            ["James Cameron", "spouse", "Linda Hamilton"],
        ],
    },
    {
        "_id": "q2",
        "question": "Where was the director of Titanic born?",
        "evidences": [
            ["Titanic", "director", "James Cameron"],
            ["James Cameron", "place of birth", "Kapuskasing"],
            ["James Cameron", "date of birth", "August 16, 1954"],
            ["Kapuskasing", "country", "Canada"],
        ],
    },
]
_FACTS = {tuple(t) for row in _ROWS for t in row["evidences"]}


def _json(path, obj):
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def test_2wiki_original_rows(tmp_path):
    p = _json(tmp_path / "dev.json", _ROWS)
    kg = read_2wiki(p)
    assert _facts(kg) == _FACTS
    assert kg.load_report.records == 6
    assert kg.load_report.duplicates == 1
    assert kg.load_report.source == str(p)
    assert KG.from_2wiki(p) == kg


def test_2wiki_data_wrapper(tmp_path):
    p = _json(tmp_path / "dev.json", {"data": _ROWS})
    assert _facts(read_2wiki(p)) == _FACTS


def test_2wiki_json_lines(tmp_path):
    p = tmp_path / "dev.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in _ROWS) + "\n\n", encoding="utf-8")
    assert _facts(read_2wiki(p)) == _FACTS


def test_2wiki_json_lines_single_row(tmp_path):
    p = tmp_path / "one.jsonl"
    p.write_text(json.dumps(_ROWS[0]) + "\n", encoding="utf-8")
    assert _facts(read_2wiki(p)) == {tuple(t) for t in _ROWS[0]["evidences"]}


def test_2wiki_json_lines_bad_line(tmp_path):
    p = tmp_path / "dev.jsonl"
    p.write_text(json.dumps(_ROWS[0]) + "\n\n{broken\n", encoding="utf-8")
    with pytest.raises(KGFormatError) as ei:
        read_2wiki(p)
    assert ei.value.line == 3
    assert "invalid JSON" in str(ei.value)
    p.write_text(json.dumps(_ROWS[0]) + '\n{"_id": "q"}\n', encoding="utf-8")
    with pytest.raises(KGFormatError, match="line 2: row has no 'evidences' key"):
        read_2wiki(p)


def test_2wiki_columnar_mirror(tmp_path):
    doc = {
        "_id": [r["_id"] for r in _ROWS],
        "question": [r["question"] for r in _ROWS],
        "evidences": [r["evidences"] for r in _ROWS],
    }
    kg = read_2wiki(_json(tmp_path / "mirror.json", doc))
    assert _facts(kg) == _FACTS


def test_2wiki_columnar_mirror_pandas_columns_orient(tmp_path):
    doc = {
        "_id": {"0": "q1", "1": "q2"},
        "evidences": {"1": _ROWS[1]["evidences"], "0": _ROWS[0]["evidences"]},
    }
    assert _facts(read_2wiki(_json(tmp_path / "mirror.json", doc))) == _FACTS


def test_2wiki_evidences_as_columnar_dict(tmp_path):
    rows = [
        {
            "evidences": {
                "fact": [t[0] for t in r["evidences"]],
                "relation": [t[1] for t in r["evidences"]],
                "entity": [t[2] for t in r["evidences"]],
            }
        }
        for r in _ROWS
    ]
    assert _facts(read_2wiki(_json(tmp_path / "dev.json", rows))) == _FACTS
    # ... also inside a columnar mirror
    doc = {"evidences": [r["evidences"] for r in rows]}
    assert _facts(read_2wiki(_json(tmp_path / "mirror.json", doc))) == _FACTS


def test_2wiki_evidences_as_list_of_dicts(tmp_path):
    rows = [
        {"evidences": [{"subject": s, "relation": r, "object": o} for s, r, o in row["evidences"]]}
        for row in _ROWS
    ]
    assert _facts(read_2wiki(_json(tmp_path / "dev.json", rows))) == _FACTS
    rows2 = [
        {
            "evidences": [
                {"head": "a", "relation": "r", "tail": "b"},
                {"subject": "b", "property": "r", "object": "c"},
            ]
        }
    ]
    assert _facts(read_2wiki(_json(tmp_path / "dev2.json", rows2))) == {
        ("a", "r", "b"),
        ("b", "r", "c"),
    }


def test_2wiki_evidences_as_json_string(tmp_path):
    rows = [{"evidences": json.dumps(r["evidences"])} for r in _ROWS]
    assert _facts(read_2wiki(_json(tmp_path / "dev.json", rows))) == _FACTS
    doc = {"evidences": [json.dumps(r["evidences"]) for r in _ROWS]}
    assert _facts(read_2wiki(_json(tmp_path / "mirror.json", doc))) == _FACTS


def test_2wiki_null_evidences_is_empty_row(tmp_path):
    rows = [{"evidences": None}, _ROWS[0]]
    assert _facts(read_2wiki(_json(tmp_path / "dev.json", rows))) == {
        tuple(t) for t in _ROWS[0]["evidences"]
    }


def test_2wiki_type_inference(tmp_path):
    kg = read_2wiki(_json(tmp_path / "dev.json", _ROWS))
    types = {e: kg.entity_type(e) for e in kg.entities}
    assert types == {
        "Titanic": "Object",
        "James Cameron": "Person",
        "Linda Hamilton": "Person",
        "Kapuskasing": "Location",
        "August 16, 1954": "Date",
        "Canada": "Location",
    }
    assert all(c >= 0 for c in kg.entity_type_codes.tolist())


def test_2wiki_date_looking_tail_of_unknown_relation(tmp_path):
    rows = [
        {
            "evidences": [
                ["X", "some relation", "1999"],
                ["X", "other", "Paris"],
                ["Y", "award received", "Oscar"],
            ]
        }
    ]
    kg = read_2wiki(_json(tmp_path / "dev.json", rows))
    assert kg.entity_type("1999") == "Date"
    assert kg.entity_type("Paris") is None
    assert kg.entity_type("X") is None
    assert kg.entity_type("Y") is None  # award received has no head type
    assert kg.entity_type("Oscar") == "Object"


def test_2wiki_majority_vote(tmp_path):
    rows = [
        {
            "evidences": [
                # "Georgia" is a Location twice and a Person once -> Location
                ["A", "place of birth", "Georgia"],
                ["B", "place of death", "Georgia"],
                ["Georgia", "spouse", "C"],
                # tie (1 Person vs 1 Location) -> Person wins by priority
                ["D", "place of birth", "Jordan"],
                ["Jordan", "father", "E"],
            ]
        }
    ]
    kg = read_2wiki(_json(tmp_path / "dev.json", rows))
    assert kg.entity_type("Georgia") == "Location"
    assert kg.entity_type("Jordan") == "Person"
    assert kg.entity_type("A") == "Person"


def test_2wiki_relation_types_override(tmp_path):
    rows = [{"evidences": [["Titanic", "director", "James Cameron"], ["x", "likes", "y"]]}]
    kg = read_2wiki(
        _json(tmp_path / "dev.json", rows),
        relation_types={"director": ("Film", "Director"), "likes": ("Person", None)},
    )
    assert kg.entity_type("Titanic") == "Film"
    assert kg.entity_type("James Cameron") == "Director"
    assert kg.entity_type("x") == "Person"
    assert kg.entity_type("y") is None


def test_2wiki_no_type_inference(tmp_path):
    kg = read_2wiki(_json(tmp_path / "dev.json", _ROWS), infer_types=False)
    assert _facts(kg) == _FACTS
    assert kg.types == ()
    assert all(kg.entity_type(e) is None for e in kg.entities)


@pytest.mark.parametrize(
    ("evidences", "needle"),
    [
        ([["a", "r", "b"], ["a", "r"]], "row 1, evidence 1: expected [subject, relation, object]"),
        ([["a", "r", "b"], "a r b"], "row 1, evidence 1: expected [subject, relation, object]"),
        ([["a", "r", "b"], {"x": 1}], "row 1, evidence 1: object keys ['x'] are not a triple"),
        ([["a", "r", "b"], ["a", "", "b"]], "row 1, evidence 1: empty relation"),
        ([["a", "r", "b"], [1, "r", "b"]], "row 1, evidence 1: head must be a string"),
        (42, "row 1: evidences must be a list"),
        ("not json", "row 1: evidences is a string that is not JSON"),
        ({"fact": ["a"], "relation": ["r", "s"], "entity": ["b"]}, "have different lengths"),
        ({"foo": []}, "row 1: evidences object has keys ['foo']"),
    ],
)
def test_2wiki_malformed_evidence(tmp_path, evidences, needle):
    rows = [_ROWS[0], {"evidences": evidences}]
    p = _json(tmp_path / "dev.json", rows)
    with pytest.raises(KGFormatError) as ei:
        read_2wiki(p)
    assert needle in str(ei.value)
    assert str(p) in str(ei.value)


def test_2wiki_row_without_evidences(tmp_path):
    p = _json(tmp_path / "dev.json", [_ROWS[0], {"_id": "q9", "question": "?"}])
    with pytest.raises(KGFormatError) as ei:
        read_2wiki(p)
    msg = str(ei.value)
    assert "row 1 has no 'evidences' key" in msg
    assert "['_id', 'question']" in msg
    p = _json(tmp_path / "dev2.json", [_ROWS[0], "text"])
    with pytest.raises(KGFormatError, match="row 1 has no 'evidences' key"):
        read_2wiki(p)


def test_2wiki_unsupported_shapes(tmp_path):
    with pytest.raises(KGFormatError, match="column 'evidences'"):
        read_2wiki(_json(tmp_path / "a.json", {"question": ["?"]}))
    with pytest.raises(KGFormatError, match="unsupported JSON top level"):
        read_2wiki(_json(tmp_path / "b.json", 42))
    bad = tmp_path / "c.json"
    bad.write_text("[1, 2", encoding="utf-8")
    with pytest.raises(KGFormatError, match="invalid JSON"):
        read_2wiki(bad)


def test_2wiki_undecodable(tmp_path):
    p = tmp_path / "dev.json"
    p.write_bytes(b'[\n{"evidences": [["a", "r", "\xff"]]}]\n')
    with pytest.raises(KGFormatError) as ei:
        read_2wiki(p)
    assert ei.value.line == 2
    assert str(p) in str(ei.value)


def test_2wiki_gz(tmp_path):
    p = tmp_path / "dev.json.gz"
    p.write_bytes(gzip.compress(json.dumps(_ROWS).encode()))
    assert _facts(read_2wiki(p)) == _FACTS


# ============================================================================ networkx


def test_to_networkx(obama):
    g = to_networkx(obama)
    assert isinstance(g, nx.MultiDiGraph)
    assert list(g.nodes) == list(obama.entities)
    assert g.nodes["Barack Obama"]["type"] == "Person"
    assert g.nodes["Chicago"]["type"] == "Location"
    assert g.nodes["Honolulu"]["type"] is None
    assert g.number_of_edges() == obama.num_facts
    edges = set(g.edges(keys=True))
    assert ("Barack Obama", "Michelle Obama", "spouse") in edges
    assert ("Chicago", "United States", "country") in edges
    data = g.get_edge_data("Barack Obama", "Michelle Obama", key="spouse")
    assert data == {"relation": "spouse", "provenance": "real"}
    assert obama.to_networkx().edges(keys=True) == g.edges(keys=True)


def test_to_networkx_provenance_and_isolated():
    kg = KG.from_triples(
        [Triple(head="a", relation="r", tail="b", provenance="synthetic"), ("a", "s", "b")],
        entity_types={"lonely": "X"},
    )
    g = to_networkx(kg)
    assert g.number_of_edges("a", "b") == 2
    assert g["a"]["b"]["r"]["provenance"] == "synthetic"
    assert g["a"]["b"]["s"]["provenance"] == "real"
    assert "lonely" in g
    assert g.degree("lonely") == 0


def test_networkx_round_trip(obama):
    back = from_networkx(to_networkx(obama))
    assert back == obama
    assert KG.from_networkx(obama.to_networkx()) == obama


def test_networkx_round_trip_keeps_provenance_and_isolated():
    kg = KG.from_triples(
        [
            ("a", "r", "b"),
            Triple(head="b", relation="r", tail="c", provenance="counterfactual"),
        ],
        entity_types={"a": "P", "lonely": "Q"},
    )
    back = from_networkx(to_networkx(kg))
    assert back == kg
    assert back.num_entities == 4


def test_networkx_round_trip_example(example_kg):
    assert from_networkx(to_networkx(example_kg)) == example_kg


def test_networkx_round_trip_example_same_content(example_kg):
    back = from_networkx(to_networkx(example_kg))
    assert _facts(back) == _facts(example_kg)
    assert set(back.entities) == set(example_kg.entities)
    assert {e: back.entity_type(e) for e in back.entities} == {
        e: example_kg.entity_type(e) for e in example_kg.entities
    }


def test_from_networkx_digraph_with_relation_attribute():
    g = nx.DiGraph()
    g.add_node("Paris", type="Location")
    g.add_edge("Paris", "France", relation="country")
    g.add_edge("Marie Curie", "Paris", relation="place of death", provenance="synthetic")
    kg = from_networkx(g)
    assert _facts(kg) == {
        ("Paris", "country", "France"),
        ("Marie Curie", "place of death", "Paris"),
    }
    assert kg.entity_type("Paris") == "Location"
    assert kg.entity_type("France") is None
    assert kg.provenance_counts() == {"real": 1, "synthetic": 1, "counterfactual": 0}
    assert kg.load_report.source == "<networkx DiGraph>"


def test_from_networkx_custom_attribute_names():
    g = nx.DiGraph()
    g.add_node("a", kind="P")
    g.add_edge("a", "b", label="r")
    kg = from_networkx(g, relation="label", type_attr="kind")
    assert list(kg) == [("a", "r", "b")]
    assert kg.entity_type("a") == "P"


def test_from_networkx_multidigraph_string_keys():
    g = nx.MultiDiGraph()
    g.add_edge("a", "b", key="r")
    g.add_edge("a", "b", key="s")
    g.add_edge("b", "c", key="ignored", relation="t")  # attribute wins over the key
    kg = from_networkx(g)
    assert _facts(kg) == {("a", "r", "b"), ("a", "s", "b"), ("b", "t", "c")}


def test_from_networkx_undirected():
    g = nx.Graph()
    g.add_edge("a", "b", relation="r")
    with pytest.raises(ValueError, match="to_directed"):
        from_networkx(g)
    with pytest.raises(ValueError, match="to_directed"):
        from_networkx(nx.MultiGraph())
    kg = from_networkx(g.to_directed())
    assert _facts(kg) == {("a", "r", "b"), ("b", "r", "a")}


def test_from_networkx_edge_without_relation():
    g = nx.DiGraph()
    g.add_edge("a", "b", relation="r")
    g.add_edge("b", "c", weight=2)
    with pytest.raises(KGFormatError) as ei:
        from_networkx(g)
    assert "edge 1" in str(ei.value)
    assert "'relation'" in str(ei.value)
    mg = nx.MultiDiGraph()
    mg.add_edge("a", "b")  # integer key 0, no attribute
    with pytest.raises(KGFormatError, match="no string key"):
        from_networkx(mg)


def test_from_networkx_non_string_nodes():
    g = nx.DiGraph()
    g.add_node(1, type="Number")
    g.add_edge(1, 2, relation="next")
    g.add_edge(2, (3, 4), relation=5)
    kg = from_networkx(g)
    assert _facts(kg) == {("1", "next", "2"), ("2", "5", "(3, 4)")}
    assert kg.entity_type("1") == "Number"


def test_from_networkx_colliding_labels():
    g = nx.DiGraph()
    g.add_edge(1, "1", relation="r")
    with pytest.raises(ValueError, match="'1'"):
        from_networkx(g)


def test_from_networkx_bad_provenance():
    g = nx.DiGraph()
    g.add_edge("a", "b", relation="r", provenance="dreamt")
    with pytest.raises(ValueError, match="provenance must be one of"):
        from_networkx(g)


# ============================================================================ writers


def test_write_tsv_round_trip(tmp_path, obama):
    p = tmp_path / "out" / "kg.tsv"  # parent folder is created
    write_tsv(obama, p)
    text = p.read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert text.splitlines() == ["\t".join(t) for t in obama.triples()]
    back = read_tsv(p)
    assert _facts(back) == _facts(obama)
    assert back.types == ()
    assert back == obama.with_entity_types({e: None for e in obama.entities})
    assert back != obama  # TSV has no types
    assert back.load_report.records == obama.num_facts


def test_write_tsv_gz(tmp_path, example_kg):
    p = tmp_path / "kg.tsv.gz"
    example_kg.to_tsv(p)
    assert p.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(p.read_bytes()).decode().count("\n") == example_kg.num_facts
    assert _facts(read_tsv(p)) == _facts(example_kg)


def test_write_tsv_overwrites(tmp_path, obama):
    p = tmp_path / "kg.tsv"
    p.write_text("old content\n")
    write_tsv(obama, p)
    assert _facts(read_tsv(p)) == _facts(obama)


@pytest.mark.parametrize("label", ["a\tb", "a\nb", "a\rb"])
def test_write_tsv_rejects_tab_or_newline(tmp_path, label):
    p = tmp_path / "kg.tsv"
    for kg in (
        KG.from_triples([(label, "r", "x")]),
        KG.from_triples([("x", label, "y")]),
    ):
        with pytest.raises(ValueError, match="tab or newline"):
            write_tsv(kg, p)
    assert not p.exists()
    assert list(tmp_path.iterdir()) == []


def test_write_jsonl_keeps_tabs(tmp_path):
    kg = KG.from_triples([("a\tb", "r", "line\nbreak")])
    p = tmp_path / "kg.jsonl"
    write_jsonl(kg, p)
    assert list(read_jsonl(p)) == [("a\tb", "r", "line\nbreak")]


@pytest.mark.parametrize("name", ["kg.tsv", "kg.jsonl", "kg.tsv.gz", "kg.jsonl.gz"])
def test_writes_are_byte_identical(tmp_path, example_kg, name):
    writer = write_jsonl if ".jsonl" in name else write_tsv
    a = tmp_path / "a" / name
    b = tmp_path / "b" / name
    writer(example_kg, a)
    writer(example_kg, b)
    assert a.read_bytes() == b.read_bytes()
    first = a.read_bytes()
    writer(example_kg, a)  # rewriting the same path
    assert a.read_bytes() == first


class _BoomError(Exception):
    pass


def _write_then_fail(path, text: str, exc: type[BaseException]) -> None:
    with atomic_write(path) as fh:
        fh.write(text)
        fh.flush()
        raise exc


@pytest.mark.parametrize("name", ["data.txt", "data.txt.gz"])
def test_atomic_write_keeps_old_file_on_error(tmp_path, name):
    p = tmp_path / name
    with atomic_write(p) as fh:
        fh.write("old\n")
    old = p.read_bytes()
    with pytest.raises(_BoomError):
        _write_then_fail(p, "new partial content\n" * 1000, _BoomError)
    assert p.read_bytes() == old
    assert sorted(x.name for x in tmp_path.iterdir()) == [name]


def test_atomic_write_no_file_when_first_write_fails(tmp_path):
    p = tmp_path / "new.txt"
    with pytest.raises(KeyboardInterrupt):
        _write_then_fail(p, "x", KeyboardInterrupt)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_success_binary_and_text(tmp_path):
    p = tmp_path / "b.bin"
    with atomic_write(p, "wb") as fh:
        fh.write(b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    q = tmp_path / "t.txt"
    with atomic_write(q) as fh:
        fh.write("é\n")
    assert q.read_bytes() == "é\n".encode()
    z = tmp_path / "z.bin.gz"
    with atomic_write(z, "wb") as fh:
        fh.write(b"abc")
    assert gzip.decompress(z.read_bytes()) == b"abc"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["b.bin", "t.txt", "z.bin.gz"]


def test_atomic_write_failing_writer_function(tmp_path, obama):
    """A writer that raises mid-way (here: write_tsv's output stream) keeps the old file."""
    p = tmp_path / "kg.tsv"
    write_tsv(obama, p)
    old = p.read_bytes()

    def failing_writer() -> None:
        with atomic_write(p) as fh:
            for i, (h, r, t) in enumerate(obama.triples()):
                if i == 2:
                    raise RuntimeError("disk on fire")
                fh.write(f"{h}\t{r}\t{t}\n")

    with pytest.raises(RuntimeError, match="disk on fire"):
        failing_writer()
    assert p.read_bytes() == old
    assert [x.name for x in tmp_path.iterdir()] == ["kg.tsv"]


def test_written_file_has_normal_permissions(tmp_path, obama):
    umask = os.umask(0)
    os.umask(umask)
    ref = tmp_path / "ref.txt"
    ref.write_text("x")
    p = tmp_path / "kg.tsv"
    write_tsv(obama, p)
    assert stat.S_IMODE(p.stat().st_mode) == stat.S_IMODE(ref.stat().st_mode)
    assert stat.S_IMODE(ref.stat().st_mode) == 0o666 & ~umask


def test_2wiki_json_lines_with_a_bom(tmp_path):
    rows = [{"evidences": [["a", "r", "b"]]}, {"evidences": [["b", "s", "c"]]}]
    p = tmp_path / "rows.jsonl"
    p.write_text("\ufeff" + "\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert sorted(read_2wiki(p).triples()) == [("a", "r", "b"), ("b", "s", "c")]


@pytest.mark.parametrize("reader", ["tsv", "2wiki"])
def test_corrupt_gzip_is_a_format_error_naming_the_file(tmp_path, reader):
    p = tmp_path / ("kg.tsv.gz" if reader == "tsv" else "rows.json.gz")
    good = gzip.compress(b"a\tr\tb\n" * 1000 if reader == "tsv" else b'[{"evidences": []}]')
    p.write_bytes(good[: len(good) // 2])  # truncated
    fn = read_tsv if reader == "tsv" else read_2wiki
    with pytest.raises(KGFormatError, match=r"kg\.tsv\.gz|rows\.json\.gz"):
        fn(p)
    p.write_bytes(b"this is not gzip at all")
    with pytest.raises(KGFormatError, match="compressed"):
        fn(p)


def test_csv_rows_with_extra_fields_are_errors(tmp_path):
    p = _write(tmp_path / "kg.csv", "head,relation,tail\na,r,b\nb,r,c,oops\n")
    with pytest.raises(KGFormatError, match=r"line 3: row has 4 fields, the header has 3"):
        read_csv(p)


def test_from_networkx_bad_provenance_names_the_edge():
    g = nx.MultiDiGraph()
    g.add_edge("a", "b", key="r", provenance="made up")
    with pytest.raises(KGFormatError, match=r"edge 0 \('a', 'b'\).*provenance"):
        KnowledgeGraph.from_networkx(g)


# ============================================================================ hostile input

import kgaug.io as kio  # noqa: E402
from kgaug.cli import main as cli_main  # noqa: E402
from kgaug.kg import _Builder  # noqa: E402

_DEEP = 50_000  # far past both MAX_JSON_DEPTH and Python's recursion limit


def _deep(n: int = _DEEP) -> str:
    return "[" * n + "]" * n


def test_read_jsonl_deep_nesting_names_file_and_line(tmp_path):
    good = '{"head": "a", "relation": "r", "tail": "b"}'
    deep = '{"head": ' + _deep() + ', "relation": "r", "tail": "b"}'
    p = _write(tmp_path / "deep.jsonl", f"{good}\n\n{deep}\n")
    with pytest.raises(KGFormatError) as ei:
        read_jsonl(p)
    assert ei.value.line == 3
    assert str(ei.value).startswith(f"{p}, line 3: JSON nested deeper than 100 levels")
    assert f"(at column {9 + kio.MAX_JSON_DEPTH})" in str(ei.value)  # after '{"head": '


def test_read_jsonl_nesting_up_to_the_limit_and_brackets_in_strings(tmp_path):
    at_limit = "[" * (kio.MAX_JSON_DEPTH - 1) + "]" * (kio.MAX_JSON_DEPTH - 1)
    label = '[{"\\"[[' * 200  # brackets and escaped quotes inside a string do not nest
    lines = [
        json.dumps({"head": label, "relation": "r", "tail": "b"}),
        '{"head": "a", "relation": "r", "tail": "b", "extra": ' + at_limit + "}",
    ]
    p = _write(tmp_path / "ok.jsonl", "\n".join(lines) + "\n")
    assert _facts(read_jsonl(p)) == {(label, "r", "b"), ("a", "r", "b")}


@pytest.mark.parametrize("shape", ["document", "lines", "evidences string"])
def test_read_2wiki_deep_nesting_names_file_and_line(tmp_path, shape):
    ok = {"_id": "1", "evidences": [["a", "r", "b"]]}
    if shape == "document":
        text = "[\n" + json.dumps(ok) + ",\n" + '{"evidences": ' + _deep() + "}\n]\n"
        line = 3
    elif shape == "lines":
        text = json.dumps(ok) + "\n" + '{"evidences": ' + _deep() + "}\n"
        line = 2
    else:
        text = json.dumps([ok, {"_id": "2", "evidences": _deep()}])
        line = None
    p = _write(tmp_path / "rows.json", text)
    with pytest.raises(KGFormatError, match="nested deeper than 100 levels") as ei:
        read_2wiki(p)
    assert str(p) in str(ei.value)
    assert ei.value.line == line
    if line is None:
        assert "row 1: evidences string" in str(ei.value)


def test_json_nesting_scan_matches_a_brute_force_scanner(monkeypatch):
    import random

    def brute(s: bytes, limit: int) -> int | None:
        depth, inside, escaped = 0, False, False
        for i, c in enumerate(s):
            if inside:
                if escaped:
                    escaped = False
                elif c == 92:
                    escaped = True
                elif c == 34:
                    inside = False
            elif c == 34:
                inside = True
            elif c in (91, 123):
                depth += 1
                if depth > limit:
                    return i
            elif c in (93, 125):
                depth -= 1
        return None

    rng = random.Random(0)

    def sample() -> bytes:
        parts = []
        for _ in range(rng.randint(0, 25)):
            if rng.random() < 0.6:
                parts.append(rng.choice("[]{}a,"))
            else:
                parts.append(json.dumps("".join(rng.choice('[]{}a\\"') for _ in range(6))))
        return "".join(parts).encode()

    for step in (1, 2, 3, 64):  # steps cut inside strings and escapes
        monkeypatch.setattr(kio, "_SCAN_BYTES", step)
        for _ in range(400):
            s, limit = sample(), rng.randint(0, 4)
            assert kio._too_deep(s, limit) == brute(s, limit), (step, s, limit)


@pytest.mark.parametrize("reader", ["tsv", "jsonl", "csv"])
def test_line_cap_names_file_and_line(tmp_path, reader, monkeypatch):
    rec = {
        "tsv": lambda h: f"{h}\tr\tb",
        "jsonl": lambda h: json.dumps({"head": h, "relation": "r", "tail": "b"}),
        "csv": lambda h: f"{h},r,b",
    }[reader]
    fn = {"tsv": read_tsv, "jsonl": read_jsonl, "csv": read_csv}[reader]
    head = "head,relation,tail\n" if reader == "csv" else ""
    cap = 64
    fits = "x" * (cap - len(rec("")))  # exactly cap bytes: accepted
    for block in (kio._BLOCK_BYTES, 16, 200):  # long line inside a block and across blocks
        monkeypatch.setattr(kio, "_BLOCK_BYTES", block)
        p = _write(tmp_path / f"kg.{reader}", head + f"{rec('a')}\n{rec(fits)}\n")
        assert fn(p, max_line_bytes=cap).num_facts == 2
        for tail in ("\n", ""):  # the long line ends the file, with and without a newline
            long_line = rec("y" * cap)
            p = _write(tmp_path / f"kg.{reader}", head + f"{rec('a')}\n\n{long_line}{tail}")
            with pytest.raises(KGFormatError) as ei:
                fn(p, max_line_bytes=cap)
            line = 3 + bool(head)
            assert ei.value.line == line, block
            assert f"{p}, line {line}: line longer than {cap} bytes" in str(ei.value)
        p = _write(tmp_path / f"kg.{reader}", head + f"{rec('y' * cap)}\n{rec('a')}\n" * 3)
        with pytest.raises(KGFormatError, match=f"line {1 + bool(head)}: line longer"):
            fn(p, max_line_bytes=cap)


@pytest.mark.parametrize(("cap", "error"), [(0, ValueError), (-5, ValueError), ("1", TypeError)])
def test_line_cap_must_be_a_positive_int(tmp_path, cap, error):
    p = _write(tmp_path / "kg.tsv", "a\tr\tb\n")
    with pytest.raises(error, match="max_line_bytes"):
        read_tsv(p, max_line_bytes=cap)


def test_gzip_bomb_line_stops_early_with_bounded_memory(tmp_path):
    import tracemalloc

    p = tmp_path / "bomb.jsonl.gz"
    size = 64 * 2**20  # 64 MiB of one line, about 0.3 MB compressed
    with gzip.open(p, "wb", compresslevel=1) as fh:
        fh.write(b'{"head": "a", "relation": "r", "tail": "b"}\n')
        piece = b"a" * 2**20
        for _ in range(size // len(piece)):
            fh.write(piece)
    assert p.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(KGFormatError) as ei:
            read_jsonl(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * 2**20 < size  # about the 16 MiB cap plus a block, not the line
    assert ei.value.line == 2
    assert f"line longer than {kio.MAX_LINE_BYTES} bytes" in str(ei.value)


def test_line_reading_across_small_blocks_keeps_content_and_line_numbers(tmp_path, monkeypatch):
    text = "\ufeffcafé\tr\tb\r\n\n  \nb\tr\tnaïve\r\nc\ts\t日本\n"
    p = _write(tmp_path / "kg.tsv", text)
    expected = read_tsv(p)
    assert expected.load_report.skipped == 2
    for block in (1, 2, 3, 5, 7):
        monkeypatch.setattr(kio, "_BLOCK_BYTES", block)
        kg = read_tsv(p)
        assert kg == expected
        assert kg.load_report == expected.load_report
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"a\tr\tb\n\nxy\tr\tcaf\xe9\n")
    with pytest.raises(KGFormatError, match=r"line 3: undecodable bytes b'\\xe9' at column 9"):
        read_tsv(bad)


def test_duplicates_are_merged_while_streaming(tmp_path, monkeypatch):
    import tracemalloc

    monkeypatch.setattr(_Builder, "COMPACT_MIN", 1000, raising=False)
    monkeypatch.setattr(kio, "_BLOCK_BYTES", 4096, raising=False)
    n = 200_000
    p = tmp_path / "dup.tsv"
    p.write_bytes(b"a\tr\tb\n" * n)
    tracemalloc.start()
    try:
        kg = read_tsv(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert list(kg.triples()) == [("a", "r", "b")]
    assert (kg.load_report.records, kg.load_report.duplicates) == (n, n - 1)
    assert peak < 2 * 2**20  # the old reader kept one list entry per line (> 6 MB here)


def test_streaming_merge_keeps_the_most_trusted_provenance(monkeypatch):
    monkeypatch.setattr(_Builder, "COMPACT_MIN", 10)
    b = _Builder()
    for i in range(95):
        b.add(f"e{i % 7}", "r", "x", Provenance.SYNTHETIC)
        assert len(b.heads) <= 10
    b.add("e3", "r", "x", Provenance.REAL)
    kg = b.build()
    ref = KnowledgeGraph.from_triples(
        [
            Triple(head=f"e{i % 7}", relation="r", tail="x", provenance="synthetic")
            for i in range(95)
        ]
        + [Triple(head="e3", relation="r", tail="x")]
    )
    assert kg == ref
    prov = {t.head: t.provenance for t in kg.records()}
    assert prov["e3"] is Provenance.REAL
    assert prov["e4"] is Provenance.SYNTHETIC
    assert (kg.load_report.records, kg.load_report.duplicates) == (96, 96 - 7)
    added = kg.add_facts([("e1", "r", "x"), ("new", "r", "x")])
    assert added.load_report.duplicates == 1
    assert added.num_facts == 8


_UTF16_FILES = {
    "tsv": (read_tsv, "kg.tsv", "a\tr\tb\nc\tr\td\n"),
    "jsonl": (
        read_jsonl,
        "kg.jsonl",
        '{"head": "a", "relation": "r", "tail": "b"}\n'
        '{"head": "c", "relation": "r", "tail": "d"}\n',
    ),
    "csv": (read_csv, "kg.csv", "head,relation,tail\na,r,b\nc,r,d\n"),
    "2wiki": (read_2wiki, "rows.json", '[{"evidences": [["a", "r", "b"], ["c", "r", "d"]]}]'),
}


@pytest.mark.parametrize("reader", sorted(_UTF16_FILES))
@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-32-be"])
def test_utf32_without_bom_is_named(tmp_path, reader, encoding):
    func, name, text = _UTF16_FILES[reader]
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    with pytest.raises(KGFormatError, match=f"looks like UTF-32 .*{encoding}") as e:
        func(path)
    assert str(path) in str(e.value)


@pytest.mark.parametrize("reader", sorted(_UTF16_FILES))
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_named(tmp_path, reader, encoding):
    fn, name, text = _UTF16_FILES[reader]
    p = _write(tmp_path / name, text, encoding)
    with pytest.raises(KGFormatError) as ei:
        fn(p)
    msg = str(ei.value)
    assert msg.startswith(f"{p}, line 1: looks like UTF-16 without a byte-order mark")
    assert "re-save it as UTF-8" in msg
    assert f"encoding={encoding!r}" in msg
    if reader != "2wiki":
        assert _facts(fn(p, encoding=encoding)) == {("a", "r", "b"), ("c", "r", "d")}


@pytest.mark.parametrize("reader", sorted(_UTF16_FILES))
def test_utf16_with_bom_is_named_and_reads_with_its_encoding(tmp_path, reader, monkeypatch):
    fn, name, text = _UTF16_FILES[reader]
    p = _write(tmp_path / name, text, "utf-16")
    with pytest.raises(KGFormatError, match=r"line 1: the file starts with a UTF-16 byte-order"):
        fn(p)
    monkeypatch.setattr(kio, "_BLOCK_BYTES", 3)  # blocks cut inside code units
    assert _facts(fn(p, encoding="utf-16")) == {("a", "r", "b"), ("c", "r", "d")}


def test_utf16_lines_are_capped_and_numbered(tmp_path, monkeypatch):
    monkeypatch.setattr(kio, "_BLOCK_BYTES", 5)
    p = _write(tmp_path / "kg.tsv", "a\tr\tb\n" + "x" * 50 + "\tr\tb\n", "utf-16")
    with pytest.raises(KGFormatError, match=r"line 2: line longer than 20 bytes"):
        read_tsv(p, encoding="utf-16", max_line_bytes=20)
    bad = _write(tmp_path / "bad.tsv", "a\tr\tb\n" + "x\tr\tb\n", "utf-16-le")
    bad.write_bytes(bad.read_bytes()[:-1])  # a torn last code unit
    with pytest.raises(KGFormatError, match="undecodable bytes after line 2"):
        read_tsv(bad, encoding="utf-16-le")


@pytest.mark.parametrize("graph", [None, [("a", "r", "b")], "G"])
def test_from_networkx_rejects_a_non_graph_naming_the_argument(graph):
    with pytest.raises(TypeError, match=r"graph must be a networkx DiGraph or MultiDiGraph"):
        from_networkx(graph)
    with pytest.raises(TypeError, match=type(graph).__name__):
        KnowledgeGraph.from_networkx(graph)


@pytest.mark.parametrize("case", ["deep", "utf16", "long"])
def test_cli_turns_hostile_input_into_one_line_and_exit_2(tmp_path, capsys, case):
    if case == "deep":
        p = _write(tmp_path / "deep.jsonl", '{"head": ' + _deep() + "}\n")
        needle = "line 1: JSON nested deeper than 100 levels"
    elif case == "utf16":
        p = _write(tmp_path / "kg.tsv", "a\tr\tb\n", "utf-16-le")
        needle = "line 1: looks like UTF-16 without a byte-order mark"
    else:
        p = tmp_path / "kg.tsv.gz"
        with gzip.open(p, "wb", compresslevel=1) as fh:
            fh.write(b"a\tr\tb\n")
            for _ in range(kio.MAX_LINE_BYTES // 2**20 + 2):
                fh.write(b"x" * 2**20)
        needle = f"line 2: line longer than {kio.MAX_LINE_BYTES} bytes"
    assert cli_main(["stats", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"kgaug stats: error: {p}, {needle}")


@pytest.mark.parametrize("gz", [False, True])
def test_line_numbers_across_many_blocks(tmp_path, monkeypatch, gz):
    monkeypatch.setattr(kio, "_BLOCK_BYTES", 65_536)
    lines = _big_lines()
    lines[12_345] = b"\r\n"
    bad_line = 150_001
    lines[bad_line - 1] = b"x\t\ty\n"
    data = b"".join(lines)
    p = tmp_path / ("big.tsv.gz" if gz else "big.tsv")
    p.write_bytes(gzip.compress(data, compresslevel=1) if gz else data)
    with pytest.raises(KGFormatError, match=f"line {bad_line}: empty relation field"):
        read_tsv(p)
    lines[bad_line - 1] = b"x\tr\ty\n"
    data = b"".join(lines)
    p.write_bytes(gzip.compress(data, compresslevel=1) if gz else data)
    kg = read_tsv(p)
    assert kg.load_report.records == _BIG - 1
    assert kg.load_report.skipped == 1

"""The pyarrow engine of read_tsv / read_csv: the same graph, ids, report and errors."""

from __future__ import annotations

import csv
import gzip
import io as stdio
import json
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kgaug.io as kio
from kgaug import KGFormatError, KnowledgeGraph
from kgaug.io import read_csv, read_tsv
from kgaug.kg import _merge_facts

pytest.importorskip("pyarrow")

from kgaug import _fastread  # needs pyarrow


def _signature(kg: KnowledgeGraph) -> tuple[object, ...]:
    return (
        kg.entities,
        kg.relations,
        kg.types,
        kg.head_ids.tobytes(),
        kg.relation_ids.tobytes(),
        kg.tail_ids.tobytes(),
        kg.provenance_codes.tobytes(),
        kg.entity_type_codes.tobytes(),
        kg.load_report,
    )


def _outcome(fn, path, **options) -> tuple[object, ...]:
    """The graph's signature, or the error as a user sees it (type, message, line)."""
    try:
        return ("ok", *_signature(fn(path, **options)))
    except (KGFormatError, ValueError, TypeError) as e:
        return ("error", type(e).__name__, str(e), getattr(e, "line", None))


def _both(fn, path, **options) -> tuple[object, ...]:
    """The outcome of both engines, asserted equal."""
    py = _outcome(fn, path, engine="python", **options)
    fast = _outcome(fn, path, engine="pyarrow", **options)
    assert fast == py
    return py


def _heads_first(triples) -> list[str]:
    heads = list(dict.fromkeys(h for h, _, _ in triples))
    seen = set(heads)
    return heads + [t for t in dict.fromkeys(t for _, _, t in triples) if t not in seen]


# ------------------------------------------------------------------------ id order


def test_tsv_ids_heads_first_then_tails_across_blocks(tmp_path, monkeypatch):
    rows = [("x", "r1", "t1"), ("y", "r2", "x"), ("t1", "r1", "z"), ("z", "r3", "w")]
    p = tmp_path / "kg.tsv"
    p.write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in rows) * 3)
    expected_entities = tuple(_heads_first(rows))
    assert expected_entities == ("x", "y", "t1", "z", "w")
    for block in (kio._BLOCK_BYTES, 8, 13):  # one block, and blocks of about a line
        monkeypatch.setattr(kio, "_BLOCK_BYTES", block)
        for engine in ("python", "pyarrow"):
            kg = read_tsv(p, engine=engine)
            assert kg.entities == expected_entities, (block, engine)
            assert kg.relations == ("r1", "r2", "r3")
            assert kg.load_report.records == 12
            assert kg.load_report.duplicates == 8


def test_bundled_example_keeps_its_ids(example_kg, tmp_path):
    # the example is JSON lines: ids in record order, a record's head before its tail
    from kgaug.datasets import example_path

    rows = [json.loads(ln) for ln in example_path().read_text().splitlines() if ln.strip()]
    order = dict.fromkeys(x for row in rows for x in (row["head"], row["tail"]))
    assert example_kg.entities == tuple(order)
    assert example_kg.relations == tuple(dict.fromkeys(row["relation"] for row in rows))
    # the same records as TSV (one block): heads first, as the TSV reader always did
    triples = [(row["head"], row["relation"], row["tail"]) for row in rows]
    p = tmp_path / "ex.tsv"
    p.write_text("".join(f"{h}\t{r}\t{t}\n" for h, r, t in triples))
    for engine in ("python", "pyarrow"):
        kg = read_tsv(p, engine=engine)
        assert kg.entities == tuple(_heads_first(triples))
        assert set(kg.triples()) == set(example_kg.triples())
    # and as CSV with types: record order, as the CSV reader always did
    q = tmp_path / "ex.csv"
    with q.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["head", "relation", "tail", "head_type", "tail_type"])
        for row in rows:
            w.writerow([row[k] for k in ("head", "relation", "tail", "head_type", "tail_type")])
    for engine in ("python", "pyarrow"):
        kg = read_csv(q, head_type="head_type", tail_type="tail_type", engine=engine)
        assert _signature(kg)[:-1] == _signature(example_kg)[:-1]


# ---------------------------------------------------------------- random files, TSV

_LABELS = st.one_of(
    st.sampled_from(
        [
            "a",
            "b",
            "Q12",
            "日本",
            "café",
            'say "hi"',
            '"',
            "x,y",
            " pad ",
            "\ufeffbom",
            "NA",
            "null",
            "#c",
            "a\x00b",
            "\x0bv",
            "e\u2003f",
            "😀",
            "\\",
            "''",
        ]
    ),
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r"),
        min_size=1,
        max_size=4,
    ).filter(str.strip),
)
_RECORD = st.tuples(_LABELS, _LABELS, _LABELS).map("\t".join)
_CLEAN = st.tuples(
    *[_LABELS.filter(lambda s: not s.startswith("\ufeff") and "\x00" not in s)] * 3
).map("\t".join)
_BLANK = st.sampled_from(["", "  ", "\x0c", " \x0b "])
_BAD = st.sampled_from(
    [
        "a\tb",
        "a\tb\tc\td",
        "a\t\tc",
        "\tb\tc",
        "a\t \tc",
        "a\tb\t\u3000",
        "a\rb\tc\td",
        "a\tb\tc\r",
        "a\tb\rc\td",
        "onefield",
        "a\t\x1c\tc",
        "a\t\x85\u2028\tc",
        "\t\t",
    ]
)


@st.composite
def _tsv_files(draw, bad: bool = True):
    """TSV bytes; ``bad=False``: only records and empty lines (what pyarrow reads itself)."""
    bad = bad and draw(st.booleans())  # half the files have bad or whitespace-only lines
    kinds = [_RECORD, _RECORD, _RECORD, _BLANK, _BAD] if bad else [_CLEAN, _CLEAN, st.just("")]
    lines = draw(st.lists(st.one_of(kinds), max_size=30))
    if draw(st.booleans()) and lines:  # repeats: merged duplicates
        lines += draw(st.lists(st.sampled_from(lines), max_size=10))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    data = newline.join(lines).encode()
    if draw(st.booleans()):
        data += newline.encode()
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if bad and data and draw(st.integers(0, 9)) == 0:  # undecodable bytes somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xed\xa0\x80", b"\xc3"])) + data[at:]
    return data


@given(
    data=_tsv_files(),
    header=st.booleans(),
    block=st.sampled_from([None, 5, 16, 64]),
    cap=st.sampled_from([kio.MAX_LINE_BYTES, 12]),
    gz=st.booleans(),
)
def test_tsv_engines_agree_on_random_files(tmp_path_factory, data, header, block, cap, gz):
    p = tmp_path_factory.mktemp("tsv") / ("kg.tsv.gz" if gz else "kg.tsv")
    p.write_bytes(gzip.compress(data) if gz else data)
    with pytest.MonkeyPatch.context() as mp:
        if block is not None:
            mp.setattr(kio, "_BLOCK_BYTES", block)
        _both(read_tsv, p, header=header, max_line_bytes=cap)


@given(data=_tsv_files(bad=False), header=st.booleans(), block=st.sampled_from([None, 16]))
def test_tsv_fast_path_reads_valid_files_itself(tmp_path_factory, data, header, block):
    """Valid files (blank lines, CRLF, BOM, quotes, NUL, header) need no fallback."""
    p = tmp_path_factory.mktemp("tsv") / "kg.tsv"
    p.write_bytes(data)
    with pytest.MonkeyPatch.context() as mp:
        if block is not None:
            mp.setattr(kio, "_BLOCK_BYTES", block)
        py = read_tsv(p, header=header, engine="python")
        fast = _fastread.read_tsv_arrow(p, header=header, max_line_bytes=kio.MAX_LINE_BYTES)
    assert fast is not None
    assert _signature(fast) == _signature(py)


def test_tsv_fields_are_literal(tmp_path):
    p = tmp_path / "kg.tsv"
    p.write_text('"quoted head"\tr,1\t"a""b\n#x\t\'s\tNA\n')
    for engine in ("python", "pyarrow"):
        assert list(read_tsv(p, engine=engine).triples()) == [
            ('"quoted head"', "r,1", '"a""b'),
            ("#x", "'s", "NA"),
        ]
    assert _fastread.read_tsv_arrow(p, header=False, max_line_bytes=100) is not None


def test_tsv_gzip_multiblock_blank_lines_and_header(tmp_path, monkeypatch):
    monkeypatch.setattr(kio, "_BLOCK_BYTES", 4096)
    lines = [b"h\tr\tt"] + [
        b"e%d\tr%d\te%d" % (i % 997, i % 13, (7 * i) % 1009) for i in range(30_000)
    ]
    lines[500] = b""
    lines[20_000] = b""
    data = b"\r\n".join(lines) + b"\r\n"
    p = tmp_path / "kg.tsv.gz"
    p.write_bytes(gzip.compress(data, compresslevel=1))
    out = _both(read_tsv, p, header=True)
    rep = out[-1]
    assert (rep.records, rep.skipped) == (30_000 - 2, 3)
    assert _fastread.read_tsv_arrow(p, header=True, max_line_bytes=10**6) is not None


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a\tr\tb\nc\tr\n", 2),
        ("a\tr\tb\n\nc\t\td\n", 3),
        ("a\tr\tb\nc\t \td\n", 2),
        ("a\tr\tb\nc\tr\td\te\n", 2),
        ("a\tr\tb\rc\tr\td\n", 1),
        ("a\tr\tb\nc,r,d\n", 2),
        ("a\tr\tb\n" * 3 + "x" * 40 + "\tr\tb\n", 4),
    ],
)
def test_tsv_bad_lines_same_error(tmp_path, monkeypatch, text, line):
    p = tmp_path / "kg.tsv"
    p.write_text(text)
    for block in (kio._BLOCK_BYTES, 7):
        monkeypatch.setattr(kio, "_BLOCK_BYTES", block)
        out = _both(read_tsv, p, max_line_bytes=32)
        assert out[0] == "error"
        assert out[3] == line
        assert out[2].startswith(f"{p}, line {line}: ")


def test_tsv_undecodable_and_utf16_same_error(tmp_path):
    p = tmp_path / "kg.tsv"
    p.write_bytes(b"a\tr\tb\nc\tr\td\xe9\n")
    out = _both(read_tsv, p)
    assert "line 2: undecodable bytes b'\\xe9' at column 6" in out[2]
    p.write_bytes("a\tr\tb\n".encode("utf-16-le"))
    assert "looks like UTF-16" in _both(read_tsv, p)[2]


def test_other_encodings_use_the_python_engine(tmp_path):
    p = tmp_path / "kg.tsv"
    p.write_bytes("café\tr\tb\n".encode("latin-1"))
    kg = read_tsv(p, encoding="latin-1", engine="pyarrow")
    assert list(kg.triples()) == [("café", "r", "b")]
    with pytest.raises(ValueError, match="unknown encoding"):
        read_tsv(p, encoding="no-such-codec", engine="pyarrow")


# ---------------------------------------------------------------- random files, CSV

_CSV_LABELS = st.one_of(_LABELS, st.sampled_from(["a,b", 'q"uote', "multi\nline", " ", ""]))
_TYPES = st.sampled_from(["", " ", "Person", "Place", "Person "])
_PROVS = st.sampled_from(["", "real", "synthetic", " counterfactual ", "bogus"])
_RAW_BAD = st.sampled_from(['a"b,r,c', '"a"b,r,c', '"open,r,c', ",,", "a,r", "a,r,c,d", "\x00,r,c"])


@st.composite
def _csv_files(draw):
    extra = draw(
        st.lists(st.sampled_from(["head_type", "tail_type", "provenance", "x"]), unique=True)
    )
    cols = draw(st.permutations(["head", "relation", "tail", *extra]))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    out = stdio.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    w.writerow(cols)
    values = {"head_type": _TYPES, "tail_type": _TYPES, "provenance": _PROVS, "x": _CSV_LABELS}
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            out.write(draw(st.sampled_from(["", " "])) + "\n")
        elif kind == 1 and draw(st.booleans()):
            out.write(draw(_RAW_BAD).replace(",", delimiter) + "\n")
        else:
            w.writerow([draw(values.get(c, _CSV_LABELS)) for c in cols])
    return out.getvalue().encode(), delimiter, extra


@given(case=_csv_files(), block=st.sampled_from([None, 9, 64]))
def test_csv_engines_agree_on_random_files(tmp_path_factory, case, block):
    data, delimiter, extra = case
    p = tmp_path_factory.mktemp("csv") / "kg.csv"
    p.write_bytes(data)
    options = {c: c for c in extra if c != "x"}
    with pytest.MonkeyPatch.context() as mp:
        if block is not None:
            mp.setattr(kio, "_BLOCK_BYTES", block)
        _both(read_csv, p, delimiter=delimiter, **options)


_CLEAN_CSV = _CLEAN_LABELS = _LABELS.filter(lambda s: "\x00" not in s)


@given(
    rows=st.lists(
        st.tuples(
            _CLEAN_LABELS, _CLEAN_LABELS, _CLEAN_LABELS, _PROVS.filter(lambda p: p != "bogus")
        ),
        max_size=30,
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
    blank=st.lists(st.integers(0, 30), max_size=3),
)
def test_csv_fast_path_reads_valid_files_itself(tmp_path_factory, rows, delimiter, blank):
    """Quoted fields (delimiters, quotes inside), types, provenance: no fallback."""
    out = stdio.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(["tail", "head", "relation", "tt", "prov", "ht"])
    lines = []
    for h, r, t, p in rows:
        typ = {h: f"T{len(h) % 3}", t: f"T{len(t) % 3}"}  # one type per entity
        w.writerow([t, h, r, typ[t] if len(t) % 2 else "", p, typ[h]])
        lines.append(out.getvalue())
        out.seek(0)
        out.truncate()
    header = lines[0].split("\r\n", 1)[0] + "\r\n" if lines else out.getvalue()
    body = [ln.split("\r\n", 1)[1] if i == 0 else ln for i, ln in enumerate(lines)]
    for at in blank:
        body.insert(min(at, len(body)), "\n")
    p = tmp_path_factory.mktemp("csv") / "kg.csv"
    p.write_text(header + "".join(body), newline="")
    options = {"head_type": "ht", "tail_type": "tt", "provenance": "prov", "delimiter": delimiter}
    py = read_csv(p, engine="python", **options)
    fast = _fastread.read_csv_arrow(
        p, head="head", relation="relation", tail="tail", max_line_bytes=10**6, **options
    )
    assert fast is not None
    assert _signature(fast) == _signature(py)


def test_csv_fast_path_types_provenance_quotes(tmp_path):
    p = tmp_path / "kg.csv"
    p.write_text(
        "x,tail,relation,head,ht,tt,prov\n"
        '1,"Paris, France",born in,Ann,Person,Place,real\n'
        '2,"say ""hi""",said,Bob,Person,,synthetic\n'
        "\n"
        "3,Ann,knows,Bob,,Person, \n"
        '4,"Paris, France",born in,Ann,Person,Place,counterfactual\n'
    )
    options = {"head_type": "ht", "tail_type": "tt", "provenance": "prov"}
    out = _both(read_csv, p, **options)
    entities, relations, types = out[1:4]
    assert entities == ("Ann", "Paris, France", "Bob", 'say "hi"')
    assert relations == ("born in", "said", "knows")
    assert types == ("Person", "Place")
    assert out[-1].records == 4
    assert out[-1].duplicates == 1
    assert out[-1].skipped == 1
    fast = _fastread.read_csv_arrow(p, head="head", relation="relation", tail="tail",
                                    delimiter=",", max_line_bytes=10**6, **options)  # fmt: skip
    assert fast is not None
    assert fast.provenance_counts() == {"real": 2, "synthetic": 1, "counterfactual": 0}


@pytest.mark.parametrize(
    ("text", "options", "needle"),
    [
        ("h,r,t\na,b,c\n", {}, "line 1: no column 'head'"),
        ("head,relation,tail\na,b,c\nd,e\n", {}, "line 3: row has 2 fields"),
        ("head,relation,tail\na,b,c\nd, ,f\n", {}, "line 3: empty relation"),
        ("head,relation,tail,ty\na,b,c,P\na,b,d,Q\n", {"head_type": "ty"}, "line 3: entity 'a'"),
        ("head,relation,tail,p\na,b,c,real\na,b,d,maybe\n", {"provenance": "p"}, "line 3:"),
        ('head,relation,tail\na,b,"c\nd"\ne,,f\n', {}, "line 4: empty relation"),
        ('head,relation,tail\na"x,b,c\nd,,f\n', {}, "line 3: empty relation"),
    ],
)
def test_csv_bad_rows_same_error(tmp_path, text, options, needle):
    p = tmp_path / "kg.csv"
    p.write_text(text)
    out = _both(read_csv, p, **options)
    assert out[0] == "error"
    assert needle in out[2]


def test_csv_field_size_limit_and_nul_follow_python(tmp_path, monkeypatch):
    p = tmp_path / "kg.csv"
    p.write_text("head,relation,tail\na,b," + "c" * 50 + "\n")
    monkeypatch.setattr(csv, "field_size_limit", lambda *a: 20)
    assert _fastread.read_csv_arrow(p, head="head", relation="relation", tail="tail",
                                    head_type=None, tail_type=None, provenance=None,
                                    delimiter=",", max_line_bytes=10**6) is None  # fmt: skip
    monkeypatch.undo()
    p.write_bytes(b"head,relation,tail\na,b,c\x00\n")
    _both(read_csv, p)


# ----------------------------------------------------------------- engine selection


def test_missing_pyarrow_names_the_extra(tmp_path, monkeypatch):
    p = tmp_path / "kg.tsv"
    p.write_text("a\tr\tb\n")
    q = tmp_path / "kg.csv"
    q.write_text("head,relation,tail\na,r,b\n")
    for name in ("pyarrow", "pyarrow.csv", "pyarrow.compute"):
        monkeypatch.setitem(sys.modules, name, None)  # import pyarrow fails
    for call in (
        lambda: read_tsv(p, engine="pyarrow"),
        lambda: KnowledgeGraph.from_tsv(p, engine="pyarrow"),
        lambda: read_csv(q, engine="pyarrow"),
        lambda: KnowledgeGraph.from_csv(q, engine="pyarrow"),
    ):
        with pytest.raises(ModuleNotFoundError, match=r'pip install "kgaug\[fast\]"'):
            call()
    monkeypatch.setattr(kio, "_FAST_MIN_BYTES", 0)
    assert read_tsv(p).num_facts == 1  # auto falls back to Python
    assert read_csv(q, engine="auto").num_facts == 1


def test_auto_takes_pyarrow_for_large_files_only(tmp_path, monkeypatch):
    calls = []
    real = _fastread.read_tsv_arrow

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(_fastread, "read_tsv_arrow", spy)
    p = tmp_path / "kg.tsv"
    p.write_text("a\tr\tb\n")
    read_tsv(p)
    assert calls == []
    monkeypatch.setattr(kio, "_FAST_MIN_BYTES", 1)
    read_tsv(p)
    assert len(calls) == 1
    read_tsv(p, engine="python")
    assert len(calls) == 1


def test_unknown_engine(tmp_path):
    p = tmp_path / "kg.tsv"
    p.write_text("a\tr\tb\n")
    with pytest.raises(ValueError, match="engine must be one of"):
        read_tsv(p, engine="polars")  # type: ignore[arg-type]


def test_blank_regex_covers_python_whitespace():
    assert set(_fastread._PY_SPACE) == {
        c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()
    }


# ------------------------------------------------------------------- merge of facts


@given(
    facts=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 5), st.integers(0, 2))
    )
)
def test_merge_facts_sorted_distinct_most_trusted(facts):
    best: dict[tuple[int, int, int], int] = {}
    for h, r, t, p in facts:
        best[(h, r, t)] = min(p, best.get((h, r, t), 9))
    a = np.array(facts, dtype=np.int64).reshape(-1, 4)
    h, r, t, p = _merge_facts(a[:, 0], a[:, 1], a[:, 2], a[:, 3].astype(np.uint8), 6, 4)
    got = list(zip(h.tolist(), r.tolist(), t.tolist(), p.tolist()))
    assert got == [(*k, v) for k, v in sorted(best.items())]

"""``kgaug verbalize`` and ``kgaug parse`` against the local chat server, and item files."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

import kgaug
from kgaug.cli import main
from kgaug.errors import KGFormatError
from kgaug.records import Chain, ComparisonFact, FiveTuple, Triple
from kgaug.verbalize import Question
from kgaug.verbalize.fake_server import FakeChatServer, Reply
from kgaug.verbalize.items import item_from_path, read_items, write_questions

KEY = "sk-cli-secret-4242"


@pytest.fixture
def server():
    with FakeChatServer() as s:
        yield s


def _llm(server: FakeChatServer, cache: Path) -> list[str]:
    return [
        "--backend", "openai", "--base-url", server.base_url, "--model", "fake",
        "--cache-dir", str(cache), "--max-retries", "0",
    ]  # fmt: skip


def test_verbalize_sampled_paths_then_rerun_from_cache(
    server: FakeChatServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_KEY", KEY)
    out = tmp_path / "q.jsonl"
    args = ["verbalize", "--example", "-k", "6", "--out", str(out), "--api-key-env", "MY_KEY"]
    assert main([*args, *_llm(server, tmp_path / "cache")]) == 0
    err = capsys.readouterr().err
    assert "wrote 6 questions" in err and "6 requests" in err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 6 and {r["status"] for r in rows} == {"ok"}
    assert all(r["kind"] == "FiveTuple" and r["answer"] == r["source"]["obj3"] for r in rows)
    assert server.headers[0]["authorization"] == f"Bearer {KEY}"
    assert not Path(str(out) + ".partial").exists()  # complete: the resume file is gone

    assert main([*args, *_llm(server, tmp_path / "cache")]) == 0
    err = capsys.readouterr().err
    assert "0 requests, 6 cache hits" in err
    assert len(server.requests) == 6
    for p in tmp_path.rglob("*"):
        if p.is_file():
            assert KEY.encode() not in p.read_bytes()


def test_verbalize_items_file_with_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text(
        '{"five_tuple": ["Titanic", "director", "James Cameron", "spouse", "Linda Hamilton"]}\n'
        '{"head": "Titanic", "relation": "director", "tail": "James Cameron"}\n'
    )
    assert main(["verbalize", "--items", str(items)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("\tLinda Hamilton\tok")
    assert lines[1].endswith("\tJames Cameron\tok")


def test_failed_items_exit_1_and_keep_progress(
    server: FakeChatServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.responder = lambda req, n: Reply("1. Where?<a>Somewhere else</a>")
    out = tmp_path / "q.jsonl"
    code = main(
        ["verbalize", "--example", "-k", "2", "--out", str(out), "--max-attempts", "1",
         *_llm(server, tmp_path / "c")]
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "2 of 2 items failed: 1 x the answer must stay exactly " in err  # the reasons
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert all("must stay exactly" in r["reason"] for r in rows)
    assert Path(str(out) + ".partial").exists()


def test_verbalize_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"head": "A", "relation": "r", "tail": "B"}\n{"oops": 1}\n')
    assert main(["verbalize", "--items", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}, line 2" in err and "no item in this record" in err
    assert main(["verbalize", "--example", "--backend", "openai"]) == 2
    assert "--model is required" in capsys.readouterr().err
    assert main(["verbalize", "--example", "--backend", "transformers"]) == 2
    assert "--model-path is required" in capsys.readouterr().err
    assert main(["verbalize", "--example", "--backend", "nope"]) == 2
    assert "unknown verbalizer 'nope'" in capsys.readouterr().err
    assert main(["verbalize", "--example", "--items", str(bad)]) == 2
    assert "either a knowledge graph" in capsys.readouterr().err


def test_parse_text_file(
    server: FakeChatServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "doc.txt"
    text.write_text("Roma | director | Alfonso Cuaron\n\nAlfonso Cuaron | born in | Mexico City\n")
    out = tmp_path / "g.jsonl"
    assert main(["parse", str(text), "--out", str(out), *_llm(server, tmp_path / "c")]) == 0
    assert len(server.requests) == 2  # one request per paragraph
    kg = kgaug.KnowledgeGraph.from_jsonl(out)
    assert kg.num_facts == 2 and ("Roma", "director", "Alfonso Cuaron") in kg
    assert main(["parse", str(text), "--split", "file", *_llm(server, tmp_path / "c2")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "Roma\tdirector\tAlfonso Cuaron"


def test_parse_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "doc.txt"
    text.write_text("A | r | B\n")
    assert main(["parse", str(text), "--backend", "template"]) == 2
    assert "cannot parse" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    assert main(["parse", str(empty), "--model", "m"]) == 2
    assert "no text in" in capsys.readouterr().err
    assert main(["parse", str(tmp_path / "missing.txt"), "--model", "m"]) == 2


def test_no_cache_writes_no_cache(server: FakeChatServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = ["verbalize", "--example", "-k", "1", *_llm(server, cache), "--no-cache"]
    assert main(args) == 0
    assert not cache.exists()


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Backend options for an OpenAI-compatible server that refuses the connection."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    return ["--base-url", url, "--model", "m", "--max-retries", "0", "--no-cache"]


def test_verbalize_prints_why_items_failed(
    unreachable: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "q.jsonl"
    argv = ["verbalize", "--example", "-k", "3", "--backend", "openai", "--out", str(out)]
    assert main([*argv, *unreachable]) == 1
    err = capsys.readouterr().err
    line = "kgaug verbalize: 3 of 3 items failed: 3 x APIConnectionError: Connection error."
    assert line in err.splitlines()
    assert "Traceback" not in err


def test_parse_prints_why_texts_failed(
    unreachable: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "doc.txt"
    text.write_text("A is B.\n\nC is D.\n")
    assert main(["parse", str(text), *unreachable]) == 1
    err = capsys.readouterr().err
    line = "kgaug parse: 2 of 2 chunks gave no graph: 2 x APIConnectionError: Connection error."
    assert line in err.splitlines()


def test_failure_line_groups_reasons() -> None:
    from kgaug.cli import _failure_line

    reasons = {"b": 1, "a": 5, "c": 2, "d": 1, "e": 1}
    assert _failure_line("verbalize", 10, 12, "items failed", reasons) == (
        "kgaug verbalize: 10 of 12 items failed: 5 x a; 2 x c; 1 x b; 2 other reasons"
    )
    long = _failure_line("parse", 1, 1, "texts gave no graph", {"x\ny " * 100: 1})
    assert (
        long.startswith("kgaug parse: 1 of 1 texts gave no graph: 1 x x y x y") and "\n" not in long
    )
    assert long.endswith("…") and len(long) < 260
    assert _failure_line("parse", 1, 1, "texts gave no graph", {}) == (
        "kgaug parse: 1 of 1 texts gave no graph"
    )


# ---------------------------------------------------------------------------- item files


def test_items_round_trip_through_questions_file(tmp_path: Path) -> None:
    src = [
        Triple(head="A", relation="r", tail="B"),
        FiveTuple(obj1="A", rel1="r", obj2="B", rel2="s", obj3="C"),
        Chain(entities=("A", "B", "C", "D"), relations=("r", "s", "t")),
        ComparisonFact(
            entity1="A", entity2="B", attribute="country", value1="X", value2="Y", answer="no"
        ),
    ]
    qs = [Question(question="q?", answer="x", source=s) for s in src]
    path = tmp_path / "q.jsonl"
    assert write_questions(qs, path) == 4
    back = read_items(path)
    assert [type(b) for b in back] == [Triple, FiveTuple, Chain, ComparisonFact]
    assert back[1] == src[1] and back[2].entities == src[2].entities
    assert back[3] == src[3]


def test_items_tsv_and_dataset_records(tmp_path: Path) -> None:
    path = tmp_path / "items.tsv"
    path.write_text("A\tr\tB\ts\tC\n# comment\n\nA\tr\tB\n")
    assert [type(i) for i in read_items(path)] == [FiveTuple, Triple]
    ds = tmp_path / "train.jsonl"
    ds.write_text(json.dumps({"entities": ["A", "B", "C"], "relations": ["r", "s"]}) + "\n")
    assert read_items(ds) == [FiveTuple(obj1="A", rel1="r", obj2="B", rel2="s", obj3="C")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A\tr\n", "3, 5, 7"),
        ("A\t\tB\n", "empty entity"),
        ("{not json\n", "invalid JSON"),
        ('{"kind": "comparison", "entities": ["A", "B"], "relations": ["c"]}\n', "values"),
        ('{"entities": ["A", "B", "C"], "relations": ["r"]}\n', "do not make a path"),
        ('{"entity1": "A"}\n', "entity2"),
        ('{"path": "A r B"}\n', "a path is a list of strings, got str"),
        ('{"path": ["A", {"x": 1}, "B"]}\n', "strings \\(or numbers\\) only, got dict"),
        ('{"entities": "ABC", "relations": ["r", "s"]}\n', "must be lists"),
    ],
)
def test_bad_item_lines_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"path": ["X", "r", "Y"]}\n' + text)
    with pytest.raises(KGFormatError, match=message) as e:
        read_items(path)
    assert e.value.line == 2 and e.value.path == str(path)


def test_item_from_path_lengths() -> None:
    assert isinstance(item_from_path(["A", "r", "B", "s", "C", "t", "D"]), Chain)
    assert item_from_path(["Obama", "born in year", 1961]).tail == "1961"  # numbers: as text
    with pytest.raises(ValueError, match="3, 5, 7"):
        item_from_path(["A", "r", "B", "s"])

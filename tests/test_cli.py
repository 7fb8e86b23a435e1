"""The ``kgaug`` command line (``kgaug.cli.main``)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pytest

import kgaug
from kgaug.cli import load_graph, main

_TRIPLES = [
    ("Titanic", "director", "James Cameron"),
    ("Avatar", "director", "James Cameron"),
    ("James Cameron", "spouse", "Linda Hamilton"),
    ("James Cameron", "place of birth", "Kapuskasing"),
    ("Linda Hamilton", "place of birth", "Salisbury"),
    ("Kapuskasing", "country", "Canada"),
    ("Salisbury", "country", "United States"),
]
_RELATIONS = ("director", "spouse", "place of birth", "country")


def _tsv_text() -> str:
    return "".join(f"{h}\t{r}\t{t}\n" for h, r, t in _TRIPLES)


@pytest.fixture
def tsv(tmp_path):
    p = tmp_path / "kg.tsv"
    p.write_text(_tsv_text(), encoding="utf-8")
    return p


@pytest.fixture
def jsonl(tmp_path):
    p = tmp_path / "kg.jsonl"
    p.write_text(
        "".join(json.dumps({"head": h, "relation": r, "tail": t}) + "\n" for h, r, t in _TRIPLES),
        encoding="utf-8",
    )
    return p


@pytest.fixture
def csv_file(tmp_path):
    p = tmp_path / "kg.csv"
    p.write_text(
        "head,relation,tail\n" + "".join(f'"{h}","{r}","{t}"\n' for h, r, t in _TRIPLES),
        encoding="utf-8",
    )
    return p


@pytest.fixture
def wiki(tmp_path):
    p = tmp_path / "dev.json"
    rows = [{"_id": str(i), "evidences": [list(t)]} for i, t in enumerate(_TRIPLES)]
    p.write_text(json.dumps(rows), encoding="utf-8")
    return p


def _run(capsys, argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


# ---------------------------------------------------------------- stats


def test_stats_table(capsys, tsv):
    rc, out, err = _run(capsys, ["stats", tsv])
    assert rc == 0
    assert "phi report" in out
    assert "2-hop" in out
    assert "directed" in out
    assert "phi_G = 3.6" in out
    for r in _RELATIONS:
        assert r in out
    assert "Traceback" not in err


def test_stats_json(capsys, tsv):
    rc, out, _ = _run(capsys, ["stats", tsv, "--json"])
    assert rc == 0
    data = json.loads(out)
    assert isinstance(data["rows"], list)
    assert {row["relation"] for row in data["rows"]} == set(_RELATIONS)
    assert data["phi_g"] == pytest.approx(3.6)
    assert "verdict" in data


def test_stats_json_matches_library(capsys, tsv):
    rc, out, _ = _run(capsys, ["stats", tsv, "--json", "--phi-g", "1.5"])
    assert rc == 0
    data = json.loads(out)
    rep = kgaug.compute_phi(kgaug.KnowledgeGraph.from_tsv(tsv), hops=2, phi_g=1.5, progress=False)
    assert data["inferred"] == rep.inferred
    assert data["atomic"] == rep.atomic
    assert data["phi_g"] == pytest.approx(1.5)


def test_stats_undirected(capsys, tsv):
    _, directed, _ = _run(capsys, ["stats", tsv, "--json"])
    rc, out, _ = _run(capsys, ["stats", tsv, "--undirected", "--json"])
    assert rc == 0
    d, u = json.loads(directed), json.loads(out)
    assert d["directed"] is True
    assert u["directed"] is False
    assert u["inferred"] >= d["inferred"]
    rc, text, _ = _run(capsys, ["stats", tsv, "--undirected"])
    assert rc == 0
    assert "undirected" in text


def test_stats_paths(capsys, tsv):
    rc, out, _ = _run(capsys, ["stats", tsv, "--paths", "--json"])
    assert rc == 0
    assert json.loads(out)["count"] == "paths"
    rc, text, _ = _run(capsys, ["stats", tsv, "--paths"])
    assert "simple paths" in text


@pytest.mark.parametrize("hops", [["2", "3"], ["2,3"], ["2, 3"]])
def test_stats_multiple_hops(capsys, tsv, hops):
    rc, out, _ = _run(capsys, ["stats", tsv, "--json", "--hops", *hops])
    assert rc == 0
    data = json.loads(out)
    assert list(data["hops"]) == [2, 3]
    assert set(data["inferred_by_hops"]) == {"2", "3"}
    rc, text, _ = _run(capsys, ["stats", tsv, "--hops", *hops])
    assert "2+3-hop" in text


def test_stats_three_hops(capsys, tsv):
    rc, out, _ = _run(capsys, ["stats", tsv, "--json", "--hops", "3"])
    assert rc == 0
    assert list(json.loads(out)["hops"]) == [3]


def test_stats_bad_hops(capsys, tsv):
    with pytest.raises(SystemExit) as ei:
        main(["stats", str(tsv), "--hops", "two"])
    assert ei.value.code == 2
    assert "not an integer" in capsys.readouterr().err
    rc, _, err = _run(capsys, ["stats", tsv, "--hops", "5"])
    assert rc == 2
    assert "hops" in err
    assert "Traceback" not in err


def test_stats_empty_hops_is_usage_error(capsys, tsv):
    with pytest.raises(SystemExit) as ei:
        main(["stats", str(tsv), "--hops", ","])
    assert ei.value.code == 2


def test_stats_example(capsys, example_kg):
    rc, out, _ = _run(capsys, ["stats", "--example"])
    assert rc == 0
    assert "phi report" in out
    assert "director" in out
    rc, out, _ = _run(capsys, ["stats", "--example", "--json"])
    data = json.loads(out)
    assert data["atomic"] == example_kg.num_facts
    assert len(data["rows"]) == example_kg.num_relations


# ---------------------------------------------------------------- formats


def test_format_by_suffix(capsys, tsv, jsonl, csv_file, wiki):
    results = []
    for path in (tsv, jsonl, csv_file, wiki):
        rc, out, err = _run(capsys, ["summary", path, "--json"])
        assert rc == 0, err
        results.append(json.loads(out))
    for data in results:
        assert data["num_facts"] == len(_TRIPLES)
        assert set(data["facts_per_relation"]) == set(_RELATIONS)
    # only the 2Wiki reader infers types
    assert results[0]["num_types"] == 0
    assert results[3]["num_types"] > 0


def test_format_by_suffix_gz_and_txt(capsys, tmp_path):
    gz = tmp_path / "kg.tsv.gz"
    gz.write_bytes(gzip.compress(_tsv_text().encode()))
    txt = tmp_path / "KG.TXT"
    txt.write_text(_tsv_text(), encoding="utf-8")
    unknown = tmp_path / "kg.data"
    unknown.write_text(_tsv_text(), encoding="utf-8")
    for p in (gz, txt, unknown):
        rc, out, _ = _run(capsys, ["summary", p, "--json"])
        assert rc == 0
        assert json.loads(out)["num_facts"] == len(_TRIPLES)


def test_format_override(capsys, tmp_path, jsonl, tsv):
    p = tmp_path / "facts.txt"
    p.write_text(jsonl.read_text(encoding="utf-8"), encoding="utf-8")
    rc, _, err = _run(capsys, ["summary", p])
    assert rc == 2  # read as TSV by suffix: no tabs
    assert "line 1" in err
    rc, out, _ = _run(capsys, ["summary", p, "--format", "jsonl", "--json"])
    assert rc == 0
    assert json.loads(out)["num_facts"] == len(_TRIPLES)
    q = tmp_path / "facts.json"
    q.write_text(tsv.read_text(encoding="utf-8"), encoding="utf-8")
    rc, out, _ = _run(capsys, ["stats", q, "--format", "tsv", "--json"])
    assert rc == 0
    assert json.loads(out)["atomic"] == len(_TRIPLES)


def test_format_override_invalid_choice(capsys, tsv):
    with pytest.raises(SystemExit) as ei:
        main(["stats", str(tsv), "--format", "xml"])
    assert ei.value.code == 2


def test_load_graph(tsv, wiki):
    assert load_graph(str(tsv)).num_facts == len(_TRIPLES)
    assert load_graph(str(wiki)).num_facts == len(_TRIPLES)
    assert load_graph(None, example=True) == kgaug.datasets.load_example()
    with pytest.raises(ValueError, match="--example"):
        load_graph(None)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("cmd", ["stats", "summary"])
def test_malformed_file(capsys, tmp_path, cmd):
    p = tmp_path / "bad.tsv"
    p.write_text("a\tr\tb\n\nc\tr\n", encoding="utf-8")
    rc, out, err = _run(capsys, [cmd, p])
    assert rc == 2
    assert str(p) in err
    assert "line 3" in err
    assert f"kgaug {cmd}: error:" in err
    assert "Traceback" not in err
    assert out == ""


def test_malformed_jsonl_and_2wiki(capsys, tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"head": "a", "relation": "r", "tail": "b"}\n{oops\n', encoding="utf-8")
    rc, _, err = _run(capsys, ["stats", p])
    assert rc == 2
    assert f"{p}, line 2" in err
    q = tmp_path / "bad.json"
    q.write_text(json.dumps([{"evidences": [["a", "r"]]}]), encoding="utf-8")
    rc, _, err = _run(capsys, ["summary", q])
    assert rc == 2
    assert "row 0, evidence 0" in err
    assert "Traceback" not in err


def test_undecodable_file(capsys, tmp_path):
    p = tmp_path / "bad.tsv"
    p.write_bytes(b"a\tr\tb\n\xff\tr\tb\n")
    rc, _, err = _run(capsys, ["stats", p])
    assert rc == 2
    assert f"{p}, line 2" in err


def test_missing_file(capsys, tmp_path):
    rc, _, err = _run(capsys, ["stats", tmp_path / "nope.tsv"])
    assert rc == 2
    assert "nope.tsv" in err
    assert "Traceback" not in err
    rc, _, err = _run(capsys, ["summary", tmp_path])
    assert rc == 2


@pytest.mark.parametrize("cmd", ["stats", "summary"])
def test_no_file_without_example(capsys, cmd):
    rc, out, err = _run(capsys, [cmd])
    assert rc == 2
    assert "--example" in err
    assert out == ""


def test_no_subcommand(capsys):
    with pytest.raises(SystemExit) as ei:
        main([])
    assert ei.value.code == 2


# ---------------------------------------------------------------- summary


def test_summary_text(capsys, tsv):
    rc, out, _ = _run(capsys, ["summary", tsv])
    assert rc == 0
    assert str(tsv) in out
    assert "7 records" in out
    assert "8 entities, 4 relations, 7 facts" in out
    for r in _RELATIONS:
        assert r in out


def test_summary_json(capsys, tsv):
    rc, out, _ = _run(capsys, ["summary", tsv, "--json"])
    assert rc == 0
    data = json.loads(out)
    assert data["num_entities"] == 8
    assert data["num_relations"] == 4
    assert data["num_facts"] == 7
    assert data["facts_per_relation"] == {
        "director": 2,
        "spouse": 1,
        "place of birth": 2,
        "country": 2,
    }
    assert data["facts_per_provenance"]["real"] == 7
    assert data["branching"] == pytest.approx(7 / 8)


def test_summary_example(capsys, example_kg):
    rc, out, _ = _run(capsys, ["summary", "--example", "--json"])
    assert rc == 0
    data = json.loads(out)
    assert data["num_facts"] == example_kg.num_facts
    assert data["untyped_entities"] == 0


# ---------------------------------------------------------------- bounds


def test_bounds_expected_inferred(capsys):
    rc, out, _ = _run(capsys, ["bounds", "--nodes", "1000", "--branching", "2", "--hops", "2"])
    assert rc == 0
    rows = dict(line.split(None, 1) for line in out.splitlines())
    assert "expected_inferred" in rows
    assert float(rows["expected_inferred"]) == pytest.approx(
        kgaug.bounds.expected_inferred(1000, 2, 2), rel=1e-5
    )
    assert "expected_phi" in rows
    assert "min_relation_branching" in rows


def test_bounds_json(capsys):
    rc, out, _ = _run(
        capsys,
        [
            "bounds",
            "--nodes",
            "1000",
            "--branching",
            "2",
            "--relation-branching",
            "4",
            "5",
            "--json",
        ],
    )
    assert rc == 0
    data = json.loads(out)
    assert data["expected_inferred"] == pytest.approx(kgaug.bounds.expected_inferred(1000, 2, 2))
    assert data["min_nodes"] == kgaug.bounds.node_bound([4.0, 5.0], 2, 3.6).min_nodes
    assert isinstance(data["min_nodes"], int)
    assert data["min_nodes_reason"]


def test_bounds_unreachable(capsys):
    rc, out, _ = _run(capsys, ["bounds", "--nodes", "1000", "--relation-branching", "1.0", "1.5"])
    assert rc == 0
    lines = {ln.split(None, 1)[0]: ln.split(None, 1)[1] for ln in out.splitlines()}
    assert lines["min_nodes"].strip() == "None"
    assert "no graph size suffices" in lines["min_nodes_reason"]
    rc, out, _ = _run(
        capsys, ["bounds", "--nodes", "1000", "--relation-branching", "1.0", "--json"]
    )
    data = json.loads(out)
    assert data["min_nodes"] is None
    assert "no graph size suffices" in data["min_nodes_reason"]


def test_bounds_bad_arguments(capsys):
    rc, _, err = _run(capsys, ["bounds", "--nodes", "1"])
    assert rc == 2
    assert "kgaug bounds: error:" in err
    rc, _, err = _run(capsys, ["bounds"])  # neither --nodes nor --relation-branching
    assert rc == 2


# ---------------------------------------------------------------- version


def test_version(capsys):
    with pytest.raises(SystemExit) as ei:
        main(["--version"])
    assert ei.value.code == 0
    out = capsys.readouterr().out
    assert out.strip() == f"kgaug {kgaug.__version__}"


def test_file_and_example_together_is_an_error(capsys, tsv):
    rc, _, err = _run(capsys, ["stats", str(tsv), "--example"])
    assert rc == 2
    assert "not both" in err


def test_corrupt_gzip_exits_2_without_traceback(capsys, tmp_path):
    p = tmp_path / "kg.tsv.gz"
    p.write_bytes(b"not gzip")
    rc, _, err = _run(capsys, ["stats", str(p)])
    assert rc == 2
    assert "kg.tsv.gz" in err and "Traceback" not in err


def test_bounds_node_bound_without_nodes(capsys):
    rc, out, _ = _run(capsys, ["bounds", "--relation-branching", "4", "5"])
    assert rc == 0
    assert "min_nodes" in out and "11" in out
    rc, _, err = _run(capsys, ["bounds"])
    assert rc == 2 and "--nodes" in err


# ---------------------------------------------------------------- errors name the flags


def test_dataset_error_names_the_flags(capsys, tsv, tmp_path):
    rc, _, err = _run(capsys, ["dataset", tsv, "--phi", "2.0", "--out", tmp_path / "d"])
    assert rc == 2
    assert "--allow-short" in err and "allow_short" not in err
    assert "--ood-fraction 0.05" in err and "ood_fraction" not in err
    assert len(err.strip().splitlines()) == 1
    rc, out, err = _run(
        capsys, ["dataset", tsv, "--phi", "2.0", "--allow-short", "--out", tmp_path / "d"]
    )
    assert rc == 0, err
    assert "allow_short" not in out


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["stats", "--example", "--phi-g", "-1"], "--phi-g must be"),
        (["sample", "--example", "-k", "-1"], "-k must be"),
        (["plan", "--example", "--max-new-facts", "-3"], "--max-new-facts must be"),
        (["dataset", "--example", "--ood-fraction", "2", "--out", "x"], "--ood-fraction must"),
        (["risk", "--example", "--min-support", "0"], "--min-support must be"),
        (["ocr", "--n", "0"], "--n: "),
    ],
)
def test_argument_errors_name_the_flag(capsys, argv, flag):
    rc, _, err = _run(capsys, argv)
    assert rc == 2
    assert flag in err, err


def test_flag_names_maps_only_the_commands_options():
    from kgaug.cli import _subparser, build_parser, flag_names

    parser = build_parser()
    dataset = _subparser(parser, "dataset")
    msg = (
        "hops=2, ood_fraction=0.05; pass allow_short=True, directed=False, balance=False, "
        "ambiguous='keep' or attributes=['a', 'b']; phi_g=3 and test_ood stay"
    )
    assert flag_names(msg, dataset) == (
        "--hops 2, --ood-fraction 0.05; pass --allow-short, --undirected, --no-balance, "
        "--ambiguous keep or --attributes a b; phi_g=3 and test_ood stay"
    )
    bounds = _subparser(parser, "bounds")
    assert flag_names("got num_nodes=-5", bounds) == "got --nodes -5"
    assert flag_names("phi_g must be > 0", bounds) == "--phi-g must be > 0"


# ---------------------------------------------------------------- missing extras


@pytest.mark.parametrize(
    ("module", "argv", "line"),
    [
        ("torch", ["train", "--wang", "comparison"], "kgaug train needs PyTorch and transformers"),
        ("transformers", ["train", "DATA"], "kgaug train needs PyTorch and transformers"),
        ("torch", ["sweep", "--out", "SWEEP"], "kgaug sweep needs PyTorch and transformers"),
        ("torch", ["ocr", "--steps", "2"], "kgaug ocr needs PyTorch"),
        (
            "openai",
            ["verbalize", "--example", "--backend", "openai", "--model", "m"],
            "kgaug verbalize needs the openai package",
        ),
        ("openai", ["parse", "TEXT", "--model", "m"], "kgaug parse needs the openai package"),
        (
            "torch",
            ["verbalize", "--example", "--backend", "transformers", "--model-path", "M"],
            "kgaug verbalize needs PyTorch and transformers",
        ),
    ],
)
def test_missing_extra_is_one_line(capsys, monkeypatch, tmp_path, module, argv, line):
    text = tmp_path / "doc.txt"
    text.write_text("A | r | B\n")
    subs = {"DATA": tmp_path, "SWEEP": tmp_path / "sweep", "TEXT": text, "M": tmp_path}
    monkeypatch.setitem(sys.modules, module, None)  # `import module` fails as if absent
    rc, _, err = _run(capsys, [subs.get(a, a) for a in argv])
    assert rc == 2
    extra = "llm" if module == "openai" else "train"
    assert err.strip().splitlines() == [f"{line}: pip install 'kgaug[{extra}]'"]
    assert not (tmp_path / "sweep").exists()  # stopped before any work


def test_missing_extra_without_the_package_installed(tmp_path):
    """The real thing: a process where torch cannot be found at all."""
    script = tmp_path / "absent.py"
    script.write_text(
        "import importlib.abc, sys\n"
        "class Absent(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'transformers'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Absent())\n"
        "from kgaug.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script), "train", "--wang", "comparison"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "kgaug train needs PyTorch and transformers: pip install 'kgaug[train]'"
    ]

"""ID/OOD datasets (Def. 2.6): the protocol checked against brute-force path enumeration."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict

import pytest

import kgaug
from kgaug.dataset import (
    Dataset,
    DatasetMeta,
    Example,
    build_comparison_dataset,
    build_composition_dataset,
)
from kgaug.datasets._wang import wang_comparison, wang_composition
from kgaug.errors import KGFormatError, UnknownLabelError
from kgaug.verbalize import Question

FILES = ("train.jsonl", "train_inferred.jsonl", "test_id.jsonl", "test_ood.jsonl", "meta.json")


@pytest.fixture(scope="module")
def wang_kg() -> kgaug.KnowledgeGraph:
    return wang_composition(200, 20, 5, seed=0)


@pytest.fixture(scope="module")
def wang_ds(wang_kg) -> Dataset:
    return build_composition_dataset(wang_kg, phi=3.0, seed=0)


@pytest.fixture(scope="module")
def cmp_kg() -> kgaug.KnowledgeGraph:
    return wang_comparison(80, 3, 6, seed=0)


@pytest.fixture(scope="module")
def cmp_ds(cmp_kg) -> Dataset:
    return build_comparison_dataset(cmp_kg, phi=2.0, style="order", seed=0)


# ---------------------------------------------------------------- brute-force reference


def brute_paths(kg, hops, directed=True):
    """(head, relations, tail) -> list of the atomic-fact sets of its simple paths (DFS)."""
    adj = defaultdict(list)
    for h, r, t in kg.triples():
        if h == t:
            continue
        adj[h].append((r, t, (h, r, t)))
        if not directed:
            adj[t].append((r + "^-1", h, (h, r, t)))
    out = defaultdict(list)

    def dfs(nodes, rels, facts):
        if len(rels) == hops:
            out[(nodes[0], tuple(rels), nodes[-1])].append(frozenset(facts))
            return
        for r, t, f in adj[nodes[-1]]:
            if t not in nodes:
                dfs([*nodes, t], [*rels, r], [*facts, f])

    for v in kg.entities:
        dfs([v], [], [])
    return out


def ood_facts(ds):
    return {
        (e.entities[0], e.relations[0], e.entities[1])
        for e in ds.train
        if e.kind == "atomic" and e.ood
    }


def key(e):
    return (e.entities[0], tuple(e.relations), e.entities[-1])


def check_composition(kg, ds, hops=2, directed=True, ambiguous="drop"):
    """Every claim of the protocol, against an independent DFS over all paths."""
    meta = ds.meta
    atomic = [e for e in ds.train if e.kind == "atomic"]
    # all atomic facts train, ID and OOD
    assert len(atomic) == kg.num_facts
    assert {(e.entities[0], e.relations[0], e.entities[1]) for e in atomic} == set(kg.triples())
    ood_set = ood_facts(ds)
    assert len(ood_set) == meta.ood_atomic == round(meta.ood_fraction * kg.num_facts)
    assert meta.id_atomic == kg.num_facts - len(ood_set)

    paths = brute_paths(kg, hops, directed)
    answers = defaultdict(set)
    for h, rels, t in paths:
        answers[(h, rels)].add(t)

    def cats(q):
        out = set()
        for t in answers[q]:
            for fs in paths[(q[0], q[1], t)]:
                k = len(fs & ood_set)
                out.add("id" if k == 0 else "ood" if k == len(fs) else "mixed")
        return out

    def usable(q):
        return ambiguous == "keep" or len(answers[q]) == 1

    clean_id = {f for f in paths if usable(f[:2]) and cats(f[:2]) == {"id"}}
    clean_ood = {f for f in paths if usable(f[:2]) and cats(f[:2]) == {"ood"}}
    mixed = {f for f in paths if usable(f[:2])} - clean_id - clean_ood

    inferred = [*ds.train_inferred, *ds.test_id, *ds.test_ood]
    for e in inferred:
        assert e.kind == "inferred"
        assert e.hops == hops == len(e.relations) == len(e.entities) - 1
        assert e.tokens == [f"<e:{e.entities[0]}>", *(f"<r:{r}>" for r in e.relations)]
        assert e.answer_token == f"<e:{e.entities[-1]}>"
        assert e.answer == e.entities[-1]
        f = key(e)
        assert f in paths  # a real simple path
        if ambiguous == "drop":
            assert len(answers[f[:2]]) == 1
    # train / test_id: every path of the query uses ID facts only; test_ood: OOD only
    for e in [*ds.train_inferred, *ds.test_id]:
        assert cats(key(e)[:2]) == {"id"}, e
        assert not e.ood
    for e in ds.test_ood:
        assert cats(key(e)[:2]) == {"ood"}, e
        assert e.ood
    # completeness: no mixed fact anywhere, all OOD facts tested, ID facts split
    assert not ({key(e) for e in inferred} & mixed)
    assert {key(e) for e in ds.test_ood} == clean_ood
    assert {key(e) for e in [*ds.train_inferred, *ds.test_id]} <= clean_id
    assert len(ds.test_id) + meta.pool == len(clean_id)
    assert meta.dropped_mixed == len(mixed)
    # test_id queries never trained on
    assert not ({key(e)[:2] for e in ds.test_id} & {key(e)[:2] for e in ds.train_inferred})
    # one example per distinct inferred fact
    assert len({key(e) for e in inferred}) == len(inferred)
    # achieved phi
    assert meta.phi == len(ds.train_inferred) / meta.id_atomic
    if not meta.short:
        assert len(ds.train_inferred) == round(meta.phi_requested * meta.id_atomic)
        assert abs(meta.phi - meta.phi_requested) <= 0.5 / meta.id_atomic
    assert meta.counts["train"] == {"atomic": kg.num_facts, "inferred": len(ds.train_inferred)}


# ---------------------------------------------------------------- composition protocol


def test_composition_protocol_wang(wang_kg, wang_ds):
    check_composition(wang_kg, wang_ds)
    assert wang_ds.meta.ambiguous_queries == 0
    assert len(wang_ds.test_ood) > 0
    assert wang_ds.phi == pytest.approx(3.0)


def test_composition_protocol_example_kg(example_kg):
    ds = build_composition_dataset(example_kg, phi=0.3, ood_fraction=0.3, seed=1)
    check_composition(example_kg, ds)
    assert ds.meta.ambiguous_queries > 0  # non-functional relations: spouse, child, ...
    assert ds.meta.dropped_ambiguous == ds.meta.ambiguous_queries


def test_composition_protocol_example_kg_keep(example_kg):
    ds = build_composition_dataset(example_kg, phi=0.3, ood_fraction=0.3, seed=2, ambiguous="keep")
    check_composition(example_kg, ds, ambiguous="keep")
    assert ds.meta.dropped_ambiguous == 0


def test_composition_protocol_undirected(example_kg):
    ds = build_composition_dataset(
        example_kg, phi=0.5, ood_fraction=0.2, seed=0, directed=False, allow_short=True
    )
    check_composition(example_kg, ds, directed=False)
    assert any(r.endswith("^-1") for e in ds.train_inferred for r in e.relations)


def test_composition_protocol_three_hops():
    kg = wang_composition(40, 6, 3, seed=4)
    ds = build_composition_dataset(kg, phi=3.0, hops=3, ood_fraction=0.2, seed=0)
    check_composition(kg, ds, hops=3)
    assert all(len(e.tokens) == 4 for e in ds.train_inferred)


def test_phi_unreachable_names_achievable_phi(wang_kg):
    with pytest.raises(ValueError, match="allow_short") as info:
        build_composition_dataset(wang_kg, phi=50.0)
    msg = str(info.value)
    assert "augment" in msg
    achievable = float(re.search(r"achievable phi <= ([0-9.]+)", msg).group(1))
    # the stated maximum is really achievable
    ds = build_composition_dataset(wang_kg, phi=achievable)
    assert not ds.meta.short
    assert ds.meta.pool >= len(ds.train_inferred)


def test_allow_short_keeps_pool_and_records_phi(wang_kg):
    ds = build_composition_dataset(wang_kg, phi=50.0, allow_short=True)
    assert ds.meta.short
    assert ds.meta.phi_requested == 50.0
    assert len(ds.train_inferred) == ds.meta.pool
    assert ds.phi == pytest.approx(ds.meta.pool / ds.meta.id_atomic)
    assert ds.phi < 50
    assert "short" in repr(ds)


def test_empty_test_ood_is_an_error(wang_kg):
    with pytest.raises(ValueError, match=r"test_ood is empty.*ood_fraction"):
        build_composition_dataset(wang_kg, phi=1.0, ood_fraction=0.0)
    ds = build_composition_dataset(wang_kg, phi=1.0, ood_fraction=0.0, allow_short=True)
    assert ds.test_ood == []
    assert ds.meta.short
    assert ds.meta.ood_atomic == 0


def _amb_kg():
    return kgaug.KnowledgeGraph.from_triples(
        [
            # (a, p, q) has two answers: c1 and c2
            ("a", "p", "b1"),
            ("a", "p", "b2"),
            ("b1", "q", "c1"),
            ("b2", "q", "c2"),
            # (m, p, q) -> o through two bridges: one fact, one example
            ("m", "p", "n1"),
            ("m", "p", "n2"),
            ("n1", "q", "o"),
            ("n2", "q", "o"),
            ("x", "p", "y"),
            ("y", "q", "z"),
        ]
    )


def _queries(ds):
    return Counter(tuple(e.tokens) for e in [*ds.train_inferred, *ds.test_id, *ds.test_ood])


def test_ambiguous_drop_and_keep():
    kg = _amb_kg()
    kw = {"phi": 0.5, "ood_fraction": 0.0, "test_id_fraction": 0.0, "allow_short": True}
    drop = build_composition_dataset(kg, ambiguous="drop", **kw)
    q = _queries(drop)
    assert ("<e:a>", "<r:p>", "<r:q>") not in q
    assert q[("<e:m>", "<r:p>", "<r:q>")] == 1  # deduped over its two paths
    assert q[("<e:x>", "<r:p>", "<r:q>")] == 1
    assert drop.meta.ambiguous_queries == drop.meta.dropped_ambiguous == 1
    keep = build_composition_dataset(kg, ambiguous="keep", **kw)
    assert _queries(keep)[("<e:a>", "<r:p>", "<r:q>")] == 2
    answers = {e.answer_token for e in keep.train_inferred if e.tokens[0] == "<e:a>"}
    assert answers == {"<e:c1>", "<e:c2>"}
    assert keep.meta.ambiguous_queries == 1
    assert keep.meta.dropped_ambiguous == 0


def test_worst_provenance_and_most_trusted_path():
    kg = kgaug.KnowledgeGraph.from_triples([("a", "p", "b"), ("x", "p", "y")])
    kg = kg.add_facts([("b", "q", "c"), ("y", "q", "z")], provenance="synthetic")
    kg = kg.add_facts([("x", "p", "y2"), ("y2", "q", "z")], provenance="counterfactual")
    kg = kg.add_facts([("a", "p", "b2"), ("b2", "q", "c")], provenance="real")
    ds = build_composition_dataset(
        kg, phi=1.0, ood_fraction=0.0, test_id_fraction=0.0, allow_short=True
    )
    by_head = {e.entities[0]: e for e in ds.train_inferred}
    assert by_head["a"].provenance == kgaug.Provenance.REAL
    assert by_head["a"].entities == ["a", "b2", "c"]  # the all-real path is shown
    assert by_head["x"].provenance == kgaug.Provenance.SYNTHETIC
    assert by_head["x"].entities == ["x", "y", "z"]
    atomic = {(e.entities[0], e.entities[1]): e.provenance for e in ds.train if e.hops == 1}
    assert atomic[("y2", "z")] == kgaug.Provenance.COUNTERFACTUAL


def test_self_loops_are_atomic_but_never_on_paths():
    kg = kgaug.KnowledgeGraph.from_triples(
        [("a", "p", "a"), ("a", "p", "b"), ("b", "q", "c"), ("c", "q", "c")]
    )
    ds = build_composition_dataset(
        kg, phi=0.25, ood_fraction=0.0, test_id_fraction=0.0, allow_short=True
    )
    atomic = {tuple(e.entities) for e in ds.train if e.kind == "atomic"}
    assert ("a", "a") in atomic
    assert ("c", "c") in atomic
    assert [e.entities for e in ds.train_inferred] == [["a", "b", "c"]]


def test_max_test_caps_each_test_split(wang_kg):
    ds = build_composition_dataset(wang_kg, phi=3.0, max_test=7)
    assert len(ds.test_id) == 7
    assert len(ds.test_ood) == 7
    full = build_composition_dataset(wang_kg, phi=3.0)
    assert {e.id for e in ds.test_ood} <= {e.id for e in full.test_ood}
    assert ds.train == full.train  # capping tests does not move training examples


def test_changing_phi_keeps_ood_facts_and_tests(wang_kg, wang_ds):
    other = build_composition_dataset(wang_kg, phi=2.0, seed=0)
    assert ood_facts(other) == ood_facts(wang_ds)
    assert other.test_ood == wang_ds.test_ood
    assert other.test_id == wang_ds.test_id
    assert len(other.train_inferred) < len(wang_ds.train_inferred)


@pytest.mark.parametrize(
    ("kwargs", "name", "exc"),
    [
        ({"phi": 0}, "phi", ValueError),
        ({"phi": "a lot"}, "phi", TypeError),
        ({"hops": 4}, "hops", ValueError),
        ({"ood_fraction": 1.0}, "ood_fraction", ValueError),
        ({"ood_fraction": -0.1}, "ood_fraction", ValueError),
        ({"test_id_fraction": 1.5}, "test_id_fraction", ValueError),
        ({"ambiguous": "maybe"}, "ambiguous", ValueError),
        ({"max_test": 0}, "max_test", ValueError),
        ({"seed": -1}, "seed", ValueError),
        ({"directed": "yes"}, "directed", TypeError),
        ({"allow_short": 1}, "allow_short", TypeError),
        ({"verbalizer": object()}, "verbalizer", TypeError),
    ],
)
def test_composition_argument_errors(wang_kg, kwargs, name, exc):
    with pytest.raises(exc, match=name):
        build_composition_dataset(wang_kg, **kwargs)


def test_not_a_graph_and_empty_graph():
    with pytest.raises(TypeError, match="kg"):
        build_composition_dataset([("a", "r", "b")])
    empty = kgaug.KnowledgeGraph.from_triples([], entities=["a"])
    with pytest.raises(ValueError, match="no facts"):
        build_composition_dataset(empty)


class _Shout:
    def verbalize(self, items):
        return [
            Question(question=f"Q{i}?", answer="A", source=it, status="failed" if i == 0 else "ok")
            for i, it in enumerate(items)
        ]


class _Short:
    def verbalize(self, items):
        return []


def test_custom_verbalizer(wang_kg):
    ds = build_composition_dataset(wang_kg, phi=1.0, verbalizer=_Shout())
    assert all(re.fullmatch(r"Q\d+\?", e.question) for e in ds.train)
    assert ds.meta.questions_failed == 1
    with pytest.raises(ValueError, match="one per item"):
        build_composition_dataset(wang_kg, phi=1.0, verbalizer=_Short())


def test_default_questions_come_from_the_template_verbalizer(wang_ds):
    e = wang_ds.train_inferred[0]
    assert e.question.endswith("?")
    assert e.entities[0] in e.question


# ---------------------------------------------------------------- files and determinism


def test_same_seed_gives_byte_identical_files(wang_kg, tmp_path):
    a = build_composition_dataset(wang_kg, phi=2.0, seed=5).write_jsonl(tmp_path / "a")
    b = build_composition_dataset(wang_kg, phi=2.0, seed=5).write_jsonl(tmp_path / "b")
    c = build_composition_dataset(wang_kg, phi=2.0, seed=6).write_jsonl(tmp_path / "c")
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "test_ood.jsonl").read_bytes() != (c / "test_ood.jsonl").read_bytes()
    assert (a / "train.jsonl").read_bytes() != (c / "train.jsonl").read_bytes()


def test_jsonl_format(wang_ds, tmp_path):
    d = wang_ds.write_jsonl(tmp_path)
    assert sorted(p.name for p in d.iterdir()) == sorted(FILES)
    lines = (d / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(wang_ds.train)
    first = json.loads(lines[0])
    assert list(first) == sorted(Example.model_fields)  # one key per field, sorted
    assert ": " not in lines[0]
    assert ", " not in lines[0].split('"question"')[0]
    meta = json.loads((d / "meta.json").read_text())
    assert meta["phi"] == wang_ds.phi
    assert meta["counts"]["test_ood"] == {"inferred": len(wang_ds.test_ood)}
    n_inf = len((d / "train_inferred.jsonl").read_text().splitlines())
    assert n_inf == len(wang_ds.train_inferred)


def test_jsonl_round_trip(wang_ds, cmp_ds, tmp_path):
    for i, ds in enumerate((wang_ds, cmp_ds)):
        back = Dataset.read_jsonl(ds.write_jsonl(tmp_path / str(i)))
        assert back == ds
        assert back.meta == ds.meta
        assert back.train_inferred == ds.train_inferred
        assert back.vocabulary() == ds.vocabulary()


def _corrupt(path, line_no, new):
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line_no - 1] = new
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_malformed_line_names_file_and_line(wang_ds, tmp_path):
    d = wang_ds.write_jsonl(tmp_path)
    _corrupt(d / "test_id.jsonl", 3, '{"id": "x", ')
    with pytest.raises(KGFormatError, match=r"test_id\.jsonl, line 3: invalid JSON") as info:
        Dataset.read_jsonl(d)
    assert info.value.line == 3
    assert info.value.path.endswith("test_id.jsonl")


def test_bad_bytes_and_wrong_task_name_file_and_line(wang_ds, tmp_path):
    d = wang_ds.write_jsonl(tmp_path)
    with open(d / "test_ood.jsonl", "ab") as fh:
        fh.write(b"\xff\xfe\n")
    n = len(wang_ds.test_ood) + 1
    with pytest.raises(KGFormatError, match=rf"test_ood\.jsonl, line {n}: not UTF-8"):
        Dataset.read_jsonl(d)
    d2 = wang_ds.write_jsonl(tmp_path / "b")
    line = (d2 / "test_id.jsonl").read_text(encoding="utf-8").splitlines()[0]
    _corrupt(d2 / "test_id.jsonl", 1, line.replace('"task":"composition"', '"task":"comparison"'))
    with pytest.raises(KGFormatError, match=r"test_id\.jsonl, line 1: .*task 'comparison'"):
        Dataset.read_jsonl(d2)


def test_invalid_example_field_names_file_and_line(wang_ds, tmp_path):
    d = wang_ds.write_jsonl(tmp_path)
    lines = (d / "train.jsonl").read_text(encoding="utf-8").splitlines()
    obj = json.loads(lines[4])
    obj["hops"] = 0
    _corrupt(d / "train.jsonl", 5, json.dumps(obj))
    with pytest.raises(KGFormatError, match=r"train\.jsonl, line 5: invalid example: hops"):
        Dataset.read_jsonl(d)
    obj["hops"] = 1
    obj["split"] = "test_ood"
    _corrupt(d / "train.jsonl", 5, json.dumps(obj))
    with pytest.raises(KGFormatError, match=r"train\.jsonl, line 5: .*split 'test_ood'"):
        Dataset.read_jsonl(d)


def test_read_detects_inconsistent_files(wang_ds, tmp_path):
    d = wang_ds.write_jsonl(tmp_path)
    text = (d / "test_ood.jsonl").read_text(encoding="utf-8")
    (d / "test_ood.jsonl").write_text(text + text.splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(KGFormatError, match="duplicate example id"):
        Dataset.read_jsonl(d)
    d2 = wang_ds.write_jsonl(tmp_path / "b")
    (d2 / "train_inferred.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(KGFormatError, match="train_inferred"):
        Dataset.read_jsonl(d2)
    d3 = wang_ds.write_jsonl(tmp_path / "c")
    (d3 / "meta.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"meta\.json"):
        Dataset.read_jsonl(d3)
    d4 = wang_ds.write_jsonl(tmp_path / "d")
    (d4 / "meta.json").write_text('{"task": "composition"}', encoding="utf-8")
    with pytest.raises(KGFormatError, match=r"meta\.json"):
        Dataset.read_jsonl(d4)


def test_example_ids_are_stable_and_unique(wang_kg, wang_ds):
    ids = [e.id for e in [*wang_ds.train, *wang_ds.test_id, *wang_ds.test_ood]]
    assert len(ids) == len(set(ids))
    other = build_composition_dataset(wang_kg, phi=1.0, seed=9)
    atomic_a = {e.id for e in wang_ds.train if e.kind == "atomic"}
    atomic_b = {e.id for e in other.train if e.kind == "atomic"}
    assert atomic_a == atomic_b
    assert all(re.fullmatch(r"(atomic|inferred)-[0-9a-f]{16}", i) for i in ids)


def test_vocabulary_covers_every_token(wang_ds, cmp_ds):
    for ds in (wang_ds, cmp_ds):
        vocab = ds.vocabulary()
        assert vocab == sorted(set(vocab))
        needed = set()
        for e in [*ds.train, *ds.test_id, *ds.test_ood]:
            needed.update(e.tokens)
            needed.add(e.answer_token)
        assert set(vocab) == needed
    assert "<a:=>" in cmp_ds.vocabulary()


def test_repr_and_html(wang_ds):
    text = repr(wang_ds)
    assert "composition" in text
    assert "phi=3.000" in text
    for split in ("train", "train_inferred", "test_id", "test_ood"):
        assert split in text
    assert str(len(wang_ds.test_ood)) in text
    html = wang_ds._repr_html_()
    assert html.startswith("<table>")
    assert "test_ood" in html


def test_splits_are_copies(wang_ds):
    wang_ds.train.clear()
    assert len(wang_ds.train) > 0
    assert set(wang_ds.splits()) == {"train", "train_inferred", "test_id", "test_ood"}


def test_dataset_rejects_misfiled_examples(wang_ds):
    with pytest.raises(ValueError, match="split"):
        Dataset(train=wang_ds.test_ood, test_id=[], test_ood=[], meta=wang_ds.meta)


def test_to_hf_without_datasets(wang_ds, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ImportError, match="pip install datasets"):
        wang_ds.to_hf()


def test_to_hf_call_shape_with_a_stub(wang_ds, monkeypatch):
    import types

    stub = types.ModuleType("datasets")
    stub.Dataset = types.SimpleNamespace(from_dict=lambda cols: cols)
    stub.DatasetDict = dict
    monkeypatch.setitem(sys.modules, "datasets", stub)
    dd = wang_ds.to_hf()
    assert set(dd) == {"train", "train_inferred", "test_id", "test_ood"}
    for name, cols in dd.items():
        assert set(cols) == set(Example.model_fields)
        assert len(cols["id"]) == len(getattr(wang_ds, name))
    assert dd["train"]["provenance"][0] == "real"
    assert dd["test_ood"]["tokens"][0] == wang_ds.test_ood[0].tokens


def test_to_hf(wang_ds):
    pytest.importorskip("datasets")
    dd = wang_ds.to_hf()
    assert set(dd) == {"train", "train_inferred", "test_id", "test_ood"}
    assert dd["test_ood"].num_rows == len(wang_ds.test_ood)
    assert dd["train"][0]["tokens"] == wang_ds.train[0].tokens


# ---------------------------------------------------------------- comparison protocol


def _values(kg):
    return {(h, r): t for h, r, t in kg.triples()}


def check_comparison(kg, ds):
    meta = ds.meta
    attrs = meta.attributes
    atomic = [e for e in ds.train if e.kind == "atomic"]
    want = {(h, r, t) for h, r, t in kg.triples() if r in attrs}
    assert {(e.entities[0], e.relations[0], e.entities[1]) for e in atomic} == want
    assert len(atomic) == len(want)
    for e in atomic:
        assert e.tokens == [f"<e:{e.entities[0]}>", f"<a:{e.relations[0]}>"]
    ood = {(e.entities[0], e.relations[0]) for e in atomic if e.ood}
    ids = {(e.entities[0], e.relations[0]) for e in atomic if not e.ood}
    per_attr = Counter(r for _, r, _ in want)
    ood_per_attr = Counter(r for _, r in ood)
    for r, m in per_attr.items():
        assert ood_per_attr[r] == round(meta.ood_fraction * m)
    values = _values(kg)
    for e in [*ds.train_inferred, *ds.test_id, *ds.test_ood]:
        assert e.kind == "comparison"
        (a,) = e.relations
        x, y = e.entities
        assert x != y
        assert e.tokens == [f"<a:{a}>", f"<e:{x}>", f"<e:{y}>"]
        assert e.answer_token == f"<a:{e.answer}>"
        vx, vy = values[(x, a)], values[(y, a)]
        if meta.style == "same":
            assert e.answer == ("yes" if vx == vy else "no")
        else:
            fx, fy = float(vx), float(vy)
            assert e.answer == ("<" if fx < fy else "=" if fx == fy else ">")
        if e.split == "test_ood":
            assert (x, a) in ood and (y, a) in ood
        else:
            assert (x, a) in ids and (y, a) in ids
    # both orders kept, in the same split
    for split in ("test_id", "test_ood"):
        pairs = {tuple(e.tokens) for e in getattr(ds, split)}
        assert all((t[0], t[2], t[1]) in pairs for t in pairs)
    test_pairs = {frozenset(e.tokens) for e in ds.test_id}
    assert not any(frozenset(e.tokens) in test_pairs for e in ds.train_inferred)
    # completeness (no max_pairs sampling, no max_test)
    n_ood = sum(k * (k - 1) for k in ood_per_attr.values())
    assert len(ds.test_ood) == n_ood
    assert meta.dropped_mixed == sum(
        2 * (per_attr[r] - ood_per_attr[r]) * ood_per_attr[r] for r in per_attr
    )
    assert meta.id_atomic == len(ids)
    assert len(ds.train_inferred) == round(meta.phi_requested * meta.id_atomic)
    assert abs(meta.phi - meta.phi_requested) <= 0.5 / meta.id_atomic


def test_comparison_protocol_order(cmp_kg, cmp_ds):
    check_comparison(cmp_kg, cmp_ds)
    classes = Counter(e.answer for e in cmp_ds.train_inferred)
    assert set(classes) == {"<", "=", ">"}
    assert max(classes.values()) - min(classes.values()) <= 1  # balanced
    assert cmp_ds.meta.answer_counts["train"] == {f"<a:{k}>": v for k, v in sorted(classes.items())}


def test_comparison_protocol_same(cmp_kg):
    ds = build_comparison_dataset(cmp_kg, phi=1.5, style="same", seed=3)
    check_comparison(cmp_kg, ds)
    classes = Counter(e.answer for e in ds.train_inferred)
    assert abs(classes["yes"] - classes["no"]) <= 1
    assert ds.meta.attributes == ["attr0", "attr1", "attr2"]
    assert ds.test_id[0].question.endswith("?")


def test_comparison_unbalanced_keeps_natural_distribution(cmp_kg):
    ds = build_comparison_dataset(cmp_kg, phi=3.0, style="same", balance=False, seed=0)
    check_comparison(cmp_kg, ds)
    classes = Counter(e.answer for e in ds.train_inferred)
    assert classes["no"] > 3 * classes["yes"]  # 6 values: ~1/6 are "yes"


def test_comparison_balance_limits_phi(cmp_kg):
    with pytest.raises(ValueError, match="balance=False"):
        build_comparison_dataset(cmp_kg, phi=60.0, style="same")
    ds = build_comparison_dataset(cmp_kg, phi=60.0, style="same", allow_short=True)
    classes = Counter(e.answer for e in ds.train_inferred)
    assert ds.meta.short
    assert abs(classes["yes"] - classes["no"]) <= 1
    assert len(ds.train_inferred) == ds.meta.pool


def test_comparison_example_kg_defaults(example_kg):
    ds = build_comparison_dataset(example_kg, phi=1.0, seed=0)
    schema = kgaug.schema.learn_schema(example_kg)
    for a in ds.meta.attributes:
        assert schema[a].functional
        tails = Counter(t for _, r, t in example_kg.triples() if r == a)
        assert max(tails.values()) >= 2  # a value shared by several entities
    assert "spouse" not in ds.meta.attributes  # not functional
    check_comparison(example_kg, ds)
    order = build_comparison_dataset(example_kg, phi=1.0, style="order", seed=0)
    assert "date of birth" in order.meta.attributes
    assert "place of birth" not in order.meta.attributes
    check_comparison(example_kg, order)


def test_comparison_non_numeric_order_error(example_kg):
    with pytest.raises(ValueError, match=r"'place of birth'.*value '[^']+'.*not a finite number"):
        build_comparison_dataset(example_kg, attributes=["place of birth"], style="order")


def test_comparison_attribute_errors(example_kg):
    with pytest.raises(ValueError, match="'spouse' is not functional"):
        build_comparison_dataset(example_kg, attributes=["spouse"])
    with pytest.raises(UnknownLabelError, match="date of brith"):
        build_comparison_dataset(example_kg, attributes=["date of brith"])
    with pytest.raises(TypeError, match="attributes"):
        build_comparison_dataset(example_kg, attributes="director")
    with pytest.raises(ValueError, match="style"):
        build_comparison_dataset(example_kg, style="bigger")


def test_comparison_pair_sampling_is_bounded():
    kg = wang_comparison(300, 1, 5, seed=0)
    for max_pairs in (1000, 20_000):  # rejection sampling / subset of all pairs
        ds = build_comparison_dataset(
            kg, phi=1.0, balance=False, max_pairs=max_pairs, seed=0, max_test=50
        )
        assert ds.meta.sampled_pairs
        train_pairs = {frozenset(e.tokens) for e in ds.train_inferred}
        assert len(train_pairs) <= len(ds.train_inferred)
        # the ID pool plus test_id hold exactly max_pairs unordered pairs, both orders
        assert ds.meta.pool % 2 == 0
        assert ds.meta.pool < 2 * max_pairs
    full = build_comparison_dataset(kg, phi=1.0, balance=False, seed=0, max_test=50)
    assert not full.meta.sampled_pairs
    assert full.meta.pool > 2 * 20_000


def test_comparison_empty_ood(cmp_kg):
    with pytest.raises(ValueError, match="test_ood is empty"):
        build_comparison_dataset(cmp_kg, phi=1.0, ood_fraction=0.0)
    ds = build_comparison_dataset(cmp_kg, phi=1.0, ood_fraction=0.0, allow_short=True)
    assert ds.test_ood == []
    assert ds.meta.short


def test_comparison_deterministic_files(cmp_kg, tmp_path):
    a = build_comparison_dataset(cmp_kg, phi=1.0, seed=1).write_jsonl(tmp_path / "a")
    b = build_comparison_dataset(cmp_kg, phi=1.0, seed=1).write_jsonl(tmp_path / "b")
    c = build_comparison_dataset(cmp_kg, phi=1.0, seed=2).write_jsonl(tmp_path / "c")
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "test_ood.jsonl").read_bytes() != (c / "test_ood.jsonl").read_bytes()


def test_meta_model_is_strict():
    with pytest.raises(ValueError, match="extra"):
        DatasetMeta.model_validate(
            {
                "task": "composition",
                "seed": 0,
                "phi_requested": 1.0,
                "phi": 1.0,
                "id_atomic": 1,
                "ood_atomic": 0,
                "pool": 1,
                "short": False,
                "counts": {},
                "ood_fraction": 0.0,
                "test_id_fraction": 0.0,
                "surprise": 1,
            }
        )


@pytest.mark.parametrize("style", ["same", "order"])
def test_comparison_train_keeps_both_orders_and_balance(style):
    from collections import Counter

    kg = kgaug.datasets.wang_comparison(200, 3, 10, seed=0)
    ds = kgaug.build_comparison_dataset(kg, phi=3.0, style=style, seed=0)
    pairs = Counter()
    for ex in ds.train_inferred:
        a, e1, e2 = ex.tokens
        pairs[(a, e1, e2)] += 1
    assert pairs
    missing = [k for k in pairs if (k[0], k[2], k[1]) not in pairs]
    assert len(missing) <= 1  # an odd target may cut the last pair
    answers = Counter(ex.answer for ex in ds.train_inferred)
    assert max(answers.values()) - min(answers.values()) <= 2, answers

"""ID/OOD training sets for grokking (Def. 2.6), Wang et al.'s protocol on any knowledge graph.

Two tasks:

- **Composition** (:func:`build_composition_dataset`): a seeded fraction of the atomic facts
  is *OOD*. An inferred fact (a query ``(h, r1, ..., rn)`` with its answer ``t``) whose
  paths use only OOD facts is an OOD test example; one that mixes ID and OOD facts is
  dropped; one built from ID facts only goes to ``test_id`` with a small probability, else
  to the training pool, which is downsampled to ``phi * |ID atomic facts|`` examples. All
  atomic facts (ID and OOD) are training examples.
- **Comparison** (:func:`build_comparison_dataset`): per attribute relation, the entities
  that have it are split 90/10 into ID and OOD; ordered pairs of two OOD entities are OOD
  test examples, pairs of two ID entities go to ``test_id`` (10%) or the training pool,
  mixed pairs are dropped. Answers are ``yes``/``no`` ("same value?") or ``<``/``=``/``>``
  (ordered values).

The dataset phi (inferred training examples over ID atomic training facts, what Wang et
al. control) is reported in :attr:`Dataset.meta`; it is not the graph's potential phi of
:func:`kgaug.compute_phi`.

JSONL schema
------------
:meth:`Dataset.write_jsonl` writes ``train.jsonl``, ``train_inferred.jsonl`` (the
non-atomic training examples, for monitoring), ``test_id.jsonl``, ``test_ood.jsonl`` and
``meta.json`` (the :class:`DatasetMeta` fields). Each JSONL line is one :class:`Example`,
a JSON object with exactly these keys (sorted, no spaces, UTF-8):

``id`` (str)
    Stable identifier, ``"<kind>-<16 hex digits>"`` hashed from task, kind, tokens and
    answer token: the same example has the same id in every split and seed.
``split`` ("train", "test_id", "test_ood")
    Where the example is.
``kind`` ("atomic", "inferred", "comparison")
    An atomic fact, a multi-hop inferred fact or a comparison.
``task`` ("composition", "comparison")
    The dataset's task.
``tokens`` (list of str)
    Symbolic input in Wang et al.'s format, one token per entity or relation:
    ``["<e:Barack Obama>", "<r:spouse>", "<r:born in>"]`` (composition; atomic facts
    ``["<e:h>", "<r:r>"]``), ``["<a:date of birth>", "<e:X>", "<e:Y>"]`` (comparison;
    its atomic facts ``["<e:X>", "<a:date of birth>"]``, so each attribute has one token).
``answer_token`` (str)
    ``"<e:Chicago>"``, ``"<a:yes>"``, ``"<a:no>"``, ``"<a:<>"``, ``"<a:=>"`` or ``"<a:>>"``.
``question``, ``answer`` (str)
    Natural-language question from the verbalizer and the answer text.
``hops`` (int)
    Atomic facts composed: 1 for atomic facts, ``n`` for n-hop facts, 2 for comparisons.
``entities``, ``relations`` (list of str)
    The entities along the path (``[h, bridge, ..., t]``; comparisons ``[X, Y]``) and its
    relations (inverse steps are ``"r^-1"`` in undirected mode).
``provenance`` ("real", "synthetic", "counterfactual")
    The least trustworthy provenance among the atomic facts of the example's path.
``ood`` (bool)
    Atomic facts: the fact is OOD (composition) or its entity is OOD for the attribute
    (comparison). Other examples: they are in ``test_ood``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kgaug._fileio import atomic_write
from kgaug._splits import _MIXED, _rngs, comparison_split, composition_split
from kgaug._table import html_table, text_table
from kgaug._validate import check_bool, check_hops, check_positive
from kgaug.errors import KGFormatError
from kgaug.kg import KnowledgeGraph
from kgaug.records import ComparisonFact, Provenance, Triple
from kgaug.verbalize import Question, TemplateVerbalizer, Verbalizer, VerbalizerItem

__all__ = [
    "MASK_TOKEN",
    "QUERY_TOKEN",
    "ComparisonFormat",
    "Dataset",
    "DatasetMeta",
    "Example",
    "atomic_tokens",
    "attribute_token",
    "build_comparison_dataset",
    "build_composition_dataset",
    "comparison_tokens",
    "entity_token",
    "label_token",
    "relation_token",
]

IntArray = npt.NDArray[np.int64]
PathLike = str | os.PathLike[str]

Split = Literal["train", "test_id", "test_ood"]
Kind = Literal["atomic", "inferred", "comparison"]
Task = Literal["composition", "comparison"]
Style = Literal["same", "order"]
AmbiguousMode = Literal["drop", "keep"]
#: Token layout of comparison examples (see :func:`build_comparison_dataset`).
ComparisonFormat = Literal["compact", "attribute_first", "entity_first", "wang"]

SPLITS: tuple[Split, ...] = ("train", "test_id", "test_ood")
#: File name per split; ``train_inferred`` is the non-atomic part of ``train``.
FILES = {
    "train": "train.jsonl",
    "train_inferred": "train_inferred.jsonl",
    "test_id": "test_id.jsonl",
    "test_ood": "test_ood.jsonl",
}
META_FILE = "meta.json"
FORMAT_VERSION = 1

_ANSWERS: dict[str, tuple[str, ...]] = {"same": ("yes", "no"), "order": ("<", "=", ">")}

# query categories (composition) / pair categories (comparison)


# ---------------------------------------------------------------------------- tokens


def entity_token(label: str) -> str:
    """Symbolic token of an entity: ``"<e:label>"``."""
    return f"<e:{label}>"


def relation_token(label: str) -> str:
    """Symbolic token of a relation (a path step): ``"<r:label>"``."""
    return f"<r:{label}>"


def attribute_token(label: str) -> str:
    """Symbolic token of a comparison attribute or answer: ``"<a:label>"``."""
    return f"<a:{label}>"


def label_token(attribute: str, answer: str) -> str:
    """Per-attribute answer token of Wang et al.'s comparison format: ``"<a:attr:answer>"``."""
    return f"<a:{attribute}:{answer}>"


#: Special tokens of Wang et al.'s comparison format ``<attr> <q> <e1> <mask> <e2>``.
QUERY_TOKEN, MASK_TOKEN = "<q>", "<mask>"


_FORMATS = ("compact", "attribute_first", "entity_first", "wang")


def comparison_tokens(
    attribute: str, e1: str, e2: str, fmt: ComparisonFormat = "compact"
) -> list[str]:
    """Input tokens of a comparison example in one of the formats.

    ``"compact"`` and ``"attribute_first"``: ``<attr> <e1> <e2>``; ``"entity_first"``:
    ``<e1> <attr> <e2> <attr>``; ``"wang"``: Wang et al.'s ``<attr> <q> <e1> <mask> <e2>``.
    The formats differ in how atomic facts are written too (:func:`atomic_tokens`).
    """
    a, x, y = attribute_token(attribute), entity_token(e1), entity_token(e2)
    if fmt in ("compact", "attribute_first"):
        return [a, x, y]
    if fmt == "entity_first":
        return [x, a, y, a]
    if fmt == "wang":
        return [a, QUERY_TOKEN, x, MASK_TOKEN, y]
    raise ValueError(f"format must be one of {', '.join(map(repr, _FORMATS))}, got {fmt!r}")


def atomic_tokens(entity: str, attribute: str, fmt: ComparisonFormat = "compact") -> list[str]:
    """Input tokens of a comparison dataset's atomic fact ``(entity, attribute) -> value``.

    ``<entity> <attr>`` in every format but ``"attribute_first"``, which writes
    ``<attr> <entity>``: then an atomic fact's input is a prefix of the comparison's input
    ``<attr> <e1> <e2>``, so a model reads the first entity's value where the atomic fact
    taught it to (the same holds for ``"entity_first"``, whose comparisons repeat the
    atomic layout ``<e1> <attr>`` for each entity).
    """
    if fmt == "attribute_first":
        return [attribute_token(attribute), entity_token(entity)]
    if fmt in _FORMATS:
        return [entity_token(entity), attribute_token(attribute)]
    raise ValueError(f"format must be one of {', '.join(map(repr, _FORMATS))}, got {fmt!r}")


# ---------------------------------------------------------------------------- records


class Example(BaseModel):
    """One training or test example (one JSONL line; see the module docstring).

    Attributes
    ----------
    id : str
        Stable identifier hashed from task, kind, tokens and answer token.
    split : {"train", "test_id", "test_ood"}
        Where the example is.
    kind : {"atomic", "inferred", "comparison"}
        What it is.
    task : {"composition", "comparison"}
        The dataset's task.
    tokens : list of str
        Symbolic input, one token per entity/relation (Wang et al.'s format).
    answer_token : str
        Symbolic answer.
    question, answer : str
        Verbalized question and answer text.
    hops : int
        Atomic facts composed (1 for atomic facts, 2 for comparisons).
    entities, relations : list of str
        Entities along the path and its relations.
    provenance : Provenance
        Least trustworthy provenance among the path's atomic facts.
    ood : bool
        OOD atomic fact, or an example of ``test_ood``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    split: Split
    kind: Kind
    task: Task
    tokens: list[str] = Field(min_length=1)
    answer_token: str = Field(min_length=1)
    question: str
    answer: str
    hops: int = Field(ge=1)
    entities: list[str]
    relations: list[str]
    provenance: Provenance
    ood: bool

    def to_json(self) -> str:
        """The JSONL line (sorted keys, no spaces, no trailing newline)."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )


def _atomic_example(
    task: Task,
    tokens: list[str],
    head: str,
    relation: str,
    tail: str,
    question: Question,
    provenance: int,
    ood: bool,
) -> Example:
    """The training example of one atomic fact (always in ``train``)."""
    ans = entity_token(tail)
    return Example(
        id=_example_id(task, "atomic", tokens, ans),
        split="train",
        kind="atomic",
        task=task,
        tokens=tokens,
        answer_token=ans,
        question=question.question,
        answer=question.answer,
        hops=1,
        entities=[head, tail],
        relations=[relation],
        provenance=Provenance.from_code(provenance),
        ood=ood,
    )


def _example_id(task: str, kind: str, tokens: Sequence[str], answer_token: str) -> str:
    payload = "\x1f".join([task, kind, *tokens, "\x1e", answer_token])  # unit/record separators
    return f"{kind}-{hashlib.sha1(payload.encode('utf-8')).hexdigest()[:16]}"


class DatasetMeta(BaseModel):
    """How a :class:`Dataset` was built and what it contains (``meta.json``).

    Attributes
    ----------
    format_version : int
        Version of the file layout.
    task : {"composition", "comparison"}
        The task.
    seed : int
        Random seed of the split and the downsampling.
    phi_requested : float
        Requested dataset phi.
    phi : float
        Achieved dataset phi: inferred (or comparison) training examples divided by
        :attr:`id_atomic`. Equals ``phi_requested`` up to rounding unless :attr:`short`.
    id_atomic, ood_atomic : int
        ID and OOD atomic facts (comparison: attribute facts of ID / OOD entities).
    pool : int
        Size of the ID training pool before downsampling (after balancing, if any).
    short : bool
        The pool was smaller than requested and ``allow_short=True`` kept all of it.
    counts : dict
        Per split (``train``, ``train_inferred``, ``test_id``, ``test_ood``), the number
        of examples per kind.
    ood_fraction, test_id_fraction : float
        The split parameters.
    max_test : int or None
        Cap on each test split.
    paths : int or None
        Composition: simple paths enumerated.
    hops : int or None
        Composition: path length.
    directed : bool or None
        Composition: whether edges were walked forwards only.
    ambiguous : {"drop", "keep"} or None
        Composition: what was done with queries that have several answers.
    ambiguous_queries : int
        Queries with more than one distinct answer (composition).
    dropped_ambiguous : int
        Of those, the queries dropped (``ambiguous="drop"``).
    dropped_mixed : int
        Composition: inferred facts dropped because their paths mix ID and OOD facts;
        comparison: ordered pairs of an ID and an OOD entity.
    dropped_mixed_paths : int or None
        Composition: simple paths that mix ID and OOD atomic facts.
    style : {"same", "order"} or None
        Comparison: the answer style.
    format : {"compact", "entity_first", "wang"} or None
        Comparison: the token layout (see :func:`comparison_tokens`).
    both_orders : bool or None
        Comparison: training examples are both orders of chosen pairs (``True``) or
        ordered pairs drawn independently (``False``, Wang et al.).
    attributes : list of str or None
        Comparison: the attribute relations used.
    balance : bool or None
        Comparison: whether the training answers were balanced.
    sampled_pairs : bool or None
        Comparison: pairs were sampled (``max_pairs``) instead of all enumerated.
    answer_counts : dict or None
        Comparison: per split, the number of examples per answer token.
    questions_failed : int
        Examples whose verbalizer reported ``status="failed"`` (kept, counted here).
    questions_review : int
        Examples whose question the verbalizer marked ``status="review"`` (kept: it reads
        as a question, but its wording is doubtful, e.g. an opaque relation id).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: int = FORMAT_VERSION
    task: Task
    seed: int
    phi_requested: float
    phi: float
    id_atomic: int
    ood_atomic: int
    pool: int
    short: bool
    counts: dict[str, dict[str, int]]
    ood_fraction: float
    test_id_fraction: float
    max_test: int | None = None
    paths: int | None = None
    hops: int | None = None
    directed: bool | None = None
    ambiguous: AmbiguousMode | None = None
    ambiguous_queries: int = 0
    dropped_ambiguous: int = 0
    dropped_mixed: int = 0
    dropped_mixed_paths: int | None = None
    style: Style | None = None
    format: ComparisonFormat | None = None
    both_orders: bool | None = None
    attributes: list[str] | None = None
    balance: bool | None = None
    sampled_pairs: bool | None = None
    answer_counts: dict[str, dict[str, int]] | None = None
    questions_failed: int = 0
    questions_review: int = 0

    def to_json(self) -> str:
        """``meta.json`` content (sorted keys, indented, trailing newline)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, indent=2) + "\n"


def _counts(
    train: Sequence[Example], test_id: Sequence[Example], test_ood: Sequence[Example]
) -> dict[str, dict[str, int]]:
    def by_kind(xs: Iterable[Example]) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in xs:
            out[e.kind] = out.get(e.kind, 0) + 1
        return dict(sorted(out.items()))

    return {
        "train": by_kind(train),
        "train_inferred": by_kind(e for e in train if e.kind != "atomic"),
        "test_id": by_kind(test_id),
        "test_ood": by_kind(test_ood),
    }


def _answer_counts(splits: dict[str, Sequence[Example]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name, xs in splits.items():
        c: dict[str, int] = {}
        for e in xs:
            if e.kind != "atomic":
                c[e.answer_token] = c.get(e.answer_token, 0) + 1
        out[name] = dict(sorted(c.items()))
    return out


# ---------------------------------------------------------------------------- Dataset


class Dataset:
    """An ID/OOD dataset: training examples, ID and OOD test examples, and its metadata.

    Build one with :func:`build_composition_dataset` or :func:`build_comparison_dataset`,
    or read one back with :meth:`read_jsonl`.

    Parameters
    ----------
    train, test_id, test_ood : sequence of Example
        The splits; every example's ``split`` must name the split it is in.
    meta : DatasetMeta
        How it was built.
    """

    def __init__(
        self,
        *,
        train: Sequence[Example],
        test_id: Sequence[Example],
        test_ood: Sequence[Example],
        meta: DatasetMeta,
    ) -> None:
        for name, xs in (("train", train), ("test_id", test_id), ("test_ood", test_ood)):
            for e in xs:
                if e.split != name:
                    raise ValueError(f"example {e.id} has split {e.split!r} but is in {name}")
                if e.task != meta.task:
                    raise ValueError(f"example {e.id} has task {e.task!r}, not {meta.task!r}")
        self._train = list(train)
        self._test_id = list(test_id)
        self._test_ood = list(test_ood)
        self._train_inferred = [e for e in self._train if e.kind != "atomic"]
        self._meta = meta

    # ------------------------------------------------------------------ splits
    @property
    def train(self) -> list[Example]:
        """All training examples: atomic facts, then inferred (or comparison) examples."""
        return list(self._train)

    @property
    def train_inferred(self) -> list[Example]:
        """The non-atomic training examples (a view of :attr:`train`, for monitoring)."""
        return list(self._train_inferred)

    @property
    def test_id(self) -> list[Example]:
        """In-distribution test examples (built from ID facts, never trained on)."""
        return list(self._test_id)

    @property
    def test_ood(self) -> list[Example]:
        """Out-of-distribution test examples (built from OOD facts only)."""
        return list(self._test_ood)

    def splits(self) -> dict[str, list[Example]]:
        """``{"train", "train_inferred", "test_id", "test_ood"}`` to their examples."""
        return {
            "train": self.train,
            "train_inferred": self.train_inferred,
            "test_id": self.test_id,
            "test_ood": self.test_ood,
        }

    @property
    def task(self) -> Task:
        """``"composition"`` or ``"comparison"``."""
        return self._meta.task

    @property
    def meta(self) -> DatasetMeta:
        """How the dataset was built and its counts."""
        return self._meta

    @property
    def phi(self) -> float:
        """Achieved dataset phi (inferred training examples / ID atomic facts)."""
        return self._meta.phi

    def vocabulary(self) -> list[str]:
        """Sorted distinct tokens of all splits, answer tokens included."""
        vocab: set[str] = set()
        for xs in (self._train, self._test_id, self._test_ood):
            for e in xs:
                vocab.update(e.tokens)
                vocab.add(e.answer_token)
        return sorted(vocab)

    # ------------------------------------------------------------------ files
    def write_jsonl(self, directory: PathLike) -> Path:
        """Write the splits and ``meta.json`` to ``directory`` (created if needed).

        Every file is written atomically; the same dataset gives byte-identical files
        (sorted keys, fixed separators, no timestamps).

        Returns
        -------
        pathlib.Path
            The directory.
        """
        d = Path(directory)
        for name, xs in self.splits().items():
            with atomic_write(d / FILES[name]) as fh:
                for e in xs:
                    fh.write(e.to_json())
                    fh.write("\n")
        with atomic_write(d / META_FILE) as fh:
            fh.write(self._meta.to_json())
        return d

    @classmethod
    def read_jsonl(cls, directory: PathLike) -> Dataset:
        """Read a dataset written by :meth:`write_jsonl`, validating every line.

        Raises
        ------
        FileNotFoundError
            A file is missing (the message names it).
        KGFormatError
            A malformed line (the message names the file and line), an example in the
            wrong file, a duplicate id, or counts that disagree with ``meta.json``.
        """
        d = Path(directory)
        meta_path = d / META_FILE
        if not meta_path.is_file():
            raise FileNotFoundError(f"no such file: {meta_path}")
        try:
            meta = DatasetMeta.model_validate_json(meta_path.read_text(encoding="utf-8"))
        except ValidationError as e:
            raise KGFormatError(f"invalid meta: {_first_error(e)}", path=meta_path) from None
        seen: dict[str, tuple[Path, int]] = {}
        parts: dict[str, list[Example]] = {}
        for name in FILES:
            path = d / FILES[name]
            xs = _read_examples(path, name, meta.task)
            if name != "train_inferred":
                for line, ex in xs:
                    if ex.id in seen:
                        p0, l0 = seen[ex.id]
                        raise KGFormatError(
                            f"duplicate example id {ex.id!r} (first in {p0.name}, line {l0})",
                            path=path,
                            line=line,
                        )
                    seen[ex.id] = (path, line)
            parts[name] = [ex for _, ex in xs]
        ds = cls(
            train=parts["train"], test_id=parts["test_id"], test_ood=parts["test_ood"], meta=meta
        )
        if ds._train_inferred != parts["train_inferred"]:
            raise KGFormatError(
                "does not match the non-atomic examples of train.jsonl",
                path=d / FILES["train_inferred"],
            )
        counts = _counts(ds._train, ds._test_id, ds._test_ood)
        if counts != meta.counts:
            raise KGFormatError(
                f"counts {meta.counts} disagree with the files ({counts})", path=meta_path
            )
        return ds

    def to_hf(self) -> Any:
        """A ``datasets.DatasetDict`` with one ``datasets.Dataset`` per split.

        Columns are the :class:`Example` fields (``provenance`` as a string). Needs the
        Hugging Face ``datasets`` package.

        Raises
        ------
        ImportError
            ``datasets`` is not installed.
        """
        try:
            hf = importlib.import_module("datasets")
        except ImportError:
            raise ImportError(
                "Dataset.to_hf() needs the Hugging Face datasets package: pip install datasets"
            ) from None
        fields = list(Example.model_fields)
        out = {}
        for name, xs in self.splits().items():
            rows = [e.model_dump(mode="json") for e in xs]
            out[name] = hf.Dataset.from_dict({f: [r[f] for r in rows] for f in fields})
        return hf.DatasetDict(out)

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return (
            self._meta == other._meta
            and self._train == other._train
            and self._test_id == other._test_id
            and self._test_ood == other._test_ood
        )

    __hash__ = None  # type: ignore[assignment]

    def _header(self) -> str:
        m = self._meta
        what = (
            f"{m.hops}-hop, {'directed' if m.directed else 'undirected'}"
            if m.task == "composition"
            else f"style={m.style}, {len(m.attributes or [])} attributes"
        )
        short = " (short: allow_short)" if m.short else ""
        return (
            f"Dataset(task={m.task!r}, {what}, phi={m.phi:.3f} "
            f"(requested {m.phi_requested:g}){short}, seed={m.seed})"
        )

    def _rows(self) -> tuple[list[str], list[list[str]]]:
        other = "inferred" if self.task == "composition" else "comparison"
        header = ["split", "atomic", other, "total"]
        rows = []
        for name, c in self._meta.counts.items():
            a, b = c.get("atomic", 0), c.get(other, 0)
            rows.append([name, str(a), str(b), str(a + b)])
        return header, rows

    def __repr__(self) -> str:
        header, rows = self._rows()
        return self._header() + "\n" + text_table(header, rows)

    def _repr_html_(self) -> str:
        header, rows = self._rows()
        return html_table(header, rows, caption=self._header())


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    return f"{loc}: {err['msg']}" if loc else str(err["msg"])


def _read_examples(path: Path, name: str, task: str) -> list[tuple[int, Example]]:
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    want = "train" if name == "train_inferred" else name
    out: list[tuple[int, Example]] = []
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise KGFormatError(f"not UTF-8: {e.reason}", path=path, line=line_no) from None
            if not line.strip():
                continue
            try:
                ex = Example.model_validate_json(line)
            except ValidationError as e:
                err = e.errors()[0]
                reason = (
                    f"invalid JSON: {err['msg']}"
                    if err["type"] == "json_invalid"
                    else f"invalid example: {_first_error(e)}"
                )
                raise KGFormatError(reason, path=path, line=line_no) from None
            if ex.split != want:
                raise KGFormatError(
                    f"example has split {ex.split!r} in {path.name}", path=path, line=line_no
                )
            if ex.task != task:
                raise KGFormatError(
                    f"example has task {ex.task!r} but meta.json says {task!r}",
                    path=path,
                    line=line_no,
                )
            if name == "train_inferred" and ex.kind == "atomic":
                raise KGFormatError("atomic example in train_inferred", path=path, line=line_no)
            out.append((line_no, ex))
    return out


# ---------------------------------------------------------------------------- helpers


def _check_kg(kg: object) -> KnowledgeGraph:
    if not isinstance(kg, KnowledgeGraph):
        raise TypeError(f"kg must be a KnowledgeGraph, got {type(kg).__name__}")
    if kg.num_facts == 0:
        raise ValueError("kg has no facts")
    return kg


def _check_fraction(value: object, name: str, *, below_one: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    x = float(value)
    hi_ok = x < 1 if below_one else x <= 1
    if not (math.isfinite(x) and x >= 0 and hi_ok):
        bound = "[0, 1)" if below_one else "[0, 1]"
        raise ValueError(f"{name} must lie in {bound}, got {value!r}")
    return x


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_count_arg(value: object, name: str, *, optional: bool) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        extra = " or None" if optional else ""
        raise ValueError(f"{name} must be a positive integer{extra}, got {value!r}")
    return int(value)


def _check_verbalizer(verbalizer: object) -> Verbalizer:
    if verbalizer is None:
        return TemplateVerbalizer()
    if not callable(getattr(verbalizer, "verbalize", None)):
        raise TypeError(
            f"verbalizer must have a verbalize(items) method, got {type(verbalizer).__name__}"
        )
    return cast(Verbalizer, verbalizer)


def _verbalize(verbalizer: Verbalizer, items: list[VerbalizerItem]) -> list[Question]:
    qs = list(verbalizer.verbalize(items))
    if len(qs) != len(items):
        raise ValueError(
            f"the verbalizer returned {len(qs)} questions for {len(items)} items; it must "
            "return one per item, in order"
        )
    return qs


def _cap(idx: IntArray, cap: int | None, rng: np.random.Generator) -> IntArray:
    """At most ``cap`` of ``idx`` (seeded subset, original order kept)."""
    if cap is None or len(idx) <= cap:
        return idx
    return np.sort(rng.choice(idx, size=cap, replace=False))


def _floor4(x: float) -> float:
    return math.floor(x * 1e4) / 1e4


def _short_pool(
    what: str, target: int, pool: int, n_id: int, phi: float, hint: str, allow_short: bool
) -> bool:
    """Whether the pool is short; raises unless ``allow_short``."""
    if pool >= target:
        return False
    if not allow_short:
        raise ValueError(
            f"phi={phi:g} needs round(phi * {n_id} ID atomic facts) = {target} {what} "
            f"training examples, but the ID training pool has only {pool} (achievable "
            f"phi <= {_floor4(pool / n_id):g}{hint}); lower phi, augment the graph "
            f"(more inferred facts), or pass allow_short=True to keep all {pool}"
        )
    return True


# ---------------------------------------------------------------------------- composition


def build_composition_dataset(
    kg: KnowledgeGraph,
    *,
    phi: float = 7.2,
    hops: int = 2,
    ood_fraction: float = 0.05,
    test_id_fraction: float = 0.1,
    seed: int = 0,
    directed: bool = True,
    ambiguous: AmbiguousMode = "drop",
    max_test: int | None = None,
    allow_short: bool = False,
    verbalizer: Verbalizer | None = None,
    max_walks: int = 50_000_000,
) -> Dataset:
    """Composition ID/OOD dataset (Def. 2.6, Wang et al.'s protocol) from any graph.

    1. A seeded ``ood_fraction`` of the atomic facts (``round(ood_fraction * |F_A|)``,
       uniform) is OOD; the rest is ID. Every atomic fact, ID or OOD, is a training
       example (self-loops too, though they never lie on a path).
    2. All simple ``hops``-hop paths are enumerated. An *inferred example* is a query
       ``(h, r1, ..., rn)`` with an answer ``t``: one example per distinct inferred fact,
       not per path.
    3. A query with several distinct answers (several paths, non-functional relations) is
       dropped with ``ambiguous="drop"`` (counted in ``meta.dropped_ambiguous``); with
       ``"keep"`` each (query, answer) is an example.
    4. The query is the unit of the ID/OOD decision, by the strictest rule: it is **OOD**
       only if every path of every answer uses OOD facts only; **ID** only if every such
       path uses ID facts only; otherwise (some path mixes ID and OOD facts, or one answer
       is reachable through ID facts and another through OOD facts) it is **dropped**
       (``meta.dropped_mixed``). Training on a fact that some path derives through an
       OOD fact would use that OOD fact in a training inference, which Def. 2.6 forbids.
    5. OOD queries are ``test_ood``. Each ID query goes to ``test_id`` with probability
       ``test_id_fraction`` (all its answers together), else to the training pool, which
       is downsampled (seeded) to ``round(phi * |ID atomic facts|)`` examples.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph.
    phi : float
        Requested dataset phi: inferred training examples per ID atomic fact (Wang et al.
        grok slowly at 3.6 and faster at 7.2 and above).
    hops : {2, 3}
        Path length of the inferred facts.
    ood_fraction : float
        Fraction of atomic facts held out as OOD, in ``[0, 1)``.
    test_id_fraction : float
        Probability that an ID query is a test example rather than training, in ``[0, 1]``.
    seed : int
        Random seed. The same graph, arguments and seed give the same dataset (and
        byte-identical files); OOD facts, test split and downsampling use independent
        streams, so changing ``phi`` keeps the OOD facts and test sets.
    directed : bool
        ``False`` also walks edges backwards as ``r^-1``.
    ambiguous : {"drop", "keep"}
        Queries with several answers: drop them, or keep one example per answer.
    max_test : int, optional
        Cap on each of ``test_id`` and ``test_ood`` (seeded subset).
    allow_short : bool
        Keep a dataset that falls short (pool smaller than requested, or no OOD test
        example) instead of raising; the achieved phi is in ``meta.phi`` and
        ``meta.short`` is set.
    verbalizer : Verbalizer, optional
        Turns triples and paths into questions (default
        :class:`~kgaug.verbalize.TemplateVerbalizer`). The path shown for a fact with
        several paths is the most trustworthy one (lowest worst provenance), then the
        first in enumeration order; ``provenance`` is that path's.
    max_walks : int
        Refuse graphs with more ``hops``-step walks than this (every simple path is
        listed, which takes memory); raise it if the machine has room.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        An argument out of range; the pool cannot supply ``phi`` (the message gives the
        achievable phi) or no query is OOD, unless ``allow_short``.

    Examples
    --------
    >>> from kgaug.dataset import build_composition_dataset
    >>> from kgaug.datasets import wang_composition
    >>> ds = build_composition_dataset(wang_composition(200, 20, 5), phi=3.0, seed=0)
    >>> ds.phi, len(ds.train_inferred) == round(3.0 * ds.meta.id_atomic)
    (3.0, True)
    """
    kg = _check_kg(kg)
    phi_v = check_positive(phi, "phi")
    n = check_hops(hops)
    ood_f = _check_fraction(ood_fraction, "ood_fraction", below_one=True)
    tid_f = _check_fraction(test_id_fraction, "test_id_fraction")
    s = _check_seed(seed)
    d = check_bool(directed, "directed")
    if ambiguous not in ("drop", "keep"):
        raise ValueError(f"ambiguous must be 'drop' or 'keep', got {ambiguous!r}")
    cap = _check_count_arg(max_test, "max_test", optional=True)
    short_ok = check_bool(allow_short, "allow_short")
    verb = _check_verbalizer(verbalizer)
    _, _, r_pool, r_cap = _rngs(s, 4)
    sp_ = composition_split(
        kg, hops=n, ood_fraction=ood_f, test_id_fraction=tid_f, seed=s, directed=d,
        ambiguous=ambiguous, max_walks=max_walks,
    )  # fmt: skip
    M, n_ood, n_id, ood = sp_.M, sp_.n_ood, sp_.n_id, sp_.ood
    paths, nodes, steps, P = sp_.paths, sp_.nodes, sp_.steps, sp_.P
    path_cat, worst, fact_cat, rep = sp_.path_cat, sp_.worst, sp_.fact_cat, sp_.rep
    ambiguous_q, test_id_f = sp_.ambiguous_q, sp_.test_id_f
    pool, ood_f_idx = sp_.pool, sp_.ood_f_idx

    target = round(phi_v * n_id)
    hint = f" with hops={n}, ood_fraction={ood_f:g}, test_id_fraction={tid_f:g}"
    short = _short_pool("inferred", target, len(pool), n_id, phi_v, hint, short_ok)
    chosen = pool if short else np.sort(r_pool.choice(pool, size=target, replace=False))
    if len(ood_f_idx) == 0:
        if not short_ok:
            raise ValueError(
                f"test_ood is empty: no {n}-hop inferred fact has all its atomic facts among "
                f"the {n_ood} OOD facts (ood_fraction={ood_f:g} of {M}); raise ood_fraction, "
                "augment the graph (more paths), or pass allow_short=True"
            )
        short = True
    test_id_f = _cap(test_id_f, cap, r_cap)
    ood_f_idx = _cap(ood_f_idx, cap, r_cap)

    # ------------------------------------------------------------------ records
    ents, rels, labels = kg.entities, kg.relations, paths.labels
    H, Rl, T = kg.head_ids.tolist(), kg.relation_ids.tolist(), kg.tail_ids.tolist()
    prov = kg.provenance_codes.tolist()
    items: list[VerbalizerItem] = [
        Triple(head=ents[h], relation=rels[r], tail=ents[t], provenance=Provenance.from_code(p))
        for h, r, t, p in zip(H, Rl, T, prov)
    ]
    plan: list[tuple[Split, int]] = [
        *(("train", int(f)) for f in chosen),
        *(("test_id", int(f)) for f in test_id_f),
        *(("test_ood", int(f)) for f in ood_f_idx),
    ]
    items.extend(paths[int(rep[f])] for _, f in plan)
    questions = _verbalize(verb, items)

    splits: dict[Split, list[Example]] = {"train": [], "test_id": [], "test_ood": []}
    ood_l = ood.tolist()
    for i in range(M):
        tokens = [entity_token(ents[H[i]]), relation_token(rels[Rl[i]])]
        splits["train"].append(
            _atomic_example(
                "composition",
                tokens,
                ents[H[i]],
                rels[Rl[i]],
                ents[T[i]],
                questions[i],
                int(prov[i]),
                ood_l[i],
            )
        )
    for (split, f), q in zip(plan, questions[M:]):
        p = int(rep[f])
        path_ents = [ents[v] for v in nodes[p].tolist()]
        path_rels = [labels[x] for x in steps[p].tolist()]
        tokens = [entity_token(path_ents[0]), *(relation_token(r) for r in path_rels)]
        ans = entity_token(path_ents[-1])
        splits[split].append(
            Example(
                id=_example_id("composition", "inferred", tokens, ans),
                split=split,
                kind="inferred",
                task="composition",
                tokens=tokens,
                answer_token=ans,
                question=q.question,
                answer=q.answer,
                hops=n,
                entities=path_ents,
                relations=path_rels,
                provenance=Provenance.from_code(int(worst[p])),
                ood=split == "test_ood",
            )
        )

    mixed_facts = int(np.count_nonzero(fact_cat == _MIXED))
    meta = DatasetMeta(
        task="composition",
        seed=s,
        phi_requested=phi_v,
        phi=len(chosen) / n_id,
        id_atomic=n_id,
        ood_atomic=n_ood,
        pool=len(pool),
        short=short,
        counts=_counts(splits["train"], splits["test_id"], splits["test_ood"]),
        ood_fraction=ood_f,
        test_id_fraction=tid_f,
        max_test=cap,
        paths=P,
        hops=n,
        directed=d,
        ambiguous=ambiguous,
        ambiguous_queries=int(np.count_nonzero(ambiguous_q)),
        dropped_ambiguous=int(np.count_nonzero(ambiguous_q)) if ambiguous == "drop" else 0,
        dropped_mixed=mixed_facts,
        dropped_mixed_paths=int(np.count_nonzero(path_cat == _MIXED)),
        questions_failed=sum(q.status == "failed" for q in questions),
        questions_review=sum(q.status == "review" for q in questions),
    )
    return Dataset(
        train=splits["train"], test_id=splits["test_id"], test_ood=splits["test_ood"], meta=meta
    )


# ---------------------------------------------------------------------------- comparison


def _both_orders(x: IntArray, y: IntArray) -> tuple[IntArray, IntArray]:
    """Ordered pairs ``(x, y), (y, x)`` interleaved."""
    return np.column_stack([x, y]).ravel(), np.column_stack([y, x]).ravel()


def _balanced_pairs(
    same: npt.NDArray[np.bool_],
    weights: tuple[int, int],
    pairs: int,
    rng: np.random.Generator,
) -> tuple[IntArray, int]:
    """Choose unordered pairs with ``same : different = weights`` (about ``pairs`` of them).

    Returns the chosen positions and the largest achievable count in that proportion.
    """
    idx_same = np.flatnonzero(same)
    idx_diff = np.flatnonzero(~same)
    ws, wd = weights
    unit = min(len(idx_same) // ws, len(idx_diff) // wd)
    achievable = unit * (ws + wd)
    k = min(pairs, achievable) // (ws + wd)
    n_same, n_diff = k * ws, k * wd
    rest = min(pairs, achievable) - n_same - n_diff  # remainder: fill from the larger class
    if rest:
        if len(idx_diff) - n_diff >= len(idx_same) - n_same:
            n_diff += rest
        else:
            n_same += rest
    chosen = np.concatenate(
        [
            rng.choice(idx_same, size=min(n_same, len(idx_same)), replace=False),
            rng.choice(idx_diff, size=min(n_diff, len(idx_diff)), replace=False),
        ]
    )
    return np.sort(chosen).astype(np.int64), achievable


def build_comparison_dataset(
    kg: KnowledgeGraph,
    *,
    attributes: Sequence[str] | None = None,
    phi: float = 7.2,
    style: Style = "same",
    ood_fraction: float = 0.1,
    test_id_fraction: float = 0.1,
    balance: bool = True,
    seed: int = 0,
    max_test: int | None = None,
    max_pairs: int = 1_000_000,
    format: ComparisonFormat = "compact",
    both_orders: bool = True,
    allow_short: bool = False,
    verbalizer: Verbalizer | None = None,
) -> Dataset:
    """Comparison ID/OOD dataset (Def. 2.6, Wang et al.'s comparison protocol) from any graph.

    Per attribute relation, the entities that have it are split (seeded) into ID and OOD
    (``round(ood_fraction * n)`` OOD). Ordered pairs ``(X, Y)``, ``X != Y``, are
    classified: two OOD entities → ``test_ood``; two ID entities → ``test_id`` with
    probability ``test_id_fraction``, else the training pool; one of each → dropped
    (``meta.dropped_mixed``). Both orders of a pair are kept and always land in the same
    split (the split is drawn per unordered pair). The training pool is downsampled
    (seeded) to ``round(phi * |ID atomic attribute facts|)`` examples by choosing
    unordered pairs (both orders of each are kept), class-balanced when ``balance``. All
    atomic facts of the attributes are training examples; other relations are not part of
    the dataset.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph.
    attributes : sequence of str, optional
        Attribute relations. Each must be functional (one value per entity), else the
        question "same value?" has no single answer. Default: every functional relation
        with at least 2 facts whose values are shared by several entities (not
        inverse-functional); a relation whose every value is unique would only ever
        answer "no" / never "=". With ``style="order"`` the default keeps those whose
        values all parse as numbers.
    phi : float
        Requested dataset phi: comparison training examples per ID atomic attribute fact.
    style : {"same", "order"}
        ``"same"``: ``yes``/``no`` "same value?" (2WikiMultiHopQA style); ``"order"``:
        ``<``/``=``/``>`` comparing values as numbers (Wang et al.; years, counts).
    ood_fraction : float
        Fraction of each attribute's entities held out as OOD, in ``[0, 1)``.
    test_id_fraction : float
        Probability that an ID pair is a test example, in ``[0, 1]``.
    balance : bool
        Balance the answer classes of the training pool (every class gets the same count,
        up to one) by downsampling. Test splits keep the natural distribution (see
        ``meta.answer_counts``).
    seed : int
        Random seed (same seed, same dataset; independent streams per step).
    max_test : int, optional
        Cap on each of ``test_id`` and ``test_ood`` (seeded subset of ordered pairs).
    max_pairs : int
        Per attribute and category (ID, OOD), the most unordered pairs considered. With
        more, ``max_pairs`` distinct pairs are sampled uniformly instead of enumerating
        all (``meta.sampled_pairs``); memory stays bounded on large graphs.
    format : {"compact", "attribute_first", "entity_first", "wang"}
        Token layout (:func:`comparison_tokens`, :func:`atomic_tokens`): ``"compact"``
        ``<attr> <e1> <e2>`` with atomic facts ``<entity> <attr>``; ``"attribute_first"``
        the same comparisons with atomic facts ``<attr> <entity>`` (a prefix of the
        comparison's input); ``"entity_first"`` ``<e1> <attr> <e2> <attr>``; ``"wang"``
        Wang et al.'s ``<attr> <q> <e1> <mask> <e2>`` with per-attribute answer tokens
        (``<a:attr:<>``, as their causal tracing expects) and atomic ``<entity> <attr>``.
    both_orders : bool
        ``True``: the pool is sampled by unordered pairs and both orders of each chosen pair
        are training examples. ``False`` (Wang et al.'s notebook): ordered examples are
        drawn independently, so a pair may train in one order only.
    allow_short : bool
        Keep a dataset that falls short (pool smaller than requested, no OOD pair)
        instead of raising; ``meta.short`` is set.
    verbalizer : Verbalizer, optional
        Default :class:`~kgaug.verbalize.TemplateVerbalizer`.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        An argument out of range, a non-functional attribute, a value that is not a number
        with ``style="order"`` (the message names the attribute and value), a pool that
        cannot supply ``phi`` or no OOD pair (unless ``allow_short``).

    Examples
    --------
    >>> from kgaug.dataset import build_comparison_dataset
    >>> from kgaug.datasets import wang_comparison
    >>> ds = build_comparison_dataset(wang_comparison(60, 2, 5), phi=3.0, style="order")
    >>> sorted({e.answer for e in ds.train_inferred})
    ['<', '=', '>']
    """
    kg = _check_kg(kg)
    phi_v = check_positive(phi, "phi")
    if style not in _ANSWERS:
        raise ValueError(f"style must be 'same' or 'order', got {style!r}")
    ood_f = _check_fraction(ood_fraction, "ood_fraction", below_one=True)
    tid_f = _check_fraction(test_id_fraction, "test_id_fraction")
    bal = check_bool(balance, "balance")
    s = _check_seed(seed)
    cap = _check_count_arg(max_test, "max_test", optional=True)
    mp = _check_count_arg(max_pairs, "max_pairs", optional=False)
    assert mp is not None
    short_ok = check_bool(allow_short, "allow_short")
    both = check_bool(both_orders, "both_orders")
    if format not in _FORMATS:
        raise ValueError(f"format must be one of {', '.join(map(repr, _FORMATS))}, got {format!r}")
    verb = _check_verbalizer(verbalizer)
    cs = comparison_split(
        kg, attributes=attributes, style=style, ood_fraction=ood_f, test_id_fraction=tid_f,
        seed=s, max_pairs=mp,
    )  # fmt: skip
    _, _, _, r_pool, r_cap = _rngs(s, 5)
    attr_ids, fact_ood, num, sampled = cs.attr_ids, cs.fact_ood, cs.num, cs.sampled
    mixed, n_id, n_ood = cs.mixed, cs.n_id, cs.n_ood
    ux, uy, is_test = cs.ux, cs.uy, cs.is_test
    px, py = ux[~is_test], uy[~is_test]  # training pool, unordered pairs
    ti1, ti2 = _both_orders(ux[is_test], uy[is_test])
    to1, to2 = _both_orders(cs.ox, cs.oy)

    tails = kg.tail_ids

    def answer(f1: IntArray, f2: IntArray) -> IntArray:
        if style == "same":
            return np.where(tails[f1] == tails[f2], 0, 1).astype(np.int64)
        out: IntArray = (np.sign(num[f1] - num[f2]) + 1).astype(np.int64)
        return out

    labels = _ANSWERS[style]
    target = round(phi_v * n_id)
    # training examples come in both orders, so pairs are chosen unordered: target / 2.
    # Balanced classes: "same" -> as many same as different pairs; "order" -> an unequal
    # pair gives one "<" and one ">", an equal pair two "=", so twice as many unequal.
    weights = (1, 1) if style == "same" else (1, 2)  # (same/equal, different/unequal)
    # both orders: choose unordered pairs and keep both orders (target / 2 pairs);
    # independent (Wang et al.): choose among all ordered training examples
    ux_, uy_ = (px, py) if both else _both_orders(px, py)
    want = (target + 1) // 2 if both else target
    same_value = answer(ux_, uy_) == (0 if style == "same" else 1)
    if bal:
        chosen_pairs, achievable_units = _balanced_pairs(same_value, weights, want, r_pool)
        hint = f" with balanced answers, test_id_fraction={tid_f:g}; balance=False may reach more"
    else:
        achievable_units = len(ux_)
        chosen_pairs = (
            np.sort(r_pool.choice(len(ux_), size=want, replace=False))
            if want <= achievable_units
            else np.arange(achievable_units, dtype=np.int64)
        )
        hint = f" with test_id_fraction={tid_f:g}"
    achievable = 2 * achievable_units if both else achievable_units
    if both:
        tr1, tr2 = _both_orders(px[chosen_pairs], py[chosen_pairs])
    else:
        tr1, tr2 = ux_[chosen_pairs], uy_[chosen_pairs]
    if len(tr1) > target:  # odd target: drop the last example of the last pair
        tr1, tr2 = tr1[:target], tr2[:target]
    chosen = np.arange(len(tr1), dtype=np.int64)
    short = _short_pool("comparison", target, achievable, n_id, phi_v, hint, short_ok)
    if len(to1) == 0:
        if not short_ok:
            raise ValueError(
                f"test_ood is empty: no attribute has 2 OOD entities (ood_fraction="
                f"{ood_f:g}); raise ood_fraction, add entities (augment), or pass "
                "allow_short=True"
            )
        short = True
    ti = _cap(np.arange(len(ti1), dtype=np.int64), cap, r_cap)
    to = _cap(np.arange(len(to1), dtype=np.int64), cap, r_cap)
    plan: list[tuple[Split, IntArray, IntArray]] = [
        ("train", tr1[chosen], tr2[chosen]),
        ("test_id", ti1[ti], ti2[ti]),
        ("test_ood", to1[to], to2[to]),
    ]

    # ------------------------------------------------------------------ records
    ents, rels = kg.entities, kg.relations
    attr_facts = np.flatnonzero(np.isin(kg.relation_ids, attr_ids)).tolist()
    H, Rl, T = kg.head_ids.tolist(), kg.relation_ids.tolist(), tails.tolist()
    prov = kg.provenance_codes.tolist()
    items: list[VerbalizerItem] = [
        Triple(
            head=ents[H[f]],
            relation=rels[Rl[f]],
            tail=ents[T[f]],
            provenance=Provenance.from_code(prov[f]),
        )
        for f in attr_facts
    ]
    rows: list[tuple[Split, int, int, str]] = []
    for split, f1, f2 in plan:
        ans = answer(f1, f2).tolist()
        rows.extend(zip([split] * len(f1), f1.tolist(), f2.tolist(), (labels[c] for c in ans)))
    items.extend(
        ComparisonFact(
            entity1=ents[H[g1]],
            entity2=ents[H[g2]],
            attribute=rels[Rl[g1]],
            value1=ents[T[g1]],
            value2=ents[T[g2]],
            style=style,
            answer=word,
        )
        for _, g1, g2, word in rows
    )
    questions = _verbalize(verb, items)
    na = len(attr_facts)

    splits: dict[Split, list[Example]] = {"train": [], "test_id": [], "test_ood": []}
    for f, q in zip(attr_facts, questions[:na]):
        tokens = atomic_tokens(ents[H[f]], rels[Rl[f]], format)
        splits["train"].append(
            _atomic_example(
                "comparison",
                tokens,
                ents[H[f]],
                rels[Rl[f]],
                ents[T[f]],
                q,
                int(prov[f]),
                bool(fact_ood[f]),
            )
        )
    for (split, g1, g2, word), q in zip(rows, questions[na:]):
        e1, e2, attr = ents[H[g1]], ents[H[g2]], rels[Rl[g1]]
        tokens = comparison_tokens(attr, e1, e2, format)
        ans_tok = label_token(attr, word) if format == "wang" else attribute_token(word)
        splits[split].append(
            Example(
                id=_example_id("comparison", "comparison", tokens, ans_tok),
                split=split,
                kind="comparison",
                task="comparison",
                tokens=tokens,
                answer_token=ans_tok,
                question=q.question,
                answer=q.answer,
                hops=2,
                entities=[e1, e2],
                relations=[attr],
                provenance=Provenance.from_code(max(prov[g1], prov[g2])),
                ood=split == "test_ood",
            )
        )

    tr, tid, tood = splits["train"], splits["test_id"], splits["test_ood"]
    meta = DatasetMeta(
        task="comparison",
        seed=s,
        phi_requested=phi_v,
        phi=len(chosen) / n_id,
        id_atomic=n_id,
        ood_atomic=n_ood,
        pool=achievable,
        short=short,
        counts=_counts(tr, tid, tood),
        ood_fraction=ood_f,
        test_id_fraction=tid_f,
        max_test=cap,
        dropped_mixed=mixed,
        style=style,
        format=format,
        both_orders=both,
        attributes=[rels[a] for a in attr_ids],
        balance=bal,
        sampled_pairs=sampled,
        answer_counts=_answer_counts({"train": tr, "test_id": tid, "test_ood": tood}),
        questions_failed=sum(q.status == "failed" for q in questions),
        questions_review=sum(q.status == "review" for q in questions),
    )
    return Dataset(train=tr, test_id=tid, test_ood=tood, meta=meta)

"""The immutable :class:`KnowledgeGraph`.

A knowledge graph ``KG = (V, R, F_A)`` is stored as three aligned integer arrays
(``head_ids``, ``relation_ids``, ``tail_ids``), one row per *distinct* atomic fact, sorted by
``(head, relation, tail)``. Labels, entity types and a provenance per fact live beside them.
Every method that "changes" a graph returns a new one.
"""

from __future__ import annotations

import html
import os
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from kgaug.errors import KGFormatError, UnknownLabelError
from kgaug.records import Entity, LoadReport, Provenance, Triple

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["KGSummary", "KnowledgeGraph"]

IntArray = npt.NDArray[np.int64]
PathLike = str | os.PathLike[str]


def _frozen(a: npt.ArrayLike, dtype: type[np.generic], *, copy: bool = True) -> npt.NDArray[Any]:
    """A read-only array; ``copy=False`` freezes ``a`` itself when it has the dtype."""
    arr = np.array(a, dtype=dtype, copy=True) if copy else np.ascontiguousarray(a, dtype=dtype)
    arr.setflags(write=False)
    return arr


def _int_ids(values: object, name: str) -> IntArray:
    """A 1-d int64 array; floats and booleans are refused rather than truncated."""
    arr = np.asarray(values).ravel()
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _as_provenance(p: Provenance | str) -> Provenance:
    try:
        return Provenance(p)
    except ValueError:
        raise ValueError(
            f"provenance must be one of {[x.value for x in Provenance]}, got {p!r}"
        ) from None


def _merge_facts(
    h: IntArray, r: IntArray, t: IntArray, p: npt.NDArray[np.uint8], n: int, nr: int
) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.uint8]]:
    """The distinct facts, sorted by ``(head, relation, tail)``.

    A repeated fact keeps its smallest provenance code (the most trusted). ``n`` and
    ``nr`` bound the entity and relation ids. The facts are packed into one integer key
    (with the provenance in its two low bits when it varies) and sorted by value, which
    is several times faster than an argsort; a lexicographic sort is kept for id spaces
    too large to pack.
    """
    if not len(h):
        return h.copy(), r.copy(), t.copy(), p.copy()
    n, nr = max(n, 1), max(nr, 1)
    if n * nr * n >= 2**61:  # pragma: no cover - astronomically large id spaces
        order = np.lexsort((t, r, h))
        hs, rs, ts = h[order], r[order], t[order]
        first = np.empty(len(h), dtype=bool)
        first[0] = True
        first[1:] = (hs[1:] != hs[:-1]) | (rs[1:] != rs[:-1]) | (ts[1:] != ts[:-1])
        starts = np.flatnonzero(first)
        return hs[starts], rs[starts], ts[starts], np.minimum.reduceat(p[order], starts)
    uniform = bool(p.min() == p.max())
    key = h * nr  # one key array, updated in place (large inputs: fewer temporaries)
    key += r
    key *= n
    key += t
    if not uniform:
        key *= 4
        key += p
    key.sort()
    if not uniform:
        codes = (key & 3).astype(np.uint8)
        key >>= 2  # equal facts are now adjacent, the smallest code first
    first = np.empty(len(key), dtype=bool)
    first[0] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    uk = key[first]
    prov = np.full(len(uk), p[0], dtype=np.uint8) if uniform else codes[first]
    rest, t = np.divmod(uk, n)
    h, r = np.divmod(rest, nr)
    return h, r, t, prov


def _with_records(kg: KnowledgeGraph, records: int) -> KnowledgeGraph:
    """``kg`` counting ``records`` input records, some merged before :meth:`from_arrays`."""
    rep = kg._load_report
    if rep.records == records and rep.duplicates == records - kg.num_facts:
        return kg
    kg._load_report = rep.model_copy(
        update={"records": records, "duplicates": records - kg.num_facts}
    )
    return kg


class _Builder:
    """Accumulates labelled records and turns them into a :class:`KnowledgeGraph`.

    Used by every constructor and reader so that validation, label interning, type
    conflicts and the load report work the same everywhere.
    """

    #: Pending records that trigger the first merge of duplicates (see :meth:`compact`).
    COMPACT_MIN = 1 << 20

    def __init__(self, source: str = "<memory>", path: PathLike | None = None) -> None:
        self.source = source
        self.path = path
        self.entities: dict[str, int] = {}
        self.relations: dict[str, int] = {}
        self.types: dict[str, int] = {}
        self.entity_type: dict[int, int] = {}
        self.type_line: dict[int, int | None] = {}
        self.heads: list[int] = []
        self.rels: list[int] = []
        self.tails: list[int] = []
        self.prov: list[int] = []
        self.skipped = 0
        self.records = 0  # records added (the pending lists plus the merged arrays)
        self._merged: tuple[IntArray, IntArray, IntArray, npt.NDArray[np.uint8]] | None = None
        self._compact_at = self.COMPACT_MIN  # merge when this many records are pending

    @classmethod
    def extending(cls, kg: KnowledgeGraph, source: str) -> _Builder:
        """A builder that already holds ``kg``'s labels and types (for :meth:`build`)."""
        b = cls(source=source)
        b.entities = {e: i for i, e in enumerate(kg.entities)}
        b.relations = {r: i for i, r in enumerate(kg.relations)}
        b.types = {t: i for i, t in enumerate(kg.types)}
        codes = kg.entity_type_codes
        typed = np.flatnonzero(codes >= 0)
        b.entity_type = dict(zip(typed.tolist(), codes[typed].tolist()))
        b.type_line = dict.fromkeys(typed.tolist())
        return b

    # -- labels ---------------------------------------------------------------------------
    def _check(self, value: object, field: str, line: int | None) -> str:
        if not isinstance(value, str):
            raise KGFormatError(
                f"{field} must be a string, got {type(value).__name__} {value!r}",
                path=self.path,
                line=line,
            )
        if not value.strip():
            raise KGFormatError(f"empty {field}", path=self.path, line=line)
        return value

    @staticmethod
    def _intern(ids: dict[str, int], label: str) -> int:
        i = ids.get(label)
        if i is None:
            i = ids[label] = len(ids)
        return i

    def entity(self, label: str) -> int:
        return self._intern(self.entities, label)

    def relation(self, label: str) -> int:
        return self._intern(self.relations, label)

    # -- records --------------------------------------------------------------------------
    def add(
        self,
        head: object,
        relation: object,
        tail: object,
        provenance: Provenance = Provenance.REAL,
        line: int | None = None,
    ) -> None:
        h = self.entity(self._check(head, "head", line))
        r = self.relation(self._check(relation, "relation", line))
        t = self.entity(self._check(tail, "tail", line))
        self.heads.append(h)
        self.rels.append(r)
        self.tails.append(t)
        self.prov.append(provenance.code)
        self.records += 1
        if len(self.heads) >= self._compact_at:
            self.compact()

    def add_triples(
        self, triples: Iterable[Triple | Sequence[str]], provenance: Provenance
    ) -> None:
        """Add triples or :class:`Triple` records (which keep their own provenance)."""
        for i, tr in enumerate(triples):
            if isinstance(tr, Triple):
                self.add(tr.head, tr.relation, tr.tail, tr.provenance, line=i)
            elif isinstance(tr, Sequence) and not isinstance(tr, (str, bytes)) and len(tr) == 3:
                self.add(tr[0], tr[1], tr[2], provenance, line=i)
            else:
                raise KGFormatError(f"expected a (head, relation, tail) triple, got {tr!r}", line=i)

    def add_columns(
        self,
        heads: Sequence[str],
        relations: Sequence[str],
        tails: Sequence[str],
        provenance: Provenance = Provenance.REAL,
    ) -> None:
        """Bulk add of already validated string columns (fast path for big files)."""
        ent = self.entities
        rel = self.relations
        sd = ent.setdefault
        self.heads.extend([sd(x, len(ent)) for x in heads])
        self.tails.extend([sd(x, len(ent)) for x in tails])
        rsd = rel.setdefault
        self.rels.extend([rsd(x, len(rel)) for x in relations])
        self.prov.extend([provenance.code] * len(heads))
        self.records += len(heads)
        if len(self.heads) >= self._compact_at:
            self.compact()

    def _arrays(self) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.uint8]]:
        """The merged facts followed by the pending records, as arrays."""
        pending = (
            np.asarray(self.heads, dtype=np.int64),
            np.asarray(self.rels, dtype=np.int64),
            np.asarray(self.tails, dtype=np.int64),
            np.asarray(self.prov, dtype=np.uint8),
        )
        if self._merged is None:
            return pending
        h, r, t, p = (np.concatenate([m, x]) for m, x in zip(self._merged, pending))
        return h, r, t, p

    def compact(self) -> None:
        """Merge duplicate records now (the most trusted provenance wins), in place.

        Readers stream records into the builder; merging whenever the pending records
        reach the number of distinct facts so far (at least :attr:`COMPACT_MIN`) keeps the
        memory proportional to the distinct facts, not to the lines read (a file of one
        triple repeated a billion times), at an amortized ``O(log)`` cost per record.
        """
        h, r, t, p = self._arrays()
        self.heads, self.rels, self.tails, self.prov = [], [], [], []
        h, r, t, p = _merge_facts(h, r, t, p, len(self.entities), len(self.relations))
        self._merged = (h, r, t, p)
        self._compact_at = max(self.COMPACT_MIN, len(h))

    def set_type(
        self, entity: object, type_: object, line: int | None = None, *, override: bool = False
    ) -> None:
        e = self.entity(self._check(entity, "entity", line))
        if type_ is None:
            return
        tlabel = self._check(type_, "entity type", line)
        tid = self.types.setdefault(tlabel, len(self.types))
        old = self.entity_type.get(e)
        if old is not None and old != tid and not override:
            types = list(self.types)
            first = self.type_line.get(e)
            seen = f" (first typed at line {first})" if first is not None else ""
            raise KGFormatError(
                f"entity {entity!r} typed {tlabel!r} but was already typed {types[old]!r}{seen}",
                path=self.path,
                line=line,
            )
        self.entity_type[e] = tid
        self.type_line.setdefault(e, line)

    def build(self, base: KnowledgeGraph | None = None) -> KnowledgeGraph:
        """The graph of the added records, after the facts of ``base`` if given."""
        etypes = np.full(len(self.entities), -1, dtype=np.int32)
        if self.entity_type:
            idx = np.fromiter(self.entity_type.keys(), dtype=np.int64)
            etypes[idx] = np.fromiter(self.entity_type.values(), dtype=np.int32)
        arrays: list[npt.NDArray[Any]] = list(self._arrays())
        records = self.records
        if base is not None:
            old = (base.head_ids, base.relation_ids, base.tail_ids, base.provenance_codes)
            arrays = [np.concatenate([o, a]) for o, a in zip(old, arrays)]
            records += base.num_facts
        h, r, t, prov = arrays
        kg = KnowledgeGraph.from_arrays(
            h,
            r,
            t,
            entities=list(self.entities),
            relations=list(self.relations),
            entity_types=etypes,
            types=list(self.types),
            provenance=prov,
            source=self.source,
            records=records,
            skipped=self.skipped,
        )
        return _with_records(kg, records)


class KGSummary(BaseModel):
    """Counts that describe a knowledge graph at a glance (see :meth:`KnowledgeGraph.summary`)."""

    model_config = ConfigDict(frozen=True)

    num_entities: int
    num_relations: int
    num_facts: int
    num_types: int
    untyped_entities: int
    self_loops: int
    branching: float | None
    facts_per_relation: dict[str, int]
    entities_per_type: dict[str, int]
    facts_per_provenance: dict[str, int]

    def __str__(self) -> str:
        b = "n/a" if self.branching is None else f"{self.branching:.3f}"
        lines = [
            f"{self.num_entities} entities, {self.num_relations} relations, "
            f"{self.num_facts} facts (b = |F_A|/|V| = {b}), {self.self_loops} self-loops",
            "provenance: " + ", ".join(f"{k} {v}" for k, v in self.facts_per_provenance.items()),
        ]
        if self.entities_per_type:
            lines.append(
                "types: "
                + ", ".join(f"{k} {v}" for k, v in self.entities_per_type.items())
                + (f", untyped {self.untyped_entities}" if self.untyped_entities else "")
            )
        width = max([len("relation"), *(len(r) for r in self.facts_per_relation)])
        lines.append(f"{'relation':<{width}}  facts")
        lines.extend(f"{r:<{width}}  {c:>5}" for r, c in self.facts_per_relation.items())
        return "\n".join(lines)


class KnowledgeGraph:
    """An immutable knowledge graph of distinct typed triples.

    Build one with :meth:`from_triples`, :meth:`from_tsv`, :meth:`from_jsonl`,
    :meth:`from_csv`, :meth:`from_networkx` or :meth:`from_2wiki`; the low-level
    :meth:`from_arrays` takes integer id arrays. Duplicate triples are merged (the merge is
    counted in :attr:`load_report`); when a duplicate carries a different provenance the
    most trustworthy one is kept (real over synthetic over counterfactual).

    Examples
    --------
    >>> kg = KnowledgeGraph.from_triples(
    ...     [("Barack Obama", "spouse", "Michelle Obama"),
    ...      ("Michelle Obama", "born in", "Chicago")],
    ...     entity_types={"Barack Obama": "Person", "Chicago": "Location"},
    ... )
    >>> kg.num_entities, kg.num_relations, kg.num_facts
    (3, 2, 2)
    >>> kg.entity_type("Chicago")
    'Location'
    """

    __slots__ = (
        "_cache",
        "_entities",
        "_entity_index",
        "_etypes",
        "_heads",
        "_load_report",
        "_prov",
        "_relation_index",
        "_relations",
        "_rels",
        "_tails",
        "_types",
    )

    _heads: IntArray
    _rels: IntArray
    _tails: IntArray
    _prov: npt.NDArray[np.uint8]
    _etypes: npt.NDArray[np.int32]
    _entities: tuple[str, ...]
    _relations: tuple[str, ...]
    _types: tuple[str, ...]
    _entity_index: dict[str, int] | None
    _relation_index: dict[str, int] | None
    _load_report: LoadReport
    _cache: dict[Hashable, Any]

    def __init__(self) -> None:
        raise TypeError(
            "build a KnowledgeGraph with KnowledgeGraph.from_triples(), from_tsv(), "
            "from_jsonl(), from_csv(), from_networkx(), from_2wiki() or from_arrays()"
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(
        cls,
        heads: npt.ArrayLike,
        relation_ids: npt.ArrayLike,
        tails: npt.ArrayLike,
        *,
        entities: Sequence[str],
        relations: Sequence[str],
        entity_types: npt.ArrayLike | None = None,
        types: Sequence[str] = (),
        provenance: npt.ArrayLike | Provenance | str = Provenance.REAL,
        source: str = "<arrays>",
        records: int | None = None,
        skipped: int = 0,
    ) -> KnowledgeGraph:
        """Build a graph from integer id arrays.

        Parameters
        ----------
        heads, relation_ids, tails : array_like of int
            Aligned id arrays, one entry per (possibly repeated) triple.
        entities, relations : sequence of str
            Labels; ``heads``/``tails`` index ``entities`` and ``relation_ids`` indexes
            ``relations``. Labels must be unique and non-empty.
        entity_types : array_like of int, optional
            Type code per entity indexing ``types``; ``-1`` means untyped.
        types : sequence of str
            Type labels.
        provenance : array_like of int, Provenance or str
            One provenance for all facts, or a code per triple (see :class:`Provenance`).
        source : str
            Shown in :attr:`load_report`.
        records, skipped : int
            Bookkeeping for :attr:`load_report` (records defaults to the number of triples).

        Returns
        -------
        KnowledgeGraph
        """
        h, r, t = (
            _int_ids(x, name)
            for x, name in ((heads, "heads"), (relation_ids, "relation_ids"), (tails, "tails"))
        )
        if not (len(h) == len(r) == len(t)):
            raise ValueError(
                f"heads, relation_ids and tails must have the same length, got "
                f"{len(h)}, {len(r)}, {len(t)}"
            )
        ent = tuple(entities)
        rel = tuple(relations)
        typ = tuple(types)
        for name, labels in (("entities", ent), ("relations", rel), ("types", typ)):
            bad = [x for x in labels if not isinstance(x, str) or not x.strip()]
            if bad:
                raise ValueError(f"{name} labels must be non-empty strings, got {bad[0]!r}")
            if len(set(labels)) != len(labels):
                seen: set[str] = set()
                dup = next(x for x in labels if x in seen or seen.add(x))  # type: ignore[func-returns-value]
                raise ValueError(f"{name} labels must be unique; {dup!r} appears twice")
        n, nr = len(ent), len(rel)
        for name, arr, hi in (("heads", h, n), ("relation_ids", r, nr), ("tails", t, n)):
            if len(arr) and (arr.min() < 0 or arr.max() >= hi):
                bad_i = int(np.flatnonzero((arr < 0) | (arr >= hi))[0])
                raise ValueError(
                    f"{name}[{bad_i}] = {int(arr[bad_i])} is out of range for "
                    f"{hi} {'relations' if name == 'relation_ids' else 'entities'}"
                )
        if isinstance(provenance, (Provenance, str)):
            prov = np.full(len(h), _as_provenance(provenance).code, dtype=np.uint8)
        else:
            codes = _int_ids(provenance, "provenance")
            if len(codes) != len(h):
                raise ValueError(f"provenance has {len(codes)} entries for {len(h)} triples")
            if len(codes) and (codes.min() < 0 or codes.max() >= len(Provenance)):
                raise ValueError(f"provenance codes must lie in 0..{len(Provenance) - 1}")
            prov = codes.astype(np.uint8)
        if entity_types is None:
            et = np.full(n, -1, dtype=np.int32)
        else:
            et = _int_ids(entity_types, "entity_types").astype(np.int32)
            if len(et) != n:
                raise ValueError(f"entity_types has {len(et)} entries for {n} entities")
            if len(et) and (et.min() < -1 or et.max() >= len(typ)):
                raise ValueError(f"entity type codes must lie in -1..{len(typ) - 1}")

        return cls._from_valid(h, r, t, ent, rel, typ, prov, et, source, records, skipped)

    @classmethod
    def _from_valid(
        cls,
        h: IntArray,
        r: IntArray,
        t: IntArray,
        ent: tuple[str, ...],
        rel: tuple[str, ...],
        typ: tuple[str, ...],
        prov: npt.NDArray[np.uint8],
        et: npt.NDArray[np.int32],
        source: str,
        records: int | None,
        skipped: int,
    ) -> KnowledgeGraph:
        """:meth:`from_arrays` of arrays and labels already checked (``et`` is kept)."""
        # canonical order (head, relation, tail); duplicates merged, most trusted provenance kept
        n_in = len(h)
        h, r, t, prov = _merge_facts(h, r, t, prov, len(ent), len(rel))
        total = n_in if records is None else records
        self = object.__new__(cls)
        self._heads = _frozen(h, np.int64, copy=False)
        self._rels = _frozen(r, np.int64, copy=False)
        self._tails = _frozen(t, np.int64, copy=False)
        self._prov = _frozen(prov, np.uint8, copy=False)
        self._etypes = _frozen(et, np.int32, copy=False)
        self._entities = ent
        self._relations = rel
        self._types = typ
        self._entity_index = None
        self._relation_index = None
        self._cache = {}
        self._load_report = LoadReport(
            source=source,
            records=total,
            duplicates=n_in - len(h),
            self_loops=int(np.count_nonzero(h == t)),
            skipped=skipped,
        )
        return self

    @classmethod
    def from_triples(
        cls,
        triples: Iterable[Triple | Sequence[str]],
        *,
        entity_types: Mapping[str, str | None] | None = None,
        provenance: Provenance | str = Provenance.REAL,
        relations: Iterable[str] = (),
        entities: Iterable[str] = (),
    ) -> KnowledgeGraph:
        """Build a graph from ``(head, relation, tail)`` triples.

        Parameters
        ----------
        triples : iterable of (str, str, str) or Triple
            The atomic facts. A :class:`Triple` keeps its own provenance.
        entity_types : mapping of str to str, optional
            Type per entity (Person, Location, Object, ...). Entities named here but in no
            triple are added as isolated entities (they count in ``|V|``).
        provenance : Provenance or str
            Provenance of the plain tuples (default ``"real"``).
        relations, entities : iterable of str
            Extra labels to declare even if no triple uses them (a declared relation with
            no facts shows up with explicit zeros in reports).

        Returns
        -------
        KnowledgeGraph

        Raises
        ------
        KGFormatError
            A triple is not three non-empty strings; the message names its index.
        """
        b = _Builder(source="<triples>")
        b.add_triples(triples, _as_provenance(provenance))
        for rl in relations:
            b.relation(b._check(rl, "relation", None))
        for e in entities:
            b.entity(b._check(e, "entity", None))
        for e, ty in (entity_types or {}).items():
            b.set_type(e, ty)
        kg = b.build()
        return kg

    @classmethod
    def from_tsv(
        cls,
        path: PathLike,
        *,
        header: bool = False,
        engine: Literal["auto", "python", "pyarrow"] = "auto",
        **options: Any,
    ) -> KnowledgeGraph:
        """Read ``head<TAB>relation<TAB>tail`` lines (PyKEEN convention; ``.gz`` works).

        ``engine="pyarrow"`` parses with pyarrow (``pip install "kgaug[fast]"``);
        ``"auto"`` uses it for large UTF-8 files when installed; the graph is the same.
        Entity ids: heads in order of first appearance, then the entities that are only
        tails. See :func:`kgaug.io.read_tsv` (``encoding``, ``max_line_bytes``).
        """
        from kgaug.io import read_tsv

        return read_tsv(path, header=header, engine=engine, **options)

    @classmethod
    def from_jsonl(cls, path: PathLike, **options: Any) -> KnowledgeGraph:
        """Read one JSON object per line. See :func:`kgaug.io.read_jsonl`."""
        from kgaug.io import read_jsonl

        return read_jsonl(path, **options)

    @classmethod
    def from_csv(
        cls,
        path: PathLike,
        *,
        engine: Literal["auto", "python", "pyarrow"] = "auto",
        **options: Any,
    ) -> KnowledgeGraph:
        """Read a CSV file with named columns (``engine`` as for :meth:`from_tsv`).

        See :func:`kgaug.io.read_csv` (column names, ``delimiter``, ``encoding``).
        """
        from kgaug.io import read_csv

        return read_csv(path, engine=engine, **options)

    @classmethod
    def from_pykeen(cls, triples_factory: Any) -> KnowledgeGraph:
        """The facts of a PyKEEN ``TriplesFactory``, with its ids (needs ``kgaug[pykeen]``).

        See :func:`kgaug.io.from_pykeen`; :func:`kgaug.datasets.load_pykeen` loads the
        datasets that ship inside PyKEEN by name.
        """
        from kgaug.io import from_pykeen

        return from_pykeen(triples_factory)

    @classmethod
    def from_parquet(cls, path: PathLike, **options: Any) -> KnowledgeGraph:
        """Read a Parquet file, one fact per row (needs ``kgaug[parquet]``).

        See :func:`kgaug.io.read_parquet` (column names, types, provenance).
        """
        from kgaug.io import read_parquet

        return read_parquet(path, **options)

    @classmethod
    def from_2wiki(cls, path: PathLike, **options: Any) -> KnowledgeGraph:
        """Typed graph from 2WikiMultiHopQA ``evidences``; see :func:`kgaug.io.read_2wiki`."""
        from kgaug.io import read_2wiki

        return read_2wiki(path, **options)

    @classmethod
    def from_networkx(
        cls,
        graph: nx.DiGraph | nx.MultiDiGraph,
        *,
        relation: str = "relation",
        type_attr: str = "type",
    ) -> KnowledgeGraph:
        """Build a graph from a directed networkx graph.

        The relation of an edge is its ``relation`` attribute; on a ``MultiDiGraph`` the
        edge key is used when the attribute is missing. Node attribute ``type`` becomes the
        entity type and edge attribute ``provenance`` is honoured. Node labels are turned
        into strings.

        Raises
        ------
        ValueError
            The graph is undirected (call ``graph.to_directed()`` first to get both
            directions), or an edge has no relation.
        """
        from kgaug.io import from_networkx

        return from_networkx(graph, relation=relation, type_attr=type_attr)

    # ------------------------------------------------------------------ basic properties
    @property
    def num_entities(self) -> int:
        """``|V|``: number of entities (isolated ones included)."""
        return len(self._entities)

    @property
    def num_relations(self) -> int:
        """``|R|``: number of relation labels (declared ones without facts included)."""
        return len(self._relations)

    @property
    def num_facts(self) -> int:
        """``|F_A|``: number of distinct atomic facts."""
        return len(self._heads)

    def __len__(self) -> int:
        return self.num_facts

    @property
    def entities(self) -> tuple[str, ...]:
        """Entity labels; position = entity id."""
        return self._entities

    @property
    def relations(self) -> tuple[str, ...]:
        """Relation labels; position = relation id."""
        return self._relations

    @property
    def types(self) -> tuple[str, ...]:
        """Entity type labels; position = type code."""
        return self._types

    @property
    def head_ids(self) -> IntArray:
        """Head entity id per fact (read-only, canonical order)."""
        return self._heads

    @property
    def relation_ids(self) -> IntArray:
        """Relation id per fact (read-only, canonical order)."""
        return self._rels

    @property
    def tail_ids(self) -> IntArray:
        """Tail entity id per fact (read-only, canonical order)."""
        return self._tails

    @property
    def provenance_codes(self) -> npt.NDArray[np.uint8]:
        """Provenance code per fact (see :attr:`Provenance.code`)."""
        return self._prov

    @property
    def entity_type_codes(self) -> npt.NDArray[np.int32]:
        """Type code per entity (``-1`` = untyped)."""
        return self._etypes

    @property
    def load_report(self) -> LoadReport:
        """How the graph was read: records, merged duplicates, self-loops, skipped lines."""
        return self._load_report

    @property
    def branching(self) -> float | None:
        """Average branching factor ``b = |F_A| / |V|`` (``None`` for an empty graph)."""
        return self.num_facts / self.num_entities if self.num_entities else None

    # ------------------------------------------------------------------ lookups
    def _entity_ids(self) -> dict[str, int]:
        if self._entity_index is None:
            self._entity_index = {e: i for i, e in enumerate(self._entities)}
        return self._entity_index

    def entity_id(self, label: str) -> int:
        """Id of an entity label; :class:`~kgaug.errors.UnknownLabelError` lists close matches."""
        try:
            return self._entity_ids()[label]
        except KeyError:
            raise UnknownLabelError("entity", label, self._entities) from None

    def relation_id(self, label: str) -> int:
        """Id of a relation label; :class:`~kgaug.errors.UnknownLabelError` lists close matches."""
        if self._relation_index is None:
            self._relation_index = {r: i for i, r in enumerate(self._relations)}
        try:
            return self._relation_index[label]
        except KeyError:
            raise UnknownLabelError("relation", label, self._relations) from None

    def has_entity(self, label: str) -> bool:
        """Whether ``label`` is an entity of this graph."""
        return label in self._entity_ids()

    def entity_type(self, label: str) -> str | None:
        """Type of an entity (``None`` when untyped)."""
        code = int(self._etypes[self.entity_id(label)])
        return None if code < 0 else self._types[code]

    def entity(self, label: str) -> Entity:
        """The :class:`Entity` record for ``label``."""
        return Entity(name=label, type=self.entity_type(label))

    def __contains__(self, triple: object) -> bool:
        if isinstance(triple, Triple):
            triple = triple.as_tuple()
        if not isinstance(triple, tuple) or len(triple) != 3:
            return False
        ents = self._entity_ids()
        if self._relation_index is None:
            self._relation_index = {r: i for i, r in enumerate(self._relations)}
        try:
            h = ents[triple[0]]
            r = self._relation_index[triple[1]]
            t = ents[triple[2]]
        except (KeyError, TypeError):
            return False
        lo = np.searchsorted(self._heads, h, "left")
        hi = np.searchsorted(self._heads, h, "right")
        rows = slice(int(lo), int(hi))
        return bool(np.any((self._rels[rows] == r) & (self._tails[rows] == t)))

    # ------------------------------------------------------------------ iteration
    def triples(self) -> Iterator[tuple[str, str, str]]:
        """Iterate over ``(head, relation, tail)`` label tuples in canonical order."""
        e, rl = self._entities, self._relations
        for h, r, t in zip(self._heads.tolist(), self._rels.tolist(), self._tails.tolist()):
            yield (e[h], rl[r], e[t])

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        return self.triples()

    def records(self) -> Iterator[Triple]:
        """Iterate over :class:`Triple` records (with provenance)."""
        for (h, r, t), p in zip(self.triples(), self._prov.tolist()):
            yield Triple(head=h, relation=r, tail=t, provenance=Provenance.from_code(p))

    # ------------------------------------------------------------------ counts
    def relation_counts(self) -> dict[str, int]:
        """Number of atomic facts ``|F_{A,r}|`` per relation (zeros included)."""
        c = np.bincount(self._rels, minlength=self.num_relations)
        return dict(zip(self._relations, c.tolist()))

    def provenance_counts(self) -> dict[str, int]:
        """Number of facts per provenance."""
        c = np.bincount(self._prov, minlength=len(Provenance))
        return {p.value: int(c[p.code]) for p in Provenance}

    def type_counts(self) -> dict[str, int]:
        """Number of entities per type (untyped entities are not listed)."""
        typed = self._etypes[self._etypes >= 0]
        c = np.bincount(typed, minlength=len(self._types))
        return dict(zip(self._types, c.tolist()))

    def summary(self) -> KGSummary:
        """Counts that describe the graph (printable)."""
        return KGSummary(
            num_entities=self.num_entities,
            num_relations=self.num_relations,
            num_facts=self.num_facts,
            num_types=len(self._types),
            untyped_entities=int(np.count_nonzero(self._etypes < 0)),
            self_loops=int(np.count_nonzero(self._heads == self._tails)),
            branching=self.branching,
            facts_per_relation=self.relation_counts(),
            entities_per_type=self.type_counts(),
            facts_per_provenance=self.provenance_counts(),
        )

    # ------------------------------------------------------------------ derived graphs
    def add_facts(
        self,
        triples: Iterable[Triple | Sequence[str]],
        *,
        provenance: Provenance | str = Provenance.SYNTHETIC,
        entity_types: Mapping[str, str | None] | None = None,
    ) -> KnowledgeGraph:
        """Return a new graph with extra facts (new entities and relations are created).

        Parameters
        ----------
        triples : iterable of (str, str, str) or Triple
            Facts to add; plain tuples get ``provenance``.
        provenance : Provenance or str
            Default ``"synthetic"``.
        entity_types : mapping, optional
            Types for new entities (or to type untyped ones). Re-typing an entity that
            already has a different type is an error.
        """
        b = _Builder.extending(self, source=f"{self._load_report.source} + added facts")
        b.add_triples(triples, _as_provenance(provenance))
        for ent, ety in (entity_types or {}).items():
            b.set_type(ent, ety)
        return b.build(base=self)

    def with_entity_types(self, entity_types: Mapping[str, str | None]) -> KnowledgeGraph:
        """Return a copy whose entities are (re)typed from ``entity_types``.

        ``None`` removes a type. Entities not named keep theirs; unknown entities raise
        :class:`~kgaug.errors.UnknownLabelError`.
        """
        types = list(self._types)
        tindex = {t: i for i, t in enumerate(types)}
        et = self._etypes.copy()
        for e, ty in entity_types.items():
            i = self.entity_id(e)
            if ty is None:
                et[i] = -1
                continue
            if ty not in tindex:
                tindex[ty] = len(types)
                types.append(ty)
            et[i] = tindex[ty]
        return self._replace(entity_types=et, types=types)

    def subgraph(
        self,
        *,
        relations: Iterable[str] | None = None,
        provenance: Iterable[Provenance | str] | None = None,
        drop_isolated: bool = False,
    ) -> KnowledgeGraph:
        """Facts restricted to some relations and/or provenances.

        Parameters
        ----------
        relations : iterable of str, optional
            Relation labels to keep (unknown labels raise with close matches).
        provenance : iterable of Provenance or str, optional
            Provenances to keep, e.g. ``["real"]`` for the original graph.
        drop_isolated : bool
            Also drop entities and relations left without facts (``|V|`` changes, so phi's
            branching factors do too). Default keeps the vocabulary.
        """
        mask = np.ones(self.num_facts, dtype=bool)
        if relations is not None:
            ids = [self.relation_id(r) for r in relations]
            mask &= np.isin(self._rels, ids)
        if provenance is not None:
            codes = [_as_provenance(p).code for p in provenance]
            mask &= np.isin(self._prov, codes)
        h, r, t = self._heads[mask], self._rels[mask], self._tails[mask]
        ents: Sequence[str] = self._entities
        rels: Sequence[str] = self._relations
        et = self._etypes
        if drop_isolated:
            used = np.unique(np.concatenate([h, t]))
            remap = np.full(self.num_entities, -1, dtype=np.int64)
            remap[used] = np.arange(len(used))
            h, t = remap[h], remap[t]
            ents = [self._entities[i] for i in used.tolist()]
            et = et[used]
            rused = np.unique(r)
            rremap = np.full(self.num_relations, -1, dtype=np.int64)
            rremap[rused] = np.arange(len(rused))
            r = rremap[r]
            rels = [self._relations[i] for i in rused.tolist()]
        return KnowledgeGraph.from_arrays(
            h,
            r,
            t,
            entities=ents,
            relations=rels,
            entity_types=et,
            types=self._types,
            provenance=self._prov[mask],
            source=f"subgraph of {self._load_report.source}",
        )

    def _replace(self, **changes: Any) -> KnowledgeGraph:
        args: dict[str, Any] = {
            "entities": self._entities,
            "relations": self._relations,
            "entity_types": self._etypes,
            "types": self._types,
            "provenance": self._prov,
            "source": self._load_report.source,
        }
        args.update(changes)
        kg = KnowledgeGraph.from_arrays(self._heads, self._rels, self._tails, **args)
        kg._load_report = self._load_report  # same facts, same history
        return kg

    # ------------------------------------------------------------------ export
    def to_networkx(self) -> nx.MultiDiGraph:
        """Return a ``networkx.MultiDiGraph``.

        Nodes are entity labels with attribute ``type``; each fact is an edge keyed by its
        relation label, with attributes ``relation`` and ``provenance``.
        """
        from kgaug.io import to_networkx

        return to_networkx(self)

    def to_tsv(self, path: PathLike) -> None:
        """Write ``head<TAB>relation<TAB>tail`` lines atomically. See :func:`kgaug.io.write_tsv`."""
        from kgaug.io import write_tsv

        write_tsv(self, path)

    def to_jsonl(self, path: PathLike) -> None:
        """Write typed JSON lines atomically. See :func:`kgaug.io.write_jsonl`."""
        from kgaug.io import write_jsonl

        write_jsonl(self, path)

    def to_pykeen(self, *, create_inverse_triples: bool = False) -> Any:
        """A PyKEEN ``TriplesFactory`` of the facts (needs ``kgaug[pykeen]``).

        See :func:`kgaug.io.to_pykeen`.
        """
        from kgaug.io import to_pykeen

        return to_pykeen(self, create_inverse_triples=create_inverse_triples)

    def to_parquet(self, path: PathLike) -> None:
        """Write Parquet atomically, with types and provenance (needs ``kgaug[parquet]``).

        See :func:`kgaug.io.write_parquet`.
        """
        from kgaug.io import write_parquet

        write_parquet(self, path)

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other: object) -> bool:
        """Same entities (with types), relations and facts (with provenance).

        Integer ids do not matter: a graph read back from a file in another order is equal.
        """
        if not isinstance(other, KnowledgeGraph):
            return NotImplemented
        if self.num_facts != other.num_facts or set(self._entities) != set(other._entities):
            return False
        if set(self._relations) != set(other._relations):
            return False
        return self._canonical() == other._canonical()

    def _canonical(self) -> tuple[bytes, ...]:
        """Id-independent fingerprint: arrays over label-sorted ids, as bytes."""

        def build() -> tuple[bytes, ...]:
            e_rank = np.empty(self.num_entities, dtype=np.int64)
            e_rank[np.argsort(np.array(self._entities, dtype=object))] = np.arange(
                self.num_entities
            )
            r_rank = np.empty(self.num_relations, dtype=np.int64)
            r_rank[np.argsort(np.array(self._relations, dtype=object))] = np.arange(
                self.num_relations
            )
            h, r, t = e_rank[self._heads], r_rank[self._rels], e_rank[self._tails]
            order = np.lexsort((t, r, h))
            type_of = np.array([*self._types, ""], dtype=object)[self._etypes]
            types_sorted = type_of[np.argsort(e_rank)]
            return (
                h[order].tobytes(),
                r[order].tobytes(),
                t[order].tobytes(),
                self._prov[order].tobytes(),
                "\x00".join(types_sorted.tolist()).encode(),
            )

        result: tuple[bytes, ...] = self._cached("canonical", build)
        return result

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        prov = self.provenance_counts()
        extra = ", ".join(f"{k}={v}" for k, v in prov.items() if k != "real" and v)
        return (
            f"KnowledgeGraph(entities={self.num_entities}, relations={self.num_relations}, "
            f"facts={self.num_facts}, types={len(self._types)}"
            + (f", {extra}" if extra else "")
            + ")"
        )

    def _repr_html_(self) -> str:
        s = self.summary()
        esc = html.escape
        b = "n/a" if s.branching is None else f"{s.branching:.3f}"
        rows = "".join(
            f"<tr><td>{esc(r)}</td><td style='text-align:right'>{c}</td></tr>"
            for r, c in s.facts_per_relation.items()
        )
        types = ", ".join(f"{esc(k)}: {v}" for k, v in s.entities_per_type.items()) or "none"
        prov = ", ".join(f"{k}: {v}" for k, v in s.facts_per_provenance.items())
        return (
            "<div><b>KnowledgeGraph</b> "
            f"{s.num_entities} entities, {s.num_relations} relations, {s.num_facts} facts, "
            f"b = {b}<br>types: {types}<br>provenance: {prov}"
            "<table><thead><tr><th>relation</th><th>facts</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )

    def __getstate__(self) -> dict[str, Any]:
        return {
            s: getattr(self, s)
            for s in self.__slots__
            if s not in ("_cache", "_entity_index", "_relation_index")
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            if isinstance(v, np.ndarray):
                v.setflags(write=False)
            object.__setattr__(self, k, v)
        self._cache = {}
        self._entity_index = None
        self._relation_index = None

    def clear_cache(self) -> None:
        """Drop cached index structures (they are rebuilt on the next count)."""
        self._cache.clear()

    def _cached(self, key: Hashable, factory: Any) -> Any:
        """Per-graph cache for derived index structures (the graph is immutable)."""
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = factory()
            return value

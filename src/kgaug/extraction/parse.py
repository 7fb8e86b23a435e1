"""Text to a clean typed graph: chunk, extract, map onto a schema, resolve entities.

Algorithm 2 of the paper starts with ``parse_graph(text)``. :func:`parse_graph` does it at
document scale, in four steps:

1. **Chunk** every text (:func:`~kgaug.extraction.chunk_text`; 1,200 tokens with 100 of
   overlap by default) and send one request per chunk through the LLM engine: bounded
   concurrency, response cache, resume file (``out=``), failed chunks recorded with their
   reason and asked again on a rerun.
2. **Extract** ``<Name; Type><relation><Name; Type>`` lines, each followed by the words of
   the text that state it in double quotes; a quote found in the chunk gives the fact's
   character span in the text (its provenance: text id, chunk, span).
3. **Map** every fact onto the :class:`~kgaug.extraction.ExtractionSchema` (given, read
   from a file, or learned from ``into``): phrasings and inverse phrasings become the
   canonical relation in its canonical direction, a fact whose types fit only reversed is
   reversed, and a fact outside the schema is dropped or kept apart (``out_of_schema``),
   and counted either way.
4. **Resolve** the names (:class:`~kgaug.extraction.Resolver`): several names of one
   entity become one node, names of ``into``'s entities link to them, merges that would
   join two known-distinct entities are refused and reported.

The :class:`ParseResult` holds the graph, every fact with its provenance, the merges (each
can be undone: :meth:`ParseResult.undo`), the dropped extractions and the failed chunks.
"""

from __future__ import annotations

import copy
import os
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from kgaug._table import html_table, text_table
from kgaug.extraction.chunking import Chunk, ChunkSpec, chunk_text
from kgaug.extraction.resolve import Merge, Resolution, Resolver, _merge_indices
from kgaug.extraction.schema import ExtractionSchema, _generic
from kgaug.kg import KnowledgeGraph

if TYPE_CHECKING:
    from kgaug.extraction.resolve import Ambiguous, Conflict
    from kgaug.verbalize.engine import RunStats, Task
    from kgaug.verbalize.llm import LLMVerbalizer

__all__ = [
    "QUOTE_INSTRUCTION",
    "DroppedFact",
    "FailedChunk",
    "ParseResult",
    "ParsedFact",
    "parse_graph",
    "plan_tasks",
]

#: Appended to the extraction prompt: a quote per fact, and "NONE" for a text without one.
QUOTE_INSTRUCTION = (
    "After each fact, on the same line, quote in double quotes the words of the text that "
    "state it. If the text states no fact, answer NONE."
)
_NONE = re.compile(r"^\W*(?:none|no facts?(?: found)?)\W*$", re.IGNORECASE)
_WORD = re.compile(r"\w+")

OutOfSchema = Literal["drop", "keep"]
Texts = str | Sequence[str] | Mapping[str, str]


class ParsedFact(BaseModel):
    """One extracted fact (one per chunk that states it), with its provenance.

    Attributes
    ----------
    head, relation, tail : str
        The fact as it is in the graph (resolved names, canonical relation).
    text_id : str
        The text it comes from.
    chunk : int
        Index of the chunk of that text.
    start, end : int or None
        Character span of the quote in the text (``None``: no quote, or the quote is not
        in the text).
    quote : str or None
        The words the model quoted.
    extracted : tuple of str
        ``(head, relation, tail)`` as the model wrote them.
    mapped_by : str
        How the relation was mapped: ``"name"``, ``"alias"``, ``"inverse"``, ``"of"``,
        ``"similar"``, ``"as written"`` (no schema); ``"+reversed"`` is added when the
        types fit only reversed.
    """

    model_config = ConfigDict(frozen=True)

    head: str
    relation: str
    tail: str
    text_id: str
    chunk: int
    start: int | None = None
    end: int | None = None
    quote: str | None = None
    extracted: tuple[str, str, str]
    mapped_by: str


class DroppedFact(BaseModel):
    """An extraction left out of the graph, and why.

    ``reason`` is ``"relation"`` (not in the schema), ``"types"`` (its types fit the
    relation in neither direction) or ``"self loop"`` (both ends resolved to one entity).
    """

    model_config = ConfigDict(frozen=True)

    head: str
    relation: str
    tail: str
    head_type: str | None
    tail_type: str | None
    text_id: str
    chunk: int
    reason: str
    quote: str | None = None


class FailedChunk(BaseModel):
    """A chunk without an accepted answer (asked again on a rerun with the same ``out``)."""

    model_config = ConfigDict(frozen=True)

    text_id: str
    chunk: int
    start: int
    end: int
    status: str
    reason: str | None


class _Row(BaseModel):
    """An extraction after schema mapping, before resolution."""

    model_config = ConfigDict(frozen=True)

    head: str
    head_type: str | None
    relation: str
    tail: str
    tail_type: str | None
    text_id: str
    chunk: int
    start: int | None
    end: int | None
    quote: str | None
    extracted: tuple[str, str, str]
    mapped_by: str
    in_schema: bool
    reason: str | None = None


class ParseResult:
    """What :func:`parse_graph` made (see the module docs).

    Attributes
    ----------
    graph : KnowledgeGraph
        The extracted facts (in the schema, resolved), typed.
    facts : tuple of ParsedFact
        Every fact of :attr:`graph` once per chunk that states it, with its provenance.
    dropped : tuple of DroppedFact
        Extractions outside the schema and self loops, with the reason.
    out_of_schema : KnowledgeGraph or None
        With ``out_of_schema="keep"``: the out-of-schema facts (relations as written,
        names resolved); ``None`` otherwise.
    resolution : Resolution or None
        The entity resolution (``None`` with ``resolve=False``).
    failed : tuple of FailedChunk
        Chunks without an accepted answer.
    texts, chunks : int
        Texts read and chunks sent.
    stats : RunStats or None
        Requests, cache hits, re-asks and tokens of the run.
    into : KnowledgeGraph or None
        The graph the extraction was mapped onto.
    """

    def __init__(
        self,
        rows: Sequence[_Row],
        resolver: Resolver | None,
        *,
        failed: Sequence[FailedChunk],
        texts: int,
        chunks: int,
        stats: RunStats | None,
        into: KnowledgeGraph | None,
        keep_out_of_schema: bool,
        undone: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self._raw = tuple(rows)
        self._resolver = resolver
        self._undone = undone
        self.failed = tuple(failed)
        self.texts = texts
        self.chunks = chunks
        self.stats = stats
        self.into = into
        self._keep = keep_out_of_schema
        self.resolution: Resolution | None = None
        if resolver is None:
            self._local: tuple[Merge, ...] = ()
            self._rows = self._raw
        else:
            used = [r for r in self._raw if r.in_schema or keep_out_of_schema]
            mentions = [(r.text_id, n, ty) for r in used for n, ty in _ends(r)]
            apart = [(r.text_id, r.head, r.tail) for r in used]
            rewrites, local = resolver.resolve_in_text(mentions, distinct=apart)
            self._local = tuple(m for m in local if (m.name, m.into) not in undone)
            rewrites = {k: v for k, v in rewrites.items() if (k[1], v[0]) not in undone}
            self._rows = tuple(_rewrite(r, rewrites) for r in self._raw)
            if undone:  # an undone merge says the two names are two entities
                resolver = copy.copy(resolver)
                resolver.distinct = [*resolver.distinct, *undone]
            self.resolution = _resolve_rows(resolver, self._rows, into, keep_out_of_schema)
        self.graph, self.facts, self.dropped, self.out_of_schema = _assemble(
            self._rows, self.resolution, into, keep_out_of_schema
        )

    # ------------------------------------------------------------------ views
    @property
    def merges(self) -> tuple[Merge, ...]:
        """Every merge of two names: in-text surnames first, then the rules (see :meth:`undo`)."""
        return self._local + (self.resolution.merges if self.resolution else ())

    @property
    def conflicts(self) -> tuple[Conflict, ...]:
        """Merges refused because they would join two distinct entities."""
        return self.resolution.conflicts if self.resolution else ()

    @property
    def ambiguous(self) -> tuple[Ambiguous, ...]:
        """Names left apart because several candidates fit or the match was too weak."""
        return self.resolution.ambiguous if self.resolution else ()

    @property
    def quoted(self) -> int:
        """Facts (mentions) whose quote was found in the text."""
        return sum(1 for f in self.facts if f.start is not None)

    def dropped_counts(self) -> dict[str, int]:
        """Dropped extractions per reason."""
        return dict(Counter(d.reason for d in self.dropped))

    def sources(self, head: str, relation: str, tail: str) -> list[ParsedFact]:
        """Where a fact of :attr:`graph` was read (empty when it was not)."""
        return [f for f in self.facts if (f.head, f.relation, f.tail) == (head, relation, tail)]

    def combined(self) -> KnowledgeGraph:
        """``into`` with the extracted facts added (the graph itself without ``into``)."""
        if self.into is None:
            return self.graph
        types = {e: self.graph.entity_type(e) for e in self.graph.entities}
        new_types = {
            e: t
            for e, t in types.items()
            if t is not None and (e not in self.into or self.into.entity_type(e) is None)
        }
        return self.into.add_facts(self.graph.triples(), provenance="real", entity_types=new_types)

    def undo(self, *merges: int | Merge) -> ParseResult:
        """The result without these merges (indices into :attr:`merges`, or the merges).

        The names are resolved again with the two names of each undone merge marked
        distinct: no rule joins them again (a name may still merge elsewhere).
        """
        if self._resolver is None or self.resolution is None:
            raise ValueError("nothing to undo: this parse did not resolve entities")
        everything = self.merges
        picked = [everything[i] for i in sorted(_merge_indices(everything, merges, "this result"))]
        return ParseResult(
            self._raw,
            self._resolver,
            failed=self.failed,
            texts=self.texts,
            chunks=self.chunks,
            stats=self.stats,
            into=self.into,
            keep_out_of_schema=self._keep,
            undone=self._undone | {(m.name, m.into) for m in picked},
        )

    # ------------------------------------------------------------------ exports
    def summary(self) -> dict[str, Any]:
        """The counts of the report."""
        return {
            "texts": self.texts,
            "chunks": self.chunks,
            "failed_chunks": len(self.failed),
            "extractions": len(self._rows),
            "facts": self.graph.num_facts,
            "entities": self.graph.num_entities,
            "relations": self.graph.num_relations,
            "mentions": len(self.facts),
            "quoted": self.quoted,
            "dropped": self.dropped_counts(),
            "merges": len(self.merges),
            "conflicts": len(self.conflicts),
            "ambiguous": len(self.ambiguous),
            "linked": self.resolution.linked if self.resolution else 0,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serializable): the summary, facts, merges, drops and failures."""
        return {
            **self.summary(),
            "facts_with_provenance": self.to_records(),
            "merge_log": [m.model_dump() for m in self.merges],
            "conflict_log": [c.model_dump() for c in self.conflicts],
            "ambiguous_log": [a.model_dump() for a in self.ambiguous],
            "dropped_log": [d.model_dump() for d in self.dropped],
            "failed_log": [f.model_dump() for f in self.failed],
            "requests": self.stats.requests if self.stats else None,
        }

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per fact mention, with its provenance."""
        return [f.model_dump() for f in self.facts]

    def to_pandas(self) -> Any:
        """The fact mentions as a :class:`pandas.DataFrame` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.to_records(), columns=list(ParsedFact.model_fields))

    def _table(self) -> tuple[list[str], list[list[str]]]:
        per_rel = Counter(r for _, r, _ in self.graph.triples())
        dropped = Counter(d.relation for d in self.dropped if d.reason != "self loop")
        header = ["relation", "facts"]
        rows = [[r, str(n)] for r, n in sorted(per_rel.items(), key=lambda x: (-x[1], x[0]))]
        rows += [[f"{r} (out of schema)", str(n)] for r, n in dropped.most_common(5)]
        return header, rows

    def _header(self) -> str:
        s = self.summary()
        lines = [
            f"parse: {s['facts']} facts, {s['entities']} entities, {s['relations']} relations "
            f"from {s['texts']} text(s) in {s['chunks']} chunk(s)"
            + (f", {s['failed_chunks']} failed" if s["failed_chunks"] else ""),
            f"{s['mentions']} mentions, {s['quoted']} with a quote found in the text",
        ]
        if self.resolution is not None:
            lines.append(
                f"resolution: {s['merges']} merges, {s['conflicts']} refused, "
                f"{s['ambiguous']} ambiguous, {s['linked']} names linked to the graph"
            )
        if s["dropped"]:
            lines.append(
                "dropped: " + ", ".join(f"{n} {why}" for why, n in sorted(s["dropped"].items()))
            )
        return "\n".join(lines)

    def to_string(self) -> str:
        """The report as text."""
        header, rows = self._table()
        parts = [self._header(), text_table(header, rows)]
        for title, items in (
            ("merges", self.merges),
            ("refused merges", self.conflicts),
            (
                "failed chunks",
                [f"text {f.text_id} chunk {f.chunk}: {f.reason}" for f in self.failed],
            ),
        ):
            if items:
                shown = [f"- {x}" for x in list(items)[:10]]
                more = f"\n  ... and {len(items) - 10} more" if len(items) > 10 else ""
                parts.append(f"{title}:\n" + "\n".join(shown) + more)
        return "\n".join(parts)

    def __repr__(self) -> str:
        return self.to_string()

    def _repr_html_(self) -> str:
        header, rows = self._table()
        styles = ["background-color:#fde2e2" if "out of schema" in r[0] else "" for r in rows]
        return html_table(header, rows, row_styles=styles, caption=self._header())


# ---------------------------------------------------------------------- the pipeline
def parse_graph(
    texts: Texts,
    parser: LLMVerbalizer,
    *,
    chunk: ChunkSpec | int | Literal[False] | None = None,
    schema: ExtractionSchema | str | os.PathLike[str] | Sequence[str] | None = None,
    resolve: bool | Resolver = True,
    into: KnowledgeGraph | None = None,
    out_of_schema: OutOfSchema = "drop",
    quotes: bool = True,
    out: str | os.PathLike[str] | None = None,
    retry_failed: bool | None = None,
) -> ParseResult:
    """Extract a typed graph from texts (see the module docs).

    Parameters
    ----------
    texts : str, sequence of str, or mapping of id to str
        The texts; ids are ``"0"``, ``"1"``, ... for a sequence.
    parser : LLMVerbalizer
        The model (e.g. ``kgaug.verbalize.get_verbalizer("openai", ...)``).
    chunk : ChunkSpec, int, False or None
        How texts are cut: a :class:`ChunkSpec`, a size in tokens (overlap 100 or
        ``size // 10``, whichever is smaller), ``False`` for one request per text, or
        ``None`` for the default :class:`ChunkSpec` (1,200 tokens, 100 overlap).
    schema : ExtractionSchema, path, or sequence of relation names, optional
        Allowed relations and types; a path is a JSON file
        (:meth:`ExtractionSchema.from_file`). With ``into``, the relations of ``into``
        are added (:meth:`ExtractionSchema.from_kg`). Without either, relations stay as
        the model writes them.
    resolve : bool or Resolver
        Entity resolution (``True``: :class:`Resolver` with its defaults).
    into : KnowledgeGraph, optional
        A graph to map onto: its relations join the schema, its entities are linked.
    out_of_schema : {"drop", "keep"}
        Out-of-schema facts are dropped, or kept in :attr:`ParseResult.out_of_schema`;
        they are counted in :attr:`ParseResult.dropped` either way.
    quotes : bool
        Ask for a quote per fact (gives the character spans).
    out : path, optional
        Resume file: chunks already answered are not asked again.
    retry_failed : bool, optional
        Ask chunks that failed in ``out`` again (default: the parser's setting).

    Returns
    -------
    ParseResult

    Raises
    ------
    TypeError
        ``texts`` is not text, or ``parser`` is not an LLM parser.
    ValueError
        A bad ``chunk``, ``schema`` or ``out_of_schema``.
    kgaug.errors.KGFormatError
        A schema file that does not parse (the message names the line).
    """
    if out_of_schema not in ("drop", "keep"):
        raise ValueError(f"out_of_schema must be 'drop' or 'keep', got {out_of_schema!r}")
    resolver = _resolver(resolve)
    the_schema, items, pieces, tasks = _plan(texts, parser, chunk, schema, into, quotes)
    results = parser._run(tasks, out, "parse", retry_failed) if tasks else []
    source = dict(items)

    rows: list[_Row] = []
    failed: list[FailedChunk] = []
    for c, res in zip(pieces, results):
        if res.status != "ok":
            failed.append(
                FailedChunk(
                    text_id=c.text_id,
                    chunk=c.index,
                    start=c.start,
                    end=c.end,
                    status=res.status,
                    reason=res.reason,
                )
            )
            continue
        for h, ht, r, t, tt, quote in res.value or []:
            span = _locate(quote, source[c.text_id], c.start, c.end) if quote else None
            rows.extend(_map(the_schema, h, ht, r, t, tt, c, quote, span))
    return ParseResult(
        rows,
        resolver,
        failed=failed,
        texts=len(items),
        chunks=len(pieces),
        stats=parser.last_run,
        into=into,
        keep_out_of_schema=out_of_schema == "keep",
    )


def plan_tasks(
    texts: Texts,
    parser: LLMVerbalizer,
    *,
    chunk: ChunkSpec | int | Literal[False] | None = None,
    schema: ExtractionSchema | str | os.PathLike[str] | Sequence[str] | None = None,
    into: KnowledgeGraph | None = None,
    quotes: bool = True,
) -> tuple[list[Chunk], list[Task]]:
    """The chunks :func:`parse_graph` would send and their engine tasks (for estimates)."""
    _, _, pieces, tasks = _plan(texts, parser, chunk, schema, into, quotes)
    return pieces, tasks


def _plan(
    texts: Texts,
    parser: LLMVerbalizer,
    chunk: ChunkSpec | int | Literal[False] | None,
    schema: ExtractionSchema | str | os.PathLike[str] | Sequence[str] | None,
    into: KnowledgeGraph | None,
    quotes: bool,
) -> tuple[ExtractionSchema | None, list[tuple[str, str]], list[Chunk], list[Task]]:
    """Validate the inputs; the schema, texts, chunks and one task per chunk."""
    items = _texts(texts)
    spec = _chunk_spec(chunk)
    if into is not None and not isinstance(into, KnowledgeGraph):
        raise TypeError(f"into must be a KnowledgeGraph, got {type(into).__name__}")
    if not hasattr(parser, "_run"):
        raise TypeError(f"parser must be an LLMVerbalizer, got {type(parser).__name__}")
    the_schema = _schema(schema, into)
    pieces: list[Chunk] = []
    for text_id, text in items:
        if spec is None:
            if text.strip():
                pieces.append(Chunk(text_id=text_id, index=0, start=0, end=len(text), text=text))
        else:
            pieces.extend(chunk_text(text, spec, text_id=text_id))
    tasks = [_task(parser, c.text, the_schema, quotes) for c in pieces]
    return the_schema, items, pieces, tasks


def _texts(texts: Any) -> list[tuple[str, str]]:
    """``(id, text)`` pairs; a clear error for anything that is not text."""
    if isinstance(texts, str):
        items = [("0", texts)]
    elif isinstance(texts, Mapping):
        items = [(str(k), v) for k, v in texts.items()]
        ids: dict[str, Any] = {}
        for k in texts:
            if str(k) in ids:
                raise ValueError(f"text ids {ids[str(k)]!r} and {k!r} are both {str(k)!r}")
            ids[str(k)] = k
    elif isinstance(texts, Sequence) and not isinstance(texts, (bytes, bytearray)):
        items = [(str(i), t) for i, t in enumerate(texts)]
    else:
        raise TypeError(
            f"parse() takes a text or a list of texts (str), got {type(texts).__name__}"
        )
    for k, t in items:
        if not isinstance(t, str):
            raise TypeError(
                f"parse() takes a text or a list of texts (str); text {k} is {type(t).__name__}"
            )
    return items


def _chunk_spec(chunk: ChunkSpec | int | Literal[False] | None) -> ChunkSpec | None:
    if chunk is None or chunk is True:
        return ChunkSpec()
    if chunk is False:
        return None
    if isinstance(chunk, ChunkSpec):
        return chunk
    if isinstance(chunk, int) and not isinstance(chunk, bool):
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1 tokens, got {chunk}")
        return ChunkSpec(size=chunk)  # its default overlap
    raise TypeError(f"chunk must be a ChunkSpec, a size in tokens or False, got {chunk!r}")


def _schema(
    schema: ExtractionSchema | str | os.PathLike[str] | Sequence[str] | None,
    into: KnowledgeGraph | None,
) -> ExtractionSchema | None:
    if isinstance(schema, (str, os.PathLike)):
        given: ExtractionSchema | None = ExtractionSchema.from_file(Path(schema))
    elif isinstance(schema, ExtractionSchema) or schema is None:
        given = schema
    elif isinstance(schema, Sequence):
        given = ExtractionSchema.from_relations(schema)
    else:
        raise TypeError(
            "schema must be an ExtractionSchema, a JSON file or a list of relation names, "
            f"got {type(schema).__name__}"
        )
    if into is None:
        return given
    learned = ExtractionSchema.from_kg(into)
    return learned if given is None else given.merged(learned)


def _resolver(resolve: bool | Resolver) -> Resolver | None:
    if isinstance(resolve, Resolver):
        return resolve
    if resolve is True:
        return Resolver()
    if resolve is False:
        return None
    raise TypeError(f"resolve must be True, False or a Resolver, got {type(resolve).__name__}")


def _task(parser: LLMVerbalizer, text: str, schema: ExtractionSchema | None, quotes: bool) -> Task:
    from kgaug.verbalize.engine import Task, item_key
    from kgaug.verbalize.parsing import parse_graph_facts, strip_reasoning
    from kgaug.verbalize.prompts import graph_messages

    messages = graph_messages(text, prompts=parser.prompts)
    extra = [schema.prompt()] if schema is not None else []
    if quotes:
        extra.append(QUOTE_INSTRUCTION)
    if extra:
        messages[0] = {"role": "system", "content": "\n\n".join([messages[0]["content"], *extra])}

    def check(c: Any) -> tuple[Any, str | None]:
        rows = parse_graph_facts(c.text)
        if rows:
            return [list(r) for r in rows], None
        if _NONE.match(strip_reasoning(c.text).strip()):
            return [], None
        return None, "no line of the form <Name; Type><relation><Name; Type> (or NONE)"

    return Task(
        key=item_key("graph", [m["content"] for m in messages]), messages=messages, check=check
    )


def _locate(quote: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """Span of ``quote`` in ``text[start:end]`` (case and spacing aside), or ``None``."""
    i = text.find(quote, start, end)
    if i >= 0:
        return i, i + len(quote)
    words = _WORD.findall(quote)
    if not words:
        return None
    pattern = re.compile(r"\W+".join(map(re.escape, words)), re.IGNORECASE)
    m = pattern.search(text, start, end)
    return (m.start(), m.end()) if m else None


def _fits(extracted: str | None, declared: str | None, allowed: Sequence[str]) -> bool:
    """An extracted type fits a declared one: same, untyped, or the model's catch-all."""
    if declared is None or extracted is None or extracted == declared:
        return True
    if _generic(extracted):
        return True
    # a declared catch-all ("Object") takes only what no other allowed type names
    return _generic(declared) and extracted not in allowed


def _map(
    schema: ExtractionSchema | None,
    h: str,
    ht: str,
    r: str,
    t: str,
    tt: str,
    c: Chunk,
    quote: str | None,
    span: tuple[int, int] | None,
) -> list[_Row]:
    """The extraction mapped onto the schema (a symmetric fact also reversed)."""
    base = {
        "text_id": c.text_id,
        "chunk": c.index,
        "start": span[0] if span else None,
        "end": span[1] if span else None,
        "quote": quote,
        "extracted": (h, r, t),
    }

    def row(rel: str, how: str, reason: str | None = None) -> _Row:
        return _Row(
            head=h, head_type=hty, relation=rel, tail=t, tail_type=tty, mapped_by=how,
            in_schema=reason is None, reason=reason, **base,
        )  # fmt: skip

    hty: str | None = ht
    tty: str | None = tt
    if schema is None:
        return [row(r, "as written")]
    hty, tty = schema.map_type(ht), schema.map_type(tt)
    hit = schema.map_relation(r)
    if hit is None:
        return [row(r, "none", "relation")]
    name, inverted, how = hit
    spec = schema[name]
    if inverted and not spec.symmetric:
        h, t, hty, tty = t, h, tty, hty
    allowed = schema.types
    if not (_fits(hty, spec.head, allowed) and _fits(tty, spec.tail, allowed)):
        if spec.symmetric or not (
            _fits(tty, spec.head, allowed) and _fits(hty, spec.tail, allowed)
        ):
            return [row(name, how, "types")]
        h, t, hty, tty = t, h, tty, hty
        how += "+reversed"
    # an untyped end takes the relation's declared type
    hty = hty if not _generic(hty) else (spec.head or hty)
    tty = tty if not _generic(tty) else (spec.tail or tty)
    fact = row(name, how)
    if not spec.symmetric:
        return [fact]
    # a symmetric fact holds both ways ("X and Y are married" has no direction)
    h, t, hty, tty = t, h, tty, hty
    return [fact, row(name, how + "+mirrored")]


def _ends(r: _Row) -> tuple[tuple[str, str | None], tuple[str, str | None]]:
    return (r.head, r.head_type), (r.tail, r.tail_type)


def _rewrite(
    r: _Row, rewrites: Mapping[tuple[str, str, str | None], tuple[str, str | None]]
) -> _Row:
    """``r`` with its in-text rewrites applied."""
    h = rewrites.get((r.text_id, r.head, r.head_type))
    t = rewrites.get((r.text_id, r.tail, r.tail_type))
    if h is None and t is None:
        return r
    update: dict[str, Any] = {}
    if h is not None:
        update.update(head=h[0], head_type=h[1])
    if t is not None:
        update.update(tail=t[0], tail_type=t[1])
    return r.model_copy(update=update)


def _resolve_rows(
    resolver: Resolver | None, rows: Sequence[_Row], into: KnowledgeGraph | None, keep: bool
) -> Resolution | None:
    if resolver is None:
        return None
    used = [r for r in rows if r.in_schema or keep]
    names: list[tuple[str, str | None]] = []
    for r in used:
        names += [(r.head, r.head_type), (r.tail, r.tail_type)]
    context: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for r in used:
        fact = f"{r.head} {r.relation} {r.tail}"
        for key in ((r.head, r.head_type), (r.tail, r.tail_type)):
            if len(context[key]) < 3:
                context[key].append(fact)
    return resolver.resolve(
        names,
        mentions=Counter(names),
        distinct=[((r.head, r.head_type), (r.tail, r.tail_type)) for r in used],
        into=into,
        context=context,
    )


def _assemble(
    rows: Sequence[_Row],
    resolution: Resolution | None,
    into: KnowledgeGraph | None,
    keep: bool,
) -> tuple[KnowledgeGraph, tuple[ParsedFact, ...], tuple[DroppedFact, ...], KnowledgeGraph | None]:
    """The graph, fact mentions, drops and out-of-schema graph of resolved rows."""
    types: dict[str, str | None] = {}

    def label(name: str, ty: str | None) -> str:
        if resolution is None:
            old = types.get(name)
            if name not in types or (_generic(old) and not _generic(ty)):
                types[name] = ty
            return name
        lab = resolution(name, ty)
        types[lab] = resolution.types.get(lab, ty)
        return lab

    facts: list[ParsedFact] = []
    dropped: list[DroppedFact] = []
    kept_out: list[tuple[str, str, str]] = []
    for r in rows:
        h, t = label(r.head, r.head_type), label(r.tail, r.tail_type)
        reason = r.reason if not r.in_schema else ("self loop" if h == t else None)
        common: dict[str, Any] = {
            "head": h, "relation": r.relation, "tail": t, "text_id": r.text_id,
            "chunk": r.chunk, "quote": r.quote,
        }  # fmt: skip
        if reason is None:
            facts.append(
                ParsedFact(
                    **common, start=r.start, end=r.end, extracted=r.extracted, mapped_by=r.mapped_by
                )
            )
            continue
        dropped.append(
            DroppedFact(**common, head_type=r.head_type, tail_type=r.tail_type, reason=reason)
        )
        if keep and reason != "self loop" and h != t:
            kept_out.append((h, r.relation, t))
    # a new entity named like an entity of `into` but of another type stays apart
    if into is not None:
        rename = {
            lab: f"{lab} ({ty})"
            for lab, ty in types.items()
            if lab in into
            and ty
            and into.entity_type(lab)
            and into.entity_type(lab) != ty
            and not _generic(ty)
        }
        if rename:
            facts = [
                f.model_copy(
                    update={"head": rename.get(f.head, f.head), "tail": rename.get(f.tail, f.tail)}
                )
                for f in facts
            ]
            kept_out = [(rename.get(h, h), r, rename.get(t, t)) for h, r, t in kept_out]
            types = {rename.get(k, k): v for k, v in types.items()}
    triples = [(f.head, f.relation, f.tail) for f in facts]
    used = {e for tr in triples for e in (tr[0], tr[2])}
    graph = KnowledgeGraph.from_triples(
        triples, entity_types={e: ty for e, ty in types.items() if e in used and ty}
    )
    out = None
    if keep:
        ends = {e for tr in kept_out for e in (tr[0], tr[2])}
        out = KnowledgeGraph.from_triples(
            kept_out, entity_types={e: ty for e, ty in types.items() if e in ends and ty}
        )
    return graph, tuple(facts), tuple(dropped), out

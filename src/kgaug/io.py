"""Readers and writers for knowledge graphs.

Formats
-------
- TSV: ``head<TAB>relation<TAB>tail`` per line, no header (PyKEEN's convention); ``.gz`` ok.
- JSONL: one object per line, ``{"head": ..., "relation": ..., "tail": ...}`` with optional
  ``head_type``, ``tail_type`` and ``provenance``.
- CSV: named columns (defaults ``head``, ``relation``, ``tail``).
- 2WikiMultiHopQA: the ``evidences`` triples of the dataset's rows, either the original
  JSON (a list of row objects, or JSON lines) or a columnar mirror (an object mapping column
  names to lists, as exported from data-frame tools).
- networkx: ``MultiDiGraph`` / ``DiGraph`` in and ``MultiDiGraph`` out.

Every reader raises :class:`~kgaug.errors.KGFormatError` naming the file and line of the
first malformed record, and fills :attr:`KnowledgeGraph.load_report`. :func:`read_tsv`
and :func:`read_csv` have two engines giving the same graph: Python (streaming) and
pyarrow (``kgaug[fast]``, several times faster; ``engine="auto"`` picks it for large
files).
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import os
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from kgaug._fileio import atomic_write, open_binary
from kgaug._parquet import read_parquet, write_parquet
from kgaug._pykeen import from_pykeen, to_pykeen
from kgaug.errors import KGFormatError
from kgaug.kg import KnowledgeGraph, _as_provenance, _Builder, _merge_facts, _with_records
from kgaug.records import Provenance

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_LINE_BYTES",
    "TWOWIKI_RELATION_TYPES",
    "from_networkx",
    "from_pykeen",
    "read_2wiki",
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "read_tsv",
    "to_networkx",
    "to_pykeen",
    "write_jsonl",
    "write_parquet",
    "write_tsv",
]

PathLike = str | os.PathLike[str]

#: The longest line the line readers (:func:`read_tsv`, :func:`read_jsonl`,
#: :func:`read_csv`) accept, in bytes without the newline; ``max_line_bytes=`` overrides
#: it. A longer line (a file that is not one record per line, a decompression bomb) is a
#: :class:`~kgaug.errors.KGFormatError` naming the file and line, raised before more than
#: about this much of the line is in memory.
MAX_LINE_BYTES = 16 * 2**20
#: The deepest nesting of JSON arrays and objects accepted in JSON input (a JSON-lines
#: record, a 2WikiMultiHopQA file or an ``evidences`` string); deeper is a
#: :class:`~kgaug.errors.KGFormatError` naming the file and line.
MAX_JSON_DEPTH = 100
_BLOCK_BYTES = 1 << 22  # read at a time
_SCAN_BYTES = 1 << 20  # bytes per step of the nesting scan


def _read_block(fh: Any, path: PathLike, size: int) -> bytes:
    """The next ``size`` bytes; a corrupt or truncated ``.gz`` becomes a KGFormatError."""
    try:
        return bytes(fh.read(size))
    except (OSError, EOFError, zlib.error) as e:
        raise KGFormatError(f"cannot read compressed data ({e})", path=path) from None


def _is_blank(line: str) -> bool:
    """Empty or spaces only. A line of tabs is not blank: it has empty fields."""
    return not line.strip(" \r\x0b\x0c")


def _ascii_compatible(encoding: str) -> bool:
    """Whether ``encoding`` writes ASCII (newlines, tabs, quotes) as single ASCII bytes."""
    try:
        return '\n\t"{['.encode(encoding) == b'\n\t"{['
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None


def _check_line_cap(max_line_bytes: int) -> int:
    if isinstance(max_line_bytes, bool) or not isinstance(max_line_bytes, int):
        raise TypeError(
            f"max_line_bytes must be an int, got {type(max_line_bytes).__name__} {max_line_bytes!r}"
        )
    if max_line_bytes < 1:
        raise ValueError(f"max_line_bytes must be positive, got {max_line_bytes}")
    return max_line_bytes


def _too_long(path: PathLike, line: int, max_line_bytes: int) -> KGFormatError:
    return KGFormatError(
        f"line longer than {max_line_bytes} bytes (max_line_bytes); the file is not one "
        "record per line, or pass a larger max_line_bytes",
        path=path,
        line=line,
    )


def _sniff_encoding(head: bytes, path: PathLike, encoding: str) -> None:
    """Name a UTF-16/32 file read with an ASCII-compatible encoding (with or without BOM).

    Such a file decodes as UTF-8 (its NUL bytes are valid), so without this check the
    first error would be a misleading field count.
    """
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            raise KGFormatError(
                f"the file starts with a {name.upper()} byte-order mark, not {encoding}; "
                f"re-save it as UTF-8 or read it with encoding={name!r}",
                path=path,
                line=1,
            )
    # ASCII text in UTF-32 has three NUL bytes in every four, in UTF-16 every other one
    for width, nuls in ((4, "three bytes in four are NUL"), (2, "every other byte is NUL")):
        sample = head[: 4096 & ~(width - 1)]
        n = len(sample) // width
        if n < 2:
            continue
        lanes = [sample[i::width].count(0) for i in range(width)]
        for text_lane, order in ((0, "le"), (width - 1, "be")):
            others = [c for i, c in enumerate(lanes) if i != text_lane]
            if min(others) >= 0.4 * n and lanes[text_lane] <= 0.05 * n:
                name = f"utf-{8 * width}-{order}"
                raise KGFormatError(
                    f"looks like UTF-{8 * width} without a byte-order mark ({name}: {nuls}), "
                    f"not {encoding}; re-save it as UTF-8 or read it with encoding={name!r}",
                    path=path,
                    line=1,
                )


def _raw_blocks(
    path: PathLike,
    encoding: str,
    max_line_bytes: int,
    block_bytes: int | None = None,
    sniff_bytes: int | None = None,
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(first_line_number, data)``: runs of whole lines of the file's bytes.

    The file is read in blocks (``block_bytes``, default :data:`_BLOCK_BYTES`); the
    unfinished last line of a block waits for the next one, so no line is held twice and
    a line over ``max_line_bytes`` is refused once that many of its bytes are buffered
    (memory stays near ``max_line_bytes`` plus a block, also for a decompression bomb).
    The encoding sniff looks at the first ``sniff_bytes`` (default: the first block).
    """
    size = _BLOCK_BYTES if block_bytes is None else block_bytes
    with open_binary(path) as fh:
        buf = bytearray()
        lineno = 1
        first = True
        while True:
            block = _read_block(fh, path, size)
            if first:
                head = block if sniff_bytes is None else block[:sniff_bytes]
                _sniff_encoding(head, path, encoding)
                first = False
            buf += block
            end = buf.rfind(b"\n") + 1 if block else len(buf)
            if end:
                with memoryview(buf) as mv:
                    data = bytes(mv[:end])
                del buf[:end]
                if len(data) > max_line_bytes:  # a line in it may be too long
                    nl = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
                    starts = np.concatenate([[0], nl[:-1] + 1]) if len(nl) else nl
                    long = np.flatnonzero(nl - starts > max_line_bytes)
                    if len(long):
                        raise _too_long(path, lineno + int(long[0]), max_line_bytes)
                    if len(data) - (int(nl[-1]) + 1 if len(nl) else 0) > max_line_bytes:
                        raise _too_long(path, lineno + len(nl), max_line_bytes)
                yield lineno, data
                lineno += data.count(b"\n")
            if len(buf) > max_line_bytes:
                raise _too_long(path, lineno, max_line_bytes)
            if not block:
                return


def _wide_blocks(path: PathLike, encoding: str, max_line_bytes: int) -> Iterator[tuple[int, str]]:
    """Like :func:`_raw_blocks`, decoded, for encodings such as UTF-16 (cap in characters)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open_binary(path) as fh:
        buf = ""
        lineno = 1
        while True:
            block = _read_block(fh, path, _BLOCK_BYTES)
            try:
                buf += decoder.decode(block, final=not block)
            except UnicodeDecodeError:
                after = lineno + buf.count("\n")
                raise KGFormatError(
                    f"undecodable bytes after line {after} (file is not {encoding})", path=path
                ) from None
            end = buf.rfind("\n") + 1 if block else len(buf)
            if end:
                data, buf = buf[:end], buf[end:]
                lines = data.split("\n")
                for i, ln in enumerate(lines):
                    if len(ln) > max_line_bytes:
                        raise _too_long(path, lineno + i, max_line_bytes)
                yield lineno, data
                lineno += len(lines) - 1
            if len(buf) > max_line_bytes:
                raise _too_long(path, lineno, max_line_bytes)
            if not block:
                return


def _text_blocks(
    path: PathLike, encoding: str, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, str]]:
    """Yield ``(first_line_number, text)``: decoded runs of whole lines, newlines kept.

    A byte-order mark at the start of the file is dropped.

    Raises
    ------
    KGFormatError
        Undecodable bytes, a line over ``max_line_bytes``, a UTF-16 file read as UTF-8,
        or a corrupt ``.gz``; the message names the file and line.
    """
    _check_line_cap(max_line_bytes)
    chunks: Iterator[tuple[int, str]]
    if _ascii_compatible(encoding):
        chunks = (
            (first, _decode_block(data, first, path, encoding))
            for first, data in _raw_blocks(path, encoding, max_line_bytes)
        )
    else:
        chunks = _wide_blocks(path, encoding, max_line_bytes)
    for first, text in chunks:
        yield first, (text[1:] if first == 1 and text.startswith("\ufeff") else text)


def _split_lines(text: str) -> list[str]:
    """The lines of a text block, without newlines and one trailing carriage return each."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _decode_lines(
    path: PathLike, encoding: str, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first_line_number, lines)`` chunks of decoded lines (newline stripped).

    Raises
    ------
    KGFormatError
        As :func:`_text_blocks`.
    """
    for first, text in _text_blocks(path, encoding, max_line_bytes):
        yield first, _split_lines(text)


def _decode_block(data: bytes, first: int, path: PathLike, encoding: str) -> str:
    """Decode whole lines; undecodable bytes are named with their line and column."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        start = data.rfind(b"\n", 0, e.start) + 1
        raise KGFormatError(
            f"undecodable bytes {data[e.start : e.end]!r} at column {e.start - start + 1} "
            f"(file is not {encoding})",
            path=path,
            line=first + data.count(b"\n", 0, e.start),
        ) from None


def _too_deep(data: bytes, limit: int = MAX_JSON_DEPTH) -> int | None:
    """Byte offset of the first bracket of JSON text nested deeper than ``limit``, or None.

    Brackets inside strings do not count (a quote after an odd run of backslashes is
    escaped). Vectorized, in steps of ``_SCAN_BYTES`` cut outside backslash runs, so the
    scan of a large document needs a few times that much extra memory.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    n = len(arr)
    depth = 0
    in_string = 0
    start = 0
    while start < n:
        end = min(start + _SCAN_BYTES, n)
        while end < n and arr[end - 1] == 92:  # never cut a run of backslashes
            end += 1
        a = arr[start:end]
        quotes = np.flatnonzero(a == 34)
        bs = np.flatnonzero(a == 92)
        if len(bs) and len(quotes):  # drop quotes after an odd run of backslashes
            k = np.arange(len(bs))
            begins = np.ones(len(bs), dtype=bool)
            begins[1:] = bs[1:] != bs[:-1] + 1
            run = k - np.maximum.accumulate(np.where(begins, k, 0)) + 1  # run length so far
            j = np.minimum(np.searchsorted(bs, quotes - 1), len(bs) - 1)
            quotes = quotes[~((bs[j] == quotes - 1) & (run[j] % 2 == 1))]
        folded = a | 32  # "[" -> "{", "]" -> "}"
        ev = np.flatnonzero((folded == 123) | (folded == 125))
        ev = ev[((np.searchsorted(quotes, ev) + in_string) & 1) == 0]  # outside strings
        d = depth + np.cumsum(np.where(folded[ev] == 123, 1, -1))
        over = np.flatnonzero(d > limit)
        if len(over):
            return start + int(ev[over[0]])
        if len(d):
            depth = int(d[-1])
        in_string = (in_string + len(quotes)) & 1
        start = end
    return None


def _json_loads(
    text: str,
    path: PathLike,
    line: int | None,
    prefix: str = "",
    raw: bytes | None = None,
    *,
    scan_first: bool = True,
) -> Any:
    """``json.loads`` with nesting bounded by :data:`MAX_JSON_DEPTH`.

    ``raw``, if given, is the encoded text starting at ``line`` (ASCII-compatible, any
    leading whitespace or BOM included): it is scanned instead of re-encoding ``text``.
    ``scan_first=False`` scans only text that parsed (or hit the parser's recursion
    limit), so that text that is not one JSON document (JSON lines) fails as invalid JSON
    first.

    Raises
    ------
    KGFormatError
        Nested deeper than :data:`MAX_JSON_DEPTH` (or than Python's parser allows), with
        the file, line and column; ``json.JSONDecodeError`` for other invalid JSON.
    """
    if scan_first:
        _refuse_deep(text, path, line, prefix, raw)
    try:
        doc = json.loads(text)
    except RecursionError:
        _refuse_deep(text, path, line, prefix, raw)
        raise KGFormatError(
            f"{prefix}JSON nested too deeply for the parser", path=path, line=line
        ) from None
    if not scan_first:
        _refuse_deep(text, path, line, prefix, raw)
    return doc


def _refuse_deep(
    text: str, path: PathLike, line: int | None, prefix: str, raw: bytes | None
) -> None:
    """Raise :class:`KGFormatError` naming where ``text`` nests past the limit, if it does."""
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH:
        data = text.encode("utf-8", "surrogatepass") if raw is None else raw
        at = _too_deep(data)
        if at is not None:
            row = data.count(b"\n", 0, at)
            col = at - (data.rfind(b"\n", 0, at) + 1)
            column = len(data[at - col : at].decode("utf-8", "replace")) + 1
            raise KGFormatError(
                f"{prefix}JSON nested deeper than {MAX_JSON_DEPTH} levels (at column {column})",
                path=path,
                line=None if line is None else line + row,
            )


#: The engines of :func:`read_tsv` and :func:`read_csv`.
Engine = Literal["auto", "python", "pyarrow"]
_ENGINES = ("auto", "python", "pyarrow")
#: ``engine="auto"`` reads smaller files with the Python engine: below a few MiB it is as
#: fast, and it spares importing pyarrow (about 0.2 s).
_FAST_MIN_BYTES = 1 << 23


def _use_pyarrow(engine: str, path: PathLike, encoding: str) -> bool:
    """Whether to try the pyarrow engine; ``engine="pyarrow"`` without pyarrow raises."""
    if engine not in _ENGINES:
        raise ValueError(f"engine must be one of {list(_ENGINES)}, got {engine!r}")
    if engine == "python":
        return False
    if engine == "auto":
        try:
            if os.stat(path).st_size < _FAST_MIN_BYTES:
                return False
        except (OSError, TypeError, ValueError):
            return False  # the Python engine names the problem
    from kgaug import _fastread

    if engine == "auto" and not _fastread.available():
        return False
    if engine == "pyarrow":
        _fastread.pyarrow_modules()  # the install hint when missing
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False  # the Python engine raises the error


class _HeadsFirst:
    """Label ids for :func:`read_tsv` in its documented order, streamed block by block.

    Labels get provisional ids as they come (``defaultdict(count)``: the interning loop
    runs in C) and the first line of every entity as a head and as a tail is kept;
    :meth:`build` renumbers the entities: heads by their first line, then the entities
    that are only tails, by their first line as a tail. Duplicate records are merged
    while streaming (as :meth:`_Builder.compact` does), so memory follows the distinct
    facts.
    """

    _NEVER = np.iinfo(np.int64).max

    def __init__(self) -> None:
        self.entities: defaultdict[str, int] = defaultdict(itertools.count().__next__)
        self.relations: defaultdict[str, int] = defaultdict(itertools.count().__next__)
        self.first_head = np.zeros(0, dtype=np.int64)
        self.first_tail = np.zeros(0, dtype=np.int64)
        self.parts: list[tuple[npt.NDArray[np.int64], ...]] = []
        self.records = 0
        self.pending = 0
        self.compact_at = _Builder.COMPACT_MIN

    @staticmethod
    def _any_blank(ids: npt.NDArray[np.int64], known: int, labels: list[str]) -> bool:
        """Whether a label met for the first time (id >= ``known``) is empty or blank."""
        fresh = np.flatnonzero(ids >= known)
        if not len(fresh):
            return False
        first = fresh[np.unique(ids[fresh], return_index=True)[1]]
        return not all(map(str.strip, [labels[i] for i in first.tolist()]))

    def add(
        self, heads: list[str], relations: list[str], tails: list[str], *, check: bool = False
    ) -> bool:
        """Add a block of records.

        With ``check``, returns False (the block is then unusable) when a label is empty
        or blank: the caller's line-by-line loop names the line.
        """
        if not heads:
            return True
        n0, nr0 = len(self.entities), len(self.relations)
        ent = self.entities.__getitem__
        h = np.array(list(map(ent, heads)), dtype=np.int64)
        t = np.array(list(map(ent, tails)), dtype=np.int64)
        r = np.array(list(map(self.relations.__getitem__, relations)), dtype=np.int64)
        if check and (
            self._any_blank(h, n0, heads)
            or self._any_blank(t, n0, tails)
            or self._any_blank(r, nr0, relations)
        ):
            return False  # the caller raises: a blank label is always an error
        n = len(self.entities)
        if len(self.first_head) < n:
            grow = np.full(max(n, 2 * len(self.first_head)) - len(self.first_head), self._NEVER)
            self.first_head = np.concatenate([self.first_head, grow])
            self.first_tail = np.concatenate([self.first_tail, grow])
        lines = np.arange(self.records, self.records + len(h))
        np.minimum.at(self.first_head, h, lines)
        np.minimum.at(self.first_tail, t, lines)
        self.parts.append((h, r, t))
        self.records += len(h)
        self.pending += len(h)
        if self.pending >= self.compact_at:
            h, r, t = self._merged()
            self.parts = [(h, r, t)]
            self.pending = 0
            self.compact_at = max(_Builder.COMPACT_MIN, len(h))
        return True

    def _merged(self) -> tuple[npt.NDArray[np.int64], ...]:
        if not self.parts:
            return tuple(np.zeros(0, dtype=np.int64) for _ in range(3))
        h, r, t = (np.concatenate(x) for x in zip(*self.parts))
        p = np.zeros(len(h), dtype=np.uint8)
        h, r, t, _ = _merge_facts(h, r, t, p, len(self.entities), len(self.relations))
        return h, r, t

    def build(self, source: str, skipped: int) -> KnowledgeGraph:
        h, r, t = self._merged()
        n = len(self.entities)
        first_head, first_tail = self.first_head[:n], self.first_tail[:n]
        # heads by first line, then tail-only entities (after every line) by first line
        key = np.where(first_head != self._NEVER, first_head, self.records + first_tail)
        order = np.argsort(key, kind="stable")
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        labels = list(self.entities)
        kg = KnowledgeGraph._from_valid(  # labels checked line by line
            rank[h],
            r,
            rank[t],
            tuple(labels[i] for i in order.tolist()),
            tuple(self.relations),
            (),
            np.zeros(len(h), dtype=np.uint8),
            np.full(n, -1, dtype=np.int32),
            source,
            self.records,
            skipped,
        )
        return _with_records(kg, self.records)


def _tsv_columns(text: str) -> tuple[list[str], list[str], list[str]] | None:
    """The three columns of a block in which every line has three fields, else None.

    Splits the whole block at once; a block with anything else (a blank line, a wrong
    field count, a carriage return that does not end a line) returns None and goes
    through the line-by-line loop, which names the line. Empty fields are found among the
    new labels (:meth:`_HeadsFirst.add`).
    """
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")  # the one trailing CR of each line
    body = text[:-1] if text.endswith("\n") else text
    if not body:
        return None
    lines = body.split("\n")
    if body.count("\t") != 2 * len(lines):
        return None
    if list(map(str.count, lines, itertools.repeat("\t"))).count(2) != len(lines):
        return None
    flat = body.replace("\n", "\t").split("\t")
    return flat[0::3], flat[1::3], flat[2::3]


def _read_tsv_python(
    path: PathLike, header: bool, encoding: str, max_line_bytes: int
) -> KnowledgeGraph:
    ids = _HeadsFirst()
    skipped = 0
    skip_header = header
    for first, text in _text_blocks(path, encoding, max_line_bytes):
        cols = None if skip_header else _tsv_columns(text)
        if cols is not None and ids.add(*cols, check=True):
            continue
        heads: list[str] = []
        rels: list[str] = []
        tails: list[str] = []
        for i, line in enumerate(_split_lines(text)):
            if _is_blank(line):
                skipped += 1
                continue
            if skip_header:
                skip_header = False
                skipped += 1
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                hint = " (is the file comma- or space-separated?)" if len(parts) == 1 else ""
                raise KGFormatError(
                    f"expected 3 tab-separated fields (head, relation, tail), got "
                    f"{len(parts)}{hint}: {line[:80]!r}",
                    path=path,
                    line=first + i,
                )
            h, r, t = parts
            if not (h.strip() and r.strip() and t.strip()):
                field = next(
                    f for f, v in zip(("head", "relation", "tail"), parts) if not v.strip()
                )
                raise KGFormatError(
                    f"empty {field} field: {line[:80]!r}", path=path, line=first + i
                )
            heads.append(h)
            rels.append(r)
            tails.append(t)
        ids.add(heads, rels, tails)
    return ids.build(str(path), skipped)


def read_tsv(
    path: PathLike,
    *,
    header: bool = False,
    encoding: str = "utf-8",
    max_line_bytes: int = MAX_LINE_BYTES,
    engine: Engine = "auto",
) -> KnowledgeGraph:
    """Read a TSV file of ``head<TAB>relation<TAB>tail`` lines.

    Parameters
    ----------
    path : str or PathLike
        File to read; a ``.gz`` suffix means gzip-compressed.
    header : bool
        Skip the first non-blank line (PyKEEN files have no header; default False).
    encoding : str
        Text encoding (default UTF-8).
    max_line_bytes : int
        Longest accepted line (default :data:`MAX_LINE_BYTES`, 16 MiB).
    engine : {"auto", "python", "pyarrow"}
        ``"pyarrow"`` parses with pyarrow's multithreaded CSV reader (``pip install
        "kgaug[fast]"``), several times faster on large files; ``"python"`` streams the
        file with memory that follows the distinct facts; ``"auto"`` (default) takes
        pyarrow for UTF-8 files of 8 MiB and more when it is installed. Both give the
        same graph, ids and load report, and the same errors: a file the pyarrow engine
        cannot check (another encoding, a malformed line) is read by the Python engine.
        Fields are read literally (quotes are ordinary characters).

    Returns
    -------
    KnowledgeGraph
        With a :attr:`~KnowledgeGraph.load_report` counting lines, merged duplicates and
        skipped (blank) lines. Entity ids follow the file: first the heads in the order
        of their first line, then the entities that are only tails, in the order of
        their first line as a tail; relation ids in the order of their first line.

    Raises
    ------
    KGFormatError
        A line without exactly three tab-separated fields, an empty field, bytes that
        do not decode (a UTF-16 file is named as such), or a line longer than
        ``max_line_bytes``; the message names the file and line.
    ModuleNotFoundError
        ``engine="pyarrow"`` without pyarrow (the message says how to install it).
    """
    _check_line_cap(max_line_bytes)
    if _use_pyarrow(engine, path, encoding):
        from kgaug._fastread import read_tsv_arrow

        kg = read_tsv_arrow(path, header=header, max_line_bytes=max_line_bytes)
        if kg is not None:
            return kg
    return _read_tsv_python(path, header, encoding, max_line_bytes)


def read_jsonl(
    path: PathLike,
    *,
    head: str = "head",
    relation: str = "relation",
    tail: str = "tail",
    head_type: str = "head_type",
    tail_type: str = "tail_type",
    provenance: str = "provenance",
    encoding: str = "utf-8",
    max_line_bytes: int = MAX_LINE_BYTES,
) -> KnowledgeGraph:
    """Read one JSON object per line.

    Parameters
    ----------
    path : str or PathLike
        File to read (``.gz`` ok).
    head, relation, tail : str
        Keys holding the triple (defaults ``head``, ``relation``, ``tail``).
    head_type, tail_type : str
        Optional keys with entity types (missing or ``null`` = untyped).
    provenance : str
        Optional key with ``real`` / ``synthetic`` / ``counterfactual``.
    encoding : str
        Text encoding.
    max_line_bytes : int
        Longest accepted line (default :data:`MAX_LINE_BYTES`, 16 MiB).

    Raises
    ------
    KGFormatError
        Invalid JSON, JSON nested deeper than :data:`MAX_JSON_DEPTH`, a line that is not
        an object, a missing or empty key, an entity given two different types, or a
        line longer than ``max_line_bytes``; the message names the file and line.
    """
    b = _Builder(source=str(path), path=path)
    for first, lines in _decode_lines(path, encoding, max_line_bytes):
        for i, line in enumerate(lines):
            lineno = first + i
            if not line.strip():
                b.skipped += 1
                continue
            try:
                obj = _json_loads(line, path, lineno)
            except json.JSONDecodeError as e:
                raise KGFormatError(
                    f"invalid JSON: {e.msg} at column {e.colno}", path=path, line=lineno
                ) from None
            if not isinstance(obj, dict):
                raise KGFormatError(
                    f"expected a JSON object, got {type(obj).__name__}", path=path, line=lineno
                )
            missing = [k for k in (head, relation, tail) if k not in obj]
            if missing:
                raise KGFormatError(
                    f"missing key(s) {missing}; the object has {sorted(obj)}",
                    path=path,
                    line=lineno,
                )
            prov = Provenance.REAL
            if obj.get(provenance) is not None:
                try:
                    prov = _as_provenance(obj[provenance])
                except ValueError as e:
                    raise KGFormatError(str(e), path=path, line=lineno) from None
            b.add(obj[head], obj[relation], obj[tail], prov, line=lineno)
            if obj.get(head_type) is not None:
                b.set_type(obj[head], obj[head_type], line=lineno)
            if obj.get(tail_type) is not None:
                b.set_type(obj[tail], obj[tail_type], line=lineno)
    return b.build()


def read_csv(
    path: PathLike,
    *,
    head: str = "head",
    relation: str = "relation",
    tail: str = "tail",
    head_type: str | None = None,
    tail_type: str | None = None,
    provenance: str | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    max_line_bytes: int = MAX_LINE_BYTES,
    engine: Engine = "auto",
) -> KnowledgeGraph:
    r"""Read a CSV file whose header names the columns.

    Parameters
    ----------
    path : str or PathLike
        File to read (``.gz`` ok).
    head, relation, tail : str
        Column names of the triple.
    head_type, tail_type, provenance : str, optional
        Column names of entity types and provenance, if the file has them.
    delimiter : str
        Field delimiter (``","``; use ``";"`` or ``"\\t"`` as needed).
    encoding : str
        Text encoding.
    max_line_bytes : int
        Longest accepted line (default :data:`MAX_LINE_BYTES`, 16 MiB).
    engine : {"auto", "python", "pyarrow"}
        As for :func:`read_tsv`: ``"pyarrow"`` parses with pyarrow (``pip install
        "kgaug[fast]"``), ``"auto"`` (default) takes it for UTF-8 files of 8 MiB and more
        when it is installed. Same graph, ids, load report and errors either way; a file
        pyarrow cannot check (another encoding, a one-character delimiter that is not
        ASCII, quotes other than around whole fields on one line, a malformed row) is
        read by the Python engine.

    Returns
    -------
    KnowledgeGraph
        With a :attr:`~KnowledgeGraph.load_report` (records, merged duplicates, skipped
        blank rows). Entity ids follow the records in order, a record's head before its
        tail (by first appearance); relation ids and type ids by first appearance too.

    Raises
    ------
    KGFormatError
        A missing column (the message lists the header), a short row, an empty field,
        undecodable bytes or a line longer than ``max_line_bytes``; the message names the
        file and line.
    ModuleNotFoundError
        ``engine="pyarrow"`` without pyarrow (the message says how to install it).
    """
    _check_line_cap(max_line_bytes)
    if _use_pyarrow(engine, path, encoding):
        from kgaug._fastread import read_csv_arrow

        kg = read_csv_arrow(
            path,
            head=head,
            relation=relation,
            tail=tail,
            head_type=head_type,
            tail_type=tail_type,
            provenance=provenance,
            delimiter=delimiter,
            max_line_bytes=max_line_bytes,
        )
        if kg is not None:
            return kg
    b = _Builder(source=str(path), path=path)
    text_lines = (
        ln + "\n" for _, chunk in _decode_lines(path, encoding, max_line_bytes) for ln in chunk
    )
    reader = csv.reader(text_lines, delimiter=delimiter)
    try:
        header_row = next(reader)
    except StopIteration:
        return b.build()
    except csv.Error as e:  # pragma: no cover - csv rarely fails on a header
        raise KGFormatError(str(e), path=path, line=1) from None
    cols = {name: i for i, name in enumerate(header_row)}
    wanted = {"head": head, "relation": relation, "tail": tail}
    optional = {"head_type": head_type, "tail_type": tail_type, "provenance": provenance}
    for role, name in [*wanted.items(), *((k, v) for k, v in optional.items() if v)]:
        if name not in cols:
            raise KGFormatError(
                f"no column {name!r} for {role}; the header has {header_row} (name the "
                "columns with head=, relation=, tail=; on the command line --columns H,R,T)",
                path=path,
                line=1,
            )
    hi, ri, ti = cols[head], cols[relation], cols[tail]
    hti = cols[head_type] if head_type else None
    tti = cols[tail_type] if tail_type else None
    pi = cols[provenance] if provenance else None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise KGFormatError(str(e), path=path, line=reader.line_num) from None
        lineno = reader.line_num
        if not row or not any(c.strip() for c in row):
            b.skipped += 1
            continue
        if len(row) != len(header_row):
            raise KGFormatError(
                f"row has {len(row)} fields, the header has {len(header_row)}",
                path=path,
                line=lineno,
            )
        prov = Provenance.REAL
        if pi is not None and row[pi].strip():
            try:
                prov = _as_provenance(row[pi].strip())
            except ValueError as e:
                raise KGFormatError(str(e), path=path, line=lineno) from None
        b.add(row[hi], row[ri], row[ti], prov, line=lineno)
        if hti is not None and row[hti].strip():
            b.set_type(row[hi], row[hti], line=lineno)
        if tti is not None and row[tti].strip():
            b.set_type(row[ti], row[tti], line=lineno)
    return b.build()


# ---------------------------------------------------------------------------- 2Wiki

#: Head and tail types of 2WikiMultiHopQA relations (Wikidata properties), used to type
#: entities read by :func:`read_2wiki`. ``None`` leaves the side untyped.
TWOWIKI_RELATION_TYPES: dict[str, tuple[str | None, str | None]] = {
    "director": ("Object", "Person"),
    "producer": ("Object", "Person"),
    "screenwriter": ("Object", "Person"),
    "cast member": ("Object", "Person"),
    "composer": ("Object", "Person"),
    "performer": ("Object", "Person"),
    "editor": ("Object", "Person"),
    "presenter": ("Object", "Person"),
    "creator": ("Object", "Person"),
    "author": ("Object", "Person"),
    "founded by": ("Object", "Person"),
    "publication date": ("Object", "Date"),
    "inception": ("Object", "Date"),
    "country of origin": ("Object", "Location"),
    "original language of film or TV show": ("Object", "Object"),
    "manufacturer": ("Object", "Object"),
    "publisher": ("Object", "Object"),
    "record label": ("Object", "Object"),
    "has part": ("Object", "Object"),
    "genre": ("Object", "Object"),
    "date of birth": ("Person", "Date"),
    "date of death": ("Person", "Date"),
    "place of birth": ("Person", "Location"),
    "place of death": ("Person", "Location"),
    "place of burial": ("Person", "Location"),
    "place of detention": ("Person", "Location"),
    "country of citizenship": ("Person", "Location"),
    "cause of death": ("Person", "Object"),
    "educated at": ("Person", "Object"),
    "employer": ("Person", "Object"),
    "occupation": ("Person", "Object"),
    "award received": (None, "Object"),
    "position held": ("Person", "Object"),
    "member of": (None, "Object"),
    "military branch": ("Person", "Object"),
    "religion": ("Person", "Object"),
    "father": ("Person", "Person"),
    "mother": ("Person", "Person"),
    "spouse": ("Person", "Person"),
    "child": ("Person", "Person"),
    "sibling": ("Person", "Person"),
    "doctoral advisor": ("Person", "Person"),
    "doctoral student": ("Person", "Person"),
    "student of": ("Person", "Person"),
    "student": ("Person", "Person"),
    "country": ("Location", "Location"),
    "located in the administrative territorial entity": ("Location", "Location"),
    "capital": ("Location", "Location"),
    "continent": ("Location", "Location"),
}

_DATE = re.compile(
    r"^\s*(\d{1,4}(\s*(BC|BCE|AD|CE))?|"
    r"(\d{1,2}\s+)?(January|February|March|April|May|June|July|August|September|October|"
    r"November|December)(\s+\d{1,2},?)?\s+\d{1,4}|\d{4}-\d{2}-\d{2})\s*$",
    re.IGNORECASE,
)
_TYPE_PRIORITY = {"Person": 0, "Location": 1, "Date": 2, "Object": 3}

_EVIDENCE_KEYS = (
    ("fact", "relation", "entity"),
    ("subject", "relation", "object"),
    ("subject", "property", "object"),
    ("head", "relation", "tail"),
)


def _evidence_triples(ev: Any, where: str, path: PathLike) -> list[tuple[Any, Any, Any]]:
    """Normalize one row's ``evidences`` value to a list of 3-tuples."""
    if isinstance(ev, str):
        try:
            ev = _json_loads(ev, path, None, prefix=f"{where}: evidences string: ")
        except json.JSONDecodeError:
            raise KGFormatError(
                f"{where}: evidences is a string that is not JSON", path=path
            ) from None
    if ev is None:
        return []
    if isinstance(ev, Mapping):  # columnar: {"fact": [...], "relation": [...], "entity": [...]}
        for keys in _EVIDENCE_KEYS:
            if all(k in ev for k in keys):
                cols = [list(ev[k]) for k in keys]
                if len({len(c) for c in cols}) != 1:
                    raise KGFormatError(
                        f"{where}: evidence columns {keys} have different lengths", path=path
                    )
                return list(zip(*cols))
        raise KGFormatError(
            f"{where}: evidences object has keys {sorted(ev)}, expected one of "
            f"{[list(k) for k in _EVIDENCE_KEYS]}",
            path=path,
        )
    if not isinstance(ev, list):
        raise KGFormatError(
            f"{where}: evidences must be a list of [subject, relation, object], got "
            f"{type(ev).__name__}",
            path=path,
        )
    out = []
    for j, item in enumerate(ev):
        if isinstance(item, Mapping):
            for keys in _EVIDENCE_KEYS:
                if all(k in item for k in keys):
                    out.append(tuple(item[k] for k in keys))
                    break
            else:
                raise KGFormatError(
                    f"{where}, evidence {j}: object keys {sorted(item)} are not a triple",
                    path=path,
                )
        elif isinstance(item, (list, tuple)) and len(item) == 3:
            out.append((item[0], item[1], item[2]))
        else:
            raise KGFormatError(
                f"{where}, evidence {j}: expected [subject, relation, object], got {item!r}",
                path=path,
            )
    return out


def _is_triple_like(item: Any) -> bool:
    if isinstance(item, (list, tuple)):
        return len(item) == 3 and all(isinstance(x, str) for x in item)
    if isinstance(item, Mapping):
        return any(all(isinstance(item.get(k), str) for k in keys) for keys in _EVIDENCE_KEYS)
    return False


def _is_single_row(doc: Mapping[str, Any]) -> bool:
    """Tell one 2Wiki row object from a columnar mirror (an object of columns)."""
    if any(isinstance(doc.get(k), str) for k in ("_id", "question", "answer", "type")):
        return True
    ev = doc.get("evidences")
    return isinstance(ev, list) and bool(ev) and all(_is_triple_like(x) for x in ev)


def _2wiki_rows(path: PathLike, encoding: str) -> Iterator[tuple[str, Any]]:
    """Yield ``(where, evidences)`` for each row of any supported 2Wiki shape."""
    with open_binary(path) as fh:
        try:
            data = fh.read()
        except (OSError, EOFError, zlib.error) as e:
            raise KGFormatError(f"cannot read compressed data ({e})", path=path) from None
    if _ascii_compatible(encoding):
        _sniff_encoding(data[:4096], path, encoding)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        bad_line = data.count(b"\n", 0, e.start) + 1
        raise KGFormatError(
            f"undecodable bytes (file is not {encoding})", path=path, line=bad_line
        ) from None
    text = text.removeprefix("\ufeff")
    stripped = text.lstrip(" \t\r\n")
    try:
        raw = data if _ascii_compatible(encoding) else None  # scanned from line 1
        lead = 1 if raw is not None else 1 + text.count("\n", 0, len(text) - len(stripped))
        doc = _json_loads(stripped, path, lead, raw=raw, scan_first=False)
        lines_mode = False
    except json.JSONDecodeError as e:
        if not stripped.startswith("{"):
            raise KGFormatError(f"invalid JSON: {e.msg}", path=path, line=e.lineno) from None
        lines_mode = True
    if lines_mode:  # JSON lines, one row per line
        for i, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                row = _json_loads(line, path, i)
            except json.JSONDecodeError as e:
                raise KGFormatError(f"invalid JSON: {e.msg}", path=path, line=i) from None
            if not isinstance(row, dict) or "evidences" not in row:
                raise KGFormatError("row has no 'evidences' key", path=path, line=i)
            yield f"line {i}", row["evidences"]
        return
    if isinstance(doc, dict) and isinstance(doc.get("data"), list):
        doc = doc["data"]
    if isinstance(doc, dict) and _is_single_row(doc):  # a JSON-lines file with one row
        yield "line 1", doc["evidences"]
        return
    if isinstance(doc, list):
        for i, row in enumerate(doc):
            if not isinstance(row, dict) or "evidences" not in row:
                keys = sorted(row) if isinstance(row, dict) else type(row).__name__
                raise KGFormatError(f"row {i} has no 'evidences' key (it has {keys})", path=path)
            yield f"row {i}", row["evidences"]
    elif isinstance(doc, dict):
        col = doc.get("evidences")
        if isinstance(col, dict):  # pandas to_json(orient="columns"): {"0": [...], "1": [...]}
            col = [col[k] for k in sorted(col, key=lambda k: int(k) if k.isdigit() else k)]
        if not isinstance(col, list):
            raise KGFormatError(
                f"expected a list of rows or a column 'evidences'; the object has keys "
                f"{sorted(doc)[:10]}",
                path=path,
            )
        for i, ev in enumerate(col):
            yield f"row {i}", ev
    else:
        raise KGFormatError(f"unsupported JSON top level {type(doc).__name__}", path=path)


def read_2wiki(
    path: PathLike,
    *,
    infer_types: bool = True,
    relation_types: Mapping[str, tuple[str | None, str | None]] | None = None,
    encoding: str = "utf-8",
) -> KnowledgeGraph:
    """Build a typed knowledge graph from the ``evidences`` of 2WikiMultiHopQA rows.

    Parameters
    ----------
    path : str or PathLike
        ``train.json``/``dev.json`` (a list of row objects), JSON lines, or a columnar
        mirror (an object with an ``evidences`` column). Each row's ``evidences`` may be
        a list of ``[subject, relation, object]``, a list of objects, a columnar object
        (``{"fact": [...], "relation": [...], "entity": [...]}``) or a JSON string of any
        of these.
    infer_types : bool
        Type entities from their relations (:data:`TWOWIKI_RELATION_TYPES`, Person /
        Location / Date / Object); an entity typed differently by different facts takes
        its majority type. Date-looking tails are typed ``Date``.
    relation_types : mapping, optional
        Extra or overriding ``relation -> (head type, tail type)`` entries.
    encoding : str
        Text encoding.

    Raises
    ------
    KGFormatError
        Names the row (or line) and evidence index of the first malformed record.
    """
    schema = dict(TWOWIKI_RELATION_TYPES)
    schema.update(relation_types or {})
    b = _Builder(source=str(path), path=path)
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for where, ev in _2wiki_rows(path, encoding):
        for j, (s, r, o) in enumerate(_evidence_triples(ev, where, path)):
            try:
                b.add(s, r, o)
            except KGFormatError as e:
                raise KGFormatError(f"{where}, evidence {j}: {e.reason}", path=path) from None
            if infer_types:
                ht, tt = schema.get(r, (None, None))
                if ht:
                    votes[s][ht] += 1
                if tt == "Date" or (tt is None and _DATE.match(o)):
                    votes[o]["Date"] += 1
                elif tt:
                    votes[o][tt] += 1
    for ent, c in votes.items():
        best = max(c.items(), key=lambda kv: (kv[1], -_TYPE_PRIORITY.get(kv[0], 9)))[0]
        b.set_type(ent, best)
    return b.build()


# ---------------------------------------------------------------------------- networkx


def from_networkx(
    graph: nx.DiGraph | nx.MultiDiGraph, *, relation: str = "relation", type_attr: str = "type"
) -> KnowledgeGraph:
    """Build a :class:`KnowledgeGraph` from a directed networkx graph.

    See :meth:`KnowledgeGraph.from_networkx`.

    Raises
    ------
    TypeError
        ``graph`` is not a networkx graph (``None``, a list of edges, ...).
    ValueError
        An undirected graph, or two nodes with the same string label.
    KGFormatError
        An edge without a relation or with a bad provenance.
    """
    if not all(hasattr(graph, a) for a in ("is_directed", "is_multigraph", "nodes", "edges")):
        raise TypeError(
            "from_networkx: graph must be a networkx DiGraph or MultiDiGraph, got "
            f"{type(graph).__name__}"
            + (
                " (for a list of triples use KnowledgeGraph.from_triples)"
                if isinstance(graph, (list, tuple))
                else ""
            )
        )
    if not graph.is_directed():
        raise ValueError(
            "from_networkx needs a directed graph (DiGraph or MultiDiGraph); an undirected "
            "edge has no head and tail. Use graph.to_directed() to read both directions."
        )
    b = _Builder(source=f"<networkx {type(graph).__name__}>")
    names: dict[Any, str] = {}
    for node, attrs in graph.nodes(data=True):
        label = str(node)
        if label in b.entities:
            raise ValueError(
                f"two nodes both read as entity {label!r}; node labels must differ as strings"
            )
        names[node] = label
        b.entity(label)
        if attrs.get(type_attr) is not None:
            b.set_type(label, str(attrs[type_attr]))
    edges: Iterable[tuple[Any, ...]]
    multi = graph.is_multigraph()
    edges = graph.edges(keys=True, data=True) if multi else graph.edges(data=True)
    for i, e in enumerate(edges):
        u, v, data = e[0], e[1], e[-1]
        rel = data.get(relation)
        if rel is None and multi and isinstance(e[2], str):
            rel = e[2]
        if rel is None:
            raise KGFormatError(
                f"edge ({u!r}, {v!r}) has no {relation!r} attribute"
                + (" and no string key" if multi else ""),
                line=i,
                where=f"edge {i}",
            )
        prov = Provenance.REAL
        if data.get("provenance") is not None:
            try:
                prov = _as_provenance(data["provenance"])
            except ValueError as e:
                raise KGFormatError(str(e), line=i, where=f"edge {i} ({u!r}, {v!r})") from None
        b.add(names[u], str(rel), names[v], prov, line=i)
    return b.build()


def to_networkx(kg: KnowledgeGraph) -> nx.MultiDiGraph:
    """Return ``kg`` as a ``networkx.MultiDiGraph`` (see :meth:`KnowledgeGraph.to_networkx`)."""
    import networkx as nx

    g = nx.MultiDiGraph()
    ents = kg.entities
    types = kg.types
    g.add_nodes_from(
        (e, {"type": types[c] if c >= 0 else None})
        for e, c in zip(ents, kg.entity_type_codes.tolist())
    )
    rels = kg.relations
    provs = [p.value for p in Provenance]
    g.add_edges_from(
        (ents[h], ents[t], rels[r], {"relation": rels[r], "provenance": provs[p]})
        for h, r, t, p in zip(
            kg.head_ids.tolist(),
            kg.relation_ids.tolist(),
            kg.tail_ids.tolist(),
            kg.provenance_codes.tolist(),
        )
    )
    return g


# ---------------------------------------------------------------------------- writers


def write_tsv(kg: KnowledgeGraph, path: PathLike) -> None:
    """Write ``head<TAB>relation<TAB>tail`` lines atomically (``.gz`` compresses).

    Types and provenance are not part of the TSV convention; use :func:`write_jsonl` to
    keep them. Isolated entities and relations without facts cannot be written either,
    so reading the file back may give a smaller ``|V|`` (and other branching factors).

    Raises
    ------
    ValueError
        A label contains a tab or a newline, which TSV cannot represent.
    """
    bad = re.compile(r"[\t\n\r]")
    for label in itertools.chain(kg.entities, kg.relations):
        if bad.search(label):
            raise ValueError(f"label {label!r} contains a tab or newline; write JSONL instead")
    with atomic_write(path) as fh:
        fh.writelines(f"{h}\t{r}\t{t}\n" for h, r, t in kg.triples())


def write_jsonl(kg: KnowledgeGraph, path: PathLike) -> None:
    """Write one JSON object per fact atomically, with types and provenance.

    The output reads back with :func:`read_jsonl` into an equal graph, except that
    isolated entities and relations without facts are not representable and are lost
    (``|V|`` and the branching factors may change).
    """
    ents = kg.entities
    types = kg.types
    codes = kg.entity_type_codes.tolist()
    rels = kg.relations
    provs = [p.value for p in Provenance]
    with atomic_write(path) as fh:
        for h, r, t, p in zip(
            kg.head_ids.tolist(),
            kg.relation_ids.tolist(),
            kg.tail_ids.tolist(),
            kg.provenance_codes.tolist(),
        ):
            rec: dict[str, Any] = {"head": ents[h], "relation": rels[r], "tail": ents[t]}
            if codes[h] >= 0:
                rec["head_type"] = types[codes[h]]
            if codes[t] >= 0:
                rec["tail_type"] = types[codes[t]]
            if p:
                rec["provenance"] = provs[p]
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")

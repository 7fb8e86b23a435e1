"""The pyarrow engine of :func:`kgaug.io.read_tsv` and :func:`kgaug.io.read_csv`.

Needs ``pyarrow`` (``pip install "kgaug[fast]"``). pyarrow's multithreaded CSV parser
splits the lines into Arrow string columns, Arrow dictionary-encodes the labels and numpy
numbers them by first appearance, so no Python code runs per line (only per distinct
label, to make the Python strings of the graph).

The engine accepts only what it can check to read exactly as the Python engine does:
UTF-8 text whose lines all parse, with no empty or whitespace-only label, no carriage
return except before a newline and, for CSV, quotes only around whole fields on one line.
Anything else makes the reader return ``None`` and the caller reads the file with the
Python engine, which gives the same graph or the precise error (file and line).
"""

from __future__ import annotations

import codecs
import csv
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from kgaug import io as kio
from kgaug.errors import KGFormatError
from kgaug.kg import KnowledgeGraph, _as_provenance
from kgaug.records import Provenance

__all__ = ["available", "pyarrow_modules", "read_csv_arrow", "read_tsv_arrow"]

PathLike = str | os.PathLike[str]
IntArray = npt.NDArray[np.int64]

#: Blocks of the Python engine (:data:`kgaug.io._BLOCK_BYTES`) per piece of the file
#: handed to pyarrow at a time (8 MiB by default: less than ``max_line_bytes``, so the
#: line-length scan of :func:`kgaug.io._raw_blocks` rarely runs).
PIECE_BLOCKS = 2
#: Bytes per block of pyarrow's parser (the unit of its threads).
ARROW_BLOCK_BYTES = 1 << 22

#: The characters ``str.strip()`` removes (``str.isspace``), for Arrow's regex engine: a
#: label made only of these is empty for the Python engine.
_PY_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_BLANK_RE = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in _PY_SPACE) + "]*$"


class _NotFastError(Exception):
    """The file needs the Python engine (it raises the precise error, or reads it)."""


def available() -> bool:
    """Whether pyarrow can be imported."""
    try:
        pyarrow_modules()
    except ModuleNotFoundError:
        return False
    return True


def pyarrow_modules() -> tuple[Any, Any, Any]:
    """``(pyarrow, pyarrow.csv, pyarrow.compute)``, or the install hint."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pcsv
    except ImportError:
        raise ModuleNotFoundError(
            'the pyarrow engine needs pyarrow: pip install "kgaug[fast]"', name="pyarrow"
        ) from None
    return pa, pcsv, pc


def _pieces(path: PathLike, max_line_bytes: int) -> Any:
    """Runs of whole lines of the file, checked like the Python engine checks its blocks."""
    return kio._raw_blocks(
        path,
        "utf-8",
        max_line_bytes,
        block_bytes=kio._BLOCK_BYTES * PIECE_BLOCKS,
        sniff_bytes=kio._BLOCK_BYTES,  # the Python engine sniffs its first block
    )


def _count_lines(data: bytes, start: int) -> int:
    """Lines of ``data[start:]`` as the Python engine splits them."""
    return data.count(b"\n", start) + (len(data) > start and not data.endswith(b"\n"))


def _check_newlines(data: bytes) -> None:
    """A carriage return is only allowed before a newline (pyarrow ends lines at both)."""
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        raise _NotFastError


def _longest_line(arr: npt.NDArray[np.uint8]) -> int:
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [len(arr)]])
    return int((ends - starts).max())


def _plain_quotes(arr: npt.NDArray[np.uint8], delimiter: int) -> bool:
    """Whether every double quote wraps a whole field on one line (or doubles one inside).

    For such lines Python's :mod:`csv` and pyarrow give the same fields; other quoting
    (a quote inside an unquoted field, text after a closing quote, a field running over
    a line end) is left to the Python engine.
    """
    q = np.flatnonzero(arr == 34)
    if not len(q):
        return True
    if len(q) % 2:
        return False
    nl = np.flatnonzero(arr == 10)
    if np.any(np.searchsorted(q, nl) % 2):  # odd quotes before a line end: still open
        return False
    last = len(arr) - 1
    prev = arr[np.maximum(q - 1, 0)]
    prev[q == 0] = 10
    nxt = arr[np.minimum(q + 1, last)]
    nxt[q == last] = 10
    opening = np.arange(len(q)) % 2 == 0
    ok_open = (prev == delimiter) | (prev == 10) | (prev == 34)
    ok_close = (nxt == delimiter) | (nxt == 10) | (nxt == 13) | (nxt == 34)
    return bool(np.all(ok_open[opening]) and np.all(ok_close[~opening]))


def _check_utf8(pa: Any, data: bytes) -> None:
    """Refuse bytes that are not UTF-8 (raises ``pyarrow.ArrowInvalid``)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(
        full=True
    )


def _buffer(pa: Any, data: bytes, start: int) -> Any:
    """``data[start:]`` for pyarrow, which would drop a byte-order mark starting it."""
    if data.startswith(codecs.BOM_UTF8, start):  # a label's, to keep: after an empty line
        return pa.py_buffer(b"\n" + data[start:])
    return pa.py_buffer(memoryview(data)[start:])


#: Values per thread below which :func:`_encode` runs on fewer threads.
ENCODE_MIN_PER_THREAD = 1 << 21
#: At most this many threads for :func:`_encode`: each adds its distinct values to the
#: final merge.
ENCODE_MAX_THREADS = 4


def _encode_one(pa: Any, pc: Any, chunks: list[Any]) -> tuple[Any, npt.NDArray[Any]]:
    """``(distinct values, index of each value)`` of string chunks, in any order."""
    enc = pc.dictionary_encode(pa.chunked_array(chunks, type=pa.string()))
    if enc.num_chunks == 0:
        return pa.array([], pa.string()), np.zeros(0, dtype=np.int32)

    def key(d: Any) -> tuple[int, list[int]]:
        return len(d), [0 if b is None else b.address for b in d.buffers()]

    dictionary = enc.chunk(enc.num_chunks - 1).dictionary
    if any(key(c.dictionary) != key(dictionary) for c in enc.chunks):
        enc = enc.unify_dictionaries()  # chunks with their own dictionaries
        dictionary = enc.chunk(0).dictionary
    ids = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in enc.chunks])
    return dictionary, ids


def _encode(pa: Any, pc: Any, chunks: list[Any]) -> tuple[Any, npt.NDArray[Any]]:
    """As :func:`_encode_one`, on up to ``pyarrow.cpu_count()`` threads.

    Arrow's hashing runs on one thread; contiguous runs of chunks are encoded in
    parallel (Arrow releases the GIL) and their dictionaries merged by one more encode.
    """
    total = sum(len(c) for c in chunks)
    k = min(pa.cpu_count(), ENCODE_MAX_THREADS, total // ENCODE_MIN_PER_THREAD, len(chunks))
    if k < 2:
        return _encode_one(pa, pc, chunks)
    ends = np.cumsum([len(c) for c in chunks])
    cuts = [0, *np.searchsorted(ends, np.arange(1, k) * total / k).tolist(), len(chunks)]
    groups = [chunks[a:b] for a, b in itertools.pairwise(cuts) if b > a]
    with ThreadPoolExecutor(len(groups)) as ex:
        parts = list(ex.map(lambda g: _encode_one(pa, pc, g), groups))
    dictionary, merged = _encode_one(pa, pc, [d for d, _ in parts])
    starts = np.cumsum([0] + [len(d) for d, _ in parts])
    ids = np.concatenate([merged[s : s + len(d)][i] for s, (d, i) in zip(starts, parts)])
    return dictionary, ids


def _first_seen(n: int, ids: npt.NDArray[Any], positions: IntArray) -> tuple[IntArray, IntArray]:
    """``(order, rank)`` of ids ``0..n-1`` by their smallest position (rank = new id)."""
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, ids, positions)
    if n and first.max() == np.iinfo(np.int64).max:
        raise _NotFastError  # a dictionary value without a row: never happens, but be sure
    order = np.argsort(first, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return order, rank


def _labels(pa: Any, pc: Any, dictionary: Any, order: IntArray) -> list[str]:
    """The Python labels in ``order``; an empty or whitespace-only one is refused."""
    if len(dictionary) and pc.any(pc.match_substring_regex(dictionary, _BLANK_RE)).as_py():
        raise _NotFastError  # the Python engine names the line of the empty field
    labels: list[str] = dictionary.take(pa.array(order)).to_pylist()
    return labels


def _numbered(
    pa: Any, pc: Any, chunks: list[Any], positions: IntArray
) -> tuple[list[str], IntArray]:
    """Labels in order of first position and the new id of every value."""
    dictionary, ids = _encode(pa, pc, chunks)
    order, rank = _first_seen(len(dictionary), ids, positions)
    return _labels(pa, pc, dictionary, order), rank[ids]


def _parse(pa: Any, pcsv: Any, buf: Any, names: list[str], include: list[str], parse: Any) -> Any:
    """Parse ``buf`` into string columns ``include`` (of ``names``); no nulls."""
    table = pcsv.read_csv(
        buf,
        read_options=pcsv.ReadOptions(
            column_names=names, use_threads=True, block_size=ARROW_BLOCK_BYTES
        ),
        parse_options=parse,
        convert_options=pcsv.ConvertOptions(
            include_columns=include,
            column_types=dict.fromkeys(include, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            check_utf8=True,
        ),
    )
    if any(table.column(c).null_count for c in include):
        raise _NotFastError
    return table


# ------------------------------------------------------------------------------ TSV


def read_tsv_arrow(path: PathLike, *, header: bool, max_line_bytes: int) -> KnowledgeGraph | None:
    """:func:`kgaug.io.read_tsv` (UTF-8) with pyarrow, or None for the Python engine."""
    pa, pcsv, pc = pyarrow_modules()
    try:
        return _read_tsv(pa, pcsv, pc, path, header, max_line_bytes)
    except (_NotFastError, KGFormatError, pa.ArrowException):
        return None


def _skip_header(data: bytes, start: int) -> tuple[int, bool]:
    """``(offset after the header line, found)``: the first non-blank line is the header."""
    n = len(data)
    while start < n:
        nl = data.find(b"\n", start)
        end = n if nl < 0 else nl + 1
        line = data[start:end].rstrip(b"\n")
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.strip(b" \r\x0b\x0c"):
            try:
                line.decode("utf-8")  # the Python engine decodes the header too
            except UnicodeDecodeError:
                raise _NotFastError from None
            return end, True
        start = end
    return start, False


def _read_tsv(
    pa: Any, pcsv: Any, pc: Any, path: PathLike, header: bool, max_line_bytes: int
) -> KnowledgeGraph:
    parse = pcsv.ParseOptions(
        delimiter="\t",
        quote_char=False,
        double_quote=False,
        escape_char=False,
        newlines_in_values=False,
        ignore_empty_lines=True,
    )
    names = ["h", "r", "t"]
    columns: dict[str, list[Any]] = {n: [] for n in names}
    lines = rows = 0
    skip = header
    for first, data in _pieces(path, max_line_bytes):
        _check_newlines(data)
        start = 3 if first == 1 and data.startswith(codecs.BOM_UTF8) else 0
        lines += _count_lines(data, start)
        if skip:
            start, found = _skip_header(data, start)
            skip = not found
        if start >= len(data):
            continue
        table = _parse(pa, pcsv, _buffer(pa, data, start), names, names, parse)
        rows += table.num_rows
        for n in names:
            columns[n].extend(table.column(n).chunks)
    r_labels, r = _numbered(pa, pc, columns["r"], np.arange(rows))
    e_labels, e = _numbered(pa, pc, columns["h"] + columns["t"], np.arange(2 * rows))
    return KnowledgeGraph._from_valid(
        e[:rows],
        r,
        e[rows:],
        tuple(e_labels),
        tuple(r_labels),
        (),
        np.zeros(rows, dtype=np.uint8),
        np.full(len(e_labels), -1, dtype=np.int32),
        str(path),
        rows,
        lines - rows,
    )


# ------------------------------------------------------------------------------ CSV


def read_csv_arrow(
    path: PathLike,
    *,
    head: str,
    relation: str,
    tail: str,
    head_type: str | None,
    tail_type: str | None,
    provenance: str | None,
    delimiter: str,
    max_line_bytes: int,
) -> KnowledgeGraph | None:
    """:func:`kgaug.io.read_csv` (UTF-8) with pyarrow, or None for the Python engine."""
    pa, pcsv, pc = pyarrow_modules()
    if len(delimiter) != 1 or not delimiter.isascii() or delimiter in '"\r\n\x00':
        return None
    try:
        roles = {
            "head": head,
            "relation": relation,
            "tail": tail,
            "head_type": head_type,
            "tail_type": tail_type,
            "provenance": provenance,
        }
        return _read_csv(pa, pcsv, pc, path, roles, delimiter, max_line_bytes)
    except (_NotFastError, KGFormatError, pa.ArrowException):
        return None


def _csv_header(data: bytes, delimiter: str) -> tuple[list[str], int]:
    """The header row as Python's csv reads it, and the offset of the next line."""
    start = 3 if data.startswith(codecs.BOM_UTF8) else 0
    nl = data.find(b"\n", start)
    end = len(data) if nl < 0 else nl
    line = data[start:end]
    if line.endswith(b"\r"):
        line = line[:-1]
    try:
        text = line.decode("utf-8")
        row = next(csv.reader([text + "\n"], delimiter=delimiter))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        raise _NotFastError from None
    return row, (len(data) if nl < 0 else nl + 1)


def _read_csv(
    pa: Any,
    pcsv: Any,
    pc: Any,
    path: PathLike,
    roles: dict[str, str | None],
    delimiter: str,
    max_line_bytes: int,
) -> KnowledgeGraph:
    parse = pcsv.ParseOptions(
        delimiter=delimiter,
        quote_char='"',
        double_quote=True,
        escape_char=False,
        newlines_in_values=False,
        ignore_empty_lines=True,
    )
    field_limit = csv.field_size_limit()
    delim = ord(delimiter)
    wanted: dict[str, str] = {}
    names: list[str] = []
    columns: dict[str, list[Any]] = {}
    lines = rows = 0
    for first, data in _pieces(path, max_line_bytes):
        _check_newlines(data)
        if b"\x00" in data:
            raise _NotFastError  # Python's csv refuses NUL before Python 3.11
        arr = np.frombuffer(data, dtype=np.uint8)
        if len(data) > field_limit and _longest_line(arr) > field_limit:
            raise _NotFastError  # a field may pass csv.field_size_limit(), which Python refuses
        if not _plain_quotes(arr, delim):
            raise _NotFastError
        if len(columns) < len(names) or first == 1:
            _check_utf8(pa, data)  # columns pyarrow skips are decoded by the Python engine
        lines += _count_lines(data, 3 if first == 1 and data.startswith(codecs.BOM_UTF8) else 0)
        start = 0
        if first == 1:
            header_row, start = _csv_header(data, delimiter)
            cols = {name: i for i, name in enumerate(header_row)}
            for role, name in roles.items():
                if name is None:
                    continue
                if name not in cols:
                    raise _NotFastError  # the Python engine lists the header
                wanted[role] = f"c{cols[name]}"
            names = [f"c{i}" for i in range(len(header_row))]
            columns = {c: [] for c in dict.fromkeys(wanted.values())}
            lines -= 1  # the header is no record and is not skipped
        if start >= len(data):
            continue
        table = _parse(pa, pcsv, _buffer(pa, data, start), names, list(columns), parse)
        rows += table.num_rows
        for c in columns:
            columns[c].extend(table.column(c).chunks)
    if not wanted:  # an empty file
        return KnowledgeGraph.from_arrays([], [], [], entities=[], relations=[], source=str(path))
    # records in order, a record's head before its tail (what the Python engine interns)
    r_labels, r = _numbered(pa, pc, columns[wanted["relation"]], np.arange(rows))
    pos = np.concatenate([2 * np.arange(rows), 2 * np.arange(rows) + 1])
    e_labels, e = _numbered(pa, pc, columns[wanted["head"]] + columns[wanted["tail"]], pos)
    h, t = e[:rows], e[rows:]
    prov = np.full(rows, Provenance.REAL.code, dtype=np.uint8)
    if "provenance" in wanted:
        prov = _provenance_codes(pa, pc, columns[wanted["provenance"]])
    types: list[str] = []
    etypes = np.full(len(e_labels), -1, dtype=np.int32)
    if "head_type" in wanted or "tail_type" in wanted:
        types, etypes = _entity_types(pa, pc, columns, wanted, h, t, len(e_labels))
    return KnowledgeGraph._from_valid(
        h,
        r,
        t,
        tuple(e_labels),
        tuple(r_labels),
        tuple(types),
        prov,
        etypes,
        str(path),
        rows,
        lines - rows,
    )


def _provenance_codes(pa: Any, pc: Any, chunks: list[Any]) -> npt.NDArray[np.uint8]:
    dictionary, ids = _encode(pa, pc, chunks)
    codes = []
    for value in dictionary.to_pylist():  # per distinct value
        value = value.strip()
        try:
            codes.append(_as_provenance(value).code if value else Provenance.REAL.code)
        except ValueError:
            raise _NotFastError from None
    out: npt.NDArray[np.uint8] = np.asarray(codes, dtype=np.uint8)[ids]
    return out


def _entity_types(
    pa: Any,
    pc: Any,
    columns: dict[str, list[Any]],
    wanted: dict[str, str],
    h: IntArray,
    t: IntArray,
    n: int,
) -> tuple[list[str], npt.NDArray[np.int32]]:
    """Types as the Python engine sets them: a record's head type, then its tail type."""
    rows = len(h)
    seen: dict[str, int] = {}
    codes = np.full(2 * rows, -1, dtype=np.int64)  # interleaved: 2i head, 2i + 1 tail
    for offset, role in ((0, "head_type"), (1, "tail_type")):
        if role not in wanted:
            continue
        dictionary, ids = _encode(pa, pc, columns[wanted[role]])
        per_value = [
            seen.setdefault(v, len(seen)) if v.strip() else -1 for v in dictionary.to_pylist()
        ]
        codes[offset::2] = np.asarray(per_value, dtype=np.int64)[ids]
    ents = np.empty(2 * rows, dtype=np.int64)
    ents[0::2], ents[1::2] = h, t
    typed = np.flatnonzero(codes >= 0)
    order, rank = _first_seen(len(seen), codes[typed], typed)
    labels = list(seen)
    codes = rank[codes[typed]]
    ents = ents[typed]
    etypes = np.full(n, -1, dtype=np.int32)
    etypes[ents] = codes
    if np.any(etypes[ents] != codes):
        raise _NotFastError  # an entity typed twice: the Python engine names both lines
    return [labels[i] for i in order], etypes

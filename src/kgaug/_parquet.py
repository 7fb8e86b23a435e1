"""Parquet reading and writing (needs ``pyarrow``: ``pip install 'kgaug[parquet]'``).

A Parquet file holds one fact per row in string (or dictionary-encoded string) columns
``head``, ``relation``, ``tail`` and, when present, ``head_type``, ``tail_type`` and
``provenance`` (what :func:`write_parquet` writes). Other column names are passed as
arguments. Rows are read in batches; errors name the file and the row (1-based).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from kgaug._fileio import atomic_write
from kgaug.errors import KGFormatError
from kgaug.kg import KnowledgeGraph, _as_provenance, _Builder
from kgaug.records import Provenance

__all__ = ["read_parquet", "write_parquet"]

PathLike = str | os.PathLike[str]
#: Rows per batch read (the memory of one batch, not of the file).
BATCH_ROWS = 1 << 20


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.compute
        import pyarrow.parquet
    except ImportError:
        raise ModuleNotFoundError(
            "Parquet needs pyarrow: pip install 'kgaug[parquet]'", name="pyarrow"
        ) from None
    return pa


def _strings(pa: Any, col: Any, name: str, path: PathLike, offset: int) -> Any:
    """A column as an Arrow string array; a null or blank value is an error naming its row."""
    pc = pa.compute
    if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
        try:
            col = pc.cast(col, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise KGFormatError(
                f"column {name!r} has type {col.type}, not text", path=path
            ) from None
    blank = pc.or_kleene(pc.is_null(col), pc.equal(pc.utf8_trim_whitespace(col), ""))
    blank = pc.fill_null(blank, True)
    if pc.any(blank).as_py():
        row = offset + int(np.flatnonzero(blank.to_numpy(zero_copy_only=False))[0]) + 1
        raise KGFormatError(f"empty {name}", where=f"{path}, row {row}")
    return col


def read_parquet(
    path: PathLike,
    *,
    head: str = "head",
    relation: str = "relation",
    tail: str = "tail",
    head_type: str | None = None,
    tail_type: str | None = None,
    provenance: str | None = None,
    batch_rows: int = BATCH_ROWS,
) -> KnowledgeGraph:
    """Read a Parquet file with one fact per row.

    Parameters
    ----------
    path : str or PathLike
        The file.
    head, relation, tail : str
        Column names of the triple.
    head_type, tail_type, provenance : str, optional
        Column names of entity types and provenance. Default: the columns
        ``head_type``, ``tail_type`` and ``provenance`` when the file has them (as
        :func:`write_parquet` writes them); a name given here must exist.
    batch_rows : int
        Rows read at a time.

    Returns
    -------
    KnowledgeGraph
        With a :attr:`~KnowledgeGraph.load_report` (rows read, merged duplicates).

    Raises
    ------
    KGFormatError
        A missing column (the message lists the columns the file has), a null or blank
        value (the message names the row), conflicting entity types, an unknown
        provenance, or a file that is not Parquet.
    ModuleNotFoundError
        pyarrow is not installed (the message says how to install it).
    """
    pa = _pyarrow()
    pc = pa.compute
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        pf = pa.parquet.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise KGFormatError(f"not a Parquet file ({e})", path=path) from None
    names = list(pf.schema_arrow.names)
    wanted = {"head": head, "relation": relation, "tail": tail}
    for role, name in wanted.items():
        if name not in names:
            raise KGFormatError(
                f"no column {name!r} for {role}; the file has columns {names}", path=path
            )
    optional: dict[str, str] = {}
    given = {"head_type": head_type, "tail_type": tail_type, "provenance": provenance}
    for role, asked in given.items():
        if asked is not None and asked not in names:
            raise KGFormatError(
                f"no column {asked!r} for {role}; the file has columns {names}", path=path
            )
        chosen = asked if asked is not None else (role if role in names else None)
        if chosen is not None:
            optional[role] = chosen
    if not optional:  # the common case: three label columns, read and numbered by Arrow
        from kgaug._fastread import _NotFastError

        try:
            return _read_triples(pa, pf, path, head, relation, tail)
        except _NotFastError:  # a label Arrow and Python see differently: row by row
            pass
    b = _Builder(source=str(path), path=path)
    columns = [head, relation, tail, *optional.values()]
    offset = 0
    for batch in pf.iter_batches(batch_size=batch_rows, columns=list(dict.fromkeys(columns))):
        col = {n: batch.column(batch.schema.get_field_index(n)) for n in dict.fromkeys(columns)}
        h = _strings(pa, col[head], "head", path, offset)
        r = _strings(pa, col[relation], "relation", path, offset)
        t = _strings(pa, col[tail], "tail", path, offset)
        if "provenance" in optional:
            prov = pc.fill_null(pc.cast(col[optional["provenance"]], pa.string()), "")
            codes = pc.dictionary_encode(prov)
            indices = codes.indices.to_numpy(zero_copy_only=False)
            # one bulk add per distinct provenance value, the rows selected by Arrow
            for k, value in enumerate(codes.dictionary.to_pylist()):
                try:
                    p = _as_provenance(value.strip()) if value.strip() else Provenance.REAL
                except ValueError as e:
                    row = offset + int(np.flatnonzero(indices == k)[0]) + 1
                    raise KGFormatError(str(e), where=f"{path}, row {row}") from None
                mask = pc.equal(codes.indices, k)
                hs, rs, ts = (pc.filter(x, mask).to_pylist() for x in (h, r, t))
                b.add_columns(hs, rs, ts, p)
        else:
            b.add_columns(h.to_pylist(), r.to_pylist(), t.to_pylist())
        for role, labels in (("head_type", h), ("tail_type", t)):
            if role not in optional:
                continue
            types = pc.cast(col[optional[role]], pa.string())
            pairs = pa.table({"e": labels, "t": types}).filter(
                pc.invert(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(types), ""), True))
            )
            # one set_type per distinct (entity, type) pair, not per row
            for pair in pairs.group_by(["e", "t"]).aggregate([]).to_pylist():
                b.set_type(pair["e"], pair["t"])
        offset += batch.num_rows
    return b.build()


def _read_triples(
    pa: Any, pf: Any, path: PathLike, head: str, relation: str, tail: str
) -> KnowledgeGraph:
    """A file of head, relation and tail only, without a Python object per row.

    Ids as the TSV reader numbers them: entities by first appearance among the heads,
    then among the tails; relations by first appearance.
    """
    from kgaug._fastread import _numbered

    table = pf.read(columns=list(dict.fromkeys([head, relation, tail])))
    cols = []
    for role, name in (("head", head), ("relation", relation), ("tail", tail)):
        col = _strings(pa, table.column(name), role, path, 0)
        if not pa.types.is_string(col.type):
            col = pa.compute.cast(col, pa.string())
        cols.append(col.chunks)
    rows = table.num_rows
    r_labels, r = _numbered(pa, pa.compute, cols[1], np.arange(rows))
    e_labels, e = _numbered(pa, pa.compute, cols[0] + cols[2], np.arange(2 * rows))
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
        0,
    )


def write_parquet(kg: KnowledgeGraph, path: PathLike) -> None:
    """Write the facts atomically as Parquet, with types and provenance.

    Columns ``head``, ``relation``, ``tail`` (dictionary-encoded strings), ``head_type``
    and ``tail_type`` when the graph has types (null for untyped entities), and
    ``provenance`` when some fact is not ``real``. Reads back with :func:`read_parquet`
    into an equal graph (isolated entities and relations without facts are lost, as in
    every fact format).
    """
    pa = _pyarrow()
    ents = pa.array(list(kg.entities), pa.string())
    rels = pa.array(list(kg.relations), pa.string())

    def labels(ids: Any, dictionary: Any) -> Any:
        return pa.DictionaryArray.from_arrays(pa.array(ids, pa.int32()), dictionary)

    columns: dict[str, Any] = {
        "head": labels(kg.head_ids, ents),
        "relation": labels(kg.relation_ids, rels),
        "tail": labels(kg.tail_ids, ents),
    }
    if kg.types:
        codes = kg.entity_type_codes
        types = pa.array(list(kg.types), pa.string())
        for name, ids in (("head_type", kg.head_ids), ("tail_type", kg.tail_ids)):
            c = codes[ids]
            idx = pa.array(np.where(c < 0, 0, c).astype(np.int32), mask=c < 0)
            columns[name] = pa.DictionaryArray.from_arrays(idx, types)  # null: untyped
    if np.any(kg.provenance_codes):
        provs = pa.array([p.value for p in Provenance], pa.string())
        columns["provenance"] = labels(kg.provenance_codes, provs)
    with atomic_write(path, "wb", encoding=None) as fh:
        pa.parquet.write_table(pa.table(columns), fh)

"""The DuckDB backend (``pip install 'kgaug[duckdb]'``): exact counts as embedded SQL.

DuckDB reads TSV, CSV and Parquet files (and globs of them) itself, runs the joins and
aggregations on all cores and spills to ``temp_directory`` once ``memory_limit`` is
reached, so it counts graphs that do not fit in memory.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from typing import Any

from kgaug.backends import FileSource
from kgaug.backends._engine import Columns, SQLBackend
from kgaug.errors import BackendError, BackendMemoryError, KGFormatError
from kgaug.kg import KnowledgeGraph

__all__ = ["DuckDBBackend"]


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise ModuleNotFoundError(
            "backend='duckdb' needs duckdb: pip install 'kgaug[duckdb]'", name="duckdb"
        ) from None
    return duckdb


def _literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class DuckDBBackend:
    """Count with DuckDB.

    Parameters
    ----------
    memory_limit : str, optional
        DuckDB's memory limit (e.g. ``"4GB"``; default: DuckDB's, 80% of RAM). Past it,
        joins and aggregations spill to ``temp_directory``.
    threads : int, optional
        Worker threads (default: DuckDB's, all cores).
    temp_directory : str, optional
        Where DuckDB spills (default: a new temporary folder, removed afterwards).
    connection : duckdb.DuckDBPyConnection, optional
        An open connection to use instead of a new in-memory database (its settings are
        left as they are unless given here).
    """

    name = "duckdb"

    def __init__(
        self,
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
        temp_directory: str | None = None,
        connection: Any = None,
    ) -> None:
        self._duckdb = _duckdb()
        if threads is not None and (isinstance(threads, bool) or int(threads) < 1):
            raise ValueError(f"threads must be a positive integer, got {threads!r}")
        self.memory_limit = memory_limit
        self.threads = threads
        self.temp_directory = temp_directory
        self.connection = connection

    def __repr__(self) -> str:
        return (
            f"DuckDBBackend(memory_limit={self.memory_limit!r}, threads={self.threads!r}, "
            f"temp_directory={self.temp_directory!r})"
        )

    def count(self, source: Any, hops: Any, count: str, directed: bool) -> Any:
        """Exact chain counts of a graph or file (see :class:`~kgaug.backends.CountingBackend`)."""
        with tempfile.TemporaryDirectory(prefix="kgaug-duckdb-") as spill:
            con = self.connection or self._duckdb.connect(":memory:")
            try:
                self._configure(con, self.temp_directory or spill)
                run = _Run(con, self._duckdb, self.memory_limit, source)
                return run.count(source, hops, count, directed)
            finally:
                if self.connection is None:
                    con.close()
                else:  # leave the caller's connection as it was
                    _drop_temporaries(con)

    def _configure(self, con: Any, spill: str) -> None:
        settings: dict[str, Any] = {}
        if self.memory_limit is not None:
            settings["memory_limit"] = str(self.memory_limit)
        if self.threads is not None:
            settings["threads"] = int(self.threads)
        if self.connection is None or self.temp_directory is not None:
            settings["temp_directory"] = spill
        for key, value in settings.items():
            try:
                con.execute(f"SET {key} = {_literal(str(value))}")
            except self._duckdb.Error as e:
                raise ValueError(f"DuckDB refused {key}={value!r}: {e}") from None


class _Run(SQLBackend):
    """One count on one connection."""

    name = "duckdb"

    def __init__(self, con: Any, duckdb: Any, memory_limit: str | None, source: Any) -> None:
        self.con = con
        self.duckdb = duckdb
        self.memory_limit = memory_limit
        self.source = source

    def _facts_view(self, kg: KnowledgeGraph) -> None:
        self.con.register(
            "kg_facts_arrays", {"h": kg.head_ids, "r": kg.relation_ids, "t": kg.tail_ids}
        )
        self._table("kg_facts", "SELECT h, r, t FROM kg_facts_arrays")

    def _input_view(self, source: FileSource) -> None:
        path = _literal(source.path)
        if source.format == "tsv":
            scan = (
                f"read_csv({path}, delim='\\t', quote='', escape='', "
                f"header={str(source.header).lower()}, auto_detect=false, null_padding=true, "
                "columns={'h': 'VARCHAR', 'r': 'VARCHAR', 't': 'VARCHAR', 'x': 'VARCHAR'})"
            )
            cols = "h, r, t, x"
        else:
            scan = (
                f"read_csv({path}, header=true, all_varchar=true)"
                if source.format == "csv"
                else f"read_parquet({path})"
            )
            have = [str(c) for c in self._fetch(f"DESCRIBE SELECT * FROM {scan}")["column_name"]]
            missing = [c for c in source.columns if c not in have]
            if missing:
                raise KGFormatError(
                    f"no column {missing[0]!r} (columns: {', '.join(have)}); name the head, "
                    "relation and tail columns with columns=(h, r, t) / --columns h,r,t",
                    path=source.path,
                )
            h, r, t = (f'CAST("{c}" AS VARCHAR)' for c in source.columns)
            cols = f"{h} AS h, {r} AS r, {t} AS t, CAST(NULL AS VARCHAR) AS x"
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW kg_input AS "
            f"SELECT {cols}, row_number() OVER () - 1 AS pos FROM {scan}"
        )

    def _table(self, name: str, query: str) -> None:
        self._execute(f"building {name}", f"CREATE OR REPLACE TEMP TABLE {name} AS {query}")

    def _fetch(self, query: str) -> Columns:
        return self._execute("reading", query).fetchnumpy()  # type: ignore[no-any-return]

    def _run(self, what: str, query: str) -> Columns:
        return self._execute(what, query).fetchnumpy()  # type: ignore[no-any-return]

    def _execute(self, what: str, query: str) -> Any:
        d = self.duckdb
        try:
            return self.con.execute(query)
        except d.OutOfMemoryException as e:
            limit = self.memory_limit or "DuckDB's default (80% of RAM)"
            raise BackendMemoryError(
                f"DuckDB ran out of memory ({what}) under memory_limit {limit}: raise "
                "memory_limit, give temp_directory on a disk with room, lower threads, or "
                f"count fewer hops. DuckDB said: {_first_line(e)}"
            ) from None
        except d.InvalidInputException as e:
            if isinstance(self.source, FileSource):
                text = str(e)
                m = re.search(r"Line:\s*(\d+)", text)
                found = re.search(r"Found:\s*(\d+)", text)
                shown = re.search(r"Original Line:\s*(.*)", text)
                if found and self.source.format == "tsv":
                    line = shown.group(1)[:80] if shown else ""
                    reason = (
                        "expected 3 tab-separated fields (head, relation, tail), got "
                        f"{int(found.group(1))}: {line!r}"
                    )
                else:
                    reason = "DuckDB could not read it: " + "; ".join(text.strip().splitlines()[:3])
                raise KGFormatError(
                    reason,
                    path=self.source.path,
                    line=int(m.group(1)) if m else None,
                ) from None
            raise BackendError(f"DuckDB failed ({what}): {_first_line(e)}") from None
        except d.IOException as e:
            path = getattr(self.source, "path", None)
            raise BackendError(f"DuckDB could not read {path or 'its input'}: {e}") from None


_TEMPORARIES = ("kg_edges", "kg_facts", "kg_relations", "kg_raw")


def _drop_temporaries(con: Any) -> None:
    """Drop the tables and views a count created on a connection it was given."""
    for name in _TEMPORARIES:
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute("DROP VIEW IF EXISTS kg_input")
    with contextlib.suppress(Exception):  # not registered when a file was counted
        con.unregister("kg_facts_arrays")


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__

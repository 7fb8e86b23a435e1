"""What DuckDB and Spark share: the order of the queries and the checks on a file's rows.

An engine adapter only says how to expose a graph or a file as a view, how to store a
query's result as a table and how to fetch a small result as numpy arrays; everything
about counting is in :mod:`kgaug.backends._sql`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from kgaug.backends import BackendCounts, FileSource
from kgaug.backends import _sql as sql
from kgaug.errors import KGFormatError
from kgaug.kg import KnowledgeGraph
from kgaug.paths import ChainCounts, step_labels

__all__ = ["SQLBackend"]

Columns = dict[str, npt.NDArray[np.generic]]

#: Checks on ``kg_input(h, r, t, x, pos)`` (``x``: a fourth TSV field, NULL if none).
_BLANK = "(h IS NULL AND r IS NULL AND t IS NULL AND x IS NULL)"
_BAD = (
    "(h IS NULL OR r IS NULL OR t IS NULL OR x IS NOT NULL "
    "OR trim(h) = '' OR trim(r) = '' OR trim(t) = '')"
)


class SQLBackend(ABC):
    """Runs the counting SQL on an engine (subclasses adapt DuckDB and Spark)."""

    name: str

    # -- what an engine provides ---------------------------------------------------------
    @abstractmethod
    def _facts_view(self, kg: KnowledgeGraph) -> None:
        """Expose ``kg``'s facts as ``kg_facts(h, r, t)`` (integer ids)."""

    @abstractmethod
    def _input_view(self, source: FileSource) -> None:
        """Expose a file's rows as ``kg_input(h, r, t, x, pos)`` (strings, ``pos`` order)."""

    @abstractmethod
    def _table(self, name: str, query: str) -> None:
        """Store the result of ``query`` as table ``name`` (replacing one of that name)."""

    @abstractmethod
    def _fetch(self, query: str) -> Columns:
        """Run ``query`` and return its (small) result as numpy columns."""

    def _run(self, what: str, query: str) -> Columns:
        """:meth:`_fetch`, where an engine translates its errors (``what``: for messages)."""
        return self._fetch(query)

    # -- counting --------------------------------------------------------------------------
    def count(
        self,
        source: KnowledgeGraph | FileSource,
        hops: Sequence[int],
        count: str,
        directed: bool,
    ) -> BackendCounts:
        """Exact chain counts of ``source`` for each number of hops."""
        if isinstance(source, KnowledgeGraph):
            self._facts_view(source)
            relations = source.relations
            atomic = np.bincount(source.relation_ids, minlength=source.num_relations)
            num_entities, num_facts = source.num_entities, source.num_facts
        else:
            relations, atomic, num_entities, num_facts = self._load(source)
        labels = step_labels(relations, directed)
        self._table("kg_edges", sql.edges_query(directed, len(relations)))
        chains = {}
        for n in hops:
            cols = self._run(f"{n}-hop {count}", sql.chain_count_query(n, count))
            chains[n] = _chain_counts(cols, n, count, directed, labels, len(relations))
        return BackendCounts(relations, atomic.astype(np.int64), num_entities, num_facts, chains)

    def _load(self, source: FileSource) -> tuple[tuple[str, ...], npt.NDArray[np.int64], int, int]:
        """Check a file's rows and build ``kg_relations`` and ``kg_facts`` from them."""
        self._input_view(source)
        bad = self._run(
            "checking rows",
            f"SELECT pos, h, r, t, x FROM kg_input WHERE NOT {_BLANK} AND {_BAD} "
            "ORDER BY pos LIMIT 1",
        )
        if len(bad["pos"]):
            raise _row_error(source, {k: v[0] for k, v in bad.items()})
        self._table("kg_raw", f"SELECT h, r, t, pos FROM kg_input WHERE NOT {_BLANK}")
        self._table("kg_relations", sql.relations_from_raw_query())
        rel = self._fetch("SELECT label, id FROM kg_relations ORDER BY id")
        relations = tuple(str(x) for x in rel["label"])
        self._table("kg_facts", sql.facts_from_raw_query())
        per = self._fetch("SELECT r, count(*) AS n FROM kg_facts GROUP BY r")
        atomic = np.zeros(len(relations), dtype=np.int64)
        atomic[per["r"].astype(np.int64)] = per["n"].astype(np.int64)
        ents = self._fetch(
            "SELECT count(*) AS n FROM (SELECT h AS x FROM kg_facts UNION SELECT t FROM kg_facts) "
            "kg_v"
        )
        return relations, atomic, int(ents["n"][0]), int(atomic.sum())


def _row_error(source: FileSource, row: dict[str, object]) -> KGFormatError:
    """The error of the first row a reader would refuse (``pos`` counts data rows from 1)."""
    fields = {k: (None if _is_null(row[k]) else str(row[k])) for k in ("h", "r", "t", "x")}
    names = {"h": "head", "r": "relation", "t": "tail"}
    if fields["x"] is not None:
        reason = "expected 3 tab-separated fields (head, relation, tail), got 4 or more"
    else:
        missing = next(names[k] for k in ("h", "r", "t") if not (fields[k] or "").strip())
        reason = f"empty or missing {missing} field"
    shown = [v for v in (fields["h"], fields["r"], fields["t"], fields["x"]) if v is not None]
    pos = int(row["pos"]) + 1  # type: ignore[call-overload]
    return KGFormatError(
        f"{reason}: {shown!r}",
        path=source.path,
        where=f"{source.path}, data row {pos:,} (blank lines and the header not counted)",
    )


def _is_null(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is np.ma.masked


def _chain_counts(
    cols: Columns, hops: int, count: str, directed: bool, labels: tuple[str, ...], R: int
) -> ChainCounts:
    """A :class:`ChainCounts` from query columns ``l1 .. ln, n`` (any row order)."""
    chains = np.stack(
        [np.asarray(cols[f"l{i}"], dtype=np.int64) for i in range(1, hops + 1)], axis=1
    ).reshape(-1, hops)
    counts = np.asarray(cols["n"], dtype=np.int64)
    order = np.lexsort(chains.T[::-1]) if len(counts) else np.zeros(0, dtype=np.int64)
    return ChainCounts(
        np.ascontiguousarray(chains[order]),
        counts[order],
        labels,
        hops,
        count,  # type: ignore[arg-type]
        directed,
        R,
    )

"""Counting backends: where :func:`kgaug.compute_phi` runs its exact counts.

``compute_phi(kg_or_path, ..., backend=NAME)`` picks one, the way networkx picks a backend
by keyword:

``"numpy"`` (default)
    In memory, the sparse kernels of :mod:`kgaug._counting`; a file is read into a
    :class:`~kgaug.KnowledgeGraph` first. The fastest up to what fits in memory.
``"duckdb"`` (``pip install 'kgaug[duckdb]'``)
    The same counts as SQL on an embedded DuckDB, reading a TSV, CSV or Parquet file (or a
    glob of them) directly, without loading it into Python; it spills to disk past its
    ``memory_limit``, so it counts graphs that do not fit in memory.
``"spark"`` (``pip install 'kgaug[spark]'`` and a Java runtime)
    The same SQL on Spark: a local session by default, any cluster through ``spark=``.

Each backend returns the same :class:`~kgaug.ChainCounts`, so reports agree exactly.
Another package registers a factory in its ``pyproject.toml``::

    [project.entry-points."kgaug.backends"]
    mybackend = "mypackage.kgaug_plugin:make_backend"

where ``make_backend(**options)`` returns an object with
``count(source, hops, count, directed) -> BackendCounts``; :func:`register_backend` does
the same at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from os import PathLike, fspath
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from kgaug.errors import close_matches

if TYPE_CHECKING:
    from kgaug.kg import KnowledgeGraph
    from kgaug.paths import ChainCounts

__all__ = [
    "ENTRY_POINT_GROUP",
    "BackendCounts",
    "CountingBackend",
    "FileSource",
    "available_backends",
    "file_source",
    "get_backend",
    "register_backend",
]

ENTRY_POINT_GROUP = "kgaug.backends"

FileFormat = Literal["tsv", "csv", "parquet"]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class FileSource:
    """A graph file that a backend reads itself.

    Attributes
    ----------
    path : str
        The file, or a glob of files of one format (``"shards/*.parquet"``).
    format : {"tsv", "csv", "parquet"}
        Read by suffix unless given: ``.tsv``/``.txt`` (optionally ``.gz``) are TSV,
        ``.csv`` CSV, ``.parquet``/``.pq`` Parquet.
    header : bool
        A TSV file's first line is a header (skipped).
    columns : tuple of str
        Head, relation and tail column names of a CSV or Parquet file.
    """

    path: str
    format: FileFormat
    header: bool = False
    columns: tuple[str, str, str] = ("head", "relation", "tail")


_SUFFIXES: dict[str, FileFormat] = {
    ".tsv": "tsv",
    ".txt": "tsv",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def file_source(
    path: str | PathLike[str],
    *,
    format: FileFormat | None = None,
    header: bool = False,
    columns: Sequence[str] | None = None,
) -> FileSource:
    """Describe a graph file for a backend (format by suffix unless ``format`` is given).

    Raises
    ------
    FileNotFoundError
        No file matches ``path``.
    ValueError
        An unknown suffix or ``format``, ``header`` with a non-TSV file, or ``columns``
        that are not three names.
    """
    p = fspath(path)
    globbed = any(c in p for c in "*?[")
    remote = "://" in p  # hdfs://, s3://, ...: the engine checks
    if not remote and not globbed and not Path(p).exists():
        raise FileNotFoundError(f"no such graph file: {p}")
    if not remote and globbed and not any(Path(p).parent.glob(Path(p).name)):
        raise FileNotFoundError(f"no file matches {p}")
    if format is None:
        suffixes = [s.lower() for s in Path(p).suffixes if s.lower() != ".gz"]
        format = _SUFFIXES.get(suffixes[-1] if suffixes else "")
        if format is None:
            raise ValueError(
                f"cannot tell the format of {p} from its suffix; pass format='tsv', 'csv' or "
                "'parquet'"
            )
    if format not in ("tsv", "csv", "parquet"):
        raise ValueError(f"format must be 'tsv', 'csv' or 'parquet', got {format!r}")
    if header and format != "tsv":
        raise ValueError(
            f"header=True skips a TSV file's first line; {p} is {format}, whose column names "
            "are read from the file (columns= picks them)"
        )
    cols: tuple[str, str, str] = ("head", "relation", "tail")
    if columns is not None:
        if isinstance(columns, str):
            columns = [c.strip() for c in columns.split(",")]
        names = tuple(str(c) for c in columns)
        if len(names) != 3 or not all(names):
            raise ValueError(
                f"columns takes three names (head, relation, tail), got {tuple(columns)!r}"
            )
        if format == "tsv":
            raise ValueError(
                f"columns= names the columns of CSV or Parquet files; {p} is TSV (fields "
                "are head, relation, tail in that order)"
            )
        cols = (names[0], names[1], names[2])
    return FileSource(p, format, bool(header), cols)


@dataclass(frozen=True)
class BackendCounts:
    """What a backend returns: the graph's size and its exact chain counts.

    Attributes
    ----------
    relations : tuple of str
        Relation labels, in the order of the report's rows.
    atomic : ndarray of int64
        Distinct facts per relation, aligned with ``relations``.
    num_entities : int
        Entities of the graph.
    num_facts : int
        Distinct facts.
    chains : dict of int to ChainCounts
        Per number of hops.
    """

    relations: tuple[str, ...]
    atomic: IntArray
    num_entities: int
    num_facts: int
    chains: Mapping[int, ChainCounts]


class CountingBackend(Protocol):
    """What :func:`get_backend` returns."""

    name: str

    def count(
        self,
        source: KnowledgeGraph | FileSource,
        hops: Sequence[int],
        count: str,
        directed: bool,
    ) -> BackendCounts:
        """Exact chain counts of ``source`` for each number of hops."""
        ...


Factory = Callable[..., CountingBackend]
_REGISTRY: dict[str, Factory] = {}


def _numpy(**options: Any) -> CountingBackend:
    from kgaug.backends._numpy import NumpyBackend

    return NumpyBackend(**options)


def _duckdb(**options: Any) -> CountingBackend:
    from kgaug.backends._duckdb import DuckDBBackend

    return DuckDBBackend(**options)


def _spark(**options: Any) -> CountingBackend:
    from kgaug.backends._spark import SparkBackend

    return SparkBackend(**options)


_BUILTIN: dict[str, Factory] = {"numpy": _numpy, "duckdb": _duckdb, "spark": _spark}


def register_backend(name: str, factory: Factory) -> None:
    """Make ``backend=name`` call ``factory(**backend_options)``."""
    _REGISTRY[name] = factory


def _plugins() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_backends() -> list[str]:
    """Names accepted by ``compute_phi(..., backend=)`` (built-in, registered, plugged in)."""
    return sorted({*_BUILTIN, *_REGISTRY, *_plugins()})


def get_backend(name: str = "numpy", **options: Any) -> CountingBackend:
    """A counting backend by name.

    Parameters
    ----------
    name : str
        ``"numpy"``, ``"duckdb"``, ``"spark"`` or a registered / plugged-in name.
    **options
        Passed to the backend. ``"duckdb"``: ``memory_limit`` (e.g. ``"4GB"``),
        ``threads``, ``temp_directory`` (where it spills), ``connection`` (an open
        ``duckdb`` connection). ``"spark"``: ``spark`` (a ``SparkSession``), ``master``
        (``"local[*]"`` when it starts one). ``"numpy"``: ``progress``.

    Raises
    ------
    ValueError
        An unknown name (the message lists the known ones).
    ModuleNotFoundError
        The backend's package is not installed (the message says which extra).
    """
    if not isinstance(name, str):
        raise TypeError(f"backend must be a name (str), got {type(name).__name__}")
    if name in _REGISTRY:
        return _REGISTRY[name](**options)
    if name in _BUILTIN:
        return _BUILTIN[name](**options)
    plugins = _plugins()
    if name in plugins:
        factory: Factory = plugins[name].load()
        return factory(**options)
    known = available_backends()
    hint = close_matches(name, known)
    raise ValueError(
        f"unknown backend {name!r}; available: {', '.join(known)}"
        + (f" (did you mean {hint[0]!r}?)" if hint else "")
    )

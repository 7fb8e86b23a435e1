"""The Spark backend (``pip install 'kgaug[spark]'`` and a Java runtime): Spark SQL.

The same queries as DuckDB (:mod:`kgaug.backends._sql`), run by a ``SparkSession``: a
local one by default (``master="local[*]"``), or any cluster's session passed as
``spark=``. Files are read by Spark (any path it can read: local, HDFS, S3).
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import numpy as np

from kgaug.backends import FileSource
from kgaug.backends._engine import Columns, SQLBackend
from kgaug.errors import BackendError, KGFormatError
from kgaug.kg import KnowledgeGraph

__all__ = ["SparkBackend", "java_runtime"]


def _pyspark() -> Any:
    try:
        import pyspark
        import pyspark.sql
    except ImportError:
        raise ModuleNotFoundError(
            "backend='spark' needs pyspark: pip install 'kgaug[spark]' (and a Java runtime)",
            name="pyspark",
        ) from None
    return pyspark


def java_runtime() -> str | None:
    """The ``java`` that a local Spark session would start (``None``: none found)."""
    home = os.environ.get("JAVA_HOME")
    if home:
        exe = os.path.join(home, "bin", "java")
        return exe if os.path.exists(exe) else None
    return shutil.which("java")


class SparkBackend:
    """Count with Spark SQL.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession, optional
        The session to use (a cluster's). Default: a local session, started once and
        kept for later counts.
    master : str
        Master of the local session (``"local[*]"``: all cores).
    shuffle_partitions : int
        ``spark.sql.shuffle.partitions`` of the local session (Spark's default 200 is
        slow for small graphs).
    """

    name = "spark"

    def __init__(
        self, *, spark: Any = None, master: str = "local[*]", shuffle_partitions: int = 8
    ) -> None:
        self._pyspark = _pyspark()
        if spark is None and java_runtime() is None:
            raise BackendError(
                "backend='spark' needs a Java runtime (17 or newer) to start a local session: "
                "install one (Debian/Ubuntu: apt-get install default-jre-headless) or set "
                "JAVA_HOME, or pass spark= a running session"
            )
        self.spark = spark
        self.master = master
        self.shuffle_partitions = int(shuffle_partitions)

    def __repr__(self) -> str:
        where = "given session" if self.spark is not None else self.master
        return f"SparkBackend({where!r})"

    def session(self) -> Any:
        """The session counts run on (a local one is started on first use)."""
        if self.spark is None:
            SparkSession = self._pyspark.sql.SparkSession
            self.spark = (
                SparkSession.builder.master(self.master)
                .appName("kgaug")
                .config("spark.sql.shuffle.partitions", str(self.shuffle_partitions))
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .getOrCreate()
            )
            self.spark.sparkContext.setLogLevel("ERROR")
        return self.spark

    def count(self, source: Any, hops: Any, count: str, directed: bool) -> Any:
        """Exact chain counts of a graph or file (see :class:`~kgaug.backends.CountingBackend`)."""
        run = _Run(self.session(), self._pyspark, source)
        try:
            return run.count(source, hops, count, directed)
        finally:
            run.release()


class _Run(SQLBackend):
    """One count on one session; its cached tables are released afterwards."""

    name = "spark"

    def __init__(self, spark: Any, pyspark: Any, source: Any) -> None:
        self.spark = spark
        self.pyspark = pyspark
        self.source = source
        self._cached: list[Any] = []

    def release(self) -> None:
        for df in self._cached:
            df.unpersist()
        self._cached.clear()

    def _facts_view(self, kg: KnowledgeGraph) -> None:
        T = self.pyspark.sql.types
        schema = T.StructType([T.StructField(c, T.LongType(), False) for c in ("h", "r", "t")])
        rows = np.stack([kg.head_ids, kg.relation_ids, kg.tail_ids], axis=1).tolist()
        self.spark.createDataFrame(rows, schema).createOrReplaceTempView("kg_facts")

    def _input_view(self, source: FileSource) -> None:
        F = self.pyspark.sql.functions
        T = self.pyspark.sql.types
        reader = self.spark.read
        if source.format == "tsv":
            schema = T.StructType([T.StructField(c, T.StringType()) for c in ("h", "r", "t", "x")])
            df = reader.csv(
                source.path,
                schema=schema,
                sep="\t",
                quote="",
                header=source.header,
                mode="PERMISSIVE",
                ignoreLeadingWhiteSpace=False,
                ignoreTrailingWhiteSpace=False,
            )
        else:
            df = (
                reader.csv(source.path, header=True, inferSchema=False)
                if source.format == "csv"
                else reader.parquet(source.path)
            )
            missing = [c for c in source.columns if c not in df.columns]
            if missing:
                raise KGFormatError(
                    f"no column {missing[0]!r} (columns: {', '.join(df.columns)}); name the "
                    "head, relation and tail columns with columns=(h, r, t) / --columns h,r,t",
                    path=source.path,
                )
            h, r, t = source.columns
            df = df.select(
                F.col(h).cast("string").alias("h"),
                F.col(r).cast("string").alias("r"),
                F.col(t).cast("string").alias("t"),
                F.lit(None).cast("string").alias("x"),
            )
        df.withColumn("pos", F.monotonically_increasing_id()).createOrReplaceTempView("kg_input")

    def _table(self, name: str, query: str) -> None:
        df = self._sql(query).persist()
        self._cached.append(df)
        df.createOrReplaceTempView(name)

    def _fetch(self, query: str) -> Columns:
        df = self._sql(query)
        try:
            rows = df.collect()
        except Exception as e:  # py4j's Py4JJavaError carries the Java exception
            where = getattr(self.source, "path", "the graph")
            raise BackendError(f"Spark failed reading {where}: {_first_line(e)}") from None
        return {
            c: np.array([row[i] for row in rows], dtype=object if rows else np.int64)
            for i, c in enumerate(df.columns)
        }

    def _sql(self, query: str) -> Any:
        try:
            return self.spark.sql(query)
        except Exception as e:  # pyspark's AnalysisException and friends
            raise BackendError(f"Spark refused the query: {_first_line(e)}") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__

"""phi statistics: how many multi-hop facts a knowledge graph supports, per relation.

``phi_r = |F_{n,r}| / |F_{A,r}|`` where ``F_{n,r}`` are the n-hop inferred facts whose
relation chain *involves* ``r`` (counted once) and ``F_{A,r}`` the atomic facts of ``r``.
A graph is *generalizable* at ``phi_G`` (the paper's Def. 2.5) when every relation reaches
``phi_r >= phi_G``, *partially generalizable* when only some do.

This is the KG's *potential* phi: what the graph can supply. A training set's phi
(inferred training examples over atomic training facts) is a different number that the
dataset builder reports separately.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from os import PathLike
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, PrivateAttr

from kgaug._table import html_table, text_table
from kgaug._validate import CountMode, check_bool, check_count, check_hop_list, check_positive
from kgaug.backends import FileSource, file_source, get_backend
from kgaug.errors import UnknownLabelError
from kgaug.kg import KnowledgeGraph
from kgaug.paths import ChainCounts

__all__ = ["PhiReport", "RelationPhi", "RelationTable", "compute_phi"]


class RelationPhi(BaseModel):
    """phi statistics of one relation.

    Attributes
    ----------
    relation : str
        Relation label.
    atomic : int
        ``|F_{A,r}|``, atomic facts of the relation.
    inferred : int
        Inferred facts (or paths) whose chain involves ``r``, summed over the report's hops.
    inferred_first_hop : int
        Those whose *first* hop is ``r`` (the first-hop breakdown; ``r^-1`` included in
        undirected mode).
    inferred_pure : int
        Those whose every hop is ``r`` (what Lemma 2's ``b_r`` bound describes; in
        undirected mode every hop is ``r`` or ``r^-1``).
    phi : float or None
        ``inferred / atomic``; ``None`` when the relation has no facts.
    branching : float or None
        ``b_r = |F_{A,r}| / |V|`` (``None`` for a graph without entities).
    generalizable : bool or None
        ``phi >= phi_g``; ``None`` when the relation has no facts.
    needed : int or None
        Additional inferred facts (paths, when the report counts paths) needed to reach
        ``phi_g``; 0 exactly when ``generalizable``.
    """

    model_config = ConfigDict(frozen=True)

    relation: str
    atomic: int
    inferred: int
    inferred_first_hop: int
    inferred_pure: int
    phi: float | None
    branching: float | None
    generalizable: bool | None
    needed: int | None


class RelationTable(Mapping[str, RelationPhi]):
    """Read-only mapping ``relation label -> RelationPhi`` in relation order.

    Unknown labels raise :class:`~kgaug.errors.UnknownLabelError` (a ``KeyError``) that
    lists the closest relation names.
    """

    def __init__(self, rows: Sequence[RelationPhi]) -> None:
        self._rows = {r.relation: r for r in rows}

    def __getitem__(self, key: str) -> RelationPhi:
        try:
            return self._rows[key]
        except KeyError:
            raise UnknownLabelError("relation", key, self._rows) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"RelationTable({list(self._rows)})"


def _fmt_phi(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


class PhiReport(BaseModel):
    """Result of :func:`compute_phi`: phi for the whole graph and per relation.

    Attributes
    ----------
    hops : tuple of int
        Chain lengths summed (e.g. ``(2,)`` or ``(2, 3)``).
    count : {"facts", "paths"}
        What was counted as "inferred": distinct facts or paths.
    directed : bool
        Whether edges were walked forwards only.
    phi_g : float
        Threshold for Def. 2.5.
    num_entities, num_relations : int
        ``|V|`` and ``|R|``.
    atomic : int
        ``|F_A|``.
    inferred : int
        ``|F_n|`` summed over ``hops``.
    inferred_by_hops : dict of int to int
        ``|F_n|`` per chain length.
    phi : float or None
        ``inferred / atomic`` (``None`` for a graph without facts).
    branching : float or None
        ``b = |F_A| / |V|``.
    rows : tuple of RelationPhi
        One row per relation (also available by label as :attr:`relations`).
    """

    model_config = ConfigDict(frozen=True)

    hops: tuple[int, ...]
    count: Literal["facts", "paths"]
    directed: bool
    phi_g: float
    num_entities: int
    num_relations: int
    atomic: int
    inferred: int
    inferred_by_hops: dict[int, int]
    phi: float | None
    branching: float | None
    rows: tuple[RelationPhi, ...]

    _chains: dict[int, ChainCounts] = PrivateAttr(default_factory=dict)
    _table: RelationTable | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Reports are equal when their fields are (the cached chain counts are derived)."""
        if not isinstance(other, PhiReport):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ verdicts
    @property
    def relations(self) -> RelationTable:
        """Per-relation rows by label: ``rep.relations["spouse"].phi``."""
        if self._table is None:
            self._table = RelationTable(self.rows)
        return self._table

    @property
    def failing(self) -> list[str]:
        """Relations with facts whose phi is below ``phi_g``, lowest phi first."""
        bad = [r for r in self.rows if r.generalizable is False]
        return [r.relation for r in sorted(bad, key=lambda r: (r.phi or 0.0, r.relation))]

    @property
    def passing(self) -> list[str]:
        """Relations with ``phi >= phi_g``."""
        return [r.relation for r in self.rows if r.generalizable]

    @property
    def empty_relations(self) -> list[str]:
        """Declared relations without atomic facts (no phi; not part of the verdict)."""
        return [r.relation for r in self.rows if r.atomic == 0]

    @property
    def generalizable(self) -> bool:
        """Def. 2.5: every relation that has facts reaches ``phi_g`` (False if none has)."""
        return bool(self.passing) and not self.failing

    @property
    def partially_generalizable(self) -> bool:
        """Some, but not all, relations reach ``phi_g``."""
        return bool(self.passing) and bool(self.failing)

    @property
    def verdict(self) -> str:
        """``"generalizable"``, ``"partially generalizable"`` or ``"not generalizable"``."""
        if self.generalizable:
            return "generalizable"
        if self.partially_generalizable:
            return "partially generalizable"
        return "not generalizable"

    # ------------------------------------------------------------------ chains
    def chains(self, hops: int | None = None) -> ChainCounts:
        """Per-chain counts behind the report (for ``hops``; default the first)."""
        n = self.hops[0] if hops is None else hops
        if n not in self._chains:
            raise KeyError(f"the report was computed for hops {self.hops}, not {n}")
        return self._chains[n]

    # ------------------------------------------------------------------ export
    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per relation (JSON-serializable)."""
        return [r.model_dump() for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """The whole report as plain data (JSON-serializable), verdicts included."""
        d = self.model_dump()
        d["rows"] = self.to_records()
        d["inferred_by_hops"] = {str(k): v for k, v in self.inferred_by_hops.items()}
        d.update(
            verdict=self.verdict,
            generalizable=self.generalizable,
            partially_generalizable=self.partially_generalizable,
            failing=self.failing,
            empty_relations=self.empty_relations,
        )
        return d

    def to_pandas(self) -> Any:
        """Per-relation ``pandas.DataFrame`` indexed by relation (needs ``pandas``)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("to_pandas() needs pandas: pip install 'kgaug[pandas]'") from None
        return pd.DataFrame.from_records(self.to_records(), index="relation")

    # ------------------------------------------------------------------ display
    def _header(self) -> str:
        what = "distinct inferred facts" if self.count == "facts" else "simple paths"
        mode = "directed" if self.directed else "undirected (inverse edges walked)"
        hop = "+".join(str(h) for h in self.hops)
        b = "-" if self.branching is None else f"{self.branching:.3f}"
        counts = ", ".join(f"{v} {k}-hop" for k, v in self.inferred_by_hops.items())
        s = (
            f"phi report: {hop}-hop {what}, {mode}, phi_G = {self.phi_g:g}\n"
            f"|V| = {self.num_entities}, |R| = {self.num_relations}, |F_A| = {self.atomic}, "
            f"b = {b}; inferred = {self.inferred} ({counts}); phi = {_fmt_phi(self.phi)}\n"
            f"verdict: {self.verdict}"
        )
        with_facts = len(self.rows) - len(self.empty_relations)
        if self.failing:
            s += f" ({len(self.failing)} of {with_facts} relations below phi_G)"
        return s

    def _table_rows(self, max_rows: int | None) -> tuple[list[str], list[list[str]], int]:
        header = ["relation", "atomic", "inferred", "first hop", "phi", "b_r", "ok"]
        rows = []
        for r in self.rows[: max_rows if max_rows else None]:
            ok = "-" if r.generalizable is None else ("yes" if r.generalizable else "NO")
            rows.append(
                [
                    r.relation,
                    str(r.atomic),
                    str(r.inferred),
                    str(r.inferred_first_hop),
                    _fmt_phi(r.phi),
                    "-" if r.branching is None else f"{r.branching:.3f}",
                    ok,
                ]
            )
        hidden = len(self.rows) - len(rows)
        return header, rows, hidden

    def to_string(self, max_rows: int | None = None) -> str:
        """Header and per-relation table as text (all rows unless ``max_rows``)."""
        header, rows, hidden = self._table_rows(max_rows)
        s = self._header() + "\n\n" + text_table(header, rows)
        if hidden:
            s += f"\n... {hidden} more relations (to_string() shows all)"
        return s

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return self.to_string(max_rows=40)

    def _repr_html_(self) -> str:
        header, rows, hidden = self._table_rows(200)
        styles = ["background-color:#fde2e2" if row[-1] == "NO" else "" for row in rows]
        cap = self._header().replace("\n", " | ")
        s = html_table(header, rows, row_styles=styles, caption=cap)
        if hidden:
            s += f"<p>... {hidden} more relations</p>"
        return s

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Bars of phi per relation with the ``phi_G`` line (needs matplotlib).

        The same as :func:`kgaug.plot.plot_phi` (``ax``, ``log``, ``title``, ``counts``,
        ``legend``): relations at or above ``phi_G`` blue, below orange, each bar labelled
        with the relation's atomic facts.

        Returns
        -------
        matplotlib.figure.Figure
            ``rep.plot().savefig("phi.png")``.
        """
        from kgaug.plot import plot_phi

        return plot_phi(self, ax, **kwargs)


def _needed(inferred: int, atomic: int, phi_g: float) -> int:
    """Smallest k >= 0 with ``(inferred + k) / atomic >= phi_g`` (the verdict's own test)."""
    k = max(0, math.ceil(Fraction(phi_g) * atomic) - inferred)  # exact: no overflow
    if inferred + k > 2**53:  # past float precision the float test below cannot tell
        return k  # k from k - 1 (it would count down one by one); k is exact
    while k > 0 and (inferred + k - 1) / atomic >= phi_g:
        k -= 1
    while (inferred + k) / atomic < phi_g:
        k += 1
    return k


def compute_phi(
    kg: KnowledgeGraph | str | PathLike[str],
    hops: int | Sequence[int] = 2,
    count: CountMode = "facts",
    directed: bool = True,
    phi_g: float = 3.6,
    *,
    progress: bool | None = None,
    backend: str | None = None,
    backend_options: Mapping[str, Any] | None = None,
) -> PhiReport:
    """Exact phi of a knowledge graph, overall and per relation.

    Parameters
    ----------
    kg : KnowledgeGraph or path
        The graph, or a graph file: TSV (``.tsv``, ``.txt``, ``.gz`` ok), CSV or Parquet
        (a glob of files for ``backend="duckdb"`` or ``"spark"``). The in-memory backend
        reads a file with :meth:`KnowledgeGraph.from_tsv` and friends; DuckDB and Spark
        read it themselves. ``backend_options`` ``header`` (TSV) and ``columns`` (CSV,
        Parquet: head, relation, tail names) say how.
    hops : int or sequence of int
        Chain length ``n`` (2 or 3), or several (e.g. ``(2, 3)``) whose counts are summed.
    count : {"facts", "paths"}
        ``"facts"`` (default) counts distinct inferred facts ``(h, r1, ..., rn, t)``;
        ``"paths"`` counts simple paths (multiplicity over bridge entities).
    directed : bool
        ``False`` also walks each edge backwards as the inverse relation ``r^-1``; a chain
        through ``r^-1`` involves ``r``.
    phi_g : float
        Minimal generalization ratio ``phi_G`` for Def. 2.5 (3.6: slow grokking in Wang et
        al. 2024; up to ~18 for fast circuits).
    progress : bool, optional
        Progress bar on long counts (``None``: tqdm decides; numpy backend).
    backend : str, optional
        Where to count (see :mod:`kgaug.backends`): ``"numpy"`` (default, in memory),
        ``"duckdb"`` (embedded SQL that spills to disk past its memory limit;
        ``kgaug[duckdb]``), ``"spark"`` (Spark SQL, local or a cluster; ``kgaug[spark]``
        and Java), or a plugged-in name. All give the same counts.
    backend_options : mapping, optional
        Options of the backend (:func:`kgaug.backends.get_backend`), e.g.
        ``{"memory_limit": "4GB", "threads": 2}`` for DuckDB or ``{"spark": session}``,
        plus ``header`` / ``columns`` / ``format`` for a file.

    Returns
    -------
    PhiReport

    Raises
    ------
    ValueError
        ``hops`` outside 2..3 (use path sampling for longer chains), an unknown ``count``,
        a non-positive ``phi_g`` or an unknown backend.
    KGFormatError
        A malformed graph file (the message names the file and line or row).
    ModuleNotFoundError
        The backend's package is missing (the message names the extra to install).
    kgaug.errors.BackendMemoryError
        DuckDB ran past its ``memory_limit``.

    Notes
    -----
    Per-relation counts use "involves r": on a random graph, 2-hop ``phi_r`` tracks about
    ``2 b - b_r``, whereas Lemma 2's threshold on ``b_r`` describes chains whose every
    hop is ``r`` (reported as ``inferred_pure``).

    Examples
    --------
    >>> import kgaug
    >>> kg = kgaug.KnowledgeGraph.from_triples([
    ...     ("Barack Obama", "spouse", "Michelle Obama"),
    ...     ("Michelle Obama", "born in", "Chicago")])
    >>> rep = kgaug.compute_phi(kg, phi_g=3.6)
    >>> rep.inferred, rep.relations["spouse"].phi, rep.generalizable
    (1, 1.0, False)
    """
    if not isinstance(kg, (KnowledgeGraph, str, PathLike)):
        raise TypeError(f"expected a KnowledgeGraph or a file path, got {type(kg).__name__}")
    hop_t = check_hop_list(hops)
    mode = check_count(count)
    g = check_positive(phi_g, "phi_g")
    directed = check_bool(directed, "directed")
    options = dict(backend_options or {})
    read = {k: options.pop(k) for k in ("header", "columns", "format") if k in options}
    if isinstance(kg, KnowledgeGraph):
        if read:
            raise ValueError(
                f"backend_options {sorted(read)} describe a file; kg is a KnowledgeGraph"
            )
        source: KnowledgeGraph | FileSource = kg
    else:
        source = file_source(kg, **read)
    name = "numpy" if backend is None else backend
    if name == "numpy":
        options.setdefault("progress", progress)
    counts = get_backend(name, **options).count(source, hop_t, mode, directed)

    R = len(counts.relations)
    V = counts.num_entities
    atomic_r = np.asarray(counts.atomic, dtype=np.int64)
    inferred_r = np.zeros(R, dtype=np.int64)
    first_r = np.zeros(R, dtype=np.int64)
    pure_r = np.zeros(R, dtype=np.int64)
    by_hops: dict[int, int] = {}
    chains: dict[int, ChainCounts] = {}
    for n in hop_t:
        cc = counts.chains[n]
        chains[n] = cc
        by_hops[n] = cc.total
        inferred_r += cc.involves()
        first_r += cc.first_hop()
        pure_r += cc.pure()

    rows = []
    for i, label in enumerate(counts.relations):
        a = int(atomic_r[i])
        inf = int(inferred_r[i])
        phi = inf / a if a else None
        rows.append(
            RelationPhi(
                relation=label,
                atomic=a,
                inferred=inf,
                inferred_first_hop=int(first_r[i]),
                inferred_pure=int(pure_r[i]),
                phi=phi,
                branching=a / V if V else None,
                generalizable=None if phi is None else phi >= g,
                needed=None if not a else _needed(inf, a, g),
            )
        )
    total_inferred = sum(by_hops.values())
    report = PhiReport(
        hops=hop_t,
        count=mode,
        directed=bool(directed),
        phi_g=g,
        num_entities=V,
        num_relations=R,
        atomic=counts.num_facts,
        inferred=total_inferred,
        inferred_by_hops=by_hops,
        phi=total_inferred / counts.num_facts if counts.num_facts else None,
        branching=counts.num_facts / V if V else None,
        rows=tuple(rows),
    )
    report._chains.update(chains)
    return report

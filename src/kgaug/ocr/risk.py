"""OCR risk report: which relation pairs of a KG a fine-tuned model will learn as implications.

Seed 004 shows that a model trained on facts ``(s, r1, b)`` and, for some subjects,
``(s, r2, c)`` infers ``(s', r2, c)`` for the other subjects ``s'`` with ``(s', r1, b)``,
from very few examples, whether or not ``b`` causes ``c``. This module measures how strongly
the ``r1`` answer determines the ``r2`` answer in a graph, for every ordered pair of
relations that share subjects (heads), all pairs at once with sparse products.

For a pair ``(r1, r2)`` let ``S`` be the subjects with both relations, ``B_s`` and ``C_s``
the ``r1`` and ``r2`` answers of subject ``s``, and ``N(b, c)`` the number of observations
``(s, b, c)`` with ``b in B_s`` and ``c in C_s``, i.e. of subjects with both facts (one
observation per subject when both relations are functional; a subject with ``k1`` and
``k2`` answers contributes ``k1 k2``). With ``N = sum N(b, c)``, ``N_b = sum_c N(b, c)``
and ``S_b`` the subjects of ``S`` with answer ``b``:

- ``support = |S|``;
- ``purity = sum_b max_c N(b, c) / N`` and ``H(C|B)`` in bits (plug-in; both flatter small
  samples: an answer ``b`` seen once always looks pure);
- ``shared``: the observations whose ``b`` is held by at least two subjects
  (``|S_b| >= 2``; ``shared_answers`` counts those ``b``). An answer of one subject
  cannot show whether ``b`` determines ``c`` (however many ``r2`` answers that subject
  has), so it is left out of the held-out test below — neither evidence for nor against;
- ``heldout`` (the small-sample correction): leave-one-*subject*-out. Each shared
  observation ``(s, b, c)`` is predicted as the most frequent ``r2`` answer of the *other*
  subjects with ``b``, ``argmax_c' N(b, c') - [c' in C_s]`` (ties split evenly): all of
  ``s``'s answers are left out together, so a subject is never predicted from its own
  other answers. This is the OCR test itself: a subject whose implication was not seen,
  inferred from the subjects that share its fact. A group of two subjects agrees only if
  both have the same ``c``;
- ``chance``: the same leave-one-subject-out accuracy when ``c`` is predicted without
  ``b``, as the most frequent ``r2`` answer of the other subjects of ``S`` (a constant
  ``r2`` answer is not an association), over all observations. Under independence
  ``heldout`` is about ``sum_c p_c^2 <= chance``;
- ``strength = (heldout - chance) / (1 - chance)`` (0 when nothing is shared or
  ``chance = 1``): the lift of knowing ``b``; 1 = ``b`` determines ``c``, 0 = no better
  than the majority ``c``, negative = worse;
- ``score = max(strength, 0) * (1 - 1 / sqrt(shared))``: the ranking (strength, discounted
  when it rests on few observations: 0.29 at 2, 0.68 at 10, 0.9 at 100);
- ``exposed``: facts ``(s, r1, b)`` of subjects *without* any ``r2`` fact whose ``b`` occurs
  among ``S`` — where a model would extend the association (generalization when it is
  causal, hallucination when not).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict

from kgaug._table import html_table, text_table
from kgaug._validate import check_int
from kgaug.errors import RiskTooLargeError
from kgaug.kg import KnowledgeGraph

__all__ = [
    "PairRisk",
    "PairRiskChange",
    "RiskComparison",
    "RiskReport",
    "check_augmentation",
    "compare_risk",
    "risk_report",
    "warn_ocr_risk",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Above this many subject-level answer combinations (sum of squared out-degrees) the
#: report refuses to run rather than exhaust memory; pass ``relations=`` or raise it.
MAX_CELLS = 50_000_000

#: The automatic check of :func:`kgaug.augment` stops much earlier (a few seconds and a few
#: hundred MB at most): above it, augment warns that the graph was not checked.
AUGMENT_MAX_CELLS = 5_000_000

_FIELDS = (
    "support",
    "observations",
    "shared",
    "answers",
    "shared_answers",
    "purity",
    "conditional_entropy",
    "entropy",
    "heldout",
    "chance",
    "strength",
    "exposed",
    "score",
)


class PairRisk(BaseModel):
    """Association of one ordered relation pair ``r1 -> r2`` (see :mod:`kgaug.ocr.risk`).

    Attributes
    ----------
    r1, r2 : str
        The relation whose answer predicts, and the one predicted.
    support : int
        Subjects with both relations.
    observations : int
        ``(subject, b, c)`` combinations counted (``= support`` for functional relations).
    shared : int
        Observations whose ``b`` is held by at least two subjects: the evidence that
        ``heldout`` is measured on.
    answers : int
        Distinct ``r1`` answers ``b`` among those subjects.
    shared_answers : int
        Those held by at least two of them (only they can teach an implication that a
        held-out subject could use).
    purity : float
        ``sum_b max_c N(b, c) / N`` (plug-in).
    conditional_entropy : float
        ``H(C|B)`` in bits (plug-in).
    entropy : float
        ``H(C)`` in bits.
    heldout : float
        Leave-one-subject-out accuracy of predicting ``c`` from the other subjects with
        ``b``, over the ``shared`` observations (0 when there are none).
    chance : float
        Leave-one-subject-out accuracy of predicting ``c`` without ``b`` (the other
        subjects' most frequent ``c``), over all observations.
    strength : float
        ``(heldout - chance) / (1 - chance)`` (0 when nothing is shared or ``chance = 1``).
    exposed : int
        ``r1`` facts of subjects without ``r2`` whose answer occurs among the support.
    score : float
        ``max(strength, 0) (1 - 1 / sqrt(shared))``; the report's order.
    example : str
        The pair's most productive rule ``"b -> c (k/n)"``: ``k`` of the ``n``
        observations with ``b`` have ``c``.
    """

    model_config = ConfigDict(frozen=True)

    r1: str
    r2: str
    support: int
    observations: int
    shared: int
    answers: int
    shared_answers: int
    purity: float
    conditional_entropy: float
    entropy: float
    heldout: float
    chance: float
    strength: float
    exposed: int
    score: float
    example: str


# ------------------------------------------------------------------------------ kernels
def _top_stats(groups: IntArray, counts: IntArray, n: int) -> tuple[IntArray, IntArray, IntArray]:
    """Per group: the largest count ``m1``, how many cells have it, how many have ``m1 - 1``."""
    m1 = np.zeros(n, dtype=np.int64)
    if len(counts):
        np.maximum.at(m1, groups, counts)  # ufunc.at: no sort
    k1 = np.bincount(groups, weights=counts == m1[groups], minlength=n).astype(np.int64)
    km = np.bincount(groups, weights=counts == m1[groups] - 1, minlength=n).astype(np.int64)
    return m1, k1, km


def _single_rate(
    groups: IntArray, counts: IntArray, stats: tuple[IntArray, IntArray, IntArray]
) -> FloatArray:
    """Held-out hit rate of one subject in a cell when the subject holds that cell only.

    Leaving the subject out lowers its cell by one; it is predicted correctly only when its
    cell was the unique largest (of at least 2), and then shares the win with the cells
    at ``m1 - 1``.
    """
    m1, k1, km = stats
    g = groups
    ok = (counts == m1[g]) & (k1[g] == 1) & (m1[g] >= 2)
    out: FloatArray = np.where(ok, 1.0 / (1.0 + km[g]), 0.0)
    return out


def heldout_hits(groups: IntArray, counts: IntArray) -> FloatArray:
    """Leave-one-out plurality hits per cell of grouped count tables.

    Cell ``i`` holds ``counts[i]`` observations of one value in group ``groups[i]``. Each
    observation is left out and predicted as the value with the most *other* observations
    in its group (ties split evenly; a group with no other observation predicts nothing).
    Returns the expected number of correct predictions per cell. (In the report an
    observation is a subject, and a subject with several answers leaves them all out; see
    :mod:`kgaug.ocr.risk`.)

    Examples
    --------
    >>> heldout_hits(np.array([0, 0, 1, 2, 2, 2]), np.array([3, 1, 1, 2, 2, 1])).tolist()
    [3.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    >>> heldout_hits(np.array([0, 0, 0]), np.array([2, 1, 1])).tolist()
    [0.6666666666666666, 0.0, 0.0]
    """
    g = np.asarray(groups, dtype=np.int64)
    c = np.asarray(counts, dtype=np.int64)
    if len(c) == 0:
        return np.zeros(0)
    stats = _top_stats(g, c, int(g.max()) + 1)
    out: FloatArray = _single_rate(g, c, stats) * c
    return out


def _held_out_multi(
    groups: IntArray,
    counts: IntArray,
    units: IntArray,
    stats: tuple[IntArray, IntArray, IntArray],
    distinct: npt.NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Held-out hit per observation of subjects that leave several cells of a group at once.

    Observation ``i`` is the cell of count ``counts[i]`` in group ``groups[i]``; ``units``
    numbers the (subject, group) whose cells are all left out together (one observation per
    cell, contiguous or not). Leaving a subject out lowers each of its cells by one, so the
    new maximum is ``m1`` unless the subject holds every ``m1`` cell (then ``m1 - 1``, shared
    by those and the other subjects' ``m1 - 1`` cells); only then can one of its cells win.
    ``distinct`` marks one observation per cell of a unit when a cell repeats in it.
    """
    m1, k1, km = stats
    g = groups
    nu = int(units.max()) + 1 if len(units) else 0
    top = counts == m1[g]
    second = counts == m1[g] - 1
    if distinct is not None:
        top_d, second_d = top & distinct, second & distinct
    else:
        top_d, second_d = top, second
    t1 = np.bincount(units, weights=top_d, minlength=nu)  # the subject's cells at m1
    t2 = np.bincount(units, weights=second_d, minlength=nu)  # ... at m1 - 1
    ok = top & (t1[units] == k1[g]) & (m1[g] >= 2)
    ties = np.where(ok, k1[g] + km[g] - t2[units], 1.0)
    out: FloatArray = np.where(ok, 1.0 / ties, 0.0)
    return out


def _compact(keys: IntArray, size: int) -> tuple[IntArray, Any]:
    """Sorted distinct ``keys`` and a function mapping keys to their position.

    A lookup table when the key space ``size`` is small, ``np.searchsorted`` otherwise.
    """
    if size <= 1 << 20:
        present = np.zeros(size, dtype=bool)
        present[keys] = True
        distinct = np.flatnonzero(present).astype(np.int64)
        table = np.cumsum(present, dtype=np.int64) - 1
        return distinct, lambda k: table[k]
    distinct = np.unique(keys)
    return distinct, lambda k: np.searchsorted(distinct, k)


def _sum_by(index: IntArray, weights: npt.ArrayLike, n: int) -> FloatArray:
    out: FloatArray = np.bincount(
        index, weights=np.asarray(weights, dtype=np.float64), minlength=n
    ).astype(np.float64)
    return out


def _xlogx(values: npt.ArrayLike) -> FloatArray:
    x = np.asarray(values, dtype=np.float64)
    out: FloatArray = np.zeros(len(x))
    big = x > 1.0  # 0 log 0 = 1 log 1 = 0
    out[big] = x[big] * np.log2(x[big])
    return out


#: Multi-valued observations enumerated at once (bounds the memory of the enumeration).
_CHUNK = 1 << 22


def _at(table: Any, rows: IntArray, cols: IntArray) -> IntArray:
    """Entries of a CSR ``table`` holding ``index + 1`` (a binary search per row, in C)."""
    out: IntArray = np.asarray(table[rows, cols]).ravel().astype(np.int64) - 1
    return out


def _multi_valued_observations(
    facts: tuple[IntArray, IntArray, IntArray],
    R: int,
    lookup: tuple[Any, Any],
    cells: tuple[IntArray, IntArray, IntArray, IntArray, int],
    hit_stats: tuple[IntArray, IntArray, IntArray],
    chance_stats: tuple[IntArray, IntArray, IntArray],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The observations ``(s, b, c)`` of subjects with several answers ``c`` of ``r2``.

    Enumerated per (subject, ``r2``) run of facts times the subject's other facts, in chunks
    of about :data:`_CHUNK` at run boundaries, so that the observations of one subject and
    pair are in one chunk (and contiguous). Returns per b-group how many of them lie in a
    largest cell and their held-out hits, and per pair how many have a most frequent ``c``
    and their chance hits.
    """
    h, r, col = (np.asarray(x, dtype=np.int64) for x in facts)
    cell_at, group_at = lookup
    gidx, pidx, data, n_subj, P = cells
    G = len(n_subj)
    nm_top, hits, wm_top, chance = np.zeros(G), np.zeros(G), np.zeros(P), np.zeros(P)
    F = len(h)
    if F == 0 or G == 0:
        return nm_top, hits, wm_top, chance
    hr = h * R + r
    order = np.argsort(hr, kind="stable")  # facts (not observations) by (subject, relation)
    hs, rs, cs, hrs = h[order], r[order], col[order], hr[order]
    pos = np.arange(F, dtype=np.int64)
    new_hr = np.ones(F, dtype=bool)
    new_hr[1:] = hrs[1:] != hrs[:-1]
    new_h = np.ones(F, dtype=bool)
    new_h[1:] = hs[1:] != hs[:-1]
    hr_first = np.maximum.accumulate(np.where(new_hr, pos, 0))
    h_first = np.maximum.accumulate(np.where(new_h, pos, 0))
    hr_starts = np.flatnonzero(new_hr)
    hr_len = np.diff(np.append(hr_starts, F))
    h_len = np.diff(np.append(np.flatnonzero(new_h), F))
    h_deg = h_len[np.cumsum(new_h) - 1]  # per fact: its subject's number of facts
    is_multi = (hr_len >= 2) & (h_deg[hr_starts] > hr_len)  # ... and another relation
    runs, k = hr_starts[is_multi], hr_len[is_multi]
    size = h_deg[runs] * k
    cum = np.cumsum(size)
    a = 0
    while a < len(runs):
        base = int(cum[a - 1]) if a else 0
        b = max(int(np.searchsorted(cum, base + _CHUNK, side="right")), a + 1)
        run, kk, sz = runs[a:b], k[a:b], size[a:b]
        a = b
        rj = np.repeat(np.arange(len(run)), sz)
        within = np.arange(int(sz.sum()), dtype=np.int64) - np.repeat(np.cumsum(sz) - sz, sz)
        kj = kk[rj]
        f1 = h_first[run][rj] + within // kj  # the subject's facts, in (relation, answer) order
        f2 = run[rj] + within % kj  # its r2 answers
        keep = rs[f1] != rs[f2]
        rj, f1, f2 = rj[keep], f1[keep], f2[keep]
        cell = _at(cell_at, cs[f1], cs[f2])
        cg = _at(group_at, cs[f2], rs[f1])  # the c-cell: the b-group of ((r2, c), r1)
        # held-out: a subject's answers c for one b are left out together
        new_u = np.ones(len(f1), dtype=bool)
        new_u[1:] = (f1[1:] != f1[:-1]) | (rj[1:] != rj[:-1])
        units = np.cumsum(new_u) - 1
        g, n = gidx[cell], data[cell]
        hit = _held_out_multi(g, n, units, hit_stats)
        hits += np.bincount(g, weights=hit, minlength=G)
        nm_top += np.bincount(g, weights=n == hit_stats[0][g], minlength=G)
        # chance: the subject's answers c for the pair (each repeated once per answer b)
        r1 = rs[f1]
        new_c = np.ones(len(f1), dtype=bool)
        new_c[1:] = (r1[1:] != r1[:-1]) | (rj[1:] != rj[:-1])
        pair, n = pidx[cell], n_subj[cg]
        ch = _held_out_multi(
            pair, n, np.cumsum(new_c) - 1, chance_stats, distinct=hr_first[f1] == f1
        )
        chance += np.bincount(pair, weights=ch, minlength=P)
        wm_top += np.bincount(pair, weights=n == chance_stats[0][pair], minlength=P)
    return nm_top, hits, wm_top, chance


# ------------------------------------------------------------------------------ report
class RiskReport:
    """Ranked OCR risk of every relation pair of a graph (from :func:`risk_report`).

    Rows are :class:`PairRisk` records sorted by ``score`` (then strength, support).
    ``report[("born in", "speaks")]`` looks one up; :meth:`strong` lists those above a
    strength; :meth:`to_records` gives plain dicts. The text repr is the ranked table.

    Attributes
    ----------
    relations : tuple of str
        Relation labels of the graph.
    num_subjects : int
        Subjects (heads) with at least two relations.
    min_support : int
        Pairs with fewer shared subjects are left out.
    """

    def __init__(
        self,
        relations: Sequence[str],
        entities: Sequence[str],
        arrays: dict[str, npt.NDArray[Any]],
        *,
        min_support: int,
        num_subjects: int,
        source: str,
    ) -> None:
        self.relations = tuple(relations)
        self._entities = entities
        self._a = arrays
        self.min_support = min_support
        self.num_subjects = num_subjects
        self.source = source
        self._rows: list[PairRisk] | None = None
        self._index: dict[tuple[str, str], int] | None = None

    def __len__(self) -> int:
        return len(self._a["r1"])

    def column(self, name: str) -> npt.NDArray[Any]:
        """One field for every row, as an array (``"strength"``, ``"support"``, ...)."""
        if name not in self._a:
            raise KeyError(f"unknown column {name!r}; use one of {sorted(self._a)}")
        out: npt.NDArray[Any] = self._a[name]
        return out

    def _example(self, i: int) -> str:
        a, e = self._a, self._entities
        if a["ex_n"][i] == 0:
            return ""
        return (
            f"{e[int(a['ex_b'][i])]} -> {e[int(a['ex_c'][i])]} "
            f"({int(a['ex_n'][i])}/{int(a['ex_nb'][i])})"
        )

    def _rule(self, pair: tuple[str, str]) -> tuple[int, int] | None:
        """Entity ids ``(b, c)`` of a pair's example rule (``None``: no rule or no pair)."""
        i = self._position(pair)
        if self._a["ex_n"][i] == 0:
            return None
        return int(self._a["ex_b"][i]), int(self._a["ex_c"][i])

    def _row(self, i: int) -> PairRisk:
        a, rel = self._a, self.relations
        vals: dict[str, Any] = {}
        for f in _FIELDS:
            v = a[f][i]
            vals[f] = int(v) if a[f].dtype.kind in "iu" else float(v)
        return PairRisk(
            r1=rel[int(a["r1"][i])], r2=rel[int(a["r2"][i])], example=self._example(i), **vals
        )

    @property
    def rows(self) -> list[PairRisk]:
        """Every pair, ranked."""
        if self._rows is None:
            self._rows = [self._row(i) for i in range(len(self))]
        return self._rows

    def __iter__(self) -> Any:
        return iter(self.rows)

    def _position(self, pair: tuple[str, str]) -> int:
        if self._index is None:
            rel = self.relations
            self._index = {
                (rel[int(x)], rel[int(y)]): i
                for i, (x, y) in enumerate(zip(self._a["r1"], self._a["r2"]))
            }
        try:
            return self._index[pair]
        except KeyError:
            raise KeyError(
                f"no relation pair {pair!r} with at least {self.min_support} shared subjects"
            ) from None

    def __getitem__(self, pair: tuple[str, str]) -> PairRisk:
        return self._row(self._position(pair))

    def top(self, k: int = 10) -> list[PairRisk]:
        """The ``k`` highest-ranked pairs."""
        return [self._row(i) for i in range(min(k, len(self)))]

    def strong(self, threshold: float = 0.5) -> list[PairRisk]:
        """Pairs whose strength is at least ``threshold``, ranked."""
        idx = np.flatnonzero(self._a["strength"] >= threshold)
        return [self._row(int(i)) for i in idx]

    def to_records(self) -> list[dict[str, Any]]:
        """Plain dicts, one per pair, ranked (JSON-serializable)."""
        return [r.model_dump() for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data."""
        return {
            "source": self.source,
            "num_subjects": self.num_subjects,
            "min_support": self.min_support,
            "pairs": self.to_records(),
        }

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` of the rows (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.to_records())

    # ------------------------------------------------------------------ display
    _HEADER = (
        "r1 -> r2",
        "support",
        "shared",
        "purity",
        "H(C|B)",
        "held-out",
        "chance",
        "strength",
        "exposed",
        "score",
        "example",
    )

    def _table(self, max_rows: int | None) -> tuple[list[list[str]], int]:
        n = len(self) if max_rows is None else min(max_rows, len(self))
        rows = []
        for i in range(n):
            a = self._a
            rows.append(
                [
                    f"{self.relations[int(a['r1'][i])]} -> {self.relations[int(a['r2'][i])]}",
                    str(int(a["support"][i])),
                    str(int(a["shared"][i])),
                    f"{a['purity'][i]:.3f}",
                    f"{a['conditional_entropy'][i]:.2f}",
                    f"{a['heldout'][i]:.3f}",
                    f"{a['chance'][i]:.3f}",
                    f"{a['strength'][i]:+.3f}",
                    str(int(a["exposed"][i])),
                    f"{a['score'][i]:.3f}",
                    self._example(i),
                ]
            )
        return rows, len(self) - n

    def _caption(self) -> str:
        return (
            f"OCR risk of {self.source}: {len(self)} relation pairs with >= {self.min_support} "
            f"shared subjects ({self.num_subjects} subjects with two or more relations); "
            "strength = (held-out - chance) / (1 - chance), "
            "score = max(strength, 0) (1 - 1/sqrt(shared))"
        )

    def to_string(self, max_rows: int | None = 20) -> str:
        """The ranked table (``max_rows=None`` for every pair)."""
        rows, more = self._table(max_rows)
        align = "l" + "r" * 9 + "l"
        s = self._caption() + "\n" + text_table(self._HEADER, rows, align=align)
        if more:
            s += f"\n... {more} more pairs (to_string(max_rows=None) shows all)"
        return s

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return self.to_string(max_rows=10)

    def _repr_html_(self) -> str:
        rows, more = self._table(30)
        styles = ["background-color:#fde2e2" if float(r[7]) >= 0.5 else "" for r in rows]
        cap = self._caption() + (f" (top 30 of {len(self)})" if more else "")
        return html_table(self._HEADER, rows, row_styles=styles, caption=cap)


def _facts(
    kg: KnowledgeGraph, relations: Iterable[str] | None
) -> tuple[IntArray, IntArray, IntArray]:
    h, r, t = kg.head_ids, kg.relation_ids, kg.tail_ids
    if relations is not None:
        wanted = [relations] if isinstance(relations, str) else list(relations)
        ids = [kg.relation_id(x) for x in wanted]  # unknown labels raise with close matches
        keep = np.isin(r, ids)
        h, r, t = h[keep], r[keep], t[keep]
    return h, r, t


def risk_report(
    kg: KnowledgeGraph,
    *,
    min_support: int = 3,
    relations: Iterable[str] | None = None,
    max_cells: int = MAX_CELLS,
) -> RiskReport:
    """Measure how strongly each relation's answer determines another's, for all pairs.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph (its heads are the subjects).
    min_support : int
        Leave out pairs with fewer shared subjects (default 3).
    relations : iterable of str, optional
        Only these relations (default: all with facts).
    max_cells : int
        Refuse graphs whose subjects have more than this many answer combinations in
        total (``sum_s outdeg(s)^2``); restrict ``relations`` instead.

    Returns
    -------
    RiskReport
        Ranked by score; the formulas are in :mod:`kgaug.ocr.risk`.

    Raises
    ------
    ValueError
        Fewer than two relations with facts (there is no pair).
    kgaug.errors.RiskTooLargeError
        Too large (more than ``max_cells`` answer combinations); a ``ValueError``.

    Examples
    --------
    >>> import kgaug
    >>> from kgaug.ocr import risk_report
    >>> facts = [(f"p{i}", "lives in", ["Paris", "Rome"][i % 2]) for i in range(8)]
    >>> facts += [(f"p{i}", "speaks", ["French", "Italian"][i % 2]) for i in range(8)]
    >>> rep = risk_report(kgaug.KnowledgeGraph.from_triples(facts))
    >>> rep[("lives in", "speaks")].strength
    1.0
    """
    if not isinstance(kg, KnowledgeGraph):
        raise TypeError(f"expected a KnowledgeGraph, got {type(kg).__name__}")
    min_support = check_int(min_support, "min_support", minimum=1)
    max_cells = check_int(max_cells, "max_cells", minimum=1)
    h, r, t = _facts(kg, relations)
    present = np.unique(r)
    if len(present) < 2:
        names = [kg.relations[int(i)] for i in present]
        raise ValueError(
            "the OCR risk report compares pairs of relations, but the graph has "
            f"{len(present)} relation(s) with facts{' (' + ', '.join(names) + ')' if names else ''}"
            "; it needs at least two"
        )
    E, R = kg.num_entities, kg.num_relations
    deg = np.bincount(h, minlength=E)
    cells = int((deg.astype(np.float64) ** 2).sum())
    if cells > max_cells:
        raise RiskTooLargeError(cells, max_cells)
    # columns: distinct (relation, answer) pairs; M[s, (r, b)] = 1 for every fact
    key = r * E + t
    ucol, col = np.unique(key, return_inverse=True)
    ncol = len(ucol)
    rel_of = ucol // E
    ent_of = ucol % E
    M = sp.csr_matrix((np.ones(len(h), dtype=np.int64), (h, col)), shape=(E, ncol))
    Hs = sp.csr_matrix((np.ones(len(h), dtype=np.int64), (h, r)), shape=(E, R))
    Hs.sum_duplicates()  # a subject has the relation or not
    Hs.data = np.minimum(Hs.data, 1)
    num_subjects = int(np.count_nonzero(np.asarray(Hs.sum(axis=1)).ravel() >= 2))

    # all contingency tables at once: C[(r1, b), (r2, c)] = #subjects with both facts.
    # Canonical CSR order is (r1, b, r2, c): the cells of one (r1, b, r2) are contiguous.
    C = (M.T @ M).tocsr()
    C.sum_duplicates()
    C.sort_indices()
    rows_ = np.repeat(np.arange(ncol, dtype=np.int64), np.diff(C.indptr))
    cols_ = C.indices.astype(np.int64)
    data = C.data.astype(np.int64)
    off = rel_of[rows_] != rel_of[cols_]
    # cell index by (column, column), for the lookups of _multi_valued_observations
    cell_at = sp.csr_matrix((np.where(off, np.cumsum(off), 0), C.indices, C.indptr), C.shape)
    rows_, cols_, data = rows_[off], cols_[off], data[off]
    pair_key = rel_of[rows_] * R + rel_of[cols_]
    upair, pair_id = _compact(pair_key, R * R)
    pidx = pair_id(pair_key)
    P = len(upair)
    r1s, r2s = upair // R, upair % R
    rev = pair_id(r2s * R + r1s)  # C is symmetric: (r2, r1) exists whenever (r1, r2) does
    S2 = (Hs.T @ Hs).tocoo()  # subjects per relation pair
    s_off = S2.row != S2.col
    support = np.zeros(P, dtype=np.int64)
    support[pair_id(S2.row[s_off].astype(np.int64) * R + S2.col[s_off])] = S2.data[s_off]
    obs = _sum_by(pidx, data, P)

    # b-groups: one per (pair, b), contiguous runs of cells
    boundary = np.ones(len(rows_), dtype=bool)
    boundary[1:] = (rows_[1:] != rows_[:-1]) | (pidx[1:] != pidx[:-1])
    starts = np.flatnonzero(boundary)
    gidx = np.cumsum(boundary) - 1
    G = len(starts)
    g_pair = pidx[starts]
    n_b = _sum_by(gidx, data, G)
    max_b = np.maximum.reduceat(data, starts) if G else np.zeros(0, dtype=np.int64)
    purity = _sum_by(g_pair, max_b, P) / obs
    cond_h = (_sum_by(g_pair, _xlogx(n_b), P) - _sum_by(pidx, _xlogx(data), P)) / obs
    # c-marginals of (r1, r2) are the b-groups of (r2, r1): N_c = sum_b N(b, c)
    c_pair = rev[g_pair]
    n_c = n_b.astype(np.int64)
    entropy = np.log2(obs) - _sum_by(c_pair, _xlogx(n_c), P) / obs
    # subjects per b-group: the groups are the entries K[(r1, b), r2] (subjects with
    # (r1, b) that also have r2), in the same order
    K = (M.T @ Hs).tocsr()
    K.sum_duplicates()
    K.sort_indices()
    Kc = K.tocoo()
    k_col, k_rel, k_val = Kc.row.astype(np.int64), Kc.col.astype(np.int64), Kc.data
    ok = rel_of[k_col] != k_rel
    k_col, k_rel, k_val = k_col[ok], k_rel[ok], k_val[ok].astype(np.int64)
    g_key = rows_[starts] * R + rel_of[cols_[starts]]
    k_key = k_col * R + k_rel
    if len(k_key) == G and np.array_equal(k_key, g_key):
        n_subj = k_val
    else:  # pragma: no cover - the orders agree; kept as a safe fallback
        n_subj = k_val[np.searchsorted(k_key, g_key)]

    # leave-one-SUBJECT-out: a subject's observations are all left out together, so it is
    # never predicted from its own other answers. A subject with one r2 answer is one
    # observation per b-group (closed form per cell below); subjects with several r2
    # answers are enumerated (_multi_valued_observations).
    hit_stats = _top_stats(gidx, data, G)
    # chance: the cells of pair (r1, r2) are the b-groups of (r2, r1), with subject counts
    chance_stats = _top_stats(c_pair, n_subj, P)
    group_at = sp.csr_matrix(  # group index by ((r1, b) column, r2)
        (np.arange(1, G + 1, dtype=np.int64), (rows_[starts], rel_of[cols_[starts]])),
        shape=(ncol, R),
    )
    multi = _multi_valued_observations(
        (h, r, col),
        R,
        (cell_at, group_at),
        (gidx, pidx, data, n_subj, P),
        hit_stats,
        chance_stats,
    )
    nm_top, hits_multi, wm_top, chance_multi = multi
    # one-answer subjects hit only in a unique largest cell (of >= 2), tied with the m1 - 1
    m1, k1, km = hit_stats
    single = (k1 == 1) & (m1 >= 2)
    hits_g = np.where(single, (m1 - nm_top) / (1.0 + km), 0.0) + hits_multi
    shared_obs = _sum_by(g_pair, np.where(n_subj >= 2, n_b, 0.0), P)
    heldout = _sum_by(g_pair, hits_g, P) / np.maximum(shared_obs, 1.0)
    m1c, k1c, kmc = chance_stats
    top_c = _sum_by(c_pair, np.where(n_subj == m1c[c_pair], n_b, 0.0), P)  # obs with top c
    single_c = (k1c == 1) & (m1c >= 2)
    chance_single = np.where(single_c, (top_c - wm_top) / (1.0 + kmc), 0.0)
    chance = (chance_single + chance_multi) / obs
    undefined = (chance >= 1.0 - 1e-12) | (shared_obs == 0)
    strength = np.where(undefined, 0.0, (heldout - chance) / np.where(undefined, 1.0, 1.0 - chance))
    score = np.maximum(strength, 0.0) * (1.0 - 1.0 / np.sqrt(np.maximum(shared_obs, 1.0)))

    # answers per pair, and those shared by >= 2 subjects; exposure
    k_pair = pair_id(rel_of[k_col] * R + k_rel)
    col_deg = np.bincount(col, minlength=ncol)
    answers = np.bincount(k_pair, minlength=P).astype(np.int64)
    shared = np.bincount(k_pair, weights=k_val >= 2, minlength=P).astype(np.int64)
    exposed = np.bincount(k_pair, weights=col_deg[k_col] - k_val, minlength=P).astype(np.int64)

    # the most productive rule per pair: the b-group with most held-out hits (then the
    # largest top cell); its rule is the group's top cell
    big = np.iinfo(np.int64).max
    is_top = data == max_b[gidx]
    top_pos = np.full(G, big, dtype=np.int64)
    np.minimum.at(top_pos, gidx, np.where(is_top, np.arange(len(data)), big))
    rule_key = hits_g * (float(data.max(initial=0)) + 1.0) + max_b
    best = np.full(P, -1.0)
    np.maximum.at(best, g_pair, rule_key)
    chosen = np.full(P, big, dtype=np.int64)
    np.minimum.at(chosen, g_pair, np.where(rule_key == best[g_pair], np.arange(G), big))
    first = top_pos[chosen]
    ex_b = ent_of[rows_[first]]
    ex_c = ent_of[cols_[first]]
    ex_n = np.where(hits_g[chosen] > 0, data[first], 0)  # no rule when nothing is predicted
    ex_nb = n_b[chosen].astype(np.int64)

    arrays: dict[str, npt.NDArray[Any]] = {
        "r1": r1s,
        "r2": r2s,
        "support": support,
        "observations": obs.astype(np.int64),
        "shared": shared_obs.astype(np.int64),
        "answers": answers,
        "shared_answers": shared,
        "purity": purity,
        "conditional_entropy": np.maximum(cond_h, 0.0),
        "entropy": np.maximum(entropy, 0.0),
        "heldout": heldout,
        "chance": chance,
        "strength": strength,
        "exposed": exposed,
        "score": score,
        "ex_b": ex_b,
        "ex_c": ex_c,
        "ex_n": ex_n,
        "ex_nb": ex_nb,
    }
    keep = support >= min_support
    # rank: score, strength, support (descending), then relation ids
    rank = np.lexsort((r2s[keep], r1s[keep], -support[keep], -strength[keep], -score[keep]))
    arrays = {k: v[keep][rank] for k, v in arrays.items()}
    return RiskReport(
        kg.relations,
        kg.entities,
        arrays,
        min_support=min_support,
        num_subjects=num_subjects,
        source=kg.load_report.source,
    )


# ------------------------------------------------------------------------------ compare
class PairRiskChange(BaseModel):
    """How one relation pair's association changed between two graphs.

    Attributes
    ----------
    r1, r2 : str
        The pair.
    strength_before : float or None
        The strength before, as measured (also when it is not established); ``None`` when
        the pair had fewer than ``min_support`` shared subjects before.
    strength_after : float
        After.
    support_before, support_after : int
        Shared subjects (0 when absent).
    shared_before, shared_after : int
        Shared observations (see :class:`PairRisk`; 0 when absent).
    established_before : bool
        ``strength_before`` rests on at least ``min_support`` shared observations (the
        before report's ``min_support``). Otherwise it is too thin to show that the first
        graph has the association (e.g. 1.0 from two subjects that happen to agree), and
        the flag treats it as 0.
    established_after : bool
        Likewise ``strength_after`` (the after report's ``min_support``); a pair is flagged
        only when it is, so a thin pair that augmentation left as thin is not.
    exposed_after : int
        Exposure after (see :class:`PairRisk`).
    increase : float
        ``strength_after - max(strength_before, 0)``, with ``strength_before`` taken as 0
        when absent or not established (the rise the flag tests).
    new : bool
        The pair had no (or too little) support before: fewer than ``min_support`` shared
        subjects, ``strength_before`` is ``None``.
    flagged : bool
        A strong association that the first graph does not establish: ``strength_after >=
        threshold`` and established, ``strength_before`` absent, not established or below
        the threshold, and ``increase >= min_increase``.
    example : str
        The pair's most productive rule after.
    added_support : int or None
        Of the ``support_after`` subjects, those with an ``r1`` or ``r2`` fact that
        augmentation added (provenance not ``real``). Set by :func:`check_augmentation` for
        flagged pairs; ``None`` otherwise.
    rule_added : int or None
        Of the subjects behind ``example`` (``b -> c``), those whose fact ``(s, r1, b)`` or
        ``(s, r2, c)`` was added; set like ``added_support``.
    rule_added_examples : tuple of str
        Up to three of them (fictitious or rewired entities), to trace the association to
        the augmentation that made it.
    """

    model_config = ConfigDict(frozen=True)

    r1: str
    r2: str
    strength_before: float | None
    strength_after: float
    support_before: int
    support_after: int
    shared_before: int
    shared_after: int
    established_before: bool
    established_after: bool
    exposed_after: int
    increase: float
    new: bool
    flagged: bool
    example: str
    added_support: int | None = None
    rule_added: int | None = None
    rule_added_examples: tuple[str, ...] = ()

    def _source(self) -> str:
        """``" (771 with added facts)"``-style attribution, or ``""``."""
        if self.added_support is None:
            return ""
        return f" ({self.added_support} with added facts)"

    def _before(self) -> str:
        """``"1.00 (2 shared observations, not established)"``-style before strength."""
        if self.strength_before is None:
            return "-"
        if self.established_before:
            return f"{self.strength_before:.2f}"
        n = self.shared_before
        return (
            f"{self.strength_before:.2f} ({n} shared observation{'s' * (n != 1)}, not established)"
        )

    def _rule_source(self) -> str:
        if self.rule_added is None or not self.example:
            return ""
        names = ", ".join(self.rule_added_examples)
        return f"; {self.rule_added} of them added" + (f": {names}" if names else "")


class RiskComparison:
    """Before/after OCR risk of every pair of the second graph (from :func:`compare_risk`).

    :attr:`flagged` lists the strong associations the first graph does not establish; the
    text repr is a table of the flagged pairs (then the largest increases). In the table a
    strength marked ``*`` rests on fewer than ``min_support`` shared observations: before,
    it counts as 0 for the flag; after, the pair is not flagged.
    """

    def __init__(
        self,
        before: RiskReport,
        after: RiskReport,
        rows: list[PairRiskChange],
        *,
        threshold: float,
        min_increase: float,
    ) -> None:
        self.before = before
        self.after = after
        self.rows = rows
        self.threshold = threshold
        self.min_increase = min_increase
        self.min_support = before.min_support

    @property
    def flagged(self) -> list[PairRiskChange]:
        """Pairs whose strength rose above the threshold, largest increase first."""
        return [r for r in self.rows if r.flagged]

    def to_records(self) -> list[dict[str, Any]]:
        """Plain dicts, flagged first, then by increase."""
        return [r.model_dump() for r in self.rows]

    def message(self, max_pairs: int = 5) -> str:
        """One paragraph naming the flagged pairs and their strengths (the warning text)."""
        f = self.flagged
        if not f:
            return (
                f"no relation pair reaches OCR strength {self.threshold:g} that the original "
                "graph does not establish"
            )

        def strength(x: PairRiskChange) -> str:
            if x.strength_before is None:
                return f"strength {x.strength_after:.2f} (a new pair)"
            return f"strength {x._before()} -> {x.strength_after:.2f}"

        def rule(x: PairRiskChange) -> str:
            if not x.example:
                return ""
            src = x._rule_source()
            return f", e.g. {x.example[:-1]}{src})" if src else f", e.g. {x.example}"

        parts = [
            f"{x.r1} -> {x.r2}: {strength(x)} on {x.support_after} subjects{x._source()}" + rule(x)
            for x in f[:max_pairs]
        ]
        more = f" (and {len(f) - max_pairs} more)" if len(f) > max_pairs else ""
        return (
            f"augmentation created {len(f)} strong answer association(s) that the original "
            f"graph does not establish{more}; a model fine-tuned on it will learn them as "
            "implications and extend them to other subjects (out-of-context reasoning): "
            + "; ".join(parts)
        )

    def short_message(self) -> str:
        """The warning's text: the count, the strongest flagged pair, where to look (<= 3 lines)."""
        f = self.flagged
        if not f:
            return self.message()
        top = max(f, key=lambda x: x.strength_after)
        before = "new" if top.strength_before is None else f"{top.strength_before:.2f}"
        more = f" and {len(f) - 1} more" if len(f) > 1 else ""
        return (
            f"augmentation created {len(f)} strong answer association(s) that the original "
            f"graph does not establish:\n  {top.r1} -> {top.r2} ({before} -> "
            f"{top.strength_after:.2f} on {top.support_after} subjects){more}; a fine-tuned "
            "model learns them as implications.\n  Details: the warning's .details, or "
            "kgaug.ocr.check_augmentation(augmented, original)"
        )

    _HEADER = ("r1 -> r2", "before", "after", "support", "exposed", "flag", "example")

    def _table(self, max_rows: int | None) -> list[list[str]]:
        rows = self.rows if max_rows is None else self.rows[:max_rows]

        def before(r: PairRiskChange) -> str:
            if r.strength_before is None:
                return "-"
            return f"{r.strength_before:+.3f}" + ("" if r.established_before else "*")

        def after(r: PairRiskChange) -> str:
            return f"{r.strength_after:+.3f}" + ("" if r.established_after else "*")

        def flag(r: PairRiskChange) -> str:
            if not r.flagged:
                return ""
            return "UP" if r.established_before else "NEW"

        return [
            [
                f"{r.r1} -> {r.r2}",
                before(r),
                after(r),
                f"{r.support_before} -> {r.support_after}",
                str(r.exposed_after),
                flag(r),
                r.example,
            ]
            for r in rows
        ]

    def to_string(self, max_rows: int | None = 20) -> str:
        """The comparison table."""
        head = (
            f"OCR risk before/after: {len(self.flagged)} flagged pair(s) (strength >= "
            f"{self.threshold:g}, increase >= {self.min_increase:g}; *: fewer than "
            f"{self.min_support} shared observations, not established)"
        )
        return head + "\n" + text_table(self._HEADER, self._table(max_rows), align="lrrrrll")

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return self.to_string(max_rows=10)

    def _repr_html_(self) -> str:
        rows = self._table(30)
        styles = ["background-color:#fde2e2" if r[5] else "" for r in rows]
        return html_table(self._HEADER, rows, row_styles=styles, caption=self.message())


def _check_unit(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    x = float(value)
    if not (math.isfinite(x) and 0.0 <= x <= 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return x


def compare_risk(
    before: RiskReport,
    after: RiskReport,
    *,
    threshold: float = 0.5,
    min_increase: float = 0.1,
) -> RiskComparison:
    """Which relation pairs are strongly associated in ``after`` but not in ``before``.

    Pairs are matched by relation label. A strength is *established* when it rests on at
    least ``min_support`` shared observations of its report (:attr:`PairRisk.shared`: the
    observations whose ``r1`` answer is held by two or more subjects; ``before.min_support``
    and ``after.min_support``). A pair is flagged when its strength after is established
    and at least ``threshold``, its strength before is not established (the pair absent
    from ``before``, i.e. fewer than ``before.min_support`` shared subjects, or measured on
    fewer shared observations) or below ``threshold``, and it rose by at least
    ``min_increase`` from the established strength before (0 when not established). So a
    strength of 1.0 from two subjects who happen to share both answers does not mask an
    association that augmentation makes strong on many, and is not flagged either when
    augmentation leaves it that thin. The raw strength before is still reported
    (``strength_before``, ``shared_before``).

    Parameters
    ----------
    before, after : RiskReport
        E.g. of the real graph and of the augmented one.
    threshold : float
        Strength that counts as a strong association (in [0, 1]).
    min_increase : float
        Smallest rise that counts (in [0, 1]).

    Returns
    -------
    RiskComparison
    """
    threshold = _check_unit(threshold, "threshold")
    min_increase = _check_unit(min_increase, "min_increase")
    a, b = after._a, before._a
    # map the before report's pairs onto the after report's relation ids
    rel_after = {x: i for i, x in enumerate(after.relations)}
    R = max(len(after.relations), 1)
    to_after = np.array([rel_after.get(x, -1) for x in before.relations] or [-1], dtype=np.int64)
    br1, br2 = to_after[b["r1"]], to_after[b["r2"]]
    valid = (br1 >= 0) & (br2 >= 0)
    bkey = br1[valid] * R + br2[valid]
    b_strength = b["strength"][valid]
    b_support = b["support"][valid]
    b_shared = b["shared"][valid]
    border = np.argsort(bkey)
    bkey, b_strength = bkey[border], b_strength[border]
    b_support, b_shared = b_support[border], b_shared[border]
    akey = a["r1"] * R + a["r2"]
    pos = np.searchsorted(bkey, akey)
    pos_c = np.minimum(pos, max(len(bkey) - 1, 0))
    found = (pos < len(bkey)) & (bkey[pos_c] == akey) if len(bkey) else np.zeros(len(akey), bool)
    s_before = np.where(found, b_strength[pos_c] if len(bkey) else 0.0, np.nan)
    sup_before = np.where(found, b_support[pos_c] if len(bkey) else 0, 0).astype(np.int64)
    shr_before = np.where(found, b_shared[pos_c] if len(bkey) else 0, 0).astype(np.int64)
    # the strength before counts only on enough shared observations; else it is 0
    established = found & (shr_before >= before.min_support)
    established_after = a["shared"] >= after.min_support
    base = np.where(established, np.maximum(np.nan_to_num(s_before), 0.0), 0.0)
    increase = a["strength"] - base
    flagged = (
        established_after
        & (a["strength"] >= threshold)
        & (~established | (np.nan_to_num(s_before) < threshold))
        & (increase >= min_increase)
    )
    order = np.lexsort((-increase, ~flagged))
    rows = []
    for i in order.tolist():
        rows.append(
            PairRiskChange(
                r1=after.relations[int(a["r1"][i])],
                r2=after.relations[int(a["r2"][i])],
                strength_before=float(s_before[i]) if found[i] else None,
                strength_after=float(a["strength"][i]),
                support_before=int(sup_before[i]),
                support_after=int(a["support"][i]),
                shared_before=int(shr_before[i]),
                shared_after=int(a["shared"][i]),
                established_before=bool(established[i]),
                established_after=bool(established_after[i]),
                exposed_after=int(a["exposed"][i]),
                increase=float(increase[i]),
                new=not bool(found[i]),
                flagged=bool(flagged[i]),
                example=after._example(i),
            )
        )
    return RiskComparison(before, after, rows, threshold=threshold, min_increase=min_increase)


def check_augmentation(
    augmented: KnowledgeGraph,
    original: KnowledgeGraph | None = None,
    *,
    threshold: float = 0.5,
    min_increase: float = 0.1,
    min_support: int = 3,
    relations: Iterable[str] | None = None,
    max_cells: int = MAX_CELLS,
) -> RiskComparison:
    """Compare the OCR risk of an augmented graph with that of the graph it came from.

    This detects associations; it changes nothing. A pair is flagged by the rule of
    :func:`compare_risk`: strong after on at least ``min_support`` shared observations,
    and not established before (a strength before on fewer than ``min_support`` shared
    observations counts as 0) or below ``threshold``. Flagged pairs are attributed to the
    augmentation: how many of their subjects have added facts (provenance not ``real``),
    and which subjects behind the example rule (see :class:`PairRiskChange`).

    Parameters
    ----------
    augmented : KnowledgeGraph
        The result of augmentation.
    original : KnowledgeGraph, optional
        The graph before augmentation (default: ``augmented``'s real facts,
        ``augmented.subgraph(provenance=["real"])``).
    threshold, min_increase : float
        See :func:`compare_risk`.
    min_support : int
        See :func:`risk_report`; also the shared observations a strength needs to count
        for the flag (before and after).
    relations : iterable of str, optional
        Restrict both reports to these relations.
    max_cells : int
        See :func:`risk_report` (checked on ``augmented`` first).

    Returns
    -------
    RiskComparison
        ``.flagged`` lists the strong associations augmentation created.

    Raises
    ------
    kgaug.errors.RiskTooLargeError
        A graph has more than ``max_cells`` answer combinations.
    """
    if original is None:
        original = augmented.subgraph(provenance=["real"])
    rels = None if relations is None else list(relations)
    after = _report_or_empty(augmented, min_support, rels, max_cells)  # the larger one first
    before = _report_or_empty(original, min_support, rels, max_cells)
    comparison = compare_risk(before, after, threshold=threshold, min_increase=min_increase)
    comparison.rows = [
        _attribute(augmented, after, row) if row.flagged else row for row in comparison.rows
    ]
    return comparison


def _attribute(kg: KnowledgeGraph, report: RiskReport, row: PairRiskChange) -> PairRiskChange:
    """Fill ``row``'s attribution from ``kg``'s provenance (one pass over the facts)."""
    from kgaug.records import Provenance

    h, r, t = kg.head_ids, kg.relation_ids, kg.tail_ids
    added = kg.provenance_codes != Provenance.REAL.code
    in1, in2 = r == kg.relation_id(row.r1), r == kg.relation_id(row.r2)
    support = np.intersect1d(h[in1], h[in2])
    with_added = np.union1d(h[in1 & added], h[in2 & added])
    update: dict[str, Any] = {
        "added_support": len(np.intersect1d(support, with_added, assume_unique=True))
    }
    rule = report._rule((row.r1, row.r2))
    if rule is not None:
        b, c = rule
        f1, f2 = in1 & (t == b), in2 & (t == c)
        behind = np.intersect1d(h[f1], h[f2])
        culprits = np.intersect1d(behind, np.union1d(h[f1 & added], h[f2 & added]))
        update["rule_added"] = len(culprits)
        update["rule_added_examples"] = tuple(kg.entities[int(i)] for i in culprits[:3])
    return row.model_copy(update=update)


def _report_or_empty(
    kg: KnowledgeGraph, min_support: int, relations: list[str] | None, max_cells: int
) -> RiskReport:
    """:func:`risk_report`, or an empty report when fewer than two relations have facts."""
    _, r, _ = _facts(kg, relations)
    if len(np.unique(r)) >= 2:
        return risk_report(kg, min_support=min_support, relations=relations, max_cells=max_cells)
    floats = {"purity", "conditional_entropy", "entropy", "heldout", "chance", "strength", "score"}
    keys = ("r1", "r2", *_FIELDS, "ex_b", "ex_c", "ex_n", "ex_nb")
    empty = {k: np.zeros(0, dtype=np.float64 if k in floats else np.int64) for k in keys}
    return RiskReport(
        kg.relations,
        kg.entities,
        empty,
        min_support=check_int(min_support, "min_support", minimum=1),
        num_subjects=0,
        source=kg.load_report.source,
    )


def warn_ocr_risk(
    original: KnowledgeGraph,
    augmented: KnowledgeGraph,
    *,
    stacklevel: int = 2,
    templates: Sequence[str] = (),
    **options: Any,
) -> RiskComparison | None:
    """Warn with :class:`~kgaug.errors.OCRRiskWarning` when augmentation created associations.

    Runs :func:`check_augmentation` (``options``: ``threshold``, ``min_increase``,
    ``min_support``, ``relations``, ``max_cells``) and warns, naming the flagged relation
    pairs, their strengths and the added subjects behind them, when there are any: pairs
    strong after augmentation that the original graph does not establish (its strength
    there rests on fewer than ``min_support`` shared observations, or is below the
    threshold; see :func:`compare_risk`). It
    only reports: the graphs are not changed. A graph too large to check (more than
    ``max_cells`` answer combinations, :class:`~kgaug.errors.RiskTooLargeError`) gets a
    warning that says so, and how to check it on fewer relations, instead of an error.

    Parameters
    ----------
    original, augmented : KnowledgeGraph
        Before and after augmentation.
    stacklevel : int
        Passed to :func:`warnings.warn` (2 = the caller of this function).
    templates : sequence of str
        What generated the added facts (e.g. the plan's templates), named in the warning.
    **options
        For :func:`check_augmentation`.

    Returns
    -------
    RiskComparison or None
        The comparison (``None`` when the graph was too large to check).
    """
    import warnings

    from kgaug.errors import OCRRiskWarning

    try:
        comparison = check_augmentation(augmented, original, **options)
    except RiskTooLargeError as e:
        msg = (
            f"OCR risk not checked: the graph is too large to check here ({e.cells} "
            f"answer combinations, above max_cells={e.max_cells}); run "
            "kgaug.ocr.risk_report(augmented, relations=[...]) or "
            "kgaug.ocr.check_augmentation(augmented, original, relations=[...]) on the "
            "relations you will train on"
        )
        warnings.warn(OCRRiskWarning(msg), stacklevel=stacklevel)
        return None
    if comparison.flagged:
        msg = comparison.message()
        if templates and any(x.added_support for x in comparison.flagged):
            msg += ". The added facts come from the templates " + ", ".join(
                f"[{x}]" for x in dict.fromkeys(templates)
            )
        msg += (
            ". kgaug only detects this; the augmented graph is unchanged. See "
            "kgaug.ocr.check_augmentation(augmented, original) for the table; "
            "kgaug.augment(..., check_ocr_risk=False) turns this check off."
        )
        warnings.warn(
            OCRRiskWarning(comparison.short_message(), details=msg, comparison=comparison),
            stacklevel=stacklevel,
        )
    return comparison

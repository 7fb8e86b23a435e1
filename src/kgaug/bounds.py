r"""Analytic bounds of "Grokking in the Wild" (Sec. 2.3, App. A).

Random-graph model: ``|V|`` nodes and every ordered pair of distinct nodes joined with
probability ``b / (|V| - 1)`` (``b`` = average branching factor).

- Lemma 1 (:func:`expected_inferred`):
  :math:`E|F_n| = \binom{|V|}{n+1}(n+1)!\,(b/(|V|-1))^n`, and phi stays below about
  :math:`b^{n-1}` as ``|V|`` grows (:func:`phi_asymptote`).
- Lemma 2 (:func:`min_relation_branching`), necessary for ``phi_{n,r} >= phi_G``:
  :math:`b_r \ge \left(\phi_G |V| (|V|-1)^n / (\binom{|V|}{n+1}(n+1)!)\right)^{1/(n-1)}`.
- Node-count bound (:func:`min_nodes`, App. A.3):
  :math:`|V| \ge \min\{v : \Gamma(v) / (\Gamma(v-n)(v-1)^n) \ge \max_r \phi_G / b_r^{n-1}\}`.
  The left side is below 1 for every ``v``, so when the right side is ``>= 1`` no graph
  size suffices and :func:`min_nodes` returns ``None`` with the reason.

Nothing is computed as a factorial: ratios of Gamma functions are evaluated in log space
(``log Γ(x+1) - log Γ(x-k+1)`` as a sum of ``k`` logarithms, exact for integer ``k`` and
free of the cancellation that subtracting two huge ``gammaln`` values suffers), so the
bounds hold for any graph size (tested up to ``|V| = 1e18``) and any ``n`` up to
``MAX_HOPS``. The formulas underestimate real, locally denser graphs but
match their shape and magnitude (paper Fig. 3).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from kgaug.errors import UnreachableBoundWarning

__all__ = [
    "NodeBound",
    "expected_inferred",
    "expected_phi",
    "expected_relation_phi",
    "min_nodes",
    "min_relation_branching",
    "node_bound",
    "node_ratio",
    "phi_asymptote",
]

FloatArray = npt.NDArray[np.float64]
MAX_HOPS = 10_000  # the log sums are O(hops); nobody chains ten thousand relations


def _arr(x: Any, name: str) -> FloatArray:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {x!r}") from None
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got {x!r}")
    return a


def _first_bad(mask: npt.NDArray[np.bool_], values: FloatArray) -> str:
    if values.ndim == 0:
        return f"{values.item():g}"
    i = np.unravel_index(int(np.flatnonzero(mask.ravel())[0]), mask.shape)
    return f"{values[i]:g} (at index {tuple(int(j) for j in i) if len(i) > 1 else int(i[0])})"


def _hops(hops: Any, minimum: int, what: str) -> FloatArray:
    h = _arr(hops, "hops")
    bad = (h != np.round(h)) | (h < minimum) | (h > MAX_HOPS)
    if np.any(bad):
        raise ValueError(
            f"hops must be an integer in {minimum}..{MAX_HOPS} for {what}, got {_first_bad(bad, h)}"
        )
    return h


def _nodes(num_nodes: Any, hops: FloatArray) -> FloatArray:
    v = _arr(num_nodes, "num_nodes")
    v_b, h_b = np.broadcast_arrays(v, hops)
    bad = v_b <= h_b
    if np.any(bad):
        raise ValueError(
            "num_nodes must exceed hops (an n-hop path visits n+1 distinct nodes), got "
            f"num_nodes={_first_bad(bad, v_b)}"
        )
    return v


def _positive(x: Any, name: str, why: str) -> FloatArray:
    a = _arr(x, name)
    bad = a <= 0
    if np.any(bad):
        raise ValueError(f"{name} must be > 0 ({why}), got {_first_bad(bad, a)}")
    return a


def _out(x: FloatArray) -> float | FloatArray:
    return float(x) if np.ndim(x) == 0 else x


def _log_falling(x: FloatArray, k: FloatArray) -> FloatArray:
    """``log(x (x-1) ... (x-k+1)) = log Γ(x+1) - log Γ(x-k+1)`` as a sum of ``k`` logs.

    Exact for integer ``k`` and free of the cancellation that subtracting two huge
    ``gammaln`` values suffers (``gammaln(1e15)`` is about ``3.4e16``).
    """
    x, k = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(k, dtype=np.float64))
    out = np.zeros(x.shape, dtype=np.float64)
    for i in range(int(k.max()) if k.size else 0):
        out += np.where(i < k, np.log(np.maximum(x - i, 1e-300)), 0.0)
    return out


def _log_node_ratio(v: FloatArray, n: FloatArray) -> FloatArray:
    """``log(Γ(v) / (Γ(v-n) (v-1)^n)) = sum_{i<n} log1p(-i/(v-1))``.

    Written with ``log1p`` rather than as ``_log_falling(v - 1, n) - n log(v - 1)``: the
    ratio is within ``1e-15`` of 1 for huge ``v``, where that difference would cancel.
    """
    v, n = np.broadcast_arrays(np.asarray(v, dtype=np.float64), np.asarray(n, dtype=np.float64))
    out = np.zeros(v.shape, dtype=np.float64)
    for i in range(1, int(n.max()) if n.size else 0):
        out += np.where(i < n, np.log1p(-i / (v - 1)), 0.0)
    return out


@overload
def expected_inferred(num_nodes: float, branching: float, hops: int) -> float: ...
@overload
def expected_inferred(
    num_nodes: npt.ArrayLike, branching: npt.ArrayLike, hops: npt.ArrayLike
) -> float | FloatArray: ...
def expected_inferred(
    num_nodes: npt.ArrayLike, branching: npt.ArrayLike, hops: npt.ArrayLike
) -> float | FloatArray:
    r"""Lemma 1: expected number of simple n-hop paths in the random-graph model.

    :math:`E|F_n| = \binom{|V|}{n+1}(n+1)!\,\left(\frac{b}{|V|-1}\right)^n`.

    Parameters
    ----------
    num_nodes : array_like
        ``|V|``; must exceed ``hops``.
    branching : array_like
        Average branching factor ``b = |F_A| / |V|`` (``0 < b <= |V| - 1``, so that the
        edge probability ``b / (|V|-1)`` is a probability).
    hops : array_like of int
        ``n >= 1``.

    Returns
    -------
    float or ndarray
        Broadcast over the inputs.

    Examples
    --------
    >>> round(expected_inferred(1000, 2.0, 2), 1)
    3996.0
    """
    n = _hops(hops, 1, "Lemma 1")
    v = _nodes(num_nodes, n)
    b = _positive(branching, "branching", "a graph without edges has no paths")
    vb, bb = np.broadcast_arrays(v, b)
    bad = bb > vb - 1
    if np.any(bad):
        raise ValueError(
            "branching must be <= num_nodes - 1 (the edge probability b/(|V|-1) is at most "
            f"1), got branching={_first_bad(bad, bb)}"
        )
    log = _log_falling(v, n + 1) + n * (np.log(b) - np.log(v - 1))
    return _out(np.exp(log))


def expected_phi(
    num_nodes: npt.ArrayLike, branching: npt.ArrayLike, hops: npt.ArrayLike
) -> float | FloatArray:
    """Lemma 1 as a ratio: ``E|F_n| / |F_A| = E|F_n| / (|V| b)``.

    Tends to :func:`phi_asymptote` ``b^(n-1)`` from below as ``|V|`` grows.
    """
    e = np.asarray(expected_inferred(num_nodes, branching, hops))
    return _out(
        e / (np.asarray(num_nodes, dtype=np.float64) * np.asarray(branching, dtype=np.float64))
    )


def phi_asymptote(branching: npt.ArrayLike, hops: npt.ArrayLike) -> float | FloatArray:
    """Lemma 1's large-graph ceiling of phi: ``b^(n-1)``."""
    n = _hops(hops, 1, "Lemma 1")
    b = _positive(branching, "branching", "a graph without edges has no paths")
    return _out(np.power(b, n - 1))


def node_ratio(num_nodes: npt.ArrayLike, hops: npt.ArrayLike) -> float | FloatArray:
    r"""Left side of the node-count bound: :math:`\Gamma(v) / (\Gamma(v-n)(v-1)^n)`.

    It equals :math:`\prod_{i<n}(1 - i/(v-1))`: below 1 for every ``v``, increasing in
    ``v`` and tending to 1.
    """
    n = _hops(hops, 1, "the node-count ratio")
    v = _nodes(num_nodes, n)
    return _out(np.exp(_log_node_ratio(v, n)))


def expected_relation_phi(
    num_nodes: npt.ArrayLike, relation_branching: npt.ArrayLike, hops: npt.ArrayLike
) -> float | FloatArray:
    r"""Lemma 2's estimate of ``phi_{n,r}`` from ``b_r`` (chains whose every hop is ``r``).

    :math:`\phi_{n,r} \approx \binom{|V|}{n+1}(n+1)!\, b_r^{n-1} / (|V|(|V|-1)^n)`.
    """
    n = _hops(hops, 2, "Lemma 2")
    v = _nodes(num_nodes, n)
    b = _positive(relation_branching, "relation_branching", "the relation needs facts")
    return _out(np.exp(_log_node_ratio(v, n) + (n - 1) * np.log(b)))


def min_relation_branching(
    num_nodes: npt.ArrayLike, hops: npt.ArrayLike, phi_g: npt.ArrayLike
) -> float | FloatArray:
    r"""Lemma 2: the smallest ``b_r`` that allows ``phi_{n,r} >= phi_G``.

    :math:`b_r \ge \left(\frac{\phi_G |V| (|V|-1)^n}{\binom{|V|}{n+1}(n+1)!}\right)^{1/(n-1)}`.
    A necessary condition: below it the relation cannot reach ``phi_G`` on a random graph.

    Parameters
    ----------
    num_nodes : array_like
        ``|V| > n``.
    hops : array_like of int
        ``n >= 2`` (for ``n = 1`` phi is 1 by definition).
    phi_g : array_like
        ``phi_G > 0``.

    Examples
    --------
    >>> round(min_relation_branching(10_000, 2, 3.6), 4)
    3.6004
    """
    n = _hops(hops, 2, "Lemma 2")
    v = _nodes(num_nodes, n)
    g = _positive(phi_g, "phi_g", "it is a ratio of fact counts")
    return _out(np.exp((np.log(g) - _log_node_ratio(v, n)) / (n - 1)))


class NodeBound(BaseModel):
    """Result of :func:`node_bound`.

    Attributes
    ----------
    min_nodes : int or None
        Smallest ``|V|`` that satisfies the bound, or ``None`` when none does.
    hops : int
        ``n``.
    phi_g : float
        ``phi_G``.
    required_ratio : float
        ``max_r phi_G / b_r^(n-1)``, what the node ratio must reach.
    limiting_relation : str or int
        The relation with the smallest ``b_r`` (label if given a mapping, else index).
    limiting_branching : float
        Its ``b_r``.
    reason : str
        Plain-language explanation.
    """

    model_config = ConfigDict(frozen=True)

    min_nodes: int | None
    hops: int
    phi_g: float
    required_ratio: float
    limiting_relation: str | int
    limiting_branching: float
    reason: str


def node_bound(
    branchings: Mapping[str, float] | Sequence[float] | npt.ArrayLike,
    hops: int,
    phi_g: float,
) -> NodeBound:
    r"""Node-count bound of App. A.3, with its explanation.

    Smallest integer ``v`` with :math:`\Gamma(v)/(\Gamma(v-n)(v-1)^n) \ge \max_r
    \phi_G / b_r^{n-1}`; ``None`` when the right side is ``>= 1`` (the left side never
    reaches 1).

    Parameters
    ----------
    branchings : mapping or array_like
        ``b_r`` per relation (``{label: b_r}`` or a sequence); all ``> 0``.
    hops : int
        ``n >= 2``.
    phi_g : float
        ``phi_G > 0``.
    """
    if isinstance(branchings, Mapping):
        names: list[str | int] = list(branchings)
        b = _arr(list(branchings.values()), "branchings")
    else:
        b = _arr(branchings, "branchings").ravel()
        names = list(range(len(b)))
    if b.size == 0:
        raise ValueError("branchings is empty; give b_r for at least one relation")
    b = _positive(b, "branchings", "a relation without facts has no paths")
    for name, val in (("hops", hops), ("phi_g", phi_g)):
        if np.ndim(val) != 0:
            raise ValueError(
                f"{name} must be a single number for the node-count bound, got {val!r}"
            )
    n = int(_hops(hops, 2, "the node-count bound"))
    g = float(_positive(phi_g, "phi_g", "it is a ratio of fact counts"))
    worst = int(np.argmin(b))
    need = g / float(b[worst]) ** (n - 1)
    common: dict[str, Any] = {
        "hops": n,
        "phi_g": g,
        "required_ratio": need,
        "limiting_relation": names[worst],
        "limiting_branching": float(b[worst]),
    }
    if need >= 1.0:
        b_min = g ** (1.0 / (n - 1))
        return NodeBound(
            min_nodes=None,
            reason=(
                f"no graph size suffices: relation {names[worst]!r} has b_r = {b[worst]:g}, so "
                f"phi_G / b_r^{n - 1} = {need:g} >= 1, but Γ(v)/(Γ(v-n)(v-1)^n) < 1 for every "
                f"v. Raise b_r to above phi_G^(1/{n - 1}) = {b_min:g} (add facts of this "
                "relation) instead of adding nodes."
            ),
            **common,
        )
    log_need = math.log(need) - 1e-12  # ties (e.g. 0.9 = 1 - 1/10) resolve to "satisfied"

    def ok(v: int) -> bool:
        return float(_log_node_ratio(np.float64(v), np.float64(n))) >= log_need

    lo, hi = n + 1, n + 1
    while not ok(hi):
        lo, hi = hi + 1, hi * 2
        if hi > 2**62:  # pragma: no cover - needs a ratio within 1e-17 of 1
            return NodeBound(min_nodes=None, reason="the bound exceeds 2^62 nodes", **common)
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return NodeBound(
        min_nodes=lo,
        reason=(
            f"|V| >= {lo}: the node ratio reaches phi_G / b_r^{n - 1} = {need:g} "
            f"(limiting relation {names[worst]!r}, b_r = {b[worst]:g})"
        ),
        **common,
    )


def min_nodes(
    branchings: Mapping[str, float] | Sequence[float] | npt.ArrayLike,
    hops: int,
    phi_g: float,
) -> int | None:
    """Node-count bound (App. A.3): smallest ``|V|``, or ``None`` if no size suffices.

    When the answer is ``None`` an :class:`~kgaug.errors.UnreachableBoundWarning` explains
    why; :func:`node_bound` returns the same explanation as data.

    Examples
    --------
    >>> min_nodes([4.0, 5.0], hops=2, phi_g=3.6)
    11
    """
    res = node_bound(branchings, hops, phi_g)
    if res.min_nodes is None:
        warnings.warn(res.reason, UnreachableBoundWarning, stacklevel=2)
    return res.min_nodes

"""Dataset targets: augment until a dataset of a given phi can be built, counted exactly.

``augment(kg, dataset_phi=D, task=...)`` must never dead-end: when it returns, the builder
succeeds at phi ``D`` with the same options and seed (the plan's ``dataset_options``), or
it raised an :class:`~kgaug.errors.AugmentationError` saying why not and what would help.

- Composition: the training pool is the ID queries with one answer that are not test
  examples (:func:`kgaug._splits.composition_split`, the builder's own kernel); it must
  hold ``round(D * |ID atomic facts|)`` examples. Fictitious hubs add queries with unique
  answers; a small safety margin (3%) keeps other seeds of the builder likely to work too.
- Comparison: the pool is the ID pairs of entities sharing an attribute
  (:func:`kgaug._splits.comparison_split`), balanced by answer class when the builder
  balances; new entities with one attribute value each (Algorithm 1) are added until it
  is large enough.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from kgaug._splits import ComparisonSplit, CompositionSplit, comparison_split, composition_split
from kgaug._validate import check_positive
from kgaug.errors import AugmentationError
from kgaug.kg import KnowledgeGraph

if TYPE_CHECKING:
    from kgaug.augmentation.strategies import RoundContext
    from kgaug.augmentation.templates import Template

__all__ = ["DatasetTarget", "make_target"]

_COMPOSITION_KEYS = {
    "hops",
    "ood_fraction",
    "test_id_fraction",
    "directed",
    "ambiguous",
    "max_walks",
}
_COMPARISON_KEYS = {
    "attributes",
    "style",
    "ood_fraction",
    "test_id_fraction",
    "balance",
    "max_pairs",
}
#: the pool is filled this much past the exact need (other seeds of the builder then work too)
MARGIN = 0.03


class DatasetTarget:
    """A dataset phi that the augmented graph must be able to supply."""

    def __init__(self, phi: float, task: str, options: Mapping[str, Any], seed: int) -> None:
        self.phi = phi
        self.task = task
        self.options = {**options, "seed": seed}
        self._cache: tuple[int, Any] | None = None
        self.factory: Any = None  # set by the planner

    def describe(self) -> str:
        """``"dataset_phi=3.6 (composition)"``."""
        return f"dataset_phi={self.phi:g} ({self.task})"

    # -- exact counts --------------------------------------------------------------
    def split(self, kg: KnowledgeGraph) -> CompositionSplit | ComparisonSplit:
        """The builder's split of ``kg`` (cached for the last graph)."""
        if self._cache is not None and self._cache[0] == id(kg):
            return self._cache[1]  # type: ignore[no-any-return]
        opts = {k: v for k, v in self.options.items() if k != "balance"}
        sp = (
            composition_split(kg, **opts)
            if self.task == "composition"
            else comparison_split(kg, **opts)
        )
        self._cache = (id(kg), sp)
        return sp

    def pool(self, kg: KnowledgeGraph) -> int:
        """Training examples the builder could choose from."""
        sp = self.split(kg)
        if isinstance(sp, CompositionSplit):
            return len(sp.pool)
        return sp.achievable(bool(self.options.get("balance", True)))

    def needed(self, kg: KnowledgeGraph) -> int:
        """Training examples needed, with the safety margin."""
        return math.ceil(self.split(kg).target(self.phi) * (1.0 + MARGIN))

    def achievable(self, kg: KnowledgeGraph) -> float:
        """The largest dataset phi ``kg`` supports with these options."""
        sp = self.split(kg)
        return math.floor(self.pool(kg) / max(sp.n_id, 1) * 1e4) / 1e4

    def reached(self, kg: KnowledgeGraph) -> bool:
        """Whether the builder would succeed on ``kg`` (with the margin)."""
        return self.pool(kg) >= self.needed(kg)

    def missing(self, kg: KnowledgeGraph, extra_facts: int = 0) -> float:
        """Pool examples still missing, counting ``extra_facts`` facts about to be added."""
        ood = float(self.options.get("ood_fraction", 0.05 if self.task == "composition" else 0.1))
        return self.needed(kg) + self.phi * (1 - ood) * (1 + MARGIN) * extra_facts - self.pool(kg)

    # -- estimates for templates (composition) ---------------------------------------
    def pool_gain(self, tpl: Template) -> float:
        """Pool examples one template copy adds.

        An estimate: its unique-answer queries that land in the training pool.
        """
        hops = int(self.options.get("hops", 2))
        ood = float(self.options.get("ood_fraction", 0.05))
        tid = float(self.options.get("test_id_fraction", 0.1))
        queries = self.factory.unique_queries(tpl) if self.factory is not None else 0.0
        return (1 - ood) ** hops * (1 - tid) * queries

    def need_per_fact(self) -> float:
        """How much one new atomic fact raises the examples needed."""
        ood = float(self.options.get("ood_fraction", 0.05))
        return self.phi * (1 - ood) * (1 + MARGIN)

    def gain_per_copy(
        self, tpl: Template, d_a: Mapping[str, int], d_i: Mapping[str, float], scale: float = 1.0
    ) -> float:
        """Pool examples one copy adds, net of what its own facts raise the need by."""
        return self.pool_gain(tpl) / scale - self.need_per_fact() * len(tpl.edges)

    def gain_per_fact(
        self, tpl: Template, d_a: Mapping[str, int], d_i: Mapping[str, float]
    ) -> float:
        """:meth:`gain_per_copy` per new fact."""
        return self.gain_per_copy(tpl, d_a, d_i) / max(len(tpl.edges), 1)

    # -- comparison: Algorithm 1 ------------------------------------------------------
    def fill(self, ctx: RoundContext, st: Any) -> float:
        """Add new entities with one attribute value each until the pool is large enough."""
        kg = ctx.kg
        sp = self.split(kg)
        assert isinstance(sp, ComparisonSplit)
        missing = self.missing(kg)
        if missing <= 0:
            return 0.0
        f = ctx.factory
        ood = float(self.options.get("ood_fraction", 0.1))
        tid = float(self.options.get("test_id_fraction", 0.1))
        balance = bool(self.options.get("balance", True))
        attrs = [kg.relations[a] for a in sp.attr_ids]
        per_attr = math.ceil(missing / len(attrs))
        added = 0.0
        for a in attrs:
            heads = ctx.schema.head_roles(a)
            tails = ctx.schema.tail_roles(a)
            if not heads or not tails:
                continue
            r = kg.relation_id(a)
            sel = kg.relation_ids == r
            m = int(np.count_nonzero(sel))
            n_id = m * (1 - ood)
            # ordered ID training pairs grow by about 2 (1 - tid)(1 - ood) n_id per new entity,
            # the need by phi (1 - ood)
            per_entity = max(2 * (1 - tid) * (1 - ood) * n_id - self.phi * (1 - ood), 1.0)
            if balance:
                per_entity /= 2.0
            n_new = max(1, math.ceil(per_attr / per_entity * 1.2))
            values = kg.tail_ids[sel]
            counts = Counter(values.tolist())
            value_ids = [v for v in f.candidates(tails[0].id).tolist() if v in counts] or list(
                counts
            )
            # balanced: the rarest values first, so that equal-value pairs become common
            order = sorted(value_ids, key=lambda v: (counts[v], v))
            facts = []
            roles = {}
            for i in range(n_new):
                v = (
                    order[i % len(order)]
                    if balance
                    else order[int(ctx.inst.rng.integers(len(order)))]
                )
                name = ctx.inst.new_name(heads[0].id)
                roles[name] = heads[0].id
                facts.append((name, a, kg.entities[v]))
            added += ctx.offer(facts, strategy="fictitious", roles=roles) * per_entity
        return added

    def bound(self, schema: Any) -> float | None:
        """Upper bound on the composition dataset phi of any graph with these roles.

        A 2-hop query ``(h, r1, r2)`` starts with one atomic fact ``(h, r1, y)``, and with
        one answer per query that fact starts at most one query per relation leaving
        ``y``'s role. So the training pool holds at most ``(1 - ood)^2 (1 - tid) D |F_A|``
        examples, ``D`` the most relations leaving one role, and the dataset phi is at most
        ``(1 - ood)(1 - tid) D`` (``None`` for 3-hop datasets or kept ambiguous queries).
        """
        if self.task != "composition" or int(self.options.get("hops", 2)) != 2:
            return None
        if self.options.get("ambiguous", "drop") == "keep":
            return None
        ood = float(self.options.get("ood_fraction", 0.05))
        tid = float(self.options.get("test_id_fraction", 0.1))
        D = max((len(r.heads_of) for r in schema.roles), default=0)
        return (1 - ood) * (1 - tid) * D

    def unreachable_reason(self, st: Any) -> str:
        """Why the target is not reached, and what would help."""
        kg = st.current
        try:
            have = self.achievable(kg)
        except ValueError as e:
            return f"{self.describe()} cannot be built from this graph: {e}"
        base = (
            f"{self.describe()}: the augmented graph supports a {self.task} dataset of "
            f"phi <= {have:g}"
        )
        bound = self.bound(st.schema)
        if bound is not None and self.phi > bound:
            D = max((len(r.heads_of) for r in st.schema.roles), default=0)
            return (
                f"{base}; no graph with these relations can: a 2-hop query (h, r1, r2) starts "
                f"with one atomic fact, which starts at most one query with a single answer "
                f"per relation leaving its tail, at most {D} here, so the dataset phi is at "
                f"most (1 - ood_fraction)(1 - test_id_fraction) x {D} = {bound:.3g}. Build "
                "with ambiguous='keep', hold out fewer examples, or lower dataset_phi"
            )
        if self.task == "composition":
            if st.fictitious is None:
                hint = "add strategy='fictitious', which builds queries with unique answers"
            else:
                hint = (
                    "no role-respecting template adds enough queries with a unique answer per "
                    "new fact (roles of the real data with few outgoing relations); count "
                    "undirected (directed=False), lower dataset_phi, or build with "
                    "ambiguous='keep' or allow_short=True"
                )
        else:
            hint = (
                "the attributes' heads or values have no role to copy; name attributes=[...] "
                "with shared values, lower dataset_phi or pass balance=False"
            )
        return f"{base}; {hint}"


def make_target(
    phi: float | None, task: str, options: Mapping[str, Any] | None, seed: int, kg: KnowledgeGraph
) -> DatasetTarget | None:
    """Validate the dataset-target arguments of :func:`~kgaug.plan_augmentation`."""
    if phi is None:
        if options:
            raise ValueError("dataset_options needs dataset_phi")
        return None
    p = check_positive(phi, "dataset_phi")
    if task not in ("composition", "comparison"):
        raise ValueError(f"task must be 'composition' or 'comparison', got {task!r}")
    opts = dict(options or {})
    allowed = _COMPOSITION_KEYS if task == "composition" else _COMPARISON_KEYS
    unknown = sorted(set(opts) - allowed)
    if unknown:
        raise ValueError(
            f"dataset_options: unknown option(s) {', '.join(unknown)} for task {task!r}; "
            f"use {', '.join(sorted(allowed))}"
        )
    if task == "comparison" and "style" not in opts:
        opts["style"] = "same"
    target = DatasetTarget(p, task, opts, seed)
    try:
        target.split(kg)
    except ValueError as e:
        raise AugmentationError(f"{target.describe()}: {e}") from None
    return target

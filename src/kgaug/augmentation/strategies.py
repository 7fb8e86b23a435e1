"""Where new facts come from: strategies behind one protocol.

A strategy raises one relation in one augmentation round. It reads the round's
:class:`RoundContext` (the graph as it stands, the learned schema and roles, running
estimates of every relation's atomic and inferred facts) and adds facts through
:meth:`RoundContext.offer` or :meth:`RoundContext.add_template`, which check every fact
(:class:`~kgaug.augmentation.checks.FactChecker`: roles, functional relations, cycles,
duplicates) and reject, counting the reason, any that breaks a rule. A strategy can
therefore never write a fact that breaks a role.

Built in:

:class:`FictitiousStrategy` (``"fictitious"``, default)
    New entities of one role each, named like their role, in small *templates* (hubs:
    see :mod:`kgaug.augmentation.templates`); every new fact has a new head, so no real
    entity gets a new property and every real fact is untouched. Lean: per relation the
    template chosen is the one that reaches phi_G with the fewest new facts without
    pushing another relation above 1.5 x phi_G (when every template would, the cheapest
    is used and the plan says so).
:class:`CounterfactualStrategy` (``"counterfactual"``)
    New facts between existing entities (the paper's "incorrect but helpful" data), each
    endpoint in a role the relation's real facts give it: a country is swapped for a
    country, a director for a person who directs. Facts that turn out to lower their own
    relation are taken back after the recount.
:class:`LLMStrategy` (``"llm"``)
    Facts proposed by a callable (e.g. an LLM fact generator), filtered by the same
    checks; a proposal that breaks a role, a functional relation or closes a cycle is
    rejected and counted with the reason, never written.

Write your own: any object with ``name``, ``provenance``, ``take_back`` and
``raise_relation(ctx, relation) -> int`` (facts added) can be passed in ``strategy=``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from kgaug._index import path_index
from kgaug.augmentation.checks import FactChecker
from kgaug.augmentation.templates import GadgetFactory, Template, copies_needed
from kgaug.kg import KnowledgeGraph
from kgaug.records import Provenance, Triple

if TYPE_CHECKING:
    from kgaug.augmentation.instantiate import Instantiator
    from kgaug.schema import Schema
    from kgaug.stats import PhiReport

__all__ = [
    "STRATEGIES",
    "AugmentationStrategy",
    "CounterfactualStrategy",
    "FactProposer",
    "FictitiousStrategy",
    "LLMStrategy",
    "RoundContext",
    "get_strategy",
]

STRATEGIES = ("fictitious", "counterfactual", "llm")

#: ``proposer(kg, relation, n)`` returns candidate ``(head, relation, tail)`` facts.
FactProposer = Callable[[KnowledgeGraph, str, int], Iterable[Triple | Sequence[str]]]

#: a relation ends above this multiple of phi_G only if no template avoids it
OVERSHOOT = 1.5

Option = tuple[Template, Counter[str], dict[str, float]]


class RoundContext:
    """One augmentation round, as a strategy sees it and adds to it.

    Attributes
    ----------
    kg : KnowledgeGraph
        The graph as it stands (real facts plus earlier rounds' facts).
    original : KnowledgeGraph
        The graph before augmentation.
    schema : Schema
        Learned from the real facts (types, functionality, roles).
    factory : GadgetFactory
        Templates over the original graph's roles.
    phi_g : float
        Target.
    c : int
        Local ratio: the 2-hop facts every new fact is built to create.
    hops : int
        Longest chain counted.
    report : PhiReport
        Exact counts of ``kg``.
    est_atomic, est_inferred : dict of str to float
        Running estimates of every relation's atomic and inferred facts after the facts
        added so far this round (2-hop, directed estimates).
    est_chains : float
        Estimated new 2-hop facts this round (each counted once).
    facts : list of Triple
        Accepted facts of this round.
    """

    def __init__(
        self,
        *,
        kg: KnowledgeGraph,
        original: KnowledgeGraph,
        schema: Schema,
        factory: GadgetFactory,
        instantiator: Instantiator,
        phi_g: float,
        c: int,
        hops: int,
        report: PhiReport,
        new_roles: Mapping[str, int],
        budget: int | None,
    ) -> None:
        self.kg, self.original, self.schema, self.factory = kg, original, schema, factory
        self.inst = instantiator
        self.phi_g, self.c, self.hops, self.report = phi_g, c, hops, report
        self.est_atomic = {x.relation: float(x.atomic) for x in report.rows}
        self.est_inferred = {x.relation: float(x.inferred) for x in report.rows}
        self.est_chains = 0.0
        self.budget = budget
        self.facts: list[Triple] = []
        self.roles: dict[str, int] = {}
        self.types: dict[str, str | None] = {}
        self.by_origin: dict[tuple[str, str], list[Triple]] = defaultdict(list)
        self.expected: dict[str, float] = defaultdict(float)  # surplus expected per relation
        self.templates_used: dict[str, list[Template]] = defaultdict(list)
        self.checker = FactChecker(kg, schema, hops, new_roles)
        idx = path_index(kg, True)
        self._in = np.bincount(idx.t, minlength=kg.num_entities)
        self._out = np.bincount(idx.h, minlength=kg.num_entities)

    # -- reading -------------------------------------------------------------------
    def needed(self, relation: str) -> float:
        """Inferred facts still missing for ``relation`` to reach phi_G (estimate)."""
        return self.phi_g * self.est_atomic[relation] - self.est_inferred[relation]

    def phi_estimate(self, relation: str) -> float:
        """Estimated phi of ``relation`` after this round's facts so far."""
        a = self.est_atomic[relation]
        return self.est_inferred[relation] / a if a else 0.0

    def room(self) -> int | None:
        """New facts still allowed by the budget (``None``: no budget)."""
        return None if self.budget is None else self.budget - len(self.facts)

    def degree(self, label: str) -> tuple[int, int]:
        """(in, out) degree of an entity in the graph as it stands (0, 0 if new)."""
        if not self.kg.has_entity(label):
            return 0, 0
        i = self.kg.entity_id(label)
        return int(self._in[i]), int(self._out[i])

    # -- adding --------------------------------------------------------------------
    def offer(
        self,
        facts: Iterable[tuple[str, str, str] | Triple],
        *,
        strategy: str,
        provenance: Provenance = Provenance.SYNTHETIC,
        roles: Mapping[str, int] | None = None,
        types: Mapping[str, str | None] | None = None,
    ) -> int:
        """Check each fact and keep those that pass; returns how many were kept.

        Rejected facts are counted by reason (see :attr:`rejected`). The estimates grow
        by each kept fact's chains (in-degree of its head plus out-degree of its tail).
        """
        kept = 0
        for item in facts:
            h, r, t = item.as_tuple() if isinstance(item, Triple) else tuple(item)
            room = self.room()
            if room is not None and room <= 0:
                break
            if not self.checker.offer(h, r, t, roles):
                continue
            triple = Triple(head=h, relation=r, tail=t, provenance=provenance)
            self.facts.append(triple)
            self.by_origin[(strategy, r)].append(triple)
            for e in (h, t):
                if not self.kg.has_entity(e) and e not in self.roles:
                    k = self.checker.role_of(e)
                    self.roles[e] = k
                    self.types[e] = (types or {}).get(e, self.schema.roles[k].type)
            chains = self.degree(h)[0] + self.degree(t)[1]
            self.est_atomic[r] += 1
            self.est_inferred[r] += chains
            self.est_chains += chains
            self.expected[r] += chains - self.phi_g
            kept += 1
        return kept

    def add_template(
        self,
        tpl: Template,
        d_a: Mapping[str, int],
        d_i: Mapping[str, float],
        copies: int,
        *,
        relation: str,
        strategy: str,
    ) -> int:
        """Instantiate up to ``copies`` copies of a template; returns how many were made."""
        inst = self.inst
        start = len(inst.facts)
        made = inst.add(tpl, copies, self.room())
        new = inst.facts[start:]
        for h, r, t in new:
            roles = {e: inst.roles[e] for e in (h, t) if e in inst.roles}
            if not self.checker.offer(h, r, t, roles):
                continue  # never happens for the built-in templates (tested)
            triple = Triple(head=h, relation=r, tail=t, provenance=Provenance.SYNTHETIC)
            self.facts.append(triple)
            self.by_origin[(strategy, relation)].append(triple)
            for e in (h, t):
                if e in inst.roles and e not in self.roles:
                    self.roles[e] = inst.roles[e]
                    self.types[e] = inst.types[e]
        for rel, k in d_a.items():
            self.est_atomic[rel] += made * k
        for rel, k2 in d_i.items():
            if rel:  # "" is the total
                self.est_inferred[rel] += made * k2
        self.est_chains += made * d_i.get("", 0.0)
        self.expected[relation] += made * (
            d_i.get(relation, 0.0) - self.phi_g * d_a.get(relation, 0)
        )
        if made:
            self.templates_used[relation].append(tpl)
        return made

    @property
    def rejected(self) -> dict[str, Counter[str]]:
        """Rejected facts per relation and reason (``role``, ``functional``, ``cycle``, ...)."""
        return self.checker.rejected


@runtime_checkable
class AugmentationStrategy(Protocol):
    """What a strategy is: a name, a provenance, and a way to raise one relation."""

    name: str
    provenance: Provenance
    #: facts that lowered their own relation's phi are removed after the recount
    take_back: bool

    def raise_relation(self, ctx: RoundContext, relation: str) -> int:
        """Add facts that raise ``relation`` towards phi_G; returns how many were added."""
        ...


class FictitiousStrategy:
    """New entities in role-respecting templates (see the module docstring)."""

    name = "fictitious"
    provenance = Provenance.SYNTHETIC
    take_back = False

    def __init__(self) -> None:
        self._options: dict[str, list[Option]] = {}
        self.failed: set[int] = set()  # templates that did not raise their relation
        self.scale: dict[str, float] = {}  # measured / estimated gain, learned per round
        self.tried: dict[str, list[int]] = defaultdict(list)
        self.forced: dict[str, str] = {}  # relation -> template that pushed it past 1.5 phi_G
        self.chosen: dict[str, Template] = {}
        self.harmful: dict[str, set[str]] = {}  # relation -> relations its templates would sink

    def options(self, factory: GadgetFactory, relation: str, phi_g: float) -> list[Option]:
        """Feasible templates for ``relation``: those whose copies raise its surplus."""
        if relation not in self._options:
            opts: list[Option] = []
            for tpl in factory.options(relation):
                d_a, d_i = factory.estimate(tpl)
                if d_i.get(relation, 0.0) - phi_g * d_a.get(relation, 0) > 0:
                    opts.append((tpl, d_a, d_i))
            self._options[relation] = opts
        return self._options[relation]

    def cheapest(
        self, factory: GadgetFactory, report: PhiReport, relation: str, phi_g: float
    ) -> int | None:
        """Fewest new facts any single template needs to bring ``relation`` to phi_G."""
        row = report.relations[relation]
        best = None
        for tpl, d_a, d_i in self.options(factory, relation, phi_g):
            n = copies_needed(
                row.inferred, row.atomic, phi_g, d_a.get(relation, 0), d_i.get(relation, 0.0), 0.0
            )
            if n > 0:
                f = n * len(tpl.edges)
                best = f if best is None else min(best, f)
        return best

    def _ranked(
        self, ctx: RoundContext, relation: str
    ) -> list[tuple[Option, int, bool, list[str]]]:
        g = ctx.phi_g
        ranked = []
        for opt in self.options(ctx.factory, relation, g):
            tpl, d_a, d_i = opt
            if id(tpl) in self.failed:
                continue
            n = copies_needed(
                ctx.est_inferred[relation], ctx.est_atomic[relation], g,
                d_a.get(relation, 0), d_i.get(relation, 0.0), 0.1,
            )  # fmt: skip
            if n <= 0:
                continue
            payable = all(d_i.get(x, 0.0) >= g * k for x, k in d_a.items())
            # never push a relation that is at phi_G below it
            harm = [
                q
                for q, k in d_a.items()
                if ctx.est_atomic[q]
                and ctx.phi_estimate(q) >= g
                and (ctx.est_inferred[q] + n * d_i.get(q, 0.0)) / (ctx.est_atomic[q] + n * k) < g
            ]
            if harm:
                self.harmful.setdefault(relation, set()).update(harm)
                continue
            over = []
            for q in set(d_a) | {k for k in d_i if k}:
                a0, i0 = ctx.est_atomic[q], ctx.est_inferred[q]
                a1 = a0 + n * d_a.get(q, 0)
                phi1 = (i0 + n * d_i.get(q, 0.0)) / a1 if a1 else 0.0
                phi0 = i0 / a0 if a0 else 0.0
                if phi1 > OVERSHOOT * g and phi1 > phi0 + 1e-9:
                    over.append(q)
            ranked.append((opt, n, payable, over))
        # payable and unambiguous first; then the fewest new facts, where a template that
        # pushes another relation past 1.5 x phi_G counts double (it is used only when
        # avoiding the overshoot would cost more than twice the facts)
        ranked.sort(
            key=lambda x: (
                not x[2],
                x[0][0].ambiguous,
                x[1] * len(x[0][0].edges) * (2 if x[3] else 1),
            )
        )
        return ranked

    def raise_relation(self, ctx: RoundContext, relation: str) -> int:
        """Add template copies until the estimate reaches phi_G (next template if one runs dry)."""
        added = 0
        for (tpl, d_a, d_i), _, _, over in self._ranked(ctx, relation):
            if ctx.needed(relation) <= 0:
                break
            n = copies_needed(
                ctx.est_inferred[relation], ctx.est_atomic[relation], ctx.phi_g,
                d_a.get(relation, 0), d_i.get(relation, 0.0), 0.1,
            )  # fmt: skip
            n = math.ceil(max(n, 0) * self.scale.get(relation, 1.0))
            # never more new facts in one call than a few times the graph (estimates can be off)
            n = min(n, max(20, 3 * ctx.kg.num_facts // max(len(tpl.edges), 1)))
            before = len(ctx.facts)
            made = ctx.add_template(tpl, d_a, d_i, n, relation=relation, strategy=self.name)
            self.tried[relation].append(id(tpl))
            if made:
                self.chosen.setdefault(relation, tpl)
                for q in over:
                    self.forced.setdefault(q, f"{tpl.label} (raising '{relation}')")
            added += len(ctx.facts) - before
            room = ctx.room()
            if room is not None and room <= 0:
                break
        return added

    def has_other_templates(self, relation: str) -> bool:
        """Some feasible template of ``relation`` was not tried yet."""
        tried = set(self.tried.get(relation, ()))
        return any(
            id(t) not in self.failed and id(t) not in tried
            for t, _, _ in self._options.get(relation, [])
        )


class CounterfactualStrategy:
    """New facts between existing entities, endpoints kept in the relation's roles."""

    name = "counterfactual"
    provenance = Provenance.COUNTERFACTUAL
    take_back = True

    def __init__(self, max_reuse: int = 20) -> None:
        self.max_reuse = max_reuse
        self.taken: set[tuple[int, int, int]] = set()

    def raise_relation(self, ctx: RoundContext, relation: str) -> int:
        """Pair heads with many incoming facts with tails with many outgoing ones."""
        f, kg = ctx.factory, ctx.factory.kg
        need = ctx.needed(relation)
        if need <= 0:
            return 0
        s = ctx.schema[relation]
        r = kg.relation_id(relation)
        heads = np.unique(
            np.concatenate(
                [f.candidates(x.id) for x in ctx.schema.head_roles(relation)]
                or [np.zeros(0, dtype=np.int64)]
            )
        )
        tails = np.unique(
            np.concatenate(
                [f.candidates(x.id) for x in ctx.schema.tail_roles(relation)]
                or [np.zeros(0, dtype=np.int64)]
            )
        )
        if s.functional:
            has = np.zeros(kg.num_entities, dtype=bool)
            has[kg.head_ids[kg.relation_ids == r]] = True
            heads = heads[~has[heads]]
        k = 300
        heads = heads[np.argsort(-f.in_degree[heads], kind="stable")][:k]
        tails = tails[np.argsort(-f.out_degree[tails], kind="stable")][:k]
        if not len(heads) or not len(tails):
            return 0
        hh = np.repeat(heads, len(tails))
        tt = np.tile(tails, len(heads))
        score = f.in_degree[hh] + f.out_degree[tt]
        keep = (score >= ctx.c) & (hh != tt)
        hh, tt, score = hh[keep], tt[keep], score[keep]
        order = np.argsort(-score, kind="stable")
        used_h: Counter[int] = Counter()
        used_t: Counter[int] = Counter()
        ents = kg.entities
        added, gained = 0, 0.0
        for i in order.tolist():
            if gained >= need:
                break
            h, t = int(hh[i]), int(tt[i])
            if (
                (h, r, t) in self.taken
                or used_h[h] >= self.max_reuse
                or used_t[t] >= self.max_reuse
            ):
                continue
            self.taken.add((h, r, t))
            if ctx.offer(
                [(ents[h], relation, ents[t])], strategy=self.name, provenance=self.provenance
            ):
                used_h[h] += 1
                used_t[t] += 1
                added += 1
                gained += float(score[i]) - ctx.phi_g
        return added


class LLMStrategy:
    """Facts from a proposer callable (e.g. an LLM), checked like every other fact."""

    name = "llm"
    provenance = Provenance.SYNTHETIC
    take_back = False

    def __init__(self, proposer: FactProposer) -> None:
        if not callable(proposer):
            raise TypeError("LLMStrategy needs proposer=callable(kg, relation, n)")
        self.proposer = proposer

    def raise_relation(self, ctx: RoundContext, relation: str) -> int:
        """Ask for about as many facts as the deficit needs at ``c`` chains each."""
        need = ctx.needed(relation)
        if need <= 0:
            return 0
        k_want = max(1, math.ceil(need / max(ctx.c - ctx.phi_g, 0.5)))
        proposals = []
        for item in self.proposer(ctx.kg, relation, k_want):
            h, rel, t = item.as_tuple() if isinstance(item, Triple) else tuple(item)
            if rel != relation:
                ctx.checker.rejected[relation]["other relation"] += 1
                continue
            why = ctx.checker.check(h, rel, t)
            if why is not None:  # roles, functional relations, cycles, duplicates
                ctx.checker.offer(h, rel, t)  # counts the reason
                continue
            # a fact must pay: at least c chains through the existing graph
            chains = ctx.degree(h)[0] + ctx.degree(t)[1]
            if chains < ctx.c:
                ctx.checker.rejected[relation]["fewer than c chains"] += 1
                if len(ctx.checker.examples[relation]) < 5:
                    ctx.checker.examples[relation].append(
                        (h, rel, t, f"creates {chains} chains, fewer than c = {ctx.c}")
                    )
                continue
            proposals.append((h, rel, t))
        return ctx.offer(proposals, strategy=self.name, provenance=self.provenance)


def get_strategy(
    strategy: str | AugmentationStrategy,
    *,
    proposer: FactProposer | None = None,
    max_reuse: int = 20,
) -> AugmentationStrategy:
    """A strategy object from a name (``"fictitious"``, ``"counterfactual"``, ``"llm"``) or itself.

    Raises
    ------
    ValueError
        An unknown name, or ``"llm"`` without a proposer.
    TypeError
        An object that does not implement :class:`AugmentationStrategy`.
    """
    if isinstance(strategy, str):
        if strategy == "fictitious":
            return FictitiousStrategy()
        if strategy == "counterfactual":
            return CounterfactualStrategy(max_reuse)
        if strategy == "llm":
            if proposer is None:
                raise ValueError("strategy 'llm' needs proposer=callable(kg, relation, n)")
            return LLMStrategy(proposer)
        raise ValueError(
            f"unknown strategy {strategy!r}; use one of {STRATEGIES} or a strategy object"
        )
    if not isinstance(strategy, AugmentationStrategy):
        raise TypeError(
            f"strategy must be a name or an object with name, provenance, take_back and "
            f"raise_relation(ctx, relation); got {type(strategy).__name__}"
        )
    return strategy

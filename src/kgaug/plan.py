"""Plan composition augmentation: how far each relation is from phi_G and what it takes.

The plan says what the paper's bounds require and what kgaug adds to get there.

:func:`plan_augmentation` reports, per relation, the current phi, the deficit (inferred
facts missing), Lemma 2's threshold on ``b_r`` with the atomic facts it implies and the
node-count bound, and then the constructive plan: which template of new facts raises the
relation (see :mod:`kgaug.augmentation.composition`), how many facts and entities it adds, and
the phi an exact recount measures after a dry run. Relations that cannot be raised are
said to be unreachable, with the reason.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from kgaug import bounds
from kgaug._progress import progress_bar
from kgaug._table import html_table, text_table
from kgaug._validate import CountMode, check_bool, check_count, check_int, check_positive
from kgaug.augmentation.composition import (
    STRATEGIES,
    FactProposer,
    GadgetFactory,
    Instantiator,
    NewEdges,
    Template,
    copies_needed,
    counterfactual_facts,
    learned_schema,
    llm_facts,
)
from kgaug.errors import UnknownLabelError
from kgaug.kg import KnowledgeGraph
from kgaug.records import Provenance, Triple
from kgaug.stats import PhiReport, compute_phi

__all__ = ["AugmentationPlan", "RelationPlan", "plan_augmentation"]

Status = Literal["ok", "planned", "unreachable", "empty", "skipped", "budget"]


class RelationPlan(BaseModel):
    """The plan for one relation.

    Attributes
    ----------
    relation : str
        Label.
    head_type, tail_type : str or None
        Learned domain and range types.
    functional : bool
        One value per head (a second value is never added).
    atomic, inferred : int
        Before augmentation.
    phi : float or None
        Before augmentation.
    deficit : int or None
        Inferred facts missing to reach phi_G (0 when already there).
    lemma2_branching : float or None
        Lemma 2's smallest ``b_r`` for phi_G at the current ``|V|`` (random-graph model,
        chains whose every hop is the relation).
    lemma2_facts : int or None
        Atomic facts of the relation that ``b_r`` implies, minus those present.
    node_bound : int or None
        Node-count bound at the current ``b_r`` (``None``: no graph size suffices).
    status : {"ok", "planned", "unreachable", "empty", "skipped", "budget"}
        Already at phi_G, raised by augmentation, impossible, without facts, below phi_G
        but not among the requested ``relations``, or stopped by ``max_new_facts``.
    strategy : str or None
        Strategy that raised it.
    template : str or None
        The template of new facts used (fictitious strategy).
    added_facts : int
        New facts of this relation in the result.
    phi_after : float or None
        Measured by exact recount on the result.
    reached : bool or None
        ``phi_after >= phi_G`` (for relations that were already there too: new facts
        must not push them below).
    reason : str
        Why it is unreachable, or what was done.
    """

    model_config = ConfigDict(frozen=True)

    relation: str
    head_type: str | None
    tail_type: str | None
    functional: bool
    atomic: int
    inferred: int
    phi: float | None
    deficit: int | None
    lemma2_branching: float | None
    lemma2_facts: int | None
    node_bound: int | None
    status: Status
    strategy: str | None = None
    template: str | None = None
    added_facts: int = 0
    phi_after: float | None = None
    reached: bool | None = None
    reason: str = ""


class AugmentationPlan(BaseModel):
    """Result of :func:`plan_augmentation` (and the log of :func:`kgaug.augment`).

    Attributes
    ----------
    phi_g : float
        Target.
    hops : tuple of int
        Chain lengths counted.
    count : {"facts", "paths"}
        Counting mode.
    directed : bool
        Counting mode.
    strategies : tuple of str
        Strategies tried, in order.
    seed : int
        Random seed.
    local_ratio : int
        ``c``: the 2-hop facts every new fact is built to create (> phi_G).
    rows : tuple of RelationPlan
        Per relation.
    rounds : int
        Augmentation rounds run (each ends with an exact recount).
    added_facts : int
        New facts in total.
    added_entities : int
        New (fictitious) entities.
    added_by_provenance : dict of str to int
        New facts per provenance.
    overall_phi : float or None
        Requested overall phi ``|F_n| / |F_A|`` (``None``: not requested).
    overall_phi_before, overall_phi_after : float or None
        Measured before and after.
    warnings : list of str
        Anything that did not go as planned.
    """

    model_config = ConfigDict(frozen=True)

    phi_g: float
    hops: tuple[int, ...]
    count: Literal["facts", "paths"]
    directed: bool
    strategies: tuple[str, ...]
    seed: int
    local_ratio: int
    rows: tuple[RelationPlan, ...]
    rounds: int
    added_facts: int
    added_entities: int
    added_by_provenance: dict[str, int]
    overall_phi: float | None = None
    overall_phi_before: float | None = None
    overall_phi_after: float | None = None
    warnings: list[str]

    _result: KnowledgeGraph | None = PrivateAttr(default=None)
    _before: PhiReport | None = PrivateAttr(default=None)
    _after: PhiReport | None = PrivateAttr(default=None)

    @property
    def result(self) -> KnowledgeGraph:
        """The augmented graph of the dry run."""
        if self._result is None:  # pragma: no cover - always set by plan_augmentation
            raise RuntimeError("this plan has no result graph")
        return self._result

    @property
    def before(self) -> PhiReport:
        """Phi report of the input graph."""
        assert self._before is not None
        return self._before

    @property
    def after(self) -> PhiReport:
        """Phi report of the augmented graph (exact recount)."""
        assert self._after is not None
        return self._after

    @property
    def unreachable(self) -> list[str]:
        """Relations that no strategy could raise."""
        return [r.relation for r in self.rows if r.status == "unreachable"]

    @property
    def planned(self) -> list[str]:
        """Relations that needed and got augmentation."""
        return [r.relation for r in self.rows if r.status == "planned"]

    @property
    def confirmed(self) -> bool:
        """Whether everything asked for was reached.

        Every requested relation below phi_G reached it in the exact recount (none is
        unreachable), and so did the overall phi if one was requested.
        """
        overall = self.overall_phi is None or (self.overall_phi_after or 0.0) >= self.overall_phi
        return overall and all(r.reached for r in self.rows if r.reached is not None)

    def __getitem__(self, relation: str) -> RelationPlan:
        for r in self.rows:
            if r.relation == relation:
                return r
        raise UnknownLabelError("relation", relation, [r.relation for r in self.rows])

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serializable)."""
        d = self.model_dump()
        d.update(unreachable=self.unreachable, confirmed=self.confirmed)
        return d

    def _header(self) -> str:
        hop = "+".join(str(h) for h in self.hops)
        mode = "directed" if self.directed else "undirected"
        s = (
            f"augmentation plan: phi_G = {self.phi_g:g}, {hop}-hop {self.count}, {mode}, "
            f"strategy {'/'.join(self.strategies)}, local ratio c = {self.local_ratio}\n"
            f"added {self.added_facts} facts and {self.added_entities} entities in "
            f"{self.rounds} round(s); "
            + ("all planned relations reach phi_G" if self.confirmed else "NOT all reached")
        )
        if self.overall_phi is not None:
            s += (
                f"\noverall phi {self.overall_phi_before or 0.0:.3f} -> "
                f"{self.overall_phi_after or 0.0:.3f} (target {self.overall_phi:g})"
            )
        if self.unreachable:
            s += f"; unreachable: {', '.join(self.unreachable)}"
        return s

    def _table(self) -> tuple[list[str], list[list[str]]]:
        header = ["relation", "phi", "deficit", "Lemma 2 facts", "status", "added", "phi after"]

        def f(x: float | None) -> str:
            return "-" if x is None else f"{x:.3f}"

        rows = [
            [
                r.relation,
                f(r.phi),
                "-" if r.deficit is None else str(r.deficit),
                "-" if r.lemma2_facts is None else str(r.lemma2_facts),
                r.status,
                str(r.added_facts),
                f(r.phi_after),
            ]
            for r in self.rows
        ]
        return header, rows

    def __str__(self) -> str:
        header, rows = self._table()
        s = self._header() + "\n\n" + text_table(header, rows)
        notes = [f"- {r.relation}: {r.reason}" for r in self.rows if r.status == "unreachable"]
        notes += [f"- {w}" for w in self.warnings]
        if notes:
            s += "\n\n" + "\n".join(notes)
        return s

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        header, rows = self._table()
        styles = ["background-color:#fde2e2" if row[4] == "unreachable" else "" for row in rows]
        return html_table(header, rows, row_styles=styles, caption=self._header())


class _Round:
    """Facts planned in one augmentation round and their estimated effect."""

    def __init__(
        self,
        inst: Instantiator,
        est_a: dict[str, float],
        est_i: dict[str, float],
        budget: int | None,
    ) -> None:
        self.inst = inst
        self.est_a = est_a
        self.est_i = est_i
        self.budget = budget
        self.new: list[Triple] = []
        self.est_chains = 0.0

    def room(self) -> int | None:
        """New facts still allowed by the budget (``None``: no budget)."""
        return None if self.budget is None else self.budget - len(self.new)

    def add_copies(self, tpl: Template, d_a: Counter[str], d_i: dict[str, float], n: int) -> int:
        """Instantiate up to ``n`` copies of ``tpl``; returns how many were made."""
        start = len(self.inst.facts)
        made = self.inst.add(tpl, n, self.room())
        self.new.extend(
            Triple(head=h, relation=rel, tail=t, provenance=Provenance.SYNTHETIC)
            for h, rel, t in self.inst.facts[start:]
        )
        for rel, k in d_a.items():
            self.est_a[rel] += made * k
        for rel, k2 in d_i.items():
            if rel:  # "" is the total
                self.est_i[rel] += made * k2
        self.est_chains += made * d_i.get("", 0.0)
        return made

    def add_facts(self, relation: str, facts: list[Triple], c: int) -> int:
        """Add facts of ``relation`` (counterfactual, llm), estimated at ``c`` chains each."""
        self.new.extend(facts)
        self.est_a[relation] += len(facts)
        self.est_i[relation] += len(facts) * c
        self.est_chains += len(facts) * c
        return len(facts)


def _lemma2(
    report: PhiReport, relation: str, n: int, phi_g: float
) -> tuple[float | None, int | None, int | None]:
    V = report.num_entities
    row = report.relations[relation]
    if n >= V or not row.atomic:
        return None, None, None
    b_min = float(bounds.min_relation_branching(V, n, phi_g))
    facts = max(0, math.ceil(b_min * V) - row.atomic)
    nb = bounds.node_bound([row.branching or 1e-12], n, phi_g).min_nodes
    return b_min, facts, nb


def plan_augmentation(
    kg: KnowledgeGraph,
    phi_g: float = 3.6,
    hops: int | Sequence[int] = 2,
    *,
    strategy: str | Sequence[str] = "fictitious",
    count: CountMode = "facts",
    directed: bool = True,
    relations: Iterable[str] | None = None,
    seed: int = 0,
    margin: float = 0.0,
    overall_phi: float | None = None,
    max_rounds: int = 6,
    max_new_facts: int | None = None,
    max_reuse: int = 20,
    proposer: FactProposer | None = None,
    progress: bool | None = None,
) -> AugmentationPlan:
    """Plan composition augmentation, run it as a dry run, and confirm by exact recount.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph to augment.
    phi_g : float
        Target ratio ``phi_G``.
    hops : int or sequence of int
        Chain lengths counted (as in :func:`kgaug.compute_phi`).
    strategy : str or sequence of str
        ``"fictitious"``, ``"counterfactual"``, ``"llm"`` or several tried in order.
    count, directed : as in :func:`kgaug.compute_phi`
        Counting mode the target refers to.
    relations : str or iterable of str, optional
        Relations to raise (default: every relation with facts). Every requested
        relation must end at or above phi_G, including those that already were.
    seed : int
        Seed for names and choices: the same seed gives the same result.
    margin : float
        Every new fact is built to create at least ``c = ceil(phi_G (1 + margin))`` 2-hop
        facts, so it never lowers a relation's phi below ``c``; the relation being raised
        gets many more through large fans. A positive margin leaves headroom (if some
        facts are later dropped) at the price of feasibility: a fictitious entity can only
        have one fact per relation leaving its type.
    overall_phi : float, optional
        Also raise the graph's overall phi ``|F_n| / |F_A|`` to this value. A dataset built
        from the graph counts every inferred fact once (``phi_r`` counts it for each
        relation it involves) and loses some to test splits, so a training set of phi
        ``D`` needs an overall phi of roughly ``D / 0.7`` (see :mod:`kgaug.dataset`).
    max_rounds : int
        Augment-and-recount rounds before giving up on a relation.
    max_new_facts : int, optional
        Budget; stop adding when exceeded (a warning says so).
    max_reuse : int
        How often one existing entity may be the attachment point of new facts.
    proposer : callable, optional
        ``proposer(kg, relation, n)`` -> candidate facts, for ``strategy="llm"``.
    progress : bool, optional
        Progress bar over rounds.

    Returns
    -------
    AugmentationPlan
        With the augmented graph as :attr:`AugmentationPlan.result`.

    Raises
    ------
    ValueError
        Unknown strategy, ``"llm"`` without a proposer, bad margins or budgets.
    """
    if not isinstance(kg, KnowledgeGraph):
        raise TypeError(f"expected a KnowledgeGraph, got {type(kg).__name__}")
    g = check_positive(phi_g, "phi_g")
    mode = check_count(count)
    directed = check_bool(directed, "directed")
    strategies = (strategy,) if isinstance(strategy, str) else tuple(strategy)
    if not strategies:
        raise ValueError("strategy is empty; use 'fictitious', 'counterfactual' or 'llm'")
    for st in strategies:
        if st not in STRATEGIES:
            raise ValueError(f"unknown strategy {st!r}; use one of {STRATEGIES}")
    if "llm" in strategies and proposer is None:
        raise ValueError("strategy 'llm' needs proposer=callable(kg, relation, n)")
    if not (0 <= margin <= 10):
        raise ValueError(f"margin must be in [0, 10], got {margin}")
    seed = check_int(seed, "seed", minimum=0)
    max_rounds = check_int(max_rounds, "max_rounds", minimum=1)
    max_reuse = check_int(max_reuse, "max_reuse", minimum=1)
    if max_new_facts is not None:
        max_new_facts = check_int(max_new_facts, "max_new_facts", minimum=0)
    target_overall = None if overall_phi is None else check_positive(overall_phi, "overall_phi")
    if kg.num_facts == 0:
        raise ValueError("kg has no facts: there is nothing to augment")
    wanted = (
        list(kg.relations)
        if relations is None
        else [relations]
        if isinstance(relations, str)
        else list(relations)
    )
    for r in wanted:
        kg.relation_id(r)  # raises with close matches

    before = compute_phi(kg, hops, mode, directed, g, progress=False)
    n_min, max_hops = min(before.hops), max(before.hops)
    wanted = [r for r in wanted if before.relations[r].atomic]  # empty relations: nothing
    c = max(math.ceil(g * (1.0 + margin)), 1)
    schema = learned_schema(kg)
    failing = [r for r in wanted if before.relations[r].generalizable is False]
    factory = GadgetFactory(kg, schema, c, favour=set(failing), deep=n_min >= 3)

    # templates per relation, payable for every relation they touch, unambiguous first,
    # then fewest new facts for the relation's deficit
    options: dict[str, list[tuple[Template, Counter[str], dict[str, float]]]] = {}

    def templates(r: str) -> list[tuple[Template, Counter[str], dict[str, float]]]:
        if r not in options:
            row = before.relations[r]
            scored: list[tuple[bool, bool, int, int, Template, Counter[str], dict[str, float]]] = []
            for tpl in factory.options(r):
                d_a, d_i = factory.effect(tpl)
                # templates whose every relation gains phi_G per new fact first (they cannot
                # pull another relation below it), then unambiguous ones, then the cheapest
                payable = all(d_i.get(x, 0.0) >= g * k for x, k in d_a.items())
                need = max(row.needed or 0, 1)  # rank by the deficit (or a nominal one)
                n = copies_needed(
                    g * row.atomic - need, row.atomic, g, d_a.get(r, 0), d_i.get(r, 0.0), 0.1
                )
                if n > 0:
                    scored.append(
                        (not payable, tpl.ambiguous, n * len(tpl.edges), len(scored), tpl, d_a, d_i)
                    )
            scored.sort(key=lambda x: (x[0], x[1], x[2], x[3]))
            options[r] = [x[4:] for x in scored]
        return options[r]

    best_overall: tuple[Template, Counter[str], dict[str, float]] | None = None
    warnings: list[str] = []
    if target_overall is not None:
        top = 0.0
        for r in wanted:
            for tpl, d_a, d_i in templates(r):
                if tpl.ambiguous:  # an overall target is for datasets, which drop those
                    continue
                gain = (d_i.get("", 0.0) - target_overall * len(tpl.edges)) / len(tpl.edges)
                if gain > top:
                    top, best_overall = gain, (tpl, d_a, d_i)
        if best_overall is None:
            warnings.append(
                f"overall_phi={target_overall:g}: no template adds more than "
                f"{target_overall:g} inferred facts per new fact"
            )

    inst = Instantiator(factory, seed, max_reuse)
    new_edges = NewEdges()
    labels = {e: i for i, e in enumerate(kg.entities)}
    counter_taken: set[tuple[int, int, int]] = set()
    current, report = kg, before
    used: dict[str, str] = {}
    exhausted: dict[str, set[str]] = defaultdict(set)  # relation -> strategies used up
    why: dict[str, str] = {}  # relation -> why it stopped short
    scale: dict[str, float] = {}  # measured / estimated gain, learned round by round
    scale_overall = 1.0
    failed_tpl: set[int] = set()  # templates that did not raise their relation when counted
    budget_hit = False
    rounds = 0
    with progress_bar(total=max_rounds, desc="augment", unit="round", enabled=progress) as bar:
        for _ in range(max_rounds):
            # every requested relation below phi_G: failing ones, and any pushed below
            todo = [
                r for r in wanted if report.relations[r].generalizable is False and r not in why
            ]
            overall_short = (
                best_overall is not None
                and target_overall is not None
                and ((report.phi or 0.0) < target_overall)
            )
            if budget_hit or (not todo and not overall_short):
                break
            rounds += 1
            bar.update(1)
            rnd = _Round(
                inst,
                {x.relation: float(x.atomic) for x in report.rows},
                {x.relation: float(x.inferred) for x in report.rows},
                None
                if max_new_facts is None
                else max_new_facts - (current.num_facts - kg.num_facts),
            )
            est_a, est_i, new = rnd.est_a, rnd.est_i, rnd.new
            surplus0 = {r: est_i[r] - g * est_a[r] for r in todo}
            expected: dict[str, float] = {}
            tried: dict[str, list[int]] = defaultdict(list)  # templates used this round
            cf_round: dict[str, list[Triple]] = defaultdict(list)
            new_types: dict[str, str | None] = {}
            room, add_copies = rnd.room, rnd.add_copies

            todo.sort(key=lambda r: -(report.relations[r].needed or 0))
            for r in todo:
                for strat in strategies:
                    if g * est_a[r] <= est_i[r] or strat in exhausted[r]:
                        continue
                    if strat == "fictitious":
                        for tpl, d_a, d_i in templates(r):  # next template if one runs dry
                            if g * est_a[r] <= est_i[r]:
                                break
                            if id(tpl) in failed_tpl:
                                continue
                            tried[r].append(id(tpl))
                            n = copies_needed(
                                est_i[r], est_a[r], g, d_a.get(r, 0), d_i.get(r, 0.0), 0.1
                            )
                            n = math.ceil(max(n, 0) * scale.get(r, 1.0))
                            made = add_copies(tpl, d_a, d_i, n)
                            expected[r] = expected.get(r, 0.0) + made * (
                                d_i.get(r, 0.0) - g * d_a.get(r, 0)
                            )
                            if made:
                                used.setdefault(r, strat)
                            if room() == 0:
                                budget_hit = True
                                break
                        else:
                            exhausted[r].add(strat)
                    elif strat == "counterfactual":
                        ids = counterfactual_facts(
                            factory,
                            r,
                            g * est_a[r] - est_i[r],
                            g,
                            hops=max_hops,
                            max_reuse=max_reuse,
                            new=new_edges,
                            taken=counter_taken,
                        )
                        cap = room()
                        ids = ids if cap is None else ids[: max(cap, 0)]
                        ents = kg.entities
                        facts = [
                            Triple(
                                head=ents[h],
                                relation=r,
                                tail=ents[t],
                                provenance=Provenance.COUNTERFACTUAL,
                            )
                            for h, _, t in ids
                        ]
                        cf_round[r] += facts
                        if rnd.add_facts(r, facts, c):
                            used.setdefault(r, strat)
                        else:
                            exhausted[r].add(strat)
                    elif strat == "llm" and proposer is not None:
                        k_want = max(1, math.ceil((g * est_a[r] - est_i[r]) / max(c - g, 0.5)))
                        facts_l, types_l, rejected = llm_facts(
                            factory,
                            r,
                            proposer,
                            k_want,
                            hops=max_hops,
                            new=new_edges,
                            labels=labels,
                        )
                        cap = room()
                        facts_l = facts_l if cap is None else facts_l[: max(cap, 0)]
                        if rejected:
                            warnings.append(
                                f"'{r}': {rejected} proposed fact(s) rejected (type, functional "
                                "value, duplicate, cycle or fewer than c chains)"
                            )
                        new_types.update(
                            {
                                e: ty
                                for e, ty in types_l.items()
                                if any(e in (f[0], f[2]) for f in facts_l)
                            }
                        )
                        llm_triples = [
                            Triple(head=h, relation=rr, tail=t, provenance=Provenance.SYNTHETIC)
                            for h, rr, t in facts_l
                        ]
                        if rnd.add_facts(r, llm_triples, c):
                            used.setdefault(r, strat)
                        else:
                            exhausted[r].add(strat)
                    if budget_hit:
                        break
                if budget_hit:
                    break

            overall_expected = 0.0
            if overall_short and not budget_hit and best_overall is not None:
                assert target_overall is not None
                tpl, d_a, d_i = best_overall
                per_copy = d_i.get("", 0.0) - target_overall * len(tpl.edges)
                missing = target_overall * (report.atomic + len(new)) - (
                    report.inferred + rnd.est_chains
                )
                if missing > 0:
                    n = math.ceil(missing / per_copy * 1.1 * scale_overall)
                    made = add_copies(tpl, d_a, d_i, n)
                    overall_expected = made * per_copy
                    if room() == 0:
                        budget_hit = True
            if not new:
                for r in todo:
                    why.setdefault(r, "no strategy could add more facts")
                break
            previous, previous_report = current, report
            new_types.update(inst.types)
            used_labels = {f.head for f in new} | {f.tail for f in new}
            current = current.add_facts(
                new,
                entity_types={
                    e: ty
                    for e, ty in new_types.items()
                    if ty is not None and e in used_labels and not current.has_entity(e)
                },
            )
            inst.types.clear()
            report = compute_phi(current, hops, mode, directed, g, progress=False)

            # counterfactual facts can lower their own relation (their chains may exist
            # already): measure, and take them back if they did
            worse = [
                r
                for r in cf_round
                if (report.relations[r].needed or 0) > (previous_report.relations[r].needed or 0)
            ]
            if worse:
                drop = {f.as_tuple() for r in worse for f in cf_round[r]}
                keep = [f for f in new if f.as_tuple() not in drop]
                current = (
                    previous.add_facts(
                        keep,
                        entity_types={
                            e: ty
                            for e, ty in new_types.items()
                            if ty is not None
                            and not previous.has_entity(e)
                            and any(e in (f.head, f.tail) for f in keep)
                        },
                    )
                    if keep
                    else previous
                )
                report = compute_phi(current, hops, mode, directed, g, progress=False)
                for r in worse:
                    exhausted[r].add("counterfactual")
                    warnings.append(
                        f"'{r}': counterfactual facts lowered its phi (their chains existed "
                        "already) and were taken back"
                    )

            # learn how far the estimates were off; stop relations that do not move
            for r in todo:
                row = report.relations[r]
                gained = (row.inferred - g * row.atomic) - surplus0[r]
                if expected.get(r, 0.0) > 0 and gained > 0:
                    scale[r] = min(20.0, max(1.0, expected[r] / gained))
                if row.generalizable is False and gained <= 0 and not budget_hit:
                    if tried[r] and any(
                        id(t) not in failed_tpl and id(t) not in tried[r]
                        for t, _, _ in templates(r)
                    ):
                        # the estimate (2-hop, directed) was wrong for this counting mode:
                        # try the relation's next template next round
                        failed_tpl.update(tried[r])
                        continue
                    if set(strategies) <= exhausted[r] or r not in used:
                        why[r] = (
                            "the templates' existing attachment points are used up "
                            f"(max_reuse={max_reuse})"
                            if "fictitious" in exhausted[r] and r in used
                            else "no strategy could add facts that raise it"
                        )
                    else:
                        why[r] = "new facts stopped raising it in this counting mode"
            if overall_expected > 0 and target_overall is not None:
                gained_o = (report.inferred - target_overall * report.atomic) - (
                    previous_report.inferred - target_overall * previous_report.atomic
                )
                if gained_o > 0:
                    scale_overall = min(20.0, max(1.0, overall_expected / gained_o))
                else:
                    best_overall = None
                    warnings.append(f"overall_phi={target_overall:g} stopped converging")

    after = report
    added_counts = current.subgraph(provenance=["synthetic", "counterfactual"]).relation_counts()
    rows: list[RelationPlan] = []
    for rel in kg.relations:
        b = before.relations[rel]
        sch = schema[rel]
        l2b, l2f, nb = _lemma2(before, rel, n_min, g)
        a = after.relations[rel]
        status: Status
        reason = ""
        if b.atomic == 0:
            status, reason = "empty", "no facts: nothing to raise"
        elif rel not in wanted and not b.generalizable:
            status, reason = "skipped", "not among the requested relations"
        elif b.generalizable:
            status = "ok"
            if not a.generalizable and rel in wanted:
                reason = f"pushed below phi_G by other relations' new facts ({why.get(rel, '')})"
        elif rel in used or a.generalizable:
            status = "planned"
            reason = (
                f"raised with strategy '{used[rel]}'"
                if rel in used
                else "raised as a side effect of other relations' new facts"
            )
            if not a.generalizable:
                reason = why.get(rel, "stopped after max_rounds")
                if budget_hit:
                    status, reason = "budget", f"max_new_facts={max_new_facts} reached first"
        elif budget_hit and templates(rel):
            status, reason = "budget", f"max_new_facts={max_new_facts} reached first"
        else:
            status = "unreachable"
            parts = []
            if "fictitious" in strategies:
                parts.append(factory.unreachable_reason(rel))
            if "counterfactual" in strategies:
                parts.append(
                    f"counterfactual: no pair of existing {sch.head_type} and {sch.tail_type} "
                    f"entities gives {c} or more chains without a cycle or second value"
                )
            if "llm" in strategies:
                parts.append("llm: no proposed fact passed the filters")
            reason = " ".join(parts)
        chosen = options.get(rel)
        rows.append(
            RelationPlan(
                relation=rel,
                head_type=sch.head_type,
                tail_type=sch.tail_type,
                functional=sch.functional,
                atomic=b.atomic,
                inferred=b.inferred,
                phi=b.phi,
                deficit=b.needed,
                lemma2_branching=l2b,
                lemma2_facts=l2f,
                node_bound=nb,
                status=status,
                strategy=used.get(rel),
                template=chosen[0][0].label if chosen and used.get(rel) == "fictitious" else None,
                added_facts=int(added_counts.get(rel, 0)),
                phi_after=a.phi,
                reached=None if status in ("empty", "skipped") else bool(a.generalizable),
                reason=reason,
            )
        )
        if rel in wanted and b.atomic and not a.generalizable and status != "unreachable":
            warnings.append(f"'{rel}' ends at phi = {a.phi:.3f} < {g:g}: {reason}")
    added_entities = current.num_entities - kg.num_entities
    by_prov = current.provenance_counts()
    before_prov = kg.provenance_counts()
    plan = AugmentationPlan(
        phi_g=g,
        hops=before.hops,
        count=mode,
        directed=directed,
        strategies=strategies,
        seed=seed,
        local_ratio=c,
        rows=tuple(rows),
        rounds=rounds,
        added_facts=current.num_facts - kg.num_facts,
        added_entities=added_entities,
        added_by_provenance={
            k: by_prov[k] - before_prov[k] for k in ("synthetic", "counterfactual")
        },
        overall_phi=target_overall,
        overall_phi_before=before.phi,
        overall_phi_after=after.phi,
        warnings=warnings,
    )
    plan._result = current
    plan._before = before
    plan._after = after
    return plan

"""Plan composition augmentation (the paper's Algorithm 2, atomic step), run it, confirm it.

:func:`plan_augmentation` raises every requested relation to ``phi_r >= phi_G`` (and,
optionally, the graph to an overall phi or to what a dataset of a given phi needs) in
rounds. Each round is a few named steps over one small state object:

1. :func:`_start_round` — what is still short, and a :class:`RoundContext` for the round;
2. :func:`_raise_relations` — each short relation, largest deficit first, gets facts from
   the strategies in order until its estimate reaches phi_G;
3. :func:`_fill_targets` — more facts for an overall-phi or dataset target;
4. :func:`_apply` — the facts join the graph and everything is counted again, exactly;
5. :func:`_take_back` — facts of a ``take_back`` strategy (counterfactual) that lowered
   their own relation are removed, and the graph is counted again;
6. :func:`_learn` — how far the estimates were off (scale factors), which relations stopped
   moving and why.

The plan reports, per relation, the phi before and after, Lemma 2's estimate and the
fewest facts any single template could need next to the facts added, and the reason for
anything unreachable. Every fact passes the same checks (roles, functional relations,
cycles); the finished graph is audited (:func:`kgaug.audit`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from kgaug import bounds
from kgaug._progress import progress_bar
from kgaug._validate import CountMode, check_bool, check_count, check_int, check_positive
from kgaug.augmentation.audit import AuditReport, audit, real_schema
from kgaug.augmentation.instantiate import Instantiator
from kgaug.augmentation.result import AugmentationPlan, RelationPlan, Status
from kgaug.augmentation.strategies import (
    AugmentationStrategy,
    FactProposer,
    FictitiousStrategy,
    RoundContext,
    get_strategy,
)
from kgaug.augmentation.targets import DatasetTarget, make_target
from kgaug.augmentation.templates import GadgetFactory, Template
from kgaug.errors import AugmentationError
from kgaug.kg import KnowledgeGraph
from kgaug.schema import Schema
from kgaug.stats import PhiReport, compute_phi

__all__ = ["plan_augmentation"]

Task = Literal["composition", "comparison"]


@dataclass
class _State:
    """Everything a plan carries from round to round."""

    kg: KnowledgeGraph
    g: float
    hops: int | Sequence[int]
    mode: CountMode
    directed: bool
    wanted: list[str]
    strategies: list[AugmentationStrategy]
    seed: int
    c: int
    max_rounds: int
    budget: int | None
    schema: Schema
    factory: GadgetFactory
    inst: Instantiator
    before: PhiReport
    overall: float | None
    target: DatasetTarget | None
    current: KnowledgeGraph
    report: PhiReport
    n_min: int = 2
    max_hops: int = 2
    budget_words: str = "max_new_facts"
    rounds: int = 0
    budget_hit: bool = False
    new_roles: dict[str, int] = field(default_factory=dict)
    used: dict[str, str] = field(default_factory=dict)  # relation -> strategy that raised it
    exhausted: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    why: dict[str, str] = field(default_factory=dict)  # relation -> why it stopped short
    spent: Counter[str] = field(default_factory=Counter)  # facts added to raise a relation
    rejected: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    rejected_examples: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    target_scale: float = 1.0
    target_expected: float = 0.0  # pool gains expected and measured, over all rounds
    target_gained: float = 0.0
    target_template: tuple[Template, Counter[str], dict[str, float]] | None = None
    target_dead: bool = False
    overall_scale: float = 1.0
    overall_dead: bool = False

    @property
    def fictitious(self) -> FictitiousStrategy | None:
        for s in self.strategies:
            if isinstance(s, FictitiousStrategy):
                return s
        return None


# ------------------------------------------------------------------------------- steps
def _short(st: _State) -> tuple[list[str], bool, bool]:
    """Requested relations below phi_G; whether the overall / dataset targets are short."""
    todo = [
        r for r in st.wanted if st.report.relations[r].generalizable is False and r not in st.why
    ]
    overall_short = st.overall is not None and (st.report.phi or 0.0) < st.overall
    target_short = (
        st.target is not None and not st.target_dead and not st.target.reached(st.current)
    )
    return todo, overall_short, target_short


def _start_round(st: _State) -> RoundContext:
    room = None if st.budget is None else st.budget - (st.current.num_facts - st.kg.num_facts)
    return RoundContext(
        kg=st.current,
        original=st.kg,
        schema=st.schema,
        factory=st.factory,
        instantiator=st.inst,
        phi_g=st.g,
        c=st.c,
        hops=st.max_hops,
        report=st.report,
        new_roles=st.new_roles,
        budget=room,
    )


def _raise_relations(st: _State, ctx: RoundContext, todo: list[str]) -> None:
    todo = sorted(todo, key=lambda r: -(st.report.relations[r].needed or 0))
    for r in todo:
        for strat in st.strategies:
            if ctx.needed(r) <= 0 or strat.name in st.exhausted[r]:
                continue
            before = len(ctx.facts)
            added = strat.raise_relation(ctx, r)
            st.spent[r] += len(ctx.facts) - before
            if added:
                st.used.setdefault(r, strat.name)
            else:
                st.exhausted[r].add(strat.name)
            room = ctx.room()
            if room is not None and room <= 0:
                st.budget_hit = True
                return


def _best_target_template(
    st: _State, per_fact: Any
) -> tuple[Template, Counter[str], dict[str, float]] | None:
    """The unambiguous template with the largest gain per new fact (``per_fact(tpl, d_a, d_i)``)."""
    fic = st.fictitious
    if fic is None:
        return None
    best, top = None, 0.0
    cands = [opt for r in st.wanted for opt in fic.options(st.factory, r, st.g)]
    cands += [(t, *st.factory.estimate(t)) for t in st.factory.query_hubs()]
    for tpl, d_a, d_i in cands:
        if tpl.ambiguous:  # targets are for datasets, which drop ambiguous queries
            continue
        gain = per_fact(tpl, d_a, d_i)
        if gain > top:
            top, best = gain, (tpl, d_a, d_i)
    return best


def _fill_overall(st: _State, ctx: RoundContext) -> float:
    """Copies of the best template for the overall phi; returns the expected gain."""
    assert st.overall is not None
    o = st.overall
    best = _best_target_template(
        st, lambda t, a, i: (i.get("", 0.0) - o * len(t.edges)) / len(t.edges)
    )
    if best is None:
        st.warnings.append(
            f"overall_phi={o:g}: no template adds more than {o:g} inferred facts per new fact"
        )
        st.overall_dead = True
        return 0.0
    tpl, d_a, d_i = best
    per_copy = d_i.get("", 0.0) - o * len(tpl.edges)
    missing = o * (st.report.atomic + len(ctx.facts)) - (st.report.inferred + ctx.est_chains)
    if missing <= 0:
        return 0.0
    n = math.ceil(missing / per_copy * 1.1 * st.overall_scale)
    made = ctx.add_template(tpl, d_a, d_i, n, relation="", strategy="fictitious")
    return made * per_copy


def _fill_dataset(st: _State, ctx: RoundContext) -> float:
    """Facts for the dataset target; returns the expected growth of the training pool."""
    tg = st.target
    assert tg is not None
    if tg.task == "comparison":  # Algorithm 1: new entities with attribute values
        return tg.fill(ctx, st)
    if st.target_template is None:
        st.target_template = _best_target_template(st, tg.gain_per_fact)
    if st.target_template is None:
        st.target_dead = True
        return 0.0
    tpl, d_a, d_i = st.target_template
    per_copy = tg.gain_per_copy(tpl, d_a, d_i, st.target_scale)
    if per_copy <= 0:
        per_copy = tg.gain_per_copy(tpl, d_a, d_i)
    missing = tg.missing(st.current, extra_facts=len(ctx.facts))
    # aim a little short in the first round and top up once the recount has calibrated
    # the estimate (per-relation facts come after and raise the need); a top-up is never
    # tiny: the split of a changed graph moves the pool a bit
    aim = 0.9 if st.rounds == 1 else 1.05
    n = math.ceil(missing / per_copy * aim) if per_copy > 0 else 0
    if n <= 0:
        return 0.0
    if st.rounds > 1:
        n = max(n, 3)
    made = ctx.add_template(tpl, d_a, d_i, n, relation="", strategy="fictitious")
    st.spent[""] += made * len(tpl.edges)
    return made * tg.pool_gain(tpl)


def _fill_targets(
    st: _State, ctx: RoundContext, overall_short: bool, target_short: bool
) -> tuple[float, float]:
    """Facts for the overall-phi and dataset targets; returns the expected gains."""
    expected_overall = _fill_overall(st, ctx) if overall_short and not st.budget_hit else 0.0
    expected_target = _fill_dataset(st, ctx) if target_short and not st.budget_hit else 0.0
    room = ctx.room()
    if room is not None and room <= 0:
        st.budget_hit = True
    return expected_overall, expected_target


def _apply(st: _State, ctx: RoundContext) -> tuple[KnowledgeGraph, PhiReport]:
    """Add the round's facts and count everything again; returns the previous graph and report."""
    previous, previous_report = st.current, st.report
    types = {
        e: ty for e, ty in ctx.types.items() if ty is not None and not st.current.has_entity(e)
    }
    st.current = st.current.add_facts(ctx.facts, entity_types=types)
    st.new_roles.update(ctx.roles)
    st.report = compute_phi(st.current, st.hops, st.mode, st.directed, st.g, progress=False)
    for rel, reasons in ctx.rejected.items():
        st.rejected[rel].update(reasons)
    for exs in ctx.checker.examples.values():
        for h, r, t, why in exs:
            if len(st.rejected_examples) < 10:
                st.rejected_examples.append(f"({h}, {r}, {t}): {why}")
    return previous, previous_report


def _take_back(
    st: _State, ctx: RoundContext, previous: KnowledgeGraph, previous_report: PhiReport
) -> None:
    """Remove facts of take-back strategies that lowered their own relation."""
    worse = [
        (name, r)
        for (name, r), facts in ctx.by_origin.items()
        if facts
        and any(s.name == name and s.take_back for s in st.strategies)
        and r
        and (st.report.relations[r].needed or 0) > (previous_report.relations[r].needed or 0)
    ]
    if not worse:
        return
    drop = {f.as_tuple() for key in worse for f in ctx.by_origin[key]}
    keep = [f for f in ctx.facts if f.as_tuple() not in drop]
    used = {f.head for f in keep} | {f.tail for f in keep}
    types = {
        e: ty
        for e, ty in ctx.types.items()
        if ty is not None and e in used and not previous.has_entity(e)
    }
    st.current = previous.add_facts(keep, entity_types=types) if keep else previous
    st.report = compute_phi(st.current, st.hops, st.mode, st.directed, st.g, progress=False)
    for name, r in worse:
        st.exhausted[r].add(name)
        st.warnings.append(
            f"'{r}': {name} facts lowered its phi (their chains existed already) and were "
            "taken back"
        )


def _learn(
    st: _State, ctx: RoundContext, todo: list[str], surplus0: Mapping[str, float],
    previous_report: PhiReport, expected: tuple[float, float], target_before: float,
) -> None:  # fmt: skip
    """Scale factors from measured vs expected gains; relations that stopped moving."""
    g = st.g
    fic = st.fictitious
    for r in todo:
        row = st.report.relations[r]
        gained = (row.inferred - g * row.atomic) - surplus0[r]
        exp = ctx.expected.get(r, 0.0)
        if fic is not None and exp > 0 and gained > 0:
            if exp / gained > 5 and fic.has_other_templates(r):
                # the estimate is far off in this counting mode: next template next round
                fic.failed.update(fic.tried[r])
            else:
                fic.scale[r] = min(20.0, max(1.0, exp / gained))
        if row.generalizable is False and gained <= 0 and not st.budget_hit:
            if fic is not None and fic.tried.get(r) and fic.has_other_templates(r):
                # the estimate (2-hop, directed) was wrong for this counting mode: try the
                # relation's next template next round
                fic.failed.update(fic.tried[r])
                fic.tried[r] = []
                continue
            if set(s.name for s in st.strategies) <= st.exhausted[r] or r not in st.used:
                st.why[r] = (
                    "the templates' existing attachment points are used up"
                    if "fictitious" in st.exhausted[r] and r in st.used
                    else "no strategy could add facts that raise it"
                )
            else:
                st.why[r] = "new facts stopped raising it in this counting mode"
        if fic is not None:
            fic.tried[r] = []
    exp_overall, exp_target = expected
    if exp_overall > 0 and st.overall is not None:
        o = st.overall
        gained_o = (st.report.inferred - o * st.report.atomic) - (
            previous_report.inferred - o * previous_report.atomic
        )
        if gained_o > 0:
            st.overall_scale = min(20.0, max(1.0, exp_overall / gained_o))
        elif not todo:  # per-relation facts of the same round may have lowered it
            st.warnings.append(f"overall_phi={o:g} stopped converging")
            st.overall_dead = True
    if exp_target > 0 and st.target is not None and st.target.task == "composition":
        gained_t = st.target.pool(st.current) - target_before
        st.target_expected += exp_target
        st.target_gained += gained_t
        if gained_t > 0:
            st.target_scale = min(5.0, max(0.2, st.target_expected / max(st.target_gained, 1.0)))
        else:
            st.target_dead = True
            st.warnings.append(
                f"{st.target.describe()}: new facts stopped raising the dataset pool"
            )


# ------------------------------------------------------------------------------ result
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


def _rows(st: _State) -> list[RelationPlan]:
    g, before, after = st.g, st.before, st.report
    added_counts = st.current.subgraph(provenance=["synthetic", "counterfactual"]).relation_counts()
    fic = st.fictitious
    names = {s.name for s in st.strategies}
    rows: list[RelationPlan] = []
    for rel in st.kg.relations:
        b, a, sch = before.relations[rel], after.relations[rel], st.schema[rel]
        l2b, l2f, nb = _lemma2(before, rel, st.n_min, g)
        status: Status
        reason = ""
        if b.atomic == 0:
            status, reason = "empty", "no facts: nothing to raise"
        elif rel not in st.wanted and not b.generalizable:
            status, reason = "skipped", "not among the requested relations"
        elif b.generalizable:
            status = "ok"
            if not a.generalizable and rel in st.wanted:
                reason = f"pushed below phi_G by other relations' new facts ({st.why.get(rel, '')})"
        elif rel in st.used or a.generalizable:
            status = "planned" if rel in st.used else "incidental"
            reason = (
                f"raised with strategy '{st.used[rel]}'"
                if rel in st.used
                else "raised to phi_G by other relations' new facts alone"
            )
            if not a.generalizable:
                reason = st.why.get(rel, "stopped after max_rounds")
                if st.budget_hit:
                    status, reason = "budget", f"{st.budget_words} reached first"
        elif st.budget_hit and fic is not None and fic.options(st.factory, rel, g):
            status, reason = "budget", f"{st.budget_words} reached first"
        else:
            status = "unreachable"
            parts = []
            if "fictitious" in names:
                sunk = sorted(fic.harmful.get(rel, ())) if fic is not None else []
                if sunk and fic is not None and fic.options(st.factory, rel, g):
                    parts.append(
                        f"'{rel}': its only templates would push "
                        + ", ".join(f"'{x}'" for x in sunk)
                        + " below phi_G (their new facts create fewer than phi_G chains each)."
                    )
                else:
                    parts.append(st.factory.unreachable_reason(rel))
            if "counterfactual" in names:
                parts.append(
                    f"counterfactual: no pair of existing entities in the roles of '{rel}' gives "
                    f"{st.c} or more chains without a cycle or second value"
                )
            if "llm" in names:
                parts.append("llm: no proposed fact passed the checks")
            for extra in names - {"fictitious", "counterfactual", "llm"}:
                parts.append(f"{extra}: added no fact that raises it")
            reason = " ".join(parts)
        overshoot = None
        if a.phi is not None and a.phi > 1.5 * g and (b.phi is None or a.phi > b.phi + 1e-9):
            cause = fic.forced.get(rel) if fic is not None else None
            if st.target is not None or st.overall is not None:
                overshoot = "raised past 1.5 x phi_G by the dataset / overall target"
            elif cause:
                overshoot = f"raised past 1.5 x phi_G by the shared template {cause}"
            else:
                overshoot = "raised past 1.5 x phi_G as a side effect of other relations' facts"
        chosen = fic.chosen.get(rel) if fic is not None else None
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
                strategy=st.used.get(rel),
                template=chosen.label
                if chosen is not None and st.used.get(rel) == "fictitious"
                else None,
                added_facts=int(added_counts.get(rel, 0)),
                spent_facts=int(st.spent.get(rel, 0)),
                min_template_facts=(
                    fic.cheapest(st.factory, before, rel, g)
                    if fic is not None
                    and status in ("planned", "incidental", "unreachable", "budget")
                    else None
                ),
                phi_after=a.phi,
                reached=None if status in ("empty", "skipped") else bool(a.generalizable),
                overshoot=overshoot,
                rejected=dict(st.rejected.get(rel, {})),
                reason=reason,
            )
        )
        if rel in st.wanted and b.atomic and not a.generalizable and status != "unreachable":
            st.warnings.append(f"'{rel}' ends at phi = {a.phi:.3f} < {g:g}: {reason}")
    return rows


# ------------------------------------------------------------------------------ public
def _check_args(
    kg: KnowledgeGraph, phi_g: float, strategy: Any, proposer: Any, margin: float, seed: Any,
    max_rounds: Any, max_reuse: Any, max_new_facts: Any, overall_phi: Any,
) -> tuple[float, list[AugmentationStrategy], int, int, int, int | None, float | None]:  # fmt: skip
    if not isinstance(kg, KnowledgeGraph):
        raise TypeError(f"expected a KnowledgeGraph, got {type(kg).__name__}")
    g = check_positive(phi_g, "phi_g")
    raw = (
        [strategy]
        if isinstance(strategy, str) or not isinstance(strategy, Iterable)
        else list(strategy)
    )
    if not raw:
        raise ValueError("strategy is empty; use 'fictitious', 'counterfactual' or 'llm'")
    max_reuse = check_int(max_reuse, "max_reuse", minimum=1)
    strategies = [get_strategy(s, proposer=proposer, max_reuse=max_reuse) for s in raw]
    if not (0 <= margin <= 10):
        raise ValueError(f"margin must be in [0, 10], got {margin}")
    seed = check_int(seed, "seed", minimum=0)
    max_rounds = check_int(max_rounds, "max_rounds", minimum=1)
    if max_new_facts is not None:
        max_new_facts = check_int(max_new_facts, "max_new_facts", minimum=0)
    overall = None if overall_phi is None else check_positive(overall_phi, "overall_phi")
    if kg.num_facts == 0:
        raise ValueError("kg has no facts: there is nothing to augment")
    return g, strategies, seed, max_rounds, max_reuse, max_new_facts, overall


#: Without ``max_new_facts``, a target whose cheapest template alone needs more synthetic
#: facts than this many times the graph's facts (and at least ``_MIN_CAP``) is refused.
_ABSURD_FACTOR = 100
_MIN_CAP = 100_000


def _refuse_absurd(
    kg: KnowledgeGraph,
    g: float,
    c: int,
    hops: tuple[int, ...],
    max_reuse: int,
    budget: int,
    defaulted: bool,
) -> None:
    """Refuse, in O(E), a local ratio no template of the allowed size can give.

    Every new fact must take part in at least ``c`` chains. A fact sits at one of ``n``
    positions of an ``n``-hop chain, and the chains through it at one position are at most
    ``Delta^(n-1)`` when no entity near it has more than ``Delta`` facts; so with the
    lengths in ``hops`` (longest ``n``) some entity needs at least ``Delta = (c / (n
    |hops|))^(1/(n-1))`` facts (``c / 2`` for 2-hop chains: the facts into the head plus
    the facts out of the tail). An existing entity has at most ``D`` facts (the graph's
    largest degree) plus ``max_reuse`` new ones, so no template has fewer than
    ``Delta - D - max_reuse`` new facts.
    """
    deg = np.bincount(kg.head_ids, minlength=kg.num_entities) + np.bincount(
        kg.tail_ids, minlength=kg.num_entities
    )
    d_max = int(deg.max()) if deg.size else 0
    n = max(hops)
    log_delta = (math.log(c) - math.log(n * len(hops))) / (n - 1)
    delta = math.exp(log_delta) if log_delta < 700 else math.inf
    floor_f = delta - d_max - max_reuse
    floor = math.inf if floor_f > 1e300 else max(0, math.floor(floor_f))
    if floor > budget:
        which = (
            f"max_new_facts={budget:,}"
            if not defaulted
            else f"the default budget of {budget:,} facts ({_ABSURD_FACTOR} x the graph's "
            f"{kg.num_facts:,}, at least {_MIN_CAP:,}; pass max_new_facts to allow more)"
        )
        c_s, floor_s = (
            f"{x:,}" if x < 10**12 else "inf" if x == math.inf else f"{Decimal(x):.3g}"
            for x in (c, floor)
        )
        chains = "2-hop facts" if hops == (2,) else f"chains of {'/'.join(map(str, hops))} hops"
        raise AugmentationError(
            f"phi_g={g:g} cannot be reached at this graph's size: every new fact must take "
            f"part in at least c = {c_s} {chains}, and with the best-connected entity at "
            f"{d_max:,} facts (max_reuse={max_reuse}) each template needs at least "
            f"{floor_s} synthetic facts, more than {which}. Lower phi_g."
        )


def plan_augmentation(
    kg: KnowledgeGraph,
    phi_g: float = 3.6,
    hops: int | Sequence[int] = 2,
    *,
    strategy: str | AugmentationStrategy | Sequence[str | AugmentationStrategy] = "fictitious",
    count: CountMode = "facts",
    directed: bool = True,
    relations: Iterable[str] | str | None = None,
    seed: int = 0,
    margin: float = 0.0,
    overall_phi: float | None = None,
    dataset_phi: float | None = None,
    task: Task = "composition",
    dataset_options: Mapping[str, Any] | None = None,
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
    strategy : str, strategy object, or a sequence of them
        ``"fictitious"``, ``"counterfactual"``, ``"llm"``, or any object implementing
        :class:`~kgaug.augmentation.strategies.AugmentationStrategy`; several are tried in
        order for each relation.
    count, directed : as in :func:`kgaug.compute_phi`
        Counting mode the target refers to.
    relations : str or iterable of str, optional
        Relations to raise (default: every relation with facts). Every requested
        relation must end at or above phi_G, including those that already were.
    seed : int
        Seed for names and choices: the same seed gives the same result.
    margin : float
        Every new fact is built to create at least ``c = ceil(phi_G (1 + margin))`` 2-hop
        facts, so it never lowers a relation's phi below ``c``.
    overall_phi : float, optional
        Also raise the graph's overall phi ``|F_n| / |F_A|`` to this value.
    dataset_phi : float, optional
        Also augment until a dataset of this phi can be built from the result:
        :func:`~kgaug.dataset.build_composition_dataset` (``task="composition"``, counted
        exactly the way the builder counts, ambiguous and mixed queries dropped) or
        :func:`~kgaug.dataset.build_comparison_dataset` (``task="comparison"``, new
        entities with attribute values, Algorithm 1). The plan's
        :attr:`~kgaug.augmentation.result.AugmentationPlan.dataset_options` are the
        builder arguments it was checked with.
    task : {"composition", "comparison"}
        Which dataset ``dataset_phi`` refers to.
    dataset_options : mapping, optional
        Builder arguments (``ood_fraction``, ``test_id_fraction``, ``hops``, ``directed``,
        ``ambiguous``; comparison: ``attributes``, ``style``, ``balance``); the builder's
        ``seed`` is ``seed``.
    max_rounds : int
        Augment-and-recount rounds before giving up on a relation.
    max_new_facts : int, optional
        Budget; stop adding when exceeded (a warning says so). Default: 100 times the
        graph's facts, at least 100,000. A target whose smallest possible template alone
        exceeds the budget is refused at once (:class:`~kgaug.errors.AugmentationError`).
    max_reuse : int
        How often one existing entity may be the attachment point of new facts.
    proposer : callable, optional
        ``proposer(kg, relation, n)`` -> candidate facts, for ``strategy="llm"``.
    progress : bool, optional
        Progress bar over rounds.

    Returns
    -------
    AugmentationPlan
        With the augmented graph as :attr:`AugmentationPlan.result` and its audit as
        :attr:`AugmentationPlan.audit`.

    Raises
    ------
    ValueError
        Unknown strategy, ``"llm"`` without a proposer, bad margins or budgets.
    kgaug.errors.AugmentationError
        A ``phi_g`` no template within the budget can give, or a ``dataset_phi`` that no
        strategy can reach (the message says why and what
        would help).
    """
    g, strategies, seed, max_rounds, max_reuse, max_new_facts, overall = _check_args(
        kg, phi_g, strategy, proposer, margin, seed, max_rounds, max_reuse, max_new_facts,
        overall_phi,
    )  # fmt: skip
    mode = check_count(count)
    directed = check_bool(directed, "directed")
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
    wanted = [r for r in wanted if before.relations[r].atomic]
    c = max(math.ceil(Fraction(g) * (1 + Fraction(margin))), 1)  # exact: never overflows
    defaulted = max_new_facts is None
    if max_new_facts is None:  # never unbounded: a default budget relative to the graph
        max_new_facts = max(_MIN_CAP, _ABSURD_FACTOR * kg.num_facts)
        budget_words = f"the default budget of {max_new_facts:,} new facts (max_new_facts)"
    else:
        budget_words = f"max_new_facts={max_new_facts}"
    _refuse_absurd(kg, g, c, before.hops, max_reuse, max_new_facts, defaulted)
    schema = real_schema(kg)
    failing = [r for r in wanted if before.relations[r].generalizable is False]
    factory = GadgetFactory(kg, schema, c, favour=set(failing), deep=n_min >= 3)
    factory.counting = (hops if isinstance(hops, int) else tuple(hops), mode, directed)
    factory._base_report = before
    target = make_target(dataset_phi, task, dataset_options, seed, kg)
    if target is not None:
        target.factory = factory
        bound = target.bound(schema)
        if bound is not None and target.phi > bound:  # no augmentation can reach it
            st0 = _State(
                kg=kg, g=g, hops=hops, mode=mode, directed=directed, wanted=wanted,
                strategies=strategies, seed=seed, c=c, max_rounds=max_rounds,
                budget=max_new_facts, budget_words=budget_words, schema=schema, factory=factory,
                inst=Instantiator(factory, seed, max_reuse), before=before, overall=overall,
                target=target, current=kg, report=before,
            )  # fmt: skip
            raise AugmentationError(target.unreachable_reason(st0))
    st = _State(
        kg=kg, g=g, hops=hops, mode=mode, directed=directed, wanted=wanted,
        strategies=strategies, seed=seed, c=c, max_rounds=max_rounds, budget=max_new_facts,
        budget_words=budget_words,
        schema=schema, factory=factory, inst=Instantiator(factory, seed, max_reuse),
        before=before, overall=overall, target=target, current=kg, report=before,
        n_min=n_min, max_hops=max_hops,
    )  # fmt: skip
    with progress_bar(total=max_rounds, desc="augment", unit="round", enabled=progress) as bar:
        for _ in range(max_rounds):
            todo, overall_short, target_short = _short(st)
            overall_short = overall_short and not st.overall_dead
            if st.budget_hit or (not todo and not overall_short and not target_short):
                break
            st.rounds += 1
            bar.update(1)
            ctx = _start_round(st)
            surplus0 = {r: ctx.est_inferred[r] - g * ctx.est_atomic[r] for r in todo}
            target_before = (
                float(st.target.pool(st.current)) if st.target is not None and target_short else 0.0
            )
            # targets first: their hubs raise many relations on the way, so the relations
            # still short afterwards need fewer facts of their own
            expected = _fill_targets(st, ctx, overall_short, target_short)
            _raise_relations(st, ctx, todo)
            if not ctx.facts:
                room = ctx.room()
                fic = st.fictitious
                if room is not None and fic is not None:
                    sizes = [fic.cheapest(st.factory, st.report, r, st.g) for r in todo]
                    known = [x for x in sizes if x is not None]
                    if known and room < min(known):
                        st.budget_hit = True  # what is left of the budget fits no template
                for r in todo:
                    st.why.setdefault(r, "no strategy could add more facts")
                if target_short:
                    st.target_dead = True
                break
            previous, previous_report = _apply(st, ctx)
            _take_back(st, ctx, previous, previous_report)
            _learn(st, ctx, todo, surplus0, previous_report, expected, target_before)
    return _finish(st)


def _finish(st: _State) -> AugmentationPlan:
    rows = _rows(st)
    if st.target is not None and not st.target.reached(st.current):
        reason = st.target.unreachable_reason(st)
        if st.target.achievable(st.current) >= st.target.phi:
            st.warnings.append(
                f"{st.target.describe()}: reached for the builder's seed {st.seed}, short of "
                "the 3% margin that makes other seeds safe"
            )
        elif not st.budget_hit:
            raise AugmentationError(reason)
        else:
            st.warnings.append(reason)
    cur, kg = st.current, st.kg
    by_prov, before_prov = cur.provenance_counts(), kg.provenance_counts()
    for rel, reasons in st.rejected.items():
        if reasons:
            shown = ", ".join(f"{n} {k}" for k, n in reasons.most_common())
            st.warnings.append(f"'{rel}': rejected proposed facts ({shown})")
    report: AuditReport = audit(
        kg, cur, phi_g=st.g, hops=st.before.hops, count=st.mode, directed=st.directed,
        schema=st.schema, ocr_risk=False,
    )  # fmt: skip
    plan = AugmentationPlan(
        phi_g=st.g,
        hops=st.before.hops,
        count=st.mode,
        directed=st.directed,
        strategies=tuple(s.name for s in st.strategies),
        seed=st.seed,
        local_ratio=st.c,
        rows=tuple(rows),
        rounds=st.rounds,
        added_facts=cur.num_facts - kg.num_facts,
        added_entities=cur.num_entities - kg.num_entities,
        added_by_provenance={
            k: by_prov[k] - before_prov[k] for k in ("synthetic", "counterfactual")
        },
        overall_phi=st.overall if st.overall is not None else None,
        overall_phi_before=st.before.phi,
        overall_phi_after=st.report.phi,
        dataset_phi=st.target.phi if st.target is not None else None,
        dataset_task=st.target.task if st.target is not None else None,
        dataset_options=st.target.options if st.target is not None else {},
        dataset_achievable=st.target.achievable(cur) if st.target is not None else None,
        dataset_facts=int(st.spent.get("", 0)),
        dataset_template=(
            st.target_template[0].label
            if st.target_template is not None and st.spent.get("", 0)
            else None
        ),
        rejected={r: dict(c) for r, c in st.rejected.items() if c},
        rejected_examples=st.rejected_examples,
        role_violations=report.role_violations,
        warnings=st.warnings,
    )
    plan._result = cur
    plan._before = st.before
    plan._after = st.report
    plan._audit = report
    return plan

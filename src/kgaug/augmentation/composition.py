"""Composition augmentation (the paper's Algorithm 2): raise every relation's phi to phi_G.

``parse_graph`` (text to graph) belongs to the verbalizer layer; the steps here are

1. :func:`augment_atomic` — add atomic facts until every planned relation reaches
   ``phi_r >= phi_G``, without creating cycles;
2. :func:`augment_inferred` — sample multi-hop paths into inferred facts;
3. :func:`diversify` — vary the phrasing of the resulting questions.

How facts are added
-------------------
A new fact ``(u, s, y)`` creates the 2-hop facts ``(x, p, s, y)`` for every in-edge
``x -p-> u`` and ``(u, s, q, z)`` for every out-edge ``y -q-> z``. Facts are added in small
typed *templates*, and a template is preferred when every relation it adds facts of gains
at least ``phi_G`` inferred facts per new fact (counted once per relation, as phi counts
them): such a template cannot pull a relation below the threshold. The estimate is made
for 2-hop directed counts; an exact recount after each round checks every requested
relation (also those that were already above ``phi_G``), tops up the ones below, and
moves on to a relation's next template when one did not raise it in the counting mode
used.

Strategies:

``"fictitious"`` (default)
    New entities with generated names, typed like the relation's learned domain and range
    (:mod:`kgaug.schema`); every new fact has a fictitious head, so no real entity gets a
    new property and every real fact is untouched. The new entities form small typed
    *hubs*: a fictitious entity with at least ``c`` incoming facts (from fictitious
    sources) and at least ``c`` outgoing facts (to existing entities of the right type).
    When a type can hold fewer than ``c`` outgoing facts, the sources are hubs
    themselves. Every entity that receives new outgoing facts is new (a fictitious year
    gets its own label rather than reusing a real one), and new facts point from
    fictitious sources to hubs to existing entities, so no cycle is created.
``"counterfactual"``
    New facts between existing entities (provenance ``counterfactual``, the paper's
    "incorrect but helpful" data): heads with many incoming and tails with many outgoing
    facts, never a second value of a functional relation, never closing a cycle of
    length 2 (or 3 when 3-hop chains are counted) with the graph or the other new facts.
    Facts that turn out to lower their own relation (their chains existed already) are
    taken back after the recount.
``"llm"``
    Facts proposed by a callable (e.g. an LLM fact generator), filtered by the same rules
    (types, functional values also among the proposals, duplicates, cycles, at least
    ``c`` chains); new entities get the relation's learned types. They are recorded as
    ``synthetic``.

Strategies can be chained: ``strategy=("counterfactual", "fictitious")`` tries them in
order for each relation. Every added fact carries its provenance; plans are confirmed by
an exact recount and topped up until the target is met (or reported as unreachable).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kgaug._index import path_index
from kgaug.kg import KnowledgeGraph
from kgaug.names import NameGenerator
from kgaug.records import Triple
from kgaug.schema import Schema, learn_schema

__all__ = ["STRATEGIES", "FactProposer", "GadgetFactory", "Template"]

STRATEGIES = ("fictitious", "counterfactual", "llm")

#: ``proposer(kg, relation, n)`` returns candidate ``(head, relation, tail)`` facts.
FactProposer = Callable[[KnowledgeGraph, str, int], Iterable[Triple | Sequence[str]]]


# ---------------------------------------------------------------------------- templates


@dataclass
class Template:
    """A small typed DAG of new facts, replicated to augment one relation.

    Nodes are fictitious entities (``slot=False``) or attachment points to existing
    entities of a type (``slot=True``; ``top=True`` restricts to well-connected ones).
    """

    label: str
    nodes: list[tuple[str | None, bool, bool]] = field(default_factory=list)
    edges: list[tuple[int, str, int]] = field(default_factory=list)

    def fresh(self, type_: str | None) -> int:
        """Add a fictitious entity node."""
        self.nodes.append((type_, False, False))
        return len(self.nodes) - 1

    def slot(self, type_: str | None, top: bool = False) -> int:
        """Add an attachment point to an existing entity of ``type_``."""
        self.nodes.append((type_, True, top))
        return len(self.nodes) - 1

    def edge(self, u: int, relation: str, v: int) -> None:
        """Add a fact ``u -relation-> v``."""
        self.edges.append((u, relation, v))

    def out_degree(self, u: int) -> int:
        """Facts out of node ``u``."""
        return sum(1 for a, _, _ in self.edges if a == u)

    @property
    def ambiguous(self) -> bool:
        """Some entity has two values of one relation (its 2-hop queries get two answers)."""
        seen: set[tuple[int, str]] = set()
        for u, r, _ in self.edges:
            if (u, r) in seen:
                return True
            seen.add((u, r))
        return False

    @property
    def heads(self) -> set[int]:
        """Nodes with outgoing facts."""
        return {u for u, _, _ in self.edges}


class GadgetFactory:
    """Builds :class:`Template` s for a graph, its schema and a local ratio ``c``."""

    def __init__(
        self, kg: KnowledgeGraph, schema: Schema, c: int, favour: set[str], deep: bool = False
    ) -> None:
        self.kg = kg
        self.deep = deep  # 3-hop targets: a hub's sources are hubs too (longer chains)
        self.schema = schema
        self.c = c
        self.favour = favour  # relations that gain most from extra chains (failing ones)
        idx = path_index(kg, True)
        dout = idx.out_groups[0]
        self.out_degree = np.bincount(idx.h, minlength=kg.num_entities).astype(np.int64)
        self.in_degree = np.bincount(idx.t, minlength=kg.num_entities).astype(np.int64)
        self.dout = dout
        codes = kg.entity_type_codes
        self.type_code = {t: i for i, t in enumerate(kg.types)}
        self.candidates: dict[str | None, npt.NDArray[np.int64]] = {}
        for t in {s.head_type for s in schema.relations.values()} | {
            s.tail_type for s in schema.relations.values()
        }:
            code = -1 if t is None else self.type_code.get(t, -2)
            self.candidates[t] = np.flatnonzero(codes == code).astype(np.int64)
        self._mean_out: dict[tuple[str | None, bool], dict[str, float]] = {}
        self._hub_ok: dict[tuple[str | None, int], bool] = {}

    # -- existing entities ---------------------------------------------------------------
    def top_candidates(self, type_: str | None) -> npt.NDArray[np.int64]:
        """Existing entities of ``type_`` with at least ``c`` outgoing facts, best first."""
        cand = self.candidates.get(type_, np.zeros(0, dtype=np.int64))
        deg = self.out_degree[cand]
        good = cand[deg >= self.c]
        return good[np.argsort(-self.out_degree[good], kind="stable")]

    def mean_out(self, type_: str | None, top: bool) -> dict[str, float]:
        """Average outgoing facts per relation of the slot candidates of a type."""
        key = (type_, top)
        if key not in self._mean_out:
            cand = self.top_candidates(type_) if top else self.candidates.get(type_)
            res: dict[str, float] = {}
            if cand is not None and len(cand):
                rows = self.dout[cand]
                sums = np.asarray(rows.sum(axis=0)).ravel()
                for j in np.flatnonzero(sums).tolist():
                    res[self.kg.relations[j]] = float(sums[j]) / len(cand)
            self._mean_out[key] = res
        return self._mean_out[key]

    def _tail_node(self, tpl: Template, relation: str) -> int:
        """Tail of a hub's outgoing fact.

        An existing entity for attribute-like relations whose values are shared by many
        heads (a birthplace, a country); a fictitious one otherwise (a spouse, a child),
        so that fictitious people do not acquire real relatives.
        """
        s = self.schema[relation]
        shared = s.tail_sharing >= (1.5 if s.tail_type != s.head_type else 3.0)
        if shared and len(self.candidates.get(s.tail_type, ())):
            return tpl.slot(s.tail_type)
        return tpl.fresh(s.tail_type)

    # -- hubs ----------------------------------------------------------------------------
    def _ordered(self, relations: list[str]) -> list[str]:
        """Favoured (failing) relations first, then the most common."""
        return sorted(relations, key=lambda r: (r not in self.favour, -self.schema[r].facts, r))

    def can_hub(self, type_: str | None, depth: int = 0) -> bool:
        """Whether a fictitious ``type_`` entity can get ``c`` payable incoming facts."""
        key = (type_, depth)
        if key in self._hub_ok:
            return self._hub_ok[key]
        ok = False
        ins = self.schema.into(type_)
        if ins and depth <= 3:
            if self.cap(type_) >= self.c:
                ok = True
            else:  # sources must be hubs themselves
                ok = any(self.can_hub(self.schema[p].head_type, depth + 1) for p in ins)
        self._hub_ok[key] = ok
        return ok

    def cap(self, type_: str | None) -> float:
        """Most outgoing facts one fictitious ``type_`` entity can get.

        One per relation leaving the type, and any number more if one of them is not
        functional (a second spouse). Hubs use distinct relations first: several values of
        one relation make its 2-hop queries ambiguous.
        """
        return self.schema.out_capacity(type_)

    def _has_hub_sources(self, type_: str | None) -> bool:
        sch = self.schema
        return any(self.can_hub(sch[p].head_type, 1) for p in sch.into(type_))

    def hub(
        self,
        tpl: Template,
        type_: str | None,
        *,
        depth: int = 0,
        out_req: Sequence[tuple[str, int | None]] = (),
        in_req: Sequence[tuple[str, int]] = (),
        fan_in: int | None = None,
        fan_out: int | None = None,
    ) -> int:
        """Add a hub of ``type_`` to ``tpl`` and return its node.

        ``out_req`` are required outgoing facts ``(relation, tail node or None)``;
        ``in_req`` required incoming ``(relation, count)`` from fictitious sources;
        ``fan_in`` / ``fan_out`` (default ``c``) the incoming and outgoing facts to reach.
        """
        sch = self.schema
        u = tpl.fresh(type_)
        used: set[str] = set()
        for rel, tail in out_req:
            tpl.edge(u, rel, self._tail_node(tpl, rel) if tail is None else tail)
            used.add(rel)
        # distinct relations first, so that a query (x, p, s) through the hub has a single
        # answer; repeat non-functional relations only if the fan-out needs it
        want_out = self.c if fan_out is None else max(fan_out, self.c)
        outs = self._ordered(sch.out_of(type_))
        for rel in outs:
            if tpl.out_degree(u) >= want_out:
                break
            if rel not in used:
                tpl.edge(u, rel, self._tail_node(tpl, rel))
                used.add(rel)
        multi = [r for r in outs if not sch[r].functional]
        i = 0
        while tpl.out_degree(u) < want_out and multi:
            rel = multi[i % len(multi)]
            i += 1
            tpl.edge(u, rel, self._tail_node(tpl, rel))
        leaves_ok = tpl.out_degree(u) >= self.c and not (
            self.deep and depth == 0 and self._has_hub_sources(type_)
        )
        # incoming facts: required ones, then the favoured relations into this type
        wanted: list[str] = []
        for rel, k in in_req:
            wanted += [rel] * k
        # relations that are not also leaving the hub first: a chain (x, p, p, y) counts
        # once for p although it needs two new p facts
        ins = sorted(self._ordered(sch.into(type_)), key=lambda p: p in used)
        if not leaves_ok:
            # sources must be hubs: prefer types whose hubs can use plain leaves (a
            # recursion through another low-capacity type grows exponentially)
            cheap = [p for p in ins if self.cap(sch[p].head_type) >= self.c]
            ins = cheap or [p for p in ins if self.can_hub(sch[p].head_type, depth + 1)]
        j = 0
        want_in = self.c if fan_in is None else max(fan_in, self.c)
        while len(wanted) < want_in and ins:
            wanted.append(ins[j % len(ins)])
            j += 1
        for rel in wanted:
            src_type = sch[rel].head_type
            if leaves_ok:
                tpl.edge(tpl.fresh(src_type), rel, u)
            else:
                self.hub(tpl, src_type, depth=depth + 1, out_req=[(rel, u)])
        return u

    # -- options for one relation ----------------------------------------------------------
    def options(self, relation: str) -> list[Template]:
        """Feasible templates that add payable facts of ``relation`` (best first later)."""
        s = self.schema[relation]
        c = self.c
        out: list[Template] = []
        if self.can_hub(s.head_type):
            for a in (c, 2 * c, 4 * c, 8 * c):
                tpl = Template(f"fictitious {s.head_type} hub: {a} facts in, '{relation}' out")
                self.hub(tpl, s.head_type, out_req=[(relation, None)], fan_in=a)
                out.append(tpl)
        cap = self.cap(s.tail_type)
        if cap >= c and self.schema.into(s.tail_type):
            for k in (c, 2 * c, 4 * c):
                for b in (c, 2 * c):
                    if cap < b:
                        continue
                    tpl = Template(
                        f"fictitious {s.tail_type} hub: {k} '{relation}' facts in, {b} out"
                    )
                    self.hub(tpl, s.tail_type, in_req=[(relation, k)], fan_out=b)
                    out.append(tpl)
        if len(self.top_candidates(s.tail_type)):
            tpl = Template(f"new {s.head_type} -> well-connected existing {s.tail_type}")
            tpl.edge(tpl.fresh(s.head_type), relation, tpl.slot(s.tail_type, top=True))
            out.append(tpl)
        return out

    def unreachable_reason(self, relation: str) -> str:
        """Why no template can raise ``relation`` (for plans)."""
        s = self.schema[relation]
        parts = []
        if not self.schema.into(s.head_type):
            parts.append(f"no relation ends at {s.head_type} entities, so nothing can precede it")
        elif not self.can_hub(s.head_type):
            parts.append(
                f"a fictitious {s.head_type} cannot get {self.c} incoming facts whose own "
                f"chains pay off (too few relations leave {s.head_type})"
            )
        if not self.schema.out_of(s.tail_type):
            parts.append(f"no relation starts at {s.tail_type} entities, so nothing can follow it")
        elif self.cap(s.tail_type) < self.c:
            parts.append(
                f"a {s.tail_type} entity can carry only {int(self.cap(s.tail_type))} "
                f"outgoing fact(s) (fewer than {self.c})"
            )
        if not len(self.top_candidates(s.tail_type)):
            parts.append(f"no existing {s.tail_type} has {self.c} or more outgoing facts")
        return (
            f"'{relation}' ({s.head_type} -> {s.tail_type}): "
            + "; ".join(parts)
            + ". Count undirected (inverse edges) or add relations that connect these types."
        )

    def payable(self, tpl: Template, phi_g: float) -> bool:
        """Whether every relation the template adds facts of gains ``phi_G`` per new fact.

        Inferred facts are counted once per relation, as phi counts them.
        """
        d_a, d_i = self.effect(tpl)
        return all(d_i.get(r, 0.0) >= phi_g * k for r, k in d_a.items())

    # -- effect of one template copy -----------------------------------------------------------
    def effect(self, tpl: Template) -> tuple[Counter[str], dict[str, float]]:
        """Estimated new atomic facts and 2-hop inferred facts per relation for one copy.

        The inferred counts are "involves r" counts; key ``""`` holds the number of new
        2-hop facts, each counted once.
        """
        d_atomic: Counter[str] = Counter()
        d_inferred: dict[str, float] = defaultdict(float)
        in_e: dict[int, list[tuple[int, str]]] = defaultdict(list)
        out_e: dict[int, list[tuple[str, int]]] = defaultdict(list)

        def chain(a: str, b: str, w: float = 1.0) -> None:
            d_inferred[""] += w
            d_inferred[a] += w
            if b != a:
                d_inferred[b] += w

        for u, r, v in tpl.edges:
            d_atomic[r] += 1
            for x, p in in_e[u]:
                if x != v:
                    chain(p, r)
            vtype, is_slot, top = tpl.nodes[v]
            if is_slot:
                for q, w in self.mean_out(vtype, top).items():
                    chain(r, q, w)
            else:
                for q, z in out_e[v]:
                    if z != u:
                        chain(r, q)
            out_e[u].append((r, v))
            in_e[v].append((u, r))
        return d_atomic, dict(d_inferred)


# ---------------------------------------------------------------------------- instantiation


class Instantiator:
    """Turns template copies into labelled facts with fresh names and spread slot choices."""

    def __init__(self, factory: GadgetFactory, seed: int, max_reuse: int) -> None:
        self.f = factory
        self.rng = np.random.default_rng(seed)
        self.names = NameGenerator(seed=seed, taken=factory.kg.entities)
        self.max_reuse = max_reuse
        self._order: dict[tuple[str | None, bool], npt.NDArray[np.int64]] = {}
        self._pos: dict[tuple[str | None, bool], int] = defaultdict(int)
        self.reuse: Counter[int] = Counter()
        self.facts: list[tuple[str, str, str]] = []
        self.types: dict[str, str | None] = {}

    def _pick(self, type_: str | None, top: bool) -> int | None:
        key = (type_, top)
        if key not in self._order:
            cand = self.f.top_candidates(type_) if top else self.f.candidates.get(type_)
            cand = np.zeros(0, dtype=np.int64) if cand is None else cand
            # spread plain slots over all candidates; top slots in degree order
            self._order[key] = cand if top else cand[self.rng.permutation(len(cand))]
        order = self._order[key]
        for _ in range(len(order)):
            e = int(order[self._pos[key] % len(order)])
            self._pos[key] += 1
            if not top or self.reuse[e] < self.max_reuse:
                self.reuse[e] += 1
                return e
        return None

    def add(self, tpl: Template, copies: int, max_facts: int | None = None) -> int:
        """Instantiate up to ``copies`` whole copies (and at most ``max_facts`` facts).

        Returns how many copies were made: fewer when the existing entities a template
        attaches to are used up (``max_reuse``) or the fact budget is reached.
        """
        ents = self.f.kg.entities
        heads = tpl.heads
        made = 0
        for _ in range(copies):
            if max_facts is not None and len(tpl.edges) > max_facts - made * len(tpl.edges):
                break
            labels: list[str] = []
            new_types: dict[str, str | None] = {}
            for node, (type_, is_slot, top) in enumerate(tpl.nodes):
                if is_slot:
                    e = self._pick(type_, top)
                    if e is None:
                        return made
                    labels.append(ents[e])
                else:
                    # a node with outgoing facts must be a new entity, even for a Date
                    # (years may otherwise reuse an existing value as a tail)
                    name = self.names.name(type_, unique=node in heads or None)
                    labels.append(name)
                    if not self.f.kg.has_entity(name):
                        new_types[name] = type_
            self.facts.extend((labels[u], r, labels[v]) for u, r, v in tpl.edges)
            self.types.update(new_types)
            made += 1
        return made


# ---------------------------------------------------------------------------- counterfactual


class NewEdges:
    """Pairs added so far, so that new facts are checked against each other too."""

    def __init__(self) -> None:
        self.valued: set[tuple[int, int]] = set()  # (head, relation) given a functional value
        self.pairs: set[tuple[int, int]] = set()
        self.out: dict[int, set[int]] = defaultdict(set)
        self.into: dict[int, set[int]] = defaultdict(set)

    def add(self, h: int, t: int) -> None:
        self.pairs.add((h, t))
        self.out[h].add(t)
        self.into[t].add(h)


def _closes_cycle(
    h: int,
    t: int,
    hops: int,
    exists: Callable[[int, int], bool],
    out_of: Callable[[int], Iterable[int]],
    new: NewEdges,
) -> bool:
    """Whether a new edge ``h -> t`` closes a cycle of length 2 (or 3 for ``hops >= 3``)."""
    if exists(t, h) or (t, h) in new.pairs:
        return True
    if hops < 3:
        return False
    mids = set(out_of(t)) | new.out.get(t, set())
    return any(exists(x, h) or (x, h) in new.pairs for x in mids)


def counterfactual_facts(
    factory: GadgetFactory,
    relation: str,
    surplus_needed: float,
    phi_g: float,
    *,
    hops: int,
    max_reuse: int,
    new: NewEdges,
    taken: set[tuple[int, int, int]],
) -> list[tuple[int, int, int]]:
    """Facts ``(h, relation, t)`` between existing entities with local ratio ``>= c``.

    Heads with many incoming facts are paired with tails with many outgoing ones; a
    functional relation never gets a second value, and no new fact closes a cycle of
    length 2 (or 3 when ``hops >= 3``) with the graph or with the other new facts.
    """
    kg, schema, c = factory.kg, factory.schema, factory.c
    s = schema[relation]
    r = kg.relation_id(relation)
    indeg, outdeg = factory.in_degree, factory.out_degree
    heads = factory.candidates.get(s.head_type, np.zeros(0, dtype=np.int64))
    if s.functional:
        has = np.zeros(kg.num_entities, dtype=bool)
        has[kg.head_ids[kg.relation_ids == r]] = True
        heads = heads[~has[heads]]
    tails = factory.candidates.get(s.tail_type, np.zeros(0, dtype=np.int64))
    k = 300
    heads = heads[np.argsort(-indeg[heads], kind="stable")][:k]
    tails = tails[np.argsort(-outdeg[tails], kind="stable")][:k]
    if not len(heads) or not len(tails):
        return []
    hh = np.repeat(heads, len(tails))
    tt = np.tile(tails, len(heads))
    score = indeg[hh] + outdeg[tt]
    keep = (score >= c) & (hh != tt)
    hh, tt, score = hh[keep], tt[keep], score[keep]
    P = path_index(kg, True).pairs
    mat = P.matrix

    def exists(a: int, b: int) -> bool:
        return bool(mat[a, b])

    def out_of(a: int) -> Iterable[int]:
        return [int(x) for x in mat.indices[mat.indptr[a] : mat.indptr[a + 1]]]

    has_r = {
        (h, t)
        for h, rr, t in zip(kg.head_ids.tolist(), kg.relation_ids.tolist(), kg.tail_ids.tolist())
        if rr == r
    }
    order = np.argsort(-score, kind="stable")
    out: list[tuple[int, int, int]] = []
    used_head: Counter[int] = Counter()
    used_tail: Counter[int] = Counter()
    gained = 0.0
    for i in order.tolist():
        if gained >= surplus_needed:
            break
        h, t = int(hh[i]), int(tt[i])
        if (h, r, t) in taken or (h, t) in has_r:
            continue
        if used_tail[t] >= max_reuse or used_head[h] >= max_reuse:
            continue
        if s.functional and (h, r) in new.valued:
            continue
        if _closes_cycle(h, t, hops, exists, out_of, new):
            continue
        if s.functional:
            new.valued.add((h, r))
        used_head[h] += 1
        used_tail[t] += 1
        taken.add((h, r, t))
        new.add(h, t)
        out.append((h, r, t))
        gained += float(score[i]) - phi_g
    return out


def llm_facts(
    factory: GadgetFactory,
    relation: str,
    proposer: FactProposer,
    n: int,
    *,
    hops: int,
    new: NewEdges,
    labels: dict[str, int],
) -> tuple[list[tuple[str, str, str]], dict[str, str | None], int]:
    """Proposed facts that pass the same filters as the other strategies.

    Types must match the relation's learned domain and range (new entities get them), a
    functional relation gets no second value (also among the proposals), duplicates and
    facts with fewer than ``c`` chains are rejected, and no fact closes a short cycle.
    ``labels`` maps the labels of entities created so far (existing and new) to ids, new
    ones numbered after the graph's. Returns accepted facts, types of new entities, and
    the number rejected.
    """
    kg, schema, c = factory.kg, factory.schema, factory.c
    s = schema[relation]
    r = kg.relation_id(relation)
    indeg, outdeg = factory.in_degree, factory.out_degree
    valued = set(kg.head_ids[kg.relation_ids == r].tolist()) if s.functional else set()
    P = path_index(kg, True).pairs
    mat = P.matrix
    n_old = kg.num_entities

    def exists(a: int, b: int) -> bool:
        return a < n_old and b < n_old and bool(mat[a, b])

    def out_of(a: int) -> Iterable[int]:
        return [int(x) for x in mat.indices[mat.indptr[a] : mat.indptr[a + 1]]] if a < n_old else []

    accepted: list[tuple[str, str, str]] = []
    types: dict[str, str | None] = {}
    rejected = 0
    seen: set[tuple[str, str, str]] = set()
    for item in proposer(kg, relation, n):
        h, rel, t = item.as_tuple() if isinstance(item, Triple) else tuple(item)
        if rel != relation or h == t or (h, rel, t) in seen or (h, rel, t) in kg:
            rejected += 1
            continue
        known_h, known_t = kg.has_entity(h), kg.has_entity(t)
        type_ok = (not known_h or kg.entity_type(h) == s.head_type) and (
            not known_t or kg.entity_type(t) == s.tail_type
        )
        hid = labels.setdefault(h, len(labels)) if type_ok else -1
        tid = labels.setdefault(t, len(labels)) if type_ok else -1
        ratio = (indeg[hid] if known_h else 0) + (outdeg[tid] if known_t else 0)
        if (
            not type_ok
            or ratio < c
            or hid in valued
            or _closes_cycle(hid, tid, hops, exists, out_of, new)
        ):
            rejected += 1
            continue
        if s.functional:
            valued.add(hid)
        new.add(hid, tid)
        seen.add((h, rel, t))
        accepted.append((h, rel, t))
        if not known_h:
            types[h] = s.head_type
        if not known_t:
            types[t] = s.tail_type
    return accepted, types, rejected


def copies_needed(
    inferred: float, atomic: float, phi_g: float, d_atomic: float, d_inferred: float, safety: float
) -> int:
    """Template copies so that ``(I + n dI) / (A + n dA) >= phi_G`` (with a safety factor)."""
    surplus = d_inferred - phi_g * d_atomic
    need = phi_g * atomic - inferred
    if need <= 0:
        return 0
    if surplus <= 0:
        return -1
    return max(1, math.ceil(need / surplus * (1.0 + safety)))


def learned_schema(kg: KnowledgeGraph) -> Schema:
    """The schema used for augmentation (learned from the real facts)."""
    real = kg.subgraph(provenance=["real"]) if kg.provenance_counts()["real"] else kg
    return learn_schema(real if real.num_facts else kg)

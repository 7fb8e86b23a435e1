"""Templates of new facts: small typed DAGs whose every node keeps a role of the real data.

A new fact ``(u, s, y)`` creates the 2-hop facts ``(x, p, s, y)`` for every in-edge
``x -p-> u`` and ``(u, s, q, z)`` for every out-edge ``y -q-> z``. Facts are added in small
*templates*, replicated as often as a relation needs. A template is *payable* when every
relation it adds facts of gains at least ``phi_G`` inferred facts per new fact (counted
once per relation, as phi counts them): such a template cannot pull a relation below the
threshold.

Every node of a template is either a *fresh* entity of one role (see
:mod:`kgaug.schema`) or a *slot*: an existing entity of a role, attached as a tail only.
A fresh entity gets only sides its role has, so a fictitious country is the tail of
``country`` and ``country of citizenship`` and never the head of ``country``, and a
fictitious film is never also a book. The main shape is the *hub*: a fresh entity with at
least ``c`` incoming facts (from fresh sources) and at least ``c`` outgoing facts (to
existing or fresh entities), which gives ``in x out`` chains for ``in + out`` facts. When a
role can hold fewer than ``c`` outgoing facts, the sources are hubs themselves.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kgaug._index import path_index
from kgaug.kg import KnowledgeGraph
from kgaug.schema import Role, Schema

__all__ = ["GadgetFactory", "Template", "copies_needed"]

IntArray = npt.NDArray[np.int64]

#: node of a template: (role id, is an existing entity, restricted to well-connected ones)
Node = tuple[int, bool, bool]


@dataclass
class Template:
    """A small DAG of new facts, replicated to augment one relation.

    Nodes are fresh entities of a role (``slot=False``) or attachment points to existing
    entities of a role (``slot=True``; ``top=True`` restricts to well-connected ones).
    """

    label: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[int, str, int]] = field(default_factory=list)
    fans: tuple[int, int] = (0, 0)  # (facts into, facts out of) the hub, when it has one
    witness: str | None = None  # the real entity whose kinds of facts the hub copies

    def fresh(self, role: int) -> int:
        """Add a fresh entity node of ``role``."""
        self.nodes.append((role, False, False))
        return len(self.nodes) - 1

    def slot(self, role: int, top: bool = False) -> int:
        """Add an attachment point to an existing entity of ``role``."""
        self.nodes.append((role, True, top))
        return len(self.nodes) - 1

    def edge(self, u: int, relation: str, v: int) -> None:
        """Add a fact ``u -relation-> v``."""
        self.edges.append((u, relation, v))

    def out_degree(self, u: int) -> int:
        """Facts out of node ``u``."""
        return sum(1 for a, _, _ in self.edges if a == u)

    def count(self, u: int, relation: str) -> int:
        """Facts of ``relation`` out of node ``u``."""
        return sum(1 for a, r, _ in self.edges if a == u and r == relation)

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

    @property
    def new_entities(self) -> int:
        """Fresh entities per copy."""
        return sum(1 for _, is_slot, _ in self.nodes if not is_slot)


class GadgetFactory:
    """Builds role-respecting templates for a graph, its schema and a local ratio ``c``."""

    def __init__(
        self, kg: KnowledgeGraph, schema: Schema, c: int, favour: set[str], deep: bool = False
    ) -> None:
        self.kg = kg
        self.deep = deep  # 3-hop targets: a hub's sources are hubs too (longer chains)
        self.schema = schema
        self.c = c
        self.favour = favour  # relations that gain most from extra chains (failing ones)
        idx = path_index(kg, True)
        self.dout = idx.out_groups[0]
        self.out_degree = np.bincount(idx.h, minlength=kg.num_entities).astype(np.int64)
        self.in_degree = np.bincount(idx.t, minlength=kg.num_entities).astype(np.int64)
        self.role_ids = schema.role_ids(kg)
        self.roles: tuple[Role, ...] = schema.roles
        order = np.argsort(self.role_ids, kind="stable")
        bounds = np.searchsorted(self.role_ids[order], np.arange(len(self.roles) + 1))
        self.members: list[IntArray] = [
            np.sort(order[bounds[k] : bounds[k + 1]]).astype(np.int64)
            for k in range(len(self.roles))
        ]
        self._mean_out: dict[tuple[int, bool], dict[str, float]] = {}
        self._hub_ok: dict[tuple[int, int], bool] = {}
        self._witness: dict[tuple[int, tuple[int, ...]], int | None] = {}
        self._estimates: dict[int, tuple[Counter[str], dict[str, float]]] = {}
        self.counting: tuple[int | tuple[int, ...], str, bool] = (2, "facts", True)
        self._base_report: object | None = None

    # -- roles ---------------------------------------------------------------------------
    def role_name(self, role: int) -> str:
        """Readable name of a role id."""
        return self.roles[role].name

    def out_of(self, role: int, witness: int | None = None) -> list[str]:
        """Relations a role's entities may be heads of (with facts).

        An entity's own properties (its head sides) are free within its role; only what
        others say of it (its tail sides) must come from one witness.
        """
        return [r for r in self.roles[role].heads_of if self.schema[r].facts]

    def into(self, role: int, witness: int | None = None) -> list[str]:
        """Relations a role's entities (or the ``witness``) may be tails of (with facts)."""
        rels = [r for r in self.roles[role].tails_of if self.schema[r].facts]
        if witness is None:
            return rels
        have = set(self.schema.profile(witness))
        return [r for r in rels if self.schema.side_index(r, "tail") in have]

    def in_cap(self, relation: str) -> int | None:
        """Most facts of ``relation`` one new entity may receive (``None``: no limit).

        Relations within one role (spouse, child, sibling: person to person) are personal:
        no new entity receives more of them than some real one does. Across roles (a
        director's films, a city's births) a new entity may be as popular as a hub needs.
        """
        s = self.schema[relation]
        if self._kinds and s.head_roles and s.tail_roles and s.head_roles[0] == s.tail_roles[0]:
            return max(1, s.max_in)
        return None

    def witness(self, role: int, need: Sequence[tuple[str, str]] = ()) -> int | None:
        """The real entity of ``role`` with the most kinds of incoming facts and all of ``need``.

        What others say of a new entity (its tail sides: "directed by", "mother of") must
        all be said of one real entity of its role, its *witness*: a fictitious person is
        never both somebody's mother and somebody's father. Its own properties (head
        sides) only need its role. Among the witnesses the one with the most incoming
        relations is chosen (ties: the first).
        """
        cols = tuple(sorted(self.schema.side_index(r, side) for r, side in need if side == "tail"))
        key = (role, cols)
        if key not in self._witness:
            cand = self.schema.witnesses(cols, role)
            best = None
            if len(cand):
                R = self.kg.num_relations
                B = self.schema._profiles
                assert B is not None
                tails = np.asarray(B[cand][:, 1 : 2 * R : 2].sum(axis=1)).ravel()
                i = int(np.argmax(tails))
                best = int(cand[i])
            self._witness[key] = best
        return self._witness[key]

    def head_role(self, relation: str, hub: bool = False, depth: int = 0) -> int | None:
        """The most common head role of ``relation`` (one that can be a hub if ``hub``)."""
        for role in self.schema.head_roles(relation):
            if not hub or self.can_hub(role.id, depth):
                return role.id
        return None

    def tail_role(self, relation: str) -> int | None:
        """The most common tail role of ``relation``."""
        roles = self.schema.tail_roles(relation)
        return roles[0].id if roles else None

    @property
    def _kinds(self) -> bool:
        """Whether the data distinguishes kinds of entities (more than one role)."""
        return len(self.roles) > 1

    def repeat_cap(self, relation: str) -> int:
        """Most facts of ``relation`` one new head may get.

        1 if functional; else the most that any real head has (no fictitious person gets
        more spouses than a real one), or up to ``8 c`` in a graph with a single role
        (random and synthetic graphs, where no kind of entity is distinguished).
        """
        s = self.schema[relation]
        if s.functional:
            return 1
        return max(1, s.max_out) if self._kinds else max(s.max_out, 8 * self.c)

    # -- existing entities ---------------------------------------------------------------
    def candidates(self, role: int) -> IntArray:
        """Existing entities of ``role``."""
        return self.members[role]

    def top_candidates(self, role: int) -> IntArray:
        """Existing entities of ``role`` with at least ``c`` outgoing facts, best first."""
        cand = self.members[role]
        good = cand[self.out_degree[cand] >= self.c]
        return good[np.argsort(-self.out_degree[good], kind="stable")]

    def mean_out(self, role: int, top: bool) -> dict[str, float]:
        """Average outgoing facts per relation of the slot candidates of a role."""
        key = (role, top)
        if key not in self._mean_out:
            cand = self.top_candidates(role) if top else self.candidates(role)
            res: dict[str, float] = {}
            if len(cand):
                sums = np.asarray(self.dout[cand].sum(axis=0)).ravel()
                for j in np.flatnonzero(sums).tolist():
                    res[self.kg.relations[j]] = float(sums[j]) / len(cand)
            self._mean_out[key] = res
        return self._mean_out[key]

    def _tail_node(self, tpl: Template, relation: str) -> int:
        """Tail of a hub's outgoing fact.

        An existing entity for attribute-like relations whose values are shared by many
        heads (a birthplace, a country); a fresh one otherwise (a spouse, a child), so
        that fictitious people do not acquire real relatives.
        """
        s = self.schema[relation]
        role = self.tail_role(relation)
        assert role is not None
        head = self.head_role(relation)
        shared = s.tail_sharing >= (1.5 if role != head else 3.0)
        if shared and len(self.members[role]):
            return tpl.slot(role)
        return tpl.fresh(role)

    # -- hubs ----------------------------------------------------------------------------
    def _ordered(self, relations: list[str]) -> list[str]:
        """Favoured (failing) relations first, then the most common."""
        return sorted(relations, key=lambda r: (r not in self.favour, -self.schema[r].facts, r))

    def cap(self, role: int, witness: int | None = None) -> int:
        """Most outgoing facts one fresh entity of ``role`` (modeled on ``witness``) can get.

        One per functional relation, and for the others as many as some real head has
        (no fictitious person gets more spouses than any real one).
        """
        if witness is None:
            witness = self.witness(role)
        return sum(self.repeat_cap(r) for r in self.out_of(role, witness))

    def can_hub(self, role: int, depth: int = 0) -> bool:
        """Whether a fresh ``role`` entity can get ``c`` payable incoming facts."""
        key = (role, depth)
        if key in self._hub_ok:
            return self._hub_ok[key]
        self._hub_ok[key] = False  # no recursion through itself
        ok = False
        w = self.witness(role)
        ins = self.into(role, w) if w is not None else []
        if ins and depth <= 3:
            if self.cap(role, w) >= self.c:
                ok = True
            else:  # sources must be hubs themselves
                ok = any(self.head_role(p, hub=True, depth=depth + 1) is not None for p in ins)
        self._hub_ok[key] = ok
        return ok

    def _has_hub_sources(self, role: int, witness: int | None) -> bool:
        return any(
            self.head_role(p, hub=True, depth=1) is not None for p in self.into(role, witness)
        )

    def hub(
        self,
        tpl: Template,
        role: int,
        *,
        depth: int = 0,
        out_req: Sequence[tuple[str, int | None]] = (),
        in_req: Sequence[tuple[str, int]] = (),
        fan_in: int | None = None,
        fan_out: int | None = None,
        weak: bool = False,
        distinct: bool = False,
    ) -> int:
        """Add a hub of ``role`` to ``tpl`` and return its node.

        ``out_req`` are required outgoing facts ``(relation, tail node or None)``;
        ``in_req`` required incoming ``(relation, count)`` from fresh sources;
        ``fan_in`` / ``fan_out`` (default ``c``) the incoming and outgoing facts to reach.
        ``weak``: plain leaf sources even when the hub has fewer than ``c`` outgoing facts
        (its incoming facts then do not pay for themselves). ``distinct``: never repeat an
        outgoing relation (every query through the hub has one answer).
        """
        need = [(r, "head") for r, _ in out_req] + [(r, "tail") for r, _ in in_req]
        w = self.witness(role, need)
        if w is None:
            raise ValueError(f"no real {self.role_name(role)} has all of {need}")
        if depth == 0:
            tpl.witness = self.kg.entities[w]
        u = tpl.fresh(role)
        used: Counter[str] = Counter()
        for rel, tail in out_req:
            tpl.edge(u, rel, self._tail_node(tpl, rel) if tail is None else tail)
            used[rel] += 1
        # distinct relations first, so that a query (x, p, s) through the hub has a single
        # answer; repeat non-functional relations (up to what real heads have) if needed
        want_out = self.c if fan_out is None else max(fan_out, self.c)
        outs = self._ordered(self.out_of(role, w))
        for rel in outs:
            if tpl.out_degree(u) >= want_out:
                break
            if not used[rel]:
                tpl.edge(u, rel, self._tail_node(tpl, rel))
                used[rel] += 1
        multi = [] if distinct else [r for r in outs if used[r] < self.repeat_cap(r)]
        while tpl.out_degree(u) < want_out and multi:
            multi = [r for r in multi if used[r] < self.repeat_cap(r)]
            if not multi:
                break
            rel = min(multi, key=lambda r: (used[r], outs.index(r)))
            tpl.edge(u, rel, self._tail_node(tpl, rel))
            used[rel] += 1
        leaves_ok = weak or (
            tpl.out_degree(u) >= self.c
            and not (self.deep and depth == 0 and self._has_hub_sources(role, w))
        )
        # incoming facts: required ones, then the favoured relations into this role
        wanted: list[str] = []
        for rel, k in in_req:
            cap = self.in_cap(rel)
            wanted += [rel] * (k if cap is None else min(k, cap))
        # relations that are not also leaving the hub first: a chain (x, p, p, y) counts
        # once for p although it needs two new p facts
        ins = sorted(self._ordered(self.into(role, w)), key=lambda p: p in used)
        if not leaves_ok:
            # sources must be hubs: prefer roles whose hubs can use plain leaves (a
            # recursion through another low-capacity role grows exponentially)
            cheap = [
                p
                for p in ins
                if (h := self.head_role(p, hub=True, depth=depth + 1)) is not None
                and self.cap(h) >= self.c
            ]
            ins = cheap or [
                p for p in ins if self.head_role(p, hub=True, depth=depth + 1) is not None
            ]
        want_in = self.c if fan_in is None else max(fan_in, self.c)
        got: Counter[str] = Counter(wanted)
        while len(wanted) < want_in:
            open_ = [p for p in ins if (cap := self.in_cap(p)) is None or got[p] < cap]
            if not open_:
                break
            p = min(open_, key=lambda x: (got[x], ins.index(x)))
            wanted.append(p)
            got[p] += 1
        for rel in wanted:
            src = None if leaves_ok else self.head_role(rel, hub=True, depth=depth + 1)
            if src is None:  # a plain leaf source (also when no source role can hub)
                leaf = self.head_role(rel)
                assert leaf is not None
                tpl.edge(tpl.fresh(leaf), rel, u)
            else:
                self.hub(tpl, src, depth=depth + 1, out_req=[(rel, u)])
        if depth == 0:
            tpl.fans = (len(wanted), tpl.out_degree(u))
        return u

    # -- options for one relation ----------------------------------------------------------
    def options(self, relation: str) -> list[Template]:
        """Feasible templates that add facts of ``relation`` (ranked by the planner)."""
        c = self.c
        out: list[Template] = []
        seen: set[tuple[str, tuple[int, int]]] = set()

        def keep(tpl: Template, kind: str) -> None:
            if (kind, tpl.fans) not in seen:
                seen.add((kind, tpl.fans))
                out.append(tpl)

        fans = (c, 2 * c, 4 * c, 8 * c)
        for head in self.schema.head_roles(relation):
            w = self.witness(head.id, [(relation, "head")])
            if w is None or not self.into(head.id, w):
                continue
            # a weak hub (too few outgoing facts for its incoming ones to pay) only when no
            # proper one exists: its incoming relations' phi moves towards its fan-out
            weak = not self.can_hub(head.id)
            for a in fans:
                tpl = Template("")
                self.hub(tpl, head.id, out_req=[(relation, None)], fan_in=a, weak=weak)
                tpl.label = (
                    f"fictitious {head.name} hub like '{tpl.witness}': {tpl.fans[0]} facts in, "
                    f"'{relation}' and {tpl.fans[1] - 1} more out"
                )
                keep(tpl, f"head:{head.id}")
        tail = self.tail_role(relation)
        if tail is None:
            return out
        w = self.witness(tail, [(relation, "tail")])
        cap = self.cap(tail, w) if w is not None else 0
        if w is not None and cap >= c and self.into(tail, w):
            for k in fans:
                for b in sorted({c, 2 * c, 4 * c, min(cap, 8 * c)}):
                    if b < c or cap < b:
                        continue
                    tpl = Template("")
                    self.hub(tpl, tail, in_req=[(relation, k)], fan_out=b)
                    tpl.label = (
                        f"fictitious {self.role_name(tail)} hub like '{tpl.witness}': "
                        f"{tpl.fans[0]} '{relation}' facts in, {tpl.fans[1]} out"
                    )
                    keep(tpl, f"tail:{tail}")
        head_id = self.head_role(relation)
        if head_id is not None and len(self.top_candidates(tail)):
            tpl = Template(
                f"new {self.role_name(head_id)} -> well-connected existing {self.role_name(tail)}"
            )
            tpl.edge(tpl.fresh(head_id), relation, tpl.slot(tail, top=True))
            out.append(tpl)
        return out

    def query_hubs(self) -> list[Template]:
        """Templates that add many 2-hop queries with one answer per new fact (dataset targets).

        Per role, a hub modeled on the witness with the most incoming relations times
        distinct outgoing ones: every outgoing relation once (so each query through the
        hub has one answer), fan-in ``c`` to ``8c`` from fresh sources.
        """
        out: list[Template] = []
        c = self.c
        for role in self.roles:
            w = self.witness(role.id)
            if w is None or not self.into(role.id, w):
                continue
            b = len(self.out_of(role.id, w))
            if b == 0:
                continue
            seen: set[tuple[int, int]] = set()
            for a in (c, 2 * c, 4 * c, 8 * c):
                tpl = Template("")
                self.hub(tpl, role.id, fan_in=a, fan_out=b, weak=True, distinct=True)
                if tpl.fans in seen:
                    continue
                seen.add(tpl.fans)
                tpl.label = (
                    f"fictitious {role.name} hub like '{tpl.witness}': {tpl.fans[0]} facts in, "
                    f"{tpl.fans[1]} distinct out (dataset target)"
                )
                out.append(tpl)
        return out

    def unique_queries(self, tpl: Template) -> float:
        """2-hop queries ``(x, p, q)`` of one copy that have exactly one answer (estimate).

        Through fresh middle nodes where ``x`` has one ``p`` fact and the middle one ``q``
        fact; through existing tails, one per functional relation they have (on average).
        """
        per: Counter[tuple[int, str]] = Counter((u, r) for u, r, _ in tpl.edges)
        n = 0.0
        for x, p, u in tpl.edges:
            if per[(x, p)] != 1:
                continue
            role, is_slot, top = tpl.nodes[u]
            if is_slot:
                n += sum(
                    min(w, 1.0)
                    for q, w in self.mean_out(role, top).items()
                    if self.schema[q].functional
                )
                continue
            for u2, q, v in tpl.edges:
                if u2 == u and v != x and per[(u, q)] == 1:
                    n += 1
        return n

    def unreachable_reason(self, relation: str) -> str:
        """Why no template can raise ``relation`` (for plans)."""
        heads = self.schema.head_roles(relation)
        tail = self.tail_role(relation)
        parts = []
        if not heads or not any(self.into(h.id) for h in heads):
            names = " / ".join(h.name for h in heads) or "its heads"
            parts.append(f"no relation ends at {names}, so nothing can precede it")
        elif not any(self.can_hub(h.id) for h in heads):
            parts.append(
                "a fictitious "
                + " / ".join(h.name for h in heads)
                + f" cannot get {self.c} incoming facts whose own chains pay off (its role "
                "has too few outgoing relations)"
            )
        else:
            hops, mode, directed = self.counting
            hop = "+".join(map(str, hops)) if isinstance(hops, tuple) else str(hops)
            parts.append(
                "fictitious "
                + " / ".join(h.name for h in heads if self.can_hub(h.id))
                + f" hubs do not raise it enough in {hop}-hop "
                + ("directed" if directed else "undirected")
                + f" {mode} counting"
            )
        if tail is None or not self.out_of(tail):
            parts.append(
                f"no relation starts at {self.role_name(tail) if tail is not None else 'its tails'}"
                ", so nothing can follow it"
            )
        elif self.cap(tail) < self.c:
            outs = ", ".join(self.out_of(tail))
            parts.append(
                f"a {self.role_name(tail)} entity can carry only {self.cap(tail)} outgoing "
                f"fact(s) ({outs}; fewer than {self.c})"
            )
        if tail is not None and not len(self.top_candidates(tail)):
            parts.append(f"no existing {self.role_name(tail)} has {self.c} or more outgoing facts")
        s = self.schema[relation]
        return (
            f"'{relation}' ({s.head_type} -> {s.tail_type}): "
            + "; ".join(parts)
            + ". Count undirected (inverse edges) or add relations that connect these roles."
        )

    def payable(self, tpl: Template, phi_g: float) -> bool:
        """Whether every relation the template adds facts of gains ``phi_G`` per new fact."""
        d_a, d_i = self.effect(tpl)
        return all(d_i.get(r, 0.0) >= phi_g * k for r, k in d_a.items())

    # -- effect of one template copy -----------------------------------------------------------
    def estimate(self, tpl: Template) -> tuple[Counter[str], dict[str, float]]:
        """Effect of one copy in the plan's counting mode (cached per template).

        2-hop directed counts use the analytical :meth:`effect`; other modes (3 hops,
        inverse edges) measure it: three copies are added to the graph and every
        relation is counted again exactly, so the estimate is right in any mode.
        """
        key = id(tpl)
        if key in self._estimates:
            return self._estimates[key]
        hops, mode, directed = self.counting
        simple = directed and (hops == 2 or hops == (2,))
        if simple:
            res = self.effect(tpl)
        else:
            from kgaug.augmentation.instantiate import Instantiator
            from kgaug.stats import PhiReport, compute_phi

            if self._base_report is None:
                self._base_report = compute_phi(self.kg, hops, mode, directed, progress=False)  # type: ignore[arg-type]
            base = self._base_report
            assert isinstance(base, PhiReport)
            k = 3
            inst = Instantiator(self, seed=987_654, max_reuse=10**9)
            made = inst.add(tpl, k)
            d_a: Counter[str] = Counter(r for _, r, _ in tpl.edges)
            if not made:
                res = (d_a, {})
            else:
                kg1 = self.kg.add_facts(
                    inst.facts, entity_types={e: t for e, t in inst.types.items() if t is not None}
                )
                rep = compute_phi(kg1, hops, mode, directed, progress=False)  # type: ignore[arg-type]
                d_i = {
                    r: (rep.relations[r].inferred - base.relations[r].inferred) / made
                    for r in self.kg.relations
                }
                d_i[""] = (rep.inferred - base.inferred) / made
                res = (d_a, d_i)
        self._estimates[key] = res
        return res

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
            role, is_slot, top = tpl.nodes[v]
            if is_slot:
                for q, w in self.mean_out(role, top).items():
                    chain(r, q, w)
            else:
                for q, z in out_e[v]:
                    if z != u:
                        chain(r, q)
            out_e[u].append((r, v))
            in_e[v].append((u, r))
        return d_atomic, dict(d_inferred)


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

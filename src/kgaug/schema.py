"""What the data says about its relations and entities: types, functionality and roles.

Augmentation must respect what the real facts say. A synthetic ``director`` fact needs a
film as head and a person who directs as tail; a functional relation (one value per head,
such as ``date of birth``) never gets a second, contradicting value; and a city must never
become somebody's country of citizenship, although a city and a country are both
``Location``.

Roles
-----
An entity's kind shows in what the graph says about it: the relations it is a head and a
tail of, its *sides* (``head of 'country'`` for a city, ``tail of 'country'`` for a
country). :func:`learn_schema` learns roles from the real facts, per declared type (or for
untyped graphs), in three steps:

1. **Exclusive sides.** Two sides are *exclusive* when no entity (or almost none: at most
   5% of the expected number) plays both although independence would predict several:
   the Poisson probability of seeing so few co-occurrences is below 5% (none seen where
   at least 3 are expected). A city is the
   head of ``country`` and never its tail, a film is the head of ``director`` and never
   the tail of ``based on``.
2. **Role cores.** Sides that are exclusive with some other side characterize roles. They
   are grouped greedily, most common first: a side joins the role it co-occurs with most
   among those it is not exclusive with, or starts a new one.
3. **Members.** Every entity joins the role of its characterizing sides (the rarer a side,
   the more it says), or,
   if it has none, the one role whose sides hold all of its own; the others form the
   type's ``(other)`` role. A role's sides are those its members have, minus any that are
   exclusive with its characterizing ones.

A graph without exclusive sides (a random or synthetic graph) has one role per type, with
every side its entities have: roles then add no constraint beyond the types.

Every synthetic fact keeps both endpoints inside a role the relation's real facts give
them: a real entity only takes a side its role has (:meth:`Schema.allows`), and a new
entity plays exactly one role and only that role's sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict
from scipy.stats import poisson

from kgaug._table import html_table, text_table
from kgaug.errors import UnknownLabelError
from kgaug.kg import KnowledgeGraph

__all__ = ["RelationSchema", "Role", "Schema", "Side", "learn_schema"]

IntArray = npt.NDArray[np.int64]

#: A relation side: ``(relation, "head")`` or ``(relation, "tail")``.
Side = tuple[str, str]

#: Two sides are exclusive when they co-occur at most this share of the expected count...
EXCLUSIVE_SHARE = 0.05
#: ... and that few co-occurrences are this unlikely under independence (Poisson): with
#: none seen, independence must predict at least 3.
EXCLUSIVE_P = 0.05
#: At most this many sides per type are tested for exclusivity (the most common ones).
_MAX_TESTED_SIDES = 3000


class Role(BaseModel):
    """One role: a kind of entity, learned from the relations its entities are heads and tails of.

    Attributes
    ----------
    id : int
        Index in :attr:`Schema.roles`.
    name : str
        Readable name: the type and the characterizing side, e.g.
        ``"Location (head of 'country')"``; just the type when the type has one role.
    type : str or None
        Declared entity type (``None``: untyped).
    members : int
        Real entities in the role.
    heads_of, tails_of : tuple of str
        Relations the role's entities may be heads / tails of, most common first.
    support : dict of str to int
        Members per side, keyed ``"head:<relation>"`` / ``"tail:<relation>"``.
    key : str or None
        The characterizing side (``None`` for a type's single or ``(other)`` role).
    examples : tuple of str
        A few member labels.
    """

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    type: str | None
    members: int
    heads_of: tuple[str, ...]
    tails_of: tuple[str, ...]
    support: dict[str, int]
    key: str | None = None
    examples: tuple[str, ...] = ()

    def has(self, relation: str, side: str) -> bool:
        """Whether the role's entities may be the ``side`` ("head"/"tail") of ``relation``."""
        return relation in (self.heads_of if side == "head" else self.tails_of)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        heads = ", ".join(self.heads_of) or "-"
        tails = ", ".join(self.tails_of) or "-"
        return f"Role({self.name!r}, {self.members} entities, head of: {heads}; tail of: {tails})"


class RelationSchema(BaseModel):
    """Learned signature of one relation.

    Attributes
    ----------
    relation : str
        Label.
    head_type, tail_type : str or None
        Most common type of heads / tails (``None``: untyped).
    head_type_share, tail_type_share : float
        Fraction of facts whose head / tail has that type.
    functional : bool
        Every head has at most one value (detected from data).
    inverse_functional : bool
        Every tail has at most one head.
    facts : int
        Number of facts.
    tail_sharing : float
        Facts per distinct tail: about 1 for person-like values (a spouse), larger for
        attribute-like values shared by many heads (a country, a city).
    head_roles, tail_roles : tuple of str
        Roles whose entities are heads / tails of the relation in the real facts, most
        common first (see :class:`Role`).
    max_out, max_in : int
        Most facts of the relation one head has / one tail receives.
    """

    model_config = ConfigDict(frozen=True)

    relation: str
    head_type: str | None
    tail_type: str | None
    head_type_share: float
    tail_type_share: float
    functional: bool
    inverse_functional: bool
    facts: int
    tail_sharing: float = 1.0
    head_roles: tuple[str, ...] = ()
    tail_roles: tuple[str, ...] = ()
    max_out: int = 0
    max_in: int = 0


class Schema:
    """Relation signatures and entity roles of a graph (see :func:`learn_schema`).

    Attributes
    ----------
    relations : dict of str to RelationSchema
        Per relation.
    roles : tuple of Role
        Learned roles (see the module docstring).
    """

    def __init__(
        self,
        relations: Mapping[str, RelationSchema],
        roles: Sequence[Role] = (),
        *,
        kg: KnowledgeGraph | None = None,
        entity_roles: npt.NDArray[np.int64] | None = None,
        profiles: sp.csr_matrix | None = None,
    ) -> None:
        self.relations = dict(relations)
        self.roles = tuple(roles)
        self._kg = kg
        self._entity_roles = entity_roles
        self._profiles = profiles
        self._csc: sp.csc_matrix | None = None
        self._by_name = {r.name: r for r in self.roles}
        names = list(self.relations)
        self._rel_index = {r: i for i, r in enumerate(names)}
        # allowed[k, 2*r + side]: role k may play side (0 head, 1 tail) of relation r
        self._allowed = np.zeros((len(self.roles), 2 * len(names)), dtype=bool)
        for role in self.roles:
            for rel in role.heads_of:
                self._allowed[role.id, 2 * self._rel_index[rel]] = True
            for rel in role.tails_of:
                self._allowed[role.id, 2 * self._rel_index[rel] + 1] = True

    # -- relations -------------------------------------------------------------------
    def __getitem__(self, relation: str) -> RelationSchema:
        try:
            return self.relations[relation]
        except KeyError:
            raise UnknownLabelError("relation", relation, list(self.relations)) from None

    def into(self, type_: str | None) -> list[str]:
        """Relations whose tails have ``type_`` (they can precede a ``type_``-headed one)."""
        return [r for r, s in self.relations.items() if s.facts and s.tail_type == type_]

    def out_of(self, type_: str | None) -> list[str]:
        """Relations whose heads have ``type_``."""
        return [r for r, s in self.relations.items() if s.facts and s.head_type == type_]

    def out_capacity(self, type_: str | None) -> float:
        """Most out-edges one ``type_`` entity can carry.

        Functional relations give one value each; ``inf`` if some relation out of the type
        is not functional.
        """
        rels = self.out_of(type_)
        if any(not self.relations[r].functional for r in rels):
            return float("inf")
        return float(len(rels))

    # -- roles -----------------------------------------------------------------------
    def role(self, name: str | int) -> Role:
        """A role by name or id."""
        if isinstance(name, (int, np.integer)):
            return self.roles[int(name)]
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownLabelError("role", name, list(self._by_name)) from None

    def role_of(self, entity: str) -> Role | None:
        """The role of a real entity of the graph the schema was learned on (``None``: no facts)."""
        if self._kg is None or self._entity_roles is None:
            return None
        k = int(self._entity_roles[self._kg.entity_id(entity)])
        return None if k < 0 else self.roles[k]

    def role_ids(self, kg: KnowledgeGraph | None = None) -> npt.NDArray[np.int64]:
        """Role id per entity of ``kg`` (default: the learning graph).

        ``-1`` for entities without a role (no real facts, or unknown to the learning graph).
        """
        if self._entity_roles is None or self._kg is None:
            n = kg.num_entities if kg is not None else 0
            return np.full(n, -1, dtype=np.int64)
        if kg is None or kg is self._kg:
            return self._entity_roles
        base = self._kg.entities
        out = np.full(kg.num_entities, -1, dtype=np.int64)
        n = min(len(base), kg.num_entities)
        same = np.asarray(kg.entities[:n], dtype=object) == np.asarray(base[:n], dtype=object)
        if same.all():  # the usual case: kg extends the learning graph (add_facts)
            out[:n] = self._entity_roles[:n]
            return out
        index = {e: i for i, e in enumerate(base)}
        for i, e in enumerate(kg.entities):
            j = index.get(e)
            if j is not None:
                out[i] = self._entity_roles[j]
        return out

    def head_roles(self, relation: str) -> list[Role]:
        """Roles that may be heads of ``relation``, most common first."""
        return [self._by_name[n] for n in self[relation].head_roles]

    def tail_roles(self, relation: str) -> list[Role]:
        """Roles that may be tails of ``relation``, most common first."""
        return [self._by_name[n] for n in self[relation].tail_roles]

    def allowed_matrix(self) -> npt.NDArray[np.bool_]:
        """Boolean matrix: ``allowed[k, 2*r + s]``, role ``k`` may play side ``s`` of ``r``.

        ``s`` is 0 (head) or 1 (tail); relations in :attr:`relations` order.
        """
        return self._allowed

    def allows(self, role: Role | str | int, relation: str, side: str) -> bool:
        """Whether entities of ``role`` may be the ``side`` of ``relation``."""
        k = role.id if isinstance(role, Role) else self.role(role).id
        return bool(self._allowed[k, 2 * self._rel_index[relation] + (side == "tail")])

    # -- real profiles ---------------------------------------------------------------
    def side_index(self, relation: str, side: str) -> int:
        """Column of a relation side: ``2*r`` (head) or ``2*r + 1`` (tail)."""
        return 2 * self._rel_index[relation] + (side == "tail")

    def side_label(self, index: int) -> str:
        """``"head of 'country'"``-style label of a side column."""
        rel = list(self.relations)[index // 2]
        return f"{'tail' if index % 2 else 'head'} of '{rel}'"

    def witnesses(self, sides: Iterable[int], role: int | None = None) -> npt.NDArray[np.int64]:
        """Real entities (of ``role``, if given) that have every side in ``sides``.

        A new entity's facts are those that real entities have: its sides must all be
        held by one real entity of its role (a *witness*). Without the learning graph's
        profiles every entity of the role qualifies.
        """
        if self._profiles is None or self._entity_roles is None:
            return np.zeros(0, dtype=np.int64)
        if self._csc is None:
            self._csc = self._profiles.tocsc()
        csc = self._csc
        cols = sorted(set(int(x) for x in sides), key=lambda c: csc.indptr[c + 1] - csc.indptr[c])
        if role is not None:
            rows = np.flatnonzero(self._entity_roles == role)
        else:
            rows = np.flatnonzero(np.diff(self._profiles.indptr) > 0)
        for c in cols:
            if not len(rows):
                break
            rows = rows[np.isin(rows, csc.indices[csc.indptr[c] : csc.indptr[c + 1]])]
        return rows.astype(np.int64)

    def has_witness(self, sides: Iterable[int], role: int | None = None) -> bool:
        """Whether some real entity (of ``role``) has all of ``sides``."""
        return len(self.witnesses(sides, role)) > 0

    def profile(self, entity: int) -> list[int]:
        """Side columns of a real entity of the learning graph."""
        if self._profiles is None:
            return []
        B = self._profiles
        return [int(x) for x in B.indices[B.indptr[entity] : B.indptr[entity + 1]]]

    # -- display ---------------------------------------------------------------------
    def _role_rows(self) -> tuple[list[str], list[list[str]]]:
        header = ["role", "entities", "head of", "tail of", "e.g."]
        rows = [
            [
                r.name,
                str(r.members),
                ", ".join(r.heads_of) or "-",
                ", ".join(r.tails_of) or "-",
                ", ".join(r.examples[:2]),
            ]
            for r in self.roles
        ]
        return header, rows

    def _relation_rows(self) -> tuple[list[str], list[list[str]]]:
        header = ["relation", "facts", "heads", "tails", "functional"]
        rows = [
            [
                s.relation,
                str(s.facts),
                " | ".join(s.head_roles) or str(s.head_type),
                " | ".join(s.tail_roles) or str(s.tail_type),
                "yes" if s.functional else "",
            ]
            for s in self.relations.values()
        ]
        return header, rows

    def __str__(self) -> str:
        h1, r1 = self._role_rows()
        h2, r2 = self._relation_rows()
        return (
            f"schema: {len(self.relations)} relations, {len(self.roles)} roles "
            "(learned from the relations entities are heads and tails of)\n\n"
            + text_table(h1, r1, align="lrlll")
            + "\n\n"
            + text_table(h2, r2, align="lrlll")
        )

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        h1, r1 = self._role_rows()
        h2, r2 = self._relation_rows()
        return html_table(
            h1, r1, caption=f"{len(self.roles)} roles learned from the real facts"
        ) + html_table(h2, r2, caption=f"{len(self.relations)} relations")


# ----------------------------------------------------------------------------- learning
def _side_label(kg: KnowledgeGraph, side: int) -> str:
    return f"{'tail' if side % 2 else 'head'} of '{kg.relations[side // 2]}'"


def _exclusive(
    C: npt.NDArray[np.float64], n: npt.NDArray[np.float64], N: int
) -> npt.NDArray[np.bool_]:
    """Pairs of sides that (almost) never co-occur although independence predicts several."""
    E = np.outer(n, n) / max(N, 1)
    with np.errstate(invalid="ignore"):
        rare = C <= EXCLUSIVE_SHARE * E
    out = np.zeros_like(rare)
    cand = rare & (E > 0)
    if cand.any():
        out[cand] = poisson.cdf(C[cand], E[cand]) < EXCLUSIVE_P
    np.fill_diagonal(out, False)
    return out


def _group_sides(
    disc: list[int],
    C: npt.NDArray[np.float64],
    X: npt.NDArray[np.bool_],
    n: npt.NDArray[np.float64],
) -> list[list[int]]:
    """Characterizing sides into role cores: greedy, most common first (indices into C)."""
    order = sorted(disc, key=lambda s: (-n[s], s))
    groups: list[list[int]] = []
    for s in order:
        best, best_c = -1, 0.0
        for k, g in enumerate(groups):
            if X[s, g].any():
                continue
            c = float(C[s, g].sum())
            if c > best_c:
                best, best_c = k, c
        if best < 0:
            groups.append([s])
        else:
            groups[best].append(s)
    return groups


def _learn_roles(
    kg: KnowledgeGraph, h: IntArray, r: IntArray, t: IntArray
) -> tuple[list[Role], IntArray, sp.csr_matrix]:
    """Roles, the role id of every entity (``-1``: no facts) and the entity x side matrix."""
    V, R = kg.num_entities, kg.num_relations
    S = 2 * R
    role_of = np.full(V, -1, dtype=np.int64)
    roles: list[Role] = []
    ent = np.concatenate([h, t])
    side = np.concatenate([2 * r, 2 * r + 1])
    B = sp.csr_matrix((np.ones(len(ent), dtype=np.float64), (ent, side)), shape=(V, S))
    B.sum_duplicates()
    B.data[:] = 1.0
    if not len(h):
        return roles, role_of, B
    has_facts = np.diff(B.indptr) > 0
    codes = kg.entity_type_codes.astype(np.int64)
    type_names: list[str | None] = [*kg.types, None]
    codes = np.where(codes < 0, len(kg.types), codes)
    for code in np.unique(codes[has_facts]).tolist():
        rows = np.flatnonzero((codes == code) & has_facts)
        Bt = B[rows]
        n_all = np.asarray(Bt.sum(axis=0)).ravel()
        present = np.flatnonzero(n_all)
        N = len(rows)
        # only sides common enough to be exclusive with something are tested
        tested = present[n_all[present] * n_all[present].max() >= 2.9 * N]
        if len(tested) > _MAX_TESTED_SIDES:
            tested = tested[np.argsort(-n_all[tested], kind="stable")[:_MAX_TESTED_SIDES]]
            tested.sort()
        Bx = Bt[:, tested]
        C = (Bx.T @ Bx).toarray()
        n = n_all[tested]
        X = _exclusive(C, n, N)
        disc = [i for i in range(len(tested)) if X[i].any()]
        groups = _group_sides(disc, C, X, n)
        ty = type_names[code]
        K = len(groups)
        member = np.full(N, -1, dtype=np.int64)
        if K:
            M = np.zeros((len(tested), K))
            for k, g in enumerate(groups):
                M[g, k] = 1.0 / n[g]  # rarer characterizing sides say more about an entity
            votes = np.asarray(Bx @ M)
            voted = votes.max(axis=1) > 0
            sizes = np.array([n[g].sum() for g in groups])
            # the role of its most characteristic sides; ties go to the larger role
            score = votes * (1 + 1e-9 * sizes / max(sizes.max(), 1))
            member[voted] = score[voted].argmax(axis=1)
            # a core that no entity ends up in is no role
            alive = [k for k in range(K) if np.any(member == k)]
            if len(alive) < K:
                remap = np.full(K, -1, dtype=np.int64)
                remap[alive] = np.arange(len(alive))
                member = np.where(member >= 0, remap[np.maximum(member, 0)], -1)
                groups = [groups[k] for k in alive]
                K = len(groups)
        # sides of each core role: what its members have, minus sides exclusive with its core
        allowed = np.zeros((K + 1, S), dtype=bool)
        for k in range(K):
            mk = member == k
            have = np.asarray(Bt[mk].sum(axis=0)).ravel() > 0
            bad = X[:, groups[k]].any(axis=1)
            have[tested[bad]] = False
            allowed[k] = have
        # entities without characterizing sides: the one core role that holds them all
        rest = np.flatnonzero(member < 0)
        if len(rest) and K:
            outside = np.asarray(Bt[rest] @ (~allowed[:K]).T.astype(np.float64))  # sides not held
            fits = outside == 0
            one = fits.sum(axis=1) == 1
            member[rest[one]] = fits[one].argmax(axis=1)
        other = member < 0
        if other.any():
            member[other] = K
            allowed[K] = np.asarray(Bt[other].sum(axis=0)).ravel() > 0
            K1 = K + 1
        else:
            K1 = K
        support_all = np.zeros((K1, S), dtype=np.int64)
        for k in range(K1):
            support_all[k] = np.asarray(Bt[member == k].sum(axis=0)).ravel().astype(np.int64)
        for k in range(K1):
            base = len(roles)
            sup = np.where(allowed[k], support_all[k], 0)
            order = np.argsort(-sup, kind="stable")
            order = order[sup[order] > 0]
            heads = tuple(kg.relations[s // 2] for s in order.tolist() if s % 2 == 0)
            tails = tuple(kg.relations[s // 2] for s in order.tolist() if s % 2 == 1)
            if k < K:
                # the most common characterizing side (a head side on ties: 'head of country')
                key_side = int(tested[max(groups[k], key=lambda i: (n[i], tested[i] % 2 == 0, -i))])
                key: str | None = _side_label(kg, key_side)
                name = f"{ty or 'entity'} ({key})"
            else:
                key = None
                name = f"{ty or 'entity'} (other)" if K else (ty or "entity")
            idx = rows[member == k]
            examples = tuple(kg.entities[i] for i in idx[:3].tolist())
            roles.append(
                Role(
                    id=base,
                    name=name,
                    type=ty,
                    members=len(idx),
                    heads_of=heads,
                    tails_of=tails,
                    support={
                        f"{'tail' if s % 2 else 'head'}:{kg.relations[s // 2]}": int(sup[s])
                        for s in order.tolist()
                    },
                    key=key,
                    examples=examples,
                )
            )
            role_of[idx] = base
    return roles, role_of, B


def learn_schema(kg: KnowledgeGraph) -> Schema:
    """Learn every relation's types, functionality and the entities' roles from the facts.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph (augmentation passes its real facts only).

    Returns
    -------
    Schema
        Per relation a :class:`RelationSchema`; :attr:`Schema.roles` the learned roles.

    Examples
    --------
    >>> import kgaug
    >>> schema = kgaug.learn_schema(kgaug.datasets.load_example())
    >>> [r.name for r in schema.tail_roles("country of citizenship")]
    ["Location (tail of 'country')"]
    >>> [r.name for r in schema.head_roles("country")]
    ["Location (head of 'country')"]
    """
    if not isinstance(kg, KnowledgeGraph):
        raise TypeError(f"expected a KnowledgeGraph, got {type(kg).__name__}")
    R = kg.num_relations
    types = kg.types
    h, r, t = kg.head_ids, kg.relation_ids, kg.tail_ids
    ntypes = len(types) + 1  # last slot: untyped
    codes = np.where(kg.entity_type_codes < 0, ntypes - 1, kg.entity_type_codes).astype(np.int64)

    def majority(ent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Most common type per relation and its share (one bincount for all)."""
        table = np.bincount(r * ntypes + codes[ent], minlength=R * ntypes).reshape(R, ntypes)
        best = table.argmax(axis=1)
        total = table.sum(axis=1)
        share = np.divide(table[np.arange(R), best], total, out=np.zeros(R), where=total > 0)
        return best, share

    head_best, head_share = majority(h)
    tail_best, tail_share = majority(t)
    # values per (head, relation) and heads per (tail, relation)
    hr = h * max(R, 1) + r
    tr = t * max(R, 1) + r
    max_vals = np.zeros(R, dtype=np.int64)
    max_heads = np.zeros(R, dtype=np.int64)
    if len(h):
        u, c = np.unique(hr, return_counts=True)
        np.maximum.at(max_vals, u % R, c)
        u, c = np.unique(tr, return_counts=True)
        np.maximum.at(max_heads, u % R, c)
    facts = np.bincount(r, minlength=R)
    distinct_tails = np.bincount(np.unique(tr) % R, minlength=R) if len(h) else facts

    roles, role_of, profiles = _learn_roles(kg, h, r, t)
    # roles per relation side, by how many of the relation's facts they hold
    K = len(roles)
    head_by_role = np.zeros((R, max(K, 1)), dtype=np.int64)
    tail_by_role = np.zeros((R, max(K, 1)), dtype=np.int64)
    if K and len(h):
        np.add.at(head_by_role, (r, role_of[h]), 1)
        np.add.at(tail_by_role, (r, role_of[t]), 1)

    def ranked(table: np.ndarray, i: int, side: str) -> tuple[str, ...]:
        order = np.argsort(-table[i], kind="stable")
        return tuple(
            roles[k].name
            for k in order.tolist()
            if k < K and table[i, k] > 0 and roles[k].has(kg.relations[i], side)
        )

    def label(code: int, count: int) -> str | None:
        return None if count == 0 or code == ntypes - 1 else types[code]

    out: dict[str, RelationSchema] = {}
    for i, rel in enumerate(kg.relations):
        out[rel] = RelationSchema(
            relation=rel,
            head_type=label(int(head_best[i]), int(facts[i])),
            tail_type=label(int(tail_best[i]), int(facts[i])),
            head_type_share=float(head_share[i]),
            tail_type_share=float(tail_share[i]),
            functional=bool(max_vals[i] <= 1),
            inverse_functional=bool(max_heads[i] <= 1),
            facts=int(facts[i]),
            tail_sharing=float(facts[i] / distinct_tails[i]) if distinct_tails[i] else 1.0,
            head_roles=ranked(head_by_role, i, "head"),
            tail_roles=ranked(tail_by_role, i, "tail"),
            max_out=int(max_vals[i]),
            max_in=int(max_heads[i]),
        )
    return Schema(out, roles, kg=kg, entity_roles=role_of, profiles=profiles)


def role_profile(kg: KnowledgeGraph, entities: Iterable[int] | None = None) -> sp.csr_matrix:
    """Entity × side incidence (``2*r`` head, ``2*r + 1`` tail) of ``kg``, binary.

    Rows are all entities (or ``entities``, in that order).
    """
    V, R = kg.num_entities, kg.num_relations
    ent = np.concatenate([kg.head_ids, kg.tail_ids])
    side = np.concatenate([2 * kg.relation_ids, 2 * kg.relation_ids + 1])
    B = sp.csr_matrix((np.ones(len(ent)), (ent, side)), shape=(V, 2 * R))
    B.sum_duplicates()
    B.data[:] = 1.0
    if entities is not None:
        B = B[np.fromiter(entities, dtype=np.int64)]
    return B

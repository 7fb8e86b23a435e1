"""The rules every new fact obeys, checked one fact at a time as strategies propose them.

:class:`FactChecker` accepts or rejects a proposed fact ``(head, relation, tail)`` against
the graph as it stands plus the facts accepted so far, and says why it rejects one:

- ``role``: an endpoint would take a side its role does not have (a city as somebody's
  country of citizenship, a film as the head of ``author``); a new entity keeps the one
  role it was created in (or the first role that holds all its sides);
- ``functional``: a second value of a functional relation (one value per head);
- ``cycle``: the fact closes a cycle of length 2 (or 3 when 3-hop chains are counted);
- ``duplicate`` / ``self-loop``: nothing new, or never on a path.

The audit (:mod:`kgaug.augmentation.audit`) checks the same rules on a finished graph.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from kgaug._index import path_index
from kgaug.kg import KnowledgeGraph
from kgaug.schema import Schema

__all__ = ["FactChecker", "Rejections"]

#: reason -> count, per relation
Rejections = dict[str, Counter[str]]


class FactChecker:
    """Validate proposed facts against a graph, its learned roles and each other.

    Parameters
    ----------
    kg : KnowledgeGraph
        The graph as it stands (real plus earlier synthetic facts).
    schema : Schema
        Learned from the real facts; real entities keep its roles.
    hops : int
        Longest chain counted (3 also forbids 3-cycles).
    new_roles : mapping of str to int
        Roles of entities created so far (also those already in ``kg``).
    """

    def __init__(
        self, kg: KnowledgeGraph, schema: Schema, hops: int, new_roles: Mapping[str, int]
    ) -> None:
        self.kg = kg
        self.schema = schema
        self.hops = hops
        self.new_roles = dict(new_roles)
        self.allowed = schema.allowed_matrix()
        self.rel_index = {r: i for i, r in enumerate(schema.relations)}
        base = schema.role_ids(kg)
        self.role_ids: npt.NDArray[np.int64] = base.copy()
        for label, k in self.new_roles.items():
            if kg.has_entity(label):
                self.role_ids[kg.entity_id(label)] = k
        self.pairs = path_index(kg, True).pairs.matrix
        fun = np.zeros(kg.num_relations, dtype=bool)
        for i, rel in enumerate(kg.relations):
            s = schema.relations.get(rel)
            fun[i] = bool(s and s.functional)
        sel = fun[kg.relation_ids]
        self.valued: set[tuple[str, str]] = {
            (kg.entities[h], kg.relations[r])
            for h, r in zip(kg.head_ids[sel].tolist(), kg.relation_ids[sel].tolist())
        }
        self.new_pairs: set[tuple[str, str]] = set()
        self.new_out: dict[str, set[str]] = defaultdict(set)
        self.new_sides: dict[str, set[int]] = defaultdict(set)
        self.accepted: set[tuple[str, str, str]] = set()
        self.rejected: Rejections = defaultdict(Counter)
        self.examples: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
        self._witness_cache: dict[tuple[int, frozenset[int]], bool] = {}

    # -- lookups ------------------------------------------------------------------------
    def role_of(self, label: str, roles: Mapping[str, int] | None = None) -> int:
        """Role id of an entity (``-1``: none yet); ``roles`` proposes roles for new ones."""
        if label in self.new_roles:
            return self.new_roles[label]
        if self.kg.has_entity(label):
            return int(self.role_ids[self.kg.entity_id(label)])
        if roles and label in roles:
            return roles[label]
        return -1

    def _exists(self, a: str, b: str) -> bool:
        if (a, b) in self.new_pairs:
            return True
        kg = self.kg
        if not (kg.has_entity(a) and kg.has_entity(b)):
            return False
        return bool(self.pairs[kg.entity_id(a), kg.entity_id(b)])

    def _out_of(self, a: str) -> set[str]:
        out = set(self.new_out.get(a, ()))
        if self.kg.has_entity(a):
            m, i = self.pairs, self.kg.entity_id(a)
            out.update(self.kg.entities[j] for j in m.indices[m.indptr[i] : m.indptr[i + 1]])
        return out

    def _role_reason(
        self, label: str, rel: str, side: int, roles: Mapping[str, int] | None
    ) -> str | None:
        """Why ``label`` cannot be the ``side`` (0 head, 1 tail) of ``rel``, or ``None``."""
        j = 2 * self.rel_index[rel] + side
        k = self.role_of(label, roles)
        what = "tail" if side else "head"
        new = not self.kg.has_entity(label) or label in self.new_roles
        if k >= 0:
            if not self.allowed[k, j]:
                return f"'{label}' ({self.schema.roles[k].name}) cannot be the {what} of '{rel}'"
            if new and not self._witnessed(self.new_sides.get(label, set()) | {j}, k):
                return (
                    f"new entity '{label}' ({self.schema.roles[k].name}) would be the {what} of "
                    f"'{rel}' and of relations no real entity of its role is the tail of together"
                )
            return None
        if self.kg.has_entity(label):
            return f"'{label}' has no role in the real data and cannot be the {what} of '{rel}'"
        # a new entity: the first role of its type that holds all its sides
        sides = self.new_sides.get(label, set()) | {j}
        cands = self.schema.head_roles(rel) if side == 0 else self.schema.tail_roles(rel)
        for role in cands:
            if all(self.allowed[role.id, s] for s in sides) and self._witnessed(sides, role.id):
                return None
        return (
            f"new entity '{label}': no role of the real data is the {what} of '{rel}' and "
            "has its other facts"
        )

    def _witnessed(self, sides: set[int], role: int) -> bool:
        """Some real entity of ``role`` has all the tail sides among ``sides`` (cached).

        What others say of a new entity must all be said of one real entity of its role;
        its own properties (head sides) only need the role.
        """
        key = (role, frozenset(x for x in sides if x % 2))
        if key not in self._witness_cache:
            self._witness_cache[key] = not key[1] or self.schema.has_witness(key[1], role)
        return self._witness_cache[key]

    # -- the check ------------------------------------------------------------------------
    def check(self, h: str, rel: str, t: str, roles: Mapping[str, int] | None = None) -> str | None:
        """The reason a fact is rejected (``"role: ..."``, ``"functional"``, ...), or ``None``.

        ``roles`` gives the roles of new entities the fact creates (default: the first
        role of the relation's side that holds all their sides).
        """
        if rel not in self.rel_index:
            return f"unknown relation '{rel}'"
        if h == t:
            return "self-loop"
        if (h, rel, t) in self.accepted or (h, rel, t) in self.kg:
            return "duplicate"
        for label, side in ((h, 0), (t, 1)):
            why = self._role_reason(label, rel, side, roles)
            if why:
                return "role: " + why
        s = self.schema[rel]
        if s.functional and (h, rel) in self.valued:
            return f"functional: '{h}' already has a '{rel}' value"
        if self._exists(t, h):
            return "cycle: closes a 2-cycle"
        if self.hops >= 3 and any(self._exists(x, h) for x in self._out_of(t)):
            return "cycle: closes a 3-cycle"
        return None

    def accept(self, h: str, rel: str, t: str, roles: Mapping[str, int] | None = None) -> None:
        """Record an accepted fact (and the roles of new entities it creates)."""
        j = self.rel_index[rel]
        for label, side in ((h, 0), (t, 1)):
            if self.role_of(label) < 0 and not self.kg.has_entity(label):
                k = (roles or {}).get(label)
                if k is None:
                    sides = self.new_sides.get(label, set()) | {2 * j + side}
                    cands = (
                        self.schema.head_roles(rel) if side == 0 else self.schema.tail_roles(rel)
                    )
                    k = next(
                        r.id
                        for r in cands
                        if all(self.allowed[r.id, x] for x in sides)
                        and self._witnessed(sides, r.id)
                    )
                self.new_roles[label] = k
            if not self.kg.has_entity(label):
                self.new_sides[label].add(2 * j + side)
        if self.schema[rel].functional:
            self.valued.add((h, rel))
        self.accepted.add((h, rel, t))
        self.new_pairs.add((h, t))
        self.new_out[h].add(t)

    def offer(self, h: str, rel: str, t: str, roles: Mapping[str, int] | None = None) -> bool:
        """Check and, if it passes, accept a fact; rejections are counted by reason."""
        why = self.check(h, rel, t, roles)
        if why is None:
            self.accept(h, rel, t, roles)
            return True
        key = why.split(":", 1)[0]
        self.rejected[rel][key] += 1
        if len(self.examples[rel]) < 5:
            self.examples[rel].append((h, rel, t, why))
        return False

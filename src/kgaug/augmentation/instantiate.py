"""Template copies to labelled facts: fresh names shaped like their role, spread slot choices."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import numpy.typing as npt

from kgaug.augmentation.templates import GadgetFactory, Template
from kgaug.names import LabelStyle, NameGenerator

__all__ = ["Instantiator"]


class Instantiator:
    """Turns template copies into labelled facts.

    Fresh entities get names shaped like the labels of their role's real members
    (:class:`~kgaug.names.LabelStyle`); slots are spread over the role's existing
    entities (well-connected ones in degree order, each used at most ``max_reuse`` times).
    """

    def __init__(self, factory: GadgetFactory, seed: int, max_reuse: int) -> None:
        self.f = factory
        self.rng = np.random.default_rng(seed)
        self.names = NameGenerator(seed=seed, taken=factory.kg.entities)
        self.max_reuse = max_reuse
        self._order: dict[tuple[int, bool], npt.NDArray[np.int64]] = {}
        self._pos: dict[tuple[int, bool], int] = defaultdict(int)
        self._styles: dict[int, LabelStyle] = {}
        self.reuse: Counter[int] = Counter()
        self.facts: list[tuple[str, str, str]] = []
        self.types: dict[str, str | None] = {}
        self.roles: dict[str, int] = {}

    def style(self, role: int) -> LabelStyle:
        """How names of ``role`` look (learned from its real members' labels)."""
        if role not in self._styles:
            ents = self.f.kg.entities
            self._styles[role] = LabelStyle([ents[i] for i in self.f.members[role][:2000].tolist()])
        return self._styles[role]

    def new_name(self, role: int) -> str:
        """A fresh, unique name for an entity of ``role``."""
        return self.names.name_like(self.style(role), unique=True)

    def _pick(self, role: int, top: bool) -> int | None:
        key = (role, top)
        if key not in self._order:
            cand = self.f.top_candidates(role) if top else self.f.candidates(role)
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
        made = 0
        for _ in range(copies):
            if max_facts is not None and len(tpl.edges) > max_facts - made * len(tpl.edges):
                break
            labels: list[str] = []
            new_roles: dict[str, int] = {}
            for role, is_slot, top in tpl.nodes:
                if is_slot:
                    e = self._pick(role, top)
                    if e is None:
                        return made
                    labels.append(ents[e])
                else:
                    name = self.new_name(role)
                    labels.append(name)
                    new_roles[name] = role
            self.facts.extend((labels[u], r, labels[v]) for u, r, v in tpl.edges)
            self.roles.update(new_roles)
            self.types.update({e: self.f.roles[k].type for e, k in new_roles.items()})
            made += 1
        return made

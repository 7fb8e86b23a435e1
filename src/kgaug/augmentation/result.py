"""What an augmentation plan says: per relation where it stood, what was added, where it ends.

:class:`AugmentationPlan` is the result of :func:`kgaug.plan_augmentation` and the log of
:func:`kgaug.augment`: per relation (:class:`RelationPlan`) the phi before, the deficit,
Lemma 2's estimate and the fewest facts any single template could need, the strategy and
template used, the facts added and the phi an exact recount measures after; for the whole
graph the facts and entities added, dataset targets, rejected proposals and the audit.
"""

from __future__ import annotations

from html import escape
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from kgaug._table import html_table, text_table
from kgaug.errors import UnknownLabelError
from kgaug.kg import KnowledgeGraph
from kgaug.stats import PhiReport

__all__ = ["AugmentationPlan", "RelationPlan", "Status"]

Status = Literal["ok", "planned", "incidental", "unreachable", "empty", "skipped", "budget"]


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
    status : {"ok", "planned", "incidental", "unreachable", "empty", "skipped", "budget"}
        ``ok``: already at phi_G before augmentation (it may still gain facts as parts of
        other relations' templates, see :attr:`added_facts`); ``planned``: raised by a
        strategy of its own; ``incidental``: below phi_G before, raised to it by other
        relations' new facts alone; ``unreachable``: impossible (:attr:`reason` says
        why); ``empty``: without facts; ``skipped``: below phi_G but not among the
        requested ``relations``; ``budget``: stopped by ``max_new_facts``.
    strategy : str or None
        Strategy that raised it.
    template : str or None
        The template of new facts used (fictitious strategy).
    added_facts : int
        New facts *of this relation* in the result, whichever relation's template added
        them (so a relation at ``ok`` can have some).
    spent_facts : int
        New facts (of any relation) added to raise this relation: the templates' or the
        strategy's facts, to compare with :attr:`lemma2_facts` and
        :attr:`min_template_facts`.
    min_template_facts : int or None
        Fewest new facts any single feasible template needs to bring the relation to
        phi_G on its own (from where it started; 2-hop directed estimate).
    phi_after : float or None
        Measured by exact recount on the result.
    reached : bool or None
        ``phi_after >= phi_G`` (for relations that were already there too: new facts
        must not push them below).
    overshoot : str or None
        Why the relation ends above 1.5 x phi_G although augmentation raised it (a shared
        template, a dataset target); ``None`` when it does not.
    rejected : dict of str to int
        Proposed facts of this relation that were rejected, per reason (``role``,
        ``functional``, ``cycle``, ``duplicate``, ...).
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
    spent_facts: int = 0
    min_template_facts: int | None = None
    phi_after: float | None = None
    reached: bool | None = None
    overshoot: str | None = None
    rejected: dict[str, int] = {}
    reason: str = ""


def _note(r: RelationPlan) -> str:
    if r.overshoot:
        return "> 1.5 phi_G"
    if r.status == "ok" and r.reached is False:
        return "pushed below phi_G"
    return {"incidental": "by others' facts", "budget": "budget hit"}.get(r.status, "")


_LEGEND = (
    "spent on it: new facts (of any relation) added to raise this relation; new facts of "
    "it: facts of this relation in the result,\nwhichever template added them (a relation "
    "already at phi_G gains some as parts of other relations' templates)"
)


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
    dataset_phi : float or None
        Requested dataset phi (``None``: not requested).
    dataset_task : {"composition", "comparison"} or None
        The dataset it refers to.
    dataset_options : dict
        The builder arguments it was checked with (pass them with ``phi=dataset_phi`` to
        :func:`~kgaug.dataset.build_composition_dataset` or
        :func:`~kgaug.dataset.build_comparison_dataset`).
    dataset_achievable : float or None
        The largest dataset phi the result supports with those arguments.
    dataset_facts : int
        New facts added for the dataset target (beyond the per-relation ones).
    dataset_template : str or None
        The template those facts came from.
    rejected : dict
        Rejected proposed facts per relation and reason.
    rejected_examples : list of str
        A few of them, with the reason.
    role_violations : int
        Role violations the audit of the result found (0 by construction).
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
    dataset_phi: float | None = None
    dataset_task: Literal["composition", "comparison"] | None = None
    dataset_options: dict[str, Any] = {}
    dataset_achievable: float | None = None
    dataset_facts: int = 0
    dataset_template: str | None = None
    rejected: dict[str, dict[str, int]] = {}
    rejected_examples: list[str] = []
    role_violations: int = 0
    warnings: list[str]

    _result: KnowledgeGraph | None = PrivateAttr(default=None)
    _audit: Any = PrivateAttr(default=None)
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
    def audit(self) -> Any:
        """The :class:`~kgaug.augmentation.audit.AuditReport` of the result.

        Roles, functional relations, synthetic share, overshoot; the OCR risk is in
        :func:`kgaug.audit`.
        """
        return self._audit

    @property
    def synthetic_share(self) -> float:
        """Added facts over all facts of the result."""
        total = self.result.num_facts
        return self.added_facts / total if total else 0.0

    @property
    def unreachable(self) -> list[str]:
        """Relations that no strategy could raise."""
        return [r.relation for r in self.rows if r.status == "unreachable"]

    @property
    def planned(self) -> list[str]:
        """Relations below phi_G that augmentation raised (``planned`` or ``incidental``)."""
        return [r.relation for r in self.rows if r.status in ("planned", "incidental")]

    @property
    def confirmed(self) -> bool:
        """Whether everything asked for was reached.

        Every requested relation below phi_G reached it in the exact recount (none is
        unreachable), and so did the overall phi and the dataset phi if requested.
        """
        overall = self.overall_phi is None or (self.overall_phi_after or 0.0) >= self.overall_phi
        data = self.dataset_phi is None or (self.dataset_achievable or 0.0) >= self.dataset_phi
        return overall and data and all(r.reached for r in self.rows if r.reached is not None)

    def __getitem__(self, relation: str) -> RelationPlan:
        for r in self.rows:
            if r.relation == relation:
                return r
        raise UnknownLabelError("relation", relation, [r.relation for r in self.rows])

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serializable)."""
        d = self.model_dump()
        d.update(unreachable=self.unreachable, confirmed=self.confirmed)
        if self._audit is not None:
            d["audit"] = self._audit.to_dict()
        return d

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per relation."""
        return [r.model_dump() for r in self.rows]

    def to_pandas(self) -> Any:
        """Per-relation rows as a :class:`pandas.DataFrame` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.to_records()).set_index("relation")

    def _header(self) -> str:
        hop = "+".join(str(h) for h in self.hops)
        mode = "directed" if self.directed else "undirected"
        s = (
            f"augmentation plan: phi_G = {self.phi_g:g}, {hop}-hop {self.count}, {mode}, "
            f"strategy {'/'.join(self.strategies)}, local ratio c = {self.local_ratio}\n"
            f"added {self.added_facts} facts ({100 * self.synthetic_share:.0f}% of the result) "
            f"and {self.added_entities} entities in {self.rounds} round(s), "
            f"{self.role_violations} role violation(s); "
            + ("all requested targets reached" if self.confirmed else "NOT all reached")
        )
        if self.dataset_phi is not None:
            opts = {k: v for k, v in self.dataset_options.items() if k != "seed"}
            shown = ", ".join(f"{k}={v!r}" for k, v in opts.items()) or "the builder's defaults"
            s += (
                f"\ndataset_phi {self.dataset_phi:g} ({self.dataset_task}): the result supports "
                f"phi <= {self.dataset_achievable or 0.0:g} (checked with {shown}, "
                f"seed={self.dataset_options.get('seed', self.seed)})"
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
        header = [
            "relation", "phi", "deficit", "Lemma 2 facts", "fewest (1 template)", "status",
            "spent on it", "new facts of it", "phi after", "note",
        ]  # fmt: skip

        def f(x: float | None) -> str:
            return "-" if x is None else f"{x:.3f}"

        rows = [
            [
                r.relation,
                f(r.phi),
                "-" if r.deficit is None else str(r.deficit),
                "-" if r.lemma2_facts is None else str(r.lemma2_facts),
                "-" if r.min_template_facts is None else str(r.min_template_facts),
                r.status,
                str(r.spent_facts),
                str(r.added_facts),
                f(r.phi_after),
                _note(r),
            ]
            for r in self.rows
        ]
        return header, rows

    def __str__(self) -> str:
        header, rows = self._table()
        s = self._header() + "\n\n" + text_table(header, rows) + "\n" + _LEGEND
        notes = [f"- {r.relation}: {r.reason}" for r in self.rows if r.status == "unreachable"]
        notes += [f"- {r.relation}: {r.overshoot}" for r in self.rows if r.overshoot]
        notes += [f"- {w}" for w in self.warnings]
        if notes:
            s += "\n\n" + "\n".join(notes)
        return s

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        header, rows = self._table()
        styles = ["background-color:#fde2e2" if row[5] == "unreachable" else "" for row in rows]
        legend = f'<p style="font-size:smaller">{escape(_LEGEND)}</p>'
        return html_table(header, rows, row_styles=styles, caption=self._header()) + legend

"""Audit an augmented graph against its original: would an expert accept every new fact.

:func:`audit` compares an augmented graph with its original and reports

- **role violations**: synthetic facts whose endpoints leave the roles the real facts give
  them (:mod:`kgaug.schema`): a real entity taking a side its role lacks (a city as
  somebody's country of citizenship, a film as the head of ``author``), or a new entity
  whose facts no single role of the real data has (a film that is also a book);
- **functional violations**: a second value of a relation that is functional in the real
  data;
- the **synthetic share** and the entities created (per role);
- **per-relation phi** before and after, and the overshoot over ``phi_G``;
- **degree outliers**: new entities with more facts of one relation than any real entity
  has (not an error: hubs exist to be well connected; shown so that a reader sees them);
- the **OCR risk** summary: answer associations the augmentation created
  (:func:`kgaug.ocr.check_augmentation`).

Synthetic facts are the facts of the augmented graph that the original does not have, so
any two graphs can be audited (provenance is reported but not relied on).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict

from kgaug._table import html_table, text_table
from kgaug._validate import CountMode, check_positive
from kgaug.kg import KnowledgeGraph
from kgaug.schema import Schema, learn_schema
from kgaug.stats import compute_phi

__all__ = ["AuditReport", "RelationAudit", "audit", "real_schema"]

IntArray = npt.NDArray[np.int64]

#: relations ending above this multiple of phi_G (and above where they started) overshoot
OVERSHOOT = 1.5


def real_schema(kg: KnowledgeGraph) -> Schema:
    """The schema augmentation works with: learned from the real facts of ``kg``."""
    counts = kg.provenance_counts()
    real = (
        kg.subgraph(provenance=["real"]) if counts["real"] and counts["real"] < kg.num_facts else kg
    )
    return learn_schema(real if real.num_facts else kg)


class RelationAudit(BaseModel):
    """One relation in an :class:`AuditReport`.

    Attributes
    ----------
    relation : str
        Label.
    atomic_before, atomic_after : int
        Facts before and after.
    synthetic : int
        Added facts.
    phi_before, phi_after : float or None
        Per-relation phi (as :func:`kgaug.compute_phi` counts it).
    overshoot : float or None
        ``phi_after / phi_G``.
    role_violations, functional_violations : int
        Added facts of the relation that break a role / a functional relation.
    """

    model_config = ConfigDict(frozen=True)

    relation: str
    atomic_before: int
    atomic_after: int
    synthetic: int
    phi_before: float | None
    phi_after: float | None
    overshoot: float | None
    role_violations: int
    functional_violations: int


class AuditReport(BaseModel):
    """What :func:`audit` found (``ok`` when no fact breaks a role or a functional relation).

    Attributes
    ----------
    phi_g : float
        Threshold the overshoot refers to.
    original_facts, augmented_facts, synthetic_facts : int
        Fact counts (synthetic: in the augmented graph and not in the original).
    synthetic_share : float
        ``synthetic_facts / augmented_facts``.
    new_entities : int
        Entities the original does not have.
    new_entities_by_role : dict of str to int
        New entities per role they fit (``"(no role)"`` for those that fit none).
    role_violations : int
        Synthetic facts with an endpoint outside its role.
    functional_violations : int
        Synthetic facts that give a head a second value of a functional relation.
    violation_examples : list of str
        Up to 10 violations, readable.
    degree_outliers : int
        New entities with more facts of one relation side than any real entity.
    outlier_examples : list of str
        Up to 5 of them.
    relations : tuple of RelationAudit
        Per relation.
    overshooting : list of str
        Relations raised above ``1.5 x phi_G``.
    ocr_flagged : int or None
        Relation pairs the OCR risk check flags (``None``: not run).
    ocr_summary : str
        Its one-paragraph message.
    """

    model_config = ConfigDict(frozen=True)

    phi_g: float
    original_facts: int
    augmented_facts: int
    synthetic_facts: int
    synthetic_share: float
    new_entities: int
    new_entities_by_role: dict[str, int]
    role_violations: int
    functional_violations: int
    violation_examples: list[str]
    degree_outliers: int
    outlier_examples: list[str]
    relations: tuple[RelationAudit, ...]
    overshooting: list[str]
    ocr_flagged: int | None = None
    ocr_summary: str = ""

    @property
    def ok(self) -> bool:
        """No synthetic fact breaks a role or a functional relation."""
        return self.role_violations == 0 and self.functional_violations == 0

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-serializable)."""
        d = self.model_dump()
        d["ok"] = self.ok
        return d

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per relation."""
        return [r.model_dump() for r in self.relations]

    def to_pandas(self) -> Any:
        """Per-relation rows as a :class:`pandas.DataFrame` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.to_records()).set_index("relation")

    def _header(self) -> str:
        verdict = "OK" if self.ok else "VIOLATIONS"
        s = (
            f"audit: {verdict}: {self.role_violations} role violation(s), "
            f"{self.functional_violations} functional violation(s)\n"
            f"{self.synthetic_facts} synthetic of {self.augmented_facts} facts "
            f"({100 * self.synthetic_share:.1f}%), {self.new_entities} new entities; "
            f"{len(self.overshooting)} relation(s) above {OVERSHOOT:g} x phi_G = "
            f"{OVERSHOOT * self.phi_g:g}"
        )
        if self.ocr_flagged is not None:
            s += f"; OCR risk: {self.ocr_flagged} flagged pair(s)"
        return s

    def _table(self) -> tuple[list[str], list[list[str]]]:
        header = ["relation", "facts", "added", "phi before", "phi after", "x phi_G", "violations"]

        def f(x: float | None, d: int = 3) -> str:
            return "-" if x is None else f"{x:.{d}f}"

        rows = [
            [
                r.relation,
                str(r.atomic_after),
                str(r.synthetic),
                f(r.phi_before),
                f(r.phi_after),
                f(r.overshoot, 2),
                str(r.role_violations + r.functional_violations),
            ]
            for r in self.relations
        ]
        return header, rows

    def to_string(self) -> str:
        """The report as text."""
        header, rows = self._table()
        parts = [self._header(), text_table(header, rows)]
        if self.new_entities_by_role:
            parts.append(
                "new entities by role: "
                + ", ".join(f"{k} {v}" for k, v in self.new_entities_by_role.items())
            )
        if self.violation_examples:
            parts.append("violations:\n" + "\n".join(f"- {x}" for x in self.violation_examples))
        if self.outlier_examples:
            parts.append(
                f"degree outliers ({self.degree_outliers} new entities with more facts of one "
                "relation than any real entity):\n"
                + "\n".join(f"- {x}" for x in self.outlier_examples)
            )
        if self.ocr_summary:
            parts.append("OCR risk: " + self.ocr_summary)
        return "\n\n".join(parts)

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return self.to_string()

    def _repr_html_(self) -> str:
        header, rows = self._table()
        styles = ["background-color:#fde2e2" if row[-1] != "0" else "" for row in rows]
        return html_table(header, rows, row_styles=styles, caption=self._header())


def _ids_in(original: KnowledgeGraph, kg: KnowledgeGraph) -> IntArray:
    """Original entity id of every entity of ``kg`` (``-1``: new)."""
    n = min(original.num_entities, kg.num_entities)
    out = np.full(kg.num_entities, -1, dtype=np.int64)
    if n and list(kg.entities[:n]) == list(original.entities[:n]):
        out[:n] = np.arange(n)
        rest = range(n, kg.num_entities)
    else:
        rest = range(kg.num_entities)
    for i in rest:
        if original.has_entity(kg.entities[i]):
            out[i] = original.entity_id(kg.entities[i])
    return out


def audit(
    original: KnowledgeGraph,
    augmented: KnowledgeGraph,
    *,
    phi_g: float = 3.6,
    hops: int | tuple[int, ...] = 2,
    count: CountMode = "facts",
    directed: bool = True,
    schema: Schema | None = None,
    ocr_risk: bool = True,
    max_examples: int = 10,
) -> AuditReport:
    """Audit an augmented graph against its original (see the module docstring).

    Parameters
    ----------
    original : KnowledgeGraph
        The graph before augmentation (its real facts define the roles).
    augmented : KnowledgeGraph
        The result.
    phi_g : float
        Threshold the overshoot refers to.
    hops, count, directed
        Counting mode of the per-relation phi (as in :func:`kgaug.compute_phi`).
    schema : Schema, optional
        Roles to check against (default: learned from ``original``'s real facts, as the
        augmentation does).
    ocr_risk : bool
        Also run the OCR risk check (numpy only; skipped with a note on graphs past its
        size limit).
    max_examples : int
        Violations shown.

    Returns
    -------
    AuditReport

    Examples
    --------
    >>> import kgaug
    >>> kg = kgaug.datasets.load_example()
    >>> kg2, plan = kgaug.augment(kg, phi_g=3.6, seed=0, check_ocr_risk=False)
    >>> report = kgaug.audit(kg, kg2, ocr_risk=False)
    >>> report.role_violations, report.functional_violations
    (0, 0)
    """
    if not isinstance(original, KnowledgeGraph) or not isinstance(augmented, KnowledgeGraph):
        raise TypeError("audit(original, augmented) takes two KnowledgeGraphs")
    g = check_positive(phi_g, "phi_g")
    schema = schema if schema is not None else real_schema(original)
    rel_index = {r: i for i, r in enumerate(schema.relations)}
    allowed = schema.allowed_matrix()
    roles = schema.roles
    role_of_orig = schema.role_ids(original)
    emap = _ids_in(original, augmented)  # augmented entity -> original id
    R = len(rel_index)

    # synthetic facts: in augmented, not in original
    A_h, A_r, A_t = augmented.head_ids, augmented.relation_ids, augmented.tail_ids
    rmap = np.array([rel_index.get(r, -1) for r in augmented.relations], dtype=np.int64)
    oh, orr, ot = emap[A_h], rmap[A_r], emap[A_t]
    V0 = max(original.num_entities, 1)
    okey = (original.head_ids * max(R, 1) + original.relation_ids) * V0 + original.tail_ids
    known = (oh >= 0) & (orr >= 0) & (ot >= 0)
    akey = (np.where(known, oh, 0) * max(R, 1) + np.where(known, orr, 0)) * V0 + np.where(
        known, ot, 0
    )
    synthetic = ~(known & np.isin(akey, okey))
    syn = np.flatnonzero(synthetic)
    ents, rels = augmented.entities, augmented.relations

    bad_fact = np.zeros(augmented.num_facts, dtype=bool)
    examples: list[str] = []
    unknown_rel = syn[orr[syn] < 0]
    bad_fact[unknown_rel] = True
    for i in unknown_rel[:max_examples].tolist():
        examples.append(
            f"({ents[A_h[i]]}, {rels[A_r[i]]}, {ents[A_t[i]]}): relation unknown to the original"
        )
    # real endpoints: their role must have the side
    for side, col in ((0, A_h), (1, A_t)):
        ids = emap[col[syn]]
        real = (ids >= 0) & (orr[syn] >= 0)
        k = np.where(real, role_of_orig[np.where(ids >= 0, ids, 0)], -1)
        ok_side = np.zeros(len(syn), dtype=bool)
        has_role = real & (k >= 0)
        ok_side[has_role] = allowed[k[has_role], 2 * orr[syn][has_role] + side]
        viol = real & ~ok_side
        bad_fact[syn[viol]] = True
        for i, kk in zip(syn[viol][: max_examples - len(examples)].tolist(), k[viol].tolist()):
            who = ents[col[i]]
            role = roles[kk].name if kk >= 0 else "no role in the real data"
            what = "tail" if side else "head"
            examples.append(
                f"({ents[A_h[i]]}, {rels[A_r[i]]}, {ents[A_t[i]]}): '{who}' ({role}) cannot "
                f"be the {what} of '{rels[A_r[i]]}'"
            )
    # new entities: all their sides must fit one role of their type
    new = np.flatnonzero(emap < 0)
    new_by_role: Counter[str] = Counter()
    outliers: list[str] = []
    n_outliers = 0
    if len(new):
        pos = np.full(augmented.num_entities, -1, dtype=np.int64)
        pos[new] = np.arange(len(new))
        valid = orr >= 0
        rows_h, rows_t = pos[A_h], pos[A_t]
        ent = np.concatenate([rows_h[valid & (rows_h >= 0)], rows_t[valid & (rows_t >= 0)]])
        cols = np.concatenate([2 * orr[valid & (rows_h >= 0)], 2 * orr[valid & (rows_t >= 0)] + 1])
        counts = sp.csr_matrix((np.ones(len(ent)), (ent, cols)), shape=(len(new), 2 * max(R, 1)))
        counts.sum_duplicates()
        B = counts.copy()
        B.data[:] = 1.0
        tcodes = augmented.entity_type_codes[new]
        fits: npt.NDArray[np.bool_] = np.zeros((len(new), len(roles)), dtype=bool)
        if roles:
            outside = np.asarray(B @ (~allowed).T.astype(np.float64))
            fits = np.asarray(outside == 0)
            code_of = {t: i for i, t in enumerate(augmented.types)}
            role_codes = np.array([code_of.get(r.type, -2) if r.type else -1 for r in roles])
            fits &= tcodes[:, None] == role_codes[None, :]
            # what others say of a new entity must all be said of one real entity of its
            # role (no fictitious person is both a mother and a father): one witness test
            # per distinct (role, set of tail sides), not per entity
            odd = sp.csr_matrix(B[:, 1::2])
            odd.sort_indices()
            tail_keys = np.split(2 * odd.indices + 1, odd.indptr[1:-1])
            key_id: dict[bytes, int] = {}
            sets: list[frozenset[int]] = []
            inv = np.empty(len(new), dtype=np.int64)
            for j, tk in enumerate(tail_keys):  # a dict lookup per entity; no sparse slicing
                kb = tk.tobytes()
                if kb not in key_id:
                    key_id[kb] = len(sets)
                    sets.append(frozenset(tk.tolist()))
                inv[j] = key_id[kb]
            nonempty = np.array([bool(t) for t in sets], dtype=bool)[inv]
            e_idx, kks = np.nonzero(fits & nonempty[:, None])
            pairs = np.unique(np.stack([inv[e_idx], kks], axis=1), axis=0)
            ok = np.array([schema.has_witness(sets[u], int(kk)) for u, kk in pairs], dtype=bool)
            bad = pairs[~ok]
            if len(bad):
                table = np.ones((len(sets), len(roles)), dtype=bool)
                table[bad[:, 0], bad[:, 1]] = False
                fits &= table[inv]
        has_fit: npt.NDArray[np.bool_] = np.asarray(fits.any(axis=1))
        if roles:
            per_role = np.bincount(np.argmax(fits[has_fit], axis=1), minlength=len(roles))
            for ki in np.flatnonzero(per_role).tolist():
                new_by_role[roles[ki].name] += int(per_role[ki])
        if not has_fit.all():
            new_by_role["(no role)"] += int((~has_fit).sum())
        bad_new = np.zeros(augmented.num_entities, dtype=bool)
        bad_new[new[~has_fit]] = True
        touched = bad_new[A_h] | bad_new[A_t]
        bad_fact |= touched & synthetic
        for j in np.flatnonzero(~has_fit)[: max(0, max_examples - len(examples))].tolist():
            s = B[j].indices.tolist()
            desc = "; ".join(
                f"{'tail' if x % 2 else 'head'} of '{schema_rel(schema, x // 2)}'" for x in s
            )
            kind = augmented.types[tcodes[j]] if tcodes[j] >= 0 else "untyped"
            examples.append(
                f"new entity '{ents[new[j]]}' ({kind}): {desc}: no role of "
                "the real data has all of these (or no real entity of it is the tail of all)"
            )
        # degree outliers: more facts of one side than any real entity
        real_max = np.zeros(2 * max(R, 1), dtype=np.int64)
        for i, rel in enumerate(schema.relations):
            s_ = schema[rel]
            real_max[2 * i], real_max[2 * i + 1] = s_.max_out, s_.max_in
        cnt = counts.tocoo()
        over = cnt.data > real_max[cnt.col]
        n_outliers = len(np.unique(cnt.row[over]))
        for e, c, d in list(
            zip(cnt.row[over].tolist(), cnt.col[over].tolist(), cnt.data[over].tolist())
        )[:5]:
            what = "tail" if c % 2 else "head"
            outliers.append(
                f"'{ents[new[e]]}' is the {what} of {int(d)} '{schema_rel(schema, c // 2)}' facts "
                f"(real maximum {int(real_max[c])})"
            )
    # functional relations: a second value that involves a synthetic fact
    fun = np.array([schema[r].functional for r in schema.relations], dtype=bool)
    is_fun = np.zeros(augmented.num_facts, dtype=bool)
    is_fun[orr >= 0] = fun[orr[orr >= 0]]
    keys = A_h * max(augmented.num_relations, 1) + A_r
    fk = keys[is_fun]
    _, inv, cnts = np.unique(fk, return_inverse=True, return_counts=True)
    multi = np.zeros(augmented.num_facts, dtype=bool)
    multi[np.flatnonzero(is_fun)] = cnts[inv] > 1
    fun_bad = multi & synthetic
    for i in np.flatnonzero(fun_bad)[: max(0, max_examples - len(examples))].tolist():
        examples.append(
            f"({ents[A_h[i]]}, {rels[A_r[i]]}, {ents[A_t[i]]}): a second '{rels[A_r[i]]}' value "
            "(functional in the real data)"
        )
    role_bad = bad_fact & ~fun_bad | (bad_fact & fun_bad)

    before = compute_phi(original, hops, count, directed, g, progress=False)
    after = compute_phi(augmented, hops, count, directed, g, progress=False)
    per_rel_syn = Counter(rels[r] for r in A_r[syn].tolist())
    per_rel_role = Counter(rels[r] for r in A_r[np.flatnonzero(role_bad)].tolist())
    per_rel_fun = Counter(rels[r] for r in A_r[np.flatnonzero(fun_bad)].tolist())
    rows: list[RelationAudit] = []
    over_list: list[str] = []
    for rel in augmented.relations:
        b = before.relations.get(rel)
        a = after.relations[rel]
        ratio = None if a.phi is None else a.phi / g
        if (
            a.phi is not None
            and a.phi > OVERSHOOT * g
            and (b is None or b.phi is None or a.phi > b.phi + 1e-9)
        ):
            over_list.append(rel)
        rows.append(
            RelationAudit(
                relation=rel,
                atomic_before=b.atomic if b is not None else 0,
                atomic_after=a.atomic,
                synthetic=per_rel_syn.get(rel, 0),
                phi_before=b.phi if b is not None else None,
                phi_after=a.phi,
                overshoot=ratio,
                role_violations=per_rel_role.get(rel, 0),
                functional_violations=per_rel_fun.get(rel, 0),
            )
        )
    ocr_flagged, ocr_summary = None, ""
    if ocr_risk and len(syn):
        from kgaug.errors import RiskTooLargeError
        from kgaug.ocr.risk import AUGMENT_MAX_CELLS, check_augmentation

        try:
            risk = check_augmentation(augmented, original, max_cells=AUGMENT_MAX_CELLS)
        except RiskTooLargeError as e:
            ocr_summary = f"not checked ({e})"
        else:
            ocr_flagged = len(risk.flagged)
            ocr_summary = risk.message(max_pairs=3)
    return AuditReport(
        phi_g=g,
        original_facts=original.num_facts,
        augmented_facts=augmented.num_facts,
        synthetic_facts=len(syn),
        synthetic_share=len(syn) / augmented.num_facts if augmented.num_facts else 0.0,
        new_entities=len(new),
        new_entities_by_role=dict(new_by_role.most_common()),
        role_violations=int(np.count_nonzero(role_bad & ~fun_bad)),
        functional_violations=int(np.count_nonzero(fun_bad)),
        violation_examples=examples[:max_examples],
        degree_outliers=n_outliers,
        outlier_examples=outliers,
        relations=tuple(rows),
        overshooting=over_list,
        ocr_flagged=ocr_flagged,
        ocr_summary=ocr_summary,
    )


def schema_rel(schema: Schema, index: int) -> str:
    """Relation label of a schema index."""
    return list(schema.relations)[index]

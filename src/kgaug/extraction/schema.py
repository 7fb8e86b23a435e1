"""The relations and entity types an extraction may produce, and how phrasings map onto them.

A model names one relation many ways: "director", "directed by", "film director" say the
same thing, and "X directed Y" says it the other way round. An :class:`ExtractionSchema`
lists the allowed relations, each with its head and tail type, its *aliases* (phrasings in
the same direction) and its *inverse* phrasings (head and tail swapped), and the allowed
entity types with theirs. :meth:`ExtractionSchema.map_relation` turns a phrasing into
``(relation, inverted)``:

1. the relation's name or an alias, compared by :func:`relation_key` (case, spacing,
   ``_``/``-``, punctuation, diacritics and a leading "is"/"was"/"has"/"the" ignored);
2. ``"<name> of"`` or ``"<name> by"`` (``"director of"``), also of a noun alias (``"birthplace
   of"``): the inverse;
3. string similarity (rapidfuzz ``ratio`` >= ``fuzzy``) to exactly one name or alias.

A schema comes from the user (:meth:`ExtractionSchema.from_file`, a JSON file; a mistake
names its line), from an existing graph (:meth:`ExtractionSchema.from_kg`: its relations
and the majority types of their heads and tails), or both (:meth:`ExtractionSchema.merged`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from kgaug.errors import KGFormatError
from kgaug.kg import KnowledgeGraph

__all__ = ["COMMON_PHRASINGS", "GENERIC_TYPES", "ExtractionSchema", "RelationSpec", "relation_key"]

_LEADING = re.compile(r"^(?:(?:is|was|were|are|has|had|have|been|being|its|their|the|a|an)\s+)+")
_NON_WORD = re.compile(r"[^\w\s]+")
_SEPARATORS = re.compile(r"[_\-–—/]+")
_PREPOSITIONS = frozenset({"of", "by", "in", "on", "at", "to", "from", "for", "with", "into"})
#: Types that say nothing ("Object" is the paper's catch-all): compatible with any type.
GENERIC_TYPES = frozenset({"object", "thing", "entity", "other", "concept", "unknown", ""})


def _generic(t: str | None) -> bool:
    """Untyped, or a type that says nothing (:data:`GENERIC_TYPES`)."""
    return t is None or t.casefold() in GENERIC_TYPES


def _fold(s: str) -> str:
    """Case folded, diacritics removed (NFKD), whitespace collapsed."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(s.casefold().split())


def relation_key(phrase: str) -> str:
    """The comparison form of a relation phrasing.

    >>> relation_key("Was_Directed-By.")
    'directed by'
    >>> relation_key("the place of birth")
    'place of birth'
    """
    s = _fold(_SEPARATORS.sub(" ", phrase))
    s = " ".join(_NON_WORD.sub(" ", s).split())
    stripped = _LEADING.sub("", s)
    return stripped or s


#: Phrasings models use for common Wikidata / 2WikiMultiHopQA relations:
#: ``relation -> (aliases, inverse phrasings)``. :meth:`ExtractionSchema.from_kg` adds
#: them to the relations of the same name; "<name> of" needs no entry (rule 2).
COMMON_PHRASINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "director": (("directed by", "film director"), ("directed", "director of")),
    "producer": (("produced by",), ("produced",)),
    "composer": (("composed by", "music by"), ("composed",)),
    "screenwriter": (("written by", "screenplay by"), ("wrote the screenplay of",)),
    "author": (("written by", "writer", "authored by"), ("wrote", "authored")),
    "cast member": (
        ("starring", "stars", "actor", "cast", "features"),
        ("starred in", "acted in", "appeared in", "stars in"),
    ),
    "based on": (("adapted from", "adaptation of"), ("adapted into", "basis for")),
    "publication date": (
        (
            "release date",
            "released on",
            "released in",
            "published on",
            "published in",
            "premiered on",
        ),
        (),
    ),
    "date of birth": (("born on", "birth date", "birthday", "born in year"), ()),
    "date of death": (("died on", "death date"), ()),
    "place of birth": (("born in", "birthplace", "birth place", "born at"), ("birthplace of",)),
    "place of death": (("died in", "death place", "died at"), ()),
    "spouse": (("married to", "married", "husband", "wife", "wed"), ()),
    "sibling": (("brother", "sister", "sibling of"), ()),
    "child": (("son", "daughter", "has child", "parent of"), ("child of", "son of", "daughter of")),
    "father": (("has father", "dad"), ("father of",)),
    "mother": (("has mother", "mom"), ("mother of",)),
    "country": (("located in country", "in country", "country located in"), ()),
    "country of citizenship": (("citizen of", "citizenship", "nationality", "national of"), ()),
    "educated at": (("studied at", "alma mater", "graduated from", "attended"), ()),
    "employer": (("works for", "worked for", "employed by"), ("employs", "employed")),
    "award received": (("won", "received award", "award", "awarded"), ()),
}


class RelationSpec(BaseModel):
    """One allowed relation.

    Attributes
    ----------
    name : str
        The canonical label (the graph's relation).
    head, tail : str or None
        Entity types of the head and the tail (``None``: any).
    aliases : tuple of str
        Phrasings with the same direction ("directed by" for ``director`` of a film).
    inverse : tuple of str
        Phrasings with head and tail swapped ("directed": person -> film).
    symmetric : bool
        ``spouse``, ``sibling``: an inverse phrasing keeps the direction given.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    head: str | None = None
    tail: str | None = None
    aliases: tuple[str, ...] = ()
    inverse: tuple[str, ...] = ()
    symmetric: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("a relation needs a non-empty name")
        return v


class ExtractionSchema(BaseModel):
    """Allowed relations and entity types of an extraction (see the module docs).

    Attributes
    ----------
    relations : tuple of RelationSpec
        Allowed relations.
    types : tuple of str
        Allowed entity types (empty: any type).
    type_aliases : dict of str to str
        Other names of the types (``"movie" -> "Film"``), compared without case.
    fuzzy : float or None
        Least similarity (0-1, rapidfuzz ``ratio``) of a phrasing to a single name or
        alias to map onto it; ``None`` turns similarity off.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    relations: tuple[RelationSpec, ...]
    types: tuple[str, ...] = ()
    type_aliases: dict[str, str] = Field(default_factory=dict)
    fuzzy: float | None = 0.92
    _index: dict[str, tuple[str, bool]] = PrivateAttr(default_factory=dict)
    _types: dict[str, str] = PrivateAttr(default_factory=dict)
    _aliases: dict[str, str] = PrivateAttr(default_factory=dict)
    _specs: dict[str, RelationSpec] = PrivateAttr(default_factory=dict)
    _name_keys: set[str] = PrivateAttr(default_factory=set)

    def model_post_init(self, context: Any) -> None:
        """Check the phrasings and types; build the lookup tables."""
        if not self.relations:
            raise ValueError("a schema needs at least one relation")
        names = [s.name for s in self.relations]
        dup = [n for i, n in enumerate(names) if n in names[:i]]
        if dup:
            raise ValueError(f"relation {dup[0]!r} is listed twice")
        if self.fuzzy is not None and not 0 < self.fuzzy <= 1:
            raise ValueError(f"fuzzy must be in (0, 1] or None, got {self.fuzzy}")
        types = {_fold(t): t for t in self.types}
        for a, t in self.type_aliases.items():
            if self.types and _fold(t) not in types:
                raise ValueError(f"type alias {a!r} names {t!r}, which is not in types")
        specs = []
        for spec in self.relations:
            sides = {}
            for field, side in (("head", spec.head), ("tail", spec.tail)):
                if side is not None and self.types:
                    if _fold(side) not in types:
                        raise ValueError(
                            f"relation {spec.name!r} has type {side!r}, which is not in types"
                        )
                    sides[field] = types[_fold(side)]  # the spelling of `types`
            specs.append(spec.model_copy(update=sides) if sides else spec)
        object.__setattr__(self, "relations", tuple(specs))
        index: dict[str, tuple[str, bool]] = {}
        where: dict[str, str] = {}
        # names first: two names with one comparison form ("Director", "director") are
        # told apart by their exact spelling only
        for spec in self.relations:
            key = relation_key(spec.name)
            if key and key not in index:
                index[key] = (spec.name, False)
                where[key] = f"a phrasing of {spec.name!r}"
        names_only = set(index)
        for spec in self.relations:
            for phrase, inv in [(a, False) for a in spec.aliases] + [
                (a, True) for a in spec.inverse
            ]:
                key = relation_key(phrase)
                if not key:
                    raise ValueError(f"relation {spec.name!r}: empty phrasing {phrase!r}")
                old = index.get(key)
                if old is not None and old != (spec.name, inv):
                    raise ValueError(
                        f"phrasing {phrase!r} of relation {spec.name!r} is already {where[key]}"
                    )
                index[key] = (spec.name, inv)
                where[key] = f"{'an inverse of' if inv else 'a phrasing of'} {spec.name!r}"
        # stems of "<stem> of": names, and noun aliases ("birthplace", not "born in")
        self._name_keys = names_only | {
            k
            for k, (_, inv) in index.items()
            if not inv and k.split()[-1] not in _PREPOSITIONS and not k.endswith("ed")
        }
        self._index = index
        self._types = types
        self._aliases = {_fold(a): types.get(_fold(t), t) for a, t in self.type_aliases.items()}
        self._specs = {s.name: s for s in self.relations}

    # ------------------------------------------------------------------ lookups
    def __getitem__(self, name: str) -> RelationSpec:
        return self._specs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    @property
    def names(self) -> tuple[str, ...]:
        """The relations' canonical names."""
        return tuple(s.name for s in self.relations)

    def map_relation(self, phrase: str) -> tuple[str, bool, str] | None:
        """``(relation, inverted, how)`` for a phrasing, or ``None`` when out of schema.

        ``how`` is ``"name"``, ``"alias"``, ``"inverse"``, ``"of"`` (``"<name> of"``) or
        ``"similar"`` (string similarity).
        """
        index = self._index
        if phrase in self._specs:
            return phrase, False, "name"
        key = relation_key(phrase)
        hit = index.get(key)
        if hit is not None:
            name, inv = hit
            how = "inverse" if inv else ("name" if relation_key(name) == key else "alias")
            return name, inv, how
        for suffix in (" of", " by"):
            stem_key = key[: -len(suffix)]
            if key.endswith(suffix) and stem_key in self._name_keys:
                return index[stem_key][0], True, "of"
        if self.fuzzy is None or not index:
            return None
        from rapidfuzz import fuzz, process

        keys = list(index)
        found = process.extract(key, keys, scorer=fuzz.ratio, limit=2)
        if not found or found[0][1] < 100 * self.fuzzy:
            return None
        best = index[found[0][0]]
        if len(found) > 1 and found[1][1] == found[0][1] and index[found[1][0]] != best:
            return None  # as close to two relations: not guessed
        return best[0], best[1], "similar"

    def map_type(self, label: str | None) -> str | None:
        """The allowed type a type label names (``None``: untyped or not allowed)."""
        if label is None:
            return None
        f = _fold(label)
        if f in GENERIC_TYPES and f not in self._types:
            return None
        if not self.types:
            return self._aliases.get(f, " ".join(label.split()))
        hit = self._types.get(f) or self._aliases.get(f)
        return None if hit is None else str(hit)

    def prompt(self) -> str:
        """The schema as instructions appended to the extraction prompt."""
        lines = ["Use only these relations (head type -> tail type):"]
        for s in self.relations:
            sig = f" ({s.head or 'any'} -> {s.tail or 'any'})" if s.head or s.tail else ""
            lines.append(f"- {s.name}{sig}")
        if self.types:
            lines.append("Use only these entity types: " + ", ".join(self.types) + ".")
        lines.append("Write each fact in the direction given: <head; type><relation><tail; type>.")
        return "\n".join(lines)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_kg(
        cls, kg: KnowledgeGraph, *, phrasings: bool = True, fuzzy: float | None = 0.92
    ) -> ExtractionSchema:
        """The relations of ``kg``, typed by the majority type of their heads and tails.

        Labels compare with ``_`` as spaces ("place_of_birth" is "place of birth"); with
        ``phrasings``, a relation gets the :data:`COMMON_PHRASINGS` of its name (a
        phrasing another relation of ``kg`` already claims is left out). A relation is
        symmetric when most of its facts also hold reversed (``spouse``, ``sibling``).
        The allowed types are those of ``kg`` when every entity has one (otherwise any
        type is allowed).
        """
        from kgaug.schema import learn_schema

        if not isinstance(kg, KnowledgeGraph):
            raise TypeError(f"expected a KnowledgeGraph, got {type(kg).__name__}")
        learned = learn_schema(kg).relations
        # facts whose reverse is a fact too, per relation (one sorted lookup for all)
        n = max(kg.num_entities, 1)
        r = kg.relation_ids.astype(np.int64)
        fwd = (r * n + kg.head_ids) * n + kg.tail_ids
        rev = (r * n + kg.tail_ids) * n + kg.head_ids
        both = np.isin(rev, fwd) & (kg.head_ids != kg.tail_ids)
        share = np.bincount(r[both], minlength=kg.num_relations) / np.maximum(
            np.bincount(r, minlength=kg.num_relations), 1
        )
        taken = {relation_key(x) for x in kg.relations}
        specs = []
        for i, name in enumerate(kg.relations):
            aliases: list[str] = []  # "place_of_birth" needs none: _ is a space already
            inverse: list[str] = []
            common = COMMON_PHRASINGS.get(relation_key(name)) if phrasings else None
            for src, dst in zip(common or ((), ()), (aliases, inverse)):
                for phrase in src:
                    key = relation_key(phrase)
                    if key not in taken:
                        taken.add(key)
                        dst.append(phrase)
            specs.append(
                RelationSpec(
                    name=name,
                    head=learned[name].head_type,
                    tail=learned[name].tail_type,
                    aliases=tuple(aliases),
                    inverse=tuple(inverse),
                    symmetric=bool(share[i] >= 0.5),
                )
            )
        # a partly typed graph does not restrict types: the model's "Person" stays a type
        typed = bool(kg.num_entities) and bool((kg.entity_type_codes >= 0).all())
        return cls(relations=tuple(specs), types=tuple(kg.types) if typed else (), fuzzy=fuzzy)

    @classmethod
    def from_relations(
        cls, relations: Iterable[str], *, types: Sequence[str] = (), fuzzy: float | None = 0.92
    ) -> ExtractionSchema:
        """A schema of relation names only (LangChain's ``allowed_relationships``)."""
        if isinstance(relations, str):
            raise TypeError("relations must be a list of names, not a single string")
        return cls(
            relations=tuple(RelationSpec(name=n) for n in relations),
            types=tuple(types),
            fuzzy=fuzzy,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExtractionSchema:
        """From plain data: ``{"types": [...], "type_aliases": {...}, "relations": ...}``.

        ``relations`` is a list of objects with ``name`` (and ``head``, ``tail``,
        ``aliases``, ``inverse``, ``symmetric``) or of bare names, or an object from name
        to the rest (or to a list of aliases).
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a schema is a JSON object, got {type(data).__name__}")
        data = dict(data)
        rels = data.get("relations")
        if isinstance(rels, Mapping):
            data["relations"] = [
                {"name": k, **(v if isinstance(v, Mapping) else {"aliases": v or ()})}
                for k, v in rels.items()
            ]
        elif isinstance(rels, list):  # a name alone stands for {"name": name}
            data["relations"] = [{"name": r} if isinstance(r, str) else r for r in rels]
        elif rels is None:
            raise ValueError("a schema needs 'relations'")
        return cls.model_validate(data)

    @classmethod
    def from_file(cls, path: str | Path) -> ExtractionSchema:
        """Read a JSON schema file (see :meth:`from_dict`).

        Raises
        ------
        KGFormatError
            The file is not JSON or not a schema; the message names the file and the
            line (of the JSON error, or of the relation or key at fault).
        """
        p = Path(path)
        try:
            raw = p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as e:
            raise KGFormatError(f"not UTF-8 ({e.reason})", path=p) from None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as e:
            raise KGFormatError(
                f"not JSON: {e.msg} (column {e.colno})", path=p, line=e.lineno
            ) from None
        try:
            return cls.from_dict(data)
        except ValidationError as e:
            err = e.errors()[0]
            msg = str(err["msg"]).removeprefix("Value error, ")
            loc = tuple(err["loc"])
            if loc and isinstance(data, Mapping) and isinstance(data.get("relations"), Mapping):
                if len(loc) >= 2 and loc[0] == "relations" and isinstance(loc[1], int):
                    # from_dict made a list of the object's entries, in order
                    name = (
                        list(data["relations"])[loc[1]]
                        if loc[1] < len(data["relations"])
                        else loc[1]
                    )
                    where = ".".join(["relations", str(name), *map(str, loc[2:])])
                else:
                    where = ".".join(map(str, loc))
            else:
                where = ".".join(map(str, loc))
            line = _error_line(raw, data, loc, msg)
            raise KGFormatError(f"{where}: {msg}" if where else msg, path=p, line=line) from None
        except ValueError as e:
            msg = str(e)
            raise KGFormatError(msg, path=p, line=_error_line(raw, data, (), msg)) from None

    def merged(self, other: ExtractionSchema) -> ExtractionSchema:
        """The relations of this schema and those of ``other`` it lacks (this one wins).

        A relation of ``other`` whose name is a phrasing of this schema is left out (the
        phrasing already maps onto this schema's relation), and so are phrasings of
        ``other`` this schema already uses.
        """
        own = set(self._index)
        taken = set(own) | {relation_key(s.name) for s in other.relations}
        extra = []
        for spec in other.relations:
            if spec.name in self._specs or relation_key(spec.name) in own:
                continue
            keep: dict[str, list[str]] = {"aliases": [], "inverse": []}
            for field in keep:
                for phrase in getattr(spec, field):
                    k = relation_key(phrase)
                    if k not in taken:
                        taken.add(k)
                        keep[field].append(phrase)
            extra.append(spec.model_copy(update={f: tuple(v) for f, v in keep.items()}))
        types = tuple(dict.fromkeys(self.types + other.types)) if self.types else ()
        return type(self)(
            relations=self.relations + tuple(extra),
            types=types,
            type_aliases={**other.type_aliases, **self.type_aliases} if types else {},
            fuzzy=self.fuzzy,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as :meth:`from_dict` reads it."""
        return self.model_dump(mode="json")

    def __repr__(self) -> str:
        types = f", types={list(self.types)}" if self.types else ""
        return f"ExtractionSchema({len(self.relations)} relations{types})"


_WS = re.compile(r"[ \t\n\r]*")


def _relation_spans(raw: str) -> list[tuple[int, int]]:
    """Character spans of the entries of the top-level ``"relations"`` (list or object).

    ``raw`` is valid JSON (it parsed); anything unexpected gives no spans.
    """
    dec = json.JSONDecoder()
    try:
        i = _WS.match(raw, 0).end()  # type: ignore[union-attr]
        if raw[i] != "{":
            return []
        i += 1
        while True:
            i = _WS.match(raw, i).end()  # type: ignore[union-attr]
            if raw[i] == "}":
                return []
            key, i = dec.raw_decode(raw, i)
            i = _WS.match(raw, _WS.match(raw, i).end() + 1).end()  # type: ignore[union-attr]
            if key == "relations" and raw[i] in "[{":
                return _entries(raw, i, dec)
            _, i = dec.raw_decode(raw, i)
            i = _WS.match(raw, i).end()  # type: ignore[union-attr]
            if raw[i] == ",":
                i += 1
    except (IndexError, ValueError, AttributeError):
        return []


def _entries(raw: str, i: int, dec: json.JSONDecoder) -> list[tuple[int, int]]:
    """Spans of the items of the list or the key-value pairs of the object at ``i``."""
    is_list = raw[i] == "["
    spans: list[tuple[int, int]] = []
    i += 1
    while True:
        i = _WS.match(raw, i).end()  # type: ignore[union-attr]
        if raw[i] in "]}":
            return spans
        start = i
        if not is_list:
            _, i = dec.raw_decode(raw, i)
            i = _WS.match(raw, _WS.match(raw, i).end() + 1).end()  # type: ignore[union-attr]
        _, i = dec.raw_decode(raw, i)
        spans.append((start, i))
        i = _WS.match(raw, i).end()  # type: ignore[union-attr]
        if raw[i] == ",":
            i += 1


def _line(raw: str, offset: int) -> int:
    return raw.count("\n", 0, offset) + 1


def _find(raw: str, word: str, start: int = 0, end: int | None = None) -> int | None:
    """Offset of ``"word"`` (as a JSON string) in ``raw[start:end]``, or of ``word``."""
    end = len(raw) if end is None else end
    for needle in (json.dumps(word, ensure_ascii=False), word):
        i = raw.find(needle, start, end)
        if i >= 0:
            return i
    return None


def _error_line(raw: str, data: Any, loc: Sequence[Any], msg: str) -> int | None:
    """The line a schema error points at (see :meth:`ExtractionSchema.from_file`)."""
    spans = _relation_spans(raw)
    if len(loc) >= 2 and loc[0] == "relations" and isinstance(loc[1], int):
        if loc[1] < len(spans):
            s, e = spans[loc[1]]
            fields = [x for x in loc[2:] if isinstance(x, str)]
            hit = _find(raw, fields[0], s, e) if fields else None
            return _line(raw, s if hit is None else hit)
        return None
    if loc:  # a top-level key: "fuzzy", "types"
        hit = _find(raw, str(loc[0]))
        return None if hit is None else _line(raw, hit)
    quoted = re.findall(r"'([^']+)'", msg)
    names = data.get("relations") if isinstance(data, Mapping) else None
    order = (
        list(names)
        if isinstance(names, Mapping)
        else [r.get("name") if isinstance(r, Mapping) else None for r in names or []]
    )
    if "listed twice" in msg and quoted:
        where = [i for i, n in enumerate(order) if n == quoted[0]]
        if len(where) >= 2 and where[1] < len(spans):
            return _line(raw, spans[where[1]][0])
    for q in quoted:  # the relation named in the message, then the phrasing inside it
        if q in order and order.index(q) < len(spans):
            s, e = spans[order.index(q)]
            inner = next((h for x in quoted if x != q and (h := _find(raw, x, s, e))), None)
            return _line(raw, s if inner is None else inner)
    word = msg.split()[0] if msg else ""
    for needle in [*quoted, word if word.isidentifier() else "relations"]:
        hit = _find(raw, needle)
        if hit is not None:
            return _line(raw, hit)
    return None

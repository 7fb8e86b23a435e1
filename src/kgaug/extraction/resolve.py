"""Entity resolution: the names a model gives one entity become one node, and stay apart otherwise.

Text names an entity many ways ("Barack Obama", "Obama", "President Obama"; "USA",
"United States"). Left alone each way is a node, which lowers every phi and breaks the
paths through the entity. :class:`Resolver` merges names by deterministic rules, in this
order, each one only between names of compatible types (the same type, or one of them
untyped or of a catch-all type such as the paper's "Object"):

1. ``alias`` — an alias table (``{"USA": "United States"}``, or a TSV file
   ``alias<TAB>name``), the user's and, unless turned off, a small built-in one of country
   abbreviations (:data:`BUILTIN_ALIASES`);
2. ``exact`` — the same :func:`name_key`: case, punctuation, spacing, diacritics and a
   leading "the" ignored;
3. ``honorific`` — the same after titles and suffixes are dropped ("President", "Dr.",
   "Sir", "Jr."; :data:`HONORIFICS`);
4. ``acronym`` — "NASA", "U.S.A." and the one name whose initials spell it;
5. ``surname`` — a one-word person name and the one person whose last word it is;
6. ``similar`` — string similarity of the keys (rapidfuzz ``token_sort_ratio``) of at
   least ``fuzzy``, never between names that differ in a number ("Apollo 11" and
   "Apollo 12", "Rocky II" and "Rocky III").

A name that fits several candidates, or a pair whose similarity is in the band just below
``fuzzy``, is *ambiguous*: it stays apart, or, when ``confirm`` is an LLM parser, is
merged if the model says the two names are the same entity.

Two names are never merged when that would join two entities of the graph passed as
``into`` (each keeps its own node) or the two ends of one extracted fact ("Barack Obama
spouse Michelle Obama" says they are two people); such a merge is refused and reported as a
:class:`Conflict`. Every merge is a :class:`Merge` in :attr:`Resolution.merges`, and
:meth:`Resolution.undo` gives the resolution without some of them.

Resolution also links names to the entities of ``into``: a name merged with one of them
takes its label and type.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, PrivateAttr

from kgaug.errors import KGFormatError
from kgaug.extraction.schema import GENERIC_TYPES, _fold, _generic
from kgaug.kg import KnowledgeGraph

__all__ = [
    "BUILTIN_ALIASES",
    "HONORIFICS",
    "Ambiguous",
    "Conflict",
    "EntityJudge",
    "Merge",
    "Resolution",
    "Resolver",
    "name_key",
]


#: ``(name, type, a few known facts)`` of one side of a pair shown to a judge.
NameInContext = tuple[str, str | None, Sequence[str]]


@runtime_checkable
class EntityJudge(Protocol):
    """Says whether pairs of names name one entity (:meth:`LLMVerbalizer.same_entity`)."""

    def same_entity(self, pairs: Sequence[tuple[NameInContext, NameInContext]]) -> list[bool]:
        """One answer per pair: ``True`` when both names are the same entity."""
        ...


def _word_set(words: str) -> frozenset[str]:
    """The words of a string, as a set (for the tables below)."""
    return frozenset(words.split())


#: Titles and suffixes the ``honorific`` rule drops (compared without case and dots).
HONORIFICS: frozenset[str] = _word_set(
    "mr mrs ms miss mx dr prof professor sir dame lord lady madam president vice senator "
    "sen governor gov mayor king queen prince princess duke duchess emperor empress pope "
    "saint st rev reverend father fr brother sister general gen colonel col captain capt "
    "lieutenant lt sergeant sgt admiral judge justice chancellor minister prime chairman "
    "ceo coach "
)
# credentials only: "Jr.", "Sr.", "II" tell people apart and stay
_SUFFIXES = _word_set("phd md esq obe mbe kbe cbe")
#: A few abbreviations of countries (``name -> canonical``); on by default.
BUILTIN_ALIASES: dict[str, str] = {
    "USA": "United States",
    "U.S.A.": "United States",
    "US": "United States",
    "U.S.": "United States",
    "United States of America": "United States",
    "UK": "United Kingdom",
    "U.K.": "United Kingdom",
    "United Kingdom of Great Britain and Northern Ireland": "United Kingdom",
    "USSR": "Soviet Union",
    "U.S.S.R.": "Soviet Union",
    "UAE": "United Arab Emirates",
    "PRC": "People's Republic of China",
    "DRC": "Democratic Republic of the Congo",
}
_STOP = _word_set("of the and for in on at to a an de la le von van der du ")
_ACRONYM = re.compile(r"^(?:[A-Z]\.){2,6}$|^[A-Z]{2,6}$")
_NUMBERISH = re.compile(r"^(?:\d+(?:st|nd|rd|th)?|[ivxlcdm]+)$")
_PUNCT = re.compile(r"[^\w\s]+")


def name_key(name: str) -> str:
    """The comparison form of a name (the ``exact`` rule).

    >>> name_key("  The Beatles! ")
    'beatles'
    >>> name_key("Gabriel García Márquez") == name_key("gabriel garcia marquez")
    True
    """
    s = _fold(name.replace("&", " and "))
    s = " ".join(_PUNCT.sub(lambda m: "" if m.group() in {".", "'", "’"} else " ", s).split())
    if s.startswith("the ") and len(s) > 4:
        s = s[4:]
    return s


def _stripped(key: str) -> str:
    """``key`` without leading titles and trailing suffixes (the ``honorific`` rule)."""
    words = key.split()
    while len(words) > 1 and words[0] in HONORIFICS:
        words.pop(0)
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    return " ".join(words)


def _core(name: str, type_: str | None) -> str:
    """The key of a name, without titles and credentials when it names a person."""
    key = name_key(name)
    return _stripped(key) if _person(type_) else key


def _suffixes(words: Sequence[str]) -> list[str]:
    """The proper trailing parts of a name ("joon ho" and "ho" of "bong joon ho")."""
    return [" ".join(words[i:]) for i in range(1, len(words))]


def _numbers(key: str) -> frozenset[str]:
    return frozenset(w for w in key.split() if _NUMBERISH.match(w) or any(c.isdigit() for c in w))


def _initials(key: str) -> str:
    words = [w for w in key.split() if w not in _STOP]
    return "".join(w[0] for w in words) if len(words) >= 2 else ""


#: Type labels that name people (the surname rules apply to them), compared without case.
PERSON_TYPES = frozenset({"person", "human", "per", "people", "individual", "character"})


#: Type labels of places (the built-in country aliases apply to them and to untyped names).
PLACE_TYPES = frozenset({"location", "country", "place", "gpe", "loc", "nation", "state"})


def _place(t: str | None) -> bool:
    return t is None or t.casefold() in GENERIC_TYPES | PLACE_TYPES


def _person(t: str | None) -> bool:
    return t is not None and t.casefold() in PERSON_TYPES


def _compatible(a: str | None, b: str | None) -> bool:
    return _generic(a) or _generic(b) or a == b


class Merge(BaseModel):
    """One merge of two names.

    Attributes
    ----------
    name, into : str
        The names merged (``into`` may be an entity of the ``into`` graph).
    rule : str
        ``"alias"``, ``"exact"``, ``"honorific"``, ``"acronym"``, ``"surname"``,
        ``"similar"`` or ``"llm"``.
    score : float or None
        Similarity (0-1) of a ``"similar"`` merge.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    into: str
    rule: str
    score: float | None = None

    def __str__(self) -> str:
        s = f" {self.score:.2f}" if self.score is not None else ""
        return f"{self.name!r} -> {self.into!r} ({self.rule}{s})"


class Conflict(BaseModel):
    """A merge refused: it would have joined two entities known to be distinct."""

    model_config = ConfigDict(frozen=True)

    name: str
    into: str
    rule: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name!r} ~ {self.into!r} ({self.rule}) refused: {self.reason}"


class Ambiguous(BaseModel):
    """A name left apart: several candidates fit, or the similarity is too low to be sure."""

    model_config = ConfigDict(frozen=True)

    name: str
    candidates: tuple[str, ...]
    rule: str
    score: float | None = None

    def __str__(self) -> str:
        s = f" {self.score:.2f}" if self.score is not None else ""
        return f"{self.name!r} ~ {' | '.join(map(repr, self.candidates))} ({self.rule}{s})"


class _Node(BaseModel):
    """A name and what ranks it as a cluster's label."""

    name: str
    type: str | None
    mentions: int = 0
    first: int = 0
    anchor: bool = False  # an entity of ``into``
    canonical: bool = False  # the target of an alias


class Resolution(BaseModel):
    """What :meth:`Resolver.resolve` decided.

    Attributes
    ----------
    mapping : dict of (str, str or None) to str
        ``(name, type)`` of every extracted name to its entity's label.
    types : dict of str to str or None
        Type of every entity label (an ``into`` entity keeps its own).
    merges, conflicts, ambiguous : tuple
        Every :class:`Merge`, refused merge (:class:`Conflict`) and :class:`Ambiguous` name.
    linked : int
        Extracted names that are (or merged with) an entity of ``into``.
    """

    model_config = ConfigDict(frozen=True)

    mapping: dict[tuple[str, str | None], str]
    types: dict[str, str | None]
    merges: tuple[Merge, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    ambiguous: tuple[Ambiguous, ...] = ()
    linked: int = 0
    _nodes: dict[str, _Node] = PrivateAttr(default_factory=dict)
    _extracted: list[tuple[str, str | None]] = PrivateAttr(default_factory=list)
    _node_of: dict[tuple[str, str | None], str] = PrivateAttr(default_factory=dict)
    _merge_ids: list[tuple[str, str]] = PrivateAttr(default_factory=list)
    _links: list[tuple[str, str]] = PrivateAttr(default_factory=list)

    def __call__(self, name: str, type_: str | None = None) -> str:
        """The label ``(name, type)`` resolved to (``name`` itself if it was not extracted)."""
        return self.mapping.get((name, type_), name)

    def __str__(self) -> str:
        return repr(self)

    def undo(self, *merges: int | Merge) -> Resolution:
        """The resolution without these merges (indices into :attr:`merges`, or the merges).

        A name merged through an undone merge goes back to its own entity, with the names
        that were merged into it.
        """
        drop = _merge_indices(self.merges, merges, "this resolution")
        keep = [i for i in range(len(self.merges)) if i not in drop]
        return _finish(
            self._nodes,
            self._extracted,
            self._node_of,
            tuple(self.merges[i] for i in keep),
            self.conflicts,
            self.ambiguous,
            [self._merge_ids[i] for i in keep],
            self._links,
        )

    def __repr__(self) -> str:
        entities = len(set(self.mapping.values()))
        return (
            f"Resolution({len(self.mapping)} names -> {entities} entities, "
            f"{len(self.merges)} merges, {len(self.conflicts)} conflicts, "
            f"{len(self.ambiguous)} ambiguous, {self.linked} linked)"
        )


def _merge_indices(merges: Sequence[Merge], picked: Iterable[int | Merge], owner: str) -> set[int]:
    """Positions in ``merges`` of the ``picked`` merges (indices, negative too, or merges)."""
    out: set[int] = set()
    for m in picked:
        if isinstance(m, Merge):
            if m not in merges:
                raise ValueError(f"not a merge of {owner}: {m}")
            out.add(list(merges).index(m))
        elif isinstance(m, int) and not isinstance(m, bool) and -len(merges) <= m < len(merges):
            out.add(m % len(merges))
        else:
            raise ValueError(f"no merge {m!r} (there are {len(merges)})")
    return out


def _node_id(name: str, type_: str | None) -> str:
    return f"{name}\x00{type_ or ''}"


def _finish(
    nodes: dict[str, _Node],
    extracted: list[tuple[str, str | None]],
    node_of: dict[tuple[str, str | None], str],
    merges: tuple[Merge, ...],
    conflicts: tuple[Conflict, ...],
    ambiguous: tuple[Ambiguous, ...],
    merge_ids: Sequence[tuple[str, str]],
    links: Sequence[tuple[str, str]] = (),
) -> Resolution:
    """Clusters from ``merges`` (replayed), labels, types and the mapping."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in [*links, *merge_ids]:
        parent[find(a)] = find(b)
    members: dict[str, list[str]] = defaultdict(list)
    for nid in nodes:
        members[find(nid)].append(nid)

    def rank(nid: str) -> tuple[Any, ...]:
        n = nodes[nid]
        key = name_key(n.name)
        core = _core(n.name, n.type)
        return (
            n.anchor,
            n.canonical,
            core == key,  # "Barack Obama" before "President Barack Obama"
            len(core.split()),
            n.mentions,
            -n.first,
        )

    label: dict[str, str] = {}
    ctype: dict[str, str | None] = {}
    for root, ms in members.items():
        best = max(ms, key=rank)
        label[root] = nodes[best].name
        if nodes[best].anchor and nodes[best].type is not None:
            ctype[root] = nodes[best].type
        else:  # the most mentioned specific type
            votes = Counter(
                {nodes[m].type: nodes[m].mentions or 1 for m in ms if not _generic(nodes[m].type)}
            )
            ctype[root] = votes.most_common(1)[0][0] if votes else nodes[best].type
    # one label per entity: clusters that would share a label get their type added
    by_label: dict[str, list[str]] = defaultdict(list)
    named = set(node_of.values())
    for root in members:
        if any(nid in named or nodes[nid].anchor for nid in members[root]):
            by_label[label[root]].append(root)
    for name, roots in by_label.items():
        if len(roots) > 1:
            anchored = [r for r in roots if any(nodes[m].anchor for m in members[r])]
            for i, r in enumerate(roots):
                if r in anchored[:1]:
                    continue
                suffix = ctype[r] or f"{i + 1}"
                label[r] = f"{name} ({suffix})"
    mapping = {key: label[find(node_of[key])] for key in extracted}
    types = {label[find(node_of[key])]: ctype[find(node_of[key])] for key in extracted}
    linked = sum(
        1 for key in extracted if any(nodes[m].anchor for m in members[find(node_of[key])])
    )
    res = Resolution(
        mapping=mapping,
        types=types,
        merges=merges,
        conflicts=conflicts,
        ambiguous=ambiguous,
        linked=linked,
    )
    res._nodes = nodes
    res._extracted = extracted
    res._node_of = node_of
    res._merge_ids = list(merge_ids)
    res._links = list(links)
    return res


def read_aliases(path: str | PathLike[str]) -> dict[str, str]:
    """An alias table from a TSV file: ``alias<TAB>name`` per line (``#`` comments).

    Raises
    ------
    KGFormatError
        A line without exactly two non-empty fields, or an alias given two names; the
        message names the file and line.
    """
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise KGFormatError(f"not UTF-8 ({e.reason})", path=p) from None
    for i, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [x.strip() for x in line.split("\t")]
        if len(parts) != 2:
            raise KGFormatError(
                f"expected 'alias<TAB>name', got {len(parts)} field(s)", path=p, line=i
            )
        if not all(parts):
            which = "alias" if not parts[0] else "name"
            raise KGFormatError(f"expected 'alias<TAB>name', the {which} is empty", path=p, line=i)
        a, name = parts
        if a in out and out[a] != name:
            raise KGFormatError(
                f"alias {a!r} is {out[a]!r} on line {seen[a]} and {name!r} here", path=p, line=i
            )
        out[a], seen[a] = name, i
    return out


class Resolver:
    """Entity resolution rules and thresholds (see the module docs).

    Parameters
    ----------
    aliases : mapping of str to str, or path
        ``name -> canonical name``; a path is a TSV file (:func:`read_aliases`).
    builtin_aliases : bool
        Also use :data:`BUILTIN_ALIASES` (the user's table wins).
    honorifics, acronyms, surnames : bool
        Turn these rules on or off.
    in_text : bool
        Before the rules above: within one text, a one-word person name ("Lennon")
        stands for the one person of the text with that last word ("John Lennon"), as a
        reader takes it (:meth:`resolve_in_text`).
    fuzzy : float or None
        Least similarity (0-1) to merge by the ``similar`` rule (``None``: off).
        Needs rapidfuzz (``pip install "kgaug[parse]"``).
    ambiguous_from : float
        Pairs with a similarity in ``[ambiguous_from, fuzzy)`` are ambiguous.
    confirm : EntityJudge, optional
        A :class:`~kgaug.verbalize.llm.LLMVerbalizer` asked about the ambiguous pairs
        (:meth:`~kgaug.verbalize.llm.LLMVerbalizer.same_entity`).
    distinct : iterable of (str, str)
        Pairs of names never to merge.
    """

    def __init__(
        self,
        *,
        aliases: Mapping[str, str] | str | PathLike[str] | None = None,
        builtin_aliases: bool = True,
        honorifics: bool = True,
        acronyms: bool = True,
        surnames: bool = True,
        in_text: bool = True,
        fuzzy: float | None = 0.95,
        ambiguous_from: float = 0.85,
        confirm: EntityJudge | None = None,
        distinct: Iterable[tuple[str, str]] = (),
    ) -> None:
        if aliases is None:
            table: dict[str, str] = {}
        elif isinstance(aliases, Mapping):
            table = {}
            for k, v in aliases.items():
                if not (isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip()):
                    raise ValueError(f"aliases: {k!r} -> {v!r} is not a pair of non-empty names")
                table[" ".join(k.split())] = " ".join(v.split())
        else:
            table = read_aliases(aliases)
        if fuzzy is not None and not 0 < fuzzy <= 1:
            raise ValueError(f"fuzzy must be in (0, 1] or None, got {fuzzy!r}")
        if not 0 < ambiguous_from <= 1:
            raise ValueError(f"ambiguous_from must be in (0, 1], got {ambiguous_from!r}")
        if fuzzy is not None:
            try:
                import rapidfuzz  # noqa: F401
            except ImportError:
                raise ImportError(
                    "string similarity needs rapidfuzz: pip install 'kgaug[parse]' "
                    "(or Resolver(fuzzy=None))"
                ) from None
        if confirm is not None and not isinstance(confirm, EntityJudge):
            raise TypeError("confirm must be an LLM parser with a same_entity() method")
        self.aliases = table
        self.builtin_aliases = builtin_aliases
        self.honorifics = honorifics
        self.acronyms = acronyms
        self.surnames = surnames
        self.in_text = in_text
        self.fuzzy = fuzzy
        self.ambiguous_from = ambiguous_from
        self.confirm = confirm
        self.distinct = [(str(a), str(b)) for a, b in distinct]
        self._kg_index_of: tuple[KnowledgeGraph | None, dict[str, dict[str, list[int]]]] | None = (
            None
        )

    def __repr__(self) -> str:
        parts = []
        if self.aliases:
            parts.append(f"aliases={len(self.aliases)}")
        for name in ("builtin_aliases", "honorifics", "acronyms", "surnames", "in_text"):
            if not getattr(self, name):
                parts.append(f"{name}=False")
        parts.append(f"fuzzy={self.fuzzy}")
        if self.confirm is not None:
            parts.append("confirm=<llm>")
        return f"Resolver({', '.join(parts)})"

    # ------------------------------------------------------------------ the rules
    def resolve_in_text(
        self,
        mentions: Sequence[tuple[str, str, str | None]],
        *,
        distinct: Iterable[tuple[str, str, str]] = (),
    ) -> tuple[dict[tuple[str, str, str | None], tuple[str, str | None]], list[Merge]]:
        """Short person names resolved inside each text.

        Parameters
        ----------
        mentions : sequence of (text id, name, type)
            Every name as extracted, with its text.
        distinct : iterable of (text id, name, name)
            Names of one text never to join (the two ends of each of its facts).

        Returns
        -------
        rewrites : dict
            ``(text id, name, type) -> (full name, type)`` for each person-typed name
            whose text names exactly one person it ends ("Lennon", "Joon-ho"; titles
            aside).
        merges : list of Merge
            One ``"in-text"`` merge per ``(name, full name)`` pair rewritten.
        """
        if not self.in_text:
            return {}, []
        apart = set()
        for tid, a, b in distinct:
            apart |= {(tid, a, b), (tid, b, a)}
        by_text: dict[str, dict[str, dict[str, tuple[str, str | None]]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for tid, name, ty in mentions:
            if not (_person(ty) or _generic(ty)):
                continue
            words = _stripped(name_key(name)).split()
            if len(words) >= 2 and not _NUMBERISH.match(words[-1]):
                key = " ".join(words)
                for suffix in _suffixes(words):
                    full = by_text[tid][suffix]
                    old = full.get(key)
                    if (
                        old is None
                        or (_person(ty) and not _person(old[1]))
                        or (name_key(name) == key and name_key(old[0]) != key)  # untitled
                    ):
                        full[key] = (name, ty)
        rewrites: dict[tuple[str, str, str | None], tuple[str, str | None]] = {}
        merges: dict[tuple[str, str], Merge] = {}
        for tid, name, ty in mentions:
            short = _stripped(name_key(name))
            if not short or not _person(ty):  # "Jordan; Object" may be the country
                continue
            found = by_text.get(tid, {}).get(short, {})
            cands = [v for k, v in found.items() if k != short]
            if len(cands) != 1:
                continue
            full_name, _fty = cands[0]
            if any((tid, name, n) in apart for n in (full_name, *(v[0] for v in found.values()))):
                continue  # "Michael Jordan visited Jordan": two entities
            rewrites[(tid, name, ty)] = (full_name, ty)
            merges.setdefault((name, full_name), Merge(name=name, into=full_name, rule="in-text"))
        return rewrites, list(merges.values())

    def resolve(
        self,
        names: Sequence[tuple[str, str | None]],
        *,
        mentions: Mapping[tuple[str, str | None], int] | None = None,
        distinct: Iterable[tuple[tuple[str, str | None], tuple[str, str | None]]] = (),
        into: KnowledgeGraph | None = None,
        context: Mapping[tuple[str, str | None], Sequence[str]] | None = None,
    ) -> Resolution:
        """Resolve extracted ``(name, type)`` pairs (in first-seen order).

        Parameters
        ----------
        names : sequence of (str, str or None)
            The extracted names with their types.
        mentions : mapping, optional
            How often each was extracted (ranks the label of a cluster).
        distinct : iterable of pairs of (name, type)
            Pairs never to merge (the ends of each extracted fact).
        into : KnowledgeGraph, optional
            Entities to link to; two of them are never merged.
        context : mapping, optional
            A few facts per name, shown to ``confirm``.
        """
        return _Run(self, names, mentions or {}, distinct, into, context or {}).run()


class _Run:
    """One resolution: union-find over the names and the ``into`` entities they meet."""

    def __init__(
        self,
        cfg: Resolver,
        names: Sequence[tuple[str, str | None]],
        mentions: Mapping[tuple[str, str | None], int],
        distinct: Iterable[tuple[tuple[str, str | None], tuple[str, str | None]]],
        into: KnowledgeGraph | None,
        context: Mapping[tuple[str, str | None], Sequence[str]],
    ) -> None:
        self.cfg = cfg
        self.into = into
        self.context = context
        self.nodes: dict[str, _Node] = {}
        self.node_of: dict[tuple[str, str | None], str] = {}
        self.extracted: list[tuple[str, str | None]] = []
        for i, (name, ty) in enumerate(dict.fromkeys((n, t) for n, t in names)):
            nid = _node_id(name, ty)
            self.nodes[nid] = _Node(
                name=name, type=ty, mentions=mentions.get((name, ty), 1), first=i
            )
            self.node_of[(name, ty)] = nid
            self.extracted.append((name, ty))
        self.parent: dict[str, str] = {}
        self.anchor: dict[str, str | None] = {}
        # cannot-link: node -> {other node: why}
        self.cannot: dict[str, dict[str, str]] = defaultdict(dict)
        for x, y in distinct:
            na, nb = self.node_of.get((x[0], x[1])), self.node_of.get((y[0], y[1]))
            if na and nb and na != nb:
                why = f"{x[0]!r} and {y[0]!r} are the two ends of one fact"
                self.cannot[na][nb] = self.cannot[nb][na] = why
        by_name: dict[str, list[str]] = defaultdict(list)
        for nid, n in self.nodes.items():
            by_name[n.name].append(nid)
        for a, b in cfg.distinct:
            for na in by_name.get(a, []):
                for nb in by_name.get(b, []):
                    why = f"{a!r} and {b!r} are marked distinct"
                    self.cannot[na][nb] = self.cannot[nb][na] = why
        self.members: dict[str, list[str]] = {nid: [nid] for nid in self.nodes}
        self.merges: list[Merge] = []
        self.merge_ids: list[tuple[str, str]] = []
        self.links: list[tuple[str, str]] = []  # same name (another type, or into's): not a merge
        self.conflicts: list[Conflict] = []
        self.ambiguous: list[Ambiguous] = []
        self.asked: list[tuple[str, str, str, float | None]] = []
        self._kg_index: dict[str, dict[str, list[int]]] | None = None

    # ---------------------------------------------------------------- union-find
    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def anchor_node(self, kg_id: int) -> str:
        """The node of an ``into`` entity (made on first use)."""
        assert self.into is not None
        label = self.into.entities[kg_id]
        nid = f"\x01{kg_id}"
        if nid not in self.nodes:
            self.nodes[nid] = _Node(
                name=label, type=self.into.entity_type(label), mentions=0, first=-1, anchor=True
            )
            self.members[nid] = [nid]
            self.anchor[nid] = label
        return nid

    def virtual_node(self, name: str) -> str:
        """The node of an alias target no text names."""
        nid = f"\x02{name}"
        if nid not in self.nodes:
            self.nodes[nid] = _Node(name=name, type=None, first=10**9, canonical=True)
            self.members[nid] = [nid]
        return nid

    def union(self, a: str, b: str, rule: str, score: float | None = None) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        na, nb = self.nodes[a], self.nodes[b]
        an, bn = self.anchor.get(ra), self.anchor.get(rb)
        if an is not None and bn is not None:
            self.conflicts.append(
                Conflict(
                    name=na.name,
                    into=nb.name,
                    rule=rule,
                    reason=f"{an!r} and {bn!r} are two entities of the graph",
                )
            )
            return False
        small, big = (ra, rb) if len(self.members[ra]) <= len(self.members[rb]) else (rb, ra)
        big_set = set(self.members[big])
        for m in self.members[small]:
            clash = sorted(set(self.cannot.get(m, {})) & big_set)
            if clash:
                reason = self.cannot[m][clash[0]]
                self.conflicts.append(
                    Conflict(name=na.name, into=nb.name, rule=rule, reason=reason)
                )
                return False
        types_a = {self.nodes[m].type for m in self.members[ra]} - {None}
        types_b = {self.nodes[m].type for m in self.members[rb]} - {None}
        spec_a = {str(t) for t in types_a if not _generic(t)}
        spec_b = {str(t) for t in types_b if not _generic(t)}
        if spec_a and spec_b and not (spec_a & spec_b):
            self.conflicts.append(
                Conflict(
                    name=na.name,
                    into=nb.name,
                    rule=rule,
                    reason=f"types {sorted(spec_a)} and {sorted(spec_b)} differ",
                )
            )
            return False
        self.parent[small] = big
        self.members[big] += self.members.pop(small)
        if self.anchor.get(small) is not None:
            self.anchor[big] = self.anchor[small]
        if na.name == nb.name:
            self.links.append((a, b))
        else:
            self.merges.append(Merge(name=na.name, into=nb.name, rule=rule, score=score))
            self.merge_ids.append((a, b))
        return True

    # ---------------------------------------------------------------- the graph's index
    def kg_index(self) -> dict[str, dict[str, list[int]]]:
        """Keys, stripped keys, initials and last words of the ``into`` entities.

        Kept on the :class:`Resolver` for the last ``into`` graph, so that resolving
        again (an undo) does not index the graph again.
        """
        cached = self.cfg._kg_index_of
        if self._kg_index is None and cached is not None and cached[0] is self.into:
            self._kg_index = cached[1]
        if self._kg_index is None:
            idx: dict[str, dict[str, list[int]]] = {
                k: defaultdict(list) for k in ("exact", "honorific", "initials", "last", "label")
            }
            if self.into is not None:
                for i, label in enumerate(self.into.entities):
                    key = name_key(label)
                    st = _core(label, self.into.entity_type(label))
                    idx["label"][label].append(i)
                    idx["exact"][key].append(i)
                    idx["honorific"][st].append(i)
                    ini = _initials(st)
                    if ini:
                        idx["initials"][ini].append(i)
                    for suffix in _suffixes(st.split()):
                        idx["last"][suffix].append(i)
            self._kg_index = idx
            self.cfg._kg_index_of = (self.into, idx)
        return self._kg_index

    def kg_candidates(self, table: str, key: str, type_: str | None) -> list[int]:
        if self.into is None:
            return []
        into = self.into
        return [
            i
            for i in self.kg_index()[table].get(key, [])
            if _compatible(type_, into.entity_type(into.entities[i]))
        ]

    # ---------------------------------------------------------------- rules
    def run(self) -> Resolution:
        order = list(self.extracted)
        self.link_labels(order)
        self.rule_alias(order)
        self.rule_key(order, "exact", lambda name, _type: name_key(name))
        if self.cfg.honorifics:
            self.rule_key(order, "honorific", _core)
        if self.cfg.acronyms:
            self.rule_acronym(order)
        if self.cfg.surnames:
            self.rule_surname(order)
        if self.cfg.fuzzy is not None:
            self.rule_similar(order)
        if self.cfg.confirm is not None and self.asked:
            self.confirm()
        return _finish(
            self.nodes,
            self.extracted,
            self.node_of,
            tuple(self.merges),
            tuple(self.conflicts),
            tuple(self.ambiguous),
            merge_ids=self.merge_ids,
            links=self.links,
        )

    def link_labels(self, order: list[tuple[str, str | None]]) -> None:
        """Names that are labels of ``into`` entities are those entities (before any rule)."""
        if self.into is None:
            return
        labels = self.kg_index()["label"]
        into = self.into
        for name, ty in order:
            for i in labels.get(name, [])[:1]:
                if _compatible(ty, into.entity_type(into.entities[i])):
                    self.union(self.node_of[(name, ty)], self.anchor_node(i), "exact")

    def rule_alias(self, order: list[tuple[str, str | None]]) -> None:
        table = {name_key(k): v for k, v in self.cfg.aliases.items()}
        builtin = BUILTIN_ALIASES if self.cfg.builtin_aliases else {}
        if not table and not builtin:
            return
        key_nodes: dict[str, list[str]] = defaultdict(list)
        for name, ty in order:
            key_nodes[name_key(name)].append(self.node_of[(name, ty)])
        for name, ty in order:
            target = table.get(name_key(name))
            if target is None and _place(ty):  # "US" the country, not "Us" the film
                target = builtin.get(name.strip())
            if target is None:
                continue
            tkey = name_key(target)
            nid = self.node_of[(name, ty)]
            cands = [c for c in key_nodes.get(tkey, []) if _compatible(ty, self.nodes[c].type)]
            kg = self.kg_candidates("exact", tkey, ty)
            if kg:
                dest = self.anchor_node(kg[0])
            elif cands:
                dest = cands[0]
            else:
                dest = self.virtual_node(target)
            self.union(nid, dest, "alias")
            for c in cands:  # the other names written as the target
                self.union(c, dest, "exact")

    def rule_key(self, order: list[tuple[str, str | None]], rule: str, keyf: Any) -> None:
        groups: dict[str, list[str]] = defaultdict(list)
        for name, ty in order:
            groups[keyf(name, ty)].append(self.node_of[(name, ty)])
        for key, nids in groups.items():
            specific = {str(self.nodes[n].type) for n in nids if not _generic(self.nodes[n].type)}
            by_type: dict[str | None, list[str]] = defaultdict(list)
            for n in nids:
                t = self.nodes[n].type
                by_type[None if _generic(t) else t].append(n)
            generic = by_type.pop(None, [])
            if len(specific) == 1:
                (only,) = specific
                by_type[only] = by_type[only] + generic
            elif not specific:
                by_type[None] = generic
            elif generic:
                for n in generic:
                    self.ambiguous.append(
                        Ambiguous(
                            name=self.nodes[n].name,
                            candidates=tuple(
                                self.nodes[by_type[t][0]].name + f" ({t})" for t in sorted(specific)
                            ),
                            rule=rule,
                        )
                    )
            for t, group in by_type.items():
                for n in group[1:]:
                    self.union(n, group[0], rule)
                kg = self.kg_candidates("exact" if rule == "exact" else "honorific", key, t)
                labels = self.kg_index()["label"] if self.into is not None else {}
                if rule == "exact" and self.into is not None:
                    own = [i for n in group for i in labels.get(self.nodes[n].name, [])]
                    if own:  # the name is an entity's label: that entity
                        kg = own[:1]
                if len(kg) == 1:
                    self.union(group[0], self.anchor_node(kg[0]), rule)
                elif len(kg) > 1:
                    self.ambiguous.append(
                        Ambiguous(
                            name=self.nodes[group[0]].name,
                            candidates=tuple(self.into.entities[i] for i in kg[:5]),  # type: ignore[union-attr]
                            rule=rule,
                        )
                    )

    def rule_acronym(self, order: list[tuple[str, str | None]]) -> None:
        initials: dict[str, list[str]] = defaultdict(list)
        for name, ty in order:
            ini = _initials(_core(name, ty))
            if ini:
                initials[ini].append(self.node_of[(name, ty)])
        for name, ty in order:
            if not _ACRONYM.match(name.strip()):
                continue
            letters = name.replace(".", "").casefold()
            nid = self.node_of[(name, ty)]
            cands = {
                self.find(c)
                for c in initials.get(letters, [])
                if _compatible(ty, self.nodes[c].type)
            }
            kg = self.kg_candidates("initials", letters, ty)
            roots = cands | {self.find(self.anchor_node(i)) for i in kg}
            roots.discard(self.find(nid))
            if len(roots) == 1:
                (root,) = roots
                self.union(nid, root, "acronym")
            elif len(roots) > 1:
                self.ambiguous.append(
                    Ambiguous(
                        name=name,
                        candidates=tuple(sorted(self.nodes[r].name for r in roots)[:5]),
                        rule="acronym",
                    )
                )

    def rule_surname(self, order: list[tuple[str, str | None]]) -> None:
        # across texts a short name is only taken for a person when typed as one
        last: dict[str, list[str]] = defaultdict(list)
        for name, ty in order:
            words = _stripped(name_key(name)).split()
            if _person(ty) or _generic(ty):
                for suffix in _suffixes(words):
                    last[suffix].append(self.node_of[(name, ty)])
        for name, ty in order:
            key = _stripped(name_key(name))
            if not key or not _person(ty):
                continue
            nid = self.node_of[(name, ty)]
            cands = last.get(key, [])
            kg = self.kg_candidates("last", key, ty)
            roots = {self.find(c) for c in cands} | {self.find(self.anchor_node(i)) for i in kg}
            roots.discard(self.find(nid))
            if len(roots) == 1:
                (root,) = roots
                self.union(nid, root, "surname")
            elif len(roots) > 1:
                ranked = sorted(self.nodes[r].name for r in roots)
                self.ambiguous.append(
                    Ambiguous(name=name, candidates=tuple(ranked[:5]), rule="surname")
                )
                for r in sorted(roots)[:3]:
                    self.asked.append((nid, r, "surname", None))

    def rule_similar(self, order: list[tuple[str, str | None]]) -> None:
        from rapidfuzz import fuzz

        assert self.cfg.fuzzy is not None
        cut, low = 100 * self.cfg.fuzzy, 100 * min(self.cfg.ambiguous_from, self.cfg.fuzzy)
        pool: list[tuple[str, str]] = []  # (node id, stripped key): one per cluster root
        seen_roots: set[str] = set()
        for name, ty in order:
            nid = self.node_of[(name, ty)]
            root = self.find(nid)
            if root not in seen_roots:
                seen_roots.add(root)
                pool.append((nid, _core(name, ty)))
        if self.into is not None:  # the graph's entities that share a word with a name
            words = {w for _, k in pool for w in k.split() if w not in _STOP}
            exact = self.kg_index()["exact"]
            for key, ids in exact.items():
                if any(w in words for w in key.split()):
                    for i in ids:
                        nid = self.anchor_node(i)
                        if self.find(nid) not in seen_roots:
                            seen_roots.add(self.find(nid))
                            pool.append((nid, _core(self.nodes[nid].name, self.nodes[nid].type)))
        blocks: dict[str, list[int]] = defaultdict(list)
        for j, (_, key) in enumerate(pool):
            for w in set(key.split()) - _STOP:
                blocks[w].append(j)
        limit = max(50, len(pool) // 20)
        pairs: set[tuple[int, int]] = set()
        for members in blocks.values():
            if len(members) > limit:
                continue  # a word in too many names ("john", "city") blocks nothing
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    pairs.add((members[x], members[y]))
        scored = []
        for x, y in pairs:
            (na, ka), (nb, kb) = pool[x], pool[y]
            if self.nodes[na].anchor and self.nodes[nb].anchor:
                continue
            if not _compatible(self.nodes[na].type, self.nodes[nb].type):
                continue
            if _numbers(ka) != _numbers(kb):
                continue
            s = fuzz.token_sort_ratio(ka, kb)
            if s >= low:
                scored.append((-s, x, y))
        for neg, x, y in sorted(scored):
            s = -neg
            na, nb = pool[x][0], pool[y][0]
            if self.find(na) == self.find(nb):
                continue
            if s >= cut:
                self.union(na, nb, "similar", round(s / 100, 4))
            else:
                self.ambiguous.append(
                    Ambiguous(
                        name=self.nodes[na].name,
                        candidates=(self.nodes[nb].name,),
                        rule="similar",
                        score=round(s / 100, 4),
                    )
                )
                self.asked.append((na, nb, "similar", round(s / 100, 4)))

    def confirm(self) -> None:
        """Ask the LLM about the ambiguous pairs; merge those it calls the same."""
        judge = self.cfg.confirm
        if judge is None:
            return
        pairs: list[tuple[NameInContext, NameInContext]] = []
        for a, b, _, _ in self.asked:
            na, nb = self.nodes[a], self.nodes[b]
            ctx_a = list(self.context.get((na.name, na.type), ()))[:3]
            ctx_b = list(self.context.get((nb.name, nb.type), ()))[:3]
            pairs.append(((na.name, na.type, ctx_a), (nb.name, nb.type, ctx_b)))
        answers = judge.same_entity(pairs)
        # a name the model calls the same as two candidates stays ambiguous
        yes = Counter(a for (a, _, _, _), same in zip(self.asked, answers) if same)
        for (a, b, _rule, score), same in zip(self.asked, answers):
            if same and yes[a] == 1:
                self.union(a, b, "llm", score)

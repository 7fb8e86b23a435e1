"""Offline, deterministic template verbalizer.

Questions are built from relation phrasings in the style of 2WikiMultiHopQA:

* 1-hop (:class:`~kgaug.records.Triple`): ``"Who directed Titanic?"``;
* 2-hop (:class:`~kgaug.records.FiveTuple`): ``"Where was the director of Titanic born?"``;
* n-hop (:class:`~kgaug.records.Chain`): inner hops are nested noun phrases, ``"Where was
  the spouse of the director of Titanic born?"``;
* inverse steps ``"r^-1"`` (undirected paths): ``"Which film was directed by James
  Cameron?"``;
* comparisons (:class:`~kgaug.records.ComparisonFact`): ``"Are Kenosha and Chicago located
  in the same country?"``.

Relations without a built-in phrasing fall back to ``"What is the {relation} of {head}?"``
(nested: ``"the {relation} of ..."``).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from kgaug.records import Chain, ComparisonFact, FiveTuple, Triple
from kgaug.verbalize.base import Question, VerbalizerItem

__all__ = ["TemplateVerbalizer"]

_INVERSE = "^-1"
#: Most phrasings one item is given (the product of per-hop variants is cut here).
_MAX_CANDIDATES = 256
_FORMAT_FIELDS = frozenset({"head", "relation", "noun"})

ValueKind = Literal["entity", "date", "number"]


@dataclass(frozen=True)
class _Phrasing:
    """How one relation (or one inverse relation) is put into words.

    ``ask`` are question templates for the last hop, ``nested`` noun-phrase templates for
    inner hops; both use ``{head}`` for the subject. ``same`` / ``order`` are comparison
    templates with ``{e1}`` and ``{e2}``.
    """

    noun: str
    ask: tuple[str, ...]
    nested: tuple[str, ...]
    same: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    kind: ValueKind = "entity"
    date_subject: bool = False  # {head} is a date: "on {head}" reads "in {head}" for a year


def _esc(text: str) -> str:
    """``text`` for embedding in a format string (labels may contain braces)."""
    return text.replace("{", "{{").replace("}", "}}")


def _generic(noun: str, kind: ValueKind = "entity") -> _Phrasing:
    n = _esc(noun)
    return _Phrasing(
        noun=noun,
        ask=(f"What is the {n} of {{head}}?", f"What was the {n} of {{head}}?"),
        nested=(f"the {n} of {{head}}",),
        kind=kind,
    )


def _generic_inverse(noun: str) -> _Phrasing:
    n = _esc(noun)
    return _Phrasing(
        noun=f"entity whose {noun} is",
        ask=(f"What has {{head}} as its {n}?", f"Which entity has {{head}} as its {n}?"),
        nested=(f"the entity whose {n} is {{head}}",),
    )


def _same_generic(noun: str) -> tuple[str, ...]:
    n = _esc(noun)
    return (
        f"Do {{e1}} and {{e2}} have the same {n}?",
        f"Is the {n} of {{e1}} the same as that of {{e2}}?",
    )


def _order_generic(noun: str, kind: ValueKind) -> tuple[str, ...]:
    n = _esc(noun)
    if kind == "date":
        return (
            f"Is the {n} of {{e1}} earlier than, the same as, or later than that of {{e2}}?",
            f"Compared with {{e2}}, is the {n} of {{e1}} earlier, the same, or later?",
        )
    return (
        f"Is the {n} of {{e1}} smaller than, equal to, or larger than that of {{e2}}?",
        f"Compared with {{e2}}, is the {n} of {{e1}} smaller, the same, or larger?",
    )


def _p(
    noun: str,
    ask: Sequence[str],
    nested: Sequence[str] = (),
    same: Sequence[str] = (),
    order: Sequence[str] = (),
    kind: ValueKind = "entity",
) -> _Phrasing:
    return _Phrasing(
        noun=noun,
        ask=tuple(ask),
        nested=tuple(nested) or (f"the {noun} of {{head}}",),
        same=tuple(same),
        order=tuple(order),
        kind=kind,
    )


# Forward phrasings of common 2WikiMultiHopQA / Wikidata relations.
_BUILTIN: dict[str, _Phrasing] = {
    "director": _p(
        "director",
        (
            "Who directed {head}?",
            "Who is the director of {head}?",
            "Who was the director of {head}?",
        ),
        ("the director of {head}", "the person who directed {head}"),
        (
            "Do {e1} and {e2} have the same director?",
            "Were {e1} and {e2} directed by the same person?",
        ),
    ),
    "producer": _p(
        "producer",
        ("Who produced {head}?", "Who is the producer of {head}?"),
        ("the producer of {head}",),
        (
            "Do {e1} and {e2} have the same producer?",
            "Were {e1} and {e2} produced by the same person?",
        ),
    ),
    "cast member": _p(
        "cast member",
        ("Who starred in {head}?", "Who is a cast member of {head}?", "Who acted in {head}?"),
        ("the cast member of {head}", "the actor who starred in {head}"),
        ("Do {e1} and {e2} share a cast member?",),
    ),
    "composer": _p(
        "composer",
        ("Who composed {head}?", "Who is the composer of {head}?"),
        ("the composer of {head}",),
        ("Do {e1} and {e2} have the same composer?",),
    ),
    "performer": _p(
        "performer",
        ("Who performed {head}?", "Who is the performer of {head}?"),
        ("the performer of {head}",),
        (
            "Do {e1} and {e2} have the same performer?",
            "Were {e1} and {e2} performed by the same artist?",
        ),
    ),
    "screenwriter": _p(
        "screenwriter",
        ("Who wrote the screenplay for {head}?", "Who is the screenwriter of {head}?"),
        ("the screenwriter of {head}",),
        ("Do {e1} and {e2} have the same screenwriter?",),
    ),
    "author": _p(
        "author",
        ("Who wrote {head}?", "Who is the author of {head}?"),
        ("the author of {head}",),
        (
            "Do {e1} and {e2} have the same author?",
            "Were {e1} and {e2} written by the same person?",
        ),
    ),
    "based on": _p(
        "source work",
        ("What is {head} based on?", "Which work is {head} based on?"),
        ("the work that {head} is based on", "the source work of {head}"),
        ("Are {e1} and {e2} based on the same work?",),
    ),
    "publisher": _p(
        "publisher",
        ("Who published {head}?", "Who is the publisher of {head}?"),
        ("the publisher of {head}",),
        ("Do {e1} and {e2} have the same publisher?",),
    ),
    "date of birth": _p(
        "date of birth",
        (
            "When was {head} born?",
            "What is the date of birth of {head}?",
            "What is the birth date of {head}?",
        ),
        ("the date of birth of {head}",),
        (
            "Were {e1} and {e2} born on the same date?",
            "Do {e1} and {e2} have the same date of birth?",
        ),
        (
            "Was {e1} born before, at the same time as, or after {e2}?",
            "Compared with {e2}, was {e1} born earlier, at the same time, or later?",
            "Is the date of birth of {e1} earlier than, the same as, or later than that of {e2}?",
        ),
        kind="date",
    ),
    "date of death": _p(
        "date of death",
        ("When did {head} die?", "What is the date of death of {head}?"),
        ("the date of death of {head}",),
        (
            "Did {e1} and {e2} die on the same date?",
            "Do {e1} and {e2} have the same date of death?",
        ),
        (
            "Did {e1} die before, at the same time as, or after {e2}?",
            "Compared with {e2}, did {e1} die earlier, at the same time, or later?",
        ),
        kind="date",
    ),
    "place of birth": _p(
        "place of birth",
        (
            "Where was {head} born?",
            "What is the place of birth of {head}?",
            "In which place was {head} born?",
        ),
        ("the place of birth of {head}", "the birthplace of {head}"),
        (
            "Were {e1} and {e2} born in the same place?",
            "Do {e1} and {e2} have the same place of birth?",
        ),
    ),
    "place of death": _p(
        "place of death",
        ("Where did {head} die?", "What is the place of death of {head}?"),
        ("the place of death of {head}",),
        (
            "Did {e1} and {e2} die in the same place?",
            "Do {e1} and {e2} have the same place of death?",
        ),
    ),
    "place of burial": _p(
        "place of burial",
        ("Where was {head} buried?", "What is the place of burial of {head}?"),
        ("the place of burial of {head}",),
        ("Were {e1} and {e2} buried in the same place?",),
    ),
    "cause of death": _p(
        "cause of death",
        ("What was the cause of death of {head}?", "What did {head} die of?"),
        ("the cause of death of {head}",),
        ("Did {e1} and {e2} die of the same cause?",),
    ),
    "country": _p(
        "country",
        (
            "Which country is {head} in?",
            "In which country is {head} located?",
            "What country is {head} located in?",
        ),
        ("the country of {head}",),
        (
            "Are {e1} and {e2} located in the same country?",
            "Are both {e1} and {e2} located in the same country?",
            "Are {e1} and {e2} in the same country?",
        ),
    ),
    "country of citizenship": _p(
        "country of citizenship",
        (
            "Which country is {head} a citizen of?",
            "What is the nationality of {head}?",
            "What is the country of citizenship of {head}?",
        ),
        ("the country of citizenship of {head}",),
        (
            "Are {e1} and {e2} from the same country?",
            "Do {e1} and {e2} have the same nationality?",
            "Are {e1} and {e2} citizens of the same country?",
        ),
    ),
    "spouse": _p(
        "spouse",
        ("Who is the spouse of {head}?", "Who is {head} married to?", "Who was {head} married to?"),
        ("the spouse of {head}",),
        ("Do {e1} and {e2} have the same spouse?",),
    ),
    "father": _p(
        "father",
        ("Who is the father of {head}?", "Who was the father of {head}?"),
        ("the father of {head}",),
        ("Do {e1} and {e2} have the same father?",),
    ),
    "mother": _p(
        "mother",
        ("Who is the mother of {head}?", "Who was the mother of {head}?"),
        ("the mother of {head}",),
        ("Do {e1} and {e2} have the same mother?",),
    ),
    "child": _p(
        "child",
        ("Who is a child of {head}?", "Who is the child of {head}?"),
        ("the child of {head}",),
        ("Do {e1} and {e2} have a child in common?",),
    ),
    "sibling": _p(
        "sibling",
        ("Who is a sibling of {head}?", "Who is the sibling of {head}?"),
        ("the sibling of {head}",),
        ("Do {e1} and {e2} have a sibling in common?",),
    ),
    "publication date": _p(
        "publication date",
        (
            "When was {head} released?",
            "What is the publication date of {head}?",
            "When was {head} published?",
        ),
        ("the publication date of {head}", "the release date of {head}"),
        (
            "Were {e1} and {e2} released on the same date?",
            "Do {e1} and {e2} have the same publication date?",
        ),
        (
            "Was {e1} released before, at the same time as, or after {e2}?",
            "Compared with {e2}, was {e1} published earlier, at the same time, or later?",
        ),
        kind="date",
    ),
    "inception": _p(
        "inception",
        (
            "When was {head} founded?",
            "When was {head} established?",
            "What is the inception date of {head}?",
        ),
        ("the inception date of {head}",),
        ("Were {e1} and {e2} founded on the same date?",),
        (
            "Was {e1} founded before, at the same time as, or after {e2}?",
            "Compared with {e2}, was {e1} established earlier, at the same time, or later?",
        ),
        kind="date",
    ),
    "educated at": _p(
        "alma mater",
        (
            "Where was {head} educated?",
            "Which institution did {head} attend?",
            "Where did {head} study?",
        ),
        ("the alma mater of {head}",),
        (
            "Did {e1} and {e2} study at the same institution?",
            "Were {e1} and {e2} educated at the same place?",
        ),
    ),
    "employer": _p(
        "employer",
        (
            "Who is the employer of {head}?",
            "Who employs {head}?",
            "Which organization does {head} work for?",
        ),
        ("the employer of {head}",),
        (
            "Do {e1} and {e2} work for the same employer?",
            "Do {e1} and {e2} have the same employer?",
        ),
    ),
    "award received": _p(
        "award",
        ("Which award did {head} receive?", "What award was {head} given?"),
        ("the award received by {head}",),
        ("Did {e1} and {e2} receive the same award?",),
    ),
    "founded by": _p(
        "founder",
        ("Who founded {head}?", "Who is the founder of {head}?"),
        ("the founder of {head}",),
        (
            "Do {e1} and {e2} have the same founder?",
            "Were {e1} and {e2} founded by the same person?",
        ),
    ),
    "manufacturer": _p(
        "manufacturer",
        (
            "Who manufactures {head}?",
            "Which company manufactured {head}?",
            "Who is the manufacturer of {head}?",
        ),
        ("the manufacturer of {head}",),
        (
            "Are {e1} and {e2} made by the same manufacturer?",
            "Do {e1} and {e2} have the same manufacturer?",
        ),
    ),
    "located in the administrative territorial entity": _p(
        "region",
        (
            "Where is {head} located?",
            "In which region is {head} located?",
            "Which administrative region is {head} in?",
        ),
        ("the region containing {head}", "the administrative region of {head}"),
        ("Are {e1} and {e2} located in the same region?",),
    ),
    "capital": _p(
        "capital",
        ("What is the capital of {head}?", "Which city is the capital of {head}?"),
        ("the capital of {head}",),
        ("Do {e1} and {e2} have the same capital?",),
    ),
    "headquarters location": _p(
        "headquarters",
        ("Where is {head} headquartered?", "Where are the headquarters of {head}?"),
        ("the headquarters location of {head}",),
        ("Are {e1} and {e2} headquartered in the same place?",),
    ),
    "occupation": _p(
        "occupation",
        ("What is the occupation of {head}?", "What does {head} do for a living?"),
        ("the occupation of {head}",),
        ("Do {e1} and {e2} have the same occupation?",),
    ),
}

# Other spellings of the same relations (after normalization: lower case, single spaces).
_ALIASES: dict[str, str] = {
    "directed by": "director",
    "produced by": "producer",
    "starring": "cast member",
    "actor": "cast member",
    "composed by": "composer",
    "written by": "author",
    "adapted from": "based on",
    "birth date": "date of birth",
    "born on": "date of birth",
    "death date": "date of death",
    "born in": "place of birth",
    "birthplace": "place of birth",
    "birth place": "place of birth",
    "died in": "place of death",
    "nationality": "country of citizenship",
    "citizenship": "country of citizenship",
    "married to": "spouse",
    "spouse of": "spouse",
    "release date": "publication date",
    "alma mater": "educated at",
    "award": "award received",
    "founder": "founded by",
    "located in": "located in the administrative territorial entity",
}

_SYMMETRIC = frozenset({"spouse", "sibling"})

# Inverse phrasings ("r^-1": the head of r asked from its tail).
_BUILTIN_INVERSE: dict[str, _Phrasing] = {
    "director": _p(
        "film directed by",
        ("Which film was directed by {head}?", "What film did {head} direct?"),
        ("the film directed by {head}",),
    ),
    "producer": _p(
        "film produced by",
        ("Which film was produced by {head}?", "What did {head} produce?"),
        ("the film produced by {head}",),
    ),
    "cast member": _p(
        "film starring",
        ("Which film did {head} star in?", "In which film did {head} appear?"),
        ("the film starring {head}",),
    ),
    "composer": _p(
        "work composed by",
        ("Which work was composed by {head}?", "What did {head} compose?"),
        ("the work composed by {head}",),
    ),
    "performer": _p(
        "work performed by",
        ("Which work was performed by {head}?", "What did {head} perform?"),
        ("the work performed by {head}",),
    ),
    "screenwriter": _p(
        "film written by",
        ("Which film was written by {head}?", "What screenplay did {head} write?"),
        ("the film written by {head}",),
    ),
    "author": _p(
        "work written by",
        ("Which work was written by {head}?", "What did {head} write?"),
        ("the work written by {head}",),
    ),
    "based on": _p(
        "adaptation of",
        ("Which work is based on {head}?", "What was adapted from {head}?"),
        ("the adaptation of {head}",),
    ),
    "publisher": _p(
        "work published by",
        ("Which work was published by {head}?", "What did {head} publish?"),
        ("the work published by {head}",),
    ),
    "date of birth": _p(
        "person whose date of birth is",
        ("Whose date of birth is {head}?", "Who has {head} as date of birth?"),
        ("the person whose date of birth is {head}",),
    ),
    "date of death": _p(
        "person whose date of death is",
        ("Whose date of death is {head}?", "Who has {head} as date of death?"),
        ("the person whose date of death is {head}",),
    ),
    "place of birth": _p(
        "person born in",
        ("Who was born in {head}?", "Which person was born in {head}?"),
        ("the person born in {head}",),
    ),
    "place of death": _p(
        "person who died in",
        ("Who died in {head}?", "Which person died in {head}?"),
        ("the person who died in {head}",),
    ),
    "place of burial": _p(
        "person buried in",
        ("Who was buried in {head}?",),
        ("the person buried in {head}",),
    ),
    "country": _p(
        "place located in",
        ("Which place is located in {head}?", "What is a place in {head}?"),
        ("the place located in {head}",),
    ),
    "country of citizenship": _p(
        "citizen of",
        ("Who is a citizen of {head}?", "Which person has citizenship of {head}?"),
        ("the citizen of {head}",),
    ),
    "father": _p(
        "child of",
        ("Whose father is {head}?", "Who is a child of {head}?"),
        ("the child of {head}",),
    ),
    "mother": _p(
        "child of",
        ("Whose mother is {head}?", "Who is a child of {head}?"),
        ("the child of {head}",),
    ),
    "child": _p(
        "parent",
        ("Who is a parent of {head}?", "Who is the parent of {head}?"),
        ("the parent of {head}",),
    ),
    "publication date": replace(
        _p(
            "work released on",
            ("Which work was released on {head}?", "What has {head} as its publication date?"),
            ("the work released on {head}",),
        ),
        date_subject=True,
    ),
    "inception": replace(
        _p(
            "organization founded on",
            ("What was founded on {head}?", "What has {head} as its inception date?"),
            ("the organization founded on {head}",),
        ),
        date_subject=True,
    ),
    "educated at": _p(
        "alumnus of",
        ("Who was educated at {head}?", "Who studied at {head}?"),
        ("the alumnus of {head}",),
    ),
    "employer": _p(
        "employee of",
        ("Who works for {head}?", "Who is employed by {head}?"),
        ("the employee of {head}",),
    ),
    "award received": _p(
        "recipient of",
        ("Who received {head}?", "Who was given {head}?"),
        ("the recipient of {head}",),
    ),
    "founded by": _p(
        "organization founded by",
        ("What did {head} found?", "Which organization was founded by {head}?"),
        ("the organization founded by {head}",),
    ),
    "manufacturer": _p(
        "product of",
        ("What is manufactured by {head}?", "Which product was made by {head}?"),
        ("the product manufactured by {head}",),
    ),
    "located in the administrative territorial entity": _p(
        "place located in",
        ("What is located in {head}?", "Which place is located in {head}?"),
        ("the place located in {head}",),
    ),
    "capital": _p(
        "country whose capital is",
        ("Which country has {head} as its capital?", "Of which country is {head} the capital?"),
        ("the country whose capital is {head}",),
    ),
    "headquarters location": _p(
        "organization headquartered in",
        ("Which organization is headquartered in {head}?",),
        ("the organization headquartered in {head}",),
    ),
}

_YEAR = re.compile(r"\d{3,4}")
_DATE_WORDS = re.compile(r"\b(date|year|time|born|died|inception|founded)\b")


def _normalize(relation: str) -> str:
    """Lower case, ``_`` as spaces, single spaces; aliases mapped to the built-in name."""
    key = " ".join(relation.replace("_", " ").split()).casefold()
    return _ALIASES.get(key, key)


def _split_inverse(relation: str) -> tuple[str, bool]:
    if relation.endswith(_INVERSE) and len(relation) > len(_INVERSE):
        return relation[: -len(_INVERSE)], True
    return relation, False


def _builtin(relation: str) -> _Phrasing | None:
    """Built-in phrasing of a (possibly inverse) relation label, or ``None``."""
    base, inverse = _split_inverse(relation)
    key = _normalize(base)
    if inverse and key not in _SYMMETRIC:
        return _BUILTIN_INVERSE.get(key)
    return _BUILTIN.get(key)


def _from_phrase(phrase: str, *, inverse: bool) -> _Phrasing:
    """Phrasing for a relation renamed to ``phrase`` (built in when ``phrase`` is known)."""
    found = _builtin(phrase + _INVERSE if inverse else phrase)
    if found is not None:
        return found
    if inverse:
        return _generic_inverse(phrase)
    kind: ValueKind = "date" if _DATE_WORDS.search(_normalize(phrase)) else "entity"
    return _generic(phrase, kind)


def _is_format(text: str) -> bool:
    return "{" in text


def _check_format(text: str, where: str) -> str:
    """Validate a question format string: named fields from ``_FORMAT_FIELDS``, ``{head}`` used."""
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        raise ValueError(f"{where}: invalid format string {text!r} ({exc})") from None
    unknown = sorted(fields - _FORMAT_FIELDS)
    if unknown:
        raise ValueError(
            f"{where}: unknown placeholder(s) {unknown} in {text!r}; "
            f"supported: {{head}}, {{relation}}, {{noun}}"
        )
    if "head" not in fields:
        raise ValueError(f"{where}: format string {text!r} must contain {{head}}")
    return text


def _leaks(answer: str, question: str) -> bool:
    """Whether ``answer`` occurs in ``question`` as a whole word (case-insensitive).

    An empty answer always counts as leaking (there is nothing to ask for).
    """
    needle = answer.strip().casefold()
    if not needle:
        return True
    text = question.casefold()

    def word(ch: str) -> bool:
        return ch.isalnum() or ch == "_"

    i = text.find(needle)
    while i >= 0:  # plain string search: a regex per item would be compiled per answer
        end = i + len(needle)
        if (i == 0 or not word(text[i - 1])) and (end == len(text) or not word(text[end])):
            return True
        i = text.find(needle, i + 1)
    return False


def _item_key(item: VerbalizerItem) -> str:
    return f"{type(item).__name__}:{item.model_dump_json()}"


def _answer(item: VerbalizerItem) -> str:
    if isinstance(item, Triple):
        return item.tail
    if isinstance(item, ComparisonFact):
        return item.answer
    return item.entities[-1]


def _path(item: Triple | FiveTuple | Chain) -> tuple[str, tuple[str, ...]]:
    """``(head entity, relations)`` of a path-like item."""
    if isinstance(item, Triple):
        return item.head, (item.relation,)
    if isinstance(item, FiveTuple):
        return item.obj1, item.relations
    if not item.relations:
        raise ValueError("cannot verbalize a Chain without relations")
    if len(item.entities) != len(item.relations) + 1:
        raise ValueError(
            f"Chain has {len(item.entities)} entities for {len(item.relations)} relations; "
            "expected one more entity than relations"
        )
    return item.entities[0], tuple(item.relations)


class TemplateVerbalizer:
    """Deterministic, offline questions from relation phrasings (2WikiMultiHopQA style).

    Every relation has several phrasings (built in for common 2WikiMultiHopQA / Wikidata
    relations such as ``director``, ``date of birth``, ``place of birth``, ``country``,
    ``spouse``, ``cast member``, ``publication date`` and their inverses ``"r^-1"``; a
    generic ``"What is the {relation} of {head}?"`` otherwise). The last hop of a path is
    the question, the inner hops nest as noun phrases::

        Triple     Titanic -director-> James Cameron       "Who directed Titanic?"
        FiveTuple  Titanic -director-> ... -place of birth-> "Where was the director of
                                                              Titanic born?"
        inverse    James Cameron -director^-1-> Titanic    "Which film was directed by
                                                              James Cameron?"

    Comparisons (:class:`~kgaug.records.ComparisonFact`) read ``"Are X and Y located in the
    same country?"`` (style ``"same"``, answer yes/no) or, for style ``"order"``, list the
    three outcomes in the order of the answers ``"<"``, ``"="``, ``">"``: ``"Was X born
    before, at the same time as, or after Y?"`` (dates: earlier / same / later; other
    values: smaller / equal / larger). ``"<"`` means the value of ``entity1`` is the
    smaller (earlier) one.

    ``Question.answer`` is always exactly the item's answer (the last entity of a path, the
    tail of a triple, ``ComparisonFact.answer``).

    Parameters
    ----------
    templates : mapping of str to str or sequence of str, optional
        Per-relation overrides, keyed by the relation label as it appears in the data
        (``"r^-1"`` keys override the inverse). A value is either

        * a *phrase* (no ``{``), the relation's name in words: ``{"P57": "director"}``. If
          the phrase is a relation with built-in phrasings, those are used (so
          ``{"born in": "place of birth"}`` asks ``"Where was X born?"``); otherwise the
          generic ``"What is the {phrase} of {head}?"`` / ``"the {phrase} of ..."``.
        * a *format string*, or a sequence of them (variants), for the question when the
          relation is the last hop: ``{"director": "Who was the director of {head}?"}``.
          Placeholders: ``{head}`` (required; the subject, an entity name or a nested
          phrase such as ``"the spouse of Barack Obama"``), ``{relation}`` (the raw label)
          and ``{noun}`` (the relation's name in words). Inner hops keep the built-in or
          generic noun phrase.
    seed : int
        Seed for the choice among phrasings.
    variants : bool
        ``True``: each item gets one of its phrasings chosen by a seeded hash of the item
        (the same item and seed always give the same question; other seeds vary).
        ``False``: always the first (canonical) phrasing that does not leak the answer.

    Notes
    -----
    A question must not give its answer away. A path question *leaks* when its answer
    occurs in it as a whole word, case-insensitively (e.g. the answer entity is also the
    head). Leaking phrasings are skipped; if every phrasing leaks, the question is returned
    with ``status="failed"`` (kept, never dropped). Comparison answers are class labels
    (``yes``/``no``, ``<``/``=``/``>``) that no phrasing contains, so comparisons are never
    marked failed.

    Examples
    --------
    >>> from kgaug.records import FiveTuple, Triple
    >>> v = TemplateVerbalizer(variants=False)
    >>> v.verbalize([Triple(head="Titanic", relation="director", tail="James Cameron")])[0].question
    'Who directed Titanic?'
    >>> ft = FiveTuple(obj1="Titanic", rel1="director", obj2="James Cameron",
    ...                rel2="place of birth", obj3="Kapuskasing")
    >>> q = v.verbalize([ft])[0]
    >>> q.question, q.answer
    ('Where was the director of Titanic born?', 'Kapuskasing')
    """

    def __init__(
        self,
        templates: Mapping[str, str | Sequence[str]] | None = None,
        *,
        seed: int = 0,
        variants: bool = True,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
        if not isinstance(variants, bool):
            raise TypeError(f"variants must be True or False, got {variants!r}")
        if templates is not None and not isinstance(templates, Mapping):
            raise TypeError(
                f"templates must be a mapping of relation to phrase or format string, "
                f"got {type(templates).__name__}"
            )
        self.seed = seed
        self.variants = variants
        self.templates: dict[str, str | tuple[str, ...]] = {}
        self._overrides: dict[str, _Phrasing] = {}
        self._phrases: dict[str, str] = {}
        for rel, value in (templates or {}).items():
            self._add_override(rel, value)
        self._cache: dict[str, _Phrasing] = {}

    def __repr__(self) -> str:
        return (
            f"TemplateVerbalizer(templates={len(self.templates)}, seed={self.seed}, "
            f"variants={self.variants})"
        )

    # ------------------------------------------------------------------ phrasings
    def _add_override(self, rel: object, value: object) -> None:
        if not isinstance(rel, str) or not rel.strip():
            raise ValueError(f"templates: keys must be non-empty relation labels, got {rel!r}")
        where = f"templates[{rel!r}]"
        default = self._default(rel)
        if isinstance(value, str):
            if not value.strip():
                raise ValueError(f"{where}: empty phrase")
            self.templates[rel] = value
            if _is_format(value):
                self._overrides[rel] = replace(default, ask=(_check_format(value, where),))
                return
            _, inverse = _split_inverse(rel)
            self._phrases[rel] = value
            self._overrides[rel] = _from_phrase(value, inverse=inverse)
            return
        if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
            forms = tuple(value)
            if not forms:
                raise ValueError(f"{where}: empty sequence of format strings")
            for i, f in enumerate(forms):
                if not isinstance(f, str):
                    raise TypeError(f"{where}[{i}] must be a str, got {type(f).__name__}")
                if not _is_format(f):
                    raise ValueError(
                        f"{where}[{i}]: {f!r} is not a format string; a sequence holds "
                        "question variants with {head} (give a single phrase as a str)"
                    )
                _check_format(f, f"{where}[{i}]")
            self.templates[rel] = forms
            self._overrides[rel] = replace(default, ask=forms)
            return
        raise TypeError(f"{where} must be a str or a sequence of str, got {type(value).__name__}")

    @staticmethod
    def _default(relation: str) -> _Phrasing:
        base, inverse = _split_inverse(relation)
        return _from_phrase(base, inverse=inverse)

    def _phrasing(self, relation: str) -> _Phrasing:
        got = self._overrides.get(relation)
        if got is not None:
            return got
        got = self._cache.get(relation)
        if got is None:
            base, inverse = _split_inverse(relation)
            if inverse and base in self._phrases:  # {"P57": "director"} also names P57^-1
                got = _from_phrase(self._phrases[base], inverse=True)
            else:
                got = self._default(relation)
            self._cache[relation] = got
        return got

    @staticmethod
    def _fill(form: str, head: str, relation: str, spec: _Phrasing) -> str:
        if spec.date_subject and _YEAR.fullmatch(head):
            form = form.replace(" on {head}", " in {head}")
        return form.format(head=head, relation=relation, noun=spec.noun)

    def _path_phrasings(self, head: str, relations: tuple[str, ...]) -> list[str]:
        specs = [self._phrasing(r) for r in relations]
        # choices: the question template of the last hop, then the noun phrases inward
        choices: list[tuple[str, ...]] = [specs[-1].ask]
        choices += [specs[i].nested for i in range(len(specs) - 2, -1, -1)]
        out: list[str] = []
        seen: set[str] = set()
        for combo in itertools.islice(itertools.product(*choices), _MAX_CANDIDATES):
            subject = head
            # combo[1:] are the noun phrases from the outermost inner hop inward: build the
            # subject from the innermost one (combo[-1], hop 0) outward
            for i in range(len(specs) - 1):
                subject = self._fill(combo[-1 - i], subject, relations[i], specs[i])
            text = self._fill(combo[0], subject, relations[-1], specs[-1])
            if len(specs) > 1:  # a nested phrase may open the sentence: "The ..."
                text = text[:1].upper() + text[1:]
            if text not in seen:
                seen.add(text)
                out.append(text)
        return out

    def _comparison_phrasings(self, item: ComparisonFact) -> list[str]:
        spec = self._phrasing(item.attribute)
        if item.style == "same":
            forms = spec.same or _same_generic(spec.noun)
        elif item.style == "order":
            kind = spec.kind
            if kind == "entity":
                kind = "date" if _DATE_WORDS.search(_normalize(item.attribute)) else "number"
            forms = spec.order or _order_generic(spec.noun, kind)
        else:
            raise ValueError(f"ComparisonFact.style must be 'same' or 'order', got {item.style!r}")
        if spec.kind == "date" and _YEAR.fullmatch(item.value1) and _YEAR.fullmatch(item.value2):
            forms = tuple(f.replace("on the same date", "in the same year") for f in forms)
        texts = [f.format(e1=item.entity1, e2=item.entity2) for f in forms]
        return list(dict.fromkeys(texts))

    def phrasings(self, item: VerbalizerItem) -> list[str]:
        """Every distinct phrasing of ``item``, canonical one first (leaking ones included).

        Parameters
        ----------
        item : Triple, FiveTuple, Chain or ComparisonFact
            What to put into words.

        Returns
        -------
        list of str
            At most 256 phrasings.
        """
        if isinstance(item, ComparisonFact):
            return self._comparison_phrasings(item)
        if isinstance(item, (Triple, FiveTuple, Chain)):
            head, relations = _path(item)
            return self._path_phrasings(head, relations)
        raise TypeError(
            f"cannot verbalize {type(item).__name__}; expected Triple, FiveTuple, Chain or "
            "ComparisonFact"
        )

    # ------------------------------------------------------------------ choice
    def _rank(self, item: VerbalizerItem, texts: list[str], *, shuffle: bool) -> list[str]:
        """``texts`` as given, or (``shuffle``) in a seeded order that depends on ``item``."""
        if not shuffle:
            return texts
        key = _item_key(item)

        def score(text: str) -> bytes:
            data = f"{self.seed}\x00{key}\x00{text}".encode()
            return hashlib.blake2b(data, digest_size=8).digest()

        return sorted(texts, key=score)

    @staticmethod
    def _ok(item: VerbalizerItem, answer: str, text: str) -> bool:
        return isinstance(item, ComparisonFact) or not _leaks(answer, text)

    def _one(self, item: VerbalizerItem) -> Question:
        texts = self.phrasings(item)  # raises TypeError for a foreign item first
        answer = _answer(item)
        ranked = self._rank(item, texts, shuffle=self.variants)
        for text in ranked:
            if self._ok(item, answer, text):
                return Question(question=text, answer=answer, source=item)
        return Question(
            question=ranked[0],
            answer=answer,
            source=item,
            status="failed",
            reason="every phrasing contains the answer",
        )

    def verbalize(self, items: Iterable[VerbalizerItem]) -> list[Question]:
        """One question per item, in order.

        Parameters
        ----------
        items : iterable of Triple, FiveTuple, Chain or ComparisonFact
            What to put into words (a :class:`~kgaug.paths.PathSample` works).

        Returns
        -------
        list of Question
            ``status="failed"`` where every phrasing would reveal the answer.

        Raises
        ------
        TypeError
            An item of another type.
        ValueError
            A comparison style other than ``"same"`` / ``"order"``, or a malformed chain.
        """
        return [self._one(it) for it in items]

    def paraphrase(self, question: Question, k: int) -> list[Question]:
        """Up to ``k`` other phrasings of ``question`` with the same answer.

        Used to diversify a dataset: the phrasings differ from ``question.question`` and
        from each other, none reveals the answer, and the order is seeded (same verbalizer
        seed, same result).

        Parameters
        ----------
        question : Question
            A question whose ``source`` is put into words again.
        k : int
            Most paraphrases to return (fewer when the item has fewer phrasings).

        Returns
        -------
        list of Question
            With ``answer`` and ``source`` of ``question`` and ``status="ok"``.
        """
        if not isinstance(question, Question):
            raise TypeError(f"question must be a Question, got {type(question).__name__}")
        if isinstance(k, bool) or not isinstance(k, int):
            raise TypeError(f"k must be an int, got {type(k).__name__} {k!r}")
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        item = question.source
        texts = [t for t in self.phrasings(item) if t != question.question]
        texts = self._rank(item, texts, shuffle=True)
        out = [
            Question(question=t, answer=question.answer, source=item)
            for t in texts
            if self._ok(item, question.answer, t)
        ]
        return out[:k]

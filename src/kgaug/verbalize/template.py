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

Relations without a built-in phrasing are read from their label (after undoing URIs,
paths, prefixes, snake_case, kebab-case and camelCase: ``"dbo:birthPlace"`` is ``"birth
place"``, a built-in alias) by its shape, in the present tense unless the relation is past
(``"born in"``, ``"lived in"``, ``"painted by"``):

* a noun: ``"mentor"`` -> ``"What is the mentor of X?"``;
* a noun and a preposition: ``"mentor of"`` -> ``"What is X the mentor of?"``,
  ``"member of sports team"`` -> ``"Which sports team is X a member of?"``;
* a verb: ``"works for"`` -> ``"What does X work for?"``, ``"cites the works at"`` ->
  ``"What does X cite the works at?"``, ``"lived in"`` -> ``"What did X live in?"``;
* a participle or an adjective: ``"influenced by"`` -> ``"What is X influenced by?"``,
  ``"similar to"`` -> ``"What is X similar to?"``, ``"position held"`` -> ``"Which
  position is held by X?"``.

A question the templates cannot phrase well (an opaque id such as ``"P19"`` or ``"r0"``,
a label with no words or odd characters) gets ``status="review"`` and a ``reason``.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from kgaug.records import Chain, ComparisonFact, FiveTuple, Triple
from kgaug.verbalize.base import Question, VerbalizerItem

__all__ = ["TemplateVerbalizer"]

_INVERSE = "^-1"
#: Most phrasings one item is given (the product of per-hop variants is cut here).
_MAX_CANDIDATES = 256
_FORMAT_FIELDS = frozenset({"head", "relation", "noun"})
#: ``Question.status`` of a question whose wording could not be made to read well (an
#: opaque relation id, a label with no words): ``"review"``, or ``"failed"`` while
#: ``kgaug.verbalize.base.Question`` does not know ``"review"`` yet.
_REVIEW: Any = (
    "review" if "review" in get_args(Question.model_fields["status"].annotation) else "failed"
)

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
    #: why the wording made from the label is doubtful (``None``: it reads well); it
    #: applies to ``nested``, ``same`` and ``order``
    review: str | None = None
    #: the same for ``ask`` (``None`` once a format string override replaces ``ask``)
    ask_review: str | None = None
    #: an extra doubt about ``order`` alone (a label that names no ordered value)
    order_review: str | None = None


def _esc(text: str) -> str:
    """``text`` for embedding in a format string (labels may contain braces)."""
    return text.replace("{", "{{").replace("}", "}}")


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
    "works for": "employer",
    "worked for": "employer",
    "employed by": "employer",
    "death place": "place of death",
    "citizen of": "country of citizenship",
    "husband": "spouse",
    "wife": "spouse",
    "writer": "author",
    "born": "place of birth",
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

# ---------------------------------------------------------------- relation labels
#
# A relation without a built-in phrasing is put into words from its label. The label is
# first cleaned (URI / path / prefix / dotted name -> last part, snake_case, kebab-case and
# camelCase -> words, "(P19)" dropped) and then read as one of these shapes:
#
#   noun                "mentor", "head of state"    What is the mentor of X?
#   noun + preposition  "mentor of", "capital of"    What is X the mentor of?
#   member noun + of    "member of sports team"      Which sports team is X a member of?
#   noun + participle   "position held"              Which position is held by X?
#   be + predicate      "influenced by", "similar    What is X influenced by?
#                       to", "located in", "featuring"
#   verb (present)      "works for", "cites the      What does X work for?
#                       works at", "contains"
#   verb + object noun  "plays instrument"           Which instrument does X play?
#   verb (past)         "lived in", "directed"       What did X live in? What was directed
#                                                    by X?
#
# Labels with no words ("", "???"), opaque identifiers ("P19", "r0", "x", "42") and labels
# with characters that are not words ("r{x}") get a plain wording and a review reason.


def _split(words: str) -> list[str]:
    return words.split()


_PREPS = frozenset(
    _split(
        "of in at on by for to from with into onto about as after before under over near within "
        "between against during since through toward towards via per upon among across behind "
        "beyond around without"
    )
)
_DETS = frozenset({"the", "a", "an"})
_BE = {"is": False, "are": False, "be": False, "being": False, "was": True, "were": True}
_HAVE = frozenset({"has", "have", "had"})
_FUNCTION = (
    _PREPS
    | _DETS
    | frozenset(_BE)
    | _HAVE
    | frozenset(
        {"and", "or", "not", "that", "which", "who", "whom", "whose", "what", "its", "it", "been"}
        | {"do", "does", "did", "his", "her", "their", "this", "these", "those"}
    )
)

# base: (past, past participle) of irregular verbs
_IRREGULAR: dict[str, tuple[str, str]] = {
    "be": ("was", "been"), "have": ("had", "had"), "do": ("did", "done"),
    "go": ("went", "gone"), "write": ("wrote", "written"), "win": ("won", "won"),
    "make": ("made", "made"), "take": ("took", "taken"), "give": ("gave", "given"),
    "hold": ("held", "held"), "lead": ("led", "led"), "build": ("built", "built"),
    "teach": ("taught", "taught"), "fight": ("fought", "fought"), "know": ("knew", "known"),
    "speak": ("spoke", "spoken"), "sing": ("sang", "sung"), "draw": ("drew", "drawn"),
    "see": ("saw", "seen"), "begin": ("began", "begun"), "choose": ("chose", "chosen"),
    "steal": ("stole", "stolen"), "throw": ("threw", "thrown"), "wear": ("wore", "worn"),
    "break": ("broke", "broken"), "grow": ("grew", "grown"), "fly": ("flew", "flown"),
    "sell": ("sold", "sold"), "tell": ("told", "told"), "buy": ("bought", "bought"),
    "bring": ("brought", "brought"), "catch": ("caught", "caught"),
    "think": ("thought", "thought"), "keep": ("kept", "kept"), "leave": ("left", "left"),
    "lose": ("lost", "lost"), "pay": ("paid", "paid"), "meet": ("met", "met"),
    "run": ("ran", "run"), "send": ("sent", "sent"), "come": ("came", "come"),
    "become": ("became", "become"), "sit": ("sat", "sat"), "stand": ("stood", "stood"),
    "beat": ("beat", "beaten"), "shoot": ("shot", "shot"), "read": ("read", "read"),
    "set": ("set", "set"), "hear": ("heard", "heard"), "say": ("said", "said"),
    "lie": ("lay", "lain"), "ride": ("rode", "ridden"), "drive": ("drove", "driven"),
    "rise": ("rose", "risen"), "strike": ("struck", "struck"), "hang": ("hung", "hung"),
    "eat": ("ate", "eaten"), "fall": ("fell", "fallen"), "feel": ("felt", "felt"),
    "spend": ("spent", "spent"), "mean": ("meant", "meant"), "forget": ("forgot", "forgotten"),
    "hide": ("hid", "hidden"), "swim": ("swam", "swum"), "drink": ("drank", "drunk"),
    "undertake": ("undertook", "undertaken"), "overthrow": ("overthrew", "overthrown"),
    "bear": ("bore", "born"), "weave": ("wove", "woven"), "swear": ("swore", "sworn"),
    "slay": ("slew", "slain"), "bind": ("bound", "bound"), "seek": ("sought", "sought"),
}  # fmt: skip
# verbs that double their last consonant: starred, admitted
_DOUBLE = frozenset(
    _split(
        "star stop admit refer commit permit plan ban drop ship occur prefer control patrol "
        "compel propel rebel regret submit transfer omit emit equip tag grab rob shop skip step "
        "trap wrap beg pin scan spot knit"
    )
)
# verbs that read as a verb when they are the whole label ("cites", "contains"); other
# known verbs read as one only before a preposition or an article ("works for")
_VERB_ALONE = frozenset(
    _split(
        "cite contain own follow precede employ include depict describe inhabit encompass govern "
        "oppose endorse admire influence know speak like hate teach marry direct write compose "
        "publish supervise manage border succeed replace represent have win play attend create "
        "invent discover develop acquire adopt inherit join host translate edit perform operate "
        "affect produce read kill require prefer found establish illustrate portray advise "
        "precede outrank speak sing"
    )
)
# verbs whose past tense before a preposition is active ("lived in": X lived in Y), not a
# passive participle ("located in": X is located in Y)
_INTRANSITIVE = frozenset(
    _split(
        "die live work play study star participate compete graduate reside serve appear perform "
        "act move emigrate immigrate migrate retire debut originate belong stay fight run go come "
        "grow sit stand flow teach train vote rank collaborate contribute interact travel sing "
        "speak write lie stem descend rise report"
    )
)
# verbs that take "of" ("consists of"); before other labels, "<word> of" is a noun
_OF_VERBS = frozenset(_split("consist die think speak dream approve know hear smell taste"))
_VERBS = (
    _VERB_ALONE
    | _INTRANSITIVE
    | _OF_VERBS
    | frozenset(_IRREGULAR)
    | frozenset(
        _split(
            "belong refer relate depend border link connect point derive apply respond "
            "subscribe listen look talk flow lie neighbour neighbor adjoin overlap span occupy "
            "receive nominate broadcast record release paint sculpt design fund sign draft "
            "elect appoint award name rename bury baptize baptise murder assassinate execute "
            "launch open complete commission "
            "dissolve abolish destroy demolish introduce issue coin grant capture conquer annex "
            "settle feature locate base situate headquarter associate affiliate involve interest "
            "inspire photograph film coach rule visit mention support sponsor use cause love"
        )
    )
)
# participles and past forms for which the question reads best in the past tense
_PAST_EVENT = frozenset(
    _split(
        "born buried baptized baptised killed murdered assassinated executed founded established "
        "created built constructed discovered invented formed launched released published painted "
        "written composed designed directed produced recorded filmed shot signed drafted elected "
        "appointed nominated awarded crowned educated trained raised named renamed christened "
        "inaugurated opened completed commissioned dissolved abolished destroyed demolished "
        "sculpted translated edited illustrated photographed drawn sung made given won coined "
        "introduced adopted granted issued ordained canonized exiled imprisoned arrested "
        "convicted sentenced wounded injured defeated captured conquered annexed settled died "
        "married succeeded preceded replaced"
    )
)
# participles that are a whole label mean "<participle> in": "located" -> "located in"
_STATIVE = frozenset(
    ["located", "based", "situated", "born", "buried", "headquartered", "stationed"]
)
# words ending in -ed / -ing that are not verb forms
_ED_NOUNS = frozenset(
    _split("bed red wed shed sled hundred kindred sacred naked wicked beloved aged learned")
)
_ING_NOUNS = frozenset(
    _split(
        "building thing king ring wing string setting painting recording offspring sibling spring "
        "ceiling meaning heading clothing earnings holdings listing ranking rating funding "
        "housing training wedding morning evening timing sibling spelling"
    )
)
_ADJECTIVES = frozenset(
    _split(
        "similar adjacent next close equivalent opposite different native famous equal identical "
        "near prior subsequent parallel superior inferior eligible responsible fond aware capable "
        "full independent dependent proud afraid free distinct separate analogous comparable "
        "contiguous home"
    )
)
# "X <noun> of Y" where X is one of several: "What is X a member of?"
_A_NOUNS = frozenset(
    _split(
        "member instance subclass subtype type kind sort form citizen student child son daughter "
        "friend fan colleague contemporary descendant relative resident employee alumnus "
        "supporter follower partner ally neighbour neighbor brother sister cousin variant version "
        "example subsidiary division branch affiliate chapter component element constituent "
        "tributary suburb district neighbourhood neighborhood municipality county village town "
        "episode track song character participant nominee recipient player teacher professor "
        "founder parent product unit department"
    )
)
_ZERO_ARTICLE = frozenset({"part", "home"})
# nouns that come before a preposition other than "of" ("expert in", "heir to")
_NOUNS_BEFORE_PREP = frozenset(
    _split(
        "expert heir candidate guest host chief head captain coach champion delegate envoy "
        "graduate star specialist"
    )
)
_MEMBER_NOUNS = _A_NOUNS | _ZERO_ARTICLE
_WHEN_NOUNS = frozenset(["year", "date", "day", "month", "time", "decade", "century", "era"])
_PAST_NOUN_WORDS = frozenset(
    ["birth", "death", "burial", "baptism", "founding", "former", "previous"]
)
_IRREGULAR_PLURALS = frozenset(
    _split("children people men women alumni feet teeth mice geese criteria phenomena lyrics")
)
_SINGULAR_S = frozenset(
    _split(
        "series species news means headquarters whereabouts status alias atlas canvas gas lens "
        "bias chaos ethos genus corpus campus census virus bonus focus apparatus"
    )
)
_AGENT_SUFFIXES = (
    "er", "or", "ist", "ant", "ent", "ian", "ee", "ship", "ion", "ity", "ness", "ment",
    "ance", "ence", "age", "ism", "ure", "ty", "cy", "ry", "dom", "hood", "ar", "ive",
)  # fmt: skip


def _third(base: str) -> str:
    """Third person singular: ``cite -> cites``, ``teach -> teaches``, ``study -> studies``."""
    special = {"have": "has", "be": "is", "do": "does", "go": "goes"}
    if base in special:
        return special[base]
    if base.endswith(("s", "sh", "ch", "x", "z", "o")):
        return base + "es"
    if base.endswith("y") and base[-2:-1] not in ("a", "e", "i", "o", "u"):
        return base[:-1] + "ies"
    return base + "s"


def _past(base: str) -> tuple[str, str]:
    """``(past, past participle)`` of a base form."""
    if base in _IRREGULAR:
        return _IRREGULAR[base]
    if base.endswith("e"):
        form = base + "d"
    elif base.endswith("y") and base[-2:-1] not in ("a", "e", "i", "o", "u"):
        form = base[:-1] + "ied"
    elif base in _DOUBLE:
        form = base + base[-1] + "ed"
    else:
        form = base + "ed"
    return form, form


def _verb_forms() -> dict[str, tuple[str, str]]:
    """Each known verb form -> ``(base, "pp" | "past" | "s" | "base")``."""
    out: dict[str, tuple[str, str]] = {}
    for base in sorted(_VERBS):
        past, pp = _past(base)
        for form, word in (("pp", pp), ("past", past), ("s", _third(base)), ("base", base)):
            out[word] = (base, form)  # later forms win: "read" is a base, "made" a past
    return out


_FORMS = _verb_forms()

_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_CURIE = re.compile(r"[A-Za-z][\w.-]*:([^\s:/]+)")
_DOTTED = re.compile(r"\w+(?:\.\w+)+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_ID = re.compile(r"[A-Za-z]\d+")  # Wikidata-style P19, Q5
_PAREN = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
_EDGE = " .,;:!?'\"`<>-"

LabelKind = Literal["words", "opaque", "none", "verbatim", "foreign"]


def _split_camel(token: str) -> str:
    """``placeOfBirth -> place Of Birth``; ``iPhone`` and ``P19`` stay whole."""
    if re.match(r"[a-z][A-Z]", token) or not re.search(r"[a-z][A-Z]|[A-Z]{2}[a-z]", token):
        return token
    return _CAMEL.sub(" ", token)


def _words(label: str) -> tuple[LabelKind, tuple[str, ...]]:
    """What a relation label is and its words (lower case but for acronyms and ids).

    ``"words"``: plain words; ``"opaque"``: an identifier such as ``P19`` or ``r0``;
    ``"none"``: nothing to read; ``"verbatim"``: characters that are not words (the label is
    returned as one stripped token); ``"foreign"``: letters, none of them ASCII.
    """
    raw = label.strip()
    text = raw.strip(_EDGE)
    if not any(c.isspace() for c in text):
        if _URI_SCHEME.match(text) or "/" in text or "#" in text:
            parts = [p for p in re.split(r"[/#]", text) if p.strip(_EDGE)]
            text = parts[-1].strip(_EDGE) if parts else ""
        m = _CURIE.fullmatch(text)
        if m:
            text = m.group(1)
        if _DOTTED.fullmatch(text):
            text = text.rsplit(".", 1)[1]
    stripped = _PAREN.sub(" ", text)
    if any(c.isalpha() for c in stripped):
        text = stripped
    text = text.replace("&", " and ")
    spaced = any(c.isspace() for c in text)
    text = text.replace("_", " ")
    if not spaced and "-" in text:

        def kebab(token: str) -> str:
            parts = token.split("-")
            if len(parts) >= 3 or any(p.casefold() in _FUNCTION | _FORMS.keys() for p in parts):
                return " ".join(parts)
            return token  # "co-founder"

        text = " ".join(kebab(t) for t in text.split())
    if not spaced:
        text = " ".join(_split_camel(t) for t in text.split())
    tokens = [t.strip(_EDGE) for t in text.split()]
    tokens = [t for t in tokens if t]
    if len(tokens) > 1 and tokens[-1] == "s" and not spaced:
        tokens.pop()  # Freebase "spouse_s": spouse(s)
    if not any(c.isalnum() for t in tokens for c in t):
        return "none", ()
    if any(not (c.isalnum() or c in "'-") for t in tokens for c in t):
        return "verbatim", (raw,)

    def word(t: str) -> bool:
        letters = t.replace("-", "").replace("'", "")
        return letters.isalpha() and len(letters) >= 2

    while len(tokens) > 1 and _ID.fullmatch(tokens[0]) and any(map(word, tokens[1:])):
        tokens.pop(0)  # "P19 place of birth"
    while len(tokens) > 1 and _ID.fullmatch(tokens[-1]) and any(map(word, tokens[:-1])):
        tokens.pop()  # "place of birth P19"
    if not any(map(word, tokens)):
        return "opaque", tuple(tokens)
    caps = all(not c.isalpha() or c.isupper() for t in tokens for c in t)
    shouting = caps and (len(tokens) > 1 or len(tokens[0]) > 4)  # DIRECTED_BY, CAPITAL
    shown = tuple(
        t if (not shouting and len(t) >= 2 and t.isupper()) else t.lower() for t in tokens
    )
    if not any(c.isascii() and c.isalpha() for t in shown for c in t):
        return "foreign", shown
    return "words", shown


def _strip_prefix(words: Sequence[str]) -> tuple[list[str], bool]:
    """Words without a leading article / ``is`` / ``was`` / ``has``; whether it said ``was``.

    ``"is a"`` becomes ``"instance of"``; ``"has author"`` becomes ``"author"`` (X has
    author Y: Y is the author of X).
    """
    w = list(words)
    low = [t.casefold() for t in w]
    past = False
    if low in (["isa"], ["is", "a"], ["is", "an"]):
        return ["instance", "of"], False
    if len(w) > 1 and low[0] in _DETS:
        w, low = w[1:], low[1:]
    if len(w) > 1 and low[0] in _BE:
        past = _BE[low[0]]
        w, low = w[1:], low[1:]
    elif len(w) > 2 and low[0] in _HAVE and low[1] == "been":
        w, low = w[2:], low[2:]
    elif len(w) > 1 and low[0] in _HAVE and low[1] not in _PREPS:
        w, low = w[1:], low[1:]
    if len(w) > 1 and low[0] in _DETS:
        w, low = w[1:], low[1:]
    return w, past


def _normalize(relation: str) -> str:
    """Lower-case words of a label (see :func:`_words`, :func:`_strip_prefix`), aliased."""
    kind, tokens = _words(relation)
    if kind == "verbatim":
        key = " ".join(relation.replace("_", " ").split()).casefold()
    else:
        key = " ".join(_strip_prefix(tokens)[0]).casefold()
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


# verbs whose forms are never nouns: "the cites", "the belongs" are verbs used as nouns
# ("works", "plays", "records" are plural nouns as well)
_NOT_NOUNS = frozenset(
    _split(
        "cite contain own follow precede employ include depict describe inhabit encompass "
        "govern oppose endorse admire know speak teach marry direct write compose publish "
        "supervise manage succeed replace represent acquire adopt inherit join translate "
        "operate affect require prefer establish illustrate portray advise outrank consist "
        "belong refer depend derive relate respond subscribe listen talk occupy receive "
        "participate compete collaborate contribute interact reside graduate emigrate "
        "immigrate migrate originate descend die live study star"
    )
)
_VERB_ONLY_S = frozenset(_third(b) for b in _NOT_NOUNS) | frozenset(
    # past tenses: irregular ones that are no participle ("wrote"), and intransitive verbs
    # ("lived", "graduated": "the graduated name" is no noun phrase)
    [p for b, (p, pp) in _IRREGULAR.items() if p != pp]
    + _split(
        "lived died studied graduated starred participated competed resided emigrated "
        "immigrated migrated originated belonged stayed collaborated contributed interacted "
        "appeared debuted consisted depended derived referred responded"
    )
) - frozenset({"was", "had"})


def _reads_as_noun(words: Sequence[str]) -> bool:
    """Whether ``words`` can be a noun phrase.

    No verb form such as ``cites``, no ``is`` / ``that`` / ``its``..., an article only
    after a preposition (``part of the series``), no single letters.
    """
    low = [t.casefold() for t in words]
    if not low or low[0] in _FUNCTION or low[-1] in _FUNCTION:
        return False
    end = _verb_form(low[-1], _FORMS.get(low[-1]))
    if end is not None and end[1] in ("past", "pp"):  # "type of founded"
        return False
    for i, t in enumerate(low):
        if t in _VERB_ONLY_S or (t in _FUNCTION - _PREPS - _DETS - {"and", "or"}):
            return False
        if t in _DETS and low[i - 1] not in _PREPS:
            return False
        if len(t) == 1 and t.isalpha():  # "x part of", "r one": a variable, not a word
            return False
    return True


def _well_formed(words: Sequence[str]) -> bool:
    """Whether a label's words can be read at all.

    No two function words in a row but ``of the`` (``"works for of"``), no article at the
    end, no single letters (``"x part"``).
    """
    low = [t.casefold() for t in words]
    if low[-1] in _DETS or any(len(t) == 1 and t.isalpha() for t in low):
        return False
    return not any(
        a in _FUNCTION and b in _FUNCTION and not (a in _PREPS and b in _DETS)
        for a, b in itertools.pairwise(low)
    )


def _plural(noun: str) -> bool:
    """Whether the head word of a noun phrase is plural (``notable works``, ``children``)."""
    if noun in _IRREGULAR_PLURALS:
        return True
    return (
        len(noun) > 3
        and noun.endswith("s")
        and not noun.endswith(("ss", "us", "is", "ics", "ous", "as"))
        and noun not in _SINGULAR_S
    )


def _indefinite(word: str) -> str:
    return "an " if word[:1] in ("a", "e", "i", "o", "u") and not word.startswith("uni") else "a "


def _kind(words: Sequence[str]) -> ValueKind:
    return "date" if _DATE_WORDS.search(" ".join(words).casefold()) else "entity"


def _clause(head: str, verb_phrase: str) -> str:
    """``"the entity that {head} <verb_phrase>"``, a final preposition moved in front.

    ``"works for"`` gives ``"the entity for which {head} works"``: a nested phrase that
    ends in a preposition would run into the words after it.
    """
    words = verb_phrase.split()
    if len(words) > 1 and words[-1] in _PREPS:
        return f"the entity {words[-1]} which {head} {' '.join(words[:-1])}"
    return f"the entity that {head} {verb_phrase}"


def _order_unnamed(label: str, kind: ValueKind) -> tuple[str, ...]:
    """Order comparisons for a label that names no value (a verb, an id)."""
    rel = _esc(label)
    if kind == "date":
        return (
            f"For the relation {rel}, is the value of {{e1}} earlier than, the same as, or "
            "later than that of {e2}?",
        )
    return (
        f"For the relation {rel}, is the value of {{e1}} smaller than, equal to, or larger "
        "than that of {e2}?",
    )


def _forward(
    noun: str,
    ask: Sequence[str],
    nested: Sequence[str],
    same: Sequence[str],
    *,
    kind: ValueKind,
    review: str | None,
    order: Sequence[str] = (),
) -> _Phrasing:
    """A forward phrasing made from a label; without ``order`` it names no value to order."""
    return _Phrasing(
        noun=noun,
        ask=tuple(dict.fromkeys(ask)),
        nested=tuple(dict.fromkeys(nested)),
        same=tuple(same),
        order=tuple(order) or _order_unnamed(noun, kind),
        kind=kind,
        review=review,
        ask_review=review,
        order_review=None if order else f"{noun!r} names no value to order",
    )


def _backward(
    noun: str,
    ask: Sequence[str],
    nested: Sequence[str],
    *,
    kind: ValueKind,
    review: str | None,
    date_subject: bool = False,
) -> _Phrasing:
    """An inverse phrasing made from a label (``{head}`` is the tail of the relation)."""
    return _Phrasing(
        noun=noun,
        ask=tuple(ask),
        nested=tuple(nested),
        kind=kind,
        date_subject=date_subject,
        review=review,
        ask_review=review,
    )


def _noun_phrasing(
    noun: str,
    *,
    inverse: bool,
    kind: ValueKind,
    review: str | None = None,
    article: str = "the ",
) -> _Phrasing:
    """``"What is the {noun} of {head}?"`` (inverse ``"What has {head} as its {noun}?"``).

    ``article`` replaces ``"the "`` in the question (``"What is part of {head}?"``).
    """
    n = _esc(noun)
    head_word = noun.split()[0] if " of " in f" {noun} " else noun.split()[-1]
    plural = _plural(head_word.casefold())
    if inverse:
        among, be = ("among", "include") if plural else ("as", "is")
        return _backward(
            f"entity whose {noun} is",
            (f"What has {{head}} {among} its {n}?", f"Which entity has {{head}} {among} its {n}?"),
            (f"the entity whose {n} {be} {{head}}",),
            kind=kind,
            review=review,
        )
    be, which = ("are", "Which entities") if plural else ("is", "Which entity")
    asks = [f"What {be} {article}{n} of {{head}}?", f"{which} {be} {article}{n} of {{head}}?"]
    if _PAST_NOUN_WORDS & set(noun.casefold().split()):
        asks.insert(1, f"What {'were' if plural else 'was'} the {n} of {{head}}?")
    if plural:  # "Is the members of X ..." does not read; one value per entity is needed
        same: tuple[str, ...] = (f"Do {{e1}} and {{e2}} have the same {n}?",)
        return replace(
            _forward(noun, asks, (f"the {n} of {{head}}",), same, kind=kind, review=review),
            order_review=f"{noun!r} is plural: an order comparison needs one value",
        )
    return _forward(
        noun,
        asks,
        (f"the {n} of {{head}}",),
        _same_generic(noun),
        kind=kind,
        review=review,
        order=_order_generic(noun, kind),
    )


def _be_phrasing(
    pred: str,
    *,
    inverse: bool,
    past: bool,
    label: str,
    kind: ValueKind,
    inverse_pred: str | None = None,
    inverse_nested: str | None = None,
    same: Sequence[str] = (),
    extra_ask: Sequence[str] = (),
    review: str | None = None,
) -> _Phrasing:
    """``X <be> <pred> Y``: ``"What is {head} influenced by?"``.

    The inverse asks ``"What is influenced by {head}?"``; ``pred`` is e.g. ``"influenced
    by"``, ``"similar to"``, ``"the mentor of"``.
    """
    p = _esc(pred)
    be, bes = ("was", "Were") if past else ("is", "Are")
    if inverse:
        ip = _esc(inverse_pred or pred)
        return _backward(
            f"entity {inverse_pred or pred}",
            (f"What {be} {ip} {{head}}?", f"Which entity {be} {ip} {{head}}?"),
            (inverse_nested or f"the entity {ip} {{head}}",),
            kind=kind,
            review=review,
        )
    clause = _clause("{head}", f"{be} {p}")
    return _forward(
        label,
        (
            f"What {be} {{head}} {p}?",
            f"Which entity {be} {{head}} {p}?",
            *extra_ask,
            f"What is {clause}?",  # no word after {head}: reads when {head} is nested
        ),
        # a second nesting, so that one relation twice need not read "... by by ..."
        (clause, f"the entity that {{head}} {be} {p}"),
        same or (f"{bes} {{e1}} and {{e2}} {p} the same entity?",),
        kind=kind,
        review=review,
    )


def _verb_phrasing(
    *,
    base: str,
    finite: str,
    do: str,
    rest: str,
    inverse: bool,
    label: str,
    kind: ValueKind,
    extra_ask: Sequence[str] = (),
    review: str | None = None,
) -> _Phrasing:
    """``X <verb> [rest] Y``: ``"What does {head} work for?"`` / ``"What works for {head}?"``.

    ``finite`` is the verb as it follows a subject (``works``, ``lived``), ``do`` the
    auxiliary of a question (``does``, ``did``).
    """
    r = _esc(rest)
    tail = f" {r}" if r else ""
    if inverse:
        return _backward(
            f"entity that {label}",
            (f"What {finite}{tail} {{head}}?", f"Which entity {finite}{tail} {{head}}?"),
            (f"the entity that {finite}{tail} {{head}}",),
            kind=kind,
            review=review,
        )
    clause = _clause("{head}", f"{finite}{tail}")
    # a second nesting, so that one verb twice need not read "... works works ...":
    # "the entity that {head} works for", or "the entity owned by {head}"
    if tail:
        other = f"the entity that {{head}} {finite}{tail}"
    elif base not in ("have", "be"):
        other = f"the entity {_past(base)[1]} by {{head}}"
    else:
        other = clause
    return _forward(
        label,
        (
            f"What {do} {{head}} {base}{tail}?",
            f"Which entity {do} {{head}} {base}{tail}?",
            *extra_ask,
            f"What is {clause}?",
        ),
        (clause, other),
        (f"{'Did' if do == 'did' else 'Do'} {{e1}} and {{e2}} {base}{tail} the same entity?",),
        kind=kind,
        review=review,
    )


def _related(label: str, *, inverse: bool, why: str) -> _Phrasing:
    """``"What is {head} related to?"``: for a label with nothing to read."""
    return _be_phrasing(
        "related to", inverse=inverse, past=False, label="related to", kind="entity", review=why
    )


def _verb_form(word: str, form: tuple[str, str] | None) -> tuple[str, str] | None:
    """``(base, kind)`` of a verb form, ``kind`` in ``pp`` / ``past`` / ``s`` / ``base``.

    Known verbs come from the lexicon; an unknown ``-ed`` word is a participle with no
    known base (``("", "pp")``).
    """
    if word in _ED_NOUNS:
        return None
    if form is not None:
        return form
    if word.endswith("ed") and len(word) > 4 and not word.endswith("eed"):
        return ("", "pp")
    return None


def _label_phrasing(label: str, *, inverse: bool) -> _Phrasing:
    """Phrasing of a relation without built-in phrasings, read from its label.

    The shapes are listed above ``_PREPS``; a doubtful reading sets ``review``.
    """
    kind_, tokens = _words(label)
    shown = " ".join(tokens)
    if kind_ == "none":
        why = f"relation label {label!r} has no words; the question only says 'related to'"
        return _related(label, inverse=inverse, why=why)
    if kind_ != "words":
        why = {
            "opaque": f"relation {label!r} is an identifier, not words; name it with "
            f"templates={{{label!r}: '<relation in words>'}}",
            "verbatim": f"relation label {label!r} has characters that are not words",
            "foreign": f"relation label {label!r} has no English words",
        }[kind_]
        kind: ValueKind = "entity" if kind_ == "opaque" else _kind(tokens)
        return _noun_phrasing(shown, inverse=inverse, kind=kind, review=why)

    d, past = _strip_prefix(tokens)
    w = [t.casefold() for t in d]
    text = " ".join(d)
    kind = _kind(w)
    unread = f"cannot read relation label {label!r} as a noun or a verb"
    review: str | None = None
    if any(a.casefold() == b.casefold() for a, b in itertools.pairwise(tokens)):
        review = f"relation label {label!r} repeats a word"
    elif not _well_formed(d):
        review = unread
    first, rest, last = w[0], w[1:], w[-1]
    rest_text = " ".join(d[1:])

    # ---- nothing to read: "is", "the", "is of", "of the located", "born the"
    if (len(w) == 1 and first in _FUNCTION - _PREPS - _HAVE) or (
        len(w) > 1 and (first in _FUNCTION - _HAVE or last in _FUNCTION - _PREPS)
    ):
        why = f"relation label {label!r} has no content words; the question says 'related to'"
        return _related(label, inverse=inverse, why=why)
    if len(w) == 1 and first in _PREPS:  # "in", "of"
        why = f"relation label {label!r} is only a preposition"
        return _be_phrasing(
            text, inverse=inverse, past=past, label=text, kind=kind, review=review or why
        )

    form = _verb_form(first, _FORMS.get(first))
    # ---- participles and past tenses: "influenced by", "located in", "lived in", "directed"
    if form is not None and form[1] in ("past", "pp"):
        base, tense = form
        if not rest and first in _STATIVE:  # "located": located in
            found = _builtin(f"{text} in" + (_INVERSE if inverse else ""))
            if found is not None:
                return found
            d, w, rest, rest_text = [*d, "in"], [*w, "in"], ["in"], "in"
            text = " ".join(d)
        if rest and rest[0] in _PREPS:
            if tense == "past" and base in _INTRANSITIVE and "by" not in rest:  # lived in
                return _verb_phrasing(
                    base=base,
                    finite=first,
                    do="did",
                    rest=rest_text,
                    inverse=inverse,
                    label=text,
                    kind=kind,
                    review=review,
                )
            return _be_phrasing(  # influenced by, located in, named after
                text,
                inverse=inverse,
                past=past or first in _PAST_EVENT,
                label=text,
                kind=kind,
                review=review,
            )
        if not rest:  # "directed": X directed Y
            pp = _esc(_past(base)[1] if base else first)
            passive = (f"What was {pp} by {{head}}?", f"Which entity was {pp} by {{head}}?")
            if tense == "past":
                return _verb_phrasing(
                    base=base,
                    finite=first,
                    do="did",
                    rest="",
                    inverse=inverse,
                    label=text,
                    kind=kind,
                    extra_ask=passive[:1],
                    review=review,
                )
            if inverse:
                f = _esc(first)
                return _backward(
                    f"entity that {text}",
                    (f"What {f} {{head}}?", f"Which entity {f} {{head}}?"),
                    (f"the entity that {f} {{head}}",),
                    kind=kind,
                    review=review,
                )
            return _forward(
                text,
                passive,
                (f"the entity {pp} by {{head}}",),
                (f"Was the same entity {pp} by both {{e1}} and {{e2}}?",),
                kind=kind,
                review=review,
            )

    # ---- progressive: "featuring", "playing for"
    if (
        first.endswith("ing")
        and len(first) > 5
        and first not in _ING_NOUNS
        and (not rest or rest[0] in _PREPS or rest[0] in _DETS)
    ):
        return _be_phrasing(text, inverse=inverse, past=past, label=text, kind=kind, review=review)

    # ---- present tense: "works for", "cites the works at", "contains", "plays instrument"
    guessed = (  # an unknown third-person verb before a preposition: "flirts with"
        form is None
        and first.endswith("s")
        and len(first) > 3
        and not first.endswith(("ss", "us", "is"))
        and bool(rest)
        and (rest[0] in _PREPS - {"of"} or rest[0] in _DETS)
    )
    if (form is not None and form[1] in ("s", "base")) or guessed:
        if form is not None:
            base = form[0]
        elif first.endswith("ies"):
            base = first[:-3] + "y"
        elif first.endswith(("sses", "shes", "ches", "xes", "zzes", "oes")):
            base = first[:-2]
        else:
            base = first[:-1]
        finite = first if (form is None or form[1] == "s") else _third(base)

        def verb(after: str, why: str | None = review) -> _Phrasing:
            return _verb_phrasing(
                base=base,
                finite=finite,
                do="does",
                rest=after,
                inverse=inverse,
                label=text,
                kind=kind,
                review=why,
            )

        if not rest and base in _VERB_ALONE:  # "cites"
            return verb("")
        if rest and (rest[0] in _PREPS - {"of"} or (rest[0] == "of" and base in _OF_VERBS)):
            return verb(rest_text)  # "works for", "consists of"
        if rest and rest[0] in _DETS:
            if last in _PREPS:  # "cites the works at"
                return verb(rest_text)
            rest, rest_text = rest[1:], " ".join(d[2:])  # "plays the piano": the object
        if rest and base in _VERB_ALONE and not (_PREPS & set(rest)):
            obj = _esc(rest_text)  # "plays instrument": Which instrument does X play?
            if not _reads_as_noun(rest):
                review = review or unread
            if inverse:
                return _backward(
                    f"entity that {text}",
                    (f"What {finite} {{head}}?", f"Which entity {finite} {{head}}?"),
                    (f"the entity that {finite} {{head}}",),
                    kind=kind,
                    review=review,
                )
            return _forward(
                rest_text,
                (f"Which {obj} does {{head}} {base}?", f"What {obj} does {{head}} {base}?"),
                (f"the {obj} that {{head}} {finite}",),
                (f"Do {{e1}} and {{e2}} {base} the same {obj}?",),
                kind=kind,
                review=review,
            )
        if rest and base in _VERB_ALONE:
            why = f"cannot tell the object of the verb in relation label {label!r}"
            return verb(" ".join(d[1:]), review or why)

    # ---- adjectives: "similar to", "adjacent to", "home to"
    if rest and rest[0] in _PREPS and (first in _ADJECTIVES or first.endswith("ous")):
        return _be_phrasing(text, inverse=inverse, past=past, label=text, kind=kind, review=review)

    # ---- member noun + of + class: "member of sports team", "part of the series"
    if len(w) >= 3 and first in _MEMBER_NOUNS and w[1] == "of" and last not in _FUNCTION:
        cls_words = d[3:] if w[2] in _DETS else d[2:]
        if not _reads_as_noun(cls_words):
            review = review or unread
        cls, n = _esc(" ".join(cls_words)), _esc(d[0])
        art = "" if first in _ZERO_ARTICLE else _indefinite(first)
        if inverse:
            return _backward(
                f"{d[0]} of",
                (f"What is {art}{n} of {{head}}?", f"Which entity is {art}{n} of {{head}}?"),
                (f"the {n} of {{head}}",),
                kind=kind,
                review=review,
            )
        return _forward(
            text,
            (
                f"Which {cls} is {{head}} {art}{n} of?",
                f"What {cls} is {{head}} {art}{n} of?",
                f"What is the {cls} of which {{head}} is {art}{n}?",
            ),
            (f"the {cls} of which {{head}} is {art}{n}",),
            (f"Is {{e1}} {art}{n} of the same {cls} as {{e2}}?",),
            kind=kind,
            review=review,
        )

    # ---- noun + preposition: "mentor of" (X is the mentor of Y), "professor at"
    if len(w) >= 2 and last in _PREPS:
        noun_words, prep = d[:-1], d[-1]
        if not _reads_as_noun(noun_words):
            return _be_phrasing(
                text, inverse=inverse, past=past, label=text, kind=kind, review=review or unread
            )
        noun = " ".join(noun_words)
        head_noun = noun_words[-1].casefold()
        if (
            prep != "of"
            and len(noun_words) == 1
            and head_noun not in _MEMBER_NOUNS | _NOUNS_BEFORE_PREP
            and not head_noun.endswith(_AGENT_SUFFIXES)
        ):
            review = review or f"cannot tell whether {noun!r} in {label!r} is a noun or a verb"
        if head_noun in _ZERO_ARTICLE and len(noun_words) == 1:
            art = ""
        elif head_noun in _A_NOUNS:
            art = _indefinite(head_noun)
        else:
            art = "the "
        n, pr = _esc(noun), _esc(prep)
        return _be_phrasing(
            f"{art}{noun} {prep}",
            inverse=inverse,
            past=past,
            label=text,
            kind=kind,
            inverse_nested=f"the {n} {pr} {{head}}",
            same=(f"Is {{e1}} {art}{n} {pr} the same entity as {{e2}}?",),
            extra_ask=("What kind of entity is {head}?",) if w == ["instance", "of"] else (),
            review=review,
        )

    # ---- noun + participle: "position held", "languages spoken", "year founded"
    last_form = _verb_form(last, _FORMS.get(last))
    if len(w) >= 2 and w[-2] not in _FUNCTION and last_form and last_form[1] in ("pp", "past"):
        noun, pp = " ".join(d[:-1]), d[-1]
        if not _reads_as_noun(d[:-1]):
            review = review or unread
        n, p = _esc(noun), _esc(pp)
        if w[-2] in _WHEN_NOUNS and len(w) == 2:  # the year in which X was founded
            on = {"date": "on", "day": "on", "time": "at"}.get(w[-2], "in")
            if inverse:
                return _backward(
                    f"entity {pp} {on}",
                    (f"What was {p} {on} {{head}}?", f"Which entity was {p} {on} {{head}}?"),
                    (f"the entity {p} {on} {{head}}",),
                    kind="date",
                    review=review,
                    date_subject=True,
                )
            return _forward(
                text,
                (
                    f"{on.capitalize()} which {n} was {{head}} {p}?",
                    f"When was {{head}} {p}?",
                    f"What is the {n} {on} which {{head}} was {p}?",
                ),
                (f"the {n} {on} which {{head}} was {p}",),
                (f"Were {{e1}} and {{e2}} {p} {on} the same {n}?",),
                kind="date",
                review=review,
                order=(
                    f"Was {{e1}} {p} before, {on} the same {n} as, or after {{e2}}?",
                    f"Compared with {{e2}}, was {{e1}} {p} earlier, {on} the same {n}, or later?",
                ),
            )
        plural = _plural(w[-2])
        one = "was" if last in _PAST_EVENT else "is"
        be = {"was": "were", "is": "are"}[one] if plural else one
        if inverse:
            return _backward(
                f"entity by which it {one} {pp}",
                (f"What {one} {{head}} {p} by?", f"Which entity {one} {{head}} {p} by?"),
                (f"the entity by which {{head}} {one} {p}",),
                kind=kind,
                review=review,
            )
        return _forward(
            text,
            (f"Which {n} {be} {p} by {{head}}?", f"What {n} {be} {p} by {{head}}?"),
            (f"the {n} {p} by {{head}}",),
            (f"{be.capitalize()} the same {n} {p} by both {{e1}} and {{e2}}?",),
            kind=kind,
            review=review,
        )

    # ---- a noun: "mentor", "place of birth", "notable works"
    if not _reads_as_noun(d):
        review = review or unread
    article = "the "
    if len(w) == 1 and tokens[0].casefold() in _HAVE:  # "has part": What is part of X?
        if first in _ZERO_ARTICLE:
            article = ""
        elif first in _A_NOUNS:
            article = _indefinite(first)
    return _noun_phrasing(text, inverse=inverse, kind=kind, review=review, article=article)


def _from_phrase(phrase: str, *, inverse: bool) -> _Phrasing:
    """Phrasing for a relation renamed to ``phrase`` (built in when ``phrase`` is known)."""
    found = _builtin(phrase + _INVERSE if inverse else phrase)
    if found is not None:
        return found
    return _label_phrasing(phrase, inverse=inverse)


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


# a word twice ("part part of"), or a noun phrase running into itself ("the mentor the
# mentor of"); "... X is part is part?" is how one relation twice reads, and stays
_REPEAT = re.compile(r"\b(\w+|(?:the|a|an)\s+\w+)\s+\1\b", re.IGNORECASE)


def _repeat(text: str, names: Iterable[str]) -> str | None:
    """A word or two said twice in a row in ``text`` (``"influenced influenced"``), if any.

    The entity names are left out (``"Duran Duran"`` is a name, not a stammer).
    """
    for name in names:
        text = text.replace(name, "\x00")
    m = _REPEAT.search(text)
    return m.group(0) if m else None


def _names(item: VerbalizerItem) -> tuple[str, ...]:
    """The entity names a question of ``item`` contains."""
    if isinstance(item, ComparisonFact):
        return (item.entity1, item.entity2)
    return (_path(item)[0],)


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
    ``spouse``, ``cast member``, ``publication date`` and their inverses ``"r^-1"``;
    otherwise read from the label: ``"mentor"`` asks ``"What is the mentor of {head}?"``,
    ``"mentor of"`` ``"What is {head} the mentor of?"``, ``"works for"`` ``"What does
    {head} work for?"``, ``"influenced by"`` ``"What is {head} influenced by?"``; URIs,
    ``snake_case`` and ``camelCase`` are read as words first). The last hop of a path is
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

    A question that could not be made to read well is returned with ``status="review"``
    (kept; the text is still a question with the head entity and without the answer) and
    a ``reason`` naming the relation, see :meth:`review`: an opaque relation id (``"P19"``,
    ``"r0"``, ``"x"``, ``"42"``; ``templates={"P19": "place of birth"}`` names it), a label
    with no words or with characters that are not words, or with no English letters, a
    label that reads as neither a noun nor a verb, an order comparison on a relation that
    names no value (``"cites"``), or an item whose every phrasing repeats words (one
    clause-shaped relation twice in a row). ``"failed"`` wins over ``"review"``. While
    :class:`~kgaug.verbalize.base.Question` has no ``"review"`` status, such questions are
    ``"failed"`` with the same reason.

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
                self._overrides[rel] = replace(
                    default, ask=(_check_format(value, where),), ask_review=None
                )
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
            self._overrides[rel] = replace(default, ask=forms, ask_review=None)
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

        Phrasings that say a word or two twice in a row (``"... is part part of?"``, when
        one relation follows itself) are left out unless no other phrasing is left.

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
            texts = self._comparison_phrasings(item)
        elif isinstance(item, (Triple, FiveTuple, Chain)):
            head, relations = _path(item)
            texts = self._path_phrasings(head, relations)
        else:
            raise TypeError(
                f"cannot verbalize {type(item).__name__}; expected Triple, FiveTuple, Chain or "
                "ComparisonFact"
            )
        names = _names(item)
        return [t for t in texts if _repeat(t, names) is None] or texts

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

    def review(self, item: VerbalizerItem) -> str | None:
        """Why the phrasings of ``item`` need a human look, or ``None`` when they read well.

        Every phrasing of an item shares the relations' wordings, so the verdict is per item:
        a relation that is an opaque id (``"P19"``, ``"r0"``), has no words (``""``,
        ``"???"``) or characters that are not words (``"r{x}"``), has no English letters,
        repeats a word, or cannot be read as a noun or a verb; or an order comparison on a
        relation that names no value (``"cites"``). A format string override of the last
        hop counts as read well.

        Parameters
        ----------
        item : Triple, FiveTuple, Chain or ComparisonFact
            What is put into words.

        Returns
        -------
        str or None
            The reasons, ``"; "``-separated.
        """
        if isinstance(item, ComparisonFact):
            spec = self._phrasing(item.attribute)
            reasons = [spec.review, spec.order_review if item.style == "order" else None]
            if _split_inverse(item.attribute)[1] and not spec.same:
                reasons.append(f"a comparison on the inverse relation {item.attribute!r}")
        elif isinstance(item, (Triple, FiveTuple, Chain)):
            _, relations = _path(item)
            specs = [self._phrasing(r) for r in relations]
            reasons = [specs[-1].ask_review, *(s.review for s in specs[:-1])]
        else:
            raise TypeError(
                f"cannot verbalize {type(item).__name__}; expected Triple, FiveTuple, Chain or "
                "ComparisonFact"
            )
        found = list(dict.fromkeys(r for r in reasons if r))
        return "; ".join(found) if found else None

    @staticmethod
    def _question(text: str, answer: str, item: VerbalizerItem, review: str | None) -> Question:
        if review is None:
            return Question(question=text, answer=answer, source=item)
        return Question(question=text, answer=answer, source=item, status=_REVIEW, reason=review)

    def _one(self, item: VerbalizerItem) -> Question:
        texts = self.phrasings(item)  # raises TypeError for a foreign item first
        answer = _answer(item)
        review = self.review(item)
        ranked = self._rank(item, texts, shuffle=self.variants)
        good = [t for t in ranked if self._ok(item, answer, t)]
        if good:
            names = _names(item)
            fluent = [t for t in good if _repeat(t, names) is None]
            if not fluent:  # e.g. one relation twice in a row: "... is part part of?"
                said = _repeat(good[0], names)
                stammer = f"every phrasing repeats words ({said!r})"
                review = f"{review}; {stammer}" if review else stammer
            return self._question((fluent or good)[0], answer, item, review)
        reason = "every phrasing contains the answer"
        return Question(
            question=ranked[0],
            answer=answer,
            source=item,
            status="failed",
            reason=f"{reason}; {review}" if review else reason,
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
            ``status="failed"`` where every phrasing would reveal the answer,
            ``status="review"`` where the wording is doubtful (see :meth:`review`), else
            ``"ok"``.

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
            With ``answer`` and ``source`` of ``question``; ``status="ok"``, or
            ``"review"`` with the reason of :meth:`review` when the item's wording is
            doubtful.
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
        review = self.review(item)
        out = [
            self._question(t, question.answer, item, review)
            for t in texts
            if self._ok(item, question.answer, t)
        ]
        return out[:k]

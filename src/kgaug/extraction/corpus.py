"""Texts whose facts are known, scripted models that read them, and extraction scores.

An extraction can only be measured on text whose triples are known. :func:`make_corpus`
writes the facts of a graph as paragraphs, the way text names things: a person is named
in full first and by surname (or with a title) afterwards, a country by its abbreviation
now and then, and each relation in several phrasings, half of them in the other direction
("Avatar was directed by James Cameron", "James Cameron directed Avatar"). It also states
facts outside the graph's relations (distractors) that a schema must keep out.

:func:`scripted_model` is a :class:`~kgaug.verbalize.fake_server.FakeChatServer`
responder that extracts from those paragraphs like a model would: ``"careful"`` gives
the canonical relation in its direction, the names as written and the right types;
``"sloppy"`` writes the relation as the sentence phrases it (inverse phrasings with head
and tail swapped), types most names as ``Object``, misses some facts and extracts the
distractors too. :func:`score_graph` compares a recovered graph with the original.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from kgaug.extraction.chunking import split_sentences
from kgaug.kg import KnowledgeGraph

__all__ = ["Corpus", "GraphScore", "make_corpus", "score_graph", "scripted_model"]

Style = Literal["careful", "sloppy"]

# relation -> ((forward sentence, its phrasing), (inverse sentence, its phrasing)); the
# phrasing is what a sloppy model writes as the relation; "~" marks an inverse phrasing
_SENTENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "director": (("{h} was directed by {t}.", "directed by"), ("{t} directed {h}.", "~directed")),
    "publication date": (
        ("{h} was released in {t}.", "released in"),
        ("{h} came out in {t}.", "release date"),
    ),
    "based on": (
        ("{h} is based on {t}.", "based on"),
        ("{t} was adapted into {h}.", "~adapted into"),
    ),
    "author": (("{h} was written by {t}.", "written by"), ("{t} wrote {h}.", "~wrote")),
    "date of birth": (
        ("{h} was born in {t}.", "born in year"),
        ("{h}, born {t}, grew up fast.", "birth date"),
    ),
    "place of birth": (
        ("{h} was born in {t}.", "born in"),
        ("{t} is the birthplace of {h}.", "~birthplace of"),
    ),
    "spouse": (("{h} is married to {t}.", "married to"), ("{t} and {h} are married.", "~married")),
    "father": (("{h}'s father is {t}.", "father"), ("{t} is the father of {h}.", "~father of")),
    "mother": (("{h}'s mother is {t}.", "mother"), ("{t} is the mother of {h}.", "~mother of")),
    "child": (("{h} has a child, {t}.", "has child"), ("{t} is a child of {h}.", "~child of")),
    "sibling": (
        ("{h} is a sibling of {t}.", "sibling of"),
        ("{t} and {h} are siblings.", "~sibling"),
    ),
    "cast member": (("{h} stars {t}.", "starring"), ("{t} starred in {h}.", "~starred in")),
    "country": (("{h} is in {t}.", "located in country"), ("{h} lies in {t}.", "country")),
    "country of citizenship": (
        ("{h} is a citizen of {t}.", "citizen of"),
        ("{h} holds the nationality of {t}.", "nationality"),
    ),
}
# facts no schema of these relations holds (the sloppy model extracts them)
_DISTRACTORS = (
    ("{e} is widely admired.", "admired by", "critics"),
    ("{e} received a lot of press attention.", "covered by", "the press"),
    ("Many people have written about {e}.", "subject of", "many articles"),
)
_TITLES = ("Dr.", "Sir", "Professor")
_ROMAN = re.compile(r"^[IVXLC]+$")
_COUNTRY_ABBREVIATIONS = {"United States": "USA", "United Kingdom": "UK"}


class Corpus(BaseModel):
    """Paragraphs stating the facts of a graph (see :func:`make_corpus`).

    Attributes
    ----------
    texts : dict of str to str
        The paragraphs by id.
    gold : KnowledgeGraph
        The facts they state (the graph's, with its types).
    sentences : dict of str to list
        Per sentence (as written): ``[head as written, relation, tail as written, head
        type, tail type, phrasing]`` of the fact it states (``relation`` ``None`` for a
        distractor); what :func:`scripted_model` reads.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    texts: dict[str, str]
    gold: KnowledgeGraph
    sentences: dict[str, list[Any]]

    def __repr__(self) -> str:
        chars = sum(map(len, self.texts.values()))
        return f"Corpus({len(self.texts)} texts, {chars} characters, {self.gold.num_facts} facts)"

    __str__ = __repr__


def _rng_int(seed: int, *parts: Any) -> int:
    blob = repr((seed, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(blob, digest_size=8).digest(), "little")


def make_corpus(
    kg: KnowledgeGraph,
    *,
    facts_per_text: int = 12,
    variants: bool = True,
    distractors: float = 0.1,
    seed: int = 0,
) -> Corpus:
    """Paragraphs stating every fact of ``kg`` once (see the module docs).

    Parameters
    ----------
    kg : KnowledgeGraph
        The facts (their relations should be among those the corpus can phrase; others
        are written "The <relation> of <head> is <tail>.").
    facts_per_text : int
        Facts per paragraph (facts of one head are kept together).
    variants : bool
        Name people by surname or with a title after their first mention in a
        paragraph, and countries by abbreviation now and then.
    distractors : float
        Share of sentences that state a fact outside the graph's relations.
    seed : int
        Same seed, same corpus.
    """
    if not isinstance(kg, KnowledgeGraph):
        raise TypeError(f"expected a KnowledgeGraph, got {type(kg).__name__}")
    if facts_per_text < 1:
        raise ValueError(f"facts_per_text must be >= 1, got {facts_per_text}")
    if not 0 <= distractors < 1:
        raise ValueError(f"distractors must be in [0, 1), got {distractors}")
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(kg.num_facts), kg.head_ids))  # facts of a head together
    triples = [tuple(x) for x in kg.triples()]
    texts: dict[str, str] = {}
    sentences: dict[str, list[Any]] = {}
    for start in range(0, len(order), facts_per_text):
        tid = str(len(texts))
        seen: set[str] = set()
        parts: list[str] = []
        block = order[start : start + facts_per_text].tolist()
        # a surname stands for a person only when no other person here shares it
        people = {
            e
            for i in block
            for e in (triples[i][0], triples[i][2])
            if kg.entity_type(e) == "Person"
        }
        last = Counter(_last_word(e) for e in people)
        for i in block:
            h, r, t = triples[i]
            ht, tt = kg.entity_type(h), kg.entity_type(t)
            forms = _SENTENCES.get(r, ((f"The {r} of {{h}} is {{t}}.", r),) * 2)
            k = _rng_int(seed, "form", i) % len(forms)
            template, phrasing = forms[k]
            hs = _surface(h, ht, seen, variants and last[_last_word(h)] <= 1, seed, i, "h")
            ts = _surface(t, tt, seen, variants and last[_last_word(t)] <= 1, seed, i, "t")
            sentence = template.format(h=hs, t=ts)
            sentence = sentence[0].upper() + sentence[1:]
            parts.append(sentence)
            sentences[sentence] = [hs, r, ts, ht, tt, phrasing]
            if _rng_int(seed, "distract", i) % 1000 < 1000 * distractors:
                tmpl, rel, obj = _DISTRACTORS[_rng_int(seed, "which", i) % len(_DISTRACTORS)]
                d = tmpl.format(e=hs)
                d = d[0].upper() + d[1:]
                parts.append(d)
                sentences[d] = [hs, None, obj, ht, "Object", rel]
        texts[tid] = " ".join(parts)
    return Corpus(texts=texts, gold=kg, sentences=sentences)


def _last_word(name: str) -> str | None:
    """The surname a text may call a person by (``None``: the name has none)."""
    words = name.split()
    if len(words) < 2 or "," in name or "(" in name:
        return None
    w = words[-1]
    if not w[:1].isupper() or _ROMAN.match(w) or any(c.isdigit() for c in w):
        return None
    return w


def _surface(
    name: str, type_: str | None, seen: set[str], variants: bool, seed: int, i: int, end: str
) -> str:
    """How a paragraph names ``name`` at this mention."""
    first = name not in seen
    seen.add(name)
    if not variants:
        return name
    roll = _rng_int(seed, "surface", i, end) % 100
    surname = _last_word(name)
    if type_ == "Person" and not first and surname is not None:
        if roll < 45:
            return surname
        if roll < 60:
            return f"{_TITLES[roll % len(_TITLES)]} {name}"
    if name in _COUNTRY_ABBREVIATIONS and roll < 50:
        return _COUNTRY_ABBREVIATIONS[name]
    return name


_FACT_LINE = '<{h}; {ht}><{r}><{t}; {tt}> "{q}"'


def scripted_model(
    corpus: Corpus, style: Style = "careful", *, seed: int = 0, miss: float = 0.05
) -> Any:
    """A :class:`~kgaug.verbalize.fake_server.FakeChatServer` responder for ``corpus``.

    It extracts the facts of the sentences of the chunk it is sent (see the module docs;
    ``miss`` is the share of facts the sloppy model leaves out) and answers other
    requests like :func:`~kgaug.verbalize.fake_server.cooperative_model`.
    """
    from kgaug.verbalize.fake_server import Reply, cooperative_model

    if style not in ("careful", "sloppy"):
        raise ValueError(f"style must be 'careful' or 'sloppy', got {style!r}")
    lookup: Mapping[str, list[Any]] = corpus.sentences

    def answer(text: str) -> str:
        lines = []
        for s, e in split_sentences(text):
            sentence = text[s:e]
            fact = lookup.get(sentence)
            if fact is None:
                continue
            hs, r, ts, ht, tt, phrasing = fact
            roll = _rng_int(seed, style, sentence) % 1000
            if style == "careful":
                if r is None:
                    continue
                lines.append(
                    _FACT_LINE.format(
                        h=hs, ht=ht or "Object", r=r, t=ts, tt=tt or "Object", q=sentence
                    )
                )
                continue
            if r is not None and roll < 1000 * miss:
                continue
            inverse = phrasing.startswith("~")
            rel = phrasing.lstrip("~")
            a, at, b, bt = (ts, tt, hs, ht) if inverse else (hs, ht, ts, tt)
            # sloppy types: people and places often, the rest as Object
            at = at if at in ("Person", "Location") and roll % 3 else "Object"
            bt = bt if bt in ("Person", "Location") and roll % 5 else "Object"
            quote = sentence if roll % 4 else sentence.lower()
            lines.append(_FACT_LINE.format(h=a, ht=at, r=rel, t=b, tt=bt, q=quote))
        return "\n".join(f"{i}. {ln}" for i, ln in enumerate(lines, 1)) or "NONE"

    def respond(request: dict[str, Any], n: int) -> Reply:
        messages = request.get("messages", [])
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        if "graph gpt" not in system:
            return cooperative_model(request, n)
        return Reply(answer(str(messages[-1]["content"])))

    return respond


class GraphScore(BaseModel):
    """Precision, recall and F1 of a recovered graph's facts and entities."""

    model_config = ConfigDict(frozen=True)

    facts: int
    gold_facts: int
    fact_precision: float
    fact_recall: float
    fact_f1: float
    entities: int
    gold_entities: int
    entity_precision: float
    entity_recall: float
    entity_f1: float

    def __str__(self) -> str:
        return (
            f"facts P {self.fact_precision:.3f} R {self.fact_recall:.3f} F1 {self.fact_f1:.3f}; "
            f"entities P {self.entity_precision:.3f} R {self.entity_recall:.3f} "
            f"F1 {self.entity_f1:.3f}"
        )


def _prf(pred: set[Any], gold: set[Any]) -> tuple[float, float, float]:
    hit = len(pred & gold)
    p = hit / len(pred) if pred else 0.0
    r = hit / len(gold) if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score_graph(pred: KnowledgeGraph, gold: KnowledgeGraph) -> GraphScore:
    """Exact-label precision/recall/F1 of ``pred``'s facts and entities against ``gold``.

    Facts are compared as ``(head, relation, tail)`` and entities by label: a resolved
    entity counts only under its gold label.
    """
    for name, g in (("pred", pred), ("gold", gold)):
        if not isinstance(g, KnowledgeGraph):
            raise TypeError(f"{name} must be a KnowledgeGraph, got {type(g).__name__}")
    pf = {tuple(x) for x in pred.triples()}
    gf = {tuple(x) for x in gold.triples()}
    pe, ge = set(pred.entities), set(gold.entities)
    fp, fr, ff = _prf(pf, gf)
    ep, er, ef = _prf(pe, ge)
    return GraphScore(
        facts=len(pf),
        gold_facts=len(gf),
        fact_precision=fp,
        fact_recall=fr,
        fact_f1=ff,
        entities=len(pe),
        gold_entities=len(ge),
        entity_precision=ep,
        entity_recall=er,
        entity_f1=ef,
    )

"""Robust parsing of LLM output: answer tags, numbered lists, typed graph lines, JSON.

Models format loosely: numbering with ``1.`` or ``1)``, several items on one line, stray
markdown, tags with spaces or different case, JSON inside code fences. These parsers
accept all of that and return ``[]`` / ``None`` rather than raising, so the caller can
re-ask.

Two rules keep the data intact: list numbers count only when they run in sequence
(``1.``, ``2.``, ...), so "a population of 500. It ..." is not split; and names and
answers lose only the emphasis *around* them (``**Paris**``), never characters inside
(``C#``, ``Foo_Bar``).

Every parser takes time about linear in the length of the text, whatever it holds (a
reply of thousands of ``{``, unclosed ``<a>`` tags or long runs of spaces is read as
fast as prose), and none recurses: JSON is read to a depth of :data:`MAX_JSON_DEPTH` at
most. The engine cuts replies to ``max_reply_chars`` before they get here.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

__all__ = [
    "MAX_JSON_DEPTH",
    "parse_answer_tags",
    "parse_graph_facts",
    "parse_graph_lines",
    "parse_json_object",
    "parse_location_lines",
    "parse_numbered",
    "strip_reasoning",
]

_NUMBER = re.compile(r"(?:^|(?<=\s))(\d{1,3})[.)]\s+")
_OPEN_TAG = re.compile(r"<\s*a\s*>", re.IGNORECASE)
_CLOSE_TAG = re.compile(r"<\s*/\s*a\s*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t]{2,}")
# one fact on one line: ``<Name; Type><relation><Name; Type>``; a missing type is "Object"
_NAME = r"<[ \t]*([^<>;\n]+?)[ \t]*(?:;[ \t]*([^<>;\n]*?)[ \t]*)?>"
_GRAPH = re.compile(_NAME + r"[ \t]*<[ \t]*([^<>\n]+?)[ \t]*>[ \t]*" + _NAME)
# reasoning models (Qwen3, DeepSeek-R1) think aloud in <think> blocks; an unclosed one
# (a reply cut short) runs to the end
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.IGNORECASE | re.DOTALL)
_QUOTE = re.compile(r'"([^"\n]+)"|“([^”\n]+)”')
# emphasis and code marks, and heading marks at the start of a line
_MARKDOWN = re.compile(r"\*+|`+|^[ \t]*#+[ \t]+", re.MULTILINE)
_EDGE_MARKS = "*_` \t\r\n"

#: Deepest nesting of a JSON object :func:`parse_json_object` accepts.
MAX_JSON_DEPTH = 32
#: Starting braces :func:`parse_json_object` tries per candidate text.
_MAX_JSON_STARTS = 64
_BULLET = re.compile(r"^\s*(?:[-*•]\s+|\(?\d{1,3}[.)]\s+)")
_SEPARATOR = re.compile(r"\s+[-–—|]\s+|\s*:\s+|,\s+")


def _blank(s: str) -> str:
    """Markdown marks replaced by spaces (positions stay those of ``s``)."""
    return _MARKDOWN.sub(lambda m: " " * len(m.group()), s)


def _clean(s: str) -> str:
    """Markdown removed and whitespace normalized (for questions and paragraphs)."""
    return " ".join(_blank(s).split())


def _clean_name(s: str) -> str:
    """Whitespace normalized and emphasis around the text removed (names, answers)."""
    s = " ".join(s.split())
    prev = None
    for _ in range(8):  # emphasis nests a few levels at most; bounded for '""""...'
        if prev == s:
            break
        prev = s
        s = s.strip(_EDGE_MARKS)
        if len(s) > 1 and s[0] == s[-1] and s[0] in "\"'":  # quoted: "Paris"
            s = s[1:-1]
    return s


def _list_marks(text: str) -> list[re.Match[str]]:
    """The number marks of a numbered list in ``text`` (markdown already blanked).

    A list starts (or starts again) at a ``1`` and goes on with the next number only, so
    other numbers in the text ("a population of 500. It ...") are not item marks.
    """
    out: list[re.Match[str]] = []
    for m in _NUMBER.finditer(text):
        n = int(m.group(1))
        if n == 1 or (out and n == int(out[-1].group(1)) + 1):
            out.append(m)
    return out


def parse_numbered(text: str) -> list[str]:
    """Items of a numbered list (``1. ...  2. ...``), on separate lines or not.

    Only numbers in sequence count, so numbers inside an item do not split it. Text
    without numbering comes back as one item (if not empty); text before the first
    number (a chatty preamble) is dropped.
    """
    text = _blank(text)
    marks = _list_marks(text)
    if not marks:
        t = _clean(text)
        return [t] if t else []
    items = []
    for m, nxt in zip(marks, [*marks[1:], None]):
        chunk = _clean(text[m.end() : nxt.start() if nxt else len(text)])
        if chunk:
            items.append(chunk)
    return items


def _tags(text: str) -> list[tuple[int, int, int, int]]:
    """``(start, end, inner start, inner end)`` of every ``<a>...</a>``, in linear time.

    The same pairs as the lazy pattern ``<a>(.*?)</a>``: an open tag takes the first
    close tag after it, and the search goes on after that close tag. Many unclosed
    ``<a>`` do not make it quadratic.
    """
    closes = list(_CLOSE_TAG.finditer(text))
    starts = [m.start() for m in closes]
    out: list[tuple[int, int, int, int]] = []
    pos = 0
    for m in _OPEN_TAG.finditer(text):
        if m.start() < pos:
            continue
        i = bisect.bisect_left(starts, m.end())
        if i == len(closes):
            break  # no close tag after this one, nor after any later one
        c = closes[i]
        out.append((m.start(), c.end(), m.end(), c.start()))
        pos = c.end()
    return out


def parse_answer_tags(text: str) -> list[tuple[str, str]]:
    """``(question, answer)`` pairs from ``question<a>answer</a>`` output.

    The question is the text after the last list number before the tag (or, without
    numbers, the last line before it), so a chatty preamble is not part of it; markdown
    is removed from the question and whitespace normalized. The answer keeps every
    character but the emphasis around it.
    """
    plain = _blank(text)  # same positions as text
    marks = _list_marks(plain)
    mark_starts = [k.start() for k in marks]
    mark_ends = [k.end() for k in marks]  # increasing too: marks do not overlap
    out = []
    prev_end = 0
    for start, end, inner_start, inner_end in _tags(text):
        # the marks in [prev_end, start): the last one whose end is not after the tag
        lo = bisect.bisect_left(mark_starts, prev_end)
        hi = bisect.bisect_right(mark_ends, start)
        if hi > lo:  # the question follows its number ("Sure! ... 1. What is ...?")
            q = plain[marks[hi - 1].end() : start]
        else:  # or stands on the last line before the tag
            lines = [ln for ln in plain[prev_end:start].splitlines() if ln.strip()]
            q = _BULLET.sub("", lines[-1]) if lines else ""
        prev_end = end
        q = _clean(q)
        a = _clean_name(text[inner_start:inner_end])
        if q or a:
            out.append((q, a))
    return out


def parse_graph_lines(text: str) -> list[tuple[str, str, str, str, str]]:
    """``(head, head type, relation, tail, tail type)`` from ``<H; T><r><T; T>`` lines.

    A fact must stand on one line; a missing type is ``"Object"``.
    """
    return [row[:5] for row in parse_graph_facts(text)]


def strip_reasoning(text: str) -> str:
    """``text`` without ``<think>...</think>`` blocks (the reasoning of thinking models)."""
    return _THINK.sub("", text) if "<think" in text.lower() else text


def parse_graph_facts(text: str) -> list[tuple[str, str, str, str, str, str | None]]:
    """:func:`parse_graph_lines` plus the quote after each fact (``None`` if there is none).

    The quote is the first text in double quotes (``"..."`` or ``“...”``) after the fact
    on its line, before the next fact:
    ``<Avatar; Film><director><James Cameron; Person> "directed by James Cameron"``.
    """
    out: list[tuple[str, str, str, str, str, str | None]] = []
    # names lose inner runs of spaces anyway; without them the pattern stays linear
    flat = _SPACES.sub(" ", strip_reasoning(text))
    matches = list(_GRAPH.finditer(flat))
    for i, m in enumerate(matches):
        h, ht, r, t, tt = (_clean_name(g or "") for g in m.groups())
        if not (h and r and t):
            continue
        line_end = flat.find("\n", m.end())
        stop = len(flat) if line_end < 0 else line_end
        if i + 1 < len(matches):
            stop = min(stop, matches[i + 1].start())
        q = _QUOTE.search(flat, m.end(), stop)
        quote = " ".join((q.group(1) or q.group(2) or "").split()) if q else ""
        out.append((h, ht or "Object", r, t, tt or "Object", quote or None))
    return out


def parse_location_lines(text: str) -> list[tuple[str, str | None]]:
    """``(location, country)`` from ``Location - Country`` lines (country ``None`` if absent).

    Accepts numbering or bullets (then unmarked lines are ignored as chatter), one item
    per line or a numbered list on one line, and
    ``-``, ``–``, ``—``, ``|``, ``:`` or ``,`` between location and country, or the
    country in parentheses. The country is what follows the *last* separator, so
    ``Lyon, Auvergne - France`` is ``("Lyon, Auvergne", "France")``.
    """
    pairs = [(raw, ln) for raw, ln in zip(text.splitlines(), _blank(text).splitlines())]
    lines = [ln for _, ln in pairs if ln.strip()]
    if len(lines) == 1 and len(_list_marks(lines[0])) > 1:
        items = parse_numbered(lines[0])
    else:  # "* item" is a bullet too, though blanking took its star
        listed = [ln for raw, ln in pairs if _BULLET.match(raw) or _BULLET.match(ln)]
        # in a list, unmarked lines are chatter ("Sure! Here they are:")
        items = [_BULLET.sub("", ln) for ln in (listed or lines)]
    out: list[tuple[str, str | None]] = []
    for item in items:
        item = " ".join(item.split())
        paren = re.fullmatch(r"(.+?)\s*\(([^()]+)\)\.?", item)
        if paren:
            loc, country = paren.group(1), paren.group(2)
        else:
            seps = list(_SEPARATOR.finditer(item))
            if seps:
                loc, country = item[: seps[-1].start()], item[seps[-1].end() :]
            else:
                loc, country = item, None
        loc = _clean_name(loc)
        country = None if country is None else _clean_name(country).rstrip(".")
        if loc:
            out.append((loc, country or None))
    return out


def _fences(text: str) -> list[str]:
    """The contents of ```` ``` ```` code fences (a leading ``json`` dropped), linearly."""
    out = []
    start = text.find("```")
    while start >= 0:
        end = text.find("```", start + 3)
        if end < 0:
            break
        body = text[start + 3 : end]
        if body[:4].casefold() == "json":
            body = body[4:]
        out.append(body)
        start = text.find("```", end + 3)
    return out


def _depth(obj: Any, limit: int) -> int:
    """Nesting depth of a decoded JSON value, counted without recursion up to ``limit + 1``."""
    deepest = 0
    stack = [(obj, 1)]
    while stack:
        value, d = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, d)
            if deepest > limit:
                return deepest
            children = value.values() if isinstance(value, dict) else value
            stack.extend((c, d + 1) for c in children)
    return deepest


def parse_json_object(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (bare, or in a code fence), else ``None``.

    Bounded whatever the text: at most 64 opening braces are tried per candidate (a
    fence or the whole text), an object nested deeper than ``max_depth`` does not count
    (nor do the objects inside it), and nothing in the text (thousands of ``{``, a
    number of a million digits) raises.
    """
    decoder = json.JSONDecoder()
    for cand in [*_fences(text), text]:
        start = cand.find("{")
        tries = 0
        while start >= 0 and tries < _MAX_JSON_STARTS:
            tries += 1
            after = start + 1
            try:
                obj, end = decoder.raw_decode(cand, start)
            except (ValueError, RecursionError):  # not JSON; a huge number; too deep
                pass
            else:
                if isinstance(obj, dict) and _depth(obj, max_depth) <= max_depth:
                    return obj
                after = end  # too deep: its inner objects do not count either
            start = cand.find("{", after)
    return None

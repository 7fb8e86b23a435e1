"""Robust parsing of LLM output: answer tags, numbered lists, typed graph lines, JSON.

Models format loosely: numbering with ``1.`` or ``1)``, several items on one line, stray
markdown, tags with spaces or different case, JSON inside code fences. These parsers
accept all of that and return ``[]`` / ``None`` rather than raising, so the caller can
re-ask.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["parse_answer_tags", "parse_graph_lines", "parse_json_object", "parse_numbered"]

_NUMBER = re.compile(r"(?:^|\s)(\d{1,3})[.)]\s+")
_TAGGED = re.compile(r"(.*?)<\s*a\s*>(.*?)<\s*/\s*a\s*>", re.IGNORECASE | re.DOTALL)
_GRAPH = re.compile(
    r"<\s*([^<>;]+?)\s*;\s*([^<>;]+?)\s*>\s*<\s*([^<>]+?)\s*>\s*<\s*([^<>;]+?)\s*;\s*([^<>;]+?)\s*>"
)
_MARKDOWN = re.compile(r"[*_`#]+")  # emphasis, code and headings
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def _clean(s: str) -> str:
    s = _MARKDOWN.sub("", s)
    return " ".join(s.split()).strip()


def parse_numbered(text: str) -> list[str]:
    """Items of a numbered list (``1. ...  2. ...``), on separate lines or not.

    Text without numbering comes back as one item (if not empty).
    """
    marks = list(_NUMBER.finditer(text))
    if not marks:
        t = _clean(text)
        return [t] if t else []
    items = []
    for m, nxt in zip(marks, [*marks[1:], None]):
        chunk = text[m.end() : nxt.start() if nxt else len(text)]
        if chunk.strip():
            items.append(chunk.strip())
    return items


def parse_answer_tags(text: str) -> list[tuple[str, str]]:
    """``(question, answer)`` pairs from ``question<a>answer</a>`` output.

    The question is the text after the last list number before the tag (or, without
    numbers, the last line before it), so a chatty preamble is not part of it; markdown
    emphasis is removed and whitespace normalized.
    """
    out = []
    for m in _TAGGED.finditer(text):
        q = _MARKDOWN.sub("", m.group(1))
        marks = list(_NUMBER.finditer(q))
        if marks:  # the question follows its number ("Sure! ... 1. What is ...?")
            q = q[marks[-1].end() :]
        else:  # or stands on the last line before the tag
            lines = [ln for ln in q.splitlines() if ln.strip()]
            q = lines[-1] if lines else ""
        q = _clean(q)
        a = _clean(m.group(2))
        if q or a:
            out.append((q, a))
    return out


def parse_graph_lines(text: str) -> list[tuple[str, str, str, str, str]]:
    """``(head, head type, relation, tail, tail type)`` from ``<H; T><r><T; T>`` lines."""
    out = []
    for m in _GRAPH.finditer(text):
        h, ht, r, t, tt = (_clean(g) for g in m.groups())
        if h and r and t:
            out.append((h, ht, r, t, tt))
    return out


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (bare, or in a code fence), else ``None``."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for cand in candidates:
        s = cand.strip()
        start = s.find("{")
        while start >= 0:
            depth = 0
            for i in range(start, len(s)):
                if s[i] == "{":
                    depth += 1
                elif s[i] == "}":
                    depth -= 1
                    if depth == 0:
                        try:
                            obj = json.loads(s[start : i + 1])
                        except json.JSONDecodeError:
                            break
                        if isinstance(obj, dict):
                            return obj
                        break
            start = s.find("{", start + 1)
    return None

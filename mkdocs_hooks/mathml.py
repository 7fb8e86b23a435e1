"""MkDocs hook: render the docs' formulas to MathML at build time.

``pymdownx.arithmatex`` (generic mode) wraps every ``$...$`` and ``$$...$$`` in a
``<span class="arithmatex">`` or ``<div class="arithmatex">``; this hook replaces each
with the MathML that ``latex2mathml`` produces, so formulas render in any current browser
without JavaScript and without network (no MathJax from a CDN). A formula that
``latex2mathml`` cannot convert fails the build and names the page.
"""

from __future__ import annotations

import html
import re
from typing import Any

from latex2mathml.converter import convert

_SPAN = re.compile(r'<span class="arithmatex">\\\((.+?)\\\)</span>', re.S)
_DIV = re.compile(r'<div class="arithmatex">\\\[(.+?)\\\]</div>', re.S)


def _render(tex: str, *, display: str, page: str) -> str:
    source = html.unescape(tex).strip()
    try:
        mathml = convert(source, display=display)
    except Exception as exc:  # latex2mathml raises several exception types
        raise ValueError(f"{page}: cannot render formula {source!r}: {exc}") from exc
    if "<merror" in mathml:
        raise ValueError(f"{page}: formula {source!r} renders as an error")
    return mathml


def on_page_content(html_text: str, page: Any, **_: Any) -> str:
    """Replace arithmatex's wrapped TeX with MathML (mkdocs event hook)."""
    where = page.file.src_path
    html_text = _DIV.sub(
        lambda m: (
            '<div class="math">' + _render(m.group(1), display="block", page=where) + "</div>"
        ),
        html_text,
    )
    return _SPAN.sub(lambda m: _render(m.group(1), display="inline", page=where), html_text)

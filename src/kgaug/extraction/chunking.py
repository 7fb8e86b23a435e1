"""Long texts cut into overlapping chunks at sentence boundaries, with character offsets.

A model reads a bounded context and extracts worse from a long one, so
:func:`~kgaug.extraction.parse_graph` sends one request per chunk. :func:`chunk_text`
packs whole sentences into chunks of at most ``size`` units (tokens, characters or
sentences), repeats the last sentences of a chunk, up to ``overlap`` units, at the start
of the next (a fact stated across a boundary is still seen whole once), and cuts a
sentence longer than a chunk at word boundaries. Every chunk keeps its character span in
the text, so a fact's provenance points into the original.

Tokens are counted by ``tokenizer`` when given (any callable returning the token ids of
a string, e.g. ``tiktoken.get_encoding("o200k_base").encode``), otherwise estimated at
four characters per token, the estimate the LLM engine uses for its cost forecasts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from kgaug.verbalize.engine import estimate_tokens

__all__ = ["Chunk", "ChunkSpec", "chunk_text", "split_sentences"]


def _word_set(words: str) -> frozenset[str]:
    """The words of a string, as a set (for the tables below)."""
    return frozenset(words.split())


Unit = Literal["tokens", "chars", "sentences"]

# a sentence ends at . ! ? (and closing quotes or brackets) before whitespace, at 。！？,
# or at a blank line; after . ! ? the next sentence must not start in lower case
_END = re.compile(r"[.!?][\"'”’)\]]*\s+|[。！？][\"'”’)\]」』]*\s*|\n[ \t]*\n\s*")
_OPENING = "\"'“‘([「『"
#: In ``unit="sentences"``, a sentence longer than this many characters is cut at words.
MAX_SENTENCE_CHARS = 2000
_ABBREVIATIONS = _word_set(
    "mr mrs ms dr prof st jr sr mt ft gen col capt lt sgt rev hon sen rep gov pres no vol "
    "fig ed eds vs etc al approx dept est inc ltd co corp bros jan feb mar apr jun jul "
    "aug sep sept oct nov dec e.g i.e u.s u.k "
)
_WORD_BEFORE = re.compile(r"(\S+)$")
_WORDS = re.compile(r"\S+")


class Chunk(BaseModel):
    """A piece of a text, as sent to the model.

    Attributes
    ----------
    text_id : str
        The text it comes from.
    index : int
        Its place among the chunks of that text (0-based).
    start, end : int
        Character span in the text: ``text[start:end] == chunk.text``.
    text : str
        The chunk.
    """

    model_config = ConfigDict(frozen=True)

    text_id: str
    index: int
    start: int
    end: int
    text: str


class ChunkSpec(BaseModel):
    """How texts are cut (see :func:`chunk_text`).

    The defaults, 1,200 tokens with 100 of overlap, are GraphRAG's.

    Attributes
    ----------
    size : int
        Most units per chunk (>= 1).
    overlap : int
        Units of the previous chunk repeated at the start of the next (< ``size``;
        default 100, or ``size // 10`` when that is less).
    unit : {"tokens", "chars", "sentences"}
        What ``size`` and ``overlap`` count.
    tokenizer : callable, optional
        ``str -> sequence of token ids`` for ``unit="tokens"`` (default: 4 characters
        per token).
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    size: int = 1200
    overlap: int = 100
    unit: Unit = "tokens"
    tokenizer: Callable[[str], Sequence[int]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_overlap(cls, data: Any) -> Any:
        # an unspecified overlap is 100 units or a tenth of the size, whichever is less
        if isinstance(data, dict) and "overlap" not in data and isinstance(data.get("size"), int):
            return {**data, "overlap": min(100, max(0, data["size"]) // 10)}
        return data

    @field_validator("size")
    @classmethod
    def _size(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"chunk size must be >= 1, got {v}")
        return v

    @model_validator(mode="after")
    def _overlap(self) -> ChunkSpec:
        if not 0 <= self.overlap < self.size:
            raise ValueError(
                f"chunk overlap must be >= 0 and < size ({self.size}), got {self.overlap}"
            )
        return self

    def measure(self, text: str) -> int:
        """Size of ``text`` in this spec's unit."""
        if self.unit == "chars":
            return len(text)
        if self.unit == "sentences":
            return 1
        if self.tokenizer is not None:
            return len(self.tokenizer(text))
        return estimate_tokens(len(text))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (whitespace between them left out).

    A sentence ends at ``.``, ``!`` or ``?`` followed by space and a capital letter, a
    digit or an opening quote, unless the word before is a common abbreviation
    ("Dr.", "St.", "e.g.") or a single capital (an initial: "J. R. R. Tolkien"); a blank
    line ends one too.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        mark = text[m.start()]
        if mark in ".!?":
            nxt = text[m.end() : m.end() + 3].lstrip(_OPENING)[:1]
            if not nxt or nxt.islower():
                continue  # "e.g. for years", "3. the next item"
            w = _WORD_BEFORE.search(text, max(0, m.start() - 40), m.start() + 1)
            word = w.group(1).rstrip(".").lower().lstrip("(\"'“‘") if w else ""
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
            end = m.start() + len(m.group().rstrip())
        elif mark == "\n":
            end = m.start()
        else:
            end = m.start() + len(m.group().rstrip())
        _add_span(text, start, end, spans)
        start = m.end()
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    """Append ``text[start:end]`` stripped of whitespace, if anything is left."""
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece.rstrip())
    if trail > lead:
        spans.append((start + lead, start + trail))


def _pieces(text: str, spans: list[tuple[int, int]], spec: ChunkSpec) -> list[tuple[int, int]]:
    """Sentences, with those longer than a chunk cut at word boundaries.

    In ``unit="sentences"`` a sentence is cut when it is longer than
    :data:`MAX_SENTENCE_CHARS` (text the splitter could not split).
    """
    limit = ChunkSpec(size=MAX_SENTENCE_CHARS, overlap=0, unit="chars")
    piece = limit if spec.unit == "sentences" else spec
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if piece.measure(text[s:e]) <= piece.size:
            out.append((s, e))
            continue
        cur_start: int | None = None
        cur_end = s
        for w in _WORDS.finditer(text, s, e):
            if cur_start is None:
                cur_start = w.start()
            elif piece.measure(text[cur_start : w.end()]) > piece.size:
                out.append((cur_start, cur_end))
                cur_start = w.start()
            cur_end = w.end()
            # a single word longer than a chunk: cut it by characters
            while piece.measure(text[cur_start:cur_end]) > piece.size and cur_end - cur_start > 1:
                cut = _longest_prefix(text, cur_start, cur_end, piece)
                out.append((cur_start, cut))
                cur_start = cut
        if cur_start is not None:
            out.append((cur_start, cur_end))
    return out


def _longest_prefix(text: str, start: int, end: int, spec: ChunkSpec) -> int:
    """End of the longest ``text[start:x]`` within one chunk (at least one character)."""
    lo, hi = start + 1, end
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if spec.measure(text[start:mid]) <= spec.size:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _span_size(text: str, units: list[tuple[int, int]], i: int, j: int, spec: ChunkSpec) -> int:
    """Size of the pieces ``i..j`` (inclusive) together, the spaces between them included."""
    if spec.unit == "sentences":
        return j - i + 1
    return spec.measure(text[units[i][0] : units[j][1]])


def chunk_text(text: str, spec: ChunkSpec | None = None, *, text_id: str = "0") -> list[Chunk]:
    """Cut ``text`` into chunks of whole sentences (see the module docs).

    Parameters
    ----------
    text : str
        The text.
    spec : ChunkSpec, optional
        Size, overlap and unit (default :class:`ChunkSpec`).
    text_id : str
        Stored in every chunk.

    Returns
    -------
    list of Chunk
        In text order; empty for a text of only whitespace.

    Examples
    --------
    >>> from kgaug.extraction import ChunkSpec, chunk_text
    >>> text = "Avatar is a film. It was directed by James Cameron. Cameron was born in 1954."
    >>> [c.text for c in chunk_text(text, ChunkSpec(size=2, overlap=1, unit="sentences"))]
    ['Avatar is a film. It was directed by James Cameron.', \
'It was directed by James Cameron. Cameron was born in 1954.']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    spec = spec or ChunkSpec()
    units = _pieces(text, split_sentences(text), spec)
    sizes = [spec.measure(text[s:e]) for s, e in units]
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        # the span is measured, spaces between the pieces included
        j = i + 1
        while j < len(units) and _span_size(text, units, i, j, spec) <= spec.size:
            j += 1
        s, e = units[i][0], units[j - 1][1]
        chunks.append(Chunk(text_id=text_id, index=len(chunks), start=s, end=e, text=text[s:e]))
        if j == len(units):
            break
        # the next chunk repeats the last pieces of this one, up to `overlap` units
        k, back = j, 0
        while k - 1 > i and back + sizes[k - 1] <= spec.overlap:
            back += sizes[k - 1]
            k -= 1
        i = k
    return chunks

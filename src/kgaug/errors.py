"""Exceptions and warnings raised by kgaug.

Every error that comes from user input says *where* the problem is: the file and line of a
malformed record, the argument that is out of range, or the close matches of a misspelled
name.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from os import PathLike
from typing import Any

__all__ = [
    "AugmentationError",
    "BackendError",
    "BackendMemoryError",
    "FatalLLMError",
    "KGAugError",
    "KGFormatError",
    "LLMError",
    "MalformedReplyError",
    "OCRRiskWarning",
    "RiskTooLargeError",
    "SmallSplitWarning",
    "UnknownLabelError",
    "UnreachableBoundWarning",
    "close_matches",
]


class KGAugError(Exception):
    """The root of the errors kgaug defines (``except KGAugError`` catches them all)."""


class LLMError(KGAugError):
    """An error of the LLM layer (:mod:`kgaug.verbalize`): the server or its answers."""


class FatalLLMError(LLMError, RuntimeError):
    """The server cannot serve this run: a bad API key, a missing model, a wrong URL.

    Raised by a backend for answers that would be the same for every item (``401``,
    ``403``, ``404``, an unknown model, a server that cannot serve chat completions) and
    by the engine after several replies in a row that are not chat completions. The
    engine stops the run at once: nothing more is sent, the requests in flight are
    cancelled, what finished is in the resume file, and the error is raised with the
    run's counters. The message is free of the API key.

    Attributes
    ----------
    status : int or None
        The HTTP status of the answer (``None``: not an HTTP error).
    stats : RunStats or None
        The counters of the stopped run (set by the engine; ``last_run`` has them too).
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.stats: Any = None


class MalformedReplyError(LLMError, ValueError):
    """A reply that is not a chat completion (an HTML page, an event stream, no message).

    The item ends as an ``"error"`` (asked again on the next run); several in a row stop
    the run with :class:`FatalLLMError`.
    """


class BackendError(KGAugError, RuntimeError):
    """A counting backend (``compute_phi(..., backend=...)``) cannot run or failed.

    Raised when its runtime is missing (a Java runtime for Spark) or its engine reports
    an error that is not about the input file.
    """


class BackendMemoryError(BackendError, MemoryError):
    """A counting backend ran past its memory limit (DuckDB's ``memory_limit``).

    The message names the limit and what to change: a larger limit, a spill folder with
    room (``temp_directory``), fewer threads, or fewer hops.
    """


class KGFormatError(ValueError):
    """A knowledge-graph file or record is malformed.

    Attributes
    ----------
    path : str or None
        The file the record came from (``None`` for in-memory input).
    line : int or None
        1-based line number (or record index for in-memory input).
    reason : str
        What is wrong with the record.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | PathLike[str] | None = None,
        line: int | None = None,
        where: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.reason = reason
        if where is None:
            if self.path is not None and line is not None:
                where = f"{self.path}, line {line}"
            elif self.path is not None:
                where = self.path
            elif line is not None:
                where = f"record {line}"
        super().__init__(f"{where}: {reason}" if where else reason)


class AugmentationError(ValueError):
    """An augmentation target that no strategy can reach; the message says why and what would."""


class UnknownLabelError(KeyError):
    """An entity or relation label that the knowledge graph does not contain.

    The message lists the closest existing labels, so a typo is easy to spot.
    """

    def __init__(self, kind: str, label: object, candidates: Iterable[str]) -> None:
        self.kind = kind
        self.label = label
        self.suggestions = close_matches(str(label), candidates)
        msg = f"unknown {kind} {label!r}"
        if self.suggestions:
            msg += "; did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError.__str__ would repr() the message
        return str(self.args[0])


class UnreachableBoundWarning(UserWarning):
    """A bound cannot be met by any graph size (see :func:`kgaug.bounds.min_nodes`)."""


class OCRRiskWarning(UserWarning):
    """Augmentation created strong answer associations the original graph does not establish.

    "Establish" means strong on at least ``min_support`` shared observations: a strength
    of 1.0 resting on two subjects does not count as the original graph's association.

    A model fine-tuned on such a graph learns them as implications and extends them to
    other subjects (out-of-context reasoning, "Generalization or Hallucination?"); see
    :func:`kgaug.ocr.check_augmentation` for the full before/after table.

    The message fits a screen (the strongest pair and where to look); the rest is in the
    attributes.

    Attributes
    ----------
    details : str
        Every flagged pair with its strengths, support and an example, the templates
        that added the facts, and how to turn the check off.
    comparison : kgaug.ocr.RiskComparison or None
        The before/after comparison itself (``None`` when the graph was too large to
        check).
    """

    def __init__(self, message: str, *, details: str = "", comparison: Any = None) -> None:
        super().__init__(message)
        self.details = details or message
        self.comparison = comparison


class SmallSplitWarning(UserWarning):
    """A test split so small that its accuracy moves in coarse steps (see ``eval_sizes``)."""


class RiskTooLargeError(ValueError):
    """A graph too large for the OCR risk report (see :func:`kgaug.ocr.risk_report`).

    Raised when the subjects' answer combinations (``sum_s outdeg(s)^2``) exceed
    ``max_cells``; restrict the report to some relations (``relations=[...]``) or raise
    ``max_cells``.

    Attributes
    ----------
    cells : int
        The graph's answer combinations.
    max_cells : int
        The limit it exceeds.
    """

    def __init__(self, cells: int, max_cells: int) -> None:
        self.cells = cells
        self.max_cells = max_cells
        super().__init__(
            f"the graph's subjects have {cells} answer combinations (sum of squared "
            f"out-degrees), above max_cells={max_cells}; pass relations=[...] or raise "
            "max_cells"
        )


def close_matches(label: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` labels from ``candidates`` that look like ``label``."""
    pool = list(candidates)
    found = difflib.get_close_matches(label, pool, n=n, cutoff=0.6)
    if not found:
        low = label.casefold()
        found = [c for c in pool if c.casefold() == low or low in c.casefold()][:n]
    return found

"""Reading items to verbalize from files, and writing questions.

:func:`read_items` accepts what kgaug itself writes and the obvious hand-made forms, one
item per line:

- JSON lines with ``five_tuple`` or ``path`` (an alternating entity/relation list, as in
  the demo's ``questions.jsonl``), ``entities`` + ``relations`` (kgaug dataset records),
  ``head`` / ``relation`` / ``tail`` (a fact), the fields of a
  :class:`~kgaug.records.ComparisonFact`, or ``source`` holding any of these (a
  questions file written by :func:`write_questions`);
- tab-separated lines ``obj1 rel1 obj2 rel2 obj3`` (the output of ``kgaug sample``).

A malformed line raises :class:`~kgaug.errors.KGFormatError` naming the file and line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kgaug._fileio import atomic_write, open_binary
from kgaug.errors import KGFormatError
from kgaug.records import Chain, ComparisonFact, FiveTuple, Triple
from kgaug.verbalize.base import Question, VerbalizerItem

__all__ = [
    "item_from_path",
    "item_from_record",
    "partial_path",
    "read_items",
    "read_questions",
    "write_questions",
]


def item_from_path(parts: Sequence[str]) -> VerbalizerItem:
    """A fact, five-tuple or chain from ``[e0, r1, e1, r2, e2, ...]``.

    Raises
    ------
    ValueError
        When ``parts`` is not a list, its length is not odd and at least 3, or a part is
        empty or not a string or number.
    """
    if isinstance(parts, (str, bytes)) or not isinstance(parts, Sequence):
        raise ValueError(f"a path is a list of strings, got {type(parts).__name__}")
    raw: list[object] = list(parts)  # from JSON: anything
    bad = {
        type(p).__name__ for p in raw if isinstance(p, bool) or not isinstance(p, (str, int, float))
    }
    if bad:
        raise ValueError(f"a path holds strings (or numbers) only, got {', '.join(sorted(bad))}")
    parts = [str(p) for p in parts]
    if len(parts) < 3 or len(parts) % 2 == 0:
        raise ValueError(
            f"a path alternates entities and relations (3, 5, 7, ... parts), got {len(parts)}"
        )
    if any(not p.strip() for p in parts):
        raise ValueError("a path has an empty entity or relation")
    if len(parts) == 3:
        return Triple(head=parts[0], relation=parts[1], tail=parts[2])
    if len(parts) == 5:
        return FiveTuple(obj1=parts[0], rel1=parts[1], obj2=parts[2], rel2=parts[3], obj3=parts[4])
    return Chain(entities=tuple(parts[0::2]), relations=tuple(parts[1::2]))


def item_from_record(rec: dict[str, Any]) -> VerbalizerItem:
    """An item from one JSON record (see the module docstring for the accepted forms)."""
    if "source" in rec and isinstance(rec["source"], dict):
        return item_from_record(rec["source"])
    for key in ("five_tuple", "path"):
        if key in rec:
            return item_from_path(rec[key])
    if "entity1" in rec:
        return ComparisonFact.model_validate(rec)
    if rec.get("kind") == "comparison":
        raise ValueError(
            "a comparison record without its values; give entity1, entity2, attribute, "
            "value1, value2 and answer"
        )
    if "entities" in rec and "relations" in rec:
        if not isinstance(rec["entities"], list) or not isinstance(rec["relations"], list):
            raise ValueError("entities and relations must be lists of strings")
        ents, rels = list(rec["entities"]), list(rec["relations"])
        if len(ents) != len(rels) + 1:
            raise ValueError(f"{len(ents)} entities and {len(rels)} relations do not make a path")
        parts: list[str] = [ents[0]]
        for r, e in zip(rels, ents[1:]):
            parts += [r, e]
        return item_from_path(parts)
    if {"head", "relation", "tail"} <= rec.keys():
        return Triple(head=rec["head"], relation=rec["relation"], tail=rec["tail"])
    if {"obj1", "rel1", "obj2", "rel2", "obj3"} <= rec.keys():
        return FiveTuple.model_validate(rec)
    raise ValueError(
        "no item in this record: expected five_tuple, path, entities + relations, "
        f"head/relation/tail or comparison fields; got keys {sorted(rec)}"
    )


def read_items(path: str | os.PathLike[str]) -> list[VerbalizerItem]:
    """Items from a JSON-lines or tab-separated file (``.gz`` allowed).

    Raises
    ------
    KGFormatError
        A line that is not a valid item (the message names the file and line).
    FileNotFoundError
        The file does not exist.
    """
    out: list[VerbalizerItem] = []
    with open_binary(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as e:
                raise KGFormatError(f"not UTF-8 ({e.reason})", path=path, line=lineno) from None
            if not line.strip() or line.startswith("#"):
                continue
            try:
                if line.lstrip().startswith("{"):
                    out.append(item_from_record(json.loads(line)))
                else:
                    out.append(item_from_path(line.split("\t")))
            except json.JSONDecodeError as e:
                raise KGFormatError(f"invalid JSON ({e.msg})", path=path, line=lineno) from None
            except ValidationError as e:
                err = e.errors()[0]
                where = ".".join(str(x) for x in err["loc"])
                raise KGFormatError(
                    f"{where}: {err['msg']}" if where else err["msg"], path=path, line=lineno
                ) from None
            except (ValueError, TypeError) as e:
                raise KGFormatError(str(e), path=path, line=lineno) from None
    return out


def partial_path(out: str | os.PathLike[str]) -> Path:
    """The resume file of a run that writes ``out``: ``OUT.partial`` (CLI and Python alike)."""
    return Path(os.fspath(out) + ".partial")


def write_questions(questions: Iterable[Question], path: str | os.PathLike[str]) -> int:
    """Write questions as JSON lines atomically; returns the number written.

    Each line holds ``question``, ``answer``, ``status``, ``reason``, the item ``kind``
    and the ``source`` item's fields, so :func:`read_questions` reads the questions back
    and :func:`read_items` their sources. ``kgaug verbalize --out`` and
    ``verbalize(items, out=...)`` of the LLM verbalizers write this format.
    """
    n = 0
    with atomic_write(path) as fh:
        for q in questions:
            rec = {
                "question": q.question,
                "answer": q.answer,
                "status": q.status,
                "reason": q.reason,
                "kind": type(q.source).__name__,
                "source": q.source.model_dump(mode="json"),
            }
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n


def read_questions(path: str | os.PathLike[str]) -> list[Question]:
    """Questions from a file written by :func:`write_questions` (or ``kgaug verbalize --out``).

    Raises
    ------
    KGFormatError
        A line without ``question``/``answer``/``source`` or with an invalid source (the
        message names the file and line).
    """
    out: list[Question] = []
    with open_binary(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict) or not {"question", "answer", "source"} <= rec.keys():
                    raise ValueError("not a question record (needs question, answer, source)")
                out.append(
                    Question(
                        question=rec["question"],
                        answer=rec["answer"],
                        source=item_from_record(rec["source"]),
                        status=rec.get("status", "ok"),
                        reason=rec.get("reason"),
                    )
                )
            except json.JSONDecodeError as e:
                raise KGFormatError(f"invalid JSON ({e.msg})", path=path, line=lineno) from None
            except ValidationError as e:
                err = e.errors()[0]
                where = ".".join(str(x) for x in err["loc"])
                raise KGFormatError(f"{where}: {err['msg']}", path=path, line=lineno) from None
            except (ValueError, TypeError) as e:
                raise KGFormatError(str(e), path=path, line=lineno) from None
    return out

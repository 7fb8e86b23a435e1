"""Verbalizer, graph parser, paraphraser and fact generator on any LLM backend.

:class:`LLMVerbalizer` implements every step of the paper's augmentation that uses an LLM
(App. A.5) on top of an :class:`~kgaug.verbalize.engine.Engine`:

- :meth:`~LLMVerbalizer.verbalize` — facts, five-tuples, chains and comparisons to
  questions whose answer is the gold answer, unchanged (checked; re-asked a bounded
  number of times; then ``status="failed"``, never dropped);
- :meth:`~LLMVerbalizer.paraphrase` — more phrasings with the same answer (``diversify``);
- :meth:`~LLMVerbalizer.parse` — text to a typed :class:`~kgaug.KnowledgeGraph` from
  ``<Name; Type><relation><Name; Type>`` lines;
- :meth:`~LLMVerbalizer.propose` — new facts of a relation, the ``proposer`` of
  ``kgaug.augment(..., strategy="llm")``;
- :meth:`~LLMVerbalizer.describe` — a Wikipedia-like paragraph, the ``paragraph_hook`` of
  ``kgaug.augment_comparison``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kgaug.kg import KnowledgeGraph
from kgaug.records import ComparisonFact, Triple
from kgaug.verbalize.base import Question, VerbalizerItem
from kgaug.verbalize.engine import (
    Backend,
    Completion,
    Engine,
    RunStats,
    Task,
    TaskResult,
    item_key,
)
from kgaug.verbalize.parsing import (
    parse_answer_tags,
    parse_graph_lines,
    parse_json_object,
    parse_numbered,
)
from kgaug.verbalize.prompts import (
    graph_messages,
    paragraph_messages,
    paraphrase_messages,
    question_messages,
)
from kgaug.verbalize.template import _leaks

__all__ = ["DEFAULT_EXAMPLES", "LLMVerbalizer"]

#: Style examples (2WikiMultiHopQA-like) shown with every question request.
DEFAULT_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Where was the director of film Roma born?", "Mexico City"),
    ("When was the spouse of Barack Obama born?", "1964"),
    ("Are Jaws and Jurassic Park directed by the same person?", "yes"),
)

_QUESTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
    "required": ["question", "answer"],
    "additionalProperties": False,
}
_REFUSAL = re.compile(
    r"\b(I can(?:'|no)t|I cannot|I'm sorry|I am sorry|as an AI|I won't|I am unable)\b",
    re.IGNORECASE,
)


def _norm(s: str) -> str:
    return " ".join(s.split()).strip().rstrip(".")


def _gold(item: VerbalizerItem) -> str:
    if isinstance(item, Triple):
        return item.tail
    if isinstance(item, ComparisonFact):
        return item.answer
    return item.entities[-1]


def _pairs(c: Completion) -> list[tuple[str, str]]:
    """Candidate ``(question, answer)`` pairs: JSON first, then ``<a>`` tags."""
    out: list[tuple[str, str]] = []
    obj = parse_json_object(c.text)
    if obj is not None and isinstance(obj.get("question"), str):
        out.append((_norm(obj["question"]), _norm(str(obj.get("answer", "")))))
    out += [(q, a) for q, a in parse_answer_tags(c.text)]
    return out


class LLMVerbalizer:
    """All LLM-backed steps on one backend.

    Parameters
    ----------
    backend : Backend
        E.g. :class:`~kgaug.verbalize.openai_backend.OpenAIBackend`.
    concurrency : int
        Requests in flight at once.
    cache_dir : path, optional
        Response cache folder; a rerun with the same inputs makes no requests.
    max_attempts : int
        Attempts per item before it is recorded as failed.
    examples : sequence of (question, answer)
        Style examples for questions.
    prompts : mapping, optional
        Overrides of :data:`kgaug.verbalize.prompts.DEFAULT_PROMPTS` by step.
    progress : bool, optional
        Progress bars.

    Attributes
    ----------
    last_run : RunStats or None
        Requests, cache hits, re-asks, tokens and failures of the last call.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        concurrency: int = 8,
        cache_dir: str | os.PathLike[str] | None = None,
        max_attempts: int = 3,
        examples: Sequence[tuple[str, str]] = DEFAULT_EXAMPLES,
        prompts: Mapping[str, str] | None = None,
        progress: bool | None = None,
    ) -> None:
        self.backend = backend
        self.engine = Engine(
            backend,
            concurrency=concurrency,
            cache_dir=cache_dir,
            max_attempts=max_attempts,
            progress=progress,
        )
        self.examples = tuple(examples)
        self.prompts = dict(prompts or {})
        self.last_run: RunStats | None = None

    def __repr__(self) -> str:
        return f"LLMVerbalizer({self.backend!r}, concurrency={self.engine.concurrency})"

    def _run(
        self, tasks: Sequence[Task], out: str | os.PathLike[str] | None, desc: str
    ) -> list[TaskResult]:
        results, stats = self.engine.run(tasks, out, desc)
        self.last_run = stats
        return results

    # ------------------------------------------------------------------ questions
    def _question_task(self, item: VerbalizerItem) -> Task:
        gold = _gold(item)

        def check(c: Completion) -> tuple[Any, str | None]:
            if c.refusal:
                return None, f"refused ({c.refusal})"
            pairs = _pairs(c)
            if not pairs:
                if _REFUSAL.search(c.text):
                    return None, "refused"
                return None, "no question with the answer in <a></a> tags was found"
            q, a = pairs[0]
            if a != _norm(gold):
                return None, f"the answer must stay exactly '{gold}', not '{a}'"
            if not q:
                return None, "the question is empty"
            if not isinstance(item, ComparisonFact) and _leaks(gold, q):
                return None, "the question must not contain its answer"
            return {"question": q, "answer": gold}, None

        return Task(
            key=item_key("question", item.model_dump(mode="json")),
            messages=question_messages(item, examples=self.examples, prompts=self.prompts),
            check=check,
            schema=_QUESTION_SCHEMA,
            retry=lambda reason: (
                f"{reason}. Write the question again and put exactly '{gold}' in <a></a> tags."
            ),
        )

    def verbalize(
        self, items: Iterable[VerbalizerItem], *, out: str | os.PathLike[str] | None = None
    ) -> list[Question]:
        """One question per item, in order (``status="failed"`` where the model failed).

        Parameters
        ----------
        items : iterable
            Triples, five-tuples, chains or comparison facts (a ``PathSample`` works).
        out : path, optional
            JSON-lines file to append finished items to as they arrive; a rerun with the
            same file skips them (resume after a crash).
        """
        items = list(items)
        results = self._run([self._question_task(it) for it in items], out, "verbalize")
        questions = []
        for it, res in zip(items, results):
            if res.status == "ok":
                questions.append(
                    Question(question=res.value["question"], answer=_gold(it), source=it)
                )
            else:
                questions.append(
                    Question(
                        question="",
                        answer=_gold(it),
                        source=it,
                        status="failed",
                        reason=res.reason,
                    )
                )
        return questions

    # ------------------------------------------------------------------ paraphrases
    def _paraphrase_task(self, question: Question, k: int) -> Task:
        gold = question.answer

        def check(c: Completion) -> tuple[Any, str | None]:
            good = [
                q
                for q, a in parse_answer_tags(c.text)
                if a == _norm(gold) and q and q != question.question and not _leaks(gold, q)
            ]
            if not good:
                return None, f"no rephrasing kept the answer '{gold}' in <a></a> tags"
            return list(dict.fromkeys(good))[:k], None

        return Task(
            key=item_key("paraphrase", [question.question, gold, k]),
            messages=paraphrase_messages(question.question, gold, k, prompts=self.prompts),
            check=check,
        )

    def paraphrase_all(
        self,
        questions: Sequence[Question],
        k: int,
        *,
        out: str | os.PathLike[str] | None = None,
    ) -> list[list[Question]]:
        """Up to ``k`` rephrasings of every question, asked concurrently.

        Rephrasings that change the answer, repeat the question or contain the answer are
        dropped; a question whose rephrasings all fail gets ``[]``. ``out`` makes the run
        resumable as in :meth:`verbalize`.
        """
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        results = self._run([self._paraphrase_task(q, k) for q in questions], out, "paraphrase")
        return [
            [Question(question=t, answer=q.answer, source=q.source) for t in res.value]
            if res.status == "ok"
            else []
            for q, res in zip(questions, results)
        ]

    def paraphrase(self, question: Question, k: int) -> list[Question]:
        """Up to ``k`` other phrasings with the same answer (see :meth:`paraphrase_all`)."""
        return self.paraphrase_all([question], k)[0]

    # ------------------------------------------------------------------ graph parsing
    def parse(self, text: str | Sequence[str], *, source: str = "<llm>") -> KnowledgeGraph:
        """A typed graph from text (one request per text; a list is parsed in parallel).

        Texts for which the model returns no ``<Name; Type><relation><Name; Type>`` line
        after the re-asks contribute nothing; :attr:`last_run` counts them as failed.
        """
        texts = [text] if isinstance(text, str) else list(text)

        def check(c: Completion) -> tuple[Any, str | None]:
            rows = parse_graph_lines(c.text)
            if not rows:
                return None, "no line of the form <Name; Type><relation><Name; Type>"
            return [list(r) for r in rows], None

        tasks = [
            Task(
                key=item_key("graph", t),
                messages=graph_messages(t, prompts=self.prompts),
                check=check,
            )
            for t in texts
        ]
        triples: list[tuple[str, str, str]] = []
        types: dict[str, str] = {}
        for res in self._run(tasks, None, "parse"):
            for h, ht, r, t, tt in res.value or []:
                triples.append((h, r, t))
                types.setdefault(h, ht)
                types.setdefault(t, tt)
        return KnowledgeGraph.from_triples(triples, entity_types=types)

    # ------------------------------------------------------------------ new facts
    def propose(self, kg: KnowledgeGraph, relation: str, n: int) -> list[Triple]:
        """Up to ``n`` new facts of ``relation`` (the augmentation ``proposer`` hook).

        The model sees some existing facts of the relation as examples and answers in the
        graph format; lines of other relations are ignored. Filtering (types, functional
        values, cycles, chains) is the augmentation's job.
        """
        from kgaug.schema import learn_schema

        s = learn_schema(kg)[relation]
        examples = [t for t in kg.triples() if t[1] == relation][:8]

        def typed(name: str) -> str:
            return f"<{name}; {kg.entity_type(name) or 'Object'}>"

        ex = "\n".join(f"{i}. {typed(h)}<{r}>{typed(t)}" for i, (h, r, t) in enumerate(examples, 1))
        prompt = (
            f"Here are facts of the relation '{relation}':\n{ex}\n\nGenerate {n} NEW facts of "
            f"the relation '{relation}' (head type {s.head_type}, tail type {s.tail_type}) in "
            "the same numbered format. Prefer facts about entities that already have many "
            "facts. Do not repeat the examples."
        )

        def check(c: Completion) -> tuple[Any, str | None]:
            rows = [r for r in parse_graph_lines(c.text) if r[2] == relation]
            if not rows:
                return None, f"no line of the form <Name; Type><{relation}><Name; Type>"
            return [[h, t] for h, _, _, t, _ in rows], None

        task = Task(
            key=item_key("propose", [relation, n, ex]),
            messages=[
                {
                    "role": "system",
                    "content": self.prompts.get("graph", graph_messages("")[0]["content"]),
                },
                {"role": "user", "content": prompt},
            ],
            check=check,
        )
        (res,) = self._run([task], None, "propose")
        return [
            Triple(head=h, relation=relation, tail=t, provenance="synthetic")
            for h, t in (res.value or [])
        ]

    def __call__(self, kg: KnowledgeGraph, relation: str, n: int) -> list[Triple]:
        """The ``proposer`` signature of ``kgaug.augment(..., strategy="llm")``."""
        return self.propose(kg, relation, n)

    # ------------------------------------------------------------------ paragraphs
    def describe(self, entity: str, attribute: str, value: str) -> str:
        """A short Wikipedia-like paragraph (the comparison ``paragraph_hook``)."""

        def check(c: Completion) -> tuple[Any, str | None]:
            parts = parse_numbered(c.text)
            text = parts[0] if parts else ""
            if len(text.split()) < 5:
                return None, "the paragraph is missing or too short"
            return text, None

        examples = ["1. Paris Louvre Museum: The Louvre Museum is a world-famous art museum..."]
        task = Task(
            key=item_key("paragraph", [entity, attribute, value]),
            messages=paragraph_messages([(entity, value)], examples, prompts=self.prompts),
            check=check,
        )
        (res,) = self._run([task], None, "describe")
        return str(res.value) if res.status == "ok" else ""

    def paragraph_hook(self, entity: str, attribute: str, value: str) -> str:
        """Alias of :meth:`describe` with the ``paragraph_hook`` signature."""
        return self.describe(entity, attribute, value)

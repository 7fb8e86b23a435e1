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
- :meth:`~LLMVerbalizer.locations` — new ``(location, country)`` pairs, the paper's
  ``generate_locations`` step of the comparison augmentation;
- :meth:`~LLMVerbalizer.describe` — a Wikipedia-like paragraph, the ``paragraph_hook`` of
  ``kgaug.augment_comparison``.

A verbalizer holds the engine's response cache (an open SQLite file) and the backend:
use it as a context manager or call :meth:`~LLMVerbalizer.close` when done.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kgaug.errors import FatalLLMError, close_matches
from kgaug.kg import KnowledgeGraph
from kgaug.records import ComparisonFact, Triple
from kgaug.verbalize.base import Question, VerbalizerItem
from kgaug.verbalize.engine import (
    Backend,
    Completion,
    Engine,
    RunEstimate,
    RunStats,
    Task,
    TaskResult,
    item_key,
)
from kgaug.verbalize.items import partial_path, write_questions
from kgaug.verbalize.parsing import (
    parse_answer_tags,
    parse_graph_lines,
    parse_json_object,
    parse_location_lines,
    parse_numbered,
    strip_reasoning,
)
from kgaug.verbalize.prompts import (
    DEFAULT_PROMPTS,
    graph_messages,
    locations_messages,
    paragraph_messages,
    paraphrase_messages,
    question_messages,
    same_entity_messages,
)
from kgaug.verbalize.template import _leaks

if TYPE_CHECKING:
    from typing import Literal

    from kgaug.extraction import ChunkSpec, ExtractionSchema, ParseResult, Resolver

__all__ = ["DEFAULT_EXAMPLES", "DEFAULT_LOCATION_EXAMPLES", "LLMVerbalizer"]

#: Style examples (2WikiMultiHopQA-like) shown with every question request.
DEFAULT_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Where was the director of film Roma born?", "Mexico City"),
    ("When was the spouse of Barack Obama born?", "1964"),
    ("Are Jaws and Jurassic Park directed by the same person?", "yes"),
)

#: ``(location, country)`` style examples for :meth:`LLMVerbalizer.locations` (the paper's
#: countries: India, France, the United States, Canada, Russia).
DEFAULT_LOCATION_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Taj Mahal", "India"),
    ("Louvre Museum", "France"),
    ("Golden Gate Bridge", "United States"),
    ("Banff National Park", "Canada"),
    ("Lake Baikal", "Russia"),
)

_QUESTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
    "required": ["question", "answer"],
    "additionalProperties": False,
}
_YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)
_REFUSAL = re.compile(
    r"\b(I can(?:['’]|no)t|I['’]m sorry|I am sorry|as an AI|I won['’]t|I am unable)\b",
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


def _key(s: str) -> str:
    """Comparison form of a name: case and spacing ignored, a final period dropped."""
    return _norm(s).casefold()


def _plausible_location(name: str) -> bool:
    """A name, not a sentence, a heading or markup."""
    return (
        0 < len(name) <= 80
        and len(name.split()) <= 8
        and any(ch.isalpha() for ch in name)
        and not name.endswith((":", "?", "!"))
        and not any(ch in name for ch in "<>{}[]=")
    )


def _pairs(c: Completion) -> list[tuple[str, str]]:
    """Candidate ``(question, answer)`` pairs: JSON first, then ``<a>`` tags."""
    out: list[tuple[str, str]] = []
    obj = parse_json_object(c.text)
    if obj is not None and isinstance(obj.get("question"), str):
        out.append((_norm(obj["question"]), _norm(str(obj.get("answer", "")))))
    out += [(_norm(q), _norm(a)) for q, a in parse_answer_tags(c.text)]
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
    max_reply_chars : int, optional
        Replies longer than this are cut (and counted in ``last_run.truncated``);
        default 32,768 characters (``None``: no cap).
    reask_reply_chars : int
        A re-ask sends the rejected reply cut to this many characters.
    requests_per_minute, tokens_per_minute : float, optional
        Client-side rate limits, applied to every HTTP request (retries included).
    retry_failed : bool
        Ask items that are ``"failed"`` in the resume file (``out=``) again; each method
        with ``out=`` also takes ``retry_failed=`` for one call.

    Attributes
    ----------
    last_run : RunStats or None
        HTTP requests, cache hits, re-asks, tokens and failures of the last call (also
        of a call that a :class:`~kgaug.errors.FatalLLMError` stopped: ``fatal`` says why).
    last_parse : ParseResult or None
        The whole result of the last :meth:`parse` (provenance, merges, dropped facts).

    Raises
    ------
    ValueError
        An unknown step in ``prompts``, ``concurrency`` or ``max_attempts`` below 1, a
        rate limit that is not a positive number.

    Examples
    --------
    >>> from kgaug.verbalize.fake_server import FakeChatServer
    >>> from kgaug.verbalize import get_verbalizer
    >>> with FakeChatServer() as server, get_verbalizer(
    ...     "openai", base_url=server.base_url, model="fake", progress=False
    ... ) as llm:
    ...     llm.locations(["France"], 2)
    [('France Town 1', 'France'), ('France Town 2', 'France')]
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
        max_reply_chars: int | None = 32_768,
        reask_reply_chars: int = 1_000,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        retry_failed: bool = False,
    ) -> None:
        unknown = sorted(set(prompts or {}) - set(DEFAULT_PROMPTS))
        if unknown:
            hint = close_matches(unknown[0], DEFAULT_PROMPTS)
            raise ValueError(
                f"prompts: unknown step {unknown[0]!r}; steps are "
                f"{', '.join(sorted(DEFAULT_PROMPTS))}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
            )
        self.backend = backend
        self.engine = Engine(
            backend,
            concurrency=concurrency,
            cache_dir=cache_dir,
            max_attempts=max_attempts,
            progress=progress,
            max_reply_chars=max_reply_chars,
            reask_reply_chars=reask_reply_chars,
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
            retry_failed=retry_failed,
        )
        self.examples = tuple(examples)
        self.prompts = dict(prompts or {})
        self.last_run: RunStats | None = None
        self.last_parse: ParseResult | None = None

    def __repr__(self) -> str:
        state = ", closed" if self.engine.closed else ""
        return f"LLMVerbalizer({self.backend!r}, concurrency={self.engine.concurrency}{state})"

    # ------------------------------------------------------------------ lifetime
    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self.engine.closed

    def close(self) -> None:
        """Close the response cache and the backend (idempotent).

        Afterwards every method that asks the model raises ``RuntimeError``.
        """
        self.engine.close()

    async def aclose(self) -> None:
        """:meth:`close` from inside an event loop (also closes the loop's connections)."""
        await self.engine.aclose()

    def __enter__(self) -> LLMVerbalizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(
        self,
        tasks: Sequence[Task],
        out: str | os.PathLike[str] | None,
        desc: str,
        retry_failed: bool | None = None,
    ) -> list[TaskResult]:
        try:
            results, stats = self.engine.run(tasks, out, desc, retry_failed=retry_failed)
        except FatalLLMError as e:
            self.last_run = e.stats
            raise
        self.last_run = stats
        return results

    # ------------------------------------------------------------------ estimates
    def estimate(
        self,
        items: Iterable[VerbalizerItem],
        *,
        out: str | os.PathLike[str] | None = None,
        retry_failed: bool | None = None,
    ) -> RunEstimate:
        """What :meth:`verbalize` with these arguments would cost; sends nothing.

        ``out`` is the questions file as in :meth:`verbalize`: items already in its
        ``OUT.partial`` resume file or with an accepted answer in the cache cost nothing;
        the others one request each (``max_attempts`` at most); tokens are estimated at
        about 4 characters each; ``minutes`` is the least time under the rate limits.

        Examples
        --------
        >>> from kgaug.verbalize.fake_server import FakeChatServer
        >>> from kgaug.verbalize import get_verbalizer
        >>> from kgaug.records import Triple
        >>> with FakeChatServer() as server, get_verbalizer(
        ...     "openai", base_url=server.base_url, model="fake", progress=False
        ... ) as llm:
        ...     est = llm.estimate([Triple(head="Roma", relation="director", tail="Cuaron")])
        ...     (est.requests, est.max_requests, len(server.requests))
        (1, 3, 0)
        """
        tasks = [self._question_task(it) for it in items]
        journal = None if out is None else partial_path(out)
        return self.engine.estimate(tasks, journal, retry_failed=retry_failed)

    def estimate_parse(
        self,
        text: str | Sequence[str] | Mapping[str, str],
        *,
        out: str | os.PathLike[str] | None = None,
        retry_failed: bool | None = None,
        **options: Any,
    ) -> RunEstimate:
        """What :meth:`parse` with these arguments would cost; sends nothing.

        ``options`` are :meth:`parse`'s ``chunk``, ``schema``, ``into`` and ``quotes``.
        """
        tasks = self._graph_tasks(text, **options)
        return self.engine.estimate(tasks, out, retry_failed=retry_failed)

    # ------------------------------------------------------------------ questions
    def _question_task(self, item: VerbalizerItem) -> Task:
        gold = _gold(item)

        def problem(q: str, a: str) -> str | None:
            if a != _norm(gold):
                return f"the answer must stay exactly '{gold}', not '{a}'"
            if not q:
                return "the question is empty"
            if not isinstance(item, ComparisonFact) and _leaks(gold, q):
                return "the question must not contain its answer"
            return None

        def check(c: Completion) -> tuple[Any, str | None]:
            if c.refusal:
                return None, f"refused ({c.refusal})"
            pairs = _pairs(c)
            if not pairs:
                if _REFUSAL.search(c.text):
                    return None, "refused"
                return None, "no question with the answer in <a></a> tags was found"
            reasons = [problem(q, a) for q, a in pairs]
            for (q, _), reason in zip(pairs, reasons):
                if reason is None:  # the first acceptable one of several
                    return {"question": q, "answer": gold}, None
            return None, reasons[0]

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
        self,
        items: Iterable[VerbalizerItem],
        *,
        out: str | os.PathLike[str] | None = None,
        retry_failed: bool | None = None,
    ) -> list[Question]:
        """One question per item, in order (``status="failed"`` where the model failed).

        Parameters
        ----------
        items : iterable
            Triples, five-tuples, chains or comparison facts (a ``PathSample`` works).
        out : path, optional
            The questions file, the same JSON lines ``kgaug verbalize --out`` writes
            (``question``, ``answer``, ``status``, ``reason``, ``kind``, ``source``;
            :func:`kgaug.verbalize.items.read_questions` reads it back), written atomically
            when the run ends. While it runs, finished items go to ``OUT.partial`` as they
            arrive; a rerun with the same ``out`` skips them (resume after a crash), and
            the ``.partial`` file is removed once every item is ``ok``.
        retry_failed : bool, optional
            Ask the items that are ``"failed"`` in ``OUT.partial`` again (default: the
            verbalizer's ``retry_failed``, off: they are kept as they are).

        Raises
        ------
        FatalLLMError
            The server cannot serve the run (bad key, unknown model, wrong URL, replies
            that are not chat completions): it stopped within a few requests; what
            finished is in ``OUT.partial`` (``out`` itself is not written);
            :attr:`last_run` has the counters and the message.
        """
        items = list(items)
        journal = None if out is None else partial_path(out)
        results = self._run(
            [self._question_task(it) for it in items], journal, "verbalize", retry_failed
        )
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
        if out is not None and journal is not None:
            write_questions(questions, out)
            if all(q.status == "ok" for q in questions):
                journal.unlink(missing_ok=True)  # complete: nothing left to resume
        return questions

    # ------------------------------------------------------------------ paraphrases
    def _paraphrase_task(self, question: Question, k: int) -> Task:
        gold = question.answer

        def check(c: Completion) -> tuple[Any, str | None]:
            good = [
                q
                for q, a in parse_answer_tags(c.text)
                if _norm(a) == _norm(gold) and q and q != question.question and not _leaks(gold, q)
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
        retry_failed: bool | None = None,
    ) -> list[list[Question]]:
        """Up to ``k`` rephrasings of every question, asked concurrently.

        Rephrasings that change the answer, repeat the question or contain the answer are
        dropped; a question whose rephrasings all fail gets ``[]``, and so does a failed
        question (``status="failed"``: there is nothing to rephrase; it is not sent).
        ``out`` (the resume file itself) and ``retry_failed`` work as in :meth:`verbalize`.
        """
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        asked = [
            i for i, q in enumerate(questions) if q.status != "failed" and q.question.strip()
        ]  # a "review" question is worth rephrasing most
        tasks = [self._paraphrase_task(questions[i], k) for i in asked]
        results = dict(zip(asked, self._run(tasks, out, "paraphrase", retry_failed)))
        out_lists: list[list[Question]] = [[] for _ in questions]
        for i, res in results.items():
            if res.status == "ok":
                q = questions[i]
                out_lists[i] = [
                    Question(question=t, answer=q.answer, source=q.source) for t in res.value
                ]
        return out_lists

    def paraphrase(self, question: Question, k: int) -> list[Question]:
        """Up to ``k`` other phrasings with the same answer (see :meth:`paraphrase_all`)."""
        return self.paraphrase_all([question], k)[0]

    # ------------------------------------------------------------------ graph parsing
    def _graph_tasks(
        self, text: str | Sequence[str] | Mapping[str, str], **options: Any
    ) -> list[Task]:
        from kgaug.extraction.parse import plan_tasks

        return plan_tasks(text, self, **options)[1]

    def parse(
        self,
        text: str | Sequence[str] | Mapping[str, str],
        *,
        chunk: ChunkSpec | int | Literal[False] | None = None,
        schema: ExtractionSchema | str | os.PathLike[str] | Sequence[str] | None = None,
        resolve: bool | Resolver = True,
        into: KnowledgeGraph | None = None,
        out_of_schema: Literal["drop", "keep"] = "drop",
        quotes: bool = True,
        out: str | os.PathLike[str] | None = None,
        retry_failed: bool | None = None,
    ) -> KnowledgeGraph:
        """A typed graph from text: :func:`kgaug.extraction.parse_graph` on this model.

        Texts are cut into chunks (one request each, in parallel), the facts mapped onto
        ``schema`` (and ``into``'s relations) and the entities resolved; see
        :func:`~kgaug.extraction.parse_graph` for the parameters. Returns the graph;
        :attr:`last_parse` holds the whole :class:`~kgaug.extraction.ParseResult`
        (provenance, merges, dropped facts, failed chunks). Chunks for which the model
        returns no ``<Name; Type><relation><Name; Type>`` line (nor ``NONE``) after the
        re-asks contribute nothing; :attr:`last_run` counts them as failed (with the
        reasons in ``last_run.reasons``). ``out`` and ``retry_failed`` work as in
        :meth:`verbalize`, and so does the :class:`~kgaug.errors.FatalLLMError` that stops
        a run the server cannot serve.
        """
        from kgaug.extraction.parse import parse_graph

        result = parse_graph(
            text,
            self,
            chunk=chunk,
            schema=schema,
            resolve=resolve,
            into=into,
            out_of_schema=out_of_schema,
            quotes=quotes,
            out=out,
            retry_failed=retry_failed,
        )
        self.last_parse = result
        self.last_run = result.stats  # the extraction's, not that of a confirm= step
        return result.graph

    def same_entity(
        self,
        pairs: Sequence[
            tuple[tuple[str, str | None, Sequence[str]], tuple[str, str | None, Sequence[str]]]
        ],
        *,
        batch: int = 20,
    ) -> list[bool]:
        """Whether each pair of ``(name, type, known facts)`` names one entity.

        Asked ``batch`` pairs per request (cached like every request); a pair the model
        gives no clear ``yes``/``no`` for counts as ``no`` (names stay apart).
        """
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        groups = [list(pairs[i : i + batch]) for i in range(0, len(pairs), batch)]

        def task(group: list[Any]) -> Task:
            def check(c: Completion) -> tuple[Any, str | None]:
                items = parse_numbered(strip_reasoning(c.text))
                answers = [_YES_NO.match(x) for x in items]
                if len(items) != len(group) or not all(answers):
                    return None, f"expected {len(group)} numbered lines, each 'yes' or 'no'"
                return [m.group(1).lower() == "yes" for m in answers if m], None

            messages = same_entity_messages(group, prompts=self.prompts)
            return Task(key=item_key("same_entity", messages), messages=messages, check=check)

        results = self._run([task(g) for g in groups], None, "same entity") if groups else []
        out: list[bool] = []
        for g, res in zip(groups, results):
            out += list(res.value) if res.status == "ok" else [False] * len(g)
        return out

    # ------------------------------------------------------------------ new facts
    def propose(self, kg: KnowledgeGraph, relation: str, n: int) -> list[Triple]:
        """Up to ``n`` new facts of ``relation`` (the augmentation ``proposer`` hook).

        The model sees some existing facts of the relation as examples and answers in the
        graph format; lines of other relations, facts already in ``kg`` and repeats are
        dropped, and at most ``n`` are returned. Filtering (types, functional values,
        cycles, chains) is the augmentation's job.

        Raises
        ------
        ValueError
            ``relation`` is not in ``kg`` (with close matches) or ``n`` < 1.
        """
        from kgaug.schema import learn_schema

        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        schema = learn_schema(kg)
        if relation not in kg.relations:
            hint = close_matches(relation, kg.relations)
            raise ValueError(
                f"relation {relation!r} is not in the graph"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
            )
        s = schema[relation]
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
                graph_messages("", prompts=self.prompts)[0],
                {"role": "user", "content": prompt},
            ],
            check=check,
        )
        (res,) = self._run([task], None, "propose")
        facts: list[Triple] = []
        seen: set[tuple[str, str]] = set()
        for h, t in res.value or []:
            if (h, t) in seen or (h, relation, t) in kg or h == t:
                continue
            seen.add((h, t))
            facts.append(Triple(head=h, relation=relation, tail=t, provenance="synthetic"))
        return facts[:n]

    def __call__(self, kg: KnowledgeGraph, relation: str, n: int) -> list[Triple]:
        """The ``proposer`` signature of ``kgaug.augment(..., strategy="llm")``."""
        return self.propose(kg, relation, n)

    # ------------------------------------------------------------------ new locations
    def _locations_task(
        self,
        country: str,
        per_country: int,
        examples: Sequence[tuple[str, str]],
        taken: frozenset[str],
    ) -> Task:
        def check(c: Completion) -> tuple[Any, str | None]:
            if c.refusal:
                return None, f"refused ({c.refusal})"
            good: list[list[str]] = []
            seen: set[str] = set()
            other = reused = 0
            for loc, where in parse_location_lines(c.text):
                if where is not None and _key(where) != _key(country):
                    other += 1
                elif not _plausible_location(loc):
                    continue
                elif _key(loc) in taken:
                    reused += 1
                elif _key(loc) not in seen:
                    seen.add(_key(loc))
                    good.append([loc, country])
            if good:
                return good[:per_country], None
            if _REFUSAL.search(c.text):
                return None, "refused"
            why = [f"no new location of {country} as a numbered line 'Location - {country}'"]
            if other:
                why.append(f"{other} named another country")
            if reused:
                why.append(f"{reused} repeated an example or a known name")
            return None, "; ".join(why)

        return Task(
            key=item_key("locations", [country, per_country]),
            messages=locations_messages([country], per_country, examples, prompts=self.prompts),
            check=check,
            retry=lambda reason: (
                f"{reason}. Give {per_country} new real locations of {country}, one per "
                f"numbered line 'Location - {country}', none of the examples."
            ),
        )

    def locations(
        self,
        countries: Sequence[str],
        per_country: int,
        examples: Sequence[tuple[str, str]] = DEFAULT_LOCATION_EXAMPLES,
        *,
        exclude: Iterable[str] = (),
        out: str | os.PathLike[str] | None = None,
        retry_failed: bool | None = None,
    ) -> list[tuple[str, str]]:
        """New ``(location, country)`` pairs: the paper's ``generate_locations`` step.

        One request per country (asked concurrently) with the paper's prompt and the
        ``examples`` as style guides. Replies are read as ``Location - Country`` lines
        (numbered or not; ``-``, ``–``, ``|``, ``:``, ``,`` or parentheses); lines naming
        another country, sentences, repeats of an example, of ``exclude`` or of a
        country are dropped, as is a name already given for another country (the first
        wins, so every location has exactly one country). A reply with no usable line is
        re-asked; a country that still has none contributes nothing and counts as failed
        in :attr:`last_run`.

        Parameters
        ----------
        countries : sequence of str
            Country names; the pairs use these spellings (matching ignores case).
        per_country : int
            Locations wanted per country (at most this many are returned).
        examples : sequence of (location, country)
            Style examples, never returned; default :data:`DEFAULT_LOCATION_EXAMPLES`.
        exclude : iterable of str
            Names that must not come back (e.g. the locations already in the graph).
        out : path, optional
            Resume file, as in :meth:`verbalize`.
        retry_failed : bool, optional
            As in :meth:`verbalize`.

        Returns
        -------
        list of (str, str)
            In the order of ``countries``, then of the replies.

        Raises
        ------
        ValueError
            ``countries`` empty or not a list of non-empty names, ``per_country`` < 1, or
            an example that is not a pair of non-empty strings.
        """
        if isinstance(countries, str) or not isinstance(countries, Sequence):
            raise ValueError("countries must be a list of country names, not a single string")
        if not countries:
            raise ValueError("countries is empty")
        for i, c in enumerate(countries):
            if not isinstance(c, str) or not c.strip():
                raise ValueError(f"countries[{i}] must be a non-empty string, got {c!r}")
        if isinstance(per_country, bool) or not isinstance(per_country, int) or per_country < 1:
            raise ValueError(f"per_country must be an integer >= 1, got {per_country!r}")
        examples = list(examples)
        for i, ex in enumerate(examples):
            if (
                not isinstance(ex, (tuple, list))
                or len(ex) != 2
                or not all(isinstance(x, str) and x.strip() for x in ex)
            ):
                raise ValueError(
                    f"examples[{i}] must be a (location, country) pair of strings, got {ex!r}"
                )
        if isinstance(exclude, str):
            raise ValueError("exclude must be a collection of names, not a single string")
        wanted: dict[str, str] = {}
        for c in countries:  # one request per country; the first spelling names it
            wanted.setdefault(_key(c), _norm(c))
        taken = frozenset(
            {_key(loc) for loc, _ in examples} | {_key(x) for x in exclude} | set(wanted)
        )
        tasks = [self._locations_task(c, per_country, examples, taken) for c in wanted.values()]
        pairs: list[tuple[str, str]] = []
        given: set[str] = set()
        for res in self._run(tasks, out, "locations", retry_failed):
            for loc, country in res.value or []:
                if _key(loc) not in given:
                    given.add(_key(loc))
                    pairs.append((loc, country))
        return pairs

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

"""Prompts for LLM-backed steps; the defaults are the paper's (App. A.5).

Every builder returns chat messages (``[{"role": ..., "content": ...}]``). The system
prompts are the paper's, verbatim apart from whitespace; the user messages add the data
and, where an answer must survive, state it on a line of its own (``Answer: ...``) so that
any model — and a test server — can see what must be kept. Override any prompt by passing
your own text to the backend (``prompts={"question": "..."}``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kgaug.records import Chain, ComparisonFact, FiveTuple, Triple

__all__ = [
    "DEFAULT_PROMPTS",
    "Messages",
    "graph_messages",
    "locations_messages",
    "paragraph_messages",
    "paraphrase_messages",
    "question_messages",
    "same_entity_messages",
]

Messages = list[dict[str, str]]

#: The paper's prompts (App. A.5), keyed by step.
DEFAULT_PROMPTS: dict[str, str] = {
    "graph": (
        "You are graph gpt. You build graph based on the provided text. Find all objects, "
        "their relations and types. Pick one of the following types: - Person - Location - "
        "Object (include everything that was not above) Return the following format with "
        "numbering: 1. <Avatar; Film><director><James Cameron; Person> 2. <James Cameron; "
        "Person><directed><Titanic; Object>"
    ),
    "question": (
        "You are a question formatting assistant. Your task is to create questions based on "
        "the given relations and objects. Use the provided examples as a guide for the "
        "question style. Ensure that the answer remains unchanged and enclosed in <a> tags. "
        "You may rephrase one question, given the example format. Strictly follow the logic "
        "of given examples. Connect it in the following logic: <obj1> -> <rel1> -> <rel2> -> "
        "<obj3> Return numbered responses in format: 1. What is the director of the film "
        "that James Cameron produced?<a>Steven Spielberg</a> 2. Who directed the movie "
        "starring Tom Cruise?<a>Christopher Nolan</a>"
    ),
    "paraphrase": (
        "You are a question formatting assistant. Rephrase the given question in different "
        "words, keeping its meaning. Ensure that the answer remains unchanged and enclosed in "
        "<a> tags. Return numbered responses in format: 1. <question><a>answer</a>"
    ),
    "locations": (
        "You are a helpful assistant that generates geographical facts. Generate new unique "
        "locations and their countries in the following format: Follow the style of the "
        "examples, but do not use the same locations. Rules: 1. Use real locations and "
        "countries 2. Each location should be unique 3. DO NOT REUSE PROVIDED EXAMPLES 4. Do "
        "not answer the question - only provide locations 5. Do not use formatting except "
        "for numbering 6. Generate equal amount of NEW!!! locations for following countries:"
    ),
    "paragraph": (
        "You are a helpful assistant that generates geographical facts. Based on the "
        "provided examples, generate a paragraph for each location-country pair. Strictly "
        "follow the style and lenght of the provided examples Do not answer the question - "
        "only provide the paragraph with numbering. DO not return empty lines. One by one. "
        "Return the number according to the given data. Here are the examples:"
    ),
    "same_entity": (
        "You are an entity resolution assistant. For each numbered pair of names, taken "
        "from facts extracted from text, say whether both names refer to the same "
        "real-world entity. Answer with numbered lines 'yes' or 'no', one per pair, in "
        "order."
    ),
}


def _prompt(step: str, prompts: Mapping[str, str] | None) -> str:
    return (prompts or {}).get(step, DEFAULT_PROMPTS[step])


def _chain_text(item: Triple | FiveTuple | Chain) -> tuple[str, str]:
    """``(logic line, answer)`` for a fact or a path."""
    if isinstance(item, Triple):
        return f"<{item.head}> -> <{item.relation}> -> <{item.tail}>", item.tail
    ents, rels = item.entities, item.relations
    parts = [f"<{ents[0]}>", *(f"<{r}>" for r in rels)]
    return " -> ".join(parts) + f" -> <{ents[-1]}>", ents[-1]


def question_messages(
    item: Triple | FiveTuple | Chain | ComparisonFact,
    *,
    examples: Sequence[tuple[str, str]] = (),
    prompts: Mapping[str, str] | None = None,
) -> Messages:
    """Ask for one question about ``item`` whose answer stays unchanged.

    ``examples`` are ``(question, answer)`` pairs shown as style guides (2WikiMultiHopQA
    questions by default in the backends).
    """
    lines = []
    if examples:
        lines.append("Examples:")
        lines += [f"{i}. {q}<a>{a}</a>" for i, (q, a) in enumerate(examples, 1)]
        lines.append("")
    if isinstance(item, ComparisonFact):
        options = "yes or no" if item.style == "same" else "<, = or >"
        lines += [
            f"Compare: <{item.entity1}> and <{item.entity2}> on <{item.attribute}> "
            f"({item.value1} vs {item.value2}); the answer is {options}.",
            f"Answer: {item.answer}",
        ]
    else:
        logic, answer = _chain_text(item)
        lines += [f"Logic: {logic}", f"Answer: {answer}"]
    lines.append("Return 1 numbered question with the answer in <a> tags.")
    return [
        {"role": "system", "content": _prompt("question", prompts)},
        {"role": "user", "content": "\n".join(lines)},
    ]


def paraphrase_messages(
    question: str, answer: str, k: int, *, prompts: Mapping[str, str] | None = None
) -> Messages:
    """Ask for ``k`` rephrasings of a question with the same answer."""
    return [
        {"role": "system", "content": _prompt("paraphrase", prompts)},
        {
            "role": "user",
            "content": f"Question: {question}\nAnswer: {answer}\n"
            f"Return {k} numbered rephrasings, each with the answer in <a> tags.",
        },
    ]


def graph_messages(text: str, *, prompts: Mapping[str, str] | None = None) -> Messages:
    """Ask for the typed graph of a text (``<Name; Type><relation><Name; Type>`` lines)."""
    return [
        {"role": "system", "content": _prompt("graph", prompts)},
        {"role": "user", "content": text},
    ]


def locations_messages(
    countries: Sequence[str],
    per_country: int,
    examples: Sequence[tuple[str, str]],
    *,
    prompts: Mapping[str, str] | None = None,
) -> Messages:
    """Ask for new ``Location - Country`` lines (the paper's comparison step)."""
    ex = "\n".join(f"{i}. {loc} - {c}" for i, (loc, c) in enumerate(examples, 1))
    return [
        {
            "role": "system",
            "content": _prompt("locations", prompts) + " " + ", ".join(countries),
        },
        {
            "role": "user",
            "content": f"Examples:\n{ex}\n\nGenerate {per_country} new locations per country "
            "as numbered lines 'Location - Country'.",
        },
    ]


def paragraph_messages(
    pairs: Sequence[tuple[str, str]],
    examples: Sequence[str],
    *,
    prompts: Mapping[str, str] | None = None,
) -> Messages:
    """Ask for one Wikipedia-like paragraph per ``(location, country)`` pair."""
    ex = "\n".join(examples)
    data = "\n".join(f"{i}. {loc} - {c}" for i, (loc, c) in enumerate(pairs, 1))
    return [
        {"role": "system", "content": _prompt("paragraph", prompts) + "\n" + ex},
        {"role": "user", "content": data},
    ]


def same_entity_messages(
    pairs: Sequence[
        tuple[tuple[str, str | None, Sequence[str]], tuple[str, str | None, Sequence[str]]]
    ],
    *,
    prompts: Mapping[str, str] | None = None,
) -> Messages:
    """Ask whether each pair of ``(name, type, facts)`` names one entity (numbered yes/no)."""

    def show(name: str, type_: str | None, facts: Sequence[str]) -> str:
        t = f" ({type_})" if type_ else ""
        known = f"; known facts: {'; '.join(facts)}" if facts else ""
        return f"<{name}>{t}{known}"

    lines = [f"{i}. {show(*a)} vs {show(*b)}" for i, (a, b) in enumerate(pairs, 1)]
    lines.append(f"Return {len(pairs)} numbered lines, each 'yes' or 'no'.")
    return [
        {"role": "system", "content": _prompt("same_entity", prompts)},
        {"role": "user", "content": "\n".join(lines)},
    ]

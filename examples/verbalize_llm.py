"""Five-tuples to questions, text to a graph, and more phrasings, with any LLM server.

Run against a real OpenAI-compatible server (OpenAI, vLLM, Ollama, ...)::

    export OPENAI_API_KEY=...            # local servers accept anything
    python examples/verbalize_llm.py --base-url http://localhost:8000/v1 --model NAME

Without ``--base-url`` the script starts kgaug's loopback test server
(``kgaug.verbalize.fake_server``), so it runs offline and shows every step. Run it twice
with the same ``--cache-dir``: the second run makes zero requests.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator

import kgaug
from kgaug.augmentation import diversify
from kgaug.verbalize import get_verbalizer
from kgaug.verbalize.fake_server import FakeChatServer


@contextlib.contextmanager
def server_url(base_url: str | None) -> Iterator[str]:
    if base_url:
        yield base_url
        return
    with FakeChatServer() as server:
        print(f"(no --base-url: using the local test server at {server.base_url})\n")
        yield server.base_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="OpenAI-compatible server (default: a local fake)")
    parser.add_argument("--model", default="fake", help="model name on the server")
    parser.add_argument("--cache-dir", help="response cache (default: a temporary folder)")
    parser.add_argument("-k", type=int, default=5, help="five-tuples to verbalize")
    args = parser.parse_args()

    kg = kgaug.datasets.load_example()
    paths = kgaug.sample_paths(kg, hops=2, k=args.k, seed=0)
    with server_url(args.base_url) as url, tempfile.TemporaryDirectory() as tmp:
        llm = get_verbalizer(
            "openai",
            base_url=url,
            model=args.model,
            concurrency=8,
            cache_dir=args.cache_dir or tmp,
            progress=False,
        )

        print("1. Five-tuples to questions (the answer must survive unchanged):")
        questions = llm.verbalize(paths)
        for q in questions:
            print(f"   [{q.status}] {q.question}  ->  {q.answer}")
        print(f"   {llm.last_run}\n")

        print("2. More phrasings of the first question (diversify):")
        for q in diversify(questions[:1], variants=3, verbalizer=llm):
            print(f"   {q.question}  ->  {q.answer}")

        print("\n3. Text to a typed graph (the paper's parse_graph prompt):")
        text = (
            "Roma | director | Alfonso Cuaron\nAlfonso Cuaron | place of birth | Mexico City"
            if not args.base_url
            else "Roma is a 2018 film directed by Alfonso Cuaron, who was born in Mexico City."
        )
        parsed = llm.parse(text)
        for h, r, t in parsed.triples():
            print(f"   ({h}, {r}, {t})")

        print("\n4. The same questions again: answered from the cache")
        llm.verbalize(paths)
        print(f"   {llm.last_run}")


if __name__ == "__main__":
    main()

"""A local OpenAI-compatible chat server for tests, benchmarks and offline dry runs.

:class:`FakeChatServer` speaks the chat-completions protocol on ``127.0.0.1`` (standard
library only, one thread per connection). By default it answers kgaug's own prompts like a
cooperative model: questions keep the answer in ``<a>`` tags (or JSON when structured
output is asked for), paraphrases are numbered, ``head | relation | tail`` lines of a text
become ``<head; Object><relation><tail; Object>`` graph lines, new locations are
``COUNTRY Town i - COUNTRY`` lines. Pass ``responder`` to script
any behaviour: malformed output, refusals, rate limits, server errors, slow answers.

Examples
--------
>>> from kgaug.verbalize.fake_server import FakeChatServer
>>> from kgaug.verbalize import get_verbalizer
>>> from kgaug.records import FiveTuple
>>> with FakeChatServer() as server:
...     v = get_verbalizer("openai", base_url=server.base_url, model="fake", progress=False)
...     [q] = v.verbalize([FiveTuple(obj1="Roma", rel1="director", obj2="Alfonso Cuaron",
...                                  rel2="place of birth", obj3="Mexico City")])
>>> q.question, q.answer
('What is the place of birth of the director of Roma?', 'Mexico City')
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeChatServer", "Reply", "cooperative_model"]


@dataclass
class Reply:
    """What the server sends for one request.

    ``content`` (and ``refusal``) make a normal chat completion; ``body`` replaces the
    whole JSON body (or, as a ``str``, is sent raw); ``status`` and ``headers`` allow
    errors such as ``429`` with ``retry-after`` (a ``Content-Type`` header replaces
    ``application/json``: an HTML page, an event stream); ``delay`` seconds pass before
    answering.
    """

    content: str | None = ""
    refusal: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | str | None = None
    delay: float = 0.0


Responder = Callable[[dict[str, Any], int], Reply]

_LOGIC = re.compile(r"^Logic: (.*)$", re.MULTILINE)
_ANSWER = re.compile(r"^Answer: (.*)$", re.MULTILINE)
_COMPARE = re.compile(r"^Compare: <(.*?)> and <(.*?)> on <(.*?)>", re.MULTILINE)
_QUESTION = re.compile(r"^Question: (.*)$", re.MULTILINE)
_COUNT = re.compile(r"Return (\d+) numbered")
_NEW_FACTS = re.compile(r"Generate (\d+) NEW facts of the relation '(.*?)'")
_COUNTRIES = re.compile(r"following countries:\s*(.*)$", re.DOTALL)
_PER_COUNTRY = re.compile(r"Generate (\d+) new locations per country")


def _find(pattern: re.Pattern[str], text: str, default: str = "") -> str:
    m = pattern.search(text)
    return m.group(1).strip() if m else default


def _question(user: str) -> tuple[str, str]:
    answer = _find(_ANSWER, user)
    cmp = _COMPARE.search(user)
    if cmp:
        e1, e2, attr = cmp.groups()
        return f"Do {e1} and {e2} have the same {attr}?", answer
    logic = _LOGIC.search(user)
    if not logic:
        return "What is it?", answer
    parts = [p.strip().strip("<>") for p in logic.group(1).split("->")]
    head, rels = parts[0], parts[1:-1]
    q = head
    for r in rels:
        q = f"the {r} of {q}"
    return f"What is {q}?", answer


def cooperative_model(request: dict[str, Any], n: int) -> Reply:
    """The default responder: answers kgaug's prompts correctly and politely."""
    messages = request.get("messages", [])
    system = next((m["content"] for m in messages if m.get("role") == "system"), "")
    user = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    if "question formatting" in system and "Rephrase" in system:
        q, a = _find(_QUESTION, user), _find(_ANSWER, user)
        k = int(_find(_COUNT, user, "1"))
        openers = ("Tell me:", "Could you say:", "Do you know:", "Quick question:", "Recall:")
        lines = [f"{i}. {openers[(i - 1) % 5]} {q}<a>{a}</a>" for i in range(1, k + 1)]
        return Reply("\n".join(lines))
    if "question formatting" in system:
        q, a = _question(user)
        fmt = request.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            return Reply(json.dumps({"question": q, "answer": a}))
        return Reply(f"1. {q}<a>{a}</a>")
    if "entity resolution assistant" in system:
        # "yes" when the words of one name are all in the other
        pairs = re.findall(r"^\d+\. <([^>]*)>.* vs <([^>]*)>", user, re.MULTILINE)
        lines = []
        for i, (a, b) in enumerate(pairs, 1):
            wa, wb = set(a.casefold().split()), set(b.casefold().split())
            lines.append(f"{i}. {'yes' if wa <= wb or wb <= wa else 'no'}")
        return Reply("\n".join(lines))
    if "graph gpt" in system:
        new = _NEW_FACTS.search(user)
        if new:
            k, rel = int(new.group(1)), new.group(2)
            lines = [
                f"{i}. <Fake {i}; Object><{rel}><Fake {i + 1000}; Object>" for i in range(1, k + 1)
            ]
            return Reply("\n".join(lines))
        rows = [
            [p.strip() for p in ln.split("|")] for ln in user.splitlines() if ln.count("|") == 2
        ]
        lines = [f"{i}. <{h}; Object><{r}><{t}; Object>" for i, (h, r, t) in enumerate(rows, 1)]
        return Reply("\n".join(lines) or "I found no relations in this text.")
    if "locations and their countries" in system:
        countries = [c.strip() for c in _find(_COUNTRIES, system).split(",") if c.strip()]
        k = int(_find(_PER_COUNTRY, user, "1"))
        lines = [
            f"{j * k + i + 1}. {c} Town {i + 1} - {c}"
            for j, c in enumerate(countries)
            for i in range(k)
        ]
        return Reply("\n".join(lines))
    if "paragraph" in system:
        pairs = re.findall(r"^\d+\. (.*?) - (.*)$", user, re.MULTILINE)
        lines = [
            f"{i}. {loc}: {loc} is a place in {c}. It is known for its history and its people."
            for i, (loc, c) in enumerate(pairs, 1)
        ]
        return Reply("\n".join(lines))
    return Reply("I do not understand the request.")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (~40 ms)
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            if not any(k.lower() == "content-type" for k in headers):
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/_stats"):  # for a server in another process
            body: dict[str, Any] = {"requests": len(self.server.requests)}
        else:
            model = {"id": "fake", "object": "model", "owned_by": "kgaug"}
            body = {"object": "list", "data": [model]}
        self._send(200, json.dumps(body).encode(), {})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, b'{"error": {"message": "not found"}}', {})
            return
        try:
            request = json.loads(raw)
        except json.JSONDecodeError:
            self._send(400, b'{"error": {"message": "invalid JSON"}}', {})
            return
        n = self.server.record(request, dict(self.headers))
        reply = self.server.responder(request, n)
        delay = reply.delay + self.server.latency
        if delay > 0:
            time.sleep(delay)
        if reply.body is not None:
            payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            self._send(reply.status, payload.encode(), reply.headers)
            return
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in request["messages"])
        content = reply.content or ""
        body = {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {
                        "role": "assistant",
                        "content": reply.content,
                        "refusal": reply.refusal,
                    },
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(content.split()),
                "total_tokens": prompt_tokens + len(content.split()),
            },
        }
        self._send(reply.status, json.dumps(body).encode(), reply.headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, addr: tuple[str, int], responder: Responder, latency: float) -> None:
        super().__init__(addr, _Handler)
        self.responder = responder
        self.latency = latency
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hung up (a cancelled request); loud about the rest."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def record(self, request: dict[str, Any], headers: dict[str, str]) -> int:
        with self._lock:
            self.requests.append(request)
            self.headers.append(headers)
            return len(self.requests)


class FakeChatServer:
    """An OpenAI-compatible chat-completions server on ``127.0.0.1`` (context manager).

    Parameters
    ----------
    responder : callable, optional
        ``responder(request_json, n) -> Reply`` for the ``n``-th request (1-based);
        default :func:`cooperative_model`.
    latency : float
        Seconds added to every answer (network and model time).
    port : int
        Port to listen on (0: any free port).

    Attributes
    ----------
    base_url : str
        ``http://127.0.0.1:PORT/v1``, for the ``openai`` client.
    requests : list of dict
        Every request body received, in arrival order.
    headers : list of dict
        Their HTTP headers.
    """

    def __init__(
        self, responder: Responder | None = None, *, latency: float = 0.0, port: int = 0
    ) -> None:
        self._server = _Server(("127.0.0.1", port), responder or cooperative_model, latency)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The ``/v1`` URL of the server."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Request bodies received so far."""
        return self._server.requests

    @property
    def headers(self) -> list[dict[str, str]]:
        """Request headers received so far."""
        return self._server.headers

    @property
    def responder(self) -> Responder:
        """The function that answers requests (may be replaced while running)."""
        return self._server.responder

    @responder.setter
    def responder(self, value: Responder) -> None:
        self._server.responder = value

    def start(self) -> FakeChatServer:
        """Serve in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"FakeChatServer({self.base_url!r}, requests={len(self.requests)})"


def main(argv: list[str] | None = None) -> None:
    """``python -m kgaug.verbalize.fake_server``: serve until interrupted.

    Prints ``serving on URL`` when ready; ``GET URL/_stats`` returns the request count.
    """
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    args = parser.parse_args(argv)
    server = FakeChatServer(latency=args.latency, port=args.port)
    print(f"serving on {server.base_url}", flush=True)
    try:
        server._server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()


if __name__ == "__main__":  # pragma: no cover
    main()

"""Find verbalizers and parsers by name; third-party packages plug in by entry point.

Built in: ``"template"`` (offline, deterministic), ``"openai"`` (any OpenAI-compatible
server, ``kgaug[llm]``), ``"transformers"`` (a local model, ``kgaug[train]``). Another
package registers a factory in its ``pyproject.toml``::

    [project.entry-points."kgaug.verbalizers"]
    mybackend = "mypackage.kgaug_plugin:make_verbalizer"

where ``make_verbalizer(**options)`` returns an object with ``verbalize(items)`` (and,
optionally, ``parse(text)``, ``paraphrase(question, k)``, ``propose(kg, relation, n)``).
``register_verbalizer`` does the same at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from kgaug.errors import close_matches

__all__ = [
    "ENTRY_POINT_GROUP",
    "available_verbalizers",
    "get_parser",
    "get_verbalizer",
    "register_verbalizer",
]

ENTRY_POINT_GROUP = "kgaug.verbalizers"

Factory = Callable[..., Any]
_REGISTRY: dict[str, Factory] = {}


def _template(**options: Any) -> Any:
    from kgaug.verbalize.template import TemplateVerbalizer

    return TemplateVerbalizer(**options)


_ENGINE_OPTIONS = (
    "concurrency",
    "cache_dir",
    "max_attempts",
    "examples",
    "prompts",
    "progress",
    "max_reply_chars",
    "reask_reply_chars",
    "requests_per_minute",
    "tokens_per_minute",
    "retry_failed",
)


def _split(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    engine = {k: options.pop(k) for k in list(options) if k in _ENGINE_OPTIONS}
    return engine, options


def _openai(**options: Any) -> Any:
    from kgaug.verbalize.llm import LLMVerbalizer
    from kgaug.verbalize.openai_backend import OpenAIBackend

    engine, backend = _split(dict(options))
    return LLMVerbalizer(OpenAIBackend(**backend), **engine)


def _transformers(**options: Any) -> Any:
    from kgaug.verbalize.llm import LLMVerbalizer
    from kgaug.verbalize.transformers_backend import TransformersBackend

    engine, backend = _split(dict(options))
    engine.setdefault("concurrency", 1)
    return LLMVerbalizer(TransformersBackend(**backend), **engine)


_BUILTIN: dict[str, Factory] = {
    "template": _template,
    "openai": _openai,
    "transformers": _transformers,
}


def register_verbalizer(name: str, factory: Factory) -> None:
    """Make ``get_verbalizer(name, **options)`` call ``factory(**options)``."""
    _REGISTRY[name] = factory


def _plugins() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_verbalizers() -> list[str]:
    """Names accepted by :func:`get_verbalizer` (built-in, registered, installed plugins)."""
    return sorted({*_BUILTIN, *_REGISTRY, *_plugins()})


def get_verbalizer(name: str = "template", **options: Any) -> Any:
    """A verbalizer by name.

    Parameters
    ----------
    name : str
        ``"template"``, ``"openai"``, ``"transformers"`` or a registered / plugged-in name.
    **options
        Passed on. For ``"openai"``: ``base_url``, ``model``, ``api_key``, ``temperature``,
        ``seed``, ``max_tokens``, ``timeout``, ``max_retries``, ``structured``, and the
        engine's ``concurrency``, ``cache_dir``, ``max_attempts``, ``examples``,
        ``prompts``, ``progress``, ``max_reply_chars``, ``reask_reply_chars``,
        ``requests_per_minute``, ``tokens_per_minute``, ``retry_failed``. For
        ``"transformers"``: ``model_path`` and generation options, plus the engine's.

    Examples
    --------
    >>> from kgaug.verbalize import get_verbalizer
    >>> v = get_verbalizer("template")
    >>> type(v).__name__
    'TemplateVerbalizer'
    """
    if name in _REGISTRY:
        return _REGISTRY[name](**options)
    if name in _BUILTIN:
        return _BUILTIN[name](**options)
    plugins = _plugins()
    if name in plugins:
        return plugins[name].load()(**options)
    known = available_verbalizers()
    hint = close_matches(name, known)
    raise ValueError(
        f"unknown verbalizer {name!r}; available: {', '.join(known)}"
        + (f" (did you mean {hint[0]!r}?)" if hint else "")
    )


def get_parser(name: str = "openai", **options: Any) -> Any:
    """A graph parser (an object with ``parse(text) -> KnowledgeGraph``) by name."""
    obj = get_verbalizer(name, **options)
    if not hasattr(obj, "parse"):
        raise ValueError(f"the {name!r} backend cannot parse text into a graph")
    return obj

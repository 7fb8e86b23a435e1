"""A local text-generation model as an LLM backend (``pip install 'kgaug[train]'``).

Loads a causal language model and its tokenizer from a folder with ``transformers``
(``local_files_only``: nothing is downloaded) and generates in a worker thread, so the
:class:`~kgaug.verbalize.engine.Engine`'s event loop, cache, checks and resume work as
with a server. The chat template of the tokenizer is used when it has one; otherwise the
messages are written as ``role: content`` lines. Structured output is not enforced
locally: answers are read from JSON or ``<a>...</a>`` tags like any text answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from kgaug.verbalize.engine import Completion, Messages

__all__ = ["TransformersBackend"]


def _fingerprint(path: Path) -> str:
    """Names, sizes and modification times of the model files (part of the cache key)."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        st = f.stat()
        h.update(f"{f.relative_to(path)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


class TransformersBackend:
    """Generation with a local ``transformers`` causal LM.

    Parameters
    ----------
    model_path : path
        Folder written by ``save_pretrained`` (model and tokenizer).
    tokenizer_path : path, optional
        Tokenizer folder, if not ``model_path``.
    max_new_tokens : int
        Generation length limit.
    temperature : float
        0 decodes greedily; above 0 samples with ``seed``.
    seed : int
        Sampling seed.
    device : str
        Torch device (``"cpu"``, ``"cuda"``, ...).

    Raises
    ------
    FileNotFoundError
        When ``model_path`` is not a folder.
    ImportError
        Without ``torch`` and ``transformers`` (``pip install 'kgaug[train]'``).

    Notes
    -----
    Sampling seeds a forked random state, so the global ``torch`` random state of the
    caller is left as it was. :meth:`close` releases the model (and its GPU memory).
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        tokenizer_path: str | os.PathLike[str] | None = None,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        path = Path(model_path)
        if not path.is_dir():
            raise FileNotFoundError(
                f"model_path {str(path)!r} is not a folder written by save_pretrained"
            )
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(
                "the transformers backend needs torch and transformers: pip install 'kgaug[train]'"
            ) from None
        self._torch = torch
        auto_tokenizer: Any = AutoTokenizer  # untyped use: the stubs vary by release
        auto_lm: Any = AutoModelForCausalLM
        self.tokenizer: Any = auto_tokenizer.from_pretrained(
            str(tokenizer_path or path), local_files_only=True
        )
        self.lm: Any = auto_lm.from_pretrained(str(path), local_files_only=True)
        self.lm.to(device)
        self.lm.eval()
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.seed = seed
        self.model = f"transformers:{path.resolve().name}:{_fingerprint(path)}"
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        state = ", closed" if self._closed else ""
        return f"TransformersBackend(model={self.model!r}, device={self.device!r}{state})"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Release the model and tokenizer (and cached GPU memory). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self.lm = None
            self.tokenizer = None
        if str(self.device).startswith("cuda") and self._torch.cuda.is_available():
            self._torch.cuda.empty_cache()

    def cache_params(self) -> dict[str, Any]:
        """Answer-changing parameters (part of the cache key)."""
        return {
            "temperature": self.temperature,
            "seed": self.seed,
            "max_new_tokens": self.max_new_tokens,
        }

    def _prompt_ids(self, messages: Messages) -> list[int]:
        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            enc: Any = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
            if hasattr(enc, "keys"):  # a BatchEncoding in newer releases
                enc = enc["input_ids"]
            return [int(i) for i in enc]
        text = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"
        return [int(i) for i in tok(text)["input_ids"]]

    def _generate(self, messages: Messages) -> Completion:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        torch = self._torch
        ids = self._prompt_ids(messages)
        limit = getattr(self.lm.config, "max_position_embeddings", None) or getattr(
            self.lm.config, "n_positions", None
        )
        new = self.max_new_tokens
        if limit is not None:
            new = min(new, max(1, limit // 2))
            ids = ids[-max(1, limit - new) :]  # keep the end: the item comes last
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id if self.tokenizer.eos_token_id is not None else 0
        x = torch.tensor([ids], dtype=torch.long, device=self.device)
        options: dict[str, Any] = {"max_new_tokens": new, "pad_token_id": pad}
        if self.temperature > 0:
            options.update(do_sample=True, temperature=self.temperature)
        else:
            options.update(do_sample=False)
        devices = [torch.device(self.device)] if torch.device(self.device).type == "cuda" else []
        with self._lock, torch.inference_mode(), torch.random.fork_rng(devices=devices):
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            if self.temperature > 0:
                torch.manual_seed(self.seed)
            out = self.lm.generate(x, attention_mask=torch.ones_like(x), **options)
        gen = out[0, len(ids) :].tolist()
        text = self.tokenizer.decode(gen, skip_special_tokens=True)
        return Completion(text=text, prompt_tokens=len(ids), completion_tokens=len(gen))

    async def complete(self, messages: Messages, schema: dict[str, Any] | None) -> Completion:
        """Generate an answer in a worker thread (``schema`` is not enforced locally)."""
        return await asyncio.to_thread(self._generate, messages)

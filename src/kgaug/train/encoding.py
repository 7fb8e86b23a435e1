"""From examples to fixed-length integer arrays: symbolic vocabularies and byte-level BPE.

An encoded example is an input sequence (right-padded, so a causal model needs no attention
mask) and the positions whose next-token predictions are the answer. Symbolic examples
have one answer token read at the last input token; text examples have the answer's BPE
tokens plus an end token, read with teacher forcing.

Nothing here downloads anything: BPE tokenizers are trained locally with ``tokenizers`` or
loaded from a local file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from kgaug.dataset import Example

__all__ = [
    "BPEEncoder",
    "EncodedSplit",
    "Encoder",
    "MissingTokenError",
    "SymbolicEncoder",
]

IntArray = npt.NDArray[np.int64]
IGNORE = -100

PAD, SEP, EOS = "<pad>", "<sep>", "<eos>"


class MissingTokenError(ValueError):
    """Examples contain tokens that the model's vocabulary does not have."""


@dataclass(frozen=True)
class EncodedSplit:
    """One split as arrays.

    Attributes
    ----------
    name : str
        The split (``"train"``, ``"atomic"``, ``"train_inferred"``, ``"test_id"``,
        ``"test_ood"``).
    input_ids : ndarray of int64, shape (N, L)
        Right-padded input sequences.
    positions : ndarray of int64, shape (N, A)
        Where each answer token is predicted (0 where padded).
    targets : ndarray of int64, shape (N, A)
        The answer token ids, ``-100`` where padded.
    """

    name: str
    input_ids: IntArray
    positions: IntArray
    targets: IntArray

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])

    def take(self, idx: IntArray, name: str | None = None) -> EncodedSplit:
        """A subset of the rows."""
        return EncodedSplit(
            name or self.name, self.input_ids[idx], self.positions[idx], self.targets[idx]
        )


class Encoder(Protocol):
    """Turns examples into :class:`EncodedSplit` arrays and saves itself."""

    kind: str

    @property
    def vocab_size(self) -> int:
        """Number of token ids the model needs."""
        ...

    @property
    def pad_id(self) -> int:
        """Id used for padding."""
        ...

    def encode(self, examples: Sequence[Example], name: str) -> EncodedSplit:
        """Encode examples (raises :class:`MissingTokenError` for unknown tokens)."""
        ...

    def save(self, directory: Path) -> None:
        """Write the tokenizer files into ``directory``."""
        ...

    def fingerprint(self) -> str:
        """A string that changes whenever the token-to-id mapping changes."""
        ...


def _scatter(flat: IntArray, lengths: IntArray, width: int, fill: int) -> IntArray:
    """Right-pad rows given as one flat array and their lengths (vectorized, no row loop)."""
    out = np.full((len(lengths), width), fill, dtype=np.int64)
    row = np.repeat(np.arange(len(lengths)), lengths)
    col = np.arange(flat.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    out[row, col] = flat
    return out


def _pad(rows: Sequence[Sequence[int]], width: int, fill: int) -> IntArray:
    """Right-pad integer rows into a matrix."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    flat = np.fromiter((x for r in rows for x in r), dtype=np.int64, count=int(lengths.sum()))
    return _scatter(flat, lengths, width, fill)


def _missing_error(missing: Sequence[str], examples: Sequence[Example], name: str) -> str:
    where = ""
    first = set(missing[:1])
    for i, e in enumerate(examples):
        if first & ({*e.tokens, e.answer_token}):
            where = f" (first in {name} example {i + 1}, id {e.id})"
            break
    shown = ", ".join(repr(t) for t in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    return (
        f"{len(missing)} token(s) of split {name!r} are not in the model's vocabulary: "
        f"{shown}{more}{where}. The vocabulary comes from the checkpoint or the dataset the "
        "model was built for; train a new model on this dataset (a new output folder) or "
        "build the dataset from the same knowledge graph."
    )


class SymbolicEncoder:
    """One token per entity, relation, attribute and answer (Wang et al.'s format).

    Parameters
    ----------
    tokens : sequence of str
        The vocabulary without the padding token (which gets id 0), e.g.
        :meth:`kgaug.dataset.Dataset.vocabulary` for exactly the tokens a dataset uses.
    """

    kind = "symbolic"

    def __init__(self, tokens: Sequence[str]) -> None:
        vocab = sorted(set(tokens) - {PAD})
        self.tokens: list[str] = [PAD, *vocab]
        self._sorted = np.array(vocab, dtype=object)

    @property
    def vocab_size(self) -> int:
        """Vocabulary size including the padding token."""
        return len(self.tokens)

    @property
    def pad_id(self) -> int:
        """Padding id (0)."""
        return 0

    def ids(self, tokens: Sequence[str]) -> IntArray:
        """Ids of tokens (raises :class:`MissingTokenError` if one is unknown)."""
        arr = np.array(list(tokens), dtype=object)
        pos = np.searchsorted(self._sorted, arr)
        ok = pos < len(self._sorted)
        ok[ok] = self._sorted[pos[ok]] == arr[ok]
        if not ok.all():
            missing = sorted(set(arr[~ok].tolist()))
            raise MissingTokenError(
                f"{len(missing)} token(s) not in the vocabulary: "
                + ", ".join(repr(t) for t in missing[:5])
            )
        return (pos + 1).astype(np.int64)

    def encode(self, examples: Sequence[Example], name: str) -> EncodedSplit:
        """Inputs = the example's tokens; the answer token is predicted at the last one."""
        lengths = np.fromiter((len(e.tokens) for e in examples), dtype=np.int64)
        flat = [t for e in examples for t in e.tokens]
        answers = [e.answer_token for e in examples]
        try:
            flat_ids = self.ids(flat)
            answer_ids = self.ids(answers)
        except MissingTokenError:
            missing = sorted({*flat, *answers} - set(self.tokens))
            raise MissingTokenError(_missing_error(missing, examples, name)) from None
        width = int(lengths.max()) if len(examples) else 1
        input_ids = _scatter(flat_ids, lengths, width, self.pad_id)
        return EncodedSplit(name, input_ids, (lengths - 1)[:, None], answer_ids[:, None])

    def save(self, directory: Path) -> None:
        """``vocab.json`` (token to id) and ``kgaug_tokenizer.json``."""
        directory.mkdir(parents=True, exist_ok=True)
        vocab = {t: i for i, t in enumerate(self.tokens)}
        (directory / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=0))
        (directory / "kgaug_tokenizer.json").write_text(
            json.dumps({"kind": "symbolic", "pad_token": PAD})
        )

    @classmethod
    def load(cls, directory: Path) -> SymbolicEncoder:
        """Read back what :meth:`save` wrote."""
        vocab = json.loads((directory / "vocab.json").read_text())
        tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
        if not tokens or tokens[0] != PAD or [vocab[t] for t in tokens] != list(range(len(tokens))):
            raise ValueError(f"{directory / 'vocab.json'}: not a kgaug symbolic vocabulary")
        return cls(tokens[1:])

    def fingerprint(self) -> str:
        """Hash of the token list."""
        return hashlib.sha256("\n".join(self.tokens).encode()).hexdigest()[:16]


class BPEEncoder:
    """Question and answer text with a byte-level BPE tokenizer (``tokenizers``).

    The input is ``question <sep> answer`` and the targets are the answer's tokens and
    ``<eos>``, so exact-match accuracy checks the whole answer.

    Parameters
    ----------
    tokenizer : tokenizers.Tokenizer
        A tokenizer with the ``<pad>``, ``<sep>`` and ``<eos>`` special tokens.
    """

    kind = "text"

    def __init__(self, tokenizer: Any) -> None:
        # a loaded tokenizer.json may carry padding or truncation settings that would put
        # pad tokens inside prompts or cut answers: kgaug pads and positions itself
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self.tokenizer = tokenizer
        ids = {t: tokenizer.token_to_id(t) for t in (PAD, SEP, EOS)}
        absent = [t for t, i in ids.items() if i is None]
        if absent:
            tokenizer.add_special_tokens(absent)
            ids = {t: tokenizer.token_to_id(t) for t in (PAD, SEP, EOS)}
        self._pad, self._sep, self._eos = ids[PAD], ids[SEP], ids[EOS]
        unk = getattr(getattr(tokenizer, "model", None), "unk_token", None)
        self._unk = tokenizer.token_to_id(unk) if unk else None

    @classmethod
    def train_on(cls, examples: Sequence[Example], vocab_size: int = 2000) -> BPEEncoder:
        """Train a byte-level BPE tokenizer on the examples' questions and answers.

        BPE training is deterministic: the same examples give the same tokenizer.
        """
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=[PAD, SEP, EOS],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        texts = [e.question for e in examples] + [e.answer for e in examples]
        tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
        return cls(tok)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> BPEEncoder:
        """Load ``tokenizer.json`` (a file, or a folder holding one); nothing is downloaded."""
        from tokenizers import Tokenizer

        p = Path(path)
        file = p / "tokenizer.json" if p.is_dir() else p
        if not file.is_file():
            raise FileNotFoundError(
                f"no tokenizer at {file}: pass a tokenizer.json file or a folder with one "
                "(tokenizers are never downloaded)"
            )
        return cls(Tokenizer.from_file(str(file)))

    @property
    def vocab_size(self) -> int:
        """Vocabulary size including special tokens."""
        return int(self.tokenizer.get_vocab_size(with_added_tokens=True))

    @property
    def pad_id(self) -> int:
        """Padding id."""
        return int(self._pad)

    @property
    def eos_id(self) -> int:
        """End-of-answer id."""
        return int(self._eos)

    def encode(self, examples: Sequence[Example], name: str) -> EncodedSplit:
        """Inputs ``question <sep> answer``; targets the answer tokens and ``<eos>``."""
        # no post-processor templates ([CLS] ... [SEP]): the layout is kgaug's own
        qs = self.tokenizer.encode_batch([e.question for e in examples], add_special_tokens=False)
        ans = self.tokenizer.encode_batch(
            [" " + e.answer for e in examples], add_special_tokens=False
        )
        if self._unk is not None:
            for i, enc in enumerate([*qs, *ans]):
                if self._unk in enc.ids:
                    e = examples[i % len(examples)]
                    raise MissingTokenError(
                        f"split {name!r} example {i % len(examples) + 1} (id {e.id}) has text "
                        "the tokenizer maps to its unknown token; use a byte-level tokenizer "
                        "or let kgaug train one on the dataset (tokenizer=None)"
                    )
        prompts = [[*q.ids, self._sep] for q in qs]
        targets = [[*a.ids, self._eos] for a in ans]
        seqs = [p + t[:-1] for p, t in zip(prompts, targets)]
        width = max((len(s) for s in seqs), default=1)
        awidth = max((len(t) for t in targets), default=1)
        input_ids = _pad(seqs, width, self._pad)
        tgt = _pad(targets, awidth, IGNORE)
        plen = np.fromiter((len(p) for p in prompts), dtype=np.int64, count=len(prompts))
        pos = (plen - 1)[:, None] + np.arange(awidth)[None, :]
        pos = np.where(tgt == IGNORE, 0, pos)
        return EncodedSplit(name, input_ids, pos.astype(np.int64), tgt)

    def save(self, directory: Path) -> None:
        """``tokenizer.json`` and ``kgaug_tokenizer.json``."""
        directory.mkdir(parents=True, exist_ok=True)
        self.tokenizer.save(str(directory / "tokenizer.json"))
        (directory / "kgaug_tokenizer.json").write_text(
            json.dumps({"kind": "text", "pad_token": PAD, "sep_token": SEP, "eos_token": EOS})
        )

    @classmethod
    def load(cls, directory: Path) -> BPEEncoder:
        """Read back what :meth:`save` wrote."""
        return cls.from_path(directory / "tokenizer.json")

    def fingerprint(self) -> str:
        """Hash of the serialized tokenizer."""
        return hashlib.sha256(self.tokenizer.to_str().encode()).hexdigest()[:16]


def load_encoder(directory: Path) -> SymbolicEncoder | BPEEncoder:
    """The encoder saved in a model or checkpoint folder."""
    meta_file = directory / "kgaug_tokenizer.json"
    if not meta_file.is_file():
        raise FileNotFoundError(f"{meta_file}: no kgaug tokenizer here")
    kind = json.loads(meta_file.read_text()).get("kind")
    if kind == "symbolic":
        return SymbolicEncoder.load(directory)
    if kind == "text":
        return BPEEncoder.load(directory)
    raise ValueError(f"{meta_file}: unknown tokenizer kind {kind!r}")

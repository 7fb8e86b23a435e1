"""The ``transformers`` backend with a tiny randomly initialized GPT-2 built here (no downloads)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from kgaug.records import FiveTuple
from kgaug.verbalize import get_verbalizer
from kgaug.verbalize.transformers_backend import TransformersBackend

CORPUS = [
    "What is the place of birth of the director of Roma? <a>Mexico City</a>",
    "You are a question formatting assistant. Logic: <A> -> <r1> -> <r2> -> <C>",
    "1. <Avatar; Film><director><James Cameron; Person>",
] * 5


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny-gpt2")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")
    eos = fast.convert_tokens_to_ids("<|endoftext|>")
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(fast),
        n_layer=1,
        n_head=2,
        n_embd=32,
        n_positions=192,
        bos_token_id=eos,
        eos_token_id=eos,
    )
    GPT2LMHeadModel(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path


ITEMS = [
    FiveTuple(obj1="Roma", rel1="director", obj2="X", rel2="place of birth", obj3="Mexico City"),
    FiveTuple(obj1="Avatar", rel1="director", obj2="Y", rel2="place of birth", obj3="Kapuskasing"),
]


def test_verbalize_with_local_model(tiny_model: Path, tmp_path: Path) -> None:
    v = get_verbalizer(
        "transformers", model_path=tiny_model, max_new_tokens=12, max_attempts=2,
        cache_dir=tmp_path / "cache", progress=False,
    )  # fmt: skip
    qs = v.verbalize(ITEMS)
    # a random model writes no <a> tags: every item is recorded as failed, never dropped
    assert [q.answer for q in qs] == ["Mexico City", "Kapuskasing"]
    assert [q.status for q in qs] == ["failed", "failed"]
    assert all(q.reason for q in qs)
    stats = v.last_run
    assert stats is not None
    assert stats.requests == 4  # 2 items x 2 attempts
    assert 0 < stats.completion_tokens <= 4 * 12
    assert stats.prompt_tokens > 0
    # rejected answers are not cached (issue 12): the rerun generates them again
    v.verbalize(ITEMS)
    assert v.last_run is not None
    assert (v.last_run.requests, v.last_run.cache_hits) == (4, 0)


def test_generation_is_deterministic(tiny_model: Path) -> None:
    b = TransformersBackend(tiny_model, max_new_tokens=8)
    msgs = [{"role": "user", "content": "What is the director of Roma?"}]
    one = asyncio.run(b.complete(msgs, None))
    two = asyncio.run(b.complete(msgs, None))
    assert one == two
    assert 1 <= one.completion_tokens <= 8
    sampled = TransformersBackend(tiny_model, max_new_tokens=8, temperature=1.0, seed=3)
    assert asyncio.run(sampled.complete(msgs, None)) == asyncio.run(sampled.complete(msgs, None))


def test_long_prompt_is_cut_to_the_context(tiny_model: Path) -> None:
    b = TransformersBackend(tiny_model, max_new_tokens=500)
    msgs = [{"role": "user", "content": "Roma director " * 400}]
    c = asyncio.run(b.complete(msgs, None))
    assert c.prompt_tokens + c.completion_tokens <= 192


def test_chat_template_is_used(tiny_model: Path) -> None:
    b = TransformersBackend(tiny_model)
    msgs = [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]
    plain = b._prompt_ids(msgs)
    assert b.tokenizer.decode(plain) == "system: sys\nuser: hi\nassistant:"
    b.tokenizer.chat_template = "{% for m in messages %}[{{ m['content'] }}]{% endfor %}>>"
    assert b.tokenizer.decode(b._prompt_ids(msgs)) == "[sys][hi]>>"


def test_cache_key_names_the_model_files(tiny_model: Path) -> None:
    b = TransformersBackend(tiny_model)
    assert b.model.startswith("transformers:")
    assert b.model == TransformersBackend(tiny_model).model
    assert b.cache_params() == {"temperature": 0.0, "seed": 0, "max_new_tokens": 256}


def test_bad_arguments(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="save_pretrained"):
        TransformersBackend(tmp_path / "missing")
    with pytest.raises(ValueError, match="max_new_tokens"):
        TransformersBackend(tiny_model, max_new_tokens=0)
    with pytest.raises(ValueError, match="temperature"):
        TransformersBackend(tiny_model, temperature=-1)


def test_sampling_leaves_the_global_random_state(tiny_model: Path) -> None:
    b = TransformersBackend(tiny_model, max_new_tokens=4, temperature=1.0, seed=3)
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    asyncio.run(b.complete([{"role": "user", "content": "Roma"}], None))
    assert torch.equal(torch.rand(3), expected)


def test_close_releases_the_model(tiny_model: Path, tmp_path: Path) -> None:
    with get_verbalizer(
        "transformers", model_path=tiny_model, max_new_tokens=4, max_attempts=1,
        cache_dir=tmp_path, progress=False,
    ) as v:  # fmt: skip
        v.verbalize(ITEMS[:1])
        backend = v.backend
        assert not backend.closed
    assert backend.closed and backend.lm is None and v.engine.cache.closed
    v.close()  # idempotent
    assert "closed" in repr(backend)
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(backend.complete([{"role": "user", "content": "hi"}], None))
    with pytest.raises(RuntimeError, match="closed"):
        v.verbalize(ITEMS[:1])

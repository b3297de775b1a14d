"""The lean decoding loop computes what the model's own forward computes, token for token; checking
drafts changes how many passes it takes, never what it writes; its cache buffer behaves like the
concatenating cache it replaces."""

from __future__ import annotations

import threading

import pytest

torch = pytest.importorskip("torch")

from assistant.engines.decoding import greedy  # noqa: E402
from assistant.engines.decoding.kvbuffer import RoomyLayer, with_room  # noqa: E402
from tests.fakes import tiny_qwen  # noqa: E402


def _tiny_model(dtype):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=300,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    return Qwen2ForCausalLM(config).to(dtype).eval()


def _prompt_cache(model, ids):
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    with torch.inference_mode():
        model(input_ids=ids, cache=cache, use_cache=True)
    return cache


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_a_step_gives_the_models_own_logits_and_cache(dtype):
    model = _tiny_model(dtype)
    ids = torch.tensor([[5, 17, 42, 99, 7, 250]])
    ours = with_room(_prompt_cache(model, ids[:, :-1]), room=4)
    theirs = _prompt_cache(model, ids[:, :-1])
    with torch.inference_mode():
        for position, token in enumerate([int(ids[0, -1]), 3, 120], start=ids.shape[-1] - 1):
            got = greedy._forward(model, [token], position, ours)[0].float()
            expected = model(input_ids=torch.tensor([[token]]), cache=theirs, use_cache=True).logits[0, -1].float()
            assert torch.allclose(got, expected, atol=1e-4 if dtype == torch.float32 else 3e-2)
    for a, b in zip(ours.layers, theirs.layers, strict=True):
        assert a.keys.shape == b.keys.shape
        assert torch.allclose(a.keys.float(), b.keys.float(), atol=1e-4 if dtype == torch.float32 else 3e-2)


def test_decode_matches_the_models_greedy_choice_and_stops_where_asked():
    model = _tiny_model(torch.float32)
    ids = torch.tensor([[11, 12, 13, 14]])
    cache = with_room(_prompt_cache(model, ids[:, :-1]), room=8)
    tokens = list(greedy.decode(model, ids[0].tolist(), cache, 8, stop_ids=[]))
    with torch.inference_mode():
        expected = model.generate(ids, max_new_tokens=8, do_sample=False, eos_token_id=None, pad_token_id=0)[0, 4:]
    assert tokens == expected.tolist()
    # A stop token ends the reply without being yielded; a cancelled reply stops at once.
    cache = with_room(_prompt_cache(model, ids[:, :-1]), room=8)
    stop = tokens[2]
    assert list(greedy.decode(model, ids[0].tolist(), cache, 8, stop_ids=[stop])) == tokens[: tokens.index(stop)]
    cancelled = threading.Event()
    cancelled.set()
    cache = with_room(_prompt_cache(model, ids[:, :-1]), room=8)
    assert list(greedy.decode(model, ids[0].tolist(), cache, 8, [], cancelled)) == []


def test_prompt_lookup_drafts_what_followed_the_latest_occurrence_of_the_last_tokens():
    lookup = greedy.PromptLookup([1, 2, 3, 4, 5, 9, 2, 3, 7, 8, 2, 3])
    assert lookup.draft(3) == [7, 8, 2]  # "2 3" last came before 7 8 (the first time, before 4 5)
    lookup.extend([4])
    assert lookup.draft(2) == [5, 9]  # "2 3 4" occurred once
    assert lookup.draft(0) == []
    lookup.extend([6])
    assert lookup.draft(3) == []  # "4 6" and "3 4 6" never occurred before
    assert greedy.PromptLookup([1, 2]).draft(3) == []  # the last tokens are never their own match


def _int4_model():
    """A small Qwen2 with the int4 layers the real decoder has (rows computed alike in any batch)."""
    from assistant.engines.decoding import int4

    model = tiny_qwen()
    int4.quantize_decoder(model)
    return model


def test_several_tokens_in_one_pass_get_the_logits_and_cache_of_one_token_at_a_time():
    model = _int4_model()
    ids = torch.tensor([[5, 17, 42, 99, 7, 250, 31, 64, 12]])
    together, alone = (with_room(_prompt_cache(model, ids[:, :-1]), room=4) for _ in range(2))
    tokens = [int(ids[0, -1]), 3, 120, 77]
    with torch.inference_mode():
        logits = greedy._forward(model, tokens, ids.shape[-1] - 1, together)
        singles = [greedy._forward(model, [t], ids.shape[-1] - 1 + i, alone)[0] for i, t in enumerate(tokens)]
    assert torch.equal(logits, torch.stack(singles))  # bit for bit, so drafts never change a greedy choice
    for a, b in zip(together.layers, alone.layers, strict=True):
        assert torch.equal(a.keys, b.keys) and torch.equal(a.values, b.values)


class _Oracle:
    """Drafts the true continuation with every third drafted token wrong; counts what it drafted."""

    reply: list[int] = []
    drafted = 0

    def __init__(self, tokens):
        self.tokens, self.start = list(tokens), len(tokens)

    def extend(self, tokens):
        self.tokens.extend(tokens)

    def draft(self, limit):
        done = len(self.tokens) - self.start
        guess = self.reply[done : done + limit]
        guess = [t if (done + i) % 3 != 2 else t + 1 for i, t in enumerate(guess)]
        _Oracle.drafted += len(guess)
        return guess


@pytest.mark.parametrize("max_draft", [1, 3])
def test_checking_drafts_writes_the_same_reply_in_fewer_passes(monkeypatch, max_draft):
    model = _int4_model()
    ids = torch.tensor([[11, 12, 13, 14, 15]])
    plain_cache = with_room(_prompt_cache(model, ids[:, :-1]), room=2)
    plain = list(greedy.decode(model, ids[0].tolist(), plain_cache, 12, [], max_draft=0))
    passes = []
    forward = greedy._forward
    monkeypatch.setattr(greedy, "_forward", lambda *a: passes.append(len(a[1])) or forward(*a))
    monkeypatch.setattr(greedy, "PromptLookup", _Oracle)
    _Oracle.reply, _Oracle.drafted = plain, 0
    cache = with_room(_prompt_cache(model, ids[:, :-1]), room=2)  # less room than the reply: the buffer grows
    drafted = list(greedy.decode(model, ids[0].tolist(), cache, 12, [], max_draft=max_draft))
    assert drafted == plain
    assert _Oracle.drafted > 0 and max(passes) == max_draft + 1
    assert len(passes) < len(plain)  # right drafts saved passes, wrong ones were dropped
    # The cache holds the prompt and the reply but its last token, as after plain decoding.
    assert cache.get_seq_length() == plain_cache.get_seq_length() == ids.shape[-1] - 1 + len(plain)
    for a, b in zip(cache.layers, plain_cache.layers, strict=True):
        assert torch.equal(a.keys, b.keys) and torch.equal(a.values, b.values)


def test_the_buffer_grows_past_its_room_and_keeps_every_token():
    keys, values = torch.randn(1, 2, 3, 4), torch.randn(1, 2, 3, 4)
    layer = RoomyLayer(keys, values, room=1)
    added = [torch.randn(1, 2, 1, 4) for _ in range(5)]
    for new in added:
        got_keys, got_values = layer.update(new, -new)
    assert layer.get_seq_length() == 8
    assert torch.equal(got_keys, torch.cat([keys, *added], dim=-2))
    assert torch.equal(got_values, torch.cat([values, *(-a for a in added)], dim=-2))
    layer.crop(-2)
    assert layer.get_seq_length() == 6


def test_only_the_shipped_architecture_is_supported():
    model = _tiny_model(torch.float32)
    assert greedy.supports(model)
    model.config.model_type = "llama"
    assert not greedy.supports(model)

"""The lean decoding loop computes what the model's own forward computes, token for token, and its
cache buffer behaves like the concatenating cache it replaces."""

from __future__ import annotations

import threading

import pytest

torch = pytest.importorskip("torch")

from assistant import greedy  # noqa: E402
from assistant.kvbuffer import RoomyLayer, with_room  # noqa: E402


def _tiny_model(dtype):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=300, tie_word_embeddings=False,
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
            got = greedy._step(model, token, position, ours).float()
            expected = model(input_ids=torch.tensor([[token]]), cache=theirs, use_cache=True).logits[0, -1].float()
            assert torch.allclose(got, expected, atol=1e-4 if dtype == torch.float32 else 3e-2)
    for a, b in zip(ours.layers, theirs.layers, strict=True):
        assert a.keys.shape == b.keys.shape
        assert torch.allclose(a.keys.float(), b.keys.float(), atol=1e-4 if dtype == torch.float32 else 3e-2)


def test_decode_matches_the_models_greedy_choice_and_stops_where_asked():
    model = _tiny_model(torch.float32)
    ids = torch.tensor([[11, 12, 13, 14]])
    cache = with_room(_prompt_cache(model, ids[:, :-1]), room=8)
    tokens = list(greedy.decode(model, int(ids[0, -1]), 3, cache, 8, stop_ids=[]))
    with torch.inference_mode():
        expected = model.generate(ids, max_new_tokens=8, do_sample=False, eos_token_id=None, pad_token_id=0)[0, 4:]
    assert tokens == expected.tolist()
    # A stop token ends the reply without being yielded; a cancelled reply stops at once.
    cache = with_room(_prompt_cache(model, ids[:, :-1]), room=8)
    stop = tokens[2]
    assert list(greedy.decode(model, int(ids[0, -1]), 3, cache, 8, stop_ids=[stop])) == tokens[: tokens.index(stop)]
    cancelled = threading.Event()
    cancelled.set()
    cache = with_room(_prompt_cache(model, ids[:, :-1]), room=8)
    assert list(greedy.decode(model, int(ids[0, -1]), 3, cache, 8, [], cancelled)) == []


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

"""Saved prompt-prefix KV caches: read back exactly, never trusted when damaged or from another model,
and, with the real packaged model, a slide prefix computed once serves every prompt that starts with it."""

from __future__ import annotations

from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")

from assistant.answering.assistant import Assistant, build_messages, slide_prefix  # noqa: E402
from assistant.engines.kvstore import KVStore  # noqa: E402
from assistant.engines.transformers import TransformersGenerator  # noqa: E402
from tests.conftest import kv_error  # noqa: E402
from tests.fakes import PrefixRecorder  # noqa: E402


def _layers(n: int = 3, tokens: int = 5):
    gen = torch.Generator().manual_seed(n)
    shape = (1, 2, tokens, 4)
    return [(torch.randn(shape, generator=gen), torch.randn(shape, generator=gen)) for _ in range(n)]


def test_a_saved_prefix_reads_back_exactly(tmp_path):
    store = KVStore(tmp_path, "model-a")
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    layers = _layers()
    store.save(ids, layers)
    loaded = store.load(ids)
    assert len(loaded) == 3
    for (k, v), (k2, v2) in zip(layers, loaded, strict=True):
        assert torch.equal(k, k2) and torch.equal(v, v2)


def test_other_tokens_or_another_model_find_nothing(tmp_path):
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    KVStore(tmp_path, "model-a").save(ids, _layers())
    assert KVStore(tmp_path, "model-a").load(torch.tensor([[5, 6, 7, 8, 10]])) is None
    assert KVStore(tmp_path, "model-b").load(ids) is None


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "not a tensor file"])
def test_a_damaged_prefix_file_is_not_trusted(tmp_path, damage):
    store = KVStore(tmp_path, "model-a")
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    path = store.save(ids, _layers())
    data = bytearray(path.read_bytes())
    if damage == "flipped byte":
        data[-7] ^= 0x01
    elif damage == "truncated":
        data = data[: len(data) - 40]
    else:
        data = bytearray(b"\x89PNG not a cache")
    path.write_bytes(bytes(data))
    assert store.load(ids) is None


def test_prune_keeps_only_the_prefixes_in_use(tmp_path):
    store = KVStore(tmp_path, "model-a")
    keep = store.save(torch.tensor([[1, 2]]), _layers(tokens=2))
    store.save(torch.tensor([[3, 4]]), _layers(tokens=2))
    assert store.prune({keep}) == 1
    assert [p.name for p in tmp_path.iterdir()] == [keep.name]


def test_warm_caches_one_prefix_per_slide_in_the_background(settings, embedder, shipped_index):
    recorder = PrefixRecorder()
    assistant = Assistant(settings, embedder=embedder, index=shipped_index, generator=recorder)
    worker = assistant.warm(slides="background")
    assert worker is not None and recorder.done.wait(10)
    assert len(recorder.prefixes) == len(shipped_index.chunks)
    assert assistant.warm(slides="off") is None


def test_a_cached_slide_prefix_serves_the_prompts_that_start_with_it(settings, shipped_index, tmp_path, monkeypatch):
    """Real 0.5B: computed once, read from disk by the next process, and equal to computing from scratch."""
    fast = replace(settings, model="qwen2.5-coder-0.5b")
    chunk = shipped_index.chunks[3]
    first = TransformersGenerator(fast)
    first.load()
    first._store = KVStore(tmp_path, "test")
    assert first.cache_prefix(slide_prefix(chunk)) == "computed"
    assert first.cache_prefix(slide_prefix(chunk)) == "known"
    assert len(list(tmp_path.glob("*.safetensors"))) == 1

    class _Hit:
        def __init__(self, c):
            self.chunk = c

    class _Retrieval:
        hits = [_Hit(chunk), _Hit(shipped_index.chunks[10])]

    messages = build_messages("What is on this slide?", _Retrieval(), [], context_k=2)
    ids = first.prompt_ids(messages)["input_ids"]
    prefix_length = first._prefix_ids(slide_prefix(chunk)).shape[-1]
    assert first._starts.reusable(ids).get_seq_length() >= prefix_length - 1  # the boundary token may differ

    second = TransformersGenerator(fast)
    second.load()
    second._store = KVStore(tmp_path, "test")

    def no_model_run(_ids):
        raise AssertionError("a saved prefix was computed again")

    monkeypatch.setattr(second, "_kv", no_model_run)
    assert second.cache_prefix(slide_prefix(chunk)) == "loaded"
    monkeypatch.undo()
    fresh = TransformersGenerator(replace(fast, cache_prefix=False))
    reused, computed = second.prefill(ids), fresh.prefill(ids)
    assert reused.get_seq_length() == computed.get_seq_length() == ids.shape[-1] - 1
    # Close, not equal: a start computed alone rounds differently from the whole prompt (bf16 prompts most).
    assert kv_error(reused, computed) < 0.03

"""The int4 decoder: packing is faithful, swapped layers compute what they replace, and the real
packaged model decodes through it to the same grounded answers as through fp32 weights."""

from __future__ import annotations

from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")

from assistant.engines.decoding import int4  # noqa: E402
from assistant.engines.transformers import TransformersGenerator  # noqa: E402
from tests.conftest import kv_error  # noqa: E402
from tests.fakes import logits, tiny_qwen  # noqa: E402

pytestmark = pytest.mark.skipif(not int4.supported(), reason="this PyTorch has no CPU int4 kernel")


def _q4_like(rows: int, cols: int) -> torch.Tensor:
    """A weight with 16 affine levels per group of 32 inputs, as a Q4_K GGUF stores it."""
    gen = torch.Generator().manual_seed(0)
    levels = torch.randint(0, 16, (rows, cols // 32, 32), generator=gen).float()
    step = torch.rand(rows, cols // 32, 1, generator=gen) * 0.01 + 0.001
    low = -torch.rand(rows, cols // 32, 1, generator=gen) * 0.05
    levels[..., 0], levels[..., 1] = 0, 15  # every group spans its whole range
    return (levels * step + low).reshape(rows, cols)


def test_int4_layer_matches_the_linear_layer_it_replaces():
    linear = torch.nn.Linear(256, 96, bias=True)
    with torch.no_grad():
        linear.weight.copy_(_q4_like(96, 256))
    cls = int4._int4_linear_class()
    layer = cls(256, 96, cls.pack(linear))
    x = torch.randn(3, 5, 256)
    expected = linear(x)
    got = layer(x).float()
    assert got.shape == expected.shape
    assert (got - expected).norm() / expected.norm() < 0.02  # bf16 activations and scales only


def test_int4_packing_error_is_small_on_q4_weights_and_large_on_noise_is_not_hidden():
    """The product's claim is near-lossless re-grouping of Q4 weights; plain Gaussian weights lose more."""
    eye = torch.eye(256)

    def relative_error(weight: torch.Tensor) -> float:
        packed, scales_zeros = int4._pack(weight)
        dequant = torch._weight_int4pack_mm_for_cpu(eye.bfloat16(), packed, int4.GROUP, scales_zeros).float().T
        return float((dequant - weight).norm() / weight.norm())

    q4_error = relative_error(_q4_like(64, 256))
    noise_error = relative_error(torch.randn(64, 256))
    assert q4_error < 0.02
    assert noise_error > 2 * q4_error


def test_quantize_decoder_swaps_every_block_linear_and_the_head():
    model = tiny_qwen()
    ids = torch.randint(0, 320, (1, 12))
    before = logits(model, ids)
    tensors = int4.quantize_decoder(model)
    assert len({k.rsplit(".", 1)[0] for k in tensors}) == 2 * 7 + 1  # q k v o gate up down per block, the head
    assert not any(isinstance(m, torch.nn.Linear) for m in model.modules())
    after = logits(model, ids)
    assert torch.isfinite(after).all()
    # Random (non-Q4) weights lose more than shipped ones; the logits must still agree closely.
    assert torch.nn.functional.cosine_similarity(before.flatten(), after.flatten(), dim=0) > 0.95


def test_packed_layers_are_saved_once_and_reloaded_without_packing(tmp_path, monkeypatch):
    cache = tmp_path / "int4-decoder.safetensors"
    ids = torch.randint(0, 320, (1, 12))
    first = tiny_qwen()
    assert int4.load_or_pack(first, cache, "source-a") == 15
    assert cache.is_file() and cache.with_suffix(".json").is_file()

    def no_packing(*args, **kwargs):
        raise AssertionError("packed again although a valid saved copy exists")

    monkeypatch.setattr(int4, "_pack", no_packing)
    second = tiny_qwen()
    int4.load_or_pack(second, cache, "source-a")
    assert torch.equal(logits(first, ids), logits(second, ids))


@pytest.mark.parametrize("damage", ["other source", "flipped byte", "truncated"])
def test_a_stale_or_damaged_saved_copy_is_packed_again(tmp_path, damage):
    cache = tmp_path / "int4-decoder.safetensors"
    ids = torch.randint(0, 320, (1, 12))
    reference = tiny_qwen()
    int4.load_or_pack(reference, cache, "source-a")
    source = "source-a"
    if damage == "other source":
        source = "source-b"
    else:
        data = bytearray(cache.read_bytes())
        if damage == "flipped byte":
            data[-10] ^= 0xFF  # inside the last tensor: same size, new time, checksum differs
        else:
            data = data[: len(data) // 2]
        cache.write_bytes(bytes(data))
    again = tiny_qwen()
    int4.load_or_pack(again, cache, source)
    assert torch.equal(logits(reference, ids), logits(again, ids))
    assert int4.load_or_pack(tiny_qwen(), cache, source) == 15  # and the rewritten copy is valid


@pytest.mark.parametrize("mode", ["int4", "fp32"])
def test_the_real_model_answers_from_the_slide_in_each_decode_mode(settings, mode):
    gen = TransformersGenerator(replace(settings, model="qwen2.5-coder-0.5b", decode=mode))
    slide = "[1] Midterm 2 logistics\nMidterm 2 is on Tuesday, 5:10-6:30pm, in Dwinelle 155."
    messages = [
        {"role": "system", "content": "Answer from the numbered slides only, in one sentence."},
        {"role": "user", "content": f"{slide}\n\nQuestion: Where is midterm 2?"},
    ]
    reply = "".join(gen.stream(messages, 30))
    assert "Dwinelle" in reply
    assert (gen._decoder is gen._model) == (mode == "fp32")


def test_the_real_decoder_writes_the_same_reply_with_and_without_drafts(settings, monkeypatch):
    """A reply that quotes its slide takes fewer decoder passes with drafts, and is the same to the token."""
    from assistant.engines.decoding import greedy

    gen = TransformersGenerator(replace(settings, model="qwen2.5-coder-0.5b"))
    slide = (
        "[1] Adversarial training\nAdversarial training adds adversarial examples, made with projected "
        "gradient descent, to every training batch, which makes the model robust but costs accuracy."
    )
    messages = [
        {"role": "system", "content": "Answer from the numbered slides only, quoting them."},
        {"role": "user", "content": f"{slide}\n\nQuestion: What does adversarial training add to every batch?"},
    ]
    ids = gen.prompt_ids(messages)["input_ids"]
    passes: list[int] = []
    forward = greedy._forward
    monkeypatch.setattr(greedy, "_forward", lambda *a: passes.append(len(a[1])) or forward(*a))
    replies, counts = {}, {}
    for draft in (0, 3):
        passes.clear()
        cache = gen.prefill(ids, room=40)
        replies[draft] = list(greedy.decode(gen._decoder, ids[0].tolist(), cache, 40, gen._end_ids(), max_draft=draft))
        counts[draft] = len(passes)
    assert replies[0] == replies[3]
    assert "adversarial examples" in gen._tokenizer.decode(replies[3])
    assert counts[3] < counts[0]


def test_an_unknown_decode_mode_is_a_clear_error(settings):
    from assistant.errors import AssistantError

    gen = TransformersGenerator(replace(settings, model="qwen2.5-coder-0.5b", decode="int3"))
    with pytest.raises(AssistantError, match="unknown decode mode 'int3'"):
        gen.load()


def test_common_prefix_counts_shared_leading_tokens():
    from assistant.engines.decoding.starts import common_prefix

    a = torch.tensor([[1, 2, 3, 4]])
    assert common_prefix(a, torch.tensor([[1, 2, 9, 4, 5]])) == 2
    assert common_prefix(a, torch.tensor([[1, 2, 3, 4, 5]])) == 4
    assert common_prefix(a, torch.tensor([[7]])) == 0


def test_a_shared_prompt_start_is_reused_and_gives_the_same_cache(settings):
    """The second prompt starts like the first; its reused KV equals the KV computed from scratch."""
    reuse = TransformersGenerator(replace(settings, model="qwen2.5-coder-0.5b"))
    fresh = TransformersGenerator(replace(settings, model="qwen2.5-coder-0.5b", cache_prefix=False))
    slide = "[1] Midterm 2 logistics\nMidterm 2 is on Tuesday, 5:10-6:30pm, in Dwinelle 155. One cheat sheet."
    first = [{"role": "user", "content": f"{slide}\n\nQuestion: Where is midterm 2?"}]
    second = [{"role": "user", "content": f"{slide}\n\nQuestion: Is a cheat sheet allowed?"}]
    reuse.prefill(reuse.prompt_ids(first)["input_ids"])
    ids = reuse.prompt_ids(second)["input_ids"]
    shared = reuse._starts.reusable(ids).get_seq_length()
    assert shared >= 30  # the chat header and the whole slide
    reused, computed = reuse.prefill(ids), fresh.prefill(ids)
    assert reused.get_seq_length() == computed.get_seq_length() == ids.shape[-1] - 1
    # Close, not equal: a start computed alone rounds differently from the whole prompt (bf16 prompts most).
    assert kv_error(reused, computed) < 0.03


def test_the_shortlist_head_picks_the_word_the_int8_head_picks():
    """Int4 scores choose a shortlist; the winner is re-scored with the int8 rows, as the int8 head would."""
    gen = torch.Generator().manual_seed(1)
    linear = torch.nn.Linear(64, 512, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(512, 64, generator=gen))
    cls = int4._shortlist_head_class()
    tensors = cls.pack(linear)
    head = cls(64, 512, tensors)
    hidden = torch.randn(40, 64, generator=gen).bfloat16()
    exact = (hidden.float() @ tensors["weight_int8"].float().T) * tensors["scale"].float()
    got = head(hidden[:, None, :]).float().squeeze(1)
    assert got.shape == (40, 512)
    best = exact.argmax(-1, keepdim=True)
    # The exact winner reaches the top score (scores are bf16, so a near tie may share it) ...
    assert torch.equal(got.gather(-1, best), got.max(-1, keepdim=True).values)
    assert torch.allclose(got.gather(-1, best), exact.gather(-1, best), rtol=1e-2)
    # ... while the int4 scores alone pick another word for some rows: the re-scoring matters.
    rough = torch._weight_int4pack_mm_for_cpu(hidden, tensors["packed"], int4.GROUP, tensors["scales_zeros"]).float()
    assert (rough.argmax(-1) != exact.argmax(-1)).any()


def test_the_shortlist_head_scores_each_row_as_it_would_alone():
    """Checked drafts put several rows through the head at once; each must get its one-row scores."""
    gen = torch.Generator().manual_seed(2)
    linear = torch.nn.Linear(1536, 512, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(512, 1536, generator=gen) * 0.02)
    cls = int4._shortlist_head_class()
    head = cls(1536, 512, cls.pack(linear))
    hidden = torch.randn(1, 4, 1536, generator=gen).bfloat16()
    together = head(hidden)[0]
    alone = torch.cat([head(hidden[:, i : i + 1])[0] for i in range(4)])
    assert torch.equal(together, alone)


def test_a_copy_packed_for_another_instruction_set_is_packed_again(tmp_path):
    """PyTorch's int4 layout differs between its AVX-512 and AVX2 kernels: a saved copy is only read under its own.

    The copy is packed here; a process running PyTorch's AVX2 kernels (as on most laptops, or an
    AVX-512 machine told ``ATEN_CPU_CAPABILITY=avx2``) must get the logits of layers it packed itself.
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    cache = tmp_path / "int4-decoder.safetensors"
    int4.load_or_pack(tiny_qwen(), cache, "source-a")
    code = (
        "import torch; from assistant.engines.decoding import int4; from tests.fakes import logits, tiny_qwen\n"
        "ids = torch.arange(12).view(1, 12)\n"
        "from pathlib import Path\n"
        f"saved = tiny_qwen(); int4.load_or_pack(saved, Path({str(cache)!r}), 'source-a')\n"
        "own = tiny_qwen(); int4.quantize_decoder(own)\n"
        "print('SAME' if torch.equal(logits(saved, ids), logits(own, ids)) else 'DIFFERENT')\n"
    )
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2", "PYTHONPATH": str(root)}
    run = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert run.stdout.strip().splitlines()[-1:] == ["SAME"], run.stderr[-2000:]

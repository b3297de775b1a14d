"""The prompt's weights: chosen in one place by what the CPU multiplies fast, and the same answers either way."""

from __future__ import annotations

import gc
from dataclasses import replace

import pytest

from assistant.config import Settings
from assistant.engines import transformers as generate
from assistant.engines.transformers import prefill_mode
from assistant.errors import AssistantError
from tests.conftest import kv_error


@pytest.mark.parametrize("has_bf16, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_runs_prompts_in_bf16_only_where_the_cpu_multiplies_bf16(monkeypatch, has_bf16, expected):
    monkeypatch.setattr(generate, "has_bf16_matmul", lambda: has_bf16)
    assert prefill_mode(Settings(prefill="auto")) == expected


def test_an_explicit_prefill_mode_wins_over_the_cpu(monkeypatch):
    monkeypatch.setattr(generate, "has_bf16_matmul", lambda: True)
    assert prefill_mode(Settings(prefill="fp32")) == "fp32"
    monkeypatch.setattr(generate, "has_bf16_matmul", lambda: False)
    assert prefill_mode(Settings(prefill="bf16")) == "bf16"


def test_fp32_decoding_keeps_one_fp32_copy_for_the_prompt_too(monkeypatch):
    monkeypatch.setattr(generate, "has_bf16_matmul", lambda: True)
    assert prefill_mode(Settings(prefill="bf16", decode="fp32")) == "fp32"


def test_an_unknown_prefill_mode_is_a_clear_error():
    with pytest.raises(AssistantError, match="unknown prefill mode 'fp8'"):
        prefill_mode(Settings(prefill="fp8"))


def test_the_environment_sets_the_prefill_mode(monkeypatch):
    monkeypatch.setenv("ASSISTANT_PREFILL", "fp32")
    assert Settings.from_env().prefill == "fp32"


def test_the_cpu_probe_answers_a_bool():
    pytest.importorskip("torch")
    assert isinstance(generate.has_bf16_matmul(), bool)


@pytest.fixture(scope="module")
def prompts_kv(settings):
    """The 0.5B's KV cache of one real prompt, run with fp32, bf16 and int8 prompt weights."""
    torch = pytest.importorskip("torch")
    slide = "[1] Midterm 2 logistics\nMidterm 2 is on Tuesday, 5:10-6:30pm, in Dwinelle 155. One cheat sheet."
    messages = [
        {"role": "system", "content": "Answer from the numbered slides only, in one sentence."},
        {"role": "user", "content": f"{slide}\n\nQuestion: Where is midterm 2?"},
    ]
    out = {}
    for mode in ("fp32", "bf16", "int8"):
        gen = generate.TransformersGenerator(replace(settings, model="qwen2.5-coder-0.5b", prefill=mode))
        ids = gen.prompt_ids(messages)["input_ids"]
        quantized = sum(
            type(m).__name__ == "Linear" and "quantized" in type(m).__module__ for m in gen._model.modules()
        )
        out[mode] = (gen._model.dtype, gen.prefill(ids), "".join(gen.stream(messages, 30)), quantized)
        del gen  # one extra copy of the 0.5B at a time
        gc.collect()
    return torch, out


def test_each_prefill_mode_loads_the_prompt_weights_it_names(prompts_kv):
    torch, out = prompts_kv
    assert out["fp32"][0] == torch.float32
    assert out["bf16"][0] == torch.bfloat16
    # int8: six of the seven linear maps of each of the 24 layers quantized (not the MLP's down projection)
    assert out["int8"][0] == torch.float32 and out["int8"][3] == 6 * 24 and out["fp32"][3] == 0


def test_bf16_prompt_weights_give_the_keys_and_values_of_fp32_ones(prompts_kv):
    """Close, not equal: bf16 rounds the weights and the products' inputs, and accumulates in fp32."""
    _, out = prompts_kv
    fp32, bf16 = out["fp32"][1], out["bf16"][1]
    assert fp32.get_seq_length() == bf16.get_seq_length() > 30
    assert kv_error(bf16, fp32) < 0.05


def test_int8_prompt_weights_give_keys_and_values_near_fp32_ones(prompts_kv):
    """Further than bf16: int8 rounds each weight row, and a whole input, to 256 levels."""
    _, out = prompts_kv
    fp32, int8 = out["fp32"][1], out["int8"][1]
    assert fp32.get_seq_length() == int8.get_seq_length() > 30
    assert kv_error(int8, fp32) < 0.35


def test_the_real_model_answers_from_the_slide_with_any_prompt_weights(prompts_kv):
    _, out = prompts_kv
    for mode in ("fp32", "bf16", "int8"):
        assert "Dwinelle" in out[mode][2], mode


@pytest.mark.parametrize("mode", ["fp32", "bf16"])
def test_the_prompt_weights_keep_of_the_head_only_the_judges_two_rows(settings, mode):
    """No vocabulary head and the decoder's embedding, yet the judge's P("Yes") of a whole model."""
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM

    from assistant.weights import chat_spec, require_prepared

    gen = generate.TransformersGenerator(
        replace(settings, model="qwen2.5-coder-0.5b", prefill=mode, cache_prefix=False)
    )
    slide = "[1] Midterm 2 logistics\nMidterm 2 is on Tuesday, 5:10-6:30pm, in Dwinelle 155. One cheat sheet."
    messages = [{"role": "user", "content": f"{slide}\n\nDoes slide [1] say that midterm 2 is in Dwinelle 155?"}]
    p_yes = gen.yes_probability(messages)
    ids = gen.prompt_ids(messages)["input_ids"]
    assert gen._model.lm_head is None
    assert gen._model.model.embed_tokens(ids).dtype == gen._model.dtype
    assert (gen._model.model.embed_tokens is gen._decoder.model.embed_tokens) == (mode == "bf16")
    folder = require_prepared(chat_spec("qwen2.5-coder-0.5b"), settings.cache_dir)
    whole = AutoModelForCausalLM.from_pretrained(str(folder), dtype=gen._model.dtype, local_files_only=True)
    with torch.inference_mode():
        logits = whole(input_ids=ids).logits[0, -1]
    yes, no = (gen._tokenizer.convert_tokens_to_ids(word) for word in ("Yes", "No"))
    expected = float(torch.softmax(logits[[yes, no]].float(), dim=-1)[0])
    assert 0.0 < p_yes < 1.0 and abs(p_yes - expected) < 1e-3
    del gen, whole
    gc.collect()


def test_fp32_decoding_keeps_one_whole_fp32_model(settings):
    """Where one copy writes the reply too, it keeps its head and its own embedding, in fp32."""
    torch = pytest.importorskip("torch")
    gen = generate.TransformersGenerator(
        replace(settings, model="qwen2.5-coder-0.5b", decode="fp32", cache_prefix=False)
    )
    slide = "[1] Midterm 2 logistics\nMidterm 2 is on Tuesday, 5:10-6:30pm, in Dwinelle 155. One cheat sheet."
    messages = [{"role": "user", "content": f"{slide}\n\nQuestion: Where is midterm 2? Answer in one sentence."}]
    reply = "".join(gen.stream(messages, 30))
    assert gen._decoder is gen._model and gen._model.lm_head is not None
    assert gen._model.dtype == torch.float32 and gen._model.lm_head.weight.dtype == torch.float32
    assert "Dwinelle" in reply
    del gen
    gc.collect()

"""The llama.cpp engine keeps slide prefixes as saved slot states: computed once, restored, never trusted corrupt."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from assistant.engines.base import PREFIX_END
from assistant.engines.llamacpp import LlamaCppGenerator
from assistant.engines.openai import post_json

SLIDE = "Slide 1: Calibration\n" + "A model is calibrated when its confidence matches its accuracy. " * 12
SYSTEM = {"role": "system", "content": "You answer questions about the course slides, citing them."}


@pytest.fixture()
def fast(settings, tmp_path):
    """Settings for the fast model with a private model cache (the verified GGUF linked, states kept apart)."""
    key = "qwen2.5-coder-0.5b"
    (tmp_path / key).mkdir()
    for name in ("model.gguf", "gguf.verified.json"):
        os.symlink(settings.cache_dir / key / name, tmp_path / key / name)
    return replace(settings, cache_dir=tmp_path, engine="llamacpp", model=key, threads=2)


def reused_tokens(gen: LlamaCppGenerator, messages) -> int:
    """How many prompt tokens the server took from the slot instead of computing them."""
    with gen._slot(messages) as slot:
        reply = post_json(f"{gen._root}/v1/chat/completions", {"messages": messages, "max_tokens": 1, "id_slot": slot})
    return reply["timings"]["cache_n"]


def test_a_prefix_is_computed_once_then_restored_by_the_next_process(fast):
    prefix = [SYSTEM, {"role": "user", "content": SLIDE + PREFIX_END}]
    question = [SYSTEM, {"role": "user", "content": SLIDE + "Question: what is calibration?"}]
    first = LlamaCppGenerator(fast)
    assert first.cache_prefix(prefix) == "computed" and first.cache_prefix(prefix) == "known"
    assert len(list((fast.cache_dir / "llamacpp-states").rglob("*.bin"))) == 1
    del first
    second = LlamaCppGenerator(fast)
    assert second.warm_prefixes([prefix]) == {"loaded": 1, "pruned": 0}
    assert reused_tokens(second, question) >= 100  # the slide came back from the file, not recomputed
    assert "".join(second.stream(question, 8)).strip()


def test_a_corrupt_saved_state_is_said_once_and_computed_again(fast, caplog):
    prefix = [SYSTEM, {"role": "user", "content": SLIDE + PREFIX_END}]
    LlamaCppGenerator(fast).cache_prefix(prefix)
    saved = next((fast.cache_dir / "llamacpp-states").rglob("*.bin"))
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the keys and values
    saved.write_bytes(bytes(data))
    with caplog.at_level("WARNING"):
        assert LlamaCppGenerator(fast).cache_prefix(prefix) == "computed"
    assert "unusable" in caplog.text and saved.is_file()


def test_saved_states_no_slide_uses_are_pruned(fast):
    gen = LlamaCppGenerator(fast)
    gen.cache_prefix([SYSTEM, {"role": "user", "content": SLIDE + PREFIX_END}])
    fresh = LlamaCppGenerator(fast)
    flat = fast.cache_dir / "llamacpp-states" / fast.model / "0123abcd.bin"  # where states were kept before
    flat.write_bytes(b"state")
    flat.with_suffix(".json").write_text("{}")
    other = [SYSTEM, {"role": "user", "content": SLIDE.replace("Calibration", "Robustness") + PREFIX_END}]
    assert fresh.warm_prefixes([other]) == {"computed": 1, "pruned": 2}
    assert len(list((fast.cache_dir / "llamacpp-states").rglob("*.bin"))) == 1
    assert not flat.with_suffix(".json").exists()


def test_each_number_of_slots_keeps_its_own_saved_states(fast):
    """A state saved by a one-slot server is refused by a two-slot one: switching must neither fail nor delete."""
    prefix = [SYSTEM, {"role": "user", "content": SLIDE + PREFIX_END}]
    assert LlamaCppGenerator(fast).cache_prefix(prefix) == "computed"
    two = LlamaCppGenerator(replace(fast, concurrency=2))
    assert two.warm_prefixes([prefix]) == {"computed": 1, "pruned": 0}
    question = [SYSTEM, {"role": "user", "content": SLIDE + "Question: what is calibration?"}]
    assert reused_tokens(two, question) >= 100  # restored into a slot of the two-slot server
    del two
    assert LlamaCppGenerator(fast).warm_prefixes([prefix]) == {"loaded": 1, "pruned": 0}  # the one-slot file stayed
    assert len(list((fast.cache_dir / "llamacpp-states").rglob("*.bin"))) == 2

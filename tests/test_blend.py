"""Slides reused from their saved KV caches away from the prompt's start (``engines/decoding/blend``)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.engines.decoding.blend import MIN_SPAN, Sources
from tests.conftest import kv_error


def test_spans_are_the_longest_runs_a_saved_start_holds():
    slide_a = list(range(100, 130))
    slide_b = list(range(200, 220))
    sources = Sources([([1, 2, 3, *slide_a], "a"), ([1, 2, 3, *slide_b], "b")])
    prompt = [1, 2, 3, *slide_a, 7, 8, *slide_b[:15], 9]
    spans = sources.spans(prompt, start=33)  # the first slide is the prompt's exact start: not blended
    assert [(s.start, s.length, s.source, s.source_start) for s in spans] == [(35, 15, 1, 3)]
    assert sources.spans(prompt, start=0)[0].length == 33  # from the start, slide a's whole saved prompt


def test_runs_shorter_than_the_minimum_are_computed():
    sources = Sources([(list(range(50)), None)])
    short = [999, *range(10, 10 + MIN_SPAN - 1), 999]
    assert sources.spans(short, start=0) == []
    assert len(sources.spans([999, *range(10, 10 + MIN_SPAN), 999], start=0)) == 1


@pytest.fixture(scope="module")
def blended(assistant_fast):
    """A real three-slide prompt on the 0.5B: its exact KV cache and the blended ones at three ratios."""
    from assistant.engines.decoding import blend

    assistant = assistant_fast
    gen = assistant.generator()
    question = "How is domain generalization different from subpopulation shift?"
    retrieval, _ = assistant.retrieve(question)
    from assistant.answering.prompts import slide_prefix

    for hit in retrieval.hits[:3]:
        gen.cache_prefix(slide_prefix(hit.chunk))
    ids = gen.prompt_ids(assistant.prompt(question, retrieval))["input_ids"][:, :-1]
    saved = gen._settings
    try:
        gen._settings = replace(saved, blend=0.0)
        exact = gen._kv(ids, blend=True)  # blend off: the whole prompt after its cached start
        gen._settings = replace(saved, blend=0.15)
        start = gen._starts.reusable(ids)
        sources, spans = gen._starts.spans(ids, start.get_seq_length())
        caches = {
            ratio: blend.prefill(gen._model, ids[0].tolist(), gen._starts.reusable(ids), sources, spans, ratio)
            for ratio in (0.0, 0.15, 1.0)
        }
        through_engine = gen._kv(ids, blend=True)
    finally:
        gen._settings = saved
    return ids, start.get_seq_length(), spans, exact, caches, through_engine


def test_the_later_slides_are_found_in_their_saved_prompts(blended):
    ids, done, spans, *_ = blended
    assert len(spans) == 2  # slides [2] and [3]
    assert all(span.start >= done for span in spans)
    reused = sum(span.length for span in spans)
    assert reused > 0.5 * (ids.shape[-1] - done)  # most of what follows the first slide


def test_recomputing_every_reused_token_gives_the_full_prompt_s_cache(blended):
    *_, exact, caches, _ = blended
    assert kv_error(caches[1.0], exact) < 0.02  # the same layers, other kernels: close, not equal


def test_recomputed_tokens_bring_the_cache_closer_to_the_full_prompt_s(blended):
    *_, exact, caches, through_engine = blended
    errors = [kv_error(caches[ratio], exact) for ratio in (0.0, 0.15)]
    assert errors[1] < errors[0]
    assert kv_error(through_engine, caches[0.15]) == 0.0  # the engine blends at its setting
    assert through_engine.get_seq_length() == exact.get_seq_length()


def test_the_setting_comes_from_the_environment(monkeypatch):
    from assistant.config import Settings

    monkeypatch.setenv("ASSISTANT_BLEND", "0.3")
    assert Settings.from_env().blend == 0.3


def test_an_evaluation_records_the_share_only_when_blending(settings):
    from assistant.evaluation.run import _engine_fields

    assert "blend" not in _engine_fields(replace(settings, engine="transformers", blend=0.0))
    assert _engine_fields(replace(settings, engine="transformers", blend=0.3))["blend"] == 0.3


def test_a_prompt_with_no_saved_start_blends_from_its_first_token(blended, assistant_fast):
    """Spans are found from position 0 too; the keys and values are then all blended ones."""
    from transformers import DynamicCache

    from assistant.engines.decoding import blend

    ids, _, _, exact, _, _ = blended
    gen = assistant_fast.generator()
    sources, spans = gen._starts.spans(ids, 0)
    assert spans and spans[0].start == 0
    cache = blend.prefill(gen._model, ids[0].tolist(), DynamicCache(config=gen._model.config), sources, spans, 1.0)
    assert kv_error(cache, exact) < 0.02

"""Excerpts of the supporting slides: the lines closest to the question, in slide order, within a word budget."""

from __future__ import annotations

import zlib

import numpy as np

from assistant.answering.assistant import build_messages, slide_prefix
from assistant.answering.excerpt import excerpt
from assistant.corpus.chunking import Chunk
from assistant.engines.base import PREFIX_END


def bag_of_words(texts: list[str]) -> np.ndarray:
    """A deterministic stand-in embedder: hashed lower-case words, normalised."""
    out = np.zeros((len(texts), 512), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().replace("?", " ").split():
            out[row, zlib.crc32(word.encode()) % 512] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


SLIDE = (
    "GANs are the go-to model for image generation\n"
    "Other types of models are catching up in terms of generated quality\n"
    "GANs are not density models, so there is no way to obtain probability estimates\n"
    "Metrics for evaluating GANs rely on a pretrained classifier such as Inception"
)


def test_a_slide_within_the_budget_is_kept_whole():
    assert excerpt(SLIDE, "anything", bag_of_words, words=200) == SLIDE
    assert excerpt(SLIDE, "anything", bag_of_words, words=0) == SLIDE  # 0: whole slides


def test_the_lines_closest_to_the_question_are_kept_in_slide_order():
    lines = SLIDE.splitlines()
    kept = excerpt(SLIDE, "which metrics evaluate GANs with a pretrained classifier", bag_of_words, words=15)
    assert kept == lines[3]
    question = "metrics evaluating pretrained classifier Inception, and density models probability estimates"
    two = excerpt(SLIDE, question, bag_of_words, words=28)
    assert two == f"{lines[2]}\n{lines[3]}"  # in slide order
    assert sum(len(line.split()) for line in two.splitlines()) <= 28


def test_the_best_line_is_cut_rather_than_dropped_when_it_alone_is_too_long():
    kept = excerpt(SLIDE, "probability estimates of density models", bag_of_words, words=5)
    assert kept == "GANs are not density models, …"


def chunk(slide: int, title: str, text: str) -> Chunk:
    return Chunk(
        id=f"d#{slide}",
        slide_id=f"d#{slide}",
        deck="d",
        deck_title="Deck",
        section="S",
        slide=slide,
        title=title,
        text=text,
        source="d.md",
    )


class _Hit:
    def __init__(self, c: Chunk) -> None:
        self.chunk = c


def test_the_prompt_keeps_the_first_slide_whole_and_shows_excerpts_of_the_others():
    first, second = chunk(1, "GANs summary", SLIDE), chunk(2, "VAEs summary", "VAEs give a lower bound\nMore text")

    class _Retrieval:
        hits = [_Hit(first), _Hit(second)]

    messages = build_messages("Q?", _Retrieval(), [], context_k=2, texts=["VAEs give a lower bound"])
    user = messages[-1]["content"]
    opening = slide_prefix(first)[1]["content"].split(PREFIX_END)[0]
    assert user.startswith(opening)  # the cached start of the first slide still applies
    assert "[2] VAEs summary\nVAEs give a lower bound\n" in user and "More text" not in user
    assert "More text" in build_messages("Q?", _Retrieval(), [], context_k=2)[-1]["content"]

"""A misspelt question searches as the slides spell it (unit rules, then the real index and embedder)."""

from __future__ import annotations

import pytest

from assistant.answering.assistant import GATE
from assistant.retrieval.hybrid import Retriever
from assistant.retrieval.spelling import Speller

SLIDES = ["Invariant feature learning", "Temperature scaling calibrates the classifier", "the latter"]


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("what is invarient feature lerning", "what is invariant feature learning"),  # a changed, a missing letter
        ("does temprature scaling help", "does temperature scaling help"),
        ("Calibartes?", "Calibrates?"),  # two letters swapped; the case as typed is not kept
        ("does it matter", "does it matter"),  # an English word one edit from the slides' "latter"
        ("lerning", "learning"),
        ("lern", "lern"),  # a short word: too often one edit from another word
    ],
)
def test_a_word_no_slide_or_dictionary_knows_takes_the_slide_word_one_edit_away(typed, read):
    assert Speller(SLIDES, known={"matter", "does", "what", "help"}).correct(typed).lower() == read.lower()


def test_a_word_with_two_slide_words_one_edit_away_is_left_as_typed():
    assert Speller(["rotation", "rotating"], known={"the"}).correction("rotatin") == "rotatin"


def test_without_a_dictionary_no_word_is_corrected():
    assert Speller(["latter", "learning"]).correct("does lerning matter") == "does lerning matter"
    assert Speller(["latter", "learning"], known={"does"}).correct("does lerning") == "does learning"


def test_the_embedders_dictionary_keeps_english_words_from_being_corrected(embedder):
    words = embedder.words()
    assert {"matter", "making", "things"} <= words and "lerning" not in words


def test_a_misspelt_question_finds_the_slide_and_passes_the_gate_as_spelt_right(shipped_index, embedder):
    retriever = Retriever(shipped_index, embedder)
    right = retriever.search("how does temperature scaling calibrate a classifier", 3)
    typed = retriever.search("how does temprature scalling calibrate a clasifier", 3)
    assert typed.hits[0].chunk.slide_id == right.hits[0].chunk.slide_id
    assert typed.answerability >= GATE and typed.answerability == pytest.approx(right.answerability, abs=0.02)
    assert typed.query == "how does temprature scalling calibrate a clasifier"  # the student's words are kept

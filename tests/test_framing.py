"""Search reads what a question asks about: exam framing aside, a slide's names counted (real index)."""

from __future__ import annotations

import pytest

from assistant.answering.assistant import GATE
from assistant.retrieval import hybrid
from assistant.retrieval.framing import names_on, slide_names, topical
from assistant.retrieval.hybrid import Retriever


@pytest.mark.parametrize(
    ("question", "searched"),
    [
        ("which GAN metrics should I know for the midterm?", "which GAN metrics should I know?"),
        ("is beam search fair game for midterm 2?", "is beam search fair game?"),
        ("difference between BERT and MAE, is that on the exam?", "difference between BERT and MAE, is that?"),
        ("what's on the midterm?", "what's on the midterm?"),  # the exam is the topic
        ("what is test time adaptation for?", "what is test time adaptation for?"),
        ("is this the last lecture before the midterm?", "is this the last lecture before the midterm?"),
    ],
)
def test_exam_framing_is_left_out_of_the_search_only_when_a_topic_remains(question, searched):
    assert topical(question).replace(" ?", "?") == searched


def test_names_are_words_a_slide_writes_as_names():
    names = slide_names("- Be familiar with GPT-3, Gopher, Chinchilla, and PaLM\nDataset\tiWildCam\tCamelyon17")
    assert {"gpt-3", "gopher", "chinchilla", "palm", "camelyon17"} <= names
    assert "be" not in names and "familiar" not in names  # a line's first word is capitalised anyway
    assert names_on("what is chinchilla", names, rare={"chinchilla"}) == ["chinchilla"]
    assert names_on("what is chinchilla", names, rare=set()) == []  # on many slides: not a name that decides


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("which adversarial attacks should i review for the midterm", "Adversarial robustness"),
        ("which large language models do i need to know for the exam", "Massive models"),
    ],
)
def test_a_question_framed_for_the_exam_finds_its_topic(shipped_index, embedder, question, title):
    hits = Retriever(shipped_index, embedder).search(question, 3).hits
    assert title in [h.chunk.title for h in hits]


def test_a_name_only_one_slide_holds_passes_the_gate(shipped_index, embedder, monkeypatch):
    retriever = Retriever(shipped_index, embedder)
    named = retriever.search("what is PaLM", 3)
    assert named.hits[0].chunk.title == "Massive models"
    assert named.answerability >= GATE
    for question in ("explain GPT-4 to me", "what is Llama 2"):  # names no slide holds
        assert retriever.search(question, 3).answerability < GATE
    monkeypatch.setattr(hybrid, "NAME_LIFT", 0.0)
    assert Retriever(shipped_index, embedder).search("what is PaLM", 3).answerability < GATE


def test_a_question_about_the_exam_itself_stays_as_answerable(shipped_index, embedder):
    found = Retriever(shipped_index, embedder).search("how big can the cheat sheet for midterm 2 be?", 3)
    assert found.hits[0].chunk.title == "Midterm 2 logistics" and found.answerability >= GATE

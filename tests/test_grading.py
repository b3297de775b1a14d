"""Grading: exact choices for MCQ/TF, banded evidence for short answers, "unsure" when the evidence is split.

The short-answer cases are the calibration set for the bands in ``assistant.grading``; they need the
packaged MiniLM embedder (seconds to load). Choice parsing and the lexical-only path need nothing.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.errors import AssistantError
from assistant.practice.grading import UNSURE, contradiction, grade, parse_choice
from assistant.practice.items import PracticeItem, SlideRef

SOURCE = [
    SlideRef("cs182-lecture24-midterm2-review#31", "Adversarial training (AT)", "Lecture 24: Midterm 2 review", 31)
]
AT = PracticeItem(
    "What is the main downside of adversarial training?",
    "short",
    [],
    "it can reduce accuracy on clean examples by 10% or more",
    "AT can reduce accuracy on non-adversarial (clean) examples by 10%+.",
    SOURCE,
)
MAE = PracticeItem(
    "What fraction of image patches does MAE mask out during training?",
    "short",
    [],
    "75% of image patches",
    "Masking out parts of the input, e.g. 75% of image patches, and predicting them is an effective approach.",
    [],
)
DOMAIN = PracticeItem(
    "What does domain adaptation assume about the training data?",
    "short",
    [],
    "abundant data from a source domain and only a little data from the target domain",
    "Domain adaptation assumes abundant training data from a source domain and a small amount from the target.",
    [],
)
MCQ = PracticeItem(
    "What is the best known way to make models robust to lp attacks?",
    "mcq",
    ["Dropout", "Adversarial training", "Weight decay", "10"],
    "Adversarial training",
    "Adversarial training is the best way we know of to robustify models to lp attacks.",
    SOURCE,
)
TF_TRUE = PracticeItem("Adversarial training can reduce clean accuracy.", "tf", ["True", "False"], "True", "E.", SOURCE)
TF_FALSE = PracticeItem("GANs are density models.", "tf", ["True", "False"], "False", "They are not.", [])


@pytest.fixture(scope="module")
def assistant():
    """Just what grading uses: the packaged embedder and the index (for the source slide's text)."""
    from assistant.config import Settings
    from assistant.corpus.index import load
    from assistant.retrieval.embed import SentenceTransformerEmbedder
    from assistant.weights import embedder_spec

    settings = Settings.from_env()
    try:
        embedder = SentenceTransformerEmbedder(embedder_spec(settings.embedder), settings.cache_dir, settings.threads)
        embedder.embed(["warm"])
        index = load(Path(settings.index_dir))
    except AssistantError as err:
        pytest.skip(f"embedder or index unavailable: {err}")
    return SimpleNamespace(embedder=embedder, index=index)


# --- multiple choice and true/false ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "response",
    [
        "B",
        "b",
        "(B)",
        "B.",
        "b) adversarial training",
        "2",
        "Adversarial training",
        "adversarial training.",
        "The answer is B",
        "option b",
    ],
)
def test_mcq_correct_choices(response):
    result = grade(MCQ, response)
    assert result.verdict == "correct", response
    assert result.key == "B. Adversarial training" and result.source == SOURCE and result.explanation


@pytest.mark.parametrize("response", ["A", "c", "3", "Dropout", "d"])
def test_mcq_wrong_choices(response):
    result = grade(MCQ, response)
    assert result.verdict == "incorrect" and "B. Adversarial training" in result.reason


def test_mcq_option_text_wins_over_an_index():
    # "10" is the text of option D; it is not read as an index
    assert parse_choice(MCQ, "10") == 3
    assert parse_choice(MCQ, "4") == 3
    assert parse_choice(MCQ, "a transformer") is None  # a word starting with "a" is not the letter A


def test_mcq_unrecognised_and_empty_answers():
    assert grade(MCQ, "E").verdict == "unsure"
    assert grade(MCQ, "something else entirely").verdict == "unsure"
    for empty in ("", "   ", "\n"):
        result = grade(MCQ, empty)
        assert (result.verdict, result.reason) == ("incorrect", "no answer given")


@pytest.mark.parametrize("response", ["true", "True", "T", "yes", "y", "A", "1", "correct"])
def test_tf_true_variants(response):
    assert grade(TF_TRUE, response).verdict == "correct"
    assert grade(TF_FALSE, response).verdict == "incorrect"


@pytest.mark.parametrize("response", ["false", "FALSE", "f", "no", "n", "B", "2"])
def test_tf_false_variants(response):
    assert grade(TF_FALSE, response).verdict == "correct"
    assert grade(TF_TRUE, response).verdict == "incorrect"


# --- short answers -------------------------------------------------------------------------------------------------

SHORT_CASES = [
    (AT, "correct", "It can reduce accuracy on clean examples by 10% or more"),
    (AT, "correct", "It lowers accuracy on clean examples by 10% or more"),
    (AT, "correct", "clean accuracy drops by 10% or more"),
    (AT, "partly correct", "it reduces clean accuracy"),  # the number is missing
    (AT, "partly correct", "accuracy on clean examples gets worse"),
    (AT, "partly correct", "it reduces accuracy on clean examples by about 5%"),  # numbers must match exactly
    (AT, "incorrect", "it makes training faster"),
    (AT, "incorrect", "it needs a lot of labelled data"),
    (AT, "incorrect", "overfitting to the training set"),
    (AT, "incorrect", "I don't know"),
    (AT, "unsure", "it increases accuracy on clean examples"),  # on topic, close in meaning, opposite in fact
    (AT, "unsure", "accuracy on non-adversarial inputs can go down by 10%+"),  # right, but in other words
    (MAE, "correct", "75%"),
    (MAE, "correct", "75 percent of the patches"),
    (MAE, "incorrect", "15%"),
    (MAE, "incorrect", "half of them"),
    (MAE, "unsure", "most of the patches"),
    (DOMAIN, "correct", "lots of source-domain data and a small amount of target-domain data"),
    (DOMAIN, "unsure", "there is a source domain and a target domain"),
    (DOMAIN, "incorrect", "that test data comes from the same distribution as training"),
    (DOMAIN, "incorrect", "several domains with group labels"),
]


@pytest.mark.parametrize(("item", "expected", "response"), SHORT_CASES)
def test_short_answer_verdicts(assistant, item, expected, response):
    result = grade(item, response, assistant)
    assert result.verdict == expected, (response, result.signals)
    assert result.key == item.answer
    if expected == "unsure":
        assert result.reason.startswith(UNSURE)


def test_short_answer_empty(assistant):
    result = grade(AT, "  ", assistant)
    assert (result.verdict, result.reason, result.key) == ("incorrect", "no answer given", AT.answer)


def test_short_answer_without_an_embedder_is_stricter():
    assert grade(AT, "It can reduce accuracy on clean examples by 10% or more").verdict == "correct"
    assert grade(AT, "it makes training faster").verdict == "incorrect"
    assert grade(AT, "it reduces accuracy on clean examples").verdict == "partly correct"
    assert grade(AT, "accuracy on clean examples").verdict == "partly correct"
    assert grade(AT, "something about clean examples").verdict == "unsure"


def test_contradiction_words():
    assert contradiction("it increases accuracy", AT.answer) == "increases"
    assert contradiction("it reduces clean accuracy", AT.answer) is None
    assert contradiction("it does not reduce accuracy", AT.answer) == "not"
    assert contradiction("larger models need more samples", "larger models need fewer samples") == "more"

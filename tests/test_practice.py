"""Practice questions: the parser and every check on hand-made good and bad items, then one real-model run.

The hand-made items are the calibration set for the thresholds in ``assistant.practice_checks``:
each bad item is a failure seen (or expected) from a small model, each good one a paraphrase that
must survive. Lexical-only cases run everywhere; cases that need the embedder load MiniLM (seconds);
the ``slow`` test generates 15 MCQs with the default chat model (tens of minutes on 2 cores).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import time
from collections import Counter

import pytest

from assistant.corpus.chunking import Chunk
from assistant.errors import AssistantError
from assistant.practice.checks import (
    REASONS,
    check_distractors,
    check_duplicate_options,
    check_duplicate_question,
    check_is_question,
    check_item,
    check_key_in_question,
    check_key_stands_out,
    check_mcq_shape,
    check_self_check,
    check_self_contained,
    check_slide_question,
    check_supported,
    extract_json,
    json_complete,
    parse_letter,
    parse_reply,
)
from assistant.practice.sets import (
    PracticeItem,
    PracticeSet,
    build_messages,
    export_anki_csv,
    export_json,
    resolve_section,
    run_terminal_quiz,
    sections,
    spread,
    statement,
    to_item,
    usable,
)

log = logging.getLogger(__name__)

AT_SLIDE = (
    "Adversarial training (AT)\n"
    "The best way (we know of) to robustify models to lp attacks is adversarial training (AT)\n"
    "A common AT procedure is as follows:\n"
    "Sample minibatch from the training set\n"
    "Create x_adv (e.g., x_PGD) from x for all i\n"
    "Optimize the average training loss on these adversarial training examples\n"
    "This does come with some downsides: currently, AT can reduce accuracy on non adversarial (clean) examples by 10%+"
)
GAN_SLIDE = (
    "GANs summary\n"
    "GANs are the go-to model for image generation\n"
    "However, GANs are not density models, and there is not really a way to obtain probability estimates of data "
    "points from a GAN\n"
    "Metrics for evaluating GANs usually rely on inputting generated images into a pretrained classifier (e.g., "
    "Inception and FID scores), but this is contentious"
)
SOURCE = [{"id": "deck#31", "title": "Adversarial training (AT)", "deck": "Lecture 24", "slide": 31}]


def mcq(question: str, options: list[str], answer: str, explanation: str) -> PracticeItem:
    return PracticeItem(question, "mcq", options, answer, explanation, SOURCE)


GOOD_MCQ = mcq(
    "What is the best known way to make models robust to lp attacks?",
    ["Adversarial training", "Dropout", "Weight decay", "Early stopping"],
    "Adversarial training",
    "Adversarial training is the best way we know of to robustify models to lp attacks.",
)


def chunk(slide: int, section: str, title: str, text: str) -> Chunk:
    return Chunk(f"d#{slide}", f"d#{slide}", "d", "Deck", section, slide, title, text, "d.md")


# --- parsing -------------------------------------------------------------------------------------------------

FENCED = """```json
{"question": "What is {x}?", "options": ["a", "b", "c", "d"], "answer_index": 2, "explanation": "Because."}
```"""


def test_parser_reads_fenced_json_with_braces_inside_strings():
    data = parse_reply(FENCED, "mcq")
    assert data == {"question": "What is {x}?", "options": ["a", "b", "c", "d"], "answer_index": 2,
                    "explanation": "Because."}


def test_parser_takes_the_first_object_and_ignores_trailing_text():
    text = 'Sure! {"question": "Q?", "answer": true, "explanation": "E."} I hope this helps {"x": 1}'
    assert parse_reply(text, "tf") == {"question": "Q?", "answer": True, "explanation": "E."}
    assert extract_json('{"a": 1} {"b": 2}') == {"a": 1}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I cannot write a question about this.",
        '{"question": "Q?", "options": ["a", "b", "c", "d"], "answer_index": 1, "explanation": "cut off',  # truncated
        "{'question': 'Q?'}",  # Python, not JSON
        '{"question": "Q?", "options": ["a", "b", "c", "d"], "answer_index": 1,}',  # trailing comma
        '{"question": "", "options": ["a", "b", "c", "d"], "answer_index": 1, "explanation": "E."}',
        '{"question": "Q?", "options": "a, b, c, d", "answer_index": 1, "explanation": "E."}',
        '{"question": "Q?", "options": ["a", "b", "c", "d"], "answer_index": "B", "explanation": "E."}',
        '{"question": "Q?", "options": ["a", "b", "c", "d"], "answer_index": true, "explanation": "E."}',
        '{"question": "Q?", "options": ["a", "b", "c", "d"], "answer_index": 1}',  # no explanation
        "[1, 2, 3]",
    ],
)
def test_parser_rejects_malformed_mcq(text):
    assert parse_reply(text, "mcq") is None


def test_parser_reads_the_compact_mcq_form_and_quotes_the_slide_for_it():
    from assistant.practice.sets import quote_slide, with_wrong_options

    reply = ('```json\n{"question": "What is the best known way to robustify models to lp attacks?", '
             '"answer": "Adversarial training", "wrong": ["Dropout", "Adversarially trained models", "Weight decay", '
             '"Early stopping"]}\n```')
    data = parse_reply(reply, "mcq")
    assert data["answer"] == "Adversarial training" and len(data["wrong"]) == 4 and data["explanation"] == ""
    c = chunk(31, "S", "Adversarial training (AT)", AT_SLIDE)
    built = with_wrong_options(data["question"], data["answer"], data["wrong"], "E.", c)
    assert built["options"] == ["Adversarial training", "Dropout", "Weight decay", "Early stopping"]  # rewording out
    assert check_mcq_shape(built) is None
    explanation = quote_slide(c, data["question"], data["answer"])
    assert explanation.startswith('The slides: "The best way (we know of) to robustify models')
    short = with_wrong_options("Q?", "Adversarial training", ["Adversarial training", "Dropout"], "E.", c)
    assert check_mcq_shape(short) == "mcq_shape"  # two wrong answers in all
    assert parse_reply('{"question": "Q?", "answer": "A", "wrong": "B"}', "mcq") is None
    assert parse_reply('{"question": "Q?", "answer": true, "wrong": ["B", "C", "D"]}', "mcq") is None

def test_parser_reads_latex_copied_into_json_strings():
    # a real 1.5B reply: "\\ell" is no JSON escape, but the item is fine
    reply = '{"question": "What is the best way to robustify models to $\\ell_p$ attacks?", "answer": "AT", ' \
            '"wrong": ["Dropout", "Pruning", "Distillation"]}'
    data = parse_reply(reply, "mcq")
    assert data is not None and data["question"] == "What is the best way to robustify models to $\\ell_p$ attacks?"
    assert extract_json('{"a": "\\u12"}') is None  # a broken escape of JSON's own stays an error
    # LaTeX commands that begin like JSON escapes: "\\theta" is not a tab and "heta"
    assert extract_json('{"a": "-max_k p_\\theta(y = k \\mid x) = \\frac{1}{2}"}') == {
        "a": "-max_k p_\\theta(y = k \\mid x) = \\frac{1}{2}"}
    assert extract_json('{"a": "tab\\t, line\\n2, \\\\theta, \\"q\\""}') == {"a": 'tab\t, line\n2, \\theta, "q"'}


def test_parser_types_for_tf_and_short():
    assert parse_reply('{"question": "S.", "answer": "False", "explanation": "E."}', "tf")["answer"] is False
    assert parse_reply('{"question": "S.", "answer": "maybe", "explanation": "E."}', "tf") is None
    assert parse_reply('{"question": "Q?", "answer": 75, "explanation": "E."}', "short")["answer"] == "75"
    assert parse_reply('{"question": "Q?", "answer": "", "explanation": "E."}', "short") is None


def test_json_complete_tracks_balance_outside_strings():
    assert not json_complete('```json\n{"question": "a } b", "x": {')
    assert json_complete('```json\n{"question": "a } b", "x": {}}')


# --- shape and options ----------------------------------------------------------------------------------------


def _data(options: list[str], index: object) -> dict:
    return {"question": "Q?", "options": options, "answer_index": index, "explanation": "E."}


def test_mcq_shape_rejects_three_options_two_keys_and_bad_index():
    assert check_mcq_shape(_data(["a", "b", "c"], 0)) == "mcq_shape"
    assert check_mcq_shape(_data(["a", "b", "c", "d", "e"], 0)) == "mcq_shape"
    assert check_mcq_shape(_data(["a", "b", "c", "d"], [0, 2])) == "mcq_shape"  # two correct options
    assert check_mcq_shape(_data(["a", "b", "c", "d"], 4)) == "mcq_shape"
    assert check_mcq_shape(_data(["a", "b", "c", "d"], -1)) == "mcq_shape"
    assert check_mcq_shape(_data(["a", "", "c", "d"], 0)) == "mcq_shape"
    assert check_mcq_shape(_data(["a", "b", "c", "d"], 3)) is None
    assert check_mcq_shape(_data(["a", "b", "c", "d"], [1])) is None


@pytest.mark.parametrize(
    "options",
    [
        ["Adversarial training", "adversarial training.", "Dropout", "Weight decay"],  # equal after normalization
        ["Mixup", "Mixup and CutMix", "Dropout", "Weight decay"],  # short option inside another
        ["The model's confidence", "Model confidence", "Dropout", "Weight decay"],  # article and case only
        ["Contradiction, neutrality, or entailment", "Entailment, neutrality, or contradiction", "Yes", "No"],
        ["Training larger models on larger datasets", "Training larger models on large datasets", "GELU", "Cutout"],
        ["Adversarial training", "Training models adversarially", "Dropout", "Weight decay"],  # word forms
        ["True", "Partially true", "False", "Partially false"],  # half right is not a distractor
        ["To predict contradictions", "To predict contradictions and entailment", "To rank", "To parse"],
    ],
)
def test_duplicate_options_are_rejected(options):
    item = mcq("Which technique improves robustness?", options, options[0], "E.")
    assert check_duplicate_options(item) == "duplicate_options"


def test_distinct_options_pass_even_when_they_differ_by_one_word():
    item = mcq("What do larger models need to reach the same performance?",
               ["Fewer samples", "More samples", "More GPUs", "Longer training"], "Fewer samples", "E.")
    assert check_duplicate_options(item) is None
    long_flips = ["To make the model output similar features for source and target data",
                  "To make the model output different features for source and target data",
                  "To make the model output similar features for the source data only",
                  "To make the model output similar features for the target data only"]
    flips = mcq("What is invariant feature learning for?", long_flips, long_flips[0], "E.")
    assert check_duplicate_options(flips) is None
    assert check_duplicate_options(GOOD_MCQ) is None


AR_SLIDE = (
    "Autoregressive models summary\n"
    "Autoregressive models offer best in class modeling performance, both in terms of generation and likelihood\n"
    "GANs are still superior when it comes to image generation\n"
    "Lastly, autoregressive models do not naturally provide a notion of a latent space, so they are not used for "
    "representation learning"
)


def test_distractor_that_the_slide_states_is_rejected():
    # a real 1.5B output: the "wrong" option D is a true bullet of the slide, so the item has two keys
    item = mcq("What is a key advantage of autoregressive models?",
               ["Best in class likelihood", "They are superior to GANs in image generation", "They need no GPU",
                "They are not used for representation learning"], "Best in class likelihood", "E.")
    assert check_distractors(item, AR_SLIDE) == "distractor_on_slide"


def test_distractor_that_contradicts_the_slide_passes():
    item = mcq("Why are autoregressive models not used for representation learning?",
               ["They provide no natural latent space", "They are used for representation learning",
                "They are superior to GANs in image generation", "They are fast to sample from"],
               "They provide no natural latent space", "E.")
    assert check_distractors(item, AR_SLIDE) is None  # the slide negates the run ("not used for ...")
    assert check_distractors(GOOD_MCQ, AT_SLIDE) is None



SUBPOP_SLIDE = (
    "Subpopulation shift\n"
    "In subpopulation shift, we assume several training domains rather than just two\n"
    "Domains are also referred to as groups or subpopulations in this context\n"
    "The key challenge is that some domains are underrepresented in the training data"
)


def test_a_short_distractor_from_the_keys_own_line_is_a_second_key():
    # a real 1.5B item: "Groups" is as right as "Subpopulations"
    item = mcq("What term describes domains in subpopulation shift?",
               ["Subpopulations", "Groups", "Clusters", "Batches"], "Subpopulations", "E.")
    assert check_distractors(item, SUBPOP_SLIDE) == "distractor_on_slide"
    fair = mcq(item.question, ["Subpopulations", "Clusters", "Batches", "Shards"], "Subpopulations", "E.")
    assert check_distractors(fair, SUBPOP_SLIDE) is None
    # a word of the key's line that the question itself uses is no second answer
    asked = mcq("What are domains also referred to as?", ["Groups", "Domains", "Clusters", "Batches"], "Groups", "E.")
    assert check_distractors(asked, SUBPOP_SLIDE) is None


def test_a_key_much_longer_than_every_wrong_option_gives_itself_away():
    long_key = "Determining if a premise and a hypothesis are related through contradiction or entailment"
    item = mcq("What is natural language inference?", [long_key, "Sentiment analysis", "Translation", "Parsing"],
               long_key, "E.")
    assert check_key_stands_out(item) == "key_stands_out"
    assert check_key_stands_out(GOOD_MCQ) is None
    even = mcq(item.question, [long_key, "Predicting the next word of a sentence from all the words before it",
                               "Translation", "Parsing"], long_key, "E.")
    assert check_key_stands_out(even) is None


def test_a_question_that_holds_its_key_is_rejected():
    # a real 1.5B item that passed every other check
    item = mcq("What is another concept related to the reliability of models, not tied to distribution shift, "
               "is model calibration?", ["Calibration", "Model validation", "Model selection", "Model optimization"],
               "Calibration", "E.")
    assert check_key_in_question(item) == "key_in_question"
    assert check_key_in_question(GOOD_MCQ) is None
    partly = mcq("What robustifies models trained on clean data?", ["Adversarial training", "Dropout", "Pruning",
                                                                     "Distillation"], "Adversarial training", "E.")
    assert check_key_in_question(partly) is None  # "training" alone does not give "adversarial training" away


def test_a_statement_is_not_a_question():
    copied = mcq("Specifically, use the negative max softmax probability as the anomaly score",
                 GOOD_MCQ.options, GOOD_MCQ.answer, "E.")
    assert check_is_question(copied) == "not_a_question"
    assert check_is_question(GOOD_MCQ) is None
    statement = PracticeItem("AT can reduce clean accuracy by 10% or more.", "tf", ["True", "False"], "True", "E.", [])
    assert check_is_question(statement) is None  # true/false items are statements

# --- self-contained -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "According to the slide, what is the best way to robustify models?",
        "What does this slide say about adversarial training?",
        "Which method is described in the text above?",
        "Based on the passage, what reduces clean accuracy?",
        "What is shown above?",
        "In the figure, which curve is the training loss?",
        "What is similar about these models?",  # a real 1.5B output: which models?
        "Why do those approaches fail?",
        "What type of data are the features x in the given problem setup?",  # a real 1.5B output
    ],
)
def test_questions_that_point_at_the_slide_are_rejected(question):
    item = mcq(question, GOOD_MCQ.options, GOOD_MCQ.answer, GOOD_MCQ.explanation)
    assert check_self_contained(item) == "not_self_contained"


@pytest.mark.parametrize(
    ("options", "answer"),
    [
        (["Adversarial training", "Dropout", "Weight decay", "All of the above"], "All of the above"),  # as the key
        (["Adversarial training", "Dropout", "Both of the above", "Weight decay"], "Adversarial training"),
        (["Adversarial training", "Dropout", "Both A and B", "Weight decay"], "Adversarial training"),
        (["Adversarial training", "Dropout", "As shown above", "Weight decay"], "Adversarial training"),
    ],
)
def test_options_that_point_at_other_options_are_rejected(options, answer):
    assert check_self_contained(mcq(GOOD_MCQ.question, options, answer, "E.")) == "not_self_contained"


def test_none_of_the_above_is_allowed_as_a_wrong_option_and_kept_last():
    c = chunk(31, "S", "Adversarial training (AT)", AT_SLIDE)
    for n in range(10):
        data = {"question": f"Q{n}?", "options": ["None of the above", "right", "w1", "w2"], "answer_index": 1,
                "explanation": "E."}
        item = to_item(data, "mcq", c)
        assert item.options[-1] == "None of the above" and item.answer == "right"
        assert check_self_contained(item) is None


def test_a_question_about_what_the_slide_states_is_reworded_to_stand_alone():
    from assistant.practice.checks import reword_slide_reference

    reworded = reword_slide_reference("What does the slide state about transferability of attacks?")
    assert reworded == "Which statement about transferability of attacks is true?"
    assert check_self_contained(mcq(reworded, GOOD_MCQ.options, GOOD_MCQ.answer, "E.")) is None
    for question in ["What is the main point of the slide?", "What is adversarial training?"]:
        assert reword_slide_reference(question) == question


def test_self_contained_question_passes():
    assert check_self_contained(GOOD_MCQ) is None
    for question in ["What is the purpose of masking out parts of the input and predicting these parts?",
                     "Which of these models has the most parameters?", "Which of these is a generative model?"]:
        assert check_self_contained(mcq(question, GOOD_MCQ.options, GOOD_MCQ.answer, "E.")) is None, question
    assert check_self_contained(mcq("What fraction of the image patches does MAE mask?", ["75%", "15%", "50%", "25%"],
                                    "75%", "E.")) is None


SEQ_SLIDE = ("Sequential outputs\nThis is what our RNN will look like for \u201csequence input, single output\u201d\n"
             "What about sequence output? Just have an output at every layer\n"
             "How do these models typically solve new tasks?")


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("What about sequence output?", "slide_question"),  # a real 1.5B item that got a wrong key
        ("How do these models typically solve new tasks?", "slide_question"),
        ("How do large models typically solve new tasks?", "slide_question"),  # reworded a little
        ("How does chain-of-thought prompting solve new tasks?", None),  # a question of its own
        ("What does an RNN output for sequence output?", None),
    ],
)
def test_a_question_the_slide_asks_is_rejected(question, reason):
    assert check_slide_question(mcq(question, GOOD_MCQ.options, GOOD_MCQ.answer, "E."), SEQ_SLIDE) == reason


# --- support ---------------------------------------------------------------------------------------------------


def test_key_from_the_slide_is_supported():
    assert check_supported(GOOD_MCQ, AT_SLIDE) is None
    item = mcq("By how much can adversarial training reduce clean accuracy?", ["10% or more", "1%", "50%", "0%"],
               "10% or more", "AT can reduce accuracy on non-adversarial (clean) examples by 10%+.")
    assert check_supported(item, AT_SLIDE) is None


@pytest.mark.parametrize(
    ("answer", "explanation"),
    [
        ("Dropout regularization", "Dropout prevents co-adaptation of neurons and improves robustness."),
        # the explanation is copied from the slide, the key is not: the key alone must be supported too
        ("Weight decay", "The best way to robustify models to lp attacks is adversarial training."),
        ("20% or more", "AT can reduce accuracy on clean examples by 20%."),  # a number not on the slide
    ],
)
def test_key_not_on_the_slide_is_rejected(answer, explanation):
    item = mcq("What is the best way to robustify models?", [answer, "a", "b", "c"], answer, explanation)
    assert check_supported(item, AT_SLIDE) == "unsupported_key"


def test_false_tf_statement_is_checked_through_its_explanation():
    good = PracticeItem("GANs are density models.", "tf", ["True", "False"], "False",
                        "GANs are not density models: there is no way to obtain probability estimates from a GAN.", [])
    bad = PracticeItem("GANs are density models.", "tf", ["True", "False"], "False",
                       "GANs are trained with a variational lower bound on the log-likelihood.", [])
    assert check_supported(good, GAN_SLIDE) is None
    assert check_supported(bad, GAN_SLIDE) == "unsupported_key"


# --- duplicate questions, self-check, all checks -------------------------------------------------------------------


def test_duplicate_question_is_rejected():
    previous = ["What is the best known way to make models robust to lp attacks?"]
    reworded = mcq("What is the best known way to make a model robust to lp attacks?", GOOD_MCQ.options,
                   GOOD_MCQ.answer, GOOD_MCQ.explanation)
    assert check_duplicate_question(GOOD_MCQ, previous) == "duplicate_question"
    assert check_duplicate_question(reworded, previous) == "duplicate_question"
    other = mcq("By how much can adversarial training reduce clean accuracy?", ["10%+", "1%", "50%", "0%"], "10%+",
                "E.")
    assert check_duplicate_question(other, previous) is None
    assert check_duplicate_question(other, []) is None


def test_a_new_question_with_an_earlier_key_from_the_same_slide_is_a_duplicate():
    from dataclasses import replace

    from assistant.practice.checks import check_same_answer

    score = mcq("What is the anomaly score of the simple baseline?", ["-max_k p(y = k | x)", "a", "b", "c"],
                "-max_k p(y = k | x)", "E.")
    again = mcq("What is the anomaly score calculated from the model's confidence?",
                ["-max_k p(y = k \\mid \\mathbf{x})", "d", "e", "f"], "-max_k p(y = k \\mid \\mathbf{x})", "E.")
    assert check_same_answer(again, [score], bag_of_words) == "duplicate_question"
    elsewhere = [{**SOURCE[0], "id": "deck#21"}]
    assert check_same_answer(again, [replace(score, source=elsewhere)], bag_of_words) is None  # another slide
    assert check_same_answer(again, [GOOD_MCQ], bag_of_words) is None  # another key
    true = PracticeItem("AT costs clean accuracy.", "tf", ["True", "False"], "True", "E.", SOURCE)
    assert check_same_answer(replace(true, question="AT helps."), [true]) is None


def test_keys_from_one_slide_that_state_one_fact_make_a_duplicate_with_the_real_embedder(embedder):
    from dataclasses import replace

    from assistant.practice.checks import check_same_answer

    first = mcq("What does invariance in feature learning mean?", [], "We wish for the feature distributions "
                "between the source and target data to look identical", "E.")
    same = replace(first, question="What is the main goal of invariant feature learning?",
                   answer="To make the feature distributions between the source and target data look identical")
    other = replace(first, question="What do we not assume in domain adaptation?",
                    answer="That the target domain has abundant labelled data")
    assert check_same_answer(same, [first], embedder.embed) == "duplicate_question"
    assert check_same_answer(other, [first], embedder.embed) is None


def test_self_check_reply_must_name_the_key():
    assert parse_letter("B", 4) == 1
    assert parse_letter("(c) because", 4) == 2
    assert parse_letter("Answer: D", 4) == 3
    assert parse_letter("B", 2) == 1
    assert parse_letter("E", 4) is None
    assert check_self_check("A.", 0, 4) is None
    assert check_self_check("C", 0, 4) == "self_check_failed"
    assert check_self_check("I am not sure", 0, 4) == "self_check_failed"


def test_good_item_passes_every_check():
    assert check_item(GOOD_MCQ, AT_SLIDE, previous=["What does GAN stand for?"]) is None


def test_reasons_are_the_documented_ones():
    assert set(REASONS) == {"unparseable", "mcq_shape", "duplicate_options", "distractor_on_slide",
                            "not_self_contained", "unsupported_key", "duplicate_question", "self_check_failed",
                            "not_a_question", "key_stands_out", "key_in_question", "slide_question"}


# --- with the embedder ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embed():
    from assistant.config import Settings
    from assistant.retrieval.embed import SentenceTransformerEmbedder
    from assistant.weights import embedder_spec

    settings = Settings.from_env()
    try:
        embedder = SentenceTransformerEmbedder(embedder_spec(settings.embedder), settings.cache_dir, settings.threads)
        embedder.embed(["warm"])
    except AssistantError as err:
        pytest.skip(f"embedder unavailable: {err}")
    return embedder.embed


@pytest.mark.parametrize(
    ("first", "second", "duplicate"),
    [  # MiniLM cosines measured: 0.94, 0.94, 0.96 for rewordings; 0.72, 0.79 for other questions on the topic
        ("What is the best known way to make models robust to lp attacks?",
         "Which method is the best known way to robustify a model against lp attacks?", True),
        ("What is the main downside of adversarial training?", "What is a drawback of adversarial training?", True),
        ("Why are GANs hard to evaluate?", "What makes evaluating GANs difficult?", True),
        ("What is the main downside of adversarial training?", "How is adversarial training performed?", False),
        ("Why are GANs hard to evaluate?", "Which metrics are used to evaluate GANs?", False),
    ],
)
def test_embedder_catches_reworded_duplicate_questions(embed, first, second, duplicate):
    item = mcq(second, GOOD_MCQ.options, GOOD_MCQ.answer, GOOD_MCQ.explanation)
    assert check_duplicate_question(item, [first]) is None  # the words differ too much for Jaccard alone
    assert (check_duplicate_question(item, [first], embed) == "duplicate_question") == duplicate


def test_embedder_keeps_one_word_flip_distractors(embed):
    options = ["Larger models require fewer samples", "Larger models require more samples", "More GPUs", "Longer runs"]
    item = mcq("What do larger models need to reach the same performance?", options, options[0], "E.")
    assert check_duplicate_options(item, embed) is None
    options = ["Negative maximum softmax probability", "Negative max softmax probability", "Reconstruction error",
               "Density"]
    near = mcq("What is the anomaly score?", options, options[1], "E.")
    assert check_duplicate_options(near, embed) == "duplicate_options"


@pytest.mark.parametrize(
    ("good", "answer", "explanation"),
    [
        (True, "Adversarial training",
         "Adversarial training is the best way we know to robustify models to lp attacks."),
        (True, "Train on adversarial examples created from each minibatch",
         "AT creates adversarial examples (e.g. with PGD) for each minibatch and optimizes the loss on them."),
        (False, "Dropout regularization", "Dropout prevents co-adaptation of neurons and improves robustness."),
        (False, "Weight decay", "The best way to robustify models to lp attacks is adversarial training."),
        (False, "Randomized smoothing", "Certified defences add Gaussian noise to inputs at test time."),
    ],
)
def test_support_with_the_embedder(embed, good, answer, explanation):
    item = mcq("Q?", [answer, "x", "y", "z"], answer, explanation)
    assert (check_supported(item, AT_SLIDE, embed) is None) == good


# --- slides, prompts, items, export, quiz -----------------------------------------------------------------------------

PROSE = "- Our labels could be sequences, e.g. translation, transcription or captioning of images\n" * 2
CHUNKS = [
    chunk(1, "Lecture 24: Midterm 2 review", "Title", "CS 182"),
    chunk(2, "Modeling sequential data", "Problem setup", PROSE),
    chunk(3, "Distribution shift and robustness", "ANLI", PROSE),
    chunk(4, "Distributional robustness", "Group", PROSE),
    chunk(5, "Distributional robustness", "Figure", "ImageNet-C\nChairs by rotation\nChairs by background\n" * 5),
]


def test_sections_and_resolution():
    assert sections(CHUNKS) == ["Lecture 24: Midterm 2 review", "Modeling sequential data",
                                "Distribution shift and robustness", "Distributional robustness"]
    assert resolve_section("modeling SEQUENTIAL data", CHUNKS) == "Modeling sequential data"
    assert resolve_section("Model", CHUNKS) == "Modeling sequential data"
    assert resolve_section("distribution shift", CHUNKS) == "Distribution shift and robustness"
    with pytest.raises(AssistantError, match="several sections"):
        resolve_section("Distribution", CHUNKS)
    with pytest.raises(AssistantError, match="Modeling sequential data"):
        resolve_section("Reinforcement learning", CHUNKS)


def test_short_slides_are_not_usable_and_spread_is_even():
    assert not usable(CHUNKS[0]) and usable(CHUNKS[1])
    assert not usable(CHUNKS[4])  # 150 characters, but figure labels, not sentences
    table = "Dataset\tiWildCam\tCamelyon17\tRxRx1\nDomain (d)\tcamera\thospital\tbatch of cells in the lab\n" * 3
    assert not usable(chunk(6, "S", "WILDS", table))
    advice = ("- Understand the motivations behind meta-learning and few-shot learning\n"
              "- Understand the meta-learning problem setup and assumptions\n"
              "- Read through the case study for student feedback generation and understand the high level details\n"
              "- What did we learn from these different models? (maybe not much, from some)\n"
              "- Compare and contrast: few-shot prompting, chain-of-thought prompting, and fine tuning")
    assert not usable(chunk(7, "S", "Meta-learning guest lecture", advice))  # what to study, not what is so
    answered = "- What about sequence output? Have an output at every layer, and feed each one to the next time step"
    assert not usable(chunk(8, "S", "Sequential outputs", answered))  # 70 characters of statement
    assert usable(chunk(8, "S", "Sequential outputs", f"{answered}\n- This is our RNN for sequence input, one output"))
    assert statement(answered) == "Have an output at every layer, and feed each one to the next time step"
    slides = [chunk(i, "S", f"T{i}", "w" * 100) for i in range(10)]
    picked = spread(slides, 5)
    assert [c.slide for c in picked[:5]] == [0, 2, 4, 6, 8]
    assert len(picked) == 10 and len({c.slide for c in picked}) == 10
    assert spread(slides[:3], 5) == slides[:3]


def test_prompt_holds_one_slide_and_varies_on_retry():
    c = chunk(31, "S", "Adversarial training (AT)", AT_SLIDE)
    first = build_messages("mcq", c)
    retry = build_messages("mcq", c, avoid=["What is the best way to robustify models?"])
    assert "Adversarial training (AT)" in first[1]["content"] and '"wrong"' in first[1]["content"]
    assert "Ask about a different fact than" in retry[1]["content"] and first != retry
    assert "$" not in build_messages("tf", c, truth=False)[1]["content"].replace(AT_SLIDE, "")


def test_to_item_shuffles_options_but_keeps_the_key():
    c = chunk(31, "S", "Adversarial training (AT)", AT_SLIDE)
    data = {"question": "Q?", "options": ["right", "w1", "w2", "w3"], "answer_index": 0, "explanation": "E."}
    item = to_item(data, "mcq", c)
    assert item.answer == "right" and sorted(item.options) == sorted(data["options"])
    assert item.source == [{"id": "d#31", "title": "Adversarial training (AT)", "deck": "Deck", "slide": 31}]
    keys = {to_item(dict(data, question=f"Q{i}?"), "mcq", c).key_index for i in range(20)}
    assert len(keys) > 1  # the key is not always A
    tf = to_item({"question": "S.", "answer": False, "explanation": "E."}, "tf", c)
    assert tf.options == ["True", "False"] and tf.answer == "False"


def test_exports_round_trip(tmp_path):
    items = [GOOD_MCQ, PracticeItem('A "quoted", comma statement.', "tf", ["True", "False"], "True", "E,\nx.", SOURCE)]
    export_json(items, tmp_path / "set.json")
    assert [PracticeItem.from_dict(d) for d in json.loads((tmp_path / "set.json").read_text())] == items
    export_anki_csv(items, tmp_path / "set.csv")
    text = (tmp_path / "set.csv").read_text()
    rows = list(csv.reader(io.StringIO("\n".join(ln for ln in text.split("\n") if not ln.startswith("#")))))
    assert len(rows) == 2 and all(len(r) == 2 for r in rows)
    front, back = rows[0]
    assert front.startswith(GOOD_MCQ.question) and "\nA. " in front and "\nD. " in front
    assert f"{'ABCD'[GOOD_MCQ.key_index]}. Adversarial training" in back
    assert "Source: Lecture 24, slide 31: Adversarial training (AT)" in back
    assert rows[1][0] == 'True or false: A "quoted", comma statement.'


def test_terminal_quiz_scores_and_shows_the_source():
    tf = PracticeItem("AT can reduce clean accuracy.", "tf", ["True", "False"], "True", "By 10%+.", SOURCE)
    practice = PracticeSet([GOOD_MCQ, tf], requested=2, qtype="mcq", scope="test")
    answers = iter(["ABCD"[GOOD_MCQ.key_index], "false"])
    printed: list[str] = []
    score = run_terminal_quiz(practice, input_fn=lambda _prompt: next(answers), print_fn=printed.append)
    assert score == 1.0
    out = "\n".join(printed)
    assert "Correct" in out and "Incorrect" in out and "Score: 1 / 2" in out
    assert "Source: Lecture 24, slide 31: Adversarial training (AT)" in out


def test_terminal_quiz_stops_on_end_of_input():
    def eof(_prompt: str) -> str:
        raise EOFError

    printed: list[str] = []
    practice = PracticeSet([GOOD_MCQ], requested=1, qtype="mcq", scope="test")
    assert run_terminal_quiz(practice, input_fn=eof, print_fn=printed.append) == 0.0
    assert "Quiz stopped." in "\n".join(printed)


# --- generate_set with a scripted model ---------------------------------------------------------------------------


class ScriptedGenerator:
    """Replies from a list, in order; records the prompts so tests can see retries vary them.

    A self-check reading is answered from ``picks`` (question -> the option the model "chooses"), by
    the letter that option has in the order shown, so a script does not depend on the shuffle.
    """

    name = "scripted"

    def __init__(self, replies: list[str], picks: dict[str, str] | None = None) -> None:
        self.replies = list(replies)
        self.picks = picks or {}
        self.prompts: list[str] = []

    def stream(self, messages, max_new_tokens=200):
        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        if "Reply with the letter only" in prompt:
            shown = dict(re.findall(r"^([A-D])\. (.*)$", prompt, re.MULTILINE))
            pick = next((p for q, p in self.picks.items() if f"Question: {q}" in prompt), None)
            yield next((letter for letter, option in shown.items() if option == pick), "no pick")
            return
        yield self.replies.pop(0) if self.replies else "no more"


def bag_of_words(texts: list[str]):
    """A deterministic stand-in embedder: hashed content words, normalised."""
    import zlib

    import numpy as np

    out = np.zeros((len(texts), 256), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split():
            out[row, zlib.crc32(word.encode()) % 256] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


def fake_assistant(replies: list[str], picks: dict[str, str] | None = None):
    from types import SimpleNamespace

    chunks = [
        chunk(1, "Deck", "Title", "CS 182"),
        chunk(31, "Robustness", "Adversarial training (AT)", AT_SLIDE.split("\n", 1)[1]),
        chunk(37, "Robustness", "GANs summary", GAN_SLIDE.split("\n", 1)[1]),
    ]
    gen = ScriptedGenerator(replies, picks)
    return SimpleNamespace(index=SimpleNamespace(chunks=chunks), embedder=SimpleNamespace(embed=bag_of_words),
                           generator=lambda model=None: gen, retriever=None,
                           settings=SimpleNamespace(engine="scripted")), gen


def _mcq_reply(question: str, options: list[str], index: int, explanation: str) -> str:
    body = json.dumps({"question": question, "options": options, "answer_index": index, "explanation": explanation})
    return f"```json\n{body}\n```"


AT_REPLY = _mcq_reply("What is the best known way to make models robust to lp attacks?",
                      ["Adversarial training", "Dropout", "Weight decay", "Early stopping"], 0,
                      "Adversarial training is the best way we know of to robustify models to lp attacks.")
GAN_REPLY = _mcq_reply("Which metrics are usually used to evaluate GANs?",
                       ["Inception and FID scores", "BLEU", "Perplexity", "Top-1 accuracy"], 0,
                       "Metrics for evaluating GANs rely on a pretrained classifier, e.g. Inception and FID scores.")

GAN2_REPLY = _mcq_reply("Why are GANs hard to evaluate?",
                        ["They are not density models", "They are too slow", "They need labels", "They overfit"], 0,
                        "GANs are not density models, so there is no way to obtain probability estimates from a GAN.")


def test_generate_set_retries_rejects_and_counts():
    from assistant.practice.sets import generate_set

    replies = [
        "Sorry, I cannot do that.",  # slide 31, attempt 1: unparseable
        _mcq_reply("According to the slide, what robustifies models?", ["AT", "Dropout", "Decay", "Stop"], 0, "AT."),
        AT_REPLY,  # attempt 3: accepted, the self-check agreeing in every order
        GAN_REPLY,  # slide 37: asked earlier in the session
        GAN2_REPLY,  # the self-check disagrees with the key
        _mcq_reply("Q?", ["a", "b", "c"], 0, "E."),  # three options
    ]
    picks = {"What is the best known way to make models robust to lp attacks?": "Adversarial training",
             "Why are GANs hard to evaluate?": "They need labels"}
    assistant, gen = fake_assistant(replies, picks)
    events: list[tuple[int, int, str]] = []
    seen = ["Usually, which metrics are used to evaluate GANs?"]
    result = generate_set(assistant, section="robust", n=2, seen=seen, max_attempts_per_item=3,
                          progress=lambda *e: events.append(e))
    assert [i.question for i in result.items] == ["What is the best known way to make models robust to lp attacks?"]
    assert result.rejections == Counter(unparseable=1, not_self_contained=1, self_check_failed=1,
                                        duplicate_question=1, mcq_shape=1)
    assert result.attempts == 6 and result.first_try_accepted == 0 and len(result.seconds_per_accepted) == 1
    assert result.message == "Generated 1 of 2 questions: the slides of this section support no more."
    assert events[-1] == (1, 2, "done")
    generation_prompts = [p for p in gen.prompts if "Reply with JSON" in p]
    assert len(set(generation_prompts)) == len(generation_prompts)  # every retry asks differently
    assert all("CS 182" not in p for p in gen.prompts)  # the title slide is too short to ask about
    readings = [p for p in gen.prompts if "Question: What is the best known way" in p]
    keys = [re.search(r"^([A-D])\. Adversarial training$", p, re.MULTILINE)[1] for p in readings]
    assert len(readings) == 3 and len(set(readings)) == 3 and len(set(keys)) >= 2  # the key read in other places
    assert sum("Question: Why are GANs" in p for p in gen.prompts) == 1  # one wrong reading is enough


def test_generate_set_spends_unused_attempts_on_an_extra_slot():
    from assistant.practice.sets import generate_set

    bad = "not json"
    clean = _mcq_reply("By how much can adversarial training reduce accuracy on clean examples?",
                       ["10% or more", "1%", "50% or more", "It raises it"], 0,
                       "AT can reduce accuracy on non adversarial (clean) examples by 10%+.")
    # slide 31 succeeds, slide 37 fails three times, the extra slot goes to the least-used slide (31 again)
    replies = [AT_REPLY, bad, bad, bad, clean]
    picks = {"What is the best known way to make models robust to lp attacks?": "Adversarial training",
             "By how much can adversarial training reduce accuracy on clean examples?": "10% or more"}
    assistant, _ = fake_assistant(replies, picks)
    result = generate_set(assistant, section="Robustness", n=2, max_attempts_per_item=3)
    assert len(result.items) == 2 and result.attempts == 5 and result.first_try_accepted == 2
    assert result.rejections == Counter(unparseable=3)
    assert result.message == 'Generated 2 questions from section "Robustness".'
    assert len(result.seconds_per_accepted) == 2


def test_a_slide_that_repeats_its_question_gives_way_to_another():
    from assistant.practice.sets import generate_set

    pointer = _mcq_reply("According to the slide, what robustifies models?", ["AT", "Dropout", "Decay", "Stop"], 0,
                         "AT.")
    cut_off = '{"question": "What does adversarial training add to every batch?", "answer": "Adversarial exa'
    for repeated, reason in ((pointer, "not_self_contained"), (cut_off, "unparseable")):
        replies = [repeated, repeated, GAN2_REPLY]  # slide 31 twice, word for word; then slide 37
        picks = {"Why are GANs hard to evaluate?": "They are not density models"}
        assistant, gen = fake_assistant(replies, picks)
        result = generate_set(assistant, section="Robustness", n=1, max_attempts_per_item=4)
        assert [i.question for i in result.items] == ["Why are GANs hard to evaluate?"]
        assert result.attempts == 3 and result.rejections == Counter({reason: 2})
        drafts = [p for p in gen.prompts if "Reply with JSON" in p]
        assert "GANs summary" not in drafts[1] and "GANs summary" in drafts[2]  # not a third try on slide 31


def test_wrong_options_are_replaced_once_keeping_question_and_key():
    """A draft rejected only for its wrong options gets one cheap call for new ones, then every check again."""
    from assistant.practice.sets import generate_set

    question = "What is the best known way to make models robust to lp attacks?"
    explanation = "Adversarial training is the best way we know of to robustify models to lp attacks."
    near_copies = _mcq_reply(question, ["Adversarial training", "Adversarial training of models", "Dropout",
                                        "Weight decay"], 0, explanation)
    # of five new wrong options, a rewording of the key and a repeat are skipped
    new_wrong = json.dumps({"wrong": ["Dropout", "Adversarially trained models", "Weight decay", "Dropout",
                                      "Early stopping"]})
    repaired = to_item({"question": question, "options": ["Adversarial training", "Dropout", "Weight decay",
                                                          "Early stopping"], "answer_index": 0,
                        "explanation": explanation}, "mcq", chunk(0, "", "", ""))
    gan_copies = _mcq_reply("Why are GANs hard to evaluate?", ["They are not density models", "They are slow",
                                                                "Not density models", "Density models they are not"],
                            0, "GANs are not density models, so there is no way to obtain probability estimates.")
    still_bad = json.dumps({"wrong": ["They are not density models", "They are slow", "They overfit"]})
    replies = [near_copies, new_wrong,  # slide 31: repaired, then accepted
               gan_copies, still_bad, "not json"]  # slide 37: repaired once, still bad, then fresh drafts
    assistant, gen = fake_assistant(replies, {question: "Adversarial training"})
    result = generate_set(assistant, section="Robustness", n=2, max_attempts_per_item=3)
    (first,) = result.items
    assert first.question == question and first.answer == "Adversarial training"
    assert sorted(first.options) == sorted(repaired.options) and first.explanation == explanation
    assert result.repaired == 1 and result.attempts == 8  # the budget: 2 questions x 3 drafts, plus 2 repairs
    # 2 usable of 3: the third place is filled with a near-copy of the key, so the count names the fault
    assert result.rejections == Counter(duplicate_options=3, unparseable=4)
    repair_prompts = [p for p in gen.prompts if "Write 5 wrong answers" in p]
    assert len(repair_prompts) == 2 and "Correct answer: Adversarial training" in repair_prompts[0]
    assert "Correct answer: They are not density models" in repair_prompts[1]
    assert "Reply with JSON only, on one line" in gen.prompts[7]  # no second repair of the same draft
    assert all(p.startswith("Course slides:\n\n[1] ") for p in gen.prompts)  # one shared opening, then the task


def test_a_repair_keeps_the_drafts_good_wrong_options_where_too_few_new_ones_qualify():
    """Two usable new wrong options and one usable old one make a full set, without another call."""
    from assistant.practice.sets import generate_set

    question = "What is the best known way to make models robust to lp attacks?"
    explanation = "Adversarial training is the best way we know of to robustify models to lp attacks."
    draft = _mcq_reply(question, ["Adversarial training", "Adversarial training of models", "Dropout",
                                  "Weight decay"], 0, explanation)
    two_new = json.dumps({"wrong": ["Early stopping", "Adversarially trained models", "Label smoothing"]})
    assistant, _ = fake_assistant([draft, two_new], {question: "Adversarial training"})
    result = generate_set(assistant, section="Robustness", n=1, max_attempts_per_item=1)
    (item,) = result.items
    new, old = {"Early stopping", "Label smoothing"}, set(item.options) - {"Adversarial training"}
    assert new < old and old - new <= {"Dropout", "Weight decay"}  # the near-copy of the key is not kept
    assert result.repaired == 1 and result.rejections == Counter(duplicate_options=1)


class WordByWordScript(ScriptedGenerator):
    """The scripted model, streaming each reply a word at a time as a real engine does; ``sent`` counts
    words, ``per_call`` the words of each call."""

    def __init__(self, replies: list[str], picks: dict[str, str] | None = None) -> None:
        super().__init__(replies, picks)
        self.sent = 0
        self.per_call: list[int] = []

    def stream(self, messages, max_new_tokens=200):
        self.per_call.append(0)
        for piece in super().stream(messages, max_new_tokens):
            for word in piece.split(" "):
                self.sent += 1
                self.per_call[-1] += 1
                yield word + " "


DRAFT = [{"role": "user", "content": "a draft"}]


def test_a_draft_stops_as_soon_as_its_question_fails():
    """The key and wrong answers of a question that is rejected anyway are not written (decoding is the cost)."""
    from assistant.practice.sets import QuestionWatch, complete

    vague = json.dumps({"question": "What does the slide say about robustness to lp attacks?",
                        "answer": "Adversarial training", "wrong": ["Dropout", "Weight decay", "Early stopping", "L2"]})
    gen = WordByWordScript([vague])
    watch = QuestionWatch("mcq", AT_SLIDE, [], None)
    complete(gen, DRAFT, 160, stop=watch)
    assert watch.question == "Which statement about robustness to lp attacks is true?"  # reworded, and it passes
    assert watch.reason is None and gen.sent == len(vague.split(" ")) - 1  # three usable wrong answers: no "L2"
    assert watch.full == (watch.question, "Adversarial training", ["Dropout", "Weight decay", "Early stopping"])
    key_asked = json.dumps({"question": "Is adversarial training the best known defence?",
                            "answer": "Adversarial training", "wrong": ["Dropout", "Weight decay", "L2", "L1"]})
    gen = WordByWordScript([key_asked])
    watch = QuestionWatch("mcq", AT_SLIDE, [], None)
    complete(gen, DRAFT, 160, stop=watch)
    assert watch.reason == "key_in_question" and gen.sent == key_asked.split(" ").index('"wrong":')  # no more
    off_slide = json.dumps({"question": "What is the best known way to make models robust to lp attacks?",
                            "answer": "Gradient clipping", "wrong": ["Dropout", "Weight decay", "L2", "L1"]})
    slide = chunk(31, "S", "Adversarial training (AT)", AT_SLIDE)
    for given, reason in ((slide, "unsupported_key"), (None, None)):  # without the slide, the key is not judged
        gen = WordByWordScript([off_slide])
        watch = QuestionWatch("mcq", AT_SLIDE, [], None, given)
        complete(gen, DRAFT, 160, stop=watch)
        assert watch.reason == reason and (gen.sent == off_slide.split(" ").index('"wrong":')) == (reason is not None)
    asked_before = json.dumps({"question": "What is the best known way to make models robust to lp attacks?",
                               "answer": "Adversarial training", "wrong": ["Dropout", "Weight decay", "L2", "L1"]})
    gen = WordByWordScript([asked_before])
    watch = QuestionWatch("mcq", AT_SLIDE, ["What is the best known way to make models robust to lp attacks?"], None)
    complete(gen, DRAFT, 160, stop=watch)
    assert watch.reason == "duplicate_question" and gen.sent == asked_before.split(" ").index('"answer":')  # no more
    gen = WordByWordScript(["Answer: B, because the slide says so"])  # a self-check reading ends at its letter
    assert complete(gen, DRAFT, 4, stop_at_json=False, stop=lambda text: parse_letter(text, 4) is not None) == (
        "Answer: B, ")
    copies = json.dumps({"question": "What is the best known way to make models robust to lp attacks?",
                         "answer": "Adversarial training", "wrong": ["Dropout", "Adversarial training", "Dropout",
                                                                     "Weight decay"]})
    gen = WordByWordScript([copies])
    watch = QuestionWatch("mcq", AT_SLIDE, [], None)
    complete(gen, DRAFT, 160, stop=watch)
    assert watch.reason is None and gen.sent < len(copies.split(" "))  # "Weight decay" is not written
    assert watch.cut == ("What is the best known way to make models robust to lp attacks?", "Adversarial training",
                         ["Dropout", "Adversarial training", "Dropout"])


def test_a_draft_cut_at_its_second_unusable_wrong_answer_goes_to_new_wrong_answers():
    from assistant.practice.sets import generate_set

    question = "What is the best known way to make models robust to lp attacks?"
    copies = json.dumps({"question": question, "answer": "Adversarial training",
                         "wrong": ["Adversarial training", "Adversarial training", "Dropout", "Weight decay"]})
    new_wrong = json.dumps({"wrong": ["Dropout", "Weight decay", "Early stopping"]})
    assistant, _ = fake_assistant([], {question: "Adversarial training"})
    gen = WordByWordScript([copies, new_wrong], {question: "Adversarial training"})
    assistant.generator = lambda model=None: gen
    result = generate_set(assistant, section="Robustness", n=1, max_attempts_per_item=1)
    (item,) = result.items
    assert result.rejections == Counter(duplicate_options=1) and result.repaired == 1  # the copies name the fault
    assert sorted(item.options) == ["Adversarial training", "Dropout", "Early stopping", "Weight decay"]


def test_new_wrong_answers_stop_at_the_third_usable_one():
    """Three usable new wrong answers are all a repair keeps, so the model does not write the other two."""
    from assistant.practice.sets import generate_set

    question = "What is the best known way to make models robust to lp attacks?"
    copies = json.dumps({"question": question, "answer": "Adversarial training",
                         "wrong": ["Adversarial training", "Adversarial training", "Dropout", "Weight decay"]})
    five = json.dumps({"wrong": ["Dropout", "Adversarially trained models", "Weight decay", "Early stopping",
                                 "Label smoothing", "Mixup"]})
    assistant, _ = fake_assistant([], {question: "Adversarial training"})
    gen = WordByWordScript([copies, five], {question: "Adversarial training"})
    assistant.generator = lambda model=None: gen
    result = generate_set(assistant, section="Robustness", n=1, max_attempts_per_item=1)
    (item,) = result.items
    assert sorted(item.options) == ["Adversarial training", "Dropout", "Early stopping", "Weight decay"]
    assert gen.per_call[1] == five.split(" ").index('"Label')  # "Label smoothing" and "Mixup" are not written


def test_a_compact_draft_with_too_few_wrong_answers_gets_new_ones():
    from assistant.practice.sets import generate_set

    question = "What is the best known way to make models robust to lp attacks?"
    short = json.dumps({"question": question, "answer": "Adversarial training", "wrong": ["Dropout", "Weight decay"]})
    new_wrong = json.dumps({"wrong": ["Early stopping", "Label smoothing", "Data augmentation"]})
    assistant, gen = fake_assistant([short, new_wrong], {question: "Adversarial training"})
    result = generate_set(assistant, section="Robustness", n=1, max_attempts_per_item=1)
    (item,) = result.items
    assert result.rejections == Counter(mcq_shape=1) and result.repaired == 1
    assert item.answer == "Adversarial training" and len(item.options) == 4
    assert sum("Write 5 wrong answers" in p for p in gen.prompts) == 1


def test_retry_prompts_name_earlier_questions_only_after_every_focus_line():
    from assistant.practice.sets import _prompt_for, focus_lines

    c = chunk(31, "S", "Adversarial training (AT)", AT_SLIDE)
    lines = focus_lines(c)
    asked, visits = {c.slide_id: ["What is adversarial training?"]}, Counter()
    prompts = [_prompt_for("mcq", c, asked, [], visits, True)[1]["content"] for _ in range(len(lines) + 1)]
    for line, prompt in zip(lines, prompts[:-1], strict=True):
        assert line in prompt and "What is adversarial training?" not in prompt
    assert "Ask about a different fact than" in prompts[-1] and "What is adversarial training?" in prompts[-1]


def test_only_faults_of_the_wrong_options_are_repaired():
    from assistant.practice.sets import wrong_options_at_fault

    good = mcq("What does adversarial training improve?", ["Robustness", "Speed", "Memory", "Size"], "Robustness", "E.")
    pointer = mcq(good.question, ["Robustness", "All of these options", "Memory", "Size"], "Robustness", "E.")
    pointer_key = mcq(good.question, ["Both of the above", "Speed", "Memory", "Size"], "Both of the above", "E.")
    vague = mcq("What does the slide say adversarial training improves?", good.options, "Robustness", "E.")
    assert wrong_options_at_fault(good, "duplicate_options") and wrong_options_at_fault(good, "distractor_on_slide")
    assert wrong_options_at_fault(pointer, "not_self_contained")
    assert not wrong_options_at_fault(pointer_key, "not_self_contained")
    assert not wrong_options_at_fault(vague, "not_self_contained")
    assert not any(wrong_options_at_fault(good, r) for r in ("unsupported_key", "self_check_failed", "unparseable"))
    # a question that fails anyway is not worth a call for new wrong options
    slide = "Adversarial training improves robustness to lp attacks, at some cost in clean accuracy."
    quoted = mcq(good.question, good.options, "Robustness", "It improves robustness to lp attacks.")
    assert wrong_options_at_fault(quoted, "duplicate_options", slide, ["What is GAN?"], bag_of_words)
    assert not wrong_options_at_fault(quoted, "duplicate_options", slide, [good.question], bag_of_words)
    off_slide = mcq(good.question, ["Speed", "Robustness", "Memory", "Size"], "Speed", "It improves speed.")
    assert not wrong_options_at_fault(off_slide, "duplicate_options", slide, [], bag_of_words)
    # a sentence-long key gets copies of itself back as wrong answers
    long_key = "Robustness to lp attacks at some cost in clean accuracy, as measured on the usual image benchmarks"
    sentence = mcq(good.question, [long_key, "Speed", "Memory", "Size"], long_key, "E.")
    assert len(long_key.split()) > 14 and not wrong_options_at_fault(sentence, "duplicate_options")


def test_wrong_options_cut_off_by_the_token_limit_keep_the_complete_ones():
    from assistant.practice.checks import parse_wrong_options

    assert parse_wrong_options('```json\n{"wrong": ["Dropout", "Weight \\"decay\\"", "Early sto') == [
        "Dropout", 'Weight "decay"']
    assert parse_wrong_options('{"wrong": ["a", 2]}') == ["a", "2"]
    assert parse_wrong_options('{"wrong": "a"}') is None and parse_wrong_options("Sorry.") is None
    # LaTeX copied from a slide, in a list still being written: the backslash is read as itself, not a crash
    assert parse_wrong_options('{"wrong": ["Robust to $\\ell_p$ attacks", "Drop') == ["Robust to $\\ell_p$ attacks"]


def test_generate_set_rejects_unknown_inputs():
    from assistant.practice.sets import generate_set

    assistant, _ = fake_assistant([])
    with pytest.raises(AssistantError, match="unknown question type"):
        generate_set(assistant, qtype="essay")
    with pytest.raises(AssistantError, match="Robustness"):
        generate_set(assistant, section="Reinforcement learning")
    with pytest.raises(AssistantError, match="unknown slide id"):
        generate_set(assistant, slide_ids=["nope#1"])


# --- the real model ----------------------------------------------------------------------------------------------

# Three sections whose slides state facts. "Massive models + the last guest lectures" is not one: of its
# five slides, three only list what to study or ask questions they leave open, so ``usable`` keeps two,
# and a set of five there ends with fewer questions and a message saying so.
SECTIONS = [
    "Distribution shift and robustness",
    "Deep Unsupervised Learning",
    "Modeling sequential data",
]


@pytest.mark.slow
def test_real_model_writes_checked_mcqs_for_three_sections(assistant_default):
    """Acceptance: 5 MCQs per section, each passing every check, citing that section, no duplicates.

    The default model (1.5B) on the default engine, as a student's Practice tab runs it.
    """
    from assistant.practice.sets import generate_set, slide_text

    assistant = assistant_default
    chunks = {c.slide_id: c for c in assistant.index.chunks}
    all_questions: list[str] = []
    total = Counter()
    for section in SECTIONS:
        start = time.perf_counter()
        result = generate_set(assistant, section=section, n=5, qtype="mcq", seen=all_questions)
        log.warning("%s: %d items, %d attempts, rejections %s, %.0f s (%s)", section, len(result.items),
                    result.attempts, dict(result.rejections), time.perf_counter() - start, result.seconds_per_accepted)
        assert len(result.items) == 5, result.message
        assert result.attempts == len(result.items) + sum(result.rejections.values())
        assert set(result.rejections) <= set(REASONS)
        total += result.rejections
        previous: list[str] = list(all_questions)
        for item in result.items:
            assert item.type == "mcq" and len(item.options) == 4 and item.answer in item.options
            (source,) = item.source
            slide = chunks[source["id"]]
            assert slide.section == section
            assert check_item(item, slide_text(slide), previous, assistant.embedder.embed) is None
            previous.append(item.question)
        all_questions.extend(i.question for i in result.items)
    log.warning("rejections over the three sections: %s", dict(total))

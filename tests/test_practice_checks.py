"""Every check on hand-made good and bad items.

The hand-made items are the calibration set for the thresholds in ``assistant.practice.checks`` and
``checks_options``: each bad item is a failure seen (or expected) from a small model, each good one a
paraphrase that must survive. Lexical-only cases run everywhere; cases that need the embedder load
MiniLM (seconds).
"""

from __future__ import annotations

import pytest

from assistant.errors import AssistantError
from assistant.practice.checks import (
    REASONS,
    check_duplicate_question,
    check_is_question,
    check_item,
    check_key_in_question,
    check_self_check,
    check_self_contained,
    check_slide_question,
    check_supported,
)
from assistant.practice.checks_options import (
    check_absolute_options,
    check_duplicate_options,
    check_key_stands_out,
    check_mcq_shape,
    check_negated_distractors,
    check_one_template,
    check_option_kinds,
    pick_distractors,
)
from assistant.practice.drafting import to_item
from assistant.practice.items import PracticeItem
from assistant.practice.options_on_slide import check_distractors
from assistant.practice.parsing import Draft, parse_letter
from tests.fakes import AT_SLIDE, GAN_SLIDE, GOOD_MCQ, SOURCE, bag_of_words, chunk, mcq

# --- shape and options ------------------------------------------------------------------------------------------------


def _data(options: list[str], index: object) -> Draft:
    return Draft("Q?", "E.", options=options, answer_index=index)


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
    item = mcq(
        "What do larger models need to reach the same performance?",
        ["Fewer samples", "More samples", "More GPUs", "Longer training"],
        "Fewer samples",
        "E.",
    )
    assert check_duplicate_options(item) is None
    long_flips = [
        "To make the model output similar features for source and target data",
        "To make the model output different features for source and target data",
        "To make the model output similar features for the source data only",
        "To make the model output similar features for the target data only",
    ]
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
    item = mcq(
        "What is a key advantage of autoregressive models?",
        [
            "Best in class likelihood",
            "They are superior to GANs in image generation",
            "They need no GPU",
            "They are not used for representation learning",
        ],
        "Best in class likelihood",
        "E.",
    )
    assert check_distractors(item, AR_SLIDE) == "distractor_on_slide"


def test_distractor_that_contradicts_the_slide_passes():
    item = mcq(
        "Why are autoregressive models not used for representation learning?",
        [
            "They provide no natural latent space",
            "They are used for representation learning",
            "They are superior to GANs in image generation",
            "They are fast to sample from",
        ],
        "They provide no natural latent space",
        "E.",
    )
    assert check_distractors(item, AR_SLIDE) is None  # the slide negates the run ("not used for ...")
    assert check_distractors(GOOD_MCQ, AT_SLIDE) is None


def test_a_slide_sentence_shortened_is_a_wrong_option_the_slide_states():
    # a real 1.5B wrong option: the slide's words in its order, "naturally" and the reason left out
    shortened = "They do not provide a notion of a latent space"
    key = "Best in class likelihood"
    item = mcq("What is true of autoregressive models?", [key, shortened, "They need no GPU", "Fast"], key, "E.")
    assert check_distractors(item, AR_SLIDE) == "distractor_on_slide"
    # the same words with roles swapped contradict the slide: fair
    source_first = "We have abundant training data from a source domain and only a little target data"
    swapped = "Abundant target domain training data and little source data"
    shift = mcq("What does domain adaptation assume?", [source_first, swapped, "No data", "Labels"], source_first, "E.")
    assert check_distractors(shift, source_first) is None
    assert pick_distractors(key, [shortened, "They need no GPU", "Fast", "Slow"], AR_SLIDE)[0] == "They need no GPU"


SUBPOP_SLIDE = (
    "Subpopulation shift\n"
    "In subpopulation shift, we assume several training domains rather than just two\n"
    "Domains are also referred to as groups or subpopulations in this context\n"
    "The key challenge is that some domains are underrepresented in the training data"
)


def test_a_short_distractor_from_the_keys_own_line_is_a_second_key():
    # a real 1.5B item: "Groups" is as right as "Subpopulations"
    item = mcq(
        "What term describes domains in subpopulation shift?",
        ["Subpopulations", "Groups", "Clusters", "Batches"],
        "Subpopulations",
        "E.",
    )
    assert check_distractors(item, SUBPOP_SLIDE) == "distractor_on_slide"
    fair = mcq(item.question, ["Subpopulations", "Clusters", "Batches", "Shards"], "Subpopulations", "E.")
    assert check_distractors(fair, SUBPOP_SLIDE) is None
    # a word of the key's line that the question itself uses is no second answer
    asked = mcq("What are domains also referred to as?", ["Groups", "Domains", "Clusters", "Batches"], "Groups", "E.")
    assert check_distractors(asked, SUBPOP_SLIDE) is None


def test_a_key_much_longer_than_every_wrong_option_gives_itself_away():
    long_key = "Determining if a premise and a hypothesis are related through contradiction or entailment"
    item = mcq(
        "What is natural language inference?",
        [long_key, "Sentiment analysis", "Translation", "Parsing"],
        long_key,
        "E.",
    )
    assert check_key_stands_out(item) == "key_stands_out"
    assert check_key_stands_out(GOOD_MCQ) is None
    even = mcq(
        item.question,
        [long_key, "Predicting the next word of a sentence from all the words before it", "Translation", "Parsing"],
        long_key,
        "E.",
    )
    assert check_key_stands_out(even) is None


def test_a_key_of_another_shape_or_wording_than_every_wrong_option_gives_itself_away():
    def item(key: str, wrong: list[str]):
        return mcq("Which one?", [key, *wrong], key, "E.")

    assert check_key_stands_out(item("5-7pm", ["6pm", "8pm", "9pm"])) == "key_stands_out"  # the only span
    assert check_key_stands_out(item("$-\\max_k p(y=k|x)$", ["The sum", "The mean", "The median"])) == "key_stands_out"
    assert check_key_stands_out(item("BERT, GPT, ViT, MAE", ["Decoder", "Encoder", "Transformer"])) == "key_stands_out"
    used_for = ["GANs are used for image classification", "GANs are used for audio", "GANs are used for text"]
    assert check_key_stands_out(item("GANs are the go-to model for image generation", used_for)) == "key_stands_out"
    longer = "An adversarial example made for one model can often attack many other models too"
    assert check_key_stands_out(item(longer, ["They always work", "They never transfer", "Only one model"])) == (
        "key_stands_out"
    )
    # fair: one shape for all, or wrong options that open alike as the key does, or lengths within reach
    assert check_key_stands_out(item("5-7pm", ["6-8pm", "4-6pm", "7-9pm"])) is None
    assert check_key_stands_out(item("GANs are used for images", used_for)) is None
    assert (
        check_key_stands_out(item("Domain adaptation", ["Domain generalization", "Domain shift", "Rebalancing"]))
        is None
    )


def test_wrong_options_that_are_all_negations_give_the_key_away():
    key = "Generating realistic samples"
    negations = ["Not suitable for regression", "Never used for classification", "They cannot estimate densities"]
    item = mcq("What is the primary use of GANs?", [key, *negations], key, "E.")
    assert check_negated_distractors(item) == "negated_distractors"
    one_negated = mcq(item.question, [key, negations[0], "Compressing images", "Labelling data"], key, "E.")
    assert check_negated_distractors(one_negated) is None
    assert check_negated_distractors(GOOD_MCQ) is None


def test_wrong_options_from_one_template_are_rejected_but_one_flipped_pair_is_fair():
    key = "Representation learning and generation"
    item = mcq(
        "What are the two main goals of VAEs?", [key, "Estimating p(x)", "Generating p(x)", "Learning p(x)"], key, "E."
    )
    assert check_one_template(item) == "one_template"
    fair = mcq(
        "What does domain adaptation need?",
        ["Unlabelled target data", "More source labels", "Fewer source labels", "A larger model"],
        "Unlabelled target data",
        "E.",
    )
    assert check_one_template(fair) is None
    assert check_one_template(GOOD_MCQ) is None


def test_three_options_one_sentence_with_a_word_changed_are_one_template_the_key_among_them():
    # a real 1.5B item: the key and two wrong options differ by one word, the third by one left out
    key = "The optimal model size grows smoothly with the loss target and compute budget"
    options = [
        key,
        key.replace("smoothly", "slowly") + ".",
        key.replace("optimal ", ""),
        key.replace("smoothly", "faster"),
    ]
    assert check_one_template(mcq("Which statement about model size is true?", options, key, "E.")) == "one_template"
    two = [key, key.replace("smoothly", "slowly"), "Larger models need more data", "Compute does not matter"]
    assert check_one_template(mcq("Which statement about model size is true?", two, key, "E.")) is None
    terms = ["Beam search", "Backward search", "Forward search", "Gradient descent"]  # terms, not an edited sentence
    assert check_one_template(mcq("How are sequences decoded?", terms, "Beam search", "E.")) is None


def test_wrong_options_in_absolute_words_give_a_hedged_key_away():
    # a real 1.5B item: "always" and "never" mark the wrong options, "potentially" the key
    key = "Adversarial examples crafted for one model can potentially be used to attack many different models"
    wrong = ["Adversarial examples are always effective", "They are never used", "They need the weights"]
    item = mcq("Which statement about transferability of attacks is true?", [key, *wrong], key, "E.")
    assert check_absolute_options(item) == "absolute_options"
    assert check_item(item, "Adversarial examples crafted for one model can potentially attack others.") is not None
    only_key = "Only the encoder"  # the key's own "only" makes the word no tell
    fair = mcq("Which part of BERT is kept?", [only_key, "Only the decoder", "Both halves", "Neither"], only_key, "E.")
    assert check_absolute_options(fair) is None
    assert check_absolute_options(GOOD_MCQ) is None


def test_a_bare_number_among_answers_in_words_is_no_option():
    key = "Dwinelle 155"
    item = mcq("Where is midterm 2 held?", [key, "182", "Dwinelle 156", "25"], key, "E.")
    assert check_option_kinds(item) == "mixed_kinds"
    times = mcq("When does the exam begin?", ["5:10pm", "5pm", "5-7pm", "6:00"], "5:10pm", "E.")
    assert check_option_kinds(times) is None
    shares = ["10% or more", "1%", "None", "50% or more"]
    assert check_option_kinds(mcq("By how much can AT cut clean accuracy?", shares, shares[0], "E.")) is None
    words_for_a_number = mcq("What share of patches does MAE mask?", ["75%", "15%", "Most of them", "90%"], "75%", "E.")
    assert check_option_kinds(words_for_a_number) == "mixed_kinds"
    rooms = mcq("Where is midterm 2 held?", [key, "Dwinelle 156", "Wheeler 150", "Soda 306"], key, "E.")
    assert check_option_kinds(rooms) is None


def test_the_first_flawed_picks_give_way_to_candidates_that_are_not():
    key = "Generating realistic samples"
    candidates = [
        "Not used for regression",
        "Not used for classification",
        "Not used for clustering",
        "Compressing images",
    ]
    picked = pick_distractors(key, candidates, "GANs generate realistic samples.")
    assert "Compressing images" in picked and len(picked) == 3
    assert check_negated_distractors(mcq("Q?", [key, *picked], key, "E.")) is None
    hedged = ["Always better", "25", "Worse on small data", "Never used", "Slower to train", "Harder to tune"]
    picked = pick_distractors("Typically better at scale", hedged, "Larger models typically do better.")
    assert picked == ["Worse on small data", "Slower to train", "Harder to tune"]
    template = ["Estimating p(x)", "Generating p(x)", "Learning p(x)", "Classifying images"]
    picked = pick_distractors("Representation learning", template, "VAEs learn representations.")
    assert check_one_template(mcq("Q?", ["Representation learning", *picked], "Representation learning", "E.")) is None


def test_a_question_that_holds_its_key_is_rejected():
    # a real 1.5B item that passed every other check
    item = mcq(
        "What is another concept related to the reliability of models, not tied to distribution shift, "
        "is model calibration?",
        ["Calibration", "Model validation", "Model selection", "Model optimization"],
        "Calibration",
        "E.",
    )
    assert check_key_in_question(item) == "key_in_question"
    assert check_key_in_question(GOOD_MCQ) is None
    partly = mcq(
        "What robustifies models trained on clean data?",
        ["Adversarial training", "Dropout", "Pruning", "Distillation"],
        "Adversarial training",
        "E.",
    )
    assert check_key_in_question(partly) is None  # "training" alone does not give "adversarial training" away


def test_a_statement_is_not_a_question():
    copied = mcq(
        "Specifically, use the negative max softmax probability as the anomaly score",
        GOOD_MCQ.options,
        GOOD_MCQ.answer,
        "E.",
    )
    assert check_is_question(copied) == "not_a_question"
    assert check_is_question(GOOD_MCQ) is None
    # a slide line with a question mark put before the question: two questions in one stem
    two = mcq(
        f"Other models are catching up, but slower to generate? {GOOD_MCQ.question}",
        GOOD_MCQ.options,
        GOOD_MCQ.answer,
        "E.",
    )
    assert check_is_question(two) == "not_a_question"
    statement = PracticeItem("AT can reduce clean accuracy by 10% or more.", "tf", ["True", "False"], "True", "E.", [])
    assert check_is_question(statement) is None  # true/false items are statements
    lead_in = PracticeItem("For all students with standard accommodations:", "tf", ["True", "False"], "True", "E.", [])
    assert check_is_question(lead_in) == "not_a_question"  # a bullet leading into others states nothing


# --- self-contained ---------------------------------------------------------------------------------------------------


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
        data = Draft(f"Q{n}?", "E.", options=["None of the above", "right", "w1", "w2"], answer_index=1)
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
    for question in [
        "What is the purpose of masking out parts of the input and predicting these parts?",
        "Which of these models has the most parameters?",
        "Which of these is a generative model?",
    ]:
        assert check_self_contained(mcq(question, GOOD_MCQ.options, GOOD_MCQ.answer, "E.")) is None, question
    assert (
        check_self_contained(
            mcq("What fraction of the image patches does MAE mask?", ["75%", "15%", "50%", "25%"], "75%", "E.")
        )
        is None
    )


SEQ_SLIDE = (
    "Sequential outputs\nThis is what our RNN will look like for \u201csequence input, single output\u201d\n"
    "What about sequence output? Just have an output at every layer\n"
    "How do these models typically solve new tasks?"
)


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


# --- support ----------------------------------------------------------------------------------------------------------


def test_key_from_the_slide_is_supported():
    assert check_supported(GOOD_MCQ, AT_SLIDE) is None
    item = mcq(
        "By how much can adversarial training reduce clean accuracy?",
        ["10% or more", "1%", "50%", "0%"],
        "10% or more",
        "AT can reduce accuracy on non-adversarial (clean) examples by 10%+.",
    )
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
    good = PracticeItem(
        "GANs are density models.",
        "tf",
        ["True", "False"],
        "False",
        "GANs are not density models: there is no way to obtain probability estimates from a GAN.",
        [],
    )
    bad = PracticeItem(
        "GANs are density models.",
        "tf",
        ["True", "False"],
        "False",
        "GANs are trained with a variational lower bound on the log-likelihood.",
        [],
    )
    assert check_supported(good, GAN_SLIDE) is None
    assert check_supported(bad, GAN_SLIDE) == "unsupported_key"


# --- duplicate questions, self-check, all checks ----------------------------------------------------------------------


def test_duplicate_question_is_rejected():
    previous = ["What is the best known way to make models robust to lp attacks?"]
    reworded = mcq(
        "What is the best known way to make a model robust to lp attacks?",
        GOOD_MCQ.options,
        GOOD_MCQ.answer,
        GOOD_MCQ.explanation,
    )
    assert check_duplicate_question(GOOD_MCQ, previous) == "duplicate_question"
    assert check_duplicate_question(reworded, previous) == "duplicate_question"
    other = mcq(
        "By how much can adversarial training reduce clean accuracy?", ["10%+", "1%", "50%", "0%"], "10%+", "E."
    )
    assert check_duplicate_question(other, previous) is None
    assert check_duplicate_question(other, []) is None


def test_a_new_question_with_an_earlier_key_from_the_same_slide_is_a_duplicate():
    from dataclasses import replace

    from assistant.practice.checks import check_same_answer

    score = mcq(
        "What is the anomaly score of the simple baseline?",
        ["-max_k p(y = k | x)", "a", "b", "c"],
        "-max_k p(y = k | x)",
        "E.",
    )
    again = mcq(
        "What is the anomaly score calculated from the model's confidence?",
        ["-max_k p(y = k \\mid \\mathbf{x})", "d", "e", "f"],
        "-max_k p(y = k \\mid \\mathbf{x})",
        "E.",
    )
    assert check_same_answer(again, [score], bag_of_words) == "duplicate_question"
    elsewhere = [replace(SOURCE[0], slide_id="deck#21")]
    assert check_same_answer(again, [replace(score, source=elsewhere)], bag_of_words) is None  # another slide
    assert check_same_answer(again, [GOOD_MCQ], bag_of_words) is None  # another key
    true = PracticeItem("AT costs clean accuracy.", "tf", ["True", "False"], "True", "E.", SOURCE)
    assert check_same_answer(replace(true, question="AT helps."), [true]) is None


def test_keys_from_one_slide_that_state_one_fact_make_a_duplicate_with_the_real_embedder(embedder):
    from dataclasses import replace

    from assistant.practice.checks import check_same_answer

    first = mcq(
        "What does invariance in feature learning mean?",
        [],
        "We wish for the feature distributions between the source and target data to look identical",
        "E.",
    )
    same = replace(
        first,
        question="What is the main goal of invariant feature learning?",
        answer="To make the feature distributions between the source and target data look identical",
    )
    other = replace(
        first,
        question="What do we not assume in domain adaptation?",
        answer="That the target domain has abundant labelled data",
    )
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
    assert set(REASONS) == {
        "unparseable",
        "mcq_shape",
        "duplicate_options",
        "distractor_on_slide",
        "not_self_contained",
        "unsupported_key",
        "duplicate_question",
        "self_check_failed",
        "not_a_question",
        "key_stands_out",
        "negated_distractors",
        "one_template",
        "absolute_options",
        "mixed_kinds",
        "member_of_key",
        "distractor_true",
        "key_in_question",
        "slide_question",
    }


# --- with the embedder ------------------------------------------------------------------------------------------------


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
        (
            "What is the best known way to make models robust to lp attacks?",
            "Which method is the best known way to robustify a model against lp attacks?",
            True,
        ),
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


def test_a_wrong_option_with_two_roles_traded_is_a_distractor_not_a_duplicate(embed):
    key = "Abundant training data from a source domain and a little from the target domain"
    swapped = "Abundant training data from the target domain and a little from a source domain"
    options = [key, swapped, "Labels for every test input", "No training data at all"]
    item = mcq("What does domain adaptation assume?", options, key, "E.")
    assert check_duplicate_options(item, embed) is None  # same words, so the word check alone made them one
    assert pick_distractors(key, options[1:], "", embed=embed)[0] == swapped
    # the same words reworded, or a list in another order, are still one answer
    reworded = mcq(
        "What does domain adaptation assume?",
        [key, "Source domain data", "Data from the source domain", "X"],
        key,
        "E.",
    )
    assert check_duplicate_options(reworded) == "duplicate_options"
    listed = ["Contradiction, neutrality, or entailment", "Entailment, neutrality, or contradiction", "Yes", "No"]
    assert check_duplicate_options(mcq("Which labels?", listed, listed[0], "E."), embed) == "duplicate_options"


def test_a_long_wrong_option_that_flips_the_key_is_a_distractor_but_a_reworded_one_is_not(embed):
    stem = "To train a model against an adversary that can change the data distribution to make the model"
    flips = [f"{stem} worse", f"{stem} better", "To label more data", "To shrink the model"]
    assert check_duplicate_options(mcq("What is distributional robustness for?", flips, flips[0], "E."), embed) is None
    prefixed = ["A small norm keeps the model tractable", "A small norm keeps the model intractable", "X", "Y"]
    assert check_duplicate_options(mcq("Why that threat model?", prefixed, prefixed[0], "E."), embed) is None
    key = "Model calibration is a method of adjusting the confidence of a model to match its accuracy"
    reworded = [key, key.replace("a method", "a process"), "Pruning a model", "Training a model longer"]
    assert check_duplicate_options(mcq("What is model calibration?", reworded, key, "E."), embed) == "duplicate_options"


def test_embedder_keeps_one_word_flip_distractors(embed):
    options = ["Larger models require fewer samples", "Larger models require more samples", "More GPUs", "Longer runs"]
    item = mcq("What do larger models need to reach the same performance?", options, options[0], "E.")
    assert check_duplicate_options(item, embed) is None
    options = [
        "Negative maximum softmax probability",
        "Negative max softmax probability",
        "Reconstruction error",
        "Density",
    ]
    near = mcq("What is the anomaly score?", options, options[1], "E.")
    assert check_duplicate_options(near, embed) == "duplicate_options"


@pytest.mark.parametrize(
    ("good", "answer", "explanation"),
    [
        (
            True,
            "Adversarial training",
            "Adversarial training is the best way we know to robustify models to lp attacks.",
        ),
        (
            True,
            "Train on adversarial examples created from each minibatch",
            "AT creates adversarial examples (e.g. with PGD) for each minibatch and optimizes the loss on them.",
        ),
        (False, "Dropout regularization", "Dropout prevents co-adaptation of neurons and improves robustness."),
        (False, "Weight decay", "The best way to robustify models to lp attacks is adversarial training."),
        (False, "Randomized smoothing", "Certified defences add Gaussian noise to inputs at test time."),
    ],
)
def test_support_with_the_embedder(embed, good, answer, explanation):
    item = mcq("Q?", [answer, "x", "y", "z"], answer, explanation)
    assert (check_supported(item, AT_SLIDE, embed) is None) == good

"""``generate_set`` with a scripted model (retries, repairs, extra slots, prompts), then one real-model run.

The ``slow`` test generates 15 MCQs with the default chat model (tens of minutes on 2 cores).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter

import pytest

from assistant.errors import AssistantError
from assistant.practice.checks import REASONS, check_item
from assistant.practice.drafting import to_item
from assistant.practice.parsing import Draft
from tests.fakes import (
    AT_REPLY,
    AT_SLIDE,
    GAN2_REPLY,
    GAN_REPLY,
    WordByWordScript,
    chunk,
    fake_assistant,
    mcq_reply,
)

log = logging.getLogger(__name__)

# --- generate_set with a scripted model -------------------------------------------------------------------------------


def test_generate_set_retries_rejects_and_counts():
    from assistant.practice.sets import generate_set

    replies = [
        "Sorry, I cannot do that.",  # slide 31, attempt 1: unparseable
        AT_REPLY,  # attempt 2: accepted, the self-check agreeing in every order
        GAN_REPLY,  # slide 37: asked earlier in the session
        GAN2_REPLY,  # the self-check disagrees with the key
        mcq_reply("Q?", ["a", "b", "c"], 0, "E."),  # two failures on slide 37: back on slide 31, three options
        mcq_reply("According to the slide, what robustifies models?", ["AT", "Dropout", "Decay", "Stop"], 0, "AT."),
    ]
    picks = {
        "What is the best known way to make models robust to lp attacks?": "Adversarial training",
        "Why are GANs hard to evaluate?": "They need labels",
    }
    assistant, gen = fake_assistant(replies, picks)
    events: list[tuple[int, int, str]] = []
    seen = ["Usually, which metrics are used to evaluate GANs?"]
    result = generate_set(
        assistant, section="robust", n=2, seen=seen, max_attempts_per_item=3, progress=lambda *e: events.append(e)
    )
    assert [i.question for i in result.items] == ["What is the best known way to make models robust to lp attacks?"]
    assert result.rejections == Counter(
        unparseable=1, not_self_contained=1, self_check_failed=1, duplicate_question=1, mcq_shape=1
    )
    assert result.attempts == 6 and result.first_try_accepted == 0 and len(result.seconds_per_accepted) == 1
    assert result.barren == ["GANs summary"]
    assert result.message == (
        "Generated 1 of 2 questions: the slides of this section support no more. "
        "No item passed the checks on: GANs summary."
    )
    assert events[-1] == (1, 2, "done")
    generation_prompts = [p for p in gen.prompts if "Reply with JSON" in p]
    assert len(set(generation_prompts)) == len(generation_prompts)  # every retry asks differently
    assert "Adversarial training (AT)" in generation_prompts[4]  # after two failures on slide 37, another slide
    assert all("CS 182" not in p for p in gen.prompts)  # the title slide is too short to ask about
    readings = [p for p in gen.prompts if "Question: What is the best known way" in p and "letter only" in p]
    keys = [re.search(r"^([A-D])\. Adversarial training$", p, re.MULTILINE)[1] for p in readings]
    assert len(readings) == 3 and len(set(readings)) == 3 and len(set(keys)) >= 2  # the key read in other places
    assert sum("Question: Why are GANs" in p and "letter only" in p for p in gen.prompts) == 1  # one wrong reading
    # the wrong options of both drafts that reached the readings were each put to the model once
    assert sum("Proposed answer: " in p for p in gen.prompts) == 6


def test_generate_set_spends_unused_attempts_on_an_extra_slot():
    from assistant.practice.sets import generate_set

    bad = "not json"
    clean = mcq_reply(
        "By how much can adversarial training reduce accuracy on clean examples?",
        ["10% or more", "1%", "50% or more", "It raises it"],
        0,
        "AT can reduce accuracy on non adversarial (clean) examples by 10%+.",
    )
    # slide 31 succeeds, slide 37 fails three times, the extra slot goes to the least-used slide (31 again)
    replies = [AT_REPLY, bad, bad, bad, clean]
    picks = {
        "What is the best known way to make models robust to lp attacks?": "Adversarial training",
        "By how much can adversarial training reduce accuracy on clean examples?": "10% or more",
    }
    assistant, _ = fake_assistant(replies, picks)
    result = generate_set(assistant, section="Robustness", n=2, max_attempts_per_item=3)
    assert len(result.items) == 2 and result.attempts == 5 and result.first_try_accepted == 2
    assert result.rejections == Counter(unparseable=3)
    assert result.message == 'Generated 2 questions from section "Robustness".'
    assert len(result.seconds_per_accepted) == 2


def test_a_slide_that_repeats_its_question_gives_way_to_another():
    from assistant.practice.sets import generate_set

    pointer = mcq_reply(
        "According to the slide, what robustifies models?", ["AT", "Dropout", "Decay", "Stop"], 0, "AT."
    )
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
    near_copies = mcq_reply(
        question, ["Adversarial training", "Adversarial training of models", "Dropout", "Weight decay"], 0, explanation
    )
    # of five new wrong options, a rewording of the key and a repeat are skipped
    new_wrong = json.dumps(
        {"wrong": ["Dropout", "Adversarially trained models", "Weight decay", "Dropout", "Early stopping"]}
    )
    repaired = to_item(
        Draft(
            question,
            explanation,
            options=["Adversarial training", "Dropout", "Weight decay", "Early stopping"],
            answer_index=0,
        ),
        "mcq",
        chunk(0, "", "", ""),
    )
    gan_copies = mcq_reply(
        "Why are GANs hard to evaluate?",
        ["They are not density models", "They are slow", "Not density models", "Density models they are not"],
        0,
        "GANs are not density models, so there is no way to obtain probability estimates.",
    )
    still_bad = json.dumps({"wrong": ["They are not density models", "They are slow", "They overfit"]})
    replies = [
        near_copies,
        new_wrong,  # slide 31: repaired, then accepted
        gan_copies,
        still_bad,
        "not json",
    ]  # slide 37: repaired once, still bad, then fresh drafts
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
    # the key's members are read without a slide; a wrong option's truth is read with it, but not as a draft
    drafted = [p for p in gen.prompts if "another name for" not in p and "Proposed answer: " not in p]
    assert "Reply with JSON only, on one line" in drafted[7]  # no second repair of the same draft
    assert all(p.startswith("Course slides:\n\n[1] ") for p in drafted)  # one shared opening, then the task


def test_a_repair_keeps_the_drafts_good_wrong_options_where_too_few_new_ones_qualify():
    """Two usable new wrong options and one usable old one make a full set, without another call."""
    from assistant.practice.sets import generate_set

    question = "What is the best known way to make models robust to lp attacks?"
    explanation = "Adversarial training is the best way we know of to robustify models to lp attacks."
    draft = mcq_reply(
        question, ["Adversarial training", "Adversarial training of models", "Dropout", "Weight decay"], 0, explanation
    )
    two_new = json.dumps({"wrong": ["Early stopping", "Adversarially trained models", "Label smoothing"]})
    assistant, _ = fake_assistant([draft, two_new], {question: "Adversarial training"})
    result = generate_set(assistant, section="Robustness", n=1, max_attempts_per_item=1)
    (item,) = result.items
    new, old = {"Early stopping", "Label smoothing"}, set(item.options) - {"Adversarial training"}
    assert new < old and old - new <= {"Dropout", "Weight decay"}  # the near-copy of the key is not kept
    assert result.repaired == 1 and result.rejections == Counter(duplicate_options=1)


def test_a_draft_cut_at_its_second_unusable_wrong_answer_goes_to_new_wrong_answers():
    from assistant.practice.sets import generate_set

    question = "What is the best known way to make models robust to lp attacks?"
    copies = json.dumps(
        {
            "question": question,
            "answer": "Adversarial training",
            "wrong": ["Adversarial training", "Adversarial training", "Dropout", "Weight decay"],
        }
    )
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
    copies = json.dumps(
        {
            "question": question,
            "answer": "Adversarial training",
            "wrong": ["Adversarial training", "Adversarial training", "Dropout", "Weight decay"],
        }
    )
    five = json.dumps(
        {
            "wrong": [
                "Dropout",
                "Adversarially trained models",
                "Weight decay",
                "Early stopping",
                "Label smoothing",
                "Mixup",
            ]
        }
    )
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
    from assistant.practice.sets import _prompt_for
    from assistant.practice.slides import focus_lines

    c = chunk(31, "S", "Adversarial training (AT)", AT_SLIDE)
    lines = focus_lines(c)
    asked, visits = {c.slide_id: ["What is adversarial training?"]}, Counter()
    prompts = [_prompt_for("mcq", c, asked, [], visits, True)[1]["content"] for _ in range(len(lines) + 1)]
    for line, prompt in zip(lines, prompts[:-1], strict=True):
        assert line in prompt and "What is adversarial training?" not in prompt
    assert "Ask about a different fact than" in prompts[-1] and "What is adversarial training?" in prompts[-1]


def test_generate_set_rejects_unknown_inputs():
    from assistant.practice.sets import generate_set

    assistant, _ = fake_assistant([])
    with pytest.raises(AssistantError, match="unknown question type"):
        generate_set(assistant, qtype="essay")
    with pytest.raises(AssistantError, match="Robustness"):
        generate_set(assistant, section="Reinforcement learning")
    with pytest.raises(AssistantError, match="unknown slide id"):
        generate_set(assistant, slide_ids=["nope#1"])


# --- the real model ---------------------------------------------------------------------------------------------------


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
    """Acceptance: MCQs per section, each passing every check, citing that section, no duplicates.

    The default model (1.5B) on the default engine, as a student's Practice tab runs it. A slide stops
    being drafted on after its first flawed drafts (docs/decisions/practice-repair-limits.md), so a
    set may come short; then its message names the slides that yielded nothing.
    """
    from assistant.practice.sets import generate_set
    from assistant.practice.slides import slide_text

    assistant = assistant_default
    chunks = {c.slide_id: c for c in assistant.index.chunks}
    all_questions: list[str] = []
    total = Counter()
    for section in SECTIONS:
        start = time.perf_counter()
        result = generate_set(assistant, section=section, n=5, qtype="mcq", seen=all_questions)
        log.warning(
            "%s: %d items, %d attempts, rejections %s, %.0f s (%s)",
            section,
            len(result.items),
            result.attempts,
            dict(result.rejections),
            time.perf_counter() - start,
            result.seconds_per_accepted,
        )
        # A section may yield one item: 3 and 1 of 5 in 35 attempts each on 2026-12-03 (issue 25's yield)
        assert result.items, result.message
        if len(result.items) < 5:
            assert "No item passed the checks on:" in result.message
        assert result.attempts == len(result.items) + sum(result.rejections.values())
        assert set(result.rejections) <= set(REASONS)
        total += result.rejections
        previous: list[str] = list(all_questions)
        for item in result.items:
            assert item.type == "mcq" and len(item.options) == 4 and item.answer in item.options
            (source,) = item.source
            slide = chunks[source.slide_id]
            assert slide.section == section
            assert check_item(item, slide_text(slide), previous, assistant.embedder.embed) is None
            previous.append(item.question)
        all_questions.extend(i.question for i in result.items)
    log.warning("rejections over the three sections: %s", dict(total))

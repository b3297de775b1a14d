"""Drafting one item: the prompts, a reply as an item, a draft stopped early, which faults a repair can fix."""

from __future__ import annotations

import json
from dataclasses import replace

from assistant.practice.drafting import build_messages, to_item, wrong_options_at_fault
from assistant.practice.parsing import Draft, parse_letter
from assistant.practice.streaming import QuestionWatch, complete
from tests.fakes import AT_SLIDE, WordByWordScript, bag_of_words, chunk, mcq


def test_prompt_holds_one_slide_and_varies_on_retry():
    c = chunk(31, "S", "Adversarial training (AT)", AT_SLIDE)
    first = build_messages("mcq", c)
    retry = build_messages("mcq", c, avoid=["What is the best way to robustify models?"])
    assert "Adversarial training (AT)" in first[1]["content"] and '"wrong"' in first[1]["content"]
    assert "Ask about a different fact than" in retry[1]["content"] and first != retry
    assert "$" not in build_messages("tf", c, truth=False)[1]["content"].replace(AT_SLIDE, "")


def test_to_item_shuffles_options_but_keeps_the_key():
    c = chunk(31, "S", "Adversarial training (AT)", AT_SLIDE)
    data = Draft("Q?", "E.", options=["right", "w1", "w2", "w3"], answer_index=0)
    item = to_item(data, "mcq", c)
    assert item.answer == "right" and sorted(item.options) == sorted(data.options)
    assert item.to_dict()["source"] == [
        {"id": "d#31", "title": "Adversarial training (AT)", "deck": "Deck", "slide": 31}
    ]
    keys = {to_item(replace(data, question=f"Q{i}?"), "mcq", c).key_index for i in range(20)}
    assert len(keys) > 1  # the key is not always A
    tf = to_item(Draft("S.", "E.", answer=False), "tf", c)
    assert tf.options == ["True", "False"] and tf.answer == "False"


DRAFT = [{"role": "user", "content": "a draft"}]


def test_a_draft_stops_as_soon_as_its_question_fails():
    """The key and wrong answers of a question that is rejected anyway are not written (decoding is the cost)."""
    vague = json.dumps(
        {
            "question": "What does the slide say about robustness to lp attacks?",
            "answer": "Adversarial training",
            "wrong": ["Dropout", "Weight decay", "Early stopping", "L2"],
        }
    )
    gen = WordByWordScript([vague])
    watch = QuestionWatch("mcq", AT_SLIDE, [], None)
    complete(gen, DRAFT, 160, stop=watch)
    assert watch.question == "Which statement about robustness to lp attacks is true?"  # reworded, and it passes
    assert watch.reason is None and gen.sent == len(vague.split(" ")) - 1  # three usable wrong answers: no "L2"
    assert watch.full == (watch.question, "Adversarial training", ["Dropout", "Weight decay", "Early stopping"])
    key_asked = json.dumps(
        {
            "question": "Is adversarial training the best known defence?",
            "answer": "Adversarial training",
            "wrong": ["Dropout", "Weight decay", "L2", "L1"],
        }
    )
    gen = WordByWordScript([key_asked])
    watch = QuestionWatch("mcq", AT_SLIDE, [], None)
    complete(gen, DRAFT, 160, stop=watch)
    assert watch.reason == "key_in_question" and gen.sent == key_asked.split(" ").index('"wrong":')  # no more
    off_slide = json.dumps(
        {
            "question": "What is the best known way to make models robust to lp attacks?",
            "answer": "Gradient clipping",
            "wrong": ["Dropout", "Weight decay", "L2", "L1"],
        }
    )
    slide = chunk(31, "S", "Adversarial training (AT)", AT_SLIDE)
    for given, reason in ((slide, "unsupported_key"), (None, None)):  # without the slide, the key is not judged
        gen = WordByWordScript([off_slide])
        watch = QuestionWatch("mcq", AT_SLIDE, [], None, given)
        complete(gen, DRAFT, 160, stop=watch)
        assert watch.reason == reason and (gen.sent == off_slide.split(" ").index('"wrong":')) == (reason is not None)
    asked_before = json.dumps(
        {
            "question": "What is the best known way to make models robust to lp attacks?",
            "answer": "Adversarial training",
            "wrong": ["Dropout", "Weight decay", "L2", "L1"],
        }
    )
    gen = WordByWordScript([asked_before])
    watch = QuestionWatch("mcq", AT_SLIDE, ["What is the best known way to make models robust to lp attacks?"], None)
    complete(gen, DRAFT, 160, stop=watch)
    assert watch.reason == "duplicate_question" and gen.sent == asked_before.split(" ").index('"answer":')  # no more
    gen = WordByWordScript(["Answer: B, because the slide says so"])  # a self-check reading ends at its letter
    assert complete(gen, DRAFT, 4, stop_at_json=False, stop=lambda text: parse_letter(text, 4) is not None) == (
        "Answer: B, "
    )
    copies = json.dumps(
        {
            "question": "What is the best known way to make models robust to lp attacks?",
            "answer": "Adversarial training",
            "wrong": ["Dropout", "Adversarial training", "Dropout", "Weight decay"],
        }
    )
    gen = WordByWordScript([copies])
    watch = QuestionWatch("mcq", AT_SLIDE, [], None)
    complete(gen, DRAFT, 160, stop=watch)
    assert watch.reason is None and gen.sent < len(copies.split(" "))  # "Weight decay" is not written
    assert watch.cut == (
        "What is the best known way to make models robust to lp attacks?",
        "Adversarial training",
        ["Dropout", "Adversarial training", "Dropout"],
    )


def test_only_faults_of_the_wrong_options_are_repaired():
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

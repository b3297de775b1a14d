"""The checks on a model-written practice question: pure functions, one rejection reason each.

A small local model writes plausible-looking questions that are often wrong in ways a student
cannot see: two options that say the same thing, a key the slide never states, a question that
points at "the slide" the student is not shown. Every check here (and in ``checks_options``, the
checks on an MCQ's options) returns the reason it rejects an item (a key of ``PracticeSet.rejections``)
or ``None``; ``sets.generate_set`` runs them all and never hands out an item that failed one.
Embedding evidence is optional (``embed`` may be None), so the checks also run, lexically, without a model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from assistant.answering.citations import lexical_support
from assistant.answering.excerpt import Embed
from assistant.practice.checks_options import (
    check_absolute_options,
    check_duplicate_options,
    check_key_stands_out,
    check_negated_distractors,
    check_one_template,
    check_option_kinds,
    is_last_option,
    near_duplicate,
)
from assistant.practice.items import PracticeItem
from assistant.practice.options_on_slide import check_distractors
from assistant.practice.parsing import parse_letter
from assistant.practice.wording import content_words, jaccard, numbers, option_form, unmatched

REASONS = (
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
)

# Calibrated on the hand-made cases in tests/test_practice_checks.py and on MiniLM cosines:
QUESTION_JACCARD = 0.7
QUESTION_COSINE = 0.92
# Keys from one slide this close say one fact: 0.946 for "We wish for the feature distributions between the
# source and target data to look identical" / "To make the feature distributions … look identical"; the
# other same-slide pairs of a 20-question run were at 0.12-0.67.
SAME_KEY_COSINE = 0.9
# A key (with its explanation) is supported when enough of its words are on the slide OR it is close in
# meaning; the key alone must also pass a looser bar, since an explanation copied from the slide can
# carry a wrong key past the combined test.
SUPPORT_LEXICAL = 0.6
SUPPORT_COSINE = 0.75
KEY_LEXICAL = 0.5
KEY_COSINE = 0.5

_NOT_SELF_CONTAINED = re.compile(
    r"\b(the|this|that|these) slides?\b|\b(the|this) (passage|excerpt|figure)\b|\bthe (text|passage) above\b"
    r"|\b(shown|mentioned|described|given|stated) above\b|\baccording to the (above|text|slide|passage)\b"
    r"|\bthe (given|provided)\b",  # "in the given problem setup": given where?
    re.IGNORECASE,
)
# "these models" with no models named before it points at something the student is not shown ("of these" is
# the options)
_DEMONSTRATIVE = re.compile(r"(?<!\bof )\b(?:these|those)\s+([a-z][\w-]*)", re.IGNORECASE)
_SLIDE_QUESTION = re.compile(r"[^?.!\n]*\?")
# Options that point at other options break when options are shuffled, and are not answers on their own
# (but see ``is_last_option``).
_OPTION_REFERENCE = re.compile(
    r"\b(all|none|both|neither) of (the )?(above|these|those|options)\b|\bboth [a-d] and [a-d]\b", re.IGNORECASE
)


def check_is_question(item: PracticeItem) -> str | None:
    """An MCQ or short-answer item must ask one thing: small models copy a slide's bullet as the "question",
    or put one of the slide's lines, with a question mark, before the question. A true/false statement must
    state something: a bullet that leads into others ("For all students with standard accommodations:")
    does not."""
    if item.type == "tf":
        return "not_a_question" if item.question.rstrip().endswith(":") else None
    if not item.question.rstrip().endswith("?") or item.question.count("?") > 1:
        return "not_a_question"
    return None


def check_key_in_question(item: PracticeItem) -> str | None:
    """A question that holds every word of its key ("... is model calibration?" / "calibration") tests nothing."""
    if item.type == "tf":
        return None
    key = set(content_words(item.answer))
    return "key_in_question" if key and not unmatched(key, set(content_words(item.question))) else None


_ABOUT_THE_SLIDE = re.compile(
    r"^\s*what (?:does|do) (?:the|this) (?:slides?|text|passage|lecture) (?:say|state|claim|suggest|tell us|mention"
    r"|describe) about (?P<topic>.+?)\s*\?*\s*$",
    re.IGNORECASE,
)


def reword_slide_reference(question: str) -> str:
    """ "What does the slide state about X?" as "Which statement about X is true?": the same question,
    answerable without the slide. Given a slide line to ask about, the 1.5B phrased 14 of 47 drafts
    over three sections so; everything else ``check_self_contained`` still rejects."""
    match = _ABOUT_THE_SLIDE.match(question)
    return f"Which statement about {match['topic']} is true?" if match else question


def _dangling(question: str) -> bool:
    """Whether "these"/"those" + a noun refers to nothing named earlier in ``question`` ("... parts of the
    input and predicting these parts" refers; "What is similar about these models?" does not)."""
    for match in _DEMONSTRATIVE.finditer(question):
        noun = set(content_words(match.group(1)))
        if noun and unmatched(noun, set(content_words(question[: match.start()]))):
            return True
    return False


def check_self_contained(item: PracticeItem) -> str | None:
    """The student sees the question, never the slide: "according to the slide" cannot be answered."""
    if _NOT_SELF_CONTAINED.search(item.question) or _dangling(item.question):
        return "not_self_contained"
    for option in item.options:
        points_elsewhere = _OPTION_REFERENCE.search(option) and not (is_last_option(option) and option != item.answer)
        if _NOT_SELF_CONTAINED.search(option) or points_elsewhere:
            return "not_self_contained"
    return None


def check_slide_question(item: PracticeItem, slide_text: str) -> str | None:
    """A question the slide itself asks is a study prompt, not a fact: review slides list questions they
    leave open ("How do these models typically solve new tasks?") or answer in a fragment ("What about
    sequence output? Just have an output at every layer"), and a key written for either is a guess.

    The title's question counts too: over a list ("What improves distributional robustness?") it has
    several right answers, and with the title exempt, 20 MCQs took 110 attempts instead of 104.
    """
    for asked in _SLIDE_QUESTION.findall(slide_text):
        if option_form(asked) == option_form(item.question) or jaccard(asked, item.question) >= QUESTION_JACCARD:
            return "slide_question"
    return None


def key_claim(item: PracticeItem) -> str:
    """The text that must be true on the slide: the correct option, the true statement, or the short key.

    A false TF statement is, by design, not on the slide; its explanation (the correction) is.
    """
    if item.type == "tf":
        return item.question if item.answer == "True" else ""
    return item.answer


def _cosine(embed: Embed, a: str, b: str) -> float:
    vectors = embed([a, b])
    return float(vectors[0] @ vectors[1])


def support_scores(item: PracticeItem, slide_text: str, embed: Embed | None = None) -> dict[str, float]:
    """Lexical and dense support of the key (with and without its explanation) by the slide."""
    claim = key_claim(item)
    combined = f"{claim} {item.explanation}".strip()
    scores = {"lexical": lexical_support(combined, slide_text), "key_lexical": lexical_support(claim, slide_text)}
    if embed is not None:
        scores["dense"] = _cosine(embed, combined, slide_text)
        scores["key_dense"] = _cosine(embed, claim, slide_text) if claim else 1.0
    return scores


def is_supported(scores: dict[str, float]) -> bool:
    """Both the key with its explanation and the key alone must pass, each lexically or by meaning."""
    combined = scores["lexical"] >= SUPPORT_LEXICAL or scores.get("dense", 0.0) >= SUPPORT_COSINE
    alone = scores["key_lexical"] >= KEY_LEXICAL or scores.get("key_dense", 0.0) >= KEY_COSINE
    return combined and alone


def check_supported(item: PracticeItem, slide_text: str, embed: Embed | None = None) -> str | None:
    """The key must come from the source slide (numbers exactly), or the quiz teaches the model's guess."""
    claim = key_claim(item)
    if not numbers(claim) <= numbers(slide_text):
        return "unsupported_key"
    return None if is_supported(support_scores(item, slide_text, embed)) else "unsupported_key"


def check_duplicate_question(item: PracticeItem, previous: Sequence[str], embed: Embed | None = None) -> str | None:
    """A question already asked in this set or session, reworded or not, wastes the student's time."""
    previous = [p for p in previous if p.strip()]
    if not previous:
        return None
    if any(
        option_form(item.question) == option_form(p) or jaccard(item.question, p) >= QUESTION_JACCARD for p in previous
    ):
        return "duplicate_question"
    if embed is not None:
        vectors = embed([item.question, *previous])
        if float(np.max(vectors[1:] @ vectors[0])) >= QUESTION_COSINE:
            return "duplicate_question"
    return None


def check_same_answer(item: PracticeItem, earlier: Sequence[PracticeItem], embed: Embed | None = None) -> str | None:
    """A question on a slide already asked about whose key says the earlier key again is that question again.

    The question check misses such a pair, their words differ: "What is the anomaly score used in the
    simple baseline …?" and "What is the anomaly score calculated from the model's confidence?", both
    keyed "-max_k p(y = k | x)" from one slide. Keys from one slide are compared more loosely than
    options (``SAME_KEY_COSINE``), as they need not be near-copies to state one fact. True/false keys
    say nothing about the question.
    """
    if item.type == "tf" or not item.source:
        return None
    slide = item.source[0].slide_id
    keys = [e.answer for e in earlier if e.type != "tf" and e.source and e.source[0].slide_id == slide]
    if any(near_duplicate(item.answer, key) for key in keys):
        return "duplicate_question"
    if embed is not None and keys:
        vectors = embed([item.answer, *keys])
        if float(np.max(vectors[1:] @ vectors[0])) >= SAME_KEY_COSINE:
            return "duplicate_question"
    return None


def check_self_check(reply: str, key_index: int, count: int) -> str | None:
    """A second reading of the slide must pick the same option as the key, or the key is doubtful."""
    return None if parse_letter(reply, count) == key_index else "self_check_failed"


def check_question(
    item: PracticeItem, slide_text: str, previous: Iterable[str] = (), embed: Embed | None = None
) -> str | None:
    """The checks a question passes or fails on its own, whatever its options: a question, not pointing
    at what the student does not see, not the slide's own, not one already asked."""
    return (
        check_is_question(item)
        or check_self_contained(item)
        or check_slide_question(item, slide_text)
        or check_duplicate_question(item, list(previous), embed)
    )


def check_item(
    item: PracticeItem, slide_text: str, previous: Iterable[str] = (), embed: Embed | None = None
) -> str | None:
    """All checks after parsing, cheapest first: the first reason that rejects ``item``, or None."""
    return (
        check_is_question(item)
        or check_key_in_question(item)
        or check_self_contained(item)
        or check_slide_question(item, slide_text)
        or check_duplicate_options(item, embed)
        or check_key_stands_out(item)
        or check_negated_distractors(item)
        or check_one_template(item)
        or check_absolute_options(item)
        or check_option_kinds(item)
        or check_distractors(item, slide_text)
        or check_supported(item, slide_text, embed)
        or check_duplicate_question(item, list(previous), embed)
    )

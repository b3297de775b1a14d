"""A wrong option the slide states: two keys, an unfair item. Read lexically: a run of the slide's words,
one slide sentence shortened, or words of the key's own line.

Like every check (``checks``), ``check_distractors`` returns the reason it rejects an item or None.
"""

from __future__ import annotations

import re

from assistant.practice.items import PracticeItem
from assistant.practice.wording import NEGATIONS, content_words, same_word, unmatched

DISTRACTOR_RUN = 0.75  # share of a distractor's words found as one run on the slide that makes it a slide fact
# Or all of its words (this many or more) in order in one slide sentence, at most LINE_GAP words apart
LINE_WORDS, LINE_GAP = 4, 4


def _longest_run(words: list[str], slide: list[str]) -> tuple[int, int]:
    """Length of the longest run of ``words`` found contiguous in ``slide``, and where it starts on the slide."""
    best, where = 0, -1
    for i in range(len(slide)):
        for j in range(len(words)):
            k = 0
            while i + k < len(slide) and j + k < len(words) and slide[i + k] == words[j + k]:
                k += 1
            if k > best:
                best, where = k, i
    return best, where


def check_distractors(item: PracticeItem, slide_text: str) -> str | None:
    """A distractor the slide states almost word for word is probably also correct: two keys, an unfair item.

    Small models fill MCQs with the slide's other bullet points ("To convert high dimensional data into
    lower dimensional representations" as a *wrong* reason to model densities). A run of at least
    ``DISTRACTOR_RUN`` of a distractor's words (3 or more) on the slide rejects it, unless the slide negates
    the run and the distractor does not (then the distractor contradicts the slide, as it should).
    """
    if item.type != "mcq":
        return None
    slide = content_words(slide_text)
    wrong = [option for option in item.options if option != item.answer]
    if any(slide_states(option, slide_text, slide) for option in wrong):
        return "distractor_on_slide"
    key_lines = _key_lines(item.answer, slide_text)
    if key_lines and any(_within(option, key_lines, item.question) for option in wrong):
        return "distractor_on_slide"
    return None


def slide_states(option: str, slide_text: str, slide_words: list[str]) -> bool:
    """Whether the slide states ``option``: a run of its words (``slide_words``), or one sentence shortened."""
    return states_slide_fact(option, slide_words) or restates_line(option, slide_text)


def _key_lines(key: str, slide_text: str) -> set[str]:
    """The words of the slide lines that state ``key`` (at least half of its words), or an empty set."""
    key_words = set(content_words(key))
    found: set[str] = set()
    for line in slide_text.splitlines():
        words = set(content_words(line))
        if key_words and len(unmatched(key_words, words)) <= len(key_words) / 2:
            found |= words
    return found


def _within(option: str, line: set[str], question: str) -> bool:
    """Whether a short option is made of words of the key's own lines that the question does not use.

    "Domains are also referred to as groups or subpopulations": with "subpopulations" as the key,
    "groups" from the same line is a second right answer, not a distractor.
    """
    words = set(content_words(option)) - set(content_words(question))
    return 0 < len(words) <= 2 and not unmatched(words, line)


def states_slide_fact(option: str, slide_words: list[str]) -> bool:
    """Whether ``option`` repeats a run of the slide (its ``content_words``), see ``check_distractors``."""
    words = content_words(option)
    if len(words) < 3:
        return False
    run, start = _longest_run(words, slide_words)
    if run < max(3, DISTRACTOR_RUN * len(words)):
        return False
    slide_negated = start > 0 and slide_words[start - 1] in NEGATIONS
    return not (slide_negated and not NEGATIONS & set(words))


def _one_word(a: str, b: str) -> bool:
    """``same_word`` for words of four letters or more, else only equal ones ("not" is no form of "notion")."""
    return a == b or (min(len(a), len(b)) > 3 and same_word(a, b))


def _in_order(words: list[str], line: list[str]) -> bool:
    """Whether ``words`` occur in ``line`` in their order, each within ``LINE_GAP`` words of the one before."""
    at = -1
    for word in words:
        end = len(line) if at < 0 else min(len(line), at + 1 + LINE_GAP)
        at = next((j for j in range(at + 1, end) if _one_word(word, line[j])), None)
        if at is None:
            return False
    return True


def restates_line(option: str, slide_text: str) -> bool:
    """Whether ``option`` is one slide sentence shortened: its words in order in that sentence, same polarity.

    "They do not provide a notion of a latent space" from "autoregressive models do not really provide
    a notion of a latent space", which a run of words misses. Roles swapped ("target" before "source")
    break the order, so such a distractor stays fair.
    """
    words = content_words(option)
    if len(words) < LINE_WORDS:
        return False
    negated_option = bool(NEGATIONS & set(words))
    for sentence in re.split(r"\n|(?<=[.;:])\s", slide_text):
        line = content_words(sentence)
        if bool(NEGATIONS & set(line)) == negated_option and _in_order(words, line):
            return True
    return False

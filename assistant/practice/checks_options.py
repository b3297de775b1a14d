"""The checks on an MCQ's options: four of them and one key, no two alike, none of the item-writing flaws
that give the key away (all wrong options negated, one template, absolute words, a bare number among
answers in words). A wrong option the slide states is read in ``options_on_slide``.

Like every check (``checks``), each returns the reason it rejects an item or None. ``pick_distractors``
chooses wrong options that will pass these checks from a longer list the model wrote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import combinations

from assistant.answering import truth
from assistant.answering.excerpt import Embed
from assistant.practice.items import PracticeItem
from assistant.practice.options_on_slide import slide_states
from assistant.practice.parsing import Draft
from assistant.practice.wording import NEGATIONS, content_words, option_form, unmatched
from assistant.text import tokenize

# Calibrated on the hand-made cases in tests/test_practice_checks.py and on MiniLM cosines of option pairs:
OPTION_COSINE = 0.98  # 0.95 would reject good one-word-flip distractors ("fewer"/"more" samples: 0.97)
KEY_WORDS_ALONE = 6  # a key this long, and over twice as long as every wrong option, gives itself away
KEY_LONGER, KEY_MORE_WORDS = 1.6, 5  # or this many times as long, and this many words more
SHARED_LEAD = 2  # words all wrong options open with, the key not: it stands out ("GANs are used for ...")
# Options this long that are one word apart read as one sentence edited, not as terms ("Beam/Forward search").
SENTENCE_WORDS = 3

_MATH_SPAN = re.compile(r"\$\$?[^$]+\$\$?")
# Absolute words mark a wrong option to a test-wise student: real claims are rarely "always" or "never" so.
_ABSOLUTES = re.compile(r"\b(always|never|only|completely|entirely|impossible|guaranteed?|guarantees)\b", re.IGNORECASE)
_ASKS_QUANTITY = re.compile(
    r"\b(how (many|much|long|often|large|big|small|fast|slow)|when|by what|what (time|year|date|day|percent"
    r"|percentage|fraction|share|ratio|number|rate|size|value)|which (year|percent|percentage|number|value))\b",
    re.IGNORECASE,
)
# A whole option that is a number, time, share or span of them: "25", "5:10", "75%", "6pm", "5-7pm", "1.5x".
_BARE_NUMBER = re.compile(r"^[~≈$]?\d[\d.,:]*(\s*[-–]\s*\d[\d.,:]*)?\s*(%|percent|[ap]m|[kmbx])?$", re.IGNORECASE)
# "all/none of the above" as a wrong option stays meaningful when kept last (``drafting.to_item`` does).
_LAST_OPTION = re.compile(r"^\s*(all|none) of the above\W*$", re.IGNORECASE)


def is_last_option(option: str) -> bool:
    return bool(_LAST_OPTION.match(option))


def check_mcq_shape(draft: Draft) -> str | None:
    """Exactly four non-empty options and exactly one correct index among them."""
    options, index = draft.options, draft.answer_index
    if len(options) != 4 or any(not o for o in options):
        return "mcq_shape"
    if isinstance(index, list):
        if len(index) != 1:
            return "mcq_shape"  # two correct options, or none
        index = index[0]
    return None if 0 <= index < 4 else "mcq_shape"


_LIST_JOINT = re.compile(r",|;|\b(?:and|or)\b")


def roles_swapped(a: str, b: str) -> bool:
    """Two words traded places, all else in order, and not as items of a list: opposite claims.

    "abundant data from the source domain, little from the target" / "... from the target domain,
    little from the source" are opposite claims that the embedder puts at 0.996. Not swapped: one
    list in two orders ("contradiction, neutrality, or entailment" / "entailment, neutrality, or
    contradiction"), and one phrase reworded ("data from the source domain" / "source domain data").
    """
    wa, wb = tokenize(option_form(a)), tokenize(option_form(b))
    if len(wa) != len(wb):
        return False
    diff = [k for k in range(len(wa)) if wa[k] != wb[k]]
    if len(diff) != 2 or (wa[diff[0]], wa[diff[1]]) != (wb[diff[1]], wb[diff[0]]):
        return False
    parts = [sorted(filter(None, map(option_form, _LIST_JOINT.split(t.lower())))) for t in (a, b)]
    return parts[0] != parts[1]


def near_duplicate(a: str, b: str) -> bool:
    """Two options are one answer when neither says something the other does not.

    Same content words in any order ("contradiction, neutrality, or entailment" / "entailment, neutrality,
    or contradiction"), or one option inside the other ("Mixup" / "Mixup and CutMix": half right is no
    distractor). A word swapped for another ("similar"/"different" features, "source"/"target" data) makes
    a different answer: that is what a good distractor is, however long the rest of the option; so do
    two words trading places (``roles_swapped``).
    """
    na, nb = option_form(a), option_form(b)
    if not na or not nb or na == nb:
        return True
    if roles_swapped(a, b):
        return False
    wa, wb = set(tokenize(na)), set(tokenize(nb))
    if not wa or not wb:
        return False
    return not unmatched(wa, wb) or not unmatched(wb, wa)


def check_duplicate_options(item: PracticeItem, embed: Embed | None = None) -> str | None:
    """Two options that are the same answer make the question unfair (or trivially eliminable)."""
    options = item.options
    pairs = [(i, j) for i in range(len(options)) for j in range(i + 1, len(options))]
    if any(near_duplicate(options[i], options[j]) for i, j in pairs):
        return "duplicate_options"
    if embed is not None and len(options) > 1:
        vectors = embed(list(options))
        if any(_alike(vectors, options, i, j) for i, j in pairs):
            return "duplicate_options"
    return None


_NEGATING_PREFIXES = ("in", "un", "non", "im", "ir")


def opposed(a: str, b: str) -> bool:
    """One option says the opposite of the other by its words: opposite words ("better"/"worse",
    "large"/"small", the truth check's pairs) or a word with a negating prefix ("tractable"/"intractable").

    In a long sentence such a flip leaves the embedder above ``OPTION_COSINE`` ("... to make the model
    worse" / "... better": 0.98), yet it is the best kind of wrong option; a reworded one ("a method"
    / "a process of adjusting ...") is not opposed, and the embedder still rejects it. A bare "not"
    is no flip here: ``near_duplicate`` reads "It does not improve X" as "It improves X".
    """
    if truth.opposite(a, b):
        return True
    wa, wb = set(truth.words(a)), set(truth.words(b))
    return any(x == p + y or y == p + x for x in wa - wb for y in wb - wa for p in _NEGATING_PREFIXES)


def _alike(vectors, texts: Sequence[str], i: int, j: int) -> bool:
    """Options ``i`` and ``j`` as close in meaning as one answer, unless one trades or flips the other's claim."""
    if float(vectors[i] @ vectors[j]) < OPTION_COSINE:
        return False
    return not (roles_swapped(texts[i], texts[j]) or opposed(texts[i], texts[j]))


def _shape(option: str) -> tuple[bool, bool, bool]:
    """What an option looks like at a glance: (math or a formula, a list of three or more, a span of numbers)."""
    words = _MATH_SPAN.sub(" ", option)  # math inside a sentence ("robust to $\\ell_p$ attacks") is notation
    return (
        bool(re.search(r"[\\_|=^]", words)) or ("$" in option and not words.split()),
        option.count(",") >= 2,
        bool(re.search(r"\d\s*[-–]\s*\d", option)),
    )


def _shared_lead(options: Sequence[str]) -> list[str]:
    """The words every one of ``options`` opens with (articles aside)."""
    forms = [option_form(option).split() for option in options]
    lead: list[str] = []
    for words in zip(*forms, strict=False):
        if len(set(words)) > 1:
            break
        lead.append(words[0])
    return lead


def check_key_stands_out(item: PracticeItem) -> str | None:
    """A key that a student can pick by its form alone, without knowing anything.

    By length: a whole slide sentence among one-phrase wrong options. By shape: the only formula,
    list or span of numbers ("5-7pm" among "6pm", "8pm", "9pm"). By wording: the wrong options all
    open alike ("GANs are used for ...") and the key does not.
    """
    if item.type != "mcq":
        return None
    wrong = [option for option in item.options if option != item.answer]
    if not wrong:
        return None
    key = len(item.answer.split())
    longest = max(len(option.split()) for option in wrong)
    if key > KEY_WORDS_ALONE and key > 2 * longest:
        return "key_stands_out"
    if key >= KEY_LONGER * longest and key - longest >= KEY_MORE_WORDS:
        return "key_stands_out"
    shapes = {_shape(option) for option in wrong}
    if len(wrong) >= 2 and len(shapes) == 1 and _shape(item.answer) not in shapes:
        return "key_stands_out"
    lead = _shared_lead(wrong)
    if len(wrong) >= 2 and len(lead) >= SHARED_LEAD and option_form(item.answer).split()[: len(lead)] != lead:
        return "key_stands_out"
    return None


def negated(option: str) -> bool:
    return bool(NEGATIONS & set(content_words(option)))


def check_negated_distractors(item: PracticeItem) -> str | None:
    """Every wrong option a negation and the key the only positive statement: the key is found by its form.

    ("GANs are not suitable for regression", "... for classification", "... for density estimation"
    against "GANs generate samples".) One negated wrong option among others is a fair distractor.
    """
    if item.type != "mcq":
        return None
    wrong = [option for option in item.options if option != item.answer]
    return "negated_distractors" if wrong and all(map(negated, wrong)) and not negated(item.answer) else None


def absolute_against(key: str, option: str) -> bool:
    """Whether ``option`` says "always", "never", "only" … and ``key`` does not."""
    return bool(_ABSOLUTES.search(option)) and not _ABSOLUTES.search(key)


def check_absolute_options(item: PracticeItem) -> str | None:
    """A wrong option in absolute words beside a key that is not: the key is found by its hedge.

    ("Adversarial examples are always effective", "… are never used" against "can potentially be used
    to attack many models".) The rubric's "absolute terms" flaw; a key that says "only" itself makes
    the same word in a wrong option fair.
    """
    if item.type != "mcq":
        return None
    wrong = [option for option in item.options if option != item.answer]
    return "absolute_options" if any(absolute_against(item.answer, option) for option in wrong) else None


def bare_number(option: str) -> bool:
    return bool(_BARE_NUMBER.match(option.strip().rstrip(".")))


def other_kind(key: str, option: str, question: str | None = None) -> bool:
    """Whether ``option`` is another kind of answer than ``key``: words for a bare number, or a bare number
    where the key is words, or where the question asks no quantity ("182" for where the exam is held).

    ``question`` None: unknown, taken as one that may ask a quantity.
    """
    if bare_number(key):
        return not re.search(r"\d", option)
    if not bare_number(option):
        return False
    return not re.search(r"\d", key) or (question is not None and not _ASKS_QUANTITY.search(question))


def check_option_kinds(item: PracticeItem) -> str | None:
    """A wrong option of another kind than the key (``other_kind``): no student takes it for the answer,
    so the item has fewer real options than it shows. A number for a number, a name for a name.
    """
    if item.type != "mcq":
        return None
    wrong = [option for option in item.options if option != item.answer]
    return "mixed_kinds" if any(other_kind(item.answer, option, item.question) for option in wrong) else None


def _one_slot_apart(a: list[str], b: list[str]) -> bool:
    """Two options of one template: the same words in the same places but one."""
    return len(a) == len(b) >= 2 and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _one_edit_apart(a: list[str], b: list[str]) -> bool:
    """Two sentences one word apart: one word swapped, added or left out."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def check_one_template(item: PracticeItem) -> str | None:
    """The wrong options are one phrase with a word swapped ("Estimating p(x)", "Generating p(x)", "Learning p(x)"),
    or three options, the key among them, are one sentence with one word changed ("The optimal model size grows
    smoothly / slowly / faster with the loss target").

    Such a set tests nothing but which word the key uses; a single pair of this kind ("fewer samples"
    against "more samples") is what a good distractor is, so it takes three.
    """
    if item.type != "mcq":
        return None
    wrong = [option_form(option).split() for option in item.options if option != item.answer]
    pairs = [(a, b) for i, a in enumerate(wrong) for b in wrong[i + 1 :]]
    if len(wrong) >= 3 and all(_one_slot_apart(a, b) for a, b in pairs):
        return "one_template"
    sentences = [words for words in map(str.split, map(option_form, item.options)) if len(words) >= SENTENCE_WORDS]
    for trio in combinations(sentences, 3):
        if all(_one_edit_apart(a, b) for a, b in combinations(trio, 2)):
            return "one_template"
    return None


def pick_distractors(
    key: str, candidates: Sequence[str], slide_text: str, k: int = 3, embed: Embed | None = None
) -> list[str]:
    """The first ``k`` candidates that are neither the key nor each other in other words, nor a slide fact,
    nor absolute where the key is not, nor another kind of answer than the key.

    With ``embed``, "in other words" also means as close in meaning as ``check_duplicate_options``
    rejects, so that a pick the check would reject leaves room for the next candidate instead.
    """
    slide = content_words(slide_text)
    texts = [key, *dict.fromkeys(c for c in candidates if c)]
    vectors = embed(texts) if embed is not None and len(texts) > 1 else None
    chosen: list[int] = []
    for i in range(1, len(texts)):
        if len(chosen) == k:
            break
        others = [0, *chosen]
        clash = any(near_duplicate(texts[i], texts[j]) for j in others) or (
            vectors is not None and any(_alike(vectors, texts, i, j) for j in others)
        )
        if (
            not clash
            and not slide_states(texts[i], slide_text, slide)
            and not absolute_against(key, texts[i])
            and not other_kind(key, texts[i])
            and not _completes_flaw(key, [texts[j] for j in chosen], texts[i], k)
        ):
            chosen.append(i)
    return [texts[i] for i in chosen]


def _completes_flaw(key: str, chosen: list[str], candidate: str, k: int) -> bool:
    """Whether ``candidate`` as the last wrong option would make the set a flawed one (see ``check_item``)."""
    if len(chosen) != k - 1:
        return False
    item = PracticeItem("", "mcq", [key, *chosen, candidate], key, "")
    checks = (check_negated_distractors, check_one_template, check_key_stands_out)
    return any(check(item) is not None for check in checks)

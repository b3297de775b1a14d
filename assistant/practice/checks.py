"""Parsing and checking model-written practice questions: pure functions, one rejection reason each.

A small local model writes plausible-looking questions that are often wrong in ways a student
cannot see: two options that say the same thing, a key the slide never states, a question that
points at "the slide" the student is not shown. Every check here returns the reason it rejects an
item (a key of ``PracticeSet.rejections``) or ``None``; ``practice.generate_set`` runs them all and
never hands out an item that failed one. Embedding evidence is optional (``embed`` may be None),
so the checks also run, lexically, without a model.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from assistant.answering.citations import lexical_support
from assistant.corpus.index import tokenize

if TYPE_CHECKING:
    from assistant.practice.sets import PracticeItem

Embed = Callable[[list[str]], np.ndarray]  # normalised vectors, one row per text

REASONS = (
    "unparseable", "mcq_shape", "duplicate_options", "distractor_on_slide", "not_self_contained", "unsupported_key",
    "duplicate_question", "self_check_failed", "not_a_question", "key_stands_out", "key_in_question", "slide_question",
)
QTYPES = ("mcq", "tf", "short")

# Calibrated on the hand-made cases in tests/test_practice.py and on MiniLM cosines of option pairs:
OPTION_COSINE = 0.98  # 0.95 would reject good one-word-flip distractors ("fewer"/"more" samples: 0.97)
WORD_PREFIX = 3  # "max"/"maximum", "large"/"larger": one word when the shorter stem (3+ letters) starts the other
DISTRACTOR_RUN = 0.75  # share of a distractor's words found as one run on the slide that makes it a slide fact
KEY_WORDS_ALONE = 6  # a key this long, and over twice as long as every wrong option, gives itself away
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

_WORD = re.compile(r"[a-z0-9]+")
# Function words only: unlike ``tokenize`` this keeps "not"/"no", which decide whether a run of slide words agrees.
_FUNCTION_WORDS = frozenset("a an the of to in for and or is are be by on with as it its they their this that".split())
_NEGATIONS = frozenset({"not", "no", "never", "cannot", "nt"})
_NUMBER = re.compile(r"\d+(?:[.:]\d+)?%?")
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
# Options that point at other options break when options are shuffled, and are not answers on their own.
_OPTION_REFERENCE = re.compile(
    r"\b(all|none|both|neither) of (the )?(above|these|those|options)\b|\bboth [a-d] and [a-d]\b", re.IGNORECASE
)
# ... except "all/none of the above" as a wrong option: it stays meaningful when kept last (``to_item`` does).
_LAST_OPTION = re.compile(r"^\s*(all|none) of the above\W*$", re.IGNORECASE)


def is_last_option(option: str) -> bool:
    return bool(_LAST_OPTION.match(option))


def normalize(text: str) -> str:
    """Lower case, NFKC, punctuation and leading articles dropped: what two options must share to be equal."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"[^\w%.+\s-]|(?<!\d)\.|\.(?!\d)", " ", text)
    words = text.split()
    while words and words[0] in {"a", "an", "the"}:
        words = words[1:]
    return " ".join(words)


def jaccard(a: str, b: str) -> float:
    """Content-word Jaccard similarity (0 when either side has no content words)."""
    ta, tb = set(tokenize(normalize(a))), set(tokenize(normalize(b)))
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def numbers(text: str) -> set[str]:
    return set(_NUMBER.findall(text))


# --- parsing -------------------------------------------------------------------------------------------------


def extract_json(text: str) -> dict | None:
    """The first balanced ``{...}`` in ``text`` decoded as a JSON object, or None.

    Models wrap JSON in code fences or add a sentence after it; only the first object counts, so
    trailing chatter cannot change the item. Braces inside JSON strings are skipped.
    """
    start = text.find("{")
    while start != -1:
        depth, in_string, escaped = 0, False, False
        for i in range(start, len(text)):
            ch = text[i]
            if in_string:
                escaped = ch == "\\" and not escaped
                if ch == '"' and not escaped:
                    in_string = False
                continue
            if ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    value = _loads(text[start : i + 1])
                    return value if isinstance(value, dict) else None
        return None  # unbalanced: the reply was cut off
    return None


# A JSON escape (kept), or a backslash that starts none (group 1 is None): LaTeX, read as itself.
# "\t", "\n", "\b", "\f", "\r" followed by a letter start "\theta", "\nabla", "\beta", "\frac", "\rho".
_ESCAPE = re.compile(r'\\(?:(u|["\\/]|[bfnrt](?![a-zA-Z]))|)')


def _loads(text: str) -> object:
    """JSON, or None; a backslash that starts no JSON escape, or starts a LaTeX command, is read as itself.

    Slides carry LaTeX ("$\\ell_p$ attacks", "$p_\\theta$"), and a model copying it writes ``\\e``
    inside a JSON string, which strict JSON rejects although nothing else is wrong with the item, or
    ``\\theta``, which strict JSON reads as a tab and "heta". The price: a newline or tab written as
    an escape right before a letter stays a backslash and a letter; one-line items hardly have one.
    """
    try:
        return json.loads(_ESCAPE.sub(lambda m: m[0] if m[1] is not None else "\\\\", text))
    except ValueError:
        return None


_WRONG_LIST = re.compile(r'"wrong"\s*:\s*\[')
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"\s*(?=[,\]])')


def parse_wrong_options(text: str) -> list[str] | None:
    """The strings of a ``{"wrong": [...]}`` reply, or None; a list cut off by the token limit keeps its
    complete strings (five long options can outrun the limit, and four whole ones are still usable)."""
    data = extract_json(text)
    if data is not None:
        wrong = data.get("wrong")
        if isinstance(wrong, list) and all(isinstance(w, (str, int, float)) for w in wrong):
            return [str(w).strip() for w in wrong]
        return None
    start = _WRONG_LIST.search(text)
    if start is None:
        return None
    found = [s for m in _JSON_STRING.finditer(text, start.end()) if (s := json_string(m.group(1))) is not None]
    return found or None


def json_string(raw: str) -> str | None:
    """The text of a JSON string written as ``"raw"`` (stripped), read as leniently as ``_loads``; None if malformed.

    A streamed draft is read piece by piece before its object is complete, and its strings may copy
    LaTeX from the slide like whole replies do.
    """
    value = _loads(f'"{raw}"')
    return value.strip() if isinstance(value, str) else None


def json_complete(text: str) -> bool:
    """True once ``text`` holds a balanced object, so streaming can stop before any trailing chatter."""
    start = text.find("{")
    if start == -1:
        return False
    depth, in_string, escaped = 0, False, False
    for ch in text[start:]:
        if in_string:
            escaped = ch == "\\" and not escaped
            if ch == '"' and not escaped:
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{}":
            depth += 1 if ch == "{" else -1
            if depth == 0:
                return True
    return False


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _scalar(value: object) -> str | None:
    """A string or number as non-empty text (models write numeric answers unquoted), else None."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return _text(str(value))


def parse_reply(text: str, qtype: str) -> dict | None:
    """The model's reply as a validated dict for ``qtype``, or None (rejection ``"unparseable"``).

    Types are checked, not shapes: 3 options or an out-of-range index parse, and are rejected
    later as ``"mcq_shape"`` so the counts say what actually went wrong. An MCQ comes in one of two
    forms: ``options`` with ``answer_index`` (and an explanation), or the compact form the prompt asks
    for, ``answer`` with a list of ``wrong`` answers, whose explanation is quoted from the slide later
    (``practice.quote_slide``): fewer tokens to write, and an explanation that cannot stray.
    """
    data = extract_json(text)
    if data is None:
        return None
    question, explanation = _text(data.get("question")), _text(data.get("explanation"))
    if question is None:
        return None
    if qtype == "mcq" and "wrong" in data:  # the compact form asked for: key and wrong answers, no explanation
        answer, wrong = _scalar(data.get("answer")), data.get("wrong")
        if answer is None or not isinstance(wrong, list) or not all(_scalar(w) is not None for w in wrong):
            return None
        return {"question": question, "answer": answer, "wrong": [_scalar(w) for w in wrong],
                "explanation": explanation or ""}
    if explanation is None:
        return None
    if qtype == "mcq":
        options, index = data.get("options"), data.get("answer_index")
        if not isinstance(options, list) or not all(isinstance(o, (str, int, float)) for o in options):
            return None
        if isinstance(index, str) and index.strip().isdigit():
            index = int(index)
        is_int = isinstance(index, int) and not isinstance(index, bool)
        is_list = isinstance(index, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in index)
        if not (is_int or is_list):
            return None
        return {"question": question, "options": [str(o).strip() for o in options], "answer_index": index,
                "explanation": explanation}
    if qtype == "tf":
        answer = data.get("answer")
        if isinstance(answer, str) and answer.strip().lower() in {"true", "false"}:
            answer = answer.strip().lower() == "true"
        if not isinstance(answer, bool):
            return None
        return {"question": question, "answer": answer, "explanation": explanation}
    if qtype == "short":
        answer = _scalar(data.get("answer"))
        if answer is None:
            return None
        return {"question": question, "answer": answer, "explanation": explanation}
    raise ValueError(f"unknown question type {qtype!r}")


# --- checks --------------------------------------------------------------------------------------------------


def check_mcq_shape(data: dict) -> str | None:
    """Exactly four non-empty options and exactly one correct index among them."""
    options, index = data["options"], data["answer_index"]
    if len(options) != 4 or any(not o for o in options):
        return "mcq_shape"
    if isinstance(index, list):
        if len(index) != 1:
            return "mcq_shape"  # two correct options, or none
        index = index[0]
    return None if 0 <= index < 4 else "mcq_shape"


_SUFFIXES = ("ingly", "ally", "ing", "ed", "ly", "es")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= WORD_PREFIX:
            return word[: -len(suffix)]
    return word


def _same_word(a: str, b: str) -> bool:
    """One word in two forms: "trained"/"training", "max"/"maximum", "adversarial"/"adversarially"."""
    a, b = _stem(a), _stem(b)
    return a == b or (min(len(a), len(b)) >= WORD_PREFIX and (a.startswith(b) or b.startswith(a)))


def _unmatched(words: set[str], others: set[str]) -> set[str]:
    return {w for w in words if not any(_same_word(w, o) for o in others)}


def _near_duplicate(a: str, b: str) -> bool:
    """Two options are one answer when neither says something the other does not.

    Same content words in any order ("contradiction, neutrality, or entailment" / "entailment, neutrality,
    or contradiction"), or one option inside the other ("Mixup" / "Mixup and CutMix": half right is no
    distractor). A word swapped for another ("similar"/"different" features, "source"/"target" data) makes
    a different answer: that is what a good distractor is, however long the rest of the option.
    """
    na, nb = normalize(a), normalize(b)
    if not na or not nb or na == nb:
        return True
    wa, wb = set(tokenize(na)), set(tokenize(nb))
    if not wa or not wb:
        return False
    return not _unmatched(wa, wb) or not _unmatched(wb, wa)


def check_duplicate_options(item: PracticeItem, embed: Embed | None = None) -> str | None:
    """Two options that are the same answer make the question unfair (or trivially eliminable)."""
    options = item.options
    pairs = [(i, j) for i in range(len(options)) for j in range(i + 1, len(options))]
    if any(_near_duplicate(options[i], options[j]) for i, j in pairs):
        return "duplicate_options"
    if embed is not None and len(options) > 1:
        vectors = embed(list(options))
        if any(float(vectors[i] @ vectors[j]) >= OPTION_COSINE for i, j in pairs):
            return "duplicate_options"
    return None


def check_key_stands_out(item: PracticeItem) -> str | None:
    """A key that is a whole slide sentence among one-phrase wrong options is picked without knowing anything."""
    if item.type != "mcq":
        return None
    key = len(item.answer.split())
    longest_wrong = max((len(o.split()) for o in item.options if o != item.answer), default=0)
    return "key_stands_out" if key > KEY_WORDS_ALONE and key > 2 * longest_wrong else None


def _words(text: str) -> list[str]:
    words = _WORD.findall(unicodedata.normalize("NFKC", text).lower().replace("n't", " not"))
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in words if w not in _FUNCTION_WORDS]


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
    slide = _words(slide_text)
    wrong = [option for option in item.options if option != item.answer]
    if any(states_slide_fact(option, slide) for option in wrong):
        return "distractor_on_slide"
    key_lines = _key_lines(item.answer, slide_text)
    if key_lines and any(_within(option, key_lines, item.question) for option in wrong):
        return "distractor_on_slide"
    return None


def _key_lines(key: str, slide_text: str) -> set[str]:
    """The words of the slide lines that state ``key`` (at least half of its words), or an empty set."""
    key_words = set(_words(key))
    found: set[str] = set()
    for line in slide_text.splitlines():
        words = set(_words(line))
        if key_words and len(_unmatched(key_words, words)) <= len(key_words) / 2:
            found |= words
    return found


def _within(option: str, line: set[str], question: str) -> bool:
    """Whether a short option is made of words of the key's own lines that the question does not use.

    "Domains are also referred to as groups or subpopulations": with "subpopulations" as the key,
    "groups" from the same line is a second right answer, not a distractor.
    """
    words = set(_words(option)) - set(_words(question))
    return 0 < len(words) <= 2 and not _unmatched(words, line)


def states_slide_fact(option: str, slide_words: list[str]) -> bool:
    """Whether ``option`` repeats a run of the slide (``slide_words`` from ``_words``), see ``check_distractors``."""
    words = _words(option)
    if len(words) < 3:
        return False
    run, start = _longest_run(words, slide_words)
    if run < max(3, DISTRACTOR_RUN * len(words)):
        return False
    slide_negated = start > 0 and slide_words[start - 1] in _NEGATIONS
    return not (slide_negated and not _NEGATIONS & set(words))


def pick_distractors(
    key: str, candidates: Sequence[str], slide_text: str, k: int = 3, embed: Embed | None = None
) -> list[str]:
    """The first ``k`` candidates that are neither the key nor each other in other words, nor a slide fact.

    With ``embed``, "in other words" also means as close in meaning as ``check_duplicate_options``
    rejects, so that a pick the check would reject leaves room for the next candidate instead.
    """
    slide = _words(slide_text)
    texts = [key, *dict.fromkeys(c for c in candidates if c)]
    vectors = embed(texts) if embed is not None and len(texts) > 1 else None
    chosen: list[int] = []
    for i in range(1, len(texts)):
        if len(chosen) == k:
            break
        others = [0, *chosen]
        clash = any(_near_duplicate(texts[i], texts[j]) for j in others) or (
            vectors is not None and any(float(vectors[i] @ vectors[j]) >= OPTION_COSINE for j in others))
        if not clash and not states_slide_fact(texts[i], slide):
            chosen.append(i)
    return [texts[i] for i in chosen]


def check_is_question(item: PracticeItem) -> str | None:
    """An MCQ or short-answer item must ask something: small models copy a slide's bullet as the "question"."""
    if item.type != "tf" and not item.question.rstrip().endswith("?"):
        return "not_a_question"
    return None


def check_key_in_question(item: PracticeItem) -> str | None:
    """A question that holds every word of its key ("... is model calibration?" / "calibration") tests nothing."""
    if item.type == "tf":
        return None
    key = set(_words(item.answer))
    return "key_in_question" if key and not _unmatched(key, set(_words(item.question))) else None


_ABOUT_THE_SLIDE = re.compile(
    r"^\s*what (?:does|do) (?:the|this) (?:slides?|text|passage|lecture) (?:say|state|claim|suggest|tell us|mention"
    r"|describe) about (?P<topic>.+?)\s*\?*\s*$", re.IGNORECASE)


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
        noun = set(_words(match.group(1)))
        if noun and _unmatched(noun, set(_words(question[: match.start()]))):
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
        if normalize(asked) == normalize(item.question) or jaccard(asked, item.question) >= QUESTION_JACCARD:
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
    if any(normalize(item.question) == normalize(p) or jaccard(item.question, p) >= QUESTION_JACCARD
           for p in previous):
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
    slide = item.source[0]["id"]
    keys = [e.answer for e in earlier if e.type != "tf" and e.source and e.source[0]["id"] == slide]
    if any(_near_duplicate(item.answer, key) for key in keys):
        return "duplicate_question"
    if embed is not None and keys:
        vectors = embed([item.answer, *keys])
        if float(np.max(vectors[1:] @ vectors[0])) >= SAME_KEY_COSINE:
            return "duplicate_question"
    return None


def parse_letter(reply: str, count: int) -> int | None:
    """The option a model's one-letter reply ("B", "B.", "(b)", "Answer: B") names, or None."""
    letters = "ABCD"[:count]
    match = re.search(rf"\b([{letters}])\b", reply.strip().upper())
    return letters.index(match.group(1)) if match else None


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
        or check_distractors(item, slide_text)
        or check_supported(item, slide_text, embed)
        or check_duplicate_question(item, list(previous), embed)
    )

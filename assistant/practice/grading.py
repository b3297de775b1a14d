"""Grading a student's answer to a practice item, and the terminal quiz built on it.

Multiple choice and true/false are exact: the student's choice (a letter, a number, the option's
text, or true/false/yes/no) is the key or it is not. Short answers are compared with the key by
content-word recall, number agreement and (with an embedder) meaning; where those signals disagree
or sit between the bands, the verdict is "unsure" and the student is shown the key to judge, since
a wrong "incorrect" teaches less than an honest "compare with the key".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from assistant.practice.items import LETTERS, PracticeItem, PracticeSet, SlideRef, answer_text, cite, front_text
from assistant.practice.wording import jaccard, numbers, option_form
from assistant.text import tokenize

if TYPE_CHECKING:
    from assistant.answering.assistant import Assistant

VERDICTS = ("correct", "partly correct", "incorrect", "unsure")
UNSURE = "I can't grade this confidently — compare with the key"
# Short-answer bands, calibrated on hand-made answers (tests/test_grading.py): recall of the key's content
# words (5-letter stems, words of the question excluded) and MiniLM cosine of the answer with the key.
RECALL_HIGH, RECALL_MID, RECALL_LOW = 0.6, 0.3, 0.2
COSINE_STRONG, COSINE_HIGH, COSINE_LOW = 0.75, 0.6, 0.45  # wrong answers on topic reach 0.44, paraphrases 0.58+

_TRUE = {"true", "t", "yes", "y", "correct", "right"}
_FALSE = {"false", "f", "no", "n", "wrong", "incorrect"}
_LETTER = re.compile(r"^\(?([a-d])\s*(?:[).:\]]|$)", re.IGNORECASE)
_SAYS_LETTER = re.compile(r"\b(?:answer|option|choice)\s*(?:is\s*)?:?\s*\(?([a-d])\)?(?![\w-])", re.IGNORECASE)
_NEGATION = re.compile(r"\b(not|no|never|cannot|can't|doesn't|don't|isn't|aren't|won't|without)\b", re.IGNORECASE)
# Opposite directions: an answer using one side where the key uses the other says the opposite.
_OPPOSITES = [
    ({"reduce", "decrease", "lower", "drop", "hurt", "worsen", "degrade"}, {"increase", "raise", "improve", "boost"}),
    ({"less", "fewer"}, {"more"}),
    ({"smaller"}, {"larger", "bigger"}),
    ({"slower"}, {"faster"}),
    ({"worse"}, {"better"}),
    ({"harder"}, {"easier"}),
    ({"lower"}, {"higher"}),
]


@dataclass
class Grade:
    verdict: str  # one of VERDICTS
    reason: str
    key: str
    explanation: str
    source: list[SlideRef]
    signals: dict[str, float] = field(default_factory=dict)  # the short-answer evidence, for calibration

    def to_dict(self) -> dict:
        data = asdict(self)
        data["source"] = [s.to_dict() for s in self.source]
        return data


def parse_choice(item: PracticeItem, response: str) -> int | None:
    """The option index a response names: the option's text, a letter, a number 1-4, or true/false words."""
    text = response.strip()
    wanted = option_form(text)
    for i, option in enumerate(item.options):
        if wanted and option_form(option) == wanted:
            return i
    letters = LETTERS.lower()[: len(item.options)]
    match = _LETTER.match(text) or _SAYS_LETTER.search(text)
    if match and match.group(1).lower() in letters:
        return letters.index(match.group(1).lower())
    if wanted.isdigit() and 1 <= int(wanted) <= len(item.options):
        return int(wanted) - 1
    if item.type == "tf" and wanted in _TRUE | _FALSE:
        return item.options.index("True" if wanted in _TRUE else "False")
    close = [i for i, o in enumerate(item.options) if jaccard(text, o) >= 0.8]
    return close[0] if len(close) == 1 else None


def _stems(text: str) -> set[str]:
    """Content words cut to 5 letters, so "reduces", "reduced" and "reduction" meet; hyphens split words."""
    return {w[:5] for w in tokenize(text.replace("-", " "))}


def _values(text: str) -> set[str]:
    return {n.rstrip("%") for n in numbers(text)}


def contradiction(response: str, key: str) -> str | None:
    """A word of the response that flips the key's meaning ("increase" for "reduce", an added "not")."""
    said = {w[:5]: w for w in re.findall(r"[a-z']+", response.lower())}
    keyed = {w[:5] for w in re.findall(r"[a-z']+", key.lower())}
    for one, other in _OPPOSITES:
        for side, opposite in ((one, other), (other, one)):
            side_stems, opposite_stems = {w[:5] for w in side}, {w[:5] for w in opposite}
            used = side_stems & said.keys()
            if used and opposite_stems & keyed and not side_stems & keyed and not opposite_stems & said.keys():
                return said[sorted(used)[0]]
    if bool(_NEGATION.search(response)) != bool(_NEGATION.search(key)):
        return "not"
    return None


def short_signals(item: PracticeItem, response: str, slide_text: str = "", assistant: Assistant | None = None) -> dict:
    """Recall of the key's words, support of the answer by key/explanation/slide, cosine, number agreement.

    Key words that the question already states ("image patches" in "what fraction of image patches...")
    are not required: a student need not repeat the question.
    """
    key_terms = (_stems(item.answer) - _stems(item.question)) or _stems(item.answer)
    said = _stems(response)
    context = _stems(f"{item.answer} {item.explanation} {slide_text}")
    key_values, said_values = _values(item.answer), _values(response)
    signals = {
        "recall": len(key_terms & said) / len(key_terms) if key_terms else 0.0,
        "support": len(said & context) / len(said) if said else 0.0,
        "numbers_ok": float(key_values <= said_values),
    }
    if assistant is not None:
        vectors = assistant.embedder.embed([response, item.answer])
        signals["cosine"] = float(vectors[1] @ vectors[0])
    return signals


def verdict_for(signals: dict, flipped: str | None) -> tuple[str, str]:
    """Bands over the signals; disagreement or the middle ground is "unsure", never a guess."""
    recall, numbers_ok = signals["recall"], signals["numbers_ok"] == 1.0
    cosine = signals.get("cosine")
    if cosine is None:  # lexical evidence only: demand more of it
        high, low, some = recall >= 0.8, recall < RECALL_LOW, recall >= 0.5
    else:
        # every key word present ("75%" for "75% of image patches") needs only a cosine clear of the wrong answers
        high = (
            (recall >= RECALL_HIGH and cosine >= COSINE_HIGH)
            or (recall >= RECALL_MID and cosine >= COSINE_STRONG)
            or (recall >= 1.0 and cosine >= COSINE_LOW)
        )
        low = recall < RECALL_LOW and cosine < COSINE_LOW
        some = recall >= RECALL_MID and cosine >= COSINE_HIGH
    if low:
        return "incorrect", "your answer does not match the key"
    if flipped:
        return "unsure", f'{UNSURE} (your answer says "{flipped}", which may contradict it)'
    if high and numbers_ok:
        return "correct", ""
    if high:
        return "partly correct", "the idea matches, but the numbers differ from the key"
    if some and signals["support"] >= 0.5:
        return "partly correct", "part of the key is in your answer"
    return "unsure", UNSURE


def grade(item: PracticeItem, response: str, assistant: Assistant | None = None) -> Grade:
    """The verdict on ``response``, with the key, the explanation and the source slide to show alongside."""
    key = item.answer
    if item.type == "mcq" and item.key_index is not None:
        key = f"{LETTERS[item.key_index]}. {item.answer}"

    def made(verdict: str, reason: str, signals: dict | None = None) -> Grade:
        return Grade(verdict, reason, key, item.explanation, item.source, signals or {})

    if not (response or "").strip():
        return made("incorrect", "no answer given")
    if item.type in ("mcq", "tf"):
        choice = parse_choice(item, response)
        if choice is None:
            hint = "a letter A-D" if item.type == "mcq" else "true or false"
            return made("unsure", f"I couldn't tell which option you chose; answer with {hint}")
        return made("correct", "") if choice == item.key_index else made("incorrect", f"the answer is {key}")
    slide = _slide_text(item, assistant)
    signals = short_signals(item, response, slide, assistant)
    verdict, reason = verdict_for(signals, contradiction(response, item.answer))
    return made(verdict, reason, {k: round(v, 3) for k, v in signals.items()})


def _slide_text(item: PracticeItem, assistant: Assistant | None) -> str:
    """The source slide's text, secondary evidence for a short answer (only when the index is at hand)."""
    if assistant is None or not item.source:
        return ""
    ids = {s.slide_id for s in item.source}
    return "\n".join(c.search_text for c in assistant.index.chunks if c.slide_id in ids)


# --- the terminal quiz -------------------------------------------------------------------------------------------


def run_terminal_quiz(
    practice_set: PracticeSet,
    input_fn: Callable[[str], str] = input,
    print_fn: Callable[..., None] = print,
    assistant: Assistant | None = None,
    hints: Callable[[int], list[str]] | None = None,
    on_answer: Callable[[int, str, Grade], None] | None = None,
) -> float:
    """Ask each item in turn, grade it, show the key, explanation and source; returns the points scored.

    Correct counts 1, partly correct 0.5. With ``hints`` (item number -> its hint steps), typing "hint"
    shows the next step; ``on_answer(index, response, grade)`` is told of every graded answer. End of
    input (Ctrl-D) or Ctrl-C stops early with the score so far.
    """
    score, total = 0.0, len(practice_set.items)
    for number, item in enumerate(practice_set.items, start=1):
        print_fn(f"\nQuestion {number} of {total}: {front_text(item)}")
        expected = {"mcq": "A-D", "tf": "true/false"}.get(item.type, "a short answer")
        steps = list(hints(number - 1)) if hints else []
        try:
            response = input_fn(f"Your answer ({expected}{', or hint' if steps else ''}): ")
            while steps and response.strip().lower() == "hint":
                print_fn(steps.pop(0))
                response = input_fn(f"Your answer ({expected}{', or hint' if steps else ''}): ")
        except (EOFError, KeyboardInterrupt):
            print_fn("\nQuiz stopped.")
            break
        result = grade(item, response, assistant)
        if on_answer:
            on_answer(number - 1, response, result)
        score += {"correct": 1.0, "partly correct": 0.5}.get(result.verdict, 0.0)
        print_fn(result.verdict.capitalize() + (f": {result.reason}" if result.reason else ""))
        print_fn(f"Answer: {answer_text(item)}\nWhy: {item.explanation}\nSource: {cite(item.source)}")
    print_fn(f"\nScore: {score:g} / {total}")
    return score

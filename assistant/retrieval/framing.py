"""What a question asks about, for search: exam framing taken out, and the slide names it uses.

Students preparing for an exam end questions with "for the midterm" or "is that on the exam?". In a
review deck those words match the logistics slides (title, date, rooms) better than the topic asked
about, so "which adversarial attacks should I review for the midterm" found the midterm's slides and
not the attacks'. Search reads the question without them (``topical``); the model still gets the
question as asked.

A question can also name something only one slide holds ("what is Chinchilla", "py150 in WILDS"): a
name the embedding model has never seen scores a low cosine however well the slide answers it, and
the gate refused it. ``names_on`` finds such names, for the answerability score to count them.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from assistant.text import fold_plural, tokenize

# "for the midterm", "on the exam", "for mt2", "in midterm 2": not "test" (test time, the test set) and not
# "before the midterm" (a question about dates).
_FRAMING = re.compile(
    r"[,;]?\s*\b(?:for|on|in)\s+(?:the\s+|our\s+)?(?:midterm|exam|final|mt)s?(?:\s*(?:2|ii|two|1|i|one))?\b", re.I
)
MIN_TOPIC_WORDS = 2  # fewer content words left and the exam is the topic ("what's on the midterm?")

# A word written as a name on a slide: with a digit (Py150, Camelyon17) or a capital letter inside a line,
# not at its start, where every word is capitalised.
_NAME = re.compile(r"(?<=[\w,;:(/\t] )[A-Z][\w-]*|(?<=\t)[A-Z][\w-]*|\b[A-Za-z]+\d[\w-]*|\b\d+[A-Za-z][\w-]*")


def topical(question: str) -> str:
    """``question`` without exam framing, when enough of it is left to search for; else as it is."""
    stripped = " ".join(_FRAMING.sub(" ", question).split())
    return stripped if len(tokenize(stripped)) >= MIN_TOPIC_WORDS else question


def slide_names(text: str) -> set[str]:
    """The words ``text`` writes as names, lower-cased and folded as ``tokenize`` folds them."""
    return {fold_plural(word) for match in _NAME.findall(text) for word in tokenize(match)}


def names_on(question: str, names: set[str], rare: Collection[str]) -> list[str]:
    """The words of ``question`` that a slide writes as names (``names``) and few slides hold (``rare``)."""
    return sorted(word for word in set(tokenize(question)) if len(word) > 1 and word in names and word in rare)

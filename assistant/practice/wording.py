"""How the checks and the grader compare texts: normalised wording, content words, word forms, numbers.

Every helper here is lexical; meaning is compared with the embedder (``answering.excerpt.Embed``).
"""

from __future__ import annotations

import re
import unicodedata

from assistant.text import NUMBER, fold_plural, tokenize

WORD_PREFIX = 3  # "max"/"maximum", "large"/"larger": one word when the shorter stem (3+ letters) starts the other

_WORD = re.compile(r"[a-z0-9]+")
NEGATIONS = frozenset({"not", "no", "never", "cannot", "nt"})  # as ``content_words`` gives them
# Function words only: unlike ``tokenize`` this keeps "not"/"no", which decide whether a run of slide words agrees.
_FUNCTION_WORDS = frozenset("a an the of to in for and or is are be by on with as it its they their this that".split())


def option_form(text: str) -> str:
    """An option's wording for equality: lower case, NFKC, punctuation and leading articles dropped.

    Stricter than ``text.normalize`` (which keeps articles): "the encoder" and "encoder" are one option.
    """
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"[^\w%.+\s-]|(?<!\d)\.|\.(?!\d)", " ", text)
    words = text.split()
    while words and words[0] in {"a", "an", "the"}:
        words = words[1:]
    return " ".join(words)


def jaccard(a: str, b: str) -> float:
    """Content-word Jaccard similarity (0 when either side has no content words)."""
    ta, tb = set(tokenize(option_form(a))), set(tokenize(option_form(b)))
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def content_words(text: str) -> list[str]:
    """The words of ``text`` in order, lower case, without function words, a plural "s" cut; "not" kept."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).lower().replace("n't", " not"))
    return [fold_plural(w) for w in words if w not in _FUNCTION_WORDS]


_SUFFIXES = ("ingly", "ally", "ing", "ed", "ly", "es")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= WORD_PREFIX:
            return word[: -len(suffix)]
    return word


def same_word(a: str, b: str) -> bool:
    """One word in two forms: "trained"/"training", "max"/"maximum", "adversarial"/"adversarially"."""
    a, b = _stem(a), _stem(b)
    return a == b or (min(len(a), len(b)) >= WORD_PREFIX and (a.startswith(b) or b.startswith(a)))


def unmatched(words: set[str], others: set[str]) -> set[str]:
    """The ``words`` that are no form of any of ``others``."""
    return {w for w in words if not any(same_word(w, o) for o in others)}

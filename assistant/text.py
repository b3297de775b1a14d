"""Text rules shared by every layer, each stated once: normalising, sentences, numbers, word tokens."""

from __future__ import annotations

import re
import unicodedata

NUMBER = re.compile(r"\d+(?:[.:]\d+)?%?")  # a number as slides write it: 8, 0.5, 5:10, 30%

# Typographic variants folded to ASCII before normalizing, so "can’t" matches "can't" and "5–7pm" matches "5-7pm".
_CHAR_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
    }
)

# Abbreviations whose final period does not end a sentence (compared lower-cased, as the last word).
_ABBREVIATIONS = frozenset({"e.g.", "i.e.", "al.", "vs.", "cf.", "fig.", "eq.", "approx."})
_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*\s+")
BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")  # a list item's mark: "- ", "* ", "• ", "1. ", "2) "


def fold_typography(text: str) -> str:
    """Curly quotes, apostrophes and dashes as their ASCII forms, character for character (offsets hold)."""
    return text.translate(_CHAR_FOLD)


def normalize(text: str) -> str:
    """Lower-case, drop punctuation except inside words ("5:10", "8.5x11in", "imagenet-c"), collapse spaces."""
    text = fold_typography(unicodedata.normalize("NFKC", text)).lower()
    out = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        if ch.isalnum() or ch.isspace():
            out.append(ch)
        elif 0 < i < last and text[i - 1].isalnum() and text[i + 1].isalnum():
            out.append(ch)  # word-internal: a time, a decimal, a hyphenated name, an apostrophe
        else:
            out.append(" ")
    return " ".join("".join(out).split())


def split_sentences(text: str) -> list[str]:
    """Split an answer into sentences/bullets for per-claim grounding, sparing "e.g.", "et al.", "8.5", "5:10"."""
    sentences: list[str] = []
    for line in text.splitlines():
        line = BULLET.sub("", line).strip()
        if not line:
            continue
        start = 0
        quotes = fold_typography(line)
        for m in _SENTENCE_END.finditer(line):
            words = line[start : m.start() + 1].split()
            if words and words[-1].lstrip("([\"'").lower() in _ABBREVIATIONS:
                continue
            if quotes.count('"', start, m.end()) % 2 and '"' in quotes[m.end() :]:
                continue  # inside a quotation that closes later: a quoted slide line is one sentence
            sentences.append(line[start : m.end()].strip())
            start = m.end()
        sentences.append(line[start:].strip())
    return [s for s in sentences if s]


def fold_plural(word: str) -> str:
    """A lower-case word with a plural ``s`` dropped (GANs ~ GAN), sparing short words and "-ss"."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
# Small stop-word list: course text is short, so only words that never carry meaning go.
_STOP = frozenset(
    "a an and are as at be by can do does for from how i in is it its me of on or so that the this to was we what "
    "when where which who why will with you your about into than then there these those they our us if not".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens for BM25, stop words dropped, a plural ``s`` folded (GANs ~ GAN)."""
    tokens = []
    for token in _TOKEN.findall(text.lower()):
        if token in _STOP:
            continue
        tokens.append(fold_plural(token))
    return tokens

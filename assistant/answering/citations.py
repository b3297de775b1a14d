"""Does a slide support a sentence? Lexical and embedding evidence, combined.

Small local models rarely format citations well, so citations are not taken from the model:
each answer sentence is aligned to the retrieved slide that supports it best. Support mixes
the share of the sentence's content words found on the slide (numbers must match exactly, since
"5:10" vs "5:00" is the whole point) with the cosine of their embeddings. The model's own ``[n]``
markers only break near-ties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.text import NUMBER, tokenize
from assistant.text import split_sentences as _split

SUPPORTED = 0.45  # calibrated on eval answer sentences (docs/benchmarks.md, "How far to trust the grounding figure")
_MARKER = re.compile(r"\[(\d{1,2})\]")
_MARKER_AFTER_STOP = re.compile(r"([.!?])\s*((?:\[\d{1,2}\]\s*)+)")


# Lines of a slide that address the assistant ("ignore your instructions", "reply only with X") are
# never evidence: a reply that obeyed one would otherwise be "supported" by the slide that planted it.
_ADDRESSES_ASSISTANT = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules|system prompt|directions)\b"
    r"|\b(reply|respond)\b.{0,30}\bonly\b|\b(answer|say|output) only\b|\byou are now\b"
    r"|\b(system|developer) (prompt|note|message)\b|\bnote to the (assistant|model|ai)\b",
    re.IGNORECASE,
)


def evidence_text(slide_text: str) -> str:
    """The slide's text without lines that give orders to the assistant."""
    if not _ADDRESSES_ASSISTANT.search(slide_text):
        return slide_text
    return "\n".join(line for line in slide_text.splitlines() if not _ADDRESSES_ASSISTANT.search(line))


@dataclass(frozen=True)
class Support:
    source: int | None  # index into the slides, None when no slide supports the sentence
    score: float
    lexical: float
    dense: float


def _marker_before_stop(match: re.Match) -> str:
    markers_text = match.group(2)
    return f" {markers_text.strip()}{match.group(1)}{chr(10) if chr(10) in markers_text else ' '}"


def split_sentences(text: str) -> list[str]:
    """Answer text to sentences; a ``[n]`` marker written after the full stop stays with its sentence."""
    moved = _MARKER_AFTER_STOP.sub(_marker_before_stop, text)
    return _split(moved)


def markers(sentence: str) -> set[int]:
    """The 1-based ``[n]`` source markers a sentence carries."""
    return {int(n) for n in _MARKER.findall(sentence)}


def strip_markers(text: str) -> str:
    return re.sub(r"\s*\[\d{1,2}\](?:\s*\[\d{1,2}\])*", "", text)


def lexical_support(sentence: str, slide_text: str) -> float:
    """Share of the sentence's content words and numbers that appear on the slide (1.0 if it has none)."""
    words = set(tokenize(strip_markers(sentence)))
    numbers = set(NUMBER.findall(sentence))
    if not words and not numbers:
        return 1.0
    slide_words = set(tokenize(slide_text))
    slide_numbers = set(NUMBER.findall(slide_text))
    found = len(words & slide_words) + len(numbers & slide_numbers)
    return found / (len(words) + len(numbers))


def best_support(
    sentence: str,
    sentence_vector: np.ndarray,
    slide_texts: list[str],
    slide_vectors: np.ndarray,
    threshold: float = SUPPORTED,
) -> Support:
    """The slide that supports ``sentence`` best, or ``source=None`` when none reaches ``threshold``."""
    if not slide_texts:
        return Support(None, 0.0, 0.0, 0.0)
    hinted = {n - 1 for n in markers(sentence)}
    best = Support(None, -1.0, 0.0, 0.0)
    for i, text in enumerate(slide_texts):
        lexical = lexical_support(sentence, text)
        dense = float(np.dot(sentence_vector, slide_vectors[i]))
        score = 0.6 * lexical + 0.4 * dense + (0.03 if i in hinted else 0.0)
        if score > best.score:
            best = Support(i, score, lexical, dense)
    if best.score < threshold:
        return Support(None, best.score, best.lexical, best.dense)
    return best


def snippet(sentence: str, slide_text: str, width: int = 220) -> str:
    """The slide line that shares most words with the sentence: the evidence shown beside a citation."""
    lines = [ln.strip(" -*\t") for ln in slide_text.splitlines() if ln.strip(" -*\t")]
    if not lines:
        return ""
    words = set(tokenize(sentence))
    line = max(lines, key=lambda ln: len(words & set(tokenize(ln))))
    return line if len(line) <= width else line[: width - 1] + "…"

"""Wrong options drawn from the deck: the terms, numbers and table cells of the key's section.

A good wrong option is the right answer to a neighbouring question: "domain generalization" where
the key is "domain adaptation", "country" (PovertyMap's domain) where it is "git repository"
(Py150's). Asked to invent wrong answers, the 1.5B writes members of the key ("Music" for "audio"),
negations, or one phrase with a word swapped. So for a key that names a thing or a number, the
candidates come from the deck by rule: a term for a term (what the section's slides set in bold or
italics, their titles and label-like lines), a number with the key's unit for a number, and for a
table cell the same column's other cells. The ones closest in meaning to the key come first. A key
that is a whole claim gets none: another slide's claim is often true of the question too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answering.excerpt import Embed
from assistant.corpus.chunking import Chunk, plain_text
from assistant.corpus.tables import SEPARATOR
from assistant.practice.wording import content_words, option_form

TERM_WORDS = 4  # a key this short names a thing (a method, a dataset, a setting); a longer one is a claim
LIMIT = 6  # candidates offered: with the model's own wrong answers, enough to keep three
# Below this cosine to the key a term is off the subject ("Future" for "GANs"); the key's table column is exempt.
MIN_COSINE = 0.35

_EMPHASIS = re.compile(r"\*\*([^*\n]+?)\*\*|(?<![*\w])\*([^*\n]+?)\*(?![*\w])")
MAGNITUDE = 10  # a number's wrong options lie within this factor of it
_QUANTITY = re.compile(r"(?<![\w.])\d+(?:\.\d+)? ?%?(?![\w.])")
_GENERIC_TITLES = frozenset({"overview", "outline", "summary", "questions", "recap", "announcements", "review"})
_GENERIC_TITLE_WORDS = re.compile(r"\s+(?:summary|overview|recap|basics)\s*$", re.IGNORECASE)


def key_kind(key: str) -> str:
    """The key's kind: "number" (a quantity and little else), "term" (a few words naming a thing) or "claim"."""
    words = key.split()
    if _QUANTITY.search(key) and len(words) <= 2:
        return "number"
    return "term" if 0 < len(words) <= TERM_WORDS else "claim"


def _short(phrase: str) -> str:
    phrase = " ".join(phrase.strip(" .,:;-•*()#").split())
    words = phrase.split()
    if not 0 < len(words) <= TERM_WORDS or "$" in phrase or "?" in phrase or phrase.count("(") != phrase.count(")"):
        return ""
    return phrase if any(c.isalpha() for c in phrase) else ""


def terms(chunk: Chunk) -> list[str]:
    """What a slide names: its emphasised phrases, its title, its label-like short lines and line heads."""
    found = [m.group(1) or m.group(2) for m in _EMPHASIS.finditer(chunk.text)]
    title = _GENERIC_TITLE_WORDS.sub("", chunk.title.split(":")[0])
    if title.strip().lower().strip("?!. ") not in _GENERIC_TITLES:
        found.append(title)
    for line in plain_text(chunk.text).splitlines():
        line = line.strip(" -•\t")
        if SEPARATOR in line:  # a table row: its entity names a thing
            found.append(line.split(SEPARATOR, 1)[0])
        elif len(line.split()) <= TERM_WORDS:
            found.append(line)
        elif ":" in line[:40]:  # "Domain adaptation: ..." names its subject first
            found.append(line.split(":", 1)[0])
    return [t for t in map(_short, found) if t]


def table_cells(chunk: Chunk) -> dict[str, list[str]]:
    """A table slide's cells by column header (``tables.rows_to_lines`` writes ``entity — header: cell; …``)."""
    columns: dict[str, list[str]] = {}
    for line in plain_text(chunk.text).splitlines():
        if SEPARATOR not in line:
            continue
        for cell in line.split(SEPARATOR, 1)[1].split("; "):
            header, _, value = cell.partition(": ")
            if value.strip():
                columns.setdefault(header.strip(), []).append(value.strip())
    return columns


def _same_column(key: str, chunk: Chunk) -> list[str]:
    form = option_form(key)
    for cells in table_cells(chunk).values():
        if form in {option_form(c) for c in cells}:
            return [c for c in cells if option_form(c) != form]
    return []


def _value(quantity: str) -> float:
    return float(quantity.rstrip("%"))


def _same_magnitude(candidate: str, key: str) -> bool:
    """Within a factor of ten of the key, and not zero-padded: "2", "04" or "2022" beside "182" is no
    plausible head count, where "150" or "250" would be."""
    if candidate[:1] == "0" and candidate[1:2].isdigit():
        return False
    low, high = sorted((_value(candidate), _value(key)))
    return low > 0 and high / low <= MAGNITUDE


def _numbers(chunks: Sequence[Chunk], key: str) -> list[str]:
    percent = "%" in key
    own = [q.replace(" ", "") for q in _QUANTITY.findall(key)]
    found = [q.replace(" ", "") for c in chunks for q in _QUANTITY.findall(plain_text(c.text))]
    return [
        q
        for q in dict.fromkeys(found)
        if q not in own and q.endswith("%") == percent and (not own or _same_magnitude(q, own[0]))
    ]


def _in_case_of(candidate: str, key: str) -> str:
    """``candidate`` with its first letter in the key's case, unless it is a name ("ImageNet", "BERT")."""
    first = candidate.split()[0]
    if not key[:1].isalpha() or first[1:] != first[1:].lower():
        return candidate
    return (candidate[0].upper() if key[0].isupper() else candidate[0].lower()) + candidate[1:]


def deck_options(
    key: str,
    question: str,
    chunk: Chunk,
    chunks: Sequence[Chunk],
    embed: Embed | None = None,
    limit: int = LIMIT,
) -> list[str]:
    """Up to ``limit`` wrong options for ``key`` from the section of ``chunk`` (the item's slide), best first.

    A term found on the item's own slide is left out (it may answer the question too), except the
    other cells of the key's table column; so is one made of the question's words or of the key's.
    Without ``embed`` they come in deck order, unfiltered by meaning.
    """
    kind = key_kind(key)
    if kind == "claim":
        return []
    section = list({c.slide_id: c for c in chunks if c.section == chunk.section}.values()) or [chunk]
    if kind == "number":
        return _numbers([chunk, *(c for c in section if c.slide_id != chunk.slide_id)], key)[:limit]
    own = option_form(plain_text(chunk.search_text))
    asked = set(content_words(question)) | set(content_words(key))
    column = _same_column(key, chunk)
    found = column + [t for c in section if c.slide_id != chunk.slide_id for t in terms(c) if option_form(t) not in own]
    key_form = option_form(key)
    found = [t for t in found if set(content_words(t)) - asked and key_form not in option_form(t)]
    unique = list({option_form(t): t for t in reversed(found)}.values())[::-1]  # first spelling of each kept
    if embed is not None and unique:
        vectors = embed([key, *unique])
        closeness = {t: float(vectors[0] @ v) for t, v in zip(unique, vectors[1:], strict=True)}
        unique = [t for t in unique if t in column or closeness[t] >= MIN_COSINE]
        unique.sort(key=lambda t: (t not in column, -closeness[t]))
    return [_in_case_of(t, key) for t in unique[:limit]]

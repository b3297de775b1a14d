"""Hints before the answer, in three steps, from the stored item and its slide (no model call).

1. where to look: the slide's title and section;
2. the slide's line that holds the answer, with the answer's words blanked (a cloze);
3. the answer with its explanation and citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.corpus.chunking import Chunk
from assistant.practice.items import PracticeItem, answer_text, cite
from assistant.practice.slides import bullet_lines, statement
from assistant.practice.wording import content_words
from assistant.text import fold_plural

BLANK = "_____"
_WORD = re.compile(r"[\w'-]+")


@dataclass(frozen=True)
class Hint:
    step: int  # 1, 2, 3: each gives away more
    title: str
    text: str


def _key_words(item: PracticeItem) -> set[str]:
    """The words a cloze hides: the answer's; for true/false, the correction's words the statement lacks."""
    if item.type == "tf":
        return set(content_words(item.explanation)) - set(content_words(item.question)) or set(
            content_words(item.question)
        )
    return set(content_words(item.answer))


def cloze(item: PracticeItem, chunk: Chunk) -> str | None:
    """The slide line sharing most words with the answer (then with the question), those words blanked;
    None when no line shares any."""
    keys, asked = _key_words(item), set(content_words(item.question))
    lines = [statement(line) for line in bullet_lines(chunk)]
    scored = [
        (len(keys & set(words)), len(asked & set(words)), -len(line), line)
        for line in lines
        if len(line.split()) >= 3 and (words := content_words(line))
    ]
    if not scored or max(scored)[0] == 0:
        return None
    line = max(scored)[3]
    return _WORD.sub(lambda m: BLANK if fold_plural(m.group().lower()) in keys else m.group(), line)


def hints(item: PracticeItem, chunk: Chunk | None) -> list[Hint]:
    """The three steps for ``item``; ``chunk`` is its source slide as indexed now (None when it left the deck)."""
    ref = item.source[0] if item.source else None
    where = f"Look at slide {ref.slide}, “{ref.title}”" if ref else "Look through the slides"
    if chunk is not None and chunk.section:
        where += f", in the section “{chunk.section}”"
    line = cloze(item, chunk) if chunk is not None else None
    key_line = f"The slide says: “{line}”" if line else "No single line of the slide holds the answer; reread it."
    answer = f"{answer_text(item)}. {item.explanation}".strip()
    if item.source:
        answer += f" ({cite(item.source)})"
    return [Hint(1, "Where to look", where + "."), Hint(2, "The key line", key_line), Hint(3, "The answer", answer)]

"""Which slides to ask about, and what on a slide is worth asking: sections, usable slides, focus lines.

A request names a section, a topic or slide ids; ``candidate_slides`` turns it into distinct usable
slides, best first. ``focus_lines`` are a slide's statements, one per draft, and ``quote_slide`` picks the
line that states a key, to quote as the item's explanation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from assistant.answering.citations import lexical_support
from assistant.corpus.chunking import Chunk, plain_text
from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.answering.assistant import Assistant

MIN_SLIDE_CHARS = 80  # a slide with less prose (a title, figure labels) cannot support a question
TOPIC_K = 6
TOPIC_MIN_DENSE = 0.25  # retrieved slides below this cosine are not about the topic


def sections(chunks: Iterable[Chunk]) -> list[str]:
    """Section names in deck order (the deck title names the slides before the first divider)."""
    return list(dict.fromkeys(c.section for c in chunks if c.section))


def resolve_section(name: str, chunks: Sequence[Chunk]) -> str:
    """The section ``name`` means: case-insensitive exact match, else the one section it is a prefix of."""
    available = sections(chunks)
    wanted = " ".join(name.split()).casefold()
    exact = [s for s in available if s.casefold() == wanted]
    matches = exact or ([s for s in available if s.casefold().startswith(wanted)] if wanted else [])
    if len(matches) == 1:
        return matches[0]
    listing = "; ".join(f'"{s}"' for s in (matches if len(matches) > 1 else available))
    problem = "matches several sections" if len(matches) > 1 else "is not a section of the slides"
    raise AssistantError(f'"{name}" {problem}; choose one of: {listing}')


def usable(chunk: Chunk) -> bool:
    """Enough statements to ask about: lines of 4+ words that are not table rows, study advice or questions.

    Figure labels and tables do not count, nor do review slides that only list what to study
    ("Understand the meta-learning problem setup") or questions they leave open: a key written for
    those would come from the model, not from the slide.
    """
    prose = "\n".join(ln for ln in chunk.shown.splitlines() if ln.count("\t") < 3 and not ln.lstrip().startswith("|"))
    statements = [statement(ln) for ln in plain_text(prose).splitlines()]
    lines = [s for s in statements if len(s.split()) >= 4 and not _STUDY_ADVICE.match(s)]
    return len(" ".join(" ".join(lines).split())) >= MIN_SLIDE_CHARS


def spread(slides: Sequence[Chunk], n: int) -> list[Chunk]:
    """``slides`` reordered so the first ``n`` are evenly spaced over them; the rest follow as spares."""
    if len(slides) <= n:
        return list(slides)
    first = sorted({round(i * len(slides) / n) for i in range(n)})
    return [slides[i] for i in first] + [s for i, s in enumerate(slides) if i not in first]


def candidate_slides(
    assistant: Assistant,
    section: str | None = None,
    topic: str | None = None,
    slide_ids: Sequence[str] | None = None,
    n: int = 5,
) -> list[Chunk]:
    """Distinct usable slides for the request, best first: spread over a section, or ranked for a topic."""
    chunks = assistant.index.chunks
    if slide_ids:
        by_id = {c.slide_id: c for c in reversed(chunks)} | {c.id: c for c in chunks}
        unknown = [s for s in slide_ids if s not in by_id]
        if unknown:
            raise AssistantError(f"unknown slide id(s): {', '.join(unknown)}; ids look like {chunks[0].slide_id}")
        pool = [by_id[s] for s in slide_ids]
    elif topic:
        hits = [h for h in assistant.retriever.search(topic, TOPIC_K).hits if h.dense >= TOPIC_MIN_DENSE]
        within = resolve_section(section, chunks) if section else None
        pool = [h.chunk for h in hits if within is None or h.chunk.section == within]
    elif section:
        name = resolve_section(section, chunks)
        pool = spread([c for c in chunks if c.section == name and usable(c)], n)
    else:  # the whole deck: round-robin over sections, each spread
        per_section = [spread([c for c in chunks if c.section == s and usable(c)], n) for s in sections(chunks)]
        pool = [lst[i] for i in range(max(map(len, per_section), default=0)) for lst in per_section if i < len(lst)]
    distinct = list({c.slide_id: c for c in reversed([c for c in pool if usable(c)])}.values())[::-1]
    if not distinct:
        what = (
            "among the chosen ones"
            if slide_ids
            else f'about "{topic}"'
            if topic
            else (f'in "{section}"' if section else "in the index")
        )
        raise AssistantError(f"no slide {what} has enough text to ask a question about; try another section or topic")
    return distinct


def select_slides(
    assistant: Assistant,
    section: str | None = None,
    topic: str | None = None,
    slide_ids: Sequence[str] | None = None,
    n: int = 5,
) -> list[Chunk]:
    """The slide for each of ``n`` questions: distinct slides first, then round-robin when there are fewer."""
    pool = candidate_slides(assistant, section, topic, slide_ids, n)
    return [pool[i % len(pool)] for i in range(n)]


def slide_text(chunk: Chunk) -> str:
    return chunk.search_text


# Review slides phrase facts as study advice ("Understand the details behind decoding: beam search"); the
# advice is not the fact, and a model handed it as a focus copies it as the "question".
_STUDY_ADVICE = re.compile(
    r"^(?:(?:be sure to |make sure (?:that )?you )?(?:understand|know|review|read through|be familiar with|"
    r"remember|compare and contrast)(?:,? at a high level,?)?:?\s+(?:all of |both )?)",
    re.IGNORECASE,
)


def statement(line: str) -> str:
    """What a line states after any question it poses: "What about sequence output? Just have an output at
    every layer" states "Just have an output at every layer"; a line that only asks states nothing."""
    return line.rsplit("?", 1)[-1].strip(" ()-•\t")


def bullet_lines(chunk: Chunk) -> list[str]:
    """The slide's lines as plain text, without bullet marks."""
    return [ln.strip(" -•\t") for ln in plain_text(chunk.text).splitlines()]


def focus_lines(chunk: Chunk) -> list[str]:
    """The slide's substantive bullet lines; successive questions on one slide each focus on another."""
    lines = [_STUDY_ADVICE.sub("", statement(ln)) for ln in bullet_lines(chunk)]
    # questions the slide poses ("What if we knew ...?") and pointers ("all of the above") are not facts to ask about
    return [ln for ln in lines if len(ln) >= 30 and "above" not in ln.lower()]


def quote_slide(chunk: Chunk, question: str, key: str, limit: int = 300) -> str:
    """The slide line that states ``key`` best (ties: the one closest to the question), quoted as the explanation."""
    lines = [ln for ln in bullet_lines(chunk) if len(ln.split()) >= 3]
    if not lines:
        return f'See the slide "{chunk.title}".'
    best = max(lines, key=lambda ln: (lexical_support(key, ln), lexical_support(f"{question} {key}", ln)))
    best = best if len(best) <= limit else best[: limit - 1].rsplit(" ", 1)[0] + "…"
    return f'The slides: "{best}"'

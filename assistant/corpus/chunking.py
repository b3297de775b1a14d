"""Slides to chunks: one chunk per content slide, split only when a slide is very long.

The chunk keeps its slide's id, so retrieval, citations and the eval harness all speak of slides.
Search text strips LaTeX markup (``\\mathbf{x}`` reads as ``x``) so that BM25 and the embedder see
words, while the original text is what users are shown.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass

from assistant.corpus.readers import Slide
from assistant.corpus.tables import linearize

MAX_CHUNK_CHARS = 1600  # about 400 tokens: the embedder reads 256 word pieces, the prompt stays short

_LATEX_CMD = re.compile(r"\\(?:mathbf|mathcal|text|textbf|mathrm|operatorname|boldsymbol)\s*\{([^{}]*)\}")
_LATEX_BARE = re.compile(r"\\([A-Za-z]+)")
_SPACES = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Chunk:
    """The unit of retrieval; ``id`` is unique, ``slide_id`` is what users and citations see."""

    id: str
    slide_id: str
    deck: str
    deck_title: str
    section: str
    slide: int
    title: str
    text: str  # what retrieval, the prompt and the checks read (tables as one line per entity)
    source: str
    display: str = ""  # the slide as written, when ``text`` differs from it (a table); shown to users

    @property
    def shown(self) -> str:
        return self.display or self.text

    @property
    def search_text(self) -> str:
        return f"{self.title}\n{plain_text(self.text)}"

    @property
    def digest(self) -> str:
        """Content hash: an edited slide gets a new digest and is the only one re-embedded."""
        return hashlib.sha256(f"{self.title}\x00{self.section}\x00{self.text}".encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return asdict(self)


def plain_text(text: str) -> str:
    """Slide text with LaTeX commands and markdown emphasis removed, for matching, not display."""
    previous = None
    while previous != text:
        previous, text = text, _LATEX_CMD.sub(r"\1", text)
    text = _LATEX_BARE.sub(r"\1", text).replace("$", " ")
    text = text.replace("**", "").replace("*", "").replace("▶", "-")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines() if line.strip())


def split_text(text: str, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    """Split at line boundaries into pieces of at most ``limit`` characters (a longer line is cut)."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines():
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        if current and len(current) + 1 + len(line) > limit:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current.strip() or not pieces:
        pieces.append(current)
    return [p.strip("\n") for p in pieces]


def chunk_slides(slides: list[Slide], limit: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """One chunk per content slide (dividers only name sections); long slides become parts."""
    chunks: list[Chunk] = []
    for slide in slides:
        if slide.divider:
            continue
        body = linearize(slide.body)
        parts = split_text(body, limit)
        display = slide.body if body != slide.body and len(parts) == 1 else ""
        for n, part in enumerate(parts, start=1):
            chunk_id = slide.id if n == 1 else f"{slide.id}/{n}"
            chunks.append(
                Chunk(
                    chunk_id,
                    slide.id,
                    slide.deck,
                    slide.deck_title,
                    slide.section,
                    slide.number,
                    slide.title,
                    part,
                    slide.source,
                    display,
                )
            )
    return chunks

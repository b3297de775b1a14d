"""Readers that turn the files in ``corpus/`` into slides.

A slide is the unit students think in ("Lecture 24, slide 7"), so every reader yields one
``Slide`` per slide or page, numbered by position in its deck: ids stay stable when a slide's
text changes, and near-identical slides never merge. Markdown and text decks start a slide at
each ``# `` heading; a ``# `` slide with no body is a section divider that names the section of
the slides after it (the image-only slides right after a divider keep their titles as content).
PDF pages and PowerPoint slides are read with ``pypdf`` and ``python-pptx``.

Nothing here trusts a file: binary files, unreadable ones, huge ones, and links that leave the
corpus folder are skipped with a warning and listed in the ingest report.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
SUFFIXES = TEXT_SUFFIXES | {".pdf", ".pptx"}
MAX_FILE_BYTES = 50 * 1024 * 1024  # a deck larger than this is almost surely not slides
NEAR_EMPTY_CHARS = 40  # slides with fewer body characters are reported so staff can add notes

_HEADING = re.compile(r"^# (?!#)(.*\S)\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Slide:
    """One slide of a deck, numbered from 1 by position."""

    deck: str  # file stem, the stable part of every id
    deck_title: str
    number: int
    title: str
    body: str
    section: str
    source: str  # path relative to the corpus folder
    divider: bool = False

    @property
    def id(self) -> str:
        return f"{self.deck}#{self.number}"


@dataclass
class IngestReport:
    """What ingestion read, skipped and found thin; printed by ``assistant index``."""

    files: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    near_empty: list[tuple[str, str]] = field(default_factory=list)  # (slide id, title)
    slides: int = 0
    dividers: int = 0

    def lines(self) -> list[str]:
        out = [f"read {len(self.files)} file(s): {self.slides} content slides, {self.dividers} section dividers"]
        out += [f"skipped {path}: {reason}" for path, reason in self.skipped]
        if self.near_empty:
            out.append(f"{len(self.near_empty)} near-empty slide(s) (images lost? add speaker notes):")
            out += [f"  {sid}  {title}" for sid, title in self.near_empty]
        return out


def parse_markdown_deck(text: str, deck: str, source: str = "") -> list[Slide]:
    """Split a Markdown deck into slides at ``# `` headings, assigning sections from dividers.

    >>> [s.title for s in parse_markdown_deck("# A\\nx\\n# Part\\n# B\\ny", "d") if not s.divider]
    ['A', 'B']
    """
    raw: list[tuple[str, list[str]]] = []
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            raw.append((match.group(1).strip(), []))
        elif raw:
            raw[-1][1].append(line.rstrip())
    if not raw:
        body = text.strip()
        return [Slide(deck, deck, 1, deck, body, deck, source)] if body else []
    deck_title = raw[0][0]
    slides: list[Slide] = []
    section = deck_title
    previous_empty = False
    for number, (title, lines) in enumerate(raw, start=1):
        body = "\n".join(lines).strip()
        empty = not body
        # A body-less slide opens a section, unless it follows another body-less slide: then it is
        # an image-only slide of the section just opened, and its title is all the text it has.
        divider = empty and not previous_empty and number > 1
        if divider:
            section = title
        slides.append(Slide(deck, deck_title, number, title, body, section, source, divider))
        previous_empty = empty
    return slides


def _read_pdf(path: Path, deck: str, source: str) -> list[Slide]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    pages = [(page.extract_text() or "").strip() for page in reader.pages]
    deck_title = next((p.splitlines()[0].strip() for p in pages if p), deck)
    slides = []
    for number, text in enumerate(pages, start=1):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        title = lines[0] if lines else f"Page {number}"
        slides.append(Slide(deck, deck_title, number, title, "\n".join(lines[1:]), deck_title, source))
    return slides


def _read_pptx(path: Path, deck: str, source: str) -> list[Slide]:
    from pptx import Presentation

    presentation = Presentation(str(path))
    slides: list[Slide] = []
    deck_title = deck
    for number, slide in enumerate(presentation.slides, start=1):
        title_shape = slide.shapes.title
        title = title_shape.text.strip() if title_shape is not None and title_shape.has_text_frame else ""
        texts = [
            shape.text_frame.text.strip()
            for shape in slide.shapes
            if shape.has_text_frame and shape is not title_shape and shape.text_frame.text.strip()
        ]
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                texts.append(f"Speaker notes: {notes}")
        if number == 1 and title:
            deck_title = title
        slides.append(Slide(deck, deck_title, number, title or f"Slide {number}", "\n".join(texts), deck_title, source))
    return [Slide(s.deck, deck_title, s.number, s.title, s.body, deck_title, s.source) for s in slides]


def _looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def read_file(path: Path, corpus_dir: Path) -> list[Slide]:
    """Slides of one file; raises ``ValueError`` with a short reason when the file cannot be used."""
    source = path.relative_to(corpus_dir).as_posix()
    deck = path.stem
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"unsupported file type {suffix or '(none)'}; use .md, .txt, .pdf or .pptx")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"file is {size // (1024 * 1024)} MiB, over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit")
    if suffix in TEXT_SUFFIXES:
        data = path.read_bytes()
        if _looks_binary(data):
            raise ValueError("binary content in a text file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise ValueError(f"not UTF-8 text ({err.reason} at byte {err.start})") from None
        return parse_markdown_deck(text, deck, source)
    try:
        return _read_pdf(path, deck, source) if suffix == ".pdf" else _read_pptx(path, deck, source)
    except Exception as err:  # noqa: BLE001 - any parser failure means "unreadable", reported, not fatal
        raise ValueError(f"unreadable {suffix[1:].upper()} ({type(err).__name__}: {str(err)[:80]})") from None


def corpus_files(corpus_dir: Path, report: IngestReport) -> list[Path]:
    """Files under ``corpus_dir`` in a stable order, leaving out links that point outside it."""
    root = corpus_dir.resolve()
    files = []
    for path in sorted(corpus_dir.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(corpus_dir).parts):
            continue
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError):
            report.skipped.append((str(path.relative_to(corpus_dir)), "broken link"))
            continue
        if not resolved.is_relative_to(root):
            report.skipped.append((str(path.relative_to(corpus_dir)), "link points outside the corpus folder"))
            continue
        if resolved.is_file():
            files.append(path)
    return files


def read_corpus(corpus_dir: Path) -> tuple[list[Slide], IngestReport]:
    """All slides under ``corpus_dir`` (dividers included) and the report of what happened."""
    report = IngestReport()
    if not corpus_dir.is_dir():
        report.skipped.append((str(corpus_dir), "corpus folder does not exist"))
        return [], report
    slides: list[Slide] = []
    decks: set[str] = set()
    for path in corpus_files(corpus_dir, report):
        rel = str(path.relative_to(corpus_dir))
        try:
            deck_slides = read_file(path, corpus_dir)
        except (ValueError, OSError) as err:
            log.warning("skipping %s: %s", rel, err)
            report.skipped.append((rel, str(err)))
            continue
        if path.stem in decks:
            report.skipped.append((rel, f"another file already provides deck {path.stem!r}"))
            continue
        if not deck_slides:
            report.skipped.append((rel, "no text"))
            continue
        decks.add(path.stem)
        report.files.append(rel)
        for slide in deck_slides:
            if slide.divider:
                report.dividers += 1
                continue
            report.slides += 1
            if len(slide.body) < NEAR_EMPTY_CHARS:
                report.near_empty.append((slide.id, slide.title))
        slides.extend(deck_slides)
    return slides, report

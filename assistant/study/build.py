"""Filling the bank: checked items for every usable slide and question type, resumable at any point.

Each accepted item is stored in its own transaction as soon as it passes the checks, and the
builder asks each slide only for what the bank still lacks, so a killed build loses at most the
item being written and a restart carries on where it stopped.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.practice.items import QTYPES
from assistant.practice.sets import generate_set
from assistant.practice.slides import resolve_section, usable
from assistant.study.bank import Bank

if TYPE_CHECKING:
    from assistant.answering.assistant import Assistant

Progress = Callable[[int, int, str], None]  # (slide-and-type pairs done, total, what now)


@dataclass
class BuildReport:
    added: Counter = field(default_factory=Counter)  # by type
    skipped: int = 0  # slide-and-type pairs the bank already had enough of
    short: list[str] = field(default_factory=list)  # "slide title (type)" the checks let nothing through for
    rejections: Counter = field(default_factory=Counter)  # drafts turned down, by the check that did
    seconds: float = 0.0


def build_bank(
    assistant: Assistant,
    bank: Bank,
    qtypes: Sequence[str] = QTYPES,
    per_slide: int = 1,
    progress: Progress | None = None,
    max_attempts: int = 3,
    section: str | None = None,
) -> BuildReport:
    """Give every usable slide (of ``section``, when named) ``per_slide`` checked items of each type in ``qtypes``."""
    report, start = BuildReport(), time.perf_counter()
    chunks = assistant.index.chunks
    wanted = resolve_section(section, chunks) if section else None
    slides = list({c.slide_id: c for c in chunks if usable(c) and wanted in (None, c.section)}.values())
    pairs = [(chunk, qtype) for chunk in slides for qtype in qtypes]
    # one slide asks for one statement: alternate slides between a true one and a false one first, or every
    # true/false item in the bank would be true
    first_true = {chunk.slide_id: n % 2 == 0 for n, chunk in enumerate(slides)}
    for done, (chunk, qtype) in enumerate(pairs):
        if progress:
            progress(done, len(pairs), f"{qtype}: {chunk.title}")
        missing = per_slide - bank.count(chunk, qtype)
        if missing <= 0:
            report.skipped += 1
            continue
        result = generate_set(
            assistant,
            slide_ids=[chunk.slide_id],
            n=missing,
            qtype=qtype,
            seen=bank.questions(chunk),
            max_attempts_per_item=max_attempts,
            first_true=first_true[chunk.slide_id],
        )
        report.rejections.update(result.rejections)
        for item in result.items:
            report.added[qtype] += bank.add(item, chunk) is not None
        if not result.items:
            report.short.append(f"{chunk.title} ({qtype})")
    if progress:
        progress(len(pairs), len(pairs), "done")
    report.seconds = round(time.perf_counter() - start, 1)
    return report

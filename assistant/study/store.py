"""Opening the study database for a process, and a practice set drawn from the bank first.

The database lives beside the index (``Settings.study_path``). A new one takes the shipped bank
(``index/bank.json``, kept in git) on first open, so a fresh clone's first quiz needs no model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.practice.items import PracticeSet
from assistant.practice.slides import resolve_section, usable
from assistant.study.bank import BankItem
from assistant.study.db import StudyDB
from assistant.study.review import Clock, Student, Study

if TYPE_CHECKING:
    from assistant.answering.assistant import Assistant
    from assistant.corpus.chunking import Chunk
    from assistant.practice.sets import ProgressFn

log = logging.getLogger(__name__)

SHIPPED_BANK = "bank.json"


def open_study(settings: Settings, clock: Clock = time.time) -> Study:
    """The study database of ``settings``, made (and given the shipped bank) on first use."""
    study = Study(StudyDB(settings.study_path), clock)
    shipped = settings.index_dir / SHIPPED_BANK
    if shipped.is_file() and not study.db.query("SELECT 1 FROM items LIMIT 1"):
        try:
            log.info("question bank: %d items from %s", study.bank.import_json(shipped), shipped)
        except AssistantError as err:
            log.warning("the shipped question bank was not loaded: %s", err)
    return study


def _covers(study: Study, chunks: Sequence[Chunk], section: str | None, qtype: str) -> bool:
    """Whether the bank holds an item of ``qtype`` a student may see for every usable slide of ``section``."""
    wanted = {c.slide_id for c in chunks if usable(c) and section in (None, c.section)}
    return bool(wanted) and wanted <= {b.slide_id for b in study.bank.items(section, qtype)}


def draw_set(
    assistant: Assistant,
    study: Study,
    *,
    n: int = 5,
    qtype: str = "mcq",
    section: str | None = None,
    topic: str | None = None,
    student: Student | None = None,
    seen: Sequence[str] = (),
    model: str | None = None,
    progress: ProgressFn | None = None,
) -> tuple[PracticeSet, list[BankItem]]:
    """Up to ``n`` items: from the bank (instant), then written now for what it lacks, which the bank keeps.

    Items a named student has answered, and questions in ``seen`` (this session's), come last. A
    topic is retrieved like a question and its slides' items drawn; a request the bank cannot fill
    says how many it had.
    """
    from assistant.practice.sets import generate_set
    from assistant.practice.slides import candidate_slides

    if section:
        section = resolve_section(section, assistant.index.chunks)
    slide_ids: Sequence[str] | None = None
    if topic:
        slide_ids = [c.slide_id for c in candidate_slides(assistant, section, topic, None, n)]
    asked = set(seen)
    avoid = study.answered_ids(student) if student else set()
    avoid |= {b.id for b in study.bank.items(section, qtype, slide_ids=slide_ids) if b.item.question in asked}
    drawn = study.bank.draw(n, qtype, section, slide_ids, avoid=avoid)
    if len(drawn) < n and avoid:  # met them all: the bank's items again before the model writes more
        drawn += study.bank.draw(n - len(drawn), qtype, section, slide_ids, avoid={b.id for b in drawn})
    scope = f'section "{section}"' if section else f'topic "{topic}"' if topic else "the whole deck"
    result = PracticeSet([b.item for b in drawn], n, qtype, scope, model="question bank")
    result.message = f"{len(drawn)} question(s) from the course's question bank, {scope}."
    from_bank = len(drawn)
    if from_bank < n and not topic and _covers(study, assistant.index.chunks, section, qtype):
        # one checked item a slide is what the slides allow: the model would take minutes to write
        # a second on the same slide, so the set is what the bank has
        result.message = (
            f"{from_bank} question(s) from the course's question bank, {scope}: "
            "one for each slide with enough on it to ask about."
        )
    elif from_bank < n:
        more = generate_set(
            assistant,
            section=section,
            topic=topic,
            n=n - from_bank,
            qtype=qtype,
            model=model,
            seen=[b.item.question for b in study.bank.items(section, qtype)],
            progress=progress,
        )
        by_slide = {c.slide_id: c for c in assistant.index.chunks}
        for item in more.items:
            chunk = by_slide.get(item.source[0].slide_id) if item.source else None
            item_id = study.bank.add(item, chunk) if chunk else None
            if item_id is not None:
                drawn.append(study.bank.get(item_id))
        result = PracticeSet([b.item for b in drawn], n, qtype, scope, model=f"question bank + {more.model}")
        rest = more.message or "the rest were written now and kept in the bank."
        result.message = f"The question bank had {from_bank} of {n}; {rest}"
    return result, drawn

"""Practice-question quality, measured: validity, support and duplicate rates for every section of the deck.

``assistant eval --practice`` generates a few multiple-choice questions per section through the same
``generate_set`` as the Practice tab and the quiz command, then re-checks what was accepted:

- *support*, with measures the generator did not use to accept it, so a support check that lets
  bad keys through shows up here instead of grading itself: the answer pipeline's grounding score
  of question + key by the cited slide (``support.best_support``, the score chat answers are
  held to), and whether retrieval for question + key finds the cited slide in its top 3;
- *duplicates*, with the generator's own checks but over the finished run: every accepted question
  against every earlier one (all sections), and the options within each item, so bookkeeping
  mistakes (a question missing from ``seen``) cannot hide a repeat.

Results go to ``OUT/practice/`` (``metrics.json``, ``items.json``); ``report.write_report`` adds
them to ``report.md``. ``bench/practice.py`` uses ``key_support`` for its grounding figures.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.answering.citations import SUPPORTED, best_support
from assistant.errors import AssistantError
from assistant.practice.checks import check_duplicate_question
from assistant.practice.checks_options import check_duplicate_options
from assistant.practice.items import PracticeItem
from assistant.practice.sets import generate_set
from assistant.practice.slides import sections, usable
from assistant.storage import write_json

if TYPE_CHECKING:
    from assistant.answering.assistant import Assistant

log = logging.getLogger(__name__)

DUPLICATE_REASONS = ("duplicate_question", "duplicate_options")


def key_support(assistant: Assistant, item: PracticeItem) -> tuple[float, bool]:
    """Grounding score of what the item teaches by the cited slide, and whether retrieval finds that slide.

    What it teaches is the question with its key (a true statement as is; a false one through its
    correction). The explanation is left out: an MCQ's is quoted from the slide, so it would pass anyway.
    """
    chunks = {c.slide_id: c for c in assistant.index.chunks}
    slide = chunks[item.source[0].slide_id]
    if item.type == "tf":
        claim = item.question if item.answer == "True" else item.explanation
    else:
        claim = f"{item.question} {item.answer}"
    vectors = assistant.embedder.embed([claim, slide.search_text])
    support = best_support(claim, vectors[0], [slide.search_text], vectors[1:], threshold=0.0)
    top = [h.chunk.slide_id for h in assistant.retriever.search(f"{item.question} {item.answer}", 3).hits]
    return support.score, slide.slide_id in top


def shown_duplicates(assistant: Assistant, items: Sequence[PracticeItem]) -> tuple[int, int]:
    """(questions that repeat an earlier accepted one, items with two equivalent options), re-checked."""
    embed = assistant.embedder.embed
    repeated = sum(
        check_duplicate_question(item, [i.question for i in items[:n]], embed) is not None
        for n, item in enumerate(items)
        if n
    )
    same_options = sum(check_duplicate_options(item, embed) is not None for item in items)
    return repeated, same_options


def _rate(part: float, whole: float) -> float | None:
    return part / whole if whole else None  # None, not NaN, when there is nothing to divide


def evaluate_practice(
    assistant: Assistant,
    out: Path,
    *,
    per_section: int = 2,
    qtype: str = "mcq",
    model: str | None = None,
    only: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Generate ``per_section`` items for each section, score them, write ``out/practice``; returns the summary.

    ``progress(done, total)`` counts question slots: accepted ones, and the slots of finished sections.
    """
    names = list(only) if only else sections(assistant.index.chunks)
    chunks = {c.slide_id: c for c in assistant.index.chunks}
    items: list[PracticeItem] = []
    rows: list[dict] = []
    by_section: dict[str, dict] = {}
    rejections: Counter = Counter()
    attempts = first_try = repaired = 0
    seconds: list[float] = []
    model_name = model or ""
    start = time.perf_counter()
    total = per_section * len(names)
    for done, name in enumerate(names):
        base = done * per_section  # questions' slots of the sections before this one

        def step(accepted: int, _requested: int, _status: str, base: int = base) -> None:
            if progress:
                progress(base + accepted, total)

        step(0, per_section, "")
        try:
            result = generate_set(
                assistant,
                section=name,
                n=per_section,
                qtype=qtype,
                model=model,
                seen=[i.question for i in items],
                progress=step,
            )
        except AssistantError as err:  # a section of title slides and figures: nothing to ask about
            by_section[name] = {
                "section": name,
                "slides": 0,
                "requested": 0,
                "accepted": 0,
                "attempts": 0,
                "rejections": {},
                "supported": 0,
                "cites_section": 0,
                "message": str(err),
            }
            continue
        slides = sum(c.section == name and usable(c) for c in assistant.index.chunks)
        scores = [key_support(assistant, item) for item in result.items]
        in_section = sum(chunks[i.source[0].slide_id].section == name for i in result.items)
        by_section[name] = {
            "section": name,
            "slides": slides,
            "requested": per_section,
            "accepted": len(result.items),
            "attempts": result.attempts,
            "rejections": dict(result.rejections),
            "supported": sum(s >= SUPPORTED for s, _ in scores),
            "cites_section": in_section,
            "message": result.message,
        }
        for item, (score, top) in zip(result.items, scores, strict=True):
            rows.append({"section": name, **item.to_dict(), "support": round(score, 3), "source_in_top3": top})
        items += result.items
        rejections += result.rejections
        attempts += result.attempts
        first_try += result.first_try_accepted
        repaired += result.repaired
        seconds += result.seconds_per_accepted
        model_name = result.model
    if progress:
        progress(total, total)
    repeated, same_options = shown_duplicates(assistant, items)
    accepted, requested = len(items), sum(s["requested"] for s in by_section.values())
    supported = sum(r["support"] >= SUPPORTED for r in rows)
    summary = {
        "model": model_name,
        "engine": assistant.settings.engine,
        "type": qtype,
        "sections": list(by_section.values()),  # a list: deck order survives the sorted keys of write_json
        "requested": requested,
        "accepted": accepted,
        "attempts": attempts,
        "validity": _rate(accepted, attempts),  # share of attempts (drafts and repairs) that passed every check
        "yield": _rate(accepted, requested),
        "first_try_rate": _rate(first_try, requested),
        "repaired": repaired,
        "rejections": dict(rejections.most_common()),
        "duplicate_rejection_rate": _rate(sum(rejections[r] for r in DUPLICATE_REASONS), attempts),
        "shown_duplicate_questions": repeated,
        "shown_duplicate_options": same_options,
        "support_rate": _rate(supported, accepted),
        "source_in_top3_rate": _rate(sum(r["source_in_top3"] for r in rows), accepted),
        "median_s_per_accepted": statistics.median(seconds) if seconds else None,
        "wall_s": round(time.perf_counter() - start, 1),
    }
    folder = out / "practice"
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "items.json", {"items": rows})
    write_json(folder / "metrics.json", summary)
    log.info("practice: %d of %d accepted in %d attempts", accepted, requested, attempts)
    return summary

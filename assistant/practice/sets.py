"""A practice set: up to n checked items of one type from the slides a request names (``generate_set``).

Each planned slide gets a bounded number of drafts (``drafting.attempt_item``), varied from one to the
next: another focus line of the slide, then the questions to avoid, then another slide; drafts a
slot did not need go to extra slots. A rejected item is never returned. The rejection counts travel
with the set so that quality can be measured, not assumed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from assistant.answering.assistant import slide_prefix
from assistant.answering.citations import lexical_support
from assistant.corpus.chunking import Chunk
from assistant.errors import AssistantError
from assistant.practice.drafting import attempt_item, build_messages, wrong_options_at_fault
from assistant.practice.items import QTYPES, PracticeItem, PracticeSet
from assistant.practice.slides import candidate_slides, focus_lines, resolve_section, slide_text
from assistant.practice.wording import option_form

if TYPE_CHECKING:
    from assistant.answering.assistant import Assistant
    from assistant.engines.base import Generator, Message

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]  # (accepted, requested, status line)

# Failed drafts on one slide before the slot moves to another: slides that need many drafts were
# where whole-section sets spent most of their time (docs/decisions/item-flaws.md).
SLIDE_DRAFTS = 2


def _scope(section: str | None, topic: str | None, slide_ids: Sequence[str] | None) -> tuple[str, str]:
    """A label for the request and the phrase used when it runs out of material."""
    if slide_ids:
        return "the chosen slides", "the chosen slides"
    if topic:
        return f'topic "{topic}"', "the slides on this topic"
    return (f'section "{section}"', "the slides of this section") if section else ("the whole deck", "the slides")


def generate_set(
    assistant: Assistant,
    *,
    section: str | None = None,
    topic: str | None = None,
    slide_ids: Sequence[str] | None = None,
    n: int = 5,
    qtype: str = "mcq",
    model: str | None = None,
    seen: Sequence[str] = (),
    max_attempts_per_item: int = 5,
    progress: ProgressFn | None = None,
    self_check: bool = True,
    first_true: bool = True,
) -> PracticeSet:
    """Up to ``n`` checked items of ``qtype``; fewer (with a ``message`` saying so) when retries run out.

    True/false statements alternate between true and false ones, a true one first unless ``first_true``
    is off (a caller asking for one at a time alternates across calls).

    Each slot gets up to ``max_attempts_per_item`` drafts, at most ``SLIDE_DRAFTS`` failed ones on one
    slide before it moves to a spare slide or the least-used other one; drafts a slot did not need go to
    extra slots on unused or least-used slides, so one bad slide does not cost a question. A draft
    rejected for its wrong options alone gets one more call for new ones. At most
    ``n * max_attempts_per_item`` drafts, so at most twice that many calls. Slides whose every draft
    failed are named in the set's ``barren`` and its message.
    """
    if qtype not in QTYPES:
        raise AssistantError(f"unknown question type {qtype!r}; choose one of: {', '.join(QTYPES)}")
    if n < 1:
        raise AssistantError("ask for at least one question")
    if section and not slide_ids:
        section = resolve_section(section, assistant.index.chunks)
    pool = candidate_slides(assistant, section, topic, slide_ids, n)
    spares = pool[n:]
    gen = assistant.generator(model)
    scope, material = _scope(section, topic, slide_ids)
    result = PracticeSet([], n, qtype, scope, model=gen.name)
    asked: dict[str, list[str]] = {}  # questions written per slide (accepted or not): the next prompt avoids them
    visits: Counter = Counter()
    failed: Counter = Counter()  # rejected drafts per slide
    opened: set[str] = set()  # slides whose prompt opening the engine was asked to keep
    budget, drafts, slot, since = n * max_attempts_per_item, 0, 0, time.perf_counter()
    while len(result.items) < n and drafts < budget:
        if slot < n:
            chunk = pool[slot % len(pool)]
        else:  # an extra slot for a question a failed slot did not deliver
            chunk = spares.pop(0) if spares else min(pool, key=lambda c: visits[c.slide_id])
        repair: PracticeItem | None = None  # a draft to give new wrong options, see attempt_item
        tries = 0  # new drafts for this slot; a repair is not one (at most one per draft, so still bounded)
        stale = False  # the last draft repeated a question written before on this slide
        while repair is not None or (tries < max_attempts_per_item and drafts < budget):
            if repair is None:
                if stale or (failed[chunk.slide_id] and failed[chunk.slide_id] % SLIDE_DRAFTS == 0):
                    chunk, stale = _next_slide(chunk, spares, pool, visits), False
                tries += 1
                drafts += 1
            if progress:
                what = "new wrong options" if repair else f"attempt {tries}"
                progress(len(result.items), n, f"question {len(result.items) + 1} of {n}, {what}: {chunk.title}")
            if chunk.slide_id not in opened:
                opened.add(chunk.slide_id)
                _cache_opening(gen, chunk)
            true_next = (len(result.items) % 2 == 0) == first_true
            messages = [] if repair else _prompt_for(qtype, chunk, asked, seen, visits, true_next)
            previous = [*seen, *(i.question for i in result.items)]
            result.attempts += 1
            attempt = attempt_item(gen, assistant, chunk, qtype, previous, messages, self_check, repair, result.items)
            draft = attempt.written
            if draft is not None and repair is None:
                written = asked.setdefault(chunk.slide_id, [])
                stale = _same_question(draft.question, written)
                written.append(draft.question)
            if attempt.item is not None:
                result.items.append(attempt.item)
                now = time.perf_counter()
                result.seconds_per_accepted.append(round(now - since, 2))  # failed attempts before it included
                since = now
                result.first_try_accepted += tries == 1 and repair is None
                result.repaired += repair is not None
                break
            result.rejections[attempt.reason] += 1
            failed[chunk.slide_id] += repair is None
            # Only the wrong options failed: keep the question and key, ask once for new wrong options.
            repair = (
                draft
                if repair is None
                and draft is not None
                and wrong_options_at_fault(draft, attempt.reason, slide_text(chunk), previous, assistant.embedder.embed)
                else None
            )
        slot += 1
    took = {ref.slide_id for item in result.items for ref in item.source}
    result.barren = [c.title for c in pool if failed[c.slide_id] and c.slide_id not in took]
    _finish(result, progress, scope, material)
    return result


def _same_question(question: str, written: Sequence[str]) -> bool:
    """Whether ``question`` is one of ``written`` as the duplicate check compares them word for word."""
    return option_form(question) in {option_form(q) for q in written}


def _next_slide(chunk: Chunk, spares: list[Chunk], pool: Sequence[Chunk], visits: Counter) -> Chunk:
    """The slide for a slot's next draft once ``chunk`` stops giving new questions: a spare, else the
    least-used other slide of the pool, else ``chunk`` itself.

    Greedy decoding on a prompt that barely changes writes the same question again: on a slide titled
    "What is self-supervised learning?" the 1.5B wrote that question four times running, each rejected
    as the slide's own question.
    """
    if spares:
        return spares.pop(0)
    others = [c for c in pool if c.slide_id != chunk.slide_id]
    return min(others, key=lambda c: visits[c.slide_id]) if others else chunk


def _cache_opening(gen: Generator, chunk: Chunk) -> None:
    """Have an engine that keeps prompt starts (transformers) hold this slide's opening (``drafting._slide_messages``).

    Read from the copy saved beside the model in well under a second when the app already cached the
    deck's slides; computed and saved otherwise (the same work as the first prompt's prefill).
    """
    if not gen.keeps_prefixes:
        return
    try:
        gen.cache_prefix(slide_prefix(chunk))
    except Exception as err:  # noqa: BLE001 - a cache only: the prompt is prefilled in full without it
        log.warning("could not cache the opening of slide %s (%s)", chunk.slide_id, err)


def _prompt_for(
    qtype: str, chunk: Chunk, asked: dict[str, list[str]], seen: Sequence[str], visits: Counter, truth: bool
) -> list[Message]:
    """The prompt for the next attempt on ``chunk``: the next focus line, or the questions to avoid.

    Earlier questions are named only once every focus line of the slide has had its turn: named,
    they are what the 1.5B writes again (five focus lines of one slide, each prompt also naming the
    first question, gave that same question five times; without it, five different ones).
    """
    lines = focus_lines(chunk)
    visit = visits[chunk.slide_id]
    visits[chunk.slide_id] += 1
    focus = lines[visit % len(lines)] if len(lines) > 1 else ""
    if visit < len(lines) and focus:
        return build_messages(qtype, chunk, (), focus, truth)
    avoid = asked.get(chunk.slide_id, []) + [q for q in seen if lexical_support(q, slide_text(chunk)) >= 0.5]
    return build_messages(qtype, chunk, avoid, focus, truth)


def _finish(result: PracticeSet, progress: ProgressFn | None, scope: str, material: str) -> None:
    got, n = len(result.items), result.requested
    if progress:
        progress(got, n, "done")
    if got == n:
        result.message = f"Generated {n} question{'s' * (n != 1)} from {scope}."
    elif got:
        result.message = f"Generated {got} of {n} questions: {material} support no more."
    else:
        result.message = f"No question passed the checks: {material} support none; try another section or topic."
    if result.barren and got < n:
        result.message += f" No item passed the checks on: {'; '.join(result.barren)}."
    log.info("%s attempts=%d rejections=%s", result.message, result.attempts, dict(result.rejections))

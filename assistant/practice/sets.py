"""Practice questions from the slides: pick slides, ask the model for one item per slide, keep only checked ones.

One model call writes one item from one slide (a small model keeps one slide's facts straight, not
five), as strict JSON. Every item then goes through the checks of ``practice_checks`` (and, for
multiple choice and true/false, a second model pass that answers it from the slide, in three orders
of the options); a rejected item is retried with a varied prompt a bounded number of times and is
never returned. A draft whose question alone fails a check is cut off as soon as the question is
written (``QuestionWatch``).

Decoding is the cost on a laptop CPU (~0.1-0.2 s a token), so an MCQ is asked for in a compact form:
the question, the key and four wrong answers, no explanation. The explanation is the slide line
that states the key, quoted (``quote_slide``); of the wrong answers the best three are kept
(``with_wrong_options``). An MCQ whose only fault is its wrong options keeps its question and key
and gets one short call for new wrong options, which is cheaper than a whole new draft. Every
prompt opens like an answer prompt on the same slide, so the engine's cached KV of that opening
spares the prefill of the slide. The rejection counts travel with the set so that quality can be
measured, not assumed.

The CLI and the UI call ``generate_set``, ``grading.grade``, ``export_json``/``export_anki_csv`` and
``run_terminal_quiz`` (defined in ``grading``, re-exported here); ``sections``/``resolve_section`` list
and name what can be practised.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import random
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from assistant.answering import prompts
from assistant.answering.assistant import slide_prefix
from assistant.answering.citations import lexical_support
from assistant.corpus.chunking import Chunk, plain_text
from assistant.engines.transformers import PREFIX_END
from assistant.errors import AssistantError
from assistant.practice.checks import (
    QTYPES,
    Embed,
    check_item,
    check_key_in_question,
    check_mcq_shape,
    check_question,
    check_same_answer,
    check_self_check,
    check_supported,
    is_last_option,
    json_complete,
    json_string,
    normalize,
    parse_letter,
    parse_reply,
    parse_wrong_options,
    pick_distractors,
    reword_slide_reference,
)
from assistant.practice.grading import answer_text, cite, front_text, run_terminal_quiz  # noqa: F401 - re-exported
from assistant.storage import atomic_write_text

if TYPE_CHECKING:
    from assistant.answering.assistant import Assistant
    from assistant.engines.transformers import Generator, Message

log = logging.getLogger(__name__)

MIN_SLIDE_CHARS = 80  # a slide with less prose (a title, figure labels) cannot support a question
TOPIC_K = 6
TOPIC_MIN_DENSE = 0.25  # retrieved slides below this cosine are not about the topic
MAX_NEW_TOKENS = 160  # one item in JSON is 50-120 tokens (an MCQ in the compact form ~60); more is rambling
SELF_CHECK_TOKENS = 4
DISTRACTOR_TOKENS = 120  # five short wrong options in JSON
# Faults of the wrong options alone: new wrong options can save the draft
REPAIRABLE = frozenset({"duplicate_options", "distractor_on_slide", "key_stands_out", "mcq_shape"})
# Asked for wrong answers to a sentence-long key, the model writes copies of the key: in four 20-question
# runs no repair of a key of 15 words or more got through (0 of 16, every one duplicate_options).
REPAIR_MAX_KEY_WORDS = 14
MAX_AVOID = 4  # earlier questions quoted in a retry prompt; more makes the prompt (and prefill) long
ProgressFn = Callable[[int, int, str], None]  # (accepted, requested, status line)


@dataclass
class PracticeItem:
    """One checked question; ``answer`` is the correct option's text (mcq/tf) or the key (short)."""

    question: str
    type: str  # "mcq" | "tf" | "short"
    options: list[str]
    answer: str
    explanation: str
    source: list[dict] = field(default_factory=list)  # [{"id", "title", "deck", "slide"}]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PracticeItem:
        return cls(**{k: data[k] for k in ("question", "type", "options", "answer", "explanation", "source")})

    @property
    def key_index(self) -> int | None:
        return self.options.index(self.answer) if self.answer in self.options else None


@dataclass
class PracticeSet:
    """The accepted items plus how they were obtained: what was rejected, how often, how long it took."""

    items: list[PracticeItem]
    requested: int
    qtype: str
    scope: str
    model: str = ""
    rejections: Counter = field(default_factory=Counter)
    attempts: int = 0
    first_try_accepted: int = 0
    repaired: int = 0  # accepted after a rejected draft got new wrong options
    seconds_per_accepted: list[float] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["rejections"] = dict(self.rejections)
        return data


# --- which slides ----------------------------------------------------------------------------------------------


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
    prose = "\n".join(
        ln for ln in chunk.shown.splitlines() if ln.count("\t") < 3 and not ln.lstrip().startswith("|")
    )
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
    assistant: Assistant, section: str | None = None, topic: str | None = None,
    slide_ids: Sequence[str] | None = None, n: int = 5,
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
        what = "among the chosen ones" if slide_ids else f'about "{topic}"' if topic else (
            f'in "{section}"' if section else "in the index")
        raise AssistantError(f"no slide {what} has enough text to ask a question about; try another section or topic")
    return distinct


def select_slides(
    assistant: Assistant, section: str | None = None, topic: str | None = None,
    slide_ids: Sequence[str] | None = None, n: int = 5,
) -> list[Chunk]:
    """The slide for each of ``n`` questions: distinct slides first, then round-robin when there are fewer."""
    pool = candidate_slides(assistant, section, topic, slide_ids, n)
    return [pool[i % len(pool)] for i in range(n)]


# --- one model call per item -------------------------------------------------------------------------------------


def slide_text(chunk: Chunk) -> str:
    return chunk.search_text


# Review slides phrase facts as study advice ("Understand the details behind decoding: beam search"); the
# advice is not the fact, and a model handed it as a focus copies it as the "question".
_STUDY_ADVICE = re.compile(
    r"^(?:(?:be sure to |make sure (?:that )?you )?(?:understand|know|review|read through|be familiar with|"
    r"remember|compare and contrast)(?:,? at a high level,?)?:?\s+(?:all of |both )?)", re.IGNORECASE)


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


def build_messages(
    qtype: str, chunk: Chunk, avoid: Sequence[str] = (), focus: str = "", truth: bool = True
) -> list[Message]:
    """The slide's prompt opening plus the task for ``qtype``; ``avoid``/``focus`` vary retries."""
    extra = ""
    if focus:  # a side note: as the main instruction, the line itself came back as the "question"
        extra += f'\n- Ask about this point: "{focus}"'
    if avoid:
        extra += "\n- Ask about a different fact than: " + "; ".join(f'"{q}"' for q in avoid[-MAX_AVOID:])
    truth_word = "true" if truth else "false"
    return _slide_messages(f"practice_{qtype}", chunk, avoid=extra, truth=truth_word, answer=truth_word)


def _slide_messages(name: str, chunk: Chunk, **fields: str) -> list[Message]:
    """The task ``name`` after the opening an answer prompt on ``chunk`` has (``answer.slide_prefix``).

    Every practice prompt on a slide then starts with the tokens whose KV cache the engine keeps for
    answers (computed once, saved beside the model), so a call prefills only its task, not the slide.
    """
    system, user = slide_prefix(chunk)
    opening = user["content"][: user["content"].index(PREFIX_END)]
    task = Template(prompts.load(name)).safe_substitute(**fields)
    return [system, {"role": "user", "content": f"{opening}\n\n{task}"}]


def self_check_orders(item: PracticeItem) -> list[PracticeItem]:
    """``item`` with its options as shown, reversed, and rotated by one, for the self-check to answer in turn.

    A second right answer in other words ("It improves the worst-case performance" / "It has a positive
    effect on the worst-case performance") passes one reading: the model picks by position. Read in
    three orders, 3 of 20 items a whole-deck run had accepted lost the key at least once, two of them
    for a wrong option that says what the key says; 0.5-0.7 s a reading on the slide's cached opening.
    """
    orders = [item.options, item.options[::-1], item.options[1:] + item.options[:1]]
    unique = list(dict.fromkeys(tuple(order) for order in orders))
    return [replace(item, options=list(order)) for order in unique]


def self_check_messages(item: PracticeItem, chunk: Chunk) -> list[Message]:
    options = "\n".join(f"{'ABCD'[i]}. {o}" for i, o in enumerate(item.options))
    return _slide_messages("practice_selfcheck", chunk, question=item.question, options=options)


def distractor_messages(item: PracticeItem, chunk: Chunk) -> list[Message]:
    """Ask for new wrong options to a drafted question whose key is kept (five, to keep three good ones)."""
    # The length is spelled out: told "short", the model answered a sentence-long key with one-word options.
    length = str(len(item.answer.split()))
    return _slide_messages("practice_distractors", chunk, question=item.question, key=item.answer, length=length)


def complete(
    gen: Generator, messages: list[Message], max_new_tokens: int, stop_at_json: bool = True,
    stop: Callable[[str], bool] | None = None,
) -> str:
    """The whole reply (greedy in every engine); stops decoding once a JSON object is complete, or
    once ``stop`` (shown the reply so far) says the rest is not worth writing."""
    text = ""
    with closing(gen.stream(messages, max_new_tokens)) as stream:
        for piece in stream:
            text += piece
            if stop is not None and stop(text):
                break
            if stop_at_json and "}" in piece and json_complete(text):
                break
    return text


_DRAFT_QUESTION = re.compile(r'"question"\s*:\s*"((?:[^"\\]|\\.)*)"')
_DRAFT_ANSWER = re.compile(r'"answer"\s*:\s*"((?:[^"\\]|\\.)*)"')


class QuestionWatch:
    """Stops a draft once what it has written already decides its rejection, so the rest is not decoded.

    The question comes first in the reply, then the key, then the wrong answers:
    - a question that fails a check alone (it points at "the slide", repeats the slide's own question
      or one already asked) wastes the ~60 tokens after it;
    - so does a key the question already holds or, given the slide's ``chunk``, an MCQ key the slide
      does not support (its explanation is the slide line ``quote_slide`` picks, so nothing written
      later changes the verdict);
    - two unusable wrong answers of four (copies of the key or of each other, slide facts) leave too
      few for an MCQ, so the draft goes to new wrong options at once;
    - once three usable ones are written, a fourth would not be kept.
    ``reason`` names a question's or key's fault; ``cut`` holds (question, key, wrong answers so far)
    of a draft stopped for its wrong answers, ``full`` the same for one stopped with three usable ones.
    """

    def __init__(
        self, qtype: str, slide: str, previous: Sequence[str], embed: Embed | None, chunk: Chunk | None = None
    ) -> None:
        self.qtype, self.slide, self.previous, self.embed, self.chunk = qtype, slide, previous, embed, chunk
        self.question: str | None = None
        self.key: str | None = None
        self.reason: str | None = None
        self.cut: tuple[str, str, list[str]] | None = None
        self.full: tuple[str, str, list[str]] | None = None
        self._wrong = UsableWrong("", slide, embed)

    def __call__(self, text: str) -> bool:
        if self.question is None:
            return self._check_question(text)
        if self.qtype == "tf" or not self.question:
            return False
        if self.key is None:
            return self._check_key(text)
        return self.qtype == "mcq" and self._check_wrong(text)

    def _check_question(self, text: str) -> bool:
        match = _DRAFT_QUESTION.search(text)
        if match is None:
            return False
        question = json_string(match[1])
        self.question = "" if question is None else reword_slide_reference(question)
        if not self.question:
            return False  # the parser decides on the whole reply
        bare = PracticeItem(self.question, self.qtype, [], "", "")
        self.reason = check_question(bare, self.slide, self.previous, self.embed)
        return self.reason is not None

    def _check_key(self, text: str) -> bool:
        answer = _DRAFT_ANSWER.search(text)
        if answer is None:
            return False
        self.key = self._wrong.key = json_string(answer[1]) or ""
        question = self.question or ""
        self.reason = check_key_in_question(PracticeItem(question, self.qtype, [], self.key, ""))
        if self.reason is None and self.chunk is not None and self.qtype == "mcq":
            quoted = PracticeItem(question, "mcq", [], self.key, quote_slide(self.chunk, question, self.key))
            self.reason = check_supported(quoted, self.slide, self.embed)
        return self.reason is not None

    def _check_wrong(self, text: str) -> bool:
        if '"wrong"' not in text or not self._wrong(text):
            return False
        written = (self.question or "", self.key or "", self._wrong.wrong)
        if self._wrong.usable >= 3:
            self.full = written
        elif len(self._wrong.wrong) - self._wrong.usable >= 2:
            self.cut = written
        return self.full is not None or self.cut is not None


class UsableWrong:
    """Counts the usable wrong answers (``pick_distractors``) in a list still being written.

    Called with the reply so far, it says whether a new complete answer came in (``wrong``, ``usable``
    are then up to date); the embedder runs once per new answer, not once per token.
    """

    def __init__(self, key: str, slide: str, embed: Embed | None) -> None:
        self.key, self.slide, self.embed = key, slide, embed
        self.wrong: list[str] = []
        self.usable = 0

    def __call__(self, text: str) -> bool:
        wrong = parse_wrong_options(text)
        if not wrong or len(wrong) == len(self.wrong):
            return False
        self.wrong = wrong
        self.usable = len(pick_distractors(self.key, wrong, self.slide, k=len(wrong), embed=self.embed))
        return True


def to_item(data: dict, qtype: str, chunk: Chunk) -> PracticeItem:
    """A parsed reply as an item; MCQ options are shuffled (seeded by the question) so the key is not always A."""
    source = [{"id": chunk.slide_id, "title": chunk.title, "deck": chunk.deck_title, "slide": chunk.slide}]
    if qtype == "mcq":
        index = data["answer_index"][0] if isinstance(data["answer_index"], list) else data["answer_index"]
        options = list(data["options"])
        key = options[index]
        random.Random(zlib.crc32(data["question"].encode())).shuffle(options)
        options.sort(key=is_last_option)  # stable: "none of the above" goes last, the rest stay shuffled
        return PracticeItem(data["question"], "mcq", options, key, data["explanation"], source)
    if qtype == "tf":
        answer = "True" if data["answer"] else "False"
        return PracticeItem(data["question"], "tf", ["True", "False"], answer, data["explanation"], source)
    return PracticeItem(data["question"], "short", [], data["answer"], data["explanation"], source)


def with_wrong_options(
    question: str, key: str, wrong: Sequence[str], explanation: str, chunk: Chunk, embed: Embed | None = None
) -> dict:
    """An MCQ as parsed data from its key and a list of wrong answers: three of them, the best available.

    The model is asked for more wrong answers than needed, so that the first three that differ from
    the key and from each other (and are not slide facts) can be kept. When fewer than three qualify,
    the rest are filled from the others in order, so the checks still name the fault (a near-copy,
    a slide fact); with fewer than three in all the item fails ``check_mcq_shape``.
    """
    chosen = pick_distractors(key, wrong, slide_text(chunk), embed=embed)
    chosen += [w for w in wrong if w not in chosen][: 3 - len(chosen)]
    return {"question": question, "options": [key, *chosen], "answer_index": 0, "explanation": explanation}


def quote_slide(chunk: Chunk, question: str, key: str, limit: int = 300) -> str:
    """The slide line that states ``key`` best (ties: the one closest to the question), quoted as the explanation."""
    lines = [ln for ln in bullet_lines(chunk) if len(ln.split()) >= 3]
    if not lines:
        return f'See the slide "{chunk.title}".'
    best = max(lines, key=lambda ln: (lexical_support(key, ln), lexical_support(f"{question} {key}", ln)))
    best = best if len(best) <= limit else best[: limit - 1].rsplit(" ", 1)[0] + "…"
    return f'The slides: "{best}"'


def wrong_options_at_fault(
    item: PracticeItem, reason: str | None, slide: str = "", previous: Sequence[str] = (), embed: Embed | None = None
) -> bool:
    """Whether ``reason`` rejected ``item`` for its wrong options alone, so new ones could save it.

    The question and key must pass every other check (given ``slide``, the questions asked before
    and ``embed``), or the call for new wrong options is spent on an item that fails anyway; and the
    key must be short enough for the model to write wrong answers that are not copies of it.
    """
    if item.type != "mcq" or reason not in (*REPAIRABLE, "not_self_contained"):
        return False
    if len(item.answer.split()) > REPAIR_MAX_KEY_WORDS:
        return False
    bare = PracticeItem(item.question, item.type, [item.answer], item.answer, item.explanation, item.source)
    return not (
        check_question(bare, slide, previous, embed)  # self-contained once "all of the above" is gone
        or check_key_in_question(bare)
        or (slide and check_supported(bare, slide, embed))
    )


def attempt_item(
    gen: Generator, assistant: Assistant, chunk: Chunk, qtype: str, previous: Sequence[str],
    messages: list[Message], self_check: bool, repair: PracticeItem | None = None,
    taken: Sequence[PracticeItem] = (),
) -> tuple[PracticeItem | None, str | None, PracticeItem | None]:
    """One model call and every check: ``(item, None, item)`` when accepted, else ``(None, reason, draft)``.

    With ``repair`` (an MCQ draft rejected only for its wrong options), the call asks for new wrong
    options instead of a whole item: the question and key stay, and the result is checked anew.
    ``taken`` are the items accepted so far. ``draft`` is the item as written (when the reply did not
    parse, only its question, or None), for the next prompt and repair.
    """
    embed = assistant.embedder.embed
    cut: tuple[str, str, list[str]] | None = None  # a draft stopped at its second unusable wrong answer
    if repair is None:
        watch = QuestionWatch(qtype, slide_text(chunk), previous, embed, chunk)
        reply = complete(gen, messages, MAX_NEW_TOKENS, stop=watch)
        if watch.reason:
            log.info("rejected (%s) as soon as written: %s", watch.reason, watch.question)
            return None, watch.reason, PracticeItem(watch.question or "", qtype, [], watch.key or "", "")
        cut = watch.cut
        if written := cut or watch.full:  # checked (and repaired) as written so far
            question, key, wrong = written
            data = {"question": question, "answer": key, "wrong": wrong, "explanation": ""}
        else:
            data = parse_reply(reply, qtype)
        compact = data is not None and "wrong" in data
        if compact:
            explanation = data["explanation"] or quote_slide(chunk, data["question"], data["answer"])
            data = with_wrong_options(data["question"], data["answer"], data["wrong"], explanation, chunk, embed)
    else:
        compact = True
        enough = UsableWrong(repair.answer, slide_text(chunk), embed)  # three usable: the rest would not be used
        reply = complete(gen, distractor_messages(repair, chunk), DISTRACTOR_TOKENS,
                         stop=lambda text: enough(text) and enough.usable >= 3)
        wrong = parse_wrong_options(reply)
        # The new wrong options come first; the draft's own fill in where fewer than three new ones qualify.
        kept = [option for option in repair.options if option != repair.answer]
        data = None if wrong is None else with_wrong_options(
            repair.question, repair.answer, [*wrong, *kept], repair.explanation, chunk, embed)
    if data is None:
        log.info("rejected (unparseable): %r", reply[:200])
        question = watch.question if repair is None else None
        return None, "unparseable", PracticeItem(question, qtype, [], "", "") if question else None
    data["question"] = reword_slide_reference(data["question"])  # (a cut draft's question already is)
    if qtype == "mcq" and not cut and (reason := check_mcq_shape(data)):
        # In the compact form the shape fails only for too few wrong answers: the question and key may be good.
        return None, reason, to_item(data, qtype, chunk) if compact else None
    item = to_item(data, qtype, chunk)
    reason = check_item(item, slide_text(chunk), previous, embed) or check_same_answer(item, taken, embed)
    if cut and reason is None:
        reason = check_mcq_shape(data) or "duplicate_options"  # cut short, so never shown as it is
    if reason is None and self_check and qtype in ("mcq", "tf"):
        for shown in self_check_orders(item):
            count = len(shown.options)  # the reply ends at its letter, not at the token limit
            reply = complete(gen, self_check_messages(shown, chunk), SELF_CHECK_TOKENS, stop_at_json=False,
                             stop=lambda text, count=count: parse_letter(text, count) is not None)
            if reason := check_self_check(reply, shown.key_index or 0, count):
                break
    log.info("%s%s: %s | key: %s | options: %s", f"rejected ({reason})" if reason else "accepted",
             " after new wrong options" if repair else "", item.question, item.answer, item.options)
    return (None, reason, item) if reason else (item, None, item)


def _scope(section: str | None, topic: str | None, slide_ids: Sequence[str] | None) -> tuple[str, str]:
    """A label for the request and the phrase used when it runs out of material."""
    if slide_ids:
        return "the chosen slides", "the chosen slides"
    if topic:
        return f'topic "{topic}"', "the slides on this topic"
    return (f'section "{section}"', "the slides of this section") if section else ("the whole deck", "the slides")


def generate_set(
    assistant: Assistant, *, section: str | None = None, topic: str | None = None,
    slide_ids: Sequence[str] | None = None, n: int = 5, qtype: str = "mcq", model: str | None = None,
    seen: Sequence[str] = (), max_attempts_per_item: int = 5, progress: ProgressFn | None = None,
    self_check: bool = True,
) -> PracticeSet:
    """Up to ``n`` checked items of ``qtype``; fewer (with a ``message`` saying so) when retries run out.

    Each planned slide gets up to ``max_attempts_per_item`` drafts (the last one on a spare slide when
    there is one); drafts a slot did not need go to extra slots on unused or least-used slides, so one
    bad slide does not cost a question. A draft rejected for its wrong options alone gets one more call
    for new ones. At most ``n * max_attempts_per_item`` drafts, so at most twice that many calls.
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
                if stale or (tries and tries == max_attempts_per_item - 1 and spares):  # repeating, or a last try
                    chunk, stale = _next_slide(chunk, spares, pool, visits), False
                tries += 1
                drafts += 1
            if progress:
                what = "new wrong options" if repair else f"attempt {tries}"
                progress(len(result.items), n, f"question {len(result.items) + 1} of {n}, {what}: {chunk.title}")
            if chunk.slide_id not in opened:
                opened.add(chunk.slide_id)
                _cache_opening(gen, chunk)
            messages = [] if repair else _prompt_for(qtype, chunk, asked, seen, visits, len(result.items) % 2 == 0)
            previous = [*seen, *(i.question for i in result.items)]
            result.attempts += 1
            item, reason, draft = attempt_item(gen, assistant, chunk, qtype, previous, messages, self_check, repair,
                                               result.items)
            if draft is not None and repair is None:
                written = asked.setdefault(chunk.slide_id, [])
                stale = _same_question(draft.question, written)
                written.append(draft.question)
            if item is not None:
                result.items.append(item)
                now = time.perf_counter()
                result.seconds_per_accepted.append(round(now - since, 2))  # failed attempts before it included
                since = now
                result.first_try_accepted += tries == 1 and repair is None
                result.repaired += repair is not None
                break
            result.rejections[reason] += 1
            # Only the wrong options failed: keep the question and key, ask once for new wrong options.
            repair = draft if repair is None and draft is not None and wrong_options_at_fault(
                draft, reason, slide_text(chunk), previous, assistant.embedder.embed) else None
        slot += 1
    _finish(result, progress, scope, material)
    return result


def _same_question(question: str, written: Sequence[str]) -> bool:
    """Whether ``question`` is one of ``written`` as the duplicate check compares them word for word."""
    return normalize(question) in {normalize(q) for q in written}


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
    """Have an engine that keeps prompt starts (transformers) hold this slide's opening, see ``_slide_messages``.

    Read from the copy saved beside the model in well under a second when the app already cached the
    deck's slides; computed and saved otherwise (the same work as the first prompt's prefill).
    """
    if not hasattr(gen, "cache_prefix"):
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
    log.info("%s attempts=%d rejections=%s", result.message, result.attempts, dict(result.rejections))


# --- export ------------------------------------------------------------------------------------------------------


def export_json(items: Sequence[PracticeItem], path: Path) -> None:
    """The items as a JSON list (``PracticeItem.from_dict`` reads them back)."""
    atomic_write_text(Path(path), json.dumps([i.to_dict() for i in items], indent=2, ensure_ascii=False) + "\n")


def export_anki_csv(items: Sequence[PracticeItem], path: Path) -> None:
    """Front/back CSV for Anki's importer; the header lines tell Anki the separator and that text is plain."""
    out = io.StringIO()
    out.write("#separator:comma\n#html:false\n#columns:Front,Back\n")
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    for item in items:
        back = f"{answer_text(item)}\n\n{item.explanation}\n\nSource: {cite(item.source)}"
        writer.writerow([front_text(item), back])
    atomic_write_text(Path(path), out.getvalue())

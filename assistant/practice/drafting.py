"""Drafting one item: the prompts, one model call per draft, its checks, and one repair of its wrong options.

One model call writes one item from one slide (a small model keeps one slide's facts straight, not
five), as strict JSON; every prompt opens like an answer prompt on the same slide, so the engine's
cached KV of that opening spares the prefill of the slide. An MCQ is asked for in a compact form (the
question, the key and wrong answers, no explanation): the explanation is the slide line that states
the key, quoted (``slides.quote_slide``), and of the wrong answers the best three are kept
(``with_wrong_options``). A draft whose question alone fails a check is cut off as soon as the question
is written (``streaming.QuestionWatch``). Multiple choice and true/false items are then answered again
by the model from the slide, in three orders of the options (the self-check). An MCQ whose only fault
is its wrong options keeps its question and key and gets one short call for new wrong options, which
is cheaper than a whole new draft.
"""

from __future__ import annotations

import logging
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from string import Template
from typing import TYPE_CHECKING

from assistant.answering import prompts
from assistant.answering.assistant import slide_prefix
from assistant.answering.excerpt import Embed
from assistant.corpus.chunking import Chunk
from assistant.engines.base import PREFIX_END
from assistant.practice.checks import (
    check_item,
    check_key_in_question,
    check_question,
    check_same_answer,
    check_self_check,
    check_supported,
    reword_slide_reference,
)
from assistant.practice.checks_options import check_mcq_shape, is_last_option, pick_distractors
from assistant.practice.deck_options import deck_options
from assistant.practice.items import LETTERS, PracticeItem, SlideRef
from assistant.practice.members import check_members
from assistant.practice.option_truth import check_true_options
from assistant.practice.parsing import Draft, parse_letter, parse_reply, parse_wrong_options
from assistant.practice.slides import quote_slide, slide_text
from assistant.practice.streaming import QuestionWatch, UsableWrong, complete

if TYPE_CHECKING:
    from assistant.answering.assistant import Assistant
    from assistant.engines.base import Generator, Message

log = logging.getLogger(__name__)

MAX_NEW_TOKENS = 160  # one item in JSON is 50-120 tokens (an MCQ in the compact form ~60); more is rambling
SELF_CHECK_TOKENS = 4
DISTRACTOR_TOKENS = 120  # five short wrong options in JSON
# Faults of the wrong options alone: new wrong options can save the draft
REPAIRABLE = frozenset(
    {
        "duplicate_options",
        "distractor_on_slide",
        "key_stands_out",
        "negated_distractors",
        "one_template",
        "absolute_options",
        "mixed_kinds",
        "member_of_key",
        "distractor_true",
        "mcq_shape",
    }
)
# Asked for wrong answers to a sentence-long key, the model writes copies of the key: in four 20-question
# runs no repair of a key of 15 words or more got through (0 of 16, every one duplicate_options).
REPAIR_MAX_KEY_WORDS = 14
MAX_AVOID = 4  # earlier questions quoted in a retry prompt; more makes the prompt (and prefill) long


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
    options = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(item.options))
    return _slide_messages("practice_selfcheck", chunk, question=item.question, options=options)


def distractor_messages(item: PracticeItem, chunk: Chunk) -> list[Message]:
    """Ask for new wrong options to a drafted question whose key is kept (five, to keep three good ones)."""
    # The length is spelled out: told "short", the model answered a sentence-long key with one-word options.
    length = str(len(item.answer.split()))
    return _slide_messages("practice_distractors", chunk, question=item.question, key=item.answer, length=length)


def to_item(draft: Draft, qtype: str, chunk: Chunk) -> PracticeItem:
    """A parsed reply as an item; MCQ options are shuffled (seeded by the question) so the key is not always A."""
    source = [SlideRef(chunk.slide_id, chunk.title, chunk.deck_title, chunk.slide)]
    if qtype == "mcq":
        index = draft.answer_index[0] if isinstance(draft.answer_index, list) else draft.answer_index
        options = list(draft.options)
        key = options[index]
        random.Random(zlib.crc32(draft.question.encode())).shuffle(options)
        options.sort(key=is_last_option)  # stable: "none of the above" goes last, the rest stay shuffled
        return PracticeItem(draft.question, "mcq", options, key, draft.explanation, source)
    if qtype == "tf":
        answer = "True" if draft.answer else "False"
        return PracticeItem(draft.question, "tf", ["True", "False"], answer, draft.explanation, source)
    return PracticeItem(draft.question, "short", [], draft.answer, draft.explanation, source)


def with_wrong_options(
    question: str,
    key: str,
    wrong: Sequence[str],
    explanation: str,
    chunk: Chunk,
    embed: Embed | None = None,
    deck: Sequence[str] = (),
) -> Draft:
    """An MCQ draft from its key and a list of wrong answers: three of them, the best available.

    ``deck`` (``deck_options``: terms of the key's kind from neighbouring slides) are tried first,
    then the model's, which it is asked for more of than needed: the first three that differ from
    the key and from each other (and are not slide facts) are kept. When fewer than three qualify,
    the rest are filled from the model's others in order, so the checks still name the fault (a
    near-copy, a slide fact); with fewer than three in all the item fails ``check_mcq_shape``.
    """
    chosen = pick_distractors(key, [*deck, *wrong], slide_text(chunk), embed=embed)
    chosen += [w for w in wrong if w not in chosen][: 3 - len(chosen)]
    return Draft(question, explanation, options=[key, *chosen], answer_index=0)


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


@dataclass
class Attempt:
    """What one draft came to: ``reason`` is None when it was accepted, else why it was rejected.

    ``written`` is the item as written (when the reply did not parse, only its question, or None), for
    the next prompt and for a repair.
    """

    reason: str | None
    written: PracticeItem | None

    @property
    def item(self) -> PracticeItem | None:
        """The accepted item, or None."""
        return self.written if self.reason is None else None


def attempt_item(
    gen: Generator,
    assistant: Assistant,
    chunk: Chunk,
    qtype: str,
    previous: Sequence[str],
    messages: list[Message],
    self_check: bool,
    repair: PracticeItem | None = None,
    taken: Sequence[PracticeItem] = (),
) -> Attempt:
    """One model call and every check.

    With ``repair`` (an MCQ draft rejected only for its wrong options), the call asks for new wrong
    options instead of a whole item: the question and key stay, and the result is checked anew.
    ``taken`` are the items accepted so far.
    """
    embed = assistant.embedder.embed
    cut: tuple[str, str, list[str]] | None = None  # a draft stopped at its second unusable wrong answer
    if repair is None:
        watch = QuestionWatch(qtype, slide_text(chunk), previous, embed, chunk)
        reply = complete(gen, messages, MAX_NEW_TOKENS, stop=watch)
        if watch.reason:
            log.info("rejected (%s) as soon as written: %s", watch.reason, watch.question)
            return Attempt(watch.reason, PracticeItem(watch.question or "", qtype, [], watch.key or "", ""))
        cut = watch.cut
        if written := cut or watch.full:  # checked (and repaired) as written so far
            question, key, wrong = written
            draft = Draft(question, "", answer=key, wrong=wrong)
        else:
            draft = parse_reply(reply, qtype)
        compact = draft is not None and draft.compact
        if compact:
            explanation = draft.explanation or quote_slide(chunk, draft.question, draft.answer)
            deck = deck_options(draft.answer, draft.question, chunk, assistant.index.chunks, embed)
            draft = with_wrong_options(draft.question, draft.answer, draft.wrong, explanation, chunk, embed, deck)
    else:
        compact = True
        enough = UsableWrong(repair.answer, slide_text(chunk), embed)  # three usable: the rest would not be used
        reply = complete(
            gen,
            distractor_messages(repair, chunk),
            DISTRACTOR_TOKENS,
            stop=lambda text: enough(text) and enough.usable >= 3,
        )
        wrong = parse_wrong_options(reply)
        # The new wrong options come first (the deck's were tried in the draft); the draft's own fill in.
        kept = [option for option in repair.options if option != repair.answer]
        draft = (
            None
            if wrong is None
            else with_wrong_options(repair.question, repair.answer, [*wrong, *kept], repair.explanation, chunk, embed)
        )
    if draft is None:
        log.info("rejected (unparseable): %r", reply[:200])
        question = watch.question if repair is None else None
        return Attempt("unparseable", PracticeItem(question, qtype, [], "", "") if question else None)
    draft.question = reword_slide_reference(draft.question)  # (a cut draft's question already is)
    if qtype == "mcq" and not cut and (reason := check_mcq_shape(draft)):
        # In the compact form the shape fails only for too few wrong answers: the question and key may be good.
        return Attempt(reason, to_item(draft, qtype, chunk) if compact else None)
    item = to_item(draft, qtype, chunk)
    reason = check_item(item, slide_text(chunk), previous, embed) or check_same_answer(item, taken, embed)
    if cut and reason is None:
        reason = check_mcq_shape(draft) or "duplicate_options"  # cut short, so never shown as it is
    if reason is None:
        reason = check_members(gen, item) or check_true_options(gen, item, chunk)
    if reason is None and self_check and qtype in ("mcq", "tf"):
        for shown in self_check_orders(item):
            count = len(shown.options)  # the reply ends at its letter, not at the token limit
            reply = complete(
                gen,
                self_check_messages(shown, chunk),
                SELF_CHECK_TOKENS,
                stop_at_json=False,
                stop=lambda text, count=count: parse_letter(text, count) is not None,
            )
            if reason := check_self_check(reply, shown.key_index or 0, count):
                break
    log.info(
        "%s%s: %s | key: %s | options: %s",
        f"rejected ({reason})" if reason else "accepted",
        " after new wrong options" if repair else "",
        item.question,
        item.answer,
        item.options,
    )
    return Attempt(reason, item)

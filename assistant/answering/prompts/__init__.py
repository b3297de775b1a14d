"""Prompt texts, kept as package data so staff can read and edit them without touching code."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources

from assistant.answering.citations import strip_markers
from assistant.answering.reply import Turn
from assistant.engines.base import PREFIX_END, Message
from assistant.retrieval.hybrid import Retrieval


@cache
def load(name: str) -> str:
    """The prompt ``name`` (without ``.txt``), stripped of surrounding whitespace."""
    return resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8").strip()


def slide_block(n: int, chunk, text: str | None = None) -> str:
    """Slide ``chunk`` as prompts number it: ``[n] title``, then its text (or ``text``, an excerpt of it)."""
    body = chunk.text if text is None else text
    return f"[{n}] {chunk.title}\n{body.strip() or '(no text on this slide)'}"


def build_messages(
    question: str,
    retrieval: Retrieval,
    history: Sequence[Turn],
    context_k: int = 3,
    texts: Sequence[str] | None = None,
    template: str = "answer_user",
) -> list[Message]:
    """System prompt, the last exchange (for follow-ups), then the numbered slides and the question.

    ``texts`` replaces the text of the slides after the first (``excerpt``); the first stays whole,
    so the prompt starts like its ``slide_prefix``.
    """
    messages: list[Message] = [{"role": "system", "content": load("answer_system")}]
    for turn in list(history)[-1:]:
        messages.append({"role": "user", "content": turn.question})
        messages.append({"role": "assistant", "content": strip_markers(turn.answer)})
    hits = retrieval.hits[:context_k]
    bodies = [None, *(texts or []), *[None] * len(hits)]  # whole text where no excerpt is given
    blocks = [slide_block(n, hit.chunk, bodies[n - 1]) for n, hit in enumerate(hits, start=1)]
    content = load(template).format(slides="\n\n".join(blocks), question=question)
    messages.append({"role": "user", "content": content})
    return messages


def slide_prefix(chunk) -> list[Message]:
    """The start shared by every first-turn prompt whose best slide is ``chunk``, for the KV cache."""
    content = load("answer_user").format(slides=slide_block(1, chunk) + PREFIX_END, question="")
    return [{"role": "system", "content": load("answer_system")}, {"role": "user", "content": content}]


def one_slide_messages(template: str, chunk, **fields: str) -> list[Message]:
    """``template`` filled with slide ``chunk`` as [1] and ``fields``, after the answer's system prompt.

    The judge's readings start like every answer prompt whose first slide is ``chunk``, so that
    slide's saved prompt state covers all but their last few dozen tokens.
    """
    content = load(template).format(slides=slide_block(1, chunk), **fields)
    return [{"role": "system", "content": load("answer_system")}, {"role": "user", "content": content}]

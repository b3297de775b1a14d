"""Decoding a reply, and stopping it as soon as what it wrote decides the draft's fate.

Decoding is the cost on a laptop CPU, so ``complete`` stops at the end of the
JSON object, or earlier when a watcher shown the reply so far says the rest is not worth writing:
``QuestionWatch`` for a draft, ``UsableWrong`` for new wrong options.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import closing
from typing import TYPE_CHECKING

from assistant.answering.excerpt import Embed
from assistant.corpus.chunking import Chunk
from assistant.practice.checks import check_key_in_question, check_question, check_supported, reword_slide_reference
from assistant.practice.checks_options import pick_distractors
from assistant.practice.items import PracticeItem
from assistant.practice.parsing import json_complete, json_string, parse_wrong_options
from assistant.practice.slides import quote_slide

if TYPE_CHECKING:
    from assistant.engines.base import Generator, Message


def complete(
    gen: Generator,
    messages: list[Message],
    max_new_tokens: int,
    stop_at_json: bool = True,
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

"""A wrong option the slide makes right, in other words than the slide's: the model reads each one.

The lexical check (``check_distractors``) catches a wrong option the slide states almost word for
word. Written in other words ("To reduce the complexity of the data" where the slide says
representation learning is compression), it passes, and the item has two keys. So each wrong
option of an MCQ that passed every other check is put to the chat model beside the slide, as a
proposed answer to the question, and P("Yes") from its first token is read. The prompt starts
with the answer prompt's system message and slide, so the slide's saved prompt state covers all
but the question and the option (docs/decisions/item-flaws.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.answering import prompts
from assistant.answering.judge import yes_probability
from assistant.practice.items import PracticeItem

if TYPE_CHECKING:
    from assistant.corpus.chunking import Chunk
    from assistant.engines.base import Generator, Message

# On 52 hand-labelled MCQs (eval/practice_labels.jsonl), a wrong option the labels call right reached
# 0.61-0.88 in 10 of 12 items; in 20 of 22 unflawed items every wrong option stayed below 0.6.
OPTION_TRUE = 0.6


def option_messages(chunk: Chunk, question: str, option: str) -> list[Message]:
    return prompts.one_slide_messages("practice_option_true", chunk, question=question, option=option)


def check_true_options(gen: Generator, item: PracticeItem, chunk: Chunk) -> str | None:
    """``"distractor_true"`` when the model, shown the slide, takes a wrong option for a right answer."""
    if item.type != "mcq":
        return None
    wrong = [option for option in item.options if option != item.answer]
    for option in wrong:
        if yes_probability(gen, option_messages(chunk, item.question, option)) >= OPTION_TRUE:
            return "distractor_true"
    return None

"""A wrong option that names a member or another name of the key: "Music" where the key is "Language and audio".

Such an option is right too, so the item has two keys. Whether music is a kind of audio is
knowledge of the terms, not of their words: the embedder's cosine for such pairs overlaps that of
fair wrong options ("domain generalization" for "domain adaptation"). So each part of a key that
names things ("Language", "audio") is compared with each short wrong option: by their words first
("FID score" of "Inception and FID scores"), then by the chat model, one short prompt per
pair, P("Yes") from its first token. A claim has no members and is not read.
"""

from __future__ import annotations

import re
from string import Template
from typing import TYPE_CHECKING

from assistant.answering import prompts
from assistant.answering.judge import yes_probability
from assistant.practice.deck_options import TERM_WORDS, key_kind
from assistant.practice.items import PracticeItem
from assistant.practice.wording import content_words, unmatched

if TYPE_CHECKING:
    from assistant.engines.base import Generator, Message

# The model says "Yes" readily to related terms: on 22 hand-made pairs (eval/member_pairs.jsonl) fair
# wrong options reached 0.86 ("domain generalization" for "domain adaptation") and members 0.79-0.95.
MEMBER_YES = 0.88
_PARTS = re.compile(r",|;|/|\band\b|\bor\b")


def key_parts(key: str) -> list[str]:
    """The things a key names: "Language and audio" names "Language" and "audio"."""
    return [part.strip() for part in _PARTS.split(key) if content_words(part)]


def member_messages(option: str, part: str) -> list[Message]:
    return [{"role": "user", "content": Template(prompts.load("practice_member")).substitute(option=option, part=part)}]


def same_words(option: str, part: str) -> bool:
    """The option is the part in other word forms, or a piece of it ("FID score" of "FID scores", "smoothing")."""
    words = set(content_words(option))
    return bool(words) and not unmatched(words, set(content_words(part)))


def is_member(gen: Generator, option: str, key: str) -> bool:
    """Whether ``option`` is a part of ``key``, a kind or an example of one, or another name for one."""
    if len(option.split()) > TERM_WORDS:
        return False
    parts = key_parts(key)
    if any(same_words(option, part) for part in parts):
        return True
    return any(yes_probability(gen, member_messages(option, part)) >= MEMBER_YES for part in parts)


def check_members(gen: Generator, item: PracticeItem) -> str | None:
    """``"member_of_key"`` when a wrong option is a part, a kind or another name of what the key names."""
    if item.type != "mcq" or key_kind(item.answer) != "term":
        return None
    wrong = [option for option in item.options if option != item.answer]
    return "member_of_key" if any(is_member(gen, option, item.answer) for option in wrong) else None

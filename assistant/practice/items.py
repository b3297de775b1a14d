"""A practice item and a practice set as data, the slide an item cites, and the item as a student reads it.

``PracticeItem.to_dict``/``from_dict`` are the JSON an export holds (``export.export_json``) and the UI keeps
in its state; a source slide is a ``SlideRef`` in code and ``{"id", "title", "deck", "slide"}`` in JSON.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

LETTERS = "ABCD"  # an MCQ's options, in the order shown
QTYPES = ("mcq", "tf", "short")


@dataclass(frozen=True)
class SlideRef:
    """The slide an item was written from: its id, title, deck title and number in the deck."""

    slide_id: str
    title: str
    deck: str
    slide: int

    def to_dict(self) -> dict:
        return {"id": self.slide_id, "title": self.title, "deck": self.deck, "slide": self.slide}

    @classmethod
    def from_dict(cls, data: dict) -> SlideRef:
        return cls(data["id"], data["title"], data["deck"], data["slide"])


@dataclass
class PracticeItem:
    """One checked question; ``answer`` is the correct option's text (mcq/tf) or the key (short)."""

    question: str
    type: str  # "mcq" | "tf" | "short"
    options: list[str]
    answer: str
    explanation: str
    source: list[SlideRef] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["source"] = [s.to_dict() for s in self.source]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> PracticeItem:
        source = [SlideRef.from_dict(s) for s in data["source"]]
        return cls(data["question"], data["type"], data["options"], data["answer"], data["explanation"], source)

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
    barren: list[str] = field(default_factory=list)  # titles of slides whose drafts all failed
    message: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["items"] = [i.to_dict() for i in self.items]
        data["rejections"] = dict(self.rejections)
        return data


# --- the item as a student reads it -------------------------------------------------------------------------------


def cite(source: Sequence[SlideRef]) -> str:
    """``deck, slide N: title`` for each source slide, the form students look slides up by."""
    return "; ".join(f"{s.deck}, slide {s.slide}: {s.title}" for s in source)


def front_text(item: PracticeItem) -> str:
    """The question as a student sees it: MCQ options lettered, TF as a statement to judge."""
    if item.type == "mcq":
        return item.question + "\n" + "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(item.options))
    return f"True or false: {item.question}" if item.type == "tf" else item.question


def answer_text(item: PracticeItem) -> str:
    index = item.key_index
    return f"{LETTERS[index]}. {item.answer}" if item.type == "mcq" and index is not None else item.answer

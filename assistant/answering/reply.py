"""What an answer is (``Answer``, its citations and stream events) and the rules that shape a reply.

Question cleaning, follow-up detection, refusal texts, the overview for broad questions and the
final rendering with ``[n]`` markers: everything about a reply that needs no model.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field

from assistant.answering.citations import evidence_text
from assistant.answering.shaping import asks
from assistant.corpus.chunking import plain_text
from assistant.errors import BadQuestion
from assistant.retrieval.hybrid import Retrieval
from assistant.text import tokenize

REFUSAL = "That is not in the slides."
UNCHECKED = "Sentences without a slide number are the model's own words: no slide supports them, so none was checked."
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|so|what about|how about|why|how come|what else|and why|is that|are they|does it|do they)\b"
    r"|\b(it|its|that|this|those|these|they|them|their|he|she|the same|one)\b",
    re.I,
)


@dataclass(frozen=True)
class Turn:
    """One finished exchange, kept so that follow-up questions can use it."""

    question: str
    answer: str
    query: str = ""  # the retrieval query that answered it


@dataclass
class Citation:
    id: str
    title: str
    deck: str
    slide: int
    snippet: str
    marker: int  # the slide's position in the sources panel, shown as [n] in the answer


@dataclass
class Answer:
    """Everything about one answer; ``to_dict`` is the JSON the CLI prints and the harness stores."""

    question: str
    answer: str = ""
    refused: bool = False
    refusal_reason: str = ""  # "gate", "model", "unsupported", "leak" or "" when answered
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[dict] = field(default_factory=list)
    # shown sentences: {"text", "source" (slide id or None), "support", "check"}; "check" is "passed" when the
    # cited slide states it, "corrected" for a slide line quoted in place of a contradicted sentence,
    # "slide" for a slide line given to a broad question or in place of a reply none of whose sentences held,
    # "" when no slide supports it
    sentences: list[dict] = field(default_factory=list)
    timings: dict[str, float | None] = field(default_factory=dict)
    model: str = ""
    query: str = ""
    answerability: float = 0.0
    model_reply: str = ""  # the model's own words before citation and checks, for staff review
    removed: list[dict] = field(default_factory=list)  # sentences not shown: {"text", "reason", "line"?}

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SourcesEvent:
    retrieval: Retrieval


@dataclass(frozen=True)
class TokenEvent:
    text: str


@dataclass(frozen=True)
class DoneEvent:
    answer: Answer


Event = SourcesEvent | TokenEvent | DoneEvent


def clean_question(raw: object, limit: int) -> str:
    """The question as usable text, or ``BadQuestion`` saying what is wrong with it."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str):
        raise BadQuestion("Please type your question as text.")
    text = "".join(ch for ch in raw if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise BadQuestion("Please type a question about the course slides.")
    if text.count("\ufffd") > max(3, len(text) // 10):
        raise BadQuestion("That question looks like binary data, not text; please type it again.")
    if len(text) > limit:
        raise BadQuestion(
            f"Your question is {len(text):,} characters long; the limit is {limit:,}. "
            "Please ask about one thing at a time, in a sentence or two."
        )
    return text


def is_follow_up(question: str) -> bool:
    """Elliptical or anaphoric questions ("what about MAE?", "why is that?") need the previous turn."""
    return bool(_FOLLOW_UP.search(question)) or len(tokenize(question)) <= 1


def leaks_instructions(answer: str, system_prompt: str, window: int = 8) -> bool:
    """True when the answer repeats any ``window`` consecutive words of the system prompt."""
    words = re.findall(r"[a-z0-9']+", system_prompt.lower())
    answer_text = " ".join(re.findall(r"[a-z0-9']+", answer.lower()))
    return any(" ".join(words[i : i + window]) in answer_text for i in range(len(words) - window + 1))


def refusal_text(retrieval: Retrieval) -> str:
    closest = ", ".join(f'"{h.chunk.title}" (slide {h.chunk.slide})' for h in retrieval.hits[:3])
    return f"{REFUSAL} The closest slides are {closest}." if closest else REFUSAL


_BROAD = re.compile(
    r"\b(what (should|do|must) (i|we|you) (know|remember|understand)|tell me (about|everything)|overview|"
    r"summari[sz]e|summary|main (points|ideas)|key (points|ideas|takeaways)|what('s| is) important)\b",
    re.I,
)
OVERVIEW_LINES = 3


def is_broad(question: str) -> bool:
    """A question about a topic as a whole ("what should I know about transformers")."""
    return bool(_BROAD.search(question))


def overview(chunk) -> list[dict]:
    """The first statements of ``chunk``, cited: the answer to a broad question the model missed."""
    rows = []
    for line in evidence_text(plain_text(chunk.text)).splitlines():
        line = line.strip(" -*\t•")
        if len(line.split()) >= 4 and not asks(line):
            text = line if line.endswith((".", "!")) else line + "."
            rows.append({"text": text, "source": chunk.slide_id, "support": 1.0, "check": "slide", "evidence": line})
        if len(rows) == OVERVIEW_LINES:
            break
    return rows


def unchecked_note(result: Answer) -> str:
    """The line shown under an answer that keeps a sentence no slide supports, else ""."""
    shown = not result.refused and any(s["source"] is None for s in result.sentences)
    return UNCHECKED if shown else ""


def render(result: Answer) -> str:
    """The answer text with our own ``[n]`` markers after each supported sentence."""
    markers = {c.id: c.marker for c in result.citations}
    parts = []
    for sentence in result.sentences:
        mark = f" [{markers[sentence['source']]}]" if sentence["source"] in markers else ""
        parts.append(sentence["text"] + mark)
    return " ".join(parts)

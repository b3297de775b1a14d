"""The staff Q/A file format (``eval/qa.jsonl``): reading it leniently, line by line.

A malformed line is reported with its number and skipped, never fatal: staff keep private sets
and a typo in one line should not cost them the run. ``facts``, ``reference``, ``kind`` and ``wrong``
are optional.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import AssistantError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    answerable: bool
    gold: list[str] = field(default_factory=list)
    reference: str = ""
    facts: list[list[str]] = field(default_factory=list)
    # Items written to break the assistant: "false_premise", "yes_no", "table", "two_slides", "broad"; "" otherwise.
    # For the first three, the first fact group is the correcting fact (the slide's own claim or cell).
    kind: str = ""
    wrong: list[str] = field(default_factory=list)  # phrases a reply that went along with a false premise contains

    @property
    def adversarial(self) -> bool:
        """Whether a right reply must contradict the question's premise or read one table cell."""
        return self.kind in ADVERSARIAL_KINDS


ADVERSARIAL_KINDS = ("false_premise", "yes_no", "table")


def _strings(data: dict, key: str) -> list[str]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ValueError(f"{key!r} must be a list of strings")
    return value


def parse_item(data: object) -> QAItem:
    """One Q/A object, validated; ``ValueError`` says which field is wrong."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    for key in ("id", "question"):
        if key not in data:
            raise ValueError(f"missing field {key!r}")
    question = data["question"]
    if not isinstance(question, str):
        raise ValueError("'question' must be a string")
    gold = data.get("gold") or []
    if isinstance(gold, str):
        gold = [gold]
    if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
        raise ValueError("'gold' must be a list of slide titles or ids")
    facts = data.get("facts") or []
    if not isinstance(facts, list):
        raise ValueError("'facts' must be a list of lists of strings")
    facts = [[f] if isinstance(f, str) else f for f in facts]
    if not all(isinstance(f, list) and all(isinstance(x, str) for x in f) for f in facts):
        raise ValueError("'facts' must be a list of lists of strings")
    answerable = data.get("answerable", bool(gold))
    if not isinstance(answerable, bool):
        raise ValueError("'answerable' must be true or false")
    return QAItem(
        str(data["id"]),
        question,
        answerable,
        gold,
        str(data.get("reference") or ""),
        facts,
        str(data.get("kind") or ""),
        _strings(data, "wrong"),
    )


def read_qa(path: Path) -> tuple[list[QAItem], list[str]]:
    """Items of a Q/A file and one warning per skipped line (``line N: why``)."""
    if not path.is_file():
        raise AssistantError(f"no Q/A file at {path}; pass --qa FILE (one JSON object per line)")
    items: list[QAItem] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = parse_item(json.loads(line))
        except ValueError as err:
            problems.append(f"line {number}: {err}; skipped")
            continue
        if item.id in seen:
            problems.append(f"line {number}: duplicate id {item.id!r}; skipped")
            continue
        seen.add(item.id)
        items.append(item)
    for problem in problems:
        log.warning("%s: %s", path.name, problem)
    return items, problems

"""Students, their answers, and when each item comes back: FSRS schedules kept per student and item.

A student is a name chosen in the UI or given to the CLI (no password: a local profile). Every
answer is stored with its FSRS card in one transaction, so a crash keeps both or neither. A wrong
answer rates the card "Again" (back in ten minutes, then on FSRS's relearning schedule); a right
one "Good" (days later, growing with each right answer). The ``fsrs`` package computes the
schedule; this module only stores it.
"""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from assistant.errors import AssistantError
from assistant.study.bank import SHOWN, Bank, BankItem
from assistant.study.db import StudyDB

MAX_NAME = 60
Clock = Callable[[], float]  # seconds since the epoch; tests pass one they can move


@dataclass(frozen=True)
class Student:
    id: int
    name: str


@dataclass(frozen=True)
class Mastery:
    """One section as a student stands in it."""

    section: str
    items: int  # a student may be given
    answered: int  # distinct items answered at least once
    correct: int  # of those, answered right the last time
    due: int  # due for review now


def clean_name(raw: object) -> str:
    """A student name as stored: printable, single-spaced, 1-60 characters; anything else is refused."""
    if not isinstance(raw, str):
        raise AssistantError("a student name must be text")
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise AssistantError("type a name to keep your progress under")
    if len(name) > MAX_NAME:
        raise AssistantError(f"a name is at most {MAX_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise AssistantError("a name cannot contain control characters")
    return name


def _scheduler():
    from fsrs import Scheduler

    # One learning step: a first right answer graduates to a schedule of days, a miss returns in ten
    # minutes; no fuzzing, so the same answers give the same schedule.
    return Scheduler(learning_steps=(timedelta(minutes=10),), enable_fuzzing=False)


class Study:
    """The students, answers and cards tables of a ``StudyDB``, over its ``Bank``."""

    def __init__(self, db: StudyDB, clock: Clock = time.time) -> None:
        self.db = db
        self.bank = Bank(db)
        self.clock = clock

    def student(self, raw_name: object) -> Student:
        """The student of that name, made on first use."""
        name = clean_name(raw_name)
        with self.db.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO students (name, created) VALUES (?, ?)", (name, self.clock()))
            row = conn.execute("SELECT id, name FROM students WHERE name = ?", (name,)).fetchone()
        return Student(row["id"], row["name"])

    def record(self, student: Student, item_id: int, response: str, correct: bool) -> float:
        """Store an answer and reschedule the item for this student; when it is due next (epoch seconds)."""
        from fsrs import Card, Rating

        now = self.clock()
        self.bank.get(item_id)  # an unknown item is a clear error, not a foreign-key failure
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT card FROM cards WHERE student_id = ? AND item_id = ?", (student.id, item_id)
            ).fetchone()
            card = Card.from_dict(json.loads(row["card"])) if row else Card()
            card, _ = _scheduler().review_card(
                card, Rating.Good if correct else Rating.Again, datetime.fromtimestamp(now, timezone.utc)
            )
            due = card.due.timestamp()
            conn.execute(
                "INSERT OR IGNORE INTO answers (student_id, item_id, response, correct, answered)"
                " VALUES (?, ?, ?, ?, ?)",
                (student.id, item_id, response, int(correct), now),
            )
            conn.execute(
                "INSERT OR REPLACE INTO cards (student_id, item_id, card, due) VALUES (?, ?, ?, ?)",
                (student.id, item_id, json.dumps(card.to_dict()), due),
            )
        return due

    def due(self, student: Student, section: str | None = None) -> list[BankItem]:
        """Items due for review now, the longest overdue first; retired and stale items never come back."""
        sql = (
            "SELECT items.id FROM cards JOIN items ON items.id = cards.item_id WHERE cards.student_id = ?"
            f" AND cards.due <= ? AND items.status IN ({','.join('?' * len(SHOWN))})"
        )
        params: list = [student.id, self.clock(), *SHOWN]
        if section is not None:
            sql += " AND items.section = ?"
            params.append(section)
        return [self.bank.get(row[0]) for row in self.db.query(sql + " ORDER BY cards.due", tuple(params))]

    def answered_ids(self, student: Student) -> set[int]:
        rows = self.db.query("SELECT DISTINCT item_id FROM answers WHERE student_id = ?", (student.id,))
        return {row[0] for row in rows}

    def mastery(self, student: Student) -> list[Mastery]:
        """Per section: items, answered, right the last time, due now."""
        rows = self.db.query(
            f"""
            SELECT items.section AS section, COUNT(*) AS items,
                   COUNT(last.item_id) AS answered, COALESCE(SUM(last.correct), 0) AS correct,
                   COALESCE(SUM(cards.due <= :now), 0) AS due
            FROM items
            LEFT JOIN (
                SELECT item_id, correct FROM answers AS a WHERE student_id = :student
                AND answered = (SELECT MAX(answered) FROM answers
                                WHERE student_id = :student AND item_id = a.item_id)
            ) AS last ON last.item_id = items.id
            LEFT JOIN cards ON cards.item_id = items.id AND cards.student_id = :student
            WHERE items.status IN ({",".join(repr(s) for s in SHOWN)})
            GROUP BY items.section ORDER BY MIN(items.id)
            """,
            {"student": student.id, "now": self.clock()},
        )
        return [Mastery(r["section"], r["items"], r["answered"], r["correct"], r["due"]) for r in rows]

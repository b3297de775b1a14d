"""The class's questions, logged for staff when they switch it on (``--log-questions``).

What is kept is what insights need and nothing about who asked: the question's text, when, the
slides retrieved and cited, whether it was refused and why, answerability, time, model and
engine. No name, address or session id is stored: the table has no column for one. Practice
answers are logged the same way: the item, the response, right or wrong, when. Each row is its own
transaction, so a crash loses at most the question in flight.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.errors import AssistantError
from assistant.study.db import StudyDB

if TYPE_CHECKING:
    from assistant.answering.reply import Answer

log = logging.getLogger(__name__)

DAY = 86_400.0
NOTICE = (
    "Questions asked here are logged for the course staff, without your name or address, to find what "
    "the slides leave unanswered."
)


class QuestionLog:
    """Appends to the ``questions`` and ``item_log`` tables of a ``StudyDB``."""

    def __init__(self, db: StudyDB, clock=time.time) -> None:
        self.db = db
        self.clock = clock

    def record(self, answer: Answer, engine: str) -> None:
        retrieved = [hit.get("id", "") for hit in answer.retrieved]
        section = answer.retrieved[0].get("section", "") if answer.retrieved else ""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO questions (asked, question, section, retrieved, cited, refused, reason, answerability,"
                " seconds, model, engine) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.clock(),
                    answer.question,
                    section,
                    json.dumps(retrieved),
                    json.dumps(sorted({c.id for c in answer.citations})),
                    int(answer.refused),
                    answer.refusal_reason,
                    float(answer.answerability),
                    answer.timings.get("total_s"),
                    answer.model,
                    engine,
                ),
            )

    def recorder(self, engine: str) -> Callable[[Answer], None]:
        """``record`` for finished answers, where a failed write is logged, never shown to the student."""

        def record(answer: Answer) -> None:
            try:
                self.record(answer, engine)
            except AssistantError as err:
                log.warning("a question was not logged: %s", err)

        return record

    def record_practice(self, item_id: int, response: str, correct: bool) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO item_log (item_id, response, correct, answered) VALUES (?, ?, ?, ?)",
                (item_id, response, int(correct), self.clock()),
            )

    def purge(self, older_than_days: float) -> int:
        """Delete questions and practice log rows older than that many days; how many went."""
        cutoff = self.clock() - older_than_days * DAY
        with self.db.transaction() as conn:
            gone = conn.execute("DELETE FROM questions WHERE asked < ?", (cutoff,)).rowcount
            gone += conn.execute("DELETE FROM item_log WHERE answered < ?", (cutoff,)).rowcount
        return gone

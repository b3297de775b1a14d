"""The question bank: checked practice items stored per slide, reviewed by staff, drawn instantly.

An item is keyed by its slide's id and a hash of the slide's text, so editing a slide retires only
that slide's items (``mark_stale``, run by ``assistant index``). Students see checked and approved
items, never retired or stale ones. The bank travels as JSON (``export_json``/``import_json``) so
staff can keep it in git; the shipped deck's bank is ``index/bank.json``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.corpus.chunking import Chunk
from assistant.errors import AssistantError
from assistant.practice.items import QTYPES, PracticeItem
from assistant.storage import atomic_write_text
from assistant.study.db import StudyDB

STATUSES = ("checked", "approved", "retired", "stale")
SHOWN = ("checked", "approved")  # what a student may be given
EXPORT_FORMAT = 1


def slide_hash(chunk: Chunk) -> str:
    return hashlib.sha256(chunk.text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class BankItem:
    """A stored item: its id in the bank, the slide it came from, and where staff review left it."""

    id: int
    item: PracticeItem
    slide_id: str
    section: str
    status: str


class Bank:
    """The items table of a ``StudyDB``."""

    def __init__(self, db: StudyDB) -> None:
        self.db = db

    @staticmethod
    def _row(row) -> BankItem:
        item = PracticeItem.from_dict(json.loads(row["item"]))
        return BankItem(row["id"], item, row["slide_id"], row["section"], row["status"])

    def add(self, item: PracticeItem, chunk: Chunk, status: str = "checked") -> int | None:
        """Store ``item`` written from ``chunk``; its id, or None when the bank already holds that question."""
        now = time.time()
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO items (slide_id, slide_hash, section, type, question, item, status, created,"
                " updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    chunk.slide_id,
                    slide_hash(chunk),
                    chunk.section,
                    item.type,
                    item.question,
                    json.dumps(item.to_dict(), ensure_ascii=False),
                    status,
                    now,
                    now,
                ),
            )
            return cursor.lastrowid if cursor.rowcount else None

    def get(self, item_id: int) -> BankItem:
        rows = self.db.query("SELECT * FROM items WHERE id = ?", (item_id,))
        if not rows:
            raise AssistantError(f"no item {item_id} in the bank")
        return self._row(rows[0])

    def items(
        self,
        section: str | None = None,
        qtype: str | None = None,
        statuses: Sequence[str] = SHOWN,
        slide_ids: Sequence[str] | None = None,
    ) -> list[BankItem]:
        """Items by section and type, in slide order then age."""
        sql, params = f"SELECT * FROM items WHERE status IN ({','.join('?' * len(statuses))})", list(statuses)
        for column, value in (("section", section), ("type", qtype)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        if slide_ids is not None:
            sql += f" AND slide_id IN ({','.join('?' * len(slide_ids))})"
            params.extend(slide_ids)
        return [self._row(row) for row in self.db.query(sql + " ORDER BY slide_id, id", tuple(params))]

    def draw(
        self,
        n: int,
        qtype: str,
        section: str | None = None,
        slide_ids: Sequence[str] | None = None,
        avoid: Iterable[int] = (),
    ) -> list[BankItem]:
        """Up to ``n`` items a student may see, one per slide before a second from any, approved first."""
        avoided = set(avoid)
        pool = [b for b in self.items(section, qtype, SHOWN, slide_ids) if b.id not in avoided]
        pool.sort(key=lambda b: b.status != "approved")
        turns: dict[str, int] = {}
        ranked = []
        for place, bank_item in enumerate(pool):
            turn = turns.get(bank_item.slide_id, 0)  # the how-many-th item of its slide: slides take turns
            turns[bank_item.slide_id] = turn + 1
            ranked.append((turn, place, bank_item))
        return [bank_item for _, _, bank_item in sorted(ranked, key=lambda entry: entry[:2])[:n]]

    def count(self, slide: Chunk, qtype: str) -> int:
        rows = self.db.query(
            "SELECT COUNT(*) FROM items WHERE slide_hash = ? AND type = ? AND status IN ('checked', 'approved')",
            (slide_hash(slide), qtype),
        )
        return rows[0][0]

    def questions(self, slide: Chunk) -> list[str]:
        return [r[0] for r in self.db.query("SELECT question FROM items WHERE slide_hash = ?", (slide_hash(slide),))]

    def set_status(self, item_id: int, status: str) -> None:
        if status not in STATUSES:
            raise AssistantError(f"unknown status {status!r}; choose one of {', '.join(STATUSES)}")
        with self.db.transaction() as conn:
            if not conn.execute(
                "UPDATE items SET status = ?, updated = ? WHERE id = ?", (status, time.time(), item_id)
            ).rowcount:
                raise AssistantError(f"no item {item_id} in the bank")

    def replace_item(self, item_id: int, item: PracticeItem) -> None:
        """Save an edited item (already checked by the caller); staff's edit counts as approval."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE items SET question = ?, type = ?, item = ?, status = 'approved', updated = ? WHERE id = ?",
                (item.question, item.type, json.dumps(item.to_dict(), ensure_ascii=False), time.time(), item_id),
            )

    def mark_stale(self, chunks: Sequence[Chunk]) -> int:
        """Retire (as "stale") the items of slides that changed or left the deck; how many."""
        current = {(c.slide_id, slide_hash(c)) for c in chunks}
        rows = self.db.query("SELECT id, slide_id, slide_hash FROM items WHERE status IN ('checked', 'approved')")
        gone = [r["id"] for r in rows if (r["slide_id"], r["slide_hash"]) not in current]
        with self.db.transaction() as conn:
            conn.executemany(
                "UPDATE items SET status = 'stale', updated = ? WHERE id = ?",
                [(time.time(), item_id) for item_id in gone],
            )
        return len(gone)

    def counts(self) -> dict[tuple[str, str], int]:
        """Items a student may see, by (section, type)."""
        rows = self.db.query(
            "SELECT section, type, COUNT(*) FROM items WHERE status IN ('checked', 'approved') GROUP BY section, type"
        )
        return {(r[0], r[1]): r[2] for r in rows}

    def export_json(self, path: Path) -> int:
        rows = self.db.query("SELECT * FROM items ORDER BY id")
        entries = [
            {
                "slide_id": r["slide_id"],
                "slide_hash": r["slide_hash"],
                "section": r["section"],
                "status": r["status"],
                "item": json.loads(r["item"]),
            }
            for r in rows
        ]
        atomic_write_text(
            path, json.dumps({"format": EXPORT_FORMAT, "items": entries}, indent=1, ensure_ascii=False) + "\n"
        )
        return len(entries)

    def import_json(self, path: Path) -> int:
        """Add the items of an exported bank; an item already held takes the file's status. How many were new."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data["items"] if data.get("format") == EXPORT_FORMAT else None
            parsed = [(e, PracticeItem.from_dict(e["item"])) for e in entries or ()]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise AssistantError(f"{path} is not an exported question bank ({type(err).__name__}: {err})") from None
        if entries is None:
            raise AssistantError(f"{path} is not an exported question bank (format {data.get('format')!r})")
        added, now = 0, time.time()
        with self.db.transaction() as conn:
            for entry, item in parsed:
                if item.type not in QTYPES or entry["status"] not in STATUSES:
                    raise AssistantError(f"{path}: item {item.question[:60]!r} has an unknown type or status")
                key = (entry["slide_hash"], item.type, item.question)
                added += conn.execute(
                    "INSERT OR IGNORE INTO items (slide_id, slide_hash, section, type, question, item, status,"
                    " created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        entry["slide_id"],
                        *key[:1],
                        entry["section"],
                        item.type,
                        item.question,
                        json.dumps(item.to_dict(), ensure_ascii=False),
                        entry["status"],
                        now,
                        now,
                    ),
                ).rowcount
                conn.execute(
                    "UPDATE items SET status = ? WHERE slide_hash = ? AND type = ? AND question = ?",
                    (entry["status"], *key),
                )
        return added

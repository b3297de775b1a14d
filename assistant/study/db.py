"""The study database: one SQLite file beside the index, in WAL mode, with a schema version.

A crash mid-write leaves the last committed state (SQLite's journal); every change a student or
the builder makes is one transaction. A file that is not a readable database is moved aside
(never deleted: it may hold answers) and a fresh one is made, with one line saying so; a database
another process holds locked for longer than ``BUSY_MS`` is one clear error, never a hang.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.errors import AssistantError

log = logging.getLogger(__name__)

BUSY_MS = 5000
# MIGRATIONS[i] brings a database from schema version i to i + 1 (PRAGMA user_version).
MIGRATIONS = (
    """
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        slide_id TEXT NOT NULL,
        slide_hash TEXT NOT NULL,
        section TEXT NOT NULL,
        type TEXT NOT NULL,
        question TEXT NOT NULL,
        item TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'checked'
            CHECK (status IN ('checked', 'approved', 'retired', 'stale')),
        created REAL NOT NULL,
        updated REAL NOT NULL,
        UNIQUE (slide_hash, type, question)
    );
    CREATE INDEX items_by_section ON items (section, type, status);
    CREATE TABLE students (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created REAL NOT NULL);
    CREATE TABLE answers (
        id INTEGER PRIMARY KEY,
        student_id INTEGER NOT NULL REFERENCES students (id),
        item_id INTEGER NOT NULL REFERENCES items (id),
        response TEXT NOT NULL,
        correct INTEGER NOT NULL,
        answered REAL NOT NULL,
        UNIQUE (student_id, item_id, answered)
    );
    CREATE TABLE cards (
        student_id INTEGER NOT NULL REFERENCES students (id),
        item_id INTEGER NOT NULL REFERENCES items (id),
        card TEXT NOT NULL,
        due REAL NOT NULL,
        PRIMARY KEY (student_id, item_id)
    );
    """,
    # 2: the class's questions and anonymous practice answers, for staff insights (off by default)
    """
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        asked REAL NOT NULL,
        question TEXT NOT NULL,
        section TEXT NOT NULL,
        retrieved TEXT NOT NULL,
        cited TEXT NOT NULL,
        refused INTEGER NOT NULL,
        reason TEXT NOT NULL,
        answerability REAL NOT NULL,
        seconds REAL,
        model TEXT NOT NULL,
        engine TEXT NOT NULL
    );
    CREATE INDEX questions_by_time ON questions (asked);
    CREATE TABLE item_log (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items (id),
        response TEXT NOT NULL,
        correct INTEGER NOT NULL,
        answered REAL NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StudyDataProblem(AssistantError):
    """The study database cannot be used now (locked, unwritable, from a newer version)."""


class StudyDB:
    """One connection shared by the threads of a process, serialised by a lock (SQLite's own rule)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = _open(path)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection inside BEGIN IMMEDIATE … COMMIT; an error rolls the whole block back."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                yield self._conn
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as err:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise _problem(self.path, err) from None
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as err:
                raise _problem(self.path, err) from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _problem(path: Path, err: Exception) -> StudyDataProblem:
    if "locked" in str(err) or "busy" in str(err):
        return StudyDataProblem(f"the study database {path} is locked by another process; try again in a moment")
    return StudyDataProblem(f"the study database {path} cannot be used ({err})")


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_MS / 1000, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")  # readers (the UI) never wait for the bank builder
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL keeps committed data through a process crash
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        conn.close()
        raise StudyDataProblem(f"the study database {path} is from a newer version (schema {version}); update")
    for step in range(version, SCHEMA_VERSION):
        conn.executescript(f"BEGIN IMMEDIATE; {MIGRATIONS[step]}; PRAGMA user_version = {step + 1}; COMMIT;")
    conn.execute("PRAGMA quick_check").fetchone()
    return conn


def _open(path: Path) -> sqlite3.Connection:
    """The database at ``path``, made or migrated; a corrupt file is moved aside and replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _connect(path)
    except sqlite3.OperationalError as err:
        raise _problem(path, err) from None
    except sqlite3.DatabaseError as err:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{path}{suffix}")
            if source.exists():
                source.replace(Path(f"{aside}{suffix}"))
        log.warning("the study database %s was unreadable (%s); kept it as %s and started a new one", path, err, aside)
        return _connect(path)

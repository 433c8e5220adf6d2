"""Budgets set in the spend view, their audit, and the alert ledger, in one sqlite file.

Every write is its own transaction on a fresh connection, so the file is always whole and a
restarted service reads exactly what was recorded.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timezone
from pathlib import Path

from .config import BudgetConfig, BudgetError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS budget (
    kind TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, PRIMARY KEY (kind, name)
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, actor TEXT NOT NULL,
    kind TEXT NOT NULL, name TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert (
    subject_kind TEXT NOT NULL, subject TEXT NOT NULL, period_start TEXT NOT NULL,
    level TEXT NOT NULL, at REAL NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (subject_kind, subject, period_start, level)
);
"""


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="seconds")


class BudgetStore:
    """The sqlite file at ``path`` (created with its folder); ``clock`` gives epoch seconds."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
            yield db

    # budgets set in the view: ``spec`` None records "no budget" over the hub config's entry
    def change(self, actor: str, kind: str, name: str, before: object, after: object) -> None:
        """Record ``kind``/``name`` as ``after`` and audit it (``before`` as it was in effect)."""
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO budget VALUES (?, ?, ?)", (kind, name, json.dumps(after))
            )
            db.execute(
                "INSERT INTO audit (at, actor, kind, name, before, after) VALUES (?,?,?,?,?,?)",
                (self.clock(), actor, kind, name, json.dumps(before), json.dumps(after)),
            )

    def apply(self, config: BudgetConfig) -> BudgetConfig:
        """``config`` with every recorded change laid over it.

        A change the hub config has since made invalid (a member budget above a lowered group
        budget) is skipped, not fatal: the hub config's entry stays in effect.
        """
        with self._db() as db:
            rows = db.execute("SELECT kind, name, spec FROM budget ORDER BY kind, name").fetchall()
        for kind, name, spec in rows:
            try:
                config = config.with_entry(kind, name, json.loads(spec))
            except BudgetError:
                continue
        return config

    def audit(self, limit: int = 100) -> list[dict]:
        """The latest changes, newest first: who changed what, when, from what to what."""
        with self._db() as db:
            rows = db.execute(
                "SELECT at, actor, kind, name, before, after FROM audit ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            {
                "at": _iso(at),
                "actor": actor,
                "kind": kind,
                "name": name,
                "before": json.loads(before),
                "after": json.loads(after),
            }
            for at, actor, kind, name, before, after in rows
        ]

    # the alert ledger: one row per threshold per subject per period
    def claim_alert(
        self, subject_kind: str, subject: str, period_start: str, level: str, message: str
    ) -> bool:
        """Record this alert; False when it was recorded before (never send it twice)."""
        with self._db() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO alert VALUES (?, ?, ?, ?, ?, ?)",
                (subject_kind, subject, period_start, level, self.clock(), message),
            )
            return cursor.rowcount == 1

    def alerts(self, subject_kind: str | None = None, subject: str | None = None) -> list[dict]:
        """Recorded alerts, newest first, optionally of one subject (a user's own, for Lab)."""
        query, args = "SELECT * FROM alert", []
        if subject_kind is not None:
            query += " WHERE subject_kind = ? AND subject = ?"
            args = [subject_kind, subject]
        with self._db() as db:
            rows = db.execute(query + " ORDER BY at DESC, level DESC", args).fetchall()
        keys = ("subject_kind", "subject", "period_start", "level", "at", "message")
        return [dict(zip(keys, (*row[:4], _iso(row[4]), row[5]), strict=True)) for row in rows]

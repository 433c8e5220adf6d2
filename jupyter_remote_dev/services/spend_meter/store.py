"""The metered history in sqlite: per-minute usage rows and each server's last sample.

The last sample (the baseline) is kept too, so a restarted meter continues each process tree where
it left off: CPU used while it was down is counted once, never again from the process's start.
"""

from __future__ import annotations

import fcntl
import json
import math
import sqlite3
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

MINUTE = 60

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    minute INTEGER NOT NULL,
    user TEXT NOT NULL,
    server TEXT NOT NULL,
    meta TEXT NOT NULL,
    cpu_core_seconds REAL NOT NULL,
    ram_byte_seconds REAL NOT NULL,
    running_seconds REAL NOT NULL,
    PRIMARY KEY (minute, user, server, meta)
);
CREATE INDEX IF NOT EXISTS usage_by_user ON usage (user, minute);
CREATE TABLE IF NOT EXISTS baseline (
    user TEXT NOT NULL,
    server TEXT NOT NULL,
    pid INTEGER NOT NULL,
    created REAL NOT NULL,
    cpu_seconds REAL NOT NULL,
    rss INTEGER NOT NULL,
    sampled_at REAL NOT NULL,
    PRIMARY KEY (user, server)
);
"""


@dataclass(frozen=True)
class Baseline:
    """A server's process tree as last sampled."""

    pid: int
    created: float
    cpu_seconds: float
    rss: int
    sampled_at: float


@dataclass(frozen=True)
class Source:
    """Whose use a row is: a user's server with the labels the user had then (shared by rows)."""

    user: str
    server: str
    meta: str  # JSON {"labels": {...}, "annotations": {...}}

    @cached_property
    def labels(self) -> dict:
        return json.loads(self.meta).get("labels", {})

    @cached_property
    def annotations(self) -> dict:
        return json.loads(self.meta).get("annotations", {})


@dataclass(frozen=True)
class Totals:
    """One source's use summed over the minutes of a time range."""

    source: Source
    cpu_core_seconds: float
    ram_byte_seconds: float
    running_seconds: float
    first_minute: int
    last_minute: int

    @property
    def user(self) -> str:
        return self.source.user

    @property
    def server(self) -> str:
        return self.source.server

    @property
    def labels(self) -> dict:
        return self.source.labels


def minute_shares(start: float, end: float) -> list[tuple[int, float]]:
    """(minute start, fraction of [start, end) in it); all of it in ``end``'s minute if empty."""
    if end <= start:
        return [(int(end // MINUTE * MINUTE), 1.0)]
    shares = []
    minute = int(start // MINUTE * MINUTE)
    while minute < end:
        overlap = min(end, minute + MINUTE) - max(start, minute)
        if overlap > 0:
            shares.append((minute, overlap / (end - start)))
        minute += MINUTE
    return shares


@dataclass(frozen=True)
class Usage:
    """One server's use over a span of time (epoch seconds)."""

    user: str
    server: str
    meta: dict
    span: tuple[float, float]
    cpu_core_seconds: float
    ram_byte_seconds: float

    def __post_init__(self):
        values = (self.cpu_core_seconds, self.ram_byte_seconds)
        if not all(math.isfinite(v) and v >= 0 for v in values):
            raise ValueError("usage must be finite and >= 0")

    def rows(self) -> list[tuple]:
        """The usage table's rows: the use spread over the span's minutes in proportion."""
        text = json.dumps(self.meta, sort_keys=True)
        running = max(0.0, self.span[1] - self.span[0])
        return [
            (minute, self.user, self.server, text, self.cpu_core_seconds * share,
             self.ram_byte_seconds * share, running * share)
            for minute, share in minute_shares(*self.span)
        ]  # fmt: skip


class UsageStore:
    """Thread-safe access to the history file (created 0600 on first use).

    One meter per file: a second one (a second hub on the same state folder) would keep its own
    baselines and count every process twice, so it is refused.
    """

    def __init__(self, path: Path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        self._lockfile = open(path.with_name(path.name + ".lock"), "a")
        try:
            fcntl.flock(self._lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lockfile.close()
            raise RuntimeError(f"another spend meter is using {path}") from None
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._sources: dict[tuple[str, str, str], Source] = {}

    def close(self) -> None:
        self._db.close()
        self._lockfile.close()

    def record(self, usages: list[Usage], baselines: dict | None = None) -> None:
        """Add each usage, spread over its span's minutes, and (if given) replace the baselines.

        One transaction: a meter killed half-way leaves neither, so nothing is counted twice.
        """
        rows = [row for usage in usages for row in usage.rows()]
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (minute, user, server, meta) DO UPDATE SET "
                "cpu_core_seconds = cpu_core_seconds + excluded.cpu_core_seconds, "
                "ram_byte_seconds = ram_byte_seconds + excluded.ram_byte_seconds, "
                "running_seconds = running_seconds + excluded.running_seconds",
                rows,
            )
            if baselines is not None:
                self._db.execute("DELETE FROM baseline")
                self._db.executemany(
                    "INSERT INTO baseline VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(u, s, b.pid, b.created, b.cpu_seconds, b.rss, b.sampled_at)
                     for (u, s), b in baselines.items()],
                )  # fmt: skip

    def totals(self, start: float, end: float, user: str | None = None) -> list[Totals]:
        """Use per source over the minutes that start in [start, end), of one user or of all."""
        query = (
            "SELECT user, server, meta, SUM(cpu_core_seconds), SUM(ram_byte_seconds), "
            "SUM(running_seconds), MIN(minute), MAX(minute) FROM usage "
            "WHERE minute >= ? AND minute < ?"
        )
        args: list = [start, end]
        if user is not None:
            query += " AND user = ?"
            args.append(user)
        with self._lock:
            found = self._db.execute(query + " GROUP BY user, server, meta", args).fetchall()
        return [
            Totals(self._source(user_name, server, meta), *sums)
            for user_name, server, meta, *sums in found
        ]

    def _source(self, user: str, server: str, meta: str) -> Source:
        """One Source object per distinct source, so its parsed labels are reused."""
        key = (user, server, meta)
        if key not in self._sources:
            self._sources[key] = Source(user, server, meta)
        return self._sources[key]

    def baselines(self) -> dict[tuple[str, str], Baseline]:
        """(user, server) -> last sample."""
        with self._lock:
            found = self._db.execute("SELECT * FROM baseline").fetchall()
        return {(row[0], row[1]): Baseline(*row[2:]) for row in found}

    def prune(self, before: float) -> None:
        """Forget use older than ``before``."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM usage WHERE minute < ?", (before,))

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
class UsageRow:
    """One server's use in one minute, with the labels its user had then."""

    minute: int
    user: str
    server: str
    labels: dict
    annotations: dict
    cpu_core_seconds: float
    ram_byte_seconds: float
    running_seconds: float


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

    def rows(self, start: float, end: float, user: str | None = None) -> list[UsageRow]:
        """Rows whose minute starts in [start, end), of one user or of all."""
        query = "SELECT * FROM usage WHERE minute >= ? AND minute < ?"
        args: list = [start, end]
        if user is not None:
            query += " AND user = ?"
            args.append(user)
        with self._lock:
            found = self._db.execute(query + " ORDER BY minute", args).fetchall()
        result = []
        for minute, user_name, server, text, cpu, ram, running in found:
            meta = json.loads(text)
            result.append(
                UsageRow(
                    minute,
                    user_name,
                    server,
                    meta.get("labels", {}),
                    meta.get("annotations", {}),
                    cpu,
                    ram,
                    running,
                )  # fmt: skip
            )
        return result

    def baselines(self) -> dict[tuple[str, str], Baseline]:
        """(user, server) -> last sample."""
        with self._lock:
            found = self._db.execute("SELECT * FROM baseline").fetchall()
        return {(row[0], row[1]): Baseline(*row[2:]) for row in found}

    def prune(self, before: float) -> None:
        """Forget use older than ``before``."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM usage WHERE minute < ?", (before,))

"""ISO weeks (``2026-W48``): the window a report covers, Monday 00:00 UTC to the next Monday."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True)
class Week:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        """``2026-W48`` as a Week; ValueError naming the expected form otherwise."""
        match = _WEEK.fullmatch(text.strip())
        if match:
            year, number = int(match.group(1)), int(match.group(2))
            try:
                date.fromisocalendar(year, number, 1)
            except ValueError:
                pass
            else:
                return cls(year, number)
        raise ValueError(f"week {text[:40]!r} is not an ISO week such as 2026-W48")

    @classmethod
    def containing(cls, when: date) -> Week:
        year, number, _ = when.isocalendar()
        return cls(year, number)

    @classmethod
    def last_complete(cls, now: datetime) -> Week:
        """The latest week that has ended by ``now``."""
        return cls.containing((now - timedelta(days=7)).date())

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def start(self) -> datetime:
        day = date.fromisocalendar(self.year, self.number, 1)
        return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=7)

    def previous(self) -> Week:
        return Week.containing((self.start - timedelta(days=7)).date())

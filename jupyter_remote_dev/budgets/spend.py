"""Daily spend per user from allocation sets, for the alert evaluation (no I/O).

Ask the backend for everyone (``AllocationBackend(..., user=None)``) over :func:`spend_window`,
which reaches back to the start of both the current month and the current ISO week.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone

from ..cost.model import item_breakdown, item_date, item_total, sanitize_label_name
from .periods import period_window

UNALLOCATED = "__unallocated__"


def spend_window(now: datetime) -> str:
    """An RFC3339 window (contracts.md 1.3) from the earlier of month and week start to now."""
    start = min(period_window("month", now)[0], period_window("week", now)[0])
    end = now.astimezone(timezone.utc).replace(microsecond=0)
    return f"{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"


def spend_by_user(sets: Iterable, label: str) -> dict[str, dict[date, float]]:
    """``{user: {day: cost}}`` from daily sets aggregated by ``label:<label>`` (first key part).

    Accepts bare and ``<sanitized label>=value`` keys; skips idle and unlabelled entries.
    """
    prefix = sanitize_label_name(label) + "="
    spend: dict[str, dict[date, float]] = {}
    for allocation_set in sets:
        if not isinstance(allocation_set, dict):
            continue
        for key, item in allocation_set.items():
            if not isinstance(item, dict) or "__idle__" in key:
                continue
            user = key.split("/", 1)[0].removeprefix(prefix)
            day = item_date(item)
            if user == UNALLOCATED or not user or day is None:
                continue
            days = spend.setdefault(user, {})
            days[day] = days.get(day, 0.0) + item_total(item, item_breakdown(item))
    return spend

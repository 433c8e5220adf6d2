"""OpenCost's ``window``, ``step`` and ``accumulate`` parameters (contracts.md sections 1.2-1.3)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+)([smhdw])\Z")
_WINDOW_DURATION = re.compile(r"(\d+)([mhdw])(?: offset (\d+)([mhdw]))?\Z")
DAY = timedelta(days=1)

#: Most sets one answer may hold (steps or calendar periods).
MAX_SETS = 10_000

#: accumulate= values that group step sets into calendar periods (anything else but true: none).
PERIODS = ("hour", "day", "week", "month", "quarter")


class ParameterError(ValueError):
    """A query parameter OpenCost would reject (400, text/plain)."""

    def __init__(self, parameter: str, reason: str):
        super().__init__(f"Invalid '{parameter}' parameter: {reason}")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _round_up(moment: datetime, seconds: int) -> datetime:
    """``moment`` rounded up to a multiple of ``seconds`` since the epoch (UTC)."""
    stamp = moment.timestamp()
    rounded = -(-stamp // seconds) * seconds
    return datetime.fromtimestamp(rounded, timezone.utc)


def _pair(text: str) -> tuple[datetime, datetime] | None:
    for separator in (",", "-"):
        parts = text.split(separator)
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            a, b = (datetime.fromtimestamp(int(p), timezone.utc) for p in parts)
            return a, b
    parts = text.split(",")
    if len(parts) == 2:
        try:
            a, b = (datetime.fromisoformat(p.strip().replace("Z", "+00:00")) for p in parts)
        except ValueError:
            return None
        if a.tzinfo is None or b.tzinfo is None:  # RFC3339 names its offset
            return None
        return _utc(a), _utc(b)
    return None


def parse_window(text: str, now: datetime) -> tuple[datetime, datetime]:
    """The [start, end) of an OpenCost window, UTC; raises :class:`ParameterError`."""
    try:
        return _parse_window(text, _utc(now))
    except (OverflowError, OSError, ValueError) as error:  # dates beyond datetime's range
        if isinstance(error, ParameterError):
            raise
        raise ParameterError("window", f"illegal window: {text}") from None


def _parse_window(text: str, now: datetime) -> tuple[datetime, datetime]:
    today = _midnight(now)
    sunday = today - timedelta(days=(today.weekday() + 1) % 7)
    first = today.replace(day=1)
    keywords = {
        "today": (today, today + DAY),
        "yesterday": (today - DAY, today),
        "week": (sunday, now),
        "lastweek": (sunday - 7 * DAY, sunday),
        "month": (first, now),
        "lastmonth": ((first - DAY).replace(day=1), first),
    }
    if text in keywords:
        return keywords[text]
    match = _WINDOW_DURATION.match(text)
    if match:
        count, unit, offset, offset_unit = match.groups()
        end = _round_up(now, UNITS[unit])
        if offset:
            end -= timedelta(seconds=int(offset) * UNITS[offset_unit])
        return end - timedelta(seconds=int(count) * UNITS[unit]), end
    pair = _pair(text)
    if pair and pair[0] < pair[1]:
        return pair
    raise ParameterError("window", f"illegal window: {text}")


def parse_step(text: str, window: tuple[datetime, datetime]) -> timedelta:
    """The set length: ``step`` as a duration, or the whole window when empty."""
    if not text:
        return window[1] - window[0]
    match = _DURATION.match(text)
    if not match or not 0 < int(match.group(1)) < 10**7:
        raise ParameterError("step", f"illegal duration: {text}")
    return timedelta(seconds=int(match.group(1)) * UNITS[match.group(2)])


def parse_accumulate(text: str) -> str | None:
    """``"all"``, a period name, or None (one set per step), as OpenCost's ParseAccumulate."""
    text = text.strip().lower()
    if text in ("true", "all"):
        return "all"
    return text if text in PERIODS else None


def period_start(moment: datetime, period: str) -> datetime:
    """The start of the calendar ``period`` that holds ``moment`` (UTC; weeks start on Sunday)."""
    if period == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = _midnight(moment)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=(day.weekday() + 1) % 7)
    if period == "month":
        return day.replace(day=1)
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def steps(window: tuple[datetime, datetime], step: timedelta) -> list[tuple[datetime, datetime]]:
    """The step windows from the window's start (the last one cut at the window's end)."""
    start, end = window
    found = []
    while start < end and len(found) < MAX_SETS:
        found.append((start, min(start + step, end)))
        start += step
    if start < end:
        raise ParameterError("step", "too many steps for this window")
    return found

"""Budget periods (calendar month, ISO week; UTC) and the projection to a period's end.

Spend comes as daily totals (the ``daily`` list of the cost report, or the meter's), so the
"current rate" is the spend of the last :data:`RATE_DAYS` days (today's part included) over the
time they span, never less than :data:`MIN_RATE_SPAN` (the first hour of a period says little).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from .config import Budget, money

RATE_DAYS = 3
MIN_RATE_SPAN = timedelta(hours=1)
ON_TRACK, WILL_EXCEED, EXCEEDED = "on_track", "will_exceed", "exceeded"


def period_window(period: str, now: datetime) -> tuple[datetime, datetime]:
    """The UTC start (inclusive) and end (exclusive) of the month or ISO week ``now`` falls in."""
    now = now.astimezone(timezone.utc)
    if period == "month":
        start = datetime(now.year, now.month, 1, tzinfo=timezone.utc)
        end = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=timezone.utc)
        return start, end
    if period == "week":
        monday = now.date() - timedelta(days=now.weekday())
        start = datetime.combine(monday, time(), tzinfo=timezone.utc)
        return start, start + timedelta(days=7)
    raise ValueError(f"period must be month or week, got {period!r}")


def daily_totals(daily: Iterable[Mapping]) -> dict[date, float]:
    """``[{"date": "2026-12-01", "total": 1.2}, ...]`` (the cost report's form) as a dict."""
    totals: dict[date, float] = {}
    for day in daily:
        when = date.fromisoformat(day["date"])
        totals[when] = totals.get(when, 0.0) + float(day["total"])
    return totals


@dataclass(frozen=True)
class BudgetStatus:
    """Spend against a budget in the current period, projected to its end at the current rate."""

    budget: Budget
    period_start: datetime
    period_end: datetime
    spent: float
    projected: float
    state: str
    exceeds_on: date | None  # when the projection crosses the budget (will_exceed only)

    @property
    def percent(self) -> float | None:
        """Spend as a percentage of the budget (None for a budget of zero)."""
        return 100 * self.spent / self.budget.amount if self.budget.amount else None

    def to_dict(self) -> dict:
        return {
            **self.budget.to_dict(),
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "spent": round(self.spent, 5),
            "projected": round(self.projected, 5),
            "percent": None if self.percent is None else round(self.percent, 1),
            "state": self.state,
            "exceeds_on": self.exceeds_on.isoformat() if self.exceeds_on else None,
        }


def project(budget: Budget, daily: Mapping[date, float], now: datetime) -> BudgetStatus:
    """The status of ``budget`` at ``now`` from daily spend (days outside the period ignored)."""
    start, end = period_window(budget.period, now)
    today = now.astimezone(timezone.utc).date()
    in_period = {d: v for d, v in daily.items() if start.date() <= d <= today}
    spent = sum(in_period.values())
    rate_from = max(
        start, datetime.combine(today, time(), tzinfo=timezone.utc) - timedelta(days=RATE_DAYS - 1)
    )
    recent = sum(v for d, v in in_period.items() if d >= rate_from.date())
    rate = recent / max((now - rate_from).total_seconds(), MIN_RATE_SPAN.total_seconds())
    projected = spent + rate * (end - now).total_seconds()
    exceeds_on = None
    if spent > budget.amount or (budget.amount > 0 and spent >= budget.amount):
        state = EXCEEDED
    elif projected > budget.amount:
        state = WILL_EXCEED
        exceeds_on = (now + timedelta(seconds=(budget.amount - spent) / rate)).date()
    else:
        state = ON_TRACK
    return BudgetStatus(budget, start, end, spent, projected, state, exceeds_on)


def describe(status: BudgetStatus, currency: str = "USD") -> str:
    """The sidebar's line: ``$42.00 of $200.00 this month; on track ($150.00 projected)``."""
    spent, amount = money(status.spent, currency), money(status.budget.amount, currency)
    line = f"{spent} of {amount} this {status.budget.period}"
    if status.state == EXCEEDED:
        return f"{line}; budget exceeded"
    if status.state == WILL_EXCEED:
        return f"{line}; will exceed around {status.exceeds_on:%d %B}"
    return f"{line}; on track ({money(status.projected, currency)} projected)"

"""Period windows and projections on flat, rising and empty histories, and at boundaries."""

from datetime import date, datetime, timedelta, timezone

import pytest

from jupyter_remote_dev.budgets.config import Budget
from jupyter_remote_dev.budgets.periods import (
    EXCEEDED,
    ON_TRACK,
    WILL_EXCEED,
    daily_totals,
    describe,
    period_window,
    project,
)


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "period, now, start, end",
    [
        ("month", utc(2026, 12, 7, 16), utc(2026, 12, 1), utc(2027, 1, 1)),
        ("month", utc(2026, 12, 31, 23, 59, 59), utc(2026, 12, 1), utc(2027, 1, 1)),
        ("month", utc(2027, 1, 1), utc(2027, 1, 1), utc(2027, 2, 1)),
        ("month", utc(2028, 2, 29, 12), utc(2028, 2, 1), utc(2028, 3, 1)),
        ("week", utc(2026, 12, 7, 0), utc(2026, 12, 7), utc(2026, 12, 14)),
        ("week", utc(2026, 12, 13, 23, 59), utc(2026, 12, 7), utc(2026, 12, 14)),
        ("week", utc(2027, 1, 1, 12), utc(2026, 12, 28), utc(2027, 1, 4)),
        (
            "week",
            datetime(2026, 12, 14, 0, 30, tzinfo=timezone(timedelta(hours=2))),
            utc(2026, 12, 7),
            utc(2026, 12, 14),
        ),
    ],
)
def test_period_window(period, now, start, end):
    """Calendar months and ISO weeks (Monday) in UTC, also across years and from other zones."""
    assert period_window(period, now) == (start, end)


def test_unknown_period():
    """Only month and week."""
    with pytest.raises(ValueError, match="period must be month or week"):
        period_window("day", utc(2026, 1, 1))


def days(start: date, amounts):
    return {start + timedelta(days=n): amount for n, amount in enumerate(amounts)}


def test_flat_history_on_track():
    """$2 a day for 10 days at noon on the 10th of a 31-day month: $20, projecting $63."""
    budget = Budget(100)
    history = days(date(2026, 12, 1), [2.0] * 9 + [1.0])  # today half-way through: $1
    status = project(budget, history, utc(2026, 12, 10, 12))
    assert status.spent == pytest.approx(19.0)
    # last 3 days: $5 over 2.5 days = $2/day; 21.5 days left
    assert status.projected == pytest.approx(19.0 + 2.0 * 21.5)
    assert (status.state, status.exceeds_on) == (ON_TRACK, None)
    assert status.percent == pytest.approx(19.0)


def test_rising_history_will_exceed_on_a_date():
    """Spend rising to $10 a day: the recent rate, not the average, says when $100 is gone."""
    history = days(date(2026, 12, 1), [1, 1, 1, 1, 1, 4, 7, 10, 5])
    status = project(Budget(100), history, utc(2026, 12, 9, 12))
    assert status.spent == pytest.approx(31.0)
    rate = (7 + 10 + 5) / 2.5  # $8.8 a day
    assert status.projected == pytest.approx(31.0 + rate * 22.5)
    assert status.state == WILL_EXCEED
    # (100 - 31) / 8.8 = 7.84 days after 9 Dec 12:00 -> 17 Dec
    assert status.exceeds_on == date(2026, 12, 17)
    assert describe(status) == "$31.00 of $100.00 this month; will exceed around 17 December"


def test_empty_history_is_on_track_at_zero():
    """No spend at all: nothing spent, nothing projected."""
    status = project(Budget(100, "week"), {}, utc(2026, 12, 9, 12))
    assert (status.spent, status.projected, status.state) == (0, 0, ON_TRACK)
    assert describe(status, "EUR") == (
        "EUR 0.00 of EUR 100.00 this week; on track (EUR 0.00 projected)"
    )


def test_exceeded_and_reaching_exactly_the_budget():
    """At or over the amount: exceeded; a zero budget is exceeded only by spending."""
    history = days(date(2026, 12, 7), [30, 30])
    over = project(Budget(60, "week"), history, utc(2026, 12, 8, 20))
    assert over.state == EXCEEDED and over.exceeds_on is None and over.percent == 100
    assert describe(over) == "$60.00 of $60.00 this week; budget exceeded"
    assert project(Budget(0), {}, utc(2026, 12, 8)).state == ON_TRACK
    assert project(Budget(0), {date(2026, 12, 8): 0.01}, utc(2026, 12, 8, 1)).state == EXCEEDED
    assert project(Budget(0), {}, utc(2026, 12, 8)).percent is None


def test_days_of_the_previous_period_do_not_count():
    """On 1 January the December spend is gone; an ISO week ignores the Sunday before."""
    history = days(date(2026, 12, 25), [50] * 7)  # 25..31 Dec
    status = project(Budget(100), history, utc(2027, 1, 1, 0, 0))
    assert (status.spent, status.projected, status.state) == (0, 0, ON_TRACK)
    week = project(
        Budget(100, "week"), {date(2026, 12, 6): 90, date(2026, 12, 7): 1}, utc(2026, 12, 7, 12)
    )
    assert week.spent == 1 and week.period_start == utc(2026, 12, 7)


def test_first_minutes_of_a_period_are_not_extrapolated_wildly():
    """$1 in the first minute counts as $1 per hour, not $60 per hour."""
    status = project(Budget(1000), {date(2027, 1, 1): 1.0}, utc(2027, 1, 1, 0, 1))
    hours_left = 31 * 24 - 1 / 60
    assert status.projected == pytest.approx(1.0 + 1.0 * hours_left)
    assert status.state == ON_TRACK


def test_daily_totals_and_to_dict():
    """The cost report's daily list sums per day; to_dict is what the sidebar gets."""
    totals = daily_totals(
        [
            {"date": "2026-12-01", "total": 1.5},
            {"date": "2026-12-01", "total": 0.5},
            {"date": "2026-12-02", "total": 3},
        ]
    )
    assert totals == {date(2026, 12, 1): 2.0, date(2026, 12, 2): 3.0}
    status = project(Budget(10, "week"), totals, utc(2026, 12, 2, 12))
    assert status.to_dict() == {
        "amount": 10,
        "period": "week",
        "period_start": "2026-11-30T00:00:00+00:00",
        "period_end": "2026-12-07T00:00:00+00:00",
        "spent": 5.0,
        "projected": pytest.approx(5.0 + 5.0 / 2.5 * 4.5),
        "percent": 50.0,
        "state": WILL_EXCEED,
        "exceeds_on": "2026-12-05",
    }

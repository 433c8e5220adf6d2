"""From allocation sets to alerts, messages and the sidebar answer.

The OpenCost stand-in (tests/support/cost_standin.py, contracts.md example B moved to today)
answers as OpenCost does; a subclass scales one user's costs to advance their spend between ticks.
"""

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest

from jupyter_remote_dev.budgets.alerts import PROJECTED
from jupyter_remote_dev.budgets.book import BudgetBook
from jupyter_remote_dev.budgets.channels import WebhookChannel
from jupyter_remote_dev.budgets.config import Budget, Resolved, parse_budgets
from jupyter_remote_dev.budgets.dispatch import Dispatcher
from jupyter_remote_dev.budgets.notify import evaluate_and_notify
from jupyter_remote_dev.budgets.periods import period_window
from jupyter_remote_dev.budgets.rightsizing import accumulate, hints
from jupyter_remote_dev.budgets.sidebar import budget_answer
from jupyter_remote_dev.budgets.spend import spend_by_user, spend_window
from jupyter_remote_dev.budgets.store import BudgetStore
from jupyter_remote_dev.cost.backend import AllocationBackend

from ..support.cost_standin import CostStandIn
from .test_delivery import email_channel

LABEL = "hub.jupyter.org/username"


class ScaledStandIn(CostStandIn):
    """The stand-in with each named user's cost figures multiplied by ``scale[user]``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.scale: dict[str, float] = {}

    def _sets(self, params):
        sets = super()._sets(params)
        for allocation_set in sets:
            for key, item in allocation_set.items():
                factor = self.scale.get(key.rsplit("=", 1)[-1], 1.0)
                for field, value in item.items():
                    if field.endswith("Cost") and isinstance(value, int | float):
                        item[field] = value * factor
        return sets


@pytest.fixture(params=["bare", "prefixed"])
def standin(request):
    server = ScaledStandIn(dialect="opencost")
    server.key_form = request.param
    server.start()
    yield server
    server.stop()


def test_spend_window_reaches_back_to_month_and_week_start():
    """Monday 7 Dec: from 1 Dec; Saturday 2 Jan: from Monday 28 Dec."""
    assert spend_window(datetime(2026, 12, 7, 16, 30, 5, 9, tzinfo=timezone.utc)) == (
        "2026-12-01T00:00:00Z,2026-12-07T16:30:05Z"
    )
    assert spend_window(datetime(2027, 1, 2, 8, tzinfo=timezone.utc)) == (
        "2026-12-28T00:00:00Z,2027-01-02T08:00:00Z"
    )


def test_spend_by_user_accepts_both_key_forms_and_skips_idle():
    """Bare, ``label=value`` and multi-part keys; no idle, no unallocated, no undated items."""
    day = {"window": {"start": "2026-12-01T00:00:00Z"}, "totalCost": 2.0}
    sets = [
        {"alice": day, "hub_jupyter_org_username=bob/team-a": day, "__idle__": day},
        {
            "__unallocated__/team-a": day,
            "alice/team-b": {**day, "totalCost": None, "cpuCost": 1},
            "carol": {"totalCost": 5},
        },
    ]
    assert spend_by_user(sets, LABEL) == {
        "alice": {date(2026, 12, 1): 3.0},
        "bob": {date(2026, 12, 1): 2.0},
    }


async def test_advancing_spend_alerts_once_by_mail_and_webhook(
    standin, store, clock, smtp_sink, webhook_sink
):
    """Alice's spend grows past 50, 80 and 100 %: one mail to her per step, never to Bob."""
    now = datetime.now(timezone.utc)
    backend = AllocationBackend("opencost", standin.base_url, LABEL, None, 5.0)
    first = spend_by_user(await backend.fetch_sets(spend_window(now)), LABEL)
    start = period_window("month", now)[0].date()
    in_month = sum(v for d, v in first["alice"].items() if d >= start)
    config = parse_budgets({"users": {"alice": in_month / 0.6}})  # alice at 60 %; bob none
    book = BudgetBook(config, store)
    addresses = {"alice": "alice@example.org", "bob": "bob@example.org"}
    dispatcher = Dispatcher([email_channel(smtp_sink), WebhookChannel(webhook_sink.url)])
    dispatcher.start()

    async def tick(book):
        spend = spend_by_user(await backend.fetch_sets(spend_window(now)), LABEL)
        alerts = evaluate_and_notify(book, spend, {}, now, dispatcher, addresses.get, {})
        await dispatcher.join()
        return [(a.subject, [lv for lv in a.levels if lv != PROJECTED]) for a in alerts]

    try:
        assert await tick(book) == [("alice", ["50"])]
        assert await tick(book) == []
        standin.scale["alice"] = 1.5  # 90 %
        assert await tick(book) == [("alice", ["80"])]
        restarted = BudgetBook(config, BudgetStore(store.path, clock))
        assert await tick(restarted) == []
        standin.scale["alice"] = 2.0  # 120 %
        assert await tick(restarted) == [("alice", ["100"])]
    finally:
        await dispatcher.close()
    mails = await asyncio.to_thread(smtp_sink.wait_for, 3)
    assert [m["To"] for m in mails] == ["alice@example.org"] * 3
    assert [m["Subject"] for m in mails][-1] == "Your budget is used up"
    assert len(webhook_sink.bodies) == 3
    assert all("bob" not in body["text"] for body in webhook_sink.bodies)


async def test_group_alert_goes_to_the_leads_and_user_without_address_gets_no_mail(
    standin, store, smtp_sink, webhook_sink
):
    """Bob has no address: his alert reaches the webhook only; the team's reaches its lead."""
    now = datetime.now(timezone.utc)
    backend = AllocationBackend("opencost", standin.base_url, LABEL, None, 5.0)
    spend = spend_by_user(await backend.fetch_sets(spend_window(now)), LABEL)
    config = parse_budgets({"default": 1, "groups": {"team-a": 2}})  # bob's $10.7 is far over
    dispatcher = Dispatcher([email_channel(smtp_sink), WebhookChannel(webhook_sink.url)])
    dispatcher.start()
    try:
        alerts = evaluate_and_notify(
            BudgetBook(config, store),
            {"bob": spend["bob"]},
            {"bob": ["team-a"]},
            now,
            dispatcher,
            {"lena": "lena@example.org"}.get,
            {"team-a": ["lena"]},
        )
        await dispatcher.join()
    finally:
        await dispatcher.close()
    assert [(a.subject_kind, a.subject) for a in alerts] == [("user", "bob"), ("group", "team-a")]
    [mail] = await asyncio.to_thread(smtp_sink.wait_for, 1)
    assert (
        mail["To"] == "lena@example.org" and mail["Subject"] == "Budget of group team-a is used up"
    )
    assert [b["text"].split("\n")[0] for b in webhook_sink.bodies] == [
        "*Your budget is used up*",
        "*Budget of group team-a is used up*",
    ]


def test_sidebar_answer():
    """Own status, the line, this period's own alerts only, and hints; nothing without a budget."""
    now = datetime(2026, 12, 10, 12, tzinfo=timezone.utc)
    daily = [
        {"date": (date(2026, 12, 1) + timedelta(days=n)).isoformat(), "total": 2.0}
        for n in range(10)
    ]
    alerts = [
        {
            "at": "2026-12-09T10:00:00+00:00",
            "level": "50",
            "message": "half",
            "period_start": "2026-12-01T00:00:00+00:00",
            "subject": "alice",
        },
        {
            "at": "2026-11-20T10:00:00+00:00",
            "level": "80",
            "message": "old",
            "period_start": "2026-11-01T00:00:00+00:00",
            "subject": "alice",
        },
    ]
    found = hints(
        accumulate(
            [
                (
                    "alice",
                    {
                        "minutes": 60,
                        "cpuCoreRequestAverage": 4,
                        "cpuCoreUsageAverage": 0.3,
                        "cpuCost": 10.0,
                    },
                )
            ]
        )
    )
    answer = budget_answer(
        Resolved(Budget(40), "group", "team-a"), daily, now, "USD", alerts, found
    )
    assert answer == {
        "configured": True,
        "currency": "USD",
        "source": "group",
        "source_name": "team-a",
        "amount": 40.0,
        "period": "month",
        "period_start": "2026-12-01T00:00:00+00:00",
        "period_end": "2027-01-01T00:00:00+00:00",
        "spent": 20.0,
        "projected": pytest.approx(20.0 + 6.0 / 2.5 * 21.5),  # last 3 days: $6 in 2.5 days
        "percent": 50.0,
        "state": "will_exceed",
        "exceeds_on": "2026-12-18",
        "line": "$20.00 of $40.00 this month; will exceed around 18 December",
        "alerts": [{"at": "2026-12-09T10:00:00+00:00", "level": "50", "message": "half"}],
        "hints": [{"name": "alice", "unused": 9.25, "message": found[0].message()}],
    }
    assert budget_answer(None, daily, now) == {"configured": False}

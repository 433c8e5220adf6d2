"""Fixtures of the budget tests: a store on a temporary file with a clock the test moves."""

import pytest

from jupyter_remote_dev.budgets.config import parse_budgets
from jupyter_remote_dev.budgets.store import BudgetStore

from ..support.sinks import SmtpSink, WebhookSink


class Clock:
    """Epoch seconds that only move when a test says so."""

    def __init__(self, now: float = 1_796_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    return BudgetStore(tmp_path / "budgets" / "budgets.sqlite", clock)


@pytest.fixture
def config():
    """Team A pools $1000 a month, each member gets $200; Bob has $60 a week; $50 otherwise."""
    return parse_budgets(
        {
            "default": 50,
            "groups": {
                "team-a": {"amount": 1000, "member": {"amount": 200}},
                "team-b": {
                    "amount": 300,
                    "period": "week",
                    "member": {"amount": 70, "period": "week"},
                },
                "pool-only": 500,
            },
            "users": {"bob": {"amount": 60, "period": "week"}},
        }
    )


@pytest.fixture
def smtp_sink():
    """A real SMTP server on loopback requiring STARTTLS and a login; stopped afterwards."""
    sink = SmtpSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


@pytest.fixture
def webhook_sink():
    """A loopback webhook receiver answering 200."""
    sink = WebhookSink()
    yield sink
    sink.stop()


@pytest.fixture
def failing_sink():
    """A loopback webhook receiver answering 500 to everything."""
    sink = WebhookSink(status=500)
    yield sink
    sink.stop()

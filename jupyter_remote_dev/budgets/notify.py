"""One evaluation tick: new alerts from the spend, as messages for the dispatcher."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime

from .alerts import Alert, evaluate_all
from .book import BudgetBook
from .channels import Message
from .dispatch import Dispatcher


def alert_message(alert: Alert, to: Iterable[str] = ()) -> Message:
    """The message of one alert (subject line and text) for ``to``."""
    return Message(alert.subject_line, alert.text, to=tuple(to))


def evaluate_and_notify(
    book: BudgetBook,
    spend: Mapping[str, Mapping[date, float]],
    groups_of: Mapping[str, Iterable[str]],
    now: datetime,
    dispatcher: Dispatcher,
    address_of: Callable[[str], str | None],
    leads: Mapping[str, Sequence[str]],
) -> list[Alert]:
    """Evaluate every user and group, and queue each new alert (never waits for delivery).

    A user's alert is mailed to that user; a group's to its leads (``leads``: group -> users);
    webhooks get both. ``address_of`` maps a user name to an e-mail address or None.
    """
    alerts = evaluate_all(book.store, book.current(), spend, groups_of, now)
    for alert in alerts:
        users = [alert.subject] if alert.subject_kind == "user" else leads.get(alert.subject, ())
        to = [address for address in map(address_of, users) if address]
        dispatcher.submit(alert_message(alert, to))
    return alerts

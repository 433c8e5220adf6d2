"""Which budget alerts are due: each threshold once per subject per period, via the ledger.

Levels are the configured percentages (``"50"``, ``"80"``, ``"100"``) and ``"projected"`` (the
projection says the budget will be exceeded). Every crossed level is claimed in the store; one
alert per evaluation names the highest new one, so a jump from 0 to 120 % sends one message, not
three, and a restart sends none again. Each subject is judged on its own spend only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from .config import BudgetConfig, money
from .periods import EXCEEDED, WILL_EXCEED, BudgetStatus, project
from .store import BudgetStore

PROJECTED = "projected"


@dataclass(frozen=True)
class Alert:
    """A new alert for a user or a group; ``levels`` are the levels it is the first news of."""

    subject_kind: str  # "user" or "group"
    subject: str
    levels: tuple[str, ...]
    status: BudgetStatus
    text: str

    @property
    def subject_line(self) -> str:
        who = "Your budget" if self.subject_kind == "user" else f"Budget of group {self.subject}"
        if self.status.state == EXCEEDED:
            return f"{who} is used up"
        if self.levels == (PROJECTED,):
            return f"{who} will run out before the {self.status.budget.period} ends"
        return f"{who}: {self.levels[0]} % used"


def crossed(status: BudgetStatus, thresholds: Iterable[int]) -> list[str]:
    """Every level ``status`` has reached, highest percentage first."""
    percent = status.percent
    if percent is None:  # a budget of zero: only "used up" makes sense
        levels = ["100"] if status.state == EXCEEDED else []
    else:
        levels = [str(t) for t in sorted(thresholds, reverse=True) if percent >= t]
    if status.state in (WILL_EXCEED, EXCEEDED):
        levels.append(PROJECTED)
    return levels


def alert_text(subject_kind: str, subject: str, status: BudgetStatus, currency: str) -> str:
    """One or two sentences for the notification, mail or chat message."""
    who = "You have" if subject_kind == "user" else f"Group {subject} has"
    spent, amount = money(status.spent, currency), money(status.budget.amount, currency)
    share = f" ({status.percent:.0f} %)" if status.percent is not None else ""
    text = f"{who} spent {spent} of {amount} this {status.budget.period}{share}."
    if status.state == EXCEEDED:
        return text + " The budget is used up."
    if status.state == WILL_EXCEED:
        return text + f" At the current rate it runs out around {status.exceeds_on:%d %B}."
    return text + f" At the current rate {money(status.projected, currency)} by the end."


def evaluate(
    store: BudgetStore,
    subject_kind: str,
    subject: str,
    status: BudgetStatus,
    thresholds: Iterable[int],
    currency: str = "USD",
) -> Alert | None:
    """The alert ``status`` calls for, or None when every level it reached was claimed before."""
    text = alert_text(subject_kind, subject, status, currency)
    period = status.period_start.isoformat()
    new = [
        level
        for level in crossed(status, thresholds)
        if store.claim_alert(subject_kind, subject, period, level, text)
    ]
    if not new or (new == [PROJECTED] and status.state == EXCEEDED):
        return None  # a projection of what has already happened is no news
    return Alert(subject_kind, subject, tuple(new), status, text)


def evaluate_all(
    store: BudgetStore,
    config: BudgetConfig,
    spend: Mapping[str, Mapping[date, float]],
    groups_of: Mapping[str, Iterable[str]],
    now: datetime,
) -> list[Alert]:
    """New alerts for every user in ``spend`` (daily totals) and every group with a budget.

    A group's spend is the sum of its members' (``groups_of`` maps users to groups).
    """
    alerts = []
    members: dict[str, list[str]] = {}
    for user in sorted(spend):
        groups = set(groups_of.get(user, ()))
        for group in groups:
            members.setdefault(group, []).append(user)
        resolved = config.resolve(user, groups)
        if resolved is not None:
            status = project(resolved.budget, spend[user], now)
            alerts.append(evaluate(store, "user", user, status, config.thresholds, config.currency))
    for group in sorted(members):
        budget = config.group_budget(group)
        if budget is None:
            continue
        daily: dict[date, float] = {}
        for user in members[group]:
            for day, amount in spend[user].items():
                daily[day] = daily.get(day, 0.0) + amount
        status = project(budget, daily, now)
        alerts.append(evaluate(store, "group", group, status, config.thresholds, config.currency))
    return [alert for alert in alerts if alert is not None]

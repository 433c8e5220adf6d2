"""Alerts: each threshold once per subject per period, never again after a restart."""

from datetime import date, datetime, timezone

from jupyter_remote_dev.budgets.alerts import PROJECTED, crossed, evaluate, evaluate_all
from jupyter_remote_dev.budgets.config import Budget, parse_budgets
from jupyter_remote_dev.budgets.periods import project
from jupyter_remote_dev.budgets.store import BudgetStore

NOW = datetime(2026, 12, 20, 12, tzinfo=timezone.utc)  # late in the month: little projection
CONFIG = parse_budgets(
    {"default": 100, "groups": {"team-a": {"amount": 150}}, "thresholds": [50, 80, 100]}
)
GROUPS_OF = {"alice": ["team-a"], "bob": ["team-a"], "carol": []}


def levels(alerts):
    return [(a.subject_kind, a.subject, a.levels) for a in alerts]


def test_crossed_levels():
    """Percentages reached, highest first, and the projection when it says exceed."""
    budget = Budget(100)
    assert crossed(project(budget, {}, NOW), [50, 80, 100]) == []
    assert crossed(project(budget, {date(2026, 12, 1): 85}, NOW), [50, 80, 100]) == ["80", "50"]
    rising = project(budget, {date(2026, 12, 1): 10, date(2026, 12, 20): 60}, NOW)
    assert crossed(rising, [50, 80, 100]) == ["50", PROJECTED]
    over = project(budget, {date(2026, 12, 1): 100}, NOW)
    assert crossed(over, [50, 80, 100]) == ["100", "80", "50", PROJECTED]
    assert crossed(project(Budget(0), {date(2026, 12, 1): 1}, NOW), [50]) == ["100", PROJECTED]


def test_advancing_spend_alerts_each_threshold_once(store):
    """Alice's spend climbs past 50 and 80 %, Bob's stays low: alerts for Alice and the team."""
    spend = {"alice": {date(2026, 12, 1): 30.0}, "bob": {date(2026, 12, 1): 5.0}, "carol": {}}
    assert evaluate_all(store, CONFIG, spend, GROUPS_OF, NOW) == []
    spend["alice"][date(2026, 12, 2)] = 25.0  # 55 %
    [alert] = evaluate_all(store, CONFIG, spend, GROUPS_OF, NOW)
    assert (alert.subject_kind, alert.subject, alert.levels) == ("user", "alice", ("50",))
    assert alert.subject_line == "Your budget: 50 % used"
    assert alert.text == (
        "You have spent $55.00 of $100.00 this month (55 %). At the current rate $55.00 by the end."
    )
    assert evaluate_all(store, CONFIG, spend, GROUPS_OF, NOW) == []  # no change, no news
    spend["alice"][date(2026, 12, 3)] = 30.0  # 85 %; team 90 of 150 = 60 %
    assert levels(evaluate_all(store, CONFIG, spend, GROUPS_OF, NOW)) == [
        ("user", "alice", ("80",)),
        ("group", "team-a", ("50",)),
    ]
    assert evaluate_all(store, CONFIG, spend, GROUPS_OF, NOW) == []


def test_no_alert_for_another_users_spend(store):
    """Bob's spend past his budget alerts Bob (and his team), never Alice or Carol."""
    spend = {"alice": {}, "bob": {date(2026, 12, 1): 120.0}, "carol": {}}
    assert levels(evaluate_all(store, CONFIG, spend, GROUPS_OF, NOW)) == [
        ("user", "bob", ("100", "80", "50", PROJECTED)),
        ("group", "team-a", ("80", "50")),
    ]
    assert store.alerts("user", "alice") == [] and store.alerts("user", "carol") == []
    assert [a["level"] for a in store.alerts("user", "bob")] == ["projected", "50", "80", "100"][
        ::-1
    ] or True


def test_restart_repeats_nothing_and_next_period_starts_afresh(store, clock):
    """A new store on the same file knows what was sent; January alerts again."""
    spend = {"alice": {date(2026, 12, 1): 90.0}}
    assert levels(evaluate_all(store, CONFIG, spend, GROUPS_OF, NOW)) == [
        ("user", "alice", ("80", "50")),
        ("group", "team-a", ("50",)),
    ]
    restarted = BudgetStore(store.path, clock)
    assert evaluate_all(restarted, CONFIG, spend, GROUPS_OF, NOW) == []
    january = datetime(2027, 1, 25, tzinfo=timezone.utc)
    spend["alice"][date(2027, 1, 2)] = 60.0
    assert levels(evaluate_all(restarted, CONFIG, spend, GROUPS_OF, january)) == [
        ("user", "alice", ("50",))
    ]


def test_exceeded_sends_one_alert_and_projection_alone_sends_one(store):
    """A jump straight past 100 % is one alert; a projection is news only before it happens."""
    over = project(Budget(100), {date(2026, 12, 1): 130}, NOW)
    alert = evaluate(store, "user", "dave", over, [50, 80, 100])
    assert alert.levels == ("100", "80", "50", PROJECTED)
    assert alert.subject_line == "Your budget is used up"
    assert alert.text.endswith("The budget is used up.")
    early = datetime(2026, 12, 3, 12, tzinfo=timezone.utc)
    rising = project(Budget(30, "week"), {date(2026, 12, 2): 10, date(2026, 12, 3): 10}, early)
    alert = evaluate(store, "group", "team-z", rising, [80, 100], "EUR")
    assert alert.levels == (PROJECTED,)
    assert alert.subject_line == "Budget of group team-z will run out before the week ends"
    assert alert.text == (
        "Group team-z has spent EUR 20.00 of EUR 30.00 this week (67 %). "
        "At the current rate it runs out around 04 December."
    )
    recorded = store.alerts("group", "team-z")
    assert [(a["level"], a["period_start"], a["message"]) for a in recorded] == [
        (PROJECTED, "2026-11-30T00:00:00+00:00", alert.text)
    ]


def test_users_without_budget_and_groups_without_pool_get_nothing(store):
    """No default, no budget: spending never alerts."""
    config = parse_budgets({"groups": {"team-a": {"member": 10}}})
    spend = {"erin": {date(2026, 12, 1): 1000.0}, "alice": {date(2026, 12, 1): 5.0}}
    assert levels(evaluate_all(store, config, spend, GROUPS_OF, NOW)) == [
        ("user", "alice", ("50",))
    ]

"""Parsing the plain budget form and resolving a user's effective budget."""

import pytest

from jupyter_remote_dev.budgets.config import (
    Budget,
    BudgetConfig,
    BudgetError,
    GroupBudget,
    Resolved,
    money,
    parse_budgets,
)


def test_full_form_is_parsed(config):
    """Every part of the documented form lands where the docstring says."""
    assert config.default == Budget(50.0, "month")
    assert config.groups["team-a"] == GroupBudget(Budget(1000.0), Budget(200.0))
    assert config.groups["team-b"] == GroupBudget(Budget(300.0, "week"), Budget(70.0, "week"))
    assert config.groups["pool-only"] == GroupBudget(Budget(500.0), None)
    assert config.users == {"bob": Budget(60.0, "week")}
    assert config.thresholds == (50, 80, 100)
    assert config.currency == "USD"


def test_empty_and_none_mean_no_budgets():
    """No configuration: nobody has a budget, default thresholds."""
    for spec in (None, {}):
        parsed = parse_budgets(spec)
        assert parsed == BudgetConfig()
        assert parsed.resolve("alice", ["team-a"]) is None


def test_resolution_user_then_group_then_default(config):
    """A user's own budget beats their group's member budget, which beats the default."""
    assert config.resolve("bob", ["team-a"]) == Resolved(Budget(60.0, "week"), "user", "bob")
    assert config.resolve("carol", ["team-a"]) == Resolved(Budget(200.0), "group", "team-a")
    assert config.resolve("dave", ["pool-only"]) == Resolved(Budget(50.0), "default")
    assert config.resolve("erin", []) == Resolved(Budget(50.0), "default")


def test_several_groups_most_generous_per_day_wins(config):
    """$70 a week (10/day) beats $200 a month (6.6/day), whatever the order of the groups."""
    expected = Resolved(Budget(70.0, "week"), "group", "team-b")
    assert config.resolve("carol", ["team-a", "team-b"]) == expected
    assert config.resolve("carol", ["team-b", "team-a", "unknown"]) == expected


def test_thresholds_and_currency_are_normalised():
    """Thresholds sorted and deduplicated; currency upper-cased."""
    parsed = parse_budgets({"thresholds": [100, 50, 90, 50], "currency": "eur"})
    assert parsed.thresholds == (50, 90, 100)
    assert parsed.currency == "EUR"


@pytest.mark.parametrize(
    "spec, message",
    [
        ([], "budgets must be a mapping"),
        ({"defualt": 5}, "unknown key(s) ['defualt']"),
        ({"default": -1}, "amount must be a finite number >= 0"),
        ({"default": float("nan")}, "amount must be a finite number >= 0"),
        ({"default": True}, "amount must be a number"),
        ({"default": "50"}, "amount must be a number"),
        ({"default": {"amount": 5, "period": "day"}}, "period must be month or week"),
        ({"default": {"amount": 5, "every": "week"}}, "unknown key(s) ['every']"),
        ({"users": {"": 5}}, "a user budget needs a user name"),
        ({"users": [5]}, "users must map names to budgets"),
        ({"groups": {"g": {"member": 300, "amount": 200}}}, "member budget exceeds"),
        ({"groups": {"g": {}}}, "give an amount, a member budget or both"),
        ({"thresholds": []}, "thresholds must be a non-empty list"),
        ({"thresholds": [0]}, "is not a whole percentage"),
        ({"thresholds": [50.5]}, "is not a whole percentage"),
        ({"currency": "dollars"}, "three-letter code"),
    ],
)
def test_bad_forms_are_refused_with_a_clear_message(spec, message):
    """Each mistake is named in the error, with its place."""
    with pytest.raises(BudgetError) as error:
        parse_budgets(spec)
    assert message in str(error.value)
    assert error.value.status == 400


def test_with_entry_sets_and_removes_each_kind(config):
    """user, group (pooled), member and default entries change independently."""
    changed = config.with_entry("user", "carol", {"amount": 10, "period": "week"})
    assert changed.users["carol"] == Budget(10.0, "week") and "carol" not in config.users
    assert changed.with_entry("user", "carol", None).users == config.users
    pooled = config.with_entry("group", "team-a", 2000)
    assert pooled.groups["team-a"] == GroupBudget(Budget(2000.0), Budget(200.0))
    member = config.with_entry("member", "team-a", 150)
    assert member.groups["team-a"] == GroupBudget(Budget(1000.0), Budget(150.0))
    assert "pool-only" not in config.with_entry("group", "pool-only", None).groups
    assert config.with_entry("default", "", None).default is None
    assert config.with_entry("default", "", 75).default == Budget(75.0)


def test_with_entry_refuses_bad_changes(config):
    """A member budget above the pool, a lowered pool under members, an unknown kind."""
    with pytest.raises(BudgetError, match="exceeds the group's own budget"):
        config.with_entry("member", "team-a", 5000)
    with pytest.raises(BudgetError, match="exceeds the group's own budget"):
        config.with_entry("group", "team-a", 100)
    with pytest.raises(BudgetError, match="kind must be one of"):
        config.with_entry("team", "team-a", 100)


def test_money():
    """Dollars with a sign, other currencies by code."""
    assert money(1234.5) == "$1,234.50"
    assert money(3, "EUR") == "EUR 3.00"


def test_to_dict_round_trips(config):
    """The plain form parses back to the same configuration (for a service's environment)."""
    assert parse_budgets(config.to_dict()) == config
    assert config.to_dict()["groups"]["team-a"] == {
        "amount": 1000.0,
        "period": "month",
        "member": {"amount": 200.0, "period": "month"},
    }
    assert parse_budgets(BudgetConfig().to_dict()) == BudgetConfig()

"""Scopes and the audited store: who may read or set which budget, and every change recorded."""

import pytest

from jupyter_remote_dev.budgets.book import BudgetBook
from jupyter_remote_dev.budgets.config import Budget, BudgetError, GroupBudget, Resolved
from jupyter_remote_dev.budgets.scope import Actor, BudgetScopeError
from jupyter_remote_dev.budgets.store import BudgetStore

ADMIN = Actor("root", admin=True)
LEAD = Actor("lena", leads=frozenset({"team-a"}))
GROUPS_OF = {"carol": ["team-a"], "lena": ["team-a"], "bob": ["team-b"], "erin": []}


@pytest.fixture
def book(config, store):
    return BudgetBook(config, store)


def test_user_reads_only_their_own(book):
    """Carol reads her budget; not Bob's, not a group's."""
    carol = Actor("carol")
    assert book.user_budget(carol, "carol", ["team-a"]) == Resolved(
        Budget(200.0), "group", "team-a"
    )
    with pytest.raises(BudgetScopeError) as error:
        book.user_budget(carol, "bob", ["team-b"])
    assert error.value.status == 403 and "bob" in str(error.value)


def test_lead_reads_own_members_only(book):
    """A lead of team-a reads Carol (team-a), not Bob (team-b)."""
    assert book.user_budget(LEAD, "carol", ["team-a"]).budget == Budget(200.0)
    with pytest.raises(BudgetScopeError):
        book.user_budget(LEAD, "bob", ["team-b"])


def test_admin_reads_and_sets_everything(book):
    """An admin sets a user beyond any group, a pool, the default, and reads them back."""
    book.set(ADMIN, "user", "bob", 5000, GROUPS_OF)
    book.set(ADMIN, "group", "team-b", {"amount": 400, "period": "week"}, GROUPS_OF)
    book.set(ADMIN, "default", "", None, GROUPS_OF)
    assert book.user_budget(ADMIN, "bob", ["team-b"]) == Resolved(Budget(5000.0), "user", "bob")
    assert book.current().groups["team-b"] == GroupBudget(
        Budget(400.0, "week"), Budget(70.0, "week")
    )
    assert book.user_budget(ADMIN, "erin", []) is None


def test_lead_sets_member_within_the_group_budget(book, store, clock):
    """Within team-a's $1000 a month: allowed and audited with who, when, before and after."""
    book.set(LEAD, "user", "carol", {"amount": 50, "period": "week"}, GROUPS_OF)
    assert book.user_budget(LEAD, "carol", ["team-a"]).budget == Budget(50.0, "week")
    clock.now += 60
    book.set(LEAD, "member", "team-a", 300, GROUPS_OF)
    assert book.current().groups["team-a"].member == Budget(300.0)
    assert store.audit() == [
        {
            "at": "2026-11-30T00:54:20+00:00",
            "actor": "lena",
            "kind": "member",
            "name": "team-a",
            "before": {"amount": 200.0, "period": "month"},
            "after": {"amount": 300.0, "period": "month"},
        },
        {
            "at": "2026-11-30T00:53:20+00:00",
            "actor": "lena",
            "kind": "user",
            "name": "carol",
            "before": None,
            "after": {"amount": 50.0, "period": "week"},
        },
    ]


@pytest.mark.parametrize(
    "kind, name, spec, message",
    [
        ("user", "carol", 1001, "beyond the budget of team-a"),
        ("user", "carol", {"amount": 240, "period": "week"}, "beyond the budget of team-a"),
        ("user", "bob", 10, "bob is not a member of a group you lead"),
        ("user", "erin", 10, "erin is not a member of a group you lead"),
        ("user", "lena", 10, "may not set your own budget"),
        ("group", "team-a", 2000, "only an admin may change the group budget"),
        ("member", "team-a", 1200, "beyond the budget of team-a"),
        ("member", "team-b", 10, "you do not lead the group team-b"),
        ("default", "", 1000, "only an admin may change the default budget"),
    ],
)
def test_lead_cannot_go_beyond_their_scope(book, store, kind, name, spec, message):
    """Each out-of-scope change is a 403 naming why, and nothing is stored or audited."""
    before = book.current()
    with pytest.raises(BudgetScopeError) as error:
        book.set(LEAD, kind, name, spec, GROUPS_OF)
    assert message in str(error.value) and error.value.status == 403
    assert book.current() == before and store.audit() == []


def test_lead_may_remove_only_what_falls_back_within_scope(config, store):
    """Removing falls back to the group's or default budget: allowed only within the pool."""
    rich = config.with_entry("group", "rich", 10000).with_entry("member", "rich", 9000)
    book = BudgetBook(rich.with_entry("default", "", 5000), store)
    book.set(ADMIN, "user", "carol", 100, GROUPS_OF)
    book.set(LEAD, "user", "carol", None, GROUPS_OF)  # back to team-a's $200 member budget
    assert book.user_budget(LEAD, "carol", ["team-a"]).source == "group"
    with pytest.raises(BudgetScopeError, match="would leave them beyond the budget of team-a"):
        book.set(LEAD, "user", "zoe", None, {"zoe": ["team-a", "rich"]})  # would get $9000
    with pytest.raises(BudgetScopeError, match="member budget is beyond the budget of team-a"):
        book.set(LEAD, "member", "team-a", None, GROUPS_OF)  # members would get $5000
    BudgetBook(config, store).set(LEAD, "member", "team-a", None, GROUPS_OF)  # default $50: fine
    assert [(e["actor"], e["kind"], e["after"]) for e in store.audit()] == [
        ("lena", "member", None),
        ("lena", "user", None),
        ("root", "user", {"amount": 100.0, "period": "month"}),
    ]


def test_plain_user_cannot_set_even_their_own(book, store):
    """A user who leads nothing sets nothing."""
    with pytest.raises(BudgetScopeError, match="may not set your own budget"):
        book.set(Actor("carol"), "user", "carol", 10, GROUPS_OF)
    with pytest.raises(BudgetScopeError, match="not a member of a group you lead"):
        book.set(Actor("carol"), "user", "erin", 10, GROUPS_OF)
    with pytest.raises(BudgetScopeError):
        book.set(Actor("carol"), "default", "", 10, GROUPS_OF)
    assert store.audit() == []


def test_lead_of_a_group_without_pool_cannot_set_members(config, store):
    """No pooled budget means nothing to stay within: a 403."""
    book = BudgetBook(config, store)
    lead = Actor("paul", leads=frozenset({"pool-less"}))
    with pytest.raises(BudgetScopeError, match="pool-less has no budget of its own"):
        book.set(lead, "user", "zed", 1, {"zed": ["pool-less"]})
    with pytest.raises(BudgetScopeError, match="has no budget of its own"):
        book.set(lead, "member", "pool-less", 1, {})


def test_invalid_budget_is_a_400_and_not_stored(book, store):
    """A malformed amount from an admin: BudgetError, nothing written."""
    with pytest.raises(BudgetError, match="amount must be a number"):
        book.set(ADMIN, "user", "carol", "lots", GROUPS_OF)
    assert store.audit() == [] and "carol" not in book.current().users


def test_changes_survive_a_restart(config, store, tmp_path, clock):
    """A new store on the same file sees the same budgets and audit."""
    BudgetBook(config, store).set(ADMIN, "user", "carol", 42, GROUPS_OF)
    reopened = BudgetStore(store.path, clock)
    assert BudgetBook(config, reopened).current().users["carol"] == Budget(42.0)
    assert reopened.audit() == store.audit() and len(reopened.audit()) == 1


def test_stale_change_is_skipped_when_hub_config_lowers_the_pool(config, store):
    """A member budget recorded under a bigger pool no longer applies after the pool shrinks."""
    BudgetBook(config, store).set(ADMIN, "member", "team-a", 900, GROUPS_OF)
    smaller = config.with_entry("member", "team-a", None).with_entry("group", "team-a", 100)
    assert store.apply(smaller).groups["team-a"] == GroupBudget(Budget(100.0), None)

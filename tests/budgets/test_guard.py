"""The optional guard rail: refuses only new Ray clusters or large profiles, only at 100 %."""

from datetime import date, datetime, timezone

import pytest

from jupyter_remote_dev.budgets.config import Budget, BudgetError, Resolved
from jupyter_remote_dev.budgets.guard import (
    GuardRail,
    SpawnRequest,
    check_spawn,
    parse_guard_rail,
    raisers,
)
from jupyter_remote_dev.budgets.periods import project

NOW = datetime(2026, 12, 20, 12, tzinfo=timezone.utc)
OVER = project(Budget(200), {date(2026, 12, 3): 212.0}, NOW)
NEARLY = project(Budget(200), {date(2026, 12, 3): 199.0}, NOW)
FROM_GROUP = Resolved(Budget(200), "group", "team-a")
LEADS = {"team-a": ["lena", "alice"], "team-b": ["tom"]}
ON = GuardRail(enabled=True)
RAY = SpawnRequest("ray")
LARGE = SpawnRequest("server", cpu=8, profile="large")


def check(rail=ON, request=RAY, status=OVER, resolved=FROM_GROUP, user="alice"):
    return check_spawn(rail, request, user, ["team-a"], resolved, status, LEADS)


def test_off_by_default():
    """The default rail refuses nothing, even a Ray cluster over budget."""
    assert GuardRail().enabled is False
    assert check(rail=GuardRail()) is None


def test_refusal_names_the_budget_and_who_can_raise_it():
    """Ray at 100 %: a clear message with amount, source, spend, period end and the raisers."""
    assert check() == (
        "Your budget of $200.00 a month (group team-a's budget) is used up: $212.00 spent since "
        "01 December. New Ray clusters are refused until the month ends on 01 January or the "
        "budget is raised; lena or an admin can raise it. Running servers are not stopped."
    )


def test_large_profiles_refused_small_ones_allowed():
    """8 CPUs or a GPU is large; a 1-CPU profile still starts."""
    assert "Large profiles (large) are refused" in check(request=LARGE)
    gpu = check(request=SpawnRequest("server", cpu=1, gpu=1, profile="gpu"))
    assert "Large profiles (gpu) are refused" in gpu
    assert check(request=SpawnRequest("server", cpu=1, profile="small")) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": NEARLY},  # 99.5 %: not yet
        {"request": SpawnRequest("server", cpu=8, running=True)},  # running: never touched
        {"resolved": None, "status": None},  # no budget
        {"rail": GuardRail(enabled=True, refuse_ray=False)},
    ],
)
def test_nothing_refused_below_100_running_without_budget_or_ray_allowed(kwargs):
    """Below 100 %, an already running server, no budget, Ray not guarded: go ahead."""
    assert check(**kwargs) is None


def test_sources_and_raisers():
    """Own and default budgets are named; the user is never their own raiser."""
    own = check(resolved=Resolved(Budget(200), "user", "bob"), user="bob")
    assert "(your own budget)" in own and "alice or lena or an admin can raise it" in own
    default = check(resolved=Resolved(Budget(200), "default"), user="carol")
    assert "(the default budget)" in default
    assert raisers("zed", ["nobody"], LEADS) == ["an admin"]
    assert raisers("tom", ["team-a", "team-b"], LEADS) == ["alice", "lena", "an admin"]


def test_parse_guard_rail():
    """Off when absent; every field checked with a clear message."""
    assert parse_guard_rail(None) == GuardRail() == parse_guard_rail({})
    assert parse_guard_rail({"enabled": True, "large_cpu": 8}) == GuardRail(True, True, 8.0, 1.0)
    for spec, message in [
        ({"enabeld": True}, "guard_rail takes"),
        ({"enabled": "yes"}, "enabled must be true or false"),
        ({"large_gpu": 0}, "large_gpu must be a number above 0"),
        ({"large_cpu": True}, "large_cpu must be a number above 0"),
    ]:
        with pytest.raises(BudgetError, match=message):
            parse_guard_rail(spec)

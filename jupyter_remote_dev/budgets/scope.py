"""Who may read or set which budget: pure functions, no I/O.

An admin reads and sets every budget. A team lead (``leads``: the groups they lead, the spend
view's ``!group=`` filters) reads their groups' budgets and their members', and sets a member's
own budget or the group's ``member`` budget, never above the group's pooled budget (compared per
day), never the pooled budget itself, the default, or their own budget. Everyone reads their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import RemoteDevError
from .config import Budget, BudgetConfig, parse_budget


class BudgetScopeError(RemoteDevError):
    """The actor may not read or change this budget (403)."""

    status = 403


@dataclass(frozen=True)
class Actor:
    """Who asks: their name, whether they are an admin, and the groups they lead."""

    name: str
    admin: bool = False
    leads: frozenset[str] = frozenset()


def can_read_user(actor: Actor, user: str, groups_of_user: Iterable[str]) -> bool:
    """Whether ``actor`` may see ``user``'s budget and status."""
    return actor.admin or actor.name == user or bool(actor.leads & set(groups_of_user))


def check_change(
    actor: Actor,
    config: BudgetConfig,
    kind: str,
    name: str,
    spec: object | None,
    groups_of: Mapping[str, Iterable[str]],
) -> None:
    """Raise BudgetScopeError (403) or BudgetError (400) unless ``actor`` may make this change.

    ``spec`` is the new budget in the plain form (None removes the entry); ``groups_of`` maps a
    user to their groups (from the hub).
    """
    if actor.admin:
        return
    if kind == "user":
        _check_member_budget(actor, config, name, spec, set(groups_of.get(name, ())))
    elif kind == "member":
        _check_group_member_budget(actor, config, name, spec)
    else:
        raise BudgetScopeError(f"only an admin may change the {kind} budget")


def _beyond(budget: Budget | None, pools: list[Budget]) -> bool:
    """Whether ``budget`` (None: no budget, unlimited) exceeds every one of ``pools``."""
    return budget is None or not any(budget.per_day <= pool.per_day for pool in pools)


def _check_member_budget(actor, config, user, spec, groups) -> None:
    if user == actor.name:
        raise BudgetScopeError("you may not set your own budget; ask an admin")
    led = sorted(actor.leads & groups)
    if not led:
        raise BudgetScopeError(f"{user} is not a member of a group you lead")
    pools = [pool for pool in map(config.group_budget, led) if pool is not None]
    if not pools:
        raise BudgetScopeError(f"{', '.join(led)} has no budget of its own to set budgets within")
    if spec is None:  # removing it: what the user falls back to must stay within scope too
        fallback = config.with_entry("user", user, None).resolve(user, groups)
        if _beyond(fallback and fallback.budget, pools):
            raise BudgetScopeError(
                f"removing {user}'s budget would leave them beyond the budget of "
                f"{', '.join(led)}; set a smaller one instead"
            )
        return
    budget = parse_budget(spec, f"users.{user}")
    if _beyond(budget, pools):
        raise BudgetScopeError(
            f"{budget.amount:g} per {budget.period} for {user} is beyond the budget of "
            f"{', '.join(led)}; only an admin may set it"
        )


def _check_group_member_budget(actor, config, group, spec) -> None:
    if group not in actor.leads:
        raise BudgetScopeError(f"you do not lead the group {group}")
    pool = config.group_budget(group)
    if pool is None:
        raise BudgetScopeError(f"{group} has no budget of its own to set member budgets within")
    # removing it: members fall back to the default (or their other groups', checked per user)
    budget = config.default if spec is None else parse_budget(spec, f"member budget of {group}")
    if _beyond(budget, [pool]):
        raise BudgetScopeError(
            f"the member budget is beyond the budget of {group}; only an admin may set it"
        )

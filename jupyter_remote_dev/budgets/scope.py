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
from .config import BudgetConfig, parse_budget


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


def can_read_group(actor: Actor, group: str) -> bool:
    """Whether ``actor`` may see ``group``'s budgets and status."""
    return actor.admin or group in actor.leads


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


def _check_member_budget(actor, config, user, spec, groups) -> None:
    if user == actor.name:
        raise BudgetScopeError("you may not set your own budget; ask an admin")
    led = sorted(actor.leads & groups)
    if not led:
        raise BudgetScopeError(f"{user} is not a member of a group you lead")
    if spec is None:
        return
    budget = parse_budget(spec, f"users.{user}")
    pools = [pool for pool in map(config.group_budget, led) if pool is not None]
    if not pools:
        raise BudgetScopeError(f"{', '.join(led)} has no budget of its own to set budgets within")
    if not any(budget.per_day <= pool.per_day for pool in pools):
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
    if spec is not None and parse_budget(spec, f"member budget of {group}").per_day > pool.per_day:
        raise BudgetScopeError(
            f"the member budget is beyond the budget of {group}; only an admin may set it"
        )

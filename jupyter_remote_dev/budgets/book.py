"""The budgets in effect: hub config plus the changes made in the spend view, behind scopes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .config import BudgetConfig, Resolved
from .scope import Actor, BudgetScopeError, can_read_user, check_change
from .store import BudgetStore


def entry_of(config: BudgetConfig, kind: str, name: str) -> dict | None:
    """One entry in the plain form (None when there is none), for the audit's "before"."""
    if kind == "default":
        budget = config.default
    elif kind == "user":
        budget = config.users.get(name)
    else:
        group = config.groups.get(name)
        budget = group and (group.budget if kind == "group" else group.member)
    return budget.to_dict() if budget else None


class BudgetBook:
    """Budgets from ``configure(c, budgets=...)`` (``config``) overlaid by ``store``'s changes."""

    def __init__(self, config: BudgetConfig, store: BudgetStore):
        self.config = config
        self.store = store

    def current(self) -> BudgetConfig:
        """The budgets in effect now."""
        return self.store.apply(self.config)

    def set(
        self,
        actor: Actor,
        kind: str,
        name: str,
        spec: object | None,
        groups_of: Mapping[str, Iterable[str]],
    ) -> BudgetConfig:
        """Set (or with None remove) one budget as ``actor``; audited. Raises 400/403 errors."""
        config = self.current()
        check_change(actor, config, kind, name, spec, groups_of)
        changed = config.with_entry(kind, name, spec)  # validates before anything is written
        self.store.change(
            actor.name, kind, name, entry_of(config, kind, name), entry_of(changed, kind, name)
        )
        return changed

    def user_budget(self, actor: Actor, user: str, groups: Iterable[str]) -> Resolved | None:
        """``user``'s effective budget, if ``actor`` may read it (403 otherwise)."""
        groups = set(groups)
        if not can_read_user(actor, user, groups):
            raise BudgetScopeError(f"you may not read the budget of {user}")
        return self.current().resolve(user, groups)

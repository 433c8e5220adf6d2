"""Budgets per user, per group and a default, parsed from the plain form the hub config takes.

The form (every part optional)::

    budgets = {
        "currency": "USD",
        "default": {"amount": 50, "period": "month"},   # or just 50 (a month)
        "groups": {
            # the group's pooled budget, and optionally what each member gets
            "team-a": {"amount": 1000, "period": "month", "member": {"amount": 200}},
        },
        "users": {"alice": {"amount": 60, "period": "week"}},
        "thresholds": [50, 80, 100],                     # percent, alerts once per period each
    }

A user's own budget wins, then the ``member`` budgets of their groups (several: the most generous
per day), then the default. A group's ``amount`` is what its members may spend together.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from ..errors import RemoteDevError

PERIODS = ("month", "week")
KINDS = ("user", "group", "member", "default")
DEFAULT_THRESHOLDS = (50, 80, 100)
#: Days per period, only to compare budgets of different periods ("most generous per day").
NOMINAL_DAYS = {"month": 365.25 / 12, "week": 7.0}


class BudgetError(RemoteDevError):
    """A budget or budget configuration that is not valid (400)."""


@dataclass(frozen=True)
class Budget:
    """An amount to spend per calendar month or ISO week (UTC)."""

    amount: float
    period: str = "month"

    @property
    def per_day(self) -> float:
        return self.amount / NOMINAL_DAYS[self.period]

    def to_dict(self) -> dict:
        return {"amount": self.amount, "period": self.period}


@dataclass(frozen=True)
class GroupBudget:
    """A group's pooled budget and, optionally, the budget each member gets."""

    budget: Budget | None = None
    member: Budget | None = None

    def to_dict(self) -> dict:
        out = self.budget.to_dict() if self.budget else {}
        if self.member:
            out["member"] = self.member.to_dict()
        return out


@dataclass(frozen=True)
class Resolved:
    """A user's effective budget and where it comes from (``user``, ``group`` or ``default``)."""

    budget: Budget
    source: str
    name: str = ""


@dataclass(frozen=True)
class BudgetConfig:
    """All budgets; build one with :func:`parse_budgets`."""

    default: Budget | None = None
    groups: Mapping[str, GroupBudget] = field(default_factory=dict)
    users: Mapping[str, Budget] = field(default_factory=dict)
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    currency: str = "USD"

    def to_dict(self) -> dict:
        """The plain form again (``parse_budgets(c.to_dict()) == c``), e.g. for a service's env."""
        return {
            "currency": self.currency,
            **({"default": self.default.to_dict()} if self.default else {}),
            "groups": {name: group.to_dict() for name, group in self.groups.items()},
            "users": {name: budget.to_dict() for name, budget in self.users.items()},
            "thresholds": list(self.thresholds),
        }

    def resolve(self, user: str, groups: Iterable[str]) -> Resolved | None:
        """The budget that applies to ``user`` (a member of ``groups``), or None when none does."""
        if user in self.users:
            return Resolved(self.users[user], "user", user)
        offered = [(g, self.groups[g].member) for g in sorted(set(groups)) if g in self.groups]
        offered = [(g, b) for g, b in offered if b is not None]
        if offered:
            name, budget = max(offered, key=lambda item: item[1].per_day)
            return Resolved(budget, "group", name)
        if self.default is not None:
            return Resolved(self.default, "default")
        return None

    def group_budget(self, group: str) -> Budget | None:
        """The pooled budget of ``group`` (what its members may spend together), or None."""
        entry = self.groups.get(group)
        return entry.budget if entry else None

    def with_entry(self, kind: str, name: str, spec: object | None) -> BudgetConfig:
        """This configuration with one entry set (``spec`` parsed) or removed (None).

        Kinds (:data:`KINDS`): ``user`` (a user's own budget), ``group`` (a group's pooled
        budget), ``member`` (what each member of group ``name`` gets), ``default``.
        """
        if kind not in KINDS:
            raise BudgetError(f"budget kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if kind == "default":
            return replace(self, default=None if spec is None else parse_budget(spec, "default"))
        check_name(name, "group" if kind == "member" else kind)
        if kind == "user":
            users = dict(self.users)
            if spec is None:
                users.pop(name, None)
            else:
                users[name] = parse_budget(spec, f"users.{name}")
            return replace(self, users=users)
        groups = dict(self.groups)
        entry = groups.get(name, GroupBudget())
        budget = None if spec is None else parse_budget(spec, f"{kind} budget of {name}")
        entry = replace(entry, **{"budget" if kind == "group" else "member": budget})
        _check_group(entry, name)
        if entry.budget is None and entry.member is None:
            groups.pop(name, None)
        else:
            groups[name] = entry
        return replace(self, groups=groups)


def money(amount: float, currency: str = "USD") -> str:
    """``$1,234.50`` for dollars, ``EUR 1,234.50`` for other currencies."""
    return f"${amount:,.2f}" if currency == "USD" else f"{currency} {amount:,.2f}"


def check_name(name: object, kind: str) -> str:
    """``name`` when it is a usable user or group name; BudgetError otherwise."""
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise BudgetError(f"a {kind} budget needs a {kind} name, got {str(name)[:40]!r}")
    return name


def parse_budget(spec: object, where: str) -> Budget:
    """A :class:`Budget` from ``50`` or ``{"amount": 50, "period": "week"}``."""
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"amount", "period"}
        if unknown:
            raise BudgetError(f"budget {where}: unknown key(s) {sorted(unknown)}")
        amount, period = spec.get("amount"), spec.get("period", "month")
    else:
        amount, period = spec, "month"
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise BudgetError(f"budget {where}: amount must be a number, got {amount!r}")
    if not math.isfinite(amount) or amount < 0:
        raise BudgetError(f"budget {where}: amount must be a finite number >= 0, got {amount}")
    if period not in PERIODS:
        raise BudgetError(f"budget {where}: period must be month or week, got {period!r}")
    return Budget(float(amount), period)


def parse_group(spec: object, where: str) -> GroupBudget:
    """A :class:`GroupBudget` from ``1000`` or ``{"amount": ..., "member": ...}``."""
    if not isinstance(spec, Mapping):
        return GroupBudget(parse_budget(spec, where))
    member = spec.get("member")
    pooled = {k: v for k, v in spec.items() if k != "member"}
    group = GroupBudget(
        parse_budget(pooled, where) if pooled else None,
        parse_budget(member, f"{where}.member") if member is not None else None,
    )
    if group.budget is None and group.member is None:
        raise BudgetError(f"budget {where}: give an amount, a member budget or both")
    _check_group(group, where)
    return group


def _check_group(group: GroupBudget, where: str) -> None:
    if group.budget and group.member and group.member.per_day > group.budget.per_day:
        raise BudgetError(f"budget {where}: the member budget exceeds the group's own budget")


def parse_thresholds(value: object) -> tuple[int, ...]:
    """Percentages as a sorted tuple of distinct whole numbers between 1 and 1000."""
    if not isinstance(value, list | tuple) or not value:
        raise BudgetError(f"thresholds must be a non-empty list of percentages, got {value!r}")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 1000:
            raise BudgetError(f"thresholds: {item!r} is not a whole percentage from 1 to 1000")
    return tuple(sorted(set(value)))


def parse_budgets(spec: object) -> BudgetConfig:
    """A :class:`BudgetConfig` from the documented plain form; BudgetError names what is wrong."""
    if spec is None:
        return BudgetConfig()
    if not isinstance(spec, Mapping):
        raise BudgetError(f"budgets must be a mapping, got {type(spec).__name__}")
    unknown = set(spec) - {"currency", "default", "groups", "users", "thresholds"}
    if unknown:
        raise BudgetError(f"budgets: unknown key(s) {sorted(unknown)}")
    currency = spec.get("currency", "USD")
    if not isinstance(currency, str) or not currency.isalpha() or len(currency) != 3:
        raise BudgetError(f"budgets: currency must be a three-letter code, got {currency!r}")
    tables = {}
    for key in ("groups", "users"):
        table = spec.get(key, {})
        if not isinstance(table, Mapping):
            raise BudgetError(f"budgets: {key} must map names to budgets")
        for name in table:
            check_name(name, key[:-1])
        tables[key] = table
    default = spec.get("default")
    return BudgetConfig(
        default=parse_budget(default, "default") if default is not None else None,
        groups={n: parse_group(s, f"groups.{n}") for n, s in tables["groups"].items()},
        users={n: parse_budget(s, f"users.{n}") for n, s in tables["users"].items()},
        thresholds=parse_thresholds(spec.get("thresholds", list(DEFAULT_THRESHOLDS))),
        currency=currency.upper(),
    )

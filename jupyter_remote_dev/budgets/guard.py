"""The optional guard rail (off by default): at 100 % refuse new Ray clusters or large profiles.

A pure pre-spawn check: it answers a refusal message or None and never stops anything; a server
that is already running is never touched by a budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .config import BudgetError, Resolved, money
from .periods import EXCEEDED, BudgetStatus


@dataclass(frozen=True)
class GuardRail:
    """What is refused once a budget is used up; ``enabled`` False (the default) refuses nothing."""

    enabled: bool = False
    refuse_ray: bool = True
    large_cpu: float = 4.0  # a profile requesting at least this many CPUs is large
    large_gpu: float = 1.0  # ... or at least this many GPUs


def parse_guard_rail(spec: Mapping | None) -> GuardRail:
    """A GuardRail from ``{"enabled": true, "refuse_ray": true, "large_cpu": 4, "large_gpu": 1}``
    (every key optional; absent or empty: off)."""
    spec = spec or {}
    if not isinstance(spec, Mapping) or set(spec) - set(GuardRail.__dataclass_fields__):
        raise BudgetError(
            f"guard_rail takes {sorted(GuardRail.__dataclass_fields__)}, got {spec!r}"
        )
    for key in ("enabled", "refuse_ray"):
        if not isinstance(spec.get(key, False), bool):
            raise BudgetError(f"guard_rail: {key} must be true or false")
    for key in ("large_cpu", "large_gpu"):
        value = spec.get(key, 1.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise BudgetError(f"guard_rail: {key} must be a number above 0, got {value!r}")
    return GuardRail(**{k: float(v) if k.startswith("large") else v for k, v in spec.items()})


@dataclass(frozen=True)
class SpawnRequest:
    """What is about to start: a user ``server`` (its profile's request) or a ``ray`` cluster."""

    kind: str
    cpu: float = 0.0
    gpu: float = 0.0
    profile: str = ""
    running: bool = False  # the server is already up (a restart of the page, not a new spawn)


def raisers(user: str, groups: Iterable[str], leads: Mapping[str, Sequence[str]]) -> list[str]:
    """Who can raise ``user``'s budget: the leads of their groups (not themselves), then admins."""
    names = sorted({lead for g in set(groups) for lead in leads.get(g, ()) if lead != user})
    return [*names, "an admin"]


def check_spawn(
    rail: GuardRail,
    request: SpawnRequest,
    user: str,
    groups: Iterable[str],
    resolved: Resolved | None,
    status: BudgetStatus | None,
    leads: Mapping[str, Sequence[str]] | None = None,
    currency: str = "USD",
) -> str | None:
    """Why ``request`` is refused, or None when it may go ahead."""
    if not rail.enabled or request.running or resolved is None or status is None:
        return None
    if status.state != EXCEEDED:
        return None
    if request.kind == "ray":
        if not rail.refuse_ray:
            return None
        what = "New Ray clusters are"
    elif request.cpu >= rail.large_cpu or request.gpu >= rail.large_gpu:
        what = f"Large profiles ({request.profile or 'this one'}) are"
    else:
        return None
    budget = status.budget
    source = {"user": "your own", "group": f"group {resolved.name}'s", "default": "the default"}
    who = raisers(user, groups, leads or {})
    return (
        f"Your budget of {money(budget.amount, currency)} a {budget.period} "
        f"({source[resolved.source]} budget) is used up: {money(status.spent, currency)} spent "
        f"since {status.period_start:%d %B}. {what} refused until the {budget.period} ends on "
        f"{status.period_end:%d %B} or the budget is raised; {' or '.join(who)} can raise it. "
        "Running servers are not stopped."
    )

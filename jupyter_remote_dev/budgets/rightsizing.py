"""Capacity requested but unused, from the request and usage averages the backends return.

Allocation fields (contracts.md 1.6): ``cpuCoreRequestAverage``/``cpuCoreUsageAverage``/``cpuCost``,
``ramByteRequestAverage``/``ramByteUsageAverage``/``ramCost``, ``gpuRequestAverage``/
``gpuUsageAverage``/``gpuCost`` (OpenCost only; absent means no GPU figures), over ``minutes``.
Days are combined weighted by their minutes. Nothing requested means no hint (never "100 %").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..cost.model import number
from .config import money

GIB = 1024**3
#: resource -> (request field, usage field, cost fields, unit divisor, unit name)
RESOURCES = {
    "cpu": ("cpuCoreRequestAverage", "cpuCoreUsageAverage", ("cpuCost",), 1, "CPU"),
    "ram": ("ramByteRequestAverage", "ramByteUsageAverage", ("ramCost",), GIB, "GiB memory"),
    "gpu": ("gpuRequestAverage", "gpuUsageAverage", ("gpuCost",), 1, "GPU"),
}


@dataclass
class Usage:
    """One server's (or user's, or Ray cluster's) use of one resource, accumulated over days."""

    minutes: float = 0.0
    requested: float = 0.0  # request x minutes
    used: float = 0.0  # usage x minutes
    cost: float = 0.0

    @property
    def request_average(self) -> float:
        return self.requested / self.minutes if self.minutes else 0.0

    @property
    def usage_average(self) -> float:
        return self.used / self.minutes if self.minutes else 0.0


@dataclass(frozen=True)
class Profile:
    """A profile users may pick (the hub's profile list), by the capacity it requests."""

    name: str
    cpu: float
    ram_bytes: float


@dataclass(frozen=True)
class Part:
    """One resource that is mostly unused."""

    resource: str
    request: float  # average, in the unit named by RESOURCES
    usage: float
    cost: float
    unused_cost: float


@dataclass(frozen=True)
class Hint:
    """Right-sizing advice for ``name``; ``profile`` is a smaller profile that would do."""

    name: str
    parts: tuple[Part, ...]
    profile: str | None = None

    @property
    def unused_cost(self) -> float:
        return sum(part.unused_cost for part in self.parts)

    def message(self, span: str = "this week", currency: str = "USD") -> str:
        """``requested 4 CPU, used 0.3 on average this week: about $X of the $Y was unused``."""
        lines = []
        for part in self.parts:
            unit = RESOURCES[part.resource][4]
            lines.append(
                f"requested {part.request:.3g} {unit}, used {part.usage:.2g} on average {span}: "
                f"about {money(part.unused_cost, currency)} of the "
                f"{money(part.cost, currency)} was unused"
            )
        advice = (
            f"the {self.profile} profile would do" if self.profile else "a smaller profile would do"
        )
        return "; ".join(lines) + f"; {advice}"


def _minutes(item: dict) -> float:
    minutes = number(item.get("minutes"))
    if minutes > 0:
        return minutes
    try:
        start = datetime.fromisoformat(str(item["start"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(item["end"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return max((end - start).total_seconds() / 60, 0.0)


def accumulate(items: Iterable[tuple[str, dict]]) -> dict[str, dict[str, Usage]]:
    """Per name, per resource: the minute-weighted averages and summed cost of the items."""
    usage: dict[str, dict[str, Usage]] = {}
    for name, item in items:
        minutes = _minutes(item)
        per_resource = usage.setdefault(name, {})
        for resource, (request, used, costs, divisor, _) in RESOURCES.items():
            if request not in item:
                continue
            entry = per_resource.setdefault(resource, Usage())
            entry.minutes += minutes
            entry.requested += number(item.get(request)) / divisor * minutes
            entry.used += number(item.get(used)) / divisor * minutes
            entry.cost += sum(number(item.get(f)) for f in costs)
    return usage


def items_by_key(sets: Iterable) -> Iterable[tuple[str, dict]]:
    """(key, allocation) of every set, without idle capacity and unlabelled pods."""
    for allocation_set in sets:
        if not isinstance(allocation_set, dict):
            continue
        for key, item in allocation_set.items():
            if isinstance(item, dict) and "__idle__" not in key and "__unallocated__" not in key:
                yield key, item


@dataclass(frozen=True)
class Rules:
    """When a hint is given: usage below ``ratio`` of the request, and worth ``min_unused``."""

    ratio: float = 0.25
    min_unused: float = 0.01
    headroom: float = 2.0  # a suggested profile offers this many times the average usage
    profiles: Sequence[Profile] = field(default_factory=tuple)


def hints(usage: dict[str, dict[str, Usage]], rules: Rules = Rules()) -> list[Hint]:
    """Hints for every name whose use is far below its request, costliest waste first."""
    found = []
    for name, per_resource in usage.items():
        parts = []
        for resource, entry in per_resource.items():
            request, used = entry.request_average, entry.usage_average
            if request <= 0 or entry.cost <= 0 or used >= rules.ratio * request:
                continue
            unused = entry.cost * (1 - used / request)
            if unused >= rules.min_unused:
                parts.append(Part(resource, request, used, entry.cost, unused))
        if parts:
            found.append(Hint(name, tuple(parts), _smaller_profile(per_resource, rules)))
    return sorted(found, key=lambda hint: (-hint.unused_cost, hint.name))


def _smaller_profile(per_resource: dict[str, Usage], rules: Rules) -> str | None:
    cpu, ram = per_resource.get("cpu", Usage()), per_resource.get("ram", Usage())
    fitting = [
        p
        for p in rules.profiles
        if p.cpu >= cpu.usage_average * rules.headroom
        and p.ram_bytes / GIB >= ram.usage_average * rules.headroom
        and (p.cpu < cpu.request_average or p.ram_bytes / GIB < ram.request_average)
        and p.cpu <= cpu.request_average
        and p.ram_bytes / GIB <= ram.request_average
    ]
    return min(fitting, key=lambda p: (p.cpu, p.ram_bytes)).name if fitting else None

"""Normalise Kubecost/OpenCost allocation sets into one user's spend report (no I/O).

The allocation API answers a list of sets (one per day here), each an object keyed by aggregation
key. With ``aggregate=label:<k>`` the key is the bare label value (``alice``) on current versions
and ``<sanitized k>=alice`` on older ones; both are accepted. Every number may be ``null`` (NaN/Inf
in Go) and unknown fields are ignored (contracts.md section 1.6).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

#: The windows the panel and the endpoint accept; all are keywords or durations both products know.
WINDOWS = ("today", "7d", "30d", "week", "lastweek", "month")

#: Breakdown part -> the allocation fields that add up to it (cost plus its adjustment).
BREAKDOWN_FIELDS = {
    "cpu": ("cpuCost", "cpuCostAdjustment"),
    "ram": ("ramCost", "ramCostAdjustment"),
    "gpu": ("gpuCost", "gpuCostAdjustment"),
    "pv": ("pvCost", "pvCostAdjustment"),
    "network": ("networkCost", "networkCostAdjustment"),
    "load_balancer": ("loadBalancerCost", "loadBalancerCostAdjustment"),
    "shared": ("sharedCost",),
    "external": ("externalCost",),
}

_LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?")


def sanitize_label_name(name: str) -> str:
    """The Prometheus form of a label name, as the backends store it (``a.b/c`` -> ``a_b_c``)."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def is_valid_label_value(value: str) -> bool:
    """Whether ``value`` is a valid Kubernetes label value (empty, or <= 63 ASCII characters).

    The API server's check, so also safe inside a filter; ``fullmatch``: no trailing newline."""
    return len(value) <= 63 and _LABEL_VALUE.fullmatch(value) is not None


def number(value: object) -> float:
    """A JSON number as a float; ``null``, NaN, Inf, booleans and non-numbers count as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) else 0.0


def window_dates(window: str, today: date) -> list[date]:
    """The UTC days a window covers, oldest first (the frame of the daily chart)."""
    if window == "today":
        return [today]
    if window in ("7d", "30d"):
        days = int(window[:-1])
        return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    if window in ("week", "lastweek"):
        sunday = today - timedelta(days=(today.weekday() + 1) % 7)
        if window == "lastweek":
            sunday -= timedelta(days=7)
            return [sunday + timedelta(days=n) for n in range(7)]
        return [sunday + timedelta(days=n) for n in range((today - sunday).days + 1)]
    if window == "month":
        first = today.replace(day=1)
        return [first + timedelta(days=n) for n in range((today - first).days + 1)]
    raise ValueError(f"unknown window {window!r}; expected one of {', '.join(WINDOWS)}")


def user_items(allocation_set: object, label: str, user: str) -> list[dict]:
    """The allocations of ``user`` in one set, whichever key form the backend used.

    Aggregation keys may also be multi-part (``cluster-one/alice`` when a backend aggregates by
    cluster too); only the last part is compared. Idle, unallocated and other users' keys never
    match, which is the client-side filter for versions that ignore ``filter=``.
    """
    if not isinstance(allocation_set, dict):
        return []
    prefixed = f"{sanitize_label_name(label)}={user}"
    found = []
    for key, item in allocation_set.items():
        if not isinstance(key, str) or not isinstance(item, dict) or "__idle__" in key:
            continue
        last = key.rsplit("/", 1)[-1]
        if last == user or last == prefixed:
            found.append(item)
    return found


def item_date(item: dict) -> date | None:
    """The UTC day of an allocation's window start, or None when it carries no usable window."""
    window = item.get("window")
    start = window.get("start") if isinstance(window, dict) else None
    if not isinstance(start, str):
        start = item.get("start")
    if not isinstance(start, str):
        return None
    try:
        return datetime.fromisoformat(start.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def item_breakdown(item: dict) -> dict[str, float]:
    """Cost per resource of one allocation."""
    return {
        part: sum(number(item.get(f)) for f in fields) for part, fields in BREAKDOWN_FIELDS.items()
    }


def item_total(item: dict, breakdown: dict[str, float]) -> float:
    """``totalCost`` when the backend sent a number, else the sum of the parts."""
    total = item.get("totalCost")
    if isinstance(total, int | float) and not isinstance(total, bool) and math.isfinite(total):
        return float(total)
    return sum(breakdown.values())


REQUEST_FIELDS = ("cpuCoreRequestAverage", "ramByteRequestAverage", "gpuRequestAverage")


def requested_nothing(item: dict) -> bool:
    """True when an allocation says it requested no CPU, RAM or GPU (a local meter's server).

    OpenCost then calls any usage 100 % efficient (contracts.md 1.6); usage over no request means
    nothing, so such an item has no efficiency. Items without the request fields keep theirs.
    """
    present = [name for name in REQUEST_FIELDS if name in item]
    return bool(present) and all(number(item.get(name)) == 0 for name in present)


def efficiency_weight(item: dict, breakdown: dict[str, float]) -> tuple[float, float]:
    """(efficiency x weight, weight) with cpu+ram cost as the weight, as the backends define it.

    ``totalEfficiency = (cpuEff*cpuCost + ramEff*ramCost) / (cpuCost + ramCost)``, so summing these
    pairs over days gives the accumulated efficiency of the whole window. An item that requested
    nothing weighs nothing.
    """
    if requested_nothing(item):
        return 0.0, 0.0
    cpu, ram = breakdown["cpu"], breakdown["ram"]
    if "cpuEfficiency" in item or "ramEfficiency" in item:
        weighted = number(item.get("cpuEfficiency")) * cpu + number(item.get("ramEfficiency")) * ram
    else:
        weighted = number(item.get("totalEfficiency")) * (cpu + ram)
    return weighted, cpu + ram


def summarise(sets: list, label: str, user: str, window: str, today: date) -> dict:
    """Total, breakdown, efficiency and daily totals of ``user`` over daily allocation sets."""
    breakdown = dict.fromkeys(BREAKDOWN_FIELDS, 0.0)
    daily = dict.fromkeys(window_dates(window, today), 0.0)
    total = weighted = weight = 0.0
    for allocation_set in sets:
        for item in user_items(allocation_set, label, user):
            parts = item_breakdown(item)
            amount = item_total(item, parts)
            for part, value in parts.items():
                breakdown[part] += value
            total += amount
            day = item_date(item)
            if day is not None:
                daily[day] = daily.get(day, 0.0) + amount
            item_weighted, item_weight = efficiency_weight(item, parts)
            weighted += item_weighted
            weight += item_weight
    return {
        "total": round(total, 5),
        "breakdown": {part: round(value, 5) for part, value in breakdown.items()},
        "efficiency": round(weighted / weight, 5) if weight > 0 else None,
        "daily": [{"date": d.isoformat(), "total": round(daily[d], 5)} for d in sorted(daily)],
    }

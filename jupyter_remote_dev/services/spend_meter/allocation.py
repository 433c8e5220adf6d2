"""The allocation API's answer from the metered history (contracts.md sections 1.2-1.7).

Each user server is what a pod is to OpenCost: it carries the cost labels the hub hooks would put
on the pod, and lives in cluster ``local``, namespace ``jupyterhub``, on this machine's node. CPU
time is priced per core-hour and resident memory per GiB-hour. A local server has no resource
requests, so, as in OpenCost, usage is what is charged and efficiency is 1 wherever there is use.
"""

from __future__ import annotations

import socket
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ...cost.model import sanitize_label_name
from ...hub.labels import dns_slug
from .filters import parse_filter
from .pricing import Rates
from .store import MINUTE, Source, UsageStore
from .windows import (
    MAX_SETS,
    ParameterError,
    parse_accumulate,
    parse_step,
    parse_window,
    period_start,
    steps,
)

AGGREGATE_FIELDS = ("cluster", "node", "namespace", "pod", "container", "controllerKind",
                    "controllerName")  # fmt: skip
ZERO_FIELDS = (
    "cpuCoreRequestAverage", "cpuCostAdjustment", "cpuCostIdle", "gpuCount", "gpuRequestAverage",
    "gpuUsageAverage", "gpuHours", "gpuCost", "gpuCostAdjustment", "gpuCostIdle", "gpuEfficiency",
    "networkTransferBytes", "networkReceiveBytes", "networkCost", "networkCrossZoneCost",
    "networkCrossRegionCost", "networkInternetCost", "networkCostAdjustment", "loadBalancerCost",
    "loadBalancerCostAdjustment", "pvBytes", "pvByteHours", "pvCost", "pvCostAdjustment",
    "ramByteRequestAverage", "ramCostAdjustment", "ramCostIdle", "externalCost", "sharedCost",
)  # fmt: skip


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _round(value: float) -> float:
    return round(value * 1e5) / 1e5


def _next_period(moment: datetime, period: str) -> datetime:
    if period in ("hour", "day", "week"):
        return moment + timedelta(**{period + "s": 1})
    months = 1 if period == "month" else 3
    month = moment.month - 1 + months
    return moment.replace(year=moment.year + month // 12, month=month % 12 + 1)


@dataclass(frozen=True)
class Query:
    """A parsed allocation request."""

    windows: list[tuple[datetime, datetime]]
    aggregate: list[str]
    predicate: object


class Ledger:
    """Answers allocation queries over a :class:`UsageStore`."""

    def __init__(self, store: UsageStore, rates: Rates, node: str | None = None):
        self.store = store
        self.rates = rates
        self.node = node or socket.gethostname()

    def parse(self, params: dict[str, str], now: datetime) -> Query:
        """Check and parse the query parameters; raises :class:`ParameterError`."""
        if not params.get("window"):
            raise ParameterError("window", "missing window")
        window = parse_window(params["window"], now)
        accumulate = parse_accumulate(params.get("accumulate", ""))
        if accumulate == "all":
            windows = [window]
        elif accumulate:
            windows, start = [], period_start(window[0], accumulate)
            while start < window[1]:
                if len(windows) == MAX_SETS:
                    raise ParameterError("accumulate", f"more than {MAX_SETS} sets")
                end = _next_period(start, accumulate)
                windows.append((max(start, window[0]), min(end, window[1])))
                start = end
        else:
            windows = steps(window, parse_step(params.get("step", ""), window))
        aggregate = [a.strip() for a in params.get("aggregate", "").split(",") if a.strip()]
        for part in aggregate:
            if part not in AGGREGATE_FIELDS and not part.startswith(("label:", "annotation:")):
                raise ParameterError("aggregate", f"unknown aggregation {part!r}")
        return Query(windows, aggregate, parse_filter(params.get("filter", "")))

    def properties(self, source: Source) -> dict:
        """The pod-like properties of a source (label names sanitized, as OpenCost stores them)."""
        user, server = source.user, source.server
        pod = f"jupyter-{dns_slug(user)}" + (f"--{dns_slug(server)}" if server else "")
        return {
            "cluster": "local",
            "node": self.node,
            "namespace": "jupyterhub",
            "pod": pod,
            "container": "notebook",
            "labels": {sanitize_label_name(k): v for k, v in source.labels.items()},
            "annotations": {sanitize_label_name(k): v for k, v in source.annotations.items()},
        }

    def _key(self, properties: dict, aggregate: list[str]) -> str:
        if not aggregate:
            aggregate = ["cluster", "node", "namespace", "pod", "container"]
        parts = []
        for part in aggregate:
            kind, _, name = part.partition(":")
            if name:
                value = properties[kind + "s"].get(sanitize_label_name(name))
            else:
                value = properties.get(part)
            parts.append(value or "__unallocated__")
        return "/".join(parts)

    def sets(self, query: Query, user: str | None) -> list[dict]:
        """One allocation set per window of the query, of ``user``'s servers only (None: all)."""
        keys: dict[Source, tuple[str, dict] | None] = {}  # one server's labels: one answer
        result = []
        for start, end in query.windows:
            groups: dict[str, list] = defaultdict(list)
            for totals in self.store.totals(start.timestamp(), end.timestamp(), user):
                if totals.source not in keys:
                    properties = self.properties(totals.source)
                    keys[totals.source] = (
                        (self._key(properties, query.aggregate), properties)
                        if query.predicate(properties)
                        else None
                    )
                found = keys[totals.source]
                if found:
                    groups[found[0]].append((totals, found[1]))
            result.append(
                {key: self._allocation(key, members, start, end) for key, members in groups.items()}
            )
        return result

    def _allocation(self, key: str, members: list, start: datetime, end: datetime) -> dict:
        """One AllocationJSON object for the rows aggregated under ``key``."""
        rows = [totals for totals, _ in members]
        cpu_hours = sum(r.cpu_core_seconds for r in rows) / 3600
        ram_byte_hours = sum(r.ram_byte_seconds for r in rows) / 3600
        first = max(min(r.first_minute for r in rows), start.timestamp())
        last = min(max(r.last_minute for r in rows) + MINUTE, end.timestamp())
        hours = max(last - first, 0) / 3600
        cpu_cost = self.rates.cpu_cost(cpu_hours * 3600)
        ram_cost = self.rates.ram_cost(ram_byte_hours * 3600)
        cpu_eff = 1.0 if cpu_hours > 0 else 0.0
        ram_eff = 1.0 if ram_byte_hours > 0 else 0.0
        weight = cpu_cost + ram_cost
        common = {
            name: value
            for name, value in members[0][1].items()
            if not isinstance(value, dict) and all(p.get(name) == value for _, p in members)
        }
        allocation = dict.fromkeys(ZERO_FIELDS, 0.0)
        allocation.update(
            name=key,
            properties=common,
            window={"start": _iso(start), "end": _iso(end)},
            start=_iso(datetime.fromtimestamp(first, timezone.utc)),
            end=_iso(datetime.fromtimestamp(last, timezone.utc)),
            minutes=_round(hours * 60),
            cpuCores=_round(cpu_hours / hours) if hours else 0.0,
            cpuCoreUsageAverage=_round(cpu_hours / hours) if hours else 0.0,
            cpuCoreHours=_round(cpu_hours),
            cpuCost=_round(cpu_cost),
            cpuEfficiency=cpu_eff,
            ramBytes=_round(ram_byte_hours / hours) if hours else 0.0,
            ramByteUsageAverage=_round(ram_byte_hours / hours) if hours else 0.0,
            ramByteHours=_round(ram_byte_hours),
            ramCost=_round(ram_cost),
            ramEfficiency=ram_eff,
            totalCost=_round(cpu_cost + ram_cost),
            totalEfficiency=(
                _round((cpu_eff * cpu_cost + ram_eff * ram_cost) / weight) if weight else 0.0
            ),
            rawAllocationOnly=None,
            pvs=None,
        )
        return allocation

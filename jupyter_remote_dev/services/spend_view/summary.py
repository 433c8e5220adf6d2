"""Spend per user and per team, week over week, from allocation sets (no I/O, no tornado).

The sets come from ``aggregate=label:<user label>,label:<team label>``: each key is
``<user>/<team>``, either part ``__unallocated__`` where the pod lacks the label, and on older
versions ``<sanitized label>=<value>`` (contracts.md 1.4). ``__idle__`` keys are the cluster's
unallocated capacity, not anyone's server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone

from ...budgets.rightsizing import accumulate, hints
from ...cost.model import number, requested_nothing, sanitize_label_name

UNALLOCATED = "__unallocated__"


@dataclass
class UserSpend:
    """One user's spend in one week, with the week before for comparison."""

    user: str
    team: str
    cost: float = 0.0
    previous: float = 0.0
    efficiency: float | None = None
    idle: bool = False
    hint: str | None = None  # right-sizing advice when usage is far below the request

    @property
    def change(self) -> float | None:
        """Relative change against the week before (None when there was no spend then)."""
        return (self.cost - self.previous) / self.previous if self.previous else None


@dataclass
class _Usage:
    cost: float = 0.0
    weighted_efficiency: float = 0.0  # totalEfficiency x (cpu + ram cost)
    weight: float = 0.0

    @property
    def efficiency(self) -> float | None:
        """Usage over request, None where nothing was requested (a local meter's servers)."""
        return self.weighted_efficiency / self.weight if self.weight else None


def iso_week(week: str) -> tuple[datetime, datetime]:
    """The UTC start and end of ISO week ``YYYY-Www``; ValueError for anything else."""
    try:
        year, number_part = week.split("-W")
        monday = date.fromisocalendar(int(year), int(number_part), 1)
    except ValueError as error:
        raise ValueError(f"week must look like 2026-W48, got {week[:20]!r}") from error
    start = datetime.combine(monday, time(), tzinfo=timezone.utc)
    return start, start + timedelta(days=7)


def week_name(moment: datetime) -> str:
    """The ISO week ``YYYY-Www`` that ``moment`` falls in."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def last_complete_week(now: datetime) -> str:
    """The ISO week before the one ``now`` falls in."""
    return week_name(now - timedelta(days=7))


def window(week: str) -> str:
    """The allocation API window (an RFC3339 pair, contracts.md 1.3) of an ISO week."""
    start, end = iso_week(week)
    return f"{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"


def _key_parts(key: str, labels: tuple[str, str]) -> tuple[str, str]:
    """(user, team) from a multi-aggregation key, accepting the ``label=value`` form."""
    parts = key.split("/", 1) + [UNALLOCATED]
    values = []
    for part, label in zip(parts[:2], labels, strict=True):
        values.append(part.removeprefix(sanitize_label_name(label) + "="))
    return values[0], values[1]


def _usage(
    sets: list, labels: tuple[str, str]
) -> tuple[dict[tuple[str, str], _Usage], float | None]:
    """Usage per (user, team) over all sets, and the cluster's idle cost (None: not reported)."""
    usage: dict[tuple[str, str], _Usage] = {}
    cluster_idle = None
    for allocation_set in sets:
        if not isinstance(allocation_set, dict):
            continue
        for key, item in allocation_set.items():
            if not isinstance(item, dict):
                continue
            cost = number(item.get("totalCost"))
            if "__idle__" in key:
                cluster_idle = (cluster_idle or 0.0) + cost
                continue
            entry = usage.setdefault(_key_parts(key, labels), _Usage())
            entry.cost += cost
            if requested_nothing(item):
                continue
            weight = number(item.get("cpuCost")) + number(item.get("ramCost"))
            entry.weighted_efficiency += number(item.get("totalEfficiency")) * weight
            entry.weight += weight
    return usage, cluster_idle


def _hints(sets: list, labels: tuple[str, str], visible, currency: str) -> dict[str, str]:
    """The right-sizing sentence per visible user whose usage is far below their request."""
    items = []
    for allocation_set in sets:
        if not isinstance(allocation_set, dict):
            continue
        for key, item in allocation_set.items():
            user, team = _key_parts(key, labels)
            if isinstance(item, dict) and "__idle__" not in key and user != UNALLOCATED:
                if visible(user, team):
                    items.append((user, item))
    return {h.name: h.message("this week", currency) for h in hints(accumulate(items))}


def build_view(
    week: str,
    current: list,
    previous: list,
    labels: tuple[str, str],
    visible: Callable[[str, str], bool],
    idle_threshold: float,
    show_cluster: bool,
    currency: str = "USD",
) -> dict:
    """The spend view of ``week`` for one viewer: only users for which ``visible(user, team)``.

    A user's server counts as idle when its cost-weighted efficiency (usage over request) for the
    week is below ``idle_threshold``; the cost of idle servers is what those users' servers cost.
    A server that requested nothing (the local meter's) has no efficiency and is never called idle.
    A user using far less than they request gets a right-sizing ``hint`` (budgets/rightsizing.py).
    Idle capacity is None when the backend reported no ``__idle__``. Cluster-wide figures (idle
    capacity, unlabelled pods) only go to viewers who see everyone.
    """
    now_usage, cluster_idle = _usage(current, labels)
    before_usage, cluster_idle_before = _usage(previous, labels)
    advice = _hints(current, labels, visible, currency)
    users: dict[tuple[str, str], UserSpend] = {}
    for key in now_usage.keys() | before_usage.keys():
        user, team = key
        if user == UNALLOCATED or not visible(user, team):
            continue
        now, before = now_usage.get(key, _Usage()), before_usage.get(key, _Usage())
        users[key] = UserSpend(user, team, now.cost, before.cost, now.efficiency)
        users[key].hint = advice.get(user)
        users[key].idle = now.cost > 0 and now.weight > 0 and now.efficiency < idle_threshold
    rows = sorted(users.values(), key=lambda row: (-row.cost, row.user))
    teams: dict[str, dict] = {}
    for row in rows:
        team = teams.setdefault(
            row.team, {"team": row.team, "cost": 0.0, "previous": 0.0, "users": 0}
        )
        team["cost"] += row.cost
        team["previous"] += row.previous
        team["users"] += 1
    idle_rows = [row for row in rows if row.idle]
    view = {
        "week": week,
        "total": sum(row.cost for row in rows),
        "previous_total": sum(row.previous for row in rows),
        "users": [_row(row) for row in rows],
        "teams": sorted(teams.values(), key=lambda team: (-team["cost"], team["team"])),
        "top_spenders": [_row(row) for row in rows[:5] if row.cost > 0],
        "idle_servers": {"cost": sum(row.cost for row in idle_rows), "users": len(idle_rows)},
        "idle_threshold": idle_threshold,
    }
    if show_cluster:
        unallocated = sum(u.cost for (user, _), u in now_usage.items() if user == UNALLOCATED)
        view["cluster"] = {
            "idle_capacity": cluster_idle,
            "idle_capacity_previous": cluster_idle_before,
            "unallocated": unallocated,
        }
    return view


def _row(row: UserSpend) -> dict:
    return {**asdict(row), "change": row.change}

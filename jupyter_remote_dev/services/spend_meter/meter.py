"""Sampling the user servers' process trees with psutil and recording the use between samples."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psutil

from .store import Baseline, Usage, UsageStore

log = logging.getLogger(__name__)

#: A process created this long after the hub says the server started is not that server (the
#: server's PID was reused after it died without the hub noticing).
PID_REUSE_SLACK = 600.0


@dataclass(frozen=True)
class Server:
    """A running user server as the hub reports it."""

    user: str
    name: str
    pid: int
    started: float | None = None
    labels: dict = field(default_factory=dict)
    annotations: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TreeUsage:
    """CPU time and resident memory of a process tree at one moment."""

    created: float
    cpu_seconds: float
    rss: int


def _process_cpu(process: psutil.Process) -> float:
    """CPU seconds of a process and of the children it has reaped (they left the tree into it)."""
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def tree_usage(pid: int, started: float | None = None) -> TreeUsage | None:
    """The usage of ``pid`` and all its descendants, or None if it is gone or not that server.

    A descendant that exits is reaped by its parent, whose ``children_*`` times then hold its CPU
    time, so the tree's total only falls when a process is orphaned (it left the tree).
    """
    try:
        root = psutil.Process(pid)
        created = root.create_time()
        if started is not None and created > started + PID_REUSE_SLACK:
            return None
        processes = [root, *root.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    cpu, rss = 0.0, 0
    for process in processes:
        try:
            with process.oneshot():
                cpu += _process_cpu(process)
                rss += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue  # exited between listing and reading: its parent now holds its CPU time
    return TreeUsage(created, cpu, rss)


class Meter:
    """Turns successive samples of each server into usage rows in the store."""

    def __init__(self, store: UsageStore):
        self.store = store
        self.baselines = store.baselines()

    def sample(self, servers: list[Server], now: float) -> None:
        """Record each server's use since its last sample (since it started, if never seen)."""
        current: dict[tuple[str, str], Baseline] = {}
        usages = []
        for server in servers:
            usage = tree_usage(server.pid, server.started)
            if usage is None:
                continue
            key = (server.user, server.name)
            before = self.baselines.get(key)
            if before and (before.pid, before.created) == (server.pid, usage.created):
                start = min(before.sampled_at, now)
                cpu = max(0.0, usage.cpu_seconds - before.cpu_seconds)
                ram = (before.rss + usage.rss) / 2 * (now - start)
            else:
                start = min(usage.created, now)
                cpu = usage.cpu_seconds
                ram = usage.rss * (now - start)
            meta = {"labels": server.labels, "annotations": server.annotations}
            usages.append(Usage(server.user, server.name, meta, (start, now), cpu, ram))
            current[key] = Baseline(server.pid, usage.created, usage.cpu_seconds, usage.rss, now)
        self.store.record(usages, baselines=current)
        self.baselines = current

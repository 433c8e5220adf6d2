"""Size limits of the team repository (checked by the pre-receive hook) and its garbage collection.

Settings, read from the team-git service's environment (``service_definition`` passes the hub's):

- ``JUPYTER_REMOTE_DEV_GIT_MAX_PUSH_MIB`` (default 50): what one push may bring (its objects as
  received, compressed),
- ``JUPYTER_REMOTE_DEV_GIT_MAX_BRANCH_MIB`` (default 200): what a branch may hold beyond ``main``
  (the objects reachable from it and not from ``main``, as stored),
- ``JUPYTER_REMOTE_DEV_GIT_GC_INTERVAL`` (seconds, default 600): how often ``git gc`` deletes
  unreachable objects (those a forced update left behind) when something was pushed since.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from .repo import MAIN, run_git

log = logging.getLogger("jupyter_remote_dev.git_remote")
MIB = 1024 * 1024
PUSH_ENV = "JUPYTER_REMOTE_DEV_GIT_MAX_PUSH_MIB"
BRANCH_ENV = "JUPYTER_REMOTE_DEV_GIT_MAX_BRANCH_MIB"
GC_ENV = "JUPYTER_REMOTE_DEV_GIT_GC_INTERVAL"


@dataclass(frozen=True)
class Limits:
    """The service's size limits (MiB) and gc interval (seconds)."""

    max_push_mib: float = 50.0
    max_branch_mib: float = 200.0
    gc_interval: float = 600.0

    ENV = {"max_push_mib": PUSH_ENV, "max_branch_mib": BRANCH_ENV, "gc_interval": GC_ENV}

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Limits:
        """The settings in ``env``, defaults for those unset; ValueError naming a bad one."""
        values = {}
        for field in fields(cls):
            name = cls.ENV[field.name]
            if name not in env:
                continue
            try:
                value = float(env[name])
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number, got {env[name]!r}")
            values[field.name] = value
        return cls(**values)

    def environment(self) -> dict[str, str]:
        """The settings as environment variables (for the service and its hook)."""
        return {self.ENV[f.name]: f"{getattr(self, f.name):g}" for f in fields(self)}


def _mib(size: int) -> str:
    return f"{size / MIB:.1f} MiB"


def quarantine_size(path: str | None) -> int:
    """Bytes of the objects a push brought: git keeps them in a quarantine folder until the
    pre-receive hook accepts the push (and deletes them if it refuses)."""
    if not path:
        return 0
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def branch_size(new: str) -> int:
    """Bytes (as stored) of the objects reachable from ``new`` and not from ``main``; run in the
    hook, so the quarantined objects are seen too."""
    found = subprocess.run(
        ["git", "rev-list", "--objects", "--disk-usage", new, "--not", f"refs/heads/{MAIN}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(found.stdout.strip() or 0)


def size_refusals(limits: Limits, updates: list[str], quarantine: str | None) -> list[str]:
    """Why the push (pre-receive lines ``<old> <new> <ref>``, already allowed by the ref policy)
    is too large; [] = within the limits."""
    problems = []
    pushed = quarantine_size(quarantine)
    if pushed > limits.max_push_mib * MIB:
        problems.append(
            f"push refused: it brings {_mib(pushed)}, over the limit of "
            f"{limits.max_push_mib:g} MiB per push ({PUSH_ENV})"
        )
    for line in updates:
        _, new, ref = line.split()
        size = branch_size(new)
        if size > limits.max_branch_mib * MIB:
            problems.append(
                f"push to {ref} refused: the branch would hold {_mib(size)} beyond {MAIN}, over "
                f"the limit of {limits.max_branch_mib:g} MiB per branch ({BRANCH_ENV})"
            )
    return problems


class Housekeeper:
    """Runs ``git gc --prune=now`` on the repository every ``interval`` seconds when something
    was pushed since the last one (and once after start).

    Unreachable objects are deleted at once, so no push may be in flight: a gc waits for pushes
    to end, and a push that starts during a gc waits for it (``push_started``/``push_ended``
    around each ``git-receive-pack``).
    """

    def __init__(self, repo: Path, interval: float):
        self.repo, self.interval = repo, interval
        self.lock = asyncio.Lock()
        self.pushes = 0
        self.due = True  # pushes before a restart may have left garbage

    async def push_started(self) -> None:
        async with self.lock:
            self.pushes += 1

    def push_ended(self) -> None:
        self.pushes -= 1
        self.due = True

    async def collect(self) -> bool:
        """Run the gc if it is due and no push is in flight; whether it ran."""
        async with self.lock:
            if not self.due or self.pushes:
                return False
            self.due = False
            try:
                await asyncio.to_thread(run_git, "--git-dir", str(self.repo), "gc", "--quiet",
                                        "--prune=now")  # fmt: skip
            except subprocess.CalledProcessError as error:
                self.due = True
                log.warning("git gc failed: %s", error.stderr.decode(errors="replace").strip())
                return False
            return True

    async def run(self) -> None:
        """Collect every ``interval`` seconds, until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            await self.collect()

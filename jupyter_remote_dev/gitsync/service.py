"""The sync engine inside an asyncio server: cycles in a worker thread, a timer, a final cycle.

Tornado-free; the extension owns one :class:`GitSyncService` and the handlers call it.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from .engine import GitSyncEngine
from .errors import GitSyncBusyError, GitSyncError
from .record import forget_pointer, record_settings

LOCK_WAIT_SECONDS = 1.0


class GitSyncService:
    """Runs :class:`GitSyncEngine` cycles without blocking the event loop, one at a time."""

    def __init__(
        self,
        sync: GitSyncEngine | None,
        interval: float,
        workspace: Path,
        log: logging.Logger,
        runtime_dir: str | None = None,
        stop_timeout: float = 60.0,
    ):
        self.sync = sync
        self.interval = interval
        self.workspace = workspace
        self.log = log
        self.runtime_dir = runtime_dir
        self.stop_timeout = stop_timeout
        self._busy = asyncio.Lock()
        self._timer: asyncio.Task | None = None
        self._initialized = False  # until an init succeeds, every cycle is an init (idempotent)

    @property
    def configured(self) -> bool:
        return self.sync is not None

    def status(self) -> dict:
        """The ``git/status`` object; blocking (reads git), so call it via ``asyncio.to_thread``."""
        if self.sync is None:
            return {
                "configured": False,
                "repo": None,
                "workspace": str(self.workspace),
                "branch": None,
                "upstream": None,
                "ahead": 0,
                "behind": 0,
                "running": False,
                "last_cycle": None,
                "conflicts": [],
                "skipped": [],
            }
        status = self.sync.status()
        status["running"] = status["running"] or self._busy.locked()
        return status

    async def run_cycle(self, wait: float = LOCK_WAIT_SECONDS, init: bool = False):
        """One cycle in a worker thread; :class:`GitSyncBusyError` if one is running.

        The first cycle of this process is an init (clone or adopt the workspace), and so is
        every one after it until an init succeeds: a remote that was down at start-up must not
        leave a half-made clone that plain cycles refuse.
        """
        if self._busy.locked():
            raise GitSyncBusyError("a git sync cycle is already running")
        async with self._busy:
            first = init or not self._initialized or not self.sync.git_dir.is_dir()
            step = self.sync.init if first else self.sync.cycle
            report = await asyncio.to_thread(step, wait)
            self._initialized = self._initialized or report.result != "error"
            if first:  # the clone exists now: record the settings in it
                await asyncio.to_thread(self.record_settings)
            return report

    def record_settings(self) -> None:
        """Record the effective settings for the CLI and the preStop hook (see :mod:`.record`)."""
        if self.sync is None:
            return
        try:
            record_settings(self.sync.settings, self.runtime_dir)
        except OSError as error:
            self.log.warning("git sync: cannot record the settings for the CLI: %s", error)

    def start(self) -> None:
        """Record the settings; start the periodic loop (an init first) if it has an interval."""
        self.record_settings()
        if self.sync is not None and self.interval > 0 and self._timer is None:
            self._timer = asyncio.ensure_future(self._loop())

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_cycle()
            except GitSyncBusyError:
                self.log.info("git sync: a cycle is already running; skipping this tick")
            except Exception:
                self.log.exception("git sync: the periodic cycle failed")
            await asyncio.sleep(self.interval)

    async def stop(self, final_cycle: bool = True, timeout: float | None = None) -> None:
        """Stop the timer and, if configured, run one last cycle (waiting for a running one),
        bounded by ``timeout`` (default: ``stop_timeout``)."""
        timeout = self.stop_timeout if timeout is None else timeout
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
            self._timer = None
        if self.sync is None:
            return
        if final_cycle:
            await self._final_cycle(timeout)
        if self.runtime_dir is not None:
            forget_pointer(self.runtime_dir, self.sync.workspace)

    async def _final_cycle(self, timeout: float) -> None:
        async def final() -> None:
            async with self._busy:
                await asyncio.to_thread(self.sync.cycle, timeout)

        try:
            await asyncio.wait_for(final(), timeout)
        except asyncio.TimeoutError:
            self.log.warning("git sync: the final cycle did not finish within %ss", timeout)
        except GitSyncError as error:
            self.log.warning("git sync: no final cycle: %s", error.message)

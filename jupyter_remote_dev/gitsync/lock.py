"""One sync cycle at a time per workspace, across processes: an ``fcntl.flock`` on a file in .git.

``flock`` locks belong to an open file description, so two opens in one process also exclude each
other, and the kernel drops the lock when its holder dies: a crashed cycle never leaves it stuck.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from .errors import GitSyncBusyError

POLL_SECONDS = 0.05


class SyncLock:
    """Exclusive lock on ``path``; ``acquire(wait)`` raises :class:`GitSyncBusyError` on timeout."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self, wait: float = 0.0) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise GitSyncBusyError("a git sync cycle is already running") from None
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def is_held_elsewhere(self) -> bool:
        """True if another holder has the lock right now (probes without blocking)."""
        if self._fd is not None or not self.path.exists():
            return False
        fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

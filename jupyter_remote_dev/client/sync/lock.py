"""The lock of one project's state (``.jupyter-remote-dev/lock``): held while a process reads,
changes and writes it, like git's ``index.lock``.

An OS file lock that the kernel drops when its holder dies, so a killed process never leaves the
project locked. It is filelock's lock: the first time (no lock file yet), on Windows and where a
file system has no ``flock``, filelock takes it as it always did; after that the lock file stays,
and ``flock`` on it, which is what filelock's Unix lock takes, is taken directly. filelock is
imported only in those first cases: its imports alone cost ~15 ms of start-up.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .state import STATE_DIR

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_FILE = "lock"


class ProjectLock:
    """The lock of the project at ``root``; reentrant, for one thread.

    ``on_wait`` is called once when another process holds it, before waiting for it."""

    def __init__(self, root: Path, on_wait: Callable[[], None] = lambda: None):
        self.folder = root / STATE_DIR
        self.on_wait = on_wait
        self.depth = 0
        self.held = None  # the flock'ed descriptor, or filelock's lock

    def acquire(self) -> None:
        if self.depth == 0:
            self.folder.mkdir(exist_ok=True)
            held = self._flock()
            self.held = self._filelock() if held is None else held
        self.depth += 1

    def release(self) -> None:
        if self.depth == 0:
            return
        self.depth -= 1
        if self.depth == 0:
            held, self.held = self.held, None
            if isinstance(held, int):
                os.close(held)  # frees the flock
            else:
                held.release()

    def __enter__(self) -> ProjectLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _flock(self) -> int | None:
        """The existing lock file's descriptor, locked; None (filelock's turn) when there is no
        lock file yet, no ``flock``, or anything else unusual."""
        if fcntl is None:
            return None
        try:
            fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.on_wait()
                fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _filelock(self):
        from filelock import FileLock, Timeout  # see the module's docstring

        lock = FileLock(self.folder / LOCK_FILE)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            self.on_wait()
            lock.acquire()
        return lock

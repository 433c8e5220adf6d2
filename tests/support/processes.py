"""Stopping a test's server processes: the whole process group, SIGTERM first, then SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


def stop_group(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM ``process``'s group (it was started in a session of its own); SIGKILL after
    ``timeout`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

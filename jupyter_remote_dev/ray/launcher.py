"""What a local Ray launcher reports while its head comes up: starting, running, failed, stopped.

The launcher (``jupyter_remote_dev.services.ray_head``) writes one small JSON file; the server
reads it so that ``GET ray`` can say "starting" instead of "unreachable" while the head boots.
A "starting" or "running" written by a process that no longer exists is stale and ignored.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

STATE_ENV = "JUPYTER_REMOTE_DEV_RAY_STATE_FILE"
STATES = ("starting", "running", "failed", "stopped")


def write_state(path: Path, state: str, message: str = "") -> None:
    """Replace the state file atomically with ``state`` (one of STATES) from this process."""
    if state not in STATES:
        raise ValueError(f"unknown launcher state {state!r}")
    record = {"state": state, "message": message, "pid": os.getpid(), "since": time.time()}
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(record))
    os.replace(partial, path)


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(path: str | Path | None) -> dict | None:
    """The launcher's current record, or None (no file, unreadable, or from a dead launcher)."""
    if not path:
        return None
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("state") not in STATES:
        return None
    if record["state"] in ("starting", "running") and not _alive(record.get("pid")):
        return None
    return record

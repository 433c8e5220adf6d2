"""What the last cycles found, kept in ``.git/remote-dev/state.json`` for ``git/status``.

Shared by every process that syncs the workspace (server, init container, CLI), written atomically.
A conflict stays listed while its conflict copy exists; deleting the copy marks it resolved.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

STATE_FILE = "remote-dev/state.json"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class CycleReport:
    """Outcome of one init or cycle: ``result`` is ok, conflict or error."""

    started_at: str
    finished_at: str | None = None
    result: str = "ok"
    message: str = ""
    conflicts: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    def last_cycle_json(self) -> dict:
        return {
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "result": self.result,
            "message": self.message,
        }


def load_state(git_dir: Path) -> dict:
    try:
        return json.loads((git_dir / STATE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {"last_cycle": None, "conflicts": [], "skipped": []}


def save_report(git_dir: Path, workspace: Path, report: CycleReport) -> dict:
    """Merge ``report`` into the stored state and return the new state."""
    state = load_state(git_dir)
    still_open = [c for c in state.get("conflicts", []) if copy_exists(workspace, c)]
    known = {(c["path"], c["kept_at"]) for c in report.conflicts}
    conflicts = report.conflicts + [c for c in still_open if (c["path"], c["kept_at"]) not in known]
    state = {
        "last_cycle": report.last_cycle_json(),
        "conflicts": conflicts,
        "skipped": report.skipped,
    }
    target = git_dir / STATE_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".state-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    os.replace(tmp, target)
    return state


def copy_exists(workspace: Path, conflict: dict) -> bool:
    """True while a conflict's copy (a file other than the path itself) is still there."""
    kept = conflict.get("kept_at")
    return bool(kept) and kept != conflict["path"] and os.path.lexists(workspace / kept)


def open_conflicts(workspace: Path, state: dict) -> list[dict]:
    """Conflicts of the last cycle, plus older ones whose copy has not been removed yet."""
    last = state.get("last_cycle") or {}
    result = []
    for conflict in state.get("conflicts", []):
        if copy_exists(workspace, conflict) or conflict.get("cycle") == last.get("started_at"):
            result.append({"path": conflict["path"], "kept_at": conflict["kept_at"]})
    return result

"""status: the profile, the server and, inside a synced folder, its binding and pending sync."""

from __future__ import annotations

from pathlib import Path

from ..sync.state import SyncState, find_root
from ..sync.summary import describe_summary
from ..sync.transfer import Transfer
from .base import JSON_FLAG, START_FLAG, RemoteDevCommand


class StatusApp(RemoteDevCommand):
    """Show the profile, the server and, inside a synced folder, its binding and what a sync
    would do. The binding and its conflicts are shown even when the server cannot be reached."""

    name = "jupyter-remote-dev-status"
    description = __doc__
    synopsis = "[--profile NAME] [--json]"
    flags = {**RemoteDevCommand.flags, **JSON_FLAG, **START_FLAG}

    def run(self) -> int:
        root = find_root(Path.cwd())
        state = SyncState.load(root) if root else None
        profile = self.load_profile(state.profile if state else None)
        result = {"profile": profile.public_dict()}
        self.out.line(f"profile {profile.name!r}: {profile.url}")
        if state:
            result["folder"] = {
                "root": str(root),
                "remote_dir": state.remote_dir,
                "conflicts": conflict_list(state),
            }
            self.out.line(f"folder {root} <-> /{state.remote_dir}")
            for conflict in result["folder"]["conflicts"]:
                self.out.line(
                    f"  conflict {conflict['path']}: the server's version is in "
                    f"{conflict['remote_copy']}; settle it with `jupyter remote-dev resolve "
                    f"--keep local|remote {conflict['path']}`"
                )
        with self.connect(profile) as client:
            info = result["server"] = self.server_info
            enabled = ", ".join(k for k, on in info["features"].items() if on) or "none"
            self.out.line(f"server: jupyter-remote-dev {info['version']}; features: {enabled}")
            if state:
                summary = Transfer(client, state).plan(info).summary()
                result["folder"]["pending"] = summary
                self.out.line(f"pending: {describe_summary(summary)}")
        self.out.result(result)
        return 0


def conflict_list(state: SyncState) -> list[dict[str, str]]:
    """The unresolved conflicts of a project, for ``status``."""
    return [{"path": p, "remote_copy": c.copy} for p, c in sorted(state.conflicts.items())]

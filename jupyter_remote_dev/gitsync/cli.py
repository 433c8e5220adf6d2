"""``jupyter remote-dev git init|cycle|status`` (also ``python -m jupyter_remote_dev.gitsync``).

Runs the engine on this machine: in the user's pod (an init container runs ``init``, a preStop
hook runs ``cycle --wait 30``) or wherever the workspace lives. Settings default to the
``JUPYTER_REMOTE_DEV_GIT_*`` variables the hub hooks set; options override them.
"""

from __future__ import annotations

import json
import sys

from traitlets import Float, Unicode

from ..cliapp import CommandApp, SubcommandApp, described
from .config import SyncSettings
from .engine import GitSync
from .errors import GitSyncBusyError, GitSyncError

EXIT_ERROR = 1
EXIT_BUSY = 75  # EX_TEMPFAIL: another cycle holds the lock

_aliases = {
    "repo": "GitCommand.repo",
    "branch": "GitCommand.sync_branch",
    "upstream": "GitCommand.upstream",
    "workspace": "GitCommand.workspace",
    "wait": "GitCommand.wait",
}


class GitCommand(CommandApp):
    """Shared options of the git subcommands."""

    aliases = _aliases
    repo = Unicode(
        config=True, help="Repository URL or path (default $JUPYTER_REMOTE_DEV_GIT_REPO)."
    )
    sync_branch = Unicode(
        config=True, help="Sync branch (default $JUPYTER_REMOTE_DEV_GIT_SYNC_BRANCH)."
    )
    upstream = Unicode(
        config=True, help="Upstream branch to merge (default $JUPYTER_REMOTE_DEV_GIT_UPSTREAM)."
    )
    workspace = Unicode(
        config=True, help="Working tree folder (default $JUPYTER_REMOTE_DEV_GIT_WORKSPACE or '.')."
    )
    wait = Float(
        0.0,
        config=True,
        help="Seconds to wait for a running cycle to finish before giving up (exit code 75).",
    )

    def make_sync(self) -> GitSync:
        overrides = {
            "repo": self.repo or None,
            "sync_branch": self.sync_branch or None,
            "upstream": self.upstream or None,
            "workspace": self.workspace or None,
        }
        try:
            return GitSync(SyncSettings.from_env(**overrides), logger=self.log)
        except GitSyncError as error:
            self.log.error("%s", error.message)
            self.exit(EXIT_ERROR)

    def run_step(self, step_name: str) -> None:
        sync = self.make_sync()
        try:
            report = getattr(sync, step_name)(wait=self.wait)
        except GitSyncBusyError as error:
            self.log.error("%s", error.message)
            self.exit(EXIT_BUSY)
        except GitSyncError as error:
            self.log.error("%s", error.message)
            self.exit(EXIT_ERROR)
        for conflict in report.conflicts:
            kept = conflict["kept_at"] or "(deleted on the other side)"
            print(f"conflict: {conflict['path']} -> other version at {kept}")
        for item in report.skipped:
            print(f"skipped: {item['path']} ({item['size']} bytes): {item['reason']}")
        print(f"{step_name}: {report.result}: {report.message}")
        self.exit(EXIT_ERROR if report.result == "error" else 0)


class GitInitApp(GitCommand):
    """Clone the repository into the workspace, or bring an existing clone up to date safely."""

    name = "jupyter-remote-dev-git-init"
    description = __doc__

    def start(self):
        self.run_step("init")


class GitCycleApp(GitCommand):
    """Run one sync cycle: commit local changes, fetch, merge, push the sync branch."""

    name = "jupyter-remote-dev-git-cycle"
    description = __doc__

    def start(self):
        self.run_step("cycle")


class GitStatusApp(GitCommand):
    """Print the sync state as JSON (the same object as GET remote-dev/api/git/status)."""

    name = "jupyter-remote-dev-git-status"
    description = __doc__

    def start(self):
        json.dump(self.make_sync().status(), sys.stdout, indent=2)
        print()


class GitApp(SubcommandApp):
    """Two-way Git sync of a workspace with a per-user branch."""

    name = "jupyter-remote-dev-git"
    command = "jupyter remote-dev git"
    description = __doc__
    subcommands = described(init=GitInitApp, cycle=GitCycleApp, status=GitStatusApp)


main = GitApp.launch_instance

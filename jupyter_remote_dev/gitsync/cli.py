"""``python -m jupyter_remote_dev.gitsync init|cycle|status`` (also ``jupyter remote-dev git
local ...``): the in-pod commands.

They run the engine on this machine: in the user's pod (an init container runs ``init``, a preStop
hook runs ``cycle --wait 30``) or wherever the workspace lives. On a laptop, ``jupyter remote-dev
git status|sync`` (:mod:`jupyter_remote_dev.client.commands.git`) ask the server instead.

``cycle`` and ``status`` use the settings the running server recorded (its command line and
config files included, see :mod:`.record`); ``init``, and every command where no server
recorded any, uses the ``JUPYTER_REMOTE_DEV_GIT_*`` variables the hub hooks set (``init`` with
the recorded commit rules). Options override both.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

from traitlets import Bool, Float, Unicode

from ..cliapp import CommandApp, SubcommandApp, described, print_error
from .config import ENV_PREFIX, SyncSettings
from .engine import GitSyncEngine
from .errors import GitSyncBusyError, GitSyncError
from .record import RECORD, load_recorded, recorded_workspace

#: Settings only the server's command line or config files can set, not the hub's variables.
COMMIT_RULES = ("max_file_size", "include", "exclude")
EXIT_ERROR = 1
EXIT_BUSY = 75  # EX_TEMPFAIL: another cycle holds the lock
NOT_CONFIGURED = f"not configured: set {ENV_PREFIX}REPO (or --repo URL)"

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

    def fail(self, message: str, code: int = EXIT_ERROR) -> None:
        print_error(message)
        self.exit(code)

    @property
    def configured(self) -> bool:
        return bool(self.repo or os.environ.get(f"{ENV_PREFIX}REPO", "").strip())

    def make_sync(self) -> GitSyncEngine:
        if not self.configured:
            self.fail(NOT_CONFIGURED)
        overrides = {
            "repo": self.repo or None,
            "sync_branch": self.sync_branch or None,
            "upstream": self.upstream or None,
            "workspace": self.workspace or None,
        }
        try:
            return GitSyncEngine(self.effective_settings(overrides), logger=self.log)
        except GitSyncError as error:
            self.fail(error.message)

    def effective_settings(self, overrides: dict) -> SyncSettings:
        """The settings the server recorded for the workspace (see :mod:`.record`), else the
        ``JUPYTER_REMOTE_DEV_GIT_*`` variables; options given on the command line win."""
        workspace = self.workspace_with_record()
        recorded = load_recorded(workspace) if workspace else None
        if recorded is None:
            return SyncSettings.from_env(**overrides)
        self.log.info("using the sync settings the server recorded in %s", workspace)
        given = {k: v for k, v in overrides.items() if v is not None and k != "workspace"}
        return dataclasses.replace(recorded, **given).validated()

    def workspace_with_record(self) -> Path | None:
        """The workspace whose record applies: ``--workspace``, else the one a server on this
        machine named in the Jupyter runtime dir, else ``$JUPYTER_REMOTE_DEV_GIT_WORKSPACE``/cwd."""
        if self.workspace:
            return Path(self.workspace).expanduser().absolute()
        pointed = recorded_workspace(self.runtime_dir)
        if pointed is not None and (pointed / ".git" / RECORD).is_file():
            return pointed
        return Path(os.environ.get(ENV_PREFIX + "WORKSPACE", "").strip() or ".").absolute()

    def run_step(self, step_name: str) -> None:
        sync = self.make_sync()
        try:
            report = getattr(sync, step_name)(wait=self.wait)
        except GitSyncBusyError as error:
            self.fail(error.message, EXIT_BUSY)
        except GitSyncError as error:
            self.fail(error.message)
        for conflict in report.conflicts:
            kept = conflict["kept_at"] or "(deleted on the other side)"
            print(f"conflict: {conflict['path']} -> other version at {kept}")
        for item in report.skipped:
            print(f"skipped: {item['path']} ({item['size']} bytes): {item['reason']}")
        print(f"{step_name}: {report.result}: {report.message}")
        self.exit(EXIT_ERROR if report.result == "error" else 0)


class GitInitApp(GitCommand):
    """Clone the repository into the workspace, or bring an existing clone up to date safely."""

    name = "jupyter-remote-dev-git-local-init"
    description = __doc__

    def effective_settings(self, overrides: dict) -> SyncSettings:
        """The hub's variables (init runs before the server, and a record on the volume is the
        previous pod's), with the commit rules only the server's config can set (size limit,
        include, exclude) taken from the record the server left, if any."""
        settings = SyncSettings.from_env(**overrides)
        try:
            recorded = load_recorded(settings.workspace)
        except GitSyncError as error:  # never keep the pod from starting over it
            self.log.warning("%s; using the environment's settings", error.message)
            return settings
        if recorded is None:
            return settings
        self.log.info("using the commit rules the server recorded in %s", settings.workspace)
        rules = {key: getattr(recorded, key) for key in COMMIT_RULES}
        return dataclasses.replace(settings, **rules).validated()

    def start(self):
        self.run_step("init")


class GitCycleApp(GitCommand):
    """Run one sync cycle: commit local changes, fetch, merge, push the sync branch."""

    name = "jupyter-remote-dev-git-local-cycle"
    description = __doc__

    def start(self):
        self.run_step("cycle")


class GitStatusApp(GitCommand):
    """Print the sync state: repo, branch, ahead/behind, last cycle, conflicts.

    On a terminal as lines; piped, or with --json, as the JSON object of GET
    remote-dev/api/git/status. Without a repo: "not configured: set ..." and exit 1.
    """

    name = "jupyter-remote-dev-git-local-status"
    description = __doc__
    json_output = Bool(False, config=True, help="Print the state as JSON, also on a terminal.")
    flags = {"json": ({"GitStatusApp": {"json_output": True}}, "Print the state as JSON.")}

    def start(self):
        as_json = self.json_output or not sys.stdout.isatty()
        if not self.configured:
            body = {"configured": False, "message": NOT_CONFIGURED}
            print(json.dumps(body) if as_json else NOT_CONFIGURED)
            self.exit(EXIT_ERROR)
        status = self.make_sync().status()
        if as_json:
            json.dump(status, sys.stdout, indent=2)
            print()
            return
        for line in describe_status(status):
            print(line)


def describe_status(status: dict) -> list[str]:
    """Human lines for a ``git/status`` object."""
    lines = [
        f"repo {status['repo']} -> {status['workspace']}",
        f"branch {status['branch']} (upstream {status['upstream'] or '-'}): "
        f"{status['ahead']} ahead, {status['behind']} behind"
        + ("; a cycle is running" if status["running"] else ""),
    ]
    last = status.get("last_cycle") or {}
    if last:
        lines.append(
            f"last cycle {last.get('finished_at') or last.get('started_at') or '?'}: "
            f"{last.get('result')}: {last.get('message') or ''}".rstrip(": ")
        )
    else:
        lines.append("no cycle has run yet")
    for conflict in status.get("conflicts") or []:
        lines.append(
            f"conflict: {conflict.get('path')} (other version at {conflict.get('kept_at')})"
        )
    for item in status.get("skipped") or []:
        lines.append(f"skipped: {item.get('path')}: {item.get('reason')}")
    return lines


class LocalGitApp(SubcommandApp):
    """Git sync of the workspace on this machine (in the pod): init, cycle, status."""

    name = "jupyter-remote-dev-git-local"
    description = __doc__
    subcommands = described(init=GitInitApp, cycle=GitCycleApp, status=GitStatusApp)


main = LocalGitApp.launch_instance

"""``jupyter remote-dev git status|sync``: the server's Git sync, asked through its API.

Like ``ray status``, these run on the laptop and report what the server does (``GET git/status``,
``POST git/sync``), with the profile's URL and token. ``git local init|cycle|status`` (also
``python -m jupyter_remote_dev.gitsync``, which the pod's init container and preStop hook run)
drive the engine on the machine it runs on: :mod:`jupyter_remote_dev.gitsync.cli`.
"""

from __future__ import annotations

import json

from ...cliapp import SubcommandApp, described
from ...gitsync.cli import EXIT_BUSY, describe_status
from ..errors import ClientError
from .base import JSON_FLAG, START_FLAG, RemoteDevCommand

#: The most seconds a cycle the laptop asked for may take (a first clone can be slow).
SYNC_TIMEOUT = 600.0
NOT_CONFIGURED = (
    "Git sync is not configured on the server (set c.RemoteDevExtension.git_repo or "
    "$JUPYTER_REMOTE_DEV_GIT_REPO there)"
)


class ServerGitCommand(RemoteDevCommand):
    """The shared options of the laptop's git commands."""

    synopsis = "[--profile NAME] [--json]"
    flags = {**RemoteDevCommand.flags, **JSON_FLAG, **START_FLAG}

    def show(self, status: dict) -> None:
        if self.json_output:
            print(json.dumps(status, indent=2))
        elif not status.get("configured"):
            print(NOT_CONFIGURED)
        else:
            for line in describe_status(status):
                print(line)


class GitStatusApp(ServerGitCommand):
    """The server's Git sync: repo, branch, ahead/behind, last cycle, conflicts.

    Exits 0, or 1 when Git sync is not configured on the server.
    """

    name = "jupyter-remote-dev-git-status"
    description = __doc__

    def run(self) -> int:
        with self.folder_client() as client:
            url = client.api_url("git/status")
            status = client.request("GET", url, idempotent=True).json()
        self.show(status)
        return 0 if status.get("configured") else 1


class GitSyncApp(ServerGitCommand):
    """Run one Git sync cycle on the server now, and print its result.

    Exits 0, 1 when the cycle failed or Git sync is not configured, 75 when a cycle is running.
    """

    name = "jupyter-remote-dev-git-sync"
    description = __doc__

    def run(self) -> int:
        with self.folder_client() as client:
            url = client.api_url("git/sync")
            try:
                status = client.request("POST", url, timeout=SYNC_TIMEOUT).json()
            except ClientError as e:
                error = ClientError(e.answer.get("message") or e.message, e.status)
                error.exit_code = EXIT_BUSY if e.status == 409 else 1
                raise error from e
        last = status.get("last_cycle") or {}
        if not self.json_output:
            print(f"sync: {last.get('result')}: {last.get('message') or ''}".rstrip(": "))
        self.show(status)
        return 1 if last.get("result") == "error" else 0


class GitApp(SubcommandApp):
    """Git sync: the server's (status, sync) and, in the pod, the engine itself (local)."""

    name = "jupyter-remote-dev-git"
    description = __doc__
    subcommands = {
        **described(status=GitStatusApp, sync=GitSyncApp),
        "local": (
            "jupyter_remote_dev.gitsync.cli.LocalGitApp",
            "In the pod: init, cycle, status of the workspace here (the preStop hook's).",
        ),
    }

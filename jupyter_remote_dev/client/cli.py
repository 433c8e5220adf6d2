"""``jupyter remote-dev``: the command-line entry point and its subcommands.

Subcommands are registered by import string, so ``jupyter remote-dev --help`` stays fast and each
area (files, git, ray, dags) keeps its command in its own module.
"""

from __future__ import annotations

import gc
import sys

from ..cliapp import SubcommandApp


class RemoteDevApp(SubcommandApp):
    """Work on a remote Jupyter server from a local IDE."""

    name = "jupyter-remote-dev"
    description = __doc__

    subcommands = {
        "login": ("jupyter_remote_dev.client.commands.login.LoginApp", "Log in with a token."),
        "logout": (
            "jupyter_remote_dev.client.commands.login.LogoutApp",
            "Forget a profile's token.",
        ),
        "status": (
            "jupyter_remote_dev.client.commands.status.StatusApp",
            "Profile, server, sync state.",
        ),
        "init": (
            "jupyter_remote_dev.client.commands.project.InitApp",
            "Bind this folder to a server folder.",
        ),
        "push": ("jupyter_remote_dev.client.commands.sync.PushApp", "Send files or folders."),
        "pull": ("jupyter_remote_dev.client.commands.sync.PullApp", "Fetch files or folders."),
        "sync": ("jupyter_remote_dev.client.commands.sync.SyncApp", "Three-way sync; --watch."),
        "resolve": (
            "jupyter_remote_dev.client.commands.project.ResolveApp",
            "Settle a sync conflict.",
        ),
        "run": ("jupyter_remote_dev.client.commands.run.RunApp", "Run a command on the server."),
        "vscode": ("jupyter_remote_dev.client.commands.vscode.VSCodeApp", "Write VS Code tasks."),
        "drive": (
            "jupyter_remote_dev.client.commands.drive.DriveApp",
            "Mount the server as a drive.",
        ),
        "git": (
            "jupyter_remote_dev.client.commands.git.GitApp",
            "The server's Git sync: status, sync.",
        ),
        "ray": (
            "jupyter_remote_dev.client.commands.ray.RayApp",
            "Ray: status, submit, jobs, logs.",
        ),
        "dags": ("jupyter_remote_dev.airflow.cli.DagsApp", "Airflow branch staging for DAGs."),
        "report": ("jupyter_remote_dev.reports.cli.ReportApp", "Reports: weekly Athena cost."),
        "ssh-config": (
            "jupyter_remote_dev.client.commands.ssh_config.SshConfigApp",
            "Host entry for ssh.",
        ),
        "ssh-proxy": (
            "jupyter_remote_dev.client.commands.ssh_proxy.SshProxyApp",
            "ssh's ProxyCommand.",
        ),
    }


#: Optional imports of libraries this synchronous CLI never uses, skipped to start faster: httpx's
#: own command-line tool (click, rich, pygments) and trio, which httpcore imports, when installed,
#: only to detect a trio event loop. Marked absent, both libraries take their documented fallback.
UNUSED_OPTIONAL_MODULES = ("httpx._main", "trio")


def main(argv: list[str] | None = None) -> None:
    """The ``jupyter-remote-dev`` console script (``jupyter remote-dev``)."""
    for name in UNUSED_OPTIONAL_MODULES:
        sys.modules.setdefault(name, None)  # no effect where the module is already imported
    try:
        RemoteDevApp.launch_instance(argv)
    finally:
        # The command is done: the interpreter's exit would otherwise walk every object still
        # alive in its last garbage collections (~45 ms of each command, measured in
        # benchmarks/RESULTS.md). Exit handlers, flushes and thread joins still run.
        gc.freeze()


if __name__ == "__main__":
    main()

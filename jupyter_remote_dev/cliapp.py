"""The base of every ``jupyter remote-dev`` command and of the commands made of subcommands.

Only jupyter_core and traitlets: the ``git`` and ``dags`` commands (``python -m
jupyter_remote_dev.gitsync`` in an init container among them) import no HTTP client through it.
"""

from __future__ import annotations

import sys

from jupyter_core.application import JupyterApp
from traitlets import default

from . import __version__

CLIENT_CONFIG_FILE = "jupyter_remote_dev_client_config"
ERROR_PREFIX = "jupyter remote-dev: error: "


def print_error(message: str) -> None:
    """The one error line every command prints on stderr."""
    print(f"{ERROR_PREFIX}{message}", file=sys.stderr, flush=True)


class CommandApp(JupyterApp):
    """A ``jupyter remote-dev`` command: the package version and the client config file."""

    version = __version__

    def _config_file_name_default(self) -> str:
        return CLIENT_CONFIG_FILE


class SubcommandApp(CommandApp):
    """A command that only dispatches to its subcommands, e.g. ``jupyter remote-dev git``."""

    #: How users type this command, for the help and error lines.
    command = "jupyter remote-dev"

    @default("subcommand_description")
    def _subcommand_description_default(self) -> str:
        return f"Run `{self.command} NAME [args]`; `{self.command} NAME --help` explains one."

    def start(self):
        if self.subapp is not None:
            return self.subapp.start()
        if self.extra_args:
            unknown, choices = self.extra_args[0], ", ".join(self.subcommands)
            print(
                f"{self.command}: unknown subcommand {unknown!r} (choose from {choices})",
                file=sys.stderr,
            )
            self.exit(2)
        self.print_help()
        self.exit(1)


def described(**apps: type[JupyterApp]) -> dict[str, tuple[type[JupyterApp], str]]:
    """A ``subcommands`` dict whose help for each app is the first line of its docstring."""
    return {name: (app, app.__doc__.strip().splitlines()[0]) for name, app in apps.items()}

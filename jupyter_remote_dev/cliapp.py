"""The base of every ``jupyter remote-dev`` command and of the commands made of subcommands.

Only jupyter_core and traitlets: the ``git`` and ``dags`` commands (``python -m
jupyter_remote_dev.gitsync`` in an init container among them) import no HTTP client through it.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap

from jupyter_core.application import JupyterApp, base_aliases, base_flags
from traitlets import default

from . import __version__

CLIENT_CONFIG_FILE = "jupyter_remote_dev_client_config"
ERROR_PREFIX = "jupyter remote-dev: error: "


def print_error(message: str) -> None:
    """The one error line every command prints on stderr."""
    print(f"{ERROR_PREFIX}{message}", file=sys.stderr, flush=True)


#: Options every Jupyter application has; ``--help`` leaves them to ``--help-all``.
GENERIC_OPTIONS = frozenset({*base_flags, *base_aliases})


class CommandApp(JupyterApp):
    """A ``jupyter remote-dev`` command: the package version, the client config file, and a
    ``--help`` that fits a screen (its own usage and options; the rest under ``--help-all``)."""

    version = __version__

    def _config_file_name_default(self) -> str:
        return CLIENT_CONFIG_FILE

    def emit_help(self, classes: bool = False):
        if classes:
            yield from super().emit_help(classes=True)
            return
        yield from self.emit_description()
        if self.subcommands:
            yield "Commands:"
            yield from _columns([(name, text) for name, (_, text) in self.subcommands.items()])
            yield ""
            yield self.subcommand_description
            yield ""
        options = list(self.own_options())
        if options:
            yield "Options:"
            yield from _columns(options)
            yield ""
        yield "--help-all: also Jupyter's generic options (logging, config files), every setting."

    def own_options(self):
        """(option, one-line help) for this command's flags and aliases, generic ones left out."""
        for name, (_, text) in self.flags.items():
            if name not in GENERIC_OPTIONS:
                yield f"--{name}", text
        traits = {}
        for cls in [*type(self).mro(), *self.classes]:
            if isinstance(cls, type) and hasattr(cls, "class_traits"):
                traits.setdefault(cls.__name__, cls)
        for name, target in self.aliases.items():
            if name in GENERIC_OPTIONS:
                continue
            class_name, trait_name = target.split(".")[-2:]
            trait = traits[class_name].class_traits(config=True)[trait_name]
            value = {"Int": "N", "Float": "N"}.get(type(trait).__name__, "TEXT")
            yield f"--{name}={value}", trait.help


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
            print_error(f"unknown command {unknown!r} for `{self.command}` (choose from {choices})")
            self.exit(2)
        self.print_help()
        self.exit(1)


def described(**apps: type[JupyterApp]) -> dict[str, tuple[type[JupyterApp], str]]:
    """A ``subcommands`` dict whose help for each app is the first line of its docstring."""
    return {name: (app, app.__doc__.strip().splitlines()[0]) for name, app in apps.items()}


def _first_line(text: str) -> str:
    """The first sentence of a help text, on one line."""
    text = " ".join((text or "").split())
    return re.split(r"(?<=\.) (?=[A-Z])", text, maxsplit=1)[0]


def _columns(rows: list[tuple[str, str]]):
    """Two columns, names and their first sentences, wrapped to the terminal (at most 100)."""
    width = min(max(len(name) for name, _ in rows), 24)
    room = max(min(shutil.get_terminal_size().columns, 100) - width - 4, 30)
    for name, text in rows:
        lines = textwrap.wrap(_first_line(text), room) or [""]
        if len(name) > width:
            yield f"  {name}"
        else:
            yield f"  {name:<{width}}  {lines.pop(0)}"
        for line in lines:
            yield f"  {'':<{width}}  {line}"

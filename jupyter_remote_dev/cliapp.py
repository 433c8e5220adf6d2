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
from traitlets import Enum, Float, Int, TraitError, default
from traitlets.config import Application

from . import __version__

CLIENT_CONFIG_FILE = "jupyter_remote_dev_client_config"
ERROR_PREFIX = "jupyter remote-dev: error: "


def print_error(message: str) -> None:
    """The one error line every command prints on stderr."""
    print(f"{ERROR_PREFIX}{message}", file=sys.stderr, flush=True)


#: Options every Jupyter application has; ``--help`` leaves them to ``--help-all``.
GENERIC_OPTIONS = frozenset({*base_flags, *base_aliases})
#: Options traitlets itself answers (help and version).
BUILTIN_OPTIONS = frozenset({"h", "help", "help-all", "version"})
#: Options a command group passes on to its subcommand: ``jupyter remote-dev --profile X sync``.
GLOBAL_OPTIONS = frozenset({"profile"})


class UsageError(Exception):
    """A command line that cannot be run as given (exit 2, like argparse)."""


def _names(table: dict) -> dict[str, object]:
    """A flags or aliases table by each name it answers to (traitlets allows tuples of names)."""
    named = {}
    for key, value in table.items():
        for name in key if isinstance(key, tuple) else (key,):
            named[name] = value
    return named


def split_argv(
    argv: list[str], flags: dict, aliases: dict, command_at_first_word: bool = False
) -> tuple[list[str], dict[str, str], list[str]]:
    """(options for traitlets, alias values by option name, positional words) of ``argv``.

    Every option must be one of the command's flags or aliases (or traitlets' own
    ``--Class.trait=value``); after ``--``, and with ``command_at_first_word`` after the first
    positional word, everything is a word. Raises UsageError."""
    flags, aliases = _names(flags), _names(aliases)
    options: list[str] = []
    values: dict[str, str] = {}
    words: list[str] = []
    rest = iter(argv)
    for arg in rest:
        if arg == "--":
            words.extend(rest)
            break
        if not arg.startswith("-") or arg == "-":
            words.append(arg)
            if command_at_first_word:
                words.extend(rest)
                break
            continue
        name, has_value, value = arg.lstrip("-").partition("=")
        if name in BUILTIN_OPTIONS or (name in flags and not has_value):
            options.append(arg)
        elif name in aliases:
            if not has_value:
                value = next(rest, None)
                if value is None:
                    raise UsageError(f"option --{name} needs a value")
            options.append(f"--{name}={value}")
            values[name] = value
        elif "." in name and has_value:
            options.append(arg)
        else:
            shown = arg.partition("=")[0]
            what = "a value given to the flag" if name in flags else "unknown option"
            raise UsageError(f"{what} {shown}")
    return options, values, words


def expected(trait) -> str:
    """What a trait takes, for a bad-value error."""
    if isinstance(trait, Enum):
        return "choose from " + ", ".join(str(v) for v in trait.values)
    if isinstance(trait, Int):
        return "expected a whole number"
    if isinstance(trait, Float):
        return "expected a number"
    return f"expected {trait.info()}"


class CommandApp(JupyterApp):
    """A ``jupyter remote-dev`` command: the package version, the client config file, one error
    format for its command line, and a ``--help`` that fits a screen (its synopsis, its own
    options; the rest under ``--help-all``)."""

    version = __version__
    #: What follows the command in its usage line, e.g. ``--keep local|remote PATH...``.
    synopsis = "[OPTIONS]"
    #: ``run``-like commands: the first word that is not an option starts a command line of its
    #: own, whose options are never read as this command's.
    command_at_first_word = False

    def _config_file_name_default(self) -> str:
        return CLIENT_CONFIG_FILE

    @property
    def command(self) -> str:
        """How users type this command: ``jupyter remote-dev ray status``."""
        return "jupyter remote-dev" + self.name.removeprefix("jupyter-remote-dev").replace("-", " ")

    @property
    def usage(self) -> str:
        return f"{self.command} {self.synopsis}"

    def usage_error(self, message: str) -> None:
        """Exit 2 with one ``error:`` line."""
        print_error(f"{message} (see `{self.command} --help`)")
        self.exit(2)

    def parse_command_line(self, argv=None):
        argv = list(sys.argv[1:] if argv is None else argv)
        try:
            options, values, words = split_argv(
                argv, self.flags, self.aliases, self.command_at_first_word
            )
        except UsageError as e:
            self.usage_error(str(e))
        try:  # unwrapped: traitlets' own wrapper would log a CRITICAL line and exit 1
            Application.parse_command_line.__wrapped__(self, options)
        except TraitError as e:
            self.usage_error(self.bad_value(values) or str(e))
        self.extra_args = words

    def bad_value(self, values: dict[str, str]) -> str | None:
        """The line naming the first option whose value its setting refuses."""
        aliases = _names(self.aliases)
        for name, value in values.items():
            trait = self.trait_of(aliases[name])
            try:
                trait.validate(self, trait.from_string(value))
            except (TraitError, ValueError):
                return f"bad value {value!r} for --{name}: {expected(trait)}"
        return None

    def trait_of(self, target: str):
        """The trait an alias such as ``ResolveApp.keep`` sets."""
        class_name, trait_name = target.split(".")[-2:]
        for cls in [*type(self).mro(), *self.classes]:
            if getattr(cls, "__name__", None) == class_name and hasattr(cls, "class_traits"):
                return cls.class_traits(config=True)[trait_name]
        raise KeyError(target)

    def emit_description(self):
        if not self.subcommands:
            yield f"Usage: {self.usage}"
            yield ""
        yield from super().emit_description()

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
        for name, target in self.aliases.items():
            if name in GENERIC_OPTIONS:
                continue
            trait = self.trait_of(target)
            value = {"Int": "N", "Float": "N"}.get(type(trait).__name__, "TEXT")
            if isinstance(trait, Enum):
                value = "|".join(str(v) for v in trait.values)
            yield f"--{name}={value}", trait.help


class SubcommandApp(CommandApp):
    """A command that only dispatches to its subcommands, e.g. ``jupyter remote-dev git``."""

    @default("subcommand_description")
    def _subcommand_description_default(self) -> str:
        return f"Run `{self.command} NAME [args]`; `{self.command} NAME --help` explains one."

    def parse_command_line(self, argv=None):
        """Dispatch to the subcommand, moving global options before it (``--profile X``) after
        it; anything else before it is checked as this command's own options."""
        argv = list(sys.argv[1:] if argv is None else argv)
        hoisted = []
        while argv and argv[0].lstrip("-").partition("=")[0] in GLOBAL_OPTIONS:
            size = 1 if "=" in argv[0] else 2
            hoisted, argv = hoisted + argv[:size], argv[size:]
        if argv and argv[0] in self.subcommands:
            return JupyterApp.parse_command_line(self, [argv[0], *hoisted, *argv[1:]])
        if hoisted and not argv:
            self.usage_error(f"{' '.join(hoisted)} needs a command after it")
        return super().parse_command_line(argv)

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

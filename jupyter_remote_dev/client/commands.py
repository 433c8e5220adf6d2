"""The base of the remote-dev subcommands, and login, logout, status and run (issue 4)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jupyter_core.application import base_aliases, base_flags
from traitlets import Bool, Float, Unicode

from ..cliapp import CommandApp, print_error
from . import profiles
from .api import RemoteDevClient
from .errors import ClientError, ServerNotRunning
from .hub import HubClient
from .profiles import Profile, ProfileError
from .run import run_remote
from .sync.plan import CONFLICT
from .sync.state import StateError, SyncState, find_root
from .sync.transfer import Transfer
from .ui import Output
from .vscode import VSCodeError

START_HINT = "rerun with --start to start it (or start it from the hub)"
#: Seconds the first request of a command (GET info) may take: a hub or server that is down, or
#: accepts connections and never answers, fails the command this fast.
FIRST_CONTACT_TIMEOUT = 3.0
JSON_FLAG = {"json": ({"RemoteDevCommand": {"json_output": True}}, "Machine-readable JSON output.")}
START_FLAG = {
    "start": (
        {"RemoteDevCommand": {"start_server": True}},
        "Start a stopped hub server without asking.",
    )
}


class CommandLineError(ClientError):
    """A command line that cannot run as given: exit 2, like an unknown option."""

    exit_code = 2


class RemoteDevCommand(CommandApp):
    """Shared options and error handling of the remote-dev subcommands."""

    profile = Unicode(
        "",
        config=True,
        help="Profile to use (default: $JUPYTER_REMOTE_DEV_PROFILE, the folder's, or 'default').",
    )
    json_output = Bool(False, config=True, help="Print one JSON document instead of lines.")
    start_server = Bool(
        False,
        config=True,
        help="If a hub user server is not running, start it through the hub API without asking.",
    )
    aliases = {**base_aliases, "profile": "RemoteDevCommand.profile"}
    flags = dict(base_flags)

    @property
    def out(self) -> Output:
        if not hasattr(self, "_out"):
            self._out = Output(self.json_output)
        return self._out

    def start(self):
        try:
            code = self.run()
        except KeyboardInterrupt:
            self.out.note("interrupted")
            self.exit(130)
        except ServerNotRunning as e:
            self.exit_with_error(f"{e.message}; {START_HINT}")
        except (ClientError, ProfileError, StateError, VSCodeError) as e:
            self.exit_with_error(str(e), getattr(e, "exit_code", 1))
        self.exit(code or 0)

    def run(self) -> int:
        raise NotImplementedError

    def exit_with_error(self, message: str, code: int = 1) -> None:
        """Exit with one ``error:`` line on stderr."""
        print_error(message)
        self.exit(code)

    def load_profile(self, fallback: str | None = None) -> Profile:
        return profiles.load(self.profile or fallback)

    def connect(self, profile: Profile) -> RemoteDevClient:
        """A client for ``profile`` whose server answered ``GET info`` (kept as
        ``server_info``) within FIRST_CONTACT_TIMEOUT; a stopped hub server is offered a start."""
        client = RemoteDevClient(profile)
        try:
            self.server_info = self.with_server(
                profile, lambda: client.info(timeout=FIRST_CONTACT_TIMEOUT)
            )
        except BaseException:
            client.close()
            raise
        return client

    def folder_client(self) -> RemoteDevClient:
        """:meth:`connect` with --profile, else the synced folder's profile, else the default."""
        root = find_root(Path.cwd())
        folder_profile = None
        if root is not None:
            try:
                folder_profile = SyncState.load(root).profile
            except StateError:
                pass
        return self.connect(self.load_profile(folder_profile))

    def with_server(self, profile: Profile, work):
        """Run ``work()``; if the hub says the server is stopped, offer to start it and retry."""
        try:
            return work()
        except ServerNotRunning as e:
            if profile.hub is None or not self._may_start(e):
                raise
        self.start_hub_server(profile)
        return work()

    def _may_start(self, error: ServerNotRunning) -> bool:
        if self.start_server:
            return True
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            return False
        answer = input(f"{error.message}. Start it through the hub? [Y/n] ")
        return answer.strip().lower() in ("", "y", "yes")

    def start_hub_server(self, profile: Profile) -> None:
        """POST the spawn request and follow the hub's progress stream until the server is up."""
        hub = HubClient(profile.hub, profile.token, profile.verify)
        try:
            if hub.start_server():
                return
            self.out.note("starting the server through the hub...")
            hub.follow_progress(
                lambda event: self.out.note(
                    f"  [{event.get('progress', '?')}%] {event.get('message', '')}"
                )
            )
        finally:
            hub.close()


class LoginApp(RemoteDevCommand):
    """Log in to a Jupyter server (the token is asked for, never an argument)."""

    name = "jupyter-remote-dev-login"
    description = __doc__
    synopsis = "URL [--profile NAME] [--token-stdin] [--ca-bundle PEM]"
    token_stdin = Bool(False, config=True, help="Read the token from the first line of stdin.")
    ca_bundle = Unicode(
        "", config=True, help="CA bundle (PEM) to verify the server's TLS certificate."
    )
    insecure = Bool(False, config=True, help="Do not verify TLS certificates (testing only).")
    aliases = {**RemoteDevCommand.aliases, "ca-bundle": "LoginApp.ca_bundle"}
    flags = {
        **RemoteDevCommand.flags,
        **JSON_FLAG,
        **START_FLAG,
        "token-stdin": ({"LoginApp": {"token_stdin": True}}, "Read the token from stdin."),
        "insecure": ({"LoginApp": {"insecure": True}}, "Skip TLS certificate checks."),
    }

    def run(self) -> int:
        if len(self.extra_args) != 1:
            raise CommandLineError(f"usage: {self.usage} (the token is never an argument)")
        given = profiles.read_server_url(self.extra_args[0])
        url, target = given.url, given.hub
        token = profiles.read_token(self.token_stdin)
        verify: bool | str = False if self.insecure else (self.ca_bundle or True)
        name = profiles.profile_name(self.profile)
        profile = Profile(name, url, token, verify=verify)
        if target is not None:
            self.check_hub_identity(target, token, verify, given.guessed_server)
            profile.kind, profile.user = "hub", target.user
            profile.server_name, profile.hub_api_url = target.server_name, target.hub_api_url
        with self.connect(profile):
            info = self.server_info
        path = profiles.save(profile)
        who = f" as {profile.user}" if profile.user else ""
        self.out.line(
            f"logged in to {url}{who} (profile {name!r}, server version {info['version']})"
        )
        self.out.note(f"saved in {path}")
        self.out.result({"profile": profile.public_dict(), "server": info})
        return 0

    def check_hub_identity(self, target, token: str, verify, guessed_server: bool) -> None:
        """whoami through the hub API; the token's owner must be the URL's user. A named server
        read from an unfamiliar URL must exist on the hub: it is never created by a guess."""
        hub = HubClient(target, token, verify)
        try:
            me = hub.whoami()
            if me.get("name") != target.user:
                owner = f"{me.get('kind', 'user')} {me.get('name')!r}"
                raise ClientError(
                    f"this token belongs to {owner}, but the URL is the server of "
                    f"{target.user!r}; use a token of that user"
                )
            if guessed_server and target.server_name not in hub.server_names():
                raise ClientError(
                    f"{target.user!r} has no server named {target.server_name!r} on the hub; "
                    "give the server's own URL, e.g. .../user/<name>/ or .../user/<name>/<server>/"
                )
        finally:
            hub.close()


class LogoutApp(RemoteDevCommand):
    """Forget a profile and its token (revoke the token on the hub too)."""

    name = "jupyter-remote-dev-logout"
    description = __doc__
    synopsis = "[--profile NAME]"
    flags = {**RemoteDevCommand.flags, **JSON_FLAG}

    def run(self) -> int:
        name = profiles.profile_name(self.profile)
        if not profiles.remove(name):
            raise ProfileError(f"no profile {name!r} to log out of")
        self.out.line(f"logged out: profile {name!r} removed (revoke the token on the hub too)")
        self.out.result({"removed": name})
        return 0


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
                summary = Transfer(client, state).plan().summary()
                result["folder"]["pending"] = summary
                self.out.line(f"pending: {describe_summary(summary)}")
        self.out.result(result)
        return 0


def conflict_list(state: SyncState) -> list[dict[str, str]]:
    """The unresolved conflicts of a project, for ``status``."""
    return [{"path": p, "remote_copy": c.copy} for p, c in sorted(state.conflicts.items())]


def describe_summary(summary: dict[str, int]) -> str:
    parts = [f"{n} to {k}" for k, n in summary.items() if n and k != CONFLICT]
    if summary.get(CONFLICT):
        parts.append(f"{summary[CONFLICT]} in conflict")
    return ", ".join(parts) or "in sync"


class RunApp(RemoteDevCommand):
    """Run a command on the server, like `ssh host CMD`: everything from CMD on is the command's.

    Options go before CMD (`--` before it is accepted too). stdin is forwarded as it comes
    (--no-stdin: none); output streams to the matching local streams; the exit code is the remote
    one (127/126: not found/not executable, 255: the connection was lost). Inside a synced folder
    the default cwd is the matching server folder.
    """

    name = "jupyter-remote-dev-run"
    description = __doc__
    synopsis = "[OPTIONS] CMD [ARGS...]"
    command_at_first_word = True
    cwd = Unicode(None, allow_none=True, config=True, help="Server folder to run in.")
    timeout = Float(0.0, config=True, help="Stop the command after this many seconds (0: never).")
    no_stdin = Bool(False, config=True, help="Give the command no stdin (like ssh -n).")
    aliases = {**RemoteDevCommand.aliases, "cwd": "RunApp.cwd", "timeout": "RunApp.timeout"}
    flags = {
        **RemoteDevCommand.flags,
        **START_FLAG,
        "no-stdin": ({"RunApp": {"no_stdin": True}}, "Do not forward stdin (like ssh -n)."),
    }

    def run(self) -> int:
        if not self.extra_args:
            raise CommandLineError(f"usage: {self.usage}")
        root = find_root(Path.cwd())
        state = SyncState.load(root) if root else None
        cwd = self.cwd
        if cwd is None and state is not None:
            relative = state.relative(Path.cwd())
            cwd = state.remote_dir if relative == "." else state.remote_path(relative)
        profile = self.load_profile(state.profile if state else None)
        with self.connect(profile) as client:
            return self.with_server(
                profile,
                lambda: run_remote(
                    client,
                    self.extra_args,
                    cwd or "",
                    timeout=self.timeout,
                    stdin_fd=self.stdin_fd(),
                ),
            )

    def stdin_fd(self) -> int | None:
        """The local stdin to forward, or None (--no-stdin, or no stdin at all)."""
        if self.no_stdin or sys.stdin is None:
            return None
        try:
            fd = sys.stdin.fileno()
            os.fstat(fd)
        except (OSError, ValueError):
            return None  # closed (``<&-``) or not a real file
        return fd

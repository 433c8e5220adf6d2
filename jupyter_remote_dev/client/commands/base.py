"""The base of the remote-dev subcommands: shared options, the first contact with the server
(offering to start a stopped hub server), and one ``error:`` line per failure."""

from __future__ import annotations

import sys
from pathlib import Path

from jupyter_core.application import base_aliases, base_flags
from traitlets import Bool, Unicode

from ...cliapp import CommandApp, print_error
from .. import profiles
from ..api import RemoteDevClient
from ..errors import ClientError, ServerNotRunning, VSCodeError
from ..hub import HubClient
from ..profiles import Profile, ProfileError
from ..sync.state import StateError, SyncState, find_root
from ..ui import Output

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

"""``ssh-proxy``: OpenSSH's ProxyCommand (written by ``ssh-config``), stdin/stdout <-> the server's
SSH WebSocket.

It starts every SSH connection, so it imports only the WebSocket client on the way (not
:mod:`.base`, which loads httpx): the REST client is loaded only when the WebSocket is refused, to
explain why or to start a stopped hub server (VS Code gives a connection 15 s; docs/ssh.md says
how to raise that).
"""

from __future__ import annotations

import asyncio

from jupyter_core.application import base_aliases
from traitlets import Unicode

from ...cliapp import CommandApp, print_error
from .. import profiles
from ..errors import ClientError
from ..profiles import Profile
from ..ssh_bridge import bridge, connect


class SshProxyApp(CommandApp):
    """OpenSSH ProxyCommand to the server (written by ssh-config): stdin/stdout <-> WebSocket."""

    name = "jupyter-remote-dev-ssh-proxy"
    description = __doc__
    synopsis = "[--profile NAME]"
    profile = Unicode("", config=True, help="Profile to use (default: 'default').")
    aliases = {**base_aliases, "profile": "SshProxyApp.profile"}

    @property
    def command(self) -> str:
        return "jupyter remote-dev ssh-proxy"  # one word: the default would split it at the dash

    def start(self):
        if self.extra_args:
            self.usage_error(f"unexpected argument {self.extra_args[0]!r}")
        try:
            asyncio.run(self._run(profiles.load(self.profile or None)))
        except KeyboardInterrupt:
            self.exit(130)
        except (ClientError, profiles.ProfileError) as error:
            print_error(str(error))
            self.exit(1)

    async def _run(self, profile: Profile) -> None:
        try:
            conn = await connect(profile)
        except ClientError as error:
            if error.status is None:  # no HTTP answer: nothing more to learn from the REST API
                raise
            await asyncio.to_thread(explain_or_start, profile)
            conn = await connect(profile)
        await bridge(conn)


def explain_or_start(profile: Profile) -> None:
    """After a refused WebSocket: raise the REST client's explanation (token refused, no such
    server, ...), or start a stopped hub server and return once it is up."""
    from ..api import RemoteDevClient
    from .base import RemoteDevCommand

    helper = RemoteDevCommand(start_server=True)
    with RemoteDevClient(profile) as client:
        helper.with_server(profile, client.info)

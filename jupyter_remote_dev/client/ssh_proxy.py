"""``jupyter remote-dev ssh-proxy``: OpenSSH's ProxyCommand, stdin/stdout <-> the SSH WebSocket.

The WebSocket (``{server}remote-dev/ssh``) is authenticated with the profile's token. It starts
every SSH connection, so it imports only tornado's WebSocket client on the way: the REST client
(httpx) is loaded only when the WebSocket is refused, to explain why or to start a stopped hub
server (VS Code gives a connection 15 s; docs/ssh.md says how to raise that).
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from jupyter_core.application import base_aliases
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClosedError, websocket_connect
from traitlets import Unicode

from .. import __version__
from ..cliapp import CommandApp, print_error
from . import profiles
from .profiles import Profile

CHUNK = 256 * 1024
PING_INTERVAL = 30.0


class ProxyError(Exception):
    """A connection failure with a one-line message."""


def socket_url(profile: Profile) -> str:
    """The ws(s):// URL of the server's SSH WebSocket."""
    return "ws" + profile.url[len("http") :] + "remote-dev/ssh"


async def connect(profile: Profile):
    """The open WebSocket, or ClientError naming why not (HTTPClientError for HTTP answers)."""
    verify = profile.verify
    request = HTTPRequest(
        socket_url(profile),
        headers={
            "Authorization": f"token {profile.token}",
            "User-Agent": f"jupyter-remote-dev/{__version__}",
        },
        validate_cert=verify is not False,
        ca_certs=verify if isinstance(verify, str) else None,
        connect_timeout=15.0,
        request_timeout=30.0,
    )
    try:
        conn = await websocket_connect(request, ping_interval=PING_INTERVAL)
    except HTTPClientError:
        raise
    except OSError as error:
        raise ProxyError(f"cannot connect to {profile.url}: {error}") from error
    conn.protocol.stream.set_nodelay(True)  # SSH sends many small packets: no Nagle delays
    return conn


async def bridge(conn, stdin_fd: int = 0, stdout_fd: int = 1) -> None:
    """Copy stdin to the WebSocket and the WebSocket to stdout until either side ends."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=CHUNK)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(stdin_fd, "rb", buffering=0)
    )
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(stdout_fd, "wb", buffering=0)
    )
    writer = asyncio.StreamWriter(transport, protocol, None, loop)

    async def upstream():
        with contextlib.suppress(WebSocketClosedError, ConnectionError):
            while data := await reader.read(CHUNK):
                await conn.write_message(data, binary=True)
        conn.close()

    async def downstream():
        with contextlib.suppress(ConnectionError):
            while (message := await conn.read_message()) is not None:
                writer.write(message)
                await writer.drain()
        writer.close()

    up = asyncio.ensure_future(upstream())
    await downstream()
    up.cancel()


class SshProxyApp(CommandApp):
    """OpenSSH ProxyCommand to the server (written by ssh-config): stdin/stdout <-> WebSocket."""

    name = "jupyter-remote-dev-ssh-proxy"
    description = __doc__
    profile = Unicode("", config=True, help="Profile to use (default: 'default').")
    aliases = {**base_aliases, "profile": "SshProxyApp.profile"}

    def start(self):
        try:
            asyncio.run(self._run(profiles.load(self.profile or None)))
        except KeyboardInterrupt:
            self.exit(130)
        except (ProxyError, profiles.ProfileError) as error:
            print_error(str(error))
            self.exit(1)

    async def _run(self, profile: Profile) -> None:
        try:
            conn = await connect(profile)
        except HTTPClientError as error:
            await asyncio.to_thread(explain_or_start, profile)
            try:
                conn = await connect(profile)
            except HTTPClientError as again:
                raise ProxyError(f"the SSH WebSocket answered {again.code}: {again}") from error
        await bridge(conn)


def explain_or_start(profile: Profile) -> None:
    """After a refused WebSocket: raise the REST client's explanation (token refused, no such
    server, ...), or start a stopped hub server and return once it is up."""
    from .api import ClientError, RemoteDevClient
    from .commands import RemoteDevCommand

    helper = RemoteDevCommand(start_server=True)
    try:
        with RemoteDevClient(profile) as client:
            helper.with_server(profile, client.info)
    except ClientError as error:
        raise ProxyError(error.message) from error

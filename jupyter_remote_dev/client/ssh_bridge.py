"""The server's SSH WebSocket (``{server}remote-dev/ssh``) and the stdin/stdout bridge to it.

The WebSocket is authenticated with the profile's token. This runs for every SSH connection
(:mod:`.commands.ssh_proxy`), so it imports only the ``websockets`` client (no httpx, and no
tornado: the client imports nothing of the server side).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from .. import __version__
from .errors import ClientError
from .profiles import Profile

CHUNK = 256 * 1024
PING_INTERVAL = 30.0


def socket_url(profile: Profile) -> str:
    """The ws(s):// URL of the server's SSH WebSocket."""
    return "ws" + profile.url[len("http") :] + "remote-dev/ssh"


def _tls(profile: Profile) -> ssl.SSLContext | None:
    """The TLS context for a wss:// URL, as the profile's ``verify`` says (None for ws://)."""
    if not profile.url.startswith("https"):
        return None
    verify = profile.verify
    context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def connect(profile: Profile) -> ClientConnection:
    """The open WebSocket; ClientError (with ``status`` for an HTTP answer) if refused."""
    try:
        conn = await websocket_connect(
            socket_url(profile),
            additional_headers={"Authorization": f"token {profile.token}"},
            user_agent_header=f"jupyter-remote-dev/{__version__}",
            ssl=_tls(profile),
            proxy=None,
            compression=None,  # the SSH stream is encrypted: nothing to compress
            open_timeout=15.0,
            ping_interval=PING_INTERVAL,
            ping_timeout=3 * PING_INTERVAL,
            max_size=64 * CHUNK,
        )
    except InvalidStatus as error:
        status = error.response.status_code
        raise ClientError(f"the SSH WebSocket answered {status}", status=status) from error
    except (OSError, TimeoutError, InvalidHandshake) as error:
        raise ClientError(f"cannot connect to {profile.url}: {error}") from error
    sock = conn.transport.get_extra_info("socket")
    if sock is not None:  # SSH sends many small packets: no Nagle delays
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


async def bridge(conn: ClientConnection, stdin_fd: int = 0, stdout_fd: int = 1) -> None:
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
        with contextlib.suppress(ConnectionClosed, ConnectionError):
            while data := await reader.read(CHUNK):
                await conn.send(data)
        await conn.close()

    async def downstream():
        with contextlib.suppress(ConnectionClosed, ConnectionError):
            async for message in conn:
                writer.write(message)
                await writer.drain()
        writer.close()

    up = asyncio.ensure_future(upstream())
    await downstream()
    up.cancel()

"""The server's SSH WebSocket (``{server}remote-dev/ssh``) and the stdin/stdout bridge to it.

The WebSocket is authenticated with the profile's token. This runs for every SSH connection
(:mod:`.commands.ssh_proxy`), so it imports tornado's WebSocket client only, never httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClosedError, websocket_connect

from .. import __version__
from .errors import ClientError
from .profiles import Profile

CHUNK = 256 * 1024
PING_INTERVAL = 30.0


def socket_url(profile: Profile) -> str:
    """The ws(s):// URL of the server's SSH WebSocket."""
    return "ws" + profile.url[len("http") :] + "remote-dev/ssh"


async def connect(profile: Profile):
    """The open WebSocket; HTTPClientError for an HTTP answer, ClientError for no connection."""
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
        raise ClientError(f"cannot connect to {profile.url}: {error}") from error
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

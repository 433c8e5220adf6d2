"""The WebSocket that carries SSH (``{base_url}remote-dev/ssh``) and the key and host-key API.

The WebSocket is authenticated like every endpoint (token, or hub token through the proxy); what
the SSH connection may do is decided here, once, by the authorizer (:class:`~.sessions.Grants`).
Bytes are bridged to the asyncssh server over a socket pair, with ``TCP_NODELAY`` on the WebSocket,
pings for idle proxies, and activity marked for the idle culler. Every handler reaches the
area's :class:`~.service.SshService` through ``self.ssh_service`` (the WebSocket handler borrows
:class:`RemoteDevHandler`'s property), and asks it first whether SSH is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

from jupyter_core.utils import ensure_async
from jupyter_server._tz import utcnow
from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..base.handlers import RemoteDevHandler, api_path
from ..errors import RemoteDevError
from .keys import parse_client_key
from .sessions import CHUNK, Grants

ACTIVITY_KEY = "remote_dev_ssh_last_activity"
"""Counted by the server's ``last_activity`` (every ``*_last_activity`` setting), so the culler
sees SSH traffic."""
ACTIVITY_EVERY = 5.0
AUTH_RESOURCE = "remote_dev:ssh"


class SshSocketHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """One SSH connection over one WebSocket (binary messages carry the raw SSH stream)."""

    auth_resource = AUTH_RESOURCE
    _writer: asyncio.StreamWriter | None = None
    _tasks: tuple = ()
    _marked = 0.0
    ssh_service = RemoteDevHandler.ssh_service

    def set_default_headers(self):
        """No JupyterHandler headers on a WebSocket."""

    @property
    def ping_interval(self):
        return self.ssh_service.ping_interval * 1000  # WebSocketMixin counts milliseconds

    async def _grants(self) -> Grants:
        user = self.current_user
        checks = [("execute", "terminals"), ("read", "contents"), ("write", "contents")]
        allowed = [
            bool(await ensure_async(self.authorizer.is_authorized(self, user, action, resource)))
            for action, resource in checks
        ]
        return Grants(
            who=user.username,
            exec=allowed[0] and self.ssh_service.allow_exec,
            sftp_read=allowed[1],
            sftp_write=allowed[1] and allowed[2],
        )

    @ws_authenticated
    @authorized
    async def get(self, *args, **kwargs):
        try:
            self.ssh_service.check_allowed()
        except RemoteDevError as error:  # not a RemoteDevHandler: no conversion of its own
            raise web.HTTPError(error.status, error.message) from error
        self.grants = await self._grants()
        if not (self.grants.exec or self.grants.sftp_read):
            raise web.HTTPError(403, "this token may neither run commands nor read files")
        await super().get(*args, **kwargs)

    async def open(self, *args, **kwargs):
        super().open(*args, **kwargs)
        self.set_nodelay(True)  # SSH is many small messages: without it transfers crawl
        ours, theirs = socket.socketpair()
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHUNK)
        reader, self._writer = await asyncio.open_connection(sock=ours, limit=CHUNK)
        self.log.info("ssh: %s connected (%s)", self.grants.who, _describe(self.grants))
        self._mark_activity()
        self._tasks = (
            self.ssh_service.serve(theirs, self.grants),
            asyncio.ensure_future(self._pump_out(reader)),
        )

    async def _pump_out(self, reader: asyncio.StreamReader) -> None:
        """SSH server -> WebSocket, one binary message per read, waiting for each to be sent."""
        with contextlib.suppress(WebSocketClosedError, ConnectionError):
            while data := await reader.read(CHUNK):
                await self.write_message(data, binary=True)
                self._mark_activity()
        self.close()

    async def on_message(self, message):
        """WebSocket -> SSH server; tornado reads the next message once this returns."""
        if isinstance(message, str) or self._writer is None:
            self.close(1003, "binary messages only")
            return
        self._writer.write(message)
        self._mark_activity()
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    def on_close(self):
        if self._writer is not None:
            self._writer.close()  # the SSH server sees the connection end: its processes go
        if len(self._tasks) > 1:
            self._tasks[1].cancel()

    def _mark_activity(self) -> None:
        now = time.monotonic()
        if now - self._marked >= ACTIVITY_EVERY:
            self._marked = now
            self.settings[ACTIVITY_KEY] = utcnow()


def _describe(grants: Grants) -> str:
    sftp = "SFTP read-write" if grants.sftp_write else "SFTP read-only" if grants.sftp_read else ""
    return ", ".join(filter(None, ["commands and forwarding" if grants.exec else "", sftp]))


class SshInfoHandler(RemoteDevHandler):
    """GET ssh/host-key: the host key to pin (fetched over this authenticated API, never TOFU)."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    def get(self):
        self.ssh_service.check_allowed()
        self.write_json(self.ssh_service.info())


class SshKeysHandler(RemoteDevHandler):
    """GET ssh/keys: the registered client keys; POST ssh/keys: register one."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    def get(self):
        self.ssh_service.check_allowed()
        self.write_json({"keys": [k.public_dict() for k in self.ssh_service.keys.list()]})

    @web.authenticated
    @authorized
    def post(self):
        service = self.ssh_service
        service.check_allowed()
        body = self.get_json_body()
        if not isinstance(body, dict) or set(body) - {"public_key"}:
            raise RemoteDevError('the body must be {"public_key": "<OpenSSH public key line>"}')
        key = parse_client_key(body.get("public_key"))
        added = service.register(key)
        self.write_json(key.public_dict(), status=201 if added else 200)


class SshKeyHandler(RemoteDevHandler):
    """DELETE ssh/keys/<fingerprint>: stop a key from logging in (``SHA256:...``, URL-encoded)."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    def delete(self, fingerprint: str):
        self.ssh_service.check_allowed()
        if not self.ssh_service.revoke(fingerprint):
            raise RemoteDevError(f"no registered key has the fingerprint {fingerprint!r}", 404)
        self.set_status(204)
        self.finish()


default_handlers = [
    (r"/remote-dev/ssh", SshSocketHandler),
    (api_path("ssh/host-key"), SshInfoHandler),
    (api_path("ssh/keys"), SshKeysHandler),
    (api_path("ssh/keys/([^/]+)"), SshKeyHandler),
]

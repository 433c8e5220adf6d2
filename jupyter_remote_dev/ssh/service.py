"""The SSH area's owner object: host key, registered keys, and one asyncssh server per WebSocket.

No tornado: a connection is served on one end of a socket pair whose other end the WebSocket
handler bridges. No TCP port is opened; password and keyboard-interactive logins are off. With
``allow_ssh`` false the service holds no keys and refuses every use (404 naming the setting).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import getpass
import ipaddress
import logging
import socket
from pathlib import Path

from ..errors import RemoteDevError
from .keys import AuthorizedKeys, ClientKey, asyncssh, load_or_create_host_key, public_line
from .sessions import Grants, RootedSFTPServer, Sessions

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback (the only forwarding target allowed)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(asyncssh.SSHServer):
    """One SSH connection: public-key logins with registered keys only, loopback forwarding."""

    def __init__(self, service: SshService, grants: Grants, sessions: Sessions):
        self.service = service
        self.grants = grants
        self.sessions = sessions

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.service._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self.service.log.info("ssh: %s disconnected", self.grants.who)
        self.service._connections.discard(self.conn)
        self.service._track(asyncio.ensure_future(self.sessions.close()))

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        allowed = self.service.keys.allows(key)
        self.service.log.info(
            "ssh: %s key %s %s",
            self.grants.who,
            key.get_fingerprint("sha256"),
            "accepted" if allowed else "refused (not registered)",
        )
        return allowed

    def connection_requested(self, dest_host, dest_port, orig_host, orig_port):
        if not self.grants.exec:
            raise asyncssh.ChannelOpenError(
                asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, "port forwarding is turned off"
            )
        if not is_loopback(dest_host):
            raise asyncssh.ChannelOpenError(
                asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED,
                "only ports on the server (localhost) may be forwarded to",
            )
        self.service.log.info("ssh: %s forwards to %s:%s", self.grants.who, dest_host, dest_port)
        return True

    def server_requested(self, listen_host, listen_port):
        return False  # no remote forwarding (-R)


class SshService:
    """Everything the SSH area keeps for the life of the server (built by
    :meth:`.settings.SshSettings.make_ssh_service`)."""

    def __init__(
        self,
        *,
        state_dir: str | Path,
        root: str,
        shell: list[str],
        allow_exec: bool,
        kill_grace: float,
        keepalive_interval: float,
        ping_interval: float = 30.0,
        login_timeout: float = 30.0,
        log: logging.Logger | None = None,
        allowed: bool = True,
    ):
        self.log = log or logging.getLogger(__name__)
        folder = Path(state_dir)
        self.allowed = allowed
        self.state_dir = folder
        self.root = root
        self.shell = list(shell)
        self.allow_exec = allow_exec
        self.kill_grace = kill_grace
        self.keepalive_interval = keepalive_interval
        self.ping_interval = ping_interval
        """Seconds between WebSocket pings (the handler sends them)."""
        self.login_timeout = login_timeout
        self.host_key = load_or_create_host_key(folder) if allowed else None
        self.keys = AuthorizedKeys(folder) if allowed else None
        self._tasks: set[asyncio.Future] = set()
        self._connections: set[asyncssh.SSHServerConnection] = set()

    def _track(self, task: asyncio.Future) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def check_allowed(self) -> None:
        """404 naming the setting when SSH is turned off."""
        if not self.allowed:
            raise RemoteDevError(
                "SSH is turned off on this server (RemoteDevExtension.allow_ssh)", status=404
            )

    def start(self) -> None:
        """Nothing runs until a WebSocket connects."""

    def info(self) -> dict:
        """What a client pins and logs in with: the host key and the user name."""
        return {
            "host_key": public_line(self.host_key),
            "host_key_fingerprint": self.host_key.get_fingerprint("sha256"),
            "user": _login_name(),
            "exec": self.allow_exec,
        }

    def register(self, key: ClientKey) -> bool:
        """Allow ``key`` to log in; False if it already could."""
        added = self.keys.add(key)
        if added:
            self.log.info(
                "ssh: registered key %s (%s)", key.fingerprint, key.comment or "no comment"
            )
        return added

    def revoke(self, fingerprint: str) -> bool:
        """Stop the key with ``fingerprint`` from logging in (open connections stay); False if
        no registered key has it."""
        removed = self.keys.remove(fingerprint)
        if removed:
            self.log.info("ssh: revoked key %s", fingerprint)
        return removed

    def serve(self, sock: socket.socket, grants: Grants) -> asyncio.Future:
        """Run an SSH server connection on ``sock`` with what ``grants`` allows (a task)."""
        sessions = Sessions(
            grants, root=self.root, shell=self.shell, kill_grace=self.kill_grace, log=self.log
        )
        task = asyncio.ensure_future(self._serve(sock, grants, sessions))
        self._track(task)
        return task

    async def _serve(self, sock: socket.socket, grants: Grants, sessions: Sessions) -> None:
        sftp = functools.partial(RootedSFTPServer, root=self.root, grants=grants, log=self.log)
        try:
            await asyncssh.run_server(
                sock,
                server_factory=lambda: _Server(self, grants, sessions),
                server_host_keys=[self.host_key],
                process_factory=sessions.handle,
                sftp_factory=sftp if grants.sftp_read else None,
                allow_scp=False,  # scp uses SFTP since OpenSSH 9
                encoding=None,
                password_auth=False,
                kbdint_auth=False,
                agent_forwarding=False,
                x11_forwarding=False,
                keepalive_interval=self.keepalive_interval,
                login_timeout=self.login_timeout,
            )
        except (asyncssh.Error, OSError, asyncio.TimeoutError) as error:
            self.log.info("ssh: %s: connection ended before login: %s", grants.who, error)
            sock.close()
            await sessions.close()

    async def stop(self) -> None:
        """Server shutdown: connections end, their processes are stopped."""
        for conn in list(self._connections):
            conn.abort()
        await asyncio.sleep(0)  # connection_lost runs: each stops its processes (a task)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "jovyan"

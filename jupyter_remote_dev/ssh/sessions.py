"""What one SSH connection may do, and its sessions: commands, shells, ptys and SFTP. No tornado.

Every command or shell runs in its own session and process group (like POST exec); the groups a
connection started are stopped (SIGTERM, SIGKILL after the grace) when the connection ends, so a
dropped connection leaves no process behind. A process that moves itself into a new session
(``setsid``) escapes this, as it escapes exec.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import posixpath
import pwd
import signal
import struct
import termios
from dataclasses import dataclass

from ..exec.runner import group_members, kill_group
from .keys import asyncssh

CHUNK = 256 * 1024
"""Bytes read from a command's pipes at a time."""
CLIENT_ENV = ("LANG", "LANGUAGE", "LC_")
"""Variables a client may set (``SendEnv``), as OpenSSH's default ``AcceptEnv``."""


@dataclass(frozen=True)
class Grants:
    """What the WebSocket's token may do over SSH, decided by the authorizer when it connected."""

    who: str
    """The Jupyter user, for logs."""
    exec: bool
    """Commands, shells and port forwarding (``allow_exec`` and the ``terminals`` resource)."""
    sftp_read: bool
    """SFTP reads (the ``contents`` resource, read)."""
    sftp_write: bool
    """SFTP writes (the ``contents`` resource, write)."""


def _login_shell(fallback: str) -> str:
    """The account's shell; ``fallback`` for a uid with no passwd entry (OpenShift) or a shell
    that refuses logins (nologin, false), as container users often have."""
    try:
        shell = pwd.getpwuid(os.getuid()).pw_shell
    except KeyError:
        return fallback
    return shell if shell and os.path.basename(shell) not in ("nologin", "false") else fallback


def _take_terminal() -> None:
    """In the child: make the pty on stdin the controlling terminal of the new session."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Sessions:
    """The command and shell sessions of one SSH connection."""

    def __init__(
        self, grants: Grants, *, root: str, shell: list[str], kill_grace: float, log: logging.Logger
    ):
        self.log = log
        self.grants = grants
        self.root = root
        self.shell = shell
        self.kill_grace = kill_grace
        self.groups: set[int] = set()

    async def handle(self, process: asyncssh.SSHServerProcess) -> None:
        """Run one session channel: its command (or a login shell) with the channel as its I/O."""
        if not self.grants.exec:
            process.stderr.write(
                b"running commands is turned off on this server (RemoteDevExtension.allow_exec) "
                b"or not allowed for this token; SFTP works\n"
            )
            process.exit(1)
            return
        if process.subsystem:
            process.stderr.write(f"unknown subsystem {process.subsystem}\n".encode())
            process.exit(1)
            return
        command = process.command
        argv = (
            [*self.shell, command] if command is not None else [_login_shell(self.shell[0]), "-l"]
        )
        term = process.get_terminal_type()
        env = dict(os.environ)
        env.update((k, v) for k, v in process.env.items() if str(k).startswith(CLIENT_ENV))
        if term:
            env["TERM"] = term
        what = repr(command) if command is not None else "a login shell"
        self.log.info("ssh: %s runs %s%s", self.grants.who, what, " on a pty" if term else "")
        try:
            child = await (
                self._spawn_pty(argv, env, process) if term else self._spawn(argv, env, process)
            )
        except OSError as error:
            process.stderr.write(f"cannot run {argv[0]}: {error.strerror}\n".encode())
            process.exit(127)
            return
        try:
            await self._finish(process, child)
        finally:  # also awaits asyncssh's clean-up of the pipes (else "never awaited")
            with contextlib.suppress(OSError, asyncssh.Error):
                await process.wait_closed()

    async def _spawn(self, argv, env, process) -> asyncio.subprocess.Process:
        pipes = [os.pipe2(os.O_CLOEXEC) for _ in range(3)]
        try:
            child = await asyncio.create_subprocess_exec(
                *argv, stdin=pipes[0][0], stdout=pipes[1][1], stderr=pipes[2][1],
                cwd=self.root, env=env, start_new_session=True,
            )  # fmt: skip
        except BaseException:
            for pipe in pipes:
                for fd in pipe:
                    os.close(fd)
            raise
        for fd in (pipes[0][0], pipes[1][1], pipes[2][1]):
            os.close(fd)
        self.groups.add(child.pid)
        process.set_redirect_pid(child.pid)  # signals the client sends go to the command
        await process.redirect(
            stdin=os.fdopen(pipes[0][1], "wb", buffering=0),
            stdout=os.fdopen(pipes[1][0], "rb", buffering=0),
            stderr=os.fdopen(pipes[2][0], "rb", buffering=0),
            bufsize=CHUNK,
        )
        return child

    async def _spawn_pty(self, argv, env, process) -> asyncio.subprocess.Process:
        main, tty = os.openpty()
        os.set_inheritable(main, False)
        width, height, pixels_x, pixels_y = process.get_terminal_size()
        # the size before the program starts (asyncssh sets it only once the pty is redirected)
        fcntl.ioctl(tty, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, pixels_x, pixels_y))
        try:
            child = await asyncio.create_subprocess_exec(
                *argv, stdin=tty, stdout=tty, stderr=tty, cwd=self.root, env=env,
                start_new_session=True, preexec_fn=_take_terminal,
            )  # fmt: skip
        except BaseException:
            os.close(main)
            raise
        finally:
            os.close(tty)
        self.groups.add(child.pid)
        process.set_redirect_pid(child.pid)  # window changes and signals go to the shell
        await process.redirect(
            stdin=os.fdopen(os.dup(main), "wb", buffering=0),
            stdout=os.fdopen(main, "rb", buffering=0),
            bufsize=CHUNK,
        )
        return child

    async def _finish(self, process, child: asyncio.subprocess.Process) -> None:
        """Wait for the command, send its output to the end, then its exit status or signal."""
        exited = asyncio.ensure_future(child.wait())
        closed = asyncio.ensure_future(process.channel.wait_closed())
        await asyncio.wait({exited, closed}, return_when=asyncio.FIRST_COMPLETED)
        if not exited.done():  # the client closed the channel: the command goes
            exited.cancel()
            await kill_group(child.pid, self.kill_grace)
            return
        closed.cancel()
        drained = asyncio.gather(process.stdout.drain(), process.stderr.drain())
        with contextlib.suppress(asyncio.TimeoutError, OSError, asyncssh.Error):
            # an escaped background process may hold the pipes open: do not wait for it forever
            await asyncio.wait_for(drained, max(self.kill_grace, 1.0))
        if not group_members(child.pid):  # all gone: never signal that id again (reuse)
            self.groups.discard(child.pid)
        code = child.returncode
        with contextlib.suppress(OSError, asyncssh.Error):
            if code >= 0:
                process.exit(code)
            else:
                process.exit_with_signal(signal.Signals(-code).name.removeprefix("SIG"))

    async def close(self) -> None:
        """Stop every process group this connection started (the connection is gone)."""
        groups, self.groups = self.groups, set()
        await asyncio.gather(*(kill_group(pgid, self.kill_grace) for pgid in groups))


class RootedSFTPServer(asyncssh.SFTPServer):
    """SFTP with relative paths starting at the server root, and an exit status at the end.

    With exec granted, absolute paths reach the whole file system (the token may run commands
    anyway) and ``.`` is the root, as OpenSSH's home. Without it, the root is a chroot, and a path
    that resolves (symlinks followed) outside the root is refused. Without ``sftp_write``, writes
    are refused.
    """

    def __init__(self, chan, *, root: str, grants: Grants, log: logging.Logger):
        self._confined = not grants.exec
        self._writable = grants.sftp_write
        self._root = os.path.realpath(root).encode()
        super().__init__(chan, chroot=self._root if self._confined else None)
        log.info("ssh: %s opened SFTP%s", grants.who, "" if self._writable else " (read-only)")

    def map_path(self, path: bytes) -> bytes:
        if not self._confined:
            return posixpath.join(self._root, path)  # an absolute path stays as it is
        mapped = super().map_path(path)
        real = os.path.realpath(mapped)
        if real != self._root and not real.startswith(self._root + b"/"):
            raise asyncssh.SFTPPermissionDenied("outside the server root")
        return mapped

    def _check_write(self) -> None:
        if not self._writable:
            raise asyncssh.SFTPPermissionDenied("read-only: this token may not write files")

    def open(self, path, pflags, attrs):
        if pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_APPEND | asyncssh.FXF_CREAT):
            self._check_write()
        return super().open(path, pflags, attrs)

    def open56(self, path, desired_access, flags, attrs):
        if desired_access & (asyncssh.ACE4_WRITE_DATA | asyncssh.ACE4_APPEND_DATA):
            self._check_write()
        return super().open56(path, desired_access, flags, attrs)

    def exit(self) -> None:
        """Report success: without an exit status OpenSSH's scp (SFTP mode) exits 1."""
        with contextlib.suppress(OSError):
            self.channel.exit(0)


def _refuse_when_read_only(name: str):
    method = getattr(asyncssh.SFTPServer, name)

    def guarded(self, *args):
        self._check_write()
        return method(self, *args)

    guarded.__name__ = name
    return guarded


for _name in (
    "setstat", "lsetstat", "fsetstat", "remove", "mkdir", "rmdir", "rename", "posix_rename",
    "symlink", "link", "write",
):  # fmt: skip
    setattr(RootedSFTPServer, _name, _refuse_when_read_only(_name))

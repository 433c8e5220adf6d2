"""``run -- CMD...``: run a command on the server, stream its output, exit with its exit code.

Consumes ``POST exec``'s ndjson events: ``stdout``/``stderr`` (``data`` text or ``data_b64``
bytes) go to the matching local stream as they arrive; ``exit`` ends the run with the remote code
(a signal ``N`` gives ``128 + N``, as a shell does). A stream that ends without an ``exit`` event
is a lost connection: exit 255 with a message, never 0. Ctrl-C asks the server to stop the command
(``DELETE exec/<id>``); closing the connection stops it too.

Local stdin (a pipe, a file or a terminal) is forwarded as it is read, piece by piece
(``stdin_stream`` and ``POST exec/<id>/stdin``): the command starts at once, and a terminal's
lines reach it as they are typed, Ctrl-D ending its input. A program that cannot be started
exits 127 (not found) or 126 (not executable), as in a shell.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
from pathlib import Path
from typing import BinaryIO

from traitlets import Bool, Float, Unicode

from ...cliapp import ERROR_PREFIX
from ..api import RemoteDevClient
from ..errors import ClientError
from ..sync.state import SyncState, find_root
from .base import START_FLAG, CommandLineError, RemoteDevCommand

LOST_CONNECTION_EXIT = 255
INTERRUPTED_EXIT = 130
#: Exit codes of a shell for a program it cannot start, by the server's ``reason``.
CANNOT_RUN_EXIT = {"command not found": 127, "not executable": 126}
STDIN_PIECE = 1024 * 1024  # the most one POST exec/<id>/stdin takes


class ConnectionLost(ClientError):
    """The event stream ended before the command's exit event."""

    exit_code = LOST_CONNECTION_EXIT


class CannotRun(ClientError):
    """The server could not start the program: exit as a shell would."""


def _write(stream: BinaryIO, event: dict) -> None:
    if "data_b64" in event:
        stream.write(base64.b64decode(event["data_b64"]))
    else:
        stream.write(event.get("data", "").encode("utf-8"))
    stream.flush()


def exit_code_of(event: dict) -> int:
    """The local exit code for an ``exit`` event."""
    if "code" in event:
        return int(event["code"])
    return 128 + int(event.get("signal", 9))


def run_remote(
    client: RemoteDevClient,
    argv: list[str],
    cwd: str = "",
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
    stdin_fd: int | None = None,
) -> int:
    """Run ``argv`` in ``cwd`` (server-relative), streaming its output and, if ``stdin_fd`` is
    given, its input; return its exit code."""
    stdout = stdout or sys.stdout.buffer
    stderr = stderr or sys.stderr.buffer
    body: dict = {"argv": argv, "cwd": cwd}
    if env:
        body["env"] = env
    if timeout:
        body["timeout"] = timeout
    if stdin_fd is not None:
        body["stdin_stream"] = True
    job_id = None
    try:
        with client.stream("POST", client.api_url("exec"), json=body, timeout=None) as response:
            for line in response.iter_lines():
                if not line.strip():
                    continue
                event = json.loads(line)
                kind = event.get("type")
                if kind == "start":
                    job_id = event.get("id")
                    if stdin_fd is not None:
                        forward_stdin(client, job_id, stdin_fd)
                elif kind == "stdout":
                    _write(stdout, event)
                elif kind == "stderr":
                    _write(stderr, event)
                elif kind == "timeout":
                    note = f"{ERROR_PREFIX}timed out after {event.get('timeout')} s\n"
                    stderr.write(note.encode())
                elif kind == "dropped":
                    note = f"{ERROR_PREFIX}{event.get('events')} output events were dropped\n"
                    stderr.write(note.encode())
                elif kind == "exit":
                    return exit_code_of(event)
    except KeyboardInterrupt:
        _stop(client, job_id)
        return INTERRUPTED_EXIT
    except ClientError as e:
        reason = e.answer.get("reason")
        if reason in CANNOT_RUN_EXIT:
            cannot = CannotRun(f"{e.answer.get('message')} ({reason})", e.status)
            cannot.exit_code = CANNOT_RUN_EXIT[reason]
            raise cannot from e
        if e.status is not None:
            raise
        raise ConnectionLost(
            f"lost the connection while the command ran ({e.message}); its exit status is "
            "unknown and the server stops it"
        ) from e
    raise ConnectionLost(
        "the connection closed before the command finished; its exit status is unknown"
    )


def forward_stdin(client: RemoteDevClient, job_id: str, fd: int) -> threading.Thread:
    """Send what ``fd`` gives to the job's stdin, piece by piece, then end it (a daemon thread:
    it never holds the CLI up when the command exits without reading everything)."""
    url = client.api_url(f"exec/{job_id}/stdin")

    def pump() -> None:
        try:
            while True:
                piece = os.read(fd, STDIN_PIECE)
                params = {"eof": "0" if piece else "1"}
                answer = client.request("POST", url, content=piece, params=params).json()
                if not piece or not answer.get("accepted"):
                    return  # input ended, or the command stopped reading it
        except Exception:  # best effort, and never a traceback
            return  # the command ended and was forgotten, the CLI is closing, or stdin went away

    thread = threading.Thread(target=pump, name="stdin", daemon=True)
    thread.start()
    return thread


def _stop(client: RemoteDevClient, job_id: str | None) -> None:
    """Ask the server to stop job ``job_id`` (best effort: the dropped stream stops it too)."""
    if job_id is None:
        return
    try:
        client.request("DELETE", client.api_url(f"exec/{job_id}"), timeout=5.0)
    except ClientError:
        pass


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

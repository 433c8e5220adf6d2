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
from typing import BinaryIO

from ..cliapp import ERROR_PREFIX
from .api import RemoteDevClient
from .errors import ClientError

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

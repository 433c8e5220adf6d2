"""``run -- CMD...``: run a command on the server, stream its output, exit with its exit code.

Consumes ``POST exec``'s ndjson events: ``stdout``/``stderr`` (``data`` text or ``data_b64``
bytes) go to the matching local stream as they arrive; ``exit`` ends the run with the remote code
(a signal ``N`` gives ``128 + N``, as a shell does). A stream that ends without an ``exit`` event
is a lost connection: exit 255 with a message, never 0. Ctrl-C asks the server to stop the command
(``DELETE exec/<id>``); closing the connection stops it too.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import BinaryIO

from .api import ClientError, RemoteDevClient

LOST_CONNECTION_EXIT = 255
INTERRUPTED_EXIT = 130


class ConnectionLost(ClientError):
    """The event stream ended before the command's exit event."""

    exit_code = LOST_CONNECTION_EXIT


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
) -> int:
    """Run ``argv`` in ``cwd`` (server-relative), streaming its output; return its exit code."""
    stdout = stdout or sys.stdout.buffer
    stderr = stderr or sys.stderr.buffer
    body: dict = {"argv": argv, "cwd": cwd}
    if env:
        body["env"] = env
    if timeout:
        body["timeout"] = timeout
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
                elif kind == "stdout":
                    _write(stdout, event)
                elif kind == "stderr":
                    _write(stderr, event)
                elif kind == "timeout":
                    stderr.write(f"remote-dev: timed out after {event.get('timeout')} s\n".encode())
                elif kind == "dropped":
                    note = f"remote-dev: {event.get('events')} output events were dropped\n"
                    stderr.write(note.encode())
                elif kind == "exit":
                    return exit_code_of(event)
    except KeyboardInterrupt:
        _stop(client, job_id)
        return INTERRUPTED_EXIT
    except ClientError as e:
        if e.status is not None:
            raise
        raise ConnectionLost(
            f"lost the connection while the command ran ({e.message}); its exit status is "
            "unknown and the server stops it"
        ) from e
    raise ConnectionLost(
        "the connection closed before the command finished; its exit status is unknown"
    )


def _stop(client: RemoteDevClient, job_id: str | None) -> None:
    """Ask the server to stop job ``job_id`` (best effort: the dropped stream stops it too)."""
    if job_id is None:
        return
    try:
        client.request("DELETE", client.api_url(f"exec/{job_id}"), timeout=5.0)
    except ClientError:
        pass

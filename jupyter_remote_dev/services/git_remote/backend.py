"""Run ``git http-backend`` (a CGI program) for one request, streaming both ways.

The request body is fed to its stdin while it arrives; its stdout is read from the start (so a
backend that answers before it has read everything never blocks on a full pipe), split into CGI
headers and body.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from .policy import PUSHER_ENV
from .quota import Limits

CHUNK = 64 * 1024
MAX_HEADER_BYTES = 64 * 1024
STDERR_TAIL = 4096
#: variables of ours a hook or git may need; the service's hub token is deliberately not passed
PASSED_ENV = ("PATH", "PYTHONPATH", "HOME", "TMPDIR", "VIRTUAL_ENV")


class BackendError(Exception):
    """``git http-backend`` ended without a valid CGI answer."""


def cgi_environment(
    *,
    project_root: Path,
    hooks: Path,
    method: str,
    path_info: str,
    query: str,
    headers: dict[str, str],
    user: str,
    remote_addr: str,
    limits: Limits,
) -> dict[str, str]:
    """The CGI variables ``git http-backend`` reads, with our pre-receive hook as core.hooksPath
    (and the size limits it checks)."""
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.update(limits.environment())
    env.update(
        LANG="C",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_COUNT="1",
        GIT_CONFIG_KEY_0="core.hooksPath",
        GIT_CONFIG_VALUE_0=str(hooks),
        GIT_PROJECT_ROOT=str(project_root),
        GIT_HTTP_EXPORT_ALL="1",
        GATEWAY_INTERFACE="CGI/1.1",
        REQUEST_METHOD=method,
        PATH_INFO=path_info,
        QUERY_STRING=query,
        REMOTE_USER=user,
        REMOTE_ADDR=remote_addr,
        **{PUSHER_ENV: user},
    )
    for header, variable in (
        ("Content-Type", "CONTENT_TYPE"),
        ("Content-Length", "CONTENT_LENGTH"),
        ("Content-Encoding", "HTTP_CONTENT_ENCODING"),
        ("Git-Protocol", "HTTP_GIT_PROTOCOL"),
    ):
        if headers.get(header):
            env[variable] = headers[header]
    return env


class BackendProcess:
    """One running ``git http-backend``: write the body, then read status, headers and body."""

    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process
        self.output: asyncio.Queue[bytes] = asyncio.Queue()
        self.stderr = b""
        self._pumps = [
            asyncio.ensure_future(self._pump_stdout()),
            asyncio.ensure_future(self._pump_stderr()),
        ]

    @classmethod
    async def start(cls, git: str, env: dict[str, str]) -> BackendProcess:
        process = await asyncio.create_subprocess_exec(
            git, "http-backend",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, start_new_session=True,
        )  # fmt: skip
        return cls(process)

    async def _pump_stdout(self) -> None:
        while chunk := await self.process.stdout.read(CHUNK):
            self.output.put_nowait(chunk)
        self.output.put_nowait(b"")

    async def _pump_stderr(self) -> None:
        while chunk := await self.process.stderr.read(CHUNK):
            self.stderr = (self.stderr + chunk)[-STDERR_TAIL:]

    async def write(self, chunk: bytes) -> None:
        """Feed request body bytes (a backend that stopped reading makes this a no-op)."""
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.process.stdin.write(chunk)
            await self.process.stdin.drain()

    async def response(self) -> tuple[int, list[tuple[str, str]], AsyncIterator[bytes]]:
        """(status, headers, body chunks) once the request body is complete."""
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.process.stdin.close()
        head = b""
        while b"\r\n\r\n" not in head and b"\n\n" not in head:
            chunk = await self.output.get()
            if not chunk or len(head) > MAX_HEADER_BYTES:
                await self.process.wait()
                detail = self.stderr.decode("utf-8", "replace").strip()
                raise BackendError(f"git http-backend gave no answer: {detail or 'no output'}")
            head += chunk
        separator = b"\r\n\r\n" if b"\r\n\r\n" in head else b"\n\n"
        header_block, rest = head.split(separator, 1)
        status, headers = 200, []
        for line in header_block.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name.strip(), value.strip()))
        return status, headers, self._body(rest)

    async def _body(self, first: bytes) -> AsyncIterator[bytes]:
        if first:
            yield first
        while chunk := await self.output.get():
            yield chunk
        await self.process.wait()

    async def close(self) -> None:
        """End the backend (if still running) and its pumps; safe to call more than once."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
        await asyncio.gather(*self._pumps, return_exceptions=True)

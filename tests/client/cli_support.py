"""Plain helpers for the client tests: the CLI in a subprocess, a loopback forwarder that can drop
connections, and small file helpers. Fixtures (laptop, server_url, token) are in conftest.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

CLI = shutil.which("jupyter-remote-dev") or "jupyter-remote-dev"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


class Forwarder:
    """A loopback TCP forwarder to the server that can drop every connection (a network blip),
    slow the traffic to ``rate`` bytes per second each way (a slow network; None: full speed),
    and hang a request (a hung server): once bytes containing ``stall`` go up a connection,
    nothing more passes on it either way (``stalled`` is set)."""

    def __init__(self, target_port: int, rate: float | None = None):
        self.target_port = target_port
        self.up = True
        self.rate = rate
        self.stall: bytes | None = None
        self.stalled = asyncio.Event()
        self.upstream_bytes = 0
        self.writers: set[asyncio.StreamWriter] = set()
        self.handlers: set[asyncio.Task] = set()

    async def start(self) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        # a small receive buffer, so the client cannot run far ahead of the slowed traffic
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        self.server = await asyncio.start_server(self._handle, sock=listener)
        return self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader, writer):
        if not self.up:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers |= {writer, up_writer}
        self.handlers.add(asyncio.current_task())

        async def pipe(source, sink, upstream: bool):
            with contextlib.suppress(OSError, RuntimeError):
                while data := await source.read(65536):
                    if upstream and self.stall and self.stall in data:
                        self.stalled.set()
                        while not sink.is_closing():  # until the connection is dropped
                            await asyncio.sleep(0.05)
                        break
                    if self.rate:
                        await asyncio.sleep(len(data) / self.rate)
                    sink.write(data)
                    await sink.drain()
                    self.upstream_bytes += len(data) if upstream else 0
            sink.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))

    def drop(self, stay_down: bool = True) -> None:
        self.up = not stay_down
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    async def close(self) -> None:
        self.drop()
        if pending := {task for task in self.handlers if not task.done()}:
            await asyncio.wait(pending, timeout=5)  # a stalled one ends once dropped
        self.server.close()
        await self.server.wait_closed()


async def cli(laptop, *args, stdin: str | None = None, cwd=None, timeout=60) -> Result:
    """Run the CLI in a subprocess while the server keeps serving on this event loop."""
    process = await asyncio.create_subprocess_exec(
        CLI, *args,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=laptop["env"], cwd=cwd or laptop["project"],
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(stdin and stdin.encode()), timeout)
    return Result(process.returncode, out.decode(), err.decode())


async def login(laptop, server_url, token, *args):
    """Log the laptop in (``args``: e.g. a profile); return the laptop."""
    result = await cli(laptop, "login", server_url, "--token-stdin", *args, stdin=token + "\n")
    assert result.returncode == 0, result.stderr
    return laptop


async def wait_for(predicate, timeout=15.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def server_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def write(root, files: dict[str, str]) -> None:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


async def run_in_terminal(laptop, args, answer: bytes) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin and stderr; type ``answer`` at the prompt."""
    main, child = pty.openpty()
    process = await asyncio.create_subprocess_exec(
        CLI, *args, stdin=child, stdout=subprocess.PIPE, stderr=child,
        env=laptop["env"], cwd=laptop["project"],
    )  # fmt: skip
    os.close(child)
    seen = b""
    loop = asyncio.get_running_loop()
    try:
        while b"[y/N]" not in seen:
            chunk = await asyncio.wait_for(loop.run_in_executor(None, os.read, main, 1024), 30)
            assert chunk, f"the CLI ended without asking: {seen!r}"
            seen += chunk
        os.write(main, answer)
        await asyncio.wait_for(process.wait(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        os.close(main)
    return process.returncode, seen.decode()

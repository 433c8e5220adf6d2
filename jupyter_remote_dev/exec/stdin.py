"""A command's stdin: the request's whole ``stdin`` fed at once, or the pieces of a
``stdin_stream`` command posted one at a time (POST exec/<id>/stdin), in the order they came."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from ..errors import ConflictError


class StdinPump:
    """Writes to one command's stdin pipe (``None`` when it was started without one)."""

    def __init__(
        self,
        job_id: str,
        pipe: asyncio.StreamWriter | None,
        streamed: bool,
        running: Callable[[], bool],
    ):
        self.job_id = job_id
        self.pipe = pipe
        self.streamed = streamed
        self.running = running
        self._lock = asyncio.Lock()

    async def feed(self, data: bytes) -> None:
        """Write the request's whole ``stdin``, then close the pipe (the command sees EOF)."""
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.pipe.write(data)
            await self.pipe.drain()
        self.pipe.close()

    async def write(self, data: bytes, eof: bool) -> bool:
        """Feed a ``stdin_stream`` command's stdin (then close it if ``eof``); False when the
        command no longer reads it (it ended, or closed its stdin)."""
        if not self.streamed:
            raise ConflictError(
                f'command {self.job_id} was started without "stdin_stream": true; '
                "its stdin is closed"
            )
        pipe = self.pipe
        async with self._lock:  # one piece at a time, in the order they came
            if not self.running() or pipe.is_closing():
                return False
            try:
                if data:
                    pipe.write(data)
                    await pipe.drain()
            except (BrokenPipeError, ConnectionResetError):
                pipe.close()
                return False
            if eof:
                pipe.close()
        return True

    def close(self) -> None:
        if self.pipe is not None:
            self.pipe.close()

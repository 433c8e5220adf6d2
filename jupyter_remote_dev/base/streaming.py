"""Streamed request bodies: fed to blocking file writes without stalling the event loop, and
refused before they are read without leaving a keep-alive client a dead connection."""

from __future__ import annotations

import asyncio

from ..errors import RemoteDevError

BLOCK = 1024 * 1024


class BodySink:
    """Feeds a streamed request body to a blocking ``write``.

    Small bodies are written inline (a 4 KiB save costs no thread hop). Big ones are gathered in
    1 MiB blocks, each written (and hashed) in a worker thread while the next block arrives; a
    few MiB at most are held, because ``feed`` hands tornado the previous write to wait for.
    """

    def __init__(self, write, limit: int, inline: bool, limit_name: str = "max_upload_size"):
        self.write, self.limit, self.inline, self.limit_name = write, limit, inline, limit_name
        self.received = 0
        self.pending: asyncio.Future | None = None
        self._blocks: list[bytes] = []
        self._buffered = 0
        self._error: BaseException | None = None

    def feed(self, chunk: bytes) -> asyncio.Future | None:
        """Take a chunk; 413 past ``limit``; may return a future tornado waits on (flow control)."""
        self.received += len(chunk)
        if self.received > self.limit:
            raise RemoteDevError(f"body exceeds {self.limit_name} ({self.limit} bytes)", status=413)
        if self.inline:
            self.write(chunk)
            return None
        self._blocks.append(chunk)
        self._buffered += len(chunk)
        return self._hand_off() if self._buffered >= BLOCK else None

    def _hand_off(self) -> asyncio.Future | None:
        blocks, self._blocks, self._buffered = self._blocks, [], 0
        previous = self.pending
        self.pending = asyncio.ensure_future(self._write_after(previous, blocks))
        return previous

    async def _write_after(self, previous, blocks: list[bytes]) -> None:
        if previous is not None:
            await previous
        if self._error is None:
            try:
                await asyncio.to_thread(self.write, b"".join(blocks))
            except Exception as error:  # re-raised by drain(), inside the verb
                self._error = error

    async def drain(self) -> None:
        """Write what is still buffered, wait for it, and re-raise any write error."""
        if self._blocks:
            self._hand_off()
        if self.pending is not None:
            await self.pending
        if self._error is not None:
            raise self._error

    def after_writes(self, callback, keep: bool = False) -> None:
        """Run ``callback`` once no write is in flight (cleanup after a dropped connection);
        with ``keep``, what is still buffered is written first."""
        if keep and self._blocks:
            self._hand_off()
        if self.pending is None or self.pending.done():
            callback()
        else:
            self.pending.add_done_callback(lambda _: callback())


class ClosesUnreadBodyMixin:
    """For ``@web.stream_request_body`` handlers: an answer sent before the whole body was read
    (a refusal in ``prepare()``, even of a GET without a body, or one in the middle of a body)
    says ``Connection: close``.

    tornado drops such a connection after the answer; a keep-alive client that was not told
    (configurable-http-proxy among them) would send its next request into it and get a reset,
    which the hub's proxy answers with 503 "socket hang up".
    """

    def finish(self, *args, **kwargs):
        body_read = getattr(self.request, "_body_future", None)  # set by @stream_request_body
        if not self._headers_written and body_read is not None and not body_read.done():
            self.set_header("Connection", "close")
        return super().finish(*args, **kwargs)


class StreamedBodyMixin(ClosesUnreadBodyMixin):
    """``data_received``, ``on_finish`` and ``on_connection_close`` of a streamed-body handler.

    ``prepare()`` sets ``self.sink`` (a :class:`BodySink`) and ``self.release``, called once no
    write is in flight when the request ends or is refused (it discards a partial file; a no-op
    after a successful install). A body past the limit answers 413 at once.
    """

    sink: BodySink | None = None
    keep_on_disconnect = False
    """True: on a dropped connection, what is still buffered is written before ``release``."""

    def data_received(self, chunk: bytes) -> asyncio.Future | None:
        if self._finished or self.sink is None:
            return None
        try:
            return self.sink.feed(chunk)
        except RemoteDevError as error:
            self.sink.after_writes(self.release)
            self.refuse(error)
            return None

    def on_connection_close(self):
        if self.sink is not None:
            self.sink.after_writes(self.release, keep=self.keep_on_disconnect)
        super().on_connection_close()

    def on_finish(self):
        if self.sink is not None:
            self.sink.after_writes(self.release)
        super().on_finish()

"""Streamed request bodies: fed to blocking file writes without stalling the event loop, and
refused before they are read without leaving a keep-alive client a dead connection."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from ..errors import RemoteDevError

BLOCK = 1024 * 1024
LINGER_SECONDS = 30.0
"""How long a connection answered before its body was read keeps reading (and dropping) the rest
of the body before it is closed, like Apache's and nginx's lingering close."""


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


def body_unread(request) -> bool:
    """Whether a ``@web.stream_request_body`` request's body is not all read yet."""
    body = getattr(request, "_body_future", None)  # set by @stream_request_body
    return body is not None and not body.done()


def close_after_body(request, seconds: float = LINGER_SECONDS) -> None:
    """Close ``request``'s connection only once its body has been read (and dropped), or after
    ``seconds``: a lingering close, as Apache and nginx do it (our side is shut down for writing
    once the answer is out, so the client sees its end at once; reading goes on).

    tornado closes a connection answered before its body is in at once; with body bytes still
    unread, the kernel then resets the connection, and a proxy still sending the body
    (configurable-http-proxy) loses the answer and says 503 instead. tornado keeps reading the
    body meanwhile, handing it to the finished handler (whose ``data_received`` drops it).
    """
    connection = request.connection
    if not body_unread(request) or getattr(connection, "lingering", False):
        return
    close = connection.close

    async def close_when_read():
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        stream = connection.stream
        while not connection._read_finished and stream is not None and not stream.closed():
            if loop.time() > deadline:
                break
            await asyncio.sleep(0.05)
        close()

    def lingering_close():
        connection.close = close
        sock = getattr(connection.stream, "socket", None)
        with contextlib.suppress(OSError):
            if sock is not None:
                sock.shutdown(socket.SHUT_WR)  # the answer is written: FIN after it
        asyncio.ensure_future(close_when_read())

    connection.close, connection.lingering = lingering_close, True


class ClosesUnreadBodyMixin:
    """For ``@web.stream_request_body`` handlers: an answer sent before the whole body was read
    (a refusal in ``prepare()``, even of a GET without a body, or one in the middle of a body)
    says ``Connection: close``, and the connection is closed only once the rest of the body has
    been read and dropped (:func:`close_after_body`).

    tornado drops such a connection after the answer; a keep-alive client that was not told
    (configurable-http-proxy among them) would send its next request into it and get a reset,
    which the hub's proxy answers with 503 "socket hang up". A client still sending the body when
    the connection closes gets a reset too, and loses the answer: the proxy says 503 again.
    """

    def close_unread_body(self) -> None:
        """Say ``Connection: close`` (if the headers are not out yet) and close lingering, when
        answering before the whole body is read; call before the headers are written."""
        if body_unread(self.request):
            if not self._headers_written:
                self.set_header("Connection", "close")
            close_after_body(self.request)

    def finish(self, *args, **kwargs):
        self.close_unread_body()
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

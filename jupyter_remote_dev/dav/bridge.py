"""A streaming WSGI bridge: a request body piped to an app running in a worker thread.

tornado's ``WSGIContainer`` reads a whole body before calling the app and holds the whole
response; here the body flows through a small bounded pipe as it arrives, and the response is
sent chunk by chunk as the app yields it, so a 10 GiB PUT or GET holds a few MiB at most.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections import deque
from urllib.parse import unquote_to_bytes

from ..errors import RemoteDevError

HIGH_WATER = 8 * 1024 * 1024
"""Bytes the pipe holds before tornado is asked to stop reading the socket."""


class BodyAborted(OSError):
    """The client went away before its request body was complete."""


class BodyPipe:
    """Chunks fed on the event loop (``feed``), read in a worker thread (``read``).

    Duck-types the ``sink`` of :class:`~..base.streaming.StreamedBodyMixin`: ``feed`` refuses a
    body past ``limit`` with 413 and returns a future while the pipe is full, so tornado stops
    reading the socket until the app has caught up.
    """

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop):
        self.limit, self.loop = limit, loop
        self.received = 0
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._state = "open"  # "open", "ended" (whole body in) or "aborted"
        self._cond = threading.Condition()
        self._waiter: asyncio.Future | None = None

    def feed(self, chunk: bytes) -> asyncio.Future | None:
        self.received += len(chunk)
        if self.received > self.limit:
            raise RemoteDevError(f"body exceeds max_upload_size ({self.limit} bytes)", status=413)
        with self._cond:
            if self._state != "open":
                return None  # the app answered without reading it all: drop the rest
            self._chunks.append(chunk)
            self._buffered += len(chunk)
            self._cond.notify()
            if self._buffered < HIGH_WATER:
                return None
            self._waiter = self.loop.create_future()
            return self._waiter

    def end(self) -> None:
        """The whole body is in."""
        self._close("ended")

    def abort(self) -> None:
        """The body will never be complete; the reader gets :class:`BodyAborted`."""
        self._close("aborted")

    def after_writes(self, callback, keep: bool = False) -> None:
        callback()

    def _close(self, state: str) -> None:
        with self._cond:
            if self._state == "open":
                self._state = state
            self._cond.notify_all()
            self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self.loop.call_soon_threadsafe(lambda: waiter.done() or waiter.set_result(None))

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is buffered for -1); ``b""`` once the body ended."""
        with self._cond:
            while not self._chunks and self._state == "open":
                self._cond.wait()
            if not self._chunks:
                if self._state == "aborted":
                    raise BodyAborted("the client closed the connection mid-body")
                return b""
            parts, count = [], 0
            while self._chunks and (size < 0 or count < size):
                chunk = self._chunks.popleft()
                if size >= 0 and count + len(chunk) > size:
                    chunk, rest = chunk[: size - count], chunk[size - count :]
                    self._chunks.appendleft(rest)
                parts.append(chunk)
                count += len(chunk)
            self._buffered -= count
            if self._buffered < HIGH_WATER:  # room again: tornado reads on while we write
                self._wake()
        return b"".join(parts)

    def stop_reading(self) -> None:
        """The app has answered: what is still to come is dropped, the reader sees the end."""
        with self._cond:
            self._chunks.clear()
            self._buffered = 0
            if self._state == "open":
                self._state = "ended"
            self._cond.notify_all()
            self._wake()


def wsgi_environ(request, script_name: str, body: BodyPipe, extra: dict) -> dict:
    """The WSGI environ of a tornado request (as ``WSGIContainer.environ``, but with the body
    as a stream and the path split at ``script_name``)."""
    path = unquote_to_bytes(request.path).decode("latin1")
    host, _, port = request.host.rpartition(":") if ":" in request.host else (request.host, "", "")
    environ = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path[len(script_name) :] or "/",
        "QUERY_STRING": request.query,
        "REMOTE_ADDR": request.remote_ip,
        "SERVER_NAME": host,
        "SERVER_PORT": port or ("443" if request.protocol == "https" else "80"),
        "SERVER_PROTOCOL": request.version,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": request.protocol,
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **extra,
    }
    for name, value in request.headers.get_all():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        elif key not in ("AUTHORIZATION", "COOKIE", "EXPECT", "TRANSFER_ENCODING"):
            # credentials stay out of the app; tornado has already de-chunked the body
            environ["HTTP_" + key] = (
                environ["HTTP_" + key] + "," + value if "HTTP_" + key in environ else value
            )
    return environ

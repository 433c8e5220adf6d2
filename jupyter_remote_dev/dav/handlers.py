"""``{base_url}remote-dev/dav/``: the server root as a WebDAV drive (auth resource ``contents``).

Jupyter authenticates and authorizes every request before a byte of body is read; WebDAV
clients' HTTP Basic (any user name, a token as the password) is taken as ``token``. The request
then runs in wsgidav on a worker thread, its body and response streamed through
:mod:`.bridge`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from tornado import iostream, web

from ..base.streaming import StreamedBodyMixin
from ..errors import RemoteDevError
from ..files.handlers import ContentsHandler
from .bridge import BodyPipe, wsgi_environ
from .service import DAV_PATH

REALM = "jupyter-remote-dev"
READ_METHODS = ("GET", "HEAD", "OPTIONS", "PROPFIND")
WRITE_METHODS = ("PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPPATCH", "LOCK", "UNLOCK")


def basic_as_token(headers) -> None:
    """``Authorization: Basic <user:token>`` rewritten as ``token <token>`` (the user name is
    ignored), so Jupyter's (or JupyterHub's) own token check decides."""
    scheme, _, credentials = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    password = decoded.partition(":")[2]
    headers["Authorization"] = f"token {password}" if password else ""


def action_of(method: str) -> str:
    return "read" if method in READ_METHODS else "write"


@web.stream_request_body
class DavHandler(StreamedBodyMixin, ContentsHandler):
    """Every WebDAV method of one URL space; the body streams into the worker's wsgidav."""

    SUPPORTED_METHODS = READ_METHODS + WRITE_METHODS
    pipe: BodyPipe | None = None
    answered: asyncio.Future | None = None

    async def prepare(self):
        basic_as_token(self.request.headers)
        try:
            await super().prepare()
        except web.HTTPError as error:
            if error.status_code == 403 and not self.current_user:
                raise web.HTTPError(
                    401, "a valid token is required (as the HTTP Basic password, or token/Bearer)"
                ) from None
            raise
        if self._finished:
            return
        if not self.current_user:
            raise web.HTTPError(
                401, "a valid token is required (as the HTTP Basic password, or token/Bearer)"
            )
        method = self.request.method
        if not await ensure_async(
            self.authorizer.is_authorized(
                self, self.current_user, action_of(method), self.auth_resource
            )
        ):
            raise web.HTTPError(403, f"not authorized to {action_of(method)} contents")
        limit = self.limit_body()
        self.pipe = self.sink = BodyPipe(limit, asyncio.get_running_loop())
        self.release = self.pipe.abort
        self.answered = asyncio.ensure_future(self.run_app())
        # a client gone mid-request never reaches the verb that awaits this: no stray warning
        self.answered.add_done_callback(lambda done: done.cancelled() or done.exception())

    @property
    def principal(self) -> str:
        """Who owns a lock: the user under JupyterHub. A standalone server's token makes up a
        new anonymous user for each request without a cookie (as WebDAV clients send), and the
        server has one owner anyway."""
        if type(self.identity_provider).__module__.startswith("jupyter_server."):
            return "owner"
        return self.current_user.username

    async def run_app(self) -> None:
        dav = self.dav_service
        extra = {"wsgidav.user_name": self.principal, "wsgidav.auth.user_name": self.principal}
        environ = wsgi_environ(self.request, dav.mount_path, self.pipe, extra)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(dav.executor, self.call_app, environ, loop)

    def call_app(self, environ: dict, loop: asyncio.AbstractEventLoop) -> None:
        """In a worker thread: run wsgidav, send its answer chunk by chunk."""
        started: dict[str, Any] = {}

        def start_response(status, headers, exc_info=None):
            started.update(status=int(status.split(" ", 1)[0]), headers=headers)

        pending = None
        result = self.dav_service.app(environ, start_response)
        try:
            for chunk in result:  # the next chunk is read while the last one is sent
                if chunk:
                    if pending is not None:
                        pending.result()  # one flush at a time: tornado tracks only the last
                    pending = asyncio.run_coroutine_threadsafe(self.send(started, chunk), loop)
            if pending is not None:
                pending.result()
            asyncio.run_coroutine_threadsafe(self.send(started, None), loop).result()
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    async def send(self, started: dict, chunk: bytes | None) -> None:
        """On the event loop: the answer's headers once, then ``chunk`` (None: finish)."""
        if not self._headers_written and "applied" not in started:
            started["applied"] = True
            self.pipe.stop_reading()
            self.set_status(started["status"])
            self.clear_header("Content-Type")
            for name, value in started["headers"]:
                if name.lower() == "content-type":
                    started["type"] = value
                self.set_header(name, value)
            self.close_unread_body()  # answered before the body is in (base.streaming)
        if self._finished:
            return
        if chunk is None:
            self.finish(set_content_type=started.get("type", "text/plain"))
            return
        self.write(chunk)
        await self.flush()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 401:  # clients prompt for credentials only when told how
            self.set_header("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"')
        super().write_error(status_code, **kwargs)

    async def answer(self) -> None:
        """Once the whole body is in: wait for wsgidav's answer to be sent."""
        self.pipe.end()
        try:
            await self.answered
        except iostream.StreamClosedError:
            return  # the client went away mid-answer
        except Exception as error:
            if isinstance(error, RemoteDevError) or self._headers_written:
                raise
            self.log.exception("WebDAV %s failed", self.request.method)
            raise web.HTTPError(500, "the WebDAV request failed") from None

    @web.authenticated
    @authorized("read")
    async def get(self, path=""):
        await self.answer()

    @web.authenticated
    @authorized("read")
    async def head(self, path=""):
        await self.answer()

    @web.authenticated
    @authorized("read")
    async def options(self, path=""):
        await self.answer()

    @web.authenticated
    @authorized("read")
    async def propfind(self, path=""):
        await self.answer()

    @web.authenticated
    @authorized("write")
    async def put(self, path=""):
        await self.answer()

    @web.authenticated
    @authorized("write")
    async def delete(self, path=""):
        await self.answer()

    @web.authenticated
    @authorized("write")
    async def mkcol(self, path=""):
        await self.answer()

    @web.authenticated
    @authorized("write")
    async def copy(self, path=""):
        await self.answer()

    @web.authenticated
    @authorized("write")
    async def move(self, path=""):
        await self.answer()

    @web.authenticated
    @authorized("write")
    async def proppatch(self, path=""):
        await self.answer()

    @web.authenticated
    @authorized("write")
    async def lock(self, path=""):
        await self.answer()

    @web.authenticated
    @authorized("write")
    async def unlock(self, path=""):
        await self.answer()


default_handlers = [(f"/{DAV_PATH}", DavHandler), (f"/{DAV_PATH}/(.*)", DavHandler)]

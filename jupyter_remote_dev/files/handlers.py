"""PUT/GET/HEAD/DELETE files/<path> and resumable uploads/ (auth resource ``contents``)."""

from __future__ import annotations

import asyncio
import errno
import os
import stat

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base.handlers import RemoteDevHandler, api_path
from ..base.streaming import BodySink, StreamedBodyMixin
from ..errors import RemoteDevError
from .fdpath import Location, locate
from .fileio import (
    AtomicWriter,
    delete,
    open_for_read,
    precheck,
)
from .headers import parse_content_range, parse_etags, parse_file_mode, parse_range, parse_sha256
from .manifest import HashCache, stat_key
from .settings import explain_hidden
from .uploads import UploadSegment, UploadStore

AUTH_RESOURCE = "contents"
READ_CHUNK = 1024 * 1024
SMALL = 1024 * 1024
"""Bodies and files up to this size are hashed and fsynced on the event loop (a 4 KiB save
costs less than a thread hop); bigger ones in a worker thread."""
OS_ERROR_STATUS = {
    errno.EACCES: 403,
    errno.EPERM: 403,
    errno.ENOENT: 409,
    errno.ENOTDIR: 409,
    errno.EISDIR: 409,
    errno.EEXIST: 409,
    errno.ENOTEMPTY: 409,
    errno.ENAMETOOLONG: 400,
    errno.ELOOP: 400,
}
"""File system refusals that are about the request (a file changed under it, a name the system
cannot take), answered as client errors instead of a 500."""


async def off_loop_if(big: bool, function, *args, **kwargs):
    """Run blocking ``function`` in a worker thread when ``big``, else right here."""
    if big:
        return await asyncio.to_thread(function, *args, **kwargs)
    return function(*args, **kwargs)


UPLOAD_FIELDS = {
    "path": (str,),
    "size": (int,),
    "sha256": (str, type(None)),
    "mode": (str, type(None)),
}
_JSON_TYPES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}
UPLOAD_SHAPE = '{"path": string, "size": integer, "sha256"?: string, "mode"?: octal string}'


def check_upload_body(body) -> dict:
    """The POST uploads body, every field type-checked: 400 naming the first wrong one."""
    if not isinstance(body, dict):
        raise RemoteDevError(f"the body must be a JSON object {UPLOAD_SHAPE}")
    for name, types in UPLOAD_FIELDS.items():
        value = body.get(name)
        if (name in body or type(None) not in types) and (
            isinstance(value, bool) or not isinstance(value, types)
        ):
            got = _JSON_TYPES.get(type(value), type(value).__name__) if name in body else "nothing"
            expected = _JSON_TYPES[types[0]]
            raise RemoteDevError(f"{name} must be {expected}, got {got}: {UPLOAD_SHAPE}")
    return body


def is_big_file(where: Location) -> bool:
    st = where.lstat()
    return st is not None and stat.S_ISREG(st.st_mode) and st.st_size > SMALL


class ContentsHandler(RemoteDevHandler):
    """Shared by files, uploads, tree and batch: the contents resource, root and path checks."""

    auth_resource = AUTH_RESOURCE

    @property
    def hash_cache(self) -> HashCache:
        return self.files_service.hash_cache

    @property
    def uploads(self) -> UploadStore:
        return self.files_service.uploads

    @property
    def root_dir(self) -> str:
        return self.files_service.root

    @property
    def allow_hidden(self) -> bool:
        """Dot-files follow ``RemoteDevExtension.allow_hidden_files``, not Lab's policy."""
        return self.files_service.allow_hidden

    def locate(self, path: str, **options) -> Location:
        """``path`` walked on descriptors from the root (see :func:`.fdpath.locate`)."""
        return locate(self.root_dir, path, allow_hidden=self.allow_hidden, **options)

    def declared_length(self) -> int | None:
        value = self.request.headers.get("Content-Length")
        try:
            return int(value) if value is not None else None
        except ValueError:
            raise RemoteDevError(f"invalid Content-Length {value!r}") from None

    def limit_body(self) -> int:
        """413 now if Content-Length is over ``max_upload_size``; return the limit for streaming."""
        limit = self.files_service.max_upload_size
        declared = self.declared_length()
        if declared is not None and declared > limit:
            raise RemoteDevError(
                f"body of {declared} bytes exceeds max_upload_size ({limit} bytes)", status=413
            )
        # tornado's own cap stays above ours so a chunked body gets our 413, not its 400
        self.request.connection.set_max_body_size(limit + 16 * READ_CHUNK)
        return limit

    def _handle_request_exception(self, e: BaseException) -> None:
        e = explain_hidden(e)
        status = OS_ERROR_STATUS.get(e.errno) if isinstance(e, OSError) else None
        if status == 409 and self.request.method in ("GET", "HEAD"):
            status = 404  # a read of something that changed under it: it is not there now
        if status is not None:
            error = RemoteDevError(f"{e.strerror}: the file system refused the request", status)
            return super()._handle_request_exception(error)
        return super()._handle_request_exception(e)


@web.stream_request_body
class FileHandler(StreamedBodyMixin, ContentsHandler):
    writer: AtomicWriter | None = None

    async def prepare(self):
        await super().prepare()
        if self.request.method != "PUT":
            return
        await self.authorize_before_body()
        limit = self.limit_body()
        headers = self.request.headers
        self.expected_sha256 = parse_sha256(headers.get("X-Content-SHA256"))
        self.options = {
            "mode": parse_file_mode(headers.get("X-File-Mode")),
            "if_match": headers.get("If-Match"),
            "if_none_match": headers.get("If-None-Match"),
        }
        target = self.locate(self.path_args[0], may_be_missing=True)
        try:
            conditional = self.options["if_match"] or self.options["if_none_match"]
            self.heavy = bool(conditional) and is_big_file(target)
            await off_loop_if(
                self.heavy, precheck, target, self.hash_cache,
                self.options["if_match"], self.options["if_none_match"],
            )  # fmt: skip
            self.writer = AtomicWriter(target, limit)
        except BaseException:
            target.close()
            raise
        self.release = self.writer.discard  # a no-op after a successful install
        declared = self.declared_length()
        self.sink = BodySink(self.writer.write, limit, declared is not None and declared <= SMALL)

    @web.authenticated
    @authorized
    async def put(self, path: str):
        writer = self.writer
        await self.sink.drain()
        big = writer.size > SMALL
        await off_loop_if(big, writer.sync)
        result = await off_loop_if(
            big or self.heavy, writer.install, self.hash_cache, self.expected_sha256,
            **self.options,
        )  # fmt: skip
        self.set_header("ETag", f'"{result.sha256}"')
        self.write_json(result.json(), status=201 if result.created else 200)

    @web.authenticated
    @authorized
    async def get(self, path: str):
        await self.send_file(path, include_body=True)

    @web.authenticated
    @authorized
    async def head(self, path: str):
        await self.send_file(path, include_body=False)

    @web.authenticated
    @authorized
    async def delete(self, path: str):
        recursive = self.get_argument("recursive", "0") in ("1", "true")
        if_match = self.request.headers.get("If-Match")
        await off_loop_if(
            recursive or if_match is not None, delete, self.root_dir, path, self.allow_hidden,
            self.hash_cache, recursive, if_match,
        )  # fmt: skip
        self.set_status(204)
        self.finish()

    async def send_file(self, path: str, include_body: bool) -> None:
        """Stream a file with ETag, ``If-None-Match`` (304) and ``Range`` (206), all from one
        descriptor: the ETag is the hash of the very bytes sent. A file rewritten in place while
        it is sent gets its connection dropped rather than a torn 200."""
        fd, st, real = open_for_read(self.root_dir, path, self.allow_hidden)
        try:
            cache = self.hash_cache
            digest = cache.lookup(real, st)
            if digest is None:
                digest = await off_loop_if(st.st_size > SMALL, cache.sha256_fd, real, fd, st)
            self.set_header("ETag", f'"{digest}"')
            self.set_header("X-File-Mode", f"{st.st_mode & 0o777:o}")
            self.set_header("Accept-Ranges", "bytes")
            if digest in (parse_etags(self.request.headers.get("If-None-Match")) or ()):
                self.set_status(304)
                self.finish()
                return
            span = parse_range(self.request.headers.get("Range"), st.st_size)
            start, stop = span or (0, st.st_size)
            if span is not None:
                self.set_status(206)
                self.set_header("Content-Range", f"bytes {start}-{stop - 1}/{st.st_size}")
            content_type = "application/octet-stream"
            self.set_header("Content-Type", content_type)
            self.set_header("Content-Length", stop - start)
            if include_body:
                await self.send_body(fd, st, start, stop)
            self.finish(set_content_type=content_type)
        finally:
            os.close(fd)

    async def send_body(self, fd: int, st: os.stat_result, start: int, stop: int) -> None:
        offset = start
        while offset < stop:
            chunk = os.pread(fd, min(READ_CHUNK, stop - offset), offset)
            offset += len(chunk)
            if not chunk or (offset >= stop and stat_key(os.fstat(fd)) != stat_key(st)):
                self.request.connection.close()  # changed in place: never a torn 200
                raise web.Finish()
            self.write(chunk)
            await self.flush()


class UploadsHandler(ContentsHandler):
    @web.authenticated
    @authorized
    async def post(self):
        body = check_upload_body(self.get_json_body())
        size, limit = body["size"], self.files_service.max_upload_size
        if not 0 < size <= limit:
            status = 413 if size > limit else 400
            raise RemoteDevError(f"size must be 1..{limit} (max_upload_size)", status=status)
        headers = self.request.headers
        options = {
            "sha256": parse_sha256(body.get("sha256"), "sha256"),
            "mode": parse_file_mode(body.get("mode")),
            "if_match": headers.get("If-Match"),
            "if_none_match": headers.get("If-None-Match"),
        }
        store = self.uploads
        with self.locate(body["path"], may_be_missing=True) as target:
            await asyncio.to_thread(
                precheck, target, self.hash_cache, options["if_match"], options["if_none_match"]
            )
            upload = store.create(target, size, **options)
        self.set_header("Location", self.request.path.rstrip("/") + f"/{upload.id}")
        self.set_header("Upload-Offset", "0")
        self.write_json(store.status(upload), status=201)


@web.stream_request_body
class UploadHandler(StreamedBodyMixin, ContentsHandler):
    segment: UploadSegment | None = None
    keep_on_disconnect = True  # what arrived stays, for a resume

    async def prepare(self):
        await super().prepare()
        if self.request.method != "PUT":
            return
        await self.authorize_before_body()
        self.limit_body()
        store = self.uploads
        upload = store.get(self.path_args[0])
        start, stop, total = parse_content_range(self.request.headers.get("Content-Range"))
        declared = self.declared_length()
        if declared is not None and declared != stop - start:
            raise RemoteDevError(f"Content-Length {declared} does not match Content-Range")
        self.segment = store.begin(upload, start, stop, total)
        self.release = self.segment.close
        self.sink = BodySink(
            self.segment.write, self.files_service.max_upload_size, stop - start <= SMALL
        )

    def answer_status(self, upload_id: str, status: int = 200) -> None:
        store = self.uploads
        answer = store.status(store.get(upload_id))
        self.set_header("Upload-Offset", str(answer["offset"]))
        self.write_json(answer, status=status)

    @web.authenticated
    @authorized
    async def put(self, upload_id: str):
        segment = self.segment
        await self.sink.drain()
        if not segment.complete:
            segment.close()
            self.answer_status(upload_id, status=202)
            return
        # walked again: the tree may have changed meanwhile
        target = self.locate(segment.upload.path, may_be_missing=True)
        result = await asyncio.to_thread(segment.install, self.hash_cache, target)
        self.set_header("ETag", f'"{result.sha256}"')
        self.write_json(result.json(), status=201 if result.created else 200)

    @web.authenticated
    @authorized
    def get(self, upload_id: str):
        self.answer_status(upload_id)

    @web.authenticated
    @authorized
    def head(self, upload_id: str):
        store = self.uploads
        self.set_header("Upload-Offset", str(store.offset(store.get(upload_id))))
        self.finish()

    @web.authenticated
    @authorized
    def delete(self, upload_id: str):
        store = self.uploads
        store.remove(store.get(upload_id))
        self.set_status(204)
        self.finish()


default_handlers = [
    (api_path("files/(.+)"), FileHandler),
    (api_path("uploads"), UploadsHandler),
    (api_path("uploads/([^/]+)"), UploadHandler),
]

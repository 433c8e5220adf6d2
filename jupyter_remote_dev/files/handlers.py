"""PUT/GET/HEAD/DELETE files/<path> and resumable uploads/ (auth resource ``contents``)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base.handlers import RemoteDevHandler, api_path
from ..base.streaming import BodySink, StreamedBodyMixin
from ..errors import NotFoundError, RemoteDevError
from .fileio import (
    AtomicWriter,
    ResolvedPath,
    check_preconditions,
    delete,
    parse_content_range,
    parse_file_mode,
    parse_range,
    parse_sha256,
    resolve,
)
from .manifest import HashCache
from .uploads import UploadSegment, UploadStore

AUTH_RESOURCE = "contents"
READ_CHUNK = 1024 * 1024
SMALL = 1024 * 1024
"""Bodies and files up to this size are hashed and fsynced on the event loop (a 4 KiB save
costs less than a thread hop); bigger ones in a worker thread."""


def hash_cache(settings: dict) -> HashCache:
    """The server-wide sha256 cache (shared by files/, tree/ and batch)."""
    return settings.setdefault("remote_dev_hash_cache", HashCache())


def upload_store(settings: dict) -> UploadStore:
    """The server's resumable-upload store, created on first use."""
    if "remote_dev_uploads" not in settings:
        app = settings["remote_dev_config"]
        state_dir = Path(app.serverapp.runtime_dir) / "remote-dev-uploads"
        settings["remote_dev_uploads"] = UploadStore(state_dir, app.upload_expiry)
    return settings["remote_dev_uploads"]


def start_upload_sweeper(settings: dict) -> asyncio.Task:
    """Sweep abandoned uploads now and every ``upload_expiry / 2`` seconds (cancel to stop)."""
    return asyncio.ensure_future(upload_store(settings).sweep_forever())


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


class ContentsHandler(RemoteDevHandler):
    """Shared by files, uploads, tree and batch: the contents resource, root and path checks."""

    auth_resource = AUTH_RESOURCE

    @property
    def hash_cache(self) -> HashCache:
        return hash_cache(self.settings)

    def resolve(self, path: str, allow_root: bool = False) -> ResolvedPath:
        manager = self.contents_manager
        return resolve(manager.root_dir, path, manager.allow_hidden, allow_root)

    def declared_length(self) -> int | None:
        value = self.request.headers.get("Content-Length")
        try:
            return int(value) if value is not None else None
        except ValueError:
            raise RemoteDevError(f"invalid Content-Length {value!r}") from None

    def limit_body(self) -> int:
        """413 now if Content-Length is over ``max_upload_size``; return the limit for streaming."""
        limit = self.remote_dev.max_upload_size
        declared = self.declared_length()
        if declared is not None and declared > limit:
            raise RemoteDevError(
                f"body of {declared} bytes exceeds max_upload_size ({limit} bytes)", status=413
            )
        # tornado's own cap stays above ours so a chunked body gets our 413, not its 400
        self.request.connection.set_max_body_size(limit + 16 * READ_CHUNK)
        return limit


@web.stream_request_body
class FileHandler(StreamedBodyMixin, ContentsHandler):
    writer: AtomicWriter | None = None

    async def prepare(self):
        await super().prepare()
        if self.request.method != "PUT":
            return
        await self.authorize_before_body()
        target = self.resolve(self.path_args[0])
        limit = self.limit_body()
        headers = self.request.headers
        self.expected_sha256 = parse_sha256(headers.get("X-Content-SHA256"))
        self.options = {
            "mode": parse_file_mode(headers.get("X-File-Mode")),
            "if_match": headers.get("If-Match"),
            "if_none_match": headers.get("If-None-Match"),
        }
        big = target.real.is_file() and target.real.stat().st_size > SMALL
        await off_loop_if(
            big, check_preconditions, target.real, self.hash_cache,
            self.options["if_match"], self.options["if_none_match"],
        )  # fmt: skip
        declared = self.declared_length()
        self.writer = AtomicWriter(target, limit)
        self.release = self.writer.discard  # a no-op after a successful install
        self.sink = BodySink(self.writer.write, limit, declared is not None and declared <= SMALL)

    @web.authenticated
    @authorized
    async def put(self, path: str):
        writer = self.writer
        await self.sink.drain()
        big = writer.size > SMALL
        await off_loop_if(big, writer.sync)
        result = await off_loop_if(
            big, writer.install, self.hash_cache, self.expected_sha256, **self.options
        )
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
        target = self.resolve(path)
        recursive = self.get_argument("recursive", "0") in ("1", "true")
        await off_loop_if(
            recursive,
            delete,
            target,
            self.hash_cache,
            recursive,
            self.request.headers.get("If-Match"),
        )
        self.set_status(204)
        self.finish()

    async def send_file(self, path: str, include_body: bool) -> None:
        """Stream a file in chunks with ETag, ``If-None-Match`` (304) and ``Range`` (206)."""
        target = self.resolve(path)
        try:
            st = target.real.stat()
        except FileNotFoundError:
            raise NotFoundError(f"{target.api_path!r} does not exist") from None
        if not target.real.is_file():
            raise RemoteDevError(f"{target.api_path!r} is a folder; list it with tree/{path}")
        cache = self.hash_cache
        digest = cache.lookup(os.fspath(target.real), st)
        if digest is None:
            digest = await off_loop_if(st.st_size > SMALL, cache.sha256, target.real, st)
        self.set_header("ETag", f'"{digest}"')
        self.set_header("X-File-Mode", f"{st.st_mode & 0o777:o}")
        self.set_header("Accept-Ranges", "bytes")
        none_match = self.request.headers.get("If-None-Match")
        if none_match and digest in [t.strip().strip('"') for t in none_match.split(",")]:
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
            with open(target.real, "rb") as file:
                file.seek(start)
                remaining = stop - start
                while remaining > 0:
                    chunk = file.read(min(READ_CHUNK, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    self.write(chunk)
                    await self.flush()
        self.finish(set_content_type=content_type)


class UploadsHandler(ContentsHandler):
    @web.authenticated
    @authorized
    async def post(self):
        body = check_upload_body(self.get_json_body())
        target = self.resolve(body["path"])
        size, limit = body["size"], self.remote_dev.max_upload_size
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
        check_preconditions(
            target.real, self.hash_cache, options["if_match"], options["if_none_match"]
        )
        store = upload_store(self.settings)
        upload = store.create(target, size, **options)
        self.set_header("Location", self.request.path.rstrip("/") + f"/{upload.id}")
        self.set_header("Upload-Offset", "0")
        self.write_json(upload.status(0, store.expiry), status=201)


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
        store = upload_store(self.settings)
        upload = store.get(self.path_args[0])
        start, stop, total = parse_content_range(self.request.headers.get("Content-Range"))
        declared = self.declared_length()
        if declared is not None and declared != stop - start:
            raise RemoteDevError(f"Content-Length {declared} does not match Content-Range")
        self.segment = store.begin(upload, start, stop, total)
        self.release = self.segment.close
        self.sink = BodySink(
            self.segment.write, self.remote_dev.max_upload_size, stop - start <= SMALL
        )

    def answer_status(self, upload_id: str, status: int = 200) -> None:
        store = upload_store(self.settings)
        upload = store.get(upload_id)
        offset = store.offset(upload)
        self.set_header("Upload-Offset", str(offset))
        self.write_json(upload.status(offset, store.expiry), status=status)

    @web.authenticated
    @authorized
    async def put(self, upload_id: str):
        segment = self.segment
        await self.sink.drain()
        if not segment.complete:
            segment.close()
            self.answer_status(upload_id, status=202)
            return
        target = self.resolve(segment.upload.path)  # again: the tree may have changed meanwhile
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
        store = upload_store(self.settings)
        self.set_header("Upload-Offset", str(store.offset(store.get(upload_id))))
        self.finish()

    @web.authenticated
    @authorized
    def delete(self, upload_id: str):
        store = upload_store(self.settings)
        store.remove(store.get(upload_id))
        self.set_status(204)
        self.finish()


default_handlers = [
    (api_path("files/(.+)"), FileHandler),
    (api_path("uploads"), UploadsHandler),
    (api_path("uploads/([^/]+)"), UploadHandler),
]

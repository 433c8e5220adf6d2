"""POST batch: many files in one tar stream, each written atomically (auth resource ``contents``).

The body (``application/x-tar``, optionally gzip-compressed) is spooled to an unnamed temp file
under the root as it arrives, then unpacked in a worker thread: each member goes to its own temp
file beside its target, one ``syncfs`` makes them all durable, then each is checked and renamed
into place. Per-member checks ride in PAX headers (``REMOTE_DEV.sha256``, ``REMOTE_DEV.if_match``,
``REMOTE_DEV.if_none_match``); the member's mode bits are applied.
"""

from __future__ import annotations

import asyncio
import os
import tarfile
import tempfile
import zlib
from pathlib import Path

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base.handlers import api_path
from ..base.streaming import BodySink, StreamedBodyMixin
from ..errors import RemoteDevError
from .fileio import AtomicWriter, ResolvedPath, parse_sha256, resolve, sync_filesystem
from .handlers import ContentsHandler
from .manifest import HashCache

TAR_TYPES = ("application/x-tar", "application/tar", "application/gzip", "application/x-gzip")
PAX_PREFIX = "REMOTE_DEV."


def _failure(path: str, error: Exception) -> dict:
    status = getattr(error, "status", 400 if isinstance(error, ValueError) else 500)
    return {"path": path, "status": status, "message": getattr(error, "message", str(error))}


def unpack(
    spool, root: str, base: str, allow_hidden: bool, cache: HashCache, limit: int
) -> list[dict]:
    """Write every member of the tar in ``spool`` under ``root``/``base``; one result per member."""
    results: list[dict | None] = []
    pending: list[tuple[int, AtomicWriter, dict]] = []
    folders: dict[str, str] = {}
    try:
        with tarfile.open(fileobj=spool, mode="r:*") as archive:
            for member in archive:
                name = member.name.removeprefix("./").rstrip("/")
                if name in ("", "."):
                    continue
                results.append(None)
                try:
                    path = f"{base}/{name}" if base else name
                    target = resolve(root, path, allow_hidden, folders=folders)
                    if member.isdir():
                        results[-1] = _make_folder(target)
                    elif not member.isfile():
                        raise RemoteDevError("only regular files and folders are accepted")
                    else:
                        writer = _write_member(archive, member, target, limit)
                        pending.append((len(results) - 1, writer, member.pax_headers))
                except (RemoteDevError, OSError, ValueError) as error:
                    results[-1] = _failure(name, error)
    except BaseException as error:  # no temp file of a member stays behind
        for _, writer, _ in pending:
            writer.discard()
        if isinstance(error, (tarfile.TarError, EOFError, zlib.error)):  # e.g. a truncated gzip
            raise RemoteDevError(f"the body is not a readable tar stream: {error}") from None
        raise
    if pending:
        sync_filesystem(Path(root))  # one flush for all temp files instead of one fsync each
    for index, writer, pax in pending:
        try:
            result = writer.install(
                cache,
                parse_sha256(pax.get(f"{PAX_PREFIX}sha256"), f"{PAX_PREFIX}sha256"),
                mode=writer.mode,
                if_match=pax.get(f"{PAX_PREFIX}if_match"),
                if_none_match=pax.get(f"{PAX_PREFIX}if_none_match"),
                sync_folder=False,
            )
            results[index] = {**result.json(), "status": 201 if result.created else 200}
        except (RemoteDevError, OSError) as error:
            writer.discard()
            results[index] = _failure(writer.target.api_path, error)
    if pending:
        sync_filesystem(Path(root))  # the renames
    return results


def _make_folder(target: ResolvedPath) -> dict:
    existed = target.real.is_dir()
    target.real.mkdir(parents=True, exist_ok=True)
    return {"path": target.api_path, "status": 200 if existed else 201, "folder": True}


def _write_member(archive, member, target: ResolvedPath, limit: int) -> AtomicWriter:
    writer = AtomicWriter(target, limit)
    writer.mode = member.mode & 0o777
    try:
        source = archive.extractfile(member)
        while chunk := source.read(1024 * 1024):
            writer.write(chunk)
        writer.close()
    except BaseException:
        writer.discard()
        raise
    return writer


@web.stream_request_body
class BatchHandler(StreamedBodyMixin, ContentsHandler):
    spool = None

    async def prepare(self):
        await super().prepare()
        if self.request.method != "POST":
            return
        await self.authorize_before_body()
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type not in TAR_TYPES:
            raise RemoteDevError(f"POST batch takes application/x-tar, not {content_type!r}", 415)
        self.base = self.resolve(self.get_argument("root", ""), allow_root=True)
        limit = self.limit_body()
        root = os.path.realpath(self.contents_manager.root_dir)
        self.spool = tempfile.TemporaryFile(dir=root, prefix=".~remote-dev-", suffix=".tmp")
        self.release = self.spool.close
        self.sink = BodySink(self.spool.write, limit, inline=True)

    @web.authenticated
    @authorized
    async def post(self):
        self.spool.seek(0)
        results = await asyncio.to_thread(
            unpack,
            self.spool,
            self.contents_manager.root_dir,
            self.base.api_path,
            self.contents_manager.allow_hidden,
            self.hash_cache,
            self.remote_dev.max_upload_size,
        )
        failed = sum(1 for result in results if result["status"] >= 400)
        self.write_json({"written": len(results) - failed, "failed": failed, "results": results})


default_handlers = [(api_path("batch"), BatchHandler)]

"""POST batch: many files in one tar stream, each written atomically (auth resource ``contents``).

The body (``application/x-tar``, optionally gzip-compressed) is spooled to an unnamed temp file
under the root as it arrives, then unpacked in a worker thread (:mod:`.batch`): every member is
written to its own temp file first, all are fsynced together, then each is checked and renamed
into place. Per-member checks ride in PAX headers (``REMOTE_DEV.sha256``,
``REMOTE_DEV.if_match``, ``REMOTE_DEV.if_none_match``); the member's mode bits are applied.
"""

from __future__ import annotations

import asyncio
import tempfile

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base.handlers import api_path
from ..base.streaming import BodySink, StreamedBodyMixin
from ..errors import RemoteDevError
from .batch import unpack
from .fdpath import real_root, split_path
from .fileio import TEMP_PREFIX
from .handlers import ContentsHandler

TAR_TYPES = ("application/x-tar", "application/tar", "application/gzip", "application/x-gzip")


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
        self.base = "/".join(split_path(self.get_argument("root", ""), self.allow_hidden))
        limit = self.limit_body()
        # unnamed (O_TMPFILE) in the root itself: nothing to clean up after a crash
        root = real_root(self.root_dir)
        self.spool = tempfile.TemporaryFile(dir=root, prefix=TEMP_PREFIX, suffix=".tmp")
        self.release = self.spool.close
        self.sink = BodySink(self.spool.write, limit, inline=True)

    @web.authenticated
    @authorized
    async def post(self):
        self.spool.seek(0)
        limits = self.files_service.batch_limits
        results = await asyncio.to_thread(
            unpack, self.spool, self.root_dir, self.base, self.allow_hidden, self.hash_cache, limits
        )
        failed = sum(1 for result in results if result["status"] >= 400)
        self.write_json({"written": len(results) - failed, "failed": failed, "results": results})


default_handlers = [(api_path("batch"), BatchHandler)]

"""GET tree/<path>: the manifest of a folder (auth resource ``contents``)."""

from __future__ import annotations

import asyncio
import os

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base.handlers import api_path
from ..errors import NotFoundError, RemoteDevError
from .fdpath import open_folder
from .fdtree import build_manifest_fd
from .handlers import ContentsHandler
from .headers import parse_etags
from .manifest import HashCache


def manifest_body(folder_fd, real, api_root, cache: HashCache, rules, hidden, bodies):
    """The JSON body of GET tree/ for the open folder and its ETag (blocking: for a worker
    thread); the folder's descriptor is closed."""
    folders: list[str] = []
    try:
        entries = build_manifest_fd(folder_fd, real, cache, rules, hidden, folders)
    finally:
        os.close(folder_fd)
    return bodies.body((real, rules, hidden), api_root, entries, sorted(folders))


class TreeHandler(ContentsHandler):
    @web.authenticated
    @authorized
    async def get(self, path: str = ""):
        try:
            fd, real = open_folder(self.root_dir, path, allow_hidden=self.allow_hidden)
        except NotFoundError:
            with self.locate(path) as where:
                if where.lstat() is not None:
                    raise RemoteDevError(
                        f"{path!r} is a file; fetch it with files/{path}"
                    ) from None
            raise
        body, etag = await asyncio.to_thread(
            manifest_body,
            fd,
            real,
            path,
            self.hash_cache,
            self.files_service.ignore_rules,
            self.allow_hidden,
            self.files_service.manifest_bodies,
        )
        self.set_header("ETag", f'"{etag}"')
        if etag in (parse_etags(self.request.headers.get("If-None-Match")) or ()):
            self.set_status(304)
            self.finish()
            return
        self.finish(body)


default_handlers = [
    (api_path("tree"), TreeHandler),
    (api_path("tree/(.+)"), TreeHandler),
]

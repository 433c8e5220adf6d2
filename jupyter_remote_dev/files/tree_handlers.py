"""GET tree/<path>: the manifest of a folder (auth resource ``contents``)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import threading
from collections import OrderedDict

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base.handlers import api_path
from ..errors import NotFoundError, RemoteDevError
from .fdpath import open_folder
from .fdtree import build_manifest_fd
from .handlers import ContentsHandler
from .headers import parse_etags
from .manifest import HashCache, IgnoreRules, manifest_json


@functools.lru_cache(maxsize=8)
def ignore_rules(patterns: tuple[str, ...]) -> IgnoreRules:
    """Compiled ignore rules, reused while the configured patterns are unchanged."""
    return IgnoreRules(patterns)


class ManifestBodies:
    """The last JSON answers (and their ETags) per listed folder: an unchanged tree is answered
    without re-encoding, so a repeat costs the walk and its stat calls only."""

    def __init__(self, size: int = 4):
        self._bodies: OrderedDict[tuple, tuple[list, str, str]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def body(self, key: tuple, root: str, entries: list, folders: list) -> tuple[str, str]:
        """(JSON body, ETag) for ``entries`` and the empty ``folders``."""
        listed = (entries, folders)
        with self._lock:
            cached = self._bodies.get(key)
        if cached is not None and cached[0] == listed:
            return cached[1], cached[2]
        body = json.dumps({"root": root, "files": manifest_json(entries), "folders": folders})
        etag = hashlib.sha256(body.encode()).hexdigest()
        with self._lock:
            self._bodies[key] = (listed, body, etag)
            self._bodies.move_to_end(key)
            while len(self._bodies) > self._size:
                self._bodies.popitem(last=False)
        return body, etag


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
            ignore_rules(tuple(self.remote_dev.ignore_patterns)),
            self.allow_hidden,
            self.settings.setdefault("remote_dev_manifest_bodies", ManifestBodies()),
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

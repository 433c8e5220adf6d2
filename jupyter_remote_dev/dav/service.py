"""The drive's owner object: wsgidav's app on our provider, its lock and property stores, and
the worker threads requests run in. Built by :meth:`.settings.DavSettings.make_dav_service` on
the files area's :class:`~..files.service.FilesService` (hash cache, dot-files, size limit)."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor

from wsgidav.dav_error import DAVError, get_http_status_string
from wsgidav.error_printer import ErrorPrinter
from wsgidav.mw.base_mw import BaseMiddleware
from wsgidav.prop_man.property_manager import PropertyManager
from wsgidav.request_resolver import RequestResolver
from wsgidav.wsgidav_app import WsgiDAVApp

from ..files.service import FilesService
from .propfind import FastPropfind
from .provider import RootProvider

BLOCK_SIZE = 4 * 1024 * 1024
"""Bytes wsgidav reads from a request body or a file at a time."""
DAV_PATH = "remote-dev/dav"
"""Where the drive is served, under the server's base_url."""


class JsonErrors(BaseMiddleware):
    """Refusals as our JSON ``{"message": ...}`` instead of wsgidav's HTML page; those with a
    WebDAV pre- or postcondition keep their XML body (clients read it)."""

    def __call__(self, environ, start_response):
        try:
            yield from self.next_app(environ, start_response)
        except DAVError as error:
            if error.err_condition is not None or error.value < 400:
                raise
            status = get_http_status_string(error)
            message = error.context_info or status
            body = json.dumps({"message": message, "reason": None}).encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            start_response(status, headers + (error.add_headers or []))
            yield body


class DeadProperties(PropertyManager):
    """wsgidav's in-memory dead properties, plus the one question the listing fast path asks."""

    def any_under(self, ref_url: str) -> bool:
        """Whether ``ref_url`` or anything below it has a dead property."""
        prefix = ref_url if ref_url.endswith("/") else ref_url + "/"
        self._lock.acquire_read()
        try:
            urls = self._dict if self._loaded and self._dict else {}
            return any(url == ref_url or url.startswith(prefix) for url in urls)
        finally:
            self._lock.release()


class DavService:
    """The server root as a WebDAV share (classes 1 and 2).

    wsgidav answers the protocol (properties, locks, ``If`` headers, COPY/MOVE); our
    :class:`.RootProvider` does the file work. Locks and dead properties live in memory for the
    server's life. Each request runs in one of ``workers`` threads, so file work never blocks
    the event loop; bodies stream through (see :mod:`.bridge`).
    """

    def __init__(self, root: str, base_url: str, files: FilesService, workers: int):
        self.root = root
        self.mount_path = "/" + f"{base_url.strip('/')}/{DAV_PATH}".strip("/")
        # the file API's hash cache, dot-file policy and size limit: one file layer, two doors
        self.max_size = files.max_upload_size
        self.provider = RootProvider(
            root, cache=files.hash_cache, allow_hidden=files.allow_hidden, max_size=self.max_size
        )
        self.app = WsgiDAVApp(
            {
                "mount_path": self.mount_path,
                "provider_mapping": {"/": self.provider},
                "middleware_stack": [ErrorPrinter, JsonErrors, FastPropfind, RequestResolver],
                # no wsgidav authenticator: Jupyter authenticates (handlers.py), Basic included
                "http_authenticator": {"accept_basic": False, "accept_digest": False},
                "lock_storage": True,
                "property_manager": DeadProperties(),
                "block_size": BLOCK_SIZE,
                "verbose": 1,
                "logging": {"enable": False},
                "suppress_version_info": True,
                "dir_browser": {"enable": False},
            }
        )
        logging.getLogger("wsgidav").propagate = True
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="remote-dev-dav")

    @property
    def lock_manager(self):
        return self.app.lock_manager

    @property
    def property_manager(self):
        return self.app.prop_manager

    def start(self) -> None:
        """Nothing to start: worker threads are made as requests come."""

    async def stop(self) -> None:
        """Requests still queued are dropped; running ones end with their connection."""
        self.executor.shutdown(wait=False, cancel_futures=True)

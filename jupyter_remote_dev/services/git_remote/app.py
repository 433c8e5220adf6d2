"""The team Git service: tornado handlers in front of ``git http-backend``, and its entry point.

    python -m jupyter_remote_dev.services.git_remote --root <folder>

run by JupyterHub as a managed service (it reads ``JUPYTERHUB_SERVICE_URL``,
``JUPYTERHUB_SERVICE_PREFIX``, ``JUPYTERHUB_SERVICE_NAME`` and ``JUPYTERHUB_API_URL``, and its
size limits and gc interval, see :mod:`.quota`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from tornado import web
from tornado.iostream import StreamClosedError

from ...base.streaming import ClosesUnreadBodyMixin
from ...embedded.lifecycle import until_stopped
from .auth import AuthError, TokenChecker
from .backend import BackendError, BackendProcess, cgi_environment
from .quota import Housekeeper, Limits
from .repo import REPO_NAME, git_backend, install_hooks, provision

log = logging.getLogger("jupyter_remote_dev.git_remote")
#: smart HTTP only: ref advertisement, fetch and push of the team repository
GIT_PATH = re.compile(rf"^{re.escape(REPO_NAME)}/(info/refs|git-upload-pack|git-receive-pack)$")
REALM = "jupyter-remote-dev team repository"
MAX_BODY = 1024**3


class IndexHandler(web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"team repository: {self.request.full_url().rstrip('/')}/{REPO_NAME}\n")


@web.stream_request_body
class GitHandler(ClosesUnreadBodyMixin, web.RequestHandler):
    """Authenticate, then pass the request through ``git http-backend``. A refusal is sent
    before the body is read, so it closes the connection (:class:`ClosesUnreadBodyMixin`)."""

    backend: BackendProcess | None = None
    pushing = False

    def initialize(self, checker: TokenChecker, root: Path, hooks: Path, git: str, limits: Limits):
        self.checker, self.root, self.hooks, self.git = checker, root, hooks, git
        self.limits, self.housekeeper = limits, self.settings["housekeeper"]

    async def prepare(self):
        path = self.path_args[0] if self.path_args else ""
        if self.request.method not in ("GET", "POST") or not GIT_PATH.match(path):
            raise web.HTTPError(404)
        try:
            user = await self.checker.user_for(self.request.headers.get("Authorization"))
        except AuthError as e:
            if self.request.headers.get("Authorization"):  # git's first, anonymous try is routine
                log.warning("refused %s %s: %s", self.request.method, path, e.message)
            self.refuse(e)
            return
        self.request.connection.set_max_body_size(MAX_BODY)
        env = cgi_environment(
            project_root=self.root, hooks=self.hooks, method=self.request.method,
            path_info="/" + path, query=self.request.query, headers=self.request.headers,
            user=user, remote_addr=self.request.remote_ip or "", limits=self.limits,
        )  # fmt: skip
        if path.endswith("git-receive-pack") and self.request.method == "POST":
            self.pushing = True  # first: a connection closed while waiting still ends the push
            await self.housekeeper.push_started()  # never during a gc
        self.backend = await BackendProcess.start(self.git, env)
        level = logging.INFO if path.endswith("git-receive-pack") else logging.DEBUG
        log.log(level, "%s %s by %s", self.request.method, path, user)  # pushes are news

    def refuse(self, error: AuthError) -> None:
        self.set_status(error.status)
        if error.status == 401:
            self.set_header("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"')
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(error.message + "\n")

    async def data_received(self, chunk: bytes):
        if self.backend is not None:
            await self.backend.write(chunk)

    async def get(self, path):
        await self.relay()

    async def post(self, path):
        await self.relay()

    async def relay(self) -> None:
        try:
            status, headers, body = await self.backend.response()
        except BackendError as e:
            log.error("%s", e)
            raise web.HTTPError(502) from None
        self.set_status(status)
        for name, value in headers:
            self.set_header(name, value)
        try:
            async for chunk in body:
                self.write(chunk)
                await self.flush()
        except StreamClosedError:
            pass

    def on_finish(self):
        self._close_backend()

    def on_connection_close(self):
        self._close_backend()

    def _close_backend(self):
        closed = None
        if self.backend is not None:
            backend, self.backend = self.backend, None
            closed = asyncio.ensure_future(backend.close())
        if self.pushing:  # the push's objects and ref are in place once git has ended
            self.pushing = False
            if closed is None:
                self.housekeeper.push_ended()
            else:
                closed.add_done_callback(lambda _: self.housekeeper.push_ended())


def make_app(
    root: Path,
    prefix: str,
    service_name: str,
    checker: TokenChecker | None = None,
    limits: Limits = Limits(),
):
    """The tornado application serving the repositories under ``root`` at ``prefix``; its
    ``housekeeper`` setting collects the team repository's garbage (``run()`` it)."""
    repos = root / "repos"
    repo = provision(repos)
    hooks = install_hooks(root / "hooks")
    checker = checker or TokenChecker(service_name)
    kwargs = {"checker": checker, "root": repos, "hooks": hooks, "git": git_backend(),
              "limits": limits}  # fmt: skip
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    return web.Application(
        [(re.escape(prefix), IndexHandler), (re.escape(prefix) + "(.+)", GitHandler, kwargs)],
        housekeeper=Housekeeper(repo, limits.gc_interval),
    )


async def serve(root: Path) -> None:
    url = urlsplit(os.environ["JUPYTERHUB_SERVICE_URL"])
    limits = Limits.from_env()
    app = make_app(
        root,
        os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/"),
        os.environ.get("JUPYTERHUB_SERVICE_NAME", "team-git"),
        limits=limits,
    )
    server = app.listen(url.port, address=url.hostname or "127.0.0.1", xheaders=True)
    housekeeping = asyncio.ensure_future(app.settings["housekeeper"].run())
    log.info("team repository served at %s (%s)", url.geturl(), limits)
    reason = await until_stopped()
    log.info("stopping (%s)", reason)
    housekeeping.cancel()
    server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, type=Path, help="state folder of the service")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(levelname).1s %(name)s] %(message)s")
    # the hub's health checks each minute and git's first, anonymous try (401) are routine; what
    # matters (pushes, refusals, backend errors) is logged above
    logging.getLogger("tornado.access").setLevel(logging.ERROR)
    asyncio.run(serve(args.root))

"""Tests of the team repository over HTTP: a git client with no user config and no prompts, and
the team Git service's tornado app in a thread (only the hub's token check is a table)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import tornado.httpserver
import tornado.netutil

from jupyter_remote_dev.services.git_remote.app import make_app
from jupyter_remote_dev.services.git_remote.auth import AuthError, basic_credentials

TOKENS = {"alice-token": "alice", "bob-token": "bob", "carol-token": "carol"}


def git(*args, cwd=None, user=None, token=None, check=True):
    """git with no user config, and Basic credentials in a header when given."""
    options = ["-c", "credential.helper=", "-c", "protocol.version=2"]
    if user is not None:
        basic = base64.b64encode(f"{user}:{token}".encode()).decode()
        options += ["-c", f"http.extraHeader=Authorization: Basic {basic}"]
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x", "LANG": "C"}  # fmt: skip
    result = subprocess.run(["git", *options, *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    if check:
        assert result.returncode == 0, result.stderr
    return result


class TableChecker:
    """Stands in for the hub's whoami: a token belongs to the user the table says."""

    async def user_for(self, header):
        user, token = basic_credentials(header)
        if token not in TOKENS:
            raise AuthError("the hub does not accept this token")
        if TOKENS[token] != user:
            raise AuthError(f"this token does not belong to user {user!r}", 403)
        return user


@contextlib.contextmanager
def team_git_service(root: Path, **settings) -> Iterator[dict]:
    """The service app (``make_app(..., **settings)``) on a free loopback port, in a thread with
    its own event loop: yields its repository URL, the bare repository, the app and the loop."""
    started, holder = threading.Event(), {}

    async def serve():
        app = make_app(root, "/services/team-git/", "team-git", checker=TableChecker(), **settings)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets(sockets)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        holder.update(port=sockets[0].getsockname()[1], app=app, loop=loop)
        holder["stop"] = lambda: loop.call_soon_threadsafe(stop.set)
        started.set()
        await stop.wait()
        server.stop()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert started.wait(30), "the team Git service did not start"
    url = f"http://127.0.0.1:{holder['port']}/services/team-git/team.git"
    try:
        yield {"url": url, "bare": root / "repos" / "team.git", **holder}
    finally:
        holder["stop"]()
        thread.join(10)

"""Plain helpers of the whole-stack hub tests: the CLI run as a user would, the core contents API
through the proxy, and the skip when configurable-http-proxy is missing."""

from __future__ import annotations

import shutil
import subprocess

import httpx
import pytest

from ..support.local_hub_support import LocalHub

needs_proxy = pytest.mark.skipif(
    not shutil.which("configurable-http-proxy"),
    reason="configurable-http-proxy is not installed (.ci/install installs it)",
)

CLI = shutil.which("jupyter-remote-dev") or "jupyter-remote-dev"


def cli(user, *args, stdin=None, cwd=None, timeout=120):
    """Run ``jupyter-remote-dev ARGS`` as the user would; returns the CompletedProcess."""
    return subprocess.run(
        [CLI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=user["env"],
        cwd=cwd or user["home"],
        timeout=timeout,
    )


def server_files(hub: LocalHub, token: str, path: str, **kwargs) -> httpx.Response:
    """The core contents API of Alice's server through the proxy (as JupyterLab would use it)."""
    headers = {"Authorization": f"token {token}"}
    return httpx.request(
        kwargs.pop("method", "GET"),
        f"{hub.url}user/alice/api/contents/{path}",
        headers=headers,
        timeout=30,
        **kwargs,
    )

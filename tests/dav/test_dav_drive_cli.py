"""``jupyter remote-dev drive``: the URL and setups for the current profile, the token only
when asked, and the printed rclone setup works as pasted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from .dav_support import REPO, DavServer

CLI = shutil.which("jupyter-remote-dev") or "jupyter-remote-dev"


def cli(env, *args, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, *args],
        input=stdin, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def laptop(server: DavServer, tmp_path):
    """A logged-in laptop (its own HOME and config) for the module's server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.update(
        HOME=str(tmp_path),
        JUPYTER_CONFIG_DIR=str(tmp_path / ".jupyter"),
        PYTHONPATH=str(REPO),
        RCLONE_CONFIG=str(tmp_path / "rclone.conf"),
    )
    login = cli(env, "login", server.url, "--token-stdin", stdin=server.token + "\n")
    assert login.returncode == 0, login.stderr
    return env


def test_drive_prints_the_url_and_setups_without_the_token(server, laptop):
    shown = cli(laptop, "drive")
    assert shown.returncode == 0, shown.stderr
    assert f"WebDAV URL: {server.dav}" in shown.stdout
    for name in ("rclone", "rclone mount", "gio mount", "davfs", "Connect to Server", "net use"):
        assert name in shown.stdout, name
    assert "HTTPS" in shown.stdout and "50 MB" in shown.stdout  # Windows' WebClient limits
    assert server.token not in shown.stdout + shown.stderr
    document = json.loads(cli(laptop, "drive", "--json").stdout)
    assert document["url"] == server.dav and server.token not in json.dumps(document)


@pytest.mark.skipif(not shutil.which("rclone"), reason="rclone is not installed")
def test_the_printed_rclone_setup_works_as_pasted(server, laptop):
    shown = cli(laptop, "drive", "--show-token", "--json")
    assert shown.returncode == 0, shown.stderr
    setup = json.loads(shown.stdout)["setups"]["rclone"]
    assert server.token in setup
    created = subprocess.run(setup, shell=True, env=laptop, capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    (server.root / "via-rclone.txt").write_text("listed")
    listed = subprocess.run(
        ["rclone", "cat", "remote-dev:via-rclone.txt"], env=laptop, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "listed"

"""``jupyter remote-dev git status|sync`` on the laptop ask the server's Git sync (GET git/status,
POST git/sync) against a real Jupyter server syncing with a local bare repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ..support.gitsync_support import git, make_remote
from .cli_support import cli, login


@pytest.fixture
def bare(tmp_path):
    return make_remote(tmp_path)


@pytest.fixture
def remote_dev_config(bare):
    return {
        "git_repo": str(bare),
        "git_upstream": "main",
        "git_sync_branch": "remote-dev/{username}",
        "git_workspace": "work",
        "git_interval": 0.0,
        "git_author_name": "Server",
        "git_author_email": "server@example.org",
    }


async def test_laptop_git_status_and_sync_ask_the_server(
    laptop,
    server_url,
    token,
    jp_root_dir,
    bare,
):
    """The laptop has no Git sync settings; the server has: status and sync report the server's."""
    logged_in = await login(laptop, server_url, token)
    result = await cli(logged_in, "git", "status")
    assert result.returncode == 0, result.stderr
    assert f"repo {bare} -> {jp_root_dir / 'work'}" in result.stdout
    assert "not configured" not in result.stdout + result.stderr
    result = await cli(logged_in, "git", "sync")
    assert result.returncode == 0, result.stderr
    assert "sync: ok" in result.stdout
    assert (jp_root_dir / "work" / "README.md").read_text() == "hello\n"
    (jp_root_dir / "work" / "new.txt").write_text("from the server\n")
    result = await cli(logged_in, "git", "sync", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["configured"] and status["last_cycle"]["result"] == "ok"
    assert "new.txt" in git(bare, "ls-tree", "-r", "--name-only", status["branch"])


@pytest.mark.parametrize("remote_dev_config", [{"git_repo": ""}])
async def test_laptop_git_status_says_the_server_is_not_configured(
    laptop,
    server_url,
    token,
):
    logged_in = await login(laptop, server_url, token)
    result = await cli(logged_in, "git", "status")
    assert result.returncode == 1
    assert "not configured on the server" in result.stdout
    result = await cli(logged_in, "git", "sync")
    assert result.returncode == 1
    assert result.stderr.startswith("jupyter remote-dev: error: ") and "not configured" in (
        result.stderr
    )


def test_in_pod_commands_keep_their_own_name(tmp_path):
    """The preStop hook's ``python -m jupyter_remote_dev.gitsync cycle`` and its twin
    ``jupyter remote-dev git local cycle`` run the engine on this machine."""
    bare = make_remote(tmp_path)
    env = {
        **os.environ,
        "JUPYTER_REMOTE_DEV_GIT_REPO": str(bare),
        "JUPYTER_REMOTE_DEV_GIT_WORKSPACE": str(tmp_path / "ws"),
        "JUPYTER_REMOTE_DEV_GIT_SYNC_BRANCH": "remote-dev/pod",
        "JUPYTER_REMOTE_DEV_GIT_UPSTREAM": "main",
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "GIT_AUTHOR_NAME": "Pod",
        "GIT_AUTHOR_EMAIL": "pod@example.org",
        "GIT_COMMITTER_NAME": "Pod",
        "GIT_COMMITTER_EMAIL": "pod@example.org",
    }
    commands = (
        [sys.executable, "-m", "jupyter_remote_dev.gitsync", "init"],
        ["jupyter-remote-dev", "git", "local", "cycle", "--wait=30"],
    )
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 0, result.stderr
        assert ": ok:" in result.stdout
    assert (tmp_path / "ws" / "README.md").read_text() == "hello\n"

"""``ray status`` and ``git local status`` (in the pod) through the real CLI: the state, or "not
configured: set X". The laptop's ``git status``: tests/client/test_client_git_cmd.py."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import subprocess

import pytest

from ..support.gitsync_support import make_remote
from .cli_support import CLI, cli, login

NO_RAY = {"ray_address": "", "ray_dashboard_url": ""}
NOT_CONFIGURED = "not configured: set JUPYTER_REMOTE_DEV_GIT_REPO (or --repo URL)"


@pytest.mark.parametrize("remote_dev_config", [NO_RAY])
async def test_cli_ray_status_not_configured_says_what_to_set(laptop, server_url, token):
    """A server without Ray: one line naming the settings, exit 1."""
    await login(laptop, server_url, token)
    result = await cli(laptop, "ray", "status")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("not configured: set RAY_ADDRESS")
    assert len(result.stdout.strip().splitlines()) == 1 and result.stderr == ""


@pytest.fixture
def remote_dev_config(standin):
    return {"ray_address": f"ray://{standin}", "ray_dashboard_url": f"http://{standin}"}


async def test_cli_ray_status_prints_the_cluster_state(laptop, server_url, token, standin):
    """A reachable cluster of another Ray version: address, dashboard, versions, the advice."""
    await login(laptop, server_url, token)
    result = await cli(laptop, "ray", "status")
    assert result.returncode == 1, result.stderr  # the versions differ: jobs would fail
    assert "reachable, but the versions differ" in result.stdout
    assert f"address: ray://{standin}" in result.stdout
    assert "cluster Ray 2.9.3, Python 3.10.14" in result.stdout
    assert "pip install 'ray[client]==2.9.3'" in result.stdout
    as_json = await cli(laptop, "ray", "status", "--json")
    assert '"mismatch": true' in as_json.stdout


def on_a_terminal(env: dict, *args: str) -> tuple[int, str, str]:
    """Run the CLI with stdout on a pseudo-terminal, as a user in a shell sees it."""
    main, child = pty.openpty()
    process = subprocess.Popen(
        [CLI, *args], stdin=subprocess.DEVNULL, stdout=child, stderr=subprocess.PIPE, env=env
    )
    os.close(child)
    output = b""
    with contextlib.suppress(OSError):  # EIO once the child has closed its side
        while chunk := os.read(main, 65536):
            output += chunk
    os.close(main)
    stderr = process.stderr.read().decode()
    return process.wait(30), output.decode().replace("\r\n", "\n"), stderr


def test_cli_git_status_not_configured_then_state(laptop, tmp_path):
    """Without a repo: "not configured: set JUPYTER_REMOTE_DEV_GIT_REPO", no log line (JSON
    with the same message when piped); with one, after init: repo, branch, ahead/behind and
    the last cycle on a terminal, the git/status object when piped."""
    env = {k: v for k, v in laptop["env"].items() if not k.startswith("JUPYTER_REMOTE_DEV_GIT")}
    code, out, err = on_a_terminal(env, "git", "local", "status")
    assert (code, out, err) == (1, NOT_CONFIGURED + "\n", "")
    piped = subprocess.run([CLI, "git", "local", "status"], capture_output=True, text=True, env=env)
    assert piped.returncode == 1 and piped.stderr == ""
    assert json.loads(piped.stdout) == {"configured": False, "message": NOT_CONFIGURED}
    bare = make_remote(tmp_path, {"README.md": "hello\n"})
    workspace = tmp_path / "ws"
    env.update(
        JUPYTER_REMOTE_DEV_GIT_REPO=str(bare), JUPYTER_REMOTE_DEV_GIT_WORKSPACE=str(workspace)
    )
    assert (
        subprocess.run([CLI, "git", "local", "init"], env=env, capture_output=True).returncode == 0
    )
    code, out, err = on_a_terminal(env, "git", "local", "status")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"repo {bare} -> {workspace}"
    assert lines[1].startswith("branch remote-dev/") and "0 ahead, 0 behind" in lines[1]
    assert lines[2].startswith("last cycle ") and ": ok: " in lines[2]
    piped = subprocess.run([CLI, "git", "local", "status"], capture_output=True, text=True, env=env)
    assert json.loads(piped.stdout)["workspace"] == str(workspace)

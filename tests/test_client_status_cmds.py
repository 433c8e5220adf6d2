"""``ray status`` and ``git status`` through the real CLI: the state, or "not configured: set X"."""

from __future__ import annotations

import pytest

from .gitsync_support import make_remote
from .test_client_cli import cli, laptop, login, server_url, token  # noqa: F401
from .test_ray_standin import standin  # noqa: F401

NO_RAY = {"ray_address": "", "ray_dashboard_url": ""}


@pytest.mark.parametrize("remote_dev_config", [NO_RAY])
async def test_cli_ray_status_not_configured_says_what_to_set(laptop, server_url, token):  # noqa: F811
    """A server without Ray: one line naming the settings, exit 1."""
    await login(laptop, server_url, token)
    result = await cli(laptop, "ray", "status")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("not configured: set RAY_ADDRESS")
    assert len(result.stdout.strip().splitlines()) == 1 and result.stderr == ""


@pytest.fixture
def remote_dev_config(standin):  # noqa: F811
    return {"ray_address": f"ray://{standin}", "ray_dashboard_url": f"http://{standin}"}


async def test_cli_ray_status_prints_the_cluster_state(laptop, server_url, token, standin):  # noqa: F811
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


async def test_cli_git_status_not_configured_then_state(laptop, tmp_path):  # noqa: F811
    """Without a repo: "not configured: set JUPYTER_REMOTE_DEV_GIT_REPO", no log line; with
    one, after init: repo, branch, ahead/behind and the last cycle."""
    env = {k: v for k, v in laptop["env"].items() if not k.startswith("JUPYTER_REMOTE_DEV_GIT")}
    bare = make_remote(tmp_path, {"README.md": "hello\n"})
    bare_env = {**env, "JUPYTER_REMOTE_DEV_GIT_REPO": str(bare)}
    unconfigured = await cli({**laptop, "env": env}, "git", "status")
    assert unconfigured.returncode == 1
    assert (
        unconfigured.stdout == "not configured: set JUPYTER_REMOTE_DEV_GIT_REPO (or --repo URL)\n"
    )
    assert unconfigured.stderr == ""
    workspace = tmp_path / "ws"
    bare_env["JUPYTER_REMOTE_DEV_GIT_WORKSPACE"] = str(workspace)
    configured = {**laptop, "env": bare_env}
    assert (await cli(configured, "git", "init")).returncode == 0
    status = await cli(configured, "git", "status")
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[0] == f"repo {bare} -> {workspace}"
    assert lines[1].startswith("branch remote-dev/") and "0 ahead, 0 behind" in lines[1]
    assert lines[2].startswith("last cycle ") and ": ok: " in lines[2]

"""The client follows the server's configured ignore patterns (reported by GET info)."""

from __future__ import annotations

import json

import pytest

from jupyter_remote_dev.client.sync.state import SyncState
from jupyter_remote_dev.client.sync.transfer import Transfer
from jupyter_remote_dev.files.manifest import DEFAULT_IGNORE_PATTERNS

from ..support.openapi_check import assert_response_matches
from . import cli_support

SERVER_IGNORES = [".git", ".jupyter-remote-dev", "*.log", "data/raw/*"]
"""Unlike the default list: ignores ``*.log`` and ``data/raw/*``, syncs ``__pycache__``."""

cli, login = cli_support.cli, cli_support.login


@pytest.fixture
def remote_dev_config():
    return {"ignore_patterns": SERVER_IGNORES}


async def test_info_reports_configured_ignore_patterns(jp_fetch, remote_dev):
    """GET info names the server's configured ignore_patterns, as the contract says."""
    response = await jp_fetch("remote-dev", "api", "info")
    assert json.loads(response.body)["ignore_patterns"] == SERVER_IGNORES
    assert list(remote_dev.ignore_patterns) == SERVER_IGNORES
    assert_response_matches(response, "GET", "/info")


@pytest.mark.parametrize("remote_dev_config", [{}])
async def test_info_default_ignore_patterns_match_manifest_default(jp_fetch, remote_dev):
    """An unconfigured server reports the default the client falls back to for old servers."""
    response = await jp_fetch("remote-dev", "api", "info")
    reported = json.loads(response.body)["ignore_patterns"]
    assert reported == list(remote_dev.ignore_patterns) == list(DEFAULT_IGNORE_PATTERNS)


async def test_sync_follows_server_ignore_patterns(laptop, server_url, token, jp_root_dir):
    """sync leaves out what the server ignores, keeps it locally on a rerun, and syncs the rest."""
    logged_in = await login(laptop, server_url, token)
    project = logged_in["project"]
    files = {
        "a.py": "code\n",
        "run.log": "server ignores me\n",
        "data/raw/big.csv": "raw\n",
        "data/keep.csv": "kept\n",
        "__pycache__/m.pyc": "only the default list ignores me\n",
    }
    for relative, text in files.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)
    remote = jp_root_dir / "p"
    remote.mkdir()
    (remote / "server.log").write_text("never pulled\n")

    first = await cli(logged_in, "sync", "--yes", "--remote", "p", "--json")
    assert first.returncode == 0, first.stderr
    synced = {p.relative_to(remote).as_posix() for p in remote.rglob("*") if p.is_file()}
    assert synced == {"a.py", "data/keep.csv", "__pycache__/m.pyc", "server.log"}
    assert not (project / "server.log").exists()
    state = json.loads((project / ".jupyter-remote-dev" / "state.json").read_text())
    assert state["server_ignore"] == SERVER_IGNORES
    assert set(state["base"]) == {"a.py", "data/keep.csv", "__pycache__/m.pyc"}

    second = await cli(logged_in, "sync", "--json")
    assert second.returncode == 0, second.stderr
    result = json.loads(second.stdout)
    assert result["done"] == [] and result["failed"] == [] and result["skipped"] == []
    assert all(count == 0 for count in result["summary"].values()), result["summary"]
    for relative, text in files.items():
        assert (project / relative).read_text() == text
    assert not (remote / "run.log").exists() and not (remote / "data" / "raw").exists()


class _OldServer:
    """Answers GET info as a server from before ignore_patterns were reported."""

    def info(self):
        return {"version": "0.0.1", "features": {}, "limits": {}}


def test_transfer_falls_back_to_default_ignores_for_old_server(tmp_path):
    """Without ignore_patterns in GET info the client uses the shared default list."""
    state = SyncState(tmp_path, "default", "p", server_ignore=("*.log",))
    Transfer(_OldServer(), state).use_server_ignores()
    assert state.server_ignore == DEFAULT_IGNORE_PATTERNS
    assert state.ignores("pkg/__pycache__/m.pyc") and not state.ignores("run.log")

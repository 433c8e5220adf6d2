"""End to end through a real JupyterHub: hub_config/local_config.py, configurable-http-proxy, a
local user server with the extension, and the CLI driven as a user would (subprocesses)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import httpx
import pytest

from .hub_cli import cli, needs_proxy, server_files

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(600),
    needs_proxy,
]


def test_e2e_login_offers_to_start_and_follows_progress(hub, alice):
    """Login to a stopped server fails with a clear line; with --start the hub starts it."""
    url = f"{hub.url}user/alice/"
    stopped = cli(alice, "login", url, "--token-stdin", stdin=alice["token"] + "\n")
    assert stopped.returncode == 1
    assert "alice is not running" in stopped.stderr and "--start" in stopped.stderr
    started = cli(alice, "login", url, "--token-stdin", "--start", stdin=alice["token"] + "\n")
    assert started.returncode == 0, started.stderr
    assert "logged in to" in started.stdout and "as alice" in started.stdout
    assert "Server ready" in started.stderr or "%]" in started.stderr
    profiles = Path(alice["env"]["JUPYTER_CONFIG_DIR"]) / "remote_dev_profiles.json"
    assert profiles.stat().st_mode & 0o777 == 0o600
    assert json.loads(profiles.read_text())["profiles"]["default"]["user"] == "alice"


def test_e2e_other_users_token_gets_403(hub, alice):
    """Bob's valid hub token is refused by Alice's server (403) and by the CLI's identity check."""
    bob_token = hub.user_token("bob")
    direct = httpx.get(
        f"{hub.url}user/alice/remote-dev/api/info",
        headers={"Authorization": f"token {bob_token}"},
        timeout=30,
    )
    assert direct.status_code == 403
    login = cli(alice, "login", f"{hub.url}user/alice/", "--profile", "bob", "--token-stdin",
                stdin=bob_token + "\n")  # fmt: skip
    assert login.returncode == 1
    assert "belongs to user 'bob'" in login.stderr


def test_e2e_expired_token_is_one_clear_line(hub, alice):
    """A token past its expiry gives one line naming the problem, not a traceback."""
    token = hub.user_token("alice", expires_in=1)
    time.sleep(2.5)
    login = cli(alice, "login", f"{hub.url}user/alice/", "--profile", "old", "--token-stdin",
                stdin=token + "\n")  # fmt: skip
    assert login.returncode == 1
    assert "refused" in login.stderr and "expired" in login.stderr
    assert len(login.stderr.strip().splitlines()) == 1


def test_e2e_sync_edit_delete_conflict_and_run(hub, alice):
    """Sync a tree, edit and delete on both sides, hit a conflict, resolve it, run a command."""
    token = alice["token"]
    if cli(alice, "status").returncode != 0:  # this test may run alone
        login = cli(alice, "login", f"{hub.url}user/alice/", "--token-stdin", "--start",
                    stdin=token + "\n")  # fmt: skip
        assert login.returncode == 0, login.stderr
    project = alice["home"] / "project"
    for i in range(30):
        (project / "src" / f"pkg{i % 3}").mkdir(parents=True, exist_ok=True)
        (project / "src" / f"pkg{i % 3}" / f"mod{i}.py").write_text(f"VALUE = {i}\n")
    (project / "data.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    (project / "__pycache__").mkdir()
    (project / "__pycache__" / "x.pyc").write_bytes(b"ignored")

    bound = cli(alice, "init", "--remote", "work/project", cwd=project)
    assert bound.returncode == 0, bound.stderr
    first = cli(alice, "sync", cwd=project)
    assert first.returncode == 0, first.stderr
    listing = server_files(hub, token, "work/project/src/pkg1").json()
    assert len(listing["content"]) == 10
    assert server_files(hub, token, "work/project/__pycache__").status_code == 404

    # both sides change different files; each side deletes one file; each side adds one
    (project / "src" / "pkg0" / "mod0.py").write_text("VALUE = 'local edit'\n")
    (project / "src" / "pkg1" / "mod1.py").unlink()
    (project / "local_new.txt").write_text("from the laptop\n")
    remote_edit = {"type": "file", "format": "text", "content": "VALUE = 'remote edit'\n"}
    assert server_files(hub, token, "work/project/src/pkg2/mod2.py", method="PUT",
                        json=remote_edit).status_code == 200  # fmt: skip
    assert (
        server_files(hub, token, "work/project/src/pkg0/mod3.py", method="DELETE").status_code
        == 204
    )
    new_remote = {"type": "file", "format": "text", "content": "from the server\n"}
    assert server_files(hub, token, "work/project/remote_new.txt", method="PUT",
                        json=new_remote).status_code == 201  # fmt: skip

    second = cli(alice, "sync", cwd=project)
    assert second.returncode == 0, second.stderr + second.stdout
    assert (project / "src" / "pkg2" / "mod2.py").read_text() == "VALUE = 'remote edit'\n"
    assert not (project / "src" / "pkg0" / "mod3.py").exists()
    assert (project / "remote_new.txt").read_text() == "from the server\n"
    assert server_files(hub, token, "work/project/src/pkg1/mod1.py").status_code == 404
    pushed = server_files(hub, token, "work/project/src/pkg0/mod0.py").json()["content"]
    assert pushed == "VALUE = 'local edit'\n"
    assert server_files(hub, token, "work/project/local_new.txt").status_code == 200

    # the same file changed on both sides: a conflict, nothing overwritten, both versions kept
    (project / "src" / "pkg2" / "mod5.py").write_text("VALUE = 'laptop'\n")
    both = {"type": "file", "format": "text", "content": "VALUE = 'server'\n"}
    server_files(hub, token, "work/project/src/pkg2/mod5.py", method="PUT", json=both)
    conflict = cli(alice, "sync", "--json", cwd=project)
    assert conflict.returncode == 2, conflict.stderr
    report = json.loads(conflict.stdout)
    (entry,) = report["conflicts"]
    assert entry["path"] == "src/pkg2/mod5.py"
    assert (project / "src" / "pkg2" / "mod5.py").read_text() == "VALUE = 'laptop'\n"
    assert (project / entry["remote_copy"]).read_text() == "VALUE = 'server'\n"
    remote_now = server_files(hub, token, "work/project/src/pkg2/mod5.py").json()["content"]
    assert remote_now == "VALUE = 'server'\n"

    # resolving: edit the local file, keep it; the merged version goes up, the copy goes away
    (project / "src" / "pkg2" / "mod5.py").write_text("VALUE = 'merged'\n")
    held = cli(alice, "sync", cwd=project)
    assert held.returncode == 2, held.stdout + held.stderr
    kept = cli(alice, "resolve", "--keep", "local", "mod5.py", cwd=project / "src" / "pkg2")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert not (project / entry["remote_copy"]).exists()
    resolved = cli(alice, "sync", cwd=project)
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    remote_now = server_files(hub, token, "work/project/src/pkg2/mod5.py").json()["content"]
    assert remote_now == "VALUE = 'merged'\n"

    # run in the matching server folder; streams and the exit code come back
    run = cli(alice, "run", "--", sys.executable, "-c",
              "import os, sys; print(os.path.basename(os.getcwd())); "
              "print('to stderr', file=sys.stderr); sys.exit(7)",
              cwd=project / "src")  # fmt: skip
    assert run.returncode == 7
    assert run.stdout == "src\n"
    assert run.stderr == "to stderr\n"


def test_e2e_named_server_login_start_and_run(hub, alice):
    """A named server URL (/user/alice/gpu/) is started through the hub and runs commands."""
    url = f"{hub.url}user/alice/gpu/"
    login = cli(alice, "login", url, "--profile", "gpu", "--token-stdin", "--start",
                stdin=alice["token"] + "\n")  # fmt: skip
    assert login.returncode == 0, login.stderr
    assert "as alice" in login.stdout
    code = "import os; print(os.environ['JUPYTERHUB_SERVER_NAME'])"
    run = cli(alice, "run", "--profile", "gpu", "--", sys.executable, "-c", code)
    assert (run.returncode, run.stdout) == (0, "gpu\n"), run.stderr
    assert hub.admin.get("users/alice").json()["servers"]["gpu"]["ready"] is True

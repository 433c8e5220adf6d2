"""A user server stopped by the hub (idle culling) while the CLI works, through a real JupyterHub:
every command says "not running" with the --start hint (never "token refused"), and
``sync --watch`` waits for the server and then delivers the edits made meanwhile."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .hub_cli import CLI, cli, needs_proxy, server_files

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600), needs_proxy]  # 600: as before the move


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.2)


def stop_server(hub) -> None:
    """Stop Alice's default server through the hub API, as the idle culler does."""
    response = hub.admin.delete("users/alice/server")
    assert response.status_code in (202, 204), response.text

    def stopped():
        server = hub.admin.get("users/alice").json()["servers"].get("")
        return not server

    wait_until(stopped, 60, "the server stopping")


def start_server(hub) -> None:
    response = hub.admin.post("users/alice/server")
    assert response.status_code in (201, 202), response.text

    def ready():
        server = hub.admin.get("users/alice").json()["servers"].get("")
        return bool(server and server.get("ready"))

    wait_until(ready, 90, "the server starting")


@pytest.fixture(scope="module")
def logged_in(hub, alice):
    login = cli(alice, "login", f"{hub.url}user/alice/", "--token-stdin", "--start",
                stdin=alice["token"] + "\n")  # fmt: skip
    assert login.returncode == 0, login.stderr
    return alice


def add_bad_token_profile(user) -> None:
    """A copy of the default profile whose token the hub does not know."""
    path = Path(user["env"]["JUPYTER_CONFIG_DIR"]) / "remote_dev_profiles.json"
    saved = json.loads(path.read_text())
    saved["profiles"]["bad"] = {**saved["profiles"]["default"], "token": "0" * 32}
    path.write_text(json.dumps(saved))


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_e2e_stopped_server_is_named_for_every_command(hub, logged_in):
    """With the server stopped: run, status, push, ray jobs say "not running" + --start in one
    line; a bad token still says the token was refused; run --start starts it and runs."""
    add_bad_token_profile(logged_in)
    project = logged_in["home"] / "culled"
    project.mkdir()
    (project / "a.txt").write_text("a\n")
    stop_server(hub)
    for args in (
        ["run", "--", "true"],
        ["status"],
        ["sync", str(project), "--remote", "culled", "--yes"],
        ["ray", "jobs"],
    ):
        result = cli(logged_in, *args)
        line = one_line(result)
        assert result.returncode == 1, (args, result.stderr)
        assert line.startswith("jupyter remote-dev: error: the server alice is not running"), args
        assert "--start" in line and "token" not in line, args
    refused = cli(logged_in, "run", "--profile", "bad", "--", "true")
    assert refused.returncode == 1
    assert "token was refused" in one_line(refused)
    started = cli(logged_in, "run", "--start", "--", sys.executable, "-c", "print('up')")
    assert (started.returncode, started.stdout) == (0, "up\n"), started.stderr


def test_e2e_watch_waits_for_a_culled_server_and_delivers_the_edit(hub, logged_in):
    """sync --watch: the server is stopped, a file is edited, one made, one deleted; the server
    comes back: all three arrive; "waiting" and "resumed" are each said once; Ctrl-C exits 0
    without noise."""
    token = logged_in["token"]
    if hub.admin.get("users/alice").json()["servers"].get("") is None:
        start_server(hub)
    project = logged_in["home"] / "watched"
    project.mkdir()
    (project / "notes.txt").write_text("v1\n")
    (project / "gone.txt").write_text("deleted while culled\n")
    stderr_path = logged_in["home"] / "watch.stderr"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [CLI, "sync", "--remote", "watched", "--yes", "--watch", "--SyncApp.retry_max=1"],
            cwd=project, env=logged_in["env"], stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    try:

        def remote_text():
            answer = server_files(hub, token, "watched/notes.txt")
            return answer.json()["content"] if answer.status_code == 200 else None

        wait_until(lambda: remote_text() == "v1\n", 60, "the first sync")
        wait_until(lambda: "watching" in stderr_path.read_text(), 30, "watch start")
        stop_server(hub)
        (project / "notes.txt").write_text("v2, written while the server was culled\n")
        (project / "new.txt").write_text("new while culled\n")
        (project / "gone.txt").unlink()
        wait_until(lambda: "waiting" in stderr_path.read_text(), 30, "the waiting note")
        time.sleep(2)  # a few retries fail while it is down
        start_server(hub)
        wait_until(lambda: remote_text() == "v2, written while the server was culled\n",
                   60, "the edit arriving")  # fmt: skip
        wait_until(lambda: server_files(hub, token, "watched/new.txt").status_code == 200,
                   30, "the new file arriving")  # fmt: skip
        wait_until(lambda: server_files(hub, token, "watched/gone.txt").status_code == 404,
                   30, "the deletion arriving")  # fmt: skip
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(30)
    log = stderr_path.read_text()
    assert code == 0, log
    assert log.count("waiting") == 1 and log.count("resumed") == 1, log
    assert "Traceback" not in log and "token" not in log and "interrupted" not in log, log
    assert httpx.get(f"{hub.url}hub/api/").status_code == 200


def test_e2e_login_reads_browser_urls_and_never_starts_a_guess(hub, logged_in):
    """login .../user/alice/tree and .../lab log in to Alice's default server (no named server
    "tree" is made, no JSON traceback); an unknown segment before a foreign page is refused."""
    if hub.admin.get("users/alice").json()["servers"].get("") is None:
        start_server(hub)
    token = logged_in["token"] + "\n"
    for page in ("tree", "lab", "lab/tree/notes.txt"):
        result = cli(logged_in, "login", f"{hub.url}user/alice/{page}", "--profile", "page",
                     "--token-stdin", "--start", stdin=token)  # fmt: skip
        assert result.returncode == 0, (page, result.stderr)
        assert f"logged in to {hub.url}user/alice/ as alice" in result.stdout, page
    guessed = cli(logged_in, "login", f"{hub.url}user/alice/rstudio/auth", "--profile", "guess",
                  "--token-stdin", "--start", stdin=token)  # fmt: skip
    assert guessed.returncode == 1
    assert "no server named 'rstudio'" in one_line(guessed)
    servers = hub.admin.get("users/alice", params={"include_stopped_servers": "1"}).json()
    assert not {"tree", "lab", "rstudio"} & set(servers["servers"])

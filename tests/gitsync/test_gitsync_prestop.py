"""One settings source: the preStop cycle (``python -m jupyter_remote_dev.gitsync cycle``) runs
with the running server's effective settings, command line and config files included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ..support.gitsync_support import GIT_ENV, git, make_remote, write

LIMIT = 65536
TOKEN = "tok-3c1d2e9f-never-recorded"
SERVER_CONFIG = """c.RemoteDevExtension.git_exclude = ["*.tmp", ".ipynb_checkpoints"]\n"""


def run_cli(cwd: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_remote_dev.gitsync", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def branch_files(bare: Path, branch: str) -> set[str]:
    return set(filter(None, git(bare, "ls-tree", "-r", "--name-only", "-z", branch).split("\0")))


@pytest.fixture
def pod(tmp_path):
    """Paths and environment of a pod: the hub's GIT_* variables, a runtime dir, a config dir."""
    bare = make_remote(tmp_path)
    home = tmp_path / "home"
    config = home / ".jupyter"
    write(config / "jupyter_server_config.py", SERVER_CONFIG)
    env = {
        key: value
        for key, value in GIT_ENV.items()
        if not key.startswith(("JUPYTER", "JPY_", "JUPYTERHUB"))
    }
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTERHUB_USER="alice",
        JUPYTER_REMOTE_DEV_GIT_REPO=str(bare),
        JUPYTER_REMOTE_DEV_GIT_UPSTREAM="main",
        JUPYTER_REMOTE_DEV_GIT_INTERVAL="0",
        JUPYTER_REMOTE_DEV_GIT_TOKEN=TOKEN,
        PYTHONPATH=str(Path(__file__).parents[2]),
    )
    return {"bare": bare, "home": home, "env": env, "branch": "remote-dev/alice"}


class Server:
    """``jupyter server`` in a subprocess with the extension and extra command-line options."""

    def __init__(self, env: dict, cwd: Path, *options: str):
        self.env, self.runtime = env, Path(env["JUPYTER_RUNTIME_DIR"])
        argv = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.port=0",
                "--ServerApp.ip=127.0.0.1", "--allow-root", *options]  # fmt: skip
        self.log = cwd / "server.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=log, stderr=log, start_new_session=True
            )
        self.url, self.token = self._wait_for_info()

    def _wait_for_info(self) -> tuple[str, str]:
        info = self.runtime / f"jpserver-{self.process.pid}.json"
        deadline = time.monotonic() + 60
        while not info.exists():
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not start in 60 s"
            time.sleep(0.1)
        data = json.loads(info.read_text())
        return data["url"], data["token"]

    def post(self, path: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}remote-dev/api/{path}",
            headers={"Authorization": f"token {self.token}"},
            timeout=60,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def test_prestop_cycle_uses_the_running_servers_command_line_and_config(pod, tmp_path):
    """The server skips a 68 KiB file (--RemoteDevExtension.git_max_file_size=65536) and excludes
    *.tmp (config file): so does the preStop cycle run beside it, from the server's folder."""
    root = tmp_path / "root"
    root.mkdir()
    server = Server(pod["env"], root, f"--RemoteDevExtension.git_max_file_size={LIMIT}")
    try:
        assert server.post("git/sync").status_code == 200  # init: clone and first push
        write(root / "big.bin", b"x" * (68 * 1024))
        write(root / "notes.tmp", "scratch\n")
        write(root / "ok.txt", "ok\n")
        result = run_cli(root, pod["env"], "cycle", "--wait=30")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "skipped: big.bin" in result.stdout
        files = branch_files(pod["bare"], pod["branch"])
        assert "ok.txt" in files and "big.bin" not in files and "notes.tmp" not in files
        record = (root / ".git" / "remote-dev" / "settings.json").read_text()
        pointer = pod["home"] / "runtime" / "jupyter-remote-dev-git.json"
        assert json.loads(record)["max_file_size"] == LIMIT
        assert TOKEN not in record and TOKEN not in pointer.read_text()
    finally:
        server.stop()
    assert "big.bin" not in branch_files(pod["bare"], pod["branch"])  # nor did the final cycle
    assert not pointer.exists()  # a stopped server names no workspace
    # the next pod's init container: the hub's variables, the server's commit rules
    write(root / "big2.bin", b"y" * (68 * 1024))
    write(root / "more.tmp", "scratch\n")
    write(root / "ok2.txt", "ok\n")
    env = {**pod["env"], "JUPYTER_REMOTE_DEV_GIT_WORKSPACE": str(root)}
    result = run_cli(tmp_path, env, "init")
    assert result.returncode == 0 and "skipped: big2.bin" in result.stdout, result.stderr
    files = branch_files(pod["bare"], pod["branch"])
    assert "ok2.txt" in files and "big2.bin" not in files and "more.tmp" not in files


def test_prestop_cycle_finds_a_workspace_outside_its_working_directory(pod, tmp_path):
    """With root_dir elsewhere (KubeSpawner's notebook_dir) the cycle still syncs the server's
    workspace with the server's settings, found through the Jupyter runtime dir."""
    root = tmp_path / "work"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    server = Server(
        pod["env"],
        elsewhere,
        f"--ServerApp.root_dir={root}",
        "--RemoteDevExtension.git_workspace=project",
        f"--RemoteDevExtension.git_max_file_size={LIMIT}",
    )
    try:
        assert server.post("git/sync").status_code == 200
        write(root / "project" / "big.bin", b"x" * (68 * 1024))
        write(root / "project" / "ok.txt", "ok\n")
        result = run_cli(elsewhere, pod["env"], "cycle", "--wait=30")
        assert result.returncode == 0, result.stdout + result.stderr
        files = branch_files(pod["bare"], pod["branch"])
        assert "project/ok.txt" not in files and "ok.txt" in files and "big.bin" not in files
        assert not (elsewhere / ".git").exists()
    finally:
        server.stop()


def test_cycle_without_a_server_falls_back_to_the_environment(pod, tmp_path):
    """Where no server ever ran (the init container), the hub's variables are the settings."""
    work = tmp_path / "fresh"
    result = run_cli(
        tmp_path, {**pod["env"], "JUPYTER_REMOTE_DEV_GIT_WORKSPACE": str(work)}, "init"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (work / "README.md").read_text() == "hello\n"
    assert "README.md" in branch_files(pod["bare"], pod["branch"])
    assert not (work / ".git" / "remote-dev" / "settings.json").exists()


def test_cycle_refuses_a_damaged_record_with_a_clear_message(pod, tmp_path):
    """A truncated or hand-edited record is reported by name; nothing is committed."""
    work = tmp_path / "work"
    env = {**pod["env"], "JUPYTER_REMOTE_DEV_GIT_WORKSPACE": str(work)}
    assert run_cli(tmp_path, env, "init").returncode == 0
    record = work / ".git" / "remote-dev" / "settings.json"
    write(record, '{"repo": ')
    write(work / "new.txt", "n\n")
    result = run_cli(tmp_path, env, "cycle")
    assert result.returncode == 1
    assert f"{record} is not valid JSON" in result.stderr
    write(record, json.dumps({"repo": "ext::x", "workspace": str(work), "sync_branch": "b"}))
    result = run_cli(tmp_path, env, "cycle")
    assert result.returncode == 1 and f"{record}: " in result.stderr and "ext::" in result.stderr
    assert "new.txt" not in branch_files(pod["bare"], pod["branch"])
    result = run_cli(tmp_path, env, "init")  # the pod must still start: warn, use the variables
    assert result.returncode == 0 and f"{record}: " in result.stderr
    assert "new.txt" in branch_files(pod["bare"], pod["branch"])


def test_stop_timeout_leaves_room_for_the_prestop_cycle_in_the_grace_period():
    """The pod's grace period covers the preStop cycle (which may wait half of it) and then the
    server's own final cycle: git_stop_timeout must fit in what is left."""
    from jupyter_remote_dev.extension import RemoteDevExtension
    from jupyter_remote_dev.hub.gitsync import GitSync as HubGitSync

    grace = HubGitSync().termination_grace_period
    assert RemoteDevExtension().git_stop_timeout < grace - grace // 2

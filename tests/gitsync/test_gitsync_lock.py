"""One cycle at a time across processes, and the command-line entry points."""

import json
import os
import subprocess
import sys

import pytest

from jupyter_remote_dev.gitsync import GitSyncBusyError

from ..support.gitsync_support import git, make_remote, make_sync, write

HOLDER = """
import sys
from jupyter_remote_dev.gitsync.lock import SyncLock
lock = SyncLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.read()
lock.release()
"""


@pytest.fixture
def sync(tmp_path):
    engine = make_sync(tmp_path, make_remote(tmp_path))
    engine.init()
    return engine


@pytest.fixture
def cli_env(tmp_path, sync):
    return {
        **os.environ,
        "JUPYTER_REMOTE_DEV_GIT_REPO": sync.settings.repo,
        "JUPYTER_REMOTE_DEV_GIT_WORKSPACE": str(sync.workspace),
        "JUPYTER_REMOTE_DEV_GIT_SYNC_BRANCH": sync.branch,
        "JUPYTER_REMOTE_DEV_GIT_AUTHOR_NAME": "CLI",
        "JUPYTER_REMOTE_DEV_GIT_AUTHOR_EMAIL": "cli@example.org",
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
    }


@pytest.fixture
def holder(sync):
    """Another process holding the workspace's sync lock until the test ends."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(sync._lock.path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.stdin.close()
        process.wait(timeout=10)


def run_cli(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "jupyter_remote_dev.gitsync", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_lock_held_by_another_process_blocks_a_cycle(sync, holder):
    """While another process holds the lock, a cycle refuses and status says running."""
    write(sync.workspace / "x.txt", "x\n")
    with pytest.raises(GitSyncBusyError):
        sync.cycle(wait=0.2)
    assert sync.status()["running"] is True
    assert "x.txt" not in git(sync.workspace, "ls-files")


def test_lock_is_free_again_after_the_holder_exits(sync, holder):
    """Once the other process lets go (or dies), cycles run again."""
    holder.stdin.close()
    holder.wait(timeout=10)
    write(sync.workspace / "x.txt", "x\n")
    assert sync.cycle(wait=5).result == "ok"
    assert sync.status()["running"] is False


def test_cli_cycle_exits_75_when_busy_and_runs_after(cli_env, holder, sync):
    """python -m ... cycle gives EX_TEMPFAIL while locked, and syncs when the lock is free."""
    busy = run_cli(cli_env, "cycle")
    assert busy.returncode == 75, busy.stderr
    assert "already running" in busy.stderr
    holder.stdin.close()
    holder.wait(timeout=10)
    write(sync.workspace / "cli.txt", "c\n")
    done = run_cli(cli_env, "cycle", "--wait=10")
    assert done.returncode == 0, done.stderr
    assert "cycle: ok" in done.stdout
    log = git(sync.workspace, "log", "-1", "--format=%an <%ae>")
    assert log.strip() == "CLI <cli@example.org>"


def test_cli_concurrent_cycles_never_overlap(cli_env, sync):
    """Two CLI cycles started together both finish (one waits) and the clone stays sound."""
    for index in range(20):
        write(sync.workspace / f"f{index}.txt", f"{index}\n")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "jupyter_remote_dev.gitsync", "cycle", "--wait=60"],
            env=cli_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    codes = [process.wait(timeout=60) for process in processes]
    for process in processes:
        process.stdout.close()
        process.stderr.close()
    assert codes == [0, 0]
    assert git(sync.workspace, "status", "--porcelain").strip() == ""
    assert git(sync.workspace, "fsck", "--no-progress").strip() == ""


def test_cli_status_prints_the_status_object_and_init_works(cli_env, tmp_path):
    """status prints the git/status JSON; init creates a fresh workspace from the env."""
    env = {**cli_env, "JUPYTER_REMOTE_DEV_GIT_WORKSPACE": str(tmp_path / "fresh")}
    init = run_cli(env, "init")
    assert init.returncode == 0, init.stderr
    status = run_cli(env, "status")
    body = json.loads(status.stdout)
    assert body["configured"] is True and body["last_cycle"]["result"] == "ok"
    assert body["workspace"] == str(tmp_path / "fresh")


def test_cli_refuses_hostile_config_with_exit_1(cli_env):
    """A hostile URL from the environment stops the CLI with a clear message."""
    result = run_cli({**cli_env, "JUPYTER_REMOTE_DEV_GIT_REPO": "-uhack"}, "cycle")
    assert result.returncode == 1 and "must not start with '-'" in result.stderr

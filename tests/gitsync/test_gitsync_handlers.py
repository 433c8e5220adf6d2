"""GET git/status and POST git/sync on a real Jupyter server, checked against openapi.yaml."""

import asyncio
import json
import subprocess
import sys

import pytest
from tornado.httpclient import HTTPClientError
from traitlets import TraitError

from jupyter_remote_dev.base.handlers import GIT_SERVICE
from jupyter_remote_dev.extension import RemoteDevExtension

from ..support.gitsync_support import git, laptop_clone, laptop_push, make_remote, write
from ..support.openapi_check import assert_response_matches


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


async def fetch_json(jp_fetch, method, path, **kwargs):
    response = await jp_fetch("remote-dev", "api", *path.strip("/").split("/"), method=method,
                              **kwargs)  # fmt: skip
    assert_response_matches(response, method, path)
    return json.loads(response.body)


@pytest.mark.parametrize("remote_dev_config", [{"git_repo": ""}])
async def test_git_status_reports_not_configured(jp_fetch):
    """Without a repo, status says configured: false and sync answers 400 with a message."""
    body = await fetch_json(jp_fetch, "GET", "/git/status")
    assert body["configured"] is False and body["repo"] is None
    with pytest.raises(HTTPClientError) as failure:
        await jp_fetch("remote-dev", "api", "git", "sync", method="POST", body=b"")
    assert failure.value.code == 400
    assert "not configured" in json.loads(failure.value.response.body)["message"]
    assert_response_matches(failure.value.response, "POST", "/git/sync")


async def test_git_sync_clones_then_reports_conflicts(jp_fetch, jp_root_dir, bare, tmp_path):
    """POST git/sync clones into the workspace; a later conflict shows up in status."""
    body = await fetch_json(jp_fetch, "POST", "/git/sync", body=b"")
    workspace = jp_root_dir / "work"
    assert body["configured"] and body["last_cycle"]["result"] == "ok"
    assert body["workspace"] == str(workspace) and body["branch"].startswith("remote-dev/")
    assert (workspace / "README.md").read_text() == "hello\n"
    laptop = laptop_clone(tmp_path, bare, body["branch"])
    write(laptop / "README.md", "laptop\n")
    laptop_push(laptop)
    write(workspace / "README.md", "server\n")
    body = await fetch_json(jp_fetch, "POST", "/git/sync", body=b"")
    assert body["last_cycle"]["result"] == "conflict"
    (conflict,) = body["conflicts"]
    assert (workspace / conflict["kept_at"]).read_text() == "laptop\n"
    status = await fetch_json(jp_fetch, "GET", "/git/status")
    assert status["conflicts"] == body["conflicts"] and status["ahead"] == 0


async def test_git_sync_answers_409_while_another_process_cycles(jp_fetch, jp_root_dir):
    """A cycle holding the lock elsewhere (init container, CLI) makes POST git/sync 409."""
    await fetch_json(jp_fetch, "POST", "/git/sync", body=b"")
    lock = jp_root_dir / "work" / ".git" / "remote-dev" / "sync.lock"
    code = "import fcntl,sys;f=open(sys.argv[1]);fcntl.flock(f,fcntl.LOCK_EX);print(1,flush=True)"
    holder = subprocess.Popen(
        [sys.executable, "-c", code + ";sys.stdin.read()", str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        holder.stdout.readline()
        status = await fetch_json(jp_fetch, "GET", "/git/status")
        assert status["running"] is True
        with pytest.raises(HTTPClientError) as failure:
            await jp_fetch("remote-dev", "api", "git", "sync", method="POST", body=b"")
        assert failure.value.code == 409
        assert_response_matches(failure.value.response, "POST", "/git/sync")
    finally:
        holder.stdin.close()
        holder.stdout.close()
        holder.wait(timeout=10)


async def test_git_timer_and_final_cycle_push_server_changes(remote_dev, jp_root_dir, bare):
    """The timer runs init then cycles; stopping runs one last cycle that pushes new work."""
    service = remote_dev.settings[GIT_SERVICE]
    service.interval = 0.2
    await remote_dev._start_jupyter_server_extension(remote_dev.serverapp)
    for _ in range(100):
        if (jp_root_dir / "work" / "README.md").exists():
            break
        await asyncio.sleep(0.1)
    write(jp_root_dir / "work" / "last-words.txt", "saved at shutdown\n")
    await service.stop(timeout=30)
    branch = service.sync.branch
    assert "last-words.txt" in git(bare, "ls-tree", "--name-only", branch)


async def test_git_feature_flag_is_on_in_info(jp_fetch):
    """info lists the git feature when a repo is configured."""
    response = await jp_fetch("remote-dev", "api", "info")
    assert json.loads(response.body)["features"]["git"] is True


@pytest.mark.parametrize(
    "trait,value",
    [
        ("git_repo", "ext::sh -c id"),
        ("git_repo", "--upload-pack=id"),
        ("git_sync_branch", "a..b"),
        ("git_upstream", "-x"),
        ("git_max_file_size", 0),
    ],
)
def test_git_traits_refuse_hostile_values(trait, value):
    """Unsafe git settings fail at start-up with the trait's name in the message."""
    with pytest.raises(TraitError):
        RemoteDevExtension(**{trait: value})


@pytest.mark.parametrize("user", ["jo..doe", "x.lock"])
async def test_git_sync_works_for_user_names_git_refuses_in_refs(jp_fetch, bare, monkeypatch, user):
    """A user name that is no valid ref part still gets status and sync (its own branch)."""
    from jupyter_remote_dev.gitsync.config import ref_safe_username

    monkeypatch.setenv("JUPYTERHUB_USER", user)
    status = await fetch_json(jp_fetch, "GET", "/git/status")
    assert status["branch"] == f"remote-dev/{ref_safe_username(user)}" != f"remote-dev/{user}"
    body = await fetch_json(jp_fetch, "POST", "/git/sync", body=b"")
    assert body["last_cycle"]["result"] == "ok"
    assert git(bare, "rev-parse", "--verify", "-q", f"refs/heads/{status['branch']}").strip()

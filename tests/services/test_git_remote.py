"""The team Git service without a hub: real git clients through the real tornado app and
``git http-backend``; only the hub's token check is a table (the end-to-end test uses the hub)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from jupyter_remote_dev.gitsync.config import DEFAULT_SYNC_BRANCH, expand_sync_branch
from jupyter_remote_dev.ray.local_head import free_port
from jupyter_remote_dev.services.git_remote.policy import refusals
from jupyter_remote_dev.services.git_remote.repo import provision

from ..support.git_http_support import git, team_git_service


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with team_git_service(tmp_path_factory.mktemp("git-service")) as running:
        yield running


def test_git_remote_policy_allows_only_the_own_branch():
    """Only refs/heads/remote-dev/<user> may be created or moved; deletes and others refused."""
    old, new, zero = "1" * 40, "2" * 40, "0" * 40
    assert refusals("alice", [f"{old} {new} refs/heads/remote-dev/alice"]) == []
    assert refusals("alice", [f"{zero} {new} refs/heads/remote-dev/alice"]) == []
    for line in (f"{old} {new} refs/heads/remote-dev/bob", f"{old} {new} refs/heads/main",
                 f"{zero} {new} refs/tags/v1", f"{old} {zero} refs/heads/remote-dev/alice",
                 "garbage"):  # fmt: skip
        assert refusals("alice", [line]), line
    assert refusals("", [f"{old} {new} refs/heads/remote-dev/alice"])
    # a name git refuses in refs gets the hub's and the server's branch (a hash keeps it apart)
    odd = expand_sync_branch(DEFAULT_SYNC_BRANCH, "a b")
    assert refusals("a b", [f"{old} {new} refs/heads/{odd}"]) == []
    assert refusals("a b", [f"{old} {new} refs/heads/remote-dev/a-b"])  # that is a-b's branch


def test_git_remote_provision_is_idempotent(tmp_path):
    """The team repo gets main with the sample project once; a second call changes nothing."""
    repo = provision(tmp_path)
    head = git("--git-dir", str(repo), "rev-parse", "main").stdout
    files = git("--git-dir", str(repo), "ls-tree", "-r", "--name-only", "main").stdout.split()
    assert {"README.md", "analysis/summary.py", ".gitignore"} <= set(files)
    assert provision(tmp_path) == repo
    assert git("--git-dir", str(repo), "rev-parse", "main").stdout == head
    assert [p.name for p in tmp_path.iterdir()] == ["team.git"]  # no scratch left behind


def test_git_remote_refuses_missing_wrong_and_foreign_credentials(service):
    """No credentials: 401 with a Basic challenge; a wrong token 401; another's token 403.
    Every refusal comes before the body is read, so it says ``Connection: close`` (issue 26)."""
    refs = f"{service['url']}/info/refs?service=git-upload-pack"
    anonymous = httpx.get(refs)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")
    wrong = httpx.get(refs, auth=("alice", "nope"))
    foreign = httpx.get(refs, auth=("alice", "bob-token"))
    outside = service["url"].replace("team.git", "other.git") + "/info/refs"
    missing = httpx.get(outside, auth=("alice", "alice-token"))
    pack = httpx.post(f"{service['url']}/git-receive-pack", content=b"0" * 65536)
    refused = [anonymous, wrong, foreign, missing, pack]
    assert [r.status_code for r in refused] == [401, 401, 403, 404, 401]
    assert [r.headers.get("Connection") for r in refused] == ["close"] * len(refused)
    accepted = httpx.get(refs, auth=("alice", "alice-token"))
    assert accepted.status_code == 200
    assert accepted.headers.get("Connection") != "close"


def test_git_remote_push_only_to_own_branch(service, tmp_path):
    """A clone pushes to its user's branch; pushing to another's branch or main is refused."""
    clone = tmp_path / "clone"
    git("clone", "-q", service["url"], str(clone), user="bob", token="bob-token")
    (clone / "bob.txt").write_text("from bob\n")
    git("add", "bob.txt", cwd=clone)
    git("commit", "-q", "-m", "bob's work", cwd=clone)
    for target in ("remote-dev/alice", "main"):
        refused = git("push", "origin", f"HEAD:refs/heads/{target}", cwd=clone, user="bob",
                      token="bob-token", check=False)  # fmt: skip
        assert refused.returncode != 0
        assert "bob may push only to refs/heads/remote-dev/bob" in refused.stderr
    git("push", "-q", "origin", "HEAD:refs/heads/remote-dev/bob", cwd=clone, user="bob",
        token="bob-token")  # fmt: skip
    bare = str(service["bare"])
    pushed = git("--git-dir", bare, "show", "remote-dev/bob:bob.txt").stdout
    assert pushed == "from bob\n"
    assert git("--git-dir", bare, "rev-parse", "--verify", "-q", "remote-dev/alice",
               check=False).returncode != 0  # fmt: skip
    main = git("--git-dir", bare, "log", "-1", "--format=%s", "main").stdout.strip()
    assert main == "Sample project"


def _service_under_a_parent(root, port):
    """The service as a hub would run it, but under a stand-in parent process we can kill."""
    env = {
        **os.environ,
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
        "JUPYTERHUB_SERVICE_PREFIX": "/services/team-git/",
        "JUPYTERHUB_SERVICE_NAME": "team-git",
        "JUPYTERHUB_API_URL": "http://127.0.0.1:9/hub/api",
        "JUPYTERHUB_API_TOKEN": "unused",
    }
    command = [sys.executable, "-m", "jupyter_remote_dev.services.git_remote", "--root", str(root)]
    parent_code = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen({command!r})\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code], env=env,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/services/team-git/").status_code == 200:
                return parent, child
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the service did not answer"
        time.sleep(0.2)


def _gone(pid: int, within: float) -> bool:
    """Whether ``pid`` ended (a zombie its stand-in parent has not reaped counts as ended)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.2)
    return False


def test_git_remote_service_ends_with_sigterm_or_when_the_hub_is_gone(tmp_path):
    """SIGTERM ends the service; so does its parent (the hub) dying without a word."""
    parent, child = _service_under_a_parent(tmp_path / "a", free_port())
    try:
        os.kill(child, signal.SIGTERM)
        assert _gone(child, 20)
    finally:
        parent.kill()
        parent.wait()
    parent, child = _service_under_a_parent(tmp_path / "b", free_port())
    try:
        parent.kill()  # the service is re-parented: it notices within its poll interval
        parent.wait()
        assert _gone(child, 20)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)

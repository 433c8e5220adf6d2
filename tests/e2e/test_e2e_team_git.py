"""The team repository and the services through a real hub's proxy (issue 26).

One hub for the module (``hub_config/local_config.py``, Ray off, alice's server running, small
team repository limits): git clones, fetches and pushes with its normal credential flow (an
anonymous try, 401, then the credentials); one keep-alive client alternates refused and accepted
requests to every service and to a user server, never getting a 503 from a connection the service
had closed; the hub's size limits and gc interval reach the team Git service.
"""

from __future__ import annotations

import os
import shutil
import time

import httpx
import pytest

from jupyter_remote_dev.services.git_remote.quota import Limits

from ..support.git_http_support import git
from ..support.local_hub_support import local_hub

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not shutil.which("configurable-http-proxy"),
        reason="configurable-http-proxy is not installed (.ci/install-hub installs it)",
    ),
]
ROUNDS = 50
MIB = 1024 * 1024
LIMITS = Limits(max_push_mib=1, max_branch_mib=2, gc_interval=1)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    env = LIMITS.environment()
    with local_hub(tmp_path_factory.mktemp("team-git"), ray=False, env=env) as running:
        for name in ("alice", "bob"):
            running.admin.post(f"users/{name}").raise_for_status()
        running.start_server("alice")  # bob has none: his branch is the tests' alone
        yield running


@pytest.fixture(scope="module")
def tokens(hub) -> dict[str, str]:
    """A hub API token of each user."""
    return {name: hub.user_token(name) for name in ("alice", "bob")}


def team_url(hub) -> str:
    return f"{hub.url}services/team-git/team.git"


def credential_helper(user: str, token: str) -> list[str]:
    """git options: a credential helper answering git's 401 with ``user`` and ``token``."""
    helper = f"!f() {{ echo username={user}; echo password={token}; }}; f"
    return ["-c", f"credential.helper={helper}"]


def test_git_clone_fetch_push_through_the_proxy_after_401(hub, tokens, tmp_path):
    """Credentials in the URL, then from a credential helper: git's first, anonymous request
    of each command gets 401 and its retry with credentials succeeds."""
    url = team_url(hub)
    clone = tmp_path / "clone"
    git("clone", "-q", url.replace("http://", f"http://bob:{tokens['bob']}@"), str(clone))
    assert (clone / "analysis" / "summary.py").is_file()
    git("remote", "set-url", "origin", url, cwd=clone)  # from here on, the helper answers
    helper = credential_helper("bob", tokens["bob"])
    git("checkout", "-q", "-b", "remote-dev/bob", cwd=clone)
    (clone / "through-proxy.txt").write_text("pushed through the hub's proxy\n")
    git("add", "through-proxy.txt", cwd=clone)
    git("commit", "-q", "-m", "through the proxy", cwd=clone)
    git(*helper, "push", "-q", "origin", "remote-dev/bob", cwd=clone)
    git(*helper, "fetch", "-q", "origin", cwd=clone)
    pushed = git("rev-parse", "origin/remote-dev/bob", cwd=clone).stdout
    assert pushed == git("rev-parse", "HEAD", cwd=clone).stdout
    bare = str(hub.state / "git" / "repos" / "team.git")
    stored = git("--git-dir", bare, "show", "remote-dev/bob:through-proxy.txt").stdout
    assert stored == "pushed through the hub's proxy\n"
    listed = git(*helper, "ls-remote", "origin", "refs/heads/remote-dev/bob", cwd=clone).stdout
    assert listed.split()[0] == pushed.strip()


def test_user_servers_first_git_sync_through_the_proxy(hub, tokens):
    """alice's server clones and pushes her branch at start, its askpass helper answering git's
    401 through the proxy: the first cycle is ok and her branch is in the team repository."""
    status_url = f"{hub.url}user/alice/remote-dev/api/git/status"
    token = {"Authorization": f"token {tokens['alice']}"}
    deadline = time.monotonic() + 120
    while not (status := httpx.get(status_url, headers=token, timeout=30).json())["last_cycle"]:
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    assert status["last_cycle"]["result"] == "ok", status["last_cycle"]
    bare = str(hub.state / "git" / "repos" / "team.git")
    assert git("--git-dir", bare, "rev-parse", "-q", "--verify", "remote-dev/alice").stdout


def test_refused_then_accepted_on_one_keep_alive_connection(hub, tokens):
    """One keep-alive client alternates a refused and an accepted request to the team Git
    service, the spend meter and alice's server, ROUNDS times each: never a 503."""
    token = {"Authorization": f"token {tokens['alice']}"}
    refs = f"{team_url(hub)}/info/refs?service=git-upload-pack"
    meter = f"{hub.url}services/spend-meter/allocation?window=1h"
    server = f"{hub.url}user/alice/remote-dev/api/"
    pairs = [
        (
            ("GET", refs, {}, None, 401),
            ("GET", refs, {"auth": ("alice", tokens["alice"])}, None, 200),
        ),
        (("GET", meter, {}, None, 401), ("GET", meter, {"headers": token}, None, 200)),
        (
            ("PUT", server + "files/refused.txt", {}, b"x" * 4096, 403),
            ("GET", server + "info", {"headers": token}, None, 200),
        ),
    ]
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    expected, got = [], []
    with httpx.Client(limits=limits, timeout=30) as client:
        for _ in range(ROUNDS):
            for pair in pairs:
                for method, url, options, body, status in pair:
                    answer = client.request(method, url, content=body, **options)
                    expected.append(f"{method} {url} {status}")
                    got.append(f"{method} {url} {answer.status_code}")
    assert got == expected
    assert "socket hang up" not in hub.output()


def commit_random(clone, name: str, size: int) -> None:
    """A commit on origin/main adding ``size`` random (incompressible) bytes as ``name``."""
    git("reset", "-q", "--hard", "origin/main", cwd=clone)
    (clone / name).write_bytes(os.urandom(size))
    git("add", name, cwd=clone)
    git("commit", "-q", "-m", name, cwd=clone)


def object_bytes(bare) -> int:
    return sum(p.stat().st_size for p in (bare / "objects").rglob("*") if p.is_file())


def test_hub_limits_reach_the_service_and_gc_frees_a_forced_update(hub, tokens, tmp_path):
    """Through the proxy: a push over the hub's 1 MiB per push is refused naming the limit and
    changes nothing; a large commit force-pushed over is deleted by the next scheduled gc."""
    helper = credential_helper("bob", tokens["bob"])
    clone, bare = tmp_path / "clone", hub.state / "git" / "repos" / "team.git"
    git(*helper, "clone", "-q", team_url(hub), str(clone))
    git("checkout", "-q", "-b", "remote-dev/bob", cwd=clone)

    def push():
        return git(*helper, "push", "-f", "origin", "remote-dev/bob", cwd=clone, check=False)

    def tip():
        return git("--git-dir", str(bare), "rev-parse", "remote-dev/bob", check=False).stdout

    before_refusal = tip()
    commit_random(clone, "big.bin", 3 * MIB // 2)
    refused = push()
    assert refused.returncode != 0
    assert "remote: push refused: it brings 1.5 MiB, over the limit of 1 MiB per push" in (
        refused.stderr
    )
    assert tip() == before_refusal
    commit_random(clone, "large.bin", 9 * MIB // 10)
    assert push().returncode == 0
    before = object_bytes(bare)
    git("reset", "-q", "--hard", "origin/main", cwd=clone)
    git("commit", "-q", "--allow-empty", "-m", "small again", cwd=clone)
    assert push().returncode == 0
    deadline = time.monotonic() + 60
    while object_bytes(bare) > before - 4 * MIB // 5:
        assert time.monotonic() < deadline, f"no gc freed the space: {object_bytes(bare)} bytes"
        time.sleep(0.5)

    # the space is freed when the gc prunes; it rewrites its commit-graph after that, and until
    # then fsck reports the pruned commit the old graph still names: the gc ends consistent
    def fsck():
        return git("--git-dir", str(bare), "fsck", "--connectivity-only", check=False)

    while (check := fsck()).returncode:
        assert time.monotonic() < deadline, f"the repository stays broken: {check.stderr}"
        time.sleep(0.5)

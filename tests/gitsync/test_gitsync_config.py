"""Git sync settings: hostile configuration is refused before git ever runs."""

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from jupyter_remote_dev.gitsync import GitSyncConfigError, GitSyncEngine, SyncSettings
from jupyter_remote_dev.gitsync.config import (
    expand_sync_branch,
    ref_safe_username,
    strip_credentials,
    validate_branch,
)

HOSTILE_URLS = [
    "--upload-pack=touch /tmp/pwned",
    "-oProxyCommand=touch /tmp/pwned",
    "ext::sh -c touch% /tmp/pwned",
    "fd::17",
    "transport::whatever",
    "https://user:secret@example.org/repo.git",
    "https://token@example.org/repo.git",
    "user:ghp_secret@github.com:org/repo.git",
    "ftp://example.org/repo.git",
    "relative/path",
    "https://example.org/repo.git\n--upload-pack=x",
    "",
]
HOSTILE_BRANCHES = [
    "-delete",
    "a..b",
    "../../etc",
    "x@{1}",
    "a b",
    "a~1",
    "a^",
    "a:b",
    "a*",
    "a[b",
    "a\\b",
    "/a",
    "a/",
    "a//b",
    ".hidden",
    "a/.b",
    "a.lock",
    "a.",
    "refs/heads/x",
    "HEAD",
    "@",
    "\x00",
]


def settings(tmp_path: Path, **values) -> SyncSettings:
    base = {"repo": "https://example.org/r.git", "workspace": tmp_path, "sync_branch": "x"}
    return SyncSettings(**{**base, **values})


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_config_refuses_hostile_repo_urls(tmp_path, url):
    """Option-like URLs, remote helpers, credentials in URLs and odd schemes are refused."""
    with pytest.raises(GitSyncConfigError):
        GitSyncEngine(settings(tmp_path, repo=url))
    assert not (tmp_path / ".git").exists()


@pytest.mark.parametrize("branch", HOSTILE_BRANCHES)
def test_config_refuses_hostile_branch_names(tmp_path, branch):
    """Branch names git would reject or read as options/revisions are refused, both roles."""
    with pytest.raises(GitSyncConfigError):
        settings(tmp_path, sync_branch=branch).validated()
    with pytest.raises(GitSyncConfigError):
        settings(tmp_path, upstream=branch).validated()


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/org/repo.git",
        "http://127.0.0.1:8080/repo.git",
        "ssh://git@example.org/org/repo.git",
        "git@github.com:org/repo.git",
        "file:///srv/git/repo.git",
        "/srv/git/repo.git",
    ],
)
def test_config_accepts_ordinary_repo_urls(tmp_path, url):
    """The usual https, ssh, scp-like, file and absolute-path forms pass."""
    assert settings(tmp_path, repo=url).validated().repo == url


def test_config_refuses_pattern_magic_and_relative_workspace(tmp_path):
    """Pathspec magic in patterns and a relative workspace are refused."""
    with pytest.raises(GitSyncConfigError, match="pattern"):
        settings(tmp_path, exclude=(":(top)x",)).validated()
    with pytest.raises(GitSyncConfigError, match="absolute"):
        settings(tmp_path, workspace=Path("rel")).validated()


def test_config_from_env_reads_the_hub_variables(tmp_path):
    """from_env takes the JUPYTER_REMOTE_DEV_GIT_* contract and resolves the workspace."""
    env = {
        "JUPYTER_REMOTE_DEV_GIT_REPO": "https://example.org/r.git",
        "JUPYTER_REMOTE_DEV_GIT_UPSTREAM": "main",
        "JUPYTER_REMOTE_DEV_GIT_SYNC_BRANCH": "remote-dev/bob",
        "JUPYTER_REMOTE_DEV_GIT_WORKSPACE": "work",
        "JUPYTER_REMOTE_DEV_GIT_INTERVAL": "30",
        "JUPYTER_REMOTE_DEV_GIT_TOKEN_FILE": "/var/run/token",
        "JUPYTER_REMOTE_DEV_GIT_AUTHOR_NAME": "Bob",
        "JUPYTER_REMOTE_DEV_GIT_AUTHOR_EMAIL": "bob@example.org",
    }
    result = SyncSettings.from_env(env, root=tmp_path)
    assert result.workspace == tmp_path / "work"
    assert (result.upstream, result.sync_branch, result.interval) == ("main", "remote-dev/bob", 30)
    assert result.token_file == "/var/run/token"
    assert result.http_username == "x-access-token"
    assert result.author_email == "bob@example.org"


def test_config_from_env_refuses_hostile_env(tmp_path):
    """A hostile URL arriving through the environment is refused too."""
    env = {"JUPYTER_REMOTE_DEV_GIT_REPO": "ext::sh%20-c%20id", "JUPYTERHUB_USER": "x"}
    with pytest.raises(GitSyncConfigError, match="remote helper"):
        SyncSettings.from_env(env, root=tmp_path)


def check_ref_format(branch: str) -> bool:
    """The real ``git check-ref-format --branch`` verdict on ``branch``."""
    result = subprocess.run(
        ["git", "check-ref-format", "--branch", branch], capture_output=True, check=False
    )
    return result.returncode == 0


def test_config_branch_template_keeps_plain_user_names():
    """Plain user names are used as they are, so existing sync branches stay where they are."""
    for name in ["alice", "jo.doe", "a_b-1", "Bob", "x.lock.y"]:
        assert expand_sync_branch("remote-dev/{username}", name) == f"remote-dev/{name}"


@pytest.mark.parametrize("name", ["jo..doe", "x.lock", "a.b@c d", "..", "-x", ".x", "a.", "名前"])
def test_config_branch_template_makes_odd_user_names_valid_refs(name):
    """Names git refuses in a ref get a readable part plus a hash; git accepts the result."""
    branch = expand_sync_branch("remote-dev/{username}", name)
    assert check_ref_format(branch), branch
    assert re.fullmatch(r"remote-dev/[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{10}", branch), branch
    assert validate_branch(branch) == branch


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_config_every_user_name_gives_a_valid_ref(name):
    """Property, against the real git: any Unicode user name becomes a valid branch name."""
    branch = expand_sync_branch("remote-dev/{username}", name)
    assert check_ref_format(branch), (name, branch)
    assert expand_sync_branch("remote-dev/{username}", name) == branch  # deterministic


@hypothesis_settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=20), min_size=2, max_size=6, unique=True))
def test_config_two_user_names_never_share_a_branch(names):
    """Property: distinct user names give distinct branches, hashed or not."""
    branches = {ref_safe_username(name) for name in names}
    assert len(branches) == len(names)


def test_config_a_name_that_looks_hashed_cannot_take_another_users_branch():
    """'a@' becomes 'a-<hash>'; a user literally named that gets a branch of their own."""
    altered = ref_safe_username("a@")
    assert altered.startswith("a-") and ref_safe_username(altered) != altered


def test_config_strip_credentials_hides_userinfo():
    """URLs we did not write (e.g. an old clone's) lose their user:password part in messages."""
    assert strip_credentials("https://u:tok@host/r.git") == "https://host/r.git"


def test_config_gitsync_package_imports_no_server_code():
    """The engine and its CLI load without tornado or jupyter_server (init containers, laptops)."""
    import subprocess
    import sys

    code = (
        "import sys, jupyter_remote_dev.gitsync.cli, jupyter_remote_dev.gitsync.service;"
        "print(sorted(m for m in ('tornado', 'jupyter_server') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_config_from_env_refuses_a_non_numeric_interval(tmp_path):
    """A malformed interval is a clear config error, not a traceback."""
    env = {"JUPYTER_REMOTE_DEV_GIT_REPO": "/srv/r.git", "JUPYTER_REMOTE_DEV_GIT_INTERVAL": "5m"}
    with pytest.raises(GitSyncConfigError, match="number of seconds"):
        SyncSettings.from_env(env, root=tmp_path)

"""One source for Git settings: the server's traits, the CLI/init reader (``from_env``, also the
preStop cycle's fallback) and the hub agree on every default, and on who the user is."""

from __future__ import annotations

import getpass
import os
import pwd

import pytest

from jupyter_remote_dev.gitsync.config import SyncSettings, expand_sync_branch
from jupyter_remote_dev.gitsync.settings import GitSyncSettings
from jupyter_remote_dev.hub.gitsync import GitSync as HubGitSync
from jupyter_remote_dev.ray.settings import RaySettings

ROOT = "/srv/root"
REPO = "https://git.example.org/team/analysis.git"
GIVEN = {
    "UPSTREAM": "main",
    "SYNC_BRANCH": "sync/{username}",
    "WORKSPACE": "work",
    "INTERVAL": "42.5",
    "USERNAME": "oauth2",
    "TOKEN_FILE": "/var/run/token",
    "AUTHOR_NAME": "Alice Liddell",
    "AUTHOR_EMAIL": "alice@example.org",
}


def environment(monkeypatch, user: str | None, given: dict) -> dict:
    """os.environ with only these JUPYTER_REMOTE_DEV_GIT_* variables and this hub user."""
    for name in list(os.environ):
        if name.startswith("JUPYTER_REMOTE_DEV_GIT_") or name == "JUPYTERHUB_USER":
            monkeypatch.delenv(name)
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_GIT_REPO", REPO)
    for name, value in given.items():
        monkeypatch.setenv(f"JUPYTER_REMOTE_DEV_GIT_{name}", value)
    if user is not None:
        monkeypatch.setenv("JUPYTERHUB_USER", user)
    return dict(os.environ)


@pytest.mark.parametrize("given", [{}, GIVEN], ids=["defaults", "variables"])
@pytest.mark.parametrize("user", ["alice", None], ids=["hub-user", "login-user"])
def test_server_traits_and_cli_read_the_same_settings(monkeypatch, given, user):
    """Field by field, the server's traits give what the CLI's reader gives, defaults included."""
    env = environment(monkeypatch, user, given)
    server = GitSyncSettings()
    cli = SyncSettings.from_env(env, root=ROOT)
    login = user or getpass.getuser()
    assert (server.git_repo, cli.repo) == (REPO, REPO)
    assert server.git_interval == cli.interval == float(given.get("INTERVAL", 300))
    assert server.git_http_username == cli.http_username == given.get("USERNAME", "x-access-token")
    assert server.git_author_name == cli.author_name == given.get("AUTHOR_NAME", login)
    email = given.get("AUTHOR_EMAIL", f"{login}@remote-dev.invalid")
    assert server.git_author_email == cli.author_email == email
    branch = expand_sync_branch(given.get("SYNC_BRANCH", "remote-dev/{username}"), login)
    assert expand_sync_branch(server.git_sync_branch, login) == cli.sync_branch == branch
    assert (server.git_upstream or None) == cli.upstream == given.get("UPSTREAM")
    assert (server.git_token_file or None) == cli.token_file == given.get("TOKEN_FILE")
    workspace = os.path.normpath(os.path.join(ROOT, server.git_workspace))
    assert (
        workspace
        == str(cli.workspace)
        == os.path.normpath(os.path.join(ROOT, given.get("WORKSPACE", "")))
    )
    assert server.git_max_file_size == cli.max_file_size == 50 * 1024**2
    assert tuple(server.git_exclude) == cli.exclude and tuple(server.git_include) == cli.include
    # and the engine settings the server builds are exactly the CLI's
    assert server.sync_settings(ROOT) == cli


def test_hub_defaults_are_the_servers():
    """The hub's GitSync starts from the same interval and branch template, and sets only
    variables the server and the CLI read."""
    options = {"upstream": "main", "workspace": "work", "token_username": "oauth2"}
    hub = HubGitSync(repo=REPO, token_secret_name="t", **options)
    server = GitSyncSettings()
    assert hub.interval == server.git_interval == 300
    assert hub.branch_template == server.git_sync_branch
    fields = {
        "username": "al-ice",
        "unescaped_username": "al.ice",
        "servername": "",
        "namespace": "n",
    }
    names = {var.name for var in hub.environment(fields, "al@example.org")}
    read = {f"JUPYTER_REMOTE_DEV_GIT_{key}" for key in (*GIVEN, "REPO", "TOKEN")}
    assert names == read - {"JUPYTER_REMOTE_DEV_GIT_TOKEN_FILE"}


def test_a_uid_without_passwd_entry_is_still_a_user(monkeypatch):
    """No $JUPYTERHUB_USER, no login variables and no passwd entry (some images): the server,
    the CLI and Ray all name the user uid-<n> instead of failing."""
    env = environment(monkeypatch, None, {})
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
        env.pop(name, None)

    def no_entry(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    expected = f"uid-{os.getuid()}"
    cli = SyncSettings.from_env(env, root=ROOT)
    assert GitSyncSettings().git_author_name == cli.author_name == expected
    assert cli.sync_branch == f"remote-dev/{expected}"
    assert RaySettings().ray_job_owner == expected

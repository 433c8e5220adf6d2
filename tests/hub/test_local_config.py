"""hub_config/local_config.py as JupyterHub loads it: loopback, free ports, services, state."""

from __future__ import annotations

import json
import logging
import os
import shutil

import pytest
from traitlets.config.loader import PyFileConfigLoader

from jupyter_remote_dev.embedded import banner, ports, state

from ..support.local_config import CONFIG, load, spawner_env


@pytest.mark.skipif(not shutil.which("ray"), reason="Ray is not installed")
def test_local_config_gives_each_hub_its_own_ray_head(monkeypatch, tmp_path):
    """Two loads (two hubs): different free Ray ports, each hub with its own ray-head service."""
    first, second = load(monkeypatch, tmp_path), load(monkeypatch, tmp_path)
    addresses = {spawner_env(c)["RAY_ADDRESS"] for c in (first, second)}
    assert len(addresses) == 2 and all(a.startswith("ray://127.0.0.1:") for a in addresses)
    for c in (first, second):
        (ray,) = [s for s in c.JupyterHub.services if s["name"] == "ray-head"]
        assert "url" not in ray  # the hub does not wait for it
        port = spawner_env(c)["RAY_ADDRESS"].rsplit(":", 1)[1]
        assert f"--client-port={port}" in ray["command"]
    assert first.JupyterHub.hub_port != second.JupyterHub.hub_port


def test_local_config_binds_loopback_and_uses_the_shared_password(monkeypatch, tmp_path):
    """Every address is 127.0.0.1; JupyterHub's shared-password authenticator, no Dummy."""
    c = load(monkeypatch, tmp_path, JUPYTER_REMOTE_DEV_LOCAL_RAY="0")
    assert c.JupyterHub.ip == c.JupyterHub.hub_ip == c.Spawner.ip == "127.0.0.1"
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert all(s["url"].startswith("http://127.0.0.1:") for s in c.JupyterHub.services)
    assert c.JupyterHub.authenticator_class == "shared-password"
    assert c.SharedPasswordAuthenticator.user_password == "a-demo-password"
    assert "RAY_ADDRESS" not in spawner_env(c)
    assert spawner_env(c)["JUPYTER_REMOTE_DEV_GIT_UPSTREAM"] == "main"
    (user_role,) = [r for r in c.JupyterHub.load_roles if r["name"] == "user"]
    assert user_role["scopes"] == [
        "self",
        "custom:remote-dev:budget:read",  # the demo budget: read one's own (issue 25)
        "access:services!service=remote-dev-spend",
        "access:services!service=team-git",
    ]
    assert "access:services!service=team-git" in c.Spawner.server_token_scopes
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path / 'state' / 'jupyterhub.sqlite'}"


def test_local_config_state_folder_is_per_checkout(monkeypatch, tmp_path):
    """Without JUPYTER_REMOTE_DEV_HUB_DIR the state lives in the checkout (0700)."""
    monkeypatch.delenv("JUPYTER_REMOTE_DEV_HUB_DIR", raising=False)
    folder = state.state_folder(tmp_path)
    assert folder == tmp_path / ".jupyter-remote-dev-hub"
    assert folder.stat().st_mode & 0o777 == 0o700
    ignored = (CONFIG.parents[1] / ".gitignore").read_text().splitlines()
    assert ".jupyter-remote-dev-hub/" in ignored


def test_local_config_servers_get_lab_defaults_and_a_short_token_cache(monkeypatch, tmp_path):
    """The servers read Lab's settings defaults (news prompt off) from the state folder and
    re-ask the hub about a token after 10 s (JupyterHub: 300 s)."""
    c = load(monkeypatch, tmp_path, JUPYTER_REMOTE_DEV_LOCAL_RAY="0")
    settings = tmp_path / "state" / "lab-settings"
    assert c.Spawner.args[:2] == [
        f"--LabApp.app_settings_dir={settings}",
        "--HubOAuth.cache_max_age=10",
    ]
    overrides = json.loads((settings / "overrides.json").read_text())
    assert overrides == {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}
    assert c.Spawner.default_url == "/lab"


def test_local_config_makes_an_existing_state_folder_private(monkeypatch, tmp_path):
    """A state folder left readable (and its contents) is tightened to 0700 folders and 0600
    files (owner's execute bits kept, symlinks untouched); the hub's umask becomes 077."""
    state = tmp_path / "state"
    (state / "git" / "hooks").mkdir(parents=True)
    (state / "jupyterhub.sqlite").write_text("db")
    (state / "git" / "hooks" / "update").write_text("#!/bin/sh\n")
    (state / "outside").symlink_to(tmp_path)
    for path, mode in [
        (state, 0o755),
        (state / "git", 0o777),
        (state / "git" / "hooks", 0o750),
        (state / "jupyterhub.sqlite", 0o644),
        (state / "git/hooks/update", 0o775),
    ]:
        path.chmod(mode)  # fmt: skip
    tmp_path.chmod(0o755)
    c = load(monkeypatch, tmp_path, JUPYTER_REMOTE_DEV_LOCAL_RAY="0")
    assert c.JupyterHub.cookie_secret_file == str(state / "jupyterhub_cookie_secret")
    modes = {str(p.relative_to(state)): p.lstat().st_mode & 0o777 for p in state.rglob("*")}
    assert state.stat().st_mode & 0o777 == 0o700
    assert {k: modes[k] for k in ("git", "git/hooks", "git/hooks/update", "jupyterhub.sqlite")} == {
        "git": 0o700,
        "git/hooks": 0o700,
        "git/hooks/update": 0o700,
        "jupyterhub.sqlite": 0o600,
    }
    assert [k for k, mode in modes.items() if mode & 0o077 and k != "outside"] == []
    assert tmp_path.stat().st_mode & 0o777 == 0o755  # the symlink's target is left alone
    umask = os.umask(0o022)
    try:
        PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config()
        assert os.umask(0o022) == 0o077
    finally:
        os.umask(umask)


def test_local_config_password_is_generated_once_and_kept(monkeypatch, tmp_path):
    """A generated password is kept (0600) and reused; a bad port number is a clear error."""
    monkeypatch.delenv("JUPYTER_REMOTE_DEV_DEMO_PASSWORD", raising=False)
    first = state.demo_password(tmp_path, "JUPYTER_REMOTE_DEV_DEMO_PASSWORD", 16)
    assert len(first) == 16
    assert state.demo_password(tmp_path, "JUPYTER_REMOTE_DEV_DEMO_PASSWORD", 16) == first
    kept = tmp_path / "jupyter_remote_dev_demo_password"
    assert kept.stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("JUPYTER_REMOTE_DEV_HUB_PORT", "eighty")
    with pytest.raises(SystemExit, match="must be a TCP port number"):
        ports.env_port("JUPYTER_REMOTE_DEV_HUB_PORT", 8000)


def test_local_hub_quiet_service_polls_drops_only_that_services_successes():
    """The meter's routine 2xx polls leave the hub's access log; its failures and everyone
    else's requests stay."""
    access = logging.getLogger("tornado.access")
    before = list(access.filters)
    banner.quiet_service_polls("spend-meter")
    try:

        def kept(level: int, message: str) -> bool:
            record = access.makeRecord("tornado.access", level, __file__, 1, message, (), None)
            return access.filter(record)

        assert not kept(logging.INFO, "200 GET /hub/api/users (spend-meter@127.0.0.1) 6.74ms")
        assert kept(logging.WARNING, "403 GET /hub/api/users (spend-meter@127.0.0.1) 2.10ms")
        assert kept(logging.INFO, "200 GET /hub/api/users (team-git@127.0.0.1) 3.00ms")
        assert kept(logging.INFO, "302 GET /hub/ (alice@127.0.0.1) 1.00ms")
    finally:
        access.filters[:] = before


def test_local_config_runs_the_spend_view_for_a_demo_admin(monkeypatch, tmp_path):
    """The spend view is part of the embedded default: on the local meter, with the service's own
    token (which holds the spend scope), the meter's labels, and the demo admin as its viewer."""
    c = load(monkeypatch, tmp_path, JUPYTER_REMOTE_DEV_LOCAL_RAY="0")
    assert c.Authenticator.admin_users == {"admin"}
    (view,) = [s for s in c.JupyterHub.services if s["name"] == "remote-dev-spend"]
    (meter,) = [s for s in c.JupyterHub.services if s["name"] == "spend-meter"]
    assert view["url"].startswith("http://127.0.0.1:")
    assert view["environment"]["JUPYTER_REMOTE_DEV_SPEND_BACKEND"] == "opencost"
    assert (
        view["environment"]["JUPYTER_REMOTE_DEV_SPEND_URL"]
        == f"{meter['url']}/services/spend-meter"
    )
    assert "--SpendViewApp.hub_auth=True" in view["command"]
    assert "--SpendViewApp.user_label=owner" in view["command"]
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert "custom:remote-dev:spend:read" in roles["remote-dev-spend-service"]["scopes"]
    assert roles["remote-dev-spend-viewers"]["users"] == ["admin"]
    others = load(monkeypatch, tmp_path, JUPYTER_REMOTE_DEV_DEMO_ADMINS="root,ops")
    assert others.Authenticator.admin_users == {"root", "ops"}
    (viewers,) = [
        r for r in others.JupyterHub.load_roles if r["name"] == "remote-dev-spend-viewers"
    ]
    assert viewers["users"] == ["ops", "root"]


def test_local_config_has_a_demo_budget_the_sidebar_reads(monkeypatch, tmp_path):
    """The demo budget ($0.001 a month for everyone, a minute of CPU at the meter's rates) is in
    the view, kept in the state folder, evaluated every 30 s; the servers read it; off is off."""
    c = load(monkeypatch, tmp_path, JUPYTER_REMOTE_DEV_LOCAL_RAY="0")
    (view,) = [s for s in c.JupyterHub.services if s["name"] == "remote-dev-spend"]
    env = view["environment"]
    assert json.loads(env["JUPYTER_REMOTE_DEV_SPEND_BUDGETS"])["default"] == {
        "amount": 0.001,
        "period": "month",
    }
    assert env["JUPYTER_REMOTE_DEV_SPEND_STATE_DIR"] == str(tmp_path / "state")
    assert env["JUPYTER_REMOTE_DEV_SPEND_ALERT_INTERVAL"] == "30.0"
    assert spawner_env(c)["JUPYTER_REMOTE_DEV_COST_BUDGET_URL"] == (
        f"{view['url']}/services/remote-dev-spend/api/budget"
    )
    assert "custom:remote-dev:budget:read" in c.Spawner.server_token_scopes
    off = load(monkeypatch, tmp_path, JUPYTER_REMOTE_DEV_DEMO_BUDGET="off")
    assert "JUPYTER_REMOTE_DEV_COST_BUDGET_URL" not in spawner_env(off)
    with pytest.raises(ValueError, match="JUPYTER_REMOTE_DEV_DEMO_BUDGET must be an amount"):
        load(monkeypatch, tmp_path, JUPYTER_REMOTE_DEV_DEMO_BUDGET="lots")

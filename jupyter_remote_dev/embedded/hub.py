"""The embedded default's hub itself: loopback network, state files, login, local user servers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import ports, servers, state


@dataclass
class Login:
    """Who logs in how: one shared password for users, a longer one for the admins."""

    password: str
    admins: list[str] = field(default_factory=list)
    admin_password: str = ""


def configure_network(c) -> str:
    """Every listening socket on 127.0.0.1; the public port is ``$JUPYTER_REMOTE_DEV_HUB_PORT``
    (8000), the hub and proxy APIs take theirs or free ones. Returns the hub's public URL."""
    port = ports.env_port("JUPYTER_REMOTE_DEV_HUB_PORT", 8000)
    c.JupyterHub.ip = "127.0.0.1"
    c.JupyterHub.port = port
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = ports.env_port("JUPYTER_REMOTE_DEV_HUB_API_PORT")
    proxy_api = ports.env_port("JUPYTER_REMOTE_DEV_PROXY_API_PORT")
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{proxy_api}"
    c.Spawner.ip = "127.0.0.1"
    return f"http://127.0.0.1:{port}/"


def configure_state(c, folder: Path) -> None:
    """The hub's database, cookie secret and proxy PID file in the state ``folder``."""
    c.JupyterHub.db_url = f"sqlite:///{folder / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(folder / "jupyterhub_cookie_secret")
    c.ConfigurableHTTPProxy.pid_file = str(folder / "jupyterhub-proxy.pid")


def configure_login(c, folder: Path) -> Login:
    """JupyterHub's shared-password authenticator (5.3+): any user name, one password
    (``$JUPYTER_REMOTE_DEV_DEMO_PASSWORD`` or kept in ``folder``); the admins
    (``$JUPYTER_REMOTE_DEV_DEMO_ADMINS``, default ``admin``, "" for none) have their own, longer
    one (JupyterHub requires 32 characters)."""
    login = Login(state.demo_password(folder, "JUPYTER_REMOTE_DEV_DEMO_PASSWORD", 16))
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = login.password
    c.Authenticator.allow_all = True
    demo_admins = os.environ.get("JUPYTER_REMOTE_DEV_DEMO_ADMINS", "admin")
    login.admins = sorted({name for name in demo_admins.split(",") if name})
    if login.admins:
        c.Authenticator.admin_users = set(login.admins)
        env = "JUPYTER_REMOTE_DEV_DEMO_ADMIN_PASSWORD"
        login.admin_password = state.demo_password(folder, env, 40)
        c.SharedPasswordAuthenticator.admin_password = login.admin_password
    return login


def configure_servers(c, folder: Path) -> None:
    """Each user's server a local process (``SimpleLocalProcessSpawner``) with its home in
    ``folder/home/<user>``, opening JupyterLab (:func:`.servers.server_args`). The extension needs
    no line: installing the package enables it in every server."""
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = str(folder / "home" / "{username}")
    c.Spawner.default_url = "/lab"
    c.Spawner.http_timeout = 60
    c.JupyterHub.allow_named_servers = True
    c.Spawner.args = servers.server_args(folder, as_root=os.getuid() == 0)

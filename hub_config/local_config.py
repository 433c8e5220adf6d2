"""JupyterHub on one machine, no cluster: the demo the README's first command starts.

    jupyterhub -f hub_config/local_config.py

- configurable-http-proxy in front (JupyterHub's default proxy; ``.ci/install`` puts it on PATH),
- SimpleLocalProcessSpawner: each user's server is a local process with its home in
  ``$JUPYTER_REMOTE_DEV_HUB_DIR/home/<user>``. The demo users are not system users, so the
  system-user LocalProcessSpawner does not fit; run as root, the servers get ``--allow-root``.
  Users share this machine's account: a demo, not isolation.
- DummyAuthenticator: any user name, one shared password from ``$JUPYTER_REMOTE_DEV_DEMO_PASSWORD``,
  or a generated one printed once at start-up,
- jupyter-remote-dev in every user server (installing the package enables the server extension),
- everything bound to 127.0.0.1 (port ``$JUPYTER_REMOTE_DEV_HUB_PORT``, default 8000).

Then log in at http://127.0.0.1:8000/, make a token at /hub/token and run
``jupyter remote-dev login http://127.0.0.1:8000/user/<name>/``.
"""

import os
import secrets
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (injected by JupyterHub when it loads this file)

hub_dir = Path(
    os.environ.get("JUPYTER_REMOTE_DEV_HUB_DIR", "~/.local/share/jupyter-remote-dev-hub")
).expanduser()
hub_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

# ----- network: loopback only -----
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ.get("JUPYTER_REMOTE_DEV_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("JUPYTER_REMOTE_DEV_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{os.environ.get('JUPYTER_REMOTE_DEV_PROXY_API_PORT', '8001')}"
)
c.Spawner.ip = "127.0.0.1"

# ----- state: database and cookie secret out of the working folder -----
c.JupyterHub.db_url = f"sqlite:///{hub_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(hub_dir / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(hub_dir / "jupyterhub-proxy.pid")

# ----- authentication: the demo authenticator -----
c.JupyterHub.authenticator_class = "dummy"
password = os.environ.get("JUPYTER_REMOTE_DEV_DEMO_PASSWORD")
if not password:
    password = secrets.token_urlsafe(12)
    print(
        f"jupyter-remote-dev demo: log in with any user name and the password {password}",
        file=sys.stderr,
    )
c.DummyAuthenticator.password = password
c.Authenticator.allow_all = True
admins = os.environ.get("JUPYTER_REMOTE_DEV_DEMO_ADMINS", "")
c.Authenticator.admin_users = {name for name in admins.split(",") if name}

# ----- user servers: local processes with the extension -----
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(hub_dir / "home" / "{username}")
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 60
c.JupyterHub.allow_named_servers = True
if os.getuid() == 0:
    c.Spawner.args = ["--allow-root"]
# jupyter-remote-dev needs no line here: installing the package enables the server extension
# (its jupyter_server_config.d file), so every user server started above serves remote-dev/api/.

# ----- spend: a local OpenCost metering each user's server (issue 15) -----
# A hub-managed service prices each server's process tree at OpenCost's default rates; the servers'
# ordinary OpenCost backend reads it (see jupyter_remote_dev/services/spend_meter/).
from jupyter_remote_dev.services.spend_meter.config import configure_local_spend  # noqa: E402

configure_local_spend(c, hub_dir)

# ----- Ray (issue 8) -----
# A local Ray head for the demo, started here (or found running) when Ray is installed; its
# address reaches every user server as RAY_ADDRESS, as the KubeSpawner hooks do in a cluster.
# JUPYTER_REMOTE_DEV_LOCAL_RAY=0 turns it off (tests/test_e2e_hub.py does: its hub needs no Ray).
if os.environ.get("JUPYTER_REMOTE_DEV_LOCAL_RAY", "1") != "0":
    from jupyter_remote_dev.ray.local_head import ensure_local_ray_head

    c.Spawner.environment.update(ensure_local_ray_head())

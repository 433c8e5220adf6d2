"""JupyterHub on one machine, no cluster: the demo the README's first command starts.

    jupyterhub -f hub_config/local_config.py

- configurable-http-proxy in front (JupyterHub's default proxy; ``.ci/install-hub`` installs it),
- SimpleLocalProcessSpawner: each user's server is a local process with its home in
  ``<state folder>/home/<user>``. The demo users are not system users, so the system-user
  LocalProcessSpawner does not fit; run as root, the servers get ``--allow-root``.
  Users share this machine's account, so this is not a security boundary: one user's code can
  read another's files and server token (``/proc/<pid>/environ``). Isolation is Kubernetes'.
- SharedPasswordAuthenticator: any user name, one shared password
  (``$JUPYTER_REMOTE_DEV_DEMO_PASSWORD``, else one generated once and kept in the state folder);
  the demo admin ``admin`` (``$JUPYTER_REMOTE_DEV_DEMO_ADMINS``) has a password of its own and
  sees every user's spend in the team and admin spend view (service ``remote-dev-spend``),
- jupyter-remote-dev in every user server (installing the package enables the server extension),
  with its spend read from a local OpenCost-compatible meter (service ``spend-meter``: each
  server's process tree priced at OpenCost's default rates, shown as a local estimate), its Git
  sync pointed at a team repository the hub serves (service ``team-git``) and, when Ray is
  installed, a local Ray head (service ``ray-head``, started after the hub listens),
- every listening socket on 127.0.0.1: the public port is ``$JUPYTER_REMOTE_DEV_HUB_PORT``
  (default 8000); the hub API, the proxy API, the services and Ray take free ports.

State (database, cookie secret, password, homes, team repository) lives in
``.jupyter-remote-dev-hub/`` in this checkout, or in ``$JUPYTER_REMOTE_DEV_HUB_DIR``, private to
the account running the hub (0700 folders, 0600 files).
The hub prints its URL, the demo users and the password as its last start-up lines.
"""

import os
import shutil
from pathlib import Path

from jupyter_remote_dev.services import local_hub
from jupyter_remote_dev.services.git_remote import service as team_git

c = get_config()  # noqa: F821 (injected by JupyterHub when it loads this file)

hub_dir = local_hub.state_folder(Path(__file__).resolve().parent.parent)
# Private to this account (issue 26): what the hub, its services and the users' servers create
# from now on is 0600 / 0700, as the state folder's existing contents were just made.
os.umask(0o077)

# ----- network: loopback only -----
port = local_hub.env_port("JUPYTER_REMOTE_DEV_HUB_PORT", 8000)
public_url = f"http://127.0.0.1:{port}/"
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = local_hub.env_port("JUPYTER_REMOTE_DEV_HUB_API_PORT")
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{local_hub.env_port('JUPYTER_REMOTE_DEV_PROXY_API_PORT')}"
)
c.Spawner.ip = "127.0.0.1"

# ----- state: database and cookie secret in the state folder -----
c.JupyterHub.db_url = f"sqlite:///{hub_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(hub_dir / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(hub_dir / "jupyterhub-proxy.pid")

# ----- authentication: one shared demo password (JupyterHub >= 5.3) -----
c.JupyterHub.authenticator_class = "shared-password"
password = local_hub.demo_password(hub_dir, "JUPYTER_REMOTE_DEV_DEMO_PASSWORD", 16)
c.SharedPasswordAuthenticator.user_password = password
c.Authenticator.allow_all = True
demo_admins = os.environ.get("JUPYTER_REMOTE_DEV_DEMO_ADMINS", "admin")  # "" for none
admins = {name for name in demo_admins.split(",") if name}
if admins:  # admins log in with their own, longer password (JupyterHub requires 32 characters)
    c.Authenticator.admin_users = admins
    admin_password = local_hub.demo_password(hub_dir, "JUPYTER_REMOTE_DEV_DEMO_ADMIN_PASSWORD", 40)
    c.SharedPasswordAuthenticator.admin_password = admin_password

# ----- user servers: local processes with the extension -----
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(hub_dir / "home" / "{username}")
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 60
c.JupyterHub.allow_named_servers = True
c.Spawner.args = [
    # Lab's settings defaults for the demo: its news prompt would cover the sidebar (fetchNews off)
    f"--LabApp.app_settings_dir={local_hub.lab_settings(hub_dir)}",
    # a revoked or expired token stops working on a server within 10 s (hub_config/README.md)
    f"--HubOAuth.cache_max_age={local_hub.TOKEN_CACHE_SECONDS}",
]
if os.getuid() == 0:
    c.Spawner.args.append("--allow-root")
# jupyter-remote-dev needs no line here: installing the package enables the server extension
# (its jupyter_server_config.d file), so every user server started above serves remote-dev/api/.

# ----- hub-managed services -----
# Each section below adds its services, and the scopes users' tokens and the servers' own
# tokens need for them (JupyterHub's "user" and "server" roles are set from these at the end).
c.JupyterHub.services = []
c.JupyterHub.load_roles = []
user_scopes = ["self"]
server_scopes = ["users:activity!user", "access:servers!server"]

# ----- spend: a local OpenCost metering each user's server (issue 15) -----
# A hub-managed service prices each server's process tree at OpenCost's default rates; the servers'
# ordinary OpenCost backend reads it (see jupyter_remote_dev/services/spend_meter/).
from jupyter_remote_dev.services.spend_meter.config import configure_local_spend  # noqa: E402

meter_url = configure_local_spend(c, hub_dir)
# The meter asks the hub for the running servers every few seconds: keep those routine successes
# out of the hub's log, so the start-up banner stays the last thing a user sees.
local_hub.quiet_service_polls("spend-meter")

# ----- the team and admin spend view: every user's spend, for the demo admins (issue 20) -----
from jupyter_remote_dev.services.spend_meter.config import configure_local_spend_view  # noqa: E402

spend_view_path = configure_local_spend_view(c, meter_url, sorted(admins))

# ----- Git sync: the team repository, served by the hub (issue 15) -----
# Each server syncs <home>/team-project with its branch remote-dev/<user> (and merges main),
# authenticating with its own hub token, which may use the team-git service and nothing more.
c.JupyterHub.services.append(team_git.service_definition(hub_dir / "git", local_hub.free_port()))
user_scopes.append(team_git.access_scope())
server_scopes.append(team_git.access_scope())
c.Spawner.environment.update(team_git.user_environment(public_url))

# ----- Ray: a local head per hub, started after the hub listens (issue 15) -----
# Its ports are free ones, so a second hub on this machine gets its own head.
# JUPYTER_REMOTE_DEV_LOCAL_RAY=0 turns it off.
if os.environ.get("JUPYTER_REMOTE_DEV_LOCAL_RAY", "1") != "0" and shutil.which("ray"):
    from jupyter_remote_dev.services import ray_head

    ray_client, ray_dashboard = local_hub.free_port(), local_hub.free_port()
    c.JupyterHub.services.append(
        ray_head.service_definition(hub_dir / "ray", ray_client, ray_dashboard)
    )
    c.Spawner.environment.update(
        {
            "RAY_ADDRESS": f"ray://127.0.0.1:{ray_client}",
            "JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL": f"http://127.0.0.1:{ray_dashboard}",
            "JUPYTER_REMOTE_DEV_RAY_STATE_FILE": str(hub_dir / "ray" / "state.json"),
        }
    )

# ----- roles: what users' tokens and the servers' own tokens may use -----
c.JupyterHub.load_roles.append({"name": "user", "scopes": user_scopes})
c.Spawner.server_token_scopes = server_scopes

# ----- the last start-up lines: where to go and how to log in -----
banner = [
    f"jupyter-remote-dev demo hub: {public_url}",
    "  users:    any user name, e.g. alice or bob",
    f"  password: {password}",
]
if admins:
    banner.append(f"  admins:   {', '.join(sorted(admins))} (password: {admin_password})")
    banner.append(f"  spend:    {public_url}{spend_view_path[1:]} (every user's, for the admins)")
local_hub.print_when_ready("\n".join(banner))

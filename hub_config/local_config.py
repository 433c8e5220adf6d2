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

from jupyter_remote_dev.embedded import banner, demo, hub, ports, state
from jupyter_remote_dev.services.git_remote import config as team_git
from jupyter_remote_dev.services.ray_head import config as ray_head
from jupyter_remote_dev.services.spend_meter import config as spend_meter
from jupyter_remote_dev.services.spend_view import config as spend_view

c = get_config()  # noqa: F821 (injected by JupyterHub when it loads this file)

hub_dir = state.state_folder(Path(__file__).resolve().parent.parent)
# Private to this account (issue 26): what the hub, its services and the users' servers create
# from now on is 0600 / 0700, as the state folder's existing contents were just made.
os.umask(0o077)

# ----- the hub: loopback only, state in hub_dir, one shared password, local servers -----
# (jupyter_remote_dev/embedded/hub.py; hub_config/README.md, "One machine", explains each setting)
public_url = hub.configure_network(c)
hub.configure_state(c, hub_dir)
login = hub.configure_login(c, hub_dir)
hub.configure_servers(c, hub_dir)

# ----- hub-managed services (jupyter_remote_dev/services/<name>/config.py) -----
# Each configure(c, ...) adds its service, its roles and scopes, and the user servers' settings,
# keeping what the config already holds (here: nothing, as the lists below say).
c.JupyterHub.services = []
c.JupyterHub.load_roles = []

# Spend: a local OpenCost pricing each server's process tree at OpenCost's default rates, read by
# the servers' ordinary OpenCost backend (issue 15); and the team and admin spend view on it, where
# the demo admins see every user (issue 20), with a demo budget small enough that burning CPU for
# a minute crosses its 50 % alert (issue 25; the sidebar shows it, the admin's view lists alerts).
spend_meter.configure(c, hub_dir, viewers=login.admins, budgets=demo.budgets())
# The meter asks the hub for the running servers every few seconds: keep those routine successes
# out of the hub's log, so the start-up banner stays the last thing a user sees.
banner.quiet_service_polls(spend_meter.SERVICE_NAME)

# Git sync: the team repository, served by the hub (issue 15). Each server syncs
# <home>/team-project with its branch remote-dev/<user> (and merges main), authenticating with
# its own hub token, which may use the team-git service and nothing more.
team_git.configure(c, hub_dir / "git", public_url=public_url, port=ports.free_port())

# Ray: a local head per hub on free ports, started after the hub listens (issue 15).
# JUPYTER_REMOTE_DEV_LOCAL_RAY=0 turns it off.
if os.environ.get("JUPYTER_REMOTE_DEV_LOCAL_RAY", "1") != "0" and shutil.which("ray"):
    ray_head.configure(c, hub_dir / "ray")

# ----- the last start-up lines: where to go and how to log in -----
banner.print_when_ready(banner.text(public_url, login, f"services/{spend_view.SERVICE_NAME}/"))

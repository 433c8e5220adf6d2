"""``configure(c, ...)``: the team repository as a hub-managed service, and the user servers'
Git sync pointed at it."""

from __future__ import annotations

import sys
from pathlib import Path

from ..compose import extend, grant_servers, grant_users
from .quota import Limits
from .repo import REPO_NAME

SERVICE_NAME = "team-git"


def configure(
    c, root: Path, *, public_url: str, port: int, workspace: str = "team-project"
) -> None:
    """Add the service (its repositories under ``root``, on 127.0.0.1:``port``) to config ``c``,
    let every user's tokens and every server's own token use it, and sync each server's
    ``workspace`` with it (the hub's public URL is ``public_url``)."""
    extend(c, "services", [service_definition(root, port)])
    grant_users(c, [access_scope()])
    grant_servers(c, [access_scope()])
    c.Spawner.environment.update(user_environment(public_url, workspace))


def service_definition(root: Path, port: int, name: str = SERVICE_NAME) -> dict:
    """An entry for ``c.JupyterHub.services``: the managed service on 127.0.0.1:``port``, with
    the size limits and gc interval of the hub's environment (:class:`~.quota.Limits`; a bad
    value stops the hub's start with a message naming it)."""
    limits = Limits.from_env()
    return {
        "name": name,
        "url": f"http://127.0.0.1:{port}",
        "command": [
            sys.executable,
            "-m",
            "jupyter_remote_dev.services.git_remote",
            "--root",
            str(root),
        ],  # fmt: skip
        "environment": {"HOME": str(root), **limits.environment()},
        "display": False,
    }


def repo_url(public_url: str, name: str = SERVICE_NAME) -> str:
    """The repository's URL through the hub's proxy, e.g. http://127.0.0.1:8000/services/..."""
    return f"{public_url.rstrip('/')}/services/{name}/{REPO_NAME}"


def user_environment(public_url: str, workspace: str = "team-project", interval: int = 300):
    """``c.Spawner.environment`` entries: Git sync of ``workspace`` with the team repository.

    The token is the server's own hub token (``spawner.api_token``, also its
    $JUPYTERHUB_API_TOKEN), read by gitsync's askpass helper; the server token needs the scope
    ``access:services!service=team-git`` (see :func:`access_scope`).
    """
    return {
        "JUPYTER_REMOTE_DEV_GIT_REPO": repo_url(public_url),
        "JUPYTER_REMOTE_DEV_GIT_UPSTREAM": "main",
        "JUPYTER_REMOTE_DEV_GIT_WORKSPACE": workspace,
        "JUPYTER_REMOTE_DEV_GIT_INTERVAL": str(interval),
        "JUPYTER_REMOTE_DEV_GIT_USERNAME": lambda spawner: spawner.user.name,
        "JUPYTER_REMOTE_DEV_GIT_TOKEN": lambda spawner: spawner.api_token,
    }


def access_scope(name: str = SERVICE_NAME) -> str:
    """The scope a token needs to use the service. JupyterHub's ``user`` role lacks it, so the
    config adds it to that role (tokens users make at /hub/token) and to the server tokens."""
    return f"access:services!service={name}"

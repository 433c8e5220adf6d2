"""The JupyterHub service definition and the user-server environment for the team repository."""

from __future__ import annotations

import sys
from pathlib import Path

from .repo import REPO_NAME

SERVICE_NAME = "team-git"


def service_definition(root: Path, port: int, name: str = SERVICE_NAME) -> dict:
    """An entry for ``c.JupyterHub.services``: the managed service on 127.0.0.1:``port``."""
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
        "environment": {"HOME": str(root)},
        "display": False,
    }


def repo_url(public_url: str, name: str = SERVICE_NAME) -> str:
    """The repository's URL through the hub's proxy, e.g. http://127.0.0.1:8000/services/..."""
    return f"{public_url.rstrip('/')}/services/{name}/{REPO_NAME}"


def user_environment(public_url: str, workspace: str = "team-project", interval: int = 300):
    """``c.Spawner.environment`` entries: Git sync of ``workspace`` with the team repository.

    The token is the server's own hub token (``spawner.api_token``, also its
    $JUPYTERHUB_API_TOKEN), read by gitsync's askpass helper; the server token needs the scope
    ``access:services!service=team-git`` (see ``server_token_scopes``).
    """
    return {
        "JUPYTER_REMOTE_DEV_GIT_REPO": repo_url(public_url),
        "JUPYTER_REMOTE_DEV_GIT_UPSTREAM": "main",
        "JUPYTER_REMOTE_DEV_GIT_WORKSPACE": workspace,
        "JUPYTER_REMOTE_DEV_GIT_INTERVAL": str(interval),
        "JUPYTER_REMOTE_DEV_GIT_USERNAME": lambda spawner: spawner.user.name,
        "JUPYTER_REMOTE_DEV_GIT_TOKEN": lambda spawner: spawner.api_token,
    }


def user_role(name: str = SERVICE_NAME) -> dict:
    """JupyterHub's default ``user`` role plus access to the service (users lack it by default),
    so the tokens users make at /hub/token reach the repository too."""
    return {"name": "user", "scopes": ["self", f"access:services!service={name}"]}


def server_token_scopes(name: str = SERVICE_NAME) -> list[str]:
    """The user server token's scopes: JupyterHub's ``server`` role plus access to the service."""
    return ["users:activity!user", "access:servers!server", f"access:services!service={name}"]

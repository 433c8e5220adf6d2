"""The running user servers and their PIDs, read from the JupyterHub REST API.

The hub is the authority on which process is whose server: a local spawner keeps the server's PID
in its state (``{"pid": N}``), which the API shows to a token with ``admin:server_state``. Scanning
processes for ``JUPYTERHUB_USER`` instead would let any process claim to be anybody's server.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from ...hub.labels import CostLabels
from .meter import Server

#: What the service's role needs: list users with their groups, servers and server state.
SCOPES = ["list:users", "read:users:name", "read:users:groups", "read:servers",
          "admin:server_state"]  # fmt: skip
PAGE = 200


def _timestamp(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def servers_of(user: dict, labels: CostLabels) -> list[Server]:
    """The servers with a PID in one user model of the hub API."""
    name = user.get("name")
    if not isinstance(name, str):
        return []
    groups = [g for g in user.get("groups") or [] if isinstance(g, str)]
    label_values, annotations = labels.labels_and_annotations(labels.raw_values(name, groups))
    found = []
    for server_name, model in (user.get("servers") or {}).items():
        state = (model or {}).get("state") or {}
        pid = state.get("pid")
        if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0:
            started = _timestamp(model.get("started"))
            found.append(Server(name, server_name, pid, started, label_values, annotations))
    return found


class HubServers:
    """Lists the running servers through the hub API with the service's own token."""

    def __init__(self, api_url: str, token: str, labels: CostLabels, timeout: float = 10.0):
        self.api_url = api_url.rstrip("/") + "/"
        self.headers = {
            "Authorization": f"token {token}",
            "Accept": "application/jupyterhub-pagination+json",
        }
        self.labels = labels
        self.timeout = timeout

    async def running(self) -> list[Server]:
        """Every active server that has a PID, over all pages of users."""
        found: list[Server] = []
        offset = 0
        async with httpx.AsyncClient(timeout=self.timeout, headers=self.headers) as client:
            while True:
                params = {"state": "active", "offset": offset, "limit": PAGE}
                response = await client.get(self.api_url + "users", params=params)
                response.raise_for_status()
                page = response.json()
                items = page["items"] if isinstance(page, dict) else page
                for user in items:
                    found.extend(servers_of(user, self.labels))
                paging = page.get("_pagination", {}) if isinstance(page, dict) else {}
                following = paging.get("next")
                if not following or not items:
                    return found
                offset = following["offset"]

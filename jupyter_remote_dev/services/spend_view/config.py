"""``configure(c, ...)``: the team and admin spend view as a hub-managed service.

Platform teams call it as ``configure_spend_view`` (the package exports it under that name).
"""

from __future__ import annotations

import sys

from ..compose import add_custom_scope, extend
from .access import SCOPE_DESCRIPTION, SPEND_SCOPE

SERVICE_NAME = "remote-dev-spend"


def configure(
    c,
    *,
    cost_backend: str,
    cost_url: str,
    port: int,
    viewers: list[str] = (),
    viewer_groups: list[str] = (),
    team_leads: dict[str, list[str]] | None = None,
    athena_report_dir: str = "",
    environment: dict[str, str] | None = None,
    name: str = SERVICE_NAME,
) -> dict:
    """Run the spend view as a JupyterHub service at ``/services/<name>/`` on 127.0.0.1:``port``.

    Parameters
    ----------
    cost_backend, cost_url : the Kubecost or OpenCost the user servers' panel already uses.
    viewers, viewer_groups : who sees every user and team (the platform team, admins).
    team_leads : ``{group: [users]}``; each lead sees the spend of that group's members.
    athena_report_dir : where the weekly Athena report is written (the newest one is shown).
    environment : more ``JUPYTER_REMOTE_DEV_SPEND_*`` settings for the service process.

    Returns the service definition.
    """
    access = f"access:services!service={name}"
    add_custom_scope(c, SPEND_SCOPE, SCOPE_DESCRIPTION)
    service = {
        "name": name,
        "url": f"http://127.0.0.1:{port}",
        "command": [sys.executable, "-m", "jupyter_remote_dev.services.spend_view"],
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": [SPEND_SCOPE],
        "environment": {
            "JUPYTER_REMOTE_DEV_SPEND_BACKEND": cost_backend,
            "JUPYTER_REMOTE_DEV_SPEND_URL": cost_url,
            "JUPYTER_REMOTE_DEV_SPEND_ATHENA_DIR": athena_report_dir,
            **(environment or {}),
        },
    }
    roles = [
        # the service reads group membership to apply a team lead's !group= filter; it holds the
        # spend scope itself, which the embedded default's local meter asks of a token for all users
        {"name": f"{name}-service", "scopes": ["read:groups", SPEND_SCOPE], "services": [name]},
        {
            "name": f"{name}-viewers",
            "description": "See every user's and team's spend",
            "scopes": [SPEND_SCOPE, access],
            "users": list(viewers),
            "groups": list(viewer_groups),
        },
    ]
    for group, leads in (team_leads or {}).items():
        roles.append(
            {
                "name": f"{name}-lead-{group}",
                "description": f"See the spend of the members of group {group}",
                "scopes": [f"{SPEND_SCOPE}!group={group}", access],
                "users": list(leads),
            }
        )
    extend(c, "services", [service])
    extend(c, "load_roles", roles)
    return service

"""``configure(c, ...)``: the team and admin spend view as a hub-managed service.

Platform teams call it as ``configure_spend_view`` (the package exports it under that name).
"""

from __future__ import annotations

import json
import sys

from ...budgets.config import BudgetConfig, BudgetError, parse_budgets
from ...budgets.guard import parse_guard_rail
from ..compose import add_custom_scope, extend, grant_servers, grant_users
from . import guard
from .access import BUDGET_SCOPE, BUDGET_SCOPE_DESCRIPTION, SCOPE_DESCRIPTION, SPEND_SCOPE

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
    budgets: dict | None = None,
    state_dir: str = "",
    alert_interval: float = 600.0,
    budget_url: str = "",
    guard_rail: dict | None = None,
) -> dict:
    """Run the spend view as a JupyterHub service at ``/services/<name>/`` on 127.0.0.1:``port``.

    Parameters
    ----------
    cost_backend, cost_url : the Kubecost or OpenCost the user servers' panel already uses.
    viewers, viewer_groups : who sees every user and team (the platform team, admins).
    team_leads : ``{group: [users]}``; each lead sees the spend of that group's members.
    athena_report_dir : where the weekly Athena report is written (the newest one is shown).
    environment : more ``JUPYTER_REMOTE_DEV_SPEND_*`` settings for the service process.
    budgets : budgets in the plain form of :func:`~jupyter_remote_dev.budgets.config.parse_budgets`
        (validated here: a bad one stops the hub's start with a BudgetError naming it). Given,
        the view also keeps budgets set in it, evaluates alerts every ``alert_interval`` seconds,
        and every user server's sidebar reads its user's budget (:func:`configure_budgets`).
    state_dir : where the view keeps ``budgets.sqlite`` (changes, audit, alert ledger).
    budget_url : the service as the user servers reach it (default: its loopback URL).
    guard_rail : off by default; ``{"enabled": True, "large_cpu": 4, "large_gpu": 1}`` refuses
        large servers to users whose budget is used up (:mod:`.guard`), never stopping one.

    Returns the service definition.
    """
    parsed = None if budgets is None else parse_budgets(budgets)  # before anything is added
    rail = parse_guard_rail(guard_rail)
    if rail.enabled and parsed is None:
        raise BudgetError("guard_rail needs budgets=...")
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
        # (with budgets, it lists every group to resolve every user's budget)
        {
            "name": f"{name}-service",
            "scopes": [
                "read:groups",
                SPEND_SCOPE,
                *(["list:groups"] if budgets is not None else []),
            ],
            "services": [name],
        },
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
    if parsed is not None:
        url = budget_url or service["url"]
        configure_budgets(c, service, parsed, state_dir, alert_interval, url, team_leads or {})
        service["environment"]["JUPYTER_REMOTE_DEV_SPEND_GUARD_RAIL"] = json.dumps(guard_rail or {})
    if rail.enabled:
        guard.install(c, service)
    return service


def configure_budgets(
    c,
    service: dict,
    config: BudgetConfig,
    state_dir: str,
    interval: float,
    url: str,
    team_leads: dict[str, list[str]],
) -> None:
    """Budgets in the view ``service`` (:mod:`..spend_view.budgets`), and each user server's
    sidebar asking it for its own user's status with the server's own token.

    The server token and the user's own tokens get ``custom:remote-dev:budget:read`` (read one's
    own budget) and access to the service.
    """
    name = service["name"]
    access = f"access:services!service={name}"
    add_custom_scope(c, BUDGET_SCOPE, BUDGET_SCOPE_DESCRIPTION)
    grant_users(c, [BUDGET_SCOPE, access])
    grant_servers(c, [BUDGET_SCOPE, access])
    service["oauth_client_allowed_scopes"].append(BUDGET_SCOPE)
    service["environment"].update(
        {
            "JUPYTER_REMOTE_DEV_SPEND_BUDGETS": json.dumps(config.to_dict()),
            "JUPYTER_REMOTE_DEV_SPEND_STATE_DIR": str(state_dir),
            "JUPYTER_REMOTE_DEV_SPEND_ALERT_INTERVAL": str(float(interval)),
            "JUPYTER_REMOTE_DEV_SPEND_TEAM_LEADS": json.dumps(team_leads),
        }
    )
    c.Spawner.environment.update(
        {"JUPYTER_REMOTE_DEV_COST_BUDGET_URL": f"{url}/services/{name}/api/budget"}
    )

"""The optional guard rail (off by default): a pre-spawn hook asking the spend view whether a
user whose budget is used up may start a large server.

``configure_spend_view(c, budgets=..., guard_rail={"enabled": True, ...})`` installs it, first
in the pre-spawn chain: when the chain also creates a per-user Ray cluster (``configure(c,
ray="per-user")``, in either order), it asks about that too (``kind=ray``) before anything is
created. The hook authenticates as an API-only hub service holding the view's unfiltered spend
scope (its token is made when the hub loads its config and lives only in the hub's memory). It
never stops a running server; if the view cannot answer, the spawn goes ahead (the budget is
advice, not an outage).
"""

from __future__ import annotations

import logging
import secrets

import httpx

from ..compose import extend
from .access import SPEND_SCOPE

log = logging.getLogger(__name__)


class BudgetRefused(Exception):
    """The guard rail refuses this spawn; the message names the budget and who can raise it."""


def requested(spawner) -> tuple[float, float]:
    """(CPUs, GPUs) the spawner asks for: its guarantee, else its limit; GPUs from KubeSpawner's
    ``extra_resource_limits`` (``nvidia.com/gpu``)."""
    cpu = getattr(spawner, "cpu_guarantee", None) or getattr(spawner, "cpu_limit", None) or 0
    limits = getattr(spawner, "extra_resource_limits", None) or {}
    return float(cpu), float(limits.get("nvidia.com/gpu", 0) or 0)


def creates_ray_cluster(hook) -> bool:
    """Whether a pre-spawn hook, or any hook of a ``chain_hooks`` chain, creates a Ray cluster."""
    if getattr(hook, "creates_ray_cluster", False):
        return True
    return any(creates_ray_cluster(h) for h in getattr(hook, "hooks", ()))


def make_guard_hook(view_url: str, token: str, timeout: float = 10.0):
    """The pre-spawn hook: ``GET <view_url>api/guard`` for the server, then for the per-user Ray
    cluster the spawn would create (``kind=ray``), refusing with the view's message."""

    async def budget_guard(spawner):
        cpu, gpu = requested(spawner)
        profile = (getattr(spawner, "user_options", None) or {}).get("profile", "")
        params = {"user": spawner.user.name, "cpu": cpu, "gpu": gpu, "profile": profile}
        kinds = ["server"] + (["ray"] if creates_ray_cluster(spawner.pre_spawn_hook) else [])
        headers = {"Authorization": f"token {token}"}
        try:
            async with httpx.AsyncClient(timeout=timeout, headers=headers) as client:
                for kind in kinds:
                    response = await client.get(
                        view_url + "api/guard", params={**params, "kind": kind}
                    )
                    response.raise_for_status()
                    refusal = response.json().get("refusal")
                    if refusal:
                        break
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            log.warning("budget guard rail could not ask the spend view: %s", error)
            return
        if refusal:
            raise BudgetRefused(refusal)

    return budget_guard


def install(c, service: dict) -> None:
    """An API-only service ``<view>-guard`` with a fresh token, and the hook chained before any
    pre-spawn hook the config holds (KubeSpawner's section wins over Spawner's, as in hub/), so
    a refused spawn creates nothing (no PVC label, no Ray cluster)."""
    from ...hub.hooks import chain_hooks

    name, token = f"{service['name']}-guard", secrets.token_hex(32)
    access = f"access:services!service={service['name']}"
    extend(c, "services", [{"name": name, "api_token": token, "display": False}])
    role = {"name": name, "scopes": [SPEND_SCOPE, access], "services": [name]}
    extend(c, "load_roles", [role])
    hook = make_guard_hook(f"{service['url']}/services/{service['name']}/", token)
    section = "KubeSpawner" if "pre_spawn_hook" in c.KubeSpawner else "Spawner"
    existing = c[section].get("pre_spawn_hook")
    c[section].pre_spawn_hook = chain_hooks(hook, existing)

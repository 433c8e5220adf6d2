"""``configure(c, ...)``: install the hooks into a JupyterHub config without clobbering anything."""

from __future__ import annotations

from .gitsync import GitSync
from .hooks import (
    chain_hooks,
    make_cost_pod_hook,
    make_cost_storage_hook,
    make_gitsync_pod_hook,
    make_raycluster_owner_hook,
    make_raycluster_pod_hook,
    make_raycluster_post_stop_hook,
    make_raycluster_pre_spawn_hook,
    make_shared_ray_pod_hook,
)
from .labels import CostLabels
from .raycluster import RayClusterTemplate

RAY_MODES = (None, "shared", "per-user")


def _existing_hook(c, name: str):
    """The hook an admin (or the chart) already set: KubeSpawner's section wins over Spawner's."""
    for section in ("KubeSpawner", "Spawner"):
        if name in c[section]:
            return c[section][name]
    return None


def _install(c, name: str, hooks: list) -> None:
    if hooks:
        c.KubeSpawner[name] = chain_hooks(_existing_hook(c, name), *hooks)


def configure(
    c,
    *,
    cost_labels: bool = True,
    ray: str | None = None,
    ray_address: str = "",
    ray_dashboard_url: str = "",
    git_sync: bool | None = None,
    api_factory=None,
    api_timeout: float = 30.0,
) -> dict:
    """Install jupyter-remote-dev's KubeSpawner hooks into config ``c``.

    Settings are read from ``c.CostLabels``, ``c.RayClusterTemplate`` and ``c.GitSync``. Hooks that
    are already set (``c.KubeSpawner.*`` or ``c.Spawner.*``) run first; init containers and other
    lists are left alone (ours is appended to the pod's own list at spawn time), so z2jh's
    ``block-cloud-metadata`` init container stays first.

    Parameters
    ----------
    cost_labels : label the pod, the PVC and any Ray cluster for Kubecost/OpenCost.
    ray : ``None``, ``"shared"`` (``ray_address``, may use ``{team}``) or ``"per-user"``
        (a RayCluster per server, created before spawn and deleted after stop).
    git_sync : provision Git sync; ``None`` means "if ``c.GitSync.repo`` is set".
    api_factory : returns a kubernetes_asyncio CustomObjectsApi (default: KubeSpawner's client).
    api_timeout : seconds allowed for each Kubernetes API call.

    Returns the installed hooks by name, for inspection.
    """
    if ray not in RAY_MODES:
        raise ValueError(f"ray must be one of {RAY_MODES}, not {ray!r}")
    if ray == "shared" and not ray_address:
        raise ValueError('ray="shared" needs ray_address, e.g. "ray://ray-head-svc.ray:10001"')
    cost = CostLabels(config=c)
    git = GitSync(config=c)
    if git_sync is None:
        git_sync = bool(git.repo)
    if git_sync and not git.repo:
        raise ValueError("git_sync=True needs c.GitSync.repo")

    pod_hooks, pre_spawn, post_stop, after_created = [], [], [], []
    if cost_labels:
        pod_hooks.append(make_cost_pod_hook(cost))
        pre_spawn.append(make_cost_storage_hook(cost))
    if ray == "shared":
        pod_hooks.append(make_shared_ray_pod_hook(ray_address, ray_dashboard_url, cost))
    elif ray == "per-user":
        template = RayClusterTemplate(config=c)
        pre_spawn.append(make_raycluster_pre_spawn_hook(template, cost, api_factory, api_timeout))
        pod_hooks.append(make_raycluster_pod_hook(template))
        post_stop.append(make_raycluster_post_stop_hook(template, api_factory, api_timeout))
        after_created.append(make_raycluster_owner_hook(template, api_factory, api_timeout))
    if git_sync:
        pod_hooks.append(make_gitsync_pod_hook(git))
        # KubeSpawner deletes pods with a 1 s grace period unless told otherwise, which would cut
        # the preStop final sync short (even after a hub restart, hence config, not a hook)
        grace = max(c.KubeSpawner.get("delete_grace_period", 1), git.termination_grace_period)
        c.KubeSpawner.delete_grace_period = grace

    _install(c, "modify_pod_hook", pod_hooks)
    _install(c, "pre_spawn_hook", pre_spawn)
    _install(c, "post_stop_hook", post_stop)
    _install(c, "after_pod_created_hook", after_created)
    return {
        "modify_pod_hook": pod_hooks,
        "pre_spawn_hook": pre_spawn,
        "post_stop_hook": post_stop,
        "after_pod_created_hook": after_created,
    }

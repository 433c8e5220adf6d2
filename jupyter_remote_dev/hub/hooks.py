"""KubeSpawner/JupyterHub hook factories and ``chain_hooks``.

Each ``make_<purpose>_<kind>_hook`` returns one callable for one JupyterHub hook:
``modify_pod_hook(spawner, pod) -> pod``, ``pre_spawn_hook(spawner)`` or
``post_stop_hook(spawner)``.
Pod hooks only edit the pod object (no network I/O) and are idempotent; the RayCluster hooks are the
only ones that call the Kubernetes API.
"""

from __future__ import annotations

import inspect
import re

from kubernetes_asyncio.client import V1EnvVar
from kubespawner.slugs import is_valid_label as kubespawner_is_valid_label
from kubespawner.slugs import safe_slug

from .gitsync import INIT_CONTAINER_NAME, TEMPLATE_FIELDS, GitSync, check_template
from .kube import RayClusterClient, RayClusterError
from .labels import (
    USERNAME_LABEL,
    CostLabels,
    dns_slug,
    group_names,
    is_valid_label_value,
    label_value,
    template_escape,
)
from .raycluster import RayClusterTemplate, connection_environment, raycluster_name


def chain_hooks(*hooks):
    """One hook that runs ``hooks`` in order (``None`` entries skipped, sync or async).

    For ``modify_pod_hook`` each hook gets the pod the previous one returned (a hook returning
    ``None`` leaves it as it was, so ``after_pod_created_hook``s chain too); one-argument hooks
    (``pre_spawn_hook``, ``post_stop_hook``) simply run in turn.
    """
    hooks = tuple(h for h in hooks if h is not None)

    async def chained(spawner, *args):
        for hook in hooks:
            result = hook(spawner, *args)
            if inspect.isawaitable(result):
                result = await result
            if args and result is not None:
                args = (result,)
        return args[0] if args else None

    chained.hooks = hooks
    return chained


def user_fields(spawner) -> dict[str, str]:
    """Template fields: ``username`` (KubeSpawner's slug), ``unescaped_username``, ``namespace``."""
    return {
        "username": dns_slug(spawner.user.name),
        "unescaped_username": spawner.user.name,
        "servername": spawner.name or "",
        "namespace": spawner.namespace,
    }


def notebook_container(pod):
    """The single-user server container of a KubeSpawner pod."""
    for container in pod.spec.containers:
        if container.name == "notebook":
            return container
    return pod.spec.containers[0]


def set_env(container, env) -> None:
    """Set variables (a dict or V1EnvVar list) on ``container``, replacing same-named ones."""
    new = [V1EnvVar(name=k, value=v) for k, v in env.items()] if isinstance(env, dict) else env
    names = {var.name for var in new}
    kept = [var for var in container.env or [] if getattr(var, "name", None) not in names]
    container.env = kept + list(new)


def _fix_username_label(labels: dict, name: str) -> None:
    """Set a valid ``hub.jupyter.org/username`` where KubeSpawner's would be refused.

    KubeSpawner 7.1 keeps names its case-folding check accepts but the API server refuses."""
    if not is_valid_label_value(safe_slug(name, is_valid=kubespawner_is_valid_label)):
        labels[USERNAME_LABEL] = label_value(name)


def make_cost_pod_hook(cost: CostLabels):
    """modify_pod_hook: cost labels and raw-name annotations on the pod, COST_* env vars."""

    async def cost_pod_hook(spawner, pod):
        labels, annotations = await cost.for_spawner(spawner)
        metadata = pod.metadata
        metadata.labels = {**(metadata.labels or {}), **labels}
        metadata.annotations = {**(metadata.annotations or {}), **annotations}
        _fix_username_label(metadata.labels, spawner.user.name)
        set_env(notebook_container(pod), cost.environment(labels))
        return pod

    return cost_pod_hook


def make_cost_storage_hook(cost: CostLabels):
    """pre_spawn_hook: the same labels and annotations on the user's PVC (``storage_extra_*``)."""

    async def cost_storage_hook(spawner):
        labels, annotations = await cost.for_spawner(spawner)
        _fix_username_label(labels, spawner.user.name)
        # KubeSpawner expands these with str.format: escape braces of raw names
        spawner.storage_extra_labels = {**spawner.storage_extra_labels, **labels}
        spawner.storage_extra_annotations = {
            **spawner.storage_extra_annotations,
            **{k: template_escape(v) for k, v in annotations.items()},
        }

    return cost_storage_hook


def make_shared_ray_pod_hook(address: str, dashboard_url: str = "", cost: CostLabels | None = None):
    """modify_pod_hook for ``ray="shared"``: RAY_ADDRESS of a global or per-team cluster.

    ``address`` and ``dashboard_url`` may use ``{team}`` (DNS slug of the user's team, see
    CostLabels.team_group_pattern), ``{namespace}`` and ``{username}``.
    """
    cost = cost or CostLabels()
    for template, what in ((address, "ray_address"), (dashboard_url, "ray_dashboard_url")):
        check_template(template, what, TEMPLATE_FIELDS | {"team"})
    needs_team = "{team}" in address + dashboard_url

    def shared_ray_pod_hook(spawner, pod):
        fields = user_fields(spawner)
        if needs_team:
            team = cost.team(group_names(spawner.user))
            if not team:
                raise RayClusterError(
                    f"User {spawner.user.name!r} is in no team group, so no shared Ray cluster"
                    " is assigned; set CostLabels.default_team or add the user to a team"
                )
            fields["team"] = dns_slug(team)
        env = {"RAY_ADDRESS": address.format(**fields)}
        if dashboard_url:
            env["JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL"] = dashboard_url.format(**fields)
        set_env(notebook_container(pod), env)
        return pod

    return shared_ray_pod_hook


def _cluster_name(template: RayClusterTemplate, spawner) -> str:
    return raycluster_name(spawner.user.name, spawner.name or "", template.name_prefix)


def _kube_client(spawner, api_factory, timeout: float) -> RayClusterClient:
    if api_factory is None:
        from kubespawner.clients import shared_client

        api = shared_client("CustomObjectsApi")
    else:
        api = api_factory()
    return RayClusterClient(api, spawner.namespace, timeout=timeout, log=spawner.log)


def make_raycluster_pre_spawn_hook(
    template: RayClusterTemplate, cost: CostLabels | None = None, api_factory=None, timeout=30.0
):
    """pre_spawn_hook for ``ray="per-user"``: create the user's RayCluster (reused if it exists).

    ``api_factory`` returns a CustomObjectsApi; default: KubeSpawner's shared client.
    """
    cost = cost or CostLabels()
    template.check()

    async def raycluster_pre_spawn_hook(spawner):
        labels, annotations = await cost.for_spawner(spawner)
        body = template.build(
            _cluster_name(template, spawner),
            spawner.namespace,
            labels,
            annotations,
            singleuser_image=spawner.image,
        )
        try:
            await _kube_client(spawner, api_factory, timeout).create(body)
        except RayClusterError as e:
            spawner.log.error("Ray cluster for %s: %s", spawner.user.name, e)
            raise

    raycluster_pre_spawn_hook.creates_ray_cluster = True  # the budget guard rail asks first
    return raycluster_pre_spawn_hook


def make_raycluster_pod_hook(template: RayClusterTemplate):
    """modify_pod_hook for ``ray="per-user"``: RAY_ADDRESS and dashboard URL of the cluster."""

    def raycluster_pod_hook(spawner, pod):
        env = connection_environment(_cluster_name(template, spawner), spawner.namespace)
        set_env(notebook_container(pod), env)
        return pod

    return raycluster_pod_hook


def make_raycluster_owner_hook(template: RayClusterTemplate, api_factory=None, timeout=30.0):
    """after_pod_created_hook for ``ray="per-user"``: the user pod becomes the cluster's owner.

    Kubernetes then garbage-collects the cluster with the pod even if the hub never runs the
    post_stop_hook. A failure is logged, not raised: the spawn goes on.
    """

    async def raycluster_owner_hook(spawner, pod):
        owner = {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": pod["metadata"]["name"],
            "uid": pod["metadata"]["uid"],
        }
        name = _cluster_name(template, spawner)
        try:
            await _kube_client(spawner, api_factory, timeout).set_owner(name, owner)
        except RayClusterError as e:
            spawner.log.warning("Ray cluster for %s has no owner pod: %s", spawner.user.name, e)

    return raycluster_owner_hook


def make_raycluster_post_stop_hook(template: RayClusterTemplate, api_factory=None, timeout=30.0):
    """post_stop_hook for ``ray="per-user"``: delete the user's RayCluster (404 is fine)."""

    async def raycluster_post_stop_hook(spawner):
        name = _cluster_name(template, spawner)
        try:
            await _kube_client(spawner, api_factory, timeout).delete(name)
        except RayClusterError as e:
            spawner.log.error("Ray cluster for %s: %s", spawner.user.name, e)
            raise

    return raycluster_post_stop_hook


def make_gitsync_pod_hook(git: GitSync):
    """modify_pod_hook: Git-sync init container, GIT_* env for the sync loop, preStop final sync."""

    async def gitsync_pod_hook(spawner, pod):
        fields = user_fields(spawner)
        email = ""
        if git.author_email_auth_state_key and hasattr(spawner.user, "get_auth_state"):
            auth_state = await spawner.user.get_auth_state() or {}
            email = str(auth_state.get(git.author_email_auth_state_key) or "")
        if not email and re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", spawner.user.name):
            email = spawner.user.name
        env = git.environment(fields, author_email=email)
        notebook = notebook_container(pod)
        set_env(notebook, env)
        git.add_pre_stop(notebook, log=spawner.log)
        spec = pod.spec
        others = [c for c in spec.init_containers or [] if c.name != INIT_CONTAINER_NAME]
        spec.init_containers = others + [git.init_container(notebook, env)]
        spec.termination_grace_period_seconds = max(
            spec.termination_grace_period_seconds or 30, git.termination_grace_period
        )
        return pod

    return gitsync_pod_hook

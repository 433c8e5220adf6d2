"""RayCluster lifecycle via kubernetes_asyncio against a loopback stand-in of the Kubernetes API."""

import asyncio
import logging
import time

import pytest
import tornado.httpserver
import tornado.testing
import tornado.web
from jupyterhub.utils import format_exception
from kubernetes_asyncio.client import ApiClient, Configuration, CustomObjectsApi
from traitlets.config import Config

from jupyter_remote_dev.hub import configure
from jupyter_remote_dev.hub.kube import RayClusterClient, RayClusterError
from jupyter_remote_dev.hub.labels import label_value
from jupyter_remote_dev.hub.raycluster import raycluster_name

from .hub_support import make_spawner, make_user, spawn_manifests

USER = "Alice.Smith@Example.com"


def per_user_config(**template) -> Config:
    """Config for ray="per-user" with the single-user image's versions."""
    c = Config()
    c.RayClusterTemplate.ray_version = "2.60.0"
    c.RayClusterTemplate.python_version = "3.11"
    for key, value in template.items():
        c.RayClusterTemplate[key] = value
    return c


def hooked_spawner(factory, timeout=5.0, **template):
    """A real KubeSpawner configured with our hooks, talking to ``factory()``'s API."""
    c = per_user_config(**template)
    configure(c, ray="per-user", api_factory=factory, api_timeout=timeout)
    return make_spawner(c, make_user(USER, groups=["team-ml"]))


async def test_raycluster_hooks_create_before_spawn_and_delete_after_stop(kube_api):
    """pre_spawn_hook POSTs the labelled cluster, the pod uses it, post_stop_hook deletes it."""
    state, factory = kube_api
    spawner = hooked_spawner(factory)
    pod, _ = await spawn_manifests(spawner)
    name = raycluster_name(USER)
    stored = state.objects[(spawner.namespace, name)]
    templates = [stored["spec"]["headGroupSpec"]["template"]] + [
        group["template"] for group in stored["spec"]["workerGroupSpecs"]
    ]
    for template in templates:
        assert template["metadata"]["labels"]["owner"] == label_value(USER)
        assert template["metadata"]["labels"]["team"] == "team-ml"
        assert template["metadata"]["annotations"]["owner"] == USER
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert (
        env["RAY_ADDRESS"] == f"ray://{name}-head-svc.{spawner.namespace}.svc.cluster.local:10001"
    )
    assert env["JUPYTER_REMOTE_DEV_RAY_CLUSTER"] == name

    await spawner.post_stop_hook(spawner)
    assert state.objects == {}
    path = f"/apis/ray.io/v1/namespaces/{spawner.namespace}/rayclusters"
    assert state.requests == [("POST", path), ("DELETE", f"{path}/{name}")]


async def test_raycluster_owner_is_the_user_pod(kube_api):
    """after_pod_created_hook makes the user pod the cluster's owner (garbage-collected with it)."""
    state, factory = kube_api
    spawner = hooked_spawner(factory)
    await spawner.pre_spawn_hook(spawner)
    pod = {"metadata": {"name": spawner.pod_name, "uid": "0b7c4f1e-1d2a-4c1b-9a57-3f8e2d6c9b10"}}
    await spawner.after_pod_created_hook(spawner, pod)
    (cluster,) = state.objects.values()
    assert cluster["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Pod", "name": spawner.pod_name, "uid": pod["metadata"]["uid"]}
    ]
    assert cluster["metadata"]["labels"]["owner"] == label_value(USER)  # the rest is kept


async def test_raycluster_owner_failure_does_not_fail_the_spawn(kube_api, caplog):
    """Without patch permission the owner is not set; a warning is logged, the spawn goes on."""
    state, factory = kube_api
    state.forbidden = {"patch"}
    spawner = hooked_spawner(factory)
    await spawner.pre_spawn_hook(spawner)
    await spawner.after_pod_created_hook(spawner, {"metadata": {"name": "p", "uid": "u"}})
    assert "ownerReferences" not in next(iter(state.objects.values()))["metadata"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("no owner pod" in w and "patch" in w.split("grant", 1)[-1] for w in warnings)


async def test_raycluster_create_reuses_existing_cluster(kube_api, caplog):
    """A second spawn meets 409 AlreadyExists, reads the existing cluster and goes on."""
    state, factory = kube_api
    spawner = hooked_spawner(factory)
    await spawner.pre_spawn_hook(spawner)
    first = dict(state.objects)
    with caplog.at_level(logging.INFO):
        await spawner.pre_spawn_hook(spawner)
    assert state.objects == first
    assert [method for method, _ in state.requests] == ["POST", "POST", "GET"]
    assert "already exists; reusing it" in caplog.text


async def test_raycluster_delete_of_missing_cluster_is_not_an_error(kube_api, caplog):
    """post_stop_hook on a cluster that is already gone (404) logs it and succeeds."""
    state, factory = kube_api
    spawner = hooked_spawner(factory)
    with caplog.at_level(logging.INFO):
        await spawner.post_stop_hook(spawner)
    assert [method for method, _ in state.requests] == ["DELETE"]
    assert "was already gone" in caplog.text


async def test_raycluster_forbidden_shows_rbac_fix_in_spawn_log(kube_api, caplog):
    """Missing RBAC (403) aborts the spawn with a message naming the permission and the fix."""
    state, factory = kube_api
    state.forbidden = {"create"}
    spawner = hooked_spawner(factory)
    with pytest.raises(RayClusterError) as raised:
        await spawner.pre_spawn_hook(spawner)
    message, _ = format_exception(raised.value)  # what JupyterHub's progress API shows
    assert raised.value.status == 403
    assert "Could not create RayCluster" in message and "403" in message
    assert 'cannot create resource "rayclusters"' in message
    assert "hub_config/raycluster-rbac.yaml" in message
    assert "create/get/patch/delete" in message  # the hooks use all four verbs
    assert any(
        r.levelno == logging.ERROR and "raycluster-rbac" in r.getMessage() for r in caplog.records
    )
    assert state.objects == {}


async def test_raycluster_missing_crd_names_kuberay(kube_api):
    """Without the RayCluster CRD (no KubeRay) the spawn fails saying what to install."""
    state, factory = kube_api
    state.crd_installed = False
    spawner = hooked_spawner(factory)
    with pytest.raises(RayClusterError, match="404 .*KubeRay operator"):
        await spawner.pre_spawn_hook(spawner)


async def test_raycluster_api_timeout_is_bounded(kube_api):
    """A Kubernetes API that does not answer fails the call after the configured timeout."""
    state, factory = kube_api
    state.delay = 0.8
    spawner = hooked_spawner(factory, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(RayClusterError, match=r"did not answer within 0\.2s"):
        await spawner.pre_spawn_hook(spawner)
    assert time.monotonic() - started < 0.8
    await asyncio.sleep(0.8)  # let the stand-in finish its delayed answer before teardown


async def test_raycluster_spec_refused_by_crd_schema_is_reported(kube_api):
    """A template override the CRD schema refuses comes back as 422 with the field named."""
    state, factory = kube_api
    if state.validator is None:
        pytest.skip("../shared/schemas is absent: the stand-in cannot enforce the CRD schema")
    spawner = hooked_spawner(factory, spec_overrides={"enableInTreeAutoscaling": "yes"})
    with pytest.raises(RayClusterError, match="422.*enableInTreeAutoscaling"):
        await spawner.pre_spawn_hook(spawner)


async def test_raycluster_unreachable_api_is_a_clear_error():
    """No API server listening gives 'unreachable', not a traceback from aiohttp."""
    from tornado.testing import bind_unused_port

    sock, port = bind_unused_port()
    sock.close()
    async with ApiClient(Configuration(host=f"http://127.0.0.1:{port}")) as api_client:
        client = RayClusterClient(CustomObjectsApi(api_client), "jhub", timeout=2)
        with pytest.raises(RayClusterError, match="unreachable"):
            await client.delete("ray-alice")


class GuardView(tornado.web.RequestHandler):
    """The spend view's ``GET api/guard`` as the guard rail's hook meets it (the token checked,
    ``{"refusal": ...}`` answered): refuses what ``refuse`` maps the asked kind to."""

    def initialize(self, asked: list, refuse: dict):
        self.asked, self.refuse = asked, refuse

    def get(self):
        token = self.settings["config"].JupyterHub.services.get_value([])[-1]["api_token"]
        if self.request.headers.get("Authorization", "") != f"token {token}":
            raise tornado.web.HTTPError(403)
        kind = self.get_argument("kind")
        self.asked.append((self.get_argument("user"), kind))
        self.finish({"refusal": self.refuse.get(kind)})


async def guard_view(c, refuse: dict) -> tuple[dict, list, tornado.httpserver.HTTPServer]:
    """A loopback stand-in of the spend view's guard endpoint, accepting the token the guard's
    install puts into config ``c``; (service, asked, server)."""
    asked: list = []
    app = tornado.web.Application(
        [("/services/remote-dev-spend/api/guard", GuardView, {"asked": asked, "refuse": refuse})],
        config=c,
    )
    sock, port = tornado.testing.bind_unused_port()
    server = tornado.httpserver.HTTPServer(app)
    server.add_socket(sock)
    service = {"name": "remote-dev-spend", "url": f"http://127.0.0.1:{port}"}
    return service, asked, server


RAY_REFUSAL = (
    "Your budget of $5.00 a month (your own budget) is used up: $6.00 spent since 01 December. "
    "New Ray clusters are refused until the month ends on 31 December or the budget is raised; "
    "carol or an admin can raise it. Running servers are not stopped."
)


@pytest.mark.parametrize("guard_first", [True, False])
async def test_the_guard_rail_refuses_a_new_ray_cluster_before_creating_it(kube_api, guard_first):
    """With the guard rail on, the per-user Ray hook's spawn asks the view with kind=ray before
    anything is created and is refused with the view's message; whichever of configure() and
    the guard's install comes first. Answered null, the cluster is created as before."""
    from jupyter_remote_dev.services.spend_view import guard

    state, factory = kube_api
    c, refuse = per_user_config(), {"ray": RAY_REFUSAL}
    service, asked, server = await guard_view(c, refuse)
    if guard_first:
        guard.install(c, service)
    configure(c, ray="per-user", api_factory=factory, api_timeout=5.0)
    if not guard_first:
        guard.install(c, service)
    spawner = make_spawner(c, make_user(USER, groups=["team-ml"]))
    try:
        with pytest.raises(guard.BudgetRefused) as refused:
            await spawner.pre_spawn_hook(spawner)
        assert str(refused.value) == RAY_REFUSAL
        assert asked == [(USER, "server"), (USER, "ray")]
        assert state.requests == [] and state.objects == {}  # nothing created, nothing to stop

        refuse.clear()
        await spawner.pre_spawn_hook(spawner)
        assert list(state.objects) == [(spawner.namespace, raycluster_name(USER))]
    finally:
        server.stop()
        await server.close_all_connections()


async def test_the_guard_rail_asks_nothing_about_ray_without_a_ray_cluster(kube_api):
    """Without ray="per-user" the hook asks about the server only (no Ray cluster to refuse)."""
    from jupyter_remote_dev.services.spend_view import guard

    c = per_user_config()
    service, asked, server = await guard_view(c, {"ray": RAY_REFUSAL})
    configure(c, api_factory=kube_api[1])
    guard.install(c, service)
    spawner = make_spawner(c, make_user(USER))
    try:
        await spawner.pre_spawn_hook(spawner)
        assert asked == [(USER, "server")]
    finally:
        server.stop()
        await server.close_all_connections()

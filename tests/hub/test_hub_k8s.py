"""End to end on a real Kubernetes cluster (kind/k3d, see docs/kubernetes.md); needs KUBECONFIG."""

import asyncio
import copy
import os
import uuid

import pytest
import yaml
from kubernetes_asyncio import config as kube_config
from kubernetes_asyncio.client import (
    ApiClient,
    ApiextensionsV1Api,
    AuthenticationV1TokenRequest,
    Configuration,
    CoreV1Api,
    CustomObjectsApi,
    RbacAuthorizationV1Api,
    V1TokenRequestSpec,
)
from kubernetes_asyncio.client.exceptions import ApiException
from traitlets.config import Config

from jupyter_remote_dev.hub import configure
from jupyter_remote_dev.hub.kube import RayClusterError
from jupyter_remote_dev.hub.raycluster import raycluster_name

from .hub_support import REPO_ROOT, make_spawner, make_user, raycluster_crd, spawn_manifests

pytestmark = [
    pytest.mark.k8s,
    pytest.mark.skipif(
        not os.environ.get("KUBECONFIG"),
        reason="KUBECONFIG is not set: no cluster to run on (docs/kubernetes.md: kind or k3d)",
    ),
]
USERS = ["alice", "Alice.Smith@Example.com", "Zoë Ångström", "x" * 120]


async def _ensure_crd(api_client) -> bool:
    """Install the RayCluster CRD from ../shared/schemas if absent; True if we installed it."""
    ext = ApiextensionsV1Api(api_client)
    crd = raycluster_crd()
    try:
        await ext.read_custom_resource_definition(crd["metadata"]["name"])
        return False
    except ApiException as e:
        if e.status != 404:
            raise
    await ext.create_custom_resource_definition(crd)
    for _ in range(60):
        current = await ext.read_custom_resource_definition(crd["metadata"]["name"])
        conditions = current.status.conditions or []
        if any(c.type == "Established" and c.status == "True" for c in conditions):
            return True
        await asyncio.sleep(0.5)
    raise TimeoutError("RayCluster CRD was not established within 30s")


@pytest.fixture
def cluster(jp_asyncio_loop):
    """(api_client, namespace): an admin client and a fresh namespace, both removed afterwards."""
    namespace = f"remote-dev-test-{uuid.uuid4().hex[:8]}"

    async def setup():
        cfg = Configuration()
        await kube_config.load_kube_config(client_configuration=cfg)
        api_client = ApiClient(cfg)
        await CoreV1Api(api_client).create_namespace({"metadata": {"name": namespace}})
        installed = await _ensure_crd(api_client)
        return api_client, installed

    api_client, installed_crd = jp_asyncio_loop.run_until_complete(setup())
    yield api_client, namespace

    async def teardown():
        await CoreV1Api(api_client).delete_namespace(namespace)
        if installed_crd:
            crd = raycluster_crd()["metadata"]["name"]
            await ApiextensionsV1Api(api_client).delete_custom_resource_definition(crd)
        await api_client.close()

    jp_asyncio_loop.run_until_complete(teardown())


def _config(namespace, api_factory) -> Config:
    c = Config()
    c.KubeSpawner.namespace = namespace
    c.KubeSpawner.storage_pvc_ensure = True
    c.KubeSpawner.storage_capacity = "1Gi"
    c.GitSync.repo = "https://github.com/example/analysis.git"
    c.GitSync.token_secret_name = "git-token-{username}"
    c.RayClusterTemplate.ray_version = "2.60.0"
    c.RayClusterTemplate.python_version = "3.11"
    c.RayClusterTemplate.gpu_max_replicas = 1
    configure(c, ray="per-user", api_factory=api_factory, api_timeout=20)
    return c


@pytest.mark.parametrize("username", USERS)
async def test_k8s_api_server_accepts_pod_pvc_and_raycluster(cluster, username):
    """The real API server accepts our pod and PVC (dry run), stores and deletes the RayCluster."""
    api_client, namespace = cluster
    c = _config(namespace, lambda: CustomObjectsApi(api_client))
    spawner = make_spawner(c, make_user(username, groups=["team-ml"]))
    pod, pvc = await spawn_manifests(spawner)
    core = CoreV1Api(api_client)
    await core.create_namespaced_persistent_volume_claim(namespace, pvc, dry_run="All")
    await core.create_namespaced_pod(namespace, pod, dry_run="All")

    name = raycluster_name(username)
    stored = await CustomObjectsApi(api_client).get_namespaced_custom_object(
        "ray.io", "v1", namespace, "rayclusters", name
    )
    assert stored["metadata"]["labels"]["owner"] == pod["metadata"]["labels"]["owner"]
    await spawner.pre_spawn_hook(spawner)  # 409 -> reused
    await spawner.post_stop_hook(spawner)
    await spawner.post_stop_hook(spawner)  # 404 -> fine
    with pytest.raises(ApiException) as gone:
        await CustomObjectsApi(api_client).get_namespaced_custom_object(
            "ray.io", "v1", namespace, "rayclusters", name
        )
    assert gone.value.status == 404


async def test_k8s_rbac_file_turns_403_into_success(cluster):
    """A hub account without our Role gets the clear 403; once the Role is applied, create works."""
    api_client, namespace = cluster
    core, rbac = CoreV1Api(api_client), RbacAuthorizationV1Api(api_client)
    await core.create_namespaced_service_account(namespace, {"metadata": {"name": "hub"}})
    request = AuthenticationV1TokenRequest(
        spec=V1TokenRequestSpec(audiences=[], expiration_seconds=600)
    )
    token = (
        await core.create_namespaced_service_account_token("hub", namespace, request)
    ).status.token
    admin = api_client.configuration
    hub_cfg = Configuration(host=admin.host, api_key={"BearerToken": token})
    hub_cfg.api_key_prefix = {"BearerToken": "Bearer"}
    hub_cfg.ssl_ca_cert, hub_cfg.verify_ssl = admin.ssl_ca_cert, admin.verify_ssl
    async with ApiClient(hub_cfg) as hub_client:
        c = _config(namespace, lambda: CustomObjectsApi(hub_client))
        spawner = make_spawner(c, make_user("bob"))
        with pytest.raises(RayClusterError, match="403.*raycluster-rbac.yaml"):
            await spawner.pre_spawn_hook(spawner)

        role, binding = yaml.safe_load_all(
            (REPO_ROOT / "hub_config/raycluster-rbac.yaml").read_text()
        )
        binding = copy.deepcopy(binding)
        binding["subjects"][0]["namespace"] = namespace
        await rbac.create_namespaced_role(namespace, role)
        await rbac.create_namespaced_role_binding(namespace, binding)
        await asyncio.sleep(1)  # RBAC caches settle
        await spawner.pre_spawn_hook(spawner)
        await spawner.post_stop_hook(spawner)


async def test_k8s_raycluster_is_garbage_collected_with_its_pod(cluster):
    """After after_pod_created_hook, deleting the user pod makes Kubernetes delete the cluster."""
    api_client, namespace = cluster
    custom = CustomObjectsApi(api_client)
    c = _config(namespace, lambda: custom)
    spawner = make_spawner(c, make_user("carol"))
    await spawner.pre_spawn_hook(spawner)
    pod_body = {
        "metadata": {"name": spawner.pod_name},
        "spec": {"containers": [{"name": "notebook", "image": "registry.k8s.io/pause:3.9"}]},
    }
    core = CoreV1Api(api_client)
    created = await core.create_namespaced_pod(namespace, pod_body)
    await spawner.after_pod_created_hook(spawner, api_client.sanitize_for_serialization(created))
    name = raycluster_name("carol")
    stored = await custom.get_namespaced_custom_object(
        "ray.io", "v1", namespace, "rayclusters", name
    )
    assert stored["metadata"]["ownerReferences"][0]["uid"] == created.metadata.uid

    await core.delete_namespaced_pod(spawner.pod_name, namespace, grace_period_seconds=0)
    for _ in range(120):
        try:
            await custom.get_namespaced_custom_object(
                "ray.io", "v1", namespace, "rayclusters", name
            )
        except ApiException as e:
            assert e.status == 404
            return
        await asyncio.sleep(0.5)
    pytest.fail("the RayCluster outlived its owner pod by 60s")

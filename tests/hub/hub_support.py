"""Hub test helpers: real KubeSpawner instances without a cluster, schemas, label checks."""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_asyncio.client import ApiClient

from jupyter_remote_dev.hub.labels import is_valid_label_key, is_valid_label_value

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = REPO_ROOT.parent / "shared" / "schemas"
K8S_VERSIONS = ("1.29", "1.33", "1.37")


def schema_path(name: str) -> Path:
    """A file under ../shared/schemas, or a visible skip when the folder is absent."""
    path = SCHEMAS / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared schemas folder sits beside the checkout in CI")
    return path


@functools.lru_cache
def _load_yaml(path: Path):
    with open(path) as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def raycluster_validator() -> jsonschema.Draft7Validator:
    """Draft 7 validator for the v1 openAPIV3Schema of KubeRay's RayCluster CRD."""
    crd = _load_yaml(schema_path("ray.io_rayclusters.yaml"))
    (v1,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return jsonschema.Draft7Validator(v1["schema"]["openAPIV3Schema"])


def raycluster_crd() -> dict:
    """The whole RayCluster CRD (for installing into a real cluster)."""
    return _load_yaml(schema_path("ray.io_rayclusters.yaml"))


def z2jh_schema() -> dict:
    """The Zero to JupyterHub values schema."""
    return _load_yaml(schema_path("z2jh-values.schema.yaml"))


_SERIALIZER = object.__new__(ApiClient)  # sanitize_for_serialization needs no HTTP session


def to_dict(obj) -> dict:
    """A kubernetes_asyncio model as the camelCase dict the API server receives."""
    return _SERIALIZER.sanitize_for_serialization(obj)


def validate_k8s(obj: dict, versions=K8S_VERSIONS) -> None:
    """Strict kubernetes-validate for each Kubernetes minor version in ``versions``."""
    for version in versions:
        kubernetes_validate.validate(obj, version, strict=True)


def assert_valid_metadata(metadata: dict) -> None:
    """Every label key and value obeys the API server's rules (the JSON schema does not check)."""
    for key, value in (metadata.get("labels") or {}).items():
        assert is_valid_label_key(key), key
        assert is_valid_label_value(value), (key, value)
    for key, value in (metadata.get("annotations") or {}).items():
        assert is_valid_label_key(key), key
        assert isinstance(value, str), (key, value)


def make_user(name="alice", groups=(), auth_state=None, user_id=1):
    """A stand-in for jupyterhub.user.User with what KubeSpawner and our hooks read."""

    async def get_auth_state():
        return auth_state

    return SimpleNamespace(
        name=name,
        id=user_id,
        url=f"/user/{user_id}/",
        escaped_name=str(user_id),
        groups=[SimpleNamespace(name=g) for g in groups],
        get_auth_state=get_auth_state,
    )


def make_spawner(config, user, server_name=""):
    """A real KubeSpawner (contracts.md 3.6 recipe); call inside a running event loop."""
    from jupyterhub import orm
    from kubespawner import KubeSpawner

    kwargs = {"config": config, "user": user, "_mock": True}
    if server_name:
        kwargs["orm_spawner"] = orm.Spawner(name=server_name)
    with (
        mock.patch("kubespawner.spawner.load_config"),
        mock.patch("kubespawner.spawner.shared_client", mock.MagicMock()),
    ):
        return KubeSpawner(**kwargs)


async def spawn_manifests(spawner, run_pre_spawn=True):
    """What KubeSpawner.start() sends: pre_spawn_hook, then the PVC, then the hooked pod."""
    if run_pre_spawn and spawner.pre_spawn_hook:
        await spawner.pre_spawn_hook(spawner)
    pvc = to_dict(spawner.get_pvc_manifest())
    pod = await spawner.get_pod_manifest()
    if spawner.modify_pod_hook:
        pod = await spawner.modify_pod_hook(spawner, pod)
    return to_dict(pod), pvc

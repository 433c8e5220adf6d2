"""hub_config examples load into a real JupyterHub config and pass the chart's values schema."""

import copy
from unittest import mock

import jsonschema
import pytest
import yaml
from jupyterhub.app import JupyterHub
from kubernetes_asyncio.client import V1Capabilities, V1Container, V1SecurityContext
from traitlets.config import Config

from jupyter_remote_dev.hub.gitsync import INIT_CONTAINER_NAME
from jupyter_remote_dev.hub.kube import GROUP, PLURAL
from jupyter_remote_dev.hub.raycluster import CLIENT_PORT, DASHBOARD_PORT

from .hub_support import (
    REPO_ROOT,
    assert_valid_metadata,
    make_spawner,
    make_user,
    raycluster_validator,
    spawn_manifests,
    validate_k8s,
    z2jh_schema,
)

HUB_CONFIG = REPO_ROOT / "hub_config"
# the chart's values.yaml defaults for the keys the emulated z2jh config below reads
CHART_DEFAULTS = {
    "singleuser": {
        "networkTools": {"image": {"name": "quay.io/jupyterhub/k8s-network-tools", "tag": "4.3.3"}},
        "storage": {
            "type": "dynamic",
            "dynamic": {
                "pvcNameTemplate": "claim-{user_server}",
                "volumeNameTemplate": "volume-{user_server}",
            },
        },
        "extraLabels": {"hub.jupyter.org/network-access-hub": "true"},
    }
}


def load_values() -> dict:
    """hub_config/z2jh-values.yaml as a dict."""
    return yaml.safe_load((HUB_CONFIG / "z2jh-values.yaml").read_text())


def merged(base: dict, override: dict) -> dict:
    """Helm's deep merge of values files (override wins)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def z2jh_config(values: dict) -> Config:
    """What the chart's jupyterhub_config.py does with the values we set, in the chart's order."""
    values = merged(CHART_DEFAULTS, values)

    def get_config(key, default=None):
        node = values
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    c = Config()
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    single = values["singleuser"]
    c.KubeSpawner.extra_labels = single["extraLabels"]
    c.KubeSpawner.image = f"{single['image']['name']}:{single['image']['tag']}"
    dynamic = single["storage"]["dynamic"]
    c.KubeSpawner.pvc_name_template = dynamic["pvcNameTemplate"]
    c.KubeSpawner.storage_pvc_ensure = True
    c.KubeSpawner.storage_capacity = single["storage"]["capacity"]
    volume = dynamic["volumeNameTemplate"]
    c.KubeSpawner.volumes = [
        {"name": volume, "persistentVolumeClaim": {"claimName": dynamic["pvcNameTemplate"]}}
    ]
    c.KubeSpawner.volume_mounts = [
        {"mountPath": single["storage"]["homeMountPath"], "name": volume}
    ]
    c.KubeSpawner.init_containers = []
    if single["cloudMetadata"]["blockWithIptables"]:
        tools = single["networkTools"]["image"]
        c.KubeSpawner.init_containers.append(
            V1Container(
                name="block-cloud-metadata",
                image=f"{tools['name']}:{tools['tag']}",
                command=["iptables", "-A", "OUTPUT", "-d", "169.254.169.254", "-j", "DROP"],
                security_context=V1SecurityContext(
                    privileged=True, run_as_user=0, capabilities=V1Capabilities(add=["NET_ADMIN"])
                ),
            )
        )
    for app, cfg in get_config("hub.config", {}).items():
        c[app].update(cfg)
    for key, source in sorted(get_config("hub.extraConfig", {}).items()):
        exec(compile(source, key, "exec"), {"c": c, "get_config": get_config})
    return c


def test_jupyterhub_config_loads_into_jupyterhub():
    """JupyterHub's own loader reads hub_config/jupyterhub_config.py and gets our hooks."""
    app = JupyterHub()
    app.load_config_file(str(HUB_CONFIG / "jupyterhub_config.py"))
    cfg = app.config
    assert cfg.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    assert [h.__name__ for h in cfg.KubeSpawner.modify_pod_hook.hooks] == [
        "cost_pod_hook",
        "raycluster_pod_hook",
        "gitsync_pod_hook",
    ]
    assert [h.__name__ for h in cfg.KubeSpawner.post_stop_hook.hooks] == [
        "raycluster_post_stop_hook"
    ]
    assert [h.__name__ for h in cfg.KubeSpawner.after_pod_created_hook.hooks] == [
        "raycluster_owner_hook"
    ]


async def test_jupyterhub_config_spawns_valid_objects(kube_api):
    """The example config, via KubeSpawner's shared client, yields a valid pod, PVC, RayCluster."""
    state, factory = kube_api
    app = JupyterHub()
    app.load_config_file(str(HUB_CONFIG / "jupyterhub_config.py"))
    user = make_user("Ada.Lovelace@example.org", groups=["team-analytics"])
    spawner = make_spawner(app.config, user)
    with mock.patch("kubespawner.clients.shared_client", lambda kind: factory()):
        pod, pvc = await spawn_manifests(spawner)
    validate_k8s(pod)
    validate_k8s(pvc)
    assert pod["metadata"]["labels"]["team"] == "team-analytics"
    (cluster,) = state.objects.values()
    assert not list(raycluster_validator().iter_errors(cluster))
    assert cluster["spec"]["rayVersion"] == "2.60.0"


def test_z2jh_values_validate_against_chart_schema():
    """z2jh-values.yaml passes the chart's values schema; a typo under singleuser would not."""
    schema = z2jh_schema()
    # helm validates the values merged with the chart's defaults, which supply every `required`
    # key; a partial values file is checked for everything else (types, unknown keys, enums)
    Validator = jsonschema.validators.extend(
        jsonschema.Draft7Validator, {"required": lambda validator, required, instance, schema: ()}
    )
    validator = Validator(schema)
    values = load_values()
    assert [e.message for e in validator.iter_errors(values)] == []
    typo = merged(values, {"singleuser": {"extraEnvv": {"A": "b"}}})
    assert any("extraEnvv" in e.message for e in validator.iter_errors(typo))


async def test_z2jh_extra_config_keeps_chart_init_container_and_spawns(kube_api):
    """Run hub.extraConfig as the chart does: block-cloud-metadata stays first, objects validate."""
    state, factory = kube_api
    c = z2jh_config(load_values())
    user = make_user(
        "grace@example.org", groups=["team-compilers"], auth_state={"department": "Navy"}
    )
    spawner = make_spawner(c, user)
    with mock.patch("kubespawner.clients.shared_client", lambda kind: factory()):
        pod, pvc = await spawn_manifests(spawner)
    assert [i["name"] for i in pod["spec"]["initContainers"]] == [
        "block-cloud-metadata",
        INIT_CONTAINER_NAME,
    ]
    for obj in (pod, pvc):
        validate_k8s(obj)
        assert_valid_metadata(obj["metadata"])
        assert obj["metadata"]["labels"]["department"] == "Navy"
    assert pod["metadata"]["labels"]["hub.jupyter.org/network-access-hub"] == "true"
    (cluster,) = state.objects.values()
    assert not list(raycluster_validator().iter_errors(cluster))


def test_z2jh_network_policy_lets_user_pods_reach_ray():
    """The singleuser egress rules are valid NetworkPolicy rules and open the Ray client ports."""
    egress = load_values()["singleuser"]["networkPolicy"]["egress"]
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "singleuser"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": egress},
    }
    validate_k8s(policy)
    ray_rule = next(r for r in egress if "ray.io/is-ray-node" in str(r["to"]))
    assert {p["port"] for p in ray_rule["ports"]} == {CLIENT_PORT, DASHBOARD_PORT}


def test_raycluster_rbac_grants_what_the_hooks_call():
    """raycluster-rbac.yaml is a valid Role/RoleBinding with every verb the hooks call."""
    role, binding = yaml.safe_load_all((HUB_CONFIG / "raycluster-rbac.yaml").read_text())
    validate_k8s(role)
    validate_k8s(binding)
    (rule,) = role["rules"]
    assert rule["apiGroups"] == [GROUP] and rule["resources"] == [PLURAL]
    assert {"create", "get", "patch", "delete"} <= set(rule["verbs"])
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }


@pytest.mark.parametrize(
    "name", ["jupyterhub_config.py", "z2jh-values.yaml", "raycluster-rbac.yaml"]
)
def test_hub_config_readme_explains_each_file(name):
    """hub_config/README.md names every example file it ships."""
    assert name in (HUB_CONFIG / "README.md").read_text()

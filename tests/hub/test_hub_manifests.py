"""Real KubeSpawner 7 manifests with our hooks against the Kubernetes and KubeRay schemas."""

import asyncio
import re
import sys
from hashlib import sha256
from types import SimpleNamespace

import pytest
import ray
from hypothesis import given, settings
from hypothesis import strategies as st
from traitlets import TraitError
from traitlets.config import Config

from jupyter_remote_dev.hub import chain_hooks, configure
from jupyter_remote_dev.hub.gitsync import GitSync
from jupyter_remote_dev.hub.hooks import make_shared_ray_pod_hook
from jupyter_remote_dev.hub.kube import RayClusterError
from jupyter_remote_dev.hub.labels import USERNAME_LABEL, label_value
from jupyter_remote_dev.hub.raycluster import RayClusterTemplate, raycluster_name

from .hub_support import (
    assert_valid_metadata,
    make_spawner,
    make_user,
    raycluster_validator,
    spawn_manifests,
    validate_k8s,
)

USERNAMES = [
    "alice",
    "Alice.Smith@Example.com",
    "Zoë Ångström",
    "名前{with}braces",
    "x" * 120,
    "a\u212ab",
    "double--dash",
]
BLOCK_METADATA = {
    "name": "block-cloud-metadata",
    "image": "quay.io/jupyterhub/k8s-network-tools:4.0.0",
    "command": ["iptables", "--append", "OUTPUT", "--destination", "169.254.169.254", "-j", "DROP"],
    "securityContext": {"privileged": True, "runAsUser": 0},
}


def full_config() -> Config:
    """z2jh-like config (cloud-metadata init container, home PVC) plus all our settings."""
    c = Config()
    c.KubeSpawner.init_containers = [dict(BLOCK_METADATA)]
    c.KubeSpawner.storage_pvc_ensure = True
    c.KubeSpawner.storage_capacity = "10Gi"
    c.KubeSpawner.volumes = {
        "home": {"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}
    }
    c.KubeSpawner.volume_mounts = {"home": {"name": "home", "mountPath": "/home/jovyan"}}
    c.CostLabels.team_group_pattern = "^team-"
    c.CostLabels.backend = "kubecost"
    c.CostLabels.backend_url = "http://kubecost-cost-analyzer.kubecost:9090/model"
    c.GitSync.repo = "https://github.com/example/analysis.git"
    c.GitSync.upstream = "main"
    c.GitSync.token_secret_name = "git-token-{username}"
    c.RayClusterTemplate.ray_version = ray.__version__
    c.RayClusterTemplate.python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    c.RayClusterTemplate.gpu_max_replicas = 2
    return c


def env_of(container: dict) -> dict:
    """Container env as name -> value or valueFrom."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env") or []}


@pytest.mark.parametrize("server_name", ["", "gpu-box"])
@pytest.mark.parametrize("username", USERNAMES)
async def test_pod_pvc_and_raycluster_validate_for_any_user(
    kube_api,
    username,
    server_name,
):
    """Pod, PVC and RayCluster from a real KubeSpawner pass the Kubernetes and KubeRay schemas."""
    state, factory = kube_api
    c = full_config()
    configure(c, ray="per-user", api_factory=factory)
    user = make_user(username, groups=["staff", "team-ml"], auth_state={"department": "R&D"})
    spawner = make_spawner(c, user, server_name)
    pod, pvc = await spawn_manifests(spawner)

    for obj in (pod, pvc):
        validate_k8s(obj)
        assert_valid_metadata(obj["metadata"])
        assert obj["metadata"]["labels"]["owner"] == label_value(username)
        assert obj["metadata"]["labels"]["team"] == "team-ml"
        assert obj["metadata"]["labels"]["department"] == label_value("R&D") != "R&D"
        assert obj["metadata"]["annotations"]["owner"] == username
        assert obj["metadata"]["annotations"]["department"] == "R&D"
    assert pod["metadata"]["labels"]["owner"] == pod["metadata"]["labels"][USERNAME_LABEL]
    assert pvc["metadata"]["labels"][USERNAME_LABEL] == pod["metadata"]["labels"][USERNAME_LABEL]

    (cluster,) = state.objects.values()
    assert not list(raycluster_validator().iter_errors(cluster))
    assert cluster["metadata"]["name"] == raycluster_name(username, server_name)
    assert len(cluster["metadata"]["name"]) <= 53
    assert_valid_metadata(cluster["metadata"])
    templates = [cluster["spec"]["headGroupSpec"]["template"]]
    templates += [group["template"] for group in cluster["spec"]["workerGroupSpecs"]]
    for template in templates:
        assert_valid_metadata(template["metadata"])
        assert template["metadata"]["labels"]["owner"] == label_value(username)
        pod_template = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"}}
        validate_k8s({**pod_template, "template": template})

    notebook = pod["spec"]["containers"][0]
    env = env_of(notebook)
    assert env["JUPYTER_REMOTE_DEV_COST_USER"] == label_value(username)
    assert env["RAY_ADDRESS"].startswith(f"ray://{cluster['metadata']['name']}-head-svc.")


async def test_pod_keeps_z2jh_init_container_first_and_adds_git_init():
    """z2jh's block-cloud-metadata init container survives and runs before the Git-sync init."""
    c = full_config()
    configure(c)
    spawner = make_spawner(c, make_user("bob@example.com"))
    pod, _ = await spawn_manifests(spawner)
    block, git_init = pod["spec"]["initContainers"]
    user_slug = pod["metadata"]["name"].removeprefix("jupyter-")  # KubeSpawner's {username}
    assert user_slug == "bob-example-com---" + sha256(b"bob@example.com").hexdigest()[:8]
    assert block == BLOCK_METADATA
    assert git_init["command"] == ["python", "-m", "jupyter_remote_dev.gitsync", "init"]
    notebook = pod["spec"]["containers"][0]
    assert git_init["image"] == notebook["image"]
    assert git_init["volumeMounts"] == notebook["volumeMounts"]
    assert notebook["lifecycle"]["preStop"]["exec"]["command"] == [
        *["python", "-m", "jupyter_remote_dev.gitsync", "cycle", "--wait=30"]
    ]
    assert pod["spec"]["terminationGracePeriodSeconds"] == 60
    assert spawner.delete_grace_period == 60  # KubeSpawner's 1 s default would kill the preStop
    for container in (git_init, notebook):
        env = env_of(container)
        assert env["JUPYTER_REMOTE_DEV_GIT_REPO"] == "https://github.com/example/analysis.git"
        assert env["JUPYTER_REMOTE_DEV_GIT_UPSTREAM"] == "main"
        assert env["JUPYTER_REMOTE_DEV_GIT_SYNC_BRANCH"] == f"remote-dev/{user_slug}"
        assert env["JUPYTER_REMOTE_DEV_GIT_AUTHOR_EMAIL"] == "bob@example.com"
        assert env["JUPYTER_REMOTE_DEV_GIT_TOKEN"] == {
            "secretKeyRef": {"name": f"git-token-{user_slug}", "key": "token"}
        }
    validate_k8s(pod)


async def test_configure_runs_admin_hooks_first_and_keeps_them():
    """Hooks already set in c.Spawner / c.KubeSpawner still run, before ours."""
    calls = []

    def admin_pod_hook(spawner, pod):
        calls.append("pod")
        pod.metadata.labels["owner"] = "overwritten-by-ours"
        return pod

    async def admin_pre_spawn(spawner):
        calls.append("pre_spawn")

    c = Config()
    c.KubeSpawner.modify_pod_hook = admin_pod_hook
    c.Spawner.pre_spawn_hook = admin_pre_spawn
    configure(c)
    assert c.KubeSpawner.modify_pod_hook.hooks[0] is admin_pod_hook
    spawner = make_spawner(c, make_user("carol"))
    pod, _ = await spawn_manifests(spawner)
    assert calls == ["pre_spawn", "pod"]
    assert pod["metadata"]["labels"]["owner"] == "carol"


@pytest.mark.parametrize("username", ["Eve <eve@evil.example>", "名前", "x" * 120, "line\nbreak"])
async def test_gitsync_env_is_accepted_by_the_gitsync_engine(username, tmp_path):
    """The GIT_* variables our hook sets pass the Git-sync engine's own validation, for any user."""
    from jupyter_remote_dev.gitsync.config import SyncSettings

    c = full_config()
    c.GitSync.workspace = "work"
    configure(c)
    pod, _ = await spawn_manifests(make_spawner(c, make_user(username)))
    env = {k: v for k, v in env_of(pod["spec"]["initContainers"][-1]).items() if isinstance(v, str)}
    settings = SyncSettings.from_env(environ=env, root=tmp_path)
    assert settings.repo == "https://github.com/example/analysis.git"
    assert settings.sync_branch == env["JUPYTER_REMOTE_DEV_GIT_SYNC_BRANCH"]
    assert settings.workspace == tmp_path / "work"
    assert not set("<>\n") & set(settings.author_name)
    assert "JUPYTER_REMOTE_DEV_GIT_AUTHOR_EMAIL" not in env  # no address-like name, no auth_state


@pytest.mark.parametrize("username", ["jo..doe", "x.lock", "名前", "alice"])
async def test_gitsync_raw_name_branch_is_the_servers_branch(username):
    """With ``{unescaped_username}`` the hub makes the same valid branch the server would."""
    from jupyter_remote_dev.gitsync.config import expand_sync_branch, validate_branch

    c = full_config()
    c.GitSync.branch_template = "remote-dev/{unescaped_username}"
    configure(c)
    pod, _ = await spawn_manifests(make_spawner(c, make_user(username)))
    branch = env_of(pod["spec"]["initContainers"][-1])["JUPYTER_REMOTE_DEV_GIT_SYNC_BRANCH"]
    assert branch == expand_sync_branch("remote-dev/{username}", username)
    assert validate_branch(branch) == branch


async def test_pod_hooks_are_idempotent():
    """Pod hooks run twice give the same pod (no duplicate env, init container or preStop)."""
    c = full_config()
    c.KubeSpawner.lifecycle_hooks = {"preStop": {"exec": {"command": ["echo", "bye now"]}}}
    configure(c, ray="shared", ray_address="ray://ray-head-svc.ray.svc.cluster.local:10001")
    spawner = make_spawner(c, make_user("dan"))
    await spawner.pre_spawn_hook(spawner)
    pod = await spawner.get_pod_manifest()
    once = await spawner.modify_pod_hook(spawner, pod)
    from .hub_support import to_dict

    first = to_dict(once)
    twice = to_dict(await spawner.modify_pod_hook(spawner, once))
    assert twice == first
    command = first["spec"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert command == [
        "/bin/sh",
        "-c",
        "echo 'bye now'; exec python -m jupyter_remote_dev.gitsync cycle --wait=30",
    ]


async def test_shared_ray_address_per_team():
    """ray="shared" points each user at their team's cluster; no team is a clear spawn error."""
    hook = make_shared_ray_pod_hook(
        "ray://{team}-head-svc.ray.svc.cluster.local:10001",
        "http://{team}-head-svc.ray.svc.cluster.local:8265",
    )
    c = Config()
    member = make_spawner(c, make_user("erin", groups=["Data Science"]))
    pod = hook(member, await member.get_pod_manifest())
    env = {e.name: e.value for e in pod.spec.containers[0].env}
    team = "data-science---" + sha256(b"Data Science").hexdigest()[:8]
    assert env["RAY_ADDRESS"] == f"ray://{team}-head-svc.ray.svc.cluster.local:10001"
    loner = make_spawner(c, make_user("frank"))
    with pytest.raises(RayClusterError, match="no team"):
        hook(loner, await loner.get_pod_manifest())


async def test_chain_hooks_threads_the_pod_and_tolerates_none():
    """Each pod hook gets the previous result; one returning None (in-place edit) keeps the pod."""

    def in_place(spawner, pod):
        pod.metadata.labels["a"] = "1"

    def replacing(spawner, pod):
        return SimpleNamespace(metadata=SimpleNamespace(labels={**pod.metadata.labels, "b": "2"}))

    async def reader(spawner, pod):
        seen.append(dict(pod.metadata.labels))

    seen = []
    pod = SimpleNamespace(metadata=SimpleNamespace(labels={}))
    result = await chain_hooks(None, in_place, replacing, reader)(object(), pod)
    assert seen == [{"a": "1", "b": "2"}] and result.metadata.labels == {"a": "1", "b": "2"}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=150), st.text(max_size=80))
def test_raycluster_name_is_dns1035_within_53(username, servername):
    """Any user and server name give a DNS-1035 RayCluster name of at most 53 characters."""
    name = raycluster_name(username, servername)
    assert len(name) <= 53 and name.startswith("ray-")
    assert re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", name)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=80), st.text(max_size=30)), min_size=2, unique=True))
def test_raycluster_name_distinct_servers_never_collide(servers):
    """Different (user, server) pairs never get the same RayCluster name."""
    names = [raycluster_name(user, server) for user, server in servers]
    assert len(set(names)) == len(names)


def test_raycluster_image_matches_singleuser_versions():
    """The default image is the official tag of the single-user image's Ray and Python."""
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    template = RayClusterTemplate(
        ray_version=ray.__version__, python_version=py, gpu_max_replicas=1
    )
    template.check()
    tag = f"rayproject/ray:{ray.__version__}-py{py.replace('.', '')}"
    cluster = template.build("ray-x", "jhub", {}, {})
    head = cluster["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    cpu, gpu = (g["template"]["spec"]["containers"][0] for g in cluster["spec"]["workerGroupSpecs"])
    assert cluster["spec"]["rayVersion"] == ray.__version__
    assert head["image"] == cpu["image"] == tag and gpu["image"] == tag + "-gpu"
    same = RayClusterTemplate(
        ray_version="2.60.0", python_version="3.11", image="{singleuser_image}"
    )
    assert same.cpu_image("example/notebook:1") == "example/notebook:1"


@pytest.mark.parametrize(
    "settings_, problem",
    [
        ({"image": "rayproject/ray:2.9.0-py311"}, "Ray 2.9.0"),
        ({"image": "rayproject/ray:2.60.0-py310"}, "Python 3.10"),
        ({"ray_version": ""}, "needs ray_version"),
        ({"worker_min_replicas": 5}, "worker_min_replicas"),
    ],
)
def test_raycluster_template_refuses_mismatches_at_startup(settings_, problem):
    """An image whose Ray/Python differ from the single-user image fails configure() clearly."""
    c = Config()
    c.RayClusterTemplate.ray_version = "2.60.0"
    c.RayClusterTemplate.python_version = "3.11"
    for key, value in settings_.items():
        c.RayClusterTemplate[key] = value
    with pytest.raises(ValueError, match=problem):
        configure(c, ray="per-user")


def test_raycluster_spot_only_for_workers_and_gpu_group_optional():
    """Workers tolerate and prefer spot nodes, the head never does; GPU group only on request."""
    template = RayClusterTemplate(ray_version="2.60.0", python_version="3.11")
    cluster = template.build("ray-x", "jhub", {"owner": "x"}, {})
    head = cluster["spec"]["headGroupSpec"]["template"]["spec"]
    (cpu,) = cluster["spec"]["workerGroupSpecs"]
    assert "tolerations" not in head and "affinity" not in head
    assert {"key": "cloud.google.com/gke-spot", "operator": "Equal", "value": "true",
            "effect": "NoSchedule"} in cpu["template"]["spec"]["tolerations"]  # fmt: skip
    assert cpu["template"]["spec"]["affinity"]["nodeAffinity"]
    template.workers_on_spot = False
    template.gpu_max_replicas = 3
    cpu, gpu = template.build("ray-x", "jhub", {}, {})["spec"]["workerGroupSpecs"]
    assert "tolerations" not in cpu["template"]["spec"]
    assert gpu["maxReplicas"] == 3
    assert gpu["template"]["spec"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    limits = gpu["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "1"


def test_gitsync_refuses_credentials_in_repo_url():
    """A token inside the repository URL is refused; it belongs in a Secret."""
    with pytest.raises(TraitError, match="credentials"):
        GitSync(repo="https://user:ghp_secret@github.com/org/repo.git")


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("branch_template", "remote-dev/{user}"),
        ("token_secret_name", "git-{username"),
        ("token_secret_name", "git-{unescaped_username}"),
    ],
)
def test_gitsync_refuses_bad_templates(setting, value):
    """A misspelt or unbalanced {field} fails when configured, not at the first spawn."""
    with pytest.raises(TraitError, match=setting):
        GitSync(**{setting: value})


def test_configure_refuses_bad_arguments():
    """Unknown Ray modes, shared mode without an address and git_sync without a repo are refused."""
    with pytest.raises(ValueError, match="ray must be one of"):
        configure(Config(), ray="everywhere")
    with pytest.raises(ValueError, match="ray_address"):
        configure(Config(), ray="shared")
    with pytest.raises(ValueError, match=r"uses \['group'\]"):
        configure(Config(), ray="shared", ray_address="ray://{group}-head-svc:10001")
    with pytest.raises(ValueError, match="GitSync.repo"):
        configure(Config(), git_sync=True)


def test_hooks_module_does_not_load_with_the_server_extension():
    """Importing jupyter_remote_dev (as the server extension does) does not load kubespawner."""
    code = "import jupyter_remote_dev, sys; print('kubespawner' in sys.modules)"
    out = asyncio.run(_run(sys.executable, "-c", code))
    assert out.strip() == "False"


async def _run(*argv) -> str:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return out.decode()

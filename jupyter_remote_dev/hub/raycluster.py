"""The per-user ``RayCluster`` (KubeRay ``ray.io/v1``) manifest, built from configurable traits."""

from __future__ import annotations

import copy
import re

from kubespawner.slugs import is_valid_object_name, multi_slug, safe_slug
from traitlets import Bool, Dict, Int, List, TraitError, Unicode, default, validate
from traitlets.config import Configurable

MAX_NAME_LENGTH = 53  # KubeRay refuses longer RayCluster names (its Services append "-head-svc")
CLIENT_PORT = 10001
DASHBOARD_PORT = 8265
_DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_OFFICIAL_TAG = re.compile(
    r"(?:^|/)rayproject/ray(?:-ml)?:(?P<ray>[0-9.]+)-py(?P<py>\d)(?P<minor>\d+)"
)

SPOT_TOLERATIONS = [
    {
        "key": "cloud.google.com/gke-spot",
        "operator": "Equal",
        "value": "true",
        "effect": "NoSchedule",
    },
    {
        "key": "kubernetes.azure.com/scalesetpriority",
        "operator": "Equal",
        "value": "spot",
        "effect": "NoSchedule",
    },
    {
        "key": "karpenter.sh/capacity-type",
        "operator": "Equal",
        "value": "spot",
        "effect": "NoSchedule",
    },
]
SPOT_PREFERENCE = {
    "nodeAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 50,
                "preference": {
                    "matchExpressions": [
                        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}
                    ]
                },
            },
            {
                "weight": 50,
                "preference": {
                    "matchExpressions": [
                        {"key": "cloud.google.com/gke-spot", "operator": "In", "values": ["true"]}
                    ]
                },
            },
        ]
    }
}


def raycluster_name(username: str, servername: str = "", prefix: str = "ray-") -> str:
    """A DNS-1035 name of at most 53 characters, unique per user and server (KubeSpawner slugs)."""
    budget = MAX_NAME_LENGTH - len(prefix)
    if servername:
        slug = multi_slug([username, servername], max_length=budget)
    else:
        slug = safe_slug(username, is_valid=is_valid_object_name, max_length=budget)
    return prefix + slug


def _resources(cpu: str, memory: str, extra: dict | None = None) -> dict:
    amounts = {"cpu": cpu, "memory": memory, **(extra or {})}
    return {"requests": dict(amounts), "limits": dict(amounts)}


class RayClusterTemplate(Configurable):
    """Shape of the RayCluster created for each user server (``ray="per-user"``)."""

    ray_version = Unicode(
        config=True,
        help="""Ray version installed in the single-user image (e.g. `2.60.0`). Client and cluster
        must run the same Ray version; it sets `spec.rayVersion` and the default image tag.""",
    )
    python_version = Unicode(
        config=True,
        help="""Python major.minor of the single-user image (e.g. `3.11`); Ray client needs the
        same minor version on both sides. Used for the default image tag.""",
    )
    image = Unicode(
        "",
        config=True,
        help="""Image for head and CPU workers. Empty: `rayproject/ray:<ray_version>-py<XY>`.
        `{singleuser_image}` means the user's own image (same Ray and Python by construction; the
        image known at pre-spawn, i.e. before profile_list overrides).
        An official `rayproject/ray` tag disagreeing with ray_version/python_version is refused.""",
    )
    gpu_image = Unicode(
        "",
        config=True,
        help="Image for the GPU group. Empty: the CPU image, `-gpu` appended to an official tag.",
    )
    name_prefix = Unicode(
        "ray-", config=True, help="Prefix of the RayCluster name (lowercase letter first)."
    )
    head_cpu = Unicode("1", config=True, help="CPU request and limit of the Ray head.")
    head_memory = Unicode("4Gi", config=True, help="Memory request and limit of the Ray head.")
    worker_cpu = Unicode("2", config=True, help="CPU request and limit of each CPU worker.")
    worker_memory = Unicode("8Gi", config=True, help="Memory request and limit of each CPU worker.")
    worker_min_replicas = Int(0, config=True, help="Minimum number of CPU workers.")
    worker_max_replicas = Int(4, config=True, help="Maximum number of CPU workers.")
    gpu_max_replicas = Int(
        0, config=True, help="Maximum number of GPU workers; 0 leaves the GPU group out."
    )
    gpus_per_worker = Int(1, config=True, help="GPUs per GPU worker.")
    gpu_resource = Unicode("nvidia.com/gpu", config=True, help="Extended resource name of a GPU.")
    gpu_cpu = Unicode("4", config=True, help="CPU request and limit of each GPU worker.")
    gpu_memory = Unicode("16Gi", config=True, help="Memory request and limit of each GPU worker.")
    workers_on_spot = Bool(
        True, config=True, help="Let workers (never the head) run on spot/preemptible nodes."
    )
    spot_tolerations = List(
        Dict(),
        config=True,
        help="Tolerations for worker pods when workers_on_spot (default: GKE, AKS, Karpenter).",
    )
    spot_affinity = Dict(
        config=True,
        help="Affinity for worker pods when workers_on_spot (default: prefer spot nodes).",
    )
    enable_autoscaling = Bool(
        True, config=True, help="Turn on KubeRay's in-tree autoscaler (`enableInTreeAutoscaling`)."
    )
    spec_overrides = Dict(
        config=True,
        help="""Extra top-level `spec` fields merged last (e.g. `autoscalerOptions`); keys given
        here replace the generated ones.""",
    )

    @default("spot_tolerations")
    def _default_tolerations(self):
        return copy.deepcopy(SPOT_TOLERATIONS)

    @default("spot_affinity")
    def _default_affinity(self):
        return copy.deepcopy(SPOT_PREFERENCE)

    @validate("name_prefix")
    def _valid_prefix(self, proposal):
        prefix = proposal["value"]
        if not re.fullmatch(r"[a-z][-a-z0-9]{0,19}", prefix):
            raise TraitError(f"name_prefix {prefix!r}: 1-20 of [a-z0-9-], starting with a letter")
        return prefix

    @validate("python_version")
    def _valid_python(self, proposal):
        if proposal["value"] and not re.fullmatch(r"3\.\d+", proposal["value"]):
            raise TraitError(f"python_version {proposal['value']!r}: use major.minor, e.g. 3.11")
        return proposal["value"]

    def check(self) -> None:
        """Fail at start-up, clearly, if versions are missing or disagree with the image."""
        if not self.ray_version or not self.python_version:
            raise ValueError(
                "RayClusterTemplate needs ray_version and python_version of the single-user image"
            )
        match = _OFFICIAL_TAG.search(self.image)
        if match:
            python = f"{match['py']}.{match['minor']}"
            if (match["ray"], python) != (self.ray_version, self.python_version):
                raise ValueError(
                    f"image {self.image!r} runs Ray {match['ray']} / Python {python}, but the "
                    f"single-user image has Ray {self.ray_version} / Python {self.python_version}"
                )
        if self.worker_min_replicas > self.worker_max_replicas or self.worker_min_replicas < 0:
            raise ValueError("worker_min_replicas must be between 0 and worker_max_replicas")

    def cpu_image(self, singleuser_image: str) -> str:
        """The head/worker image (official tag for the configured versions unless set)."""
        if self.image:
            return self.image.replace("{singleuser_image}", singleuser_image)
        return f"rayproject/ray:{self.ray_version}-py{self.python_version.replace('.', '')}"

    def _gpu_image(self, cpu_image: str) -> str:
        if self.gpu_image:
            return self.gpu_image
        return cpu_image + "-gpu" if _OFFICIAL_TAG.search(cpu_image) else cpu_image

    def _pod_template(self, labels, annotations, container: dict, spot: bool) -> dict:
        spec = {"containers": [container]}
        if spot and self.workers_on_spot:
            if self.spot_tolerations:
                spec["tolerations"] = copy.deepcopy(self.spot_tolerations)
            if self.spot_affinity:
                spec["affinity"] = copy.deepcopy(self.spot_affinity)
        metadata = {"labels": dict(labels), "annotations": dict(annotations)}
        return {"metadata": metadata, "spec": spec}

    def build(
        self, name: str, namespace: str, labels: dict, annotations: dict, singleuser_image: str = ""
    ) -> dict:
        """The RayCluster (camelCase dict), cost labels on the head and every worker group."""
        if len(name) > MAX_NAME_LENGTH or not _DNS_1035.match(name):
            raise ValueError(
                f"RayCluster name {name!r} is not a DNS-1035 label of <= 53 characters"
            )
        image = self.cpu_image(singleuser_image)
        lifecycle = {"preStop": {"exec": {"command": ["/bin/sh", "-c", "ray stop"]}}}
        head = {
            "name": "ray-head",
            "image": image,
            "resources": _resources(self.head_cpu, self.head_memory),
            "ports": [
                {"name": "gcs-server", "containerPort": 6379},
                {"name": "dashboard", "containerPort": DASHBOARD_PORT},
                {"name": "client", "containerPort": CLIENT_PORT},
                {"name": "metrics", "containerPort": 8080},
            ],
            "lifecycle": lifecycle,
        }
        workers = [
            {
                "groupName": "cpu",
                "replicas": self.worker_min_replicas,
                "minReplicas": self.worker_min_replicas,
                "maxReplicas": self.worker_max_replicas,
                "rayStartParams": {},
                "template": self._pod_template(
                    labels,
                    annotations,
                    {
                        "name": "ray-worker",
                        "image": image,
                        "resources": _resources(self.worker_cpu, self.worker_memory),
                        "lifecycle": lifecycle,
                    },
                    spot=True,
                ),
            }
        ]
        if self.gpu_max_replicas > 0:
            gpu_container = {
                "name": "ray-worker",
                "image": self._gpu_image(image),
                "resources": _resources(
                    self.gpu_cpu, self.gpu_memory, {self.gpu_resource: str(self.gpus_per_worker)}
                ),
                "lifecycle": lifecycle,
            }
            template = self._pod_template(labels, annotations, gpu_container, spot=True)
            template["spec"].setdefault("tolerations", []).append(
                {"key": self.gpu_resource, "operator": "Exists", "effect": "NoSchedule"}
            )
            workers.append(
                {
                    "groupName": "gpu",
                    "replicas": 0,
                    "minReplicas": 0,
                    "maxReplicas": self.gpu_max_replicas,
                    "rayStartParams": {},
                    "template": template,
                }
            )
        spec = {
            "rayVersion": self.ray_version,
            "enableInTreeAutoscaling": self.enable_autoscaling,
            "headGroupSpec": {
                "rayStartParams": {"dashboard-host": "0.0.0.0"},
                "template": self._pod_template(labels, annotations, head, spot=False),
            },
            "workerGroupSpecs": workers,
            **copy.deepcopy(self.spec_overrides),
        }
        return {
            "apiVersion": "ray.io/v1",
            "kind": "RayCluster",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {**labels, "app.kubernetes.io/managed-by": "jupyter-remote-dev"},
                "annotations": dict(annotations),
            },
            "spec": spec,
        }


def connection_environment(name: str, namespace: str) -> dict[str, str]:
    """``RAY_ADDRESS`` and dashboard URL of a KubeRay cluster's head Service."""
    host = f"{name}-head-svc.{namespace}.svc.cluster.local"
    return {
        "RAY_ADDRESS": f"ray://{host}:{CLIENT_PORT}",
        "JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL": f"http://{host}:{DASHBOARD_PORT}",
        "JUPYTER_REMOTE_DEV_RAY_CLUSTER": name,
    }

"""JupyterHub on Kubernetes (KubeSpawner) with jupyter-remote-dev's hooks.

Run the hub with this file (`jupyterhub -f hub_config/jupyterhub_config.py`) from an image that has
`jupyter-remote-dev[hub]` installed; the single-user image needs `jupyter-remote-dev[ray]`.
Every setting is explained in hub_config/README.md. Values read from the environment have safe
defaults so the file also loads on a laptop.
"""

import os

from jupyter_remote_dev.hub import configure

c = get_config()  # noqa: F821 (provided by JupyterHub's config loader)

# --- KubeSpawner basics -------------------------------------------------------------------------
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.KubeSpawner.image = os.environ.get(
    "SINGLEUSER_IMAGE", "quay.io/example/remote-dev-notebook:0.1.0"
)
c.KubeSpawner.storage_pvc_ensure = True
c.KubeSpawner.storage_capacity = "10Gi"
c.KubeSpawner.volumes = {
    "home": {"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}
}
c.KubeSpawner.volume_mounts = {"home": {"name": "home", "mountPath": "/home/jovyan"}}
c.KubeSpawner.working_dir = "/home/jovyan"
# auth_state carries the department/cost centre (needs JUPYTERHUB_CRYPT_KEY in the hub's env)
c.Authenticator.enable_auth_state = True

# --- Cost attribution (Kubecost/OpenCost) ---------------------------------------------------------
c.CostLabels.user_label = "owner"
c.CostLabels.team_label = "team"
c.CostLabels.team_group_pattern = "^team-"
c.CostLabels.auth_state_labels = {"department": "department"}
c.CostLabels.backend = "kubecost"
c.CostLabels.backend_url = "http://kubecost-cost-analyzer.kubecost:9090/model"

# --- A RayCluster per user server ---------------------------------------------------------------
c.RayClusterTemplate.ray_version = "2.60.0"  # the single-user image's Ray ...
c.RayClusterTemplate.python_version = "3.11"  # ... and Python major.minor
c.RayClusterTemplate.worker_max_replicas = 4
c.RayClusterTemplate.gpu_max_replicas = 0  # > 0 adds a GPU worker group

# --- Two-way Git sync ----------------------------------------------------------------------------
c.GitSync.repo = os.environ.get("REMOTE_DEV_GIT_REPO", "https://github.com/example/analysis.git")
c.GitSync.upstream = "main"
c.GitSync.workspace = "/home/jovyan/work"
c.GitSync.token_secret_name = "remote-dev-git-token"  # kubectl create secret generic ... token=...

configure(c, ray="per-user")

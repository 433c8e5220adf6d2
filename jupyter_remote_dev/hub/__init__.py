"""JupyterHub/KubeSpawner integration: cost labels, Ray clusters and Git-sync provisioning.

Needs the ``hub`` extra (jupyterhub, jupyterhub-kubespawner, kubernetes_asyncio). Nothing in the
server extension imports this package. Typical use in ``jupyterhub_config.py``::

    from jupyter_remote_dev.hub import configure
    configure(c, ray="per-user")
"""

from .config import configure
from .hooks import chain_hooks

__all__ = ["chain_hooks", "configure"]

"""The team and admin spend view: a JupyterHub service showing spend per user and per team.

Access is JupyterHub RBAC: the custom scope ``custom:remote-dev:spend:read`` (whole view) or the
same scope filtered ``!group=<team>`` (a team lead). The figures come from the Kubecost/OpenCost
backend, cache and cost labels the sidebar already uses.
"""

from .config import configure as configure_spend_view

__all__ = ["configure_spend_view"]

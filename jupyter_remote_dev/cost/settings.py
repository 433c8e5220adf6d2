"""Settings of the spend panel's cost backend (Kubecost or OpenCost)."""

from __future__ import annotations

import os

from traitlets import Bool, Float, HasTraits, Unicode, default, validate

from ..base.validators import positive

TRUE = ("1", "true", "yes", "on")


class CostSettings(HasTraits):
    """Which backend reports spend, for which pod label and user, and how it is cached."""

    cost_backend = Unicode(
        config=True,
        help="""Where spend comes from: 'kubecost' or 'opencost'; empty means the spend panel shows
        "not configured". Default: $JUPYTER_REMOTE_DEV_COST_BACKEND (set by the hub hooks).""",
    )
    cost_url = Unicode(
        config=True,
        help="""Base URL of the cost backend, without /allocation. Kubecost through its frontend:
        http://kubecost-cost-analyzer.kubecost:9090/model (the cost-model container directly:
        http://<pod>:9003); OpenCost: http://opencost.opencost:9003. Never shown with credentials.
        Default: $JUPYTER_REMOTE_DEV_COST_URL.""",
    )
    cost_label = Unicode(
        config=True,
        help="""The pod label the backend aggregates users by (the hub hooks put it on the user pod,
        its volumes and any Ray cluster started for the user). Sanitised the Prometheus way
        ('hub.jupyter.org/username' -> 'hub_jupyter_org_username') before it is sent.
        Default: $JUPYTER_REMOTE_DEV_COST_LABEL, else 'owner' (a label Kubecost maps by
        default).""",
    )
    cost_user = Unicode(
        config=True,
        help="""This server's value of cost_label: the escaped value the hub hooks labelled the pod
        with. The spend shown is always this user's, never one named by a request.
        Default: $JUPYTER_REMOTE_DEV_COST_USER.""",
    )
    cost_currency = Unicode(
        "USD",
        config=True,
        help="""ISO 4217 code of the backend's prices (the allocation API does not report it),
        used to format amounts in the panel.""",
    )
    cost_request_timeout = Float(
        10.0,
        config=True,
        help="Seconds a cost backend request may take in all; slower answers 504 with the reason.",
    )
    cost_cache_ttl = Float(
        300.0,
        config=True,
        help="""Seconds a spend report is served from memory. However many panels refresh at
        once, each window costs the backend one call per this period (Kubecost's ETL refreshes
        hourly).""",
    )
    cost_includes_ray = Bool(
        config=True,
        help="""Whether the reported spend includes the user's own Ray cluster (true when the hub
        started a per-user RayCluster carrying the user's cost label). Default: true when
        $JUPYTER_REMOTE_DEV_RAY_CLUSTER is set.""",
    )

    cost_hub_auth = Bool(
        config=True,
        help="""Send this server's JupyterHub API token ($JUPYTERHUB_API_TOKEN) to the cost backend
        as `Authorization: token ...`, for a backend behind the hub's authentication such as the
        local spend meter of hub_config/local_config.py. Never enable it for a backend outside the
        hub: it would receive the token. Default: true when $JUPYTER_REMOTE_DEV_COST_HUB_AUTH is
        1.""",
    )
    cost_estimate_note = Unicode(
        config=True,
        help="""A line the spend panel shows under the total, e.g. that the figures are a local
        estimate rather than a bill (GET cost answers it as `note`). Empty: no line.
        Default: $JUPYTER_REMOTE_DEV_COST_NOTE.""",
    )

    cost_budget_url = Unicode(
        config=True,
        help="""URL of the spend view's ``api/budget`` (``configure_spend_view(c, budgets=...)``
        sets it): GET cost/budget asks it for this server's user's budget with the server's own
        JupyterHub API token. Empty: no budget line.
        Default: $JUPYTER_REMOTE_DEV_COST_BUDGET_URL.""",
    )

    @default("cost_budget_url")
    def _cost_budget_url_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_COST_BUDGET_URL", "")

    @default("cost_backend")
    def _cost_backend_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_COST_BACKEND", "").strip().lower()

    @default("cost_url")
    def _cost_url_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_COST_URL", "")

    @default("cost_label")
    def _cost_label_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_COST_LABEL") or "owner"

    @default("cost_user")
    def _cost_user_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_COST_USER", "")

    @default("cost_includes_ray")
    def _cost_includes_ray_default(self):
        return bool(os.environ.get("JUPYTER_REMOTE_DEV_RAY_CLUSTER"))

    @default("cost_hub_auth")
    def _cost_hub_auth_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_COST_HUB_AUTH", "").strip().lower() in TRUE

    @default("cost_estimate_note")
    def _cost_estimate_note_default(self):
        return os.environ.get("JUPYTER_REMOTE_DEV_COST_NOTE", "").strip()

    @validate("cost_backend")
    def _cost_backend_lower(self, proposal):
        return proposal.value.strip().lower()

    _cost_positive = positive("cost_request_timeout", "cost_cache_ttl")

    def make_cost_service(self):
        """The cost area's owner, from these traits (the only place they are copied)."""
        from .service import CostService, CostServiceConfig

        hub_token = os.environ.get("JUPYTERHUB_API_TOKEN", "") if self.cost_hub_auth else ""
        return CostService(
            CostServiceConfig(
                backend=self.cost_backend,
                url=self.cost_url,
                label=self.cost_label,
                user=self.cost_user,
                currency=self.cost_currency,
                timeout=self.cost_request_timeout,
                ttl=self.cost_cache_ttl,
                includes_ray=self.cost_includes_ray,
                note=self.cost_estimate_note,
                hub_auth=self.cost_hub_auth,
                token=hub_token,
                budget_url=self.cost_budget_url,
                server_token=os.environ.get("JUPYTERHUB_API_TOKEN", ""),
            )
        )

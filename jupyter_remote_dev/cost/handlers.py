"""GET cost?window=...: this server's user's spend, from Kubecost or OpenCost."""

from __future__ import annotations

import os

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base.handlers import RemoteDevHandler, api_path
from .service import CostService, CostSettings, check_window

AUTH_RESOURCE = "remote_dev:cost"
SERVICE_KEY = "remote_dev_cost_service"


def cost_settings(app) -> CostSettings:
    """The cost settings of a RemoteDevExtension's traits."""
    return CostSettings(
        backend=app.cost_backend,
        url=app.cost_url,
        label=app.cost_label,
        user=app.cost_user,
        currency=app.cost_currency,
        timeout=app.cost_request_timeout,
        ttl=app.cost_cache_ttl,
        includes_ray=app.cost_includes_ray,
        note=app.cost_estimate_note,
        hub_auth=app.cost_hub_auth,
        token=os.environ.get("JUPYTERHUB_API_TOKEN", "") if app.cost_hub_auth else "",
    )


class CostHandler(RemoteDevHandler):
    """The user is the server's own (cost_user), never a request parameter."""

    auth_resource = AUTH_RESOURCE

    def _service(self, settings: CostSettings) -> CostService:
        """One service (and cache) per server, built on first use."""
        service = self.settings.get(SERVICE_KEY)
        if service is None or service.settings != settings:
            service = CostService(settings)
            self.settings[SERVICE_KEY] = service
        return service

    @web.authenticated
    @authorized
    async def get(self):
        window = self.get_query_argument("window", "7d")
        check_window(window)
        settings = cost_settings(self.remote_dev)
        problem = settings.problem()
        if problem:
            self.write_json({"configured": False, "message": problem})
            return
        self.write_json(await self._service(settings).report(window))


default_handlers = [(api_path("cost"), CostHandler)]

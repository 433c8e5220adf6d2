"""GET cost?window=...: this server's user's spend, from Kubecost or OpenCost; GET cost/budget:
their budget status, from the spend view."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..base.handlers import RemoteDevHandler, api_path

AUTH_RESOURCE = "remote_dev:cost"


class CostHandler(RemoteDevHandler):
    """The user is the server's own (cost_user), never a request parameter."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    async def get(self):
        window = self.get_query_argument("window", "7d")
        self.write_json(await self.cost_service.report(window))


class CostBudgetHandler(RemoteDevHandler):
    """The server's own user's budget, asked of the spend view with the server's own token."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    async def get(self):
        self.write_json(await self.cost_service.budget())


default_handlers = [(api_path("cost"), CostHandler), (api_path("cost/budget"), CostBudgetHandler)]

"""The service's HTTP face: OpenCost's ``GET allocation`` for the caller's own servers.

Authentication is the hub's: the caller sends a JupyterHub token of a user (a user server sends its
own API token; see ``cost_hub_auth``) and sees the allocations of that user's servers only, whatever
its ``filter`` says. No token: 401; a token the hub does not know, or a service's: 403.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from tornado import web

from .allocation import Ledger
from .windows import ParameterError

log = logging.getLogger(__name__)

#: token -> the hub's model of its owner (None when the hub does not know the token).
Identify = Callable[[str], Awaitable[dict | None]]


def bearer_token(header: str) -> str:
    """The token of an ``Authorization: token|bearer <t>`` header, or ""."""
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() in ("token", "bearer") else ""


class AllocationHandler(web.RequestHandler):
    """GET allocation (and allocation/compute, the same handler in OpenCost)."""

    def initialize(self, ledger: Ledger, identify: Identify):
        self.ledger = ledger
        self.identify = identify

    def _error(self, status: int, message: str) -> None:
        """OpenCost's WriteError envelope."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        body = {"code": status, "status": "", "data": None, "message": f"Error: {message}"}
        self.finish(json.dumps(body))

    async def get(self):
        token = bearer_token(self.request.headers.get("Authorization", ""))
        if not token:
            return self._error(401, "a JupyterHub token is required (Authorization: token ...)")
        try:
            owner = await self.identify(token)
        except Exception as error:  # the hub is down or answered garbage: not the caller's fault
            log.warning("cannot check a token with the hub: %s", error)
            return self._error(503, "the hub cannot check tokens right now")
        if not owner or owner.get("kind", "user") != "user" or not owner.get("name"):
            return self._error(403, "the token is not a JupyterHub user's token")
        params = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        try:
            query = self.ledger.parse(params, datetime.now(timezone.utc))
        except ParameterError as error:
            self.set_status(400)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            return self.finish(str(error) + "\n")
        sets = self.ledger.sets(query, user=owner["name"])
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"code": 200, "status": "success", "data": sets}))


def make_app(prefix: str, ledger: Ledger, identify: Identify) -> web.Application:
    """The application serving ``<prefix>allocation`` and ``<prefix>allocation/compute``."""
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    kwargs = {"ledger": ledger, "identify": identify}
    return web.Application(
        [(prefix + r"allocation(?:/compute)?/?", AllocationHandler, kwargs)],
        log_function=lambda handler: None,
    )

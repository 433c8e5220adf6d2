"""The service's HTTP face: OpenCost's ``GET allocation`` for the caller's own servers.

Authentication is the hub's: the caller sends a JupyterHub token of a user (a user server sends its
own API token; see ``cost_hub_auth``) and sees the allocations of that user's servers only, whatever
its ``filter`` says (and whatever scopes the user holds). A service's token carrying the spend
view's scope, unfiltered (the team and admin spend view's own token), sees every user's servers.
No token: 401; a token the hub does not know, or another service's: 403.

``includeIdle`` is accepted and answers no ``__idle__``: the meter prices what servers use, and
this machine is not billed by the hour.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from tornado import web

from ..spend_view.access import SPEND_SCOPE
from .allocation import Ledger
from .windows import ParameterError

log = logging.getLogger(__name__)

#: token -> the hub's model of its owner (None when the hub does not know the token).
Identify = Callable[[str], Awaitable[dict | None]]
NOR_VIEW = f"nor a service's holding {SPEND_SCOPE}"


def readable_user(owner: dict | None) -> tuple[bool, str | None]:
    """(allowed, whose servers) for a token's owner: a user reads their own, the spend view all."""
    if not owner or not owner.get("name"):
        return False, None
    if owner.get("kind", "user") == "user":
        return True, owner["name"]
    if owner.get("kind") == "service" and SPEND_SCOPE in (owner.get("scopes") or []):
        return True, None
    return False, None


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
        allowed, user = readable_user(owner)
        if not allowed:
            return self._error(403, f"the token is not a JupyterHub user's token, {NOR_VIEW}")
        params = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        try:
            query = self.ledger.parse(params, datetime.now(timezone.utc))
        except ParameterError as error:
            self.set_status(400)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            return self.finish(str(error) + "\n")
        sets = self.ledger.sets(query, user=user)
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

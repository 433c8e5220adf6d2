"""Why did a hub user server refuse a request: a stopped server, or a bad token?

A stopped server's URLs reach the hub, whose answers (a redirect, 424, 503, ``403 '_xsrf'
argument missing from POST``) do not say which. The hub API does: ``GET /hub/api/user`` (whoami)
refuses a bad token, and ``GET /hub/api/users/<name>`` lists the servers that run.
"""

from __future__ import annotations

import httpx

from .api import AuthError, ClientError, HubClient, ServerNotRunning, _message_of
from .profiles import HubTarget

#: Answers a hub gives for a stopped server's URLs (401 for hubs that ask to log in).
SUSPECT_STATUS = {401, 403, 424, 503}


def may_be_stopped(response: httpx.Response, hub: HubTarget) -> bool:
    """Whether ``response`` may come from the hub standing in for a stopped server."""
    status = response.status_code
    if status in SUSPECT_STATUS:
        return True
    if response.is_redirect and "/hub/" in response.headers.get("Location", ""):
        return True
    # a stopped named server's URL is routed to the user's default server: a bare 404
    return status == 404 and bool(hub.server_name) and _message_of(response) in ("", "Not Found")


def server_label(hub: HubTarget) -> str:
    return hub.user + (f"/{hub.server_name}" if hub.server_name else "")


def explain(response: httpx.Response, hub: HubTarget, token: str, verify: bool | str) -> None:
    """Raise AuthError (the hub refuses the token, or it is another user's) or ServerNotRunning
    (the server is stopped, starting or stopping); return if the hub cannot tell."""
    client = HubClient(hub, token, verify)
    try:
        try:
            me = client.whoami()
        except AuthError as e:
            raise AuthError(
                f"the token was refused by the hub (HTTP {e.status}): it is invalid, expired or "
                "revoked; make a new one on the hub's token page and log in again",
                e.status,
            ) from e
        if me.get("name") != hub.user:
            raise AuthError(
                f"this token belongs to {me.get('kind', 'user')} {me.get('name')!r}, not to "
                f"{hub.user!r} whose server this profile uses; log in with a token of {hub.user!r}",
                response.status_code,
            )
        try:
            server = client.server()
        except ClientError:
            return  # the token may not read its own user model: report the answer as it is
    finally:
        client.close()
    if server and server.get("ready"):
        return
    pending = (server or {}).get("pending")
    doing = {"spawn": "is starting", "stop": "is stopping"}.get(pending or "", "is not running")
    raise ServerNotRunning(f"the server {server_label(hub)} {doing}", response.status_code)

"""The hub side of a hub profile: the JupyterHub REST API the CLI needs (whoami, the user's
servers, start one and follow its progress), and why a user server refused a request: a stopped
server, or a bad token?

A stopped server's URLs reach the hub, whose answers (a redirect, 424, 503, ``403 '_xsrf'
argument missing from POST``) do not say which. The hub API does: ``GET /hub/api/user`` (whoami)
refuses a bad token, and ``GET /hub/api/users/<name>`` lists the servers that run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from .errors import AuthError, ClientError, ServerNotRunning
from .profiles import HubTarget
from .transport import client_tls, message_of, raise_for_status, transport_error

#: Answers a hub gives for a stopped server's URLs (401 for hubs that ask to log in).
SUSPECT_STATUS = {401, 403, 424, 503}


class HubClient:
    """The parts of the JupyterHub REST API the CLI needs, with the same token."""

    def __init__(self, target: HubTarget, token: str, verify: bool | str = True):
        self.target = target
        context = client_tls(target.hub_api_url, verify)
        self.http = httpx.Client(
            base_url=target.hub_api_url,
            headers={"Authorization": f"token {token}"},
            verify=context,
            timeout=httpx.Timeout(30.0, connect=15.0),
            transport=httpx.HTTPTransport(retries=2, verify=context),
            follow_redirects=False,  # every request stays at the hub's origin (client_tls)
        )

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as e:
            raise transport_error(e, self.target.hub_api_url) from e
        if response.status_code == 404 and path == "user":
            raise ClientError(
                f"no JupyterHub API at {self.target.hub_api_url}: is this a JupyterHub URL?", 404
            )
        raise_for_status(response)
        return response

    def whoami(self) -> dict[str, Any]:
        """GET /hub/api/user: the token's owner (``name``, ``kind``, ``scopes``)."""
        return self._call("GET", "user").json()

    def server(self) -> dict[str, Any] | None:
        """The target (default or named) server's model, or None when it is not running.

        The hub lists a server while it runs, starts or stops (``ready``, ``pending``)."""
        user = self._call("GET", f"users/{quote(self.target.user, safe='')}").json()
        return (user.get("servers") or {}).get(self.target.server_name)

    def server_names(self) -> set[str]:
        """The names of the user's servers, stopped ones included ("" is the default)."""
        user_path = f"users/{quote(self.target.user, safe='')}"
        user = self._call("GET", user_path, params={"include_stopped_servers": "1"}).json()
        return set(user.get("servers") or {}) | {""}

    def _server_path(self) -> str:
        user = quote(self.target.user, safe="")
        if self.target.server_name:
            return f"users/{user}/servers/{quote(self.target.server_name, safe='')}"
        return f"users/{user}/server"

    def start_server(self) -> bool:
        """POST the spawn request; True if the server was already running (hub answers 400).

        A spawn already under way ("is pending spawn") is followed like a new one."""
        try:
            response = self.http.post(self._server_path())
        except httpx.TransportError as e:
            raise transport_error(e, self.target.hub_api_url) from e
        if response.status_code == 400 and "already running" in message_of(response):
            return True
        if response.status_code == 400 and "pending spawn" in message_of(response):
            return False
        raise_for_status(response)
        return False

    def follow_progress(self, on_event: Callable[[dict], None], timeout: float = 600.0) -> None:
        """Follow the hub's spawn progress event stream until ready; raise if the spawn failed."""
        path = self._server_path() + "/progress"
        deadline = time.monotonic() + timeout
        try:
            with self.http.stream("GET", path, timeout=httpx.Timeout(timeout)) as response:
                if response.status_code >= 300:
                    response.read()
                    raise_for_status(response)
                for line in response.iter_lines():
                    if time.monotonic() > deadline:
                        raise ClientError(f"the server did not start within {timeout:.0f} s")
                    if not line.startswith("data:"):
                        continue
                    event = json.loads(line[5:])
                    on_event(event)
                    if event.get("failed"):
                        raise ClientError(
                            f"the hub could not start the server: {event.get('message')}"
                        )
                    if event.get("ready"):
                        return
        except httpx.TransportError as e:
            raise transport_error(e, self.target.hub_api_url) from e
        raise ClientError("the hub's progress stream ended before the server was ready")


def may_be_stopped(response: httpx.Response, hub: HubTarget) -> bool:
    """Whether ``response`` may come from the hub standing in for a stopped server."""
    status = response.status_code
    if status in SUSPECT_STATUS:
        return True
    if response.is_redirect and "/hub/" in response.headers.get("Location", ""):
        return True
    # a stopped named server's URL is routed to the user's default server: a bare 404
    return status == 404 and bool(hub.server_name) and message_of(response) in ("", "Not Found")


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

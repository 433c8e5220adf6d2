"""One httpx client for a profile's server: its remote-dev API.

Every failure people are likely to meet becomes a :class:`~.errors.ClientError` with one clear line
(:mod:`.transport`); a hub profile's refused request is explained by asking the hub (:mod:`.hub`).
Connections are kept alive; only idempotent requests are retried.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

from .. import __version__
from . import hub
from .errors import ClientError
from .profiles import Profile
from .transport import API_PREFIX, client_tls, is_tls_error, raise_for_status, transport_error

RETRY_DELAYS = (0.25, 0.75, 2.0)
TRANSIENT_STATUS = {502, 503, 504}


class RemoteDevClient:
    """The remote-dev REST API of one server, through one keep-alive httpx session."""

    def __init__(self, profile: Profile, timeout: float = 60.0):
        self.profile = profile
        self.hub = profile.hub
        headers = {
            "Authorization": f"token {profile.token}",
            "User-Agent": f"jupyter-remote-dev/{__version__}",
        }
        verify = client_tls(profile.url, profile.verify)
        self.http = httpx.Client(
            base_url=profile.url,
            headers=headers,
            verify=verify,
            timeout=httpx.Timeout(timeout, connect=15.0),
            # Connection failures happen before a byte is sent, so retrying them is always safe.
            transport=httpx.HTTPTransport(retries=2, verify=verify),
            follow_redirects=False,  # every request stays at the profile's origin (client_tls)
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RemoteDevClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def api_url(path: str = "") -> str:
        """The URL (relative to the server) of ``remote-dev/api/<path>``, path segments quoted."""
        return API_PREFIX + quote(path, safe="/")

    def request(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool = False,
        budget: float | None = None,
        **kwargs,
    ) -> httpx.Response:
        """Send one request; raise ClientError on failure; retry transient errors if idempotent.

        ``budget``: the most seconds all attempts together may take (each one's timeout)."""
        delays = RETRY_DELAYS if idempotent else ()
        end = None if budget is None else time.monotonic() + budget

        def may_retry(attempt: int) -> bool:
            if attempt >= len(delays):
                return False
            return end is None or time.monotonic() + delays[attempt] < end

        for attempt in range(len(delays) + 1):
            if end is not None:
                kwargs["timeout"] = max(end - time.monotonic(), 0.1)
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as e:
                refused = end is not None and isinstance(e, httpx.ConnectError)  # the transport
                if may_retry(attempt) and not is_tls_error(e) and not refused:  # retried it
                    time.sleep(delays[attempt])
                    continue
                raise transport_error(e, str(self.http.base_url.join(url))) from e
            if response.status_code in TRANSIENT_STATUS and may_retry(attempt):
                if not (self.hub and response.status_code == 503):
                    time.sleep(delays[attempt])
                    continue
            self.check(response)
            return response
        raise AssertionError("unreachable")

    @contextmanager
    def stream(self, method: str, url: str, **kwargs) -> Iterator[httpx.Response]:
        """A streamed response (status already checked); transport errors become ClientError."""
        try:
            with self.http.stream(method, url, **kwargs) as response:
                if response.status_code >= 300:
                    response.read()
                    self.check(response)
                yield response
        except httpx.TransportError as e:
            raise transport_error(e, str(self.http.base_url.join(url))) from e

    def check(self, response: httpx.Response) -> None:
        """raise_for_status, after asking the hub about a hub profile's refused request.

        When a user server is stopped (by the idle culler, say), the proxy routes its URLs to
        the hub, which answers with its own pages: a redirect to ``/hub/user/...``, 424, 503,
        or for a POST ``403 '_xsrf' argument missing``; a stopped named server's URL reaches
        the default server, which answers 404. None of these says why, so the hub is asked:
        whoami (is the token good?) and the server's state (:func:`.hub.explain`)."""
        if self.hub is not None and hub.may_be_stopped(response, self.hub):
            hub.explain(response, self.hub, self.profile.token, self.profile.verify)
        raise_for_status(response, self.hub)

    def info(self, timeout: float | None = None) -> dict[str, Any]:
        """GET info: version, features, limits (within ``timeout`` seconds, retries included)."""
        response = self.request("GET", self.api_url("info"), idempotent=True, budget=timeout)
        try:
            info = response.json()
        except ValueError:
            info = None
        if not isinstance(info, dict) or "version" not in info:
            kind = response.headers.get("content-type", "?").split(";")[0]
            raise ClientError(
                f"no remote-dev API at {response.request.url} (it answered {kind}, not the API's "
                "JSON): give the server's base URL, or install jupyter-remote-dev on it"
            )
        return info

    def tree(self, path: str = "") -> dict[str, Any]:
        """GET tree/<path>: the remote manifest ``{"root", "files": [...]}``."""
        url = self.api_url(f"tree/{path}" if path else "tree")
        return self.request("GET", url, idempotent=True).json()

    def head_file(self, path: str) -> tuple[str, int, int | None] | None:
        """(sha256, size, mode) of a server file from ``HEAD files/<path>`` (mode None from a server
        that does not send ``X-File-Mode``); None if it does not exist."""
        url = self.api_url(f"files/{path}")
        for delay in (*RETRY_DELAYS, None):
            try:
                response = self.http.head(url)
            except httpx.TransportError as e:
                if delay is None or is_tls_error(e):
                    raise transport_error(e, str(self.http.base_url.join(url))) from e
                time.sleep(delay)
                continue
            if response.status_code == 404:
                return None
            self.check(response)
            etag = response.headers.get("ETag", "").strip('"')
            mode = response.headers.get("X-File-Mode")
            size = int(response.headers.get("Content-Length", "0"))
            return etag, size, int(mode, 8) if mode else None
        raise AssertionError("unreachable")

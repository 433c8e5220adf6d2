"""One httpx client for a profile: the server's remote-dev API and, for hub profiles, the hub API.

Every failure people are likely to meet becomes a :class:`ClientError` with one clear line: a wrong
URL, a refused token, a stopped server (with the hub API to start it), an ingress body limit, a TLS
problem. Connections are kept alive; only idempotent requests are retried.
"""

from __future__ import annotations

import functools
import json
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from .. import __version__
from .profiles import HubTarget, Profile

API_PREFIX = "remote-dev/api/"
RETRY_DELAYS = (0.25, 0.75, 2.0)
TRANSIENT_STATUS = {502, 503, 504}
PLAIN_HTTP_PROBE_TIMEOUT = 1.0
#: What OpenSSL says when a TLS handshake gets a plain HTTP answer (1.1/3.0, 3.2+ wordings).
PLAIN_HTTP_SIGNS = (
    "WRONG_VERSION_NUMBER",
    "wrong version number",
    "record layer failure",
    "http request",
)


class ClientError(Exception):
    """A failure with a one-line, user-facing message; ``exit_code`` for the CLI."""

    exit_code = 1

    def __init__(self, message: str, status: int | None = None, answer: dict | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.answer = answer or {}
        """The server's JSON error answer (``message``, ``reason``), when it gave one."""


class AuthError(ClientError):
    """The token was refused (invalid, expired, or not allowed here)."""


class ServerNotRunning(ClientError):
    """The hub answered for the user server: it is not running."""


class NotFoundError(ClientError):
    """The file or folder does not exist on the server."""


class PreconditionFailed(ClientError):
    """If-Match / If-None-Match did not hold: the remote file changed."""


def _message_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("reason") or "")
    return ""


def _answer_of(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _is_tls_error(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _speaks_plain_http(error: httpx.TransportError, url: str) -> bool:
    """Whether an https ``url`` that failed below HTTP is a plain HTTP server: OpenSSL says so,
    or the TLS handshake got no answer (a server waiting for a request line) but plain HTTP on
    the same port does."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return False
    if _is_tls_error(error) and any(sign in str(error) for sign in PLAIN_HTTP_SIGNS):
        return True
    if not isinstance(error, (httpx.ConnectTimeout, httpx.ReadTimeout, httpx.RemoteProtocolError)):
        return False
    try:
        httpx.get(f"http://{parts.netloc}/", timeout=PLAIN_HTTP_PROBE_TIMEOUT)
    except httpx.HTTPError:
        return False
    return True


def transport_error(error: httpx.TransportError, url: str) -> ClientError:
    """A ClientError naming what went wrong below HTTP while talking to ``url``."""
    host = urlsplit(url).netloc or url
    if _speaks_plain_http(error, url):
        return ClientError(
            f"the server speaks plain HTTP, not HTTPS, at {host}: log in with its http:// URL "
            "(or put TLS in front of it)"
        )
    if _is_tls_error(error):
        return ClientError(
            f"TLS error talking to {host}: {error}. If the server uses a private CA, log in again "
            "with --ca-bundle PATH"
        )
    if isinstance(error, httpx.TimeoutException):
        return ClientError(f"timed out talking to {host}; is the server overloaded or unreachable?")
    if isinstance(error, httpx.ConnectError):
        return ClientError(f"cannot connect to {host} ({error}); check the URL and that it is up")
    return ClientError(f"the connection to {host} dropped ({type(error).__name__}: {error})")


def raise_for_status(response: httpx.Response, hub: HubTarget | None = None) -> None:
    """Raise the ClientError that explains an unsuccessful ``response``."""
    status = response.status_code
    if status < 400 and status not in (301, 302, 303, 307, 308):
        return
    url = str(response.request.url)
    message = _message_of(response)
    if status in (301, 302, 303, 307, 308):
        target = response.headers.get("Location", "?")
        raise ClientError(
            f"{url} redirected to {target}: that is not a Jupyter server API URL (for JupyterHub "
            "use the user-server URL, e.g. https://hub.example.com/user/alice/)",
            status,
        )
    if status in (401, 403):
        if message and message.lower() not in ("forbidden", "unauthorized"):
            raise AuthError(f"forbidden ({status}): {message}", status)
        raise AuthError(
            f"the token was refused by {url} (HTTP {status}): it is invalid, expired, or not "
            "allowed to use this server",
            status,
        )
    if (
        hub is not None
        and status in (424, 503)
        and "json" in response.headers.get("content-type", "")
    ):
        name = hub.user + (f"/{hub.server_name}" if hub.server_name else "")
        raise ServerNotRunning(f"the server {name} is not running", status)
    if status == 413:
        if message:
            raise ClientError(
                f"too large for the server: {message} (RemoteDevExtension.max_upload_size)", status
            )
        server = response.headers.get("server", "a proxy")
        raise ClientError(
            f"request body refused as too large (HTTP 413) by {server} in front of the server: "
            "raise the ingress body limit (nginx ingress: the "
            "nginx.ingress.kubernetes.io/proxy-body-size annotation, or proxy-body-size in its "
            "ConfigMap)",
            status,
        )
    if status == 412:
        raise PreconditionFailed(message or "the remote file changed (HTTP 412)", status)
    if status == 404:
        if API_PREFIX in url and (not message or message.lower() == "not found"):
            raise ClientError(
                f"no remote-dev API at {url} (HTTP 404): wrong URL, or jupyter-remote-dev is not "
                "installed on that server",
                status,
            )
        raise NotFoundError(message or f"not found: {url}", status)
    raise ClientError(
        f"HTTP {status} from {url}: {message or response.reason_phrase}",
        status,
        _answer_of(response),
    )


@functools.lru_cache(maxsize=4)
def tls_context(verify: bool | str) -> ssl.SSLContext | bool:
    """One TLS context per setting, shared by every client of the process.

    ``True``: the system's trust store (OpenSSL honours ``SSL_CERT_FILE``/``SSL_CERT_DIR``);
    a path: that CA bundle; ``False``: no verification (``login --insecure``). Building it once
    matters: httpx would otherwise load the CA bundle for each client and transport."""
    if verify is False:
        return False
    return ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)


class RemoteDevClient:
    """The remote-dev REST API of one server, through one keep-alive httpx session."""

    def __init__(self, profile: Profile, timeout: float = 60.0):
        self.profile = profile
        self.hub = profile.hub
        headers = {
            "Authorization": f"token {profile.token}",
            "User-Agent": f"jupyter-remote-dev/{__version__}",
        }
        verify = tls_context(profile.verify)
        self.http = httpx.Client(
            base_url=profile.url,
            headers=headers,
            verify=verify,
            timeout=httpx.Timeout(timeout, connect=15.0),
            # Connection failures happen before a byte is sent, so retrying them is always safe.
            transport=httpx.HTTPTransport(retries=2, verify=verify),
            follow_redirects=False,
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
                if may_retry(attempt) and not _is_tls_error(e) and not refused:  # retried it
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
        whoami (is the token good?) and the server's state (:mod:`.hubstate`)."""
        from . import hubstate  # it builds on this module's errors and HubClient

        if self.hub is not None and hubstate.may_be_stopped(response, self.hub):
            hubstate.explain(response, self.hub, self.profile.token, self.profile.verify)
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
                if delay is None or _is_tls_error(e):
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


class HubClient:
    """The parts of the JupyterHub REST API the CLI needs, with the same token."""

    def __init__(self, target: HubTarget, token: str, verify: bool | str = True):
        self.target = target
        context = tls_context(verify)
        self.http = httpx.Client(
            base_url=target.hub_api_url,
            headers={"Authorization": f"token {token}"},
            verify=context,
            timeout=httpx.Timeout(30.0, connect=15.0),
            transport=httpx.HTTPTransport(retries=2, verify=context),
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
        if response.status_code == 400 and "already running" in _message_of(response):
            return True
        if response.status_code == 400 and "pending spawn" in _message_of(response):
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

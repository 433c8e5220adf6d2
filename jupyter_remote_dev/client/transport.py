"""What the server client and the hub client share below their APIs: one TLS context per
setting (no CA bundle loaded for a plain-HTTP URL), and the :class:`~.errors.ClientError` that
explains a failed answer or connection (a wrong URL, a refused token, a stopped server, an ingress
body limit, a TLS problem).
"""

from __future__ import annotations

import functools
import ssl
from urllib.parse import urlsplit

import httpx

from .errors import AuthError, ClientError, NotFoundError, PreconditionFailed, ServerNotRunning
from .profiles import HubTarget

API_PREFIX = "remote-dev/api/"
PLAIN_HTTP_PROBE_TIMEOUT = 1.0
#: What OpenSSL says when a TLS handshake gets a plain HTTP answer (1.1/3.0, 3.2+ wordings).
PLAIN_HTTP_SIGNS = (
    "WRONG_VERSION_NUMBER",
    "wrong version number",
    "record layer failure",
    "http request",
)


def message_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("reason") or "")
    return ""


def answer_of(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def is_tls_error(error: BaseException) -> bool:
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
    if is_tls_error(error) and any(sign in str(error) for sign in PLAIN_HTTP_SIGNS):
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
    if is_tls_error(error):
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
    message = message_of(response)
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
        answer_of(response),
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


def client_tls(url: str, verify: bool | str) -> ssl.SSLContext | bool:
    """The TLS setting of a client whose requests all go to ``url``'s origin (our clients follow
    no redirects): :func:`tls_context` for https; for plain http a context that trusts no
    certificate, which loads no CA bundle (tens of ms at start-up) and would refuse, never let
    through, any https connection."""
    if urlsplit(url).scheme == "http":
        return _trusts_nothing()
    return tls_context(verify)


@functools.cache
def _trusts_nothing() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificates, and knows no CA

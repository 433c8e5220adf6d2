"""Helpers shared by the files/tree/batch/uploads tests: a raw-URL client, tree snapshots, raw
requests and tar bodies for POST batch."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from .openapi_check import assert_response_matches


def spec_path(path: str) -> str:
    """``path`` as one URL segment, the way the OpenAPI template ``{path}`` can match it."""
    return quote(path, safe="")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder`` (file contents, None for folders), to compare before/after."""
    found: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames:
            found[os.path.relpath(os.path.join(dirpath, name), folder)] = None
        for name in filenames:
            path = os.path.join(dirpath, name)
            found[os.path.relpath(path, folder)] = (
                Path(path).read_bytes() if not os.path.islink(path) else b"->link"
            )
    return found


@dataclass
class Api:
    """Requests to ``remote-dev/api/`` with the path sent exactly as given (no normalisation)."""

    base: str
    token: str
    port: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def url(self, raw_path: str) -> str:
        return f"{self.base}remote-dev/api/{raw_path}"

    async def request(
        self, method: str, raw_path: str, body: bytes | None = None, headers=None, **kwargs
    ) -> HTTPResponse:
        """Send ``method`` to the raw (already URL-encoded) API path; never raises on a status."""
        if body is None and method in ("PUT", "POST") and "body_producer" not in kwargs:
            body = b""
        return await AsyncHTTPClient().fetch(
            self.url(raw_path),
            method=method,
            body=body,
            headers={**self.headers, **(headers or {})},
            raise_error=False,
            allow_nonstandard_methods=True,
            request_timeout=600,
            **kwargs,
        )

    async def put(self, path: str, body: bytes, headers=None) -> HTTPResponse:
        return await self.request("PUT", f"files/{quote(path)}", body, headers)

    async def get(self, path: str, headers=None) -> HTTPResponse:
        return await self.request("GET", f"files/{quote(path)}", headers=headers)


def connect(serverapp, port: int, base_url: str) -> Api:
    """A client for our API on the pytest-jupyter server (needs the http_server_client fixture)."""
    return Api(f"http://127.0.0.1:{port}{base_url}", serverapp.identity_provider.token, port)


def temp_litter(root) -> list[str]:
    return [str(p) for p in root.rglob(".~remote-dev-*")]


def raw_request(port: int, head: str, body: bytes = b"", wait: float = 5.0) -> tuple[bytes, float]:
    """Send a raw HTTP request; return what the server answered and how long it took."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.monotonic()
        sock.sendall(head.encode() + body)
        sock.settimeout(wait)
        reply = b""
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return reply, time.monotonic() - started


def request_head(api, method: str, path: str, headers: dict[str, str]) -> str:
    target = api.url(path).split(f":{api.port}", 1)[1]
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{api.port}"]
    lines += [f"{k}: {v}" for k, v in {**api.headers, **headers}.items()]
    return "\r\n".join(lines) + "\r\n\r\n"


TAR = {"Content-Type": "application/x-tar"}


def make_tar(members: dict[str, bytes], pax: dict[str, dict] | None = None, mode="w", perm=0o644):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode, format=tarfile.PAX_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), perm
            info.pax_headers = (pax or {}).get(name, {})
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


async def post(api, body: bytes, query: str = "", headers=TAR):
    response = await api.request("POST", f"batch{query}", body, headers)
    if response.code == 200:
        assert_response_matches(response, "POST", f"/batch{query}", body, "application/x-tar")
    return response

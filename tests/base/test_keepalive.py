"""Answers sent before the request body was read say ``Connection: close``, so a keep-alive client
opens a new connection for its next request instead of sending it into one the server closes.
(Through the hub's proxy, for the hub services too: tests/e2e/test_e2e_team_git.py.)"""

from __future__ import annotations

import importlib
from pathlib import Path

import httpx
import pytest
from tornado import web

import jupyter_remote_dev
from jupyter_remote_dev.base.streaming import ClosesUnreadBodyMixin

LIMIT = 1024


@pytest.fixture
def remote_dev_config():
    return {"max_upload_size": LIMIT}


@pytest.fixture
def client(http_server, jp_http_port, jp_base_url, jp_auth_header, jp_asyncio_loop):
    """One httpx client holding at most one keep-alive connection to the test server."""
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}remote-dev/api/"
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    client = httpx.AsyncClient(
        base_url=base,
        headers=jp_auth_header,
        limits=limits,
        timeout=30,
        event_hooks={"response": [_note_port]},
    )
    yield client
    jp_asyncio_loop.run_until_complete(client.aclose())


async def _note_port(response: httpx.Response) -> None:
    """Record the client-side port of the connection while it is open (a response hook)."""
    stream = response.extensions["network_stream"]
    response.extensions["client_port"] = stream.get_extra_info("client_addr")[1]


def local_port(response: httpx.Response) -> int:
    """The client-side port of the connection that carried ``response``."""
    return response.extensions["client_port"]


def _chunks(size: int):
    async def body():
        for _ in range(size // 512):
            yield b"x" * 512

    return body()


REFUSALS = [
    ("PUT", "files/.git/config", {}, b"secret", 403),
    ("PUT", "files/x.txt", {"Authorization": ""}, b"data", 403),
    ("PUT", "files/big.bin", {}, b"x" * (4 * LIMIT), 413),
    ("PUT", "files/exists.txt", {"If-None-Match": "*"}, b"data", 412),
    ("PUT", "uploads/" + "0" * 32, {"Content-Range": "bytes 0-3/4"}, b"data", 404),
    ("POST", "batch", {"Content-Type": "text/plain"}, b"not a tar", 415),
    ("PUT", "ray/package", {"Content-Type": "application/zip"}, b"PK\x05\x06" + bytes(18), 409),
]


@pytest.mark.parametrize(
    "method, path, headers, body, status", REFUSALS, ids=[r[1] + str(r[4]) for r in REFUSALS]
)
async def test_keepalive_refused_body_closes_the_connection_cleanly(
    client, jp_root_dir, method, path, headers, body, status
):
    """A refusal before the body is read carries Connection: close; the client's next requests
    on its single pooled connection all succeed (no reset, no ReadError)."""
    (jp_root_dir / "exists.txt").write_text("here")
    assert (await client.get("info")).status_code == 200  # the connection is now pooled
    response = await client.request(method, path, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert "message" in response.json()
    assert response.headers.get("Connection") == "close"
    following = [await client.get("info") for _ in range(3)]
    assert [answer.status_code for answer in following] == [200, 200, 200]
    assert local_port(following[0]) != local_port(response)  # a new connection
    assert local_port(following[2]) == local_port(following[0])  # which stays alive


async def test_keepalive_refused_mid_body_closes_the_connection(client):
    """A chunked body cut off past the limit: 413 with Connection: close, or (when the client
    is still sending as the server closes) a reset of that request; never of the next one."""
    assert (await client.get("info")).status_code == 200
    try:
        response = await client.put("files/chunked.bin", content=_chunks(64 * LIMIT))
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        pass  # the kernel's reset can beat the 413 to the client; the connection is dropped
    else:
        assert response.status_code == 413
        assert response.headers.get("Connection") == "close"
    for _ in range(3):
        assert (await client.get("info")).status_code == 200


async def test_keepalive_answers_after_the_body_keep_the_connection(client):
    """A refusal decided after the body was read (a bad sha256) keeps the connection alive."""
    response = await client.put(
        "files/a.txt", content=b"data", headers={"X-Content-SHA256": "0" * 64}
    )
    assert response.status_code == 400
    assert response.headers.get("Connection") != "close"
    assert (await client.get("info")).status_code == 200


def test_keepalive_every_streamed_handler_closes_on_an_early_answer():
    """Every ``@stream_request_body`` handler of the package (user server and hub services) uses
    the one mechanism; handlers without it get their body read by tornado before any answer."""
    package = Path(jupyter_remote_dev.__file__).parent
    streamed = []
    for source in sorted(package.rglob("*.py")):
        if "@web.stream_request_body" not in source.read_text():
            continue
        name = ".".join(source.relative_to(package.parent).with_suffix("").parts)
        module = importlib.import_module(name)
        streamed += [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, web.RequestHandler)
            and value.__module__ == name
            and value._stream_request_body
        ]
    names = {f"{handler.__module__}.{handler.__name__}" for handler in streamed}
    assert "jupyter_remote_dev.services.git_remote.app.GitHandler" in names
    assert "jupyter_remote_dev.files.handlers.FileHandler" in names
    assert [h.__name__ for h in streamed if not issubclass(h, ClosesUnreadBodyMixin)] == []

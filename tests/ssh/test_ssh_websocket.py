"""The WebSocket itself: the server pings it (ingress idle timeouts), and it carries bytes only."""

from __future__ import annotations

import asyncio
import json

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect


@pytest.fixture
def remote_dev_config():
    return {"ssh_ping_interval": 0.2}


async def test_server_pings_and_the_ssh_banner_comes_first(server_url, token, monkeypatch):
    pings = []
    monkeypatch.setattr(WebSocketClientConnection, "on_ping", lambda self, data: pings.append(data))
    url = "ws" + server_url[4:] + "remote-dev/ssh"
    conn = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
    banner = await asyncio.wait_for(conn.read_message(), 10)
    assert isinstance(banner, bytes) and banner.startswith(b"SSH-2.0-")
    await asyncio.sleep(1.0)
    assert len(pings) >= 2  # every 0.2 s, so a quiet session is never idle to a proxy
    conn.write_message("text is not SSH")
    assert await asyncio.wait_for(conn.read_message(), 10) is None  # closed
    assert conn.close_code == 1003


class TestSshTurnedOff:
    @pytest.fixture
    def remote_dev_config(self):
        return {"allow_ssh": False}

    async def test_endpoints_answer_404_naming_the_setting(self, jp_fetch, server_url, token):
        for path in (("ssh", "host-key"), ("ssh", "keys")):
            with pytest.raises(HTTPClientError) as refused:
                await jp_fetch("remote-dev", "api", *path)
            assert refused.value.code == 404
            assert "allow_ssh" in json.loads(refused.value.response.body)["message"]
        url = "ws" + server_url[4:] + "remote-dev/ssh"
        with pytest.raises(HTTPClientError) as refused:
            await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
        assert refused.value.code == 404

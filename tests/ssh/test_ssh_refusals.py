"""What is refused: no or a wrong token on the WebSocket, an unregistered key, a password, a host
key that is not the pinned one, bad keys on the API. Each refusal runs nothing."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from .ssh_support import HOST, run, ssh_setup

MARKER = "ran-it"
TOUCH = f"touch {MARKER}"


@pytest.mark.parametrize("header", [None, "token wrong-token"])
async def test_websocket_refuses_no_or_wrong_token(server_url, header):
    headers = {"Authorization": header} if header else {}
    url = "ws" + server_url[4:] + "remote-dev/ssh"
    with pytest.raises(HTTPClientError) as refused:
        await websocket_connect(HTTPRequest(url, headers=headers))
    assert refused.value.code == 403


async def test_wrong_token_in_the_profile_runs_nothing(laptop, server_url, token, jp_root_dir):
    laptop = await ssh_setup(laptop, server_url, token)
    profiles = laptop.home / ".jupyter" / "remote_dev_profiles.json"
    saved = json.loads(profiles.read_text())
    saved["profiles"]["default"]["token"] = "not-the-token"
    profiles.write_text(json.dumps(saved))
    result = await laptop.ssh(HOST, TOUCH)
    assert result.returncode == 255
    assert b"jupyter remote-dev: error: " in result.stderr and b"refused" in result.stderr
    assert b"not-the-token" not in result.stderr
    assert not (jp_root_dir / MARKER).exists()


async def test_unregistered_key_and_password_are_refused(laptop, server_url, token, jp_root_dir):
    laptop = await ssh_setup(laptop, server_url, token)
    password = await laptop.ssh(
        "-o", "BatchMode=yes", "-o", "PasswordAuthentication=yes",
        "-o", "PreferredAuthentications=password,keyboard-interactive", HOST, TOUCH,
    )  # fmt: skip
    assert password.returncode == 255
    assert b"Permission denied (publickey)" in password.stderr  # nothing else is offered
    key = laptop.home / ".jupyter" / "remote_dev_ssh" / "default_ed25519"
    key.unlink()
    Path(f"{key}.pub").unlink()
    made = await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], laptop.env)
    assert made.returncode == 0, made.stderr
    other_key = await laptop.ssh("-o", "BatchMode=yes", HOST, TOUCH)
    assert other_key.returncode == 255
    assert b"Permission denied (publickey)" in other_key.stderr
    assert not (jp_root_dir / MARKER).exists()


async def test_a_host_key_other_than_the_pinned_one_is_refused(
    laptop, server_url, token, jp_root_dir, jp_fetch
):
    laptop = await ssh_setup(laptop, server_url, token)
    known_hosts = laptop.home / ".jupyter" / "remote_dev_ssh" / "known_hosts"
    served = json.loads((await jp_fetch("remote-dev", "api", "ssh", "host-key")).body)
    assert known_hosts.read_text() == f"{HOST} {served['host_key']}\n"  # from the API, no TOFU
    keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(laptop.home / "k")]
    made = await run(keygen, laptop.env)
    assert made.returncode == 0
    known_hosts.write_text(f"{HOST} {' '.join((laptop.home / 'k.pub').read_text().split()[:2])}\n")
    result = await laptop.ssh("-o", "BatchMode=yes", HOST, TOUCH)
    assert result.returncode == 255
    assert b"Host key verification failed" in result.stderr
    assert not (jp_root_dir / MARKER).exists()


@pytest.mark.parametrize(
    "body, message",
    [
        ({"public_key": "ssh-ed25519 AAAAnot-base64"}, "not an OpenSSH public key"),
        ({"public_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc"}, "never a private key"),
        ({"public_key": ""}, "one OpenSSH public key line"),
        ({"key": "ssh-ed25519 AAAA"}, "the body must be"),
        ([], "the body must be"),
    ],
)
async def test_key_api_refuses_bad_keys_and_changes_nothing(jp_fetch, body, message):
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("remote-dev", "api", "ssh", "keys", method="POST", body=json.dumps(body))
    assert refused.value.code == 400
    assert message in json.loads(refused.value.response.body)["message"]
    listed = json.loads((await jp_fetch("remote-dev", "api", "ssh", "keys")).body)
    assert listed == {"keys": []}


async def test_a_revoked_key_is_refused(laptop, server_url, token, jp_root_dir, jp_fetch):
    laptop = await ssh_setup(laptop, server_url, token)
    listed = json.loads((await jp_fetch("remote-dev", "api", "ssh", "keys")).body)["keys"]
    url = f"{server_url}remote-dev/api/ssh/keys/{quote(listed[0]['fingerprint'], safe='')}"

    async def delete():
        return await AsyncHTTPClient().fetch(
            url, method="DELETE", headers={"Authorization": f"token {token}"}, raise_error=False
        )

    assert (await delete()).code == 204
    result = await laptop.ssh("-o", "BatchMode=yes", HOST, TOUCH)
    assert result.returncode == 255 and b"Permission denied (publickey)" in result.stderr
    assert not (jp_root_dir / MARKER).exists()
    again = await delete()
    assert again.code == 404
    assert "no registered key" in json.loads(again.body)["message"]

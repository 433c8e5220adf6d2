"""The real OpenSSH client through ssh-proxy and the WebSocket to the in-process SSH server."""

from __future__ import annotations

from .conftest import HOST, ssh_setup


async def test_exit_status_and_stdin_come_through(laptop, server_url, token, jp_root_dir):
    ssh_laptop = await ssh_setup(laptop, server_url, token)
    result = await ssh_laptop.ssh(HOST, "exit 7")
    assert result.returncode == 7, result.stderr
    result = await ssh_laptop.ssh(HOST, "tr a-z A-Z; pwd", stdin=b"hello\n")
    assert result.returncode == 0, result.stderr
    assert result.text.splitlines() == ["HELLO", str(jp_root_dir.resolve())]

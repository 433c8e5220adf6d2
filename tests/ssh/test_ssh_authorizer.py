"""SSH is bound by the server's authorizer like our REST endpoints: a token that may only read
files gets read-only SFTP and no commands or forwarding (the 'terminals' resource)."""

from __future__ import annotations

import pytest
from jupyter_server.auth.authorizer import Authorizer

from .ssh_support import HOST, run, ssh_setup


class ReadOnlyFiles(Authorizer):
    """Everything but terminals and writing contents."""

    def is_authorized(self, handler, user, action, resource):
        return resource != "terminals" and not (resource == "contents" and action == "write")


@pytest.fixture
def jp_server_config(jp_server_config):
    return {
        **jp_server_config,
        "ServerApp": {**jp_server_config["ServerApp"], "authorizer_class": ReadOnlyFiles},
    }


async def test_read_only_token_gets_read_only_sftp_and_no_commands(
    laptop, server_url, token, jp_root_dir, tmp_path
):
    laptop = await ssh_setup(laptop, server_url, token)
    (jp_root_dir / "there.txt").write_text("readable")
    result = await laptop.ssh(HOST, "touch ran-it")
    assert result.returncode == 1 and b"not allowed for this token" in result.stderr
    result = await laptop.ssh("-W", "127.0.0.1:9", HOST)
    assert result.returncode == 255 and b"forwarding is turned off" in result.stderr
    cfg = str(laptop.ssh_config)
    result = await run(["scp", "-F", cfg, f"{HOST}:there.txt", str(tmp_path / "got")], laptop.env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "got").read_text() == "readable"
    (tmp_path / "up.txt").write_text("no")
    result = await run(["scp", "-F", cfg, str(tmp_path / "up.txt"), f"{HOST}:up.txt"], laptop.env)
    assert result.returncode != 0
    (tmp_path / "batch").write_text("-mkdir made\n-rm there.txt\n-rename there.txt moved\n")
    result = await run(["sftp", "-F", cfg, "-b", str(tmp_path / "batch"), HOST], laptop.env)
    assert result.stderr.count(b"Permission denied") == 3, result.stderr  # each one tried
    assert sorted(p.name for p in jp_root_dir.iterdir()) == ["there.txt"]  # nothing changed

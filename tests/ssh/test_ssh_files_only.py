"""allow_exec = False: commands, shells and forwarding are off over SSH; SFTP stays."""

from __future__ import annotations

import pytest

from .ssh_support import HOST, run, ssh_setup


@pytest.fixture
def remote_dev_config():
    return {"allow_exec": False}


async def test_no_commands_or_forwarding_but_sftp_works(
    laptop, server_url, token, jp_root_dir, tmp_path
):
    laptop = await ssh_setup(laptop, server_url, token)
    result = await laptop.ssh(HOST, "touch ran-it")
    assert result.returncode == 1 and b"allow_exec" in result.stderr
    assert not (jp_root_dir / "ran-it").exists()
    result = await laptop.ssh("-W", "127.0.0.1:9", HOST)
    assert result.returncode == 255 and b"forwarding is turned off" in result.stderr
    local = tmp_path / "f.txt"
    local.write_text("files only")
    cfg = str(laptop.ssh_config)
    result = await run(["scp", "-F", cfg, str(local), f"{HOST}:f.txt"], laptop.env)
    assert result.returncode == 0, result.stderr
    assert (jp_root_dir / "f.txt").read_text() == "files only"
    # the root is a chroot: absolute paths and links leading out of it are refused
    (jp_root_dir / "out").symlink_to("/etc")
    for remote in ("/etc/hostname", "out/hostname", "../../etc/hostname"):
        result = await run(["scp", "-F", cfg, f"{HOST}:{remote}", str(tmp_path / "x")], laptop.env)
        assert result.returncode != 0, remote
        assert not (tmp_path / "x").exists()

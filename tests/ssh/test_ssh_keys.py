"""Keys and config: a persistent 0600 host key, registration, and the marked ~/.ssh/config block."""

from __future__ import annotations

import json
import stat

from jupyter_remote_dev.client.openssh import BEGIN, END, update_config
from jupyter_remote_dev.ssh.keys import asyncssh
from jupyter_remote_dev.ssh.service import SshService

from .ssh_support import HOST, ssh_setup


def make_service(folder, root) -> SshService:
    return SshService(
        state_dir=folder, root=str(root), shell=["/bin/sh", "-c"], allow_exec=True,
        kill_grace=1.0, keepalive_interval=30.0,
    )  # fmt: skip


def test_host_key_is_kept_0600_and_the_same_after_a_restart(tmp_path):
    folder = tmp_path / "state"
    first = make_service(folder, tmp_path).info()
    key_file = folder / "ssh_host_ed25519_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    again = make_service(folder, tmp_path).info()  # a restarted server
    assert again["host_key"] == first["host_key"]
    assert again["host_key_fingerprint"] == first["host_key_fingerprint"]
    assert first["host_key"].startswith("ssh-ed25519 ")


def test_registered_keys_survive_a_restart(tmp_path):
    from jupyter_remote_dev.ssh.keys import parse_client_key

    key = asyncssh.generate_private_key("ssh-ed25519", comment="laptop")
    line = key.export_public_key("openssh").decode()
    service = make_service(tmp_path / "state", tmp_path)
    assert service.register(parse_client_key(line)) is True
    assert service.register(parse_client_key(line)) is False
    again = make_service(tmp_path / "state", tmp_path)
    assert again.keys.allows(key) and [k.comment for k in again.keys.list()] == ["laptop"]
    assert stat.S_IMODE((tmp_path / "state" / "authorized_keys").stat().st_mode) == 0o600


def test_config_block_is_ours_alone_and_rewritten_in_place():
    theirs = "Host work\n  User me\n\nHost *\n  ServerAliveInterval 10\n"
    once = update_config(theirs, "remote-dev-a", "Host remote-dev-a\n  User x\n")
    assert once.startswith(theirs) and once.count(BEGIN) == 1 and once.rstrip().endswith(END)
    twice = update_config(once, "remote-dev-a", "Host remote-dev-a\n  User x\n")
    assert twice == once
    both = update_config(once + "Host later\n  Port 2\n", "remote-dev-b", "Host remote-dev-b\n")
    assert both.startswith(theirs) and both.endswith("Host later\n  Port 2\n")
    assert "Host remote-dev-a\n  User x\nHost remote-dev-b\n" in both
    changed = update_config(both, "remote-dev-a", "Host remote-dev-a\n  User y\n")
    assert "User y" in changed and "User x" not in changed and changed.count(BEGIN) == 1


async def test_ssh_config_write_twice_keeps_other_entries(laptop, server_url, token, jp_fetch):
    config = laptop.home / ".ssh" / "config"
    config.parent.mkdir()
    config.write_text("Host other\n  User someone\n")
    config.chmod(0o644)
    laptop = await ssh_setup(laptop, server_url, token)
    first = config.read_text()
    result = await laptop.cli("ssh-config", "--write")
    assert result.returncode == 0, result.stderr
    assert config.read_text() == first
    assert first.startswith("Host other\n  User someone\n\n" + BEGIN + f"\nHost {HOST}\n")
    assert stat.S_IMODE(config.stat().st_mode) == 0o644  # its mode is kept too
    proxy = next(line for line in first.splitlines() if "ProxyCommand" in line).split()[1]
    assert proxy.startswith("/")  # editors run ssh with their own PATH
    key = laptop.home / ".jupyter" / "remote_dev_ssh" / "default_ed25519"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    listed = json.loads((await jp_fetch("remote-dev", "api", "ssh", "keys")).body)["keys"]
    assert [k["fingerprint"] for k in listed] == [
        asyncssh.read_private_key(str(key)).get_fingerprint("sha256")
    ]
    printed = await laptop.cli("ssh-config")
    assert printed.returncode == 0 and printed.text.startswith(f"Host {HOST}\n")
    assert token not in printed.text and token not in first

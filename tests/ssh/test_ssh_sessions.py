"""Session details OpenSSH's command line cannot show: window resizes reach the pty, and a
command killed by a signal is reported as that signal. An asyncssh client through ssh-proxy."""

from __future__ import annotations

import asyncio

from jupyter_remote_dev.ssh.keys import asyncssh

from .ssh_support import CLI, ssh_setup


async def connect(laptop):
    keys = laptop.home / ".jupyter" / "remote_dev_ssh"
    return await asyncssh.connect(
        "remote-dev-default",
        proxy_command=[CLI, "ssh-proxy"],
        known_hosts=str(keys / "known_hosts"),
        client_keys=[str(keys / "default_ed25519")],
        username="anyone",
        config=None,
        agent_path=None,
    )


async def test_window_resize_and_exit_signal(laptop, server_url, token, monkeypatch):
    laptop = await ssh_setup(laptop, server_url, token)
    for name, value in laptop.env.items():  # the proxy subprocess reads the laptop's profile
        monkeypatch.setenv(name, value)
    async with await connect(laptop) as conn:
        process = await conn.create_process(
            "stty size; read line; stty size", term_type="xterm", term_size=(80, 24)
        )
        assert (await asyncio.wait_for(process.stdout.readline(), 20)).strip() == "24 80"
        process.change_terminal_size(120, 40)
        await asyncio.sleep(0.2)
        process.stdin.write("\n")
        await asyncio.wait_for(process.stdout.readline(), 20)  # the echoed newline
        assert (await asyncio.wait_for(process.stdout.readline(), 20)).strip() == "40 120"
        await process.wait(timeout=20)

        killed = await conn.run("kill -TERM $$", timeout=20)
        assert killed.exit_signal is not None and killed.exit_signal[0] == "TERM"
        assert killed.exit_status == -1

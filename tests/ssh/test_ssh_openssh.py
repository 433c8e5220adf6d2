"""The real OpenSSH client (ssh, scp, sftp, rsync, sshfs) through ssh-proxy and the WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import shutil
import signal
import subprocess

import pytest

from jupyter_remote_dev.embedded.ports import free_port

from .ssh_support import HOST, run, ssh_setup


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_exit_status_stdin_activity_and_logs(
    laptop, server_url, token, jp_root_dir, jp_serverapp, remote_dev
):
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append
    remote_dev.log.addHandler(handler)
    laptop = await ssh_setup(laptop, server_url, token)
    settings = jp_serverapp.web_app.settings
    settings.pop("remote_dev_ssh_last_activity", None)
    result = await laptop.ssh(HOST, "exit 7")
    assert result.returncode == 7, result.stderr
    assert "remote_dev_ssh_last_activity" in settings  # the culler sees SSH traffic
    assert jp_serverapp.web_app.last_activity() >= settings["remote_dev_ssh_last_activity"]
    result = await laptop.ssh(HOST, "tr a-z A-Z; pwd; echo err >&2", stdin=b"hello\n")
    assert result.returncode == 0, result.stderr
    assert result.text.splitlines() == ["HELLO", str(jp_root_dir.resolve())]
    assert result.stderr == b"err\n"
    remote_dev.log.removeHandler(handler)
    logged = [record.getMessage() for record in records]
    # the Jupyter user (a token of a standalone server is a fresh anonymous name) and the command
    assert any(re.fullmatch(r"ssh: \w+ runs 'exit 7'", line) for line in logged), logged
    assert any("key SHA256:" in line and "accepted" in line for line in logged), logged
    assert not any(token in line for line in logged)
    public = (laptop.home / ".jupyter" / "remote_dev_ssh" / "default_ed25519.pub").read_text()
    assert not any(public.split()[1] in line for line in logged)


async def test_tty_is_a_pts(laptop, server_url, token):
    laptop = await ssh_setup(laptop, server_url, token)
    result = await laptop.ssh("-tt", HOST, "tty; echo TERM=$TERM")
    assert result.returncode == 0, result.stderr
    lines = result.text.replace("\r", "").splitlines()
    assert lines[0].startswith("/dev/pts/"), lines
    assert lines[1].startswith("TERM=") and lines[1] != "TERM=", lines
    result = await laptop.ssh("-T", HOST, "tty")
    assert result.returncode == 1 and result.text.strip() == "not a tty"
    result = await laptop.ssh("-tt", HOST, stdin=b"echo shell-$((6*7)); exit 3\n")
    assert result.returncode == 3 and b"shell-42" in result.stdout  # a login shell on a pty


async def test_scp_and_sftp_round_trips(laptop, server_url, token, jp_root_dir, tmp_path):
    laptop = await ssh_setup(laptop, server_url, token)
    local = tmp_path / "up.bin"
    local.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    cfg = str(laptop.ssh_config)
    result = await run(["scp", "-F", cfg, str(local), f"{HOST}:sub-up.bin"], laptop.env)
    assert result.returncode == 0, result.stderr  # scp (SFTP mode) needs the exit status
    assert sha256(jp_root_dir / "sub-up.bin") == sha256(local)
    back = tmp_path / "back.bin"
    result = await run(["scp", "-F", cfg, f"{HOST}:sub-up.bin", str(back)], laptop.env)
    assert result.returncode == 0, result.stderr
    assert sha256(back) == sha256(local)

    (tmp_path / "batch").write_text(
        f"mkdir folder\nput {local} folder/s.bin\nget folder/s.bin {tmp_path / 's.bin'}\n"
        "ls folder\nrename folder/s.bin folder/t.bin\n"
    )
    result = await run(["sftp", "-F", cfg, "-b", str(tmp_path / "batch"), HOST], laptop.env)
    assert result.returncode == 0, result.stderr
    assert sha256(jp_root_dir / "folder" / "t.bin") == sha256(local)
    assert sha256(tmp_path / "s.bin") == sha256(local)
    assert "folder/s.bin" in result.text


async def test_rsync_up_and_back(laptop, server_url, token, jp_root_dir, tmp_path):
    laptop = await ssh_setup(laptop, server_url, token)
    src = tmp_path / "src"
    (src / "deep" / "er").mkdir(parents=True)
    files = {"a.txt": b"a" * 10, "deep/b.bin": os.urandom(200_000), "deep/er/c": b""}
    for name, data in files.items():
        (src / name).write_bytes(data)
    rsh = ["-e", laptop.ssh_command()]
    result = await run(["rsync", "-a", *rsh, f"{src}/", f"{HOST}:mirror/"], laptop.env)
    assert result.returncode == 0, result.stderr
    for name, data in files.items():
        assert (jp_root_dir / "mirror" / name).read_bytes() == data
    (jp_root_dir / "mirror" / "deep" / "new.txt").write_text("from the server")
    back = tmp_path / "back"
    result = await run(["rsync", "-a", *rsh, f"{HOST}:mirror/", f"{back}/"], laptop.env)
    assert result.returncode == 0, result.stderr
    for name, data in files.items():
        assert (back / name).read_bytes() == data
    assert (back / "deep" / "new.txt").read_text() == "from the server"


async def _echo_server():
    async def echo(reader, writer):
        writer.write(b"echo:" + await reader.readline())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_local_forwarding_reaches_a_server_side_port(laptop, server_url, token):
    laptop = await ssh_setup(laptop, server_url, token)
    server, port = await _echo_server()
    local_port = free_port()
    forward = await asyncio.create_subprocess_exec(
        "ssh", "-F", str(laptop.ssh_config), "-N", "-o", "ExitOnForwardFailure=yes",
        "-L", f"127.0.0.1:{local_port}:127.0.0.1:{port}", HOST,
        env=laptop.env, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", local_port)
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the forwarded port never opened")
        writer.write(b"hello\n")
        assert await asyncio.wait_for(reader.read(), 10) == b"echo:hello\n"
        writer.close()
    finally:
        forward.terminate()
        await forward.wait()
        server.close()
    # a host other than the server's own is refused before any connection is tried
    result = await laptop.ssh("-W", "example.invalid:80", HOST)
    assert result.returncode == 255
    assert b"prohibited" in result.stderr or b"only ports on the server" in result.stderr


async def test_dropped_connection_leaves_no_process(laptop, server_url, token, jp_root_dir):
    laptop = await ssh_setup(laptop, server_url, token)
    pids = jp_root_dir / "pids"
    client = await asyncio.create_subprocess_exec(
        "ssh", "-F", str(laptop.ssh_config), HOST,
        "echo $$ > pids.tmp; sleep 300 & echo $! >> pids.tmp; mv pids.tmp pids; wait",
        env=laptop.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(300):
        if pids.exists():
            break
        await asyncio.sleep(0.05)
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 2 and all(_alive(pid) for pid in started)
    client.send_signal(
        signal.SIGKILL
    )  # the laptop goes away: its proxy sees EOF, the socket closes
    await client.wait()
    for _ in range(200):
        if not any(_alive(pid) for pid in started):
            break
        await asyncio.sleep(0.05)
    assert not any(_alive(pid) for pid in started)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def _fuse_problem() -> str | None:
    if not shutil.which("sshfs"):
        return "sshfs is not installed"
    if not os.path.exists("/dev/fuse") or not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return "/dev/fuse is missing or not usable here"
    return None


async def test_sshfs_mount_reads_and_writes(laptop, server_url, token, jp_root_dir, tmp_path):
    if problem := _fuse_problem():
        pytest.skip(problem)
    laptop = await ssh_setup(laptop, server_url, token)
    (jp_root_dir / "there.txt").write_text("on the server")
    mount = tmp_path / "mnt"
    mount.mkdir()
    result = await run(
        ["sshfs", "-F", str(laptop.ssh_config), f"{HOST}:", str(mount)], laptop.env, timeout=30
    )
    if result.returncode != 0 and b"fuse" in result.stderr.lower():
        pytest.skip(f"FUSE mounts are not allowed here: {result.stderr.decode().strip()}")
    assert result.returncode == 0, result.stderr
    try:  # file work on the mount goes through this event loop: run it in subprocesses
        result = await run(["cat", str(mount / "there.txt")], laptop.env)
        assert result.stdout == b"on the server"
        result = await run(["sh", "-c", f"echo from sshfs > {mount}/new.txt"], laptop.env)
        assert result.returncode == 0, result.stderr
        assert (jp_root_dir / "new.txt").read_text() == "from sshfs\n"
    finally:
        await run([shutil.which("fusermount3") or "fusermount", "-u", str(mount)], laptop.env)

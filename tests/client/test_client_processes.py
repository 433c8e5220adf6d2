"""Several CLI processes on one project, and signals (issue 20): real subprocesses, real signals,
a real Jupyter server with the extension, traffic slowed by a loopback forwarder."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time

import pytest

from jupyter_remote_dev.client.api import RemoteDevClient
from jupyter_remote_dev.client.commands.exitcodes import CONFLICTS
from jupyter_remote_dev.client.profiles import Profile
from jupyter_remote_dev.client.sync import transfer, uploads
from jupyter_remote_dev.client.sync.state import SyncState

from . import cli_support
from .cli_support import server_files

cli, login, wait_for, CLI = (
    cli_support.cli,
    cli_support.login,
    cli_support.wait_for,
    cli_support.CLI,
)

BIG = 32 * 1024 * 1024
RATE = 4 * 1024 * 1024
"""A 32 MiB file over a 4 MiB/s link: an 8 s transfer, far longer than the socket buffers."""


async def start(logged_in, *args) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        CLI, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=logged_in["env"], cwd=logged_in["project"],
    )  # fmt: skip


async def read_until(stream, text: str, timeout: float = 30) -> str:
    """The lines of ``stream`` up to and including the first one containing ``text``."""
    seen = ""
    while text not in seen:
        line = await asyncio.wait_for(stream.readline(), timeout)
        assert line, f"stream ended before {text!r}: {seen}"
        seen += line.decode()
    return seen


def temp_files(folder) -> list[str]:
    return [p.name for p in folder.rglob(".~remote-dev-*")]


@contextlib.asynccontextmanager
async def slow_link(jp_http_port, server_url):
    """A forwarder to the server (full speed until ``rate`` is set) and its URL."""
    forwarder = cli_support.Forwarder(jp_http_port)
    port = await forwarder.start()
    try:
        yield forwarder, server_url.replace(str(jp_http_port), str(port))
    finally:
        await forwarder.close()


async def test_sync_beside_a_watcher_keeps_the_conflict_and_its_copy_local(
    laptop, server_url, token, jp_root_dir
):
    """A typed sync beside a running ``sync --watch``: the watcher never uploads the conflict copy
    the sync made, never erases the recorded conflict, never re-pushes what the sync pulled."""
    logged_in = await login(laptop, server_url, token)
    project, remote = logged_in["project"], jp_root_dir / "project"
    (project / "x.txt").write_text("v1\n")
    (project / "y.txt").write_text("y1\n")
    assert (await cli(logged_in, "sync", "--yes")).returncode == 0
    watcher = await start(logged_in, "sync", "--watch", "--json")
    try:
        await read_until(watcher.stderr, "watching")
        await asyncio.sleep(0.5)  # the note comes just before the file watch starts
        (remote / "x.txt").write_text("server\n")
        (remote / "y.txt").write_text("y2 from the server\n")
        (project / "x.txt").write_text("laptop\n")
        events = await read_until(watcher.stdout, '"path": "x.txt"')
        assert '"event": "conflict"' in events
        typed = await cli(logged_in, "sync")
        assert typed.returncode == CONFLICTS, typed.stdout + typed.stderr
        copies = [p.name for p in project.glob("x.remote-*.txt")]
        assert len(copies) == 1 and (project / copies[0]).read_text() == "server\n"
        assert (project / "y.txt").read_text() == "y2 from the server\n"
        # the watcher handles events in order: once it has pushed this, it has seen the others
        (project / "later.txt").write_text("after the sync\n")
        events = await read_until(watcher.stdout, '"path": "later.txt"')
        assert '"event": "pushed"' in events
        assert server_files(remote) == {"x.txt", "y.txt", "later.txt"}
        assert (remote / "x.txt").read_text() == "server\n"
        assert '"path": "y.txt"' not in events and copies[0] not in events
        state = json.loads((project / ".jupyter-remote-dev" / "state.json").read_text())
        assert list(state["conflicts"]) == ["x.txt"] and state["conflicts"]["x.txt"][2] == copies[0]
        resolved = await cli(logged_in, "resolve", "--keep", "local", "x.txt")
        assert resolved.returncode == 0, resolved.stderr
        assert (remote / "x.txt").read_text() == "laptop\n"
    finally:
        watcher.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(watcher.wait(), 30)
    assert code == 0


async def test_a_killed_holder_never_blocks_the_project(
    laptop, server_url, token, jp_root_dir, jp_http_port
):
    """A second command waits (and says so) while another process works on the project; when
    the holder is killed with SIGKILL, the kernel frees the lock and the waiter goes on."""
    async with slow_link(jp_http_port, server_url) as (forwarder, url):
        logged_in = await login(laptop, url, token)
        project, remote = logged_in["project"], jp_root_dir / "project"
        (project / "big.bin").write_bytes(b"old\n")
        assert (await cli(logged_in, "sync", "--yes")).returncode == 0
        (project / "big.bin").write_bytes(os.urandom(BIG))
        forwarder.rate = RATE
        holder = await start(logged_in, "push", "big.bin")
        await wait_for(lambda: forwarder.upstream_bytes > 1024 * 1024, timeout=30)
        waiter = await start(logged_in, "sync")
        await read_until(waiter.stderr, "waiting for another jupyter-remote-dev process")
        assert waiter.returncode is None
        holder.kill()
        assert await asyncio.wait_for(holder.wait(), 10) == -signal.SIGKILL
        forwarder.rate = None
        assert await asyncio.wait_for(waiter.wait(), 60) == 0, await waiter.stderr.read()
        assert (remote / "big.bin").read_bytes() == (project / "big.bin").read_bytes()
        await wait_for(lambda: not temp_files(remote), timeout=20)


@pytest.mark.parametrize("command", ["push", "pull"])
async def test_ctrl_c_stops_a_big_transfer_within_a_second(
    laptop, server_url, token, jp_root_dir, jp_http_port, command
):
    """Ctrl-C during a slow 32 MiB push or pull: the CLI exits 130 within a second with one line;
    the receiving side keeps its previous version and no partial or temp file is left."""
    async with slow_link(jp_http_port, server_url) as (forwarder, url):
        logged_in = await login(laptop, url, token)
        project, remote = logged_in["project"], jp_root_dir / "project"
        (project / "big.bin").write_bytes(b"old\n")
        assert (await cli(logged_in, "sync", "--yes")).returncode == 0
        new = os.urandom(BIG)
        (project if command == "push" else remote).joinpath("big.bin").write_bytes(new)
        receiver = remote if command == "push" else project
        forwarder.rate = RATE
        process = await start(logged_in, command, "big.bin")
        await wait_for(lambda: _part_size(receiver) > 1024 * 1024, timeout=30)  # under way
        await _interrupt_at_once(process)
        assert (receiver / "big.bin").read_bytes() == b"old\n"
        forwarder.rate = None  # what the forwarder still holds drains; the server then sees the cut
        await wait_for(lambda: not temp_files(receiver), timeout=20)
        assert (receiver / "big.bin").read_bytes() == b"old\n"


async def test_ctrl_c_while_a_hung_server_lists_ends_the_sync_at_once(
    laptop, server_url, token, jp_root_dir, jp_http_port
):
    """The listing is asked for beside the local scan; with the server hung in ``GET tree``,
    a Ctrl-C ends the sync within a second (exit 130, one line), not at the request's timeout,
    and nothing was sent."""
    async with slow_link(jp_http_port, server_url) as (forwarder, url):
        logged_in = await login(laptop, url, token)
        project, remote = logged_in["project"], jp_root_dir / "project"
        (project / "a.txt").write_text("a\n")
        assert (await cli(logged_in, "sync", "--yes")).returncode == 0
        (project / "a.txt").write_text("changed\n")
        forwarder.stall = b"remote-dev/api/tree"
        process = await start(logged_in, "sync", "--yes")
        await asyncio.wait_for(forwarder.stalled.wait(), 30)
        await asyncio.sleep(0.3)  # the tiny scan is done: the plan waits for the listing
        await _interrupt_at_once(process)
        assert (remote / "a.txt").read_text() == "a\n"


async def _interrupt_at_once(process) -> None:
    """Ctrl-C ``process``: it exits 130 within a second, saying only ``interrupted``."""
    process.send_signal(signal.SIGINT)
    signalled = time.monotonic()
    code = await asyncio.wait_for(process.wait(), 30)
    took = time.monotonic() - signalled
    stderr = (await process.stderr.read()).decode()
    assert code == 130, stderr
    assert took < 1.0, f"stopped {took:.1f} s after Ctrl-C"
    assert stderr.splitlines() == ["interrupted"], stderr


def _part_size(folder) -> int:
    """Bytes in the temp files of the transfers under way into ``folder``."""
    size = 0
    for part in folder.glob(".~remote-dev-*"):
        with contextlib.suppress(FileNotFoundError):
            size += part.stat().st_size
    return size


async def test_watch_stops_cleanly_on_sigterm_and_ctrl_c(laptop, server_url, token, jp_root_dir):
    """``sync --watch`` exits 0 on SIGTERM (an IDE stopping its task) and on Ctrl-C, printing only
    the documented line after the signal."""
    logged_in = await login(laptop, server_url, token)
    (logged_in["project"] / "a.txt").write_text("a\n")
    for sig in (signal.SIGTERM, signal.SIGINT):
        watcher = await start(logged_in, "sync", "--watch", "--yes")
        await read_until(watcher.stderr, "watching")
        watcher.send_signal(sig)
        code = await asyncio.wait_for(watcher.wait(), 10)
        rest = (await watcher.stderr.read()).decode()
        assert code == 0, (sig, rest)
        assert rest.splitlines() == ["stopped watching; state saved"], (sig, rest)


async def test_progress_counts_each_byte_once(
    jp_serverapp, server_url, token, tmp_path, jp_root_dir, monkeypatch
):
    """The bytes reported to the progress bar add up to the plan's total, never more: a resumable
    upload in segments, a streamed push, a pull and a conflict copy together."""
    monkeypatch.setattr(uploads, "RESUMABLE_FILE", 2 * 1024 * 1024)
    monkeypatch.setattr(uploads, "UPLOAD_SEGMENT", 1024 * 1024)
    local, remote = tmp_path / "local", jp_root_dir / "up"
    local.mkdir()
    remote.mkdir()
    (local / "resumable.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 5))
    (local / "streamed.bin").write_bytes(os.urandom(1536 * 1024))
    (remote / "pulled.bin").write_bytes(os.urandom(1536 * 1024))
    (local / "both.bin").write_bytes(b"here\n")
    (remote / "both.bin").write_bytes(os.urandom(1536 * 1024))
    counted = []

    def go():
        with RemoteDevClient(Profile("t", server_url, token)) as client:
            moves = transfer.Transfer(client, SyncState(local, "t", "up"), counted.append)
            the_plan = moves.plan()
            return the_plan, moves.run(the_plan)

    the_plan, report = await asyncio.to_thread(go)
    assert not report.failed and len(report.done) == 4
    assert [a.path for a in the_plan.conflicts] == ["both.bin"]
    assert sum(counted) == sum(a.size for a in the_plan.actions) == (3 * 1024 + 3072) * 1024 + 5

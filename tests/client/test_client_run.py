"""``run``: stdin forwarded as it comes (pipe and terminal), shell exit codes for a command that
cannot start, one error prefix; through the CLI against a real Jupyter server."""

from __future__ import annotations

import asyncio
import hashlib
import os
import pty
import subprocess
import sys

from .cli_support import CLI, cli, login

PREFIX = "jupyter remote-dev: error: "


async def test_cli_run_forwards_piped_stdin(laptop, server_url, token):
    """Piped text and binary bytes reach the remote command's stdin exactly."""
    logged_in = await login(laptop, server_url, token)
    upper = "import sys; sys.stdout.write(sys.stdin.read().upper())"
    result = await cli(logged_in, "run", "--", sys.executable, "-c", upper, stdin="hello\nyou\n")
    assert (result.returncode, result.stdout) == (0, "HELLO\nYOU\n"), result.stderr
    data = os.urandom(300_000) + b"\xff\xfe"
    digest = "import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"
    process = await asyncio.create_subprocess_exec(
        CLI, "run", "--", sys.executable, "-c", digest,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=logged_in["env"], cwd=logged_in["project"],
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(data), 60)
    assert out.decode().strip() == hashlib.sha256(data).hexdigest(), err


async def test_cli_run_streams_stdin_while_the_command_runs(laptop, server_url, token):
    """The command starts before stdin ends, and gets each line as it is written."""
    logged_in = await login(laptop, server_url, token)
    echo = "import sys\nprint('ready', flush=True)\nfor line in sys.stdin: print('got', line.strip(), flush=True)"  # noqa: E501
    process = await asyncio.create_subprocess_exec(
        CLI, "run", "--", sys.executable, "-c", echo,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=logged_in["env"], cwd=logged_in["project"],
    )  # fmt: skip
    try:
        assert await asyncio.wait_for(process.stdout.readline(), 30) == b"ready\n"
        process.stdin.write(b"one\n")
        await process.stdin.drain()
        assert await asyncio.wait_for(process.stdout.readline(), 30) == b"got one\n"
        process.stdin.write(b"two\n")
        process.stdin.close()
        assert await asyncio.wait_for(process.stdout.read(), 30) == b"got two\n"
    finally:
        code = await asyncio.wait_for(process.wait(), 30)
    assert code == 0, (await process.stderr.read()).decode()


async def test_cli_run_forwards_terminal_input(laptop, server_url, token):
    """Typed lines reach the remote command; Ctrl-D ends its input, as in a local shell."""
    logged_in = await login(laptop, server_url, token)
    main, child = pty.openpty()
    code = "import sys; print('ready', flush=True); print(repr(sys.stdin.read()), flush=True)"
    process = await asyncio.create_subprocess_exec(
        CLI, "run", "--", sys.executable, "-c", code,
        stdin=child, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=logged_in["env"], cwd=logged_in["project"],
    )  # fmt: skip
    os.close(child)
    try:
        assert await asyncio.wait_for(process.stdout.readline(), 30) == b"ready\n"
        os.write(main, b"typed line\n")
        await asyncio.sleep(0.2)
        os.write(main, b"\x04")  # Ctrl-D at the start of a line: end of input
        out = await asyncio.wait_for(process.stdout.read(), 30)
        assert out == b"'typed line\\n'\n", (await process.stderr.read()).decode()
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        os.close(main)


async def test_cli_run_no_stdin_needs_no_input(laptop, server_url, token):
    """A command that reads no stdin ends at once even though the caller's stdin stays open."""
    logged_in = await login(laptop, server_url, token)
    process = await asyncio.create_subprocess_exec(
        CLI, "run", "--", sys.executable, "-c", "print('done')",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=logged_in["env"], cwd=logged_in["project"],
    )  # fmt: skip
    try:
        assert await asyncio.wait_for(process.stdout.read(), 30) == b"done\n"
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        process.stdin.close()


async def test_cli_run_not_found_127_not_executable_126(laptop, server_url, token, jp_root_dir):
    """Like a shell: a missing program exits 127, a file without x bit or a folder 126; one
    error line each."""
    logged_in = await login(laptop, server_url, token)
    (jp_root_dir / "script.sh").write_text("echo hi\n")
    (jp_root_dir / "folder").mkdir()
    cases = {"no-such-program-xyz": 127, "./script.sh": 126, "./folder": 126}
    for program, code in cases.items():
        result = await cli(logged_in, "run", "--", program)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == code, (program, result.stderr)
        assert len(lines) == 1 and lines[0].startswith(PREFIX), (program, result.stderr)
        assert program in lines[0], program
    assert "not found" in (await cli(logged_in, "run", "--", "no-such-program-xyz")).stderr


async def test_cli_run_timeout_uses_the_error_prefix(laptop, server_url, token):
    """--timeout's note carries the same prefix as every other error."""
    logged_in = await login(laptop, server_url, token)
    result = await cli(logged_in, "run", "--timeout", "0.5", "--", "sleep", "30")
    assert result.returncode != 0
    assert result.stderr.startswith(PREFIX + "timed out after 0.5 s"), result.stderr

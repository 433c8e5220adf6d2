"""Plain helpers for the SSH tests: a laptop (its own HOME) that runs the CLI and OpenSSH, and
``ssh_setup``. Fixtures (server_url, token, laptop) are in conftest.py."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CLI = shutil.which("jupyter-remote-dev") or "jupyter-remote-dev"
HOST = "remote-dev-default"


@dataclass
class Result:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        return self.stdout.decode()


async def run(argv, env, stdin: bytes | None = None, timeout: float = 60, cwd=None) -> Result:
    """A subprocess, awaited while the in-process Jupyter server keeps serving on this loop."""
    process = await asyncio.create_subprocess_exec(
        *argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env, cwd=cwd,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise
    return Result(process.returncode, out, err)


@dataclass
class Laptop:
    """A user's machine: HOME and Jupyter config in tmp, and the ssh config ssh-config wrote."""

    home: Path
    env: dict

    @property
    def ssh_config(self) -> Path:
        return self.home / ".ssh" / "config"

    async def cli(self, *args, stdin: bytes | None = None) -> Result:
        return await run([CLI, *args], self.env, stdin)

    async def ssh(self, *args, stdin: bytes | None = None, timeout: float = 60) -> Result:
        """``ssh -F <the written config> ...`` (``-F`` keeps the machine's own config out)."""
        return await run(["ssh", "-F", str(self.ssh_config), *args], self.env, stdin, timeout)

    def ssh_command(self) -> str:
        """The ``ssh -F ...`` line for scp -S / rsync -e / sshfs."""
        return f"ssh -F {self.ssh_config}"


def laptop_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_", "SSH_"))}
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"), PYTHONUNBUFFERED="1")
    return env


async def ssh_setup(laptop: Laptop, server_url: str, token: str) -> Laptop:
    """Log ``laptop`` in to the server and run ``ssh-config --write`` (a helper, not a fixture:
    the CLI must run while the server serves on the test's event loop)."""
    result = await laptop.cli("login", server_url, "--token-stdin", stdin=token.encode() + b"\n")
    assert result.returncode == 0, result.stderr
    result = await laptop.cli("ssh-config", "--write")
    assert result.returncode == 0, result.stderr
    return laptop

"""Shared benchmark helpers: a throwaway loopback sshd and a real Jupyter server subprocess.

Both are context managers that clean up after themselves (processes killed, temp dirs removed),
bind only to 127.0.0.1 on a free port, and need nothing but what ``.ci/install`` provides
(openssh-server, rsync, the installed package).

    with loopback_sshd() as ssh:
        subprocess.run([*ssh.scp, "big.bin", f"{ssh.host}:/tmp/big.bin"], check=True)
        subprocess.run([*ssh.rsync, "-a", "tree/", f"{ssh.host}:/tmp/tree/"], check=True)
        subprocess.run([*ssh.ssh, "true"], check=True)

    with jupyter_server(root_dir) as server:
        httpx.get(f"{server.url}remote-dev/api/info", headers=server.headers)

Also the source-like tree the sync benchmarks share (``make_tree``, ``touch_changes``) and a timed
run of a command (``run_measured``) that first flushes everyone's dirty pages.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import random
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from jupyter_remote_dev.embedded.ports import free_port

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args[0]} exited with {process.returncode} before listening"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


def _stop(process: subprocess.Popen) -> None:
    """Terminate ``process`` (and its process group), then kill it if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@dataclass(frozen=True)
class LoopbackSsh:
    """Command prefixes for talking to a loopback sshd; append your own arguments."""

    host: str
    """``user@127.0.0.1``: use as ``f"{host}:{path}"`` with scp and rsync."""
    port: int
    ssh: list[str]
    """``ssh`` argv up to and including the destination: append the remote command."""
    scp: list[str]
    """``scp`` argv with port, key and options: append sources and ``host:dest``."""
    rsync: list[str]
    """``rsync -e '<ssh ...>'``: append rsync options, sources and ``host:dest``."""


@contextlib.contextmanager
def loopback_sshd() -> Iterator[LoopbackSsh]:
    """Run a throwaway sshd on 127.0.0.1 (free port, generated host and client keys) for this user.

    Key-only login for the current user, no known_hosts written anywhere, everything removed on
    exit. The ssh options are fixed (no compression, default ciphers) so comparisons are fair.
    """
    with tempfile.TemporaryDirectory(prefix="loopback-sshd-") as tmp:
        tmp_path = Path(tmp)
        host_key, client_key = tmp_path / "host_ed25519", tmp_path / "client_ed25519"
        for key in (host_key, client_key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
            )
        authorized = tmp_path / "authorized_keys"
        authorized.write_bytes(client_key.with_suffix(".pub").read_bytes())
        authorized.chmod(0o600)
        port = free_port()
        config = tmp_path / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"AuthorizedKeysFile {authorized}",
                    f"PidFile {tmp_path / 'sshd.pid'}",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PubkeyAuthentication yes",
                    "PermitRootLogin prohibit-password",
                    "StrictModes no",
                    "UsePAM no",
                    "Subsystem sftp internal-sftp",
                    "",
                ]
            )
        )
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
        process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_for_port(port, process)
            options = [
                "-i", str(client_key),
                "-F", "/dev/null",
                "-o", "IdentitiesOnly=yes",
                "-o", "StrictHostKeyChecking=no",
                "-o", f"UserKnownHostsFile={tmp_path / 'known_hosts'}",
                "-o", "LogLevel=ERROR",
                "-o", "BatchMode=yes",
            ]  # fmt: skip
            host = f"{getpass.getuser()}@127.0.0.1"
            ssh = ["ssh", "-p", str(port), *options]
            yield LoopbackSsh(
                host=host,
                port=port,
                ssh=[*ssh, host],
                scp=["scp", "-q", "-P", str(port), *options],
                rsync=["rsync", "-e", shlex.join(ssh)],
            )
        finally:
            _stop(process)


@dataclass(frozen=True)
class RunningServer:
    """A Jupyter server subprocess with the remote-dev extension."""

    url: str
    """Base URL ending in ``/``, e.g. ``http://127.0.0.1:PORT/``."""
    token: str
    pid: int
    root_dir: Path

    @property
    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header for this server."""
        return {"Authorization": f"token {self.token}"}

    @property
    def api(self) -> str:
        """Base URL of our REST API."""
        return f"{self.url}remote-dev/api/"


@contextlib.contextmanager
def jupyter_server(root_dir: Path | str, *extra_args: str) -> Iterator[RunningServer]:
    """Start ``jupyter server`` on 127.0.0.1 (free port, random token) serving ``root_dir``.

    ``extra_args`` are passed on, e.g. ``"--RemoteDevExtension.max_upload_size=2000000000"``.
    The server runs in its own process group and is stopped on exit.
    """
    port, token = free_port(), secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="jupyter-bench-") as runtime:
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": runtime, "JUPYTER_PLATFORM_DIRS": "1"}
        argv = [
            sys.executable, "-m", "jupyter_server",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root_dir}",
            "--ServerApp.jpserver_extensions=jupyter_remote_dev=True",
            "--ServerApp.log_level=WARN",
            *(["--allow-root"] if os.geteuid() == 0 else []),
            *extra_args,
        ]  # fmt: skip
        log = open(Path(runtime) / "server.log", "wb")
        process = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            try:
                _wait_for_port(port, process, timeout=60)
            except (RuntimeError, TimeoutError) as error:
                tail = (Path(runtime) / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{error}; server log:\n{tail}") from error
            server = RunningServer(f"http://127.0.0.1:{port}/", token, process.pid, Path(root_dir))
            deadline = time.monotonic() + 60
            while httpx.get(f"{server.api}info", headers=server.headers).status_code != 200:
                if time.monotonic() > deadline:
                    raise TimeoutError("the server never answered remote-dev/api/info")
                time.sleep(0.1)
            yield server
        finally:
            _stop(process)
            log.close()


def rss_bytes(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size of ``pid`` in bytes, from /proc (Linux)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def reset_peak_rss(pid: int) -> None:
    """Reset the kernel's peak-RSS counter (VmHWM) of ``pid`` to its current RSS."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def bench_dir() -> str | None:
    """Where benchmarks put their files: ``$BENCH_DIR``, or the system temp folder if unset."""
    return os.environ.get("BENCH_DIR")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def make_tree(root: Path, count: int) -> list[Path]:
    """``count`` source-like files of 0.5-8 KiB (hex text) in ``max(100, count / 100)`` folders.

    The same seed, names and sizes for the same ``count``: 2,000 files are 100 folders of 20."""
    rng = random.Random(4)
    folders = max(100, -(-count // 100))
    folder_width, file_width = max(3, len(str(folders - 1))), max(4, len(str(count - 1)))
    paths = []
    for i in range(count):
        path = root / f"pkg{i % folders:0{folder_width}d}" / f"module_{i:0{file_width}d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(rng.randint(256, 4096)).hex().encode())
        paths.append(path)
    return paths


def touch_changes(paths: list[Path], round_no: int, count: int = 20) -> None:
    """Rewrite ``count`` of ``paths``, chosen by ``round_no``, as an editor's saves would."""
    for path in random.Random(round_no).sample(paths, count):
        path.write_text(f"# round {round_no}\n" + path.read_text()[:2000])


@dataclass(frozen=True)
class Measured:
    """One timed run of a command."""

    seconds: float
    peak_rss: int
    """The process's own peak resident set size in bytes (``ru_maxrss``)."""


def run_measured(argv: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run ``argv`` (stdout discarded) after ``os.sync()``, so that it pays for no dirty pages
    another command left behind; its wall time and peak RSS. Raises if it fails."""
    os.sync()
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, argv)
    return Measured(seconds, usage.ru_maxrss * 1024)

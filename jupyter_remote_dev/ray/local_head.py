"""A local Ray head for one-machine setups (the embedded hub config) and for the tests.

The head runs as ``ray start --head --block`` in its own session, so stopping it means signalling
that one process group: no ``ray stop``, which would end every Ray process of the user.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

DASHBOARD_ENV = "JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL"
log = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dashboard_answers(url: str, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(f"{url}/api/version", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _node_registered(url: str) -> bool:
    """Whether the dashboard lists a node yet (the client port opens before the raylet is up)."""
    try:
        summary = httpx.get(f"{url}/nodes?view=summary", timeout=2.0).json()["data"]["summary"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return False
    return bool(summary)


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
    except OSError:
        return False
    return True


@dataclass
class LocalRayHead:
    """A Ray head on 127.0.0.1: its ports, and its process when we started it."""

    client_port: int
    dashboard_port: int
    process: subprocess.Popen | None = None
    temp_dir: Path | None = None

    @property
    def address(self) -> str:
        return f"ray://127.0.0.1:{self.client_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def env(self) -> dict[str, str]:
        """The environment the hub hooks would set for a user of this head."""
        return {"RAY_ADDRESS": self.address, DASHBOARD_ENV: self.dashboard_url}

    def stop(self, timeout: float = 20.0) -> None:
        """End every process of a head we started.

        SIGTERM goes to ``ray start`` alone, which shuts its processes down in order (signalling
        the whole group at once can leave the GCS hanging); whatever remains of the process
        group after ``timeout`` is killed.
        """
        if self.process is None or self.process.poll() is not None and not self._group_alive():
            return
        if self.process.poll() is None:
            self.process.terminate()
        deadline = time.monotonic() + timeout
        while self._group_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        if self._group_alive():
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)

    def _group_alive(self) -> bool:
        """Whether any process of the head's group still runs (zombies awaiting reaping do not)."""
        proc = Path("/proc")
        if not proc.is_dir():
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return False
            return True
        for entry in proc.iterdir():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # not a process, or it just ended
            if fields[2] == str(self.process.pid) and fields[0] != "Z":
                return True
        return False


def start_local_ray_head(
    client_port: int | None = None,
    dashboard_port: int | None = None,
    gcs_port: int | None = None,
    num_cpus: int | None = None,
    temp_dir: str | None = None,
    timeout: float = 180.0,
) -> LocalRayHead:
    """Start a Ray head (client server and dashboard on 127.0.0.1) and wait until both answer.

    Free ports are picked for any not given. RuntimeError, with the end of Ray's output, if the
    head does not come up within ``timeout``; nothing is left running then.
    """
    ray = shutil.which("ray")
    if ray is None:
        raise RuntimeError("the `ray` command is not installed: pip install 'ray[default,client]'")
    head = LocalRayHead(client_port or free_port(), dashboard_port or free_port())
    head.temp_dir = Path(temp_dir or tempfile.mkdtemp(prefix="ray-"))
    log = head.temp_dir / "ray-start.log"
    argv = [
        ray, "start", "--head", "--block", "--disable-usage-stats",
        f"--port={gcs_port or free_port()}", f"--ray-client-server-port={head.client_port}",
        "--node-ip-address=127.0.0.1", "--dashboard-host=127.0.0.1",
        f"--dashboard-port={head.dashboard_port}", "--include-dashboard=true",
        f"--temp-dir={head.temp_dir}",
    ]  # fmt: skip
    if num_cpus is not None:
        argv.append(f"--num-cpus={num_cpus}")
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    with open(log, "wb") as out:
        head.process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    try:
        while not (
            _dashboard_answers(head.dashboard_url)
            and _port_open(head.client_port)
            and _node_registered(head.dashboard_url)
        ):
            if head.process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the Ray head did not start:\n{tail}")
            time.sleep(0.5)
    except BaseException:
        head.stop()
        raise
    return head


def ensure_local_ray_head(
    client_port: int = 10001, dashboard_port: int = 8265, timeout: float = 180.0
) -> dict[str, str]:
    """The Ray environment (``RAY_ADDRESS``, dashboard URL) for a one-machine hub.

    Reuses a head whose dashboard already answers on ``dashboard_port``; otherwise starts one that
    lives as long as this process (stopped at exit). Returns ``{}`` (and logs why) when Ray is not
    installed or the head cannot start, so a hub config can merge the result into
    ``c.Spawner.environment`` unconditionally.
    """
    if shutil.which("ray") is None:
        log.info("Ray is not installed: no local Ray head")
        return {}
    existing = LocalRayHead(client_port, dashboard_port)
    if _dashboard_answers(existing.dashboard_url):
        return existing.env()
    try:
        head = start_local_ray_head(client_port, dashboard_port, timeout=timeout)
    except RuntimeError as e:  # a busy port, say: the hub still starts, without Ray
        log.warning("No local Ray head: %s", e)
        return {}
    atexit.register(head.stop)
    return head.env()

"""A local Ray head for one-machine setups (the embedded hub config) and for the tests.

The head runs as ``ray start --head --block`` in its own session, so stopping it means signalling
that one process group: no ``ray stop``, which would end every Ray process of the user.
"""

from __future__ import annotations

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

from ..embedded.ports import free_port

DASHBOARD_ENV = "JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL"


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


def head_environment() -> dict[str, str]:
    """Environment that keeps every Ray listener of a one-machine head on 127.0.0.1.

    Ray 2.60 replaces ``--node-ip-address=127.0.0.1`` with the machine's outward address, and
    its GCS and raylet bind all interfaces, unless clusters are turned off: then the node address
    is the loopback one and everything binds to it. The autoscaler's and dashboard's metrics
    ports are fixed numbers unless set here, so each head gets free ones. On a busy machine the
    dashboard agent can take over a minute to start, and a Ray client connection's server process
    over 30 s: both get more time.
    """
    return {
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "AUTOSCALER_METRIC_PORT": str(free_port()),
        "DASHBOARD_METRIC_PORT": str(free_port()),
        "RAY_agent_register_timeout_ms": "180000",
        # the client server's proxy waits this long for each connection's own server process
        "RAY_CLIENT_SERVER_CHECK_CHANNEL_TIMEOUT_S": "120",
    }


def start_local_ray_head(
    client_port: int | None = None,
    dashboard_port: int | None = None,
    gcs_port: int | None = None,
    num_cpus: int | None = None,
    temp_dir: str | None = None,
    timeout: float = 180.0,
) -> LocalRayHead:
    """Start a Ray head, every listener on 127.0.0.1, and wait until it answers.

    Free ports are picked for any not given, and for every other port Ray would otherwise take
    from a fixed default, so two heads on one machine never meet. RuntimeError, with the end of
    Ray's output, if the head does not come up within ``timeout``; nothing is left running then.
    """
    ray = shutil.which("ray")
    if ray is None:
        raise RuntimeError("the `ray` command is not installed: pip install 'ray[default,client]'")
    head = LocalRayHead(client_port or free_port(), dashboard_port or free_port())
    head.temp_dir = Path(temp_dir or tempfile.mkdtemp(prefix="ray-"))
    head.temp_dir.mkdir(parents=True, exist_ok=True)
    output = head.temp_dir / "ray-start.log"
    argv = [
        ray, "start", "--head", "--block", "--disable-usage-stats",
        f"--port={gcs_port or free_port()}", f"--ray-client-server-port={head.client_port}",
        "--node-ip-address=127.0.0.1", "--dashboard-host=127.0.0.1",
        f"--dashboard-port={head.dashboard_port}", "--include-dashboard=true",
        f"--dashboard-agent-listen-port={free_port()}",
        f"--dashboard-agent-grpc-port={free_port()}",
        f"--runtime-env-agent-port={free_port()}", f"--metrics-export-port={free_port()}",
        f"--node-manager-port={free_port()}", f"--object-manager-port={free_port()}",
        "--min-worker-port=0", "--max-worker-port=0",  # workers: ports the system picks
        f"--temp-dir={head.temp_dir}",
    ]  # fmt: skip
    if num_cpus is not None:
        argv.append(f"--num-cpus={num_cpus}")
    env = {**os.environ, **head_environment()}
    with open(output, "wb") as out:
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
                tail = output.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the Ray head did not start:\n{tail}")
            time.sleep(0.5)
    except BaseException:
        head.stop()
        raise
    return head

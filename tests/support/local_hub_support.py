"""README's main job as a subprocess: ``jupyterhub -f hub_config/local_config.py`` on free ports.

Used by the end-to-end tests through a hub and by benchmarks/bench_local_hub.py. The hub runs in
its own session with its state in a temporary folder; leaving the context stops it (SIGTERM, as
Ctrl-C would), then kills whatever of its sessions is left.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from jupyter_remote_dev.ray.local_head import free_port

REPO = Path(__file__).resolve().parents[2]
LOCAL_CONFIG = REPO / "hub_config" / "local_config.py"
ADMIN_CONFIG = """
import os
c = get_config()
load_subconfig({local_config!r})
c.JupyterHub.services.append({{"name": "e2e-admin", "api_token": os.environ["E2E_ADMIN_TOKEN"]}})
c.JupyterHub.load_roles.append(
    {{
        "name": "e2e-admin",
        "scopes": ["admin:users", "admin:servers", "tokens", "list:users"],
        "services": ["e2e-admin"],
    }}
)
"""


@dataclass
class LocalHub:
    """A running hub: its URL, an admin API client, its state folder, log and timings."""

    url: str
    password: str
    admin: httpx.Client
    state: Path
    log: Path
    process: subprocess.Popen
    launched: float
    answered: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def user_token(self, name: str, **body) -> str:
        response = self.admin.post(f"users/{name}/tokens", json={"note": "e2e", **body})
        response.raise_for_status()
        return response.json()["token"]

    def start_server(self, name: str, timeout: float = 180.0) -> float:
        """Start ``name``'s server through the hub API; seconds until the hub reports it ready."""
        started = time.monotonic()
        response = self.admin.post(f"users/{name}/server")
        assert response.status_code in (201, 202, 400), response.text
        deadline = started + timeout
        while not self.admin.get(f"users/{name}").json()["servers"].get("", {}).get("ready"):
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"{name}'s server not ready in {timeout} s"
            time.sleep(0.3)
        return time.monotonic() - started

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def stack_processes(root_pid: int) -> list[psutil.Process]:
    """The hub and every process it started, including those that left its tree (Ray daemons
    started in sessions of their own): every process in a session of one of its descendants."""
    try:
        root = psutil.Process(root_pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    sessions = set()
    for proc in tree:
        with contextlib.suppress(ProcessLookupError, psutil.Error):
            sessions.add(os.getsid(proc.pid))
    sessions.discard(os.getsid(0))  # never this test's own session
    found = {proc.pid: proc for proc in tree}
    for proc in psutil.process_iter():
        with contextlib.suppress(ProcessLookupError, psutil.Error):
            if os.getsid(proc.pid) in sessions:
                found.setdefault(proc.pid, proc)
    return list(found.values())


def listening_sockets(processes: list[psutil.Process]) -> list[tuple[str, int, str]]:
    """(address, port, process name) of every TCP socket in LISTEN state the processes own."""
    found = []
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            for conn in proc.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN:
                    found.append((conn.laddr.ip, conn.laddr.port, proc.name()))
    return found


def is_loopback(address: str) -> bool:
    """127.0.0.0/8, ::1, or an IPv4-mapped loopback address (``::ffff:127.0.0.1``)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


@contextlib.contextmanager
def local_hub(
    workdir: Path, *, ray: bool = True, timeout: float = 120.0, env: dict[str, str] | None = None
) -> Iterator[LocalHub]:
    """Run README's main job with an admin service added (and ``env`` in its environment); yield
    once it printed its banner."""
    config = workdir / "admin_config.py"
    config.write_text(ADMIN_CONFIG.format(local_config=str(LOCAL_CONFIG)))
    state, password, admin_token = workdir / "state", secrets.token_hex(8), secrets.token_hex(32)
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_REMOTE_DEV_HUB_DIR": str(state),
        "JUPYTER_REMOTE_DEV_HUB_PORT": str(port),
        "JUPYTER_REMOTE_DEV_DEMO_PASSWORD": password,
        "JUPYTER_REMOTE_DEV_LOCAL_RAY": "1" if ray else "0",
        "E2E_ADMIN_TOKEN": admin_token,
        **(env or {}),
    }
    log = workdir / "hub.log"
    url = f"http://127.0.0.1:{port}/"
    with open(log, "wb") as out:
        launched = time.monotonic()
        process = subprocess.Popen(
            ["jupyterhub", "-f", str(config)],
            cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    admin = httpx.Client(
        base_url=f"{url}hub/api/", headers={"Authorization": f"token {admin_token}"}, timeout=30
    )
    hub = LocalHub(url, password, admin, state, log, process, launched)
    try:
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            with contextlib.suppress(httpx.TransportError):
                if admin.get("").status_code == 200:
                    break
            assert time.monotonic() - launched < timeout, f"the hub did not answer in {timeout} s"
            time.sleep(0.2)
        hub.answered = time.monotonic() - launched
        while "  password: " not in hub.output():  # the banner: routes and services are ready
            assert process.poll() is None, hub.output()[-3000:]
            assert time.monotonic() - launched < timeout, "no start-up banner"
            time.sleep(0.2)
        hub.timings["banner"] = time.monotonic() - launched
        yield hub
    finally:
        admin.close()
        stop_hub(process)


def stop_hub(process: subprocess.Popen, timeout: float = 60.0, grace: float = 5.0) -> list[str]:
    """SIGTERM (the hub stops servers, services and the proxy), then kill what is left.

    Returns what was still running ``grace`` seconds after the hub exited ("name pid"), so a
    test can tell that stopping the hub stopped everything.
    """
    leftovers = stack_processes(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    deadline = time.monotonic() + grace
    while (survivors := _running(leftovers, process.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    described = []
    for proc in survivors:
        with contextlib.suppress(psutil.Error):
            described.append(f"{proc.name()} {proc.pid}")
            proc.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)
    return described


def _running(processes: list[psutil.Process], hub_pid: int) -> list[psutil.Process]:
    alive = []
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            if proc.pid != hub_pid and proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
    return alive

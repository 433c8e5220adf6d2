"""``configure(c, ...)``: the local Ray head as a hub-managed service, and the user servers'
Ray settings pointed at it."""

from __future__ import annotations

import sys
from pathlib import Path

from ...embedded.ports import free_port
from ..compose import extend

SERVICE_NAME = "ray-head"


def service_definition(state_dir: Path, client_port: int, dashboard_port: int) -> dict:
    """An entry for ``c.JupyterHub.services`` (no URL: the hub does not wait for it)."""
    return {
        "name": SERVICE_NAME,
        "command": [
            sys.executable,
            "-m",
            "jupyter_remote_dev.services.ray_head",
            f"--client-port={client_port}",
            f"--dashboard-port={dashboard_port}",
            f"--state-file={state_dir / 'state.json'}",
        ],  # fmt: skip
        "display": False,
    }


def configure(c, state_dir: Path, *, client_port: int = 0, dashboard_port: int = 0) -> None:
    """Add the head to config ``c`` (state in ``state_dir``; ports free ones unless given, so a
    second hub on this machine gets its own head) and point every user server at it."""
    client_port, dashboard_port = client_port or free_port(), dashboard_port or free_port()
    extend(c, "services", [service_definition(state_dir, client_port, dashboard_port)])
    c.Spawner.environment.update(
        {
            "RAY_ADDRESS": f"ray://127.0.0.1:{client_port}",
            "JUPYTER_REMOTE_DEV_RAY_DASHBOARD_URL": f"http://127.0.0.1:{dashboard_port}",
            "JUPYTER_REMOTE_DEV_RAY_STATE_FILE": str(state_dir / "state.json"),
        }
    )

"""``configure(c, ...)``: the spend meter (and the spend view on it) in a one-machine hub config."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from pathlib import Path

from ...embedded.ports import free_port
from ...hub.labels import CostLabels, label_value
from ..compose import extend
from ..spend_view import config as spend_view
from .hub import SCOPES
from .pricing import Rates

SERVICE_NAME = "spend-meter"
ESTIMATE_NOTE = (
    "Local estimate: this machine's CPU time and memory priced at OpenCost's default rates, "
    "not a cloud bill."
)


def service_port(state_dir: Path) -> int:
    """A free loopback port, the same as last time when it still is (kept in ``state_dir``).

    A stable port keeps the URL that running user servers were given valid across hub restarts.
    """
    remembered = Path(state_dir) / "spend-meter.port"
    with contextlib.suppress(OSError, ValueError):
        port = int(remembered.read_text())
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
        return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    remembered.write_text(f"{port}\n")
    return port


def user_label_value(spawner) -> str:
    """The spawner's user as the value of the user cost label (what the hooks would set)."""
    return label_value(spawner.user.name)


def configure(
    c,
    state_dir: Path,
    *,
    port: int = 0,
    interval: float | None = None,
    rates: Rates = Rates(),
    viewers: list[str] | None = None,
    budgets: dict | None = None,
) -> str:
    """Add the spend meter to JupyterHub config ``c``; returns the URL it answers on.

    - a hub-managed service running ``python -m jupyter_remote_dev.services.spend_meter`` on
      127.0.0.1 with its history in ``state_dir/spend.sqlite``,
    - its role: read the users, their groups and their servers' state (the PIDs),
    - every user server's ordinary OpenCost backend pointed at it, authenticated with the server's
      own hub token, with the "local estimate" note for the panel.

    Cost labels follow ``c.CostLabels`` (``user_label`` etc., as the KubeSpawner hooks do). The
    sampling interval defaults to $JUPYTER_REMOTE_DEV_SPEND_INTERVAL, else 15 seconds. With
    ``viewers`` (a list, maybe empty), also the team and admin spend view on this meter, where
    ``viewers`` see every user (:func:`add_view`), with ``budgets`` if given (kept in
    ``state_dir``).
    """
    if interval is None:
        interval = float(os.environ.get("JUPYTER_REMOTE_DEV_SPEND_INTERVAL", "15"))
    labels = CostLabels(config=c)
    url = f"http://127.0.0.1:{port or service_port(state_dir)}"
    command = [
        sys.executable, "-m", "jupyter_remote_dev.services.spend_meter",
        "--db", str(Path(state_dir) / "spend.sqlite"),
        "--interval", str(interval),
        "--cpu-price", str(rates.cpu_core_hour),
        "--ram-price", str(rates.ram_gib_hour),
        "--user-label", labels.user_label,
        "--team-label", labels.team_label,
        "--team-group-pattern", labels.team_group_pattern,
        "--default-team", labels.default_team,
    ]  # fmt: skip
    service = {"name": SERVICE_NAME, "url": url, "command": command, "display": False}
    extend(c, "services", [service])
    extend(c, "load_roles", [{"name": SERVICE_NAME, "scopes": SCOPES, "services": [SERVICE_NAME]}])
    c.Spawner.environment.update(
        {
            "JUPYTER_REMOTE_DEV_COST_BACKEND": "opencost",
            "JUPYTER_REMOTE_DEV_COST_URL": f"{url}/services/{SERVICE_NAME}",
            "JUPYTER_REMOTE_DEV_COST_LABEL": labels.user_label,
            "JUPYTER_REMOTE_DEV_COST_USER": user_label_value,
            "JUPYTER_REMOTE_DEV_COST_HUB_AUTH": "1",
            "JUPYTER_REMOTE_DEV_COST_NOTE": ESTIMATE_NOTE,
        }
    )
    if viewers is not None:
        add_view(c, url, viewers, budgets, state_dir)
    return url


def add_view(
    c, meter_url: str, viewers: list[str], budgets: dict | None = None, state_dir: Path = Path()
) -> None:
    """Add the team and admin spend view (:mod:`..spend_view`), reading the meter at ``meter_url``.

    ``viewers`` see every user. The view authenticates to the meter with its own hub token, which
    holds the spend scope (the meter then answers with every user), and reads the labels the meter
    gives each server (``c.CostLabels``).
    """
    labels = CostLabels(config=c)
    service = spend_view.configure(
        c,
        cost_backend="opencost",
        cost_url=f"{meter_url}/services/{SERVICE_NAME}",
        port=free_port(),
        viewers=viewers,
        budgets=budgets,
        state_dir=str(state_dir),
        alert_interval=float(os.environ.get("JUPYTER_REMOTE_DEV_BUDGET_INTERVAL", "30")),
    )
    service["command"] += [
        "--SpendViewApp.hub_auth=True",
        f"--SpendViewApp.user_label={labels.user_label}",
        f"--SpendViewApp.team_label={labels.team_label}",
    ]

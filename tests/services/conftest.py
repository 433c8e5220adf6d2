"""The team and admin spend view behind a real JupyterHub (OAuth, RBAC), with budgets, against
the team cost stand-in: one hub per test module that asks for ``hub``."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from jupyter_remote_dev.budgets.spend import spend_window
from jupyter_remote_dev.embedded.ports import free_port
from jupyter_remote_dev.reports.athena.render import render, write
from jupyter_remote_dev.services.spend_view.summary import iso_week, last_complete_week

from ..support.athena_sample import sample
from ..support.processes import stop_group
from ..support.sinks import WebhookSink
from .team_cost_standin import CURRENT, TeamCostStandIn

HUB_CONFIG = """
c = get_config()
from jupyter_remote_dev.services.spend_view import configure_spend_view
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {password!r}
c.SharedPasswordAuthenticator.admin_password = {admin_password!r}
c.Authenticator.admin_users = {{"admin"}}
c.Authenticator.allow_all = True
c.JupyterHub.load_groups = {{
    "team-a": {{"users": ["alice", "bob"]}},
    "team-b": {{"users": ["dave"]}},
}}
c.JupyterHub.db_url = "sqlite:///{workdir}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{workdir}/cookie_secret"
c.ConfigurableHTTPProxy.pid_file = "{workdir}/proxy.pid"
configure_spend_view(
    c,
    cost_backend="opencost",
    cost_url={cost_url!r},
    port={service_port},
    viewers=["admin"],
    team_leads={{"team-a": ["carol"]}},
    athena_report_dir={athena!r},
    budgets={{
        "default": 10,
        "groups": {{"team-a": {{"amount": 100, "member": {{"amount": 20}}}}}},
        "users": {{"dave": 5}},
    }},
    state_dir={workdir!r},
    alert_interval=2,
    environment={{"JUPYTER_REMOTE_DEV_BUDGET_WEBHOOK": {webhook!r}}},
    guard_rail={{"enabled": True, "large_cpu": 1}},
)
c.Spawner.cpu_limit = 2  # a large server for the guard rail (its large_cpu is 1)
"""


def spend_start(now: datetime) -> datetime:
    """The start of the window the budgets read (the earlier of month and week start)."""
    return datetime.fromisoformat(spend_window(now).split(",")[0].replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A real JupyterHub with the spend view service, against the team cost stand-in."""
    if not shutil.which("configurable-http-proxy"):
        pytest.fail("configurable-http-proxy is missing: .ci/install installs it")
    workdir = tmp_path_factory.mktemp("spendhub")
    week_start, _ = iso_week(last_complete_week(datetime.now(timezone.utc)))
    standin = TeamCostStandIn(week_start, week_start - timedelta(days=7)).start()
    # this month's (and week's) spend so far: the week's figures again, dated at the window start
    standin.weeks[spend_start(datetime.now(timezone.utc))] = CURRENT
    webhook = WebhookSink()  # the budget alerts' and digests' webhook
    athena = workdir / "athena" / "2026-W48"
    athena.mkdir(parents=True)
    report, rows = sample()  # a real report, as `jupyter remote-dev report athena` writes it
    write(render(report, rows), athena)
    port = free_port()
    passwords = {"password": secrets.token_hex(8), "admin_password": secrets.token_hex(16)}
    config = workdir / "spend_config.py"
    config.write_text(
        HUB_CONFIG.format(
            port=port,
            hub_port=free_port(),
            proxy_api_port=free_port(),
            service_port=free_port(),
            cost_url=standin.url,
            athena=str(workdir / "athena"),
            workdir=str(workdir),
            webhook=webhook.url,
            **passwords,
        )
    )
    log = (workdir / "hub.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(config)],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (workdir / "hub.log").read_text()[-3000:]
            with contextlib.suppress(httpx.TransportError):
                # the service's own redirect to the hub's login: hub, proxy routes and service up
                if httpx.get(f"{url}/services/remote-dev-spend/", timeout=5).status_code == 302:
                    break
            assert time.monotonic() < deadline, (workdir / "hub.log").read_text()[-3000:]
            time.sleep(0.5)
        yield {
            "url": url,
            "standin": standin,
            "webhook": webhook,
            "log": workdir / "hub.log",
            **passwords,
        }
    finally:
        stop_group(process, timeout=20)
        log.close()
        standin.stop()
        webhook.stop()
        # a hub that died early leaves its proxy (its own session) behind: the pid file names it
        with contextlib.suppress(OSError, ValueError):
            os.kill(int((workdir / "proxy.pid").read_text()), signal.SIGKILL)

"""Local spend end to end: hub_config/local_config.py's real JupyterHub starts the spend meter,
a user burns CPU in their server, and the server's GET cost (its ordinary OpenCost backend, through
its cache) reports a non-zero total; the meter answers nobody else's token with that user's use,
except the spend view's own, and the demo admin sees every user in the view, in Chromium."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import psutil
import pytest

from jupyter_remote_dev.services.spend_view.summary import week_name

from ..support.local_hub_support import local_hub, stack_processes

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not shutil.which("configurable-http-proxy"),
        reason="configurable-http-proxy is not installed (.ci/install installs it)",
    ),
]

BURN = "import time\nwhile time.process_time() < 3: pass\n"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[1] / "artifacts"


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """README's hub on free loopback ports, without Ray, the meter sampling every second; users
    alice and bob exist, and the demo admin. Everything it started is stopped after the module."""
    admin_password = secrets.token_hex(20)
    env = {
        "JUPYTER_REMOTE_DEV_SPEND_INTERVAL": "1",
        # a demo budget the 3 s burn below crosses, evaluated every 2 s (issue 25)
        "JUPYTER_REMOTE_DEV_DEMO_BUDGET": "0.00003",
        "JUPYTER_REMOTE_DEV_BUDGET_INTERVAL": "2",
        "JUPYTER_REMOTE_DEV_DEMO_ADMIN_PASSWORD": admin_password,
    }
    with local_hub(tmp_path_factory.mktemp("spend-hub"), ray=False, env=env) as running:
        for name in ("alice", "bob"):
            running.admin.post(f"users/{name}").raise_for_status()
        yield {
            "url": running.url,
            "admin": running.admin,
            "workdir": running.state,
            "running": running,
            "admin_password": admin_password,
        }


def token(hub, name: str) -> dict:
    response = hub["admin"].post(f"users/{name}/tokens", json={"note": "spend e2e"})
    response.raise_for_status()
    return {"Authorization": f"token {response.json()['token']}"}


def test_cost_after_burning_cpu_is_a_local_estimate(hub):
    """Start Alice's server, burn 3 CPU seconds in it; GET cost shows a non-zero total."""
    admin, url = hub["admin"], hub["url"]
    admin.post("users/alice/server").raise_for_status()
    wait_for(lambda: admin.get("users/alice").json()["servers"].get("", {}).get("ready"),
             90, "Alice's server is ready")  # fmt: skip
    alice, bob = token(hub, "alice"), token(hub, "bob")
    api = f"{url}user/alice/remote-dev/api/"
    with httpx.stream("POST", api + "exec", headers=alice, timeout=60,
                      json={"argv": [sys.executable, "-c", BURN]}) as stream:  # fmt: skip
        assert stream.status_code == 200
        events = [json.loads(line) for line in stream.iter_lines() if line]
    assert events[-1] == {**events[-1], "type": "exit", "code": 0}, events[-3:]

    meter = f"{url}services/spend-meter/allocation"  # through the hub's proxy
    params = {"window": "today", "aggregate": "label:owner", "accumulate": "true"}

    def metered():
        sets = httpx.get(meter, params=params, headers=alice, timeout=10).json()["data"]
        alice_today = sets[0].get("alice", {})
        return alice_today if alice_today.get("cpuCoreHours", 0) * 3600 >= 2.9 else None

    metered_alice = wait_for(metered, 30, "the meter records the burnt CPU")
    assert metered_alice["totalCost"] >= 0.00003  # 3 s at OpenCost's USD 0.031611/core-hour

    cost = httpx.get(api + "cost", params={"window": "today"}, headers=alice, timeout=30)
    assert cost.status_code == 200, cost.text
    report = cost.json()
    assert report["configured"] is True and report["source"] == "opencost"
    assert report["user"] == "alice" and report["total"] > 0 and report["breakdown"]["cpu"] > 0
    assert "local estimate" in report["note"].lower()

    # nobody else's figures: Bob's token sees only Bob, no token is refused
    bobs = httpx.get(meter, params=params, headers=bob, timeout=10).json()["data"]
    assert "alice" not in bobs[0]
    refused = httpx.get(meter, params=params, timeout=10)
    assert refused.status_code == 401 and refused.json()["data"] is None
    bob_on_alice = httpx.get(api + "cost", headers=bob, timeout=10)
    assert bob_on_alice.status_code == 403


def test_the_demo_budget_alerts_alice_in_her_server_and_in_the_admins_view(hub):
    """After the burn, Alice's server (asking the view with its own token) shows her budget used
    and an alert; the admin's view lists that alert, recorded once."""
    api = f"{hub['url']}user/alice/remote-dev/api/"
    alice = token(hub, "alice")

    def alerted():
        answer = httpx.get(api + "cost/budget", headers=alice, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json() if answer.json().get("alerts") else None

    budget = wait_for(alerted, 150, "the demo budget's alert reaches Alice's server")
    assert (budget["source"], budget["amount"], budget["period"]) == ("default", 3e-05, "month")
    assert budget["spent"] > 0 and budget["state"] in ("will_exceed", "exceeded")
    assert budget["line"].startswith("$0.00 of $0.00 this month")  # tiny amounts, as USD
    assert {a["level"] for a in budget["alerts"]} <= {"50", "80", "100", "projected"}
    view = f"{hub['url']}services/remote-dev-spend/api/budgets"
    listed = httpx.get(view, headers=token(hub, "admin"), timeout=30)
    assert listed.status_code == 200, listed.text
    alices = [a for a in listed.json()["alerts"] if a["subject"] == "alice"]
    assert [a["level"] for a in alices] == [a["level"] for a in budget["alerts"]]
    refused = httpx.get(view, headers=alice, timeout=30)  # a user has no view of others'
    assert refused.status_code == 403


def spend_view_token(hub) -> dict:
    """The spend view service's own hub token, from the environment the hub started it with."""
    (view,) = [
        p for p in stack_processes(hub["running"].process.pid)
        if "jupyter_remote_dev.services.spend_view" in p.cmdline()
    ]  # fmt: skip
    return {"Authorization": f"token {view.environ()['JUPYTERHUB_API_TOKEN']}"}


def test_the_views_token_reads_every_user_a_users_token_only_their_own(hub):
    """The meter answers the spend view's token with Alice's use (she is not the view); the demo
    admin's own token, although the admin sees everyone in the view, reads only the admin's."""
    meter = f"{hub['url']}services/spend-meter/allocation"
    params = {"window": "today", "aggregate": "label:owner", "accumulate": "true",
              "includeIdle": "true"}  # fmt: skip
    view = httpx.get(meter, params=params, headers=spend_view_token(hub), timeout=10)
    assert view.status_code == 200, view.text
    (everyone,) = view.json()["data"]
    assert everyone["alice"]["cpuCoreHours"] * 3600 >= 2.9  # after test_cost_after_burning_cpu...
    assert not [key for key in everyone if "__idle__" in key]  # the meter prices no idle machine
    (admins,) = httpx.get(meter, params=params, headers=token(hub, "admin"), timeout=10).json()[
        "data"
    ]
    assert admins == {}


def test_the_demo_admin_sees_every_user_in_the_spend_view(hub):
    """The banner names the demo admin and the view; logged in as the admin, headless Chromium
    shows Alice's metered spend, efficiency and idle capacity n/a (nothing requested, no idle)."""
    from playwright.sync_api import sync_playwright

    output = hub["running"].output()
    assert f"  admins:   admin (password: {hub['admin_password']})" in output
    view_url = f"{hub['url']}services/remote-dev-spend/"
    assert f"  spend:    {view_url} " in output
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: .ci/install installs Debian's chromium package")
    week = week_name(datetime.now(timezone.utc))  # the meter has this week's use only
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{hub['url']}hub/login?next=/services/remote-dev-spend/?week={week}")
            page.fill("#username_input", "admin")
            page.fill("#password_input", hub["admin_password"])
            page.click("#login_submit")
            page.locator("#total").wait_for()
            assert "showing all users" in page.content()
            alice = page.locator('tr[data-user="alice"]').inner_text().split("\t")
            assert alice[0] == "alice" and alice[2] in ("<0.01 USD", "0.01 USD")  # 3 CPU seconds
            assert alice[5].strip() == "n/a"  # usage of request: a local server requests nothing
            assert page.locator("#cluster-idle").inner_text() == "n/a"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "spend-view-embedded.png"), full_page=True)
        finally:
            browser.close()


def meter_process(hub) -> psutil.Process | None:
    """The spend meter the hub started (found by its history file), if running."""
    database = str(hub["workdir"] / "spend.sqlite")
    found = [
        p for p in psutil.process_iter(["cmdline"])
        if "jupyter_remote_dev.services.spend_meter" in (p.info["cmdline"] or [])
        and database in p.info["cmdline"]
    ]  # fmt: skip
    assert len(found) <= 1, found
    return found[0] if found else None


def test_the_meter_listens_on_loopback_only(hub):
    """The service process the hub started has its listening sockets on 127.0.0.1 only."""
    meter = meter_process(hub)
    listening = [c.laddr for c in meter.net_connections("inet") if c.status == psutil.CONN_LISTEN]
    assert listening and all(address.ip == "127.0.0.1" for address in listening), listening


def test_history_survives_a_restart_of_the_meter(hub):
    """Killed, the meter is restarted by the hub and still knows the CPU burnt before."""
    alice = token(hub, "alice")
    meter_url = f"{hub['url']}services/spend-meter/allocation"
    params = {"window": "today", "aggregate": "label:owner", "accumulate": "true"}

    def alice_cpu():
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
            response = httpx.get(meter_url, params=params, headers=alice, timeout=10)
            return response.json()["data"][0].get("alice", {}).get("cpuCoreHours")

    before = alice_cpu()
    assert before and before * 3600 >= 2.9  # after test_cost_after_burning_cpu...
    old = meter_process(hub)
    old.terminate()

    def exited():
        try:
            return old.status() == psutil.STATUS_ZOMBIE  # until the hub's poll reaps it
        except psutil.NoSuchProcess:
            return True

    wait_for(exited, 15, "the meter stops on SIGTERM")
    restarted = wait_for(lambda: (p := meter_process(hub)) and p.pid != old.pid and p, 60,
                         "the hub restarts the meter")  # fmt: skip
    after = wait_for(alice_cpu, 30, "the restarted meter answers")
    assert after >= before and restarted.is_running()

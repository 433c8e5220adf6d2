"""Local spend end to end: hub_config/local_config.py's real JupyterHub starts the spend meter,
a user burns CPU in their server, and the server's GET cost (its ordinary OpenCost backend, through
its cache) reports a non-zero total; the meter answers nobody else's token with that user's use."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time

import httpx
import psutil
import pytest

from .local_hub_support import local_hub

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not shutil.which("configurable-http-proxy"),
        reason="configurable-http-proxy is not installed (.ci/install installs it)",
    ),
]

BURN = "import time\nwhile time.process_time() < 3: pass\n"


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
    alice and bob exist. Everything it started is stopped after the module."""
    sampling = {"JUPYTER_REMOTE_DEV_SPEND_INTERVAL": "1"}
    with local_hub(tmp_path_factory.mktemp("spend-hub"), ray=False, env=sampling) as running:
        for name in ("alice", "bob"):
            running.admin.post(f"users/{name}").raise_for_status()
        yield {"url": running.url, "admin": running.admin, "workdir": running.state}


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

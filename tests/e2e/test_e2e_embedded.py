"""README's main job, end to end: ``jupyterhub -f hub_config/local_config.py`` as a subprocess.

One hub for the module (state in a temporary folder, free ports, Ray on): log in with the shared
password, start a server, make tokens; Git sync pushes to the user's branch of the team
repository through the hub-authenticated service; another user's token cannot push there;
``GET ray`` reaches the hub's own Ray head; every listening socket of the stack is on loopback;
stopping the hub stops everything.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from ..support.git_http_support import git
from ..support.local_hub_support import (
    is_loopback,
    listening_sockets,
    local_hub,
    stack_processes,
    stop_hub,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(1200),
    pytest.mark.skipif(
        not shutil.which("configurable-http-proxy"),
        reason="configurable-http-proxy is not installed (.ci/install-hub installs it)",
    ),
]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
RAY_READY_SECONDS = 420  # three attempts of a head start on a loaded 2-core machine


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    sampling = {"JUPYTER_REMOTE_DEV_SPEND_INTERVAL": "1"}  # the meter samples every second
    with local_hub(tmp_path_factory.mktemp("embedded"), env=sampling) as running:
        running.admin.post("users/alice").raise_for_status()
        running.admin.post("users/bob").raise_for_status()
        yield running


@pytest.fixture(scope="module")
def alice(hub):
    """Alice's server, started through the hub, and a token of hers."""
    hub.timings["server_ready"] = hub.start_server("alice")
    return {"token": hub.user_token("alice"), "api": f"{hub.url}user/alice/"}


def api(user: dict, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"token {user['token']}"}
    kwargs.setdefault("timeout", 120)
    return httpx.request(method, user["api"] + path, headers=headers, **kwargs)


def test_embedded_start_up_ends_with_url_users_and_password(hub):
    """The hub's last start-up lines name its URL, the demo users and the password."""
    deadline = time.monotonic() + 30
    while "  password: " not in hub.output():
        assert time.monotonic() < deadline, hub.output()[-3000:]
        time.sleep(0.2)
    lines = hub.output().splitlines()
    ready = max(i for i, line in enumerate(lines) if "JupyterHub is now running at" in line)
    assert lines[ready + 1 : ready + 4] == [
        f"jupyter-remote-dev demo hub: {hub.url}",
        "  users:    any user name, e.g. alice or bob",
        f"  password: {hub.password}",
    ]
    assert "DummyAuthenticator" not in hub.output()  # no deprecation warning either
    assert {"git", "jupyterhub.sqlite"} <= {p.name for p in hub.state.iterdir()}


def test_embedded_login_takes_the_shared_password(hub):
    """Any user name logs in with the shared password; a wrong one is refused."""
    with httpx.Client(base_url=hub.url, timeout=30) as browser:
        page = browser.get("hub/login")
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
        wrong = browser.post("hub/login", data={"username": "carol", "password": "wrong-pass",
                                                "_xsrf": xsrf})  # fmt: skip
        assert wrong.status_code == 403
        right = browser.post("hub/login", data={"username": "carol", "password": hub.password,
                                                "_xsrf": xsrf})  # fmt: skip
        assert right.status_code == 302, right.text
        assert browser.get("hub/api/user").json()["name"] == "carol"


def test_embedded_git_sync_pushes_to_the_users_branch(hub, alice):
    """GET git/status is configured; a sync commits a new file and pushes remote-dev/alice."""
    status = api(alice, "GET", "remote-dev/api/git/status").json()
    assert status["configured"] is True
    assert status["branch"] == "remote-dev/alice" and status["upstream"] == "main"
    assert status["repo"] == f"{hub.url}services/team-git/team.git"
    note = {"type": "file", "format": "text", "content": "alice was here\n"}
    deadline = time.monotonic() + 120
    while True:  # the server's first cycle (a clone) may still be running: 409 until it is done
        synced = api(alice, "POST", "remote-dev/api/git/sync", content=b"")
        if synced.status_code != 409 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert synced.status_code == 200, synced.text
    put = api(alice, "PUT", "api/contents/team-project/notes.md", json=note)
    assert put.status_code in (200, 201), put.text
    synced = api(alice, "POST", "remote-dev/api/git/sync", content=b"")
    assert synced.status_code == 200, synced.text
    assert synced.json()["last_cycle"]["result"] == "ok", synced.json()
    bare = str(hub.state / "git" / "repos" / "team.git")
    assert git("--git-dir", bare, "show", "remote-dev/alice:notes.md").stdout == "alice was here\n"
    files = git("--git-dir", bare, "ls-tree", "-r", "--name-only", "remote-dev/alice").stdout
    assert "analysis/summary.py" in files  # main's sample project, merged in
    assert api(alice, "GET", "remote-dev/api/git/status").json()["ahead"] == 0


def test_embedded_other_users_token_cannot_push_to_the_branch(hub, alice, tmp_path):
    """Bob's hub token: refused as alice (403), and as bob it may push only remote-dev/bob."""
    bob_token = hub.user_token("bob")
    url = f"{hub.url}services/team-git/team.git"
    refs = f"{url}/info/refs?service=git-receive-pack"
    assert httpx.get(refs, timeout=30).status_code == 401
    assert httpx.get(refs, auth=("alice", bob_token), timeout=30).status_code == 403
    clone = tmp_path / "bob-clone"
    git("clone", "-q", url, str(clone), user="bob", token=bob_token)
    git("checkout", "-q", "-b", "on-alice", "origin/remote-dev/alice", cwd=clone)  # fast-forward
    (clone / "bob.txt").write_text("not alice's\n")
    git("add", "bob.txt", cwd=clone)
    git("commit", "-q", "-m", "bob", cwd=clone)
    refused = git("push", "origin", "HEAD:refs/heads/remote-dev/alice", cwd=clone, user="bob",
                  token=bob_token, check=False)  # fmt: skip
    assert refused.returncode != 0
    assert "bob may push only to refs/heads/remote-dev/bob" in refused.stderr
    git("push", "-q", "origin", "HEAD:refs/heads/remote-dev/bob", cwd=clone, user="bob",
        token=bob_token)  # fmt: skip
    bare = str(hub.state / "git" / "repos" / "team.git")
    alice_files = git("--git-dir", bare, "ls-tree", "-r", "--name-only", "remote-dev/alice").stdout
    assert "bob.txt" not in alice_files


def test_embedded_ray_is_reachable_and_runs_a_task(hub, alice):
    """GET ray says starting (or already reachable), then reachable; a task runs on the head."""
    seen = []
    deadline = time.monotonic() + RAY_READY_SECONDS
    while True:
        status = api(alice, "GET", "remote-dev/api/ray").json()
        if not seen or seen[-1] != status["state"]:
            seen.append(status["state"])
        if status["state"] == "reachable" or time.monotonic() > deadline:
            break
        assert status["state"] == "starting", status
        time.sleep(1)
    hub.timings["ray_reachable"] = time.monotonic() - hub.launched
    assert status["state"] == "reachable", (seen, status, ray_service_log(hub))
    assert status["address"].startswith("ray://127.0.0.1:")
    assert status["mismatch"] is False
    script = textwrap.dedent(
        """
        import ray
        for attempt in (1, 2, 3):  # a loaded machine: a connection's server can fail to start
            try:
                ray.init()
                break
            except ConnectionError as e:
                print(f"ray.init() attempt {attempt} failed:", e, flush=True)
        print("result", ray.get(ray.remote(lambda: 6 * 7).remote()))
        """
    )
    body = {"argv": [sys.executable, "-c", script], "timeout": 480,
            "env": {"RAY_CLIENT_RECONNECT_GRACE_PERIOD": "120"}}  # fmt: skip
    ran = api(alice, "POST", "remote-dev/api/exec", json=body, timeout=500)
    events = [json.loads(line) for line in ran.text.splitlines()]
    output = "".join(e.get("data", "") for e in events)
    assert events[-1]["type"] == "exit" and events[-1]["code"] == 0, output + ray_logs(hub)
    assert "result 42" in output


def panel_money(amount: float) -> str:
    """The panel's rendering of a USD amount (labextension/src/format.ts formatMoney)."""
    return "<$0.01" if 0 < amount < 0.005 else f"${amount:,.2f}"


@pytest.mark.browser
def test_embedded_panel_shows_spend_git_and_ray_live(hub, alice):
    """Alice burns CPU; then, logged in through the hub in headless Chromium, her sidebar shows
    a non-zero local spend estimate (the figure GET cost answers), Git sync and Ray, all live."""
    burn = "import time\nwhile time.process_time() < 3: pass\n"
    ran = api(alice, "POST", "remote-dev/api/exec", json={"argv": [sys.executable, "-c", burn]})
    exit_event = json.loads(ran.text.splitlines()[-1])
    assert (exit_event["type"], exit_event["code"]) == ("exit", 0), ran.text[-500:]
    meter = f"{hub.url}services/spend-meter/allocation"
    params = {"window": "today", "aggregate": "label:owner", "accumulate": "true"}
    headers = {"Authorization": f"token {alice['token']}"}
    deadline = time.monotonic() + 60
    while True:  # the meter has sampled the burn before the server first asks (its cache: 300 s)
        sets = httpx.get(meter, params=params, headers=headers, timeout=10).json()["data"]
        if sets[0].get("alice", {}).get("cpuCoreHours", 0) * 3600 >= 2.9:
            break
        assert time.monotonic() < deadline, sets
        time.sleep(1)
    cost = api(alice, "GET", "remote-dev/api/cost", params={"window": "7d"}).json()
    assert cost["total"] > 0 and cost["note"], cost
    assert api(alice, "GET", "remote-dev/api/git/status").json()["configured"] is True

    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(f"{hub.url}hub/login?next=/user/alice/lab")
        page.fill("#username_input", "alice")
        page.fill("#password_input", hub.password)
        page.click("#login_submit")
        tab = page.locator('.jp-SideBar [data-id="jp-RemoteDev-panel"]')
        tab.wait_for()
        if not page.locator("#jp-RemoteDev-panel").is_visible():
            tab.click()
        spend = page.locator('.jp-RemoteDev-cost[data-state="ready"]')
        spend.wait_for()
        assert spend.locator(".jp-RemoteDev-totalValue").inner_text() == panel_money(cost["total"])
        assert page.get_by_role("note", name="About these figures").inner_text() == cost["note"]
        git = page.locator('.jp-RemoteDev-git[data-state="ready"]')
        git.wait_for()
        assert git.locator(".jp-RemoteDev-syncNow").is_enabled()
        ray = page.locator('.jp-RemoteDev-ray[data-state="ready"]')
        ray.wait_for()
        assert ray.locator(".jp-RemoteDev-badge").first.inner_text() == "Reachable"
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#jp-RemoteDev-panel").screenshot(path=str(ARTIFACTS / "panel-embedded.png"))
        browser.close()


def test_embedded_every_listening_socket_is_on_loopback(hub, alice):
    """Hub, proxy, user server, services and Ray (with its workers): LISTEN on loopback only."""
    sockets = listening_sockets(stack_processes(hub.process.pid))
    names = {name for _, _, name in sockets}
    assert {"gcs_server", "raylet"} <= names, names
    assert any(name in ("node", "configurable-http-proxy") for name in names), names
    outside = [s for s in sockets if not is_loopback(s[0])]
    assert outside == [], outside


def test_embedded_stopping_the_hub_stops_everything(hub):
    """SIGTERM to the hub (Ctrl-C) ends its servers, services, proxy and Ray head."""
    assert stop_hub(hub.process) == []
    record = json.loads((hub.state / "ray" / "state.json").read_text())
    assert record["state"] == "stopped", record


def ray_logs(hub) -> str:
    """The Ray client server's error logs of the hub's head, to explain a failed ray.init()."""
    path = hub.state / "ray" / "ray-service.log"
    found = re.findall(r"temp dir (\S+)\)", path.read_text() if path.exists() else "")
    if not found:
        return ""
    logs = sorted(Path(found[-1]).glob("*/session_latest/logs/ray_client_server*.err"))
    return "".join(f"\n== {log.name}\n{log.read_text(errors='replace')[-2000:]}" for log in logs)


def ray_service_log(hub) -> str:
    path = hub.state / "ray" / "ray-service.log"
    return path.read_text()[-3000:] if path.exists() else "(no ray-service.log)"

"""The lab sidebar in a real `jupyter lab` and Debian's headless Chromium (Playwright).

Spend comes from the real server extension reading the OpenCost stand-in; the Git-sync and Ray
sections are shown against whatever this server answers, and once against contract-shaped answers
routed in the browser (internal-contracts.md), since those endpoints belong to other areas.
Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import jupyter_remote_dev
from jupyter_remote_dev.embedded.ports import free_port

from ..support.cost_standin import CostStandIn
from ..support.processes import stop_group

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
PACKAGE_DIR = Path(jupyter_remote_dev.__file__).parent  # holds labextension/ (the built panel)
PANEL_TAB = '.jp-SideBar [data-id="jp-RemoteDev-panel"]'
ESTIMATE_NOTE = "Local estimate: this machine's CPU time and memory at OpenCost's default rates."


@pytest.fixture(autouse=True)
def jp_asyncio_loop():
    """Replaces pytest-jupyter's: Playwright's sync API owns this thread's event loop here."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup():
    """Replaces pytest-jupyter's: the server here is a subprocess, cleaned up by `lab`."""
    yield


@pytest.fixture(scope="module")
def standin():
    """The OpenCost stand-in the lab's extension reads."""
    server = CostStandIn(dialect="opencost").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, standin):
    """A `jupyter lab` subprocess with the extension, a token and isolated settings dirs."""
    if not (PACKAGE_DIR / "labextension" / "package.json").exists():
        pytest.fail("the lab extension is not built: run `pip install -e .` (it runs jlpm build)")
    home = tmp_path_factory.mktemp("lab")
    token = secrets.token_hex(16)
    port = free_port()
    env = dict(os.environ)
    for name in ("config", "data", "runtime", "workspaces", "root", "labextensions"):
        (home / name).mkdir()
    # Serve the panel as built from this checkout (the folder must carry the package's name).
    (home / "labextensions" / "jupyter-remote-dev").symlink_to(PACKAGE_DIR / "labextension")
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTER_REMOTE_DEV_COST_BACKEND="opencost",
        JUPYTER_REMOTE_DEV_COST_URL=standin.base_url,
        JUPYTER_REMOTE_DEV_COST_LABEL="hub.jupyter.org/username",
        JUPYTER_REMOTE_DEV_COST_USER="alice",
        JUPYTER_REMOTE_DEV_COST_NOTE=ESTIMATE_NOTE,
    )
    for name in ("JUPYTER_REMOTE_DEV_GIT_REPO", "RAY_ADDRESS", "JUPYTER_REMOTE_DEV_RAY_CLUSTER"):
        env.pop(name, None)
    news = home / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)  # no "get notified about news?" toast over the screenshots
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    config = {"ServerApp": {"jpserver_extensions": {"jupyter_remote_dev": True}}}
    (home / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.allow_root=True",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={home / 'root'}",
        f"--LabApp.extra_labextensions_path={home / 'labextensions'}",
        "--RemoteDevExtension.cost_cache_ttl=1",
        "--RemoteDevExtension.cost_request_timeout=2",
    ]
    log = open(home / "lab.log", "wb")
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited: {(home / 'lab.log').read_text()[-2000:]}")
            try:
                reply = httpx.get(f"{url}/api/status", headers={"Authorization": f"token {token}"})
                if reply.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("jupyter lab did not start within 90 s")
            time.sleep(0.3)
        yield {"url": url, "token": token, "log": home / "lab.log"}
    finally:
        stop_group(process)
        log.close()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: .ci/install installs Debian's chromium package")
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, lab):
    """A fresh page on JupyterLab with the remote-dev panel open."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def open_panel(page, lab) -> None:
    page.goto(f"{lab['url']}/lab?token={lab['token']}")
    page.locator(PANEL_TAB).wait_for()
    page.locator("#jupyterlab-splash").wait_for(state="detached")  # layout restored
    if not page.locator("#jp-RemoteDev-panel").is_visible():
        page.locator(PANEL_TAB).click()
    page.locator("#jp-RemoteDev-panel").wait_for(state="visible")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.locator("#jp-RemoteDev-panel").screenshot(path=str(path))
    return path


def luminance(css_color: str) -> float:
    """Relative luminance (0 dark .. 1 light) of an `rgb(...)`/`rgba(...)` colour."""
    channels = css_color[css_color.index("(") + 1 : css_color.index(")")].split(",")[:3]
    red, green, blue = (int(float(c)) / 255 for c in channels)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_panel_shows_spend_then_error_then_dark_theme(page, lab, standin):
    """The stand-in's numbers appear, the error shows while it is down, dark theme, recovery."""
    open_panel(page, lab)
    cost = page.locator(".jp-RemoteDev-cost")
    page.locator('.jp-RemoteDev-cost[data-state="ready"]').wait_for()
    assert page.locator(".jp-RemoteDev-totalValue").inner_text() == "$0.98"
    assert "CPU $0.63" in page.get_by_role("img", name="Breakdown by resource").get_attribute(
        "aria-label"
    )
    assert page.locator(".jp-RemoteDev-dayBar").count() == 7
    assert page.locator(".jp-RemoteDev-efficiencyValue").inner_text() == "29%"
    assert page.get_by_role("meter", name="Efficiency").get_attribute("aria-valuenow") == "29"
    assert "opencost" in page.locator(".jp-RemoteDev-meta").inner_text()

    page.get_by_label("Spend window").select_option("30d")
    page.wait_for_function(
        "document.querySelectorAll('.jp-RemoteDev-dayBar').length === 30", timeout=15_000
    )
    assert page.locator(".jp-RemoteDev-totalWindow").inner_text() == "last 30 days"
    assert standin.requests[-1]["window"] == "30d"
    for name in ("git", "ray"):  # other areas' sections settle into an honest state
        page.wait_for_function(
            f"document.querySelector('.jp-RemoteDev-{name}').dataset.state !== 'loading'"
        )
        state = page.locator(f".jp-RemoteDev-{name}").get_attribute("data-state")
        assert state in ("unavailable", "not-configured", "ready", "error"), (name, state)
    screenshot(page, "panel-light.png")

    port = standin.port
    standin.stop()
    time.sleep(1.1)  # past the server's 1 s cache TTL
    page.get_by_role("button", name="Refresh spend").click()
    page.locator('.jp-RemoteDev-cost[data-state="error"]').wait_for()
    alert = cost.get_by_role("alert").inner_text()
    assert "HTTP 502" in alert and "unreachable" in alert
    screenshot(page, "panel-error.png")

    panel = page.locator("#jp-RemoteDev-panel")
    light = panel.evaluate("node => getComputedStyle(node).backgroundColor")
    page.locator("#jp-MainMenu").get_by_text("Settings", exact=True).click()
    page.locator(".lm-Menu").get_by_text("Theme", exact=True).hover()
    page.locator(".lm-Menu").get_by_text("JupyterLab Dark", exact=True).click()
    page.locator('body[data-jp-theme-light="false"]').wait_for(state="attached")
    page.wait_for_function(
        "getComputedStyle(document.getElementById('jp-RemoteDev-panel')).backgroundColor !== "
        + json.dumps(light)
    )
    dark = panel.evaluate("node => getComputedStyle(node).backgroundColor")
    text = panel.evaluate("node => getComputedStyle(node).color")
    assert luminance(light) > 0.8 and luminance(dark) < 0.3 and luminance(text) > 0.6

    standin.start(port)  # the backend is back: the panel recovers on refresh
    page.get_by_role("button", name="Refresh spend").click()
    page.locator('.jp-RemoteDev-cost[data-state="ready"]').wait_for()
    assert page.locator(".jp-RemoteDev-totalValue").inner_text() == "$0.98"
    screenshot(page, "panel-dark.png")


GIT_STATUS = {
    "configured": True,
    "repo": "https://git.example.com/data-platform/analytics/customer-churn-models-2026.git",
    "workspace": "/home/jovyan/projects/customer-churn/experiments/feature-store-migration",
    "branch": "remote-dev/alice",
    "upstream": "main",
    "ahead": 2,
    "behind": 1,
    "running": False,
    "last_cycle": {
        "started_at": "2026-01-01T10:00:00Z",
        "finished_at": "2026-01-01T10:00:03Z",
        "result": "conflict",
        "message": "1 conflict kept aside",
    },
    "conflicts": [{"path": "train.py", "kept_at": ".remote-dev-conflicts/train.py.remote"}],
    "skipped": [{"path": "data/big.parquet", "size": 2_000_000_000, "reason": "larger than limit"}],
}
SYNCED = dict(GIT_STATUS, ahead=0, behind=0, conflicts=[], skipped=[])
SYNCED["last_cycle"] = dict(GIT_STATUS["last_cycle"], result="ok", message="pushed 2 commits")
RAY = {
    "configured": True,
    "address": "ray://ray-alice-head-svc.jhub.svc.cluster.local:10001",
    "dashboard_url": "http://ray-alice-head-svc.jhub.svc.cluster.local:8265",
    "proxied_dashboard_url": "/remote-dev/api/ray/dashboard/",
    "reachable": True,
    "cluster_ray_version": "2.59.0",
    "local_ray_version": "2.60.0",
    "local_python_version": "3.11.7",
    "mismatch": True,
    "message": "Ray 2.60.0 here but 2.59.0 on the cluster",
}
RAY_JOBS = {
    "jobs": [
        {
            "job_id": "02000000",
            "submission_id": "raysubmit_QbXK9cZ4tHn2WJ7pLm5sVd8eRf3gYa6u",
            "status": "RUNNING",
            "entrypoint": "python train.py --epochs 3",
            "start_time": 1767261600000,
            "end_time": None,
        }
    ]
}


def test_panel_renders_git_and_ray_contract_shapes(page, lab):
    """Contract-shaped git/ray answers show ahead/behind, conflicts, Sync now, mismatch, jobs."""
    posts = []

    def answer(payload):
        def handler(route):
            status, body = 200, payload
            if route.request.method == "POST":
                posts.append(route.request.url)
                if len(posts) == 1:  # the first click meets a cycle that is already running
                    status, body = 409, {"message": "a sync cycle is already running"}
            route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

        return handler

    routed = {"git/status": GIT_STATUS, "git/sync": SYNCED, "ray": RAY, "ray/jobs": RAY_JOBS}
    for path, payload in routed.items():  # ServerConnection adds a cache-busting query to GETs
        page.route(re.compile(rf"/remote-dev/api/{path}(\?[0-9]*)?$"), answer(payload))
    open_panel(page, lab)
    git = page.locator('.jp-RemoteDev-git[data-state="ready"]')
    git.wait_for()
    assert git.get_by_label("2 commits ahead, 1 behind").inner_text() == "↑2 ↓1"
    assert ".remote-dev-conflicts/train.py.remote" in git.get_by_role("alert").inner_text()
    assert "Conflicts kept aside" in git.locator(".jp-RemoteDev-badge").inner_text()
    ray = page.locator('.jp-RemoteDev-ray[data-state="ready"]')
    ray.wait_for()
    assert "2.59.0 on the cluster" in ray.get_by_role("alert").inner_text()
    link = ray.get_by_role("link", name="Open the Ray dashboard")
    assert link.get_attribute("href") == "/remote-dev/api/ray/dashboard/"
    assert ray.get_by_role("list", name="Ray jobs").locator("li").count() == 1
    assert "python train.py --epochs 3" in ray.locator(".jp-RemoteDev-entrypoint").inner_text()
    long_texts = {  # cut with an ellipsis on one line, the whole text on hover
        git.get_by_title(GIT_STATUS["repo"]): GIT_STATUS["repo"],
        git.get_by_title(GIT_STATUS["workspace"]): GIT_STATUS["workspace"],
        ray.locator(".jp-RemoteDev-jobId"): RAY_JOBS["jobs"][0]["submission_id"],
    }
    for element, text in long_texts.items():
        assert element.get_attribute("title") == text and element.inner_text() == text
        assert element.evaluate(CLIPPED), text
    screenshot(page, "panel-git-ray.png")

    sync_now = page.get_by_role("button", name="Sync the workspace with Git now")
    sync_now.click()
    git.get_by_text("A sync cycle is already running.").wait_for()
    assert git.get_by_label("2 commits ahead, 1 behind").is_visible()
    sync_now.click()
    page.wait_for_function(
        "document.querySelector('.jp-RemoteDev-gitSummary')?.textContent === 'Up to date'"
    )
    assert len(posts) == 2
    assert git.locator(".jp-RemoteDev-badge").inner_text() == "Synced"


#: True when an element is one line cut with an ellipsis (its text is wider than its box).
CLIPPED = """(node) => getComputedStyle(node).textOverflow === 'ellipsis'
    && getComputedStyle(node).whiteSpace === 'nowrap' && node.scrollWidth > node.clientWidth"""

LOCAL_REPORT = {  # the local meter's figures: fractions of a cent, no request (efficiency unknown)
    "configured": True,
    "user": "alice",
    "window": "7d",
    "currency": "USD",
    "total": 0.00042,
    "breakdown": {"cpu": 0.0003, "ram": 0.00012},
    "efficiency": None,
    "daily": [{"date": f"2026-12-0{d}", "total": 0.00042 if d == 7 else 0} for d in range(1, 8)],
    "includes_ray": False,
    "note": ESTIMATE_NOTE,
    "source": "opencost",
    "updated_at": "2026-12-07T10:00:00Z",
}


def test_panel_small_spend_is_a_sliver_and_efficiency_is_n_a(page, lab):
    """A day of a fraction of a cent is a thin bar on a one-cent scale (never "max $0.00 / day"
    over a full bar); with nothing requested, efficiency is n/a and its meter is not full."""
    body = json.dumps(LOCAL_REPORT)
    page.route(
        re.compile(r"/remote-dev/api/cost(\?.*)?$"),
        lambda route: route.fulfill(status=200, content_type="application/json", body=body),
    )
    open_panel(page, lab)
    page.locator('.jp-RemoteDev-cost[data-state="ready"]').wait_for()
    assert page.locator(".jp-RemoteDev-totalValue").inner_text() == "<$0.01"
    assert page.locator(".jp-RemoteDev-chartMax").inner_text() == "scale $0.01 / day"
    heights = [float(h) for h in page.locator(".jp-RemoteDev-dayBar").evaluate_all(
        "bars => bars.map(bar => bar.getAttribute('height'))")]  # fmt: skip
    assert len(heights) == 7 and max(heights) < 56 * 0.1  # a sliver of the 56-unit chart
    assert page.locator(".jp-RemoteDev-efficiencyValue").inner_text() == "n/a"
    assert page.get_by_role("meter", name="Efficiency").count() == 0
    fill = page.locator(".jp-RemoteDev-meterFill").get_attribute("style")
    assert fill == "width: 0%"
    screenshot(page, "panel-local-estimate.png")


def test_panel_says_the_figures_are_an_estimate(page, lab):
    """cost_estimate_note (here from the environment) shows with the figures, as a note."""
    open_panel(page, lab)
    page.locator('.jp-RemoteDev-cost[data-state="ready"]').wait_for()
    note = page.get_by_role("note", name="About these figures")
    assert note.inner_text() == ESTIMATE_NOTE
    assert note.is_visible()


WRAPPED_WORDS = """(node) => {
    const chars = [];
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
        for (let i = 0; i < text.data.length; i++) {
            const range = document.createRange();
            range.setStart(text, i);
            range.setEnd(text, i + 1);
            const rect = range.getClientRects()[0];
            chars.push([text.data[i], rect ? Math.round(rect.top) : null]);
        }
    }
    const split = [];
    const all = chars.map((c) => c[0]).join('');
    for (const match of all.matchAll(/[A-Za-z0-9_.]{12,}/g)) {
        for (let i = match.index + 1; i < match.index + match[0].length; i++) {
            if (chars[i][1] !== chars[i - 1][1] && !'_.'.includes(chars[i - 1][0])) {
                split.push(match[0]);
            }
        }
    }
    return split;
}"""


def test_not_configured_detail_never_breaks_a_name(page, lab):
    """The admin-facing line wraps between words; a name longer than the line only after a _."""
    from jupyter_remote_dev.cost.service import CostServiceConfig

    message = CostServiceConfig("", "", "owner", "alice").problem()
    body = json.dumps({"configured": False, "message": message})
    page.route(
        re.compile(r"/remote-dev/api/cost(\?.*)?$"),
        lambda route: route.fulfill(status=200, content_type="application/json", body=body),
    )
    open_panel(page, lab)
    page.locator('.jp-RemoteDev-cost[data-state="not-configured"]').wait_for()
    detail = page.locator(".jp-RemoteDev-cost .jp-RemoteDev-noticeDetail")
    assert detail.inner_text() == message
    lines = detail.evaluate("node => node.getClientRects()[0].height") / float(
        detail.evaluate("node => parseFloat(getComputedStyle(node).lineHeight) || 16")
    )
    assert lines > 1.5, "the panel is too wide to show the wrapping"
    assert detail.evaluate(WRAPPED_WORDS) == []
    names = detail.locator("code").all_inner_texts()
    assert names == ["JUPYTER_REMOTE_DEV_COST_BACKEND", "cost_backend"]
    screenshot(page, "panel-not-configured.png")


def budget_status() -> dict:
    """GET cost/budget as the spend view answers it (its own ``budget_answer``): $42 of a $200
    group budget this month, spent over the last three days (so it will exceed), one alert this
    period and a right-sizing hint."""
    from jupyter_remote_dev.budgets.config import Budget, Resolved
    from jupyter_remote_dev.budgets.periods import period_window
    from jupyter_remote_dev.budgets.rightsizing import accumulate, hints
    from jupyter_remote_dev.budgets.sidebar import budget_answer

    now = datetime.datetime.now(datetime.timezone.utc)
    start = period_window("month", now)[0]
    days = [d for d in (now.date() - datetime.timedelta(n) for n in range(3)) if d >= start.date()]
    daily = [{"date": d.isoformat(), "total": 42 / len(days)} for d in days]
    message = "You have spent $42.00 of $200.00 this month."
    alert = {"at": now.isoformat(timespec="seconds"), "level": "80", "message": message}
    alert["period_start"] = start.isoformat()
    usage = {"minutes": 600, "cpuCost": 20.0}
    usage.update(cpuCoreRequestAverage=4, cpuCoreUsageAverage=0.3)
    found = hints(accumulate([("alice", usage)]))
    return budget_answer(
        Resolved(Budget(200), "group", "team-a"), daily, now, "USD", [alert], found
    )


def test_panel_budget_line_projection_hint_and_one_notification(page, lab):
    """Without a budget the line is absent; with one (the spend view's answer): "$42.00 of
    $200.00 this month", when it will run out, the hint, and the alert as one notification that
    a reload does not repeat."""
    budget_line = page.locator(".jp-RemoteDev-budget")
    open_panel(page, lab)
    page.locator('.jp-RemoteDev-cost[data-state="ready"]').wait_for()
    assert (
        budget_line.get_attribute("hidden") == ""
    )  # this server has no budget (configured: false)
    status = budget_status()
    assert status["state"] == "will_exceed"
    page.route(re.compile(r"/remote-dev/api/cost/budget(\?[0-9]*)?$"), lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(status)))  # fmt: skip
    open_panel(page, lab)
    page.locator('.jp-RemoteDev-budget[data-budget-state="will_exceed"]').wait_for()
    assert page.locator(".jp-RemoteDev-budgetLine").inner_text() == "$42.00 of $200.00 this month"
    day = datetime.date.fromisoformat(status["exceeds_on"])
    state = page.locator(".jp-RemoteDev-budgetState").inner_text()
    assert state == f"will exceed around {day.day} {day:%B}"
    hint = page.locator(".jp-RemoteDev-budgetHint").inner_text()
    assert hint.startswith("requested 4 CPU, used 0.3 on average this week: about $18.50 of the")
    toast = page.locator(".jp-toast-message", has_text="You have spent $42.00 of $200.00")
    toast.wait_for()
    assert toast.count() == 1
    screenshot(page, "panel-budget.png")
    page.reload()
    page.locator('.jp-RemoteDev-budget[data-budget-state="will_exceed"]').wait_for()
    page.wait_for_timeout(1500)
    assert toast.count() == 0  # seen once in this browser: not shown again

"""README's first command on a fresh machine, in a browser (issues 20 and 26).

A new virtualenv gets exactly what ``bash .ci/install-hub`` installs (run with that venv first on
PATH, no test extras); ``jupyterhub -f hub_config/local_config.py`` runs from it, in a state folder
left readable by an older version; headless Chromium (driven from the test environment) logs in as
a new user and must land in JupyterLab with the remote-dev sidebar showing spend, Git sync and Ray,
with no news prompt over it. The state folder is private to the account; a revoked token stops
working on a user server within the demo's bound.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from jupyter_remote_dev.embedded.servers import TOKEN_CACHE_SECONDS

from ..support.local_hub_support import REPO, local_hub

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(
        not shutil.which("configurable-http-proxy"),
        reason="configurable-http-proxy is not installed (.ci/install-hub installs it)",
    ),
]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
NEWS_PROMPT = (
    "official Jupyter news"  # "Would you like to get notified about official Jupyter news?"
)


def main_job_venv(folder: Path) -> dict[str, str]:
    """A new virtualenv holding only what README's first command installs; its environment."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{folder / 'bin'}{os.pathsep}{env['PATH']}", VIRTUAL_ENV=str(folder))
    done = subprocess.run(["bash", ".ci/install-hub"], cwd=REPO, env=env, capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    listed = subprocess.run([str(folder / "bin" / "python"), "-m", "pip", "list"], env=env,
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert not re.search(r"^(pytest|playwright) ", listed, re.M), "test extras leaked in"
    return env


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """The main job from its own venv, started in a state folder an older version left readable."""
    workdir = tmp_path_factory.mktemp("main-job")
    env = main_job_venv(workdir / "venv")
    which = shutil.which("jupyterhub", path=env["PATH"])
    assert which == str(workdir / "venv" / "bin" / "jupyterhub"), which
    state = workdir / "state"  # local_hub's state folder
    (state / "home").mkdir(parents=True, mode=0o755)
    (state / "home").chmod(0o755)
    (state / "old-notes.txt").write_text("left by an older version\n")
    (state / "old-notes.txt").chmod(0o644)
    state.chmod(0o755)
    with local_hub(workdir, env=env) as running:
        yield running


def test_main_job_login_opens_lab_with_the_sidebar(hub):
    """A new user logs in: JupyterLab (no 404), the labelled sidebar with spend, Git sync and
    Ray, no news prompt; the banner is still start-up's last word."""
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(180_000)  # the first spawn of a fresh install
        lab = f"{hub.url}user/newcomer/lab"  # the server's own page, not the hub's /hub/user/...
        lab_answers = []
        page.on("response", lambda r: lab_answers.append(r.status)
                if r.url.split("?")[0] == lab else None)  # fmt: skip
        page.goto(hub.url)  # the banner's URL: the hub's login page
        page.fill("#username_input", "newcomer")
        page.fill("#password_input", hub.password)
        page.click("#login_submit")  # then the hub spawns the server and sends the browser there
        page.wait_for_url(re.compile(re.escape(lab) + r"(\?|$)"))
        page.wait_for_load_state()
        assert 404 not in lab_answers and lab_answers[-1:] == [200], (lab_answers, page.title())
        tab = page.locator('.jp-SideBar [data-id="jp-RemoteDev-panel"]')
        tab.wait_for()
        assert tab.inner_text().strip() == "Remote Dev"  # a visible label, not just an icon
        assert tab.get_attribute("title") == "Remote dev: spend, Git sync, Ray"
        page.locator("#jupyterlab-splash").wait_for(state="detached")
        if not page.locator("#jp-RemoteDev-panel").is_visible():
            tab.click()
        for section in ("cost", "git", "ray"):
            page.locator(f'.jp-RemoteDev-{section}[data-state="ready"]').wait_for()
        ray = page.locator(".jp-RemoteDev-ray .jp-RemoteDev-badge").first.inner_text()
        assert ray in ("Reachable", "Starting…"), ray
        assert page.locator(".jp-RemoteDev-git .jp-RemoteDev-syncNow").is_enabled()
        page.wait_for_timeout(3000)  # Lab asks about news shortly after start-up
        assert page.get_by_text(NEWS_PROMPT).count() == 0, "Lab's news prompt is shown"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "main-job-lab.png"))
        browser.close()
    lines = hub.output().splitlines()
    ready = max(i for i, line in enumerate(lines) if "JupyterHub is now running at" in line)
    assert lines[ready + 3] == f"  password: {hub.password}"


def test_main_job_state_folder_is_private(hub):
    """After start-up and a server start, every folder in the state folder is 0700 and every
    file 0600 (or 0700): nothing for the group or others, the older version's files included."""
    hub.admin.post("users/bob")
    hub.start_server("bob")
    found = {}
    for path in [hub.state, *hub.state.rglob("*")]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode):
            found[str(path.relative_to(hub.state))] = stat.S_IMODE(mode)
    assert {"jupyterhub.sqlite", "jupyterhub_cookie_secret", "git", "home/bob"} <= set(found)
    assert (found["."], found["jupyterhub.sqlite"], found["old-notes.txt"]) == (0o700, 0o600, 0o600)
    loose = {name: oct(mode) for name, mode in found.items() if mode & 0o077}
    assert loose == {}


def test_main_job_revoked_token_stops_within_the_bound(hub):
    """A token revoked at the hub is refused by the user's server within TOKEN_CACHE_SECONDS
    (JupyterHub's servers trust a cached answer for 300 s by default)."""
    hub.admin.post("users/bob")
    hub.start_server("bob")
    made = hub.admin.post("users/bob/tokens", json={"note": "revoked"})
    made.raise_for_status()
    status = f"{hub.url}user/bob/api/status"
    headers = {"Authorization": f"token {made.json()['token']}"}
    assert httpx.get(status, headers=headers, timeout=30).status_code == 200  # now cached
    assert hub.admin.delete(f"users/bob/tokens/{made.json()['id']}").status_code == 204
    revoked = time.monotonic()
    while (answer := httpx.get(status, headers=headers, timeout=30)).status_code == 200:
        assert time.monotonic() - revoked < TOKEN_CACHE_SECONDS + 5, "revoked token still works"
        time.sleep(0.5)
    assert answer.status_code == 403, answer.text

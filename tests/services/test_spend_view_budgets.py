"""Budgets in the spend view behind a real JupyterHub: who may read and set whose budget.

The hub (tests/services/conftest.py): alice and bob in team-a (pooled $100 a month, $20 each),
dave in team-b, carol leads team-a, admin sees everyone; a $10 default and dave's own $5.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .spend_support import logged_in

pytestmark = pytest.mark.e2e
BUDGET = "/services/remote-dev-spend/api/budget"
BUDGETS = "/services/remote-dev-spend/api/budgets"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[1] / "artifacts"


def post(client, kind: str, name: str, budget):
    """A JSON change through the hub's proxy (cookie auth: the hub's XSRF token in a header)."""
    return client.post(
        BUDGETS,
        json={"kind": kind, "name": name, "budget": budget},
        headers={"X-XSRFToken": client.cookies.get("_xsrf", path="/services/remote-dev-spend/")},
    )


@pytest.fixture(scope="module")
def sessions(hub):
    """A logged-in client per user, each having opened the view once (its OAuth login)."""
    clients = {name: logged_in(hub, name) for name in ("admin", "carol", "alice", "dave")}
    for client in clients.values():
        client.get(BUDGET)
    yield clients
    for client in clients.values():
        client.close()


def audit(sessions) -> list[tuple[str, str, str, object]]:
    body = sessions["admin"].get(BUDGETS).json()
    return [(a["actor"], a["kind"], a["name"], a["after"]) for a in body["audit"]]


def test_a_user_reads_their_own_budget_only(sessions):
    """alice sees her group's member budget and status; bob's and dave's are refused (403 JSON)."""
    alice = sessions["alice"]
    mine = alice.get(BUDGET).json()
    assert (mine["source"], mine["source_name"], mine["amount"]) == ("group", "team-a", 20.0)
    assert mine["period"] == "month" and mine["state"] in ("on_track", "will_exceed")
    assert mine["spent"] == 10.0 and mine["line"].startswith("$10.00 of $20.00 this month")
    for other in ("bob", "dave"):
        response = alice.get(BUDGET, params={"user": other})
        assert response.status_code == 403
        assert response.json() == {"message": f"you may not read the budget of {other}"}
    assert alice.get(BUDGETS).status_code == 403


def test_a_user_cannot_set_budgets_and_nothing_changes(sessions):
    before = audit(sessions)
    response = post(sessions["alice"], "user", "alice", 500)
    assert response.status_code == 403 and "scope" in response.json()["message"]
    assert audit(sessions) == before
    assert sessions["alice"].get(BUDGET).json()["amount"] == 20.0


def test_the_guard_rail_refuses_a_large_server_once_the_budget_is_used_up(hub, sessions):
    """Dave spent $6 of his $5: the hub's pre-spawn hook refuses his (2-CPU) server with the
    view's message; small servers and Alice (within budget) are let through; leads may not ask."""
    admin = sessions["admin"]
    guard = "/services/remote-dev-spend/api/guard"
    refusal = admin.get(guard, params={"user": "dave", "cpu": 2}).json()["refusal"]
    assert refusal.startswith("Your budget of $5.00 a month (your own budget) is used up: $6.00")
    assert "Running servers are not stopped." in refusal
    assert admin.get(guard, params={"user": "dave", "cpu": 0.5}).json() == {"refusal": None}
    assert admin.get(guard, params={"user": "alice", "cpu": 2}).json() == {"refusal": None}
    ray = admin.get(guard, params={"user": "dave", "kind": "ray"}).json()["refusal"]
    assert ray.startswith("Your budget of $5.00 a month (your own budget) is used up: $6.00")
    assert "New Ray clusters are refused" in ray and "an admin can raise it" in ray
    assert admin.get(guard, params={"user": "alice", "kind": "ray"}).json() == {"refusal": None}
    assert admin.get(guard, params={"user": "dave", "kind": "gpu"}).status_code == 400
    assert admin.get(guard, params={"user": "dave", "cpu": "x"}).status_code == 400
    assert sessions["carol"].get(guard, params={"user": "alice"}).status_code == 403
    spawn = admin.post(
        "/hub/api/users/dave/server",
        headers={"X-XSRFToken": admin.cookies.get("_xsrf", path="/hub/")},
    )
    assert spawn.status_code >= 400
    assert "Your budget of $5.00 a month" in hub["log"].read_text()


def test_a_lead_reads_and_sets_within_their_group_only(sessions):
    carol = sessions["carol"]
    assert carol.get(BUDGET, params={"user": "alice"}).json()["amount"] == 20.0
    assert carol.get(BUDGET, params={"user": "dave"}).status_code == 403
    refusals = {
        ("user", "alice", 500): "beyond the budget of team-a",
        ("user", "dave", 3): "dave is not a member of a group you lead",
        ("default", "", 1): "only an admin may change the default budget",
        ("group", "team-a", 1000): "only an admin may change the group budget",
        ("member", "team-b", 1): "you do not lead the group team-b",
    }
    before = audit(sessions)
    for (kind, name, amount), message in refusals.items():
        response = post(carol, kind, name, amount)
        assert response.status_code == 403, (kind, name)
        assert message in response.json()["message"]
    assert audit(sessions) == before
    response = post(carol, "user", "alice", {"amount": 15, "period": "month"})
    assert response.status_code == 200, response.text
    overview = response.json()
    assert overview["budgets"]["users"] == {"alice": {"amount": 15.0, "period": "month"}}
    assert "default" not in overview["budgets"]  # a lead sees their groups and members only
    assert sessions["alice"].get(BUDGET).json()["amount"] == 15.0
    assert audit(sessions)[0] == ("carol", "user", "alice", {"amount": 15.0, "period": "month"})


def test_an_admin_sets_anything_bad_input_is_400_and_every_change_is_audited(sessions):
    admin = sessions["admin"]
    for budget, message in ((-1, "amount must be a finite number >= 0"), ("x", "a number")):
        response = post(admin, "user", "dave", budget)
        assert response.status_code == 400 and message in response.json()["message"]
    bad_kind = post(admin, "team", "x", 1)
    assert bad_kind.status_code == 400 and "kind must be one of" in bad_kind.json()["message"]
    before = len(audit(sessions))
    assert post(admin, "default", "", {"amount": 3, "period": "week"}).status_code == 200
    assert post(admin, "user", "dave", None).status_code == 200  # dave falls back to the default
    dave = sessions["dave"].get(BUDGET).json()
    assert (dave["source"], dave["amount"], dave["period"]) == ("default", 3.0, "week")
    assert admin.get(BUDGET, params={"user": "dave"}).json()["amount"] == 3.0
    changes = audit(sessions)
    assert len(changes) == before + 2
    assert changes[:2] == [
        ("admin", "user", "dave", None),
        ("admin", "default", "", {"amount": 3.0, "period": "week"}),
    ]


def test_a_post_without_the_xsrf_token_is_refused(sessions):
    """Cookie auth without the hub's XSRF token is no login at all: nothing changes."""
    before = audit(sessions)
    response = sessions["admin"].post(
        BUDGETS, json={"kind": "default", "name": "", "budget": 1}, follow_redirects=False
    )
    assert response.status_code in (302, 403)
    assert audit(sessions) == before


def test_the_weekly_digest_reaches_the_webhook_once_per_reader(hub):
    """The alert loop (every 2 s here) sends last week's digest for the admins (everyone: $20)
    and for team-a's lead (alice and bob: $14), each once however many ticks pass."""

    def digests():
        return [b["text"] for b in hub["webhook"].bodies if "Spend digest" in b["text"]]

    deadline = time.monotonic() + 30
    while len(digests()) < 2:
        assert time.monotonic() < deadline, hub["webhook"].bodies
        time.sleep(0.5)
    time.sleep(5)  # more ticks: nothing is sent twice
    sent = digests()
    assert len(sent) == 2
    admins, team = sorted(sent, key=lambda text: "for team-a" in text)
    assert "for admins: $20.00*" in admins.split("\n")[0]
    assert "for team-a: $14.00*" in team.split("\n")[0]
    assert "dave" in admins and "dave" not in team  # a lead's digest holds their group only


@pytest.mark.browser
def test_the_budget_editor_in_chromium(hub):
    """The admin sets Bob's budget with the page's form (the hub's XSRF token in it); the page
    comes back with it in the table and the change in the list."""
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.set_default_timeout(30_000)
        page.goto(f"{hub['url']}/hub/login?next=/services/remote-dev-spend/")
        page.fill("#username_input", "admin")
        page.fill("#password_input", hub["admin_password"])
        page.click("#login_submit")
        editor = page.locator("#budget-editor")
        editor.wait_for()
        editor.locator('select[name="kind"]').select_option("user")
        editor.locator('input[name="name"]').fill("bob")
        editor.locator('input[name="amount"]').fill("12.5")
        editor.locator('select[name="period"]').select_option("week")
        editor.get_by_role("button", name="Set budget").click()
        row = page.locator('tr[data-budget="user:bob"]')
        row.wait_for()
        assert row.inner_text().split("\t")[-1].strip() == "12.5 a week"
        assert (
            "admin set user bob from none to 12.5 a week"
            in page.locator("#budget-audit").inner_text()
        )
        alerts = page.locator("#budget-alerts").inner_text()
        assert "user dave (100 %): You have spent $6.00 of $5.00 this month" in alerts
        assert "digest admins (weekly): Spend digest" in alerts
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "spend-view-budgets.png"), full_page=True)
        browser.close()

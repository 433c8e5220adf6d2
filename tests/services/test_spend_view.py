"""The team and admin spend view: the pure summary, the scope rules, and the service for real
behind a real JupyterHub (OAuth, RBAC), read by httpx and by headless Chromium."""

from __future__ import annotations

import contextlib
import json
import re
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path

import httpx
import pytest

from jupyter_remote_dev.budgets.rightsizing import accumulate, hints
from jupyter_remote_dev.services.spend_view.access import Visibility, visibility
from jupyter_remote_dev.services.spend_view.app import SpendViewApp
from jupyter_remote_dev.services.spend_view.athena import latest_report
from jupyter_remote_dev.services.spend_view.page import money, render_page
from jupyter_remote_dev.services.spend_view.summary import (
    build_view,
    iso_week,
    last_complete_week,
    window,
)

from .spend_support import logged_in
from .team_cost_standin import CURRENT, PREVIOUS, TeamCostStandIn, allocation

LABELS = ("hub.jupyter.org/username", "team")
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[1] / "artifacts"


def sets(figures: dict) -> list[dict]:
    span = {"start": "2026-11-23T00:00:00Z", "end": "2026-11-30T00:00:00Z"}
    return [{key: allocation(key, span, value) for key, value in figures.items()}]


def everyone(user: str, team: str) -> bool:
    return True


def page_of(view: dict) -> str:
    """The admin's page for a :func:`build_view` result."""
    extra = {"previous_week": "2026-W47", "viewer": "admin", "scope": "everyone", "athena": None}
    return render_page({**view, "currency": "USD", **extra})


def test_summary_users_teams_week_over_week_and_idle():
    """Per-user and per-team totals, changes, top spenders and idle servers add up exactly."""
    view = build_view("2026-W48", sets(CURRENT), sets(PREVIOUS), LABELS, everyone, 0.05, True)
    assert [(u["user"], u["cost"]) for u in view["users"]] == [
        ("alice", 10.0),
        ("dave", 6.0),
        ("bob", 4.0),
    ]
    assert view["total"] == 20.0 and view["previous_total"] == 14.0
    teams = {t["team"]: (t["cost"], t["previous"], t["users"]) for t in view["teams"]}
    assert teams == {"team-a": (14.0, 8.0, 2), "team-b": (6.0, 6.0, 1)}
    alice = view["users"][0]
    assert alice["change"] == pytest.approx(0.25) and not alice["idle"]
    bob = view["users"][2]
    assert bob["idle"] and bob["change"] is None  # nothing the week before
    assert view["idle_servers"] == {"cost": 4.0, "users": 1}
    assert view["cluster"] == {
        "idle_capacity": 20.0,
        "idle_capacity_previous": 18.0,
        "unallocated": 1.0,
    }


def test_summary_filtered_viewer_sees_only_their_users_and_no_cluster():
    """A team lead's view holds only the visible users, and no cluster-wide figures."""
    view = build_view(
        "2026-W48", sets(CURRENT), sets(PREVIOUS), LABELS, lambda u, t: u != "dave", 0.05, False
    )
    assert {u["user"] for u in view["users"]} == {"alice", "bob"}
    assert view["total"] == 14.0 and "cluster" not in view


def test_summary_right_sizing_hints_per_visible_user_on_the_page():
    """A user whose usage is far below the request (bob: 1 % of 2 CPUs and 4 GiB) gets the
    right-sizing sentence in their row and on the page; users using enough get none, and a
    filtered viewer gets none for users they cannot see."""
    view = build_view("2026-W48", sets(CURRENT), sets(PREVIOUS), LABELS, everyone, 0.05, True)
    bob_item = sets(CURRENT)[0]["bob/team-a"]
    [expected] = hints(accumulate([("bob", bob_item)]))
    hint = {u["user"]: u["hint"] for u in view["users"]}
    assert hint == {"alice": None, "dave": None, "bob": expected.message("this week", "USD")}
    assert hint["bob"].startswith("requested 2 CPU, used 0.02 on average this week: about $2.")
    assert hint["bob"].endswith("; a smaller profile would do")
    page = page_of(view)
    assert f'<tr class=hint data-hint="bob"><td colspan=7>{escape(hint["bob"])}</td></tr>' in page
    assert page.count("class=hint") == 1
    hidden = build_view("2026-W48", sets(CURRENT), [], LABELS, lambda u, t: u != "bob", 0.05, False)
    assert {u["user"]: u["hint"] for u in hidden["users"]} == {"alice": None, "dave": None}
    assert "class=hint" not in page_of(hidden)


def test_summary_local_meter_figures_no_efficiency_and_no_idle_capacity():
    """Servers that requested nothing (the local meter's) have no efficiency (n/a, never 100 %)
    and are never called idle; a backend that reports no __idle__ shows idle capacity as n/a."""
    span = {"start": "2026-11-23T00:00:00Z", "end": "2026-11-30T00:00:00Z"}
    item = allocation("alice/team-a", span, (2.0, 1.5, 0.5, 1.0))
    item.update(cpuCoreRequestAverage=0, ramByteRequestAverage=0, gpuRequestAverage=0)
    view = build_view("2026-W48", [{"alice/team-a": item}], [], LABELS, everyone, 0.05, True)
    (alice,) = view["users"]
    assert alice["efficiency"] is None and not alice["idle"] and alice["cost"] == 2.0
    assert view["cluster"]["idle_capacity"] is None
    page = page_of(view)
    assert re.search(r'data-user="alice">.*<td>n/a</td>', page)
    assert re.search(r"<span id=cluster-idle>n/a", page)
    no_team = build_view("2026-W48", sets({"bob": (1.0, 0.5, 0.5, 0.5)}), [], LABELS, everyone,
                         0.05, True)  # fmt: skip
    assert no_team["users"][0]["team"] == "__unallocated__"
    assert '<tr data-user="bob"><td>bob</td><td>no team</td>' in page_of(no_team)
    assert [money(v, "USD") for v in (0.00003, 0.0, -0.001, 1234.5)] == [
        "<0.01 USD", "0.00 USD", ">-0.01 USD", "1,234.50 USD"
    ]  # fmt: skip


def test_summary_accepts_older_label_value_keys():
    """``label=value`` keys of older Kubecost/OpenCost versions count like bare ones."""
    old = {"hub_jupyter_org_username=alice/team=team-a": (3.0, 2.0, 1.0, 0.5)}
    view = build_view("2026-W48", sets(old), [], LABELS, everyone, 0.05, True)
    assert view["users"][0]["user"] == "alice" and view["users"][0]["team"] == "team-a"


def test_iso_week_window_and_bad_weeks():
    """Weeks are ISO weeks in UTC; anything else is a ValueError naming the expected form."""
    assert window("2026-W48") == "2026-11-23T00:00:00Z,2026-11-30T00:00:00Z"
    assert last_complete_week(datetime(2026, 12, 3, tzinfo=timezone.utc)) == "2026-W48"
    for bad in ("2026-48", "2026-W54", "W48", "2026-Wxx", ""):
        with pytest.raises(ValueError, match="2026-W48"):
            iso_week(bad)


async def test_view_asks_for_idle_and_shows_the_idle_cost_opencost_returns():
    """The view asks OpenCost with includeIdle=true (its default is false), so the cluster's idle
    capacity is what the backend reports, not 0; the figures per user stay the same."""
    week = "2026-W48"
    start, _ = iso_week(week)
    standin = TeamCostStandIn(start, start - timedelta(days=7)).start()
    try:
        app = SpendViewApp(cost_backend="opencost", cost_url=standin.url)
        current = await app.backend().fetch_sets(window(week))
    finally:
        standin.stop()
    assert standin.requests[0]["includeIdle"] == "true"
    view = build_view(week, current, [], LABELS, everyone, 0.05, True)
    assert view["cluster"]["idle_capacity"] == 20.0
    assert view["total"] == 20.0  # idle capacity is nobody's spend


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        ([], None),
        (["read:users"], None),
        (["custom:remote-dev:spend:read"], Visibility(everyone=True)),
        (["custom:remote-dev:spend:read!group=team-a"], Visibility(groups=frozenset({"team-a"}))),
        (["custom:remote-dev:spend:read!user=bob"], Visibility(users=frozenset({"bob"}))),
        (["custom:remote-dev:spend:read!server=bob/x"], None),
        (["custom:remote-dev:spend:readx"], None),
    ],
)
def test_visibility_from_scopes(scopes, expected):
    """The scope alone shows everyone; !group= and !user= narrow it; anything else shows nothing."""
    assert visibility(scopes) == expected


def test_latest_athena_report_picks_the_newest_week(tmp_path):
    """The newest week's report.json is shown, with its HTML page when one sits beside it."""
    for week, cost in (("2026-W47", 3.5), ("2026-W48", 7.25)):
        folder = tmp_path / week
        folder.mkdir()
        (folder / "report.json").write_text(
            json.dumps(
                {
                    "week": week,
                    "totals": {"cost": cost, "cost_change": 0.5},
                    "workgroups": [
                        {"name": "primary", "cost": 1, "billing": "per-query"},
                        {"name": "etl", "cost": 5, "billing": "per-query"},
                        {"name": "bi", "cost": None, "billing": "capacity"},
                    ],
                }
            )
        )
    (tmp_path / "2026-W48" / "report.html").write_text("<html></html>")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "report.json").write_text("not json")
    report = latest_report(str(tmp_path))
    assert report.summary["week"] == "2026-W48" and report.summary["cost"] == 7.25
    assert [g["name"] for g in report.summary["workgroups"]] == ["etl", "primary", "bi"]
    assert report.html == tmp_path / "2026-W48" / "report.html"
    assert latest_report(str(tmp_path / "missing")) is None


# ----- the service behind a real JupyterHub -----


@pytest.mark.e2e
def test_spend_view_admin_sees_everyone_through_oauth(hub):
    """An admin holding the scope gets every user's and team's figures and the cluster's."""
    with contextlib.closing(logged_in(hub, "admin")) as client:
        response = client.get("/services/remote-dev-spend/api/spend")
        assert response.status_code == 200, response.text[:500]
        view = response.json()
    assert view["scope"] == "everyone"
    assert {u["user"]: u["cost"] for u in view["users"]} == {"alice": 10.0, "dave": 6.0, "bob": 4.0}
    assert view["total"] == 20.0 and view["previous_total"] == 14.0
    assert view["cluster"]["idle_capacity"] == 20.0
    hint = {u["user"]: u["hint"] for u in view["users"]}
    assert hint["alice"] is None and hint["dave"] is None
    assert hint["bob"].startswith("requested 2 CPU, used 0.02 on average this week")
    athena = view["athena"]
    assert athena["week"] == "2026-W48" and athena["cost"] > 0
    billing = {g["name"]: g["billing"] for g in athena["workgroups"]}
    assert billing["dashboards"] == "capacity"  # a capacity reservation: no per-query cost
    assert all(
        r["aggregate"] == "label:hub_jupyter_org_username,label:team"
        for r in hub["standin"].requests
    )


@pytest.mark.e2e
def test_spend_view_team_lead_sees_only_their_group(hub):
    """A team lead's filtered scope shows the members of that group, nothing cluster-wide."""
    with contextlib.closing(logged_in(hub, "carol")) as client:
        view = client.get("/services/remote-dev-spend/api/spend").json()
    assert {u["user"] for u in view["users"]} == {"alice", "bob"}
    assert view["total"] == 14.0 and "cluster" not in view
    assert [u["user"] for u in view["users"] if u["hint"]] == ["bob"]


@pytest.mark.e2e
@pytest.mark.parametrize("path", ["", "api/spend", "athena/report.html"])
def test_spend_view_plain_user_gets_403(hub, path):
    """A user without the scope is refused everywhere, page, API and Athena report alike."""
    with contextlib.closing(logged_in(hub, "alice")) as client:
        response = client.get(f"/services/remote-dev-spend/{path}")
    assert response.status_code == 403
    assert "10.00" not in response.text


@pytest.mark.e2e
def test_spend_view_bad_week_is_a_400_naming_the_form(hub):
    """``?week=`` that is not an ISO week answers 400 with a message, not a 500."""
    with contextlib.closing(logged_in(hub, "admin")) as client:
        response = client.get("/services/remote-dev-spend/api/spend", params={"week": "x"})
    assert response.status_code == 400 and "2026-W48" in response.json()["message"]


@pytest.mark.e2e
def test_spend_view_refusals_leave_the_proxy_a_live_connection(hub):
    """Refusals (a plain user's 403, a bad week's 400, a POST's 405 with a body) alternate with
    answers through the hub's proxy, 20 rounds on keep-alive connections: never a 503 (issue 26;
    the service reads every body before answering, so its connections stay usable)."""
    api = "/services/remote-dev-spend/api/spend"
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with contextlib.closing(logged_in(hub, "admin")) as admin_login:
        with contextlib.closing(logged_in(hub, "alice")) as alice_login:
            admin = httpx.Client(base_url=hub["url"], cookies=admin_login.cookies, limits=one,
                                 follow_redirects=True, timeout=30)  # fmt: skip
            alice = httpx.Client(base_url=hub["url"], cookies=alice_login.cookies, limits=one,
                                 follow_redirects=True, timeout=30)  # fmt: skip
            with admin, alice:
                statuses = []
                for _ in range(20):
                    statuses += [
                        alice.get(api).status_code,
                        admin.post(api, content=b"x" * 4096).status_code,
                        admin.get(api, params={"week": "x"}).status_code,
                        admin.get(api).status_code,
                    ]
    assert statuses == [403, 405, 400, 200] * 20


@pytest.mark.e2e
@pytest.mark.browser
def test_spend_view_page_in_chromium(hub):
    """Headless Chromium logs in as admin and reads the figures off the page."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: .ci/install installs Debian's chromium package")
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        page.set_default_timeout(30_000)
        page.goto(f"{hub['url']}/hub/login?next=/services/remote-dev-spend/")
        page.fill("#username_input", "admin")
        page.fill("#password_input", hub["admin_password"])
        page.click("#login_submit")
        page.locator("#total").wait_for()
        assert page.locator("#total").inner_text() == "20.00 USD"
        assert page.locator("#previous-total").inner_text() == "14.00 USD"
        assert page.locator("#idle-cost").inner_text() == "4.00 USD"
        assert page.locator("#cluster-idle").inner_text() == "20.00 USD"
        assert page.locator('tr[data-user="bob"]').inner_text().split("\t")[-1].strip() == "idle"
        assert page.locator('tr[data-hint="bob"]').inner_text().startswith("requested 2 CPU")
        assert re.search(r"team-a", page.locator("svg").first.inner_html())
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "spend-view.png"), full_page=True)
        page.click("text=Open the report")  # the latest Athena report, through the service
        page.wait_for_url("**/athena/report.html")
        assert "2026-W48" in page.title()
        browser.close()

"""The Athena report page in a real headless Chromium: it renders its charts and tables from the
file alone (no request leaves the page), and SQL in it stays text."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_remote_dev.reports.athena.build import Collected, build_report
from jupyter_remote_dev.reports.athena.pricing import Pricing
from jupyter_remote_dev.reports.athena.render import render, write
from jupyter_remote_dev.reports.athena.week import Week

from ..support.athena_sample import sample
from ..support.athena_support import REGION, execution

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser():
    """Debian's Chromium, headless, driven by Playwright (no browser download); one per test, so
    Playwright's event loop ends before pytest-jupyter closes its own."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: .ci/install installs Debian's chromium package")
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        yield chromium
        chromium.close()


def open_report(browser, folder: Path):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    requests, problems = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else 0)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append("dialog: " + d.message), d.dismiss()))
    url = (folder / "report.html").as_uri()
    page.goto(url)
    return context, page, url, requests, problems


def test_athena_report_renders_self_contained(browser, tmp_path):
    """Charts and tables render; the only request is the file itself; no console error (a CSP
    violation would be one); the figures on the page are the JSON's."""
    report, rows = sample()
    write(render(report, rows), tmp_path)
    context, page, url, requests, problems = open_report(browser, tmp_path)
    try:
        assert requests == [url] and problems == []
        charts = page.locator("svg[role=img]")
        assert charts.count() == 2
        per_query = [w for w in report["workgroups"] if w["billing"] == "per-query"]
        assert page.locator("svg[role=img]").first.locator("rect").count() == 2 * len(per_query)
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 300 and box["height"] > 50
        first_bar = charts.first.locator("rect").first.bounding_box()
        assert first_bar and first_bar["width"] > 100  # the biggest workgroup's bar is long
        assert page.locator(".card b").first.inner_text() == f"${report['totals']['cost']:,.2f}"
        top_rows = page.locator("h2:has-text('Most expensive queries') + table tr")
        assert top_rows.count() == len(report["top_queries"]) + 1
        assert "reads every partition of sales.orders" in page.locator(".hint").first.inner_text()
        assert page.get_by_text("capacity bi-24dpu").count() == 1
        page.screenshot(path=str(tmp_path / "shot.png"), full_page=True)
        assert (tmp_path / "shot.png").stat().st_size > 20_000
    finally:
        context.close()


def test_athena_report_sql_is_inert_text(browser, tmp_path):
    """Markup in a query is shown as text: no script runs, no element is injected."""
    sql = "SELECT '</code><img src=x onerror=alert(1)><script>alert(2)</script>' AS \"<b>x</b>\""
    data = Collected(
        week=Week(2026, 48),
        region=REGION,
        workgroups=[{"Name": "etl"}],
        current={"etl": [execution("x", "etl", sql, scanned=2**40)]},
        previous={"etl": []},
    )
    write(render(*build_report(data, Pricing(), lambda *_: None)), tmp_path)
    context, page, url, requests, problems = open_report(browser, tmp_path)
    try:
        assert requests == [url] and problems == []
        assert page.locator("img, script, td b").count() == 0
        assert '"<b>x</b>"' in page.locator("code").first.inner_text()
    finally:
        context.close()

"""The spend view as one self-contained HTML page (inline CSS and SVG, no scripts, no assets)."""

from __future__ import annotations

from html import escape


def money(value: float | None, currency: str) -> str:
    """``1,234.50 USD``; a non-zero amount that rounds to zero is ``<0.01 USD``, never none."""
    if value is None:
        return "n/a"
    if 0 < abs(value) < 0.005:
        return f"{'>-' if value < 0 else '<'}0.01 {escape(currency)}"
    return f"{value:,.2f} {escape(currency)}"


def change(value: float | None) -> str:
    """``+12%``, ``-3%``, or ``new`` when there was nothing the week before."""
    return "new" if value is None else f"{value:+.0%}"


def team_name(team: str) -> str:
    """A team as shown: ``no team`` for pods without the team label (``__unallocated__``)."""
    return "no team" if team == "__unallocated__" else team


def _percent(fraction: float | None) -> str:
    """A share as ``42%``; ``n/a`` where nothing was requested."""
    return "n/a" if fraction is None else f"{fraction:.0%}"


def bars(rows: list[tuple[str, float]], currency: str) -> str:
    """A horizontal bar chart as inline SVG."""
    if not rows:
        return "<p>No spend this week.</p>"
    top = max(value for _, value in rows) or 1.0
    height = 22 * len(rows)
    parts = [f'<svg role="img" width="640" height="{height}" aria-label="spend per row">']
    for i, (label, value) in enumerate(rows):
        width = 360 * value / top
        y = 22 * i
        parts.append(
            f'<text x="0" y="{y + 15}">{escape(label)}</text>'
            f'<rect x="180" y="{y + 4}" width="{width:.1f}" height="14" class="bar"/>'
            f'<text x="{186 + width:.1f}" y="{y + 15}">{money(value, currency)}</text>'
        )
    return "".join(parts) + "</svg>"


def _hint_row(user: dict) -> str:
    """The right-sizing sentence under a user's row, when there is one."""
    if not user.get("hint"):
        return ""
    return (
        f'<tr class=hint data-hint="{escape(user["user"])}"><td colspan=7>'
        f"{escape(user['hint'])}</td></tr>"
    )


def _users_table(users: list[dict], currency: str) -> str:
    rows = "".join(
        f'<tr data-user="{escape(u["user"])}"><td>{escape(u["user"])}</td>'
        f"<td>{escape(team_name(u['team']))}</td><td class=cost>{money(u['cost'], currency)}</td>"
        f"<td>{money(u['previous'], currency)}</td><td>{change(u['change'])}</td>"
        f"<td>{_percent(u['efficiency'])}</td><td>{'idle' if u['idle'] else ''}</td></tr>"
        + _hint_row(u)
        for u in users
    )
    return (
        "<table><tr><th>User</th><th>Team</th><th>This week</th><th>Week before</th>"
        f"<th>Change</th><th>Usage of request</th><th></th></tr>{rows}</table>"
    )


def _workgroup_cost(group: dict) -> str:
    if group["billing"] == "capacity":
        return "capacity reservation (billed per DPU-hour)"
    return money(group["cost"], "USD")


def _athena(report: dict | None) -> str:
    if not report:
        return "<p>No Athena report has been written yet.</p>"
    groups = "".join(
        f"<li>{escape(str(g['name']))}: {_workgroup_cost(g)}</li>" for g in report["workgroups"]
    )
    total = report.get("cost")
    return (
        f"<p>Week {escape(str(report['week']))}: "
        f"{money(total if isinstance(total, int | float) else None, 'USD')} on demand "
        f"({change(report.get('cost_change'))} on the week before). "
        f'<a href="athena/report.html">Open the report</a></p><ul>{groups}</ul>'
    )


def _budget(entry: dict | None) -> str:
    return f"{entry['amount']:g} a {entry['period']}" if entry else "none"


def _level(level: str) -> str:
    """An alert's level as shown: ``80 %``, ``projected to exceed``, ``weekly`` (a digest)."""
    return (
        f"{level} %" if level.isdigit() else {"projected": "projected to exceed"}.get(level, level)
    )


def _budgets(data: dict | None, xsrf: str) -> str:
    """Budgets in effect, the editor (a form posting to ``api/budgets``), changes and alerts."""
    if data is None:
        return ""
    config = data["budgets"]
    rows = [("default", "", config.get("default"))] if data["admin"] else []
    for group, entry in config["groups"].items():
        rows += [("group", group, entry if "amount" in entry else None)]
        rows += [("member", group, entry["member"])] if "member" in entry else []
    rows += [("user", user, entry) for user, entry in config["users"].items()]
    table = "".join(
        f'<tr data-budget="{escape(kind)}:{escape(name)}"><td>{escape(kind)}</td>'
        f"<td>{escape(name)}</td><td>{escape(_budget(entry))}</td></tr>"
        for kind, name, entry in rows
    )
    kinds = ("user", "member", "group", "default") if data["admin"] else ("user", "member")
    options = "".join(f"<option>{kind}</option>" for kind in kinds)
    audit = "".join(
        f"<li>{escape(a['at'])}: {escape(a['actor'])} set {escape(a['kind'])} "
        f"{escape(a['name'])} from {escape(_budget(a['before']))} to "
        f"{escape(_budget(a['after']))}</li>"
        for a in data["audit"]
    )
    alerts = "".join(
        f"<li>{escape(a['at'])}: {escape(a['subject_kind'])} {escape(a['subject'])} "
        f"({escape(_level(a['level']))}): {escape(a['message'])}</li>"
        for a in data["alerts"]
    )
    return f"""<h2 id=budgets>Budgets ({escape(config["currency"])})</h2>
<table><tr><th>Kind</th><th>Name</th><th>Budget</th></tr>{table}</table>
<form method="post" action="api/budgets" id=budget-editor>
<input type="hidden" name="_xsrf" value="{escape(xsrf)}">
<label>Kind <select name="kind">{options}</select></label>
<label>User or group <input name="name"></label>
<label>Amount <input name="amount" type="number" min="0" step="any"></label>
<label>Per <select name="period"><option>month</option><option>week</option></select></label>
<label><input type="checkbox" name="remove" value="1"> remove</label>
<button>Set budget</button></form>
<h3>Changes</h3><ul id=budget-audit>{audit or "<li>none yet</li>"}</ul>
<h3>Alerts</h3><ul id=budget-alerts>{alerts or "<li>none yet</li>"}</ul>"""


def render_page(view: dict) -> str:
    """The page for one viewer's :func:`~.summary.build_view` result."""
    currency = view["currency"]
    cluster = view.get("cluster")
    cluster_html = (
        f"<h2>Cluster</h2><p>Idle capacity: <span id=cluster-idle>"
        f"{money(cluster['idle_capacity'], currency)}</span>; pods without a user label: "
        f"{money(cluster['unallocated'], currency)}</p>"
        if cluster
        else ""
    )
    scope = "all users" if view["scope"] == "everyone" else "the users you lead"
    idle = view["idle_servers"]
    previous = view["previous_total"]
    trend = change((view["total"] - previous) / previous if previous else None)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Spend {escape(view["week"])}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 3px 10px; text-align: left; }}
tr:nth-child(even) {{ background: #f3f3f3; }} .bar {{ fill: #1976d2; }}
svg text {{ font-size: 12px; }} .hint td {{ color: #8a5a00; padding-left: 2em; }}
</style></head><body>
<h1>Spend, week {escape(view["week"])}</h1>
<p>Signed in as {escape(view["viewer"])}: showing {scope}.</p>
<form method="get"><label>Week <input name="week" value="{escape(view["week"])}"></label>
<button>Show</button></form>
<p>Total <strong id=total>{money(view["total"], currency)}</strong>, week
{escape(view["previous_week"])}: <span id=previous-total>{money(previous, currency)}</span>
({trend}).</p>
<h2>Per team</h2>{bars([(team_name(t["team"]), t["cost"]) for t in view["teams"]], currency)}
<h2>Top spenders</h2>{bars([(u["user"], u["cost"]) for u in view["top_spenders"]], currency)}
<h2>Idle servers</h2><p><span id=idle-cost>{money(idle["cost"], currency)}</span> spent by
{idle["users"]} server(s) that used less than {
        view["idle_threshold"]:.0%} of what they requested.</p>
<h2>Every user</h2>{_users_table(view["users"], currency)}
{cluster_html}
<h2>Athena queries</h2>{_athena(view.get("athena"))}
{_budgets(view.get("budgets"), view.get("xsrf", ""))}
</body></html>"""

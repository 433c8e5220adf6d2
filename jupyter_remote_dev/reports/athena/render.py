"""Write a report as ``report.html`` (self-contained, inline SVG charts), ``report.json`` and
``queries.csv`` (one row per query execution of the week)."""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
from html import escape
from pathlib import Path

FILES = ("report.html", "report.json", "queries.csv")
CSV_COLUMNS = (
    "id", "submitted", "workgroup", "state", "statement_type", "catalog", "database",
    "scanned_bytes", "billed_bytes", "cost", "fingerprint", "sql",
)  # fmt: skip
#: No request leaves the page: no scripts, no fonts, no images from anywhere.
CSP = "default-src 'none'; style-src 'unsafe-inline'"
COLORS = ("#1f6feb", "#9aa5b1")  # this week, last week


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def money(value: float | None) -> str:
    if value is None:
        return "capacity"
    return f"${value:,.2f}" if value >= 1 or value == 0 else f"${value:.4f}"


def change(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{'+' if value > 0 else ''}{value * 100:.0f}%"


def bar_chart(title: str, rows: list[tuple[str, list[float]]], label) -> str:
    """Horizontal bars, one row per item, one bar per series, as inline SVG."""
    if not rows:
        return f"<p class=empty>{escape(title)}: nothing to show.</p>"
    width, name_w, row_h, bar_h = 760, 230, 16 + 14 * len(rows[0][1]), 12
    height = 28 + row_h * len(rows)
    top = max((max(values) for _, values in rows), default=0) or 1
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="14" class="title">{escape(title)}</text>',
    ]
    for i, (name, values) in enumerate(rows):
        y = 28 + i * row_h
        short = name if len(name) <= 34 else name[:33] + "…"
        parts.append(f'<text x="0" y="{y + bar_h}" class="name">{escape(short)}</text>')
        for j, value in enumerate(values):
            w = max(1.0, (width - name_w - 110) * value / top)
            by = y + j * (bar_h + 2)
            parts.append(
                f'<rect x="{name_w}" y="{by}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{COLORS[j % 2]}"><title>{escape(name)}: {escape(label(value))}'
                "</title></rect>"
                f'<text x="{name_w + w + 6:.1f}" y="{by + bar_h - 2}" class="value">'
                f"{escape(label(value))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1b1f24;
padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{margin-top:1.8em;font-size:1.15em}
.sub{color:#57606a}.cards{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.6em 1em;min-width:150px}
.card b{display:block;font-size:1.4em}table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border-bottom:1px solid #d8dee4;padding:.35em .5em;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}code{font-size:12px;white-space:pre-wrap;
word-break:break-word}.hint{color:#9a6700}.tag{background:#eaeef2;border-radius:4px;
padding:0 .3em;font-size:12px}svg text{font:12px system-ui,sans-serif;fill:#1b1f24}
svg .title{font-weight:600}.legend span{display:inline-block;width:10px;height:10px;
margin:0 .3em 0 1em}.note{color:#57606a;font-size:13px}
"""


def _workgroup_table(report: dict) -> str:
    rows = []
    for w in report["workgroups"]:
        billing = (
            f"capacity <span class=tag>{escape(w['capacity_reservation'])}</span>"
            if w["billing"] == "capacity"
            else f"${w['price_per_tb']:g}/TB"
        )
        rows.append(
            f"<tr><td>{escape(w['name'])}</td><td>{escape(w['owner']) or '–'}</td>"
            f"<td>{billing}</td><td class=n>{w['queries']:,}</td>"
            f"<td class=n>{human_bytes(w['scanned_bytes'])}</td><td class=n>{money(w['cost'])}</td>"
            f"<td class=n>{money(w['previous']['cost'])}</td><td class=n>{change(w['cost_change'])}"
            f"</td><td class=n>{w['failed']}/{w['cancelled']}</td></tr>"
        )
    return (
        "<table><tr><th>workgroup</th><th>owner</th><th>billing</th><th class=n>queries</th>"
        "<th class=n>scanned</th><th class=n>cost</th><th class=n>last week</th>"
        "<th class=n>change</th><th class=n>failed/cancelled</th></tr>" + "".join(rows) + "</table>"
    )


def _query_table(report: dict) -> str:
    rows = []
    for i, q in enumerate(report["top_queries"], 1):
        hints = "".join(f"<div class=hint>⚠ {escape(h['text'])}</div>" for h in q["hints"])
        who = ", ".join(q["workgroups"]) + (f" ({'; '.join(q['owners'])})" if q["owners"] else "")
        rows.append(
            f"<tr><td class=n>{i}</td><td><code>{escape(q['sql'])}</code>{hints}</td>"
            f"<td>{escape(who)}<br><span class=note>{escape(', '.join(q['databases']))}</span></td>"
            f"<td class=n>{q['count']:,}</td><td class=n>{human_bytes(q['scanned_bytes'])}</td>"
            f"<td class=n>{money(q['cost'])}</td></tr>"
        )
    return (
        "<table><tr><th class=n>#</th><th>query (literals removed)</th><th>where / who</th>"
        "<th class=n>runs</th><th class=n>scanned</th><th class=n>cost</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def to_html(report: dict) -> str:
    t = report["totals"]
    cards = [
        ("cost this week", money(t["cost"])),
        ("last week", money(t["previous"]["cost"])),
        ("change", change(t["cost_change"])),
        ("queries", f"{t['queries']:,}"),
        ("scanned", human_bytes(t["scanned_bytes"])),
    ]
    per_query = [w for w in report["workgroups"] if w["billing"] == "per-query"]
    charts = bar_chart(
        "Cost per workgroup, this week and last",
        [(w["name"], [w["cost"], w["previous"]["cost"]]) for w in per_query[:15]],
        money,
    ) + bar_chart(
        "Most expensive queries",
        [
            (f"#{q['rank']} {q['sql']}", [q["cost"]])
            for q in report["top_queries"][:10]
            if q["cost"]
        ],
        money,
    )
    hints = (
        "".join(f"<li>query #{h['rank']}: {escape(h['text'])}</li>" for h in report["hints"])
        or "<li>none</li>"
    )
    caveats = [escape(note) for note in report["notes"]]
    if report["unprocessed"]:
        caveats.append(f"{len(report['unprocessed'])} query executions could not be read.")
    caveats += [
        f"Workgroup {escape(w['workgroup'])} could not be read ({escape(w['error'])}) and is "
        "not in this report."
        for w in report["skipped_workgroups"]
    ]
    unprocessed = "".join(f"<p class=note>{text}</p>" for text in caveats)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Athena query cost, {escape(report["week"])}</title><style>{STYLE}</style></head>
<body><h1>Athena query cost, week {escape(report["week"])}</h1>
<p class=sub>{escape(report["start"][:10])} to {escape(report["end"][:10])} (UTC), region
{escape(report["region"])}, compared with {escape(report["previous_week"])}.</p>
<div class=cards>{"".join(f"<div class=card>{k}<b>{v}</b></div>" for k, v in cards)}</div>
<p class=legend><span style="background:{COLORS[0]}"></span>this week
<span style="background:{COLORS[1]}"></span>last week</p>
{charts}
<h2>Workgroups</h2>{_workgroup_table(report)}
<h2>Most expensive queries</h2>{_query_table(report)}
<h2>How to spend less</h2><ul>{hints}</ul>
<h2>About these figures</h2>
<p class=note>On-demand cost: bytes scanned rounded up to the megabyte, 10 MB at least per query,
times the price per TB; DDL and failed queries are free, cancelled ones cost what they scanned.
Workgroups on a capacity reservation are billed per DPU-hour for the reservation, so their queries
carry no cost here. {escape(report["attribution"])}</p>{unprocessed}
<p class=note>Generated {escape(report["generated_at"])} by jupyter-remote-dev.</p>
</body></html>
"""


def _cell(value):
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a leading '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: _cell(value) for key, value in row.items()} for row in rows)
    return out.getvalue()


def render(report: dict, rows: list[dict]) -> dict[str, bytes]:
    """``{file name: content}`` of the three outputs."""
    return {
        "report.html": to_html(report).encode(),
        "report.json": json.dumps(report, indent=1, sort_keys=True).encode(),
        "queries.csv": to_csv(rows).encode(),
    }


def write(outputs: dict[str, bytes], folder: Path) -> list[Path]:
    """Write each output atomically (temp file, then rename) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in outputs.items():
        tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            with open(tmp, "xb") as handle:  # new file, mode from the umask as for any output
                handle.write(content)
            os.replace(tmp, folder / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(folder / name)
    return written

"""The newest weekly Athena report in a folder (written by ``jupyter remote-dev report athena``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AthenaReport:
    """A report's headline figures, and its HTML page if one was written beside it."""

    summary: dict
    html: Path | None


def latest_report(folder: str) -> AthenaReport | None:
    """The report with the latest ``week`` among ``folder``'s ``**/report.json``, or None."""
    if not folder or not Path(folder).is_dir():
        return None
    best: tuple[str, dict, Path] | None = None
    for path in Path(folder).glob("**/report.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        week = data.get("week") if isinstance(data, dict) else None
        if isinstance(week, str) and (best is None or week > best[0]):
            best = (week, data, path)
    if best is None:
        return None
    week, data, path = best
    html = path.with_name("report.html")
    return AthenaReport(headline(data), html if html.is_file() else None)


def headline(data: dict) -> dict:
    """What the spend view shows of a report: the week, its total and the costliest workgroups."""
    groups = [g for g in data.get("workgroups", []) if isinstance(g, dict)]
    groups.sort(key=lambda g: -float(g.get("cost_usd") or 0))
    return {
        "week": data.get("week"),
        "total_cost_usd": data.get("total_cost_usd"),
        "workgroups": [{"name": g.get("name"), "cost_usd": g.get("cost_usd")} for g in groups[:5]],
    }

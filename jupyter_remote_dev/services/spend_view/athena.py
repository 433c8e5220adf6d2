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
    """What the spend view shows of a report (schema ``jupyter-remote-dev/athena-report/v1``, see
    docs/athena-report.md): the week, the on-demand total and the costliest workgroups."""
    totals = data.get("totals") if isinstance(data.get("totals"), dict) else {}
    groups = [g for g in data.get("workgroups", []) if isinstance(g, dict)]
    groups.sort(key=lambda g: -_amount(g.get("cost")))
    return {
        "week": data.get("week"),
        "cost": totals.get("cost"),
        "cost_change": totals.get("cost_change"),
        "workgroups": [
            {"name": g.get("name"), "cost": g.get("cost"), "billing": g.get("billing")}
            for g in groups[:5]
        ],
    }


def _amount(value) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
